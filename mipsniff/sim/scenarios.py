"""Scenarios of the simulator: each a function of (seed, settings) giving a capture and its ground truth.

The scenarios exercise what RFC 6275 §11.5-§11.7 (movement detection, registration, retransmission,
BA status handling), §10 (home agent) and §11.3.1-§11.3.2 (route optimisation) describe, on the testbed of
`world.py`. Every setting can be overridden (`mipsniff synth NAME --set key=value`); the value is parsed
to the type of its default.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv6Address
from typing import Any

from mipsniff.sim.clock import NS_PER_MS
from mipsniff.sim.net import Crossing, Transmission
from mipsniff.sim.truth import build_truth
from mipsniff.sim.world import CN_ADDRESS, HA_ADDRESS, World, add_mobile_node, build_world, machine_rng, ping

COMMON: dict[str, Any] = {
    "duration_ms": 15000,
    "home_delay_us": 1850,  # 3.7 ms ping RTT to the HA at home, as in the article
    "cell_delay_us": 1850,
    "core_delay_us": 67300,  # about 142 ms RTT through the tunnel from the remote cell
    "jitter_us": 30,
    "cell_loss": 0.0,
    "core_loss": 0.0,
    "home_ra_min_ms": 1000,
    "home_ra_max_ms": 3000,
    "cell_ra_min_ms": 1000,
    "cell_ra_max_ms": 3000,
    "ha_dad": True,
    "ha_max_life_s": 262140,
    "mn_max_life_s": 262140,
    "optimistic_handoff": False,
    "ping_interval_ms": 1000,
    "ping_start_ms": 1000,
    "l2_gap_ms": 300,
    "cn_route_optimization": False,  # the CN answers return routability (DoRouteOptimizationCN)
    "ha_serves_only": "",  # comma-separated home addresses the HA serves; empty: the whole home prefix
}


_TYPE_NAMES = {bool: "a boolean (true/false)", int: "an integer", float: "a number", str: "a string"}


class SettingError(ValueError):
    """An unknown setting name or a value that does not parse as its default's type."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioResult:
    """A finished run: every capture point's crossings, and the ground truth for a chosen vantage set."""

    name: str
    seed: int
    settings: dict[str, Any]
    default_vantage: str
    crossings: list[Crossing]
    vantage_points: dict[str, str]  # vantage name ("mn", "ha") -> internal capture point
    truth_base: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    def vantages(self, vantage: str | None) -> list[str]:
        v = vantage or self.default_vantage
        if v == "both":
            return ["mn", "ha"]
        if v not in ("mn", "ha"):
            raise SettingError(f"unknown vantage {v!r}: use mn, ha or both")
        return [v]

    def frames(self, vantages: list[str]) -> list[tuple[int, str, bytes]]:
        points = {self.vantage_points[v]: v for v in vantages}
        return [(c.t_ns, points[c.vantage], c.frame) for c in self.crossings if c.vantage in points]

    def truth(self, vantages: list[str]) -> dict[str, Any]:
        return {**self.truth_base, "vantages": vantages}


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    name: str
    summary: str  # one line for `synth --list`
    description: str
    defaults: dict[str, Any]
    script: Callable[[World], None]
    default_vantage: str = "mn"


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, summary: str, description: str, default_vantage: str = "mn", **defaults: Any) -> Callable[
        [Callable[[World], None]], Callable[[World], None]]:
    def register(fn: Callable[[World], None]) -> Callable[[World], None]:
        SCENARIOS[name] = Scenario(name=name, summary=summary, description=description,
                                   defaults={**COMMON, **defaults},
                                   script=fn, default_vantage=default_vantage)
        return fn
    return register


def parse_settings(defaults: dict[str, Any], overrides: dict[str, str] | list[str] | None) -> dict[str, Any]:
    """Apply `key=value` overrides, each parsed to its default's type."""
    settings = dict(defaults)
    items = overrides.items() if isinstance(overrides, dict) else (
        _split(kv) for kv in (overrides or []))
    for key, raw in items:
        if key not in defaults:
            raise SettingError(f"unknown setting {key!r}; known: {', '.join(sorted(defaults))}")
        default = defaults[key]
        try:
            if isinstance(default, bool):
                if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(raw)
                settings[key] = raw.lower() in ("1", "true", "yes", "on")
            elif isinstance(default, int):
                settings[key] = int(raw)
            elif isinstance(default, float):
                settings[key] = float(raw)
            else:
                settings[key] = raw
        except ValueError:
            raise SettingError(f"setting {key}={raw!r}: expected {_TYPE_NAMES[type(default)]}") from None
    return settings


