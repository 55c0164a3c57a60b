"""Access router: periodic and solicited Router Advertisements, IPv6 forwarding (RFC 4861 §6.2, RFC 6275 §7).

Theory of operation
-------------------
State: one state, ADVERTISING. Per interface with an `RaConfig`: the time of the next unsolicited RA.
Timers:
  - unsolicited RA: after each RA the next is drawn uniformly in [MinRtrAdvInterval, MaxRtrAdvInterval]
    (RFC 4861 §6.2.4); the first MAX_INITIAL_RTR_ADVERTISEMENTS (3) are capped at 16 s (§6.2.4, radvd).
  - solicited multicast RA (only with `solicited_unicast` off): random 0-500 ms after the RS
    (MAX_RA_DELAY_TIME, §6.2.6), coalesced with a pending one.
Events:
  - Timer                -> the RAs that are due (multicast to ff02::1).
  - Received RS          -> an immediate unicast RA to the soliciting address (radvd >= 2.17,
                            AdvRASolicitedUnicast), or a delayed multicast RA when the RS came from ::.
  - Received NS          -> NA for our own addresses (RFC 4861 §7.2.4).
  - Received echo req.   -> echo reply when addressed to us, else forwarded.
  - Received anything    -> forwarded by the static routing table with the hop limit decremented, or
                            delivered when addressed to us.
  - LinkUp / LinkDown    -> the interface's state; nothing is sent on a down interface.
RAs carry the Advertisement Interval option (RFC 6275 §7.3, MaxRtrAdvInterval in ms), the H flag and the
Home Agent Information option on a home link (§7.1, §7.4), and prefixes with the R flag (§7.2).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from ipaddress import IPv6Address

from mipsniff.agent import packets as pk
from mipsniff.agent.api import (
    NS_PER_MS,
    Action,
    Deliver,
    Dropped,
    Event,
    GtKind,
    LinkDown,
    LinkUp,
    Received,
    Send,
    Timer,
    gt,
)
from mipsniff.agent.config import RouterConfig
from mipsniff.agent.node import EventKey, FixedNode, event_key

MAX_INITIAL_RTR_ADVERT_INTERVAL_MS = 16_000  # RFC 4861 §10
MAX_INITIAL_RTR_ADVERTISEMENTS = 3
MAX_RA_DELAY_TIME_MS = 500

ADVERTISING = "advertising"

Handler = Callable[["Router", Event, "pk.Parsed | None", int], list[Action]]


class Router(FixedNode):
    """An access router (radvd + Linux forwarding). See the module docstring."""

    TABLE: dict[tuple[str, EventKey], Handler] = {}

    def __init__(self, config: RouterConfig, rng: random.Random, start_ns: int = 0) -> None:
        super().__init__(config.interfaces, config.routes, rng, forwarding=True)
        self.config = config
        self.state = ADVERTISING
        self.next_ra_ns: dict[str, int] = {}
        self.solicited_ra_ns: dict[str, int] = {}
        self.initial_left: dict[str, int] = {}
        for i in config.interfaces:
            if i.ra is not None:
                self.next_ra_ns[i.name] = start_ns + i.ra.initial_delay_ms * NS_PER_MS
                self.initial_left[i.name] = MAX_INITIAL_RTR_ADVERTISEMENTS

    # --- Machine ---

    def handle(self, event: Event, now_ns: int) -> list[Action]:
        key, parsed = event_key(event)
        if isinstance(event, Received) and parsed is None:
            return [Dropped(reason="malformed", packet=event.packet)]
        handler = self.TABLE.get((self.state, key), type(self)._on_other)
        return handler(self, event, parsed, now_ns)

    def next_deadline(self) -> int | None:
        times = [t for name, t in self.next_ra_ns.items() if self.ifaces[name].up]
        times += list(self.solicited_ra_ns.values())
        return min(times) if times else None

    # --- RAs ---

    def router_address(self, iface: str) -> IPv6Address | None:
        addrs = self.ifaces[iface].addresses
        return addrs[0].ip if addrs else None

    def build_ra(self, iface: str, dst: IPv6Address) -> bytes:
        i = self.ifaces[iface]
        assert i.config.ra is not None
        return pk.build_ra(i.link_local, dst, i.config.ra, i.config.mac, self.router_address(iface))

    def _draw_interval_ns(self, iface: str) -> int:
        ra = self.ifaces[iface].config.ra
        assert ra is not None
        ms = self.rng.uniform(ra.min_interval_ms, ra.max_interval_ms)
        if self.initial_left[iface] > 0:
            self.initial_left[iface] -= 1
            ms = min(ms, MAX_INITIAL_RTR_ADVERT_INTERVAL_MS)
        return int(ms * NS_PER_MS)

    def _on_timer(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        out: list[Action] = []
        for name, due in sorted(self.next_ra_ns.items()):
            if due <= now and self.ifaces[name].up:
                out += self._send_multicast_ra(name, solicited=False)
                self.next_ra_ns[name] = now + self._draw_interval_ns(name)
        for name, due in sorted(self.solicited_ra_ns.items()):
            if due <= now:
                del self.solicited_ra_ns[name]
                if self.ifaces[name].up:
                    out += self._send_multicast_ra(name, solicited=True)
        return out

    def _send_multicast_ra(self, name: str, *, solicited: bool) -> list[Action]:
        return [Send(iface=name, packet=self.build_ra(name, pk.ALL_NODES)),
                gt(GtKind.RA_SENT, iface=name, solicited=solicited, dst=pk.ALL_NODES)]

    def _on_rs(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        ra = self.ifaces[event.iface].config.ra
        if ra is None or not self.ifaces[event.iface].up:
            return [Dropped(reason="not_for_me", packet=event.packet, detail="no AdvSendAdvert")]
        if p.hlim != 255:  # RFC 4861 §6.1.1
            return [Dropped(reason="malformed", packet=event.packet, detail="RS hop limit != 255")]
        if ra.solicited_unicast and p.src != pk.UNSPECIFIED:
            # radvd >= 2.17: an immediate unicast answer (field notes 2).
            return [Send(iface=event.iface, packet=self.build_ra(event.iface, p.src), next_hop=p.src),
                    gt(GtKind.RA_SENT, iface=event.iface, solicited=True, dst=p.src)]
        if event.iface not in self.solicited_ra_ns:
            delay = self.rng.uniform(0, MAX_RA_DELAY_TIME_MS)
            self.solicited_ra_ns[event.iface] = now + int(delay * NS_PER_MS)
        return []

    def _on_ns(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        return list(self.answer_ns(event.iface, p, router=True))

    def _on_echo_request(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        if self.is_for_me(event.iface, p.dst):
            return [self.answer_echo(p)]
        return [self.forward(event.packet, p)]

    def _on_link(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, LinkUp | LinkDown)
        if event.iface in self.ifaces:
            self.ifaces[event.iface].up = isinstance(event, LinkUp)
            if isinstance(event, LinkUp) and event.iface in self.next_ra_ns:
                self.next_ra_ns[event.iface] = max(self.next_ra_ns[event.iface], now)
        return []

    def _on_other(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        if isinstance(event, Received) and p is not None:
            if self.is_for_me(event.iface, p.dst):
                if p.kind in (pk.Kind.RA, pk.Kind.NA):
                    return []  # other routers' RAs and unsolicited NAs: nothing to do
                return [Deliver(packet=event.packet)]
            return [self.forward(event.packet, p)]
        return []


Router.TABLE = {
    (ADVERTISING, Timer): Router._on_timer,
    (ADVERTISING, LinkUp): Router._on_link,
    (ADVERTISING, LinkDown): Router._on_link,
    (ADVERTISING, pk.Kind.RS): Router._on_rs,
    (ADVERTISING, pk.Kind.NS): Router._on_ns,
    (ADVERTISING, pk.Kind.ECHO_REQUEST): Router._on_echo_request,
}
