"""`analyze(paths)`: the multi-file report, map (per file, in parallel) then reduce (in capture order).

    files --expand--> map_file on each (engine: local pool | Dask)  --> Parquet per content hash
          --order by first timestamp, drop duplicates, number frames globally-->
          merged frame stream --> the single-process report pipeline --> report dict
          + capture.files / capture.warnings

The sequential reduce feeds the very frames the single-process pipeline (mipsniff.report.pipeline) would see — same
prefilter, same home addresses, same global frame numbers, same order — to the same
`analyze_frames`, so the JSON is the same byte for byte as for the concatenated capture, apart from
`capture.path` (the first file) and the added `capture.files` and file warnings. With several mobile
nodes the reduce is partitioned by home address (mipsniff.multi.reduce) and run on the same engine as the
map; its merged result is the same Correlation, so the JSON is too.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from ipaddress import IPv6Address
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

from mipsniff.capture.frame import Frame
from mipsniff.correlate import Vantage
from mipsniff.multi.engine import MapFn, run_map
from mipsniff.multi.files import FileStatus, FileSummary, FileWarning, expand_inputs, order_files
from mipsniff.multi.mapstep import map_file, read_frames
from mipsniff.report.pipeline import CaptureInfo, Report, analyze_frames, vantage_interface


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiResult:
    """The report over many files plus what became of each file."""

    files: tuple[FileSummary, ...]
    warnings: tuple[FileWarning, ...]
    report: Report
    map_s: float = 0.0  # wall time of the map step (both phases)
    reduce_s: float = 0.0  # wall time of the reduce (read Parquet, dissect, correlate)
    reduce_cpu_s: float = 0.0  # its CPU time: this process's plus the partitions' (wherever they ran)
    reduce_partitions: int = 1  # 1: the sequential reduce
    reduce_rounds: int = 1  # partitioned runs (more than 1 when MNs sharing a MAC were regrouped)
    reduce_dissected: int = 0  # partitioned: frames dissected, summed over the partitions (last round)
    reduce_partition_cpu_s: tuple[float, ...] = ()  # partitioned: each partition's CPU time

    @property
    def map_cpu_s(self) -> float:
        """CPU time of the map step summed over the files (whatever process ran them)."""
        return sum(f.cpu_s for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        """`mipsniff report --json` over many files: the single-file document, with `capture.files`
        (every input: path, status, packets, first global frame, start, end, sha256) and the file
        warnings (duplicate, overlap, unreadable) appended to `capture.warnings` as "kind: detail"."""
        doc = self.report.to_dict()
        cap = doc["capture"]
        cap["warnings"] = list(cap.get("warnings", [])) + [f"{w.kind}: {w.detail}" for w in self.warnings]
        cap["files"] = files_section(self.files)
        return doc

    def to_json(self, indent: int | None = 2) -> str:
        """The same text layout as `mipsniff.report.export.to_json`."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False) + "\n"


def _iso(ns: int | None) -> float | None:
    return None if ns is None else round(ns / 1e9, 6)


def merged_frames(files: Sequence[FileSummary], vantage: Vantage) -> Iterator[Frame]:
    """The kept frames of every file read, in capture order, with global frame numbers.

    A pcapng whose interfaces are named after vantage points is read at the requested one, exactly as
    the single-process report does (mipsniff.report.pipeline.vantage_interface)."""
    for s in files:
        if s.status is not FileStatus.ok:
            continue
        only = None
        if len(s.interface_names) > 1:
            ifaces = [SimpleNamespace(name=n) for n in s.interface_names]
            only = vantage_interface(ifaces, vantage)  # type: ignore[arg-type]
        for index, ts_ns, linktype, interface, data in read_frames(s):
            if only is None or interface == only:
                yield Frame(index=index, ts_ns=ts_ns, linktype=linktype, data=data, interface=interface)


def capture_info(files: Sequence[FileSummary]) -> CaptureInfo:
    """The capture summary of the concatenation of the files read, in capture order.

    `path` is the first file's (the whole list is in `capture.files`); `start`/`end` are the first
    file's first and the last file's last timestamp, as a reader of the concatenation would say."""
    read = [s for s in files if s.status is FileStatus.ok]
    starts = [s.start_ns for s in read if s.start_ns is not None]
    ends = [s.end_ns for s in read if s.end_ns is not None]
    link_types: list[int] = []
    formats: list[str] = []
    for s in read:
        link_types += [lt for lt in s.link_types if lt not in link_types]
        if s.format and s.format not in formats:
            formats.append(s.format)
    return CaptureInfo(
        path=read[0].path if read else "",
        packets=sum(s.packets for s in read),
        start_ns=starts[0] if starts else None,
        end_ns=ends[-1] if ends else None,
        link_types=tuple(link_types),
        format="+".join(formats),
        warnings=tuple(w for s in read for w in s.warnings),
    )


