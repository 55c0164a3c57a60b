"""Read a capture in a forked child process, so the byte-level walk and the dissection that follows it
run on two CPUs.

The child runs the ordinary `iter_relevant` pass (reader.py) and streams the frames it keeps through a
pipe in batches; the parent rebuilds `Frame` records in the same order and, at the end, takes over the
child's counters (packets, first/last timestamps, warnings). The result is exactly what the in-process
pass gives; only the wall time differs. Linux/Unix only (`os.fork`); elsewhere the caller reads in
process.

Batch layout (native byte order, both ends are this machine): u32 payload length, then the payload:
a `q` first timestamp (-1 while unknown) and records of `<IqHIiIH` (index, ts_ns, linktype, interface,
orig_len or -1, data length, comment length) followed by the data and the UTF-8 comment. A payload of
length 0 is followed by the u32 length and the JSON trailer.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mipsniff.capture.frame import Frame

if TYPE_CHECKING:
    from mipsniff.capture.reader import CaptureReader, FrameFilter

_LEN = struct.Struct("=I")
_FIRST = struct.Struct("=q")
_REC = struct.Struct("=IqHIiIH")
_BATCH_BYTES = 256 << 10
_PIPE_SIZE = 1 << 20


def available() -> bool:
    return hasattr(os, "fork")


def _child(reader: CaptureReader, prefilter: FrameFilter | None, wfd: int) -> None:
    out = os.fdopen(wfd, "wb", buffering=0)
    parts: list[bytes] = []
    size = 0

    def flush() -> None:
        nonlocal parts, size
        first = reader.first_ts_ns if reader.first_ts_ns is not None else -1
        payload = _FIRST.pack(first) + b"".join(parts)
        out.write(_LEN.pack(len(payload)) + payload)
        parts, size = [], 0

    error = None
    try:
        for f in reader._iter_here(prefilter):
            comment = f.comment.encode() if f.comment is not None else b""
            rec = _REC.pack(f.index, f.ts_ns, f.linktype, f.interface,
                            f.orig_len if f.orig_len is not None else -1, len(f.data), len(comment))
            parts.append(rec + f.data + comment)
            size += len(rec) + len(f.data) + len(comment)
            if size >= _BATCH_BYTES:
                flush()
        if parts:
            flush()
    except BrokenPipeError:
        return
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it
        error = f"{type(exc).__name__}: {exc}"
    trailer = json.dumps({
        "packets": reader.packets, "first_ts_ns": reader.first_ts_ns, "last_ts_ns": reader.last_ts_ns,
        "warnings": [[w.frame, w.offset, w.message] for w in reader.warnings],
        "interfaces": [[i.linktype, i.snaplen, i.name, i.description] for i in reader.interfaces],
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "error": error,
    }).encode()
    with contextlib.suppress(BrokenPipeError):
        out.write(_LEN.pack(0) + _LEN.pack(len(trailer)) + trailer)
        out.close()


def _read_exact(f: object, n: int) -> bytes:
    data = f.read(n)  # type: ignore[attr-defined]
    if len(data) != n:
        raise EOFError
    return data  # type: ignore[no-any-return]


def iter_background(reader: CaptureReader, prefilter: FrameFilter | None) -> Iterator[Frame]:
    """`reader.iter_relevant(prefilter)`, with the walk done in a forked child."""
    from mipsniff.capture.reader import Interface

    rfd, wfd = os.pipe()
    with contextlib.suppress(OSError):
        import fcntl

        # A 1 MiB pipe (Linux F_SETPIPE_SZ) lets the child run a few batches ahead of the parent.
        fcntl.fcntl(wfd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_SIZE)
    pid = os.fork()
    if pid == 0:  # the child: walk, stream, and leave without running the parent's cleanup
        code = 0
        try:
            os.close(rfd)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _child(reader, prefilter, wfd)
        except BaseException:  # noqa: BLE001 - nothing may escape a forked child
            code = 1
        finally:
            os._exit(code)
    os.close(wfd)
    reader.worker_pid = pid
    inp = os.fdopen(rfd, "rb", buffering=_PIPE_SIZE)
    finished = False
    rec_size = _REC.size
    unpack_rec = _REC.unpack_from
    try:
        while True:
            try:
                (n,) = _LEN.unpack(_read_exact(inp, 4))
            except EOFError:
                raise RuntimeError("capture reader child exited without finishing") from None
            if n == 0:
                (tn,) = _LEN.unpack(_read_exact(inp, 4))
                trailer = json.loads(_read_exact(inp, tn))
                break
            payload = _read_exact(inp, n)
            (first,) = _FIRST.unpack_from(payload, 0)
            if first >= 0 and reader.first_ts_ns is None:
                reader.first_ts_ns = first
            pos = _FIRST.size
            while pos < n:
                index, ts_ns, linktype, iface, orig, dlen, clen = unpack_rec(payload, pos)
                pos += rec_size
                data = payload[pos:pos + dlen]
                pos += dlen
                comment = payload[pos:pos + clen].decode() if clen else None
                pos += clen
                yield Frame(index=index, ts_ns=ts_ns, linktype=linktype, data=data,
                            orig_len=orig if orig >= 0 else None, interface=iface, comment=comment)
        reader.packets = trailer["packets"]
        reader.first_ts_ns = trailer["first_ts_ns"]
        reader.last_ts_ns = trailer["last_ts_ns"]
        reader.worker_maxrss_kb = trailer["maxrss_kb"]
        for frame_no, offset, message in trailer["warnings"]:
            reader._warn(frame_no, offset, message)
        reader.interfaces[:] = [Interface(linktype=lt, snaplen=sl, name=nm, description=ds)
                                for lt, sl, nm, ds in trailer["interfaces"]]
        if trailer["error"]:
            raise RuntimeError(f"capture reader child failed: {trailer['error']}")
        finished = True
    finally:
        inp.close()
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
