"""Byte sources for the capture readers: a window over the (decompressed) file that stays small.

A plain file is memory-mapped and read as one buffer; pages already walked are dropped from the
process with madvise(MADV_DONTNEED) every few tens of MB, so the resident set stays flat however large
the capture (the pages stay in the page cache; only our mapping forgets them). A gzip file is read in
chunks: the unread tail of the current chunk is kept and the next chunk appended. Readers address the
buffer with absolute indexes and call `refill` when a record runs past its end.
"""

from __future__ import annotations

import gzip
import mmap
import os
import zlib
from typing import BinaryIO

Buffer = bytes | mmap.mmap

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 4 << 20  # gzip read size
RELEASE_EVERY = 32 << 20  # drop walked mmap pages this often
_PAGE = mmap.PAGESIZE


class ByteSource:
    """The capture's bytes as a window `buf`; `base` is the stream offset of `buf[0]`.
    `error` is set when a gzip stream turned out corrupt (the data before it is kept)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.base = 0
        self.error: str | None = None
        self._released = 0
        self._mm: mmap.mmap | None = None
        self._gz: BinaryIO | None = None
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        head = self._file.read(2)
        self.compressed = head == GZIP_MAGIC
        self.buf: Buffer
        if self.compressed:
            self._file.seek(0)
            self._gz = gzip.GzipFile(fileobj=self._file, mode="rb")  # type: ignore[assignment]
            self.buf = b""
            self.eof = False
            self.refill(0, CHUNK)
        else:
            size = os.fstat(self._file.fileno()).st_size
            if size == 0:
                self.buf = b""
            else:
                self._mm = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
                self.buf = self._mm
            self.eof = True

    def refill(self, pos: int, need: int) -> bool:
        """Drop `buf[:pos]` and read at least `need` more bytes if the stream has them. Returns False
        at the end of the stream (then `buf` is unchanged). Callers restart at index 0."""
        if self.eof or self._gz is None:
            return False
        chunks: list[bytes] = []
        got = 0
        want = max(CHUNK, need)
        while got < want:
            try:
                # read1 returns what one decompression step gives, so a stream cut short loses only
                # its last piece (read(n) would drop everything it had gathered for the call).
                more = self._gz.read1(min(want - got, 1 << 16))  # type: ignore[attr-defined]
            except (OSError, EOFError, zlib.error) as exc:
                self.error = f"gzip stream corrupt: {exc}"
                more = b""
            if not more:
                self.eof = True
                break
            chunks.append(more)
            got += len(more)
        if not chunks:
            return False
        self.base += pos
        self.buf = bytes(self.buf[pos:]) + b"".join(chunks)
        return True

    def release(self, pos: int) -> None:
        """Forget mapped pages before `pos` (plain files only) so the resident set stays flat."""
        if self._mm is None or pos - self._released < RELEASE_EVERY:
            return
        upto = pos & ~(_PAGE - 1)
        if upto > self._released and hasattr(mmap, "MADV_DONTNEED"):
            self._mm.madvise(mmap.MADV_DONTNEED, self._released, upto - self._released)
        self._released = upto

    def close(self) -> None:
        if self._mm is not None:
            self._mm.close()
            self._mm = None
        if self._gz is not None:
            self._gz.close()
            self._gz = None
        self._file.close()
