"""`mipsniff report` over many files through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

from multi_pcaps import split_pcap
from typer.testing import CliRunner

from mipsniff.cli import app

SAMPLE = Path(__file__).resolve().parents[2] / "sample_pcaps" / "article.pcap"


def test_report_over_a_directory_equals_the_single_file_report(tmp_path: Path) -> None:
    parts = split_pcap(SAMPLE, [10, 25], tmp_path / "parts")
    runner = CliRunner()
    single = runner.invoke(app, ["report", str(SAMPLE), "--json"])
    assert single.exit_code == 0, single.output
    multi = runner.invoke(
        app, ["report", str(tmp_path / "parts"), "--json", "--workdir", str(tmp_path / "w")]
    )
    assert multi.exit_code == 0, multi.output
    a = json.loads(multi.stdout[multi.stdout.index("{") :])
    b = json.loads(single.stdout)
    assert [f["path"] for f in a["capture"].pop("files")] == [str(p) for p in parts]
    a["capture"]["path"] = b["capture"]["path"]
    assert a == b
    # reuse: the second run's files are all marked reused
    again = runner.invoke(
        app, ["report", str(tmp_path / "parts" / "*.pcap"), "--json", "--workdir", str(tmp_path / "w")]
    )
    doc = json.loads(again.stdout[again.stdout.index("{") :])
    assert all(f["reused"] for f in doc["capture"]["files"])


def test_report_engine_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["report", str(SAMPLE), "--engine", "spark"])
    assert r.exit_code == 2 and "unknown engine" in r.output
    r = runner.invoke(app, ["report", str(tmp_path / "nothing-*.pcap")])
    assert r.exit_code == 2 and "no capture file matches" in r.output
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"junk")
    r = runner.invoke(app, ["report", str(junk), "--engine", "local"])
    assert r.exit_code == 2 and "no readable capture" in r.output
