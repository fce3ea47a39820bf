"""JSON patch, merge patch and strategic merge patch: results, ordering and kube-apiserver's errors."""

from __future__ import annotations

import copy
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lab.sandbox import patching, schemas
from gitops_lab.sandbox.patching import apply_patch, json_patch, merge_patch, strategic_merge_patch
from gitops_lab.sandbox.statuses import ApiError

DEPLOYMENT = schemas.definition("io.k8s.api.apps.v1.Deployment")
POD = schemas.definition("io.k8s.api.core.v1.Pod")
DAEMON_SET = schemas.definition("io.k8s.api.apps.v1.DaemonSet")
CSR = schemas.definition("io.k8s.api.certificates.v1.CertificateSigningRequest")
SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON = "application/json-patch+json"
REJECTED = "the server rejected our request due to an error in our request"
PANICKED = "This request caused apiserver to panic. Look in the logs for details."


def deployment() -> dict[str, Any]:
    """A two-container Deployment as the apiserver stores it (trimmed to what the patches touch)."""
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web", "tier": "front"},
                     "finalizers": ["x/one", "x/two"],
                     "ownerReferences": [{"apiVersion": "v1", "kind": "K", "name": "o1", "uid": "u1"}]},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "app", "image": "web:1",
                         "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}],
                         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"},
                                 {"name": "C", "value": "3"}],
                         "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}]},
                        {"name": "sidecar", "image": "log:1"},
                    ],
                    "volumes": [{"name": "cfg", "configMap": {"name": "web-cfg"}}, {"name": "tmp", "emptyDir": {}}],
                    "tolerations": [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}],
                },
            },
        },
    }


def pod_spec(patched: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = patched["spec"]["template"]["spec"]
    return spec


def template(patch: dict[str, Any]) -> dict[str, Any]:
    """Wrap a pod-spec patch the way kubectl sends it for a Deployment."""
    return {"spec": {"template": {"spec": patch}}}


def api_error(call: Callable[..., Any], *args: Any, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        call(*args, **kwargs)
    assert info.value.status()["message"] == info.value.message
    return info.value


# --- apply_patch: content types and bodies ---------------------------------------------------------------------

def test_dispatches_on_content_type_ignoring_parameters() -> None:
    obj = {"metadata": {"labels": {"a": "1"}}, "list": [1, 2]}
    body = '{"metadata": {"labels": {"b": "2"}}, "list": [3]}'
    assert apply_patch(f"{MERGE}; charset=utf-8", obj, body, schemas.Schema.ANY) == {
        "metadata": {"labels": {"a": "1", "b": "2"}}, "list": [3]}
    assert apply_patch(SMP, obj, body.encode(), schemas.Schema.ANY)["list"] == [3]
    assert apply_patch(JSON, obj, b'[{"op": "add", "path": "/list/-", "value": 3}]', schemas.Schema.ANY)[
        "list"] == [1, 2, 3]


@pytest.mark.parametrize("content_type", [
    "application/json", "text/plain", "", "application/merge-patch+json ;charset=utf-8", "APPLICATION/JSON-PATCH+JSON",
    ";application/merge-patch+json",
])
def test_unknown_content_type_is_415_listing_the_accepted_types(content_type: str) -> None:
    err = api_error(apply_patch, content_type, {}, b"{}", DEPLOYMENT)
    assert (err.code, err.reason) == (415, "UnsupportedMediaType")
    assert err.message == ("the body of the request was in an unknown format - accepted media types include: "
                           "application/json-patch+json, application/merge-patch+json, "
                           "application/strategic-merge-patch+json, application/apply-patch+yaml")


def test_custom_resources_take_no_strategic_merge_patch() -> None:
    err = api_error(apply_patch, SMP, {}, b"{}", schemas.Schema.ANY,
                    accepted=patching.CUSTOM_RESOURCE_PATCH_TYPES)
    assert err.code == 415
    assert err.message.endswith("include: application/json-patch+json, application/merge-patch+json, "
                                "application/apply-patch+yaml")
    assert apply_patch(MERGE, {"a": 1}, b'{"b": 2}', schemas.Schema.ANY,
                       accepted=patching.CUSTOM_RESOURCE_PATCH_TYPES) == {"a": 1, "b": 2}


def test_server_side_apply_is_not_handled_here() -> None:
    with pytest.raises(ValueError, match="server-side apply"):
        apply_patch("application/apply-patch+yaml", {}, b"{}", DEPLOYMENT)


@pytest.mark.parametrize("content_type", [JSON, MERGE, SMP])
@pytest.mark.parametrize("body", [b"", b"{", b"{'a': 1}", b"[1,]", b"NaN", b'{"a": Infinity}', b"1e999",
                                  "\ufeff{}".encode(), b"{} {}", b"[" * 5000])
def test_a_body_that_is_not_json_is_400_before_anything_else(content_type: str, body: bytes) -> None:
    err = api_error(apply_patch, content_type, {"a": 1}, body, DEPLOYMENT)
    assert (err.code, err.reason, err.message) == (400, "BadRequest", "invalid JSON patch")


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("apply", [
    lambda deep: json_patch({"x": {}}, [{"op": "add", "path": "/x/y", "value": deep}]),
    lambda deep: merge_patch({"x": {}}, {"x": {"y": deep}}),
    lambda deep: strategic_merge_patch({"x": {}}, {"x": {"y": deep}}, schemas.Schema.ANY),
], ids=["json", "merge", "strategic"])
def test_deeply_nested_documents_fail_as_api_errors(apply: Callable[[Any], Any]) -> None:
    assert apply(nested(50))["x"]["y"] == nested(50)
    err = api_error(apply, nested(5000))
    assert (err.code, err.reason) == (400, "BadRequest")  # the sandbox's depth limit, not a server fault
    assert err.message == "the request body nests deeper than 100 levels, which the sandbox does not serve"


def test_field_validation_must_be_known_and_empty_means_warn() -> None:
    with pytest.raises(ValueError, match="fieldValidation"):
        apply_patch(MERGE, {}, b"{}", DEPLOYMENT, field_validation="Lenient")
    assert api_error(apply_patch, MERGE, {}, b"[]", DEPLOYMENT, field_validation="").message.startswith(
        "error decoding patch: ")


def test_inputs_are_not_mutated_and_results_share_nothing_with_them() -> None:
    obj, patch = deployment(), template({"containers": [{"name": "app", "image": "web:2"}]})
    obj_before, patch_before = copy.deepcopy(obj), copy.deepcopy(patch)
    result = strategic_merge_patch(obj, patch, DEPLOYMENT)
    pod_spec(result)["containers"][0]["env"].append({"name": "Z"})
    assert (obj, patch) == (obj_before, patch_before)
    added = merge_patch({}, {"a": {"b": [1]}})
    added["a"]["b"].append(2)
    copied = json_patch({"x": {"y": 1}}, [{"op": "copy", "from": "/x", "path": "/z"}])
    copied["z"]["y"] = 2
    assert copied["x"] == {"y": 1}


# --- JSON merge patch ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("target", "patch", "result"), [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ({"missing": None}, {"missing": {"x": None, "y": 1}}, {"missing": {"y": 1}}),
    # json-patch v4: nulls leave objects inside arrays the patch brings in; null items stay ...
    ({"a": 1}, {"b": [{"c": None, "d": 1}, None]}, {"a": 1, "b": [{"d": 1}, None]}),
    ({"a": "s"}, {"a": [{"c": None}]}, {"a": [{}]}),
    # ... but an array replacing an object is taken as it is.
    ({"a": {"x": 1}}, {"a": [{"n": None}]}, {"a": [{"n": None}]}),
    ({"a": {"x": 1}}, {"a": {}}, {"a": {"x": 1}}),
])
def test_merge_patch(target: dict[str, Any], patch: dict[str, Any], result: dict[str, Any]) -> None:
    assert merge_patch(target, patch) == result


