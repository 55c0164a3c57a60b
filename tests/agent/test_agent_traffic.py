"""Traffic generators and the correspondent host (RFC 4443 echo, UDP stream, RTP per RFC 3550 §5.1)."""

from __future__ import annotations

import random
import struct
from ipaddress import IPv6Address, IPv6Interface

from mipsniff.agent import packets as pk
from mipsniff.agent.api import (
    NS_PER_MS,
    AppSend,
    Deliver,
    Dropped,
    GroundTruth,
    GtKind,
    Received,
    Send,
    Timer,
)
from mipsniff.agent.config import FlowConfig, HostConfig, InterfaceConfig
from mipsniff.agent.traffic import Host, Ping, RtpStream, Sink, UdpStream, classify

A = IPv6Address("2001:db8:5::5")
B = IPv6Address("2001:db8::beef")


def drive(gen: Ping | UdpStream | RtpStream, until_ns: int) -> list[tuple[int, AppSend]]:
    out = []
    while (d := gen.next_deadline()) is not None and d <= until_ns:
        out += [(d, a) for a in gen.handle(Timer(), d) if isinstance(a, AppSend)]
    return out


def test_ping_every_second_from_seq_1() -> None:
    g = Ping(FlowConfig(flow="ping", src=B, dst=A, start_ms=500), random.Random(1))
    sent = drive(g, 5_600 * NS_PER_MS)
    assert [t for t, _ in sent] == [(500 + 1000 * i) * NS_PER_MS for i in range(6)]
    assert [a.seq for _, a in sent] == [1, 2, 3, 4, 5, 6]
    p = pk.parse(sent[0][1].packet)
    assert p is not None and p.kind == pk.Kind.ECHO_REQUEST and p.src == B and p.dst == A and len(p.payload) == 56


def test_ping_records_rtt_and_hop_limit_of_replies() -> None:
    g = Ping(FlowConfig(flow="ping", src=B, dst=A), random.Random(1))
    drive(g, 0)
    reply = pk.build_echo(A, B, ident=0x1234, seq=1, data=b"", reply=True, hlim=63)
    out = g.handle(Deliver(packet=reply), 142 * NS_PER_MS)
    (gt,) = [a for a in out if isinstance(a, GroundTruth)]
    assert gt.kind == GtKind.DATA_RECEIVED and gt.fields["rtt_ns"] == 142 * NS_PER_MS and gt.fields["hop_limit"] == 63
    assert g.rtt_ns == {1: 142 * NS_PER_MS}
    other = pk.build_echo(A, B, ident=0x9999, seq=1, data=b"", reply=True)
    assert g.handle(Deliver(packet=other), 150 * NS_PER_MS) == []


def test_count_and_stop_end_the_flow() -> None:
    g = Ping(FlowConfig(flow="p", src=B, dst=A, count=3), random.Random(1))
    assert len(drive(g, 10**12)) == 3 and g.next_deadline() is None
    u = UdpStream(FlowConfig(flow="u", src=B, dst=A, interval_ms=100, stop_ms=1000), random.Random(1))
    assert len(drive(u, 10**12)) == 10


def test_rtp_stream_every_20_ms_with_rtp_header() -> None:
    g = RtpStream(FlowConfig(flow="video", src=A, dst=B, interval_ms=20, payload_size=160), random.Random(1))
    sent = drive(g, 100 * NS_PER_MS)
    assert [t for t, _ in sent] == [i * 20 * NS_PER_MS for i in range(6)]
    p = pk.parse(sent[2][1].packet)
    assert p is not None and p.kind == pk.Kind.UDP
    v, pt, seq, ts = struct.unpack("!BBHI", p.payload[:8])
    assert v == 0x80 and pt == 96 and seq == 2 and ts == 2 * 20 * 90
    d = classify(sent[2][1].packet)
    assert d is not None and d.key == g.key and d.seq == 2


