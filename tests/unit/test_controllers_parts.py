"""The controllers' pure parts: work queue, image catalog, quantities, scheduling, endpoints, pod and RS status."""

from __future__ import annotations

import asyncio
import datetime
import doctest
import fractions
import importlib
import pkgutil
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops_lab import clock as clocks
from gitops_lab.sandbox import controllers, statuses
from gitops_lab.sandbox.controllers import (
    endpoints,
    images,
    kubelet,
    namespaces,
    objects,
    pod_status,
    quantities,
    queueing,
    replicasets,
    scheduling,
)

Obj = dict[str, Any]
NOW = datetime.datetime(2026, 11, 27, 12, 0, 0, tzinfo=datetime.UTC)


def test_every_controllers_module_example_holds() -> None:
    for info in pkgutil.iter_modules(controllers.__path__):
        module = importlib.import_module(f"{controllers.__name__}.{info.name}")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, info.name


# ---- work queue -----------------------------------------------------------------------------------------
def test_queue_dedupes_waiting_keys_and_reprocesses_keys_added_while_in_hand() -> None:
    async def scenario() -> list[str]:
        queue: queueing.WorkQueue[str] = queueing.WorkQueue()
        for key in ("a", "b", "a", "b", "c"):
            queue.add(key)
        assert len(queue) == 3
        got = [await queue.get()]  # "a" in hand
        queue.add("a")  # changed again while being processed: comes back after done()
        assert len(queue) == 2
        queue.done("a")
        got += [await queue.get(), await queue.get(), await queue.get()]
        for key in got[1:]:
            queue.done(key)
        assert queue.idle
        return got
    assert asyncio.run(scenario()) == ["a", "b", "c", "a"]


def test_queue_delays_use_the_lab_clock_and_the_earliest_timer_wins() -> None:
    async def scenario() -> tuple[str, float, int]:
        queue: queueing.WorkQueue[str] = queueing.WorkQueue(clocks.ScaledClock(100.0))
        loop = asyncio.get_running_loop()
        start = loop.time()
        queue.add_after("late", 50.0)   # 0.5 s real
        queue.add_after("late", 5.0)    # 0.05 s real: replaces the later timer
        queue.add_after("late", 30.0)   # later than the pending one: ignored
        assert queue.pending_timers == 1
        queue.add_after("dropped", 1.0)
        queue.cancel_after("dropped")
        key = await asyncio.wait_for(queue.get(), 2.0)
        return key, loop.time() - start, queue.pending_timers
    key, elapsed, timers = asyncio.run(scenario())
    assert key == "late" and 0.04 <= elapsed < 0.3 and timers == 0


def test_queue_backoff_grows_and_forget_resets_it() -> None:
    async def scenario() -> list[float]:
        queue: queueing.WorkQueue[str] = queueing.WorkQueue()
        delays = [queue.backoff("k") for _ in range(4)]
        queue.forget("k")
        delays.append(queue.backoff("k"))
        queue.shut_down()
        return delays
    assert asyncio.run(scenario()) == [0.005, 0.01, 0.02, 0.04, 0.005]


def test_queue_shut_down_wakes_the_worker_and_refuses_new_keys() -> None:
    async def scenario() -> None:
        queue: queueing.WorkQueue[str] = queueing.WorkQueue()
        waiter = asyncio.get_running_loop().create_task(queue.get())
        await asyncio.sleep(0)
        queue.add_after("x", 100.0)
        queue.shut_down()
        with pytest.raises(queueing.QueueShutDown):
            await waiter
        queue.add("y")
        assert len(queue) == 0 and queue.pending_timers == 0
    asyncio.run(scenario())


# ---- images ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("ref", "normalized"), [
    ("nginx", "docker.io/library/nginx:latest"),
    ("nginx:1.27", "docker.io/library/nginx:1.27"),
    ("library/redis:7", "docker.io/library/redis:7"),
    ("bitnami/redis:7.2", "docker.io/bitnami/redis:7.2"),
    ("ghcr.io/stefanprodan/podinfo:6.7.1", "ghcr.io/stefanprodan/podinfo:6.7.1"),
    ("localhost:5000/demo", "localhost:5000/demo:latest"),
    ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
])
def test_references_normalise_as_containerd_does(ref: str, normalized: str) -> None:
    assert str(images.parse_reference(ref)) == normalized


