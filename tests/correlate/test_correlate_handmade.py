"""The correlator on captures written by hand with scapy (independent of the simulator and the agent).

Each scenario is built packet by packet with exact timestamps, so every expected report value below is
known by construction, not read back from the code under test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from handmade import (
    AR1_LL,
    AR1_MAC,
    AR2_LL,
    AR2_MAC,
    COA1,
    COA2,
    HA,
    HA_LL,
    HA_MAC,
    HOA,
    Capture,
    ts,
)

from mipsniff.report import analyze, report_dict


def run(c: Capture, tmp_path: Path, vantage: str = "mn", name: str = "c.pcap") -> dict[str, Any]:
    return report_dict(analyze(c.write(tmp_path / name), vantage=vantage))


def article(c: Capture | None = None) -> Capture:
    """The article's experiment: pings at home (3.72 ms), move, 4 pings unsent, RS/RA, DAD, BU/BA seq
    54814, pings through the tunnel (142 ms, 122 ms)."""
    c = c or Capture()
    for k in range(8):
        c.echo_home(k * 1_000_000, k + 1, 3720)
        c.ra(k * 1_000_000 + 500_000, HA_LL, HA_MAC, "2001:db8::", 1500, home_agent=True)
    c.rs(8_900_000)
    c.ra(8_900_500, AR1_LL, AR1_MAC, "2001:db8:1::", 1000)
    c.dad(9_100_000, COA1)
    c.bu(10_100_000, COA1, 54814)
    c.ba(10_240_000, COA1, 54814)
    c.echo_tunnel(12_000_000, 13, 142000, COA1)
    c.echo_tunnel(13_000_000, 14, 122000, COA1)
    return c


def test_home_to_foreign_with_echo(tmp_path: Path) -> None:
    r = run(article(), tmp_path)
    assert [m["home_address"] for m in r["mobile_nodes"]] == [HOA]
    assert r["mobile_nodes"][0]["home_agent"] == HA
    assert r["mobile_nodes"][0]["care_of_addresses"] == [COA1]
    (h,) = r["handovers"]
    assert h["kind"] == "home_to_foreign" and h["result"] == "completed"
    assert h["old_coa"] == HOA and h["new_coa"] == COA1
    assert h["t_last_old"] == ts(7_003_720)  # the reply to the last ping at home
    assert h["t_link_up"] == ts(8_900_000)  # the RS
    assert h["t_movement_detected"] == ts(8_900_500)  # the new router's RA
    assert h["movement_trigger"] == "ra"
    assert h["t_dad"] == ts(9_100_000)
    assert h["t_bu"] == ts(10_100_000)
    assert h["t_ba"] == ts(10_240_000)
    assert h["t_resumed"] == ts(12_000_000)
    assert (h["bu_seq"], h["bu_retransmissions"], h["ba_status"]) == (54814, 0, 0)
    assert h["lost"] == {"echo_unsent": 4, "echo_unanswered": 0, "stream_missing": 0}
    assert h["rtt_ms"] == {"before": 3.72, "after": 142.0}
    assert h["latency_ms"] == {
        "total": 4996.28,
        "movement_detection": 1896.78,
        "address_configuration": 1199.5,
        "registration": 140.0,
        "resumption": 1760.0,
    }
    (b,) = r["bindings"]
    assert (b["kind"], b["seq"], b["lifetime_s"], b["status"]) == ("registration", 54814, 262140, 0)
    assert r["weirds"] == []


def test_foreign_to_home_deregistration(tmp_path: Path) -> None:
    c = Capture()
    c.bu(0, COA1, 10)
    c.ba(50_000, COA1, 10)
    for k in range(1, 5):
        c.echo_tunnel(k * 1_000_000, k, 100_000, COA1)
    # Back home at 5.5 s: RS, the home agent's RA, DAD probe for the home address, dereg BU from the HoA.
    c.rs(5_500_000)
    c.ra(5_500_300, HA_LL, HA_MAC, "2001:db8::", 1000, home_agent=True)
    c.dad(5_600_000, HOA)
    c.bu(6_600_000, HOA, 11, lifetime_s=0, dst_mac=HA_MAC)
    c.ba(6_601_000, HOA, 11, lifetime_s=0)
    c.echo_home(7_000_000, 7, 2000)
    r = run(c, tmp_path)
    kinds = [h["kind"] for h in r["handovers"]]
    assert kinds == ["home_to_foreign", "foreign_to_home"]
    h = r["handovers"][1]
    assert h["result"] == "completed"
    assert h["old_coa"] == COA1 and h["new_coa"] == HOA
    assert h["t_last_old"] == ts(4_100_000)
    assert h["t_link_up"] == ts(5_500_000)
    assert h["t_movement_detected"] == ts(5_500_300)
    assert h["t_dad"] == ts(5_600_000)
    assert h["t_bu"] == ts(6_600_000) and h["t_ba"] == ts(6_601_000)
    assert h["t_resumed"] == ts(7_000_000)
    assert h["lost"]["echo_unsent"] == 2  # seqs 5 and 6 never sent
    assert [b["kind"] for b in r["bindings"]] == ["registration", "deregistration"]


def test_lost_ba_and_retransmission(tmp_path: Path) -> None:
    c = Capture()
    c.echo_home(0, 1, 1000)
    c.bu(1_000_000, COA1, 200)  # its BA is lost
    c.bu(2_500_000, COA1, 201)  # UMIP resends after 1.5 s with seq + 1
    c.ba(2_600_000, COA1, 201)
    c.echo_tunnel(3_000_000, 4, 100_000, COA1)
    r = run(c, tmp_path)
    (h,) = r["handovers"]
    assert h["t_bu"] == ts(1_000_000) and h["t_ba"] == ts(2_600_000)
    assert (h["bu_seq"], h["bu_retransmissions"], h["result"]) == (201, 1, "completed")
    (b,) = r["bindings"]
    assert (b["seq"], b["bu_count"]) == (201, 2)


def test_ha_vantage_sees_the_lost_ba_then_the_resend(tmp_path: Path) -> None:
    c = Capture()
    c.echo_home(0, 1, 1000)
    c.bu(1_000_000, COA1, 200)
    c.ba(1_001_000, COA1, 200)  # sent by the HA (lost later, on the way to the MN)
    c.bu(2_500_000, COA1, 201)
    c.ba(2_501_000, COA1, 201)
    r = run(c, tmp_path, vantage="ha")
    (h,) = r["handovers"]
    # At the HA the exchange was answered by the first BA; the MN's resend joins the binding only.
    assert (h["bu_seq"], h["bu_retransmissions"]) == (200, 0)
    assert h["t_ba"] == ts(1_001_000)
    (b,) = r["bindings"]
    assert b["bu_count"] == 2


def test_rejected_not_home_agent(tmp_path: Path) -> None:
    c = Capture()
    c.echo_home(0, 1, 1000)
    c.bu(1_000_000, COA1, 7)
    c.ba(1_100_000, COA1, 7, status=133)
    r = run(c, tmp_path)
    (h,) = r["handovers"]
    assert h["result"] == "failed"
    assert h["ba_status"] == 133 and h["ba_status_name"] == "NOT_HOME_AGENT"
    assert h["t_resumed"] is None


def test_sequence_out_of_window_then_resend(tmp_path: Path) -> None:
    c = Capture()
    c.echo_home(0, 1, 1000)
    c.bu(1_000_000, COA1, 100)
    c.ba(1_100_000, COA1, 500, status=135)  # carries the HA's last accepted number (§11.7.3)
    c.bu(1_101_000, COA1, 501)
    c.ba(1_200_000, COA1, 501)
    c.echo_tunnel(2_000_000, 3, 50_000, COA1)
    r = run(c, tmp_path)
    (h,) = r["handovers"]
    assert h["result"] == "completed"
    assert (h["bu_seq"], h["bu_retransmissions"], h["ba_status"]) == (501, 1, 0)
    assert h["t_ba"] == ts(1_200_000)
    assert not any(w["name"] == "ba_without_bu" for w in r["weirds"])


def test_ba_without_bu_is_a_weird(tmp_path: Path) -> None:
    c = Capture()
    c.ba(1_000_000, COA1, 42)
    r = run(c, tmp_path)
    assert [w["name"] for w in r["weirds"]] == ["ba_without_bu"]
    assert r["weirds"][0]["frame"] == 1
    assert r["handovers"] == []


def test_refreshes_are_not_handovers(tmp_path: Path) -> None:
    c = Capture()
    # The capture starts abroad: tunnelled pings show COA1 in use before any BU (the "seen in use" rule).
    for k in range(3):
        c.echo_tunnel(k * 1_000_000, k + 1, 80_000, COA1)
    c.bu(3_500_000, COA1, 900, lifetime_s=8)
    c.ba(3_550_000, COA1, 900, lifetime_s=8)
    c.bu(11_000_000, COA1, 901, lifetime_s=8)  # 0.95 x 8 s later: a refresh
    c.ba(11_050_000, COA1, 901, lifetime_s=8)
    r = run(c, tmp_path)
    assert r["handovers"] == []
    assert [b["kind"] for b in r["bindings"]] == ["refresh", "refresh"]


def test_foreign_to_foreign_with_rtp_loss(tmp_path: Path) -> None:
    c = Capture()
    c.bu(0, COA1, 1)
    c.ba(10_000, COA1, 1)
    seq = 0
    for k in range(50):  # 20 ms RTP through the tunnel to COA1 until 1.0 s
        c.rtp_down(20_000 + k * 20_000, seq, COA1)
        seq += 1
    c.ra(1_200_000, AR2_LL, AR2_MAC, "2001:db8:2::", 1000)
    c.dad(1_300_000, COA2)
    c.bu(1_400_000, COA2, 2)
    c.ba(1_450_000, COA2, 2)
    seq += 22  # 22 packets sent by the CN during the blackout never arrive
    for k in range(10):
        c.rtp_down(1_460_000 + k * 20_000, seq, COA2)
        seq += 1
    r = run(c, tmp_path)
    h = r["handovers"][-1]
    assert h["kind"] == "foreign_to_foreign" and h["old_coa"] == COA1 and h["new_coa"] == COA2
    assert h["t_last_old"] == ts(1_000_000)
    assert h["t_movement_detected"] == ts(1_200_000)
    assert h["t_dad"] == ts(1_300_000)
    assert h["t_resumed"] == ts(1_460_000)
    assert h["lost"]["stream_missing"] == 22


def test_router_loss_detection(tmp_path: Path) -> None:
    c = Capture()
    c.bu(0, COA1, 1)
    c.ba(10_000, COA1, 1)
    for k in range(5):
        c.ra(100_000 + k * 300_000, AR1_LL, AR1_MAC, "2001:db8:1::", 400)  # last RA at 1.3 s
        c.echo_tunnel(100_000 + k * 300_000, k + 1, 5_000, COA1)
    # No RA for 400 ms after 1.3 s: UMIP declares the router lost at 1.7 s and solicits.
    c.rs(1_750_000, src="fe80::205:5dff:fef2:db2b")
    c.ra(1_751_000, AR2_LL, AR2_MAC, "2001:db8:2::", 400)
    c.dad(1_800_000, COA2)
    c.bu(2_800_000, COA2, 2)
    c.ba(2_810_000, COA2, 2)
    r = run(c, tmp_path)
    h = r["handovers"][-1]
    assert h["movement_trigger"] == "router_loss"
    assert h["t_movement_detected"] == ts(1_700_000)
    assert h["t_last_old"] == ts(1_305_000)
    assert h["t_link_up"] == ts(1_750_000)


def test_ha_vantage_reports_foreign_phases_as_null(tmp_path: Path) -> None:
    c = Capture()  # the HA's home-link capture: its own RAs, the MN's pings at home, then the tunnel
    for k in range(4):
        c.echo_home(k * 1_000_000, k + 1, 300)
        c.ra(k * 1_000_000 + 500_000, HA_LL, HA_MAC, "2001:db8::", 1500, home_agent=True)
    c.bu(6_000_000, COA1, 300, mac=AR1_MAC, dst_mac=HA_MAC)  # it reaches the HA through a router
    c.ba(6_000_100, COA1, 300)
    c.echo_tunnel(7_000_000, 8, 200, COA1)
    r = run(c, tmp_path, vantage="ha")
    (h,) = r["handovers"]
    assert h["t_last_old"] == ts(3_000_300)
    assert h["t_link_up"] is None and h["t_movement_detected"] is None and h["t_dad"] is None
    assert h["t_bu"] == ts(6_000_000) and h["t_ba"] == ts(6_000_100) and h["t_resumed"] == ts(7_000_000)
    assert h["latency_ms"]["movement_detection"] is None and h["latency_ms"]["total"] == 3999.7
    auto = run(c, tmp_path, vantage="auto", name="auto.pcap")
    assert auto["handovers"][0]["t_link_up"] is None


def test_incomplete_and_gave_up(tmp_path: Path) -> None:
    c = Capture()
    c.echo_home(0, 1, 1000)
    c.bu(1_000_000, COA1, 5)
    c.bu(2_000_000, COA1, 6)
    r = run(c, tmp_path)
    assert r["handovers"][0]["result"] == "incomplete"
    assert r["handovers"][0]["t_ba"] is None and r["handovers"][0]["bu_seq"] == 6
    c.echo_tunnel(40_000_000, 9, None, COA1)  # the capture goes on 38 s after the last BU: it gave up
    r = run(c, tmp_path, name="late.pcap")
    assert r["handovers"][0]["result"] == "failed"


def test_weirds_regression_different_ha_param_problem(tmp_path: Path) -> None:
    c = Capture()
    c.bu(0, COA1, 1000)
    c.ba(10_000, COA1, 1000)
    c.bu(1_000_000, COA2, 10)  # sequence went backwards (mod 2**16)
    c.bu(2_000_000, COA2, 11, ha="2001:db8::2")
    c.param_problem_hao(3_000_000, COA2)
    r = run(c, tmp_path)
    names = [w["name"] for w in r["weirds"]]
    assert "bu_sequence_regression" in names
    assert "bu_different_ha" in names
    assert "param_problem_hao" in names


@pytest.mark.parametrize("vantage", ["mn", "ha", "auto"])
def test_report_is_deterministic(tmp_path: Path, vantage: str) -> None:
    c = article()
    assert run(c, tmp_path, vantage, "a.pcap") == {
        **run(c, tmp_path, vantage, "b.pcap"),
        "capture": run(c, tmp_path, vantage, "a.pcap")["capture"],
    }


def test_radiotap_capture_reports_l2_events(tmp_path: Path) -> None:
    """A monitor-mode (radiotap) capture of the article's move: the 802.11 reassociation to the new cell
    is reported with the handover and is the MN's first frame on the new link."""
    from decimal import Decimal

    from handmade import MN_MAC, T0
    from scapy.layers.dot11 import Dot11, Dot11Elt, Dot11ReassoReq, RadioTap
    from scapy.layers.l2 import LLC, SNAP, Ether
    from scapy.utils import wrpcap

    ap1, ap2 = "00:00:00:00:01:0a", "00:00:00:00:02:0a"
    c = article()
    frames = []
    for us, raw in sorted(c.frames, key=lambda x: x[0]):
        e = Ether(raw)
        to_ds = 1 if e.src == MN_MAC else 2  # the MN sends to the AP; the AP relays to the MN
        bssid = ap1 if us < 8_000_000 else ap2
        d = RadioTap() / Dot11(type=2, subtype=0, FCfield=to_ds, addr1=e.dst if to_ds == 2 else bssid,
                               addr2=e.src if to_ds == 1 else bssid, addr3=e.dst if to_ds == 1 else e.src) / LLC(
            dsap=0xAA, ssap=0xAA, ctrl=3) / SNAP(OUI=0, code=0x86DD) / e.payload
        frames.append((us, d))
    frames.append((8_800_000, RadioTap() / Dot11(type=0, subtype=2, addr1=ap2, addr2=MN_MAC, addr3=ap2)
                   / Dot11ReassoReq(current_AP=ap1) / Dot11Elt(ID=0, info=b"remote")))
    pkts = []
    for us, p in sorted(frames, key=lambda x: x[0]):
        p.time = Decimal(T0) + Decimal(us) / Decimal(1_000_000)
        pkts.append(p)
    path = tmp_path / "radiotap.pcap"
    wrpcap(str(path), pkts, linktype=127)
    r = report_dict(analyze(path, vantage="mn"))
    (h,) = r["handovers"]
    assert r["capture"]["link_types"] == [127]
    assert [(e["subtype"], e["bssid"], e["ssid"]) for e in h["l2_events"]] == [("reassoc_req", ap2, "remote")]
    assert h["l2_events"][0]["t"] == ts(8_800_000)
    assert h["t_link_up"] == ts(8_800_000)
    assert (h["t_last_old"], h["t_movement_detected"], h["t_bu"], h["t_ba"], h["t_resumed"]) == (
        ts(7_003_720), ts(8_900_500), ts(10_100_000), ts(10_240_000), ts(12_000_000))


