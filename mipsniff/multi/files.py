"""Many capture files as one capture: expanding the inputs, ordering by first timestamp, and finding
duplicated or overlapping files.

Ring buffers (`tcpdump -C/-G`, `dumpcap -b`) split one continuous capture into files whose names do not
always sort in time order (`-C` numbering wraps, `-G` strftime names vary by locale), so files are
ordered by the timestamp of their first frame. Frame numbers are global: the first frame of the second
file is numbered one past the last frame of the first, exactly as if the files had been concatenated
(`mergecap -a` in that order), so a frame number in the report is a frame number in the concatenation.

A duplicate is a file whose content (SHA-256) equals an earlier one: it is read once and named in the
warnings. An overlap is two files whose [start, end] time ranges intersect: both are read (in order of
first timestamp) and a warning names them, since a handover seen twice or out of order would be wrong.
"""

from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from mipsniff.errors import UserError

# Capture file suffixes picked up when a directory is given (pcap, pcapng, their gzip forms and the
# numbered ring-buffer names tcpdump -C writes: "trace.pcap1", "trace.pcap2", ...).
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".dmp", ".gz")

_HASH_CHUNK = 1 << 20


class FileStatus(StrEnum):
    """What became of one input file."""

    ok = "ok"
    duplicate = "duplicate"  # same SHA-256 as an earlier file: not read again
    unreadable = "unreadable"  # the map step kept failing (or the file is not a capture)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileSummary:
    """One input file as the map step saw it. Times are integer ns (STYLE §3)."""

    path: str
    sha256: str
    size_bytes: int
    packets: int = 0
    start_ns: int | None = None  # first frame's timestamp
    end_ns: int | None = None  # last frame's timestamp
    link_types: tuple[int, ...] = ()
    format: str = ""  # pcap | pcapng
    interface_names: tuple[str | None, ...] = ()  # pcapng interface names (IDB if_name), in order
    relevant: int = 0  # frames kept for the reduce step
    parquet: str | None = None  # the intermediate file in the workdir
    status: FileStatus = FileStatus.ok
    error: str | None = None
    duplicate_of: str | None = None
    first_frame: int = 0  # global number of this file's first frame (1-based; 0 = no frames)
    reused: bool = False  # True when the workdir already held this content's Parquet
    warnings: tuple[str, ...] = ()  # the reader's warnings (truncated last record, ...)
    home_addresses: tuple[bytes, ...] = ()  # learned from this file's BUs/BAs (16-byte keys)
    phase: int = 1  # 2 when the file was read again for data of home addresses (relevance.py)
    cpu_s: float = 0.0  # CPU time the map step spent on this file in this run (both phases)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileWarning:
    """A problem with the set of files, reported under `capture.warnings`."""

    kind: str  # "duplicate" | "overlap" | "unreadable"
    files: tuple[str, ...]
    detail: str


def _is_capture_name(name: str) -> bool:
    low = name.lower()
    if low.endswith(CAPTURE_SUFFIXES):
        return True
    # tcpdump -C -w trace.pcap writes trace.pcap, trace.pcap1, trace.pcap2, ...
    stem, _, digits = low.rpartition(".pcap")
    return bool(stem) and digits.isdigit()


def expand_inputs(args: list[str] | tuple[str, ...]) -> list[Path]:
    """Turn command-line arguments (files, directories, glob patterns) into a list of files.

    A directory contributes its capture files (not recursively); a pattern with `*?[` is globbed (`**`
    recursive). The same file named twice is kept once. A name matching nothing is a user error.
    """
    out: list[Path] = []
    seen: set[str] = set()
    for arg in args:
        if any(ch in arg for ch in "*?["):
            matches = sorted(glob.glob(arg, recursive=True))
            files = [Path(m) for m in matches if os.path.isfile(m)]
            if not files:
                raise UserError(f"no capture file matches {arg!r}")
        elif os.path.isdir(arg):
            files = sorted(p for p in Path(arg).iterdir() if p.is_file() and _is_capture_name(p.name))
            if not files:
                raise UserError(f"directory {arg!r} holds no capture files (*.pcap, *.pcapng, *.gz)")
        elif os.path.isfile(arg):
            files = [Path(arg)]
        else:
            raise UserError(f"no such capture file: {arg!r}")
        for f in files:
            key = os.path.realpath(f)
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The content hash that keys the workdir cache."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _order_key(s: FileSummary) -> tuple[int, int, int, str]:
    # Files with no frames (or unreadable) sort last. Equal first timestamps (a ring buffer cut between
    # two frames of the same microsecond): the file that also ends first comes first; then by path,
    # so the order is reproducible.
    if s.start_ns is None:
        return (1, 0, 0, s.path)
    return (0, s.start_ns, s.end_ns if s.end_ns is not None else s.start_ns, s.path)


def order_files(summaries: list[FileSummary]) -> tuple[list[FileSummary], list[FileWarning]]:
    """Order files by first timestamp, mark duplicates, number frames globally, find overlaps.

    Returns every file (duplicates and unreadable ones too, with their status) in capture order, with
    `first_frame` set for the files that are read, and the warnings.
    """
    warnings: list[FileWarning] = []
    ordered = sorted(summaries, key=_order_key)
    first_by_hash: dict[str, str] = {}
    out: list[FileSummary] = []
    next_frame = 1
    for s in ordered:
        if s.status is FileStatus.unreadable:
            warnings.append(FileWarning(kind="unreadable", files=(s.path,), detail=s.error or "unreadable"))
            out.append(s)
            continue
        if s.sha256 in first_by_hash:
            orig = first_by_hash[s.sha256]
            warnings.append(
                FileWarning(
                    kind="duplicate",
                    files=(orig, s.path),
                    detail=f"{s.path} has the same content (sha256 {s.sha256[:12]}...) as {orig}; read once",
                )
            )
            out.append(replace(s, status=FileStatus.duplicate, duplicate_of=orig, first_frame=0))
            continue
        first_by_hash[s.sha256] = s.path
        out.append(replace(s, first_frame=next_frame if s.packets else 0))
        next_frame += s.packets
    # Ranges are [first, last] frame timestamps: ring-buffer files are written in time order.
    read = [s for s in out if s.status is FileStatus.ok and s.start_ns is not None]
    for i, a in enumerate(read):
        for b in read[i + 1 :]:
            assert a.start_ns is not None and a.end_ns is not None
            assert b.start_ns is not None and b.end_ns is not None
            if b.start_ns < a.end_ns and a.start_ns < b.end_ns:
                warnings.append(
                    FileWarning(
                        kind="overlap",
                        files=(a.path, b.path),
                        detail=f"time ranges overlap by {(min(a.end_ns, b.end_ns) - b.start_ns) / 1e9:.6f} s; "
                        "frames are taken file after file, so times in the merged stream go backwards",
                    )
                )
    return out, warnings
