"""The sandbox's controllers at work: a real Store (tmp dir) and Api, all controllers, a fast lab clock.

Every wait is a condition re-checked on each stored change, with a timeout; no test sleeps for a fixed time.
Rollouts are watched change by change: the surge and unavailability bounds must hold in every intermediate state.
"""

from __future__ import annotations

import asyncio
import copy
import pathlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from gitops_lab import clock as clocks
from gitops_lab.sandbox import api as apis
from gitops_lab.sandbox import registry, statuses
from gitops_lab.sandbox import store as stores
from gitops_lab.sandbox.controllers import ControllerManager, ControllerSettings, objects, rollouts
from gitops_lab.sandbox.store import Change

Obj = dict[str, Any]
T = TypeVar("T")
FACTOR = 20.0
TIMEOUT = 20.0
NS = "default"


class Lab:
    """One sandbox's storage, API and controllers, with helpers to act and to wait."""

    def __init__(self, path: pathlib.Path, **settings: Any) -> None:
        self.path = path
        self.store = stores.Store(path / "state.db")
        self.clock = clocks.ScaledClock(FACTOR)
        self.api = apis.Api(self.store, clock=self.clock)
        self.manager = ControllerManager(self.api, self.clock, ControllerSettings(**settings))
        self._changed = asyncio.Event()
        self.store.listeners.append(lambda change: self._changed.set())

    def rt(self, key: str) -> registry.ResourceType:
        group, _, plural = key.rpartition("/")
        rt = self.api.registry.storage_type(group, plural)
        assert rt is not None
        return rt

    def create(self, key: str, namespace: str | None, body: Obj) -> Obj:
        return self.api.create(self.rt(key), namespace, copy.deepcopy(body))

    def get(self, key: str, namespace: str, name: str) -> Obj | None:
        return self.store.get(key, namespace, name)

    def items(self, key: str, namespace: str | None = NS) -> list[Obj]:
        return list(self.store.items(key, namespace))

    def update(self, key: str, namespace: str | None, name: str, change: Callable[[Obj], None]) -> Obj:
        body = self.api.get(self.rt(key), namespace, name)
        change(body)
        return self.api.update(self.rt(key), namespace, name, body)

    def delete(self, key: str, namespace: str | None, name: str, propagation: str | None = None) -> Obj:
        return self.api.delete(self.rt(key), namespace, name, apis.DeleteOptions(propagation=propagation))

    async def until(self, check: Callable[[], T], what: str, timeout: float = TIMEOUT) -> T:
        """Wait until ``check()`` is truthy (re-checked on every stored change); returns its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            value = check()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue

    # ---- views -----------------------------------------------------------------------------------------
    def keys_in(self, namespace: str) -> list[str]:
        """The resource keys with objects in ``namespace``."""
        keys = self.store.keys()
        return sorted(k for k in keys if self.items(k, namespace))

    def replica_sets(self, deployment: str, namespace: str = NS) -> list[Obj]:
        owner = self.get("apps/deployments", namespace, deployment)
        uid = owner["metadata"]["uid"] if owner else None
        return [rs for rs in self.items("apps/replicasets", namespace)
                if any(r.get("uid") == uid for r in objects.owner_references(rs))]

    def pods_of(self, rs_names: set[str], namespace: str = NS) -> list[Obj]:
        return [p for p in self.items("pods", namespace)
                if (objects.controller_of(p) or {}).get("name") in rs_names]

    def deployment_pods(self, deployment: str, namespace: str = NS) -> list[Obj]:
        return self.pods_of({rs["metadata"]["name"] for rs in self.replica_sets(deployment, namespace)}, namespace)

    def events(self, namespace: str = NS, reason: str | None = None, name: str | None = None) -> list[Obj]:
        return [e for e in self.items("events", namespace)
                if (reason is None or e.get("reason") == reason)
                and (name is None or e["involvedObject"].get("name") == name)]

    def rolled_out(self, name: str, namespace: str = NS) -> bool:
        """What ``kubectl rollout status`` waits for."""
        d = self.get("apps/deployments", namespace, name)
        if d is None:
            return False
        status = d.get("status") or {}
        want = rollouts.replicas(d)
        return (status.get("observedGeneration", 0) >= d["metadata"]["generation"]
                and status.get("updatedReplicas", 0) == want and status.get("replicas", 0) == want
                and status.get("availableReplicas", 0) == want)


def run_lab(path: pathlib.Path, scenario: Callable[[Lab], Awaitable[None]], **settings: Any) -> None:
    async def main() -> None:
        lab = Lab(path, **settings)
        lab.manager.start()
        try:
            await scenario(lab)
        finally:
            await lab.manager.stop()
            lab.store.close()
    asyncio.run(main())


def deployment(name: str = "web", replicas: int = 3, image: str = "nginx:1.27", **spec: Any) -> Obj:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "main", "image": image}]}}, **spec},
    }


def set_image(image: str) -> Callable[[Obj], None]:
    def change(d: Obj) -> None:
        d["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return change


# ---- create, run, scale ---------------------------------------------------------------------------------
def test_deployment_runs_ready_pods_through_one_replica_set(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("apps/deployments", NS, deployment(replicas=3))
        await lab.until(lambda: lab.rolled_out("web"), "the deployment to roll out")
        d = lab.get("apps/deployments", NS, "web")
        assert d is not None
        assert objects.condition_true(d, "Available")
        assert objects.condition(d, "Available")["reason"] == "MinimumReplicasAvailable"
        assert objects.condition(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
        assert d["metadata"]["annotations"][rollouts.REVISION] == "1"
        [rs] = lab.replica_sets("web")
        pod_hash = rs["metadata"]["labels"][rollouts.HASH_LABEL]
        assert rs["metadata"]["name"] == f"web-{pod_hash}"
        assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", rollouts.HASH_LABEL: pod_hash}
        assert rs["metadata"]["annotations"][rollouts.DESIRED_REPLICAS] == "3"
        assert rs["metadata"]["annotations"][rollouts.MAX_REPLICAS] == "4"  # 25% surge of 3, rounded up
        assert rs["status"]["readyReplicas"] == 3 and rs["status"]["availableReplicas"] == 3
        pods = lab.deployment_pods("web")
        assert len(pods) == 3
        for pod in pods:
            assert pod["metadata"]["name"].startswith(f"{rs['metadata']['name']}-")
            assert len(pod["metadata"]["name"]) == len(rs["metadata"]["name"]) + 6
            ref = objects.controller_of(pod)
            assert ref is not None and ref["kind"] == "ReplicaSet" and ref["blockOwnerDeletion"] is True
            assert pod["metadata"]["labels"][rollouts.HASH_LABEL] == pod_hash
            assert pod["status"]["phase"] == "Running" and objects.pod_is_ready(pod)
            assert pod["status"]["podIP"].startswith("10.244.") and pod["status"]["hostIP"] == "10.0.0.10"
            [container] = pod["status"]["containerStatuses"]
            assert container["ready"] and container["started"] and container["restartCount"] == 0
            assert container["containerID"].startswith("containerd://")
            assert container["imageID"].startswith("docker.io/library/nginx@sha256:")
            assert pod["spec"]["nodeName"] == "sandbox-node"
        assert len({p["status"]["podIP"] for p in pods}) == 3
        messages = [e["message"] for e in lab.events(reason="ScalingReplicaSet", name="web")]
        assert messages == [f"Scaled up replica set {rs['metadata']['name']} from 0 to 3"]
        assert len(lab.events(reason="SuccessfulCreate", name=rs["metadata"]["name"])) == 3
        for reason in ("Scheduled", "Pulled", "Created", "Started"):
            assert len(lab.events(reason=reason)) == 3, reason
    run_lab(tmp_path, scenario)


def test_scaling_up_and_down_resizes_the_replica_set_and_says_so(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("apps/deployments", NS, deployment(replicas=2))
        await lab.until(lambda: lab.rolled_out("web"), "the first rollout")
        [rs] = lab.replica_sets("web")
        rs_name = rs["metadata"]["name"]

        def scale(n: int) -> Callable[[Obj], None]:
            return lambda d: d["spec"].__setitem__("replicas", n)
        lab.update("apps/deployments", NS, "web", scale(5))
        await lab.until(lambda: lab.rolled_out("web") and len(lab.deployment_pods("web")) == 5, "5 pods")
        lab.update("apps/deployments", NS, "web", scale(1))
        await lab.until(lambda: lab.rolled_out("web") and len(lab.deployment_pods("web")) == 1, "1 pod")
        assert [r["metadata"]["name"] for r in lab.replica_sets("web")] == [rs_name]
        assert lab.get("apps/replicasets", NS, rs_name)["metadata"]["annotations"][rollouts.DESIRED_REPLICAS] == "1"
        messages = [e["message"] for e in lab.events(reason="ScalingReplicaSet", name="web")]
        assert f"Scaled up replica set {rs_name} from 2 to 5" in messages
        assert f"Scaled down replica set {rs_name} from 5 to 1" in messages
        assert len(lab.events(reason="SuccessfulDelete", name=rs_name)) == 4
    run_lab(tmp_path, scenario)


def test_scale_down_deletes_pods_that_are_not_ready_first(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("apps/deployments", NS, deployment(replicas=2))
        await lab.until(lambda: lab.rolled_out("web"), "the first rollout")
        ready_pods = {p["metadata"]["name"] for p in lab.deployment_pods("web")}
        [rs] = lab.replica_sets("web")
        # One more replica whose image cannot be pulled: it never becomes ready.
        lab.update("apps/replicasets", NS, rs["metadata"]["name"], lambda r: r["spec"].__setitem__("replicas", 3))
        await lab.until(lambda: len(lab.deployment_pods("web")) == 3, "a third pod")
        # The deployment controller puts the size back to 2: the unready newcomer is the one to go.
        await lab.until(lambda: {p["metadata"]["name"] for p in lab.deployment_pods("web")
                                 if not objects.is_deleting(p)} == ready_pods and len(lab.deployment_pods("web")) == 2,
                        "the newest pod to be deleted")
    run_lab(tmp_path, scenario, pod_start_delay=30.0)


# ---- rollouts -------------------------------------------------------------------------------------------
class RolloutWatch:
    """Checks the rollout bounds on every stored change of one Deployment's ReplicaSets and pods."""

    def __init__(self, lab: Lab, name: str, replicas: int, surge: int, unavailable: int) -> None:
        self.lab, self.name = lab, name
        self.max_total = replicas + surge
        self.min_available = replicas - unavailable
        self.violations: list[str] = []
        self.states = 0
        self.armed = False
        self.peak_pods = 0
        lab.store.listeners.append(self)

    def __call__(self, change: Change) -> None:
        if not self.armed or change.key not in ("apps/replicasets", "pods"):
            return
        self.states += 1
        sets = self.lab.replica_sets(self.name)
        wanted = sum(rollouts.replicas(rs) for rs in sets)
        live = [p for p in self.lab.pods_of({rs["metadata"]["name"] for rs in sets}) if not objects.is_deleting(p)]
        ready = [p for p in live if objects.pod_is_ready(p)]
        self.peak_pods = max(self.peak_pods, len(live))
        if wanted > self.max_total:
            self.violations.append(f"rv {change.rv}: ReplicaSets want {wanted} > {self.max_total}")
        if len(live) > self.max_total:
            self.violations.append(f"rv {change.rv}: {len(live)} pods > {self.max_total}")
        if len(ready) < self.min_available:
            self.violations.append(f"rv {change.rv}: {len(ready)} ready pods < {self.min_available}")


