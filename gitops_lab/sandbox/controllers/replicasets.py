"""The ReplicaSet controller: keeps ``spec.replicas`` pods of a ReplicaSet's template, and its status true.

Owns pod creation (``<rs>-<5 random>`` via generateName, labels and annotations from the template, a controller
ownerReference with blockOwnerDeletion), adoption of matching orphans and release of pods that stopped matching,
the choice of pods to delete when scaling down (unscheduled, then pending, then not ready, then the most recently
ready first, as Kubernetes ranks them), Events SuccessfulCreate / SuccessfulDelete / FailedCreate and the status
counts (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas honouring minReadySeconds,
observedGeneration). Must not run pods (the kubelet does) nor delete them for a deleted owner (the garbage
collector does).
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from gitops_lab.sandbox import statuses
from gitops_lab.sandbox.controllers import base, objects, rollouts
from gitops_lab.sandbox.store import Change

Key = tuple[str, str]
Obj = dict[str, Any]

RS_KEY = "apps/replicasets"
POD_KEY = "pods"
BURST_REPLICAS = 500
MAX_GENERATE_PREFIX = 58
PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def omit_zero(status: Obj, fields: Iterable[str]) -> Obj:
    """Drop ``omitempty`` counters that are zero, as the Go API types serialise them."""
    for field in fields:
        if status.get(field) == 0:
            status.pop(field)
    return status


def deletion_rank(pod: Mapping[str, Any]) -> tuple[Any, ...]:
    """Sort key: the pods to delete first come first (unscheduled, pending, not ready, ready most recently...).

    >>> pending = {"status": {"phase": "Pending"}}
    >>> running = {"spec": {"nodeName": "n"}, "status": {"phase": "Running"}}
    >>> [p is pending for p in sorted([running, pending], key=deletion_rank)]
    [True, False]
    """
    status = pod.get("status") or {}
    assigned = bool((pod.get("spec") or {}).get("nodeName"))
    ready = objects.pod_is_ready(pod)
    since = objects.ready_since(pod) if ready else None
    restarts = sum(objects.int_value(c.get("restartCount")) for c in status.get("containerStatuses") or [])
    created = objects.meta(pod).get("creationTimestamp") or ""
    return (assigned, PHASE_RANK.get(status.get("phase", "Pending"), 0), ready,
            -(since.timestamp() if since else 0.0), -restarts, _descending(created))


def _descending(text: str) -> tuple[int, ...]:
    """A key that sorts strings in reverse (newer timestamps first)."""
    return tuple(-ord(ch) for ch in text)


def pod_from_template(rs: Mapping[str, Any]) -> Obj:
    """A new pod for a ReplicaSet: its template, a generated name and a controller reference."""
    meta = objects.meta(rs)
    template = (rs.get("spec") or {}).get("template") or {}
    template_meta = template.get("metadata") or {}
    pod_meta: Obj = {
        "generateName": f"{meta['name']}-"[:MAX_GENERATE_PREFIX],
        "namespace": meta.get("namespace"),
        "labels": dict(template_meta.get("labels") or {}),
        "ownerReferences": [objects.controller_reference(rs)],
    }
    for field in ("annotations", "finalizers"):
        if template_meta.get(field):
            pod_meta[field] = copy.deepcopy(template_meta[field])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta,
            "spec": copy.deepcopy(template.get("spec") or {})}


class ReplicaSetController(base.Controller[Key]):
    """Pods for every ReplicaSet, and each ReplicaSet's status."""

    name = "replicaset"
    component = "replicaset-controller"

    # ---- keys ------------------------------------------------------------------------------------------
    def keys_for(self, change: Change) -> Iterator[Key]:
        if change.key == RS_KEY:
            yield (change.namespace, change.object["metadata"]["name"])
        elif change.key == POD_KEY:
            pod = change.object
            ref = objects.controller_of(pod)
            if ref is not None:
                if ref.get("kind") == "ReplicaSet":
                    yield (change.namespace, str(ref.get("name")))
            elif change.type != "DELETED" and not objects.is_deleting(pod):
                for rs in self.api.store.items(RS_KEY, change.namespace):
                    if objects.matches_selector((rs.get("spec") or {}).get("selector"), objects.labels(pod)):
                        yield (change.namespace, rs["metadata"]["name"])

    def initial_keys(self) -> Iterator[Key]:
        for rs in self.api.store.items(RS_KEY):
            yield (rs["metadata"].get("namespace", ""), rs["metadata"]["name"])

    # ---- reconcile -------------------------------------------------------------------------------------
    def reconcile(self, key: Key) -> None:
        namespace, name = key
        rs = self.api.store.get(RS_KEY, namespace, name)
        if rs is None:
            return
        failure: statuses.ApiError | None = None
        if not objects.is_deleting(rs):
            self._claim_pods(rs)
            try:
                self._manage(rs, [p for p in self._owned_pods(rs) if objects.pod_is_active(p)])
            except statuses.ApiError as err:
                failure = err
        self._update_status(key, failure)
        if failure is not None:
            raise failure

    def _owned_pods(self, rs: Obj) -> list[Obj]:
        return [p for p in self.api.store.items(POD_KEY, rs["metadata"].get("namespace", ""))
                if objects.is_controlled_by(p, rs)]

    def _claim_pods(self, rs: Obj) -> None:
        """Adopt matching orphans; release owned pods whose labels no longer match the selector."""
        selector = (rs.get("spec") or {}).get("selector")
        namespace = rs["metadata"].get("namespace", "")
        pods_rt = self.rt(POD_KEY)
        for pod in list(self.api.store.items(POD_KEY, namespace)):
            if objects.is_deleting(pod):
                continue
            matches = objects.matches_selector(selector, objects.labels(pod))
            ref = objects.controller_of(pod)
            if ref is None and matches:
                body = copy.deepcopy(pod)
                body["metadata"].setdefault("ownerReferences", []).append(objects.controller_reference(rs))
                self.api.update(pods_rt, namespace, pod["metadata"]["name"], body, self.write_options())
            elif ref is not None and ref.get("uid") == rs["metadata"].get("uid") and not matches:
                body = copy.deepcopy(pod)
                body["metadata"]["ownerReferences"] = [
                    r for r in objects.owner_references(pod) if r.get("uid") != rs["metadata"].get("uid")]
                self.api.update(pods_rt, namespace, pod["metadata"]["name"], body, self.write_options())

    def _manage(self, rs: Obj, active: list[Obj]) -> None:
        diff = len(active) - rollouts.replicas(rs)
        if diff < 0:
            self._create_pods(rs, min(-diff, BURST_REPLICAS))
        elif diff > 0:
            self._delete_pods(rs, sorted(active, key=deletion_rank)[:min(diff, BURST_REPLICAS)])

    def _create_pods(self, rs: Obj, count: int) -> None:
        pods_rt = self.rt(POD_KEY)
        namespace = rs["metadata"].get("namespace", "")
        for _ in range(count):
            try:
                pod = self.api.create(pods_rt, namespace, pod_from_template(rs), self.write_options())
            except statuses.ApiError as err:
                self.record(rs, "Warning", "FailedCreate", f"Error creating: {err.message}")
                raise
            self.record(rs, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}")

    def _delete_pods(self, rs: Obj, victims: list[Obj]) -> None:
        pods_rt = self.rt(POD_KEY)
        for pod in victims:
            try:
                self.api.delete(pods_rt, pod["metadata"].get("namespace"), pod["metadata"]["name"])
            except statuses.ApiError as err:
                if err.code == 404:
                    continue
                self.record(rs, "Warning", "FailedDelete", f"Error deleting: {err.message}")
                raise
            self.record(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")

    # ---- status ----------------------------------------------------------------------------------------
    def _update_status(self, key: Key, failure: statuses.ApiError | None) -> None:
        namespace, name = key
        rs = self.api.store.get(RS_KEY, namespace, name)
        if rs is None:
            return
        now = self.clock.now()
        status, wait = replica_set_status(rs, self._owned_pods(rs), now, failure, self.api.now())
        if wait is not None:
            self.queue.add_after(key, wait)
        if status == (rs.get("status") or {}):
            return
        body = copy.deepcopy(rs)
        body["status"] = status
        self.api.update(self.rt(RS_KEY), namespace, name, body, self.write_options(), subresource="status")


def replica_set_status(rs: Obj, pods: list[Obj], now: datetime.datetime, failure: statuses.ApiError | None,
                       stamp: str) -> tuple[Obj, float | None]:
    """The status a ReplicaSet should show for its pods, and when availability next changes (lab seconds)."""
    active = [p for p in pods if objects.pod_is_active(p)]
    template_labels = ((rs.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
    min_ready = objects.int_value((rs.get("spec") or {}).get("minReadySeconds"))
    ready = [p for p in active if objects.pod_is_ready(p)]
    available = [p for p in ready if objects.pod_is_available(p, min_ready, now)]
    wait: float | None = None
    for pod in ready:
        since = objects.ready_since(pod)
        if pod not in available and since is not None:
            remaining = (since + datetime.timedelta(seconds=min_ready) - now).total_seconds()
            wait = max(remaining, 0.0) + 0.001 if wait is None else min(wait, max(remaining, 0.0) + 0.001)
    old = rs.get("status") or {}
    status: Obj = {
        "replicas": len(active),
        "fullyLabeledReplicas": sum(1 for p in active
                                    if all(objects.labels(p).get(k) == v for k, v in template_labels.items())),
        "readyReplicas": len(ready),
        "availableReplicas": len(available),
        "observedGeneration": objects.int_value(rs["metadata"].get("generation"), 1),
    }
    conditions = [dict(c) for c in old.get("conditions") or []]
    if failure is not None:
        objects.set_condition(conditions, {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                                           "message": failure.message}, stamp)
    else:
        conditions = [c for c in conditions if c.get("type") != "ReplicaFailure"]
    if conditions:
        status["conditions"] = conditions
    omit_zero(status, ("fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration"))
    return status, wait
