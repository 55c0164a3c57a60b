"""Neighbor Discovery and Mobile IPv6 ICMPv6 unit tests: hex literals with a comment per field."""

from ipaddress import IPv6Address

from dissectors import dissect
from dissectors.codes import NaFlags, PrefixFlags, RaFlags, RaPreference
from dissectors.nd import (
    DNSSL,
    RDNSS,
    AdvertisementInterval,
    HomeAgentDiscoveryReply,
    HomeAgentInformation,
    MobilePrefixAdvertisement,
    MTUOption,
    NeighborAdvertisement,
    PrefixInformation,
    RouteInformation,
    RouterAdvertisement,
    RouterSolicitation,
    RtSolPr,
    SourceLinkLayerAddress,
    TargetLinkLayerAddress,
    UnknownNDOption,
)

# radvd-like RA with every Mobile IPv6 knob (checksum by scapy).
RA = bytes.fromhex(
    "60000000" "00b8" "3a" "ff"                       # IPv6: plen 184, ICMPv6, hop limit 255
    "fe800000000000000000000000000001"                # src fe80::1
    "ff020000000000000000000000000001"                # dst ff02::1
    "86" "00" "7808"                                  # RA, code 0, checksum
    "40" "ec" "0708"                                  # cur hop limit 64, flags M O H Prf=01 (high) P, lifetime 1800
    "00007530" "000003e8"                             # reachable 30000 ms, retrans 1000 ms
    "01" "01" "020000000001"                          # SLLA, len 1, 02:00:00:00:00:01
    "05" "01" "0000" "000005dc"                       # MTU, len 1, reserved, 1500
    "03" "04" "40" "e0" "00015180" "00003840"         # PIO, len 4, /64, flags L A R, valid 86400, preferred 14400
    "00000000" "20010db8000100000000000000000001"     # reserved, prefix (router address, R flag)
    "07" "01" "0000" "00000046"                       # Advertisement Interval, len 1, reserved, 70 ms
    "08" "01" "0000" "000a" "0708"                    # HA Information, len 1, reserved, preference 10, lifetime 1800
    "19" "05" "0000" "00000258"                       # RDNSS, len 5, reserved, lifetime 600
    "20010db8000000000000000000000053" "20010db8000000000000000000000054"
    "1f" "05" "0000" "00000258"                       # DNSSL, len 5, reserved, lifetime 600
    "076578616d706c65036f726700"                      # example.org
    "036c6162076578616d706c65036f726700" "0000"       # lab.example.org, padding
    "18" "03" "30" "18" "00000384"                    # Route Information, len 3, /48, Prf 11 (low), 900 s
    "20010db8000500000000000000000000"                # prefix
)  # fmt: skip

NA = bytes.fromhex(
    "60000000" "0020" "3a" "ff" "fe800000000000000000000000000001" "fe80000000000000020000fffe000010"
    "88" "00" "970d"                                  # NA, code 0, checksum
    "e0000000"                                        # flags R S O, reserved
    "fe800000000000000000000000000001"                # target
    "02" "01" "020000000001"                          # TLLA
)  # fmt: skip

HAAD_REPLY = bytes.fromhex(
    "60000000" "0028" "3a" "40" "20010db8000000000000000000000001" "20010db8000100000000000000000010"
    "91" "00" "0000"                                  # HAAD Reply (145), code 0, checksum (zeroed: see test)
    "4242" "0000"                                     # identifier, reserved
    "20010db8000000000000000000000001" "20010db8000000000000000000000002"  # home agent addresses
)  # fmt: skip


def test_ra_flags_and_every_option() -> None:
    pkt = dissect(101, RA)
    assert pkt.weirds == ()
    ra = pkt.icmpv6
    assert isinstance(ra, RouterAdvertisement) and ra.checksum_ok is True
    assert ra.flags.letters == "MOHP" and RaFlags.H in ra.flags
    assert ra.preference is RaPreference.HIGH
    assert (ra.cur_hop_limit, ra.router_lifetime_s, ra.reachable_time_ms, ra.retrans_timer_ms) == (64, 1800, 30000, 1000)
    slla, mtu, pio, advint, hai, rdnss, dnssl, rio = ra.options
    assert slla == SourceLinkLayerAddress(mac="02:00:00:00:00:01", offset=56)
    assert isinstance(mtu, MTUOption) and mtu.mtu == 1500
    assert isinstance(pio, PrefixInformation)
    assert pio.flags == PrefixFlags.L | PrefixFlags.A | PrefixFlags.R and pio.flags.letters == "LAR"
    assert (pio.prefix_length, pio.valid_lifetime_s, pio.preferred_lifetime_s) == (64, 86400, 14400)
    assert pio.prefix == IPv6Address("2001:db8:1::1")
    assert isinstance(advint, AdvertisementInterval) and advint.interval_ms == 70
    assert isinstance(hai, HomeAgentInformation) and (hai.preference, hai.lifetime_s) == (10, 1800)
    assert isinstance(rdnss, RDNSS) and [str(a) for a in rdnss.servers] == ["2001:db8::53", "2001:db8::54"]
    assert isinstance(dnssl, DNSSL) and dnssl.domains == ("example.org", "lab.example.org")
    assert isinstance(rio, RouteInformation) and rio.preference is RaPreference.LOW and rio.prefix_length == 48


