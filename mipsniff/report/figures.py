"""Publication figures of Mobile IPv6 handovers (RFC 6275 §11.5: movement detection, address
configuration, registration; RFC 4861 §6.3.7 / RFC 4862 §5.4 for the RS/RA and DAD phases).

Every figure is a function `(data, ax=None, ...) -> Axes` (STYLE §6): it draws on the axes it is given or
on a new figure of a sensible size, and never writes a file (only the CLI and the HTML report do). The
inputs are the report's records (a handover dict with the issue-4 timeline keys) and the tables of
`mipsniff.analysis` (packets, echoes, stream), so a notebook can feed its own filtered frames.

Everything is readable in black and white: phases differ by hatch as well as by grey level, and packet
fates differ by marker shape. Artists carry a `gid` (`arrow:BU`, `phase:registration`, `blackout`, ...)
so tests and users can find them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

__all__ = [
    "PHASES",
    "figure_for",
    "root_figure",
    "plot_ladder",
    "plot_rtt",
    "plot_stream",
    "plot_breakdown",
    "plot_cdf",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Phase:
    """One latency component: `name` runs from timeline key `start` to timeline key `end` (issue 4)."""

    name: str
    label: str
    start: str
    end: str
    hatch: str
    grey: str


# The report's latency components, in timeline order. `latency_ms.<name> = <end> - <start>`.
PHASES: tuple[Phase, ...] = (
    Phase(name="movement_detection", label="movement detection", start="t_last_old",
          end="t_movement_detected", hatch="//", grey="0.90"),
    Phase(name="address_configuration", label="address configuration", start="t_movement_detected",
          end="t_bu", hatch="\\\\", grey="0.75"),
    Phase(name="registration", label="registration", start="t_bu", end="t_ba", hatch="xx", grey="0.60"),
    Phase(name="resumption", label="resumption", start="t_ba", end="t_resumed", hatch="oo", grey="white"),
)

LANES: tuple[str, ...] = ("MN", "access router", "HA", "CN")
_MN, _AR, _HA, _CN = range(4)


def root_figure(ax: Axes) -> Figure:
    """The top-level figure holding `ax` (to save or close it)."""
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    return fig


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    fig, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    return new_ax


def _num(value: Any) -> float | None:
    """A timeline value as a float, or None for null/NaN/missing."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _fmt_ms(ms: float) -> str:
    if abs(ms) >= 1000:
        return f"{ms / 1000:.2f} s"
    if abs(ms) >= 100:
        return f"{ms:.0f} ms"
    if abs(ms) >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


# --- ladder ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LadderEvent:
    """One arrow of the ladder: a message seen at time `t` going from lane `src` to lane `dst`."""

    t: float
    src: int
    dst: int
    label: str
    kind: str  # gid suffix: RS, RA, DAD_NS, BU, BA, data_old, data_new
    frame: int | None = None
    dashed: bool = False


def _rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame's rows as plain dicts with string keys."""
    return [{str(k): v for k, v in rec.items()} for rec in df.to_dict("records")]


def _col(row: Mapping[str, Any], name: str) -> Any:
    value = row.get(name)
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _data_event(row: Mapping[str, Any], hoa: str, t: float, kind: str, label: str) -> LadderEvent:
    from_mn = _col(row, "inner_src") == hoa or _col(row, "src") == hoa
    tunnelled = (_col(row, "tunnel_depth") or 0) > 0
    text = f"{label}{' (tunnelled)' if tunnelled else ''}"
    src, dst = (_MN, _CN) if from_mn else (_CN, _MN)
    return LadderEvent(t=t, src=src, dst=dst, label=text, kind=kind, frame=_col(row, "frame"), dashed=True)


