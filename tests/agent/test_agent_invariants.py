"""Hypothesis: random event sequences keep the agent's invariants (RFC 6275 §9.5.1, §10.3, §11.7-§11.8).

- HA: never an expired binding in the cache; the accepted sequence numbers of a binding strictly increase
  modulo 2**16 while it exists; a BA 135 carries the binding's last accepted number.
- MN: at most one outstanding home BU (one transmission per event, a resend timer only while waiting);
  every BU's seq is the previous one + 1 modulo 2**16, except the resend after a BA 135 (= BA.seq + 1);
  nothing is sent while detached; sources are only addresses the MN may use.
- Whole network with random losses: the HA invariants hold along the run.
"""

from __future__ import annotations

import random
from ipaddress import IPv6Address

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipsniff.agent import packets as pk
from mipsniff.agent.api import (
    NS_PER_MS,
    NS_PER_S,
    AppSend,
    BindingState,
    Event,
    GroundTruth,
    GtKind,
    LinkDown,
    LinkUp,
    Received,
    Send,
    Timer,
)
from mipsniff.agent.ha import HomeAgent
from mipsniff.agent.mn import DETACHED, T_BU_RESEND, MobileNode

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HA_ADDR = IPv6Address("2001:db8::")
HOAS = [IPv6Address("2001:db8::beef"), IPv6Address("2001:db8::cafe"), IPv6Address("2001:db8:9::1")]
COAS = [IPv6Address("2001:db8:1::10"), IPv6Address("2001:db8:2::10")]

# --- HA ---------------------------------------------------------------------------------------------------

# Weighted towards what builds up bindings: BUs for the two home addresses from a CoA with seq numbers
# close together (so both "newer" and "stale" happen), and waits around the DAD delay and the lifetimes.
ha_step = st.one_of(
    st.tuples(st.just("bu"), st.sampled_from([0, 0, 0, 1, 2]), st.integers(0, 1), st.integers(0, 0xFFFF),
              st.sampled_from([60, 60, 262140, 8, 0]), st.sampled_from([False, False, False, True])),
    st.tuples(st.just("bu"), st.sampled_from([0, 1]), st.integers(0, 1), st.integers(0, 0xFFFF),
              st.sampled_from([60, 262140]), st.just(False)),
    st.tuples(st.just("wait"), st.sampled_from([0, 300, 1000, 1500, 5000, 9000, 70_000])),
    st.tuples(st.just("na"), st.integers(0, 2)),
    st.tuples(st.just("junk"), st.binary(max_size=60)),
)


def _ha() -> HomeAgent:
    from test_agent_ha import make_ha

    return make_ha()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ha_step, max_size=40), st.booleans())
def test_ha_invariants(steps: list[tuple], near_seqs: bool) -> None:  # type: ignore[type-arg]
    ha = _ha()
    now = 0
    last_accepted: dict[IPv6Address, int] = {}
    base = random.Random(len(steps)).randrange(0x10000)
    for step in steps:
        events: list[Event] = []
        if step[0] == "bu":
            _, h, c, seq, lifetime, from_home = step
            if near_seqs or seq % 4:  # mostly numbers close together, so that accept and 135 both happen
                seq = (base + seq % 8) & 0xFFFF
            hoa = HOAS[h]
            src = hoa if from_home else COAS[c]
            events.append(Received(iface="eth0" if from_home else "eth1",
                                   packet=pk.build_bu(src, HA_ADDR, home_address=hoa, seq=seq, lifetime_s=lifetime)))
        elif step[0] == "wait":
            now += step[1] * NS_PER_MS
            events.append(Timer())
        elif step[0] == "na":
            hoa = HOAS[step[1]]
            events.append(Received(iface="eth0", packet=pk.build_na(hoa, pk.ALL_NODES, hoa, "02:00:00:00:09:09",
                                                                     router=False, solicited=False, override=True)))
        else:
            events.append(Received(iface="eth1", packet=step[1]))
        for ev in events:
            # Timers first, as a transport would, then the event.
            while (d := ha.next_deadline()) is not None and d <= now:
                _check_ha(ha, ha.handle(Timer(), d), d, last_accepted)
            _check_ha(ha, ha.handle(ev, now), now, last_accepted)


