"""The arithmetic of Deployment rollouts, as kube-controller-manager's deployment controller does it.

Owns the pure decisions: the pod-template hash, template equality ignoring that hash, maxSurge/maxUnavailable
resolution (ints or percents, surge rounded up and unavailability down), how far the new ReplicaSet may grow,
how far old ones may shrink, proportional scaling of several active ReplicaSets, revision numbers and the
Deployment's status with its Available and Progressing conditions. Works on plain object dicts and returns
numbers or new dicts; never calls the API (the deployment controller acts on what these functions decide).

>>> deployment = {"spec": {"replicas": 10, "strategy": {"rollingUpdate": {"maxSurge": "25%",
...                                                                    "maxUnavailable": "25%"}}}}
>>> fenceposts(deployment)
(3, 2)
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gitops_lab import clock as clocks
from gitops_lab.sandbox.controllers import objects

Obj = dict[str, Any]

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ANNOTATIONS_NOT_COPIED = frozenset({LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
                                    "deprecated.deployment.rollback.to"})
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
DEFAULT_PROGRESS_DEADLINE = 600
DEFAULT_HISTORY_LIMIT = 10

# Progressing reasons and the Available reasons, as `kubectl describe` shows them.
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"


# ---- hashes and templates -------------------------------------------------------------------------------
def _fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def template_hash(template: Mapping[str, Any], collision_count: int | None = None) -> str:
    """The ``pod-template-hash`` of a pod template: FNV-32a of its canonical JSON, safe-encoded.

    Kubernetes hashes the same way (FNV-32a, then each decimal digit mapped into a vowel-free alphabet), over
    its own printing of the template; the value differs from a real cluster's but is as stable and as short.

    >>> h = template_hash({"metadata": {"labels": {"app": "web"}}})
    >>> h == template_hash({"metadata": {"labels": {"app": "web"}}}), len(h) <= 10, h.isalnum()
    (True, True, True)
    >>> h != template_hash({"metadata": {"labels": {"app": "web"}}}, collision_count=1)
    True
    """
    data = json.dumps(_normalized_template(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    return "".join(SAFE_ALPHABET[int(d) % len(SAFE_ALPHABET)] for d in str(_fnv32a(data)))


def _normalized_template(template: Mapping[str, Any] | None) -> Obj:
    """The template without the hash label and without null or empty metadata entries."""
    result = copy.deepcopy(dict(template or {}))
    meta = result.get("metadata")
    if isinstance(meta, dict):
        labels = dict(meta.get("labels") or {})
        labels.pop(HASH_LABEL, None)
        meta["labels"] = labels
        for key in [k for k, v in meta.items() if v is None or v == {}]:
            meta.pop(key)
        if not meta:
            result.pop("metadata")
    return result


def templates_equal(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Whether two pod templates are the same but for the ``pod-template-hash`` label.

    >>> templates_equal({"metadata": {"labels": {"app": "a", HASH_LABEL: "x"}}}, {"metadata": {"labels": {"app": "a"}}})
    True
    """
    return _normalized_template(a) == _normalized_template(b)


# ---- replicas and fenceposts ----------------------------------------------------------------------------
def replicas(obj: Mapping[str, Any]) -> int:
    """``spec.replicas`` of a Deployment or ReplicaSet (1 when unset, as the apiserver defaults it)."""
    return objects.int_value((obj.get("spec") or {}).get("replicas"), 1)


def status_count(obj: Mapping[str, Any], field: str) -> int:
    return objects.int_value((obj.get("status") or {}).get(field))


def is_rolling(deployment: Mapping[str, Any]) -> bool:
    strategy = (deployment.get("spec") or {}).get("strategy") or {}
    return strategy.get("type", "RollingUpdate") == "RollingUpdate"


