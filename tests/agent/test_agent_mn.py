"""Mobile node: movement detection, DAD, BU timing and sequence numbers, BA handling (RFC 6275 §11)."""

from __future__ import annotations

import random
from ipaddress import IPv6Address, IPv6Network

import pytest

from mipsniff.agent import packets as pk
from mipsniff.agent.api import (
    NS_PER_MS,
    NS_PER_S,
    Action,
    AddressAdded,
    AddressRemoved,
    AppSend,
    BindingState,
    Deliver,
    Dropped,
    Event,
    GroundTruth,
    GtKind,
    LinkDown,
    LinkUp,
    Received,
    Send,
    Timer,
)
from mipsniff.agent.config import MnConfig, RaConfig
from mipsniff.agent.mn import AWAY, DAD, DETACHED, HOME, SOLICITING, MobileNode

HA = IPv6Address("2001:db8::")
HOA = IPv6Address("2001:db8::beef")
COA = IPv6Address("2001:db8:1:0:205:5dff:fef2:db2b")
COA2 = IPv6Address("2001:db8:2:0:205:5dff:fef2:db2b")
R1_MAC, R2_MAC, HOME_MAC = "02:00:00:00:01:01", "02:00:00:00:02:01", "02:00:00:00:00:01"
R1_LLA = pk.link_local(R1_MAC)
MS = NS_PER_MS
S = NS_PER_S


class Driver:
    """Feeds one MN, running its timers in order, and keeps (time, action) pairs."""

    def __init__(self, **kw: object) -> None:
        kw.setdefault("initial_seq", 54814)
        self.mn = MobileNode(MnConfig(**kw), random.Random(11))  # type: ignore[arg-type]
        self.now = 0
        self.log: list[tuple[int, Action]] = []

    def feed(self, event: Event, t: int | None = None) -> list[Action]:
        if t is not None:
            self.run(t)
        out = self.mn.handle(event, self.now)
        self.log += [(self.now, a) for a in out]
        return out

    def run(self, until: int) -> list[Action]:
        out: list[Action] = []
        while (d := self.mn.next_deadline()) is not None and d <= until:
            self.now = max(self.now, d)
            acts = self.mn.handle(Timer(), self.now)
            self.log += [(self.now, a) for a in acts]
            out += acts
        self.now = max(self.now, until)
        return out

    def sent(self, kind: pk.Kind) -> list[tuple[int, pk.Parsed, Send]]:
        res = []
        for t, a in self.log:
            if isinstance(a, Send):
                p = pk.parse(a.packet)
                if p is not None and p.kind == kind:
                    res.append((t, p, a))
        return res

    def gts(self, kind: GtKind) -> list[tuple[int, GroundTruth]]:
        return [(t, a) for t, a in self.log if isinstance(a, GroundTruth) and a.kind == kind]


def ra(prefix: str, mac: str = R1_MAC, adv_ms: int | None = None, lifetime: int = 1800, valid: int = 0xFFFFFFFF,
       home: bool = False) -> Received:
    from mipsniff.agent.config import PrefixConfig

    cfg = RaConfig(prefixes=(PrefixConfig(prefix=IPv6Network(prefix), valid_lifetime_s=valid,
                                          preferred_lifetime_s=min(valid, 0xFFFFFFFF)),),
                   adv_interval_opt=adv_ms is not None, max_interval_ms=adv_ms or 3000, min_interval_ms=30,
                   router_lifetime_s=lifetime, home_agent_flag=home)
    return Received(iface="wlan0", packet=pk.build_ra(pk.link_local(mac), pk.ALL_NODES, cfg, mac, None))


def ba(status: int, seq: int, lifetime: int = 262140, coa: IPv6Address = COA) -> Received:
    return Received(iface="wlan0", packet=pk.build_ba(HA, coa, home_address=HOA, status=status, seq=seq,
                                                      lifetime_s=lifetime))


