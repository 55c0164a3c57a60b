"""`mipsniff show` through typer's CliRunner: filtering, --all, --json, --count, user errors."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import HAO, MIP6MH_BU, ICMPv6ND_RA, IPv6, IPv6ExtHdrDestOpt
from scapy.layers.l2 import Ether
from typer.testing import CliRunner

from mipsniff.cli import app

runner = CliRunner()
ETH = dict(src="00:05:5d:f2:db:2b", dst="00:11:22:33:44:55")
HOA, HA, COA = "2001:db8::beef", "2001:db8::", "2001:db8:1:0:205:5dff:fef2:db2b"

FRAMES = [
    bytes(Ether(**ETH) / IP(src="192.0.2.1", dst="192.0.2.2") / TCP()),  # 1: unrelated
    bytes(Ether(**ETH) / IPv6(src="fe80::1", dst="ff02::1") / ICMPv6ND_RA(H=1)),  # 2: RA
    bytes(Ether(**ETH) / IPv6(src="2001:db8:2::1", dst="2001:db8:3::1") / TCP()),  # 3: unrelated
    bytes(Ether(**ETH) / IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
          / MIP6MH_BU(seq=54814, flags="AH", mhtime=65535)),  # 4: BU
]
T0 = 1_700_000_000


def write_pcap(path: Path, frames: list[bytes] = FRAMES, gz: bool = False, cut: int = 0) -> Path:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, f in enumerate(frames):
        out.append(struct.pack("<IIII", T0, 123 * i, len(f), len(f)) + f)
    data = b"".join(out)
    if cut:
        data = data[:-cut]
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_show_lists_only_mobility_relevant_packets(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", str(write_pcap(tmp_path / "c.pcap"))])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["2", "4"]
    assert lines[1] == f"4  0.000369  {COA} > {HA}  BU seq#=54814 AH lifetime=262140 HoA {HOA} CoA {COA}"
    assert lines[0].startswith("2  0.000123  fe80::1 > ff02::1  RA [H]")


def test_show_all_and_count(tmp_path: Path) -> None:
    path = str(write_pcap(tmp_path / "c.pcap"))
    result = runner.invoke(app, ["show", "--all", path])
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["1", "2", "3", "4"]
    assert "TCP 20 > 80" in result.stdout.splitlines()[2]
    result = runner.invoke(app, ["show", "--all", "--count", "2", path])
    assert len(result.stdout.splitlines()) == 2


def test_show_json_lines(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", "--json", str(write_pcap(tmp_path / "c.pcap.gz", gz=True))])
    assert result.exit_code == 0
    recs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["frame"] for r in recs] == [2, 4]
    ra, bu = recs
    assert ra["kind"] == "nd" and ra["type"] == "RA" and ra["ts"] == T0 + 0.000123
    for key in ("frame", "ts", "src", "dst", "kind", "type", "weirds"):
        assert key in bu
    assert (bu["mh_type"], bu["seq"], bu["flags"], bu["lifetime_s"]) == (5, 54814, "AH", 262140)
    assert (bu["home_address"], bu["care_of_address"], bu["src"], bu["dst"]) == (HOA, COA, COA, HA)


def test_show_truncated_capture_warns_on_stderr(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", str(write_pcap(tmp_path / "t.pcap", cut=10))])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["2"]
    assert "warning" in result.stderr and "frame 4" in result.stderr and "truncated" in result.stderr


def test_show_missing_file_and_not_a_capture(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", str(tmp_path / "missing.pcap")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "no such file" in result.stderr
    notes = tmp_path / "notes.txt"
    notes.write_text("not a capture\n")
    result = runner.invoke(app, ["show", str(notes)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"mipsniff: error: {notes} is not a pcap or pcapng capture (magic 0x6e6f7420)"
    assert "Traceback" not in result.output


def test_show_pcapng_with_comments_and_wireless_events(tmp_path: Path) -> None:
    from scapy.layers.dot11 import Dot11, Dot11Deauth, RadioTap

    def block(btype: int, body: bytes) -> bytes:
        return struct.pack("<II", btype, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))

    def epb(iface: int, ts_us: int, data: bytes, comment: bytes = b"") -> bytes:
        body = struct.pack("<IIIII", iface, ts_us >> 32, ts_us & 0xFFFFFFFF, len(data), len(data))
        body += data + b"\0" * (-len(data) % 4)
        if comment:
            body += struct.pack("<HH", 1, len(comment)) + comment + b"\0" * (-len(comment) % 4) + b"\0" * 4
        return block(6, body)

    deauth = bytes(RadioTap() / Dot11(type=0, subtype=12, addr1=ETH["src"], addr2=ETH["dst"], addr3=ETH["dst"])
                   / Dot11Deauth(reason=3))
    data = (block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
            + block(1, struct.pack("<HHI", 1, 0, 0)) + block(1, struct.pack("<HHI", 127, 0, 0))
            + epb(1, T0 * 1_000_000, deauth, b"left the AP")
            + epb(0, T0 * 1_000_000 + 5, FRAMES[3]))
    path = tmp_path / "wifi.pcapng"
    path.write_bytes(data)
    result = runner.invoke(app, ["show", "--json", str(path)])
    assert result.exit_code == 0, result.output
    l2, bu = [json.loads(line) for line in result.stdout.splitlines()]
    assert (l2["frame"], l2["kind"], l2["type"], l2["reason"], l2["bssid"]) == (1, "l2", "deauth", 3, ETH["dst"])
    assert l2["comment"] == "left the AP" and "comment" not in bu
    assert bu["type"] == "BU" and bu["ts"] == T0 + 0.000005
    text = runner.invoke(app, ["show", str(path)]).stdout.splitlines()
    assert text[0] == f"1  0.000000  {ETH['dst']} > {ETH['src']}  deauth BSSID {ETH['dst']} reason=3"


def test_show_output_is_the_same_with_the_background_reader(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import mipsniff.capture.background as bg
    import mipsniff.capture.reader as reader_mod

    calls = []
    real = bg.iter_background

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(bg, "iter_background", counting)
    frames = FRAMES * 50
    path = str(write_pcap(tmp_path / "many.pcap", frames=frames, cut=7))
    monkeypatch.setattr(reader_mod, "BACKGROUND_MIN_BYTES", 1 << 40)
    here = runner.invoke(app, ["show", "--json", path])
    monkeypatch.setattr(reader_mod, "BACKGROUND_MIN_BYTES", 0)
    there = runner.invoke(app, ["show", "--json", path])
    assert here.exit_code == there.exit_code == 0
    assert there.stdout == here.stdout and len(here.stdout.splitlines()) == 99
    assert there.stderr == here.stderr and "truncated" in here.stderr
    assert calls == [1]  # the second run, and only it, read in the background
