"""`mipsniff.load` on every sample capture: table schemas, and the tables this module derives (echo fates,
RTP sequence gaps, packet counts) against the simulator's ground truth (`data` of NAME.truth.json).

The report's own timeline is checked against the ground truth by the correlator's tests; here the
handovers table must equal the report dict it flattens, whatever the report says.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import mipsniff
from mipsniff.analysis import Analysis

SAMPLES = Path(__file__).resolve().parents[1] / "sample_pcaps"
CAPTURES = sorted(p for p in SAMPLES.glob("*.pcap*"))
# Captures written at the MN: the echo requests' timestamps are the ground truth's send times.
AT_MN = [p for p in CAPTURES if json.loads(p.with_name(p.name.split(".")[0] + ".truth.json").read_text())
         ["vantages"] == ["mn"]]


def _truth(path: Path) -> dict:
    return json.loads(path.with_name(path.name.split(".")[0] + ".truth.json").read_text())


@pytest.fixture(scope="module")
def loaded() -> dict[str, Analysis]:
    assert CAPTURES, f"no sample captures in {SAMPLES}: run `make samples`"
    return {p.name: mipsniff.load(p) for p in CAPTURES}


def test_every_sample_is_present() -> None:
    names = {p.name.split(".")[0] for p in CAPTURES}
    assert {"article", "rtp-stream", "multi-mn", "foreign-to-foreign"} <= names


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_tables_have_their_schema(path: Path, loaded: dict[str, Analysis]) -> None:
    a = loaded[path.name]
    p = a.packets
    if p["interface"].nunique() == 1 and len(_truth(path)["vantages"]) == 1:
        assert len(p) == a.report["capture"]["packets"]
        assert p["frame"].tolist() == list(range(1, len(p) + 1))
    else:  # one interface per capture point: only the vantage's interface is read
        assert len(p) < a.report["capture"]["packets"]
        assert p["frame"].is_monotonic_increasing
    assert p["interface"].nunique() == 1
    assert p["ts"].is_monotonic_increasing
    assert (p["time"].astype("int64") == p["ts_ns"]).all()
    assert isinstance(p["type"].dtype, pd.CategoricalDtype)
    assert p["capture"].unique().tolist() == [path.name.split(".")[0]]
    h = a.handovers
    assert len(h) == len(a.report["handovers"]) == len(_truth(path)["handovers"])
    for rec, row in zip(a.report["handovers"], h.to_dict("records"), strict=True):
        for key in ("t_last_old", "t_link_up", "t_movement_detected", "t_dad", "t_bu", "t_ba", "t_resumed"):
            assert (rec[key] is None and math.isnan(row[key])) or rec[key] == row[key], key
        for group in ("latency_ms", "lost", "rtt_ms"):
            for k, v in rec[group].items():
                cell = row[f"{group}.{k}"]
                assert (v is None and pd.isna(cell)) or v == cell, f"{group}.{k}"
    assert len(a.bindings) == len(a.report["bindings"])
    assert a.mobile_nodes["home_address"].tolist() == [m["home_address"] for m in a.report["mobile_nodes"]]


@pytest.mark.parametrize("path", [p for p in AT_MN if any(d["flow"].startswith("ping") for d in _truth(p)["data"])],
                         ids=lambda p: p.name)
def test_echo_fates_match_ground_truth(path: Path, loaded: dict[str, Analysis]) -> None:
    truth = {d["seq"]: d for d in _truth(path)["data"] if d["flow"].startswith("ping")}
    e = loaded[path.name].echoes
    assert e["flow"].nunique() == 1
    fate = {"answered": "delivered", "unanswered": "lost", "unsent": "unsent"}
    for row in e.to_dict("records"):
        t = truth[row["seq"]]
        assert fate[row["fate"]] == t["fate"], (row["seq"], row["fate"], t)
        if row["fate"] != "unsent":
            assert row["t_sent"] == t["t_sent"]  # the MN's own capture: exact to the microsecond
    # every request the MN sent is in the table; unsent ones only show between two sent ones
    sent = {s for s, d in truth.items() if d["fate"] != "unsent"}
    assert sent == set(e.loc[e["fate"] != "unsent", "seq"])


@pytest.mark.parametrize("path", [p for p in AT_MN if any(d["flow"].startswith("rtp") for d in _truth(p)["data"])],
                         ids=lambda p: p.name)
def test_stream_gaps_match_ground_truth(path: Path, loaded: dict[str, Analysis]) -> None:
    truth = [d for d in _truth(path)["data"] if d["flow"].startswith("rtp")]
    delivered = sorted(d["seq"] for d in truth if d["fate"] == "delivered")
    s = loaded[path.name].stream()
    assert s["flow"].nunique() == 1
    seqs = s["seq"].tolist()
    assert [x - seqs[0] + delivered[0] for x in seqs] == delivered
    lost_inside = sum(1 for d in truth if d["fate"] == "lost" and delivered[0] < d["seq"] < delivered[-1])
    assert s["missing_before"].sum() == lost_inside
    flow = loaded[path.name].flows
    assert flow.loc[flow["kind"] == "rtp", "missing"].tolist() == [lost_inside]


def test_read_report_takes_the_report_commands_json(tmp_path: Path, loaded: dict[str, Analysis]) -> None:
    from typer.testing import CliRunner

    from mipsniff.cli import app

    out = tmp_path / "article.json"
    res = CliRunner().invoke(app, ["report", str(SAMPLES / "article.pcap"), "--json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    again = mipsniff.read_report(out)
    pd.testing.assert_frame_equal(again.handovers, loaded["article.pcap"].handovers)
    pd.testing.assert_frame_equal(again.bindings, loaded["article.pcap"].bindings)
    assert len(again.packets) == 0  # the report JSON has no packet rows; to_json() adds them


def test_stream_figure_marks_the_missing_packets(loaded: dict[str, Analysis]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = loaded["rtp-stream.pcap"]
    ax = a.plot_stream()
    notes = [c.get_text() for c in ax.get_children() if c.get_gid() == "stream:missing"]
    missing = int(a.stream()["missing_before"].sum())
    assert notes == [f"{missing} missing"] and missing > 0
    assert [c for c in ax.get_children() if str(c.get_gid()).startswith("blackout")]
    plt.close("all")


def test_vantage_picks_the_interface_of_a_two_point_capture() -> None:
    # lost-ba.pcapng holds one interface per capture point (mn, ha): each vantage reads its own.
    path = SAMPLES / "lost-ba.pcapng"
    at_mn, at_ha = mipsniff.load(path, vantage="mn"), mipsniff.load(path, vantage="ha")
    assert at_mn.packets["interface"].nunique() == at_ha.packets["interface"].nunique() == 1
    assert at_mn.packets["interface"].iloc[0] != at_ha.packets["interface"].iloc[0]
    def first_bu(a: Analysis) -> float:
        return float(a.packets.loc[a.packets["type"] == "BU", "ts"].min())

    assert first_bu(at_mn) < first_bu(at_ha)  # the BU is captured at the MN before it reaches the HA
    expected = _truth(path)["handovers"][0]["expected"]["ha"]
    row = at_ha.handovers.iloc[0]
    assert pd.isna(row["t_movement_detected"]) == (expected["t_movement_detected"] is None)
    with pytest.raises(mipsniff.errors.UserError, match="unknown vantage"):
        mipsniff.load(path, vantage="cn")


def test_packets_table_keeps_the_mobility_traffic_and_drops_unrelated_frames(tmp_path: Path) -> None:
    # The article's frames with unrelated traffic woven in (IPv4 UDP, IPv6 TCP between other hosts):
    # by default `.packets` holds what the report reads, so its size follows the mobility traffic.
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import TCP, IPv6
    from scapy.layers.l2 import Ether

    from mipsniff.capture.reader import open_capture
    from mipsniff.capture.writer import PcapWriter

    eth = Ether(src="02:00:00:00:99:01", dst="02:00:00:00:99:02")
    noise = [bytes(eth / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=5000, dport=53) / (b"x" * 20)),
             bytes(eth / IPv6(src="2001:db8:99::1", dst="2001:db8:99::2") / TCP(sport=4000, dport=80))]
    with open_capture(SAMPLES / "article.pcap") as reader:
        frames = [(f.ts_ns, f.data) for f in reader]
    path = tmp_path / "noisy.pcap"
    with path.open("wb") as fh:
        w = PcapWriter(fh)
        for ts, data in frames:
            w.write(ts, data)
            for n in noise:
                w.write(ts + 1000, n)
    clean, noisy = mipsniff.load(SAMPLES / "article.pcap"), mipsniff.load(path)
    every = mipsniff.load(path, packets="all")
    assert len(every.packets) == 3 * len(frames)
    assert len(noisy.packets) == len(clean.packets) == len(frames)
    assert list(noisy.packets["type"].astype(str)) == list(clean.packets["type"].astype(str))
    timeline = [c for c in clean.handovers.columns if c.startswith(("t_", "latency_ms.", "lost."))]
    assert noisy.handovers[timeline].equals(clean.handovers[timeline])
    with pytest.raises(mipsniff.errors.UserError):
        mipsniff.load(path, packets="some")
