"""Durable object storage for the sandbox: SQLite on disk, a dict in memory, one global resourceVersion, watches.

Owns: the objects by (resource key, namespace, name), the monotonic resourceVersion counter, durability of every
acknowledged write (a write returns only after SQLite committed it, so a ``kill -9`` loses nothing acknowledged),
a bounded history of change events for watches (older resourceVersions answer "too old") and the fan-out of
new events to watchers. Must not know API semantics (validation, defaults, HTTP): it stores what it is given.

All methods run on the sandbox's event-loop thread; watchers are asyncio queues.

>>> import tempfile, pathlib
>>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "state.db")
>>> obj = store.put("configmaps", "default", "a", {"metadata": {"name": "a"}})
>>> obj["metadata"]["resourceVersion"], store.get("configmaps", "default", "a") is obj
('1', True)
>>> store.close()
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import pathlib
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

HISTORY_WINDOW = 20_000
"""How many change events watches can resume from; older resourceVersions get 410 Gone."""


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """One stored change, as a watch sees it."""

    type: str  # ADDED | MODIFIED | DELETED
    rv: int
    key: str  # resource key, e.g. "apps/deployments"
    namespace: str
    object: dict[str, Any]
    previous: dict[str, Any] | None = None
    """The object before this change (None for ADDED): what lets a paginated list read an earlier snapshot."""


class Subscription:
    """A watcher's queue of changes for one resource key (optionally one namespace)."""

    def __init__(self, store: Store, key: str, namespace: str | None, maxsize: int = 0) -> None:
        self.store = store
        self.key = key
        self.namespace = namespace
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue(maxsize)

    def wants(self, change: Change) -> bool:
        return change.key == self.key and (self.namespace is None or change.namespace == self.namespace)

    def close(self) -> None:
        self.store.unsubscribe(self)


class Store:
    """Objects in memory, persisted to SQLite on every write, with a watch history."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode is durable against a crash of this process (kill -9); only an OS crash may lose
        # the last transactions, which is acceptable for a lab.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS objects (key TEXT, namespace TEXT, name TEXT, body TEXT, "
            "PRIMARY KEY (key, namespace, name))")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        self._objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = collections.defaultdict(dict)
        for key, namespace, name, body in self._db.execute("SELECT key, namespace, name, body FROM objects"):
            self._objects[key][(namespace, name)] = json.loads(body)
        row = self._db.execute("SELECT v FROM meta WHERE k='rv'").fetchone()
        self._rv = int(row[0]) if row else 0
        self._history: collections.deque[Change] = collections.deque(maxlen=HISTORY_WINDOW)
        self._oldest_rv = self._rv  # events after this rv are in the history
        self._subscribers: list[Subscription] = []
        self.listeners: list[Callable[[Change], None]] = []
        """Synchronous callbacks run after every change (controllers' informers)."""

    # ---- reading -------------------------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        return self._rv

    @property
    def oldest_resource_version(self) -> int:
        """Watches may start from any resourceVersion ≥ this."""
        return self._oldest_rv

    def get(self, key: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object (shared: callers must copy before changing it)."""
        return self._objects[key].get((namespace, name))

    def items(self, key: str, namespace: str | None = None) -> Iterator[dict[str, Any]]:
        """Objects of one resource key, sorted by namespace then name (the order lists use)."""
        bucket = self._objects.get(key, {})
        for ns_name in sorted(bucket):
            if namespace is None or ns_name[0] == namespace:
                yield bucket[ns_name]

    def items_at(self, key: str, namespace: str | None, rv: int) -> list[dict[str, Any]] | None:
        """Objects of one key as they were at resourceVersion ``rv`` (sorted like :meth:`items`), or None when
        ``rv`` is older than the history window (a consistent snapshot can no longer be read)."""
        if rv < self._oldest_rv:
            return None
        state = {ident: obj for ident, obj in self._objects.get(key, {}).items()
                 if namespace is None or ident[0] == namespace}
        for change in reversed(self._history):  # undo the changes after rv, newest first
            if change.rv <= rv:
                break
            if change.key != key or (namespace is not None and change.namespace != namespace):
                continue
            ident = (change.namespace, change.object["metadata"]["name"])
            if change.previous is None:
                state.pop(ident, None)
            else:
                state[ident] = change.previous
        return [state[ident] for ident in sorted(state)]

    def count(self, key: str | None = None) -> int:
        if key is not None:
            return len(self._objects.get(key, {}))
        return sum(len(b) for b in self._objects.values())

    def keys(self) -> list[str]:
        return [k for k, bucket in self._objects.items() if bucket]

    # ---- writing -------------------------------------------------------------------------------------
    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    def put(self, key: str, namespace: str, name: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Store ``obj`` (stamped with the next resourceVersion); ADDED or MODIFIED by whether it existed."""
        bucket = self._objects[key]
        previous = bucket.get((namespace, name))
        rv = self._next_rv()
        obj.setdefault("metadata", {})["resourceVersion"] = str(rv)
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?)",
                             (key, namespace, name, json.dumps(obj, separators=(",", ":"))))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('rv', ?)", (str(rv),))
        bucket[(namespace, name)] = obj
        self._publish(Change("ADDED" if previous is None else "MODIFIED", rv, key, namespace, obj, previous))
        return obj

    def delete(self, key: str, namespace: str, name: str) -> dict[str, Any] | None:
        """Remove an object; its DELETED event carries the object with a new resourceVersion."""
        old = self._objects[key].pop((namespace, name), None)
        if old is None:
            return None
        rv = self._next_rv()
        gone = {**old, "metadata": {**old.get("metadata", {}), "resourceVersion": str(rv)}}
        with self._transaction():
            self._db.execute("DELETE FROM objects WHERE key=? AND namespace=? AND name=?", (key, namespace, name))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('rv', ?)", (str(rv),))
        self._publish(Change("DELETED", rv, key, namespace, gone, old))
        return gone

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # ---- watching ------------------------------------------------------------------------------------
    def _publish(self, change: Change) -> None:
        if len(self._history) == self._history.maxlen:
            self._oldest_rv = self._history[0].rv
        self._history.append(change)
        for sub in list(self._subscribers):
            if sub.wants(change):
                try:
                    sub.queue.put_nowait(change)
                except asyncio.QueueFull:
                    # A watcher that cannot keep up is closed, as the apiserver does; the client re-lists.
                    self._drop(sub)
        for listener in list(self.listeners):
            listener(change)

    def history_since(self, key: str, namespace: str | None, rv: int) -> list[Change] | None:
        """Changes after ``rv`` for a key, or None when ``rv`` is older than the history window."""
        if rv < self._oldest_rv:
            return None
        return [c for c in self._history
                if c.rv > rv and c.key == key and (namespace is None or c.namespace == namespace)]

    def subscribe(self, key: str, namespace: str | None, maxsize: int = 10_000) -> Subscription:
        sub = Subscription(self, key, namespace, maxsize)
        self._subscribers.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)
            with contextlib.suppress(asyncio.QueueFull):
                sub.queue.put_nowait(None)  # wake the reader: the watch ends

    def _drop(self, sub: Subscription) -> None:
        """End a subscription whose queue is full: its reader sees the end and no stale tail."""
        if sub in self._subscribers:
            self._subscribers.remove(sub)
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.queue.put_nowait(None)

    def close(self) -> None:
        for sub in list(self._subscribers):
            self.unsubscribe(sub)
        self._db.close()
