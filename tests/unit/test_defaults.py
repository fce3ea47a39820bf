"""Defaulting as kube-apiserver v1.37 does it: the built-in kinds, Quantities, custom-resource schema defaults
and the registry strategies' create/update touches."""

from __future__ import annotations

import base64
import copy
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lab.sandbox import defaults
from gitops_lab.sandbox.schemas import Schema


def defaulted(key: str, obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    defaults.apply_defaults(key, obj)
    return obj


def deployment(**container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27", **container}]},
            },
        },
    }


# --- workloads ---------------------------------------------------------------------------------------------


def test_deployment_matches_what_kubectl_get_shows_after_create() -> None:
    spec = defaulted("apps/deployments", deployment(ports=[{"containerPort": 80}]))["spec"]

    assert spec["replicas"] == 1
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["template"]["spec"] == {
        "containers": [
            {
                "name": "web",
                "image": "nginx:1.27",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "resources": {},
                "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
            }
        ],
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30,
        "schedulerName": "default-scheduler",
    }


def test_deployment_keeps_what_the_user_set() -> None:
    d = deployment()
    d["spec"].update(replicas=0, revisionHistoryLimit=0, strategy={"type": "Recreate"})
    d["spec"]["template"]["spec"].update(
        restartPolicy="Never", terminationGracePeriodSeconds=0, dnsPolicy="None"
    )
    spec = defaulted("apps/deployments", d)["spec"]

    assert (spec["replicas"], spec["revisionHistoryLimit"]) == (0, 0)
    assert spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert (pod["restartPolicy"], pod["terminationGracePeriodSeconds"], pod["dnsPolicy"]) == (
        "Never",
        0,
        "None",
    )


def test_rolling_update_fills_only_the_missing_bound() -> None:
    d = deployment()
    d["spec"]["strategy"] = {"rollingUpdate": {"maxSurge": 1}}
    assert defaulted("apps/deployments", d)["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"},
    }


def test_replicaset_defaults_replicas_and_template_only() -> None:
    rs = deployment()
    rs["kind"] = "ReplicaSet"
    spec = defaulted("apps/replicasets", rs)["spec"]
    assert spec["replicas"] == 1
    assert "strategy" not in spec and "revisionHistoryLimit" not in spec
    assert spec["template"]["spec"]["schedulerName"] == "default-scheduler"


