"""One self-contained HTML page of a handover report (issue 4 timelines, RFC 6275 §11.5 phases).

Everything is inline: CSS in a <style> element, every figure a base64 PNG `data:` URI, no scripts and no
external resources, so the file can be attached to a bug report or a lab notebook and opened offline.
The page holds the capture summary, the handovers table, the mobile nodes, the weirds, the whole-capture
RTT plot and, for each handover, its ladder diagram and RTT plot.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from mipsniff.analysis import Analysis

__all__ = ["figure_data_uri", "render_html", "report_html"]

_CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 1.5em auto; max-width: 1100px;
       color: #111; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.6em;
     border-bottom: 1px solid #999; } h3 { font-size: 1.05em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.meta td:first-child { font-weight: bold; background: #f6f6f6; }
.result-completed { } .result-failed { font-weight: bold; text-decoration: underline; }
.result-incomplete { font-style: italic; }
figure { margin: 0.8em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #333; }
.handover { page-break-inside: avoid; } .muted { color: #555; font-size: 0.85em; }
code { font-size: 0.95em; } .scroll { overflow-x: auto; }
"""


def figure_data_uri(ax: Axes, *, dpi: int = 110) -> str:
    """Render the figure holding `ax` as a PNG `data:` URI and close it."""
    from mipsniff.report.figures import root_figure

    buf = io.BytesIO()
    fig = root_figure(ax)
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.{digits}f}"
    try:
        import pandas as pd

        if pd.isna(value):
            return "—"
    except (TypeError, ValueError):
        pass
    return str(value)


def _time(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    try:
        return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    except (TypeError, ValueError, OverflowError, OSError):
        return escape(str(value))


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: Iterable[int] = ()) -> str:
    nums = set(numeric)
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{escape(_fmt(v))}</td>' if i in nums else f"<td>{escape(_fmt(v))}</td>"
            for i, v in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}" class="muted">none</td></tr>')
    return (f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
            "</table></div>")


