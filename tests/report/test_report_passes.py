"""The one-pass pipeline (home addresses learnt on the way, a restart when one had earlier traffic) gives
exactly the two-pass result, on every sample capture at every vantage."""

from __future__ import annotations

from pathlib import Path

import pytest

from mipsniff.report.pipeline import DynamicHomeFilter, analyze
from mipsniff.sim.samples import SAMPLES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("vantage", ["mn", "ha", "auto"])
@pytest.mark.parametrize("file", [s.file for s in SAMPLES])
def test_one_pass_equals_two_passes(file: str, vantage: str) -> None:
    cap = ROOT / "sample_pcaps" / file
    one = analyze(cap, vantage=vantage)
    two = analyze(cap, vantage=vantage, passes=2)
    assert one.extra == {"passes": 1} and two.extra == {"passes": 2}
    assert one.correlation == two.correlation
    assert one.capture == two.capture


def test_dynamic_filter_remembers_addresses_it_rejected() -> None:
    from ipaddress import IPv6Address

    hoa = IPv6Address("2001:db8::beef")
    f = DynamicHomeFilter(())
    pred = f.for_linktype(1)
    assert pred is not None
    udp = bytes.fromhex("00055df2db2b000000000001" "86dd" "60000000" "0008" "1140") + hoa.packed + IPv6Address(
        "2001:db8::1").packed + bytes(8)
    assert not pred(udp, 0, len(udp)) and f.seen_before(hoa)
    f.add(hoa)
    assert pred(udp, 0, len(udp))
    assert not f.uncertain
