"""Correspondent host and traffic generators: ping, UDP stream, RTP stream (RFC 4443 §4, RFC 768, RFC 3550 §5.1).

Theory of operation
-------------------
`Host` is a fixed node (one interface, static addresses, a default router) that answers NS and echo
requests and routes the packets its applications hand it (`AppSend`) — the correspondent node of the
article's experiment is the HA itself, but a separate CN uses this.

Generators are machines with one timer (the next packet) and one event besides it (`Deliver`, a packet
their host received). Each records ground truth for every data packet: `data_generated` when it hands
the packet to its host (the host then says `data_sent` or `data_unsent`), `data_received` when a
packet of its flow comes back to it. States: RUNNING until `count` packets or `stop_ms`, then DONE.
  - `Ping`: ICMPv6 echo requests every `interval_ms` (ping's 1 s default), `icmp_seq` from 1 like
    iputils ping; replies are matched on (identifier, seq) and their RTT and hop limit recorded.
  - `UdpStream`: UDP datagrams whose payload starts `MSNF`, u32 seq, u64 send time (ns), the flow name.
  - `RtpStream`: RTP over UDP (RFC 3550 §5.1: V=2, PT 96, seq = packet counter mod 2**16, 90 kHz
    timestamp, SSRC = CRC-32 of the flow name), every 20 ms by default like the article's video call.
  - `Sink`: records UDP/RTP packets of one flow delivered to its host (the receiving end of a stream).
`classify(packet)` tells which flow and sequence number a packet (possibly IPv6-in-IPv6) belongs to.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv6Address, IPv6Network

from mipsniff.agent import packets as pk
from mipsniff.agent.api import (
    NS_PER_MS,
    Action,
    AppSend,
    Deliver,
    Dropped,
    Event,
    GtKind,
    LinkDown,
    LinkUp,
    Received,
    Timer,
    gt,
)
from mipsniff.agent.config import FlowConfig, HostConfig, Route
from mipsniff.agent.node import EventKey, FixedNode, event_key

UDP_MAGIC = b"MSNF"
RTP_PAYLOAD_TYPE = 96  # dynamic (RFC 3551 §6)
RTP_CLOCK_HZ = 90_000  # video clock

RUNNING = "running"
DONE = "done"


# --- host --------------------------------------------------------------------------------------------

HostHandler = Callable[["Host", Event, "pk.Parsed | None", int], list[Action]]


class Host(FixedNode):
    """A correspondent node: answers NS and echo requests, routes its applications' packets."""

    TABLE: dict[tuple[str, EventKey], HostHandler] = {}

    def __init__(self, config: HostConfig, rng: random.Random, start_ns: int = 0) -> None:
        routes: tuple[Route, ...] = ()
        if config.default_router is not None:
            routes = (Route(prefix=IPv6Network("::/0"), iface=config.interface.name,
                            next_hop=config.default_router),)
        super().__init__((config.interface,), routes, rng, forwarding=False, hop_limit=config.hop_limit)
        self.config = config
        self.state = RUNNING

    def handle(self, event: Event, now_ns: int) -> list[Action]:
        key, parsed = event_key(event)
        if isinstance(event, Received) and parsed is None:
            return [Dropped(reason="malformed", packet=event.packet)]
        handler = self.TABLE.get((self.state, key), Host._on_other)
        return handler(self, event, parsed, now_ns)

    def next_deadline(self) -> int | None:
        return None

    def _on_app_send(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, AppSend)
        dst = IPv6Address(event.packet[24:40])
        action = self.route(event.packet, dst)
        if isinstance(action, Dropped):
            return [action, *_unsent(event, action.reason)]
        return [action, *_sent(event, action.iface, "direct")]

    def _on_ns(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        return list(self.answer_ns(event.iface, p, router=False))

    def _on_echo_request(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        if not self.is_for_me(event.iface, p.dst):
            return [Dropped(reason="not_for_me", packet=event.packet)]
        out: list[Action] = [Deliver(packet=event.packet)]
        if self.config.answer_echo:
            out.append(self.answer_echo(p))
        return out

    def _on_link(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, LinkUp | LinkDown)
        if event.iface in self.ifaces:
            self.ifaces[event.iface].up = isinstance(event, LinkUp)
        return []

    def _on_other(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        if isinstance(event, Received) and p is not None:
            if p.kind in (pk.Kind.RA, pk.Kind.NA, pk.Kind.RS):
                return []
            if self.is_for_me(event.iface, p.dst):
                return [Deliver(packet=event.packet)]
            return [Dropped(reason="not_for_me", packet=event.packet)]
        return []


Host.TABLE = {
    (RUNNING, AppSend): Host._on_app_send,
    (RUNNING, LinkUp): Host._on_link,
    (RUNNING, LinkDown): Host._on_link,
    (RUNNING, pk.Kind.NS): Host._on_ns,
    (RUNNING, pk.Kind.ECHO_REQUEST): Host._on_echo_request,
}


def _sent(event: AppSend, iface: str, path: str) -> list[Action]:
    if event.seq is None:
        return []
    return [gt(GtKind.DATA_SENT, flow=event.flow, seq=event.seq, iface=iface, path=path)]


def _unsent(event: AppSend, reason: str) -> list[Action]:
    if event.seq is None:
        return []
    return [gt(GtKind.DATA_UNSENT, flow=event.flow, seq=event.seq, reason=reason)]


# --- flow identification -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DataId:
    """Which data packet this is: `key` is `flow_key()` of its generator; `reply` for echo replies."""

    key: str
    seq: int
    reply: bool = False


def rtp_ssrc(flow: str) -> int:
    return zlib.crc32(flow.encode())


def flow_key(kind: str, config: FlowConfig) -> str:
    """The key `classify()` returns for the packets of a generator of `kind` ping/udp/rtp."""
    if kind == "ping":
        return f"echo:{config.ident & 0xFFFF:04x}"
    if kind == "rtp":
        return f"rtp:{rtp_ssrc(config.flow):08x}"
    return f"udp:{config.flow}"


def classify(packet: bytes) -> DataId | None:
    """The data packet inside `packet` (looking through one IPv6-in-IPv6 header), or None."""
    p = pk.parse(packet)
    if p is not None and p.kind == pk.Kind.TUNNEL:
        p = pk.parse(p.inner)
    if p is None:
        return None
    if p.kind in (pk.Kind.ECHO_REQUEST, pk.Kind.ECHO_REPLY):
        return DataId(key=f"echo:{p.ident:04x}", seq=p.echo_seq, reply=p.kind == pk.Kind.ECHO_REPLY)
    if p.kind == pk.Kind.UDP:
        pl = p.payload
        if len(pl) >= 16 and pl[:4] == UDP_MAGIC:
            seq = struct.unpack("!I", pl[4:8])[0]
            name = pl[16:].split(b"\x00", 1)[0].decode(errors="replace")
            return DataId(key=f"udp:{name}", seq=seq)
        if len(pl) >= 12 and pl[0] >> 6 == 2 and pl[1] & 0x7F == RTP_PAYLOAD_TYPE:
            seq, ssrc = struct.unpack("!H4xI", pl[2:12])
            return DataId(key=f"rtp:{ssrc:08x}", seq=seq)
    return None


# --- generators --------------------------------------------------------------------------------------


class _Generator:
    """Shared timer logic: one packet every `interval_ms` from `start_ms` until `count` / `stop_ms`."""

    KIND = "udp"

    def __init__(self, config: FlowConfig, rng: random.Random, start_ns: int = 0) -> None:
        self.config = config
        self.rng = rng
        self.key = flow_key(self.KIND, config)
        self.state = RUNNING
        self.next_seq = 0
        self.next_ns: int | None = start_ns + config.start_ms * NS_PER_MS
        self.stop_ns = start_ns + config.stop_ms * NS_PER_MS if config.stop_ms is not None else None
        self.sent: dict[int, int] = {}  # seq -> t_ns handed to the host
        self.received: dict[int, int] = {}  # seq -> t_ns received
        self.rtt_ns: dict[int, int] = {}
        self.hop_limits: dict[int, int] = {}

    def next_deadline(self) -> int | None:
        return self.next_ns if self.state == RUNNING else None

    def handle(self, event: Event, now_ns: int) -> list[Action]:
        if isinstance(event, Timer):
            return self._on_timer(now_ns)
        if isinstance(event, Deliver):
            return self._on_deliver(event, now_ns)
        return []

    def _on_timer(self, now: int) -> list[Action]:
        out: list[Action] = []
        while self.state == RUNNING and self.next_ns is not None and self.next_ns <= now:
            if (self.stop_ns is not None and self.next_ns >= self.stop_ns) or (
                    self.config.count is not None and self.next_seq >= self.config.count):
                self.state = DONE
                break
            seq = self.first_seq + self.next_seq
            self.next_seq += 1
            self.sent[seq] = now
            out.append(gt(GtKind.DATA_GENERATED, flow=self.config.flow, seq=seq))
            out.append(AppSend(packet=self.build(seq, now), flow=self.config.flow, seq=seq))
            self.next_ns += self.config.interval_ms * NS_PER_MS
        return out

    first_seq = 0

    def build(self, seq: int, now: int) -> bytes:
        raise NotImplementedError

    def _on_deliver(self, event: Deliver, now: int) -> list[Action]:
        return []


class Ping(_Generator):
    """ICMPv6 echo requests; replies matched on identifier and seq (RFC 4443 §4.1-§4.2)."""

    KIND = "ping"
    first_seq = 1  # iputils ping counts icmp_seq from 1

    def build(self, seq: int, now: int) -> bytes:
        c = self.config
        data = struct.pack("!Q", now) + bytes((8 + i) & 0xFF for i in range(max(0, c.payload_size - 8)))
        return pk.build_echo(c.src, c.dst, ident=c.ident, seq=seq, data=data[:c.payload_size], reply=False)

    def _on_deliver(self, event: Deliver, now: int) -> list[Action]:
        d = classify(event.packet)
        if d is None or d.key != self.key or not d.reply:
            return []
        # icmp_seq wraps at 2**16; match the latest request with that low part.
        candidates = [s for s in self.sent if s & 0xFFFF == d.seq and s not in self.received]
        if not candidates:
            return []
        seq = max(candidates)
        self.received[seq] = now
        self.rtt_ns[seq] = now - self.sent[seq]
        hlim = event.packet[7]
        self.hop_limits[seq] = hlim
        return [gt(GtKind.DATA_RECEIVED, flow=self.config.flow, seq=seq, rtt_ns=self.rtt_ns[seq], hop_limit=hlim)]


class UdpStream(_Generator):
    """UDP datagrams carrying `MSNF`, seq, send time and the flow name."""

    KIND = "udp"

    def build(self, seq: int, now: int) -> bytes:
        c = self.config
        head = UDP_MAGIC + struct.pack("!IQ", seq, now) + c.flow.encode()[:32] + b"\x00"
        payload = head + bytes(max(0, c.payload_size - len(head)))
        return pk.build_udp(c.src, c.dst, sport=c.sport, dport=c.dport, payload=payload)


class RtpStream(_Generator):
    """RTP over UDP (RFC 3550 §5.1), 20 ms packets by default."""

    KIND = "rtp"

    def build(self, seq: int, now: int) -> bytes:
        c = self.config
        ts = (seq * c.interval_ms * RTP_CLOCK_HZ // 1000) & 0xFFFFFFFF
        header = struct.pack("!BBHII", 0x80, RTP_PAYLOAD_TYPE, seq & 0xFFFF, ts, rtp_ssrc(c.flow))
        return pk.build_udp(c.src, c.dst, sport=c.sport, dport=c.dport,
                            payload=header + bytes(max(0, c.payload_size)))


class Sink:
    """The receiving end of a UDP or RTP flow: records what arrives (`kind` is "udp" or "rtp")."""

    def __init__(self, config: FlowConfig, rng: random.Random, start_ns: int = 0, *, kind: str = "udp") -> None:
        self.config = config
        self.key = flow_key(kind, config)
        self.received: dict[int, int] = {}
        self.hop_limits: dict[int, int] = {}
        self._wraps = 0
        self._last = -1

    def next_deadline(self) -> int | None:
        return None

    def handle(self, event: Event, now_ns: int) -> list[Action]:
        if not isinstance(event, Deliver):
            return []
        d = classify(event.packet)
        if d is None or d.key != self.key:
            return []
        seq = d.seq
        if self.key.startswith("rtp:"):
            # Unwrap the 16-bit RTP sequence into the generator's counter (RFC 3550 Appendix A.1 idea).
            if self._last >= 0 and seq < (self._last & 0xFFFF) and (self._last & 0xFFFF) - seq > 0x8000:
                self._wraps += 1
            seq += self._wraps << 16
            self._last = max(self._last, seq)
        self.received[seq] = now_ns
        self.hop_limits[seq] = event.packet[7]
        return [gt(GtKind.DATA_RECEIVED, flow=self.config.flow, seq=seq, rtt_ns=None, hop_limit=event.packet[7])]