def test_merge_patches_kubectl_sends() -> None:
    labelled = merge_patch(deployment(), {"metadata": {"labels": {"tier": None, "team": "blue"}}})
    assert labelled["metadata"]["labels"] == {"app": "web", "team": "blue"}
    scaled = merge_patch(deployment(), {"spec": {"replicas": 5}})
    assert scaled["spec"]["replicas"] == 5
    assert pod_spec(scaled) == pod_spec(deployment())


@pytest.mark.parametrize(("patch", "kind"), [([1], "array"), ("x", "string"), (3, "number"), (1.5, "number"),
                                             (True, "bool")])
def test_merge_patch_that_is_not_an_object_is_400_when_decoded_strictly(patch: Any, kind: str) -> None:
    for validation in ("Warn", "Strict"):
        err = api_error(merge_patch, {"a": 1}, patch, field_validation=validation)
        assert (err.code, err.reason) == (400, "BadRequest")
        assert err.message == (f"error decoding patch: json: cannot unmarshal {kind} into Go value of type "
                               "map[string]interface {}")


def test_merge_patch_null_body_is_invalid() -> None:
    for validation in patching.FIELD_VALIDATIONS:
        err = api_error(merge_patch, {"a": 1}, None, field_validation=validation)
        assert (err.code, err.reason, err.message) == (400, "BadRequest", "Invalid JSON Patch")


def test_merge_patch_ignoring_validation_scalars_are_invalid_and_arrays_fail_to_decode() -> None:
    err = api_error(merge_patch, {"a": 1}, "x", field_validation="Ignore")
    assert (err.code, err.message) == (400, "Invalid JSON Patch")
    err = api_error(merge_patch, {"a": 1}, [1, {"b": None}], field_validation="Ignore")
    assert (err.code, err.reason) == (422, "Invalid")
    assert err.message.startswith(' "" is invalid: patch: Invalid value: "[1,{}]": couldn\'t get version/kind; '
                                  "json parse error: json: cannot unmarshal array into Go value of type struct")
    assert err.details is not None and err.details["causes"][0]["field"] == "patch"


# --- JSON patch ------------------------------------------------------------------------------------------------

DOC = {"metadata": {"name": "c", "labels": {"a": "1"}}, "data": {"k": "v", "a/b": "slash", "m~n": "tilde"},
       "list": ["x", "y", "z"]}


