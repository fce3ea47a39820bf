"""The OpenAPI v3 documents kube-apiserver publishes at ``/openapi/v3`` and ``/openapi/v3/<gv path>``.

Owns turning the sandbox's resource types into what kubectl (≥ 1.29) reads: the index of group-version
documents with content hashes, and one OpenAPI 3.0 document per group-version with ``components.schemas``
(built-in kinds from the kubernetes-validate definitions, custom resources from their CRD's
``openAPIV3Schema``) and ``paths`` whose operations carry ``x-kubernetes-group-version-kind`` and, on PATCH,
the ``fieldValidation`` parameter kubectl looks for before it trusts the server to validate. Built documents
are memoised on the content of the group-version's resource types, so repeated requests cost a lookup.

Pure: reads a :class:`~gitops_lab.sandbox.registry.Registry` and the packaged definitions, returns JSON-able
dicts (and their canonical JSON bytes). It must not do HTTP or storage; callers treat returned documents as
read-only, since they are shared by the memo.

>>> from gitops_lab.sandbox.registry import Registry
>>> doc = document(Registry(), "apis/apps/v1")
>>> spec = doc["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"]
>>> spec["properties"]["replicas"]["type"], spec["properties"]["template"]["allOf"]
('integer', [{'$ref': '#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec'}])
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from gitops_lab.sandbox import discovery, registry, schemas

OPENAPI_VERSION = "3.0.0"
SCHEMA_PREFIX = "#/components/schemas/"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
OBJECT_META = _META + "ObjectMeta"
LIST_META = _META + "ListMeta"
DELETE_OPTIONS = _META + "DeleteOptions"
STATUS = _META + "Status"
PATCH = _META + "Patch"
WATCH_EVENT = _META + "WatchEvent"
API_RESOURCE_LIST = _META + "APIResourceList"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
META_SCHEMAS = (OBJECT_META, LIST_META, DELETE_OPTIONS, STATUS, PATCH, WATCH_EVENT, API_RESOURCE_LIST)
"""Definitions every group-version document carries, whatever its kinds reference."""

PATCH_MEDIA_TYPES = ("application/apply-patch+yaml", "application/json-patch+json",
                     "application/merge-patch+json")
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
"""Offered for built-in kinds only; kubectl computes strategic merge patches from this document when it is."""

_FORMATS = {INT_OR_STRING: "int-or-string"}
_TEXT_SUBRESOURCES = frozenset({"log", "exec", "attach", "portforward", "proxy"})
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_NODES = ("items", "not", "additionalProperties")


# ---------------------------------------------------------------------------------------- paths of documents


def gv_path(group: str, version: str) -> str:
    """The key of a group-version in the ``/openapi/v3`` index.

    >>> gv_path("", "v1"), gv_path("apps", "v1")
    ('api/v1', 'apis/apps/v1')
    """
    return f"apis/{group}/{version}" if group else f"api/{version}"


def parse_gv_path(path: str) -> tuple[str, str] | None:
    """Group and version named by an index key (a leading ``/`` is tolerated); ``None`` if it names none.

    >>> parse_gv_path("apis/apps/v1"), parse_gv_path("/api/v1"), parse_gv_path("apis/apps")
    (('apps', 'v1'), ('', 'v1'), None)
    """
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api" and parts[1]:
        return "", parts[1]
    if len(parts) == 3 and parts[0] == "apis" and parts[1] and parts[2]:
        return parts[1], parts[2]
    return None


# ----------------------------------------------------------------------------------------- schema conversion


def _ref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMA_PREFIX + name}


def _openapi_type(value: Any) -> str | None:
    """``["string", "null"]`` → ``"string"``: OpenAPI 3.0 has one type per schema and no ``null`` type."""
    if isinstance(value, str):
        return None if value == "null" else value
    types = [t for t in value if t != "null"]
    return types[0] if len(types) == 1 else None


def convert_schema(node: Mapping[str, Any]) -> dict[str, Any]:
    """One JSON-Schema-flavoured node of the kubernetes-validate definitions as an OpenAPI 3.0 schema.

    ``type`` lists lose ``null``; ``$ref`` points into ``#/components/schemas/`` and is wrapped in ``allOf``
    when other keywords (a description) sit beside it, as kube-apiserver publishes it; property names are
    never mistaken for keywords; extensions are kept.

    >>> convert_schema({"$ref": "#/$defs/a.B", "description": "d", "type": ["object", "null"]})
    {'description': 'd', 'allOf': [{'$ref': '#/components/schemas/a.B'}]}
    """
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            continue
        if key == "type":
            openapi_type = _openapi_type(value)
            if openapi_type:
                out["type"] = openapi_type
        elif key == "properties" and isinstance(value, Mapping):
            out[key] = {name: convert_schema(sub) for name, sub in value.items()}
        elif key in _SCHEMA_NODES and isinstance(value, Mapping):
            out[key] = convert_schema(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [convert_schema(alt) for alt in value]
        else:
            out[key] = copy.deepcopy(value)
    if "$ref" not in node:
        return out
    ref = _ref(str(node["$ref"]).removeprefix(schemas.REF_PREFIX))
    if "type" in out and "properties" not in out:
        del out["type"]  # the referenced schema says what the type is
    return {**out, "allOf": [ref]} if out else ref


@functools.cache
def _component(name: str) -> dict[str, Any]:
    """The converted definition ``name`` (shared; never mutate)."""
    converted = convert_schema(schemas.definitions()[name])
    for field in ("apiVersion", "kind"):
        # kubernetes-validate pins these with an enum; the real server publishes them as plain strings.
        prop = (converted.get("properties") or {}).get(field)
        if prop is not None:
            prop.pop("enum", None)
    if name in _FORMATS:
        converted["format"] = _FORMATS[name]
    return converted


def _refs_in(node: Any, found: set[str]) -> None:
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(schemas.REF_PREFIX):
            found.add(ref.removeprefix(schemas.REF_PREFIX))
        for value in node.values():
            _refs_in(value, found)
    elif isinstance(node, list):
        for item in node:
            _refs_in(item, found)


@functools.cache
def _direct_refs(name: str) -> frozenset[str]:
    found: set[str] = set()
    _refs_in(schemas.definitions()[name], found)
    return frozenset(found)


def reachable(roots: Iterable[str]) -> list[str]:
    """Names of the definitions ``roots`` need (themselves included), sorted.

    >>> names = reachable(["io.k8s.api.apps.v1.Deployment"])
    >>> "io.k8s.api.core.v1.Container" in names, "io.k8s.api.core.v1.Node" in names
    (True, False)
    """
    definitions = schemas.definitions()
    seen = {name for name in roots if name in definitions}
    queue = deque(seen)
    while queue:
        for ref in _direct_refs(queue.popleft()):
            if ref not in seen and ref in definitions:
                seen.add(ref)
                queue.append(ref)
    return sorted(seen)


@functools.cache
def _definitions_by_gvk() -> dict[tuple[str, str, str], str]:
    found: dict[tuple[str, str, str], str] = {}
    for name, definition in schemas.definitions().items():
        for gvk in definition.get("x-kubernetes-group-version-kind") or ():
            found.setdefault((gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")), name)
    return found


def definition_for(group: str, version: str, kind: str) -> str | None:
    """The definition name of a built-in kind, e.g. ``("autoscaling", "v1", "Scale")`` → its Scale schema."""
    return _definitions_by_gvk().get((group, version, kind))


# ------------------------------------------------------------------------------------------ custom resources


def custom_schema_name(rt: registry.ResourceType, kind: str | None = None) -> str:
    """The component name kube-apiserver gives a custom kind: the group reversed, then version and kind.

    >>> rt = registry.types_from_crd({"spec": {"group": "stable.example.com", "names": {"kind": "CronTab",
    ...     "plural": "crontabs"}, "versions": [{"name": "v1"}]}})[0]
    >>> custom_schema_name(rt), custom_schema_name(rt, "CronTabList")
    ('com.example.stable.v1.CronTab', 'com.example.stable.v1.CronTabList')
    """
    reversed_group = ".".join(reversed(rt.group.split(".")))
    return f"{reversed_group}.{rt.version}.{kind or rt.kind}"


def _standard_description(field: str) -> str:
    return str(schemas.definitions()[STATUS]["properties"][field].get("description", ""))


def _gvk_extension(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "kind": kind, "version": version}


def _custom_component(rt: registry.ResourceType) -> dict[str, Any]:
    raw = copy.deepcopy(dict(rt.custom_schema or {"type": "object",
                                                  "x-kubernetes-preserve-unknown-fields": True}))
    properties = dict(raw.get("properties") or {})
    properties["apiVersion"] = {"description": _standard_description("apiVersion"), "type": "string"}
    properties["kind"] = {"description": _standard_description("kind"), "type": "string"}
    properties["metadata"] = {"allOf": [_ref(OBJECT_META)],
                              "description": "Standard object's metadata. More info: https://git.k8s.io/"
                              "community/contributors/devel/sig-architecture/api-conventions.md#metadata"}
    raw["properties"] = properties
    raw.setdefault("type", "object")
    raw["x-kubernetes-group-version-kind"] = [_gvk_extension(rt.group, rt.version, rt.kind)]
    return raw


def _custom_list_component(rt: registry.ResourceType) -> dict[str, Any]:
    return {
        "description": f"{rt.list_kind} is a list of {rt.kind}",
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"description": _standard_description("apiVersion"), "type": "string"},
            "items": {"description": f"List of {rt.plural}. More info: "
                      "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md",
                      "type": "array", "items": _ref(custom_schema_name(rt))},
            "kind": {"description": _standard_description("kind"), "type": "string"},
            "metadata": {"allOf": [_ref(LIST_META)], "description": "Standard list metadata. More info: "
                         "https://git.k8s.io/community/contributors/devel/sig-architecture/"
                         "api-conventions.md#types-kinds"},
        },
        "x-kubernetes-group-version-kind": [_gvk_extension(rt.group, rt.version, rt.list_kind)],
    }


# ------------------------------------------------------------------------------------------------ operations


_QUERY_PARAMETERS: dict[str, tuple[str, str]] = {
    "allowWatchBookmarks": ("boolean", 'allowWatchBookmarks requests watch events with type "BOOKMARK".'),
    "continue": ("string", "The continue token of a previous list call, to fetch the next chunk."),
    "dryRun": ("string", "When present, indicates that modifications should not be persisted. "
               "Valid values are: - All: all dry run stages will be processed"),
    "fieldManager": ("string", "fieldManager is a name associated with the actor or entity making these "
                     "changes."),
    "fieldSelector": ("string", "A selector to restrict the list of returned objects by their fields."),
    "fieldValidation": ("string", "fieldValidation instructs the server how to handle unknown or duplicate "
                        "fields in the request's object. Valid values are: - Ignore - Warn - Strict."),
    "force": ("boolean", 'Force is going to "force" Apply requests: the caller re-acquires conflicting '
              "fields owned by other managers."),
    "gracePeriodSeconds": ("integer", "The duration in seconds before the object should be deleted."),
    "labelSelector": ("string", "A selector to restrict the list of returned objects by their labels."),
    "limit": ("integer", "limit is a maximum number of responses to return for a list call."),
    "orphanDependents": ("boolean", "Deprecated: please use the PropagationPolicy."),
    "pretty": ("string", "If 'true', then the output is pretty printed."),
    "propagationPolicy": ("string", "Whether and how garbage collection will be performed: 'Orphan', "
                          "'Background' or 'Foreground'."),
    "resourceVersion": ("string", "resourceVersion sets a constraint on what resource versions a request may "
                        "be served from."),
    "resourceVersionMatch": ("string", "resourceVersionMatch determines how resourceVersion is applied to "
                             "list calls."),
    "sendInitialEvents": ("boolean", "With watch=true, start the stream with synthetic events for the "
                          "current objects."),
    "timeoutSeconds": ("integer", "Timeout for the list/watch call."),
    "watch": ("boolean", "Watch for changes to the described resources and return them as a stream of add, "
              "update, and remove notifications."),
}


def _query(*names: str) -> list[dict[str, Any]]:
    """Query parameters, inline as kube-apiserver publishes them (kubectl finds them by name and ``in``)."""
    return [{"name": name, "in": "query", "description": _QUERY_PARAMETERS[name][1],
             "schema": {"type": _QUERY_PARAMETERS[name][0], "uniqueItems": True}} for name in names]


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "description": description, "required": True,
            "schema": {"type": "string", "uniqueItems": True}}


_LIST_PARAMS = _query("allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit",
                      "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds",
                      "watch")
_DELETE_PARAMS = _query("dryRun", "gracePeriodSeconds", "orphanDependents", "propagationPolicy")
_WRITE_PARAMS = _query("dryRun", "fieldManager", "fieldValidation")
_PATCH_PARAMS = _query("dryRun", "fieldManager", "fieldValidation", "force")


@dataclasses.dataclass(frozen=True)
class _Target:
    """What the operations on one path are about: the resource, and the kind its bodies carry."""

    rt: registry.ResourceType
    schema: str | None
    gvk: tuple[str, str, str]
    suffix: str = ""
    """Operation-id suffix: ``""`` for the resource itself, ``"Status"`` for ``/status`` and so on."""
    text: bool = False
    """Answers with text (``/log``, streams) rather than an object."""

    @property
    def builtin(self) -> bool:
        return not self.rt.is_custom


def _group_words(group: str) -> list[str]:
    return group.removesuffix(".k8s.io").replace("-", ".").split(".") if group else ["core"]


def _tag(rt: registry.ResourceType) -> str:
    words = _group_words(rt.group)
    return words[0] + "".join(w.capitalize() for w in words[1:]) + f"_{rt.version}"


def _operation_id(verb: str, target: _Target, scope: str) -> str:
    rt = target.rt
    group = "".join(w.capitalize() for w in _group_words(rt.group))
    return f"{verb}{group}{rt.version.capitalize()}{scope}{rt.kind}{target.suffix}"


def _content(schema: Mapping[str, Any], media: Iterable[str]) -> dict[str, Any]:
    return {m: {"schema": dict(schema)} for m in media}


def _response_media(target: _Target, watch: bool = False) -> list[str]:
    if target.text:
        return ["text/plain", "application/json", "application/yaml"]
    media = ["application/json", "application/yaml"]
    if target.builtin:
        media.append("application/vnd.kubernetes.protobuf")
    if watch:
        media.append("application/json;stream=watch")
    return media


def _body_schema(target: _Target) -> dict[str, Any]:
    return _ref(target.schema) if target.schema else {"type": "string"}


def _op(action: str, target: _Target, op_id: str, description: str, responses: dict[str, Any],
        params: list[dict[str, Any]] | None = None, body: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"tags": [_tag(target.rt)], "description": description, "operationId": op_id}
    if params:
        op["parameters"] = [dict(p) for p in params]
    if body is not None:
        op["requestBody"] = body
    op["responses"] = {**responses, "401": {"description": "Unauthorized"}}
    op["x-kubernetes-action"] = action
    op["x-kubernetes-group-version-kind"] = _gvk_extension(*target.gvk)
    return op


def _ok(target: _Target, schema: Mapping[str, Any] | None = None, watch: bool = False,
        codes: Iterable[tuple[str, str]] = (("200", "OK"),)) -> dict[str, Any]:
    content = _content(schema or _body_schema(target), _response_media(target, watch))
    return {code: {"description": text, "content": content} for code, text in codes}


_WRITTEN = (("200", "OK"), ("201", "Created"))
_CREATED = (("200", "OK"), ("201", "Created"), ("202", "Accepted"))
_DELETED = (("200", "OK"), ("202", "Accepted"))


def _patch_body(target: _Target) -> dict[str, Any]:
    media = list(PATCH_MEDIA_TYPES) + ([STRATEGIC_MERGE_PATCH] if target.builtin else [])
    return {"content": _content(_ref(PATCH), media), "required": True}


def _object_body(target: _Target) -> dict[str, Any]:
    return {"content": _content(_body_schema(target), ["*/*"]), "required": True}


def _delete_body() -> dict[str, Any]:
    return {"content": _content(_ref(DELETE_OPTIONS), ["*/*"])}


def _get_op(target: _Target, scope: str) -> dict[str, Any]:
    what = f"{target.suffix.lower()} of the specified" if target.suffix else "the specified"
    return _op("get", target, _operation_id("read", target, scope), f"read {what} {target.rt.kind}",
               _ok(target))


def _put_op(target: _Target, scope: str) -> dict[str, Any]:
    return _op("put", target, _operation_id("replace", target, scope),
               f"replace the specified {target.rt.kind}", _ok(target, codes=_WRITTEN), _WRITE_PARAMS,
               _object_body(target))


def _patch_op(target: _Target, scope: str) -> dict[str, Any]:
    return _op("patch", target, _operation_id("patch", target, scope),
               f"partially update the specified {target.rt.kind}", _ok(target, codes=_WRITTEN), _PATCH_PARAMS,
               _patch_body(target))


def _delete_op(target: _Target, scope: str) -> dict[str, Any]:
    return _op("delete", target, _operation_id("delete", target, scope), f"delete a {target.rt.kind}",
               _ok(target, _ref(STATUS), codes=_DELETED), _DELETE_PARAMS, _delete_body())


def _post_op(target: _Target, scope: str) -> dict[str, Any]:
    return _op("post", target, _operation_id("create", target, scope), f"create a {target.rt.kind}",
               _ok(target, codes=_CREATED), _WRITE_PARAMS, _object_body(target))


_ITEM_OPS = {"get": ("get", _get_op), "update": ("put", _put_op), "patch": ("patch", _patch_op),
             "delete": ("delete", _delete_op)}


def _path_params(namespaced: bool, named: bool, kind: str) -> list[dict[str, Any]]:
    params = [_path_param("name", f"name of the {kind}")] if named else []
    if namespaced:
        params.append(_path_param("namespace", "object name and auth scope, such as for teams and projects"))
    return [*params, *_query("pretty")]


def _list_op(target: _Target, op_id: str, list_schema: str | None) -> dict[str, Any]:
    listed = _ref(list_schema) if list_schema else {"type": "object"}
    return _op("list", target, op_id, f"list or watch objects of kind {target.rt.kind}",
               _ok(target, listed, watch=True), _LIST_PARAMS)


def _collection_item(target: _Target, list_schema: str | None, scope: str) -> dict[str, Any]:
    rt = target.rt
    item: dict[str, Any] = {}
    if "list" in rt.verbs:
        item["get"] = _list_op(target, _operation_id("list", target, scope), list_schema)
    if "create" in rt.verbs:
        item["post"] = _post_op(target, scope)
    if "deletecollection" in rt.verbs:
        op_id = _operation_id("delete", target, "Collection" + scope)
        item["delete"] = _op("deletecollection", target, op_id, f"delete collection of {rt.kind}",
                             _ok(target, _ref(STATUS)), _DELETE_PARAMS + _LIST_PARAMS, _delete_body())
    return item


def _named_item(target: _Target, scope: str, verbs: Iterable[str]) -> dict[str, Any]:
    """Operations on ``.../{name}`` or on a subresource of it (where ``create`` is a POST: eviction)."""
    item: dict[str, Any] = {}
    for verb in verbs:
        if verb in _ITEM_OPS:
            method, build = _ITEM_OPS[verb]
            item[method] = build(target, scope)
        elif verb == "create":
            item["post"] = _post_op(target, scope)
    return item


def _subresource_target(rt: registry.ResourceType, name: str, parent_schema: str | None) -> _Target:
    group, version, kind = discovery.subresource_kind(rt, name)
    if name in _TEXT_SUBRESOURCES:
        return _Target(rt, None, (group, version, kind), name.capitalize(), text=True)
    if (group, version, kind) == (rt.group, rt.version, rt.kind):
        schema = parent_schema
    else:
        schema = definition_for(group, version, kind)
    return _Target(rt, schema, (group, version, kind), name.capitalize())


def _resource_paths(rt: registry.ResourceType, schema: str | None, list_schema: str | None) -> dict[str, Any]:
    prefix = f"/{gv_path(rt.group, rt.version)}"
    base = f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
    scope = "Namespaced" if rt.namespaced else ""
    target = _Target(rt, schema, (rt.group, rt.version, rt.kind))
    paths: dict[str, Any] = {}
    collection = _collection_item(target, list_schema, scope)
    if collection:
        paths[base] = {**collection, "parameters": _path_params(rt.namespaced, False, rt.kind)}
    named = _named_item(target, scope, [verb for verb in rt.verbs if verb in _ITEM_OPS])
    if named:
        paths[f"{base}/{{name}}"] = {**named, "parameters": _path_params(rt.namespaced, True, rt.kind)}
    if rt.namespaced and "list" in rt.verbs:
        everywhere = _list_op(target, _operation_id("list", target, "") + "ForAllNamespaces", list_schema)
        paths[f"{prefix}/{rt.plural}"] = {"get": everywhere, "parameters": _query("pretty")}
    for name in sorted(rt.subresources):
        sub = _subresource_target(rt, name, schema)
        item = _named_item(sub, scope, discovery.subresource_verbs(name))
        if item:
            params = _path_params(rt.namespaced, True, rt.kind)
            paths[f"{base}/{{name}}/{name}"] = {**item, "parameters": params}
    return paths


def _discovery_path(group: str, version: str) -> dict[str, Any]:
    words = _group_words(group)
    op_id = "get" + "".join(w.capitalize() for w in words) + version.capitalize() + "APIResources"
    content = _content(_ref(API_RESOURCE_LIST), ["application/json", "application/yaml",
                                                  "application/vnd.kubernetes.protobuf"])
    tag = words[0] + "".join(w.capitalize() for w in words[1:]) + f"_{version}"
    return {"get": {"tags": [tag], "description": "get available resources", "operationId": op_id,
                    "responses": {"200": {"description": "OK", "content": content},
                                  "401": {"description": "Unauthorized"}}}}


# ------------------------------------------------------------------------------------------------- documents


def _kind_schemas(rt: registry.ResourceType) -> tuple[str | None, str | None]:
    """Component names of the resource's kind and of its list kind (``None`` when there is none)."""
    if rt.is_custom:
        return custom_schema_name(rt), custom_schema_name(rt, rt.list_kind)
    list_name = definition_for(rt.group, rt.version, rt.list_kind)
    return rt.schema_ref, list_name


