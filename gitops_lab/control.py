"""The lab process's control endpoint: a small token-protected HTTP API on 127.0.0.1, and its client.

Owns the wire between the lab process and everyone else (the command line, notebooks' ``connect()``, later the
CI runner): ``GET /healthz`` (open), ``GET /status``, ``GET /pushes``, ``POST /reset``, ``POST /shutdown``. The
server side only routes to callables the lab process hands it; the client side is synchronous (urllib), so a
notebook cell never needs an event loop.
"""

from __future__ import annotations

import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from gitops_lab import errors

if TYPE_CHECKING:  # the server side loads aiohttp when it starts, so clients stay quick to import
    from aiohttp import web

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class ControlServer:
    """Routes ``/<name>`` to ``handlers[name]`` (JSON in, JSON out) for callers bearing the token."""

    def __init__(self, token: str, handlers: dict[str, Handler]) -> None:
        self.token = token
        self.handlers = handlers
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        if self._runner is not None:
            return
        from aiohttp import web

        app = web.Application()
        app.router.add_get("/healthz", self._health)
        app.router.add_route("*", "/{name}", self._route)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        from aiohttp import web

        return web.json_response({"ok": True})

    async def _route(self, request: web.Request) -> web.Response:
        from aiohttp import web

        header = request.headers.get("Authorization", "")
        if not hmac.compare_digest(header.encode(), f"Bearer {self.token}".encode()):
            return web.json_response({"error": "This lab's control endpoint needs its token (see lab.json)."},
                                     status=401)
        handler = self.handlers.get(request.match_info["name"])
        if handler is None:
            return web.json_response({"error": f"No control call {request.match_info['name']!r}."}, status=404)
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return web.json_response({"error": "The request body must be JSON."}, status=400)
        try:
            result = await handler(body if isinstance(body, dict) else {})
        except errors.LabError as err:
            return web.json_response({"error": str(err)}, status=409)
        return web.json_response(result)


def call(url: str, token: str, name: str, body: dict[str, Any] | None = None, timeout: float = 30.0) -> Any:
    """Call ``name`` on a lab's control endpoint; raises LabError with the lab's own words on failure."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{url}/{name}", data=data, method="POST" if data is not None else "GET",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        try:
            message = json.loads(err.read()).get("error")
        except ValueError:
            message = None
        raise errors.LabError(message or f"The lab answered {err.code} to {name}; see its log.") from err
    except (urllib.error.URLError, OSError) as err:
        raise errors.LabError(f"The lab's control endpoint {url} does not answer ({err}); run `gitops-lab status` "
                              f"or start the lab again with `gitops-lab up`.") from err


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
