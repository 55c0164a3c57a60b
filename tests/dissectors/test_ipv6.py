"""IPv6 extension chain, RH2 checks, fragments, AH/ESP and tunnels: hex literals, a comment per field."""

from ipaddress import IPv4Address, IPv6Address

from dissectors import dissect, dissect_ip
from dissectors.icmpv6 import EchoReply
from dissectors.ipv6 import (
    ESP,
    AuthenticationHeader,
    DestinationOptions,
    Fragment,
    HomeAddressOption,
    IPv4,
    IPv6,
    PadN,
    Raw,
    Routing,
)
from dissectors.mobility import BindingUpdate
from dissectors.tunnel import MAX_TUNNEL_DEPTH

HOA = IPv6Address("2001:db8::beef")
HA = IPv6Address("2001:db8::1")
COA = IPv6Address("2001:db8:1::10")
CN = IPv6Address("2001:db8:2::20")

# CN -> CoA via RH2 (home address), TCP SYN|ACK; checksum computed by scapy over the HoA.
TCP_RH2 = bytes.fromhex(
    "60000000" "002c" "2b" "40"                       # IPv6: plen 44, nh 43 (Routing), hlim 64
    "20010db8000200000000000000000020"                # src (CN)
    "20010db8000100000000000000000010"                # dst (CoA)
    "06" "02" "02" "01" "00000000"                    # RH: nh 6 (TCP), len 2, type 2, segleft 1, reserved
    "20010db800000000000000000000beef"                # home address
    "0050" "9c41" "000003e8" "000007d1"               # TCP: sport 80, dport 40001, seq 1000, ack 2001
    "50" "12" "2000" "cd04" "0000"                    # offset 5, flags SYN|ACK, window, csum, urgent
)  # fmt: skip

# HA -> CoA tunnel (41) carrying CN -> HoA echo reply.
TUNNEL = bytes.fromhex(
    "60000000" "0030" "29" "40"                       # outer IPv6: plen 48, nh 41 (IPv6)
    "20010db8000000000000000000000001"                # outer src (HA)
    "20010db8000100000000000000000010"                # outer dst (CoA)
    "60000000" "0008" "3a" "40"                       # inner IPv6: plen 8, nh 58 (ICMPv6)
    "20010db8000200000000000000000020"                # inner src (CN)
    "20010db800000000000000000000beef"                # inner dst (HoA)
    "81" "00" "5203" "1234" "0002"                    # echo reply, code 0, csum, id 0x1234, seq 2
)  # fmt: skip

# First fragment of a BU (checksum not verifiable: the message is incomplete).
FRAG_FIRST = bytes.fromhex(
    "60000000" "0038" "2c" "40"                       # IPv6: plen 56, nh 44 (Fragment)
    "20010db8000100000000000000000010" "20010db8000000000000000000000001"
    "87" "00" "0001" "0000abcd"                       # Fragment: nh 135, reserved, offset 0 + M, id
    "3b" "01" "05" "00" "0000"                        # MH: BU, hlen 1, csum (unverifiable)
    "004d" "d000" "0004"                              # seq 77, flags A H K, lifetime 4
    + "00" * 36                                       # rest of the first fragment
)  # fmt: skip


def _with(frame: bytes, at: int, new: bytes) -> bytes:
    return frame[:at] + new + frame[at + len(new) :]


def test_rh2_final_destination_in_tcp_checksum() -> None:
    pkt = dissect(101, TCP_RH2)
    ip = pkt.ipv6
    assert ip is not None and pkt.weirds == ()
    (rh,) = ip.extensions
    assert isinstance(rh, Routing) and (rh.routing_type, rh.segments_left, rh.home_address) == (2, 1, HOA)
    assert ip.routing_home_address == HOA and ip.effective_dst == HOA and ip.dst == COA
    assert ip.protocol == 6 and getattr(ip.payload, "checksum_ok", None) is True


def test_rh2_bad_length_and_segments_left() -> None:
    pkt = dissect(101, _with(TCP_RH2, 43, b"\x00"))  # Segments Left 0
    assert "rh2_bad_segments_left" in pkt.weird_names
    # With Segments Left 0 the destination is already final (RFC 8200 §8.1): the checksum then
    # uses the CoA and fails - the weird explains why.
    assert pkt.ipv6 is not None and pkt.ipv6.effective_dst == COA
    pkt = dissect(101, _with(TCP_RH2, 41, b"\x04"))  # Hdr Ext Len 4 (40 octets): not RFC 6275 §6.4
    assert "rh2_bad_length" in pkt.weird_names