def files_section(files: Sequence[FileSummary]) -> list[dict[str, Any]]:
    return [
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
    ]


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
    vantage: Vantage | str = Vantage.AUTO,
    progress_stream: IO[str] | None = sys.stderr,
    reduce: str = "auto",
    partitions: int | None = None,
) -> MultiResult:
    """Report on many capture files as one capture (see the module docstring).

    `reduce`: "sequential" (one Correlator in this process), "partitioned" (mipsniff.multi.reduce: the
    MNs split by home address into `partitions` Correlators run on the engine), or "auto": partitioned
    when there are several home addresses and more than one partition. `partitions` defaults to the
    number of workers (local: `workers` or the cores; dask: the cluster's workers)."""
    if reduce not in ("auto", "sequential", "partitioned"):
        from mipsniff.errors import UserError

        raise UserError(f"unknown reduce {reduce!r}: use auto, sequential or partitioned")
    if (engine == "dask" or scheduler) and client is None:
        from mipsniff.multi.engine import dask_client

        with dask_client(scheduler, workers) as own:
            return analyze(
                inputs, engine="dask", workers=workers, client=own, workdir=workdir, retries=retries,
                map_fn=map_fn, vantage=vantage, progress_stream=progress_stream, reduce=reduce,
                partitions=partitions,
            )
    paths = [str(p) for p in expand_inputs(list(inputs))]
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="mipsniff-work-")
        workdir = tmp.name
    try:
        t0 = time.perf_counter()
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
        t1 = time.perf_counter()
        c1 = time.process_time()
        files, warnings = order_files(summaries)
        # The single-process report seeds its correlator with every home address of the capture
        # (its pass 1); the map step learned the same set, file by file.
        hoas = sorted({a for s in files if s.status is FileStatus.ok for a in s.home_addresses})
        v = Vantage(vantage) if not isinstance(vantage, Vantage) else vantage
        homes = [IPv6Address(a) for a in hoas]
        info = capture_info(files)
        if partitions is None:
            if client is not None:
                from mipsniff.multi.engine import cluster_workers

                partitions = cluster_workers(client)
            else:
                partitions = workers or os.cpu_count() or 1
        # auto: no more partitions than home addresses; asked for, as many as asked (tests).
        n = max(1, partitions if reduce == "partitioned" else min(partitions, len(homes)))
        stats = None
        if reduce == "partitioned" or reduce == "auto" and n > 1:
            from mipsniff.multi.reduce import partitioned_correlation

            try:
                corr, stats = partitioned_correlation(
                    files, vantage=v, home_addresses=homes, end_ns=info.end_ns, partitions=n,
                    workers=workers, client=client, retries=retries,
                )
                report = Report(capture=info, correlation=corr, vantage=v)
            except Exception as exc:  # noqa: BLE001 - a partition kept failing: one process still reports
                if progress_stream is not None:
                    print(f"mipsniff: partitioned reduce failed ({type(exc).__name__}: {exc}); "
                          "reducing in one process", file=progress_stream)
                stats = None
        if stats is None:
            report = analyze_frames(merged_frames(files, v), info, vantage=v, home_addresses=homes)
        return MultiResult(
            files=tuple(files),
            warnings=tuple(warnings),
            report=report,
            map_s=t1 - t0,
            reduce_s=time.perf_counter() - t1,
            reduce_cpu_s=time.process_time() - c1 + (stats.cpu_elsewhere_s if stats is not None else 0.0),
            reduce_partitions=stats.partitions if stats is not None else 1,
            reduce_rounds=stats.rounds if stats is not None else 1,
            reduce_dissected=stats.dissected if stats is not None else 0,
            reduce_partition_cpu_s=stats.partition_cpu_s if stats is not None else (),
        )
    finally:
        if tmp is not None:
            tmp.cleanup()


def report_document(
    inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    client: Any = None,
    engine: str = "local",
    workdir: str | None = None,
    vantage: Vantage | str = Vantage.AUTO,
) -> tuple[dict[str, Any], list[Path]]:
    """For `mipsniff.load(paths, client=...)`: the report dict over the files as one capture, and the
    files read, in capture order. No progress output (a notebook)."""
    items = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    result = analyze(
        [os.fspath(p) for p in items],
        engine="dask" if client is not None else engine,
        client=client,
        workdir=workdir,
        vantage=vantage,
        progress_stream=None,
    )
    return result.to_dict(), [Path(f.path) for f in result.files if f.status is FileStatus.ok]
