"""The map step: one capture file -> the small stream of frames the correlator needs, as Parquet.

Runs in a worker process (local pool or Dask worker), so it takes and returns only plain picklable
values. Intermediate files are keyed by the capture's SHA-256 and by `MAP_VERSION`: the same content
is never read twice (a growing ring buffer only costs its new files), and a change to what the map step
keeps invalidates every old intermediate file. Two phases (see relevance.py for why):

- phase 1, `<sha>.<version>.parquet` (+ `.addrs`, the dropped frames' addresses): frames the
  prefilter keeps without addresses, and the home addresses the file's own BUs/BAs name;
- phase 2, `<sha>.<version>.<hash of the addresses>.parquet`: only for a file whose dropped frames
  involve a home address of the whole capture, read again with those addresses.

A stat index (`WORKDIR/stat/`, keyed by path, inode, size and mtime) remembers each file's hash, so a
re-run does not even read unchanged files to hash them.

Parquet columns: `frame` (1-based number inside its file), `ts_ns`, `linktype`, `data` (the frame's
bytes as captured). Keeping the raw bytes, not a derived summary, is what makes the reduce exact: it
feeds the very packets the single-process path would, through the same dissector and correlator.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from mipsniff.multi.files import FileStatus, FileSummary, sha256_file
from mipsniff.multi.relevance import (
    RELEVANCE_VERSION,
    ScanStats,
    pack_addresses,
    scan,
    unpack_addresses,
)

# Bump when the columns or the metadata change: old intermediate files are then ignored.
MAP_VERSION = f"m2-{RELEVANCE_VERSION}"

SCHEMA = pa.schema(
    [
        ("frame", pa.int64()),
        ("ts_ns", pa.int64()),
        ("linktype", pa.int32()),
        ("interface", pa.int32()),
        ("data", pa.binary()),
    ]
)

_BATCH = 16384

FrameTuple = tuple[int, int, int, int, bytes]  # (global frame number, ts_ns, linktype, interface, data)


@dataclass(frozen=True, slots=True, kw_only=True)
class MapTask:
    """One unit of map work, picklable for any engine. Phase 2 when `home_addresses` is set: then
    `phase1` is the file's phase-1 summary."""

    path: str
    workdir: str
    home_addresses: frozenset[bytes] | None = None
    phase1: FileSummary | None = None


class FileChanged(Exception):
    """The capture's size changed between hashing and reading it (a file still being written)."""


def parquet_path(workdir: str, sha256: str, addresses: Iterable[bytes] | None = None) -> Path:
    if addresses is None:
        return Path(workdir) / f"{sha256}.{MAP_VERSION}.parquet"
    tag = hashlib.sha256(pack_addresses(addresses)).hexdigest()[:16]
    return Path(workdir) / f"{sha256}.{MAP_VERSION}.{tag}.parquet"


