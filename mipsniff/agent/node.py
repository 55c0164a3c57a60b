"""What every fixed IPv6 node of the agent does: addresses, static routing, ND answers, echo answers.

RFC 4861 §7.2.4 (answering NS with NA, defending an address in DAD), RFC 4443 §4.2 (echo reply),
RFC 8200 §3 (hop limit decremented when forwarding). Shared by `router.Router` (and so `ha.HomeAgent`)
and `traffic.Host`; the mobile node (`mn.py`) has its own stack.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from ipaddress import IPv6Address, IPv6Interface, IPv6Network

from mipsniff.agent import packets as pk
from mipsniff.agent.api import Deliver, Dropped, Received, Send
from mipsniff.agent.config import InterfaceConfig, Route

LINK_LOCAL = IPv6Network("fe80::/10")


@dataclass(slots=True)
class Iface:
    """Run-time state of one interface."""

    config: InterfaceConfig
    link_local: IPv6Address
    up: bool = True

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def addresses(self) -> tuple[IPv6Interface, ...]:
        return self.config.addresses


class FixedNode:
    """Interfaces with static addresses and a static routing table (connected routes first)."""

    def __init__(self, interfaces: tuple[InterfaceConfig, ...], routes: tuple[Route, ...], rng: random.Random,
                 *, forwarding: bool, hop_limit: int = 64) -> None:
        self.rng = rng
        self.forwarding = forwarding
        self.hop_limit = hop_limit
        self.ifaces: dict[str, Iface] = {i.name: Iface(config=i, link_local=pk.link_local(i.mac)) for i in interfaces}
        connected = [Route(prefix=a.network, iface=i.name) for i in interfaces for a in i.addresses]
        # Longest prefix first, connected before static at equal length (Python's sort is stable).
        self.routes: list[Route] = sorted([*connected, *routes], key=lambda r: -r.prefix.prefixlen)

    # --- addresses ---

    def own_addresses(self) -> set[IPv6Address]:
        out: set[IPv6Address] = set()
        for i in self.ifaces.values():
            out.add(i.link_local)
            out.update(a.ip for a in i.addresses)
        return out

    def is_for_me(self, iface: str, dst: IPv6Address) -> bool:
        if dst.is_multicast:
            return dst in (pk.ALL_NODES, pk.ALL_ROUTERS) or any(
                dst == pk.solicited_node(a) for a in self.own_addresses())
        return dst in self.own_addresses()

    def source_for(self, iface: str, dst: IPv6Address) -> IPv6Address:
        """Source address selection, simplified RFC 6724: link-local for link-local destinations, else the
        first global address of the outgoing interface, else any global address of the node."""
        i = self.ifaces[iface]
        if dst in LINK_LOCAL or dst.is_multicast:
            return i.link_local
        if i.addresses:
            return i.addresses[0].ip
        for other in self.ifaces.values():
            if other.addresses:
                return other.addresses[0].ip
        return i.link_local

    # --- routing ---

    def lookup(self, dst: IPv6Address) -> Route | None:
        for r in self.routes:
            if dst in r.prefix:
                return r
        return None

    def route(self, packet: bytes, dst: IPv6Address) -> Send | Dropped:
        """Send a locally originated or forwarded packet along the routing table."""
        r = self.lookup(dst)
        if r is None:
            return Dropped(reason="no_route", packet=packet, detail=str(dst))
        if not self.ifaces[r.iface].up:
            return Dropped(reason="link_down", packet=packet, detail=r.iface)
        return Send(iface=r.iface, packet=packet, next_hop=r.next_hop)

    def forward(self, packet: bytes, p: pk.Parsed) -> Send | Dropped:
        """Forward as a router (RFC 8200 §3: decrement the hop limit, discard at zero)."""
        if not self.forwarding:
            return Dropped(reason="not_for_me", packet=packet, detail=str(p.dst))
        if p.dst in LINK_LOCAL or p.dst.is_multicast or p.src in LINK_LOCAL:
            return Dropped(reason="not_for_me", packet=packet, detail="link-scope")
        if p.hlim <= 1:
            return Dropped(reason="hop_limit_exceeded", packet=packet)
        return self.route(pk.with_hop_limit(packet, p.hlim - 1), p.dst)

    # --- local answers ---

    def answer_ns(self, iface: str, p: pk.Parsed, *, router: bool,
                  proxied: set[IPv6Address] | None = None) -> list[Send]:
        """NA for an NS targeting one of our addresses (RFC 4861 §7.2.4) or a proxied one (RFC 6275
        §10.4.1); a DAD probe (source ::) is answered to all-nodes, which makes the prober's DAD fail."""
        assert p.target is not None
        i = self.ifaces[iface]
        mine = p.target == i.link_local or any(p.target == a.ip for a in i.addresses)
        if not mine and not (proxied and p.target in proxied):
            return []
        dad = p.src == pk.UNSPECIFIED
        dst = pk.ALL_NODES if dad else p.src
        na = pk.build_na(i.link_local if dad or dst in LINK_LOCAL else self.source_for(iface, dst), dst, p.target,
                         i.config.mac, router=router, solicited=not dad,
                         override=True)  # RFC 6275 §10.4.1: the HA's proxy NA for a home address sets O too
        return [Send(iface=iface, packet=na, next_hop=None if dad else p.src)]

    def answer_echo(self, p: pk.Parsed) -> Send | Dropped:
        """Echo reply from the address the request was sent to (RFC 4443 §4.2)."""
        reply = pk.build_echo(p.dst, p.hoa or p.src, ident=p.ident, seq=p.echo_seq, data=p.payload, reply=True,
                              hlim=self.hop_limit)
        return self.route(reply, p.hoa or p.src)


def deliver(packet: bytes) -> Deliver:
    return Deliver(packet=packet)


EventKey = type | pk.Kind


def event_key(event: object) -> tuple[EventKey, pk.Parsed | None]:
    """The transition-table key of an event: its class, or for `Received` the parsed packet's `Kind`.

    A `Received` packet that does not parse gets key `pk.Kind.OTHER` with parsed None; the machines turn
    that into `Dropped("malformed")`.
    """
    if isinstance(event, Received):
        parsed = pk.parse(event.packet)
        return (parsed.kind if parsed is not None else pk.Kind.OTHER), parsed
    return type(event), None
