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
    whole.unlink()
    stamp.touch()
    return names


def timed_run(paths: list[Path], workdir: Path, **kw: object) -> tuple[float, dict[str, object]]:
    from mipsniff.multi.pipeline import analyze

    t0 = time.perf_counter()
    result = analyze([str(p) for p in paths], workdir=str(workdir), progress_stream=None, **kw)  # type: ignore[arg-type]
    return time.perf_counter() - t0, result.report


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
        secs, report = timed_run(paths, work, **kw)
        reports.append(report)
        rows.append({"run": label, "seconds": round(secs, 2), "packets_per_s": round(args.packets / secs)})
        print(f"{label:<34} {secs:8.2f} s  {args.packets / secs:>10,.0f} packets/s", flush=True)

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
    same = all(json.dumps(r, sort_keys=True) == json.dumps(reports[0], sort_keys=True) for r in reports)
    print(f"all reports identical: {same}")
    out = {
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
