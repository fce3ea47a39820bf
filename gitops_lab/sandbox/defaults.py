"""Defaulting of written objects the way kube-apiserver v1.37 does it before validating and storing them.

Owns :func:`apply_defaults` (the ``SetDefaults_*`` functions and ``+default`` markers of the built-in kinds
the sandbox serves, plus the decode-time effects that show in stored objects: a Secret's ``stringData`` folded
into ``data``, Quantities in canonical form, ``resources: {}`` on containers), :func:`apply_schema_defaults`
(the ``default:`` values of a custom resource's structural schema), and the registry strategies' create-only
and update-only touches: :func:`prepare_for_create` and :func:`prepare_for_update`. Also the Quantity parser
and formatter (:func:`parse_quantity`, :func:`canonical_quantity`) that validation shares.

Pure: every function mutates only the dict it is given; no I/O, no validation (see :mod:`validation`), no
allocation of cluster IPs or node ports (the API layer's job). Order of use for a write, as kube-apiserver
does it: ``apply_defaults`` (decode), then ``prepare_for_create``/``prepare_for_update`` (strategy), then
validation.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import re
from collections.abc import Callable, Iterator
from decimal import ROUND_UP, Decimal, InvalidOperation
from typing import Any

from gitops_lab.sandbox.schemas import Schema

JSONDict = dict[str, Any]

TERMINATION_MESSAGE_PATH = "/dev/termination-log"
DEFAULT_SCHEDULER = "default-scheduler"
DEFAULT_FILE_MODE = 0o644  # 420: secret, configMap, downwardAPI and projected volumes
CLIENT_IP_AFFINITY_SECONDS = 10800
SERVICE_ACCOUNT_TOKEN_SECONDS = 3600
METADATA_NAME_LABEL = "kubernetes.io/metadata.name"

# Declarative (+default) values of volume sources the sandbox does not otherwise treat.
_VOLUME_SOURCE_DEFAULTS: dict[str, dict[str, Any]] = {
    "iscsi": {"iscsiInterface": "default"},
    "rbd": {"pool": "rbd", "user": "admin", "keyring": "/etc/ceph/keyring"},
    "azureDisk": {"cachingMode": "ReadWrite", "fsType": "ext4", "readOnly": False, "kind": "Shared"},
    "scaleIO": {"storageMode": "ThinProvisioned", "fsType": "xfs"},
}
_VOLUME_SOURCES = (
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
)
_MODE_VOLUMES = ("secret", "configMap", "downwardAPI", "projected")


# --- small dict helpers ---------------------------------------------------------------------------------


def _obj(parent: Any, key: str, create: bool = False) -> JSONDict | None:
    """``parent[key]`` if it is an object; created empty when missing and ``create``; None otherwise."""
    if not isinstance(parent, dict):
        return None
    value = parent.get(key)
    if value is None and create:
        value = parent[key] = {}
    return value if isinstance(value, dict) else None


def _items(parent: Any, key: str) -> Iterator[JSONDict]:
    """The object items of the list ``parent[key]`` (anything else is skipped)."""
    value = parent.get(key) if isinstance(parent, dict) else None
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _unset(d: JSONDict, key: str) -> bool:
    """Go's zero test for strings and pointers: missing, null or empty string."""
    return d.get(key) in (None, "")


def _set_if_unset(d: JSONDict, key: str, value: Any) -> None:
    if _unset(d, key):
        d[key] = copy.deepcopy(value)


def _set_if_absent(d: JSONDict, key: str, value: Any) -> None:
    """For pointer fields whose zero value is meaningful (``0``, ``false``): only missing or null defaults."""
    if d.get(key) is None:
        d[key] = copy.deepcopy(value)


def _set_if_zero(d: JSONDict, key: str, value: Any) -> None:
    """For plain integer fields, where Go cannot tell 0 from unset."""
    if d.get(key) in (None, 0):
        d[key] = value


# --- Quantity ------------------------------------------------------------------------------------------

