"""Live capture: AF_PACKET raw sockets with a kernel BPF filter, or dumpcap, yielding `Frame` records.

The filter keeps what a Mobile IPv6 handover is made of (RFC 6275 §6 Mobility Header, next header 135,
also behind a Destination Options / Routing / Hop-by-Hop header as the BU's Home Address option and the
BA's type 2 routing header put it; RFC 4861 Neighbor Discovery and RFC 4443 echo, ICMPv6 = 58; RFC 2473
IPv6-in-IPv6 and IPv4-in-IPv6 tunnels, 41 and 4) plus every packet to or from a known mobile node, so a
busy link costs the analyser only the packets that matter: the kernel drops the rest before they are
copied to user space. The user's own pcap-filter expression (`--bpf`) is added with "or".

Filters are pcap-filter text compiled by `tcpdump -dd` into `struct sock_filter` and attached with
SO_ATTACH_FILTER (Linux socket(7)/packet(7)); the kernel's drop counter comes from PACKET_STATISTICS.
The same text is handed to dumpcap for `--backend tshark`, so both backends see the same packets.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import ipaddress
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from mipsniff.capture.frame import Frame
from mipsniff.capture.writer import PcapWriter
from mipsniff.errors import UserError

# Linux constants (linux/if_ether.h, linux/if_packet.h, asm-generic/socket.h); the socket module
# does not export them all.
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
PACKET_OUTGOING = 4

# ARPHRD_* (linux/if_arp.h) to pcap LINKTYPE_* (tcpdump.org/linktypes.html).
_ARPHRD_TO_LINKTYPE = {1: 1, 772: 1, 65534: 101, 776: 101, 769: 101}
# `tcpdump -y` names for the linktypes compiled against.
_DLT_NAMES = {1: "EN10MB", 101: "RAW"}

SNAPLEN = 262144
_POLL_S = 0.1


class Backend(StrEnum):
    """How frames are captured."""

    raw = "raw"
    tshark = "tshark"


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureStats:
    """What the kernel (or dumpcap) reports, like tcpdump's "received by filter" / "dropped by kernel":
    `received` counts every packet that passed the filter, the `dropped` ones included."""

    received: int
    dropped: int
    source: str  # "PACKET_STATISTICS" or "dumpcap"


# --- the filter -------------------------------------------------------------------------------------

# Next headers worth keeping (IANA protocol numbers): ICMPv6 (ND, echo, errors), Mobility Header,
# IPv6-in-IPv6 and IPv4-in-IPv6 tunnels, Destination Options (the BU's Home Address option, RFC 6275
# §6.3) and Routing (the BA's type 2 routing header, §6.4).
_KEEP_NEXT_HEADERS = (58, 135, 41, 4, 60, 43)
# Behind a first Hop-by-Hop header, keep what leads to a Mobility Header or a tunnel.
_KEEP_AFTER_HBH = (135, 60, 43, 41)


def mobility_filter(known: Iterable[ipaddress.IPv6Address] = (), extra: str | None = None) -> str:
    """The pcap-filter expression for mobility-relevant traffic, known MNs' data and the user's `extra`."""
    nh = " or ".join(f"ip6[6] == {n}" for n in _KEEP_NEXT_HEADERS)
    hbh = " or ".join(f"ip6[40] == {n}" for n in _KEEP_AFTER_HBH)
    parts = [f"(ip6 and ({nh} or (ip6[6] == 0 and ({hbh}))))"]
    hosts = sorted({ipaddress.IPv6Address(a) for a in known})
    if hosts:
        parts.append("(ip6 and (" + " or ".join(f"host {a}" for a in hosts) + "))")
    if extra:
        parts.append(f"({extra})")
    return " or ".join(parts)


_DD_LINE = re.compile(r"\{\s*(0x[0-9a-fA-F]+),\s*(\d+),\s*(\d+),\s*(0x[0-9a-fA-F]+)\s*\},?")


def compile_bpf(expression: str, linktype: int = 1) -> list[tuple[int, int, int, int]]:
    """Compile a pcap-filter expression into classic BPF instructions (code, jt, jf, k) with `tcpdump -dd`."""
    tcpdump = shutil.which("tcpdump") or ("/usr/bin/tcpdump" if os.path.exists("/usr/bin/tcpdump") else None)
    if tcpdump is None:
        raise UserError("compiling a capture filter needs tcpdump: install it (apt-get install tcpdump)")
    dlt = _DLT_NAMES.get(linktype)
    if dlt is None:
        raise UserError(f"cannot compile a filter for link type {linktype}")
    proc = subprocess.run(
        [tcpdump, "-dd", "-y", dlt, expression], capture_output=True, text=True, check=False, timeout=30
    )
    if proc.returncode != 0:
        msg = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "tcpdump failed"
        raise UserError(f"bad capture filter {expression!r}: {msg}")
    program = [
        (int(m[1], 16), int(m[2]), int(m[3]), int(m[4], 16)) for m in _DD_LINE.finditer(proc.stdout)
    ]
    if not program:
        raise UserError(f"bad capture filter {expression!r}: tcpdump produced no program")
    return program


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def attach_filter(sock: socket.socket, program: list[tuple[int, int, int, int]]) -> None:
    """Attach (or replace) a classic BPF program on a socket with SO_ATTACH_FILTER."""
    insns = (_SockFilter * len(program))(*(_SockFilter(c, jt, jf, k) for c, jt, jf, k in program))
    fprog = _SockFprog(len(program), insns)
    # setsockopt takes the struct's bytes; the pointer inside stays valid while `insns` is alive.
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, bytes(fprog))


# --- interfaces and privilege -----------------------------------------------------------------------


def interface_names() -> list[str]:
    """Names of the interfaces of this network namespace."""
    return sorted(name for _, name in socket.if_nameindex())


def check_interface(iface: str) -> None:
    """Raise the one-line `UserError` naming the interfaces that exist when `iface` is not one of them."""
    names = interface_names()
    if iface not in names:
        raise UserError(f"no interface {iface!r}; interfaces here: {', '.join(names)}")


NEED_PRIVILEGE = "live capture needs root or CAP_NET_RAW: run it as root (sudo) or grant the capability"


def _arphrd(iface: str) -> int:
    try:
        with open(f"/sys/class/net/{iface}/type") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return 1


# --- the raw backend --------------------------------------------------------------------------------


class RawCapture:
    """An AF_PACKET SOCK_RAW socket bound to one interface, filtered in the kernel.

    Iterating yields `Frame`s (1-based index, kernel ns timestamp from SO_TIMESTAMPNS) until `stop()`.
    """

    def __init__(
        self,
        iface: str,
        *,
        known: Iterable[ipaddress.IPv6Address] = (),
        extra: str | None = None,
        buffer_bytes: int = 8 << 20,
    ) -> None:
        check_interface(iface)
        self.iface = iface
        self.linktype = _ARPHRD_TO_LINKTYPE.get(_arphrd(iface), 1)
        self._extra = extra
        self._known: set[ipaddress.IPv6Address] = {ipaddress.IPv6Address(a) for a in known}
        self.filter_expression = mobility_filter(self._known, extra)
        program = compile_bpf(self.filter_expression, self.linktype)
        try:
            self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        except PermissionError as exc:
            raise UserError(NEED_PRIVILEGE) from exc
        try:
            # Attach before bind, so no unfiltered packet is queued in between (packet(7)).
            attach_filter(self._sock, program)
            with contextlib.suppress(OSError):
                self._sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, buffer_bytes)
            self._sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            self._sock.bind((iface, ETH_P_ALL))
        except OSError as exc:
            self._sock.close()
            if exc.errno == errno.ENODEV:
                raise UserError(f"no interface {iface!r}; interfaces here: {', '.join(interface_names())}") from exc
            raise
        self._stopped = threading.Event()
        self._received = 0
        self._dropped = 0
        self._index = 0

    def add_known(self, addresses: Iterable[ipaddress.IPv6Address]) -> bool:
        """Also keep every packet to or from `addresses`; re-attaches the filter when the set grows."""
        new = {ipaddress.IPv6Address(a) for a in addresses} - self._known
        if not new:
            return False
        self._known |= new
        self.filter_expression = mobility_filter(self._known, self._extra)
        attach_filter(self._sock, compile_bpf(self.filter_expression, self.linktype))
        return True

    def stop(self) -> None:
        self._stopped.set()

    def stats(self) -> CaptureStats:
        """Cumulative counters; PACKET_STATISTICS resets on every read, so they are summed here."""
        if self._sock.fileno() >= 0:
            raw = self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
            packets, drops = struct.unpack("II", raw)
            self._received += packets
            self._dropped += drops
        return CaptureStats(received=self._received, dropped=self._dropped, source="PACKET_STATISTICS")

    def close(self) -> None:
        if self._sock.fileno() >= 0:
            self.stats()
            self._sock.close()

    def __enter__(self) -> RawCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        sock = self._sock
        cmsg_space = socket.CMSG_SPACE(16)
        while not self._stopped.is_set():
            ready, _, _ = select.select([sock], [], [], _POLL_S)
            if not ready:
                continue
            try:
                data, ancdata, _flags, _addr = sock.recvmsg(SNAPLEN, cmsg_space)
            except InterruptedError:
                continue
            except OSError as exc:
                if exc.errno == errno.ENETDOWN:  # the interface went down under us (lab move): keep going
                    continue
                raise
            ts_ns = 0
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= 16:
                    sec, nsec = struct.unpack("qq", payload[:16])
                    ts_ns = sec * 1_000_000_000 + nsec
            if ts_ns == 0:
                ts_ns = time.time_ns()
            self._index += 1
            yield Frame(index=self._index, ts_ns=ts_ns, linktype=self.linktype, data=data)


# --- the dumpcap backend ----------------------------------------------------------------------------

_DUMPCAP_DROPS = re.compile(r"Packets received/dropped on interface '[^']*': (\d+)/(\d+)")


class DumpcapCapture:
    """dumpcap (the capture engine of tshark and Wireshark) writing a pcap to a pipe, read as it grows."""

    def __init__(self, iface: str, *, known: Iterable[ipaddress.IPv6Address] = (), extra: str | None = None) -> None:
        check_interface(iface)
        dumpcap = shutil.which("dumpcap") or "/usr/bin/dumpcap"
        if not os.path.exists(dumpcap):
            raise UserError("--backend tshark needs dumpcap: install tshark (apt-get install tshark)")
        self.iface = iface
        self.filter_expression = mobility_filter(known, extra)
        # Validate the expression ourselves first: dumpcap's own error is several lines long.
        self.linktype = _ARPHRD_TO_LINKTYPE.get(_arphrd(iface), 1)
        compile_bpf(self.filter_expression, self.linktype)
        self._proc = subprocess.Popen(
            [dumpcap, "-q", "-i", iface, "-f", self.filter_expression, "-P", "-w", "-"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._stopped = threading.Event()
        self._stderr = b""
        self._stats = CaptureStats(received=0, dropped=0, source="dumpcap")
        self._index = 0
        assert self._proc.stdout is not None
        header = self._read_exact(24)
        if header is None:
            err = self._finish()
            if "permission" in err.lower() or "not permitted" in err.lower():
                raise UserError(NEED_PRIVILEGE)
            raise UserError(f"dumpcap failed: {err.strip().splitlines()[-1] if err.strip() else 'no output'}")
        magic = struct.unpack("<I", header[:4])[0]
        self._endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        magic = struct.unpack(self._endian + "I", header[:4])[0]
        self._ns = magic == 0xA1B23C4D
        self.linktype = struct.unpack(self._endian + "I", header[20:24])[0] & 0x0FFFFFFF

    def _read_exact(self, n: int) -> bytes | None:
        assert self._proc.stdout is not None
        buf = b""
        while len(buf) < n:
            chunk = self._proc.stdout.read(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def _finish(self) -> str:
        if self._proc.poll() is None:
            self._proc.terminate()
        try:
            _, err = self._proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            _, err = self._proc.communicate()
        self._stderr += err or b""
        text = self._stderr.decode(errors="replace")
        m = _DUMPCAP_DROPS.search(text)
        if m:
            self._stats = CaptureStats(received=int(m[1]), dropped=int(m[2]), source="dumpcap")
        return text

    def stop(self) -> None:
        """Ask dumpcap to finish: it flushes what it has, then the pipe ends and iteration stops."""
        self._stopped.set()
        if self._proc.poll() is None:
            self._proc.terminate()

    def stats(self) -> CaptureStats:
        return self._stats

    def close(self) -> None:
        self._finish()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        if self._proc.stderr is not None:
            self._proc.stderr.close()

    def __enter__(self) -> DumpcapCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        assert self._proc.stdout is not None
        fd = self._proc.stdout
        while True:
            if self._stopped.is_set() and self._proc.poll() is None:
                self._proc.terminate()
            if not self._stopped.is_set():
                ready, _, _ = select.select([fd], [], [], _POLL_S)
                if not ready:
                    continue
            rec = self._read_exact(16)
            if rec is None:
                break
            sec, frac, incl, _orig = struct.unpack(self._endian + "IIII", rec)
            data = self._read_exact(incl)
            if data is None:
                break
            ts_ns = sec * 1_000_000_000 + (frac if self._ns else frac * 1000)
            self._index += 1
            yield Frame(index=self._index, ts_ns=ts_ns, linktype=self.linktype, data=data)
        self._finish()


# --- one entry point --------------------------------------------------------------------------------


LiveSource = RawCapture | DumpcapCapture


def open_live(
    iface: str,
    *,
    backend: Backend = Backend.raw,
    known: Iterable[ipaddress.IPv6Address] = (),
    extra: str | None = None,
) -> LiveSource:
    """Open a live capture on `iface` with the chosen backend (one-line `UserError` on any user problem)."""
    if extra:
        compile_bpf(extra)  # the user's expression alone first, so an error names only what they wrote
    if backend is Backend.tshark:
        return DumpcapCapture(iface, known=known, extra=extra)
    return RawCapture(iface, known=known, extra=extra)


def capture_frames(
    source: LiveSource,
    *,
    writer: PcapWriter | None = None,
    duration_s: float | None = None,
    count: int | None = None,
    on_tick: Callable[[], None] | None = None,
) -> Iterator[Frame]:
    """Yield frames from `source`, saving each to `writer`, until `count` frames or `duration_s` passed."""
    deadline = None if duration_s is None else time.monotonic() + duration_s
    timer: threading.Timer | None = None
    if deadline is not None:
        timer = threading.Timer(duration_s or 0.0, source.stop)
        timer.daemon = True
        timer.start()
    n = 0
    try:
        for frame in source:
            if writer is not None:
                writer.write(frame.ts_ns, frame.data)
            n += 1
            yield frame
            if on_tick is not None:
                on_tick()
            if count is not None and n >= count:
                source.stop()
                break
    finally:
        if timer is not None:
            timer.cancel()
        if writer is not None:
            writer.flush()
