"""Drift diffs: desired against live objects made by the sandbox's own apply and update model, table-driven.

Live objects are produced as the API server produces them: server-side apply by the reconciler
("kustomize-controller"), defaults, then Updates by the managers kubectl uses (``kubectl-edit``, ``kubectl-label``,
``kubectl`` on the ``scale`` subresource, …), each through ``sandbox.applying``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lab.drift import diffs
from gitops_lab.sandbox import applying, defaults, patching, registry, schemas, statuses

Obj = dict[str, Any]
NOW, LATER = "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"
OWNER_LABELS = {"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
KEYS = {(rt.api_version, rt.kind): rt.key for rt in registry.builtin_types().values()}


def deployment(replicas: int | None = 2, **container: Any) -> Obj:
    spec: Obj = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                              "ports": [{"containerPort": 80}],
                                              "resources": {"requests": {"cpu": 0.1, "memory": "64Mi"}},
                                              **container}]}},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod", "labels": {"app": "web", **OWNER_LABELS}},
            "spec": spec}


def service() -> Obj:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "prod", "labels": {"app": "web", **OWNER_LABELS}},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}


def configmap(**data: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "prod", "labels": dict(OWNER_LABELS)},
            "data": data or {"greeting": "hello"}}


def _schema(obj: Obj) -> schemas.Schema:
    found = diffs.builtin_schema(obj["apiVersion"], obj["kind"])
    assert found is not None
    return found


def applied(desired: Obj, live: Obj | None = None, *, manager: str = diffs.RECONCILER, now: str = NOW) -> Obj:
    """What the API server stores after a forced server-side apply of ``desired`` by ``manager``."""
    obj = applying.server_side_apply(live, desired, manager=manager, force=True, schema=_schema(desired),
                                     api_version=desired["apiVersion"], now=now)
    defaults.apply_defaults(KEYS[(desired["apiVersion"], desired["kind"])], obj)
    obj["metadata"].setdefault("resourceVersion", "1")
    if desired["kind"] == "Service":
        obj["spec"].setdefault("clusterIP", "10.96.0.10")  # allocated by the API server, owned by no one
        obj["spec"].setdefault("clusterIPs", ["10.96.0.10"])
    return obj


def created(obj: Obj, *, manager: str) -> Obj:
    """What the API server stores after a create (an Update operation: defaults are the creator's too)."""
    new = copy.deepcopy(obj)
    defaults.apply_defaults(KEYS[(obj["apiVersion"], obj["kind"])], new)
    stored = applying.track_update(None, new, manager=manager, schema=_schema(obj), api_version=obj["apiVersion"],
                                   now=NOW)
    stored["metadata"]["resourceVersion"] = "1"
    return stored


def updated(live: Obj, change: Callable[[Obj], None], *, manager: str, subresource: str = "") -> Obj:
    """What the API server stores after ``manager`` changed ``live`` (kubectl edit, label, patch, scale…)."""
    new = copy.deepcopy(live)
    change(new)
    defaults.apply_defaults(KEYS[(live["apiVersion"], live["kind"])], new)
    return applying.track_update(live, new, manager=manager, schema=_schema(live), api_version=live["apiVersion"],
                                 now=LATER, subresource=subresource)


def json_patched(live: Obj, ops: list[Obj], *, manager: str = diffs.RECONCILER) -> Obj:
    body = json.dumps(ops).encode()
    new = patching.apply_patch("application/json-patch+json", copy.deepcopy(live), body, _schema(live))
    assert isinstance(new, dict)

    def replace(obj: Obj) -> None:
        obj.clear()
        obj.update(new)

    return updated(live, replace, manager=manager)


def summary(drift: diffs.ObjectDrift | None) -> set[tuple[str, str, str | None, str]]:
    assert drift is not None, "expected drift, found none"
    return {(f.path, f.kind, f.manager, f.subresource) for f in drift.fields}


def setter(*path: str | int, value: Any) -> Callable[[Obj], None]:
    def change(obj: Obj) -> None:
        node: Any = obj
        for step in path[:-1]:
            node = node[step] if isinstance(step, int) else node.setdefault(step, {})
        if isinstance(node, list) and path[-1] == len(node):
            node.append(value)
        else:
            node[path[-1]] = value
    return change


def deleter(*path: str | int) -> Callable[[Obj], None]:
    def change(obj: Obj) -> None:
        node: Any = obj
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]
    return change


