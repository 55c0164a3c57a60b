"""Open a capture file (pcap or pcapng, optionally gzip-compressed) and stream its frames.

The format is detected from the magic number, never from the file name. Reading is streaming: memory
stays flat as the capture grows. A truncated last record or a corrupt record header ends the read with
a `CaptureWarning` (frame number and byte offset) and keeps every frame before it.

Two ways to read: iterate the reader for every frame, or call `iter_relevant(prefilter)` to apply a
byte-level predicate to the raw buffer *before* a `Frame` is built, which is what makes a 1M-frame pass
cost about a second (most frames are rejected after a few byte compares).
"""

from __future__ import annotations

import errno
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from mipsniff.capture.frame import Frame
from mipsniff.capture.source import GZIP_MAGIC, Buffer, ByteSource
from mipsniff.errors import UserError

# A predicate on one frame's bytes `buf[start:end]`; True keeps the frame.
FramePredicate = Callable[[Buffer, int, int], bool]

# pcap magic numbers as read little-endian (pcap-savefile(5); draft-ietf-opsawg-pcap).
PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
PCAP_MAGIC_KUZNETZOV = 0xA1B2CD34  # Alexey Kuznetzov's patched libpcap: 8 more bytes per record
PCAPNG_SHB = 0x0A0D0D0A  # draft-ietf-opsawg-pcapng §4.1, the same in both byte orders
# From this file size on, `iter_relevant(background=None)` walks the file in a child process.
BACKGROUND_MIN_BYTES = 16 << 20


class FrameFilter(Protocol):
    """What `iter_relevant` needs: a predicate per link type (None keeps every frame of that type)."""

    def for_linktype(self, linktype: int) -> FramePredicate | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureWarning:
    """A problem that ended (or marred) the read: `frame` is the 1-based number the unreadable record
    would have had, `offset` its byte offset in the (decompressed) file."""

    path: str
    frame: int
    offset: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}: frame {self.frame} at byte offset {self.offset}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Interface:
    """A pcapng interface (IDB), or the single interface of a pcap file."""

    linktype: int
    snaplen: int
    name: str | None = None
    description: str | None = None


def _user_error_for(path: str, exc: OSError) -> UserError:
    if exc.errno == errno.ENOENT:
        return UserError(f"{path}: no such file; give the path of a pcap or pcapng capture")
    if exc.errno == errno.EACCES:
        return UserError(f"{path}: permission denied; check the file's permissions")
    if exc.errno == errno.EISDIR:
        return UserError(f"{path} is a directory; give the path of a capture file")
    return UserError(f"{path}: cannot read ({exc.strerror})")