@pytest.mark.parametrize(("operations", "changes"), [
    ([{"op": "add", "path": "/data/new", "value": {"n": None}}], {"data": {**DOC["data"], "new": {"n": None}}}),
    ([{"op": "add", "path": "/data/k", "value": "over"}], {"data": {**DOC["data"], "k": "over"}}),
    ([{"op": "add", "path": "/list/1", "value": "w"}], {"list": ["x", "w", "y", "z"]}),
    ([{"op": "add", "path": "/list/3", "value": "w"}], {"list": ["x", "y", "z", "w"]}),
    ([{"op": "add", "path": "/list/-", "value": "w"}], {"list": ["x", "y", "z", "w"]}),
    ([{"op": "add", "path": "/list/-1", "value": "w"}], {"list": ["x", "y", "z", "w"]}),
    ([{"op": "add", "path": "/list/-4", "value": "w"}], {"list": ["w", "x", "y", "z"]}),
    ([{"op": "add", "path": "/list/+1", "value": "w"}], {"list": ["x", "w", "y", "z"]}),
    ([{"op": "add", "path": "/data/none"}], {"data": {**DOC["data"], "none": None}}),
    ([{"op": "remove", "path": "/data/a~1b"}], {"data": {"k": "v", "m~n": "tilde"}}),
    ([{"op": "remove", "path": "/data/m~0n"}], {"data": {"k": "v", "a/b": "slash"}}),
    ([{"op": "remove", "path": "/list/-1"}], {"list": ["x", "y"]}),
    ([{"op": "replace", "path": "/list/0", "value": "X"}], {"list": ["X", "y", "z"]}),
    ([{"op": "replace", "path": "/data/missing", "value": 1}], {"data": {**DOC["data"], "missing": 1}}),
    ([{"op": "move", "from": "/list/0", "path": "/list/-"}], {"list": ["y", "z", "x"]}),
    ([{"op": "move", "from": "/data/k", "path": "/metadata/k"}],
     {"data": {"a/b": "slash", "m~n": "tilde"}, "metadata": {**DOC["metadata"], "k": "v"}}),
    ([{"op": "copy", "from": "/metadata/labels", "path": "/data/labels"}],
     {"data": {**DOC["data"], "labels": {"a": "1"}}}),
    ([{"op": "copy", "from": "/data/missing", "path": "/data/copy"}], {"data": {**DOC["data"], "copy": None}}),
    ([{"op": "test", "path": "/list", "value": ["x", "y", "z"]}, {"op": "test", "path": "/data/missing"},
      {"op": "test", "path": "/data/missing", "value": None}, {"op": "test", "path": "/metadata/labels/a",
                                                              "value": "1"}], {}),
    ([{"op": "test", "path": "", "value": DOC}], {}),
    # v4 skips whatever comes before the first "/".
    ([{"op": "add", "path": "data/k", "value": "w"}], {"k": "w"}),
    ([{"op": "replace", "path": "", "value": {"kind": "Other"}}], None),
])
def test_json_patch_operations(operations: list[dict[str, Any]], changes: dict[str, Any] | None) -> None:
    expected = {"kind": "Other"} if changes is None else {**DOC, **changes}
    assert json_patch(DOC, operations) == expected


@pytest.mark.parametrize("operation", [
    {"op": "test", "path": "/data/k", "value": "other"},
    {"op": "test", "path": "/data/k", "value": None},
    {"op": "test", "path": "/data/k"},
    {"op": "test", "path": "/data/missing", "value": "v"},
    {"op": "test", "path": "/metadata/labels", "value": {"a": "1", "b": None}},
    {"op": "test", "path": "/list", "value": ["x", "y"]},
    {"op": "test", "path": "/list/0", "value": ["x"]},
    {"op": "test", "path": "/metadata", "value": "c"},
    {"op": "test", "path": "", "value": {}},
    {"op": "remove", "path": "/data/missing"},
    {"op": "remove", "path": "/list/3"},
    {"op": "remove", "path": "/list/-4"},
    {"op": "remove", "path": "/list/x"},
    {"op": "remove", "path": ""},
    {"op": "add", "path": "", "value": {}},
    {"op": "add", "path": "/missing/child", "value": 1},
    {"op": "add", "path": "/data/k/child", "value": 1},
    {"op": "add", "path": "/list/4", "value": "w"},
    {"op": "add", "path": "/list/-5", "value": "w"},
    {"op": "add", "path": "/list/1.0", "value": "w"},
    {"op": "add", "value": "w"},
    {"op": "add", "path": 5, "value": "w"},
    {"op": "replace", "path": "/list/3", "value": "w"},
    {"op": "replace", "path": "", "value": "scalar"},
    {"op": "replace", "path": "", "value": None},
    {"op": "move", "from": "/data/missing", "path": "/data/k2"},
    {"op": "move", "from": "/data", "path": "/data/inner"},
    {"op": "move", "path": "/data/k2"},
    {"op": "copy", "from": "/list/7", "path": "/data/k2"},
    {"op": "copy", "from": "/data/k", "path": "/nowhere/k"},
    {"op": "bogus", "path": "/data/k"},
    {"op": None, "path": "/data/k"},
    {"path": "/data/k"},
    None,
])
def test_json_patch_operation_that_does_not_apply_is_422(operation: dict[str, Any] | None) -> None:
    for validation in patching.FIELD_VALIDATIONS:
        if validation != "Ignore" and operation and isinstance(operation.get("path"), int):
            continue  # decoding strictly rejects it first (next test)
        err = api_error(json_patch, DOC, [{"op": "test", "path": "/data/k", "value": "v"}, operation],
                        field_validation=validation)
        assert (err.code, err.reason, err.message, err.details) == (422, "Invalid", REJECTED, {})


def test_json_patch_stops_at_the_first_failure_and_changes_nothing() -> None:
    operations = [{"op": "remove", "path": "/data/k"}, {"op": "test", "path": "/data/k", "value": "v"}]
    assert api_error(json_patch, DOC, operations).code == 422
    assert DOC["data"]["k"] == "v"


