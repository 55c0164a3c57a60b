"""dissectors: bytes -> typed, frozen records for Mobile IPv6 captures (see README.md, the contract).

`dissect(linktype, data)` never raises on any bytes (STYLE §4): malformed input becomes `Weird`
records on the returned `Packet`. Standard library only.
"""

from __future__ import annotations

from dissectors._wire import Ctx
from dissectors.ipv6 import IPv4, IPv6, dissect_ip
from dissectors.link import ETHERTYPE_IPV4, ETHERTYPE_IPV6, dissect_link
from dissectors.packet import Packet
from dissectors.weirds import Weird

__all__ = ["IPv4", "IPv6", "Packet", "Weird", "dissect", "dissect_at", "dissect_ip"]


def _fast_records() -> None:
    """Faster `__init__` for every record class of the dissectors (`_wire.fast_init`: same signature,
    still frozen), once all their modules are imported."""
    import sys

    import dissectors.nd  # noqa: F401 - imported lazily by icmpv6; its records too
    from dissectors._wire import fast_init

    for name, module in list(sys.modules.items()):
        if name.startswith("dissectors.") and module is not None:
            for obj in list(vars(module).values()):
                if isinstance(obj, type) and obj.__module__ == name:
                    fast_init(obj)


_fast_records()


def dissect(linktype: int, data: bytes) -> Packet:
    """Dissect one frame of pcap link type `linktype`."""
    data = bytes(data)
    link, weirds = dissect_link(linktype, data)
    ip: IPv6 | IPv4 | None = None
    ctx = Ctx(weirds=weirds)
    if link is not None and link.payload_offset < len(data):
        # Raw-IP link types have no ethertype to trust: let the version nibble decide (and complain).
        if link.ethertype in (ETHERTYPE_IPV6, ETHERTYPE_IPV4) or link.kind == "raw":
            ip = dissect_ip(data, link.payload_offset, ctx)
    return Packet(linktype=linktype, link=link, ip=ip, weirds=tuple(ctx.weirds))


def dissect_at(linktype: int, data: bytes, ip_offset: int) -> Packet:
    """Dissect a frame whose IP header is already known to start at `ip_offset` (the prefilter's
    fast path): the link layer is not decoded (`link` is None)."""
    data = bytes(data)
    ctx = Ctx()
    ip = dissect_ip(data, ip_offset, ctx)
    return Packet(linktype=linktype, link=None, ip=ip, weirds=tuple(ctx.weirds))
