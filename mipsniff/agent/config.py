"""Configuration records of the agent's machines, with mip6d / radvd defaults (RFC 6275 §10-§13, RFC 4861 §6).

Each record names the mip6d.conf or radvd.conf option it mirrors; times are integer milliseconds here
(configuration units), nanoseconds inside the machines. See ../shared/reference/mipv6-field-notes.md 1.3-1.4, 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv6Address, IPv6Interface, IPv6Network

INFINITE_LIFETIME = 0xFFFFFFFF  # RFC 4861 §4.6.2: all ones = infinity
MAX_BINDING_LIFETIME_S = 0xFFFF << 2  # 262140 s: the BU/BA lifetime field is 16 bits of 4 s units


@dataclass(frozen=True, slots=True, kw_only=True)
class PrefixConfig:
    """One Prefix Information option (radvd `prefix` block)."""

    prefix: IPv6Network
    # Infinite by default: the article's BU lifetime of 262140 s needs lifetimes >= 262140 s (notes 1.3).
    valid_lifetime_s: int = INFINITE_LIFETIME
    preferred_lifetime_s: int = INFINITE_LIFETIME
    on_link: bool = True  # L flag
    autonomous: bool = True  # A flag
    router_address: bool = False  # R flag, radvd AdvRouterAddr: send the router's full address (RFC 6275 §7.2)


@dataclass(frozen=True, slots=True, kw_only=True)
class RaConfig:
    """Router Advertisement sending on one interface (radvd `interface` block)."""

    prefixes: tuple[PrefixConfig, ...] = ()
    min_interval_ms: int = 1000  # MinRtrAdvInterval; MIPv6 extensions allow down to 30 ms (notes 2)
    max_interval_ms: int = 3000  # MaxRtrAdvInterval; MIPv6 extensions allow down to 70 ms
    adv_interval_opt: bool = True  # AdvIntervalOpt: option 7 = MaxRtrAdvInterval in ms (RFC 6275 §7.3)
    home_agent_flag: bool = False  # AdvHomeAgentFlag: RA H bit (RFC 6275 §7.1)
    home_agent_info: bool = False  # AdvHomeAgentInfo: option 8 (RFC 6275 §7.4)
    home_agent_preference: int = 0
    home_agent_lifetime_s: int | None = None  # None: the router lifetime
    router_lifetime_s: int | None = None  # AdvDefaultLifetime; None: 3 x MaxRtrAdvInterval, at least 1 s
    cur_hop_limit: int = 64
    reachable_time_ms: int = 0
    retrans_timer_ms: int = 0
    mtu: int | None = None
    solicited_unicast: bool = True  # AdvRASolicitedUnicast, the default since radvd 2.17
    initial_delay_ms: int = 0  # time from machine creation to the first unsolicited RA

    @property
    def default_lifetime_s(self) -> int:
        if self.router_lifetime_s is not None:
            return self.router_lifetime_s
        return max(1, 3 * self.max_interval_ms // 1000)

    @property
    def adv_interval_ms(self) -> int:
        # radvd adds 20 ms of leeway when MaxRtrAdvInterval < 0.2 s (notes 2).
        return self.max_interval_ms + (20 if self.max_interval_ms < 200 else 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class InterfaceConfig:
    """A node's interface: name, MAC (link-local = fe80::EUI-64), static global addresses, RA sending."""

    name: str
    mac: str
    addresses: tuple[IPv6Interface, ...] = ()
    ra: RaConfig | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """A static route; `next_hop` None means on-link."""

    prefix: IPv6Network
    iface: str
    next_hop: IPv6Address | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterConfig:
    """An access router: interfaces (some sending RAs), static routes, IPv6 forwarding."""

    interfaces: tuple[InterfaceConfig, ...]
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class HaConfig:
    """A home agent (mip6d `NodeConfig HA`), which is also the router of its home link."""

    router: RouterConfig
    home_iface: str
    address: IPv6Address  # the HA's own address on the home link (article: 2001:db8::)
    home_prefix: IPv6Network
    max_binding_life_s: int = MAX_BINDING_LIFETIME_S  # HaMaxBindingLife
    # DAD on the home address before accepting a first registration (RFC 6275 §10.3.1; ~1 s, notes 1.3).
    dad_on_first_registration: bool = True
    dad_delay_ms: int = 1000
    # Home addresses this HA serves; None serves every address of the home prefix. Others get status 133.
    served_home_addresses: frozenset[IPv6Address] | None = None
    proxy_nd: bool = True  # answer NS for registered home addresses on the home link (RFC 6275 §10.4.1)


