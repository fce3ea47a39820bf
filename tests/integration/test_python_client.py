"""The official ``kubernetes`` Python client, unchanged, against the sandbox.

Covers: typed CRUD through CoreV1Api and AppsV1Api (namespaces, configmaps, secrets, services, pods, deployments,
the scale and status subresources); ``ApiException`` status, reason and Status body for 404, 409 AlreadyExists,
409 Conflict and 422 Invalid; the four patch content types as the client chooses or is told them; watches through
``watch.Watch().stream`` (resuming from a resourceVersion, bookmarks, 410 for a too-old resourceVersion); the
dynamic client (discovery, CRUD, server-side apply with conflicts, custom resources of a CRD with a status
subresource and schema validation, and what deleting the CRD does to them); ``utils.create_from_yaml``; label and
field selectors, in lists and as watch transitions; pagination with consistent snapshots and expired continue
tokens; deletion propagation through ``V1DeleteOptions`` (Foreground, Orphan, and their finalizers without
dependents).
"""

from __future__ import annotations

import json
import pathlib
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from kubernetes import client as k8s
from kubernetes import config, dynamic, utils, watch
from kubernetes.client.rest import ApiException

from gitops_lab.sandbox import server

T = TypeVar("T")
Obj = dict[str, Any]
DEADLINE = 30.0
OURS = "suite=python-client"
"""Every ConfigMap the tests make carries this label; lists and watches select it, so what controllers put into a
namespace (a real cluster's kube-root-ca.crt) stays out of the comparisons."""


# ---- fixtures ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def api_client(sandbox: server.Sandbox) -> Iterator[k8s.ApiClient]:
    api = config.new_client_from_config(config_file=str(sandbox.kubeconfig))
    yield api
    api.close()


@pytest.fixture(scope="module")
def core(api_client: k8s.ApiClient) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(api_client)


@pytest.fixture(scope="module")
def apps(api_client: k8s.ApiClient) -> k8s.AppsV1Api:
    return k8s.AppsV1Api(api_client)


@pytest.fixture(scope="module")
def dyn(api_client: k8s.ApiClient, tmp_path_factory: pytest.TempPathFactory) -> dynamic.DynamicClient:
    cache = tmp_path_factory.mktemp("discovery") / "cache.json"
    return dynamic.DynamicClient(api_client, cache_file=str(cache))


# ---- helpers -----------------------------------------------------------------------------------------------
def _wait(what: str, probe: Callable[[], T | None], deadline: float = DEADLINE) -> T:
    """Poll ``probe`` until it returns something truthy, or fail after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _raises(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[ApiException, Obj]:
    """The ApiException a call raises, and its Status body."""
    with pytest.raises(ApiException) as info:
        fn(*args, **kwargs)
    err = info.value
    body: Obj = json.loads(err.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == err.status
    return err, body


def _gone(read: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Whether reading answers 404 (the typed and the dynamic client's errors both carry the status)."""
    try:
        read(*args, **kwargs)
    except ApiException as err:
        if err.status != 404:
            raise
        return True
    return False


def _configmap(name: str, data: dict[str, str] | None = None, labels: dict[str, str] | None = None
               ) -> k8s.V1ConfigMap:
    return k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name, labels={"suite": "python-client", **(labels or {})}),
                           data=data or {"k": "v"})


def _deployment(name: str, replicas: int = 1, image: str = "nginx:1.27") -> k8s.V1Deployment:
    labels = {"app": name}
    return k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name=name, labels=labels),
        spec=k8s.V1DeploymentSpec(
            replicas=replicas,
            selector=k8s.V1LabelSelector(match_labels=labels),
            template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels=labels),
                spec=k8s.V1PodSpec(containers=[k8s.V1Container(
                    name="web", image=image, ports=[k8s.V1ContainerPort(container_port=80)])]))))


# ---- typed CRUD --------------------------------------------------------------------------------------------
def test_namespace_lifecycle(core: k8s.CoreV1Api) -> None:
    name = f"t-{uuid.uuid4().hex[:8]}"
    created = core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels={"team": "a"})))
    assert isinstance(created, k8s.V1Namespace)
    assert created.metadata.name == name and created.status.phase == "Active"
    assert created.spec.finalizers == ["kubernetes"]
    assert created.metadata.labels == {"team": "a", "kubernetes.io/metadata.name": name}
    listed = core.list_namespace(label_selector="team=a")
    assert name in [n.metadata.name for n in listed.items]
    assert {"default", "kube-system"} <= {n.metadata.name for n in core.list_namespace().items}

    deleting = core.delete_namespace(name)  # the client types deletes' answers as plain objects
    assert deleting["kind"] == "Namespace" and deleting["metadata"]["deletionTimestamp"]
    assert deleting["status"]["phase"] == "Terminating"

    _wait("the namespace to go", lambda: _gone(core.read_namespace, name))


def test_configmap_and_secret_crud(core: k8s.CoreV1Api, namespace: str) -> None:
    cm = core.create_namespaced_config_map(namespace, _configmap("settings", {"color": "blue"}))
    assert isinstance(cm, k8s.V1ConfigMap)
    assert cm.metadata.namespace == namespace and cm.metadata.uid and cm.metadata.resource_version
    assert cm.metadata.creation_timestamp is not None
    assert cm.data == {"color": "blue"}

    cm.data["size"] = "L"
    replaced = core.replace_namespaced_config_map("settings", namespace, cm)
    assert replaced.data == {"color": "blue", "size": "L"}
    assert int(replaced.metadata.resource_version) > int(cm.metadata.resource_version)
    assert replaced.metadata.uid == cm.metadata.uid
    read = core.read_namespaced_config_map("settings", namespace)
    assert read.data == replaced.data and read.metadata.resource_version == replaced.metadata.resource_version
    assert [m.manager for m in read.metadata.managed_fields] == ["OpenAPI-Generator"]

    secret = core.create_namespaced_secret(namespace, k8s.V1Secret(
        metadata=k8s.V1ObjectMeta(name="creds"), string_data={"user": "admin"}, data={"pass": "czNjcjN0"}))
    assert secret.type == "Opaque"
    assert secret.data == {"user": "YWRtaW4=", "pass": "czNjcjN0"} and secret.string_data is None

    status = core.delete_namespaced_config_map("settings", namespace)
    assert status["kind"] == "Status" and status["status"] == "Success"
    assert status["details"] == {"name": "settings", "kind": "configmaps", "uid": cm.metadata.uid}
    core.delete_namespaced_secret("creds", namespace)
    assert core.list_namespaced_config_map(namespace, field_selector="metadata.name=settings").items == []
    assert core.list_namespaced_secret(namespace).items == []


