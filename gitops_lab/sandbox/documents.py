"""Request documents as kube-apiserver decodes them: JSON as Go's ``encoding/json`` reads it, YAML as
``sigs.k8s.io/yaml`` turns it into JSON, and the limits that keep a hostile document from crashing the sandbox.

Owns :func:`loads_json` (invalid UTF-8 replaced as Go does, ``NaN``/``Infinity`` and out-of-range numbers refused),
:func:`loads_yaml` (one document; timestamps stay strings, keys become strings, binary becomes text, non-finite
numbers and alias bombs refused) and :func:`check_document` (nesting depth and alias expansion). Every failure is
a 400 :class:`~gitops_lab.sandbox.statuses.ApiError`; what the message starts with is the caller's. Pure.

>>> loads_yaml(b"when: 2001-12-14\\n1: [a, b]", "error converting YAML to JSON: ")
{'when': '2001-12-14', '1': ['a', 'b']}
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Callable
from typing import Any

import yaml

from gitops_lab.sandbox import statuses

MAX_DEPTH = 100
"""How deep request documents may nest objects and arrays. kube-apiserver's JSON decoder allows 10000 levels; the
sandbox's recursive Python (deepcopy, validation, managed fields, JSON encoding) needs a lower bound to answer
every request rather than crash, and real objects (even large CRD schemas) nest far less."""

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader without implicit timestamps: ``2001-12-14`` stays the string sigs.k8s.io/yaml keeps."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def check_document(value: Any, *, max_nodes: int | None = None, limit: int = MAX_DEPTH) -> None:
    """Refuse a decoded request document that nests deeper than ``limit`` (:func:`statuses.too_deep`) or, when
    YAML aliases share nodes, expands to more than ``max_nodes`` values (400, as go-yaml refuses "excessive
    aliasing"). Shared nodes are measured once per depth, so alias bombs and self-containing anchors cost little.

    >>> check_document({"a": [{"b": 1}]})
    >>> try:
    ...     check_document([[[1]]], limit=2)
    ... except statuses.ApiError as err:
    ...     print(err.code, err.message)
    400 the request body nests deeper than 2 levels, which the sandbox does not serve
    """
    sizes: dict[tuple[int, int], int] = {}

    def size(node: Any, depth: int) -> int:
        if not isinstance(node, dict | list | tuple | set):
            return 1
        if depth > limit:
            raise statuses.too_deep(limit)
        key = (id(node), depth)
        known = sizes.get(key)
        if known is not None:
            return known
        total = 1
        for child in node.values() if isinstance(node, dict) else node:
            total += size(child, depth + 1)
            if max_nodes is not None and total > max_nodes:
                raise statuses.bad_request("yaml: document contains excessive aliasing")
        sizes[key] = total
        return total

    size(value, 1)


def loads_json(raw: bytes | str, prefix: str,
               object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
               message: str | None = None) -> Any:
    """One JSON value as Go reads it; 400 ``<prefix><error>`` (or ``message``) when it is not JSON, 400 when it
    nests too deeply.

    >>> loads_json(b'{"a": "\\xff"}', "")
    {'a': '\\ufffd'}
    >>> try:
    ...     loads_json(b'{"a": NaN}', "bad: ")
    ... except statuses.ApiError as err:
    ...     print(err.code, err.message)
    400 bad: NaN is not JSON
    """
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float,
                           object_pairs_hook=object_pairs_hook)
    except (ValueError, RecursionError) as err:
        raise statuses.bad_request(message or f"{prefix}{err}") from None
    check_document(value)
    if _SURROGATE_ESCAPE.search(text):
        value = _scrub(value)
    return value


def loads_yaml(raw: bytes | str, prefix: str) -> Any:
    """One YAML document converted to the JSON value sigs.k8s.io/yaml makes of it; 400 ``<prefix><error>``.

    Most bodies are JSON (kubectl and client libraries send server-side apply as JSON): those are read with the
    JSON parser, fifty times faster; anything it does not take (duplicate keys, YAML syntax) goes the YAML way.
    """
    fast = _json_fast_path(raw)
    if fast is not None:
        check_document(fast, max_nodes=2 * len(raw) + 1000)
        return _to_json(fast, prefix)
    try:
        value = yaml.load(raw, Loader=_Loader)  # a SafeLoader subclass
    except (yaml.YAMLError, RecursionError, ValueError) as err:
        raise statuses.bad_request(f"{prefix}{err}") from None
    size = len(raw)
    check_document(value, max_nodes=2 * size + 1000)
    return _to_json(value, prefix)


class _Duplicate(ValueError):
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Duplicate
    return result


def _json_fast_path(raw: bytes | str) -> Any:
    """The value of a JSON object body, or None when the YAML parser must decide (and word any error)."""
    head = raw.lstrip()[:1]
    if head not in (b"{", "{"):
        return None
    try:
        return json.loads(raw, object_pairs_hook=_unique, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not JSON: let the YAML path answer as it does


def _to_json(value: Any, prefix: str) -> Any:
    if isinstance(value, dict):
        return {_key(k): _to_json(v, prefix) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v, prefix) for v in value]
    if isinstance(value, set):
        return {_key(k): None for k in value}
    if isinstance(value, float) and not math.isfinite(value):
        raise statuses.bad_request(f"{prefix}json: unsupported value: {_go_float_text(value)}")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    return value


def _scrub(value: Any) -> Any:
    """Lone UTF-16 surrogates (``"\\ud800"`` escapes) become U+FFFD, as Go's JSON decoder makes them."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _key(key: Any) -> str:
    """A YAML mapping key as sigs.k8s.io/yaml writes it into JSON: always a string."""
    if isinstance(key, str):
        return _LONE_SURROGATE.sub("\ufffd", key)
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, bytes):
        return key.decode("utf-8", errors="replace")
    if isinstance(key, float):
        return _go_float_text(key) if not math.isfinite(key) else repr(key)
    return str(key)


def _go_float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "+Inf" if value > 0 else "-Inf"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"json: cannot unmarshal number {text} into Go value of type float64")
    return value
