"""Neighbor Discovery and the Mobile IPv6 / FMIPv6 ICMPv6 messages, with their options.

RFC 4861 §4.1-§4.6 (RS, RA, NS, NA, Redirect; SLLA, TLLA, Prefix Information, Redirected Header,
MTU), RFC 6275 §7.1-§7.4 (RA H flag, Prefix Information R flag, Advertisement Interval 7, Home
Agent Information 8), RFC 6275 §6.5-§6.8 (Home Agent Address Discovery 144/145, Mobile Prefix
Solicitation/Advertisement 146/147), RFC 5568 §6.1 (FMIPv6 RtSolPr/PrRtAdv, ICMPv6 type 154),
RFC 4191 (router preference, Route Information), RFC 4389 (RA P flag), RFC 8106 (RDNSS, DNSSL),
RFC 3963 §7 (HA Information "R" mobile-router support bit).

A DAD probe (RFC 4862 §5.4.2) is an NS from `::`; the IPv6 layer answers it (`IPv6.is_dad`).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv6Address
from struct import unpack_from
from typing import TYPE_CHECKING, TypeAlias

from dissectors._wire import Ctx, ip6, mac
from dissectors.codes import (
    Fmipv6Subtype,
    MpaFlags,
    NaFlags,
    NdOptionType,
    PrefixFlags,
    RaFlags,
    RaPreference,
    enum_or_int,
)
from dissectors.icmpv6 import IcmpCommon, ICMPv6

if TYPE_CHECKING:
    from dissectors.ipv6 import IPv4, IPv6

LAYER = "nd"

# --- options (RFC 4861 §4.6) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceLinkLayerAddress:
    mac: str
    option_type: int = 1
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetLinkLayerAddress:
    mac: str
    option_type: int = 2
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class PrefixInformation:
    """RFC 4861 §4.6.2; the R flag (RFC 6275 §7.2) says `prefix` is the router's full address."""

    prefix_length: int
    flags: PrefixFlags
    valid_lifetime_s: int
    preferred_lifetime_s: int
    prefix: IPv6Address
    option_type: int = 3
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class RedirectedHeader:
    """RFC 4861 §4.6.3: the start of the redirected packet, kept raw."""

    data: bytes
    option_type: int = 4
    offset: int = -1

    @property
    def packet(self) -> IPv6 | IPv4 | None:
        """The redirected packet's start, dissected (its weirds are dropped: it is usually cut)."""
        from dissectors.ipv6 import dissect_ip

        return dissect_ip(self.data, 0) if self.data else None


@dataclass(frozen=True, slots=True, kw_only=True)
class MTUOption:
    mtu: int
    option_type: int = 5
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class AdvertisementInterval:
    """RFC 6275 §7.3: the interval is in milliseconds."""

    interval_ms: int
    option_type: int = 7
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeAgentInformation:
    """RFC 6275 §7.4 (preference: 16-bit unsigned per RFC 6275, lifetime in seconds); the first
    reserved bit is the NEMO mobile-router support flag (RFC 3963 §7.1)."""

    preference: int
    lifetime_s: int
    mobile_router_support: bool = False
    option_type: int = 8
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteInformation:
    """RFC 4191 §2.3."""

    prefix_length: int
    preference: RaPreference | int
    lifetime_s: int
    prefix: IPv6Address
    option_type: int = 24
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class RDNSS:
    """RFC 8106 §5.1."""

    lifetime_s: int
    servers: tuple[IPv6Address, ...]
    option_type: int = 25
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class DNSSL:
    """RFC 8106 §5.2; domain names decoded from DNS wire format."""

    lifetime_s: int
    domains: tuple[str, ...]
    option_type: int = 31
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownNDOption:
    option_type: NdOptionType | int
    data: bytes
    offset: int = -1


NDOption: TypeAlias = (
    SourceLinkLayerAddress | TargetLinkLayerAddress | PrefixInformation | RedirectedHeader | MTUOption | AdvertisementInterval | HomeAgentInformation | RouteInformation | RDNSS | DNSSL | UnknownNDOption
)

# Minimum option Length (8-octet units) for the decoded types.
_MIN_UNITS = {3: 4, 5: 1, 7: 1, 8: 1, 24: 1, 25: 1, 31: 1}


def _domains(raw: bytes) -> tuple[str, ...]:
    out: list[str] = []
    labels: list[str] = []
    i = 0
    n = len(raw)
    while i < n:
        ln = raw[i]
        if ln == 0:
            if labels:
                out.append(".".join(labels))
                labels = []
            i += 1
            continue
        if ln > 63 or i + 1 + ln > n:
            break
        labels.append(raw[i + 1 : i + 1 + ln].decode("ascii", "replace"))
        i += 1 + ln
    if labels:
        out.append(".".join(labels))
    return tuple(out)


