"""Which frames the map step keeps, and the reader it uses.

The reduce step must give the same report as one process reading everything, so the map step keeps
exactly the frames the single-process pipeline hands to the dissector and correlator: it uses the same
byte-level prefilter (`PREFILTER`), so both paths see the same frames by construction.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mipsniff.errors import UserError

FrameTuple = tuple[int, int, int, bytes]  # (1-based index in its file, ts_ns, linktype, data)

# The byte-level prefilter shared with the single-process report (None keeps every frame).
PREFILTER: Any = None
# Part of the intermediate files' cache key: change it with PREFILTER.
PREFILTER_VERSION = "all"


@dataclass(slots=True)
class ScanStats:
    """What a pass over one file learned besides the kept frames."""

    packets: int = 0
    first_ts_ns: int | None = None
    last_ts_ns: int | None = None
    link_types: tuple[int, ...] = ()
    warnings: list[str] = field(default_factory=list)


def scan(path: str, stats: ScanStats) -> Iterator[FrameTuple]:
    """The kept frames of one capture; `stats` is filled in when the iterator is exhausted."""
    try:
        from mipsniff.capture.reader import open_capture
    except ImportError:  # the readers are not there yet: plain pcap only
        yield from _classic_pcap(path, stats)
        return
    with open_capture(path) as rd:
        for fr in rd.iter_relevant(PREFILTER):
            yield fr.index, fr.ts_ns, fr.linktype, bytes(fr.data)
        stats.packets = rd.packets
        stats.first_ts_ns = rd.first_ts_ns
        stats.last_ts_ns = rd.last_ts_ns
        stats.link_types = tuple(rd.link_types)
        stats.warnings = [str(w) for w in rd.warnings]


def _classic_pcap(path: str, stats: ScanStats) -> Iterator[FrameTuple]:
    with open(path, "rb") as fh:
        head = fh.read(24)
        table = {
            b"\xd4\xc3\xb2\xa1": ("<", 1000),
            b"\xa1\xb2\xc3\xd4": (">", 1000),
            b"\x4d\x3c\xb2\xa1": ("<", 1),
            b"\xa1\xb2\x3c\x4d": (">", 1),
        }
        if len(head) < 24 or head[:4] not in table:
            raise UserError(f"{path} is not a pcap capture")
        endian, mult = table[head[:4]]
        linktype = struct.unpack(endian + "I", head[20:24])[0] & 0xFFFF
        rec = struct.Struct(endian + "IIII")
        index = 0
        while len(hdr := fh.read(16)) == 16:
            sec, frac, incl, _orig = rec.unpack(hdr)
            data = fh.read(incl)
            index += 1
            ts = sec * 1_000_000_000 + frac * mult
            if stats.first_ts_ns is None:
                stats.first_ts_ns = ts
            stats.last_ts_ns = ts
            yield index, ts, linktype, data
        stats.packets = index
        stats.link_types = (linktype,)
