"""Decoding of ``application/vnd.kubernetes.protobuf`` request bodies into JSON-shaped objects.

``kubectl create configmap|secret|deployment|service|namespace|serviceaccount`` send their objects in the
Kubernetes protobuf envelope: the magic ``k8s\\x00``, then a ``runtime.Unknown`` message whose ``raw`` field
holds the object encoded with the field numbers of the k8s.io/api ``generated.proto`` files. This module owns
a small wire-format reader and one table per supported message mapping field numbers to JSON names, so that a
body decodes to the dict kubectl would have sent as JSON (empty ``omitempty`` values dropped, empty structs
kept as ``{}``).

Only the kinds in :data:`KINDS` are understood; some deep parts of a pod spec (volumes, affinity, probes,
security contexts, ...) are not modelled and give 415 when present. It must not do I/O, defaulting or
validation beyond what decoding itself rejects, and :func:`decode` raises nothing but
:class:`statuses.ApiError`.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import functools
import json
import re
from collections.abc import Iterator
from typing import Any

from gitops_lab.sandbox import statuses

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

KINDS: dict[tuple[str, str], str] = {
    ("v1", "ConfigMap"): "ConfigMap",
    ("v1", "Secret"): "Secret",
    ("v1", "Namespace"): "Namespace",
    ("v1", "Service"): "Service",
    ("v1", "ServiceAccount"): "ServiceAccount",
    ("apps/v1", "Deployment"): "Deployment",
}
"""(apiVersion, kind) that :func:`decode` understands, with the name of their message in :data:`MESSAGES`."""

# One entry per message: "<number> <jsonName> <type>" separated by ";". A type is a scalar (string, bytes,
# bool, int32, int64), a special value (IntOrString, Quantity, Time) or a message name; "[]T" is a repeated
# field and "{T}" a map with string keys. Suffix "!" keeps a zero value (pointer fields and fields without
# omitempty); suffix "~" drops an unset Time (omitzero). The JSON name "^" marks an embedded struct whose
# fields are inlined into its parent.
# Field numbers and names are those of k8s.io/api v1.37 (core/v1, apps/v1) and apimachinery meta/v1.
MESSAGES: dict[str, str] = {
    "ConfigMap": "1 metadata ObjectMeta; 2 data {string}; 3 binaryData {bytes}; 4 immutable bool!",
    "Secret": (
        "1 metadata ObjectMeta; 2 data {bytes}; 3 type string; 4 stringData {string}; 5 immutable bool!"),
    "Namespace": "1 metadata ObjectMeta; 2 spec NamespaceSpec; 3 status NamespaceStatus",
    "Service": "1 metadata ObjectMeta; 2 spec ServiceSpec; 3 status ServiceStatus",
    "ServiceAccount": (
        "1 metadata ObjectMeta; 2 secrets []ObjectReference; 3 imagePullSecrets []LocalObjectReference; "
        "4 automountServiceAccountToken bool!"),
    "Deployment": "1 metadata ObjectMeta; 2 spec DeploymentSpec; 3 status DeploymentStatus",
    "ObjectMeta": (
        "1 name string; 2 generateName string; 3 namespace string; 4 selfLink string; 5 uid string; "
        "6 resourceVersion string; 7 generation int64; 8 creationTimestamp Time~; 9 deletionTimestamp Time; "
        "10 deletionGracePeriodSeconds int64!; 11 labels {string}; 12 annotations {string}; "
        "13 ownerReferences []OwnerReference; 14 finalizers []string; 17 managedFields []ManagedFieldsEntry"),
    "OwnerReference": (
        "1 kind string!; 3 name string!; 4 uid string!; 5 apiVersion string!; 6 controller bool!; "
        "7 blockOwnerDeletion bool!"),
    "LabelSelector": "1 matchLabels {string}; 2 matchExpressions []LabelSelectorRequirement",
    "LabelSelectorRequirement": "1 key string!; 2 operator string!; 3 values []string",
    "Condition": (
        "1 type string!; 2 status string!; 3 observedGeneration int64; 4 lastTransitionTime Time; "
        "5 reason string!; 6 message string!"),
    "NamespaceSpec": "1 finalizers []string",
    "NamespaceStatus": "1 phase string; 2 conditions []NamespaceCondition",
    "NamespaceCondition": (
        "1 type string!; 2 status string!; 4 lastTransitionTime Time; 5 reason string; 6 message string"),
    "ServiceSpec": (
        "1 ports []ServicePort; 2 selector {string}; 3 clusterIP string; 4 type string; "
        "5 externalIPs []string; 7 sessionAffinity string; 8 loadBalancerIP string; "
        "9 loadBalancerSourceRanges []string; 10 externalName string; 11 externalTrafficPolicy string; "
        "12 healthCheckNodePort int32; 13 publishNotReadyAddresses bool; "
        "14 sessionAffinityConfig SessionAffinityConfig; 17 ipFamilyPolicy string!; 18 clusterIPs []string; "
        "19 ipFamilies []string; 20 allocateLoadBalancerNodePorts bool!; 21 loadBalancerClass string!; "
        "22 internalTrafficPolicy string!; 23 trafficDistribution string!"),
    "ServicePort": (
        "1 name string; 2 protocol string; 3 port int32!; 4 targetPort IntOrString; 5 nodePort int32; "
        "6 appProtocol string!"),
    "SessionAffinityConfig": "1 clientIP ClientIPConfig",
    "ClientIPConfig": "1 timeoutSeconds int32!",
    "ServiceStatus": "1 loadBalancer LoadBalancerStatus; 2 conditions []Condition",
    "LoadBalancerStatus": "1 ingress []LoadBalancerIngress",
    "LoadBalancerIngress": "1 ip string; 2 hostname string; 3 ipMode string!; 4 ports []PortStatus",
    "PortStatus": "1 port int32!; 2 protocol string!; 3 error string!",
    "ObjectReference": (
        "1 kind string; 2 namespace string; 3 name string; 4 uid string; 5 apiVersion string; "
        "6 resourceVersion string; 7 fieldPath string"),
    "LocalObjectReference": "1 name string",
    "DeploymentSpec": (
        "1 replicas int32!; 2 selector LabelSelector; 3 template PodTemplateSpec; "
        "4 strategy DeploymentStrategy; 5 minReadySeconds int32; 6 revisionHistoryLimit int32!; "
        "7 paused bool; 9 progressDeadlineSeconds int32!"),
    "DeploymentStrategy": "1 type string; 2 rollingUpdate RollingUpdateDeployment",
    "RollingUpdateDeployment": "1 maxUnavailable IntOrString; 2 maxSurge IntOrString",
    "DeploymentStatus": (
        "1 observedGeneration int64; 2 replicas int32; 3 updatedReplicas int32; 4 availableReplicas int32; "
        "5 unavailableReplicas int32; 6 conditions []DeploymentCondition; 7 readyReplicas int32; "
        "8 collisionCount int32!; 9 terminatingReplicas int32!"),
    "DeploymentCondition": (
        "1 type string!; 2 status string!; 4 reason string; 5 message string; 6 lastUpdateTime Time; "
        "7 lastTransitionTime Time"),
    "PodTemplateSpec": "1 metadata ObjectMeta; 2 spec PodSpec",
    "PodSpec": (
        "1 volumes []Volume; 2 containers []Container; 3 restartPolicy string; "
        "4 terminationGracePeriodSeconds int64!; 5 activeDeadlineSeconds int64!; 6 dnsPolicy string; "
        "7 nodeSelector {string}; 8 serviceAccountName string; 9 serviceAccount string; 10 nodeName string; "
        "11 hostNetwork bool; 12 hostPID bool; 13 hostIPC bool; 14 securityContext PodSecurityContext; "
        "15 imagePullSecrets []LocalObjectReference; 16 hostname string; 17 subdomain string; "
        "18 affinity Affinity; 19 schedulerName string; 20 initContainers []Container; "
        "21 automountServiceAccountToken bool!; 22 tolerations []Toleration; 23 hostAliases []HostAlias; "
        "24 priorityClassName string; 25 priority int32!; 26 dnsConfig PodDNSConfig; "
        "27 shareProcessNamespace bool!; 28 readinessGates []PodReadinessGate; 29 runtimeClassName string!; "
        "30 enableServiceLinks bool!; 31 preemptionPolicy string!; 32 overhead {Quantity}; "
        "33 topologySpreadConstraints []TopologySpreadConstraint; "
        "34 ephemeralContainers []EphemeralContainer; 35 setHostnameAsFQDN bool!; 36 os PodOS; "
        "37 hostUsers bool!; 38 schedulingGates []PodSchedulingGate; 39 resourceClaims []PodResourceClaim; "
        "40 resources ResourceRequirements; 41 hostnameOverride string!; "
        "43 schedulingGroup PodSchedulingGroup; 44 evictionResponders []EvictionResponder"),
    "Toleration": (
        "1 key string; 2 operator string; 3 value string; 4 effect string; 5 tolerationSeconds int64!"),
    "HostAlias": "1 ip string!; 2 hostnames []string",
    "PodReadinessGate": "1 conditionType string!",
    "PodSchedulingGroup": "1 podGroupName string!",
    "Container": (
        "1 name string!; 2 image string; 3 command []string; 4 args []string; 5 workingDir string; "
        "6 ports []ContainerPort; 7 env []EnvVar; 8 resources ResourceRequirements; "
        "9 volumeMounts []VolumeMount; 10 livenessProbe Probe; 11 readinessProbe Probe; "
        "12 lifecycle Lifecycle; 13 terminationMessagePath string; 14 imagePullPolicy string; "
        "15 securityContext SecurityContext; 16 stdin bool; 17 stdinOnce bool; 18 tty bool; "
        "19 envFrom []EnvFromSource; 20 terminationMessagePolicy string; 21 volumeDevices []VolumeDevice; "
        "22 startupProbe Probe; 23 resizePolicy []ContainerResizePolicy; 24 restartPolicy string!; "
        "25 restartPolicyRules []ContainerRestartRule"),
    "ContainerPort": (
        "1 name string; 2 hostPort int32; 3 containerPort int32!; 4 protocol string; 5 hostIP string"),
    "ResourceRequirements": "1 limits {Quantity}; 2 requests {Quantity}; 3 claims []ResourceClaim",
    "VolumeMount": (
        "1 name string!; 2 readOnly bool; 3 mountPath string!; 4 subPath string; 5 mountPropagation string!; "
        "6 subPathExpr string; 7 recursiveReadOnly string!; 8 bindMountOptions []string"),
    "EnvVar": "1 name string!; 2 value string; 3 valueFrom EnvVarSource",
    "EnvVarSource": (
        "1 fieldRef ObjectFieldSelector; 2 resourceFieldRef ResourceFieldSelector; "
        "3 configMapKeyRef ConfigMapKeySelector; 4 secretKeyRef SecretKeySelector; "
        "5 fileKeyRef FileKeySelector"),
    "ObjectFieldSelector": "1 apiVersion string; 2 fieldPath string!",
    "ResourceFieldSelector": "1 containerName string; 2 resource string!; 3 divisor Quantity",
    "ConfigMapKeySelector": "1 ^ LocalObjectReference; 2 key string!; 3 optional bool!",
    "SecretKeySelector": "1 ^ LocalObjectReference; 2 key string!; 3 optional bool!",
    "FileKeySelector": "1 volumeName string!; 2 path string!; 3 key string!; 4 optional bool!",
    "EnvFromSource": "1 prefix string; 2 configMapRef ConfigMapEnvSource; 3 secretRef SecretEnvSource",
    "ConfigMapEnvSource": "1 ^ LocalObjectReference; 2 optional bool!",
    "SecretEnvSource": "1 ^ LocalObjectReference; 2 optional bool!",
}

NOT_MODELLED = frozenset({
    "Affinity", "ContainerResizePolicy", "ContainerRestartRule", "EphemeralContainer", "EvictionResponder",
    "Lifecycle", "ManagedFieldsEntry", "PodDNSConfig", "PodOS", "PodResourceClaim", "PodSchedulingGate",
    "PodSecurityContext", "Probe", "ResourceClaim", "SecurityContext", "TopologySpreadConstraint", "Volume",
    "VolumeDevice",
})
"""Messages referenced by the tables but not decoded: a body that sets one is answered with 415."""

_SCALARS = frozenset({"string", "bytes", "bool", "int32", "int64"})
_VARINT, _FIXED64, _BYTES, _START_GROUP, _END_GROUP, _FIXED32 = 0, 1, 2, 3, 4, 5
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_UINT64 = (1 << 64) - 1


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of a message table: JSON name ("" when inlined), type, and how zero values are treated."""

    name: str
    type: str
    label: str = ""
    """``""`` for a singular field, ``"repeated"`` or ``"map"``."""
    keep_zero: bool = False
    omit_unset: bool = False


