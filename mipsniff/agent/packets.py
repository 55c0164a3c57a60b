"""Packet building and parsing for the agent, with scapy (RFC 6275 §6, RFC 4861 §4, RFC 2473 §3, RFC 3550 §5).

On purpose a different code from `dissectors/`: the analyzer decodes what this module encodes, so a
misreading of an RFC on either side shows up as a disagreement. Builders return bytes starting at the
IPv6 header; `parse()` returns a small `Parsed` record or None for anything malformed.

scapy traps handled here: `MIP6MH_BA.answers` tests the P bit as if it were A (never used); scapy's
pseudo-header for the MH checksum honours the HAO only when it is the sole option of its Destination
Options header (true for what we build: scapy adds the PadN at build time), so the checksum is verified
on receipt by `mh_checksum()`, an independent implementation of RFC 6275 §6.1.1.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from ipaddress import IPv6Address, IPv6Network

from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BE,
    MIP6MH_BU,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptAdvInterval,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptHAInfo,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_CoT,
    MIP6MH_CoTI,
    MIP6MH_HoT,
    MIP6MH_HoTI,
    MIP6OptBindingAuthData,
    MIP6OptNonceIndices,
)
from scapy.packet import Packet

from mipsniff.agent.config import RaConfig

ALL_NODES = IPv6Address("ff02::1")
ALL_ROUTERS = IPv6Address("ff02::2")
UNSPECIFIED = IPv6Address("::")
IPPROTO_IPV6 = 41  # RFC 2473 §3: IPv6-in-IPv6
IPPROTO_MH = 135  # RFC 6275 §6.1
IPPROTO_ICMPV6 = 58
IPPROTO_UDP = 17


class MhType(IntEnum):
    """Mobility Header types (RFC 6275 §6.1.2)."""

    BRR = 0
    HOTI = 1
    COTI = 2
    HOT = 3
    COT = 4
    BU = 5
    BA = 6
    BE = 7


class BuFlags(IntFlag):
    """BU flags in wire order, most significant bit first (RFC 6275 §6.1.7, RFC 3963 R, RFC 5213 P)."""

    A = 0x8000
    H = 0x4000
    L = 0x2000
    K = 0x1000
    M = 0x0800
    R = 0x0400
    P = 0x0200

    def letters(self) -> str:
        """tcpdump's rendering order: `AH` for a home registration."""
        return "".join(f.name or "" for f in BuFlags if f in self)


class BaStatus(IntEnum):
    """BA status codes used by the agent (RFC 6275 §6.1.8)."""

    ACCEPTED = 0
    ACCEPTED_PREFIX_DISCOVERY = 1
    UNSPECIFIED = 128
    PROHIBITED = 129
    INSUFFICIENT_RESOURCES = 130
    HOME_REG_NOT_SUPPORTED = 131
    NOT_HOME_SUBNET = 132
    NOT_HOME_AGENT = 133
    DAD_FAILED = 134
    SEQ_OUT_OF_WINDOW = 135


BA_STATUS_TEXT = {  # mip6d's mh_ba_status_to_str (field notes 1.3)
    0: "Binding Update accepted",
    1: "Accepted but prefix discovery necessary",
    128: "Reason unspecified",
    129: "Administratively prohibited",
    130: "Insufficient resources",
    131: "Home registration not supported",
    132: "Not home subnet",
    133: "Not home agent for this mobile node",
    134: "Duplicate Address Detection failed",
    135: "Sequence number out of window",
}


class BeStatus(IntEnum):
    """Binding Error status (RFC 6275 §6.1.9)."""

    UNKNOWN_BINDING = 1
    UNRECOGNIZED_MH = 2


# --- addresses ---------------------------------------------------------------------------------------


def mac_bytes(mac: str) -> bytes:
    return bytes(int(part, 16) for part in mac.split(":"))


def interface_id(mac: str) -> int:
    """Modified EUI-64 interface identifier of a 48-bit MAC (RFC 4291 Appendix A)."""
    b = bytearray(mac_bytes(mac))
    b[0] ^= 0x02  # invert the universal/local bit
    return int.from_bytes(bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:]), "big")