def test_service_gets_a_cluster_ip(core: k8s.CoreV1Api, namespace: str) -> None:
    svc = core.create_namespaced_service(namespace, k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name="web"),
        spec=k8s.V1ServiceSpec(selector={"app": "web"}, ports=[k8s.V1ServicePort(port=8080, target_port=80)])))
    assert svc.spec.type == "ClusterIP" and svc.spec.cluster_ip and svc.spec.cluster_ips == [svc.spec.cluster_ip]
    assert svc.spec.ports[0].protocol == "TCP" and svc.spec.ports[0].target_port == 80
    assert svc.spec.session_affinity == "None"
    node_port = core.create_namespaced_service(namespace, k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name="np"),
        spec=k8s.V1ServiceSpec(type="NodePort", selector={"app": "web"}, ports=[k8s.V1ServicePort(port=80)])))
    assert 30000 <= node_port.spec.ports[0].node_port <= 32767
    assert node_port.spec.cluster_ip != svc.spec.cluster_ip
    assert sorted(s.metadata.name for s in core.list_namespaced_service(namespace).items) == ["np", "web"]
    core.delete_namespaced_service("np", namespace)
    core.delete_namespaced_service("web", namespace)


def test_deployment_crud_scale_status_and_pods(core: k8s.CoreV1Api, apps: k8s.AppsV1Api, namespace: str) -> None:
    created = apps.create_namespaced_deployment(namespace, _deployment("web", replicas=2))
    assert isinstance(created, k8s.V1Deployment)
    assert created.metadata.generation == 1
    assert created.spec.strategy.type == "RollingUpdate"
    assert created.spec.strategy.rolling_update.max_surge == "25%"
    assert created.spec.revision_history_limit == 10 and created.spec.progress_deadline_seconds == 600
    assert created.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"

    def ready() -> k8s.V1Deployment | None:
        dep = apps.read_namespaced_deployment("web", namespace)
        want = dep.spec.replicas
        done = dep.status.observed_generation == dep.metadata.generation and dep.status.ready_replicas == want \
            and dep.status.updated_replicas == want and dep.status.replicas == want
        return dep if done else None

    dep = _wait("the deployment to be ready", ready)
    pods = core.list_namespaced_pod(namespace, label_selector="app=web")
    assert len(pods.items) == 2 and all(p.status.phase == "Running" for p in pods.items)
    pod = core.read_namespaced_pod(pods.items[0].metadata.name, namespace)
    assert pod.metadata.owner_references[0].kind == "ReplicaSet" and pod.metadata.owner_references[0].controller
    assert pod.spec.node_name and pod.status.pod_ip

    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert isinstance(scale, k8s.V1Scale)
    assert scale.spec.replicas == 2 and scale.status.replicas == 2 and scale.status.selector == "app=web"
    err, body = _raises(apps.patch_namespaced_deployment_scale, "web", namespace, {"spec": {"replicas": -1}})
    assert err.status == 422 and body["message"] == (
        'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0')
    stale = k8s.V1Scale(metadata=k8s.V1ObjectMeta(name="web", resource_version=str(int(
        scale.metadata.resource_version) - 1)), spec=k8s.V1ScaleSpec(replicas=5))
    err, body = _raises(apps.replace_namespaced_deployment_scale, "web", namespace, stale)
    assert err.status == 409 and body["message"].startswith('Operation cannot be fulfilled on deployments.apps "web"')
    scaled = apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 3}})
    assert scaled.spec.replicas == 3
    dep = apps.read_namespaced_deployment("web", namespace)
    assert dep.spec.replicas == 3 and dep.metadata.generation == 2
    _wait("three ready replicas", lambda: apps.read_namespaced_deployment_status("web", namespace)
          .status.ready_replicas == 3)

    dep = apps.read_namespaced_deployment("web", namespace)
    dep.spec.template.spec.containers[0].image = "nginx:1.28"
    replaced = apps.replace_namespaced_deployment("web", namespace, dep)
    assert replaced.metadata.generation == 3
    assert replaced.spec.template.spec.containers[0].image == "nginx:1.28"
    dep = _wait("the rollout to 1.28", ready)
    assert dep.status.replicas == 3

    # A controller writing status: the spec and generation stay; spec sent through /status is ignored.
    patched = apps.patch_namespaced_deployment_status("web", namespace, {
        "spec": {"replicas": 7},
        "status": {"conditions": [{"type": "Tested", "status": "True", "reason": "ByTheClient"}]}})
    assert patched.spec.replicas == 3 and patched.metadata.generation == 3
    assert any(c.type == "Tested" and c.reason == "ByTheClient" for c in patched.status.conditions)
    assert {(m.manager, m.operation, m.subresource) for m in patched.metadata.managed_fields} == {
        ("OpenAPI-Generator", "Update", None), ("OpenAPI-Generator", "Update", "scale"),
        ("OpenAPI-Generator", "Update", "status"), ("kube-controller-manager", "Update", "status")}

    status = apps.delete_namespaced_deployment("web", namespace)
    assert status["status"] == "Success"
    assert status["details"] == {"name": "web", "group": "apps", "kind": "deployments", "uid": dep.metadata.uid}
    _wait("the pods to go", lambda: not core.list_namespaced_pod(namespace, label_selector="app=web").items)


# ---- errors ------------------------------------------------------------------------------------------------
def test_not_found(core: k8s.CoreV1Api, apps: k8s.AppsV1Api, namespace: str) -> None:
    err, body = _raises(core.read_namespaced_config_map, "missing", namespace)
    assert err.status == 404 and err.reason == "Not Found"
    assert body["reason"] == "NotFound" and body["message"] == 'configmaps "missing" not found'
    assert body["details"] == {"name": "missing", "kind": "configmaps"}
    err, body = _raises(apps.read_namespaced_deployment, "missing", namespace)
    assert body["message"] == 'deployments.apps "missing" not found'
    assert body["details"] == {"name": "missing", "group": "apps", "kind": "deployments"}
    err, body = _raises(core.create_namespaced_config_map, "no-such-namespace", _configmap("x"))
    assert err.status == 404 and body["message"] == 'namespaces "no-such-namespace" not found'