def test_templates_do_not_get_pod_only_defaults() -> None:
    d = deployment(resources={"limits": {"cpu": "1"}})
    pod = defaulted("apps/deployments", d)["spec"]["template"]["spec"]
    assert "enableServiceLinks" not in pod
    assert pod["containers"][0]["resources"] == {"limits": {"cpu": "1"}}


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("docker.io/library/nginx:1.27-alpine", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("nginx:latest@sha256:" + "a" * 64, "Always"),
        ("localhost:5000/team/app", "Always"),
        ("localhost:5000/team/app:v2", "IfNotPresent"),
        ("registry.example.com:443/app:latest", "Always"),
        ("Invalid/Name", "IfNotPresent"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    container = defaulted("apps/deployments", deployment(image=image))["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["imagePullPolicy"] == policy


def test_explicit_pull_policy_is_kept() -> None:
    container = defaulted("apps/deployments", deployment(image="nginx", imagePullPolicy="Never"))["spec"][
        "template"
    ]["spec"]["containers"][0]
    assert container["imagePullPolicy"] == "Never"


def test_probes_lifecycle_and_env_references() -> None:
    container = {
        "livenessProbe": {"httpGet": {"port": 8080}},
        "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 5},
        "startupProbe": {"grpc": {"port": 9000}},
        "lifecycle": {"preStop": {"httpGet": {"port": 80, "path": "/quit"}}},
        "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
    }
    out = defaulted("apps/deployments", deployment(**container))["spec"]["template"]["spec"]["containers"][0]

    assert out["livenessProbe"] == {
        "httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert out["readinessProbe"]["periodSeconds"] == 5
    assert out["startupProbe"]["grpc"] == {"port": 9000, "service": ""}
    assert out["lifecycle"]["preStop"]["httpGet"] == {"port": 80, "path": "/quit", "scheme": "HTTP"}
    assert out["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "spec.nodeName", "apiVersion": "v1"}


def test_volumes() -> None:
    d = deployment()
    d["spec"]["template"]["spec"]["volumes"] = [
        {"name": "cache"},
        {"name": "config", "configMap": {"name": "app"}},
        {"name": "creds", "secret": {"secretName": "app", "defaultMode": 0o400}},
        {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
        {"name": "host", "hostPath": {"path": "/var/log"}},
        {
            "name": "info",
            "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
        },
        {"name": "scratch", "emptyDir": {"sizeLimit": "1024Mi"}},
    ]
    volumes = defaulted("apps/deployments", d)["spec"]["template"]["spec"]["volumes"]

    assert volumes[0] == {"name": "cache", "emptyDir": {}}
    assert volumes[1]["configMap"] == {"name": "app", "defaultMode": 420}
    assert volumes[2]["secret"] == {"secretName": "app", "defaultMode": 0o400}
    assert volumes[3]["projected"] == {
        "sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}}],
        "defaultMode": 420,
    }
    assert volumes[4]["hostPath"] == {"path": "/var/log", "type": ""}
    assert volumes[5]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"] == "v1"
    assert volumes[5]["downwardAPI"]["defaultMode"] == 420
    assert volumes[6]["emptyDir"] == {"sizeLimit": "1Gi"}


# --- pods ---------------------------------------------------------------------------------------------------


def pod(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": spec,
    }


def test_pod_gets_service_links_and_requests_from_limits() -> None:
    p = pod(
        {
            "containers": [
                {
                    "name": "a",
                    "image": "busybox",
                    "resources": {"limits": {"cpu": "1", "memory": "64Mi"}, "requests": {"cpu": "250m"}},
                }
            ],
            "initContainers": [
                {"name": "i", "image": "busybox", "resources": {"limits": {"memory": "32Mi"}}}
            ],
        }
    )
    spec = defaulted("pods", p)["spec"]

    assert spec["enableServiceLinks"] is True
    assert spec["containers"][0]["resources"]["requests"] == {"cpu": "250m", "memory": "64Mi"}
    assert spec["initContainers"][0]["resources"]["requests"] == {"memory": "32Mi"}


def test_pod_with_empty_limits_gets_no_requests() -> None:
    spec = defaulted("pods", pod({"containers": [{"name": "a", "image": "x", "resources": {"limits": {}}}]}))[
        "spec"
    ]
    assert spec["containers"][0]["resources"] == {"limits": {}}


def test_host_network_pod_gets_host_ports() -> None:
    p = pod(
        {"hostNetwork": True, "containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 53}]}]}
    )
    assert defaulted("pods", p)["spec"]["containers"][0]["ports"] == [
        {"containerPort": 53, "protocol": "TCP", "hostPort": 53}
    ]


def test_enable_service_links_false_is_kept() -> None:
    p = pod({"enableServiceLinks": False, "containers": [{"name": "a", "image": "x"}]})
    assert defaulted("pods", p)["spec"]["enableServiceLinks"] is False


@pytest.mark.parametrize(
    ("resources", "qos"),
    [
        ([{}], "BestEffort"),
        ([{"requests": {"cpu": "100m"}}], "Burstable"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}}], "Guaranteed"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}], "Burstable"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}}, {}], "Burstable"),
        ([{"limits": {"cpu": "1"}}], "Burstable"),
        ([{"requests": {"ephemeral-storage": "1Gi"}}], "BestEffort"),
    ],
)
def test_pod_qos_class(resources: list[dict[str, Any]], qos: str) -> None:
    p = pod(
        {"containers": [{"name": f"c{i}", "image": "x", "resources": r} for i, r in enumerate(resources)]}
    )
    defaults.apply_defaults("pods", p)
    defaults.prepare_for_create("pods", p)
    assert p["status"] == {"phase": "Pending", "qosClass": qos}