class _Malformed(Exception):
    """The bytes are not a valid encoding (400)."""


class _Unsupported(Exception):
    """The bytes set a field this module does not model (415)."""


@functools.cache
def message_fields(message: str) -> dict[int, Field]:
    """The fields of one modelled message by number; raises KeyError for a message that is not modelled.

    >>> message_fields("ConfigMap")[4]
    Field(name='immutable', type='bool', label='', keep_zero=True, omit_unset=False)
    """
    fields: dict[int, Field] = {}
    for spec in MESSAGES[message].split(";"):
        number, name, kind = spec.split()
        keep, omit = kind.endswith("!"), kind.endswith("~")
        kind = kind.rstrip("!~")
        label = ""
        if kind.startswith("[]"):
            kind, label = kind[2:], "repeated"
        elif kind.startswith("{"):
            kind, label = kind[1:-1], "map"
        fields[int(number)] = Field("" if name == "^" else name, kind, label, keep, omit)
    return fields


def supported(api_version: str, kind: str) -> bool:
    """Whether :func:`decode` understands objects of this apiVersion and kind."""
    return (api_version, kind) in KINDS


def decode(body: bytes, *, expect: tuple[str, str] | None = None) -> dict[str, Any]:
    """Decode a protobuf request body to the JSON-shaped object, ``apiVersion`` and ``kind`` included.

    ``expect`` is the (apiVersion, kind) the endpoint serves: like kube-apiserver, it fills in an envelope
    that leaves them out and names the expected kind in errors. Checking that the object has that kind is
    the caller's job.

    Raises:
        statuses.ApiError: 400 BadRequest for bytes that are not a valid encoding, 415 UnsupportedMediaType
            for a kind (or a nested field) this module cannot decode.

    >>> envelope = b"k8s\\x00\\n\\x0f\\n\\x02v1\\x12\\tConfigMap\\x12\\x0e"
    >>> decode(envelope + b"\\n\\x03\\n\\x01x\\x12\\x07\\n\\x01a\\x12\\x02hi")
    {'kind': 'ConfigMap', 'apiVersion': 'v1', 'metadata': {'name': 'x'}, 'data': {'a': 'hi'}}
    """
    into = expect[1] if expect else None
    try:
        api_version, kind, raw = _envelope(body)
    except _Malformed as err:
        raise _unrecognized(str(err), body, into) from None
    type_meta = f"runtime.TypeMeta{{APIVersion:{json.dumps(api_version)}, Kind:{json.dumps(kind)}}}"
    if expect:
        kind = kind or expect[1]
        api_version = api_version or expect[0]
    version = api_version.rpartition("/")[2]
    if not kind:
        raise _unrecognized(f"Object 'Kind' is missing in '{type_meta}'", body, into)
    if not version:
        raise _cannot_handle(kind, version, into, f"Object 'apiVersion' is missing in '{type_meta}'")
    message = KINDS.get((api_version, kind))
    if message is None:
        raise statuses.ApiError(415, "UnsupportedMediaType",
                                f'{kind} in version "{version}" cannot be decoded from {CONTENT_TYPE} by the '
                                f"sandbox: send it as application/json")
    obj: dict[str, Any] = {"kind": kind, "apiVersion": api_version}
    try:
        _decode_message(raw, message, obj, "")
    except _Malformed as err:
        raise _cannot_handle(kind, version, into, str(err)) from None
    except _Unsupported as err:
        raise statuses.ApiError(415, "UnsupportedMediaType",
                                f"the sandbox cannot decode field {err} of {kind} from {CONTENT_TYPE}: "
                                f"send it as application/json") from None
    return obj