def test_already_exists_and_stale_update_conflict(core: k8s.CoreV1Api, namespace: str) -> None:
    first = core.create_namespaced_config_map(namespace, _configmap("dup"))
    err, body = _raises(core.create_namespaced_config_map, namespace, _configmap("dup"))
    assert err.status == 409 and err.reason == "Conflict"
    assert body["reason"] == "AlreadyExists" and body["message"] == 'configmaps "dup" already exists'
    assert body["details"] == {"name": "dup", "kind": "configmaps"}

    fresh = core.read_namespaced_config_map("dup", namespace)
    fresh.data = {"k": "newer"}
    core.replace_namespaced_config_map("dup", namespace, fresh)
    first.data = {"k": "stale"}
    err, body = _raises(core.replace_namespaced_config_map, "dup", namespace, first)
    assert err.status == 409 and body["reason"] == "Conflict"
    assert body["message"] == ('Operation cannot be fulfilled on configmaps "dup": the object has been modified; '
                               'please apply your changes to the latest version and try again')
    assert core.read_namespaced_config_map("dup", namespace).data == {"k": "newer"}


def test_delete_preconditions(core: k8s.CoreV1Api, apps: k8s.AppsV1Api, namespace: str) -> None:
    cm = core.create_namespaced_config_map(namespace, _configmap("guarded"))
    core.patch_namespaced_config_map("guarded", namespace, {"data": {"k": "moved on"}})
    current = core.read_namespaced_config_map("guarded", namespace).metadata.resource_version
    stale = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(resource_version=cm.metadata.resource_version))
    err, body = _raises(core.delete_namespaced_config_map, "guarded", namespace, body=stale)
    assert err.status == 409 and body["reason"] == "Conflict"
    assert body["message"] == (
        f'Operation cannot be fulfilled on ConfigMap "guarded": the ResourceVersion in the precondition '
        f'({cm.metadata.resource_version}) does not match the ResourceVersion in record ({current}). The object '
        f'might have been modified')
    assert body["details"] == {"name": "guarded", "kind": "ConfigMap"}
    other = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid="0b5e7c52-0000-4000-8000-000000000000"))
    err, body = _raises(core.delete_namespaced_config_map, "guarded", namespace, body=other)
    assert body["message"] == (
        f'Operation cannot be fulfilled on ConfigMap "guarded": the UID in the precondition '
        f'(0b5e7c52-0000-4000-8000-000000000000) does not match the UID in record ({cm.metadata.uid}). The object '
        f'might have been deleted and then recreated')
    ok = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid=cm.metadata.uid, resource_version=current))
    assert core.delete_namespaced_config_map("guarded", namespace, body=ok)["status"] == "Success"

    dep = apps.create_namespaced_deployment(namespace, _deployment("web", replicas=0))
    err, body = _raises(apps.delete_namespaced_deployment, "web", namespace,
                        body=k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(resource_version="1")))
    assert body["message"].startswith('Operation cannot be fulfilled on Deployment.apps "web": the ResourceVersion')
    assert body["details"] == {"name": "web", "group": "apps", "kind": "Deployment"}
    apps.delete_namespaced_deployment("web", namespace,
                                      body=k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(uid=dep.metadata.uid)))


def test_invalid_has_causes(core: k8s.CoreV1Api, apps: k8s.AppsV1Api, namespace: str) -> None:
    err, body = _raises(core.create_namespaced_config_map, namespace, _configmap("Bad_Name"))
    assert err.status == 422 and err.reason == "Unprocessable Entity"
    assert body["reason"] == "Invalid"
    assert body["message"].startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
                                      'a lowercase RFC 1123 subdomain must consist of')
    assert body["details"]["name"] == "Bad_Name" and body["details"]["kind"] == "ConfigMap"
    [cause] = body["details"]["causes"]
    assert cause["reason"] == "FieldValueInvalid" and cause["field"] == "metadata.name"

    dep = _deployment("web")
    dep.spec.template.metadata.labels = {"app": "other"}
    dep.spec.replicas = -1
    err, body = _raises(apps.create_namespaced_deployment, namespace, dep)
    assert err.status == 422 and body["details"]["group"] == "apps" and body["details"]["kind"] == "Deployment"
    assert body["message"].startswith('Deployment.apps "web" is invalid: [')
    fields = {c["field"]: c for c in body["details"]["causes"]}
    assert fields["spec.replicas"] == {"reason": "FieldValueInvalid", "field": "spec.replicas",
                                       "message": "Invalid value: -1: must be greater than or equal to 0"}
    assert fields["spec.template.metadata.labels"]["message"] == (
        'Invalid value: {"app":"other"}: `selector` does not match template `labels`')


