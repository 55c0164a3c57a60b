"""The lab's ground truth: the agents' own `GroundTruth` records, in the JSON of sample_pcaps/README.md.

Handovers are delimited as the simulator does (RFC 6275 §11.5-§11.7): a BU to the HA for a care-of
address other than the current one opens a handover (home -> foreign, foreign -> foreign, or the
deregistration BU of foreign -> home); BUs for the same care-of address before its final BA are
retransmissions (seq + 1 each, §11.8). Times are epoch seconds rounded to the microsecond, on the clock
the captures use (the kernel's receive and transmit timestamps of the very packets, so a capture on the
same interface records the same instants). `expected.mn` follows the report's definitions (issue 4) from
the agent's records; `expected.ha` has the HA's signalling times and nulls where the agent keeps no record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mipsniff.lab import topology as topo

ACCEPTED_MAX = 127
STATUS_SEQ_OUT_OF_WINDOW = 135


def _t(t_ns: int | None) -> float | None:
    return None if t_ns is None else round(t_ns // 1000 / 1e6, 6)


def read_records(run_dir: Path, role: str) -> list[dict[str, Any]]:
    path = run_dir / f"agent-{role}.truth.jsonl"
    out: list[dict[str, Any]] = []
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a crash
    return out


def _first(recs: list[dict[str, Any]], kind: str, lo: int, hi: int | None, **match: object) -> dict[str, Any] | None:
    for r in recs:
        if r["kind"] != kind or r["t_ns"] < lo or (hi is not None and r["t_ns"] > hi):
            continue
        if all(r.get(k) == v for k, v in match.items()):
            return r
    return None


def _last(recs: list[dict[str, Any]], kind: str, lo: int, hi: int | None) -> dict[str, Any] | None:
    found = None
    for r in recs:
        if r["kind"] == kind and r["t_ns"] >= lo and (hi is None or r["t_ns"] <= hi):
            found = r
    return found


_DATA = ("data_sent", "data_received")


def _last_data(recs: list[dict[str, Any]], before: int) -> dict[str, Any] | None:
    found = None
    for r in recs:
        if r["kind"] in _DATA and r["t_ns"] < before:
            found = r
    return found


def _first_data(recs: list[dict[str, Any]], after: int, end: int | None) -> dict[str, Any] | None:
    for r in recs:
        if r["kind"] in _DATA and r["t_ns"] >= after and (end is None or r["t_ns"] < end):
            return r
    return None


def _lost(recs: list[dict[str, Any]], last_old: dict[str, Any] | None,
          first_new: dict[str, Any] | None) -> dict[str, int] | None:
    """Echo requests of the handover window [t_last_old, t_resumed] that the MN held back (unsent) or that
    were never answered, as the agent knows them (issue 4's loss accounting, from the sender's side)."""
    if last_old is None or first_new is None:
        return None
    lo, hi = last_old["t_ns"], first_new["t_ns"]
    fates = {(f["flow"], f["seq"]): f["fate"] for f in data_fates(recs)}
    unsent = unanswered = 0
    for r in recs:
        if r["kind"] in ("data_sent", "data_unsent") and lo <= r["t_ns"] <= hi:
            fate = fates.get((r.get("flow"), r.get("seq")))
            unsent += fate == "unsent"
            unanswered += fate == "lost"
    return {"echo_unsent": unsent, "echo_unanswered": unanswered, "stream_missing": 0}


def data_fates(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each data packet the MN's applications sent: delivered (answered), lost, or unsent (RFC 6275 §11.3.1:
    held back by the MN itself, e.g. while waiting for the BA)."""
    received = {(r.get("flow"), r.get("seq")) for r in recs if r["kind"] == "data_received"}
    out = []
    for r in recs:
        if r["kind"] not in ("data_sent", "data_unsent"):
            continue
        key = (r.get("flow"), r.get("seq"))
        fate = "unsent" if r["kind"] == "data_unsent" else ("delivered" if key in received else "lost")
        out.append({"flow": r.get("flow"), "seq": r.get("seq"), "t_sent": _t(r["t_ns"]), "fate": fate})
    return out


