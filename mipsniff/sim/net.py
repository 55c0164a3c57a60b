"""The simulated network: L2 segments (links), nodes with Ethernet interfaces, capture points.

Each link is a broadcast segment (a wireless cell, a wire) with a one-way delay, a jitter and a loss rate;
every random draw comes from the network's one seeded `random.Random`, so a run is a function of the
scenario and its seed. Frames are Ethernet II (IEEE 802.3, EtherType 0x86DD) carrying the IPv6 packets the
agent machines emit; IPv6 multicast maps to 33:33:xx:xx:xx:xx (RFC 2464 §7). The machines do not run
address resolution (mipsniff.agent.api, point 5), so the network maps a next hop to the MAC of the
interface that owns it on that link, or of the home agent that proxies it (RFC 6275 §10.4.1).

A mobile node changes cells with `move()`: L2 down, a handoff gap during which nothing reaches it, L2 up
on the new link. Capture points record every frame an interface sends (even one lost on the air) and
every frame it receives, with the time it crossed that interface.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv6Address
from typing import Any

from mipsniff.agent import api
from mipsniff.sim.clock import EPOCH_NS, NS_PER_US, EventQueue, Timer
from mipsniff.sim.view import PacketView, read

ETHERTYPE_IPV6 = b"\x86\xdd"


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def link_local(mac: str) -> IPv6Address:
    """fe80::/64 + modified EUI-64 of the MAC (RFC 4291 appendix A)."""
    b = bytearray(mac_bytes(mac))
    b[0] ^= 0x02
    return IPv6Address(b"\xfe\x80" + b"\x00" * 6 + bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:]))


def multicast_mac(dst: IPv6Address) -> bytes:
    return b"\x33\x33" + dst.packed[12:]


@dataclass(slots=True, eq=False)
class Link:
    """One L2 segment. Delay and jitter are whole microseconds so every timestamp sits on the pcap's grid."""

    name: str
    delay_us: int
    jitter_us: int = 0
    loss: float = 0.0
    ifaces: list[Iface] = field(default_factory=list)
    # Frames from one sender never overtake each other on the same link (FIFO per sender).
    last_arrival: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Iface:
    node: Node
    name: str
    mac: str
    link: Link | None = None
    addresses: set[IPv6Address] = field(default_factory=set)

    @property
    def mac_raw(self) -> bytes:
        return mac_bytes(self.mac)