CONTAINER = ("spec", "template", "spec", "containers", 0)
WEB = 'spec.template.spec.containers[name="web"]'


# --------------------------------------------------------------------------------------------------------------
# No drift


@pytest.mark.parametrize("desired", [
    deployment(),
    deployment(replicas=None),
    deployment(env=[], command=["nginx", "-g", "daemon off;"], resources={"limits": {"cpu": "0.5", "memory": "1024Mi"}}),
    service(),
    configmap(a="1", b="2"),
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "prod"},
     "stringData": {"password": "hunter2"}, "data": {"user": "YWRtaW4="}},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod", "labels": dict(OWNER_LABELS)}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "empty", "namespace": "prod", "annotations": {}},
     "data": {}},
], ids=["deployment", "deployment-without-replicas", "deployment-quantities-and-empties", "service", "configmap",
        "secret-stringdata", "namespace", "empty-configmap"])
def test_no_drift_right_after_apply(desired: Obj) -> None:
    live = applied(desired)
    assert diffs.diff_object(desired, live) is None


def test_fields_the_schema_does_not_know_are_not_drift() -> None:
    desired = deployment()
    live = applied(desired)
    desired["spec"]["replica"] = 3  # a typo the API server drops (with a warning)
    assert diffs.diff_object(desired, live) is None


