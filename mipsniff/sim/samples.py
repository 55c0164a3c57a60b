"""Regenerate sample_pcaps/: one small capture and its ground truth per scenario (`make samples`).

Usage: python -m mipsniff.sim.samples DIR
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from mipsniff.sim.scenarios import run
from mipsniff.sim.synth import write_result


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    file: str
    scenario: str
    seed: int = 1
    vantage: str | None = None  # None: the scenario's default

    @property
    def command(self) -> str:
        v = f" --vantage {self.vantage}" if self.vantage else ""
        return f"mipsniff synth {self.scenario} -o sample_pcaps/{self.file} --seed {self.seed}{v}"


SAMPLES = (
    Sample(file="article.pcap", scenario="article"),
    Sample(file="foreign-to-foreign.pcap", scenario="foreign-to-foreign"),
    Sample(file="return-home.pcap", scenario="return-home"),
    Sample(file="lost-ba.pcapng", scenario="lost-ba", vantage="both"),
    Sample(file="rejected.pcap", scenario="rejected"),
    Sample(file="seq-out-of-window.pcap", scenario="seq-out-of-window"),
    Sample(file="rtp-stream.pcap", scenario="rtp-stream"),
    Sample(file="route-optimization.pcap", scenario="route-optimization"),
    Sample(file="multi-mn.pcap", scenario="multi-mn"),
    Sample(file="router-loss.pcap", scenario="router-loss"),
)


def generate(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for s in SAMPLES:
        result = run(s.scenario, s.seed)
        written.extend(write_result(result, directory / s.file, s.vantage))
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m mipsniff.sim.samples DIR", file=sys.stderr)
        return 2
    for path in generate(Path(argv[0])):
        print(f"{path}  {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
