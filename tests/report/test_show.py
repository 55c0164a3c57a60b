"""`mipsniff show` renderers: records and lines for each kind of packet, built with scapy (our encoder
is independent of the dissectors, STYLE §7)."""

from __future__ import annotations

import json

from scapy.layers.dot11 import Dot11, Dot11AssoReq, Dot11Elt, RadioTap
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    ICMPv6EchoRequest,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6NDOptAdvInterval,
    ICMPv6NDOptHAInfo,
    ICMPv6NDOptPrefixInfo,
    ICMPv6ParamProblem,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import Ether

from dissectors import dissect
from mipsniff.capture.frame import Frame
from mipsniff.report.show import packet_line, packet_record, show_records

HOA, HA, COA = "2001:db8::beef", "2001:db8::", "2001:db8:1:0:205:5dff:fef2:db2b"
T0 = 1_700_000_000_000_000_000


def record(pkt: object, linktype: int = 1, index: int = 12, ts_ns: int = T0 + 123_000) -> dict:
    rec = packet_record(index, ts_ns, dissect(linktype, bytes(pkt)))  # type: ignore[call-overload]
    json.dumps(rec)  # every record must be JSON-serialisable
    return rec


def bu() -> bytes:
    return bytes(Ether(src="00:05:5d:f2:db:2b", dst="00:11:22:33:44:55") / IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
                 / MIP6MH_BU(seq=54814, flags="AH", mhtime=65535))


def test_binding_update_record_and_line() -> None:
    rec = record(bu())
    assert rec["frame"] == 12 and rec["ts"] == 1_700_000_000.000123
    assert (rec["src"], rec["dst"]) == (COA, HA)
    assert (rec["kind"], rec["type"], rec["mh_type"]) == ("mh", "BU", 5)
    assert rec["seq"] == 54814 and rec["flags"] == "AH" and rec["lifetime_s"] == 262140
    assert rec["home_address"] == HOA and rec["care_of_address"] == COA
    assert rec["weirds"] == [] and rec["options"] == []
    line = packet_line(rec, T0, T0 + 123_000)
    assert line == (f"12  0.000123  {COA} > {HA}  BU seq#=54814 AH lifetime=262140 HoA {HOA} CoA {COA}")


def test_binding_ack_with_rh2_and_rejection_status() -> None:
    pkt = (Ether(src="00:05:5d:f2:db:2b", dst="00:11:22:33:44:55") / IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[HOA])
           / MIP6MH_BA(status=135, flags=0, seq=54815, mhtime=0))
    rec = record(pkt)
    assert (rec["type"], rec["status"], rec["status_name"]) == ("BA", 135, "SEQUENCE_OUT_OF_WINDOW")
    assert rec["seq"] == 54815 and rec["flags"] == "" and rec["lifetime_s"] == 0
    assert rec["home_address"] == HOA and rec["care_of_address"] == COA
    assert "BA status=135 (SEQUENCE_OUT_OF_WINDOW) seq#=54815 lifetime=0 HoA 2001:db8::beef" in packet_line(rec)


def test_router_advertisement_with_mobile_ipv6_options() -> None:
    pkt = (Ether(src="00:05:5d:f2:db:2b", dst="00:11:22:33:44:55") / IPv6(src="fe80::1", dst="ff02::1") / ICMPv6ND_RA(H=1, routerlifetime=1800)
           / ICMPv6NDOptAdvInterval(advint=1070) / ICMPv6NDOptHAInfo(pref=10, lifetime=1800)
           / ICMPv6NDOptPrefixInfo(prefixlen=64, prefix="2001:db8:1::", R=1))
    rec = record(pkt)
    assert (rec["kind"], rec["type"], rec["flags"], rec["lifetime_s"]) == ("nd", "RA", "H", 1800)
    names = [o["name"] for o in rec["options"]]
    assert names == ["AdvertisementInterval", "HomeAgentInformation", "PrefixInformation"]
    assert rec["options"][0]["interval_ms"] == 1070 and rec["options"][0]["type"] == 7
    assert rec["options"][2]["flags"] == "LAR" and rec["options"][2]["prefix"] == "2001:db8:1::"
    line = packet_line(rec)
    assert "RA [H] lifetime=1800s" in line and "advint=1070ms" in line and "prefix 2001:db8:1::/64 [LAR]" in line


