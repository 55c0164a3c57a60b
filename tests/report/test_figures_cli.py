"""`mipsniff plot` through the CLI runner: every kind, every format, and one-line user errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mipsniff.cli import app

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = ROOT / "sample_pcaps" / "article.pcap"
FIXTURE = ROOT / "tests" / "test_analysis_article.json"
MAGIC = {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}


@pytest.mark.parametrize("kind", ["ladder", "rtt", "stream", "breakdown", "cdf"])
def test_plot_every_kind_from_a_capture(kind: str, tmp_path: Path) -> None:
    out = tmp_path / f"{kind}.png"
    res = CliRunner().invoke(app, ["plot", str(ARTICLE), "--kind", kind, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes().startswith(MAGIC[".png"]) and out.stat().st_size > 10_000


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_plot_format_follows_the_suffix(suffix: str, tmp_path: Path) -> None:
    out = tmp_path / f"ladder{suffix}"
    res = CliRunner().invoke(app, ["plot", str(FIXTURE), "--kind", "ladder", "--handover", "0", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes().startswith(MAGIC[suffix])


@pytest.mark.parametrize(("args", "message"), [
    (["--kind", "pie"], "unknown plot kind"),
    (["--kind", "ladder", "--handover", "5"], "has 1 handover(s)"),
    (["--kind", "rtt", "-o", "x.gif"], "unknown image format"),
])
def test_plot_user_errors(args: list[str], message: str, tmp_path: Path) -> None:
    if "-o" not in args:
        args = [*args, "-o", str(tmp_path / "x.png")]
    res = CliRunner().invoke(app, ["plot", str(FIXTURE), *args])
    assert res.exit_code != 0
    assert message in str(res.exception) + res.output


def test_plot_missing_capture(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["plot", str(tmp_path / "none.pcap"), "--kind", "rtt", "-o", str(tmp_path / "x.png")])
    assert res.exit_code != 0 and "no such capture" in str(res.exception)