# ---- patches -----------------------------------------------------------------------------------------------
def test_patch_content_types(apps: k8s.AppsV1Api, namespace: str) -> None:
    body = _deployment("web", replicas=0)
    body.metadata.annotations = {"note": "created"}  # the controller adds its revision annotation beside it
    dep = apps.create_namespaced_deployment(namespace, body)
    assert dep.metadata.labels == {"app": "web"}

    # A dict body: the client sends a strategic merge patch, which merges containers by name.
    sidecar = {"name": "log", "image": "busybox:1.36"}
    merged = apps.patch_namespaced_deployment("web", namespace, {
        "metadata": {"labels": {"tier": "front"}},
        "spec": {"template": {"spec": {"containers": [sidecar]}}}})
    assert [c.name for c in merged.spec.template.spec.containers] == ["log", "web"]
    assert merged.metadata.labels == {"app": "web", "tier": "front"}
    assert merged.metadata.generation == 2
    # $patch: delete is strategic-merge only.
    removed = apps.patch_namespaced_deployment("web", namespace, {
        "spec": {"template": {"spec": {"containers": [{"name": "log", "$patch": "delete"}]}}}})
    assert [c.name for c in removed.spec.template.spec.containers] == ["web"]

    # A list body: a JSON patch, applied in order and all or nothing.
    patched = apps.patch_namespaced_deployment("web", namespace, [
        {"op": "replace", "path": "/spec/replicas", "value": 0},
        {"op": "replace", "path": "/metadata/annotations/note", "value": "json-patch"},
        {"op": "remove", "path": "/metadata/labels/tier"}])
    assert patched.metadata.annotations["note"] == "json-patch" and patched.metadata.labels == {"app": "web"}
    err, body = _raises(apps.patch_namespaced_deployment, "web", namespace, [
        {"op": "replace", "path": "/metadata/annotations/note", "value": "changed"},
        {"op": "test", "path": "/spec/replicas", "value": 5}])
    assert err.status == 422 and body["reason"] == "Invalid"
    assert body["message"] == "the server rejected our request due to an error in our request"
    assert apps.read_namespaced_deployment("web", namespace).metadata.annotations["note"] == "json-patch"

    # A merge patch replaces lists whole and deletes with null.
    merge = apps.patch_namespaced_deployment("web", namespace, {
        "metadata": {"annotations": {"note": None}},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}}}},
        _content_type="application/merge-patch+json")
    assert [(c.name, c.image) for c in merge.spec.template.spec.containers] == [("app", "nginx:1.28")]
    assert merge.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"  # defaulted again
    assert "note" not in (merge.metadata.annotations or {})

    # Server-side apply: the applier owns what it sent; another applier's change to it is a conflict.
    config_ = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [{"name": "app", "image": "nginx:1.29"}]}}}}
    err, body = _raises(apps.patch_namespaced_deployment, "web", namespace, config_, field_manager="ci",
                        _content_type="application/apply-patch+yaml")
    assert err.status == 409 and body["message"] == (
        'Apply failed with 2 conflicts: conflicts with "OpenAPI-Generator" using apps/v1:\n- .spec.replicas\n'
        '- .spec.template.spec.containers[name="app"].image')
    assert [c["field"] for c in body["details"]["causes"]] == [
        ".spec.replicas", '.spec.template.spec.containers[name="app"].image']
    applied = apps.patch_namespaced_deployment("web", namespace, config_, field_manager="ci", force=True,
                                               _content_type="application/apply-patch+yaml")
    assert applied.spec.replicas == 1 and applied.spec.template.spec.containers[0].image == "nginx:1.29"
    assert ("ci", "Apply") in {(m.manager, m.operation) for m in applied.metadata.managed_fields}
    rival = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2}}
    err, body = _raises(apps.patch_namespaced_deployment, "web", namespace, rival, field_manager="autoscaler",
                        _content_type="application/apply-patch+yaml")
    assert err.status == 409 and body["reason"] == "Conflict"
    assert body["message"] == 'Apply failed with 1 conflict: conflict with "ci": .spec.replicas'
    assert body["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "ci"',
                                          "field": ".spec.replicas"}]
    forced = apps.patch_namespaced_deployment("web", namespace, rival, field_manager="autoscaler", force=True,
                                              _content_type="application/apply-patch+yaml")
    assert forced.spec.replicas == 2
    owners = {m.manager: m.fields_v1 for m in forced.metadata.managed_fields if m.operation == "Apply"}
    assert owners["autoscaler"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in owners["ci"]["f:spec"]

    err, body = _raises(apps.patch_namespaced_deployment, "web", namespace, rival,
                        _content_type="application/apply-patch+yaml")
    assert err.status == 422 and body["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch')
    apps.delete_namespaced_deployment("web", namespace)


# ---- watches -----------------------------------------------------------------------------------------------
def test_watch_resumes_from_a_resource_version_with_bookmarks(core: k8s.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_config_map(namespace, _configmap("before"))
    rv = core.list_namespaced_config_map(namespace, label_selector=OURS).metadata.resource_version
    core.create_namespaced_config_map(namespace, _configmap("later"))
    core.patch_namespaced_config_map("before", namespace, {"data": {"k": "changed"}})
    core.delete_namespaced_config_map("later", namespace)
    last_rv = core.list_namespaced_config_map(namespace, label_selector=OURS).metadata.resource_version

    w = watch.Watch()
    seen: list[tuple[str, str]] = []
    bookmark: Obj | None = None
    started = time.monotonic()
    for event in w.stream(core.list_namespaced_config_map, namespace, resource_version=rv, label_selector=OURS,
                          allow_watch_bookmarks=True, timeout_seconds=10):
        if event["type"] == "BOOKMARK":
            bookmark = event["raw_object"]
            w.stop()
            continue
        obj = event["object"]
        assert isinstance(obj, k8s.V1ConfigMap)
        seen.append((event["type"], obj.metadata.name))
    assert time.monotonic() - started < 8, "the bookmark came too late (interval 1 s)"
    assert seen == [("ADDED", "later"), ("MODIFIED", "before"), ("DELETED", "later")]
    assert bookmark is not None and bookmark["kind"] == "ConfigMap" and bookmark["apiVersion"] == "v1"
    assert int(bookmark["metadata"]["resourceVersion"]) >= int(last_rv)
    assert w.resource_version == bookmark["metadata"]["resourceVersion"]  # the client resumes from bookmarks

    # Without a resourceVersion the watch starts with the current state.
    w = watch.Watch()
    initial = []
    for event in w.stream(core.list_namespaced_config_map, namespace, label_selector=OURS, timeout_seconds=10):
        initial.append((event["type"], event["object"].metadata.name, event["object"].data))
        w.stop()
    assert initial == [("ADDED", "before", {"k": "changed"})]


def test_bookmarks_come_on_a_busy_watch_too(core: k8s.CoreV1Api, namespace: str) -> None:
    """Bookmarks are periodic, not only for idle watches: a steady trickle of events does not hold them back."""
    core.create_namespaced_config_map(namespace, _configmap("busy"))
    rv = core.list_namespaced_config_map(namespace, label_selector=OURS).metadata.resource_version
    core.patch_namespaced_config_map("busy", namespace, {"data": {"n": "first"}})
    w = watch.Watch()
    started = time.monotonic()
    events: list[str] = []
    for event in w.stream(core.list_namespaced_config_map, namespace, resource_version=rv, label_selector=OURS,
                          allow_watch_bookmarks=True, timeout_seconds=10):
        events.append(event["type"])
        if event["type"] == "BOOKMARK":
            w.stop()
            break
        assert time.monotonic() - started < 5, f"no bookmark among {len(events)} events"
        time.sleep(0.3)  # the next change comes well within the bookmark interval (1 s)
        core.patch_namespaced_config_map("busy", namespace, {"data": {"n": str(len(events))}})
    assert events[-1] == "BOOKMARK" and events.count("MODIFIED") >= 3


def test_watch_with_a_label_selector_sees_objects_enter_and_leave(core: k8s.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_config_map(namespace, _configmap("x", labels={"sel": "in"}))
    core.create_namespaced_config_map(namespace, _configmap("y", labels={"sel": "out"}))
    rv = core.list_namespaced_config_map(namespace, label_selector=OURS).metadata.resource_version
    core.patch_namespaced_config_map("x", namespace, {"metadata": {"labels": {"sel": "out"}}})
    core.patch_namespaced_config_map("y", namespace, {"metadata": {"labels": {"sel": "in"}}})
    core.patch_namespaced_config_map("y", namespace, {"data": {"k": "2"}})
    w = watch.Watch()
    seen = []
    for event in w.stream(core.list_namespaced_config_map, namespace, label_selector="sel=in", resource_version=rv,
                          timeout_seconds=10):
        seen.append((event["type"], event["object"].metadata.name, event["object"].metadata.labels["sel"]))
        if len(seen) == 3:
            w.stop()
    # Leaving the selection is a DELETED event carrying the object as it was (at the new resourceVersion, which
    # the client resumes from); entering it is ADDED.
    assert seen == [("DELETED", "x", "in"), ("ADDED", "y", "in"), ("MODIFIED", "y", "in")]
    assert w.resource_version == core.list_namespaced_config_map(namespace, label_selector=OURS).metadata \
        .resource_version


def test_compacted_resource_versions_are_gone(tmp_path: pathlib.Path) -> None:
    """A resourceVersion from before a restart is out of the history window: 410 Expired, as after compaction."""
    settings = server.Settings(run_controllers=False, bookmark_interval=1.0)
    with server.Sandbox(tmp_path, settings=settings) as sb:
        api = config.new_client_from_config(config_file=str(sb.kubeconfig))
        core = k8s.CoreV1Api(api)
        core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="default")))
        old_rv = core.create_namespaced_config_map("default", _configmap("a")).metadata.resource_version
        core.create_namespaced_config_map("default", _configmap("b"))
        token = core.list_namespaced_config_map("default", limit=1).metadata.var_continue
        core.create_namespaced_config_map("default", _configmap("c"))
        api.close()
    with server.Sandbox(tmp_path, settings=settings) as sb:
        api = config.new_client_from_config(config_file=str(sb.kubeconfig))
        core = k8s.CoreV1Api(api)
        current = core.list_namespaced_config_map("default").metadata.resource_version
        # With a timeout the client does not retry: the ERROR event becomes an ApiException at once.
        with pytest.raises(ApiException) as info:
            for _ in watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=old_rv,
                                          timeout_seconds=5):
                pytest.fail("no event may precede the error")
        assert info.value.status == 410
        assert info.value.reason == f"Expired: too old resource version: {old_rv} ({current})"
        # Without one it retries once from the same resourceVersion, then gives up the same way.
        with pytest.raises(ApiException) as info:
            for _ in watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=old_rv):
                pytest.fail("no event may precede the error")
        assert info.value.status == 410
        # A continue token as old: 410 too, with a token to go on from the current state.
        err, body = _raises(core.list_namespaced_config_map, "default", limit=1, _continue=token)
        assert err.status == 410 and body["reason"] == "Expired"
        assert body["message"].startswith("The provided continue parameter is too old to display a consistent list")
        core.delete_namespaced_config_map("c", "default")
        rest = core.list_namespaced_config_map("default", _continue=body["metadata"]["continue"])
        assert [c.metadata.name for c in rest.items] == ["b"] and rest.metadata.resource_version != current
        # A current resourceVersion still works after the restart.
        w = watch.Watch()
        for event in w.stream(core.list_namespaced_config_map, "default",
                              resource_version=rest.metadata.resource_version, allow_watch_bookmarks=True,
                              timeout_seconds=5):
            assert event["type"] == "BOOKMARK"
            w.stop()
        api.close()


