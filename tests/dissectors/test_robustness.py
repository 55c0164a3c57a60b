"""The dissectors never raise (STYLE §4): arbitrary bytes, every truncation of every corpus packet,
corrupted length fields. Plus the round trip dissect(scapy.build(msg)) == msg for BU and BA.

Invariant checked beyond "no exception": a frame cut anywhere inside its IP packet always carries at
least one weird (the dissectors never pretend a truncated packet was whole).
"""

from __future__ import annotations

from typing import Any

from dissectors_corpus import COA, CORPUS, HA, HOA, Case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet6 import HAO, MIP6MH_BA, MIP6MH_BU, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting
from test_oracle_tshark import walk

from dissectors import dissect, dissect_ip
from dissectors.codes import BaFlags, BuFlags
from dissectors.mobility import BindingAcknowledgement, BindingUpdate

LINKTYPES = [0, 1, 12, 101, 105, 108, 113, 127, 228, 229, 276, 9999]


@settings(max_examples=300, deadline=None)
@given(linktype=st.sampled_from(LINKTYPES), data=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(linktype: int, data: bytes) -> None:
    pkt = dissect(linktype, data)
    assert pkt.linktype == linktype


@settings(max_examples=300, deadline=None)
@given(data=st.binary(min_size=1, max_size=200), version=st.sampled_from([0x40, 0x60]))
def test_arbitrary_ip_payloads_never_raise(data: bytes, version: int) -> None:
    """Bytes behind a plausible IP version nibble get deep into the parsers."""
    dissect(101, bytes((version | (data[0] & 0x0F),)) + data[1:])


def test_every_truncation_of_every_corpus_packet() -> None:
    for case in CORPUS:
        full = dissect(case.linktype, case.frame)
        ip_start = full.ip.offset if full.ip is not None else 0
        for n in range(len(case.frame)):
            pkt = dissect(case.linktype, case.frame[:n])
            if n > ip_start:
                assert pkt.weirds, f"{case.name} cut at {n} has no weird"


def _length_positions(case: Case) -> list[int]:
    """Offsets of the length fields in a frame, found from its own dissection: IPv6 payload length,
    and the length octet (offset + 1) of every extension header, option and Mobility Header."""
    pkt = dissect(case.linktype, case.frame)
    pos: list[int] = []
    if pkt.ip is not None:
        pos += [pkt.ip.offset + 4, pkt.ip.offset + 5]
    for rec in walk(pkt.ip):
        off: Any = getattr(rec, "header_offset", None)
        if off is None:
            off = getattr(rec, "offset", -1)
        if isinstance(off, int) and 0 <= off < len(case.frame) - 1:
            pos.append(off + 1)
    return pos


POSITIONS = [(i, p) for i, c in enumerate(CORPUS) for p in _length_positions(c)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(POSITIONS), value=st.integers(0, 255))
def test_corrupted_length_fields_never_raise(which: tuple[int, int], value: int) -> None:
    i, pos = which
    frame = bytearray(CORPUS[i].frame)
    frame[pos] = value
    dissect(CORPUS[i].linktype, bytes(frame))


@settings(max_examples=300, deadline=None)
@given(index=st.integers(0, len(CORPUS) - 1), pos=st.integers(0, 400), value=st.integers(0, 255))
def test_any_corrupted_byte_never_raises(index: int, pos: int, value: int) -> None:
    frame = bytearray(CORPUS[index].frame)
    frame[pos % len(frame)] = value
    dissect(CORPUS[index].linktype, bytes(frame))
    dissect_ip(bytes(frame), pos % len(frame))


@settings(max_examples=60, deadline=None)
@given(seq=st.integers(0, 0xFFFF), flags=st.integers(0, 0x7F), units=st.integers(0, 0xFFFF))
def test_bu_round_trip(seq: int, flags: int, units: int) -> None:
    frame = bytes(IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
                  / MIP6MH_BU(seq=seq, flags=flags, mhtime=units))  # fmt: skip
    bu = dissect(101, frame).mobility
    assert isinstance(bu, BindingUpdate)
    assert (bu.sequence, bu.lifetime_s, bu.checksum_ok) == (seq, units * 4, True)
    # scapy's 7-bit field lists its letters lowest bit first ("PRMKLHA"): bit 6 is A ... bit 0 is P.
    expected = "".join(letter for bit, letter in zip(range(6, -1, -1), "AHLKMRP", strict=True) if flags >> bit & 1)
    assert bu.flags.letters == expected
    assert bu.flags == BuFlags(flags << 9)


@settings(max_examples=60, deadline=None)
@given(seq=st.integers(0, 0xFFFF), status=st.integers(0, 255), k=st.booleans(), units=st.integers(0, 0xFFFF))
def test_ba_round_trip(seq: int, status: int, k: bool, units: int) -> None:
    frame = bytes(IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, addresses=[HOA])
                  / MIP6MH_BA(status=status, flags=4 if k else 0, seq=seq, mhtime=units))  # fmt: skip
    # scapy's BA flags are a 3-bit field named lowest bit first ("PRK"), so K is 4, not 1; flags=1
    # sets P - the same letter-order trap as scapy's MIP6MH_BA.answers (STYLE, "what to avoid").
    ba = dissect(101, frame).mobility
    assert isinstance(ba, BindingAcknowledgement)
    assert (ba.sequence, int(ba.status), ba.lifetime_s, ba.checksum_ok) == (seq, status, units * 4, True)
    assert (BaFlags.K in ba.flags) == k