@pytest.mark.parametrize("ref", ["", "Nginx:1.27", "nginx:", "nginx@sha256:abc", "nginx:has space", "-x/y"])
def test_malformed_references_are_refused(ref: str) -> None:
    with pytest.raises(ValueError, match="invalid reference format"):
        images.parse_reference(ref)


@pytest.mark.parametrize(("ref", "known"), [
    ("nginx", True), ("nginx:latest", True), ("nginx:1.27", True), ("nginx:1.27.3-alpine", True),
    ("nginx:stable-alpine", True), ("nginx:2.0", False), ("nginx:1.27-windows", False),
    ("httpd:2.4", True), ("busybox:1.36", True), ("busybox:1.36.1", True), ("redis:7.4-alpine", True),
    ("postgres:16", True), ("postgres:16.4-bookworm", True), ("python:3.12-slim", True), ("python:2.7", False),
    ("ghcr.io/stefanprodan/podinfo:6.7.1", True), ("ghcr.io/stefanprodan/podinfo:latest", True),
    ("ghcr.io/stefanprodan/podinfo:7", False), ("registry.k8s.io/pause:3.10", True),
    ("nginx@sha256:" + "a" * 64, True), ("nginxx:1.27", False), ("docker.io/acme/web:1.0", False),
])
def test_the_catalog_knows_common_images_by_simple_tag_rules(ref: str, known: bool) -> None:
    assert (images.default_catalog().lookup(ref) is not None) is known


def test_images_the_lab_builds_can_be_added_exactly() -> None:
    catalog = images.default_catalog()
    assert catalog.lookup("registry.lab/shop/web:sha-1a2b3c") is None
    catalog.add_image("registry.lab/shop/web:sha-1a2b3c", logs=["serving on {pod_ip}:8080 {json}"])
    pulled = catalog.lookup("registry.lab/shop/web:sha-1a2b3c")
    assert pulled is not None and catalog.lookup("registry.lab/shop/web:other") is None
    assert pulled.log_text(NOW, "10.244.0.7", "web-x") == "serving on 10.244.0.7:8080 {json}\n"
    assert images.default_catalog().lookup("registry.lab/shop/web:sha-1a2b3c") is None  # catalogs are separate


def test_pulled_images_have_stable_ids_and_filled_in_logs() -> None:
    catalog = images.default_catalog()
    first, again = catalog.lookup("nginx:1.27"), catalog.lookup("docker.io/library/nginx:1.27")
    assert first is not None and again is not None and first.image_id == again.image_id
    other = catalog.lookup("nginx:1.28")
    assert other is not None and other.image_id != first.image_id
    text = first.log_text(NOW, "10.244.0.9", "web")
    assert "2026/11/27 12:00:00 [notice] 1#1: nginx/1.27" in text
    podinfo = catalog.lookup("ghcr.io/stefanprodan/podinfo:6.7.1")
    assert podinfo is not None and '"version":"6.7.1"' in podinfo.log_text(NOW, "", "p")
    assert catalog.lookup("busybox:1.36") is not None and catalog.lookup("busybox:1.36").log_text(NOW, "", "") == ""


# ---- quantities and scheduling --------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "value"), [
    ("100m", fractions.Fraction(1, 10)), ("1", 1), ("1.5", fractions.Fraction(3, 2)), ("2Ki", 2048),
    ("1Mi", 2 ** 20), ("1G", 10 ** 9), ("1e3", 1000), ("500u", fractions.Fraction(1, 2000)), (3, 3),
])
def test_quantities(text: Any, value: Any) -> None:
    assert quantities.parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "5 Gi", "1Qi", True])
def test_bad_quantities_are_refused(text: Any) -> None:
    with pytest.raises(ValueError, match="is not a quantity"):
        quantities.parse_quantity(text)


@given(st.integers(0, 10 ** 6), st.sampled_from(["", "m", "k", "Ki", "Mi", "Gi", "M", "G"]))
def test_quantity_suffixes_scale_exactly(number: int, suffix: str) -> None:
    factor = {"": 1, "m": fractions.Fraction(1, 1000), "k": 1000, "Ki": 1024, "Mi": 1024 ** 2,
              "Gi": 1024 ** 3, "M": 10 ** 6, "G": 10 ** 9}[suffix]
    assert quantities.parse_quantity(f"{number}{suffix}") == number * factor