def test_sink_records_its_flow_only_and_unwraps_rtp_seq() -> None:
    cfg = FlowConfig(flow="video", src=A, dst=B, interval_ms=20)
    g = RtpStream(cfg, random.Random(1))
    sink = Sink(cfg, random.Random(1), kind="rtp")
    for seq in (65534, 65535, 65536, 65537):
        sink.handle(Deliver(packet=g.build(seq, 0)), seq)
    assert sorted(sink.received) == [65534, 65535, 65536, 65537]
    other = UdpStream(FlowConfig(flow="x", src=A, dst=B), random.Random(1))
    assert sink.handle(Deliver(packet=other.build(1, 0)), 0) == []


def test_udp_stream_payload_names_the_flow() -> None:
    g = UdpStream(FlowConfig(flow="uplink", src=B, dst=A, payload_size=64), random.Random(1))
    (_, a), = drive(g, 0)
    d = classify(a.packet)
    assert d is not None and d.key == "udp:uplink" and d.seq == 0


def make_host() -> Host:
    return Host(HostConfig(interface=InterfaceConfig(name="eth0", mac="02:00:00:00:05:05",
                                                     addresses=(IPv6Interface("2001:db8:5::5/64"),)),
                           default_router=IPv6Address("2001:db8:5::1")), random.Random(1))


def test_host_routes_app_packets_via_its_default_router() -> None:
    h = make_host()
    pkt = pk.build_echo(A, B, ident=1, seq=1, data=b"", reply=False)
    out = h.handle(AppSend(packet=pkt, flow="f", seq=1), 0)
    (s,) = [a for a in out if isinstance(a, Send)]
    assert s.next_hop == IPv6Address("2001:db8:5::1") and s.packet == pkt
    assert any(isinstance(a, GroundTruth) and a.kind == GtKind.DATA_SENT for a in out)


def test_host_answers_echo_and_delivers() -> None:
    h = make_host()
    req = pk.build_echo(B, A, ident=7, seq=3, data=b"abc", reply=False)
    out = h.handle(Received(iface="eth0", packet=req), 0)
    assert any(isinstance(a, Deliver) for a in out)
    (s,) = [a for a in out if isinstance(a, Send)]
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.ECHO_REPLY and p.dst == B and p.payload == b"abc"


def test_host_ignores_packets_for_others() -> None:
    h = make_host()
    req = pk.build_echo(B, IPv6Address("2001:db8:5::9"), ident=7, seq=3, data=b"", reply=False)
    out = h.handle(Received(iface="eth0", packet=req), 0)
    assert [a.reason for a in out if isinstance(a, Dropped)] == ["not_for_me"]


def test_host_answers_ns_and_is_silent_with_its_link_down() -> None:
    from mipsniff.agent.api import LinkDown, LinkUp

    h = make_host()
    lla = pk.link_local("02:00:00:00:05:01")
    ns = pk.build_ns(lla, pk.solicited_node(A), A, "02:00:00:00:05:01")
    (s,) = [a for a in h.handle(Received(iface="eth0", packet=ns), 0) if isinstance(a, Send)]
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.NA and p.target == A and not p.na_router
    h.handle(LinkDown(iface="eth0"), 1)
    out = h.handle(AppSend(packet=pk.build_echo(A, B, ident=1, seq=1, data=b"", reply=False), flow="f", seq=1), 2)
    assert [a.reason for a in out if isinstance(a, Dropped)] == ["link_down"]
    assert [g.fields["reason"] for g in out if isinstance(g, GroundTruth) and g.kind == GtKind.DATA_UNSENT] == [
        "link_down"]
    h.handle(LinkUp(iface="eth0"), 3)
    assert any(isinstance(a, Send) for a in h.handle(AppSend(packet=pk.build_echo(A, B, ident=1, seq=2, data=b"",
                                                                                  reply=False)), 4))


# --- correspondent node (route optimisation, RFC 6275 §9.4-§9.5) ---

HOA = B
COA = IPv6Address("2001:db8:1::10")


def make_cn() -> Host:
    return Host(HostConfig(interface=InterfaceConfig(name="eth0", mac="02:00:00:00:05:05",
                                                     addresses=(IPv6Interface("2001:db8:5::5/64"),)),
                           default_router=IPv6Address("2001:db8:5::1"), route_optimization=True), random.Random(1))