def ladder_events(handover: Mapping[str, Any], packets: pd.DataFrame | None = None) -> list[LadderEvent]:
    """The arrows of one handover's ladder, from its packets if given, else from its timeline alone."""
    hoa = str(handover.get("home_address"))
    t_lo = _num(handover.get("t_last_old"))
    t_hi = _num(handover.get("t_resumed"))
    known = [t for t in (_num(handover.get(k)) for k in _TIMELINE) if t is not None]
    if not known:
        return []
    lo = t_lo if t_lo is not None else min(known)
    hi = t_hi if t_hi is not None else max(known)
    events: list[LadderEvent] = []
    if packets is not None and len(packets):
        window = packets[(packets["ts"] >= lo - 1e-7) & (packets["ts"] <= hi + 1e-7)]
        new_coa = handover.get("new_coa")
        ha = handover.get("home_agent")
        for row in _rows(window):
            typ, t = row.get("type"), float(row["ts"])
            if typ == "RS":
                events.append(LadderEvent(t=t, src=_MN, dst=_AR, label="RS", kind="RS", frame=row.get("frame")))
            elif typ == "RA":
                mcast = str(_col(row, "dst") or "").startswith("ff")
                events.append(LadderEvent(t=t, src=_AR, dst=_MN, label="RA (multicast)" if mcast else "RA",
                                          kind="RA", frame=row.get("frame")))
            elif typ == "DAD NS":
                target = _col(row, "nd_target")
                if target == hoa:
                    # RFC 6275 §10.4.1: the HA defends the home address with DAD before accepting it.
                    events.append(LadderEvent(t=t, src=_HA, dst=_AR, label="DAD NS for HoA (by HA)",
                                              kind="DAD_NS_HOA", frame=row.get("frame")))
                elif target is None or new_coa is None or target == new_coa:
                    events.append(LadderEvent(t=t, src=_MN, dst=_AR, label="DAD NS", kind="DAD_NS",
                                              frame=row.get("frame")))
            elif typ == "BU" and _col(row, "home_address") in (hoa, None) and (
                new_coa is None or _col(row, "src") == new_coa
            ):
                lifetime = _col(row, "lifetime_s")
                text = f"BU seq={_col(row, 'mh_seq')}" + (" (dereg.)" if lifetime == 0 else "")
                # A BU to a correspondent (route optimisation, RFC 6275 §9.5.1) goes to the CN's lane.
                to_cn = ha is not None and _col(row, "dst") not in (ha, None)
                events.append(LadderEvent(t=t, src=_MN, dst=_CN if to_cn else _HA,
                                          label=text + (" to CN" if to_cn else ""), kind="BU_CN" if to_cn else "BU",
                                          frame=row.get("frame")))
            elif typ == "BA" and _col(row, "routing_home_address") in (hoa, None):
                text = f"BA seq={_col(row, 'mh_seq')} status={_col(row, 'ba_status')}"
                from_cn = ha is not None and _col(row, "src") not in (ha, None)
                events.append(LadderEvent(t=t, src=_CN if from_cn else _HA, dst=_MN,
                                          label=text + (" from CN" if from_cn else ""),
                                          kind="BA_CN" if from_cn else "BA", frame=row.get("frame")))
            elif typ in ("HOTI", "COTI", "HOT", "COT"):
                # Return routability (RFC 6275 §5.2.5): the init messages go MN -> CN, the tests back.
                label = {"HOTI": "HoTI", "COTI": "CoTI", "HOT": "HoT", "COT": "CoT"}[str(typ)]
                out = typ in ("HOTI", "COTI")
                events.append(LadderEvent(t=t, src=_MN if out else _CN, dst=_CN if out else _MN, label=label,
                                          kind=label, frame=row.get("frame")))
        for key, kind, label in (("t_last_old", "data_old", "last data, old path"),
                                 ("t_resumed", "data_new", "first data, new path")):
            t_data = _num(handover.get(key))
            if t_data is None:
                continue
            t = t_data
            hits = packets[(packets["ts"] - t).abs() < 5e-7]
            data = hits[hits["kind"].astype(str).isin(["echo", "udp", "rtp", "tcp", "data"])] if len(hits) else hits
            first = _rows((data if len(data) else hits).head(1))
            events.append(_data_event(first[0] if first else {}, hoa, t, kind, label))
    if not any(e.kind == "BU" for e in events):
        events.extend(_timeline_events(handover))
    return sorted(events, key=lambda e: (e.t, e.kind != "data_old"))


