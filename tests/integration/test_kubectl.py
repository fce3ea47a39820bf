"""The real kubectl v1.37 end to end against the sandbox, with exit codes and output as a real cluster gives them.

Covers discovery (version, api-resources, api-versions), reading (get in its output forms and selectors,
``get all``, not-found errors), writing (client- and server-side apply and their conflicts, diff, edit with a
scripted editor, scale, set image, label, annotate, the three patch types), deleting (dry run, cascades, by
label), rollouts (status, history with change-cause, undo to a revision, restart), ``wait``, ``get -w``,
describe and its Events, logs, explain, the protobuf bodies of ``kubectl create``, a CustomResourceDefinition and
its custom resources, the API's refusals of invalid objects, and the ``kubernetes`` Service a cluster starts with.
Every test works in a namespace of its own.
"""

from __future__ import annotations

import base64
import json
import logging
import pathlib
import queue
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
import yaml

from gitops_lab.sandbox import http, server
from tests.integration.conftest import KUBECTL, Kubectl

Obj = dict[str, Any]
T = TypeVar("T")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: nginx:1.27
"""


# ---- helpers ------------------------------------------------------------------------------------------------
def _json(kubectl: Kubectl, *args: str) -> Obj:
    result: Obj = json.loads(kubectl(*args, "-o", "json").stdout)
    return result


def _until(check: Callable[[], T], what: str, timeout: float = 30.0) -> T:
    """Poll ``check`` until it returns something truthy, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def _failed(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The stderr of a kubectl run that must have failed with ``code``."""
    assert result.returncode == code, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stderr


def _rows(text: str) -> list[list[str]]:
    """A kubectl table as rows of cells (header included); cells are separated by two or more spaces."""
    return [_split_cells(line) for line in text.splitlines() if line.strip()]


def _split_cells(line: str) -> list[str]:
    """One table line's cells: text separated by runs of two or more spaces."""
    cells: list[str] = []
    current, spaces = "", 0
    for char in line.strip():
        if char == " ":
            spaces += 1
            continue
        if spaces >= 2 and current:
            cells.append(current)
            current = ""
        elif spaces:
            current += " " * spaces
        spaces = 0
        current += char
    if current:
        cells.append(current)
    return cells


def _deploy(kubectl: Kubectl, namespace: str, name: str = "web", replicas: int = 1,
            image: str = "nginx:1.27") -> None:
    """A Deployment made with ``kubectl create deployment``, rolled out."""
    kubectl("create", "deployment", name, f"--image={image}", f"--replicas={replicas}", "-n", namespace)
    kubectl("rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=60s")


def _manifest(replicas: int = 1, image: str = "nginx:1.27", name: str = "web") -> str:
    return (DEPLOYMENT.replace("replicas: 1", f"replicas: {replicas}").replace("nginx:1.27", image)
            .replace("name: web", f"name: {name}").replace("app: web", f"app: {name}"))


def _pods(kubectl: Kubectl, namespace: str, selector: str = "app=web") -> list[Obj]:
    items: list[Obj] = _json(kubectl, "get", "pods", "-n", namespace, "-l", selector)["items"]
    return items


def _live_pods(kubectl: Kubectl, namespace: str, selector: str = "app=web") -> list[Obj]:
    return [p for p in _pods(kubectl, namespace, selector) if not p["metadata"].get("deletionTimestamp")]


class LineReader:
    """The stdout lines of a running process, read by a thread so a test can wait for them with a deadline."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, predicate: Callable[[str], bool], what: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        for line in self.lines:
            if predicate(line):
                return line
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}; lines so far: {self.lines}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the process ended before {what}; lines: {self.lines}")
            self.lines.append(line)
            if predicate(line):
                return line


# ---- discovery -----------------------------------------------------------------------------------------------
class TestDiscovery:
    def test_version_reports_the_server_as_v1_37(self, kubectl: Kubectl) -> None:
        out = kubectl("version").stdout
        assert "Client Version: v1.37." in out
        assert "Server Version: v1.37." in out
        server_version = _json(kubectl, "version")["serverVersion"]
        assert (server_version["major"], server_version["minor"]) == ("1", "37")
        assert server_version["gitVersion"].startswith("v1.37.")

    def test_api_resources_with_short_names_and_scope(self, kubectl: Kubectl) -> None:
        rows = _rows(kubectl("api-resources").stdout)
        assert rows[0] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
        by_name = {row[0]: row[1:] for row in rows[1:]}
        assert by_name["deployments"] == ["deploy", "apps/v1", "true", "Deployment"]
        assert by_name["replicasets"] == ["rs", "apps/v1", "true", "ReplicaSet"]
        assert by_name["configmaps"] == ["cm", "v1", "true", "ConfigMap"]
        assert by_name["namespaces"] == ["ns", "v1", "false", "Namespace"]
        assert by_name["nodes"] == ["no", "v1", "false", "Node"]
        assert by_name["secrets"] == ["v1", "true", "Secret"]  # secrets have no short name
        assert by_name["customresourcedefinitions"] == ["crd,crds", "apiextensions.k8s.io/v1", "false",
                                                        "CustomResourceDefinition"]
        assert "deployments/scale" not in by_name and "pods/log" not in by_name  # subresources are not listed

    def test_api_resources_filtered(self, kubectl: Kubectl) -> None:
        apps = _rows(kubectl("api-resources", "--api-group=apps").stdout)
        assert [row[0] for row in apps[1:]] == ["deployments", "replicasets"]
        assert all(row[2] == "apps/v1" for row in apps[1:])
        cluster = kubectl("api-resources", "--namespaced=false", "-o", "name").stdout.split()
        assert {"namespaces", "nodes", "customresourcedefinitions.apiextensions.k8s.io"} <= set(cluster)
        assert "pods" not in cluster and "deployments.apps" not in cluster

    def test_api_versions(self, kubectl: Kubectl) -> None:
        versions = kubectl("api-versions").stdout.split()
        assert {"v1", "apps/v1", "apiextensions.k8s.io/v1"} <= set(versions)
        assert versions == sorted(versions)


# ---- get -----------------------------------------------------------------------------------------------------
class TestGet:
    @pytest.fixture
    def web(self, kubectl: Kubectl, namespace: str) -> str:
        """Two running ``web`` pods in the test's namespace, plus a ConfigMap and a Secret (and the namespace's
        ``kube-root-ca.crt``, published by the controllers as on a real cluster)."""
        _until(lambda: kubectl("get", "configmap", "kube-root-ca.crt", "-n", namespace, check=False).returncode == 0,
               "kube-root-ca.crt")
        _deploy(kubectl, namespace, replicas=2)
        kubectl("create", "configmap", "settings", "--from-literal=mode=fast", "-n", namespace)
        kubectl("create", "secret", "generic", "token", "--from-literal=value=s3cr3t", "-n", namespace)
        return namespace

    def test_all_namespaces_table(self, kubectl: Kubectl, web: str) -> None:
        rows = _rows(kubectl("get", "pods", "-A").stdout)
        assert rows[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        mine = [row for row in rows[1:] if row[0] == web]
        assert len(mine) == 2
        assert all(row[1].startswith("web-") and row[2:5] == ["1/1", "Running", "0"] for row in mine)
        deployments = _rows(kubectl("get", "deployments", "--all-namespaces").stdout)
        assert [web, "web", "2/2", "2", "2"] in [row[:5] for row in deployments]

    def test_yaml_and_json(self, kubectl: Kubectl, web: str) -> None:
        doc = yaml.safe_load(kubectl("get", "deployment", "web", "-n", web, "-o", "yaml").stdout)
        assert (doc["apiVersion"], doc["kind"]) == ("apps/v1", "Deployment")
        assert doc["metadata"]["namespace"] == web and doc["metadata"]["generation"] == 1
        assert doc["spec"]["strategy"] == {"type": "RollingUpdate",
                                           "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
        assert doc["status"]["availableReplicas"] == 2
        assert "managedFields" not in doc["metadata"]  # kubectl hides them unless --show-managed-fields
        listed = _json(kubectl, "get", "pods", "-n", web)
        assert (listed["apiVersion"], listed["kind"]) == ("v1", "List")
        assert [p["kind"] for p in listed["items"]] == ["Pod", "Pod"]
        assert all(p["spec"]["nodeName"] == "sandbox-node" for p in listed["items"])

    def test_wide_output(self, kubectl: Kubectl, web: str) -> None:
        deploy = _rows(kubectl("get", "deployment", "web", "-n", web, "-o", "wide").stdout)
        assert deploy[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
        assert deploy[1][:4] == ["web", "2/2", "2", "2"] and deploy[1][5:] == ["nginx", "nginx:1.27", "app=web"]
        pods = _rows(kubectl("get", "pods", "-n", web, "-o", "wide").stdout)
        assert pods[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE",
                           "READINESS GATES"]
        ips = {p["status"]["podIP"] for p in _pods(kubectl, web)}
        assert {row[5] for row in pods[1:]} == ips
        assert all(row[6:] == ["sandbox-node", "<none>", "<none>"] for row in pods[1:])

    def test_label_selectors(self, kubectl: Kubectl, web: str) -> None:
        pod_names = sorted(p["metadata"]["name"] for p in _pods(kubectl, web))
        kubectl("run", "solo", "--image=nginx:1.27", "--labels=app=solo,tier=cache", "-n", web)

        def names(selector: str) -> list[str]:
            out = kubectl("get", "pods", "-n", web, "-l", selector, "-o", "name").stdout
            return sorted(line.removeprefix("pod/") for line in out.split())

        assert names("app=web") == pod_names
        assert names("app==solo") == ["solo"]
        assert names("app!=web") == ["solo"]
        assert names("app in (web,solo)") == sorted([*pod_names, "solo"])
        assert names("app notin (web)") == ["solo"]
        assert names("tier") == ["solo"]
        assert names("!tier") == pod_names
        assert names("app=web,pod-template-hash") == pod_names
        empty = kubectl("get", "pods", "-n", web, "-l", "app=nothing")
        assert empty.returncode == 0 and empty.stdout == ""
        assert empty.stderr.strip() == f"No resources found in {web} namespace."
        bad = _failed(kubectl("get", "pods", "-n", web, "-l", "app in web", check=False))
        assert "unable to parse requirement" in bad

    def test_field_selectors(self, kubectl: Kubectl, web: str) -> None:
        first = _pods(kubectl, web)[0]["metadata"]["name"]
        out = kubectl("get", "pods", "-n", web, "--field-selector", f"metadata.name={first}", "-o", "name").stdout
        assert out.split() == [f"pod/{first}"]
        running = kubectl("get", "pods", "-n", web, "--field-selector", "status.phase=Running", "-o", "name")
        assert len(running.stdout.split()) == 2
        on_node = kubectl("get", "pods", "-A", "--field-selector", f"spec.nodeName=sandbox-node,metadata.namespace={web}",
                          "-o", "name")
        assert len(on_node.stdout.split()) == 2
        pending = kubectl("get", "pods", "-n", web, "--field-selector", "status.phase=Pending")
        assert pending.returncode == 0 and pending.stderr.strip() == f"No resources found in {web} namespace."
        err = _failed(kubectl("get", "deployments", "-n", web, "--field-selector", "spec.replicas=2", check=False))
        assert err.startswith("Error from server (BadRequest): ")
        assert '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"' in err

    def test_name_and_jsonpath(self, kubectl: Kubectl, web: str) -> None:
        assert kubectl("get", "deployments", "-n", web, "-o", "name").stdout == "deployment.apps/web\n"
        assert kubectl("get", "cm,secrets", "-n", web, "-o", "name").stdout.split() == [
            "configmap/kube-root-ca.crt", "configmap/settings", "secret/token"]
        path = kubectl("get", "deployment", "web", "-n", web, "-o",
                       "jsonpath={.spec.template.spec.containers[0].image} {.status.readyReplicas}").stdout
        assert path == "nginx:1.27 2"
        ranged = kubectl("get", "pods", "-n", web, "-o",
                         'jsonpath={range .items[*]}{.metadata.labels.app}={.status.phase}{"\\n"}{end}').stdout
        assert ranged == "web=Running\nweb=Running\n"
        secret = kubectl("get", "secret", "token", "-n", web, "-o", "jsonpath={.data.value}").stdout
        assert base64.b64decode(secret) == b"s3cr3t"

    def test_get_all_and_several_kinds(self, kubectl: Kubectl, web: str) -> None:
        kubectl("expose", "deployment", "web", "--port=80", "-n", web)
        out = kubectl("get", "all", "-n", web).stdout
        blocks = [block.splitlines() for block in out.strip().split("\n\n")]
        assert [_split_cells(block[0])[:2] for block in blocks] == [
            ["NAME", "READY"], ["NAME", "TYPE"], ["NAME", "READY"], ["NAME", "DESIRED"]]
        assert [line.split()[0].split("/")[0] for block in blocks for line in block[1:]] == [
            "pod", "pod", "service", "deployment.apps", "replicaset.apps"]
        assert "deployment.apps/web   2/2     2            2" in out
        several = kubectl("get", "cm,secrets", "-n", web).stdout
        cm_block, secret_block = several.strip().split("\n\n")
        assert _rows(cm_block)[0] == ["NAME", "DATA", "AGE"]
        assert [row[:2] for row in _rows(cm_block)[1:]] == [["configmap/kube-root-ca.crt", "1"],
                                                            ["configmap/settings", "1"]]
        assert _rows(secret_block)[0] == ["NAME", "TYPE", "DATA", "AGE"]
        assert _rows(secret_block)[1][:3] == ["secret/token", "Opaque", "1"]

    def test_not_found(self, kubectl: Kubectl, namespace: str) -> None:
        err = _failed(kubectl("get", "deployment", "nope", "-n", namespace, check=False))
        assert err == 'Error from server (NotFound): deployments.apps "nope" not found\n'
        err = _failed(kubectl("get", "pods", "nope", "-n", namespace, check=False))
        assert err == 'Error from server (NotFound): pods "nope" not found\n'
        err = _failed(kubectl("get", "namespace", "no-such-namespace", check=False))
        assert err == 'Error from server (NotFound): namespaces "no-such-namespace" not found\n'
        err = _failed(kubectl("get", "gizmos", check=False))
        assert err == 'error: the server doesn\'t have a resource type "gizmos"\n'
        empty = kubectl("get", "deployments", "-n", namespace)
        assert empty.returncode == 0 and empty.stderr == f"No resources found in {namespace} namespace.\n"


# ---- apply and diff ------------------------------------------------------------------------------------------
class TestApply:
    def test_client_side_apply_created_unchanged_configured(self, kubectl: Kubectl, namespace: str) -> None:
        created = kubectl("apply", "-f", "-", "-n", namespace, input=_manifest())
        assert created.stdout == "deployment.apps/web created\n" and created.stderr == ""
        assert kubectl("apply", "-f", "-", "-n", namespace, input=_manifest()).stdout == \
            "deployment.apps/web unchanged\n"
        assert kubectl("apply", "-f", "-", "-n", namespace, input=_manifest(replicas=2)).stdout == \
            "deployment.apps/web configured\n"
        live = _json(kubectl, "get", "deployment", "web", "-n", namespace, "--show-managed-fields")
        assert live["spec"]["replicas"] == 2 and live["metadata"]["generation"] == 2
        last = json.loads(live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
        assert last["spec"]["replicas"] == 2 and last["metadata"]["namespace"] == namespace
        managers = {(m["manager"], m["operation"]) for m in live["metadata"]["managedFields"]}
        assert ("kubectl-client-side-apply", "Update") in managers

    def test_apply_removes_what_left_the_manifest(self, kubectl: Kubectl, namespace: str) -> None:
        labelled = _manifest().replace("  labels: {app: web}\n", "  labels: {app: web, tier: front}\n", 1)
        kubectl("apply", "-f", "-", "-n", namespace, input=labelled)
        assert _json(kubectl, "get", "deploy", "web", "-n", namespace)["metadata"]["labels"] == {
            "app": "web", "tier": "front"}
        assert kubectl("apply", "-f", "-", "-n", namespace, input=_manifest()).stdout == \
            "deployment.apps/web configured\n"
        assert _json(kubectl, "get", "deploy", "web", "-n", namespace)["metadata"]["labels"] == {"app": "web"}

    def test_server_side_apply_and_a_conflict_with_scale(self, kubectl: Kubectl, namespace: str) -> None:
        ssa = ("apply", "--server-side", "-f", "-", "-n", namespace)
        assert kubectl(*ssa, input=_manifest()).stdout == "deployment.apps/web serverside-applied\n"
        assert kubectl(*ssa, input=_manifest()).stdout == "deployment.apps/web serverside-applied\n"
        live = _json(kubectl, "get", "deployment", "web", "-n", namespace, "--show-managed-fields")
        assert ("kubectl", "Apply") in {(m["manager"], m["operation"]) for m in live["metadata"]["managedFields"]}
        assert "kubectl.kubernetes.io/last-applied-configuration" not in (live["metadata"].get("annotations") or {})

        assert kubectl("scale", "deployment/web", "--replicas=3", "-n", namespace).stdout == \
            "deployment.apps/web scaled\n"
        err = _failed(kubectl(*ssa, input=_manifest(), check=False))
        assert err.startswith('error: Apply failed with 1 conflict: conflict with "kubectl" with subresource '
                              '"scale" using apps/v1: .spec.replicas\n')
        assert "re-run the apply\n  command with the `--force-conflicts` flag" in err
        assert _json(kubectl, "get", "deployment", "web", "-n", namespace)["spec"]["replicas"] == 3

        forced = kubectl(*ssa, "--force-conflicts", input=_manifest())
        assert forced.stdout == "deployment.apps/web serverside-applied\n"
        live = _json(kubectl, "get", "deployment", "web", "-n", namespace, "--show-managed-fields")
        assert live["spec"]["replicas"] == 1
        scale_entries = [m for m in live["metadata"]["managedFields"] if m.get("subresource") == "scale"]
        assert all("f:replicas" not in json.dumps(m.get("fieldsV1", {})) for m in scale_entries)

    def test_server_side_apply_with_a_field_manager_shares_ownership(self, kubectl: Kubectl,
                                                                     namespace: str) -> None:
        kubectl("apply", "--server-side", "--field-manager=team-a", "-f", "-", "-n", namespace, input=_manifest())
        other = _manifest(image="nginx:1.28")
        err = _failed(kubectl("apply", "--server-side", "--field-manager=team-b", "-f", "-", "-n", namespace,
                              input=other, check=False))
        assert ('conflict with "team-a": .spec.template.spec.containers[name="app"].image' in err)
        same = kubectl("apply", "--server-side", "--field-manager=team-b", "-f", "-", "-n", namespace,
                       input=_manifest())
        assert same.returncode == 0  # equal values: co-owned, no conflict

    def test_dry_run_server_changes_nothing(self, kubectl: Kubectl, namespace: str) -> None:
        out = kubectl("apply", "-f", "-", "-n", namespace, "--dry-run=server", input=_manifest()).stdout
        assert out == "deployment.apps/web created (server dry run)\n"
        missing = kubectl("get", "deployment", "web", "-n", namespace, check=False)
        assert missing.returncode == 1 and "NotFound" in missing.stderr


class TestDiff:
    def test_exit_zero_when_equal_and_one_with_a_unified_diff(self, kubectl: Kubectl, namespace: str) -> None:
        kubectl("apply", "-f", "-", "-n", namespace, input=_manifest())
        same = kubectl("diff", "-f", "-", "-n", namespace, input=_manifest(), check=False)
        assert (same.returncode, same.stdout, same.stderr) == (0, "", "")

        changed = kubectl("diff", "-f", "-", "-n", namespace, input=_manifest(replicas=3, image="nginx:1.28"),
                          check=False)
        assert changed.returncode == 1, changed.stderr
        lines = changed.stdout.splitlines()
        assert lines[0].startswith("diff -u -N ") and lines[0].endswith(f"apps.v1.Deployment.{namespace}.web")
        assert lines[1].startswith("--- ") and lines[2].startswith("+++ ")
        assert "-  replicas: 1" in lines and "+  replicas: 3" in lines
        assert "-      - image: nginx:1.27" in lines and "+      - image: nginx:1.28" in lines
        assert "-  generation: 1" in lines and "+  generation: 2" in lines
        assert not any("managedFields" in line for line in lines)
        assert _json(kubectl, "get", "deployment", "web", "-n", namespace)["spec"]["replicas"] == 1

    def test_diff_of_a_new_object(self, kubectl: Kubectl, namespace: str) -> None:
        result = kubectl("diff", "-f", "-", "-n", namespace, input=_manifest(name="fresh"), check=False)
        assert result.returncode == 1
        assert "+  name: fresh" in result.stdout.splitlines()
        assert kubectl("get", "deployment", "fresh", "-n", namespace, check=False).returncode == 1


# ---- edit ----------------------------------------------------------------------------------------------------
class TestEdit:
    @staticmethod
    def _editor(tmp_path: pathlib.Path, sed: str) -> tuple[dict[str, str], pathlib.Path]:
        """An editor script that logs every file it is given, then edits it with ``sed``."""
        log = tmp_path / "editor.log"
        script = tmp_path / "editor.sh"
        script.write_text(f'#!/bin/sh\necho "=== $1" >> {log}\ncat "$1" >> {log}\nsed -i \'{sed}\' "$1"\n')
        script.chmod(0o755)
        return {"KUBE_EDITOR": "", "EDITOR": str(script)}, log

    def test_a_scripted_edit(self, kubectl: Kubectl, namespace: str) -> None:
        _deploy(kubectl, namespace)
        env = {"KUBE_EDITOR": "", "EDITOR": "sed -i 's/replicas: 1/replicas: 2/'"}
        edited = kubectl("edit", "deployment/web", "-n", namespace, env=env)
        assert edited.stdout == "deployment.apps/web edited\n"
        live = _json(kubectl, "get", "deployment", "web", "-n", namespace, "--show-managed-fields")
        assert live["spec"]["replicas"] == 2
        assert "kubectl-edit" in {m["manager"] for m in live["metadata"]["managedFields"]}

    def test_an_edit_that_changes_nothing_is_cancelled(self, kubectl: Kubectl, namespace: str) -> None:
        _deploy(kubectl, namespace)
        result = kubectl("edit", "deployment/web", "-n", namespace, env={"KUBE_EDITOR": "", "EDITOR": "true"})
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "Edit cancelled, no changes made.\n")

    def test_an_invalid_edit_reopens_with_the_causes_then_gives_up(self, kubectl: Kubectl, namespace: str,
                                                                   tmp_path: pathlib.Path) -> None:
        _deploy(kubectl, namespace)
        env, log = self._editor(tmp_path, "s/^  replicas: 1$/  replicas: -1/")
        err = _failed(kubectl("edit", "deployment/web", "-n", namespace, env=env, check=False))
        assert err.startswith('error: deployments.apps "web" is invalid\n'
                              'A copy of your changes has been stored to "')
        assert err.endswith('"\nerror: Edit cancelled, no valid changes were saved.\n')
        sessions = log.read_text().split("=== ")[1:]
        assert len(sessions) == 2  # the file was re-opened once with the server's reasons
        assert "was not valid" not in sessions[0]
        assert ('# deployments.apps "web" was not valid:\n'
                "# * spec.replicas: Invalid value: -1: must be greater than or equal to 0\n") in sessions[1]
        assert _json(kubectl, "get", "deployment", "web", "-n", namespace)["spec"]["replicas"] == 1

    def test_an_edit_with_a_wrong_type_reopens_with_the_patch_error(self, kubectl: Kubectl, namespace: str,
                                                                    tmp_path: pathlib.Path) -> None:
        _deploy(kubectl, namespace)
        env, log = self._editor(tmp_path, "/^spec:$/,/^  replicas:/s/^  replicas: 1$/  replicas: one/")  # spec's
        err = _failed(kubectl("edit", "deployment/web", "-n", namespace, env=env, check=False))
        assert err.startswith('error: deployments.apps "web" is invalid\n')
        sessions = log.read_text().split("=== ")[1:]
        assert len(sessions) == 2
        assert ('# deployments.apps "web" was not valid:\n'
                '# * patch: Invalid value: "map[spec:map[replicas:one]]": unrecognized type: int32\n') in sessions[1]


# ---- changing objects ----------------------------------------------------------------------------------------
class TestChanges:
    def test_scale_and_set_image(self, kubectl: Kubectl, namespace: str) -> None:
        _deploy(kubectl, namespace)
        assert kubectl("scale", "deployment/web", "--replicas=3", "-n", namespace).stdout == \
            "deployment.apps/web scaled\n"
        kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s")
        assert len(_live_pods(kubectl, namespace)) == 3
        wrong = _failed(kubectl("scale", "deployment/web", "--replicas=5", "--current-replicas=2", "-n", namespace,
                                check=False))
        assert "Expected replicas to be 2, was 3" in wrong
        assert kubectl("set", "image", "deployment/web", "nginx=nginx:1.28", "-n", namespace).stdout == \
            "deployment.apps/web image updated\n"
        kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s")
        _until(lambda: {p["spec"]["containers"][0]["image"] for p in _pods(kubectl, namespace)} == {"nginx:1.28"},
               "only new pods")
        err = _failed(kubectl("set", "image", "deployment/web", "sidecar=busybox", "-n", namespace, check=False))
        assert err == 'error: unable to find container named "sidecar"\n'

    def test_label_and_annotate(self, kubectl: Kubectl, namespace: str) -> None:
        kubectl("create", "configmap", "cfg", "-n", namespace)
        assert kubectl("label", "configmap", "cfg", "tier=front", "-n", namespace).stdout == "configmap/cfg labeled\n"
        clash = _failed(kubectl("label", "configmap", "cfg", "tier=back", "-n", namespace, check=False))
        assert clash == "error: 'tier' already has a value (front), and --overwrite is false\n"
        assert kubectl("label", "configmap", "cfg", "tier=back", "--overwrite", "-n", namespace).stdout == \
            "configmap/cfg labeled\n"
        assert kubectl("get", "cm", "-n", namespace, "-l", "tier=back", "-o", "name").stdout == "configmap/cfg\n"
        assert kubectl("label", "configmap", "cfg", "tier-", "-n", namespace).stdout == "configmap/cfg unlabeled\n"
        again = kubectl("label", "configmap", "cfg", "tier-", "-n", namespace)
        assert (again.stdout, again.stderr) == ('label "tier" not found.\nconfigmap/cfg not labeled\n', "")
        assert kubectl("annotate", "configmap", "cfg", "owner=team-a", "-n", namespace).stdout == \
            "configmap/cfg annotated\n"
        meta = _json(kubectl, "get", "configmap", "cfg", "-n", namespace)["metadata"]
        assert meta.get("labels") is None and meta["annotations"] == {"owner": "team-a"}
        assert kubectl("annotate", "configmap", "cfg", "owner-", "-n", namespace).stdout == \
            "configmap/cfg annotated\n"
        assert _json(kubectl, "get", "configmap", "cfg", "-n", namespace)["metadata"].get("annotations") is None

    def test_patch_types(self, kubectl: Kubectl, namespace: str) -> None:
        kubectl("apply", "-f", "-", "-n", namespace, input=_manifest().replace(
            "        image: nginx:1.27\n",
            "        image: nginx:1.27\n      - name: sidecar\n        image: busybox:1.36\n"))

        def containers() -> list[tuple[str, str]]:
            spec = _json(kubectl, "get", "deployment", "web", "-n", namespace)["spec"]["template"]["spec"]
            return [(c["name"], c["image"]) for c in spec["containers"]]

        strategic = kubectl("patch", "deployment", "web", "-n", namespace, "-p",
                            '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.28"}]}}}}')
        assert strategic.stdout == "deployment.apps/web patched\n"
        assert containers() == [("app", "nginx:1.28"), ("sidecar", "busybox:1.36")]  # merged by name

        merge = kubectl("patch", "deployment", "web", "-n", namespace, "--type", "merge", "-p",
                        '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}}}}')
        assert merge.stdout == "deployment.apps/web patched\n"
        assert containers() == [("app", "nginx:1.27")]  # a merge patch replaces lists

        unchanged = kubectl("patch", "deployment", "web", "-n", namespace, "--type", "merge", "-p",
                            '{"spec":{"replicas":1}}')
        assert unchanged.stdout == "deployment.apps/web patched (no change)\n"

        json_patch = kubectl("patch", "deployment", "web", "-n", namespace, "--type", "json", "-p",
                             '[{"op":"test","path":"/spec/replicas","value":1},'
                             '{"op":"replace","path":"/spec/replicas","value":2},'
                             '{"op":"add","path":"/metadata/labels/patched","value":"yes"}]')
        assert json_patch.stdout == "deployment.apps/web patched\n"
        live = _json(kubectl, "get", "deployment", "web", "-n", namespace)
        assert live["spec"]["replicas"] == 2 and live["metadata"]["labels"]["patched"] == "yes"

        failed = _failed(kubectl("patch", "deployment", "web", "-n", namespace, "--type", "json", "-p",
                                 '[{"op":"test","path":"/spec/replicas","value":9},'
                                 '{"op":"replace","path":"/spec/replicas","value":9}]', check=False))
        assert failed == "The request is invalid: the server rejected our request due to an error in our request\n"
        assert _json(kubectl, "get", "deployment", "web", "-n", namespace)["spec"]["replicas"] == 2

        # A patched object that does not decode: 422 on the field "patch", the patch shown as Go prints it.
        wrong_type = _failed(kubectl("patch", "deployment", "web", "-n", namespace, "-p",
                                     '{"spec":{"replicas":"two"}}', check=False))
        assert wrong_type == ('The request is invalid: patch: Invalid value: "map[spec:map[replicas:two]]": '
                              "unrecognized type: int32\n")
        wrong_type = _failed(kubectl("patch", "deployment", "web", "-n", namespace, "--type", "merge", "-p",
                                     '{"spec":{"replicas":"two"}}', check=False))
        assert wrong_type.startswith('The request is invalid: patch: Invalid value: "{\\"apiVersion\\":'
                                     '\\"apps/v1\\",\\"kind\\":\\"Deployment\\",\\"metadata\\":{')
        assert wrong_type.endswith('": json: cannot unmarshal string into Go struct field '
                                   "DeploymentSpec.spec.replicas of type int32\n")
        missing = _failed(kubectl("patch", "deployment", "nope", "-n", namespace, "-p", "{}", check=False))
        assert missing == 'Error from server (NotFound): deployments.apps "nope" not found\n'


# ---- delete --------------------------------------------------------------------------------------------------
class TestDelete:
    def test_dry_run_server_leaves_the_object(self, kubectl: Kubectl, namespace: str) -> None:
        kubectl("create", "configmap", "cfg", "-n", namespace)
        out = kubectl("delete", "configmap", "cfg", "-n", namespace, "--dry-run=server").stdout
        assert out == f'configmap "cfg" deleted from {namespace} namespace (server dry run)\n'
        assert kubectl("get", "configmap", "cfg", "-n", namespace, "-o", "name").stdout == "configmap/cfg\n"
        assert kubectl("delete", "configmap", "cfg", "-n", namespace).stdout == \
            f'configmap "cfg" deleted from {namespace} namespace\n'
        gone = _failed(kubectl("delete", "configmap", "cfg", "-n", namespace, check=False))
        assert gone == 'Error from server (NotFound): configmaps "cfg" not found\n'
        ignored = kubectl("delete", "configmap", "cfg", "-n", namespace, "--ignore-not-found")
        assert (ignored.returncode, ignored.stdout, ignored.stderr) == (0, "", "")

    def test_cascade_background_deletes_dependents_afterwards(self, kubectl: Kubectl, namespace: str) -> None:
        _deploy(kubectl, namespace, replicas=2)
        out = kubectl("delete", "deployment", "web", "-n", namespace, "--cascade=background").stdout
        assert out == f'deployment.apps "web" deleted from {namespace} namespace\n'
        _until(lambda: not _json(kubectl, "get", "replicasets", "-n", namespace)["items"]
               and not _pods(kubectl, namespace), "the garbage collector to remove the ReplicaSet and pods")

    def test_cascade_foreground_waits_for_the_dependents(self, kubectl: Kubectl, namespace: str) -> None:
        _deploy(kubectl, namespace, replicas=2)
        out = kubectl("delete", "deployment", "web", "-n", namespace, "--cascade=foreground").stdout
        assert out == f'deployment.apps "web" deleted from {namespace} namespace\n'
        # kubectl waited for the Deployment to go, which the foreground finalizer holds until its dependents went
        assert _json(kubectl, "get", "replicasets", "-n", namespace)["items"] == []
        assert _pods(kubectl, namespace) == []

    def test_cascade_orphan_keeps_replica_sets_and_pods(self, kubectl: Kubectl, namespace: str) -> None:
        _deploy(kubectl, namespace, replicas=2)
        pods_before = {p["metadata"]["name"] for p in _pods(kubectl, namespace)}
        kubectl("delete", "deployment", "web", "-n", namespace, "--cascade=orphan")
        assert kubectl("get", "deployments", "-n", namespace).stderr == f"No resources found in {namespace} namespace.\n"
        [rs] = _json(kubectl, "get", "replicasets", "-n", namespace)["items"]
        assert "ownerReferences" not in rs["metadata"]
        assert {p["metadata"]["name"] for p in _pods(kubectl, namespace)} == pods_before
        assert all(p["metadata"]["ownerReferences"][0]["name"] == rs["metadata"]["name"]
                   for p in _pods(kubectl, namespace))

    def test_delete_by_label(self, kubectl: Kubectl, namespace: str) -> None:
        for name, team in (("a1", "a"), ("a2", "a"), ("b1", "b")):
            kubectl("create", "configmap", name, "-n", namespace)
            kubectl("label", "configmap", name, f"team={team}", "-n", namespace)
        out = kubectl("delete", "configmaps", "-l", "team=a", "-n", namespace).stdout
        assert out == (f'configmap "a1" deleted from {namespace} namespace\n'
                       f'configmap "a2" deleted from {namespace} namespace\n')
        assert kubectl("get", "cm", "-l", "team", "-n", namespace, "-o", "name").stdout == "configmap/b1\n"
        none = kubectl("delete", "configmaps", "-l", "team=z", "-n", namespace)
        assert (none.returncode, none.stdout, none.stderr) == (0, "No resources found\n", "")


# ---- rollouts ------------------------------------------------------------------------------------------------
class TestRollout:
    def test_history_with_change_causes_undo_to_revision_and_restart(self, kubectl: Kubectl,
                                                                     namespace: str) -> None:
        _deploy(kubectl, namespace, replicas=2)
        cause = "kubernetes.io/change-cause"
        kubectl("annotate", "deployment/web", f"{cause}=first release", "-n", namespace)
        kubectl("set", "image", "deployment/web", "nginx=nginx:1.28", "-n", namespace)
        kubectl("annotate", "deployment/web", f"{cause}=nginx 1.28", "--overwrite", "-n", namespace)
        status = kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s").stdout
        assert status.endswith('deployment "web" successfully rolled out\n')

        def history() -> list[list[str]]:
            return _rows(kubectl("rollout", "history", "deployment/web", "-n", namespace).stdout)

        _until(lambda: history()[2:] == [["1", "first release"], ["2", "nginx 1.28"]],
               "the change-causes copied onto the ReplicaSets")
        lines = kubectl("rollout", "history", "deployment/web", "-n", namespace).stdout.splitlines()
        assert lines[0] == "deployment.apps/web " and lines[1].split() == ["REVISION", "CHANGE-CAUSE"]
        detail = kubectl("rollout", "history", "deployment/web", "-n", namespace, "--revision=2").stdout
        assert detail.startswith("deployment.apps/web with revision #2\nPod Template:\n")
        assert "Image:\tnginx:1.28" in detail and f"{cause}: nginx 1.28" in detail

        assert kubectl("rollout", "undo", "deployment/web", "--to-revision=1", "-n", namespace).stdout == \
            "deployment.apps/web rolled back\n"
        kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s")
        assert {p["spec"]["containers"][0]["image"] for p in _live_pods(kubectl, namespace)} == {"nginx:1.27"}
        assert history()[2:] == [["2", "nginx 1.28"], ["3", "first release"]]  # revision 1 became 3

        missing = _failed(kubectl("rollout", "undo", "deployment/web", "--to-revision=9", "-n", namespace,
                                  check=False))
        assert missing == "error: unable to find specified revision 9 in history\n"

        assert kubectl("rollout", "restart", "deployment/web", "-n", namespace).stdout == \
            "deployment.apps/web restarted\n"
        kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s")
        template = _json(kubectl, "get", "deployment", "web", "-n", namespace)["spec"]["template"]
        assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]
        assert [row[0] for row in history()[2:]] == ["2", "3", "4"]

    def test_status_reports_progress_and_a_paused_rollout(self, kubectl: Kubectl, namespace: str) -> None:
        _deploy(kubectl, namespace)
        assert kubectl("rollout", "pause", "deployment/web", "-n", namespace).stdout == "deployment.apps/web paused\n"
        kubectl("set", "image", "deployment/web", "nginx=nginx:1.28", "-n", namespace)
        def observed() -> bool:
            d = _json(kubectl, "get", "deployment", "web", "-n", namespace)
            return bool(d["status"].get("observedGeneration") == d["metadata"]["generation"])
        _until(observed, "the paused deployment's new generation to be observed")
        paused = kubectl("rollout", "status", "deployment/web", "-n", namespace, "--watch=false").stdout
        assert paused == 'Waiting for deployment "web" rollout to finish: 0 out of 1 new replicas have been updated...\n'
        progressing = [c for c in _json(kubectl, "get", "deployment", "web", "-n", namespace)["status"]["conditions"]
                       if c["type"] == "Progressing"]
        assert [(c["status"], c["reason"], c["message"]) for c in progressing] == [
            ("Unknown", "DeploymentPaused", "Deployment is paused")]
        assert {p["spec"]["containers"][0]["image"] for p in _live_pods(kubectl, namespace)} == {"nginx:1.27"}
        assert kubectl("rollout", "resume", "deployment/web", "-n", namespace).stdout == \
            "deployment.apps/web resumed\n"
        done = kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s").stdout
        assert done.endswith('deployment "web" successfully rolled out\n')


class TestWaitAndWatch:
    def test_wait_for_available(self, kubectl: Kubectl, namespace: str) -> None:
        kubectl("create", "deployment", "web", "--image=nginx:1.27", "-n", namespace)
        out = kubectl("wait", "--for=condition=Available", "deployment/web", "-n", namespace, "--timeout=60s")
        assert out.stdout == "deployment.apps/web condition met\n"
        never = kubectl("wait", "--for=condition=Available=False", "deployment/web", "-n", namespace,
                        "--timeout=1s", check=False)
        assert never.returncode == 1
        assert never.stderr == "error: timed out waiting for the condition on deployments/web\n"

    def test_get_watch_shows_added_and_modified_rows(self, kubectl: Kubectl, namespace: str) -> None:
        _deploy(kubectl, namespace)
        proc = subprocess.Popen([KUBECTL, "get", "deployments", "-w", "--output-watch-events", "-n", namespace],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=kubectl.env)
        try:
            reader = LineReader(proc)
            header = reader.until(lambda line: line.startswith("EVENT"), "the header")
            assert _split_cells(header) == ["EVENT", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
            added = reader.until(lambda line: line.startswith("ADDED"), "the ADDED row")
            assert _split_cells(added)[:5] == ["ADDED", "web", "1/1", "1", "1"]
            kubectl("scale", "deployment/web", "--replicas=2", "-n", namespace)
            reader.until(lambda line: _split_cells(line)[:3] == ["MODIFIED", "web", "1/2"], "the scaled row")
            done = reader.until(lambda line: _split_cells(line)[:5] == ["MODIFIED", "web", "2/2", "2", "2"],
                                "the row with both replicas available")
            assert done
            assert all(_split_cells(line)[0] in ("EVENT", "ADDED", "MODIFIED") for line in reader.lines)
        finally:
            proc.terminate()
            proc.wait(10)
            assert proc.stdout is not None and proc.stderr is not None
            proc.stdout.close()
            proc.stderr.close()


# ---- describe, logs, explain ---------------------------------------------------------------------------------
def _events_section(described: str) -> list[list[str]]:
    """The Events table of a describe output: the header, then one row per event (the dashes left out)."""
    section = described.split("\nEvents:\n", 1)[1].splitlines()
    assert section[1].split() == ["----", "------", "----", "----", "-------"]
    return [_split_cells(section[0])] + [_split_cells(line) for line in section[2:] if line.strip()]


class TestDescribeLogsExplain:
    def test_describe_deployment_and_pod_with_events(self, kubectl: Kubectl, namespace: str) -> None:
        _deploy(kubectl, namespace, replicas=2)
        described = kubectl("describe", "deployment", "web", "-n", namespace).stdout
        fields = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in described.splitlines()
                  if line and not line.startswith(" ") and ":" in line}
        assert fields["Name"] == "web" and fields["Namespace"] == namespace
        assert fields["Selector"] == "app=web"
        assert fields["Replicas"] == "2 desired | 2 updated | 2 total | 2 available | 0 unavailable"
        assert fields["StrategyType"] == "RollingUpdate"
        assert fields["RollingUpdateStrategy"] == "25% max unavailable, 25% max surge"
        [rs] = _json(kubectl, "get", "replicasets", "-n", namespace)["items"]
        assert fields["NewReplicaSet"] == f"{rs['metadata']['name']} (2/2 replicas created)"
        events = _events_section(described)
        assert events[0] == ["Type", "Reason", "Age", "From", "Message"]
        assert [e[:2] for e in events[1:]] == [["Normal", "ScalingReplicaSet"]]
        assert events[1][3:] == ["deployment-controller", f"Scaled up replica set {rs['metadata']['name']} from 0 to 2"]

    def test_describe_pods_with_their_events_in_order(self, kubectl: Kubectl, namespace: str) -> None:
        _deploy(kubectl, namespace, name="httpd", image="httpd:2.4")  # no other test pulls httpd
        [first] = _pods(kubectl, namespace, "app=httpd")
        name = first["metadata"]["name"]
        described = kubectl("describe", "pod", name, "-n", namespace).stdout
        rs = first["metadata"]["ownerReferences"][0]["name"]
        assert f"Controlled By:  ReplicaSet/{rs}" in described
        assert "Status:       Running" in described and f"IP:           {first['status']['podIP']}" in described
        events = _events_section(described)
        assert events[0] == ["Type", "Reason", "Age", "From", "Message"]
        assert [e[1] for e in events[1:]] == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
        assert events[1][3:] == ["default-scheduler", f"Successfully assigned {namespace}/{name} to sandbox-node"]
        assert events[2][3:] == ["kubelet", 'Pulling image "httpd:2.4"']
        pulled = events[3][4]
        assert pulled.startswith('Successfully pulled image "httpd:2.4" in ') and " including waiting). " in pulled
        assert re.fullmatch(r'Successfully pulled image "httpd:2.4" in (\d+(\.\d+)?s|\d+ms) \(\1 including waiting\)'
                            r"\. Image size: \d+ bytes\.", pulled), pulled
        assert events[4][3:] == ["kubelet", "Created container: httpd"]
        assert events[5][3:] == ["kubelet", "Started container httpd"]

        kubectl("scale", "deployment/httpd", "--replicas=2", "-n", namespace)
        kubectl("rollout", "status", "deployment/httpd", "-n", namespace, "--timeout=60s")
        [second] = [p for p in _pods(kubectl, namespace, "app=httpd") if p["metadata"]["name"] != name]
        events = _events_section(kubectl("describe", "pod", second["metadata"]["name"], "-n", namespace).stdout)
        assert [e[1] for e in events[1:]] == ["Scheduled", "Pulled", "Created", "Started"]
        assert events[2][3:] == ["kubelet", 'Container image "httpd:2.4" already present on machine']

    def test_logs_of_a_pod_and_a_deployment(self, kubectl: Kubectl, namespace: str) -> None:
        _deploy(kubectl, namespace, replicas=2)
        pod = sorted(p["metadata"]["name"] for p in _pods(kubectl, namespace))[0]
        logs = kubectl("logs", pod, "-n", namespace).stdout.splitlines()
        assert len(logs) > 3 and any("nginx/1.27" in line for line in logs)
        tail = kubectl("logs", pod, "-n", namespace, "--tail=2").stdout.splitlines()
        assert tail == logs[-2:]
        via = kubectl("logs", "deployment/web", "-n", namespace, "--tail=1")
        assert len(via.stdout.splitlines()) == 1
        assert via.stderr.startswith("Found 2 pods, using pod/web-")
        missing = _failed(kubectl("logs", "nope", "-n", namespace, check=False))
        assert missing == f'error: error from server (NotFound): pods "nope" not found in namespace "{namespace}"\n'

    def test_explain(self, kubectl: Kubectl) -> None:
        out = kubectl("explain", "deployment.spec.strategy").stdout
        assert out.startswith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\n"
                              "FIELD: strategy <DeploymentStrategy>\n")
        assert "The deployment strategy to use to replace existing pods with new ones." in out
        fields = out.split("FIELDS:\n", 1)[1]
        assert "  rollingUpdate\t<RollingUpdateDeployment>" in fields and "  type\t<string>" in fields
        err = _failed(kubectl("explain", "deployment.spec.nothing", check=False))
        assert err == 'error: field "nothing" does not exist\n'


# ---- kubectl create (protobuf bodies) ------------------------------------------------------------------------
class TestCreate:
    def test_create_each_kind_then_get_it(self, kubectl: Kubectl, namespace: str) -> None:
        ns = ("-n", namespace)
        assert kubectl("create", "configmap", "cfg", "--from-literal=mode=fast", "--from-literal=level=3",
                       *ns).stdout == "configmap/cfg created\n"
        assert kubectl("create", "secret", "generic", "creds", "--from-literal=user=admin",
                       "--from-literal=password=s3cr3t", *ns).stdout == "secret/creds created\n"
        assert kubectl("create", "deployment", "api", "--image=nginx:1.27", "--replicas=2", "--port=8080",
                       *ns).stdout == "deployment.apps/api created\n"
        assert kubectl("create", "service", "clusterip", "api", "--tcp=80:8080", *ns).stdout == \
            "service/api created\n"
        child = f"{namespace}-x"
        try:
            assert kubectl("create", "namespace", child).stdout == f"namespace/{child} created\n"
            ns_obj = _json(kubectl, "get", "namespace", child)
            assert ns_obj["status"]["phase"] == "Active"
            assert ns_obj["spec"] == {"finalizers": ["kubernetes"]}
            assert ns_obj["metadata"]["labels"] == {"kubernetes.io/metadata.name": child}
        finally:
            kubectl("delete", "namespace", child, "--wait=false")

        cm = _json(kubectl, "get", "configmap", "cfg", *ns)
        assert cm["data"] == {"mode": "fast", "level": "3"}
        secret = _json(kubectl, "get", "secret", "creds", *ns)
        assert secret["type"] == "Opaque"
        assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {
            "user": "admin", "password": "s3cr3t"}
        deploy = _json(kubectl, "get", "deployment", "api", *ns)
        assert deploy["spec"]["replicas"] == 2 and deploy["spec"]["selector"] == {"matchLabels": {"app": "api"}}
        [container] = deploy["spec"]["template"]["spec"]["containers"]
        assert (container["name"], container["image"]) == ("nginx", "nginx:1.27")
        assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
        svc = _json(kubectl, "get", "service", "api", *ns)
        assert svc["spec"]["type"] == "ClusterIP" and svc["spec"]["selector"] == {"app": "api"}
        assert svc["spec"]["ports"] == [{"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}]
        assert svc["spec"]["clusterIP"].startswith("10.9") and svc["spec"]["clusterIPs"] == [svc["spec"]["clusterIP"]]
        row = _rows(kubectl("get", "service", "api", *ns).stdout)[1]
        assert row[:5] == ["api", "ClusterIP", svc["spec"]["clusterIP"], "<none>", "80/TCP"]

        kubectl("rollout", "status", "deployment/api", *ns, "--timeout=60s")
        kubectl("wait", "--for=jsonpath={.subsets[0].addresses[1].ip}", "endpoints/api", *ns, "--timeout=30s")

    def test_create_sends_protobuf(self, kubectl: Kubectl, namespace: str) -> None:
        """What the test above relies on: kubectl create's bodies are protobuf, which the sandbox decodes."""
        result = kubectl("create", "configmap", "proto", "--from-literal=k=v", "-n", namespace, "-v=8")
        request = result.stderr.split('verb="POST"', 1)[1].split('"Response"', 1)[0]
        assert "Content-Type: application/vnd.kubernetes.protobuf" in request
        assert "fieldManager=kubectl-create&fieldValidation=Strict" in request
        assert _json(kubectl, "get", "configmap", "proto", "-n", namespace)["data"] == {"k": "v"}
        managers = _json(kubectl, "get", "configmap", "proto", "-n", namespace, "--show-managed-fields")
        assert [m["manager"] for m in managers["metadata"]["managedFields"]] == ["kubectl-create"]

    def test_create_refuses_a_duplicate(self, kubectl: Kubectl, namespace: str) -> None:
        kubectl("create", "configmap", "cfg", "-n", namespace)
        err = _failed(kubectl("create", "configmap", "cfg", "-n", namespace, check=False))
        assert err == 'error: failed to create configmap: configmaps "cfg" already exists\n'
        kubectl("create", "deployment", "web", "--image=nginx:1.27", "-n", namespace)
        err = _failed(kubectl("create", "deployment", "web", "--image=nginx:1.27", "-n", namespace, check=False))
        assert err == 'error: failed to create deployment: deployments.apps "web" already exists\n'