def _roots(types: Iterable[registry.ResourceType]) -> list[str]:
    roots: list[str] = list(META_SCHEMAS)
    for rt in types:
        if not rt.is_custom:
            roots.extend(name for name in _kind_schemas(rt) if name)
        for sub in rt.subresources:
            sub_schema = definition_for(*discovery.subresource_kind(rt, sub))
            if sub_schema:
                roots.append(sub_schema)
    return roots


def _build_document(group: str, version: str, types: tuple[registry.ResourceType, ...]) -> dict[str, Any]:
    components = {name: _component(name) for name in reachable(_roots(types))}
    paths: dict[str, Any] = {f"/{gv_path(group, version)}/": _discovery_path(group, version)}
    for rt in types:
        schema, list_schema = _kind_schemas(rt)
        if rt.is_custom:
            components[custom_schema_name(rt)] = _custom_component(rt)
            components[custom_schema_name(rt, rt.list_kind)] = _custom_list_component(rt)
        paths.update(_resource_paths(rt, schema, list_schema))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Kubernetes", "version": f"v{schemas.KUBERNETES_VERSION}"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header",
                                                "description": "Bearer Token authentication"}},
        },
        "security": [{"BearerToken": []}],
    }


@dataclasses.dataclass(frozen=True)
class Built:
    """One group-version document, its canonical JSON and the hash kubectl caches it under."""

    document: dict[str, Any] = dataclasses.field(compare=False, hash=False)
    body: bytes = dataclasses.field(repr=False)
    hash: str


