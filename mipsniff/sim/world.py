"""The simulated testbed of the article (Linux Journal #169): home link, access routers, core, CN.

    MN(s) ~~ home cell  -- HA (home agent and router of 2001:db8::/64, RFC 6275 §10; radvd with H flag)
                  |
                  GW (2001:db8::1) -- core -- AR1 -- remote cell  2001:db8:1::/64
                  |                     \\---- AR2 -- remote2 cell 2001:db8:2::/64
                  cn link -- CN 2001:db8:cc::100

The HA has a single interface on the home link (like the article's denali, 2001:db8::), so a capture on
it sees the home link and every BU, BA and tunnelled packet. Delays default to the article's figures:
3.7 ms ping RTT at home, about 142 ms through the tunnel from the remote cell.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from ipaddress import IPv6Address, IPv6Interface, IPv6Network
from typing import Any

from mipsniff.agent.config import (
    FlowConfig,
    HaConfig,
    HostConfig,
    InterfaceConfig,
    MnConfig,
    PrefixConfig,
    RaConfig,
    Route,
    RouterConfig,
)
from mipsniff.sim.clock import NS_PER_MS
from mipsniff.sim.net import Iface, Link, Network, Node
from mipsniff.sim.truth import MobileNodeInfo

HOME_PREFIX = IPv6Network("2001:db8::/64")
HA_ADDRESS = IPv6Address("2001:db8::")
GW_HOME = IPv6Address("2001:db8::1")
CORE_PREFIX = IPv6Network("2001:db8:ff::/64")
GW_CORE = IPv6Address("2001:db8:ff::1")
CN_PREFIX = IPv6Network("2001:db8:cc::/64")
GW_CN = IPv6Address("2001:db8:cc::1")
CN_ADDRESS = IPv6Address("2001:db8:cc::100")
CELLS = {  # cell link name -> (prefix, router core address, router cell address, MAC prefix)
    "remote": (IPv6Network("2001:db8:1::/64"), IPv6Address("2001:db8:ff::2"), IPv6Address("2001:db8:1::1"), 1),
    "remote2": (IPv6Network("2001:db8:2::/64"), IPv6Address("2001:db8:ff::3"), IPv6Address("2001:db8:2::1"), 2),
}
MN_MACS = ["00:05:5d:f2:db:2b", "00:05:5d:f2:db:3c", "00:05:5d:f2:db:4d", "00:05:5d:f2:db:5e"]
MN_HOME_ADDRESSES = [IPv6Address("2001:db8::beef"), IPv6Address("2001:db8::cafe"),
                     IPv6Address("2001:db8::f00d"), IPv6Address("2001:db8::d00d")]


def machine_rng(seed: int, name: str) -> random.Random:
    """Each machine its own stream, derived from the run's seed and its name (stable across runs)."""
    return random.Random(f"{seed}/{name}")


@dataclass(slots=True)
class World:
    net: Network
    seed: int
    settings: dict[str, Any]
    links: dict[str, Link] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    machines: dict[str, Any] = field(default_factory=dict)
    mobile_nodes: list[MobileNodeInfo] = field(default_factory=list)
    mn_ifaces: dict[str, Iface] = field(default_factory=dict)
    routers: dict[str, str] = field(default_factory=dict)  # link -> advertising node

    def at(self, ms: float) -> int:
        return self.net.queue.start_ns + int(ms * NS_PER_MS)


def _ra(settings: dict[str, Any], prefix: IPv6Network, *, home: bool, key: str) -> RaConfig:
    return RaConfig(
        prefixes=(PrefixConfig(prefix=prefix),),
        min_interval_ms=int(settings[f"{key}_ra_min_ms"]),
        max_interval_ms=int(settings[f"{key}_ra_max_ms"]),
        home_agent_flag=home,
        home_agent_info=home,
        initial_delay_ms=int(settings.get(f"{key}_ra_initial_delay_ms", 0)),
    )


class _RaCache:
    """Memoise `build_ra(iface, dst)`: with these configurations an RA's bytes depend only on the
    interface and the destination (no decrementing lifetimes), and building one with scapy costs
    milliseconds — most of a run's CPU. Same bytes, same actions: a transport-side cache only."""

    def build_ra(self, iface: str, dst: IPv6Address) -> bytes:
        cache: dict[tuple[str, IPv6Address], bytes] = self.__dict__.setdefault("_ra_cache", {})
        key = (iface, dst)
        if key not in cache:
            cache[key] = super().build_ra(iface, dst)  # type: ignore[misc]
        return cache[key]


def _cached(cls: type) -> type:
    return type(cls.__name__, (_RaCache, cls), {})


