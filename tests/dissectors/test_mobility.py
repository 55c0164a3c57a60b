"""Mobility Header unit tests: hex literals with a comment per field (STYLE §7). Raw IPv6 frames,
LINKTYPE_RAW (101). Checksums in the literals were computed by scapy, not by us."""

from ipaddress import IPv4Address, IPv6Address

from dissectors import dissect, dissect_at, dissect_ip
from dissectors.codes import BaFlags, BaStatus, BeStatus, BuFlags, MhType, MobilityOptionType, enum_or_int
from dissectors.mobility import (
    BindingAcknowledgement,
    BindingError,
    BindingUpdate,
    HandoffIndicatorOption,
    HomeNetworkPrefix,
    HomeTest,
    IPv4HomeAddress,
    LinkLocalAddress,
    MnIdentifier,
    MobilityHeader,
    PadN,
    RestartCounter,
    Timestamp,
    UnknownMobilityOption,
)

HOA = IPv6Address("2001:db8::beef")

# CoA 2001:db8:1::10 -> HA 2001:db8::1, HAO 2001:db8::beef, BU (the article's BU).
BU_HAO = bytes.fromhex(
    "60000000" "0028" "3c" "40"                       # IPv6: version 6, plen 40, nh 60 (DestOpts), hlim 64
    "20010db8000100000000000000000010"                # src (CoA)
    "20010db8000000000000000000000001"                # dst (HA)
    "87" "02" "0102" "0000"                           # DestOpts: nh 135, len 2 (24 octets), PadN(2)
    "c9" "10" "20010db80000000000000000" "0000beef"   # HAO (201), len 16, home address
    "3b" "01" "05" "00" "0de3"                        # MH: proto 59, hlen 1 (16 octets), type 5 BU, csum
    "d61e" "c000" "ffff"                              # seq 54814, flags A|H, lifetime 65535 (x4 s)
    "0102" "0000"                                     # PadN(2)
)  # fmt: skip

# HA -> CoA with a type 2 routing header, BA status 0 (the article's BA).
BA_RH2 = bytes.fromhex(
    "60000000" "0028" "2b" "40"                       # IPv6: plen 40, nh 43 (Routing)
    "20010db8000000000000000000000001"                # src (HA)
    "20010db8000100000000000000000010"                # dst (CoA)
    "87" "02" "02" "01" "00000000"                    # RH: nh 135, len 2, type 2, segleft 1, reserved
    "20010db800000000000000000000beef"                # home address
    "3b" "01" "06" "00" "cc63"                        # MH: proto 59, hlen 1, type 6 BA, csum
    "00" "80" "d61e" "ffff"                           # status 0, flags K, seq 54814, lifetime 65535
    "0102" "0000"                                     # PadN(2)
)  # fmt: skip
# Built by scapy, whose MIP6MH_BA sets K by default.

BE = bytes.fromhex(
    "60000000" "0018" "87" "40"                       # IPv6: plen 24, nh 135 (MH)
    "20010db8000000000000000000000001"                # src (HA)
    "20010db8000100000000000000000010"                # dst (CoA)
    "3b" "02" "07" "00" "7431"                        # MH: proto 59, hlen 2 (24 octets), type 7 BE, csum
    "01" "00"                                         # status 1 (unknown binding for HAO), reserved
    "20010db800000000000000000000beef"                # home address
)  # fmt: skip

HOT = bytes.fromhex(
    "60000000" "0018" "87" "40"                       # IPv6: plen 24, nh 135
    "20010db8000200000000000000000020"                # src (CN)
    "20010db800000000000000000000beef"                # dst (HoA)
    "3b" "02" "03" "00" "e52b"                        # MH: hlen 2, type 3 HoT, csum
    "1234"                                            # home nonce index
    "0123456789abcdef"                                # home init cookie
    "1122334455667788"                                # home keygen token
)  # fmt: skip

