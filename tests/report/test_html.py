"""The HTML report is one self-contained file that headless Chromium renders without console errors,
with every figure decoded (naturalWidth > 0)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

import mipsniff  # noqa: E402
from mipsniff.analysis import Analysis  # noqa: E402
from mipsniff.report.html import render_html  # noqa: E402

FIXTURE = Path(__file__).parents[1] / "test_analysis_article.json"

# Appended to a copy of the page: once everything has loaded, write each <img>'s decoded size into the
# DOM, which `--dump-dom` then prints.
CHECK = """<script>
window.addEventListener("load", function () {
  var out = Array.prototype.map.call(document.images, function (im) {
    return {id: im.parentNode.id, complete: im.complete, w: im.naturalWidth, h: im.naturalHeight};
  });
  var pre = document.createElement("pre"); pre.id = "mipsniff-check";
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
});
</script>"""


@pytest.fixture(scope="module")
def article() -> Analysis:
    return mipsniff.read_report(FIXTURE)


@pytest.fixture(scope="module")
def page(article: Analysis) -> str:
    return render_html(article)


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (Debian package `chromium`, in the Makefile's DEBS)")
        pytest.skip("chromium is not installed; `make deps` installs it")
    return exe


def _dump_dom(html_path: Path, profile: Path) -> tuple[str, str]:
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom",
           html_path.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


def test_page_is_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"""(src|href)=["'](?!data:)""", page), "every resource must be inline"
    assert "http://" not in page and "https://" not in page
    imgs = re.findall(r'<img src="data:image/png;base64,', page)
    assert len(imgs) == 3  # whole-capture RTT, then the handover's ladder and RTT


def test_page_has_the_summary(page: str, article: Analysis) -> None:
    h = article.handovers.iloc[0]
    for text in ("Handovers (1)", "2001:db8::beef", "home_to_foreign", "completed", "54814",
                 f"{h['latency_ms.total']:.1f}", "movement detection", "Weirds (1)", "mh_bad_checksum",
                 "fig-ladder-0", "fig-rtt-0", '<td class="num">3.70</td>', '<td class="num">142.00</td>'):
        assert text in page, text


def test_chromium_renders_every_figure(page: str, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(page.replace("</body>", CHECK + "</body>"))
    dom, log = _dump_dom(path, tmp_path / "profile")
    found = re.search(r'<pre id="mipsniff-check">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    images = json.loads(found.group(1).replace("&quot;", '"'))
    assert [i["id"] for i in images] == ["fig-rtt", "fig-ladder-0", "fig-rtt-0"]
    for im in images:
        assert im["complete"] and im["w"] > 300 and im["h"] > 200, im
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert console == [], console


def test_chromium_check_can_fail(tmp_path: Path) -> None:
    # The harness itself: a broken image and a script error are caught.
    path = tmp_path / "bad.html"
    path.write_text('<!DOCTYPE html><html><body><figure id="x"><img src="data:image/png;base64,AAAA">'
                    "</figure><script>undefinedFunction();</script>" + CHECK + "</body></html>")
    dom, log = _dump_dom(path, tmp_path / "profile")
    found = re.search(r'<pre id="mipsniff-check">(.*?)</pre>', dom, re.S)
    assert found
    assert json.loads(found.group(1).replace("&quot;", '"'))[0]["w"] == 0
    assert any(":CONSOLE" in line and "undefinedFunction" in line for line in log.splitlines())


def test_html_escapes_capture_text(article: Analysis) -> None:
    rep = dict(article.report)
    rep["capture"] = dict(rep["capture"], path="<b>evil</b>.pcap")
    page = render_html(mipsniff.read_report(rep | {"packets": []}))
    assert "<b>evil</b>" not in page and "&lt;b&gt;evil&lt;/b&gt;" in page


@pytest.mark.slow
def test_report_command_writes_html_that_chromium_renders(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mipsniff.cli import app

    capture = Path(__file__).resolve().parents[2] / "sample_pcaps" / "multi-mn.pcap"
    out = tmp_path / "report.html"
    res = CliRunner().invoke(app, ["report", str(capture), "--html", str(out), "-o", str(tmp_path / "r.txt")])
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert page.count('<section class="handover">') == 5  # the five handovers of three MNs
    checked = tmp_path / "checked.html"
    checked.write_text(page.replace("</body>", CHECK + "</body>"))
    dom, log = _dump_dom(checked, tmp_path / "profile")
    found = re.search(r'<pre id="mipsniff-check">(.*?)</pre>', dom, re.S)
    assert found
    images = json.loads(found.group(1).replace("&quot;", '"'))
    ids = [i["id"] for i in images]
    assert ids[:2] == ["fig-rtt", "fig-breakdown"]
    assert [i for i in ids if i.startswith("fig-ladder-")] == [f"fig-ladder-{k}" for k in range(5)]
    assert all(im["complete"] and im["w"] > 300 for im in images), images
    assert [line for line in log.splitlines() if ":CONSOLE" in line] == []


def test_figures_are_capped_for_many_handovers(article: Analysis) -> None:
    rec = article.report["handovers"][0]
    many = mipsniff.read_report(article.report | {"handovers": [rec | {"id": i} for i in range(1, 4)],
                                                  "packets": []})
    page = render_html(many, max_handover_figures=2)
    assert page.count('id="fig-ladder-') == 2 and "remaining 1 handovers" in page
