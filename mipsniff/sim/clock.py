"""Virtual clock and event queue for the simulator: integer nanoseconds, deterministic tie-breaking.

Events at the same instant run in the order they were scheduled (a sequence number breaks ties), so a
run depends only on the scenario and its seed, never on hash order or wall time.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# 2008-05-01 12:00:00 UTC, the month of the article (Linux Journal #169, May 2008). A fixed epoch keeps
# every capture reproducible byte for byte.
EPOCH_NS = 1_209_643_200 * 1_000_000_000

NS_PER_US = 1_000
NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000


def us_floor(t_ns: int) -> int:
    """Round a time down to the microsecond grid, as the pcap writer stores it."""
    return t_ns - t_ns % NS_PER_US


def epoch_seconds(t_ns: int) -> float:
    """The ground-truth float for a time: microseconds since the epoch divided by 10**6.

    The pcap record stores floor(t_ns / 1000) microseconds; dividing that integer (exact, < 2**53) by
    10**6 gives the double nearest to the recorded timestamp, equal to `round(sec + usec / 1e6, 6)`.
    """
    return (t_ns // NS_PER_US) / 1_000_000


@dataclass(slots=True, eq=False)
class Timer:
    """A scheduled callback; `cancel()` makes it a no-op when its time comes."""

    at_ns: int
    callback: Callable[..., Any]
    args: tuple[Any, ...] = field(default=())
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class EventQueue:
    """A discrete-event loop over a virtual clock starting at `start_ns`."""

    def __init__(self, start_ns: int = EPOCH_NS) -> None:
        self.now_ns = start_ns
        self.start_ns = start_ns
        self._heap: list[tuple[int, int, Timer]] = []
        self._seq = 0

    def schedule(self, at_ns: int, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run `callback(*args)` at `at_ns` (never in the past: clamps to now)."""
        at_ns = max(at_ns, self.now_ns)
        timer = Timer(at_ns=at_ns, callback=callback, args=args)
        heapq.heappush(self._heap, (at_ns, self._seq, timer))
        self._seq += 1
        return timer

    def after(self, delay_ns: int, callback: Callable[..., Any], *args: Any) -> Timer:
        return self.schedule(self.now_ns + delay_ns, callback, *args)

    def run(self, until_ns: int) -> None:
        """Run every event due at or before `until_ns`, then leave the clock at `until_ns`."""
        heap = self._heap
        while heap and heap[0][0] <= until_ns:
            at_ns, _, timer = heapq.heappop(heap)
            if timer.cancelled:
                continue
            self.now_ns = at_ns
            timer.callback(*timer.args)
        self.now_ns = max(self.now_ns, until_ns)

    def __len__(self) -> int:
        return sum(1 for _, _, t in self._heap if not t.cancelled)