# ---- the dynamic client ------------------------------------------------------------------------------------
def test_dynamic_client_crud_and_server_side_apply(dyn: dynamic.DynamicClient, namespace: str) -> None:
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    assert configmaps.name == "configmaps" and configmaps.namespaced and "patch" in configmaps.verbs
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.group == "apps" and set(deployments.subresources) >= {"status", "scale"}

    created = configmaps.create(body={"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"},
                                      "metadata": {"name": "dyn", "labels": {"suite": "python-client"}}},
                                namespace=namespace)
    assert created.metadata.name == "dyn" and created.data.a == "1"
    got = configmaps.get(name="dyn", namespace=namespace)
    assert got.metadata.uid == created.metadata.uid
    patched = configmaps.patch(name="dyn", namespace=namespace, body={"data": {"b": "2"}})  # strategic merge
    assert dict(patched.data) == {"a": "1", "b": "2"}
    patched = configmaps.patch(name="dyn", namespace=namespace, body={"data": {"a": None}},
                               content_type="application/merge-patch+json")
    assert dict(patched.data) == {"b": "2"}
    listed = configmaps.get(namespace=namespace, label_selector=OURS)
    assert listed.kind == "ConfigMapList" and [i.metadata.name for i in listed.items] == ["dyn"]

    # Server-side apply: create, then a second manager's differing value is a conflict until forced.
    apply_body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa", "labels": {"a": "1"}},
                  "data": {"owner": "first", "keep": "yes"}}
    applied = configmaps.server_side_apply(body=apply_body, name="ssa", namespace=namespace, field_manager="first")
    assert applied.data.owner == "first"
    [entry] = applied.metadata.managedFields
    assert entry.manager == "first" and entry.operation == "Apply"
    rival = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"owner": "second"}}
    with pytest.raises(ApiException) as info:
        configmaps.server_side_apply(body=rival, name="ssa", namespace=namespace, field_manager="second")
    assert info.value.status == 409
    status = json.loads(info.value.body)
    assert status["reason"] == "Conflict" and status["message"] == (
        'Apply failed with 1 conflict: conflict with "first": .data.owner')
    assert status["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "first"',
                                            "field": ".data.owner"}]
    forced = configmaps.server_side_apply(body=rival, name="ssa", namespace=namespace, field_manager="second",
                                          force_conflicts=True)
    assert forced.data.owner == "second" and forced.data.keep == "yes"
    # The first manager re-applies without the field it lost: nothing of the second's is removed.
    again = configmaps.server_side_apply(body={**apply_body, "data": {"keep": "yes"}}, name="ssa",
                                         namespace=namespace, field_manager="first")
    assert dict(again.data) == {"owner": "second", "keep": "yes"}
    # ... and dropping a field it alone owns removes it.
    dropped = configmaps.server_side_apply(body={**apply_body, "data": {}}, name="ssa", namespace=namespace,
                                           field_manager="first")
    assert dict(dropped.data) == {"owner": "second"}

    deleted = configmaps.delete(name="dyn", namespace=namespace)
    assert deleted.status == "Success"
    with pytest.raises(dynamic.exceptions.NotFoundError) as missing:
        configmaps.get(name="dyn", namespace=namespace)
    assert missing.value.status == 404


