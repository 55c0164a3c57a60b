"""Access router: RA schedule and contents, solicited RAs, forwarding, NS answers (RFC 4861 §6, RFC 6275 §7)."""

from __future__ import annotations

import random
from ipaddress import IPv6Address, IPv6Interface, IPv6Network

from mipsniff.agent import packets as pk
from mipsniff.agent.api import NS_PER_MS, Dropped, GroundTruth, Received, Send, Timer
from mipsniff.agent.config import InterfaceConfig, PrefixConfig, RaConfig, Route, RouterConfig
from mipsniff.agent.router import Router

MAC_MN = "00:05:5d:f2:db:2b"
REMOTE = IPv6Network("2001:db8:1::/64")


def make_router(**ra: object) -> Router:
    cfg = RaConfig(prefixes=(PrefixConfig(prefix=REMOTE),), **ra)  # type: ignore[arg-type]
    return Router(RouterConfig(
        interfaces=(InterfaceConfig(name="eth0", mac="02:00:00:00:01:01",
                                    addresses=(IPv6Interface("2001:db8:1::1/64"),), ra=cfg),
                    InterfaceConfig(name="eth1", mac="02:00:00:00:01:02", addresses=(IPv6Interface("2001:db8:ff::2/64"),))),
        routes=(Route(prefix=IPv6Network("::/0"), iface="eth1", next_hop=IPv6Address("2001:db8:ff::1")),)),
        random.Random(7))


def sends(actions: list[object]) -> list[Send]:
    return [a for a in actions if isinstance(a, Send)]


def test_periodic_ras_are_uniform_in_min_max() -> None:
    r = make_router(min_interval_ms=1000, max_interval_ms=3000)
    assert r.next_deadline() == 0
    times = []
    now = 0
    for _ in range(200):
        d = r.next_deadline()
        assert d is not None
        now = d
        out = r.handle(Timer(), now)
        assert len(sends(out)) == 1
        times.append(now)
    gaps = [(b - a) / NS_PER_MS for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 1000 and max(gaps) <= 3000
    assert min(gaps) < 1200 and max(gaps) > 2800  # spread over the whole interval


def test_ra_carries_the_advertisement_interval_and_prefix() -> None:
    r = make_router(min_interval_ms=30, max_interval_ms=70)
    (s,) = sends(r.handle(Timer(), 0))
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.RA and p.dst == pk.ALL_NODES
    assert p.adv_interval_ms == 90  # 70 ms + radvd's 20 ms leeway
    assert p.prefixes[0].prefix == REMOTE and not p.ra_home_agent
    assert p.src == pk.link_local("02:00:00:00:01:01")


def test_rs_gets_an_immediate_unicast_ra() -> None:
    r = make_router()
    r.handle(Timer(), 0)
    lla = pk.link_local(MAC_MN)
    out = r.handle(Received(iface="eth0", packet=pk.build_rs(lla, MAC_MN)), 5 * NS_PER_MS)
    (s,) = sends(out)
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.RA and p.dst == lla and s.next_hop == lla
    assert any(isinstance(a, GroundTruth) and a.fields["solicited"] for a in out)


def test_rs_from_unspecified_gets_a_delayed_multicast_ra() -> None:
    r = make_router(min_interval_ms=100_000, max_interval_ms=200_000)
    r.handle(Timer(), 0)
    assert sends(r.handle(Received(iface="eth0", packet=pk.build_rs(pk.UNSPECIFIED, None)), 10)) == []
    d = r.next_deadline()
    assert d is not None and 10 <= d <= 10 + 500 * NS_PER_MS
    (s,) = sends(r.handle(Timer(), d))
    assert pk.parse(s.packet).dst == pk.ALL_NODES  # type: ignore[union-attr]


def test_rs_with_wrong_hop_limit_is_dropped() -> None:
    r = make_router()
    rs = pk.with_hop_limit(pk.build_rs(pk.link_local(MAC_MN), MAC_MN), 64)
    out = r.handle(Received(iface="eth0", packet=rs), 0)
    assert [a.reason for a in out if isinstance(a, Dropped)] == ["malformed"]


def test_forwarding_decrements_the_hop_limit() -> None:
    r = make_router()
    pkt = pk.build_echo(IPv6Address("2001:db8:1::5"), IPv6Address("2001:db8::1"), ident=1, seq=1, data=b"", reply=False)
    (s,) = sends(r.handle(Received(iface="eth0", packet=pkt), 0))
    assert s.iface == "eth1" and s.next_hop == IPv6Address("2001:db8:ff::1") and s.packet[7] == 63
    expired = pk.with_hop_limit(pkt, 1)
    assert [a.reason for a in r.handle(Received(iface="eth0", packet=expired), 0)
            if isinstance(a, Dropped)] == ["hop_limit_exceeded"]


def test_ns_for_own_address_is_answered_and_dad_probe_defended() -> None:
    r = make_router()
    me = IPv6Address("2001:db8:1::1")
    lla = pk.link_local(MAC_MN)
    (s,) = sends(r.handle(Received(iface="eth0", packet=pk.build_ns(lla, pk.solicited_node(me), me, MAC_MN)), 0))
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.NA and p.na_router and p.na_solicited and p.dst == lla
    (s,) = sends(r.handle(Received(iface="eth0", packet=pk.build_ns(pk.UNSPECIFIED, pk.solicited_node(me), me,
                                                                     None)), 0))
    p = pk.parse(s.packet)
    assert p is not None and p.dst == pk.ALL_NODES and not p.na_solicited
    other = IPv6Address("2001:db8:1::99")
    assert sends(r.handle(Received(iface="eth0", packet=pk.build_ns(lla, pk.solicited_node(other), other,
                                                                     MAC_MN)), 0)) == []


def test_echo_to_router_is_answered() -> None:
    r = make_router()
    req = pk.build_echo(IPv6Address("2001:db8:1::5"), IPv6Address("2001:db8:1::1"), ident=9, seq=3, data=b"x",
                        reply=False)
    (s,) = sends(r.handle(Received(iface="eth0", packet=req), 0))
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.ECHO_REPLY and p.ident == 9 and p.echo_seq == 3


def test_malformed_input_is_dropped_not_raised() -> None:
    r = make_router()
    for junk in (b"", b"\x60" + bytes(10), bytes(range(60))):
        out = r.handle(Received(iface="eth0", packet=junk), 0)
        assert all(isinstance(a, Dropped) for a in out)


def test_no_ras_on_a_down_interface() -> None:
    from mipsniff.agent.api import LinkDown, LinkUp

    r = make_router(min_interval_ms=1000, max_interval_ms=1000)
    r.handle(Timer(), 0)
    r.handle(LinkDown(iface="eth0"), 1)
    assert r.next_deadline() is None
    assert sends(r.handle(Timer(), 5 * 10**9)) == []
    r.handle(LinkUp(iface="eth0"), 6 * 10**9)
    d = r.next_deadline()
    assert d == 6 * 10**9
    assert len(sends(r.handle(Timer(), d))) == 1