def test_a_field_git_sets_in_another_spelling_is_the_same() -> None:
    desired = deployment()
    live = applied(desired)
    assert live["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "100m"
    assert diffs.diff_object(desired, live) is None
    desired["spec"]["replicas"] = 2.0
    assert diffs.diff_object(desired, live) is None


# --------------------------------------------------------------------------------------------------------------
# Missing and untypable objects


def test_a_missing_object_is_reported_missing_with_its_inventory_id() -> None:
    drift = diffs.diff_object(deployment(), None)
    assert drift is not None
    assert (drift.state, drift.fields, drift.managers) == ("missing", (), ())
    assert (drift.id, drift.api_version, drift.kind, drift.namespace, drift.name) == (
        "prod_web_apps_Deployment", "apps/v1", "Deployment", "prod", "web")
    assert drift.describe() == "Deployment prod/web is missing"
    assert drift.foreign()


def test_a_desired_object_that_cannot_be_typed_is_changed_so_the_apply_reports_why() -> None:
    desired = deployment()
    live = applied(desired)
    desired["spec"]["template"]["spec"]["containers"].append({"image": "busybox"})  # no name: no key
    drift = diffs.diff_object(desired, live)
    assert drift is not None and drift.state == "changed" and drift.fields == ()
    assert "omits all key fields" in drift.note and "apply it to see why" in drift.note


# --------------------------------------------------------------------------------------------------------------
# Hand edits, as the kubectl commands record them


def _edit(desired: Obj, change: Callable[[Obj], None], manager: str, subresource: str = "") -> Obj:
    return updated(applied(desired), change, manager=manager, subresource=subresource)


@pytest.mark.parametrize(("desired", "change", "manager", "subresource", "expected"), [
    pytest.param(deployment(), setter("spec", "replicas", value=5), "kubectl", "scale",
                 {("spec.replicas", "changed", "kubectl", "scale")}, id="kubectl-scale"),
    pytest.param(deployment(), setter("spec", "replicas", value=4), "kubectl-edit", "",
                 {("spec.replicas", "changed", "kubectl-edit", "")}, id="kubectl-edit-replicas"),
    pytest.param(deployment(), setter("metadata", "labels", "team", value="blue"), "kubectl-label", "",
                 {("metadata.labels.team", "added", "kubectl-label", "")}, id="kubectl-label"),
    pytest.param(deployment(), setter("metadata", "annotations", "note", value="hi"), "kubectl-annotate", "",
                 {("metadata.annotations.note", "added", "kubectl-annotate", "")}, id="kubectl-annotate"),
    pytest.param(deployment(), setter(*CONTAINER, "image", value="nginx:1.28"), "kubectl-set", "",
                 {(f"{WEB}.image", "changed", "kubectl-set", "")}, id="kubectl-set-image"),
    pytest.param(deployment(), setter(*CONTAINER, "env", value=[{"name": "FOO", "value": "bar"}]), "kubectl-set", "",
                 {(f"{WEB}.env", "added", "kubectl-set", "")}, id="kubectl-set-env"),
    pytest.param(deployment(), setter("spec", "minReadySeconds", value=5), "kubectl-patch", "",
                 {("spec.minReadySeconds", "added", "kubectl-patch", "")}, id="kubectl-patch"),
    pytest.param(deployment(), setter(*CONTAINER, "resources", "limits", value={"cpu": "1"}), "kubectl-set", "",
                 {(f"{WEB}.resources.limits", "added", "kubectl-set", "")}, id="kubectl-set-resources"),
    pytest.param(deployment(), setter(*CONTAINER, "ports", 0, "containerPort", value=8080), "kubectl-edit", "",
                 {(f'{WEB}.ports[containerPort=80,protocol="TCP"]', "removed", None, ""),
                  (f'{WEB}.ports[containerPort=8080,protocol="TCP"]', "added", "kubectl-edit", "")},
                 id="kubectl-edit-port"),
    pytest.param(deployment(), deleter("metadata", "labels", "app"), "kubectl-label", "",
                 {("metadata.labels.app", "removed", None, "")}, id="label-removed"),
    pytest.param(deployment(), setter("spec", "progressDeadlineSeconds", value=300), "kubectl-edit", "",
                 {("spec.progressDeadlineSeconds", "added", "kubectl-edit", "")}, id="edited-default"),
    pytest.param(deployment(), setter("spec", "replicas", value=7), "kube-controller-manager", "",
                 {("spec.replicas", "changed", "kube-controller-manager", "")}, id="controller-changes-git-field"),
    pytest.param(deployment(), setter("spec", "paused", value=True), "kubectl-rollout", "",
                 {("spec.paused", "added", "kubectl-rollout", "")}, id="kubectl-rollout-pause"),
    pytest.param(deployment(), setter("spec", "template", "metadata", "annotations",
                                      value={"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:05:00Z"}),
                 "kubectl-rollout", "",
                 {("spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt", "added", "kubectl-rollout",
                   "")}, id="kubectl-rollout-restart"),
    pytest.param(service(), setter("spec", "ports", 1, value={"name": "https", "port": 443, "targetPort": 8443}),
                 "kubectl-edit", "", {('spec.ports[port=443,protocol="TCP"]', "added", "kubectl-edit", "")},
                 id="service-port-added"),
    pytest.param(configmap(), setter("data", "extra", value="x"), "kubectl-edit", "",
                 {("data.extra", "added", "kubectl-edit", "")}, id="configmap-key-added"),
    pytest.param(configmap(), setter("data", "greeting", value="bye"), "kubectl-client-side-apply", "",
                 {("data.greeting", "changed", "kubectl-client-side-apply", "")}, id="client-side-apply"),
    pytest.param(configmap(), setter("data", "extra", value="x"), "kubectl", "",
                 {("data.extra", "added", "kubectl", "")}, id="kubectl-update"),
])
def test_hand_edits_are_drift_with_their_manager(desired: Obj, change: Callable[[Obj], None], manager: str,
                                                 subresource: str, expected: set[tuple[str, str, str | None, str]],
                                                 ) -> None:
    live = _edit(desired, change, manager, subresource)
    drift = diffs.diff_object(desired, live)
    assert summary(drift) == expected
    assert drift is not None and drift.state == "changed" and drift.foreign()
    assert drift.managers == tuple(dict.fromkeys(m for _, _, m, _ in sorted(expected) if m))


@pytest.mark.parametrize(("desired", "change", "manager", "subresource"), [
    pytest.param(deployment(replicas=None), setter("spec", "replicas", value=5), "kubectl", "scale",
                 id="scale-when-git-leaves-replicas-alone"),
    pytest.param(deployment(replicas=None), setter("spec", "replicas", value=5), "horizontal-pod-autoscaler", "",
                 id="autoscaler"),
    pytest.param(deployment(), setter("metadata", "labels", "team", value="blue"), "my-operator", "",
                 id="label-of-another-manager"),
    pytest.param(deployment(), setter("metadata", "annotations", "deployment.kubernetes.io/revision", value="3"),
                 "kube-controller-manager", "", id="controller-annotation"),
    pytest.param(service(), setter("spec", "clusterIP", value="10.96.0.10"), "kubectl-edit", "",
                 id="unchanged-allocation"),
    pytest.param(deployment(), setter("spec", "replicas", value=2), "kubectl-edit", "", id="same-value"),
])
def test_fields_others_own_or_that_equal_git_are_not_drift(desired: Obj, change: Callable[[Obj], None],
                                                            manager: str, subresource: str) -> None:
    assert diffs.diff_object(desired, _edit(desired, change, manager, subresource)) is None


def test_server_defaults_owned_by_no_one_are_not_drift_but_a_changed_one_is() -> None:
    desired = deployment()
    live = applied(desired)
    spec = live["spec"]
    assert (spec["progressDeadlineSeconds"], spec["template"]["spec"]["containers"][0]["terminationMessagePath"]) == (
        600, "/dev/termination-log")
    assert diffs.diff_object(desired, live) is None
    edited = updated(live, setter(*CONTAINER, "terminationMessagePath", value="/tmp/log"), manager="kubectl-edit")
    assert summary(diffs.diff_object(desired, edited)) == {
        (f"{WEB}.terminationMessagePath", "added", "kubectl-edit", "")}


def test_an_object_created_by_hand_then_adopted_keeps_its_defaults_but_not_its_extra_fields() -> None:
    by_hand = configmap(greeting="hello", extra="x")
    by_hand["metadata"]["labels"] = {"made": "by-hand"}
    live = applied(configmap(greeting="hello"), created(by_hand, manager="kubectl-create"))
    assert summary(diffs.diff_object(configmap(greeting="hello"), live)) == {
        ("data.extra", "added", "kubectl-create", ""), ("metadata.labels.made", "added", "kubectl-create", "")}

    desired = deployment()
    adopted = applied(desired, created(desired, manager="kubectl-create"))
    owners = {e["manager"] for e in adopted["metadata"]["managedFields"]}
    assert owners == {"kubectl-create", diffs.RECONCILER}  # the defaults stay kubectl-create's
    assert diffs.diff_object(desired, adopted) is None


def test_a_field_git_stopped_setting_is_drift_of_the_reconciler_not_foreign() -> None:
    old = deployment()
    old["metadata"]["labels"]["tier"] = "frontend"
    old["spec"]["minReadySeconds"] = 10
    live = applied(old)
    drift = diffs.diff_object(deployment(), live)
    assert summary(drift) == {("metadata.labels.tier", "added", diffs.RECONCILER, ""),
                              ("spec.minReadySeconds", "added", diffs.RECONCILER, "")}
    assert drift is not None and not drift.foreign()


def test_a_value_git_changed_is_the_reconcilers_and_a_default_it_left_is_no_drift() -> None:
    old = deployment(replicas=3)
    old["spec"]["revisionHistoryLimit"] = 10  # the default, set explicitly
    live = applied(old)
    drift = diffs.diff_object(deployment(replicas=4), live)
    assert summary(drift) == {("spec.replicas", "changed", diffs.RECONCILER, "")}
    assert drift is not None and not drift.foreign()


@pytest.mark.parametrize(("where", "key"), [("annotations", applying.LAST_APPLIED),
                                            ("annotations", "fluxcd.io/sync-checksum"),
                                            ("labels", "fluxcd.io/sync-gc-mark")])
def test_flux_cleanup_metadata_is_drift_whoever_owns_it(where: str, key: str) -> None:
    live = _edit(configmap(), setter("metadata", where, key, value="x"), "some-tool")
    assert summary(diffs.diff_object(configmap(), live)) == {(f"metadata.{where}.{key}", "added", "some-tool", "")}


@pytest.mark.parametrize("holder", ["labels", "annotations"])
def test_ssa_merge_keeps_foreign_fields_but_not_changed_ones(holder: str) -> None:
    desired = configmap()
    desired["metadata"].setdefault(holder, {})[diffs.SSA_KEY] = diffs.MERGE
    live = _edit(desired, setter("data", "extra", value="x"), "kubectl-edit")
    assert diffs.diff_object(desired, live) is None
    live = updated(live, setter("data", "greeting", value="bye"), manager="kubectl-edit")
    assert summary(diffs.diff_object(desired, live)) == {("data.greeting", "changed", "kubectl-edit", "")}


def test_override_managers_are_taken_over_too() -> None:
    live = _edit(configmap(), setter("data", "extra", value="x"), "helm")
    assert diffs.diff_object(configmap(), live) is None
    rules = diffs.Rules(override_managers=("helm",))
    assert summary(diffs.diff_object(configmap(), live, rules=rules)) == {("data.extra", "added", "helm", "")}


@pytest.mark.parametrize(("manager", "operation", "subresource", "taken"), [
    ("kubectl", "Apply", "", True),
    ("kubectl", "Update", "", True),
    ("kubectl-edit", "Update", "", True),
    ("kubectl-client-side-apply", "Update", "", True),
    ("kubectl", "Update", "scale", False),
    ("before-first-apply", "Update", "", True),
    ("kustomize-controller", "Update", "", True),
    ("kustomize-controller", "Apply", "", False),
    ("kube-controller-manager", "Update", "", False),
    ("helm", "Update", "", False),
])
def test_which_entries_the_reconciler_takes_over(manager: str, operation: str, subresource: str, taken: bool) -> None:
    owner = diffs.Owner(manager, operation, subresource, NOW, applying.FieldSet())
    assert diffs.RULES.takes_over(owner) is taken
    assert diffs.RULES.is_reconciler(owner) is (manager == diffs.RECONCILER and operation == "Apply")


def test_a_container_git_does_not_declare_goes_as_a_whole() -> None:
    desired = deployment()
    sidecar = {"name": "sidecar", "image": "busybox", "command": ["sleep", "1d"]}
    live = _edit(desired, lambda o: o["spec"]["template"]["spec"]["containers"].append(sidecar), "kubectl-edit")
    drift = diffs.diff_object(desired, live)
    assert summary(drift) == {('spec.template.spec.containers[name="sidecar"]', "added", "kubectl-edit", "")}
    assert drift is not None and drift.fields[0].pointer == "/spec/template/spec/containers/1"
    assert drift.fields[0].live["image"] == "busybox"


def test_a_label_added_under_a_map_a_controller_created_goes_alone() -> None:
    desired = deployment()  # Git sets no annotations; the deployment controller creates the map
    live = _edit(desired, setter("metadata", "annotations", value={"deployment.kubernetes.io/revision": "1"}),
                 "kube-controller-manager")
    live = updated(live, setter("metadata", "annotations", "note", value="hi"), manager="kubectl-annotate")
    assert summary(diffs.diff_object(desired, live)) == {("metadata.annotations.note", "added", "kubectl-annotate", "")}


# --------------------------------------------------------------------------------------------------------------
# Custom resources


CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "widgets.example.com"},
       "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Widget", "plural": "widgets"},
                "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                    "type": "object", "properties": {"spec": {"type": "object", "properties": {
                        "size": {"type": "integer", "default": 1}, "color": {"type": "string"}}}}}}}]}}


