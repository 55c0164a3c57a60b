"""The correlator is chunking-invariant (STYLE §5, §7): fed packet by packet, in random chunks with timer
calls (`advance`) at random points in between, or all at once, it gives the same result; and the
transition table is complete for what the classifiers can produce.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissectors import dissect
from mipsniff.capture import open_capture
from mipsniff.correlate import TRANSITIONS, Correlator, CorrelatorConfig, Phase, Signal, Vantage
from mipsniff.report.pipeline import find_home_addresses
from mipsniff.sim.samples import SAMPLES
from mipsniff.sim.scenarios import run
from mipsniff.sim.synth import write_result

ROOT = Path(__file__).resolve().parents[2]
FILES = ("article.pcap", "lost-ba.pcapng", "multi-mn.pcap", "seq-out-of-window.pcap", "rtp-stream.pcap")


@cache
def packets(file: str) -> tuple[tuple[Any, ...], frozenset[Any]]:
    path = ROOT / "sample_pcaps" / file
    if not path.exists():
        s = next(s for s in SAMPLES if s.file == file)
        path = write_result(run(s.scenario, s.seed), Path("/tmp") / f"mipsniff-chunking-{file}", s.vantage)[0]
    with open_capture(path) as reader:
        frames = tuple((f.index, f.ts_ns, dissect(f.linktype, f.data), f.data) for f in reader
                       if f.interface == 0)
    return frames, frozenset(find_home_addresses(path))


def reference(file: str, vantage: Vantage) -> Any:
    frames, hoas = packets(file)
    c = Correlator(CorrelatorConfig(vantage=vantage), hoas)
    for index, ts, pkt, raw in frames:
        c.feed(index, ts, pkt, raw)
    return c.finish()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    file=st.sampled_from(FILES),
    vantage=st.sampled_from([Vantage.MN, Vantage.HA, Vantage.AUTO]),
    cuts=st.lists(st.floats(min_value=0.0, max_value=1.0), max_size=12),
    nudges=st.lists(st.integers(min_value=0, max_value=30_000_000_000), max_size=12),
)
def test_chunking_and_timer_calls_do_not_change_the_result(
    file: str, vantage: Vantage, cuts: list[float], nudges: list[int]
) -> None:
    frames, hoas = packets(file)
    points = sorted({int(c * len(frames)) for c in cuts})
    c = Correlator(CorrelatorConfig(vantage=vantage), hoas)
    start = 0
    for i, p in enumerate([*points, len(frames)]):
        chunk = frames[start:p]
        c.feed_many((idx, ts, pkt) for idx, ts, pkt, _raw in chunk[:0])  # an empty chunk is harmless
        for idx, ts, pkt, raw in chunk:
            c.feed(idx, ts, pkt, raw)
        if chunk and p < len(frames):
            # A live capture's timer tick between packets: any time up to the next packet's timestamp.
            nxt = frames[p][1]
            now = min(nxt, chunk[-1][1] + (nudges[i] if i < len(nudges) else 0))
            c.advance(now)
            assert c.next_deadline() is None or c.next_deadline() >= 0
        start = p
    assert c.finish() == reference(file, vantage)


def test_fed_all_at_once_equals_fed_one_by_one() -> None:
    frames, hoas = packets("multi-mn.pcap")
    c = Correlator(CorrelatorConfig(vantage=Vantage.HA), hoas)
    c.feed_many((idx, ts, pkt) for idx, ts, pkt, _raw in frames)
    assert c.finish() == reference("multi-mn.pcap", Vantage.HA)


def test_transition_table_covers_every_signal_the_classifiers_emit() -> None:
    bu_signals = {Signal.BU_REGISTER, Signal.BU_DEREGISTER, Signal.BU_REFRESH, Signal.BU_RETRANSMIT}
    for phase in Phase:
        for sig in bu_signals:
            assert (phase, sig) in TRANSITIONS, (phase, sig)
        assert (phase, Signal.BA_UNMATCHED) in TRANSITIONS
        assert (phase, Signal.BA_STALE) in TRANSITIONS
    for sig in (Signal.BA_ACK, Signal.BA_ACK_REFRESH, Signal.BA_REJECT, Signal.BA_REJECT_REFRESH,
                Signal.BA_SEQ_WINDOW):
        assert (Phase.WAIT_BA, sig) in TRANSITIONS
    assert TRANSITIONS[(Phase.SETTLE, Signal.SETTLED)] == ("_settled", Phase.IDLE)
    for handler, _ in TRANSITIONS.values():
        assert callable(getattr(Correlator, handler))
