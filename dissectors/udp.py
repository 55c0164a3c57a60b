"""UDP (RFC 768, RFC 8200 §8.1), RTP recognised on UDP (RFC 3550 §5.1), TCP (RFC 9293 §3.1).

Enough for flow identity, loss and retransmission counting: ports, lengths, checksums verified with
the pseudo-header (the HAO home address as source and the final routing-header destination, RFC
6275 §6.3/§6.4), RTP sequence/timestamp/SSRC, TCP sequence/ack/flags.

RTP has no magic number; it is recognised heuristically (version 2, a payload type outside the RTCP
range 72-76 that RFC 5761 §4 reserves, both ports unprivileged). The correlator confirms it by
requiring a consistent SSRC over a flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from struct import unpack_from

from dissectors._wire import Ctx, checksum_ok, pseudo
from dissectors.codes import TcpFlags
from dissectors.weirds import Truncated


@dataclass(frozen=True, slots=True, kw_only=True)
class RTP:
    """RTP fixed header (RFC 3550 §5.1)."""

    version: int
    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UDP:
    src_port: int
    dst_port: int
    length: int
    checksum: int
    checksum_ok: bool | None
    rtp: RTP | None = None
    offset: int = -1

    @property
    def payload_length(self) -> int:
        return max(0, self.length - 8)


@dataclass(frozen=True, slots=True, kw_only=True)
class TCP:
    src_port: int
    dst_port: int
    sequence: int
    ack: int
    flags: TcpFlags
    checksum_ok: bool | None
    checksum: int = 0
    window: int = 0
    header_length: int = 20
    payload_length: int = 0
    offset: int = -1


def _rtp(data: bytes, p: int, end: int, sport: int, dport: int) -> RTP | None:
    if end - p < 12 or sport < 1024 or dport < 1024:
        return None
    b0, b1, seq, ts, ssrc = unpack_from("!BBHII", data, p)
    if b0 >> 6 != 2:
        return None
    pt = b1 & 0x7F
    if 72 <= pt <= 76:
        return None
    return RTP(version=2, payload_type=pt, marker=bool(b1 & 0x80), sequence=seq, timestamp=ts, ssrc=ssrc)


def dissect_udp(
    data: bytes,
    off: int,
    end: int,
    complete: bool,
    src: IPv6Address | IPv4Address,
    dst: IPv6Address | IPv4Address,
    ctx: Ctx,
) -> UDP:
    if off + 8 > end:
        raise Truncated("udp", off, 8, end - off)
    sport, dport, ln, csum = unpack_from("!HHHH", data, off)
    ok: bool | None = None
    avail = end - off
    if ln < 8:
        ctx.weird("udp_bad_length", f"length {ln}", "udp", off)
        ln_eff = avail
    elif ln > avail:
        if complete:
            ctx.weird("udp_bad_length", f"length {ln} exceeds the IP payload ({avail})", "udp", off)
        ln_eff = avail
    else:
        ln_eff = ln
    if complete and 8 <= ln <= avail:
        if csum == 0:
            if isinstance(src, IPv6Address):
                # RFC 8200 §8.1: a zero UDP checksum is invalid over IPv6 (RFC 6935 tunnels aside).
                ctx.weird("udp_zero_checksum", "no checksum over IPv6", "udp", off)
                ok = False
        else:
            ok = checksum_ok(pseudo(src, dst, ln, 17), data, off, off + ln)
            if not ok:
                ctx.weird("udp_bad_checksum", f"checksum 0x{csum:04x}", "udp", off)
    return UDP(
        src_port=sport,
        dst_port=dport,
        length=ln,
        checksum=csum,
        checksum_ok=ok,
        rtp=_rtp(data, off + 8, off + ln_eff, sport, dport),
        offset=off,
    )


def dissect_tcp(
    data: bytes,
    off: int,
    end: int,
    complete: bool,
    src: IPv6Address | IPv4Address,
    dst: IPv6Address | IPv4Address,
    ctx: Ctx,
) -> TCP:
    if off + 20 > end:
        raise Truncated("tcp", off, 20, end - off)
    sport, dport, seq, ack, hl, fl, win, csum = unpack_from("!HHIIBBHH", data, off)
    hlen = (hl >> 4) * 4
    if hlen < 20:
        ctx.weird("tcp_bad_header_length", f"data offset {hl >> 4}", "tcp", off)
    elif off + hlen > end and complete:
        ctx.weird("tcp_bad_header_length", f"header length {hlen} exceeds the payload", "tcp", off)
    ok: bool | None = None
    if complete:
        ok = checksum_ok(pseudo(src, dst, end - off, 6), data, off, end)
        if not ok:
            ctx.weird("tcp_bad_checksum", f"checksum 0x{csum:04x}", "tcp", off)
    return TCP(
        src_port=sport,
        dst_port=dport,
        sequence=seq,
        ack=ack,
        flags=TcpFlags(fl),
        checksum_ok=ok,
        checksum=csum,
        window=win,
        header_length=hlen,
        payload_length=max(0, end - off - max(hlen, 20)),
        offset=off,
    )