def _unrecognized(why: str, body: bytes, into: str | None) -> statuses.ApiError:
    summary = _summarize(body, 30)
    must = f" (must be of type {into})" if into else ""
    return statuses.bad_request(f"the object provided is unrecognized{must}: {why} ({summary})")


def _cannot_handle(kind: str, version: str, into: str | None, why: str) -> statuses.ApiError:
    return statuses.bad_request(f'{kind} in version "{version}" cannot be handled as a {into or kind}: {why}')


def _summarize(data: bytes, limit: int) -> str:
    """The start of a body as kube-apiserver quotes it in decode errors."""
    if not data:
        return "<empty>"
    if data[:1] == b"{":
        text = data[:limit].decode("utf-8", "replace")
    else:
        text = data[:limit].hex()
    return text + " ..." if len(data) > limit else text


# --- the envelope -------------------------------------------------------------------------------------------


def _envelope(body: bytes) -> tuple[str, str, memoryview]:
    """apiVersion, kind and raw object bytes of the ``runtime.Unknown`` after the magic prefix."""
    if not body:
        raise _Malformed("empty data")
    if not body.startswith(MAGIC):
        raise _Malformed(f"provided data does not appear to be a protobuf message, expected prefix "
                         f"[{' '.join(str(b) for b in MAGIC)}]")
    if len(body) == len(MAGIC):
        raise _Malformed("empty body")
    api_version, kind, raw = "", "", memoryview(b"")
    for number, wire, value in _fields(memoryview(body)[len(MAGIC):], "Unknown"):
        if number == 1:
            api_version, kind = _type_meta(_expect_bytes(value, wire, "TypeMeta"), api_version, kind)
        elif number == 2:
            raw = _expect_bytes(value, wire, "Raw")
        elif number in (3, 4):
            _expect_bytes(value, wire, "ContentEncoding" if number == 3 else "ContentType")
    return api_version, kind, raw


