"""Reports of Mobile IPv6 handovers (RFC 6275 §11.5): the pipeline, JSON/CSV exports, terminal rendering.

`analyze(path)` / `build_report(path)` read a capture and return a `Report`; `report_dict` is the JSON
contract of `mipsniff report --json`; `write_csv` writes the tables; `terminal.render` the rich view.
Figures and HTML live in figures.py / html.py.
"""

from mipsniff.report.analyze import CaptureInfo, Report, analyze, analyze_frames, build_report
from mipsniff.report.export import report_dict, to_json, write_csv

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
