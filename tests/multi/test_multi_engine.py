"""The map step and the engines: caching by content hash, retries, a killed worker, unreadable files."""

from __future__ import annotations

import io
import os
import sys
from ipaddress import IPv6Address
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
from multi_pcaps import read_pcap, write_pcap
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import HAO, MIP6MH_BU, ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt
from scapy.layers.l2 import Ether

from mipsniff.multi.engine import run_map
from mipsniff.multi.files import FileStatus, FileSummary, order_files
from mipsniff.multi.mapstep import MapTask, map_file, read_frames

# Dask workers are spawned processes: ship this module's map wrappers by value, not by import.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

T0 = 1_700_000_000_000_000_000


HOA = "2001:db8::beef"


def _frames_for(k: int) -> list[bytes]:
    """File k of the ring: noise the prefilter drops, echo it keeps, plain UDP of the home address
    (kept only once a BU names it, phase 2) and, in file 3, that BU (HAO, RFC 6275 §6.3)."""
    noise = bytes(
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IP(src="192.0.2.1", dst="192.0.2.2")
        / UDP(sport=1, dport=2)
        / bytes([k])
    )
    other = bytes(
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IPv6(src="2001:db8:2::1", dst="2001:db8:3::1")
        / UDP(sport=3, dport=4)
    )
    echo = bytes(
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IPv6(src="2001:db8:2::1", dst="2001:db8:3::1")
        / ICMPv6EchoRequest(seq=k)
    )
    data = bytes(
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IPv6(src=HOA, dst="2001:db8:3::1")
        / UDP(sport=5, dport=6)
        / bytes([k])
    )
    out = [noise, other, echo, data] * 5
    if k == 3:
        bu = (
            Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
            / IPv6(src="2001:db8:1::5", dst="2001:db8::1")
            / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
        )
        out.append(bytes(bu / MIP6MH_BU(seq=7, flags="AH", mhtime=10)))
    return out


def _ring(tmp: Path, n: int = 4) -> list[Path]:
    paths = []
    t = T0
    for k in range(n):
        frames = []
        for data in _frames_for(k):
            t += 1_000_000
            frames.append((t, data))
        # names run backwards in time: ordering must come from timestamps
        paths.append(write_pcap(tmp / f"ring{n - k:02d}.pcap", frames))
    return paths


def _is_kept(data: bytes, with_hoa: bool) -> bool:
    from dissectors.prefilter import is_relevant

    return is_relevant(1, data, [IPv6Address(HOA).packed] if with_hoa else [])


def _counting_map(task: MapTask) -> FileSummary:
    """map_file that leaves a marker per real read, so a test can count reads across processes."""
    s = map_file(task)
    if not s.reused and (task.home_addresses is None or s.phase == 2):
        marks = Path(task.workdir) / "reads"
        marks.mkdir(exist_ok=True)
        (marks / f"{os.getpid()}-{Path(task.path).name}-{os.urandom(4).hex()}").touch()
    return s


def _kill_once_map(task: MapTask) -> FileSummary:
    """Kills its own worker process the first time it sees file ring02.pcap (marker file in workdir)."""
    marker = Path(task.workdir) / "killed-once"
    if Path(task.path).name == "ring02.pcap" and not marker.exists():
        marker.touch()
        os._exit(9)
    return map_file(task)


def _always_kill_map(task: MapTask) -> FileSummary:
    """A file that kills its worker process every time (a reader crash, the OOM killer)."""
    if Path(task.path).name == "ring02.pcap":
        os._exit(9)
    return map_file(task)


def _always_fail_map(task: MapTask) -> FileSummary:
    if Path(task.path).name == "ring03.pcap":
        raise RuntimeError("simulated disk error")
    return map_file(task)


def _frames_of(summaries: list[FileSummary]) -> list[tuple[int, int, int, bytes]]:
    ordered, _ = order_files(summaries)
    return [
        (i, t, lt, d) for s in ordered if s.status is FileStatus.ok for i, t, lt, _if, d in read_frames(s)
    ]