def attach(d: Driver, t: int = 0, prefix: str = "2001:db8:1::/64", mac: str = R1_MAC, **ra_kw: object) -> int:
    """LinkUp at t, RA 10 ms later, DAD done: returns the time of the first BU."""
    d.feed(LinkUp(iface="wlan0"), t)
    d.feed(ra(prefix, mac, **ra_kw), t + 10 * MS)  # type: ignore[arg-type]
    while not (bus := [x for x in d.sent(pk.Kind.BU) if x[0] >= t]):
        nxt = d.mn.next_deadline()
        assert nxt is not None and nxt < t + 3 * S, "no BU after attaching"
        d.run(nxt)
    return bus[0][0]


def registered(d: Driver, t: int = 0) -> int:
    t_bu = attach(d, t)
    d.feed(ba(0, d.mn.bul.seq), t_bu + 140 * MS)  # type: ignore[union-attr]
    return d.now


def ping(seq: int = 1) -> AppSend:
    return AppSend(packet=pk.build_echo(HOA, HA, ident=1, seq=seq, data=b"x", reply=False), flow="ping", seq=seq)


def test_rs_on_link_up_every_4_s_at_most_4() -> None:
    d = Driver()
    d.feed(LinkUp(iface="wlan0"), 0)
    d.run(60 * S)
    rs = d.sent(pk.Kind.RS)
    assert [t for t, _, _ in rs] == [0, 4 * S, 8 * S, 12 * S]
    assert all(p.src == pk.link_local("00:05:5d:f2:db:2b") and p.dst == pk.ALL_ROUTERS for _, p, _ in rs)
    assert d.mn.state == SOLICITING


def test_ra_stops_solicitation_and_forms_the_articles_coa_with_dad() -> None:
    d = Driver()
    d.feed(LinkUp(iface="wlan0"), 0)
    out = d.feed(ra("2001:db8:1::/64"), 10 * MS)
    added = [a for a in out if isinstance(a, AddressAdded)]
    assert added[0].address.ip == COA and added[0].tentative and d.mn.state == DAD
    d.run(20 * S)
    assert len(d.sent(pk.Kind.RS)) == 1
    ((t_ns, ns, _),) = d.sent(pk.Kind.NS)
    assert ns.src == pk.UNSPECIFIED and ns.target == COA and ns.dst == pk.solicited_node(COA)
    assert 10 * MS <= t_ns < 1010 * MS  # random 0-1 s delay (RFC 4862 §5.4.2)
    (t_end, end), = d.gts(GtKind.DAD_END)
    assert t_end - t_ns == 1 * S and end.fields["ok"]
    t_bu = d.sent(pk.Kind.BU)[0][0]
    assert t_bu == t_end and d.mn.state == AWAY


def test_bu_has_the_articles_fields() -> None:
    d = Driver()
    attach(d)
    t, p, s = d.sent(pk.Kind.BU)[0]
    assert p.src == COA and p.dst == HA and p.hoa == HOA and p.seq == 54814 and p.lifetime_s == 262140
    assert pk.BuFlags(p.flags) == pk.BuFlags.A | pk.BuFlags.H and p.mh_checksum_ok
    assert s.next_hop == R1_LLA


def test_bu_lifetime_is_limited_by_the_coa_prefix_valid_lifetime() -> None:
    d = Driver()
    attach(d, valid=86401)
    assert d.sent(pk.Kind.BU)[0][1].lifetime_s == 86400


def test_first_registration_retransmissions_1_5_doubling_capped_at_32() -> None:
    d = Driver()
    t0 = attach(d)
    d.run(t0 + 200 * S)
    bus = d.sent(pk.Kind.BU)
    gaps = [(b[0] - a[0]) / S for a, b in zip(bus, bus[1:], strict=False)]
    assert gaps[:8] == [1.5, 3, 6, 12, 24, 32, 32, 32]
    assert [p.seq for _, p, _ in bus] == [54814 + i for i in range(len(bus))]
    resend = [g.fields["retransmission"] for _, g in d.gts(GtKind.BU_SENT)]
    assert resend[:4] == [0, 1, 2, 3]


def test_reregistration_after_movement_starts_at_1_s() -> None:
    d = Driver()
    registered(d)
    d.feed(LinkDown(iface="wlan0"), 10 * S)
    t0 = attach(d, 11 * S, prefix="2001:db8:2::/64", mac=R2_MAC)
    d.run(t0 + 20 * S)
    bus = [x for x in d.sent(pk.Kind.BU) if x[0] >= t0]
    assert [(b[0] - a[0]) / S for a, b in zip(bus, bus[1:], strict=False)][:4] == [1, 2, 4, 8]
    assert bus[0][1].src == COA2 and bus[0][1].seq == 54815


