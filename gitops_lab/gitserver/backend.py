"""``git http-backend`` as a CGI child: one process per HTTP request, bodies streamed both ways.

Owns :func:`cgi_environ` (the CGI variables git's backend reads, pure), :func:`parse_head` (the CGI response
head → status and headers, pure) and :class:`Backend`, which runs ``git-http-backend`` for an aiohttp request with
``asyncio.create_subprocess_exec`` (an argument list), feeds it the request body while streaming its answer back,
bounds it with a timeout, keeps the tail of its stderr for errors, and kills whatever is still running on
:meth:`Backend.close`. Must not decide who may push or what a push means: authentication and repository lookup
happen before, hooks inside git.

Request bodies: aiohttp removes the chunked transfer encoding (git sends big pushes chunked); such a body has no
length, so ``CONTENT_LENGTH`` is left out and the backend reads to end of input, which :class:`Backend` signals by
closing the child's stdin. A gzip ``Content-Encoding`` (git compresses large fetch negotiations) is passed through
untouched as ``HTTP_CONTENT_ENCODING``: the backend inflates it itself, so the aiohttp server must be created with
``auto_decompress=False``.

>>> parse_head([b"Status: 404 Not Found\\r\\n", b"Content-Type: text/plain\\r\\n"])
(404, 'Not Found', [('Content-Type', 'text/plain')])
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping

from aiohttp import web

CHUNK = 64 * 1024
STDERR_KEPT = 8 * 1024
MAX_HEAD_LINES = 100
_NOT_PASSED = {"authorization", "proxy-authorization", "content-type", "content-length", "connection"}
_log = logging.getLogger(__name__)


def cgi_environ(base: Mapping[str, str], *, project_root: str, method: str, path_info: str, query: str,
                headers: Iterable[tuple[str, str]], remote_addr: str, remote_user: str, server_name: str,
                server_port: int) -> dict[str, str]:
    """The environment of one ``git http-backend`` run (RFC 3875 variables plus git's own).

    Every request header becomes ``HTTP_<NAME>`` (so ``Git-Protocol`` reaches the backend as
    ``HTTP_GIT_PROTOCOL`` and ``Content-Encoding`` as ``HTTP_CONTENT_ENCODING``) except the credentials, which the
    server has checked and passes on as ``REMOTE_USER`` only.

    >>> env = cgi_environ({}, project_root="/srv/git", method="GET", path_info="/fleet.git/info/refs",
    ...                   query="service=git-upload-pack", headers=[("Git-Protocol", "version=2")],
    ...                   remote_addr="127.0.0.1", remote_user="lab", server_name="127.0.0.1", server_port=8080)
    >>> env["HTTP_GIT_PROTOCOL"], "CONTENT_LENGTH" in env
    ('version=2', False)
    """
    env = dict(base)
    env.update(GATEWAY_INTERFACE="CGI/1.1", SERVER_PROTOCOL="HTTP/1.1", SERVER_SOFTWARE="gitops-lab",
               SERVER_NAME=server_name, SERVER_PORT=str(server_port), REQUEST_METHOD=method, PATH_INFO=path_info,
               QUERY_STRING=query, REMOTE_ADDR=remote_addr, REMOTE_USER=remote_user, AUTH_TYPE="Basic",
               GIT_PROJECT_ROOT=project_root, GIT_HTTP_EXPORT_ALL="1")
    for name, value in headers:
        lowered = name.lower()
        if lowered == "content-type":
            env["CONTENT_TYPE"] = value
        elif lowered == "content-length":
            env["CONTENT_LENGTH"] = value
        elif lowered not in _NOT_PASSED:
            env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


def parse_head(lines: list[bytes]) -> tuple[int, str, list[tuple[str, str]]]:
    """Status code, reason and headers of a CGI response head (``Status:`` absent means 200 OK).

    Raises:
        ValueError: a line is not ``Name: value`` or the status is not a number.
    """
    status, reason, headers = 200, "OK", []
    for raw in lines:
        line = raw.decode("latin-1").rstrip("\r\n")
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"git http-backend wrote a header line that is not 'Name: value': {line!r}")
        if name.strip().lower() == "status":
            code, _, reason = value.strip().partition(" ")
            status = int(code)
        else:
            headers.append((name.strip(), value.strip()))
    return status, reason or "OK", headers


class Backend:
    """Runs ``git-http-backend`` (at ``executable``) for requests, and knows which children are alive."""

    def __init__(self, executable: str, timeout: float = 300.0) -> None:
        self.executable = executable
        self.timeout = timeout
        self._live: set[asyncio.subprocess.Process] = set()

    @property
    def live(self) -> list[int]:
        """Process ids of the backend children still running."""
        return [p.pid for p in self._live if p.returncode is None]

    async def respond(self, request: web.Request, env: dict[str, str]) -> web.StreamResponse:
        """Answer ``request`` with the backend's output; the child is gone when this returns or raises."""
        proc = await asyncio.create_subprocess_exec(
            self.executable, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env)
        self._live.add(proc)
        exchange = _Exchange(request, proc, f"{env['REQUEST_METHOD']} {env['PATH_INFO']}")
        try:
            async with asyncio.timeout(self.timeout):
                return await exchange.relay()
        except TimeoutError:
            return await exchange.give_up(self.timeout)
        except ConnectionResetError:
            return exchange.client_gone()
        finally:
            await exchange.close()
            self._live.discard(proc)

    async def close(self) -> None:
        """Kill every child still running and wait for it."""
        await asyncio.gather(*(_end(proc) for proc in list(self._live)))


class _Exchange:
    """One HTTP request answered by one backend child: the body goes in, the CGI answer comes back."""

    def __init__(self, request: web.Request, proc: asyncio.subprocess.Process, what: str) -> None:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self.request, self.proc, self.what = request, proc, what
        self.stdout = proc.stdout
        self.response: web.StreamResponse | None = None
        self.feeder = asyncio.create_task(_feed(request, proc.stdin))
        self.stderr = asyncio.create_task(_tail(proc.stderr))

    async def relay(self) -> web.StreamResponse:
        head = await _read_head(self.stdout)
        if head is None:
            code = await self.proc.wait()
            return web.Response(status=502, text=f"git http-backend exited with code {code} before answering: "
                                                 f"{(await self.stderr).strip()}\n")
        status, reason, headers = parse_head(head)
        self.response = web.StreamResponse(status=status, reason=reason, headers=headers)
        await self.response.prepare(self.request)
        while chunk := await self.stdout.read(CHUNK):
            await self.response.write(chunk)
        await self.feeder
        code = await self.proc.wait()
        if code != 0:
            _log.warning("git http-backend exited with code %s for %s: %s", code, self.what,
                         (await self.stderr).strip())
        await self.response.write_eof()
        return self.response

    async def give_up(self, timeout: float) -> web.StreamResponse:
        """After the timeout: kill the child, say why, and answer 504 — or cut the connection if headers are out."""
        await _end(self.proc)
        _log.warning("git http-backend ran longer than %s s for %s; it was killed. It said: %s", timeout, self.what,
                     await _finished(self.stderr))
        if self.response is None:
            return web.Response(status=504, text=f"The Git server gave up after {timeout} s; try again or push "
                                                 f"less at once.\n")
        if self.request.transport is not None:
            self.request.transport.close()  # the client sees a truncated answer, git reports it
        return self.response

    def client_gone(self) -> web.StreamResponse:
        """The client closed the connection while the answer was streaming: nothing more to send."""
        if self.response is None:
            raise ConnectionResetError(f"The client of {self.what} went away before the answer started.")
        _log.info("The client of %s went away; its git http-backend is stopped.", self.what)
        return self.response

    async def close(self) -> None:
        await _end(self.proc)
        for task in (self.feeder, self.stderr):
            task.cancel()
        await asyncio.gather(self.feeder, self.stderr, return_exceptions=True)


async def _feed(request: web.Request, stdin: asyncio.StreamWriter) -> None:
    """Copy the (de-chunked) request body into the child; closing stdin marks its end."""
    try:
        async for chunk in request.content.iter_chunked(CHUNK):
            stdin.write(chunk)
            await stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the backend stopped reading (it answers an error by itself)
    finally:
        stdin.close()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await stdin.wait_closed()


async def _read_head(stdout: asyncio.StreamReader) -> list[bytes] | None:
    """The CGI head lines up to the blank line, or None if the output ended first."""
    lines: list[bytes] = []
    for _ in range(MAX_HEAD_LINES):
        line = await stdout.readline()
        if not line:
            return None
        if not line.strip():
            return lines
        lines.append(line)
    raise ValueError(f"git http-backend wrote more than {MAX_HEAD_LINES} header lines.")


async def _tail(stream: asyncio.StreamReader) -> str:
    kept = bytearray()
    while chunk := await stream.read(4096):
        kept += chunk
        del kept[:-STDERR_KEPT]
    return kept.decode(errors="replace")


async def _finished(task: asyncio.Task[str]) -> str:
    """What a stderr reader collected, once the killed child's pipe has closed (or "" after a second)."""
    try:
        return (await asyncio.wait_for(asyncio.shield(task), 1.0)).strip()
    except (TimeoutError, OSError):
        return ""


async def _end(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
