"""`analyze(paths)`: the multi-file report, map (per file, in parallel) then reduce (in capture order).

    files --expand--> map_file on each (engine: local pool | Dask)  --> Parquet per content hash
          --order by first timestamp, drop duplicates, number frames globally-->
          merged frame stream --> the single-process report pipeline --> report dict
          + capture.files / capture.warnings

The reduce feeds the very frames the single-process pipeline would see (same prefilter, same global
frame numbers, same order), so the JSON is the same byte for byte as for the concatenated capture,
apart from `capture.path` and the added `capture.files` / `capture.warnings`.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from mipsniff.capture.frame import Frame
from mipsniff.multi.engine import MapFn, run_map
from mipsniff.multi.files import FileStatus, FileSummary, FileWarning, expand_inputs, order_files
from mipsniff.multi.mapstep import map_file, read_frames

# The reduce: (ordered frame stream, capture header dict) -> report dict. Set by `report_fn`.
ReduceFn = Callable[[Iterator[Frame], dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiResult:
    files: tuple[FileSummary, ...]
    warnings: tuple[FileWarning, ...]
    report: dict[str, Any]


def _iso(ns: int | None) -> float | None:
    return None if ns is None else round(ns / 1e9, 6)


def merged_frames(files: Sequence[FileSummary]) -> Iterator[Frame]:
    """The kept frames of every file read, in capture order, with global frame numbers."""
    for s in files:
        if s.status is FileStatus.ok:
            for index, ts_ns, linktype, data in read_frames(s):
                yield Frame(index=index, ts_ns=ts_ns, linktype=linktype, data=data)


def capture_section(files: Sequence[FileSummary], warnings: Sequence[FileWarning]) -> dict[str, Any]:
    """`capture` keys for many files: totals as for the concatenation, plus `files` and `warnings`."""
    read = [s for s in files if s.status is FileStatus.ok]
    starts = [s.start_ns for s in read if s.start_ns is not None]
    ends = [s.end_ns for s in read if s.end_ns is not None]
    link_types: list[int] = []
    for s in read:
        link_types += [lt for lt in s.link_types if lt not in link_types]
    return {
        "path": read[0].path if len(read) == 1 else [s.path for s in read],
        "packets": sum(s.packets for s in read),
        "start": _iso(starts[0]) if starts else None,
        "end": _iso(ends[-1]) if ends else None,
        "link_types": link_types,
        "files": [
            {
                "path": s.path,
                "status": str(s.status),
                "packets": s.packets,
                "first_frame": s.first_frame or None,
                "start": _iso(s.start_ns),
                "end": _iso(s.end_ns),
                "sha256": s.sha256 or None,
                "bytes": s.size_bytes,
                "relevant": s.relevant,
                "reused": s.reused,
                **({"duplicate_of": s.duplicate_of} if s.duplicate_of else {}),
                **({"error": s.error} if s.error else {}),
            }
            for s in files
        ],
        "warnings": [{"kind": w.kind, "files": list(w.files), "detail": w.detail} for w in warnings]
        + [{"kind": "reader", "files": [s.path], "detail": d} for s in read for d in s.warnings],
    }


def _count_reduce(frames: Iterator[Frame], capture: dict[str, Any]) -> dict[str, Any]:
    """The trivial reduce: the capture section and the number of relevant frames."""
    return {"capture": capture, "relevant_frames": sum(1 for _ in frames)}


def analyze(
    inputs: Sequence[str],
    *,
    engine: str = "local",
    workers: int | None = None,
    client: Any = None,
    scheduler: str | None = None,
    workdir: str | None = None,
    retries: int = 2,
    map_fn: MapFn = map_file,
    reduce_fn: ReduceFn | None = None,
    progress_stream: IO[str] | None = sys.stderr,
) -> MultiResult:
    """Report on many capture files as one capture (see the module docstring)."""
    paths = [str(p) for p in expand_inputs(list(inputs))]
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="mipsniff-work-")
        workdir = tmp.name
    try:
        summaries = run_map(
            paths,
            workdir,
            engine=engine,
            workers=workers,
            client=client,
            scheduler=scheduler,
            retries=retries,
            map_fn=map_fn,
            progress_stream=progress_stream,
        )
        files, warnings = order_files(summaries)
        capture = capture_section(files, warnings)
        reduce = reduce_fn or _count_reduce
        report = reduce(merged_frames(files), capture)
        return MultiResult(files=tuple(files), warnings=tuple(warnings), report=report)
    finally:
        if tmp is not None:
            tmp.cleanup()
