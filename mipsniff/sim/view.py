"""The simulator's own reading of the IPv6 packets it carries (RFC 8200, RFC 4443, RFC 4861, RFC 6275 §6).

Independent of `dissectors/` on purpose: the ground truth must not share code with the analyzer it
checks. It reads only what the simulator needs to route frames, to apply scripted losses, and to know
what each packet is when it crosses a capture point: addresses, HAO/RH2, tunnels, echo, ND, MH, RTP.
Packets here are always well-formed (the agent built them), so a short packet just stops the reading.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from ipaddress import IPv6Address

PROTO_HOPOPTS = 0
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_IPV6 = 41
PROTO_ROUTING = 43
PROTO_FRAGMENT = 44
PROTO_ICMPV6 = 58
PROTO_NONE = 59
PROTO_DSTOPTS = 60
PROTO_MH = 135

ICMP_ECHO_REQUEST = 128
ICMP_ECHO_REPLY = 129
ND_TYPES = frozenset({133, 134, 135, 136, 137})

MH_BU = 5
MH_BA = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class PacketView:
    """What the simulator knows about one IPv6 packet."""

    src: IPv6Address
    dst: IPv6Address
    hop_limit: int
    protocol: int  # upper-layer protocol after the extension headers
    hao: IPv6Address | None = None  # Home Address destination option (RFC 6275 §6.3)
    rh2: IPv6Address | None = None  # type 2 routing header address (RFC 6275 §6.4)
    icmp_type: int | None = None
    echo_id: int | None = None
    echo_seq: int | None = None
    nd_target: IPv6Address | None = None  # NS/NA target
    ra_adv_interval_ms: int | None = None  # RA option 7 (RFC 6275 §7.3)
    ra_prefixes: tuple[str, ...] = ()
    mh_type: int | None = None
    mh_seq: int | None = None  # BU/BA sequence number
    mh_status: int | None = None  # BA status
    mh_lifetime_s: int | None = None
    mh_flags: int | None = None
    udp_sport: int | None = None
    udp_dport: int | None = None
    rtp_seq: int | None = None
    rtp_ssrc: int | None = None
    stream_seq: int | None = None  # the agent's UDP stream payload: "MSNF", u32 seq (mipsniff.agent.traffic)
    stream_name: str | None = None
    inner: PacketView | None = None  # IPv6-in-IPv6 (RFC 2473)

    @property
    def effective_src(self) -> IPv6Address:
        return self.hao if self.hao is not None else self.src

    @property
    def effective_dst(self) -> IPv6Address:
        return self.rh2 if self.rh2 is not None else self.dst

    @property
    def innermost(self) -> PacketView:
        view = self
        while view.inner is not None:
            view = view.inner
        return view

    @property
    def is_nd(self) -> bool:
        return self.protocol == PROTO_ICMPV6 and self.icmp_type in ND_TYPES

    @property
    def is_dad_ns(self) -> bool:
        return self.icmp_type == 135 and self.src == IPv6Address(0)

    @property
    def is_mobility(self) -> bool:
        return self.protocol == PROTO_MH

    @property
    def is_data(self) -> bool:
        """Application data (RFC 6275 §9.3.2 view of the home address's traffic): echo, UDP, TCP."""
        if self.protocol == PROTO_ICMPV6:
            return self.icmp_type in (ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY)
        return self.protocol in (PROTO_UDP, PROTO_TCP)


def read(packet: bytes) -> PacketView:
    """Read an IPv6 packet (starting at the IPv6 header)."""
    src = IPv6Address(packet[8:24])
    dst = IPv6Address(packet[24:40])
    hop_limit = packet[7]
    nh = packet[6]
    off = 40
    hao: IPv6Address | None = None
    rh2: IPv6Address | None = None
    while nh in (PROTO_HOPOPTS, PROTO_DSTOPTS, PROTO_ROUTING, PROTO_FRAGMENT) and off + 8 <= len(packet):
        next_nh = packet[off]
        length = 8 if nh == PROTO_FRAGMENT else (packet[off + 1] + 1) * 8
        if nh == PROTO_DSTOPTS:
            o = off + 2
            while o < off + length:
                opt = packet[o]
                if opt == 0:
                    o += 1
                    continue
                olen = packet[o + 1]
                if opt == 201 and olen == 16:
                    hao = IPv6Address(packet[o + 2 : o + 18])
                o += 2 + olen
        elif nh == PROTO_ROUTING and packet[off + 2] == 2:
            rh2 = IPv6Address(packet[off + 8 : off + 24])
        nh = next_nh
        off += length
    fields: dict[str, object] = {}
    body = packet[off:]
    if nh == PROTO_ICMPV6 and len(body) >= 4:
        itype = body[0]
        fields["icmp_type"] = itype
        if itype in (ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY) and len(body) >= 8:
            fields["echo_id"], fields["echo_seq"] = struct.unpack_from("!HH", body, 4)
        elif itype in (135, 136) and len(body) >= 24:
            fields["nd_target"] = IPv6Address(body[8:24])
        elif itype == 134:
            fields.update(_ra_options(body[16:]))
    elif nh == PROTO_MH and len(body) >= 6:
        mh_type = body[2]
        fields["mh_type"] = mh_type
        if mh_type == MH_BU and len(body) >= 12:
            seq, flags, life = struct.unpack_from("!HHH", body, 6)
            fields.update(mh_seq=seq, mh_flags=flags, mh_lifetime_s=life * 4)
        elif mh_type == MH_BA and len(body) >= 12:
            status, flags, seq, life = struct.unpack_from("!BBHH", body, 6)
            fields.update(mh_status=status, mh_flags=flags, mh_seq=seq, mh_lifetime_s=life * 4)
    elif nh == PROTO_UDP and len(body) >= 8:
        fields["udp_sport"], fields["udp_dport"] = struct.unpack_from("!HH", body, 0)
        rtp = body[8:]
        if len(rtp) >= 16 and rtp[:4] == b"MSNF":
            fields["stream_seq"] = struct.unpack_from("!I", rtp, 4)[0]
            fields["stream_name"] = rtp[16:].split(b"\x00", 1)[0].decode(errors="replace")
        elif len(rtp) >= 12 and rtp[0] >> 6 == 2:
            fields["rtp_seq"] = struct.unpack_from("!H", rtp, 2)[0]
            fields["rtp_ssrc"] = struct.unpack_from("!I", rtp, 8)[0]
    elif nh == PROTO_IPV6 and len(body) >= 40:
        fields["inner"] = read(body)
    return PacketView(src=src, dst=dst, hop_limit=hop_limit, protocol=nh, hao=hao, rh2=rh2, **fields)  # type: ignore[arg-type]


def _ra_options(opts: bytes) -> dict[str, object]:
    out: dict[str, object] = {}
    prefixes: list[str] = []
    o = 0
    while o + 2 <= len(opts):
        otype, olen = opts[o], opts[o + 1] * 8
        if olen == 0:
            break
        if otype == 7 and olen >= 8:
            out["ra_adv_interval_ms"] = struct.unpack_from("!I", opts, o + 4)[0]
        elif otype == 3 and olen >= 32:
            plen = opts[o + 2]
            prefixes.append(f"{IPv6Address(opts[o + 16 : o + 32])}/{plen}")
        o += olen
    out["ra_prefixes"] = tuple(prefixes)
    return out