def _type_meta(data: memoryview, api_version: str, kind: str) -> tuple[str, str]:
    for number, wire, value in _fields(data, "TypeMeta"):
        if number == 1:
            api_version = _text(_expect_bytes(value, wire, "APIVersion"))
        elif number == 2:
            kind = _text(_expect_bytes(value, wire, "Kind"))
    return api_version, kind


# --- the wire format ----------------------------------------------------------------------------------------


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    """The unsigned varint at ``pos`` (bits past 64 dropped, as Go does) and the position after it."""
    result, shift = 0, 0
    while True:
        if shift >= 64:
            raise _Malformed("proto: integer overflow")
        if pos >= len(data):
            raise _Malformed("unexpected EOF")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & _UINT64, pos
        shift += 7


def _advance(data: memoryview, pos: int, size: int) -> int:
    if size >= 1 << 63:
        raise _Malformed("proto: negative length found during unmarshaling")
    if pos + size > len(data):
        raise _Malformed("unexpected EOF")
    return pos + size


def _skip_group(data: memoryview, pos: int) -> int:
    """The position after the end of a group whose start tag has just been read."""
    depth = 1
    while depth:
        key, pos = _varint(data, pos)
        wire = key & 7
        if wire == _VARINT:
            pos = _varint(data, pos)[1]
        elif wire == _FIXED64:
            pos = _advance(data, pos, 8)
        elif wire == _BYTES:
            size, pos = _varint(data, pos)
            pos = _advance(data, pos, size)
        elif wire == _START_GROUP:
            depth += 1
        elif wire == _END_GROUP:
            depth -= 1
        elif wire == _FIXED32:
            pos = _advance(data, pos, 4)
        else:
            raise _Malformed(f"proto: illegal wireType {wire}")
    return pos


