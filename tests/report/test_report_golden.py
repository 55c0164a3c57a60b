"""Golden report JSON per sample capture (STYLE §7): `mipsniff report --json` output, reviewed as a diff.

Regenerate only with `MIPSNIFF_REGEN_GOLDEN=1 pytest tests/report/test_report_golden.py` after checking
that the change is intended (the ground-truth tests in tests/correlate say whether it is still right).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mipsniff.report import analyze, to_json
from mipsniff.sim.samples import SAMPLES
from mipsniff.sim.scenarios import run
from mipsniff.sim.synth import truth_path, write_result

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
REGEN = os.environ.get("MIPSNIFF_REGEN_GOLDEN") == "1"


def _capture(file: str, tmp: Path) -> Path:
    committed = ROOT / "sample_pcaps" / file
    if committed.exists() and truth_path(committed).exists():
        return committed
    s = next(s for s in SAMPLES if s.file == file)
    return write_result(run(s.scenario, s.seed), tmp / file, s.vantage)[0]


def golden_text(file: str, tmp: Path) -> str:
    report = analyze(_capture(file, tmp), vantage="auto")
    doc = json.loads(to_json(report))
    doc["capture"]["path"] = f"sample_pcaps/{file}"  # the same wherever the sample was read from
    return json.dumps(doc, indent=2) + "\n"


@pytest.mark.parametrize("file", [s.file for s in SAMPLES])
def test_report_equals_golden(file: str, tmp_path: Path) -> None:
    stem = file.rsplit(".", 1)[0]
    golden = GOLDEN / f"{stem}.report.json"
    text = golden_text(file, tmp_path)
    if REGEN:
        golden.write_text(text)
    assert golden.exists(), f"no golden file {golden}; create it with MIPSNIFF_REGEN_GOLDEN=1"
    assert text == golden.read_text()
    assert json.loads(text)["handovers"]  # every sample shows at least one handover