def test_custom_resources_use_their_crd_schema_and_defaults() -> None:
    lookup = diffs.crd_schema_lookup([CRD])
    schema = lookup("example.com/v1", "Widget")
    assert schema is not None and lookup("example.com/v2", "Widget") is None
    desired = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "prod"},
               "spec": {"color": "red"}}
    live = applying.server_side_apply(None, desired, manager=diffs.RECONCILER, force=True, schema=schema,
                                      api_version="example.com/v1", now=NOW)
    defaults.apply_schema_defaults(schema, live)
    live["metadata"]["resourceVersion"] = "1"
    assert live["spec"]["size"] == 1
    assert diffs.diff_object(desired, live, schema_lookup=lookup) is None
    edited = applying.track_update(live, {**live, "spec": {"color": "blue", "size": 3}}, manager="kubectl-edit",
                                   schema=schema, api_version="example.com/v1", now=LATER)
    assert summary(diffs.diff_object(desired, edited, schema_lookup=lookup)) == {
        ("spec.color", "changed", "kubectl-edit", ""), ("spec.size", "added", "kubectl-edit", "")}


# --------------------------------------------------------------------------------------------------------------
# Undoing drift


def test_removing_the_added_fields_and_reapplying_leaves_no_drift() -> None:
    desired = deployment()
    live = applied(desired)
    for change, manager in [(setter("metadata", "labels", "team", value="blue"), "kubectl-label"),
                            (setter(*CONTAINER, "env", value=[{"name": "A", "value": "1"}]), "kubectl-set"),
                            (setter("spec", "replicas", value=5), "kubectl-edit"),
                            (setter("spec", "template", "spec", "containers", 1,
                                    value={"name": "b", "image": "busybox"}), "kubectl-edit"),
                            (setter("spec", "template", "spec", "containers", 2,
                                    value={"name": "c", "image": "busybox"}), "kubectl-edit")]:
        live = updated(live, change, manager=manager)
    drift = diffs.diff_object(desired, live)
    assert drift is not None
    ops = diffs.drift_fields_to_remove(drift)
    removes = [op["path"] for op in ops if op["op"] == "remove"]
    assert removes == ["/spec/template/spec/containers/2", "/spec/template/spec/containers/1",
                       "/spec/template/spec/containers/0/env", "/metadata/labels/team"]
    assert [op["op"] for op in ops] == ["test"] * 4 + ["remove"] * 4
    corrected = applied(desired, json_patched(live, ops), now=LATER)
    assert diffs.diff_object(desired, corrected) is None