def _option(t: int, data: bytes, p: int, size: int) -> NDOption:
    q = p + 2
    stop = p + size
    if t == 1:
        return SourceLinkLayerAddress(mac=mac(data[q:stop]), offset=p)
    if t == 2:
        return TargetLinkLayerAddress(mac=mac(data[q:stop]), offset=p)
    if t == 3:
        plen, fl, valid, pref = unpack_from("!BBII", data, q)
        return PrefixInformation(
            prefix_length=plen,
            flags=PrefixFlags(fl & 0xE0),
            valid_lifetime_s=valid,
            preferred_lifetime_s=pref,
            prefix=ip6(data, q + 14),
            offset=p,
        )
    if t == 4:
        return RedirectedHeader(data=data[q + 6 : stop], offset=p)
    if t == 5:
        return MTUOption(mtu=int.from_bytes(data[q + 2 : q + 6], "big"), offset=p)
    if t == 7:
        return AdvertisementInterval(interval_ms=int.from_bytes(data[q + 2 : q + 6], "big"), offset=p)
    if t == 8:
        res, pref, life = unpack_from("!HHH", data, q)
        return HomeAgentInformation(
            preference=pref, lifetime_s=life, mobile_router_support=bool(res & 0x8000), offset=p
        )
    if t == 24:
        plen, fl, life = unpack_from("!BBI", data, q)
        pfx = data[q + 6 : stop][:16]
        return RouteInformation(
            prefix_length=plen,
            preference=enum_or_int(RaPreference, (fl >> 3) & 3),
            lifetime_s=life,
            prefix=IPv6Address(pfx.ljust(16, b"\x00")),
            offset=p,
        )
    if t == 25:
        life = int.from_bytes(data[q + 2 : q + 6], "big")
        n = (size - 8) // 16
        return RDNSS(lifetime_s=life, servers=tuple(ip6(data, q + 6 + 16 * k) for k in range(n)), offset=p)
    if t == 31:
        life = int.from_bytes(data[q + 2 : q + 6], "big")
        return DNSSL(lifetime_s=life, domains=_domains(data[q + 6 : stop]), offset=p)
    return UnknownNDOption(option_type=enum_or_int(NdOptionType, t), data=data[q:stop], offset=p)


def dissect_options(data: bytes, p: int, end: int, ctx: Ctx) -> tuple[NDOption, ...]:
    """ND options from `p` to `end` (RFC 4861 §4.6: TLV, length in 8-octet units)."""
    opts: list[NDOption] = []
    while p < end:
        if p + 2 > end:
            ctx.weird("nd_option_overrun", "option header crosses the end of the message", LAYER, p)
            break
        t, units = data[p], data[p + 1]
        if units == 0:
            # RFC 4861 §4.6: a zero length option makes the whole message invalid.
            ctx.weird("nd_option_zero_length", f"option {t} with length 0", LAYER, p)
            opts.append(UnknownNDOption(option_type=enum_or_int(NdOptionType, t), data=b"", offset=p))
            break
        size = units * 8
        if p + size > end:
            ctx.weird("nd_option_overrun", f"option {t} ({size} octets) crosses the end of the message", LAYER, p)
            break
        if units < _MIN_UNITS.get(t, 1):
            ctx.weird("nd_option_bad_length", f"option {t} length {units} too short", LAYER, p)
            opts.append(UnknownNDOption(option_type=enum_or_int(NdOptionType, t), data=data[p + 2 : p + size], offset=p))
        else:
            opts.append(_option(t, data, p, size))
        p += size
    return tuple(opts)