def _fields(data: memoryview, message: str) -> Iterator[tuple[int, int, int | memoryview | None]]:
    """(number, wire type, value) of each field: an int for varints and fixed, a view for length-delimited."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = _int32(key >> 3), key & 7
        if wire == _END_GROUP:
            raise _Malformed(f"proto: {message}: wiretype end group for non-group")
        if number <= 0:
            raise _Malformed(f"proto: {message}: illegal tag {number} (wire type {key})")
        value: int | memoryview | None = None
        if wire == _VARINT:
            value, pos = _varint(data, pos)
        elif wire in (_FIXED64, _FIXED32):
            end = _advance(data, pos, 8 if wire == _FIXED64 else 4)
            value, pos = int.from_bytes(data[pos:end], "little"), end
        elif wire == _BYTES:
            size, pos = _varint(data, pos)
            end = _advance(data, pos, size)
            value, pos = data[pos:end], end
        elif wire == _START_GROUP:
            pos = _skip_group(data, pos)
        else:
            raise _Malformed(f"proto: illegal wireType {wire}")
        yield number, wire, value


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _go_name(name: str) -> str:
    return name[:1].upper() + name[1:]


def _expect_bytes(value: int | memoryview | None, wire: int, name: str) -> memoryview:
    if wire != _BYTES or not isinstance(value, memoryview):
        raise _Malformed(f"proto: wrong wireType = {wire} for field {_go_name(name)}")
    return value


def _expect_varint(value: int | memoryview | None, wire: int, name: str) -> int:
    if wire != _VARINT or not isinstance(value, int):
        raise _Malformed(f"proto: wrong wireType = {wire} for field {_go_name(name)}")
    return value


def _text(data: memoryview) -> str:
    # Go keeps invalid UTF-8 in strings; its JSON encoder then writes U+FFFD, which is what we keep.
    return bytes(data).decode("utf-8", "replace")


# --- messages -----------------------------------------------------------------------------------------------


def _decode_message(data: memoryview, message: str, into: dict[str, Any], path: str) -> None:
    """Decode the fields of ``message`` into ``into`` (merging, as protobuf does for repeated messages)."""
    table = message_fields(message)
    for number, wire, value in _fields(data, message):
        field = table.get(number)
        if field is None:
            continue  # unknown to v1.37: skipped, as generated Go code does
        where = f"{path}.{field.name}" if path and field.name else field.name or path
        if field.label == "repeated":
            items = into.setdefault(field.name, [])
            items.append(_single(field, wire, value, f"{where}[{len(items)}]", None))
        elif field.label == "map":
            key, item = _map_entry(field, _expect_bytes(value, wire, field.name), where)
            into.setdefault(field.name, {})[key] = item
        elif not field.name:
            _decode_message(_expect_bytes(value, wire, field.type), field.type, into, path)
        else:
            _assign(into, field, _single(field, wire, value, where, into.get(field.name)))


def _assign(into: dict[str, Any], field: Field, value: Any) -> None:
    """Set a singular field, leaving out what Go's JSON encoder would omit (last occurrence wins)."""
    omitted_scalar = field.type in _SCALARS and not field.keep_zero and value in ("", 0, False)
    if omitted_scalar or (value is None and field.omit_unset):
        into.pop(field.name, None)
    else:
        into[field.name] = value


