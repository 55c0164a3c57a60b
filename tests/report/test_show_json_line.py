"""`show.json_line` is `json.dumps` byte for byte (it only skips json.dumps's per-call setup)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from mipsniff.capture import open_capture
from mipsniff.report.show import json_line, show_records

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "sample_pcaps").glob("*.pcap*"))


def test_samples_exist() -> None:
    assert SAMPLES


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_record_as_json_dumps(path: Path) -> None:
    with open_capture(path) as reader:
        recs = [rec for _, rec in show_records(reader.iter_relevant(None))]
    assert recs
    for rec in recs:
        assert json_line(rec) == json.dumps(rec)


def test_odd_values() -> None:
    rec: dict[Any, Any] = {"ts": 1700000000.000123, "s": "é\n\"x\"\u2028", "n": None, "b": [True, False], "i": -(2**70),
           "f": [0.1, 1e300, -0.0, math.inf, math.nan], 3: {"nested": [{}, []]}}
    assert json_line(rec) == json.dumps(rec)
    with pytest.raises(TypeError):
        json_line({"x": object()})
