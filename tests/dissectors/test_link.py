"""Link-layer unit tests: hex literals with a comment per field (STYLE §7)."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from dissectors.link import ETHERTYPE_IPV4, ETHERTYPE_IPV6, LinkType, dissect_link

IPV6_HDR = bytes.fromhex(
    "60000000"  # version 6, traffic class 0, flow label 0
    "0000"  # payload length 0
    "3b"  # next header 59 (none)
    "40"  # hop limit 64
    "fe800000000000000000000000000001"  # src fe80::1
    "ff020000000000000000000000000001"  # dst ff02::1
)


def test_ethernet_with_8021ad_and_8021q_tags() -> None:
    frame = bytes.fromhex(
        "333300000001"  # dst mac
        "00055df2db2b"  # src mac
        "88a8" "0005"  # 802.1ad S-tag, VLAN 5
        "8100" "2007"  # 802.1Q C-tag, PCP 1, VLAN 7
        "86dd"  # IPv6
    ) + IPV6_HDR
    link, weirds = dissect_link(LinkType.ETHERNET, frame)
    assert weirds == []
    assert link is not None
    assert link.kind == "ethernet"
    assert link.dst_mac == "33:33:00:00:00:01" and link.src_mac == "00:05:5d:f2:db:2b"
    assert link.vlan_ids == (5, 7)
    assert link.ethertype == ETHERTYPE_IPV6
    assert link.payload_offset == 22
    assert frame[link.payload_offset] >> 4 == 6


def test_ethernet_8023_llc_snap() -> None:
    frame = bytes.fromhex("ffffffffffff" "020000000001" "0030" "aaaa03000000" "86dd") + IPV6_HDR
    link, weirds = dissect_link(1, frame)
    assert link is not None and link.ethertype == ETHERTYPE_IPV6 and link.payload_offset == 22


def test_linux_sll() -> None:
    frame = bytes.fromhex(
        "0000"  # packet type: to us
        "0001"  # ARPHRD_ETHER
        "0006"  # address length 6
        "0001020304050000"  # address, padded to 8
        "86dd"  # protocol IPv6
    ) + IPV6_HDR
    link, weirds = dissect_link(LinkType.LINUX_SLL, frame)
    assert weirds == [] and link is not None
    assert (link.kind, link.src_mac, link.ethertype, link.payload_offset) == (
        "sll", "00:01:02:03:04:05", ETHERTYPE_IPV6, 16)


def test_linux_sll2() -> None:
    frame = bytes.fromhex(
        "86dd"  # protocol IPv6
        "0000"  # reserved
        "00000003"  # interface index 3
        "0001"  # ARPHRD_ETHER
        "04"  # packet type: outgoing
        "06"  # address length
        "0001020304050000"  # address
    ) + IPV6_HDR
    link, weirds = dissect_link(LinkType.LINUX_SLL2, frame)
    assert weirds == [] and link is not None
    assert (link.kind, link.src_mac, link.ethertype, link.payload_offset) == (
        "sll2", "00:01:02:03:04:05", ETHERTYPE_IPV6, 20)


def test_raw_ip_link_types() -> None:
    for lt in (101, 228, 229, 12, 14):
        link, weirds = dissect_link(lt, IPV6_HDR)
        assert link is not None and link.kind == "raw" and link.payload_offset == 0
        assert link.ethertype == ETHERTYPE_IPV6
    link, _ = dissect_link(101, bytes.fromhex("45000014"))
    assert link is not None and link.ethertype == ETHERTYPE_IPV4


def test_null_both_byte_orders_and_loop() -> None:
    for hdr in (struct.pack("<I", 30), struct.pack(">I", 24), struct.pack("<I", 28)):
        link, weirds = dissect_link(LinkType.NULL, hdr + IPV6_HDR)
        assert link is not None and link.ethertype == ETHERTYPE_IPV6 and link.payload_offset == 4
    link, weirds = dissect_link(LinkType.LOOP, struct.pack(">I", 24) + IPV6_HDR)
    assert link is not None and link.ethertype == ETHERTYPE_IPV6
    link, weirds = dissect_link(LinkType.NULL, struct.pack("<I", 99) + IPV6_HDR)
    assert link is not None and link.ethertype is None
    assert [w.name for w in weirds] == ["null_unknown_family"]


# Radiotap + 802.11 association request with SSID "mipnet" (built with scapy, fields annotated).
RADIOTAP_ASSOC_REQ = bytes.fromhex(
    "00"  # radiotap version 0
    "00"  # pad
    "0800"  # radiotap length 8 (LE)
    "00000000"  # present: nothing
    "0000"  # FC: type 0 (management), subtype 0 (association request), no flags
    "0000"  # duration
    "001122334455"  # A1 = DA (the AP)
    "66778899aabb"  # A2 = SA (the station)
    "001122334455"  # A3 = BSSID
    "0000"  # sequence control
    "0411"  # capability info
    "0a00"  # listen interval 10
    "00066d69706e6574"  # SSID element: id 0, length 6, "mipnet"
    "01028284"  # supported rates element
)


def test_radiotap_association_request() -> None:
    link, weirds = dissect_link(LinkType.IEEE802_11_RADIOTAP, RADIOTAP_ASSOC_REQ)
    assert weirds == [] and link is not None
    ev = link.l2_event
    assert ev is not None
    assert ev.subtype == "assoc_req"
    assert ev.ssid == "mipnet"
    assert ev.bssid == "00:11:22:33:44:55"
    assert ev.src_mac == "66:77:88:99:aa:bb"
    assert ev.status is None and ev.reason is None
    assert link.ethertype is None


def test_radiotap_with_fcs_deauth_reason() -> None:
    frame = bytes.fromhex(
        "00000900"  # version, pad, length 9
        "02000000"  # present: Flags
        "10"  # flags: FCS at end
        "c000"  # FC: management, subtype 12 (deauthentication)
        "0000"  # duration
        "66778899aabb" "001122334455" "001122334455"  # DA, SA, BSSID
        "1000"  # sequence control
        "0300"  # reason 3 (leaving)
        "deadbeef"  # FCS
    )
    link, weirds = dissect_link(127, frame)
    assert weirds == [] and link is not None and link.l2_event is not None
    assert (link.l2_event.subtype, link.l2_event.reason, link.l2_event.bssid) == (
        "deauth", 3, "00:11:22:33:44:55")


def test_assoc_response_status_and_auth() -> None:
    resp = bytes.fromhex("1000" "0000" "66778899aabb" "001122334455" "001122334455" "0000"
                         "1104"  # capability
                         "1100"  # status 17 (AP full)
                         "01c0")  # AID
    link, _ = dissect_link(105, resp)
    assert link is not None and link.l2_event is not None
    assert (link.l2_event.subtype, link.l2_event.status) == ("assoc_resp", 17)
    auth = bytes.fromhex("b000" "0000" "001122334455" "66778899aabb" "001122334455" "0000"
                         "0000"  # open system
                         "0200"  # transaction sequence 2
                         "0000")  # status 0
    link, _ = dissect_link(105, auth)
    assert link is not None and link.l2_event is not None
    assert (link.l2_event.subtype, link.l2_event.status) == ("auth", 0)


# 802.11 QoS data frame, To DS, carrying IPv6 over LLC/SNAP.
QOS_DATA_IPV6 = bytes.fromhex(
    "8801"  # FC: type 2 (data), subtype 8 (QoS data); flags: To DS
    "0000"  # duration
    "001122334455"  # A1 = BSSID
    "66778899aabb"  # A2 = SA
    "333300000001"  # A3 = DA
    "0000"  # sequence control
    "0000"  # QoS control
    "aaaa03000000"  # LLC/SNAP, OUI 0
    "86dd"  # ethertype IPv6
) + IPV6_HDR


def test_qos_data_frame_with_ipv6() -> None:
    link, weirds = dissect_link(LinkType.IEEE802_11, QOS_DATA_IPV6)
    assert weirds == [] and link is not None
    assert link.ethertype == ETHERTYPE_IPV6
    assert link.payload_offset == 34
    assert QOS_DATA_IPV6[link.payload_offset:] == IPV6_HDR
    assert (link.bssid, link.src_mac, link.dst_mac) == ("00:11:22:33:44:55", "66:77:88:99:aa:bb",
                                                        "33:33:00:00:00:01")


def test_from_ds_and_wds_address_layouts() -> None:
    from_ds = bytearray(QOS_DATA_IPV6)
    from_ds[1] = 0x02  # From DS: A1 = DA, A2 = BSSID, A3 = SA
    link, _ = dissect_link(105, bytes(from_ds))
    assert link is not None
    assert (link.dst_mac, link.bssid, link.src_mac) == ("00:11:22:33:44:55", "66:77:88:99:aa:bb",
                                                        "33:33:00:00:00:01")
    # WDS (To DS and From DS): a fourth address after sequence control, no BSSID.
    wds = QOS_DATA_IPV6[:24] + bytes.fromhex("020000000009") + QOS_DATA_IPV6[24:]
    wds = bytes([wds[0], 0x03]) + wds[2:]
    link, weirds = dissect_link(105, wds)
    assert weirds == [] and link is not None
    assert link.bssid is None and link.src_mac == "02:00:00:00:00:09"
    assert link.payload_offset == 40 and wds[40:] == IPV6_HDR


def test_protected_data_frame_is_weird() -> None:
    frame = bytes([0x88, 0x41]) + QOS_DATA_IPV6[2:]
    link, weirds = dissect_link(105, frame)
    assert link is not None and link.ethertype is None
    assert [w.name for w in weirds] == ["wlan_protected_frame"]


def test_truncated_and_unknown() -> None:
    link, weirds = dissect_link(1, bytes(10))
    assert link is None and weirds[0].name == "ethernet_truncated"
    link, weirds = dissect_link(127, RADIOTAP_ASSOC_REQ[:20])
    assert link is None and weirds[0].name == "wlan_truncated"
    link, weirds = dissect_link(9999, b"")
    assert link is None and weirds[0].name == "link_unsupported_linktype"


@settings(max_examples=300, deadline=None)
@given(lt=st.sampled_from([0, 1, 12, 14, 101, 105, 108, 113, 127, 228, 229, 276, 147]),
       data=st.binary(max_size=80))
def test_never_raises_on_arbitrary_bytes(lt: int, data: bytes) -> None:
    link, weirds = dissect_link(lt, data)
    if link is not None:
        assert 0 <= link.payload_offset <= len(data)


def test_never_raises_on_truncations() -> None:
    for frame, lt in ((RADIOTAP_ASSOC_REQ, 127), (QOS_DATA_IPV6, 105)):
        for i in range(len(frame)):
            dissect_link(lt, frame[:i])