@pytest.mark.parametrize(("patch", "strict", "lenient"), [
    ({"op": "add"}, "error decoding patch: json: cannot unmarshal object into Go value of type "
                    "[]handlers.jsonPatchOp", "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
    ("x", "error decoding patch: json: cannot unmarshal string into Go value of type []handlers.jsonPatchOp",
     "json: cannot unmarshal string into Go value of type jsonpatch.Patch"),
    ([1], "error decoding patch: json: cannot unmarshal number into Go value of type handlers.jsonPatchOp",
     "json: cannot unmarshal number into Go value of type jsonpatch.Operation"),
    ([{"op": "add", "path": "/a"}, [True]], "error decoding patch: json: cannot unmarshal array into Go value of type "
     "handlers.jsonPatchOp", "json: cannot unmarshal array into Go value of type jsonpatch.Operation"),
    ([{"op": "add", "path": 5}], "error decoding patch: json: cannot unmarshal number into Go struct field "
                                 "jsonPatchOp.path of type string", None),
    ([{"from": True, "op": "copy"}], "error decoding patch: json: cannot unmarshal bool into Go struct field "
                                     "jsonPatchOp.from of type string", None),
])
def test_json_patch_body_that_does_not_decode_is_400(patch: Any, strict: str, lenient: str | None) -> None:
    err = api_error(json_patch, DOC, patch)
    assert (err.code, err.reason, err.message) == (400, "BadRequest", strict)
    if lenient is not None:
        assert api_error(json_patch, DOC, patch, field_validation="Ignore").message == lenient
    else:
        assert api_error(json_patch, DOC, patch, field_validation="Ignore").code == 422


def test_json_patch_null_body_is_an_empty_patch() -> None:
    assert json_patch(DOC, None) == DOC
    assert apply_patch(JSON, DOC, b"null", DEPLOYMENT) == DOC


def test_json_patch_operation_limit_is_413() -> None:
    assert len(json_patch({"a": 0}, [{"op": "test", "path": "/a", "value": 0}] * 10000)) == 1
    err = api_error(json_patch, {"a": 0}, [{"op": "test", "path": "/a", "value": 0}] * 10001)
    assert (err.code, err.reason) == (413, "RequestEntityTooLarge")
    assert err.message == ("Request entity too large: The allowed maximum operations in a JSON patch is 10000, "
                           "got 10001")


def test_json_patch_copies_are_limited_to_3_mib() -> None:
    doc = {"big": "x" * (1024 * 1024 - 2)}  # 1 MiB of JSON with its quotes
    copies = [{"op": "copy", "from": "/big", "path": f"/c{i}"} for i in range(3)]
    assert len(json_patch(doc, copies)) == 4
    assert api_error(json_patch, doc, [*copies, {"op": "copy", "from": "/big", "path": "/c3"}]).code == 422


def test_json_patch_that_leaves_an_array_is_422() -> None:
    err = api_error(json_patch, DOC, [{"op": "replace", "path": "", "value": [1]},
                                      {"op": "add", "path": "/-", "value": "two"}])
    assert (err.code, err.reason) == (422, "Invalid")
    assert err.message.startswith(' "" is invalid: patch: Invalid value: "[1,\\"two\\"]": couldn\'t get version/kind')


@pytest.mark.parametrize(("value", "passes"), [
    (1, True), (1.0, False), (2, False), ("1", False), (True, False), ([1], False)])
def test_json_patch_test_compares_numbers_by_their_json_text(value: Any, passes: bool) -> None:
    operations = [{"op": "test", "path": "/n", "value": value}]
    if passes:
        assert json_patch({"n": 1}, operations) == {"n": 1}
    else:
        assert api_error(json_patch, {"n": 1}, operations).code == 422
    assert json_patch({"f": 1.0}, [{"op": "test", "path": "/f", "value": 1}]) == {"f": 1.0}
    assert json_patch({"b": True}, [{"op": "test", "path": "/b", "value": True}]) == {"b": True}


@pytest.mark.parametrize("operation", [
    {"op": "test", "path": "/list", "value": ["x", None]},
    {"op": "test", "path": ""},
    {"op": "replace", "path": ""},
])
def test_json_patch_where_the_library_panics_is_500(operation: dict[str, Any]) -> None:
    doc = {"list": ["x", None]}
    err = api_error(json_patch, doc, [operation])
    assert (err.code, err.reason, err.message) == (500, "InternalError", PANICKED)


def test_kubectl_rollout_undo_of_a_deployment_is_a_json_patch() -> None:
    old_template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "web:0"}]}}
    undone = json_patch(deployment(), [
        {"op": "replace", "path": "/spec/template", "value": old_template},
        {"op": "replace", "path": "/metadata/annotations", "value": {"deployment.kubernetes.io/revision": "1"}},
    ])
    assert undone["spec"]["template"] == old_template
    assert undone["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}


# --- strategic merge patch: what kubectl sends -----------------------------------------------------------------

def test_set_image_changes_one_container_of_two() -> None:
    patch = template({"$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
                      "containers": [{"name": "app", "image": "web:2"}]})
    before = deployment()
    containers = pod_spec(strategic_merge_patch(before, patch, DEPLOYMENT))["containers"]
    assert containers == [{**pod_spec(before)["containers"][0], "image": "web:2"}, {"name": "sidecar", "image": "log:1"}]


def test_delete_directive_removes_one_env_var() -> None:
    patch = template({"containers": [{"name": "app", "env": [{"name": "B", "$patch": "delete"}]}]})
    env = pod_spec(strategic_merge_patch(deployment(), patch, DEPLOYMENT))["containers"][0]["env"]
    assert env == [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]


def test_set_element_order_alone_reorders_containers() -> None:
    patch = template({"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}]})
    names = [c["name"] for c in pod_spec(strategic_merge_patch(deployment(), patch, DEPLOYMENT))["containers"]]
    assert names == ["sidecar", "app"]


def test_null_deletes_a_label_and_leaves_the_rest() -> None:
    patched = strategic_merge_patch(deployment(), {"metadata": {"labels": {"tier": None, "new": "x"}}}, DEPLOYMENT)
    assert patched["metadata"]["labels"] == {"app": "web", "new": "x"}
    assert patched["spec"] == deployment()["spec"]


def test_owner_references_merge_by_uid() -> None:
    patch = {"metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "K", "name": "o2", "uid": "u2"},
                                              {"uid": "u1", "name": "renamed"}]}}
    owners = strategic_merge_patch(deployment(), patch, DEPLOYMENT)["metadata"]["ownerReferences"]
    assert owners == [{"apiVersion": "v1", "kind": "K", "name": "o2", "uid": "u2"},
                      {"apiVersion": "v1", "kind": "K", "name": "renamed", "uid": "u1"}]


def test_container_ports_merge_by_container_port() -> None:
    patch = template({"containers": [{"name": "app", "ports": [{"containerPort": 8080},
                                                               {"containerPort": 80, "name": "http"}]}]})
    ports = pod_spec(strategic_merge_patch(deployment(), patch, DEPLOYMENT))["containers"][0]["ports"]
    # Items the patch names come first, in its order; the live port it does not name keeps its place after them.
    assert ports == [{"containerPort": 8080}, {"containerPort": 80, "protocol": "TCP", "name": "http"},
                     {"containerPort": 443}]


def test_volumes_merge_by_name() -> None:
    patch = template({"volumes": [{"name": "tmp", "emptyDir": {"medium": "Memory"}},
                                  {"name": "new", "secret": {"secretName": "s"}}]})
    volumes = pod_spec(strategic_merge_patch(deployment(), patch, DEPLOYMENT))["volumes"]
    assert volumes == [{"name": "cfg", "configMap": {"name": "web-cfg"}},
                       {"name": "tmp", "emptyDir": {"medium": "Memory"}},
                       {"name": "new", "secret": {"secretName": "s"}}]


def test_tolerations_and_args_are_replaced() -> None:
    patch = template({"tolerations": [{"key": "c", "operator": "Exists"}],
                      "containers": [{"name": "app", "args": ["--v=2"]}]})
    spec = pod_spec(strategic_merge_patch(deployment(), patch, DEPLOYMENT))
    assert spec["tolerations"] == [{"key": "c", "operator": "Exists"}]
    assert spec["containers"][0]["args"] == ["--v=2"]


def test_retain_keys_switches_the_deployment_strategy() -> None:
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None}}}
    assert strategic_merge_patch(deployment(), patch, DEPLOYMENT)["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_in_a_volume_replaces_its_source() -> None:
    patch = template({"volumes": [{"name": "cfg", "$retainKeys": ["name", "secret"], "secret": {"secretName": "s"}}]})
    volumes = pod_spec(strategic_merge_patch(deployment(), patch, DEPLOYMENT))["volumes"]
    assert volumes[0] == {"name": "cfg", "secret": {"secretName": "s"}}


def test_without_retain_keys_a_volume_source_is_merged() -> None:
    patch = template({"volumes": [{"name": "cfg", "secret": {"secretName": "s"}}]})
    volumes = pod_spec(strategic_merge_patch(deployment(), patch, DEPLOYMENT))["volumes"]
    assert volumes[0] == {"name": "cfg", "configMap": {"name": "web-cfg"}, "secret": {"secretName": "s"}}


def test_rollout_restart_and_scale() -> None:
    restarted = strategic_merge_patch(deployment(), {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}}}}}, DEPLOYMENT)
    assert restarted["spec"]["template"]["metadata"] == {
        "labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}}
    assert strategic_merge_patch(deployment(), {"spec": {"replicas": 0}}, DEPLOYMENT)["spec"]["replicas"] == 0


def test_finalizers_set_order_add_and_delete_from_primitive_list() -> None:
    patch = {"metadata": {"$setElementOrder/finalizers": ["x/two", "x/three"], "finalizers": ["x/three"],
                          "$deleteFromPrimitiveList/finalizers": ["x/one"]}}
    assert strategic_merge_patch(deployment(), patch, DEPLOYMENT)["metadata"]["finalizers"] == ["x/two", "x/three"]


def test_delete_from_primitive_list_applies_after_the_list_merges() -> None:
    # Go visits the two keys in random map order; this is the outcome $setElementOrder patches always get.
    patch = {"metadata": {"finalizers": ["x/three"], "$deleteFromPrimitiveList/finalizers": ["x/three", "x/one"]}}
    assert strategic_merge_patch(deployment(), patch, DEPLOYMENT)["metadata"]["finalizers"] == ["x/two"]


def test_delete_from_primitive_list_of_a_missing_list_adds_nothing() -> None:
    patched = strategic_merge_patch({"metadata": {}}, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
                                    DEPLOYMENT)
    assert patched == {"metadata": {}}


def test_primitive_merge_lists_are_a_set_union_in_patch_order() -> None:
    patched = strategic_merge_patch(deployment(), {"metadata": {"finalizers": ["x/three", "x/two", "x/three"]}},
                                    DEPLOYMENT)
    # Patch items in patch order; x/one, live only, goes in before the first patch item that is live after it.
    assert patched["metadata"]["finalizers"] == ["x/three", "x/one", "x/two"]


def test_env_set_order_with_an_addition_and_a_deletion() -> None:
    patch = template({"containers": [{"name": "app", "$setElementOrder/env": [{"name": "C"}, {"name": "A"},
                                                                             {"name": "D"}],
                                      "env": [{"name": "D", "value": "4"}, {"name": "B", "$patch": "delete"}]}]})
    env = pod_spec(strategic_merge_patch(deployment(), patch, DEPLOYMENT))["containers"][0]["env"]
    assert env == [{"name": "C", "value": "3"}, {"name": "A", "value": "1"}, {"name": "D", "value": "4"}]


def test_a_new_list_item_without_set_element_order_comes_first() -> None:
    patch = template({"containers": [{"name": "debug", "image": "busybox"}]})
    names = [c["name"] for c in pod_spec(strategic_merge_patch(deployment(), patch, DEPLOYMENT))["containers"]]
    assert names == ["debug", "app", "sidecar"]


def test_live_only_items_keep_their_place_between_items_the_patch_reorders() -> None:
    pod = {"spec": {"containers": [{"name": n} for n in ("a", "b", "c")]}}
    patched = strategic_merge_patch(pod, {"spec": {"containers": [{"name": "c", "image": "x"}, {"name": "a"}]}}, POD)
    assert [c["name"] for c in patched["spec"]["containers"]] == ["b", "c", "a"]


def test_set_element_order_places_live_only_items_as_the_merge_left_them() -> None:
    # Deleting n1 and adding n3 happen in place in Go; the live-only n4 is then ordered by that view.
    pod = {"spec": {"containers": [{"name": "c", "env": [{"name": "n1"}, {"name": "n2", "value": "b"},
                                                        {"name": "n4", "value": "c"}]}]}}
    patch = {"spec": {"containers": [{"name": "c", "$setElementOrder/env": [{"name": "n2"}, {"name": "n3"}],
                                      "env": [{"name": "n3"}, {"name": "n1", "$patch": "delete"}]}]}}
    env = strategic_merge_patch(pod, patch, POD)["spec"]["containers"][0]["env"]
    assert [e["name"] for e in env] == ["n2", "n4", "n3"]


def test_replace_directive_in_a_list_replaces_it() -> None:
    patch = template({"containers": [{"name": "only", "image": "x"}, {"$patch": "replace"}]})
    assert pod_spec(strategic_merge_patch(deployment(), patch, DEPLOYMENT))["containers"] == [
        {"name": "only", "image": "x"}]


def test_replace_directive_in_a_map_replaces_it_as_daemon_set_rollback_does() -> None:
    daemon_set = {**deployment(), "kind": "DaemonSet"}
    old_template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "web:0"}]}}
    patched = strategic_merge_patch(daemon_set, {"spec": {"template": {"$patch": "replace", **old_template}}},
                                    DAEMON_SET)
    assert patched["spec"]["template"] == old_template
    assert patched["spec"]["selector"] == {"matchLabels": {"app": "web"}}