def _split(kv: str) -> tuple[str, str]:
    if "=" not in kv:
        raise SettingError(f"--set {kv!r}: expected key=value")
    key, value = kv.split("=", 1)
    return key.strip(), value.strip()


def run(name: str, seed: int = 1, overrides: dict[str, str] | list[str] | None = None) -> ScenarioResult:
    """Run scenario `name`; raises `SettingError` for an unknown scenario or a bad override."""
    if name == "random":
        if overrides:
            raise SettingError("the random scenario takes no --set; vary --seed")
        return random_scenario(seed)
    if name not in SCENARIOS:
        raise SettingError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    sc = SCENARIOS[name]
    settings = parse_settings(sc.defaults, overrides)
    return execute(sc, seed, settings)


def execute(sc: Scenario, seed: int, settings: dict[str, Any]) -> ScenarioResult:
    w = build_world(seed, settings)
    sc.script(w)
    w.net.run(w.at(settings["duration_ms"]))
    first_mn = w.mobile_nodes[0].node
    points = {"mn": first_mn, "ha": "ha"}
    public = {k: v for k, v in settings.items() if not k.startswith("_")}
    truth = build_truth(scenario=sc.name, seed=seed, settings=public, vantages=[], net=w.net,
                        mobile_nodes=w.mobile_nodes, ha_node="ha", routers=w.routers)
    return ScenarioResult(name=sc.name, seed=seed, settings=public, default_vantage=sc.default_vantage,
                          crossings=w.net.crossings, vantage_points=points, truth_base=truth,
                          extra={"world": w})


# --- building blocks ---------------------------------------------------------------------------------


def start(w: World, generators: dict[str, list[Any]] | None = None) -> None:
    """Create the mobile nodes' machines and start every node."""
    from mipsniff.agent.mn import MobileNode

    start_ns = w.net.queue.start_ns
    for info in w.mobile_nodes:
        cfg = w.machines[info.node]
        w.machines[info.node] = MobileNode(cfg, machine_rng(w.seed, info.node), start_ns)
    gens = generators or {}
    for name, node in w.nodes.items():
        w.net.start(node, w.machines[name], gens.get(name, []))


def gen(kind: str, cfg: Any, w: World, name: str) -> Any:
    from mipsniff.agent import traffic

    rng = machine_rng(w.seed, name)
    start_ns = w.net.queue.start_ns
    if kind == "ping":
        return traffic.Ping(cfg, rng, start_ns)
    if kind == "rtp":
        return traffic.RtpStream(cfg, rng, start_ns)
    if kind == "udp":
        return traffic.UdpStream(cfg, rng, start_ns)
    if kind in ("rtp-sink", "udp-sink"):
        return traffic.Sink(cfg, rng, start_ns, kind=kind.split("-")[0])
    raise ValueError(kind)


def at_home(w: World, mn: str) -> None:
    w.net.link_up(w.mn_ifaces[mn], w.links["home"], w.at(0))


def move(w: World, mn: str, to: str, at_ms: float, gap_ms: float | None = None, trigger: bool = True) -> None:
    gap = w.settings["l2_gap_ms"] if gap_ms is None else gap_ms
    w.net.move(w.mn_ifaces[mn], w.links[to], w.at(at_ms), int(gap * NS_PER_MS), trigger)


def lose(w: World, what: str, count: int) -> None:
    """Scripted loss of the first `count` BUs ("bu") or BAs ("ba") on the core link (RFC 6275 §11.8)."""
    mh_type = 5 if what == "bu" else 6
    left = [count]

    def rule(tx: Transmission) -> bool:
        if left[0] > 0 and tx.link == "core" and tx.view.mh_type == mh_type:
            left[0] -= 1
            return True
        return False

    w.net.loss_rules.append(rule)