def read_summary(pq_path: Path, path: str, sha: str, size: int) -> FileSummary | None:
    """The summary stored with an intermediate file, or None if it is missing or not ours."""
    try:
        meta = pq.read_metadata(pq_path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return None
    if meta.get(b"mipsniff.map_version") != MAP_VERSION.encode():
        return None

    def opt(key: bytes) -> int | None:
        raw = meta.get(key, b"")
        return int(raw) if raw else None

    lt = meta.get(b"mipsniff.link_types", b"")
    hoas = bytes.fromhex(meta.get(b"mipsniff.home_addresses", b"").decode())
    return FileSummary(
        path=path,
        sha256=sha,
        size_bytes=size,
        packets=int(meta[b"mipsniff.packets"]),
        start_ns=opt(b"mipsniff.start_ns"),
        end_ns=opt(b"mipsniff.end_ns"),
        link_types=tuple(int(x) for x in lt.split(b",") if x),
        format=meta.get(b"mipsniff.format", b"").decode(),
        interface_names=tuple(json.loads(meta.get(b"mipsniff.interface_names", b"[]"))),
        relevant=int(meta[b"mipsniff.relevant"]),
        parquet=str(pq_path),
        warnings=tuple(json.loads(meta.get(b"mipsniff.warnings", b"[]"))),
        home_addresses=tuple(sorted(unpack_addresses(hoas))),
    )


def _write(path: str, sha: str, size: int, out: Path, addresses: frozenset[bytes] | None) -> FileSummary:
    Path(out.parent).mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    stats = ScanStats()
    relevant = 0
    cols: tuple[list[int], list[int], list[int], list[int], list[bytes]] = ([], [], [], [], [])
    try:
        with pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
            for index, ts_ns, linktype, interface, data in scan(path, stats, addresses):
                relevant += 1
                cols[0].append(index)
                cols[1].append(ts_ns)
                cols[2].append(linktype)
                cols[3].append(interface)
                cols[4].append(data)
                if len(cols[0]) >= _BATCH:
                    writer.write_batch(pa.record_batch(list(cols), schema=SCHEMA))
                    for c in cols:
                        c.clear()
            if cols[0]:
                writer.write_batch(pa.record_batch(list(cols), schema=SCHEMA))
            writer.add_key_value_metadata(
                {
                    "mipsniff.map_version": MAP_VERSION,
                    "mipsniff.sha256": sha,
                    "mipsniff.packets": str(stats.packets),
                    "mipsniff.relevant": str(relevant),
                    "mipsniff.start_ns": "" if stats.first_ts_ns is None else str(stats.first_ts_ns),
                    "mipsniff.end_ns": "" if stats.last_ts_ns is None else str(stats.last_ts_ns),
                    "mipsniff.link_types": ",".join(str(x) for x in stats.link_types),
                    "mipsniff.format": stats.format,
                    "mipsniff.warnings": json.dumps(stats.warnings),
                    "mipsniff.home_addresses": pack_addresses(stats.home_addresses).hex(),
                    "mipsniff.interface_names": json.dumps(stats.interface_names),
                }
            )
        if addresses is None:
            addrs_tmp = tmp.with_suffix(".addrs.tmp")
            addrs_tmp.write_bytes(pack_addresses(stats.dropped_addresses))
            os.replace(addrs_tmp, out.with_suffix(".addrs"))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if os.path.getsize(path) != size:
        # The newest file of a live ring buffer: what was hashed is not what was read.
        tmp.unlink(missing_ok=True)
        tmp.with_suffix(".addrs.tmp").unlink(missing_ok=True)
        raise FileChanged(f"{path} changed while it was read (still being written?)")
    # Atomic publish: a worker killed mid-write leaves only a .tmp, never a truncated cache entry.
    os.replace(tmp, out)
    summary = read_summary(out, path, sha, size)
    assert summary is not None
    return summary


def map_file(task: MapTask) -> FileSummary:
    """Phase 1 or 2 of the map step for one file (see the module docstring).

    Whatever the workdir already holds for this content is reused (`reused=True`): phase 1 then reads
    only the file's bytes for the hash, phase 2 nothing. A file that is not a capture comes back
    `unreadable` (not worth a retry); any other exception propagates so that the engine retries.
    """
    cpu0 = time.process_time()
    s = _map_file(task)
    return replace(s, cpu_s=s.cpu_s + time.process_time() - cpu0)


def _map_file(task: MapTask) -> FileSummary:
    from mipsniff.errors import UserError

    if task.home_addresses is not None:
        return _phase2(task)
    path = task.path
    st = os.stat(path)
    size = st.st_size
    sha = _known_hash(task.workdir, path, st) or _hash_and_remember(task.workdir, path, st)
    out = parquet_path(task.workdir, sha)
    cached = read_summary(out, path, sha, size)
    if cached is not None and out.with_suffix(".addrs").exists():
        return replace(cached, reused=True)
    try:
        return _write(path, sha, size, out, None)
    except (UserError, FileChanged) as exc:
        return FileSummary(
            path=path, sha256=sha, size_bytes=size, status=FileStatus.unreadable, error=str(exc)
        )


def _stat_key(path: str, st: os.stat_result) -> Path:
    ident = f"{os.path.realpath(path)}\0{st.st_dev}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}"
    return Path("stat") / hashlib.sha256(ident.encode()).hexdigest()


def _known_hash(workdir: str, path: str, st: os.stat_result) -> str | None:
    """The content hash remembered for this exact file (path, inode, size, mtime): a file rewritten in
    place gets a new mtime, so a ring buffer's unchanged files are not even re-read to be hashed."""
    try:
        sha = (Path(workdir) / _stat_key(path, st)).read_text().strip()
    except OSError:
        return None
    return sha if len(sha) == 64 else None


def _hash_and_remember(workdir: str, path: str, st: os.stat_result) -> str:
    sha = sha256_file(path)
    key = Path(workdir) / _stat_key(path, st)
    key.parent.mkdir(parents=True, exist_ok=True)
    tmp = key.with_name(f"{key.name}.{os.getpid()}.tmp")
    tmp.write_text(sha + "\n")
    os.replace(tmp, key)
    return sha


def _phase2(task: MapTask) -> FileSummary:
    p1 = task.phase1
    assert p1 is not None and p1.parquet is not None and task.home_addresses is not None
    dropped = unpack_addresses(Path(p1.parquet).with_suffix(".addrs").read_bytes())
    wanted = frozenset(dropped & task.home_addresses)
    if not wanted:
        return replace(p1, cpu_s=0.0)
    out = parquet_path(task.workdir, p1.sha256, wanted)
    cached = read_summary(out, p1.path, p1.sha256, p1.size_bytes)
    if cached is None and os.path.getsize(p1.path) != p1.size_bytes:
        return replace(
            p1,
            status=FileStatus.unreadable,
            error=f"{p1.path} changed between the two passes (still being written?)",
            cpu_s=0.0,
        )
    if cached is not None:
        return replace(cached, reused=True, home_addresses=p1.home_addresses, phase=2, cpu_s=0.0)
    try:
        s2 = _write(p1.path, p1.sha256, p1.size_bytes, out, wanted)
    except FileChanged as exc:
        return replace(p1, status=FileStatus.unreadable, error=str(exc), cpu_s=0.0)
    return replace(s2, home_addresses=p1.home_addresses, phase=2)


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
        ifs = batch.column(3).to_pylist()
        datas = batch.column(4).to_pylist()
        for i in range(len(frames)):
            yield frames[i] + offset, ts[i], lts[i], ifs[i], datas[i]