def test_ping_pong_handover(tmp_path: Path) -> None:
    c = Capture()
    c.bu(0, COA1, 1)
    c.ba(10_000, COA1, 1)
    c.bu(5_000_000, COA2, 2)
    c.ba(5_010_000, COA2, 2)
    c.bu(9_000_000, COA1, 3)  # back to the first cell 4 s later
    c.ba(9_010_000, COA1, 3)
    r = run(c, tmp_path)
    assert [h["ping_pong"] for h in r["handovers"]] == [False, False, True]
    assert [h["kind"] for h in r["handovers"]] == ["home_to_foreign", "foreign_to_foreign", "foreign_to_foreign"]


def test_param_problem_mh_and_bad_mh_checksum_are_weirds(tmp_path: Path) -> None:
    from handmade import MN_MAC
    from scapy.layers.inet6 import HAO, MIP6MH_BU, ICMPv6ParamProblem, IPv6, IPv6ExtHdrDestOpt
    from scapy.layers.l2 import Ether

    c = Capture()
    # A BU whose Mobility Header checksum is wrong (RFC 6275 §6.1.1: the receiver discards it).
    c.add(1_000_000, Ether(src=MN_MAC, dst=AR1_MAC) / IPv6(src=COA1, dst=HA)
          / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) / MIP6MH_BU(seq=5, flags="AH", mhtime=100, cksum=0x1234))
    # A node without Mobile IPv6 answers a Mobility Header with Parameter Problem code 1 (§9.2).
    invoking = IPv6(src=COA1, dst=HA, nh=135) / MIP6MH_BU(seq=6, flags="AH", mhtime=100)
    c.add(2_000_000, Ether(src=AR1_MAC, dst=MN_MAC) / IPv6(src=HA, dst=COA1) / ICMPv6ParamProblem(code=1, ptr=6)
          / invoking)
    r = run(c, tmp_path)
    names = [w["name"] for w in r["weirds"]]
    assert "mh_bad_checksum" in names
    assert "param_problem_mh" in names
    assert r["weirds"][names.index("mh_bad_checksum")]["frame"] == 1