_TIMELINE = ("t_last_old", "t_link_up", "t_movement_detected", "t_dad", "t_bu", "t_ba", "t_resumed")


def _timeline_events(handover: Mapping[str, Any]) -> list[LadderEvent]:
    """Arrows from the timeline alone (no packets): one per observed phase boundary."""
    events: list[LadderEvent] = []
    retrans = handover.get("bu_retransmissions") or 0
    spec = (
        ("t_last_old", _CN, _MN, "last data, old path", "data_old"),
        ("t_link_up", _MN, _AR, "link up (first packet)", "link_up"),
        ("t_movement_detected", _AR, _MN, "RA", "RA"),
        ("t_dad", _MN, _AR, "DAD NS", "DAD_NS"),
        ("t_bu", _MN, _HA, f"BU seq={handover.get('bu_seq')}" + (f" (+{retrans} retx)" if retrans else ""), "BU"),
        ("t_ba", _HA, _MN, f"BA status={handover.get('ba_status')}", "BA"),
        ("t_resumed", _CN, _MN, "first data, new path", "data_new"),
    )
    for key, src, dst, label, kind in spec:
        t = _num(handover.get(key))
        if t is not None:
            events.append(LadderEvent(t=t, src=src, dst=dst, label=label, kind=kind,
                                      dashed=kind.startswith("data")))
    return events