def mn_ping(w: World, mn: str, dst: IPv6Address = HA_ADDRESS) -> Any:
    info = next(m for m in w.mobile_nodes if m.node == mn)
    return gen("ping", ping(info.home_address, dst, w.settings), w, f"{mn}/ping")


# --- the scenarios -----------------------------------------------------------------------------------


@scenario("article", "The article: home -> remote cell, BU seq 54814, pings 3.7 ms -> 142 ms", "The article's experiment: MN raven at home pings HA denali (3.7 ms), moves to the remote "
          "cell, DAD, BU seq 54814 AH lifetime 262140, BA 0, pings resume through the tunnel (~142 ms, hlim 63)",
          move_at_ms=8500, l2_gap_ms=1300, initial_seq=54814)
def _article(w: World) -> None:
    mn = add_mobile_node(w, 0, initial_seq=w.settings["initial_seq"])
    at_home(w, mn)
    move(w, mn, "remote", w.settings["move_at_ms"])
    start(w, {mn: [mn_ping(w, mn)]})


@scenario("foreign-to-foreign", "Home -> remote -> remote2: registration then a foreign-to-foreign handover", "Home -> remote cell -> remote2 cell: a registration, then a foreign-to-foreign "
          "handover with a new CoA; pinging the CN through the tunnel", duration_ms=16000,
          move_at_ms=2500, move2_at_ms=9500, initial_seq=1000)
def _f2f(w: World) -> None:
    mn = add_mobile_node(w, 0, initial_seq=w.settings["initial_seq"])
    at_home(w, mn)
    move(w, mn, "remote", w.settings["move_at_ms"])
    move(w, mn, "remote2", w.settings["move2_at_ms"])
    start(w, {mn: [mn_ping(w, mn, CN_ADDRESS)]})


@scenario("return-home", "Home -> remote -> home: registration then deregistration", "Home -> remote cell -> home: registration, then deregistration (BU lifetime 0 from "
          "the home address, RFC 6275 §11.5.5)", duration_ms=16000, move_at_ms=2500, move2_at_ms=9500,
          initial_seq=2000)
def _return_home(w: World) -> None:
    mn = add_mobile_node(w, 0, initial_seq=w.settings["initial_seq"])
    at_home(w, mn)
    move(w, mn, "remote", w.settings["move_at_ms"])
    move(w, mn, "home", w.settings["move2_at_ms"])
    start(w, {mn: [mn_ping(w, mn)]})


@scenario("lost-ba", "The first BA (or BU) is lost: BU retransmitted after 1.5 s", "The first BA (or BU, with --set lose=bu) is lost on the core: the MN retransmits the "
          "BU after InitialBindackTimeoutFirstReg 1.5 s with the next sequence number (RFC 6275 §11.8)",
          move_at_ms=2500, lose="ba", lose_count=1, initial_seq=3000, duration_ms=12000)
def _lost_ba(w: World) -> None:
    mn = add_mobile_node(w, 0, initial_seq=w.settings["initial_seq"])
    at_home(w, mn)
    move(w, mn, "remote", w.settings["move_at_ms"])
    if w.settings["lose"] not in ("ba", "bu"):
        raise SettingError(f"setting lose={w.settings['lose']!r}: expected ba or bu")
    lose(w, str(w.settings["lose"]), int(w.settings["lose_count"]))
    start(w, {mn: [mn_ping(w, mn)]})


@scenario("rejected", "BA status 133 (not home agent for this MN): the handover fails", "The HA does not serve this home address: BA status 133 (not home agent for this "
          "mobile node; mip6d's BindingAclPolicy deny); the MN gives up, the handover fails",
          move_at_ms=2500, initial_seq=4000, duration_ms=10000, ha_serves_only="2001:db8::1234")
def _rejected(w: World) -> None:
    mn = add_mobile_node(w, 0, initial_seq=w.settings["initial_seq"])
    at_home(w, mn)
    move(w, mn, "remote", w.settings["move_at_ms"])
    start(w, {mn: [mn_ping(w, mn)]})


