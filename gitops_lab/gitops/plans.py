"""Planning a Kustomization's reconcile: from the objects Git wants and the live ones to ordered actions. Pure.

Owns :func:`plan`, :class:`Action`, the apply order (:func:`rank`) and the owner labels (:func:`label`). What it
decides, as kustomize-controller does:

- **apply** a desired object only when :func:`gitops_lab.drift.diffs.diff_object` says it is missing or departs
  from Git; an unchanged object is a **skip** ("unchanged"), so a no-op reconcile writes nothing;
- **skip** an object whose ``kustomize.toolkit.fluxcd.io/reconcile`` label or annotation is ``disabled`` (Git's
  value wins when Git sets one, else the live object's, so "enabled in the source, or removed from the in-cluster
  object" resumes it, as Flux documents), and one whose ``kustomize.toolkit.fluxcd.io/ssa`` is ``Ignore``, or
  ``IfNotPresent`` when it exists (``Merge`` is the diff's business);
- **prune** what the previous inventory has and Git no longer does, only when ``spec.prune`` is on, the live
  object carries both owner labels with this Kustomization's name and namespace, and neither it nor its reconcile
  policy is ``disabled``; anything else that left Git is a **skip** with the reason it stays.

Order: CustomResourceDefinitions, then Namespaces, then the rest by :data:`RANKS` (service accounts and RBAC,
configuration and storage, services, workloads, ingresses, then custom resources), each rank by inventory id;
prunes last, in reverse rank (workloads before their namespace, custom resources before their definition).
Consecutive actions of one rank may run concurrently.

Must not do I/O, talk to a cluster, compare fields itself (:mod:`gitops_lab.drift.diffs` does) nor build objects.

>>> cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d"}}
>>> ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "d"}}
>>> [(a.kind, a.id, a.reason) for a in plan([cm, ns], {}, [], prune=True, owner=("app", "flux-system"))]
[('apply', '_d__Namespace', 'new in Git'), ('apply', 'd_c__ConfigMap', 'new in Git')]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from gitops_lab import errors
from gitops_lab.drift import diffs

NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"
PRUNE_KEY = "kustomize.toolkit.fluxcd.io/prune"
RECONCILE_KEY = "kustomize.toolkit.fluxcd.io/reconcile"
SSA_KEY = diffs.SSA_KEY
DISABLED = "disabled"

ActionKind = Literal["apply", "prune", "skip"]
Owner = tuple[str, str]
"""(name, namespace) of the Kustomization."""

RANKS: dict[str, int] = {
    "CustomResourceDefinition": 0,
    "Namespace": 1,
    **dict.fromkeys(("ResourceQuota", "LimitRange", "PriorityClass", "StorageClass", "RuntimeClass",
                     "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                     "NetworkPolicy"), 2),
    **dict.fromkeys(("Secret", "ConfigMap", "PersistentVolume", "PersistentVolumeClaim"), 3),
    **dict.fromkeys(("Service", "Endpoints", "EndpointSlice"), 4),
    **dict.fromkeys(("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Pod", "ReplicationController", "Job",
                     "CronJob", "HorizontalPodAutoscaler", "PodDisruptionBudget"), 5),
    **dict.fromkeys(("Ingress", "IngressClass", "APIService", "ValidatingWebhookConfiguration",
                     "MutatingWebhookConfiguration"), 6),
}
"""Apply rank of the built-in kinds; custom resources (and kinds not listed) come after, at :data:`OTHER_RANK`."""
OTHER_RANK = 7


@dataclasses.dataclass(frozen=True)
class Action:
    """One step of a reconcile.

    Attributes:
        kind: ``apply`` (server-side apply ``object``), ``prune`` (delete the live ``object``) or ``skip``.
        id: the inventory id, ``<namespace>_<name>_<group>_<Kind>``.
        object: the desired object (apply, and skips of desired objects) or the live one (prune, and skips of
            objects that left Git); None when a skipped object is not in the cluster.
        reason: why, for people: ``new in Git``, ``deleted from the cluster``, ``drifted: spec.replicas: 1 → 3 by
            kubectl (scale)``, ``unchanged``, ``removed from Git``, ``kustomize.toolkit.fluxcd.io/prune: disabled``…
        drift: the diff that made an apply (None otherwise).
    """

    kind: ActionKind
    id: str
    object: dict[str, Any] | None
    reason: str
    drift: diffs.ObjectDrift | None = None


def rank(obj: Mapping[str, Any]) -> int:
    """The apply rank of an object (lower first): its kind's in :data:`RANKS` for built-in API groups, else
    :data:`OTHER_RANK` — a custom resource named like a built-in kind is still a custom resource.

    >>> rank({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition"})
    0
    >>> rank({"apiVersion": "apps/v1", "kind": "Deployment"}), rank({"apiVersion": "acme.io/v1", "kind": "Service"})
    (5, 7)
    """
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    builtin = "." not in group or group.endswith(".k8s.io")
    return RANKS.get(str(obj.get("kind") or ""), OTHER_RANK) if builtin else OTHER_RANK


def label(obj: Mapping[str, Any], name: str, namespace: str) -> dict[str, Any]:
    """``obj`` with the owner labels of the Kustomization ``namespace/name``; ``obj`` itself is not changed
    (the result shares everything but its top level, ``metadata`` and ``metadata.labels``).

    >>> label({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "d"}}, "app", "flux-system")
    {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'd', 'labels': {'kustomize.toolkit.fluxcd.io/name': 'app', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system'}}}
    """
    metadata = dict(obj.get("metadata") or {})
    metadata["labels"] = {**(metadata.get("labels") or {}), NAME_LABEL: name, NAMESPACE_LABEL: namespace}
    return {**obj, "metadata": metadata}


def plan(desired: Iterable[Mapping[str, Any]], live: Mapping[str, Mapping[str, Any] | None],
         previous_inventory: Iterable[str], *, prune: bool, owner: Owner,
         schema_lookup: diffs.SchemaLookup | None = None) -> list[Action]:
    """The actions that make the cluster hold ``desired``, in order (see the module docstring).

    Args:
        desired: the objects Git wants, as they will be applied (owner labels added, see :func:`label`).
        live: the live objects by inventory id, None for those the cluster does not have; it should hold every
            desired id and every previous inventory id (an id it lacks counts as absent, and is never pruned).
        previous_inventory: the ids of the last successful reconcile (``status.inventory.entries[].id``).
        prune: ``spec.prune``.
        owner: the Kustomization's (name, namespace), which prunable objects carry as their owner labels.
        schema_lookup: schemas of custom resources, passed on to :func:`~gitops_lab.drift.diffs.diff_object`.

    Raises:
        ReconcileError: two desired objects have the same inventory id.
    """
    wanted: dict[str, Mapping[str, Any]] = {}
    for obj in desired:
        key = diffs.inventory_id(obj)
        if key in wanted:
            raise errors.ReconcileError(f"The object {key} is desired twice; keep one definition of it in Git.")
        wanted[key] = obj
    before = list(dict.fromkeys(previous_inventory))
    known = set(before)
    applies = [_desired_action(key, obj, live.get(key), key in known, schema_lookup) for key, obj in wanted.items()]
    leaving = [_leaving_action(key, live.get(key), prune=prune, owner=owner) for key in before if key not in wanted]
    applies.sort(key=lambda a: (rank(a.object or {}), a.id))
    gone = sorted((a for a in leaving if a is not None), key=lambda a: (-rank(a.object or {}), a.id))
    return [*applies, *gone]


def _desired_action(key: str, obj: Mapping[str, Any], live: Mapping[str, Any] | None, known: bool,
                    schema_lookup: diffs.SchemaLookup | None) -> Action:
    desired = dict(obj)
    if _policy(RECONCILE_KEY, obj, live) == DISABLED:
        return Action("skip", key, desired, f"{RECONCILE_KEY}: {DISABLED}")
    ssa = (_value(obj, SSA_KEY) or "").lower()
    if ssa == "ignore":
        return Action("skip", key, desired, f"{SSA_KEY}: Ignore")
    if ssa == "ifnotpresent" and live is not None:
        return Action("skip", key, desired, f"{SSA_KEY}: IfNotPresent, and it exists")
    drift = diffs.diff_object(obj, live, schema_lookup=schema_lookup)
    if drift is None:
        return Action("skip", key, desired, "unchanged")
    if drift.state == "missing":
        return Action("apply", key, desired, "deleted from the cluster" if known else "new in Git", drift)
    details = "; ".join(f.describe() for f in drift.fields) or drift.note
    return Action("apply", key, desired, f"drifted: {details}", drift)


def _leaving_action(key: str, live: Mapping[str, Any] | None, *, prune: bool, owner: Owner) -> Action | None:
    """What becomes of an object that left Git: pruned, or skipped with the reason it stays; None if gone."""
    if live is None:
        return None
    obj = dict(live)
    labels = (live.get("metadata") or {}).get("labels") or {}
    if not prune:
        return Action("skip", key, obj, "removed from Git; kept, as spec.prune is false")
    if _policy(RECONCILE_KEY, None, live) == DISABLED:
        return Action("skip", key, obj, f"removed from Git; kept, as {RECONCILE_KEY}: {DISABLED}")
    if _policy(PRUNE_KEY, None, live) == DISABLED:
        return Action("skip", key, obj, f"removed from Git; kept, as {PRUNE_KEY}: {DISABLED}")
    if (labels.get(NAME_LABEL), labels.get(NAMESPACE_LABEL)) != owner:
        return Action("skip", key, obj, f"removed from Git; kept, as it lacks the owner labels of "
                                        f"{owner[1]}/{owner[0]}")
    if (live.get("metadata") or {}).get("deletionTimestamp"):
        return Action("skip", key, obj, "removed from Git; already being deleted")
    return Action("prune", key, obj, "removed from Git")


def _policy(key: str, desired: Mapping[str, Any] | None, live: Mapping[str, Any] | None) -> str:
    """A policy's value, lowercase: Git's when Git sets it, else the live object's, else ""."""
    from_git = _value(desired, key) if desired is not None else None
    if from_git is not None:
        return from_git.lower()
    return (_value(live, key) or "").lower() if live is not None else ""


def _value(obj: Mapping[str, Any], key: str) -> str | None:
    """A label or annotation (the annotation wins when both are set)."""
    meta = obj.get("metadata") or {}
    for where in ("annotations", "labels"):
        value = (meta.get(where) or {}).get(key)
        if value is not None:
            return str(value)
    return None
