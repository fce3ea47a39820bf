"""Pod status as a kubelet reports it: container states, phase, conditions, QoS class.

Owns :class:`ContainerState` (one container's state, to and from its ``containerStatuses`` entry) and
:func:`build_status`, which derives the phase (Pending while anything waits, Running, Succeeded/Failed once all
ended) and the conditions (PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled) keeping
transition times that did not change. Pure: the kubelet decides what happens to containers; this module only
says how that reads in the API.

>>> pod = {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}
>>> status = build_status(pod, [ContainerState("web", "nginx")], [], host_ip="10.0.0.10", pod_ip=None,
...                       start_time="t", stamp="t", sandbox_ready=False)
>>> status["phase"], status["containerStatuses"][0]["state"]
('Pending', {'waiting': {'reason': 'ContainerCreating'}})
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from gitops_lab.sandbox.controllers import objects

Obj = dict[str, Any]
CONDITION_ORDER = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")


@dataclasses.dataclass
class ContainerState:
    """One container as the kubelet sees it."""

    name: str
    image: str
    image_id: str = ""
    container_id: str = ""
    state: str = "waiting"  # waiting | running | terminated
    reason: str = "ContainerCreating"
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int = 0
    ready: bool = False
    restart_count: int = 0

    @property
    def completed(self) -> bool:
        return self.state == "terminated" and self.exit_code == 0

    def to_status(self) -> Obj:
        """The ``containerStatuses`` entry.

        >>> ContainerState("web", "nginx", state="running", started_at="t").to_status()["state"]
        {'running': {'startedAt': 't'}}
        """
        state: Obj
        if self.state == "running":
            state = {"running": {"startedAt": self.started_at}}
        elif self.state == "terminated":
            state = {"terminated": {"exitCode": self.exit_code, "reason": self.reason, "startedAt": self.started_at,
                                    "finishedAt": self.finished_at}}
            if self.container_id:
                state["terminated"]["containerID"] = self.container_id
        else:
            state = {"waiting": {"reason": self.reason}}
            if self.message:
                state["waiting"]["message"] = self.message
        status: Obj = {"name": self.name, "image": self.image, "imageID": self.image_id, "ready": self.ready,
                       "restartCount": self.restart_count, "started": self.state == "running", "state": state,
                       "lastState": {}}
        if self.container_id:
            status["containerID"] = self.container_id
        return status

    @classmethod
    def from_status(cls, status: Mapping[str, Any]) -> ContainerState:
        """The state back from a stored ``containerStatuses`` entry."""
        raw = status.get("state") or {}
        result = cls(str(status.get("name")), str(status.get("image", "")), str(status.get("imageID", "")),
                     str(status.get("containerID", "")), ready=bool(status.get("ready")),
                     restart_count=objects.int_value(status.get("restartCount")))
        if "running" in raw:
            result.state, result.reason = "running", ""
            result.started_at = (raw["running"] or {}).get("startedAt")
        elif "terminated" in raw:
            ended = raw["terminated"] or {}
            result.state, result.reason = "terminated", str(ended.get("reason", "Completed"))
            result.exit_code = objects.int_value(ended.get("exitCode"))
            result.started_at, result.finished_at = ended.get("startedAt"), ended.get("finishedAt")
        else:
            waiting = raw.get("waiting") or {}
            result.reason = str(waiting.get("reason", "ContainerCreating"))
            result.message = waiting.get("message")
        return result


def states_of(pod: Mapping[str, Any], field: str = "containerStatuses",
              spec_field: str = "containers") -> list[ContainerState]:
    """Each container of the spec with its stored state (ContainerCreating when it has none yet)."""
    stored = {s.get("name"): s for s in (pod.get("status") or {}).get(field) or []}
    result = []
    for container in (pod.get("spec") or {}).get(spec_field) or []:
        name = container.get("name", "")
        if name in stored:
            result.append(ContainerState.from_status(stored[name]))
        else:
            result.append(ContainerState(name, str(container.get("image", ""))))
    return result


def phase(containers: Sequence[ContainerState], init: Sequence[ContainerState]) -> str:
    """Pending while an init container has not completed or any container waits; then Running or ended.

    >>> phase([ContainerState("a", "x", state="running")], [])
    'Running'
    """
    if containers and all(c.state == "terminated" for c in containers):
        return "Succeeded" if all(c.exit_code == 0 for c in containers) else "Failed"
    if any(not c.completed for c in init) or any(c.state == "waiting" for c in containers):
        return "Pending"
    return "Running"


def qos_class(pod: Mapping[str, Any]) -> str:
    """Guaranteed (cpu and memory limits equal requests everywhere), BestEffort (nothing set) or Burstable."""
    containers = [*((pod.get("spec") or {}).get("containers") or []),
                  *((pod.get("spec") or {}).get("initContainers") or [])]
    resources = [c.get("resources") or {} for c in containers]
    if not any((r.get("requests") or r.get("limits")) for r in resources):
        return "BestEffort"
    for r in resources:
        limits, requests = r.get("limits") or {}, {**(r.get("limits") or {}), **(r.get("requests") or {})}
        for name in ("cpu", "memory"):
            if name not in limits or str(requests.get(name)) != str(limits[name]):
                return "Burstable"
    return "Guaranteed"


def _condition(type_: str, ok: bool, reason: str | None = None, message: str | None = None) -> Obj:
    cond: Obj = {"type": type_, "status": "True" if ok else "False", "lastProbeTime": None}
    if not ok and reason:
        cond["reason"] = reason
    if not ok and message:
        cond["message"] = message
    return cond


def build_status(pod: Mapping[str, Any], containers: Sequence[ContainerState], init: Sequence[ContainerState], *,
                 host_ip: str, pod_ip: str | None, start_time: str | None, stamp: str,
                 sandbox_ready: bool) -> Obj:
    """The pod's whole status for the given container states (conditions keep unchanged transition times)."""
    old = pod.get("status") or {}
    conditions: list[Obj] = [copy.deepcopy(c) for c in old.get("conditions") or []]
    unready = [c.name for c in containers if not c.ready]
    pending_init = [c.name for c in init if not c.completed]
    wanted = [
        _condition("PodReadyToStartContainers", sandbox_ready),
        _condition("Initialized", not pending_init, "ContainersNotInitialized",
                   f"containers with incomplete status: [{' '.join(pending_init)}]"),
        _condition("Ready", not unready, "ContainersNotReady",
                   f"containers with unready status: [{' '.join(unready)}]"),
        _condition("ContainersReady", not unready, "ContainersNotReady",
                   f"containers with unready status: [{' '.join(unready)}]"),
        _condition("PodScheduled", True),
    ]
    for cond in wanted:
        objects.set_condition(conditions, cond, stamp)
    conditions.sort(key=lambda c: CONDITION_ORDER.index(c["type"]) if c.get("type") in CONDITION_ORDER else 99)
    status: Obj = {"phase": phase(containers, init), "conditions": conditions, "hostIP": host_ip,
                   "hostIPs": [{"ip": host_ip}]}
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    if start_time:
        status["startTime"] = start_time
    if init:
        status["initContainerStatuses"] = [c.to_status() for c in init]
    status["containerStatuses"] = [c.to_status() for c in containers]
    status["qosClass"] = old.get("qosClass") or qos_class(pod)
    generation = (pod.get("metadata") or {}).get("generation")
    if generation is not None:
        status["observedGeneration"] = generation
    return status
