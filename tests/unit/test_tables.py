"""Server-side printing: Tables for each kind, checked against the text kubectl prints for them.

``render`` lays a Table out the way kubectl does (upper-case headers, priority > 0 columns only with ``-o wide``,
empty cells for null, tab-writer columns padded by 3 with a minimum width of 6). The expected texts were checked
once against the real kubectl v1.37 reading these Tables from a stub server.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops_lab.sandbox import tables
from gitops_lab.sandbox.statuses import ApiError
from gitops_lab.sandbox.tables import find_results, human_duration, to_table

NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)


def ago(seconds: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str, seconds: float, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", "creationTimestamp": ago(seconds), **extra}


def text_of(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    return str(cell)


def render(table: dict[str, Any], wide: bool = False) -> str:
    columns = [i for i, c in enumerate(table["columnDefinitions"]) if wide or c["priority"] == 0]
    lines = [[table["columnDefinitions"][i]["name"].upper() for i in columns]]
    lines += [[text_of(row["cells"][i]) for i in columns] for row in table["rows"]]
    widths = [max(max(len(line[i]) for line in lines) + 3, 6) for i in range(len(columns) - 1)]
    return "\n".join("".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)) + line[-1]
                     for line in lines)


def expect(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def cells(resource: str, obj: dict[str, Any], **kwargs: Any) -> list[Any]:
    row: list[Any] = to_table(resource, [obj], now=NOW, **kwargs)["rows"][0]["cells"]
    return row


# --- ages ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("seconds", "age"), [
    (-2, "<invalid>"), (-1.5, "0s"), (-0.5, "0s"), (0, "0s"), (5, "5s"), (119, "119s"), (120, "2m"), (123, "2m3s"),
    (599, "9m59s"), (600, "10m"), (10799, "179m"), (10800, "3h"), (11700, "3h15m"), (28740, "7h59m"),
    (28800, "8h"), (47 * 3600 + 59, "47h"), (48 * 3600, "2d"), (51 * 3600, "2d3h"), (7 * 86400 + 23 * 3600, "7d23h"),
    (8 * 86400, "8d"), (729 * 86400, "729d"), (730 * 86400, "2y"), (731 * 86400, "2y1d"), (8 * 365 * 86400, "8y"),
    (20 * 365 * 86400 + 86400, "20y"),
])
def test_human_duration(seconds: float, age: str) -> None:
    assert human_duration(dt.timedelta(seconds=seconds)) == age


@pytest.mark.parametrize(("text", "parsed"), [
    ("2025-06-01T12:00:00Z", dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)),
    ("2025-06-01T14:00:00.5+02:00", dt.datetime(2025, 6, 1, 12, 0, 0, 500000, tzinfo=dt.UTC)),
    ("2025-06-01T12:00:00.123456789Z", dt.datetime(2025, 6, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)),
    ("2025-13-01T12:00:00Z", None), ("2025-06-01 12:00:00Z", None), ("2025-06-01T12:00:00", None), ("", None),
    (None, None), (5, None),
])
def test_parse_time(text: Any, parsed: dt.datetime | None) -> None:
    assert tables.parse_time(text) == parsed


# --- pods ------------------------------------------------------------------------------------------------------

def pod(name: str, seconds: float, *, phase: str = "Running", statuses: list[dict[str, Any]] | None = None,
        containers: int = 1, **extra: Any) -> dict[str, Any]:
    status = {"phase": phase, "containerStatuses": statuses or [], **extra.pop("status", {})}
    spec = {"containers": [{"name": f"c{i}", "image": "nginx"} for i in range(containers)], **extra.pop("spec", {})}
    return {"metadata": meta(name, seconds, **extra.pop("metadata", {})), "spec": spec, "status": status}


RUNNING = {"name": "c0", "ready": True, "restartCount": 0, "state": {"running": {"startedAt": ago(100)}}}


def test_pods_render_like_kubectl() -> None:
    crash = {"name": "c0", "ready": False, "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
             "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(65)}}}
    done = {"name": "c0", "ready": False, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    pods = [
        pod("web-7d4b9c-x2x", 302, statuses=[RUNNING], spec={"nodeName": "kind-control-plane"},
            status={"podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}]}),
        pod("crash", 7260, statuses=[crash], spec={"nodeName": "kind-control-plane"},
            status={"podIP": "10.244.0.6"}),
        pod("pending", 14, phase="Pending", containers=2),
        pod("done", 198000, phase="Succeeded", statuses=[done]),
    ]
    table = to_table("pods", pods, now=NOW)
    assert render(table) == expect("""
        NAME             READY   STATUS             RESTARTS      AGE
        web-7d4b9c-x2x   1/1     Running            0             5m2s
        crash            0/1     CrashLoopBackOff   4 (65s ago)   121m
        pending          0/2     Pending            0             14s
        done             0/1     Completed          0             2d7h
    """)
    assert render(table, wide=True) == expect("""
        NAME             READY   STATUS             RESTARTS      AGE    IP           NODE                 NOMINATED NODE   READINESS GATES
        web-7d4b9c-x2x   1/1     Running            0             5m2s   10.244.0.5   kind-control-plane   <none>           <none>
        crash            0/1     CrashLoopBackOff   4 (65s ago)   121m   10.244.0.6   kind-control-plane   <none>           <none>
        pending          0/2     Pending            0             14s    <none>       <none>               <none>           <none>
        done             0/1     Completed          0             2d7h   <none>       <none>               <none>           <none>
    """)
    assert [c["type"] for c in table["columnDefinitions"]] == ["string"] * 9
    assert table["columnDefinitions"][0]["format"] == "name"
    assert "conditions" not in table["rows"][0]
    assert table["rows"][3]["conditions"] == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                               "message": "The pod has completed successfully."}]


def waiting(reason: str) -> dict[str, Any]:
    return {"name": "c0", "ready": False, "restartCount": 0, "state": {"waiting": {"reason": reason}}}


def terminated(**state: Any) -> dict[str, Any]:
    return {"name": "c0", "ready": False, "restartCount": 0, "state": {"terminated": state}}


INIT_SPEC = {"initContainers": [{"name": "i0", "image": "busybox"}, {"name": "i1", "image": "busybox"}]}


def init_status(name: str, **state: Any) -> dict[str, Any]:
    return {"name": name, "ready": False, "restartCount": 0, "state": state}


@pytest.mark.parametrize(("obj", "ready", "status"), [
    (pod("p", 1, phase="Pending", statuses=[waiting("ContainerCreating")]), "0/1", "ContainerCreating"),
    (pod("p", 1, phase="Pending", statuses=[waiting("ErrImagePull")]), "0/1", "ErrImagePull"),
    (pod("p", 1, phase="Pending", statuses=[waiting("ImagePullBackOff")]), "0/1", "ImagePullBackOff"),
    (pod("p", 1, statuses=[terminated(exitCode=137, reason="OOMKilled")]), "0/1", "OOMKilled"),
    (pod("p", 1, statuses=[terminated(exitCode=2)]), "0/1", "ExitCode:2"),
    (pod("p", 1, statuses=[terminated(exitCode=137, signal=9)]), "0/1", "Signal:9"),
    (pod("p", 1, phase="Failed", containers=0, status={"reason": "Evicted"}), "0/0", "Evicted"),
    (pod("p", 1, statuses=[RUNNING], metadata={"deletionTimestamp": ago(0)}), "1/1", "Terminating"),
    (pod("p", 1, phase="Succeeded", statuses=[terminated(exitCode=0, reason="Completed")],
         metadata={"deletionTimestamp": ago(0)}), "0/1", "Completed"),
    (pod("p", 1, statuses=[RUNNING], metadata={"deletionTimestamp": ago(0)}, status={"reason": "NodeLost"}),
     "1/1", "Unknown"),
    (pod("p", 1, phase="Pending", status={"conditions": [{"type": "PodScheduled", "status": "False",
                                                          "reason": "SchedulingGated"}]}), "0/1", "SchedulingGated"),
    (pod("p", 1, containers=2, statuses=[{**RUNNING, "name": "c1"}, terminated(exitCode=0, reason="Completed")]),
     "1/2", "NotReady"),
    (pod("p", 1, containers=2, statuses=[{**RUNNING, "name": "c1"}, terminated(exitCode=0, reason="Completed")],
         status={"conditions": [{"type": "Ready", "status": "True"}]}), "1/2", "Running"),
    (pod("p", 1, phase="Pending", spec=INIT_SPEC, status={"initContainerStatuses": [
        init_status("i0", running={}), init_status("i1", waiting={"reason": "PodInitializing"})]}), "0/1", "Init:0/2"),
    (pod("p", 1, phase="Pending", spec=INIT_SPEC, status={"initContainerStatuses": [
        init_status("i0", terminated={"exitCode": 0}), init_status("i1", running={})]}), "0/1", "Init:1/2"),
    (pod("p", 1, phase="Pending", spec=INIT_SPEC, status={"initContainerStatuses": [
        init_status("i0", waiting={"reason": "ImagePullBackOff"})]}), "0/1", "Init:ImagePullBackOff"),
    (pod("p", 1, phase="Pending", spec=INIT_SPEC, status={"initContainerStatuses": [
        init_status("i0", terminated={"exitCode": 1, "reason": "Error"})]}), "0/1", "Init:Error"),
    (pod("p", 1, phase="Pending", spec=INIT_SPEC, status={"initContainerStatuses": [
        init_status("i0", terminated={"exitCode": 3})]}), "0/1", "Init:ExitCode:3"),
    (pod("p", 1, phase="Pending", spec=INIT_SPEC, status={"initContainerStatuses": [
        init_status("i0", terminated={"exitCode": 3, "signal": 15})]}), "0/1", "Init:Signal:15"),
    (pod("p", 1, statuses=[RUNNING], spec={"initContainers": [{"name": "proxy", "restartPolicy": "Always"}]},
         status={"initContainerStatuses": [{**init_status("proxy", running={}), "started": True, "ready": True}]}),
     "2/2", "Running"),
])
def test_pod_status_follows_the_kubelet_summary(obj: dict[str, Any], ready: str, status: str) -> None:
    assert cells("pods", obj)[1:3] == [ready, status]


def test_pod_restarts_include_the_last_restart_and_sidecars() -> None:
    restarted = {**RUNNING, "restartCount": 2,
                 "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(3 * 3600 + 60)}}}
    sidecar = {**init_status("proxy", running={}), "started": True, "ready": False, "restartCount": 1,
               "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(30)}}}
    obj = pod("p", 86400, statuses=[restarted], spec={"initContainers": [{"name": "proxy", "restartPolicy": "Always"}]},
              status={"initContainerStatuses": [sidecar]})
    assert cells("pods", obj)[1:4] == ["1/2", "Running", "3 (30s ago)"]
    no_time = {**RUNNING, "restartCount": 5}
    assert cells("pods", pod("p", 1, statuses=[no_time]))[3] == "5"


def test_pod_wide_cells() -> None:
    obj = pod("p", 1, statuses=[RUNNING],
              spec={"readinessGates": [{"conditionType": "a/x"}, {"conditionType": "a/y"}], "nodeName": "n1"},
              status={"podIPs": [{"ip": "fd00::1"}], "nominatedNodeName": "n2",
                      "conditions": [{"type": "a/x", "status": "True"}, {"type": "a/y", "status": "False"}]})
    assert cells("pods", obj)[5:] == ["fd00::1", "n1", "n2", "1/2"]


# --- workloads -------------------------------------------------------------------------------------------------

def deployment(selector: Any, **spec: Any) -> dict[str, Any]:
    return {"metadata": meta("web", 403),
            "spec": {"replicas": 3, "selector": selector, **spec,
                     "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"},
                                                          {"name": "side", "image": "envoy"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}


def test_deployments_render_like_kubectl() -> None:
    table = to_table("apps/deployments", [deployment({"matchLabels": {"app": "web"}})], now=NOW)
    assert render(table) == expect("""
        NAME   READY   UP-TO-DATE   AVAILABLE   AGE
        web    2/3     3            2           6m43s
    """)
    assert render(table, wide=True) == expect("""
        NAME   READY   UP-TO-DATE   AVAILABLE   AGE     CONTAINERS   IMAGES             SELECTOR
        web    2/3     3            2           6m43s   web,side     nginx:1.27,envoy   app=web
    """)
    assert [c["type"] for c in table["columnDefinitions"][:4]] == ["string"] * 4


@pytest.mark.parametrize(("selector", "cell"), [
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]}, "tier in (a,b)"),
    ({}, ""),
    (None, ""),
    ({"matchExpressions": [{"key": "tier", "operator": "Bogus"}]}, "<invalid>"),
])
def test_deployment_selector_cell(selector: Any, cell: str) -> None:
    assert cells("apps/deployments", deployment(selector))[-1] == cell


def test_deployment_without_status_counts_zero() -> None:
    obj = {"metadata": meta("d", 5), "spec": {"replicas": 2, "template": {"spec": {"containers": []}}}}
    assert cells("apps/deployments", obj)[:4] == ["d", "0/2", 0, 0]


def replicaset(selector: Any) -> dict[str, Any]:
    return {"metadata": meta("web-7d4b9c", 403),
            "spec": {"replicas": 3, "selector": selector,
                     "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
            "status": {"replicas": 3, "readyReplicas": 2}}


def test_replicasets_render_like_kubectl() -> None:
    selector = {"matchLabels": {"app": "web", "pod-template-hash": "7d4b9c"}}
    table = to_table("apps/replicasets", [replicaset(selector)], now=NOW)
    assert render(table) == expect("""
        NAME         DESIRED   CURRENT   READY   AGE
        web-7d4b9c   3         3         2       6m43s
    """)
    assert render(table, wide=True) == expect("""
        NAME         DESIRED   CURRENT   READY   AGE     CONTAINERS   IMAGES       SELECTOR
        web-7d4b9c   3         3         2       6m43s   web          nginx:1.27   app=web,pod-template-hash=7d4b9c
    """)
    assert [c["type"] for c in table["columnDefinitions"][1:4]] == ["integer"] * 3
    assert table["rows"][0]["cells"][1:4] == [3, 3, 2]


@pytest.mark.parametrize(("selector", "cell"), [
    (None, "<none>"), ({}, "<none>"), ({"matchLabels": {"bad key": "x"}}, "<error>"),
])
def test_replicaset_selector_placeholders(selector: Any, cell: str) -> None:
    assert cells("apps/replicasets", replicaset(selector))[-1] == cell


# --- services and endpoints ------------------------------------------------------------------------------------

def test_services_render_like_kubectl() -> None:
    services = [
        {"metadata": meta("kubernetes", 864000),
         "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                  "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}},
        {"metadata": meta("web", 127),
         "spec": {"type": "NodePort", "clusterIP": "10.96.12.34", "selector": {"tier": "fe", "app": "web"},
                  "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080},
                            {"port": 443, "protocol": "TCP", "nodePort": 30443}]}},
        {"metadata": meta("lb", 62), "spec": {"type": "LoadBalancer", "clusterIP": "10.96.1.1",
                                              "ports": [{"port": 80, "protocol": "TCP", "nodePort": 31000}]}},
    ]
    table = to_table("services", services, now=NOW)
    assert render(table) == expect("""
        NAME         TYPE           CLUSTER-IP    EXTERNAL-IP   PORT(S)                      AGE
        kubernetes   ClusterIP      10.96.0.1     <none>        443/TCP                      10d
        web          NodePort       10.96.12.34   <none>        80:30080/TCP,443:30443/TCP   2m7s
        lb           LoadBalancer   10.96.1.1     <pending>     80:31000/TCP                 62s
    """)
    assert render(table, wide=True) == expect("""
        NAME         TYPE           CLUSTER-IP    EXTERNAL-IP   PORT(S)                      AGE    SELECTOR
        kubernetes   ClusterIP      10.96.0.1     <none>        443/TCP                      10d    <none>
        web          NodePort       10.96.12.34   <none>        80:30080/TCP,443:30443/TCP   2m7s   app=web,tier=fe
        lb           LoadBalancer   10.96.1.1     <pending>     80:31000/TCP                 62s    <none>
    """)


@pytest.mark.parametrize(("spec", "status", "cluster_ip", "external", "ports"), [
    ({"type": "ClusterIP", "clusterIP": "None", "ports": [{"port": 53, "protocol": "UDP"}]}, {},
     "None", "<none>", "53/UDP"),
    ({"type": "ClusterIP", "clusterIPs": ["10.0.0.9", "fd00::9"], "externalIPs": ["1.2.3.4", "5.6.7.8"]}, {},
     "10.0.0.9", "1.2.3.4,5.6.7.8", "<none>"),
    ({"type": "LoadBalancer", "clusterIP": "10.0.0.2", "externalIPs": ["9.9.9.9"], "ports": [{"port": 80}]},
     {"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}, {"ip": "203.0.113.7"}, {"ip": "203.0.113.7"}]}},
     "10.0.0.2", "203.0.113.7,lb.example.com,9.9.9.9", "80/TCP"),
    ({"type": "ExternalName", "externalName": "db.example.com"}, {}, "<none>", "db.example.com", "<none>"),
    ({"type": "Weird"}, {}, "<none>", "<unknown>", "<none>"),
])
def test_service_cells(spec: dict[str, Any], status: dict[str, Any], cluster_ip: str, external: str,
                       ports: str) -> None:
    row = cells("services", {"metadata": meta("s", 1), "spec": spec, "status": status})
    assert row[2:5] == [cluster_ip, external, ports]


def test_endpoints_render_like_kubectl() -> None:
    four = {"addresses": [{"ip": f"10.244.0.{i}"} for i in (5, 7, 8, 9)], "ports": [{"port": 80}]}
    table = to_table("endpoints", [{"metadata": meta("web", 103), "subsets": [four]},
                                   {"metadata": meta("none", 103)}], now=NOW)
    assert render(table) == expect("""
        NAME   ENDPOINTS                                               AGE
        web    10.244.0.5:80,10.244.0.7:80,10.244.0.8:80 + 1 more...   103s
        none   <none>                                                  103s
    """)


@pytest.mark.parametrize(("subsets", "cell"), [
    ([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}, {"port": 443}]}], "[fd00::1]:80,[fd00::1]:443"),
    ([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]}], "10.0.0.1,10.0.0.2"),
    ([{"addresses": [{"ip": "a"}], "ports": [{"port": 1}]}, {"addresses": [{"ip": "b"}, {"ip": "c"}],
                                                              "ports": [{"port": 2}]}], "a:1,b:2,c:2"),
    ([{"addresses": [{"ip": "a"}, {"ip": "b"}], "ports": [{"port": 1}, {"port": 2}, {"port": 3}]}],
     "a:1,b:1,a:2 + 3 more..."),
    ([{"notReadyAddresses": [{"ip": "a"}], "ports": [{"port": 1}]}], ""),
])
def test_endpoints_cell(subsets: list[dict[str, Any]], cell: str) -> None:
    assert cells("endpoints", {"metadata": meta("e", 1), "subsets": subsets})[1] == cell


# --- nodes, namespaces, events ---------------------------------------------------------------------------------

NODE = {"metadata": {"name": "kind-control-plane", "creationTimestamp": ago(800000),
                     "labels": {"node-role.kubernetes.io/control-plane": ""}},
        "status": {"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                   "addresses": [{"type": "Hostname", "address": "kind"}, {"type": "InternalIP", "address": "172.18.0.2"}],
                   "nodeInfo": {"kubeletVersion": "v1.37.0", "osImage": "Debian GNU/Linux 12 (bookworm)",
                                "kernelVersion": "6.8.0", "containerRuntimeVersion": "containerd://2.1.1"}}}


def test_nodes_render_like_kubectl() -> None:
    table = to_table("nodes", [NODE], now=NOW)
    assert render(table) == expect("""
        NAME                 STATUS   ROLES           AGE   VERSION
        kind-control-plane   Ready    control-plane   9d    v1.37.0
    """)
    assert render(table, wide=True) == expect("""
        NAME                 STATUS   ROLES           AGE   VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE                         KERNEL-VERSION   CONTAINER-RUNTIME
        kind-control-plane   Ready    control-plane   9d    v1.37.0   172.18.0.2    <none>        Debian GNU/Linux 12 (bookworm)   6.8.0            containerd://2.1.1
    """)


@pytest.mark.parametrize(("node", "status", "roles"), [
    ({"spec": {"unschedulable": True}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}},
     "NotReady,SchedulingDisabled", "<none>"),
    ({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}, "NotReady", "<none>"),
    ({}, "Unknown", "<none>"),
    ({"metadata": {"labels": {"kubernetes.io/role": "db", "node-role.kubernetes.io/worker": "",
                              "node-role.kubernetes.io/": "x"}}}, "Unknown", "db,worker"),
])
def test_node_status_and_roles(node: dict[str, Any], status: str, roles: str) -> None:
    obj = {**node, "metadata": {"name": "n", **node.get("metadata", {})}}
    row = cells("nodes", obj)
    assert row[1:3] == [status, roles]
    assert row[3] == "<unknown>" and row[-3:] == ["<unknown>"] * 3


def test_namespaces_render_like_kubectl() -> None:
    table = to_table("namespaces", [{"metadata": {"name": "default", "creationTimestamp": ago(800000)},
                                     "status": {"phase": "Active"}},
                                    {"metadata": {"name": "old", "creationTimestamp": ago(90),
                                                  "deletionTimestamp": ago(1)}, "status": {"phase": "Terminating"}}],
                     now=NOW)
    assert render(table) == expect("""
        NAME      STATUS        AGE
        default   Active        9d
        old       Terminating   90s
    """)


EVENT = {"metadata": meta("web.17a", 30),
         "involvedObject": {"kind": "Pod", "name": "web-7d4b9c-x2x", "fieldPath": "spec.containers{web}"},
         "reason": "Pulled", "type": "Normal", "message": 'Successfully pulled image "nginx" in 1.2s  \n',
         "source": {"component": "kubelet", "host": "kind-control-plane"},
         "firstTimestamp": ago(92), "lastTimestamp": ago(32), "count": 3}


def test_events_render_like_kubectl() -> None:
    table = to_table("events", [EVENT], now=NOW)
    assert render(table) == expect("""
        LAST SEEN   TYPE     REASON   OBJECT               MESSAGE
        32s         Normal   Pulled   pod/web-7d4b9c-x2x   Successfully pulled image "nginx" in 1.2s
    """)
    assert render(table, wide=True) == expect("""
        LAST SEEN   TYPE     REASON   OBJECT               SUBOBJECT              SOURCE                        MESSAGE                                     FIRST SEEN   COUNT   NAME
        32s         Normal   Pulled   pod/web-7d4b9c-x2x   spec.containers{web}   kubelet, kind-control-plane   Successfully pulled image "nginx" in 1.2s   92s          3       web.17a
    """)
    assert table["rows"][0]["cells"][8] == 3


@pytest.mark.parametrize(("changes", "last", "object_", "source", "first", "count"), [
    ({"lastTimestamp": None}, "92s", "pod/web-7d4b9c-x2x", "kubelet, kind-control-plane", "92s", 3),
    ({"firstTimestamp": None, "lastTimestamp": None, "eventTime": "2025-06-01T11:59:00.123456Z", "count": 0},
     "59s", "pod/web-7d4b9c-x2x", "kubelet, kind-control-plane", "59s", 1),
    ({"series": {"count": 7, "lastObservedTime": "2025-06-01T11:59:50.000000Z"}}, "10s", "pod/web-7d4b9c-x2x",
     "kubelet, kind-control-plane", "92s", 7),
    ({"source": {}, "reportingComponent": "deployment-controller", "involvedObject": {"kind": "Deployment"}},
     "32s", "deployment", "deployment-controller", "92s", 3),
    ({"source": {"component": "kubelet"}, "reportingInstance": "node-9"}, "32s", "pod/web-7d4b9c-x2x",
     "kubelet, node-9", "92s", 3),
    ({"firstTimestamp": None, "lastTimestamp": None}, "<unknown>", "pod/web-7d4b9c-x2x",
     "kubelet, kind-control-plane", "<unknown>", 3),
])
def test_event_cells(changes: dict[str, Any], last: str, object_: str, source: str, first: str, count: int) -> None:
    obj = {key: value for key, value in {**EVENT, **changes}.items() if value is not None}
    row = cells("events", obj)
    assert [row[0], row[3], row[5], row[7], row[8]] == [last, object_, source, first, count]


# --- config and identity ---------------------------------------------------------------------------------------

def test_configmaps_secrets_serviceaccounts_render_like_kubectl() -> None:
    configmaps = to_table("configmaps", [{"metadata": meta("kube-root-ca.crt", 3600), "data": {"ca.crt": "x"}},
                                         {"metadata": meta("mixed", 30), "data": {"a": "1"},
                                          "binaryData": {"b": "AA=="}}], now=NOW)
    assert render(configmaps) == expect("""
        NAME               DATA   AGE
        kube-root-ca.crt   1      60m
        mixed              2      30s
    """)
    secrets = to_table("secrets", [{"metadata": meta("tls", 259200), "type": "kubernetes.io/tls",
                                    "data": {"tls.crt": "", "tls.key": ""}}], now=NOW)
    assert render(secrets) == expect("""
        NAME   TYPE                DATA   AGE
        tls    kubernetes.io/tls   2      3d
    """)
    accounts = to_table("serviceaccounts", [{"metadata": meta("default", 600)},
                                            {"metadata": meta("bot", 5), "secrets": [{"name": "bot-token"}]}],
                        now=NOW)
    assert render(accounts) == expect("""
        NAME      SECRETS   AGE
        default   0         10m
        bot       1         5s
    """)


# --- CRDs, custom resources and the default --------------------------------------------------------------------

CRD = {"metadata": {"name": "widgets.example.com", "creationTimestamp": "2024-05-01T12:00:00+02:00"},
       "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd", "wdg"]},
                "versions": [{"name": "v1", "served": True, "storage": True},
                             {"name": "v1beta1", "served": True, "storage": False},
                             {"name": "v1alpha1", "served": False, "storage": False}]},
       "status": {"conditions": [{"type": "Established", "status": "True"}]}}


def test_crds_render_like_kubectl() -> None:
    table = to_table("apiextensions.k8s.io/customresourcedefinitions", [CRD], now=NOW)
    assert render(table) == expect("""
        NAME                  SCOPE        VERSIONS              CREATED AT
        widgets.example.com   Namespaced   v1(storage),v1beta1   2024-05-01T10:00:00Z
    """)
    assert render(table, wide=True) == expect("""
        NAME                  SCOPE        VERSIONS              CREATED AT             GROUP         KIND     SHORTNAMES   ESTABLISHED
        widgets.example.com   Namespaced   v1(storage),v1beta1   2024-05-01T10:00:00Z   example.com   Widget   wd,wdg       true
    """)
    assert table["rows"][0]["cells"][-1] is True
    empty = to_table("apiextensions.k8s.io/customresourcedefinitions", [], now=NOW)
    assert empty["rows"] is None


WIDGET_COLUMNS = [
    {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
    {"name": "Ratio", "type": "number", "jsonPath": ".spec.ratio"},
    {"name": "On", "type": "boolean", "jsonPath": ".spec.on"},
    {"name": "Missing", "type": "string", "jsonPath": ".spec.nothing"},
    {"name": "Tags", "type": "string", "jsonPath": ".spec.tags"},
    {"name": "Wide", "type": "string", "jsonPath": ".spec.color", "priority": 1, "description": "Paint"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def test_custom_resources_use_printer_columns() -> None:
    widgets = [{"metadata": meta("w1", 3000),
                "spec": {"size": 3, "ratio": 0.5, "on": True, "tags": ["a", "b"], "color": "red"},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
               {"metadata": meta("w2", 33), "spec": {}}]
    table = to_table("example.com/widgets", widgets, now=NOW, printer_columns=WIDGET_COLUMNS)
    assert render(table) == expect("""
        NAME   READY   SIZE   RATIO   ON     MISSING   TAGS        AGE
        w1     True    3      0.5     true             ["a","b"]   50m
        w2                                                         33s
    """)
    assert render(table, wide=True) == expect("""
        NAME   READY   SIZE   RATIO   ON     MISSING   TAGS        WIDE   AGE
        w1     True    3      0.5     true             ["a","b"]   red    50m
        w2                                                                33s
    """)
    assert table["rows"][0]["cells"][1:5] == ["True", 3, 0.5, True]
    definitions = table["columnDefinitions"]
    assert definitions[1]["description"] == ("Custom resource definition column (in JSONPath format): "
                                             '.status.conditions[?(@.type=="Ready")].status')
    assert (definitions[7]["description"], definitions[7]["priority"]) == ("Paint", 1)


def test_custom_resources_without_columns_show_age_and_unknown_kinds_created_at() -> None:
    gadget = {"metadata": meta("g1", 53)}
    table = to_table("example.com/gadgets", [gadget], now=NOW, printer_columns=[])
    assert render(table) == expect("""
        NAME   AGE
        g1     53s
    """)
    assert table["columnDefinitions"][1]["type"] == "date"
    default = to_table("example.com/gadgets", [gadget], now=NOW)
    assert render(default) == expect("""
        NAME   CREATED AT
        g1     2025-06-01T11:59:07Z
    """)
    assert to_table("example.com/gadgets", [], now=NOW)["rows"] is None
    assert to_table("example.com/gadgets", [], now=NOW, printer_columns=[])["rows"] == []


@pytest.mark.parametrize(("type_", "value", "cell"), [
    ("integer", 7, 7), ("integer", 7.9, 7), ("integer", True, None), ("integer", "7", None),
    ("number", 2, 2.0), ("number", 2.5, 2.5), ("number", "2", None),
    ("boolean", False, False), ("boolean", "true", None),
    ("string", "x", "x"), ("string", 5, "5"), ("string", 1e21, "1e+21"), ("string", 100.0, "100"),
    ("string", True, "true"), ("string", None, "<no value>"),
    ("string", {"b": [1.0, 1e-7], "a": "<&>"}, '{"a":"\\u003c\\u0026\\u003e","b":[1,1e-7]}'),
    ("date", "2025-06-01T11:00:00Z", "60m"), ("date", "yesterday", "<invalid>"), ("date", "", "<unknown>"),
    ("date", 5, None), ("integer", None, None), ("mystery", 5, None),
])
def test_custom_column_cell_types(type_: str, value: Any, cell: Any) -> None:
    columns = [{"name": "V", "type": type_, "jsonPath": ".spec.v"}]
    row = cells("x.io/things", {"metadata": meta("t", 1), "spec": {"v": value}}, printer_columns=columns)
    assert row[1] == cell
    assert type(row[1]) is type(cell)


def test_unparsable_printer_column_drops_it_and_the_rest() -> None:
    columns = [{"name": "A", "type": "string", "jsonPath": ".spec.a"},
               {"name": "B", "type": "string", "jsonPath": ".spec[x"},
               {"name": "C", "type": "string", "jsonPath": ".spec.c"}]
    table = to_table("x.io/things", [{"metadata": meta("t", 1), "spec": {"a": "1", "c": "3"}}], now=NOW,
                     printer_columns=columns)
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "A"]
    assert table["rows"][0]["cells"] == ["t", "1"]


# --- JSONPath --------------------------------------------------------------------------------------------------

DOC = {"status": {"conditions": [{"type": "Synced", "status": "True", "n": 1},
                                 {"type": "Ready", "status": "False", "n": 2}],
                  "phase": None},
       "spec": {"items": ["a", "b", "c", "d"], "dotted.key": "yes", "nested": {"deep": {"x": 1}}, "flag": True}}


@pytest.mark.parametrize(("path", "found"), [
    (".status.conditions[0].type", ["Synced"]),
    (".status.conditions[-1].type", ["Ready"]),
    ("$.status.conditions[*].status", ["True", "False"]),
    (".status.conditions[?(@.type=='Ready')].status", ["False"]),
    (".status.conditions[?(@.type == \"Ready\")].status", ["False"]),
    (".status.conditions[?(@.n > 1)].type", ["Ready"]),
    (".status.conditions[?(@.n<=1)].type", ["Synced"]),
    (".status.conditions[?(@.n>=1)].type", ["Synced", "Ready"]),
    (".status.conditions[?(@.n!=1)].type", ["Ready"]),
    (".status.conditions[?(@.n<2)].type", ["Synced"]),
    (".status.conditions[?(@.type=~'^R')].type", ["Ready"]),
    (".status.conditions[?(@.missing)].type", []),
    (".status.conditions[?(@.n)].type", ["Synced", "Ready"]),
    (".spec.items[1:3]", ["b", "c"]),
    (".spec.items[::2]", ["a", "c"]),
    (".spec.items[0,2]", ["a", "c"]),
    (".spec['dotted.key']", []),
    (".spec.dotted\\.key", ["yes"]),
    (".spec.nested.*.x", [1]),
    ("..x", [1]),
    (".spec.nested..x", [1]),
    (".status.phase", [None]),
    (".status.phase.deeper", []),
    (".nothing.here", []),
    (".spec.flag", [True]),
])
def test_jsonpath_results(path: str, found: list[Any]) -> None:
    assert find_results(path, DOC) == found


@pytest.mark.parametrize("path", [
    ".spec.items[9]", ".spec.items[-9]", ".spec.nested[0]", ".status.conditions[?(@.n=='1')].type",
    ".status.conditions[?(@.type>1)].type", ".spec.items[::0]", ".status.conditions[?(@.n=~1)].type",
])
def test_jsonpath_evaluation_errors(path: str) -> None:
    with pytest.raises(tables.JSONPathError):
        find_results(path, DOC)


@pytest.mark.parametrize("path", [".spec[x", ".a[?(@.b==1", ".a[?(@.b==1)", "....a", ".a[1:x]", "{.a", '.a["x"]'])
def test_jsonpath_parse_errors(path: str) -> None:
    with pytest.raises(tables.JSONPathError):
        tables.parse_jsonpath(path)


@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(
    [".", "..", "[", "]", "?(", ")", "@", "*", ":", ",", "'", '"', "==", "<", "status", "conditions", "0", "-1"]),
    max_size=12).map("".join)))
def test_any_jsonpath_text_gives_results_or_a_jsonpath_error(path: str) -> None:
    try:
        found = find_results(path, DOC)
    except tables.JSONPathError:
        return
    assert isinstance(found, list)


# --- Go number formatting --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "text"), [
    (5.0, "5"), (0.5, "0.5"), (-2.25, "-2.25"), (1e20, "100000000000000000000"), (1e21, "1e+21"),
    (1.5e22, "1.5e+22"), (0.0001, "0.0001"), (1e-05, "1e-05"), (0.0, "0"), (123456.789, "123456.789"),
    (float("inf"), "+Inf"), (float("nan"), "NaN"),
])
def test_go_float(value: float, text: str) -> None:
    assert tables.go_float(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (100.0, "100"), (1e-7, "1e-7"), (1.5e-10, "1.5e-10"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
    (0.000001, "0.000001"), ({"z": 1, "a": [None, True, "\u2028"]}, '{"a":[null,true,"\\u2028"],"z":1}'),
])
def test_go_json(value: Any, text: str) -> None:
    assert tables.go_json(value) == text


# --- the Table envelope ----------------------------------------------------------------------------------------

OBJ = {"kind": "ConfigMap", "apiVersion": "v1",
       "metadata": {"name": "c", "namespace": "default", "resourceVersion": "7", "creationTimestamp": ago(1)},
       "data": {"k": "v"}}
PARTIAL = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": OBJ["metadata"]}


def test_table_envelope_and_partial_metadata() -> None:
    table = to_table("configmaps", [OBJ], now=NOW, list_meta={"resourceVersion": "9", "continue": "",
                                                              "remainingItemCount": 0})
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert table["metadata"] == {"resourceVersion": "9", "remainingItemCount": 0}
    assert table["rows"][0]["object"] == PARTIAL
    first = table["columnDefinitions"][0]
    assert list(first) == ["name", "type", "format", "description", "priority"]
    assert first["description"].startswith("Name must be unique within a namespace.")


@pytest.mark.parametrize(("include", "expected"), [
    ("Object", OBJ), ("None", None), ("", PARTIAL), ("Metadata", PARTIAL),
])
def test_include_object(include: str, expected: Any) -> None:
    row = to_table("configmaps", [OBJ], now=NOW, include_object=include)["rows"][0]
    assert row["object"] == expected
    assert list(row) == ["cells", "object"]


def test_bookmark_marking_initial_events_end_keeps_metadata_without_objects() -> None:
    bookmark = {"metadata": {"resourceVersion": "12", "annotations": {tables.INITIAL_EVENTS_END: "true"}}}
    row = to_table("configmaps", [bookmark], now=NOW, include_object="None")["rows"][0]
    assert row["object"]["metadata"]["resourceVersion"] == "12"


def test_unknown_include_object_is_a_bad_request() -> None:
    with pytest.raises(ApiError) as info:
        to_table("pods", [], now=NOW, include_object="Everything")
    assert (info.value.code, info.value.message) == (400, 'unrecognized includeObject value: "Everything"')


def test_no_headers_and_empty_lists() -> None:
    table = to_table("pods", [], now=NOW, no_headers=True)
    assert table["columnDefinitions"] is None and table["rows"] == []
    assert table["metadata"] == {}


def test_naive_now_is_taken_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert cells("configmaps", OBJ) == to_table("configmaps", [OBJ], now=naive)["rows"][0]["cells"]
