"""Reconcile plans, table-driven: what is applied, skipped and pruned, and in which order — no cluster.

Live objects are made as the API server makes them (server-side apply by ``kustomize-controller``, then updates by
kubectl's managers), with the helpers of the drift tests, so "unchanged" and "drifted" are the diff's verdicts on
realistic managedFields.
"""

from __future__ import annotations

import copy
import doctest
from typing import Any

import pytest

from gitops_lab import errors
from gitops_lab.drift import diffs
from gitops_lab.gitops import plans
from tests.unit.test_drift_diffs import applied, setter, updated

Obj = dict[str, Any]
OWNER = ("apps", "flux-system")
OTHER_OWNER = ("other", "flux-system")


def owned(obj: Obj, owner: tuple[str, str] = OWNER) -> Obj:
    return plans.label(obj, *owner)


def namespace(name: str = "prod") -> Obj:
    return owned({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def configmap(name: str = "settings", ns: str = "prod", **meta: Any) -> Obj:
    return owned({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, **meta},
                  "data": {"greeting": "hello"}})


def deployment(name: str = "web", replicas: int = 2) -> Obj:
    return owned({"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": name, "namespace": "prod", "labels": {"app": name}},
                  "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                           "template": {"metadata": {"labels": {"app": name}},
                                        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})