QUANTITY_FORMAT_ERROR = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix"
_QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_NUMBER_RE = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_BY_EXPONENT = {exp: suffix for suffix, exp in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIXES = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_BINARY_BY_POWER = {power: suffix for suffix, power in _BINARY_SUFFIXES.items()}
_EXPONENT_RE = re.compile(r"^[eE]([+-]?[0-9]+)$")


@dataclasses.dataclass(frozen=True)
class Quantity:
    """A parsed resource quantity: exact value and notation (``DecimalSI``, ``BinarySI``,
    ``DecimalExponent``)."""

    value: Decimal
    notation: str

    def __str__(self) -> str:
        return _format_quantity(self)


def parse_quantity(text: Any) -> Quantity:
    """Parse a Quantity as it appears in JSON (string or number); ValueError carries kube-apiserver's message.

    >>> str(parse_quantity("0.5")), str(parse_quantity("1.5Gi")), str(parse_quantity(2))
    ('500m', '1536Mi', '2')
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError(QUANTITY_FORMAT_ERROR)
    if not isinstance(text, str):
        return Quantity(Decimal(repr(text)) if isinstance(text, float) else Decimal(text), "DecimalSI")
    text = text.strip()
    match = _QUANTITY_RE.match(text)
    if not match or not _NUMBER_RE.match(match.group(1)):
        raise ValueError(QUANTITY_FORMAT_ERROR)
    number, suffix = Decimal(match.group(1)), match.group(2)
    if suffix in _DECIMAL_SUFFIXES:
        return Quantity(number.scaleb(_DECIMAL_SUFFIXES[suffix]), "DecimalSI")
    if suffix in _BINARY_SUFFIXES:
        return Quantity(number * (1024 ** _BINARY_SUFFIXES[suffix]), "BinarySI")
    exponent = _EXPONENT_RE.match(suffix)
    if exponent:
        return Quantity(number.scaleb(int(exponent.group(1))), "DecimalExponent")
    raise ValueError(QUANTITY_SUFFIX_ERROR)


def canonical_quantity(text: Any, *, round_to_milli: bool = False) -> str | None:
    """The canonical string kube-apiserver stores for a Quantity, None when it does not parse.

    ``round_to_milli`` applies the rounding ``SetDefaults_ResourceList`` does (values finer than 1m round up).

    >>> canonical_quantity("1000"), canonical_quantity("2048Ki")
    ('1k', '2Mi')
    >>> canonical_quantity("0.0001", round_to_milli=True)
    '1m'
    """
    try:
        quantity = parse_quantity(text)
    except (ValueError, InvalidOperation):
        return None
    exponent = quantity.value.as_tuple().exponent
    if round_to_milli and isinstance(exponent, int) and exponent < -3:
        quantity = Quantity(quantity.value.quantize(Decimal("0.001"), rounding=ROUND_UP), quantity.notation)
    return _format_quantity(quantity)


def _format_quantity(quantity: Quantity) -> str:
    value = quantity.value
    if value == 0:
        return "0"
    notation = quantity.notation
    if notation == "BinarySI" and (abs(value) < 1024 or value != value.to_integral_value()):
        notation = "DecimalSI"
    if notation == "BinarySI":
        mantissa, power = int(value), 0
        while mantissa % 1024 == 0 and power < 6:
            mantissa, power = mantissa // 1024, power + 1
        return f"{mantissa}{_BINARY_BY_POWER.get(power, '')}"
    mantissa, exponent = _decimal_mantissa(value)
    if notation == "DecimalSI" and exponent in _DECIMAL_BY_EXPONENT:
        return f"{mantissa}{_DECIMAL_BY_EXPONENT[exponent]}"
    return f"{mantissa}e{exponent}" if exponent else str(mantissa)


def _decimal_mantissa(value: Decimal) -> tuple[int, int]:
    """Integer mantissa without trailing zeros, exponent lowered to a multiple of three."""
    sign, digits, exponent = value.normalize().as_tuple()
    mantissa = int("".join(map(str, digits))) * (-1 if sign else 1)
    exp = int(exponent)
    while mantissa and mantissa % 10 == 0:
        mantissa, exp = mantissa // 10, exp + 1
    shift = exp % 3
    return mantissa * 10**shift, exp - shift


def _canonicalize_quantities(values: Any, *, resource_list: bool) -> None:
    if not isinstance(values, dict):
        return
    for key, raw in values.items():
        canonical = canonical_quantity(raw, round_to_milli=resource_list)
        if canonical is not None:
            values[key] = canonical


# --- images ----------------------------------------------------------------------------------------------


def image_tag(image: str) -> str:
    """The tag kube-apiserver reads from an image reference: ``latest`` when neither tag nor digest is given,
    ``""`` for a digest alone or a reference that does not parse.

    >>> image_tag("nginx"), image_tag("nginx:1.27"), image_tag("registry:5000/app@sha256:ab")
    ('latest', '1.27', '')
    >>> image_tag("Bad")
    ''
    """
    name, _, digest = image.partition("@")
    head, _, last = name.rpartition("/")
    repository_tail, _, tag = last.partition(":")
    components = [*head.split("/"), repository_tail] if head else [repository_tail]
    if len(components) > 1 and ("." in components[0] or ":" in components[0] or components[0] == "localhost"):
        components = components[1:]
    if not all(components) or any(c != c.lower() for c in components):
        return ""
    if tag:
        return tag
    return "" if digest else "latest"


def _pull_policy(image: Any) -> str:
    return "Always" if isinstance(image, str) and image_tag(image) == "latest" else "IfNotPresent"


# --- pods and pod templates ------------------------------------------------------------------------------


def _http_get(action: Any) -> None:
    if isinstance(action, dict):
        _set_if_unset(action, "path", "/")
        _set_if_unset(action, "scheme", "HTTP")


def _handler(handler: Any) -> None:
    if not isinstance(handler, dict):
        return
    _http_get(handler.get("httpGet"))
    grpc = _obj(handler, "grpc")
    if grpc is not None:
        _set_if_absent(grpc, "service", "")


def _probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    _set_if_zero(probe, "timeoutSeconds", 1)
    _set_if_zero(probe, "periodSeconds", 10)
    _set_if_zero(probe, "successThreshold", 1)
    _set_if_zero(probe, "failureThreshold", 3)
    _handler(probe)


def _field_ref(selector_holder: Any) -> None:
    ref = _obj(selector_holder, "fieldRef")
    if ref is not None:
        _set_if_unset(ref, "apiVersion", "v1")


def _container(container: JSONDict) -> None:
    if _unset(container, "imagePullPolicy"):
        container["imagePullPolicy"] = _pull_policy(container.get("image"))
    _set_if_unset(container, "terminationMessagePath", TERMINATION_MESSAGE_PATH)
    _set_if_unset(container, "terminationMessagePolicy", "File")
    for port in _items(container, "ports"):
        _set_if_unset(port, "protocol", "TCP")
    for env in _items(container, "env"):
        _field_ref(env.get("valueFrom"))
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(container.get(probe))
    lifecycle = _obj(container, "lifecycle")
    if lifecycle is not None:
        _handler(lifecycle.get("postStart"))
        _handler(lifecycle.get("preStop"))
    resources = _obj(container, "resources", create=True)
    if resources is not None:
        _canonicalize_quantities(resources.get("limits"), resource_list=True)
        _canonicalize_quantities(resources.get("requests"), resource_list=True)


def _volume(volume: JSONDict) -> None:
    if not any(volume.get(source) is not None for source in _VOLUME_SOURCES):
        volume["emptyDir"] = {}
    for source in _MODE_VOLUMES:
        settings = _obj(volume, source)
        if settings is not None:
            _set_if_absent(settings, "defaultMode", DEFAULT_FILE_MODE)
    for item in _items(volume.get("downwardAPI"), "items"):
        _field_ref(item)
    for projection in _items(volume.get("projected"), "sources"):
        for item in _items(projection.get("downwardAPI"), "items"):
            _field_ref(item)
        token = _obj(projection, "serviceAccountToken")
        if token is not None:
            _set_if_absent(token, "expirationSeconds", SERVICE_ACCOUNT_TOKEN_SECONDS)
    host_path = _obj(volume, "hostPath")
    if host_path is not None:
        _set_if_absent(host_path, "type", "")
    image = _obj(volume, "image")
    if image is not None and _unset(image, "pullPolicy"):
        image["pullPolicy"] = _pull_policy(image.get("reference"))
    empty_dir = _obj(volume, "emptyDir")
    if empty_dir is not None and "sizeLimit" in empty_dir:
        empty_dir["sizeLimit"] = canonical_quantity(empty_dir["sizeLimit"]) or empty_dir["sizeLimit"]
    for source, values in _VOLUME_SOURCE_DEFAULTS.items():
        settings = _obj(volume, source)
        for key, value in values.items():
            if settings is not None:
                _set_if_unset(settings, key, value)


def _all_containers(spec: JSONDict) -> Iterator[JSONDict]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from _items(spec, key)


def _pod_spec(spec: JSONDict) -> None:
    """SetDefaults_PodSpec and everything nested in a PodSpec (templates and pods alike)."""
    _set_if_unset(spec, "dnsPolicy", "ClusterFirst")
    _set_if_unset(spec, "restartPolicy", "Always")
    _set_if_absent(spec, "securityContext", {})
    _set_if_absent(spec, "terminationGracePeriodSeconds", 30)
    _set_if_unset(spec, "schedulerName", DEFAULT_SCHEDULER)
    for container in _all_containers(spec):
        _container(container)
    for volume in _items(spec, "volumes"):
        _volume(volume)
    _canonicalize_quantities(spec.get("overhead"), resource_list=True)
    resources = _obj(spec, "resources")
    if resources is not None:
        _canonicalize_quantities(resources.get("limits"), resource_list=True)
        _canonicalize_quantities(resources.get("requests"), resource_list=True)


def _requests_from_limits(container: JSONDict) -> None:
    resources = _obj(container, "resources")
    limits = _obj(resources, "limits")
    if resources is None or not limits:
        return
    requests = _obj(resources, "requests", create=True)
    if requests is not None:
        for name, value in limits.items():
            requests.setdefault(name, value)


def _pod(pod: JSONDict) -> None:
    spec = _obj(pod, "spec", create=True)
    if spec is None:
        return
    _pod_spec(spec)
    for key in ("containers", "initContainers"):
        for container in _items(spec, key):
            _requests_from_limits(container)
    _set_if_absent(spec, "enableServiceLinks", True)
    if spec.get("hostNetwork") is True:
        for key in ("containers", "initContainers"):
            for container in _items(spec, key):
                for port in _items(container, "ports"):
                    if port.get("hostPort") in (None, 0):
                        port["hostPort"] = port.get("containerPort")


def _template(owner: JSONDict) -> None:
    template = _obj(_obj(owner, "spec"), "template", create=True)
    spec = _obj(template, "spec", create=True)
    if spec is not None:
        _pod_spec(spec)


# --- workloads -------------------------------------------------------------------------------------------


def _deployment(deployment: JSONDict) -> None:
    spec = _obj(deployment, "spec", create=True)
    if spec is None:
        return
    _set_if_absent(spec, "replicas", 1)
    strategy = _obj(spec, "strategy", create=True)
    if strategy is not None:
        _set_if_unset(strategy, "type", "RollingUpdate")
        if strategy.get("type") == "RollingUpdate":
            rolling = _obj(strategy, "rollingUpdate", create=True)
            if rolling is not None:
                _set_if_absent(rolling, "maxUnavailable", "25%")
                _set_if_absent(rolling, "maxSurge", "25%")
    _set_if_absent(spec, "revisionHistoryLimit", 10)
    _set_if_absent(spec, "progressDeadlineSeconds", 600)
    _template(deployment)


def _replicaset(replicaset: JSONDict) -> None:
    spec = _obj(replicaset, "spec", create=True)
    if spec is not None:
        _set_if_absent(spec, "replicas", 1)
    _template(replicaset)


# --- core kinds --------------------------------------------------------------------------------------------


def _is_headless(spec: JSONDict) -> bool:
    ips = spec.get("clusterIPs")
    first = ips[0] if isinstance(ips, list) and ips else spec.get("clusterIP")
    return first == "None"


def _service(service: JSONDict) -> None:
    spec = _obj(service, "spec", create=True)
    if spec is None:
        return
    _set_if_unset(spec, "sessionAffinity", "None")
    if spec.get("sessionAffinity") == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec.get("sessionAffinity") == "ClientIP":
        client_ip = _obj(_obj(spec, "sessionAffinityConfig"), "clientIP")
        if client_ip is None or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": CLIENT_IP_AFFINITY_SECONDS}}
    _set_if_unset(spec, "type", "ClusterIP")
    kind = spec.get("type")
    for port in _items(spec, "ports"):
        _set_if_unset(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    if kind in ("NodePort", "LoadBalancer") or (spec.get("externalIPs") and kind == "ClusterIP"):
        _set_if_unset(spec, "externalTrafficPolicy", "Cluster")
    if kind in ("ClusterIP", "NodePort", "LoadBalancer"):
        _set_if_absent(spec, "internalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        _set_if_absent(spec, "allocateLoadBalancerNodePorts", True)
    if kind != "ExternalName":
        _ip_families(spec)


def _ip_families(spec: JSONDict) -> None:
    """What the REST layer settles for a single-stack IPv4 cluster (dual for headless selectorless ones)."""
    headless_selectorless = _is_headless(spec) and not spec.get("selector")
    if spec.get("ipFamilyPolicy") is None:
        spec["ipFamilyPolicy"] = "RequireDualStack" if headless_selectorless else "SingleStack"
    if not spec.get("ipFamilies"):
        spec["ipFamilies"] = ["IPv4"]
    families = spec["ipFamilies"]
    if (
        headless_selectorless
        and isinstance(families, list)
        and len(families) == 1
        and spec["ipFamilyPolicy"] != "SingleStack"
    ):
        families.append("IPv6" if families[0] == "IPv4" else "IPv4")


def _endpoints(endpoints: JSONDict) -> None:
    for subset in _items(endpoints, "subsets"):
        for port in _items(subset, "ports"):
            _set_if_unset(port, "protocol", "TCP")


def _secret(secret: JSONDict) -> None:
    _set_if_unset(secret, "type", "Opaque")
    string_data = secret.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = _obj(secret, "data", create=True)
        if data is not None:
            for key, value in string_data.items():
                if isinstance(value, str):
                    data[key] = base64.b64encode(value.encode()).decode()


def _namespace(namespace: JSONDict) -> None:
    metadata = _obj(namespace, "metadata")
    name = metadata.get("name") if metadata is not None else None
    if metadata is not None and isinstance(name, str) and name:
        labels = _obj(metadata, "labels", create=True)
        if labels is not None:
            labels[METADATA_NAME_LABEL] = name
    status = _obj(namespace, "status", create=True)
    if status is not None:
        _set_if_unset(status, "phase", "Active")


def _node(node: JSONDict) -> None:
    status = _obj(node, "status")
    if status is None:
        return
    _canonicalize_quantities(status.get("capacity"), resource_list=True)
    _canonicalize_quantities(status.get("allocatable"), resource_list=True)
    if status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = dict(status["capacity"])


def _crd(crd: JSONDict) -> None:
    spec = _obj(crd, "spec", create=True)
    if spec is None:
        return
    names = _obj(spec, "names", create=True)
    kind = names.get("kind") if names is not None else None
    if names is not None:
        if _unset(names, "singular"):
            names["singular"] = kind.lower() if isinstance(kind, str) else ""
        if _unset(names, "listKind") and isinstance(kind, str) and kind:
            names["listKind"] = kind + "List"
    conversion = _obj(spec, "conversion", create=True)
    if conversion is not None:
        _set_if_unset(conversion, "strategy", "None")
        service = _obj(_obj(_obj(conversion, "webhook"), "clientConfig"), "service")
        if service is not None:
            _set_if_absent(service, "port", 443)
    status = _obj(crd, "status", create=True)
    if status is not None and not status.get("storedVersions"):
        for version in _items(spec, "versions"):
            if version.get("storage") is True:
                status["storedVersions"] = [version.get("name")]
                break


_DEFAULTERS: dict[str, Callable[[JSONDict], None]] = {
    "namespaces": _namespace,
    "nodes": _node,
    "pods": _pod,
    "services": _service,
    "endpoints": _endpoints,
    "secrets": _secret,
    "apps/deployments": _deployment,
    "apps/replicasets": _replicaset,
    "apiextensions.k8s.io/customresourcedefinitions": _crd,
}


def apply_defaults(resource_key: str, obj: JSONDict) -> None:
    """Fill in what kube-apiserver's defaulting fills in for a write of ``resource_key``
    (``ResourceType.key``).

    Idempotent; kinds without defaults (configmaps, serviceaccounts, events, custom resources) are left
    alone — custom resources get theirs from :func:`apply_schema_defaults`.

    >>> d = {"spec": {"selector": {"matchLabels": {"app": "web"}},
    ...      "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
    >>> apply_defaults("apps/deployments", d)
    >>> spec = d["spec"]
    >>> spec["replicas"], spec["strategy"]["rollingUpdate"], spec["template"]["spec"]["dnsPolicy"]
    (1, {'maxUnavailable': '25%', 'maxSurge': '25%'}, 'ClusterFirst')
    >>> d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"]
    'Always'
    """
    defaulter = _DEFAULTERS.get(resource_key)
    if defaulter is not None and isinstance(obj, dict):
        defaulter(obj)


# --- custom resources ------------------------------------------------------------------------------------


def apply_schema_defaults(schema: Schema, obj: Any) -> None:
    """Structural defaulting of a custom resource: absent fields (and nulls the schema does not allow) whose
    schema has a ``default`` get a copy of it, depth first; other disallowed nulls are dropped.

    >>> s = Schema({"type": "object", "properties": {"spec": {"type": "object", "default": {},
    ...     "properties": {"replicas": {"type": "integer", "default": 1}}}}})
    >>> o = {}
    >>> apply_schema_defaults(s, o)
    >>> o
    {'spec': {'replicas': 1}}
    """
    if isinstance(obj, dict):
        _default_object(schema, obj)
    elif isinstance(obj, list):
        items = schema.items()
        for index, item in enumerate(obj):
            if item is None and not items.raw.get("nullable") and "default" in items.raw:
                obj[index] = copy.deepcopy(items.raw["default"])
            apply_schema_defaults(items, obj[index])


def _default_object(schema: Schema, obj: JSONDict) -> None:
    properties = schema.properties
    for name, raw in properties.items():
        if "$ref" in raw:  # standard metadata the sandbox adds to custom resources: never defaulted
            continue
        prop = Schema(raw)
        if name in obj and obj[name] is None and not prop.raw.get("nullable"):
            if "default" in prop.raw:
                obj[name] = copy.deepcopy(prop.raw["default"])
            else:
                del obj[name]
        elif name not in obj and "default" in prop.raw:
            obj[name] = copy.deepcopy(prop.raw["default"])
    values = schema.values()
    for name, value in list(obj.items()):
        if name in properties and "$ref" in properties[name]:
            continue
        child = Schema(properties[name]) if name in properties else values
        if child is None or child is Schema.ANY:
            continue
        if value is None and name not in properties and not child.raw.get("nullable"):
            if "default" in child.raw:
                obj[name] = copy.deepcopy(child.raw["default"])
            continue
        apply_schema_defaults(child, obj[name])


# --- registry strategy touches ---------------------------------------------------------------------------

_STATUS_ON_CREATE: dict[str, Callable[[JSONDict], JSONDict]] = {
    "apps/deployments": lambda obj: {},
    "apps/replicasets": lambda obj: {"replicas": 0},
    "services": lambda obj: {"loadBalancer": {}},
    "pods": lambda obj: {"phase": "Pending", "qosClass": pod_qos_class(obj)},
    "namespaces": lambda obj: {"phase": "Active"},
    "apiextensions.k8s.io/customresourcedefinitions": lambda obj: {
        "acceptedNames": {"kind": "", "plural": ""},
        "storedVersions": _storage_versions(obj) or None,
    },
}
_STATUS_KEPT_ON_UPDATE = frozenset(
    {
        "apps/deployments",
        "apps/replicasets",
        "services",
        "pods",
        "namespaces",
        "nodes",
        "apiextensions.k8s.io/customresourcedefinitions",
    }
)


def _storage_versions(crd: JSONDict) -> list[Any]:
    return [v.get("name") for v in _items(_obj(crd, "spec"), "versions") if v.get("storage") is True][:1]


def prepare_for_create(resource_key: str, obj: JSONDict) -> None:
    """What the registry strategy does to a built-in object before its first store: reset ``status`` to what a
    new object reports (a Pod is Pending with its QoS class), give a Namespace the ``kubernetes`` finalizer,
    mirror a Service's ``clusterIP`` into ``clusterIPs``.

    >>> ns = {"metadata": {"name": "dev"}, "spec": {"finalizers": ["example.com/x"]}}
    >>> prepare_for_create("namespaces", ns)
    >>> ns["spec"]["finalizers"], ns["status"]
    (['example.com/x', 'kubernetes'], {'phase': 'Active'})
    """
    if not isinstance(obj, dict):
        return
    status = _STATUS_ON_CREATE.get(resource_key)
    if status is not None:
        obj["status"] = status(obj)
    spec = _obj(obj, "spec")
    if (
        resource_key == "services"
        and spec is not None
        and not _unset(spec, "clusterIP")
        and not spec.get("clusterIPs")
    ):
        spec["clusterIPs"] = [spec["clusterIP"]]
    if resource_key == "namespaces":
        spec = _obj(obj, "spec", create=True)
        if spec is not None:
            finalizers = spec.get("finalizers")
            if not isinstance(finalizers, list):
                finalizers = spec["finalizers"] = []
            if "kubernetes" not in finalizers:
                finalizers.append("kubernetes")


def prepare_for_update(resource_key: str, obj: JSONDict, old: JSONDict) -> None:
    """What the registry strategy does to a built-in object replacing ``old`` through the main resource: keep
    the stored ``status``, keep a Namespace's ``spec.finalizers``, keep a Service's allocated cluster IPs and
    node ports when the new object omits them, and drop the Service fields its new ``type`` no longer uses.
    """
    if not isinstance(obj, dict) or not isinstance(old, dict):
        return
    if resource_key in _STATUS_KEPT_ON_UPDATE:
        if "status" in old:
            obj["status"] = copy.deepcopy(old["status"])
        else:
            obj.pop("status", None)
    if resource_key == "namespaces":
        old_spec = _obj(old, "spec")
        spec = _obj(obj, "spec", create=True)
        if spec is not None:
            if old_spec is not None and "finalizers" in old_spec:
                spec["finalizers"] = copy.deepcopy(old_spec["finalizers"])
            else:
                spec.pop("finalizers", None)
    if resource_key == "services":
        spec, old_spec = _obj(obj, "spec"), _obj(old, "spec")
        if spec is not None and old_spec is not None:
            _keep_allocated(spec, old_spec)
            _normalize_cluster_ips(spec, old_spec)
            _drop_type_dependent(spec, old_spec)


def _needs_cluster_ip(spec: JSONDict) -> bool:
    return spec.get("type") != "ExternalName"


def _needs_node_port(spec: JSONDict) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


def _needs_health_check_port(spec: JSONDict) -> bool:
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def _node_ports(spec: JSONDict) -> set[int]:
    return {
        p["nodePort"] for p in _items(spec, "ports") if isinstance(p.get("nodePort"), int) and p["nodePort"]
    }


def _keep_allocated(spec: JSONDict, old: JSONDict) -> None:
    if _needs_cluster_ip(old) and _needs_cluster_ip(spec):
        if _unset(spec, "clusterIP") and not _unset(old, "clusterIP"):
            spec["clusterIP"] = old["clusterIP"]
        if not spec.get("clusterIPs") and old.get("clusterIPs"):
            spec["clusterIPs"] = copy.deepcopy(old["clusterIPs"])
    if _needs_node_port(old) and _needs_node_port(spec):
        used = _node_ports(old) & _node_ports(spec)
        by_name = {
            p.get("name"): p.get("nodePort") for p in _items(old, "ports") if isinstance(p.get("name"), str)
        }
        for port in _items(spec, "ports"):
            name = port.get("name")
            previous = by_name.get(name) if isinstance(name, str) else None
            if port.get("nodePort") in (None, 0) and previous not in (None, 0) and previous not in used:
                port["nodePort"] = previous
    if (
        _needs_health_check_port(old)
        and _needs_health_check_port(spec)
        and spec.get("healthCheckNodePort") in (None, 0)
        and old.get("healthCheckNodePort")
    ):
        spec["healthCheckNodePort"] = old["healthCheckNodePort"]


def _same_cluster_ips(spec: JSONDict, old: JSONDict) -> bool:
    return (spec.get("clusterIP") or "") == (old.get("clusterIP") or "") and (
        spec.get("clusterIPs") or []
    ) == (old.get("clusterIPs") or [])


def _normalize_cluster_ips(spec: JSONDict, old: JSONDict) -> None:
    if (
        old.get("clusterIPs")
        and not spec.get("clusterIPs")
        and (spec.get("clusterIP") or "") == (old.get("clusterIP") or "")
    ):
        spec["clusterIPs"] = copy.deepcopy(old["clusterIPs"])
    if (spec.get("clusterIP") or "") != (old.get("clusterIP") or ""):
        same_plural = (spec.get("clusterIPs") or []) == (old.get("clusterIPs") or [])
        if not _unset(old, "clusterIP") and _unset(spec, "clusterIP") and same_plural:
            spec.pop("clusterIPs", None)
        elif same_plural and not _unset(spec, "clusterIP"):
            spec["clusterIPs"] = [spec["clusterIP"]]


def _drop_type_dependent(spec: JSONDict, old: JSONDict) -> None:
    if _needs_cluster_ip(old) and not _needs_cluster_ip(spec):
        if _same_cluster_ips(spec, old):
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        if spec.get("ipFamilies") == old.get("ipFamilies"):
            spec.pop("ipFamilies", None)
        if spec.get("ipFamilyPolicy") == old.get("ipFamilyPolicy"):
            spec.pop("ipFamilyPolicy", None)
    if _needs_node_port(old) and not _needs_node_port(spec) and _node_ports(spec) <= _node_ports(old):
        for port in _items(spec, "ports"):
            port.pop("nodePort", None)
    if (
        _needs_health_check_port(old)
        and not _needs_health_check_port(spec)
        and spec.get("healthCheckNodePort") == old.get("healthCheckNodePort")
    ):
        spec.pop("healthCheckNodePort", None)
    if old.get("type") == "LoadBalancer" and spec.get("type") != "LoadBalancer":
        if spec.get("allocateLoadBalancerNodePorts") is not None and spec.get(
            "allocateLoadBalancerNodePorts"
        ) == old.get("allocateLoadBalancerNodePorts"):
            spec.pop("allocateLoadBalancerNodePorts", None)
        if spec.get("loadBalancerClass") == old.get("loadBalancerClass"):
            spec.pop("loadBalancerClass", None)


# --- QoS ----------------------------------------------------------------------------------------------------


def pod_qos_class(pod: JSONDict) -> str:
    """``BestEffort``, ``Burstable`` or ``Guaranteed`` from the cpu and memory requests and limits of a Pod.

    >>> pod_qos_class({"spec": {"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}})
    'Burstable'
    """
    spec = _obj(pod, "spec") or {}
    requests: dict[str, Decimal] = {}
    limits: dict[str, Decimal] = {}
    guaranteed = True
    for key in ("initContainers", "containers"):
        for container in _items(spec, key):
            resources = _obj(container, "resources") or {}
            _sum_compute(_obj(resources, "requests"), requests)
            found = _sum_compute(_obj(resources, "limits"), limits)
            if found != {"cpu", "memory"}:
                guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if (
        guaranteed
        and all(limits.get(name) == value for name, value in requests.items())
        and len(requests) == len(limits)
    ):
        return "Guaranteed"
    return "Burstable"


def _sum_compute(values: JSONDict | None, totals: dict[str, Decimal]) -> set[str]:
    found: set[str] = set()
    for name in ("cpu", "memory"):
        raw = (values or {}).get(name)
        try:
            amount = parse_quantity(raw).value if raw is not None else Decimal(0)
        except (ValueError, InvalidOperation):
            amount = Decimal(0)
        if amount > 0:
            totals[name] = totals.get(name, Decimal(0)) + amount
            found.add(name)
    return found
