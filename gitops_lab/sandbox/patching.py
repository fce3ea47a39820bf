"""The three classic PATCH bodies applied to a JSON object, with kube-apiserver's results and errors.

Owns JSON patch (RFC 6902, as the json-patch v4 library kube-apiserver uses applies it), JSON merge patch
(RFC 7386, same library) and strategic merge patch (as apimachinery's ``strategicpatch`` applies it, driven by a
:class:`~gitops_lab.sandbox.schemas.Schema`), plus :func:`apply_patch`, which parses a request body and picks one
by content type. Every failure is a :class:`~gitops_lab.sandbox.statuses.ApiError` with the code, reason and
message kube-apiserver answers for it.

The result is the map kube-apiserver's patch step produces, before it decodes that map into the typed object:
like there it may hold ``null`` values or fields the schema does not know (the decode drops the first and drops
or, with ``fieldValidation=Strict``, reports the second). That decode, defaulting, validation, server-side apply
(``application/apply-patch+yaml``) and warnings are other modules' work. Pure: no I/O, inputs never mutated.
"""

from __future__ import annotations

import copy
import dataclasses
import decimal
import functools
import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from gitops_lab.sandbox import documents, statuses
from gitops_lab.sandbox.schemas import Schema

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
BUILTIN_PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)
"""What kube-apiserver accepts on PATCH of a built-in resource, in the order its 415 message lists them."""
CUSTOM_RESOURCE_PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, APPLY_PATCH)
"""Custom resources have no strategic merge patch."""
FIELD_VALIDATIONS = ("Ignore", "Warn", "Strict")
MAX_JSON_PATCH_OPERATIONS = 10000
MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024
REJECTED = "the server rejected our request due to an error in our request"
PANICKED = "This request caused apiserver to panic. Look in the logs for details."

_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_SET_ORDER = "$setElementOrder"
_DELETE_PRIMITIVES = "$deleteFromPrimitiveList"
_ABSENT: Any = object()
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _depth_guarded(apply: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn Python's recursion limit (documents nested hundreds deep) into a 400, never a crash or a 500."""
    @functools.wraps(apply)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return apply(*args, **kwargs)
        except RecursionError:
            raise statuses.too_deep(documents.MAX_DEPTH) from None
    return guarded


# --- entry point -----------------------------------------------------------------------------------------------

def apply_patch(content_type: str, obj: dict[str, Any], body: bytes | str, schema: Schema, *,
                accepted: Sequence[str] = BUILTIN_PATCH_TYPES, field_validation: str = "Warn") -> dict[str, Any]:
    """Parse a PATCH body and apply it to ``obj`` the way its ``Content-Type`` says.

    Args:
        content_type: The request's Content-Type header; parameters after ``;`` are ignored.
        obj: The current object (not modified).
        body: The request body, JSON.
        schema: The object's schema, which strategic merge patch follows.
        accepted: The patch types this resource takes (:data:`CUSTOM_RESOURCE_PATCH_TYPES` for custom resources).
        field_validation: The request's ``fieldValidation``; only ``Ignore`` changes how a body is decoded here.

    Returns:
        The patched object, a new dict.

    Raises:
        ApiError: 415 for a type not in ``accepted``; 400, 413, 422 or 500 as kube-apiserver answers.
        ValueError: for ``application/apply-patch+yaml``, which server-side apply handles, not this module.

    >>> from gitops_lab.sandbox import schemas
    >>> pod = {"metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}}}
    >>> apply_patch("application/strategic-merge-patch+json", pod, b'{"metadata":{"labels":{"tier":null}}}',
    ...             schemas.definition("io.k8s.api.core.v1.Pod"))
    {'metadata': {'name': 'web', 'labels': {'app': 'web'}}}
    """
    cut = content_type.find(";")
    media_type = content_type[:cut] if cut > 0 else content_type  # no trimming: "x ;y" is "x "
    if media_type not in accepted:
        raise _unsupported(accepted)
    if media_type == APPLY_PATCH:
        raise ValueError("server-side apply bodies are applied by gitops_lab.sandbox.applying, not here")
    patch = parse_body(body)
    if media_type == JSON_PATCH:
        return json_patch(obj, patch, field_validation=field_validation)
    if media_type == MERGE_PATCH:
        return merge_patch(obj, patch, field_validation=field_validation)
    if media_type == STRATEGIC_MERGE_PATCH:
        return strategic_merge_patch(obj, patch, schema)
    raise _unsupported(accepted)


def _unsupported(accepted: Sequence[str]) -> statuses.ApiError:
    return statuses.ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                             f"accepted media types include: {', '.join(accepted)}")


