"""Managed fields and server-side apply, as kube-apiserver does them with structured-merge-diff.

Owns the field-set model (:class:`FieldSet` and its ``FieldsV1`` JSON form), how a schema looks to merging
(structs and string-keyed maps, lists that are atomic, sets or maps keyed by ``x-kubernetes-list-map-keys``, atomic
maps), and the two operations that write ``metadata.managedFields``: :func:`server_side_apply` (operation ``Apply``:
merge, prune what the applier dropped, report conflicts) and :func:`track_update` (operation ``Update``: create,
update and every non-apply patch). Also the default manager name taken from a User-Agent.

Pure: no I/O, no clock (``now`` is an RFC 3339 string passed in), no storage. It must not validate objects beyond
what applying needs (the typed-patch errors kube-apiserver reports), default them, check names or resource
versions, or restore server-owned metadata: the caller's update path does all that, as it does for a PUT.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

from gitops_lab.sandbox import statuses
from gitops_lab.sandbox.schemas import Schema, definitions

APPLY: Final = "Apply"
UPDATE: Final = "Update"
FIELDS_V1: Final = "FieldsV1"
BEFORE_FIRST_APPLY: Final = "before-first-apply"
"""The Update manager that takes every existing field when an object without managed fields is first applied."""
ANCIENT_CHANGES: Final = "ancient-changes"
"""The Update manager that absorbs the oldest updaters once there are more than :data:`MAX_UPDATE_MANAGERS`."""
MAX_UPDATE_MANAGERS: Final = 10
FIELD_MANAGER_MAX_LENGTH: Final = 128
LAST_APPLIED: Final = "kubectl.kubernetes.io/last-applied-configuration"
TOTAL_ANNOTATION_SIZE_LIMIT: Final = 256 * 1024
DEFAULT_IGNORED: Final[tuple[tuple[str, ...], ...]] = (("status",),)
"""Fields never tracked through the main resource (its strategy resets them): ``status``."""

_ZERO_STRUCTS: Final = frozenset({"metadata", "spec", "status", "template", "strategy", "updateStrategy",
                                  "jobTemplate", "loadBalancer"})
"""Struct fields that Go API types hold by value, so that a new object already has them, empty, when compared."""
_KEY_DEFAULTS: Final = {("io.k8s.api.core.v1.ContainerPort", "protocol"): "TCP",
                        ("io.k8s.api.core.v1.ServicePort", "protocol"): "TCP"}
"""``+default`` markers on list-map keys that the apiserver's OpenAPI has and the shipped schemas lack."""


class _Missing:
    """An absent value, as opposed to an explicit ``null``."""

    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Final = _Missing()
_UNSAFE: Final = re.compile(r'[\x00-\x1f"\\<>&\u2028\u2029\ud800-\udfff]')
_DUPLICATE: Final = object()


# --------------------------------------------------------------------------------------------------------------
# JSON as Go writes it, and value comparison as structured-merge-diff does it


