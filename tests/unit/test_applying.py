"""Managed fields and server-side apply: field sets, FieldsV1, merging, pruning, conflicts and Update tracking."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lab.sandbox import schemas, statuses
from gitops_lab.sandbox.applying import (
    ANCIENT_CHANGES,
    BEFORE_FIRST_APPLY,
    LAST_APPLIED,
    FieldSet,
    field_element,
    field_set,
    from_fields_v1,
    key_element,
    manager_from_user_agent,
    manager_or_user_agent,
    path_string,
    server_side_apply,
    to_fields_v1,
    track_update,
    value_element,
)

DEPLOYMENT = schemas.definition("io.k8s.api.apps.v1.Deployment")
CONFIGMAP = schemas.definition("io.k8s.api.core.v1.ConfigMap")
SERVICE = schemas.definition("io.k8s.api.core.v1.Service")
POD = schemas.definition("io.k8s.api.core.v1.Pod")
T0, T1, T2, T3 = "2025-01-01T00:00:00Z", "2025-01-01T00:01:00Z", "2025-01-01T00:02:00Z", "2025-01-01T00:03:00Z"


def deployment(replicas: int | None = None, containers: list[dict[str, Any]] | None = None,
               labels: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": containers if containers is not None else
                              [{"name": "web", "image": "nginx:1.27"}]}},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    meta: dict[str, Any] = {"name": "web", "namespace": "default"}
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def apply(live: dict[str, Any] | None, config: dict[str, Any], manager: str = "kubectl", *, force: bool = False,
          now: str = T0, schema: schemas.Schema = DEPLOYMENT, **kw: Any) -> dict[str, Any]:
    api_version = config.get("apiVersion", "apps/v1")
    result = server_side_apply(live, config, manager=manager, force=force, schema=schema,
                               api_version=api_version, now=now, **kw)
    result["metadata"].setdefault("resourceVersion", "1")  # stored, as the caller would
    return result


def update(old: dict[str, Any] | None, new: dict[str, Any], manager: str, *, now: str = T1,
           schema: schemas.Schema = DEPLOYMENT, **kw: Any) -> dict[str, Any]:
    result = track_update(old, new, manager=manager, schema=schema, api_version=new.get("apiVersion", "apps/v1"),
                          now=now, **kw)
    result["metadata"].setdefault("resourceVersion", "1")
    return result


def entries(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["manager"]: e for e in obj["metadata"].get("managedFields", [])}


def owned(obj: dict[str, Any], manager: str) -> list[str]:
    entry = entries(obj).get(manager)
    return [path_string(p) for p in from_fields_v1(entry["fieldsV1"])] if entry else []


def with_replicas(obj: dict[str, Any], replicas: int) -> dict[str, Any]:
    new = copy.deepcopy(obj)
    new["spec"]["replicas"] = replicas
    return new


def conflict(call: Any) -> statuses.ApiError:
    with pytest.raises(statuses.ApiError) as info:
        call()
    assert info.value.code == 409 and info.value.reason == "Conflict"
    return info.value


# --------------------------------------------------------------------------------------------------------------
# Field sets and FieldsV1


def test_field_set_of_a_deployment_follows_structured_merge_diff() -> None:
    obj = deployment(2, labels={"app": "web"})
    obj["spec"]["template"]["spec"]["containers"][0]["resources"] = {}
    obj["spec"]["template"]["spec"]["containers"][0]["args"] = ["-v"]
    obj["metadata"]["finalizers"] = ["example.com/x"]
    obj["metadata"]["creationTimestamp"] = None
    paths = [path_string(p) for p in field_set(obj, DEPLOYMENT)]
    assert paths == [
        ".apiVersion", ".kind",
        ".metadata.creationTimestamp", ".metadata.name", ".metadata.namespace",
        '.metadata.finalizers[="example.com/x"]',
        ".metadata.labels.app",
        ".spec.replicas", ".spec.selector",  # selector is an atomic map: one leaf
        ".spec.template.metadata.labels.app",
        '.spec.template.spec.containers[name="web"]',
        '.spec.template.spec.containers[name="web"].args',  # atomic list
        '.spec.template.spec.containers[name="web"].image',
        '.spec.template.spec.containers[name="web"].name',
        '.spec.template.spec.containers[name="web"].resources',  # empty struct is a leaf
    ]


def test_field_set_leaves_out_managed_fields_and_keeps_empty_lists_untracked() -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "managedFields": [{"manager": "x"}]},
           "spec": {"containers": []}}
    assert [path_string(p) for p in field_set(obj, POD)] == [".apiVersion", ".kind", ".metadata.name"]


def test_list_map_key_uses_the_schema_default_of_a_missing_key() -> None:
    svc = {"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 53, "protocol": "UDP"}]}}
    paths = [p[:3] for p in field_set(svc, SERVICE)]
    assert ("f:spec", "f:ports", 'k:{"port":53,"protocol":"UDP"}') in paths
    assert ("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}') in paths


def test_field_set_rejects_list_item_without_key() -> None:
    with pytest.raises(ValueError, match=r"element 0: associative list with keys has an element that omits all "
                                         r'key fields \["name"\]'):
        field_set({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}, DEPLOYMENT)


@pytest.mark.parametrize(("fields_v1", "paths"), [
    ({"f:spec": {"f:replicas": {}}}, [("f:spec", "f:replicas")]),
    ({"f:metadata": {"f:labels": {".": {}, "f:app": {}}}},
     [("f:metadata", "f:labels"), ("f:metadata", "f:labels", "f:app")]),
    ({"f:metadata": {"f:finalizers": {'v:"a.io/x"': {}}}}, [("f:metadata", "f:finalizers", 'v:"a.io/x"')]),
    ({"f:spec": {"f:ports": {'k:{"protocol":"TCP","port":80}': {".": {}, "f:port": {}}}}},
     [("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}'),
      ("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}', "f:port")]),
    ({"f:args": {"i:0": {}}}, [("f:args", "i:0")]),
], ids=["field", "dot-member", "set-value", "key-respelt", "index"])
def test_from_fields_v1(fields_v1: dict[str, Any], paths: list[tuple[str, ...]]) -> None:
    assert sorted(from_fields_v1(fields_v1)) == sorted(paths)


@pytest.mark.parametrize("bad", [
    {"x:spec": {}}, {"spec": {}}, {"f:spec": []}, {"k:{not json}": {}}, {"k:[1]": {}}, {"i:one": {}}, [],
])
def test_from_fields_v1_rejects_malformed(bad: Any) -> None:
    with pytest.raises(ValueError):
        from_fields_v1(bad)


def test_to_fields_v1_orders_like_the_apiserver() -> None:
    fs = FieldSet.from_paths([
        ("f:spec", "f:ports", key_element({"port": 443, "protocol": "TCP"})),
        ("f:spec", "f:ports", key_element({"port": 80, "protocol": "TCP"})),
        ("f:spec", "f:ports", key_element({"port": 80, "protocol": "TCP"}), "f:port"),
        ("f:spec", "f:type"), ("f:metadata", "f:labels", "f:b"), ("f:metadata", "f:labels", "f:a"),
    ])
    encoded = to_fields_v1(fs)
    assert json.dumps(encoded, separators=(",", ":")) == (
        '{"f:metadata":{"f:labels":{"f:a":{},"f:b":{}}},'
        '"f:spec":{"f:ports":{"k:{\\"port\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:port":{}},'
        '"k:{\\"port\\":443,\\"protocol\\":\\"TCP\\"}":{}},"f:type":{}}}')


def test_elements_are_spelt_as_go_writes_json() -> None:
    assert field_element("app.kubernetes.io/name") == "f:app.kubernetes.io/name"
    assert key_element({"b": 1.0, "a": "<x>"}) == 'k:{"a":"\\u003cx\\u003e","b":1}'
    assert value_element("ünïcode") == 'v:"ünïcode"'
    assert path_string(("f:a", 'v:"x"', "i:3", 'k:{"n":2}')) == '.a[="x"][3][n=2]'


def test_field_set_operations() -> None:
    a = FieldSet.from_paths([("f:a", "f:b"), ("f:a", "f:c"), ("f:d",)])
    b = FieldSet.from_paths([("f:a",), ("f:a", "f:c")])
    assert list(a.union(b)) == [("f:a",), ("f:d",), ("f:a", "f:b"), ("f:a", "f:c")]
    assert list(a.intersection(b)) == [("f:a", "f:c")]
    assert list(a.difference(b)) == [("f:d",), ("f:a", "f:b")]  # a member of b leaves what is below it
    assert list(a.recursive_difference(b)) == [("f:d",)]
    assert ("f:a", "f:b") in a and ("f:a",) not in a and len(a) == 3
    assert a.with_prefix("f:a") == FieldSet.from_paths([("f:b",), ("f:c",)])
    assert not FieldSet() and FieldSet.from_paths([()]) == FieldSet()


_names = st.sampled_from(["a", "b", "c"])
_elements = st.one_of(_names.map(field_element), st.sampled_from([1, 2]).map(lambda n: key_element({"n": n})),
                      _names.map(value_element))
_paths = st.lists(st.lists(_elements, min_size=1, max_size=3).map(tuple), max_size=12)


@given(_paths, _paths)
def test_field_set_operations_are_set_operations_on_member_paths(xs: list[tuple[str, ...]],
                                                                 ys: list[tuple[str, ...]]) -> None:
    a, b = FieldSet.from_paths(xs), FieldSet.from_paths(ys)
    assert set(a) == set(xs) and len(a) == len(set(xs))
    assert set(a.union(b)) == set(xs) | set(ys)
    assert set(a.intersection(b)) == set(xs) & set(ys)
    assert set(a.difference(b)) == set(xs) - set(ys)
    assert set(a.recursive_difference(b)) == {p for p in xs if not any(p[:n] in set(ys) for n in range(1, 4))}
    assert from_fields_v1(to_fields_v1(a)) == a
    assert from_fields_v1(json.loads(json.dumps(to_fields_v1(a)))) == a


# --------------------------------------------------------------------------------------------------------------
# Server-side apply: the kubectl story


def test_apply_creates_with_one_apply_entry() -> None:
    obj = apply(None, deployment(2, labels={"app": "web"}))
    assert obj["spec"]["replicas"] == 2
    [entry] = obj["metadata"]["managedFields"]
    assert entry == {
        "manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1", "time": T0, "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}},
                     "f:spec": {"f:replicas": {}, "f:selector": {},
                                "f:template": {"f:metadata": {"f:labels": {"f:app": {}}},
                                               "f:spec": {"f:containers": {'k:{"name":"web"}': {
                                                   ".": {}, "f:image": {}, "f:name": {}}}}}}},
    }


def test_scale_then_reapply_conflicts_then_force_takes_over_then_drop_removes() -> None:
    applied = apply(None, deployment(2))
    scaled = update(applied, with_replicas(applied, 5), "kubectl-scale")
    assert owned(scaled, "kubectl-scale") == [".spec.replicas"]
    assert ".spec.replicas" not in owned(scaled, "kubectl")

    error = conflict(lambda: apply(scaled, deployment(3), now=T2))
    assert error.message == ('Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: '
                             ".spec.replicas")
    assert error.details == {"causes": [{"reason": "FieldManagerConflict",
                                         "message": 'conflict with "kubectl-scale" using apps/v1',
                                         "field": ".spec.replicas"}]}
    assert error.status()["details"]["causes"][0]["field"] == ".spec.replicas"

    forced = apply(scaled, deployment(3), force=True, now=T2)
    assert forced["spec"]["replicas"] == 3
    assert ".spec.replicas" in owned(forced, "kubectl")
    assert "kubectl-scale" not in entries(forced)  # its only field was taken: the entry goes
    assert entries(forced)["kubectl"]["time"] == T2

    dropped = apply(forced, deployment(None), now=T3)
    assert "replicas" not in dropped["spec"]  # nobody else owns it: removed
    assert ".spec.replicas" not in owned(dropped, "kubectl")


def test_dropped_field_stays_when_another_manager_owns_it() -> None:
    applied = apply(None, deployment(2))
    scaled = update(applied, with_replicas(applied, 4), "kubectl-scale")
    dropped = apply(scaled, deployment(None), now=T2)
    assert dropped["spec"]["replicas"] == 4
    assert owned(dropped, "kubectl-scale") == [".spec.replicas"]


def test_same_value_is_shared_not_a_conflict() -> None:
    applied = apply(None, deployment(2))
    scaled = update(applied, with_replicas(applied, 5), "kubectl-scale")
    agreed = apply(scaled, deployment(5), now=T2)
    assert ".spec.replicas" in owned(agreed, "kubectl") and owned(agreed, "kubectl-scale") == [".spec.replicas"]
    # Now either changing it conflicts with the other one.
    error = conflict(lambda: apply(agreed, deployment(6), now=T3))
    assert '"kubectl-scale" using apps/v1' in error.message


def test_conflict_names_subresource_and_apply_managers() -> None:
    applied = apply(None, deployment(2))
    scaled = update(applied, with_replicas(applied, 5), "kubectl", subresource="scale")
    error = conflict(lambda: apply(scaled, deployment(3), now=T2))
    assert error.message == ('Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" '
                             "using apps/v1: .spec.replicas")
    other = apply(applied, deployment(2, containers=[{"name": "web", "image": "nginx:1.27"}]), "ci")
    error = conflict(lambda: apply(other, deployment(2, containers=[{"name": "web", "image": "nginx:2"}]), "ci"))
    assert error.message == ('Apply failed with 1 conflict: conflict with "kubectl": '
                             '.spec.template.spec.containers[name="web"].image')


def test_several_conflicts_are_grouped_by_manager() -> None:
    applied = apply(None, deployment(2, labels={"app": "web"}))
    edited = copy.deepcopy(applied)
    edited["spec"]["replicas"] = 7
    edited["metadata"]["labels"]["app"] = "edited"
    edited = update(applied, edited, "kubectl-edit")
    labelled = copy.deepcopy(edited)
    labelled["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:9"
    labelled = update(edited, labelled, "kubectl-set", now=T2)
    error = conflict(lambda: apply(labelled, deployment(3, labels={"app": "web"}), now=T3))
    assert error.message == (
        "Apply failed with 3 conflicts: "
        'conflicts with "kubectl-edit" using apps/v1:\n- .metadata.labels.app\n- .spec.replicas\n'
        'conflicts with "kubectl-set" using apps/v1:\n- .spec.template.spec.containers[name="web"].image')
    assert [c["field"] for c in error.status()["details"]["causes"]] == [
        ".metadata.labels.app", ".spec.replicas", '.spec.template.spec.containers[name="web"].image']


def test_containers_are_merged_by_name_between_two_appliers() -> None:
    first = apply(None, deployment(2))
    sidecar = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
               "spec": {"template": {"spec": {"containers": [{"name": "log", "image": "busybox"}]}}}}
    both = apply(first, sidecar, "sidecar-injector", now=T1)
    assert [c["name"] for c in both["spec"]["template"]["spec"]["containers"]] == ["web", "log"]
    assert owned(both, "sidecar-injector") == [
        '.spec.template.spec.containers[name="log"]', '.spec.template.spec.containers[name="log"].image',
        '.spec.template.spec.containers[name="log"].name']
    # The first applier re-applies its own container only: the sidecar stays, its own image changes.
    again = apply(both, deployment(2, containers=[{"name": "web", "image": "nginx:1.28"}]), now=T2)
    assert [(c["name"], c["image"]) for c in again["spec"]["template"]["spec"]["containers"]] == [
        ("web", "nginx:1.28"), ("log", "busybox")]
    # And when the sidecar applier stops applying its container, the container goes.
    gone = apply(again, {**sidecar, "spec": {}}, "sidecar-injector", now=T3)
    assert [c["name"] for c in gone["spec"]["template"]["spec"]["containers"]] == ["web"]
    assert owned(gone, "sidecar-injector") == [".spec"]  # an empty map is a leaf of its own
    bare = apply(gone, {k: v for k, v in sidecar.items() if k != "spec"}, "sidecar-injector", now=T3)
    assert "sidecar-injector" not in entries(bare) and bare["spec"] == gone["spec"]


def test_labels_are_granular() -> None:
    first = apply(None, deployment(2, labels={"app": "web"}))
    second = apply(first, {"apiVersion": "apps/v1", "kind": "Deployment",
                           "metadata": {"name": "web", "labels": {"team": "blue"}}}, "labeller", now=T1)
    assert second["metadata"]["labels"] == {"app": "web", "team": "blue"}
    assert owned(second, "labeller") == [".metadata.labels.team"]
    dropped = apply(second, deployment(2, labels={}), now=T2)
    assert dropped["metadata"]["labels"] == {"team": "blue"}


def test_atomic_map_and_atomic_list_are_replaced_whole() -> None:
    first = apply(None, deployment(2, containers=[{"name": "web", "image": "x", "args": ["-a", "-b"]}]))
    config = deployment(2, containers=[{"name": "web", "image": "x", "args": ["-c"]}])
    config["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "Exists"}]}
    second = apply(first, config, now=T1)
    assert second["spec"]["selector"] == {"matchExpressions": [{"key": "app", "operator": "Exists"}]}
    assert second["spec"]["template"]["spec"]["containers"][0]["args"] == ["-c"]


def test_sets_merge_by_value() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "finalizers": ["a.io/one"]},
           "spec": {"containers": [{"name": "c", "image": "x"}]}}
    first = apply(None, pod, schema=POD)
    second = apply(first, {"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": "p", "finalizers": ["b.io/two", "a.io/one"]}},
                   "other", schema=POD, now=T1)
    assert second["metadata"]["finalizers"] == ["b.io/two", "a.io/one"]
    assert owned(second, "other") == ['.metadata.finalizers[="a.io/one"]', '.metadata.finalizers[="b.io/two"]']


@pytest.mark.parametrize(("live", "applied", "merged"), [
    (["a", "b"], ["b", "a"], ["b", "a"]),
    (["x", "a", "y", "b"], ["b", "a", "z"], ["x", "y", "b", "a", "z"]),
    (["a", "x"], ["a", "n"], ["a", "x", "n"]),
    (["x"], ["n"], ["x", "n"]),
], ids=["reorder", "live-only-keep-place", "new-after-shared", "disjoint"])
def test_list_merge_order(live: list[str], applied: list[str], merged: list[str]) -> None:
    def config(names: list[str]) -> dict[str, Any]:
        return deployment(1, containers=[{"name": n, "image": "i"} for n in names])

    # The live items come from another applier, so that the applier's own earlier set prunes nothing.
    base = apply(None, config(live), "other")
    result = apply(base, config(applied), now=T1)
    assert [c["name"] for c in result["spec"]["template"]["spec"]["containers"]] == merged


def test_list_items_merge_field_by_field() -> None:
    base = apply(None, deployment(1, containers=[{"name": "web", "image": "a",
                                                  "env": [{"name": "A", "value": "1"}]}]), "other")
    result = apply(base, deployment(1, containers=[{"name": "web", "image": "a",
                                                    "env": [{"name": "B", "value": "2"}]}]), now=T1)
    container = result["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]


def test_status_is_not_tracked_unless_asked() -> None:
    config = {**deployment(1), "status": {"replicas": 1}}
    obj = apply(None, config)
    assert not [p for p in owned(obj, "kubectl") if p.startswith(".status")]
    tracked = apply(None, config, ignored_fields=())
    assert ".status.replicas" in owned(tracked, "kubectl")


def test_server_owned_metadata_is_never_tracked_and_never_conflicts() -> None:
    obj = apply(None, deployment(1))
    obj["metadata"].update(uid="u-1", creationTimestamp=T0, generation=1, resourceVersion="7")
    config = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "web", "namespace": "default", "resourceVersion": "7", "creationTimestamp": None,
                           "uid": "other", "generation": 4, "selfLink": "/x"}}
    again = apply(obj, config, "someone-else", now=T1)
    assert set(entries(again)) == {"kubectl"}  # everything it applied is stripped: no entry at all
    assert owned(again, "kubectl") == owned(obj, "kubectl")
    assert again["metadata"]["uid"] == "other"  # merged like any field: restoring it is the caller's job
    created = update(None, {**deployment(1), "status": {"replicas": 0}}, "ctl")
    assert [p for p in owned(created, "ctl") if p.startswith((".metadata.name", ".metadata.namespace", ".status",
                                                             ".apiVersion", ".kind"))] == []


def test_reapply_is_a_no_op_and_keeps_the_time() -> None:
    obj = apply(None, deployment(2))
    again = apply(obj, deployment(2), now=T3)
    assert again == obj
    assert entries(again)["kubectl"]["time"] == T0


def test_second_applier_with_same_values_gets_an_entry_without_time() -> None:
    obj = apply(None, deployment(2))
    again = apply(obj, deployment(2), "argo", now=T3)
    assert "time" not in entries(again)["argo"]  # the object did not change
    assert ".spec.replicas" in owned(again, "argo")


def test_apply_to_object_without_managed_fields_records_before_first_apply() -> None:
    legacy = deployment(2)
    legacy["metadata"]["resourceVersion"] = "5"
    error = conflict(lambda: apply(legacy, deployment(3), now=T1))
    assert error.message == ('Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: '
                             ".spec.replicas")
    shared = apply(legacy, deployment(2), now=T1)
    assert set(entries(shared)) == {"kubectl", BEFORE_FIRST_APPLY}
    assert entries(shared)[BEFORE_FIRST_APPLY]["operation"] == "Update"
    assert [e["manager"] for e in shared["metadata"]["managedFields"]] == ["kubectl", BEFORE_FIRST_APPLY]


def test_managed_fields_entries_are_sorted_apply_first_then_by_time() -> None:
    obj = apply(None, deployment(2, labels={"a": "1"}), "zeta", now=T2)
    obj = update(obj, with_replicas(obj, 3), "b-updater", now=T3)
    obj = apply(obj, {"apiVersion": "apps/v1", "kind": "Deployment",
                      "metadata": {"name": "web", "labels": {"b": "2"}}}, "alpha", now=T1)
    relabel = copy.deepcopy(obj)
    relabel["metadata"]["labels"]["c"] = "3"
    obj = update(obj, relabel, "a-updater", now=T3)
    assert [(e["manager"], e["operation"]) for e in obj["metadata"]["managedFields"]] == [
        ("alpha", "Apply"), ("zeta", "Apply"), ("a-updater", "Update"), ("b-updater", "Update")]


def test_unchanged_entries_keep_their_stored_fields_v1_verbatim() -> None:
    obj = apply(None, deployment(2))
    odd = {"f:spec": {"f:replicas": {}}, "f:metadata": {"f:labels": {"f:x": {}}}}  # not in canonical order
    obj["metadata"]["managedFields"].append({"manager": "odd", "operation": "Update", "apiVersion": "apps/v1",
                                             "time": T0, "fieldsType": "FieldsV1", "fieldsV1": odd})
    again = apply(obj, deployment(2), now=T1)
    assert list(entries(again)["odd"]["fieldsV1"]) == ["f:spec", "f:metadata"]


def test_kubectl_keeps_client_side_last_applied_annotation_current() -> None:
    obj = apply(None, deployment(2))
    obj["metadata"]["annotations"] = {LAST_APPLIED: '{"old":true}\n', "keep": "me"}
    config = deployment(3)
    config["metadata"]["annotations"] = {"note": "<b>"}
    result = apply(obj, config, force=True, now=T1)
    last = result["metadata"]["annotations"][LAST_APPLIED]
    assert last.endswith("\n") and "\\u003cb\\u003e" in last  # Go's encoding/json escapes HTML
    assert json.loads(last) == config
    assert result["metadata"]["annotations"]["keep"] == "me"
    other = apply(obj, config, "helm", force=True, now=T1)
    assert other["metadata"]["annotations"][LAST_APPLIED] == '{"old":true}\n'


def test_apply_does_not_modify_its_inputs() -> None:
    live = apply(None, deployment(2))
    config = deployment(3)
    live_before, config_before = copy.deepcopy(live), copy.deepcopy(config)
    result = apply(live, config, force=True, now=T1)
    result["spec"]["template"]["spec"]["containers"][0]["image"] = "changed"
    assert live == live_before and config == config_before


def test_live_duplicates_are_replaced_by_an_applied_item_and_otherwise_kept() -> None:
    env = [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}, {"name": "B", "value": "3"}]
    created = update(None, deployment(1, containers=[{"name": "web", "image": "x", "env": env}]), "legacy")
    entry = entries(created)["legacy"]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert entry['k:{"name":"web"}']["f:env"]['k:{"name":"A"}'] == {}  # duplicates: owned whole, nothing below
    config = deployment(1, containers=[{"name": "web", "image": "x", "env": [{"name": "A", "value": "9"}]}])
    fixed = apply(created, config, force=True, now=T1)
    assert fixed["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "A", "value": "9"},
                                                                         {"name": "B", "value": "3"}]
    untouched = apply(created, deployment(1, containers=[{"name": "web", "image": "x"}]), force=True, now=T1)
    assert untouched["spec"]["template"]["spec"]["containers"][0]["env"] == env


def test_module_examples() -> None:
    import doctest

    from gitops_lab.sandbox import applying

    result = doctest.testmod(applying)
    assert result.attempted >= 10 and result.failed == 0


# --------------------------------------------------------------------------------------------------------------
# Server-side apply: errors


@pytest.mark.parametrize(("config", "code", "message"), [
    ({**deployment(1), "metadata": {"name": "web", "managedFields": []}}, 400, "metadata.managedFields must be nil"),
    ({**deployment(1), "apiVersion": "apps/v1beta1"}, 400, "invalid object type: apps/v1beta1, Kind=Deployment"),
    (deployment(1, containers=[{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]), 500,
     'failed to create typed patch object (default/web; apps/v1, Kind=Deployment): '
     '.spec.template.spec.containers: duplicate entries for key [name="a"]'),
    (deployment(1, containers=[{"image": "x"}]), 500,
     "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): "
     '.spec.template.spec.containers: element 0: associative list with keys has an element that omits all key '
     'fields ["name"] (and doesn\'t have default values for any key fields)'),
    ({**deployment(1), "spec": {"replicas": 1, "bogus": True}}, 500,
     "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): "
     ".spec.bogus: field not declared in schema"),
    (deployment(1, containers=[{"name": "a", "env": [{"name": "E"}, {"name": "E"}], "ports": [
        {"containerPort": 80}, {"containerPort": 80, "protocol": "TCP"}]}]), 500,
     "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): errors:\n"
     '  .spec.template.spec.containers[name="a"].env: duplicate entries for key [name="E"]\n'
     '  .spec.template.spec.containers[name="a"].ports: duplicate entries for key '
     '[containerPort=80,protocol="TCP"]'),
], ids=["managed-fields", "wrong-version", "duplicate", "no-key", "undeclared", "two-errors"])
def test_apply_errors(config: dict[str, Any], code: int, message: str) -> None:
    with pytest.raises(statuses.ApiError) as info:
        server_side_apply(None, config, manager="m", force=False, schema=DEPLOYMENT, api_version="apps/v1", now=T0)
    assert (info.value.code, info.value.message) == (code, message)


def test_apply_checks_kind_when_given() -> None:
    with pytest.raises(statuses.ApiError, match="invalid object type: apps/v1, Kind=Deployment"):
        apply(None, deployment(1), kind="StatefulSet")


def test_apply_to_live_with_broken_managed_fields_is_an_internal_error() -> None:
    live = apply(None, deployment(1))
    live["metadata"]["managedFields"][0]["operation"] = "Patch"
    with pytest.raises(statuses.ApiError) as info:
        apply(live, deployment(1))
    assert info.value.code == 500 and "operation must be `Apply` or `Update`" in info.value.message


# --------------------------------------------------------------------------------------------------------------
# Update tracking


def test_create_records_every_field_like_the_apiserver() -> None:
    created = update(None, deployment(1, labels={"app": "web"}), "kubectl-create", now=T0)
    [entry] = created["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"], entry["time"]) == ("kubectl-create", "Update", T0)
    spec = entry["fieldsV1"]["f:spec"]
    # spec, template and containers exist (empty) in a new Go object: no "." for them; labels and items get one.
    assert "." not in spec["f:template"] and "." not in spec["f:template"]["f:spec"]["f:containers"]
    assert entry["fieldsV1"]["f:metadata"]["f:labels"] == {".": {}, "f:app": {}}
    assert spec["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}'] == {".": {}, "f:image": {}, "f:name": {}}


def test_update_moves_changed_fields_and_removed_fields_leave_everyone() -> None:
    obj = apply(None, deployment(2, labels={"app": "web", "tier": "fe"}))
    edited = copy.deepcopy(obj)
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    del edited["metadata"]["labels"]["tier"]
    result = update(obj, edited, "kubectl-edit")
    assert owned(result, "kubectl-edit") == ['.spec.template.spec.containers[name="web"].image']
    assert '.spec.template.spec.containers[name="web"].image' not in owned(result, "kubectl")
    assert ".metadata.labels.tier" not in owned(result, "kubectl")
    assert ".metadata.labels.app" in owned(result, "kubectl")


def test_update_without_change_adds_no_entry_and_keeps_times() -> None:
    obj = apply(None, deployment(2))
    same = update(obj, copy.deepcopy(obj), "kubectl-edit", now=T3)
    assert same["metadata"]["managedFields"] == obj["metadata"]["managedFields"]


def test_repeated_updates_accumulate_in_one_entry() -> None:
    obj = update(None, deployment(1), "ctl", now=T0)
    obj = update(obj, with_replicas(obj, 2), "ctl", now=T1)
    labelled = copy.deepcopy(obj)
    labelled["metadata"]["labels"] = {"x": "y"}
    obj = update(obj, labelled, "ctl", now=T2)
    [entry] = obj["metadata"]["managedFields"]
    assert entry["time"] == T2
    assert {".spec.replicas", ".metadata.labels.x"} <= set(owned(obj, "ctl"))


def test_update_of_an_untracked_object_stays_untracked() -> None:
    legacy = deployment(2)
    legacy["metadata"]["resourceVersion"] = "3"
    assert "managedFields" not in update(legacy, with_replicas(legacy, 3), "ctl")["metadata"]


@pytest.mark.parametrize("reset", [[], [{}]], ids=["empty-list", "one-empty-entry"])
def test_request_can_clear_managed_fields(reset: list[Any]) -> None:
    obj = apply(None, deployment(2))
    cleared = copy.deepcopy(obj)
    cleared["metadata"]["managedFields"] = reset
    assert "managedFields" not in update(obj, cleared, "ctl")["metadata"]


def test_request_can_rewrite_managed_fields_but_not_through_a_subresource() -> None:
    obj = apply(None, deployment(2))
    rewritten = copy.deepcopy(obj)
    rewritten["metadata"]["managedFields"][0]["manager"] = "renamed"
    assert set(entries(update(obj, rewritten, "ctl"))) == {"renamed"}
    assert set(entries(update(obj, rewritten, "ctl", subresource="status"))) == {"kubectl"}


def test_update_falls_back_to_stored_managed_fields_when_request_has_none_or_garbage() -> None:
    obj = apply(None, deployment(2))
    for garbage in (None, [{"manager": "x", "operation": "Bogus"}]):
        new = with_replicas(obj, 3)
        new["metadata"]["managedFields"] = garbage
        result = update(obj, new, "ctl")
        assert set(entries(result)) == {"kubectl", "ctl"}


def test_status_subresource_update_is_its_own_entry() -> None:
    obj = apply(None, deployment(2))
    with_status = {**copy.deepcopy(obj), "status": {"replicas": 2}}
    result = update(obj, with_status, "kube-controller-manager", subresource="status", ignored_fields=(("spec",),))
    entry = entries(result)["kube-controller-manager"]
    assert entry["subresource"] == "status" and entry["fieldsV1"] == {"f:status": {".": {}, "f:replicas": {}}}


def test_update_managers_are_capped_into_ancient_changes() -> None:
    obj = update(None, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"seed": "x"}},
                 "creator", schema=CONFIGMAP, now="2025-01-01T00:00:00Z")
    for n in range(12):
        new = copy.deepcopy(obj)
        new.setdefault("data", {})[f"k{n}"] = "v"
        obj = update(obj, new, f"writer-{n:02d}", schema=CONFIGMAP, now=f"2025-01-01T01:{n:02d}:00Z")
    managers = [e["manager"] for e in obj["metadata"]["managedFields"]]
    assert len(managers) == 10 and managers[0] == ANCIENT_CHANGES
    # The four oldest of the thirteen updaters became one, with the newest time of those folded in.
    assert not {"creator", "writer-00", "writer-01", "writer-02"} & set(managers)
    assert {"writer-03", "writer-11"} <= set(managers)
    ancient = entries(obj)[ANCIENT_CHANGES]
    assert ancient["time"] == "2025-01-01T01:02:00Z"
    assert set(owned(obj, ANCIENT_CHANGES)) == {".data", ".data.seed", ".data.k0", ".data.k1", ".data.k2"}


def test_update_with_untypable_object_drops_managed_fields() -> None:
    obj = apply(None, deployment(1))
    broken = copy.deepcopy(obj)
    broken["spec"]["template"]["spec"]["containers"].append({"image": "nameless"})
    assert "managedFields" not in update(obj, broken, "ctl")["metadata"]


def test_custom_resource_without_schema_is_deduced() -> None:
    crd_schema = schemas.for_type(None, {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    config = {"apiVersion": "x.io/v1", "kind": "Widget", "metadata": {"name": "w"},
              "spec": {"size": 1, "tags": ["a"], "nested": {"a": 1}}}
    obj = apply(None, config, schema=crd_schema)
    # Unknown fields are map keys: each is a member, with what it holds below it (lists are atomic).
    assert owned(obj, "kubectl") == [".spec", ".spec.nested", ".spec.size", ".spec.tags", ".spec.nested.a"]
    created = update(None, config, "ctl", schema=crd_schema)
    assert to_fields_v1(from_fields_v1(entries(created)["ctl"]["fieldsV1"]))["f:spec"]["."] == {}


# --------------------------------------------------------------------------------------------------------------
# Field manager names


@pytest.mark.parametrize(("user_agent", "manager"), [
    ("kubectl-edit/v1.37.1 (linux/amd64) kubernetes/abc", "kubectl-edit"),
    ("kubectl/v1.37.1 (linux/amd64) kubernetes/abc", "kubectl"),
    ("OpenAPI-Generator/31.0.0/python", "OpenAPI-Generator"),
    ("no-slash", "no-slash"),
    ("tab\there/1", "tabhere"),
    ("x" * 200 + "/1", "x" * 128),
    ("é" * 100, "é" * 64),
    ("", ""),
    (None, ""),
])
def test_manager_from_user_agent(user_agent: str | None, manager: str) -> None:
    assert manager_from_user_agent(user_agent) == manager


def test_manager_or_user_agent_prefers_the_field_manager() -> None:
    assert manager_or_user_agent("flux", "kubectl/v1") == "flux"
    assert manager_or_user_agent(None, "kubectl/v1") == "kubectl"


# --------------------------------------------------------------------------------------------------------------
# Invariants

_STRIPPED_NAMES = FieldSet.from_paths([("f:apiVersion",), ("f:kind",), ("f:metadata", "f:name"),
                                       ("f:metadata", "f:namespace")])


_label_maps = st.dictionaries(st.sampled_from(["app", "tier", "team", "x.io/y"]), st.sampled_from(["a", "b", "<c>"]),
                              min_size=1, max_size=4)
# Empty maps and lists are left out: pruning drops them and merging brings them back, which the Go API types hide
# by omitting empty fields (the caller's normalisation, not this module's).


def _name(item: Any) -> str:
    return str(item["name"])


_containers = st.lists(
    st.fixed_dictionaries({"name": st.sampled_from(["web", "log", "db", "proxy"]),
                           "image": st.sampled_from(["nginx", "busybox"]),
                           "env": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["A", "B", "C"]),
                                                                  "value": st.sampled_from(["1", "2"])}),
                                           min_size=1, max_size=3, unique_by=_name)}),
    min_size=1, max_size=3, unique_by=_name)
_configs = st.builds(lambda r, labels, cs: deployment(r, containers=cs, labels=labels),
                     st.one_of(st.none(), st.integers(0, 5)), _label_maps, _containers)


@settings(max_examples=60, deadline=None)
@given(_configs, _configs)
def test_applying_twice_changes_nothing(first: dict[str, Any], second: dict[str, Any]) -> None:
    obj = apply(None, first)
    obj = apply(obj, second, now=T1)
    again = apply(obj, second, now=T2)
    assert again == obj
    # The applier owns exactly what its last configuration sets, and the object holds those values.
    expected = field_set(second, DEPLOYMENT).difference(_STRIPPED_NAMES)
    assert from_fields_v1(entries(obj)["kubectl"]["fieldsV1"]) == expected
    assert obj["spec"]["template"]["spec"]["containers"] == second["spec"]["template"]["spec"]["containers"]


@settings(max_examples=60, deadline=None)
@given(_configs, _configs)
def test_two_appliers_never_lose_each_others_fields(mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    both = apply(apply(None, mine), theirs, "other", force=True, now=T1)
    kubectl = from_fields_v1(entries(both)["kubectl"]["fieldsV1"]) if "kubectl" in entries(both) else FieldSet()
    other = from_fields_v1(entries(both)["other"]["fieldsV1"])
    mine_set = field_set(mine, DEPLOYMENT).difference(_STRIPPED_NAMES)
    assert other == field_set(theirs, DEPLOYMENT).difference(_STRIPPED_NAMES)
    assert not kubectl.difference(mine_set)  # the first applier keeps only what it applied ...
    assert not mine_set.difference(kubectl.union(other))  # ... and what it loses, the forcing applier has
    names = {c["name"] for c in both["spec"]["template"]["spec"]["containers"]}
    assert names == {c["name"] for c in mine["spec"]["template"]["spec"]["containers"]} | {
        c["name"] for c in theirs["spec"]["template"]["spec"]["containers"]}


@settings(max_examples=60, deadline=None)
@given(_configs, _configs)
def test_pruning_removes_nothing_the_applier_still_applies(first: dict[str, Any], extra: dict[str, Any]) -> None:
    # server_side_apply skips pruning when the new set keeps every path of the last one; check that it may.
    from gitops_lab.sandbox import applying

    node = applying._Node(DEPLOYMENT)
    live = apply(None, first)
    config = applying._merge(copy.deepcopy(first), extra, node)  # keeps (nearly) every path of ``first``
    managers = applying._decode(live["metadata"]["managedFields"])
    [key] = managers
    last = managers[key].fields
    managers[key].fields = field_set(config, DEPLOYMENT)
    merged = applying._merge(applying._without_managed_fields(live), config, node)
    if not last.difference(managers[key].fields):
        assert applying._prune(merged, managers, last, node) == merged