def slaac_address(prefix: IPv6Network, mac: str) -> IPv6Address:
    """SLAAC address of a /64 (RFC 4862 §5.5.3): 2001:db8:1::/64 + 00:05:5d:f2:db:2b -> ...:205:5dff:fef2:db2b."""
    return IPv6Address(int(prefix.network_address) | interface_id(mac))


def link_local(mac: str) -> IPv6Address:
    return slaac_address(IPv6Network("fe80::/64"), mac)


def solicited_node(addr: IPv6Address) -> IPv6Address:
    """Solicited-node multicast address (RFC 4291 §2.7.1)."""
    return IPv6Address(int(IPv6Address("ff02::1:ff00:0")) | (int(addr) & 0xFFFFFF))


def seq_gt(a: int, b: int) -> bool:
    """`a` is after `b` modulo 2**16 (RFC 6275 §9.5.1; mip6d's MIP6_SEQ_GT: (short)(a - b) > 0)."""
    d = (a - b) & 0xFFFF
    return 0 < d < 0x8000


# --- builders ----------------------------------------------------------------------------------------


def _ip(src: IPv6Address, dst: IPv6Address, hlim: int = 64) -> Packet:
    return IPv6(src=str(src), dst=str(dst), hlim=hlim)


def build_rs(src: IPv6Address, mac: str | None) -> bytes:
    """Router Solicitation (RFC 4861 §4.1); no SLLA option from the unspecified address (§4.1)."""
    pkt = _ip(src, ALL_ROUTERS, 255) / ICMPv6ND_RS()
    if mac is not None and src != UNSPECIFIED:
        pkt = pkt / ICMPv6NDOptSrcLLAddr(lladdr=mac)
    return bytes(pkt)


def build_ra(src: IPv6Address, dst: IPv6Address, cfg: RaConfig, mac: str, router_address: IPv6Address | None) -> bytes:
    """Router Advertisement (RFC 4861 §4.2) with the Mobile IPv6 options of RFC 6275 §7.2-§7.4.

    `router_address` is the router's global address sent in place of the prefix when a prefix has the R
    flag (radvd AdvRouterAddr).
    """
    ra = ICMPv6ND_RA(
        chlim=cfg.cur_hop_limit,
        H=int(cfg.home_agent_flag),
        prf=0,  # RFC 4191 medium, radvd's default
        routerlifetime=cfg.default_lifetime_s,
        reachabletime=cfg.reachable_time_ms,
        retranstimer=cfg.retrans_timer_ms,
    )
    pkt = _ip(src, dst, 255) / ra / ICMPv6NDOptSrcLLAddr(lladdr=mac)
    if cfg.mtu is not None:
        pkt = pkt / ICMPv6NDOptMTU(mtu=cfg.mtu)
    for p in cfg.prefixes:
        addr = router_address if (p.router_address and router_address is not None) else p.prefix.network_address
        pkt = pkt / ICMPv6NDOptPrefixInfo(
            prefixlen=p.prefix.prefixlen,
            L=int(p.on_link),
            A=int(p.autonomous),
            R=int(p.router_address),
            validlifetime=p.valid_lifetime_s,
            preferredlifetime=p.preferred_lifetime_s,
            prefix=str(addr),
        )
    if cfg.adv_interval_opt:
        pkt = pkt / ICMPv6NDOptAdvInterval(advint=cfg.adv_interval_ms)
    if cfg.home_agent_info:
        lifetime = cfg.home_agent_lifetime_s if cfg.home_agent_lifetime_s is not None else cfg.default_lifetime_s
        pkt = pkt / ICMPv6NDOptHAInfo(pref=cfg.home_agent_preference & 0xFFFF, lifetime=lifetime)
    return bytes(pkt)


def build_ns(src: IPv6Address, dst: IPv6Address, target: IPv6Address, mac: str | None) -> bytes:
    """Neighbor Solicitation (RFC 4861 §4.3); for DAD src is :: and there is no SLLA (RFC 4862 §5.4.2)."""
    pkt = _ip(src, dst, 255) / ICMPv6ND_NS(tgt=str(target))
    if mac is not None and src != UNSPECIFIED:
        pkt = pkt / ICMPv6NDOptSrcLLAddr(lladdr=mac)
    return bytes(pkt)


