"""The readable terminal report (rich): per mobile node, each handover's timeline, latency, loss and RTT.

Rendering only: the numbers come from `records.Handover` (RFC 6275 §11.5 phases); nothing is computed here
that the JSON does not also carry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mipsniff.correlate.records import Handover, HandoverResult

if TYPE_CHECKING:
    from mipsniff.report.pipeline import Report

_PHASES = (
    ("last data on old path", "t_last_old"),
    ("link up (first MN frame)", "t_link_up"),
    ("movement detected", "t_movement_detected"),
    ("DAD NS", "t_dad"),
    ("Binding Update", "t_bu"),
    ("Binding Ack", "t_ba"),
    ("data resumed", "t_resumed"),
)
_RESULT_STYLE = {HandoverResult.COMPLETED: "green", HandoverResult.FAILED: "red", HandoverResult.INCOMPLETE: "yellow"}


def _clock(ts_ns: int) -> str:
    """Time of day in UTC with the capture's microseconds, as tcpdump -tttt prints it (the date is in
    the header line); the JSON keeps epoch seconds."""
    sec, us = divmod(ts_ns // 1000, 1_000_000)
    return f"{datetime.fromtimestamp(sec, UTC):%H:%M:%S}.{us:06d}"


def _fmt_ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f} ms"


def _timeline(h: Handover) -> Table:
    t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    t.add_column("phase")
    t.add_column("time (UTC)", justify="right")
    t.add_column("Δ from previous", justify="right")
    t.add_column("Δ from last old", justify="right")
    prev: int | None = None
    for label, key in _PHASES:
        ts = getattr(h, key)
        if key == "t_movement_detected" and h.movement_trigger == "router_loss":
            label = "movement detected (router lost)"
        if ts is None:
            t.add_row(label, Text("not seen", style="dim"), "", "")
            continue
        delta = "" if prev is None else f"{(ts - prev) / 1e6:+.3f} ms"
        since = "" if h.t_last_old is None else f"{(ts - h.t_last_old) / 1e6:.3f} ms"
        t.add_row(label, _clock(ts), delta, since)
        prev = ts
    return t


def _summary(h: Handover) -> Table:
    t = Table(show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    t.add_row("total (resumed - last old)", _fmt_ms(h.total_ms))
    t.add_row("movement detection", _fmt_ms(h.movement_detection_ms))
    t.add_row("address configuration", _fmt_ms(h.address_configuration_ms))
    t.add_row("registration (BA - BU)", _fmt_ms(h.registration_ms))
    t.add_row("resumption (resumed - BA)", _fmt_ms(h.resumption_ms))
    if h.echo_unsent is None:
        t.add_row("lost", "— (the window last old → resumed is not closed)")
    else:
        t.add_row(
            "lost",
            f"echo unsent {h.echo_unsent}, echo unanswered {h.echo_unanswered}, stream missing {h.stream_missing}",
        )
    before = "—" if h.rtt_before_ns is None else f"{h.rtt_before_ns / 1e6:.2f} ms"
    after = "—" if h.rtt_after_ns is None else f"{h.rtt_after_ns / 1e6:.2f} ms"
    t.add_row("echo RTT before → after", f"{before} → {after}")
    ba = "no BA" if h.ba_status is None else f"{h.ba_status} ({h.ba_status_name})"
    t.add_row("BU seq / resends / BA", f"{h.bu_seq} / {h.bu_retransmissions} / {ba}")
    if h.l2_events:
        t.add_row("802.11 events", ", ".join(f"{e.subtype}@{_clock(e.t)}" for e in h.l2_events))
    if h.ping_pong:
        t.add_row("ping-pong", "back to the previous address")
    return t


def render(report: Report, console: Console) -> None:
    c = report.capture
    corr = report.correlation
    span = ""
    if c.start_ns is not None and c.end_ns is not None:
        start = datetime.fromtimestamp(c.start_ns // 10**9, UTC)
        span = f", {start:%Y-%m-%d %H:%M:%S} UTC + {(c.end_ns - c.start_ns) / 1e9:.3f} s"
    console.print(
        f"[bold]{c.path}[/bold]: {c.packets} packets{span}, vantage {report.vantage.value}, "
        f"{len(corr.mobile_nodes)} mobile node(s), {len(corr.handovers)} handover(s), "
        f"{len(corr.bindings)} binding exchange(s)"
    )
    for warning in c.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    for mn in corr.mobile_nodes:
        hos = [h for h in corr.handovers if h.home_address == mn.home_address]
        refreshes = sum(
            1 for b in corr.bindings if b.home_address == mn.home_address and b.kind.value == "refresh"
        )
        coas = ", ".join(str(a) for a in mn.care_of_addresses) or "none"
        console.rule(f"MN {mn.home_address}  HA {mn.home_agent or '?'}")
        console.print(f"care-of addresses: {coas}; {len(hos)} handover(s), {refreshes} refresh(es)")
        for h in hos:
            style = _RESULT_STYLE[h.result]
            old = "home" if h.old_coa in (None, h.home_address) else h.old_coa
            new = "home" if h.new_coa in (None, h.home_address) else h.new_coa
            title = Text.assemble(
                f"#{h.id} {h.kind.value}  {old} → {new}  ", (h.result.value, style),
            )
            if h.result == HandoverResult.FAILED and h.ba_status is not None:
                title.append(f"  BA {h.ba_status} {h.ba_status_name}", style="red")
            console.print(Panel(Group(_timeline(h), Text(""), _summary(h)), title=title, title_align="left"))
    if corr.weirds:
        console.rule("weirds")
        t = Table("frame", "time (UTC)", "name", "home address", "detail", box=None)
        for cw in corr.weirds:
            t.add_row(str(cw.frame), _clock(cw.ts_ns), cw.name, str(cw.home_address or ""), cw.detail)
        console.print(t)
