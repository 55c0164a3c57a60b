"""Figures render and hold the expected artists (arrows per message, shaded phases and blackout)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

import mipsniff  # noqa: E402
from mipsniff.analysis import Analysis  # noqa: E402
from mipsniff.report import figures  # noqa: E402

FIXTURE = Path(__file__).parents[1] / "test_analysis_article.json"


@pytest.fixture(scope="module")
def article() -> Analysis:
    return mipsniff.read_report(FIXTURE)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _arrows(ax, kind: str) -> list[Annotation]:
    return [c for c in ax.get_children() if isinstance(c, Annotation) and c.get_gid() == f"arrow:{kind}"]


def _gid(ax, gid: str) -> list:
    return [c for c in ax.get_children() if c.get_gid() == gid]


def test_ladder_has_one_arrow_per_message(article: Analysis) -> None:
    ax = article.plot_ladder(0)
    assert len(_arrows(ax, "BU")) == 2  # the BU and its retransmission (seq 54813, 54814)
    assert len(_arrows(ax, "BA")) == 1
    for kind in ("RS", "RA", "DAD_NS", "data_old", "data_new"):
        assert len(_arrows(ax, kind)) == 1, kind
    bu_labels = [t.get_text() for t in ax.texts if t.get_text().startswith("BU")]
    assert bu_labels == ["BU seq=54813", "BU seq=54814"]
    # lanes in order, arrows pointing the right way: BU MN(0) -> HA(2), BA HA(2) -> MN(0)
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["MN", "access", "HA", "CN"]
    (ba,) = _arrows(ax, "BA")
    assert ba.xyann[0] == 2 and ba.xy[0] == 0


def test_ladder_shades_each_phase_with_its_duration(article: Analysis) -> None:
    ax = article.plot_ladder(0)
    h = article.handovers.iloc[0]
    for phase in figures.PHASES:
        spans = _gid(ax, f"phase:{phase.name}")
        assert len(spans) == 1, phase.name
        label = next(t.get_text() for t in ax.texts if t.get_text().startswith(phase.label))
        ms = h[f"latency_ms.{phase.name}"]
        assert label.endswith(figures._fmt_ms(ms)), (label, ms)
    # phases meet on their boundary rows: movement detection ends where address configuration starts
    md, ac = (_gid(ax, f"phase:{n}")[0] for n in ("movement_detection", "address_configuration"))
    assert md.get_y() + md.get_height() == pytest.approx(ac.get_y())


def test_ladder_from_timeline_only() -> None:
    rec = mipsniff.read_report(FIXTURE).report["handovers"][0] | {"t_dad": None}
    ax = figures.plot_ladder(rec)
    assert len(_arrows(ax, "BU")) == 1 and len(_arrows(ax, "BA")) == 1
    assert len(_arrows(ax, "DAD_NS")) == 0
    assert any("+1 retx" in t.get_text() for t in ax.texts)


def test_rtt_blackout_spans_t_last_old_to_t_resumed(article: Analysis) -> None:
    ax = article.plot_rtt()
    h = article.handovers.iloc[0]
    t0 = float(article.echoes["t_sent"].min())
    (span,) = _gid(ax, "blackout")
    assert isinstance(span, Rectangle)
    assert span.get_x() == pytest.approx(h["t_last_old"] - t0, abs=1e-9)
    assert span.get_x() + span.get_width() == pytest.approx(h["t_resumed"] - t0, abs=1e-9)
    lines = {ln.get_gid(): ln for ln in ax.get_lines()}
    assert len(lines["rtt:answered"].get_xdata()) == 15
    assert len(lines["rtt:unanswered"].get_xdata()) == 1
    assert len(lines["rtt:unsent"].get_xdata()) == 4
    (note,) = _gid(ax, "rtt:annotation")
    assert "3.70 ms → 142 ms" in note.get_text()
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel().endswith("(s)") and ax.get_ylabel().endswith("(ms)")


def test_handover_rtt_and_stream(article: Analysis) -> None:
    ax = article.handover(0).plot_rtt()
    assert len(_gid(ax, "blackout")) == 1
    ax = article.plot_stream()
    (span,) = _gid(ax, "blackout")
    seq = [ln for ln in ax.get_lines() if ln.get_gid() == "stream:seq"]
    assert len(seq) == 1 and len(seq[0].get_xdata()) == len(article.stream())
    missing = _gid(ax, "stream:missing")
    assert [m.get_text() for m in missing] == ["75 missing"]
    assert ax.get_ylabel() == "sequence number"


def test_breakdown_stacks_every_phase(article: Analysis) -> None:
    rec = article.report["handovers"][0]
    rows = [rec, rec | {"id": 2, "latency_ms": rec["latency_ms"] | {"resumption": -20.0}},
            rec | {"id": 3, "latency_ms": rec["latency_ms"] | {"movement_detection": None}}]
    ax = figures.plot_breakdown(rows)
    for phase in figures.PHASES:
        bars = [p for p in ax.patches if p.get_gid() == f"bar:{phase.name}"]
        assert len(bars) == 3, phase.name
    reg = [p for p in ax.patches if p.get_gid() == "bar:registration"]
    assert reg[0].get_height() == pytest.approx(rec["latency_ms"]["registration"])
    res = [p for p in ax.patches if p.get_gid() == "bar:resumption"]
    assert res[1].get_height() == 0.0  # negative component drawn as zero
    # the third handover's movement detection is unknown: an empty box fills total - observed at the bottom
    (unobserved,) = [p for p in ax.patches if p.get_gid() == "bar:unobserved" and p.get_height() > 0]
    assert unobserved.get_height() == pytest.approx(rec["latency_ms"]["movement_detection"], abs=1e-2)
    ac = [p for p in ax.patches if p.get_gid() == "bar:address_configuration"][2]
    assert ac.get_y() == pytest.approx(unobserved.get_height())
    assert ax.get_ylabel() == "latency (ms)"
    # black-and-white: every phase has its own hatch
    assert len({p.get_hatch() for p in ax.patches if str(p.get_gid()).startswith("bar:") and p.get_hatch()}) == 4


def test_cdf_one_curve_per_group() -> None:
    rows = [{"home_address": mn, "latency_ms": {"total": float(v)}} for mn, v in
            [("a", 10), ("a", 30), ("a", 20), ("b", 5), ("b", 7)]]
    ax = figures.plot_cdf(rows)
    curves = {ln.get_gid(): ln for ln in ax.get_lines() if str(ln.get_gid()).startswith("cdf:")}
    assert set(curves) == {"cdf:a", "cdf:b"}
    a = curves["cdf:a"]
    assert list(a.get_ydata())[-2:] == [1.0, 1.0] and list(a.get_xdata())[1:4] == [10.0, 10.0, 20.0]
    assert curves["cdf:a"].get_linestyle() != curves["cdf:b"].get_linestyle()


@pytest.mark.parametrize(("kind", "suffix"), [(k, ".png") for k in ("ladder", "rtt", "stream", "breakdown", "cdf")]
                         + [("ladder", ".svg"), ("rtt", ".pdf")])
def test_every_figure_saves(article: Analysis, kind: str, suffix: str, tmp_path: Path) -> None:
    ax = article.plot(kind)
    out = tmp_path / f"{kind}{suffix}"
    figures.root_figure(ax).savefig(out)
    head = out.read_bytes()[:8]
    assert {".png": head.startswith(b"\x89PNG"), ".svg": b"<?xml" in head, ".pdf": head.startswith(b"%PDF")}[
        suffix]
    w, h = figures.root_figure(ax).get_size_inches()
    assert 4 <= w <= 10 and 2.5 <= h <= 10


def test_empty_data_still_draws() -> None:
    empty = mipsniff.read_report({"capture": {"path": "x.pcap"}, "handovers": [], "packets": []})
    for kind in ("rtt", "stream", "breakdown", "cdf"):
        assert empty.plot(kind) is not None
    with pytest.raises(mipsniff.errors.UserError, match="no handover"):
        empty.plot("ladder")


def test_ladder_route_optimisation_sample() -> None:
    # Return routability and the BU to the CN go to the CN's lane; phases never overlap even when
    # HoTI/CoTI leave in the very instant the BA arrives.
    capture = Path(__file__).resolve().parents[2] / "sample_pcaps" / "route-optimization.pcap"
    ax = mipsniff.load(capture).plot_ladder(0)
    assert len(_arrows(ax, "BU")) == 1 and len(_arrows(ax, "BA")) == 1
    (bu_cn,) = _arrows(ax, "BU_CN")
    assert bu_cn.xyann[0] == 0 and bu_cn.xy[0] == 3
    for kind in ("HoTI", "CoTI", "HoT", "CoT"):
        assert len(_arrows(ax, kind)) == 1, kind
    spans = [_gid(ax, f"phase:{p.name}")[0] for p in figures.PHASES]
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.get_y() + a.get_height() == pytest.approx(b.get_y())
    (ba,) = _arrows(ax, "BA")
    reg = spans[2]
    assert reg.get_y() + reg.get_height() == pytest.approx(ba.xy[1])  # registration ends on the BA row