def parse_body(body: bytes | str) -> Any:
    """The JSON value of a patch body; 400 ``invalid JSON patch`` when it is not JSON (checked before any type),
    400 when it nests deeper than the sandbox serves (:data:`~gitops_lab.sandbox.documents.MAX_DEPTH`)."""
    return documents.loads_json(body, "", message="invalid JSON patch")


def _check_validation(field_validation: str) -> bool:
    """True when the body is decoded strictly first: ``Warn`` (also what ``""`` means) and ``Strict``."""
    if field_validation not in (*FIELD_VALIDATIONS, ""):
        raise ValueError(f"fieldValidation must be one of {FIELD_VALIDATIONS}, not {field_validation!r}")
    return field_validation != "Ignore"


# --- Go's view of JSON values, for faithful messages -----------------------------------------------------------

def _go_type(value: Any) -> str:
    """The Go type a JSON value decodes to as ``interface{}`` (integers stay int64, as kube-apiserver keeps them)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    raise TypeError(f"not a JSON value: {value!r}")


def _json_kind(value: Any) -> str:
    """How encoding/json names a value it cannot unmarshal: object, array, string, number or bool."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    return "string" if isinstance(value, str) else "number"


def _go_float(value: float) -> str:
    """Go's ``%v`` of a float64: shortest digits, exponent form below 1e-4 and from 1e6 (e.g. ``1e+06``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digit_tuple, exponent = decimal.Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + int(exponent)
    lead = "-" if sign else ""
    if point - 1 < -4 or point - 1 >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exp = point - 1
        return f"{lead}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{lead}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{lead}{digits}{'0' * (point - len(digits))}"
    return f"{lead}{digits[:point]}.{digits[point:]}"


def _go_v(value: Any) -> str:
    """Go's ``%v`` of a decoded JSON value: ``map[a:1 b:[x y]]``, ``<nil>``."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_v(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_v(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    return str(value)


def _go_s(value: Any) -> str:
    """Go's ``%s`` of an ``interface{}``: strings as they are, other scalars as ``%!s(int64=5)``."""
    if isinstance(value, str | dict | list):
        return _go_v(value)
    if value is None:
        return "%!s(<nil>)"
    return f"%!s({_go_type(value)}={_go_v(value)})"


def _go_key(value: Any) -> tuple[str, Any]:
    """A hashable stand-in for Go's ``==`` on ``interface{}`` values: same type and same value.

    Go panics comparing or hashing maps and slices held in interfaces; so does this, as kube-apiserver's 500.
    """
    if isinstance(value, dict | list):
        raise _panicked()
    return (_go_type(value), value)


def _panicked() -> statuses.ApiError:
    """A Go panic in the library: kube-apiserver's panic recovery answers 500 with this text."""
    return statuses.ApiError(500, "InternalError", PANICKED)


def _internal(message: str) -> statuses.ApiError:
    """A Go error kube-apiserver did not map to a Status: code 500 and no reason, the error text as message."""
    return statuses.ApiError(500, "", message)


def _rejected() -> statuses.ApiError:
    """422 from ``NewGenericServerResponse``: kube-apiserver keeps the library's message to itself."""
    return statuses.ApiError(422, "Invalid", REJECTED, {})


def _bad_arg_type(expected: str, actual: Any) -> statuses.ApiError:
    received = "%!s(<nil>)" if actual is None else _go_type(actual)
    return _internal(f"expected a {expected}, but received a {received}")


def _no_merge_key(item: dict[str, Any], merge_key: str) -> statuses.ApiError:
    return _internal(f"map: {_go_v(item)} does not contain declared merge key: {merge_key}")


def _not_an_object(result: Any) -> statuses.ApiError:
    """422 for a patched document that is not an object: decoding its apiVersion and kind fails."""
    text = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
    detail = ('couldn\'t get version/kind; json parse error: json: cannot unmarshal array into Go value of type '
              'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
              'Kind string "json:\\"kind,omitempty\\"" }')
    value = json.dumps(text, ensure_ascii=False)
    return statuses.invalid("", "", [statuses.cause("FieldValueInvalid", f"Invalid value: {value}: {detail}",
                                                    "patch")])


# --- JSON merge patch (RFC 7386) -------------------------------------------------------------------------------

