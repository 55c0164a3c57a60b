"""A crafted corpus of mobility-relevant frames, built with scapy (an encoder independent of ours).

Used by the tshark oracle test and by the hypothesis robustness tests. Message types scapy does not
know (MH types 8-18, PMIPv6/DSMIPv6 options, FMIPv6 ICMPv6) are assembled here from the RFC figures
with a comment per field, and their checksums are computed by scapy's `in6_chksum` (which, like us,
uses the HAO home address and the final RH2 address in the pseudo-header).

Each case is (name, linktype, frame). Names starting with `bad_` are deliberately malformed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from socket import AF_INET6, inet_pton

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BE,
    MIP6MH_BRR,
    MIP6MH_BU,
    ICMPv6DestUnreach,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6HAADReply,
    ICMPv6HAADRequest,
    ICMPv6MPAdv,
    ICMPv6MPSol,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_Redirect,
    ICMPv6ND_RS,
    ICMPv6NDOptAdvInterval,
    ICMPv6NDOptDNSSL,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptHAInfo,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptRDNSS,
    ICMPv6NDOptRedirectedHdr,
    ICMPv6NDOptRouteInfo,
    ICMPv6NDOptSrcLLAddr,
    ICMPv6PacketTooBig,
    ICMPv6ParamProblem,
    ICMPv6TimeExceeded,
    ICMPv6Unknown,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    MIP6MH_CoT,
    MIP6MH_CoTI,
    MIP6MH_HoT,
    MIP6MH_HoTI,
    MIP6OptAltCoA,
    MIP6OptBindingAuthData,
    MIP6OptBRAdvice,
    MIP6OptLLAddr,
    MIP6OptMNID,
    MIP6OptMobNetPrefix,
    MIP6OptNonceIndices,
    RouterAlert,
    in6_chksum,
)
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether, Loopback
from scapy.packet import Packet, Raw
from scapy.utils import checksum

HOA = "2001:db8::beef"
HA = "2001:db8::1"
COA = "2001:db8:1::10"
CN = "2001:db8:2::20"
LMA = "2001:db8:ff::1"
MAG = "2001:db8:1::1"
LL_MN = "fe80::200:ff:fe00:10"
LL_AR = "fe80::1"
MN_MAC = "02:00:00:00:00:10"
AR_MAC = "02:00:00:00:00:01"

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_NULL = 0
LINKTYPE_SLL = 113
LINKTYPE_SLL2 = 276
LINKTYPE_IPV6 = 229


@dataclass(frozen=True)
class Case:
    """`orig_len` > len(frame) marks a capture cut by the snaplen (the pcapng says so to tshark)."""

    name: str
    linktype: int
    frame: bytes
    orig_len: int | None = None


def eth(pkt: Packet, src: str = MN_MAC, dst: str = AR_MAC) -> bytes:
    return bytes(Ether(src=src, dst=dst) / pkt)


def mopt(t: int, data: bytes) -> bytes:
    """A TLV mobility option (RFC 6275 §6.2.1): Type, Length (of the data), data."""
    return bytes((t, len(data))) + data


def _pad8(msg: bytes) -> bytes:
    """Pad a Mobility Header to a multiple of 8 octets with Pad1/PadN (RFC 6275 §6.2.1)."""
    pad = (-len(msg)) % 8
    if pad == 1:
        return msg + b"\x00"
    if pad >= 2:
        return msg + bytes((1, pad - 2)) + bytes(pad - 2)
    return msg


def mh_bytes(mh_type: int, body: bytes, options: bytes = b"", proto: int = 59, hlen: int | None = None) -> bytes:
    """Mobility Header (RFC 6275 §6.1.1) with a zero checksum: Payload Proto, Header Len, MH Type,
    Reserved, Checksum, then the type's fixed fields and options, padded to 8 octets."""
    msg = _pad8(bytes((proto, 0, mh_type, 0, 0, 0)) + body + options)
    hl = len(msg) // 8 - 1 if hlen is None else hlen
    return msg[:1] + bytes((hl,)) + msg[2:]


