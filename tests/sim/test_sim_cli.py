"""`mipsniff synth` through the CLI runner: files written, --list, one-line user errors with exit 2."""

import json

import pytest
from typer.testing import CliRunner

from mipsniff.cli import app, main
from mipsniff.sim.scenarios import SCENARIOS

runner = CliRunner()


def test_list_names_every_scenario_with_one_line():
    result = runner.invoke(app, ["synth", "--list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == [*SCENARIOS, "random"]
    assert all(len(line) < 120 for line in lines)


def test_synth_writes_the_capture_and_its_truth(tmp_path):
    out = tmp_path / "a.pcap"
    result = runner.invoke(app, ["synth", "article", "-o", str(out), "--seed", "2", "--set", "move_at_ms=6500"])
    assert result.exit_code == 0, result.output
    truth = json.loads((tmp_path / "a.truth.json").read_text())
    assert truth["seed"] == 2 and truth["vantages"] == ["mn"] and truth["settings"]["move_at_ms"] == 6500
    assert out.read_bytes()[:4] == bytes.fromhex("d4c3b2a1")


def test_vantage_both_writes_pcapng(tmp_path):
    out = tmp_path / "b.pcapng"
    assert runner.invoke(app, ["synth", "lost-ba", "-o", str(out), "--vantage", "both"]).exit_code == 0
    assert out.read_bytes()[:4] == bytes.fromhex("0a0d0d0a")
    assert json.loads((tmp_path / "b.truth.json").read_text())["vantages"] == ["mn", "ha"]


@pytest.mark.parametrize("args,message", [
    (["synth", "nope", "-o", "x.pcap"], "unknown scenario 'nope'"),
    (["synth", "article", "-o", "x.pcap", "--set", "bogus=1"], "unknown setting 'bogus'"),
    (["synth", "article", "-o", "x.pcap", "--set", "move_at_ms=soon"], "expected an integer"),
    (["synth", "article", "-o", "x.pcap", "--set", "move_at_ms"], "expected key=value"),
    (["synth", "article", "-o", "x.pcap", "--vantage", "cn"], "unknown vantage 'cn'"),
    (["synth", "article"], "give a scenario and -o"),
    (["synth", "article", "-o", "/nonexistent-dir/x.pcap"], "cannot write"),
])
def test_user_errors_are_one_line_and_exit_2(monkeypatch, capsys, tmp_path, args, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["mipsniff", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "x.pcap").exists()