@pytest.mark.parametrize("initial", [65534, 65535])
def test_seq_wraps_modulo_2_16(initial: int) -> None:
    d = Driver(initial_seq=initial)
    t0 = attach(d)
    d.run(t0 + 10 * S)
    seqs = [p.seq for _, p, _ in d.sent(pk.Kind.BU)]
    assert seqs[:3] == [(initial + i) & 0xFFFF for i in range(3)]


def test_ba_accepted_unblocks_uplink_and_refreshes_at_0_95() -> None:
    d = Driver()
    t_bu = attach(d)
    out = d.feed(ping(1), t_bu + 10 * MS)
    assert [a.reason for a in out if isinstance(a, Dropped)] == ["uplink_blocked"]
    assert [g.fields["reason"] for _, g in d.gts(GtKind.DATA_UNSENT)] == ["uplink_blocked"]
    d.feed(ba(0, 54814, lifetime=100), t_bu + 140 * MS)
    t_ba = d.now
    assert d.mn.bul is not None and d.mn.bul.state == BindingState.READY
    out = d.feed(ping(2), t_ba + 1)
    (s,) = [a for a in out if isinstance(a, Send)]
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.TUNNEL and p.src == COA and p.dst == HA
    assert s.next_hop == R1_LLA
    d.run(t_ba + 200 * S)
    refresh = [x for x in d.sent(pk.Kind.BU) if x[0] > t_ba]
    assert refresh[0][0] == t_ba + 95 * S and refresh[0][1].seq == 54815
    # A refresh does not block the uplink: the binding is still valid at the HA.
    out = d.feed(ping(3), refresh[0][0] + 1)
    assert any(isinstance(a, Send) for a in out)


def test_ba_135_resends_at_once_with_ba_seq_plus_1() -> None:
    d = Driver()
    t_bu = attach(d)
    out = d.feed(ba(135, 1000, lifetime=0), t_bu + 100 * MS)
    (s,) = [a for a in out if isinstance(a, Send)]
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.BU and p.seq == 1001
    assert d.mn.next_deadline() == t_bu + 100 * MS + 1 * S  # InitialBindackTimeoutReReg
    d.feed(ba(0, 1001), t_bu + 300 * MS)
    assert d.mn.bul is not None and d.mn.bul.state == BindingState.READY


@pytest.mark.parametrize("status", [128, 129, 132, 133, 134])
def test_other_ba_errors_give_up(status: int) -> None:
    d = Driver()
    t_bu = attach(d)
    d.feed(ba(status, 54814, lifetime=0), t_bu + 100 * MS)
    assert d.mn.bul is None
    d.run(t_bu + 100 * S)
    assert len(d.sent(pk.Kind.BU)) == 1
    out = d.feed(ping(), d.now)
    assert [a.reason for a in out if isinstance(a, Dropped)] == ["no_binding"]


def test_ba_with_another_seq_is_ignored() -> None:
    d = Driver()
    t_bu = attach(d)
    out = d.feed(ba(0, 12345), t_bu + 100 * MS)
    assert [a.reason for a in out if isinstance(a, Dropped)] == ["ba_unexpected_seq"]
    d.run(t_bu + 2 * S)
    assert [p.seq for _, p, _ in d.sent(pk.Kind.BU)] == [54814, 54815]
    d.feed(ba(0, 54814), d.now)  # the BA of the superseded transmission
    assert d.mn.bul is not None and d.mn.bul.state == BindingState.WAIT


def test_ba_with_bad_checksum_is_dropped() -> None:
    d = Driver()
    t_bu = attach(d)
    b = bytearray(ba(0, 54814).packet)
    b[-3] ^= 0x10
    out = d.feed(Received(iface="wlan0", packet=bytes(b)), t_bu + 100 * MS)
    assert [a.reason for a in out if isinstance(a, Dropped)] == ["bad_checksum"]