def test_the_removal_patch_fails_against_an_object_changed_since() -> None:
    desired = configmap()
    live = _edit(desired, setter("data", "extra", value="x"), "kubectl-edit")
    drift = diffs.diff_object(desired, live)
    assert drift is not None
    newer = updated(live, setter("data", "extra", value="y"), manager="kubectl-edit")
    with pytest.raises(statuses.ApiError) as failed:
        json_patched(newer, diffs.drift_fields_to_remove(drift))
    assert failed.value.code == 422


def test_no_removals_without_added_fields() -> None:
    live = _edit(configmap(), setter("data", "greeting", value="bye"), "kubectl-edit")
    drift = diffs.diff_object(configmap(), live)
    assert drift is not None and diffs.drift_fields_to_remove(drift) == []


# --------------------------------------------------------------------------------------------------------------
# Words and ids


def test_descriptions_say_what_and_who() -> None:
    live = _edit(deployment(), setter("spec", "replicas", value=5), "kubectl", "scale")
    live = updated(live, setter("metadata", "labels", "team", value="blue"), manager="kubectl-label")
    live = updated(live, deleter("metadata", "labels", "app"), manager="kubectl-label")
    drift = diffs.diff_object(deployment(), live)
    assert drift is not None
    assert [f.describe() for f in drift.fields] == [
        "metadata.labels.app: removed by unknown, Git has 'web'",
        "metadata.labels.team: 'blue' added by kubectl-label, not in Git",
        "spec.replicas: 2 → 5 by kubectl (scale)",
    ]
    assert drift.describe().startswith("Deployment prod/web: metadata.labels.app: removed")
    assert drift.managers == ("kubectl-label", "kubectl")