WIDGET_SCHEMA: Obj = {
    "type": "object",
    "properties": {
        "spec": {"type": "object", "required": ["size"], "properties": {
            "size": {"type": "integer", "minimum": 1, "maximum": 10},
            "color": {"type": "string", "enum": ["red", "blue"], "default": "red"}}},
        "status": {"type": "object", "properties": {"phase": {"type": "string"}, "ready": {"type": "boolean"}}},
    },
}


def _crd(plural: str, kind: str, scope: str) -> Obj:
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.lab.example.com"},
        "spec": {"group": "lab.example.com", "scope": scope,
                 "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": f"{kind}List"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": WIDGET_SCHEMA}}]},
    }


@pytest.fixture(scope="module")
def crds(dyn: dynamic.DynamicClient) -> Iterator[None]:
    """Two CRDs, namespaced Widgets and cluster-scoped Gadgets, established and then deleted."""
    resource = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    names = []
    for plural, kind, scope in (("widgets", "Widget", "Namespaced"), ("gadgets", "Gadget", "Cluster")):
        crd = resource.create(body=_crd(plural, kind, scope))
        names.append(crd.metadata.name)

        def established(name: str = crd.metadata.name) -> bool:
            conditions = resource.get(name=name).status.conditions or []
            return any(c.type == "Established" and c.status == "True" for c in conditions)

        _wait(f"{plural} to be established", established)
    yield
    for name in names:
        resource.delete(name=name)


@pytest.mark.usefixtures("crds")
@pytest.mark.parametrize("kind", ["Widget", "Gadget"])
def test_custom_resources_with_status_subresource(dyn: dynamic.DynamicClient, namespace: str, kind: str) -> None:
    resource = dyn.resources.get(api_version="lab.example.com/v1", kind=kind)
    namespaced = kind == "Widget"
    assert resource.namespaced is namespaced and "status" in resource.subresources
    ns = namespace if namespaced else None
    name = f"w-{uuid.uuid4().hex[:6]}"
    body = {"apiVersion": "lab.example.com/v1", "kind": kind,
            "metadata": {"name": name, "labels": {"app": "w"}}, "spec": {"size": 3},
            "status": {"phase": "ignored on create"}}
    created = resource.create(body=body, namespace=ns)
    assert created.metadata.generation == 1 and created.spec.color == "red"  # defaulted from the schema
    assert "status" not in created.to_dict()
    assert (created.metadata.namespace == namespace) if namespaced else (created.metadata.namespace is None)

    status = resource.status.patch(name=name, namespace=ns, content_type="application/merge-patch+json", body={
        "spec": {"size": 9}, "metadata": {"labels": {"app": "changed"}}, "status": {"phase": "Ready"}})
    assert status.status.phase == "Ready" and status.spec.size == 3 and status.metadata.labels.app == "w"
    assert status.metadata.generation == 1
    assert {(m.manager, m.subresource) for m in status.metadata.managedFields} >= {("OpenAPI-Generator", "status")}

    spec = resource.patch(name=name, namespace=ns, content_type="application/merge-patch+json",
                          body={"spec": {"size": 4}, "status": {"phase": "ignored on the main resource"}})
    assert spec.spec.size == 4 and spec.status.phase == "Ready" and spec.metadata.generation == 2
    labels = resource.patch(name=name, namespace=ns, content_type="application/merge-patch+json",
                            body={"metadata": {"labels": {"team": "b"}}})
    assert labels.metadata.generation == 2 and dict(labels.metadata.labels) == {"app": "w", "team": "b"}

    # Replacing through /status with a stale resourceVersion conflicts like any update.
    stale = created.to_dict()
    stale["status"] = {"phase": "Stale"}
    with pytest.raises(ApiException) as info:
        resource.status.replace(body=stale, name=name, namespace=ns)
    assert info.value.status == 409 and json.loads(info.value.body)["reason"] == "Conflict"

    # Custom resources take no strategic merge patch (the dynamic client's default).
    with pytest.raises(ApiException) as info:
        resource.patch(name=name, namespace=ns, body={"spec": {"size": 5}})
    assert info.value.status == 415 and json.loads(info.value.body)["reason"] == "UnsupportedMediaType"

    # The schema validates.
    qualified = f"{kind}.lab.example.com"
    with pytest.raises(ApiException) as info:
        resource.patch(name=name, namespace=ns, content_type="application/merge-patch+json",
                       body={"spec": {"size": 0, "color": "pink"}})
    invalid = json.loads(info.value.body)
    assert info.value.status == 422 and invalid["reason"] == "Invalid"
    assert invalid["details"]["kind"] == kind and invalid["details"]["group"] == "lab.example.com"
    assert invalid["message"].startswith(f'{qualified} "{name}" is invalid: [')
    assert {(c["reason"], c["field"], c["message"]) for c in invalid["details"]["causes"]} == {
        ("FieldValueInvalid", "spec.size", "Invalid value: 0: spec.size in body should be greater than or equal to 1"),
        ("FieldValueNotSupported", "spec.color", 'Unsupported value: "pink": supported values: "red", "blue"')}
    with pytest.raises(ApiException) as info:
        resource.create(body={**body, "metadata": {"name": name + "-x"}, "spec": {"color": "blue"}}, namespace=ns)
    invalid = json.loads(info.value.body)
    assert info.value.status == 422 and invalid["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.size"}]

    listed = resource.get(namespace=ns, label_selector="team=b")
    assert listed.kind == f"{kind}List" and [i.metadata.name for i in listed.items] == [name]
    resource.delete(name=name, namespace=ns)
    with pytest.raises(dynamic.exceptions.NotFoundError):
        resource.get(name=name, namespace=ns)
    if namespaced:
        with pytest.raises(dynamic.exceptions.NotFoundError):  # a namespaced kind has no cluster-wide name
            dyn.request("get", f"/apis/lab.example.com/v1/widgets/{name}")


