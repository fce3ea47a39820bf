"""The controller manager: every sandbox controller started and stopped together, in the sandbox's event loop.

Owns the set of controllers (namespaces, garbage collector, deployments, replica sets, endpoints, the simulated
node), their settings (read from the server's settings object) and the image catalog the node pulls from, with
one lifecycle: ``start()`` idempotent and synchronous (system namespaces and the Node exist when it returns),
``async stop()`` that stops every controller and raises if one would not end. Must not implement any control
loop itself.

>>> import asyncio, pathlib, tempfile
>>> from gitops_lab.sandbox import api, store
>>> async def main() -> list[str]:
...     db = store.Store(pathlib.Path(tempfile.mkdtemp()) / "state.db")
...     manager = ControllerManager(api.Api(db))
...     manager.start()
...     manager.images.add_image("registry.lab/demo:v1")
...     await manager.stop()
...     db.close()
...     return [ns["metadata"]["name"] for ns in db.items("namespaces")]
>>> asyncio.run(main())
['default', 'kube-node-lease', 'kube-public', 'kube-system']
"""

from __future__ import annotations

from typing import Any

from gitops_lab import clock as clocks
from gitops_lab.sandbox import api as apis
from gitops_lab.sandbox.controllers import (
    base,
    deployments,
    endpoints,
    garbage,
    images,
    kubelet,
    namespaces,
    replicasets,
)
from gitops_lab.sandbox.controllers.settings import ControllerSettings


class ControllerManager:
    """All controllers of one sandbox."""

    def __init__(self, api: apis.Api, clock: clocks.Clock | None = None, settings: Any = None,
                 catalog: images.ImageCatalog | None = None) -> None:
        self.api = api
        self.clock: clocks.Clock = clock or api.clock
        self.settings = ControllerSettings.from_object(settings)
        self.images = catalog or images.default_catalog()
        self.namespaces = namespaces.NamespaceController(api, self.clock, self.settings)
        self.garbage_collector = garbage.GarbageCollector(api, self.clock)
        self.deployments = deployments.DeploymentController(api, self.clock)
        self.replicasets = replicasets.ReplicaSetController(api, self.clock)
        self.endpoints = endpoints.EndpointsController(api, self.clock)
        self.kubelet = kubelet.Kubelet(api, self.clock, self.settings, self.images)
        self.controllers: tuple[base.Controller[Any], ...] = (
            self.namespaces, self.garbage_collector, self.deployments, self.replicasets, self.endpoints,
            self.kubelet)
        self._started = False

    @property
    def running(self) -> bool:
        return self._started

    def start(self) -> None:
        """Start every controller (idempotent); needs the sandbox's running event loop."""
        if self._started:
            return
        self._started = True
        for controller in self.controllers:
            controller.start()

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop every controller, the last started first; raises the first failure after trying them all."""
        if not self._started:
            return
        self._started = False
        failures: list[BaseException] = []
        for controller in reversed(self.controllers):
            try:
                await controller.stop(timeout)
            except base.ControllerStillRunning as err:
                failures.append(err)
        if failures:
            raise failures[0]

    async def __aenter__(self) -> ControllerManager:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def idle(self) -> bool:
        """No controller has work queued or in hand (timers for later may be pending)."""
        return all(c.queue.idle for c in self.controllers)

    def quiet(self) -> bool:
        """Idle with no timer pending either: nothing will happen until something changes."""
        return self.idle() and not any(c.queue.pending_timers for c in self.controllers)