@pytest.mark.parametrize(("obj", "expected"), [
    ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod"}},
     "prod_web_apps_Deployment"),
    ({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "prod"}}, "prod_web__Service"),
    ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}}, "_prod__Namespace"),
    ({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:view"}},
     "_system__view_rbac.authorization.k8s.io_ClusterRole"),
    ({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
      "metadata": {"name": "apps", "namespace": "flux-system"}},
     "flux-system_apps_kustomize.toolkit.fluxcd.io_Kustomization"),
])
def test_inventory_ids_are_fluxs(obj: Obj, expected: str) -> None:
    assert diffs.inventory_id(obj) == expected


# --------------------------------------------------------------------------------------------------------------
# Properties


NAMES = st.text(alphabet="abcdefghij", min_size=1, max_size=6)
CPU = st.sampled_from(["0.1", "100m", "250m", 0.5, "1", 2, "1500m"])
MEMORY = st.sampled_from(["64Mi", "1Gi", "1024Mi", "128M", "0.5Gi"])


@st.composite
def deployments(draw: st.DrawFn) -> Obj:
    names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    containers = []
    for name in names:
        container: Obj = {"name": name, "image": draw(st.sampled_from(["nginx:1.27", "busybox", "app:latest"]))}
        ports = draw(st.lists(st.integers(1, 65535), max_size=2, unique=True))
        if ports:
            container["ports"] = [{"containerPort": p} for p in ports]
        env = draw(st.lists(NAMES, max_size=2, unique=True))
        if env:
            container["env"] = [{"name": e.upper(), "value": draw(NAMES)} for e in env]
        if draw(st.booleans()):
            container["resources"] = {"requests": {"cpu": draw(CPU), "memory": draw(MEMORY)}}
        containers.append(container)
    obj = deployment(replicas=draw(st.none() | st.integers(0, 5)))
    obj["metadata"]["labels"].update(draw(st.dictionaries(NAMES, NAMES, max_size=3)))
    if draw(st.booleans()):
        obj["metadata"]["annotations"] = draw(st.dictionaries(NAMES, NAMES, max_size=2))
    obj["spec"]["template"]["spec"]["containers"] = containers
    return obj


