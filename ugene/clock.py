"""The clock seam: every time the core and modules use comes from here, so tests can move it."""
from __future__ import annotations

import time
from datetime import datetime, timezone


class Clock:
    """Wall-clock time; tests use `FrozenClock` (or `advance`) instead of sleeping."""

    def time(self) -> float:
        return time.time()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), timezone.utc)


class FrozenClock(Clock):
    """A clock that moves only when told to."""

    def __init__(self, start: float | None = None):
        self._t = time.time() if start is None else start

    def time(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        self._t += seconds


def unix(moment: datetime | None) -> int:
    """Unix seconds of a stored time, 0 when never (the protocol's convention)."""
    return int(moment.timestamp()) if moment is not None else 0