# --- Quantities ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("0.5", "500m"),
        ("500m", "500m"),
        ("1500m", "1500m"),
        ("1", "1"),
        (1, "1"),
        (0.25, "250m"),
        ("1000", "1k"),
        ("2000m", "2"),
        ("128974848", "128974848"),
        ("129e6", "129e6"),
        ("129M", "129M"),
        ("1Gi", "1Gi"),
        ("1024Mi", "1Gi"),
        ("1.5Gi", "1536Mi"),
        ("0.5Ki", "512"),
        ("1000Ki", "1000Ki"),
        ("0", "0"),
        ("0Gi", "0"),
        ("+2", "2"),
        ("-1", "-1"),
        ("10Mi ", "10Mi"),
    ],
)
def test_canonical_quantity(given: Any, canonical: str) -> None:
    assert defaults.canonical_quantity(given) == canonical


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("abc", defaults.QUANTITY_FORMAT_ERROR),
        ("", defaults.QUANTITY_FORMAT_ERROR),
        ("1.2.3", defaults.QUANTITY_FORMAT_ERROR),
        ("1 Gi", defaults.QUANTITY_FORMAT_ERROR),
        ("1mi", defaults.QUANTITY_SUFFIX_ERROR),
        ("5GB", defaults.QUANTITY_FORMAT_ERROR),
        ("5GG", defaults.QUANTITY_SUFFIX_ERROR),
        (True, defaults.QUANTITY_FORMAT_ERROR),
    ],
)
def test_bad_quantities(given: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        defaults.parse_quantity(given)
    assert defaults.canonical_quantity(given) is None


def test_resource_lists_round_up_to_millis_and_canonicalize() -> None:
    p = pod(
        {
            "containers": [
                {
                    "name": "a",
                    "image": "x",
                    "resources": {
                        "limits": {"cpu": "0.0001", "memory": 1073741824},
                        "requests": {"cpu": 0.1},
                    },
                }
            ],
            "overhead": {"cpu": "1000m"},
        }
    )
    spec = defaulted("pods", p)["spec"]
    assert spec["containers"][0]["resources"] == {
        "limits": {"cpu": "1m", "memory": "1073741824"},
        "requests": {"cpu": "100m", "memory": "1073741824"},
    }
    assert spec["overhead"] == {"cpu": "1"}


def test_unparseable_quantities_are_left_for_validation() -> None:
    p = pod({"containers": [{"name": "a", "image": "x", "resources": {"limits": {"cpu": "lots"}}}]})
    assert defaulted("pods", p)["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "lots"}


# --- services, endpoints, secrets, namespaces, nodes ------------------------------------------------------


def service(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": spec,
    }


def test_cluster_ip_service() -> None:
    spec = defaulted("services", service(selector={"app": "web"}, ports=[{"port": 80}]))["spec"]
    assert spec == {
        "selector": {"app": "web"},
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
        "sessionAffinity": "None",
        "type": "ClusterIP",
        "internalTrafficPolicy": "Cluster",
        "ipFamilyPolicy": "SingleStack",
        "ipFamilies": ["IPv4"],
    }


@pytest.mark.parametrize(
    ("target", "expected"),
    [(None, 443), (0, 443), ("", 443), (8443, 8443), ("https", "https")],
)
def test_target_port_defaults_to_port(target: Any, expected: Any) -> None:
    port: dict[str, Any] = {"port": 443}
    if target is not None:
        port["targetPort"] = target
    spec = defaulted("services", service(ports=[port]))["spec"]
    assert spec["ports"][0]["targetPort"] == expected


def test_node_port_and_load_balancer_services() -> None:
    node_port = defaulted("services", service(type="NodePort", ports=[{"port": 80}]))["spec"]
    balancer = defaulted("services", service(type="LoadBalancer", ports=[{"port": 80}]))["spec"]
    assert node_port["externalTrafficPolicy"] == "Cluster"
    assert "allocateLoadBalancerNodePorts" not in node_port
    assert balancer["externalTrafficPolicy"] == "Cluster"
    assert balancer["allocateLoadBalancerNodePorts"] is True


def test_external_ips_make_a_cluster_ip_service_externally_accessible() -> None:
    spec = defaulted("services", service(ports=[{"port": 80}], externalIPs=["192.0.2.10"]))["spec"]
    assert spec["externalTrafficPolicy"] == "Cluster"


def test_external_name_service_gets_no_ip_settings() -> None:
    spec = defaulted("services", service(type="ExternalName", externalName="db.example.com"))["spec"]
    assert spec == {"type": "ExternalName", "externalName": "db.example.com", "sessionAffinity": "None"}


def test_headless_selectorless_service_requires_dual_stack() -> None:
    headless = defaulted("services", service(clusterIP="None", ports=[{"port": 5432}]))["spec"]
    with_selector = defaulted("services", service(clusterIP="None", selector={"app": "db"}))["spec"]
    assert (headless["ipFamilyPolicy"], headless["ipFamilies"]) == ("RequireDualStack", ["IPv4", "IPv6"])
    assert (with_selector["ipFamilyPolicy"], with_selector["ipFamilies"]) == ("SingleStack", ["IPv4"])


def test_session_affinity() -> None:
    client_ip = defaulted("services", service(sessionAffinity="ClientIP", ports=[{"port": 80}]))["spec"]
    none = defaulted("services", service(sessionAffinityConfig={"clientIP": {"timeoutSeconds": 5}}))["spec"]
    assert client_ip["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    assert "sessionAffinityConfig" not in none


def test_endpoints_ports_get_tcp() -> None:
    ep = {
        "subsets": [
            {"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}
        ]
    }
    assert defaulted("endpoints", ep)["subsets"][0]["ports"] == [
        {"port": 80, "protocol": "TCP"},
        {"port": 53, "protocol": "UDP"},
    ]


def test_secret_type_and_string_data() -> None:
    secret = {
        "metadata": {"name": "s"},
        "data": {"user": base64.b64encode(b"old").decode(), "keep": "eA=="},
        "stringData": {"user": "admin", "password": "s3cret é"},
    }
    out = defaulted("secrets", secret)
    assert out["type"] == "Opaque"
    assert "stringData" not in out
    assert {k: base64.b64decode(v).decode() for k, v in out["data"].items()} == {
        "user": "admin",
        "keep": "x",
        "password": "s3cret é",
    }


def test_secret_type_is_kept() -> None:
    assert defaulted("secrets", {"type": "kubernetes.io/tls"})["type"] == "kubernetes.io/tls"


def test_namespace_label_and_phase() -> None:
    ns = defaulted(
        "namespaces",
        {"metadata": {"name": "dev", "labels": {"team": "a", "kubernetes.io/metadata.name": "x"}}},
    )
    assert ns["metadata"]["labels"] == {"team": "a", "kubernetes.io/metadata.name": "dev"}
    assert ns["status"] == {"phase": "Active"}
    assert "spec" not in ns


def test_nameless_namespace_gets_no_label() -> None:
    assert "labels" not in defaulted("namespaces", {"metadata": {"generateName": "dev-"}})["metadata"]


def test_node_allocatable_copies_capacity() -> None:
    node = defaulted(
        "nodes", {"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "4", "memory": "8Gi"}}}
    )
    kept = defaulted("nodes", {"status": {"capacity": {"cpu": "4"}, "allocatable": {"cpu": "3500m"}}})
    assert node["status"]["allocatable"] == {"cpu": "4", "memory": "8Gi"}
    assert kept["status"]["allocatable"] == {"cpu": "3500m"}


def test_kinds_without_defaults_are_untouched() -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("configmaps", {"metadata": {"name": "c"}, "data": {}}),
        ("serviceaccounts", {"metadata": {"name": "s"}}),
        ("events", {"metadata": {"name": "e"}, "reason": "x"}),
        ("example.com/widgets", {"spec": {}}),
    ]
    for key, obj in cases:
        assert defaulted(key, obj) == obj


# --- CustomResourceDefinitions ----------------------------------------------------------------------------


def crd() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [
                {
                    "name": "v1beta1",
                    "served": True,
                    "storage": False,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                },
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                },
            ],
        },
    }


def test_crd_defaults() -> None:
    out = defaulted("apiextensions.k8s.io/customresourcedefinitions", crd())
    assert out["spec"]["names"] == {
        "kind": "Widget",
        "plural": "widgets",
        "singular": "widget",
        "listKind": "WidgetList",
    }
    assert out["spec"]["conversion"] == {"strategy": "None"}
    assert out["status"] == {"storedVersions": ["v1"]}


def test_crd_webhook_conversion_service_port() -> None:
    c = crd()
    c["spec"]["conversion"] = {
        "strategy": "Webhook",
        "webhook": {"clientConfig": {"service": {"name": "conv"}}},
    }
    out = defaulted("apiextensions.k8s.io/customresourcedefinitions", c)
    assert out["spec"]["conversion"]["webhook"]["clientConfig"]["service"] == {"name": "conv", "port": 443}


def test_crd_create_resets_status() -> None:
    c = defaulted("apiextensions.k8s.io/customresourcedefinitions", crd())
    c["status"]["conditions"] = [{"type": "Established", "status": "True"}]
    defaults.prepare_for_create("apiextensions.k8s.io/customresourcedefinitions", c)
    assert c["status"] == {"acceptedNames": {"kind": "", "plural": ""}, "storedVersions": ["v1"]}


# --- custom resources --------------------------------------------------------------------------------------


WIDGET_SCHEMA = Schema(
    {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "default": {},
                "properties": {
                    "replicas": {"type": "integer", "default": 1},
                    "mode": {"type": "string", "default": "fast"},
                    "note": {"type": "string", "nullable": True, "default": "n"},
                    "tags": {"type": "array", "items": {"type": "string", "default": "untagged"}},
                    "ports": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"protocol": {"type": "string", "default": "TCP"}},
                        },
                    },
                    "limits": {"type": "object", "additionalProperties": {"type": "integer", "default": 0}},
                    "extra": {"type": "string"},
                },
            },
            "status": {"type": "object"},
        },
    }
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, {"spec": {"replicas": 1, "mode": "fast", "note": "n"}}),
        ({"spec": None}, {"spec": {"replicas": 1, "mode": "fast", "note": "n"}}),
        ({"spec": {"replicas": 3, "note": None}}, {"spec": {"replicas": 3, "mode": "fast", "note": None}}),
        ({"spec": {"replicas": None, "extra": None}}, {"spec": {"replicas": 1, "mode": "fast", "note": "n"}}),
        (
            {"spec": {"tags": ["a", None]}},
            {"spec": {"tags": ["a", "untagged"], "replicas": 1, "mode": "fast", "note": "n"}},
        ),
        (
            {"spec": {"ports": [{}, {"protocol": "UDP"}]}},
            {
                "spec": {
                    "ports": [{"protocol": "TCP"}, {"protocol": "UDP"}],
                    "replicas": 1,
                    "mode": "fast",
                    "note": "n",
                }
            },
        ),
        (
            {"spec": {"limits": {"cpu": None, "mem": 2}}},
            {"spec": {"limits": {"cpu": 0, "mem": 2}, "replicas": 1, "mode": "fast", "note": "n"}},
        ),
    ],
)
def test_schema_defaults(given: dict[str, Any], expected: dict[str, Any]) -> None:
    defaults.apply_schema_defaults(WIDGET_SCHEMA, given)
    assert given == expected