# MAG -> LMA Proxy Binding Update (RFC 5213) with PMIPv6 options.
PBU = bytes.fromhex(
    "60000000" "0068" "87" "40"                       # IPv6: plen 104, nh 135
    "20010db8000100000000000000000001"                # src (MAG)
    "20010db800ff00000000000000000001"                # dst (LMA)
    "3b" "0c" "05" "00" "5377"                        # MH: hlen 12 (104 octets), type 5 BU, csum
    "0200" "8200" "0096"                              # seq 512, flags A|P, lifetime 150 (600 s)
    "08" "11" "01" "6d6e3740706d69702e6578616d706c65" # MN-ID: len 17, subtype 1 (NAI), "mn7@pmip.example"
    "16" "12" "00" "40"                               # HNP: len 18, reserved, prefix length 64
    "20010db8000700000000000000000000"                # prefix 2001:db8:7::
    "17" "02" "00" "01"                               # Handoff Indicator: len 2, reserved, HI 1
    "18" "02" "00" "04"                               # Access Technology Type: len 2, reserved, ATT 4
    "19" "08" "0000" "020000000010"                   # MN Link-layer Identifier: len 8, reserved, id
    "1a" "10" "fe800000000000000000000000000010"      # Link-local Address: len 16
    "1b" "08" "e875470080000000"                      # Timestamp: len 8, NTP 64-bit
    "01" "05" "0000000000"                            # PadN(5)
)  # fmt: skip

# BU with Header Len 0: 8 octets, shorter than a BU's 12 (RFC 6275 §9.2).
BU_TOO_SHORT = bytes.fromhex(
    "60000000" "0020" "3c" "40"
    "20010db8000100000000000000000010" "20010db8000000000000000000000001"
    "87020102" "0000" "c910" "20010db800000000000000000000beef"  # DestOpts with HAO
    "3b" "00" "05" "00" "a50c"                        # MH: hlen 0 (8 octets), type 5 BU, csum
    "0001"                                            # only the sequence fits
)  # fmt: skip


def _with(frame: bytes, at: int, new: bytes) -> bytes:
    return frame[:at] + new + frame[at + len(new) :]


def test_bu_with_hao_end_to_end() -> None:
    pkt = dissect(101, BU_HAO)
    assert pkt.weirds == ()
    mh = pkt.mobility
    assert isinstance(mh, BindingUpdate)
    assert mh.mh_type is MhType.BU and mh.type_name == "BU"
    assert (mh.sequence, mh.lifetime_s, mh.lifetime_units) == (54814, 262140, 65535)
    assert mh.flags == BuFlags.A | BuFlags.H and mh.flags.letters == "AH"
    assert mh.checksum == 0x0DE3 and mh.checksum_ok is True
    assert mh.options == (PadN(length=2, offset=76),)
    ip = pkt.ipv6
    assert ip is not None and ip.home_address == HOA and ip.effective_src == HOA
    assert ip.effective_dst == IPv6Address("2001:db8::1")


def test_dissect_at_and_dissect_ip_agree_with_dissect() -> None:
    assert dissect_at(101, BU_HAO, 0).ip == dissect(101, BU_HAO).ip
    assert dissect_ip(BU_HAO, 0) == dissect(101, BU_HAO).ip


def test_ba_with_rh2_uses_home_address_in_checksum() -> None:
    pkt = dissect(101, BA_RH2)
    ba = pkt.mobility
    assert isinstance(ba, BindingAcknowledgement)
    assert ba.status is BaStatus.ACCEPTED and ba.status_name == "ACCEPTED" and ba.accepted
    assert ba.flags == BaFlags.K and ba.flags.letters == "K"
    assert (ba.sequence, ba.lifetime_s) == (54814, 262140)
    assert ba.checksum_ok is True, pkt.weirds
    assert pkt.ipv6 is not None and pkt.ipv6.routing_home_address == HOA and pkt.ipv6.effective_dst == HOA


def test_ba_status_135_named_and_unknown_status_kept_as_int() -> None:
    frame = _with(BA_RH2, 70, bytes.fromhex("87"))  # status 135 (checksum now wrong: a weird)
    ba = dissect(101, frame).mobility
    assert isinstance(ba, BindingAcknowledgement)
    assert ba.status is BaStatus.SEQUENCE_OUT_OF_WINDOW and not ba.accepted
    frame = _with(BA_RH2, 70, bytes.fromhex("7f"))  # 127: not in the registry
    ba = dissect(101, frame).mobility
    assert isinstance(ba, BindingAcknowledgement)
    assert ba.status == 127 and type(ba.status) is int and ba.status_name == "127"