@dataclass(frozen=True, slots=True, kw_only=True)
class MnConfig:
    """A mobile node (mip6d `NodeConfig MN`) with one interface."""

    iface: str = "wlan0"
    mac: str = "00:05:5d:f2:db:2b"  # the article's MN; its CoA in 2001:db8:1::/64 is ...:205:5dff:fef2:db2b
    home_address: IPv6Address = IPv6Address("2001:db8::beef")
    home_prefix_len: int = 64
    home_agent: IPv6Address = IPv6Address("2001:db8::")
    initial_seq: int | None = None  # None: random, as mip6d's random() at BUL entry creation
    max_binding_life_s: int = MAX_BINDING_LIFETIME_S  # MnMaxHaBindingLife
    bindack_timeout_first_reg_ms: int = 1500  # InitialBindackTimeoutFirstReg
    bindack_timeout_rereg_ms: int = 1000  # InitialBindackTimeoutReReg
    max_bindack_timeout_ms: int = 32000  # MAX_BINDACK_TIMEOUT
    refresh_permille: int = 950  # BU_REFRESH_DELAY 95/100
    router_solicitation_interval_ms: int = 4000  # RFC 4861 RTR_SOLICITATION_INTERVAL
    router_solicitations: int = 3  # the test is `++count <= 3`, so up to 4 RS (notes 1.2)
    router_probes: int = 0  # MnRouterProbes: NUD probes before declaring the router lost
    router_probe_timeout_ms: int = 0  # MnRouterProbeTimeout (0: no cap)
    retrans_timer_ms: int = 1000  # RFC 4861 RETRANS_TIMER, used for DAD and NUD probes
    dad_max_delay_ms: int = 1000  # random [0, delay) before the DAD NS (Linux rtr_solicit_delay)
    dad_transmits: int = 1
    optimistic_dad: bool = False  # RFC 4429: the CoA is usable at once
    optimistic_handoff: bool = False  # OptimisticHandoff: lift the uplink block after sending the BU
    hop_limit: int = 64
    ifindex: int = 2  # printed in mip6d's log lines ("on interface wlan0 (2)")
    # Route optimisation (RFC 6275 §5.2, §11.6-§11.7.2) with these correspondents; empty: off, all traffic
    # goes through the HA (mip6d: DoRouteOptimizationMN with a per-CN policy).
    route_optimization_cns: tuple[IPv6Address, ...] = ()
    max_cn_binding_life_s: int = 420  # MnMaxCnBindingLife
    cn_bu_ack: bool = False  # UseCnBuAck: BUs to CNs normally lack the A flag
    test_init_timeout_ms: int = 5000  # MN_TEST_INIT_DELAY: HoTI/CoTI retransmission, doubling to 32 s


@dataclass(frozen=True, slots=True, kw_only=True)
class HostConfig:
    """A fixed host (correspondent node): one interface with static addresses and a default router."""

    interface: InterfaceConfig
    default_router: IPv6Address | None = None  # None: everything is on-link
    hop_limit: int = 64
    answer_echo: bool = True  # reply to ICMPv6 echo requests (RFC 4443 §4.2)
    route_optimization: bool = False  # act as a correspondent node for RO (RFC 6275 §9; DoRouteOptimizationCN)
    max_cn_binding_life_s: int = 420  # MAX_RR_BINDING_LIFETIME


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowConfig:
    """A traffic generator: ping, UDP stream with sequence numbers, or RTP stream (`traffic.py`)."""

    flow: str  # the flow name used in ground truth, e.g. "ping", "rtp-down"
    src: IPv6Address
    dst: IPv6Address
    interval_ms: int = 1000  # ping default 1 s; RTP uses 20 ms
    start_ms: int = 0
    stop_ms: int | None = None  # None: until the end of the run
    count: int | None = None  # None: unlimited
    payload_size: int = 56  # ping's default data size; UDP/RTP payload bytes after the header
    sport: int = 5004
    dport: int = 5004
    ident: int = 0x1234  # echo identifier / RTP SSRC low bits