def test_router_loss_after_the_advertisement_interval() -> None:
    d = Driver()
    registered(d)
    t_ra = d.now
    d.feed(ra("2001:db8:1::/64", adv_ms=1000), t_ra)  # same router: refresh, 1 s MD lifetime
    d.run(t_ra + 999 * MS)
    assert d.gts(GtKind.ROUTER_LOST) == []
    out = d.run(t_ra + 1000 * MS)
    assert [t for t, _ in d.gts(GtKind.ROUTER_LOST)] == [t_ra + 1000 * MS]
    assert any(isinstance(a, AddressRemoved) and a.address.ip == COA for a in out)
    assert d.sent(pk.Kind.RS)[-1][0] == t_ra + 1000 * MS and d.mn.state == SOLICITING


def test_ras_from_the_current_router_keep_it() -> None:
    d = Driver()
    registered(d)
    t = d.now
    for i in range(10):
        d.feed(ra("2001:db8:1::/64", adv_ms=1000), t + i * 800 * MS)
    d.run(t + 8 * S)
    assert d.gts(GtKind.ROUTER_LOST) == [] and d.mn.state == AWAY


def test_router_lifetime_shorter_than_adv_interval_wins() -> None:
    d = Driver()
    registered(d)
    t = d.now
    d.feed(ra("2001:db8:1::/64", adv_ms=5000, lifetime=2), t)
    d.run(t + 2 * S)
    assert [x for x, _ in d.gts(GtKind.ROUTER_LOST)] == [t + 2 * S]


def test_nud_probe_before_declaring_the_router_lost() -> None:
    d = Driver(router_probes=1)
    registered(d)
    t = d.now
    d.feed(ra("2001:db8:1::/64", adv_ms=1000), t)
    d.run(t + 1000 * MS)
    probes = [x for x in d.sent(pk.Kind.NS) if x[0] >= t]
    assert len(probes) == 1 and probes[0][1].dst == R1_LLA and probes[0][1].target == R1_LLA
    assert d.gts(GtKind.ROUTER_LOST) == []
    d.run(t + 2000 * MS)
    assert [x for x, _ in d.gts(GtKind.ROUTER_LOST)] == [t + 2000 * MS]


def test_nud_answer_keeps_the_router() -> None:
    d = Driver(router_probes=1)
    registered(d)
    t = d.now
    d.feed(ra("2001:db8:1::/64", adv_ms=1000), t)
    d.run(t + 1000 * MS)
    na = pk.build_na(R1_LLA, pk.link_local("00:05:5d:f2:db:2b"), R1_LLA, R1_MAC, router=True, solicited=True,
                     override=True)
    d.feed(Received(iface="wlan0", packet=na), t + 1100 * MS)
    d.run(t + 2000 * MS)
    assert d.gts(GtKind.ROUTER_LOST) == [] and d.mn.state == AWAY


def test_ra_from_a_new_router_is_an_eager_handover() -> None:
    d = Driver()
    registered(d)
    t = d.now
    out = d.feed(ra("2001:db8:2::/64", mac=R2_MAC), t + 1 * S)
    assert any(isinstance(a, AddressAdded) and a.address.ip == COA2 for a in out)
    assert any(isinstance(a, AddressRemoved) and a.address.ip == COA for a in out)
    (_, mv), = [x for x in d.gts(GtKind.MOVEMENT_DETECTED) if x[0] > t]
    assert mv.fields["trigger"] == "ra" and not mv.fields["home"]
    d.run(t + 4 * S)
    assert d.sent(pk.Kind.BU)[-1][1].src == COA2


