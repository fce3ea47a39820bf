"""The pure rollout arithmetic of the deployment controller (gitops_lab.sandbox.controllers.rollouts)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops_lab.sandbox.controllers import objects, rollouts

Obj = dict[str, Any]
NOW = datetime.datetime(2026, 11, 27, 12, 0, 0, tzinfo=datetime.UTC)
STAMP = "2026-11-27T12:00:00Z"


def deployment(replicas: int = 3, surge: Any = "25%", unavailable: Any = "25%", kind: str = "RollingUpdate",
               generation: int = 1, status: Obj | None = None, **spec: Any) -> Obj:
    strategy: Obj = {"type": kind}
    if kind == "RollingUpdate":
        strategy["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"metadata": {"name": "web", "generation": generation},
            "spec": {"replicas": replicas, "strategy": strategy,
                     "template": {"metadata": {"labels": {"app": "web"}}}, **spec},
            "status": status or {}}


def replica_set(name: str, replicas: int, available: int | None = None, created: str = "2026-01-01T00:00:00Z",
                revision: int | None = None, **status: Any) -> Obj:
    annotations = {rollouts.REVISION: str(revision)} if revision is not None else {}
    return {"metadata": {"name": name, "creationTimestamp": created, "annotations": annotations, "generation": 1},
            "spec": {"replicas": replicas, "template": {"metadata": {"labels": {"app": name}}}},
            "status": {"replicas": replicas, "availableReplicas": replicas if available is None else available,
                       "observedGeneration": 1, **status}}


# ---- hashes ---------------------------------------------------------------------------------------------
def test_template_hash_is_stable_safe_and_sensitive() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a", "image": "nginx"}]}}
    same = {"spec": {"containers": [{"image": "nginx", "name": "a"}]}, "metadata": {"labels": {"app": "web"}}}
    hashed = rollouts.template_hash(template)
    assert hashed == rollouts.template_hash(same)  # key order does not matter
    assert set(hashed) <= set(rollouts.SAFE_ALPHABET) and 1 <= len(hashed) <= 10
    other = {**template, "spec": {"containers": [{"name": "a", "image": "nginx:1.28"}]}}
    assert rollouts.template_hash(other) != hashed
    with_label = {"metadata": {"labels": {"app": "web", rollouts.HASH_LABEL: hashed}}, "spec": template["spec"]}
    assert rollouts.template_hash(with_label) == hashed  # the hash label itself is not hashed
    assert rollouts.template_hash(template, 1) != hashed != rollouts.template_hash(template, 2)


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=5))
def test_template_hash_is_always_a_short_safe_name(labels: dict[str, str]) -> None:
    hashed = rollouts.template_hash({"metadata": {"labels": labels}})
    assert 1 <= len(hashed) <= 10 and set(hashed) <= set(rollouts.SAFE_ALPHABET)


@pytest.mark.parametrize(("a", "b", "equal"), [
    ({"metadata": {"labels": {"app": "a", rollouts.HASH_LABEL: "x"}}}, {"metadata": {"labels": {"app": "a"}}}, True),
    ({"metadata": {"labels": {"app": "a"}, "creationTimestamp": None}}, {"metadata": {"labels": {"app": "a"}}}, True),
    ({"metadata": {"labels": {"app": "a"}}}, {"metadata": {"labels": {"app": "b"}}}, False),
    ({"metadata": {"annotations": {"x": "1"}}}, {"metadata": {}}, False),
    ({"spec": {"containers": [{"image": "a"}]}}, {"spec": {"containers": [{"image": "b"}]}}, False),
])
def test_templates_equal_ignores_only_the_hash_and_empty_metadata(a: Obj, b: Obj, equal: bool) -> None:
    assert rollouts.templates_equal(a, b) is equal


# ---- fenceposts -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("replicas", "surge", "unavailable", "expected"), [
    (10, "25%", "25%", (3, 2)),
    (4, "25%", "25%", (1, 1)),
    (3, "25%", "25%", (1, 0)),
    (1, "25%", "25%", (1, 0)),
    (5, 0, 0, (0, 1)),  # both zero: one may be unavailable
    (5, "0%", "0%", (0, 1)),
    (3, "50%", "50%", (2, 1)),
    (6, 2, "100%", (2, 6)),
    (10, None, None, (3, 2)),  # unset means 25%
    (4, "2", 1, (2, 1)),
])
def test_fenceposts_round_surge_up_and_unavailability_down(replicas: int, surge: Any, unavailable: Any,
                                                           expected: tuple[int, int]) -> None:
    assert rollouts.fenceposts(deployment(replicas, surge, unavailable)) == expected


def test_max_unavailable_is_capped_and_zero_for_recreate_or_no_replicas() -> None:
    assert rollouts.max_unavailable(deployment(2, 0, 5)) == 2
    assert rollouts.max_unavailable(deployment(3, kind="Recreate")) == 0
    assert rollouts.max_unavailable(deployment(0, 1, 1)) == 0
    assert rollouts.max_surge(deployment(3, kind="Recreate")) == 0


def test_a_bad_int_or_string_is_refused() -> None:
    with pytest.raises(ValueError, match="must be an integer or a percentage"):
        rollouts.scaled_value("lots", 10, True)


# ---- new and old replica sets ---------------------------------------------------------------------------
@pytest.mark.parametrize(("d", "sizes", "new", "expected"), [
    (deployment(4, 1, 0), [4], 0, 1),  # room for the surge only
    (deployment(4, 2, 0), [4], 0, 2),
    (deployment(4, 1, 0), [3], 1, 2),  # one old went away: one more new
    (deployment(4, 1, 0), [4], 1, 1),  # full: stays
    (deployment(4, 10, 0), [4], 0, 4),  # never more than the replicas
    (deployment(4, kind="Recreate"), [], 0, 4),
])
def test_new_replica_count(d: Obj, sizes: list[int], new: int, expected: int) -> None:
    new_rs = replica_set("new", new)
    all_sets = [replica_set(f"old{i}", n) for i, n in enumerate(sizes)] + [new_rs]
    assert rollouts.new_replica_count(d, all_sets, new_rs) == expected


def test_old_replica_sets_shrink_only_as_far_as_availability_allows() -> None:
    d = deployment(4, 1, 1)
    old = replica_set("old", 4, created="2026-01-01T00:00:00Z")
    fresh = replica_set("new", 1, available=0, created="2026-01-02T00:00:00Z")
    # 5 wanted, min 3 available, 1 new unavailable: one old replica may go.
    assert rollouts.rolling_old_targets(d, fresh, [old]) == {"old": 3}
    ready = replica_set("new", 2, available=2, created="2026-01-02T00:00:00Z")
    assert rollouts.rolling_old_targets(d, ready, [replica_set("old", 3)]) == {"old": 1}
    assert rollouts.rolling_old_targets(d, ready, [replica_set("old", 0)]) == {}


def test_unhealthy_old_replicas_are_removed_first() -> None:
    d = deployment(4, 0, 1)
    sick = replica_set("sick", 2, available=0, created="2026-01-01T00:00:00Z")
    healthy = replica_set("healthy", 3, available=3, created="2026-01-02T00:00:00Z")
    fresh = replica_set("new", 0, created="2026-01-03T00:00:00Z")
    targets = rollouts.rolling_old_targets(d, fresh, [sick, healthy])
    assert targets["sick"] == 0  # the two unavailable replicas go without costing availability
    assert targets.get("healthy", 3) == 3  # 3 available = 4 - 1: no healthy one may go


@given(replicas=st.integers(1, 12), surge=st.integers(0, 4), unavailable=st.integers(0, 4),
       old=st.integers(0, 12), new=st.integers(0, 12), new_available=st.integers(0, 12),
       old_available=st.integers(0, 12))
def test_one_rolling_step_never_breaks_the_bounds(replicas: int, surge: int, unavailable: int, old: int, new: int,
                                                  new_available: int, old_available: int) -> None:
    """From any state within the bounds, the next step keeps them: total ≤ replicas + surge, and old replicas
    are only removed while at least replicas - maxUnavailable stay available."""
    d = deployment(replicas, surge, unavailable)
    max_surge, max_unavailable = rollouts.max_surge(d), rollouts.max_unavailable(d)
    new_available, old_available = min(new_available, new), min(old_available, old)
    old_rs = replica_set("old", old, available=old_available, created="2026-01-01T00:00:00Z")
    new_rs = replica_set("new", new, available=new_available, created="2026-01-02T00:00:00Z")
    if old + new > replicas + max_surge or new > replicas:
        return
    grown = rollouts.new_replica_count(d, [old_rs, new_rs], new_rs)
    assert new <= grown <= replicas and old + grown <= max(old + new, replicas + max_surge)
    targets = rollouts.rolling_old_targets(d, new_rs, rollouts.active([old_rs]))
    if "old" in targets:
        removed = old - targets["old"]
        assert 0 < removed <= old
        unhealthy_removed = min(removed, old - old_available)
        healthy_removed = removed - unhealthy_removed
        available_before = old_available + new_available
        assert healthy_removed == 0 or available_before - healthy_removed >= replicas - max_unavailable


# ---- proportional scaling -------------------------------------------------------------------------------
def test_scaling_a_single_active_replica_set_just_resizes_it() -> None:
    d = deployment(5, 1, 0)
    only = replica_set("only", 3)
    assert rollouts.proportional_targets(d, only, [replica_set("older", 0)]) == {"only": 5}
    assert rollouts.proportional_targets(deployment(3), only, []) == {}


def test_scaling_mid_rollout_is_proportional_with_leftovers_to_the_biggest() -> None:
    d = deployment(15, 3, 0, status={"replicas": 12})
    annotations = {rollouts.MAX_REPLICAS: "12"}
    old = replica_set("old", 8, created="2026-01-01T00:00:00Z")
    new = replica_set("new", 4, created="2026-01-02T00:00:00Z")
    old["metadata"]["annotations"].update(annotations)
    new["metadata"]["annotations"].update(annotations)
    targets = rollouts.proportional_targets(d, new, [old])
    assert sum(targets.values()) == 15 + 3  # grown to the new maximum
    assert targets == {"old": 12, "new": 6}


def test_scaling_to_zero_empties_every_active_set() -> None:
    d = deployment(0, 1, 0)
    old, new = replica_set("old", 2, created="1"), replica_set("new", 2, created="2")
    assert rollouts.proportional_targets(d, new, [old]) == {"old": 0, "new": 0}


def test_scaling_events_are_told_by_the_desired_replicas_annotation() -> None:
    rs = replica_set("a", 3)
    rs["metadata"]["annotations"][rollouts.DESIRED_REPLICAS] = "3"
    assert not rollouts.is_scaling_event(deployment(3), [rs])
    assert rollouts.is_scaling_event(deployment(5), [rs])
    assert not rollouts.is_scaling_event(deployment(5), [replica_set("unannotated", 3)])


# ---- revisions and history ------------------------------------------------------------------------------
def test_find_new_takes_the_oldest_matching_template() -> None:
    d = deployment()
    d["spec"]["template"] = {"metadata": {"labels": {"app": "x"}}}
    later = replica_set("later", 1, created="2026-01-02T00:00:00Z")
    earlier = replica_set("earlier", 1, created="2026-01-01T00:00:00Z")
    for rs in (later, earlier):
        rs["spec"]["template"] = {"metadata": {"labels": {"app": "x", rollouts.HASH_LABEL: rs["metadata"]["name"]}}}
    assert rollouts.find_new(d, [later, earlier]) is earlier
    assert rollouts.find_new(deployment(), [later]) is None


def test_undo_moves_the_old_revision_into_the_history() -> None:
    d = {"metadata": {"annotations": {rollouts.CHANGE_CAUSE: "undo", rollouts.LAST_APPLIED: "{}"}},
         "spec": {"replicas": 2}}
    result = rollouts.replica_set_annotations(d, {rollouts.REVISION: "2", rollouts.REVISION_HISTORY: "1"}, 5)
    assert result[rollouts.REVISION] == "5" and result[rollouts.REVISION_HISTORY] == "1,2"
    assert result[rollouts.CHANGE_CAUSE] == "undo" and rollouts.LAST_APPLIED not in result
    same = rollouts.replica_set_annotations(d, {rollouts.REVISION: "5"}, 3)  # never goes backwards
    assert same[rollouts.REVISION] == "5" and rollouts.REVISION_HISTORY not in same


def test_cleanup_removes_only_the_oldest_settled_empty_sets_beyond_the_limit() -> None:
    d = deployment(revisionHistoryLimit=2)
    sets = [replica_set(f"r{i}", 0, revision=i) for i in range(1, 6)]
    sets[0]["spec"]["replicas"] = 1  # still scaling down: kept
    doomed = [rs["metadata"]["name"] for rs in rollouts.cleanup_candidates(d, sets)]
    assert doomed == ["r2", "r3"]
    assert rollouts.cleanup_candidates(deployment(), sets) == []  # default limit 10


# ---- status ---------------------------------------------------------------------------------------------
def test_status_counts_and_availability() -> None:
    d = deployment(4, 1, 1, generation=3)
    old = replica_set("old", 1, available=1, readyReplicas=1)
    new = replica_set("new", 3, available=2, readyReplicas=2)
    status = rollouts.base_status(d, [old, new], new, STAMP)
    assert {k: status[k] for k in ("observedGeneration", "replicas", "updatedReplicas", "readyReplicas",
                                   "availableReplicas", "unavailableReplicas")} == {
        "observedGeneration": 3, "replicas": 4, "updatedReplicas": 3, "readyReplicas": 3,
        "availableReplicas": 3, "unavailableReplicas": 1}
    assert objects.condition_true({"status": status}, "Available")
    starved = rollouts.base_status(d, [replica_set("new", 4, available=2)], None, STAMP)
    cond = objects.condition({"status": starved}, "Available")
    assert cond is not None and cond["status"] == "False" and cond["reason"] == rollouts.MIN_UNAVAILABLE


def test_progressing_goes_updated_then_available_and_can_time_out() -> None:
    created = {"conditions": [{"type": "Progressing", "status": "True", "reason": rollouts.NEW_RS_CREATED,
                               "lastUpdateTime": STAMP, "lastTransitionTime": STAMP, "message": ""}],
               "updatedReplicas": 0}
    d = deployment(2, 1, 0, status=created, progressDeadlineSeconds=60)
    new = replica_set("new", 1, available=0)
    new["status"]["replicas"] = 1
    step = rollouts.rollout_status(d, [replica_set("old", 2), new], new, NOW)
    cond = objects.condition({"status": step.status}, "Progressing")
    assert cond is not None and cond["reason"] == rollouts.RS_UPDATED
    assert cond["message"] == 'ReplicaSet "new" is progressing.'
    assert step.recheck_after is not None and 60 <= step.recheck_after <= 62
    stuck = deployment(2, 1, 0, status=step.status, progressDeadlineSeconds=60)
    later = rollouts.rollout_status(stuck, [replica_set("old", 2), new], new, NOW + datetime.timedelta(seconds=61))
    cond = objects.condition({"status": later.status}, "Progressing")
    assert cond is not None and cond["status"] == "False" and cond["reason"] == rollouts.TIMED_OUT
    assert later.recheck_after is None
    done = rollouts.rollout_status(deployment(2, 1, 0, status=step.status), [replica_set("new", 2)],
                                   replica_set("new", 2), NOW)
    cond = objects.condition({"status": done.status}, "Progressing")
    assert cond is not None and cond["reason"] == rollouts.NEW_RS_AVAILABLE
    assert cond["message"] == 'ReplicaSet "new" has successfully progressed.'


def test_without_a_progress_deadline_there_is_no_progressing_condition() -> None:
    d = deployment(1, progressDeadlineSeconds=2 ** 31 - 1)
    d["status"] = {"conditions": [{"type": "Progressing", "status": "True", "reason": "x"}]}
    decision = rollouts.rollout_status(d, [replica_set("a", 1)], replica_set("a", 1), NOW)
    assert objects.condition({"status": decision.status}, "Progressing") is None


def test_set_deployment_condition_keeps_times_for_the_same_status_and_reason() -> None:
    status: Obj = {}
    assert rollouts.set_deployment_condition(status, "Available", "True", "A", "m", "t1")
    assert not rollouts.set_deployment_condition(status, "Available", "True", "A", "other message", "t2")
    assert rollouts.set_deployment_condition(status, "Available", "True", "B", "m", "t3")
    [cond] = status["conditions"]
    assert cond["lastTransitionTime"] == "t1" and cond["lastUpdateTime"] == "t3" and cond["reason"] == "B"
    assert rollouts.set_deployment_condition(status, "Available", "False", "C", "m", "t4")
    assert status["conditions"][0]["lastTransitionTime"] == "t4"


@given(replicas=st.integers(1, 10), surge=st.one_of(st.integers(0, 3), st.sampled_from(["0%", "25%", "50%", "100%"])),
       unavailable=st.one_of(st.integers(0, 3), st.sampled_from(["0%", "25%", "50%"])), data=st.data())
def test_a_whole_rolling_update_keeps_its_bounds_and_finishes(replicas: int, surge: Any, unavailable: Any,
                                                            data: st.DataObject) -> None:
    """The controller's loop over the pure decisions, with new pods becoming available in random batches:
    every state keeps ReplicaSets' total ≤ replicas + maxSurge and available ≥ replicas - maxUnavailable,
    and the rollout always ends with every replica new and available."""
    d = deployment(replicas, surge, unavailable)
    max_surge, max_unavailable = rollouts.max_surge(d), rollouts.max_unavailable(d)
    old = replica_set("old", replicas, created="2026-01-01T00:00:00Z")
    new = replica_set("new", 0, available=0, created="2026-01-02T00:00:00Z")
    for _ in range(20 * replicas + 20):
        grown = rollouts.new_replica_count(d, [old, new], new)
        targets = rollouts.rolling_old_targets(d, new, rollouts.active([old]))
        if grown != rollouts.replicas(new):
            new = replica_set("new", grown, available=rollouts.status_count(new, "availableReplicas"),
                              created="2026-01-02T00:00:00Z")
        elif targets:
            old = replica_set("old", targets["old"], created="2026-01-01T00:00:00Z")
        else:
            waiting = rollouts.replicas(new) - rollouts.status_count(new, "availableReplicas")
            if waiting == 0:
                break
            ready = data.draw(st.integers(1, waiting), label="pods becoming available")
            new = replica_set("new", rollouts.replicas(new), available=rollouts.status_count(
                new, "availableReplicas") + ready, created="2026-01-02T00:00:00Z")
        total = rollouts.replicas(old) + rollouts.replicas(new)
        available = rollouts.status_count(old, "availableReplicas") + rollouts.status_count(new, "availableReplicas")
        assert total <= replicas + max_surge
        assert available >= replicas - max_unavailable
    assert (rollouts.replicas(old), rollouts.replicas(new)) == (0, replicas)
    assert rollouts.status_count(new, "availableReplicas") == replicas
