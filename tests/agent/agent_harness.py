"""A tiny transport for the agent's tests: links with a fixed one-way delay, an event queue, a trace.

Not the simulator (mipsniff/sim is the real one); just enough to drive MN, HA, router and traffic machines
against each other through the sans-I/O API, exactly as mipsniff.agent.api describes.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv6Address

from mipsniff.agent.api import (
    NS_PER_MS,
    Action,
    AppSend,
    Deliver,
    Event,
    GroundTruth,
    GtKind,
    LinkDown,
    LinkUp,
    Machine,
    Received,
    Send,
    Timer,
)
from mipsniff.agent.ha import HomeAgent
from mipsniff.agent.mn import MobileNode
from mipsniff.agent.node import FixedNode


def owns(m: object, addr: IPv6Address) -> bool:
    """What address resolution would answer: the node's own addresses, and the HA's proxied HoAs."""
    if isinstance(m, MobileNode):
        return addr in m._my_addresses()
    if isinstance(m, FixedNode):
        if addr in m.own_addresses():
            return True
        return isinstance(m, HomeAgent) and addr in m.binding_cache
    return False


@dataclass
class Node:
    name: str
    machine: Machine
    apps: list[Machine] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)  # iface -> link name


@dataclass
class Net:
    delay_ns: dict[str, int] = field(default_factory=dict)  # per link one-way delay
    nodes: dict[str, Node] = field(default_factory=dict)
    now: int = 0
    queue: list[tuple[int, int, str, object, Event]] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=itertools.count)
    trace: list[tuple[int, str, str, Action]] = field(default_factory=list)  # (t, node, source, action)
    wire: list[tuple[int, str, str, bytes]] = field(default_factory=list)  # (t, link, sender, packet)
    drop: Callable[[int, str, bytes], bool] = lambda t, link, pkt: False
    down: set[tuple[str, str]] = field(default_factory=set)  # (node, iface) whose link is down

    def add(self, node: Node) -> Node:
        self.nodes[node.name] = node
        return node

    def at(self, t: int, node: str, event: Event, target: object = None) -> None:
        heapq.heappush(self.queue, (t, next(self.counter), node, target, event))

    def move(self, t: int, node: str, iface: str, link: str, gap_ns: int) -> None:
        """L2 handoff: link down at t, attached to `link` and link up at t + gap."""
        self.at(t, node, LinkDown(iface=iface), ("move", iface, link))
        self.at(t + gap_ns, node, LinkUp(iface=iface))

    def gt(self, kind: GtKind, node: str | None = None) -> list[tuple[int, GroundTruth]]:
        return [(t, a) for t, n, _, a in self.trace
                if isinstance(a, GroundTruth) and a.kind == kind and (node is None or n == node)]

    def _deadline(self) -> tuple[int, Node, Machine] | None:
        best: tuple[int, Node, Machine] | None = None
        for n in self.nodes.values():
            for m in (n.machine, *n.apps):
                d = m.next_deadline()
                if d is not None and (best is None or d < best[0]):
                    best = (d, n, m)
        return best

    def run(self, until_ns: int) -> None:
        while True:
            nxt = self._deadline()
            qt = self.queue[0][0] if self.queue else None
            if nxt is not None and (qt is None or nxt[0] < qt) and nxt[0] <= until_ns:
                t, node, m = nxt
                self.now = max(self.now, t)
                self._apply(node, m, m.handle(Timer(), self.now))
                continue
            if qt is not None and qt <= until_ns:
                t, _, name, target, event = heapq.heappop(self.queue)
                self.now = max(self.now, t)
                node = self.nodes[name]
                if isinstance(target, tuple) and target[0] == "move":
                    self.down.add((name, target[1]))
                    node.links[target[1]] = target[2]
                if isinstance(event, LinkUp):
                    self.down.discard((name, event.iface))
                m = target if target is not None and not isinstance(target, tuple) else node.machine
                self._apply(node, m, m.handle(event, self.now))  # type: ignore[union-attr]
                continue
            self.now = until_ns
            return

    def _apply(self, node: Node, source: Machine, actions: list[Action]) -> None:
        for a in actions:
            self.trace.append((self.now, node.name, type(source).__name__, a))
            if isinstance(a, Send):
                if (node.name, a.iface) in self.down:
                    continue
                link = node.links[a.iface]
                self.wire.append((self.now, link, node.name, a.packet))
                if self.drop(self.now, link, a.packet):
                    continue
                target = a.next_hop or IPv6Address(a.packet[24:40])
                for other in self.nodes.values():
                    if other is node or not (target.is_multicast or owns(other.machine, target)):
                        continue
                    for iface, l2 in other.links.items():
                        if l2 == link and (other.name, iface) not in self.down:
                            self.at(self.now + self.delay_ns.get(link, NS_PER_MS), other.name,
                                    Received(iface=iface, packet=a.packet))
            elif isinstance(a, AppSend):
                self._apply(node, node.machine, node.machine.handle(a, self.now))
            elif isinstance(a, Deliver):
                for app in node.apps:
                    self._apply(node, app, app.handle(a, self.now))


# --- the article's topology ------------------------------------------------------------------------------

def article_net(*, seed: int = 1, mn_kwargs: dict[str, object] | None = None, ha_kwargs: dict[str, object] | None = None,
                ra_ms: tuple[int, int] = (1000, 3000), ping: bool = True, cn: bool = False) -> Net:
    """MN 2001:db8::beef at home with HA 2001:db8:: (also the home router); a remote cell 2001:db8:1::/64
    behind an access router; HA and AR joined by a core link. The MN's wlan0 starts on link "home", down."""
    import random
    from ipaddress import IPv6Interface, IPv6Network

    from mipsniff.agent.config import (
        FlowConfig,
        HaConfig,
        InterfaceConfig,
        MnConfig,
        PrefixConfig,
        RaConfig,
        Route,
        RouterConfig,
    )
    from mipsniff.agent.router import Router
    from mipsniff.agent.traffic import Ping

    rng = random.Random(seed)
    home = IPv6Network("2001:db8::/64")
    remote = IPv6Network("2001:db8:1::/64")
    core = IPv6Network("2001:db8:ff::/64")
    ha_ra = RaConfig(prefixes=(PrefixConfig(prefix=home),), min_interval_ms=ra_ms[0], max_interval_ms=ra_ms[1],
                     home_agent_flag=True, home_agent_info=True)
    ha = HomeAgent(HaConfig(
        router=RouterConfig(
            interfaces=(InterfaceConfig(name="eth0", mac="02:00:00:00:00:01", addresses=(IPv6Interface("2001:db8::/64"),),
                                        ra=ha_ra),
                        InterfaceConfig(name="eth1", mac="02:00:00:00:00:02",
                                        addresses=(IPv6Interface("2001:db8:ff::1/64"),))),
            routes=(Route(prefix=remote, iface="eth1", next_hop=IPv6Address("2001:db8:ff::2")),)),
        home_iface="eth0", address=IPv6Address("2001:db8::"), home_prefix=home, **(ha_kwargs or {})),  # type: ignore[arg-type]
        random.Random(rng.random()))
    ar = Router(RouterConfig(
        interfaces=(InterfaceConfig(name="eth0", mac="02:00:00:00:01:01", addresses=(IPv6Interface("2001:db8:1::1/64"),),
                                    ra=RaConfig(prefixes=(PrefixConfig(prefix=remote),), min_interval_ms=ra_ms[0],
                                                max_interval_ms=ra_ms[1])),
                    InterfaceConfig(name="eth1", mac="02:00:00:00:01:02", addresses=(IPv6Interface(f"{core[2]}/64"),))),
        routes=(Route(prefix=IPv6Network("::/0"), iface="eth1", next_hop=IPv6Address("2001:db8:ff::1")),)),
        random.Random(rng.random()))
    cn_addr = IPv6Address("2001:db8:ff::5")
    if cn:
        mn_kwargs = {"route_optimization_cns": (cn_addr,), **(mn_kwargs or {})}
    mn_cfg = MnConfig(initial_seq=54814, **(mn_kwargs or {}))  # type: ignore[arg-type]
    mn = MobileNode(mn_cfg, random.Random(rng.random()))
    net = Net(delay_ns={"home": 1_850_000, "remote": 35_000_000, "core": 35_000_000})
    net.add(Node(name="ha", machine=ha, links={"eth0": "home", "eth1": "core"}))
    net.add(Node(name="ar", machine=ar, links={"eth0": "remote", "eth1": "core"}))
    apps: list[Machine] = []
    if ping:
        apps.append(Ping(FlowConfig(flow="ping", src=mn_cfg.home_address, dst=IPv6Address("2001:db8::"),
                                    start_ms=5000), random.Random(rng.random())))
    if cn:
        from mipsniff.agent.config import HostConfig
        from mipsniff.agent.traffic import Host

        host = Host(HostConfig(interface=InterfaceConfig(name="eth0", mac="02:00:00:00:05:05",
                                                         addresses=(IPv6Interface("2001:db8:ff::5/64"),)),
                               default_router=IPv6Address("2001:db8:ff::1"), route_optimization=True),
                    random.Random(rng.random()))
        net.add(Node(name="cn", machine=host, links={"eth0": "core"}))
        apps.append(Ping(FlowConfig(flow="ping-cn", src=mn_cfg.home_address, dst=cn_addr, start_ms=5000,
                                    ident=0x5678), random.Random(rng.random())))
    net.add(Node(name="mn", machine=mn, links={"wlan0": "home"}, apps=apps))
    net.down.add(("mn", "wlan0"))
    net.at(100 * NS_PER_MS, "mn", LinkUp(iface="wlan0"))
    return net
