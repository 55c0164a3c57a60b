"""Split-file equivalence: a capture cut into files reports exactly as the whole (issue 7).

Each sample capture is rewritten as one nanosecond pcap (the whole) and cut into files; the multi-file
report over the pieces must equal the single-process report over the whole, byte for byte on the JSON,
once `capture.path` is set alike and the multi-file additions (`capture.files`) are removed. Cuts: at
every frame boundary of every sample (two files, in-process), and at the interesting points (between
BU and BA, inside the blackout, mid-RTP-stream) into many files through the local pool and Dask.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from multi_pcaps import split_pcap, write_pcap

from mipsniff.capture import open_capture
from mipsniff.multi.pipeline import analyze
from mipsniff.report.pipeline import analyze as analyze_single

SAMPLES = Path(__file__).resolve().parents[2] / "sample_pcaps"
NAMES = sorted(p.name for p in SAMPLES.glob("*.pcap*"))


def test_there_are_samples_to_split() -> None:
    assert len(NAMES) >= 5, "sample_pcaps/ must hold the simulator's captures"


def _whole(name: str, tmp: Path) -> tuple[Path, list[int]]:
    """The sample as one ns pcap, and its frame timestamps."""
    tmp.mkdir(parents=True, exist_ok=True)
    with open_capture(SAMPLES / name) as rd:
        frames = [(f.ts_ns, bytes(f.data)) for f in rd]
        (linktype,) = rd.link_types
    return write_pcap(tmp / "whole.pcap", frames, linktype=linktype, nanos=True), [t for t, _ in frames]


def _doc_text(doc: dict[str, Any]) -> str:
    doc = json.loads(json.dumps(doc))
    doc["capture"]["path"] = "X"
    doc["capture"].pop("files", None)
    return json.dumps(doc, indent=2) + "\n"


def _single(whole: Path) -> str:
    return _doc_text(analyze_single(whole).to_dict())


def _multi(paths: list[Path], work: Path, **kw: Any) -> tuple[str, dict[str, Any]]:
    res = analyze([str(p) for p in paths], workdir=str(work), progress_stream=None, **kw)
    doc = res.to_dict()
    return _doc_text(doc), doc


def _interesting_cuts(whole: Path, ts: list[int]) -> list[int]:
    """Frame positions (0-based, cut before) at the handovers' interesting points."""
    doc = analyze_single(whole).to_dict()
    pos = {round(t / 1e9, 6): i for i, t in enumerate(ts)}
    cuts: set[int] = set()
    for h in doc["handovers"]:
        at = {k: pos.get(h[k]) for k in ("t_last_old", "t_bu", "t_ba", "t_resumed") if h[k] is not None}
        if "t_bu" in at:
            cuts.add(at["t_bu"] + 1)  # between the BU and the BA
        if "t_last_old" in at and "t_resumed" in at:
            cuts.add((at["t_last_old"] + at["t_resumed"] + 1) // 2)  # inside the blackout
            cuts.add(at["t_last_old"] + 1)
    cuts.add(len(ts) // 2)  # mid-stream (the RTP and echo flows run through the whole capture)
    return sorted(c for c in cuts if 0 < c < len(ts))


@pytest.mark.parametrize("name", NAMES)
def test_every_two_file_cut_reports_like_the_whole(name: str, tmp_path: Path) -> None:
    whole, ts = _whole(name, tmp_path)
    expected = _single(whole)
    assert json.loads(expected)["handovers"], "each sample has at least one handover"
    for cut in range(1, len(ts)):
        parts = split_pcap(whole, [cut], tmp_path / f"cut{cut}")
        got, doc = _multi(parts, tmp_path / "work", workers=1)
        assert got == expected, f"{name} cut before frame {cut + 1}"
        assert [f["first_frame"] for f in doc["capture"]["files"]] == [1, cut + 1]


@pytest.mark.parametrize("name", ["article.pcap", "rtp-stream.pcap", "multi-mn.pcap", "lost-ba.pcapng"])
def test_many_file_split_at_interesting_points_local_pool(name: str, tmp_path: Path) -> None:
    whole, ts = _whole(name, tmp_path)
    cuts = _interesting_cuts(whole, ts)
    assert len(cuts) >= 2
    parts = split_pcap(whole, cuts, tmp_path / "parts")
    got, doc = _multi(parts, tmp_path / "work", workers=2)
    assert got == _single(whole)
    assert [f["path"] for f in doc["capture"]["files"]] == [str(p) for p in parts]  # time order, not names
    assert doc["capture"]["packets"] == len(ts)


def test_interesting_split_on_a_dask_cluster(tmp_path: Path, dask_client: Any) -> None:
    for name in ("article.pcap", "rtp-stream.pcap"):
        whole, ts = _whole(name, tmp_path / name)
        parts = split_pcap(whole, _interesting_cuts(whole, ts), tmp_path / name / "parts")
        got, _ = _multi(parts, tmp_path / name / "work", client=dask_client)
        assert got == _single(whole), name


def test_duplicate_and_overlap_are_reported(tmp_path: Path) -> None:
    whole, ts = _whole("article.pcap", tmp_path)
    a, b = split_pcap(whole, [len(ts) // 2], tmp_path / "parts")
    dup = tmp_path / "copy-of-first.pcap"
    dup.write_bytes(a.read_bytes())
    got, doc = _multi([a, b, dup], tmp_path / "work", workers=1)
    warnings = doc["capture"]["warnings"]
    doc["capture"]["warnings"] = []
    assert _doc_text(doc) == _single(whole)  # the duplicate is read once
    statuses = {Path(f["path"]).name: f["status"] for f in doc["capture"]["files"]}
    assert sorted([statuses[dup.name], statuses[a.name]]) == ["duplicate", "ok"]
    assert any(w.startswith("duplicate:") for w in warnings)
    # a file that overlaps another in time
    over = write_pcap(tmp_path / "over.pcap", [(ts[1] + 1, b"\x00" * 60)])
    _, doc = _multi([a, b, over], tmp_path / "work", workers=1)
    assert any(w.startswith("overlap:") for w in doc["capture"]["warnings"])


def test_unreadable_file_is_named_and_the_rest_comes_out(tmp_path: Path) -> None:
    whole, ts = _whole("article.pcap", tmp_path)
    parts = split_pcap(whole, [len(ts) - 2], tmp_path / "parts")
    junk = tmp_path / "parts" / "zz-junk.pcap"
    junk.write_bytes(b"not a capture")
    _, doc = _multi([*parts, junk], tmp_path / "work", workers=2)
    files = {Path(f["path"]).name: f for f in doc["capture"]["files"]}
    assert files["zz-junk.pcap"]["status"] == "unreadable" and files["zz-junk.pcap"]["error"]
    assert any(w.startswith("unreadable:") for w in doc["capture"]["warnings"])
    assert doc["handovers"]  # the rest of the report still comes out
    os.unlink(junk)


def test_load_with_a_dask_client_is_one_report_over_the_files(tmp_path: Path, dask_client: Any) -> None:
    from mipsniff.analysis import load

    whole, ts = _whole("article.pcap", tmp_path)
    parts = split_pcap(whole, _interesting_cuts(whole, ts), tmp_path / "parts")
    a = load([str(tmp_path / "parts")], client=dask_client)
    assert len(a.reports) == 1
    assert _doc_text(a.report) == _single(whole)
    assert a.paths == parts
    assert len(a.handovers) == 1


@pytest.mark.parametrize("vantage", ["mn", "ha"])
def test_pcapng_with_vantage_interfaces_split_reports_like_the_whole(tmp_path: Path, vantage: str) -> None:
    """lost-ba.pcapng has interfaces `mn` and `ha`: each part is read at the requested one, as the
    single-process path reads the whole (the same packet seen at both points must not count twice)."""
    from mipsniff.capture.writer import write_capture

    src = SAMPLES / "lost-ba.pcapng"
    with open_capture(src) as rd:
        frames = [(f.ts_ns, f.interface, bytes(f.data)) for f in rd]
        names = [i.name for i in rd.interfaces]
    assert names == ["mn", "ha"]
    cuts = [0, len(frames) // 3, 2 * len(frames) // 3, len(frames)]
    parts = []
    for k in range(3):
        p = tmp_path / f"lost-ba-{k}.pcapng"
        with open(p, "wb") as fh:
            write_capture(fh, ["mn", "ha"], [(t, names[i], d) for t, i, d in frames[cuts[k] : cuts[k + 1]]])
        parts.append(p)
    expected = _doc_text(analyze_single(src, vantage=vantage).to_dict())
    got, _ = _multi(parts, tmp_path / "work", workers=1, vantage=vantage)
    assert got == expected


def test_gzip_and_pcapng_parts_mix_with_pcap(tmp_path: Path) -> None:
    """A ring buffer compressed as it rotates (`-z gzip`): .gz parts read like the rest."""
    import gzip

    whole, ts = _whole("rtp-stream.pcap", tmp_path)
    parts = split_pcap(whole, [len(ts) // 3, 2 * len(ts) // 3], tmp_path / "parts")
    gz = parts[1].with_name(parts[1].name + ".gz")
    gz.write_bytes(gzip.compress(parts[1].read_bytes()))
    parts[1].unlink()
    got, doc = _multi([tmp_path / "parts"], tmp_path / "work", workers=2)
    assert got == _single(whole)
    assert [Path(f["path"]).name for f in doc["capture"]["files"]] == [parts[0].name, gz.name, parts[2].name]
