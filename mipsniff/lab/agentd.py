"""The agent over real sockets: drives the sans-I/O MN or HA machine inside its lab namespace.

Run as `ip netns exec msn-mn python -m mipsniff.lab.agentd mn` (the lab does it). The kernel here has no
Mobile IPv6 (no CONFIG_IPV6_MIP6, no ip6ip6), so this process does in user space what mip6d asks of the
kernel (RFC 6275 §11.3.1 and §10.4: tunnelling, Home Address option, type 2 routing header):

- an AF_PACKET socket on the node's interface hands every IPv6 packet addressed to the node (unicast or
  multicast; the kernel's ip6tables rules drop the Mobility Header, HAO, RH2, tunnel and home-address
  packets so the kernel stays quiet) to the machine as `Received`; `Send` actions leave through the same
  socket with an Ethernet header, the next hop's MAC resolved by this process's own Neighbor Discovery
  (RFC 4861 §7.2: learnt from RA/NS/NA link-layer options and link-local sources, else solicited);
- on the MN, a TUN device carries the home address, so that ordinary programs (`ping6 2001:db8::`) keep
  working across moves: packets read from it are `AppSend`s, `Deliver` actions are written to it;
- carrier changes on the interface (rtnetlink RTM_NEWLINK) become `LinkUp` / `LinkDown`;
- `AddressAdded` / `AddressRemoved` are installed with `ip addr` (no DAD: the machine did it), so `ip addr`
  shows the care-of address as it does under mip6d;
- the vty on localhost:7777, a log with millisecond timestamps, and the machine's ground truth as JSON
  lines (`agent-<role>.truth.jsonl`) timestamped on the clock the captures use (CLOCK_REALTIME; a frame's
  kernel timestamp is used as `now_ns` for the packet it carries).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import heapq
import json
import os
import queue
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from ipaddress import IPv6Address, IPv6Interface, IPv6Network
from pathlib import Path
from typing import Any

from mipsniff.agent import api
from mipsniff.capture.live import ETH_P_ALL, PACKET_OUTGOING, SO_TIMESTAMPNS, attach_filter, compile_bpf
from mipsniff.lab import topology as topo
from mipsniff.lab.vty import VtyServer

ETH_P_IPV6 = 0x86DD
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
RTMGRP_LINK = 1
NS_RETRIES = 3
NS_INTERVAL_NS = 1_000_000_000
MAX_PENDING = 64
# SO_TIMESTAMPING (linux/net_tstamp.h): software transmit timestamps, reported without the packet.
SO_TIMESTAMPING = 37
TS_FLAGS = (1 << 1) | (1 << 4) | (1 << 11)  # TX_SOFTWARE | SOFTWARE | OPT_TSONLY
# Ground-truth kinds that say "this packet left the node": stamped when it really leaves.
SENT_KINDS = frozenset({api.GtKind.BU_SENT, api.GtKind.RS_SENT, api.GtKind.DAD_START, api.GtKind.BA_SENT,
                        api.GtKind.BE_SENT, api.GtKind.RA_SENT, api.GtKind.DATA_SENT})


def mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


def mac_str(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def multicast_mac(dst: IPv6Address) -> bytes:
    """RFC 2464 §7: 33:33 followed by the low 32 bits of the multicast address."""
    return b"\x33\x33" + dst.packed[12:]


def solicited_node(addr: IPv6Address) -> IPv6Address:
    return IPv6Address(IPv6Address("ff02::1:ff00:0").packed[:13] + addr.packed[13:])


def link_local(mac: str) -> IPv6Address:
    b = bytearray(mac_bytes(mac))
    b[0] ^= 0x02
    return IPv6Address(b"\xfe\x80" + b"\x00" * 6 + bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:]))


def _icmpv6_checksum(src: IPv6Address, dst: IPv6Address, body: bytes) -> int:
    pseudo = src.packed + dst.packed + struct.pack("!I3xB", len(body), 58) + body
    if len(pseudo) % 2:
        pseudo += b"\0"
    s = sum(struct.unpack(f"!{len(pseudo) // 2}H", pseudo))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def build_ns(src: IPv6Address, target: IPv6Address, mac: str) -> bytes:
    """A Neighbor Solicitation for address resolution (RFC 4861 §4.3, §7.2.2) with our SLLA."""
    dst = solicited_node(target)
    body = bytearray(struct.pack("!BBHI", 135, 0, 0, 0) + target.packed + bytes([1, 1]) + mac_bytes(mac))
    struct.pack_into("!H", body, 2, _icmpv6_checksum(src, dst, bytes(body)))
    return struct.pack("!IHBB", 0x60000000, len(body), 58, 255) + src.packed + dst.packed + bytes(body)


class Neighbors:
    """IPv6 -> MAC for one link, learnt from what is heard, solicited when missing (RFC 4861 §7.2)."""

    def __init__(self, my_mac: str, send_raw: Callable[[bytes], int],
                 on_sent: Callable[[object, int | None], None] | None = None) -> None:
        self.my_mac = my_mac
        self.my_ll = link_local(my_mac)
        self.cache: dict[IPv6Address, bytes] = {}
        # Packets waiting for address resolution, each with the caller's token (see `send`).
        self.pending: dict[IPv6Address, list[tuple[bytes, object]]] = {}
        self._on_sent = on_sent
        self.tries: dict[IPv6Address, tuple[int, int]] = {}  # addr -> (tries, next_ns)
        self._send_raw = send_raw

    def learn(self, frame: bytes) -> None:
        if len(frame) < 54 or frame[12:14] != b"\x86\xdd":
            return
        src_mac = frame[6:12]
        src = IPv6Address(frame[22:38])
        if src.is_link_local:
            self._set(src, src_mac)
        if frame[20] != 58 or len(frame) < 58:
            return
        icmp_type = frame[54]
        # ND messages carry the link-layer address of a (possibly global) address on this link.
        if icmp_type in (134, 135, 136):
            opts_at = {134: 54 + 16, 135: 54 + 24, 136: 54 + 24}[icmp_type]
            want = 2 if icmp_type == 136 else 1
            addr = IPv6Address(frame[62:78]) if icmp_type in (135, 136) else src
            if icmp_type == 135:
                addr = src
            i = opts_at
            while i + 2 <= len(frame):
                otype, olen = frame[i], frame[i + 1] * 8
                if olen == 0:
                    break
                if otype == want and olen >= 8 and not addr.is_unspecified:
                    self._set(addr, frame[i + 2 : i + 8])
                i += olen

    def _set(self, addr: IPv6Address, mac: bytes) -> None:
        self.cache[addr] = mac
        for packet, token in self.pending.pop(addr, []):
            t = self._send_raw(self._frame(mac, packet))
            if token is not None and self._on_sent is not None:
                self._on_sent(token, t)
        self.tries.pop(addr, None)

    def _frame(self, dst_mac: bytes, packet: bytes) -> bytes:
        return dst_mac + mac_bytes(self.my_mac) + b"\x86\xdd" + packet

    def send(self, packet: bytes, next_hop: IPv6Address | None, now_ns: int, token: object = None) -> int | None:
        """Transmit now (the transmit time, ns) or queue until the next hop is resolved (None, and
        `on_sent(token, transmit time or None if never sent)` later)."""
        dst = IPv6Address(packet[24:40]) if next_hop is None else next_hop
        if dst.is_multicast:
            return self._send_raw(self._frame(multicast_mac(dst), packet))
        mac = self.cache.get(dst)
        if mac is not None:
            return self._send_raw(self._frame(mac, packet))
        q = self.pending.setdefault(dst, [])
        if len(q) < MAX_PENDING:
            q.append((packet, token))
        elif token is not None and self._on_sent is not None:
            self._on_sent(token, None)
        if dst not in self.tries:
            self.tries[dst] = (0, now_ns)
            self.tick(now_ns)
        return None

    def forget(self) -> None:
        """After a move the old link's neighbours are gone (RFC 6275 §11.5.1)."""
        self.cache.clear()
        for queued in self.pending.values():
            self._fail(queued)
        self.pending.clear()
        self.tries.clear()

    def _fail(self, queued: list[tuple[bytes, object]]) -> None:
        for _, token in queued:
            if token is not None and self._on_sent is not None:
                self._on_sent(token, None)

    def next_deadline(self) -> int | None:
        return min((t for _, t in self.tries.values()), default=None)

    def tick(self, now_ns: int) -> None:
        for addr, (n, due) in list(self.tries.items()):
            if due > now_ns:
                continue
            if n >= NS_RETRIES:
                self.tries.pop(addr, None)
                self._fail(self.pending.pop(addr, []))
                continue
            ns = build_ns(self.my_ll, addr, self.my_mac)
            self._send_raw(self._frame(multicast_mac(solicited_node(addr)), ns))
            self.tries[addr] = (n + 1, now_ns + NS_INTERVAL_NS)