def test_delete_directive_in_a_map_empties_it_or_leaves_it_out() -> None:
    patched = strategic_merge_patch(deployment(), {"spec": {"strategy": {"rollingUpdate": {"$patch": "delete"}},
                                                            "paused": {"$patch": "delete"}}}, DEPLOYMENT)
    assert patched["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {}}
    assert "paused" not in patched["spec"]
    assert strategic_merge_patch(deployment(), {"$patch": "delete"}, DEPLOYMENT) == {}


def test_new_content_loses_nulls_and_directive_maps() -> None:
    patch = template({"affinity": {"nodeAffinity": None, "podAffinity": {"$patch": "delete"}, "podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "k", "labelSelector": None}]}}})
    assert pod_spec(strategic_merge_patch(deployment(), patch, DEPLOYMENT))["affinity"] == {
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "k"}]}}


def test_replaced_lists_are_taken_as_sent() -> None:
    patch = template({"tolerations": [{"key": "c", "operator": "Exists", "value": None}]})
    assert pod_spec(strategic_merge_patch(deployment(), patch, DEPLOYMENT))["tolerations"] == [
        {"key": "c", "operator": "Exists", "value": None}]


def test_unknown_fields_merge_as_maps_and_replace_as_lists() -> None:
    obj = {**deployment(), "extra": {"keep": 1, "list": [{"name": "a"}], "gone": True}}
    patched = strategic_merge_patch(obj, {"extra": {"list": [{"name": "b"}], "gone": None, "add": {"x": 1}}},
                                    DEPLOYMENT)
    assert patched["extra"] == {"keep": 1, "list": [{"name": "b"}], "add": {"x": 1}}


def test_empty_and_null_patches_change_nothing() -> None:
    assert strategic_merge_patch(deployment(), {}, DEPLOYMENT) == deployment()
    assert strategic_merge_patch(deployment(), None, DEPLOYMENT) == deployment()
    assert apply_patch(SMP, deployment(), b"null", DEPLOYMENT) == deployment()


# --- strategic merge patch: errors -----------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "kind"), [(b"[1]", "array"), (b'"x"', "string"), (b"5", "number"),
                                            (b"true", "bool")])
