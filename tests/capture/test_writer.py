import io
import shutil
import struct
import subprocess

import pytest

from mipsniff.capture.writer import PcapngWriter, PcapWriter, write_capture

FRAME = bytes.fromhex("333300000001" "00055df2db2b" "86dd") + bytes(40)
T = 1_209_643_200_123_456_789  # ns


def test_pcap_header_and_record_floor_the_timestamp_to_microseconds():
    out = io.BytesIO()
    w = PcapWriter(out)
    w.write(T, FRAME)
    data = out.getvalue()
    assert data[:24] == struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    sec, usec, incl, orig = struct.unpack_from("<IIII", data, 24)
    assert (sec, usec, incl, orig) == (1_209_643_200, 123_456, len(FRAME), len(FRAME))
    assert data[40:] == FRAME


def test_pcapng_has_one_idb_per_vantage_and_epb_on_the_right_interface():
    out = io.BytesIO()
    w = PcapngWriter(out, ["mn", "ha"])
    w.write(T, FRAME, 1)
    data = out.getvalue()
    blocks = []
    off = 0
    while off < len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        assert struct.unpack_from("<I", data, off + blen - 4)[0] == blen
        blocks.append((btype, data[off : off + blen]))
        off += blen
    assert [b[0] for b in blocks] == [0x0A0D0D0A, 1, 1, 6]
    epb = blocks[3][1]
    iface, hi, lo, cap = struct.unpack_from("<IIII", epb, 8)
    assert iface == 1 and ((hi << 32) | lo) == T // 1000 and cap == len(FRAME)
    with pytest.raises(ValueError):
        w.write(T, FRAME, 2)


@pytest.mark.oracle
@pytest.mark.parametrize("vantages", [["mn"], ["mn", "ha"]])
def test_tshark_reads_what_we_write(tmp_path, vantages):
    if shutil.which("tshark") is None:
        pytest.skip("tshark missing") if __import__("os").environ.get("CI") != "true" else pytest.fail("tshark missing")
    path = tmp_path / "x.pcap"
    with path.open("wb") as f:
        write_capture(f, vantages, [(T, vantages[-1], FRAME), (T + 1000, vantages[0], FRAME)])
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.interface_id"],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0].split("\t")[0].startswith("1209643200.123456")
    assert out[1].split("\t")[0].startswith("1209643200.123457")
    if len(vantages) == 2:
        assert [line.split("\t")[1] for line in out[:2]] == ["1", "0"]
