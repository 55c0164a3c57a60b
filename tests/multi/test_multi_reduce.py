"""The partitioned reduce (mipsniff.multi.reduce) gives the single-process report byte for byte (issue 7).

Compared on the JSON text (`capture.path` set alike, `capture.files` removed) with
`mipsniff.report.pipeline.analyze` over the same capture: every sample capture with 2 and 3 partitions
(more partitions than MNs, so some are empty), multi-mn.pcap cut into files, 20 random simulated
scenarios with up to three MNs at the MN, the HA and both vantages, MNs that share a MAC address
(regrouped), the local pool and a 2-worker Dask LocalCluster; on the samples, the packet records
(packets.csv) as well. Each test also checks that the partitioned path did run (`reduce_partitions`),
since a failing partition falls back to one process.
"""

from __future__ import annotations

import json
from ipaddress import IPv6Address
from pathlib import Path
from typing import Any

import pytest
from multi_pcaps import read_pcap, split_pcap, write_pcap
from typer.testing import CliRunner

from mipsniff.cli import app
from mipsniff.multi import reduce as red
from mipsniff.multi.pipeline import analyze
from mipsniff.report.pipeline import analyze as analyze_single
from mipsniff.sim.scenarios import random_scenario
from mipsniff.sim.synth import write_result

SAMPLES = Path(__file__).resolve().parents[2] / "sample_pcaps"
NAMES = sorted(p.name for p in SAMPLES.glob("*.pcap*"))
MULTI = SAMPLES / "multi-mn.pcap"


def _text(doc: dict[str, Any]) -> str:
    doc = json.loads(json.dumps(doc))
    doc["capture"]["path"] = "X"
    doc["capture"].pop("files", None)
    return json.dumps(doc, indent=2) + "\n"


def _single(path: Path) -> str:
    return _text(analyze_single(path).to_dict())


def _partitioned(paths: list[Path], n: int, **kw: Any) -> tuple[str, Any]:
    kw.setdefault("workers", 2)
    res = analyze([str(p) for p in paths], reduce="partitioned", partitions=n, progress_stream=None, **kw)
    assert res.reduce_partitions == n  # the partitioned path ran (no fallback to one process)
    return _text(res.to_dict()), res


# --- routing: which frames a partition must dissect ------------------------------------------------

ETH = bytes.fromhex("020000000002" "020000000001" "86dd")  # dst MAC, src MAC, IPv6
A = IPv6Address("2001:db8::beef").packed
B = IPv6Address("2001:db8:1::1").packed


def _ip6(nh: int, src: bytes, dst: bytes, payload: bytes) -> bytes:
    return bytes.fromhex("60000000") + len(payload).to_bytes(2, "big") + bytes([nh, 64]) + src + dst + payload


def test_data_frames_name_their_two_candidate_home_addresses() -> None:
    echo = bytes.fromhex("8000" "0000" "1234" "0001")  # echo request: type, code, checksum, id, seq
    udp = bytes.fromhex("1f90" "1f90" "0008" "0000")
    mac = "02:00:00:00:00:01"
    assert red.candidates(1, ETH + _ip6(58, A, B, echo)) == (A, B, mac)
    assert red.candidates(1, ETH + _ip6(17, B, A, udp)) == (B, A, mac)
    # IPv6 in IPv6 (RFC 2473): the inner addresses, not the tunnel endpoints.
    outer_src, outer_dst = IPv6Address("2001:db8:2::9").packed, IPv6Address("2001:db8::1").packed
    assert red.candidates(1, ETH + _ip6(41, outer_src, outer_dst, _ip6(58, A, B, echo))) == (A, B, mac)
    # Linux cooked v1 (packet type, ARPHRD, address length 6, address padded to 8, protocol) and raw IPv6.
    sll = bytes.fromhex("0000" "0001" "0006" "020000000001" "0000" "86dd")
    assert red.candidates(113, sll + _ip6(17, B, A, udp)) == (B, A, mac)
    assert red.candidates(229, _ip6(17, B, A, udp)) == (B, A, None)


@pytest.mark.parametrize(
    "frame",
    [
        ETH + _ip6(58, A, B, bytes.fromhex("8600" "0000" "40000000" "00000000" "00000000")),  # RA
        ETH + _ip6(58, A, B, bytes.fromhex("8100" "0000" "0000" "0000")),  # echo reply code 0: 129 ok
        ETH + _ip6(135, A, B, bytes(16)),  # Mobility Header
        ETH + _ip6(60, A, B, bytes(24)),  # Destination Options (a HAO, say)
        ETH + _ip6(41, A, B, _ip6(135, A, B, bytes(16))),  # tunnelled signalling
        ETH[:12] + b"\x81\x00" + bytes(60),  # VLAN tag
        ETH + bytes(20),  # short
    ],
)
def test_other_frames_go_to_every_partition(frame: bytes) -> None:
    got = red.candidates(1, frame)
    if frame[20] == 58 and frame[54] == 0x81:
        assert got == (A, B, "02:00:00:00:00:01")  # the echo reply is data
    else:
        assert got is None
    assert red.candidates(127, frame) is None  # other link types (radiotap): every partition


def test_assignment_keeps_groups_together_and_balances() -> None:
    hoas = [IPv6Address(f"2001:db8::{i:x}") for i in range(1, 8)]
    owners = red.assign(hoas, 3, [frozenset(hoas[:3])])
    assert len({owners[a.packed] for a in hoas[:3]}) == 1
    loads = [sum(1 for p in owners.values() if p == i) for i in range(3)]
    assert sorted(loads) == [2, 2, 3]
    assert red.owner_of(IPv6Address("2001:db8::99").packed, owners, 3) in (0, 1, 2)


