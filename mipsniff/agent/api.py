"""The sans-I/O contract of the bundled Mobile IPv6 agent: events in, actions out (RFC 6275 §10, §11).

Every machine in `mipsniff.agent` (mobile node `mn.MobileNode`, home agent `ha.HomeAgent`, access router
`router.Router`, correspondent host `traffic.Host`, traffic generators `traffic.Ping`, `traffic.UdpStream`,
`traffic.RtpStream`) implements `Machine`:

    actions = machine.handle(event, now_ns)     # feed one event, get what the machine does about it
    deadline = machine.next_deadline()          # absolute ns of the next timer, or None

How a transport (the simulator in `mipsniff.sim`, or real sockets in `mipsniff.lab`) drives a machine:

1. Time is an integer count of nanoseconds on the transport's clock (virtual in the simulator, monotonic
   on a real host). Machines never read a clock; they only see the `now_ns` they are handed, which must
   never go backwards. They draw randomness only from the `random.Random` given to their constructor.
2. Timers: whenever `now_ns >= machine.next_deadline()`, call `machine.handle(Timer(), now_ns)`. The
   machine runs every timer that is due at `now_ns` (so one call may return the actions of several
   timers). Calling with `Timer()` early is harmless: nothing is due, nothing happens. After *every*
   `handle` call, re-read `next_deadline()`: any event may arm or cancel timers.
3. Links: `LinkUp(iface)` / `LinkDown(iface)` report L2 state (association to a cell, cable). A machine's
   interfaces are named in its config; the transport uses the same names.
4. Packets in: `Received(iface, packet)` where `packet` is a whole IPv6 packet (bytes starting at the
   IPv6 header, no link-layer header). The transport delivers every packet whose link-layer destination
   is this node or multicast; the machine itself checks IPv6 destinations (and may silently ignore them).
5. Packets out: `Send(iface, packet, next_hop)` — transmit the IPv6 packet on that interface. `next_hop`
   is the IPv6 neighbour the frame is for (the router, or the destination if on-link); `None` means
   "the packet's own destination" (on-link or multicast). Machines do not run address resolution: the
   transport maps `next_hop` to a MAC itself (the simulator knows every node's MAC; the kernel does it on
   real sockets). Machines do send the ND they are responsible for (RS, RA, DAD NS, NA answers).
6. Applications: traffic generators emit `AppSend(packet, flow, seq)` actions; the transport hands each,
   unchanged, to the generator's host machine as an event (`host.handle(app_send, now_ns)`), and the
   host routes it (directly, through the reverse tunnel, or drops it with `Dropped` + a `data_unsent`
   ground truth). Symmetrically, a host machine emits `Deliver(packet)` for every packet addressed to
   itself after decapsulation and routing-header processing; the transport hands it, unchanged, to each
   generator on that host as an event. So `AppSend` and `Deliver` are both actions and events.
7. Everything else a machine emits is for observation: `Log` (mip6d-style log lines without the
   timestamp prefix: the transport prepends ctime's first 19 characters if it wants mip6d's format),
   `Dropped` (a silent discard or a blocked packet, with a stable reason name), `AddressAdded` /
   `AddressRemoved` (a live transport installs them with `ip addr`), `BindingChanged` (BUL/BC entries),
   and `GroundTruth` (what really happened and when; the simulator timestamps it with `now_ns` and builds
   the ground-truth JSON from it, see sample_pcaps/README.md).

Constructors (configs in `mipsniff.agent.config`; `rng` is a `random.Random`; `start_ns` is "now" at creation):
    router.Router(config: RouterConfig, rng, start_ns=0)      # RAs start at start_ns + initial_delay
    ha.HomeAgent(config: HaConfig, rng, start_ns=0)           # also routes and advertises its home link
    mn.MobileNode(config: MnConfig, rng, start_ns=0)          # interface starts down: send LinkUp
    traffic.Host(config: HostConfig, rng, start_ns=0)         # a correspondent node
    traffic.Ping / UdpStream / RtpStream(config: FlowConfig, rng, start_ns=0)   # generators
    traffic.Sink(config: FlowConfig, rng, start_ns=0, kind="udp"|"rtp")          # a stream's receiver
Each machine keeps public attributes for inspection (e.g. `mn.bul`, `ha.binding_cache`, `ping.sent`) and
the vty renderers `mn.render_bul()` / `ha.render_bc()` produce mip6d's `bul` / `bc` text.

Packets are built and parsed with scapy (`mipsniff.agent.packets`), on purpose a different code from
`dissectors/`. This module is stable: the simulator and the live lab are written against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv6Address, IPv6Interface
from typing import Protocol

# --- events (transport -> machine) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkUp:
    """The interface gained L2 connectivity (associated to a cell, cable plugged)."""

    iface: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkDown:
    """The interface lost L2 connectivity; nothing sent on it reaches anyone until `LinkUp`."""

    iface: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    """An IPv6 packet arrived on `iface`; `packet` starts at the IPv6 header."""

    iface: str
    packet: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Timer:
    """`now_ns` reached `next_deadline()`: run every timer due at `now_ns`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AppSend:
    """A local application hands an IPv6 packet to its host's stack.

    Emitted as an action by traffic generators; handed unchanged to the host machine as an event.
    `flow` and `seq` identify the data packet for the ground truth (`seq` None for non-data packets).
    """

    packet: bytes
    flow: str = ""
    seq: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Deliver:
    """A packet addressed to this host reached its local stack (after decapsulation, RH2 processing).

    Emitted as an action by host machines; handed unchanged to the host's generators as an event.
    """

    packet: bytes


Event = LinkUp | LinkDown | Received | Timer | AppSend | Deliver