def test_deleting_a_crd_deletes_its_custom_resources_first(dyn: dynamic.DynamicClient, namespace: str) -> None:
    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    crd_name = "things.lab.example.com"
    crds.create(body=_crd("things", "Thing", "Namespaced"))
    things = dyn.resources.get(api_version="lab.example.com/v1", kind="Thing")
    body = {"apiVersion": "lab.example.com/v1", "kind": "Thing", "spec": {"size": 1}}
    things.create(body={**body, "metadata": {"name": "held", "finalizers": ["lab.example.com/hold"]}},
                  namespace=namespace)
    things.create(body={**body, "metadata": {"name": "free"}}, namespace=namespace)

    answer = crds.delete(name=crd_name)
    assert answer.kind == "CustomResourceDefinition" and answer.metadata.deletionTimestamp
    assert answer.metadata.finalizers == ["customresourcecleanup.apiextensions.k8s.io"]
    terminating = [c for c in answer.status.conditions if c.type == "Terminating"]
    assert terminating and terminating[0].status == "True"
    # The CRD waits for the Thing that has a finalizer of its own; new Things are refused meanwhile.
    _wait("the free Thing to go", lambda: [t.metadata.name for t in things.get(namespace=namespace).items]
          == ["held"])
    assert things.get(name="held", namespace=namespace).metadata.deletionTimestamp
    with pytest.raises(ApiException) as info:
        things.create(body={**body, "metadata": {"name": "late"}}, namespace=namespace)
    refused = json.loads(info.value.body)
    assert info.value.status == 405 and refused["reason"] == "MethodNotAllowed"
    assert refused["message"] == "create not allowed while custom resource definition is terminating"
    assert crds.get(name=crd_name).metadata.deletionTimestamp

    things.patch(name="held", namespace=namespace, body={"metadata": {"finalizers": None}},
                 content_type="application/merge-patch+json")

    _wait("the CRD to go", lambda: _gone(crds.get, name=crd_name))
    with pytest.raises(dynamic.exceptions.NotFoundError):
        dyn.request("get", f"/apis/lab.example.com/v1/namespaces/{namespace}/things")
    # Its instances went with it: a new CRD of the same name starts empty.
    crds.create(body=_crd("things", "Thing", "Namespaced"))
    assert dyn.request("get", f"/apis/lab.example.com/v1/namespaces/{namespace}/things").items == []
    crds.delete(name=crd_name)
    _wait("the second CRD to go", lambda: _gone(crds.get, name=crd_name))


# ---- utils.create_from_yaml --------------------------------------------------------------------------------
def test_create_from_yaml_and_already_exists(api_client: k8s.ApiClient, core: k8s.CoreV1Api,
                                             apps: k8s.AppsV1Api, tmp_path: pathlib.Path) -> None:
    ns = f"y-{uuid.uuid4().hex[:8]}"
    manifest = tmp_path / "app.yaml"
    manifest.write_text(f"""\
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {ns}
spec:
  selector: {{app: web}}
  ports:
  - port: 80
""")
    try:
        created = utils.create_from_yaml(api_client, str(manifest))
        kinds = [obj.kind for group in created for obj in group]
        assert kinds == ["Namespace", "Deployment", "Service"]
        assert apps.read_namespaced_deployment("web", ns).spec.replicas == 1
        assert core.read_namespaced_service("web", ns).spec.cluster_ip

        with pytest.raises(utils.FailToCreateError) as info:
            utils.create_from_yaml(api_client, str(manifest))
        failures = info.value.api_exceptions
        assert [e.status for e in failures] == [409, 409, 409]
        assert [json.loads(e.body)["reason"] for e in failures] == ["AlreadyExists"] * 3
        assert [json.loads(e.body)["message"] for e in failures] == [
            f'namespaces "{ns}" already exists', 'deployments.apps "web" already exists',
            'services "web" already exists']
        assert 'Error from server (Conflict): {"kind":"Status"' in str(info.value)
    finally:
        core.delete_namespace(ns)


# ---- selectors and pagination ------------------------------------------------------------------------------
def test_label_and_field_selectors(core: k8s.CoreV1Api, namespace: str) -> None:
    for name, labels in (("a", {"env": "prod", "tier": "web"}), ("b", {"env": "staging", "tier": "db"}),
                         ("c", {"env": "dev"}), ("d", {"env": "prod", "tier": "db", "canary": "true"})):
        core.create_namespaced_config_map(namespace, _configmap(name, labels=labels))

    def names(label_selector: str = "", **kwargs: Any) -> list[str]:
        selector = ",".join(s for s in (OURS, label_selector) if s)
        return [c.metadata.name for c in core.list_namespaced_config_map(namespace, label_selector=selector,
                                                                         **kwargs).items]

    assert names(label_selector="env=prod") == ["a", "d"]
    assert names(label_selector="env==prod,tier!=db") == ["a"]
    assert names(label_selector="env in (prod, staging)") == ["a", "b", "d"]
    assert names(label_selector="env notin (prod),tier") == ["b"]
    assert names(label_selector="!tier") == ["c"]
    assert names(label_selector="tier,!canary") == ["a", "b"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.name!=b,metadata.namespace=" + namespace) == ["a", "c", "d"]
    assert names(label_selector="env=prod", field_selector="metadata.name!=a") == ["d"]
    everywhere = core.list_config_map_for_all_namespaces(label_selector="env=prod",
                                                         field_selector=f"metadata.namespace={namespace}")
    assert [(c.metadata.namespace, c.metadata.name) for c in everywhere.items] == [(namespace, "a"),
                                                                                     (namespace, "d")]

    err, body = _raises(core.list_namespaced_config_map, namespace, label_selector="env in prod")
    assert err.status == 400 and body["reason"] == "BadRequest"
    assert body["message"].startswith("unable to parse requirement")
    err, body = _raises(core.list_namespaced_config_map, namespace, field_selector="data.k=v")
    assert err.status == 400 and body["reason"] == "BadRequest"
    assert body["message"] == '"data.k" is not a known field selector: only "metadata.name", "metadata.namespace"'
    err, body = _raises(core.list_namespaced_pod, namespace, field_selector="spec.foo=x")
    assert err.status == 400 and body["message"] == 'field label not supported: spec.foo'


def test_pod_field_selectors(core: k8s.CoreV1Api, apps: k8s.AppsV1Api, namespace: str) -> None:
    apps.create_namespaced_deployment(namespace, _deployment("web", replicas=2))
    pods = _wait("two running pods", lambda: [p for p in core.list_namespaced_pod(
        namespace, label_selector="app=web", field_selector="status.phase=Running").items] if len(
        core.list_namespaced_pod(namespace, field_selector="status.phase=Running").items) == 2 else None)
    node = pods[0].spec.node_name
    on_node = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node},metadata.namespace={namespace}")
    assert sorted(p.metadata.name for p in on_node.items) == sorted(p.metadata.name for p in pods)
    assert core.list_namespaced_pod(namespace, field_selector="status.phase=Pending").items == []
    assert core.list_namespaced_pod(namespace, field_selector=f"status.podIP={pods[0].status.pod_ip}").items[0] \
        .metadata.name == pods[0].metadata.name
    apps.delete_namespaced_deployment("web", namespace)