@_depth_guarded
def merge_patch(obj: dict[str, Any], patch: Any, *, field_validation: str = "Warn") -> dict[str, Any]:
    """Apply a JSON merge patch: objects merge key by key, ``null`` removes a key, anything else replaces.

    As json-patch v4 does it: ``null`` values are also dropped from objects the patch brings in, and a ``null``
    body is 400 ``Invalid JSON Patch``. A body that is not an object is 400 when decoded strictly (the default);
    with ``Ignore`` an array body becomes the whole document and fails to decode (422).

    >>> merge_patch({"spec": {"replicas": 1, "paused": True}}, {"spec": {"replicas": 3, "paused": None}})
    {'spec': {'replicas': 3}}
    """
    if _check_validation(field_validation) and patch is not None and not isinstance(patch, dict):
        raise statuses.bad_request(f"error decoding patch: json: cannot unmarshal {_json_kind(patch)} into Go "
                                   "value of type map[string]interface {}")
    if isinstance(patch, list):
        raise _not_an_object(_prune_nulls(copy.deepcopy(patch)))
    if not isinstance(patch, dict):
        raise statuses.bad_request("Invalid JSON Patch")
    doc = copy.deepcopy(obj)
    _merge_documents(doc, copy.deepcopy(patch))
    return doc


