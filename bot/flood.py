"""Per-person flood control: a burst is answered calmly and never starves other people."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

_FORGET_AFTER = 300.0  # seconds of quiet after which a person's window is dropped


class FloodGate:
    """A sliding window per person, kept in this process (a limit per process, by design).

    It holds only ids and timestamps. Crisis messages never pass through it: the handler
    screens first and lets them through whatever the count.
    """

    def __init__(
        self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._seconds = seconds
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: set[int] = set()
        self._last_sweep = clock()

    def allow(self, person: int) -> bool:
        """Count one message; return whether it is within the person's limit."""
        now = self._clock()
        window = self._seen.setdefault(person, deque())
        while window and now - window[0] > self._seconds:
            window.popleft()
        if not window:
            self._warned.discard(person)
        window.append(now)
        self._sweep(now)
        return len(window) <= self._limit

    def first_refusal(self, person: int) -> bool:
        """Return True once per burst, so the calm answer is sent once, not per message."""
        if person in self._warned:
            return False
        self._warned.add(person)
        return True

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < _FORGET_AFTER:
            return
        self._last_sweep = now
        for person in [p for p, w in self._seen.items() if not w or now - w[-1] > _FORGET_AFTER]:
            self._seen.pop(person, None)
            self._warned.discard(person)