def build_truth(run_dir: Path) -> dict[str, Any]:
    mn = read_records(run_dir, "mn")
    ha = read_records(run_dir, "ha")
    home = str(topo.HOME_ADDRESS)
    ha_addr = str(topo.HA_ADDRESS)
    bus = [r for r in mn if r["kind"] == "bu" and r.get("peer") == ha_addr]
    bas = [r for r in mn if r["kind"] == "ba" and r.get("peer") == ha_addr]
    groups: list[dict[str, Any]] = []
    where: Any = home
    for bu in bus:
        coa = bu.get("care_of_address")
        cur = groups[-1] if groups else None
        if cur is not None and coa == cur["new"]:
            done = next((a for a in bas if a["t_ns"] >= cur["bus"][0]["t_ns"] and a["t_ns"] <= bu["t_ns"]
                         and a.get("status") != STATUS_SEQ_OUT_OF_WINDOW), None)
            if done is None:
                cur["bus"].append(bu)
            continue
        if coa == where:
            continue
        groups.append({"old": where, "new": coa, "bus": [bu]})
        where = coa
    handovers = []
    for i, g in enumerate(groups):
        t0 = g["bus"][0]["t_ns"]
        end = groups[i + 1]["bus"][0]["t_ns"] if i + 1 < len(groups) else None
        ba = next((a for a in bas if a["t_ns"] >= t0 and (end is None or a["t_ns"] < end)
                   and a.get("status") != STATUS_SEQ_OUT_OF_WINDOW), None)
        lo = groups[i - 1]["bus"][0]["t_ns"] if i else 0
        up = _last(mn, "l2_up", lo, t0)
        up_ns = up["t_ns"] if up else lo
        down = _last(mn, "l2_down", lo, up_ns)
        status = None if ba is None else ba.get("status")
        result = "incomplete" if status is None else ("completed" if int(status) <= ACCEPTED_MAX else "failed")
        kind = ("home_to_foreign" if g["old"] == home else
                "foreign_to_home" if g["new"] == home else "foreign_to_foreign")

        def t_of(r: dict[str, Any] | None) -> float | None:
            return None if r is None else _t(r["t_ns"])

        last_old = _last_data(mn, down["t_ns"] if down else t0)
        first_new = _first_data(mn, t0, end)
        ha_bu = _first(ha, "bu_received", t0, end, care_of_address=g["new"])
        ha_ba = _first(ha, "ba_sent", t0, end, care_of_address=g["new"])
        common = {"bu_seq": None if ba is None else ba.get("seq"), "bu_retransmissions": len(g["bus"]) - 1,
                  "ba_status": status, "result": result}
        expected = {
            # At the MN's own interface every phase is seen, at the instant the agent recorded it.
            "mn": {
                "t_last_old": t_of(last_old), "t_link_up": t_of(_first(mn, "rs", up_ns, t0)),
                "t_movement_detected": t_of(_first(mn, "ra", up_ns, t0)),
                "t_dad": t_of(_first(mn, "dad_start", lo, t0, address=g["new"])),
                "t_bu": _t(t0), "t_ba": None if ba is None else _t(ba["t_ns"]), "t_resumed": t_of(first_new),
                **common, "lost": _lost(mn, last_old, first_new),
            },
            # At the HA only the signalling is recorded by the agent; data and the foreign link's ND
            # phases are null here (the HA does not log the data it tunnels).
            "ha": {
                "t_last_old": None, "t_link_up": None, "t_movement_detected": None, "t_dad": None,
                "t_bu": t_of(ha_bu), "t_ba": t_of(ha_ba), "t_resumed": None, **common, "lost": None,
            },
        }
        handovers.append({
            "home_address": home, "home_agent": ha_addr, "kind": kind,
            # As the report writes them: None for the home link.
            "old_coa": None if g["old"] == home else g["old"],
            "new_coa": None if g["new"] == home else g["new"], "result": result,
            "events": {
                "l2_down": t_of(down), "l2_up": t_of(up),
                "rs": t_of(_first(mn, "rs", up_ns, t0)),
                "ra": t_of(_first(mn, "ra", up_ns, t0)),
                "movement_detected": t_of(_first(mn, "movement_detected", down["t_ns"] if down else lo, t0)),
                "dad_start": t_of(_first(mn, "dad_start", lo, t0, address=g["new"])),
                "dad_end": t_of(_first(mn, "dad_end", lo, t0, address=g["new"])),
                "bu": [{"t": _t(b["t_ns"]), "seq": b.get("seq")} for b in g["bus"]],
                "ba": None if ba is None else {"t": _t(ba["t_ns"]), "status": ba.get("status"), "seq": ba.get("seq")},
                "ha_bu_received": t_of(ha_bu),
                "ha_ba_sent": t_of(ha_ba),
                "last_data_old": t_of(last_old),
                "first_data_new": t_of(first_new),
            },
            "expected": expected,
        })
    bindings = [
        {"home_address": r.get("home_address"), "home_agent": ha_addr, "care_of_address": r.get("care_of_address"),
         "kind": "home", "seq": r.get("seq"), "lifetime_s": r.get("lifetime_s"), "status": "registered"}
        for r in ha if r["kind"] == "binding_added"
    ]
    return {
        "scenario": "lab", "seed": None, "vantages": ["mn", "ha"],
        "settings": {"home_prefix": topo.HOME_PREFIX, "remote_prefix": topo.REMOTE_PREFIX},
        "mobile_nodes": [{"home_address": home, "home_agent": ha_addr, "mac": topo.MN_MAC}],
        "handovers": handovers,
        "bindings": bindings,
        "data": data_fates(mn),
    }
