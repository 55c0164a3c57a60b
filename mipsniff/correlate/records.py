"""What the correlator finds: mobile nodes, bindings, handovers and weirds (RFC 6275 §9-§11).

These are the records the report, the CSV/JSON exports and the Python API share (STYLE §6: the schema is
the dataclass). Times are integer nanoseconds since the epoch; `None` means the capture point could not
see that phase. Each latency is defined once, here, as the difference of two named timeline timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv6Address

_TEXT: dict[int, tuple[IPv6Address, str]] = {}


def address_text(a: IPv6Address) -> str:
    """`str(a)` (RFC 5952 text), memoised by identity: the dissectors hand out one shared object per
    address, and `ipaddress`'s formatting costs more than the rest of a weird or an exported row. The
    entry holds the object, so its id cannot be reused while the entry lives."""
    entry = _TEXT.get(id(a))
    if entry is not None and entry[0] is a:
        return entry[1]
    if len(_TEXT) >= 4096:
        _TEXT.clear()
    text = str(a)
    _TEXT[id(a)] = (a, text)
    return text


class BindingKind(StrEnum):
    """How a BU/BA exchange changes the binding (RFC 6275 §11.7.1-§11.7.2)."""

    REGISTRATION = "registration"  # a new care-of address
    REFRESH = "refresh"  # the care-of address already bound (or already seen in use)
    DEREGISTRATION = "deregistration"  # lifetime 0 or care-of address = home address (§11.5.4)


class HandoverKind(StrEnum):
    HOME_TO_FOREIGN = "home_to_foreign"
    FOREIGN_TO_FOREIGN = "foreign_to_foreign"
    FOREIGN_TO_HOME = "foreign_to_home"


class HandoverResult(StrEnum):
    COMPLETED = "completed"  # an accepted BA (status < 128) was seen
    FAILED = "failed"  # BA status >= 128 not fixed by a resend, or no BA and no resend for 32 s
    INCOMPLETE = "incomplete"  # no BA: the capture ended, or the MN moved on, while it could still come


class Vantage(StrEnum):
    """Where the capture was taken; decides which packets are evidence of the MN's location."""

    MN = "mn"
    HA = "ha"
    AUTO = "auto"