def plot_ladder(handover: Mapping[str, Any], ax: Axes | None = None, *,
                packets: pd.DataFrame | None = None, title: str | None = None) -> Axes:
    """Ladder (message sequence) diagram of one handover.

    Lanes MN, access router, HA, CN; one arrow per RS, RA, DAD NS, BU (each retransmission), BA and the
    last/first data packets. Rows are in time order, evenly spaced so that messages a few microseconds
    apart stay legible; the left axis gives each row's time relative to `t_last_old`. The latency phases
    are shaded between their boundary rows and labelled on the right with their true durations.
    """
    events = ladder_events(handover, packets)
    n = max(len(events), 1)
    ax = _new_axes(ax, (7.0, max(3.2, 0.42 * n + 1.6)))
    t_ref = _num(handover.get("t_last_old"))
    if t_ref is None:
        t_ref = min((e.t for e in events), default=0.0)
    ys = list(range(n))
    # Phase shading: a phase runs from the row of its start instant to the row of its end instant, so
    # consecutive phases meet on their shared boundary message (e.g. the RA ends movement detection).
    times = [e.t for e in events]
    handles = []
    for phase in PHASES:
        t0, t1 = _num(handover.get(phase.start)), _num(handover.get(phase.end))
        if t0 is None or t1 is None or t1 < t0 or not times:
            continue
        y0 = _row_at(events, t0, _BOUNDARY_KIND[phase.start])
        y1 = _row_at(events, t1, _BOUNDARY_KIND[phase.end])
        if y0 is None or y1 is None:
            continue
        if y1 <= y0:  # both instants on one row: give the phase a visible sliver
            y0, y1 = y0 - 0.2, y0 + 0.2
        span = ax.axhspan(y0, y1, xmin=0.0, xmax=1.0, facecolor=phase.grey, hatch=phase.hatch,
                          edgecolor="0.35", linewidth=0.0, alpha=0.55, zorder=0)
        span.set_gid(f"phase:{phase.name}")
        ax.text(len(LANES) - 0.45, (y0 + y1) / 2, f"{phase.label}\n{_fmt_ms((t1 - t0) * 1e3)}",
                ha="left", va="center", fontsize=8.5, clip_on=False,
                bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "0.5", "linewidth": 0.6})
        handles.append(Patch(facecolor=phase.grey, hatch=phase.hatch, edgecolor="0.35", label=phase.label))
    for x in range(len(LANES)):
        ax.plot([x, x], [-0.8, n - 0.2], color="0.2", linewidth=1.2, zorder=1)
    for y, ev in zip(ys, events, strict=True):
        style = "-|>" if ev.src != ev.dst else "-"
        ann = ax.annotate(
            "", xy=(ev.dst, y), xytext=(ev.src, y),
            arrowprops={"arrowstyle": style, "color": "black", "linewidth": 1.3,
                        "linestyle": (0, (4, 2)) if ev.dashed else "-", "shrinkA": 0, "shrinkB": 0,
                        "mutation_scale": 12},
            zorder=3,
        )
        ann.set_gid(f"arrow:{ev.kind}")
        ax.text((ev.src + ev.dst) / 2, y - 0.12, ev.label, ha="center", va="bottom", fontsize=8.5,
                zorder=4, bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none",
                                "alpha": 0.85})
    ax.set_xlim(-0.35, len(LANES) - 0.55)
    ax.set_ylim(n - 0.3, -1.0)
    ax.xaxis.tick_top()
    ax.set_xticks(range(len(LANES)))
    ax.set_xticklabels(_lane_labels(handover), fontsize=9)
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{(e.t - t_ref) * 1e3:+.3f}" for e in events], fontsize=8)
    ax.set_ylabel("time since last data on old path (ms)")
    ax.tick_params(axis="x", length=0)
    for side in ("right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    if title is None:
        title = (f"Handover {handover.get('id', '')}: {handover.get('kind', '')} "
                 f"({handover.get('result', '')})").replace("  ", " ")
    ax.set_title(title, fontsize=10, pad=22)
    return ax


# The arrow that marks each timeline instant, used to anchor phase boundaries on the right row when
# several messages share a timestamp (e.g. HoTI and CoTI sent in the same instant as the BA arrives).
_BOUNDARY_KIND = {"t_last_old": "data_old", "t_movement_detected": "RA", "t_bu": "BU", "t_ba": "BA",
                  "t_resumed": "data_new"}


def _row_at(events: Sequence[LadderEvent], t: float, kind: str) -> float | None:
    """Row index of the `kind` arrow at instant t (else the first arrow then), or None if none is there."""
    rows = [i for i, e in enumerate(events) if abs(e.t - t) < 5e-7]
    if rows:
        same = [i for i in rows if events[i].kind == kind]
        return float((same or rows)[0])
    # No arrow at that instant (e.g. timeline-only data): interpolate between neighbouring rows.
    times = [e.t for e in events]
    before = [i for i, x in enumerate(times) if x < t]
    after = [i for i, x in enumerate(times) if x > t]
    if not before or not after:
        return None
    i, j = before[-1], after[0]
    return i + (t - times[i]) / (times[j] - times[i]) * (j - i)


def _lane_labels(handover: Mapping[str, Any]) -> list[str]:
    hoa, ha = handover.get("home_address"), handover.get("home_agent")
    return [f"MN\n{hoa}" if hoa else "MN", "access\nrouter", f"HA\n{ha}" if ha else "HA", "CN"]


# --- RTT ---------------------------------------------------------------------------------------------


def _handover_rows(handovers: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any] | None
                   ) -> list[Mapping[str, Any]]:
    if handovers is None:
        return []
    if isinstance(handovers, pd.DataFrame):
        return list(_rows(handovers))
    if isinstance(handovers, Mapping):
        return [handovers]
    return list(handovers)


def _shade_blackouts(ax: Axes, handovers: Iterable[Mapping[str, Any]], t0: float, *, label: str) -> int:
    count = partial = 0
    for h in handovers:
        lo, hi = _num(h.get("t_last_old")), _num(h.get("t_resumed"))
        if hi is None:
            continue
        if lo is None:
            # The vantage did not see the last packet on the old path: shade from the first phase it did
            # see, with a lighter hatch, and say so in the legend rather than invent a start.
            seen = [t for t in (_num(h.get(k)) for k in _TIMELINE) if t is not None]
            lo = min(seen)
            span = ax.axvspan(lo - t0, hi - t0, facecolor="0.93", edgecolor="0.55", hatch="..", linewidth=0.0,
                              zorder=0, label="handover (start of blackout not observed)" if partial == 0 else None)
            span.set_gid("blackout:partial")
            partial += 1
            continue
        span = ax.axvspan(lo - t0, hi - t0, facecolor="0.85", edgecolor="0.4", hatch="//", linewidth=0.0,
                          zorder=0, label=label if count == 0 else None)
        span.set_gid("blackout")
        count += 1
    return count