def test_ra_bad_checksum() -> None:
    frame = RA[:42] + b"\x00\x00" + RA[44:]
    pkt = dissect(101, frame)
    assert pkt.weird_names == ("icmpv6_bad_checksum",)
    assert isinstance(pkt.icmpv6, RouterAdvertisement) and pkt.icmpv6.checksum_ok is False


def test_na_flags() -> None:
    na = dissect(101, NA).icmpv6
    assert isinstance(na, NeighborAdvertisement) and na.checksum_ok
    assert na.flags == NaFlags.R | NaFlags.S | NaFlags.O and na.flags.letters == "RSO"
    assert na.options == (TargetLinkLayerAddress(mac="02:00:00:00:00:01", offset=64),)


def test_zero_length_option_invalidates_and_is_kept() -> None:
    rs = bytes.fromhex(
        "60000000" "0010" "3a" "ff" "fe800000000000000000000000000010" "ff020000000000000000000000000002"
        "85" "00" "0000" "00000000"                   # RS, checksum (not checked here), reserved
        "01" "00" "000000000000"                      # SLLA with Length 0 (RFC 4861 §4.6: invalid)
    )  # fmt: skip
    pkt = dissect(101, rs)
    assert "nd_option_zero_length" in pkt.weird_names
    assert isinstance(pkt.icmpv6, RouterSolicitation)
    assert pkt.icmpv6.options == (UnknownNDOption(option_type=1, data=b"", offset=48),)


def test_option_overrun() -> None:
    frame = RA[:-24] + bytes.fromhex("18" "04") + RA[-22:]  # Route Information claiming 32 octets
    assert "nd_option_overrun" in dissect(101, frame).weird_names


def test_haad_reply_addresses() -> None:
    pkt = dissect(101, HAAD_REPLY)
    rep = pkt.icmpv6
    assert isinstance(rep, HomeAgentDiscoveryReply) and rep.identifier == 0x4242
    assert [str(a) for a in rep.addresses] == ["2001:db8::1", "2001:db8::2"]
    assert pkt.weird_names == ("icmpv6_bad_checksum",) and rep.checksum_ok is False


def test_mpa_flags_and_fmipv6() -> None:
    mpa = bytes.fromhex(
        "60000000" "0028" "3a" "40" + "00" * 32 + "93" "00" "0000"  # MPA (147), checksum not checked
        "0007" "8000"                                 # identifier 7, flags M
        "03" "04" "40" "00" "00000e10" "00000708" "00000000" "20010db8000000000000000000000000"
    )  # fmt: skip
    m = dissect(101, mpa).icmpv6
    assert isinstance(m, MobilePrefixAdvertisement) and m.flags.letters == "M" and m.identifier == 7
    assert isinstance(m.options[0], PrefixInformation) and m.options[0].valid_lifetime_s == 3600
    rtsolpr = bytes.fromhex(
        "60000000" "0010" "3a" "ff" + "00" * 32 + "9a" "00" "0000"  # FMIPv6 (154)
        "02" "00" "0063"                              # subtype 2 (RtSolPr), reserved, identifier 99
        "01" "01" "020000000010"                      # SLLA
    )  # fmt: skip
    r = dissect(101, rtsolpr).icmpv6
    assert isinstance(r, RtSolPr) and r.identifier == 99 and r.subtype == 2 and r.type_name == "FMIPV6"


def test_forwarded_or_off_link_ra_is_a_weird() -> None:
    """RFC 4861 §6.1.2: hop limit 255 and a link-local source, else receivers drop the RA."""
    frame = RA[:7] + b"\x40" + bytes.fromhex("20010db8000000000000000000000001") + RA[24:]
    pkt = dissect(101, frame)
    assert {"nd_bad_hop_limit", "ra_source_not_link_local"} <= set(pkt.weird_names)
    assert isinstance(pkt.icmpv6, RouterAdvertisement)  # kept, with the weirds