def _check_ha(ha: HomeAgent, actions: list, now: int, last_accepted: dict[IPv6Address, int]) -> None:  # type: ignore[type-arg]
    for a in actions:
        if isinstance(a, GroundTruth) and a.kind == GtKind.BINDING_REMOVED:
            last_accepted.pop(a.fields["home_address"], None)  # type: ignore[arg-type]
        if isinstance(a, GroundTruth) and a.kind == GtKind.BINDING_ADDED:
            hoa, seq = a.fields["home_address"], a.fields["seq"]
            if hoa in last_accepted:
                assert pk.seq_gt(seq, last_accepted[hoa]), (seq, last_accepted[hoa])  # type: ignore[arg-type, index]
            last_accepted[hoa] = seq  # type: ignore[index, assignment]
        if isinstance(a, Send):
            p = pk.parse(a.packet)
            if p is not None and p.kind == pk.Kind.BA and p.status == 135:
                e = ha.binding_cache.get(p.rh2 or p.dst)
                assert e is not None and e.seq == p.seq
    for e in ha.binding_cache.values():
        assert e.state == BindingState.DAD or e.expires_ns > now, "expired binding in the cache"
    d = ha.next_deadline()
    assert d is None or d > now, "a due timer was left unprocessed"


# --- MN ---------------------------------------------------------------------------------------------------

mn_step = st.one_of(
    st.just(("up",)),
    st.just(("down",)),
    st.tuples(st.just("ra"), st.sampled_from(["home", "r1", "r2"]), st.sampled_from([None, 500, 3000])),
    st.tuples(st.just("ba"), st.sampled_from([0, 1, 128, 133, 135]), st.booleans(), st.integers(0, 0xFFFF)),
    st.tuples(st.just("wait"), st.integers(0, 40_000)),
    st.just(("app",)),
)


def _ra(which: str, adv: int | None) -> Received:
    from test_agent_mn import HOME_MAC, R1_MAC, R2_MAC, ra

    prefix, mac = {"home": ("2001:db8::/64", HOME_MAC), "r1": ("2001:db8:1::/64", R1_MAC),
                   "r2": ("2001:db8:2::/64", R2_MAC)}[which]
    return ra(prefix, mac, adv_ms=adv, home=which == "home")


@SETTINGS
@given(st.lists(mn_step, max_size=40), st.integers(0, 0xFFFF))
def test_mn_invariants(steps: list[tuple], initial_seq: int) -> None:  # type: ignore[type-arg]
    from mipsniff.agent.config import MnConfig

    mn = MobileNode(MnConfig(initial_seq=initial_seq), random.Random(initial_seq))
    now = 0
    state = {"last_seq": None, "expect_resync": None}
    for step in steps:
        ev: Event
        if step[0] == "up":
            ev = LinkUp(iface="wlan0")
        elif step[0] == "down":
            ev = LinkDown(iface="wlan0")
        elif step[0] == "ra":
            ev = _ra(step[1], step[2])
        elif step[0] == "ba":
            _, status, matching, seq = step
            e = mn.bul
            if matching and e is not None:
                seq = e.seq
            dst = (e.care_of_address if e is not None else COAS[0])
            hoa = IPv6Address("2001:db8::beef")
            ev = Received(iface="wlan0", packet=pk.build_ba(HA_ADDR, dst, home_address=hoa, status=status, seq=seq,
                                                            lifetime_s=0 if status >= 128 else 3600))
        elif step[0] == "wait":
            now += step[1] * NS_PER_MS
            while (d := mn.next_deadline()) is not None and d <= now:
                _check_mn(mn, mn.handle(Timer(), d), d, state, None)
            continue
        else:
            ev = AppSend(packet=pk.build_echo(IPv6Address("2001:db8::beef"), HA_ADDR, ident=1, seq=1, data=b"",
                                              reply=False), flow="p", seq=1)
        ba135 = None
        if isinstance(ev, Received):
            p = pk.parse(ev.packet)
            if p is not None and p.kind == pk.Kind.BA and p.status == 135:
                ba135 = p.seq
        was_detached = mn.state == DETACHED and not isinstance(ev, LinkUp)
        actions = mn.handle(ev, now)
        if was_detached:
            assert not any(isinstance(a, Send) for a in actions), "sent while detached"
        _check_mn(mn, actions, now, state, ba135)


