"""The sandbox provider: the embedded Kubernetes API server, as a child process of the lab process.

A process of its own (``python -m gitops_lab.sandbox``) rather than a task in the lab's event loop: the API server
and the lab's reconciler then run on separate cores, as a real cluster and its controllers do, and a busy
reconciler never slows kubectl down. The child is told to die with the lab process (``PR_SET_PDEATHSIG``), is
ready when it prints the URL it serves, and takes new images through the sandbox's ``/sandbox/images`` endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import pathlib
import signal
import ssl
import sys
import urllib.request

from gitops_lab import errors
from gitops_lab.cluster import base

START_TIMEOUT = 60.0
CONTEXT = "gitops-lab"
"""The context name the sandbox writes into its kubeconfig (gitops_lab.sandbox.server.CONTEXT)."""
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: end when the lab process ends, however it ends (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class SandboxProvider:
    name = "sandbox"

    def __init__(self, state_dir: pathlib.Path, port: int = 0) -> None:
        self.state_dir = state_dir
        self.port = port
        self._proc: asyncio.subprocess.Process | None = None
        self._url = ""

    @property
    def kubeconfig(self) -> pathlib.Path:
        return self.state_dir / "kubeconfig"

    @property
    def context(self) -> str:
        return CONTEXT

    @property
    def url(self) -> str:
        return self._url

    async def start(self, progress: base.Progress) -> None:
        progress("Starting the sandbox cluster …")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.state_dir / "sandbox.log", "ab")  # noqa: SIM115 (the child keeps writing to it)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gitops_lab.sandbox", "--state-dir", str(self.state_dir),
                "--port", str(self.port), stdout=asyncio.subprocess.PIPE, stderr=log,
                stdin=asyncio.subprocess.DEVNULL, preexec_fn=_die_with_parent)
        finally:
            log.close()
        assert self._proc.stdout is not None
        try:
            async with asyncio.timeout(START_TIMEOUT):
                line = (await self._proc.stdout.readline()).decode()
        except TimeoutError:
            line = ""
        if not line.startswith("Sandbox serving "):
            await self.stop()
            raise errors.ClusterError(self._failure())
        self._url = line.split()[-1]
        self.port = int(self._url.rsplit(":", 1)[1])
        await self._proc.stdout.readline()  # the export KUBECONFIG line

    def _failure(self) -> str:
        """The sandbox's own last words (it prints `error: <sentence>`), or a pointer to its log."""
        text = (self.state_dir / "sandbox.log").read_text(errors="replace") if (
            self.state_dir / "sandbox.log").exists() else ""
        for line in reversed(text.splitlines()):
            if line.startswith("error: "):
                return line.removeprefix("error: ")
        return f"The sandbox cluster did not start; see {self.state_dir / 'sandbox.log'}."

    async def stop(self, keep: bool = False) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            async with asyncio.timeout(15):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def healthy(self) -> bool:
        return self._proc is not None and self._proc.returncode is None and bool(self._url)

    async def add_image(self, ref: str, logs: tuple[str, ...] = ()) -> None:
        """Make an image pullable by the sandbox's kubelet (kind and existing clusters pull from registries)."""
        await asyncio.to_thread(self._post_image, ref, logs)

    def _post_image(self, ref: str, logs: tuple[str, ...]) -> None:
        pki = self.state_dir / "pki"
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        request = urllib.request.Request(
            f"{self._url}/sandbox/images", data=json.dumps({"image": ref, "logs": list(logs)}).encode(),
            method="POST", headers={"Authorization": f"Bearer {(pki / 'token').read_text().strip()}",
                                    "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, context=context, timeout=10):
                pass
        except OSError as err:
            raise errors.ClusterError(f"The sandbox refused the image {ref!r} ({err}); check the reference.") from err

    async def reset(self, progress: base.Progress) -> None:
        """Back to a new cluster on the same address: the stored objects go, certificates and token stay."""
        progress("Resetting the sandbox cluster …")
        await self.stop()
        for name in ("state.db", "state.db-wal", "state.db-shm"):
            (self.state_dir / name).unlink(missing_ok=True)
        await self.start(progress)
