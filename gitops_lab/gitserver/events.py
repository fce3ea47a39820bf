"""What the server learnt of pushes: push events, the log of recent ones and who to tell about new ones.

Owns :class:`PushEvent` (one accepted ref update with the repository, the pusher and the moment the server learnt
of it) and :class:`PushLog` (the recent events, subscribers and a blocking wait for scripts). Pure: no I/O, no
processes, no event loop; the lock only makes the log safe to read from another thread than the one recording.

>>> log = PushLog(lambda: datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
>>> [e.branch for e in log.record("fleet", "lab", [updates.RefUpdate(updates.ZERO, "a" * 40, "refs/heads/x")])]
['x']
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import logging
import threading
import time
from collections.abc import Callable, Iterable

from gitops_lab import errors
from gitops_lab.gitserver import updates

_log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class PushEvent:
    """One ref update the server accepted, as its post-receive hook reported it."""

    repo: str
    ref: str
    old: str
    new: str
    pusher: str
    at: datetime.datetime

    @property
    def branch(self) -> str | None:
        return updates.RefUpdate(self.old, self.new, self.ref).branch


Subscriber = Callable[[PushEvent], object]


class PushLog:
    """The most recent push events (``keep`` of them) and the callables to tell about new ones.

    Subscribers run on the thread that records (the server's event loop): they must return quickly and hand any
    longer work to a queue or task of their own. An exception in one is logged and does not stop the others.
    """

    def __init__(self, now: Callable[[], datetime.datetime], keep: int = 1000) -> None:
        self._now = now
        self._events: collections.deque[PushEvent] = collections.deque(maxlen=keep)
        self._subscribers: list[Subscriber] = []
        self._changed = threading.Condition()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for every future push event; returns a function that unsubscribes."""
        with self._changed:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._changed:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def record(self, repo: str, pusher: str, changes: Iterable[updates.RefUpdate]) -> list[PushEvent]:
        """Stamp, keep and announce one event per ref update; returns the events."""
        at = self._now()
        events = [PushEvent(repo, u.ref, u.old, u.new, pusher, at) for u in changes]
        with self._changed:
            self._events.extend(events)
            subscribers = list(self._subscribers)
            self._changed.notify_all()
        for event in events:
            for callback in subscribers:
                try:
                    callback(event)
                except Exception:
                    _log.exception("A push subscriber failed on %s %s; the others still ran.", event.repo, event.ref)
        return events

    def recent(self, repo: str | None = None) -> list[PushEvent]:
        """The kept events, oldest first, optionally of one repository."""
        with self._changed:
            events = list(self._events)
        return [e for e in events if repo is None or e.repo == repo]

    def wait_for(self, matches: Callable[[PushEvent], bool], timeout: float = 5.0) -> PushEvent:
        """Block until a kept or future event satisfies ``matches``; for scripts and tests, never the loop thread.

        Raises:
            GitServerError: no such event within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((e for e in self._events if matches(e)), None)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise errors.GitServerError(f"No matching push reached the Git server within {timeout} s; "
                                                f"check that the git push succeeded and went to this server.")
                self._changed.wait(remaining)