def test_return_home_deregisters_from_the_home_address() -> None:
    d = Driver()
    registered(d)
    d.feed(LinkDown(iface="wlan0"), 20 * S)
    d.feed(LinkUp(iface="wlan0"), 21 * S)
    out = d.feed(ra("2001:db8::/64", mac=HOME_MAC, home=True), 21 * S + 5 * MS)
    assert d.mn.state == HOME
    bu = [pk.parse(a.packet) for a in out if isinstance(a, Send)]
    (p,) = [x for x in bu if x is not None and x.kind == pk.Kind.BU]
    assert p.src == HOA and p.hoa is None and p.lifetime_s == 0 and p.dst == HA and p.seq == 54815
    assert any(isinstance(a, AddressAdded) and a.address.ip == HOA for a in out)
    blocked = d.feed(ping(), d.now + 1)
    assert [a.reason for a in blocked if isinstance(a, Dropped)] == ["uplink_blocked"]
    back = Received(iface="wlan0", packet=pk.build_ba(HA, HOA, home_address=None, status=0, seq=54815, lifetime_s=0))
    out = d.feed(back, d.now + 5 * MS)
    assert d.mn.bul is None
    nas = [pk.parse(a.packet) for a in out if isinstance(a, Send)]
    assert any(x is not None and x.kind == pk.Kind.NA and x.target == HOA and x.dst == pk.ALL_NODES for x in nas)
    assert d.gts(GtKind.RETURNED_HOME)
    out = d.feed(ping(), d.now + 1)
    (s,) = [a for a in out if isinstance(a, Send)]
    assert s.packet == ping().packet and s.next_hop is None  # direct, on-link


def test_moving_away_again_after_deregistration_waits_the_first_registration_timeout() -> None:
    # §11.8: with no binding at the HA (deleted by the deregistration) the BU is a first registration:
    # the HA runs DAD on the home address first, so the MN waits 1.5 s, not 1 s, before resending.
    d = Driver()
    registered(d)
    d.feed(LinkDown(iface="wlan0"), 20 * S)
    d.feed(LinkUp(iface="wlan0"), 21 * S)
    d.feed(ra("2001:db8::/64", mac=HOME_MAC, home=True), 21 * S + 5 * MS)
    d.feed(Received(iface="wlan0", packet=pk.build_ba(HA, HOA, home_address=None, status=0, seq=54815,
                                                      lifetime_s=0)), d.now + 5 * MS)
    assert d.mn.bul is None
    d.feed(LinkDown(iface="wlan0"), 30 * S)
    t0 = attach(d, 31 * S, prefix="2001:db8:2::/64", mac=R2_MAC)
    d.run(t0 + 20 * S)
    bus = [x for x in d.sent(pk.Kind.BU) if x[0] >= t0]
    assert [(b[0] - a[0]) / S for a, b in zip(bus, bus[1:], strict=False)][:3] == [1.5, 3, 6]


def test_booting_at_home_sends_no_bu() -> None:
    d = Driver()
    d.feed(LinkUp(iface="wlan0"), 0)
    d.feed(ra("2001:db8::/64", mac=HOME_MAC, home=True), 10 * MS)
    d.run(10 * S)
    assert d.mn.state == HOME and d.sent(pk.Kind.BU) == []
    assert any(isinstance(a, Send) for a in d.feed(ping(), d.now))


def test_optimistic_dad_sends_the_bu_at_once() -> None:
    d = Driver(optimistic_dad=True)
    d.feed(LinkUp(iface="wlan0"), 0)
    d.feed(ra("2001:db8:1::/64"), 10 * MS)
    assert d.sent(pk.Kind.BU)[0][0] == 10 * MS and d.mn.state == AWAY
    d.run(3 * S)
    assert len(d.sent(pk.Kind.NS)) == 1 and d.gts(GtKind.DAD_END)


def test_optimistic_handoff_does_not_block_the_uplink() -> None:
    d = Driver(optimistic_handoff=True)
    t_bu = attach(d)
    out = d.feed(ping(), t_bu + 1)
    assert any(isinstance(a, Send) for a in out) and not any(isinstance(a, Dropped) for a in out)


def test_no_address_while_detached_or_during_dad() -> None:
    d = Driver()
    assert [a.reason for a in d.feed(ping(), 0) if isinstance(a, Dropped)] == ["no_address"]
    d.feed(LinkUp(iface="wlan0"), 1)
    d.feed(ra("2001:db8:1::/64"), 10 * MS)
    assert [a.reason for a in d.feed(ping(), 11 * MS) if isinstance(a, Dropped)] == ["no_address"]