def test_be() -> None:
    be = dissect(101, BE).mobility
    assert isinstance(be, BindingError)
    assert be.status is BeStatus.UNKNOWN_BINDING_FOR_HOME_ADDRESS_DESTINATION_OPTION
    assert be.home_address == HOA and be.checksum_ok is True


def test_hot() -> None:
    hot = dissect(101, HOT).mobility
    assert isinstance(hot, HomeTest)
    assert (hot.nonce_index, hot.cookie, hot.token) == (0x1234, 0x0123456789ABCDEF, 0x1122334455667788)
    assert hot.checksum_ok is True


def test_pmipv6_options() -> None:
    pkt = dissect(101, PBU)
    assert pkt.weirds == ()
    bu = pkt.mobility
    assert isinstance(bu, BindingUpdate)
    assert bu.flags.letters == "AP" and bu.lifetime_s == 600 and bu.checksum_ok
    mnid, hnp, hi, att, lli, lla, ts, pad = bu.options
    assert isinstance(mnid, MnIdentifier) and mnid.subtype == 1 and mnid.text == "mn7@pmip.example"
    assert isinstance(hnp, HomeNetworkPrefix) and (hnp.prefix_length, str(hnp.prefix)) == (64, "2001:db8:7::")
    assert isinstance(hi, HandoffIndicatorOption) and hi.indicator == 1
    assert att.access_technology_type == 4  # type: ignore[union-attr]
    assert lli.identifier == bytes.fromhex("020000000010")  # type: ignore[union-attr]
    assert isinstance(lla, LinkLocalAddress) and str(lla.address) == "fe80::10"
    assert isinstance(ts, Timestamp) and ts.timestamp >> 32 == 0xE8754700
    assert ts.unix_ns == (0xE8754700 - 2208988800) * 1_000_000_000 + 500_000_000
    assert isinstance(pad, PadN) and pad.length == 5


def test_bad_checksum_is_a_weird_and_record_kept() -> None:
    pkt = dissect(101, _with(BU_HAO, 68, b"\x00\x00"))
    assert isinstance(pkt.mobility, BindingUpdate) and pkt.mobility.checksum_ok is False
    assert pkt.weird_names == ("mh_bad_checksum",)


def test_checksum_needs_the_hao_home_address() -> None:
    """The pseudo-header source is the HoA (RFC 6275 §6.3): with the HAO's type changed to an
    unknown option, the same MH bytes fail, because the CoA becomes the pseudo-header source."""
    pkt = dissect(101, _with(BU_HAO, 46, b"\x1e"))  # option type 0x1e (skip-if-unknown), no HAO
    assert pkt.ipv6 is not None and pkt.ipv6.home_address is None
    assert pkt.mobility is not None and pkt.mobility.checksum_ok is False


def test_payload_proto_not_59() -> None:
    pkt = dissect(101, _with(BU_HAO, 64, b"\x06"))
    assert "mh_bad_payload_proto" in pkt.weird_names
    assert isinstance(pkt.mobility, BindingUpdate)


def test_header_len_below_type_minimum() -> None:
    pkt = dissect(101, BU_TOO_SHORT)
    assert "mh_too_short" in pkt.weird_names
    mh = pkt.mobility
    assert type(mh) is MobilityHeader and mh.mh_type is MhType.BU and mh.checksum_ok is True


def test_header_len_beyond_payload() -> None:
    pkt = dissect(101, _with(BU_HAO, 65, b"\x05"))  # hlen 5 = 48 octets, only 16 in the packet
    assert "mh_bad_length" in pkt.weird_names
    assert isinstance(pkt.mobility, BindingUpdate) and pkt.mobility.checksum_ok is None


def test_option_overrun() -> None:
    pkt = dissect(101, _with(BU_HAO, 76, b"\x01\x05"))  # PadN claiming 5 octets, 2 left
    assert "mh_option_overrun" in pkt.weird_names