def build_world(seed: int, settings: dict[str, Any]) -> World:
    """Links, routers, the HA and the CN (no mobile node yet: see `add_mobile_node`)."""
    from mipsniff.agent.ha import HomeAgent as _HomeAgent
    from mipsniff.agent.router import Router as _Router
    from mipsniff.agent.traffic import Host

    HomeAgent, Router = _cached(_HomeAgent), _cached(_Router)  # noqa: N806

    net = Network(seed)
    w = World(net=net, seed=seed, settings=settings)
    start = net.queue.start_ns
    cell_loss = float(settings["cell_loss"])
    jitter = int(settings["jitter_us"])
    w.links["home"] = net.add_link("home", int(settings["home_delay_us"]), jitter, cell_loss)
    w.links["core"] = net.add_link("core", int(settings["core_delay_us"]), jitter, float(settings["core_loss"]))
    w.links["cn"] = net.add_link("cn", 500, 0, 0.0)
    for cell in CELLS:
        w.links[cell] = net.add_link(cell, int(settings["cell_delay_us"]), jitter, cell_loss)

    # Home agent: one interface on the home link, default route via the gateway.
    ha_if = InterfaceConfig(name="eth0", mac="00:16:3e:00:00:01",
                            addresses=(IPv6Interface(f"{HA_ADDRESS}/64"),),
                            ra=_ra(settings, HOME_PREFIX, home=True, key="home"))
    ha_cfg = HaConfig(
        router=RouterConfig(interfaces=(ha_if,), routes=(Route(prefix=IPv6Network("::/0"), iface="eth0",
                                                               next_hop=GW_HOME),)),
        home_iface="eth0", address=HA_ADDRESS, home_prefix=HOME_PREFIX,
        dad_on_first_registration=bool(settings["ha_dad"]),
        max_binding_life_s=int(settings["ha_max_life_s"]),
        served_home_addresses=frozenset(IPv6Address(a) for a in str(settings["ha_serves_only"]).split(","))
        if settings.get("ha_serves_only") else None,
    )
    ha_node = _fixed_node(w, "ha", ha_cfg.router.interfaces)
    ha_node.proxy_nd = True
    w.machines["ha"] = HomeAgent(ha_cfg, machine_rng(seed, "ha"), start)
    w.routers["home"] = "ha"

    # Gateway between the home link, the core and the CN's link.
    gw_ifs = (
        InterfaceConfig(name="eth0", mac="00:16:3e:00:00:02", addresses=(IPv6Interface(f"{GW_HOME}/64"),)),
        InterfaceConfig(name="eth1", mac="00:16:3e:00:00:03", addresses=(IPv6Interface(f"{GW_CORE}/64"),)),
        InterfaceConfig(name="eth2", mac="00:16:3e:00:00:04", addresses=(IPv6Interface(f"{GW_CN}/64"),)),
    )
    gw_routes = tuple(Route(prefix=p, iface="eth1", next_hop=core) for p, core, _, _ in CELLS.values())
    _fixed_node(w, "gw", gw_ifs)
    w.machines["gw"] = Router(RouterConfig(interfaces=gw_ifs, routes=gw_routes), machine_rng(seed, "gw"), start)

    # Access routers of the remote cells.
    for cell, (prefix, core, addr, n) in CELLS.items():
        ifs = (
            InterfaceConfig(name="eth0", mac=f"00:16:3e:00:{n:02x}:01", addresses=(IPv6Interface(f"{core}/64"),)),
            InterfaceConfig(name="eth1", mac=f"00:16:3e:00:{n:02x}:02", addresses=(IPv6Interface(f"{addr}/64"),),
                            ra=_ra(settings, prefix, home=False, key="cell")),
        )
        name = f"ar{n}"
        _fixed_node(w, name, ifs, links=("core", cell))
        w.machines[name] = Router(RouterConfig(interfaces=ifs, routes=(
            Route(prefix=IPv6Network("::/0"), iface="eth0", next_hop=GW_CORE),)), machine_rng(seed, name), start)
        w.routers[cell] = name

    # Correspondent node.
    cn_if = InterfaceConfig(name="eth0", mac="00:16:3e:00:0c:01", addresses=(IPv6Interface(f"{CN_ADDRESS}/64"),))
    _fixed_node(w, "cn", (cn_if,), links=("cn",))
    w.machines["cn"] = Host(HostConfig(interface=cn_if, default_router=GW_CN,
                                       route_optimization=bool(settings["cn_route_optimization"])),
                            machine_rng(seed, "cn"), start)
    net.capture("ha", ha_node.ifaces["eth0"])
    return w


def _fixed_node(w: World, name: str, ifs: tuple[InterfaceConfig, ...],
                links: tuple[str, ...] = ("home", "core", "cn")) -> Node:
    node = w.net.add_node(name)
    for cfg, link in zip(ifs, links, strict=False):
        iface = node.add_iface(cfg.name, cfg.mac, tuple(a.ip for a in cfg.addresses))
        w.net.attach(iface, w.links[link])
    w.nodes[name] = node
    return node


def add_mobile_node(w: World, index: int, **overrides: Any) -> str:
    """Add MN number `index` (0 = the article's raven) on no link yet; returns its node name."""
    name = "mn" if index == 0 else f"mn{index + 1}"
    s = w.settings
    cfg = MnConfig(
        mac=MN_MACS[index],
        home_address=MN_HOME_ADDRESSES[index],
        home_agent=HA_ADDRESS,
        initial_seq=overrides.pop("initial_seq", None),
        max_binding_life_s=int(s["mn_max_life_s"]),
        optimistic_handoff=bool(s["optimistic_handoff"]),
        **overrides,
    )
    node = w.net.add_node(name)
    iface = node.add_iface(cfg.iface, cfg.mac)
    w.nodes[name] = node
    w.mn_ifaces[name] = iface
    w.machines[name] = cfg  # replaced by the machine in `start`
    w.mobile_nodes.append(MobileNodeInfo(node=name, home_address=cfg.home_address, home_agent=HA_ADDRESS,
                                         mac=cfg.mac))
    w.net.capture(name, iface)
    return name


def ping(src: IPv6Address, dst: IPv6Address, settings: dict[str, Any], *, flow: str = "ping",
         ident: int = 0x1234, start_ms: int | None = None) -> FlowConfig:
    # Stop half a second before the end so that the last reply is not cut off by the end of the run.
    return FlowConfig(flow=flow, src=src, dst=dst, interval_ms=int(settings["ping_interval_ms"]),
                      start_ms=int(settings["ping_start_ms"]) if start_ms is None else start_ms, ident=ident,
                      stop_ms=int(settings["duration_ms"]) - 500)