@pytest.mark.parametrize(("replicas", "max_surge", "max_unavailable", "surge", "unavailable"), [
    (4, 1, 0, 1, 0),
    (4, 0, 1, 0, 1),
    (5, "25%", "25%", 2, 1),
    (3, "50%", "50%", 2, 1),
    (6, 2, 2, 2, 2),
    (2, "10%", 0, 1, 0),
])
def test_image_change_rolls_within_surge_and_unavailability_at_every_step(
        tmp_path: pathlib.Path, replicas: int, max_surge: int | str, max_unavailable: int | str, surge: int,
        unavailable: int) -> None:
    async def scenario(lab: Lab) -> None:
        strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": max_surge,
                                                               "maxUnavailable": max_unavailable}}
        lab.create("apps/deployments", NS, deployment(replicas=replicas, strategy=strategy))
        await lab.until(lambda: lab.rolled_out("web"), "the first rollout")
        watch = RolloutWatch(lab, "web", replicas, surge, unavailable)
        watch.armed = True
        lab.update("apps/deployments", NS, "web", set_image("nginx:1.28"))
        await lab.until(lambda: lab.rolled_out("web") and all(
            p["spec"]["containers"][0]["image"] == "nginx:1.28" for p in lab.deployment_pods("web")),
            "the new image everywhere")
        assert watch.violations == []
        assert watch.states > 4 * replicas  # many intermediate states were checked
        if surge:
            assert watch.peak_pods > replicas  # the surge was used
        sets = sorted(lab.replica_sets("web"), key=rollouts.revision)
        assert [rollouts.replicas(rs) for rs in sets] == [0, replicas]
        assert [rollouts.revision(rs) for rs in sets] == [1, 2]
        d = lab.get("apps/deployments", NS, "web")
        assert d is not None and d["metadata"]["annotations"][rollouts.REVISION] == "2"
        assert objects.condition(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
    run_lab(tmp_path, scenario)


def test_recreate_stops_every_old_pod_before_starting_new_ones(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("apps/deployments", NS, deployment(replicas=3, strategy={"type": "Recreate"}))
        await lab.until(lambda: lab.rolled_out("web"), "the first rollout")
        overlaps: list[int] = []
        seen_new: list[int] = []

        def check(change: Change) -> None:
            if change.key != "pods":
                return
            # Like the deployment controller, a pod whose containers all ended (Succeeded/Failed) counts as
            # stopped even while it waits for removal.
            images = {p["spec"]["containers"][0]["image"] for p in lab.deployment_pods("web")
                      if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")}
            if "nginx:1.28" in images:
                seen_new.append(change.rv)
            if images == {"nginx:1.27", "nginx:1.28"}:
                overlaps.append(change.rv)
        lab.store.listeners.append(check)
        lab.update("apps/deployments", NS, "web", set_image("nginx:1.28"))
        await lab.until(lambda: lab.rolled_out("web") and {p["spec"]["containers"][0]["image"]
                                                           for p in lab.deployment_pods("web")} == {"nginx:1.28"},
                        "the recreated pods")
        assert seen_new and overlaps == []
        messages = [e["message"] for e in lab.events(reason="ScalingReplicaSet", name="web")]
        assert any(m.startswith("Scaled down replica set") and m.endswith("from 3 to 0") for m in messages)
    run_lab(tmp_path, scenario)


def test_unknown_image_backs_off_and_the_rollout_stays_stuck_until_the_image_exists(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
        lab.create("apps/deployments", NS, deployment(replicas=2, strategy=strategy, progressDeadlineSeconds=20))
        await lab.until(lambda: lab.rolled_out("web"), "the first rollout")
        lab.update("apps/deployments", NS, "web", set_image("registry.lab/shop/web:v2"))

        def waiting_reason() -> str | None:
            for pod in lab.deployment_pods("web"):
                state = pod["status"].get("containerStatuses", [{}])[0].get("state", {})
                if "waiting" in state and state["waiting"]["reason"] == "ImagePullBackOff":
                    return str(state["waiting"]["message"])
            return None
        message = await lab.until(waiting_reason, "ImagePullBackOff")
        assert 'Back-off pulling image "registry.lab/shop/web:v2"' in message
        failed = [e["message"] for e in lab.events(reason="Failed")]
        assert "Error: ErrImagePull" in failed and "Error: ImagePullBackOff" in failed
        assert any(m.startswith('Failed to pull image "registry.lab/shop/web:v2": rpc error: code = NotFound')
                   for m in failed)
        assert lab.events(reason="BackOff")
        d = await lab.until(lambda: (x := lab.get("apps/deployments", NS, "web")) and objects.condition(
            x, "Progressing").get("reason") == rollouts.TIMED_OUT and x, "ProgressDeadlineExceeded")
        assert objects.condition_true(d, "Available")  # the old pods still serve
        assert d["status"]["updatedReplicas"] == 1 and d["status"]["availableReplicas"] == 2
        assert not lab.rolled_out("web")
        assert sum(1 for p in lab.deployment_pods("web") if objects.pod_is_ready(p)) == 2
        # The lab's CI pushes the image: the next pull attempt succeeds and the rollout completes.
        lab.manager.images.add_image("registry.lab/shop/web:v2")
        await lab.until(lambda: lab.rolled_out("web"), "the rollout to finish once the image exists", 40)
        d = lab.get("apps/deployments", NS, "web")
        assert d is not None and objects.condition(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
    run_lab(tmp_path, scenario, image_pull_backoff=5.0)


def test_rollout_history_undo_and_restart(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        first = deployment(replicas=2)
        first["metadata"]["annotations"] = {rollouts.CHANGE_CAUSE: "first"}
        lab.create("apps/deployments", NS, first)
        await lab.until(lambda: lab.rolled_out("web"), "revision 1")
        [rs1] = lab.replica_sets("web")

        def to_v2(d: Obj) -> None:
            set_image("nginx:1.28")(d)
            d["metadata"]["annotations"][rollouts.CHANGE_CAUSE] = "second"
        lab.update("apps/deployments", NS, "web", to_v2)
        await lab.until(lambda: lab.rolled_out("web") and len(lab.replica_sets("web")) == 2, "revision 2")
        causes = {rollouts.revision(rs): objects.annotations_of(rs).get(rollouts.CHANGE_CAUSE)
                  for rs in lab.replica_sets("web")}
        assert causes == {1: "first", 2: "second"}
        # `kubectl rollout undo`: the template of revision 1 (minus its hash label) goes back into the Deployment.
        template = copy.deepcopy(rs1["spec"]["template"])
        del template["metadata"]["labels"][rollouts.HASH_LABEL]

        def undo(d: Obj) -> None:
            d["spec"]["template"] = template
            d["metadata"]["annotations"][rollouts.CHANGE_CAUSE] = "first"
        lab.update("apps/deployments", NS, "web", undo)
        await lab.until(lambda: lab.rolled_out("web") and lab.get("apps/deployments", NS, "web")["metadata"][
            "annotations"][rollouts.REVISION] == "3", "revision 3")
        reused = lab.get("apps/replicasets", NS, rs1["metadata"]["name"])
        assert reused is not None and rollouts.revision(reused) == 3
        assert reused["metadata"]["annotations"][rollouts.REVISION_HISTORY] == "1"
        assert rollouts.replicas(reused) == 2 and len(lab.replica_sets("web")) == 2
        # `kubectl rollout restart`: a template annotation change makes a new ReplicaSet.
        lab.update("apps/deployments", NS, "web", lambda d: d["spec"]["template"]["metadata"].__setitem__(
            "annotations", {"kubectl.kubernetes.io/restartedAt": "2026-11-27T00:00:00Z"}))
        await lab.until(lambda: lab.rolled_out("web") and len(lab.replica_sets("web")) == 3, "revision 4")
        assert sorted(rollouts.revision(rs) for rs in lab.replica_sets("web")) == [2, 3, 4]
    run_lab(tmp_path, scenario)


def test_revision_history_limit_deletes_the_oldest_scaled_down_replica_sets(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("apps/deployments", NS, deployment(replicas=1, revisionHistoryLimit=1))
        for index, image in enumerate(("nginx:1.26", "nginx:1.27.1", "nginx:1.28"), start=2):
            await lab.until(lambda: lab.rolled_out("web"), f"revision {index - 1}")
            lab.update("apps/deployments", NS, "web", set_image(image))
        await lab.until(lambda: lab.rolled_out("web") and len(lab.replica_sets("web")) == 2, "cleanup")
        assert sorted(rollouts.revision(rs) for rs in lab.replica_sets("web")) == [3, 4]
    run_lab(tmp_path, scenario)


def test_paused_deployment_does_not_roll_until_resumed(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("apps/deployments", NS, deployment(replicas=2))
        await lab.until(lambda: lab.rolled_out("web"), "the first rollout")
        lab.update("apps/deployments", NS, "web", lambda d: d["spec"].__setitem__("paused", True))
        await lab.until(lambda: objects.condition(lab.get("apps/deployments", NS, "web"), "Progressing").get(
            "reason") == rollouts.PAUSED, "the paused condition")
        lab.update("apps/deployments", NS, "web", set_image("nginx:1.28"))
        await lab.until(lambda: lab.get("apps/deployments", NS, "web")["status"]["observedGeneration"] == 3,
                        "the paused change to be observed")
        assert len(lab.replica_sets("web")) == 1
        lab.update("apps/deployments", NS, "web", lambda d: d["spec"].__setitem__("paused", False))
        await lab.until(lambda: lab.rolled_out("web") and len(lab.replica_sets("web")) == 2, "the resumed rollout")
    run_lab(tmp_path, scenario)


def test_a_name_clash_bumps_the_collision_count_and_uses_another_hash(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        planned = lab.api.create(lab.rt("apps/deployments"), NS, deployment(replicas=1),
                                 apis.WriteOptions(dry_run=True))  # the template as it will be stored
        taken = f"web-{rollouts.template_hash(planned['spec']['template'])}"
        lab.create("apps/replicasets", NS, {"metadata": {"name": taken, "labels": {"app": "other"}}, "spec": {
            "replicas": 0, "selector": {"matchLabels": {"app": "other"}},
            "template": {"metadata": {"labels": {"app": "other"}},
                         "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}}})
        lab.create("apps/deployments", NS, deployment(replicas=1))
        await lab.until(lambda: lab.rolled_out("web"), "the rollout despite the clash")
        d = lab.get("apps/deployments", NS, "web")
        assert d is not None and d["status"]["collisionCount"] == 1
        [rs] = lab.replica_sets("web")
        assert rs["metadata"]["name"] == f"web-{rollouts.template_hash(planned['spec']['template'], 1)}"
        assert rs["metadata"]["name"] != taken
        assert lab.get("apps/replicasets", NS, taken)["metadata"].get("ownerReferences") is None
    run_lab(tmp_path, scenario)


def test_min_ready_seconds_delays_availability(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("apps/deployments", NS, deployment(replicas=1, minReadySeconds=3))
        d = await lab.until(lambda: (x := lab.get("apps/deployments", NS, "web")) and x.get("status", {}).get(
            "readyReplicas") == 1 and x, "a ready pod")
        assert d["status"].get("availableReplicas", 0) == 0
        await lab.until(lambda: lab.rolled_out("web"), "availability after minReadySeconds")
        [pod] = lab.deployment_pods("web")
        ready_at = objects.ready_since(pod)
        assert ready_at is not None and lab.clock.now() >= ready_at
    run_lab(tmp_path, scenario)


# ---- scheduling and the node ----------------------------------------------------------------------------
def pod(name: str, cpu: str | None = None, image: str = "nginx:1.27", **spec: Any) -> Obj:
    container: Obj = {"name": "main", "image": image}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [container], **spec}}


def test_the_node_is_registered_with_capacity_and_identity(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        node = lab.get("nodes", "", "sandbox-node")
        assert node is not None
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "sandbox-node"
        assert "node-role.kubernetes.io/control-plane" in node["metadata"]["labels"]
        status = node["status"]
        assert status["capacity"]["cpu"] == "4" and status["allocatable"]["pods"] == "110"
        assert status["nodeInfo"]["kubeletVersion"] == "v1.37.1"
        assert {"type": "InternalIP", "address": "10.0.0.10"} in status["addresses"]
        assert objects.condition_true(node, "Ready")
        lab.delete("nodes", None, "sandbox-node")
        await lab.until(lambda: lab.get("nodes", "", "sandbox-node"), "the node to re-register")
    run_lab(tmp_path, scenario)


def test_a_pod_too_big_for_the_node_stays_pending_until_room_is_made(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("pods", NS, pod("huge", cpu="10"))
        await lab.until(lambda: lab.events(reason="FailedScheduling", name="huge"), "FailedScheduling")
        [event] = lab.events(reason="FailedScheduling", name="huge")
        assert event["type"] == "Warning" and event["source"]["component"] == "default-scheduler"
        assert event["message"].startswith("0/1 nodes are available: 1 Insufficient cpu.")
        huge = lab.get("pods", NS, "huge")
        assert huge is not None and huge["status"]["phase"] == "Pending" and not huge["spec"].get("nodeName")
        cond = objects.condition(huge, "PodScheduled")
        assert cond is not None and cond["status"] == "False" and cond["reason"] == "Unschedulable"
        # Two pods of 3 cpu each: the second waits for the first to go away.
        lab.create("pods", NS, pod("first", cpu="3"))
        await lab.until(lambda: objects.pod_is_ready(lab.get("pods", NS, "first") or {}), "the first pod")
        lab.create("pods", NS, pod("second", cpu="3"))
        await lab.until(lambda: lab.events(reason="FailedScheduling", name="second"), "the second to be refused")
        lab.delete("pods", NS, "first")
        await lab.until(lambda: objects.pod_is_ready(lab.get("pods", NS, "second") or {}),
                        "the second pod to run once the first is gone")
        assert lab.get("pods", NS, "first") is None
        assert not lab.get("pods", NS, "huge")["spec"].get("nodeName")
    run_lab(tmp_path, scenario)


def test_node_selector_mismatch_is_reported(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("pods", NS, pod("picky", nodeSelector={"disktype": "ssd"}))
        [event] = await lab.until(lambda: lab.events(reason="FailedScheduling", name="picky"), "FailedScheduling")
        assert "1 node(s) didn't match Pod's node affinity/selector" in event["message"]
    run_lab(tmp_path, scenario)


def test_pod_life_logs_and_graceful_deletion(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("pods", NS, pod("web"))
        running = await lab.until(lambda: (p := lab.get("pods", NS, "web")) and objects.pod_is_ready(p) and p,
                                  "a running pod")
        assert lab.api.log_source is not None
        text = lab.api.log_source(running, "main")
        assert "nginx/1.27" in text and "Configuration complete; ready for start up" in text
        lab.delete("pods", NS, "web")
        await lab.until(lambda: lab.events(reason="Killing"), "the container to be stopped")
        stopping = lab.get("pods", NS, "web")  # still there, Terminating, for the short stop delay
        assert stopping is not None and stopping["metadata"].get("deletionTimestamp")
        await lab.until(lambda: lab.get("pods", NS, "web") is None, "the pod to be removed")
        assert [e["message"] for e in lab.events(reason="Killing")] == ["Stopping container main"]
    run_lab(tmp_path, scenario)


def test_changing_a_pods_image_restarts_its_container(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("pods", NS, pod("web"))
        await lab.until(lambda: objects.pod_is_ready(lab.get("pods", NS, "web") or {}), "a running pod")
        lab.update("pods", NS, "web", lambda p: p["spec"]["containers"][0].__setitem__("image", "nginx:1.28"))
        restarted = await lab.until(lambda: (p := lab.get("pods", NS, "web")) and p["status"][
            "containerStatuses"][0]["restartCount"] == 1 and p, "the restart")
        [container] = restarted["status"]["containerStatuses"]
        assert container["image"] == "docker.io/library/nginx:1.28" and container["state"].get("running")
        assert objects.pod_is_ready(restarted)
        assert [e["message"] for e in lab.events(reason="Killing")] == [
            "Container main definition changed, will be restarted"]
    run_lab(tmp_path, scenario)


def test_logs_of_a_container_waiting_to_start_are_refused(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("pods", NS, pod("slow"))
        waiting = await lab.until(lambda: (p := lab.get("pods", NS, "slow")) and p.get("status", {}).get(
            "containerStatuses") and p, "ContainerCreating")
        assert lab.api.log_source is not None
        with pytest.raises(statuses.ApiError) as err:
            lab.api.log_source(waiting, "main")
        assert err.value.code == 400
        assert err.value.message == 'container "main" in pod "slow" is waiting to start: ContainerCreating'
    run_lab(tmp_path, scenario, pod_start_delay=60.0)


def test_readiness_probe_delay_and_init_containers(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        body = pod("probed", initContainers=[{"name": "setup", "image": "busybox:1.36"}])
        body["spec"]["containers"][0]["readinessProbe"] = {"httpGet": {"path": "/", "port": 80},
                                                          "initialDelaySeconds": 4}
        lab.create("pods", NS, body)
        started = await lab.until(lambda: (p := lab.get("pods", NS, "probed")) and p.get("status", {}).get(
            "phase") == "Running" and p, "the container to start")
        assert not objects.pod_is_ready(started)
        [init] = started["status"]["initContainerStatuses"]
        assert init["state"]["terminated"]["reason"] == "Completed"
        assert objects.condition_true(started, "Initialized")
        await lab.until(lambda: objects.pod_is_ready(lab.get("pods", NS, "probed") or {}), "readiness")
    run_lab(tmp_path, scenario)


def test_a_restarted_manager_finishes_what_the_last_one_started(tmp_path: pathlib.Path) -> None:
    async def first(lab: Lab) -> None:
        lab.create("apps/deployments", NS, deployment(replicas=2))
        await lab.until(lambda: len(lab.deployment_pods("web")) == 2 and all(
            p.get("status", {}).get("containerStatuses") for p in lab.deployment_pods("web")), "ContainerCreating")
        assert not lab.rolled_out("web")
    run_lab(tmp_path, first, pod_start_delay=3600.0)

    async def second(lab: Lab) -> None:
        await lab.until(lambda: lab.rolled_out("web"), "the rollout after a restart")
        assert len(lab.deployment_pods("web")) == 2
    run_lab(tmp_path, second)


# ---- garbage collection ---------------------------------------------------------------------------------
@pytest.mark.parametrize("propagation", [None, "Background", "Foreground"])
def test_deleting_a_deployment_deletes_its_replica_sets_and_pods(tmp_path: pathlib.Path,
                                                                propagation: str | None) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("apps/deployments", NS, deployment(replicas=2))
        await lab.until(lambda: lab.rolled_out("web"), "the rollout")
        left_at_exit: list[int] = []

        def deployment_gone(change: Change) -> None:
            if change.key == "apps/deployments" and change.type == "DELETED":
                left_at_exit.append(len(lab.items("apps/replicasets")) + len(lab.items("pods")))
        lab.store.listeners.append(deployment_gone)
        lab.delete("apps/deployments", NS, "web", propagation)
        if propagation == "Foreground":
            d = lab.get("apps/deployments", NS, "web")
            assert d is not None and "foregroundDeletion" in d["metadata"]["finalizers"]
        await lab.until(lambda: not lab.items("apps/replicasets") and not lab.items("pods")
                        and lab.get("apps/deployments", NS, "web") is None, "everything to be gone")
        if propagation == "Foreground":
            assert left_at_exit == [0]  # the owner went last
        else:
            assert left_at_exit and left_at_exit[0] > 0  # the owner went first
    run_lab(tmp_path, scenario)


def test_orphan_deletion_keeps_replica_sets_and_pods_without_the_owner(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("apps/deployments", NS, deployment(replicas=2))
        await lab.until(lambda: lab.rolled_out("web"), "the rollout")
        [rs] = lab.replica_sets("web")
        pods = {p["metadata"]["name"] for p in lab.deployment_pods("web")}
        lab.delete("apps/deployments", NS, "web", "Orphan")
        await lab.until(lambda: lab.get("apps/deployments", NS, "web") is None, "the deployment to go")
        kept = lab.get("apps/replicasets", NS, rs["metadata"]["name"])
        assert kept is not None and not kept["metadata"].get("ownerReferences")
        assert {p["metadata"]["name"] for p in lab.pods_of({rs["metadata"]["name"]})} == pods
        # A new Deployment with the same selector and template adopts the orphan.
        lab.create("apps/deployments", NS, deployment(replicas=2))
        await lab.until(lambda: lab.rolled_out("web") and len(lab.replica_sets("web")) == 1, "adoption")
        assert lab.replica_sets("web")[0]["metadata"]["name"] == rs["metadata"]["name"]
        assert {p["metadata"]["name"] for p in lab.deployment_pods("web")} == pods
    run_lab(tmp_path, scenario)


def test_an_object_whose_owner_never_existed_is_collected(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("configmaps", NS, {"metadata": {"name": "stray", "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "ghost", "uid": "00000000-0000-0000-0000-000000000000"}]}})
        owner = lab.create("configmaps", NS, {"metadata": {"name": "owner"}})
        lab.create("configmaps", NS, {"metadata": {"name": "kept", "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}]}})
        await lab.until(lambda: lab.get("configmaps", NS, "stray") is None, "the stray to be collected")
        assert lab.get("configmaps", NS, "kept") is not None
        lab.delete("configmaps", NS, "owner")
        await lab.until(lambda: lab.get("configmaps", NS, "kept") is None, "the dependent to follow its owner")
    run_lab(tmp_path, scenario)


# ---- namespaces -----------------------------------------------------------------------------------------
def test_system_namespaces_and_default_service_accounts(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        names = {n["metadata"]["name"] for n in lab.items("namespaces", None)}
        assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
        lab.create("namespaces", None, {"metadata": {"name": "team"}})
        await lab.until(lambda: lab.get("serviceaccounts", "team", "default"), "the default ServiceAccount")
        assert (lab.get("namespaces", "", "team") or {}).get("status", {}).get("phase") == "Active"
        lab.delete("serviceaccounts", "team", "default")
        await lab.until(lambda: lab.get("serviceaccounts", "team", "default"), "the ServiceAccount to come back")
    run_lab(tmp_path, scenario)


def test_the_kubernetes_service_exists_from_the_start_and_comes_back(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        svc = lab.get("services", "default", "kubernetes")
        assert svc is not None and svc["spec"]["clusterIP"] == "10.96.0.1" and "selector" not in svc["spec"]
        assert svc["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]
        assert [m["manager"] for m in svc["metadata"]["managedFields"]] == ["kube-apiserver"]
        ep = lab.get("endpoints", "default", "kubernetes")
        assert ep is not None and ep["subsets"] == [{"addresses": [{"ip": "10.0.0.10"}],
                                                     "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]
        lab.delete("services", "default", "kubernetes")
        await lab.until(lambda: lab.get("services", "default", "kubernetes"), "the Service to come back")
        lab.update("endpoints", "default", "kubernetes", lambda e: e.__setitem__("subsets", []))
        await lab.until(lambda: (lab.get("endpoints", "default", "kubernetes") or {}).get("subsets"),
                        "the API server's address to come back")
        assert lab.items("configmaps", "default") == []  # no CA known: no kube-root-ca.crt
    run_lab(tmp_path, scenario)


def test_every_namespace_gets_the_root_ca_config_map(tmp_path: pathlib.Path) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

    async def scenario(lab: Lab) -> None:
        await lab.until(lambda: lab.get("configmaps", "kube-system", "kube-root-ca.crt"), "the CA in kube-system")
        lab.create("namespaces", None, {"metadata": {"name": "team"}})
        cm = await lab.until(lambda: lab.get("configmaps", "team", "kube-root-ca.crt"), "the CA in a new namespace")
        assert cm is not None and cm["data"] == {"ca.crt": pem}
        assert cm["metadata"]["annotations"]["kubernetes.io/description"].startswith("Contains a CA bundle")
        lab.update("configmaps", "team", "kube-root-ca.crt", lambda c: c.__setitem__("data", {"ca.crt": "x"}))
        await lab.until(lambda: (lab.get("configmaps", "team", "kube-root-ca.crt") or {}).get("data") == {
            "ca.crt": pem}, "the CA to be restored")
        lab.delete("configmaps", "team", "kube-root-ca.crt")
        await lab.until(lambda: lab.get("configmaps", "team", "kube-root-ca.crt"), "the ConfigMap to come back")
        lab.delete("namespaces", None, "team")
        await lab.until(lambda: lab.get("namespaces", "", "team") is None, "the namespace to go, CA and all")
    run_lab(tmp_path, scenario, root_ca=pem)


def test_a_terminating_namespace_is_emptied_then_disappears(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("namespaces", None, {"metadata": {"name": "shop"}})
        lab.create("apps/deployments", "shop", deployment(replicas=2))
        lab.create("services", "shop", {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"},
                                                                              "ports": [{"port": 80}]}})
        lab.create("configmaps", "shop", {"metadata": {"name": "settings"}, "data": {"a": "b"}})
        await lab.until(lambda: lab.rolled_out("web", "shop"), "the rollout in shop")
        lab.create("configmaps", "shop", {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
        lab.delete("namespaces", None, "shop")
        with pytest.raises(statuses.ApiError) as err:
            lab.create("configmaps", "shop", {"metadata": {"name": "late"}})
        assert err.value.code == 403
        await lab.until(lambda: lab.keys_in("shop") == ["configmaps"],
                        "everything but the held ConfigMap to go")
        ns = lab.get("namespaces", "", "shop")
        assert ns is not None and ns["status"]["phase"] == "Terminating"
        assert [c["metadata"]["name"] for c in lab.items("configmaps", "shop")] == ["held"]
        lab.update("configmaps", "shop", "held", lambda c: c["metadata"].pop("finalizers"))
        await lab.until(lambda: lab.get("namespaces", "", "shop") is None, "the namespace to disappear")
        assert lab.keys_in("shop") == []
    run_lab(tmp_path, scenario)


# ---- endpoints ------------------------------------------------------------------------------------------
def test_endpoints_follow_ready_pods(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        web = deployment(replicas=2)
        web["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080}]
        web["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {
            "tcpSocket": {"port": 8080}, "initialDelaySeconds": 3}
        lab.create("apps/deployments", NS, web)
        lab.create("services", NS, {"metadata": {"name": "web"}, "spec": {
            "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})

        def endpoint_ips(field: str) -> set[str]:
            ep = lab.get("endpoints", NS, "web") or {}
            return {a["ip"] for s in ep.get("subsets") or [] for a in s.get(field) or []}

        def pod_ips(ready: bool) -> set[str]:
            return {p["status"]["podIP"] for p in lab.deployment_pods("web")
                    if p.get("status", {}).get("podIP") and objects.pod_is_ready(p) == ready
                    and not objects.is_deleting(p)}
        await lab.until(lambda: len(endpoint_ips("notReadyAddresses")) == 2 and not endpoint_ips("addresses"),
                        "not-ready addresses")
        assert endpoint_ips("notReadyAddresses") == pod_ips(False)
        await lab.until(lambda: len(endpoint_ips("addresses")) == 2, "ready addresses")
        assert endpoint_ips("addresses") == pod_ips(True)
        ep = lab.get("endpoints", NS, "web")
        assert ep is not None and ep["subsets"][0]["ports"] == [{"port": 8080, "protocol": "TCP", "name": "http"}]
        assert ep["subsets"][0]["addresses"][0]["targetRef"]["kind"] == "Pod"
        lab.update("apps/deployments", NS, "web", lambda d: d["spec"].__setitem__("replicas", 3))
        await lab.until(lambda: len(endpoint_ips("addresses")) == 3 and lab.rolled_out("web"), "three addresses")
        lab.update("apps/deployments", NS, "web", lambda d: d["spec"].__setitem__("replicas", 1))
        await lab.until(lambda: len(endpoint_ips("addresses")) == 1 and not endpoint_ips("notReadyAddresses"),
                        "one address")
        assert endpoint_ips("addresses") == pod_ips(True)
        lab.delete("services", NS, "web")
        await lab.until(lambda: lab.get("endpoints", NS, "web") is None, "the Endpoints to go with the Service")
    run_lab(tmp_path, scenario)


def test_a_service_without_selector_keeps_its_hand_made_endpoints(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.create("services", NS, {"metadata": {"name": "external"}, "spec": {"ports": [{"port": 5432}]}})
        lab.create("endpoints", NS, {"metadata": {"name": "external"}, "subsets": [
            {"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 5432}]}]})
        lab.create("apps/deployments", NS, deployment(replicas=1))
        await lab.until(lambda: lab.rolled_out("web"), "unrelated activity")
        ep = lab.get("endpoints", NS, "external")
        assert ep is not None and ep["subsets"][0]["addresses"] == [{"ip": "192.0.2.10"}]
    run_lab(tmp_path, scenario)


# ---- lifecycle ------------------------------------------------------------------------------------------
def test_controllers_go_quiet_once_everything_is_done(tmp_path: pathlib.Path) -> None:
    """No busy loop: after a rollout, every queue empties, no timer is left and nothing more is written."""
    async def scenario(lab: Lab) -> None:
        lab.create("apps/deployments", NS, deployment(replicas=3))
        lab.create("services", NS, {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"},
                                                                          "ports": [{"port": 80}]}})
        await lab.until(lambda: lab.rolled_out("web"), "the rollout")
        for _ in range(10_000):  # yield to the workers (no time passes) until they have nothing left
            if lab.manager.quiet():
                break
            await asyncio.sleep(0)
        assert lab.manager.quiet()
        settled = lab.store.resource_version
        for _ in range(500):
            await asyncio.sleep(0)
        assert lab.store.resource_version == settled and lab.manager.quiet()
    run_lab(tmp_path, scenario)


def test_system_namespaces_cannot_be_deleted_and_node_lease_comes_back(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        for name in ("default", "kube-system", "kube-public"):
            with pytest.raises(statuses.ApiError) as refused:
                lab.delete("namespaces", None, name)
            assert refused.value.code == 403
            assert refused.value.message == f'namespaces "{name}" is forbidden: this namespace may not be deleted'
        lab.delete("namespaces", None, "kube-node-lease")
        await lab.until(lambda: (ns := lab.get("namespaces", "", "kube-node-lease")) and not objects.is_deleting(ns),
                        "kube-node-lease to be recreated")
    run_lab(tmp_path, scenario)


def test_manager_start_is_idempotent_and_stop_ends_every_task(tmp_path: pathlib.Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.manager.start()
        tasks = {t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("controller:")}
        assert tasks == {f"controller:{c.name}" for c in lab.manager.controllers}
        listeners = len(lab.store.listeners)
        await lab.manager.stop()
        assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("controller:")]
        assert len(lab.store.listeners) == listeners - len(lab.manager.controllers)
        assert lab.api.log_source is None
        lab.create("apps/deployments", NS, deployment(replicas=1))
        assert lab.replica_sets("web") == []  # nobody reacts any more
        lab.manager.start()
        await lab.until(lambda: lab.rolled_out("web"), "the rollout after a restart of the manager")
    run_lab(tmp_path, scenario)