def build_na(
    src: IPv6Address,
    dst: IPv6Address,
    target: IPv6Address,
    mac: str,
    *,
    router: bool,
    solicited: bool,
    override: bool,
) -> bytes:
    """Neighbor Advertisement (RFC 4861 §4.4) with the Target Link-Layer Address option."""
    na = ICMPv6ND_NA(R=int(router), S=int(solicited), O=int(override), tgt=str(target))
    return bytes(_ip(src, dst, 255) / na / ICMPv6NDOptDstLLAddr(lladdr=mac))


def build_bu(
    src: IPv6Address,
    dst: IPv6Address,
    *,
    home_address: IPv6Address,
    seq: int,
    lifetime_s: int,
    flags: BuFlags = BuFlags.A | BuFlags.H,
    hlim: int = 64,
) -> bytes:
    """Binding Update (RFC 6275 §6.1.7) from the CoA `src`, with a Home Address option (§6.3) when the
    source is not the home address; a deregistration at home is sent from the HoA without one (§11.5.4).
    Lifetime is in 4 s units on the wire, rounded down (notes 1.3)."""
    mh = MIP6MH_BU(seq=seq & 0xFFFF, flags=int(flags) >> 9, mhtime=min(lifetime_s, 0x3FFFC) >> 2)
    if src != home_address:
        pkt = _ip(src, dst, hlim) / IPv6ExtHdrDestOpt(options=[HAO(hoa=str(home_address))]) / mh
    else:
        pkt = _ip(src, dst, hlim) / mh
    return bytes(pkt)


def build_ba(
    src: IPv6Address,
    dst: IPv6Address,
    *,
    home_address: IPv6Address | None,
    status: int,
    seq: int,
    lifetime_s: int,
    hlim: int = 64,
) -> bytes:
    """Binding Acknowledgement (RFC 6275 §6.1.8); with a type 2 routing header carrying the home address
    when sent to a care-of address (§6.4, §9.5.4)."""
    mh = MIP6MH_BA(status=status, flags=0, seq=seq & 0xFFFF, mhtime=min(lifetime_s, 0x3FFFC) >> 2)
    if home_address is not None and home_address != dst:
        pkt = _ip(src, dst, hlim) / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[str(home_address)]) / mh
    else:
        pkt = _ip(src, dst, hlim) / mh
    return bytes(pkt)


def build_be(src: IPv6Address, dst: IPv6Address, *, status: int, home_address: IPv6Address, hlim: int = 64) -> bytes:
    """Binding Error (RFC 6275 §6.1.9), sent to the source of the offending packet (§9.3.1)."""
    return bytes(_ip(src, dst, hlim) / MIP6MH_BE(status=status, ha=str(home_address)))


def build_echo(
    src: IPv6Address, dst: IPv6Address, *, ident: int, seq: int, data: bytes, reply: bool, hlim: int = 64
) -> bytes:
    """ICMPv6 Echo Request / Reply (RFC 4443 §4.1, §4.2)."""
    cls = ICMPv6EchoReply if reply else ICMPv6EchoRequest
    return bytes(_ip(src, dst, hlim) / cls(id=ident & 0xFFFF, seq=seq & 0xFFFF, data=data))


def build_udp(src: IPv6Address, dst: IPv6Address, *, sport: int, dport: int, payload: bytes, hlim: int = 64) -> bytes:
    return bytes(_ip(src, dst, hlim) / UDP(sport=sport, dport=dport) / payload)


def encapsulate(outer_src: IPv6Address, outer_dst: IPv6Address, inner: bytes, hlim: int = 64) -> bytes:
    """IPv6-in-IPv6 (RFC 2473 §3): a fixed 40-byte header with Next Header 41 before the inner packet."""
    header = struct.pack(
        "!IHBB16s16s", 6 << 28, len(inner), IPPROTO_IPV6, hlim, outer_src.packed, outer_dst.packed
    )
    return header + inner


def with_hop_limit(packet: bytes, hlim: int) -> bytes:
    """The same packet with another hop limit (no upper-layer checksum covers it)."""
    return packet[:7] + bytes([hlim & 0xFF]) + packet[8:]


