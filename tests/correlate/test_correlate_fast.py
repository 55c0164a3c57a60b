"""The byte-level echo fast path (`observe.fast_echo`) gives exactly what the full path gives
(`observe(dissect(...))` and the dissector's MACs) on every frame where it answers, and answers for the
echo frames of the sample captures; anything else falls back to the dissector."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dissectors import dissect
from mipsniff.capture import open_capture
from mipsniff.correlate.observe import fast_echo, observe
from mipsniff.report.pipeline import find_home_addresses

ROOT = Path(__file__).resolve().parents[2]


def full_path(linktype: int, data: bytes, is_home):  # type: ignore[no-untyped-def]
    pkt = dissect(linktype, data)
    link = pkt.link
    return observe(pkt, is_home, data), link.src_mac if link else None, link.dst_mac if link else None


def test_fast_path_equals_the_dissector_on_every_sample_frame() -> None:
    answered = 0
    for cap in sorted((ROOT / "sample_pcaps").glob("*.pcap*")):
        hoas = find_home_addresses(cap)
        with open_capture(cap) as reader:
            for f in reader:
                fast = fast_echo(f.linktype, f.data, hoas.__contains__)
                if fast is None:
                    continue
                answered += 1
                obs, src, dst = fast
                assert (obs, src, dst) == full_path(f.linktype, f.data, hoas.__contains__), (cap.name, f.index)
    assert answered > 150  # the pings of the samples take the fast path (RO ones, with HAO/RH2, do not)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(min_size=0, max_size=160), cut=st.integers(min_value=0, max_value=200))
def test_fast_path_never_disagrees_on_arbitrary_or_truncated_bytes(data: bytes, cut: int) -> None:
    from ipaddress import IPv6Address

    # Arbitrary bytes behind a valid Ethernet/IPv6 echo prefix, truncated anywhere.
    base = bytes.fromhex("00055df2db2b000000000001" "86dd" "60000000" "0008" "3a40") + bytes(
        IPv6Address("2001:db8::beef").packed) + bytes(IPv6Address("2001:db8::").packed) + bytes.fromhex(
        "8000000000070001")
    frame = (base + data)[: max(cut, 0) or None] if cut else base + data
    is_home = {IPv6Address("2001:db8::beef")}.__contains__
    fast = fast_echo(1, frame, is_home)
    if fast is not None:
        assert fast == full_path(1, frame, is_home)