def test_hao_option_and_padding_offsets() -> None:
    frame = bytes.fromhex(
        "60000000" "0018" "3c" "40" "20010db8000100000000000000000010" "20010db8000000000000000000000001"
        "3b" "02" "0102" "0000"                       # DestOpts: nh 59, len 2, PadN(2)
        "c9" "10" "20010db800000000000000000000beef"  # HAO
    )  # fmt: skip
    ip = dissect_ip(frame, 0)
    assert isinstance(ip, IPv6) and ip.protocol == 59 and ip.payload is None
    (d,) = ip.extensions
    assert isinstance(d, DestinationOptions)
    assert d.options == (PadN(length=2, offset=42), HomeAddressOption(home_address=HOA, offset=46))
    assert ip.home_address == HOA and ip.effective_src == HOA


def test_hao_bad_length() -> None:
    frame = bytes.fromhex(
        "60000000" "0018" "3c" "40" "20010db8000100000000000000000010" "20010db8000000000000000000000001"
        "3b" "02" "0102" "0000" "c9" "0e" + "00" * 14 + "0100"  # HAO with length 14, PadN(0)
    )  # fmt: skip
    pkt = dissect(101, frame)
    assert "hao_bad_length" in pkt.weird_names and pkt.ipv6 is not None and pkt.ipv6.home_address is None


def test_first_fragment_dissected_checksum_unknown() -> None:
    pkt = dissect(101, FRAG_FIRST)
    ip = pkt.ipv6
    assert ip is not None and isinstance(ip.fragment, Fragment)
    assert (ip.fragment.offset, ip.fragment.more, ip.fragment.identification) == (0, True, 0xABCD)
    bu = ip.payload
    assert isinstance(bu, BindingUpdate) and bu.sequence == 77 and bu.checksum_ok is None
    assert bu.flags.letters == "AHK"


def test_later_fragment_is_raw() -> None:
    frame = _with(FRAG_FIRST, 42, b"\x00\x30")  # offset 6 (48 octets), M = 0
    ip = dissect(101, frame).ipv6
    assert ip is not None and ip.fragment is not None and ip.fragment.offset == 48 and not ip.fragment.is_first
    assert ip.payload == Raw(protocol=135, length=48, offset=48)


def test_ah_skipped_by_its_length_and_esp_opaque() -> None:
    ah = bytes.fromhex("3b" "04" "0000" "00001000" "00000005" + "00" * 12)  # nh 59, len 4 (24 octets), SPI, seq, ICV
    frame = bytes.fromhex("60000000" "0018" "33" "40") + bytes(32) + ah
    ip = dissect_ip(frame, 0)
    assert isinstance(ip, IPv6) and ip.extensions == (
        AuthenticationHeader(spi=0x1000, sequence=5, next_header=59, offset=40, length=24),
    )
    esp = bytes.fromhex("00002000" "00000011") + bytes(8)  # SPI, sequence, opaque
    frame = bytes.fromhex("60000000" "0010" "32" "40") + bytes(32) + esp
    ip = dissect_ip(frame, 0)
    assert isinstance(ip, IPv6) and ip.extensions == (ESP(spi=0x2000, sequence=17, offset=40),)
    assert ip.payload == Raw(protocol=50, length=16, offset=40)


def test_tunnel_outer_and_inner() -> None:
    pkt = dissect(101, TUNNEL)
    assert pkt.weirds == () and pkt.tunnel_depth == 1
    assert pkt.ipv6 is not None and (pkt.ipv6.src, pkt.ipv6.dst) == (HA, COA)
    inner = pkt.innermost
    assert isinstance(inner, IPv6) and (inner.src, inner.dst) == (CN, HOA)
    assert isinstance(pkt.upper, EchoReply) and pkt.icmpv6 is pkt.upper and pkt.upper.checksum_ok
    assert [type(h).__name__ for h in pkt.ip_chain] == ["IPv6", "IPv6"]