def mh_packet(
    mh_type: int,
    body: bytes,
    options: bytes = b"",
    src: str = COA,
    dst: str = HA,
    hao: str | None = HOA,
    rh2: str | None = None,
    proto: int = 59,
    hlen: int | None = None,
    good_checksum: bool = True,
) -> Packet:
    """IPv6 [+ HAO | RH2] + a hand-built Mobility Header with its checksum computed by scapy."""
    msg = mh_bytes(mh_type, body, options, proto, hlen)
    pkt: Packet = IPv6(src=src, dst=dst)
    if hao is not None:
        pkt = pkt / IPv6ExtHdrDestOpt(nh=135, options=[HAO(hoa=hao)])
    elif rh2 is not None:
        pkt = pkt / IPv6ExtHdrRouting(nh=135, type=2, addresses=[rh2])
    else:
        pkt.nh = 135
    pkt = pkt / Raw(msg)
    csum = in6_chksum(135, pkt[Raw], msg)
    if not good_checksum:
        csum ^= 0x5A5A
    pkt[Raw].load = msg[:4] + struct.pack("!H", csum) + msg[6:]
    return pkt


def icmp_raw(icmp_type: int, code: int, body: bytes, src: str = LL_MN, dst: str = LL_AR) -> Packet:
    return IPv6(src=src, dst=dst, hlim=255) / ICMPv6Unknown(type=icmp_type, code=code, msgbody=body)


def _bu(**kw: object) -> Packet:
    return IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) / MIP6MH_BU(**kw)


def _ba(**kw: object) -> Packet:
    return IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA]) / MIP6MH_BA(**kw)


