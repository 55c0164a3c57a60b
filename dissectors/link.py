"""Link layers: where the IP packet starts in a frame, and 802.11 management frames as handover events.

Covers the pcap LINKTYPE_* values a Mobile IPv6 capture comes in (tcpdump.org/linktypes.html):
Ethernet II with IEEE 802.1Q / 802.1ad tags and 802.3 LLC/SNAP, Linux cooked SLL (113) and SLL2 (276,
`tcpdump -i any`), raw IP (101, 228, 229 and the OS-specific 12/14), BSD loopback/NULL (0, host byte
order) and OpenBSD LOOP (108, network byte order), plain IEEE 802.11 (105) and 802.11 behind a radiotap
header (127). On 802.11, data frames carrying IPv6 over LLC/SNAP (RFC 1042) are located, and the
management frames that bracket a handover (IEEE 802.11-2020 §9.3.3: association, reassociation,
authentication, deauthentication, disassociation) become an `L2Event`, because on a monitor-mode capture
they mark the true start of a handover (RFC 6275 §11.5.1: movement detection starts from the link).

Standard library only; never raises (STYLE §4).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from dissectors.weirds import Truncated, Weird

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
# IEEE 802.1Q C-tag, 802.1ad S-tag, and the pre-standard 0x9100 QinQ tag some switches still send.
_VLAN_TPIDS = frozenset((0x8100, 0x88A8, 0x9100))
_MAX_VLAN_TAGS = 8


class LinkType(IntEnum):
    """pcap LINKTYPE_* values understood here (tcpdump.org/linktypes.html)."""

    NULL = 0
    ETHERNET = 1
    RAW_OPENBSD = 12  # DLT_RAW on most BSDs/Linux writes 12 or 14 in some libpcap versions
    RAW_BSDOS = 14
    RAW = 101
    IEEE802_11 = 105
    LOOP = 108
    LINUX_SLL = 113
    IEEE802_11_RADIOTAP = 127
    IPV4 = 228
    IPV6 = 229
    LINUX_SLL2 = 276


class Wlan80211Type(IntEnum):
    """The 2-bit Type field of the 802.11 Frame Control (IEEE 802.11-2020 §9.2.4.1.3)."""

    MANAGEMENT = 0
    CONTROL = 1
    DATA = 2
    EXTENSION = 3


class MgmtSubtype(IntEnum):
    """Management frame subtypes that matter for handovers (IEEE 802.11-2020 Table 9-1)."""

    ASSOC_REQ = 0
    ASSOC_RESP = 1
    REASSOC_REQ = 2
    REASSOC_RESP = 3
    PROBE_REQ = 4
    PROBE_RESP = 5
    BEACON = 8
    DISASSOC = 10
    AUTH = 11
    DEAUTH = 12
    ACTION = 13


_EVENT_NAMES: dict[int, str] = {
    MgmtSubtype.ASSOC_REQ: "assoc_req",
    MgmtSubtype.ASSOC_RESP: "assoc_resp",
    MgmtSubtype.REASSOC_REQ: "reassoc_req",
    MgmtSubtype.REASSOC_RESP: "reassoc_resp",
    MgmtSubtype.AUTH: "auth",
    MgmtSubtype.DEAUTH: "deauth",
    MgmtSubtype.DISASSOC: "disassoc",
}

# Fixed fields before the tagged parameters, per management subtype (IEEE 802.11-2020 §9.3.3).
_FIXED_LEN: dict[int, int] = {
    MgmtSubtype.ASSOC_REQ: 4,  # capability, listen interval
    MgmtSubtype.ASSOC_RESP: 6,  # capability, status, AID
    MgmtSubtype.REASSOC_REQ: 10,  # capability, listen interval, current AP address
    MgmtSubtype.REASSOC_RESP: 6,
    MgmtSubtype.AUTH: 6,  # algorithm, transaction sequence, status
    MgmtSubtype.DEAUTH: 2,  # reason
    MgmtSubtype.DISASSOC: 2,  # reason
}

# Address family values a NULL/LOOP header uses for IPv6: 24 (NetBSD/OpenBSD), 28 (FreeBSD),
# 30 (macOS/Darwin), 10 (Linux); IPv4 is 2 everywhere.
_AF_IPV6 = frozenset((24, 28, 30, 10))
_AF_IPV4 = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class L2Event:
    """An 802.11 management frame that brackets a handover. `status` is set on association /
    reassociation responses and authentication; `reason` on deauthentication / disassociation."""

    subtype: str
    bssid: str | None
    ssid: str | None
    src_mac: str | None
    dst_mac: str | None
    status: int | None = None
    reason: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkLayer:
    """The link header of one frame. `payload_offset` is where the network-layer packet starts
    (`len(data)` when there is none); `ethertype` names that packet (None when not known).
    `bssid` is filled for 802.11 frames when the address layout defines one."""

    kind: str
    src_mac: str | None
    dst_mac: str | None
    vlan_ids: tuple[int, ...]
    ethertype: int | None
    payload_offset: int
    l2_event: L2Event | None = None
    bssid: str | None = None


_ETH_CACHE: dict[bytes, LinkLayer] = {}


def mac_str(b: bytes) -> str:
    """`aa:bb:cc:dd:ee:ff` (lower case, as tshark prints it)."""
    return b.hex(":")


def _need(data: bytes, layer: str, offset: int, n: int) -> None:
    if offset + n > len(data):
        raise Truncated(layer, offset, n, max(0, len(data) - offset))


def _ip_ethertype(data: bytes, offset: int) -> int | None:
    """The ethertype a raw-IP payload implies, from its version nibble."""
    if offset >= len(data):
        return None
    version = data[offset] >> 4
    if version == 6:
        return ETHERTYPE_IPV6
    if version == 4:
        return ETHERTYPE_IPV4
    return None


def _ethernet(data: bytes, weirds: list[Weird]) -> LinkLayer:
    _need(data, "ethernet", 0, 14)
    ethertype = data[12] << 8 | data[13]
    if ethertype == ETHERTYPE_IPV6 or ethertype == ETHERTYPE_IPV4:
        # The common case, kept short: this runs for every packet `show` and `report` dissect. A
        # capture holds few MAC pairs, and the record is immutable, so equal headers share one.
        key = data[:14]
        link = _ETH_CACHE.get(key)
        if link is None:
            if len(_ETH_CACHE) >= 4096:
                _ETH_CACHE.clear()
            link = _ETH_CACHE[key] = LinkLayer(
                kind="ethernet", src_mac=data[6:12].hex(":"), dst_mac=data[0:6].hex(":"), vlan_ids=(),
                ethertype=ethertype, payload_offset=14)
        return link
    offset = 12
    vlans: list[int] = []
    # 802.1Q / 802.1ad: a 2-byte TPID then a TCI whose low 12 bits are the VLAN ID (IEEE 802.1Q §9.6).
    while ethertype in _VLAN_TPIDS:
        if len(vlans) >= _MAX_VLAN_TAGS:
            weirds.append(Weird(name="vlan_too_many_tags", detail=f"more than {_MAX_VLAN_TAGS} tags",
                                layer="ethernet", offset=offset))
            break
        _need(data, "vlan", offset + 2, 4)
        tci, ethertype = struct.unpack_from("!HH", data, offset + 2)
        vlans.append(tci & 0x0FFF)
        offset += 4
    offset += 2
    found: int | None = ethertype
    if ethertype <= 1500:
        # IEEE 802.3 length field: an LLC header follows; with SNAP (RFC 1042) it carries an ethertype.
        found = _llc_snap(data, offset)
        if found is not None:
            offset += 8
    return LinkLayer(kind="ethernet", src_mac=mac_str(data[6:12]), dst_mac=mac_str(data[0:6]),
                     vlan_ids=tuple(vlans), ethertype=found, payload_offset=offset)


def _llc_snap(data: bytes, offset: int) -> int | None:
    """The ethertype of an RFC 1042 LLC/SNAP header (AA AA 03 00 00 00 type) at offset, or None."""
    if data[offset:offset + 6] in (b"\xaa\xaa\x03\x00\x00\x00", b"\xaa\xaa\x03\x00\x00\xf8"):
        _need(data, "llc", offset, 8)
        return int.from_bytes(data[offset + 6:offset + 8], "big")
    return None


def _sll(data: bytes) -> LinkLayer:
    # Linux cooked v1: packet type, ARPHRD, address length, 8-byte address, protocol (16 bytes).
    _need(data, "sll", 0, 16)
    _pkttype, _hatype, alen = struct.unpack_from("!HHH", data, 0)
    (protocol,) = struct.unpack_from("!H", data, 14)
    src = mac_str(data[6:12]) if alen == 6 else None
    return LinkLayer(kind="sll", src_mac=src, dst_mac=None, vlan_ids=(), ethertype=protocol,
                     payload_offset=16)


def _sll2(data: bytes) -> LinkLayer:
    # Linux cooked v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, 8-byte
    # address (20 bytes).
    _need(data, "sll2", 0, 20)
    (protocol,) = struct.unpack_from("!H", data, 0)
    alen = data[11]
    src = mac_str(data[12:18]) if alen == 6 else None
    return LinkLayer(kind="sll2", src_mac=src, dst_mac=None, vlan_ids=(), ethertype=protocol,
                     payload_offset=20)


def _null(data: bytes, big_endian: bool, weirds: list[Weird]) -> LinkLayer:
    _need(data, "null", 0, 4)
    if big_endian:
        (family,) = struct.unpack_from("!I", data, 0)
    else:
        # LINKTYPE_NULL is in the writer's host byte order; the family is always < 256, so whichever
        # order gives a small number is the right one.
        (family,) = struct.unpack_from("<I", data, 0)
        if family > 0xFFFF:
            (family,) = struct.unpack_from(">I", data, 0)
    if family in _AF_IPV6:
        ethertype: int | None = ETHERTYPE_IPV6
    elif family == _AF_IPV4:
        ethertype = ETHERTYPE_IPV4
    else:
        ethertype = None
        weirds.append(Weird(name="null_unknown_family", detail=f"address family {family}", layer="null",
                            offset=0))
    return LinkLayer(kind="null", src_mac=None, dst_mac=None, vlan_ids=(), ethertype=ethertype,
                     payload_offset=4)


def _radiotap_len(data: bytes, weirds: list[Weird]) -> int:
    """Length of the radiotap header (radiotap.org), checked against the frame."""
    _need(data, "radiotap", 0, 8)
    version = data[0]
    (length,) = struct.unpack_from("<H", data, 2)
    if version != 0:
        weirds.append(Weird(name="radiotap_bad_version", detail=f"version {version}", layer="radiotap",
                            offset=0))
    if length < 8 or length > len(data):
        raise Truncated("radiotap", 0, max(length, 8), len(data))
    return length


def _ie_ssid(data: bytes, offset: int, end: int) -> str | None:
    """The SSID element (ID 0) among tagged parameters (IEEE 802.11-2020 §9.4.2.2)."""
    while offset + 2 <= end:
        eid, elen = data[offset], data[offset + 1]
        if offset + 2 + elen > end:
            return None
        if eid == 0:
            return data[offset + 2:offset + 2 + elen].decode("utf-8", errors="replace")
        offset += 2 + elen
    return None


def _ieee80211(data: bytes, start: int, weirds: list[Weird]) -> LinkLayer:
    _need(data, "wlan", start, 10)
    fc0, fc1 = data[start], data[start + 1]
    ftype = (fc0 >> 2) & 0x3
    subtype = fc0 >> 4
    to_ds, from_ds = bool(fc1 & 0x01), bool(fc1 & 0x02)
    protected, order = bool(fc1 & 0x40), bool(fc1 & 0x80)
    end = len(data)
    if ftype == Wlan80211Type.CONTROL or ftype == Wlan80211Type.EXTENSION:
        # Control frames carry no payload and at most two addresses.
        ra = mac_str(data[start + 4:start + 10])
        return LinkLayer(kind="ieee80211", src_mac=None, dst_mac=ra, vlan_ids=(), ethertype=None,
                         payload_offset=end)
    _need(data, "wlan", start, 24)
    a1 = mac_str(data[start + 4:start + 10])
    a2 = mac_str(data[start + 10:start + 16])
    a3 = mac_str(data[start + 16:start + 22])
    offset = start + 24
    if ftype == Wlan80211Type.MANAGEMENT:
        # Management frames: A1 = DA, A2 = SA, A3 = BSSID (IEEE 802.11-2020 §9.3.3.1).
        if order:
            offset += 4  # +HTC
        event = None
        name = _EVENT_NAMES.get(subtype)
        if name is not None:
            fixed = _FIXED_LEN[subtype]
            status: int | None = None
            reason: int | None = None
            ssid: str | None = None
            if protected:
                # A protected management frame (802.11w, or WEP shared-key auth): the body is encrypted.
                weirds.append(Weird(name="wlan_protected_frame",
                                    detail=f"protected management subtype {subtype}, body not decoded",
                                    layer="wlan", offset=start))
            else:
                _need(data, "wlan", offset, fixed)
                if subtype in (MgmtSubtype.ASSOC_RESP, MgmtSubtype.REASSOC_RESP):
                    (status,) = struct.unpack_from("<H", data, offset + 2)
                elif subtype == MgmtSubtype.AUTH:
                    (status,) = struct.unpack_from("<H", data, offset + 4)
                elif subtype in (MgmtSubtype.DEAUTH, MgmtSubtype.DISASSOC):
                    (reason,) = struct.unpack_from("<H", data, offset)
                if subtype in (MgmtSubtype.ASSOC_REQ, MgmtSubtype.REASSOC_REQ):
                    ssid = _ie_ssid(data, offset + fixed, end)
            event = L2Event(subtype=name, bssid=a3, ssid=ssid, src_mac=a2, dst_mac=a1, status=status,
                            reason=reason)
        return LinkLayer(kind="ieee80211", src_mac=a2, dst_mac=a1, vlan_ids=(), ethertype=None,
                         payload_offset=end, l2_event=event, bssid=a3)
    # Data frames: the address layout depends on To DS / From DS (IEEE 802.11-2020 Table 9-30).
    bssid: str | None
    if not to_ds and not from_ds:
        dst, src, bssid = a1, a2, a3
    elif to_ds and not from_ds:
        bssid, src, dst = a1, a2, a3
    elif from_ds and not to_ds:
        dst, bssid, src = a1, a2, a3
    else:
        _need(data, "wlan", offset, 6)
        dst, src, bssid = a3, mac_str(data[offset:offset + 6]), None
        offset += 6
    if subtype & 0x8:
        offset += 2  # QoS Control
        if order:
            offset += 4  # HT Control, present on QoS data frames with the +HTC/Order bit
    if subtype & 0x4:
        # Null-function data frames carry no payload.
        return LinkLayer(kind="ieee80211", src_mac=src, dst_mac=dst, vlan_ids=(), ethertype=None,
                         payload_offset=end, bssid=bssid)
    if protected:
        weirds.append(Weird(name="wlan_protected_frame", detail="encrypted data frame, payload not decoded",
                            layer="wlan", offset=start))
        return LinkLayer(kind="ieee80211", src_mac=src, dst_mac=dst, vlan_ids=(), ethertype=None,
                         payload_offset=end, bssid=bssid)
    _need(data, "llc", offset, 8)
    ethertype = _llc_snap(data, offset)
    if ethertype is None:
        weirds.append(Weird(name="wlan_no_snap", detail="data frame without an LLC/SNAP header",
                            layer="wlan", offset=offset))
        return LinkLayer(kind="ieee80211", src_mac=src, dst_mac=dst, vlan_ids=(), ethertype=None,
                         payload_offset=end, bssid=bssid)
    return LinkLayer(kind="ieee80211", src_mac=src, dst_mac=dst, vlan_ids=(), ethertype=ethertype,
                     payload_offset=offset + 8, bssid=bssid)


def _radiotap_fcs(data: bytes, length: int) -> bool:
    """Whether the radiotap Flags field says the 802.11 frame ends with a 4-byte FCS (flag 0x10)."""
    (present,) = struct.unpack_from("<I", data, 4)
    offset = 8
    word = present
    while word & 0x80000000:  # extended presence bitmaps
        if offset + 4 > length:
            return False
        (word,) = struct.unpack_from("<I", data, offset)
        offset += 4
    if present & 0x1:  # TSFT, 8 bytes aligned to 8
        offset = (offset + 7) & ~7
        offset += 8
    if present & 0x2 and offset < length:
        return bool(data[offset] & 0x10)
    return False


def dissect_link(linktype: int, data: bytes) -> tuple[LinkLayer | None, list[Weird]]:
    """Decode the link header of one frame. Never raises: a short header gives a weird and None (or
    the link layer decoded so far); an unknown link type gives `link_unsupported_linktype`."""
    weirds: list[Weird] = []
    try:
        if linktype == LinkType.ETHERNET:
            return _ethernet(data, weirds), weirds
        if linktype in (LinkType.RAW, LinkType.RAW_OPENBSD, LinkType.RAW_BSDOS, LinkType.IPV4,
                        LinkType.IPV6):
            return LinkLayer(kind="raw", src_mac=None, dst_mac=None, vlan_ids=(),
                             ethertype=_ip_ethertype(data, 0), payload_offset=0), weirds
        if linktype == LinkType.LINUX_SLL:
            return _sll(data), weirds
        if linktype == LinkType.LINUX_SLL2:
            return _sll2(data), weirds
        if linktype == LinkType.NULL:
            return _null(data, False, weirds), weirds
        if linktype == LinkType.LOOP:
            return _null(data, True, weirds), weirds
        if linktype == LinkType.IEEE802_11:
            return _ieee80211(data, 0, weirds), weirds
        if linktype == LinkType.IEEE802_11_RADIOTAP:
            rt_len = _radiotap_len(data, weirds)
            if _radiotap_fcs(data, rt_len):
                data = data[:-4]  # keep the FCS out of the 802.11 payload
            return _ieee80211(data, rt_len, weirds), weirds
    except Truncated as exc:
        weirds.append(exc.as_weird())
        return None, weirds
    weirds.append(Weird(name="link_unsupported_linktype", detail=f"link type {linktype}", layer="link",
                        offset=0))
    return None, weirds
