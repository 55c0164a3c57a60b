"""Hand-made Mobile IPv6 captures written with scapy, independent of mipsniff's simulator and agent.

`Capture` collects Ethernet frames with exact microsecond timestamps; the helper methods build each
message the way RFC 6275 and UMIP put it on the wire (BU with HAO from the CoA, flags AH; BA with a type 2
routing header; tunnelled IPv6-in-IPv6 data; RA with Prefix Information and Advertisement Interval; DAD
NS from ::). Times are integers in microseconds since `T0`, so the expected report values are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptAdvInterval,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
    ICMPv6ParamProblem,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import Ether
from scapy.layers.rtp import RTP
from scapy.utils import wrpcap

T0 = 1_700_000_000  # epoch seconds of time 0 in every hand-made capture

HOA = "2001:db8::beef"
HA = "2001:db8::"
MN_MAC = "00:05:5d:f2:db:2b"
HA_MAC = "00:00:00:00:00:01"
AR1_MAC = "00:00:00:00:01:01"
AR2_MAC = "00:00:00:00:02:01"
HA_LL = "fe80::1"
AR1_LL = "fe80::101"
AR2_LL = "fe80::201"
COA1 = "2001:db8:1:0:205:5dff:fef2:db2b"
COA2 = "2001:db8:2:0:205:5dff:fef2:db2b"
MN_LL = "fe80::205:5dff:fef2:db2b"


def ts(us: int) -> float:
    """Epoch seconds (as the report prints them) of `us` microseconds after T0."""
    return round(T0 + us / 1e6, 6)


@dataclass
class Capture:
    frames: list[tuple[int, bytes]] = field(default_factory=list)

    def add(self, us: int, pkt: object) -> None:
        self.frames.append((us, bytes(pkt)))  # type: ignore[call-overload]

    def write(self, path: Path) -> Path:
        pkts = []
        for us, raw in sorted(self.frames, key=lambda x: x[0]):
            p = Ether(raw)
            p.time = Decimal(T0) + Decimal(us) / Decimal(1_000_000)
            pkts.append(p)
        wrpcap(str(path), pkts)
        return path

    # --- building blocks ----------------------------------------------------------------------

    def ra(self, us: int, router_ll: str, mac: str, prefix: str, interval_ms: int | None = 1000,
           home_agent: bool = False) -> None:
        p = Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=router_ll, dst="ff02::1", hlim=255) / ICMPv6ND_RA(
            H=int(home_agent)) / ICMPv6NDOptPrefixInfo(prefix=prefix, prefixlen=64)
        if interval_ms is not None:
            p = p / ICMPv6NDOptAdvInterval(advint=interval_ms)
        self.add(us, p)

    def rs(self, us: int, src: str = MN_LL) -> None:
        self.add(us, Ether(src=MN_MAC, dst="33:33:00:00:00:02") / IPv6(src=src, dst="ff02::2", hlim=255)
                 / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=MN_MAC))

    def dad(self, us: int, target: str) -> None:
        self.add(us, Ether(src=MN_MAC, dst="33:33:ff:00:00:01") / IPv6(src="::", dst="ff02::1:ff00:1", hlim=255)
                 / ICMPv6ND_NS(tgt=target))

    def bu(self, us: int, coa: str, seq: int, lifetime_s: int = 262140, hoa: str = HOA, ha: str = HA,
           mac: str = MN_MAC, dst_mac: str = AR1_MAC) -> None:
        if coa == hoa:  # deregistration from the home link: no HAO needed (RFC 6275 §11.5.4)
            p = IPv6(src=hoa, dst=ha) / MIP6MH_BU(seq=seq, flags="AH", mhtime=lifetime_s // 4)
        else:
            p = IPv6(src=coa, dst=ha) / IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)]) / MIP6MH_BU(
                seq=seq, flags="AH", mhtime=lifetime_s // 4)
        self.add(us, Ether(src=mac, dst=dst_mac) / p)

    def ba(self, us: int, coa: str, seq: int, status: int = 0, lifetime_s: int = 262140, hoa: str = HOA,
           ha: str = HA, dst_mac: str = MN_MAC) -> None:
        if coa == hoa:
            p = IPv6(src=ha, dst=hoa) / MIP6MH_BA(status=status, seq=seq, mhtime=lifetime_s // 4)
        else:
            p = IPv6(src=ha, dst=coa) / IPv6ExtHdrRouting(type=2, addresses=[hoa], segleft=1) / MIP6MH_BA(
                status=status, seq=seq, mhtime=lifetime_s // 4)
        self.add(us, Ether(src=AR1_MAC, dst=dst_mac) / p)

    def echo_home(self, us: int, seq: int, rtt_us: int | None, peer: str = HA, ident: int = 7) -> None:
        """A ping from the MN at home to `peer`, and its reply `rtt_us` later (None: lost)."""
        self.add(us, Ether(src=MN_MAC, dst=HA_MAC) / IPv6(src=HOA, dst=peer) / ICMPv6EchoRequest(id=ident, seq=seq))
        if rtt_us is not None:
            self.add(us + rtt_us, Ether(src=HA_MAC, dst=MN_MAC) / IPv6(src=peer, dst=HOA)
                     / ICMPv6EchoReply(id=ident, seq=seq))

    def echo_tunnel(self, us: int, seq: int, rtt_us: int | None, coa: str, peer: str = HA, ident: int = 7) -> None:
        """A ping from the MN away, reverse-tunnelled CoA -> HA (RFC 6275 §11.3.1), reply tunnelled back."""
        self.add(us, Ether(src=MN_MAC, dst=AR1_MAC) / IPv6(src=coa, dst=HA) / IPv6(src=HOA, dst=peer)
                 / ICMPv6EchoRequest(id=ident, seq=seq))
        if rtt_us is not None:
            self.add(us + rtt_us, Ether(src=AR1_MAC, dst=MN_MAC) / IPv6(src=HA, dst=coa) / IPv6(src=peer, dst=HOA)
                     / ICMPv6EchoReply(id=ident, seq=seq))

    def rtp_down(self, us: int, seq: int, coa: str | None, peer: str = "2001:db8:ff::1", ssrc: int = 0x1234) -> None:
        """Downlink RTP to the home address, direct at home (coa None) or tunnelled to `coa`."""
        inner = IPv6(src=peer, dst=HOA) / UDP(sport=5004, dport=5004) / RTP(sequence=seq, sourcesync=ssrc,
                                                                           payload_type=96)
        if coa is None:
            self.add(us, Ether(src=HA_MAC, dst=MN_MAC) / inner)
        else:
            self.add(us, Ether(src=AR1_MAC, dst=MN_MAC) / IPv6(src=HA, dst=coa) / inner)

    def param_problem_hao(self, us: int, coa: str, cn: str = "2001:db8:ff::1") -> None:
        """A correspondent without Mobile IPv6 answers a HAO with Parameter Problem code 2 (§9.3.1)."""
        invoking = IPv6(src=coa, dst=cn) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)]) / ICMPv6EchoRequest()
        self.add(us, Ether(src=AR1_MAC, dst=MN_MAC) / IPv6(src=cn, dst=coa) / ICMPv6ParamProblem(code=2, ptr=42)
                 / invoking)