def test_schema_defaults_are_copies() -> None:
    first: dict[str, Any] = {}
    second: dict[str, Any] = {}
    defaults.apply_schema_defaults(WIDGET_SCHEMA, first)
    defaults.apply_schema_defaults(WIDGET_SCHEMA, second)
    first["spec"]["mode"] = "changed"
    assert second["spec"]["mode"] == "fast"
    assert WIDGET_SCHEMA.properties["spec"]["default"] == {}


def test_schema_defaults_leave_standard_metadata_alone() -> None:
    from gitops_lab.sandbox.schemas import for_type

    schema = for_type(None, {"type": "object", "properties": {"spec": {"type": "object"}}})
    obj = {"metadata": {"name": "w", "labels": None}, "spec": {}}
    defaults.apply_schema_defaults(schema, obj)
    assert obj == {"metadata": {"name": "w", "labels": None}, "spec": {}}


# --- registry strategy touches ------------------------------------------------------------------------------


def test_namespace_create_adds_the_kubernetes_finalizer_once() -> None:
    ns: dict[str, Any] = {"metadata": {"name": "dev"}}
    defaults.prepare_for_create("namespaces", ns)
    defaults.prepare_for_create("namespaces", ns)
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}


def test_namespace_update_keeps_stored_finalizers_and_status() -> None:
    old = {
        "metadata": {"name": "dev"},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Terminating"},
    }
    new = {"metadata": {"name": "dev"}, "spec": {"finalizers": []}, "status": {"phase": "Active"}}
    defaults.prepare_for_update("namespaces", new, old)
    assert new["spec"] == {"finalizers": ["kubernetes"]}
    assert new["status"] == {"phase": "Terminating"}


