"""`export.write_json` streams exactly the text `to_json` returns (what `report --json` prints)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from mipsniff.report.export import to_json, write_json
from mipsniff.report.pipeline import analyze

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "sample_pcaps").glob("*.pcap*"))


@pytest.mark.parametrize("path", SAMPLES[:4], ids=lambda p: p.name)
def test_write_json_is_to_json(path: Path) -> None:
    report = analyze(path)
    for indent in (2, None):
        out = io.StringIO()
        write_json(report, out, indent=indent)
        assert out.getvalue() == to_json(report, indent=indent)
        assert out.getvalue().endswith("}\n")


def test_samples_exist() -> None:
    assert len(SAMPLES) >= 2
