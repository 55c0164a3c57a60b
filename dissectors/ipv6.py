"""IPv6 and its extension-header chain, IPv4 for tunnels (RFC 8200, RFC 6275 §6.3-§6.4, RFC 791).

Implements: the fixed header and payload length (RFC 8200 §3); Hop-by-Hop and Destination Options
with Pad1/PadN and the Home Address option 201 (RFC 8200 §4.2-§4.6, RFC 6275 §6.3); Routing headers,
type 2 checked as RFC 6275 §6.4 requires (Hdr Ext Len 2, Segments Left 1), type 0 kept (RFC 5095
deprecates it); Fragment (RFC 8200 §4.5: only the first fragment carries the upper-layer header);
AH skipped by its length (RFC 4302 §2.2, length in 4-octet units minus 2); ESP opaque after SPI and
sequence (RFC 4303); No Next Header 59; IPv6-in-IPv6 / IPv4-in-IPv6 tunnels (RFC 2473) through
`tunnel.py`; IPv4 (RFC 791) enough for DSMIPv6 and 4in6 inner packets.

The upper-layer checksum pseudo-header uses `effective_src` / `effective_dst`: the home address of a
Home Address option (RFC 6275 §6.3) and the final destination of a routing header (RFC 8200 §8.1,
RFC 6275 §6.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from struct import unpack_from
from typing import TYPE_CHECKING, TypeAlias

from dissectors._wire import Ctx, checksum_ok, ip4, ip6, need
from dissectors.weirds import Truncated

if TYPE_CHECKING:
    from dissectors.icmpv6 import ICMPv6
    from dissectors.mobility import MobilityHeader
    from dissectors.udp import TCP, UDP

LAYER = "ipv6"


# --- options of Hop-by-Hop / Destination Options (RFC 8200 §4.2) ----------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Pad1:
    """One octet of padding (RFC 8200 §4.2)."""

    option_type: int = 0
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class PadN:
    """Padding; `length` is the number of padding octets after the type/length pair (Opt Data Len)."""

    length: int
    option_type: int = 1
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeAddressOption:
    """Home Address destination option 201 (RFC 6275 §6.3)."""

    home_address: IPv6Address
    option_type: int = 201
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownOption:
    """Any other option, kept raw (the top two bits of its type say what a node must do)."""

    option_type: int
    data: bytes
    offset: int = -1


IPv6Option: TypeAlias = (
    Pad1 | PadN | HomeAddressOption | UnknownOption
)


# --- extension headers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class HopByHop:
    options: tuple[IPv6Option, ...]
    next_header: int = 0
    offset: int = -1
    length: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DestinationOptions:
    options: tuple[IPv6Option, ...]
    next_header: int = 0
    offset: int = -1
    length: int = 0

    @property
    def home_address(self) -> IPv6Address | None:
        for opt in self.options:
            if isinstance(opt, HomeAddressOption):
                return opt.home_address
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Routing:
    """Routing header. `addresses` holds the type 0 list or the type 2 home address; other types
    keep their type-specific data raw in `data`."""

    routing_type: int
    segments_left: int
    addresses: tuple[IPv6Address, ...]
    data: bytes = b""
    next_header: int = 0
    offset: int = -1
    length: int = 0

    @property
    def home_address(self) -> IPv6Address | None:
        """The home address of a type 2 routing header (RFC 6275 §6.4), else None."""
        return self.addresses[0] if self.routing_type == 2 and self.addresses else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fragment:
    """Fragment header (RFC 8200 §4.5). `offset` is the fragment offset in octets (wire value × 8)."""

    offset: int
    more: bool
    identification: int
    next_header: int = 0
    header_offset: int = -1
    length: int = 8

    @property
    def is_first(self) -> bool:
        return self.offset == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticationHeader:
    """AH (RFC 4302 §2): skipped by its length; the ICV is not checked."""

    spi: int
    sequence: int
    next_header: int = 0
    offset: int = -1
    length: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ESP:
    """ESP (RFC 4303 §2): everything after SPI and sequence number is opaque."""

    spi: int
    sequence: int
    offset: int = -1
    length: int = 8


ExtensionHeader: TypeAlias = (
    HopByHop | DestinationOptions | Routing | Fragment | AuthenticationHeader | ESP
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Raw:
    """An upper layer we do not dissect (or cannot: a later fragment, ESP). `length` is captured bytes."""

    protocol: int
    length: int
    offset: int = -1


Upper: TypeAlias = "MobilityHeader | ICMPv6 | UDP | TCP | IPv6 | IPv4 | Raw | None"


@dataclass(frozen=True, slots=True, kw_only=True)
class IPv6:
    """An IPv6 header with its extension chain and dissected payload (RFC 8200 §3)."""

    src: IPv6Address
    dst: IPv6Address
    traffic_class: int
    flow_label: int
    payload_length: int
    hop_limit: int
    next_header: int
    extensions: tuple[ExtensionHeader, ...]
    home_address: IPv6Address | None
    routing_home_address: IPv6Address | None
    fragment: Fragment | None
    protocol: int
    payload: Upper
    offset: int
    final_destination: IPv6Address | None = None

    version = 6

    @property
    def effective_src(self) -> IPv6Address:
        """The source the transport checksum uses: the HAO home address if present (RFC 6275 §6.3)."""
        return self.home_address if self.home_address is not None else self.src

    @property
    def effective_dst(self) -> IPv6Address:
        """The final destination (RFC 8200 §8.1): the RH2 home address while Segments Left > 0."""
        return self.final_destination if self.final_destination is not None else self.dst

    @property
    def is_dad(self) -> bool:
        """A Duplicate Address Detection probe: an NS from the unspecified address (RFC 4862 §5.4.2)."""
        return self.src.packed == bytes(16) and getattr(self.payload, "icmp_type", None) == 135


@dataclass(frozen=True, slots=True, kw_only=True)
class IPv4:
    """IPv4 header (RFC 791) with its payload; enough for 4in6 and DSMIPv6 inner packets."""

    src: IPv4Address
    dst: IPv4Address
    ttl: int
    protocol: int
    total_length: int
    payload: Upper
    offset: int
    header_length: int = 20
    identification: int = 0
    fragment_offset: int = 0
    more_fragments: bool = False
    header_checksum_ok: bool | None = None

    version = 4


# --- parsing -------------------------------------------------------------------------------------------

_EXT_HEADERS = frozenset((0, 43, 44, 51, 60))


def _options(data: bytes, p: int, stop: int, ctx: Ctx, in_dst: bool) -> tuple[IPv6Option, ...]:
    opts: list[IPv6Option] = []
    i = p
    while i < stop:
        t = data[i]
        if t == 0:
            opts.append(Pad1(offset=i))
            i += 1
            continue
        if i + 2 > stop:
            ctx.weird("ipv6_option_overrun", f"option {t} header crosses the end of its header", LAYER, i)
            break
        ln = data[i + 1]
        if i + 2 + ln > stop:
            ctx.weird("ipv6_option_overrun", f"option {t} length {ln} crosses the end of its header", LAYER, i)
            break
        if t == 1:
            opts.append(PadN(length=ln, offset=i))
        elif t == 201:
            # RFC 6275 §6.3: Option Length 16; only valid in a Destination Options header.
            if ln != 16:
                ctx.weird("hao_bad_length", f"option length {ln}, expected 16", LAYER, i)
                opts.append(UnknownOption(option_type=t, data=data[i + 2 : i + 2 + ln], offset=i))
            else:
                if not in_dst:
                    ctx.weird("hao_in_hop_by_hop", "Home Address option outside Destination Options", LAYER, i)
                opts.append(HomeAddressOption(home_address=ip6(data, i + 2), offset=i))
        else:
            opts.append(UnknownOption(option_type=t, data=data[i + 2 : i + 2 + ln], offset=i))
        i += 2 + ln
    return tuple(opts)


def dissect_ipv6(data: bytes, off: int, ctx: Ctx) -> IPv6 | None:
    """Dissect an IPv6 packet at frame offset `off`; weirds go to `ctx`. Returns None if even the
    fixed header is not there."""
    cap = len(data)
    if off + 40 > cap:
        ctx.weird("ipv6_truncated", f"wanted 40 bytes at offset {off}, {max(0, cap - off)} left", LAYER, off)
        return None
    w0, plen, nh, hlim = unpack_from("!IHBB", data, off)
    if w0 >> 28 != 6:
        ctx.weird("ipv6_bad_version", f"version {w0 >> 28}", LAYER, off)
    src = ip6(data, off + 8)
    dst = ip6(data, off + 24)
    declared_end = off + 40 + plen
    complete = True
    if plen == 0 and cap > off + 40:
        # Jumbogram (RFC 2675, behind a Hop-by-Hop header) or a capture taken before segmentation
        # offload filled the length in: trust the captured length, and say so unless it is a jumbo.
        declared_end = cap
        if nh != 0:
            ctx.weird("ipv6_zero_payload_length", "payload length 0, using the captured length", LAYER, off)
    if declared_end > cap:
        ctx.weird("ipv6_truncated", f"payload length {plen}, {cap - off - 40} bytes captured", LAYER, off)
        complete = False
    end = min(declared_end, cap)

    exts: list[ExtensionHeader] = []
    hao: IPv6Address | None = None
    rh2: IPv6Address | None = None
    final: IPv6Address | None = None
    frag: Fragment | None = None
    payload: Upper = None
    proto = nh
    p = off + 40
    try:
        while True:
            if proto in _EXT_HEADERS:
                if proto == 44:
                    need("ipv6_fragment", p, 8, end)
                    nxt, _r, w, ident = unpack_from("!BBHI", data, p)
                    frag = Fragment(
                        offset=(w >> 3) * 8, more=bool(w & 1), identification=ident, next_header=nxt, header_offset=p
                    )
                    exts.append(frag)
                    p += 8
                    proto = nxt
                    if frag.offset != 0:
                        # RFC 8200 §4.5: a later fragment carries no upper-layer header.
                        payload = Raw(protocol=proto, length=end - p, offset=p)
                        break
                    if frag.more:
                        complete = False
                    continue
                need(LAYER, p, 2, end)
                nxt = data[p]
                if proto == 51:
                    ln = (data[p + 1] + 2) * 4
                    need("ipv6_ah", p, max(ln, 12), end)
                    if ln < 12:
                        # RFC 4302 §2.2: at least SPI and sequence (Payload Len >= 1).
                        ctx.weird("ipv6_ah_bad_length", f"Payload Len {data[p + 1]}", LAYER, p)
                        ln = 12
                    spi, seq = unpack_from("!II", data, p + 4)
                    exts.append(AuthenticationHeader(spi=spi, sequence=seq, next_header=nxt, offset=p, length=ln))
                    p += ln
                    proto = nxt
                    continue
                ln = (data[p + 1] + 1) * 8
                if p + ln > end:
                    if proto in (0, 60):
                        # Keep the options that were captured (ICMPv6 errors cut invoking packets).
                        cut = (HopByHop if proto == 0 else DestinationOptions)(
                            options=_options(data, p + 2, end, ctx, proto == 60), next_header=nxt, offset=p, length=ln
                        )
                        exts.append(cut)
                        if isinstance(cut, DestinationOptions) and hao is None:
                            hao = cut.home_address
                    elif proto == 43 and p + 4 <= end:
                        # Keep type and Segments Left of a cut routing header (its address is lost).
                        exts.append(
                            Routing(routing_type=data[p + 2], segments_left=data[p + 3], addresses=(),
                                    data=b"", next_header=nxt, offset=p, length=ln)  # fmt: skip
                        )
                    raise Truncated(LAYER, p, ln, end - p)
                if proto == 0:
                    if exts:
                        ctx.weird("ipv6_hbh_not_first", "Hop-by-Hop header after another header", LAYER, p)
                    exts.append(
                        HopByHop(options=_options(data, p + 2, p + ln, ctx, False), next_header=nxt, offset=p, length=ln)
                    )
                elif proto == 60:
                    d = DestinationOptions(
                        options=_options(data, p + 2, p + ln, ctx, True), next_header=nxt, offset=p, length=ln
                    )
                    exts.append(d)
                    h = d.home_address
                    if h is not None:
                        if hao is not None:
                            ctx.weird("hao_duplicate", "more than one Home Address option", LAYER, p)
                        hao = h
                else:  # 43, routing
                    rtype, segleft = data[p + 2], data[p + 3]
                    addrs: tuple[IPv6Address, ...] = ()
                    rdata = b""
                    if rtype == 2:
                        # RFC 6275 §6.4: Hdr Ext Len = 2 and Segments Left = 1, else the packet is
                        # to be discarded by the receiver; we keep it and say why.
                        if data[p + 1] != 2:
                            ctx.weird("rh2_bad_length", f"Hdr Ext Len {data[p + 1]}, expected 2", LAYER, p)
                        if segleft != 1:
                            ctx.weird("rh2_bad_segments_left", f"Segments Left {segleft}, expected 1", LAYER, p)
                        if ln >= 24:
                            addrs = (ip6(data, p + 8),)
                            if rh2 is not None:
                                ctx.weird("rh2_duplicate", "more than one type 2 routing header", LAYER, p)
                            rh2 = addrs[0]
                    elif rtype == 0:
                        ctx.weird("rh0_deprecated", "type 0 routing header (RFC 5095)", LAYER, p)
                        n = (ln - 8) // 16
                        addrs = tuple(ip6(data, p + 8 + 16 * k) for k in range(n))
                    else:
                        rdata = data[p + 4 : p + ln]
                    if segleft and addrs:
                        final = addrs[-1]
                    exts.append(
                        Routing(
                            routing_type=rtype,
                            segments_left=segleft,
                            addresses=addrs,
                            data=rdata,
                            next_header=nxt,
                            offset=p,
                            length=ln,
                        )
                    )
                p += ln
                proto = nxt
                continue
            if proto == 50:
                need("ipv6_esp", p, 8, end)
                spi, seq = unpack_from("!II", data, p)
                exts.append(ESP(spi=spi, sequence=seq, offset=p))
                payload = Raw(protocol=50, length=end - p, offset=p)
                break
            if proto == 59:
                # RFC 8200 §4.7: nothing follows; trailing bytes are ignored.
                break
            # Upper layer: the effective addresses enter the pseudo-header.
            psrc = hao if hao is not None else src
            pdst = final if final is not None else dst
            payload = dissect_upper(proto, data, p, end, complete, psrc, pdst, ctx)
            if proto == 58 and 133 <= getattr(payload, "icmp_type", 0) <= 137:
                # RFC 4861 §6.1, §7.1.1, §8.1: ND messages with a hop limit other than 255 were
                # forwarded (or forged off-link) and must be discarded by receivers.
                if hlim != 255:
                    ctx.weird("nd_bad_hop_limit", f"hop limit {hlim}, expected 255", "nd", off)
                # RFC 4861 §6.1.2: an RA's source must be link-local.
                if getattr(payload, "icmp_type", 0) == 134 and not src.is_link_local:
                    ctx.weird("ra_source_not_link_local", f"RA from {src}", "nd", off)
            break
    except Truncated as exc:
        ctx.weirds.append(exc.as_weird())

    return IPv6(
        src=src,
        dst=dst,
        traffic_class=(w0 >> 20) & 0xFF,
        flow_label=w0 & 0xFFFFF,
        payload_length=plen,
        hop_limit=hlim,
        next_header=nh,
        extensions=tuple(exts),
        home_address=hao,
        routing_home_address=rh2,
        fragment=frag,
        protocol=proto,
        payload=payload,
        offset=off,
        final_destination=final,
    )


def dissect_ipv4(data: bytes, off: int, ctx: Ctx) -> IPv4 | None:
    """Dissect an IPv4 packet at `off` (RFC 791 §3.1)."""
    cap = len(data)
    if off + 20 > cap:
        ctx.weird("ipv4_truncated", f"wanted 20 bytes at offset {off}, {max(0, cap - off)} left", "ipv4", off)
        return None
    vihl, _tos, tlen, ident, ff, ttl, proto = unpack_from("!BBHHHBB", data, off)
    ihl = (vihl & 0x0F) * 4
    if ihl < 20:
        ctx.weird("ipv4_bad_header_length", f"IHL {ihl // 4}", "ipv4", off)
        ihl = 20
    src = ip4(data, off + 12)
    dst = ip4(data, off + 16)
    hdr_ok: bool | None = None
    if off + ihl <= cap:
        hdr_ok = checksum_ok(b"", data, off, off + ihl)
        if not hdr_ok:
            ctx.weird("ipv4_bad_checksum", "header checksum", "ipv4", off)
    declared_end = off + tlen
    complete = True
    if tlen < ihl:
        ctx.weird("ipv4_bad_total_length", f"total length {tlen}", "ipv4", off)
        declared_end = cap
    if declared_end > cap:
        ctx.weird("ipv4_truncated", f"total length {tlen}, {cap - off} bytes captured", "ipv4", off)
        complete = False
    end = min(declared_end, cap)
    frag_off = (ff & 0x1FFF) * 8
    more = bool(ff & 0x2000)
    payload: Upper = None
    p = off + ihl
    if p > end:
        ctx.weird("ipv4_truncated", "options cross the end of the packet", "ipv4", off)
    elif frag_off:
        payload = Raw(protocol=proto, length=end - p, offset=p)
    else:
        payload = dissect_upper(proto, data, p, end, complete and not more, src, dst, ctx)
    return IPv4(
        src=src,
        dst=dst,
        ttl=ttl,
        protocol=proto,
        total_length=tlen,
        payload=payload,
        offset=off,
        header_length=ihl,
        identification=ident,
        fragment_offset=frag_off,
        more_fragments=more,
        header_checksum_ok=hdr_ok,
    )


def dissect_upper(
    proto: int,
    data: bytes,
    p: int,
    end: int,
    complete: bool,
    src: IPv6Address | IPv4Address,
    dst: IPv6Address | IPv4Address,
    ctx: Ctx,
) -> Upper:
    """Dispatch on the upper-layer protocol number. `complete` says whether the whole upper-layer
    message was captured (checksums are only computed then)."""
    try:
        if proto == 135:
            return mobility.dissect_mobility(data, p, end, complete, src, dst, ctx)
        if proto == 58:
            return icmpv6.dissect_icmpv6(data, p, end, complete, src, dst, ctx)
        if proto == 17:
            return udp.dissect_udp(data, p, end, complete, src, dst, ctx)
        if proto == 6:
            return udp.dissect_tcp(data, p, end, complete, src, dst, ctx)
        if proto == 41 or proto == 4:
            return tunnel.dissect_inner(proto, data, p, end, ctx)
    except Truncated as exc:
        ctx.weirds.append(exc.as_weird())
        return None
    return Raw(protocol=proto, length=end - p, offset=p)


def dissect_ip(data: bytes, offset: int = 0, ctx: Ctx | None = None) -> IPv6 | IPv4 | None:
    """Dissect the IP packet starting at `offset` of `data`, choosing IPv6 or IPv4 by the version
    nibble. Weirds go to `ctx` (a fresh one when omitted, then discarded)."""
    if ctx is None:
        ctx = Ctx()
    if offset >= len(data) or offset < 0:
        ctx.weird("ip_truncated", "no IP header", "ip", offset)
        return None
    v = data[offset] >> 4
    if v == 6:
        return dissect_ipv6(data, offset, ctx)
    if v == 4:
        return dissect_ipv4(data, offset, ctx)
    ctx.weird("ip_bad_version", f"version {v}", "ip", offset)
    return None


# Imported last: these modules build on ipv6.py (ICMPv6 errors contain IPv6 packets, tunnels nest).
from dissectors import icmpv6, mobility, tunnel, udp  # noqa: E402
