"""Byte-level predicates that tell a mobility-relevant frame from the rest after reading a few bytes.

"Mobility-relevant" (what `mipsniff show` lists and the correlator needs) is an IPv6 packet, found at
the link's payload offset, that is or carries:
- ICMPv6 error messages (RFC 4443 §3: 1-4; a Parameter Problem about a Home Address option or a Mobility
  Header is how a node without Mobile IPv6 answers, RFC 6275 §9.3.1), echo request/reply (128/129),
  Neighbor Discovery (RFC 4861: 133-137), Home Agent Address Discovery and Mobile Prefix
  Solicitation/Advertisement (RFC 6275 §6.5-6.8: 144-147), FMIPv6 (RFC 5568 §6.1: 154);
- a Mobility Header (135, RFC 6275 §6.1), a Destination Options header (where the Home Address option
  lives, §6.3) or a Routing header (type 2, §6.4), anywhere in the extension chain;
- an IPv6-in-IPv6 (41) or IPv4-in-IPv6 (4) tunnel (RFC 2473; RFC 6275 §10.4.1 bidirectional tunnelling);
- optionally, any packet whose source or destination is in a given address set (the correlator passes
  the known home addresses, so plain data at home is kept);
- on 802.11, the management frames that are link-layer handover events (see link.py).

These predicates run once per frame of a whole capture, on the reader's raw buffer, before any record is
built, so they are written for speed: integer indexing and a couple of compares. Standard library only.
"""

from __future__ import annotations

import ipaddress
import mmap
from collections.abc import Callable, Iterable

from dissectors.link import LinkType, dissect_link

Buffer = bytes | mmap.mmap  # slices must be hashable bytes
Predicate = Callable[[Buffer, int, int], bool]

ICMPV6 = 58
MOBILITY_HEADER = 135
HOP_BY_HOP = 0
ROUTING = 43
FRAGMENT = 44
DEST_OPTIONS = 60
AH = 51
IPV6_IN_IPV6 = 41
IPV4_IN_IPV6 = 4

# ICMPv6 types that matter for mobility (see the module docstring for the RFC of each).
RELEVANT_ICMPV6_TYPES = frozenset({1, 2, 3, 4, 128, 129, 133, 134, 135, 136, 137, 144, 145, 146, 147, 154})
# Next headers that make a packet relevant wherever they appear in the chain.
RELEVANT_NEXT_HEADERS = frozenset({MOBILITY_HEADER, DEST_OPTIONS, ROUTING, IPV6_IN_IPV6, IPV4_IN_IPV6})
_MAX_CHAIN = 8


def ipv6_relevant(buf: Buffer, o: int, end: int) -> bool:
    """Whether the IPv6 packet at `buf[o:end]` is mobility-relevant (ignores the address set)."""
    if end - o < 40:
        return False
    nh = buf[o + 6]
    if nh == ICMPV6:
        return end - o > 40 and buf[o + 40] in RELEVANT_ICMPV6_TYPES
    if nh in RELEVANT_NEXT_HEADERS:
        return True
    if nh == HOP_BY_HOP or nh == FRAGMENT or nh == AH:
        return _chain_relevant(buf, o + 40, end, nh)
    return False


def _chain_relevant(buf: Buffer, pos: int, end: int, nh: int) -> bool:
    """Follow Hop-by-Hop / Fragment / AH headers (RFC 8200 §4; RFC 4302 §2.2 counts AH in 4-byte
    units) to the first header that decides."""
    for _ in range(_MAX_CHAIN):
        if pos + 2 > end:
            return False
        if nh == FRAGMENT:
            # A later fragment has no upper-layer header to look at.
            if pos + 4 > end or (buf[pos + 2] << 8 | buf[pos + 3]) & 0xFFF8:
                return False
            nxt, length = buf[pos], 8
        elif nh == AH:
            nxt, length = buf[pos], (buf[pos + 1] + 2) * 4
        else:
            nxt, length = buf[pos], (buf[pos + 1] + 1) * 8
        pos += length
        if nxt == ICMPV6:
            return pos < end and buf[pos] in RELEVANT_ICMPV6_TYPES
        if nxt in RELEVANT_NEXT_HEADERS:
            return True
        if nxt != HOP_BY_HOP and nxt != FRAGMENT and nxt != AH:
            return False
        nh = nxt
    return False


def _as_key(addr: bytes | str | ipaddress.IPv6Address) -> bytes:
    if isinstance(addr, bytes):
        if len(addr) != 16:
            raise ValueError(f"address key must be 16 bytes, got {len(addr)}")
        return addr
    return ipaddress.IPv6Address(addr).packed


