"""The correlator: a streaming, per-mobile-node state machine over dissected packets (RFC 6275 §9-§11).

Theory of operation
-------------------
Sans-I/O (STYLE §5): `feed(frame_index, ts_ns, packet)` for every packet in capture order, `advance(now_ns)`
to let timers run without a packet (live capture), `finish(end_ns)` at the end; `next_deadline()` says
when the next timer is due. Time is only ever the packets' own timestamps (or the `now_ns` handed in), so
the result is the same fed one packet at a time, in chunks, or all at once: a timer fires when the
first event *strictly after* its deadline arrives, whichever call carries it.

Each packet becomes observations (`observe.py`): BU, BA, RA, RS, DAD NS, data of a home address with
its path, 802.11 management events, Parameter Problems. Mobile nodes are keyed by home address, learnt
from BUs (Home Address option, or the source of a deregistration sent at home, §11.5.4), BAs (type 2
routing header) and the `home_addresses` given up front (a file's first pass, or the user); tunnelled or
route-optimised data of a known home address is attributed to that MN.

States of one MN (`Phase`), events (`Signal`, a BU/BA classified against the MN's state) and timers:

    IDLE     no BU outstanding.
    WAIT_BA  an exchange is open: BUs sent for one care-of address, no acknowledging BA yet.
    SETTLE   a handover's exchange was answered; data on the new path, loss and RTT are still being
             collected until `settle_ns` after the first data on the new path (or `resume_timeout_ns`
             after the BA when none comes). A new BU ends it early.

A BU is classified (`_classify_bu`) as: a retransmission (same care-of address as the open exchange, or as
the last one within min(32 s, lifetime/2) of its last BU: UMIP resends after 1-32 s, §11.8, while a
refresh waits 0.95 of the lifetime); a deregistration (lifetime 0 or care-of address = home address,
§11.5.4); a refresh (the care-of address already bound, or, while no binding is known, already seen
carrying the MN's data); otherwise a registration. BU and BA are matched on (home address, HA, sequence
modulo 2**16, §9.5.1); a BA with status 135 carries the HA's last accepted number instead (§11.7.3) and
is matched to the open exchange whatever its sequence. A BA that matches only an earlier BU of the
exchange is stale (UMIP ignores it and waits for the BA of its latest BU).

The whole transition table is `TRANSITIONS` below: (phase, signal) -> (handler, next phase).

Timeline of a handover (records.Handover), all timestamps of packets in the capture:
t_last_old (last data on the old path before the first BU), t_link_up (first frame the MN sent after
t_last_old and after the last RA of the old link's router),
t_movement_detected (first RA of a router advertising the new address's prefix after t_last_old; or the
old router's last RA before it plus its Advertisement Interval when that ran out first, UMIP's
router-loss detection), t_dad (DAD NS for the new address), t_bu (first BU), t_ba (the first BA with a
final status, i.e. not 135, for any BU of the exchange), t_resumed (first data on the new path at or
after t_bu). `bu_retransmissions` counts the BUs sent before that BA, minus one; BUs the MN resends
because the BA was lost on its way (seen at the HA) join the binding but not that count.

Vantage: which packets are evidence of where the MN is
------------------------------------------------------
- Tunnelled data (outer HA <-> CoA, inner to/from the home address) and route-optimised data (HAO / RH2)
  name the care-of address in both directions, at every vantage.
- `mn` (the MN's own interface): every plain packet to or from the home address means "at home"; the
  MN's MAC is learnt from its uplink packets and BUs; every frame from that MAC counts for t_link_up;
  router-loss detection is computed from the RAs the MN received.
- `ha` (the HA's interfaces): a plain packet counts as "at home" only if it went between the MN's own
  MAC and the link (src MAC for uplink, dst MAC for downlink) — a packet for the home address that the
  HA intercepts for a roaming MN, or one it forwards after decapsulation, is not. Until the MN's MAC is
  known, plain traffic counts while the MN is not known to be away. t_link_up comes only from the MN's
  ND (RS, DAD NS) and t_movement_detected only from RAs seen, so the phases on a foreign link are None
  there ("null"): the HA cannot see them. Router loss is never inferred at the HA.
- `auto`: the HA rules for data; per handover, MN rules for the phases when the capture shows the new
  link (its router's RA, the DAD NS of the new address, or an RS from the MN), else HA rules.

Loss in the window [t_last_old, t_resumed] (None while either end is unknown): for the MN's pings
(requests from the home address, by identifier), requests never sent (gaps between consecutive request
numbers, each number's first sighting in capture order, where the gap straddles the window) and requests
in the window never answered; for RTP (by SSRC) and mipsniff's numbered UDP stream (by name), missing
numbers the same way. RTT: last echo answered by t_last_old, first echo sent after t_last_old and
answered at or after t_resumed.

Bounded memory: per-MN flows idle longer than `flow_idle_ns`, histories older than `history_ns` and
MN state idle longer than `idle_ns` are dropped (the MN's binding summary, a few fields, is kept).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import IntEnum
from ipaddress import IPv6Address
from typing import Any

from mipsniff.correlate.observe import (
    BaObs,
    BuObs,
    DadObs,
    DataObs,
    L2Obs,
    MhWeirdObs,
    ParamProblemObs,
    RaObs,
    RsObs,
    observe,
)
from mipsniff.correlate.records import (
    Binding,
    BindingKind,
    Correlation,
    CorrelationWeird,
    Handover,
    HandoverKind,
    HandoverResult,
    L2Record,
    MobileNode,
    PacketRecord,
    Vantage,
    address_text,
)

SEQ_MOD = 1 << 16
MAX_BINDACK_TIMEOUT_NS = 32_000_000_000  # RFC 6275 §13: MAX_BINDACK_TIMEOUT, UMIP's cap on BU resends
NS = 1_000_000_000


def seq_after(a: int, b: int) -> bool:
    """RFC 6275 §9.5.1: `a` is newer than `b` modulo 2**16 (a 32768 window, like MIP6_SEQ_GT)."""
    d = (a - b) % SEQ_MOD
    return 0 < d < SEQ_MOD // 2


class Phase(IntEnum):
    IDLE = 0
    WAIT_BA = 1
    SETTLE = 2


class Signal(IntEnum):
    BU_REGISTER = 1  # BU for a new care-of address
    BU_DEREGISTER = 2  # lifetime 0 or CoA = HoA while away (or not known to be home)
    BU_REFRESH = 3  # BU for the bound care-of address (or a deregistration while known home)
    BU_RETRANSMIT = 4  # BU for the same care-of address as the open / just-answered exchange
    BA_ACK = 5  # status < 128 for the latest BU of a handover's exchange
    BA_ACK_REFRESH = 6  # status < 128 for the latest BU of a refresh exchange
    BA_REJECT = 7  # status >= 128 (not 135) for the latest BU of a handover's exchange
    BA_REJECT_REFRESH = 8
    BA_SEQ_WINDOW = 9  # status 135: the HA's last accepted sequence number (§11.7.3)
    BA_STALE = 10  # matches an earlier BU of the exchange, or a duplicate
    BA_UNMATCHED = 11  # matches no BU: weird ba_without_bu
    SETTLED = 12  # timer: the handover's collection window is over


# (phase, signal) -> (handler name, next phase). Every transition of the machine is here.
TRANSITIONS: dict[tuple[Phase, Signal], tuple[str, Phase]] = {
    (Phase.IDLE, Signal.BU_REGISTER): ("_open_handover", Phase.WAIT_BA),
    (Phase.IDLE, Signal.BU_DEREGISTER): ("_open_handover", Phase.WAIT_BA),
    (Phase.IDLE, Signal.BU_REFRESH): ("_open_refresh", Phase.WAIT_BA),
    (Phase.IDLE, Signal.BU_RETRANSMIT): ("_add_bu", Phase.IDLE),  # a late copy of an answered exchange
    (Phase.IDLE, Signal.BA_STALE): ("_note_stale", Phase.IDLE),
    (Phase.IDLE, Signal.BA_UNMATCHED): ("_ba_without_bu", Phase.IDLE),
    (Phase.WAIT_BA, Signal.BU_REGISTER): ("_open_handover", Phase.WAIT_BA),
    (Phase.WAIT_BA, Signal.BU_DEREGISTER): ("_open_handover", Phase.WAIT_BA),
    (Phase.WAIT_BA, Signal.BU_REFRESH): ("_open_refresh", Phase.WAIT_BA),
    (Phase.WAIT_BA, Signal.BU_RETRANSMIT): ("_add_bu", Phase.WAIT_BA),
    (Phase.WAIT_BA, Signal.BA_ACK): ("_acknowledge", Phase.SETTLE),
    (Phase.WAIT_BA, Signal.BA_ACK_REFRESH): ("_acknowledge", Phase.IDLE),
    (Phase.WAIT_BA, Signal.BA_REJECT): ("_reject", Phase.SETTLE),
    (Phase.WAIT_BA, Signal.BA_REJECT_REFRESH): ("_reject", Phase.IDLE),
    (Phase.WAIT_BA, Signal.BA_SEQ_WINDOW): ("_note_seq_window", Phase.WAIT_BA),
    (Phase.WAIT_BA, Signal.BA_STALE): ("_note_stale", Phase.WAIT_BA),
    (Phase.WAIT_BA, Signal.BA_UNMATCHED): ("_ba_without_bu", Phase.WAIT_BA),
    (Phase.SETTLE, Signal.BU_REGISTER): ("_open_handover", Phase.WAIT_BA),
    (Phase.SETTLE, Signal.BU_DEREGISTER): ("_open_handover", Phase.WAIT_BA),
    (Phase.SETTLE, Signal.BU_REFRESH): ("_open_refresh", Phase.WAIT_BA),
    (Phase.SETTLE, Signal.BU_RETRANSMIT): ("_add_bu", Phase.SETTLE),  # the MN missed the BA (HA vantage)
    (Phase.SETTLE, Signal.BA_STALE): ("_note_stale", Phase.SETTLE),
    (Phase.SETTLE, Signal.BA_UNMATCHED): ("_ba_without_bu", Phase.SETTLE),
    (Phase.SETTLE, Signal.SETTLED): ("_settled", Phase.IDLE),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelatorConfig:
    vantage: Vantage = Vantage.AUTO
    settle_ns: int = 10 * NS  # collect replies/loss this long after the first data on the new path
    resume_timeout_ns: int = 60 * NS  # give up waiting for data on the new path this long after the BA
    history_ns: int = 300 * NS  # RA / DAD / RS / echo history kept for lookbacks
    flow_idle_ns: int = 120 * NS  # an echo / RTP flow idle this long is forgotten
    idle_ns: int = 900 * NS  # an MN idle this long has its working state dropped
    ping_pong_ns: int = 30 * NS  # back to the previous address within this time: a ping-pong
    keep_packets: bool = True  # keep one PacketRecord per signalling packet (packets.csv)


# --- mutable working state (private) --------------------------------------------------------------


@dataclass(slots=True)
class _Bu:
    ts: int
    frame: int
    seq: int
    lifetime_s: int


@dataclass(slots=True)
class _Ba:
    ts: int
    frame: int
    seq: int
    status: int
    status_name: str
    lifetime_s: int


@dataclass(slots=True)
class _Exchange:
    hoa: IPv6Address
    ha: IPv6Address
    coa: IPv6Address
    kind: BindingKind
    bus: list[_Bu] = field(default_factory=list)
    acked: _Ba | None = None  # the BA that answered the latest BU (accepted or rejected)
    bas: list[_Ba] = field(default_factory=list)
    last_status: _Ba | None = None  # the last BA of any status (135 included)
    superseded: bool = False
    closed: bool = False
    acked_count: int = 0  # BUs sent before the acknowledging BA

    @property
    def window_ns(self) -> int:
        life = self.acked.lifetime_s if self.acked is not None else self.bus[-1].lifetime_s
        if life <= 0:
            return MAX_BINDACK_TIMEOUT_NS
        return min(MAX_BINDACK_TIMEOUT_NS, life * NS // 2)


@dataclass(slots=True)
class _Ho:
    hoa: IPv6Address
    ha: IPv6Address
    kind: HandoverKind
    old_path: IPv6Address | None
    new_path: IPv6Address
    exchange: _Exchange
    t_last_old: tuple[int, int] | None
    t_link_up: tuple[int, int] | None
    t_md: tuple[int, int] | None
    trigger: str | None
    t_dad: tuple[int, int] | None
    t_resumed: tuple[int, int] | None = None
    l2: list[L2Record] = field(default_factory=list)
    lo_bound: tuple[int, int] | None = None  # (ts, frame): t_last_old, else the previous handover's BU


@dataclass(slots=True)
class _EchoReq:
    ts: int
    frame: int
    reply_ts: int | None = None


@dataclass(slots=True)
class _SeqFlow:
    """A numbered flow: gaps between consecutive numbers in capture order (first sighting of each)."""

    last_seen: int
    modulus: int = SEQ_MOD
    seen: dict[int, int] = field(default_factory=dict)  # seq -> ts of its first sighting
    last_seq: int | None = None
    last_ts: int = 0
    gaps: deque[tuple[int, int, int]] = field(default_factory=deque)  # (ts before, ts after, missing)

    def add(self, seq: int, ts: int) -> bool:
        """Record one number; False when it was already seen (a second copy)."""
        if seq in self.seen:
            return False
        self.seen[seq] = ts
        if self.last_seq is not None:
            d = (seq - self.last_seq) % self.modulus
            if 1 < d < self.modulus // 2:
                self.gaps.append((self.last_ts, ts, d - 1))
        self.last_seq, self.last_ts = seq, ts
        return True

    def prune(self, keep_from: int) -> None:
        for s in [s for s, t in self.seen.items() if t < keep_from]:
            del self.seen[s]
        while self.gaps and self.gaps[0][1] < keep_from:
            self.gaps.popleft()


@dataclass(slots=True)
class _EchoFlow(_SeqFlow):
    reqs: dict[int, _EchoReq] = field(default_factory=dict)


@dataclass(slots=True)
class _Mn:
    hoa: IPv6Address
    ha: IPv6Address | None = None
    mac: str | None = None
    first_frame: int = 0
    coas: list[IPv6Address] = field(default_factory=list)
    phase: Phase = Phase.IDLE
    bound: bool = False  # a BA has told us the binding
    path: IPv6Address | None = None  # the bound address: the HoA (home), a CoA, or None (unknown)
    where: IPv6Address | None = None  # where the MN last moved to (its last handover's new address)
    in_use: set[IPv6Address] = field(default_factory=set)
    last_data: dict[IPv6Address, tuple[int, int]] = field(default_factory=dict)
    sent_hist: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=512))
    exchange: _Exchange | None = None
    ho: _Ho | None = None
    last_seq: int | None = None
    last_seen: int = 0
    prev_ho: tuple[IPv6Address | None, IPv6Address, int, int] | None = None  # (old, new, t_bu, frame)
    echo: dict[int, _EchoFlow] = field(default_factory=dict)  # the MN's pings, by identifier
    rtp: dict[tuple[str, object], _SeqFlow] = field(default_factory=dict)  # RTP by SSRC, streams by name


@dataclass(slots=True)
class _Router:
    prefixes: set[Any] = field(default_factory=set)
    ras: deque[tuple[int, int, int | None]] = field(default_factory=deque)  # (ts, frame, interval_ns)
    last: tuple[int, int, int | None] | None = None


class Correlator:
    """Feed dissected packets in capture order; read `result()` after `finish()`. See the module doc.

    `owns` (optional) makes this one partition of a partitioned run: observations that name a home
    address it rejects are dropped (those of BUs/BAs still make the address a home address, as the MN
    they create would); observations naming none (RAs, RSs, DAD NSs, 802.11 events, hoa-less weirds)
    are link-wide evidence and are kept. Fed every frame of the capture (frames of other partitions
    may be fed as `feed_observations(i, ts, (), src_mac, None)`: timers, pruning and the MN's own
    frames by MAC then run as in one machine), each partition's MNs come out as the single machine's,
    provided no MAC address is learnt by MNs of two partitions (mipsniff.multi.reduce checks)."""

    def __init__(
        self,
        config: CorrelatorConfig | None = None,
        home_addresses: Iterable[IPv6Address | str] = (),
        *,
        owns: Callable[[IPv6Address], bool] | None = None,
    ) -> None:
        self.config = config or CorrelatorConfig()
        # A partition of the mobile nodes (mipsniff.multi.reduce): observations naming a home address
        # this predicate rejects are left to another Correlator. See `feed_observations`.
        self._owns = owns
        self._mns: dict[IPv6Address, _Mn] = {}
        self._hints: set[IPv6Address] = {IPv6Address(a) for a in home_addresses}
        self._mac_to_hoa: dict[str, IPv6Address] = {}
        self._routers: dict[IPv6Address, _Router] = {}
        self._dad: dict[IPv6Address, deque[tuple[int, int]]] = {}
        self._nd_sent: deque[tuple[int, int, str | None, str]] = deque()  # (ts, frame, mac, kind)
        self._l2: deque[tuple[int, int, L2Obs]] = deque()
        self._bindings: list[Binding] = []
        self._handovers: list[Handover] = []
        self._weirds: list[CorrelationWeird] = []
        self._packets: list[PacketRecord] = []
        self._now = 0
        self._next_prune = 0
        self._frame = 0
        self._first_ts: int | None = None
        # No timer is due at or before this time (a bound computed by `_run_timers(bound=True)`, reset
        # by every observation): frames without observations then skip the per-MN timer scan.
        self._quiet_until = -1
        self._finished = False
        self._src_mac: str | None = None  # link source of the packet being handled
        # When a set: addresses of data packets of no known home address (report.pipeline's one-pass
        # check that no home address learnt later had traffic before it was learnt).
        self.unclaimed: set[IPv6Address] | None = None

    # --- public API -------------------------------------------------------------------------------

    @property
    def home_addresses(self) -> frozenset[IPv6Address]:
        """Every home address known so far (given up front or learnt), for the capture prefilter."""
        return frozenset(self._hints | set(self._mns))

    @property
    def mobile_node_count(self) -> int:
        return len(self._mns)

    def is_home(self, addr: Any) -> bool:
        return addr in self._mns or addr in self._hints

    def feed(self, frame_index: int, ts_ns: int, packet: Any, raw: bytes | None = None) -> None:
        """One dissected packet (`dissectors.Packet`), in capture order; `raw`, the frame's bytes, lets
        the payload of mipsniff's numbered UDP stream be read."""
        link = packet.link
        src_mac = link.src_mac if link is not None else None
        dst_mac = link.dst_mac if link is not None else None
        obs = observe(packet, self.is_home, raw, self.unclaimed)
        self.feed_observations(frame_index, ts_ns, obs, src_mac, dst_mac)

    def feed_observations(
        self, frame_index: int, ts_ns: int, observations: Iterable[Any], src_mac: str | None, dst_mac: str | None
    ) -> None:
        """The same as `feed` for a packet already reduced to its observations (`observe.observe`, or
        `observe.fast_echo` for echo frames read straight from their bytes) and link addresses."""
        if observations or ts_ns > self._quiet_until or ts_ns >= self._next_prune:
            self._run_timers(ts_ns, bound=not observations)
        # else: a frame with nothing for this machine (another partition's) before any timer is due
        self._now = max(self._now, ts_ns)
        self._frame = frame_index
        if self._first_ts is None:
            self._first_ts = ts_ns
        self._src_mac = src_mac
        owns = self._owns
        for ob in observations:
            self._quiet_until = -1  # state changes: deadlines are recomputed at the next timer run
            if owns is not None:
                hoa = getattr(ob, "hoa", None)
                if hoa is not None and not owns(hoa):
                    if isinstance(ob, BuObs | BaObs):
                        # The unpartitioned machine would create that MN here (`_mn`), after which its
                        # address is a home address for `observe`: keep `is_home` the same.
                        self._hints.add(hoa)
                    continue
            self._dispatch(ob, frame_index, ts_ns, src_mac, dst_mac)
        if src_mac is not None:
            self._note_sent(src_mac, ts_ns, frame_index)

    def feed_many(self, items: Iterable[tuple[int, int, Any]]) -> None:
        for frame_index, ts_ns, packet in items:
            self.feed(frame_index, ts_ns, packet)

    def advance(self, now_ns: int) -> None:
        """Let time pass without a packet (live capture): run the timers due strictly before `now_ns`."""
        self._run_timers(now_ns)

    def next_deadline(self) -> int | None:
        best: int | None = None
        for mn in self._mns.values():
            d = self._deadline(mn)
            if d is not None and (best is None or d < best):
                best = d
        return best

    def finish(self, end_ns: int | None = None) -> Correlation:
        """End of the capture: close every open exchange and handover. Returns `result()`."""
        if not self._finished:
            end = self._now if end_ns is None else max(end_ns, self._now)
            self._run_timers(end)
            for mn in list(self._mns.values()):
                self._close_all(mn, end, at_end=True)
            self._finished = True
        return self.result()

    def result(self) -> Correlation:
        hos = sorted(self._handovers, key=lambda h: (h.t_bu, str(h.home_address)))
        hos = [replace(h, id=i) for i, h in enumerate(hos, 1)]
        mns = []
        for mn in sorted(self._mns.values(), key=lambda m: (m.first_frame, str(m.hoa))):
            mns.append(
                MobileNode(
                    home_address=mn.hoa,
                    home_agent=mn.ha,
                    care_of_addresses=tuple(mn.coas),
                    mac=mn.mac,
                    first_frame=mn.first_frame,
                )
            )
        return Correlation(
            mobile_nodes=tuple(mns),
            bindings=tuple(sorted(self._bindings, key=lambda b: (b.t_bu, str(b.home_address)))),
            handovers=tuple(hos),
            weirds=tuple(self._weirds),
            packets=tuple(self._packets),
        )

    # --- dispatch ----------------------------------------------------------------------------------

    def _dispatch(self, ob: Any, frame: int, ts: int, src_mac: str | None, dst_mac: str | None) -> None:
        if isinstance(ob, DataObs):
            self._on_data(ob, frame, ts, src_mac, dst_mac)
        elif isinstance(ob, BuObs):
            self._on_bu(ob, frame, ts, src_mac)
        elif isinstance(ob, BaObs):
            self._on_ba(ob, frame, ts)
        elif isinstance(ob, RaObs):
            self._on_ra(ob, frame, ts)
        elif isinstance(ob, RsObs):
            self._nd_sent.append((ts, frame, src_mac, "rs"))
            self._record(frame, ts, "rs", None, ob.src, None)
        elif isinstance(ob, DadObs):
            self._dad.setdefault(ob.target, deque()).append((ts, frame))
            self._nd_sent.append((ts, frame, src_mac, "dad"))
            self._record(frame, ts, "dad", None, "::", ob.target)
        elif isinstance(ob, L2Obs):
            self._l2.append((ts, frame, ob))
            self._record(frame, ts, "l2", None, ob.src_mac, ob.dst_mac)
        elif isinstance(ob, ParamProblemObs):
            self._weird(ob.name, ob.detail, frame, ts, ob.hoa)
            self._record(frame, ts, "param_problem", ob.hoa, None, None)
        elif isinstance(ob, MhWeirdObs):
            self._weird(ob.name, ob.detail, frame, ts, ob.hoa)

    def _mn(self, hoa: IPv6Address, frame: int) -> _Mn:
        mn = self._mns.get(hoa)
        if mn is None:
            mn = self._mns[hoa] = _Mn(hoa=hoa, first_frame=frame)
        return mn

    def _step(self, mn: _Mn, signal: Signal, ob: Any, frame: int, ts: int) -> None:
        entry = TRANSITIONS.get((mn.phase, signal))
        if entry is None:  # a combination the table does not list: nothing to do
            return
        handler, nxt = entry
        getattr(self, handler)(mn, signal, ob, frame, ts)
        mn.phase = nxt

    # --- timers and expiry -------------------------------------------------------------------------

    def _deadline(self, mn: _Mn) -> int | None:
        if mn.phase == Phase.SETTLE and mn.ho is not None:
            ex = mn.ho.exchange
            if mn.ho.t_resumed is not None:
                return mn.ho.t_resumed[0] + self.config.settle_ns
            base = ex.acked.ts if ex.acked is not None else ex.bus[-1].ts
            return base + self.config.resume_timeout_ns
        return None

    def _run_timers(self, now: int, bound: bool = False) -> None:
        idle_ns = self.config.idle_ns
        quiet = 1 << 62
        for mn in list(self._mns.values()):
            d = self._deadline(mn)
            if d is not None and now > d:
                self._step(mn, Signal.SETTLED, None, self._frame, d)
            if now - mn.last_seen > idle_ns and (mn.ho is not None or mn.echo or mn.rtp):
                self._close_all(mn, now, at_end=False)
            if bound:
                # When this MN's timers can next fire: its deadline passes, or it has been idle too long
                # (`last_seen` only grows without an observation, so this is a safe lower bound).
                d = self._deadline(mn)
                if d is not None and d < quiet:
                    quiet = d
                if (mn.ho is not None or mn.echo or mn.rtp) and mn.last_seen + idle_ns < quiet:
                    quiet = mn.last_seen + idle_ns
        if bound:
            self._quiet_until = quiet
        if now >= self._next_prune:
            self._prune(now)
            self._next_prune = now + NS

    def _prune(self, now: int) -> None:
        horizon = now - self.config.history_ns
        for r in self._routers.values():
            while r.ras and r.ras[0][0] < horizon:
                r.ras.popleft()
        for tgt in [t for t, q in self._dad.items() if q and q[-1][0] < horizon]:
            del self._dad[tgt]
        while self._nd_sent and self._nd_sent[0][0] < horizon:
            self._nd_sent.popleft()
        while self._l2 and self._l2[0][0] < horizon:
            self._l2.popleft()
        for mn in self._mns.values():
            lo = mn.ho.t_last_old[0] if mn.ho is not None and mn.ho.t_last_old is not None else now
            keep_from = min(horizon, lo)
            idle_limit = now - self.config.flow_idle_ns
            for fk in [k for k, f in mn.echo.items() if f.last_seen < idle_limit and mn.ho is None]:
                del mn.echo[fk]
            for sk in [k for k, f in mn.rtp.items() if f.last_seen < idle_limit and mn.ho is None]:
                del mn.rtp[sk]
            for ef in mn.echo.values():
                ef.prune(keep_from)
                for q in [q for q, r in ef.reqs.items() if r.ts < keep_from]:
                    del ef.reqs[q]
            for sf in mn.rtp.values():
                sf.prune(keep_from)

    def _close_all(self, mn: _Mn, now: int, at_end: bool) -> None:
        if mn.ho is not None:
            self._finalize(mn, now, at_end=at_end)
        if mn.exchange is not None and not mn.exchange.closed:
            self._close_exchange(mn.exchange, now, at_end=at_end)
        mn.phase = Phase.IDLE
        if not at_end:
            mn.echo.clear()
            mn.rtp.clear()
            mn.last_data.clear()

    # --- data --------------------------------------------------------------------------------------

    def _evidence(self, mn: _Mn, d: DataObs, src_mac: str | None, dst_mac: str | None) -> bool:
        if not d.plain or self.config.vantage == Vantage.MN:
            return True
        if mn.mac is not None:
            return (src_mac == mn.mac) if d.uplink else (dst_mac == mn.mac)
        # MAC not known yet: plain traffic of the home address says "at home" unless the MN is known to
        # be away (then it is the HA intercepting or forwarding it, RFC 6275 §10.4.1).
        here = mn.where if mn.where is not None else mn.path
        return here is None or here == mn.hoa

    def _on_data(self, d: DataObs, frame: int, ts: int, src_mac: str | None, dst_mac: str | None) -> None:
        mn = self._mn(d.hoa, frame)
        mn.last_seen = ts
        self._account_flows(mn, d, frame, ts)
        if not self._evidence(mn, d, src_mac, dst_mac):
            return
        if d.uplink and src_mac is not None and mn.mac is None:
            # The MN's own frames: learnt from its uplink (direct at home, or as the tunnel's source).
            if self.config.vantage == Vantage.MN or d.plain:
                self._set_mac(mn, src_mac)
        mn.last_data[d.path] = (ts, frame)
        if len(mn.last_data) > 8:
            oldest = min(mn.last_data, key=lambda k: mn.last_data[k][0])
            del mn.last_data[oldest]
        if not mn.bound:
            mn.in_use.add(d.path)
            if len(mn.in_use) > 8:
                mn.in_use.clear()
                mn.in_use.add(d.path)
            mn.path = d.path
        ho = mn.ho
        if ho is not None and ho.t_resumed is None and d.path == ho.new_path and ts >= ho.exchange.bus[0].ts:
            ho.t_resumed = (ts, frame)

    def _account_flows(self, mn: _Mn, d: DataObs, frame: int, ts: int) -> None:
        if d.echo is not None:
            is_req, ident, seq = d.echo
            # Loss is counted for the MN's own pings (requests from the home address, as in the article).
            if is_req != d.uplink:
                return
            ef = mn.echo.get(ident)
            if ef is None:
                ef = mn.echo[ident] = _EchoFlow(last_seen=ts)
            ef.last_seen = ts
            if is_req:
                if ef.add(seq, ts):
                    ef.reqs[seq] = _EchoReq(ts=ts, frame=frame)
            else:
                r = ef.reqs.get(seq)
                if r is not None and r.reply_ts is None:
                    r.reply_ts = ts
            return
        key: tuple[str, object]
        if d.stream is not None:
            key, seq, modulus = ("udp", d.stream[0]), d.stream[1], 1 << 32
        elif d.rtp is not None:
            key, seq, modulus = ("rtp", d.rtp[0]), d.rtp[1], SEQ_MOD
        else:
            return
        sf = mn.rtp.get(key)
        if sf is None:
            sf = mn.rtp[key] = _SeqFlow(last_seen=ts, modulus=modulus)
        sf.last_seen = ts
        sf.add(seq, ts)

    def _set_mac(self, mn: _Mn, mac: str) -> None:
        mn.mac = mac
        self._mac_to_hoa[mac] = mn.hoa

    def _note_sent(self, src_mac: str, ts: int, frame: int) -> None:
        hoa = self._mac_to_hoa.get(src_mac)
        if hoa is None:
            return
        mn = self._mns.get(hoa)
        if mn is None:
            return
        mn.last_seen = ts
        mn.sent_hist.append((ts, frame))

    # --- router advertisements ---------------------------------------------------------------------

    def _on_ra(self, ob: RaObs, frame: int, ts: int) -> None:
        r = self._routers.get(ob.router)
        if r is None:
            r = self._routers[ob.router] = _Router()
        r.prefixes.update(ob.prefixes)
        entry = (ts, frame, ob.interval_ns)
        r.ras.append(entry)
        r.last = entry
        self._record(frame, ts, "ra", None, ob.router, None)

    def _routers_for(self, addr: IPv6Address | None) -> list[_Router]:
        if addr is None:
            return []
        return [r for r in self._routers.values() if any(addr in p for p in r.prefixes)]

    # --- binding updates ---------------------------------------------------------------------------

    def _classify_bu(self, mn: _Mn, b: BuObs, ts: int) -> Signal:
        dereg = b.lifetime_s == 0 or b.coa == b.hoa
        ex = mn.exchange
        if ex is not None and ex.coa == b.coa and ex.ha == b.ha and not ex.superseded:
            if mn.phase == Phase.WAIT_BA or ts - ex.bus[-1].ts <= ex.window_ns:
                return Signal.BU_RETRANSMIT
        if dereg:
            return Signal.BU_REFRESH if (mn.bound and mn.path == mn.hoa) else Signal.BU_DEREGISTER
        if b.coa == mn.path or b.coa == mn.where or (not mn.bound and b.coa in mn.in_use):
            return Signal.BU_REFRESH
        return Signal.BU_REGISTER

    def _on_bu(self, b: BuObs, frame: int, ts: int, src_mac: str | None) -> None:
        mn = self._mn(b.hoa, frame)
        mn.last_seen = ts
        self._record(frame, ts, "bu", b.hoa, b.coa, b.ha, seq=b.seq)
        if not b.home:
            return  # a BU to a correspondent node (route optimisation, §11.7.2): not a home binding
        if src_mac is not None and mn.mac is None:
            # The BU leaves the MN itself: its MAC at the MN's interface; at the HA only when sent on the
            # home link (a deregistration from the home address).
            if self.config.vantage == Vantage.MN or b.coa == b.hoa or (
                self.config.vantage == Vantage.AUTO and len(self._routers) >= 2
            ):
                self._set_mac(mn, src_mac)
        if mn.ha is not None and mn.ha != b.ha:
            self._weird("bu_different_ha", f"BU to {b.ha}, earlier to {mn.ha}", frame, ts, b.hoa)
        mn.ha = b.ha
        if mn.last_seq is not None and b.seq != mn.last_seq and not seq_after(b.seq, mn.last_seq):
            self._weird(
                "bu_sequence_regression", f"BU seq {b.seq} after seq {mn.last_seq}", frame, ts, b.hoa
            )
        mn.last_seq = b.seq
        self._step(mn, self._classify_bu(mn, b, ts), b, frame, ts)

    def _new_exchange(self, mn: _Mn, b: BuObs, kind: BindingKind, frame: int, ts: int) -> _Exchange:
        ex = _Exchange(hoa=b.hoa, ha=b.ha, coa=b.coa, kind=kind)
        ex.bus.append(_Bu(ts=ts, frame=frame, seq=b.seq, lifetime_s=b.lifetime_s))
        return ex

    def _end_previous(self, mn: _Mn, ts: int) -> None:
        if mn.ho is not None:
            if mn.ho.exchange.acked is None:
                mn.ho.exchange.superseded = True
            self._finalize(mn, ts, at_end=False)
        if mn.exchange is not None and not mn.exchange.closed:
            if mn.exchange.acked is None:
                mn.exchange.superseded = True
            self._close_exchange(mn.exchange, ts, at_end=False)

    def _open_refresh(self, mn: _Mn, signal: Signal, b: BuObs, frame: int, ts: int) -> None:
        self._end_previous(mn, ts)
        dereg = b.lifetime_s == 0 or b.coa == b.hoa
        mn.exchange = self._new_exchange(
            mn, b, BindingKind.DEREGISTRATION if dereg else BindingKind.REFRESH, frame, ts
        )

    def _open_handover(self, mn: _Mn, signal: Signal, b: BuObs, frame: int, ts: int) -> None:
        self._end_previous(mn, ts)
        dereg = signal == Signal.BU_DEREGISTER
        ex = self._new_exchange(
            mn, b, BindingKind.DEREGISTRATION if dereg else BindingKind.REGISTRATION, frame, ts
        )
        mn.exchange = ex
        # The MN is where it last moved to, whether or not that registration was answered (it may
        # have moved on before the BA); else where its binding or its data says.
        old = mn.where if mn.where is not None else mn.path
        new = mn.hoa if dereg else b.coa
        mn.where = new
        if dereg:
            kind = HandoverKind.FOREIGN_TO_HOME
        elif old is None or old == mn.hoa:
            kind = HandoverKind.HOME_TO_FOREIGN
        else:
            kind = HandoverKind.FOREIGN_TO_FOREIGN
        if not dereg and b.coa not in mn.coas:
            mn.coas.append(b.coa)
        if old is None:
            old = mn.hoa  # no binding and no data seen: an MN without a binding is at home (§11.5.4)
        last_old = mn.last_data.get(old)
        lo = last_old if last_old is not None else (mn.prev_ho[2:] if mn.prev_ho is not None else None)
        ho = _Ho(
            hoa=mn.hoa, ha=b.ha, kind=kind, old_path=old, new_path=new, exchange=ex,
            t_last_old=last_old, t_link_up=None, t_md=None, trigger=None, t_dad=None, lo_bound=lo,
        )
        self._fill_phases(mn, ho, ts, frame)
        mn.ho = ho
        mn.in_use = set()

    def _fill_phases(self, mn: _Mn, ho: _Ho, t_bu: int, bu_frame: int) -> None:
        """Look back for the phases before the BU (link up, movement detection, DAD)."""
        lo_tf = ho.lo_bound
        lo = lo_tf[0] if lo_tf is not None else None

        def after(t: int, f: int = 0) -> bool:
            # After t_last_old (or the previous BU), before the BU, in capture order (an RA and the BU it
            # triggered can carry the same microsecond).
            return (lo_tf is None or (t, f) > lo_tf) and (t < t_bu or t == t_bu and f < bu_frame)

        # DAD NS for the new address (RFC 4862 §5.4.2), first one after t_last_old.
        for t, f in self._dad.get(ho.new_path, ()):
            if after(t, f):
                ho.t_dad = (t, f)
                break
        # Frames the MN sent before the old router's last RA it received were sent on the old link (an RS
        # after an RA was lost at home, say): the new link starts after that RA.
        link_lo = lo
        for r in self._routers_for(ho.old_path):
            for t, f, _iv in reversed(r.ras):
                if t < t_bu or t == t_bu and f < bu_frame:
                    if link_lo is None or t > link_lo:
                        link_lo = t
                    break
        nd_from_mn = None
        if mn.mac is not None:
            for t, f, mac, _kind in self._nd_sent:
                if mac == mn.mac and after(t, f) and (link_lo is None or t > link_lo):
                    nd_from_mn = (t, f)
                    break
        # Auto: a capture that shows several routers' RAs, or the DAD of a foreign care-of address, was
        # taken where the MN is (its own interface); the HA sees only its home link.
        mn_view = self.config.vantage == Vantage.MN or (
            self.config.vantage == Vantage.AUTO
            and (len(self._routers) >= 2 or (ho.t_dad is not None and ho.new_path != mn.hoa))
        )
        # The MN's own frames: by its MAC (at the HA, a frame from the MN's MAC was sent on the home
        # link); without a MAC (a link type with none), its DAD NS.
        first_sent = None
        for t, f in mn.sent_hist:
            if (link_lo is None or t > link_lo) and after(t, f):
                first_sent = (t, f)
                break
        bu_here = (t_bu, bu_frame) if mn.mac is not None and self._src_mac == mn.mac else None
        seen_mn = [c for c in (nd_from_mn, first_sent, bu_here) if c is not None] if mn.mac is not None else (
            [ho.t_dad] if ho.t_dad is not None else [])
        mn_nd = min(seen_mn) if seen_mn else None
        # First RA of a router that advertises the new address's prefix (RFC 6275 §11.5.1). Elsewhere
        # than at the MN, an RA counts only once the MN is on that link: the first one after the MN's
        # first frame there, or else the last one before it (the RA it evidently acted on); an earlier
        # one (the HA's periodic RA while the MN was still away) did not reach it.
        new_ra: tuple[int, int] | None = None
        for r in self._routers_for(ho.new_path):
            for t, f, _iv in r.ras:
                if not (after(t, f) and (lo is None or t > lo)):
                    continue
                if mn_view or mn_nd is None or (t, f) >= mn_nd:
                    if new_ra is None or (t, f) < new_ra:
                        new_ra = (t, f)
                    break
        if new_ra is None and not mn_view and mn_nd is not None:
            for r in self._routers_for(ho.new_path):
                before = [(t, f) for t, f, _iv in r.ras if after(t, f) and (lo is None or t > lo) and (t, f) < mn_nd]
                if before and (new_ra is None or before[-1] > new_ra):
                    new_ra = before[-1]
        ho.t_md, ho.trigger = (new_ra, "ra") if new_ra is not None else (None, None)
        if new_ra is not None:
            # Router-loss detection (RFC 6275 §11.5.1, UMIP md_router_timeout): the old router's last RA
            # before the new one, plus its Advertisement Interval, when that ran out first.
            best: tuple[int, int] | None = None
            for r in self._routers_for(ho.old_path):
                last = None
                for t, f, iv in r.ras:
                    if t < new_ra[0]:
                        last = (t, f, iv)
                if last is None and r.last is not None and r.last[0] < new_ra[0]:
                    last = r.last
                if last is None:
                    continue
                if last[2] is None:
                    continue
                expiry = last[0] + last[2]
                if (lo is None or expiry > lo) and expiry < new_ra[0] and expiry <= t_bu and (
                    best is None or expiry < best[0]
                ):
                    best = (expiry, last[1])
            if best is not None:
                ho.t_md, ho.trigger = best, "router_loss"
        cands = [mn_nd] if mn_nd is not None else []
        if mn_view:
            cands.append((t_bu, bu_frame))  # at the MN, its BU is itself a frame on the new link
        ho.t_link_up = min(cands) if cands else None
        if self._l2:
            for t, f, ev in self._l2:
                if (lo is None or t >= lo) and t <= t_bu and (
                    mn.mac is None or mn.mac in (ev.src_mac, ev.dst_mac)
                ):
                    ho.l2.append(L2Record(t=t, frame=f, subtype=ev.subtype, bssid=ev.bssid, ssid=ev.ssid))

    def _add_bu(self, mn: _Mn, signal: Signal, b: BuObs, frame: int, ts: int) -> None:
        ex = mn.exchange
        assert ex is not None
        if not ex.closed:
            ex.bus.append(_Bu(ts=ts, frame=frame, seq=b.seq, lifetime_s=b.lifetime_s))

    # --- binding acknowledgements ------------------------------------------------------------------

    def _classify_ba(self, mn: _Mn, a: BaObs) -> Signal:
        ex = mn.exchange
        if ex is None or ex.ha != a.ha:
            return Signal.BA_UNMATCHED
        is_ho = mn.ho is not None and mn.ho.exchange is ex
        matches = any((a.seq - u.seq) % SEQ_MOD == 0 for u in ex.bus)
        if mn.phase == Phase.WAIT_BA:
            if a.status == 135:
                return Signal.BA_SEQ_WINDOW
            if matches:
                if a.status < 128:
                    return Signal.BA_ACK if is_ho else Signal.BA_ACK_REFRESH
                return Signal.BA_REJECT if is_ho else Signal.BA_REJECT_REFRESH
        if matches:
            return Signal.BA_STALE
        if a.status == 135 and ex.last_status is not None and ex.last_status.status == 135:
            return Signal.BA_STALE
        return Signal.BA_UNMATCHED

    def _on_ba(self, a: BaObs, frame: int, ts: int) -> None:
        mn = self._mns.get(a.hoa)
        self._record(frame, ts, "ba", a.hoa, a.ha, a.dst, seq=a.seq, status=a.status)
        if mn is None:
            mn = self._mn(a.hoa, frame)
        mn.last_seen = ts
        self._step(mn, self._classify_ba(mn, a), a, frame, ts)

    def _ba_record(self, a: BaObs, frame: int, ts: int) -> _Ba:
        return _Ba(ts=ts, frame=frame, seq=a.seq, status=a.status, status_name=a.status_name,
                   lifetime_s=a.lifetime_s)

    def _take_ba(self, mn: _Mn, a: BaObs, frame: int, ts: int) -> _Exchange:
        """Record a BA that answers the open exchange (accepted or rejected alike)."""
        ex = mn.exchange
        assert ex is not None
        rec = self._ba_record(a, frame, ts)
        ex.acked = rec
        ex.acked_count = len(ex.bus)
        ex.last_status = rec
        ex.bas.append(rec)
        return ex

    def _acknowledge(self, mn: _Mn, signal: Signal, a: BaObs, frame: int, ts: int) -> None:
        ex = self._take_ba(mn, a, frame, ts)
        mn.bound = True
        mn.path = mn.hoa if ex.kind == BindingKind.DEREGISTRATION else ex.coa
        if ex.kind == BindingKind.REFRESH or ex.kind == BindingKind.DEREGISTRATION and mn.ho is None:
            self._close_exchange(ex, ts, at_end=False)

    def _reject(self, mn: _Mn, signal: Signal, a: BaObs, frame: int, ts: int) -> None:
        ex = self._take_ba(mn, a, frame, ts)
        if signal == Signal.BA_REJECT_REFRESH:
            self._close_exchange(ex, ts, at_end=False)

    def _note_seq_window(self, mn: _Mn, signal: Signal, a: BaObs, frame: int, ts: int) -> None:
        ex = mn.exchange
        assert ex is not None
        rec = self._ba_record(a, frame, ts)
        ex.last_status = rec
        ex.bas.append(rec)

    def _note_stale(self, mn: _Mn, signal: Signal, a: BaObs, frame: int, ts: int) -> None:
        if mn.exchange is not None:
            mn.exchange.bas.append(self._ba_record(a, frame, ts))

    def _ba_without_bu(self, mn: _Mn, signal: Signal, a: BaObs, frame: int, ts: int) -> None:
        self._weird(
            "ba_without_bu",
            f"BA seq {a.seq} status {a.status} from {address_text(a.ha)} matches no BU of {address_text(a.hoa)}",
            frame, ts, a.hoa,
        )

    # --- closing -----------------------------------------------------------------------------------

    def _settled(self, mn: _Mn, signal: Signal, ob: Any, frame: int, ts: int) -> None:
        self._finalize(mn, ts, at_end=False)

    def _close_exchange(self, ex: _Exchange, now: int, at_end: bool) -> None:
        if ex.closed:
            return
        ex.closed = True
        final = ex.acked if ex.acked is not None else ex.last_status
        acked_seq = ex.acked.seq if ex.acked is not None else ex.bus[-1].seq
        self._bindings.append(
            Binding(
                home_address=ex.hoa,
                home_agent=ex.ha,
                care_of_address=ex.coa,
                kind=ex.kind,
                t_bu=ex.bus[0].ts,
                t_ba=ex.acked.ts if ex.acked is not None else None,
                seq=acked_seq,
                lifetime_s=ex.acked.lifetime_s if ex.acked is not None else ex.bus[-1].lifetime_s,
                status=final.status if final is not None else None,
                status_name=final.status_name if final is not None else None,
                bu_count=len(ex.bus),
                bu_frames=tuple(u.frame for u in ex.bus),
                ba_frames=tuple(a.frame for a in ex.bas),
            )
        )

    def _result_of(self, ex: _Exchange, now: int, at_end: bool) -> HandoverResult:
        if ex.acked is not None:
            return HandoverResult.COMPLETED if ex.acked.status < 128 else HandoverResult.FAILED
        if ex.last_status is not None and ex.last_status.status >= 128:
            if not at_end or now - ex.last_status.ts >= MAX_BINDACK_TIMEOUT_NS:
                return HandoverResult.FAILED
        if ex.superseded:
            return HandoverResult.INCOMPLETE  # abandoned: the MN moved on before any BA
        # RFC 6275 §11.8: resends back off up to MAX_BINDACK_TIMEOUT; silence longer than that after the
        # last BU means the MN stopped trying.
        if now - ex.bus[-1].ts >= MAX_BINDACK_TIMEOUT_NS:
            return HandoverResult.FAILED
        return HandoverResult.INCOMPLETE

    def _finalize(self, mn: _Mn, now: int, at_end: bool) -> None:
        ho = mn.ho
        if ho is None:
            return
        mn.ho = None
        ex = ho.exchange
        self._close_exchange(ex, now, at_end)
        result = self._result_of(ex, now, at_end)
        lo = ho.t_last_old[0] if ho.t_last_old is not None else ex.bus[0].ts
        hi = ho.t_resumed[0] if ho.t_resumed is not None else max(now, lo)
        unsent = unanswered = missing = 0  # counted in the window [t_last_old, t_resumed]
        rtt_before: tuple[int, int] | None = None  # (reply ts, rtt)
        rtt_after: tuple[int, int] | None = None  # (request ts, rtt)
        for ef in mn.echo.values():
            unsent += sum(n for ta, tb, n in ef.gaps if tb > lo and ta < hi)
            for r in ef.reqs.values():
                if lo <= r.ts <= hi and r.reply_ts is None:
                    unanswered += 1
                if r.reply_ts is not None:
                    if r.reply_ts <= lo and (rtt_before is None or r.reply_ts > rtt_before[0]):
                        rtt_before = (r.reply_ts, r.reply_ts - r.ts)
                    if (
                        ho.t_resumed is not None
                        and r.ts > lo
                        and r.reply_ts >= hi
                        and (rtt_after is None or r.ts < rtt_after[0])
                    ):
                        rtt_after = (r.ts, r.reply_ts - r.ts)
        for sf in mn.rtp.values():
            missing += sum(n for ta, tb, n in sf.gaps if tb > lo and ta < hi)
        windowed = ho.t_last_old is not None and ho.t_resumed is not None
        acked = ex.acked
        final = acked if acked is not None else ex.last_status
        ping_pong = False
        if mn.prev_ho is not None:
            p_old, _p_new, p_tbu, _p_frame = mn.prev_ho
            ping_pong = ho.new_path == p_old and ex.bus[0].ts - p_tbu <= self.config.ping_pong_ns
        mn.prev_ho = (ho.old_path, ho.new_path, ex.bus[0].ts, ex.bus[0].frame)
        phases = []
        for name, val in (
            ("last_old", ho.t_last_old), ("link_up", ho.t_link_up), ("movement_detected", ho.t_md),
            ("dad", ho.t_dad), ("resumed", ho.t_resumed),
        ):
            if val is not None:
                phases.append((name, val[1]))
        phases += [("bu", u.frame) for u in ex.bus] + [("ba", a.frame) for a in ex.bas]
        self._handovers.append(
            Handover(
                id=0,
                home_address=ho.hoa,
                home_agent=ho.ha,
                kind=ho.kind,
                old_coa=ho.old_path,
                new_coa=ho.new_path,
                result=result,
                t_last_old=ho.t_last_old[0] if ho.t_last_old is not None else None,
                t_link_up=ho.t_link_up[0] if ho.t_link_up is not None else None,
                t_movement_detected=ho.t_md[0] if ho.t_md is not None else None,
                t_dad=ho.t_dad[0] if ho.t_dad is not None else None,
                t_bu=ex.bus[0].ts,
                t_ba=acked.ts if acked is not None else None,
                t_resumed=ho.t_resumed[0] if ho.t_resumed is not None else None,
                bu_seq=acked.seq if acked is not None else ex.bus[-1].seq,
                bu_retransmissions=(ex.acked_count or len(ex.bus)) - 1,
                ba_status=final.status if final is not None else None,
                ba_status_name=final.status_name if final is not None else None,
                echo_unsent=unsent if windowed else None,
                echo_unanswered=unanswered if windowed else None,
                stream_missing=missing if windowed else None,
                rtt_before_ns=rtt_before[1] if rtt_before is not None else None,
                rtt_after_ns=rtt_after[1] if rtt_after is not None else None,
                movement_trigger=ho.trigger,
                ping_pong=ping_pong,
                l2_events=tuple(ho.l2),
                frames=tuple(sorted({f for _, f in phases})),
                phase_frames=tuple(phases),
            )
        )

    # --- records -----------------------------------------------------------------------------------

    def _weird(self, name: str, detail: str, frame: int, ts: int, hoa: IPv6Address | None) -> None:
        self._weirds.append(CorrelationWeird(name=name, detail=detail, frame=frame, ts_ns=ts, home_address=hoa))

    def _record(
        self, frame: int, ts: int, kind: str, hoa: IPv6Address | None, src: IPv6Address | str | None,
        dst: IPv6Address | str | None,
        seq: int | None = None, status: int | None = None,
    ) -> None:
        if self.config.keep_packets:
            self._packets.append(
                PacketRecord(frame=frame, ts_ns=ts, kind=kind, home_address=hoa, src=src, dst=dst, seq=seq,
                             status=status)
            )


def correlate(
    packets: Iterable[tuple[int, int, Any]],
    config: CorrelatorConfig | None = None,
    home_addresses: Iterable[IPv6Address | str] = (),
    end_ns: int | None = None,
    on_packet: Callable[[int], None] | None = None,
) -> Correlation:
    """Run a fresh `Correlator` over `(frame_index, ts_ns, packet)` triples and return its result."""
    c = Correlator(config, home_addresses)
    for frame_index, ts_ns, packet in packets:
        c.feed(frame_index, ts_ns, packet)
        if on_packet is not None:
            on_packet(frame_index)
    return c.finish(end_ns)
