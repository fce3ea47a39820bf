"""The sandbox as a service: storage, API, controllers and the HTTPS server, with one lifecycle.

Owns :class:`SandboxServer` (async: start/stop inside a running event loop) and :class:`Sandbox` (the sync face:
its own event-loop thread, a context manager, ``start()`` idempotent and ``stop()`` that joins or raises), plus the
kubeconfig it writes. Binds 127.0.0.1 only.

>>> import tempfile
>>> with Sandbox(tempfile.mkdtemp()) as sandbox:          # doctest: +SKIP
...     print(sandbox.url)
https://127.0.0.1:41235
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import errno
import os
import pathlib
import ssl
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import yaml
from aiohttp import web

from gitops_lab import clock as clocks
from gitops_lab import errors, looping
from gitops_lab.sandbox import api as apis
from gitops_lab.sandbox import certs, controllers, http, store

T = TypeVar("T")
HOST = "127.0.0.1"
CONTEXT = "gitops-lab"


@dataclasses.dataclass
class Settings:
    """Knobs of one sandbox (times are lab seconds)."""

    port: int = 0
    pod_start_delay: float = 0.5
    bookmark_interval: float = 5.0
    run_controllers: bool = True


class SandboxServer:
    """Storage, API, controllers and HTTPS server inside the current event loop."""

    def __init__(self, state_dir: pathlib.Path, settings: Settings | None = None,
                 clock: clocks.Clock | None = None) -> None:
        self.state_dir = pathlib.Path(state_dir)
        self.settings = settings or Settings()
        self.clock = clock or clocks.WallClock()
        self.port: int | None = None
        self.api: apis.Api | None = None
        self._store: store.Store | None = None
        self._http: http.HttpApi | None = None
        self._runner: web.AppRunner | None = None
        self._controllers: Any = None

    @property
    def kubeconfig(self) -> pathlib.Path:
        return self.state_dir / "kubeconfig"

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"

    async def start(self) -> None:
        if self._runner is not None:
            return
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            creds = certs.ensure(self.state_dir / "pki")
        except OSError as err:
            raise errors.ClusterError(f"The sandbox state directory {self.state_dir} is not writable ({err}); "
                                      f"pass another --state-dir.") from err
        self._store = store.Store(self.state_dir / "state.db")
        self.api = apis.Api(self._store, clock=self.clock, bookmark_interval=self.settings.bookmark_interval)
        if self.settings.run_controllers:
            controller_settings = dataclasses.replace(controllers.ControllerSettings.from_object(self.settings),
                                                      root_ca=creds.ca_cert.read_text())
            self._controllers = controllers.ControllerManager(self.api, self.clock, controller_settings)
            await _maybe_await(self._controllers.start())
        self._http = http.HttpApi(self.api, creds.token,
                                  add_image=self.add_image if self._controllers is not None else None)
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(creds.server_cert, creds.server_key)
        runner = web.AppRunner(self._http.app(), access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, HOST, self.settings.port, ssl_context=ssl_context, reuse_address=True)
        try:
            await site.start()
        except OSError as err:
            await runner.cleanup()
            await self._stop_inner()
            if err.errno == errno.EADDRINUSE:
                raise errors.ClusterError(f"Port {self.settings.port} on {HOST} is taken by another process; "
                                          f"choose another port (0 picks a free one) or stop that process.") \
                    from err
            raise errors.ClusterError(f"The sandbox could not listen on {HOST}:{self.settings.port}: {err}.") \
                from err
        self._runner = runner
        server = site._server
        assert server is not None and getattr(server, "sockets", None)
        self.port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        write_kubeconfig(self.kubeconfig, self.url, creds)

    def add_image(self, ref: str, logs: tuple[str, ...] = ()) -> None:
        """Make an image pullable in this sandbox (the lab registers the images its CI builds)."""
        if self._controllers is None:
            raise errors.ClusterError("The sandbox runs no kubelet (controllers are off); start it with "
                                      "run_controllers=True to pull images.")
        self._controllers.images.add_image(ref, logs=logs)

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close_watches()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self._stop_inner()

    async def _stop_inner(self) -> None:
        if self._controllers is not None:
            await _maybe_await(self._controllers.stop())
            self._controllers = None
        if self._store is not None:
            self._store.close()
            self._store = None


async def _maybe_await(value: Any) -> Any:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value


def write_kubeconfig(path: pathlib.Path, url: str, creds: certs.Credentials) -> None:
    """A kubeconfig with one cluster, user and context named ``gitops-lab``, mode 0600."""
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": CONTEXT, "cluster": {
            "server": url,
            "certificate-authority-data": base64.b64encode(creds.ca_cert.read_bytes()).decode()}}],
        "users": [{"name": CONTEXT, "user": {"token": creds.token}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": "default"}}],
        "current-context": CONTEXT,
    }
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)
    os.replace(tmp, path)


class Sandbox:
    """A sandbox running in its own event-loop thread; the face tests, the lab and scripts use."""

    def __init__(self, state_dir: str | os.PathLike[str], *, port: int = 0,
                 settings: Settings | None = None, clock: clocks.Clock | None = None) -> None:
        settings = settings or Settings()
        if port:
            settings = dataclasses.replace(settings, port=port)
        self.server = SandboxServer(pathlib.Path(state_dir), settings, clock)
        self._thread = looping.LoopThread("gitops-lab-sandbox", self.server.start, self.server.stop,
                                          errors.ClusterError, "The sandbox is not running; start() it first.")

    @property
    def kubeconfig(self) -> pathlib.Path:
        return self.server.kubeconfig

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api(self) -> apis.Api:
        assert self.server.api is not None, "the sandbox is not running"
        return self.server.api

    @property
    def running(self) -> bool:
        """Whether the sandbox's event-loop thread is alive."""
        return self._thread.running

    def start(self, timeout: float = 30.0) -> Sandbox:
        self._thread.start(timeout)
        return self

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 30.0) -> T:
        """Run ``fn(*args)`` on the sandbox's loop thread (the API is not thread-safe) and return its result."""
        return self._thread.call(fn, *args, timeout=timeout)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the sandbox's loop and wait for its result."""
        return self._thread.run(coro, timeout)

    def stop(self, timeout: float = 15.0) -> None:
        self._thread.stop(timeout, f"The sandbox thread did not stop within {timeout} s; its state in "
                                   f"{self.server.state_dir} is safe, but this process should be restarted.")

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
