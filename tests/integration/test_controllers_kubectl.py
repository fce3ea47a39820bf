"""The controllers as the real kubectl sees them: rollouts, history, undo, restart, logs, endpoints, cascades."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.conftest import Kubectl

Obj = dict[str, Any]


def _json(kubectl: Kubectl, *args: str) -> Obj:
    result: Obj = json.loads(kubectl(*args, "-o", "json").stdout)
    return result


def _rollout_status(kubectl: Kubectl, namespace: str, name: str = "web") -> str:
    return kubectl("rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=60s").stdout


def _images(kubectl: Kubectl, namespace: str) -> set[str]:
    pods = _json(kubectl, "get", "pods", "-n", namespace, "-l", "app=web")["items"]
    return {p["spec"]["containers"][0]["image"] for p in pods if not p["metadata"].get("deletionTimestamp")}


def test_rollout_history_undo_restart_and_logs(kubectl: Kubectl, namespace: str) -> None:
    kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=3", "-n", namespace)
    assert 'deployment "web" successfully rolled out' in _rollout_status(kubectl, namespace)
    pods = _json(kubectl, "get", "pods", "-n", namespace, "-l", "app=web")["items"]
    assert len(pods) == 3 and all(p["status"]["phase"] == "Running" for p in pods)

    kubectl("annotate", "deployment/web", "kubernetes.io/change-cause=image 1.28", "-n", namespace)
    kubectl("set", "image", "deployment/web", "nginx=nginx:1.28", "-n", namespace)
    assert "successfully rolled out" in _rollout_status(kubectl, namespace)
    history = kubectl("rollout", "history", "deployment/web", "-n", namespace).stdout
    assert "image 1.28" in history and history.count("\n1 ") + history.count("\n2 ") == 2

    kubectl("rollout", "undo", "deployment/web", "-n", namespace)
    assert "successfully rolled out" in _rollout_status(kubectl, namespace)
    assert _images(kubectl, namespace) == {"nginx:1.27"}
    revisions = [line.split()[0] for line in kubectl("rollout", "history", "deployment/web", "-n",
                                                    namespace).stdout.splitlines()[2:] if line.strip()]
    assert revisions == ["2", "3"]
    assert len(_json(kubectl, "get", "replicasets", "-n", namespace)["items"]) == 2  # revision 1 was reused

    kubectl("rollout", "restart", "deployment/web", "-n", namespace)
    assert "successfully rolled out" in _rollout_status(kubectl, namespace)
    assert len(_json(kubectl, "get", "replicasets", "-n", namespace)["items"]) == 3

    logs = kubectl("logs", "deployment/web", "-n", namespace).stdout
    assert "nginx/1.27" in logs and "start worker processes" in logs
    described = kubectl("describe", "deployment/web", "-n", namespace).stdout
    assert "ScalingReplicaSet" in described and "NewReplicaSetAvailable" in described


def test_scale_expose_and_delete(kubectl: Kubectl, namespace: str) -> None:
    kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=80", "-n", namespace)
    _rollout_status(kubectl, namespace)
    kubectl("expose", "deployment", "web", "--port=8080", "--target-port=80", "-n", namespace)
    kubectl("scale", "deployment/web", "--replicas=4", "-n", namespace)
    _rollout_status(kubectl, namespace)
    kubectl("wait", "--for=jsonpath={.subsets[0].addresses[3].ip}", "endpoints/web", "-n", namespace,
            "--timeout=30s")
    pod_ips = {p["status"]["podIP"] for p in _json(kubectl, "get", "pods", "-n", namespace, "-l", "app=web")["items"]}
    endpoints = _json(kubectl, "get", "endpoints", "web", "-n", namespace)
    assert {a["ip"] for a in endpoints["subsets"][0]["addresses"]} == pod_ips
    assert endpoints["subsets"][0]["ports"][0]["port"] == 80

    kubectl("delete", "deployment", "web", "-n", namespace)
    kubectl("wait", "--for=delete", "pod", "-l", "app=web", "-n", namespace, "--timeout=30s")
    assert _json(kubectl, "get", "replicasets", "-n", namespace)["items"] == []


def test_bad_image_and_too_big_pod_are_explained(kubectl: Kubectl, namespace: str) -> None:
    kubectl("run", "typo", "--image=ngnix:1.27", "-n", namespace)
    kubectl("wait", "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ImagePullBackOff",
            "pod/typo", "-n", namespace, "--timeout=60s")
    failed = kubectl("logs", "typo", "-n", namespace, check=False)
    assert failed.returncode != 0 and "waiting to start" in failed.stderr
    overrides = json.dumps({"spec": {"containers": [{"name": "huge", "image": "nginx:1.27",
                                                     "resources": {"requests": {"cpu": "64"}}}]}})
    kubectl("run", "huge", "--image=nginx:1.27", f"--overrides={overrides}", "-n", namespace)
    kubectl("wait", "--for=jsonpath={.status.conditions[0].reason}=Unschedulable", "pod/huge", "-n", namespace,
            "--timeout=30s")
    events = kubectl("get", "events", "-n", namespace, "--field-selector", "involvedObject.name=huge").stdout
    assert "0/1 nodes are available: 1 Insufficient cpu." in events