def scaled_value(value: int | str | None, total: int, round_up: bool, default: str = "25%") -> int:
    """An IntOrString (``3`` or ``"25%"``) as a number of replicas out of ``total``.

    >>> scaled_value("25%", 10, True), scaled_value("25%", 10, False), scaled_value(2, 10, False)
    (3, 2, 2)
    """
    if value is None:
        value = default
    if isinstance(value, bool):
        raise ValueError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    if not text.endswith("%") or not text[:-1].isdigit():
        raise ValueError(f"invalid value for IntOrString: invalid value {value!r}: must be an integer or a "
                         f"percentage")
    percent = int(text[:-1])
    return -(-percent * total // 100) if round_up else percent * total // 100


def fenceposts(deployment: Mapping[str, Any]) -> tuple[int, int]:
    """maxSurge (rounded up) and maxUnavailable (rounded down) for the desired replicas; both 0 means 1 unavailable.

    >>> fenceposts({"spec": {"replicas": 1, "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "25%"}}}})
    (0, 1)
    """
    rolling = ((deployment.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
    desired = replicas(deployment)
    surge = scaled_value(rolling.get("maxSurge"), desired, True)
    unavailable = scaled_value(rolling.get("maxUnavailable"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(deployment: Mapping[str, Any]) -> int:
    return fenceposts(deployment)[0] if is_rolling(deployment) else 0


def max_unavailable(deployment: Mapping[str, Any]) -> int:
    """How many replicas may be unavailable (0 for Recreate or zero replicas; never more than the replicas)."""
    desired = replicas(deployment)
    if not is_rolling(deployment) or desired == 0:
        return 0
    return min(fenceposts(deployment)[1], desired)


# ---- ordering and revisions -----------------------------------------------------------------------------
def by_creation(replica_sets: Iterable[Obj]) -> list[Obj]:
    """Oldest first (creationTimestamp, then name), as Kubernetes orders ReplicaSets."""
    return sorted(replica_sets, key=lambda rs: (objects.meta(rs).get("creationTimestamp") or "",
                                                 objects.meta(rs).get("name") or ""))


def revision(obj: Mapping[str, Any]) -> int:
    return objects.int_value(objects.annotations_of(obj).get(REVISION))


def max_revision(replica_sets: Iterable[Mapping[str, Any]]) -> int:
    return max((revision(rs) for rs in replica_sets), default=0)


def active(replica_sets: Iterable[Obj | None]) -> list[Obj]:
    """The ReplicaSets that want at least one pod."""
    return [rs for rs in replica_sets if rs is not None and replicas(rs) > 0]


def find_new(deployment: Mapping[str, Any], replica_sets: Iterable[Obj]) -> Obj | None:
    """The oldest ReplicaSet whose template equals the Deployment's (the one a rollout converges to)."""
    template = (deployment.get("spec") or {}).get("template")
    for rs in by_creation(replica_sets):
        if templates_equal((rs.get("spec") or {}).get("template"), template):
            return rs
    return None


def replica_set_annotations(deployment: Mapping[str, Any], rs_annotations: Mapping[str, str],
                            new_revision: int, creating: bool = False) -> dict[str, str]:
    """The annotations the new ReplicaSet should carry: the Deployment's (bar a few) and its revision.

    When an old ReplicaSet becomes new again (``rollout undo``), its previous revision moves into
    ``revision-history`` and it takes the new number. A ReplicaSet being created also gets the replicas
    annotations (later only scaling changes them: they are how a scaling event is told from a rollout).

    >>> d = {"metadata": {"annotations": {CHANGE_CAUSE: "v2"}}, "spec": {"replicas": 3}}
    >>> undone = replica_set_annotations(d, {REVISION: "1"}, 3)
    >>> undone[REVISION], undone[REVISION_HISTORY], undone[CHANGE_CAUSE], DESIRED_REPLICAS in undone
    ('3', '1', 'v2', False)
    >>> replica_set_annotations(d, {}, 1, creating=True)[MAX_REPLICAS]
    '4'
    """
    result = dict(rs_annotations)
    for key, value in objects.annotations_of(deployment).items():
        if key not in ANNOTATIONS_NOT_COPIED:
            result[key] = value
    old_revision = objects.int_value(result.get(REVISION))
    if old_revision < new_revision:
        if old_revision > 0:
            history = [h for h in (result.get(REVISION_HISTORY) or "").split(",") if h]
            result[REVISION_HISTORY] = ",".join([*history, str(old_revision)])
        result[REVISION] = str(new_revision)
    if creating:
        result.update(replicas_annotations(deployment))
    return result


def replicas_annotations(deployment: Mapping[str, Any]) -> dict[str, str]:
    desired = replicas(deployment)
    return {DESIRED_REPLICAS: str(desired), MAX_REPLICAS: str(desired + max_surge(deployment))}


# ---- scaling decisions ----------------------------------------------------------------------------------
def new_replica_count(deployment: Mapping[str, Any], all_sets: Sequence[Obj], new_rs: Obj | None) -> int:
    """How many replicas the new ReplicaSet may have now (NewRSNewReplicas).

    >>> d = {"spec": {"replicas": 4, "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}}}
    >>> new_replica_count(d, [{"spec": {"replicas": 4}}], None)
    1
    """
    desired = replicas(deployment)
    current = replicas(new_rs) if new_rs is not None else 0
    if not is_rolling(deployment):
        return desired
    current_pods = sum(replicas(rs) for rs in all_sets)
    max_total = desired + max_surge(deployment)
    if current_pods >= max_total:
        return current
    return current + min(max_total - current_pods, desired - current)


def unhealthy_cleanup(old_sets: Sequence[Obj], budget: int) -> dict[str, int]:
    """Scale-downs of old ReplicaSets' unavailable replicas first, within ``budget`` (oldest sets first)."""
    targets: dict[str, int] = {}
    total = 0
    for rs in by_creation(old_sets):
        if total >= budget:
            break
        size, available = replicas(rs), status_count(rs, "availableReplicas")
        if size == 0 or size == available:
            continue
        step = min(budget - total, size - available)
        targets[objects.meta(rs)["name"]] = size - step
        total += step
    return targets


def old_scale_down(deployment: Mapping[str, Any], all_sets: Sequence[Obj], old_sets: Sequence[Obj]) -> dict[str, int]:
    """Scale-downs of old ReplicaSets keeping at least ``replicas - maxUnavailable`` available."""
    min_available = replicas(deployment) - max_unavailable(deployment)
    available = sum(status_count(rs, "availableReplicas") for rs in all_sets)
    if available <= min_available:
        return {}
    budget = available - min_available
    targets: dict[str, int] = {}
    total = 0
    for rs in by_creation(old_sets):
        if total >= budget:
            break
        size = replicas(rs)
        if size == 0:
            continue
        step = min(size, budget - total)
        targets[objects.meta(rs)["name"]] = size - step
        total += step
    return targets


def rolling_old_targets(deployment: Mapping[str, Any], new_rs: Obj | None, old_sets: Sequence[Obj]) -> dict[str, int]:
    """What the old ReplicaSets should shrink to in this step of a rolling update (reconcileOldReplicaSets).

    >>> d = {"spec": {"replicas": 3, "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}}}
    >>> old = {"metadata": {"name": "old"}, "spec": {"replicas": 3}, "status": {"availableReplicas": 3}}
    >>> new = {"metadata": {"name": "new"}, "spec": {"replicas": 1}, "status": {"availableReplicas": 1}}
    >>> rolling_old_targets(d, new, [old])
    {'old': 2}
    """
    if sum(replicas(rs) for rs in old_sets) == 0:
        return {}
    all_sets = [*old_sets, *([new_rs] if new_rs is not None else [])]
    all_pods = sum(replicas(rs) for rs in all_sets)
    min_available = replicas(deployment) - max_unavailable(deployment)
    new_unavailable = (replicas(new_rs) - status_count(new_rs, "availableReplicas")) if new_rs is not None else 0
    budget = all_pods - min_available - new_unavailable
    if budget <= 0:
        return {}
    targets = unhealthy_cleanup(active(old_sets), budget)
    shrunk = [_with_replicas(rs, targets.get(objects.meta(rs)["name"])) for rs in old_sets]
    all_after = [*shrunk, *([new_rs] if new_rs is not None else [])]
    targets.update(old_scale_down(deployment, all_after, active(shrunk)))
    return targets


def _with_replicas(rs: Obj, size: int | None) -> Obj:
    if size is None:
        return rs
    return {**rs, "spec": {**(rs.get("spec") or {}), "replicas": size}}


def is_saturated(deployment: Mapping[str, Any], rs: Obj | None) -> bool:
    """The ReplicaSet alone runs the whole Deployment, all of it available."""
    if rs is None:
        return False
    desired = replicas(deployment)
    return (objects.int_value(objects.annotations_of(rs).get(DESIRED_REPLICAS), -1) == desired
            and status_count(rs, "availableReplicas") == desired and replicas(rs) == desired)


def active_or_latest(new_rs: Obj | None, old_sets: Sequence[Obj]) -> Obj | None:
    """The single active ReplicaSet, the newest when none is active, or None when several are."""
    if new_rs is None and not old_sets:
        return None
    newest_first = list(reversed(by_creation(old_sets)))
    running = active([*newest_first, new_rs])
    if len(running) == 1:
        return running[0]
    if not running:
        return new_rs if new_rs is not None else newest_first[0]
    return None


def is_scaling_event(deployment: Mapping[str, Any], all_sets: Sequence[Obj | None]) -> bool:
    """Whether ``spec.replicas`` changed since the active ReplicaSets were last sized (their desired-replicas)."""
    desired = replicas(deployment)
    for rs in active(all_sets):
        annotated = objects.annotations_of(rs).get(DESIRED_REPLICAS)
        if annotated is not None and objects.int_value(annotated, -1) != desired:
            return True
    return False


def proportional_targets(deployment: Mapping[str, Any], new_rs: Obj | None, old_sets: Sequence[Obj]) -> dict[str, int]:
    """New sizes when the Deployment is scaled in the middle of a rollout (or paused): proportional to each set.

    >>> d = {"spec": {"replicas": 20, "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}},
    ...      "status": {"replicas": 10}}
    >>> a = {"metadata": {"name": "a", "creationTimestamp": "1", "annotations": {MAX_REPLICAS: "10"}},
    ...      "spec": {"replicas": 6}}
    >>> b = {"metadata": {"name": "b", "creationTimestamp": "2", "annotations": {MAX_REPLICAS: "10"}},
    ...      "spec": {"replicas": 4}}
    >>> proportional_targets(d, b, [a])
    {'a': 12, 'b': 8}
    """
    desired = replicas(deployment)
    single = active_or_latest(new_rs, old_sets)
    if single is not None:
        return {} if replicas(single) == desired else {objects.meta(single)["name"]: desired}
    if is_saturated(deployment, new_rs):
        return {objects.meta(rs)["name"]: 0 for rs in active(old_sets)}
    if not is_rolling(deployment):
        return {}
    running = active([*old_sets, new_rs])
    allowed = desired + max_surge(deployment) if desired > 0 else 0
    to_add = allowed - sum(replicas(rs) for rs in running)
    if to_add == 0:
        return {}
    order = _by_size(running, newer_first=to_add > 0)
    sizes: dict[str, int] = {}
    added = 0
    for rs in order:
        step = _proportion(rs, deployment, to_add, added)
        sizes[objects.meta(rs)["name"]] = replicas(rs) + step
        added += step
    first = objects.meta(order[0])["name"]
    sizes[first] = max(0, sizes[first] + to_add - added)
    return sizes


def _by_size(replica_sets: Sequence[Obj], newer_first: bool) -> list[Obj]:
    oldest_first = by_creation(replica_sets)
    tie = list(reversed(oldest_first)) if newer_first else oldest_first
    return sorted(tie, key=lambda rs: -replicas(rs))  # stable: ties keep the age order


def _proportion(rs: Obj, deployment: Mapping[str, Any], to_add: int, added: int) -> int:
    if replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _fraction(rs, deployment)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _fraction(rs: Obj, deployment: Mapping[str, Any]) -> int:
    desired = replicas(deployment)
    if desired == 0:
        return -replicas(rs)
    max_now = desired + max_surge(deployment)
    max_before = objects.int_value(objects.annotations_of(rs).get(MAX_REPLICAS))
    if max_before == 0:
        max_before = status_count(deployment, "replicas")
        if max_before == 0:
            return 0
    size = replicas(rs) * max_now / max_before
    return math.floor(size + 0.5) - replicas(rs)


def cleanup_candidates(deployment: Mapping[str, Any], old_sets: Sequence[Obj]) -> list[Obj]:
    """Among the oldest old ReplicaSets beyond ``revisionHistoryLimit``, those fully scaled down (to delete)."""
    limit = objects.int_value((deployment.get("spec") or {}).get("revisionHistoryLimit"), DEFAULT_HISTORY_LIMIT)
    cleanable = [rs for rs in old_sets if not objects.is_deleting(rs)]
    excess = len(cleanable) - limit
    if excess <= 0:
        return []
    doomed: list[Obj] = []
    oldest = sorted(cleanable, key=lambda r: (revision(r), objects.meta(r).get("creationTimestamp") or ""))
    for rs in oldest[:excess]:  # a set still in use among the oldest is skipped, not replaced by a newer one
        settled = status_count(rs, "observedGeneration") >= objects.int_value(objects.meta(rs).get("generation"))
        if replicas(rs) == 0 and status_count(rs, "replicas") == 0 and settled:
            doomed.append(rs)
    return doomed


# ---- status ---------------------------------------------------------------------------------------------
@dataclasses.dataclass
class StatusDecision:
    """The Deployment status to write, and when to look again for a progress deadline (lab seconds)."""

    status: Obj
    recheck_after: float | None = None


def progress_deadline(deployment: Mapping[str, Any]) -> int | None:
    value = (deployment.get("spec") or {}).get("progressDeadlineSeconds", DEFAULT_PROGRESS_DEADLINE)
    if value is None or objects.int_value(value) >= 2 ** 31 - 1:
        return None
    return objects.int_value(value, DEFAULT_PROGRESS_DEADLINE)


def set_deployment_condition(status: Obj, type_: str, state: str, reason: str, message: str, now: str) -> bool:
    """Kubernetes' SetDeploymentCondition: nothing changes when status and reason are the same."""
    conditions: list[Obj] = status.setdefault("conditions", [])
    for index, old in enumerate(conditions):
        if old.get("type") != type_:
            continue
        if old.get("status") == state and old.get("reason") == reason:
            return False
        transition = old.get("lastTransitionTime", now) if old.get("status") == state else now
        conditions.pop(index)
        break
    else:
        transition = now
    conditions.append({"type": type_, "status": state, "lastUpdateTime": now, "lastTransitionTime": transition,
                       "reason": reason, "message": message})
    return True


def remove_condition(status: Obj, type_: str) -> None:
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != type_]


def base_status(deployment: Mapping[str, Any], all_sets: Sequence[Obj], new_rs: Obj | None, now: str) -> Obj:
    """The counts and the Available condition (calculateStatus)."""
    old = deployment.get("status") or {}
    available = sum(status_count(rs, "availableReplicas") for rs in all_sets)
    total = sum(status_count(rs, "replicas") for rs in all_sets)
    status: Obj = {
        "observedGeneration": objects.int_value(objects.meta(deployment).get("generation"), 1),
        "replicas": total,
        "updatedReplicas": status_count(new_rs, "replicas") if new_rs is not None else 0,
        "readyReplicas": sum(status_count(rs, "readyReplicas") for rs in all_sets),
        "availableReplicas": available,
        "unavailableReplicas": max(total - available, 0),
        "conditions": copy.deepcopy(old.get("conditions") or []),
    }
    terminating = [rs for rs in all_sets if "terminatingReplicas" in (rs.get("status") or {})]
    if terminating:
        status["terminatingReplicas"] = sum(status_count(rs, "terminatingReplicas") for rs in terminating)
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if available >= replicas(deployment) - max_unavailable(deployment):
        set_deployment_condition(status, "Available", "True", MIN_AVAILABLE, "Deployment has minimum availability.",
                                 now)
    else:
        set_deployment_condition(status, "Available", "False", MIN_UNAVAILABLE,
                                 "Deployment does not have minimum availability.", now)
    return status


def is_complete(deployment: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    """All replicas updated and available, and the latest generation observed (DeploymentComplete)."""
    desired = replicas(deployment)
    return (objects.int_value(status.get("updatedReplicas")) == desired
            and objects.int_value(status.get("replicas")) == desired
            and objects.int_value(status.get("availableReplicas")) == desired
            and objects.int_value(status.get("observedGeneration")) >= objects.int_value(
                objects.meta(deployment).get("generation"), 1))


def _made_progress(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    def count(status: Mapping[str, Any], field: str) -> int:
        return objects.int_value(status.get(field))

    return (count(new, "updatedReplicas") > count(old, "updatedReplicas")
            or count(new, "replicas") - count(new, "updatedReplicas")
            < count(old, "replicas") - count(old, "updatedReplicas")
            or count(new, "readyReplicas") > count(old, "readyReplicas")
            or count(new, "availableReplicas") > count(old, "availableReplicas"))


def rollout_status(deployment: Mapping[str, Any], all_sets: Sequence[Obj], new_rs: Obj | None,
                   now: datetime.datetime) -> StatusDecision:
    """The status after a rollout step, with Progressing updated as syncRolloutStatus does."""
    stamp = clocks.rfc3339(now)
    status = base_status(deployment, all_sets, new_rs, stamp)
    deadline = progress_deadline(deployment)
    if deadline is None:
        remove_condition(status, "Progressing")
        return StatusDecision(status)
    current = objects.condition({"status": status}, "Progressing")
    done = (objects.int_value(status.get("replicas")) == objects.int_value(status.get("updatedReplicas"))
            and current is not None and current.get("reason") == NEW_RS_AVAILABLE)
    if not done:
        name = objects.meta(new_rs).get("name") if new_rs is not None else None
        subject = f'ReplicaSet "{name}"' if name else f'Deployment "{objects.meta(deployment).get("name")}"'
        if is_complete(deployment, status):
            set_deployment_condition(status, "Progressing", "True", NEW_RS_AVAILABLE,
                                     f"{subject} has successfully progressed.", stamp)
        elif _made_progress(deployment.get("status") or {}, status):
            transition = current.get("lastTransitionTime") if current and current.get("status") == "True" else None
            remove_condition(status, "Progressing")
            set_deployment_condition(status, "Progressing", "True", RS_UPDATED, f"{subject} is progressing.", stamp)
            if transition:
                status["conditions"][-1]["lastTransitionTime"] = transition
        elif _timed_out(current, deadline, now):
            set_deployment_condition(status, "Progressing", "False", TIMED_OUT,
                                     f"{subject} has timed out progressing.", stamp)
    return StatusDecision(status, _recheck_after(deployment, status, deadline, now))


def _timed_out(current: Mapping[str, Any] | None, deadline: int, now: datetime.datetime) -> bool:
    if current is None or current.get("reason") == NEW_RS_AVAILABLE:
        return False
    if current.get("reason") == TIMED_OUT:
        return True
    since = current.get("lastUpdateTime")
    if not since:
        return False
    return objects.parse_time(since) + datetime.timedelta(seconds=deadline) < now


def _recheck_after(deployment: Mapping[str, Any], status: Obj, deadline: int,
                   now: datetime.datetime) -> float | None:
    """Seconds until the progress deadline would pass for a rollout that is still under way."""
    current = objects.condition({"status": status}, "Progressing")
    if current is None or current.get("reason") in (NEW_RS_AVAILABLE, TIMED_OUT) or is_complete(deployment, status):
        return None
    if not current.get("lastUpdateTime"):
        return None
    due = objects.parse_time(current["lastUpdateTime"]) + datetime.timedelta(seconds=deadline)
    return max((due - now).total_seconds(), 0.0) + 1.0