def mh_checksum(src: IPv6Address, dst: IPv6Address, mh: bytes) -> int:
    """The MH checksum (RFC 6275 §6.1.1): ones' complement over the pseudo-header of RFC 2460 §8.1 — whose
    source is the home address when a HAO is present and whose destination is the final one (the RH2 home
    address) — and the whole MH with its checksum field taken as zero."""
    body = mh[:4] + b"\x00\x00" + mh[6:]
    data = src.packed + dst.packed + struct.pack("!I3xB", len(body), IPPROTO_MH) + body
    if len(data) % 2:
        data += b"\x00"
    total = 0
    for (word,) in struct.iter_unpack("!H", data):
        total += word
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    result = ~total & 0xFFFF
    return result or 0xFFFF


# --- parsing -----------------------------------------------------------------------------------------


class Kind(IntEnum):
    """What a parsed packet is, for dispatch in the machines' transition tables."""

    OTHER = 0
    RS = 1
    RA = 2
    NS = 3
    NA = 4
    ECHO_REQUEST = 5
    ECHO_REPLY = 6
    BU = 7
    BA = 8
    BE = 9
    TUNNEL = 10
    UDP = 11
    MH_OTHER = 12
    HOTI = 13
    COTI = 14
    HOT = 15
    COT = 16


@dataclass(frozen=True, slots=True, kw_only=True)
class PrefixInfo:
    prefix: IPv6Network
    address: IPv6Address  # the Prefix field as sent (the router's address when the R flag is set)
    on_link: bool
    autonomous: bool
    router_address: bool
    valid_lifetime_s: int
    preferred_lifetime_s: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Parsed:
    """The facts the machines need from one IPv6 packet."""

    kind: Kind
    src: IPv6Address
    dst: IPv6Address
    hlim: int
    hoa: IPv6Address | None = None  # Home Address option (RFC 6275 §6.3)
    rh2: IPv6Address | None = None  # type 2 routing header's home address (§6.4)
    mh_checksum_ok: bool = True
    # BU / BA / BE
    seq: int = 0
    lifetime_s: int = 0
    flags: int = 0  # BuFlags for a BU
    status: int = 0
    be_home_address: IPv6Address | None = None
    # ND
    target: IPv6Address | None = None
    lladdr: str | None = None
    ra_router_lifetime_s: int = 0
    ra_home_agent: bool = False
    adv_interval_ms: int | None = None
    retrans_timer_ms: int = 0
    prefixes: tuple[PrefixInfo, ...] = ()
    na_router: bool = False
    na_solicited: bool = False
    # echo / UDP
    ident: int = 0
    echo_seq: int = 0
    sport: int = 0
    dport: int = 0
    payload: bytes = b""
    inner: bytes = b""  # the inner packet of a tunnel
    # return routability (RFC 6275 §6.1.3-§6.1.6) and the BU's RR options (§6.2.6, §6.2.7)
    cookie: bytes = b""
    token: bytes = b""
    nonce_index: int = 0  # HoT/CoT nonce index
    home_nonce_index: int | None = None  # BU Nonce Indices option
    careof_nonce_index: int | None = None
    authenticator: bytes | None = None  # BU Binding Authorization Data option
    mh: bytes = b""  # the Mobility Header as received


def _ext_chain(pkt: Packet) -> tuple[IPv6Address | None, IPv6Address | None, Packet]:
    """Walk the extension headers: return (HAO, RH2 address, upper layer)."""
    hoa: IPv6Address | None = None
    rh2: IPv6Address | None = None
    layer = pkt.payload
    while isinstance(layer, IPv6ExtHdrDestOpt | IPv6ExtHdrRouting):
        if isinstance(layer, IPv6ExtHdrDestOpt):
            for opt in layer.options:
                if isinstance(opt, HAO):
                    hoa = IPv6Address(opt.hoa)
        elif layer.type == 2 and layer.addresses:
            rh2 = IPv6Address(layer.addresses[0])
        layer = layer.payload
    return hoa, rh2, layer