def test_dad_neighbor_solicitation() -> None:
    rec = record(Ether(src="00:05:5d:f2:db:2b", dst="00:11:22:33:44:55") / IPv6(src="::", dst="ff02::1:fff2:db2b") / ICMPv6ND_NS(tgt=COA))
    assert (rec["kind"], rec["type"], rec["dad"], rec["target"]) == ("nd", "NS", True, COA)
    assert packet_line(rec).endswith(f"NS DAD {COA}")


def test_tunnelled_echo_has_inner_record() -> None:
    pkt = (Ether(src="00:05:5d:f2:db:2b", dst="00:11:22:33:44:55") / IPv6(src=HA, dst=COA) / IPv6(src="2001:db8:ffff::10", dst=HOA)
           / ICMPv6EchoRequest(id=0x1234, seq=7))
    rec = record(pkt)
    assert (rec["kind"], rec["type"]) == ("tunnel", "6in6")
    inner = rec["inner"]
    assert (inner["src"], inner["dst"], inner["kind"], inner["type"], inner["id"], inner["seq"]) == (
        "2001:db8:ffff::10", HOA, "echo", "EchoRequest", 0x1234, 7)
    assert "6in6 [2001:db8:ffff::10 > 2001:db8::beef  EchoRequest id=0x1234 seq=7]" in packet_line(rec)


def test_parameter_problem_about_home_address_option() -> None:
    invoking = bu()[14:]  # the HAO sits at offset 46: 40 (IPv6) + 2 (header) + 4 (PadN to 8n+6)
    pkt = Ether(src="00:05:5d:f2:db:2b", dst="00:11:22:33:44:55") / IPv6(src=HA, dst=COA) / ICMPv6ParamProblem(code=2, ptr=46) / invoking
    rec = record(pkt)
    assert (rec["kind"], rec["type"], rec["code"], rec["pointer"]) == ("icmp6_error", "ParamProblem", 2, 46)
    assert rec["pointer_target"] == "home_address_option"
    assert rec["invoking"]["type"] == "BU" and rec["invoking"]["home_address"] == HOA


def test_l2_association_request() -> None:
    pkt = (RadioTap() / Dot11(type=0, subtype=0, addr1="00:11:22:33:44:55", addr2="66:77:88:99:aa:bb",
                              addr3="00:11:22:33:44:55")
           / Dot11AssoReq(cap=0x1104, listen_interval=10) / Dot11Elt(ID=0, info=b"mipnet"))
    rec = record(pkt, linktype=127)
    assert (rec["kind"], rec["type"], rec["ssid"], rec["bssid"]) == (
        "l2", "assoc_req", "mipnet", "00:11:22:33:44:55")
    assert 'assoc_req SSID "mipnet" BSSID 00:11:22:33:44:55' in packet_line(rec)


def test_weirds_are_listed_in_record_and_line() -> None:
    data = bytearray(bu())
    data[-1] ^= 0xFF  # break the Mobility Header checksum
    rec = record(bytes(data))
    assert any(w["name"].startswith("mh_") for w in rec["weirds"])
    assert "[weird: " in packet_line(rec)


def test_show_records_turns_bugs_into_internal_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import mipsniff.report.show as show

    def boom(linktype: int, data: bytes) -> None:
        raise ValueError("bug")

    monkeypatch.setattr(show, "dissect", boom)
    frames = [Frame(index=1, ts_ns=T0, linktype=1, data=b"x", comment="note")]
    ((frame, rec),) = list(show_records(frames))
    assert rec["weirds"][0]["name"] == "internal_error" and rec["comment"] == "note"
    try:
        list(show_records(frames, strict=True))
    except ValueError:
        pass
    else:
        raise AssertionError("strict must re-raise")


def test_frames_without_ip_name_their_link_payload() -> None:
    from scapy.layers.l2 import ARP

    rec = record(Ether(src="00:05:5d:f2:db:2b", dst="ff:ff:ff:ff:ff:ff") / ARP())
    assert (rec["src"], rec["dst"], rec["kind"], rec["type"]) == (
        "00:05:5d:f2:db:2b", "ff:ff:ff:ff:ff:ff", "other", "ethertype-0x0806")
    assert packet_line(rec).endswith("00:05:5d:f2:db:2b > ff:ff:ff:ff:ff:ff  ethertype-0x0806")
