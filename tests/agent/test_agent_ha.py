"""Home agent: the binding cache transition table and its RFC 6275 §9.5/§10 corner cases."""

from __future__ import annotations

import random
from ipaddress import IPv6Address, IPv6Interface, IPv6Network

from mipsniff.agent import packets as pk
from mipsniff.agent.api import (
    NS_PER_MS,
    NS_PER_S,
    Action,
    BindingState,
    Dropped,
    GroundTruth,
    GtKind,
    Received,
    Send,
    Timer,
)
from mipsniff.agent.config import HaConfig, InterfaceConfig, PrefixConfig, RaConfig, Route, RouterConfig
from mipsniff.agent.ha import HomeAgent

HOME = IPv6Network("2001:db8::/64")
HA = IPv6Address("2001:db8::")
HOA = IPv6Address("2001:db8::beef")
COA = IPv6Address("2001:db8:1:0:205:5dff:fef2:db2b")
COA2 = IPv6Address("2001:db8:2:0:205:5dff:fef2:db2b")


def make_ha(**kw: object) -> HomeAgent:
    ra = RaConfig(prefixes=(PrefixConfig(prefix=HOME),), home_agent_flag=True, home_agent_info=True,
                  initial_delay_ms=10**9)  # keep RAs out of these tests
    cfg = HaConfig(router=RouterConfig(
        interfaces=(InterfaceConfig(name="eth0", mac="02:00:00:00:00:01", addresses=(IPv6Interface("2001:db8::/64"),),
                                    ra=ra),
                    InterfaceConfig(name="eth1", mac="02:00:00:00:00:02", addresses=(IPv6Interface("2001:db8:ff::1/64"),))),
        routes=(Route(prefix=IPv6Network("2001:db8::/32"), iface="eth1", next_hop=IPv6Address("2001:db8:ff::2")),)),
        home_iface="eth0", address=HA, home_prefix=HOME, **kw)  # type: ignore[arg-type]
    return HomeAgent(cfg, random.Random(3))


def bu(seq: int, lifetime: int = 262140, coa: IPv6Address = COA, hoa: IPv6Address = HOA) -> Received:
    return Received(iface="eth1", packet=pk.build_bu(coa, HA, home_address=hoa, seq=seq, lifetime_s=lifetime))


def bas(actions: list[Action]) -> list[pk.Parsed]:
    out = []
    for a in actions:
        if isinstance(a, Send):
            p = pk.parse(a.packet)
            if p is not None and p.kind == pk.Kind.BA:
                out.append(p)
    return out


def register(ha: HomeAgent, seq: int = 100, t: int = 0) -> int:
    ha.handle(bu(seq), t)
    t2 = ha.next_deadline()
    assert t2 is not None
    ha.handle(Timer(), t2)
    return t2


def test_first_registration_runs_dad_then_acks_with_rh2() -> None:
    ha = make_ha()
    out = ha.handle(bu(54814), 0)
    assert bas(out) == []  # the BA waits for DAD on the home address
    ns = [pk.parse(a.packet) for a in out if isinstance(a, Send)]
    assert ns and ns[0] is not None and ns[0].kind == pk.Kind.NS and ns[0].target == HOA and ns[0].src == pk.UNSPECIFIED
    assert ha.binding_cache[HOA].state == BindingState.DAD
    assert ha.next_deadline() == 1000 * NS_PER_MS
    assert "lifetime - / 262140" in ha.render_bc(0)
    out = ha.handle(Timer(), 1000 * NS_PER_MS)
    (ba,) = bas(out)
    assert ba.status == 0 and ba.seq == 54814 and ba.lifetime_s == 262140
    assert ba.dst == COA and ba.rh2 == HOA and ba.src == HA and ba.mh_checksum_ok
    assert ha.binding_cache[HOA].state == BindingState.REGISTERED


def test_bu_during_dad_is_ignored() -> None:
    ha = make_ha()
    ha.handle(bu(10), 0)
    out = ha.handle(bu(11), 500 * NS_PER_MS)
    assert bas(out) == [] and any(isinstance(a, Dropped) and a.reason == "bu_during_dad" for a in out)


def test_dad_failure_gives_134() -> None:
    ha = make_ha()
    ha.handle(bu(10), 0)
    na = pk.build_na(HOA, pk.ALL_NODES, HOA, "00:11:22:33:44:55", router=False, solicited=False, override=True)
    out = ha.handle(Received(iface="eth0", packet=na), 100)
    (ba,) = bas(out)
    assert ba.status == 134 and HOA not in ha.binding_cache