def _single(field: Field, wire: int, value: int | memoryview | None, where: str, previous: Any) -> Any:
    """One value of ``field`` (for a message, merged into ``previous`` when that is a dict)."""
    kind = field.type
    if kind in ("bool", "int32", "int64"):
        number = _expect_varint(value, wire, field.name)
        return number != 0 if kind == "bool" else _int32(number) if kind == "int32" else _int64(number)
    data = _expect_bytes(value, wire, field.name)
    if kind == "string":
        return _text(data)
    if kind == "bytes":
        return base64.b64encode(data).decode("ascii")
    if kind == "IntOrString":
        return _int_or_string(data)
    if kind == "Quantity":
        return _quantity(data)
    if kind == "Time":
        return _time(data)
    if kind in NOT_MODELLED:
        raise _Unsupported(f"{where} ({kind})")
    target = previous if isinstance(previous, dict) else {}
    _decode_message(data, kind, target, where)
    return target


def _map_entry(field: Field, data: memoryview, where: str) -> tuple[str, Any]:
    """Key and value of one map entry (a message with the key as field 1 and the value as field 2)."""
    key, item = "", None
    for number, wire, value in _fields(data, "MapEntry"):
        if number == 1:
            key = _text(_expect_bytes(value, wire, "key"))
        elif number == 2:
            item = _single(field, wire, value, where, None)
    if item is None:  # an absent value is the zero value of its type
        item = _single(field, _BYTES, memoryview(b""), where, None) if field.type not in _SCALARS else ""
    return key, item


def _int_or_string(data: memoryview) -> int | str:
    type_, number, text = 0, 0, ""
    for field, wire, value in _fields(data, "IntOrString"):
        if field == 1:
            type_ = _int64(_expect_varint(value, wire, "Type"))
        elif field == 2:
            number = _int32(_expect_varint(value, wire, "IntVal"))
        elif field == 3:
            text = _text(_expect_bytes(value, wire, "StrVal"))
    if type_ not in (0, 1):
        raise _Malformed("impossible IntOrString.Type")
    return number if type_ == 0 else text


def _quantity(data: memoryview) -> str:
    text = "0"
    for field, wire, value in _fields(data, "Quantity"):
        if field == 1:
            text = _text(_expect_bytes(value, wire, "String_"))
            if not _QUANTITY.fullmatch(text):
                raise _Malformed(f"quantities must match the regular expression '{_QUANTITY.pattern}'")
    return text


def _time(data: memoryview) -> str | None:
    """RFC 3339 in UTC to the second, as metav1.Time writes it; ``None`` for the zero time (empty message)."""
    if not data:
        return None
    seconds = 0
    for field, wire, value in _fields(data, "Timestamp"):
        if field == 1:
            seconds = _int64(_expect_varint(value, wire, "Seconds"))
        elif field == 2:
            _expect_varint(value, wire, "Nanos")  # dropped: the JSON form has whole seconds
    try:
        moment = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(seconds=seconds)
    except OverflowError:
        raise _Malformed("Time.MarshalJSON: year outside of range [0,9999]") from None
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z")
