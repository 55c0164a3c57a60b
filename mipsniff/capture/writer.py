"""Capture writers: classic pcap (one interface) and pcapng (one IDB per capture point).

Formats: libpcap savefile format (microsecond timestamps) and pcapng (draft-ietf-opsawg-pcapng: SHB,
IDB with if_name and if_tsresol = 6, EPB). Both are written little-endian with no wall-clock or host
data, so the same frames give the same bytes. The simulator (`mipsniff synth`) and live capture
(`mipsniff live -w`) both write through these classes.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

LINKTYPE_ETHERNET = 1
SNAPLEN = 65535

_PCAP_MAGIC_US = 0xA1B2C3D4  # microsecond-resolution savefile


def _ts_us(ts_ns: int) -> int:
    # Timestamps are floored to the microsecond; the ground truth uses the same floor (clock.epoch_seconds).
    return ts_ns // 1000


class PcapWriter:
    """Writes a classic pcap: global header, then one record per `write()`."""

    def __init__(self, stream: BinaryIO, linktype: int = LINKTYPE_ETHERNET, snaplen: int = SNAPLEN) -> None:
        self._stream = stream
        stream.write(struct.pack("<IHHiIII", _PCAP_MAGIC_US, 2, 4, 0, 0, snaplen, linktype))

    def write(self, ts_ns: int, data: bytes, interface: int = 0) -> None:
        if interface != 0:
            raise ValueError("a classic pcap has a single interface; use PcapngWriter")
        sec, usec = divmod(_ts_us(ts_ns), 1_000_000)
        self._stream.write(struct.pack("<IIII", sec, usec, len(data), len(data)))
        self._stream.write(data)

    def flush(self) -> None:
        self._stream.flush()


def _pad4(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + _pad4(value)


def _block(block_type: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


class PcapngWriter:
    """Writes a pcapng section with one Interface Description Block per capture point."""

    SHB = 0x0A0D0D0A
    IDB = 0x00000001
    EPB = 0x00000006

    def __init__(self, stream: BinaryIO, interfaces: list[str], linktype: int = LINKTYPE_ETHERNET) -> None:
        self._stream = stream
        shb_opts = _option(4, b"mipsniff simulator") + _option(0, b"")  # shb_userappl, opt_endofopt
        # Byte-order magic, version 1.0, section length -1 (not computed).
        stream.write(_block(self.SHB, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + shb_opts))
        for name in interfaces:
            # if_name (2), if_tsresol (9) = 10**-6 seconds, opt_endofopt.
            opts = _option(2, name.encode()) + _option(9, b"\x06") + _option(0, b"")
            stream.write(_block(self.IDB, struct.pack("<HHI", linktype, 0, SNAPLEN) + opts))
        self._count = len(interfaces)

    def write(self, ts_ns: int, data: bytes, interface: int = 0) -> None:
        if not 0 <= interface < self._count:
            raise ValueError(f"no interface {interface} in this pcapng section")
        ts = _ts_us(ts_ns)
        body = struct.pack("<IIIII", interface, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
        self._stream.write(_block(self.EPB, body + _pad4(data)))


def write_capture(stream: BinaryIO, vantages: list[str], frames: list[tuple[int, str, bytes]]) -> None:
    """Write `(t_ns, vantage, frame)` records, already in time order: a classic pcap for one vantage,
    a pcapng with one interface per vantage (in `vantages` order) for several."""
    if len(vantages) == 1:
        writer: PcapWriter | PcapngWriter = PcapWriter(stream)
    else:
        writer = PcapngWriter(stream, vantages)
    index = {v: i for i, v in enumerate(vantages)}
    for t_ns, vantage, frame in frames:
        writer.write(t_ns, frame, index[vantage] if len(vantages) > 1 else 0)
