"""Many files: a ring buffer of 20 pcap files (5,000,000 packets by default) reported with
`--engine local` on 1 and 2 processes and on a Dask LocalCluster with 1 and 2 workers.

The ring buffer is helper B's mixed capture (benchmarks/gen_mixed.py: ~3% mobility-relevant frames)
cut into consecutive files, as `tcpdump -C` would write it. Every run starts from an empty workdir
(a cold map step); one more run re-reports with the warm workdir (content hash unchanged: no file read
again). Figures go to stdout as a table and to benchmarks/data/multi_bench.json.

    python benchmarks/multi_bench.py [--packets 5000000] [--files 20] [--skip-dask]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
DATA = HERE / "data"


def make_ring(packets: int, files: int, outdir: Path, seed: int = 7) -> list[Path]:
    """Generate one capture with gen_mixed and cut it into `files` consecutive pcap files."""
    from gen_mixed import generate

    outdir.mkdir(parents=True, exist_ok=True)
    stamp = outdir / f".done-{packets}-{files}-{seed}"
    names = [outdir / f"ring.pcap{k}" if k else outdir / "ring.pcap" for k in range(files)]
    if stamp.exists() and all(p.exists() for p in names):
        return names
    whole = outdir / "whole.pcap"
    generate(whole, packets, seed)
    per = -(-packets // files)
    raw = whole.read_bytes()
    head, off, rec = raw[:24], 24, struct.Struct("<IIII")
    for name in names:
        start = off
        for _ in range(per):
            if off >= len(raw):
                break
            off += 16 + rec.unpack_from(raw, off)[2]
        name.write_bytes(head + raw[start:off])
    stamp.touch()
    return names


def timed_run(paths: list[Path], workdir: Path, **kw: object) -> tuple[float, object]:
    from mipsniff.multi.pipeline import analyze

    t0 = time.perf_counter()
    result = analyze([str(p) for p in paths], workdir=str(workdir), progress_stream=None, **kw)  # type: ignore[arg-type]
    return time.perf_counter() - t0, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=5_000_000)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args(argv)

    ring_dir = DATA / f"ring-{args.packets}"
    t0 = time.perf_counter()
    paths = make_ring(args.packets, args.files, ring_dir)
    gen_s = time.perf_counter() - t0
    total_bytes = sum(p.stat().st_size for p in paths)
    print(
        f"ring buffer: {len(paths)} files, {args.packets:,} packets, {total_bytes / 1e6:.0f} MB "
        f"({gen_s:.1f} s to make or find)",
        flush=True,
    )
    work = DATA / "multi-work"
    rows: list[dict[str, object]] = []
    reports = []

    def run(label: str, **kw: object) -> None:
        shutil.rmtree(work, ignore_errors=True)
        secs, res = timed_run(paths, work, **kw)
        reports.append(res.to_dict())  # type: ignore[attr-defined]
        row = {
            "run": label,
            "seconds": round(secs, 2),
            "packets_per_s": round(args.packets / secs),
            "map_s": round(res.map_s, 2),  # type: ignore[attr-defined]
            "reduce_s": round(res.reduce_s, 2),  # type: ignore[attr-defined]
            "map_cpu_s": round(res.map_cpu_s, 2),  # type: ignore[attr-defined]
            "reduce_cpu_s": round(res.reduce_cpu_s, 2),  # type: ignore[attr-defined]
            "relevant_frames": sum(f.relevant for f in res.files),  # type: ignore[attr-defined]
        }
        rows.append(row)
        print(
            f"{label:<34} {secs:8.2f} s  {args.packets / secs:>10,.0f} packets/s  (map {res.map_s:.1f} s wall,"  # type: ignore[attr-defined]
            f" {res.map_cpu_s:.1f} s CPU over all files; reduce {res.reduce_s:.1f} s wall, {res.reduce_cpu_s:.1f} s CPU)",  # type: ignore[attr-defined]
            flush=True,
        )

    # the baseline: the single-process report on the same packets as one file
    from mipsniff.report.pipeline import analyze as analyze_single

    t1, c1 = time.perf_counter(), time.process_time()
    single = analyze_single(ring_dir / "whole.pcap").to_dict()
    base, base_cpu = time.perf_counter() - t1, time.process_time() - c1
    rows.append(
        {
            "run": "single process, one file",
            "seconds": round(base, 2),
            "packets_per_s": round(args.packets / base),
            "cpu_s": round(base_cpu, 2),
        }
    )
    print(
        f"{'single process, one file':<34} {base:8.2f} s  {args.packets / base:>10,.0f} packets/s"
        f"  ({base_cpu:.1f} s CPU)",
        flush=True,
    )
    run("local, 1 process", engine="local", workers=1)
    run("local, 2 processes", engine="local", workers=2)
    # warm workdir: every file's content hash is already there
    t1 = time.perf_counter()
    from mipsniff.multi.pipeline import analyze

    analyze([str(p) for p in paths], workdir=str(work), workers=2, progress_stream=None)
    warm = time.perf_counter() - t1
    rows.append({"run": "local, 2 processes, warm workdir", "seconds": round(warm, 2)})
    print(f"{'local, 2 processes, warm workdir':<34} {warm:8.2f} s", flush=True)
    if not args.skip_dask:
        from distributed import Client, LocalCluster

        for n in (1, 2):
            with LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cl:
                with Client(cl) as client:
                    run(f"dask LocalCluster, {n} worker(s)", client=client)

    def norm(doc: dict[str, object]) -> str:
        doc = json.loads(json.dumps(doc))
        doc["capture"]["path"] = "X"  # type: ignore[index]
        doc["capture"].pop("files", None)  # type: ignore[attr-defined]
        return json.dumps(doc, sort_keys=True)

    same = all(norm(r) == norm(single) for r in reports)
    print(f"all reports identical to the single-process one: {same}", flush=True)
    sizes = [p.stat().st_size for p in paths]
    print(
        f"per file: {sum(sizes) / len(sizes) / 1e6:.1f} MB, {args.packets // len(paths):,} packets",
        flush=True,
    )
    load = os.getloadavg()
    print(
        f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores",
        flush=True,
    )
    out = {
        "loadavg": [round(x, 2) for x in load],
        "packets": args.packets,
        "files": len(paths),
        "bytes": total_bytes,
        "cores": os.cpu_count(),
        "runs": rows,
        "reports_identical": same,
    }
    (DATA / "multi_bench.json").write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
