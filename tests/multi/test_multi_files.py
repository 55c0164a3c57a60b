"""Input expansion, ordering by first timestamp, duplicate and overlap detection (mipsniff.multi.files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mipsniff.errors import UserError
from mipsniff.multi.files import FileStatus, FileSummary, expand_inputs, order_files, sha256_file


def _s(path: str, sha: str, start: int | None, end: int | None, packets: int = 10) -> FileSummary:
    return FileSummary(
        path=path,
        sha256=sha,
        size_bytes=1,
        packets=packets if start is not None else 0,
        start_ns=start,
        end_ns=end,
    )


def test_order_by_first_timestamp_not_name_and_global_frame_numbers() -> None:
    files, warnings = order_files(
        [_s("a", "1", 300, 400, 5), _s("b", "2", 100, 200, 7), _s("c", "3", 201, 299, 3)]
    )
    assert [f.path for f in files] == ["b", "c", "a"]
    assert [f.first_frame for f in files] == [1, 8, 11]
    assert warnings == []


def test_duplicate_content_read_once_and_warned() -> None:
    files, warnings = order_files(
        [_s("x", "same", 100, 200), _s("y", "same", 100, 200), _s("z", "o", 300, 400)]
    )
    by = {f.path: f for f in files}
    assert by["y"].status is FileStatus.duplicate and by["y"].duplicate_of == "x"
    assert by["z"].first_frame == 11  # the duplicate's frames are not counted
    assert [w.kind for w in warnings] == ["duplicate"]


def test_overlapping_time_ranges_warned_touching_ones_not() -> None:
    _, warnings = order_files([_s("a", "1", 100, 200), _s("b", "2", 150, 250), _s("c", "3", 250, 300)])
    assert [(w.kind, w.files) for w in warnings] == [("overlap", ("a", "b"))]


def test_unreadable_and_empty_files_sort_last() -> None:
    bad = FileSummary(path="bad", sha256="", size_bytes=3, status=FileStatus.unreadable, error="boom")
    files, warnings = order_files([bad, _s("empty", "e", None, None), _s("a", "1", 5, 6)])
    assert [f.path for f in files] == ["a", "bad", "empty"]
    assert [w.kind for w in warnings] == ["unreadable"]


def test_expand_directories_globs_and_files(tmp_path: Path) -> None:
    for name in ["t.pcap", "t.pcap1", "t.pcap2", "x.pcapng", "notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "deep.pcap").write_bytes(b"y")
    got = expand_inputs([str(tmp_path)])
    assert sorted(p.name for p in got) == ["t.pcap", "t.pcap1", "t.pcap2", "x.pcapng"]
    got = expand_inputs([str(tmp_path / "**" / "*.pcap"), str(tmp_path / "t.pcap")])
    assert sorted(p.name for p in got) == ["deep.pcap", "t.pcap"]  # t.pcap named twice, kept once


@pytest.mark.parametrize("arg", ["/nonexistent/x.pcap", "/nonexistent/*.pcap"])
def test_expand_missing_is_user_error(arg: str) -> None:
    with pytest.raises(UserError):
        expand_inputs([arg])


def test_sha256_file(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    assert sha256_file(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
