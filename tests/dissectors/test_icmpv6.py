"""ICMPv6 echo and errors (the invoking packet dissected, Parameter Problem targets) and UDP/RTP/TCP."""

from ipaddress import IPv6Address

from dissectors import dissect
from dissectors.codes import TcpFlags
from dissectors.icmpv6 import EchoRequest, PacketTooBig, ParameterProblem
from dissectors.mobility import BindingUpdate
from dissectors.udp import TCP, UDP

# The article's BU (CoA -> HA, HAO, BU seq 54814 AH): the invoking packet of the errors below.
BU_HAO = bytes.fromhex(
    "60000000" "0028" "3c" "40" "20010db8000100000000000000000010" "20010db8000000000000000000000001"
    "87" "02" "0102" "0000" "c9" "10" "20010db800000000000000000000beef"  # DestOpts: PadN(2), HAO
    "3b" "01" "05" "00" "0de3" "d61e" "c000" "ffff" "0102" "0000"         # BU
)  # fmt: skip

# HA -> CoA Parameter Problem, code 2 (unrecognized option), pointer 46 = the HAO type octet:
# what a home agent without Mobile IPv6 answers (RFC 6275 §9.3.1, §11.3.6).
PARAM_PROBLEM_HAO = bytes.fromhex(
    "60000000" "0058" "3a" "40" "20010db8000000000000000000000001" "20010db8000100000000000000000010"
    "04" "02" "8508" "0000002e"                       # Parameter Problem, code 2, checksum, pointer 46
) + BU_HAO  # fmt: skip

ECHO = bytes.fromhex(
    "60000000" "0010" "3a" "40" "20010db800000000000000000000beef" "20010db8000200000000000000000020"
    "80" "00" "0000" "1234" "0001" "7878787878787878"  # echo request, checksum zero (wrong), id, seq, data
)  # fmt: skip

# CoA -> CN, HAO, UDP 40000 -> 53 with 13 octets: checksum over the HoA (scapy computed 0x2f22).
UDP_HAO = bytes.fromhex(
    "60000000" "002d" "3c" "40" "20010db8000100000000000000000010" "20010db8000200000000000000000020"
    "11" "02" "0102" "0000" "c9" "10" "20010db800000000000000000000beef"  # DestOpts: nh 17, HAO
    "9c40" "0035" "0015" "2f22" "71717171717171717171717171"              # sport, dport, len 21, csum, data
)  # fmt: skip

RTP = bytes.fromhex(
    "60000000" "0014" "11" "40" "20010db8000200000000000000000020" "20010db800000000000000000000beef"
    "138c" "138e" "0014" "0000"                       # UDP 5004 -> 5006, len 20, no checksum
    "80" "e0" "0102" "00000064" "11223344"            # RTP: V=2, M, PT 96, seq 258, ts 100, SSRC
)  # fmt: skip


def test_param_problem_pointing_at_hao_is_visible() -> None:
    pkt = dissect(101, PARAM_PROBLEM_HAO)
    pp = pkt.icmpv6
    assert isinstance(pp, ParameterProblem) and pp.checksum_ok is True and pkt.weirds == ()
    assert (pp.code, pp.pointer, pp.pointer_target) == (2, 46, "home_address_option")
    inv = pp.invoking
    assert inv is not None and inv.home_address == IPv6Address("2001:db8::beef")
    assert isinstance(inv.payload, BindingUpdate) and inv.payload.sequence == 54814
    assert pp.invoking_weirds == ()


def test_param_problem_pointing_at_the_mh_next_header() -> None:
    # Code 1 (unrecognized Next Header), pointer 40: the DestOpts Next Header octet naming 135.
    frame = PARAM_PROBLEM_HAO[:40] + bytes.fromhex("04" "01" "0000" "00000028") + PARAM_PROBLEM_HAO[48:]
    pp = dissect(101, frame).icmpv6
    assert isinstance(pp, ParameterProblem) and pp.pointer_target == "mobility_header"


def test_param_problem_pointer_other_targets() -> None:
    def target(ptr: int) -> str:
        frame = PARAM_PROBLEM_HAO[:44] + ptr.to_bytes(4, "big") + PARAM_PROBLEM_HAO[48:]
        pp = dissect(101, frame).icmpv6
        assert isinstance(pp, ParameterProblem)
        return pp.pointer_target

    assert target(7) == "ipv6_header"
    assert target(42) == "destination_options"  # the PadN
    assert target(66) == "mobility_header"  # inside the MH
    assert target(500) == "beyond_capture"


def test_packet_too_big_cut_invoking_packet() -> None:
    # The invoking BU cut 6 octets into its Mobility Header (a router truncates to the minimum MTU).
    frame = bytearray(PARAM_PROBLEM_HAO[:40] + bytes.fromhex("02" "00" "0000" "00000500") + BU_HAO[:70])
    frame[4:6] = (8 + 70).to_bytes(2, "big")
    pkt = dissect(101, bytes(frame))
    ptb = pkt.icmpv6
    assert isinstance(ptb, PacketTooBig) and ptb.mtu == 1280
    inv = ptb.invoking
    assert inv is not None and inv.home_address is not None  # HAO captured before the cut
    assert inv.payload is not None and inv.payload.mh_type == 5  # type: ignore[union-attr]
    assert "ipv6_truncated" in [w.name for w in ptb.invoking_weirds]
    assert "icmpv6_bad_checksum" in pkt.weird_names  # we zeroed the checksum; the invoking weirds stay apart


def test_echo_bad_checksum() -> None:
    pkt = dissect(101, ECHO)
    echo = pkt.icmpv6
    assert isinstance(echo, EchoRequest) and (echo.identifier, echo.sequence, echo.data_length) == (0x1234, 1, 8)
    assert echo.checksum_ok is False and pkt.weird_names == ("icmpv6_bad_checksum",)


def test_udp_checksum_with_hao() -> None:
    pkt = dissect(101, UDP_HAO)
    udp = pkt.upper
    assert isinstance(udp, UDP) and (udp.src_port, udp.dst_port, udp.length) == (40000, 53, 21)
    assert udp.checksum_ok is True and udp.rtp is None and pkt.weirds == ()


def test_rtp_recognised_and_zero_udp_checksum_flagged() -> None:
    pkt = dissect(101, RTP)
    udp = pkt.upper
    assert isinstance(udp, UDP) and udp.rtp is not None
    assert (udp.rtp.payload_type, udp.rtp.marker, udp.rtp.sequence, udp.rtp.timestamp, udp.rtp.ssrc) == (
        96, True, 258, 100, 0x11223344)  # fmt: skip
    assert udp.checksum_ok is False and pkt.weird_names == ("udp_zero_checksum",)


def test_tcp_flags_letters() -> None:
    tcp_rh2 = bytes.fromhex(
        "60000000" "002c" "2b" "40" "20010db8000200000000000000000020" "20010db8000100000000000000000010"
        "06" "02" "02" "01" "00000000" "20010db800000000000000000000beef"  # RH2
        "0050" "9c41" "000003e8" "000007d1" "50" "12" "2000" "cd04" "0000"  # TCP SYN|ACK
    )  # fmt: skip
    tcp = dissect(101, tcp_rh2).upper
    assert isinstance(tcp, TCP) and tcp.flags == TcpFlags.S | TcpFlags.A and tcp.flags.letters == "AS"
    assert (tcp.sequence, tcp.ack, tcp.checksum_ok) == (1000, 2001, True)
