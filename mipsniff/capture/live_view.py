"""`mipsniff live`: capture -> dissect -> streaming correlator, printing handover events as they happen.

The events are those of a Mobile IPv6 handover as RFC 6275 §11.5-§11.7 orders them: an RA from a new
router (movement detected, §11.5.1), the DAD probe of the new care-of address (RFC 4862 §5.4), the BU
and its retransmissions (§11.8: a new sequence number each time), the BA and its status (§6.1.8), the
first data on the new path, and the correlator's finished handover with its latency and loss. They
come from the correlator's own observations (`correlate.observe`), so the live view and the final
report (the same correlator, finished) never disagree about what a packet is.

Memory stays bounded: per mobile node only the last BU/BA and the routers seen are kept here; the
correlator prunes its own state (`CorrelatorConfig`).
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv6Address
from types import FrameType
from typing import Any, TextIO

from mipsniff.capture.frame import Frame
from mipsniff.capture.live import SNAPLEN, CaptureStats, LiveSource, RawCapture, capture_frames
from mipsniff.capture.writer import PcapWriter


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveEvent:
    """One line of the live view: `kind` is movement | rs | dad | bu | bu_retx | ba | resumed | handover."""

    ts_ns: int
    frame: int
    kind: str
    text: str
    home_address: IPv6Address | None = None


@dataclass(slots=True)
class _MnView:
    coa: IPv6Address | None = None  # care-of address of the last BU
    seq: int | None = None
    retx: int = 0
    acked: bool = False
    waiting_resume: IPv6Address | None = None  # path whose first data packet means "resumed"


@dataclass(slots=True)
class LiveMonitor:
    """Feeds frames to a `Correlator` and turns its observations into `LiveEvent`s."""

    correlator: Any
    mns: dict[IPv6Address, _MnView] = field(default_factory=dict)
    router: IPv6Address | None = None
    router_prefixes: tuple[Any, ...] = ()
    packets: int = 0
    relevant: int = 0
    handovers_seen: int = 0
    internal_errors: int = 0
    first_ns: int | None = None
    last_ns: int | None = None

    def feed(self, frame: Frame) -> list[LiveEvent]:
        from dissectors import dissect
        from mipsniff.correlate.observe import BaObs, BuObs, DadObs, DataObs, RaObs, RsObs, observe

        self.packets += 1
        if self.first_ns is None:
            self.first_ns = frame.ts_ns
        self.last_ns = frame.ts_ns
        try:
            packet = dissect(frame.linktype, frame.data)
            self.correlator.feed(frame.index, frame.ts_ns, packet)
            obs = observe(packet, self.correlator.is_home)
        except Exception:  # STYLE §4: a bug is recorded and the capture goes on
            self.internal_errors += 1
            return []
        out: list[LiveEvent] = []

        def ev(kind: str, text: str, hoa: IPv6Address | None = None) -> None:
            out.append(LiveEvent(ts_ns=frame.ts_ns, frame=frame.index, kind=kind, text=text, home_address=hoa))

        for ob in obs:
            self.relevant += 1
            if isinstance(ob, RaObs):
                if self.router is not None and ob.router != self.router and set(ob.prefixes) != set(self.router_prefixes):
                    prefixes = ", ".join(str(p) for p in ob.prefixes)
                    ev("movement", f"RA from a new router {ob.router} ({prefixes}): movement detected")
                self.router, self.router_prefixes = ob.router, tuple(ob.prefixes)
            elif isinstance(ob, RsObs):
                ev("rs", f"RS from {ob.src}")
            elif isinstance(ob, DadObs):
                ev("dad", f"DAD NS for {ob.target}")
            elif isinstance(ob, BuObs):
                mn = self.mns.setdefault(ob.hoa, _MnView())
                if mn.coa == ob.coa and not mn.acked:
                    mn.retx += 1
                    ev("bu_retx", f"BU retransmission #{mn.retx} seq {ob.seq} {ob.hoa} -> {ob.ha} via {ob.coa}", ob.hoa)
                else:
                    mn.retx = 0
                    ev("bu", f"BU seq {ob.seq} {ob.flags} lifetime {ob.lifetime_s}s: {ob.hoa} at {ob.coa} -> "
                             f"{ob.ha}", ob.hoa)
                mn.coa, mn.seq, mn.acked = ob.coa, ob.seq, False
            elif isinstance(ob, BaObs):
                mn = self.mns.setdefault(ob.hoa, _MnView())
                ev("ba", f"BA status {ob.status} ({ob.status_name}) seq {ob.seq} lifetime {ob.lifetime_s}s "
                         f"for {ob.hoa}", ob.hoa)
                if ob.status < 128:
                    mn.acked = True
                    mn.waiting_resume = mn.coa
            elif isinstance(ob, DataObs):
                mn2 = self.mns.get(ob.hoa)
                if mn2 is not None and mn2.waiting_resume is not None and ob.path == mn2.waiting_resume:
                    mn2.waiting_resume = None
                    what = "uplink" if ob.uplink else "downlink"
                    ev("resumed", f"traffic resumed for {ob.hoa} on {ob.path} ({what})", ob.hoa)
        if out or self.packets % 64 == 0:
            out += self.poll(frame.ts_ns)
        return out

    def poll(self, now_ns: int) -> list[LiveEvent]:
        """Let the correlator's timers run and report handovers it has finished since the last call."""
        self.correlator.advance(now_ns)
        hos = self.correlator.result().handovers
        out = []
        for h in hos[self.handovers_seen:]:
            out.append(LiveEvent(ts_ns=now_ns, frame=h.t_bu, kind="handover", text=describe_handover(h),
                                 home_address=h.home_address))
        self.handovers_seen = len(hos)
        return out


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f} ms"