def test_tunnelled_downlink_is_delivered_and_echo_answered_through_the_tunnel() -> None:
    d = Driver()
    registered(d)
    req = pk.build_echo(IPv6Address("2001:db8:5::5"), HOA, ident=4, seq=2, data=b"hi", reply=False)
    out = d.feed(Received(iface="wlan0", packet=pk.encapsulate(HA, COA, req)), d.now + 1)
    assert any(isinstance(a, Deliver) and a.packet == req for a in out)
    (s,) = [a for a in out if isinstance(a, Send)]
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.TUNNEL and p.dst == HA
    inner = pk.parse(p.inner)
    assert inner is not None and inner.kind == pk.Kind.ECHO_REPLY and inner.src == HOA


def test_tunnel_not_from_the_ha_is_dropped() -> None:
    d = Driver()
    registered(d)
    req = pk.build_echo(IPv6Address("2001:db8:5::5"), HOA, ident=4, seq=2, data=b"hi", reply=False)
    out = d.feed(Received(iface="wlan0", packet=pk.encapsulate(IPv6Address("2001:db8:5::5"), COA, req)), d.now + 1)
    assert [a.reason for a in out if isinstance(a, Dropped)] == ["tunnel_not_from_ha"]


def test_link_down_flushes_the_coa() -> None:
    d = Driver()
    registered(d)
    out = d.feed(LinkDown(iface="wlan0"), d.now + 1)
    assert any(isinstance(a, AddressRemoved) and a.address.ip == COA for a in out)
    assert d.mn.state == DETACHED and d.mn.bul is not None  # the BUL entry survives the link


def test_dad_conflict_drops_the_coa() -> None:
    d = Driver()
    d.feed(LinkUp(iface="wlan0"), 0)
    d.feed(ra("2001:db8:1::/64"), 10 * MS)
    other = pk.build_ns(pk.UNSPECIFIED, pk.solicited_node(COA), COA, None)
    d.feed(Received(iface="wlan0", packet=other), 20 * MS)
    (_, end), = d.gts(GtKind.DAD_END)
    assert not end.fields["ok"] and d.mn.coa is None
    d.run(5 * S)
    assert d.sent(pk.Kind.BU) == []


def test_invalid_ras_are_not_used() -> None:
    d = Driver()
    d.feed(LinkUp(iface="wlan0"), 0)
    bad = Received(iface="wlan0", packet=pk.with_hop_limit(ra("2001:db8:1::/64").packet, 64))
    assert [a.reason for a in d.feed(bad, 1) if isinstance(a, Dropped)] == ["malformed"]
    no_pio = RaConfig(prefixes=())
    pkt = pk.build_ra(R1_LLA, pk.ALL_NODES, no_pio, R1_MAC, None)
    assert [a.reason for a in d.feed(Received(iface="wlan0", packet=pkt), 2) if isinstance(a, Dropped)] == [
        "ra_without_prefix"]
    assert d.mn.state == SOLICITING


def test_render_bul_matches_mip6d_format() -> None:
    d = Driver()
    t_bu = attach(d)
    d.feed(ba(0, 54814), t_bu + 140 * MS)
    now = t_bu + 4 * S
    after = (t_bu + 140 * MS + 249033 * S - now) // S
    assert d.mn.render_bul(now) == (
        "== BUL_ENTRY ==\n"
        "Home address    2001:db8:0:0:0:0:0:beef\n"
        "Care-of address 2001:db8:1:0:205:5dff:fef2:db2b\n"
        "CN address      2001:db8:0:0:0:0:0:0\n"
        " lifetime = 262140,  delay = 249033000\n"
        " flags: IP6_MH_BU_HOME IP6_MH_BU_ACK \n"
        " ack ready\n"
        " dev wlan0 last_coa 2001:db8:1:0:205:5dff:fef2:db2b\n"
        f" lifetime 262136 / 262140 seq 54814 resend 0 delay 249033(after {after}s) expires 262136\n"
        "\n"
    )


def test_ba_status_1_is_accepted() -> None:
    d = Driver()
    t_bu = attach(d)
    d.feed(ba(1, 54814, lifetime=3600), t_bu + 100 * MS)
    assert d.mn.bul is not None and d.mn.bul.state == BindingState.READY and d.mn.bul.lifetime_s == 3600
    assert d.mn.timers["bu_refresh"] == t_bu + 100 * MS + 3420 * S  # 0.95 x 3600 s


