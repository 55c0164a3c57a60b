"""pcapng files (draft-ietf-opsawg-pcapng): sections in either byte order, several interfaces with
different link types, if_tsresol (powers of 10 and of 2) and if_tsoffset, Enhanced / Simple / obsolete
Packet Blocks, and the per-packet opt_comment.

Block walk: one `unpack_from` for type and length; packet blocks are checked against the caller's
predicate (chosen per interface) before a `Frame` is built.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from mipsniff.capture.frame import Frame
from mipsniff.capture.reader import PCAPNG_SHB, FramePredicate, Interface
from mipsniff.capture.source import RELEASE_EVERY, Buffer

if TYPE_CHECKING:
    from mipsniff.capture.reader import CaptureReader, FrameFilter

BT_IDB = 0x00000001
BT_PB = 0x00000002  # obsolete Packet Block
BT_SPB = 0x00000003
BT_EPB = 0x00000006
BYTE_ORDER_MAGIC = 0x1A2B3C4D
OPT_ENDOFOPT = 0
OPT_COMMENT = 1
IF_NAME = 2
IF_DESCRIPTION = 3
IF_TSRESOL = 9
IF_TSOFFSET = 14
# A block longer than this is taken for a corrupt header (Wireshark's MAX_BLOCK_SIZE is 16 MiB + a bit).
MAX_BLOCK = 16 << 20

TsConv = Callable[[int], int]


def _options(buf: Buffer, start: int, end: int, endian: str) -> Iterator[tuple[int, bytes]]:
    """(code, value) pairs of an options list; stops quietly at opt_endofopt or a bad length."""
    pos = start
    while pos + 4 <= end:
        code, length = struct.unpack_from(endian + "HH", buf, pos)
        if code == OPT_ENDOFOPT:
            return
        vstart = pos + 4
        if vstart + length > end:
            return
        yield code, bytes(buf[vstart:vstart + length])
        pos = vstart + ((length + 3) & ~3)


def _ts_conv(tsresol: int, tsoffset_s: int) -> TsConv:
    """Raw 64-bit timestamp -> epoch ns. if_tsresol: MSB clear = 10^-v s, MSB set = 2^-v s (§4.2)."""
    off_ns = tsoffset_s * 1_000_000_000
    if tsresol & 0x80:
        shift = tsresol & 0x7F
        return lambda raw: ((raw * 1_000_000_000) >> shift) + off_ns
    exp = tsresol
    if exp <= 9:
        mul = 10 ** (9 - exp)
        return lambda raw: raw * mul + off_ns
    div = 10 ** (exp - 9)
    return lambda raw: raw // div + off_ns


def _parse_idb(buf: Buffer, pos: int, blen: int, endian: str) -> tuple[Interface, TsConv]:
    linktype, _reserved, snaplen = struct.unpack_from(endian + "HHI", buf, pos + 8)
    tsresol, tsoffset = 6, 0
    name = description = None
    for code, value in _options(buf, pos + 16, pos + blen - 4, endian):
        if code == IF_TSRESOL and len(value) >= 1:
            tsresol = value[0]
        elif code == IF_TSOFFSET and len(value) >= 8:
            (tsoffset,) = struct.unpack_from(endian + "q", value)
        elif code == IF_NAME:
            name = value.decode("utf-8", errors="replace").rstrip("\0")
        elif code == IF_DESCRIPTION:
            description = value.decode("utf-8", errors="replace").rstrip("\0")
    return Interface(linktype=linktype, snaplen=snaplen, name=name, description=description), _ts_conv(
        tsresol, tsoffset)


def _comment(buf: Buffer, start: int, end: int, endian: str) -> str | None:
    for code, value in _options(buf, start, end, endian):
        if code == OPT_COMMENT:
            return value.decode("utf-8", errors="replace").rstrip("\0")
    return None


def _shb_endian(buf: Buffer, pos: int) -> str | None:
    if pos + 12 > len(buf):
        return None
    (bom,) = struct.unpack_from("<I", buf, pos + 8)
    if bom == BYTE_ORDER_MAGIC:
        return "<"
    if bom == 0x4D3C2B1A:
        return ">"
    return None


def read_leading_interfaces(reader: CaptureReader) -> None:
    """Fill `reader.interfaces` from the IDBs before the first packet block (what a pass will start
    with), so `link_types` is known before reading. Stops quietly at anything odd: the pass reports it."""
    buf = reader._src.buf
    endian = _shb_endian(buf, 0)
    if endian is None:
        return
    pos = 0
    size = len(buf)
    while pos + 12 <= size:
        btype, blen = struct.unpack_from(endian + "II", buf, pos)
        if blen < 12 or pos + blen > size:
            return
        if btype == BT_IDB:
            reader.interfaces.append(_parse_idb(buf, pos, blen, endian)[0])
        elif btype in (BT_EPB, BT_SPB, BT_PB):
            return
        pos += blen


def iter_pcapng(reader: CaptureReader, prefilter: FrameFilter | None) -> Iterator[Frame]:
    src = reader._src
    buf = src.buf
    size = len(buf)
    pos = 0
    n = 0
    interfaces: list[Interface] = []
    convs: list[TsConv] = []
    preds: list[FramePredicate | None] = []
    endian = "<"
    bh = struct.Struct("<II").unpack_from
    epb = struct.Struct("<IIIII").unpack_from
    u32 = struct.Struct("<I").unpack_from
    first_ts: int | None = None
    last_iface = -1
    last_tsh = last_tsl = 0
    npreds = 0
    problem = ""
    need = 12

    def predicate_for(linktype: int) -> FramePredicate | None:
        return prefilter.for_linktype(linktype) if prefilter is not None else None

    try:
        while True:
            lim = size if size - pos <= RELEASE_EVERY else pos + RELEASE_EVERY
            problem = ""
            while pos + 12 <= lim:
                btype, blen = bh(buf, pos)
                if btype == PCAPNG_SHB:
                    new_endian = _shb_endian(buf, pos)
                    if new_endian is None:
                        problem = "section header with a bad byte-order magic"
                        break
                    if new_endian != endian:
                        endian = new_endian
                        bh = struct.Struct(endian + "II").unpack_from
                        epb = struct.Struct(endian + "IIIII").unpack_from
                        u32 = struct.Struct(endian + "I").unpack_from
                        btype, blen = bh(buf, pos)
                    # A new section starts a new list of interfaces (§4.1).
                    interfaces, convs, preds = [], [], []
                    npreds = 0
                e = pos + blen
                if blen < 12 or blen & 3 or blen > MAX_BLOCK:
                    problem = f"corrupt block header (type 0x{btype:08x}, length {blen})"
                    break
                if e > size:
                    need = blen
                    break
                e4 = e - 4
                if u32(buf, e4)[0] != blen:
                    problem = f"block trailer length does not match its header ({blen})"
                    break
                if btype == BT_EPB:
                    iface, tsh, tsl, caplen, olen = epb(buf, pos + 8)
                    s = pos + 28
                    de = s + caplen
                    if de > e4 or iface >= npreds:
                        problem = (f"enhanced packet block for unknown interface {iface}" if de <= e4
                                   else f"captured length {caplen} overruns its block")
                        break
                    n += 1
                    pred = preds[iface]
                    last_iface, last_tsh, last_tsl = iface, tsh, tsl
                    if first_ts is None:
                        # Known before the first frame is yielded, so `show` can print relative times.
                        first_ts = reader.first_ts_ns = convs[iface]((tsh << 32) | tsl)
                    if pred is None or pred(buf, s, de):
                        yield Frame(index=n, ts_ns=convs[iface]((tsh << 32) | tsl), linktype=interfaces[iface].linktype,
                                    data=buf[s:de], orig_len=olen, interface=iface,
                                    comment=_comment(buf, s + ((caplen + 3) & ~3), e - 4, endian))
                elif btype == BT_SPB:
                    # Simple Packet Block: interface 0, no timestamp, captured length implied (§4.4).
                    if not preds:
                        problem = "simple packet block before any interface"
                        break
                    (olen,) = u32(buf, pos + 8)
                    s = pos + 12
                    de = min(s + olen, e - 4)
                    if interfaces[0].snaplen:
                        de = min(de, s + interfaces[0].snaplen)
                    n += 1
                    pred = preds[0]
                    if pred is None or pred(buf, s, de):
                        yield Frame(index=n, ts_ns=_ts(convs, last_iface, (last_tsh << 32) | last_tsl), linktype=interfaces[0].linktype,
                                    data=buf[s:de], orig_len=olen, interface=0)
                elif btype == BT_PB:
                    iface16, _drops, tsh, tsl, caplen, olen = struct.unpack_from(endian + "HHIIII", buf, pos + 8)
                    s = pos + 28
                    de = s + caplen
                    if de > e - 4 or iface16 >= len(preds):
                        problem = "obsolete packet block overruns its block or names an unknown interface"
                        break
                    n += 1
                    last_iface, last_tsh, last_tsl = iface16, tsh, tsl
                    ts = convs[iface16]((tsh << 32) | tsl)
                    if first_ts is None:
                        first_ts = reader.first_ts_ns = ts
                    pred = preds[iface16]
                    if pred is None or pred(buf, s, de):
                        yield Frame(index=n, ts_ns=ts, linktype=interfaces[iface16].linktype,
                                    data=buf[s:de], orig_len=olen, interface=iface16,
                                    comment=_comment(buf, s + ((caplen + 3) & ~3), e - 4, endian))
                elif btype == BT_IDB:
                    if blen < 20:
                        problem = "interface description block too short"
                        break
                    idb, conv = _parse_idb(buf, pos, blen, endian)
                    interfaces.append(idb)
                    convs.append(conv)
                    preds.append(predicate_for(idb.linktype))
                    npreds = len(preds)
                    if idb not in reader.interfaces:
                        reader.interfaces.append(idb)
                # Other blocks (name resolution, statistics, secrets, custom) are skipped.
                pos = e
            else:
                if lim < size:
                    src.release(pos)
                    continue
                need = 12
            if problem:
                reader._warn(n + 1, src.base + pos, problem + "; read stopped")
                break
            if src.refill(pos, need):
                buf, size, pos = src.buf, len(src.buf), 0
                continue
            if pos < size:
                reader._warn(n + 1, src.base + pos,
                             f"last block truncated ({size - pos} bytes left of a block that needs {need}); "
                             "read stopped")
            break
        if src.error:
            reader._warn(n + 1, src.base + pos, src.error)
    finally:
        reader.packets = n
        reader.first_ts_ns = first_ts
        reader.last_ts_ns = _ts(convs, last_iface, (last_tsh << 32) | last_tsl) if last_iface >= 0 else None


def _ts(convs: list[TsConv], iface: int, raw: int) -> int:
    """The epoch-ns timestamp of the last timestamped packet (0 before any): a Simple Packet Block has
    none of its own (§4.4), so it takes the one before it."""
    if 0 <= iface < len(convs):
        return convs[iface](raw)
    return 0
