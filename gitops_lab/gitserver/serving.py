"""The lab's Git server as a service: smart HTTP with basic auth in front of ``git http-backend``, push events out.

Owns two faces of one server:

- :class:`GitServer` — async, lives in the caller's event loop (the lab process runs it beside the sandbox and the
  reconciler). ``await start()`` is idempotent; ``await stop()`` stops listening, lets requests in flight finish
  (up to ``shutdown_timeout``), kills any ``git http-backend`` child still running and waits for it, and raises
  :class:`~gitops_lab.errors.GitServerError` if one survives.
- :class:`GitServerThread` — the sync face for scripts and tests: the same server on an event loop of its own
  thread; a context manager; ``stop()`` joins the thread or raises.

Two listeners: the public one (``host``, default 127.0.0.1, port 0 = any free port; pass the address a kind
cluster can reach to serve it) answers Git clients — every request needs the server directory's basic-auth
credentials, else 401 with ``WWW-Authenticate`` so git asks or fails cleanly; the internal one, always on
127.0.0.1, takes the post-receive hooks' reports (token-protected) and turns them into :class:`PushEvent` s for
``on_push`` subscribers within milliseconds of the push. Repositories are managed through ``server.repos``
(:class:`~gitops_lab.gitserver.repositories.Repositories`), which works on disk whether or not the server runs.

>>> import tempfile
>>> with GitServerThread(tempfile.mkdtemp()) as git:               # doctest: +SKIP
...     _ = git.repos.create("fleet")
...     print(git.repo_url("fleet", with_credentials=False))
http://127.0.0.1:40125/fleet.git
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import pathlib
import secrets
import shutil
import urllib.parse
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from aiohttp import web

from gitops_lab import clock as clocks
from gitops_lab import errors, looping
from gitops_lab.gitserver import backend, credentials, events, hooks, repositories, updates

T = TypeVar("T")
LOOPBACK = "127.0.0.1"
_WILDCARDS = ("", "0.0.0.0", "::")
_log = logging.getLogger(__name__)


class GitServer:
    """Bare repositories under ``root`` served over smart HTTP, inside the running event loop."""

    def __init__(self, root: str | os.PathLike[str], host: str = LOOPBACK, port: int = 0, *,
                 clock: clocks.Clock | None = None, backend_timeout: float = 300.0,
                 shutdown_timeout: float = 5.0) -> None:
        self.root = pathlib.Path(root)
        self.host = host
        self.requested_port = port
        self.backend_timeout = backend_timeout
        self.shutdown_timeout = shutdown_timeout
        self.repos = repositories.Repositories(self.root)
        self.pushes = events.PushLog((clock or clocks.WallClock()).now)
        self.port: int | None = None
        self._credentials: credentials.Credentials | None = None
        self._token = secrets.token_urlsafe(32)
        self._public: web.AppRunner | None = None
        self._internal: web.AppRunner | None = None
        self._backend: backend.Backend | None = None

    @property
    def running(self) -> bool:
        return self._public is not None

    @property
    def credentials(self) -> credentials.Credentials:
        """The basic-auth user and password of this server directory (made on first use, kept across restarts)."""
        if self._credentials is None:
            self._ensure_root()
            self._credentials = credentials.load_or_create(self.root / "credentials.json")
        return self._credentials

    @property
    def url(self) -> str:
        """``http://<host>:<port>`` as a client on this machine reaches it (a wildcard host reads 127.0.0.1)."""
        return _base_url(LOOPBACK if self.host in _WILDCARDS else self.host, self._require_port())

    def repo_url(self, name: str, *, with_credentials: bool = True, host: str | None = None) -> str:
        """The clone URL of a repository, with the credentials embedded unless told otherwise.

        Args:
            host: the address the client uses when it is not this machine (e.g. one a kind node reaches).
        """
        base = _base_url(host, self._require_port()) if host else self.url
        if with_credentials:
            creds = self.credentials
            user, secret = (urllib.parse.quote(v, safe="") for v in (creds.username, creds.password))
            base = base.replace("://", f"://{user}:{secret}@", 1)
        return f"{base}/{repositories.check_name(name)}.git"

    def on_push(self, callback: events.Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` on the server's loop for every accepted ref update; returns an unsubscriber."""
        return self.pushes.subscribe(callback)

    async def start(self) -> None:
        """Listen and serve; returns once both listeners accept connections. Does nothing if already serving.

        Raises:
            GitServerError: git or its http-backend is missing, ``root`` is not writable, or the port is taken.
        """
        if self._public is not None:
            return
        executable = await asyncio.to_thread(_locate_backend)
        await asyncio.to_thread(self._prepare_root)
        self._backend = backend.Backend(executable, self.backend_timeout)
        try:
            self._internal = await _listen(self._internal_app(), LOOPBACK, 0, self.shutdown_timeout)
            self._public = await _listen(self._public_app(), self.host, self.requested_port, self.shutdown_timeout,
                                         auto_decompress=False)
        except BaseException:
            await self.stop()
            raise
        self.port = int(self._public.addresses[0][1])
        _log.info("Git server serving %s at %s", self.root, self.url)

    async def stop(self) -> None:
        """Stop listening, finish or kill what is in flight, and wait for every child.

        Raises:
            GitServerError: a ``git http-backend`` child is still alive after being killed.
        """
        if self._public is not None:
            await self._public.cleanup()
        if self._internal is not None:
            await self._internal.cleanup()
        self._public = self._internal = None
        self.port = None
        if self._backend is not None:
            await self._backend.close()
            alive, self._backend = self._backend.live, None
            if alive:
                raise errors.GitServerError(f"git http-backend processes {alive} outlived the Git server's stop; "
                                            f"end them with kill and check the machine's load.")

    def _require_port(self) -> int:
        if self.port is None:
            raise errors.GitServerError(f"The Git server for {self.root} is not running; start() it first.")
        return self.port

    def _ensure_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise errors.GitServerError(f"The Git server's directory {self.root} cannot be created ({err}); "
                                        f"pass a directory you can write to.") from err
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise errors.GitServerError(f"The Git server's directory {self.root} is not writable; "
                                        f"pass a directory you can write to.")

    def _prepare_root(self) -> None:
        self._ensure_root()
        _ = self.credentials
        self.repos.refresh_hooks()

    def _public_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._serve_git)
        return app

    def _internal_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/push", self._receive_push)
        return app

    def _hook_env(self) -> dict[str, str]:
        assert self._internal is not None
        port = int(self._internal.addresses[0][1])
        return {hooks.ENV_URL: f"http://{LOOPBACK}:{port}/push", hooks.ENV_TOKEN: self._token}

    async def _serve_git(self, request: web.Request) -> web.StreamResponse:
        creds = self.credentials
        if not creds.matches(request.headers.get("Authorization")):
            return web.Response(status=401, headers={"WWW-Authenticate": credentials.CHALLENGE},
                                text="The lab's Git server needs its user name and password (see "
                                     "GitServer.credentials or repo_url()).\n")
        first, _, rest = request.path.lstrip("/").partition("/")
        try:
            name = repositories.check_name(first)
            known = self.repos.exists(name)
        except errors.GitServerError:
            known = False
        if not known:
            return web.Response(status=404, text=f"There is no repository {first!r} on the lab's Git server.\n")
        assert self._backend is not None
        env = backend.cgi_environ(
            repositories.isolated_env(**self._hook_env()), project_root=str(self.root.resolve()),
            method=request.method, path_info=f"/{name}.git/{rest}", query=request.rel_url.raw_query_string,
            headers=request.headers.items(), remote_addr=request.remote or "", remote_user=creds.username,
            server_name=self.host, server_port=self.port or 0)
        return await self._backend.respond(request, env)

    async def _receive_push(self, request: web.Request) -> web.Response:
        if not secrets.compare_digest(request.headers.get(hooks.TOKEN_HEADER, ""), self._token):
            return web.Response(status=403, text="Wrong or missing hook token.\n")
        try:
            body = json.loads(await request.read())
            changes = [updates.RefUpdate(u["old"], u["new"], u["ref"]) for u in body["updates"]]
            repo, pusher = repositories.check_name(str(body["repo"])), str(body["pusher"])
        except (ValueError, KeyError, TypeError, errors.GitServerError) as err:
            return web.Response(status=400, text=f"A push report must be JSON with repo, pusher and updates: {err}\n")
        self.pushes.record(repo, pusher, changes)
        return web.Response(status=204)


def _base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _locate_backend() -> str:
    """The path of ``git-http-backend`` (``git --exec-path``), checked to exist."""
    if shutil.which("git") is None:
        raise errors.GitServerError("git is not installed or not on PATH; install it (e.g. apt-get install git) "
                                    "and start the Git server again.")
    exec_path = repositories.run_git(["--exec-path"]).stdout.strip()
    path = pathlib.Path(exec_path, "git-http-backend")
    if not os.access(path, os.X_OK):
        raise errors.GitServerError(f"git's http-backend is missing from {exec_path}; install the full git "
                                    f"package (it ships git-http-backend) and start the Git server again.")
    return str(path)


async def _listen(app: web.Application, host: str, port: int, shutdown_timeout: float,
                  **options: Any) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=shutdown_timeout,
                           **options)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as err:
        await runner.cleanup()
        if err.errno == errno.EADDRINUSE:
            raise errors.GitServerError(f"Port {port} on {host} is taken by another process; pass port=0 or stop "
                                        f"that process.") from err
        raise errors.GitServerError(f"The Git server cannot listen on {host}:{port} ({err}); pass another host "
                                    f"or port.") from err
    return runner


class GitServerThread:
    """A :class:`GitServer` on an event loop of its own thread: the face scripts, tests and benchmarks use."""

    def __init__(self, root: str | os.PathLike[str], host: str = LOOPBACK, port: int = 0, **options: Any) -> None:
        self.server = GitServer(root, host, port, **options)
        self._thread = looping.LoopThread("gitops-lab-git-server", self.server.start, self.server.stop,
                                          errors.GitServerError,
                                          "The Git server thread is not running; start() it first.")

    @property
    def repos(self) -> repositories.Repositories:
        return self.server.repos

    @property
    def pushes(self) -> events.PushLog:
        return self.server.pushes

    @property
    def credentials(self) -> credentials.Credentials:
        return self.server.credentials

    @property
    def url(self) -> str:
        return self.server.url

    def repo_url(self, name: str, *, with_credentials: bool = True, host: str | None = None) -> str:
        return self.server.repo_url(name, with_credentials=with_credentials, host=host)

    def on_push(self, callback: events.Subscriber) -> Callable[[], None]:
        """As :meth:`GitServer.on_push`; the callback runs on the server's thread, not the caller's."""
        return self.server.on_push(callback)

    def start(self, timeout: float = 30.0) -> GitServerThread:
        """Start the loop thread and the server; returns once it serves. Does nothing if already started."""
        self._thread.start(timeout)
        return self

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        return self._thread.run(coro, timeout)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server, end the loop and join the thread.

        Raises:
            GitServerError: the server did not stop cleanly or the thread is still alive after ``timeout``.
        """
        self._thread.stop(timeout, f"The Git server thread did not stop within {timeout} s; the repositories "
                                   f"in {self.server.root} are safe, but restart this process.")

    def __enter__(self) -> GitServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