def build() -> list[Case]:
    c: list[Case] = []

    def add(name: str, pkt: Packet | bytes, linktype: int = LINKTYPE_ETHERNET) -> None:
        frame = pkt if isinstance(pkt, bytes) else (eth(pkt) if linktype == LINKTYPE_ETHERNET else bytes(pkt))
        assert isinstance(frame, bytes)
        c.append(Case(name, linktype, frame))

    # --- Mobility Header types scapy knows (RFC 6275 §6.1) ------------------------------------------
    add("bu_article", _bu(seq=54814, flags=0b1100000, mhtime=65535))  # flags A H (scapy: 7 bits, A = MSB)
    add("bu_all_scapy_flags", _bu(seq=1, flags=0b1111111, mhtime=10))  # A H L K M R P
    add("bu_raw_ip", IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) / MIP6MH_BU(seq=7), LINKTYPE_RAW)
    add("ba_article", _ba(status=0, seq=54814, mhtime=65535))
    # scapy's BA flags field is 3 bits named lowest bit first ("PRK"): K is 4 (flags=1 would be P).
    add("ba_135_k", _ba(status=135, flags=4, seq=65535, mhtime=0))
    add("ba_nemo_pmip_flags", _ba(status=0, flags=3, seq=1, mhtime=1))  # R and P
    add("ba_unknown_status", _ba(status=127, seq=3, mhtime=1))
    add("brr", IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA]) / MIP6MH_BRR())
    add("hoti", IPv6(src=HOA, dst=CN) / MIP6MH_HoTI(cookie=bytes.fromhex("0123456789abcdef")))
    add("coti", IPv6(src=COA, dst=CN) / MIP6MH_CoTI(cookie=bytes.fromhex("fedcba9876543210")))
    add("hot", IPv6(src=CN, dst=HOA) / MIP6MH_HoT(index=0x1234, cookie=bytes.fromhex("0123456789abcdef"), token=bytes.fromhex("1122334455667788")))
    add("cot", IPv6(src=CN, dst=COA) / MIP6MH_CoT(index=0x4321, cookie=bytes.fromhex("fedcba9876543210"), token=bytes.fromhex("8877665544332211")))
    add("be", IPv6(src=HA, dst=COA) / MIP6MH_BE(status=1, ha=HOA))
    add("be_2", IPv6(src=CN, dst=COA) / MIP6MH_BE(status=2, ha="::"))
    # Options scapy knows.
    add("bu_opt_altcoa", _bu(seq=2, mhtime=100, options=[MIP6OptAltCoA(acoa=COA)]))
    add("bu_opt_nonce_auth", _bu(seq=3, flags=0b0100000, mhtime=100,
                                 options=[MIP6OptNonceIndices(olen=4, hni=0x1111, coni=0x2222),
                                          MIP6OptBindingAuthData(olen=12, authenticator=0xAA << 88 | 0x55)]))  # fmt: skip
    add("bu_opt_mnp", _bu(seq=4, flags=0b1100010 | 0b0000100, mhtime=100,
                          options=[MIP6OptMobNetPrefix(plen=48, prefix="2001:db8:100::")]))  # fmt: skip
    add("bu_opt_mnid", _bu(seq=5, mhtime=100, options=[MIP6OptMNID(subtype=1, id=b"mn1@example.org")]))
    add("ba_opt_brr_advice", _ba(status=0, seq=9, mhtime=300, options=[MIP6OptBRAdvice(rinter=75)]))
    add("bu_opt_lla_scapy", _bu(seq=6, mhtime=1, options=[MIP6OptLLAddr(ocode=2, lla=MN_MAC)]))

    # --- BU flags beyond scapy's (F T B, RFC 5555/5845/6602) and MH types 8-18, hand-built ------------
    # BU body: Sequence (16), flags A H L K M R P F T B + reserved (16), Lifetime (16) - RFC 6275 §6.1.7.
    add("bu_flags_ftb", mh_packet(5, struct.pack("!HHH", 100, 0x8000 | 0x0100 | 0x0080 | 0x0040, 5)))
    add("pbu_pmipv6", mh_packet(
        5, struct.pack("!HHH", 0x0200, 0x8000 | 0x0200, 0x0096),  # seq 512, flags A P, lifetime 150 (600 s)
        mopt(8, b"\x01" + b"mn7@pmip.example")  # MN-ID: subtype 1 (NAI), identifier
        + mopt(22, b"\x00\x40" + bytes.fromhex("20010db8000700000000000000000000"))  # HNP: reserved, plen 64, prefix
        + mopt(23, b"\x00\x01")  # Handoff Indicator: reserved, HI 1 (attachment over a new interface)
        + mopt(24, b"\x00\x04")  # Access Technology Type: reserved, ATT 4 (802.11)
        + mopt(25, b"\x00\x00" + bytes.fromhex("020000000010"))  # MN Link-layer Identifier: reserved, id
        + mopt(26, bytes.fromhex("fe800000000000000000000000000010"))  # Link-local Address
        + mopt(27, struct.pack("!Q", (3_900_000_000 << 32) | 0x80000000)),  # Timestamp (NTP)
        src=MAG, dst=LMA, hao=None))  # fmt: skip
    add("pba_pmipv6", mh_packet(
        6, struct.pack("!BBHH", 0, 0x20, 0x0200, 0x0096),  # status 0, flags P, seq 512, lifetime 150
        mopt(22, b"\x00\x40" + bytes.fromhex("20010db8000700000000000000000000"))
        + mopt(28, struct.pack("!I", 77))  # Restart Counter (RFC 5847 §5.2: Length 4, counter)
        + mopt(33, b"\x00\x00" + struct.pack("!I", 0xDEADBEEF)),  # GRE key: reserved, key
        src=LMA, dst=MAG, hao=None))  # fmt: skip
    add("bu_dsmipv6", mh_packet(
        5, struct.pack("!HHH", 42, 0xC000, 100),
        mopt(29, bytes((24 << 2 | 0x02, 0)) + bytes((192, 0, 2, 10)))  # IPv4 HoA: plen 24, P, reserved, addr
        + mopt(32, b"\x00\x00" + bytes((198, 51, 100, 7)))))  # IPv4 CoA: reserved, addr  # fmt: skip
    add("ba_dsmipv6", mh_packet(
        6, struct.pack("!BBHH", 0, 0, 42, 100),
        mopt(30, bytes((0, 24 << 2)) + bytes((192, 0, 2, 10))),  # IPv4 Address Ack: status 0, plen 24, addr
        src=HA, dst=COA, hao=None, rh2=HOA))  # fmt: skip
    # FBU / FBack (RFC 5568 §6.3.1-§6.3.2): same layout as BU / BA; FNA (§6.3.3): reserved + options.
    add("fbu", mh_packet(8, struct.pack("!HHH", 11, 0xC000, 10),
                         mopt(7, b"\x02" + bytes.fromhex("020000000010"))))  # LLA option: code 2, MAC  # fmt: skip
    add("fback", mh_packet(9, struct.pack("!BBHH", 0, 0x80, 11, 10), src=MAG, dst=COA, hao=None))
    add("fna", mh_packet(10, b"\x00\x00", mopt(7, b"\x02" + bytes.fromhex("020000000010")), hao=None))
    add("experimental", mh_packet(11, b"\xde\xad\xbe\xef\x00\x00", hao=None))
    # HAS (RFC 5142): # of addresses, reserved, addresses.
    add("has", mh_packet(12, bytes((2, 0)) + bytes.fromhex("20010db8000000000000000000000002" "20010db8000000000000000000000003"),
                         src=HA, dst=COA, hao=None, rh2=HOA))  # fmt: skip
    # Heartbeat (RFC 5847): reserved + U R flags (16), sequence (32).
    add("heartbeat", mh_packet(13, struct.pack("!HI", 0x0002, 123456), src=MAG, dst=LMA, hao=None))
    add("heartbeat_resp", mh_packet(13, struct.pack("!HI", 0x0001, 123456), src=LMA, dst=MAG, hao=None))
    # HI / HAck (RFC 5568 §6.2): sequence (16), S U + reserved (8), code (8); sequence, reserved, code.
    add("hi", mh_packet(14, struct.pack("!HBB", 5, 0xC0, 1), src=MAG, dst=LMA, hao=None))
    add("hack", mh_packet(15, struct.pack("!HBB", 5, 0, 4), src=LMA, dst=MAG, hao=None))
    # BRI / BRA (RFC 5846 §6.1): B.R. type, trigger/status, sequence, P V G flags + reserved.
    add("bri", mh_packet(16, struct.pack("!BBHH", 1, 2, 77, 0xA000), src=LMA, dst=MAG, hao=None))
    add("bra", mh_packet(16, struct.pack("!BBHH", 2, 0, 77, 0x4000), src=MAG, dst=LMA, hao=None))
    # LRI / LRA (RFC 6705 §8): sequence, reserved, lifetime; sequence, U + reserved, status, lifetime.
    add("lri", mh_packet(17, struct.pack("!HHH", 9, 0, 30), src=LMA, dst=MAG, hao=None))
    add("lra", mh_packet(18, struct.pack("!HBBH", 9, 0x80, 0, 30), src=MAG, dst=LMA, hao=None))
    add("mh_type_30", mh_packet(30, b"\x00\x00", hao=None))

    # --- malformed Mobility Headers (RFC 6275 §9.2) ---------------------------------------------------
    add("bad_mh_checksum", mh_packet(5, struct.pack("!HHH", 1, 0xC000, 1), good_checksum=False))
    add("bad_mh_payload_proto", mh_packet(5, struct.pack("!HHH", 1, 0xC000, 1), proto=6))
    add("bad_mh_too_short", mh_packet(5, b"\x00\x01", hlen=0))
    add("bad_mh_option_overrun", mh_packet(5, struct.pack("!HHH", 1, 0xC000, 1), b"\x03\x10" + bytes(8)))
    add("bad_mh_hlen_exceeds_payload", mh_packet(6, struct.pack("!BBHH", 0, 0, 1, 1), hlen=5, hao=None, rh2=HOA))

    # --- Neighbor Discovery (RFC 4861, RFC 6275 §7) -------------------------------------------------
    add("rs", IPv6(src=LL_MN, dst="ff02::2", hlim=255) / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=MN_MAC))
    add("rs_unspecified", IPv6(src="::", dst="ff02::2", hlim=255) / ICMPv6ND_RS())
    add("ra_mipv6", eth(
        IPv6(src=LL_AR, dst="ff02::1", hlim=255)
        / ICMPv6ND_RA(M=1, O=1, H=1, prf=1, P=1, chlim=64, routerlifetime=1800, reachabletime=30000, retranstimer=1000)
        / ICMPv6NDOptSrcLLAddr(lladdr=AR_MAC)
        / ICMPv6NDOptMTU(mtu=1500)
        / ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, R=1, validlifetime=86400, preferredlifetime=14400,
                                prefix="2001:db8:1::1")
        / ICMPv6NDOptAdvInterval(advint=70)
        / ICMPv6NDOptHAInfo(pref=10, lifetime=1800)
        / ICMPv6NDOptRDNSS(lifetime=600, dns=["2001:db8::53", "2001:db8::54"])
        / ICMPv6NDOptDNSSL(lifetime=600, searchlist=["example.org", "lab.example.org"])
        / ICMPv6NDOptRouteInfo(plen=48, prf=3, rtlifetime=900, prefix="2001:db8:5::"),
        src=AR_MAC, dst="33:33:00:00:00:01"))  # fmt: skip
    add("ra_low_pref_no_flags", IPv6(src=LL_AR, dst="ff02::1", hlim=255) / ICMPv6ND_RA(prf=3, routerlifetime=0))
    add("ns_dad", IPv6(src="::", dst="ff02::1:ff00:10", hlim=255) / ICMPv6ND_NS(tgt=COA))
    add("ns", IPv6(src=LL_MN, dst=LL_AR, hlim=255) / ICMPv6ND_NS(tgt=LL_AR) / ICMPv6NDOptSrcLLAddr(lladdr=MN_MAC))
    add("na", IPv6(src=LL_AR, dst=LL_MN, hlim=255) / ICMPv6ND_NA(R=1, S=1, O=1, tgt=LL_AR) / ICMPv6NDOptDstLLAddr(lladdr=AR_MAC))
    add("na_unsolicited", IPv6(src=LL_MN, dst="ff02::1", hlim=255) / ICMPv6ND_NA(R=0, S=0, O=1, tgt=COA))
    add("redirect", IPv6(src=LL_AR, dst=LL_MN, hlim=255)
        / ICMPv6ND_Redirect(tgt="fe80::2", dst=CN) / ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:02")
        / ICMPv6NDOptRedirectedHdr(pkt=IPv6(src=COA, dst=CN) / ICMPv6EchoRequest()))  # fmt: skip
    add("bad_nd_zero_length_option", icmp_raw(133, 0, b"\x00\x00\x00\x00" + b"\x01\x00" + bytes(6), dst="ff02::2"))

    # --- Mobile IPv6 ICMPv6 (RFC 6275 §6.5-§6.8) and FMIPv6 (RFC 5568 §6.1) --------------------------
    add("haad_request", IPv6(src=COA, dst="2001:db8::fdff:ffff:ffff:fffe") / ICMPv6HAADRequest(id=0x4242))
    add("haad_reply", IPv6(src=HA, dst=COA) / ICMPv6HAADReply(id=0x4242, addresses=[HA, "2001:db8::2"]))
    add("mps", IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) / ICMPv6MPSol(id=7))
    add("mpa", IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA]) / ICMPv6MPAdv(id=7, flags=2)
        / ICMPv6NDOptPrefixInfo(prefixlen=64, validlifetime=3600, preferredlifetime=1800, prefix="2001:db8::"))  # fmt: skip
    # FMIPv6: Subtype (8), Reserved (8), Identifier (16), ND-format options.
    add("fmip_rtsolpr", icmp_raw(154, 0, bytes((2, 0)) + struct.pack("!H", 99)
                                 + bytes((1, 1)) + bytes.fromhex("020000000010")))  # SLLA  # fmt: skip
    add("fmip_prrtadv", icmp_raw(154, 0, bytes((3, 0)) + struct.pack("!H", 99)
                                 + bytes((2, 1)) + bytes.fromhex("020000000001"), src=LL_AR, dst=LL_MN))  # fmt: skip

    # --- ICMPv6 errors carrying mobility packets (RFC 4443 §3, RFC 6275 §9.3.1) ----------------------
    invoking_bu = bytes(_bu(seq=54814, flags=0b1100000, mhtime=65535))
    # Pointer 46: the HAO type octet (IPv6 40 + DestOpts 2 + PadN(2) 4, RFC 6275 §6.3 alignment 8n+6) - code 2, unrecognized option.
    add("param_problem_hao", IPv6(src=HA, dst=COA) / ICMPv6ParamProblem(code=2, ptr=46) / Raw(invoking_bu))
    # Pointer 40: the Next Header field of the DestOpts header naming 135 - code 1.
    add("param_problem_mh", IPv6(src=HA, dst=COA) / ICMPv6ParamProblem(code=1, ptr=40) / Raw(invoking_bu))
    add("dest_unreach", IPv6(src=MAG, dst=COA) / ICMPv6DestUnreach(code=3) / Raw(invoking_bu))
    add("packet_too_big", IPv6(src=MAG, dst=COA) / ICMPv6PacketTooBig(mtu=1280) / Raw(invoking_bu))
    add("time_exceeded", IPv6(src=MAG, dst=COA) / ICMPv6TimeExceeded(code=0) / Raw(invoking_bu[:48]))

    # --- echo, tunnels (RFC 2473), transport with HAO/RH2 -----------------------------------------
    add("echo_request", IPv6(src=HOA, dst=CN) / ICMPv6EchoRequest(id=0x1234, seq=1, data=b"x" * 56))
    add("echo_reply", IPv6(src=CN, dst=HOA) / ICMPv6EchoReply(id=0x1234, seq=1, data=b"x" * 56))
    add("tunnel_6in6_echo", IPv6(src=HA, dst=COA) / IPv6(src=CN, dst=HOA) / ICMPv6EchoReply(id=0x1234, seq=2))
    add("tunnel_6in6_reverse", IPv6(src=COA, dst=HA) / IPv6(src=HOA, dst=CN) / ICMPv6EchoRequest(id=0x1234, seq=3))
    add("tunnel_4in6", IPv6(src=HA, dst=COA) / IP(src="192.0.2.10", dst="198.51.100.1") / ICMP(id=5, seq=6))
    add("tunnel_double", IPv6(src=HA, dst=COA) / IPv6(src=LMA, dst=MAG) / IPv6(src=CN, dst=HOA)
        / UDP(sport=5004, dport=5006) / Raw(b"\x80\x00\x00\x01" + b"\x00\x00\x00\x10" + b"\xca\xfe\xba\xbe" + bytes(20)))  # fmt: skip
    add("tunnel_hoti", IPv6(src=COA, dst=HA) / IPv6(src=HOA, dst=CN) / MIP6MH_HoTI(cookie=b"cookie42"))
    add("udp_hao", IPv6(src=COA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) / UDP(sport=40000, dport=53) / Raw(b"q" * 13))
    add("udp_rh2", IPv6(src=CN, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA]) / UDP(sport=53, dport=40000) / Raw(b"r" * 20))
    add("rtp", IPv6(src=CN, dst=HOA) / UDP(sport=5004, dport=5006)
        / Raw(bytes.fromhex("80e0" "0102" "00000064" "11223344") + bytes(160)))  # V2, M, PT 96, seq, ts, ssrc  # fmt: skip
    add("tcp_syn_rh2", IPv6(src=CN, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA])
        / TCP(sport=80, dport=40001, flags="SA", seq=1000, ack=2001))  # fmt: skip
    add("tcp_hao", IPv6(src=COA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
        / TCP(sport=40001, dport=80, flags="PA", seq=2001, ack=1001) / Raw(b"GET / HTTP/1.0\r\n\r\n"))  # fmt: skip
    add("udp_ipv4_tunnel", IPv6(src=HA, dst=COA) / IP(src="192.0.2.10", dst="198.51.100.1") / UDP(sport=4000, dport=4001) / Raw(b"z" * 10))

    # --- other extension headers (RFC 8200, RFC 4302, RFC 4303) ---------------------------------------
    add("hbh_router_alert", IPv6(src=LL_MN, dst="ff02::16", hlim=1) / IPv6ExtHdrHopByHop(options=[RouterAlert()])
        / ICMPv6Unknown(type=143, code=0, msgbody=bytes(4)))  # fmt: skip
    add("rh0", IPv6(src=COA, dst="2001:db8:9::1") / IPv6ExtHdrRouting(type=0, addresses=["2001:db8:9::2", CN], segleft=2)
        / ICMPv6EchoRequest(id=1, seq=1))  # fmt: skip
    frag_payload = bytes(MIP6MH_BU(seq=77, mhtime=4)) + bytes(64)
    add("fragment_first", IPv6(src=COA, dst=HA) / IPv6ExtHdrFragment(nh=135, offset=0, m=1, id=0xABCD) / Raw(frag_payload[:48]))
    add("fragment_later", IPv6(src=COA, dst=HA) / IPv6ExtHdrFragment(nh=135, offset=6, m=0, id=0xABCD) / Raw(frag_payload[48:]))
    # AH (RFC 4302 §2): next header, payload len 4 (6 words = 24 octets), reserved, SPI, seq, ICV 12.
    ah = bytes((135, 4, 0, 0)) + struct.pack("!II", 0x1000, 5) + bytes(12)
    ah_mh = mh_bytes(5, struct.pack("!HHH", 9, 0xC000, 1))
    pseudo = inet_pton(AF_INET6, COA) + inet_pton(AF_INET6, HA) + struct.pack("!IxxxB", len(ah_mh), 135)
    ah_mh = ah_mh[:4] + struct.pack("!H", checksum(pseudo + ah_mh)) + ah_mh[6:]  # AH is not in the pseudo-header
    add("ah_bu", IPv6(src=COA, dst=HA, nh=51) / Raw(ah + ah_mh))
    add("esp", IPv6(src=COA, dst=HA, nh=50) / Raw(struct.pack("!II", 0x2000, 17) + bytes(40)))
    add("no_next_header", IPv6(src=COA, dst=HA, nh=59) / Raw(b""))

    # --- the same BU over other link types (the link layer is dissectors.link's; this checks the
    # whole path to the Mobility Header) -----------------------------------------------------------
    bu = _bu(seq=4242, flags=0b1100000, mhtime=100)
    add("link_vlan_qinq", bytes(Ether(src=MN_MAC, dst=AR_MAC) / Dot1AD(vlan=100) / Dot1Q(vlan=7) / bu))
    add("link_sll", bytes(CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6, src=bytes.fromhex("020000000010") + b"\0\0",
                                      proto=0x86DD) / bu), LINKTYPE_SLL)  # fmt: skip
    add("link_sll2", bytes(CookedLinuxV2(proto=0x86DD, ifindex=2, lladdrtype=1, pkttype=4, lladdrlen=6,
                                         src=bytes.fromhex("020000000010") + b"\0\0") / bu), LINKTYPE_SLL2)  # fmt: skip
    add("link_null", bytes(Loopback(type=24) / bu), LINKTYPE_NULL)
    add("link_raw_ipv6", bytes(bu), LINKTYPE_IPV6)

    # --- snaplen truncations (the capture says the frame was longer) -------------------------------
    by_name = {x.name: x for x in c}
    for name, keep in (("bu_article", 14 + 40 + 24 + 12), ("ba_article", 14 + 40 + 20), ("ra_mipv6", 14 + 40 + 16 + 8 + 8 + 12),
                       ("pbu_pmipv6", 14 + 40 + 12 + 19 + 10), ("tunnel_6in6_echo", 14 + 40 + 40 + 4)):  # fmt: skip
        full = by_name[name]
        c.append(Case(f"snaplen_{name}", full.linktype, full.frame[:keep], orig_len=len(full.frame)))
    return c


CORPUS: list[Case] = build()