class Prefilter:
    """The mobility-relevant predicate, specialised per link type. `addresses` (16-byte keys, strings
    or IPv6Address) adds every packet from or to one of them."""

    def __init__(self, addresses: Iterable[bytes | str | ipaddress.IPv6Address] = ()) -> None:
        self.addresses: frozenset[bytes] = frozenset(_as_key(a) for a in addresses)

    def for_linktype(self, linktype: int) -> Predicate:
        addrs = self.addresses
        # The last byte of each address: a cheap first test before slicing out 16 bytes.
        last = frozenset(a[15] for a in addrs)
        chain = _chain_relevant
        rel_types = RELEVANT_ICMPV6_TYPES
        rel_next = RELEVANT_NEXT_HEADERS

        def ip_ok(buf: Buffer, o: int, end: int) -> bool:
            if end - o < 40:
                return False
            nh = buf[o + 6]
            if nh == ICMPV6:
                if end - o > 40 and buf[o + 40] in rel_types:
                    return True
            elif nh in rel_next:
                return True
            elif nh == HOP_BY_HOP or nh == FRAGMENT or nh == AH:
                if chain(buf, o + 40, end, nh):
                    return True
            if addrs:
                return (buf[o + 23] in last and buf[o + 8:o + 24] in addrs) or (
                    buf[o + 39] in last and buf[o + 24:o + 40] in addrs)
            return False

        if linktype == LinkType.ETHERNET:
            def ethernet(buf: Buffer, s: int, e: int) -> bool:
                hi = buf[s + 12] if e - s > 14 else 0
                if hi == 0x86 and buf[s + 13] == 0xDD:
                    # The common case inline (this runs for every frame): ICMPv6 type or a deciding
                    # next header right after the fixed header.
                    if not addrs and e - s > 54:
                        nh = buf[s + 20]
                        if nh == ICMPV6:
                            return buf[s + 54] in rel_types
                        if nh in rel_next:
                            return True
                        if nh != HOP_BY_HOP and nh != FRAGMENT and nh != AH:
                            return False
                    return ip_ok(buf, s + 14, e)
                if hi == 0x81 or hi == 0x88 or hi == 0x91:
                    link, _ = dissect_link(linktype, bytes(buf[s:e]))
                    if link is not None and link.ethertype == 0x86DD:
                        return ip_ok(buf, s + link.payload_offset, e)
                return False
            return ethernet

        offset, et_at = _FIXED_LINKS.get(linktype, (-1, -1))
        if offset >= 0:
            def fixed(buf: Buffer, s: int, e: int) -> bool:
                # SLL/SLL2 give an ethertype; raw and NULL links are told apart by the version nibble.
                if et_at >= 0:
                    if e - s < offset or buf[s + et_at] != 0x86 or buf[s + et_at + 1] != 0xDD:
                        return False
                elif e - s <= offset or buf[s + offset] >> 4 != 6:
                    return False
                return ip_ok(buf, s + offset, e)
            return fixed

        radiotap = linktype == LinkType.IEEE802_11_RADIOTAP
        if radiotap or linktype == LinkType.IEEE802_11:
            def wlan(buf: Buffer, s: int, e: int) -> bool:
                # Decide from the Frame Control byte where possible (IEEE 802.11-2020 §9.2.4.1):
                # management frames by subtype (beacons and probes are most of a monitor capture),
                # control frames never; only non-null data frames need the full link decode.
                if e - s < 8:
                    return False
                off = s + (buf[s + 2] | buf[s + 3] << 8) if radiotap else s
                if off >= e:
                    return False
                fc0 = buf[off]
                ftype = (fc0 >> 2) & 3
                if ftype == 0:
                    return (fc0 >> 4) in _WLAN_EVENT_SUBTYPES
                if ftype != 2 or fc0 & 0x40:  # not data, or a null-function data subtype
                    return False
                return generic(buf, s, e)
            wlan_pred: Predicate | None = wlan
        else:
            wlan_pred = None

        # Anything else: decode the link header (slow path).
        def generic(buf: Buffer, s: int, e: int) -> bool:
            data = bytes(buf[s:e])
            link, _ = dissect_link(linktype, data)
            if link is None:
                return False
            if link.l2_event is not None:
                return True
            if link.ethertype != 0x86DD:
                return False
            return ip_ok(data, link.payload_offset, len(data))
        return wlan_pred if wlan_pred is not None else generic


# Management subtypes that are link-layer handover events (link.py): (re)association request and
# response, disassociation, authentication, deauthentication.
_WLAN_EVENT_SUBTYPES = frozenset({0, 1, 2, 3, 10, 11, 12})

# Link types whose IPv6 header sits at a fixed offset: (payload offset, ethertype offset or -1).
_FIXED_LINKS: dict[int, tuple[int, int]] = {
    LinkType.LINUX_SLL: (16, 14),
    LinkType.LINUX_SLL2: (20, 0),
    LinkType.RAW: (0, -1),
    LinkType.RAW_OPENBSD: (0, -1),
    LinkType.RAW_BSDOS: (0, -1),
    LinkType.IPV6: (0, -1),
    LinkType.IPV4: (0, -1),
    LinkType.NULL: (4, -1),
    LinkType.LOOP: (4, -1),
}


def is_relevant(linktype: int, data: bytes, addresses: Iterable[bytes] = ()) -> bool:
    """Convenience form for one frame (tests, live capture): same answer as the specialised predicate."""
    return Prefilter(addresses).for_linktype(linktype)(data, 0, len(data))
