"""`mipsniff report` against the simulator's ground truth (issue 4's proof).

- every sample scenario (sample_pcaps/, regenerated here when the directory does not hold it) at the
  vantage(s) it was captured at;
- every named scenario captured at the MN and at the HA: every handover found, none invented, every
  timeline value exact to the microsecond, BU/BA fields and loss counts equal;
- 200 random simulated scenarios (random delays, RA intervals, losses, number of MNs and moves, vantage)
  analysed end to end.
The comparison rules are in truthcmp.py; the truth's rules in mipsniff/sim/truth.py.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from truthcmp import differences, expected_handovers

from mipsniff.report import analyze, report_dict
from mipsniff.sim.samples import SAMPLES
from mipsniff.sim.scenarios import SCENARIOS, random_scenario, run
from mipsniff.sim.synth import truth_path, write_result

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIR = ROOT / "sample_pcaps"
NAMED = list(SCENARIOS)


def sample_capture(file: str, tmp_dir: Path) -> Path:
    """The committed sample when present, else the same one regenerated (the simulator is deterministic)."""
    committed = SAMPLE_DIR / file
    if committed.exists() and truth_path(committed).exists():
        return committed
    s = next(s for s in SAMPLES if s.file == file)
    cap, _ = write_result(run(s.scenario, s.seed), tmp_dir / file, s.vantage)
    return cap


@pytest.mark.parametrize("file", [s.file for s in SAMPLES])
def test_sample_equals_truth(file: str, tmp_path: Path) -> None:
    cap = sample_capture(file, tmp_path)
    truth = json.loads(truth_path(cap).read_text())
    checked = 0
    for vantage in truth["vantages"]:
        report = report_dict(analyze(cap, vantage=vantage))
        assert differences(report, truth, vantage) == []
        checked += len(expected_handovers(truth, vantage))
    assert checked > 0  # a sample without a handover would prove nothing


@pytest.mark.parametrize("vantage", ["mn", "ha"])
@pytest.mark.parametrize("name", NAMED)
def test_scenario_equals_truth_at_each_vantage(name: str, vantage: str, tmp_path: Path) -> None:
    cap, tp = write_result(run(name, 1), tmp_path / f"{name}.pcap", vantage)
    truth = json.loads(tp.read_text())
    assert expected_handovers(truth, vantage)
    assert differences(report_dict(analyze(cap, vantage=vantage)), truth, vantage) == []


def _random_case(seed: int, directory: str) -> tuple[int, int, list[str]]:
    """One random scenario end to end: simulate, write, analyse at each vantage, compare."""
    result = random_scenario(seed)
    vantages = result.vantages(None)
    suffix = "pcapng" if len(vantages) > 1 else "pcap"
    cap, tp = write_result(result, Path(directory) / f"random-{seed}.{suffix}")
    truth: dict[str, Any] = json.loads(tp.read_text())
    diffs: list[str] = []
    n = 0
    for v in vantages:
        n += len(expected_handovers(truth, v))
        diffs += [f"seed {seed} @{v}: {d}" for d in differences(report_dict(analyze(cap, vantage=v)), truth, v)]
    cap.unlink()
    tp.unlink()
    return seed, n, diffs


@pytest.mark.slow
def test_random_scenarios_equal_truth(tmp_path: Path) -> None:
    seeds = range(int(os.environ.get("MIPSNIFF_RANDOM_SCENARIOS", "200")))
    workers = min(4, os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_random_case, seeds, [str(tmp_path)] * len(seeds), chunksize=4))
    handovers = sum(n for _, n, _ in results)
    diffs = [d for _, _, ds in results for d in ds]
    assert handovers > len(seeds)  # most scenarios move at least once
    assert diffs == []


@pytest.mark.parametrize("file", [s.file for s in SAMPLES])
def test_sample_auto_vantage_equals_truth(file: str, tmp_path: Path) -> None:
    """`--vantage auto` (the default) reads each sample as its capture point: the MN interface of a
    pcapng with both, the HA for the multi-MN sample."""
    cap = sample_capture(file, tmp_path)
    truth = json.loads(truth_path(cap).read_text())
    vantage = "mn" if "mn" in truth["vantages"] else truth["vantages"][0]
    assert differences(report_dict(analyze(cap, vantage="auto")), truth, vantage) == []