def _check_mn(mn: MobileNode, actions: list, now: int, state: dict, ba135: int | None) -> None:  # type: ignore[type-arg]
    bus = []
    for a in actions:
        if isinstance(a, Send):
            p = pk.parse(a.packet)
            assert p is not None
            allowed = {pk.UNSPECIFIED, mn.link_local, IPv6Address("2001:db8::beef")}
            if mn.coa is not None:
                allowed.add(mn.coa)
            assert p.src in allowed, p.src
            if p.kind == pk.Kind.BU:
                bus.append(p)
    assert len(bus) <= 1, "more than one home BU in one step"
    for p in bus:
        if state["last_seq"] is not None:
            if ba135 is not None:
                assert p.seq == (ba135 + 1) & 0xFFFF
            else:
                assert p.seq == (state["last_seq"] + 1) & 0xFFFF, (p.seq, state["last_seq"])
        state["last_seq"] = p.seq
    if T_BU_RESEND in mn.timers:
        assert mn.bul is not None and mn.bul.state == BindingState.WAIT
    d = mn.next_deadline()
    assert d is None or d >= now


# --- whole network ----------------------------------------------------------------------------------------


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**16), st.floats(0.0, 0.5), st.lists(st.integers(2, 20), min_size=1, max_size=3))
def test_network_with_losses_keeps_ha_invariants(seed: int, loss: float, moves: list[int]) -> None:
    from agent_harness import article_net

    net = article_net(seed=seed, ping=False, cn=True)
    rng = random.Random(seed)
    net.drop = lambda t, link, pkt: link != "home" and rng.random() < loss
    t = 0
    for i, gap in enumerate(moves):
        t += gap * NS_PER_S
        net.move(t, "mn", "wlan0", "remote" if i % 2 == 0 else "home", 300 * NS_PER_MS)
    ha = net.nodes["ha"].machine
    assert isinstance(ha, HomeAgent)
    from mipsniff.agent.traffic import Host

    cn = net.nodes["cn"].machine
    assert isinstance(cn, Host)
    end = t + 10 * NS_PER_S
    step = NS_PER_S
    last: dict[IPv6Address, int] = {}
    for until in range(step, end, step):
        net.run(until)
        for e in ha.binding_cache.values():
            assert e.state == BindingState.DAD or e.expires_ns > net.now
            if e.home_address in last and e.state == BindingState.REGISTERED:
                assert e.seq == last[e.home_address] or pk.seq_gt(e.seq, last[e.home_address])
            last[e.home_address] = e.seq
        for b in cn.binding_cache.values():  # the correspondent's cache too (route optimisation)
            assert b.expires_ns > net.now
    bu_seqs = [g.fields["seq"] for _, g in net.gt(GtKind.BU_SENT, "mn") if g.fields["peer"] == HA_ADDR]
    cn_seqs = [g.fields["seq"] for _, g in net.gt(GtKind.BU_SENT, "mn") if g.fields["peer"] != HA_ADDR]
    assert all(pk.seq_gt(b, a) for a, b in zip(cn_seqs, cn_seqs[1:], strict=False))  # type: ignore[arg-type]
    ba135 = [g for _, g in net.gt(GtKind.BA_RECEIVED, "mn") if g.fields["status"] == 135]
    if not ba135:
        assert all(b == (a + 1) & 0xFFFF for a, b in zip(bu_seqs, bu_seqs[1:], strict=False))
