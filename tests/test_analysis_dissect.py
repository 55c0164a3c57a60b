"""Packet rows from real dissection: scapy writes the packets (an independent encoder), the capture
reader and dissectors read them back, `packet_row` flattens them into the `Analysis.packets` schema."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from mipsniff.analysis import _read_packet_rows, echoes_frame, packets_frame, stream_frame

HOA, HA, COA, CN = "2001:db8::beef", "2001:db8::", "2001:db8:1::2", "2001:db8:2::1"
T0 = 1700000000.0


def _rtp(seq: int) -> bytes:
    # RFC 3550 §5.1: V=2, PT=0, sequence, timestamp, SSRC, then 20 bytes of payload.
    return bytes([0x80, 0x00]) + seq.to_bytes(2, "big") + (seq * 160).to_bytes(4, "big") + \
        (0x1234).to_bytes(4, "big") + bytes(20)


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    e = Ether(src="00:05:5d:f2:db:2b", dst="00:00:00:00:00:01")
    pkts = [
        e / IPv6(src=HOA, dst=HA) / ICMPv6EchoRequest(id=77, seq=1),
        e / IPv6(src=HA, dst=HOA) / ICMPv6EchoReply(id=77, seq=1),
        e / IPv6(src="fe80::205:5dff:fef2:db2b", dst="ff02::2") / ICMPv6ND_RS(),
        e / IPv6(src="fe80::1", dst="ff02::1") / ICMPv6ND_RA(),
        e / IPv6(src="::", dst="ff02::1:ff00:2") / ICMPv6ND_NS(tgt=COA),
        e / IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
        / MIP6MH_BU(seq=54814, flags="AH", mhtime=65535),
        e / IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA], segleft=1)
        / MIP6MH_BA(status=0, seq=54814, mhtime=65535),
        e / IPv6(src=COA, dst=HA) / IPv6(src=HOA, dst=HA) / ICMPv6EchoRequest(id=77, seq=3),
        e / IPv6(src=HA, dst=COA) / IPv6(src=HA, dst=HOA) / ICMPv6EchoReply(id=77, seq=3),
        e / IPv6(src=CN, dst=HOA) / UDP(sport=5004, dport=5004) / Raw(_rtp(10)),
        e / IPv6(src=CN, dst=HOA) / UDP(sport=5004, dport=5004) / Raw(_rtp(13)),
    ]
    for i, p in enumerate(pkts):
        p.time = T0 + i * 0.5
    path = tmp_path_factory.mktemp("dissect") / "handmade.pcap"
    wrpcap(str(path), pkts)
    return path


def test_rows_from_dissected_packets(capture: Path) -> None:
    p = packets_frame(_read_packet_rows(capture))
    assert p["frame"].tolist() == list(range(1, 12))
    assert p["ts"].tolist() == [T0 + i * 0.5 for i in range(11)]
    assert p["type"].astype(str).tolist() == [
        "echo request", "echo reply", "RS", "RA", "DAD NS", "BU", "BA", "echo request", "echo reply",
        "rtp", "rtp"]
    assert p["kind"].astype(str).tolist()[:7] == ["echo", "echo", "nd", "nd", "nd", "mobility", "mobility"]
    bu, ba = p.iloc[5], p.iloc[6]
    assert (bu["mh_seq"], bu["home_address"], bu["src"], bu["lifetime_s"]) == (54814, HOA, COA, 65535 * 4)
    assert (ba["mh_seq"], ba["ba_status"], ba["routing_home_address"]) == (54814, 0, HOA)
    tun = p.iloc[7]
    assert (tun["src"], tun["inner_src"], tun["tunnel_depth"], tun["echo_seq"]) == (COA, HOA, 1, 3)
    assert p.iloc[4]["nd_target"] == COA
    assert p.loc[p["kind"] == "rtp", "rtp_seq"].tolist() == [10, 13]
    assert p["capture"].unique().tolist() == ["handmade"]
    assert (p["weirds"] == "").all()
    assert p["info"].iloc[5].startswith("BU seq#=54814") and "HoA 2001:db8::beef" in p["info"].iloc[5]
    assert (bu["flags"], bu["care_of_address"], bu["checksum_ok"]) == ("AH", COA, True)
    assert (ba["status_name"], ba["care_of_address"]) == ("ACCEPTED", COA)
    assert str(p["checksum_ok"].dtype) == "boolean" and isinstance(p["flags"].dtype, pd.StringDtype)
    assert p.iloc[7]["info"].startswith("6in6")  # show describes the tunnel; the typed columns the inside


def test_echoes_and_stream_from_dissected_packets(capture: Path) -> None:
    p = packets_frame(_read_packet_rows(capture))
    e = echoes_frame(p)
    # seq 1 at home, seq 3 through the tunnel: both answered (inner addresses match), seq 2 never sent
    assert e["seq"].tolist() == [1, 2, 3]
    assert e["fate"].astype(str).tolist() == ["answered", "unsent", "answered"]
    assert e["rtt_ms"].iloc[0] == pytest.approx(500.0)
    s = stream_frame(p)
    assert s["seq"].tolist() == [10, 13] and s["missing_before"].tolist() == [0, 2]
