"""Reports of Mobile IPv6 handovers (RFC 6275 §11.5): the pipeline, JSON/CSV exports, terminal rendering.

`analyze(path)` / `build_report(path)` read a capture and return a `Report`; `report_dict` is the JSON
contract of `mipsniff report --json`; `write_csv` writes the tables; `terminal.render` the rich view.
Figures and HTML live in figures.py / html.py.

The names below are imported on first use (PEP 562), so a command that needs only one submodule
(`mipsniff show` uses report/show.py) does not pay for the correlator's import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mipsniff.report.export import report_dict, to_json, write_csv
    from mipsniff.report.pipeline import CaptureInfo, Report, analyze, analyze_frames, build_report

_HOMES = {
    "CaptureInfo": "mipsniff.report.pipeline",
    "Report": "mipsniff.report.pipeline",
    "analyze": "mipsniff.report.pipeline",
    "analyze_frames": "mipsniff.report.pipeline",
    "build_report": "mipsniff.report.pipeline",
    "report_dict": "mipsniff.report.export",
    "to_json": "mipsniff.report.export",
    "write_csv": "mipsniff.report.export",
}

__all__ = [
    "CaptureInfo",
    "Report",
    "analyze",
    "analyze_frames",
    "build_report",
    "report_dict",
    "to_json",
    "write_csv",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mipsniff.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
