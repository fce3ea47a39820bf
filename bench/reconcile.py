"""Benchmark of the GitOps reconciler; prints its figures (medians and ratios measured in one run).

    python bench/reconcile.py [--pushes 20] [--edits 20] [--objects 1000]

Runs a real lab (`gitops-lab up`, sandbox cluster) in a temporary directory and measures:
- push → converged: from the start of `git push` of a changed ConfigMap until the cluster holds the new value;
- hand edit → corrected: from a scale of a Git-managed Deployment (as `kubectl scale` does it) until its replicas
  are back to Git's;
- 1,000 objects: the reconciler's first apply (from the push of 1,000 ConfigMaps to Ready on that revision) and a
  no-op reconcile (requestedAt → handled), against `kubectl apply --server-side` of the same 1,000 objects (first
  run and unchanged run) on the same server, into another namespace.
Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from gitops_lab import lab as labs

AUTHOR = "Bench <bench@example.com>"


def until(check: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.005)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * (len(ordered) - 1))))]


def configmap(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
            "data": data}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--objects", type=int, default=1000)
    args = parser.parse_args()
    root = pathlib.Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    lab = labs.connect(root / "lab")
    try:
        run(lab, root, args)
    finally:
        labs.down(root / "lab")


def run(lab: labs.Lab, root: pathlib.Path, args: argparse.Namespace) -> None:
    api = k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=str(lab.kubeconfig)))
    apps = k8s.AppsV1Api(api.api_client)
    lab.protect("fleet", False)
    fleet = lab.clone("fleet", root / "fleet")
    until(lambda: _deployment_replicas(apps) == 1)

    # push -> converged
    kustomization = fleet.read("envs/test/kustomization.yaml").replace("resources:\n", "resources:\n  - bench.yaml\n")
    fleet.write("envs/test/kustomization.yaml", kustomization)
    push_times = []
    for i in range(args.pushes + 1):
        fleet.write("envs/test/bench.yaml", json.dumps(configmap("bench", "demo-test", {"round": str(i)})))
        fleet.commit(f"Round {i}", author=AUTHOR)
        began = time.perf_counter()
        fleet.push()
        until(lambda i=i: _configmap_value(api, "bench", "demo-test") == str(i))
        if i:  # the first round also waits for the namespace's first reconcile of bench.yaml
            push_times.append(time.perf_counter() - began)

    # hand edit -> corrected
    edit_times = []
    for i in range(args.edits):
        began = time.perf_counter()
        apps.patch_namespaced_deployment_scale("demo-app", "demo-test", {"spec": {"replicas": 3 + i % 3}},
                                               field_manager="kubectl")
        until(lambda: _deployment_replicas(apps) == 1)
        edit_times.append(time.perf_counter() - began)

    # 1,000 objects: reconciler vs kubectl apply --server-side
    n = args.objects
    bulk = "\n---\n".join(json.dumps(configmap(f"bulk-{j:04d}", "bulk", {"index": str(j), "pad": "x" * 64}))
                          for j in range(n))
    fleet.write("envs/bulk/namespace.yaml", json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                                         "metadata": {"name": "bulk"}}))
    fleet.write("envs/bulk/configmaps.yaml", bulk)
    sha = fleet.commit("1,000 ConfigMaps", author=AUTHOR)
    fleet.push()
    began = time.perf_counter()
    lab.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "bulk", "namespace": "flux-system"},
        "spec": {"interval": "10m0s", "path": "./envs/bulk", "prune": True,
                 "sourceRef": {"kind": "GitRepository", "name": "fleet"}}}))
    until(lambda: _applied(lab, "bulk") == f"main@sha1:{sha}", timeout=600)
    first_apply = time.perf_counter() - began
    noop = []
    for _ in range(3):
        stamp = datetime.datetime.now(datetime.UTC).isoformat()
        began = time.perf_counter()
        lab.kubectl("annotate", "--overwrite", "kustomizations.kustomize.toolkit.fluxcd.io", "bulk", "-n",
                    "flux-system", f"reconcile.fluxcd.io/requestedAt={stamp}")
        until(lambda stamp=stamp: _handled(lab, "bulk") == stamp, timeout=600)
        noop.append(time.perf_counter() - began)

    manifests = root / "kubectl-bulk"
    manifests.mkdir()
    (manifests / "00-namespace.yaml").write_text(json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                                           "metadata": {"name": "bulk-kubectl"}}))
    (manifests / "configmaps.yaml").write_text(bulk.replace('"namespace": "bulk"', '"namespace": "bulk-kubectl"'))
    kubectl_runs = []
    for _ in range(2):
        began = time.perf_counter()
        result = subprocess.run([str(pathlib.Path(sys.executable).parent / "kubectl"), "apply", "--server-side",
                                 "-f", str(manifests), "--field-manager=bench"], capture_output=True, text=True,
                                env={**os.environ, "KUBECONFIG": str(lab.kubeconfig)}, timeout=600)
        if result.returncode != 0:
            raise SystemExit(f"kubectl apply failed: {result.stderr}")
        kubectl_runs.append(time.perf_counter() - began)

    print("GitOps reconciler benchmark (this machine, one run)")
    print(f"  push -> converged, {args.pushes} pushes:      p50 {statistics.median(push_times) * 1000:6.0f} ms   "
          f"p95 {percentile(push_times, 0.95) * 1000:6.0f} ms   (goal p95 < 2000 ms)")
    print(f"  hand edit -> corrected, {args.edits} edits:  p50 {statistics.median(edit_times) * 1000:6.0f} ms   "
          f"p95 {percentile(edit_times, 0.95) * 1000:6.0f} ms   (goal p95 < 1000 ms)")
    print(f"  {n} objects, first apply:  reconciler {first_apply * 1000:6.0f} ms   kubectl --server-side "
          f"{kubectl_runs[0] * 1000:6.0f} ms   ratio {first_apply / kubectl_runs[0]:.2f}   (goal <= 1.0)")
    frame = lab.timeline()
    bulk_runs = frame[(frame["kind"] == "reconcile_finished") & (frame["kustomization"] == "flux-system/bulk")]
    phases = [json.dumps(details) for details in bulk_runs["details"].tolist()[:2]]
    print(f"  {n} objects, phases inside the reconciler (first apply, then no-op): {'; '.join(phases)}")
    print(f"  {n} objects, no-op:        reconciler {statistics.median(noop) * 1000:6.0f} ms   kubectl --server-side "
          f"{kubectl_runs[1] * 1000:6.0f} ms   ratio {statistics.median(noop) / kubectl_runs[1]:.2f}   "
          f"(goal <= 1.0)")


def _configmap_value(api: k8s.CoreV1Api, name: str, namespace: str) -> str | None:
    try:
        return str(api.read_namespaced_config_map(name, namespace).data.get("round"))
    except k8s.ApiException:
        return None


def _deployment_replicas(apps: k8s.AppsV1Api) -> int | None:
    try:
        return int(apps.read_namespaced_deployment("demo-app", "demo-test").spec.replicas)
    except k8s.ApiException:
        return None


def _status(lab: labs.Lab, name: str) -> dict[str, Any]:
    custom = k8s.CustomObjectsApi(lab.kubernetes)  # one client (and connection pool) per lab handle
    obj = custom.get_namespaced_custom_object("kustomize.toolkit.fluxcd.io", "v1", "flux-system",
                                              "kustomizations", name)
    return dict(obj.get("status") or {})


def _applied(lab: labs.Lab, name: str) -> str | None:
    status = _status(lab, name)
    ready = [c for c in status.get("conditions", []) if c["type"] == "Ready" and c["status"] == "True"]
    return status.get("lastAppliedRevision") if ready else None


def _handled(lab: labs.Lab, name: str) -> str | None:
    return _status(lab, name).get("lastHandledReconcileAt")


if __name__ == "__main__":
    main()
