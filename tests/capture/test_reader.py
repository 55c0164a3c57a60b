"""Capture readers: every format variant written byte by byte with struct, and the failure modes."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipsniff.capture import Frame, open_capture
from mipsniff.errors import UserError

PKT1 = bytes(range(60))
PKT2 = bytes(range(100, 142))
PKT3 = b"\xaa" * 7


def pcap_bytes(endian: str = "<", nano: bool = False, linktype: int = 1,
               records: list[tuple[int, int, bytes]] | None = None) -> bytes:
    """A classic pcap file; records are (seconds, fraction, data)."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)]
    for sec, frac, data in records if records is not None else [(1, 500, PKT1), (2, 7, PKT2), (3, 0, PKT3)]:
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), len(data) + 4) + data)
    return b"".join(out)


def _opt(endian: str, code: int, value: bytes) -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(endian: str, btype: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack(endian + "II", btype, total) + body + struct.pack(endian + "I", total)


def shb(endian: str) -> bytes:
    return _block(endian, 0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(endian: str, linktype: int, tsresol: int | None = None, name: str | None = None) -> bytes:
    opts = b""
    if name is not None:
        opts += _opt(endian, 2, name.encode())
    if tsresol is not None:
        opts += _opt(endian, 9, bytes([tsresol]))
    if opts:
        opts += _opt(endian, 0, b"")
    return _block(endian, 1, struct.pack(endian + "HHI", linktype, 0, 0) + opts)


def epb(endian: str, iface: int, ts: int, data: bytes, comment: str | None = None) -> bytes:
    body = struct.pack(endian + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
    body += data + b"\0" * (-len(data) % 4)
    if comment is not None:
        body += _opt(endian, 1, comment.encode()) + _opt(endian, 0, b"")
    return _block(endian, 6, body)


def spb(endian: str, data: bytes) -> bytes:
    return _block(endian, 3, struct.pack(endian + "I", len(data)) + data + b"\0" * (-len(data) % 4))


def obsolete_pb(endian: str, iface: int, ts: int, data: bytes) -> bytes:
    body = struct.pack(endian + "HHIIII", iface, 0, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
    return _block(endian, 2, body + data + b"\0" * (-len(data) % 4))


def pcapng_bytes(endian: str = "<") -> bytes:
    """Two interfaces: Ethernet in microseconds, raw IPv6 in 2^-10 s, then packets with comments."""
    return b"".join([
        shb(endian),
        idb(endian, 1, name="eth0"),
        idb(endian, 229, tsresol=0x80 | 10),
        _block(endian, 4, b"\0\0\0\0"),  # name resolution block: skipped
        epb(endian, 0, 1_700_000_000_123_456, PKT1, comment="handover starts here"),
        epb(endian, 1, 1024 * 5 + 512, PKT2),  # 5.5 s in 2^-10 s units
        obsolete_pb(endian, 0, 2_000_000, PKT3),
    ])


def write(tmp_path: Path, name: str, data: bytes, gz: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_pcap_variants(tmp_path: Path, endian: str, nano: bool, gz: bool) -> None:
    path = write(tmp_path, "capture.bin", pcap_bytes(endian, nano), gz)
    reader = open_capture(path)
    assert reader.format == "pcap" and reader.link_types == (1,) and reader.compressed == gz
    frames = list(reader)
    scale = 1 if nano else 1000
    assert frames == [
        Frame(index=1, ts_ns=1_000_000_000 + 500 * scale, linktype=1, data=PKT1, orig_len=64),
        Frame(index=2, ts_ns=2_000_000_000 + 7 * scale, linktype=1, data=PKT2, orig_len=46),
        Frame(index=3, ts_ns=3_000_000_000, linktype=1, data=PKT3, orig_len=11),
    ]
    assert reader.warnings == []
    assert reader.packets == 3
    assert (reader.first_ts_ns, reader.last_ts_ns) == (1_000_000_000 + 500 * scale, 3_000_000_000)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("endian", ["<", ">"])
def test_pcapng_multi_interface_with_comments(tmp_path: Path, endian: str, gz: bool) -> None:
    path = write(tmp_path, "x.pcap", pcapng_bytes(endian), gz)  # the name lies: the magic decides
    reader = open_capture(path)
    assert reader.format == "pcapng"
    assert reader.link_types == (1, 229)
    assert reader.interfaces[0].name == "eth0"
    frames = list(reader)
    assert [(f.index, f.linktype, f.interface, f.data, f.comment) for f in frames] == [
        (1, 1, 0, PKT1, "handover starts here"),
        (2, 229, 1, PKT2, None),
        (3, 1, 0, PKT3, None),
    ]
    assert frames[0].ts_ns == 1_700_000_000_123_456_000
    assert frames[1].ts_ns == 5_500_000_000  # 2^-10 s resolution
    assert frames[2].ts_ns == 2_000_000_000
    assert reader.warnings == [] and reader.packets == 3
    assert (reader.first_ts_ns, reader.last_ts_ns) == (1_700_000_000_123_456_000, 2_000_000_000)


def test_pcapng_simple_packet_block_and_second_section(tmp_path: Path) -> None:
    data = (shb("<") + idb("<", 1, tsresol=9) + epb("<", 0, 42, PKT1) + spb("<", PKT2)
            + shb(">") + idb(">", 113) + epb(">", 0, 3_000_000, PKT3))
    reader = open_capture(write(tmp_path, "two-sections", data))
    frames = list(reader)
    assert [(f.linktype, f.data, f.ts_ns) for f in frames] == [
        (1, PKT1, 42), (1, PKT2, 42), (113, PKT3, 3_000_000_000)]
    assert reader.link_types == (1, 113)
    assert reader.warnings == []


@pytest.mark.parametrize("gz", [False, True])
def test_pcap_truncated_last_record_keeps_the_rest(tmp_path: Path, gz: bool) -> None:
    full = pcap_bytes()
    path = write(tmp_path, "t.pcap", full[:-3], gz)
    reader = open_capture(path)
    frames = list(reader)
    assert [f.index for f in frames] == [1, 2]
    (w,) = reader.warnings
    assert w.frame == 3
    assert w.offset == 24 + 16 + len(PKT1) + 16 + len(PKT2)
    assert "truncated" in w.message and "frame 3" in str(w)


def test_pcap_truncated_record_header(tmp_path: Path) -> None:
    reader = open_capture(write(tmp_path, "t.pcap", pcap_bytes()[: 24 + 16 + len(PKT1) + 9]))
    assert len(list(reader)) == 1
    (w,) = reader.warnings
    assert (w.frame, w.offset) == (2, 24 + 16 + len(PKT1))
    assert "header truncated" in w.message


def test_pcap_corrupt_record_header(tmp_path: Path) -> None:
    data = bytearray(pcap_bytes())
    second = 24 + 16 + len(PKT1)
    struct.pack_into("<I", data, second + 8, 0x7FFFFFF0)  # captured length: absurd
    reader = open_capture(write(tmp_path, "c.pcap", bytes(data)))
    assert [f.index for f in reader] == [1]
    (w,) = reader.warnings
    assert (w.frame, w.offset) == (2, second) and "corrupt" in w.message


@pytest.mark.parametrize("gz", [False, True])
def test_pcapng_truncated_and_corrupt_blocks(tmp_path: Path, gz: bool) -> None:
    data = pcapng_bytes()
    reader = open_capture(write(tmp_path, "t.pcapng", data[:-5], gz))
    assert [f.index for f in reader] == [1, 2]
    (w,) = reader.warnings
    assert w.frame == 3 and w.offset == len(data) - len(obsolete_pb("<", 0, 2_000_000, PKT3))
    corrupt = bytearray(data)
    struct.pack_into("<I", corrupt, w.offset + 4, 13)  # block length not a multiple of 4
    reader = open_capture(write(tmp_path, "c.pcapng", bytes(corrupt), gz))
    assert [f.index for f in reader] == [1, 2]
    (w2,) = reader.warnings
    assert w2.frame == 3 and "corrupt block header" in w2.message


def test_pcapng_packet_for_unknown_interface(tmp_path: Path) -> None:
    data = shb("<") + idb("<", 1) + epb("<", 0, 1, PKT1) + epb("<", 5, 2, PKT2)
    reader = open_capture(write(tmp_path, "u.pcapng", data))
    assert [f.index for f in reader] == [1]
    assert "unknown interface 5" in reader.warnings[0].message


@pytest.mark.parametrize("content, expected", [
    (b"", "empty file"),
    (b"hello world, this is not a capture at all", "magic 0x68656c6c"),
    (b"\x00\x01", "only 2 bytes"),
])
def test_not_a_capture(tmp_path: Path, content: bytes, expected: str) -> None:
    path = write(tmp_path, "notes.pcap", content)
    with pytest.raises(UserError) as exc:
        open_capture(path)
    message = str(exc.value)
    assert "\n" not in message and expected in message and str(path) in message


def test_gzip_of_something_else(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="gzip file that is not a pcap"):
        open_capture(write(tmp_path, "x.gz", b"plain text inside" * 3, gz=True))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        open_capture(tmp_path / "nope.pcap")
    with pytest.raises(UserError, match="is a directory"):
        open_capture(tmp_path)


def test_iter_relevant_applies_the_predicate_before_building_frames(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []

    class OnlyLong:
        def for_linktype(self, linktype: int):  # type: ignore[no-untyped-def]
            assert linktype == 1

            def pred(buf, start, end):  # type: ignore[no-untyped-def]
                seen.append((start, end))
                return end - start > 50
            return pred

    reader = open_capture(write(tmp_path, "p.pcap", pcap_bytes()))
    frames = list(reader.iter_relevant(OnlyLong()))
    assert [f.index for f in frames] == [1]
    assert len(seen) == 3 and reader.packets == 3
    assert reader.last_ts_ns == 3_000_000_000


def test_count_walks_without_frames(tmp_path: Path) -> None:
    reader = open_capture(write(tmp_path, "p.pcapng", pcapng_bytes()))
    assert reader.count() == 3
    assert reader.first_ts_ns == 1_700_000_000_123_456_000
    with pytest.raises(RuntimeError):
        list(reader)


def test_many_frames_across_gzip_chunks(tmp_path: Path) -> None:
    records = [(i, i % 1_000_000, bytes([i % 256]) * (i % 1500)) for i in range(6000)]
    raw = pcap_bytes(records=records)
    assert len(raw) > 4 << 20  # more than one gzip chunk
    for gz in (False, True):
        reader = open_capture(write(tmp_path, f"big{gz}", raw, gz))
        frames = list(reader)
        assert len(frames) == 6000 and reader.warnings == []
        assert frames[-1].data == records[-1][2] and frames[4321].index == 4322


@pytest.mark.parametrize("gz", [False, True])
def test_background_reader_gives_the_same_frames(tmp_path: Path, gz: bool) -> None:
    records = [(i, i % 1_000_000, bytes([i % 256]) * (i % 700)) for i in range(3000)]
    path = write(tmp_path, "bg.pcap", pcap_bytes(records=records)[:-5], gz)

    class Odd:
        def for_linktype(self, linktype: int):  # type: ignore[no-untyped-def]
            return lambda buf, s, e: (e - s) % 2 == 1

    here = open_capture(path)
    expected = list(here.iter_relevant(Odd()))
    there = open_capture(path)
    got = list(there.iter_relevant(Odd(), background=True))
    assert got == expected and len(got) > 1000
    assert (there.packets, there.first_ts_ns, there.last_ts_ns) == (here.packets, here.first_ts_ns,
                                                                     here.last_ts_ns)
    assert [str(w) for w in there.warnings] == [str(w) for w in here.warnings] and len(there.warnings) == 1
    assert there.worker_maxrss_kb is not None and there.worker_maxrss_kb > 0


def test_background_reader_stopped_early_reaps_its_child(tmp_path: Path) -> None:
    import os

    records = [(i, 0, b"x" * 1000) for i in range(20000)]
    path = write(tmp_path, "big.pcap", pcap_bytes(records=records))
    reader = open_capture(path)
    it = reader.iter_relevant(None, background=True)
    first = [next(it) for _ in range(3)]
    assert [f.index for f in first] == [1, 2, 3]
    assert reader.worker_pid is not None
    it.close()  # type: ignore[attr-defined]
    with pytest.raises(ChildProcessError):
        os.waitpid(reader.worker_pid, os.WNOHANG)  # already reaped: no child left behind


def test_truncated_gzip_stream_keeps_what_was_decompressed(tmp_path: Path) -> None:
    records = [(i, 0, bytes([i % 256]) * 900) for i in range(3000)]
    packed = gzip.compress(pcap_bytes(records=records), compresslevel=1)
    path = tmp_path / "cut.pcap.gz"
    path.write_bytes(packed[: len(packed) // 2])
    reader = open_capture(path)
    frames = list(reader)
    assert 0 < len(frames) < 3000
    assert [f.index for f in frames] == list(range(1, len(frames) + 1))
    assert any("gzip stream corrupt" in w.message for w in reader.warnings)
    assert all(w.frame == len(frames) + 1 for w in reader.warnings)


@settings(max_examples=150, deadline=None)
@given(tail=st.binary(max_size=300), ng=st.booleans(), cut=st.integers(min_value=0, max_value=200))
def test_readers_never_raise_on_garbage(tmp_path_factory: pytest.TempPathFactory, tail: bytes, ng: bool,
                                        cut: int) -> None:
    """Whatever follows a valid file header, a read ends with frames and warnings, never an exception."""
    base = pcapng_bytes() if ng else pcap_bytes()
    data = base[: max(len(base) - cut, 24 if not ng else 28)] + tail
    path = tmp_path_factory.mktemp("fuzz") / "f.bin"
    path.write_bytes(data)
    try:
        reader = open_capture(path)
    except UserError:
        return
    frames = list(reader)
    assert [f.index for f in frames] == list(range(1, len(frames) + 1))
    assert reader.packets == len(frames)


def test_corrupt_gzip_header_is_a_user_error(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.pcap.gz", b"\x1f\x8bgarbage, not deflate at all")
    with pytest.raises(UserError, match="not a readable capture .*gzip stream corrupt"):
        open_capture(path)


def test_kuznetzov_pcap_with_24_byte_record_headers(tmp_path: Path) -> None:
    out = [struct.pack("<IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 65535, 1)]
    for i, data in enumerate((PKT1, PKT2)):
        # ts, captured and original length, then ifindex, protocol, packet type, padding
        out.append(struct.pack("<IIIIiHBB", 10 + i, 0, len(data), len(data), 2, 0x86DD, 0, 0) + data)
    reader = open_capture(write(tmp_path, "kuz.pcap", b"".join(out)))
    assert [(f.index, f.data, f.ts_ns) for f in reader] == [(1, PKT1, 10_000_000_000), (2, PKT2, 11_000_000_000)]
    assert reader.warnings == []