def _expected(paths: list[Path], with_hoa: bool = True) -> list[tuple[int, int, int, bytes]]:
    """The frames the single-process prefilter keeps from the concatenation, numbered globally."""
    frames = []
    for p in sorted(paths, key=lambda p: read_pcap(p)[2][0][0]):
        frames += [(ts, 1, d) for ts, d in read_pcap(p)[2]]
    return [(i + 1, ts, lt, d) for i, (ts, lt, d) in enumerate(frames) if _is_kept(d, with_hoa)]


@pytest.mark.parametrize("workers", [1, 2])
def test_local_engine_merges_files_in_time_order_with_global_frame_numbers(
    tmp_path: Path, workers: int
) -> None:
    paths = _ring(tmp_path)
    out = run_map([str(p) for p in paths], str(tmp_path / "work"), workers=workers, progress_stream=None)
    assert all(s.status is FileStatus.ok for s in out)
    assert _frames_of(out) == _expected(paths)


def test_content_hash_reuse_second_run_reads_nothing(tmp_path: Path) -> None:
    paths = _ring(tmp_path)
    work = tmp_path / "work"
    first = run_map([str(p) for p in paths], str(work), workers=2, map_fn=_counting_map, progress_stream=None)
    # every file is read twice: its home-address data shows up only once file 3's BU is known
    assert len(list((work / "reads").iterdir())) == 8
    assert all(s.phase == 2 for s in first)
    # a copy under another name is the same content: reused too
    (tmp_path / "copy.pcap").write_bytes(paths[0].read_bytes())
    second = run_map(
        [str(p) for p in paths] + [str(tmp_path / "copy.pcap")],
        str(work),
        workers=2,
        map_fn=_counting_map,
        progress_stream=None,
    )
    assert len(list((work / "reads").iterdir())) == 8
    assert all(s.reused for s in second)
    assert _frames_of(second[:4]) == _frames_of(first)
    # a new file in the ring buffer is the only one read
    write_pcap(tmp_path / "ring00.pcap", [(T0 + 10**9, b"new")])
    run_map(
        [str(p) for p in [*paths, tmp_path / "ring00.pcap"]],
        str(work),
        workers=1,
        map_fn=_counting_map,
        progress_stream=None,
    )
    assert len(list((work / "reads").iterdir())) == 9


def test_local_engine_survives_a_killed_worker(tmp_path: Path) -> None:
    paths = _ring(tmp_path)
    out = run_map(
        [str(p) for p in paths],
        str(tmp_path / "work"),
        workers=2,
        map_fn=_kill_once_map,
        progress_stream=None,
    )
    assert (tmp_path / "work" / "killed-once").exists()
    assert all(s.status is FileStatus.ok for s in out)
    assert _frames_of(out) == _expected(paths)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_that_keeps_failing_is_named_unreadable_and_the_rest_comes_out(
    tmp_path: Path, workers: int
) -> None:
    paths = _ring(tmp_path)
    out = run_map(
        [str(p) for p in paths],
        str(tmp_path / "work"),
        workers=workers,
        map_fn=_always_fail_map,
        retries=1,
        progress_stream=None,
    )
    bad = [s for s in out if s.status is FileStatus.unreadable]
    assert [Path(s.path).name for s in bad] == ["ring03.pcap"]
    assert "simulated disk error" in (bad[0].error or "") and "2 attempts" in (bad[0].error or "")
    good = [p for p in paths if p.name != "ring03.pcap"]
    assert [fr[1:] for fr in _frames_of(out)] == [fr[1:] for fr in _expected(good)]


def test_not_a_capture_is_unreadable_without_retry(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"this is not a capture file at all")
    out = run_map([str(junk)], str(tmp_path / "work"), workers=1, progress_stream=None)
    assert out[0].status is FileStatus.unreadable and out[0].error


