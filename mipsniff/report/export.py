"""The report's JSON document and CSV tables (issue 4's contract; STYLE §6: the schema is the dataclass).

JSON: `report_dict(report)` gives `{"capture", "mobile_nodes", "handovers", "bindings", "weirds"}` with
the keys of the contract; times are epoch seconds as floats rounded to the microsecond (the precision of
a pcap), `null` where the vantage could not see the phase; handovers are sorted by `t_bu`.
`latency_ms` and the other metrics are the properties of `records.Handover`, each defined there once as
the difference of two named timeline timestamps.

CSV (`write_csv(report, directory)`): `handovers.csv`, `bindings.csv`, `packets.csv`, one column per
field of `Handover`, `Binding`, `PacketRecord` (nested tuples flattened to space-separated values). Timeline
fields (`t_*`) are written as epoch seconds like the JSON; fields whose name ends in `_ns` stay integer
nanoseconds.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from enum import Enum
from ipaddress import IPv6Address
from typing import TYPE_CHECKING, Any, TextIO

from mipsniff.correlate.records import Binding, Handover, PacketRecord, address_text

if TYPE_CHECKING:
    from mipsniff.report.pipeline import Report


def epoch(ns: int | None) -> float | None:
    """Integer ns -> epoch seconds rounded to the microsecond (None stays None)."""
    return None if ns is None else round(ns / 1_000_000_000, 6)


def _ms(ns: int | None) -> float | None:
    return None if ns is None else round(ns / 1_000_000, 3)


def _s(a: IPv6Address | None) -> str | None:
    return None if a is None else address_text(a)


def handover_dict(h: Handover) -> dict[str, Any]:
    return {
        "id": h.id,
        "home_address": address_text(h.home_address),
        "home_agent": address_text(h.home_agent),
        "kind": h.kind.value,
        "old_coa": _s(h.old_coa),
        "new_coa": _s(h.new_coa),
        "result": h.result.value,
        "t_last_old": epoch(h.t_last_old),
        "t_link_up": epoch(h.t_link_up),
        "t_movement_detected": epoch(h.t_movement_detected),
        "t_dad": epoch(h.t_dad),
        "t_bu": epoch(h.t_bu),
        "t_ba": epoch(h.t_ba),
        "t_resumed": epoch(h.t_resumed),
        "bu_seq": h.bu_seq,
        "bu_retransmissions": h.bu_retransmissions,
        "ba_status": h.ba_status,
        "ba_status_name": h.ba_status_name,
        "latency_ms": {
            "total": h.total_ms,
            "movement_detection": h.movement_detection_ms,
            "address_configuration": h.address_configuration_ms,
            "registration": h.registration_ms,
            "resumption": h.resumption_ms,
        },
        "lost": {
            "echo_unsent": h.echo_unsent,
            "echo_unanswered": h.echo_unanswered,
            "stream_missing": h.stream_missing,
        },
        "rtt_ms": {"before": _ms(h.rtt_before_ns), "after": _ms(h.rtt_after_ns)},
        "frames": list(h.frames),
        "phase_frames": {name: f for name, f in h.phase_frames if name not in ("bu", "ba")}
        | {"bu": [f for n, f in h.phase_frames if n == "bu"], "ba": [f for n, f in h.phase_frames if n == "ba"]},
        "movement_trigger": h.movement_trigger,
        "ping_pong": h.ping_pong,
        "l2_events": [
            {"t": epoch(e.t), "frame": e.frame, "subtype": e.subtype, "bssid": e.bssid, "ssid": e.ssid}
            for e in h.l2_events
        ],
    }


def binding_dict(b: Binding) -> dict[str, Any]:
    return {
        "home_address": address_text(b.home_address),
        "home_agent": address_text(b.home_agent),
        "care_of_address": address_text(b.care_of_address),
        "kind": b.kind.value,
        "t_bu": epoch(b.t_bu),
        "t_ba": epoch(b.t_ba),
        "seq": b.seq,
        "lifetime_s": b.lifetime_s,
        "status": b.status,
        "status_name": b.status_name,
        "bu_count": b.bu_count,
        "frames": list(b.bu_frames) + list(b.ba_frames),
    }


def report_dict(report: Report) -> dict[str, Any]:
    """The JSON document of `mipsniff report --json`."""
    c = report.capture
    corr = report.correlation
    return {
        "capture": {
            "path": c.path,
            "packets": c.packets,
            "start": epoch(c.start_ns),
            "end": epoch(c.end_ns),
            "link_types": list(c.link_types),
            "format": c.format,
            "vantage": report.vantage.value,
            "warnings": list(c.warnings),
        },
        "mobile_nodes": [
            {
                "home_address": address_text(m.home_address),
                "home_agent": _s(m.home_agent),
                "care_of_addresses": [str(a) for a in m.care_of_addresses],
                "mac": m.mac,
            }
            for m in corr.mobile_nodes
        ],
        "handovers": [handover_dict(h) for h in corr.handovers],
        "bindings": [binding_dict(b) for b in corr.bindings],
        "weirds": [
            {
                "name": w.name,
                "detail": w.detail,
                "frame": w.frame,
                "ts": epoch(w.ts_ns),
                "home_address": _s(w.home_address),
            }
            for w in corr.weirds
        ],
    }


def to_json(report: Report, indent: int | None = 2) -> str:
    return json.dumps(report_dict(report), indent=indent, sort_keys=False) + "\n"


def write_json(report: Report, out: TextIO, indent: int | None = 2) -> None:
    """`out.write(to_json(report))` without holding the whole text: the indented encoder yields many
    small pieces (one list of them for json.dumps: several times the document's size), written here in
    batches. Same bytes as `to_json`."""
    batch: list[str] = []
    for piece in json.JSONEncoder(indent=indent).iterencode(report_dict(report)):
        batch.append(piece)
        if len(batch) >= 4096:
            out.write("".join(batch))
            batch.clear()
    batch.append("\n")
    out.write("".join(batch))


def _cell(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and name.startswith("t_"):
        return f"{epoch(value):.6f}"
    if isinstance(value, tuple):
        parts = []
        for v in value:
            if dataclasses.is_dataclass(v) and not isinstance(v, type):
                parts.append(":".join(str(x) for x in dataclasses.astuple(v)))
            elif isinstance(v, tuple):
                parts.append(":".join(str(x) for x in v))
            else:
                parts.append(str(v))
        return " ".join(parts)
    return str(value) if isinstance(value, IPv6Address) else value


def _write_table(path: str, cls: type, rows: tuple[Any, ...]) -> None:
    names = [f.name for f in dataclasses.fields(cls)]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for r in rows:
            w.writerow([_cell(n, getattr(r, n)) for n in names])


def write_csv(report: Report, directory: str | os.PathLike[str]) -> list[str]:
    """Write handovers.csv, bindings.csv and packets.csv into `directory` (created if needed)."""
    d = os.fspath(directory)
    os.makedirs(d, exist_ok=True)
    corr = report.correlation
    out = []
    for name, cls, rows in (
        ("handovers.csv", Handover, corr.handovers),
        ("bindings.csv", Binding, corr.bindings),
        ("packets.csv", PacketRecord, corr.packets),
    ):
        p = os.path.join(d, name)
        _write_table(p, cls, rows)
        out.append(p)
    return out
