"""The article's testbed in network namespaces: links, addresses, radvd, and the state `lab down` undoes.

Layout (names carry the `msn-` prefix so nothing else on the host is touched):

    msn-ha (denali)        msn-ar (access router, forwarding)          msn-mn (raven)
    eth0 2001:db8::/64     home0 2001:db8::1     remote0 2001:db8:1::1   wlan0 (MAC 00:05:5d:f2:db:2b)
      |                      |                      |                      |
    ==+===== bridge "home" ==+==      ====== bridge "remote" ==+==   <- wlan0's peer joins one or the other
                     (both bridges live in msn-sw)

radvd runs on the HA's eth0 (RFC 6275 §7: H flag, Advertisement Interval option, Home Agent Information
option, prefix with the R flag) and on the AR's remote0 (Advertisement Interval option with the short
intervals RFC 6275 §7.5 allows). The kernels keep IPv6 addressing but leave router discovery, DAD and
everything Mobile IPv6 to the agent running in user space (`mipsniff.lab.agentd`).

Every object created is recorded under the run directory, and `down()` removes by prefix as well, so a
crash or a Ctrl-C between steps never leaves the host dirty.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from ipaddress import IPv6Address
from pathlib import Path

from mipsniff.errors import UserError
from mipsniff.lab import netns

PREFIX = "msn-"
NS_SW, NS_HA, NS_AR, NS_MN = (PREFIX + n for n in ("sw", "ha", "ar", "mn"))
NAMESPACES = (NS_SW, NS_HA, NS_AR, NS_MN)
RUN_DIR = Path(os.environ.get("MIPSNIFF_LAB_RUN", "/run/mipsniff-lab"))

HOME_PREFIX = "2001:db8::/64"
REMOTE_PREFIX = "2001:db8:1::/64"
HA_ADDRESS = IPv6Address("2001:db8::")  # the article's denali; BA source "2001:db8::"
AR_HOME = IPv6Address("2001:db8::1")
AR_REMOTE = IPv6Address("2001:db8:1::1")
HOME_ADDRESS = IPv6Address("2001:db8::beef")  # the article's raven HoA
MN_MAC = "00:05:5d:f2:db:2b"  # gives the article's CoA 2001:db8:1:0:205:5dff:fef2:db2b
HA_MAC = "02:00:00:00:0d:01"
AR_HOME_MAC = "02:00:00:00:0a:01"
AR_REMOTE_MAC = "02:00:00:00:0a:02"
MN_IFACE = "wlan0"
HA_IFACE = "eth0"
TUN_NAME = "mip6tnl"  # the agent's TUN carrying the home address (mip6d uses an ip6tnl device)
CELLS = ("home", "remote")

# radvd.conf(5). Home: the HA advertises itself (AdvHomeAgentFlag, AdvHomeAgentInfo) and its address
# with the R flag (AdvRouterAddr), as RFC 6275 §7.4/§7.2 require for DHAAD and for the MN to know its
# HA; AdvIntervalOpt gives the MN its router-loss timeout (§7.3). Remote: MIPv6 extensions allow
# sub-second intervals (notes §2: Max >= 0.07 s); 0.3-1.0 s keeps the capture readable.
RADVD_HOME = """interface eth0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 1;
    MaxRtrAdvInterval 3;
    AdvIntervalOpt on;
    AdvHomeAgentFlag on;
    AdvHomeAgentInfo on;
    HomeAgentLifetime 1800;
    HomeAgentPreference 10;
    prefix 2001:db8::/64 {
        AdvOnLink on;
        AdvAutonomous on;
        AdvRouterAddr on;
        AdvValidLifetime infinity;
        AdvPreferredLifetime infinity;
    };
};
"""
RADVD_REMOTE = """interface remote0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 0.3;
    MaxRtrAdvInterval 1.0;
    MinDelayBetweenRAs 0.05;
    AdvIntervalOpt on;
    prefix 2001:db8:1::/64 {
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime infinity;
        AdvPreferredLifetime infinity;
    };
};
"""


@dataclass(slots=True, kw_only=True)
class LabState:
    """What `up` created and started; saved as JSON in the run directory."""

    namespaces: list[str]
    pids: dict[str, int]  # role -> pid of the processes started (radvd-home, radvd-remote, agent-mn, ...)
    cell: str
    delay_ms: int = 0
    started_ns: int = 0


LOCK_PATH = Path("/run/mipsniff-lab.lock")


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """One lab per host: `lab` commands and the proof tests take turns (flock(2) on LOCK_PATH).

    Not taken by the functions below themselves, so a holder can call them (a second flock on a new
    descriptor of the same file would wait for itself)."""
    with open(LOCK_PATH, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _sh(ns: str | None, *argv: str, check: bool = True) -> str:
    return netns.run(ns, argv, check=check)


def _state_path() -> Path:
    return RUN_DIR / "state.json"


def load_state() -> LabState | None:
    try:
        return LabState(**json.loads(_state_path().read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def save_state(state: LabState) -> None:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    tmp = _state_path().with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=1))
    tmp.replace(_state_path())


def check_host() -> None:
    """One-line errors for what the lab cannot run without (root, iproute2, radvd, ip6tables, TUN)."""
    if os.geteuid() != 0:
        raise UserError("the lab needs root (network namespaces, radvd, raw sockets): run it with sudo")
    for tool, pkg in (("ip", "iproute2"), ("radvd", "radvd"), ("ip6tables", "iptables")):
        if shutil.which(tool) is None:
            raise UserError(f"the lab needs {tool}: install it (apt-get install {pkg})")
    if not os.path.exists("/dev/net/tun"):
        raise UserError("the lab needs /dev/net/tun (the TUN driver) for the home address")


def _sysctl(ns: str, key: str, value: str | int) -> None:
    _sh(ns, "sysctl", "-q", "-w", f"{key}={value}")


def _quiet_ipv6(ns: str, dev: str) -> None:
    """Leave router discovery, SLAAC and DAD to the agent, as mip6d does (notes §1.2)."""
    for key, value in (("accept_ra", 0), ("autoconf", 0), ("accept_dad", 0), ("router_solicitations", 0),
                       ("dad_transmits", 0)):
        _sysctl(ns, f"net.ipv6.conf.{dev}.{key}", value)


def _veth(ns_a: str, dev_a: str, ns_b: str, dev_b: str, mac_a: str | None = None) -> None:
    argv = ["ip", "link", "add", dev_a, "netns", ns_a]
    if mac_a:
        argv += ["address", mac_a]
    argv += ["type", "veth", "peer", "name", dev_b, "netns", ns_b]
    _sh(None, *argv)


def _build_links() -> None:
    for ns in NAMESPACES:
        _sh(None, "ip", "netns", "add", ns)
        _sh(ns, "ip", "link", "set", "lo", "up")
        # Default the whole namespace to quiet IPv6 before any interface appears.
        for key in ("accept_ra", "autoconf", "accept_dad", "router_solicitations", "dad_transmits"):
            _sysctl(ns, f"net.ipv6.conf.default.{key}", 0)

    for br in CELLS:
        _sh(NS_SW, "ip", "link", "add", br, "type", "bridge", "forward_delay", "0", "stp_state", "0")
        _sh(NS_SW, "ip", "link", "set", br, "up")
    _sysctl(NS_SW, "net.ipv6.conf.all.disable_ipv6", 1)
    _veth(NS_HA, HA_IFACE, NS_SW, "ha-eth0", HA_MAC)
    _veth(NS_AR, "home0", NS_SW, "ar-home0", AR_HOME_MAC)
    _veth(NS_AR, "remote0", NS_SW, "ar-remote0", AR_REMOTE_MAC)
    _veth(NS_MN, MN_IFACE, NS_SW, "mn-wlan0", MN_MAC)
    for port, br in (("ha-eth0", "home"), ("ar-home0", "home"), ("ar-remote0", "remote"), ("mn-wlan0", "home")):
        _sh(NS_SW, "ip", "link", "set", port, "master", br)
        _sh(NS_SW, "ip", "link", "set", port, "up")
    # HA: the kernel keeps only the link-local address (radvd needs it); the HA's own address 2001:db8::
    # belongs to the agent, which answers for it (ND, echo) so that nothing is answered twice.
    _quiet_ipv6(NS_HA, HA_IFACE)
    _sh(NS_HA, "ip", "link", "set", HA_IFACE, "up")
    # AR: the router between the links, kernel forwarding on.
    _sysctl(NS_AR, "net.ipv6.conf.all.forwarding", 1)
    # /128 plus an on-link route: with a /64 and forwarding on, Linux would also claim the
    # Subnet-Router anycast 2001:db8:: (RFC 4291 §2.6.1), which is the HA's address here.
    _sh(NS_AR, "ip", "addr", "add", f"{AR_HOME}/128", "dev", "home0", "nodad")
    _sh(NS_AR, "ip", "addr", "add", f"{AR_REMOTE}/64", "dev", "remote0", "nodad")
    for dev in ("home0", "remote0"):
        _sh(NS_AR, "ip", "link", "set", dev, "up")
    _sh(NS_AR, "ip", "-6", "route", "add", HOME_PREFIX, "dev", "home0")
    # Kernel neighbour entries stay REACHABLE for an hour: no NUD probes between the kernels and the
    # MN's link-local address around a move (RFC 4861 §7.3). Such a probe answered on the old link just
    # before it goes down looks, in a capture, like the MN's first packet on the new one.
    for ns, dev in ((NS_AR, "home0"), (NS_AR, "remote0"), (NS_HA, HA_IFACE), (NS_MN, MN_IFACE)):
        _sysctl(ns, f"net.ipv6.neigh.{dev}.base_reachable_time_ms", 3_600_000)
    # MN: wlan0 up with only its link-local address; the agent configures the rest.
    _quiet_ipv6(NS_MN, MN_IFACE)
    _sh(NS_MN, "ip", "link", "set", MN_IFACE, "up")


def _kernel_quiet_rules(ns: str, dev: str) -> None:
    """ip6tables raw-table drops so a kernel without CONFIG_IPV6_MIP6 does not answer Mobile IPv6.

    Such a kernel answers a Home Address option (type 201, action bits 11) and a type 2 routing header
    with ICMPv6 Parameter Problem (RFC 8200 §4.2, §4.4), an MH with Parameter Problem "unrecognized next
    header" (RFC 6275 §9.2), and has no ip6ip6 decapsulation. The agent sees all of these on its packet
    socket (which taps before netfilter) and handles them in user space; here the kernel stays quiet.
    """
    rules = [
        ["-p", "ipv6-mh"],
        ["-p", "41"],
        ["-p", "4"],
        ["-m", "rt", "--rt-type", "2"],
        ["-m", "ipv6header", "--header", "dst", "--soft"],
        ["-d", str(HOME_ADDRESS)],
    ]
    for rule in rules:
        # Only on the link: what the agent writes to its TUN device must reach the kernel.
        _sh(ns, "ip6tables", "-w", "-t", "raw", "-A", "PREROUTING", "-i", dev, *rule, "-j", "DROP")


def _start_radvd(ns: str, name: str, conf: str) -> int:
    conf_path = RUN_DIR / f"radvd-{name}.conf"
    pid_path = RUN_DIR / f"radvd-{name}.pid"
    log_path = RUN_DIR / f"radvd-{name}.log"
    conf_path.write_text(conf)
    pid_path.unlink(missing_ok=True)
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns, "radvd", "-n", "-C", str(conf_path), "-p", str(pid_path),
         "-m", "logfile", "-l", str(log_path), "-d", "1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return proc.pid


def _start_agent(ns: str, role: str, delay_ms: int) -> int:
    log = (RUN_DIR / f"agent-{role}.out").open("wb")
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "mipsniff.lab.agentd", role,
         "--run-dir", str(RUN_DIR), "--delay-ms", str(delay_ms)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    log.close()
    return proc.pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not running
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def _wait_ready(role: str, pid: int, timeout_s: float = 15.0) -> None:
    ready = RUN_DIR / f"agent-{role}.ready"
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if ready.exists():
            return
        if not _alive(pid):
            break
        time.sleep(0.05)
    out = (RUN_DIR / f"agent-{role}.out")
    tail = out.read_text(errors="replace").strip().splitlines()[-1:] if out.exists() else []
    raise UserError(f"the {role} agent did not start: {tail[0] if tail else 'no output'} (see {out})")


def is_up() -> bool:
    state = load_state()
    return state is not None and all(netns.exists(ns) for ns in state.namespaces) and all(
        _alive(pid) for pid in state.pids.values()
    )


def up(*, delay_ms: int = 0, with_agents: bool = True) -> LabState:
    """Build the lab; a no-op when it is already up (idempotent); rebuilt from scratch when half-built."""
    check_host()
    if is_up():
        state = load_state()
        assert state is not None
        return state
    down()
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    state = LabState(namespaces=list(NAMESPACES), pids={}, cell="home", delay_ms=delay_ms,
                     started_ns=time.time_ns())
    save_state(state)  # before anything exists, so a crash midway is still cleaned by `down`
    for old in (*RUN_DIR.glob("agent-*"), *RUN_DIR.glob("radvd-*")):
        old.unlink(missing_ok=True)  # a fresh run: its logs and ground truth start empty
    try:
        _build_links()
        for ns, dev in ((NS_HA, HA_IFACE), (NS_MN, MN_IFACE)):
            _kernel_quiet_rules(ns, dev)
        state.pids["radvd-home"] = _start_radvd(NS_HA, "home", RADVD_HOME)
        state.pids["radvd-remote"] = _start_radvd(NS_AR, "remote", RADVD_REMOTE)
        save_state(state)
        if with_agents:
            for ns, role in ((NS_HA, "ha"), (NS_MN, "mn")):
                state.pids[f"agent-{role}"] = _start_agent(ns, role, delay_ms)
                save_state(state)
                _wait_ready(role, state.pids[f"agent-{role}"])
    except RuntimeError as exc:  # an `ip`, `sysctl` or `ip6tables` command failed: say which, clean up
        down()
        raise UserError(f"could not build the lab: {exc}") from exc
    except BaseException:
        down()
        raise
    return state


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return


def down() -> list[str]:
    """Remove every namespace, bridge, process and rule the lab created; returns what was removed."""
    removed: list[str] = []
    state = load_state()
    pids = list(state.pids.values()) if state else []
    # Processes still running inside our namespaces (radvd forks, pings, captures) are ours too.
    for ns in netns.listed():
        if ns.startswith(PREFIX):
            out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=False)
            pids += [int(p) for p in out.stdout.split() if p.isdigit()]
    for pid in dict.fromkeys(pids):
        if _alive(pid):
            _kill(pid)
            removed.append(f"pid {pid}")
    deadline = time.monotonic() + 3
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids:
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    # Deleting a namespace deletes its veths, bridges, TUN devices and ip6tables rules with it.
    for ns in netns.listed():
        if ns.startswith(PREFIX):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
            removed.append(f"netns {ns}")
    if RUN_DIR.exists():
        for p in RUN_DIR.glob("*.ready"):
            p.unlink(missing_ok=True)
        _state_path().unlink(missing_ok=True)
    return removed


def move(cell: str, *, gap_ms: int = 200) -> float:
    """Move the MN's wlan0 to `cell` like `iwconfig wlan0 essid CELL`: link down, gap, link up there.

    Returns the time (epoch seconds) the link came up on the new cell.
    """
    if cell not in CELLS:
        raise UserError(f"unknown cell {cell!r}; cells: {', '.join(CELLS)}")
    state = load_state()
    if state is None or not netns.exists(NS_SW):
        raise UserError("the lab is not up: run `mipsniff lab up` first")
    _sh(NS_SW, "ip", "link", "set", "mn-wlan0", "down")
    time.sleep(gap_ms / 1000)
    _sh(NS_SW, "ip", "link", "set", "mn-wlan0", "master", cell)
    _sh(NS_SW, "ip", "link", "set", "mn-wlan0", "up")
    t_up = time.time()
    state.cell = cell
    save_state(state)
    return t_up


def status() -> list[tuple[str, str]]:
    """(what, state) lines for `lab status`."""
    state = load_state()
    rows: list[tuple[str, str]] = []
    if state is None:
        rows.append(("lab", "down"))
        stray = [ns for ns in netns.listed() if ns.startswith(PREFIX)]
        if stray:
            rows.append(("stray namespaces", " ".join(stray) + " (run `mipsniff lab down`)"))
        return rows
    rows.append(("lab", "up" if is_up() else "degraded"))
    rows.append(("mn cell", state.cell))
    if state.delay_ms:
        rows.append(("remote delay", f"{state.delay_ms} ms"))
    for ns in state.namespaces:
        rows.append((f"netns {ns}", "present" if netns.exists(ns) else "missing"))
    for role, pid in sorted(state.pids.items()):
        rows.append((role, f"pid {pid} " + ("running" if _alive(pid) else "dead")))
    return rows