def test_without_dad_the_ba_is_immediate() -> None:
    ha = make_ha(dad_on_first_registration=False)
    (ba,) = bas(ha.handle(bu(5), 0))
    assert ba.status == 0


def test_not_home_subnet_132() -> None:
    ha = make_ha()
    (ba,) = bas(ha.handle(bu(1, hoa=IPv6Address("2001:db8:9::1")), 0))
    assert ba.status == 132 and not ha.binding_cache


def test_not_home_agent_for_this_mn_133() -> None:
    ha = make_ha(served_home_addresses=frozenset({IPv6Address("2001:db8::1")}))
    (ba,) = bas(ha.handle(bu(1), 0))
    assert ba.status == 133 and not ha.binding_cache


def test_seq_out_of_window_135_carries_last_accepted() -> None:
    ha = make_ha()
    t = register(ha, seq=500)
    for stale in (500, 499, 500 - 0x7FFF):
        (ba,) = bas(ha.handle(bu(stale, coa=COA2), t + 1))
        assert ba.status == 135 and ba.seq == 500
    assert ha.binding_cache[HOA].care_of_address == COA
    (ba,) = bas(ha.handle(bu(501, coa=COA2), t + 2))
    assert ba.status == 0 and ha.binding_cache[HOA].care_of_address == COA2


def test_seq_wraps_modulo_2_16() -> None:
    ha = make_ha()
    t = register(ha, seq=0xFFFF)
    (ba,) = bas(ha.handle(bu(0), t + 1))
    assert ba.status == 0 and ha.binding_cache[HOA].seq == 0


def test_deregistration_from_home_removes_binding() -> None:
    ha = make_ha()
    t = register(ha, seq=7)
    dereg = Received(iface="eth0", packet=pk.build_bu(HOA, HA, home_address=HOA, seq=8, lifetime_s=0))
    out = ha.handle(dereg, t + 1)
    (ba,) = bas(out)
    assert ba.status == 0 and ba.lifetime_s == 0 and ba.dst == HOA and ba.rh2 is None
    assert HOA not in ha.binding_cache
    assert any(isinstance(a, GroundTruth) and a.kind == GtKind.BINDING_REMOVED and a.fields["reason"] == "dereg"
               for a in out)


def test_deregistration_with_lifetime_zero_from_coa() -> None:
    ha = make_ha()
    t = register(ha, seq=7)
    (ba,) = bas(ha.handle(bu(8, lifetime=0), t + 1))
    assert ba.status == 0 and ba.rh2 == HOA and HOA not in ha.binding_cache


def test_deregistration_without_binding_is_133() -> None:
    ha = make_ha()
    (ba,) = bas(ha.handle(bu(8, lifetime=0), 0))
    assert ba.status == 133


def test_binding_expires_and_is_never_seen_expired() -> None:
    ha = make_ha()
    t = register(ha, seq=1)
    (ba,) = bas(ha.handle(bu(2, lifetime=8), t + 1))
    assert ba.lifetime_s == 8
    exp = ha.next_deadline()
    assert exp == t + 1 + 8 * NS_PER_S
    out = ha.handle(Timer(), exp)
    assert HOA not in ha.binding_cache
    assert any(isinstance(a, GroundTruth) and a.kind == GtKind.BINDING_REMOVED and a.fields["reason"] == "expired"
               for a in out)


def test_expired_binding_is_purged_even_if_the_timer_is_late() -> None:
    ha = make_ha()
    t = register(ha, seq=1)
    ha.handle(bu(2, lifetime=8), t + 1)
    ha.handle(Received(iface="eth1", packet=b"junk"), t + 100 * NS_PER_S)  # any event, long after
    assert HOA not in ha.binding_cache


def test_lifetime_is_capped_by_policy() -> None:
    ha = make_ha(max_binding_life_s=3600, dad_on_first_registration=False)
    (ba,) = bas(ha.handle(bu(1, lifetime=262140), 0))
    assert ba.lifetime_s == 3600


def test_bad_checksum_is_silently_discarded() -> None:
    ha = make_ha()
    b = bytearray(pk.build_bu(COA, HA, home_address=HOA, seq=1, lifetime_s=60))
    b[-1] ^= 1
    out = ha.handle(Received(iface="eth1", packet=bytes(b)), 0)
    assert bas(out) == [] and [a.reason for a in out if isinstance(a, Dropped)] == ["bad_checksum"]