def test_4in6_tunnel() -> None:
    inner4 = bytes.fromhex(
        "45" "00" "001c" "0001" "0000" "40" "01" "8ea1"  # IPv4: IHL 5, len 28, id 1, ttl 64, ICMP, csum
        "c000020a" "c6336401"                            # 192.0.2.10 -> 198.51.100.1
        "0800f7f400050006"                               # ICMP echo, csum, id 5, seq 6
    )  # fmt: skip
    frame = bytes.fromhex("60000000" "001c" "04" "40") + bytes(32) + inner4
    pkt = dissect(101, frame)
    inner = pkt.innermost
    assert isinstance(inner, IPv4) and inner.src == IPv4Address("192.0.2.10") and inner.header_checksum_ok
    assert pkt.tunnel_depth == 1 and pkt.weirds == ()


def test_tunnel_depth_is_bounded() -> None:
    hdr = bytes.fromhex("6000000000002940") + bytes(32)  # IPv6, nh 41, payload length filled below
    n = MAX_TUNNEL_DEPTH + 3
    frame = b""
    for i in range(n):
        plen = 40 * (n - 1 - i)
        frame += hdr[:4] + plen.to_bytes(2, "big") + hdr[6:]
    pkt = dissect(101, frame)
    assert "tunnel_too_deep" in pkt.weird_names
    assert pkt.tunnel_depth == MAX_TUNNEL_DEPTH


def test_trailing_ethernet_padding_is_ignored() -> None:
    pkt = dissect(101, TUNNEL + b"\x00" * 10)
    assert pkt.weirds == () and isinstance(pkt.upper, EchoReply) and pkt.upper.checksum_ok


def test_is_dad() -> None:
    ns = bytes.fromhex(
        "60000000" "0018" "3a" "ff" + "00" * 16 + "ff0200000000000000000001ff000010"  # :: -> solicited-node
        "87" "00" "4cce" "00000000" "20010db8000100000000000000000010"                # NS for the CoA
    )  # fmt: skip
    ip = dissect_ip(ns, 0)
    assert isinstance(ip, IPv6) and ip.is_dad
    assert dissect(101, ns).weirds == ()


def test_not_ip() -> None:
    assert dissect_ip(b"\x20" + bytes(39), 0) is None
    pkt = dissect(101, b"\x20" + bytes(39))
    assert pkt.ip is None and pkt.weirds


def test_zero_payload_length_uses_captured_length() -> None:
    """Captures taken before segmentation offload can show a payload length of 0."""
    pkt = dissect(101, TUNNEL[:4] + b"\x00\x00" + TUNNEL[6:])
    assert "ipv6_zero_payload_length" in pkt.weird_names
    assert isinstance(pkt.upper, EchoReply) and pkt.upper.checksum_ok


def test_packet_views_without_ip() -> None:
    arp = bytes.fromhex("ffffffffffff" "020000000010" "0806") + bytes(28)  # Ethernet, ARP
    pkt = dissect(1, arp)
    assert pkt.link is not None and pkt.ip is None
    assert (pkt.ipv6, pkt.innermost, pkt.upper, pkt.mobility, pkt.icmpv6, pkt.l2_event) == (None,) * 6
    assert pkt.tunnel_depth == 0 and pkt.ip_chain == [] and pkt.weirds == ()


def test_tunnelled_hoti_is_the_packets_mobility_header() -> None:
    hoti = bytes.fromhex(
        "60000000" "0038" "29" "40" "20010db8000100000000000000000010" "20010db8000000000000000000000001"
        "60000000" "0010" "87" "40" "20010db800000000000000000000beef" "20010db8000200000000000000000020"
        "3b" "01" "01" "00" "0000" "0000" "636f6f6b69653432"  # MH: HoTI, csum (unchecked here), cookie
    )  # fmt: skip
    pkt = dissect(101, hoti)
    assert pkt.tunnel_depth == 1 and pkt.mobility is not None and pkt.mobility.type_name == "HOTI"
    assert pkt.weird_names == ("mh_bad_checksum",)  # the literal leaves the checksum at 0
    assert pkt.ipv6 is not None and pkt.ipv6.src == COA and pkt.innermost is not None
    assert pkt.innermost.src == HOA  # type: ignore[comparison-overlap]