def plot_rtt(echoes: pd.DataFrame, ax: Axes | None = None, *,
             handovers: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
             t0: float | None = None, title: str | None = None) -> Axes:
    """RTT of every echo request over time: the article's ping output as a picture.

    `echoes` is `Analysis.echoes` (columns `seq`, `t_sent`, `rtt_ms`, `fate` in answered / unanswered /
    unsent). Answered requests are dots joined by a line; unanswered (x) and unsent (open triangle)
    requests are marked on a strip at the bottom. The blackout `t_last_old`..`t_resumed` of every
    handover is shaded and the RTT before/after (`rtt_ms.before` -> `rtt_ms.after`) annotated.
    """
    ax = _new_axes(ax, (7.0, 3.4))
    rows = _handover_rows(handovers)
    if t0 is None:
        starts = [float(echoes["t_sent"].min())] if len(echoes) else []
        starts += [t for t in (_num(h.get("t_last_old")) for h in rows) if t is not None]
        t0 = min(starts) if starts else 0.0
    _shade_blackouts(ax, rows, t0, label="blackout (last old .. first new data)")
    answered = echoes[echoes["fate"] == "answered"] if len(echoes) else echoes
    flows = sorted(str(f) for f in echoes["flow"].unique()) if len(echoes) and "flow" in echoes else ["all"]
    markers = ("o", "s", "^", "D", "v", "P")
    for i, flow in enumerate(flows):
        part = echoes if len(flows) == 1 else echoes[echoes["flow"] == flow]
        ok = part[part["fate"] == "answered"]
        if not len(ok):
            continue
        # The line breaks at every request that got no reply, so it never bridges a blackout.
        ordered = part.sort_values("t_sent")
        ax.plot(ordered["t_sent"] - t0, ordered["rtt_ms"].where(ordered["fate"] == "answered"), color="black",
                linewidth=0.8, gid="rtt:line")
        name = "answered" if len(flows) == 1 else f"answered: {flow.removeprefix('echo ')}"
        ax.plot(ok["t_sent"] - t0, ok["rtt_ms"], color="black", marker=markers[i % len(markers)],
                markersize=3.5, markerfacecolor="black" if i % 2 == 0 else "white", linestyle="none",
                label=name, gid="rtt:answered")
    strip = blended_transform_factory(ax.transData, ax.transAxes)
    for fate, marker, face in (("unanswered", "x", "black"), ("unsent", "^", "none")):
        part = echoes[echoes["fate"] == fate] if len(echoes) else echoes
        if len(part):
            ax.plot(part["t_sent"] - t0, np.full(len(part), 0.05), linestyle="none", marker=marker,
                    markersize=6, markerfacecolor=face, markeredgecolor="black", transform=strip,
                    label=f"{fate} ({len(part)})", gid=f"rtt:{fate}", clip_on=False)
    rtts = answered["rtt_ms"].to_numpy(dtype=float) if len(answered) else np.array([])
    if len(rtts) and rtts.min() > 0 and rtts.max() / rtts.min() > 15:
        ax.set_yscale("log")
        ax.set_ylim(rtts.min() / 3.0, rtts.max() * 2.0)
    elif len(rtts):
        ax.set_ylim(0, max(float(rtts.max()) * 1.25, 1.0))
    # One box per handover reads well; with many handovers the boxes would overlap (see the table).
    if len(rows) <= 2:
        for h in rows:
            _annotate_rtt(ax, h, t0)
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("round-trip time (ms)")
    ax.grid(True, which="major", color="0.88", linewidth=0.6)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=8, frameon=True, framealpha=0.9)
    else:
        ax.text(0.5, 0.5, "no ICMPv6 echo requests in this capture", transform=ax.transAxes, ha="center",
                va="center", fontsize=9, color="0.3")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def _annotate_rtt(ax: Axes, h: Mapping[str, Any], t0: float) -> None:
    rtt: Mapping[str, Any] = h["rtt_ms"] if isinstance(h.get("rtt_ms"), Mapping) else {
        "before": h.get("rtt_ms.before"), "after": h.get("rtt_ms.after")}
    before, after = _num(rtt.get("before")), _num(rtt.get("after"))
    lo, hi = _num(h.get("t_last_old")), _num(h.get("t_resumed"))
    if lo is None or hi is None or (before is None and after is None):
        return
    text = f"RTT {_fmt_ms(before) if before is not None else '?'} → {_fmt_ms(after) if after is not None else '?'}"
    lost = h.get("lost") if isinstance(h.get("lost"), Mapping) else {}
    total = _num(h.get("latency_ms", {}).get("total") if isinstance(h.get("latency_ms"), Mapping)
                 else h.get("latency_ms.total"))
    if total is not None:
        text += f"\nblackout {_fmt_ms(total)}"
    if lost:
        text += f"\n{lost.get('echo_unsent', 0)} unsent, {lost.get('echo_unanswered', 0)} unanswered"
    ann = ax.annotate(text, xy=((lo + hi) / 2 - t0, 0.5), xycoords=("data", "axes fraction"),
                      ha="center", va="center", fontsize=8,
                      bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "0.3"})
    ann.set_gid("rtt:annotation")