STATS_LABELS = ("Mobility Headers", "BU messages", "BA messages", "BR messages", "BE messages",
                "Home Address Option", "Routing Header type 2", "reverse tunnel input")
_MH_LABELS = {0: "BR messages", 5: "BU messages", 6: "BA messages", 7: "BE messages"}


def mip_labels(packet: bytes, counters: dict[str, int]) -> None:
    """Count the Mobile IPv6 parts of one IPv6 packet under mip6d's `stats` labels (RFC 6275 §6)."""

    def bump(label: str) -> None:
        counters[label] = counters.get(label, 0) + 1

    if len(packet) < 40:
        return
    nh, off = packet[6], 40
    for _ in range(8):  # a short walk: the chains the agent sends and receives are at most two deep
        if nh in (0, 60) and off + 2 <= len(packet):
            length = (packet[off + 1] + 1) * 8
            if nh == 60 and b"\xc9\x10" in packet[off + 2 : off + length]:  # option 201, length 16
                bump("Home Address Option")
            nh, off = packet[off], off + length
        elif nh == 43 and off + 3 <= len(packet):
            if packet[off + 2] == 2:
                bump("Routing Header type 2")
            nh, off = packet[off], off + (packet[off + 1] + 1) * 8
        else:
            break
    if nh == 135 and off + 3 <= len(packet):
        bump("Mobility Headers")
        label = _MH_LABELS.get(packet[off + 2])
        if label:
            bump(label)
    elif nh == 41:
        bump("reverse tunnel input")