@settings(max_examples=60, deadline=None)
@given(deployments())
def test_an_applied_object_has_no_drift(desired: Obj) -> None:
    assert diffs.diff_object(desired, applied(desired)) is None


@settings(max_examples=60, deadline=None)
@given(deployments(), st.data())
def test_an_edited_scalar_git_sets_is_exactly_the_drift(desired: Obj, data: st.DataObject) -> None:
    live = applied(desired)
    index = data.draw(st.integers(0, len(desired["spec"]["template"]["spec"]["containers"]) - 1))
    name = desired["spec"]["template"]["spec"]["containers"][index]["name"]
    live = updated(live, setter("spec", "template", "spec", "containers", index, "image", value="edited:1"),
                   manager="kubectl-edit")
    assert summary(diffs.diff_object(desired, live)) == {
        (f'spec.template.spec.containers[name="{name}"].image', "changed", "kubectl-edit", "")}


def test_a_map_a_hand_created_goes_field_by_field_when_another_manager_added_to_it() -> None:
    desired = deployment()
    live = _edit(desired, setter(*CONTAINER, "resources", "limits", value={"cpu": "1"}), "kubectl-set")
    live = updated(live, setter(*CONTAINER, "resources", "limits", "memory", value="1Gi"), manager="vpa-updater")
    drift = diffs.diff_object(desired, live)
    assert summary(drift) == {(f"{WEB}.resources.limits.cpu", "added", "kubectl-set", "")}
    assert drift is not None and drift.fields[0].pointer == "/spec/template/spec/containers/0/resources/limits/cpu"


