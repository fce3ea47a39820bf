"""The lab's timeline: every GitOps event and drift sample, stored durably in SQLite, read back as DataFrames.

Owns one SQLite file in the lab directory (``timeline.db``): its schema, versioned with ``PRAGMA user_version``
(:data:`SCHEMA_VERSION`); writing events (:meth:`Timeline.record`) and drift samples (:meth:`Timeline.sample`);
reading them (:meth:`Timeline.events`, :meth:`Timeline.samples`). The lab process writes through one connection,
one autocommitted INSERT per call (WAL, ``synchronous=NORMAL``: durable when the process is killed, cheap enough
for every drift event); any other process — a notebook kernel, the CLI — reads at the same time with its own
read-only connection and sees every committed row. Times are stored as UTC microseconds and come back as
timezone-aware UTC timestamps.

Must not compute drift (``diffs`` does), decide what is worth recording (the reconciler does), nor import pandas
before a DataFrame is asked for.

Columns of :meth:`Timeline.events`, oldest first:

================  ========================  =============================================================
``at``            datetime64 (UTC)          when it happened, on the lab clock
``kind``          str                       one of :data:`EVENT_KINDS`
``kustomization`` str or None               ``<namespace>/<name>`` of the Kustomization
``revision``      str or None               ``main@sha1:<40 hex>``
``object``        str or None               inventory id ``<ns>_<name>_<group>_<Kind>``
``field``         str or None               the drifted field, ``spec.replicas``
``manager``       str or None               the field manager that made the drift, ``kubectl-edit``
``duration_ms``   float (NaN when none)     how long it took: a reconcile, a correction, a rebuild
``message``       str or None               what a person reads
``details``       dict or None              anything else, as recorded
================  ========================  =============================================================

Columns of :meth:`Timeline.samples`: ``at``, ``kustomization``, ``drifted_objects`` (int), ``drifted_fields``
(int).

>>> import tempfile, pathlib
>>> with Timeline(pathlib.Path(tempfile.mkdtemp()) / "timeline.db") as t:
...     t.record("drift_detected", kustomization="flux-system/apps", object_id="prod_web_apps_Deployment",
...              field="spec.replicas", manager="kubectl")
...     t.events()[["kind", "field", "manager"]].values.tolist()
[['drift_detected', 'spec.replicas', 'kubectl']]
"""

from __future__ import annotations

import datetime
import json
import pathlib
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from gitops_lab import clock as clocks
from gitops_lab.errors import LabError

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION: Final = 1
EVENT_KINDS: Final = frozenset({
    "push", "reconcile_started", "reconcile_finished", "reconcile_failed", "drift_detected", "drift_corrected",
    "suspended", "resumed", "pruned", "recreated", "rebuilt", "reset",
})
EVENT_COLUMNS: Final = ("at", "kind", "kustomization", "revision", "object", "field", "manager", "duration_ms",
                        "message", "details")
SAMPLE_COLUMNS: Final = ("at", "kustomization", "drifted_objects", "drifted_fields")
BUSY_TIMEOUT_MS: Final = 5000

_SCHEMA: Final = (
    """CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at_us INTEGER NOT NULL,
        kind TEXT NOT NULL,
        kustomization TEXT,
        revision TEXT,
        object TEXT,
        field TEXT,
        manager TEXT,
        duration_ms REAL,
        message TEXT,
        details TEXT
    )""",
    "CREATE INDEX events_at ON events (at_us)",
    """CREATE TABLE samples (
        id INTEGER PRIMARY KEY,
        at_us INTEGER NOT NULL,
        kustomization TEXT NOT NULL,
        drifted_objects INTEGER NOT NULL,
        drifted_fields INTEGER NOT NULL
    )""",
    "CREATE INDEX samples_at ON samples (at_us)",
)
_EPOCH: Final = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class Timeline:
    """The timeline file of one lab directory: written by the lab process, read by anyone.

    Args:
        path: the SQLite file (``<lab dir>/timeline.db``); created, with its directory, on the first write.
        clock: stamps events recorded without ``at`` (the lab clock, so accelerated stories line up).
        readonly: only read (a notebook, the CLI); writing raises :class:`LabError`.

    Thread-safe; one writing process per file (the lab process holds the lab's lock).
    """

    def __init__(self, path: str | pathlib.Path, *, clock: clocks.Clock | None = None, readonly: bool = False) -> None:
        self.path = pathlib.Path(path)
        self.clock: clocks.Clock = clock or clocks.WallClock()
        self.readonly = readonly
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    # ---- lifecycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> Timeline:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the writing connection (idempotent; a later write opens it again)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ---- writing -----------------------------------------------------------------------------------------

    def record(self, kind: str, *, kustomization: str | None = None, revision: str | None = None,
               object_id: str | None = None, field: str | None = None, manager: str | None = None,
               duration_ms: float | None = None, message: str | None = None,
               at: datetime.datetime | None = None, details: Mapping[str, Any] | None = None) -> None:
        """Store one event, committed when this returns.

        Raises:
            LabError: an unknown ``kind``, a naive ``at``, details that are not JSON, a read-only timeline, or a
                file that cannot be written.
        """
        if kind not in EVENT_KINDS:
            raise LabError(f"Unknown timeline event kind {kind!r}; use one of: {', '.join(sorted(EVENT_KINDS))}.")
        try:
            encoded = json.dumps(dict(details), sort_keys=True, allow_nan=False) if details is not None else None
        except (TypeError, ValueError) as e:
            raise LabError(f"The details of a {kind!r} event cannot be stored as JSON ({e}); pass plain values.") from e
        row = (self._stamp(at), kind, kustomization, revision, object_id, field, manager,
               float(duration_ms) if duration_ms is not None else None, message, encoded)
        self._write("INSERT INTO events (at_us, kind, kustomization, revision, object, field, manager, duration_ms,"
                    " message, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)

    def sample(self, kustomization: str, drifted_objects: int, drifted_fields: int,
               at: datetime.datetime | None = None) -> None:
        """Store one drift sample: how many objects and fields of ``kustomization`` depart from Git now."""
        if drifted_objects < 0 or drifted_fields < 0:
            raise LabError(f"A drift sample counts objects and fields, so {drifted_objects} objects and "
                           f"{drifted_fields} fields cannot be; pass counts of zero or more.")
        self._write("INSERT INTO samples (at_us, kustomization, drifted_objects, drifted_fields)"
                    " VALUES (?, ?, ?, ?)", (self._stamp(at), kustomization, int(drifted_objects),
                                             int(drifted_fields)))

    def _stamp(self, at: datetime.datetime | None) -> int:
        return _micros(at if at is not None else self.clock.now())

    def _write(self, sql: str, row: Sequence[Any]) -> None:
        if self.readonly:
            raise LabError(f"The timeline {self.path} was opened read-only; only the lab process writes to it.")
        with self._lock:
            try:
                self._writer().execute(sql, row)
            except sqlite3.Error as e:
                raise LabError(f"Could not write to the lab's timeline {self.path}: {e}; check that the lab "
                               f"directory is writable and has free space.") from e

    def _writer(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                _migrate(db, self.path)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    # ---- reading -----------------------------------------------------------------------------------------

    def events(self, since: datetime.datetime | None = None) -> pd.DataFrame:
        """Every event at or after ``since`` (all when None), oldest first; columns in the module docstring."""
        import pandas as pd

        rows = self._read("SELECT at_us, kind, kustomization, revision, object, field, manager, duration_ms,"
                          " message, details FROM events WHERE at_us >= ? ORDER BY at_us, id", since)
        frame = pd.DataFrame([(*row[:9], json.loads(row[9]) if row[9] is not None else None) for row in rows],
                             columns=list(EVENT_COLUMNS))
        frame["at"] = pd.to_datetime(frame["at"].astype("int64"), unit="us", utc=True)
        frame["duration_ms"] = frame["duration_ms"].astype("float64")
        return frame

    def samples(self, since: datetime.datetime | None = None) -> pd.DataFrame:
        """Every drift sample at or after ``since`` (all when None), oldest first."""
        import pandas as pd

        rows = self._read("SELECT at_us, kustomization, drifted_objects, drifted_fields FROM samples"
                          " WHERE at_us >= ? ORDER BY at_us, id", since)
        frame = pd.DataFrame(rows, columns=list(SAMPLE_COLUMNS))
        frame["at"] = pd.to_datetime(frame["at"].astype("int64"), unit="us", utc=True)
        for column in ("drifted_objects", "drifted_fields"):
            frame[column] = frame[column].astype("int64")
        return frame

    def _read(self, sql: str, since: datetime.datetime | None) -> list[tuple[Any, ...]]:
        """Rows of one query on a connection of its own (a consistent snapshot; never blocks the writer)."""
        bound = _micros(since) if since is not None else -(2**63)
        if not self.path.exists():
            return []
        try:
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as e:
            raise LabError(f"Could not open the lab's timeline {self.path}: {e}; check its permissions.") from e
        try:
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                return []  # the lab process has not written anything yet
            _check_version(version, self.path)
            return db.execute(sql, (bound,)).fetchall()
        except sqlite3.Error as e:
            raise LabError(f"Could not read the lab's timeline {self.path}: {e}; is it a timeline file?") from e
        finally:
            db.close()


def _micros(moment: datetime.datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime; a naive one is refused (whose time zone?)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise LabError(f"The time {moment.isoformat()} has no time zone; pass an aware datetime, e.g. "
                       f"datetime.datetime.now(datetime.UTC).")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _check_version(version: int, path: pathlib.Path) -> None:
    if version > SCHEMA_VERSION:
        raise LabError(f"The timeline {path} has schema version {version}, newer than this gitops-lab knows "
                       f"({SCHEMA_VERSION}); upgrade gitops-lab or use another lab directory.")


def _migrate(db: sqlite3.Connection, path: pathlib.Path) -> None:
    """Create the schema in a new file; refuse a newer one. (Later versions add their steps here.)"""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        _check_version(version, path)
        if version == 0:
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