def service(name: str = "web") -> Obj:
    return owned({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "prod"},
                  "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}})


def service_account() -> Obj:
    return owned({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web", "namespace": "prod"}})


def crd() -> Obj:
    return owned({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                  "metadata": {"name": "widgets.acme.io"},
                  "spec": {"group": "acme.io", "scope": "Namespaced",
                           "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                           "versions": [{"name": "v1", "served": True, "storage": True,
                                         "schema": {"openAPIV3Schema": {"type": "object"}}}]}})


def widget() -> Obj:
    return owned({"apiVersion": "acme.io/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "prod"}})


def ingress() -> Obj:
    return owned({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                  "metadata": {"name": "web", "namespace": "prod"}, "spec": {}})


def with_meta(obj: Obj, where: str, **values: str) -> Obj:
    out = copy.deepcopy(obj)
    out["metadata"].setdefault(where, {}).update(values)
    return out


def without_labels(obj: Obj, *keys: str) -> Obj:
    out = copy.deepcopy(obj)
    for key in keys:
        out["metadata"]["labels"].pop(key, None)
    return out


def ids(objects: list[Obj]) -> list[str]:
    return [diffs.inventory_id(o) for o in objects]


def live_map(*objects: Obj) -> dict[str, Obj | None]:
    return {diffs.inventory_id(o): o for o in objects}


def steps(actions: list[plans.Action]) -> list[tuple[str, str, str]]:
    return [(a.kind, a.id, a.reason) for a in actions]


def test_doctests_pass() -> None:
    result = doctest.testmod(plans)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------------------------------------------
# Order


def test_new_objects_are_applied_crds_and_namespaces_first() -> None:
    desired = [widget(), deployment("b"), ingress(), service(), deployment("a"), configmap(), service_account(),
               namespace(), crd()]
    actions = plans.plan(desired, {}, [], prune=True, owner=OWNER)
    assert [(a.kind, a.id) for a in actions] == [("apply", i) for i in [
        "_widgets.acme.io_apiextensions.k8s.io_CustomResourceDefinition", "_prod__Namespace",
        "prod_web__ServiceAccount", "prod_settings__ConfigMap", "prod_web__Service", "prod_a_apps_Deployment",
        "prod_b_apps_Deployment", "prod_web_networking.k8s.io_Ingress", "prod_w_acme.io_Widget"]]
    assert {a.reason for a in actions} == {"new in Git"}
    assert all(a.drift is not None and a.drift.state == "missing" for a in actions)
    assert actions[0].object == crd()


def test_prunes_come_last_in_reverse_rank() -> None:
    leaving = [namespace("old"), configmap("old", "old"), deployment("old"), crd(), widget()]
    actions = plans.plan([configmap()], live_map(*leaving), ids(leaving), prune=True, owner=OWNER)
    assert [(a.kind, a.id) for a in actions] == [
        ("apply", "prod_settings__ConfigMap"), ("prune", "prod_w_acme.io_Widget"),
        ("prune", "prod_old_apps_Deployment"), ("prune", "old_old__ConfigMap"), ("prune", "_old__Namespace"),
        ("prune", "_widgets.acme.io_apiextensions.k8s.io_CustomResourceDefinition")]
    assert all(a.object is not None and a.reason == "removed from Git" for a in actions[1:])


@pytest.mark.parametrize(("obj", "expected"), [
    ({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition"}, 0),
    ({"apiVersion": "v1", "kind": "Namespace"}, 1),
    ({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole"}, 2),
    ({"apiVersion": "v1", "kind": "Secret"}, 3),
    ({"apiVersion": "v1", "kind": "Service"}, 4),
    ({"apiVersion": "batch/v1", "kind": "CronJob"}, 5),
    ({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration"}, 6),
    ({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository"}, plans.OTHER_RANK),
    ({"apiVersion": "acme.io/v1", "kind": "Namespace"}, plans.OTHER_RANK),
    ({"apiVersion": "v1", "kind": "Unheard"}, plans.OTHER_RANK),
    ({}, plans.OTHER_RANK),
])
def test_rank(obj: Obj, expected: int) -> None:
    assert plans.rank(obj) == expected


# --------------------------------------------------------------------------------------------------------------
# Apply only what departed from Git


def scaled(live: Obj, replicas: int) -> Obj:
    return updated(live, setter("spec", "replicas", value=replicas), manager="kubectl", subresource="scale")


def labelled(live: Obj, **labels: str) -> Obj:
    return updated(live, lambda o: o["metadata"]["labels"].update(labels), manager="kubectl-label")


@pytest.mark.parametrize(("desired", "live", "previous", "expected"), [
    pytest.param(deployment(), applied(deployment()), True, ("skip", "unchanged"), id="unchanged"),
    pytest.param(service(), applied(service()), True, ("skip", "unchanged"), id="unchanged-service-defaults"),
    pytest.param(deployment(), scaled(applied(deployment()), 5), True,
                 ("apply", "drifted: spec.replicas: 2 → 5 by kubectl (scale)"), id="scaled-by-hand"),
    pytest.param(configmap(), labelled(applied(configmap()), team="blue"), True,
                 ("apply", "drifted: metadata.labels.team: 'blue' added by kubectl-label, not in Git"),
                 id="label-added-by-hand"),
    pytest.param(deployment(replicas=3), applied(deployment()), True,
                 ("apply", "drifted: spec.replicas: 3 → 2 by kustomize-controller"), id="changed-in-git"),
    pytest.param(deployment(), None, True, ("apply", "deleted from the cluster"), id="deleted-by-hand"),
    pytest.param(deployment(), None, False, ("apply", "new in Git"), id="new"),
    pytest.param(configmap(), applied(without_labels(configmap(), plans.NAME_LABEL, plans.NAMESPACE_LABEL)), False,
                 ("apply", "drifted: metadata.labels.kustomize.toolkit.fluxcd.io/name: missing"), id="adopted"),
])
def test_apply_only_what_departed(desired: Obj, live: Obj | None, previous: bool,
                                  expected: tuple[str, str]) -> None:
    key = diffs.inventory_id(desired)
    (action,) = plans.plan([desired], {key: live}, [key] if previous else [], prune=True, owner=OWNER)
    assert (action.kind, action.id, action.object) == (expected[0], key, desired)
    if expected[1].endswith("missing"):
        assert action.reason.startswith("drifted: ") and "kustomize.toolkit.fluxcd.io/name" in action.reason
    else:
        assert action.reason == expected[1]
    assert (action.drift is not None) == (action.kind == "apply")


def test_the_drift_names_who_made_it() -> None:
    live = labelled(scaled(applied(deployment()), 4), team="blue")
    (action,) = plans.plan([deployment()], live_map(live), [], prune=True, owner=OWNER)
    assert action.drift is not None
    assert set(action.drift.managers) == {"kubectl", "kubectl-label"}
    assert {(f.path, f.kind) for f in action.drift.fields} == {("spec.replicas", "changed"),
                                                               ("metadata.labels.team", "added")}


# --------------------------------------------------------------------------------------------------------------
# Opt-outs of objects Git still has


DISABLED = {plans.RECONCILE_KEY: "disabled"}
ENABLED = {plans.RECONCILE_KEY: "enabled"}


@pytest.mark.parametrize(("desired", "live", "expected"), [
    pytest.param(deployment(), scaled(applied(with_meta(deployment(), "annotations", **DISABLED)), 5),
                 ("skip", "kustomize.toolkit.fluxcd.io/reconcile: disabled"), id="live-annotation"),
    pytest.param(deployment(), scaled(applied(with_meta(deployment(), "labels", **DISABLED)), 5),
                 ("skip", "kustomize.toolkit.fluxcd.io/reconcile: disabled"), id="live-label"),
    pytest.param(deployment(), with_meta(applied(deployment()), "annotations",
                                         **{plans.RECONCILE_KEY: "Disabled"}),
                 ("skip", "kustomize.toolkit.fluxcd.io/reconcile: disabled"), id="any-case"),
    pytest.param(with_meta(deployment(), "annotations", **DISABLED), None,
                 ("skip", "kustomize.toolkit.fluxcd.io/reconcile: disabled"), id="disabled-in-git"),
    pytest.param(with_meta(deployment(), "annotations", **ENABLED),
                 scaled(applied(with_meta(deployment(), "annotations", **DISABLED)), 5),
                 ("apply", "drifted:"), id="enabled-in-git-wins"),
    pytest.param(with_meta(deployment(), "annotations", **{plans.SSA_KEY: "Ignore"}), None,
                 ("skip", "kustomize.toolkit.fluxcd.io/ssa: Ignore"), id="ssa-ignore"),
    pytest.param(with_meta(deployment(), "annotations", **{plans.SSA_KEY: "IfNotPresent"}),
                 scaled(applied(deployment()), 5),
                 ("skip", "kustomize.toolkit.fluxcd.io/ssa: IfNotPresent, and it exists"), id="ssa-if-not-present"),
    pytest.param(with_meta(deployment(), "annotations", **{plans.SSA_KEY: "IfNotPresent"}), None,
                 ("apply", "new in Git"), id="ssa-if-not-present-missing"),
    pytest.param(with_meta(deployment(), "annotations", **{plans.SSA_KEY: "Override"}),
                 scaled(applied(with_meta(deployment(), "annotations", **{plans.SSA_KEY: "Override"})), 5),
                 ("apply", "drifted:"), id="ssa-override"),
])
def test_opt_outs_of_desired_objects(desired: Obj, live: Obj | None, expected: tuple[str, str]) -> None:
    key = diffs.inventory_id(desired)
    (action,) = plans.plan([desired], {key: live}, [], prune=True, owner=OWNER)
    assert action.kind == expected[0]
    assert action.reason.startswith(expected[1])
    assert action.object == desired


# --------------------------------------------------------------------------------------------------------------
# Prune: only what left Git, only ours, only when allowed


KEPT = "removed from Git; kept, as "


def terminating(live: Obj) -> Obj:
    out = copy.deepcopy(live)
    out["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return out


@pytest.mark.parametrize(("live", "prune", "expected"), [
    pytest.param(applied(configmap("gone")), True, ("prune", "removed from Git"), id="ours"),
    pytest.param(applied(configmap("gone")), False, ("skip", KEPT + "spec.prune is false"), id="prune-off"),
    pytest.param(applied(without_labels(configmap("gone"), plans.NAME_LABEL, plans.NAMESPACE_LABEL)), True,
                 ("skip", KEPT + "it lacks the owner labels of flux-system/apps"), id="no-owner-labels"),
    pytest.param(applied(without_labels(configmap("gone"), plans.NAMESPACE_LABEL)), True,
                 ("skip", KEPT + "it lacks the owner labels of flux-system/apps"), id="one-owner-label"),
    pytest.param(applied(owned(configmap("gone"), OTHER_OWNER)), True,
                 ("skip", KEPT + "it lacks the owner labels of flux-system/apps"), id="another-kustomization"),
    pytest.param(applied(owned(configmap("gone"), ("apps", "elsewhere"))), True,
                 ("skip", KEPT + "it lacks the owner labels of flux-system/apps"), id="same-name-other-namespace"),
    pytest.param(applied(with_meta(configmap("gone"), "annotations", **{plans.PRUNE_KEY: "disabled"})), True,
                 ("skip", KEPT + "kustomize.toolkit.fluxcd.io/prune: disabled"), id="prune-disabled-annotation"),
    pytest.param(applied(with_meta(configmap("gone"), "labels", **{plans.PRUNE_KEY: "Disabled"})), True,
                 ("skip", KEPT + "kustomize.toolkit.fluxcd.io/prune: disabled"), id="prune-disabled-label"),
    pytest.param(applied(with_meta(configmap("gone"), "annotations", **{plans.PRUNE_KEY: "enabled"})), True,
                 ("prune", "removed from Git"), id="prune-enabled"),
    pytest.param(applied(with_meta(configmap("gone"), "annotations", **DISABLED)), True,
                 ("skip", KEPT + "kustomize.toolkit.fluxcd.io/reconcile: disabled"), id="reconcile-disabled"),
    pytest.param(terminating(applied(configmap("gone"))), True, ("skip", "removed from Git; already being deleted"),
                 id="terminating"),
])
def test_prune(live: Obj, prune: bool, expected: tuple[str, str]) -> None:
    key = diffs.inventory_id(live)
    actions = plans.plan([configmap()], {key: live, diffs.inventory_id(configmap()): applied(configmap())},
                         [diffs.inventory_id(configmap()), key], prune=prune, owner=OWNER)
    assert steps(actions) == [("skip", diffs.inventory_id(configmap()), "unchanged"), (*expected[:1], key,
                                                                                       expected[1])]
    assert actions[1].object == live and actions[1].drift is None


@pytest.mark.parametrize("live", [pytest.param({}, id="not-read"), pytest.param({"prod_gone__ConfigMap": None},
                                                                               id="already-gone")])
def test_what_is_not_in_the_cluster_is_not_pruned(live: dict[str, Obj | None]) -> None:
    assert plans.plan([], live, ["prod_gone__ConfigMap"], prune=True, owner=OWNER) == []


def test_objects_still_in_git_are_never_pruned() -> None:
    live = applied(configmap())
    actions = plans.plan([configmap()], live_map(live), [diffs.inventory_id(live)] * 2, prune=True, owner=OWNER)
    assert steps(actions) == [("skip", "prod_settings__ConfigMap", "unchanged")]


def test_objects_without_inventory_are_never_pruned() -> None:
    """An object only in ``live`` (read for another reason) is not in the previous inventory: left alone."""
    stray = applied(configmap("stray"))
    assert plans.plan([], live_map(stray), [], prune=True, owner=OWNER) == []


# --------------------------------------------------------------------------------------------------------------
# Inputs and labels


def test_a_desired_object_twice_is_refused() -> None:
    with pytest.raises(errors.ReconcileError, match="prod_settings__ConfigMap is desired twice"):
        plans.plan([configmap(), configmap()], {}, [], prune=True, owner=OWNER)


def test_plan_changes_none_of_its_inputs() -> None:
    desired, live = [deployment(), configmap()], live_map(scaled(applied(deployment()), 5),
                                                        applied(configmap("gone")))
    before = copy.deepcopy((desired, live))
    plans.plan(desired, live, ["prod_gone__ConfigMap"], prune=True, owner=OWNER)
    assert (desired, live) == before


@pytest.mark.parametrize(("obj", "labels"), [
    ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "d"}},
     {plans.NAME_LABEL: "apps", plans.NAMESPACE_LABEL: "flux-system"}),
    ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "d", "labels": {"team": "blue"}}},
     {"team": "blue", plans.NAME_LABEL: "apps", plans.NAMESPACE_LABEL: "flux-system"}),
    ({"apiVersion": "v1", "kind": "Namespace",
      "metadata": {"name": "d", "labels": {plans.NAME_LABEL: "old", plans.NAMESPACE_LABEL: "x"}}},
     {plans.NAME_LABEL: "apps", plans.NAMESPACE_LABEL: "flux-system"}),
    ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "d", "labels": None}},
     {plans.NAME_LABEL: "apps", plans.NAMESPACE_LABEL: "flux-system"}),
])
def test_label(obj: Obj, labels: dict[str, str]) -> None:
    before = copy.deepcopy(obj)
    out = plans.label(obj, "apps", "flux-system")
    assert out["metadata"]["labels"] == labels
    assert obj == before, "label changed its input"
    assert {k: v for k, v in out.items() if k != "metadata"} == {k: v for k, v in obj.items() if k != "metadata"}
