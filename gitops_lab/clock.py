"""Time for everything that waits or schedules: the wall clock, or a scaled clock for stories told fast.

Owns the :class:`Clock` protocol and its two implementations. Code that sleeps, times out or stamps times takes a
clock instead of calling :mod:`time` or :mod:`asyncio` directly, so tests and accelerated lessons can steer time.

>>> fast = ScaledClock(60.0)     # one lab minute per real second
>>> fast.seconds(120.0)          # a two-minute interval lasts two real seconds
2.0
"""

from __future__ import annotations

import asyncio
import datetime
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime.datetime: ...

    def monotonic(self) -> float: ...

    def seconds(self, lab_seconds: float) -> float: ...

    async def sleep(self, lab_seconds: float) -> None: ...


class WallClock:
    """Real time."""

    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def seconds(self, lab_seconds: float) -> float:
        """Real seconds that ``lab_seconds`` of lab time last."""
        return lab_seconds

    async def sleep(self, lab_seconds: float) -> None:
        await asyncio.sleep(self.seconds(lab_seconds))


class ScaledClock(WallClock):
    """Lab time runs ``factor`` times faster than real time, from the moment the clock is made."""

    def __init__(self, factor: float) -> None:
        if factor <= 0:
            raise ValueError(f"A clock's speed factor must be positive, not {factor}.")
        self.factor = factor
        self._start_wall = datetime.datetime.now(datetime.UTC)
        self._start_mono = time.monotonic()

    def now(self) -> datetime.datetime:
        elapsed = time.monotonic() - self._start_mono
        return self._start_wall + datetime.timedelta(seconds=elapsed * self.factor)

    def monotonic(self) -> float:
        return self._start_mono + (time.monotonic() - self._start_mono) * self.factor

    def seconds(self, lab_seconds: float) -> float:
        return lab_seconds / self.factor


def rfc3339(moment: datetime.datetime) -> str:
    """Kubernetes' timestamp form: seconds precision, UTC, ``Z``.

    >>> rfc3339(datetime.datetime(2026, 11, 27, 4, 28, 13, 999, tzinfo=datetime.UTC))
    '2026-11-27T04:28:13Z'
    """
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
