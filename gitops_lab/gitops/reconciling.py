"""The reconciler: Flux's GitRepository and Kustomization objects, made true in the cluster, all the time.

Owns the control loops of the lab's GitOps engine, which runs in the lab process and talks to the cluster only
through its public API (:mod:`gitops_lab.kube`), so the same code runs on the sandbox, kind or any cluster:

- one loop per GitRepository: fetch the branch (on its interval, on a push, on ``reconcile.fluxcd.io/requestedAt``),
  store the artifact, write ``status.artifact`` and Ready as source-controller does, and wake the Kustomizations
  that use it;
- one loop per Kustomization: build the artifact's path, plan against the live objects (pure), apply what departed
  from Git with server-side apply (field manager ``kustomize-controller``, force), remove hand-added fields, prune
  what left Git, wait for health when asked, and write status and Events as kustomize-controller does; on its
  interval, or its retryInterval after a failure;
- drift (:mod:`gitops_lab.gitops.correcting`): watches of the managed objects that record every departure from Git
  and correct it at once (``correction="watch"``) or at the next interval (``"interval"``, Flux's own behaviour).

Every step lands in the lab's timeline. Must not know which cluster provider runs, nor import the lab process.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from gitops_lab import clock as clocks
from gitops_lab import errors
from gitops_lab.drift import diffs, timeline
from gitops_lab.gitops import building, correcting, durations, plans, sources
from gitops_lab.kube import client as kube

log = logging.getLogger(__name__)

FIELD_MANAGER = "kustomize-controller"
SOURCE_MANAGER = "source-controller"
GITREPO = ("source.toolkit.fluxcd.io/v1", "GitRepository")
KUSTOMIZATION = ("kustomize.toolkit.fluxcd.io/v1", "Kustomization")
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"
Key = tuple[str, str]  # (namespace, name)
Ref = tuple[str, str, str, str | None]  # (apiVersion, kind, name, namespace)


@dataclasses.dataclass
class Settings:
    correction: str = "watch"
    """``watch``: hand edits are corrected as soon as they are seen; ``interval``: at the next interval, as Flux."""
    debounce: float = 0.05
    """Lab seconds a correction waits for more changes of the same Kustomization before it acts."""
    sample_every: float = 1.0
    """Lab seconds between drift samples in the timeline."""
    apply_concurrency: int = 16


def condition(type_: str, status: str, reason: str, message: str, generation: int, now: str) -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "observedGeneration": generation, "lastTransitionTime": now}


def merge_conditions(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """New conditions replace old ones of the same type; the transition time stays when the status did not move."""
    by_type = {c.get("type"): c for c in old}
    merged = []
    for cond in new:
        previous = by_type.get(cond["type"])
        if previous and previous.get("status") == cond["status"]:
            cond = {**cond, "lastTransitionTime": previous.get("lastTransitionTime", cond["lastTransitionTime"])}
        merged.append(cond)
    return merged


class Loop:
    """A keyed control loop: run ``work(key)`` when triggered, or after the interval the last run asked for."""

    def __init__(self, name: str, work: Callable[[Key], Awaitable[float | None]], clock: clocks.Clock) -> None:
        self.name = name
        self.work = work
        self.clock = clock
        self._triggers: dict[Key, asyncio.Event] = {}
        self._tasks: dict[Key, asyncio.Task[None]] = {}

    def ensure(self, key: Key) -> None:
        if key not in self._tasks:
            self._triggers[key] = asyncio.Event()
            self._tasks[key] = asyncio.create_task(self._run(key), name=f"{self.name}:{key[0]}/{key[1]}")
            self._triggers[key].set()

    def trigger(self, key: Key) -> None:
        event = self._triggers.get(key)
        if event is not None:
            event.set()

    def keys(self) -> list[Key]:
        return list(self._tasks)

    async def forget(self, key: Key) -> None:
        task = self._tasks.pop(key, None)
        self._triggers.pop(key, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop(self) -> None:
        for key in list(self._tasks):
            await self.forget(key)

    async def _run(self, key: Key) -> None:
        trigger = self._triggers[key]
        wait: float | None = None  # the first run waits for ensure()'s trigger
        while True:
            if wait is None:
                await trigger.wait()
            else:  # a trigger, or the interval the last run asked for, whichever comes first
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.clock.seconds(wait)):
                        await trigger.wait()
            trigger.clear()
            try:
                wait = await self.work(key)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s %s/%s failed unexpectedly", self.name, *key)
                wait = 10.0


class Reconciler:
    """The lab's GitOps engine over one cluster."""

    def __init__(self, client: kube.Client, fetcher: sources.GitSource, record: timeline.Timeline,
                 clock: clocks.Clock | None = None, settings: Settings | None = None) -> None:
        self.client = client
        self.fetcher = fetcher
        self.timeline = record
        self.clock: clocks.Clock = clock or clocks.WallClock()
        self.settings = settings or Settings()
        self.repos: dict[Key, dict[str, Any]] = {}
        self.kustomizations: dict[Key, dict[str, Any]] = {}
        self.artifacts: dict[Key, sources.Artifact] = {}
        self.desired: dict[Key, dict[str, dict[str, Any]]] = {}
        """Per Kustomization, the objects Git wants (by inventory id), as last built."""
        self._built: dict[Key, tuple[str, str, list[dict[str, Any]]]] = {}
        self.source_loop = Loop("gitrepository", self._reconcile_source, self.clock)
        self.kustomization_loop = Loop("kustomization", self._reconcile_kustomization, self.clock)
        self._tasks: list[asyncio.Task[None]] = []
        self.drift = correcting.DriftWatch(self)

    # ---- lifecycle --------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [asyncio.create_task(self._watch(GITREPO, self.repos, self._on_repo), name="watch:gitrepos"),
                       asyncio.create_task(self._watch(KUSTOMIZATION, self.kustomizations, self._on_kustomization),
                                           name="watch:kustomizations")]
        await self.drift.start()

    async def stop(self) -> None:
        await self.drift.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.source_loop.stop()
        await self.kustomization_loop.stop()

    def notify_push(self, repo_url_path: str, branch: str | None) -> None:
        """A push reached the lab's Git server: refetch the GitRepositories that follow that repository."""
        for key, repo in self.repos.items():
            spec = repo.get("spec") or {}
            if spec.get("url", "").rstrip("/").endswith(f"/{repo_url_path}.git") and (
                    branch is None or sources.GitRef.from_spec(spec.get("ref")).branch in (None, branch)):
                self.source_loop.trigger(key)

    # ---- watching the Flux objects ----------------------------------------------------------------------
    async def _watch(self, gvk: tuple[str, str], cache: dict[Key, dict[str, Any]],
                     react: Callable[[str, Key, dict[str, Any] | None, dict[str, Any]], Awaitable[None]]) -> None:
        while True:
            try:
                async for type_, obj in self.client.watch(*gvk):
                    meta = obj.get("metadata") or {}
                    key = (meta.get("namespace", ""), meta.get("name", ""))
                    old = cache.get(key)
                    if type_ == "DELETED":
                        cache.pop(key, None)
                    elif type_ in ("ADDED", "MODIFIED"):
                        cache[key] = obj
                    else:
                        continue
                    await react(type_, key, old, obj)
            except asyncio.CancelledError:
                raise
            except errors.LabError as err:
                log.warning("Watch of %s ended: %s; watching again", gvk[1], err)
            await self.clock.sleep(0.2)

    async def _on_repo(self, type_: str, key: Key, old: dict[str, Any] | None, obj: dict[str, Any]) -> None:
        if type_ == "DELETED":
            await self.source_loop.forget(key)
            self.artifacts.pop(key, None)
            return
        if old is None:
            self.source_loop.ensure(key)
        elif _wants_reconcile(old, obj):
            self.source_loop.trigger(key)

    async def _on_kustomization(self, type_: str, key: Key, old: dict[str, Any] | None,
                                obj: dict[str, Any]) -> None:
        if type_ == "DELETED":
            await self.kustomization_loop.forget(key)
            self.desired.pop(key, None)
            return
        if old is None:
            self.kustomization_loop.ensure(key)
            return
        was, now = bool((old.get("spec") or {}).get("suspend")), bool((obj.get("spec") or {}).get("suspend"))
        if was != now:
            self.timeline.record("suspended" if now else "resumed", kustomization=_ks_name(key))
        if _wants_reconcile(old, obj):
            self.kustomization_loop.trigger(key)

    # ---- sources ----------------------------------------------------------------------------------------
    async def _reconcile_source(self, key: Key) -> float | None:
        repo = self.repos.get(key)
        if repo is None:
            return None
        spec = repo.get("spec") or {}
        interval = durations.parse(spec.get("interval"), 60.0)
        if spec.get("suspend"):
            return interval
        generation = int(repo["metadata"].get("generation", 1))
        try:
            url = await self._source_url(key, spec)
            artifact = await asyncio.to_thread(self.fetcher.fetch, f"{key[0]}/{key[1]}", url, spec.get("ref") or {},
                                               timeout=durations.parse(spec.get("timeout"), 60.0))
        except errors.LabError as err:
            reason = getattr(err, "reason", "GitOperationFailed")
            await self._source_status(key, repo, None, [condition("Ready", "False", reason, str(err),
                                                                  generation, self._now())])
            self.timeline.record("reconcile_failed", kustomization=f"gitrepository/{key[1]}", message=str(err))
            return min(interval, 30.0)
        previous = self.artifacts.get(key)
        self.artifacts[key] = artifact
        message = f"stored artifact for revision '{artifact.revision}'"
        await self._source_status(key, repo, artifact, [
            condition("Ready", "True", "Succeeded", message, generation, self._now()),
            condition("ArtifactInStorage", "True", "Succeeded", message, generation, self._now())])
        if previous is None or previous.revision != artifact.revision:
            for ks_key, ks in self.kustomizations.items():
                ref = (ks.get("spec") or {}).get("sourceRef") or {}
                if ref.get("kind", "GitRepository") == "GitRepository" and ref.get("name") == key[1] and \
                        (ref.get("namespace") or ks_key[0]) == key[0]:
                    self.kustomization_loop.trigger(ks_key)
        return interval

    async def _source_url(self, key: Key, spec: dict[str, Any]) -> str:
        """The URL to fetch, with the basic-auth credentials of ``spec.secretRef`` (username/password keys)."""
        url = str(spec.get("url", ""))
        secret_name = (spec.get("secretRef") or {}).get("name")
        if not secret_name:
            return url
        secret = await self.client.get("v1", "Secret", secret_name, key[0])
        if secret is None:
            raise errors.ReconcileError(f"The secret {key[0]}/{secret_name} named by GitRepository {key[1]} does not "
                                        f"exist; create it with username and password keys.")
        return sources.with_credentials(url, secret)

    async def _source_status(self, key: Key, repo: dict[str, Any], artifact: sources.Artifact | None,
                             conditions: list[dict[str, Any]]) -> None:
        status = dict(repo.get("status") or {})
        status["observedGeneration"] = int(repo["metadata"].get("generation", 1))
        status["conditions"] = merge_conditions(status.get("conditions") or [], conditions)
        if artifact is not None:
            status["artifact"] = artifact.status()
        requested = (repo["metadata"].get("annotations") or {}).get(REQUESTED_AT)
        if requested:
            status["lastHandledReconcileAt"] = requested
        await self._write_status(GITREPO, key, repo, status)

    async def _write_status(self, gvk: tuple[str, str], key: Key, obj: dict[str, Any],
                            status: dict[str, Any]) -> None:
        if status == obj.get("status"):
            return
        try:
            updated = await self.client.patch_status(gvk[0], gvk[1], key[1], key[0], status)
        except kube.KubeError as err:
            if err.code == 404:
                return
            raise
        cache = self.repos if gvk == GITREPO else self.kustomizations
        if key in cache:
            cache[key] = updated

    # ---- kustomizations ---------------------------------------------------------------------------------
    async def _reconcile_kustomization(self, key: Key) -> float | None:
        ks = self.kustomizations.get(key)
        if ks is None:
            return None
        spec = ks.get("spec") or {}
        interval = durations.parse(spec.get("interval"), 600.0)
        retry = durations.parse(spec.get("retryInterval"), interval)
        if spec.get("suspend"):
            return None
        ref = spec.get("sourceRef") or {}
        source_key = (ref.get("namespace") or key[0], ref.get("name", ""))
        artifact = self.artifacts.get(source_key)
        generation = int(ks["metadata"].get("generation", 1))
        if artifact is None and source_key in self.repos and not _failed(self.repos[source_key]):
            return None  # the source is still fetching its first artifact; it wakes this loop when it has one
        if artifact is None:
            await self._ks_failed(key, ks, "ArtifactFailed", f"Source artifact not found, retrying in "
                                  f"{durations.render(min(retry, 30.0))}", None)
            return min(retry, 30.0)
        began = time.monotonic()
        revision = artifact.revision
        self.timeline.record("reconcile_started", kustomization=_ks_name(key), revision=revision)
        try:
            desired = await self._build(key, spec, artifact)
            phases = {"build_ms": (time.monotonic() - began) * 1000}
            inventory = await self._apply(key, ks, desired, phases)
            mark = time.monotonic()
            await self._wait_healthy(key, spec, desired)
            phases["health_ms"] = (time.monotonic() - mark) * 1000
        except building.BuildError as err:
            await self._ks_failed(key, ks, err.reason, err.message, revision, began)
            return retry
        except HealthCheckFailed as err:
            await self._ks_failed(key, ks, "HealthCheckFailed", str(err), revision, began)
            return retry
        except errors.LabError as err:
            await self._ks_failed(key, ks, "ReconciliationFailed", str(err), revision, began)
            return retry
        took = time.monotonic() - began
        message = f"Applied revision: {revision}"
        status = dict(ks.get("status") or {})
        status.update({"observedGeneration": generation, "lastAttemptedRevision": revision,
                       "lastAppliedRevision": revision,
                       "inventory": {"entries": [{"id": i, "v": v} for i, v in inventory]}})
        status["conditions"] = merge_conditions(status.get("conditions") or [], [
            condition("Ready", "True", "ReconciliationSucceeded", message, generation, self._now())])
        requested = (ks["metadata"].get("annotations") or {}).get(REQUESTED_AT)
        if requested:
            status["lastHandledReconcileAt"] = requested
        await self._write_status(KUSTOMIZATION, key, ks, status)
        self.timeline.record("reconcile_finished", kustomization=_ks_name(key), revision=revision,
                             duration_ms=took * 1000, message=message, details={k: round(v, 1) for k, v in
                                                                                phases.items()})
        await self._event(ks, "Normal", "ReconciliationSucceeded",
                          f"Reconciliation finished in {durations.render(took)}, next run in "
                          f"{durations.render(interval)}")
        self.desired[key] = {diffs.inventory_id(o): o for o in desired}
        self.drift.follow(key)
        return interval

    async def _ks_failed(self, key: Key, ks: dict[str, Any], reason: str, message: str, revision: str | None,
                         began: float | None = None) -> None:
        status = dict(ks.get("status") or {})
        generation = int(ks["metadata"].get("generation", 1))
        status["observedGeneration"] = generation
        if revision:
            status["lastAttemptedRevision"] = revision
        status["conditions"] = merge_conditions(status.get("conditions") or [], [
            condition("Ready", "False", reason, message, generation, self._now())])
        await self._write_status(KUSTOMIZATION, key, ks, status)
        self.timeline.record("reconcile_failed", kustomization=_ks_name(key), revision=revision, message=message,
                             duration_ms=(time.monotonic() - began) * 1000 if began else None,
                             details={"reason": reason})
        await self._event(ks, "Warning", reason, message)

    async def _build(self, key: Key, spec: dict[str, Any], artifact: sources.Artifact) -> list[dict[str, Any]]:
        """The objects Git wants, labelled as this Kustomization's (cached per revision and spec)."""
        path = str(spec.get("path") or "./")
        fingerprint = repr((path, spec.get("targetNamespace")))
        cached = self._built.get(key)
        if cached and cached[0] == artifact.revision and cached[1] == fingerprint:
            return cached[2]
        objects = await asyncio.to_thread(building.build, artifact.path, path)
        target = spec.get("targetNamespace")
        labelled = []
        for obj in objects:
            if target and obj.get("kind") != "Namespace":
                resource = await self.client.resource(obj.get("apiVersion", ""), obj.get("kind", ""))
                if resource.namespaced:
                    obj = {**obj, "metadata": {**(obj.get("metadata") or {}), "namespace": target}}
            labelled.append(plans.label(obj, key[1], key[0]))
        self._built[key] = (artifact.revision, fingerprint, labelled)
        return labelled

    async def _live(self, objects: list[dict[str, Any]], inventory: list[tuple[str, str]]
                    ) -> dict[str, dict[str, Any] | None]:
        """The live objects for the desired ones and for the inventory entries (None where absent), read with
        one LIST per kind and namespace rather than one GET per object."""
        wanted: dict[str, Ref] = {diffs.inventory_id(o): _ref(o) for o in objects}
        for entry, version in inventory:
            wanted.setdefault(entry, _ref_of(entry, version))
        groups: dict[tuple[str, str, str | None], list[str]] = {}
        for entry, (api_version, kind, _, namespace) in wanted.items():
            groups.setdefault((api_version, kind, namespace), []).append(entry)
        semaphore = asyncio.Semaphore(self.settings.apply_concurrency)

        async def listed(group: tuple[str, str, str | None]) -> dict[str, dict[str, Any]]:
            async with semaphore:
                try:
                    items = await self.client.list(group[0], group[1], group[2])
                except kube.KubeError as err:
                    if err.code == 404:  # the kind is not served (yet): nothing of it lives
                        return {}
                    raise
            return {diffs.inventory_id({**item, "apiVersion": group[0], "kind": group[1]}): item for item in items}

        found: dict[str, dict[str, Any]] = {}
        for part in await asyncio.gather(*(listed(g) for g in groups)):
            found.update(part)
        return {entry: found.get(entry) for entry in wanted}

    async def _apply(self, key: Key, ks: dict[str, Any], desired: list[dict[str, Any]],
                     phases: dict[str, float]) -> list[tuple[str, str]]:
        """Apply what departed from Git, prune what left it; the new inventory as (id, version) pairs.

        ``phases`` receives how long each step took (live_ms, plan_ms, apply_ms, prune_ms) and what was written.
        """
        mark = time.monotonic()
        spec = ks.get("spec") or {}
        previous = [(str(e.get("id", "")), str(e.get("v", "v1")))
                    for e in ((ks.get("status") or {}).get("inventory") or {}).get("entries") or []]
        live = await self._live(desired, previous)
        phases["live_ms"], mark = (time.monotonic() - mark) * 1000, time.monotonic()
        actions = plans.plan(desired, live, [entry for entry, _ in previous], prune=bool(spec.get("prune")),
                             owner=(key[1], key[0]))
        phases["plan_ms"], mark = (time.monotonic() - mark) * 1000, time.monotonic()
        semaphore = asyncio.Semaphore(self.settings.apply_concurrency)

        async def limited(action: plans.Action) -> None:
            async with semaphore:
                await self._apply_one(key, action)

        applies = [a for a in actions if a.kind == "apply"]
        for batch in _batches(applies):
            await asyncio.gather(*(limited(action) for action in batch))
        phases["apply_ms"], mark = (time.monotonic() - mark) * 1000, time.monotonic()
        versions = dict(previous)
        prunes = [a for a in actions if a.kind == "prune"]
        for action in prunes:
            await self._prune_one(key, action, versions.get(action.id, "v1"))
        phases["prune_ms"] = (time.monotonic() - mark) * 1000
        phases["applied"], phases["pruned"] = len(applies), len(prunes)
        return [(diffs.inventory_id(o), _version(o)) for o in desired]

    async def _apply_one(self, key: Key, action: plans.Action) -> None:
        obj = action.object
        assert obj is not None
        try:
            applied = await self.client.apply(obj, FIELD_MANAGER, force=True)
            # Only an object that had fields added by hand can still carry them after the apply.
            hand_added = action.drift is not None and any(f.kind == "added" for f in action.drift.fields)
            drift = diffs.diff_object(obj, applied) if hand_added else None
            removals = diffs.drift_fields_to_remove(drift) if drift else []
            if removals:
                meta = obj.get("metadata") or {}
                await self.client.patch(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"),
                                        removals, "application/json-patch+json")
        except kube.KubeError as err:
            meta = obj.get("metadata") or {}
            where = "/".join(p for p in (obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", "")) if p)
            raise ApplyFailed(f"{where} apply failed: {err.message}") from err

    async def _prune_one(self, key: Key, action: plans.Action, version: str) -> None:
        api_version, kind, name, namespace = _ref_of(action.id, version)
        if await self.client.delete(api_version, kind, name, namespace):
            self.timeline.record("pruned", kustomization=_ks_name(key), object_id=action.id)

    async def _wait_healthy(self, key: Key, spec: dict[str, Any], desired: list[dict[str, Any]]) -> None:
        checks = [(c.get("apiVersion", ""), c.get("kind", ""), c.get("name", ""), c.get("namespace"))
                  for c in spec.get("healthChecks") or []]
        if spec.get("wait"):
            checks += [(o["apiVersion"], o["kind"], o["metadata"]["name"], o["metadata"].get("namespace"))
                       for o in desired if o.get("kind") in HEALTH_KINDS]
        if not checks:
            return
        timeout = durations.parse(spec.get("timeout"), durations.parse(spec.get("interval"), 300.0))
        deadline = self.clock.monotonic() + timeout
        while True:
            pending = []
            for ref in checks:
                obj = await self.client.get(*ref)
                if obj is None or not healthy(obj):
                    pending.append(f"{ref[1]}/{ref[3] + '/' if ref[3] else ''}{ref[2]}")
            if not pending:
                return
            if self.clock.monotonic() >= deadline:
                raise HealthCheckFailed(f"timeout waiting for: [{', '.join(p + ' status: InProgress' for p in pending)}]")
            await self.clock.sleep(0.2)

    # ---- helpers ----------------------------------------------------------------------------------------
    def _now(self) -> str:
        return clocks.rfc3339(self.clock.now())

    async def _event(self, involved: dict[str, Any], type_: str, reason: str, message: str) -> None:
        with contextlib.suppress(errors.LabError):
            await self.client.create_event(involved, type_, reason, message, FIELD_MANAGER)

    def is_suspended(self, key: Key) -> bool:
        ks = self.kustomizations.get(key)
        return bool(ks and (ks.get("spec") or {}).get("suspend"))

    def reapply_soon(self, key: Key) -> None:
        """Correct drift now: rerun the Kustomization (which writes only what departed)."""
        self.kustomization_loop.trigger(key)


HEALTH_KINDS = ("Deployment", "ReplicaSet", "Pod", "Service", "Namespace")


class HealthCheckFailed(errors.ReconcileError):
    """Objects did not become ready within the Kustomization's timeout."""


class ApplyFailed(errors.ReconcileError):
    """The API server refused an object."""


def healthy(obj: dict[str, Any]) -> bool:
    """kstatus-like readiness for the kinds the lab deploys."""
    kind = obj.get("kind")
    status = obj.get("status") or {}
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return False
    if kind == "Deployment":
        want = int((obj.get("spec") or {}).get("replicas", 1))
        return (int(status.get("observedGeneration", 0)) >= int(meta.get("generation", 1))
                and int(status.get("updatedReplicas", 0)) == want
                and int(status.get("availableReplicas", 0)) >= want)
    if kind == "Pod":
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    if kind == "Namespace":
        return status.get("phase", "Active") == "Active"
    return True


def _failed(obj: dict[str, Any]) -> bool:
    """Whether an object's Ready condition says False."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "False" for c in conditions)


def _wants_reconcile(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A spec change (generation) or a new requestedAt annotation; not our own status writes."""
    old_meta, new_meta = old.get("metadata") or {}, new.get("metadata") or {}
    if old_meta.get("generation") != new_meta.get("generation"):
        return True
    return (old_meta.get("annotations") or {}).get(REQUESTED_AT) != (new_meta.get("annotations") or {}).get(
        REQUESTED_AT)


def _ks_name(key: Key) -> str:
    return f"{key[0]}/{key[1]}"


def _version(obj: dict[str, Any]) -> str:
    return str(obj.get("apiVersion", "")).rpartition("/")[2]


def _ref(obj: dict[str, Any]) -> Ref:
    meta = obj.get("metadata") or {}
    return (str(obj.get("apiVersion", "")), str(obj.get("kind", "")), str(meta.get("name", "")),
            meta.get("namespace") or None)


def _ref_of(entry: str, version: str) -> Ref:
    """(apiVersion, kind, name, namespace) from an inventory entry ``<ns>_<name>_<group>_<Kind>`` and its version.

    >>> _ref_of("demo_web_apps_Deployment", "v1"), _ref_of("_demo__Namespace", "v1")
    (('apps/v1', 'Deployment', 'web', 'demo'), ('v1', 'Namespace', 'demo', None))
    """
    namespace, name, group, kind = entry.split("_", 3)
    return (f"{group}/{version}" if group else version), kind, name, namespace or None


def _batches(actions: list[plans.Action]) -> list[list[plans.Action]]:
    """Consecutive actions of the same kind rank together (CRDs, then Namespaces, then the rest)."""
    batches: list[list[plans.Action]] = []
    for action in actions:
        rank = plans.rank(action.object or {})
        if batches and plans.rank(batches[-1][0].object or {}) == rank:
            batches[-1].append(action)
        else:
            batches.append([action])
    return batches
