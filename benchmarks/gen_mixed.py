"""Write the benchmark capture: N Ethernet frames (default 1,000,000) of mostly unrelated IPv4/IPv6
TCP/UDP traffic with ~3% mobility-relevant packets (RFC 4861 RAs and DAD NSs, RFC 6275 BUs with a Home
Address option and BAs with a type 2 routing header, RFC 2473 IPv6-in-IPv6 tunnelled echo).

Templates are built once with scapy; records are then written with struct, so 1M packets take a few
seconds. Deterministic for a given seed.

    python benchmarks/gen_mixed.py [--packets N] [--seed S] [--out benchmarks/data/mixed-1m.pcap]
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
from pathlib import Path

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6NDOptAdvInterval,
    ICMPv6NDOptHAInfo,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
)
from scapy.layers.l2 import Ether

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_OUT = DATA_DIR / "mixed-1m.pcap"

MN_MAC, AR_MAC, HA_MAC = "00:05:5d:f2:db:2b", "00:11:22:33:44:55", "02:00:00:00:00:aa"
HOA = "2001:db8::beef"
HA = "2001:db8::1"
COA = "2001:db8:1:0:205:5dff:fef2:db2b"
CN = "2001:db8:ffff::10"


def _unrelated_templates() -> list[bytes]:
    """Plain IPv4/IPv6 TCP/UDP frames of assorted sizes, as on a busy access link."""
    out: list[bytes] = []
    for size in (0, 40, 100, 536, 900, 1200, 1400, 1448):
        out.append(bytes(Ether(src=AR_MAC, dst=MN_MAC) / IP(src="192.0.2.1", dst="198.51.100.7")
                         / TCP(sport=443, dport=50000 + size, flags="PA", seq=1000 + size) / (b"x" * size)))
        out.append(bytes(Ether(src=MN_MAC, dst=AR_MAC) / IPv6(src="2001:db8:2::5", dst="2001:db8:3::9")
                         / TCP(sport=50000 + size, dport=80, flags="A", seq=7 + size) / (b"y" * size)))
    for size in (60, 160, 172, 300, 1000):
        out.append(bytes(Ether(src=AR_MAC, dst=MN_MAC) / IP(src="203.0.113.4", dst="192.0.2.99")
                         / UDP(sport=5004, dport=5004) / (b"r" * size)))
        out.append(bytes(Ether(src=MN_MAC, dst=AR_MAC) / IPv6(src="2001:db8:4::1", dst="2001:db8:5::2")
                         / UDP(sport=5060, dport=5060) / (b"u" * size)))
    return out


def _relevant_templates() -> list[bytes]:
    """Mobility-relevant frames: RA, DAD NS, BU (HAO) / BA (RH2) pairs, tunnelled echo."""
    ra = (Ether(src=AR_MAC, dst="33:33:00:00:00:01") / IPv6(src="fe80::211:22ff:fe33:4455", dst="ff02::1")
          / ICMPv6ND_RA(H=1, routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(lladdr=AR_MAC)
          / ICMPv6NDOptAdvInterval(advint=1070) / ICMPv6NDOptHAInfo(pref=10, lifetime=1800)
          / ICMPv6NDOptPrefixInfo(prefixlen=64, prefix="2001:db8:1::", R=0))
    dad = (Ether(src=MN_MAC, dst="33:33:ff:f2:db:2b") / IPv6(src="::", dst="ff02::1:fff2:db2b")
           / ICMPv6ND_NS(tgt=COA))
    out = [bytes(ra), bytes(dad)]
    for seq in range(54814, 54814 + 16):
        bu = (Ether(src=MN_MAC, dst=AR_MAC) / IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
              / MIP6MH_BU(seq=seq, flags="AH", mhtime=65535))
        ba = (Ether(src=AR_MAC, dst=MN_MAC) / IPv6(src=HA, dst=COA)
              / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[HOA])
              / MIP6MH_BA(status=0, seq=seq, mhtime=65535))
        out += [bytes(bu), bytes(ba)]
    for i in range(16):
        req = (Ether(src=AR_MAC, dst=MN_MAC) / IPv6(src=HA, dst=COA) / IPv6(src=CN, dst=HOA)
               / ICMPv6EchoRequest(id=0x1234, seq=i) / (b"p" * 56))
        rep = (Ether(src=MN_MAC, dst=AR_MAC) / IPv6(src=COA, dst=HA) / IPv6(src=HOA, dst=CN)
               / ICMPv6EchoReply(id=0x1234, seq=i) / (b"p" * 56))
        out += [bytes(req), bytes(rep)]
    return out


def generate(path: Path, packets: int, seed: int, relevant_share: float = 0.03) -> int:
    """Write the capture; returns the number of mobility-relevant frames written."""
    rng = random.Random(seed)
    unrelated = _unrelated_templates()
    relevant = _relevant_templates()
    path.parent.mkdir(parents=True, exist_ok=True)
    rec = struct.Struct("<IIII")
    ts_us = 1_700_000_000 * 1_000_000
    n_relevant = 0
    batch: list[bytes] = []
    with open(path, "wb") as f:
        # pcap global header, little-endian, microsecond timestamps, LINKTYPE_ETHERNET.
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        rand = rng.random
        choice = rng.choice
        for _ in range(packets):
            ts_us += 1 + int(rand() * 100)
            if rand() < relevant_share:
                data = choice(relevant)
                n_relevant += 1
            else:
                data = choice(unrelated)
            batch.append(rec.pack(ts_us // 1_000_000, ts_us % 1_000_000, len(data), len(data)))
            batch.append(data)
            if len(batch) >= 20000:
                f.write(b"".join(batch))
                batch.clear()
        f.write(b"".join(batch))
    return n_relevant


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    n = generate(args.out, args.packets, args.seed)
    print(f"wrote {args.out}: {args.packets} packets, {n} mobility-relevant", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
