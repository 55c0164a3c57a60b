"""The map step: one capture file -> the small stream of frames the correlator needs, as Parquet.

Runs in a worker process (local pool or Dask worker), so it takes and returns only plain picklable
values. The intermediate file is keyed by the capture's SHA-256 and by `MAP_VERSION`: the same content
is never read twice (a growing ring buffer only costs its new files), and a change to what the map step
keeps invalidates every old intermediate file.

Parquet columns: `frame` (the frame's 1-based number inside its file), `ts_ns`, `linktype`, `data` (the
frame's bytes as captured). Keeping the raw bytes, not a derived summary, is what makes the reduce step
exact: it feeds the very packets the single-process path would, through the same dissector.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from mipsniff.multi.files import FileStatus, FileSummary, sha256_file
from mipsniff.multi.relevance import PREFILTER_VERSION, ScanStats, scan

# Bump when the set of frames kept or the columns change: old intermediate files are then ignored.
MAP_VERSION = "1"

SCHEMA = pa.schema(
    [
        ("frame", pa.int64()),
        ("ts_ns", pa.int64()),
        ("linktype", pa.int32()),
        ("data", pa.binary()),
    ]
)

_BATCH = 16384

FrameTuple = tuple[int, int, int, bytes]  # (index, ts_ns, linktype, data)


@dataclass(frozen=True, slots=True, kw_only=True)
class MapTask:
    """One unit of map work, picklable for any engine."""

    path: str
    workdir: str


def _version() -> str:
    return f"{MAP_VERSION}-{PREFILTER_VERSION}"


def parquet_path(workdir: str, sha256: str) -> Path:
    return Path(workdir) / f"{sha256}.v{_version()}.parquet"


def _meta_to_summary(path: str, sha: str, size: int, pq_path: Path, meta: dict[bytes, bytes]) -> FileSummary:
    def opt(key: bytes) -> int | None:
        raw = meta.get(key, b"")
        return int(raw) if raw else None

    lt = meta.get(b"mipsniff.link_types", b"")
    return FileSummary(
        path=path,
        sha256=sha,
        size_bytes=size,
        packets=int(meta[b"mipsniff.packets"]),
        start_ns=opt(b"mipsniff.start_ns"),
        end_ns=opt(b"mipsniff.end_ns"),
        warnings=tuple(json.loads(meta.get(b"mipsniff.warnings", b"[]"))),
        link_types=tuple(int(x) for x in lt.split(b",") if x),
        relevant=int(meta[b"mipsniff.relevant"]),
        parquet=str(pq_path),
    )


def read_summary(pq_path: Path, path: str, sha: str, size: int) -> FileSummary | None:
    """The summary stored with an intermediate file, or None if it is missing or not ours."""
    try:
        meta = pq.read_metadata(pq_path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return None
    if meta.get(b"mipsniff.map_version") != _version().encode():
        return None
    return _meta_to_summary(path, sha, size, pq_path, meta)


def map_file(task: MapTask) -> FileSummary:
    """Read one capture, keep the relevant frames, write them to the workdir; return the summary.

    If the workdir already holds this content's intermediate file, nothing but the hash is read and the
    summary comes back with `reused=True`. A file that is not a capture comes back `unreadable` (that is
    not worth a retry); any other exception propagates so that the engine retries the task.
    """
    from mipsniff.errors import UserError

    path = task.path
    size = os.path.getsize(path)
    sha = sha256_file(path)
    out = parquet_path(task.workdir, sha)
    cached = read_summary(out, path, sha, size)
    if cached is not None:
        return replace(cached, reused=True)
    Path(task.workdir).mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    stats = ScanStats()
    relevant = 0
    cols: tuple[list[int], list[int], list[int], list[bytes]] = ([], [], [], [])
    try:
        with pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
            for index, ts_ns, linktype, data in scan(path, stats):
                relevant += 1
                cols[0].append(index)
                cols[1].append(ts_ns)
                cols[2].append(linktype)
                cols[3].append(data)
                if len(cols[0]) >= _BATCH:
                    writer.write_batch(pa.record_batch(list(cols), schema=SCHEMA))
                    for c in cols:
                        c.clear()
            if cols[0]:
                writer.write_batch(pa.record_batch(list(cols), schema=SCHEMA))
            meta = {
                "mipsniff.map_version": _version(),
                "mipsniff.sha256": sha,
                "mipsniff.packets": str(stats.packets),
                "mipsniff.relevant": str(relevant),
                "mipsniff.start_ns": "" if stats.first_ts_ns is None else str(stats.first_ts_ns),
                "mipsniff.end_ns": "" if stats.last_ts_ns is None else str(stats.last_ts_ns),
                "mipsniff.link_types": ",".join(str(x) for x in stats.link_types),
                "mipsniff.warnings": json.dumps(stats.warnings),
            }
            writer.add_key_value_metadata(meta)
    except UserError as exc:
        tmp.unlink(missing_ok=True)
        return FileSummary(
            path=path, sha256=sha, size_bytes=size, status=FileStatus.unreadable, error=str(exc)
        )
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # Atomic publish: a worker killed mid-write leaves only a .tmp, never a truncated cache entry.
    os.replace(tmp, out)
    summary = read_summary(out, path, sha, size)
    assert summary is not None
    return summary


def read_frames(summary: FileSummary) -> Iterator[FrameTuple]:
    """The kept frames of one file, in file order, renumbered globally from `summary.first_frame`."""
    if summary.parquet is None or summary.relevant == 0:
        return
    offset = summary.first_frame - 1
    pf = pq.ParquetFile(summary.parquet)
    for batch in pf.iter_batches(batch_size=_BATCH):
        frames = batch.column(0).to_pylist()
        ts = batch.column(1).to_pylist()
        lts = batch.column(2).to_pylist()
        datas = batch.column(3).to_pylist()
        for i in range(len(frames)):
            yield frames[i] + offset, ts[i], lts[i], datas[i]
