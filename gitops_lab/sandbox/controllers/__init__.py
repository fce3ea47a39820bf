"""The sandbox's controllers: deployments, replica sets, garbage collection, namespaces, endpoints, a simulated node.

They run as asyncio tasks in the sandbox's event loop, react to stored changes (``Store.listeners`` → work queues)
and act through :class:`gitops_lab.sandbox.api.Api`. :class:`ControllerManager` starts and stops them together.
"""

from gitops_lab.sandbox.controllers.manager import ControllerManager
from gitops_lab.sandbox.controllers.settings import ControllerSettings

__all__ = ["ControllerManager", "ControllerSettings"]