def test_pagination_with_limit_and_continue(core: k8s.CoreV1Api, namespace: str) -> None:
    for i in range(25):
        core.create_namespaced_config_map(namespace, _configmap(f"cm-{i:02d}", labels={"page": "yes"}))
    pages: list[list[str]] = []
    remaining: list[int | None] = []
    token: str | None = None
    first_rv = None
    while True:
        page = core.list_namespaced_config_map(namespace, limit=10, _continue=token, label_selector="page=yes")
        pages.append([c.metadata.name for c in page.items])
        remaining.append(page.metadata.remaining_item_count)
        first_rv = first_rv or page.metadata.resource_version
        token = page.metadata.var_continue
        if not token:
            break
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [name for page in pages for name in page] == [f"cm-{i:02d}" for i in range(25)]
    assert remaining == [15, 5, None]

    # Later pages show the list as it was when the first was read, whatever changed in between.
    first = core.list_namespaced_config_map(namespace, limit=10, label_selector="page=yes")
    core.delete_namespaced_config_map("cm-20", namespace)
    core.create_namespaced_config_map(namespace, _configmap("cm-99", labels={"page": "yes"}))
    rest = core.list_namespaced_config_map(namespace, limit=100, _continue=first.metadata.var_continue,
                                           label_selector="page=yes")
    assert [c.metadata.name for c in rest.items] == [f"cm-{i:02d}" for i in range(10, 25)]
    assert rest.metadata.resource_version == first.metadata.resource_version and rest.metadata.var_continue is None

    err, body = _raises(core.list_namespaced_config_map, namespace, limit=10, _continue="not-a-token")
    assert err.status == 400 and body["reason"] == "BadRequest"


# ---- deletion propagation ----------------------------------------------------------------------------------
def _replica_sets(apps: k8s.AppsV1Api, namespace: str) -> list[k8s.V1ReplicaSet]:
    return list(apps.list_namespaced_replica_set(namespace, label_selector="app=web").items)


def test_foreground_deletion_waits_for_dependents(apps: k8s.AppsV1Api, core: k8s.CoreV1Api, namespace: str) -> None:
    dep = apps.create_namespaced_deployment(namespace, _deployment("web", replicas=1))
    [rs] = _wait("a replica set", lambda: _replica_sets(apps, namespace))
    assert rs.metadata.owner_references[0].uid == dep.metadata.uid
    assert rs.metadata.owner_references[0].block_owner_deletion is True
    _wait("a pod", lambda: core.list_namespaced_pod(namespace, label_selector="app=web").items)

    answer = apps.delete_namespaced_deployment("web", namespace,
                                               body=k8s.V1DeleteOptions(propagation_policy="Foreground"))
    assert answer["kind"] == "Deployment" and answer["metadata"]["deletionTimestamp"]
    assert answer["metadata"]["finalizers"] == ["foregroundDeletion"]

    def gone() -> bool:
        try:
            held = apps.read_namespaced_deployment("web", namespace)
        except ApiException as err:
            return err.status == 404
        # While the deployment is held, it has its finalizer; its replica set may be going too.
        assert held.metadata.finalizers == ["foregroundDeletion"] and held.metadata.deletion_timestamp
        return False

    _wait("the deployment to go", gone)
    assert _replica_sets(apps, namespace) == []
    assert core.list_namespaced_pod(namespace, label_selector="app=web").items == []


def test_orphan_deletion_keeps_dependents(apps: k8s.AppsV1Api, core: k8s.CoreV1Api, namespace: str) -> None:
    apps.create_namespaced_deployment(namespace, _deployment("web", replicas=1))
    [rs] = _wait("a replica set", lambda: _replica_sets(apps, namespace))
    _wait("a running pod", lambda: core.list_namespaced_pod(namespace, label_selector="app=web",
                                                            field_selector="status.phase=Running").items)
    answer = apps.delete_namespaced_deployment("web", namespace,
                                               body=k8s.V1DeleteOptions(propagation_policy="Orphan"))
    assert answer["metadata"]["finalizers"] == ["orphan"] and answer["metadata"]["deletionTimestamp"]

    _wait("the deployment to go", lambda: _gone(apps.read_namespaced_deployment, "web", namespace))
    [kept] = _replica_sets(apps, namespace)
    assert kept.metadata.uid == rs.metadata.uid and kept.metadata.owner_references is None
    assert kept.spec.replicas == 1
    [pod] = core.list_namespaced_pod(namespace, label_selector="app=web").items
    assert pod.metadata.owner_references[0].uid == rs.metadata.uid and pod.metadata.deletion_timestamp is None
    status = apps.delete_namespaced_replica_set(kept.metadata.name, namespace)
    assert status["status"] == "Success"


def test_a_policy_finalizer_is_added_even_without_dependents(core: k8s.CoreV1Api, namespace: str) -> None:
    for policy, finalizer in (("Foreground", "foregroundDeletion"), ("Orphan", "orphan")):
        core.create_namespaced_config_map(namespace, _configmap("lone"))
        answer = core.delete_namespaced_config_map("lone", namespace,
                                                   body=k8s.V1DeleteOptions(propagation_policy=policy))
        # The object comes back marked, not a Status: the garbage collector finds nothing and lets it go.
        assert answer["kind"] == "ConfigMap" and answer["metadata"]["finalizers"] == [finalizer]
        assert answer["metadata"]["deletionTimestamp"]

        _wait(f"the {policy} deletion to finish", lambda: _gone(core.read_namespaced_config_map, "lone", namespace))
    core.create_namespaced_config_map(namespace, _configmap("lone"))
    status = core.delete_namespaced_config_map("lone", namespace,
                                               body=k8s.V1DeleteOptions(propagation_policy="Background"))
    assert status["kind"] == "Status" and status["status"] == "Success"
