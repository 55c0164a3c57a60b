"""Which frames the map step keeps, and where it reads them from.

The reduce step must give the same report as one process reading everything, so the map step keeps
every frame the single-process pipeline could act on.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

FrameTuple = tuple[int, int, int, bytes]


def iter_frames(path: str) -> Iterator[FrameTuple]:
    """Every frame of a capture file as (1-based index, ts_ns, linktype, data)."""
    try:
        from mipsniff.capture import open_capture  # type: ignore[attr-defined]
    except ImportError:
        yield from _classic_pcap(path)
        return
    for fr in open_capture(path):
        yield fr.index, fr.ts_ns, fr.linktype, fr.data


def _classic_pcap(path: str) -> Iterator[FrameTuple]:
    from mipsniff.errors import UserError

    with open(path, "rb") as fh:
        head = fh.read(24)
        if len(head) < 24:
            raise UserError(f"{path}: not a capture file (too short)")
        magic = head[:4]
        table = {
            b"\xd4\xc3\xb2\xa1": ("<", 1000),
            b"\xa1\xb2\xc3\xd4": (">", 1000),
            b"\x4d\x3c\xb2\xa1": ("<", 1),
            b"\xa1\xb2\x3c\x4d": (">", 1),
        }
        if magic not in table:
            raise UserError(f"{path}: not a pcap file")
        endian, mult = table[magic]
        linktype = struct.unpack(endian + "I", head[20:24])[0] & 0x0FFFFFFF
        rec = struct.Struct(endian + "IIII")
        index = 0
        while hdr := fh.read(16):
            if len(hdr) < 16:
                break
            sec, frac, incl, _orig = rec.unpack(hdr)
            data = fh.read(incl)
            index += 1
            yield index, sec * 1_000_000_000 + frac * mult, linktype, data


def keep_frame(linktype: int, data: bytes) -> bool:
    """Keep every frame (trivially exact)."""
    return True