# --- actions (machine -> transport) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Send:
    """Transmit `packet` (a whole IPv6 packet) on `iface` towards the neighbour `next_hop`.

    `next_hop` None: the IPv6 destination itself is the link-layer target (on-link or multicast).
    """

    iface: str
    packet: bytes
    next_hop: IPv6Address | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Dropped:
    """The machine discarded a packet on purpose; `reason` is a stable snake_case name.

    Reasons used: `uplink_blocked` (MN waiting for the BA, as mip6d's xfrm block), `no_address` (no usable
    source address / no router), `no_route`, `not_for_me`, `bad_checksum`, `malformed`,
    `ba_unexpected_seq`, `ba_no_bul_entry`, `hao_without_binding`, `bu_during_dad`, `link_down`,
    `hop_limit_exceeded`, `unknown_mh_type`.
    """

    reason: str
    packet: bytes = b""
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Log:
    """One mip6d-style log message, e.g. `mn_recv_ba: Got BA (status 0) from ...` (no timestamp prefix).

    It may contain `\n`: mip6d prints the lines after the first as continuation lines without a
    timestamp (e.g. `mh_send: sending MH type 5` then `from <A>` and `to <A>`)."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressAdded:
    """An address was configured on `iface` (`tentative` while DAD runs, `optimistic` per RFC 4429)."""

    iface: str
    address: IPv6Interface
    tentative: bool = False
    optimistic: bool = False
    valid_lifetime_s: int | None = None
    preferred_lifetime_s: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressRemoved:
    """An address was removed from `iface`."""

    iface: str
    address: IPv6Interface


class BindingState(StrEnum):
    """States shown by mip6d's vty (`bc` status, `bul` ack) plus `removed`."""

    REGISTERED = "registered"  # HA: accepted binding
    DAD = "dad"  # HA: DAD on the HoA running before the BA (RFC 6275 §10.3.1)
    WAIT = "wait"  # MN: BU sent, BA awaited ("ack wait")
    READY = "ready"  # MN: BA received ("ack ready")
    REMOVED = "removed"  # deregistered, expired, or given up


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingChanged:
    """A Binding Update List entry (MN) or Binding Cache entry (HA/CN) changed."""

    home_address: IPv6Address
    care_of_address: IPv6Address
    peer: IPv6Address  # the HA (or CN) for a BUL entry; the HA's own address for a BC entry
    lifetime_s: int
    seq: int
    state: BindingState


class GtKind(StrEnum):
    """Ground-truth record kinds. Fields listed per kind; addresses are `IPv6Address`, times are the
    `now_ns` of the `handle` call that emitted it (the transport adds it)."""

    L2_DOWN = "l2_down"  # iface
    L2_UP = "l2_up"  # iface
    RS_SENT = "rs"  # iface, count (1-based within this link-up)
    RA_SENT = "ra_sent"  # iface, solicited: bool, dst
    RA_RECEIVED = "ra"  # iface, router (link-local), prefixes: tuple[str, ...], new_router: bool
    MOVEMENT_DETECTED = "movement_detected"  # iface, router, trigger: "ra" | "router_loss", home: bool
    ROUTER_LOST = "router_lost"  # iface, router
    DAD_START = "dad_start"  # iface, address, optimistic: bool
    DAD_END = "dad_end"  # iface, address, ok: bool
    COA_CONFIGURED = "coa_configured"  # iface, address (usable: DAD done or optimistic)
    BU_SENT = "bu"  # home_address, care_of_address, peer, seq, lifetime_s, flags: str, retransmission: int
    BU_RECEIVED = "bu_received"  # home_address, care_of_address, seq, lifetime_s, flags
    BA_SENT = "ba_sent"  # home_address, care_of_address, status, seq, lifetime_s
    BA_RECEIVED = "ba"  # home_address, care_of_address, peer, status, seq, lifetime_s
    BE_SENT = "be_sent"  # status, home_address, dst
    BINDING_ADDED = "binding_added"  # home_address, care_of_address, seq, lifetime_s
    BINDING_REMOVED = "binding_removed"  # home_address, reason: "dereg" | "expired"
    HANDOVER_DONE = "handover_done"  # home_address, care_of_address (or home address), status
    RETURNED_HOME = "returned_home"  # home_address, iface
    DATA_SENT = "data_sent"  # flow, seq, iface, path: "direct" | "tunnel" (the host's stack sent it)
    DATA_UNSENT = "data_unsent"  # flow, seq, reason (the host's stack refused it)
    DATA_GENERATED = "data_generated"  # flow, seq (a generator handed it to its host)
    DATA_RECEIVED = "data_received"  # flow, seq, rtt_ns (echo replies) or None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroundTruth:
    """What really happened, for the simulator's ground-truth JSON. Build with `gt(kind, **fields)`."""

    kind: GtKind
    fields: Mapping[str, object] = field(default_factory=dict)


def gt(kind: GtKind, **fields: object) -> GroundTruth:
    """Shorthand: `gt(GtKind.BU_SENT, seq=54814, ...)`."""
    return GroundTruth(kind=kind, fields=fields)


Action = (
    Send
    | Deliver
    | AppSend
    | Dropped
    | Log
    | AddressAdded
    | AddressRemoved
    | BindingChanged
    | GroundTruth
)


class Machine(Protocol):
    """What every agent machine offers to a transport (STYLE §5)."""

    def handle(self, event: Event, now_ns: int) -> list[Action]:
        """Process one event at time `now_ns` and return the resulting actions, in order."""
        ...

    def next_deadline(self) -> int | None:
        """Absolute time (ns) of the earliest armed timer, or None when no timer is armed."""
        ...


NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