# ---- custom resources ----------------------------------------------------------------------------------------
CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.lab.example.com
spec:
  group: lab.example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Color, type: string, jsonPath: .spec.color, description: The paint.}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: What the widget should be.
            required: [size]
            properties:
              size: {type: integer, minimum: 1, maximum: 10, description: How big the widget is.}
              color: {type: string, enum: [red, blue], default: red}
"""


class TestCustomResources:
    @pytest.fixture
    def crd(self, kubectl: Kubectl) -> Iterator[str]:
        out = kubectl("apply", "-f", "-", input=CRD).stdout
        assert out == "customresourcedefinition.apiextensions.k8s.io/widgets.lab.example.com created\n"
        kubectl("wait", "--for=condition=Established", "crd/widgets.lab.example.com", "--timeout=30s")
        yield "widgets.lab.example.com"
        kubectl("delete", "crd", "widgets.lab.example.com", "--wait=false")

    def test_a_crd_and_its_resources(self, kubectl: Kubectl, namespace: str, crd: str) -> None:
        resources = _rows(kubectl("api-resources", "--api-group=lab.example.com").stdout)
        assert resources[1] == ["widgets", "wd", "lab.example.com/v1", "true", "Widget"]
        widget = ("apiVersion: lab.example.com/v1\nkind: Widget\nmetadata: {name: small}\n"
                  "spec: {size: 3, color: blue}\n")
        assert kubectl("apply", "-f", "-", "-n", namespace, input=widget).stdout == \
            "widget.lab.example.com/small created\n"
        assert kubectl("apply", "-f", "-", "-n", namespace, input=widget).stdout == \
            "widget.lab.example.com/small unchanged\n"
        kubectl("apply", "-f", "-", "-n", namespace, input=widget.replace("small", "plain").replace(
            ", color: blue", ""))
        table = _rows(kubectl("get", "widgets", "-n", namespace).stdout)
        assert table[0] == ["NAME", "SIZE", "COLOR", "AGE"]
        assert [row[:3] for row in table[1:]] == [["plain", "3", "red"], ["small", "3", "blue"]]  # red: default
        # the same through the short name (AGE may tick over between the two calls)
        assert [row[:3] for row in _rows(kubectl("get", "wd", "-n", namespace).stdout)] == [row[:3] for row in table]
        assert kubectl("get", "wd", "small", "-n", namespace, "-o", "name").stdout == \
            "widget.lab.example.com/small\n"
        wide = _rows(kubectl("get", "widget.lab.example.com", "-n", namespace, "-o", "wide").stdout)
        assert wide[0] == ["NAME", "SIZE", "COLOR", "AGE"]

        explained = kubectl("explain", "widgets.spec").stdout
        assert explained.startswith("GROUP:      lab.example.com\nKIND:       Widget\nVERSION:    v1\n")
        assert "What the widget should be." in explained
        assert "  size\t<integer> -required-" in explained
        size = kubectl("explain", "wd.spec.size").stdout
        assert "FIELD: size <integer>" in size and "How big the widget is." in size

        assert kubectl("patch", "wd", "small", "-n", namespace, "--type", "merge", "-p",
                       '{"spec":{"size":5}}').stdout == "widget.lab.example.com/small patched\n"
        assert _json(kubectl, "get", "wd", "small", "-n", namespace)["spec"] == {"size": 5, "color": "blue"}
        strategic = _failed(kubectl("patch", "wd", "small", "-n", namespace, "-p", '{"spec":{"size":6}}',
                                    check=False))
        assert "application/strategic-merge-patch+json is not supported by lab.example.com/v1, Kind=Widget" in \
            strategic

    def test_schema_invalid_resources_are_refused(self, kubectl: Kubectl, namespace: str, crd: str) -> None:
        bad = ("apiVersion: lab.example.com/v1\nkind: Widget\nmetadata: {name: huge}\n"
               "spec: {size: 30, color: green}\n")
        err = _failed(kubectl("apply", "-f", "-", "-n", namespace, input=bad, check=False))
        assert err == ('The Widget "huge" is invalid: \n'
                       '* spec.color: Unsupported value: "green": supported values: "red", "blue"\n'
                       '* spec.size: Invalid value: 30: spec.size in body should be less than or equal to 10\n')
        missing = ("apiVersion: lab.example.com/v1\nkind: Widget\nmetadata: {name: empty}\nspec: {color: red}\n")
        err = _failed(kubectl("create", "-f", "-", "-n", namespace, input=missing, check=False))
        assert err == 'The Widget "empty" is invalid: spec.size: Required value\n'
        unknown = ("apiVersion: lab.example.com/v1\nkind: Widget\nmetadata: {name: odd}\n"
                   "spec: {size: 1, shape: round}\n")
        err = _failed(kubectl("apply", "-f", "-", "-n", namespace, input=unknown, check=False))
        assert err == ('Error from server (BadRequest): error when creating "STDIN": Widget in version "v1" cannot '
                       'be handled as a Widget: strict decoding error: unknown field "spec.shape"\n')
        assert kubectl("get", "widgets", "-n", namespace).stderr == f"No resources found in {namespace} namespace.\n"


# ---- the API refuses invalid objects ---------------------------------------------------------------------------
class TestInvalidObjects:
    def test_missing_selector(self, kubectl: Kubectl, namespace: str) -> None:
        no_selector = _manifest().replace("  selector:\n    matchLabels: {app: web}\n", "")
        err = _failed(kubectl("apply", "-f", "-", "-n", namespace, input=no_selector, check=False))
        assert err.startswith('The Deployment "web" is invalid: \n* spec.selector: Required value\n')
        assert "* spec.template.metadata.labels: Invalid value: " in err  # an absent selector matches nothing

    def test_unknown_field_with_strict_validation(self, kubectl: Kubectl, namespace: str) -> None:
        extra = _manifest().replace("  replicas: 1\n", "  replicas: 1\n  foo: bar\n")
        err = _failed(kubectl("apply", "-f", "-", "-n", namespace, input=extra, check=False))
        assert err == ('Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" '
                       'cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"\n')
        warned = kubectl("apply", "-f", "-", "-n", namespace, "--validate=warn", input=extra)
        assert warned.stdout == "deployment.apps/web created\n"
        assert warned.stderr == 'Warning: unknown field "spec.foo"\n'
        ignored = kubectl("apply", "-f", "-", "-n", namespace, "--validate=false", input=_manifest(replicas=2)
                          .replace("  replicas: 2\n", "  replicas: 2\n  foo: bar\n"))
        assert (ignored.stdout, ignored.stderr) == ("deployment.apps/web configured\n", "")
        # Applying to an existing object sends a strategic merge patch: the strict error is on "patch".
        strict = _failed(kubectl("apply", "-f", "-", "-n", namespace, check=False, input=_manifest(replicas=3)
                                 .replace("  replicas: 3\n", "  replicas: 3\n  foo: baz\n")))
        assert strict.startswith('The request is invalid: patch: Invalid value: "map[metadata:map[annotations:map['
                                 'kubectl.kubernetes.io/last-applied-configuration:{')
        assert strict.endswith(' spec:map[foo:baz replicas:3]]": strict decoding error: unknown field "spec.foo"\n')
        assert _json(kubectl, "get", "deployment", "web", "-n", namespace)["spec"]["replicas"] == 2

    def test_immutable_selector(self, kubectl: Kubectl, namespace: str) -> None:
        kubectl("apply", "-f", "-", "-n", namespace, input=_manifest())
        moved = _manifest().replace("matchLabels: {app: web}", "matchLabels: {app: web, v: two}").replace(
            "      labels: {app: web}", "      labels: {app: web, v: two}")
        err = _failed(kubectl("apply", "-f", "-", "-n", namespace, input=moved, check=False))
        assert err.startswith('The Deployment "web" is invalid: spec.selector: Invalid value: ')
        assert err.endswith(": field is immutable\n")
        live = _json(kubectl, "get", "deployment", "web", "-n", namespace)
        assert live["spec"]["selector"] == {"matchLabels": {"app": "web"}}

    def test_invalid_name(self, kubectl: Kubectl, namespace: str) -> None:
        err = _failed(kubectl("create", "configmap", "Bad_Name", "-n", namespace, check=False))
        assert err == ('error: failed to create configmap: ConfigMap "Bad_Name" is invalid: metadata.name: Invalid '
                       'value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
                       "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
                       "'example.com', regex used for validation is "
                       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n")
        err = _failed(kubectl("apply", "-f", "-", "-n", namespace, check=False,
                              input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n"))
        assert err.startswith('The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ')


# ---- what a cluster starts with ------------------------------------------------------------------------------
class TestClusterStartsWith:
    def test_the_kubernetes_service_in_default(self, kubectl: Kubectl) -> None:
        out = kubectl("get", "all", "-n", "default").stdout
        rows = _rows(out)
        assert rows[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
        assert rows[1][:5] == ["service/kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP"]
        svc = _json(kubectl, "get", "service", "kubernetes", "-n", "default")
        assert svc["metadata"]["labels"] == {"component": "apiserver", "provider": "kubernetes"}
        assert svc["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]
        assert svc["spec"]["clusterIPs"] == ["10.96.0.1"] and "selector" not in svc["spec"]
        listed = kubectl("get", "endpoints", "kubernetes", "-n", "default")
        assert _rows(listed.stdout)[1][:2] == ["kubernetes", "10.0.0.10:6443"]
        assert listed.stderr == "Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice\n"
        endpoints = _json(kubectl, "get", "endpoints", "kubernetes", "-n", "default")
        assert endpoints["subsets"] == [{"addresses": [{"ip": "10.0.0.10"}],
                                         "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]

    def test_system_namespaces_and_their_defaults(self, kubectl: Kubectl, namespace: str,
                                                   sandbox: server.Sandbox) -> None:
        names = kubectl("get", "namespaces", "-o", "name").stdout.split()
        assert {"namespace/default", "namespace/kube-system", "namespace/kube-public",
                "namespace/kube-node-lease", f"namespace/{namespace}"} <= set(names)
        _until(lambda: kubectl("get", "serviceaccount", "default", "-n", namespace, check=False).returncode == 0,
               "the default ServiceAccount")
        assert _rows(kubectl("get", "serviceaccounts", "-n", namespace).stdout)[1][:2] == ["default", "0"]
        root_ca = _until(lambda: (r := kubectl("get", "configmap", "kube-root-ca.crt", "-n", namespace, "-o", "json",
                                                check=False)).returncode == 0 and json.loads(r.stdout),
                         "the kube-root-ca.crt ConfigMap")
        assert list(root_ca["data"]) == ["ca.crt"]
        kubeconfig = yaml.safe_load(sandbox.kubeconfig.read_text())
        ca = base64.b64decode(kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
        assert root_ca["data"]["ca.crt"] == ca and ca.startswith("-----BEGIN CERTIFICATE-----\n")
        assert root_ca["metadata"]["annotations"]["kubernetes.io/description"].startswith(
            "Contains a CA bundle that can be used to verify the kube-apiserver")
        node = _rows(kubectl("get", "nodes").stdout)
        assert node[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
        assert [node[1][i] for i in (0, 1, 2, 4)] == ["sandbox-node", "Ready", "control-plane", "v1.37.1"]


@pytest.fixture(scope="module", autouse=True)
def _no_internal_errors(sandbox: server.Sandbox) -> Iterator[None]:
    """Nothing kubectl does in this module may make the sandbox answer 500 (an unexpected exception)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger(http.__name__)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert not records, [r.getMessage() for r in records]