def test_strategic_patch_that_is_not_an_object_is_400(body: bytes, kind: str) -> None:
    err = api_error(apply_patch, SMP, deployment(), body, DEPLOYMENT)
    assert (err.code, err.reason, err.message) == (
        400, "BadRequest", f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}")


@pytest.mark.parametrize(("patch", "message"), [
    ({"spec": {"strategy": {"$retainKeys": "type"}}}, "invalid patch format of retainKeys"),
    ({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 1}}}},
     "invalid patch format of retainKeys"),
    ({"metadata": {"$deleteFromPrimitiveListfinalizers": ["x"]}}, "invalid patch format of primitive list"),
    ({"metadata": {"$setElementOrder": []}}, "invalid patch format of setElementOrder list"),
])
def test_malformed_directives_are_400(patch: dict[str, Any], message: str) -> None:
    err = api_error(strategic_merge_patch, deployment(), patch, DEPLOYMENT)
    assert (err.code, err.reason, err.message) == (400, "BadRequest", message)


def test_lists_of_lists_are_422() -> None:
    err = api_error(strategic_merge_patch, {"metadata": {"finalizers": []}}, {"metadata": {"finalizers": [["a"]]}},
                    DEPLOYMENT)
    assert (err.code, err.reason, err.message) == (422, "Invalid", REJECTED)


