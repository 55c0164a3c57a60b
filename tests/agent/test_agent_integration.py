"""MN, HA, access router and ping driven against each other through the sans-I/O API (the article's run)."""

from __future__ import annotations

from ipaddress import IPv6Address

from agent_harness import article_net

from mipsniff.agent import packets as pk
from mipsniff.agent.api import NS_PER_MS, NS_PER_S, BindingState, GtKind
from mipsniff.agent.ha import HomeAgent
from mipsniff.agent.mn import MobileNode
from mipsniff.agent.traffic import Ping

S = NS_PER_S
HOA = IPv6Address("2001:db8::beef")
COA = IPv6Address("2001:db8:1:0:205:5dff:fef2:db2b")


def parsed_wire(net, kind: pk.Kind, link: str | None = None) -> list[tuple[int, pk.Parsed]]:  # type: ignore[no-untyped-def]
    out = []
    for t, lk, _, pkt in net.wire:
        if link is not None and lk != link:
            continue
        p = pk.parse(pkt)
        if p is not None and p.kind == kind:
            out.append((t, p))
    return out


def test_article_handover() -> None:
    net = article_net()
    net.move(10 * S, "mn", "wlan0", "remote", 500 * NS_PER_MS)
    net.run(20 * S)
    ping = net.nodes["mn"].apps[0]
    assert isinstance(ping, Ping)
    # At home: ~3.7 ms, hop limit 64; through the tunnel: ~140 ms, hop limit 63 (the article's ttl=63).
    assert ping.rtt_ns[1] == 3_700_000 and ping.hop_limits[1] == 64
    after = [s for s in ping.rtt_ns if s >= 10]
    assert after and all(ping.rtt_ns[s] == 140 * NS_PER_MS and ping.hop_limits[s] == 63 for s in after)
    unsent = [g.fields["reason"] for _, g in net.gt(GtKind.DATA_UNSENT)]
    assert unsent and set(unsent) <= {"no_address", "uplink_blocked"}
    ((_, bu),) = parsed_wire(net, pk.Kind.BU, "remote")
    assert bu.seq == 54814 and bu.lifetime_s == 262140 and bu.src == COA and bu.hoa == HOA
    ((_, ba),) = parsed_wire(net, pk.Kind.BA, "remote")
    assert ba.status == 0 and ba.seq == 54814 and ba.lifetime_s == 262140 and ba.rh2 == HOA
    ha = net.nodes["ha"].machine
    assert isinstance(ha, HomeAgent) and ha.binding_cache[HOA].care_of_address == COA
    # Ground-truth order of the handover's phases.
    order = [GtKind.L2_DOWN, GtKind.L2_UP, GtKind.RS_SENT, GtKind.MOVEMENT_DETECTED, GtKind.DAD_START,
             GtKind.DAD_END, GtKind.BU_SENT, GtKind.BA_RECEIVED]
    times = [min(t for t, _ in net.gt(k, "mn") if t >= 10 * S) for k in order]
    assert times == sorted(times)


def test_lost_ba_is_recovered_by_retransmission_with_seq_plus_1() -> None:
    net = article_net(ping=False)
    first_ba = {"dropped": False}

    def drop(t: int, link: str, pkt: bytes) -> bool:
        p = pk.parse(pkt)
        if p is not None and p.kind == pk.Kind.BA and not first_ba["dropped"]:
            first_ba["dropped"] = True
            return True
        return False

    net.drop = drop
    net.move(5 * S, "mn", "wlan0", "remote", 200 * NS_PER_MS)
    net.run(15 * S)
    bus = [g for _, g in net.gt(GtKind.BU_SENT, "mn")]
    assert [b.fields["seq"] for b in bus] == [54814, 54815]
    t_bu = [t for t, _ in net.gt(GtKind.BU_SENT, "mn")]
    assert t_bu[1] - t_bu[0] == 1500 * NS_PER_MS  # first registration timeout
    (_, ba), = net.gt(GtKind.BA_RECEIVED, "mn")
    assert ba.fields["seq"] == 54815 and ba.fields["status"] == 0
    mn = net.nodes["mn"].machine
    assert isinstance(mn, MobileNode) and mn.bul is not None and mn.bul.state == BindingState.READY