def test_packets_to_a_registered_hoa_are_tunnelled_to_the_coa() -> None:
    ha = make_ha()
    t = register(ha)
    cn = IPv6Address("2001:db8:5::5")
    pkt = pk.build_echo(cn, HOA, ident=1, seq=1, data=b"x", reply=False)
    (s,) = [a for a in ha.handle(Received(iface="eth1", packet=pkt), t + 1) if isinstance(a, Send)]
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.TUNNEL and p.src == HA and p.dst == COA
    assert p.inner[7] == 63 and pk.with_hop_limit(p.inner, 64) == pkt


def test_ha_answers_echo_through_the_tunnel_with_hop_limit_63() -> None:
    ha = make_ha()
    t = register(ha)
    req = pk.encapsulate(COA, HA, pk.build_echo(HOA, HA, ident=1, seq=9, data=b"x", reply=False))
    (s,) = [a for a in ha.handle(Received(iface="eth1", packet=req), t + 1) if isinstance(a, Send)]
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.TUNNEL and p.dst == COA
    inner = pk.parse(p.inner)
    assert inner is not None and inner.kind == pk.Kind.ECHO_REPLY and inner.hlim == 63 and inner.dst == HOA


def test_reverse_tunnel_from_unregistered_coa_is_dropped() -> None:
    ha = make_ha()
    t = register(ha)
    req = pk.encapsulate(COA2, HA, pk.build_echo(HOA, HA, ident=1, seq=9, data=b"x", reply=False))
    out = ha.handle(Received(iface="eth1", packet=req), t + 1)
    assert [a.reason for a in out if isinstance(a, Dropped)] == ["tunnel_no_binding"]


def test_proxy_nd_for_registered_home_address() -> None:
    ha = make_ha()
    router_lla = pk.link_local("02:00:00:00:00:09")
    ns = pk.build_ns(router_lla, pk.solicited_node(HOA), HOA, "02:00:00:00:00:09")
    assert [a for a in ha.handle(Received(iface="eth0", packet=ns), 0) if isinstance(a, Send)] == []
    t = register(ha)
    (s,) = [a for a in ha.handle(Received(iface="eth0", packet=ns), t + 1) if isinstance(a, Send)]
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.NA and p.target == HOA and p.lladdr == "02:00:00:00:00:01"


def test_hao_without_binding_gets_binding_error() -> None:
    ha = make_ha()
    from scapy.layers.inet6 import HAO, ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt

    pkt = bytes(IPv6(src=str(COA), dst=str(HA)) / IPv6ExtHdrDestOpt(options=[HAO(hoa=str(HOA))]) /
                ICMPv6EchoRequest(id=1, seq=1))
    out = ha.handle(Received(iface="eth1", packet=pkt), 0)
    sent = [pk.parse(a.packet) for a in out if isinstance(a, Send)]
    assert len(sent) == 1 and sent[0] is not None and sent[0].kind == pk.Kind.BE
    assert sent[0].status == 1 and sent[0].be_home_address == HOA and sent[0].dst == COA


def test_render_bc_matches_mip6d_format() -> None:
    ha = make_ha()
    t = register(ha, seq=19429)
    text = ha.render_bc(t + 72 * NS_PER_S)
    assert text == (
        "hoa 2001:db8:0:0:0:0:0:beef status registered\n"
        " coa 2001:db8:1:0:205:5dff:fef2:db2b flags AH--\n"
        " local 2001:db8:0:0:0:0:0:0\n"
        " lifetime 262068 / 262140 seq 19429 unreach 0\n"
    )


def test_status_1_when_the_home_prefix_preferred_lifetime_is_short() -> None:
    ra = RaConfig(prefixes=(PrefixConfig(prefix=HOME, valid_lifetime_s=86400, preferred_lifetime_s=3600),),
                  home_agent_flag=True, initial_delay_ms=10**9)
    cfg = HaConfig(router=RouterConfig(interfaces=(
        InterfaceConfig(name="eth0", mac="02:00:00:00:00:01", addresses=(IPv6Interface("2001:db8::/64"),), ra=ra),
        InterfaceConfig(name="eth1", mac="02:00:00:00:00:02", addresses=(IPv6Interface("2001:db8:ff::1/64"),))),
        routes=(Route(prefix=IPv6Network("::/0"), iface="eth1", next_hop=IPv6Address("2001:db8:ff::2")),)),
        home_iface="eth0", address=HA, home_prefix=HOME, dad_on_first_registration=False)
    ha = HomeAgent(cfg, random.Random(1))
    (ba,) = bas(ha.handle(bu(1, lifetime=262140), 0))
    # §10.3.1 / mip6d: status 1 (prefix discovery necessary), lifetime capped by the prefix valid lifetime.
    assert ba.status == 1 and ba.lifetime_s == 86400