@scenario("seq-out-of-window", "MN restarts and reuses the accepted sequence number: BA 135, then the resend is accepted",
          "mip6d restarts on the MN while it moves from the remote cell to remote2 and starts again from the "
          "sequence number the HA last accepted: BA 135 carrying that number, then the resend with that "
          "number + 1 is accepted (RFC 6275 §9.5.1, §11.7.3)", move_at_ms=2000, move2_at_ms=7000,
          initial_seq=40000, restart_seq=40000, duration_ms=13000)
def _seq_window(w: World) -> None:
    from mipsniff.agent.mn import MobileNode

    mn = add_mobile_node(w, 0, initial_seq=w.settings["initial_seq"])
    at_home(w, mn)
    move(w, mn, "remote", w.settings["move_at_ms"])
    move(w, mn, "remote2", w.settings["move2_at_ms"])
    start(w, {mn: [mn_ping(w, mn)]})
    node = w.nodes[mn]
    cfg = w.machines[mn].config

    def restart() -> None:
        # The daemon restarts while the interface is down (between the two L2 events of the move): a
        # fresh machine, a fresh Binding Update List, a new sequence number; the HA still has the binding.
        from dataclasses import replace

        machine = MobileNode(replace(cfg, initial_seq=int(w.settings["restart_seq"])),
                             machine_rng(w.seed, f"{mn}/restarted"), w.net.now_ns)
        w.machines[mn] = machine
        w.net.replace_host(node, machine)

    gap = float(w.settings["l2_gap_ms"])
    w.net.queue.schedule(w.at(float(w.settings["move2_at_ms"]) + gap / 2), restart)


@scenario("rtp-stream", "Downlink RTP (20 ms) from the CN during a handover", "A downlink RTP stream (20 ms packets, like the article's video call) from the CN "
          "during a home -> remote handover; tunnelled packets may reach the MN before the BA",
          move_at_ms=2500, duration_ms=7000, initial_seq=5000, rtp_payload=100)
def _rtp(w: World) -> None:
    from mipsniff.agent.config import FlowConfig

    mn = add_mobile_node(w, 0, initial_seq=w.settings["initial_seq"])
    info = w.mobile_nodes[0]
    cfg = FlowConfig(flow="rtp-down", src=CN_ADDRESS, dst=info.home_address, interval_ms=20, start_ms=500,
                     payload_size=int(w.settings["rtp_payload"]))
    at_home(w, mn)
    move(w, mn, "remote", w.settings["move_at_ms"])
    start(w, {"cn": [gen("rtp", cfg, w, "cn/rtp")], mn: [gen("rtp-sink", cfg, w, f"{mn}/sink")]})


@scenario("route-optimization", "Return routability and a BU to the CN, data with HAO/RH2", "Home -> remote, then return routability with the CN (HoTI through the "
          "tunnel, CoTI direct, HoT, CoT), a BU to the CN, and pings with HAO/RH2 (RFC 6275 §5.2, §11.6)",
          move_at_ms=2500, duration_ms=12000, initial_seq=6000, cn_route_optimization=True)
def _ro(w: World) -> None:
    mn = add_mobile_node(w, 0, initial_seq=w.settings["initial_seq"], route_optimization_cns=(CN_ADDRESS,))
    at_home(w, mn)
    move(w, mn, "remote", w.settings["move_at_ms"])
    start(w, {mn: [mn_ping(w, mn, CN_ADDRESS)]})


@scenario("multi-mn", "Three MNs at the HA vantage: refreshes interleaved with handovers", "Three MNs seen from the HA: short binding lifetimes so refreshes (not handovers) "
          "interleave with the handovers of the others", default_vantage="ha", duration_ms=20000,
          mn_count=3, mn_max_life_s=8, initial_seq=7000)
def _multi(w: World) -> None:
    gens: dict[str, list[Any]] = {}
    n = int(w.settings["mn_count"])
    for i in range(n):
        mn = add_mobile_node(w, i, initial_seq=int(w.settings["initial_seq"]) + 1000 * i)
        at_home(w, mn)
        cells = ["remote", "remote2"]
        move(w, mn, cells[i % 2], 2000 + 1700 * i)
        if i % 2 == 0:
            move(w, mn, cells[(i + 1) % 2], 12000 + 1300 * i)
        info = w.mobile_nodes[i]
        gens[mn] = [gen("ping", ping(info.home_address, HA_ADDRESS, w.settings, flow=f"ping-{mn}",
                                     ident=0x1234 + i, start_ms=1000 + 137 * i), w, f"{mn}/ping")]
    start(w, gens)


