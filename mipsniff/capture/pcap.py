"""Classic pcap files (pcap-savefile(5), draft-ietf-opsawg-pcap): both byte orders, microsecond and
nanosecond timestamps, and Kuznetzov's 24-byte record headers.

The walk is the hot loop of every whole-capture pass: one `unpack_from` for the record length, the
caller's byte predicate, and a `Frame` only for the frames it keeps.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mipsniff.capture.frame import Frame
from mipsniff.capture.source import RELEASE_EVERY, Buffer

if TYPE_CHECKING:
    from mipsniff.capture.reader import CaptureReader, FrameFilter

# A record longer than this is taken for a corrupt header (libpcap's MAXIMUM_SNAPLEN; Wireshark's
# WTAP_MAX_PACKET_SIZE_STANDARD is the same 262144).
MAX_RECORD = 262144


def iter_pcap(reader: CaptureReader, prefilter: FrameFilter | None) -> Iterator[Frame]:
    src = reader._src
    endian = reader._endian
    walk = struct.Struct(endian + "8xI").unpack_from
    full = struct.Struct(endian + "IIII").unpack_from
    hsize = reader._rec_hdr
    scale = reader._ts_scale
    iface = reader.interfaces[0]
    linktype = iface.linktype
    max_incl = max(MAX_RECORD, iface.snaplen)
    pred = prefilter.for_linktype(linktype) if prefilter is not None else None
    buf = src.buf
    size = len(buf)
    pos = 24
    n = 0
    last = -1
    incl = 0

    def ts_at(data: Buffer, at: int) -> int:
        sec, frac, _, _ = full(data, at)
        return int(sec * 1_000_000_000 + frac * scale)

    try:
        while True:
            lim = size if size - pos <= RELEASE_EVERY else pos + RELEASE_EVERY
            while pos + hsize <= lim:
                (incl,) = walk(buf, pos)
                s = pos + hsize
                e = s + incl
                if e > size or incl > max_incl:
                    break
                n += 1
                if n == 1:
                    # Known before the first frame is yielded, so `show` can print relative times.
                    reader.first_ts_ns = ts_at(buf, pos)
                last = pos
                if pred is None or pred(buf, s, e):
                    sec, frac, _, orig = full(buf, pos)
                    yield Frame(index=n, ts_ns=sec * 1_000_000_000 + frac * scale, linktype=linktype,
                                data=buf[s:e], orig_len=orig)
                pos = e
            else:
                if lim < size:  # a window of the mapping is done: forget its pages
                    src.release(pos)
                    continue
                # End of the buffer: a partial record header may continue in the next gzip chunk.
                if last >= 0:
                    reader.last_ts_ns = ts_at(buf, last)
                    last = -1
                if src.refill(pos, hsize):
                    buf, size, pos = src.buf, len(src.buf), 0
                    continue
                if pos < size:
                    reader._warn(n + 1, src.base + pos,
                                 f"record header truncated ({size - pos} of {hsize} bytes); read stopped")
                break
            # The loop broke on a record that does not fit or is implausibly long.
            if last >= 0:
                reader.last_ts_ns = ts_at(buf, last)
                last = -1
            if incl > max_incl:
                reader._warn(n + 1, src.base + pos,
                             f"corrupt record header (captured length {incl} > {max_incl}); read stopped")
                break
            if src.refill(pos, hsize + incl):
                buf, size, pos = src.buf, len(src.buf), 0
                continue
            reader._warn(n + 1, src.base + pos,
                         f"last record truncated ({size - pos - hsize} of {incl} bytes); read stopped")
            break
        if src.error:
            reader._warn(n + 1, src.base + pos, src.error)
    finally:
        reader.packets = n