@pytest.mark.parametrize(("obj", "patch", "message"), [
    (deployment(), template({"containers": [{"image": "no-name"}]}),
     "map: map[image:no-name] does not contain declared merge key: name"),
    (deployment(), template({"containers": [{"$patch": "delete"}]}),
     "map: map[$patch:delete] does not contain declared merge key: name"),
    (deployment(), template({"containers": [{"name": "app", "$patch": "merge"}]}),
     "merging lists cannot yet be specified in the patch"),
    (deployment(), {"spec": {"$patch": "merge"}}, "unknown patch type: merge in map: map[$patch:merge]"),
    (deployment(), {"spec": {"$patch": 1}}, "unknown patch type: %!s(int64=1) in map: map[$patch:1]"),
    (deployment(), {"metadata": {"finalizers": [1]}}, "list element types are not identical: [[x/one x/two] [1]]"),
    (deployment(), {"metadata": {"$setElementOrder/finalizers": "x"}},
     "expected a []interface {}, but received a string"),
    (deployment(), template({"$setElementOrder/containers": [{"name": "app"}],
                             "containers": [{"name": "sidecar", "image": "x"}]}),
     "The order in patch list:\n[map[image:x name:sidecar]]\n doesn't match $setElementOrder list:\n"
     "[map[name:app]]\n"),
    ({"metadata": {"finalizers": []}}, {"metadata": {"$setElementOrder/finalizers": ["a"]}},
     "no elements in any of the given slices"),
    ({"spec": {"extra": {"group": ["a"]}}}, {"spec": {"extra": {"group": ["b"]}}},
     "merging an object in json but data type is not struct, instead is: map"),
])
def test_inconsistent_patches_are_500_with_the_library_message(obj: dict[str, Any], patch: dict[str, Any],
                                                               message: str) -> None:
    schema = CSR if "extra" in obj.get("spec", {}) else DEPLOYMENT
    err = api_error(strategic_merge_patch, obj, patch, schema)
    assert (err.code, err.reason, err.message) == (500, "", message)


def test_a_strategy_the_library_does_not_know_is_500() -> None:
    schema = schemas.Schema({"type": "object", "properties": {"items": {
        "type": "array", "items": {"type": "string"}, "x-kubernetes-patch-strategy": "merge,replace"}}})
    err = api_error(strategic_merge_patch, {"items": ["a"]}, {"items": ["b"]}, schema)
    assert (err.code, err.message) == (500, "unexpected patch strategy: [merge replace]")


def test_null_first_item_is_the_library_panic() -> None:
    err = api_error(strategic_merge_patch, {"metadata": {"finalizers": []}}, {"metadata": {"finalizers": [None]}},
                    DEPLOYMENT)
    assert (err.code, err.message) == (500, PANICKED)


def test_go_map_values_merge_when_the_patch_replaces_or_removes_them() -> None:
    csr = {"spec": {"extra": {"group": ["a"], "other": ["b"]}}}
    patched = strategic_merge_patch(csr, {"spec": {"extra": {"group": None, "new": ["c"]}}}, CSR)
    assert patched["spec"]["extra"] == {"other": ["b"], "new": ["c"]}


# --- properties ------------------------------------------------------------------------------------------------

SCALARS = st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.floats(allow_nan=False,
                                                                            allow_infinity=False) | st.text(max_size=5)
KEYS = st.text(alphabet="abc/~", max_size=3)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner,
                                                                                                max_size=3),
                           max_leaves=12)
OBJECTS = st.dictionaries(KEYS, JSON_VALUES, max_size=4)
# Merge patches whose arrays hold no objects: there json-patch v4 and RFC 7386 agree exactly.
FLAT_ARRAY_PATCHES = st.recursive(SCALARS | st.lists(SCALARS, max_size=3),
                                  lambda inner: st.dictionaries(KEYS, inner, max_size=3), max_leaves=10)


