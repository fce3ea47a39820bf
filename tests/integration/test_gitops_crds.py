"""Flux's CRDs in the sandbox: installed through the lab's client, used with the real kubectl as Flux users do."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from gitops_lab.gitops import crds
from gitops_lab.kube import client as kube
from gitops_lab.sandbox import server
from tests.integration.conftest import Kubectl

SHA = "3f786850e387550fdab836ed7e6dc881de23001b"


async def install(sandbox: server.Sandbox) -> list[dict]:
    async with kube.Client.from_kubeconfig(sandbox.kubeconfig) as client:
        return await crds.install(client)


@pytest.fixture(scope="module")
def installed(sandbox: server.Sandbox) -> list[dict]:
    return asyncio.run(install(sandbox))


@pytest.fixture
def flux_ns(kubectl: Kubectl, installed: list[dict]) -> str:
    name = f"flux-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    return name


def flux_objects(namespace: str) -> str:
    return f"""
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: fleet, namespace: {namespace}}}
spec:
  url: http://127.0.0.1:8080/fleet.git
  interval: 1m0s
  ref: {{branch: main}}
  secretRef: {{name: fleet-auth}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: test, namespace: {namespace}}}
spec:
  interval: 10m0s
  retryInterval: 15s
  path: ./envs/test
  prune: true
  wait: true
  timeout: 2m0s
  targetNamespace: demo-test
  sourceRef: {{kind: GitRepository, name: fleet}}
  healthChecks:
    - {{apiVersion: apps/v1, kind: Deployment, name: demo-app, namespace: demo-test}}
"""


def test_install_waits_until_established_and_is_idempotent(sandbox: server.Sandbox, installed: list[dict]) -> None:
    for crd in installed:
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions["Established"] == "True"
    again = asyncio.run(install(sandbox))
    assert [c["metadata"]["resourceVersion"] for c in again] == [
        c["metadata"]["resourceVersion"] for c in installed], "a second install changed the definitions"


def test_kubectl_shows_ready_and_status_columns(kubectl: Kubectl, flux_ns: str) -> None:
    kubectl("apply", "-f", "-", input=flux_objects(flux_ns))
    header = kubectl("get", "gitrepositories,kustomizations", "-n", flux_ns).stdout.splitlines()
    assert header[0].split() == ["NAME", "URL", "AGE", "READY", "STATUS"]
    assert header[1].split()[:2] == ["gitrepository.source.toolkit.fluxcd.io/fleet", "http://127.0.0.1:8080/fleet.git"]
    assert [line.split() for line in header if line.startswith("NAME")][1] == ["NAME", "AGE", "READY", "STATUS"]

    message = f"Applied revision: main@sha1:{SHA}"
    status = {"status": {"observedGeneration": 1, "lastAppliedRevision": f"main@sha1:{SHA}",
                         "lastAttemptedRevision": f"main@sha1:{SHA}",
                         "inventory": {"entries": [{"id": "demo-test_demo-app_apps_Deployment", "v": "v1"}]},
                         "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
                                         "message": message, "lastTransitionTime": "2026-11-27T05:00:00Z",
                                         "observedGeneration": 1}]}}
    kubectl("patch", "ks", "test", "-n", flux_ns, "--subresource=status", "--type=merge", "-p", json.dumps(status))
    row = kubectl("get", "ks", "test", "-n", flux_ns, "--no-headers").stdout.split(None, 3)
    assert row[0] == "test" and row[2] == "True" and row[3].strip() == message
    live = json.loads(kubectl("get", "kustomization", "test", "-n", flux_ns, "-o", "json").stdout)
    assert live["status"]["inventory"] == status["status"]["inventory"]
    assert live["spec"]["force"] is False, "Flux's default for spec.force"
    repo = json.loads(kubectl("get", "gitrepo", "fleet", "-n", flux_ns, "-o", "json").stdout)
    assert repo["spec"]["timeout"] == "60s", "Flux's default for spec.timeout"


def test_kubectl_explain_describes_the_fields(kubectl: Kubectl, installed: list[dict]) -> None:
    out = kubectl("explain", "kustomization.spec.prune").stdout
    assert "GROUP:      kustomize.toolkit.fluxcd.io" in out and "FIELD: prune <boolean>" in out
    assert "no longer in Git" in out
    out = kubectl("explain", "gitrepository.spec.ref").stdout
    assert all(f"{field}\t<string>" in out for field in ("branch", "tag", "commit", "name"))


@pytest.mark.parametrize(("change", "words"), [
    ({"spec": {"ignore": ".github/"}}, 'unknown field "spec.ignore"'),
    ({"spec": {"sourceRef": {"kind": "OCIRepository", "name": "fleet"}}}, 'Unsupported value: "OCIRepository"'),
    ({"spec": {"interval": "ten minutes"}}, "spec.interval"),
    ({"spec": {"prune": None}}, "spec.prune: Required value"),
])
def test_what_the_lab_does_not_implement_is_refused(kubectl: Kubectl, flux_ns: str, change: dict,
                                                    words: str) -> None:
    obj = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
           "metadata": {"name": "refused", "namespace": flux_ns},
           "spec": {"interval": "10m", "prune": True, "sourceRef": {"kind": "GitRepository", "name": "fleet"}}}
    obj["spec"] = {k: v for k, v in {**obj["spec"], **change["spec"]}.items() if v is not None}
    result = kubectl("apply", "-f", "-", input=json.dumps(obj), check=False)
    assert result.returncode != 0
    assert words in result.stderr, result.stderr