def parse(data: bytes) -> Parsed | None:
    """Parse an IPv6 packet; None when it is not IPv6 or is malformed in a way the agent cannot use."""
    if len(data) < 40 or data[0] >> 4 != 6:
        return None
    try:
        pkt = IPv6(data)
        src, dst, hlim = IPv6Address(pkt.src), IPv6Address(pkt.dst), int(pkt.hlim)
        if pkt.nh == IPPROTO_IPV6:
            return Parsed(kind=Kind.TUNNEL, src=src, dst=dst, hlim=hlim, inner=data[40:40 + int(pkt.plen)])
        hoa, rh2, up = _ext_chain(pkt)
        base = {"src": src, "dst": dst, "hlim": hlim, "hoa": hoa, "rh2": rh2}
        if isinstance(up, MIP6MH_BU | MIP6MH_BA | MIP6MH_BE) or getattr(up, "mhtype", None) is not None:
            ok = mh_checksum(hoa or src, rh2 or dst, bytes(up)) == int(up.cksum)
            if isinstance(up, MIP6MH_BU):
                ni = up.getlayer(MIP6OptNonceIndices)
                bad = up.getlayer(MIP6OptBindingAuthData)
                return Parsed(kind=Kind.BU, mh_checksum_ok=ok, seq=int(up.seq), lifetime_s=int(up.mhtime) * 4,
                              flags=int(up.flags) << 9, mh=bytes(up),
                              home_nonce_index=int(ni.hni) if ni is not None else None,
                              careof_nonce_index=int(ni.coni) if ni is not None else None,
                              authenticator=bytes(up)[-12:] if bad is not None else None,
                              **base)  # type: ignore[arg-type]
            if isinstance(up, MIP6MH_HoTI | MIP6MH_CoTI):
                # scapy's CoTI/CoT subclass HoTI/HoT: decide on the MH type, not the class.
                kind = Kind.HOTI if int(up.mhtype) == MhType.HOTI else Kind.COTI
                return Parsed(kind=kind, mh_checksum_ok=ok, cookie=bytes(up.cookie), **base)  # type: ignore[arg-type]
            if isinstance(up, MIP6MH_HoT | MIP6MH_CoT):
                kind = Kind.HOT if int(up.mhtype) == MhType.HOT else Kind.COT
                return Parsed(kind=kind, mh_checksum_ok=ok, cookie=bytes(up.cookie), token=bytes(up.token),
                              nonce_index=int(up.index), **base)  # type: ignore[arg-type]
            if isinstance(up, MIP6MH_BA):
                return Parsed(kind=Kind.BA, mh_checksum_ok=ok, seq=int(up.seq), lifetime_s=int(up.mhtime) * 4,
                              status=int(up.status), **base)  # type: ignore[arg-type]
            if isinstance(up, MIP6MH_BE):
                return Parsed(kind=Kind.BE, mh_checksum_ok=ok, status=int(up.status),
                              be_home_address=IPv6Address(up.ha), **base)  # type: ignore[arg-type]
            return Parsed(kind=Kind.MH_OTHER, mh_checksum_ok=ok, status=int(up.mhtype), **base)  # type: ignore[arg-type]
        if isinstance(up, ICMPv6ND_RA):
            return _parse_ra(up, base)
        if isinstance(up, ICMPv6ND_RS):
            return Parsed(kind=Kind.RS, lladdr=_lladdr(up, ICMPv6NDOptSrcLLAddr), **base)  # type: ignore[arg-type]
        if isinstance(up, ICMPv6ND_NS):
            return Parsed(kind=Kind.NS, target=IPv6Address(up.tgt), lladdr=_lladdr(up, ICMPv6NDOptSrcLLAddr),
                          **base)  # type: ignore[arg-type]
        if isinstance(up, ICMPv6ND_NA):
            return Parsed(kind=Kind.NA, target=IPv6Address(up.tgt), lladdr=_lladdr(up, ICMPv6NDOptDstLLAddr),
                          na_router=bool(up.R), na_solicited=bool(up.S), **base)  # type: ignore[arg-type]
        if isinstance(up, ICMPv6EchoRequest | ICMPv6EchoReply):
            kind = Kind.ECHO_REPLY if isinstance(up, ICMPv6EchoReply) else Kind.ECHO_REQUEST
            return Parsed(kind=kind, ident=int(up.id), echo_seq=int(up.seq), payload=bytes(up.data),
                          **base)  # type: ignore[arg-type]
        if isinstance(up, UDP):
            return Parsed(kind=Kind.UDP, sport=int(up.sport), dport=int(up.dport), payload=bytes(up.payload),
                          **base)  # type: ignore[arg-type]
        return Parsed(kind=Kind.OTHER, **base)  # type: ignore[arg-type]
    except Exception:  # scapy raises many types on garbage; the agent discards such packets (Dropped)
        return None


def _lladdr(layer: Packet, cls: type[Packet]) -> str | None:
    opt = layer.getlayer(cls)
    return str(opt.lladdr) if opt is not None else None