def rfc7386(target: Any, patch: Any) -> Any:
    """The RFC's own pseudo-code, as a reference."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = rfc7386(result.get(key), value)
    return result


@given(OBJECTS)
def test_empty_patches_are_identities(obj: dict[str, Any]) -> None:
    assert merge_patch(obj, {}) == obj
    assert json_patch(obj, []) == obj
    assert json_patch(obj, None) == obj
    assert strategic_merge_patch(obj, {}, schemas.Schema.ANY) == obj
    assert strategic_merge_patch(obj, {}, POD) == obj


@given(OBJECTS, st.dictionaries(KEYS, FLAT_ARRAY_PATCHES, max_size=4))
def test_merge_patch_follows_rfc_7386(obj: dict[str, Any], patch: dict[str, Any]) -> None:
    assert merge_patch(obj, patch) == rfc7386(obj, patch)


@given(OBJECTS, st.dictionaries(KEYS.filter(lambda k: not k.startswith("$")), FLAT_ARRAY_PATCHES, max_size=4))
def test_schema_free_strategic_patch_without_directives_is_a_merge_patch(obj: dict[str, Any],
                                                                         patch: dict[str, Any]) -> None:
    assert strategic_merge_patch(obj, patch, schemas.Schema.ANY) == merge_patch(obj, patch)


@given(OBJECTS, st.text(alphabet="ab~/", min_size=1, max_size=3), JSON_VALUES)
def test_json_patch_add_then_remove_is_identity(obj: dict[str, Any], key: str, value: Any) -> None:
    pointer = "/" + key.replace("~", "~0").replace("/", "~1")
    if key in obj:
        return
    added = json_patch(obj, [{"op": "add", "path": pointer, "value": value}])
    assert added[key] == value
    assert json_patch(added, [{"op": "remove", "path": pointer}]) == obj


OPERATIONS = st.lists(st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]),
     "path": st.sampled_from(["/a", "/b", "/a/0", "/a/-", "/b/c", "", "/x/y"])},
    optional={"value": JSON_VALUES, "from": st.sampled_from(["/a", "/b", "/b/c", "/a/0"])}), max_size=3)
SMP_PATCHES = st.recursive(
    SCALARS | st.lists(SCALARS | st.fixed_dictionaries({"name": st.sampled_from(["a", "b"])},
                                                       optional={"$patch": st.sampled_from(["delete", "replace"]),
                                                                 "image": SCALARS}), max_size=3),
    lambda inner: st.dictionaries(st.sampled_from(["spec", "containers", "metadata", "labels", "finalizers",
                                                   "$patch", "$retainKeys", "$setElementOrder/containers",
                                                   "$deleteFromPrimitiveList/finalizers", "image", "name"]),
                                  inner, max_size=3), max_leaves=10)


@settings(max_examples=200)
@given(OBJECTS, OPERATIONS, JSON_VALUES, SMP_PATCHES)
def test_inputs_are_never_mutated_whatever_happens(obj: dict[str, Any], operations: list[dict[str, Any]],
                                                   merge: Any, strategic: Any) -> None:
    snapshot = copy.deepcopy((obj, operations, merge, strategic))
    calls: list[Callable[[], Any]] = [
        lambda: json_patch(obj, operations), lambda: merge_patch(obj, merge),
        lambda: strategic_merge_patch(obj, strategic, POD), lambda: strategic_merge_patch(obj, strategic,
                                                                                           schemas.Schema.ANY)]
    for call in calls:
        try:
            result = call()
        except ApiError as err:
            assert 400 <= err.code < 600
        else:
            assert isinstance(result, dict)
    assert (obj, operations, merge, strategic) == snapshot


# --- the real Go libraries, through kubectl patch --local -----------------------------------------------------

KUBECTL = pathlib.Path(sys.executable).parent / "kubectl"
KUBECTL_PATH = str(KUBECTL) if KUBECTL.exists() else shutil.which("kubectl")
ORACLE_CASES = [
    ("strategic", template({"$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
                            "containers": [{"name": "app", "image": "web:2"}]})),
    ("strategic", template({"containers": [{"name": "app", "$setElementOrder/env": [{"name": "C"}, {"name": "A"},
                                                                                    {"name": "D"}],
                                            "env": [{"name": "D", "value": "4"}, {"name": "B", "$patch": "delete"}]},
                                           {"name": "new", "image": "x", "resources": None}]})),
    ("strategic", template({"containers": [{"name": "app", "ports": [{"containerPort": 8080},
                                                                     {"containerPort": 443, "$patch": "delete"}]}],
                            "volumes": [{"name": "tmp", "$retainKeys": ["name", "secret"], "secret": {}}],
                            "tolerations": [{"key": "c", "value": None}]})),
    ("strategic", {"metadata": {"$setElementOrder/finalizers": ["x/three", "x/one"], "finalizers": ["x/three"],
                                "$deleteFromPrimitiveList/finalizers": ["x/two"], "labels": {"tier": None},
                                "ownerReferences": [{"uid": "u2", "name": "o2"}, {"uid": "u1", "$patch": "delete"}]},
                   "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"},
                            "template": {"spec": {"$setElementOrder/volumes": [{"name": "tmp"}, {"name": "cfg"}]}}}}),
    ("strategic", template({"containers": [{"name": "sidecar", "image": None}, {"$patch": "replace"},
                                           {"name": "x", "env": [{"name": "Q", "$patch": "delete"}]}]})),
    ("strategic", {"spec": {"template": {"$patch": "replace", "spec": {"containers": [{"name": "c"}]}}}}),
    ("merge", {"metadata": {"labels": {"tier": None}}, "spec": {"template": {"spec": {"containers": [
        {"name": "c", "x": None}]}}, "strategy": {"rollingUpdate": None}}}),
    ("json", [{"op": "move", "from": "/spec/template/spec/containers/0", "path": "/spec/template/spec/containers/-"},
              {"op": "test", "path": "/spec/template/spec/containers/-1/name", "value": "app"},
              {"op": "copy", "from": "/metadata/labels", "path": "/spec/template/metadata/labels"},
              {"op": "replace", "path": "/metadata/nothing", "value": 1}]),
]


@pytest.mark.skipif(KUBECTL_PATH is None, reason="needs the kubectl binary")
@pytest.mark.parametrize(("kind", "patch"), ORACLE_CASES)
def test_agrees_with_the_go_libraries_kubectl_runs_locally(kind: str, patch: Any) -> None:
    obj = deployment()
    with tempfile.TemporaryDirectory() as home:
        path = pathlib.Path(home) / "obj.json"
        path.write_text(json.dumps(obj))
        env = {**os.environ, "KUBECONFIG": os.devnull, "HOME": home, "KUBECTL_KUBERC": "false"}
        done = subprocess.run([str(KUBECTL_PATH), "patch", "--local", "-f", str(path), "-o", "json", "--type", kind,
                               "-p", json.dumps(patch)], capture_output=True, text=True, env=env, timeout=60,
                              check=True)
    ours = {"strategic": lambda: strategic_merge_patch(obj, patch, DEPLOYMENT),
            "merge": lambda: merge_patch(obj, patch), "json": lambda: json_patch(obj, patch)}[kind]()
    assert ours == json.loads(done.stdout)
