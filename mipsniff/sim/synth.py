"""Write a simulated capture and its ground truth: `mipsniff synth` and `make samples` both call this.

The capture is a classic pcap for one vantage and a pcapng with one interface per vantage for `both`
(interface i is `vantages[i]` of the ground truth, named after it). The ground truth goes beside it as
`<stem>.truth.json` (contract: sample_pcaps/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mipsniff.capture.writer import write_capture
from mipsniff.sim.scenarios import ScenarioResult, run


def truth_path(capture: Path) -> Path:
    stem = capture.name
    for suffix in (".pcapng", ".pcap"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return capture.with_name(stem + ".truth.json")


def dump_truth(truth: dict[str, Any]) -> str:
    return json.dumps(truth, indent=1) + "\n"


def write_result(result: ScenarioResult, capture: Path, vantage: str | None = None) -> tuple[Path, Path]:
    vantages = result.vantages(vantage)
    with capture.open("wb") as f:
        write_capture(f, vantages, result.frames(vantages))
    tp = truth_path(capture)
    tp.write_text(dump_truth(result.truth(vantages)))
    return capture, tp


def synthesize(scenario: str, capture: Path, *, seed: int = 1, vantage: str | None = None,
               settings: list[str] | None = None) -> tuple[Path, Path, ScenarioResult]:
    """Run `scenario` and write its capture and ground truth; `SettingError` for bad input."""
    result = run(scenario, seed, settings)
    result.vantages(vantage)  # validate before writing anything
    cap, tp = write_result(result, capture, vantage)
    return cap, tp, result
