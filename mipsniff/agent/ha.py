"""Home agent: binding cache, BU validation, BA, proxy ND, tunnelling (RFC 6275 §9.5, §10; RFC 2473 §3).

Theory of operation
-------------------
The HA is also the router of its home link (it subclasses `router.Router`: RAs with the H flag and Home
Agent Information option, forwarding). On top of that it keeps a binding cache keyed by home address.

Binding cache entry states (mip6d's `bc` status): DAD (first registration, the HA runs DAD on the home
address before accepting, §10.3.1, about 1 s) and REGISTERED. An entry leaves the cache on
deregistration, on lifetime expiry (never an expired entry in the cache: expired entries are purged at
the start of every `handle`), or when DAD fails. Transitions per entry, `BCE_TABLE` below:

    (no entry,   BU)            -> DAD (DAD NS for the HoA sent; BA after dad_delay) or REGISTERED + BA 0/1
    (no entry,   dereg BU)      -> BA 133 (no home registration for this MN, §10.3.2)
    (DAD,        BU)            -> ignored, as mip6d (-EBUSY): the MN will retransmit
    (DAD,        dad timer)     -> REGISTERED + BA 0/1 + unsolicited proxy NA (§10.4.1)
    (DAD,        NA for HoA)    -> removed + BA 134 (Duplicate Address Detection failed)
    (REGISTERED, BU newer seq)  -> REGISTERED (new CoA/lifetime) + BA 0/1
    (REGISTERED, BU seq <= last)-> BA 135 carrying the last accepted seq (§9.5.1)
    (REGISTERED, dereg BU)      -> removed + BA 0 lifetime 0 (§10.3.2)
    (REGISTERED, expiry timer)  -> removed
Validation before the table (§9.5.1, §10.3.1): bad MH checksum -> silent discard; H flag clear -> not a
home registration (no route optimisation as CN here: discarded); HoA outside the home prefix -> BA 132;
HoA not served -> BA 133. BU seq comparisons are modulo 2**16 (`seq_gt`).

Machine-level events (`HomeAgent.TABLE`): BU -> the above; a tunnelled packet from a registered CoA whose
inner source is the HoA -> decapsulated and processed/forwarded (reverse tunnel, §10.4.5); a packet to a
registered HoA (forwarded or our own, e.g. an echo reply) -> encapsulated HA -> CoA (§10.4.2) with the
inner hop limit decremented as a forwarding router does (the article sees hop limit 63); NS for a
registered HoA on the home link -> proxy NA (§10.4.1); a packet with a HAO for which no binding exists ->
Binding Error status 1 (§9.3.1); echo requests to the HA -> replies; anything else -> `Router`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv6Address

from mipsniff.agent import packets as pk
from mipsniff.agent.api import (
    NS_PER_MS,
    NS_PER_S,
    Action,
    BindingChanged,
    BindingState,
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
from mipsniff.agent.config import INFINITE_LIFETIME, HaConfig
from mipsniff.agent.node import EventKey
from mipsniff.agent.router import ADVERTISING, Router


@dataclass(slots=True)
class BindingCacheEntry:
    """One binding cache entry with the fields mip6d's `bc` shows (field notes 1.1)."""

    home_address: IPv6Address
    care_of_address: IPv6Address
    local: IPv6Address  # the HA address the BU was sent to
    flags: pk.BuFlags
    seq: int  # last accepted sequence number
    lifetime_s: int  # granted lifetime
    state: BindingState
    expires_ns: int = 0  # meaningful in REGISTERED
    dad_end_ns: int = 0  # meaningful in DAD
    requested_lifetime_s: int = 0
    unreach: int = 0


BceHandler = Callable[["HomeAgent", "BindingCacheEntry | None", pk.Parsed, int], list[Action]]
HaHandler = Callable[["HomeAgent", Event, "pk.Parsed | None", int], list[Action]]