@scenario("router-loss", "No L2 trigger: movement detected when the Advertisement Interval runs out", "No L2 trigger: the MN changes cell silently and detects the move when the home "
          "router's Advertisement Interval (option 7) runs out, then solicits the new router (RFC 6275 "
          "§11.5.1)", move_at_ms=3500, l2_gap_ms=0, home_ra_min_ms=150, home_ra_max_ms=250,
          cell_ra_min_ms=4000, cell_ra_max_ms=6000, cell_ra_initial_delay_ms=5000, initial_seq=8000,
          duration_ms=9000)
def _router_loss(w: World) -> None:
    mn = add_mobile_node(w, 0, initial_seq=w.settings["initial_seq"])
    at_home(w, mn)
    move(w, mn, "remote", w.settings["move_at_ms"], trigger=False)
    start(w, {mn: [mn_ping(w, mn)]})


# --- random scenarios for property tests --------------------------------------------------------------


def random_settings(seed: int) -> tuple[dict[str, Any], list[tuple[int, str, int]], str]:
    """Random delays, RA intervals, losses, MNs and moves; returns (settings, moves, vantage)."""
    r = random.Random(f"random-scenario/{seed}")
    ra_max = r.choice([300, 1000, 2000, 3000])
    settings = {
        **COMMON,
        "duration_ms": r.randint(8000, 12000),
        "home_delay_us": r.randint(200, 5000),
        "cell_delay_us": r.randint(200, 5000),
        "core_delay_us": r.randint(1000, 80000),
        "jitter_us": r.randint(0, 200),
        "cell_loss": r.choice([0.0, 0.0, 0.01, 0.03]),
        "home_ra_min_ms": max(30, ra_max // 3), "home_ra_max_ms": ra_max,
        "cell_ra_min_ms": max(30, ra_max // 3), "cell_ra_max_ms": ra_max,
        "ha_dad": r.random() < 0.5,
        "ping_interval_ms": r.choice([300, 500, 1000]),
        "ping_start_ms": r.randint(200, 1000),
        "l2_gap_ms": r.randint(0, 800),
        "mn_count": r.randint(1, 3),
        "initial_seq": r.randint(0, 65535),
    }
    moves: list[tuple[int, str, int]] = []
    for i in range(settings["mn_count"]):
        t = r.randint(1500, 3500)
        where = "home"
        for _ in range(r.randint(1, 3)):
            to = r.choice([c for c in ("home", "remote", "remote2") if c != where])
            if t > settings["duration_ms"] - 2000:
                break
            moves.append((i, to, t))
            where = to
            t += r.randint(3000, 6000)
    vantage = r.choice(["mn", "ha", "both"])
    return settings, moves, vantage


RANDOM_DESCRIPTION = "A random scenario (use --seed): random delays, RA intervals, losses, MNs, moves, vantage"


def random_scenario(seed: int) -> ScenarioResult:
    """One random scenario for property tests (issue 4: 200 of them analysed end to end)."""
    settings, moves, vantage = random_settings(seed)

    def script(w: World) -> None:
        gens: dict[str, list[Any]] = {}
        for i in range(settings["mn_count"]):
            mn = add_mobile_node(w, i, initial_seq=(settings["initial_seq"] + 7919 * i) % 65536)
            at_home(w, mn)
            info = w.mobile_nodes[i]
            gens[mn] = [gen("ping", ping(info.home_address, HA_ADDRESS, settings, flow=f"ping-{mn}",
                                         ident=0x1234 + i), w, f"{mn}/ping")]
        for i, to, t in moves:
            move(w, w.mobile_nodes[i].node, to, t)
        start(w, gens)

    sc = Scenario(name="random", summary="random", description=RANDOM_DESCRIPTION, defaults=settings, script=script, default_vantage=vantage)
    return execute(sc, seed, settings)