_TLV = st.tuples(st.integers(1, 255), st.binary(max_size=40))


def _mh_with_options(tlvs: list[tuple[int, bytes]]) -> tuple[bytes, list[int]]:
    """A BU (raw IPv6, no HAO) whose options are the given well-formed TLVs, padded with Pad1s,
    and the frame offsets where each TLV starts."""
    body = bytearray(bytes.fromhex("3b00" "0500" "0000" "0001" "8000" "0001"))
    starts = []
    for t, data in tlvs:
        starts.append(40 + len(body))
        body += bytes((t, len(data))) + data
    body += bytes((-len(body)) % 8)  # Pad1s
    body[1] = len(body) // 8 - 1
    return bytes.fromhex("60000000") + len(body).to_bytes(2, "big") + b"\x87\x40" + bytes(32) + bytes(body), starts


@settings(max_examples=150, deadline=None)
@given(tlvs=st.lists(_TLV, max_size=8).filter(lambda x: sum(len(d) + 2 for _, d in x) < 1900))
def test_well_formed_mobility_options_are_all_found(tlvs: list[tuple[int, bytes]]) -> None:
    """Whatever the option types and data, a well-formed TLV sequence yields exactly one record per
    TLV at its offset, and never an overrun weird."""
    frame, starts = _mh_with_options(tlvs)
    pkt = dissect(101, frame)
    assert pkt.mobility is not None
    found = [o.offset for o in pkt.mobility.options if o.option_type != 0]
    assert found == starts
    assert not {"mh_option_overrun", "mh_bad_length", "ipv6_truncated"} & set(pkt.weird_names)


@settings(max_examples=150, deadline=None)
@given(opts=st.lists(st.tuples(st.integers(1, 255), st.integers(1, 4)), max_size=8))
def test_well_formed_nd_options_are_all_found(opts: list[tuple[int, int]]) -> None:
    """Same invariant for ND options inside an RS (lengths in 8-octet units)."""
    body = bytearray(bytes.fromhex("85" "00" "0000" "00000000"))
    starts = []
    for t, units in opts:
        starts.append(40 + len(body))
        body += bytes((t, units)) + bytes(units * 8 - 2)
    frame = bytes.fromhex("60000000") + len(body).to_bytes(2, "big") + b"\x3a\xff" + bytes(32) + bytes(body)
    pkt = dissect(101, frame)
    assert pkt.icmpv6 is not None
    assert [o.offset for o in pkt.icmpv6.options] == starts  # type: ignore[attr-defined]
    assert not {"nd_option_overrun", "nd_option_zero_length"} & set(pkt.weird_names)