def _go_float(value: float) -> str:
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        text = format(decimal.Decimal(repr(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return repr(value).replace("e-0", "e-")


def _go_string(text: str) -> str:
    if not _UNSAFE.search(text):
        return '"' + text + '"'
    encoded = json.dumps(text, ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        encoded = encoded.replace(char, escape)
    return encoded


def _go_json(value: Any) -> str:
    """Compact JSON the way Go's encoding/json writes it: sorted map keys, HTML-safe strings, ``1.0`` as ``1``."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_go_string(str(k))}:{_go_json(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(_go_json(item) for item in value) + "]"
    raise TypeError(f"not a JSON value: {value!r}")


def _go_quote(text: str) -> str:
    """Go's ``%q`` of a string."""
    short = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
             '"': '\\"', "\\": "\\\\"}
    out = []
    for char in text:
        if char in short:
            out.append(short[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _go_text(value: Any) -> str:
    """How structured-merge-diff prints a value inside a path: strings quoted, numbers and booleans bare."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return _go_quote(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, list):
        return "[" + ",".join(_go_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "".join(f"{k}={_go_text(v)}" for k, v in value.items())
    return str(value)


def _equal(left: Any, right: Any) -> bool:
    """Deep JSON equality where booleans are not numbers and ``1`` equals ``1.0``."""
    if isinstance(left, dict):
        return (isinstance(right, dict) and len(left) == len(right)
                and all(k in right and _equal(v, right[k]) for k, v in left.items()))
    if isinstance(left, list):
        return (isinstance(right, list) and len(left) == len(right)
                and all(_equal(a, b) for a, b in zip(left, right, strict=True)))
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(right, dict | list):
        return False
    return bool(left == right)


def _clone(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def _value_order(value: Any) -> tuple[Any, ...]:
    """structured-merge-diff's total order of values: numbers, strings, booleans, lists, maps, null."""
    if value is None:
        return (5,)
    if value is True or value is False:
        return (2, value)
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    if isinstance(value, list):
        return (3, tuple(_value_order(v) for v in value))
    if isinstance(value, dict):
        return (4, tuple((k, _value_order(value[k])) for k in sorted(value)))
    return (6, repr(value))


# --------------------------------------------------------------------------------------------------------------
# Path elements, spelt as in FieldsV1: f:<field>, k:<key fields as JSON>, v:<value as JSON>, i:<index>


def field_element(name: str) -> str:
    """The path element of a struct field or map key: ``f:<name>``."""
    return "f:" + name


def key_element(keys: Mapping[str, Any]) -> str:
    """The path element of an item of a list-map, from its key fields: ``k:{"name":"web"}``."""
    return "k:" + _go_json(dict(keys))


def value_element(value: Any) -> str:
    """The path element of an item of a set: ``v:"example.com/x"``."""
    return "v:" + _go_json(value)


def _parse_element(text: str) -> str:
    """``text`` checked and respelt canonically (key fields sorted, JSON as Go writes it)."""
    if len(text) < 2 or text[1] != ":":
        raise ValueError(f"invalid path element {text!r}: want f:, k:, v: or i: and a colon")
    tag, body = text[0], text[2:]
    if tag == "f":
        return text
    if tag == "i":
        try:
            return f"i:{int(body)}"
        except ValueError:
            raise ValueError(f"invalid index in path element {text!r}") from None
    if tag not in "kv":
        raise ValueError(f"unknown path element type in {text!r}")
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError as e:
        raise ValueError(f"invalid JSON in path element {text!r}: {e.msg}") from None
    if tag == "k":
        if not isinstance(parsed, dict) or not parsed:
            raise ValueError(f"key path element {text!r} is not a non-empty JSON object")
        return key_element(parsed)
    return value_element(parsed)


def _element_order(element: str) -> tuple[Any, ...]:
    tag, body = element[0], element[2:]
    if tag == "f":
        return (0, body)
    if tag == "k":
        keys = json.loads(body)
        return (1, tuple((k, _value_order(keys[k])) for k in sorted(keys)))
    if tag == "v":
        return (2, _value_order(json.loads(body)))
    return (3, int(body))


def _element_text(element: str) -> str:
    tag, body = element[0], element[2:]
    if tag == "f":
        return "." + body
    if tag == "i":
        return f"[{body}]"
    parsed = json.loads(body)
    if tag == "v":
        return f"[={_go_text(parsed)}]"
    return "[" + ",".join(f"{k}={_go_text(parsed[k])}" for k in sorted(parsed)) + "]"


def path_string(path: Sequence[str]) -> str:
    """A path as kube-apiserver prints it in conflicts: ``.spec.template.spec.containers[name="web"].image``.

    >>> path_string(("f:spec", "f:containers", 'k:{"name":"web"}', "f:image"))
    '.spec.containers[name="web"].image'
    """
    return "".join(_element_text(e) for e in path)


# --------------------------------------------------------------------------------------------------------------
# Field sets


class FieldSet:
    """An immutable set of field paths, stored as a trie like structured-merge-diff's ``fieldpath.Set``.

    A path is a tuple of path elements (see :func:`field_element`, :func:`key_element`, :func:`value_element`).
    A path is a *member* when the field, list item or value it names is owned as a whole: ``.spec.replicas`` being
    a member does not make ``.spec`` one. Set operations follow structured-merge-diff: :meth:`difference` removes
    exact members only, :meth:`recursive_difference` also everything below them.
    """

    __slots__ = ("_children", "_members")

    def __init__(self, members: Iterable[str] = (), children: Mapping[str, FieldSet] | None = None) -> None:
        self._members: frozenset[str] = frozenset(members)
        self._children: dict[str, FieldSet] = {pe: sub for pe, sub in (children or {}).items() if sub}

    @classmethod
    def _make(cls, members: Iterable[str], children: dict[str, FieldSet]) -> FieldSet:
        made = cls.__new__(cls)
        made._members = frozenset(members)
        made._children = children
        return made

    @classmethod
    def from_paths(cls, paths: Iterable[Sequence[str]]) -> FieldSet:
        """The set of the given paths (each a sequence of path elements; the empty path is ignored)."""
        root: dict[str, Any] = {}
        for path in paths:
            if not path:
                continue
            node = root
            for element in path[:-1]:
                node = node.setdefault(element, {})
            node.setdefault(path[-1], {})[None] = True
        return cls._from_tree(root)

    @classmethod
    def _from_tree(cls, tree: dict[Any, Any]) -> FieldSet:
        members = [pe for pe, sub in tree.items() if pe is not None and None in sub]
        children = {}
        for pe, sub in tree.items():
            if pe is not None and any(k is not None for k in sub):
                children[pe] = cls._from_tree(sub)
        return cls._make(members, children)

    @property
    def members(self) -> frozenset[str]:
        """The path elements owned as a whole at this level."""
        return self._members

    @property
    def children(self) -> Mapping[str, FieldSet]:
        """The non-empty subsets below each path element."""
        return self._children

    def with_prefix(self, element: str) -> FieldSet:
        """The paths below ``element``, without it."""
        return self._children.get(element) or FieldSet()

    def __bool__(self) -> bool:
        return bool(self._members or self._children)

    def __len__(self) -> int:
        return len(self._members) + sum(len(sub) for sub in self._children.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return self._members == other._members and self._children == other._children

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "FieldSet(" + ", ".join(path_string(p) for p in self) + ")"

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, tuple | list) or not path:
            return False
        node: FieldSet | None = self
        for element in path[:-1]:
            node = node._children.get(element) if node is not None else None
        return node is not None and path[-1] in node._members

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        """Every member path, in structured-merge-diff order: this level's members, then each child's."""
        return self._paths(())

    def _paths(self, prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        for element in sorted(self._members, key=_element_order):
            yield (*prefix, element)
        for element in sorted(self._children, key=_element_order):
            yield from self._children[element]._paths((*prefix, element))

    def union(self, other: FieldSet) -> FieldSet:
        if not other:
            return self
        if not self:
            return other
        children = dict(self._children)
        for pe, sub in other._children.items():
            mine = children.get(pe)
            children[pe] = sub if mine is None else mine.union(sub)
        return FieldSet._make(self._members | other._members, children)

    def intersection(self, other: FieldSet) -> FieldSet:
        children = {}
        for pe, sub in self._children.items():
            theirs = other._children.get(pe)
            if theirs is not None:
                both = sub.intersection(theirs)
                if both:
                    children[pe] = both
        return FieldSet._make(self._members & other._members, children)

    def difference(self, other: FieldSet) -> FieldSet:
        """The paths of this set that are not in ``other``; a member of ``other`` leaves the paths below it."""
        if not other:
            return self
        children = {}
        for pe, sub in self._children.items():
            theirs = other._children.get(pe)
            rest = sub if theirs is None else sub.difference(theirs)
            if rest:
                children[pe] = rest
        return FieldSet._make(self._members - other._members, children)

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Like :meth:`difference`, but a member of ``other`` also removes every path below it."""
        if not other:
            return self
        children = {}
        for pe, sub in self._children.items():
            if pe in other._members:
                continue
            theirs = other._children.get(pe)
            rest = sub if theirs is None else sub.recursive_difference(theirs)
            if rest:
                children[pe] = rest
        return FieldSet._make(self._members - other._members, children)


_STRIPPED: Final = FieldSet.from_paths([
    ("f:apiVersion",), ("f:kind",), ("f:metadata",),
    *(("f:metadata", "f:" + name) for name in ("name", "namespace", "creationTimestamp", "selfLink", "uid",
                                              "clusterName", "generation", "managedFields", "resourceVersion")),
])
"""What the apiserver never records in a manager's set (removed exactly, not with what is below)."""


def to_fields_v1(fields: FieldSet) -> dict[str, Any]:
    """The ``fieldsV1`` JSON of a set: ``{"f:spec": {"f:replicas": {}}}``, ``"."`` marking a member with children.

    >>> to_fields_v1(FieldSet.from_paths([("f:metadata", "f:labels"), ("f:metadata", "f:labels", "f:app")]))
    {'f:metadata': {'f:labels': {'.': {}, 'f:app': {}}}}
    """
    out: dict[str, Any] = {}
    for element in sorted(fields.members | fields.children.keys(), key=_element_order):
        sub = fields.children.get(element)
        if sub is None:
            out[element] = {}
        elif element in fields.members:
            out[element] = {".": {}, **to_fields_v1(sub)}
        else:
            out[element] = to_fields_v1(sub)
    return out


def from_fields_v1(data: Mapping[str, Any]) -> FieldSet:
    """The set a ``fieldsV1`` value describes; raises ValueError when it is malformed.

    >>> list(from_fields_v1({"f:spec": {"f:ports": {'k:{"protocol":"TCP","port":80}': {".": {}}}}}))
    [('f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}')]
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"fieldsV1 must be a JSON object, not {type(data).__name__}")
    members = []
    children = {}
    for text, sub in data.items():
        if text == ".":
            continue
        element = _parse_element(text)
        if not isinstance(sub, Mapping):
            raise ValueError(f"fieldsV1 entry {text!r} must be a JSON object")
        if not sub or "." in sub:
            members.append(element)
        inner = from_fields_v1(sub)
        if inner:
            children[element] = inner
    return FieldSet._make(members, children)


# --------------------------------------------------------------------------------------------------------------
# How a schema node looks to structured-merge-diff

_DEDUCED, _MAP, _LIST, _SCALAR = "deduced", "map", "list", "scalar"
_LEAF = "leaf"


class _ShapeError(Exception):
    """A value that structured-merge-diff cannot type (a list item without key fields, say)."""


class _Node:
    """One schema node as structured-merge-diff types it, with its children looked up once per operation."""

    __slots__ = ("_extra", "_fields", "_items", "accepts_extra", "atomic", "definition", "keys", "list_type",
                 "named", "schema", "shape", "sorted_keys")

    def __init__(self, schema: Schema | None) -> None:
        self.schema = schema
        self._fields: dict[str, _Node] = {}
        self._extra: _Node | None = None
        self._items: _Node | None = None
        self.shape = _classify(schema)
        is_map = self.shape == _MAP and schema is not None
        self.named: frozenset[str] = frozenset(schema.properties) if is_map and schema else frozenset()
        self.accepts_extra = not is_map or (schema is not None and schema.field("\0not-a-field\0") is not None)
        self.atomic = is_map and schema is not None and schema.map_type == "atomic"
        self.list_type, self.keys = _list_relationship(schema) if self.shape == _LIST else ("atomic", ())
        self.sorted_keys = tuple((k, _go_string(k)) for k in sorted(self.keys))
        self.definition = _definition_name(schema) if is_map else None

    def field(self, name: str) -> _Node:
        if name in self.named:
            found = self._fields.get(name)
            if found is None:
                assert self.schema is not None
                found = self._fields[name] = _Node(self.schema.field(name))
            return found
        if self._extra is None:
            extra = self.schema.field(name) if self.schema is not None and self.shape == _MAP else None
            self._extra = _Node(extra if extra is not None and extra.raw is not Schema.ANY.raw else None)
        return self._extra

    def items(self) -> _Node:
        if self._items is None:
            items = self.schema.items() if self.schema is not None and self.shape == _LIST else None
            self._items = _Node(items if items is not None and items.raw is not Schema.ANY.raw else None)
        return self._items

    def key_default(self, key: str) -> Any:
        """The default of a list-map key field of this (item) node, or ``_MISSING``."""
        if self.schema is not None and key in self.named:
            raw = self.schema.field(key)
            if raw is not None and "default" in raw.raw:
                return raw.raw["default"]
        return _KEY_DEFAULTS.get((self.definition or "", key), _MISSING)


def _classify(schema: Schema | None) -> str:
    if schema is None or schema.raw is Schema.ANY.raw:
        return _DEDUCED
    types = schema.types
    raw = schema.raw
    if "array" in types or (not types and "items" in raw):
        return _LIST
    if "object" in types or (not types and (schema.properties or "additionalProperties" in raw)):
        return _MAP
    if types:
        return _SCALAR
    return _DEDUCED if schema.preserves_unknown else _SCALAR


def _list_relationship(schema: Schema | None) -> tuple[str, tuple[str, ...]]:
    """(``atomic`` | ``set`` | ``map``, key fields), as kube-openapi converts the list's extensions."""
    if schema is None:
        return "atomic", ()
    declared = schema.list_type
    if declared == "map":
        keys = tuple(schema.raw.get("x-kubernetes-list-map-keys") or ())
        return ("map", keys) if keys else ("atomic", ())
    if declared in ("atomic", "set"):
        return declared, ()
    if declared is None and schema.patch_strategy in ("merge", "merge,retainKeys"):
        key = schema.patch_merge_key
        return ("map", (key,)) if key else ("set", ())
    return "atomic", ()


def _definition_name(schema: Schema | None) -> str | None:
    """The built-in definition whose properties ``schema`` has, for the few that need naming."""
    if schema is None or not schema.properties:
        return None
    for name, _key in _KEY_DEFAULTS:
        if schema.raw.get("properties") is definitions()[name].get("properties"):
            return name
    return None


def _mode(node: _Node, value: Any) -> str:
    """How ``value`` is walked under ``node``: as a granular map or list, or as one leaf."""
    shape = node.shape
    if shape == _MAP:
        return _MAP if not node.atomic and (value is None or isinstance(value, dict)) else _LEAF
    if shape == _LIST:
        return _LIST if node.list_type != "atomic" and (value is None or isinstance(value, list)) else _LEAF
    if shape == _DEDUCED:
        return _MAP if isinstance(value, dict) else _LEAF
    return _LEAF


def _pair_mode(node: _Node, left: Any, right: Any) -> str:
    """The walk mode of two values at one place; both empty (or one absent) makes a leaf, as in SMD."""
    present = [v for v in (left, right) if v is not _MISSING]
    modes = {_mode(node, v) for v in present}
    if len(modes) != 1:
        return _LEAF
    mode = modes.pop()
    if mode != _LEAF and all(not v for v in present):
        return _LEAF
    return mode


def _item_element(node: _Node, item: Any) -> str:
    """The path element of one item of an associative list; raises _ShapeError when it cannot have one."""
    if node.list_type == "map":
        if item is None:
            raise _ShapeError("associative list with keys may not have a null element")
        if not isinstance(item, dict):
            raise _ShapeError("associative list with keys may not have non-map elements")
        parts = []
        for key, quoted in node.sorted_keys:
            value = item.get(key, _MISSING)
            if value is _MISSING:
                value = node.items().key_default(key)
            if value is not _MISSING:
                parts.append(f"{quoted}:{_go_json(value)}")
        if not parts:
            names = " ".join(_go_quote(k) for k in node.keys)
            raise _ShapeError(f"associative list with keys has an element that omits all key fields [{names}] "
                              f"(and doesn't have default values for any key fields)")
        return "k:{" + ",".join(parts) + "}"
    if isinstance(item, dict):
        raise _ShapeError("associative list without keys has an element that's a map type")
    if isinstance(item, list):
        raise _ShapeError("not supported: associative list with lists as elements")
    if item is None:
        raise _ShapeError("associative list without keys has an element that's an explicit null")
    return value_element(item)


def _elements(node: _Node, items: list[Any]) -> list[str]:
    out = []
    for index, item in enumerate(items):
        try:
            out.append(_item_element(node, item))
        except _ShapeError as e:
            raise _ShapeError(f"element {index}: {e}") from None
    return out


# --------------------------------------------------------------------------------------------------------------
# Walks: the set a value sets, comparison, merging, removal


class _SetWalker:
    """Builds the set of fields a value sets (SMD's ToFieldSet); in strict mode also collects typing errors."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.errors: list[str] = []
        self._path: list[str] = []

    def collect(self, value: Any, node: _Node) -> tuple[bool, FieldSet | None]:
        """(whether this place is itself a leaf member, the set below it)."""
        mode = _mode(node, value)
        if mode == _LEAF:
            return True, None
        if mode == _MAP:
            return False, self._map(value, node) if isinstance(value, dict) else None
        return False, self._list(value, node) if isinstance(value, list) else None

    def _error(self, message: str) -> None:
        where = path_string(self._path)
        self.errors.append(f"{where}: {message}" if where else message)

    def _map(self, value: dict[str, Any], node: _Node) -> FieldSet | None:
        members = set()
        children = {}
        for key, child in value.items():
            element = "f:" + key
            if self.strict and key not in node.named and not node.accepts_extra:
                self._path.append(element)
                self._error("field not declared in schema")
                self._path.pop()
                break
            self._path.append(element)
            leaf, sub = self.collect(child, node.field(key))
            self._path.pop()
            if sub:
                children[element] = sub
            if leaf or child is None or child == {} or key not in node.named:
                members.add(element)
        return FieldSet._make(members, children) if members or children else None

    def _list(self, value: list[Any], node: _Node) -> FieldSet | None:
        try:
            elements = _elements(node, value)
        except _ShapeError as e:
            if not self.strict:
                raise _ShapeError(f"{path_string(self._path)}: {e}") from None
            self._error(str(e))
            return None
        seen: set[str] = set()
        duplicates: set[str] = set()
        for element in elements:
            if element in seen:
                duplicates.add(element)
                if self.strict:
                    self._error(f"duplicate entries for key {_element_text(element)}")
            seen.add(element)
        item_node = node.items()
        children = {}
        for element, item in zip(elements, value, strict=True):
            if element in duplicates:
                continue
            self._path.append(element)
            _, sub = self.collect(item, item_node)
            self._path.pop()
            if sub:
                children[element] = sub
        return FieldSet._make(seen, children) if seen else None


def _set_of(value: Any, node: _Node) -> FieldSet:
    return _SetWalker(strict=False).collect(value, node)[1] or FieldSet()


class _Comparison:
    """Added, modified and removed paths below one place, gathered while comparing two values."""

    __slots__ = ("sets",)

    def __init__(self) -> None:
        self.sets: dict[str, tuple[set[str], dict[str, FieldSet]]] = {f: (set(), {}) for f in "amr"}

    def add(self, element: str, flag: str, below: dict[str, FieldSet | None]) -> None:
        if flag:
            self.sets[flag][0].add(element)
        for f, sub in below.items():
            if sub:
                self.sets[f][1][element] = sub

    def result(self) -> dict[str, FieldSet | None]:
        return {f: FieldSet._make(m, c) if m or c else None for f, (m, c) in self.sets.items()}


def _compare(left: Any, right: Any, node: _Node) -> tuple[str, dict[str, FieldSet | None]]:
    """How one place changed: its own flag (``a``dded, ``m``odified, ``r``emoved or ``""``) and the sets below."""
    mode = _pair_mode(node, left, right)
    if mode == _LEAF:
        if left is _MISSING:
            return "a", {}
        if right is _MISSING:
            return "r", {}
        return ("" if _equal(left, right) else "m"), {}
    if mode == _MAP:
        below = _compare_maps(left if isinstance(left, dict) else {}, right if isinstance(right, dict) else {},
                              node)
    else:
        below = _compare_lists(left if isinstance(left, list) else [], right if isinstance(right, list) else [],
                               node)
    return ("a" if left is _MISSING else "r" if right is _MISSING else ""), below


def _compare_maps(left: dict[str, Any], right: dict[str, Any], node: _Node) -> dict[str, FieldSet | None]:
    acc = _Comparison()
    for key, value in left.items():
        acc.add("f:" + key, *_compare(value, right.get(key, _MISSING), node.field(key)))
    for key, value in right.items():
        if key not in left:
            acc.add("f:" + key, *_compare(_MISSING, value, node.field(key)))
    return acc.result()


def _group(node: _Node, items: list[Any]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for element, item in zip(_elements(node, items), items, strict=True):
        groups.setdefault(element, []).append(item)
    return groups


def _compare_lists(left: list[Any], right: list[Any], node: _Node) -> dict[str, FieldSet | None]:
    acc = _Comparison()
    item_node = node.items()
    before, after = _group(node, left), _group(node, right)
    for element in before.keys() | after.keys():
        old, new = before.get(element, []), after.get(element, [])
        if len(old) <= 1 and len(new) <= 1:
            acc.add(element, *_compare(old[0] if old else _MISSING, new[0] if new else _MISSING, item_node))
        elif len(old) >= 2 and len(new) >= 2:
            acc.add(element, "" if _equal(old, new) else "m", {})
        elif len(old) >= 2:  # duplicates resolved: the new single item is added, the duplicates removed
            if new:
                acc.add(element, *_compare(_MISSING, new[0], item_node))
            acc.add(element, "r", {})
        else:  # duplicates appeared
            if old:
                acc.add(element, *_compare(old[0], _MISSING, item_node))
            acc.add(element, "a", {})
    return acc.result()


def _compare_objects(old: dict[str, Any], new: dict[str, Any], node: _Node) -> tuple[FieldSet, FieldSet, FieldSet]:
    _, below = _compare(old, new, node)
    return below.get("a") or FieldSet(), below.get("m") or FieldSet(), below.get("r") or FieldSet()


def _merge(left: Any, right: Any, node: _Node) -> Any:
    """``right`` (applied configuration) merged into ``left`` (live), as SMD's Merge."""
    if right is _MISSING:
        return left
    if left is _MISSING:
        return right
    mode = _pair_mode(node, left, right)
    if mode == _LEAF:
        return right
    if mode == _MAP:
        if not isinstance(right, dict):
            return left
        if not isinstance(left, dict):
            return right
        out = {k: (_merge(v, right[k], node.field(k)) if k in right else v) for k, v in left.items()}
        out.update((k, v) for k, v in right.items() if k not in left)
        return out
    if not isinstance(right, list):
        return left
    if not isinstance(left, list):
        return right
    return _merge_lists(left, right, node)


def _merge_lists(left: list[Any], right: list[Any], node: _Node) -> list[Any]:
    """Merge associative lists item by item.

    Items in both lists follow the applied order, items only in the live list keep their place next to the items
    around them, and new items go where the applied configuration puts them. Live duplicates of a key that the
    configuration sets are replaced by its single item; other duplicates stay as they are.
    """
    item_node = node.items()
    lhs, rhs = _elements(node, left), _elements(node, right)
    applied = dict(zip(rhs, right, strict=True))
    live: dict[str, Any] = {}
    for element, item in zip(lhs, left, strict=True):
        live[element] = _DUPLICATE if element in live else item
    shared = [e for e in rhs if e in live]
    cursor = 0  # index in ``shared`` of the next item both lists have
    done: set[str] = set()
    out: list[Any] = []

    def merged(element: str) -> Any:
        old = live.get(element, _MISSING)
        return _merge(None if old is _DUPLICATE else old, applied[element], item_node)

    li = ri = 0
    while li < len(lhs) or ri < len(rhs):
        start = (li, ri)
        if li < len(lhs) and ri < len(rhs):
            if lhs[li] == rhs[ri]:
                out.append(merged(rhs[ri]))
                done.add(rhs[ri])
                li, ri, cursor = li + 1, ri + 1, cursor + 1
                continue
            waiting = shared[cursor] if cursor < len(shared) else None
            if lhs[li] in applied and waiting is not None and waiting != lhs[li]:
                li += 1
                continue
        if li < len(lhs):
            if lhs[li] not in applied:
                out.append(left[li])
                li += 1
                continue
            if lhs[li] in done:
                li += 1
        if ri < len(rhs):
            element = rhs[ri]
            done.add(element)
            out.append(merged(element))
            ri += 1
            if cursor < len(shared) and shared[cursor] == element:
                cursor += 1
        if (li, ri) == start:  # cannot happen with well-formed input; never loop forever
            li += 1
    return out


def _remove(value: Any, doomed: FieldSet, node: _Node, emptied: Any) -> Any:
    """``value`` without the members of ``doomed`` (and what is below them).

    A map or list that loses all its entries becomes ``emptied``: ``None`` (null) while pruning computes what to
    keep, as structured-merge-diff leaves it, and ``_MISSING`` (the field goes) in the object returned.
    """
    mode = _mode(node, value)
    if mode == _MAP and isinstance(value, dict) and value:
        out = {}
        for key, child in value.items():
            element = "f:" + key
            if element in doomed.members:
                continue
            sub = doomed.children.get(element)
            kept = child if sub is None else _remove(child, sub, node.field(key), emptied)
            if kept is not _MISSING:
                out[key] = kept
        return out if out else emptied
    if mode == _LIST and isinstance(value, list) and value:
        item_node = node.items()
        items = []
        for element, item in zip(_elements(node, value), value, strict=True):
            if element in doomed.members:
                continue
            sub = doomed.children.get(element)
            kept = item if sub is None else _remove(item, sub, item_node, emptied)
            items.append({} if kept is _MISSING else kept)
        return items if items else emptied
    return value


def _ensure_named(fields: FieldSet, node: _Node) -> FieldSet:
    """``fields`` plus, as members, the struct fields that have members below them (SMD's
    EnsureNamedFieldsAreMembers), so that pruning can remove a struct field whose contents all go."""
    members = set(fields.members)
    children = {}
    for element, sub in fields.children.items():
        tag = element[0]
        if tag == "f":
            name = element[2:]
            if name in node.named:
                members.add(element)
            child = node.field(name)
        elif tag == "k":
            child = node.items()
        else:
            child = _Node(None)
        children[element] = _ensure_named(sub, child)
    return FieldSet._make(members, children)


def _remove_from_root(value: dict[str, Any], doomed: FieldSet, node: _Node, *, final: bool) -> dict[str, Any]:
    if not doomed:
        return value
    kept = _remove(value, doomed, node, _MISSING if final else None)
    return kept if isinstance(kept, dict) else {}


# --------------------------------------------------------------------------------------------------------------
# managedFields entries


@dataclasses.dataclass
class _Entry:
    manager: str
    operation: str
    api_version: str
    subresource: str
    time: str | None
    fields: FieldSet
    stored: dict[str, Any] | None = None
    """The fieldsV1 as it was stored, written back verbatim while ``fields`` and the version are unchanged."""
    stored_fields: FieldSet | None = None
    stored_version: str = ""

    @property
    def key(self) -> str:
        return _identity(self.manager, self.operation, self.api_version, self.subresource)


def _identity(manager: str, operation: str, api_version: str, subresource: str) -> str:
    """kube-apiserver's manager identifier: the entry as JSON without time and fields (and, for appliers, version)."""
    parts = []
    if manager:
        parts.append(f'"manager":{_go_string(manager)}')
    if operation:
        parts.append(f'"operation":{_go_string(operation)}')
    if api_version and operation != APPLY:
        parts.append(f'"apiVersion":{_go_string(api_version)}')
    if subresource:
        parts.append(f'"subresource":{_go_string(subresource)}')
    return "{" + ",".join(parts) + "}"


def _decode(entries: Any) -> dict[str, _Entry]:
    """Managed-field entries by identifier; raises ValueError as kube-apiserver's decoder would."""
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise ValueError("managedFields must be a list")
    managers: dict[str, _Entry] = {}
    for index, raw in enumerate(entries):
        if not isinstance(raw, dict):
            raise ValueError(f"managed fields entry {index} is not an object")
        operation = raw.get("operation") or ""
        if operation not in (APPLY, UPDATE):
            raise ValueError("operation must be `Apply` or `Update`")
        if not raw.get("apiVersion"):
            raise ValueError("apiVersion must not be empty")
        fields_type = raw.get("fieldsType") or ""
        if fields_type != FIELDS_V1:
            raise ValueError(f"missing fieldsType in managed fields entry {index}" if not fields_type else
                             f"invalid fieldsType {_go_quote(str(fields_type))} in managed fields entry {index}")
        stored = raw.get("fieldsV1")
        fields = from_fields_v1(stored) if stored is not None else FieldSet()
        entry = _Entry(str(raw.get("manager") or ""), operation, str(raw["apiVersion"]),
                       str(raw.get("subresource") or ""), raw.get("time"), fields,
                       stored if isinstance(stored, dict) else None, fields, str(raw["apiVersion"]))
        managers[entry.key] = entry
    return managers


def _seconds(time: str | None) -> int:
    if not time:
        return 0
    try:
        return int(datetime.datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def _encode(managers: Mapping[str, _Entry]) -> list[dict[str, Any]]:
    entries = sorted(managers.values(), key=lambda e: (e.operation, _seconds(e.time), e.manager, e.api_version,
                                                        e.subresource))
    out = []
    for entry in entries:
        encoded: dict[str, Any] = {"manager": entry.manager, "operation": entry.operation,
                                   "apiVersion": entry.api_version}
        if not entry.manager:
            del encoded["manager"]
        if entry.time is not None:
            encoded["time"] = entry.time
        encoded["fieldsType"] = FIELDS_V1
        unchanged = (entry.stored is not None and entry.stored_version == entry.api_version
                     and entry.stored_fields == entry.fields)
        encoded["fieldsV1"] = _clone(entry.stored) if unchanged else to_fields_v1(entry.fields)
        if entry.subresource:
            encoded["subresource"] = entry.subresource
        out.append(encoded)
    return out


def _cap_updaters(managers: dict[str, _Entry], limit: int = MAX_UPDATE_MANAGERS) -> None:
    """Fold the oldest Update entries into one ``ancient-changes`` entry per version until ``limit`` remain."""
    updaters = [key for key, e in managers.items() if e.operation == UPDATE]
    if len(updaters) <= limit:
        return
    updaters.sort(key=lambda key: (_seconds(managers[key].time), key))
    first_of_version: dict[str, str] = {}
    remaining = len(updaters)
    for key in updaters:
        if remaining <= limit:
            break
        entry = managers[key]
        version = entry.api_version
        bucket = _identity(ANCIENT_CHANGES, UPDATE, version, "")
        first = first_of_version.get(version)
        if first is None:
            first_of_version[version] = key
            continue
        held = managers[bucket].fields if bucket in managers else managers.pop(first).fields
        managers[bucket] = _Entry(ANCIENT_CHANGES, UPDATE, version, "", entry.time, entry.fields.union(held))
        del managers[key]
        remaining -= 1


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
    return obj


def _store(obj: dict[str, Any], managers: Mapping[str, _Entry]) -> dict[str, Any]:
    """``obj`` (a fresh top-level dict) with ``metadata.managedFields`` written, or removed when empty."""
    meta = dict(_metadata(obj))
    meta.pop("managedFields", None)
    if managers:
        meta["managedFields"] = _encode(managers)
    obj["metadata"] = meta
    return obj


def _is_reset(entries: Any) -> bool:
    """Whether a request's managedFields asks to clear them: ``[]`` or one empty entry ``[{}]``."""
    if not isinstance(entries, list):
        return False
    if not entries:
        return True
    return len(entries) == 1 and (entries[0] is None or (isinstance(entries[0], dict) and not any(
        entries[0].get(k) for k in ("manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1",
                                    "subresource"))))


def _skeleton(node: _Node, depth: int = 0) -> dict[str, Any]:
    """The object a Go zero value of a built-in kind converts to: by-value struct fields empty, required ones null.

    A create is compared against it, so that a new object's ``spec`` or ``containers`` are not themselves added
    (no ``"."`` in their fieldsV1), as on a real apiserver. Custom resources start from ``{}``.
    """
    if depth == 0 and (node.schema is None or not node.schema.ref_name):
        return {}
    out: dict[str, Any] = {}
    if depth > 6 or node.schema is None:
        return out
    out.update((name, None) for name in node.schema.required if name in node.named)
    for name in sorted(_ZERO_STRUCTS & node.named):
        child = node.field(name)
        if child.shape == _MAP and child.named and not child.atomic:
            out[name] = _skeleton(child, depth + 1)
    return out


def _ignored_set(paths: Iterable[Sequence[str]]) -> FieldSet:
    return FieldSet.from_paths(tuple("f:" + step for step in path) for path in paths)


# --------------------------------------------------------------------------------------------------------------
# The two operations


class _Conflicts(Exception):
    def __init__(self, conflicts: dict[str, FieldSet]) -> None:
        super().__init__("conflicts")
        self.conflicts = conflicts


def _take_over(old: dict[str, Any], new: dict[str, Any], managers: dict[str, _Entry], me: str, *, force: bool,
               ignored: FieldSet, node: _Node) -> tuple[FieldSet, FieldSet]:
    """SMD's update step: fields changed from ``old`` to ``new`` leave every other manager (a conflict unless
    ``force``), removed fields leave everyone; empty entries go. Returns (modified or added, removed)."""
    added, modified, removed = _compare_objects(old, new, node)
    if ignored:
        added, modified, removed = (s.recursive_difference(ignored) for s in (added, modified, removed))
    changed = modified.union(added)
    conflicts = {}
    for key, entry in managers.items():
        if key != me:
            clash = entry.fields.intersection(changed)
            if clash:
                conflicts[key] = clash
    if conflicts and not force:
        raise _Conflicts(conflicts)
    for key, entry in managers.items():
        if key != me:
            entry.fields = entry.fields.difference(conflicts.get(key, FieldSet())).difference(removed)
    for key in [k for k, e in managers.items() if not e.fields]:
        del managers[key]
    return changed, removed


def _record_update(old: dict[str, Any], new: dict[str, Any], managers: dict[str, _Entry], *, manager: str,
                   api_version: str, subresource: str, now: str, ignored: FieldSet, node: _Node) -> None:
    """Give ``manager`` (operation Update) the fields that changed, as kube-apiserver's Update chain does."""
    current = "\0current-operation"
    changed, _ = _take_over(old, new, managers, current, force=True, ignored=ignored, node=node)
    taken = changed.difference(_STRIPPED)
    if taken:
        key = _identity(manager, UPDATE, api_version, subresource)
        previous = managers.get(key)
        entry = _Entry(manager, UPDATE, api_version, subresource, now,
                       taken if previous is None else taken.union(previous.fields))
        if previous is not None:
            entry.stored, entry.stored_fields, entry.stored_version = (previous.stored, previous.stored_fields,
                                                                       previous.stored_version)
        managers[key] = entry
    _cap_updaters(managers)


def _prune(merged: dict[str, Any], managers: Mapping[str, _Entry], last: FieldSet,
           node: _Node) -> dict[str, Any]:
    """Remove what the applier owned last time and dropped now, unless some manager (or its new config) owns it."""
    last_named = _ensure_named(last, node)
    pruned = _remove_from_root(merged, last_named, node, final=False)
    managed = FieldSet()
    for entry in managers.values():
        managed = managed.union(entry.fields)
    merged_named = _ensure_named(_set_of(merged, node), node)
    keep = _ensure_named(_set_of(pruned, node), node).union(_ensure_named(managed, node))
    pruned = _remove_from_root(merged, merged_named.difference(keep), node, final=False)
    pruned_named = _ensure_named(_set_of(pruned, node), node)
    doomed = merged_named.difference(pruned_named).intersection(last_named)
    return _remove_from_root(merged, doomed, node, final=True)


def _printed_manager(entry: _Entry) -> str:
    text = _go_quote(entry.manager)
    if entry.subresource:
        text += f" with subresource {_go_quote(entry.subresource)}"
    return f"{text} using {entry.api_version}" if entry.operation == UPDATE else text


def _conflict_error(conflicts: Mapping[str, FieldSet], managers: Mapping[str, _Entry]) -> statuses.ApiError:
    """409 Conflict with kube-apiserver's message and one FieldManagerConflict cause per field."""
    groups = [(_printed_manager(managers[key]), [path_string(p) for p in conflicts[key]])
              for key in sorted(conflicts)]
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {who}", "field": field}
              for who, fields in groups for field in fields]
    if len(causes) == 1:
        message = f"Apply failed with 1 conflict: conflict with {groups[0][0]}: {causes[0]['field']}"
    else:
        lines = []
        for who, fields in groups:
            lines.append(f"conflicts with {who}:")
            lines.extend(f"- {field}" for field in fields)
        message = f"Apply failed with {len(causes)} conflicts: " + "\n".join(lines)
    return statuses.ApiError(409, "Conflict", message, {"causes": causes})


def _gvk_text(api_version: Any, kind: Any) -> str:
    version = str(api_version or "")
    group, _, ver = version.rpartition("/")
    return f"{group}/{ver}, Kind={kind or ''}"


def _object_text(obj: Mapping[str, Any]) -> str:
    meta = _metadata(obj)
    return (f"{meta.get('namespace') or ''}/{meta.get('name') or ''}; "
            f"{_gvk_text(obj.get('apiVersion'), obj.get('kind'))}")


def _typing_failure(what: str, obj: Mapping[str, Any], errors: Sequence[str]) -> statuses.ApiError:
    """The 500 kube-apiserver answers when structured-merge-diff cannot type an object (no Status reason)."""
    detail = errors[0] if len(errors) == 1 else "errors:\n" + "\n".join("  " + e for e in errors)
    return statuses.ApiError(500, "", f"failed to create typed {what} object ({_object_text(obj)}): {detail}")


def _check_applied(applied: Mapping[str, Any], api_version: str, kind: str | None) -> None:
    if isinstance(_metadata(applied).get("managedFields"), list):
        raise statuses.bad_request("metadata.managedFields must be nil")
    if applied.get("apiVersion") != api_version or (kind is not None and applied.get("kind") != kind):
        raise statuses.bad_request(f"invalid object type: {_gvk_text(applied.get('apiVersion'), applied.get('kind'))}")


def _sync_last_applied(result: dict[str, Any], applied: Mapping[str, Any]) -> None:
    """kubectl's server-side apply keeps an existing client-side last-applied annotation current."""
    annotations = _metadata(result).get("annotations")
    if not isinstance(annotations, dict) or LAST_APPLIED not in annotations:
        return
    config = _clone(dict(applied))
    meta = config.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
        meta["annotations"].pop(LAST_APPLIED, None)
        if not meta["annotations"]:
            del meta["annotations"]
    updated = {**annotations, LAST_APPLIED: _go_json(config) + "\n"}
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in updated.items())
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        del updated[LAST_APPLIED]
    result["metadata"] = {**_metadata(result), "annotations": updated}


def server_side_apply(live: Mapping[str, Any] | None, applied: Mapping[str, Any], *, manager: str, force: bool,
                      schema: Schema, api_version: str, now: str, kind: str | None = None,
                      subresource: str = "",
                      ignored_fields: Iterable[Sequence[str]] = DEFAULT_IGNORED) -> dict[str, Any]:
    """Apply a configuration the way kube-apiserver does for ``application/apply-patch+yaml``.

    The configuration is merged into ``live`` (``None``: the object is being created); fields ``manager`` applied
    last time and leaves out now are removed unless another manager owns them; ``manager``'s Apply entry becomes
    exactly the fields of the configuration; a field whose value would change and that another manager owns is a
    conflict unless ``force``, which takes it over. Inputs are not modified; the result shares nothing with them.

    Args:
        live: the stored object with its managedFields, or None.
        applied: the applied configuration (must not carry managedFields).
        manager: the field manager (``fieldManager``); kubectl uses ``kubectl``.
        force: ``force=true`` (``--force-conflicts``).
        schema: the resource's schema (:func:`schemas.for_type`).
        api_version: the group/version of the request; the configuration must name it.
        now: the time to record, RFC 3339 (``2025-01-02T03:04:05Z``).
        kind: the kind of the request, checked against the configuration when given.
        subresource: the subresource applied to, recorded in the entry.
        ignored_fields: paths (field names) never tracked: ``status`` for the main resource.

    Returns:
        The new object with ``metadata.managedFields`` updated (server-owned metadata as merged: the caller
        restores uid, creationTimestamp and the like and checks resourceVersion, as for an update).

    Raises:
        statuses.ApiError: 409 Conflict with FieldManagerConflict causes; 400 for managedFields in the
            configuration or the wrong kind; 500 when the configuration cannot be typed (duplicate keys, an
            undeclared field, a list item without its key fields), as kube-apiserver answers.

    >>> from gitops_lab.sandbox import schemas
    >>> cm = schemas.definition("io.k8s.api.core.v1.ConfigMap")
    >>> cfg = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    >>> obj = server_side_apply(None, cfg, manager="kubectl", force=False, schema=cm, api_version="v1",
    ...                         now="2025-01-01T00:00:00Z")
    >>> entry = obj["metadata"]["managedFields"][0]
    >>> entry["manager"], entry["operation"], entry["fieldsV1"]
    ('kubectl', 'Apply', {'f:data': {'f:a': {}}})
    """
    _check_applied(applied, api_version, kind)
    node = _Node(schema)
    config = _clone(dict(applied))
    walker = _SetWalker(strict=True)
    applied_set = walker.collect(config, node)[1] or FieldSet()
    if walker.errors:
        raise _typing_failure("patch", config, walker.errors)
    try:
        managers = _decode(_metadata(live).get("managedFields")) if live is not None else {}
    except ValueError as e:
        raise statuses.ApiError(500, "", f"failed to decode managed fields: {e}") from None
    current = _without_managed_fields(_clone(dict(live))) if live is not None else {}
    ignored = _ignored_set(ignored_fields)
    try:
        return _apply(current, config, applied, applied_set, managers, manager=manager, force=force,
                      api_version=api_version, subresource=subresource, now=now, ignored=ignored,
                      node=node, existed=live is not None)
    except _ShapeError as e:
        raise _typing_failure("live", current, [str(e)]) from None


def _apply(current: dict[str, Any], config: dict[str, Any], applied: Mapping[str, Any], applied_set: FieldSet,
           managers: dict[str, _Entry], *, manager: str, force: bool, api_version: str, subresource: str,
           now: str, ignored: FieldSet, node: _Node, existed: bool) -> dict[str, Any]:
    if existed and not managers:
        _record_update(_skeleton(node), current, managers, manager=BEFORE_FIRST_APPLY, api_version=api_version,
                       subresource="", now=now, ignored=ignored, node=node)
    key = _identity(manager, APPLY, api_version, subresource)
    previous = managers.get(key)
    merged = _merge(current, config, node)
    entry = _Entry(manager, APPLY, api_version, subresource, previous.time if previous else None,
                   applied_set.recursive_difference(ignored))
    if previous is not None:
        entry.stored, entry.stored_fields, entry.stored_version = (previous.stored, previous.stored_fields,
                                                                   previous.stored_version)
    managers[key] = entry
    # Pruning only ever removes paths of the previous set; when the new set still has them all, it removes nothing
    # (their parents, items and map keys, are members of an applied set too, so nothing above them goes either).
    if previous is not None and previous.fields.difference(entry.fields):
        merged = _prune(merged, managers, previous.fields, node)
    try:
        _take_over(current, merged, managers, key, force=force, ignored=ignored, node=node)
    except _Conflicts as e:
        raise _conflict_error(e.conflicts, managers) from None
    if key in managers:
        managers[key].fields = managers[key].fields.difference(_STRIPPED)
        if not managers[key].fields:
            del managers[key]
    changed = not _equal(current, merged)
    if changed and key in managers:
        managers[key].time = now
    result = dict(merged if changed else current)
    if manager == "kubectl":
        _sync_last_applied(result, applied)
    return _store(result, managers)


def _managers_for_update(old: Mapping[str, Any] | None, new: Mapping[str, Any],
                         subresource: str) -> dict[str, _Entry]:
    """The entries an update starts from: the request's own (to edit managedFields), else the stored ones."""

    def stored() -> dict[str, _Entry]:
        try:
            return _decode(_metadata(old).get("managedFields")) if old is not None else {}
        except ValueError:
            return {}

    if subresource:
        return stored()
    requested = _metadata(new).get("managedFields")
    if _is_reset(requested):
        return {}
    try:
        managers = _decode(requested)
    except ValueError:
        managers = {}
    return managers or stored()


def track_update(old: Mapping[str, Any] | None, new: Mapping[str, Any], *, manager: str, schema: Schema,
                 api_version: str, now: str, subresource: str = "",
                 ignored_fields: Iterable[Sequence[str]] = DEFAULT_IGNORED) -> dict[str, Any]:
    """Record a create, update or non-apply patch (operation ``Update``) in ``new``'s managedFields.

    Every field whose value the write changed or created becomes ``manager``'s and leaves the other managers;
    removed fields leave everyone. ``new`` may carry managedFields to edit them (``[]`` or ``[{}]`` clears them);
    otherwise those of ``old`` are used. An existing object without managed fields stays untracked, as in
    kube-apiserver. Never raises for shapes it cannot type: like the apiserver it then drops managedFields.

    Args:
        old: the stored object, or None for a create.
        new: the object about to be stored.
        manager: the field manager (``fieldManager``, else :func:`manager_from_user_agent`).
        schema: the resource's schema.
        api_version: the group/version of the request.
        now: the time to record, RFC 3339.
        subresource: the subresource written (``status``, ``scale``): the entry names it and managedFields in
            the request are ignored.
        ignored_fields: paths never tracked (``status`` for the main resource).

    Returns:
        A copy of ``new`` with ``metadata.managedFields`` updated.
    """
    result = _without_managed_fields(_clone(dict(new)))
    managers = _managers_for_update(old, new, subresource)
    creating = old is None or not _metadata(old).get("resourceVersion")
    if not managers and not creating:
        return _store(result, {})
    node = _Node(schema)
    base = _without_managed_fields(_clone(dict(old))) if old is not None else _skeleton(node)
    try:
        _record_update(base, result, managers, manager=manager, api_version=api_version, subresource=subresource,
                       now=now, ignored=_ignored_set(ignored_fields), node=node)
    except _ShapeError:
        return _store(result, {})
    return _store(result, managers)


def field_set(obj: Mapping[str, Any], schema: Schema) -> FieldSet:
    """The fields ``obj`` sets, as structured-merge-diff computes them (``metadata.managedFields`` left out).

    Scalars, atomic maps and lists, empty or null values, map keys and list items are members; struct fields
    holding something are not (what they hold is). Raises ValueError for a list item that cannot be keyed.

    >>> from gitops_lab.sandbox import schemas
    >>> fs = field_set({"metadata": {"labels": {"app": "web"}}, "spec": {"replicas": 2}},
    ...                schemas.definition("io.k8s.api.apps.v1.Deployment"))
    >>> [path_string(p) for p in fs]
    ['.metadata.labels.app', '.spec.replicas']
    """
    try:
        return _set_of(_without_managed_fields(dict(obj)), _Node(schema))
    except _ShapeError as e:
        raise ValueError(str(e)) from None


def manager_from_user_agent(user_agent: str | None) -> str:
    """The field manager kube-apiserver derives from a User-Agent when a request names none.

    What precedes the first ``/``, unprintable characters dropped, cut to 128 bytes.

    >>> manager_from_user_agent("kubectl-edit/v1.37.1 (linux/amd64) kubernetes/abc")
    'kubectl-edit'
    """
    out = []
    size = 0
    for char in (user_agent or "").split("/", 1)[0]:
        if not char.isprintable() or 0xD800 <= ord(char) <= 0xDFFF:
            continue
        width = len(char.encode("utf-8"))
        if size + width > FIELD_MANAGER_MAX_LENGTH:
            break
        out.append(char)
        size += width
    return "".join(out)


def manager_or_user_agent(field_manager: str | None, user_agent: str | None) -> str:
    """``fieldManager`` when given, else the name taken from the User-Agent."""
    return field_manager or manager_from_user_agent(user_agent)