# --- stream ------------------------------------------------------------------------------------------


def plot_stream(stream: pd.DataFrame, ax: Axes | None = None, *,
                handovers: pd.DataFrame | Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
                t0: float | None = None, title: str | None = None) -> Axes:
    """Stream continuity: sequence number (left axis) and inter-arrival gap (right axis, log) over time.

    `stream` is `Analysis.stream()` (columns `t`, `seq`, `gap_ms`, `flow`). Gaps in the sequence show
    as steps in the staircase; the handover window is shaded.
    """
    ax = _new_axes(ax, (7.0, 3.4))
    rows = _handover_rows(handovers)
    if t0 is None:
        t0 = float(stream["t"].min()) if len(stream) else 0.0
    _shade_blackouts(ax, rows, t0, label="handover window")
    markers = ("o", "s", "D", "v", "^")
    gap_ax = ax.twinx()
    flows = list(stream.groupby("flow", observed=True, sort=True)) if len(stream) else []
    handles = []
    for i, (flow, part) in enumerate(flows):
        m = markers[i % len(markers)]
        name = "" if len(flows) == 1 else f" {flow}"
        (line,) = ax.plot(part["t"] - t0, part["seq"], linestyle="none", marker=m, markersize=2.2,
                          color="black", label=f"sequence number{name}", gid="stream:seq")
        # A gap describes the interval before its packet, hence steps-pre.
        (gline,) = gap_ax.plot(part["t"] - t0, part["gap_ms"], color="0.45", linewidth=0.9,
                               drawstyle="steps-pre", linestyle=(0, (3, 1.5)),
                               label=f"inter-arrival gap{name}", gid="stream:gap")
        handles += [line, gline]
        missing = part["missing_before"].to_numpy()
        for j in np.flatnonzero(missing > 0):
            tj = float(part["t"].iloc[j]) - t0
            ax.annotate(f"{int(missing[j])} missing", xy=(tj, float(part["seq"].iloc[j])),
                        xytext=(-8, -6), textcoords="offset points", ha="right", va="top", fontsize=7.5,
                        arrowprops={"arrowstyle": "-", "color": "0.3", "linewidth": 0.6}, gid="stream:missing")
    if len(stream) and stream["gap_ms"].notna().any() and stream["gap_ms"].max() > 0:
        gap_ax.set_yscale("log")
        gmax, gmin = float(stream["gap_ms"].max()), float(stream["gap_ms"][stream["gap_ms"] > 0].min())
        gap_ax.set_ylim(gmin / 2.0, gmax * 4.0)
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("sequence number")
    gap_ax.set_ylabel("inter-arrival gap (ms, log)")
    ax.grid(True, color="0.9", linewidth=0.6)
    spans = [p for p in ax.patches if p.get_gid() == "blackout"][:1]
    spans += [p for p in ax.patches if p.get_gid() == "blackout:partial"][:1]
    if handles:
        ax.legend(handles=handles + spans, loc="lower right", fontsize=7.5, framealpha=0.95)
    if title is None and len(flows) == 1:
        title = str(flows[0][0])
    if title:
        ax.set_title(title, fontsize=10)
    return ax


