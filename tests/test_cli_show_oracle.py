"""`mipsniff show --json` against tshark on every sample capture (STYLE §7, the independent oracle):
the same frames are listed, and per frame the same outer and inner addresses, Mobility Header types,
BU/BA sequence numbers, BA status, BU lifetime, home addresses (HAO / RH2) and ICMPv6 types."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mipsniff.cli import app

pytestmark = pytest.mark.oracle

SAMPLES = sorted(p for p in (Path(__file__).resolve().parent.parent / "sample_pcaps").glob("*.pcap*"))
# What show lists by default, in tshark's display-filter language (see dissectors/prefilter.py).
FILTER = ("icmpv6.type in {1, 2, 3, 4, 128, 129, 133, 134, 135, 136, 137, 144, 145, 146, 147, 154}"
          " || mipv6 || ipv6.nxt in {41, 4, 60, 43}")
FIELDS = ["frame.number", "ipv6.src", "ipv6.dst", "mip6.mhtype", "mip6.bu.seqnr", "mip6.ba.seqnr",
          "mip6.ba.status", "mip6.bu.lifetime", "ipv6.opt.mipv6.home_address",
          "ipv6.routing.mipv6.home_address", "icmpv6.type"]


def _tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("tshark is required in CI (make deps installs it)")
        pytest.skip("tshark not installed (developer machine)")
    return path


def _flat(rec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The record, then its tunnel's inner packet or its ICMPv6 error's invoking packet (tshark's
    occurrence order)."""
    yield rec
    for key in ("inner", "invoking"):
        if rec.get(key):
            yield from _flat(rec[key])


def _ours(rec: dict[str, Any]) -> list[str]:
    recs = [r for r in _flat(rec) if r.get("ip_version") != 4]
    mh = [r for r in recs if r.get("kind") == "mh"]

    def join(values: list[Any]) -> str:
        return ",".join(str(v) for v in values)

    return [
        str(rec["frame"]),
        join(r["src"] for r in recs),
        join(r["dst"] for r in recs),
        join(r["mh_type"] for r in mh),
        join(r["seq"] for r in mh if r["type"] == "BU"),
        join(r["seq"] for r in mh if r["type"] == "BA"),
        join(r["status"] for r in mh if r["type"] == "BA"),
        join(r["lifetime_s"] // 4 for r in mh if r["type"] == "BU"),
        "HOME",  # compared below: tshark splits HAO and RH2 into two fields
        "HOME",
        join(r["icmp_type"] for r in recs if "icmp_type" in r),
    ]


@pytest.mark.parametrize("capture", SAMPLES, ids=[p.name for p in SAMPLES])
def test_show_json_matches_tshark(capture: Path) -> None:
    tshark = _tshark()
    argv = [tshark, "-r", str(capture), "-n", "-Y", FILTER, "-T", "fields", "-E", "occurrence=a"]
    for f in FIELDS:
        argv += ["-e", f]
    theirs = [line.split("\t") for line in subprocess.run(argv, capture_output=True, text=True,
                                                          check=True).stdout.splitlines()]
    result = CliRunner().invoke(app, ["show", "--json", "--strict", str(capture)])
    assert result.exit_code == 0, result.output
    recs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["frame"] for r in recs] == [int(t[0]) for t in theirs]
    for rec, their in zip(recs, theirs, strict=True):
        ours = _ours(rec)
        home_theirs = [a for a in their[8].split(",") + their[9].split(",") if a]
        homes = [r["home_address"] for r in _flat(rec) if r.get("home_address") and r.get("type") != "BE"]
        assert homes == home_theirs, rec
        assert ours[:8] + ours[10:] == their[:8] + their[10:], rec
        assert not [w for w in rec["weirds"] if w["name"] == "internal_error"]


def test_there_are_samples_to_compare() -> None:
    assert len(SAMPLES) >= 5, "sample_pcaps/ should hold the bundled captures (make samples)"
