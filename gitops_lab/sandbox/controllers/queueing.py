"""A controller's work queue: keys to reconcile, deduplicated, with delayed adds and per-key error backoff.

Owns the client-go work-queue contract on asyncio: a key waiting in the queue is there once however often it is
added; a key being processed and added again is processed again afterwards (never twice at once); ``add_after``
uses the event loop's timers (lab seconds through the clock) for real delays; ``backoff`` re-adds a failing key
after an exponentially growing delay so an error never becomes a busy loop. Must not know what keys mean.

>>> import asyncio
>>> async def demo() -> list[str]:
...     queue: WorkQueue[str] = WorkQueue()
...     for key in ("a", "b", "a"):
...         queue.add(key)
...     got = [await queue.get(), await queue.get()]
...     queue.shut_down()
...     return got
>>> asyncio.run(demo())
['a', 'b']
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Hashable
from typing import Generic, TypeVar

from gitops_lab import clock as clocks

K = TypeVar("K", bound=Hashable)

BACKOFF_BASE = 0.005
BACKOFF_MAX = 30.0


class QueueShutDown(Exception):
    """The queue was shut down: its worker should end."""


class WorkQueue(Generic[K]):
    """Deduplicating FIFO of keys for one worker."""

    def __init__(self, clock: clocks.Clock | None = None) -> None:
        self._clock: clocks.Clock = clock or clocks.WallClock()
        self._order: collections.deque[K] = collections.deque()
        self._queued: set[K] = set()
        self._processing: set[K] = set()
        self._dirty: set[K] = set()
        self._timers: dict[K, tuple[float, asyncio.TimerHandle]] = {}
        self._failures: dict[K, int] = {}
        self._wakeup: asyncio.Event | None = None
        self._shut_down = False

    def __len__(self) -> int:
        return len(self._order)

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being processed (timers may still be pending)."""
        return not self._order and not self._processing

    @property
    def pending_timers(self) -> int:
        return len(self._timers)

    def add(self, key: K) -> None:
        if self._shut_down:
            return
        if key in self._processing:
            self._dirty.add(key)
            return
        if key in self._queued:
            return
        self._queued.add(key)
        self._order.append(key)
        if self._wakeup is not None:
            self._wakeup.set()

    def add_after(self, key: K, lab_seconds: float) -> None:
        """Add ``key`` once ``lab_seconds`` of lab time have passed (an earlier pending timer wins)."""
        if self._shut_down:
            return
        if lab_seconds <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + self._clock.seconds(lab_seconds)
        pending = self._timers.get(key)
        if pending is not None:
            if pending[0] <= due:
                return
            pending[1].cancel()
        self._timers[key] = (due, loop.call_at(due, self._fire, key))

    def cancel_after(self, key: K) -> None:
        """Drop the pending delayed add of ``key`` (the reason to look again went away)."""
        pending = self._timers.pop(key, None)
        if pending is not None:
            pending[1].cancel()

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def backoff(self, key: K) -> float:
        """Re-add a key whose reconcile failed after 5 ms, 10 ms, ... up to 30 s (lab time); returns the delay."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        delay = min(BACKOFF_BASE * 2 ** failures, BACKOFF_MAX)
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        """The key's reconcile succeeded: its backoff starts over."""
        self._failures.pop(key, None)

    async def get(self) -> K:
        """The next key, marked as being processed until :meth:`done`; raises QueueShutDown when shut down."""
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
        # Let other tasks (HTTP requests, other controllers) run between two reconciles.
        await asyncio.sleep(0)
        while not self._order:
            if self._shut_down:
                raise QueueShutDown()
            self._wakeup.clear()
            await self._wakeup.wait()
        if self._shut_down:
            raise QueueShutDown()
        key = self._order.popleft()
        self._queued.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    def shut_down(self) -> None:
        """Stop handing out keys and cancel every timer."""
        self._shut_down = True
        for _, handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self._wakeup is not None:
            self._wakeup.set()