def _tokens(cn: Host) -> tuple[bytes, bytes, int]:
    hot = [pk.parse(a.packet) for a in cn.handle(Received(iface="eth0", packet=pk.build_test_init(
        HOA, A, cookie=b"h" * 8, home=True)), 0) if isinstance(a, Send)][0]
    cot = [pk.parse(a.packet) for a in cn.handle(Received(iface="eth0", packet=pk.build_test_init(
        COA, A, cookie=b"c" * 8, home=False)), 0) if isinstance(a, Send)][0]
    assert hot is not None and hot.kind == pk.Kind.HOT and hot.dst == HOA and hot.cookie == b"h" * 8
    assert cot is not None and cot.kind == pk.Kind.COT and cot.dst == COA and cot.cookie == b"c" * 8
    return hot.token, cot.token, hot.nonce_index


def _cn_bu(kbm: bytes, seq: int, index: int, lifetime: int = 420, ack: bool = False) -> Received:
    return Received(iface="eth0", packet=pk.build_bu_to_cn(COA, A, home_address=HOA, seq=seq, lifetime_s=lifetime,
                                                           home_nonce_index=index, careof_nonce_index=index,
                                                           kbm=kbm, ack=ack))


def test_cn_accepts_an_authorised_bu_and_routes_with_rh2() -> None:
    import hashlib

    cn = make_cn()
    home_tok, coa_tok, idx = _tokens(cn)
    kbm = hashlib.sha1(home_tok + coa_tok).digest()  # §5.2.5, computed independently here
    out = cn.handle(_cn_bu(kbm, 10, idx, ack=True), 1)
    assert cn.binding_cache[HOA].care_of_address == COA and cn.binding_cache[HOA].lifetime_s == 420
    (ba,) = [pk.parse(a.packet) for a in out if isinstance(a, Send)]
    assert ba is not None and ba.kind == pk.Kind.BA and ba.status == 0 and ba.rh2 == HOA
    # A packet for the HoA now leaves to the CoA with a type 2 routing header.
    req = pk.insert_hao(pk.build_echo(HOA, A, ident=3, seq=1, data=b"x", reply=False), COA)
    (s,) = [a for a in cn.handle(Received(iface="eth0", packet=req), 2) if isinstance(a, Send)]
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.ECHO_REPLY and p.dst == COA and p.rh2 == HOA
    # Stale sequence number: 135 with the last accepted one.
    (ba,) = [pk.parse(a.packet) for a in cn.handle(_cn_bu(kbm, 10, idx), 3) if isinstance(a, Send)]
    assert ba is not None and ba.status == 135 and ba.seq == 10
    # The binding expires after its lifetime and is never seen expired.
    cn.handle(Received(iface="eth0", packet=b"junk"), 1 + 420 * 10**9)
    assert HOA not in cn.binding_cache


def test_cn_rejects_a_bad_authenticator() -> None:
    cn = make_cn()
    _, _, idx = _tokens(cn)
    out = cn.handle(_cn_bu(b"\x00" * 20, 1, idx), 1)
    assert [a.reason for a in out if isinstance(a, Dropped)] == ["bu_bad_authenticator"]
    assert not cn.binding_cache


def test_cn_answers_hao_without_binding_with_binding_error() -> None:
    cn = make_cn()
    req = pk.insert_hao(pk.build_echo(HOA, A, ident=3, seq=1, data=b"x", reply=False), COA)
    out = cn.handle(Received(iface="eth0", packet=req), 0)
    (s,) = [a for a in out if isinstance(a, Send)]
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.BE and p.status == 1 and p.dst == COA and p.be_home_address == HOA


def test_cn_without_route_optimisation_ignores_rr() -> None:
    h = make_host()
    out = h.handle(Received(iface="eth0", packet=pk.build_test_init(HOA, A, cookie=b"h" * 8, home=True)), 0)
    assert not any(isinstance(a, Send) for a in out)