@pytest.mark.parametrize(
    ("key", "status"),
    [
        ("apps/deployments", {}),
        ("apps/replicasets", {"replicas": 0}),
        ("services", {"loadBalancer": {}}),
    ],
)
def test_create_resets_status(key: str, status: dict[str, Any]) -> None:
    obj: dict[str, Any] = {"spec": {}, "status": {"replicas": 7, "conditions": [{"type": "Available"}]}}
    defaults.prepare_for_create(key, obj)
    assert obj["status"] == status


def test_update_keeps_stored_status() -> None:
    old = {"spec": {"replicas": 1}, "status": {"replicas": 1}}
    new = {"spec": {"replicas": 2}, "status": {"replicas": 9}}
    defaults.prepare_for_update("apps/deployments", new, old)
    assert new == {"spec": {"replicas": 2}, "status": {"replicas": 1}}
    configmap = {"data": {}, "status": "whatever"}
    defaults.prepare_for_update("configmaps", configmap, {"data": {}})
    assert configmap["status"] == "whatever"


def test_service_create_mirrors_cluster_ip() -> None:
    svc = service(clusterIP="10.96.0.20", ports=[{"port": 80}])
    defaults.prepare_for_create("services", svc)
    assert svc["spec"]["clusterIPs"] == ["10.96.0.20"]
    assert svc["status"] == {"loadBalancer": {}}


