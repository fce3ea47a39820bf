"""The OpenAPI schemas of Kubernetes kinds, read from the kubernetes-validate wheel, and a navigable view of them.

Owns loading the v1.37 definitions (once, lazily) and :class:`Schema`, a node that follows ``$ref`` and answers
what patching, applying, validation and OpenAPI need: a field's sub-schema, list items, map values, and the
``x-kubernetes-*`` extensions (patch strategy and merge key, list type and map keys). A custom resource's
``openAPIV3Schema`` is wrapped the same way. Reads a data file from an installed package; nothing else.

>>> container = definition("io.k8s.api.core.v1.PodSpec").field("containers")
>>> container.patch_strategy, container.patch_merge_key, container.items().field("image").types
('merge', 'name', ('string',))
"""

from __future__ import annotations

import functools
import json
import pathlib
from collections.abc import Mapping
from typing import Any

import kubernetes_validate

KUBERNETES_VERSION = "1.37.0"
REF_PREFIX = "#/$defs/"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


@functools.cache
def definitions() -> dict[str, dict[str, Any]]:
    """All definitions by name, e.g. ``io.k8s.api.apps.v1.Deployment``."""
    root = pathlib.Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    path = root / f"v{KUBERNETES_VERSION}-local" / "_definitions.json"
    with path.open(encoding="utf-8") as f:
        data: dict[str, dict[str, Any]] = json.load(f)["$defs"]
    return data


def definition(name: str) -> Schema:
    """The schema of one definition; raises KeyError for an unknown name."""
    return Schema(definitions()[name])


class Schema:
    """One node of a JSON schema with ``$ref`` resolved against the Kubernetes definitions.

    ``Schema.ANY`` stands for "anything goes" (unknown fields, preserved unknown fields, free-form maps).
    """

    ANY: Schema

    __slots__ = ("raw",)

    def __init__(self, raw: Mapping[str, Any]) -> None:
        while "$ref" in raw:
            name = raw["$ref"].removeprefix(REF_PREFIX)
            merged = dict(definitions()[name])
            # A sibling description or extension next to $ref still applies to this use of the type.
            merged.update({k: v for k, v in raw.items() if k != "$ref"})
            raw = merged
        self.raw = raw

    def __repr__(self) -> str:
        return f"Schema({self.types}, fields={sorted(self.properties)[:6]})"

    @property
    def ref_name(self) -> str | None:
        gvk = self.raw.get("x-kubernetes-group-version-kind")
        return str(gvk) if gvk else None

    @property
    def types(self) -> tuple[str, ...]:
        """The JSON types allowed here, ``null`` left out; ``()`` when the schema does not say."""
        t = self.raw.get("type")
        if t is None:
            if "oneOf" in self.raw:  # IntOrString, Quantity
                return tuple(sorted({x for alt in self.raw["oneOf"] for x in Schema(alt).types}))
            return ()
        if isinstance(t, str):
            return (t,) if t != "null" else ()
        return tuple(x for x in t if x != "null")

    @property
    def properties(self) -> Mapping[str, Any]:
        return self.raw.get("properties") or {}

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.raw.get("required") or ())

    @property
    def description(self) -> str:
        return str(self.raw.get("description", ""))

    @property
    def preserves_unknown(self) -> bool:
        """True when fields not named in the schema are kept (free-form objects, RawExtension, CRDs that say so)."""
        if self.raw.get("x-kubernetes-preserve-unknown-fields"):
            return True
        if "object" in self.types and not self.properties and "additionalProperties" not in self.raw:
            return True
        return not self.types and not self.properties and "items" not in self.raw

    def field(self, name: str) -> Schema | None:
        """The schema of field ``name`` of an object; ``None`` when the field is unknown here."""
        props = self.properties
        if name in props:
            return Schema(props[name])
        additional = self.raw.get("additionalProperties")
        if isinstance(additional, Mapping):
            return Schema(additional)
        if additional is True or self.preserves_unknown:
            return Schema.ANY
        return None

    def items(self) -> Schema:
        """The schema of a list's items (``ANY`` when unspecified)."""
        items = self.raw.get("items")
        return Schema(items) if isinstance(items, Mapping) else Schema.ANY

    def values(self) -> Schema | None:
        """The schema of a map's values (``additionalProperties``), if this is a map."""
        additional = self.raw.get("additionalProperties")
        if isinstance(additional, Mapping):
            return Schema(additional)
        return Schema.ANY if additional is True else None

    @property
    def patch_strategy(self) -> str | None:
        """``merge``, ``replace``, ``retainKeys`` or ``merge,retainKeys``, from x-kubernetes-patch-strategy."""
        value = self.raw.get("x-kubernetes-patch-strategy")
        return str(value) if value else None

    @property
    def patch_merge_key(self) -> str | None:
        value = self.raw.get("x-kubernetes-patch-merge-key")
        return str(value) if value else None

    @property
    def list_type(self) -> str | None:
        """``atomic``, ``set`` or ``map`` from x-kubernetes-list-type (None when unset)."""
        value = self.raw.get("x-kubernetes-list-type")
        return str(value) if value else None

    @property
    def list_map_keys(self) -> tuple[str, ...]:
        keys = self.raw.get("x-kubernetes-list-map-keys")
        if keys:
            return tuple(keys)
        merge_key = self.patch_merge_key
        return (merge_key,) if merge_key and self.patch_strategy and "merge" in self.patch_strategy else ()

    @property
    def map_type(self) -> str | None:
        """``atomic`` or ``granular`` from x-kubernetes-map-type (None when unset)."""
        value = self.raw.get("x-kubernetes-map-type")
        return str(value) if value else None

    def at(self, *path: str) -> Schema | None:
        """Follow object field names (``"[]"`` steps into list items).

        >>> definition("io.k8s.api.apps.v1.Deployment").at("spec", "template", "spec", "containers", "[]",
        ...     "name").types
        ('string',)
        """
        node: Schema | None = self
        for step in path:
            if node is None:
                return None
            node = node.items() if step == "[]" else node.field(step)
        return node


Schema.ANY = Schema.__new__(Schema)
Schema.ANY.raw = {"x-kubernetes-preserve-unknown-fields": True}


def for_type(schema_ref: str | None, custom_schema: Mapping[str, Any] | None) -> Schema:
    """The schema of a resource type: a built-in definition or a CRD's openAPIV3Schema (ANY when neither)."""
    if schema_ref:
        return definition(schema_ref)
    raw = dict(custom_schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    # Every custom resource has standard metadata, whatever its CRD says about the field.
    raw["properties"] = {**(raw.get("properties") or {}),
                         "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                         "metadata": {"$ref": REF_PREFIX + OBJECT_META}}
    return Schema(raw)
