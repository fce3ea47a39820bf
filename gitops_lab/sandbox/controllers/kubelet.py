"""The simulated node: one Node object, a scheduler for it and a kubelet that "runs" pods without containers.

Owns the Node ``sandbox-node`` (registered at start with capacity, conditions, addresses, nodeInfo and labels, and
re-registered if deleted); scheduling pending pods onto it (binding, or PodScheduled False / FailedScheduling
with kube-scheduler's message when requests do not fit, retried when pods go away); each bound pod's life —
ContainerCreating, then after ``pod_start_delay`` an image "pull" from the :mod:`images` catalog (Pulling, Pulled,
Created, Started; or ErrImagePull and ImagePullBackOff with exponential retries), Running with a podIP from the pod
CIDR, readiness (honouring a readiness probe's initialDelaySeconds); graceful termination (Killing, containers
terminated, removal after at most ``pod_stop_delay``); and the ``Api.log_source`` giving each container a short,
plausible log. No process is ever run. Must not create or delete pods on its own account (only remove terminated
ones) nor touch other kinds but Node and Event.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import ipaddress
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

from gitops_lab import clock as clocks
from gitops_lab.sandbox import api as apis
from gitops_lab.sandbox import statuses
from gitops_lab.sandbox.controllers import base, images, objects, pod_status, scheduling
from gitops_lab.sandbox.controllers.settings import ControllerSettings
from gitops_lab.sandbox.store import Change

Key = tuple[str, str]
Obj = dict[str, Any]

POD_KEY = "pods"
NODE_KEY = "nodes"
NODE_ITEM: Key = ("", "")
"""The work-queue key of the node itself (no pod has an empty name)."""
SCHEDULER = "default-scheduler"
WAITING_TO_START = ("ContainerCreating", "ErrImagePull", "ImagePullBackOff", "PodInitializing")


@dataclasses.dataclass
class PodProgress:
    """Where one pod is in its simulated life (in memory; rebuilt from its status after a restart)."""

    uid: str
    stage: str  # creating | pull-failed | backoff | running | stopping
    due: float  # clock.monotonic() when the next step may happen
    attempts: int = 0


def node_object(settings: ControllerSettings) -> Obj:
    """The Node as registered (metadata and spec; the status is written separately)."""
    name = settings.node_name
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                       "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
                       "node-role.kubernetes.io/control-plane": ""},
            "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                            "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": {"podCIDR": settings.pod_cidr, "podCIDRs": [settings.pod_cidr]},
    }


def node_status(settings: ControllerSettings, previous: Mapping[str, Any] | None, stamp: str) -> Obj:
    """A healthy node's status; condition times are kept from ``previous`` when nothing changed."""
    resources = {"cpu": settings.node_cpu, "memory": settings.node_memory, "pods": str(settings.node_pods),
                 "ephemeral-storage": settings.node_ephemeral_storage, "hugepages-1Gi": "0", "hugepages-2Mi": "0"}
    digest = hashlib.sha256(settings.node_name.encode()).hexdigest()
    conditions: list[Obj] = [copy.deepcopy(c) for c in (previous or {}).get("conditions") or []]
    for type_, state, reason, message in (
            ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status")):
        if objects.set_condition(conditions, {"type": type_, "status": state, "reason": reason,
                                              "message": message}, stamp):
            for cond in conditions:
                if cond["type"] == type_:
                    cond["lastHeartbeatTime"] = stamp
    return {
        "capacity": resources, "allocatable": dict(resources), "conditions": conditions,
        "addresses": [{"type": "InternalIP", "address": settings.node_ip},
                      {"type": "Hostname", "address": settings.node_name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {"machineID": digest[:32], "systemUUID": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-"
                                                            f"{digest[16:20]}-{digest[20:32]}",
                     "bootID": digest[32:64], "kernelVersion": "6.8.0-sandbox",
                     "osImage": "Debian GNU/Linux 12 (bookworm)", "containerRuntimeVersion": "containerd://2.1.4",
                     "kubeletVersion": settings.kubelet_version, "kubeProxyVersion": "",
                     "operatingSystem": "linux", "architecture": "amd64"},
    }


def _same_node_status(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    def shape(status: Mapping[str, Any]) -> Obj:
        conditions = [{k: v for k, v in c.items() if k not in ("lastHeartbeatTime", "lastTransitionTime")}
                      for c in status.get("conditions") or []]
        return {**status, "conditions": conditions}
    return shape(a) == shape(b)


def normalized_image(ref: str) -> str:
    """How a container runtime reports an image (``docker.io/library/nginx:1.27``); the text itself if invalid."""
    try:
        parsed = images.parse_reference(ref)
    except ValueError:
        return ref
    return f"{parsed.repository}@{parsed.digest}" if parsed.digest else f"{parsed.repository}:{parsed.tag}"


def pull_policy(container: Mapping[str, Any]) -> str:
    policy = container.get("imagePullPolicy")
    if policy:
        return str(policy)
    try:
        tag = images.parse_reference(str(container.get("image", ""))).tag
    except ValueError:
        return "IfNotPresent"
    return "Always" if tag == "latest" else "IfNotPresent"


class Kubelet(base.Controller[Key]):
    """The node, its scheduler and its kubelet."""

    name = "kubelet"
    component = "kubelet"
    field_manager = "kubelet"

    def __init__(self, api: apis.Api, clock: clocks.Clock, settings: ControllerSettings,
                 catalog: images.ImageCatalog) -> None:
        super().__init__(api, clock)
        self.settings = settings
        self.catalog = catalog
        self._progress: dict[Key, PodProgress] = {}
        self._present: set[str] = set()
        self._next_ip = 2
        self._network = ipaddress.ip_network(settings.pod_cidr)

    # ---- lifecycle -------------------------------------------------------------------------------------
    def on_start(self) -> None:
        self._ensure_node()
        self.api.log_source = self.logs

    async def stop(self, timeout: float = 5.0) -> None:
        await super().stop(timeout)
        if self.api.log_source == self.logs:
            self.api.log_source = None

    # ---- keys ------------------------------------------------------------------------------------------
    def keys_for(self, change: Change) -> Iterator[Key]:
        if change.key == POD_KEY:
            yield (change.namespace, change.object["metadata"]["name"])
            if change.type == "DELETED" or (change.object.get("status") or {}).get("phase") in ("Succeeded",
                                                                                             "Failed"):
                yield from self._unscheduled()
        elif change.key == NODE_KEY and change.object["metadata"]["name"] == self.settings.node_name:
            yield NODE_ITEM
            yield from self._unscheduled()

    def _unscheduled(self) -> Iterator[Key]:
        for pod in self.api.store.items(POD_KEY):
            if not (pod.get("spec") or {}).get("nodeName") and not objects.is_deleting(pod):
                yield (pod["metadata"].get("namespace", ""), pod["metadata"]["name"])

    def initial_keys(self) -> Iterator[Key]:
        yield NODE_ITEM
        for pod in self.api.store.items(POD_KEY):
            yield (pod["metadata"].get("namespace", ""), pod["metadata"]["name"])

    # ---- reconcile -------------------------------------------------------------------------------------
    def reconcile(self, key: Key) -> None:
        if key == NODE_ITEM:
            self._ensure_node()
            return
        pod = self.api.store.get(POD_KEY, *key)
        if pod is None:
            self._progress.pop(key, None)
            return
        progress = self._progress.get(key)
        if progress is not None and progress.uid != pod["metadata"].get("uid"):
            self._progress.pop(key)
        node_name = (pod.get("spec") or {}).get("nodeName")
        if objects.is_deleting(pod):
            if node_name == self.settings.node_name:
                self._terminate(key, pod)
            return
        if not node_name:
            self._schedule(key, pod)
        elif node_name == self.settings.node_name:
            self._sync_pod(key, pod)

    def _pods_rt(self) -> Any:
        return self.rt(POD_KEY)

    def _write_status(self, key: Key, status: Obj) -> None:
        current = self.api.store.get(POD_KEY, *key)
        if current is None or (current.get("status") or {}) == status:
            return
        body = copy.deepcopy(current)
        body["status"] = status
        self.api.update(self._pods_rt(), key[0], key[1], body, self.write_options(), subresource="status")

    # ---- the node --------------------------------------------------------------------------------------
    def _ensure_node(self) -> None:
        rt = self.rt(NODE_KEY)
        node = self.api.store.get(NODE_KEY, "", self.settings.node_name)
        if node is None:
            try:
                self.api.create(rt, None, node_object(self.settings), self.write_options())
            except statuses.ApiError as err:
                if err.code != 409:
                    raise
            node = self.api.store.get(NODE_KEY, "", self.settings.node_name)
            assert node is not None
        status = node_status(self.settings, node.get("status"), self.api.now())
        if _same_node_status(status, node.get("status") or {}):
            return
        body = copy.deepcopy(node)
        body["status"] = status
        self.api.update(rt, None, self.settings.node_name, body, self.write_options(), subresource="status")

    # ---- scheduling ------------------------------------------------------------------------------------
    def _schedule(self, key: Key, pod: Obj) -> None:
        if (pod.get("spec") or {}).get("schedulerName", SCHEDULER) != SCHEDULER:
            return
        node = self.api.store.get(NODE_KEY, "", self.settings.node_name)
        if node is None:
            return
        bound = [p for p in self.api.store.items(POD_KEY)
                 if (p.get("spec") or {}).get("nodeName") == self.settings.node_name
                 and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        failures = scheduling.fit_failures(pod, node, bound)
        if failures:
            message = scheduling.unschedulable_message(failures)
            status = copy.deepcopy(pod.get("status") or {})
            status.setdefault("phase", "Pending")
            conditions: list[Obj] = status.setdefault("conditions", [])
            objects.set_condition(conditions, {"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                                               "reason": "Unschedulable", "message": message}, self.api.now())
            status.setdefault("qosClass", pod_status.qos_class(pod))
            self._write_status(key, status)
            self.record(pod, "Warning", "FailedScheduling", message, component=SCHEDULER)
            return
        self._bind(key, pod)
        self.record(pod, "Normal", "Scheduled",
                    f"Successfully assigned {key[0]}/{key[1]} to {self.settings.node_name}", component=SCHEDULER)

    def _bind(self, key: Key, pod: Obj) -> None:
        """Assign the pod to the node, as a POST to its ``binding`` subresource does."""
        self.api.bind(key[0], key[1], self.settings.node_name)

    # ---- running pods ----------------------------------------------------------------------------------
    def _sync_pod(self, key: Key, pod: Obj) -> None:
        status = pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            return
        now = self.clock.monotonic()
        if not status.get("containerStatuses"):
            self._accept(key, pod)
            return
        progress = self._progress.get(key) or self._recover(key, pod, now)
        if self._needs_start(pod):
            if now < progress.due:
                self.queue.add_after(key, progress.due - now)
            elif progress.stage == "pull-failed":
                self._back_off(key, pod, progress)
            else:
                self._start(key, pod, progress)
            return
        progress.stage = "running"
        self._update_readiness(key, pod)

    def _accept(self, key: Key, pod: Obj) -> None:
        """A newly bound pod: ContainerCreating, and a timer for its start."""
        stamp = self.api.now()
        containers = pod_status.states_of(pod)
        init = pod_status.states_of(pod, "initContainerStatuses", "initContainers")
        if init:
            for state in containers:
                state.reason = "PodInitializing"
        status = pod_status.build_status(pod, containers, init, host_ip=self.settings.node_ip, pod_ip=None,
                                         start_time=stamp, stamp=stamp, sandbox_ready=False)
        self._write_status(key, status)
        delay = self.settings.pod_start_delay
        self._progress[key] = PodProgress(str(pod["metadata"].get("uid")), "creating",
                                          self.clock.monotonic() + delay)
        self.queue.add_after(key, delay)

    def _recover(self, key: Key, pod: Obj, now: float) -> PodProgress:
        """Progress for a pod met after a restart, from what its status says."""
        reasons = {s.reason for s in pod_status.states_of(pod) + pod_status.states_of(
            pod, "initContainerStatuses", "initContainers") if s.state == "waiting"}
        if "ImagePullBackOff" in reasons:
            progress = PodProgress(str(pod["metadata"].get("uid")), "backoff", now + self.settings.image_pull_backoff,
                                   attempts=1)
        elif "ErrImagePull" in reasons:
            progress = PodProgress(str(pod["metadata"].get("uid")), "pull-failed", now, attempts=1)
        else:
            progress = PodProgress(str(pod["metadata"].get("uid")), "creating", now)
        self._progress[key] = progress
        return progress

    def _needs_start(self, pod: Obj) -> bool:
        specs = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or []}
        for state in pod_status.states_of(pod):
            if state.state == "waiting":
                return True
            wanted = normalized_image(str(specs.get(state.name, {}).get("image", "")))
            if state.state == "running" and state.image != wanted:
                return True
        return any(not s.completed for s in pod_status.states_of(pod, "initContainerStatuses", "initContainers"))

    def _pull(self, pod: Obj, container: Mapping[str, Any]) -> images.PulledImage | None:
        """Pull one container's image (with its Events); None when the image does not exist."""
        ref = str(container.get("image", ""))
        found = self.catalog.lookup(ref)
        policy = pull_policy(container)
        if found is not None and policy != "Always" and str(found.ref) in self._present:
            self.record(pod, "Normal", "Pulled", f'Container image "{ref}" already present on machine')
            return found
        self.record(pod, "Normal", "Pulling", f'Pulling image "{ref}"')
        if found is None:
            self.record(pod, "Warning", "Failed", f'Failed to pull image "{ref}": {pull_error(ref)}')
            self.record(pod, "Warning", "Failed", "Error: ErrImagePull")
            return None
        took = go_duration(0.2 + found.size / 80_000_000)
        self.record(pod, "Normal", "Pulled", f'Successfully pulled image "{ref}" in {took} '
                                             f"({took} including waiting). Image size: {found.size} bytes.")
        self._present.add(str(found.ref))
        return found

    def _start(self, key: Key, pod: Obj, progress: PodProgress) -> None:
        """Pull and start every container that is not running (init containers first, run to completion)."""
        stamp = self.api.now()
        spec = pod.get("spec") or {}
        init = pod_status.states_of(pod, "initContainerStatuses", "initContainers")
        containers = pod_status.states_of(pod)
        failed = self._start_group(pod, spec.get("initContainers") or [], init, stamp, run_to_completion=True)
        if not failed:
            failed = self._start_group(pod, spec.get("containers") or [], containers, stamp, run_to_completion=False)
        else:
            for state in containers:
                state.reason = "PodInitializing"
        status = pod_status.build_status(pod, containers, init, host_ip=self.settings.node_ip,
                                         pod_ip=self._pod_ip(pod), start_time=(pod.get("status") or {}).get(
                                             "startTime", stamp), stamp=stamp, sandbox_ready=True)
        self._write_status(key, status)
        if failed:
            progress.stage, progress.attempts = "pull-failed", progress.attempts + 1
            progress.due = self.clock.monotonic() + self.settings.err_image_pull_delay
            self.queue.add_after(key, self.settings.err_image_pull_delay)
            return
        progress.stage = "running"
        self._schedule_readiness(key, pod, containers)

    def _start_group(self, pod: Obj, specs: list[Obj], states: list[pod_status.ContainerState], stamp: str,
                     run_to_completion: bool) -> bool:
        """Start what needs starting in one group of containers; True if an image was missing."""
        failed = False
        for container, state in zip(specs, states, strict=False):
            image = str(container.get("image", ""))
            wanted = normalized_image(image)
            if (state.state == "running" and state.image == wanted) or (run_to_completion and state.completed):
                continue
            if failed and run_to_completion:
                break
            pulled = self._pull(pod, container)
            if pulled is None:
                failed = True
                state.state, state.reason, state.ready, state.image = "waiting", "ErrImagePull", False, image
                state.message = pull_error(image)
                continue
            if state.state == "running":
                self.record(pod, "Normal", "Killing",
                            f"Container {state.name} definition changed, will be restarted")
                state.restart_count += 1
            self.record(pod, "Normal", "Created", f"Created container: {state.name}")
            self.record(pod, "Normal", "Started", f"Started container {state.name}")
            state.image, state.image_id = wanted, pulled.image_id
            state.container_id = f"containerd://{secrets.token_hex(32)}"
            state.started_at, state.message = stamp, None
            if run_to_completion:
                state.state, state.reason, state.exit_code, state.finished_at = "terminated", "Completed", 0, stamp
                state.ready = True
            else:
                state.state, state.reason = "running", ""
                state.ready = _readiness_delay(container) <= 0
        return failed

    def _back_off(self, key: Key, pod: Obj, progress: PodProgress) -> None:
        """ErrImagePull has shown long enough: ImagePullBackOff until the next attempt."""
        stamp = self.api.now()
        spec = pod.get("spec") or {}
        specs = {c.get("name"): c for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]}
        init = pod_status.states_of(pod, "initContainerStatuses", "initContainers")
        containers = pod_status.states_of(pod)
        for state in [*init, *containers]:
            if state.state == "waiting" and state.reason == "ErrImagePull":
                container = specs.get(state.name, {})
                ref = str(container.get("image", ""))
                state.reason = "ImagePullBackOff"
                state.message = f'Back-off pulling image "{ref}": ErrImagePull: {pull_error(ref)}'
                self.record(pod, "Normal", "BackOff", f'Back-off pulling image "{ref}"')
                self.record(pod, "Warning", "Failed", "Error: ImagePullBackOff")
        status = pod_status.build_status(pod, containers, init, host_ip=self.settings.node_ip,
                                         pod_ip=(pod.get("status") or {}).get("podIP"),
                                         start_time=(pod.get("status") or {}).get("startTime"), stamp=stamp,
                                         sandbox_ready=True)
        self._write_status(key, status)
        delay = min(self.settings.image_pull_backoff * 2 ** max(progress.attempts - 1, 0),
                    self.settings.image_pull_backoff_max)
        progress.stage, progress.due = "backoff", self.clock.monotonic() + delay
        self.queue.add_after(key, delay)

    # ---- readiness -------------------------------------------------------------------------------------
    def _schedule_readiness(self, key: Key, pod: Obj, containers: list[pod_status.ContainerState]) -> None:
        specs = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or []}
        delays = [_readiness_delay(specs.get(s.name, {})) for s in containers if s.state == "running" and not s.ready]
        if delays:
            self.queue.add_after(key, min(delays))

    def _update_readiness(self, key: Key, pod: Obj) -> None:
        specs = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or []}
        containers = pod_status.states_of(pod)
        init = pod_status.states_of(pod, "initContainerStatuses", "initContainers")
        now = self.clock.now()
        changed = False
        waits = []
        for state in containers:
            if state.state != "running" or state.ready or not state.started_at:
                continue
            remaining = (objects.parse_time(state.started_at).timestamp() + _readiness_delay(
                specs.get(state.name, {})) - now.timestamp())
            if remaining <= 0:
                state.ready, changed = True, True
            else:
                waits.append(remaining)
        if waits:
            self.queue.add_after(key, min(waits))
        if not changed:
            return
        status = pod.get("status") or {}
        stamp = clocks.rfc3339(now)
        self._write_status(key, pod_status.build_status(
            pod, containers, init, host_ip=self.settings.node_ip, pod_ip=status.get("podIP"),
            start_time=status.get("startTime"), stamp=stamp, sandbox_ready=True))

    # ---- addresses -------------------------------------------------------------------------------------
    def _pod_ip(self, pod: Obj) -> str:
        current = (pod.get("status") or {}).get("podIP")
        if current:
            return str(current)
        if (pod.get("spec") or {}).get("hostNetwork"):
            return self.settings.node_ip
        used = {str((p.get("status") or {}).get("podIP")) for p in self.api.store.items(POD_KEY)}
        size = self._network.num_addresses
        for _ in range(size):
            offset = self._next_ip
            self._next_ip = self._next_ip + 1 if self._next_ip + 1 < size - 1 else 2
            address = str(self._network.network_address + offset)
            if address not in used and not address.endswith((".0", ".255")):
                return address
        raise statuses.internal(f"the pod network {self._network} has no free address left")

    # ---- termination -----------------------------------------------------------------------------------
    def _terminate(self, key: Key, pod: Obj) -> None:
        progress = self._progress.get(key)
        now = self.clock.monotonic()
        if progress is None or progress.stage != "stopping":
            grace = objects.int_value(pod["metadata"].get("deletionGracePeriodSeconds"), 30)
            delay = 0.0 if grace <= 0 else min(float(grace), self.settings.pod_stop_delay)
            self._stop_containers(key, pod)
            progress = PodProgress(str(pod["metadata"].get("uid")), "stopping", now + delay)
            self._progress[key] = progress
        if now < progress.due:
            self.queue.add_after(key, progress.due - now)
            return
        current = self.api.store.get(POD_KEY, *key)
        if current is None:
            return
        if current["metadata"].get("finalizers"):
            return  # the API removes it once its finalizers are gone
        self.api.remove_now(self._pods_rt(), key[0], key[1])
        self._progress.pop(key, None)

    def _stop_containers(self, key: Key, pod: Obj) -> None:
        containers = pod_status.states_of(pod)
        if not any(s.state == "running" for s in containers):
            return
        stamp = self.api.now()
        for state in containers:
            if state.state == "running":
                self.record(pod, "Normal", "Killing", f"Stopping container {state.name}")
                state.state, state.reason, state.exit_code, state.finished_at = "terminated", "Completed", 0, stamp
            state.ready = False
        status = pod.get("status") or {}
        new_status = pod_status.build_status(
            pod, containers, pod_status.states_of(pod, "initContainerStatuses", "initContainers"),
            host_ip=self.settings.node_ip, pod_ip=status.get("podIP"), start_time=status.get("startTime"),
            stamp=stamp, sandbox_ready=True)
        if base.update_would_delete(POD_KEY, pod):
            return  # the pod is shown Terminating until its removal; the status write would remove it now
        self._write_status(key, new_status)

    # ---- logs ------------------------------------------------------------------------------------------
    def logs(self, pod: Obj, container: str | None) -> str:
        """The log of one container of ``pod`` (``kubectl logs``); raises 400 for one that never started."""
        spec = pod.get("spec") or {}
        all_specs = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
        name = container or (spec.get("containers") or [{}])[0].get("name")
        container_spec = next((c for c in all_specs if c.get("name") == name), None)
        pod_name = pod["metadata"]["name"]
        if container_spec is None:
            raise statuses.bad_request(f"container {name} is not valid for pod {pod_name}")
        states = {s.name: s for s in pod_status.states_of(pod) + pod_status.states_of(
            pod, "initContainerStatuses", "initContainers")}
        state = states.get(str(name))
        if state is None or state.state == "waiting" or not state.started_at:
            reason = state.reason if state is not None else "ContainerCreating"
            if reason in ("ErrImagePull", "ImagePullBackOff"):
                reason = "trying and failing to pull image"
            raise statuses.bad_request(f'container "{name}" in pod "{pod_name}" is waiting to start: {reason}')
        pulled = self.catalog.lookup(str(container_spec.get("image", "")))
        if pulled is None:
            return ""
        return pulled.log_text(objects.parse_time(state.started_at), str((pod.get("status") or {}).get(
            "podIP", "")), pod_name)


def go_duration(seconds: float) -> str:
    """A duration truncated to milliseconds as Go's ``time.Duration`` prints it (the kubelet's pull times).

    >>> go_duration(1.1004), go_duration(0.85), go_duration(2.0), go_duration(75.25), go_duration(0)
    ('1.1s', '850ms', '2s', '1m15.25s', '0s')
    """
    ms = int(seconds * 1000)
    if ms < 1000:
        return f"{ms}ms" if ms else "0s"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, fraction = divmod(rest, 1000)
    text = f"{whole}" + (f".{fraction:03d}".rstrip("0") if fraction else "") + "s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    return f"{hours}h{text}" if hours else text


def pull_error(ref: str) -> str:
    """containerd's words for an image that does not exist."""
    try:
        full = str(images.parse_reference(ref))
    except ValueError as err:
        return f"rpc error: code = InvalidArgument desc = {err}"
    return (f'rpc error: code = NotFound desc = failed to pull and unpack image "{full}": failed to resolve '
            f'reference "{full}": {full}: not found')


def _readiness_delay(container: Mapping[str, Any]) -> float:
    probe = container.get("readinessProbe")
    if not probe:
        return 0.0
    return float(objects.int_value(probe.get("initialDelaySeconds")))