def _merge_documents(doc: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            doc.pop(key, None)
        elif doc.get(key) is None:
            doc[key] = _prune_nulls(value)
        else:
            doc[key] = _merge_value(doc[key], value)


def _merge_value(current: Any, patch: Any) -> Any:
    if not isinstance(current, dict):
        return _prune_nulls(patch)
    if not isinstance(patch, dict):
        return patch
    _merge_documents(current, patch)
    return current


def _prune_nulls(value: Any) -> Any:
    """Drop null members of objects, at any depth (null array items stay)."""
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for item in value.values():
            _prune_nulls(item)
    elif isinstance(value, list):
        for item in value:
            _prune_nulls(item)
    return value


# --- JSON patch (RFC 6902) -------------------------------------------------------------------------------------

class _OperationFailed(Exception):
    """One operation did not apply; kube-apiserver answers every such case with the same 422."""


@_depth_guarded
def json_patch(obj: dict[str, Any], patch: Any, *, field_validation: str = "Warn") -> dict[str, Any]:
    """Apply a JSON patch (a list of add/remove/replace/move/copy/test operations) as json-patch v4 does.

    v4's ways are kept: negative array indices count from the end, ``replace`` of a missing object member adds
    it, ``copy`` from a missing member copies ``null``, ``add`` without a value adds ``null``, and ``""`` (the
    whole document) works for ``replace`` and ``test`` only. A ``null`` body is an empty patch. Any operation
    that does not apply (a failed ``test`` included) is 422 with kube-apiserver's generic message.

    >>> json_patch({"spec": {"replicas": 1}}, [{"op": "test", "path": "/spec/replicas", "value": 1},
    ...                                        {"op": "replace", "path": "/spec/replicas", "value": 2}])
    {'spec': {'replicas': 2}}
    """
    operations = _decode_operations(patch, strict=_check_validation(field_validation))
    if len(operations) > MAX_JSON_PATCH_OPERATIONS:
        raise statuses.too_large("Request entity too large: The allowed maximum operations in a JSON patch is "
                                 f"{MAX_JSON_PATCH_OPERATIONS}, got {len(operations)}")
    state = _PatchState(copy.deepcopy(obj))
    try:
        for operation in operations:
            state.apply(operation)
    except _OperationFailed:
        raise _rejected() from None
    if not isinstance(state.doc, dict):
        raise _not_an_object(state.doc)
    return state.doc


def _decode_operations(patch: Any, *, strict: bool) -> list[Any]:
    """The operations of a body, or 400 with the message of the decoder kube-apiserver runs first."""
    if patch is None:
        return []
    prefix, go_list, go_item = (("error decoding patch: ", "[]handlers.jsonPatchOp", "handlers.jsonPatchOp")
                                if strict else ("", "jsonpatch.Patch", "jsonpatch.Operation"))
    if not isinstance(patch, list):
        raise statuses.bad_request(f"{prefix}json: cannot unmarshal {_json_kind(patch)} into Go value of type "
                                   f"{go_list}")
    for operation in patch:
        if operation is not None and not isinstance(operation, dict):
            raise statuses.bad_request(f"{prefix}json: cannot unmarshal {_json_kind(operation)} into Go value of "
                                       f"type {go_item}")
        if strict and operation:
            for name, value in operation.items():
                if name in ("op", "path", "from") and value is not None and not isinstance(value, str):
                    raise statuses.bad_request(f"{prefix}json: cannot unmarshal {_json_kind(value)} into Go "
                                               f"struct field jsonPatchOp.{name} of type string")
    return copy.deepcopy(patch)


_ARRAY_INDEX = re.compile(r"[+-]?[0-9]+")
_POINTER_ESCAPE = re.compile(r"~[01]")


def _unescape(token: str) -> str:
    return _POINTER_ESCAPE.sub(lambda m: "/" if m.group() == "~1" else "~", token)


def _index(token: str, size: int, *, inserting: bool = False) -> int:
    """An array position from a path token; negative counts from the end; out of range fails."""
    if not _ARRAY_INDEX.fullmatch(token):
        raise _OperationFailed(f"not an array index: {token!r}")
    index = int(token)
    limit = size + 1 if inserting else size
    if index >= limit or index < -limit:
        raise _OperationFailed(f"index {index} out of range")
    return index + limit if index < 0 else index


def _get(container: dict[str, Any] | list[Any], key: str) -> Any:
    """The value at ``key``; an object's missing member reads as null, a bad array index fails."""
    if isinstance(container, dict):
        return container.get(key)
    return container[_index(key, len(container))]


def _add(container: dict[str, Any] | list[Any], key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
    elif key == "-":
        container.append(value)
    else:
        container.insert(_index(key, len(container), inserting=True), value)


def _remove(container: dict[str, Any] | list[Any], key: str) -> None:
    if isinstance(container, dict):
        if key not in container:
            raise _OperationFailed(f"no member {key!r} to remove")
        del container[key]
    else:
        del container[_index(key, len(container))]


def _json_text(value: Any) -> str:
    """What Go's encoding/json writes for a scalar (floats without a needless ``.0``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return json.dumps(value, ensure_ascii=False)


def _equal(current: Any, expected: Any) -> bool:
    """v4's ``test`` comparison: objects by members (null only equals null), arrays in order, scalars by text."""
    if isinstance(current, dict):
        return (isinstance(expected, dict) and current.keys() == expected.keys()
                and all((current[k] is None) == (expected[k] is None)
                        and (current[k] is None or _equal(current[k], expected[k])) for k in current))
    if isinstance(current, list):
        if not isinstance(expected, list) or len(current) != len(expected):
            return False
        for a, b in zip(current, expected, strict=True):
            if a is None or b is None:
                raise _panicked()  # v4 compares array items through nil pointers
            if not _equal(a, b):
                return False
        return True
    if isinstance(expected, dict | list):
        return False
    if isinstance(current, str) or isinstance(expected, str):
        return current == expected and type(current) is type(expected)
    return _json_text(current) == json.dumps(expected)


class _PatchState:
    """The document a JSON patch works on (its root may become an array) and the bytes ``copy`` has added."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.copied = 0

    def apply(self, operation: dict[str, Any] | None) -> None:
        operation = operation or {}
        kind = operation.get("op")
        handler = self._HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            raise _OperationFailed(f"unexpected kind: {kind!r}")
        handler(self, operation)

    def _locate(self, operation: dict[str, Any], field: str) -> tuple[dict[str, Any] | list[Any], str]:
        """The container and the last token of a pointer; every step before the last must exist."""
        path = operation.get(field)
        if not isinstance(path, str):
            raise _OperationFailed(f"operation has no {field}")
        tokens = path.split("/")
        if len(tokens) < 2:
            raise _OperationFailed(f"missing path: {path!r}")
        node = self.doc
        for token in tokens[1:-1]:
            try:
                node = _get(node, _unescape(token))
            except _OperationFailed:
                node = None
            if not isinstance(node, dict | list):
                raise _OperationFailed(f"missing path: {path!r}")
        return node, _unescape(tokens[-1])

    def _add(self, operation: dict[str, Any]) -> None:
        container, key = self._locate(operation, "path")
        value = operation.get("value")
        _add(container, key, value)

    def _remove(self, operation: dict[str, Any]) -> None:
        container, key = self._locate(operation, "path")
        _remove(container, key)

    def _replace(self, operation: dict[str, Any]) -> None:
        if operation.get("path") == "":
            value = operation.get("value", _ABSENT)
            if value is _ABSENT:
                raise _panicked()
            if not isinstance(value, dict | list):
                raise _OperationFailed("replace of the document needs an object or array")
            self.doc = value
            return
        container, key = self._locate(operation, "path")
        if isinstance(container, dict):
            container[key] = operation.get("value")
        else:
            container[_index(key, len(container))] = operation.get("value")

    def _move(self, operation: dict[str, Any]) -> None:
        source, source_key = self._locate(operation, "from")
        value = _get(source, source_key)
        _remove(source, source_key)
        container, key = self._locate(operation, "path")
        _add(container, key, value)

    def _copy(self, operation: dict[str, Any]) -> None:
        source, source_key = self._locate(operation, "from")
        value = _get(source, source_key)
        container, key = self._locate(operation, "path")
        if value is not None:
            self.copied += len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
            if self.copied > MAX_JSON_PATCH_COPY_BYTES:
                raise _OperationFailed("copies exceed the accumulated size limit")
        _add(container, key, copy.deepcopy(value))

    def _test(self, operation: dict[str, Any]) -> None:
        expected = operation.get("value", _ABSENT)
        if operation.get("path") == "":
            if expected is _ABSENT:
                raise _panicked()
            if not _equal(self.doc, expected):
                raise _OperationFailed("test of the document failed")
            return
        container, key = self._locate(operation, "path")
        current = _get(container, key)
        if current is None:
            passed = expected is _ABSENT or expected is None
        else:
            passed = expected is not _ABSENT and expected is not None and _equal(current, expected)
        if not passed:
            raise _OperationFailed("test failed")

    _HANDLERS: dict[str, Callable[[_PatchState, dict[str, Any]], None]] = {
        "add": _add, "remove": _remove, "replace": _replace, "move": _move, "copy": _copy, "test": _test,
    }


# --- strategic merge patch -------------------------------------------------------------------------------------

@_depth_guarded
def strategic_merge_patch(obj: dict[str, Any], patch: Any, schema: Schema) -> dict[str, Any]:
    """Apply a strategic merge patch, following the schema's patch strategies and merge keys.

    Maps merge recursively and ``null`` deletes a key; a list whose strategy is ``merge`` merges items by its
    merge key (primitive items: set union), other lists are replaced. Directives: ``$patch: replace|delete`` in
    maps and list items, ``$retainKeys``, ``$setElementOrder/<list>`` and ``$deleteFromPrimitiveList/<list>``.
    Items the patch names come first in the patch's order, interleaved with the live items it does not name,
    exactly as apimachinery orders them. Fields the schema does not know merge as plain maps / replace as lists.

    Errors as kube-apiserver: a body that is not an object is 400; malformed directives are 400; lists of lists
    422; other inconsistencies (missing merge key, ``$patch: merge``, ...) 500 with the library's message. A
    ``null`` body changes nothing.

    >>> from gitops_lab.sandbox import schemas
    >>> spec = {"containers": [{"name": "app", "image": "web:1"}, {"name": "log", "image": "fluentd"}]}
    >>> strategic_merge_patch(spec, {"containers": [{"name": "app", "image": "web:2"}]},
    ...                       schemas.definition("io.k8s.api.core.v1.PodSpec"))["containers"]
    [{'name': 'app', 'image': 'web:2'}, {'name': 'log', 'image': 'fluentd'}]
    """
    if patch is None:
        return copy.deepcopy(obj)
    if not isinstance(patch, dict):
        raise statuses.bad_request(f"json: cannot unmarshal {_json_kind(patch)} into Go value of type "
                                   "map[string]interface {}")
    return _merge_map(copy.deepcopy(obj), copy.deepcopy(patch), _Meta(schema))


@dataclasses.dataclass(frozen=True)
class _Meta:
    """Where the merge stands in the schema; ``None`` for unknown fields, which get no strategy."""

    schema: Schema | None

    def _field(self, key: str) -> tuple[Schema, str, str]:
        schema = self.schema
        if schema is not None and isinstance(schema.raw.get("additionalProperties"), dict) \
                and not schema.properties:
            # A Go map type: the library looks up struct tags and finds none.
            raise _internal("merging an object in json but data type is not struct, instead is: map")
        field = schema.field(key) if schema is not None else None
        if field is None:
            return Schema.ANY, "", ""
        return field, _strategy(field.patch_strategy), field.patch_merge_key or ""

    def map_field(self, key: str) -> tuple[_Meta, str]:
        field, strategy, _ = self._field(key)
        return _Meta(field), strategy

    def list_field(self, key: str) -> tuple[_Meta, str, str]:
        field, strategy, merge_key = self._field(key)
        return _Meta(field.items()), strategy, merge_key


def _strategy(declared: str | None) -> str:
    """The strategy besides ``retainKeys`` (which only matters to the client building the patch)."""
    parts = (declared or "").split(",")
    if len(parts) == 1:
        return "" if parts[0] == "retainKeys" else parts[0]
    if len(parts) == 2 and "retainKeys" in parts:
        return parts[1] if parts[0] == "retainKeys" else parts[0]
    raise _internal(f"unexpected patch strategy: [{' '.join(parts)}]")


def _extract_key(key: str, prefix: str, error: statuses.ApiError) -> str:
    """The list name in ``<prefix>/<name>``."""
    head, slash, name = key.partition("/")
    if not slash or head != prefix:
        raise error
    return name


def _merge_map(original: dict[str, Any] | None, patch: dict[str, Any], meta: _Meta) -> dict[str, Any]:
    if _PATCH in patch:
        return _map_directive(patch)
    if original is None:
        original = {}
    _retain_keys(original, patch)
    _merge_ordered_lists(original, patch, meta)
    for key in sorted(patch, key=lambda k: k.startswith(_DELETE_PRIMITIVES)):
        _merge_field(original, key, patch[key], meta)
    return original


def _map_directive(patch: dict[str, Any]) -> dict[str, Any]:
    directive = patch[_PATCH]
    if directive == "replace":
        del patch[_PATCH]
        return patch
    if directive == "delete":
        return {}
    raise _internal(f"unknown patch type: {_go_s(directive)} in map: {_go_v(patch)}")


def _retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    """``$retainKeys``: every key the patch sets must be listed; keys not listed leave ``original``."""
    if _RETAIN_KEYS not in patch:
        return
    listed = patch.pop(_RETAIN_KEYS)
    invalid = statuses.bad_request("invalid patch format of retainKeys")
    if not isinstance(listed, list):
        raise invalid
    keep = {_go_key(k) for k in listed}
    for key, value in patch.items():
        if value is not None and not key.startswith((_DELETE_PRIMITIVES, _SET_ORDER)) \
                and _go_key(key) not in keep:
            raise invalid
    for key in [k for k in original if _go_key(k) not in keep]:
        del original[key]


def _merge_field(original: dict[str, Any], key: str, value: Any, meta: _Meta) -> None:
    deleting = key.startswith(_DELETE_PRIMITIVES)
    if deleting:
        key = _extract_key(key, _DELETE_PRIMITIVES,
                           statuses.bad_request("invalid patch format of primitive list"))
    if value is None:
        original.pop(key, None)
        return
    if key not in original or _go_type(original[key]) != _go_type(value):
        if not deleting:
            _put(original, key, _remove_directives(_prune_nulls(value)))
        return
    if isinstance(value, dict):
        sub, strategy = meta.map_field(key)
        original[key] = value if strategy == "replace" else _merge_map(original[key], value, sub)
    elif isinstance(value, list):
        items, strategy, merge_key = meta.list_field(key)
        original[key] = _merge_list(original[key], value, items, strategy, merge_key, deleting).merged
    else:
        original[key] = value


def _put(original: dict[str, Any], key: str, cleaned: tuple[Any, bool]) -> None:
    value, keep = cleaned
    if keep:
        original[key] = value
    else:
        original.pop(key, None)


def _remove_directives(value: Any) -> tuple[Any, bool]:
    """Strip maps carrying ``$patch`` from new content; ``(value, False)`` when ``value`` itself is one."""
    if isinstance(value, dict):
        if _PATCH in value:
            return None, False
        for key in list(value):
            cleaned, keep = _remove_directives(value[key])
            if keep:
                value[key] = cleaned
            else:
                del value[key]
        return value, True
    if isinstance(value, list):
        return [cleaned for cleaned, keep in map(_remove_directives, value) if keep], True
    return value, True


# --- strategic merge patch: lists ------------------------------------------------------------------------------

@dataclasses.dataclass
class _ListMerge:
    """A merged list, and the live list as the library sees it afterwards (see :func:`_live_after`)."""

    merged: list[Any]
    live: list[Any]


def _merge_list(original: list[Any], patch: list[Any], items: _Meta, strategy: str, merge_key: str,
                deleting: bool) -> _ListMerge:
    if strategy == "merge" or deleting:
        return _merge_slice(original, patch, items, merge_key, deleting)
    return _ListMerge(patch, original)


def _element_type(*lists: list[Any]) -> str:
    """The one Go type of all items, or the library's error for mixed types, lists of lists and no items."""
    found: str | None = None
    for item in (item for items in lists for item in items):
        kind = _go_type(item)
        if found is None:
            if kind == "nil":
                raise _panicked()
            if kind == "[]interface {}":
                raise _rejected()
            found = kind
        elif kind != found:
            raise _internal(f"list element types are not identical: {_go_v(list(lists))}")
    if found is None:
        raise _internal("no elements in any of the given slices")
    return found


def _merge_slice(original: list[Any], patch: list[Any], items: _Meta, merge_key: str,
                 deleting: bool) -> _ListMerge:
    if not original and not patch:
        return _ListMerge(original, original)
    kind = _element_type(original, patch)
    if kind != "map[string]interface {}":
        if deleting:
            gone = {_go_key(v) for v in patch}
            return _ListMerge([v for v in original if _go_key(v) not in gone], original)
        merged = _unique(original + patch)
        named, server_only = _partition(merged, patch, merge_key)
        return _ListMerge(_normalize(named, server_only, patch, original, merge_key, kind), original)
    if not merge_key:
        raise _internal("cannot merge lists without merge key for struct")
    kept, stale, rest, replaced = _special_items(original, patch, merge_key)
    base = rest if replaced else list(kept)
    appended = [] if replaced else _merge_items(base, rest, merge_key, items)
    order = [] if replaced else rest
    named, server_only = _partition(base, order, merge_key)
    merged = _normalize(named, server_only, order, rest if replaced else kept, merge_key, kind)
    return _ListMerge(merged, _live_after(kept, stale, appended))


def _live_after(kept: list[Any], stale: list[Any], appended: list[Any]) -> list[Any]:
    """The live list as the library's caller still sees it after merging into it in place.

    Go deletes items by shifting the rest left inside the same array and appends new items into the freed
    cells, so the caller's slice (its old length) reads: items kept, then items appended, then leftovers.
    ``$setElementOrder`` orders the live-only items by this view, and the result depends on it.
    """
    fill = appended[:len(stale)]
    return kept + fill + stale[len(fill):]


def _special_items(original: list[Any], patch: list[Any],
                   merge_key: str) -> tuple[list[Any], list[Any], list[Any], bool]:
    """Handle ``$patch`` items: returns (items kept, cells left over, other patch items, replace asked)."""
    cells = list(original)
    length = len(cells)
    rest: list[Any] = []
    replaced = False
    for item in patch:
        if _PATCH not in item:
            rest.append(item)
            continue
        directive = item[_PATCH]
        if directive == "delete":
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            while (index := _find_by_key(cells[:length], merge_key, item[merge_key])) is not None:
                cells[index:length - 1] = cells[index + 1:length]
                length -= 1
        elif directive == "replace":
            replaced = True
        elif directive == "merge":
            raise _internal("merging lists cannot yet be specified in the patch")
        else:
            raise _internal(f"unknown patch type: {_go_s(directive)} in map: {_go_v(item)}")
    return cells[:length], cells[length:], rest, replaced


def _find_by_key(items: list[Any], merge_key: str, value: Any) -> int | None:
    wanted = _go_key(value)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _internal(f"value for key {index} is not a map")
        if merge_key in item and _go_key(item[merge_key]) == wanted:
            return index
    return None


def _merge_items(current: list[Any], patch: list[Any], merge_key: str, items: _Meta) -> list[Any]:
    """Merge each patch item into the live item with its key, or append it; returns the appended items."""
    appended = []
    for item in patch:
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        index = _find_by_key(current, merge_key, item[merge_key])
        if index is None:
            current.append(item)
            appended.append(item)
        else:
            current[index] = _merge_map(current[index], item, items)
    return appended


def _unique(values: list[Any]) -> list[Any]:
    seen: set[tuple[str, Any]] = set()
    unique = []
    for value in values:
        key = _go_key(value)
        if key not in seen:
            seen.add(key)
            unique.append(value)
    return unique


def _partition(merged: list[Any], named: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """Split ``merged`` into items ``named`` names and the others, keeping order."""
    inside: list[Any] = []
    outside: list[Any] = []
    if not merge_key:
        names = {_go_key(v) for v in named}
        for value in merged:
            (inside if _go_key(value) in names else outside).append(value)
        return inside, outside
    for value in merged:
        if not isinstance(value, dict):
            raise _bad_arg_type("map[string]interface {}", value)
        if merge_key not in value:
            raise _no_merge_key(value, merge_key)
        (inside if _find_by_key(named, merge_key, value[merge_key]) is not None else outside).append(value)
    return inside, outside


def _positions(order: list[Any], merge_key: str, kind: str) -> dict[tuple[str, Any], int]:
    """First position of each item (by merge key value for maps) in ``order``."""
    positions: dict[tuple[str, Any], int] = {}
    for index, item in enumerate(order):
        positions.setdefault(_go_key(_order_value(item, merge_key, kind)), index)
    return positions


def _order_value(item: Any, merge_key: str, kind: str) -> Any:
    if kind != "map[string]interface {}":
        return item
    return item.get(merge_key) if isinstance(item, dict) else None


def _sort_by(items: list[Any], order: list[Any], merge_key: str, kind: str) -> list[Any]:
    """Stable sort by position in ``order``, with the library's comparison (unknown items compare "less")."""
    deleted: list[Any] = []
    if kind == "map[string]interface {}":
        for value in [*items, *order]:
            if not isinstance(value, dict):
                raise _bad_arg_type("map[string]interface {}", value)
            if merge_key not in value:
                raise _no_merge_key(value, merge_key)
        deleted = [v for v in items if v.get(_PATCH) == "delete"]
        items = [v for v in items if v.get(_PATCH) != "delete"]
    positions = _positions(order, merge_key, kind)
    found = [positions.get(_go_key(_order_value(v, merge_key, kind))) for v in items]
    known = [p for p in found if p is not None]
    if len(known) == len(items):
        return [item for _, item in sorted(zip(known, items, strict=True), key=lambda pair: pair[0])] + deleted
    return _insertion_sort(items, found) + deleted


def _insertion_sort(items: list[Any], found: list[int | None]) -> list[Any]:
    """Go's stable insertion sort with a "less" that is true whenever either side has no position."""
    pairs = list(zip(found, items, strict=True))
    for i in range(1, len(pairs)):
        j = i
        while j > 0:
            a, b = pairs[j][0], pairs[j - 1][0]
            if a is not None and b is not None and not a < b:
                break
            pairs[j], pairs[j - 1] = pairs[j - 1], pairs[j]
            j -= 1
    return [item for _, item in pairs]


def _normalize(named: list[Any], server_only: list[Any], patch_order: list[Any], server_order: list[Any],
               merge_key: str, kind: str) -> list[Any]:
    """Order patch items by the patch and live-only items by the live list, then interleave them."""
    named = _sort_by(named, patch_order, merge_key, kind)
    server_only = _sort_by(server_only, server_order, merge_key, kind)
    positions = _positions(server_order, merge_key, kind)
    merged: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(named):
        if j < len(named) and i < len(server_only):
            left = positions.get(_go_key(_order_value(server_only[i], merge_key, kind)))
            right = positions.get(_go_key(_order_value(named[j], merge_key, kind)))
            take_left = left is not None and right is not None and left < right
        else:
            take_left = j >= len(named)
        if take_left:
            merged.append(server_only[i])
            i += 1
        else:
            merged.append(named[j])
            j += 1
    return merged


def _merge_ordered_lists(original: dict[str, Any], patch: dict[str, Any], meta: _Meta) -> None:
    """``$setElementOrder/<list>``: merge that list now and order it as the directive says."""
    for directive in [k for k in patch if k.startswith(_SET_ORDER)]:
        order = patch.pop(directive)
        if not isinstance(order, list):
            raise _bad_arg_type("[]interface {}", order)
        key = _extract_key(directive, _SET_ORDER,
                           statuses.bad_request("invalid patch format of setElementOrder list"))
        live, changes = original.get(key, _ABSENT), patch.get(key, _ABSENT)
        for value in (live, changes):
            if value is not _ABSENT and not isinstance(value, list):
                raise _bad_arg_type("[]interface {}", value)
        items, strategy, merge_key = meta.list_field(key)
        _validate_order(changes if changes is not _ABSENT else [], order, merge_key)
        if live is _ABSENT and changes is _ABSENT:
            continue
        if changes is _ABSENT:
            result = _ListMerge(live, live)
        elif live is _ABSENT:
            result = _ListMerge(_remove_directives(changes)[0], [])
        else:
            result = _merge_list(live, changes, items, strategy, merge_key, False)
        named, server_only = _partition(result.merged, order, merge_key)
        kind = _element_type(live if live is not _ABSENT else [], changes if changes is not _ABSENT else [])
        original[key] = _normalize(named, server_only, order, result.live, merge_key, kind)
        patch.pop(key, None)


def _validate_order(changes: list[Any], order: list[Any], merge_key: str) -> None:
    """The items a patch list sets must appear in ``$setElementOrder`` in the same relative order."""
    if not order or not changes:
        return
    if merge_key:
        for value in changes:
            if not isinstance(value, dict):
                raise _bad_arg_type("map[string]interface {}", value)
        listed = [v for v in changes if v.get(_PATCH) != "delete"]
    else:
        listed = changes
    i = j = 0
    while i < len(listed) and j < len(order):
        if isinstance(listed[i], dict) and _PATCH in listed[i]:
            i += 1
            continue
        if _same_item(listed[i], order[j], merge_key):
            i += 1
        j += 1
    if i < len(listed) and j >= len(order):
        raise _internal(f"The order in patch list:\n{_go_v(changes)}\n doesn't match {_SET_ORDER} list:\n"
                        f"{_go_v(order)}\n")


def _same_item(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return _go_key(left) == _go_key(right)
    for value in (left, right):
        if not isinstance(value, dict):
            raise _bad_arg_type("map[string]interface {}", value)
    for value in (left, right):
        if merge_key not in value:
            raise _no_merge_key(value, merge_key)
    return bool(_go_key(left[merge_key]) == _go_key(right[merge_key]))
