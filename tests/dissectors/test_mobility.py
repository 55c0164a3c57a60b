"""Smoke test of the public entry points: a BU with a Home Address option dissects end to end."""

from ipaddress import IPv6Address

from dissectors import dissect, dissect_at, dissect_ip
from dissectors.codes import BuFlags, MhType
from dissectors.mobility import BindingUpdate

# Raw IPv6 (LINKTYPE_RAW = 101): CoA 2001:db8:1::10 -> HA 2001:db8::1, HAO 2001:db8::beef, BU.
BU_HAO = bytes.fromhex(
    "60000000" "0028" "3c" "40"                       # IPv6: version 6, plen 40, nh 60 (DestOpts), hlim 64
    "20010db8000100000000000000000010"                # src (CoA)
    "20010db8000000000000000000000001"                # dst (HA)
    "87" "02" "0102" "0000"                           # DestOpts: nh 135, len 2 (24 octets), PadN(2)
    "c9" "10" "20010db80000000000000000" "0000beef"   # HAO (201), len 16, home address
    "3b" "01" "05" "00" "0de3"                        # MH: proto 59, hlen 1 (16 octets), type 5 BU, csum
    "d61e" "c000" "ffff"                              # seq 54814, flags A|H, lifetime 65535 (x4 s)
    "0102" "0000"                                     # PadN(2)
)


def test_bu_with_hao_end_to_end() -> None:
    pkt = dissect(101, BU_HAO)
    assert pkt.weirds == ()
    mh = pkt.mobility
    assert isinstance(mh, BindingUpdate)
    assert mh.mh_type is MhType.BU
    assert mh.sequence == 54814
    assert mh.flags == BuFlags.A | BuFlags.H and mh.flags.letters == "AH"
    assert mh.lifetime_s == 262140
    assert mh.checksum_ok is True
    assert pkt.ipv6 is not None and pkt.ipv6.home_address == IPv6Address("2001:db8::beef")
    assert pkt.ipv6.effective_src == IPv6Address("2001:db8::beef")


def test_dissect_at_and_dissect_ip_agree_with_dissect() -> None:
    assert dissect_at(101, BU_HAO, 0).ip == dissect(101, BU_HAO).ip
    assert dissect_ip(BU_HAO, 0) == dissect(101, BU_HAO).ip
