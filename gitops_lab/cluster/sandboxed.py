"""The sandbox provider: the embedded Kubernetes API server, inside the lab process's event loop."""

from __future__ import annotations

import pathlib
import shutil

from gitops_lab.cluster import base
from gitops_lab.sandbox import server


class SandboxProvider:
    name = "sandbox"

    def __init__(self, state_dir: pathlib.Path, port: int = 0) -> None:
        self.state_dir = state_dir
        self.port = port
        self.server = server.SandboxServer(state_dir, server.Settings(port=port))

    @property
    def kubeconfig(self) -> pathlib.Path:
        return self.server.kubeconfig

    @property
    def context(self) -> str:
        return server.CONTEXT

    @property
    def url(self) -> str:
        return self.server.url

    async def start(self, progress: base.Progress) -> None:
        progress("Starting the sandbox cluster …")
        await self.server.start()

    async def stop(self, keep: bool = False) -> None:
        await self.server.stop()

    def add_image(self, ref: str, logs: tuple[str, ...] = ()) -> None:
        """Make an image pullable by the sandbox's kubelet (kind and existing clusters pull from registries)."""
        self.server.add_image(ref, logs)

    async def healthy(self) -> bool:
        return self.server.api is not None and self.server.port is not None

    async def reset(self, progress: base.Progress) -> None:
        """Back to a new cluster on the same address: the stored objects go, certificates and token stay."""
        progress("Resetting the sandbox cluster …")
        port = self.server.port or self.port
        await self.server.stop()
        for name in ("state.db", "state.db-wal", "state.db-shm"):
            (self.state_dir / name).unlink(missing_ok=True)
        shutil.rmtree(self.state_dir / "tmp", ignore_errors=True)
        self.server = server.SandboxServer(self.state_dir, server.Settings(port=port))
        await self.server.start()