def allocated_service() -> dict[str, Any]:
    svc = defaulted(
        "services",
        service(type="NodePort", ports=[{"name": "http", "port": 80}, {"name": "https", "port": 443}]),
    )
    svc["spec"].update(clusterIP="10.96.0.20", clusterIPs=["10.96.0.20"])
    svc["spec"]["ports"][0]["nodePort"] = 30080
    svc["spec"]["ports"][1]["nodePort"] = 30443
    return svc


def test_service_replace_keeps_allocated_ips_and_node_ports() -> None:
    old = allocated_service()
    new = defaulted(
        "services",
        service(type="NodePort", ports=[{"name": "https", "port": 443}, {"name": "http", "port": 8080}]),
    )
    defaults.prepare_for_update("services", new, old)
    assert (new["spec"]["clusterIP"], new["spec"]["clusterIPs"]) == ("10.96.0.20", ["10.96.0.20"])
    assert [p["nodePort"] for p in new["spec"]["ports"]] == [30443, 30080]


def test_service_node_port_taken_by_another_port_is_not_reused() -> None:
    old = allocated_service()
    new = defaulted(
        "services",
        service(
            type="NodePort",
            ports=[{"name": "http", "port": 80}, {"name": "https", "port": 443, "nodePort": 30080}],
        ),
    )
    defaults.prepare_for_update("services", new, old)
    assert "nodePort" not in new["spec"]["ports"][0]
    assert new["spec"]["ports"][1]["nodePort"] == 30080