@dataclasses.dataclass(frozen=True)
class _Key:
    """What a document depends on: the group-version's types, custom schemas included (they hash by value)."""

    group: str
    version: str
    types: tuple[registry.ResourceType, ...]
    custom_schemas: str


def _key(reg: registry.Registry, group: str, version: str) -> _Key | None:
    types = tuple(sorted((rt for rt in reg.all() if rt.group == group and rt.version == version),
                         key=lambda rt: rt.plural))
    if not types:
        return None
    custom = json.dumps([rt.custom_schema for rt in types], sort_keys=True, separators=(",", ":"))
    return _Key(group, version, types, custom)


@functools.lru_cache(maxsize=64)
def _built(key: _Key) -> Built:
    doc = _build_document(key.group, key.version, key.types)
    body = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return Built(doc, body, hashlib.sha512(body).hexdigest().upper())


def built(reg: registry.Registry, path: str) -> Built | None:
    """The document for index key ``path`` (``apis/apps/v1``), its JSON and hash; ``None`` if not served."""
    parsed = parse_gv_path(path)
    key = _key(reg, *parsed) if parsed else None
    return _built(key) if key else None


def document(reg: registry.Registry, path: str) -> dict[str, Any] | None:
    """``GET /openapi/v3/<path>``: the OpenAPI 3.0 document of one group-version, ``None`` if not served.

    The result is shared by the memo: read it, never mutate it.

    >>> from gitops_lab.sandbox.registry import Registry
    >>> patch = document(Registry(), "api/v1")["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    >>> [p["name"] for p in patch["parameters"]], patch["x-kubernetes-group-version-kind"]["kind"]
    (['dryRun', 'fieldManager', 'fieldValidation', 'force'], 'Pod')
    """
    found = built(reg, path)
    return found.document if found else None


def index(reg: registry.Registry) -> dict[str, Any]:
    """``GET /openapi/v3``: every served group-version and the URL (with content hash) of its document.

    >>> from gitops_lab.sandbox.registry import Registry
    >>> entry = index(Registry())["paths"]["apis/apps/v1"]["serverRelativeURL"]
    >>> entry.startswith("/openapi/v3/apis/apps/v1?hash=")
    True
    """
    paths: dict[str, Any] = {}
    for group, versions in reg.groups().items():
        for version in sorted(versions, key=discovery.version_priority):
            path = gv_path(group, version)
            found = built(reg, path)
            if found:
                paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={found.hash}"}
    return {"paths": paths}


def cache_clear() -> None:
    """Forget every memoised document (tests; a long-lived server never needs to)."""
    _built.cache_clear()