class CaptureReader:
    """A capture file opened for streaming. Iterate it for `Frame`s, or use `iter_relevant`.

    After (or during) a pass: `packets` counts every frame walked, `first_ts_ns` / `last_ts_ns` are the
    first and last timestamps, `warnings` lists `CaptureWarning`s. `link_types` are known at open for pcap
    and for the interfaces a pcapng file declares before its first packet (later IDBs are added as they
    are met)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        if os.path.isdir(self.path):
            raise UserError(f"{self.path} is a directory; give the path of a capture file")
        try:
            self._src = ByteSource(self.path)
        except OSError as exc:
            raise _user_error_for(self.path, exc) from None
        self.compressed = self._src.compressed
        self.warnings: list[CaptureWarning] = []
        self.packets = 0
        self.first_ts_ns: int | None = None
        self.last_ts_ns: int | None = None
        self.interfaces: list[Interface] = []
        self._consumed = False
        self.worker_maxrss_kb: int | None = None  # peak RSS of the background child, when one ran
        self.worker_pid: int | None = None
        head = bytes(self._src.buf[:24])
        if len(head) < 4:
            self.close()
            if self._src.error:
                raise UserError(f"{self.path} is not a readable capture ({self._src.error})")
            what = "empty file" if not head else f"only {len(head)} bytes"
            raise UserError(f"{self.path} is not a pcap or pcapng capture ({what})")
        (magic_le,) = struct.unpack_from("<I", head)
        (magic_be,) = struct.unpack_from(">I", head)
        if magic_le == PCAPNG_SHB:
            self.format = "pcapng"
            from mipsniff.capture import pcapng

            pcapng.read_leading_interfaces(self)
        elif PCAP_MAGIC_US in (magic_le, magic_be) or PCAP_MAGIC_NS in (magic_le, magic_be) or (
                PCAP_MAGIC_KUZNETZOV in (magic_le, magic_be)):
            self.format = "pcap"
            if len(head) < 24:
                self.close()
                raise UserError(f"{self.path}: pcap file header truncated ({len(head)} of 24 bytes)")
            self._endian = "<" if magic_le in (PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_KUZNETZOV) else ">"
            magic = magic_le if self._endian == "<" else magic_be
            self._ts_scale = 1 if magic == PCAP_MAGIC_NS else 1000
            self._rec_hdr = 24 if magic == PCAP_MAGIC_KUZNETZOV else 16
            _, _, _, _, snaplen, network = struct.unpack_from(self._endian + "HHiIII", head, 4)
            # The low 16 bits are the LINKTYPE; the upper bits carry FCS information (pcap-linktype(7)).
            self.interfaces.append(Interface(linktype=network & 0xFFFF, snaplen=snaplen))
        else:
            self.close()
            kind = "a gzip file that is not" if self.compressed else "not"
            raise UserError(f"{self.path} is {kind} a pcap or pcapng capture (magic 0x{head[:4].hex()})")

    # --- public API ---------------------------------------------------------------------------------

    @property
    def link_types(self) -> tuple[int, ...]:
        """Distinct link types of the interfaces known so far, in order of appearance."""
        return tuple(dict.fromkeys(i.linktype for i in self.interfaces))

    def __iter__(self) -> Iterator[Frame]:
        return self.iter_relevant(None)

    def iter_relevant(self, prefilter: FrameFilter | None, *, background: bool | None = False) -> Iterator[Frame]:
        """Frames whose raw bytes pass `prefilter.for_linktype(linktype)` (all frames when None).
        `background=True` walks the file in a forked child (background.py) so that the caller's
        dissection runs on another CPU; None chooses it for files of `BACKGROUND_MIN_BYTES` or more
        where fork exists. The frames are the same either way. A reader is read once: a second pass
        needs a new `open_capture`."""
        if self._consumed:
            raise RuntimeError("a CaptureReader can be iterated only once; open the capture again")
        from mipsniff.capture import background as bg

        if background is None:
            background = bg.available() and os.path.getsize(self.path) >= BACKGROUND_MIN_BYTES
        self._consumed = True
        if background and bg.available():
            return bg.iter_background(self, prefilter)
        return self._iter_here(prefilter)

    def _iter_here(self, prefilter: FrameFilter | None) -> Iterator[Frame]:
        """The pass in this process (also what the background child runs)."""
        if self.format == "pcap":
            from mipsniff.capture import pcap

            return pcap.iter_pcap(self, prefilter)
        from mipsniff.capture import pcapng

        return pcapng.iter_pcapng(self, prefilter)

    def count(self) -> int:
        """Walk the whole capture without building frames; returns `packets` (timestamps too)."""
        for _ in self.iter_relevant(_RejectAll()):
            pass
        return self.packets

    def close(self) -> None:
        self._src.close()

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- used by the format modules -----------------------------------------------------------------

    def _warn(self, frame: int, offset: int, message: str) -> None:
        self.warnings.append(CaptureWarning(path=self.path, frame=frame, offset=offset, message=message))


class _RejectAll:
    @staticmethod
    def _no(buf: Buffer, start: int, end: int) -> bool:
        return False

    def for_linktype(self, linktype: int) -> FramePredicate | None:
        return self._no


def open_capture(path: str | os.PathLike[str]) -> CaptureReader:
    """Open a pcap / pcapng file (gzip-compressed or not). Raises `UserError` (one line) when the file
    is missing, unreadable or not a capture."""
    return CaptureReader(path)


__all__ = ["CaptureReader", "CaptureWarning", "FrameFilter", "FramePredicate", "Interface", "open_capture",
           "GZIP_MAGIC"]