# --- latency breakdown and CDF ------------------------------------------------------------------------


def _latency(h: Mapping[str, Any], name: str) -> float | None:
    if f"latency_ms.{name}" in h:
        return _num(h[f"latency_ms.{name}"])
    lat = h.get("latency_ms")
    return _num(lat.get(name)) if isinstance(lat, Mapping) else None


def plot_breakdown(handovers: pd.DataFrame | Sequence[Mapping[str, Any]], ax: Axes | None = None, *,
                   labels: Sequence[str] | None = None, title: str | None = None) -> Axes:
    """Stacked bars of each handover's latency components (ms); a diamond marks the total.

    A negative component (e.g. downlink data tunnelled to the new care-of address before the BA arrives,
    so `t_resumed < t_ba`) is drawn as zero height; the diamond still shows the true total. Components
    the vantage could not observe (null, e.g. movement detection at the HA) are drawn together as one
    empty dashed box at the bottom, as tall as the total minus the observed components, so the observed
    ones keep their place in time order above it.
    """
    rows = _handover_rows(handovers)
    ax = _new_axes(ax, (min(10.0, max(4.5, 0.6 * len(rows) + 2.5)), 3.6))
    if labels is None:
        labels = [str(h.get("label") or h.get("scenario") or f"#{h.get('id', i)}") for i, h in enumerate(rows)]
    x = np.arange(len(rows))
    comps = np.array([[_latency(h, p.name) for p in PHASES] for h in rows], dtype=float).reshape(len(rows),
                                                                                            len(PHASES))
    totals = np.array([_latency(h, "total") for h in rows], dtype=float)
    heights_all = np.where(np.isnan(comps), 0.0, np.clip(comps, 0.0, None))
    missing = np.isnan(comps).any(axis=1)
    unobserved = np.where(missing & ~np.isnan(totals), np.clip(totals - heights_all.sum(axis=1), 0.0, None), 0.0)
    bottom = unobserved.copy()
    if unobserved.any():
        bars = ax.bar(x, unobserved, 0.6, facecolor="white", edgecolor="0.3", linestyle=(0, (3, 2)),
                      linewidth=0.8, label="not observed at this vantage")
        for b in bars:
            b.set_gid("bar:unobserved")
    for j, phase in enumerate(PHASES):
        heights = heights_all[:, j]
        bars = ax.bar(x, heights, 0.6, bottom=bottom, facecolor=phase.grey, hatch=phase.hatch,
                      edgecolor="black", linewidth=0.7, label=phase.label)
        for b in bars:
            b.set_gid(f"bar:{phase.name}")
        bottom += heights
    ax.plot(x, totals, linestyle="none", marker="D", markersize=5, markerfacecolor="white",
            markeredgecolor="black", label="total (last old → first new data)", gid="bar:total")
    ax.set_xlim(-0.5 - max(0.0, (3 - len(rows)) * 0.5), len(rows) - 0.5 + max(0.0, (3 - len(rows)) * 0.5))
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=30 if len(rows) > 4 else 0, ha="right" if len(rows) > 4 else "center",
                       fontsize=8.5)
    ax.set_ylabel("latency (ms)")
    ax.set_xlabel("handover")
    ax.grid(True, axis="y", color="0.88", linewidth=0.6)
    ax.set_axisbelow(True)
    top = np.nanmax(np.concatenate([bottom, totals])) if len(rows) else 1.0
    ax.set_ylim(0, (top if np.isfinite(top) and top > 0 else 1.0) * 1.35)
    ax.legend(fontsize=7.5, loc="upper left", ncols=2, framealpha=0.9)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_cdf(handovers: pd.DataFrame | Sequence[Mapping[str, Any]], ax: Axes | None = None, *,
             by: str = "home_address", metric: str = "total", title: str | None = None) -> Axes:
    """Empirical CDF of handover latency (`latency_ms.<metric>`) across handovers, one step line per group.

    `by` names the grouping column (`home_address` for per-MN, `scenario` when several captures were
    loaded, or None for one curve). Groups differ by line style and marker, not colour alone.
    """
    ax = _new_axes(ax, (5.5, 3.6))
    frame = pd.DataFrame(_handover_rows(handovers))
    col = f"latency_ms.{metric}"
    if len(frame) and col not in frame.columns:
        frame[col] = [_latency(h, metric) for h in _rows(frame)]
    styles = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v")]
    groups: list[tuple[str, pd.DataFrame]]
    if not len(frame):
        groups = []
    elif by and by in frame.columns:
        groups = [(str(k), g) for k, g in frame.groupby(by, sort=True, observed=True)]
    else:
        groups = [("all", frame)]
    all_vals = pd.to_numeric(frame[col], errors="coerce").dropna() if len(frame) else pd.Series(dtype=float)
    max_all = float(all_vals.max()) if len(all_vals) else 1.0
    for i, (name, g) in enumerate(groups):
        vals = np.sort(pd.to_numeric(g[col], errors="coerce").dropna().to_numpy(dtype=float))
        if not len(vals):
            continue
        ys = np.arange(1, len(vals) + 1) / len(vals)
        ls, mk = styles[i % len(styles)]
        xmax = max_all * 1.08
        ax.step(np.concatenate([[0.0, vals[0]], vals, [xmax]]), np.concatenate([[0.0, 0.0], ys, [1.0]]),
                where="post", color="black",
                linestyle=ls, linewidth=1.2, gid=f"cdf:{name}")
        ax.plot(vals, ys, linestyle="none", marker=mk, markersize=4, markerfacecolor="white",
                markeredgecolor="black")
        ax.plot([], [], color="black", linestyle=ls, marker=mk, markerfacecolor="white",
                label=f"{name} (n={len(vals)})")
    ax.set_xlabel(f"handover latency, {metric.replace('_', ' ')} (ms)")
    ax.set_ylabel("fraction of handovers")
    ax.set_ylim(0, 1.05)
    ax.set_xlim(0, max_all * 1.08)
    ax.grid(True, color="0.88", linewidth=0.6)
    if groups:
        ax.legend(fontsize=7.5, loc="lower right", framealpha=0.9)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


# --- CLI support --------------------------------------------------------------------------------------

FORMATS = (".png", ".svg", ".pdf")


def figure_for(source: str, *, kind: str, handover: int | None = None, output: str = ".png",
               vantage: str = "auto") -> Axes:
    """The figure `mipsniff plot` draws: `source` is a capture or a report JSON; `output`'s suffix is
    checked first (PNG, SVG or PDF) so a typo fails before the capture is read."""
    from pathlib import Path

    from mipsniff.analysis import load, read_report
    from mipsniff.errors import UserError

    suffix = Path(output).suffix.lower()
    if suffix not in FORMATS:
        raise UserError(f"{output}: unknown image format {suffix or '(no suffix)'!r}; use .png, .svg or .pdf")
    analysis = read_report(source) if Path(source).suffix.lower() == ".json" else load(source, vantage=vantage)
    ax = analysis.plot(kind, handover=handover)
    root_figure(ax).set_dpi(150)
    return ax