def test_pod_requests_sum_containers_and_take_the_largest_init_container() -> None:
    pod = {"spec": {"containers": [{"resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}},
                                   {"resources": {"limits": {"cpu": "500m"}}}],
                    "initContainers": [{"resources": {"requests": {"cpu": "2"}}}]}}
    requests = quantities.pod_requests(pod)
    assert requests["cpu"] == 2 and requests["memory"] == 64 * 2 ** 20


NODE = {"metadata": {"labels": {"disk": "ssd"}},
        "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "3"}}}


def _pod(cpu: str = "0", memory: str = "0", **spec: Any) -> Obj:
    return {"spec": {"containers": [{"resources": {"requests": {"cpu": cpu, "memory": memory}}}], **spec}}


@pytest.mark.parametrize(("pod", "bound", "failures"), [
    (_pod("1"), [_pod("2")], []),
    (_pod("3"), [_pod("2")], ["Insufficient cpu"]),
    (_pod("5", "9Gi"), [], ["Insufficient cpu", "Insufficient memory"]),
    (_pod(), [_pod(), _pod(), _pod()], ["Too many pods"]),
    (_pod(nodeSelector={"disk": "hdd"}), [], [scheduling.SELECTOR_MISMATCH]),
    (_pod(nodeSelector={"disk": "ssd"}), [], []),
    ({"spec": {"containers": [{"resources": {"requests": {"nvidia.com/gpu": "1"}}}]}}, [],
     ["Insufficient nvidia.com/gpu"]),
])
def test_fit_failures(pod: Obj, bound: list[Obj], failures: list[str]) -> None:
    assert scheduling.fit_failures(pod, NODE, bound) == failures


def test_cordoned_and_tainted_nodes_refuse_pods_that_do_not_tolerate_them() -> None:
    cordoned = {**NODE, "spec": {"unschedulable": True}}
    assert scheduling.fit_failures(_pod(), cordoned, []) == [scheduling.CORDONED]
    tainted = {**NODE, "spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}}
    assert scheduling.fit_failures(_pod(), tainted, []) == ["node(s) had untolerated taint {dedicated: db}"]
    tolerant = _pod(tolerations=[{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}])
    assert scheduling.fit_failures(tolerant, tainted, []) == []


def test_unschedulable_messages_join_reasons_like_kube_scheduler() -> None:
    message = scheduling.unschedulable_message(["Insufficient memory", "Insufficient cpu"])
    assert message.startswith("0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption:")


# ---- objects --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("selector", "labels", "matches"), [
    ({}, {"a": "1"}, True),
    (None, {"a": "1"}, False),
    ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
    ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {}, False),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": ""}, False),
    ({"matchExpressions": [{"key": "a", "operator": "Bogus"}]}, {"a": ""}, False),
])
def test_label_selectors(selector: Any, labels: dict[str, str], matches: bool) -> None:
    assert objects.matches_selector(selector, labels) is matches


def test_set_condition_moves_transition_time_only_on_status_flips() -> None:
    conditions: list[Obj] = []
    objects.set_condition(conditions, {"type": "Ready", "status": "False", "reason": "A"}, "t1")
    assert objects.set_condition(conditions, {"type": "Ready", "status": "False", "reason": "B"}, "t2")
    assert conditions[0]["lastTransitionTime"] == "t1" and conditions[0]["reason"] == "B"
    assert objects.set_condition(conditions, {"type": "Ready", "status": "True"}, "t3")
    assert conditions[0]["lastTransitionTime"] == "t3" and "reason" not in conditions[0]


