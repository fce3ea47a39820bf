"""Drift diffs on live objects made for real: applied as the reconciler applies them (server-side apply by
"kustomize-controller", forced), then changed with the real kubectl (scale, label, annotate, edit through a
scripted editor, patch, set, rollout, apply), read back with their managedFields, diffed, and corrected by the
removal patch plus a re-apply until no drift is left."""

from __future__ import annotations

import copy
import json
import pathlib
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_lab.drift import diffs
from gitops_lab.sandbox import api as apis
from gitops_lab.sandbox import server
from tests.integration.conftest import Kubectl

Obj = dict[str, Any]
OWNER_LABELS = {"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
WEB = 'spec.template.spec.containers[name="web"]'
Expected = set[tuple[str, str, str | None, str]]


def deployment(namespace: str, replicas: int | None = 2) -> Obj:
    spec: Obj = {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
                                              "resources": {"requests": {"cpu": 0.1, "memory": "64Mi"}}}]}},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": namespace, "labels": {"app": "web", **OWNER_LABELS}},
            "spec": spec}


def service(namespace: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": namespace, "labels": {"app": "web", **OWNER_LABELS}},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}


def configmap(namespace: str, **data: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": namespace, "labels": dict(OWNER_LABELS)},
            "data": data or {"greeting": "hello"}}


def apply_git(kubectl: Kubectl, desired: Obj) -> None:
    """What the reconciler does: server-side apply as kustomize-controller, taking conflicting fields over."""
    kubectl("apply", "--server-side", f"--field-manager={diffs.RECONCILER}", "--force-conflicts", "-f", "-",
            input=json.dumps(desired))


def live(kubectl: Kubectl, desired: Obj) -> Obj | None:
    meta = desired["metadata"]
    result = kubectl("get", f"{desired['kind'].lower()}/{meta['name']}", "-n", meta["namespace"], "-o", "json",
                     "--show-managed-fields", check=False)
    if result.returncode != 0:
        assert "NotFound" in result.stderr, result.stderr
        return None
    obj: Obj = json.loads(result.stdout)
    return obj


def summary(drift: diffs.ObjectDrift | None) -> Expected:
    assert drift is not None, "expected drift, found none"
    return {(f.path, f.kind, f.manager, f.subresource) for f in drift.fields}


def correct(kubectl: Kubectl, desired: Obj, drift: diffs.ObjectDrift) -> None:
    """Remove what was added by hand, then re-apply Git: the reconciler's correction."""
    ops = diffs.drift_fields_to_remove(drift)
    if ops:
        meta = desired["metadata"]
        kubectl("patch", f"{desired['kind'].lower()}/{meta['name']}", "-n", meta["namespace"], "--type=json",
                "-p", json.dumps(ops), f"--field-manager={diffs.RECONCILER}")
    apply_git(kubectl, desired)


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """An EDITOR for kubectl edit that replaces the text in $DRIFT_FROM with $DRIFT_TO in the file it is given."""
    path = tmp_path_factory.mktemp("editor") / "edit.py"
    path.write_text(f"#!{sys.executable}\n"
                    "import os, pathlib, sys\n"
                    "target = pathlib.Path(sys.argv[-1])\n"
                    "text = target.read_text()\n"
                    "assert os.environ['DRIFT_FROM'] in text, text\n"
                    "target.write_text(text.replace(os.environ['DRIFT_FROM'], os.environ['DRIFT_TO'], 1))\n")
    path.chmod(0o755)
    return path


CASES: list[Any] = [
    pytest.param("deployment", ["scale", "deployment/web", "--replicas=5"], None,
                 {("spec.replicas", "changed", "kubectl", "scale")}, id="scale"),
    pytest.param("deployment", ["label", "deployment/web", "team=blue"], None,
                 {("metadata.labels.team", "added", "kubectl-label", "")}, id="label"),
    pytest.param("deployment", ["label", "deployment/web", "app-"], None,
                 {("metadata.labels.app", "removed", None, "")}, id="label-removed"),
    pytest.param("deployment", ["annotate", "deployment/web", "note=hi"], None,
                 {("metadata.annotations.note", "added", "kubectl-annotate", "")}, id="annotate"),
    pytest.param("deployment", ["edit", "deployment/web"], ("replicas: 2", "replicas: 4"),
                 {("spec.replicas", "changed", "kubectl-edit", "")}, id="edit"),
    pytest.param("deployment", ["patch", "deployment/web", "-p", '{"spec":{"minReadySeconds":5}}'], None,
                 {("spec.minReadySeconds", "added", "kubectl-patch", "")}, id="patch"),
    pytest.param("deployment", ["set", "image", "deployment/web", "web=nginx:1.28"], None,
                 {(f"{WEB}.image", "changed", "kubectl-set", "")}, id="set-image"),
    pytest.param("deployment", ["set", "env", "deployment/web", "FOO=bar"], None,
                 {(f"{WEB}.env", "added", "kubectl-set", "")}, id="set-env"),
    pytest.param("deployment", ["set", "resources", "deployment/web", "--limits=cpu=1"], None,
                 {(f"{WEB}.resources.limits", "added", "kubectl-set", "")}, id="set-resources"),
    pytest.param("deployment", ["rollout", "restart", "deployment/web"], None,
                 {("spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt", "added", "kubectl-rollout",
                   "")}, id="rollout-restart"),
    pytest.param("service", ["patch", "service/web", "--type=json", "-p",
                             '[{"op":"add","path":"/spec/ports/-","value":{"name":"https","port":443,'
                             '"targetPort":8443}}]'], None,
                 {('spec.ports[port=443,protocol="TCP"]', "added", "kubectl-patch", "")}, id="service-port"),
    pytest.param("service", ["edit", "service/web"], ("targetPort: 8080", "targetPort: 9090"),
                 {('spec.ports[port=80,protocol="TCP"].targetPort', "changed", "kubectl-edit", "")},
                 id="service-edit"),
    pytest.param("configmap", ["edit", "configmap/settings"], ("greeting: hello", "greeting: bye\n  extra: x"),
                 {("data.greeting", "changed", "kubectl-edit", ""), ("data.extra", "added", "kubectl-edit", "")},
                 id="configmap-edit"),
    pytest.param("configmap", ["apply", "-f", "-"], {"greeting": "bye", "extra": "x"},
                 {("data.greeting", "changed", "kubectl-client-side-apply", ""),
                  ("data.extra", "added", "kubectl-client-side-apply", ""),
                  ("metadata.annotations.kubectl.kubernetes.io/last-applied-configuration", "added",
                   "kubectl-client-side-apply", "")}, id="client-side-apply"),
    pytest.param("configmap", ["apply", "--server-side", "--force-conflicts", "-f", "-"], {"greeting": "bye",
                                                                                          "other": "y"},
                 {("data.greeting", "changed", "kubectl", ""), ("data.other", "added", "kubectl", "")},
                 id="server-side-apply"),
]


@pytest.mark.parametrize(("what", "command", "extra", "expected"), CASES)
def test_kubectl_changes_are_drift_with_their_manager_and_are_undone(
        kubectl: Kubectl, namespace: str, editor: pathlib.Path, what: str, command: list[str], extra: Any,
        expected: Expected) -> None:
    desired = {"deployment": deployment, "service": service, "configmap": configmap}[what](namespace)
    apply_git(kubectl, desired)
    assert diffs.diff_object(desired, live(kubectl, desired)) is None

    env, stdin = {}, None
    if command[0] == "edit":
        env = {"KUBE_EDITOR": str(editor), "EDITOR": str(editor), "DRIFT_FROM": extra[0], "DRIFT_TO": extra[1]}
    elif command[0] == "apply":
        edited = copy.deepcopy(desired)
        edited["metadata"]["labels"] = {}
        edited["data"] = extra
        stdin = json.dumps(edited)
    kubectl(*command, "-n", namespace, env=env, input=stdin)

    drift = diffs.diff_object(desired, live(kubectl, desired))
    assert summary(drift) == expected
    assert drift is not None and drift.state == "changed" and drift.foreign()

    correct(kubectl, desired, drift)
    assert diffs.diff_object(desired, live(kubectl, desired)) is None


def test_a_deleted_object_is_missing_and_recreated(kubectl: Kubectl, namespace: str) -> None:
    desired = deployment(namespace)
    apply_git(kubectl, desired)
    kubectl("delete", "deployment/web", "-n", namespace, "--wait=true")
    drift = diffs.diff_object(desired, live(kubectl, desired))
    assert drift is not None and drift.state == "missing" and drift.id == f"{namespace}_web_apps_Deployment"
    correct(kubectl, desired, drift)
    assert diffs.diff_object(desired, live(kubectl, desired)) is None


def test_a_rolled_out_deployment_and_its_service_have_no_drift(kubectl: Kubectl, namespace: str) -> None:
    objects = [deployment(namespace), service(namespace), configmap(namespace, a="1", b="2")]
    for obj in objects:
        apply_git(kubectl, obj)
    kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s")
    for obj in objects:
        found = live(kubectl, obj)
        assert found is not None
        assert diffs.diff_object(obj, found) is None, obj["kind"]
    svc = live(kubectl, objects[1])
    assert svc is not None and svc["spec"]["clusterIP"]  # allocated, owned by no one, not drift


def test_scaling_a_deployment_git_leaves_unscaled_is_not_drift(kubectl: Kubectl, namespace: str) -> None:
    desired = deployment(namespace, replicas=None)
    apply_git(kubectl, desired)
    kubectl("scale", "deployment/web", "--replicas=3", "-n", namespace)
    found = live(kubectl, desired)
    assert found is not None and found["spec"]["replicas"] == 3
    assert diffs.diff_object(desired, found) is None


def test_a_label_of_another_field_manager_is_not_drift(kubectl: Kubectl, namespace: str) -> None:
    desired = configmap(namespace)
    apply_git(kubectl, desired)
    kubectl("label", "configmap/settings", "owner=platform", "--field-manager=platform-operator", "-n", namespace)
    assert diffs.diff_object(desired, live(kubectl, desired)) is None


def test_objects_created_by_hand_then_adopted_keep_defaults_but_lose_extras(kubectl: Kubectl,
                                                                           namespace: str) -> None:
    kubectl("create", "deployment", "web", "--image=nginx:1.27", "-n", namespace)
    desired = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": namespace, "labels": {"app": "web", **OWNER_LABELS}},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}}}
    apply_git(kubectl, desired)
    adopted = live(kubectl, desired)
    assert adopted is not None
    assert "kubectl-create" in {e["manager"] for e in adopted["metadata"]["managedFields"]}
    assert diffs.diff_object(desired, adopted) is None

    kubectl("create", "configmap", "settings", "--from-literal=greeting=hello", "--from-literal=extra=x",
            "-n", namespace)
    wanted = configmap(namespace)
    apply_git(kubectl, wanted)
    drift = diffs.diff_object(wanted, live(kubectl, wanted))
    assert summary(drift) == {("data.extra", "added", "kubectl-create", "")}
    assert drift is not None
    correct(kubectl, wanted, drift)
    assert diffs.diff_object(wanted, live(kubectl, wanted)) is None


# --------------------------------------------------------------------------------------------------------------
# The property, through the sandbox's own API: whatever Git holds, right after the apply there is no drift


NAMES = st.text(alphabet="abcdefgh", min_size=1, max_size=5)


@st.composite
def deployments(draw: st.DrawFn) -> Obj:
    containers = []
    for name in draw(st.lists(NAMES, min_size=1, max_size=3, unique=True)):
        container: Obj = {"name": name, "image": draw(st.sampled_from(["nginx:1.27", "busybox", "app:latest"]))}
        ports = draw(st.lists(st.integers(1, 65535), max_size=2, unique=True))
        if ports:
            container["ports"] = [{"containerPort": p, "name": f"p{i}"} for i, p in enumerate(ports)]
        env = draw(st.lists(NAMES, max_size=2, unique=True))
        if env:
            container["env"] = [{"name": e.upper(), "value": draw(NAMES)} for e in env]
        if draw(st.booleans()):
            container["resources"] = {"limits": {"cpu": draw(st.sampled_from(["0.5", "500m", 1, "1500m"])),
                                                 "memory": draw(st.sampled_from(["1Gi", "1024Mi", "100M"]))}}
        containers.append(container)
    obj = deployment("drift-property", replicas=draw(st.none() | st.integers(0, 4)))
    obj["metadata"]["labels"].update(draw(st.dictionaries(NAMES, NAMES, max_size=3)))
    if draw(st.booleans()):
        obj["metadata"]["annotations"] = draw(st.dictionaries(NAMES, NAMES, max_size=2))
    obj["spec"]["template"]["spec"]["containers"] = containers
    return obj


@pytest.fixture(scope="module")
def property_namespace(kubectl: Kubectl) -> Iterator[str]:
    kubectl("create", "namespace", "drift-property")
    yield "drift-property"
    kubectl("delete", "namespace", "drift-property", "--wait=false", check=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(desired=deployments())
def test_no_drift_right_after_any_apply(sandbox: server.Sandbox, property_namespace: str, desired: Obj) -> None:
    """Each example re-applies over the previous one, so this covers creates and updates (with pruning)."""
    def apply_and_read() -> Obj:
        rt = sandbox.api.type_of("apps/v1", "Deployment")
        options = apis.WriteOptions(field_manager=diffs.RECONCILER, force=True)
        sandbox.api.patch(rt, property_namespace, "web", "application/apply-patch+yaml",
                          json.dumps(desired).encode(), options)
        return sandbox.api.get(rt, property_namespace, "web")

    assert diffs.diff_object(desired, sandbox.call(apply_and_read)) is None