def describe_handover(h: Any) -> str:
    lost = h.echo_unsent + h.echo_unanswered
    return (f"handover #{h.id} {h.kind} {h.old_coa} -> {h.new_coa}: {h.result}, latency {_ms(h.total_ms)} "
            f"(detection {_ms(h.movement_detection_ms)}, address {_ms(h.address_configuration_ms)}, "
            f"registration {_ms(h.registration_ms)}, resumption {_ms(h.resumption_ms)}), "
            f"BU retransmissions {h.bu_retransmissions}, lost {lost} echo"
            + (f" + {h.stream_missing} stream" if h.stream_missing else ""))


class Printer:
    """Plain lines when piped; a rich, coloured view with a status line on a terminal."""

    STYLES = {"movement": "bold yellow", "dad": "cyan", "rs": "cyan", "bu": "bold blue", "bu_retx": "blue",
              "ba": "bold green", "resumed": "green", "handover": "bold magenta"}

    def __init__(self, stream: TextIO = sys.stdout, rich: bool | None = None) -> None:
        self.stream = stream
        self.rich = stream.isatty() if rich is None else rich
        self._console: Any = None
        self._status: Any = None
        if self.rich:
            from rich.console import Console

            self._console = Console(file=stream, highlight=False)
            self._status = self._console.status("capturing...")
            self._status.start()

    def event(self, e: LiveEvent) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(e.ts_ns / 1e9)) + f".{e.ts_ns // 1_000_000 % 1000:03d}"
        if self._console is not None:
            style = self.STYLES.get(e.kind, "")
            self._console.print(f"[dim]{stamp}[/dim] [{style}]{e.kind:<9}[/{style}] {e.text}", markup=True)
        else:
            print(f"{stamp} {e.kind:<9} {e.text}", file=self.stream, flush=True)

    def status(self, packets: int, stats: CaptureStats | None) -> None:
        if self._status is not None:
            drops = "" if stats is None else f", {stats.dropped} dropped by the kernel"
            self._status.update(f"capturing: {packets} packets{drops}")

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()


@dataclass(slots=True)
class LiveResult:
    correlation: Any
    stats: CaptureStats
    packets: int
    events: list[LiveEvent]
    internal_errors: int
    first_ns: int | None = None
    last_ns: int | None = None


