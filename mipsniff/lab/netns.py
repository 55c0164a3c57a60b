"""Network namespaces: run a command in one, or enter one from the calling thread (setns(2)).

A socket keeps the namespace it was created in, so entering a namespace only while sockets, TUN devices
and interface look-ups are made lets one process serve a node of the lab from the outside.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import subprocess
from collections.abc import Iterator, Sequence

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextlib.contextmanager
def entered(name: str | None) -> Iterator[None]:
    """Enter the named namespace (`ip netns` name) in this thread for the block; None is a no-op."""
    if name is None:
        yield
        return
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    there = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY)
    try:
        _setns(there)
        try:
            yield
        finally:
            _setns(here)
    finally:
        os.close(there)
        os.close(here)


def exists(name: str) -> bool:
    return os.path.exists(os.path.join(NETNS_DIR, name))


def listed() -> list[str]:
    """The namespaces `ip netns` knows."""
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def run(ns: str | None, argv: Sequence[str], *, check: bool = True, timeout: float = 30) -> str:
    """Run `argv` inside namespace `ns` (or here when None) and return its stdout."""
    full = list(argv) if ns is None else ["ip", "netns", "exec", ns, *argv]
    proc = subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(full)}: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout
