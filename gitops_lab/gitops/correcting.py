"""Drift: watching what the reconciler applied, recording every departure from Git, and correcting it.

Owns one watch per kind the reconciler manages (all namespaces, objects carrying the Kustomization owner label),
a cache of those live objects, the open drifts (detected, not yet corrected) and the drift samples written to the
timeline at a fixed cadence. A departure is recorded at once with who made it (from managedFields, via
:func:`gitops_lab.drift.diffs.diff_object`); it is corrected at once (debounced) when the reconciler's correction
is ``watch`` and the Kustomization is not suspended, and by the next interval otherwise. Must not apply anything
itself: it asks the reconciler to run the Kustomization, which writes only what departed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from gitops_lab import errors
from gitops_lab.drift import diffs

if TYPE_CHECKING:
    from gitops_lab.gitops.reconciling import Key, Reconciler

log = logging.getLogger(__name__)


class DriftWatch:
    def __init__(self, reconciler: Reconciler) -> None:
        self.reconciler = reconciler
        self.live: dict[str, dict[str, Any] | None] = {}
        self.open: dict[str, tuple[float, str]] = {}
        """Inventory id → (monotonic time detected, Kustomization) for drifts not yet corrected."""
        self.fields: dict[str, int] = {}
        """Inventory id → number of drifted fields, for the objects drifted right now."""
        self._missing_since: dict[Key, float] = {}
        self._watches: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._pending: dict[Key, asyncio.Task[None]] = {}
        self._sampler: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._sampler is None:
            self._sampler = asyncio.create_task(self._sample_forever(), name="drift:sampler")

    async def stop(self) -> None:
        tasks = [*self._watches.values(), *self._pending.values()]
        if self._sampler is not None:
            tasks.append(self._sampler)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._watches.clear()
        self._pending.clear()
        self._sampler = None

    def follow(self, key: Key) -> None:
        """Watch every kind the Kustomization ``key`` now manages."""
        for obj in self.reconciler.desired.get(key, {}).values():
            gvk = (str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
            if gvk not in self._watches:
                self._watches[gvk] = asyncio.create_task(self._watch(gvk), name=f"drift:{gvk[1]}")

    # ---- watching ----------------------------------------------------------------------------------------
    async def _watch(self, gvk: tuple[str, str]) -> None:
        from gitops_lab.gitops import reconciling

        while True:
            try:
                async for type_, obj in self.reconciler.client.watch(gvk[0], gvk[1],
                                                                    label_selector=reconciling.NAME_LABEL):
                    obj = {**obj, "apiVersion": gvk[0], "kind": gvk[1]}
                    entry = diffs.inventory_id(obj)
                    self.live[entry] = None if type_ == "DELETED" else obj
                    labels = (obj.get("metadata") or {}).get("labels") or {}
                    key = (labels.get(reconciling.NAMESPACE_LABEL, ""), labels.get(reconciling.NAME_LABEL, ""))
                    if type_ in ("ADDED", "MODIFIED", "DELETED"):
                        self.check(key, entry)
            except asyncio.CancelledError:
                raise
            except errors.LabError as err:
                log.warning("Drift watch of %s ended: %s; watching again", gvk[1], err)
            await self.reconciler.clock.sleep(0.2)

    def check(self, key: Key, entry: str) -> None:
        """Compare one live object with Git; record drift and its correction; ask for a correction."""
        desired = self.reconciler.desired.get(key, {}).get(entry)
        if desired is None:
            return
        drift = diffs.diff_object(desired, self.live.get(entry))
        if drift is not None and not drift.foreign():
            drift = None  # Git changed and the reconciler is applying it: not a hand edit
        record = self.reconciler.timeline.record
        name = f"{key[0]}/{key[1]}"
        if drift is None:
            self.fields.pop(entry, None)
            opened = self.open.pop(entry, None)
            if opened is not None:
                record("drift_corrected", kustomization=name, object_id=entry,
                       duration_ms=(time.monotonic() - opened[0]) * 1000)
                self._maybe_rebuilt(key)
            return
        self.fields[entry] = max(1, len(drift.fields))
        if entry not in self.open:
            self.open[entry] = (time.monotonic(), name)
            if drift.state == "missing":
                self._missing_since.setdefault(key, time.monotonic())
                record("drift_detected", kustomization=name, object_id=entry, message="deleted",
                       details={"state": "missing"})
            for field in drift.fields:
                record("drift_detected", kustomization=name, object_id=entry, field=field.path,
                       manager=field.who, message=field.describe(), details={"state": drift.state})
        if self.reconciler.settings.correction == "watch" and not self.reconciler.is_suspended(key):
            self._correct_soon(key)

    def _maybe_rebuilt(self, key: Key) -> None:
        since = self._missing_since.get(key)
        if since is None:
            return
        name = f"{key[0]}/{key[1]}"
        if not any(kustomization == name for _, kustomization in self.open.values()):
            del self._missing_since[key]
            self.reconciler.timeline.record("rebuilt", kustomization=name,
                                            duration_ms=(time.monotonic() - since) * 1000)

    def _correct_soon(self, key: Key) -> None:
        if key in self._pending and not self._pending[key].done():
            return

        async def later() -> None:
            await self.reconciler.clock.sleep(self.reconciler.settings.debounce)
            self._pending.pop(key, None)
            self.reconciler.reapply_soon(key)

        self._pending[key] = asyncio.create_task(later(), name=f"drift:correct:{key[1]}")

    # ---- samples -------------------------------------------------------------------------------------------
    def counts(self, key: Key) -> tuple[int, int]:
        """Drifted objects and fields of one Kustomization right now."""
        drifted = [self.fields[entry] for entry in self.reconciler.desired.get(key, {}) if entry in self.fields]
        return len(drifted), sum(drifted)

    async def _sample_forever(self) -> None:
        while True:
            # Lab seconds, but never more often than four times a real second (a fast clock would flood).
            await asyncio.sleep(max(self.reconciler.clock.seconds(self.reconciler.settings.sample_every), 0.25))
            for key in list(self.reconciler.desired):
                objects, fields = self.counts(key)
                self.reconciler.timeline.sample(f"{key[0]}/{key[1]}", objects, fields)
