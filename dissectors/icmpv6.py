"""ICMPv6: the common header, echo, error messages with the invoking packet dissected (RFC 4443).

RFC 4443 §2.1 (header), §2.3 (checksum with the IPv6 pseudo-header, RFC 8200 §8.1), §3 (errors:
Destination Unreachable, Packet Too Big, Time Exceeded, Parameter Problem), §4 (echo). Neighbor
Discovery and the Mobile IPv6 / FMIPv6 messages are in `nd.py` (RFC 4861, RFC 6275 §6.5-§6.8,
RFC 5568 §6.1).

A Parameter Problem whose pointer designates a Home Address option (code 2) or the Next Header field
announcing a Mobility Header (code 1) is what a node without Mobile IPv6 support sends back
(RFC 6275 §9.3.1, §11.3.6); `ParameterProblem.pointer_target` names what the pointer designates so
that failure is visible without re-dissecting.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from struct import unpack_from
from typing import TYPE_CHECKING, TypedDict

from dissectors._wire import Ctx, checksum_ok, pseudo6
from dissectors.codes import IcmpV6Type, code_name, enum_or_int
from dissectors.weirds import Truncated, Weird

if TYPE_CHECKING:
    from dissectors.ipv6 import IPv6

LAYER = "icmpv6"
MAX_ERROR_NESTING = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class ICMPv6:
    """The ICMPv6 header (RFC 4443 §2.1). Used on its own when a message is too short for its type."""

    icmp_type: int
    code: int
    checksum: int
    checksum_ok: bool | None
    offset: int = -1

    @property
    def type_name(self) -> str:
        return code_name(enum_or_int(IcmpV6Type, self.icmp_type))


@dataclass(frozen=True, slots=True, kw_only=True)
class EchoRequest(ICMPv6):
    identifier: int
    sequence: int
    data_length: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class EchoReply(ICMPv6):
    identifier: int
    sequence: int
    data_length: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ICMPv6Error(ICMPv6):
    """An error message (types 1-4). `invoking` is the dissected start of the packet that caused
    it; weirds found inside it are kept apart in `invoking_weirds` (they concern another packet,
    which is usually cut short to fit the minimum MTU, RFC 4443 §2.4 (c))."""

    invoking: IPv6 | None
    invoking_weirds: tuple[Weird, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DestinationUnreachable(ICMPv6Error):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PacketTooBig(ICMPv6Error):
    mtu: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeExceeded(ICMPv6Error):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterProblem(ICMPv6Error):
    """RFC 4443 §3.4. `pointer` is the octet offset in the invoking packet; `pointer_target` says
    what is there: `home_address_option`, `mobility_header` (the Next Header field announcing it, or
    a byte inside it), `routing_header_type_2`, `ipv6_header`, `hop_by_hop`, `destination_options`,
    `routing_header`, `fragment_header`, `upper_layer`, or `beyond_capture`."""

    pointer: int = 0
    pointer_target: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownICMPv6(ICMPv6):
    """An ICMPv6 type we do not decode (MLD, router renumbering, ...), body kept raw."""

    data: bytes


class IcmpCommon(TypedDict):
    """The ICMPv6 header fields every ICMPv6 subclass receives."""

    icmp_type: int
    code: int
    checksum: int
    checksum_ok: bool | None
    offset: int


def _pointer_target(inv: IPv6 | None, pointer: int, end: int) -> str:
    from dissectors.ipv6 import DestinationOptions, Fragment, HomeAddressOption, HopByHop, Routing

    pos = -1 if inv is None else inv.offset + pointer
    if inv is None or pos >= end:
        return "beyond_capture"
    if pos < inv.offset + 40:
        if pos == inv.offset + 6 and inv.next_header == 135:
            return "mobility_header"
        return "ipv6_header"
    for ext in inv.extensions:
        start = ext.header_offset if isinstance(ext, Fragment) else ext.offset
        length = ext.length
        if start <= pos < start + length:
            if pos == start and getattr(ext, "next_header", None) == 135:
                return "mobility_header"
            if isinstance(ext, (HopByHop, DestinationOptions)):
                for opt in ext.options:
                    if isinstance(opt, HomeAddressOption) and opt.offset <= pos < opt.offset + 18:
                        return "home_address_option"
                if isinstance(ext, DestinationOptions):
                    return "destination_options"
                return "hop_by_hop"
            if isinstance(ext, Routing):
                return "routing_header_type_2" if ext.routing_type == 2 else "routing_header"
            if isinstance(ext, Fragment):
                return "fragment_header"
            return "authentication_header" if ext.__class__.__name__ == "AuthenticationHeader" else "esp"
    payload = inv.payload
    p_off = getattr(payload, "offset", -1)
    if payload is not None and p_off >= 0 and pos >= p_off:
        if inv.protocol == 135:
            return "mobility_header"
        return "upper_layer"
    return "beyond_capture"


def _invoking(data: bytes, p: int, end: int, ctx: Ctx) -> tuple[IPv6 | None, tuple[Weird, ...]]:
    from dissectors.ipv6 import IPv6, dissect_ip

    if p >= end:
        return None, ()
    if ctx.depth >= MAX_ERROR_NESTING:
        ctx.weird("icmpv6_error_too_deep", "nested error messages", LAYER, p)
        return None, ()
    sub = Ctx(depth=ctx.depth + 1)
    buf = data[:end] if end < len(data) else data
    inv = dissect_ip(buf, p, sub)
    return (inv if isinstance(inv, IPv6) else None), tuple(sub.weirds)


def dissect_icmpv6(
    data: bytes,
    off: int,
    end: int,
    complete: bool,
    src: IPv6Address | IPv4Address,
    dst: IPv6Address | IPv4Address,
    ctx: Ctx,
) -> ICMPv6:
    """Dissect the ICMPv6 message at `off` (captured up to `end`)."""
    if off + 4 > end:
        raise Truncated(LAYER, off, 4, end - off)
    t, code, csum = unpack_from("!BBH", data, off)
    ok: bool | None = None
    if complete and isinstance(src, IPv6Address) and isinstance(dst, IPv6Address):
        ok = checksum_ok(pseudo6(src, dst, end - off, 58), data, off, end)
        if not ok:
            ctx.weird("icmpv6_bad_checksum", f"checksum 0x{csum:04x}", LAYER, off)
    base: IcmpCommon = {"icmp_type": t, "code": code, "checksum": csum, "checksum_ok": ok, "offset": off}
    q = off + 4
    if 128 <= t <= 129:
        if q + 4 > end:
            ctx.weird("icmpv6_truncated", "echo without identifier and sequence", LAYER, q)
            return ICMPv6(**base)
        ident, seq = unpack_from("!HH", data, q)
        cls = EchoRequest if t == 128 else EchoReply
        return cls(identifier=ident, sequence=seq, data_length=end - q - 4, **base)
    if 1 <= t <= 4:
        if q + 4 > end:
            ctx.weird("icmpv6_truncated", "error message without its 32-bit field", LAYER, q)
            return ICMPv6(**base)
        word = int.from_bytes(data[q : q + 4], "big")
        inv, inv_weirds = _invoking(data, q + 4, end, ctx)
        if t == 1:
            return DestinationUnreachable(invoking=inv, invoking_weirds=inv_weirds, **base)
        if t == 2:
            return PacketTooBig(mtu=word, invoking=inv, invoking_weirds=inv_weirds, **base)
        if t == 3:
            return TimeExceeded(invoking=inv, invoking_weirds=inv_weirds, **base)
        return ParameterProblem(
            pointer=word, pointer_target=_pointer_target(inv, word, end), invoking=inv, invoking_weirds=inv_weirds,
            **base
        )  # fmt: skip
    from dissectors import nd

    rec = nd.dissect_nd(t, data, q, end, base, ctx)
    if rec is not None:
        return rec
    return UnknownICMPv6(data=data[q:end], **base)