def test_echo_to_the_coa_is_answered_directly() -> None:
    d = Driver()
    registered(d)
    cn = IPv6Address("2001:db8:5::5")
    req = pk.build_echo(cn, COA, ident=4, seq=2, data=b"hi", reply=False)
    out = d.feed(Received(iface="wlan0", packet=req), d.now + 1)
    (s,) = [a for a in out if isinstance(a, Send)]
    p = pk.parse(s.packet)
    assert p is not None and p.kind == pk.Kind.ECHO_REPLY and p.src == COA and p.dst == cn and s.next_hop == R1_LLA


def test_binding_error_is_logged() -> None:
    from mipsniff.agent.api import Log

    d = Driver()
    registered(d)
    be = pk.build_be(HA, COA, status=1, home_address=HOA)
    out = d.feed(Received(iface="wlan0", packet=be), d.now + 1)
    assert any(isinstance(a, Log) and "Binding Error status 1" in a.text for a in out)


# --- route optimisation (RFC 6275 §11.6) ---

CN = IPv6Address("2001:db8:5::5")


def test_rr_starts_after_the_home_ba_and_retransmits_5_s_doubling() -> None:
    d = Driver(route_optimization_cns=(CN,))
    t_ba = registered(d)
    coti = [x for x in d.sent(pk.Kind.COTI)]
    assert [t for t, _, _ in coti] == [t_ba]
    hoti = [(t, pk.parse(p.inner)) for t, p, _ in d.sent(pk.Kind.TUNNEL)]
    assert [(t, i.kind) for t, i in hoti if i is not None and i.kind == pk.Kind.HOTI] == [(t_ba, pk.Kind.HOTI)]
    d.run(t_ba + 16 * S)
    assert [(t - t_ba) // S for t, _, _ in d.sent(pk.Kind.COTI)] == [0, 5, 15]


def test_hot_must_come_through_the_tunnel_and_cookies_must_match() -> None:
    d = Driver(route_optimization_cns=(CN,))
    registered(d)
    direct = pk.build_test(CN, HOA, index=1, cookie=d.mn.cn_entries[CN].home_cookie, token=b"t" * 8, home=True)
    out = d.feed(Received(iface="wlan0", packet=direct), d.now + 1)
    assert [a.reason for a in out if isinstance(a, Dropped)] == ["hot_not_tunnelled"]
    bad = pk.build_test(CN, COA, index=1, cookie=b"wrong!!!", token=b"t" * 8, home=False)
    out = d.feed(Received(iface="wlan0", packet=bad), d.now + 1)
    assert [a.reason for a in out if isinstance(a, Dropped)] == ["rr_unexpected_test"]
    e = d.mn.cn_entries[CN]
    hot = pk.encapsulate(HA, COA, pk.build_test(CN, HOA, index=7, cookie=e.home_cookie, token=b"H" * 8, home=True))
    d.feed(Received(iface="wlan0", packet=hot), d.now + 1)
    cot = pk.build_test(CN, COA, index=8, cookie=e.careof_cookie, token=b"C" * 8, home=False)
    out = d.feed(Received(iface="wlan0", packet=cot), d.now + 1)
    (bu,) = [pk.parse(a.packet) for a in out if isinstance(a, Send)]
    assert bu is not None and bu.kind == pk.Kind.BU and bu.dst == CN and bu.home_nonce_index == 7
    assert bu.careof_nonce_index == 8 and bu.flags == 0
    assert bu.authenticator == pk.bu_authenticator(pk.binding_key(b"H" * 8, b"C" * 8), COA, CN, bu.mh[:-12])
    # Data to the CN now leaves directly with a HAO.
    (s,) = [a for a in d.feed(AppSend(packet=pk.build_echo(HOA, CN, ident=1, seq=1, data=b"", reply=False)),
                               d.now + 1) if isinstance(a, Send)]
    p = pk.parse(s.packet)
    assert p is not None and p.src == COA and p.hoa == HOA and p.dst == CN
    # A movement makes the CN binding stale: back to the tunnel.
    d.feed(ra("2001:db8:2::/64", mac=R2_MAC), d.now + 1)
    assert d.mn.cn_entries[CN].state == "idle"
