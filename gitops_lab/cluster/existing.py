"""The existing provider: any kubeconfig context, used as it is (the lab neither creates nor deletes it).

Owns choosing the context and guarding against the wrong one: a context whose server is not on this machine and
whose name does not look like a local cluster (kind, minikube, k3d, Docker Desktop, the lab's own sandbox) is
refused unless the user confirms, since the lab creates and deletes objects there. The chosen context is copied,
flattened, into a kubeconfig of the lab's own, so the user's current-context is never changed.
"""

from __future__ import annotations

import ipaddress
import os
import pathlib
import urllib.parse
from typing import Any

import yaml

from gitops_lab import errors
from gitops_lab.cluster import base

LOCAL_CONTEXT_PREFIXES = ("kind-", "k3d-", "minikube", "docker-desktop", "rancher-desktop", "colima",
                          "orbstack", "gitops-lab")


def default_kubeconfig() -> pathlib.Path:
    first = (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0]
    return pathlib.Path(first or "~/.kube/config").expanduser()


def looks_local(context: str, server_url: str) -> bool:
    """Whether a context is plausibly a cluster on this machine (or a lab's), from its name and server.

    >>> looks_local("kind-demo", "https://10.0.0.5:6443"), looks_local("prod", "https://127.0.0.1:6443")
    (True, True)
    >>> looks_local("prod-eu", "https://k8s.example.com")
    False
    """
    if context.startswith(LOCAL_CONTEXT_PREFIXES):
        return True
    host = urllib.parse.urlsplit(server_url).hostname or ""
    if host in ("localhost", "host.docker.internal", "kubernetes.docker.internal"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _load(path: pathlib.Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise errors.ClusterError(f"There is no kubeconfig at {path}; pass --kubeconfig with the file of your "
                                  f"cluster.") from None
    except (OSError, yaml.YAMLError) as err:
        raise errors.ClusterError(f"The kubeconfig {path} cannot be read ({err}); fix it or pass another with "
                                  f"--kubeconfig.") from err
    if not isinstance(data, dict):
        raise errors.ClusterError(f"The kubeconfig {path} is not a kubeconfig; pass another with --kubeconfig.")
    return data


def choose(config: dict[str, Any], path: pathlib.Path, context: str | None) -> tuple[str, str]:
    """The context to use and its server URL; raises a ClusterError naming the choices."""
    contexts = {c.get("name"): c.get("context") or {} for c in config.get("contexts") or []}
    name = context or config.get("current-context")
    if not name or name not in contexts:
        known = ", ".join(sorted(str(c) for c in contexts)) or "none"
        what = f"The context {name!r} is not in {path}" if name else f"{path} has no current context"
        raise errors.ClusterError(f"{what}; its contexts are: {known}. Pass one with --context.")
    clusters = {c.get("name"): c.get("cluster") or {} for c in config.get("clusters") or []}
    server = str(clusters.get(contexts[name].get("cluster"), {}).get("server", ""))
    return str(name), server


class ExistingProvider:
    name = "existing"

    def __init__(self, workdir: pathlib.Path, context: str | None = None, kubeconfig: str | None = None,
                 confirm: bool = False) -> None:
        self.workdir = workdir
        self.source = pathlib.Path(kubeconfig).expanduser() if kubeconfig else default_kubeconfig()
        self.requested_context = context
        self.confirm = confirm
        self._context = ""
        self._url = ""

    @property
    def kubeconfig(self) -> pathlib.Path:
        return self.workdir / "kubeconfig"

    @property
    def context(self) -> str:
        return self._context

    @property
    def url(self) -> str:
        return self._url

    async def start(self, progress: base.Progress) -> None:
        name, server = choose(_load(self.source), self.source, self.requested_context)
        if not self.confirm and not looks_local(name, server):
            raise errors.ClusterError(
                f"The context {name!r} points at {server or 'an unknown server'}, which does not look like a local "
                f"or lab cluster, and the lab creates and deletes objects there; pass --yes to use it anyway, or "
                f"choose a local context with --context.")
        self.workdir.mkdir(parents=True, exist_ok=True)
        progress(f"Using the existing cluster of context {name} ({server}) …")
        code, out, err = await base.run_kubectl(self.source, "config", "view", "--minify", "--flatten",
                                                "--raw", f"--context={name}")
        if code != 0:
            raise errors.ClusterError(f"kubectl could not read the context {name!r} from {self.source}: "
                                      f"{err.strip()}; fix the kubeconfig or choose another context.")
        fd = os.open(self.kubeconfig, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(out)
        self._context, self._url = name, server
        if not await self.healthy():
            raise errors.ClusterError(f"The cluster of context {name!r} ({server}) does not answer /readyz; start "
                                      f"it, or use the sandbox cluster (`gitops-lab up`).")

    async def stop(self, keep: bool = False) -> None:
        """Nothing to stop: the cluster is not the lab's."""

    async def healthy(self) -> bool:
        code, out, _ = await base.run_kubectl(self.kubeconfig, "get", "--raw", "/readyz", timeout=10)
        return code == 0 and out.strip() == "ok"

    async def reset(self, progress: base.Progress) -> None:
        await base.delete_lab_namespaces(self.kubeconfig, progress)