def test_snaplen_truncated_bu_keeps_fixed_fields() -> None:
    pkt = dissect(101, BU_HAO[:76])
    bu = pkt.mobility
    assert isinstance(bu, BindingUpdate) and bu.sequence == 54814 and bu.checksum_ok is None
    assert "ipv6_truncated" in pkt.weird_names and "mh_truncated" in pkt.weird_names


def test_restart_counter_has_no_reserved_word() -> None:
    """Regression: we first read a reserved 16-bit word before the counter; RFC 5847 §5.2 (and
    tshark) put the 32-bit counter right after Length (= 4)."""
    # Heartbeat: MH header (hlen 2), U flag, sequence 123456, Restart Counter option, PadN(4).
    body = bytes.fromhex("3b02" "0d00" "0000" "0002" "0001e240" "1c04" "0000004d" "0104" "00000000")
    frame = bytes.fromhex("60000000" "0018" "87" "40") + bytes(32) + body
    hb = dissect(101, frame).mobility
    assert hb is not None
    (rc, *_rest) = hb.options
    assert isinstance(rc, RestartCounter) and rc.counter == 77


def test_binding_revocation_flags_are_p_v_g() -> None:
    """Regression: RFC 5846 §6.1.1 orders the flags P, V, G (we had P, G, V; tshark disagreed)."""
    # BRI: MH header, B.R. Type 1, trigger 2, sequence 77, flags V only, 4 x Pad1.
    body = bytes.fromhex("3b01" "1000" "0000" "01" "02" "004d" "4000" "00000000")
    frame = bytes.fromhex("60000000" "0010" "87" "40") + bytes(32) + body
    bri = dissect(101, frame).mobility
    assert bri is not None
    assert (bri.p_flag, bri.v_flag, bri.g_flag) == (False, True, False)  # type: ignore[attr-defined]


def test_dsmipv6_ipv4_home_address() -> None:
    # BU (hlen 2), IPv4 Home Address option: plen 24 << 2 | P, reserved, 192.0.2.10; PadN(2).
    body = bytes.fromhex("3b02" "0500" "0000" "002a" "c000" "0064" "1d06" "6200" "c000020a" "01020000")
    frame = bytes.fromhex("60000000" "0018" "87" "40") + bytes(32) + body
    bu = dissect(101, frame).mobility
    assert bu is not None
    hoa4, _pad = bu.options
    assert isinstance(hoa4, IPv4HomeAddress)
    assert (hoa4.prefix_length, hoa4.p_flag, hoa4.address) == (24, True, IPv4Address("192.0.2.10"))


def test_unregistered_option_type_kept_with_a_weird() -> None:
    body = bytes.fromhex("3b01" "0500" "0000" "0001" "8000" "0001" "c802" "abcd")  # option 200
    frame = bytes.fromhex("60000000" "0010" "87" "40") + bytes(32) + body
    pkt = dissect(101, frame)
    assert pkt.mobility is not None
    (opt,) = pkt.mobility.options
    assert opt == UnknownMobilityOption(option_type=200, data=b"\xab\xcd", offset=52)
    assert "mh_option_unknown" in pkt.weird_names


def test_codes() -> None:
    assert [m.value for m in MhType][:19] == list(range(19))
    assert BuFlags.A == 0x8000 and BuFlags.B == 0x0040
    assert BuFlags(0xFFC0).letters == "AHLKMRPFTB"
    assert BaFlags(0xF8).letters == "KRPTB"
    assert enum_or_int(MobilityOptionType, 22) is MobilityOptionType.HOME_NETWORK_PREFIX
    assert enum_or_int(MobilityOptionType, 250) == 250
    assert BaStatus.NOT_HOME_AGENT == 133 and BaStatus.SEQUENCE_OUT_OF_WINDOW == 135


def test_reserved_flag_bits_kept_out_of_flags_with_a_weird() -> None:
    pkt = dissect(101, _with(BU_HAO, 72, bytes.fromhex("c001")))  # A H + a reserved bit (checksum now off)
    bu = pkt.mobility
    assert isinstance(bu, BindingUpdate) and bu.flags.letters == "AH"
    assert "mh_reserved_bits_set" in pkt.weird_names
