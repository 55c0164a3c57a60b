"""IP-in-IPv6 tunnels: IPv6-in-IPv6 (next header 41) and IPv4-in-IPv6 (4) (RFC 2473, RFC 5555).

Mobile IPv6 bidirectional tunnelling (RFC 6275 §10.4.2, §11.3.1) carries the MN's home-address
traffic inside HA<->CoA packets; DSMIPv6 (RFC 5555) carries IPv4 the same way. Inner packets are
dissected recursively, up to `MAX_TUNNEL_DEPTH` levels (RFC 2473 §4.1.1 has a Tunnel Encapsulation
Limit for the same reason: nesting must stay bounded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dissectors._wire import Ctx

if TYPE_CHECKING:
    from dissectors.ipv6 import IPv4, IPv6

MAX_TUNNEL_DEPTH = 8


def dissect_inner(proto: int, data: bytes, p: int, end: int, ctx: Ctx) -> IPv6 | IPv4 | None:
    """Dissect the packet encapsulated at `p` (inner protocol `proto`: 41 or 4), bounded by `end`
    (the outer payload end; bytes beyond are not the inner packet's)."""
    from dissectors.ipv6 import dissect_ipv4, dissect_ipv6

    if ctx.depth >= MAX_TUNNEL_DEPTH:
        ctx.weird("tunnel_too_deep", f"more than {MAX_TUNNEL_DEPTH} nested tunnels", "tunnel", p)
        return None
    if p >= end:
        ctx.weird("tunnel_empty", "no inner packet", "tunnel", p)
        return None
    buf = data[:end] if end < len(data) else data
    ctx.depth += 1
    try:
        if proto == 41:
            if buf[p] >> 4 != 6:
                ctx.weird("tunnel_bad_inner_version", f"next header 41 but version {buf[p] >> 4}", "tunnel", p)
            return dissect_ipv6(buf, p, ctx)
        if buf[p] >> 4 != 4:
            ctx.weird("tunnel_bad_inner_version", f"next header 4 but version {buf[p] >> 4}", "tunnel", p)
        return dissect_ipv4(buf, p, ctx)
    finally:
        ctx.depth -= 1


def chain(ip: IPv6 | IPv4 | None) -> list[IPv6 | IPv4]:
    """The IP headers of a packet from the outermost to the innermost, following tunnels."""
    from dissectors.ipv6 import IPv4, IPv6

    out: list[IPv6 | IPv4] = []
    while ip is not None:
        out.append(ip)
        nxt = ip.payload
        ip = nxt if isinstance(nxt, (IPv6, IPv4)) else None
    return out