# --- equivalence ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_sample_partitioned_is_the_single_report(name: str, tmp_path: Path) -> None:
    single = analyze_single(SAMPLES / name)
    want = _text(single.to_dict())
    for n in (2, 3):
        got, res = _partitioned([SAMPLES / name], n, workdir=str(tmp_path / f"w{n}"))
        assert got == want, (name, n)
        # packets.csv's rows too (link-wide records once, in frame order)
        assert res.report.correlation.packets == single.correlation.packets, (name, n)


def test_multi_mn_split_into_files_partitioned(tmp_path: Path) -> None:
    _, _, frames = read_pcap(MULTI)
    parts = split_pcap(MULTI, [len(frames) // 4, len(frames) // 2, 3 * len(frames) // 4], tmp_path / "parts")
    got, res = _partitioned(parts, 3, workdir=str(tmp_path / "w"))
    assert got == _single(MULTI)
    assert len(res.report.correlation.mobile_nodes) == 3
    # Each partition dissects its own data and the link-wide frames, not everything three times.
    assert res.reduce_dissected < 3 * sum(f.relevant for f in res.files)


def test_random_scenarios_with_several_mns(tmp_path: Path) -> None:
    several = 0
    for seed in range(20):
        r = random_scenario(seed)
        vantage = ("mn", "ha", "both")[seed % 3]
        cap = tmp_path / (f"r{seed}.pcapng" if vantage == "both" else f"r{seed}.pcap")
        write_result(r, cap, vantage)
        want = _single(cap)
        several += r.settings["mn_count"] > 1
        got, _ = _partitioned([cap], 2 + seed % 2, workdir=str(tmp_path / f"w{seed}"))
        assert got == want, (seed, vantage)
    assert several >= 12


def test_mns_sharing_a_mac_are_put_in_one_partition(tmp_path: Path) -> None:
    # multi-mn.pcap with the second MN's MAC rewritten to the first's: the MAC table is shared state.
    linktype, nanos, frames = read_pcap(MULTI)
    mine, other = bytes.fromhex("00055df2db2b"), bytes.fromhex("00055df2db3c")
    rewritten = [(t, d[:12].replace(other, mine) + d[12:]) for t, d in frames]
    cap = write_pcap(tmp_path / "shared-mac.pcap", rewritten, linktype=linktype, nanos=nanos)
    want = _single(cap)
    assert json.loads(want)["mobile_nodes"][0]["mac"] == json.loads(want)["mobile_nodes"][1]["mac"]
    got, res = _partitioned([cap], 3, workdir=str(tmp_path / "w"))
    assert got == want
    assert res.reduce_rounds >= 2  # the first round put beef and cafe apart, and saw it


def test_partitioned_reduce_on_a_dask_cluster(tmp_path: Path, dask_client: Any) -> None:
    want = _single(MULTI)
    got, _ = _partitioned([MULTI], 2, client=dask_client, workdir=str(tmp_path / "w"))
    assert got == want
    for seed in (5, 8, 12):  # three MNs each
        r = random_scenario(seed)
        cap = tmp_path / f"r{seed}.pcap"
        write_result(r, cap, "mn")
        got, _ = _partitioned([cap], 2, client=dask_client, workdir=str(tmp_path / f"w{seed}"))
        assert got == _single(cap), seed
    # The default with a client: as many partitions as the cluster has workers.
    res = analyze([str(MULTI)], client=dask_client, engine="dask", progress_stream=None,
                  workdir=str(tmp_path / "w"))
    assert res.reduce_partitions == 2 and _text(res.to_dict()) == want


def test_a_failing_partition_falls_back_to_one_process(tmp_path: Path, monkeypatch: Any) -> None:
    def broken(task: Any) -> Any:
        raise RuntimeError("partition lost")

    monkeypatch.setattr(red, "reduce_partition", broken)
    import io

    err = io.StringIO()
    res = analyze([str(MULTI)], reduce="partitioned", partitions=2, workers=1, progress_stream=err,
                  workdir=str(tmp_path / "w"))
    assert res.reduce_partitions == 1
    assert "partition lost" in err.getvalue()
    assert _text(res.to_dict()) == _single(MULTI)


def test_cli_partitions_option(tmp_path: Path) -> None:
    runner = CliRunner()
    outs = []
    for n in ("1", "3"):
        out = tmp_path / f"p{n}.json"
        r = runner.invoke(app, ["report", str(MULTI), "--json", "--partitions", n, "--workers", "2",
                                "--workdir", str(tmp_path / "w"), "--output", str(out)])
        assert r.exit_code == 0, r.output
        assert f"({n} partition" in r.output
        outs.append(_text(json.loads(out.read_text())))
    assert outs[0] == outs[1] == _single(MULTI)


@pytest.mark.parametrize("linktype", [113, 229])
def test_cooked_and_raw_captures_are_routed_too(linktype: int, tmp_path: Path) -> None:
    # multi-mn.pcap as `tcpdump -i any` (Linux cooked v1) and as raw IPv6 would have written it.
    _, nanos, frames = read_pcap(MULTI)
    out = []
    for ts, d in frames:
        if linktype == 113:
            out.append((ts, bytes.fromhex("0000" "0001" "0006") + d[6:12] + b"\0\0" + d[12:14] + d[14:]))
        elif d[12:14] == b"\x86\xdd":
            out.append((ts, d[14:]))
    cap = write_pcap(tmp_path / f"multi-{linktype}.pcap", out, linktype=linktype, nanos=nanos)
    want = _single(cap)
    assert len(json.loads(want)["mobile_nodes"]) == 3
    got, res = _partitioned([cap], 3, workdir=str(tmp_path / "w"))
    assert got == want
    assert res.reduce_dissected < 3 * sum(f.relevant for f in res.files)  # the data frames were routed