def _figure(uri: str, alt: str, caption: str, gid: str) -> str:
    return (f'<figure id="{escape(gid)}"><img src="{uri}" alt="{escape(alt)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def render_html(analysis: Analysis, *, title: str | None = None, dpi: int = 110, max_handover_figures: int = 50
                ) -> str:
    """The whole report as one HTML document (a string); only the CLI writes it to a file.

    Each handover gets its ladder and RTT figures, up to `max_handover_figures` handovers (about a
    second and 50 kB each); the tables always list every handover."""
    from mipsniff.report.figures import PHASES

    parts: list[str] = []
    names = ", ".join(str((r.get("capture") or {}).get("path", "?")) for r in analysis.reports)
    title = title or f"mipsniff report: {names}"
    parts.append(f"<h1>{escape(title)}</h1>")
    for rep in analysis.reports:
        cap: Mapping[str, Any] = rep.get("capture") or {}
        meta = [("capture", cap.get("path")), ("packets", cap.get("packets")),
                ("start", _time(cap.get("start"))), ("end", _time(cap.get("end"))),
                ("link types", ", ".join(str(x) for x in cap.get("link_types") or [])),
                ("vantage", rep.get("vantage", analysis.vantage))]
        rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(_fmt(v))}</td></tr>" for k, v in meta)
        parts.append(f'<table class="meta">{rows}</table>')

    h = analysis.handovers
    parts.append(f"<h2>Handovers ({len(h)})</h2>")
    parts.append('<p class="muted">Latency components in ms: movement detection = t_movement_detected − '
                 "t_last_old; address configuration = t_bu − t_movement_detected; registration = t_ba − "
                 "t_bu; resumption = t_resumed − t_ba; total = t_resumed − t_last_old. "
                 "— marks a phase this vantage could not observe.</p>")
    recs = h.to_dict("records")
    parts.append(_table(
        ["#", "capture", "home address", "kind", "result", "old CoA", "new CoA", "BU seq", "BU retx",
         "BA status"],
        ([r.get("id"), r.get("capture"), r.get("home_address"), r.get("kind"), r.get("result"),
          r.get("old_coa"), r.get("new_coa"), r.get("bu_seq"), r.get("bu_retransmissions"),
          f"{_fmt(r.get('ba_status'))} {_fmt(r.get('ba_status_name'))}".strip()] for r in recs),
        numeric=[0, 7, 8]))
    parts.append("<h3>Latency (ms), loss and RTT (ms)</h3>")
    parts.append(_table(
        ["#", "total", *[p.label for p in PHASES], "echo unsent", "echo unanswered", "stream missing",
         "RTT before", "RTT after"],
        ([r.get("id"), r.get("latency_ms.total"), *[r.get(f"latency_ms.{p.name}") for p in PHASES],
          r.get("lost.echo_unsent"), r.get("lost.echo_unanswered"), r.get("lost.stream_missing"),
          _fmt(r.get("rtt_ms.before"), 2), _fmt(r.get("rtt_ms.after"), 2)] for r in recs),
        numeric=range(11)))

    mn = analysis.mobile_nodes
    parts.append(f"<h2>Mobile nodes ({len(mn)})</h2>")
    parts.append(_table(["home address", "home agent", "care-of addresses"],
                        ([r.get("home_address"), r.get("home_agent"),
                          ", ".join(str(x) for x in (r.get("care_of_addresses") or []))]
                         for r in mn.to_dict("records"))))
    b = analysis.bindings
    parts.append(f"<h2>Bindings ({len(b)})</h2>")
    parts.append(_table(["home address", "care-of address", "kind", "BU time", "seq", "lifetime (s)", "status"],
                        ([r.get("home_address"), r.get("care_of_address"), r.get("kind"), _time(r.get("t_bu")),
                          r.get("seq"), r.get("lifetime_s"), r.get("status")] for r in b.to_dict("records")),
                        numeric=[4, 5, 6]))
    w = analysis.weirds
    parts.append(f"<h2>Weirds ({len(w)})</h2>")
    wcols = [c for c in w.columns if c != "capture"]
    parts.append(_table(wcols, ([r.get(c) for c in wcols] for r in w.to_dict("records"))))

    parts.append("<h2>Figures</h2>")
    if len(analysis.echoes):
        parts.append(_figure(figure_data_uri(analysis.plot_rtt(), dpi=dpi), "RTT over the whole capture",
                             "Echo round-trip time over the whole capture; blackouts shaded.", "fig-rtt"))
    if len(h) > 1:
        parts.append(_figure(figure_data_uri(analysis.plot_breakdown(), dpi=dpi), "latency breakdown",
                             "Latency components of every handover.", "fig-breakdown"))
    for i, view in enumerate(analysis):
        if i == max_handover_figures:
            parts.append(f'<p class="muted">Figures of the remaining {len(h) - i} handovers are left out; '
                         "draw them with <code>mipsniff plot CAPTURE --kind ladder --handover N</code>.</p>")
            break
        rec = view.record
        parts.append(f'<section class="handover"><h3>Handover {escape(_fmt(rec.get("id")))}: '
                     f'{escape(_fmt(rec.get("kind")))}, <span class="result-{escape(_fmt(rec.get("result")))}">'
                     f'{escape(_fmt(rec.get("result")))}</span></h3>')
        parts.append(_figure(figure_data_uri(view.plot_ladder(), dpi=dpi), f"ladder diagram of handover {i}",
                             "Ladder diagram: one arrow per message, rows in time order, phases shaded.",
                             f"fig-ladder-{i}"))
        if len(view.echoes):
            parts.append(_figure(figure_data_uri(view.plot_rtt(), dpi=dpi), f"RTT around handover {i}",
                                 "Echo RTT around the handover; blackout t_last_old..t_resumed shaded.",
                                 f"fig-rtt-{i}"))
        parts.append("</section>")
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n"
            f'<p class="muted">Generated by mipsniff.</p>\n</body></html>\n')


def report_html(capture: str, report: Any, *, vantage: str = "auto", dpi: int = 110) -> str:
    """The page for `mipsniff report CAPTURE --html FILE`: `report` is the `Report` (or its dict) the
    command already built; the packets for the RTT plots are read from `capture` again."""
    from pathlib import Path

    from mipsniff.analysis import Analysis

    data = report if isinstance(report, Mapping) else report.to_dict()
    return render_html(Analysis([data], None, paths=[Path(capture)], vantage=vantage), dpi=dpi)