class Clock:
    """CLOCK_REALTIME in ns, never going backwards (the machines require it; captures use this clock)."""

    def __init__(self) -> None:
        self.last = 0

    def now(self, at: int | None = None) -> int:
        t = time.time_ns() if at is None else at
        self.last = max(self.last, t)
        return self.last


class IpWorker:
    """Runs `ip` commands off the packet loop, in order, so the loop never waits for a fork."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self.q: queue.Queue[list[str] | None] = queue.Queue()
        self.log = log
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self) -> None:
        while True:
            argv = self.q.get()
            if argv is None:
                return
            p = subprocess.run(argv, capture_output=True, text=True, check=False)
            if p.returncode != 0 and "File exists" not in p.stderr and "Cannot assign" not in p.stderr:
                self.log(f"lab: {' '.join(argv)}: {p.stderr.strip()}")

    def run(self, *argv: str) -> None:
        self.q.put(list(argv))


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def carrier(iface: str) -> bool:
    try:
        with open(f"/sys/class/net/{iface}/carrier") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


def build_machine(role: str, rng: random.Random, now_ns: int) -> Any:
    """The C1 machine for `role` with the lab's configuration (the article's addresses)."""
    from mipsniff.agent import config as cfg

    if role == "mn":
        from mipsniff.agent import mn  # type: ignore[attr-defined,unused-ignore]

        # MnRouterProbes 1: NUD-probe the router before declaring it lost. radvd schedules RAs uniformly
        # up to MaxRtrAdvInterval, which is also the Advertisement Interval the MN times out on, so an RA
        # a few ms late would otherwise end the binding (field notes §2, "practical note").
        return mn.MobileNode(cfg.MnConfig(iface=topo.MN_IFACE, mac=topo.MN_MAC, home_address=topo.HOME_ADDRESS,
                                          home_agent=topo.HA_ADDRESS, router_probes=1), rng, start_ns=now_ns)
    from mipsniff.agent import ha

    iface = cfg.InterfaceConfig(name=topo.HA_IFACE, mac=topo.HA_MAC,
                                addresses=(IPv6Interface(f"{topo.HA_ADDRESS}/64"),), ra=None)
    router = cfg.RouterConfig(interfaces=(iface,), routes=(
        cfg.Route(prefix=IPv6Network("::/0"), iface=topo.HA_IFACE, next_hop=topo.AR_HOME),))
    return ha.HomeAgent(cfg.HaConfig(router=router, home_iface=topo.HA_IFACE, address=topo.HA_ADDRESS,
                                     home_prefix=IPv6Network(topo.HOME_PREFIX)), rng, start_ns=now_ns)


def _jsonable(value: object) -> object:
    if isinstance(value, (IPv6Address, IPv6Interface, IPv6Network)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class Agent:
    """One node's event loop: link socket, TUN (MN), netlink, vty, timers; the machine decides."""

    def __init__(self, role: str, run_dir: Path, delay_ms: int = 0, vty_port: int = 7777) -> None:
        self.role = role
        self.iface = topo.MN_IFACE if role == "mn" else topo.HA_IFACE
        self.mac = topo.MN_MAC if role == "mn" else topo.HA_MAC
        self.run_dir = run_dir
        self.delay_ns = delay_ms * 1_000_000
        self.clock = Clock()
        self.stopping = False
        self.logf = (run_dir / f"agent-{role}.log").open("a", buffering=1)
        self.truthf = (run_dir / f"agent-{role}.truth.jsonl").open("a", buffering=1)
        self.ip = IpWorker(self.log)
        self.stats: dict[str, int] = {}
        self.mip_in: dict[str, int] = {}
        self.mip_out: dict[str, int] = {}
        self.machine = build_machine(role, random.Random(), self.clock.now())

        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        # Everything IPv6 but multicast UDP (mDNS, LLMNR, the load test's flood): no machine uses it.
        attach_filter(self.sock, compile_bpf("ip6 and not (udp and ip6 multicast)"))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING, TS_FLAGS)
        self.sock.bind((self.iface, ETH_P_ALL))
        self.sock.setblocking(False)
        self.neigh = Neighbors(self.mac, self._tx, self._on_sent)
        # Ground truth of a batch whose packet waits for address resolution is stamped when it leaves.
        self.held: dict[int, list[tuple[int, api.GroundTruth]]] = {}
        self._event_ts: int | None = None
        self.delayed: list[tuple[int, int, bytes, IPv6Address | None]] = []
        self._seq = 0

        self.tun: int | None = None
        if role == "mn":
            self.tun = open_tun(topo.TUN_NAME)
            for argv in (
                ["ip", "link", "set", topo.TUN_NAME, "up"],
                ["ip", "-6", "addr", "add", f"{topo.HOME_ADDRESS}/128", "dev", topo.TUN_NAME, "nodad"],
                # Every program's traffic goes through the agent, which routes it as the MN's stack:
                # directly at home, through the reverse tunnel away (RFC 6275 §11.3.1).
                ["ip", "-6", "route", "add", "default", "dev", topo.TUN_NAME, "metric", "1"],
            ):
                subprocess.run(argv, check=True, capture_output=True)

        self.nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.nl.bind((0, RTMGRP_LINK))
        self.nl.setblocking(False)
        self.link_up = carrier(self.iface)

        commands: dict[str, Callable[[], str]] = {"stats": self.render_stats}
        for name in ("bul", "bc"):
            render = getattr(self.machine, f"render_{name}", None)
            if render is not None:
                commands[name] = self._renderer(render)
        self.vty = VtyServer(commands, port=vty_port)

    def _renderer(self, render: Callable[..., str]) -> Callable[[], str]:
        def call() -> str:
            try:
                return render(self.clock.now())
            except TypeError:
                return render()

        return call

    # --- output ---

    def log(self, text: str) -> None:
        t = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"
        for i, line in enumerate(text.splitlines() or [""]):
            self.logf.write((f"{stamp} " if i == 0 else "    ") + line + "\n")

    def count(self, name: str) -> None:
        self.stats[name] = self.stats.get(name, 0) + 1

    def render_stats(self) -> str:
        """mip6d's `stats` layout (field notes §1.1) for the counters kept here, then the transport's."""
        lines = ["Input Statistics:"]
        lines += [f"     {self.mip_in.get(label, 0)} {label}" for label in STATS_LABELS]
        lines.append("Output Statistics:")
        lines += [f"     {self.mip_out.get(label, 0)} {label}" for label in STATS_LABELS]
        lines.append("Lab transport:")
        lines += [f"     {v} {k}" for k, v in sorted(self.stats.items())]
        return "\n".join(lines) + "\n"

    def _tx(self, frame: bytes) -> int:
        """Send one frame; return its kernel software transmit timestamp (ns), or the clock if none came."""
        try:
            self.sock.send(frame)
            self.count("frames sent")
            mip_labels(frame[14:], self.mip_out)
        except OSError as exc:  # ENETDOWN while the link is down: the frame is lost, as on a radio
            self.count(f"send error {exc.errno}")
            return self.clock.now()
        ts = None
        # veth transmits synchronously, so the timestamp is already on the error queue (timestamping.rst).
        for _ in range(8):
            try:
                _data, anc, _flags, _addr = self.sock.recvmsg(1, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
            except OSError:
                break
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPING and len(payload) >= 16:
                    sec, nsec = struct.unpack("qq", payload[:16])
                    if sec or nsec:
                        ts = sec * 1_000_000_000 + nsec
        # Not through the monotonic guard: a transmit time is a fact, not "now".
        self.count("transmit timestamps from the kernel" if ts is not None else "transmit timestamps missing")
        return ts if ts is not None else self.clock.now()

    # --- the machine ---

    def feed(self, event: api.Event, at_ns: int | None = None) -> None:
        now = self.clock.now(at_ns)
        try:
            actions = self.machine.handle(event, now)
        except Exception as exc:  # a bug in a machine must not take the lab down; it is logged
            self.log(f"lab: internal error handling {type(event).__name__}: {exc!r}")
            self.count("internal errors")
            return
        # What a received packet caused happened when the packet arrived: the kernel's receive timestamp
        # (the same one a capture on the link records), even if the loop got to it a few ms later and
        # the machine's clock, which may not go backwards, had moved on.
        saved, self._event_ts = self._event_ts, (at_ns if isinstance(event, api.Received) else None)
        try:
            self.perform(actions, now)
        finally:
            self._event_ts = saved

    def _on_sent(self, token: object, tx_ns: int | None) -> None:
        for t, g in self.held.pop(int(token), []):  # type: ignore[call-overload]
            self._write_truth(g, t if tx_ns is None else tx_ns)

    def _write_truth(self, g: api.GroundTruth, t_ns: int) -> None:
        rec = {"t_ns": t_ns, "node": self.role, "kind": str(g.kind)}
        rec.update({k: _jsonable(v) for k, v in g.fields.items()})
        self.truthf.write(json.dumps(rec) + "\n")

    def perform(self, actions: list[api.Action], now: int) -> None:
        self._seq += 1
        token = self._seq
        deferred = False
        last_tx: int | None = None
        # Packets first: nothing (an `ip` fork, a log write) may delay what goes on the wire.
        actions = sorted(actions, key=lambda a: not isinstance(a, api.Send))
        for a in actions:
            if isinstance(a, api.Send):
                if self.delay_ns and a.packet[6:7] == b"\x29":
                    # The lab's remote-path delay: tunnelled packets leave late (netem is not available).
                    self._seq += 1
                    heapq.heappush(self.delayed, (now + self.delay_ns, self._seq, a.packet, a.next_hop))
                else:
                    tx = self.neigh.send(a.packet, a.next_hop, now, token if not deferred else None)
                    if tx is None:
                        deferred = True
                    else:
                        last_tx = tx
            elif isinstance(a, api.Deliver):
                if self.tun is not None:
                    with contextlib.suppress(OSError):
                        os.write(self.tun, a.packet)
                    p = a.packet
                    if len(p) >= 48 and p[6] == 58 and p[40] == 129:
                        # The application (ping) is the data's generator: its reply arriving is ground truth.
                        ident, seq = struct.unpack("!HH", p[44:48])
                        self._write_truth(api.gt(api.GtKind.DATA_RECEIVED, flow=f"echo:{ident:04x}", seq=seq),
                                          self._event_ts if self._event_ts is not None else now)
            elif isinstance(a, api.Log):
                self.log(a.text)
            elif isinstance(a, api.Dropped):
                self.count(f"dropped {a.reason}")
            elif isinstance(a, api.AddressAdded):
                if a.address.ip != topo.HOME_ADDRESS:  # the home address lives on the TUN device
                    self.ip.run("ip", "-6", "addr", "replace", str(a.address), "dev", a.iface, "nodad",
                                "noprefixroute")
            elif isinstance(a, api.AddressRemoved):
                if a.address.ip != topo.HOME_ADDRESS:
                    self.ip.run("ip", "-6", "addr", "del", str(a.address), "dev", a.iface)
            elif isinstance(a, api.GroundTruth):
                if a.kind in SENT_KINDS:
                    self.held.setdefault(token, []).append((now, a))
                else:
                    self._write_truth(a, self._event_ts if self._event_ts is not None else now)
            elif isinstance(a, api.AppSend):
                self.feed(a)
        if not deferred:
            # "Sent" ground truth is the moment the frame left, taken by the kernel (SO_TIMESTAMPING), the
            # same instant a capture on the link records; `now` is before the machine built the packet.
            for t, g in self.held.pop(token, []):
                self._write_truth(g, t if last_tx is None else last_tx)

    # --- the loop ---

    def _on_frame(self) -> bool:
        """Handle one frame; False when there was none to read."""
        try:
            data, anc, _flags, addr = self.sock.recvmsg(65536, socket.CMSG_SPACE(16))
        except (BlockingIOError, InterruptedError):
            with contextlib.suppress(OSError):  # a stray transmit timestamp: drain it, select would spin
                while self.sock.recvmsg(1, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT):
                    pass
            return False
        except OSError:
            return False
        if addr[2] in (PACKET_OUTGOING, 3) or len(data) < 54 or data[12:14] != b"\x86\xdd":
            return True
        ts = None
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= 16:
                sec, nsec = struct.unpack("qq", payload[:16])
                ts = sec * 1_000_000_000 + nsec
        if not self.link_up:
            # A frame proves the carrier is back even if rtnetlink has not told us yet: LinkUp first.
            self._check_link()
        self.neigh.learn(data)
        self.count("frames received")
        mip_labels(data[14:], self.mip_in)
        self.feed(api.Received(iface=self.iface, packet=data[14:]), ts)
        return True

    def _on_tun(self) -> None:
        assert self.tun is not None
        try:
            packet = os.read(self.tun, 65536)
        except (BlockingIOError, InterruptedError):
            return
        if len(packet) < 40 or packet[0] >> 4 != 6:
            return
        flow, seq = "", None
        if packet[6] == 58 and len(packet) >= 48 and packet[40] == 128:
            ident, seq = struct.unpack("!HH", packet[44:48])
            flow = f"echo:{ident:04x}"
        self.feed(api.AppSend(packet=packet, flow=flow, seq=seq))

    def _on_netlink(self) -> None:
        with contextlib.suppress(BlockingIOError, InterruptedError, OSError):
            while self.nl.recv(65536):
                pass
        self._check_link()

    def _check_link(self) -> None:
        up = carrier(self.iface)
        if up == self.link_up:
            return
        self.link_up = up
        self.log(f"lab: link {'up' if up else 'down'} on {self.iface}")
        if not up:
            self.neigh.forget()
        self.feed(api.LinkUp(iface=self.iface) if up else api.LinkDown(iface=self.iface))

    def run(self) -> None:
        self.log(f"UMIP-like agent (mipsniff lab) started ({'Mobile Node' if self.role == 'mn' else 'Home Agent'})")
        if self.link_up:
            self.feed(api.LinkUp(iface=self.iface))
        (self.run_dir / f"agent-{self.role}.ready").write_text(str(os.getpid()))
        while not self.stopping:
            now = self.clock.now()
            deadlines = [d for d in (self.machine.next_deadline(), self.neigh.next_deadline(),
                                     self.delayed[0][0] if self.delayed else None) if d is not None]
            timeout = 0.5 if not deadlines else max(0.0, min(0.5, (min(deadlines) - now) / 1e9))
            # Link changes first: a carrier comes up before any frame can arrive on it.
            fds: list[Any] = [self.nl, self.sock, *self.vty.fds()]
            if self.tun is not None:
                fds.append(self.tun)
            try:
                ready, _, _ = select.select(fds, [], [], timeout)
            except InterruptedError:
                continue
            for r in ready:
                if r is self.sock:
                    for _ in range(64):  # drain a burst, but let timers and the vty run in between
                        if not self._on_frame():
                            break
                elif r is self.nl:
                    self._on_netlink()
                elif r == self.tun:
                    self._on_tun()
                else:
                    self.vty.on_readable(r)
            now = self.clock.now()
            while self.delayed and self.delayed[0][0] <= now:
                _, _, packet, hop = heapq.heappop(self.delayed)
                self.neigh.send(packet, hop, now)
            self.neigh.tick(now)
            deadline = self.machine.next_deadline()
            if deadline is not None and deadline <= now:
                self.feed(api.Timer(), now)
        self.log(f"UMIP-like agent (mipsniff lab) stopped ({self.role})")
        self.vty.close()
        self.ip.q.put(None)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m mipsniff.lab.agentd")
    p.add_argument("role", choices=("mn", "ha"))
    p.add_argument("--run-dir", type=Path, default=topo.RUN_DIR)
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--vty-port", type=int, default=7777)
    args = p.parse_args(argv)
    args.run_dir.mkdir(parents=True, exist_ok=True)
    agent = Agent(args.role, args.run_dir, args.delay_ms, args.vty_port)

    def stop(signum: int, frame: object) -> None:
        agent.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    agent.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
