"""Compare a `mipsniff report` document with the simulator's ground truth (sample_pcaps/README.md).

`differences(report, truth, vantage)` lists every disagreement as a readable line, empty when the report
equals the truth: every handover found, none invented, every timeline value exact (the truth's times are
the pcap's microsecond timestamps, so `==` on floats is the right test), the BU/BA fields and the loss
counts equal, at the given vantage.
"""

from __future__ import annotations

from typing import Any

TIMELINE = ("t_last_old", "t_link_up", "t_movement_detected", "t_dad", "t_bu", "t_ba", "t_resumed")
SIGNALLING = ("t_bu", "t_ba", "bu_seq", "bu_retransmissions", "ba_status", "result")
FIELDS = (*TIMELINE, "bu_seq", "bu_retransmissions", "ba_status", "result")


def expected_handovers(truth: dict[str, Any], vantage: str) -> list[dict[str, Any]]:
    """The truth's handovers visible at `vantage` (its BU crossed that capture point), with the
    top-level identity fields merged into the vantage's expected values. The `mn` capture of a
    simulation is the first mobile node's interface (`expected.mn` of the others describes their own
    interfaces, which are not in the file)."""
    out = []
    first = truth["mobile_nodes"][0]["home_address"] if truth["mobile_nodes"] else None
    for h in truth["handovers"]:
        if vantage == "mn" and h["home_address"] != first:
            continue
        exp = h["expected"].get(vantage)
        if exp is None or exp["t_bu"] is None:
            continue
        out.append({"home_address": h["home_address"], "kind": h["kind"], "old_coa": h["old_coa"],
                    "new_coa": h["new_coa"], **exp})
    return sorted(out, key=lambda e: (e["t_bu"], e["home_address"]))


def differences(report: dict[str, Any], truth: dict[str, Any], vantage: str,
                fields: tuple[str, ...] = FIELDS, lost: bool = True) -> list[str]:
    diffs: list[str] = []
    exp = expected_handovers(truth, vantage)
    got = sorted(report["handovers"], key=lambda h: (h["t_bu"], h["home_address"]))
    by_mn_exp: dict[str, list[dict[str, Any]]] = {}
    by_mn_got: dict[str, list[dict[str, Any]]] = {}
    for e in exp:
        by_mn_exp.setdefault(e["home_address"], []).append(e)
    for g in got:
        by_mn_got.setdefault(g["home_address"], []).append(g)
    for hoa in sorted(set(by_mn_exp) | set(by_mn_got)):
        es, gs = by_mn_exp.get(hoa, []), by_mn_got.get(hoa, [])
        if len(es) != len(gs):
            diffs.append(f"{hoa}: {len(gs)} handovers reported, {len(es)} in the truth "
                         f"(reported t_bu {[g['t_bu'] for g in gs]}, truth {[e['t_bu'] for e in es]})")
            continue
        for i, (e, g) in enumerate(zip(es, gs, strict=True)):
            where = f"{hoa} handover {i + 1} ({e['kind']})"
            for key in ("kind", "old_coa", "new_coa", *fields):
                if g.get(key) != e.get(key):
                    diffs.append(f"{where}: {key} reported {g.get(key)!r}, truth {e.get(key)!r}")
            if lost and g["lost"] != e["lost"]:
                diffs.append(f"{where}: lost reported {g['lost']}, truth {e['lost']}")
    return diffs