def run_live(
    source: LiveSource,
    *,
    writer: PcapWriter | None = None,
    duration_s: float | None = None,
    count: int | None = None,
    on_event: Callable[[LiveEvent], None] | None = None,
    on_status: Callable[[int, CaptureStats | None], None] | None = None,
    home_addresses: tuple[IPv6Address, ...] = (),
    vantage: str = "auto",
    keep_events: int = 10_000,
) -> LiveResult:
    """Capture until `duration_s`, `count`, SIGINT or SIGTERM; return the finished correlation."""
    from mipsniff.correlate import Correlator, CorrelatorConfig, Vantage

    # No per-packet records: the live report does not list packets, and memory must stay flat for hours.
    config = CorrelatorConfig(vantage=Vantage(vantage), keep_packets=False)
    monitor = LiveMonitor(Correlator(config, home_addresses))
    events: list[LiveEvent] = []
    last_status = 0.0

    def stop(signum: int, frame: FrameType | None) -> None:
        source.stop()

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    known: frozenset[IPv6Address] = frozenset()

    def tick() -> None:
        nonlocal last_status
        t = time.monotonic()
        if on_status is not None and t - last_status > 0.25:
            last_status = t
            on_status(monitor.packets, source.stats() if isinstance(source, RawCapture) else None)

    try:
        for frame in capture_frames(source, writer=writer, duration_s=duration_s, count=count, on_tick=tick):
            for e in monitor.feed(frame):
                if len(events) < keep_events:  # bounded: the report holds the rest
                    events.append(e)
                if on_event is not None:
                    on_event(e)
            hoas = monitor.correlator.home_addresses
            if isinstance(source, RawCapture) and hoas != known:
                known = hoas
                source.add_known(hoas)  # keep the data of every MN learnt (plain UDP/TCP too)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    for e in monitor.poll(time.time_ns()):
        if on_event is not None:
            on_event(e)
    corr = monitor.correlator.finish()
    for h in corr.handovers[monitor.handovers_seen:]:
        e = LiveEvent(ts_ns=h.t_bu, frame=0, kind="handover", text=describe_handover(h), home_address=h.home_address)
        events.append(e)
        if on_event is not None:
            on_event(e)
    source.close()
    return LiveResult(correlation=corr, stats=source.stats(), packets=monitor.packets, events=events,
                      internal_errors=monitor.internal_errors, first_ns=monitor.first_ns, last_ns=monitor.last_ns)


def live_main(
    iface: str,
    *,
    write: str | None = None,
    duration_s: float | None = None,
    count: int | None = None,
    as_json: bool = False,
    backend: str = "raw",
    bpf: str | None = None,
    home_addresses: tuple[str, ...] = (),
    vantage: str = "auto",
    stream: TextIO = sys.stdout,
) -> dict[str, Any]:
    """`mipsniff live`: events while capturing, then the full report (text, or JSON with `as_json`)."""
    import json

    from mipsniff.capture.live import Backend, open_live
    from mipsniff.correlate import Vantage
    from mipsniff.report.export import report_dict
    from mipsniff.report.pipeline import CaptureInfo, Report

    hoas = tuple(IPv6Address(a) for a in home_addresses)
    source = open_live(iface, backend=Backend(backend), known=hoas, extra=bpf)
    printer = Printer(sys.stderr if as_json else stream)
    # One line on stderr once the socket is open: users (and tests) know packets are being captured now.
    print(f"mipsniff: capturing on {iface} ({backend}); Ctrl-C stops and prints the report", file=sys.stderr,
          flush=True)
    pcap_file = open(write, "wb") if write else None  # noqa: SIM115 - closed below, after the capture
    try:
        writer = PcapWriter(pcap_file, source.linktype, snaplen=SNAPLEN) if pcap_file is not None else None
        def on_event(e: LiveEvent) -> None:
            printer.event(e)

        result = run_live(source, writer=writer, duration_s=duration_s, count=count, on_event=on_event,
                          on_status=printer.status, home_addresses=hoas, vantage=vantage)
    finally:
        printer.close()
        if pcap_file is not None:
            pcap_file.close()
    corr = result.correlation
    stats = result.stats
    warnings = []
    if stats.dropped:
        warnings.append(f"the kernel dropped {stats.dropped} packets during the capture ({stats.source}): "
                        "the report may miss some")
    if result.internal_errors:
        warnings.append(f"{result.internal_errors} packets could not be analysed (internal error)")
    info = CaptureInfo(path=write or iface, packets=result.packets, start_ns=result.first_ns, end_ns=result.last_ns,
                       link_types=(source.linktype,), format=f"live:{backend}", warnings=tuple(warnings))
    report = Report(capture=info, correlation=corr, vantage=Vantage(vantage),
                    extra={"interface": iface, "backend": backend})
    doc = report_dict(report)
    doc["live"] = {"interface": iface, "backend": backend, "filter": source.filter_expression,
                   "kernel_received": stats.received, "kernel_dropped": stats.dropped,
                   "drop_counter": stats.source, "packets": result.packets, "pcap": write}
    if as_json:
        stream.write(json.dumps(doc, indent=2) + "\n")
    else:
        from rich.console import Console

        from mipsniff.report.terminal import render

        console = Console(file=stream, highlight=False, width=None if stream.isatty() else 120)
        render(report, console)
        console.print(f"capture: {result.packets} packets analysed, kernel received {stats.received}, "
                      f"dropped {stats.dropped} ({stats.source})")
    return doc
