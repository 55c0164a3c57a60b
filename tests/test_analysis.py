"""mipsniff.load / read_report and the Analysis tables: columns, dtypes and values.

The hand-made fixture `test_analysis_article.json` is the article's experiment written out by hand
(issue-4 report keys plus packet rows): ping to the HA every second, RTT 3.7 ms at home, requests 9..12
never sent during the move, 142 ms after it through the tunnel, one reply lost, and an RTP stream
CN -> MN at 20 packets/s losing 75 packets in the blackout.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import mipsniff
from mipsniff.analysis import Analysis, packets_frame
from mipsniff.errors import UserError

FIXTURE = Path(__file__).with_name("test_analysis_article.json")


@pytest.fixture(scope="module")
def article() -> Analysis:
    return mipsniff.read_report(FIXTURE)


def test_import_mipsniff_stays_light() -> None:
    code = "import sys, mipsniff; assert 'pandas' not in sys.modules and 'matplotlib' not in sys.modules; " \
           "mipsniff.load; assert 'pandas' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_packets_columns_and_dtypes(article: Analysis) -> None:
    p = article.packets
    assert list(p.columns[:7]) == ["frame", "ts", "time", "ts_ns", "capture", "interface", "length"]
    assert str(p["frame"].dtype) == "Int64"
    assert p["ts"].dtype == "float64"
    assert str(p["time"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(p["kind"].dtype, pd.CategoricalDtype)
    assert isinstance(p["type"].dtype, pd.CategoricalDtype)
    for c in ("src", "dst", "inner_src", "inner_dst", "home_address", "routing_home_address"):
        assert isinstance(p[c].dtype, pd.StringDtype), c
    for c in ("echo_id", "echo_seq", "sport", "dport", "rtp_seq", "mh_seq", "ba_status"):
        assert str(p[c].dtype) == "Int64", c
    assert p["tunnel_depth"].dtype == "int64"
    # datetime, integer ns and epoch float agree; JSON rows are exact to the microsecond
    assert (p["time"].astype("int64") == p["ts_ns"]).all()
    assert (p["ts_ns"] % 1000 == 0).all()
    assert ((p["ts_ns"] / 1e9 - p["ts"]).abs() < 1e-6).all()
    assert len(p) == article.report["capture"]["packets"]
    assert p["frame"].tolist() == list(range(1, len(p) + 1))
    bus = p[p["type"] == "BU"]
    assert bus["mh_seq"].tolist() == [54813, 54814]
    assert set(bus["home_address"]) == {"2001:db8::beef"}
    assert p.loc[p["type"] == "BA", "routing_home_address"].tolist() == ["2001:db8::beef"]


def test_handovers_flattened(article: Analysis) -> None:
    h = article.handovers
    assert len(h) == 1
    for c in ("latency_ms.total", "latency_ms.movement_detection", "latency_ms.address_configuration",
              "latency_ms.registration", "latency_ms.resumption", "rtt_ms.before", "rtt_ms.after"):
        assert h[c].dtype == "float64", c
    for c in ("lost.echo_unsent", "lost.echo_unanswered", "lost.stream_missing", "bu_seq", "ba_status", "id"):
        assert str(h[c].dtype) == "Int64", c
    for c in ("t_last_old", "t_link_up", "t_movement_detected", "t_dad", "t_bu", "t_ba", "t_resumed"):
        assert h[c].dtype == "float64", c
    assert isinstance(h["kind"].dtype, pd.CategoricalDtype)
    assert isinstance(h["result"].dtype, pd.CategoricalDtype)
    row = h.iloc[0]
    raw = article.report["handovers"][0]
    assert row["t_bu"] == raw["t_bu"]  # exact: floats pass through untouched
    assert row["lost.echo_unsent"] == 4
    assert row["rtt_ms.before"] == 3.7 and row["rtt_ms.after"] == 142.0
    # the metric definitions (issue 4) hold on the flattened columns
    assert math.isclose(row["latency_ms.total"], (row["t_resumed"] - row["t_last_old"]) * 1e3, abs_tol=1e-3)
    assert math.isclose(row["latency_ms.registration"], (row["t_ba"] - row["t_bu"]) * 1e3, abs_tol=1e-3)
    assert h["capture"].tolist() == ["article"]


def test_bindings_mobile_nodes_weirds(article: Analysis) -> None:
    b = article.bindings
    assert list(b.columns[:10]) == ["capture", "home_address", "home_agent", "care_of_address", "kind", "t_bu",
                                    "t_ba", "seq", "lifetime_s", "status"]
    assert b["seq"].tolist() == [54814] and str(b["seq"].dtype) == "Int64"
    mn = article.mobile_nodes
    assert mn["home_address"].tolist() == ["2001:db8::beef"]
    assert mn["care_of_addresses"].iloc[0] == ["2001:db8:1:0:205:5dff:fef2:db2b"]
    w = article.weirds
    assert w["name"].tolist() == ["mh_bad_checksum"]
    assert str(w["frame"].dtype) == "Int64"


def test_echoes_fates_and_rtt(article: Analysis) -> None:
    e = article.echoes
    assert e["seq"].tolist() == list(range(1, 21))
    fates = dict(zip(e["seq"], e["fate"].astype(str), strict=True))
    assert [s for s, f in fates.items() if f == "unsent"] == [9, 10, 11, 12]
    assert [s for s, f in fates.items() if f == "unanswered"] == [16]
    before = e[e["seq"] <= 8]["rtt_ms"]
    assert before.between(3.69, 3.73).all()
    assert e.loc[e["seq"] == 13, "rtt_ms"].iloc[0] == pytest.approx(142.0, abs=1e-3)
    # unsent requests get interpolated times between their neighbours
    assert e.loc[e["seq"] == 10, "t_sent"].iloc[0] == pytest.approx(1700000010.0, abs=1e-6)
    assert e["frame"].isna().sum() == 4
    assert isinstance(e["fate"].dtype, pd.CategoricalDtype)


def test_stream_and_flows(article: Analysis) -> None:
    s = article.stream()
    assert s["flow"].nunique() == 1
    assert s["missing_before"].sum() == article.handovers.iloc[0]["lost.stream_missing"] == 75
    assert s["gap_ms"].max() > 3000
    f = article.flows.set_index("flow")
    echo = f[f["kind"] == "echo"].iloc[0]
    assert (echo["packets"], echo["received"], echo["unsent"], echo["unanswered"]) == (16, 15, 4, 1)
    assert echo["rtt_ms_min"] == pytest.approx(3.7, abs=0.01)
    assert echo["rtt_ms_max"] == pytest.approx(142.0, abs=0.01)
    rtp = f[f["kind"] == "rtp"].iloc[0]
    assert (rtp["sport"], rtp["dport"], rtp["missing"]) == (5004, 5004, 75)
    assert rtp["jitter_ms"] < 1.0
    assert str(article.flows["packets"].dtype) == "int64"


def test_handover_view(article: Analysis) -> None:
    v = article.handover(0)
    assert v["bu_seq"] == 54814
    lo, hi = v.window
    assert lo == article.handovers.iloc[0]["t_last_old"] and hi == article.handovers.iloc[0]["t_resumed"]
    types = set(v.packets["type"].astype(str))
    assert {"RS", "RA", "DAD NS", "BU", "BA"} <= types
    assert v.packets["ts"].between(lo, hi).all()
    assert [x["id"] for x in (h.record for h in article)] == [1]
    with pytest.raises(IndexError):
        article.handover(1)


def test_json_round_trip(article: Analysis) -> None:
    again = mipsniff.read_report(article.to_json())
    pd.testing.assert_frame_equal(again.packets, article.packets)
    pd.testing.assert_frame_equal(again.handovers, article.handovers)
    pd.testing.assert_frame_equal(again.echoes, article.echoes)
    assert json.loads(article.to_json(packets=False)).keys() >= {"capture", "handovers", "bindings"}


def test_parquet_export(article: Analysis, tmp_path: Path) -> None:
    written = article.to_parquet(tmp_path / "pq")
    assert sorted(p.name for p in written) == sorted(
        f"{n}.parquet" for n in ("packets", "handovers", "bindings", "mobile_nodes", "weirds", "echoes", "flows"))
    back = pd.read_parquet(tmp_path / "pq" / "handovers.parquet")
    assert back["latency_ms.total"].tolist() == article.handovers["latency_ms.total"].tolist()
    pk = pd.read_parquet(tmp_path / "pq" / "packets.parquet")
    assert len(pk) == len(article.packets) and str(pk["time"].dtype).startswith("datetime64")


def test_several_reports_concatenate(article: Analysis) -> None:
    other = json.loads(article.to_json(packets=False))
    other["capture"]["path"] = "sample_pcaps/other.pcap"
    both = mipsniff.read_report({"reports": [article.report, other], "packets": []})
    assert both.handovers["capture"].tolist() == ["article", "other"]
    assert len(both.packets) == 0 and list(both.packets.columns) == list(article.packets.columns)


def test_bad_input_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such capture"):
        mipsniff.load(tmp_path / "missing.pcap")
    with pytest.raises(UserError):
        mipsniff.load([])
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="not a mipsniff report"):
        mipsniff.read_report(bad)
    with pytest.raises(UserError, match="cannot read"):
        mipsniff.read_report(tmp_path / "nope.json")


def test_packets_frame_of_nothing_has_the_schema() -> None:
    empty = packets_frame([])
    assert len(empty) == 0 and "inner_src" in empty.columns and str(empty["echo_id"].dtype) == "Int64"


def test_sequence_numbers_unwrap_at_65536() -> None:
    # RFC 3550 §A.1: the 16-bit RTP sequence number wraps; a gap across the wrap still counts.
    rows = [{"frame": i + 1, "ts": 1.0 + i * 0.02, "kind": "rtp", "type": "rtp", "inner_src": "2001:db8::1",
             "inner_dst": "2001:db8::2", "sport": 5004, "dport": 5004, "rtp_seq": s}
            for i, s in enumerate([65534, 65535, 0, 2])]
    s = mipsniff.analysis.stream_frame(packets_frame(rows))
    assert s["seq"].tolist() == [65534, 65535, 65536, 65538]
    assert s["missing_before"].tolist() == [0, 0, 0, 1]
    echo = [{"frame": i + 1, "ts": 1.0 + i, "kind": "echo", "type": "echo request", "inner_src": "a",
             "inner_dst": "b", "echo_id": 1, "echo_seq": q} for i, q in enumerate([65535, 1])]
    e = mipsniff.analysis.echoes_frame(packets_frame(echo))
    assert e["seq"].tolist() == [65535, 65536, 65537] and e["fate"].astype(str).tolist()[1] == "unsent"


def test_progress_bar_only_for_large_captures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mipsniff.analysis import _progress_bar

    small = tmp_path / "small.pcap"
    small.write_bytes(b"\0" * 100)
    with _progress_bar(small) as tick:
        assert tick is None
    big = tmp_path / "big.pcap"
    with big.open("wb") as fh:  # sparse: 12 MB on paper, nothing on disk
        fh.truncate(12_000_000)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # no tqdm: the rich bar on a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with _progress_bar(big) as tick:
        assert tick is not None
        tick(4096, 0)
        tick(8192, 0)