def _parse_ra(ra: Packet, base: dict[str, object]) -> Parsed:
    prefixes: list[PrefixInfo] = []
    adv_interval: int | None = None
    layer = ra.payload
    while layer is not None and len(layer.fields_desc) and not isinstance(layer, bytes):
        if isinstance(layer, ICMPv6NDOptPrefixInfo):
            addr = IPv6Address(layer.prefix)
            prefixes.append(PrefixInfo(
                prefix=IPv6Network(f"{addr}/{int(layer.prefixlen)}", strict=False),
                address=addr,
                on_link=bool(layer.L),
                autonomous=bool(layer.A),
                router_address=bool(layer.R),
                valid_lifetime_s=int(layer.validlifetime),
                preferred_lifetime_s=int(layer.preferredlifetime),
            ))
        elif isinstance(layer, ICMPv6NDOptAdvInterval):
            adv_interval = int(layer.advint)
        layer = layer.payload
        if layer.__class__.__name__ == "NoPayload":
            break
    return Parsed(
        kind=Kind.RA,
        lladdr=_lladdr(ra, ICMPv6NDOptSrcLLAddr),
        ra_router_lifetime_s=int(ra.routerlifetime),
        ra_home_agent=bool(ra.H),
        adv_interval_ms=adv_interval,
        retrans_timer_ms=int(ra.retranstimer),
        prefixes=tuple(prefixes),
        **base,  # type: ignore[arg-type]
    )


def nip6(addr: IPv6Address) -> str:
    """mip6d's NIP6ADDR text: eight groups, no zero compression, no leading zeros (field notes 1.1)."""
    return ":".join(f"{g:x}" for g in struct.unpack("!8H", addr.packed))


# --- return routability (RFC 6275 §5.2, §6.1.3-§6.1.6, §6.2.6-§6.2.7) ------------------------------------


def build_test_init(src: IPv6Address, dst: IPv6Address, *, cookie: bytes, home: bool, hlim: int = 64) -> bytes:
    """HoTI (from the home address, sent through the reverse tunnel) or CoTI (from the CoA, direct)."""
    mh = MIP6MH_HoTI(cookie=cookie) if home else MIP6MH_CoTI(cookie=cookie)
    return bytes(_ip(src, dst, hlim) / mh)


def build_test(src: IPv6Address, dst: IPv6Address, *, index: int, cookie: bytes, token: bytes, home: bool,
               hlim: int = 64) -> bytes:
    """HoT (to the home address) or CoT (to the CoA): nonce index, the cookie echoed, the keygen token."""
    cls = MIP6MH_HoT if home else MIP6MH_CoT
    return bytes(_ip(src, dst, hlim) / cls(index=index & 0xFFFF, cookie=cookie, token=token))


def keygen_token(kcn: bytes, address: IPv6Address, nonce: bytes, home: bool) -> bytes:
    """§5.2.5: First(64, HMAC_SHA1(Kcn, (address | nonce | 0))) for home, `| 1` for care-of."""
    return hmac.new(kcn, address.packed + nonce + bytes([0 if home else 1]), hashlib.sha1).digest()[:8]


def binding_key(home_token: bytes, careof_token: bytes | None) -> bytes:
    """§5.2.5: Kbm = SHA1(home keygen token | care-of keygen token), or SHA1(home token) to deregister."""
    return hashlib.sha1(home_token + (careof_token or b"")).digest()


def bu_authenticator(kbm: bytes, coa: IPv6Address, cn: IPv6Address, mh_without_auth: bytes) -> bytes:
    """§6.2.7: First(96, HMAC_SHA1(Kbm, (care-of address | correspondent | MH Data))), where MH Data is the
    Mobility Header without the Authenticator field, with the checksum field taken as zero."""
    data = mh_without_auth[:4] + b"\x00\x00" + mh_without_auth[6:]
    return hmac.new(kbm, coa.packed + cn.packed + data, hashlib.sha1).digest()[:12]


