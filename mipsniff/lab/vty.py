"""The agent's virtual terminal on localhost:7777, in the format of mip6d's vty (field notes §1.1).

mip6d's vty: TCP on localhost only, one client at a time (a second gets `Too many connections`), the
prompt `mip6d> ` followed by a NUL byte after each answer, one command per line, `unknown command:
"<word>"` for garbage. The commands here are the read-only ones: `bul` (MN), `bc`, `stats`, `help`,
`quit`/`exit`. Answers come from callables the agent process supplies (the machines' renderers), so this
module holds no protocol state.
"""

from __future__ import annotations

import contextlib
import select
import socket
from collections.abc import Callable, Mapping

PROMPT = b"mip6d> "
PORT = 7777
MAX_LINE = 1024

Commands = Mapping[str, Callable[[], str]]


def answer(line: str, commands: Commands) -> tuple[str, bool]:
    """The text answering one command line, and whether the session ends."""
    words = line.split()
    if not words:
        return "", False
    word = words[0]
    if word in ("quit", "exit"):
        return "", True
    if word == "help":
        return " ".join(sorted([*commands, "quit"])) + "\n", False
    fn = commands.get(word)
    if fn is None:
        return f'unknown command: "{word}"\n', False
    if len(words) > 1:
        return "unknown args\n", False
    try:
        text = fn()
    except Exception as exc:  # a renderer bug answers like mip6d's parse failure, the vty stays up
        return f"command parse failed ({type(exc).__name__})\n", False
    return text if text.endswith("\n") or not text else text + "\n", False


class VtyServer:
    """Non-blocking TCP server for the agent's select loop; bound to loopback only."""

    def __init__(self, commands: Commands, port: int = PORT) -> None:
        self.commands = commands
        self.listeners: list[socket.socket] = []
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                s.bind((host, port))
            except OSError:
                s.close()
                continue
            s.listen(4)
            s.setblocking(False)
            self.listeners.append(s)
        if not self.listeners:
            raise OSError(f"cannot listen on localhost:{port}")
        self.client: socket.socket | None = None
        self._buf = b""

    def fds(self) -> list[socket.socket]:
        return [*self.listeners, *([self.client] if self.client else [])]

    def _send(self, data: bytes) -> None:
        if self.client is None:
            return
        try:
            self.client.setblocking(True)
            self.client.settimeout(1.0)
            self.client.sendall(data)
            self.client.setblocking(False)
        except OSError:
            self._drop()

    def _drop(self) -> None:
        if self.client is not None:
            with contextlib.suppress(OSError):
                self.client.close()
        self.client = None
        self._buf = b""

    def on_readable(self, sock: socket.socket) -> None:
        if sock in self.listeners:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            if self.client is not None:
                # The current client may have just said quit or hung up: settle that first.
                with contextlib.suppress(OSError, ValueError):
                    if select.select([self.client], [], [], 0)[0]:
                        self.on_readable(self.client)
            if self.client is not None:
                # mip6d serves one client at a time (vt.c).
                with contextlib.suppress(OSError):
                    conn.sendall(b"Too many connections\n")
                conn.close()
                return
            self.client = conn
            self._buf = b""
            self._send(PROMPT + b"\0")
            return
        if sock is not self.client:
            return
        try:
            data = sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop()
            return
        self._buf += data
        if len(self._buf) > MAX_LINE and b"\n" not in self._buf:
            self._send(b"command parse failed\n" + PROMPT + b"\0")
            self._buf = b""
            return
        while self.client is not None and b"\n" in self._buf:
            raw, self._buf = self._buf.split(b"\n", 1)
            # Strip telnet IAC negotiation bytes and CR, keep printable text.
            line = bytes(c for c in raw if 32 <= c < 127).decode("ascii")
            text, bye = answer(line, self.commands)
            if bye:
                self._drop()
                return
            self._send(text.encode() + PROMPT + b"\0")

    def close(self) -> None:
        self._drop()
        for s in self.listeners:
            s.close()