class HomeAgent(Router):
    """A home agent that is also its home link's router. See the module docstring."""

    TABLE: dict[tuple[str, EventKey], HaHandler] = {}  # type: ignore[assignment]
    BCE_TABLE: dict[tuple[BindingState | None, str], BceHandler] = {}

    def __init__(self, config: HaConfig, rng: random.Random, start_ns: int = 0) -> None:
        super().__init__(config.router, rng, start_ns)
        self.ha_config = config
        self.binding_cache: dict[IPv6Address, BindingCacheEntry] = {}

    # --- Machine ---

    def handle(self, event: Event, now_ns: int) -> list[Action]:
        out = self._purge_expired(now_ns)
        return out + super().handle(event, now_ns)

    def next_deadline(self) -> int | None:
        times = [t for t in (super().next_deadline(),) if t is not None]
        for e in self.binding_cache.values():
            times.append(e.dad_end_ns if e.state == BindingState.DAD else e.expires_ns)
        return min(times) if times else None

    # --- vty ---

    def render_bc(self, now_ns: int) -> str:
        """mip6d's `bc` output (non-verbose, fancy off; field notes 1.1)."""
        lines: list[str] = []
        for e in self.binding_cache.values():
            flags = "".join(letter if f in e.flags else "-" for letter, f in
                            (("A", pk.BuFlags.A), ("H", pk.BuFlags.H), ("L", pk.BuFlags.L), ("K", pk.BuFlags.K)))
            status = "dad" if e.state == BindingState.DAD else "registered"
            if e.state == BindingState.DAD:
                remaining = "-"
            else:
                remaining = str(max(0, (e.expires_ns - now_ns) // NS_PER_S))
            lines += [
                f"hoa {pk.nip6(e.home_address)} status {status}",
                f" coa {pk.nip6(e.care_of_address)} flags {flags}",
                f" local {pk.nip6(e.local)}",
                f" lifetime {remaining} / {e.lifetime_s} seq {e.seq} unreach {e.unreach}",
            ]
        return "\n".join(lines) + ("\n" if lines else "")

    # --- helpers ---

    def _purge_expired(self, now: int) -> list[Action]:
        out: list[Action] = []
        for e in list(self.binding_cache.values()):
            if e.state == BindingState.REGISTERED and e.expires_ns <= now:
                out += self._remove(e, "expired")
        return out

    def _remove(self, e: BindingCacheEntry, reason: str) -> list[Action]:
        self.binding_cache.pop(e.home_address, None)
        return [
            BindingChanged(home_address=e.home_address, care_of_address=e.care_of_address, peer=e.local,
                           lifetime_s=0, seq=e.seq, state=BindingState.REMOVED),
            gt(GtKind.BINDING_REMOVED, home_address=e.home_address, reason=reason),
        ]

    def _home_prefix_lifetimes(self) -> tuple[int, int]:
        """(valid, preferred) lifetime of the home prefix as advertised on the home link."""
        ra = self.ifaces[self.ha_config.home_iface].config.ra
        if ra is not None:
            for p in ra.prefixes:
                if p.prefix == self.ha_config.home_prefix:
                    return p.valid_lifetime_s, p.preferred_lifetime_s
        return INFINITE_LIFETIME, INFINITE_LIFETIME

    def _grant(self, requested_s: int) -> tuple[int, int]:
        """(status, lifetime): min(BU lifetime, home prefix valid lifetime, HaMaxBindingLife) rounded to
        4 s units; status 1 when the prefix's preferred lifetime <= the requested lifetime (notes 1.3)."""
        valid, preferred = self._home_prefix_lifetimes()
        lifetime = min(requested_s, valid, self.ha_config.max_binding_life_s) // 4 * 4
        status = pk.BaStatus.ACCEPTED_PREFIX_DISCOVERY if preferred != INFINITE_LIFETIME and \
            preferred <= requested_s else pk.BaStatus.ACCEPTED
        return int(status), lifetime

    def _send_ba(self, *, hoa: IPv6Address, coa: IPv6Address, local: IPv6Address, status: int, seq: int,
                 lifetime_s: int) -> list[Action]:
        ba = pk.build_ba(local, coa, home_address=hoa, status=status, seq=seq, lifetime_s=lifetime_s)
        text = pk.BA_STATUS_TEXT.get(status, "unknown by UMIP")
        return [
            super().route(ba, coa),
            Log(text=f"mh_send: sending MH type 6\nfrom {pk.nip6(local)}\nto {pk.nip6(coa)}"),
            Log(text=f"status {text} ({status})"),
            gt(GtKind.BA_SENT, home_address=hoa, care_of_address=coa, status=status, seq=seq, lifetime_s=lifetime_s),
        ]

    def _unsolicited_na(self, hoa: IPv6Address) -> Send:
        """Proxy NA for the home address to all-nodes, so home-link neighbours send to the HA (§10.4.1)."""
        i = self.ifaces[self.ha_config.home_iface]
        na = pk.build_na(i.link_local, pk.ALL_NODES, hoa, i.config.mac, router=False, solicited=False, override=True)
        return Send(iface=i.name, packet=na)

    # --- routing: intercept packets for registered home addresses (§10.4.2) ---

    def route(self, packet: bytes, dst: IPv6Address) -> Send | Dropped:
        e = self.binding_cache.get(dst)
        if e is None or e.state != BindingState.REGISTERED or e.care_of_address == e.home_address:
            return super().route(packet, dst)
        src = IPv6Address(packet[8:24])
        if src in self.own_addresses():
            # Our own packet (echo reply): leaves through the tunnel as if forwarded (article: hop limit 63).
            if packet[7] <= 1:
                return Dropped(reason="hop_limit_exceeded", packet=packet)
            packet = pk.with_hop_limit(packet, packet[7] - 1)
        return super().route(pk.encapsulate(e.local, e.care_of_address, packet), e.care_of_address)

    # --- machine-level handlers ---

    def _on_bu(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        if not self.is_for_me(event.iface, p.dst):
            return [self.forward(event.packet, p)]
        if not p.mh_checksum_ok:
            return [Dropped(reason="bad_checksum", packet=event.packet)]  # §9.2: silently discarded
        hoa = p.hoa or p.src
        out: list[Action] = [
            Log(text="Binding Update Received"),
            gt(GtKind.BU_RECEIVED, home_address=hoa, care_of_address=p.src, seq=p.seq, lifetime_s=p.lifetime_s,
               flags=pk.BuFlags(p.flags).letters()),
        ]
        if not p.flags & pk.BuFlags.H:
            return out + [Dropped(reason="bu_not_home_registration", packet=event.packet)]
        reject = self._validate(hoa)
        if reject is not None:
            return out + self._send_ba(hoa=hoa, coa=p.src, local=p.dst, status=reject, seq=p.seq, lifetime_s=0)
        e = self.binding_cache.get(hoa)
        state = e.state if e is not None else None
        dereg = p.lifetime_s == 0 or p.src == hoa
        if state == BindingState.DAD:
            what = "bu"
        elif e is not None and not pk.seq_gt(p.seq, e.seq):
            what = "bu_old"
        else:
            what = "dereg" if dereg else "bu"
        return out + self.BCE_TABLE[(state, what)](self, e, p, now)

    def _validate(self, hoa: IPv6Address) -> int | None:
        if hoa not in self.ha_config.home_prefix:
            return int(pk.BaStatus.NOT_HOME_SUBNET)
        served = self.ha_config.served_home_addresses
        if served is not None and hoa not in served:
            return int(pk.BaStatus.NOT_HOME_AGENT)
        return None

    def _on_tunnel(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        """Reverse tunnel (§10.4.5): accept only from the registered CoA of the inner source's binding."""
        assert isinstance(event, Received) and p is not None
        if not self.is_for_me(event.iface, p.dst):
            return [self.forward(event.packet, p)]
        inner = pk.parse(p.inner)
        if inner is None:
            return [Dropped(reason="malformed", packet=event.packet, detail="inner packet")]
        e = self.binding_cache.get(inner.src)
        if e is None or e.state != BindingState.REGISTERED or e.care_of_address != p.src:
            return [Dropped(reason="tunnel_no_binding", packet=event.packet, detail=str(inner.src))]
        # The decapsulated packet is processed as if it had arrived on the home link.
        return self.handle(Received(iface=self.ha_config.home_iface, packet=p.inner), now)

    def _on_ns(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        proxied: set[IPv6Address] = set()
        if event.iface == self.ha_config.home_iface and self.ha_config.proxy_nd:
            proxied = {h for h, e in self.binding_cache.items() if e.state == BindingState.REGISTERED}
        return list(self.answer_ns(event.iface, p, router=True, proxied=proxied))

    def _on_na(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        assert isinstance(event, Received) and p is not None
        e = self.binding_cache.get(p.target) if p.target is not None else None
        if e is not None and e.state == BindingState.DAD and event.iface == self.ha_config.home_iface:
            return self.BCE_TABLE[(BindingState.DAD, "dad_failed")](self, e, p, now)
        return []

    def _on_timer_ha(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        out: list[Action] = []
        for e in list(self.binding_cache.values()):
            if e.state == BindingState.DAD and e.dad_end_ns <= now:
                out += self.BCE_TABLE[(BindingState.DAD, "dad_done")](self, e, None, now)  # type: ignore[arg-type]
        return out + Router._on_timer(self, event, p, now)

    def _on_other(self, event: Event, p: pk.Parsed | None, now: int) -> list[Action]:
        if isinstance(event, Received) and p is not None and p.hoa is not None and self.is_for_me(event.iface, p.dst):
            e = self.binding_cache.get(p.hoa)
            if e is None or e.care_of_address != p.src:
                # §9.3.1: a HAO without a binding is answered with a Binding Error status 1, to the source.
                be = pk.build_be(p.dst, p.src, status=int(pk.BeStatus.UNKNOWN_BINDING), home_address=p.hoa)
                return [Dropped(reason="hao_without_binding", packet=event.packet),
                        super().route(be, p.src),
                        gt(GtKind.BE_SENT, status=int(pk.BeStatus.UNKNOWN_BINDING), home_address=p.hoa, dst=p.src)]
        if isinstance(event, Received) and p is not None and p.kind == pk.Kind.ECHO_REQUEST:
            return Router._on_echo_request(self, event, p, now)
        return Router._on_other(self, event, p, now)

    # --- binding cache entry transitions (BCE_TABLE) ---

    def _bce_first(self, e: BindingCacheEntry | None, p: pk.Parsed, now: int) -> list[Action]:
        hoa = p.hoa or p.src
        status, lifetime = self._grant(p.lifetime_s)
        new = BindingCacheEntry(home_address=hoa, care_of_address=p.src, local=p.dst, flags=pk.BuFlags(p.flags),
                                seq=p.seq, lifetime_s=lifetime, requested_lifetime_s=p.lifetime_s,
                                state=BindingState.DAD)
        self.binding_cache[hoa] = new
        if self.ha_config.dad_on_first_registration:
            # §10.3.1: DAD on the home address before the first BA (mip6d's ndisc_do_dad, ~1 s).
            new.dad_end_ns = now + self.ha_config.dad_delay_ms * NS_PER_MS
            i = self.ifaces[self.ha_config.home_iface]
            ns = pk.build_ns(pk.UNSPECIFIED, pk.solicited_node(hoa), hoa, None)
            return [Send(iface=i.name, packet=ns),
                    BindingChanged(home_address=hoa, care_of_address=p.src, peer=p.dst, lifetime_s=lifetime,
                                   seq=p.seq, state=BindingState.DAD)]
        return self._bce_dad_done(new, None, now)  # type: ignore[arg-type]

    @staticmethod
    def _registered(e: BindingCacheEntry, lifetime: int) -> list[Action]:
        """The actions that announce a binding as registered (to the transport and the ground truth)."""
        return [
            BindingChanged(home_address=e.home_address, care_of_address=e.care_of_address, peer=e.local,
                           lifetime_s=lifetime, seq=e.seq, state=BindingState.REGISTERED),
            gt(GtKind.BINDING_ADDED, home_address=e.home_address, care_of_address=e.care_of_address, seq=e.seq,
               lifetime_s=lifetime),
        ]

    def _bce_dad_done(self, e: BindingCacheEntry | None, p: pk.Parsed | None, now: int) -> list[Action]:
        assert e is not None
        status, lifetime = self._grant(e.requested_lifetime_s)
        e.state = BindingState.REGISTERED
        e.lifetime_s = lifetime
        e.expires_ns = now + lifetime * NS_PER_S
        out = self._registered(e, lifetime)
        if self.ha_config.proxy_nd:
            out.append(self._unsolicited_na(e.home_address))
        out += self._send_ba(hoa=e.home_address, coa=e.care_of_address, local=e.local, status=status, seq=e.seq,
                             lifetime_s=lifetime)
        if lifetime == 0:  # a granted lifetime of 0 (tiny request) is no binding at all
            out += self._remove(e, "expired")
        return out

    def _bce_dad_failed(self, e: BindingCacheEntry | None, p: pk.Parsed, now: int) -> list[Action]:
        assert e is not None
        out = self._remove(e, "dad_failed")
        return out + self._send_ba(hoa=e.home_address, coa=e.care_of_address, local=e.local,
                                   status=int(pk.BaStatus.DAD_FAILED), seq=e.seq, lifetime_s=0)

    def _bce_ignore_during_dad(self, e: BindingCacheEntry | None, p: pk.Parsed, now: int) -> list[Action]:
        return [Dropped(reason="bu_during_dad", detail=f"seq {p.seq}")]

    def _bce_update(self, e: BindingCacheEntry | None, p: pk.Parsed, now: int) -> list[Action]:
        assert e is not None
        status, lifetime = self._grant(p.lifetime_s)
        e.care_of_address, e.local, e.flags, e.seq = p.src, p.dst, pk.BuFlags(p.flags), p.seq
        e.requested_lifetime_s = p.lifetime_s
        e.lifetime_s = lifetime
        e.expires_ns = now + lifetime * NS_PER_S
        out = self._registered(e, lifetime)
        out += self._send_ba(hoa=e.home_address, coa=e.care_of_address, local=e.local, status=status, seq=e.seq,
                             lifetime_s=lifetime)
        if lifetime == 0:
            out += self._remove(e, "expired")
        return out

    def _bce_out_of_window(self, e: BindingCacheEntry | None, p: pk.Parsed, now: int) -> list[Action]:
        assert e is not None
        # §9.5.1: status 135 and the last accepted sequence number, so the MN can resynchronise.
        return self._send_ba(hoa=p.hoa or p.src, coa=p.src, local=p.dst, status=int(pk.BaStatus.SEQ_OUT_OF_WINDOW),
                             seq=e.seq, lifetime_s=0)

    def _bce_dereg(self, e: BindingCacheEntry | None, p: pk.Parsed, now: int) -> list[Action]:
        assert e is not None
        e.seq = p.seq
        out = self._remove(e, "dereg")
        # §10.3.2: BA to the source of the BU: the home address itself when the MN is back home.
        return out + self._send_ba(hoa=e.home_address, coa=p.src, local=p.dst, status=int(pk.BaStatus.ACCEPTED),
                                   seq=p.seq, lifetime_s=0)

    def _bce_dereg_unknown(self, e: BindingCacheEntry | None, p: pk.Parsed, now: int) -> list[Action]:
        # §10.3.2: no home registration for this MN -> 133.
        return self._send_ba(hoa=p.hoa or p.src, coa=p.src, local=p.dst, status=int(pk.BaStatus.NOT_HOME_AGENT),
                             seq=p.seq, lifetime_s=0)


HomeAgent.BCE_TABLE = {
    (None, "bu"): HomeAgent._bce_first,
    (None, "dereg"): HomeAgent._bce_dereg_unknown,
    (BindingState.DAD, "bu"): HomeAgent._bce_ignore_during_dad,
    (BindingState.DAD, "dad_done"): HomeAgent._bce_dad_done,
    (BindingState.DAD, "dad_failed"): HomeAgent._bce_dad_failed,
    (BindingState.REGISTERED, "bu"): HomeAgent._bce_update,
    (BindingState.REGISTERED, "bu_old"): HomeAgent._bce_out_of_window,
    (BindingState.REGISTERED, "dereg"): HomeAgent._bce_dereg,
}

HomeAgent.TABLE = {
    **Router.TABLE,  # type: ignore[dict-item]
    (ADVERTISING, Timer): HomeAgent._on_timer_ha,
    (ADVERTISING, LinkUp): Router._on_link,
    (ADVERTISING, LinkDown): Router._on_link,
    (ADVERTISING, pk.Kind.BU): HomeAgent._on_bu,
    (ADVERTISING, pk.Kind.TUNNEL): HomeAgent._on_tunnel,
    (ADVERTISING, pk.Kind.NS): HomeAgent._on_ns,
    (ADVERTISING, pk.Kind.NA): HomeAgent._on_na,
    (ADVERTISING, pk.Kind.ECHO_REQUEST): HomeAgent._on_other,
}

