"""The live view's events (mipsniff.capture.live_view) for one handover, built frame by frame.

The frames come from the agent's scapy builders (an encoder independent of the dissectors): the MN at
home pinging its HA, then on the remote link RS, RA of a new router, DAD, BU, its retransmission, BA, and
tunnelled echo. No root needed: frames are fed to `LiveMonitor` directly.
"""

from __future__ import annotations

import io
from ipaddress import IPv6Address, IPv6Network

from mipsniff.agent import packets as pk
from mipsniff.agent.config import PrefixConfig, RaConfig
from mipsniff.capture.frame import Frame
from mipsniff.capture.live_view import LiveEvent, LiveMonitor, Printer
from mipsniff.correlate import Correlator, CorrelatorConfig

HOA, HA = IPv6Address("2001:db8::beef"), IPv6Address("2001:db8::")
COA = IPv6Address("2001:db8:1:0:205:5dff:fef2:db2b")
MN_MAC, HA_MAC, AR_MAC = "00:05:5d:f2:db:2b", "02:00:00:00:0d:01", "02:00:00:00:0a:02"
MN_LL = pk.link_local(MN_MAC)


def _eth(src: str, dst: str, ip: bytes) -> bytes:
    return pk.mac_bytes(dst) + pk.mac_bytes(src) + b"\x86\xdd" + ip


def _ra(mac: str, prefix: str) -> bytes:
    cfg = RaConfig(prefixes=(PrefixConfig(prefix=IPv6Network(prefix)),), max_interval_ms=1000)
    return _eth(mac, "33:33:00:00:00:01", pk.build_ra(pk.link_local(mac), pk.ALL_NODES, cfg, mac, None))


def _echo(seq: int, away: bool, reply: bool) -> bytes:
    src, dst = (HA, HOA) if reply else (HOA, HA)
    ip = pk.build_echo(src, dst, ident=7, seq=seq, data=b"x" * 8, reply=reply)
    if away:
        ip = pk.encapsulate(HA, COA, ip) if reply else pk.encapsulate(COA, HA, ip)
    mn_side, other = (MN_MAC, HA_MAC if not away else AR_MAC)
    return _eth(other, mn_side, ip) if reply else _eth(mn_side, other, ip)


def _scenario() -> list[tuple[float, bytes]]:
    out: list[tuple[float, bytes]] = [(0.0, _ra(HA_MAC, "2001:db8::/64"))]
    for i in range(3):
        out += [(0.1 + i, _echo(i, False, False)), (0.101 + i, _echo(i, False, True))]
    out += [
        (3.0, _eth(MN_MAC, "33:33:00:00:00:02", pk.build_rs(MN_LL, MN_MAC))),
        (3.001, _ra(AR_MAC, "2001:db8:1::/64")),
        (3.4, _eth(MN_MAC, "33:33:ff:f2:db:2b", pk.build_ns(pk.UNSPECIFIED, pk.solicited_node(COA), COA, None))),
        (4.4, _eth(MN_MAC, AR_MAC, pk.build_bu(COA, HA, home_address=HOA, seq=100, lifetime_s=262140))),
        (5.4, _eth(MN_MAC, AR_MAC, pk.build_bu(COA, HA, home_address=HOA, seq=101, lifetime_s=262140))),
        (5.41, _eth(AR_MAC, MN_MAC, pk.build_ba(HA, COA, home_address=HOA, status=0, seq=101, lifetime_s=262140))),
    ]
    for i in range(5, 25):
        out += [(0.5 + i, _echo(i, True, False)), (0.502 + i, _echo(i, True, True))]
    return out


def _run() -> tuple[LiveMonitor, list[LiveEvent]]:
    monitor = LiveMonitor(Correlator(CorrelatorConfig(keep_packets=False), [HOA]))
    events: list[LiveEvent] = []
    t0 = 1_795_000_000 * 10**9
    for i, (t, data) in enumerate(_scenario(), 1):
        events += monitor.feed(Frame(index=i, ts_ns=t0 + int(t * 1e9), linktype=1, data=data))
    events += monitor.poll(t0 + 60 * 10**9)
    return monitor, events


def test_events_of_one_handover_in_order() -> None:
    monitor, events = _run()
    assert monitor.internal_errors == 0
    kinds = [e.kind for e in events]
    assert kinds[:6] == ["rs", "movement", "dad", "bu", "bu_retx", "ba"], kinds
    assert kinds[6] == "resumed" and kinds[-1] == "handover", kinds
    assert "BU retransmission #1 seq 101" in events[4].text
    assert "BA status 0" in events[5].text and "seq 101" in events[5].text
    assert str(COA) in events[6].text
    handover = events[-1].text
    assert "home_to_foreign" in handover and "completed" in handover and "BU retransmissions 1" in handover


def test_printer_plain_lines_and_rich_view() -> None:
    _, events = _run()
    plain = io.StringIO()
    p = Printer(plain, rich=False)
    for e in events:
        p.event(e)
    p.close()
    lines = plain.getvalue().splitlines()
    assert len(lines) == len(events) and lines[3].split()[1] == "bu"
    rich = io.StringIO()
    r = Printer(rich, rich=True)
    for e in events:
        r.event(e)
    r.status(10, None)
    r.close()
    assert "movement" in rich.getvalue() and "handover" in rich.getvalue()
