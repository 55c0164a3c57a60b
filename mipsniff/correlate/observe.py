"""From a dissected packet to the few facts the correlator needs (RFC 6275 §6, §9.3, §11; RFC 4861).

`observe(packet, is_home)` turns one `dissectors.Packet` into a tuple of small observations: a Binding
Update or Acknowledgement with the home address, home agent and care-of address it names; a Router
Advertisement with its prefixes and Advertisement Interval (§7.3); a Router Solicitation; a DAD
Neighbor Solicitation (RFC 4862 §5.4: source `::`); a data packet of a home address with the path it
travelled; an 802.11 management event; a Parameter Problem answering a Home Address option or a
Mobility Header. Pure and stateless apart from the `is_home` predicate, which says whether an address
is a known home address (the correlator's table).

Where a data packet travelled (its *path*, named by an address):
- plain IPv6 to or from the home address, without HAO or RH2: the home link (path = the home address);
- IPv6-in-IPv6 (RFC 2473) whose inner source or destination is the home address: the tunnel endpoint
  that is not the home agent, i.e. the care-of address (§10.4.2, §11.3.1);
- route-optimised: source with a Home Address option (§6.3), or destination with a type 2 routing header
  (§6.4) naming the home address: path = the outer source / destination, the care-of address.
A data packet is application traffic of the home address, not ND, MLD, an ICMPv6 error or mobility
signalling: echo request/reply, UDP (RTP, or the agent's numbered stream) and TCP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv6Address, IPv6Network
from typing import Any

from dissectors._wire import ip6

_ND_TYPES = frozenset((133, 134, 135, 136, 137))
_UNSPECIFIED = IPv6Address("::")


@dataclass(frozen=True, slots=True)
class BuObs:
    hoa: IPv6Address
    ha: IPv6Address
    coa: IPv6Address
    seq: int
    lifetime_s: int
    home: bool  # the H flag: a home registration (§6.1.7); without it, a BU to a correspondent node
    flags: int


@dataclass(frozen=True, slots=True)
class BaObs:
    hoa: IPv6Address
    ha: IPv6Address
    dst: IPv6Address
    seq: int
    status: int
    status_name: str
    lifetime_s: int


@dataclass(frozen=True, slots=True)
class RaObs:
    router: IPv6Address  # the router's link-local source (RFC 4861 §6.1.2)
    prefixes: tuple[IPv6Network, ...]
    interval_ns: int | None  # Advertisement Interval option (RFC 6275 §7.3), ns
    home_agent: bool  # the H flag


@dataclass(frozen=True, slots=True)
class RsObs:
    src: IPv6Address


@dataclass(frozen=True, slots=True)
class DadObs:
    target: IPv6Address


@dataclass(frozen=True, slots=True)
class DataObs:
    hoa: IPv6Address
    path: IPv6Address  # the home address (at home) or the care-of address
    uplink: bool  # sent by the mobile node
    plain: bool  # neither tunnelled nor route-optimised
    peer: IPv6Address
    echo: tuple[bool, int, int] | None = None  # (is_request, identifier, sequence)
    rtp: tuple[int, int] | None = None  # (ssrc, sequence)
    stream: tuple[str, int] | None = None  # mipsniff's UDP stream payload ("MSNF", u32 seq, name)
    flow: tuple[str, int, int] | None = None  # (protocol, src port, dst port) for UDP/TCP


@dataclass(frozen=True, slots=True)
class L2Obs:
    subtype: str
    bssid: str | None
    ssid: str | None
    src_mac: str | None
    dst_mac: str | None


@dataclass(frozen=True, slots=True)
class ParamProblemObs:
    name: str  # param_problem_hao | param_problem_mh
    hoa: IPv6Address | None
    detail: str


@dataclass(frozen=True, slots=True)
class MhWeirdObs:
    name: str
    detail: str
    hoa: IPv6Address | None


Observation = BuObs | BaObs | RaObs | RsObs | DadObs | DataObs | L2Obs | ParamProblemObs | MhWeirdObs


def _cls(x: object) -> str:
    return type(x).__name__


def _a(x: Any) -> IPv6Address:
    """An IPv6Address (the dissector's are already; re-wrapping would go through a string)."""
    return x if type(x) is IPv6Address else IPv6Address(x)


def _chain(ip: Any) -> list[Any]:
    out = []
    while ip is not None and _cls(ip) in ("IPv6", "IPv4"):
        out.append(ip)
        ip = ip.payload
    return out


def _mh_weirds(packet: Any, mh: Any, hoa: IPv6Address | None) -> list[Observation]:
    """Surface the dissector's weirds of a mobility packet, and a bad MH checksum (§6.1.1)."""
    out: list[Observation] = []
    names = set()
    for w in getattr(packet, "weirds", ()):
        names.add(w.name)
        out.append(MhWeirdObs(name=w.name, detail=w.detail, hoa=hoa))
    if getattr(mh, "checksum_ok", None) is False and "mh_bad_checksum" not in names:
        out.append(MhWeirdObs(name="mh_bad_checksum", detail="Mobility Header checksum mismatch", hoa=hoa))
    return out


def _coa_of_bu(ip: Any, mh: Any) -> IPv6Address:
    # RFC 6275 §6.1.7 / §6.2.5: the care-of address is the source address unless an Alternate Care-of
    # Address option names another one.
    for opt in getattr(mh, "options", ()):
        if _cls(opt) == "AlternateCareofAddress":
            return _a(opt.address)
    return _a(ip.src)


def _mobility(packet: Any, ip: Any, mh: Any) -> list[Observation]:
    name = _cls(mh)
    if name == "BindingUpdate":
        # §6.1.7: the home address is in the Home Address option; a deregistration sent from the home
        # link may omit it (§11.5.4), then the source is the home address.
        hoa = _a(ip.home_address) if ip.home_address is not None else _a(ip.src)
        flags = int(mh.flags)
        home = bool(flags & 0x4000)  # H bit, second bit of the flags word (RFC 6275 §6.1.7)
        obs: list[Observation] = [
            BuObs(
                hoa=hoa,
                ha=_a(ip.dst),
                coa=_coa_of_bu(ip, mh),
                seq=int(mh.sequence),
                lifetime_s=int(mh.lifetime_s),
                home=home,
                flags=flags,
            )
        ]
        return obs + _mh_weirds(packet, mh, hoa)
    if name == "BindingAcknowledgement":
        # §6.1.8 / §6.4: the BA reaches the care-of address with a type 2 routing header naming the
        # home address; at home (deregistration) it is sent to the home address itself.
        hoa = (
            _a(ip.routing_home_address)
            if ip.routing_home_address is not None
            else _a(ip.dst)
        )
        status = int(mh.status)
        sname = getattr(mh, "status_name", None)
        return [
            BaObs(
                hoa=hoa,
                ha=_a(ip.src),
                dst=_a(ip.dst),
                seq=int(mh.sequence),
                status=status,
                status_name=str(sname) if sname is not None else str(status),
                lifetime_s=int(mh.lifetime_s),
            ),
            *_mh_weirds(packet, mh, hoa),
        ]
    hoa = ip.home_address or ip.routing_home_address
    return _mh_weirds(packet, mh, _a(hoa) if hoa is not None else None)


def _nd(ip: Any, icmp: Any) -> list[Observation]:
    name = _cls(icmp)
    if name == "RouterAdvertisement":
        prefixes = []
        interval_ns = None
        for opt in icmp.options:
            oname = _cls(opt)
            if oname == "PrefixInformation":
                try:
                    prefixes.append(IPv6Network(f"{opt.prefix}/{opt.prefix_length}", strict=False))
                except ValueError:
                    continue
            elif oname == "AdvertisementInterval":
                interval_ns = int(opt.interval_ms) * 1_000_000
        h = bool(int(getattr(icmp, "flags", 0)) & 0x20)
        return [RaObs(router=_a(ip.src), prefixes=tuple(prefixes), interval_ns=interval_ns, home_agent=h)]
    if name == "RouterSolicitation":
        return [RsObs(src=_a(ip.src))]
    if name == "NeighborSolicitation" and ip.src == _UNSPECIFIED:
        return [DadObs(target=_a(icmp.target))]
    return []


def _param_problem(ip: Any, icmp: Any) -> list[Observation]:
    """RFC 6275 §11.3.6 / §9.2: a Parameter Problem pointing at a HAO (code 2, unrecognised option) or at
    the Mobility Header (code 1, unrecognised next header) means the peer does not do Mobile IPv6."""
    inv = getattr(icmp, "invoking", None)
    if inv is None or _cls(inv) != "IPv6":
        return []
    code = int(icmp.code)
    has_hao = inv.home_address is not None
    is_mh = int(inv.protocol) == 135
    hoa = _a(inv.home_address) if has_hao else None
    ptr = getattr(icmp, "pointer", None)
    if code == 2 and has_hao:
        return [ParamProblemObs(name="param_problem_hao", hoa=hoa, detail=f"pointer {ptr}")]
    if code == 1 and is_mh:
        return [ParamProblemObs(name="param_problem_mh", hoa=hoa, detail=f"pointer {ptr}")]
    if has_hao:
        return [ParamProblemObs(name="param_problem_hao", hoa=hoa, detail=f"code {code} pointer {ptr}")]
    if is_mh:
        return [ParamProblemObs(name="param_problem_mh", hoa=hoa, detail=f"code {code} pointer {ptr}")]
    return []


STREAM_MAGIC = b"MSNF"  # mipsniff.agent.traffic's UDP stream: "MSNF", u32 sequence, 8 bytes, name


def _stream(upper: Any, raw: bytes | None) -> tuple[str, int] | None:
    """The sequence number of mipsniff's own numbered UDP stream, read from the frame's bytes."""
    off = getattr(upper, "offset", -1)
    if raw is None or off < 0:
        return None
    p = off + 8
    if raw[p : p + 4] != STREAM_MAGIC or len(raw) < p + 16:
        return None
    seq = int.from_bytes(raw[p + 4 : p + 8], "big")
    name = raw[p + 16 :].split(b"\x00", 1)[0].decode(errors="replace")
    return name, seq


def _data(
    outer: Any, inner: Any, is_home: Callable[[IPv6Address], bool], raw: bytes | None,
    unclaimed: set[IPv6Address] | None = None,
) -> DataObs | None:
    upper = inner.payload
    uname = _cls(upper)
    echo = None
    rtp = None
    flow = None
    stream = None
    if uname in ("EchoRequest", "EchoReply"):
        echo = (uname == "EchoRequest", int(upper.identifier), int(upper.sequence))
    elif uname == "UDP":
        flow = ("udp", int(upper.src_port), int(upper.dst_port))
        stream = _stream(upper, raw)
        r = getattr(upper, "rtp", None)
        if r is not None and stream is None:
            rtp = (int(r.ssrc), int(r.sequence))
    elif uname == "TCP":
        flow = ("tcp", int(upper.src_port), int(upper.dst_port))
    else:
        return None  # only application data (echo, UDP, TCP) says where the MN is
    if hasattr(upper, "mh_type"):
        return None
    isrc, idst = inner.src, inner.dst
    if outer is not inner:
        # Tunnelled (RFC 2473): the inner addresses name the home address, the outer ones the path.
        if _cls(inner) != "IPv6":
            return None
        if is_home(isrc):
            return DataObs(hoa=isrc, path=_a(outer.src), uplink=True, plain=False, peer=idst,
                           echo=echo, rtp=rtp, flow=flow, stream=stream)
        if is_home(idst):
            return DataObs(hoa=idst, path=_a(outer.dst), uplink=False, plain=False, peer=isrc,
                           echo=echo, rtp=rtp, flow=flow, stream=stream)
        if unclaimed is not None:
            unclaimed.update((isrc, idst))
        return None
    hao = inner.home_address
    if hao is not None and is_home(hao):
        return DataObs(hoa=hao, path=_a(inner.src), uplink=True, plain=False, peer=idst,
                       echo=echo, rtp=rtp, flow=flow, stream=stream)
    rh = inner.routing_home_address
    if rh is not None and is_home(rh):
        return DataObs(hoa=rh, path=_a(inner.dst), uplink=False, plain=False, peer=isrc,
                       echo=echo, rtp=rtp, flow=flow, stream=stream)
    if is_home(isrc):
        return DataObs(hoa=isrc, path=isrc, uplink=True, plain=True, peer=idst, echo=echo, rtp=rtp, flow=flow, stream=stream)
    if is_home(idst):
        return DataObs(hoa=idst, path=idst, uplink=False, plain=True, peer=isrc, echo=echo, rtp=rtp, flow=flow, stream=stream)
    if unclaimed is not None:
        unclaimed.update((isrc, idst))
    return None


def observe(
    packet: Any, is_home: Callable[[IPv6Address], bool], raw: bytes | None = None,
    unclaimed: set[IPv6Address] | None = None,
) -> list[Observation]:
    """The observations one dissected packet yields (usually zero or one). `raw` (the frame's bytes)
    lets UDP payloads be read (the numbered stream); without it those are plain UDP. `unclaimed`, when
    given, collects the addresses of data packets that belong to no known home address."""
    link = packet.link
    if link is not None and link.l2_event is not None:
        ev = link.l2_event
        return [L2Obs(subtype=ev.subtype, bssid=ev.bssid, ssid=ev.ssid, src_mac=ev.src_mac, dst_mac=ev.dst_mac)]
    chain = _chain(packet.ip)
    if not chain or _cls(chain[0]) != "IPv6":
        return []
    outer = chain[0]
    inner = chain[-1]
    if _cls(inner) != "IPv6":
        return []
    upper = inner.payload
    if hasattr(upper, "mh_type"):
        if inner is outer:
            return _mobility(packet, inner, upper)
        return []  # tunnelled signalling (HoTI through the HA, §5.2.5) is neither a BU nor data
    if hasattr(upper, "icmp_type"):
        t = int(upper.icmp_type)
        if t in _ND_TYPES:
            return _nd(inner, upper) if inner is outer else []
        if t == 4:
            return _param_problem(inner, upper)
    d = _data(outer, inner, is_home, raw, unclaimed)
    return [d] if d is not None else []


def fast_echo(
    linktype: int, data: bytes, is_home: Callable[[IPv6Address], bool],
    unclaimed: set[IPv6Address] | None = None,
) -> tuple[list[Observation], str, str] | None:
    """`observe(dissect(linktype, data), is_home)` and the frame's MACs for the commonest data frame, an
    ICMPv6 echo on Ethernet, plain or in an IPv6-in-IPv6 tunnel (RFC 4443 §4.1, RFC 2473), read from a
    few bytes without building the dissector's records; None for anything else (extension headers, VLAN
    tags, other link types, short or inconsistent lengths), which then takes the full path. The two
    paths are compared frame by frame in tests/correlate/test_correlate_fast.py."""
    n = len(data)
    if linktype != 1 or n < 62 or data[12] != 0x86 or data[13] != 0xDD or data[14] >> 4 != 6:
        return None
    plen = data[18] << 8 | data[19]
    if plen == 0 or 54 + plen > n:
        return None
    nh = data[20]
    if nh == 41:
        i = 54  # the inner IPv6 header
        if plen < 48 or data[i] >> 4 != 6 or data[i + 6] != 58:
            return None
        iplen = data[i + 4] << 8 | data[i + 5]
        if iplen < 8 or iplen + 40 > plen:
            return None
        icmp = i + 40
    elif nh == 58:
        i = 14
        if plen < 8:
            return None
        icmp = 54
    else:
        return None
    t = data[icmp]
    if (t != 128 and t != 129) or data[icmp + 1] != 0:
        return None
    if type(data) is not bytes:  # ip6 keys its memo on a bytes slice
        data = bytes(data)
    src_mac = data[6:12].hex(":")
    dst_mac = data[0:6].hex(":")
    isrc = ip6(data, i + 8)  # the dissectors' memoised address objects
    idst = ip6(data, i + 24)
    echo = (t == 128, data[icmp + 4] << 8 | data[icmp + 5], data[icmp + 6] << 8 | data[icmp + 7])
    obs: list[Observation] = []
    if nh == 41:
        if is_home(isrc):
            obs.append(DataObs(hoa=isrc, path=ip6(data, 22), uplink=True, plain=False, peer=idst,
                               echo=echo))
        elif is_home(idst):
            obs.append(DataObs(hoa=idst, path=ip6(data, 38), uplink=False, plain=False, peer=isrc,
                               echo=echo))
    elif is_home(isrc):
        obs.append(DataObs(hoa=isrc, path=isrc, uplink=True, plain=True, peer=idst, echo=echo))
    elif is_home(idst):
        obs.append(DataObs(hoa=idst, path=idst, uplink=False, plain=True, peer=isrc, echo=echo))
    if not obs and unclaimed is not None:
        unclaimed.update((isrc, idst))
    return obs, src_mac, dst_mac
