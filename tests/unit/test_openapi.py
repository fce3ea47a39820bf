"""OpenAPI v3 documents: schema conversion, per-group-version documents, index and memo."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lab.sandbox import openapi, registry, schemas

CRD_SCHEMA: dict[str, Any] = {"type": "object", "description": "A widget.", "properties": {
    "spec": {"type": "object", "properties": {
        "size": {"type": "integer", "description": "How big."},
        "port": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]}}},
    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}


def crd(schema: dict[str, Any] | None = None, versions: tuple[str, ...] = ("v1",), scale: bool = False,
        group: str = "example.com", kind: str = "Widget") -> dict[str, Any]:
    subresources: dict[str, Any] = {"status": {}}
    if scale:
        subresources["scale"] = {"specReplicasPath": ".spec.replicas",
                                 "statusReplicasPath": ".status.replicas"}
    return {"metadata": {"name": f"{kind.lower()}s.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "plural": f"{kind.lower()}s"},
                     "versions": [{"name": v, "served": True, "storage": i == 0, "subresources": subresources,
                                   "schema": {"openAPIV3Schema": schema or CRD_SCHEMA}}
                                  for i, v in enumerate(versions)]}}


def with_crd(spec: dict[str, Any]) -> registry.Registry:
    reg = registry.Registry()
    reg.set_crd(spec["metadata"]["name"], spec)
    return reg


def doc_of(reg: registry.Registry, path: str) -> dict[str, Any]:
    found = openapi.document(reg, path)
    assert found is not None, path
    return found


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def operations(doc: dict[str, Any], method: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        if method in item:
            yield path, item[method]


# -------------------------------------------------------------------------------------------------- gv paths


@pytest.mark.parametrize(("path", "expected"), [
    ("api/v1", ("", "v1")), ("/api/v1", ("", "v1")), ("apis/apps/v1", ("apps", "v1")),
    ("apis/example.com/v1beta1/", ("example.com", "v1beta1")),
    ("apis/apps", None), ("api", None), ("apis/apps/v1/deployments", None), ("version", None), ("", None),
])
def test_parse_gv_path(path: str, expected: tuple[str, str] | None) -> None:
    assert openapi.parse_gv_path(path) == expected


@pytest.mark.parametrize(("group", "version"), [("", "v1"), ("apps", "v1"), ("example.com", "v2beta1")])
def test_gv_path_round_trips(group: str, version: str) -> None:
    assert openapi.parse_gv_path(openapi.gv_path(group, version)) == (group, version)


# ------------------------------------------------------------------------------------------------ conversion


@pytest.mark.parametrize(("node", "expected"), [
    ({"type": ["string", "null"]}, {"type": "string"}),
    ({"type": "integer", "format": "int32"}, {"type": "integer", "format": "int32"}),
    ({"type": ["null"]}, {}),
    ({"$ref": "#/$defs/a.B"}, {"$ref": "#/components/schemas/a.B"}),
    ({"$ref": "#/$defs/a.B", "description": "d"},
     {"description": "d", "allOf": [{"$ref": "#/components/schemas/a.B"}]}),
    ({"type": ["array", "null"], "items": {"$ref": "#/$defs/a.B"}, "x-kubernetes-list-type": "atomic"},
     {"type": "array", "items": {"$ref": "#/components/schemas/a.B"}, "x-kubernetes-list-type": "atomic"}),
    ({"type": ["object", "null"], "additionalProperties": {"type": ["string", "null"]}},
     {"type": "object", "additionalProperties": {"type": "string"}}),
    ({"oneOf": [{"type": ["string", "null"]}, {"type": ["integer", "null"]}]},
     {"oneOf": [{"type": "string"}, {"type": "integer"}]}),
    # Property names are names, even when they look like keywords (JSONSchemaProps has "$ref" and "type").
    ({"properties": {"$ref": {"type": ["string", "null"]}, "type": {"type": "string"}}},
     {"properties": {"$ref": {"type": "string"}, "type": {"type": "string"}}}),
])
def test_convert_schema(node: dict[str, Any], expected: dict[str, Any]) -> None:
    assert openapi.convert_schema(node) == expected


def test_convert_schema_does_not_share_or_change_its_input() -> None:
    node = {"type": ["object", "null"], "enum": [{"a": 1}], "required": ["x"]}
    out = openapi.convert_schema(node)
    out["enum"][0]["a"] = 2
    out["required"].append("y")
    assert node == {"type": ["object", "null"], "enum": [{"a": 1}], "required": ["x"]}


def test_every_definition_converts_to_single_types_and_component_refs() -> None:
    for name in schemas.definitions():
        for node in walk(openapi._component(name)):
            assert not isinstance(node.get("type"), list), name
            ref = node.get("$ref")
            if isinstance(ref, str):
                assert ref.startswith(openapi.SCHEMA_PREFIX), name
                assert set(node) == {"$ref"}, f"{name}: siblings beside $ref must move into allOf"


@pytest.fixture(scope="module")
def core() -> dict[str, Any]:
    return doc_of(registry.Registry(), "api/v1")


@pytest.fixture(scope="module")
def apps() -> dict[str, Any]:
    return doc_of(registry.Registry(), "apis/apps/v1")


def test_int_or_string_and_quantity_are_published_as_one_of(core: dict[str, Any]) -> None:
    components = core["components"]["schemas"]
    int_or_string = components["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert int_or_string["format"] == "int-or-string"
    assert sorted(alt["type"] for alt in int_or_string["oneOf"]) == ["integer", "string"]
    quantity = components["io.k8s.apimachinery.pkg.api.resource.Quantity"]
    assert sorted(alt["type"] for alt in quantity["oneOf"]) == ["number", "string"]
    assert "type" not in int_or_string and "type" not in quantity  # kubectl explain then names the type


def test_kind_and_api_version_carry_no_enum(apps: dict[str, Any]) -> None:
    deployment = apps["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert deployment["properties"]["apiVersion"] == {
        "description": schemas.definitions()["io.k8s.api.apps.v1.Deployment"]["properties"]["apiVersion"][
            "description"], "type": "string"}
    assert "enum" not in deployment["properties"]["kind"]
    assert deployment["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}]


def test_patch_and_list_extensions_are_kept(core: dict[str, Any]) -> None:
    containers = core["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["x-kubernetes-list-type"] == "map"
    assert containers["x-kubernetes-list-map-keys"] == ["name"]
    assert containers["items"] == {"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}


# ------------------------------------------------------------------------------------------------- documents


def test_document_of_unserved_group_version_is_none() -> None:
    reg = registry.Registry()
    assert openapi.document(reg, "apis/apps/v2") is None
    assert openapi.document(reg, "apis/nope.io/v1") is None
    assert openapi.document(reg, "version") is None


def test_components_are_the_reachable_definitions_only(apps: dict[str, Any]) -> None:
    components = apps["components"]["schemas"]
    assert "io.k8s.api.core.v1.Container" in components  # reached through the pod template
    assert "io.k8s.api.autoscaling.v1.Scale" in components  # the scale subresource's kind
    assert set(openapi.META_SCHEMAS) <= set(components)
    assert "io.k8s.api.core.v1.Node" not in components
    assert "io.k8s.api.core.v1.Pod" not in components


@pytest.mark.parametrize("path", ["api/v1", "apis/apps/v1", "apis/apiextensions.k8s.io/v1",
                                  "apis/example.com/v1"])
def test_every_ref_resolves_inside_its_document(path: str) -> None:
    doc = doc_of(with_crd(crd()), path)
    components = doc["components"]["schemas"]
    for node in walk(doc):
        ref = node.get("$ref")
        if isinstance(ref, str):
            assert ref.removeprefix(openapi.SCHEMA_PREFIX) in components, ref


@pytest.mark.parametrize("path", ["api/v1", "apis/apps/v1", "apis/apiextensions.k8s.io/v1"])
def test_each_kind_has_exactly_one_component_with_its_gvk(path: str) -> None:
    reg = registry.Registry()
    doc = doc_of(reg, path)
    group, version = openapi.parse_gv_path(path) or ("", "")
    for rt in reg.all():
        if (rt.group, rt.version) != (group, version):
            continue
        gvk = {"group": rt.group, "kind": rt.kind, "version": rt.version}
        owners = [name for name, schema in doc["components"]["schemas"].items()
                  if gvk in (schema.get("x-kubernetes-group-version-kind") or [])]
        assert owners == [rt.schema_ref], rt.kind


def test_resource_paths_and_operations(apps: dict[str, Any]) -> None:
    collection = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]
    item = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    assert set(collection) == {"get", "post", "delete", "parameters"}
    assert set(item) == {"get", "put", "patch", "delete", "parameters"}
    assert collection["get"]["operationId"] == "listAppsV1NamespacedDeployment"
    assert collection["delete"]["x-kubernetes-action"] == "deletecollection"
    assert item["patch"]["operationId"] == "patchAppsV1NamespacedDeployment"
    assert [p["name"] for p in item["parameters"]] == ["name", "namespace", "pretty"]
    everywhere = apps["paths"]["/apis/apps/v1/deployments"]["get"]
    assert everywhere["operationId"] == "listAppsV1DeploymentForAllNamespaces"
    listed = collection["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed == {"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentList"}


def test_cluster_scoped_paths_have_no_namespace(core: dict[str, Any]) -> None:
    assert "/api/v1/namespaces/{name}" in core["paths"]
    assert "/api/v1/nodes/{name}/status" in core["paths"]
    assert not [p for p in core["paths"] if p.startswith("/api/v1/namespaces/{namespace}/nodes")]
    assert [p["name"] for p in core["paths"]["/api/v1/nodes/{name}"]["parameters"]] == ["name", "pretty"]


def test_every_patch_operation_offers_server_side_field_validation() -> None:
    reg = with_crd(crd(scale=True))
    for path in openapi.index(reg)["paths"]:
        patches = list(operations(doc_of(reg, path), "patch"))
        assert patches, path
        for where, op in patches:
            query = {p["name"] for p in op["parameters"] if p["in"] == "query"}
            assert {"fieldValidation", "dryRun", "fieldManager", "force"} <= query, where
            assert set(op["x-kubernetes-group-version-kind"]) == {"group", "version", "kind"}, where


@pytest.mark.parametrize(("path", "smp"), [("apis/apps/v1", True), ("api/v1", True),
                                           ("apis/example.com/v1", False)])
def test_strategic_merge_patch_is_offered_for_built_ins_only(path: str, smp: bool) -> None:
    for where, op in operations(doc_of(with_crd(crd()), path), "patch"):
        assert (openapi.STRATEGIC_MERGE_PATCH in op["requestBody"]["content"]) is smp, where
        assert "application/merge-patch+json" in op["requestBody"]["content"]


@pytest.mark.parametrize(("path", "method", "gvk", "schema"), [
    ("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status", "patch",
     {"group": "apps", "kind": "Deployment", "version": "v1"}, "io.k8s.api.apps.v1.Deployment"),
    ("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "put",
     {"group": "autoscaling", "kind": "Scale", "version": "v1"}, "io.k8s.api.autoscaling.v1.Scale"),
    ("/api/v1/namespaces/{namespace}/pods/{name}/eviction", "post",
     {"group": "policy", "kind": "Eviction", "version": "v1"}, "io.k8s.api.policy.v1.Eviction"),
    ("/api/v1/namespaces/{name}/finalize", "put",
     {"group": "", "kind": "Namespace", "version": "v1"}, "io.k8s.api.core.v1.Namespace"),
])
def test_subresource_operations(path: str, method: str, gvk: dict[str, str], schema: str) -> None:
    group = "apps" if path.startswith("/apis/apps") else ""
    doc = doc_of(registry.Registry(), openapi.gv_path(group, "v1"))
    op = doc["paths"][path][method]
    assert op["x-kubernetes-group-version-kind"] == gvk
    answered = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert answered == {"$ref": openapi.SCHEMA_PREFIX + schema}
    assert schema in doc["components"]["schemas"]


def test_pod_log_answers_text(core: dict[str, Any]) -> None:
    log = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/log"]
    assert set(log) == {"get", "parameters"}
    assert log["get"]["responses"]["200"]["content"]["text/plain"] == {"schema": {"type": "string"}}


# ------------------------------------------------------------------------------------------ custom resources


def test_custom_resource_document() -> None:
    doc = doc_of(with_crd(crd()), "apis/example.com/v1")
    components = doc["components"]["schemas"]
    widget = components["com.example.v1.Widget"]
    gvk = {"group": "example.com", "kind": "Widget", "version": "v1"}
    assert widget["x-kubernetes-group-version-kind"] == [gvk]
    assert widget["properties"]["metadata"]["allOf"] == [openapi._ref(openapi.OBJECT_META)]
    assert widget["properties"]["spec"] == CRD_SCHEMA["properties"]["spec"]
    assert widget["properties"]["apiVersion"]["type"] == "string"
    assert widget["description"] == "A widget."
    widget_list = components["com.example.v1.WidgetList"]
    assert widget_list["properties"]["items"]["items"] == openapi._ref("com.example.v1.Widget")
    assert openapi.OBJECT_META in components
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry" in components
    patch = doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == gvk
    status = doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/status"]["get"]
    assert status["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": openapi.SCHEMA_PREFIX + "com.example.v1.Widget"}


def test_custom_resource_scale_uses_the_autoscaling_scale() -> None:
    doc = doc_of(with_crd(crd(scale=True)), "apis/example.com/v1")
    scale = doc["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/scale"]["patch"]
    assert scale["x-kubernetes-group-version-kind"]["kind"] == "Scale"
    assert "io.k8s.api.autoscaling.v1.Scale" in doc["components"]["schemas"]


def test_each_served_version_of_a_crd_has_its_own_document() -> None:
    reg = with_crd(crd(versions=("v1", "v1beta1")))
    v1 = doc_of(reg, "apis/example.com/v1")["components"]["schemas"]
    beta = doc_of(reg, "apis/example.com/v1beta1")["components"]["schemas"]
    assert "com.example.v1.Widget" in v1 and "com.example.v1.Widget" not in beta
    assert "com.example.v1beta1.Widget" in beta


def test_custom_schema_is_not_changed_by_building() -> None:
    schema = json.loads(json.dumps(CRD_SCHEMA))
    doc_of(with_crd(crd(schema=schema, kind="Gadget")), "apis/example.com/v1")
    assert schema == CRD_SCHEMA


# -------------------------------------------------------------------------------------------- index and memo


def test_index_lists_every_served_group_version_with_its_hash() -> None:
    reg = with_crd(crd(versions=("v1", "v2")))
    paths = openapi.index(reg)["paths"]
    assert set(paths) == {"api/v1", "apis/apps/v1", "apis/apiextensions.k8s.io/v1", "apis/example.com/v1",
                          "apis/example.com/v2"}
    for path, entry in paths.items():
        found = openapi.built(reg, path)
        assert found is not None
        assert entry == {"serverRelativeURL": f"/openapi/v3/{path}?hash={found.hash}"}
        assert found.hash == hashlib.sha512(found.body).hexdigest().upper()
        assert json.loads(found.body) == found.document


def test_hash_is_stable_for_identical_content() -> None:
    first = openapi.index(with_crd(crd()))
    openapi.cache_clear()
    assert openapi.index(with_crd(crd())) == first


def test_hash_and_document_follow_a_changed_custom_schema() -> None:
    # ResourceType equality ignores custom_schema, so the memo must key on the schema's content itself.
    before = openapi.built(with_crd(crd()), "apis/example.com/v1")
    changed = json.loads(json.dumps(CRD_SCHEMA))
    changed["properties"]["spec"]["properties"]["colour"] = {"type": "string"}
    after = openapi.built(with_crd(crd(schema=changed)), "apis/example.com/v1")
    assert before is not None and after is not None
    assert before.hash != after.hash
    assert "colour" in after.document["components"]["schemas"]["com.example.v1.Widget"]["properties"]["spec"][
        "properties"]
    unchanged = openapi.built(registry.Registry(), "apis/apps/v1")
    assert unchanged is openapi.built(with_crd(crd(schema=changed)), "apis/apps/v1")


def test_documents_are_memoised() -> None:
    reg = registry.Registry()
    assert openapi.built(reg, "api/v1") is openapi.built(reg, "api/v1")
    assert openapi.built(reg, "api/v1") is openapi.built(registry.Registry(), "/api/v1/")


names = st.from_regex(r"[a-z][a-z0-9]{1,8}", fullmatch=True)
leaf = st.sampled_from([{"type": "string"}, {"type": "integer", "format": "int64"}, {"type": "boolean"},
                        {"x-kubernetes-int-or-string": True}, {"type": "object",
                                                               "x-kubernetes-preserve-unknown-fields": True}])
structural = st.recursive(leaf, lambda inner: st.one_of(
    st.dictionaries(names, inner, min_size=1, max_size=4).map(lambda p: {"type": "object", "properties": p}),
    inner.map(lambda i: {"type": "array", "items": i})), max_leaves=12)


@settings(max_examples=30, deadline=None)
@given(spec=st.dictionaries(names, structural, max_size=4), kind=names.map(str.capitalize))
def test_any_structural_crd_schema_survives_intact(spec: dict[str, Any], kind: str) -> None:
    schema: dict[str, Any] = {"type": "object",
                              "properties": {"spec": {"type": "object", "properties": spec}}}
    reg = with_crd(crd(schema=schema, group="fuzz.example.com", kind=kind))
    found = openapi.built(reg, "apis/fuzz.example.com/v1")
    assert found is not None
    component = found.document["components"]["schemas"][f"com.example.fuzz.v1.{kind}"]
    assert component["properties"]["spec"] == schema["properties"]["spec"]
    assert json.loads(found.body) == found.document
    rebuilt = openapi._build_document("fuzz.example.com", "v1", tuple(
        rt for rt in reg.all() if rt.group == "fuzz.example.com"))
    assert json.dumps(rebuilt, sort_keys=True, separators=(",", ":")).encode() == found.body