def test_sequence_out_of_window_resynchronises() -> None:
    net = article_net(ping=False)
    ha = net.nodes["ha"].machine
    assert isinstance(ha, HomeAgent)
    # A stale binding from an earlier run of the MN, with a higher sequence number.
    from mipsniff.agent.api import Received, Timer

    ha.handle(Received(iface="eth1", packet=pk.build_bu(IPv6Address("2001:db8:1::99"), IPv6Address("2001:db8::"),
                                                        home_address=HOA, seq=60000, lifetime_s=262140)), 0)
    ha.handle(Timer(), 1 * S)
    net.move(5 * S, "mn", "wlan0", "remote", 200 * NS_PER_MS)
    net.run(15 * S)
    statuses = [(g.fields["status"], g.fields["seq"]) for _, g in net.gt(GtKind.BA_RECEIVED, "mn")]
    assert statuses == [(135, 60000), (0, 60001)]
    assert ha.binding_cache[HOA].seq == 60001 and ha.binding_cache[HOA].care_of_address == COA


def test_return_home_deregisters_and_pings_go_direct_again() -> None:
    net = article_net()
    net.move(8 * S, "mn", "wlan0", "remote", 300 * NS_PER_MS)
    net.move(16 * S, "mn", "wlan0", "home", 300 * NS_PER_MS)
    net.run(24 * S)
    ha = net.nodes["ha"].machine
    assert isinstance(ha, HomeAgent) and HOA not in ha.binding_cache
    bus = [g.fields for _, g in net.gt(GtKind.BU_SENT, "mn")]
    assert bus[-1]["lifetime_s"] == 0 and bus[-1]["care_of_address"] == HOA
    assert net.gt(GtKind.RETURNED_HOME, "mn")
    ping = net.nodes["mn"].apps[0]
    assert isinstance(ping, Ping)
    late = [s for s in ping.rtt_ns if s >= 14]
    assert late and all(ping.hop_limits[s] == 64 and ping.rtt_ns[s] == 3_700_000 for s in late)


def test_rerun_is_deterministic() -> None:
    def run() -> list[tuple[int, str, bytes]]:
        net = article_net(seed=5)
        net.move(6 * S, "mn", "wlan0", "remote", 400 * NS_PER_MS)
        net.run(12 * S)
        return [(t, link, pkt) for t, link, _, pkt in net.wire]

    assert run() == run()


def test_route_optimisation_with_a_correspondent() -> None:
    net = article_net(cn=True, ping=False)
    net.move(8 * S, "mn", "wlan0", "remote", 300 * NS_PER_MS)
    net.move(20 * S, "mn", "wlan0", "home", 300 * NS_PER_MS)
    net.run(19 * S)
    cn_addr = IPv6Address("2001:db8:ff::5")
    # HoTI through the reverse tunnel, CoTI direct (RFC 6275 §5.2.5).
    remote = [pk.parse(p) for _, lk, snd, p in net.wire if lk == "remote" and snd == "mn"]
    tunnelled = [pk.parse(p.inner) for p in remote if p is not None and p.kind == pk.Kind.TUNNEL]
    assert any(i is not None and i.kind == pk.Kind.HOTI and i.src == HOA for i in tunnelled)
    assert any(p is not None and p.kind == pk.Kind.COTI and p.src == COA for p in remote)
    (cn_bu,) = [p for p in remote if p is not None and p.kind == pk.Kind.BU and p.dst == cn_addr]
    assert cn_bu.flags == 0 and cn_bu.hoa == HOA and cn_bu.lifetime_s == 420 and cn_bu.authenticator is not None
    cn = net.nodes["cn"].machine
    from mipsniff.agent.traffic import Host

    assert isinstance(cn, Host) and cn.binding_cache[HOA].care_of_address == COA
    # Data: MN -> CN from the CoA with a HAO; CN -> MN to the CoA with a type 2 routing header.
    assert any(p is not None and p.kind == pk.Kind.ECHO_REQUEST and p.src == COA and p.hoa == HOA for p in remote)
    core = [pk.parse(p) for _, lk, snd, p in net.wire if lk == "core" and snd == "cn"]
    assert any(p is not None and p.kind == pk.Kind.ECHO_REPLY and p.dst == COA and p.rh2 == HOA for p in core)
    ping = net.nodes["mn"].apps[0]
    assert isinstance(ping, Ping) and [s for s in ping.rtt_ns if s >= 12]
    paths = {g.fields["path"] for t, g in net.gt(GtKind.DATA_SENT, "mn") if t > 12 * S}
    assert paths == {"ro"}
    net.run(26 * S)
    # Back home: the CN binding is deregistered with a lifetime 0 BU from the home address.
    assert HOA not in cn.binding_cache
    assert {g.fields["path"] for t, g in net.gt(GtKind.DATA_SENT, "mn") if t > 21 * S} == {"direct"}
