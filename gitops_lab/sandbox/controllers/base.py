"""The shape every sandbox controller shares: store listener → work queue → one worker task → ``reconcile(key)``.

Owns the lifecycle (``start()`` idempotent; ``async stop()`` removes the listener, cancels the worker and waits for
it, raising if it will not end), the informer-like listener that turns each stored change into keys, error
handling (conflicts and failures re-queue the key with backoff instead of spinning) and small helpers for the
writes controllers make (field manager, Events only into live namespaces). Controllers read the store directly,
as an informer cache (never mutating what they read), and write only through :class:`~gitops_lab.sandbox.api.Api`.
Must not know any particular resource kind.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from collections.abc import Hashable, Iterable
from typing import Any, ClassVar, Generic, TypeVar

from gitops_lab import clock as clocks
from gitops_lab.sandbox import api as apis
from gitops_lab.sandbox import registry, statuses
from gitops_lab.sandbox.controllers import queueing
from gitops_lab.sandbox.store import Change

K = TypeVar("K", bound=Hashable)
Obj = dict[str, Any]

log = logging.getLogger(__name__)


class ControllerStillRunning(RuntimeError):
    """A controller's worker did not end within its stop timeout."""


def resource_type(api: apis.Api, key: str) -> registry.ResourceType:
    """The served type behind a storage key (``apps/deployments``, ``pods``)."""
    group, _, plural = key.rpartition("/")
    rt = api.registry.storage_type(group, plural)
    if rt is None:
        raise LookupError(f"No served resource type stores {key!r}.")
    return rt


def update_would_delete(resource_key: str, obj: Obj) -> bool:
    """Whether writing this object through the Api would delete it (it is being deleted and waits for nothing)."""
    return apis.deletion_due(resource_key, obj)


class Controller(abc.ABC, Generic[K]):
    """One control loop over a key space; subclasses say which keys a change touches and how to reconcile one."""

    name: ClassVar[str] = "controller"
    component: ClassVar[str] = "controller-manager"
    """The Events' source component (``deployment-controller``, ``kubelet``)."""
    field_manager: ClassVar[str] = "kube-controller-manager"

    def __init__(self, api: apis.Api, clock: clocks.Clock) -> None:
        self.api = api
        self.clock = clock
        self.queue: queueing.WorkQueue[K] = queueing.WorkQueue(clock)
        self._task: asyncio.Task[None] | None = None

    # ---- what subclasses provide -----------------------------------------------------------------------
    @abc.abstractmethod
    def keys_for(self, change: Change) -> Iterable[K]:
        """The keys to reconcile because of one stored change (called synchronously inside the write)."""

    @abc.abstractmethod
    def initial_keys(self) -> Iterable[K]:
        """Every key that exists at start (the informer's initial list)."""

    @abc.abstractmethod
    def reconcile(self, key: K) -> None:
        """Bring the world one step closer to what ``key`` wants; raise to retry later with backoff."""

    def on_start(self) -> None:
        """Synchronous set-up before the first reconcile (e.g. objects that must exist at once)."""

    # ---- lifecycle -------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        """Start reacting to changes; a second call does nothing. Needs a running event loop."""
        if self._task is not None:
            return
        loop = asyncio.get_running_loop()
        self.queue = queueing.WorkQueue(self.clock)
        self.api.store.listeners.append(self._observe)
        self.on_start()
        for key in self.initial_keys():
            self.queue.add(key)
        self._task = loop.create_task(self._work(), name=f"controller:{self.name}")

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop: no more reactions, worker cancelled and awaited. Raises ControllerStillRunning on a hang."""
        task, self._task = self._task, None
        if task is None:
            return
        with contextlib.suppress(ValueError):
            self.api.store.listeners.remove(self._observe)
        self.queue.shut_down()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            raise ControllerStillRunning(f"The {self.name} controller did not stop within {timeout} s.")

    def _observe(self, change: Change) -> None:
        try:
            for key in self.keys_for(change):
                self.queue.add(key)
        except Exception:  # a listener must never break the write that called it
            log.exception("%s: could not map a %s change of %s", self.name, change.type, change.key)

    async def _work(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except queueing.QueueShutDown:
                return
            try:
                self.reconcile(key)
            except statuses.ApiError as err:
                delay = self.queue.backoff(key)
                level = logging.DEBUG if err.code in (404, 409) else logging.WARNING
                log.log(level, "%s: reconcile of %s failed (%s %s: %s); retrying in %.3f s", self.name, key,
                        err.code, err.reason, err.message, delay)
            except Exception:
                delay = self.queue.backoff(key)
                log.exception("%s: reconcile of %s failed; retrying in %.3f s", self.name, key, delay)
            else:
                self.queue.forget(key)
            finally:
                self.queue.done(key)

    # ---- helpers for subclasses ------------------------------------------------------------------------
    def rt(self, key: str) -> registry.ResourceType:
        return resource_type(self.api, key)

    def write_options(self) -> apis.WriteOptions:
        return apis.WriteOptions(field_manager=self.field_manager)

    def namespace_is_live(self, namespace: str | None) -> bool:
        if not namespace:
            return True
        ns = self.api.store.get("namespaces", "", namespace)
        return ns is not None and not (ns.get("metadata") or {}).get("deletionTimestamp")

    def record(self, involved: Obj, type_: str, reason: str, message: str, component: str | None = None) -> None:
        """An Event about ``involved`` from this component (or ``component``).

        Dropped when the namespace is gone or terminating: the apiserver refuses new content there.
        """
        namespace = (involved.get("metadata") or {}).get("namespace")
        if namespace and not self.namespace_is_live(namespace):
            return
        self.api.record_event(involved, type_, reason, message, component or self.component)
