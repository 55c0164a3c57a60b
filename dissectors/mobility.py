"""Mobility Header (IPv6 next header 135): every MH type 0..18 and the mobility options.

RFC 6275 §6.1 (header, BRR, HoTI, CoTI, HoT, CoT, BU, BA, BE), §6.2 (options), §9.2 (receiver
checks: payload proto must be 59, Header Len at least the type's minimum, checksum over the
pseudo-header with the home address); RFC 5568 §6.2-§6.4 (FBU, FBack, FNA, HI, HAck, LLA option);
RFC 5142 (HAS); RFC 5847 (Heartbeat, Restart Counter); RFC 5846 (Binding Revocation); RFC 6705
(LRI/LRA); RFC 5096 (Experimental); RFC 3963 (NEMO prefix); RFC 4283 (MN-ID); RFC 5213 §8
(PMIPv6 options); RFC 5555 §3.1 (DSMIPv6 IPv4 options); RFC 5845 (GRE key).

Lifetimes of BU/BA/FBU/FBack and the Binding Refresh Advice interval are 4-second units on the wire
(RFC 6275 §6.1.7, §6.1.8, §6.2.4) and are converted to seconds here.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from struct import unpack_from
from typing import TypeAlias, TypedDict

from dissectors._wire import Ctx, checksum_ok, ip4, ip6, mac, pseudo
from dissectors.codes import (
    AccessTechnologyType,
    BaFlags,
    BaStatus,
    BeStatus,
    BuFlags,
    HandoffIndicator,
    MhType,
    MobilityOptionType,
    code_name,
    enum_or_int,
)
from dissectors.weirds import Truncated

LAYER = "mh"

# --- mobility options (RFC 6275 §6.2) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Pad1:
    option_type: int = 0
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class PadN:
    """`length` is the option's Length field (padding octets after type and length)."""

    length: int
    option_type: int = 1
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingRefreshAdvice:
    """RFC 6275 §6.2.4; the interval is 4-second units on the wire."""

    interval_s: int
    option_type: int = 2
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class AlternateCareofAddress:
    address: IPv6Address
    option_type: int = 3
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class NonceIndices:
    home: int
    careof: int
    option_type: int = 4
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingAuthorizationData:
    """The authenticator (RFC 6275 §6.2.7), kept opaque."""

    data: bytes
    option_type: int = 5
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class MobileNetworkPrefix:
    """NEMO (RFC 3963 §4.3)."""

    prefix_length: int
    prefix: IPv6Address
    option_type: int = 6
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkLayerAddress:
    """Mobility Header Link-Layer Address option (RFC 5568 §6.4.3)."""

    option_code: int
    link_layer_address: str
    option_type: int = 7
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class MnIdentifier:
    """MN Identifier (RFC 4283 §3); subtype 1 is an NAI."""

    subtype: int
    identifier: bytes
    option_type: int = 8
    offset: int = -1

    @property
    def text(self) -> str:
        return self.identifier.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeNetworkPrefix:
    """PMIPv6 (RFC 5213 §8.3)."""

    prefix_length: int
    prefix: IPv6Address
    option_type: int = 22
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoffIndicatorOption:
    """RFC 5213 §8.4."""

    indicator: HandoffIndicator | int
    option_type: int = 23
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessTechnologyTypeOption:
    """RFC 5213 §8.5."""

    access_technology_type: AccessTechnologyType | int
    option_type: int = 24
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class MnLinkLayerIdentifier:
    """RFC 5213 §8.6."""

    identifier: bytes
    option_type: int = 25
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkLocalAddress:
    """RFC 5213 §8.7."""

    address: IPv6Address
    option_type: int = 26
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class Timestamp:
    """RFC 5213 §8.8: 64-bit NTP format (seconds since 1900 in the top 32 bits)."""

    timestamp: int
    option_type: int = 27
    offset: int = -1

    @property
    def unix_ns(self) -> int:
        return ((self.timestamp >> 32) - 2208988800) * 1_000_000_000 + (
            (self.timestamp & 0xFFFFFFFF) * 1_000_000_000 >> 32
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RestartCounter:
    """RFC 5847 §5.2: Length 4, the 32-bit counter right after the Length field."""

    counter: int
    option_type: int = 28
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class IPv4HomeAddress:
    """DSMIPv6 IPv4 Home Address option (RFC 5555 §3.1.1)."""

    prefix_length: int
    p_flag: bool
    address: IPv4Address
    option_type: int = 29
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class IPv4AddressAcknowledgement:
    """RFC 5555 §3.2.1."""

    status: int
    prefix_length: int
    address: IPv4Address
    option_type: int = 30
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class IPv4CareofAddress:
    """DSMIPv6 IPv4 Care-of Address option (RFC 5555 §3.1.5)."""

    address: IPv4Address
    option_type: int = 32
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class GreKey:
    """RFC 5845 §3.1; the key is absent when the option is 2 octets long."""

    key: int | None
    option_type: int = 33
    offset: int = -1


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownMobilityOption:
    """A registered option we do not decode, or an unregistered one; `option_type` is named when
    the IANA registry knows it."""

    option_type: MobilityOptionType | int
    data: bytes
    offset: int = -1


MobilityOption: TypeAlias = (
    Pad1 | PadN | BindingRefreshAdvice | AlternateCareofAddress | NonceIndices | BindingAuthorizationData | MobileNetworkPrefix | LinkLayerAddress | MnIdentifier | HomeNetworkPrefix | HandoffIndicatorOption | AccessTechnologyTypeOption | MnLinkLayerIdentifier | LinkLocalAddress | Timestamp | RestartCounter | IPv4HomeAddress | IPv4AddressAcknowledgement | IPv4CareofAddress | GreKey | UnknownMobilityOption
)

# Minimum option data lengths (the Length field), from the option figures of the RFCs cited above.
_OPT_MIN = {2: 2, 3: 16, 4: 4, 6: 18, 7: 1, 8: 1, 22: 18, 23: 2, 24: 2, 25: 2, 26: 16, 27: 8, 28: 4, 29: 6,
            30: 6, 32: 6, 33: 2}  # fmt: skip


def _option(t: int, data: bytes, q: int, ln: int, at: int) -> MobilityOption:
    """Decode option type `t` whose data (`ln` octets, already checked against _OPT_MIN) is at `q`."""
    if t == 1:
        return PadN(length=ln, offset=at)
    if t == 2:
        return BindingRefreshAdvice(interval_s=int.from_bytes(data[q : q + 2], "big") * 4, offset=at)
    if t == 3:
        return AlternateCareofAddress(address=ip6(data, q), offset=at)
    if t == 4:
        h, c = unpack_from("!HH", data, q)
        return NonceIndices(home=h, careof=c, offset=at)
    if t == 5:
        return BindingAuthorizationData(data=data[q : q + ln], offset=at)
    if t == 6:
        return MobileNetworkPrefix(prefix_length=data[q + 1], prefix=ip6(data, q + 2), offset=at)
    if t == 7:
        return LinkLayerAddress(option_code=data[q], link_layer_address=mac(data[q + 1 : q + ln]), offset=at)
    if t == 8:
        return MnIdentifier(subtype=data[q], identifier=data[q + 1 : q + ln], offset=at)
    if t == 22:
        return HomeNetworkPrefix(prefix_length=data[q + 1], prefix=ip6(data, q + 2), offset=at)
    if t == 23:
        return HandoffIndicatorOption(indicator=enum_or_int(HandoffIndicator, data[q + 1]), offset=at)
    if t == 24:
        return AccessTechnologyTypeOption(
            access_technology_type=enum_or_int(AccessTechnologyType, data[q + 1]), offset=at
        )
    if t == 25:
        return MnLinkLayerIdentifier(identifier=data[q + 2 : q + ln], offset=at)
    if t == 26:
        return LinkLocalAddress(address=ip6(data, q), offset=at)
    if t == 27:
        return Timestamp(timestamp=int.from_bytes(data[q : q + 8], "big"), offset=at)
    if t == 28:
        return RestartCounter(counter=int.from_bytes(data[q : q + 4], "big"), offset=at)
    if t == 29:
        return IPv4HomeAddress(
            prefix_length=data[q] >> 2, p_flag=bool(data[q] & 0x02), address=ip4(data, q + 2), offset=at
        )
    if t == 30:
        return IPv4AddressAcknowledgement(
            status=data[q], prefix_length=data[q + 1] >> 2, address=ip4(data, q + 2), offset=at
        )
    if t == 32:
        return IPv4CareofAddress(address=ip4(data, q + 2), offset=at)
    if t == 33:
        key = int.from_bytes(data[q + 2 : q + 6], "big") if ln >= 6 else None
        return GreKey(key=key, offset=at)
    return UnknownMobilityOption(option_type=enum_or_int(MobilityOptionType, t), data=data[q : q + ln], offset=at)


def _options(data: bytes, p: int, stop: int, ctx: Ctx) -> tuple[MobilityOption, ...]:
    opts: list[MobilityOption] = []
    while p < stop:
        t = data[p]
        if t == 0:
            opts.append(Pad1(offset=p))
            p += 1
            continue
        if p + 2 > stop or p + 2 + data[p + 1] > stop:
            # RFC 6275 §6.2.1: an option must not run past the end of the Mobility Header.
            ctx.weird("mh_option_overrun", f"option {t} runs past the end of the header", LAYER, p)
            break
        ln = data[p + 1]
        if ln < _OPT_MIN.get(t, 0):
            ctx.weird("mh_option_bad_length", f"option {t} length {ln} below minimum {_OPT_MIN[t]}", LAYER, p)
            opts.append(
                UnknownMobilityOption(
                    option_type=enum_or_int(MobilityOptionType, t), data=data[p + 2 : p + 2 + ln], offset=p
                )
            )
        else:
            if t not in MobilityOptionType._value2member_map_:
                ctx.weird("mh_option_unknown", f"option type {t} not in the IANA registry", LAYER, p)
            opts.append(_option(t, data, p + 2, ln, p))
        p += 2 + ln
    return tuple(opts)


# --- messages ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MobilityHeader:
    """The common Mobility Header (RFC 6275 §6.1.1). Used on its own when a message is too short
    to hold its type's fixed fields."""

    mh_type: MhType | int
    payload_proto: int
    header_len: int
    checksum: int
    checksum_ok: bool | None
    options: tuple[MobilityOption, ...] = ()
    offset: int = -1

    @property
    def length(self) -> int:
        """Message length in octets: (Header Len + 1) × 8."""
        return (self.header_len + 1) * 8

    @property
    def type_name(self) -> str:
        return code_name(self.mh_type)


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingRefreshRequest(MobilityHeader):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeTestInit(MobilityHeader):
    cookie: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CareofTestInit(MobilityHeader):
    cookie: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeTest(MobilityHeader):
    nonce_index: int
    cookie: int
    token: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CareofTest(MobilityHeader):
    nonce_index: int
    cookie: int
    token: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingUpdate(MobilityHeader):
    """RFC 6275 §6.1.7. `lifetime_s` = wire lifetime × 4."""

    sequence: int
    flags: BuFlags
    lifetime_s: int

    @property
    def lifetime_units(self) -> int:
        """The wire value (4-second units), as tshark shows it."""
        return self.lifetime_s // 4


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingAcknowledgement(MobilityHeader):
    """RFC 6275 §6.1.8. `lifetime_s` = wire lifetime × 4."""

    status: BaStatus | int
    flags: BaFlags
    sequence: int
    lifetime_s: int

    @property
    def status_name(self) -> str:
        return code_name(self.status)

    @property
    def accepted(self) -> bool:
        """Status values below 128 mean the binding was accepted (RFC 6275 §6.1.8)."""
        return int(self.status) < 128

    @property
    def lifetime_units(self) -> int:
        return self.lifetime_s // 4


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingError(MobilityHeader):
    """RFC 6275 §6.1.9."""

    status: BeStatus | int
    home_address: IPv6Address

    @property
    def status_name(self) -> str:
        return code_name(self.status)


@dataclass(frozen=True, slots=True, kw_only=True)
class FastBindingUpdate(MobilityHeader):
    """RFC 5568 §6.3.1: the BU format (only A H L K are defined)."""

    sequence: int
    flags: BuFlags
    lifetime_s: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FastBindingAcknowledgement(MobilityHeader):
    """RFC 5568 §6.3.2: the BA format; status codes are FMIPv6's own (0 accepted...)."""

    status: int
    flags: BaFlags
    sequence: int
    lifetime_s: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FastNeighborAdvertisement(MobilityHeader):
    """RFC 5568 §6.3.3: a reserved word, then options (LLA, IPv6 address)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExperimentalMobility(MobilityHeader):
    """RFC 5096: message data kept raw."""

    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class HomeAgentSwitch(MobilityHeader):
    """RFC 5142 §5.1."""

    addresses: tuple[IPv6Address, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat(MobilityHeader):
    """RFC 5847 §5.1."""

    unsolicited: bool
    response: bool
    sequence: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoverInitiate(MobilityHeader):
    """RFC 5568 §6.2.1."""

    sequence: int
    s_flag: bool
    u_flag: bool
    code: int


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoverAcknowledge(MobilityHeader):
    """RFC 5568 §6.2.2."""

    sequence: int
    code: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingRevocation(MobilityHeader):
    """RFC 5846 §6.1 with an unknown B.R. Type."""

    br_type: int
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingRevocationIndication(MobilityHeader):
    """RFC 5846 §6.1.1 (B.R. Type 1)."""

    revocation_trigger: int
    sequence: int
    p_flag: bool
    g_flag: bool
    v_flag: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingRevocationAcknowledgement(MobilityHeader):
    """RFC 5846 §6.1.2 (B.R. Type 2)."""

    status: int
    sequence: int
    p_flag: bool
    g_flag: bool
    v_flag: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalizedRoutingInitiation(MobilityHeader):
    """RFC 6705 §8.1; the lifetime is in seconds on the wire."""

    sequence: int
    lifetime_s: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalizedRoutingAcknowledgement(MobilityHeader):
    """RFC 6705 §8.2."""

    sequence: int
    unsolicited: bool
    status: int
    lifetime_s: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownMobility(MobilityHeader):
    """An MH type beyond 18 (or 19+ from later RFCs we do not decode): message data kept raw."""

    data: bytes


class _Common(TypedDict):
    """The common-header fields every MobilityHeader subclass receives."""

    mh_type: MhType | int
    payload_proto: int
    header_len: int
    checksum: int
    checksum_ok: bool | None
    offset: int


# Octets of fixed fields after the 6-octet common header, per MH type (the message figures).
MIN_FIXED = {0: 2, 1: 10, 2: 10, 3: 18, 4: 18, 5: 6, 6: 6, 7: 18, 8: 6, 9: 6, 10: 2, 11: 0, 12: 2, 13: 6,
             14: 4, 15: 4, 16: 6, 17: 6, 18: 6}  # fmt: skip


def dissect_mobility(
    data: bytes,
    off: int,
    end: int,
    complete: bool,
    src: IPv6Address | IPv4Address,
    dst: IPv6Address | IPv4Address,
    ctx: Ctx,
) -> MobilityHeader:
    """Dissect a Mobility Header at `off`; `end` is the end of the captured IP payload, `src`/`dst`
    the pseudo-header addresses (HoA from HAO, final RH2 destination)."""
    if off + 6 > end:
        raise Truncated(LAYER, off, 6, end - off)
    proto, hlen, t, _res, csum = unpack_from("!BBBBH", data, off)
    length = (hlen + 1) * 8
    mh_end = off + length
    if proto != 59:
        # RFC 6275 §9.2: Payload Proto must be IPPROTO_NONE (59).
        ctx.weird("mh_bad_payload_proto", f"payload proto {proto}, expected 59", LAYER, off)
    fixed = MIN_FIXED.get(t, 0)
    if length < 6 + fixed:
        # RFC 6275 §9.2: a message shorter than its type's minimum is discarded by receivers.
        ctx.weird("mh_too_short", f"{code_name(enum_or_int(MhType, t))} needs {6 + fixed} octets, Header Len {hlen}"
                  f" gives {length}", LAYER, off)  # fmt: skip
    ok: bool | None = None
    if mh_end > end:
        if complete:
            ctx.weird("mh_bad_length", f"Header Len {hlen} ({length} octets) exceeds the payload ({end - off})",
                      LAYER, off)  # fmt: skip
        else:
            ctx.weird("mh_truncated", f"{length} octets, {end - off} captured", LAYER, off)
        mh_end = end
    elif complete:
        ok = checksum_ok(pseudo(src, dst, length, 135), data, off, off + length)
        if not ok:
            ctx.weird("mh_bad_checksum", f"checksum 0x{csum:04x}", LAYER, off)
    mh_type = enum_or_int(MhType, t)
    base: _Common = {
        "mh_type": mh_type,
        "payload_proto": proto,
        "header_len": hlen,
        "checksum": csum,
        "checksum_ok": ok,
        "offset": off,
    }
    q = off + 6
    if q + fixed > mh_end:
        # Too short (or cut short) for its fixed fields: keep the common header only.
        return MobilityHeader(**base)
    opts_at = q + fixed
    if t == 5 or t == 8:
        seq, fl, lt = unpack_from("!HHH", data, q)
        if fl & 0x003F:
            # RFC 6275 §6.1.7: reserved bits are sent as zero and ignored; a set one is worth a note.
            ctx.weird("mh_reserved_bits_set", f"flags word 0x{fl:04x}", LAYER, q + 2)
        cls = BindingUpdate if t == 5 else FastBindingUpdate
        rec: MobilityHeader = cls(
            sequence=seq, flags=BuFlags(fl & 0xFFC0), lifetime_s=lt * 4,
            options=_options(data, opts_at, mh_end, ctx), **base
        )  # fmt: skip
        return rec
    if t == 6 or t == 9:
        st, fl, seq, lt = unpack_from("!BBHH", data, q)
        if fl & 0x07:
            ctx.weird("mh_reserved_bits_set", f"flags octet 0x{fl:02x}", LAYER, q + 1)
        if t == 6:
            return BindingAcknowledgement(
                status=enum_or_int(BaStatus, st), flags=BaFlags(fl & 0xF8), sequence=seq, lifetime_s=lt * 4,
                options=_options(data, opts_at, mh_end, ctx), **base
            )  # fmt: skip
        return FastBindingAcknowledgement(
            status=st, flags=BaFlags(fl & 0xF8), sequence=seq, lifetime_s=lt * 4,
            options=_options(data, opts_at, mh_end, ctx), **base
        )  # fmt: skip
    opts = _options(data, opts_at, mh_end, ctx) if t not in (11, 12, 16) and t <= 18 else ()
    if t == 0:
        return BindingRefreshRequest(options=opts, **base)
    if t == 1:
        return HomeTestInit(cookie=int.from_bytes(data[q + 2 : q + 10], "big"), options=opts, **base)
    if t == 2:
        return CareofTestInit(cookie=int.from_bytes(data[q + 2 : q + 10], "big"), options=opts, **base)
    if t == 3 or t == 4:
        ni, ck, tk = unpack_from("!HQQ", data, q)
        cls2 = HomeTest if t == 3 else CareofTest
        return cls2(nonce_index=ni, cookie=ck, token=tk, options=opts, **base)
    if t == 7:
        return BindingError(
            status=enum_or_int(BeStatus, data[q]), home_address=ip6(data, q + 2), options=opts, **base
        )
    if t == 10:
        return FastNeighborAdvertisement(options=opts, **base)
    if t == 11:
        return ExperimentalMobility(data=data[q:mh_end], **base)
    if t == 12:
        n = data[q]
        avail = (mh_end - q - 2) // 16
        if n > avail:
            ctx.weird("mh_has_overrun", f"{n} addresses announced, room for {avail}", LAYER, q)
            n = avail
        addrs = tuple(ip6(data, q + 2 + 16 * k) for k in range(n))
        opts = _options(data, q + 2 + 16 * n, mh_end, ctx)
        return HomeAgentSwitch(addresses=addrs, options=opts, **base)
    if t == 13:
        fl, seq = unpack_from("!HI", data, q)
        return Heartbeat(unsolicited=bool(fl & 2), response=bool(fl & 1), sequence=seq, options=opts, **base)
    if t == 14:
        seq, fl, code = unpack_from("!HBB", data, q)
        return HandoverInitiate(
            sequence=seq, s_flag=bool(fl & 0x80), u_flag=bool(fl & 0x40), code=code, options=opts, **base
        )
    if t == 15:
        seq, _r, code = unpack_from("!HBB", data, q)
        return HandoverAcknowledge(sequence=seq, code=code, options=opts, **base)
    if t == 16:
        brt, b1, seq, fl = unpack_from("!BBHH", data, q)
        opts = _options(data, opts_at, mh_end, ctx) if brt in (1, 2) else ()
        # RFC 5846 §6.1.1/§6.1.2: flags P, V, G in that order (MSB first).
        p, v, g = bool(fl & 0x8000), bool(fl & 0x4000), bool(fl & 0x2000)
        if brt == 1:
            return BindingRevocationIndication(
                revocation_trigger=b1, sequence=seq, p_flag=p, g_flag=g, v_flag=v, options=opts, **base
            )
        if brt == 2:
            return BindingRevocationAcknowledgement(
                status=b1, sequence=seq, p_flag=p, g_flag=g, v_flag=v, options=opts, **base
            )
        ctx.weird("mh_br_unknown_type", f"B.R. Type {brt}", LAYER, q)
        return BindingRevocation(br_type=brt, data=data[q + 1 : mh_end], **base)
    if t == 17:
        seq, _r, lt = unpack_from("!HHH", data, q)
        return LocalizedRoutingInitiation(sequence=seq, lifetime_s=lt, options=opts, **base)
    if t == 18:
        seq, fl, st, lt = unpack_from("!HBBH", data, q)
        return LocalizedRoutingAcknowledgement(
            sequence=seq, unsolicited=bool(fl & 0x80), status=st, lifetime_s=lt, options=opts, **base
        )
    if t > 18 and t not in MhType._value2member_map_:
        ctx.weird("mh_unknown_type", f"MH type {t}", LAYER, off)
    return UnknownMobility(data=data[q:mh_end], **base)