@dataclass(slots=True, eq=False)
class Node:
    """A simulated host or router: interfaces plus the agent machines that run on it.

    `host` is the machine that owns the node's IPv6 stack (MN, HA, router or CN): it gets `AppSend` from
    the node's traffic generators, which in turn get the host's `Deliver`s.
    """

    name: str
    ifaces: dict[str, Iface] = field(default_factory=dict)
    host: Any = None
    generators: list[Any] = field(default_factory=list)
    proxy_nd: bool = False  # a home agent: owns the registered home addresses on its home link
    proxied: set[IPv6Address] = field(default_factory=set)
    timers: dict[int, Timer] = field(default_factory=dict)

    def add_iface(self, name: str, mac: str, addresses: tuple[IPv6Address, ...] = ()) -> Iface:
        iface = Iface(node=self, name=name, mac=mac, addresses={link_local(mac), *addresses})
        self.ifaces[name] = iface
        return iface

    def owns(self, address: IPv6Address) -> bool:
        return address in self.proxied or any(address in i.addresses for i in self.ifaces.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class Crossing:
    """A frame crossing a capture point: `direction` "out" (sent by it) or "in" (received by it)."""

    vantage: str
    t_ns: int
    direction: str
    frame: bytes
    view: PacketView
    sender: str  # node name that put the frame on the link
    link: str
    tx_id: int  # the transmission: the same frame seen at two capture points has the same id


@dataclass(frozen=True, slots=True, kw_only=True)
class Transmission:
    """One frame on a link, as a scripted loss rule sees it."""

    t_ns: int
    sender: str
    link: str
    view: PacketView


@dataclass(frozen=True, slots=True, kw_only=True)
class TruthRecord:
    """A `GroundTruth` action stamped with the time and node of the `handle` call that emitted it."""

    t_ns: int
    node: str
    kind: str
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class SimDrop:
    """A frame the network itself lost: `reason` is `loss` (random), `scripted`, `link_down`,
    `moved_away` (receiver left the cell while it was in flight) or `unresolved` (no owner of the next hop)."""

    t_ns: int
    sender: str
    link: str
    reason: str
    view: PacketView


LossRule = Callable[[Transmission], bool]

_MAX_CALLS_AT_ONE_INSTANT = 10_000


class Network:
    """Links, nodes, the event queue and the capture points of one simulation run."""

    def __init__(self, seed: int, start_ns: int = EPOCH_NS) -> None:
        self.queue = EventQueue(start_ns)
        self.rng = random.Random(seed)
        self.links: dict[str, Link] = {}
        self.nodes: dict[str, Node] = {}
        self.captures: dict[int, str] = {}  # id(iface) -> vantage name
        self.vantages: list[str] = []
        self.crossings: list[Crossing] = []
        self.truth: list[TruthRecord] = []
        self.sim_events: list[TruthRecord] = []  # what the network itself did (L2 moves)
        self.drops: list[SimDrop] = []
        self.agent_drops: list[TruthRecord] = []
        self.logs: list[tuple[int, str, str]] = []
        self.loss_rules: list[LossRule] = []
        self._calls_now = (0, 0)
        self._tx_count = 0

    @property
    def now_ns(self) -> int:
        return self.queue.now_ns

    # --- building ----------------------------------------------------------------------------------

    def add_link(self, name: str, delay_us: int, jitter_us: int = 0, loss: float = 0.0) -> Link:
        link = Link(name=name, delay_us=delay_us, jitter_us=jitter_us, loss=loss)
        self.links[name] = link
        return link

    def add_node(self, name: str) -> Node:
        node = Node(name=name)
        self.nodes[name] = node
        return node

    def start(self, node: Node, host: Any, generators: list[Any] | tuple[Any, ...] = ()) -> None:
        """Install the node's machines and arm their timers."""
        node.host = host
        node.generators = list(generators)
        for machine in (host, *generators):
            self._rearm(node, machine)

    def replace_host(self, node: Node, machine: Any) -> None:
        """Swap the node's host machine (a daemon restart): the old one's timers die with it."""
        timer = node.timers.pop(id(node.host), None)
        if timer is not None:
            timer.cancel()
        node.host = machine
        self._rearm(node, machine)

    def capture(self, vantage: str, iface: Iface) -> None:
        self.captures[id(iface)] = vantage
        self.vantages.append(vantage)

    def attach(self, iface: Iface, link: Link) -> None:
        iface.link = link
        link.ifaces.append(iface)

    def detach(self, iface: Iface) -> None:
        if iface.link is not None:
            iface.link.ifaces.remove(iface)
            iface.link = None

    # --- L2 events ---------------------------------------------------------------------------------

    def link_up(self, iface: Iface, link: Link, at_ns: int, trigger: bool = True) -> None:
        self.queue.schedule(at_ns, self._link_up, iface, link, trigger)

    def move(self, iface: Iface, link: Link, at_ns: int, gap_ns: int, trigger: bool = True) -> None:
        """Leave the current cell at `at_ns`, join `link` `gap_ns` later (the L2 handoff gap).

        `trigger` False hides both L2 events from the machines (no link-layer hint, as with a bridge
        port change): the node only learns of the move from Router Advertisements or their absence.
        """
        self.queue.schedule(at_ns, self._link_down, iface, trigger)
        self.queue.schedule(at_ns + gap_ns, self._link_up, iface, link, trigger)

    def _link_down(self, iface: Iface, trigger: bool) -> None:
        old = iface.link.name if iface.link else None
        self.detach(iface)
        self.sim_events.append(TruthRecord(t_ns=self.now_ns, node=iface.node.name, kind="l2_down",
                                           fields={"iface": iface.name, "link": old}))
        if trigger:
            self._dispatch(iface.node, iface.node.host, api.LinkDown(iface=iface.name))

    def _link_up(self, iface: Iface, link: Link, trigger: bool) -> None:
        self.attach(iface, link)
        self.sim_events.append(TruthRecord(t_ns=self.now_ns, node=iface.node.name, kind="l2_up",
                                           fields={"iface": iface.name, "link": link.name}))
        if trigger:
            self._dispatch(iface.node, iface.node.host, api.LinkUp(iface=iface.name))

    # --- running -----------------------------------------------------------------------------------

    def run(self, until_ns: int) -> None:
        self.queue.run(until_ns)

    def _rearm(self, node: Node, machine: Any) -> None:
        deadline = machine.next_deadline()
        key = id(machine)
        old = node.timers.get(key)
        if old is not None and not old.cancelled:
            if deadline is not None and old.at_ns == max(deadline, self.now_ns):
                return
            old.cancel()
        if deadline is None:
            node.timers.pop(key, None)
            return
        node.timers[key] = self.queue.schedule(deadline, self._fire, node, machine)

    def _fire(self, node: Node, machine: Any) -> None:
        self._dispatch(node, machine, api.Timer())

    def _dispatch(self, node: Node, machine: Any, event: Any) -> None:
        now = self.now_ns
        at, calls = self._calls_now
        calls = calls + 1 if at == now else 1
        self._calls_now = (now, calls)
        if calls > _MAX_CALLS_AT_ONE_INSTANT:
            raise RuntimeError(f"{node.name}: machine made no progress at t={now} ns")
        actions = machine.handle(event, now)
        self._rearm(node, machine)
        for action in actions:
            self._act(node, action)

    def _act(self, node: Node, action: Any) -> None:
        now = self.now_ns
        if isinstance(action, api.Send):
            self._transmit(node.ifaces[action.iface], action.packet, action.next_hop)
        elif isinstance(action, api.Deliver):
            for gen in node.generators:
                self._dispatch(node, gen, action)
        elif isinstance(action, api.AppSend):
            self._dispatch(node, node.host, action)
        elif isinstance(action, api.GroundTruth):
            self.truth.append(TruthRecord(t_ns=now, node=node.name, kind=str(action.kind),
                                          fields=dict(action.fields)))
        elif isinstance(action, api.AddressAdded):
            node.ifaces[action.iface].addresses.add(action.address.ip)
        elif isinstance(action, api.AddressRemoved):
            node.ifaces[action.iface].addresses.discard(action.address.ip)
        elif isinstance(action, api.BindingChanged):
            if node.proxy_nd and node.owns(action.peer) and action.home_address != action.care_of_address:
                if action.state in (api.BindingState.REGISTERED, api.BindingState.DAD):
                    node.proxied.add(action.home_address)
                elif action.state == api.BindingState.REMOVED:
                    node.proxied.discard(action.home_address)
        elif isinstance(action, api.Dropped):
            self.agent_drops.append(TruthRecord(t_ns=now, node=node.name, kind="dropped",
                                                fields={"reason": action.reason, "detail": action.detail}))
        elif isinstance(action, api.Log):
            self.logs.append((now, node.name, action.text))

    # --- frames ------------------------------------------------------------------------------------

    def _resolve(self, link: Link, sender: Iface, target: IPv6Address) -> list[Iface]:
        if target.is_multicast:
            return [i for i in link.ifaces if i is not sender]
        for i in link.ifaces:
            if i is not sender and (target in i.addresses or (target in i.node.proxied)):
                return [i]
        return []

    def _transmit(self, iface: Iface, packet: bytes, next_hop: IPv6Address | None) -> None:
        now = self.now_ns
        view = read(packet)
        link = iface.link
        if link is None:
            self.drops.append(SimDrop(t_ns=now, sender=iface.node.name, link="", reason="link_down", view=view))
            return
        target = next_hop if next_hop is not None else view.dst
        receivers = self._resolve(link, iface, target)
        if target.is_multicast:
            dst_mac = multicast_mac(target)
        elif receivers:
            dst_mac = receivers[0].mac_raw
        else:
            self.drops.append(SimDrop(t_ns=now, sender=iface.node.name, link=link.name, reason="unresolved",
                                      view=view))
            return
        frame = dst_mac + iface.mac_raw + ETHERTYPE_IPV6 + packet
        self._tx_count += 1
        tx_id = self._tx_count
        vantage = self.captures.get(id(iface))
        if vantage is not None:
            self.crossings.append(Crossing(vantage=vantage, t_ns=now, direction="out", frame=frame, view=view,
                                           sender=iface.node.name, link=link.name, tx_id=tx_id))
        # Draw the random numbers in a fixed order for every frame, whatever the outcome.
        lost_random = self.rng.random() < link.loss
        jitter = self.rng.randint(0, link.jitter_us) if link.jitter_us else 0
        tx = Transmission(t_ns=now, sender=iface.node.name, link=link.name, view=view)
        if any(rule(tx) for rule in self.loss_rules):
            self.drops.append(SimDrop(t_ns=now, sender=tx.sender, link=link.name, reason="scripted", view=view))
            return
        if lost_random:
            self.drops.append(SimDrop(t_ns=now, sender=tx.sender, link=link.name, reason="loss", view=view))
            return
        arrival = now + (link.delay_us + jitter) * NS_PER_US
        key = id(iface)
        arrival = max(arrival, link.last_arrival.get(key, 0))
        link.last_arrival[key] = arrival
        for rx in receivers:
            self.queue.schedule(arrival, self._arrive, rx, link, frame, view, iface.node.name, tx_id)

    def _arrive(self, rx: Iface, link: Link, frame: bytes, view: PacketView, sender: str, tx_id: int) -> None:
        if rx.link is not link:
            self.drops.append(SimDrop(t_ns=self.now_ns, sender=sender, link=link.name, reason="moved_away",
                                      view=view))
            return
        vantage = self.captures.get(id(rx))
        if vantage is not None:
            self.crossings.append(Crossing(vantage=vantage, t_ns=self.now_ns, direction="in", frame=frame,
                                           view=view, sender=sender, link=link.name, tx_id=tx_id))
        self._dispatch(rx.node, rx.node.host, api.Received(iface=rx.name, packet=frame[14:]))