@dataclass(frozen=True, slots=True, kw_only=True)
class MobileNode:
    """A mobile node, keyed by home address. `care_of_addresses` in the order first registered."""

    home_address: IPv6Address
    home_agent: IPv6Address | None
    care_of_addresses: tuple[IPv6Address, ...] = ()
    mac: str | None = None
    first_frame: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Binding:
    """One BU/BA exchange, retransmissions included, matched on (HoA, HA, sequence mod 2**16).

    `seq` is the sequence number of the acknowledged BU (the last one sent if none was acknowledged);
    `lifetime_s` the lifetime granted by the BA, else the one requested by the last BU; `status` the BA
    status (None without a BA). `t_bu` is the first BU of the exchange, `t_ba` the BA that closed it.
    """

    home_address: IPv6Address
    home_agent: IPv6Address
    care_of_address: IPv6Address
    kind: BindingKind
    t_bu: int
    t_ba: int | None
    seq: int
    lifetime_s: int
    status: int | None
    status_name: str | None = None
    bu_count: int = 1
    bu_frames: tuple[int, ...] = ()
    ba_frames: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class L2Record:
    """An 802.11 management event (radiotap capture) attributed to a handover."""

    t: int
    frame: int
    subtype: str
    bssid: str | None = None
    ssid: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Handover:
    """One registration or deregistration with its timeline (RFC 6275 §11.5.1, §11.7).

    Timeline (each the capture timestamp of one packet, or None when this vantage cannot see it):
    - `t_last_old`: last data packet on the old path (home link, old care-of address, or RO) before `t_bu`.
    - `t_link_up`: first packet the MN sends on the new link (its RS, DAD NS, ...).
    - `t_movement_detected`: first RA of the new link's router after `t_last_old`; with router-loss
      detection, the moment the old router's last RA plus its Advertisement Interval ran out.
    - `t_dad`: the DAD Neighbor Solicitation for the new care-of address.
    - `t_bu`: first BU for the new care-of address; `t_ba`: the BA that acknowledged the exchange.
    - `t_resumed`: first data packet on the new path at or after `t_bu`.
    """

    id: int
    home_address: IPv6Address
    home_agent: IPv6Address
    kind: HandoverKind
    old_coa: IPv6Address | None  # the address the MN was reached at: the home address when at home
    new_coa: IPv6Address | None
    result: HandoverResult
    t_last_old: int | None
    t_link_up: int | None
    t_movement_detected: int | None
    t_dad: int | None
    t_bu: int
    t_ba: int | None
    t_resumed: int | None
    bu_seq: int
    bu_retransmissions: int
    ba_status: int | None
    ba_status_name: str | None
    echo_unsent: int | None = None  # None when the window [t_last_old, t_resumed] is not closed
    echo_unanswered: int | None = None
    stream_missing: int | None = None
    rtt_before_ns: int | None = None
    rtt_after_ns: int | None = None
    movement_trigger: str | None = None  # "ra" | "router_loss" | None
    ping_pong: bool = False
    l2_events: tuple[L2Record, ...] = ()
    frames: tuple[int, ...] = ()
    phase_frames: tuple[tuple[str, int], ...] = ()

    @staticmethod
    def _ms(a: int | None, b: int | None) -> float | None:
        return None if a is None or b is None else round((b - a) / 1e6, 3)

    @property
    def total_ms(self) -> float | None:
        """Handover latency: `t_resumed - t_last_old`."""
        return self._ms(self.t_last_old, self.t_resumed)

    @property
    def movement_detection_ms(self) -> float | None:
        """Movement detection: `t_movement_detected - t_last_old`."""
        return self._ms(self.t_last_old, self.t_movement_detected)

    @property
    def address_configuration_ms(self) -> float | None:
        """Address configuration (DAD and the decision to register): `t_bu - t_movement_detected`."""
        return self._ms(self.t_movement_detected, self.t_bu)

    @property
    def registration_ms(self) -> float | None:
        """Registration with the home agent: `t_ba - t_bu`."""
        return self._ms(self.t_bu, self.t_ba)

    @property
    def resumption_ms(self) -> float | None:
        """Traffic resumption after the BA: `t_resumed - t_ba`."""
        return self._ms(self.t_ba, self.t_resumed)


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelationWeird:
    """A protocol violation the correlator observed (STYLE §4: the correlator is an observer).

    Names are stable: `ba_without_bu`, `bu_sequence_regression`, `bu_different_ha`,
    `param_problem_hao`, `param_problem_mh`, and dissector weirds surfaced from mobility packets
    (`mh_bad_checksum`, ...)."""

    name: str
    detail: str
    frame: int
    ts_ns: int
    home_address: IPv6Address | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PacketRecord:
    """One mobility-relevant packet as the correlator used it (the rows of packets.csv)."""

    frame: int
    ts_ns: int
    kind: str  # bu | ba | ra | rs | dad | data | l2 | param_problem | be
    home_address: IPv6Address | None
    src: IPv6Address | str | None  # for a BU: the care-of address; for a BA: the HA; L2: MAC strings
    dst: IPv6Address | str | None
    path: str | None = None  # the care-of address (or home address) a data packet travelled by
    seq: int | None = None
    status: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Correlation:
    """Everything the correlator found in one capture."""

    mobile_nodes: tuple[MobileNode, ...]
    bindings: tuple[Binding, ...]
    handovers: tuple[Handover, ...]
    weirds: tuple[CorrelationWeird, ...]
    packets: tuple[PacketRecord, ...] = field(default=())
