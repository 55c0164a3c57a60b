"""`mipsniff live` over hours: the live pipeline's memory stays flat (bounded correlator state).

An hour and a half of a mobile node at home pinging its HA every 2 s under an RA every 2 s
(the frames are built once with scapy, an independent encoder, and re-stamped) go through the same
`LiveMonitor` and correlator configuration `mipsniff live` uses; the memory allocated at the end must be
about what it was after 30 minutes. With `keep_packets=True` (a record per RA) it fails.
"""

from __future__ import annotations

import tracemalloc

import pytest
from scapy.layers.inet6 import (
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_RA,
    ICMPv6NDOptAdvInterval,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
)
from scapy.layers.l2 import Ether

from mipsniff.capture.frame import Frame
from mipsniff.capture.live_view import LiveMonitor
from mipsniff.correlate import Correlator, CorrelatorConfig

HOA, HA = "2001:db8::beef", "2001:db8::"
MN_MAC, HA_MAC = "00:05:5d:f2:db:2b", "02:00:00:00:0d:01"


def _templates() -> list[bytes]:
    ra = (Ether(src=HA_MAC, dst="33:33:00:00:00:01") / IPv6(src="fe80::ff:fe00:d01", dst="ff02::1", hlim=255)
          / ICMPv6ND_RA(H=1) / ICMPv6NDOptPrefixInfo(prefix="2001:db8::", prefixlen=64)
          / ICMPv6NDOptSrcLLAddr(lladdr=HA_MAC) / ICMPv6NDOptAdvInterval(advint=3000))
    return [bytes(ra)]


def _echo(seq: int) -> list[bytes]:
    req = Ether(src=MN_MAC, dst=HA_MAC) / IPv6(src=HOA, dst=HA) / ICMPv6EchoRequest(id=7, seq=seq & 0xFFFF)
    rep = Ether(src=HA_MAC, dst=MN_MAC) / IPv6(src=HA, dst=HOA) / ICMPv6EchoReply(id=7, seq=seq & 0xFFFF)
    return [bytes(req), bytes(rep)]


@pytest.mark.slow
def test_memory_is_flat_over_ninety_simulated_minutes() -> None:
    monitor = LiveMonitor(Correlator(CorrelatorConfig(keep_packets=False), [HOA]))
    (ra,) = _templates()
    echoes = {seq: _echo(seq) for seq in range(256)}  # payload bytes repeat; sequence numbers wrap at 256
    t0 = 1_700_000_000 * 10**9
    index = 0
    sizes = []
    tracemalloc.start()
    try:
        for second in range(0, 5400, 2):
            ts = t0 + second * 10**9
            for k, data in enumerate([ra, *echoes[second % 256]]):
                index += 1
                monitor.feed(Frame(index=index, ts_ns=ts + k * 1_000_000, linktype=1, data=data))
            if second in (1800, 5398):
                sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert monitor.internal_errors == 0
    assert monitor.packets == index == 3 * 2700
    # Flat: the last hour adds less than 256 KiB (one record per packet would be well over a MiB).
    assert sizes[1] - sizes[0] < 256 * 1024, sizes