def test_kinds_the_sandbox_does_not_serve_compare_quantities_by_value() -> None:
    """A StatefulSet on a real cluster: its quantities come back canonical, its defaults unknown here."""
    desired = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "prod"},
               "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                        "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [
                            {"name": "db", "image": "postgres:17",
                             "resources": {"requests": {"cpu": 0.25, "memory": "1024Mi"}}}]}}}}
    schema = _schema(desired)
    live = applying.server_side_apply(None, desired, manager=diffs.RECONCILER, force=True, schema=schema,
                                      api_version="apps/v1", now=NOW)
    live["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] = {"cpu": "250m", "memory": "1Gi"}
    live["spec"].update(replicas=1, podManagementPolicy="OrderedReady")
    assert diffs.diff_object(desired, live) is None
    live["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "300m"
    assert summary(diffs.diff_object(desired, live)) == {
        ('spec.template.spec.containers[name="db"].resources.requests.cpu', "changed", diffs.RECONCILER, "")}


def test_a_field_shared_with_someone_who_applied_the_same_value_follows_git() -> None:
    desired = configmap(greeting="hello")
    live = applied(desired)
    live = applied({**configmap(greeting="hello"), "metadata": {"name": "settings", "namespace": "prod"}}, live,
                   manager="kubectl", now=LATER)
    for entry in live["metadata"]["managedFields"]:
        entry.setdefault("time", LATER)  # the later writer
    owners = {e["manager"]: e["fieldsV1"] for e in live["metadata"]["managedFields"]}
    assert owners["kubectl"] == {"f:data": {"f:greeting": {}}}
    assert owners[diffs.RECONCILER]["f:data"] == {"f:greeting": {}}
    drift = diffs.diff_object(configmap(greeting="bye"), live)
    assert summary(drift) == {("data.greeting", "changed", diffs.RECONCILER, "")}
    assert drift is not None and not drift.foreign()


@pytest.mark.parametrize("field", ["env", "workingDir", "stdin", "command"])
def test_empty_and_zero_struct_fields_git_sets_match_absent_ones(field: str) -> None:
    desired = deployment(env=[], workingDir="", stdin=False, command=[])
    live = applied(desired)
    del live["spec"]["template"]["spec"]["containers"][0][field]  # as Go's omitempty leaves them out
    assert diffs.diff_object(desired, live) is None


def test_an_empty_label_value_is_a_value() -> None:
    desired = configmap()
    desired["metadata"]["labels"]["flag"] = ""
    live = updated(applied(desired), deleter("metadata", "labels", "flag"), manager="kubectl-label")
    assert summary(diffs.diff_object(desired, live)) == {("metadata.labels.flag", "removed", None, "")}


def test_an_empty_map_git_sets_leaves_what_hands_put_in_it_to_the_added_rule() -> None:
    desired = configmap()
    desired["metadata"]["annotations"] = {}
    live = _edit(desired, setter("metadata", "annotations", "note", value="hi"), "kubectl-annotate")
    assert summary(diffs.diff_object(desired, live)) == {("metadata.annotations.note", "added", "kubectl-annotate", "")}