def test_idle_state_is_dropped_and_the_result_kept(tmp_path: Path) -> None:
    """Bounded memory: an MN idle longer than `idle_ns` loses its working state (flows, histories) but
    not its handovers; an echo flow idle longer than `flow_idle_ns` is forgotten."""
    from dissectors import dissect
    from mipsniff.capture import open_capture
    from mipsniff.correlate import Correlator, CorrelatorConfig, Vantage

    c = article()
    c.echo_tunnel(400_000_000, 15, 142_000, COA1)  # one more ping 6.5 minutes later
    path = c.write(tmp_path / "long.pcap")
    small = CorrelatorConfig(vantage=Vantage.MN, idle_ns=60 * 10**9, flow_idle_ns=30 * 10**9,
                             history_ns=30 * 10**9)
    with open_capture(path) as reader:
        frames = [(f.index, f.ts_ns, dissect(f.linktype, f.data), f.data) for f in reader]
    corr = Correlator(small, {HOA})
    for idx, t, pkt, raw in frames[:-2]:  # all but the late ping and its reply
        corr.feed(idx, t, pkt, raw)
    mn = corr._mns[next(iter(corr._mns))]
    assert mn.echo  # the ping flow is tracked while the MN is active
    corr.advance(frames[-2][1])
    assert not mn.echo and mn.ho is None  # dropped after the idle time, handover finalised
    for f in frames[-2:]:
        corr.feed(*f)
    small_result = corr.finish()
    assert small_result.handovers == report_handovers(path)


def report_handovers(path: Path) -> Any:
    from mipsniff.report import analyze as analyze_path

    return analyze_path(path, vantage="mn").correlation.handovers
