"""`mipsniff report` through the CLI runner: JSON contract keys, CSV tables, terminal view, user errors."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

from typer.testing import CliRunner

from mipsniff.cli import app
from mipsniff.correlate import Binding, Handover, PacketRecord

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = str(ROOT / "sample_pcaps" / "article.pcap")
REJECTED = str(ROOT / "sample_pcaps" / "rejected.pcap")
runner = CliRunner()

CONTRACT_HANDOVER_KEYS = {
    "id", "home_address", "home_agent", "kind", "old_coa", "new_coa", "result", "t_last_old", "t_link_up",
    "t_movement_detected", "t_dad", "t_bu", "t_ba", "t_resumed", "bu_seq", "bu_retransmissions", "ba_status",
    "ba_status_name", "latency_ms", "lost", "rtt_ms", "frames",
}


def test_json_follows_the_contract() -> None:
    res = runner.invoke(app, ["report", ARTICLE, "--json", "--vantage", "mn"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert set(doc) >= {"capture", "mobile_nodes", "handovers", "bindings", "weirds"}
    assert set(doc["capture"]) >= {"path", "packets", "start", "end", "link_types"}
    assert doc["capture"]["link_types"] == [1]
    assert set(doc["mobile_nodes"][0]) >= {"home_address", "home_agent", "care_of_addresses"}
    (h,) = doc["handovers"]
    assert set(h) >= CONTRACT_HANDOVER_KEYS
    assert set(h["latency_ms"]) == {"total", "movement_detection", "address_configuration", "registration",
                                    "resumption"}
    assert set(h["lost"]) == {"echo_unsent", "echo_unanswered", "stream_missing"}
    assert set(h["rtt_ms"]) == {"before", "after"}
    assert h["latency_ms"]["total"] == round((h["t_resumed"] - h["t_last_old"]) * 1000, 3)
    assert h["latency_ms"]["registration"] == round((h["t_ba"] - h["t_bu"]) * 1000, 3)
    assert set(doc["bindings"][0]) >= {"home_address", "home_agent", "care_of_address", "kind", "t_bu", "t_ba",
                                       "seq", "lifetime_s", "status"}
    # The article's numbers: BU seq 54814, 3.7 ms before, ~142 ms after, 4 pings never sent.
    assert h["bu_seq"] == 54814 and h["ba_status"] == 0
    assert 3.5 < h["rtt_ms"]["before"] < 4.0 and 140 < h["rtt_ms"]["after"] < 145
    assert h["lost"]["echo_unsent"] == 4


def test_output_file_and_csv(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["report", ARTICLE, "--json", "-o", str(out), "--csv", str(tmp_path / "csv")])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""
    assert json.loads(out.read_text())["handovers"]
    for name, cls in (("handovers", Handover), ("bindings", Binding), ("packets", PacketRecord)):
        with (tmp_path / "csv" / f"{name}.csv").open() as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == [f.name for f in dataclasses.fields(cls)]
        assert len(rows) > 1
    with (tmp_path / "csv" / "handovers.csv").open() as fh:
        row = next(csv.DictReader(fh))
    assert row["kind"] == "home_to_foreign" and row["bu_seq"] == "54814"
    assert float(row["t_ba"]) > float(row["t_bu"])


def test_terminal_report_shows_timeline_and_failure_status() -> None:
    res = runner.invoke(app, ["report", ARTICLE])
    assert res.exit_code == 0, res.output
    for text in ("home_to_foreign", "Binding Update", "movement detected", "3.76 ms", "142.09 ms"):
        assert text in res.stdout
    res = runner.invoke(app, ["report", REJECTED])
    assert res.exit_code == 0, res.output
    assert "failed" in res.stdout and "133" in res.stdout and "NOT_HOME_AGENT" in res.stdout


def test_user_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["report", str(tmp_path / "missing.pcap")])
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0 and "no such" in res.output
    bad = tmp_path / "notes.txt"
    bad.write_text("not a capture at all\n")
    res = runner.invoke(app, ["report", str(bad)])
    assert res.exit_code == 2 and "capture" in res.output
    res = runner.invoke(app, ["report", ARTICLE, "--vantage", "sideways"])
    assert res.exit_code == 2 and "vantage" in res.output
