"""The lab on a real kind cluster (opt-in: ``pytest --with-kind``, on a machine with a Docker engine).

The same story as the sandbox tests: up, the cluster answers, the Git server serves, down deletes the cluster.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from gitops_lab import lab as labs

pytestmark = pytest.mark.kind


def cli(lab_dir: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gitops_lab.cli", "--lab-dir", str(lab_dir), *args],
                          capture_output=True, text=True, timeout=900)


def test_lab_on_a_real_kind_cluster(tmp_path: pathlib.Path) -> None:
    lab_dir = tmp_path / "lab"
    up = cli(lab_dir, "up", "--cluster", "kind", "--context", "gitops-lab-e2e")
    assert up.returncode == 0, up.stderr
    try:
        lab = labs.connect(lab_dir, start=False)
        assert lab.state.context == "kind-gitops-lab-e2e"
        assert "Ready" in lab.kubectl("get", "nodes")
        lab.kubectl("create", "deployment", "web", "--image=nginx:1.27")
        lab.kubectl("rollout", "status", "deployment/web", "--timeout=300s")
        assert "fleet" in lab.status()["git"]["repos"]
    finally:
        down = cli(lab_dir, "down")
    assert down.returncode == 0, down.stderr
    clusters = subprocess.run(["kind", "get", "clusters"], capture_output=True, text=True, timeout=60)
    assert "gitops-lab-e2e" not in clusters.stdout.split()
