"""Correspondent host and traffic generators: ping, UDP stream, RTP stream (RFC 4443 §4, RFC 768, RFC 3550 §5.1).

Theory of operation
-------------------
`Host` is a fixed node (one interface, static addresses, a default router) that answers NS and echo
requests and routes the packets its applications hand it (`AppSend`) — the correspondent node of the
article's experiment is the HA itself, but a separate CN uses this. With `route_optimization` it is a
correspondent node of RFC 6275 §9: HoTI -> HoT and CoTI -> CoT with keygen tokens from its secret Kcn
(§5.2.5, §9.4); a BU whose Binding Authorization Data verifies creates a binding cache entry (stale
sequence numbers get BA 135, A flag a BA 0; lifetime 0 or from the HoA deregisters; §9.5); packets to a
bound HoA leave to its CoA with a type 2 routing header (§9.3.2); packets with a Home Address option are
accepted only from the bound CoA, others get a Binding Error status 1 (§9.3.1). Expired entries are
purged before every event.

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
    NS_PER_S,
    Action,
    AppSend,
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
        # Correspondent-node state (RFC 6275 §5.2.3, §9.4): the secret Kcn, one nonce, the binding cache.
        self.binding_cache: dict[IPv6Address, CnBinding] = {}
        self.kcn = rng.randbytes(20) if config.route_optimization else b""
        self.nonces: dict[int, bytes] = {1: rng.randbytes(8)} if config.route_optimization else {}

    def handle(self, event: Event, now_ns: int) -> list[Action]:
        out: list[Action] = []
        for hoa, b in list(self.binding_cache.items()):
            if b.expires_ns <= now_ns:  # never an expired binding in the cache
                del self.binding_cache[hoa]
                out.append(gt(GtKind.BINDING_REMOVED, home_address=hoa, reason="expired"))
        key, parsed = event_key(event)
        if isinstance(event, Received) and parsed is None:
            return out + [Dropped(reason="malformed", packet=event.packet)]
        if isinstance(event, Received) and parsed is not None and parsed.hoa is not None \
                and parsed.kind != pk.Kind.BU and self.config.route_optimization:
            # §9.3.1: a Home Address option is accepted only with a binding for that HoA at that CoA.
            bound = self.binding_cache.get(parsed.hoa)
            stripped = pk.strip_hao(event.packet)
            if bound is None or bound.care_of_address != parsed.src or stripped is None:
                be = pk.build_be(parsed.dst, parsed.src, status=int(pk.BeStatus.UNKNOWN_BINDING),
                                 home_address=parsed.hoa, hlim=self.hop_limit)
                return out + [Dropped(reason="hao_without_binding", packet=event.packet), self.route(be, parsed.src),
                              gt(GtKind.BE_SENT, status=1, home_address=parsed.hoa, dst=parsed.src)]
            event = Received(iface=event.iface, packet=stripped[0])
            key, parsed = event_key(event)
        handler = self.TABLE.get((self.state, key), Host._on_other)
        return out + handler(self, event, parsed, now_ns)

    def route(self, packet: bytes, dst: IPv6Address) -> Send | Dropped:
        """§9.3.2: packets to a bound home address go to its CoA with a type 2 routing header."""
        b = self.binding_cache.get(dst)
        if b is not None and packet[6] != 43:
            return super().route(pk.insert_rh2(packet, b.care_of_address), b.care_of_address)
        return super().route(packet, dst)

    # --- correspondent node: return routability and BUs (RFC 6275 §9.4, §9.5) ---

    def _on_test_init(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        """HoTI -> HoT to the home address, CoTI -> CoT to the CoA, each with a keygen token (§9.4.1-§9.4.4)."""
        assert isinstance(event, Received) and p is not None
        if not self.config.route_optimization or not self.is_for_me(event.iface, p.dst):
            return self._on_other(event, p, now)
        if not p.mh_checksum_ok:
            return [Dropped(reason="bad_checksum", packet=event.packet)]
        home = p.kind == pk.Kind.HOTI
        index = max(self.nonces)
        token = pk.keygen_token(self.kcn, p.src, self.nonces[index], home)
        reply = pk.build_test(p.dst, p.src, index=index, cookie=p.cookie, token=token, home=home, hlim=self.hop_limit)
        return [self.route(reply, p.src)]

    def _on_bu(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        """§9.5.1: verify the Binding Authorization Data with Kbm from the nonce indices, then cache."""
        assert isinstance(event, Received) and p is not None
        if not self.config.route_optimization or not self.is_for_me(event.iface, p.dst):
            return self._on_other(event, p, now)
        if not p.mh_checksum_ok:
            return [Dropped(reason="bad_checksum", packet=event.packet)]
        hoa, coa = p.hoa or p.src, p.src
        out: list[Action] = [gt(GtKind.BU_RECEIVED, home_address=hoa, care_of_address=coa, seq=p.seq,
                                lifetime_s=p.lifetime_s, flags=pk.BuFlags(p.flags).letters())]
        if p.flags & pk.BuFlags.H:
            return out + [Dropped(reason="bu_not_home_registration", packet=event.packet, detail="not a HA")]
        if p.home_nonce_index is None or p.authenticator is None:
            return out + [Dropped(reason="bu_without_rr_options", packet=event.packet)]
        dereg = p.lifetime_s == 0 or coa == hoa
        home_nonce = self.nonces.get(p.home_nonce_index)
        careof_nonce = self.nonces.get(p.careof_nonce_index or 0)
        if home_nonce is None or (careof_nonce is None and not dereg):
            return out + [Dropped(reason="bu_expired_nonce", packet=event.packet)]
        home_token = pk.keygen_token(self.kcn, hoa, home_nonce, True)
        careof_token = None if dereg else pk.keygen_token(self.kcn, coa, careof_nonce or b"", False)
        kbm = pk.binding_key(home_token, careof_token)
        if pk.bu_authenticator(kbm, coa, p.dst, p.mh[:-12]) != p.authenticator:
            return out + [Dropped(reason="bu_bad_authenticator", packet=event.packet)]
        b = self.binding_cache.get(hoa)
        if b is not None and not pk.seq_gt(p.seq, b.seq):
            return out + self._cn_ba(p, hoa, coa, int(pk.BaStatus.SEQ_OUT_OF_WINDOW), b.seq, 0)
        if dereg:
            if b is not None:
                del self.binding_cache[hoa]
                out.append(gt(GtKind.BINDING_REMOVED, home_address=hoa, reason="dereg"))
            return out + (self._cn_ba(p, hoa, coa, 0, p.seq, 0) if p.flags & pk.BuFlags.A else [])
        lifetime = min(p.lifetime_s, self.config.max_cn_binding_life_s) // 4 * 4
        self.binding_cache[hoa] = CnBinding(home_address=hoa, care_of_address=coa, seq=p.seq, lifetime_s=lifetime,
                                            expires_ns=now + lifetime * NS_PER_S)
        out.append(gt(GtKind.BINDING_ADDED, home_address=hoa, care_of_address=coa, seq=p.seq, lifetime_s=lifetime))
        if p.flags & pk.BuFlags.A:
            out += self._cn_ba(p, hoa, coa, 0, p.seq, lifetime)
        return out

    def _cn_ba(self, p: pk.Parsed, hoa: IPv6Address, coa: IPv6Address, status: int, seq: int,
               lifetime_s: int) -> list[Action]:
        ba = pk.build_ba(p.dst, coa, home_address=hoa, status=status, seq=seq, lifetime_s=lifetime_s,
                         hlim=self.hop_limit)
        return [super().route(ba, coa),
                gt(GtKind.BA_SENT, home_address=hoa, care_of_address=coa, status=status, seq=seq,
                   lifetime_s=lifetime_s)]

    def next_deadline(self) -> int | None:
        # Binding expiry (route optimisation only): purged at the start of `handle`.
        return min((b.expires_ns for b in self.binding_cache.values()), default=None)

    def _on_app_send(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, AppSend)
        dst = IPv6Address(event.packet[24:40])
        action = self.route(event.packet, dst)
        if isinstance(action, Dropped):
            return [action, *_unsent(event, action.reason)]
        return [action, *_sent(event, action.iface, "ro" if dst in self.binding_cache else "direct")]

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
    (RUNNING, pk.Kind.HOTI): Host._on_test_init,
    (RUNNING, pk.Kind.COTI): Host._on_test_init,
    (RUNNING, pk.Kind.BU): Host._on_bu,
}


@dataclass(slots=True)
class CnBinding:
    """A correspondent's binding cache entry (§9.1)."""

    home_address: IPv6Address
    care_of_address: IPv6Address
    seq: int
    lifetime_s: int
    expires_ns: int


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


