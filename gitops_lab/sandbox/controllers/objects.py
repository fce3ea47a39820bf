"""Small pure helpers on Kubernetes objects as the controllers read them: selectors, owners, conditions, pods.

Owns the questions every controller asks of an object dict: does a ``LabelSelector`` match these labels, who is
the controlling owner, what is a pod's readiness, how a condition is set without churning timestamps. Pure: no
I/O, no API calls, never mutates its arguments unless the function says so (``set_condition``).

>>> matches_selector({"matchLabels": {"app": "web"}}, {"app": "web", "tier": "front"})
True
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

Obj = dict[str, Any]


def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object's metadata (empty when missing)."""
    value = obj.get("metadata")
    return value if isinstance(value, Mapping) else {}


def labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return meta(obj).get("labels") or {}


def annotations_of(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return meta(obj).get("annotations") or {}


def is_deleting(obj: Mapping[str, Any]) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def matches_selector(selector: Mapping[str, Any] | None, object_labels: Mapping[str, str]) -> bool:
    """Whether a ``LabelSelector`` (matchLabels and matchExpressions) selects ``object_labels``.

    An empty selector selects everything, a missing (None) one nothing, as for workload controllers.

    >>> matches_selector({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
    ...                  {"tier": "web"})
    True
    >>> matches_selector(None, {"app": "web"})
    False
    """
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if object_labels.get(key) != value:
            return False
    return all(_expression_matches(expr, object_labels) for expr in selector.get("matchExpressions") or [])


def _expression_matches(expr: Mapping[str, Any], object_labels: Mapping[str, str]) -> bool:
    key, operator = expr.get("key", ""), expr.get("operator", "")
    values = expr.get("values") or []
    if operator == "In":
        return key in object_labels and object_labels[key] in values
    if operator == "NotIn":
        return key not in object_labels or object_labels[key] not in values
    if operator == "Exists":
        return key in object_labels
    if operator == "DoesNotExist":
        return key not in object_labels
    return False


def matches_map_selector(selector: Mapping[str, str] | None, object_labels: Mapping[str, str]) -> bool:
    """A Service's plain ``spec.selector`` map: every pair must match; an empty or missing one matches nothing.

    >>> matches_map_selector({"app": "web"}, {"app": "web"}), matches_map_selector({}, {"app": "web"})
    (True, False)
    """
    if not selector:
        return False
    return all(object_labels.get(k) == v for k, v in selector.items())


# ---- owners ---------------------------------------------------------------------------------------------
def owner_references(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(meta(obj).get("ownerReferences") or [])


def controller_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ownerReference with ``controller: true``, if any."""
    for ref in owner_references(obj):
        if ref.get("controller"):
            return ref
    return None


def is_controlled_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    ref = controller_of(obj)
    return ref is not None and ref.get("uid") == meta(owner).get("uid")


def controller_reference(owner: Mapping[str, Any]) -> Obj:
    """An ownerReference that makes ``owner`` the controller of a dependent, blocking the owner's deletion."""
    owner_meta = meta(owner)
    return {"apiVersion": owner.get("apiVersion"), "kind": owner.get("kind"), "name": owner_meta.get("name"),
            "uid": owner_meta.get("uid"), "controller": True, "blockOwnerDeletion": True}


# ---- conditions -----------------------------------------------------------------------------------------
def condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return cond
    return None


def condition_true(obj: Mapping[str, Any], type_: str) -> bool:
    cond = condition(obj, type_)
    return cond is not None and cond.get("status") == "True"


def set_condition(conditions: list[Obj], new: Obj, now: str, *, update_time: bool = False) -> bool:
    """Put ``new`` into ``conditions`` (in place), keeping timestamps when nothing but them would change.

    ``lastTransitionTime`` moves only when the status flips; ``lastUpdateTime`` (kept when ``update_time``)
    moves whenever reason or message change. Returns whether anything changed.

    >>> conds: list[Obj] = []
    >>> set_condition(conds, {"type": "Ready", "status": "True", "reason": "Up"}, "t1")
    True
    >>> set_condition(conds, {"type": "Ready", "status": "True", "reason": "Up"}, "t2"), conds[0]["lastTransitionTime"]
    (False, 't1')
    """
    for index, old in enumerate(conditions):
        if old.get("type") != new["type"]:
            continue
        same = all(old.get(k) == new.get(k) for k in ("status", "reason", "message"))
        if same:
            return False
        merged = dict(new)
        merged["lastTransitionTime"] = old.get("lastTransitionTime", now) if old.get("status") == new.get(
            "status") else now
        if update_time:
            merged["lastUpdateTime"] = now
        conditions[index] = merged
        return True
    added = dict(new)
    added["lastTransitionTime"] = now
    if update_time:
        added["lastUpdateTime"] = now
    conditions.append(added)
    return True


# ---- pods -----------------------------------------------------------------------------------------------
def pod_is_active(pod: Mapping[str, Any]) -> bool:
    """Counts toward a ReplicaSet: not terminating and not finished."""
    phase = (pod.get("status") or {}).get("phase")
    return not is_deleting(pod) and phase not in ("Succeeded", "Failed")


def pod_is_ready(pod: Mapping[str, Any]) -> bool:
    return condition_true(pod, "Ready")


def pod_is_available(pod: Mapping[str, Any], min_ready_seconds: int, now: datetime.datetime) -> bool:
    """Ready for at least ``min_ready_seconds`` (by the Ready condition's lastTransitionTime)."""
    if not pod_is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = ready_since(pod)
    return since is not None and since + datetime.timedelta(seconds=min_ready_seconds) <= now


def ready_since(pod: Mapping[str, Any]) -> datetime.datetime | None:
    cond = condition(pod, "Ready")
    if cond is None or not cond.get("lastTransitionTime"):
        return None
    return parse_time(cond["lastTransitionTime"])


def parse_time(text: str) -> datetime.datetime:
    """An RFC 3339 timestamp as the API writes it (``2026-01-02T03:04:05Z``).

    >>> parse_time("2026-01-02T03:04:05Z").isoformat()
    '2026-01-02T03:04:05+00:00'
    """
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def int_value(value: Any, default: int = 0) -> int:
    """An integer field that may be missing or null."""
    if isinstance(value, bool) or value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