def test_service_switching_to_external_name_drops_allocations() -> None:
    old = allocated_service()
    new = copy.deepcopy(old)
    new["spec"].update(type="ExternalName", externalName="db.example.com")
    defaults.prepare_for_update("services", new, old)
    spec = new["spec"]
    for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        assert key not in spec
    assert all("nodePort" not in p for p in spec["ports"])


def test_service_switching_to_cluster_ip_drops_node_ports_only_when_unchanged() -> None:
    old = allocated_service()
    unchanged, changed = copy.deepcopy(old), copy.deepcopy(old)
    unchanged["spec"]["type"] = changed["spec"]["type"] = "ClusterIP"
    changed["spec"]["ports"][0]["nodePort"] = 31000
    defaults.prepare_for_update("services", unchanged, old)
    defaults.prepare_for_update("services", changed, old)
    assert all("nodePort" not in p for p in unchanged["spec"]["ports"])
    assert changed["spec"]["ports"][0]["nodePort"] == 31000
    assert unchanged["spec"]["clusterIP"] == "10.96.0.20"


def test_garbage_does_not_raise() -> None:
    for key in (
        "pods",
        "apps/deployments",
        "services",
        "secrets",
        "namespaces",
        "nodes",
        "endpoints",
        "apiextensions.k8s.io/customresourcedefinitions",
    ):
        for obj in (
            {"spec": "x", "metadata": 3, "status": []},
            {"spec": {"template": {"spec": {"containers": 1}}}},
            {"spec": {"ports": [1, None], "containers": [None, {"resources": []}]}},
        ):
            defaults.apply_defaults(key, copy.deepcopy(obj))
            defaults.prepare_for_create(key, copy.deepcopy(obj))


# --- idempotence --------------------------------------------------------------------------------------------

names = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
maybe = st.one_of(st.none(), st.just(""))
quantities = st.one_of(
    st.sampled_from(["100m", "0.5", "1", "1Gi", "1536Mi", "2000m", "0.0001"]),
    st.integers(0, 4096),
    st.floats(0, 8, allow_nan=False).map(lambda f: round(f, 5)),
)
ports = st.fixed_dictionaries(
    {"containerPort": st.integers(1, 65535)},
    optional={"protocol": st.sampled_from(["TCP", "UDP", ""]), "hostPort": st.integers(0, 65535)},
)
probes = st.fixed_dictionaries(
    {},
    optional={
        "httpGet": st.fixed_dictionaries(
            {"port": st.integers(1, 65535)}, optional={"path": st.sampled_from(["", "/x"])}
        ),
        "periodSeconds": st.integers(0, 30),
        "timeoutSeconds": st.integers(0, 5),
        "grpc": st.just({"port": 9000}),
    },
)
containers = st.fixed_dictionaries(
    {"name": names, "image": st.sampled_from(["nginx", "nginx:1.27", "app@sha256:" + "b" * 64, "x:latest"])},
    optional={
        "imagePullPolicy": st.sampled_from(["Always", "Never", ""]),
        "ports": st.lists(ports, max_size=2),
        "resources": st.fixed_dictionaries(
            {},
            optional={
                "limits": st.dictionaries(st.sampled_from(["cpu", "memory"]), quantities, max_size=2),
                "requests": st.dictionaries(st.sampled_from(["cpu", "memory"]), quantities, max_size=2),
            },
        ),
        "livenessProbe": probes,
        "readinessProbe": probes,
        "env": st.lists(
            st.fixed_dictionaries({"name": names, "valueFrom": st.just({"fieldRef": {"fieldPath": "x"}})}),
            max_size=1,
        ),
    },
)
volumes = st.fixed_dictionaries(
    {"name": names},
    optional={
        "secret": st.fixed_dictionaries({"secretName": names}, optional={"defaultMode": st.integers(0, 511)}),
        "hostPath": st.just({"path": "/tmp"}),
    },
)
pod_specs = st.fixed_dictionaries(
    {"containers": st.lists(containers, min_size=1, max_size=3)},
    optional={
        "initContainers": st.lists(containers, max_size=1),
        "volumes": st.lists(volumes, max_size=2),
        "restartPolicy": st.sampled_from(["Always", "Never", ""]),
        "hostNetwork": st.booleans(),
        "terminationGracePeriodSeconds": st.one_of(st.none(), st.integers(0, 60)),
        "dnsPolicy": maybe,
        "securityContext": st.one_of(st.none(), st.just({"runAsUser": 1000})),
    },
)
service_specs = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName", ""]),
        "clusterIP": st.sampled_from(["None", "10.96.0.1", ""]),
        "selector": st.dictionaries(names, names, max_size=1),
        "sessionAffinity": st.sampled_from(["None", "ClientIP"]),
        "ports": st.lists(
            st.fixed_dictionaries(
                {"port": st.integers(1, 65535)},
                optional={"targetPort": st.one_of(st.integers(0, 65535), names), "protocol": maybe},
            ),
            max_size=2,
        ),
        "externalIPs": st.lists(st.just("192.0.2.1"), max_size=1),
    },
)
objects = st.one_of(
    st.tuples(st.just("pods"), pod_specs.map(lambda s: {"metadata": {"name": "p"}, "spec": s})),
    st.tuples(st.just("apps/deployments"), pod_specs.map(lambda s: {"spec": {"template": {"spec": s}}})),
    st.tuples(st.just("apps/replicasets"), pod_specs.map(lambda s: {"spec": {"template": {"spec": s}}})),
    st.tuples(st.just("services"), service_specs.map(lambda s: {"spec": s})),
    st.tuples(
        st.just("secrets"),
        st.dictionaries(names, names, max_size=2).map(lambda d: {"stringData": d, "data": {"a": "YQ=="}}),
    ),
    st.tuples(st.just("namespaces"), names.map(lambda n: {"metadata": {"name": n}})),
    st.tuples(
        st.just("nodes"),
        st.dictionaries(st.sampled_from(["cpu", "memory"]), quantities).map(
            lambda c: {"status": {"capacity": c}}
        ),
    ),
    st.tuples(st.just("apiextensions.k8s.io/customresourcedefinitions"), st.just(crd())),
)


@settings(max_examples=300, deadline=None)
@given(objects)
def test_defaults_are_idempotent(case: tuple[str, dict[str, Any]]) -> None:
    key, obj = case
    once = defaulted(key, obj)
    twice = defaulted(key, once)
    assert twice == once


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(
                st.sampled_from(["spec", "replicas", "mode", "tags", "ports", "limits", "x"]),
                inner,
                max_size=4,
            ),
        ),
        max_leaves=12,
    )
)
def test_schema_defaults_are_idempotent(value: Any) -> None:
    obj = {"spec": value}
    defaults.apply_schema_defaults(WIDGET_SCHEMA, obj)
    again = copy.deepcopy(obj)
    defaults.apply_schema_defaults(WIDGET_SCHEMA, again)
    assert again == obj
