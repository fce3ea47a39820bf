"""An asyncio service on an event loop of its own thread: the synchronous face of the lab's async servers.

Owns the one lifecycle every such face needs: ``start()`` runs the service's start coroutine on a new loop thread
and returns once it succeeded (or raises its error), ``run()``/``call()`` hand work to that loop, ``stop()`` runs
the stop coroutine, ends the loop and joins the thread, raising if the thread outlives the timeout. Scripts,
tests and benchmarks use it; the lab process itself runs its services in its own loop.

>>> import asyncio
>>> async def up() -> None: ...
>>> async def down() -> None: ...
>>> thread = LoopThread("demo", up, down)
>>> thread.start().run(asyncio.sleep(0, result=42))
42
>>> thread.stop()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from gitops_lab import errors

T = TypeVar("T")


class LoopThread:
    """Runs ``start()``/``stop()`` coroutines of one service on a private event loop thread."""

    def __init__(self, name: str, start: Callable[[], Coroutine[Any, Any, None]],
                 stop: Callable[[], Coroutine[Any, Any, None]], error: type[errors.LabError] = errors.LabError,
                 not_running: str = "The service is not running; start() it first.") -> None:
        self.name = name
        self._start = start
        self._stop = stop
        self._error = error
        self._not_running = not_running
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Started and not stopped, and its thread still alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 30.0) -> LoopThread:
        """Start the thread and the service; returns once it started. Does nothing if already started."""
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._loop = loop
        self._thread = threading.Thread(target=_run_loop, args=(loop, self._start(), ready), name=self.name,
                                        daemon=True)
        self._thread.start()
        try:
            ready.result(timeout)
        except BaseException:
            self._thread.join(timeout)
            self._thread = self._loop = None
            raise
        return self

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the service's loop and wait for its result."""
        if self._loop is None:
            coro.close()
            raise self._error(self._not_running)
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 30.0) -> T:
        """Run ``fn(*args)`` on the service's loop thread (for state only that thread may touch)."""
        async def invoke() -> T:
            return fn(*args)

        return self.run(invoke(), timeout)

    def stop(self, timeout: float = 15.0, outlived: str = "") -> None:
        """Stop the service, end the loop and join the thread; raise if the thread is still alive."""
        if self._thread is None or self._loop is None:
            return
        loop, thread = self._loop, self._thread
        deadline = time.monotonic() + timeout
        try:
            asyncio.run_coroutine_threadsafe(self._stop(), loop).result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(max(0.1, deadline - time.monotonic()))
        if thread.is_alive():
            raise self._error(outlived or f"The {self.name} thread did not stop within {timeout} s; restart this "
                                          f"process.")
        self._thread = self._loop = None


def _run_loop(loop: asyncio.AbstractEventLoop, boot: Coroutine[Any, Any, None],
              ready: concurrent.futures.Future[None]) -> None:
    """Thread body: run ``boot``, report on ``ready``, then serve until the loop is stopped."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(boot)
    except BaseException as err:
        ready.set_exception(err)
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        return
    ready.set_result(None)
    loop.run_forever()
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()
