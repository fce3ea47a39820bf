"""Fixtures for tests against a real sandbox server, the real kubectl and the official client."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from gitops_lab.sandbox import server

KUBECTL = str(pathlib.Path(sys.executable).parent / "kubectl") if (
    pathlib.Path(sys.executable).parent / "kubectl").exists() else (shutil.which("kubectl") or "kubectl")


class Kubectl:
    """The real kubectl pointed at one sandbox."""

    def __init__(self, kubeconfig: pathlib.Path, home: pathlib.Path) -> None:
        self.env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(home),
                    "KUBECTL_KUBERC": "false", "NO_COLOR": "1"}

    def run(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([KUBECTL, *args], input=input, capture_output=True, text=True, timeout=timeout,
                                env={**self.env, **(env or {})})
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {result.returncode}:\n"
                                 f"stdout: {result.stdout}\nstderr: {result.stderr}")
        return result

    __call__ = run


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.Sandbox]:
    """A fresh sandbox per test module, with fast pods and frequent bookmarks."""
    settings = server.Settings(pod_start_delay=0.2, bookmark_interval=1.0)
    with server.Sandbox(tmp_path_factory.mktemp("sandbox"), settings=settings) as sb:
        yield sb


@pytest.fixture(scope="module")
def kubectl(sandbox: server.Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(sandbox.kubeconfig, tmp_path_factory.mktemp("home"))


@pytest.fixture
def namespace(kubectl: Kubectl) -> Iterator[str]:
    """A namespace of the test's own, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)