# ---- pods -----------------------------------------------------------------------------------------------
def _ready_pod(name: str, since: str, node: str | None = "n", phase: str = "Running", ready: bool = True) -> Obj:
    return {"metadata": {"name": name, "creationTimestamp": since},
            "spec": {"nodeName": node} if node else {},
            "status": {"phase": phase, "conditions": [
                {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": since}]}}


def test_scale_down_ranks_unscheduled_pending_unready_and_newly_ready_pods_first() -> None:
    pods = [
        _ready_pod("old-ready", "2026-01-01T00:00:00Z"),
        _ready_pod("new-ready", "2026-01-02T00:00:00Z"),
        _ready_pod("not-ready", "2026-01-01T00:00:00Z", ready=False),
        _ready_pod("pending", "2026-01-01T00:00:00Z", phase="Pending", ready=False),
        _ready_pod("unscheduled", "2026-01-01T00:00:00Z", node=None, phase="Pending", ready=False),
    ]
    ranked = [p["metadata"]["name"] for p in sorted(pods, key=replicasets.deletion_rank)]
    assert ranked == ["unscheduled", "pending", "not-ready", "new-ready", "old-ready"]


def test_replica_set_status_counts_and_min_ready_seconds() -> None:
    rs = {"metadata": {"name": "rs", "generation": 4},
          "spec": {"minReadySeconds": 10, "template": {"metadata": {"labels": {"app": "a", "tier": "web"}}}}}
    pods = [_ready_pod("a", "2026-11-27T11:59:00Z"), _ready_pod("b", "2026-11-27T11:59:55Z"),
            _ready_pod("c", "2026-11-27T11:00:00Z", ready=False)]
    pods[0]["metadata"]["labels"] = {"app": "a", "tier": "web"}
    gone = _ready_pod("d", "2026-11-27T11:00:00Z")
    gone["metadata"]["deletionTimestamp"] = "2026-11-27T12:00:00Z"
    status, wait = replicasets.replica_set_status(rs, [*pods, gone], NOW, None, "t")
    assert status == {"replicas": 3, "fullyLabeledReplicas": 1, "readyReplicas": 2, "availableReplicas": 1,
                      "observedGeneration": 4}
    assert wait is not None and 5 <= wait <= 5.01
    failed, _ = replicasets.replica_set_status(rs, [], NOW, statuses.forbidden("quota exceeded"), "t")
    assert failed["replicas"] == 0 and failed["conditions"][0]["reason"] == "FailedCreate"
    assert "readyReplicas" not in failed  # zero counters are omitted as the Go types do


def test_pods_from_a_template_carry_labels_and_a_controller_reference() -> None:
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-abc", "namespace": "d",
                                                                    "uid": "u1"},
          "spec": {"template": {"metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}},
                                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    pod = replicasets.pod_from_template(rs)
    assert pod["metadata"]["generateName"] == "web-abc-" and pod["metadata"]["labels"] == {"app": "web"}
    assert pod["metadata"]["annotations"] == {"a": "b"}
    assert pod["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                   "name": "web-abc", "uid": "u1", "controller": True,
                                                   "blockOwnerDeletion": True}]
    pod["spec"]["containers"][0]["image"] = "changed"
    assert rs["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"  # a copy


def test_pod_status_phases_and_conditions() -> None:
    pod: Obj = {"spec": {"containers": [{"name": "a"}, {"name": "b"}], "initContainers": [{"name": "i"}]}}
    running = pod_status.ContainerState("a", "x", state="running", started_at="t", ready=True)
    waiting = pod_status.ContainerState("b", "y", reason="ImagePullBackOff", message="no")
    done = pod_status.ContainerState("i", "z", state="terminated", reason="Completed", started_at="t",
                                     finished_at="t")
    status = pod_status.build_status(pod, [running, waiting], [done], host_ip="h", pod_ip="p", start_time="t0",
                                     stamp="t1", sandbox_ready=True)
    assert status["phase"] == "Pending"
    ready = objects.condition({"status": status}, "Ready")
    assert ready is not None and ready["message"] == "containers with unready status: [b]"
    assert objects.condition_true({"status": status}, "Initialized")
    assert [c["type"] for c in status["conditions"]] == list(pod_status.CONDITION_ORDER)
    assert status["containerStatuses"][1]["state"] == {"waiting": {"reason": "ImagePullBackOff", "message": "no"}}
    back = pod_status.ContainerState.from_status(status["containerStatuses"][1])
    assert (back.state, back.reason, back.message) == ("waiting", "ImagePullBackOff", "no")
    assert pod_status.phase([running], []) == "Running"
    ended = pod_status.ContainerState("a", "x", state="terminated", exit_code=1)
    assert pod_status.phase([ended], []) == "Failed"


@pytest.mark.parametrize(("resources", "qos"), [
    ([{}], "BestEffort"),
    ([{"requests": {"cpu": "1"}}], "Burstable"),
    ([{"limits": {"cpu": "1", "memory": "1Gi"}}], "Guaranteed"),
    ([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}], "Burstable"),
])
def test_qos_class(resources: list[Obj], qos: str) -> None:
    pod = {"spec": {"containers": [{"name": f"c{i}", "resources": r} for i, r in enumerate(resources)]}}
    assert pod_status.qos_class(pod) == qos


@pytest.mark.parametrize(("container", "policy"), [
    ({"image": "nginx"}, "Always"), ({"image": "nginx:latest"}, "Always"), ({"image": "nginx:1.27"}, "IfNotPresent"),
    ({"image": "nginx:1.27", "imagePullPolicy": "Never"}, "Never"),
])
def test_default_pull_policy(container: Obj, policy: str) -> None:
    assert kubelet.pull_policy(container) == policy


def test_node_status_keeps_condition_times_and_reports_identity() -> None:
    settings = controllers.ControllerSettings(node_cpu="8")
    first = kubelet.node_status(settings, None, "t1")
    again = kubelet.node_status(settings, first, "t2")
    assert first == again
    assert again["capacity"]["cpu"] == "8" and again["nodeInfo"]["kubeletVersion"] == "v1.37.1"
    assert kubelet.pull_error("nope:1").endswith('"docker.io/library/nope:1": docker.io/library/nope:1: not found')


# ---- endpoints and namespaces ---------------------------------------------------------------------------
def _endpoint_pod(name: str, ip: str | None, ready: bool = True, port_name: str = "http", port: int = 8080,
                  **meta: Any) -> Obj:
    return {"metadata": {"name": name, "namespace": "d", "uid": name, **meta},
            "spec": {"nodeName": "n", "containers": [{"ports": [{"name": port_name, "containerPort": port}]}]},
            "status": {"podIP": ip, "phase": "Running",
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_endpoint_subsets_group_pods_by_their_resolved_ports() -> None:
    service = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"},
                                                    "ports": [{"name": "web", "port": 80, "targetPort": "http"}]}}
    pods = [_endpoint_pod("a", "10.244.0.10"), _endpoint_pod("b", "10.244.0.9", ready=False),
            _endpoint_pod("c", "10.244.0.2", port=9090), _endpoint_pod("d", None),
            _endpoint_pod("e", "10.244.0.3", port_name="other"),
            _endpoint_pod("f", "10.244.0.4", deletionTimestamp="t")]
    subsets = endpoints.subsets_for(service, pods)
    assert [(s.get("addresses", []) and [a["ip"] for a in s["addresses"]],
             [a["ip"] for a in s.get("notReadyAddresses", [])], s["ports"][0]["port"]) for s in subsets] == [
        (["10.244.0.10"], ["10.244.0.9"], 8080), (["10.244.0.2"], [], 9090)]
    published = {**service, "spec": {**service["spec"], "publishNotReadyAddresses": True}}
    ips = [a["ip"] for s in endpoints.subsets_for(published, pods) for a in s.get("addresses", [])]
    assert sorted(ips) == ["10.244.0.10", "10.244.0.2", "10.244.0.4", "10.244.0.9"]


def test_headless_services_without_ports_list_addresses_only() -> None:
    service = {"metadata": {"name": "db"}, "spec": {"clusterIP": "None", "selector": {"app": "db"}}}
    assert endpoints.subsets_for(service, [_endpoint_pod("a", "10.244.0.5")]) == [
        {"addresses": [{"ip": "10.244.0.5", "nodeName": "n",
                        "targetRef": {"kind": "Pod", "namespace": "d", "name": "a", "uid": "a"}}]}]


def test_namespace_deletion_conditions_name_what_remains() -> None:
    conditions = {c["type"]: c for c in namespaces.remaining_conditions(
        {"pods": 2, "apps/replicasets": 1}, {"example.com/x": 1})}
    assert conditions["NamespaceContentRemaining"]["message"] == (
        "Some resources are remaining: pods has 2 resource instances, replicasets.apps has 1 resource instances")
    assert conditions["NamespaceFinalizersRemaining"]["reason"] == "SomeFinalizersRemain"
    done = {c["type"]: c for c in namespaces.remaining_conditions({}, {})}
    assert done["NamespaceContentRemaining"]["status"] == "False"
    assert done["NamespaceFinalizersRemaining"]["reason"] == "ContentHasNoFinalizers"


def test_settings_are_read_from_any_object_with_matching_names() -> None:
    class ServerSettings:
        pod_start_delay = 0.1
        port = 6443

    settings = controllers.ControllerSettings.from_object(ServerSettings())
    assert settings.pod_start_delay == 0.1 and settings.node_name == "sandbox-node"
    assert controllers.ControllerSettings.from_object(None) == controllers.ControllerSettings()
