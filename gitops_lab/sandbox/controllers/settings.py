"""The knobs of the sandbox's controllers and simulated node (times in lab seconds).

Owns :class:`ControllerSettings` and how it is read from whatever settings object the sandbox server holds (any
attribute with a matching name wins over the default). Pure data.

>>> class ServerSettings:
...     pod_start_delay = 0.2
>>> ControllerSettings.from_object(ServerSettings()).pod_start_delay
0.2
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class ControllerSettings:
    """How fast the simulated node works, and what it is."""

    pod_start_delay: float = 0.5
    """From a pod's ContainerCreating to its containers running."""
    pod_stop_delay: float = 0.5
    """From a graceful delete to the pod's removal (never longer than its grace period)."""
    err_image_pull_delay: float = 1.0
    """How long ErrImagePull shows before ImagePullBackOff."""
    image_pull_backoff: float = 10.0
    """First back-off before pulling a missing image again; doubles up to ``image_pull_backoff_max``."""
    image_pull_backoff_max: float = 300.0
    node_name: str = "sandbox-node"
    node_ip: str = "10.0.0.10"
    node_cpu: str = "4"
    node_memory: str = "8Gi"
    node_pods: int = 110
    node_ephemeral_storage: str = "100Gi"
    pod_cidr: str = "10.244.0.0/16"
    kubelet_version: str = "v1.37.1"
    root_ca: str = ""
    """PEM of the cluster CA, published as ``kube-root-ca.crt`` in every namespace (empty: nothing published)."""

    @classmethod
    def from_object(cls, source: Any) -> ControllerSettings:
        """Settings taking every same-named attribute of ``source`` (e.g. the server's Settings)."""
        if source is None:
            return cls()
        if isinstance(source, cls):
            return source
        values = {f.name: getattr(source, f.name) for f in dataclasses.fields(cls) if hasattr(source, f.name)}
        return cls(**values)
