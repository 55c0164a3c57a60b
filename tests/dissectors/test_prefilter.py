"""The byte-level prefilter agrees with the full dissector on what is mobility-relevant."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    ICMPv6DestUnreach,
    ICMPv6EchoRequest,
    ICMPv6MLReport,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import CookedLinux, Dot1Q, Ether, Loopback

from dissectors import dissect
from dissectors.icmpv6 import ICMPv6
from dissectors.ipv6 import DestinationOptions, IPv4, Routing
from dissectors.ipv6 import IPv6 as IPv6Rec
from dissectors.mobility import MobilityHeader
from dissectors.prefilter import RELEVANT_ICMPV6_TYPES, Prefilter, is_relevant

ETH = dict(src="00:05:5d:f2:db:2b", dst="00:11:22:33:44:55")
HOA = "2001:db8::beef"

IP_PACKETS = {
    "bu_hao": (IPv6(src="2001:db8:1::5", dst="2001:db8::1") / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
               / MIP6MH_BU(seq=1), True),
    "ba_rh2": (IPv6(src="2001:db8::1", dst="2001:db8:1::5") / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[HOA])
               / MIP6MH_BA(seq=1), True),
    "ra": (IPv6(src="fe80::1", dst="ff02::1") / ICMPv6ND_RA(), True),
    "dad": (IPv6(src="::", dst="ff02::1:ff00:5") / ICMPv6ND_NS(tgt="2001:db8:1::5"), True),
    "echo": (IPv6() / ICMPv6EchoRequest(), True),
    "unreach": (IPv6() / ICMPv6DestUnreach() / IPv6() / UDP(), True),
    "6in6": (IPv6(nh=41) / IPv6() / TCP(), True),
    "4in6": (IPv6(nh=4) / IP() / TCP(), True),
    "hbh_mh": (IPv6() / IPv6ExtHdrHopByHop() / MIP6MH_BU(), True),
    "frag_first_icmp": (IPv6() / IPv6ExtHdrFragment(offset=0, m=1) / ICMPv6EchoRequest(), True),
    "frag_later": (IPv6() / IPv6ExtHdrFragment(offset=100, nh=58) / (b"\x80" * 16), False),
    "mld_with_hbh": (IPv6(dst="ff02::16") / IPv6ExtHdrHopByHop() / ICMPv6MLReport(), False),
    "tcp6": (IPv6(src="2001:db8:2::1", dst="2001:db8:3::1") / TCP(), False),
    "udp6": (IPv6(src="2001:db8:2::1", dst="2001:db8:3::1") / UDP(), False),
    "tcp4": (IP() / TCP(), False),
    "home_data": (IPv6(src=HOA, dst="2001:db8:3::1") / TCP(), False),  # relevant only with the address set
}


def reference(data: bytes, linktype: int) -> bool:
    """Relevance decided from the full dissection (the slow, obviously-right definition)."""
    pkt = dissect(linktype, data)
    if pkt.l2_event is not None:
        return True
    ip = pkt.ip
    if not isinstance(ip, IPv6Rec):
        return False
    if isinstance(ip.payload, IPv6Rec | IPv4) or isinstance(ip.payload, MobilityHeader):
        return True
    if any(isinstance(e, DestinationOptions | Routing) for e in ip.extensions):
        return True
    return isinstance(ip.payload, ICMPv6) and ip.payload.icmp_type in RELEVANT_ICMPV6_TYPES


def framings(ip: bytes) -> list[tuple[int, bytes]]:
    return [
        (1, bytes(Ether(**ETH, type=0x86DD if ip[0] >> 4 == 6 else 0x0800)) + ip),
        (1, bytes(Ether(**ETH) / Dot1Q(vlan=3, type=0x86DD if ip[0] >> 4 == 6 else 0x0800)) + ip),
        (113, bytes(CookedLinux(proto=0x86DD if ip[0] >> 4 == 6 else 0x0800)) + ip),
        (276, struct.pack("!HHIHBB8s", 0x86DD if ip[0] >> 4 == 6 else 0x0800, 0, 1, 1, 0, 6, b"\0" * 8) + ip),
        (101, ip),
        (229, ip),
        (0, bytes(Loopback(type=30 if ip[0] >> 4 == 6 else 2)) + ip),
    ]


def test_prefilter_agrees_with_the_dissector_on_every_link_type() -> None:
    for name, (pkt, expected) in IP_PACKETS.items():
        for linktype, frame in framings(bytes(pkt)):
            got = is_relevant(linktype, frame)
            assert got == expected, (name, linktype)
            assert got == reference(frame, linktype), (name, linktype)


def test_address_set_keeps_plain_data_at_home() -> None:
    frame = bytes(Ether(**ETH, type=0x86DD)) + bytes(IP_PACKETS["home_data"][0])
    assert not Prefilter().for_linktype(1)(frame, 0, len(frame))
    keep = Prefilter([HOA]).for_linktype(1)
    assert keep(frame, 0, len(frame))
    other = bytes(Ether(**ETH, type=0x86DD)) + bytes(IP_PACKETS["tcp6"][0])
    assert not keep(other, 0, len(other))
    # relevance without addresses still holds with an address set
    ra = bytes(Ether(**ETH, type=0x86DD)) + bytes(IP_PACKETS["ra"][0])
    assert keep(ra, 0, len(ra))


def test_predicate_respects_frame_bounds_inside_a_larger_buffer() -> None:
    ra = bytes(Ether(**ETH, type=0x86DD)) + bytes(IP_PACKETS["ra"][0])
    buf = b"\xff" * 7 + ra + bytes(Ether(**ETH, type=0x86DD)) + bytes(IP_PACKETS["tcp6"][0])
    pred = Prefilter().for_linktype(1)
    assert pred(buf, 7, 7 + len(ra))
    assert not pred(buf, 7 + len(ra), len(buf))
    assert not pred(buf, 7, 7 + 30)  # cut short: not enough bytes to decide


def test_wireless_management_frames_are_relevant() -> None:
    from scapy.layers.dot11 import Dot11, Dot11AssoReq, Dot11Elt, Dot11QoS, RadioTap
    from scapy.layers.l2 import LLC, SNAP

    assoc = bytes(RadioTap() / Dot11(type=0, subtype=0, addr1="00:11:22:33:44:55", addr2=ETH["src"],
                                     addr3="00:11:22:33:44:55")
                  / Dot11AssoReq() / Dot11Elt(ID=0, info=b"mipnet"))
    assert is_relevant(127, assoc)
    data = Dot11(type=2, subtype=8, FCfield=1, addr1="00:11:22:33:44:55", addr2=ETH["src"],
                 addr3="33:33:00:00:00:01") / Dot11QoS() / LLC() / SNAP()
    assert is_relevant(105, bytes(data / IPv6() / ICMPv6EchoRequest()))
    assert not is_relevant(105, bytes(data / IPv6() / TCP()))
    from scapy.layers.dot11 import Dot11Beacon, Dot11Deauth

    beacon = RadioTap() / Dot11(type=0, subtype=8, addr1="ff:ff:ff:ff:ff:ff", addr2=ETH["dst"],
                                addr3=ETH["dst"]) / Dot11Beacon() / Dot11Elt(ID=0, info=b"mipnet")
    ack = RadioTap() / Dot11(type=1, subtype=13, addr1=ETH["src"])
    null = RadioTap() / Dot11(type=2, subtype=4, FCfield=1, addr1=ETH["dst"], addr2=ETH["src"], addr3=ETH["dst"])
    deauth = RadioTap() / Dot11(type=0, subtype=12, addr1=ETH["src"], addr2=ETH["dst"], addr3=ETH["dst"]) / Dot11Deauth()
    qos_echo = RadioTap() / data / IPv6() / ICMPv6EchoRequest()
    for pkt, expected in ((beacon, False), (ack, False), (null, False), (deauth, True), (qos_echo, True)):
        frame = bytes(pkt)
        assert is_relevant(127, frame) == expected == reference(frame, 127), pkt.summary()


@settings(max_examples=300, deadline=None)
@given(lt=st.sampled_from([0, 1, 101, 105, 108, 113, 127, 229, 276, 9999]), data=st.binary(max_size=120),
       addrs=st.booleans())
def test_prefilter_never_raises(lt: int, data: bytes, addrs: bool) -> None:
    pred = Prefilter([HOA] if addrs else []).for_linktype(lt)
    assert pred(data, 0, len(data)) in (True, False)
