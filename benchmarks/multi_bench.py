"""Many files: a ring buffer of 20 pcap files (5,000,000 packets by default) reported with
`--engine local` on 1 and 2 processes and on a Dask LocalCluster with 1 and 2 workers.

The ring buffer is helper B's mixed capture (benchmarks/gen_mixed.py: ~3% mobility-relevant frames)
cut into consecutive files, as `tcpdump -C` would write it. Every run starts from an empty workdir
(a cold map step); one more run re-reports with the warm workdir (content hash unchanged: no file read
again). Figures go to stdout as a table and to benchmarks/data/multi_bench.json.

The reduce on its own (`--reduce-only`): a capture with many mobile nodes (`make_many_mn`: the
simulator's multi-mn scenario copied with rewritten addresses, 64 MNs by default) reduced sequentially
and in 1 and 2 partitions, wall and CPU time; figures in benchmarks/data/multi_reduce_bench.json.

    python benchmarks/multi_bench.py [--packets 5000000] [--files 20] [--skip-dask]
    python benchmarks/multi_bench.py --reduce-only [--copies 16] [--repeats 3] [--skip-dask]
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


def _sum_neutral(pattern: bytes, word_a: int, word_b: int, delta: int) -> bytes:
    """`pattern` with `delta` added to its 16-bit word `word_a` and taken from `word_b`: the same
    one's-complement sum, so every Internet checksum over it (RFC 1071; ICMPv6, MH and UDP include the
    addresses in their pseudo-header, RFC 8200 §8.1) stays valid after a rewrite."""
    w = list(struct.unpack(f"!{len(pattern) // 2}H", pattern))
    w[word_a] += delta
    w[word_b] -= delta
    assert 0 <= w[word_a] <= 0xFFFF and 0 <= w[word_b] <= 0xFFFF
    return struct.pack(f"!{len(w)}H", *w)


def make_many_mn(copies: int, out: Path, seed: int = 1, duration_ms: int = 60000, ping_ms: int = 20) -> Path:
    """A capture with `4 * copies` mobile nodes at the HA vantage: the simulator's multi-mn scenario (4
    MNs, pings every `ping_ms`, refreshes interleaved with handovers) copied `copies` times, each copy's
    home addresses, MACs and care-of interface identifiers rewritten checksum-neutrally and its frames
    shifted by 137 µs per copy, merged in time order. The routers' RAs are kept from copy 0 only (one
    link, one router). Cached by its parameters."""
    import heapq

    from mipsniff.sim.scenarios import run
    from mipsniff.sim.world import MN_HOME_ADDRESSES, MN_MACS

    if out.exists():
        return out
    res = run("multi-mn", seed, ["mn_count=4", f"duration_ms={duration_ms}", f"ping_interval_ms={ping_ms}"])
    frames = [(ts, data) for ts, _v, data in res.frames(["ha"])]
    macs = [bytes.fromhex(m.replace(":", "")) for m in MN_MACS]
    euis = [bytes([m[0] ^ 2]) + m[1:3] + b"\xff\xfe" + m[3:] for m in macs]
    hoas = [a.packed for a in MN_HOME_ADDRESSES]

    def is_ra(d: bytes) -> bool:
        return len(d) > 54 and d[12:14] == b"\x86\xdd" and d[20] == 58 and d[54] == 134

    streams = []
    for j in range(copies):
        subs = []
        for m, e, h in zip(macs, euis, hoas, strict=True):
            subs += [(h, _sum_neutral(h, 6, 7, j)), (e, _sum_neutral(e, 0, 3, 0x200 * j)),
                     (m, _sum_neutral(m, 0, 2, 0x200 * j))]
        copy = []
        for ts, d in frames:
            if j and is_ra(d):
                continue
            for a, b in subs:
                d = d.replace(a, b)
            copy.append((ts + 137_000 * j, d))
        streams.append(copy)
    with out.open("wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        for ts, d in heapq.merge(*streams):
            fh.write(struct.pack("<IIII", ts // 1_000_000_000, ts % 1_000_000_000, len(d), len(d)) + d)
    return out


def timed_run(paths: list[Path], workdir: Path, **kw: object) -> tuple[float, object]:
    from mipsniff.multi.pipeline import analyze

    t0 = time.perf_counter()
    result = analyze([str(p) for p in paths], workdir=str(workdir), progress_stream=None, **kw)  # type: ignore[arg-type]
    return time.perf_counter() - t0, result


def reduce_bench(copies: int, repeats: int, skip_dask: bool) -> dict[str, object]:
    """The reduce alone on a capture with many MNs: sequential, and partitioned in 1 and 2 partitions
    (local pool; Dask LocalCluster with 2 workers), with a warm workdir so the map step is only a
    lookup. Wall and CPU time (this process plus the partitions' workers) per run; min and median of
    `repeats` runs, since the machine is shared."""
    from statistics import median

    from mipsniff.multi.pipeline import analyze

    cap = make_many_mn(copies, DATA / f"many-mn-{copies}.pcap")
    work = DATA / "reduce-work"
    shutil.rmtree(work, ignore_errors=True)
    first = analyze([str(cap)], workdir=str(work), workers=2, progress_stream=None, reduce="sequential")
    mns = len(first.report.correlation.mobile_nodes)
    relevant = sum(f.relevant for f in first.files)
    want = first.report.to_dict()
    print(f"many-MN capture: {cap.name}, {cap.stat().st_size / 1e6:.0f} MB, {first.files[0].packets:,} packets,"
          f" {relevant:,} to the reduce, {mns} MNs, {len(first.report.correlation.handovers)} handovers", flush=True)
    rows: list[dict[str, object]] = []
    same = True

    def one(label: str, **kw: object) -> None:
        nonlocal same
        walls, cpus, longest, parts = [], [], [], 0
        for _ in range(repeats):
            res = analyze([str(cap)], workdir=str(work), progress_stream=None, **kw)  # type: ignore[arg-type]
            walls.append(res.reduce_s)
            cpus.append(res.reduce_cpu_s)
            longest.append(max(res.reduce_partition_cpu_s, default=res.reduce_cpu_s))
            parts = res.reduce_partitions
            same = same and res.report.to_dict() == want
        row = {"run": label, "partitions": parts, "reduce_wall_min_s": round(min(walls), 2),
               "reduce_wall_median_s": round(median(walls), 2), "reduce_cpu_median_s": round(median(cpus), 2),
               "longest_partition_cpu_median_s": round(median(longest), 2),
               "frames_per_s": round(relevant / min(walls))}
        rows.append(row)
        print(f"{label:<40} wall min {min(walls):6.2f} s, median {median(walls):6.2f} s; CPU median "
              f"{median(cpus):6.2f} s (longest partition {median(longest):6.2f} s);"
              f" {relevant / min(walls):>9,.0f} frames/s", flush=True)

    one("sequential (one Correlator)", workers=2, reduce="sequential")
    one("partitioned, 1 partition", workers=2, reduce="partitioned", partitions=1)
    one("partitioned, 2 partitions (local pool)", workers=2, reduce="partitioned", partitions=2)
    if not skip_dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
            with Client(cl) as client:
                one("partitioned, 2 partitions (Dask, 2 workers)", client=client, engine="dask",
                    reduce="partitioned", partitions=2)
    load = os.getloadavg()
    print(f"all reports identical to the sequential reduce's: {same}; load {load[0]:.1f} on "
          f"{os.cpu_count()} cores", flush=True)
    out = {"capture": cap.name, "packets": first.files[0].packets, "reduce_frames": relevant,
           "mobile_nodes": mns, "repeats": repeats, "runs": rows, "reports_identical": same,
           "loadavg": [round(x, 2) for x in load], "cores": os.cpu_count()}
    (DATA / "multi_reduce_bench.json").write_text(json.dumps(out, indent=1) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=5_000_000)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--reduce-only", action="store_true", help="only the reduce benchmark (many MNs)")
    ap.add_argument("--copies", type=int, default=16, help="many-MN capture: 4 MNs times this")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    if args.reduce_only:
        reduce_bench(args.copies, args.repeats, args.skip_dask)
        return 0

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
