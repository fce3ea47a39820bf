"""Validation as kube-apiserver v1.37 words it: causes for built-in kinds, CRDs and custom resources, JSON
decoding errors, unknown fields and pruning."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lab.sandbox import defaults, statuses, validation
from gitops_lab.sandbox.registry import ResourceType, builtin_types, types_from_crd
from gitops_lab.sandbox.schemas import definition, for_type

TYPES = builtin_types()
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation "
    "is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)


def causes(
    key_or_rt: str | ResourceType,
    obj: dict[str, Any],
    old: dict[str, Any] | None = None,
    *,
    default: bool = True,
) -> list[tuple[str, str, str]]:
    """(reason, field, message) of each cause, after defaulting (and a create's preparation) the way the API
    layer does."""
    rt = TYPES[key_or_rt] if isinstance(key_or_rt, str) else key_or_rt
    obj = copy.deepcopy(obj)
    if default:
        defaults.apply_defaults(rt.key, obj)
        if old is None:
            defaults.prepare_for_create(rt.key, obj)
    return [(c["reason"], c["field"], c["message"]) for c in validation.validate(rt, obj, old)]


def stored(key: str, obj: dict[str, Any]) -> dict[str, Any]:
    """What a create leaves in storage: defaulted, with a resourceVersion."""
    obj = copy.deepcopy(obj)
    defaults.apply_defaults(key, obj)
    obj["metadata"]["resourceVersion"] = "7"
    obj["metadata"]["uid"] = "0e7a5c2e-7a5f-4c43-9d8b-3f1e0f3d3f11"
    return obj


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web", "tier": "frontend"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.27",
                            "ports": [{"containerPort": 80, "name": "http"}],
                            "env": [{"name": "MODE", "value": "prod"}],
                            "resources": {
                                "requests": {"cpu": "100m"},
                                "limits": {"cpu": "500m", "memory": "128Mi"},
                            },
                            "readinessProbe": {"httpGet": {"port": "http", "path": "/healthz"}},
                            "volumeMounts": [{"name": "config", "mountPath": "/etc/web"}],
                        }
                    ],
                    "volumes": [{"name": "config", "configMap": {"name": "web"}}],
                },
            },
        },
    }


def pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "default"},
        "spec": {
            "containers": [{"name": "web", "image": "nginx:1.27"}],
            "tolerations": [{"key": "a", "operator": "Exists", "effect": "NoSchedule"}],
        },
    }


def service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
    }


def crd() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd"]},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {
                        "status": {},
                        "scale": {
                            "specReplicasPath": ".spec.replicas",
                            "statusReplicasPath": ".status.replicas",
                        },
                    },
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "required": ["size"],
                                    "properties": {
                                        "replicas": {"type": "integer", "minimum": 0, "default": 1},
                                        "size": {"type": "string", "enum": ["S", "M", "L"]},
                                        "name": {
                                            "type": "string",
                                            "pattern": "^[a-z]+$",
                                            "maxLength": 8,
                                            "minLength": 2,
                                        },
                                        "ratio": {
                                            "type": "number",
                                            "maximum": 1.5,
                                            "exclusiveMinimum": True,
                                            "minimum": 0,
                                        },
                                        "owner": {"type": "string", "nullable": True},
                                        "tags": {
                                            "type": "array",
                                            "maxItems": 2,
                                            "x-kubernetes-list-type": "set",
                                            "items": {"type": "string"},
                                        },
                                        "ports": {
                                            "type": "array",
                                            "x-kubernetes-list-type": "map",
                                            "x-kubernetes-list-map-keys": ["name"],
                                            "items": {
                                                "type": "object",
                                                "required": ["name"],
                                                "properties": {
                                                    "name": {"type": "string"},
                                                    "port": {"type": "integer"},
                                                },
                                            },
                                        },
                                        "port": {"x-kubernetes-int-or-string": True},
                                        "labels": {
                                            "type": "object",
                                            "additionalProperties": {"type": "string"},
                                        },
                                        "raw": {
                                            "type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True,
                                        },
                                        "template": {
                                            "type": "object",
                                            "x-kubernetes-embedded-resource": True,
                                            "x-kubernetes-preserve-unknown-fields": True,
                                        },
                                    },
                                },
                                "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}},
                            },
                        }
                    },
                }
            ],
        },
    }


WIDGET = types_from_crd(crd())[0]


def widget(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w1", "namespace": "default"},
        "spec": {"size": "M", **spec},
    }


def with_changes(base: Callable[[], dict[str, Any]], *changes: tuple[str, Any]) -> dict[str, Any]:
    """``base()`` with dotted paths set (``None`` deletes); list indexes as numbers."""
    obj = base()
    for path, value in changes:
        *parents, last = path.split(".")
        node: Any = obj
        for step in parents:
            node = node[int(step)] if step.isdigit() else node.setdefault(step, {})
        if value is None:
            del node[int(last) if last.isdigit() else last]
        elif last.isdigit() and int(last) == len(node):
            node.append(value)
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return obj


# --- valid objects pass -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "obj"),
    [
        ("apps/deployments", deployment()),
        ("apps/replicasets", with_changes(deployment, ("kind", "ReplicaSet"))),
        ("pods", pod()),
        ("services", service()),
        (
            "services",
            with_changes(
                service,
                ("spec.type", "ExternalName"),
                ("spec.ports", None),
                ("spec.externalName", "db.example.com."),
            ),
        ),
        ("services", with_changes(service, ("spec.clusterIP", "None"), ("spec.selector", None))),
        (
            "configmaps",
            {
                "metadata": {"name": "web", "namespace": "default"},
                "data": {"nginx.conf": "x", "KEY_1": "y"},
                "binaryData": {"logo.png": "iVBORw=="},
            },
        ),
        (
            "secrets",
            {
                "metadata": {"name": "tls", "namespace": "default"},
                "type": "kubernetes.io/tls",
                "data": {"tls.crt": "Y3J0", "tls.key": "a2V5"},
            },
        ),
        ("namespaces", {"metadata": {"name": "team-a", "labels": {"example.com/owner": "ops"}}}),
        (
            "nodes",
            {
                "metadata": {"name": "node-1.example"},
                "spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]},
            },
        ),
        ("serviceaccounts", {"metadata": {"name": "builder", "namespace": "ci"}}),
        (
            "endpoints",
            {
                "metadata": {"name": "web", "namespace": "default"},
                "subsets": [{"addresses": [{"ip": "10.244.0.5"}], "ports": [{"port": 8080}]}],
            },
        ),
        (
            "events",
            {
                "metadata": {"name": "web.1", "namespace": "default"},
                "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web"},
                "reason": "Pulled",
            },
        ),
        ("apiextensions.k8s.io/customresourcedefinitions", crd()),
    ],
)
def test_valid_objects_have_no_causes(key: str, obj: dict[str, Any]) -> None:
    assert causes(key, obj) == []


def test_valid_custom_resource_has_no_causes() -> None:
    obj = widget(
        replicas=3,
        name="abc",
        ratio=0.5,
        owner=None,
        tags=["a", "b"],
        port="http",
        ports=[{"name": "a", "port": 1}, {"name": "b"}],
        labels={"x": "y"},
        raw={"any": [1, {"x": None}]},
        template={"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}},
    )
    assert causes(WIDGET, obj, default=False) == []


# --- names and metadata -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "name", "expected"),
    [
        (
            "apps/deployments",
            "Web",
            ("FieldValueInvalid", "metadata.name", f'Invalid value: "Web": {SUBDOMAIN_MSG}'),
        ),
        (
            "apps/deployments",
            "a" * 254,
            (
                "FieldValueInvalid",
                "metadata.name",
                f'Invalid value: "{"a" * 254}": must be no more than 253 characters',
            ),
        ),
        ("services", "9web", ("FieldValueInvalid", "metadata.name", f'Invalid value: "9web": {DNS1035_MSG}')),
        (
            "namespaces",
            "a.b",
            ("FieldValueInvalid", "metadata.name", 'Invalid value: "a.b": must not contain dots'),
        ),
        ("namespaces", "Dev", ("FieldValueInvalid", "metadata.name", f'Invalid value: "Dev": {LABEL_MSG}')),
        (
            "configmaps",
            "",
            ("FieldValueRequired", "metadata.name", "Required value: name or generateName is required"),
        ),
    ],
)
def test_names(key: str, name: str, expected: tuple[str, str, str]) -> None:
    obj = {"metadata": {"name": name}}
    if TYPES[key].namespaced:
        obj["metadata"]["namespace"] = "default"
    if key == "apps/deployments":
        obj = with_changes(deployment, ("metadata.name", name))
    if key == "services":
        obj = with_changes(service, ("metadata.name", name))
    assert expected in causes(key, obj)


def test_events_get_only_path_segment_name_checks() -> None:
    event = {
        "metadata": {"name": "Web.1 x", "namespace": "default"},
        "involvedObject": {"namespace": "default"},
    }
    assert causes("events", event) == []
    slash = with_changes(lambda: event, ("metadata.name", "a/b"))
    assert causes("events", slash) == [
        ("FieldValueInvalid", "metadata.name", "Invalid value: \"a/b\": may not contain '/'")
    ]


def test_event_namespace_must_match_its_object() -> None:
    event = {"metadata": {"name": "e", "namespace": "default"}, "involvedObject": {"namespace": "other"}}
    assert causes("events", event) == [
        (
            "FieldValueInvalid",
            "involvedObject.namespace",
            'Invalid value: "other": does not match event.namespace',
        )
    ]


def test_namespace_is_required_for_namespaced_kinds_and_forbidden_otherwise() -> None:
    assert ("FieldValueRequired", "metadata.namespace", "Required value") in causes(
        "configmaps", {"metadata": {"name": "c"}}
    )
    assert ("FieldValueForbidden", "metadata.namespace", "Forbidden: not allowed on this type") in causes(
        "nodes", {"metadata": {"name": "n", "namespace": "default"}}
    )


def test_labels_and_annotations() -> None:
    obj = {
        "metadata": {
            "name": "c",
            "namespace": "d",
            "labels": {"app": "web", "bad key": "ok", "ok": "-bad"},
            "annotations": {"example.com/fine": "x" * 100, "a/b/c": ""},
        }
    }
    found = causes("configmaps", obj)
    assert found[0] == (
        "FieldValueInvalid",
        "metadata.labels",
        "Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and "
        "must "
        "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
        "used for "
        "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    )
    assert found[1][:2] == ("FieldValueInvalid", "metadata.labels")
    assert found[1][2].startswith(
        'Invalid value: "-bad": a valid label must be an empty string or consist of'
    )
    assert found[2][1:] == (
        "metadata.annotations",
        'Invalid value: "a/b/c": a valid label key must consist of '
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and "
        "'/' (e.g. 'example.com/MyName')",
    )
    assert len(found) == 3


def test_label_key_prefix_and_length() -> None:
    obj = {"metadata": {"name": "c", "namespace": "d", "labels": {"Example.com/x": "1", "x" * 64: "2"}}}
    messages = [m for _, _, m in causes("configmaps", obj)]
    assert messages[0].startswith(
        'Invalid value: "Example.com/x": prefix part a lowercase RFC 1123 subdomain'
    )
    assert messages[1] == f'Invalid value: "{"x" * 64}": name part must be no more than 63 bytes'


def test_annotations_total_size() -> None:
    obj = {"metadata": {"name": "c", "namespace": "d", "annotations": {"big": "x" * (256 * 1024)}}}
    assert causes("configmaps", obj) == [
        ("FieldValueTooLong", "metadata.annotations", "Too long: may not be more than 262144 bytes")
    ]


def test_finalizers_and_owner_references() -> None:
    obj = {
        "metadata": {
            "name": "c",
            "namespace": "d",
            "finalizers": ["kubernetes", "example.com/cleanup", "mine"],
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs"}],
        }
    }
    assert causes("configmaps", obj) == [
        ("FieldValueRequired", "metadata.ownerReferences[0].uid", "Required value: must not be empty"),
        (
            "FieldValueInvalid",
            "metadata.finalizers[2]",
            'Invalid value: "mine": name is neither a standard finalizer name nor is it fully qualified',
        ),
    ]


# --- workloads ----------------------------------------------------------------------------------------------


MISMATCH = "`selector` does not match template `labels`"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            (("spec.selector", None),),
            [
                ("FieldValueRequired", "spec.selector", "Required value"),
                (
                    "FieldValueInvalid",
                    "spec.template.metadata.labels",
                    f'Invalid value: {{"app":"web","tier":"frontend"}}: {MISMATCH}',
                ),
            ],
        ),
        (
            (("spec.selector", {}),),
            [
                (
                    "FieldValueInvalid",
                    "spec.selector",
                    "Invalid value: {}: empty selector is invalid for deployment",
                )
            ],
        ),
        (
            (("spec.template.metadata.labels", {"app": "api"}),),
            [
                (
                    "FieldValueInvalid",
                    "spec.template.metadata.labels",
                    f'Invalid value: {{"app":"api"}}: {MISMATCH}',
                )
            ],
        ),
        (
            (("spec.template.metadata", {}),),
            [("FieldValueInvalid", "spec.template.metadata.labels", f"Invalid value: null: {MISMATCH}")],
        ),
        (
            (
                (
                    "spec.selector",
                    {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}]},
                ),
            ),
            [
                (
                    "FieldValueInvalid",
                    "spec.template.metadata.labels",
                    f'Invalid value: {{"app":"web","tier":"frontend"}}: {MISMATCH}',
                )
            ],
        ),
        (
            (
                (
                    "spec.selector",
                    {
                        "matchExpressions": [
                            {"key": "tier", "operator": "Exists"},
                            {"key": "env", "operator": "DoesNotExist"},
                            {"key": "app", "operator": "NotIn", "values": ["api"]},
                        ]
                    },
                ),
            ),
            [],
        ),
        (
            (("spec.selector", {"matchExpressions": [{"key": "tier", "operator": "Has"}]}),),
            [
                (
                    "FieldValueInvalid",
                    "spec.selector.matchExpressions[0].operator",
                    'Invalid value: "Has": not a valid selector operator',
                ),
                (
                    "FieldValueInvalid",
                    "spec.selector",
                    'Invalid value: {"matchExpressions":[{"key":"tier","operator":"Has"}]}: invalid label '
                    "selector",
                ),
            ],
        ),
        (
            (("spec.selector", {"matchExpressions": [{"key": "tier", "operator": "In"}]}),),
            [
                (
                    "FieldValueRequired",
                    "spec.selector.matchExpressions[0].values",
                    "Required value: must be specified when `operator` is 'In' or 'NotIn'",
                ),
                (
                    "FieldValueInvalid",
                    "spec.selector",
                    'Invalid value: {"matchExpressions":[{"key":"tier","operator":"In"}]}: invalid label '
                    "selector",
                ),
            ],
        ),
        (
            (("spec.replicas", -1),),
            [("FieldValueInvalid", "spec.replicas", "Invalid value: -1: must be greater than or equal to 0")],
        ),
        (
            (("spec.template.spec.containers", []),),
            [("FieldValueRequired", "spec.template.spec.containers", "Required value")],
        ),
        (
            (("spec.template.spec.containers.0.name", ""), ("spec.template.spec.containers.0.image", "")),
            [
                ("FieldValueRequired", "spec.template.spec.containers[0].name", "Required value"),
                ("FieldValueRequired", "spec.template.spec.containers[0].image", "Required value"),
            ],
        ),
        (
            (("spec.template.spec.containers.0.name", "Web_1"),),
            [
                (
                    "FieldValueInvalid",
                    "spec.template.spec.containers[0].name",
                    f'Invalid value: "Web_1": {LABEL_MSG}',
                )
            ],
        ),
        (
            (("spec.template.spec.restartPolicy", "OnFailure"),),
            [
                (
                    "FieldValueNotSupported",
                    "spec.template.spec.restartPolicy",
                    'Unsupported value: "OnFailure": supported values: "Always"',
                )
            ],
        ),
        (
            (("spec.template.spec.restartPolicy", "Sometimes"),),
            [
                (
                    "FieldValueNotSupported",
                    "spec.template.spec.restartPolicy",
                    'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
                ),
                (
                    "FieldValueNotSupported",
                    "spec.template.spec.restartPolicy",
                    'Unsupported value: "Sometimes": supported values: "Always"',
                ),
            ],
        ),
        (
            (("spec.template.spec.activeDeadlineSeconds", 30),),
            [
                (
                    "FieldValueForbidden",
                    "spec.template.spec.activeDeadlineSeconds",
                    "Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported",
                )
            ],
        ),
        (
            (("spec.strategy", {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}),),
            [
                (
                    "FieldValueForbidden",
                    "spec.strategy.rollingUpdate",
                    "Forbidden: may not be specified when strategy `type` is 'Recreate'",
                )
            ],
        ),
        (
            (("spec.strategy", {"type": "BlueGreen"}),),
            [
                (
                    "FieldValueNotSupported",
                    "spec.strategy",
                    'Unsupported value: {"Type":"BlueGreen","RollingUpdate":null}: '
                    'supported values: "Recreate", "RollingUpdate"',
                )
            ],
        ),
        (
            (("spec.strategy", {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}),),
            [
                (
                    "FieldValueInvalid",
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    'Invalid value: "0%": may not be 0 when `maxSurge` is 0',
                )
            ],
        ),
        (
            (("spec.strategy", {"rollingUpdate": {"maxSurge": "x", "maxUnavailable": "150%"}}),),
            [
                (
                    "FieldValueInvalid",
                    "spec.strategy.rollingUpdate.maxSurge",
                    'Invalid value: "x": a valid percent string must be a numeric string followed by an '
                    "ending '%' "
                    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                ),
                (
                    "FieldValueInvalid",
                    "spec.strategy.rollingUpdate.maxUnavailable",
                    'Invalid value: "150%": must not be greater than 100%',
                ),
            ],
        ),
        (
            (("spec.minReadySeconds", 600),),
            [
                (
                    "FieldValueInvalid",
                    "spec.progressDeadlineSeconds",
                    "Invalid value: 600: must be greater than minReadySeconds",
                )
            ],
        ),
    ],
)
def test_deployment_spec(changes: tuple[tuple[str, Any], ...], expected: list[tuple[str, str, str]]) -> None:
    assert causes("apps/deployments", with_changes(deployment, *changes)) == expected


POD_SPEC = "spec.template.spec"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            (
                (
                    f"{POD_SPEC}.containers.0.ports",
                    [{"containerPort": 0}, {"containerPort": 70000, "protocol": "HTTP"}],
                ),
            ),
            [
                ("FieldValueRequired", f"{POD_SPEC}.containers[0].ports[0].containerPort", "Required value"),
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.containers[0].ports[1].containerPort",
                    "Invalid value: 70000: must be between 1 and 65535, inclusive",
                ),
                (
                    "FieldValueNotSupported",
                    f"{POD_SPEC}.containers[0].ports[1].protocol",
                    'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
                ),
            ],
        ),
        (
            ((f"{POD_SPEC}.containers.0.ports", [{"containerPort": 80, "name": "Metrics_port--1-"}]),),
            [
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.containers[0].ports[0].name",
                    'Invalid value: "Metrics_port--1-": must be no more than 15 characters',
                ),
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.containers[0].ports[0].name",
                    'Invalid value: "Metrics_port--1-": must contain only alpha-numeric characters (a-z, '
                    "0-9), and hyphens "
                    "(-)",
                ),
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.containers[0].ports[0].name",
                    'Invalid value: "Metrics_port--1-": must not contain consecutive hyphens',
                ),
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.containers[0].ports[0].name",
                    'Invalid value: "Metrics_port--1-": must not begin or end with a hyphen',
                ),
            ],
        ),
        (
            ((f"{POD_SPEC}.containers.0.ports", [{"containerPort": 80, "name": "8080"}]),),
            [
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.containers[0].ports[0].name",
                    'Invalid value: "8080": must contain at least one letter (a-z)',
                )
            ],
        ),
        (
            ((f"{POD_SPEC}.containers.0.imagePullPolicy", "Sometimes"),),
            [
                (
                    "FieldValueNotSupported",
                    f"{POD_SPEC}.containers[0].imagePullPolicy",
                    'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
                )
            ],
        ),
        (
            ((f"{POD_SPEC}.containers.0.volumeMounts", [{"name": "data", "mountPath": "/data"}]),),
            [("FieldValueNotFound", f"{POD_SPEC}.containers[0].volumeMounts[0].name", 'Not found: "data"')],
        ),
        (
            (
                (
                    f"{POD_SPEC}.volumes",
                    [
                        {"name": "config", "configMap": {"name": "web"}, "secret": {"secretName": "s"}},
                        {"name": "cache", "emptyDir": {}},
                        {"name": "cache", "emptyDir": {}},
                    ],
                ),
            ),
            [
                (
                    "FieldValueForbidden",
                    f"{POD_SPEC}.volumes[0].configMap",
                    "Forbidden: may not specify more than 1 volume type",
                ),
                ("FieldValueDuplicate", f"{POD_SPEC}.volumes[2].name", 'Duplicate value: "cache"'),
                (
                    "FieldValueNotFound",
                    f"{POD_SPEC}.containers[0].volumeMounts[0].name",
                    'Not found: "config"',
                ),
            ],
        ),
        (
            ((f"{POD_SPEC}.containers.0.env", [{"name": ""}, {"name": "A=B", "value": "x"}]),),
            [
                ("FieldValueRequired", f"{POD_SPEC}.containers[0].env[0].name", "Required value"),
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.containers[0].env[0].name",
                    'Invalid value: "": environment variable name must be non-empty',
                ),
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.containers[0].env[1].name",
                    'Invalid value: "A=B": a valid environment variable name must consist only of printable '
                    "ASCII "
                    "characters other than '='",
                ),
            ],
        ),
        (
            ((f"{POD_SPEC}.containers.0.resources", {"limits": {"cpu": "1"}, "requests": {"cpu": "2"}}),),
            [
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.containers[0].resources.requests",
                    'Invalid value: "2": must be less than or equal to cpu limit of 1',
                )
            ],
        ),
        (
            (
                (
                    f"{POD_SPEC}.containers.0.resources",
                    {"limits": {"gpu": "1"}, "requests": {"example.com/gpu": "1"}},
                ),
            ),
            [
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.containers[0].resources.limits[gpu]",
                    'Invalid value: "gpu": must be a standard resource for containers',
                ),
                (
                    "FieldValueRequired",
                    f"{POD_SPEC}.containers[0].resources.limits",
                    "Required value: Limit must be set for non overcommitable resources",
                ),
            ],
        ),
        (
            (
                (
                    f"{POD_SPEC}.containers.0.readinessProbe",
                    {"exec": {"command": []}, "tcpSocket": {"port": 80}},
                ),
            ),
            [
                (
                    "FieldValueRequired",
                    f"{POD_SPEC}.containers[0].readinessProbe.exec.command",
                    "Required value",
                ),
                (
                    "FieldValueForbidden",
                    f"{POD_SPEC}.containers[0].readinessProbe.tcpSocket",
                    "Forbidden: may not specify more than 1 handler type",
                ),
            ],
        ),
        (
            ((f"{POD_SPEC}.containers.0.livenessProbe", {"httpGet": {"port": 0}, "successThreshold": 2}),),
            [
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.containers[0].livenessProbe.httpGet.port",
                    "Invalid value: 0: must be between 1 and 65535, inclusive",
                ),
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.containers[0].livenessProbe.successThreshold",
                    "Invalid value: 2: must be 1",
                ),
            ],
        ),
        (
            (
                (
                    f"{POD_SPEC}.containers.1",
                    {"name": "web", "image": "busybox", "ports": [{"containerPort": 80, "hostPort": 8080}]},
                ),
                (f"{POD_SPEC}.containers.0.ports.0.hostPort", 8080),
            ),
            [
                ("FieldValueDuplicate", f"{POD_SPEC}.containers[1].name", 'Duplicate value: "web"'),
                (
                    "FieldValueDuplicate",
                    f"{POD_SPEC}.containers[1].ports[0].hostPort",
                    'Duplicate value: "TCP//8080"',
                ),
            ],
        ),
        (
            (
                (
                    f"{POD_SPEC}.initContainers",
                    [{"name": "web", "image": "busybox", "livenessProbe": {"exec": {"command": ["true"]}}}],
                ),
            ),
            [
                ("FieldValueDuplicate", f"{POD_SPEC}.initContainers[0].name", 'Duplicate value: "web"'),
                (
                    "FieldValueForbidden",
                    f"{POD_SPEC}.initContainers[0].livenessProbe",
                    "Forbidden: may not be set for init containers without restartPolicy=Always",
                ),
            ],
        ),
        (
            ((f"{POD_SPEC}.dnsPolicy", "None"),),
            [
                (
                    "FieldValueRequired",
                    f"{POD_SPEC}.dnsConfig",
                    "Required value: must provide `dnsConfig` when `dnsPolicy` is None",
                )
            ],
        ),
        (
            (
                (
                    f"{POD_SPEC}.tolerations",
                    [
                        {"operator": "Equal", "value": "x"},
                        {"key": "k", "tolerationSeconds": 5, "effect": "NoSchedule"},
                    ],
                ),
            ),
            [
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.tolerations[0].operator",
                    'Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match '
                    "all values "
                    'and all keys"',
                ),
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.tolerations[1].effect",
                    "Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is "
                    "set",
                ),
            ],
        ),
        (
            ((f"{POD_SPEC}.serviceAccountName", "Builder"), (f"{POD_SPEC}.hostname", "web.1")),
            [
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.serviceAccountName",
                    f'Invalid value: "Builder": {SUBDOMAIN_MSG}',
                ),
                (
                    "FieldValueInvalid",
                    f"{POD_SPEC}.hostname",
                    'Invalid value: "web.1": must not contain dots',
                ),
            ],
        ),
    ],
)
def test_pod_template_spec(
    changes: tuple[tuple[str, Any], ...], expected: list[tuple[str, str, str]]
) -> None:
    assert causes("apps/deployments", with_changes(deployment, *changes)) == expected


def test_replicaset_spec() -> None:
    rs = with_changes(deployment, ("kind", "ReplicaSet"), ("spec.minReadySeconds", -5), ("spec.selector", {}))
    assert causes("apps/replicasets", rs) == [
        (
            "FieldValueInvalid",
            "spec.minReadySeconds",
            "Invalid value: -5: must be greater than or equal to 0",
        ),
        ("FieldValueInvalid", "spec.selector", "Invalid value: {}: empty selector is invalid for deployment"),
    ]


# --- pods ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            (("spec.containers.0.image", " nginx"),),
            [
                (
                    "FieldValueInvalid",
                    "spec.containers[0].image",
                    'Invalid value: " nginx": must not have leading or trailing whitespace',
                )
            ],
        ),
        (
            (
                ("spec.hostNetwork", True),
                ("spec.containers.0.ports", [{"containerPort": 80, "hostPort": 81}]),
            ),
            [
                (
                    "FieldValueInvalid",
                    "spec.containers[0].ports[0].hostPort",
                    "Invalid value: 81: must match `containerPort` when `hostNetwork` is true",
                )
            ],
        ),
        (
            (("spec.ephemeralContainers", [{"name": "debug", "image": "busybox"}]),),
            [("FieldValueForbidden", "spec.ephemeralContainers", "Forbidden: cannot be set on create")],
        ),
        (
            (("spec.activeDeadlineSeconds", 0),),
            [
                (
                    "FieldValueInvalid",
                    "spec.activeDeadlineSeconds",
                    "Invalid value: 0: must be between 1 and 2147483647, inclusive",
                )
            ],
        ),
        (
            (
                (
                    "spec.volumes",
                    [{"name": "t", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}],
                ),
            ),
            [
                (
                    "FieldValueForbidden",
                    "spec.volumes[0].projected.sources[0].serviceAccountToken",
                    "Forbidden: must not be specified when serviceAccountName is not set",
                )
            ],
        ),
    ],
)
def test_pod_create(changes: tuple[tuple[str, Any], ...], expected: list[tuple[str, str, str]]) -> None:
    assert causes("pods", with_changes(pod, *changes)) == expected


def test_pod_update_may_change_image_deadline_and_add_tolerations() -> None:
    old = stored("pods", pod())
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "nginx:1.28"
    new["spec"]["activeDeadlineSeconds"] = 60
    new["spec"]["tolerations"].append({"key": "b", "operator": "Exists"})
    new["metadata"]["labels"] = {"rolled": "yes"}
    assert causes("pods", new, old) == []


def test_pod_update_of_other_fields_is_forbidden() -> None:
    old = stored("pods", pod())
    new = copy.deepcopy(old)
    new["spec"]["restartPolicy"] = "Never"
    (found,) = causes("pods", new, old)
    assert found[:2] == ("FieldValueForbidden", "spec")
    assert found[2].startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
        "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
        "previously "
        "negative)\n"
    )
    assert 'RestartPolicy: "Never"' in found[2]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda s: s["containers"].append({"name": "b", "image": "x"}),
            (
                "FieldValueForbidden",
                "spec.containers",
                "Forbidden: pod updates may not add or remove containers",
            ),
        ),
        (
            lambda s: s.update(tolerations=[]),
            (
                "FieldValueForbidden",
                "spec.tolerations",
                "Forbidden: existing toleration can not be modified except its tolerationSeconds",
            ),
        ),
        (
            lambda s: s["containers"][0].update(image=""),
            ("FieldValueRequired", "spec.containers[0].image", "Required value"),
        ),
    ],
)
def test_pod_update_limits(change: Callable[[dict[str, Any]], None], expected: tuple[str, str, str]) -> None:
    old = stored("pods", pod())
    new = copy.deepcopy(old)
    change(new["spec"])
    assert expected in causes("pods", new, old)


def test_pod_active_deadline_may_only_shrink() -> None:
    old = stored("pods", with_changes(pod, ("spec.activeDeadlineSeconds", 60)))
    longer, removed = copy.deepcopy(old), copy.deepcopy(old)
    longer["spec"]["activeDeadlineSeconds"] = 120
    del removed["spec"]["activeDeadlineSeconds"]
    assert causes("pods", longer, old) == [
        (
            "FieldValueInvalid",
            "spec.activeDeadlineSeconds",
            "Invalid value: 120: must be less than or equal to previous value",
        )
    ]
    assert (
        "FieldValueInvalid",
        "spec.activeDeadlineSeconds",
        "Invalid value: null: must not update from a positive integer to nil value",
    ) in causes("pods", removed, old)


# --- updates in general -------------------------------------------------------------------------------------


def test_update_checks_common_metadata_first() -> None:
    old = stored("apps/deployments", deployment())
    new = copy.deepcopy(old)
    new["metadata"]["name"] = "api"
    new["metadata"]["namespace"] = "prod"
    new["metadata"]["uid"] = "other"
    new["spec"]["replicas"] = -3
    assert causes("apps/deployments", new, old) == [
        ("FieldValueInvalid", "metadata.name", 'Invalid value: "api": field is immutable'),
        ("FieldValueInvalid", "metadata.namespace", 'Invalid value: "prod": field is immutable'),
        ("FieldValueInvalid", "metadata.uid", 'Invalid value: "other": field is immutable'),
    ]


def test_update_needs_a_resource_version() -> None:
    old = stored("configmaps", {"metadata": {"name": "c", "namespace": "d"}})
    new = copy.deepcopy(old)
    del new["metadata"]["resourceVersion"]
    assert causes("configmaps", new, old) == [
        (
            "FieldValueInvalid",
            "metadata.resourceVersion",
            'Invalid value: "": must be specified for an update',
        )
    ]


def test_no_new_finalizers_while_deleting() -> None:
    old = stored("configmaps", {"metadata": {"name": "c", "namespace": "d", "finalizers": ["a.io/x"]}})
    old["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    new = copy.deepcopy(old)
    new["metadata"]["finalizers"] = ["a.io/x", "b.io/y"]
    assert causes("configmaps", new, old) == [
        (
            "FieldValueForbidden",
            "metadata.finalizers",
            "Forbidden: no new finalizers can be added if the object is "
            'being deleted, found new finalizers []string{"b.io/y"}',
        )
    ]


def test_deployment_selector_is_immutable() -> None:
    old = stored("apps/deployments", deployment())
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"tier": "frontend", "app": "web"}}
    assert causes("apps/deployments", new, old) == [
        (
            "FieldValueInvalid",
            "spec.selector",
            'Invalid value: {"matchLabels":{"app":"web","tier":"frontend"}}: field is immutable',
        )
    ]
    same = copy.deepcopy(old)
    same["spec"]["selector"]["matchExpressions"] = []
    same["spec"]["replicas"] = 5
    assert causes("apps/deployments", same, old) == []


def test_replicaset_selector_is_immutable() -> None:
    old = stored("apps/replicasets", with_changes(deployment, ("kind", "ReplicaSet")))
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "frontend"}}
    assert causes("apps/replicasets", new, old)[-1][1:] == (
        "spec.selector",
        'Invalid value: {"matchLabels":{"app":"web","tier":"frontend"}}: field is immutable',
    )


@pytest.mark.parametrize("key", ["configmaps", "secrets"])
def test_immutable_data(key: str) -> None:
    old = stored(key, {"metadata": {"name": "c", "namespace": "d"}, "data": {"a": "eA=="}, "immutable": True})
    new = copy.deepcopy(old)
    new["data"]["a"] = "eQ=="
    new["immutable"] = False
    assert causes(key, new, old) == [
        ("FieldValueForbidden", "immutable", "Forbidden: field is immutable when `immutable` is set"),
        ("FieldValueForbidden", "data", "Forbidden: field is immutable when `immutable` is set"),
    ]
    labelled = copy.deepcopy(old)
    labelled["metadata"]["labels"] = {"a": "b"}
    assert causes(key, labelled, old) == []


def test_secret_type_is_immutable() -> None:
    old = stored("secrets", {"metadata": {"name": "s", "namespace": "d"}})
    new = copy.deepcopy(old)
    new["type"] = "kubernetes.io/basic-auth"
    new["data"] = {"username": "YQ=="}
    assert causes("secrets", new, old) == [
        ("FieldValueInvalid", "type", 'Invalid value: "kubernetes.io/basic-auth": field is immutable')
    ]


def test_service_cluster_ip_is_immutable() -> None:
    old = stored("services", service())
    old["spec"].update(clusterIP="10.96.0.10", clusterIPs=["10.96.0.10"])
    new = copy.deepcopy(old)
    new["spec"].update(clusterIP="10.96.0.11", clusterIPs=["10.96.0.11"])
    assert causes("services", new, old) == [
        ("FieldValueInvalid", "spec.clusterIPs[0]", 'Invalid value: ["10.96.0.11"]: may not change once set')
    ]


def test_namespace_update_checks_only_metadata() -> None:
    old = stored("namespaces", {"metadata": {"name": "dev"}})
    new = copy.deepcopy(old)
    new["spec"] = {"finalizers": ["whatever"]}
    assert causes("namespaces", new, old) == []


# --- services and endpoints ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ((("spec.ports", []),), [("FieldValueRequired", "spec.ports", "Required value")]),
        (
            (("spec.ports", [{"port": 80}, {"port": 443, "name": "https"}]),),
            [("FieldValueRequired", "spec.ports[0].name", "Required value")],
        ),
        (
            (("spec.ports", [{"port": 0, "protocol": "HTTP", "targetPort": 8080}]),),
            [
                (
                    "FieldValueInvalid",
                    "spec.ports[0].port",
                    "Invalid value: 0: must be between 1 and 65535, inclusive",
                ),
                (
                    "FieldValueNotSupported",
                    "spec.ports[0].protocol",
                    'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
                ),
            ],
        ),
        (
            (("spec.ports", [{"port": 80, "name": "a"}, {"port": 80, "name": "b"}]),),
            [
                (
                    "FieldValueDuplicate",
                    "spec.ports[1]",
                    'Duplicate value: {"Name":"","Protocol":"TCP","AppProtocol":null,'
                    '"Port":80,"TargetPort":0,"NodePort":0}',
                )
            ],
        ),
        (
            (("spec.type", "Internal"),),
            [
                (
                    "FieldValueNotSupported",
                    "spec.type",
                    'Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", '
                    '"LoadBalancer", '
                    '"NodePort"',
                )
            ],
        ),
        (
            (("spec.type", "ExternalName"), ("spec.externalName", "Not A Host")),
            [("FieldValueInvalid", "spec.externalName", f'Invalid value: "Not A Host": {SUBDOMAIN_MSG}')],
        ),
        (
            (("spec.ports.0.nodePort", 30080),),
            [
                (
                    "FieldValueForbidden",
                    "spec.ports[0].nodePort",
                    "Forbidden: may not be used when `type` is 'ClusterIP'",
                )
            ],
        ),
        (
            (("spec.sessionAffinity", "Sticky"),),
            [
                (
                    "FieldValueNotSupported",
                    "spec.sessionAffinity",
                    'Unsupported value: "Sticky": supported values: "ClientIP", "None"',
                )
            ],
        ),
        (
            (("spec.clusterIP", "10.96.0.300"),),
            [
                (
                    "FieldValueInvalid",
                    "spec.clusterIPs[0]",
                    'Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or '
                    "2001:db8::ffff)",
                )
            ],
        ),
        (
            (("spec.externalIPs", ["127.0.0.1"]),),
            [
                (
                    "FieldValueInvalid",
                    "spec.externalIPs[0]",
                    'Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
                )
            ],
        ),
        (
            (("spec.type", "NodePort"), ("spec.clusterIP", "None")),
            [
                (
                    "FieldValueInvalid",
                    "spec.clusterIPs[0]",
                    "Invalid value: \"None\": may not be set to 'None' for NodePort services",
                )
            ],
        ),
        (
            (("spec.externalTrafficPolicy", "Local"),),
            [
                (
                    "FieldValueInvalid",
                    "spec.externalTrafficPolicy",
                    'Invalid value: "Local": may only be set for externally-accessible services',
                )
            ],
        ),
    ],
)
def test_service(changes: tuple[tuple[str, Any], ...], expected: list[tuple[str, str, str]]) -> None:
    assert causes("services", with_changes(service, *changes)) == expected


def test_endpoints() -> None:
    ep = {
        "metadata": {"name": "web", "namespace": "d"},
        "subsets": [
            {
                "addresses": [{"ip": "010.0.0.1"}, {"ip": "169.254.1.1", "hostname": "A"}],
                "ports": [{"port": 80}, {"port": 81, "protocol": "ICMP"}],
            },
            {"ports": [{"port": 1}]},
        ],
    }
    assert causes("endpoints", ep) == [
        (
            "FieldValueInvalid",
            "subsets[0].addresses[0].ip",
            'Invalid value: "010.0.0.1": must not have leading 0s',
        ),
        (
            "FieldValueInvalid",
            "subsets[0].addresses[1].ip",
            'Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
        ),
        ("FieldValueInvalid", "subsets[0].addresses[1].hostname", f'Invalid value: "A": {LABEL_MSG}'),
        ("FieldValueRequired", "subsets[0].ports[0].name", "Required value"),
        ("FieldValueRequired", "subsets[0].ports[1].name", "Required value"),
        (
            "FieldValueNotSupported",
            "subsets[0].ports[1].protocol",
            'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        ),
        (
            "FieldValueRequired",
            "subsets[1]",
            "Required value: must specify `addresses` or `notReadyAddresses`",
        ),
    ]


# --- config maps, secrets, namespaces, nodes ----------------------------------------------------------------


def test_config_map_keys() -> None:
    cm = {
        "metadata": {"name": "c", "namespace": "d"},
        "data": {"a b": "x", "..x": "y", "dup": "z"},
        "binaryData": {"dup": "eg=="},
    }
    assert causes("configmaps", cm) == [
        ("FieldValueInvalid", "data[a b]", f'Invalid value: "a b": {CONFIG_KEY_MSG}'),
        ("FieldValueInvalid", "data[..x]", "Invalid value: \"..x\": must not start with '..'"),
        ("FieldValueInvalid", "data[dup]", 'Invalid value: "dup": duplicate of key present in binaryData'),
    ]


def test_config_map_size() -> None:
    cm = {"metadata": {"name": "c", "namespace": "d"}, "data": {"big": "x" * (1024 * 1024 + 1)}}
    assert causes("configmaps", cm) == [
        ("FieldValueTooLong", "", "Too long: may not be more than 1048576 bytes")
    ]


@pytest.mark.parametrize(
    ("secret_type", "data", "expected"),
    [
        (
            "kubernetes.io/tls",
            {"tls.crt": "eA=="},
            [("FieldValueRequired", "data[tls.key]", "Required value")],
        ),
        (
            "kubernetes.io/basic-auth",
            {},
            [
                ("FieldValueRequired", "data[username]", "Required value"),
                ("FieldValueRequired", "data[password]", "Required value"),
            ],
        ),
        ("kubernetes.io/basic-auth", {"password": ""}, []),
        (
            "kubernetes.io/ssh-auth",
            {"ssh-privatekey": ""},
            [("FieldValueRequired", "data[ssh-privatekey]", "Required value")],
        ),
        ("kubernetes.io/dockerconfigjson", {".dockerconfigjson": "e30="}, []),
        (
            "kubernetes.io/service-account-token",
            {},
            [
                (
                    "FieldValueRequired",
                    "metadata.annotations[kubernetes.io/service-account.name]",
                    "Required value",
                )
            ],
        ),
        (
            "example.com/anything",
            {"bad key": ""},
            [("FieldValueInvalid", "data[bad key]", f'Invalid value: "bad key": {CONFIG_KEY_MSG}')],
        ),
    ],
)
def test_secret_types(secret_type: str, data: dict[str, str], expected: list[tuple[str, str, str]]) -> None:
    secret = {"metadata": {"name": "s", "namespace": "d"}, "type": secret_type, "data": data}
    assert causes("secrets", secret) == expected


def test_docker_config_must_be_json() -> None:
    secret = {
        "metadata": {"name": "s", "namespace": "d"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": "bm9wZQ=="},
    }
    ((reason, field, message),) = causes("secrets", secret)
    assert (reason, field) == ("FieldValueInvalid", "data[.dockerconfigjson]")
    assert message.startswith('Invalid value: "<secret contents redacted>": ')


def test_namespace_spec_finalizers() -> None:
    ns = {"metadata": {"name": "dev"}, "spec": {"finalizers": ["kubernetes", "custom"]}}
    assert causes("namespaces", ns) == [
        (
            "FieldValueInvalid",
            "spec.finalizers",
            'Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
        )
    ]


def test_node_taints() -> None:
    node = {
        "metadata": {"name": "n"},
        "spec": {
            "taints": [
                {"key": "a", "effect": "NoSchedule"},
                {"key": "a", "effect": "NoSchedule", "value": "x"},
                {"key": "b", "effect": "Never"},
            ]
        },
    }
    assert causes("nodes", node) == [
        (
            "FieldValueDuplicate",
            "metadata.taints[1]",
            'Duplicate value: {"key":"a","effect":"NoSchedule","value":"x"}: taints must be unique by key '
            "and effect pair",
        ),
        (
            "FieldValueNotSupported",
            "metadata.taints[2].effect",
            'Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
        ),
    ]


def test_node_pod_cidr_is_set_once() -> None:
    old = stored("nodes", {"metadata": {"name": "n"}, "spec": {"podCIDRs": ["10.244.0.0/24"]}})
    new = copy.deepcopy(old)
    new["spec"]["podCIDRs"] = ["10.244.1.0/24"]
    assert causes("nodes", new, old) == [
        (
            "FieldValueForbidden",
            "spec.podCIDRs",
            'Forbidden: node updates may not change podCIDR except from "" to valid',
        )
    ]


# --- CustomResourceDefinitions ------------------------------------------------------------------------------

CRDS = "apiextensions.k8s.io/customresourcedefinitions"
OPENAPI = "spec.versions[0].schema.openAPIV3Schema"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            (("metadata.name", "widget.example.com"),),
            [
                (
                    "FieldValueInvalid",
                    "metadata.name",
                    'Invalid value: "widget.example.com": must be spec.names.plural+"."+spec.group',
                )
            ],
        ),
        (
            (("spec.group", "example"), ("metadata.name", "widgets.example")),
            [
                (
                    "FieldValueInvalid",
                    "spec.group",
                    'Invalid value: "example": should be a domain with at least one dot',
                )
            ],
        ),
        (
            (("spec.scope", "Global"),),
            [
                (
                    "FieldValueNotSupported",
                    "spec.scope",
                    'Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
                )
            ],
        ),
        (
            (("spec.names.kind", "Widget!"),),
            [
                ("FieldValueInvalid", "spec.names.singular", f'Invalid value: "widget!": {DNS1035_MSG}'),
                (
                    "FieldValueInvalid",
                    "spec.names.kind",
                    'Invalid value: "Widget!": may have mixed case, but should otherwise match: '
                    f"{DNS1035_MSG}",
                ),
                (
                    "FieldValueInvalid",
                    "spec.names.listKind",
                    'Invalid value: "Widget!List": may have mixed case, but should otherwise match: '
                    f"{DNS1035_MSG}",
                ),
            ],
        ),
        (
            (("spec.names.plural", None), ("metadata.name", ".example.com")),
            [
                ("FieldValueInvalid", "metadata.name", f'Invalid value: ".example.com": {SUBDOMAIN_MSG}'),
                ("FieldValueRequired", "spec.names.plural", "Required value"),
            ],
        ),
        ((("spec.versions.0.schema", None),), [("FieldValueRequired", OPENAPI, "Required value")]),
        (
            (("spec.versions.0.schema.openAPIV3Schema.properties.spec.properties.size", {"enum": ["S"]}),),
            [
                (
                    "FieldValueRequired",
                    f"{OPENAPI}.properties[spec].properties[size].type",
                    "Required value: must not be empty for specified object fields",
                )
            ],
        ),
        (
            (("spec.versions.0.schema.openAPIV3Schema.type", "string"),),
            [("FieldValueInvalid", f"{OPENAPI}.type", 'Invalid value: "string": must be object at the root')],
        ),
        (
            (("spec.versions.0.schema.openAPIV3Schema.properties.spec.properties.tags.items", None),),
            [
                (
                    "FieldValueRequired",
                    f"{OPENAPI}.properties[spec].properties[tags].items",
                    "Required value: must be specified",
                )
            ],
        ),
        (
            (("spec.versions.0.name", "V1"),),
            [("FieldValueInvalid", "spec.versions[0].name", f'Invalid value: "V1": {DNS1035_MSG}')],
        ),
    ],
)
def test_crd(changes: tuple[tuple[str, Any], ...], expected: list[tuple[str, str, str]]) -> None:
    assert causes(CRDS, with_changes(crd, *changes)) == expected


def test_crd_needs_exactly_one_storage_version() -> None:
    c = with_changes(crd, ("spec.versions.0.storage", False))
    found = causes(CRDS, c)
    assert [f for _, f, _ in found] == ["spec.versions", "status.storedVersions"]
    assert found[0][2].endswith(": must have exactly one version marked as storage version")
    assert found[1][2] == "Invalid value: null: must have at least one stored version"


def test_crd_names_are_immutable_once_established() -> None:
    old = stored(CRDS, crd())
    old["status"]["conditions"] = [{"type": "Established", "status": "True"}]
    new = copy.deepcopy(old)
    new["spec"]["scope"] = "Cluster"
    new["spec"]["names"]["kind"] = "Gadget"
    new["spec"]["names"]["listKind"] = "GadgetList"
    assert causes(CRDS, new, old) == [
        ("FieldValueInvalid", "spec.scope", 'Invalid value: "Cluster": field is immutable'),
        ("FieldValueInvalid", "spec.names.kind", 'Invalid value: "Gadget": field is immutable'),
    ]
    del old["status"]["conditions"]
    assert causes(CRDS, new, old) == []


# --- custom resources ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"replicas": "3"},
            [
                (
                    "FieldValueTypeInvalid",
                    "spec.replicas",
                    'Invalid value: "string": spec.replicas in body must be of type integer: "string"',
                )
            ],
        ),
        ({"replicas": 2.0}, []),
        (
            {"replicas": 2.5},
            [
                (
                    "FieldValueTypeInvalid",
                    "spec.replicas",
                    'Invalid value: "number": spec.replicas in body must be of type integer: "number"',
                )
            ],
        ),
        (
            {"replicas": -1},
            [
                (
                    "FieldValueInvalid",
                    "spec.replicas",
                    "Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
                ),
                (
                    "FieldValueInvalid",
                    ".spec.replicas",
                    "Invalid value: -1: should be a non-negative integer",
                ),
            ],
        ),
        (
            {"size": "XL"},
            [
                (
                    "FieldValueNotSupported",
                    "spec.size",
                    'Unsupported value: "XL": supported values: "S", "M", "L"',
                )
            ],
        ),
        (
            {"size": None},
            [
                (
                    "FieldValueTypeInvalid",
                    "spec.size",
                    'Invalid value: "null": spec.size in body must be of type string: "null"',
                )
            ],
        ),
        (
            {"name": "Abc"},
            [
                (
                    "FieldValueInvalid",
                    "spec.name",
                    "Invalid value: \"Abc\": spec.name in body should match '^[a-z]+$'",
                )
            ],
        ),
        (
            {"name": "abcdefghij"},
            [("FieldValueTooLong", "spec.name", "Too long: may not be more than 8 bytes")],
        ),
        (
            {"name": "a"},
            [
                (
                    "FieldValueInvalid",
                    "spec.name",
                    'Invalid value: "a": spec.name in body should be at least 2 chars long',
                )
            ],
        ),
        (
            {"ratio": 2},
            [
                (
                    "FieldValueInvalid",
                    "spec.ratio",
                    "Invalid value: 2: spec.ratio in body should be less than or equal to 1.5",
                )
            ],
        ),
        (
            {"ratio": 0},
            [
                (
                    "FieldValueInvalid",
                    "spec.ratio",
                    "Invalid value: 0: spec.ratio in body should be greater than 0",
                )
            ],
        ),
        (
            {"tags": ["a", "b", "a"]},
            [
                ("FieldValueTooMany", "spec.tags", "Too many: 3: must have at most 2 items"),
                ("FieldValueDuplicate", "spec.tags[2]", 'Duplicate value: "a"'),
            ],
        ),
        (
            {"ports": [{"name": "a"}, {"port": 1}, {"name": "a", "port": 2}]},
            [
                ("FieldValueRequired", "spec.ports[1].name", "Required value"),
                ("FieldValueDuplicate", "spec.ports[2]", 'Duplicate value: {"name":"a"}'),
            ],
        ),
        (
            {"port": True},
            [
                (
                    "FieldValueTypeInvalid",
                    "spec.port",
                    'Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"',
                )
            ],
        ),
        (
            {"labels": {"a": 1}},
            [
                (
                    "FieldValueTypeInvalid",
                    "spec.labels.a",
                    'Invalid value: "integer": spec.labels.a in body must be of type string: "integer"',
                )
            ],
        ),
    ],
)
def test_custom_resource_schema(spec: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    assert causes(WIDGET, widget(**spec), default=False) == expected


def test_custom_resource_required_fields_and_type_meta() -> None:
    missing = widget()
    del missing["spec"]["size"]
    assert causes(WIDGET, missing, default=False) == [("FieldValueRequired", "spec.size", "Required value")]
    wrong = widget()
    wrong["kind"] = "Gadget"
    wrong["apiVersion"] = "example.com/v2"
    assert causes(WIDGET, wrong, default=False) == [
        ("FieldValueInvalid", "kind", 'Invalid value: "Gadget": must be Widget'),
        ("FieldValueInvalid", "apiVersion", 'Invalid value: "example.com/v2": must be example.com/v1'),
    ]


def test_custom_resource_metadata() -> None:
    obj = widget()
    obj["metadata"]["name"] = "W1"
    obj["metadata"]["finalizers"] = ["custom"]
    assert causes(WIDGET, obj, default=False) == [
        ("FieldValueInvalid", "metadata.name", f'Invalid value: "W1": {SUBDOMAIN_MSG}')
    ]


def test_custom_resource_without_schema_accepts_anything() -> None:
    free = types_from_crd(with_changes(crd, ("spec.versions.0.schema", None)))[0]
    obj = widget(anything={"goes": [1, "two"]})
    assert causes(free, obj, default=False) == []


# --- JSON decoding of built-in kinds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition_name", "obj", "first"),
    [
        (
            "io.k8s.api.apps.v1.Deployment",
            {"spec": {"replicas": "3"}},
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        (
            "io.k8s.api.apps.v1.Deployment",
            {"spec": {"replicas": 1.5}},
            "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type "
            "int32",
        ),
        (
            "io.k8s.api.apps.v1.Deployment",
            {"spec": {"replicas": 3000000000}},
            "json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of "
            "type int32",
        ),
        (
            "io.k8s.api.apps.v1.Deployment",
            {"spec": {"paused": "yes"}},
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool",
        ),
        (
            "io.k8s.api.apps.v1.Deployment",
            {
                "spec": {
                    "template": {
                        "spec": {"containers": [{"name": "a", "env": [{"name": "PORT", "value": 8080}]}]}
                    }
                }
            },
            "json: cannot unmarshal number into Go struct field "
            "EnvVar.spec.template.spec.containers.env.value of "
            "type string",
        ),
        (
            "io.k8s.api.apps.v1.Deployment",
            {"spec": {"template": {"spec": {"containers": {"name": "a"}}}}},
            "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of "
            "type "
            "[]v1.Container",
        ),
        (
            "io.k8s.api.apps.v1.Deployment",
            {"spec": {"template": "nginx"}},
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.template of type "
            "v1.PodTemplateSpec",
        ),
        (
            "io.k8s.api.core.v1.ConfigMap",
            {"metadata": {"labels": {"replicas": 3}}},
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
        ),
        (
            "io.k8s.api.core.v1.ConfigMap",
            {"data": ["a"]},
            "json: cannot unmarshal array into Go struct field ConfigMap.data of type map[string]string",
        ),
        (
            "io.k8s.api.core.v1.Service",
            {"spec": {"ports": [{"port": 80, "targetPort": True}]}},
            "json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type "
            "int32",
        ),
        (
            "io.k8s.api.core.v1.Service",
            {"spec": {"ports": [{"port": 80, "targetPort": 80.5}]}},
            "json: cannot unmarshal number 80.5 into Go struct field ServicePort.spec.ports.targetPort of "
            "type int32",
        ),
        (
            "io.k8s.api.core.v1.Pod",
            {"spec": {"containers": [{"resources": {"limits": {"cpu": "two"}}}]}},
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        ),
        (
            "io.k8s.api.core.v1.Pod",
            {"spec": {"containers": [{"resources": {"limits": {"memory": "1Gb"}}}]}},
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        ),
        (
            "io.k8s.api.core.v1.Pod",
            {"metadata": {"creationTimestamp": 0}},
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of "
            "type string",
        ),
        (
            "io.k8s.api.core.v1.Secret",
            {"data": {"password": "hunter2"}},
            "illegal base64 data at input byte 4",
        ),
        ("io.k8s.api.core.v1.Secret", {"data": {"password": "aGk"}}, "illegal base64 data at input byte 0"),
        ("io.k8s.api.core.v1.Secret", {"data": {"password": "a==="}}, "illegal base64 data at input byte 1"),
        ("io.k8s.api.core.v1.Secret", {"data": {"password": "aGk=x"}}, "illegal base64 data at input byte 4"),
        ("io.k8s.api.core.v1.Secret", {"data": {"password": "YQ="}}, "illegal base64 data at input byte 3"),
    ],
)
def test_type_errors(definition_name: str, obj: dict[str, Any], first: str) -> None:
    assert validation.type_errors(definition(definition_name), obj)[0] == first


@pytest.mark.parametrize(
    "obj",
    [
        {
            "spec": {
                "replicas": 3,
                "paused": False,
                "template": {"spec": {"containers": [{"name": "a", "image": "x"}]}},
            }
        },
        {"spec": {"template": None, "selector": None}},
        {
            "metadata": {
                "labels": {"a": "b"},
                "creationTimestamp": None,
                "managedFields": [{"fieldsV1": {"f:a": {}}}],
            }
        },
        {"spec": {"strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}}}},
        {
            "spec": {
                "template": {"spec": {"containers": [{"resources": {"limits": {"cpu": 1, "memory": "1Gi"}}}]}}
            }
        },
    ],
)
def test_no_type_errors(obj: dict[str, Any]) -> None:
    assert validation.type_errors(definition("io.k8s.api.apps.v1.Deployment"), obj) == []


def test_self_decoding_types_report_before_plain_mismatches() -> None:
    obj = {
        "spec": {
            "replicas": "x",
            "template": {"spec": {"containers": [{"resources": {"limits": {"cpu": "?"}}}]}},
        }
    }
    errors = validation.type_errors(definition("io.k8s.api.apps.v1.Deployment"), obj)
    assert errors[0].startswith("quantities must match")
    assert errors[1].endswith("DeploymentSpec.spec.replicas of type int32")


def test_base64_that_decodes() -> None:
    for text in ["", "YQ==", "YWI=", "YWJj", "YWJj\nZGVm", "YQ==\n"]:
        assert validation.type_errors(definition("io.k8s.api.core.v1.Secret"), {"data": {"k": text}}) == [], (
            text
        )


# --- unknown fields and pruning -----------------------------------------------------------------------------


def test_unknown_fields_of_built_in_kinds() -> None:
    obj: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "w",
            "labels": {"any": "key"},
            "annotaions": {},
            "managedFields": [{"fieldsV1": {"f:spec": {"f:replicas": {}}}}],
        },
        "spec": {
            "replica": 3,
            "template": {
                "metadata": {"containers": []},
                "spec": {"containers": [{"name": "a"}, {"name": "b", "imagePullPolicyx": 1}]},
            },
        },
        "status": {"foo": 1},
    }
    schema = definition("io.k8s.api.apps.v1.Deployment")
    expected = [
        "metadata.annotaions",
        "spec.replica",
        "spec.template.metadata.containers",
        "spec.template.spec.containers[1].imagePullPolicyx",
        "status.foo",
    ]
    assert validation.unknown_fields(schema, obj) == expected
    validation.prune_unknown(schema, obj)
    assert validation.unknown_fields(schema, obj) == []
    assert obj["spec"] == {
        "template": {"metadata": {}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]}}
    }
    assert obj["metadata"]["managedFields"] == [{"fieldsV1": {"f:spec": {"f:replicas": {}}}}]


def test_unknown_fields_of_custom_resources() -> None:
    schema = for_type(None, WIDGET.custom_schema)
    obj = widget(
        extra=1,
        labels={"free": "form"},
        raw={"any": {"thing": 1}},
        template={"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "bogus": 1}, "spec": {}},
        ports=[{"name": "a", "protocol": "TCP"}],
    )
    obj["metadata"]["labels"] = {"a": "b"}
    obj["metadata"]["managedFields"] = [{"fieldsV1": {"f:spec": {}}}]
    obj["status"] = {"replicas": 1, "phase": "Ready"}
    obj["top"] = True
    assert validation.unknown_fields(schema, obj) == [
        "spec.extra",
        "spec.ports[0].protocol",
        "status.phase",
        "top",
    ]
    validation.prune_unknown(schema, obj)
    assert "extra" not in obj["spec"] and "top" not in obj and obj["status"] == {"replicas": 1}
    assert obj["spec"]["raw"] == {"any": {"thing": 1}}
    assert obj["spec"]["template"]["metadata"] == {"name": "p", "bogus": 1}


def test_structural_objects_without_properties_keep_nothing() -> None:
    schema = for_type(None, {"type": "object", "properties": {"spec": {"type": "object"}}})
    obj = {"spec": {"a": 1}}
    assert validation.unknown_fields(schema, obj) == ["spec.a"]
    assert validation.unknown_fields(schema, obj, structural=False) == []
    validation.prune_unknown(schema, obj)
    assert obj == {"spec": {}}


# --- rendering ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("web", '"web"'),
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("tab\there\n", '"tab\\there\\n"'),
        ("\x00\x7f", '"\\x00\\x7f"'),
        ("héllo", '"héllo"'),
        ("\u200b", '"\\u200b"'),
        (0, "0"),
        (-12, "-12"),
        (1.5, "1.5"),
        (3.0, "3"),
        (1e6, "1e+06"),
        (123456.0, "123456"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (False, "false"),
        (None, "null"),
        ({"b": 1, "a": [1, "x"]}, '{"b":1,"a":[1,"x"]}'),
        (["<a&b>"], '["\\u003ca\\u0026b\\u003e"]'),
    ],
)
def test_render(value: Any, shown: str) -> None:
    assert validation.render(value) == shown


def test_causes_make_kube_apiserver_status_messages() -> None:
    found = validation.validate(TYPES["apps/deployments"], defaulted_deployment_without_selector())
    error = statuses.invalid("Deployment", "web", found, "apps")
    assert error.message == (
        'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.template.metadata.labels: '
        "Invalid "
        'value: {"app":"web","tier":"frontend"}: `selector` does not match template `labels`]'
    )


def defaulted_deployment_without_selector() -> dict[str, Any]:
    obj = with_changes(deployment, ("spec.selector", None))
    defaults.apply_defaults("apps/deployments", obj)
    return obj


# --- robustness ---------------------------------------------------------------------------------------------

FIELD_NAMES = [
    "metadata",
    "spec",
    "name",
    "namespace",
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
    "deletionTimestamp",
    "resourceVersion",
    "uid",
    "selector",
    "matchLabels",
    "matchExpressions",
    "key",
    "operator",
    "values",
    "template",
    "containers",
    "initContainers",
    "ports",
    "containerPort",
    "hostPort",
    "protocol",
    "image",
    "env",
    "valueFrom",
    "volumeMounts",
    "volumes",
    "configMap",
    "secret",
    "resources",
    "limits",
    "requests",
    "cpu",
    "tolerations",
    "effect",
    "taints",
    "strategy",
    "rollingUpdate",
    "maxSurge",
    "type",
    "data",
    "binaryData",
    "immutable",
    "status",
    "clusterIP",
    "clusterIPs",
    "ipFamilies",
    "externalIPs",
    "nodePort",
    "port",
    "targetPort",
    "subsets",
    "addresses",
    "ip",
    "versions",
    "names",
    "group",
    "scope",
    "storage",
    "schema",
    "openAPIV3Schema",
    "properties",
    "items",
    "replicas",
    "size",
    "tags",
    "livenessProbe",
    "httpGet",
    "hostNetwork",
    "involvedObject",
    "eventTime",
    "podCIDRs",
    "conversion",
    "storedVersions",
    "conditions",
]

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 70000),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=4),
        st.sampled_from(["None", "ClusterIP", "Always", "In", "TCP", "1Gi", "web"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=6)
    ),
    max_leaves=30,
)


BASES: dict[str, Callable[[], dict[str, Any]]] = {
    "apps/deployments": deployment,
    "apps/replicasets": lambda: with_changes(deployment, ("kind", "ReplicaSet")),
    "pods": pod,
    "services": service,
    "configmaps": lambda: {
        "metadata": {"name": "c", "namespace": "d", "finalizers": ["a.io/b"]},
        "data": {"k": "v"},
        "immutable": True,
    },
    "secrets": lambda: {
        "metadata": {"name": "s", "namespace": "d"},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "eA==", "tls.key": "eA=="},
    },
    "namespaces": lambda: {"metadata": {"name": "dev"}, "spec": {"finalizers": ["kubernetes"]}},
    "nodes": lambda: {
        "metadata": {"name": "n"},
        "spec": {"podCIDRs": ["10.0.0.0/24"], "taints": [{"key": "a", "effect": "NoSchedule"}]},
    },
    "serviceaccounts": lambda: {"metadata": {"name": "sa", "namespace": "d"}},
    "endpoints": lambda: {
        "metadata": {"name": "e", "namespace": "d"},
        "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}],
    },
    "events": lambda: {
        "metadata": {"name": "e", "namespace": "d"},
        "involvedObject": {"namespace": "d"},
        "eventTime": "2026-01-01T00:00:00Z",
    },
    CRDS: crd,
    "custom": lambda: widget(replicas=1, tags=["a"], ports=[{"name": "a"}], labels={"a": "b"}),
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, dict[str, Any], dict[str, Any]]:
    key = draw(st.sampled_from(sorted(BASES)))
    base = BASES[key]()
    obj = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(obj) or [("spec",)]))
        node: Any = obj
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = draw(json_values)
    return key, base, obj


@settings(max_examples=500, deadline=None)
@given(mutated(), st.booleans())
def test_validation_never_raises(case: tuple[str, dict[str, Any], dict[str, Any]], update: bool) -> None:
    key, base, obj = case
    rt = WIDGET if key == "custom" else TYPES[key]
    old = stored(rt.key, base) if update and key != "custom" else (base if update else None)
    schema = for_type(rt.schema_ref, rt.custom_schema)
    assert isinstance(validation.type_errors(schema, obj), list)
    assert isinstance(validation.unknown_fields(schema, obj), list)
    defaults.apply_defaults(rt.key, obj)
    defaults.apply_schema_defaults(schema, obj)
    if old is None:
        defaults.prepare_for_create(rt.key, obj)
    else:
        defaults.prepare_for_update(rt.key, obj, old)
    found = validation.validate(rt, obj, old)
    assert all(
        set(c) == {"reason", "message", "field"} and all(isinstance(v, str) for v in c.values())
        for c in found
    )
    validation.prune_unknown(schema, obj)


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_defaults_are_idempotent_on_mangled_objects(case: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    key, _, obj = case
    rt = WIDGET if key == "custom" else TYPES[key]
    schema = for_type(rt.schema_ref, rt.custom_schema)
    defaults.apply_defaults(rt.key, obj)
    defaults.apply_schema_defaults(schema, obj)
    again = copy.deepcopy(obj)
    defaults.apply_defaults(rt.key, again)
    defaults.apply_schema_defaults(schema, again)
    assert again == obj


valid_names = st.from_regex(r"[a-z]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(
    valid_names,
    st.integers(0, 50),
    st.lists(st.integers(1, 65535), min_size=1, max_size=3, unique=True),
    st.sampled_from(["nginx", "nginx:1.27", "registry.example.com/team/app:v2"]),
)
def test_generated_valid_workloads_pass(name: str, replicas: int, ports: list[int], image: str) -> None:
    d = deployment()
    d["metadata"]["name"] = name
    d["spec"]["replicas"] = replicas
    container = d["spec"]["template"]["spec"]["containers"][0]
    container["image"] = image
    container["ports"] = [{"containerPort": p, "name": f"p{i}"} for i, p in enumerate(ports)]
    svc = service()
    svc["metadata"]["name"] = name
    svc["spec"]["ports"] = [{"port": p, "name": f"p{i}"} for i, p in enumerate(ports)]
    assert causes("apps/deployments", d) == []
    assert causes("services", svc) == []


# ---- what a patch's decoding says, and what encoding drops ---------------------------------------------------
DEPLOYMENT_DEF = "io.k8s.api.apps.v1.Deployment"


@pytest.mark.parametrize(("obj", "error"), [
    ({"spec": {"replicas": "two"}}, "unrecognized type: int32"),
    ({"spec": {"replicas": 2.5}}, "cannot convert float64 to int32"),
    ({"spec": {"replicas": 2.0, "paused": True}}, None),
    ({"spec": {"paused": "yes"}}, "unrecognized type: bool"),
    ({"metadata": {"labels": {"a": 1}}}, "cannot convert int64 to string"),
    ({"metadata": {"labels": {"a": True}}}, "unrecognized type: string"),
    ({"metadata": {"labels": "a=b"}}, "cannot restore map from string"),
    ({"metadata": {"finalizers": "x"}}, "cannot restore slice from string"),
    ({"spec": {"template": []}}, "cannot restore struct from: slice"),
    ({"spec": {"strategy": {"rollingUpdate": {"maxSurge": True}}}},
     "json: cannot unmarshal bool into Go value of type int32"),
    ({"metadata": {"creationTimestamp": 5}}, "json: cannot unmarshal number into Go value of type string"),
    ({"spec": {"template": {"spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": "lots"}}}]}}}},
     "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ({"spec": {"replicas": None, "selector": {"matchLabels": {"app": "web"}}}}, None),
])
def test_conversion_error(obj: dict[str, Any], error: str | None) -> None:
    assert validation.conversion_error(definition(DEPLOYMENT_DEF), obj) == error


def test_go_value_text_and_sorted_json() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a<b"}]}}, "replicas": 1.5e6},
             "metadata": {"labels": {"b": None, "a": "x y"}}}
    assert validation.go_value_text(patch) == (
        "map[metadata:map[labels:map[a:x y b:<nil>]] "
        "spec:map[replicas:1.5e+06 template:map[spec:map[containers:[map[image:a<b name:app]]]]]]")
    patch["spec"]["replicas"] = 3
    assert validation.go_sorted_json(patch) == (
        '{"metadata":{"labels":{"a":"x y","b":null}},'
        '"spec":{"replicas":3,"template":{"spec":{"containers":[{"image":"a\\u003cb","name":"app"}]}}}}')


def test_drop_empty_optional_keeps_structs_and_required_lists() -> None:
    deployment = {"metadata": {"name": "web", "labels": {}, "annotations": {}, "ownerReferences": []},
                  "spec": {"selector": {"matchLabels": {}},
                           "template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"containers": [{"name": "a", "args": [], "resources": {},
                                                                 "env": [{"name": "E", "value": ""}]}],
                                                 "securityContext": {}, "volumes": []}}},
                  "status": {"conditions": []}}
    validation.drop_empty_optional(definition(DEPLOYMENT_DEF), deployment)
    assert deployment == {"metadata": {"name": "web"},
                          "spec": {"selector": {},
                                   "template": {"metadata": {"labels": {"app": "web"}},
                                                "spec": {"containers": [{"name": "a", "resources": {},
                                                                         "env": [{"name": "E", "value": ""}]}],
                                                         "securityContext": {}}}},
                          "status": {}}
    pod_spec = {"containers": []}  # required: kept (validation then says it is required)
    validation.drop_empty_optional(definition("io.k8s.api.core.v1.PodSpec"), pod_spec)
    assert pod_spec == {"containers": []}
