"""The resource types the sandbox serves: built-in kinds and those added by CustomResourceDefinitions.

Owns the table of types (group, version, kind, plural, scope, short names, categories, subresources, verbs) and
lookups by plural, kind or short name. Pure data: no I/O, no knowledge of storage or HTTP.

>>> deployments = builtin_types()["apps/deployments"]
>>> deployments.kind, deployments.api_version, deployments.namespaced
('Deployment', 'apps/v1', True)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclasses.dataclass(frozen=True)
class ResourceType:
    """One REST resource: what a URL path segment names and what it stores."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: frozenset[str] = frozenset()
    verbs: tuple[str, ...] = ALL_VERBS
    schema_ref: str | None = None
    """Name of the definition in the kubernetes-validate schemas (built-ins) or None (custom resources)."""
    custom_schema: Mapping[str, Any] | None = dataclasses.field(default=None, compare=False, hash=False)
    """openAPIV3Schema of a custom resource's served version."""
    scale_paths: tuple[str, str, str | None] | None = None
    """specReplicasPath, statusReplicasPath, labelSelectorPath for the scale subresource of a custom resource."""

    @property
    def key(self) -> str:
        """Storage and lookup key: ``group/plural`` (``/pods`` style for the core group is ``pods``)."""
        return f"{self.group}/{self.plural}" if self.group else self.plural

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def is_custom(self) -> bool:
        return self.schema_ref is None


def _core(kind: str, plural: str, *, namespaced: bool = True, short: Iterable[str] = (),
          categories: Iterable[str] = (), sub: Iterable[str] = (), verbs: tuple[str, ...] = ALL_VERBS
          ) -> ResourceType:
    return ResourceType("", "v1", kind, plural, kind.lower(), namespaced, tuple(short), tuple(categories),
                        frozenset(sub), verbs, f"io.k8s.api.core.v1.{kind}")


_BUILTINS: tuple[ResourceType, ...] = (
    _core("Namespace", "namespaces", namespaced=False, short=("ns",), sub=("status", "finalize")),
    _core("Node", "nodes", namespaced=False, short=("no",), sub=("status",)),
    _core("Pod", "pods", short=("po",), categories=("all",), sub=("status", "log", "binding", "eviction")),
    _core("Service", "services", short=("svc",), categories=("all",), sub=("status",)),
    _core("Endpoints", "endpoints", short=("ep",)),
    _core("ConfigMap", "configmaps", short=("cm",)),
    _core("Secret", "secrets"),
    _core("ServiceAccount", "serviceaccounts", short=("sa",)),
    _core("Event", "events", short=("ev",)),
    ResourceType("apps", "v1", "Deployment", "deployments", "deployment", True, ("deploy",), ("all",),
                 frozenset({"status", "scale"}), ALL_VERBS, "io.k8s.api.apps.v1.Deployment"),
    ResourceType("apps", "v1", "ReplicaSet", "replicasets", "replicaset", True, ("rs",), ("all",),
                 frozenset({"status", "scale"}), ALL_VERBS, "io.k8s.api.apps.v1.ReplicaSet"),
    ResourceType("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
                 "customresourcedefinition", False, ("crd", "crds"), (), frozenset({"status"}), ALL_VERBS,
                 "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"),
)


def builtin_types() -> dict[str, ResourceType]:
    """The built-in resource types by :attr:`ResourceType.key`."""
    return {rt.key: rt for rt in _BUILTINS}


def types_from_crd(crd: Mapping[str, Any]) -> list[ResourceType]:
    """The resource types a CustomResourceDefinition serves, one per served version.

    >>> crd = {"spec": {"group": "x.io", "scope": "Namespaced",
    ...        "names": {"kind": "Widget", "plural": "widgets"},
    ...        "versions": [{"name": "v1", "served": True, "storage": True,
    ...                      "schema": {"openAPIV3Schema": {"type": "object"}}}]}}
    >>> [(t.kind, t.api_version, t.singular) for t in types_from_crd(crd)]
    [('Widget', 'x.io/v1', 'widget')]
    """
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    kind = names.get("kind", "")
    plural = names.get("plural", "")
    result = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        subs = version.get("subresources") or {}
        scale = subs.get("scale")
        scale_paths = None
        if scale is not None:
            scale_paths = (scale.get("specReplicasPath", ".spec.replicas"),
                           scale.get("statusReplicasPath", ".status.replicas"),
                           scale.get("labelSelectorPath"))
        result.append(ResourceType(
            group=spec.get("group", ""),
            version=version.get("name", ""),
            kind=kind,
            plural=plural,
            singular=names.get("singular") or kind.lower(),
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            short_names=tuple(names.get("shortNames") or ()),
            categories=tuple(names.get("categories") or ()),
            subresources=frozenset(k for k in ("status", "scale") if k in subs),
            schema_ref=None,
            custom_schema=(version.get("schema") or {}).get("openAPIV3Schema") or {"type": "object",
                                                                                   "x-kubernetes-preserve-unknown-fields": True},
            scale_paths=scale_paths,
        ))
    return result


class Registry:
    """The live set of resource types: built-ins plus whatever established CRDs add.

    Keys are ``group/plural`` plus the version (``apps/v1/deployments``) so a CRD may serve several versions.
    """

    def __init__(self) -> None:
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        self._by_crd: dict[str, list[ResourceType]] = {}
        for rt in _BUILTINS:
            self._add(rt)

    def _add(self, rt: ResourceType) -> None:
        self._types[(rt.group, rt.version, rt.plural)] = rt

    def all(self) -> list[ResourceType]:
        return list(self._types.values())

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._types.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        for rt in self._types.values():
            if rt.group == group and rt.version == version and rt.kind == kind:
                return rt
        return None

    def storage_type(self, group: str, plural: str) -> ResourceType | None:
        """Any served version of ``group/plural``: the one whose objects are stored (the first listed)."""
        for rt in self._types.values():
            if rt.group == group and rt.plural == plural:
                return rt
        return None

    def set_crd(self, crd_name: str, crd: Mapping[str, Any] | None) -> None:
        """Add, replace or (with ``crd=None``) remove the types a CRD serves."""
        for rt in self._by_crd.pop(crd_name, []):
            self._types.pop((rt.group, rt.version, rt.plural), None)
        if crd is None:
            return
        types = types_from_crd(crd)
        self._by_crd[crd_name] = types
        for rt in types:
            self._add(rt)

    def groups(self) -> dict[str, list[str]]:
        """Group name to its versions, in the order first seen (the core group is ``""``)."""
        result: dict[str, list[str]] = {}
        for rt in self._types.values():
            versions = result.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        return result