# --- messages --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterSolicitation(ICMPv6):
    options: tuple[NDOption, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterAdvertisement(ICMPv6):
    """RFC 4861 §4.2 with the H flag (RFC 6275 §7.1), Prf (RFC 4191) and P (RFC 4389)."""

    cur_hop_limit: int
    flags: RaFlags
    router_lifetime_s: int
    reachable_time_ms: int
    retrans_timer_ms: int
    options: tuple[NDOption, ...] = ()

    @property
    def preference(self) -> RaPreference | int:
        """Default Router Preference (RFC 4191 §2.2): 1 high, 0 medium, 3 low, 2 reserved."""
        return enum_or_int(RaPreference, (int(self.flags) >> 3) & 3)


@dataclass(frozen=True, slots=True, kw_only=True)
class NeighborSolicitation(ICMPv6):
    target: IPv6Address
    options: tuple[NDOption, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NeighborAdvertisement(ICMPv6):
    flags: NaFlags
    target: IPv6Address
    options: tuple[NDOption, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Redirect(ICMPv6):
    target: IPv6Address
    destination: IPv6Address
    options: tuple[NDOption, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeAgentDiscoveryRequest(ICMPv6):
    """RFC 6275 §6.5."""

    identifier: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeAgentDiscoveryReply(ICMPv6):
    """RFC 6275 §6.6."""

    identifier: int
    addresses: tuple[IPv6Address, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MobilePrefixSolicitation(ICMPv6):
    """RFC 6275 §6.7."""

    identifier: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MobilePrefixAdvertisement(ICMPv6):
    """RFC 6275 §6.8."""

    identifier: int
    flags: MpaFlags
    options: tuple[NDOption, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Fmipv6Message(ICMPv6):
    """FMIPv6 ICMPv6 message (type 154, RFC 5568 §6.1) with an unknown subtype."""

    subtype: Fmipv6Subtype | int
    identifier: int
    options: tuple[NDOption, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RtSolPr(Fmipv6Message):
    """Router Solicitation for Proxy Advertisement (RFC 5568 §6.1.1, subtype 2)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PrRtAdv(Fmipv6Message):
    """Proxy Router Advertisement (RFC 5568 §6.1.2, subtype 3); its Code says which case."""


# Octets of fixed fields after the 4-octet ICMPv6 header.
_FIXED = {133: 4, 134: 12, 135: 20, 136: 20, 137: 36, 144: 4, 145: 4, 146: 4, 147: 4, 154: 4}


def dissect_nd(t: int, data: bytes, q: int, end: int, base: IcmpCommon, ctx: Ctx) -> ICMPv6 | None:
    """Dissect the body (at `q`) of ICMPv6 type `t` if it is an ND / MIPv6 / FMIPv6 message;
    None for other types. `base` holds the common ICMPv6 fields."""
    fixed = _FIXED.get(t)
    if fixed is None:
        return None
    if q + fixed > end:
        ctx.weird("icmpv6_truncated", f"type {t} needs {fixed} octets after the header", "icmpv6", q)
        return ICMPv6(**base)
    if t == 134:
        chl, fl, rl, reach, retrans = unpack_from("!BBHII", data, q)
        return RouterAdvertisement(
            cur_hop_limit=chl,
            flags=RaFlags(fl & 0xFC),
            router_lifetime_s=rl,
            reachable_time_ms=reach,
            retrans_timer_ms=retrans,
            options=dissect_options(data, q + 12, end, ctx),
            **base,
        )
    if t == 133:
        return RouterSolicitation(options=dissect_options(data, q + 4, end, ctx), **base)
    if t == 135:
        return NeighborSolicitation(target=ip6(data, q + 4), options=dissect_options(data, q + 20, end, ctx), **base)
    if t == 136:
        return NeighborAdvertisement(
            flags=NaFlags(data[q] & 0xE0),
            target=ip6(data, q + 4),
            options=dissect_options(data, q + 20, end, ctx),
            **base,
        )
    if t == 137:
        return Redirect(
            target=ip6(data, q + 4),
            destination=ip6(data, q + 20),
            options=dissect_options(data, q + 36, end, ctx),
            **base,
        )
    ident, word = unpack_from("!HH", data, q)
    if t == 144:
        return HomeAgentDiscoveryRequest(identifier=ident, **base)
    if t == 145:
        n = (end - q - 4) // 16
        return HomeAgentDiscoveryReply(
            identifier=ident, addresses=tuple(ip6(data, q + 4 + 16 * k) for k in range(n)), **base
        )
    if t == 146:
        return MobilePrefixSolicitation(identifier=ident, **base)
    if t == 147:
        return MobilePrefixAdvertisement(
            identifier=ident, flags=MpaFlags(word & 0xC000), options=dissect_options(data, q + 4, end, ctx), **base
        )
    # 154: Subtype (8), Reserved (8), Identifier (16) - RFC 5568 §6.1.1.
    sub, _r, ident = unpack_from("!BBH", data, q)
    opts = dissect_options(data, q + 4, end, ctx)
    st = enum_or_int(Fmipv6Subtype, sub)
    if sub == 2:
        return RtSolPr(subtype=st, identifier=ident, options=opts, **base)
    if sub == 3:
        return PrRtAdv(subtype=st, identifier=ident, options=opts, **base)
    return Fmipv6Message(subtype=st, identifier=ident, options=opts, **base)
