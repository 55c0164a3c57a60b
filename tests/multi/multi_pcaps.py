"""A tiny classic-pcap writer and splitter for the multi-file tests (independent of the readers)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

FrameT = tuple[int, int, bytes]  # (ts_ns, linktype, data)


def write_pcap(
    path: Path, frames: Iterable[tuple[int, bytes]], linktype: int = 1, nanos: bool = False
) -> Path:
    """Write (ts_ns, data) records as a little-endian pcap (µs, or ns with the 0xa1b23c4d magic)."""
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 262144, linktype))
        for ts_ns, data in frames:
            sec, rem = divmod(ts_ns, 1_000_000_000)
            frac = rem if nanos else rem // 1000
            fh.write(struct.pack("<IIII", sec, frac, len(data), len(data)))
            fh.write(data)
    return path


def read_pcap(path: Path) -> tuple[int, bool, list[tuple[int, bytes]]]:
    """(linktype, nanos, [(ts_ns, data)]) of a little- or big-endian classic pcap."""
    raw = path.read_bytes()
    magic = raw[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nanos = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", raw[20:24])[0] & 0x0FFFFFFF
    out: list[tuple[int, bytes]] = []
    off = 24
    while off + 16 <= len(raw):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", raw[off : off + 16])
        off += 16
        out.append((sec * 1_000_000_000 + frac * (1 if nanos else 1000), raw[off : off + incl]))
        off += incl
    return linktype, nanos, out


def split_pcap(src: Path, cuts: Sequence[int], outdir: Path, prefix: str = "part") -> list[Path]:
    """Split a pcap before each 0-based frame position in `cuts`; returns the files in capture order.

    Files are named so that name order is NOT time order (reverse), to prove ordering by timestamp.
    """
    linktype, nanos, frames = read_pcap(src)
    bounds = [0, *sorted(cuts), len(frames)]
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    n = len(bounds) - 1
    for k in range(n):
        p = outdir / f"{prefix}{n - k:03d}.pcap"
        write_pcap(p, frames[bounds[k] : bounds[k + 1]], linktype=linktype, nanos=nanos)
        paths.append(p)
    return paths