def test_progress_line_names_files_packets_and_rate(tmp_path: Path) -> None:
    paths = _ring(tmp_path, n=2)
    buf = io.StringIO()
    run_map([str(p) for p in paths], str(tmp_path / "work"), workers=1, progress_stream=buf)
    last = buf.getvalue().strip().splitlines()[-1]
    assert "files 2/2" in last and "40 packets read" in last and "packets/s" in last


def test_dask_engine_equals_local_and_survives_a_killed_worker(tmp_path: Path, dask_client: Any) -> None:
    paths = _ring(tmp_path)
    local = run_map([str(p) for p in paths], str(tmp_path / "w1"), workers=1, progress_stream=None)
    out = run_map(
        [str(p) for p in paths],
        str(tmp_path / "w2"),
        client=dask_client,
        map_fn=_kill_once_map,
        progress_stream=None,
    )
    assert (tmp_path / "w2" / "killed-once").exists()
    assert all(s.status is FileStatus.ok for s in out)
    assert _frames_of(out) == _frames_of(local) == _expected(paths)


def test_dask_engine_names_a_failing_file_unreadable(tmp_path: Path, dask_client: Any) -> None:
    paths = _ring(tmp_path)
    out = run_map(
        [str(p) for p in paths],
        str(tmp_path / "w"),
        client=dask_client,
        map_fn=_always_fail_map,
        retries=1,
        progress_stream=None,
    )
    assert [Path(s.path).name for s in out if s.status is FileStatus.unreadable] == ["ring03.pcap"]
    assert sum(s.status is FileStatus.ok for s in out) == 3


def test_second_run_does_not_even_hash_unchanged_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mipsniff.multi.mapstep as mapstep

    hashed: list[str] = []
    real = mapstep.sha256_file

    def counting(path: str) -> str:
        hashed.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(mapstep, "sha256_file", counting)
    paths = _ring(tmp_path)
    work = str(tmp_path / "work")
    run_map([str(p) for p in paths], work, workers=1, progress_stream=None)
    assert len(hashed) == 4
    second = run_map([str(p) for p in paths], work, workers=1, progress_stream=None)
    assert len(hashed) == 4 and all(s.reused for s in second)
    # a file rewritten in place (new mtime) is hashed again; same content: its Parquet is reused
    os.utime(paths[1], ns=(T0, T0))
    third = run_map([str(p) for p in paths], work, workers=1, progress_stream=None)
    assert hashed[4:] == [paths[1].name] and all(s.reused for s in third)


def test_a_file_still_being_written_is_named_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mipsniff.multi.mapstep as mapstep

    paths = _ring(tmp_path, n=2)
    growing = paths[1]
    real_scan = mapstep.scan

    def scan_while_growing(path: str, stats: Any, addresses: Any = None) -> Any:
        if path.endswith(growing.name):
            with open(path, "ab") as fh:  # the capture process appends a record meanwhile
                fh.write(b"\x00" * 16)
        return real_scan(path, stats, addresses)

    monkeypatch.setattr(mapstep, "scan", scan_while_growing)
    work = tmp_path / "work"
    out = run_map([str(p) for p in paths], str(work), workers=1, progress_stream=None)
    bad = [s for s in out if s.status is FileStatus.unreadable]
    assert [Path(s.path).name for s in bad] == [growing.name]
    assert "still being written" in (bad[0].error or "")
    assert len(list(work.glob("*.parquet"))) == 1  # nothing cached for the growing file


def test_a_file_that_always_kills_its_worker_is_the_only_one_named(tmp_path: Path) -> None:
    paths = _ring(tmp_path, n=6)
    out = run_map(
        [str(p) for p in paths],
        str(tmp_path / "work"),
        workers=2,
        map_fn=_always_kill_map,
        progress_stream=None,
    )
    bad = [s for s in out if s.status is FileStatus.unreadable]
    assert [Path(s.path).name for s in bad] == ["ring02.pcap"]
    assert "died" in (bad[0].error or "") and "3 attempts" in (bad[0].error or "")
    assert sum(s.status is FileStatus.ok for s in out) == 5