def build_bu_to_cn(
    src: IPv6Address,
    dst: IPv6Address,
    *,
    home_address: IPv6Address,
    seq: int,
    lifetime_s: int,
    home_nonce_index: int,
    careof_nonce_index: int,
    kbm: bytes,
    ack: bool = False,
    hlim: int = 64,
) -> bytes:
    """BU to a correspondent (§6.1.7, §11.7.2): no H flag, A only with UseCnBuAck, a Nonce Indices option
    and a Binding Authorization Data option last (its 96-bit Authenticator ends the header)."""
    flags = BuFlags.A if ack else BuFlags(0)

    def make(auth: bytes) -> Packet:
        # scapy's defaults for these option lengths are wrong (16): Nonce Indices is 4, BAD is 12 (§6.2.6-7).
        return MIP6MH_BU(seq=seq & 0xFFFF, flags=int(flags) >> 9, mhtime=min(lifetime_s, 0x3FFFC) >> 2,
                         options=[MIP6OptNonceIndices(olen=4, hni=home_nonce_index, coni=careof_nonce_index),
                                  MIP6OptBindingAuthData(olen=12, authenticator=int.from_bytes(auth, "big"))])

    def wrap(mh: Packet) -> Packet:
        if src != home_address:
            return _ip(src, dst, hlim) / IPv6ExtHdrDestOpt(options=[HAO(hoa=str(home_address))]) / mh
        return _ip(src, dst, hlim) / mh

    draft = bytes(wrap(make(bytes(12))))
    mh = draft[64:] if src != home_address else draft[40:]
    auth = bu_authenticator(kbm, src, dst, mh[:-12])
    return bytes(wrap(make(auth)))


def insert_hao(packet: bytes, care_of: IPv6Address) -> bytes:
    """Route-optimised sending (§11.3.1): the packet from the HoA leaves from `care_of` with a Destination
    Options header carrying PadN(2) + the Home Address option (8n+6 alignment, §6.3). The upper-layer
    checksum stays valid: its pseudo-header uses the home address, which the HAO carries."""
    hoa = packet[8:24]
    plen = struct.unpack("!H", packet[4:6])[0] + 24
    header = packet[:4] + struct.pack("!HBB", plen, 60, packet[7]) + care_of.packed + packet[24:40]
    return header + bytes([packet[6], 2, 1, 2, 0, 0, 0xC9, 16]) + hoa + packet[40:]


def strip_hao(packet: bytes) -> tuple[bytes, IPv6Address] | None:
    """Undo `insert_hao` at the correspondent (§9.3.1): source := home address, header removed. None when the
    first extension header is not a Destination Options header made only of padding and one HAO."""
    if len(packet) < 48 or packet[6] != 60:
        return None
    hlen = (packet[41] + 1) * 8
    opts, i, hoa = packet[42:40 + hlen], 0, None
    while i < len(opts):
        if opts[i] == 0:
            i += 1
            continue
        if i + 2 > len(opts):
            return None
        t, ln = opts[i], opts[i + 1]
        if t == 0xC9 and ln == 16 and i + 18 <= len(opts):
            hoa = opts[i + 2:i + 18]
        elif t != 1:
            return None
        i += 2 + ln
    if hoa is None:
        return None
    plen = struct.unpack("!H", packet[4:6])[0] - hlen
    header = packet[:4] + struct.pack("!HBB", plen, packet[40], packet[7]) + hoa + packet[24:40]
    return header + packet[40 + hlen:], IPv6Address(hoa)


def insert_rh2(packet: bytes, care_of: IPv6Address) -> bytes:
    """A correspondent's packet to a bound home address (§9.3.2): to the CoA, with a type 2 routing header
    holding the home address (segments left 1). The checksum used the final destination, the HoA."""
    hoa = packet[24:40]
    plen = struct.unpack("!H", packet[4:6])[0] + 24
    header = packet[:4] + struct.pack("!HBB", plen, 43, packet[7]) + packet[8:24] + care_of.packed
    return header + bytes([packet[6], 2, 2, 1, 0, 0, 0, 0]) + hoa + packet[40:]


def strip_rh2(packet: bytes) -> bytes | None:
    """Process a type 2 routing header at the MN (§11.3.3): destination := the home address, header removed."""
    if len(packet) < 64 or packet[6] != 43 or packet[42] != 2 or packet[41] != 2:
        return None
    plen = struct.unpack("!H", packet[4:6])[0] - 24
    header = packet[:4] + struct.pack("!HBB", plen, packet[40], packet[7]) + packet[8:24] + packet[48:64]
    return header + packet[64:]
