"""Mobile node: movement detection, CoA by SLAAC + DAD, home registration, tunnelling (RFC 6275 §11).

Theory of operation
-------------------
Attachment states (`MobileNode.state`), as UMIP's movement detection (field notes 1.2):
  DETACHED    link down; nothing is sent. LinkUp -> SOLICITING.
  SOLICITING  link up, no router: RS at once (no random delay), then every 4 s, at most 4 in all
              (RFC 4861 §6.3.7, mip6d's `++count <= 3`). An RA with a Prefix Information option -> a new
              router is adopted (eager switch, `MnRouterProbes 0`):
                - its prefixes contain the home prefix -> HOME (return home, §11.5.4);
                - otherwise the CoA = prefix + EUI-64 of the MAC (RFC 4862 §5.5.3) -> DAD.
  DAD         the CoA is tentative: a random 0..`dad_max_delay_ms` delay, the NS from ::, then
              `dad_transmits` x RetransTimer (RFC 4862 §5.4; Linux: 1-2 s in all). Then -> AWAY and the BU
              is sent. With optimistic DAD (RFC 4429) the CoA is usable at once: -> AWAY immediately and
              the DAD runs on in the background.
  AWAY        a usable CoA on a foreign link; the home registration is in the BUL.
  HOME        the home prefix is on-link; a registration, if any, is removed by a deregistration BU
              (lifetime 0, from the HoA, no HAO, §11.5.4); after its BA an unsolicited NA for the HoA.
In every attached state: an RA from the current router refreshes the router timer, whose length is
min(Advertisement Interval option, Router Lifetime) (§11.5.1, UMIP's "MD router lifetime"). When it
expires with no RA: with `router_probes` > 0 the router is NUD-probed (unicast NS every RetransTimer,
wait capped by `router_probe_timeout_ms`); no NA -> the router is lost: CoA dropped, back to SOLICITING
(RS again). An RA from a different router with prefixes is a movement: eager switch, or with probes the
old router is probed first and the new one kept as a backup. LinkDown from any state -> DETACHED
(the interface is flushed, ME_LINK_DOWN).

The Binding Update List (one entry: the home registration, §11.1) has sub-states WAIT (BU sent, BA
awaited) and READY (BA accepted). BUs carry flags A and H, a HAO when away (§6.3, §11.7.1), and
lifetime = min(CoA valid lifetime, HoA valid lifetime, MnMaxHaBindingLife) in 4 s units (notes 1.3).
The sequence number is incremented on every transmission, modulo 2**16 (§11.7.1, mip6d). The first BU
of a first registration waits 1.5 s for the BA, others 1 s; each retransmission doubles the wait up to
32 s (§11.8, InitialBindackTimeoutFirstReg/ReReg, MAX_BINDACK_TIMEOUT). BA handling (§11.7.3):
  status 0/1 and the last sent seq -> READY, lifetime = BA lifetime, refresh at 0.95 of it (BU_REFRESH_DELAY);
  status 135                        -> resend at once with seq = BA.seq + 1, wait 1 s;
  other status >= 128               -> the entry is deleted (give up, mip6d without DHAAD);
  another seq                       -> ignored (`ba_unexpected_seq`), the retransmission goes on;
  a deregistration accepted         -> the entry is deleted.
Uplink (applications' `AppSend`, source = HoA): at home sent directly; away reverse-tunnelled CoA -> HA
(RFC 2473, §11.3.1). From a movement's BU until its BA the uplink is blocked (mip6d's xfrm block:
`Dropped("uplink_blocked")`) unless `optimistic_handoff` (never when returning home). With no usable
address: `Dropped("no_address")`; away with no binding: `Dropped("no_binding")`. Downlink: packets
tunnelled by the HA to the CoA are decapsulated and delivered (§11.3.2); echo requests are answered.

Route optimisation (opt-in, `route_optimization_cns`; §5.2.5, §11.6, §11.7.2), per correspondent
(`CnEntry`, states IDLE -> TESTING -> BOUND): once the home BA accepts the current CoA, a HoTI leaves
from the HoA through the reverse tunnel and a CoTI from the CoA directly (retransmitted after 5 s,
doubling to 32 s); a HoT must arrive through the HA's tunnel, a CoT directly, each echoing our cookie.
With both keygen tokens, a BU to the CN (no A flag unless `cn_bu_ack`, Nonce Indices and Binding
Authorization Data with Kbm = SHA1(home token | care-of token), lifetime <= 420 s) -> BOUND: data to the
CN leaves from the CoA with a Home Address option (§11.3.1) and the CN's packets arriving with a type 2
routing header are delivered (§11.3.3). RR is redone at 0.95 of the CN lifetime. A movement or a link
down makes CN bindings stale (-> IDLE, traffic through the HA); back home, each CN that may hold a
binding gets a lifetime 0 BU from the HoA with Kbm = SHA1(home token).
Not implemented: DHAAD, MPS/MPA, link-local DAD, InterfaceInitialInitDelay.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv6Address, IPv6Interface, IPv6Network

from mipsniff.agent import packets as pk
from mipsniff.agent.api import (
    NS_PER_MS,
    NS_PER_S,
    Action,
    AddressAdded,
    AddressRemoved,
    AppSend,
    BindingChanged,
    BindingState,
    Deliver,
    Dropped,
    Event,
    GtKind,
    LinkDown,
    LinkUp,
    Log,
    Received,
    Send,
    Timer,
    gt,
)
from mipsniff.agent.config import INFINITE_LIFETIME, MnConfig
from mipsniff.agent.node import EventKey, event_key

DETACHED = "detached"
SOLICITING = "soliciting"
DAD = "dad"
AWAY = "away"
HOME = "home"
STATES = (DETACHED, SOLICITING, DAD, AWAY, HOME)
ATTACHED = (SOLICITING, DAD, AWAY, HOME)
ROUTED = (DAD, AWAY, HOME)  # states with a current default router

# Timer names (`MobileNode.timers`).
T_RS = "rs"
T_DAD_NS = "dad_ns"
T_DAD_DONE = "dad_done"
T_ROUTER = "router"
T_PROBE = "probe"
T_BU_RESEND = "bu_resend"
T_BU_REFRESH = "bu_refresh"
T_RR = "rr"  # the earliest HoTI/CoTI retransmission or CN refresh over all correspondents

BUL_ENTRY_TYPE = 0  # mip6d's BUL_ENTRY, printed in "bu_resend: BU resend type %d"


@dataclass(slots=True)
class DefaultRouter:
    """The router movement detection follows (UMIP's md_router)."""

    link_local: IPv6Address
    mac: str | None
    prefixes: tuple[pk.PrefixInfo, ...]
    md_lifetime_ns: int  # min(Advertisement Interval, Router Lifetime)
    retrans_timer_ms: int
    last_ra_ns: int

    def on_link(self, dst: IPv6Address) -> bool:
        return any(p.on_link and dst in p.prefix for p in self.prefixes)


@dataclass(slots=True)
class BulEntry:
    """The home registration's Binding Update List entry, with the fields mip6d's `bul` shows (notes 1.1)."""

    home_address: IPv6Address
    care_of_address: IPv6Address
    peer: IPv6Address  # the home agent ("CN address" in the vty)
    dev: str
    flags: pk.BuFlags = pk.BuFlags.A | pk.BuFlags.H
    seq: int = 0  # the last sequence number sent
    next_seq: int = 0  # the next sequence number to send
    lifetime_s: int = 0  # the lifetime sent in the last BU, then the one granted by the BA
    state: BindingState = BindingState.WAIT
    resend: int = 0  # consecutive resends of the current BU
    delay_ns: int = 0  # current retransmission (or refresh) delay
    first_registration: bool = True
    last_sent_ns: int = 0
    expires_ns: int = 0  # end of the accepted binding (0: none)
    last_coa: IPv6Address | None = None
    blocking: bool = False  # uplink blocked until the BA (mip6d's xfrm block)
    dereg: bool = False
    sent_seqs: list[int] = field(default_factory=list)


class RrState(StrEnum):
    """Return routability with one correspondent (mip6d's `rr` entries, RFC 6275 §5.2.5, §11.6)."""

    IDLE = "idle"  # nothing running (no home registration for the current CoA yet)
    TESTING = "testing"  # HoTI and/or CoTI sent, waiting for HoT / CoT
    BOUND = "bound"  # BU sent to the CN with both keygen tokens: data goes direct (HAO + RH2)


@dataclass(slots=True)
class CnEntry:
    """A correspondent's BUL entry plus its return-routability state."""

    cn: IPv6Address
    state: RrState = RrState.IDLE
    care_of_address: IPv6Address | None = None
    home_cookie: bytes = b""
    careof_cookie: bytes = b""
    home_token: bytes | None = None
    careof_token: bytes | None = None
    home_nonce_index: int = 0
    careof_nonce_index: int = 0
    hoti_ns: int | None = None  # next HoTI retransmission
    coti_ns: int | None = None
    hoti_delay_ns: int = 0
    coti_delay_ns: int = 0
    refresh_ns: int | None = None  # redo RR before the CN binding expires
    cn_has_binding: bool = False  # a BU was sent: the CN may hold a binding until we deregister
    seq: int = 0
    lifetime_s: int = 0
    expires_ns: int = 0


MnHandler = Callable[["MobileNode", Event, "pk.Parsed | None", int], list[Action]]
TimerHandler = Callable[["MobileNode", int], list[Action]]


class MobileNode:
    """A mobile node with one interface. See the module docstring."""

    TABLE: dict[tuple[str, EventKey], MnHandler] = {}
    TIMER_TABLE: dict[tuple[str, str], TimerHandler] = {}

    def __init__(self, config: MnConfig, rng: random.Random, start_ns: int = 0) -> None:
        self.config = config
        self.rng = rng
        self.state = DETACHED
        self.link_local = pk.link_local(config.mac)
        self.timers: dict[str, int] = {}
        self.router: DefaultRouter | None = None
        self.backup: DefaultRouter | None = None
        self.probes_sent = 0
        self.rs_count = 0
        self.coa: IPv6Address | None = None
        self.coa_prefix: pk.PrefixInfo | None = None
        self.coa_usable = False
        self.coa_tentative = False
        self.home_address_on_link = False
        self.bul: BulEntry | None = None
        self.home_prefix = IPv6Network(f"{config.home_address}/{config.home_prefix_len}", strict=False)
        # The next BU seq, kept across BUL entries: §11.7.1 wants every BU to the same HA to carry a greater
        # number than the previous one, even after a deregistration deleted the entry.
        self.next_seq = config.initial_seq if config.initial_seq is not None else rng.randrange(0x10000)
        # Whether the HA holds a binding for us: §11.8 picks InitialBindackTimeoutFirstReg for a BU sent
        # when it does not (the HA then runs DAD on the home address before answering, §10.3.1).
        self.bound_at_ha = False
        self.cn_entries: dict[IPv6Address, CnEntry] = {}

    # --- Machine ---

    def handle(self, event: Event, now_ns: int) -> list[Action]:
        key, parsed = event_key(event)
        if isinstance(event, Received) and parsed is None:
            return [Dropped(reason="malformed", packet=event.packet)]
        if isinstance(event, Received) and parsed is not None and parsed.rh2 is not None \
                and parsed.kind != pk.Kind.BA and parsed.rh2 == self.config.home_address and parsed.dst == self.coa:
            # §11.3.3: a correspondent's route-optimised packet (type 2 routing header with our HoA).
            inner = pk.strip_rh2(event.packet)
            if inner is None:
                return [Dropped(reason="malformed", packet=event.packet, detail="type 2 routing header")]
            if parsed.src not in self.cn_entries:
                return [Dropped(reason="rh2_without_binding", packet=event.packet)]
            inner_parsed = pk.parse(inner)
            if inner_parsed is None:
                return [Dropped(reason="malformed", packet=inner)]
            return self._local_input(inner, inner_parsed, now_ns)  # now addressed to the HoA: ours
        handler = self.TABLE.get((self.state, key), MobileNode._on_other)
        return handler(self, event, parsed, now_ns)

    def next_deadline(self) -> int | None:
        return min(self.timers.values()) if self.timers else None

    # --- small helpers ---

    @property
    def iface(self) -> str:
        return self.config.iface

    def _where(self) -> str:
        return f"{self.iface} ({self.config.ifindex})"

    def _arm(self, name: str, at_ns: int) -> None:
        self.timers[name] = at_ns

    def _cancel(self, *names: str) -> None:
        for n in names:
            self.timers.pop(n, None)

    def _send(self, packet: bytes, next_hop: IPv6Address | None = None) -> Send:
        return Send(iface=self.iface, packet=packet, next_hop=next_hop)

    def _next_hop(self, dst: IPv6Address) -> IPv6Address | None:
        if self.router is None or dst.is_multicast or dst in IPv6Network("fe80::/10") or self.router.on_link(dst):
            return None
        return self.router.link_local

    def _my_addresses(self) -> set[IPv6Address]:
        out = {self.link_local}
        if self.coa is not None:
            out.add(self.coa)
        if self.home_address_on_link:
            out.add(self.config.home_address)
        return out

    # --- vty ---

    def render_bul(self, now_ns: int, *, verbose: bool = True) -> str:
        """mip6d's `bul` output (fancy off; `verbose` adds the `dev` line and `expires`; notes 1.1)."""
        e = self.bul
        if e is None:
            return ""
        flags = "".join(name + " " for name, f in (("IP6_MH_BU_HOME", pk.BuFlags.H), ("IP6_MH_BU_ACK", pk.BuFlags.A))
                        if f in e.flags)
        lines = [
            "== BUL_ENTRY ==",
            f"Home address    {pk.nip6(e.home_address)}",
            f"Care-of address {pk.nip6(e.care_of_address)}",
            f"CN address      {pk.nip6(e.peer)}",
            f" lifetime = {e.lifetime_s},  delay = {e.delay_ns // NS_PER_MS}",
            f" flags: {flags}",
            f" ack {'ready' if e.state == BindingState.READY else 'wait'}",
        ]
        if verbose:
            lines.append(f" dev {e.dev} last_coa {pk.nip6(e.last_coa or e.care_of_address)}")
        remaining = max(0, (e.expires_ns - now_ns) // NS_PER_S) if e.expires_ns else 0
        nxt = self.timers.get(T_BU_REFRESH, self.timers.get(T_BU_RESEND))
        after = max(0, (nxt - now_ns) // NS_PER_S) if nxt is not None else 0
        line = f" lifetime {remaining} / {e.lifetime_s} seq {e.seq} resend {e.resend} delay {e.delay_ns // NS_PER_S}(after {after}s)"
        if verbose:
            line += f" expires {remaining}" if e.expires_ns else " expires -"
        lines.append(line)
        lines.append("")  # the MPS line: mobile prefix solicitation is not implemented
        return "\n".join(lines) + "\n"

    # --- link events ---

    def _on_link_up(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, LinkUp)
        if event.iface != self.iface:
            return []
        self.state = SOLICITING
        self.rs_count = 0
        out: list[Action] = [gt(GtKind.L2_UP, iface=self.iface),
                             Log(text=f"__md_discover_router: discover link on iface {self._where()}")]
        return out + self._send_rs(now)

    def _on_link_down(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, LinkDown)
        if event.iface != self.iface:
            return []
        out: list[Action] = [gt(GtKind.L2_DOWN, iface=self.iface)]
        out += self._flush_link()
        self.state = DETACHED
        # BU retransmissions pause without a CoA; they restart with the next movement.
        self._cancel(T_RS, T_DAD_NS, T_DAD_DONE, T_ROUTER, T_PROBE, T_BU_RESEND)
        return out

    def _flush_link(self) -> list[Action]:
        """ME_LINK_DOWN / router expiry: the CoA and the router go (the BUL entry stays)."""
        out: list[Action] = []
        if self.coa is not None:
            out.append(AddressRemoved(iface=self.iface, address=IPv6Interface(f"{self.coa}/64")))
        if self.home_address_on_link:
            out.append(AddressRemoved(iface=self.iface,
                                      address=IPv6Interface(f"{self.config.home_address}/{self.config.home_prefix_len}")))
        self.coa, self.coa_prefix, self.coa_usable, self.coa_tentative = None, None, False, False
        self.home_address_on_link = False
        self.router, self.backup = None, None
        self._cn_bindings_stale()
        self._cancel(T_DAD_NS, T_DAD_DONE, T_ROUTER, T_PROBE)
        return out

    def _send_rs(self, now: int) -> list[Action]:
        self.rs_count += 1
        out: list[Action] = [self._send(pk.build_rs(self.link_local, self.config.mac)),
                             gt(GtKind.RS_SENT, iface=self.iface, count=self.rs_count)]
        # mip6d: `++count <= router_solicitations` before each repeat -> 1 + 3 RSs.
        if self.rs_count <= self.config.router_solicitations:
            self._arm(T_RS, now + self.config.router_solicitation_interval_ms * NS_PER_MS)
        else:
            self._cancel(T_RS)
        return out

    # --- movement detection ---

    def _on_ra(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        if p.hlim != 255 or p.src not in IPv6Network("fe80::/10"):
            return [Dropped(reason="malformed", packet=event.packet, detail="RA validity (RFC 4861 §6.1.2)")]
        if not p.prefixes:
            return [Dropped(reason="ra_without_prefix", packet=event.packet)]  # UMIP ignores it for MD
        md_ms = p.ra_router_lifetime_s * 1000
        if p.adv_interval_ms is not None:
            md_ms = min(md_ms, p.adv_interval_ms)
        cand = DefaultRouter(link_local=p.src, mac=p.lladdr, prefixes=p.prefixes, md_lifetime_ns=md_ms * NS_PER_MS,
                             retrans_timer_ms=p.retrans_timer_ms, last_ra_ns=now)
        cur = self.router
        if cur is not None and cur.link_local == p.src:
            if p.ra_router_lifetime_s == 0:  # ME_RTR_EXPIRED
                return self._router_lost(now, cause="lifetime 0")
            cur.prefixes, cur.md_lifetime_ns, cur.last_ra_ns = p.prefixes, cand.md_lifetime_ns, now
            self._cancel(T_PROBE)
            self._arm(T_ROUTER, now + cur.md_lifetime_ns)
            return []
        if p.ra_router_lifetime_s == 0:
            return []
        out: list[Action] = [gt(GtKind.RA_RECEIVED, iface=self.iface, router=p.src,
                                prefixes=tuple(str(x.prefix) for x in p.prefixes), new_router=True)]
        if cur is not None and self.config.router_probes > 0:
            # Lazy strategy: keep the new router as a backup and NUD-probe the old one first (notes 1.2).
            self.backup = cand
            out.append(Log(text=f"md_add_backup_router: add new backup router {pk.nip6(p.src)} on interface "
                                f"{self._where()}"))
            if T_PROBE not in self.timers:
                out += self._start_probe(now)
            return out
        return out + self._adopt(cand, now, trigger="ra")

    def _adopt(self, r: DefaultRouter, now: int, *, trigger: str) -> list[Action]:
        """md_change_default_router + mn_make_ho_verdict: switch to `r`, then home or foreign."""
        out: list[Action] = []
        old_coa = self.coa
        if self.router is not None:
            out.append(Log(text=f"md_expire_router: expiring router {pk.nip6(self.router.link_local)} on iface "
                                f"{self._where()}"))
        self.router, self.backup = r, None
        self._cancel(T_RS, T_PROBE)
        self.rs_count = 0
        self._arm(T_ROUTER, now + r.md_lifetime_ns)
        out.append(Log(text=f"md_change_default_router: add new router {pk.nip6(r.link_local)} on interface "
                            f"{self._where()}"))
        home = any(self.config.home_address in x.prefix for x in r.prefixes)
        out.append(gt(GtKind.MOVEMENT_DETECTED, iface=self.iface, router=r.link_local, trigger=trigger, home=home))
        if home:
            return out + self._return_home(now)
        prefix = next((x for x in r.prefixes if x.autonomous and x.prefix.prefixlen == 64), None)
        if prefix is None:
            self.state = SOLICITING
            return out + [Log(text="md: no autonomous /64 prefix in RA, no CoA")]
        coa = pk.slaac_address(prefix.prefix, self.config.mac)
        if self.home_address_on_link:
            self.home_address_on_link = False
            out.append(AddressRemoved(iface=self.iface,
                                      address=IPv6Interface(f"{self.config.home_address}/{self.config.home_prefix_len}")))
        if old_coa == coa and self.coa_usable:
            # Same CoA (router back with the same prefix): "re-establish", no DAD, no BU.
            self.coa_prefix = prefix
            self.state = AWAY
            return out
        if old_coa is not None and old_coa != coa:
            out.append(AddressRemoved(iface=self.iface, address=IPv6Interface(f"{old_coa}/64")))
        self._cn_bindings_stale()
        self.coa, self.coa_prefix = coa, prefix
        return out + self._start_dad(now)

    def _start_dad(self, now: int) -> list[Action]:
        assert self.coa is not None and self.coa_prefix is not None
        c = self.config
        optimistic = c.optimistic_dad
        self.coa_tentative = True
        self.coa_usable = optimistic
        out: list[Action] = [AddressAdded(iface=self.iface, address=IPv6Interface(f"{self.coa}/64"), tentative=True,
                                          optimistic=optimistic,
                                          valid_lifetime_s=self.coa_prefix.valid_lifetime_s,
                                          preferred_lifetime_s=self.coa_prefix.preferred_lifetime_s)]
        # RFC 4862 §5.4.2: a random delay in [0, MAX_RTR_SOLICITATION_DELAY) before the first NS.
        delay_ns = int(self.rng.uniform(0, c.dad_max_delay_ms) * NS_PER_MS) if c.dad_max_delay_ms > 0 else 0
        self._arm(T_DAD_NS, now + delay_ns)
        if optimistic:
            self.state = AWAY
            out.append(gt(GtKind.COA_CONFIGURED, iface=self.iface, address=self.coa))
            out += self._movement_bu(now)
        else:
            self.state = DAD
        return out

    def _t_dad_ns(self, now: int) -> list[Action]:
        assert self.coa is not None
        self._cancel(T_DAD_NS)
        ns = pk.build_ns(pk.UNSPECIFIED, pk.solicited_node(self.coa), self.coa, None)
        self._arm(T_DAD_DONE, now + self.config.dad_transmits * self.config.retrans_timer_ms * NS_PER_MS)
        return [self._send(ns), gt(GtKind.DAD_START, iface=self.iface, address=self.coa,
                                   optimistic=self.config.optimistic_dad)]

    def _t_dad_done(self, now: int) -> list[Action]:
        assert self.coa is not None
        self._cancel(T_DAD_DONE)
        self.coa_tentative = False
        out: list[Action] = [
            gt(GtKind.DAD_END, iface=self.iface, address=self.coa, ok=True),
            AddressAdded(iface=self.iface, address=IPv6Interface(f"{self.coa}/64"), tentative=False,
                         valid_lifetime_s=self.coa_prefix.valid_lifetime_s if self.coa_prefix else None,
                         preferred_lifetime_s=self.coa_prefix.preferred_lifetime_s if self.coa_prefix else None),
            Log(text=f"md_update_router_stats: Adding CoA {pk.nip6(self.coa)} on interface ({self.config.ifindex})"),
        ]
        if self.state == DAD:
            self.coa_usable = True
            self.state = AWAY
            out.append(gt(GtKind.COA_CONFIGURED, iface=self.iface, address=self.coa))
            out += self._movement_bu(now)
        return out

    def _dad_failed(self, now: int) -> list[Action]:
        assert self.coa is not None
        coa = self.coa
        self._cancel(T_DAD_NS, T_DAD_DONE)
        out: list[Action] = [gt(GtKind.DAD_END, iface=self.iface, address=coa, ok=False),
                             AddressRemoved(iface=self.iface, address=IPv6Interface(f"{coa}/64")),
                             Log(text=f"DAD failed for {pk.nip6(coa)}")]
        self.coa, self.coa_usable, self.coa_tentative = None, False, False
        self.state = SOLICITING
        return out

    def _t_rs(self, now: int) -> list[Action]:
        self._cancel(T_RS)
        return self._send_rs(now)

    def _t_router(self, now: int) -> list[Action]:
        """The Advertisement Interval ran out with no RA (§11.5.1)."""
        self._cancel(T_ROUTER)
        if self.config.router_probes > 0 and T_PROBE not in self.timers:
            return self._start_probe(now)
        return self._router_lost(now, cause="advertisement interval expired")

    def _start_probe(self, now: int) -> list[Action]:
        assert self.router is not None
        self.probes_sent = 0
        return self._send_probe(now)

    def _send_probe(self, now: int) -> list[Action]:
        assert self.router is not None
        c = self.config
        self.probes_sent += 1
        retrans = (self.router.retrans_timer_ms or c.retrans_timer_ms) * NS_PER_MS
        wait = retrans
        if c.router_probe_timeout_ms > 0:
            wait = min(wait, c.router_probe_timeout_ms * NS_PER_MS // max(1, c.router_probes))
        self._arm(T_PROBE, now + wait)
        ns = pk.build_ns(self.link_local, self.router.link_local, self.router.link_local, c.mac)
        return [self._send(ns, self.router.link_local)]

    def _t_probe(self, now: int) -> list[Action]:
        self._cancel(T_PROBE)
        if self.probes_sent < self.config.router_probes:
            return self._send_probe(now)
        if self.backup is not None:
            return self._adopt(self.backup, now, trigger="ra")
        return self._router_lost(now, cause="NUD failed")

    def _router_lost(self, now: int, *, cause: str) -> list[Action]:
        assert self.router is not None
        r = self.router
        out: list[Action] = [
            Log(text=f"md_expire_router: expiring router {pk.nip6(r.link_local)} on iface {self._where()}"),
            gt(GtKind.ROUTER_LOST, iface=self.iface, router=r.link_local, cause=cause),
        ]
        if self.backup is not None:
            return out + self._adopt(self.backup, now, trigger="router_loss")
        out += self._flush_link()
        self.state = SOLICITING
        self.rs_count = 0
        return out + self._send_rs(now)

    # --- home registration (BUL) ---

    def _bu_lifetime(self) -> int:
        """min(CoA valid lifetime, HoA valid lifetime, MnMaxHaBindingLife), 4 s units (notes 1.3)."""
        coa_valid = self.coa_prefix.valid_lifetime_s if self.coa_prefix else INFINITE_LIFETIME
        lifetime = min(coa_valid, self.config.max_binding_life_s)
        out = lifetime // 4 * 4
        return out

    def _movement_bu(self, now: int) -> list[Action]:
        """mn_move + mn_send_home_bu after a movement to a foreign link (§11.7.1)."""
        assert self.coa is not None
        out: list[Action] = [Log(text="mn_move: in foreign net")]
        e = self.bul
        if e is None:
            e = self.bul = BulEntry(home_address=self.config.home_address, care_of_address=self.coa,
                                    peer=self.config.home_agent, dev=self.iface, next_seq=self.next_seq,
                                    first_registration=not self.bound_at_ha)
            out.append(Log(text="mn_send_home_bu: New bule for HA"))
        else:
            out.append(Log(text="mn_send_home_bu: Bule for HA exists. Updating it."))
            out.append(Log(text="mn_send_home_bu: Moved to foreign network"))
        self._cn_bindings_stale()
        e.last_coa = e.care_of_address
        e.care_of_address = self.coa
        e.dereg = False
        e.blocking = not self.config.optimistic_handoff
        e.lifetime_s = self._bu_lifetime()
        out.append(Log(text=f"mn_get_home_lifetime: CoA lifetime {self.coa_prefix.valid_lifetime_s if self.coa_prefix else 0} s, "
                            f"HoA lifetime {INFINITE_LIFETIME} s, BU lifetime {e.lifetime_s} s"))
        return out + self._start_bu(e, now)

    def _return_home(self, now: int) -> list[Action]:
        """§11.5.4: at home the HoA is on the link again; deregister if a binding may exist."""
        out: list[Action] = []
        self.state = HOME
        if self.coa is not None:
            out.append(AddressRemoved(iface=self.iface, address=IPv6Interface(f"{self.coa}/64")))
        self.coa, self.coa_prefix, self.coa_usable, self.coa_tentative = None, None, False, False
        self._cancel(T_DAD_NS, T_DAD_DONE)
        if not self.home_address_on_link:
            self.home_address_on_link = True
            out.append(AddressAdded(iface=self.iface,
                                    address=IPv6Interface(f"{self.config.home_address}/{self.config.home_prefix_len}")))
        out.append(Log(text="mn_move: in home net"))
        out += self._deregister_cns(now)
        e = self.bul
        if e is None:
            return out  # never registered: nothing to undo
        out.append(Log(text="mn_send_home_bu: Moved to home network"))
        e.last_coa = e.care_of_address
        e.care_of_address = self.config.home_address
        e.dereg = True
        e.blocking = True  # OptimisticHandoff never applies when returning home (notes 1.2)
        e.lifetime_s = 0
        return out + self._start_bu(e, now)

    def _start_bu(self, e: BulEntry, now: int) -> list[Action]:
        """A new BU (movement, return home, 135 resync, refresh): resend counter and timeout reset."""
        first = e.first_registration and not e.dereg
        timeout_ms = self.config.bindack_timeout_first_reg_ms if first else self.config.bindack_timeout_rereg_ms
        e.resend = 0
        e.delay_ns = timeout_ms * NS_PER_MS
        e.state = BindingState.WAIT
        self._cancel(T_BU_REFRESH)
        return self._transmit_bu(e, now)

    def _transmit_bu(self, e: BulEntry, now: int) -> list[Action]:
        seq = e.next_seq & 0xFFFF
        e.seq = seq
        e.next_seq = (seq + 1) & 0xFFFF  # mip6d increments on every transmission
        e.last_sent_ns = now
        e.sent_seqs.append(seq)
        src = e.care_of_address
        bu = pk.build_bu(src, e.peer, home_address=e.home_address, seq=seq, lifetime_s=e.lifetime_s, flags=e.flags,
                         hlim=self.config.hop_limit)
        self._arm(T_BU_RESEND, now + e.delay_ns)
        return [
            self._send(bu, self._next_hop(e.peer)),
            Log(text=f"mh_send: sending MH type 5\nfrom {pk.nip6(src)}\nto {pk.nip6(e.peer)}"),
            gt(GtKind.BU_SENT, home_address=e.home_address, care_of_address=src, peer=e.peer, seq=seq,
               lifetime_s=e.lifetime_s, flags=e.flags.letters(), retransmission=e.resend),
            BindingChanged(home_address=e.home_address, care_of_address=src, peer=e.peer, lifetime_s=e.lifetime_s,
                           seq=seq, state=BindingState.WAIT),
        ]

    def _t_bu_resend(self, now: int) -> list[Action]:
        """§11.8: no BA within the timeout: retransmit with seq+1, doubling the wait up to 32 s."""
        self._cancel(T_BU_RESEND)
        e = self.bul
        if e is None or e.state != BindingState.WAIT:
            return []
        if not self._can_send_bu(e):
            return []  # no usable CoA now; the next movement sends a fresh BU
        e.resend += 1
        e.delay_ns = min(2 * e.delay_ns, self.config.max_bindack_timeout_ms * NS_PER_MS)
        return [Log(text=f"bu_resend: BU resend type {BUL_ENTRY_TYPE}")] + self._transmit_bu(e, now)

    def _t_bu_refresh(self, now: int) -> list[Action]:
        """Refresh at 0.95 of the granted lifetime (mip6d BU_REFRESH_DELAY), with the 1 s timeout."""
        self._cancel(T_BU_REFRESH)
        e = self.bul
        if e is None or not self._can_send_bu(e):
            return []
        e.lifetime_s = self._bu_lifetime() if not e.dereg else 0
        e.blocking = False  # the binding is still valid at the HA: no block on refresh
        return [Log(text=f"bu_refresh: BU refresh type: {BUL_ENTRY_TYPE}")] + self._start_bu(e, now)

    def _can_send_bu(self, e: BulEntry) -> bool:
        if e.dereg:
            return self.state == HOME
        return self.state == AWAY and self.coa_usable and self.coa == e.care_of_address

    def _on_ba(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        """§11.7.3 (mn_recv_ba)."""
        assert isinstance(event, Received) and p is not None
        if p.dst not in self._my_addresses() and p.dst != self.config.home_address:
            return [Dropped(reason="not_for_me", packet=event.packet)]
        if not p.mh_checksum_ok:
            return [Dropped(reason="bad_checksum", packet=event.packet)]
        e = self.bul
        hoa = p.rh2 or p.dst
        if e is None or p.src != e.peer or hoa != e.home_address:
            return [Log(text="mn_recv_ba: No corresponding BUL entry found!"),
                    Dropped(reason="ba_no_bul_entry", packet=event.packet)]
        out: list[Action] = [
            Log(text=f"mn_recv_ba: Got BA (status {p.status}) from {pk.nip6(p.src)} to home address "
                     f"{pk.nip6(e.home_address)} with coa {pk.nip6(e.care_of_address)}."),
        ]
        if p.status == pk.BaStatus.SEQ_OUT_OF_WINDOW:
            if e.state != BindingState.WAIT:
                return out + [Dropped(reason="ba_unexpected_seq", packet=event.packet, detail="135 with no BU pending")]
            out.append(gt(GtKind.BA_RECEIVED, home_address=e.home_address, care_of_address=e.care_of_address,
                          peer=e.peer, status=p.status, seq=p.seq, lifetime_s=p.lifetime_s))
            out.append(Log(text=f"Received BA with error status {pk.BA_STATUS_TEXT[135]} (135). "
                                "Resending BU w/ updated seqno"))
            # §11.7.3 / mip6d: resynchronise on the HA's last accepted number and resend at once.
            e.next_seq = (p.seq + 1) & 0xFFFF
            e.first_registration = False  # the resend waits InitialBindackTimeoutReReg (notes 1.3)
            return out + self._start_bu(e, now)
        if e.state != BindingState.WAIT or p.seq != e.seq:
            return out + [Log(text=f"mn_process_ha_ba: Got BA with incorrect sequence number {p.seq}, "
                                   f"the one sent in BU was {e.seq}"),
                          Dropped(reason="ba_unexpected_seq", packet=event.packet, detail=f"{p.seq} != {e.seq}")]
        out.append(gt(GtKind.BA_RECEIVED, home_address=e.home_address, care_of_address=e.care_of_address, peer=e.peer,
                      status=p.status, seq=p.seq, lifetime_s=p.lifetime_s))
        self._cancel(T_BU_RESEND)
        if p.status >= 128:
            out.append(Log(text=f"Received BA with error status {pk.BA_STATUS_TEXT.get(p.status, 'unknown by UMIP')} "
                                f"({p.status}). Unable to register with HA. Deleting entry"))
            out += self._delete_bul(e)
            out.append(gt(GtKind.HANDOVER_DONE, home_address=e.home_address, care_of_address=e.care_of_address,
                          status=p.status))
            return out
        if e.dereg or p.lifetime_s == 0:
            self.bound_at_ha = False  # the HA deleted the binding: the next BU is a first registration again
            out += self._delete_bul(e)
            out.append(gt(GtKind.HANDOVER_DONE, home_address=e.home_address, care_of_address=e.care_of_address,
                          status=p.status))
            if self.state == HOME:
                out.append(gt(GtKind.RETURNED_HOME, home_address=e.home_address, iface=self.iface))
                out.append(self._unsolicited_na())
            return out
        # Accepted (0, or 1 = prefix discovery necessary, which this MN does not do).
        e.state = BindingState.READY
        e.blocking = False
        e.first_registration = False
        self.bound_at_ha = True
        e.lifetime_s = min(e.lifetime_s, p.lifetime_s)
        e.expires_ns = e.last_sent_ns + e.lifetime_s * NS_PER_S  # §11.7.3: counted from the BU's sending
        e.resend = 0
        e.delay_ns = e.lifetime_s * self.config.refresh_permille * NS_PER_MS  # lifetime x 0.95, in ns
        self._arm(T_BU_REFRESH, now + e.delay_ns)
        out += [
            Log(text=f"set_bule_lifetime: Set bule lifetime to {e.lifetime_s} (s) and resend to bule->delay "
                     f"{e.delay_ns // NS_PER_S} (s)"),
            Log(text=f"mn_process_ha_ba: Callback to bu_refresh after {e.delay_ns // NS_PER_S} seconds"),
            BindingChanged(home_address=e.home_address, care_of_address=e.care_of_address, peer=e.peer,
                           lifetime_s=e.lifetime_s, seq=e.seq, state=BindingState.READY),
            gt(GtKind.HANDOVER_DONE, home_address=e.home_address, care_of_address=e.care_of_address,
               status=p.status),
        ]
        if self.state == AWAY:
            for cn in self.config.route_optimization_cns:
                entry = self.cn_entries.setdefault(cn, CnEntry(cn=cn, seq=self.next_seq))
                if entry.state == RrState.IDLE or entry.care_of_address != self.coa:
                    out += self._start_rr(entry, now)
        return out

    def _delete_bul(self, e: BulEntry) -> list[Action]:
        self.bul = None
        self.next_seq = e.next_seq
        self._cancel(T_BU_RESEND, T_BU_REFRESH)
        return [Log(text="Deleting bul entry"),
                BindingChanged(home_address=e.home_address, care_of_address=e.care_of_address, peer=e.peer,
                               lifetime_s=0, seq=e.seq, state=BindingState.REMOVED)]

    def _unsolicited_na(self) -> Send:
        """§11.5.4: back home, announce the HoA's link-layer address to all nodes (O flag set)."""
        na = pk.build_na(self.config.home_address, pk.ALL_NODES, self.config.home_address, self.config.mac,
                         router=False, solicited=False, override=True)
        return self._send(na)

    # --- route optimisation (return routability, §5.2.5, §11.6, §11.7.2) ---

    def _cn_bindings_stale(self) -> None:
        """§11.6: a CN binding names the old CoA; traffic goes through the HA until RR is redone."""
        for entry in self.cn_entries.values():
            entry.state, entry.hoti_ns, entry.coti_ns, entry.refresh_ns = RrState.IDLE, None, None, None
        self._rearm_rr()

    def _rearm_rr(self) -> None:
        times = [t for e in self.cn_entries.values() for t in (e.hoti_ns, e.coti_ns, e.refresh_ns) if t is not None]
        if times:
            self._arm(T_RR, min(times))
        else:
            self._cancel(T_RR)

    def _start_rr(self, e: CnEntry, now: int) -> list[Action]:
        """§11.6.1: HoTI from the HoA through the reverse tunnel and CoTI from the CoA, in parallel."""
        assert self.coa is not None
        e.state, e.care_of_address = RrState.TESTING, self.coa
        e.home_token = e.careof_token = None
        e.home_cookie, e.careof_cookie = self.rng.randbytes(8), self.rng.randbytes(8)
        e.hoti_delay_ns = e.coti_delay_ns = self.config.test_init_timeout_ms * NS_PER_MS
        e.refresh_ns = None
        out = self._send_hoti(e, now) + self._send_coti(e, now)
        self._rearm_rr()
        return out

    def _send_hoti(self, e: CnEntry, now: int) -> list[Action]:
        assert self.coa is not None
        hoti = pk.build_test_init(self.config.home_address, e.cn, cookie=e.home_cookie, home=True,
                                  hlim=self.config.hop_limit)
        e.hoti_ns = now + e.hoti_delay_ns
        outer = pk.encapsulate(self.coa, self.config.home_agent, hoti, self.config.hop_limit)
        return [self._send(outer, self._next_hop(self.config.home_agent)),
                Log(text=f"mh_send: sending MH type 1\nfrom {pk.nip6(self.config.home_address)}\nto {pk.nip6(e.cn)}")]

    def _send_coti(self, e: CnEntry, now: int) -> list[Action]:
        assert self.coa is not None
        coti = pk.build_test_init(self.coa, e.cn, cookie=e.careof_cookie, home=False, hlim=self.config.hop_limit)
        e.coti_ns = now + e.coti_delay_ns
        return [self._send(coti, self._next_hop(e.cn)),
                Log(text=f"mh_send: sending MH type 2\nfrom {pk.nip6(self.coa)}\nto {pk.nip6(e.cn)}")]

    def _t_rr(self, now: int) -> list[Action]:
        """HoTI/CoTI retransmission (5 s doubling to 32 s) and RR refresh before the CN binding expires."""
        out: list[Action] = []
        cap = self.config.max_bindack_timeout_ms * NS_PER_MS
        for e in self.cn_entries.values():
            if e.refresh_ns is not None and e.refresh_ns <= now:
                out += self._start_rr(e, now)
                continue
            if e.hoti_ns is not None and e.hoti_ns <= now:
                e.hoti_delay_ns = min(2 * e.hoti_delay_ns, cap)
                out += self._send_hoti(e, now)
            if e.coti_ns is not None and e.coti_ns <= now:
                e.coti_delay_ns = min(2 * e.coti_delay_ns, cap)
                out += self._send_coti(e, now)
        self._rearm_rr()
        return out

    def _on_cot(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        if p.dst != self.coa:
            return [Dropped(reason="not_for_me", packet=event.packet)]
        return self._on_test(p, now)

    def _on_hot_direct(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        """A HoT must come through the HA's tunnel (§11.6.2: it proves the home address is reachable)."""
        assert isinstance(event, Received) and p is not None
        return [Dropped(reason="hot_not_tunnelled", packet=event.packet)]

    def _on_test(self, p: pk.Parsed, now: int) -> list[Action]:
        """HoT / CoT (§11.6.2): accept only the cookie we sent; with both tokens, BU to the CN."""
        e = self.cn_entries.get(p.src)
        home = p.kind == pk.Kind.HOT
        if e is None or e.state != RrState.TESTING or not p.mh_checksum_ok \
                or p.cookie != (e.home_cookie if home else e.careof_cookie):
            return [Dropped(reason="rr_unexpected_test", detail=f"{p.kind.name} from {p.src}")]
        if home:
            e.home_token, e.home_nonce_index, e.hoti_ns = p.token, p.nonce_index, None
        else:
            e.careof_token, e.careof_nonce_index, e.coti_ns = p.token, p.nonce_index, None
        out: list[Action] = []
        if e.home_token is not None and e.careof_token is not None:
            out += self._send_cn_bu(e, now)
        self._rearm_rr()
        return out

    def _send_cn_bu(self, e: CnEntry, now: int) -> list[Action]:
        """§11.7.2: BU to the CN, authorised by Kbm = SHA1(home token | care-of token) (§5.2.5)."""
        assert self.coa is not None and e.home_token is not None
        e.seq = (e.seq + 1) & 0xFFFF
        home_left = (self.bul.expires_ns - now) // NS_PER_S if self.bul is not None and self.bul.expires_ns else 0
        e.lifetime_s = max(0, min(self.config.max_cn_binding_life_s, home_left)) // 4 * 4
        kbm = pk.binding_key(e.home_token, e.careof_token)
        bu = pk.build_bu_to_cn(self.coa, e.cn, home_address=self.config.home_address, seq=e.seq,
                               lifetime_s=e.lifetime_s, home_nonce_index=e.home_nonce_index,
                               careof_nonce_index=e.careof_nonce_index, kbm=kbm, ack=self.config.cn_bu_ack,
                               hlim=self.config.hop_limit)
        e.state, e.cn_has_binding = RrState.BOUND, True
        e.expires_ns = now + e.lifetime_s * NS_PER_S
        # Redo RR before the binding (and the 210 s token lifetime) runs out, as mip6d refreshes.
        e.refresh_ns = now + e.lifetime_s * self.config.refresh_permille * NS_PER_MS if e.lifetime_s else None
        flags = pk.BuFlags.A if self.config.cn_bu_ack else pk.BuFlags(0)
        return [
            self._send(bu, self._next_hop(e.cn)),
            Log(text=f"mh_send: sending MH type 5\nfrom {pk.nip6(self.coa)}\nto {pk.nip6(e.cn)}"),
            gt(GtKind.BU_SENT, home_address=self.config.home_address, care_of_address=self.coa, peer=e.cn,
               seq=e.seq, lifetime_s=e.lifetime_s, flags=flags.letters(), retransmission=0),
            BindingChanged(home_address=self.config.home_address, care_of_address=self.coa, peer=e.cn,
                           lifetime_s=e.lifetime_s, seq=e.seq, state=BindingState.READY),
        ]

    def _deregister_cns(self, now: int) -> list[Action]:
        """Back home (§11.5.4, §11.7.2): lifetime 0 BUs from the HoA, Kbm = SHA1(home keygen token)."""
        out: list[Action] = []
        hoa = self.config.home_address
        for e in self.cn_entries.values():
            if e.cn_has_binding and e.home_token is not None and e.expires_ns > now:
                e.seq = (e.seq + 1) & 0xFFFF
                bu = pk.build_bu_to_cn(hoa, e.cn, home_address=hoa, seq=e.seq, lifetime_s=0,
                                       home_nonce_index=e.home_nonce_index, careof_nonce_index=0,
                                       kbm=pk.binding_key(e.home_token, None), hlim=self.config.hop_limit)
                out += [self._send(bu, self._next_hop(e.cn)),
                        gt(GtKind.BU_SENT, home_address=hoa, care_of_address=hoa, peer=e.cn, seq=e.seq, lifetime_s=0,
                           flags="", retransmission=0),
                        BindingChanged(home_address=hoa, care_of_address=hoa, peer=e.cn, lifetime_s=0, seq=e.seq,
                                       state=BindingState.REMOVED)]
            e.state, e.hoti_ns, e.coti_ns, e.refresh_ns = RrState.IDLE, None, None, None
            e.cn_has_binding = False
        self._rearm_rr()
        return out

    # --- data path ---

    def _uplink_blocked(self, now: int) -> str | None:
        """Why application traffic from the HoA cannot leave now, or None."""
        e = self.bul
        if self.state in (DETACHED, SOLICITING, DAD) or self.router is None:
            return "no_address"
        if e is not None and e.blocking and e.state == BindingState.WAIT:
            return "uplink_blocked"
        if self.state == AWAY:
            if not self.coa_usable:
                return "no_address"
            if e is None or (e.state == BindingState.READY and e.expires_ns <= now):
                return "no_binding"
            if e.care_of_address != self.coa and not (e.state == BindingState.WAIT and not e.blocking):
                return "no_binding"
        return None

    def _on_app_send(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, AppSend)
        src = IPv6Address(event.packet[8:24])
        dst = IPv6Address(event.packet[24:40])
        if src == self.config.home_address:
            why = self._uplink_blocked(now)
            if why is not None:
                return [Dropped(reason=why, packet=event.packet), *self._gt_data(event, GtKind.DATA_UNSENT, reason=why)]
            if self.state == HOME:
                return [self._send(event.packet, self._next_hop(dst)),
                        *self._gt_data(event, GtKind.DATA_SENT, iface=self.iface, path="direct")]
            assert self.coa is not None
            ro = self.cn_entries.get(dst)
            if ro is not None and ro.state == RrState.BOUND and ro.care_of_address == self.coa and ro.expires_ns > now:
                # §11.3.1: route-optimised: from the CoA, straight to the CN, with a Home Address option.
                return [self._send(pk.insert_hao(event.packet, self.coa), self._next_hop(dst)),
                        *self._gt_data(event, GtKind.DATA_SENT, iface=self.iface, path="ro")]
            # §11.3.1: reverse tunnelling to the HA, CoA -> HA (RFC 2473).
            outer = pk.encapsulate(self.coa, self.config.home_agent, event.packet, self.config.hop_limit)
            return [self._send(outer, self._next_hop(self.config.home_agent)),
                    *self._gt_data(event, GtKind.DATA_SENT, iface=self.iface, path="tunnel")]
        if src in self._my_addresses() and self.router is not None and (src != self.coa or self.coa_usable):
            return [self._send(event.packet, self._next_hop(dst)),
                    *self._gt_data(event, GtKind.DATA_SENT, iface=self.iface, path="direct")]
        return [Dropped(reason="no_address", packet=event.packet),
                *self._gt_data(event, GtKind.DATA_UNSENT, reason="no_address")]

    @staticmethod
    def _gt_data(event: AppSend, kind: GtKind, **fields: object) -> list[Action]:
        if event.seq is None:
            return []
        return [gt(kind, flow=event.flow, seq=event.seq, **fields)]

    def _reply_echo(self, p: pk.Parsed, now: int) -> list[Action]:
        """Answer an echo request to one of our addresses through the same data path as applications."""
        reply = pk.build_echo(p.dst, p.hoa or p.src, ident=p.ident, seq=p.echo_seq, data=p.payload, reply=True,
                              hlim=self.config.hop_limit)
        actions = self._on_app_send(AppSend(packet=reply), None, now)
        return actions

    def _local_input(self, packet: bytes, p: pk.Parsed, now: int) -> list[Action]:
        """A packet for one of our addresses (directly or decapsulated)."""
        if p.kind == pk.Kind.HOT:
            return self._on_test(p, now)
        out: list[Action] = [Deliver(packet=packet)]
        if p.kind == pk.Kind.ECHO_REQUEST:
            out += self._reply_echo(p, now)
        return out

    def _on_tunnel(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        """§11.3.2: packets the HA tunnels to the CoA; only from the HA, only for the HoA."""
        assert isinstance(event, Received) and p is not None
        if p.dst not in self._my_addresses():
            return [Dropped(reason="not_for_me", packet=event.packet)]
        inner = pk.parse(p.inner)
        if inner is None:
            return [Dropped(reason="malformed", packet=event.packet, detail="inner packet")]
        if p.src != self.config.home_agent or inner.dst != self.config.home_address:
            return [Dropped(reason="tunnel_not_from_ha", packet=event.packet)]
        return self._local_input(p.inner, inner, now)

    def _on_echo_request(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        if p.dst not in self._my_addresses():
            return [Dropped(reason="not_for_me", packet=event.packet)]
        return self._local_input(event.packet, p, now)

    def _on_ns(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        if self.coa_tentative and p.target == self.coa and p.src == pk.UNSPECIFIED:
            return self._dad_failed(now)  # someone else is claiming our tentative CoA (RFC 4862 §5.4.3)
        mine = self._my_addresses() - ({self.coa} if self.coa_tentative and self.coa else set())
        if p.target not in mine:
            return []
        dad = p.src == pk.UNSPECIFIED
        assert p.target is not None
        na = pk.build_na(p.target if not dad else self.link_local, pk.ALL_NODES if dad else p.src, p.target,
                         self.config.mac, router=False, solicited=not dad, override=True)
        return [self._send(na, None if dad else p.src)]

    def _on_na(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        if self.coa_tentative and p.target == self.coa:
            return self._dad_failed(now)  # RFC 4862 §5.4.4
        r = self.router
        if r is not None and T_PROBE in self.timers and p.src == r.link_local and p.na_solicited:
            # ME_RTR_BACK: the probed router answered; keep it (notes 1.2).
            self._cancel(T_PROBE)
            self.backup = None
            r.last_ra_ns = now
            self._arm(T_ROUTER, now + r.md_lifetime_ns)
            return [Log(text=f"md: router {pk.nip6(r.link_local)} answered NUD probe")]
        return []

    def _on_be(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        return [Log(text=f"mn_recv_be: Binding Error status {p.status} for {p.be_home_address}")]

    def _on_timer(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        out: list[Action] = []
        # Run due timers in deadline order; a handler may arm/cancel others, so re-check each round.
        while True:
            due = sorted((t, n) for n, t in self.timers.items() if t <= now)
            if not due:
                return out
            _, name = due[0]
            handler = self.TIMER_TABLE.get((self.state, name))
            if handler is None:
                self._cancel(name)  # a timer that means nothing in this state
                continue
            out += handler(self, now)

    def _on_other(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        if isinstance(event, Received) and p is not None:
            if p.kind in (pk.Kind.RS, pk.Kind.RA, pk.Kind.NA, pk.Kind.NS):
                return []
            if p.dst in self._my_addresses():
                return [Deliver(packet=event.packet)]
            return [Dropped(reason="not_for_me" if self.state != DETACHED else "link_down", packet=event.packet)]
        return []


MobileNode.TABLE = {
    **{(s, LinkDown): MobileNode._on_link_down for s in STATES},
    (DETACHED, LinkUp): MobileNode._on_link_up,
    **{(s, Timer): MobileNode._on_timer for s in STATES},
    **{(s, AppSend): MobileNode._on_app_send for s in STATES},
    **{(s, pk.Kind.RA): MobileNode._on_ra for s in ATTACHED},
    **{(s, pk.Kind.BA): MobileNode._on_ba for s in ATTACHED},
    **{(s, pk.Kind.BE): MobileNode._on_be for s in ATTACHED},
    **{(s, pk.Kind.TUNNEL): MobileNode._on_tunnel for s in ATTACHED},
    **{(s, pk.Kind.ECHO_REQUEST): MobileNode._on_echo_request for s in ATTACHED},
    **{(s, pk.Kind.NS): MobileNode._on_ns for s in ATTACHED},
    **{(s, pk.Kind.NA): MobileNode._on_na for s in ATTACHED},
    **{(s, pk.Kind.COT): MobileNode._on_cot for s in ATTACHED},
    **{(s, pk.Kind.HOT): MobileNode._on_hot_direct for s in ATTACHED},
}

MobileNode.TIMER_TABLE = {
    (SOLICITING, T_RS): MobileNode._t_rs,
    (DAD, T_DAD_NS): MobileNode._t_dad_ns,
    (AWAY, T_DAD_NS): MobileNode._t_dad_ns,  # optimistic DAD runs on while the CoA is in use
    (DAD, T_DAD_DONE): MobileNode._t_dad_done,
    (AWAY, T_DAD_DONE): MobileNode._t_dad_done,
    **{(s, T_ROUTER): MobileNode._t_router for s in ROUTED},
    **{(s, T_PROBE): MobileNode._t_probe for s in ROUTED},
    **{(s, T_BU_RESEND): MobileNode._t_bu_resend for s in ATTACHED},
    **{(s, T_BU_REFRESH): MobileNode._t_bu_refresh for s in ATTACHED},
    **{(s, T_RR): MobileNode._t_rr for s in (AWAY,)},
}
