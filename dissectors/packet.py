"""The `Packet` record: one frame dissected from the link layer to the innermost upper layer.

Derived views (outer IPv6, innermost IP header after tunnels, the Mobility Header, ...) are
properties, so the record itself stays the plain result of dissection (STYLE §3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dissectors.icmpv6 import ICMPv6
from dissectors.ipv6 import IPv4, IPv6
from dissectors.mobility import MobilityHeader
from dissectors.weirds import Weird

if TYPE_CHECKING:
    from dissectors.ipv6 import Upper
    from dissectors.link import L2Event, LinkLayer


@dataclass(frozen=True, slots=True, kw_only=True)
class Packet:
    """`ip` is the outermost IP header holding its payload chain; `weirds` are all anomalies found
    at any layer, in the order they were found."""

    linktype: int
    link: LinkLayer | None
    ip: IPv6 | IPv4 | None
    weirds: tuple[Weird, ...] = ()

    @property
    def ipv6(self) -> IPv6 | None:
        """The outer IPv6 header, or None (IPv4 or no IP)."""
        return self.ip if isinstance(self.ip, IPv6) else None

    @property
    def ip_chain(self) -> list[IPv6 | IPv4]:
        """IP headers from the outermost to the innermost (tunnels followed)."""
        from dissectors.tunnel import chain

        return chain(self.ip)

    @property
    def innermost(self) -> IPv6 | IPv4 | None:
        """The innermost IP header after following IPv6-in-IPv6 / IPv4-in-IPv6 tunnels."""
        ip = self.ip
        if ip is None:
            return None
        while True:
            nxt = ip.payload
            if isinstance(nxt, (IPv6, IPv4)):
                ip = nxt
            else:
                return ip

    @property
    def tunnel_depth(self) -> int:
        """0 when not tunnelled, 1 for one level of encapsulation, ..."""
        return max(0, len(self.ip_chain) - 1)

    @property
    def upper(self) -> Upper:
        """The upper-layer record of the innermost IP header (None if nothing was dissected)."""
        inner = self.innermost
        return inner.payload if inner is not None else None

    @property
    def mobility(self) -> MobilityHeader | None:
        up = self.upper
        return up if isinstance(up, MobilityHeader) else None

    @property
    def icmpv6(self) -> ICMPv6 | None:
        up = self.upper
        return up if isinstance(up, ICMPv6) else None

    @property
    def l2_event(self) -> L2Event | None:
        return self.link.l2_event if self.link is not None else None

    @property
    def weird_names(self) -> tuple[str, ...]:
        return tuple(w.name for w in self.weirds)
