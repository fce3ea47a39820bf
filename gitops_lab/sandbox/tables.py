"""Server-side printing: the ``meta.k8s.io/v1`` ``Table`` that ``kubectl get`` asks for.

Owns the column definitions and cell values kube-apiserver's printers produce for the built-in kinds the
sandbox serves (always the full "wide" set; kubectl hides priority > 0 columns unless ``-o wide``), the
CustomResourceDefinition table, custom resources' ``additionalPrinterColumns`` (with the small JSONPath dialect
they use), the generic NAME / CREATED AT fallback, Kubernetes' human-readable ages, and the row ``object`` forms
(``None``, ``Metadata``, ``Object``). Pure: no I/O besides reading column descriptions from the bundled OpenAPI
definitions, no storage, no HTTP, no clock (the caller passes ``now``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gitops_lab.sandbox import schemas, selectors, statuses
from gitops_lab.sandbox.selectors import format_label_selector, format_labels, from_label_selector_object

Cell = Any
"""A table cell: ``str``, ``int``, ``float``, ``bool`` or ``None``."""

INCLUDE_NONE, INCLUDE_METADATA, INCLUDE_OBJECT = "None", "Metadata", "Object"
INITIAL_EVENTS_END = "k8s.io/initial-events-end"
NONE = "<none>"
UNKNOWN = "<unknown>"

# ---------------------------------------------------------------------------------------------------------------
# Times and ages
# ---------------------------------------------------------------------------------------------------------------

_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def parse_time(value: Any) -> dt.datetime | None:
    """An RFC 3339 timestamp (``metav1.Time`` / ``MicroTime``) as an aware datetime; None when absent or bad."""
    if not isinstance(value, str):
        return None
    match = _RFC3339.fullmatch(value)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, zone = match.group(7), match.group(8)
    micros = int((fraction[1:] + "000000")[:6]) if fraction else 0
    if zone == "Z":
        tz = dt.UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return dt.datetime(year, month, day, hour, minute, second, micros, tzinfo=tz)
    except ValueError:
        return None


def human_duration(elapsed: dt.timedelta) -> str:
    """An elapsed time with ~2-3 significant figures, as Kubernetes prints ages.

    >>> [human_duration(dt.timedelta(seconds=s)) for s in (5, 123, 600, 11700, 183600, 432000, 63072000)]
    ['5s', '2m3s', '10m', '3h15m', '2d3h', '5d', '2y']
    """
    micros = elapsed // dt.timedelta(microseconds=1)
    seconds = -(-micros // 1_000_000) if micros < 0 else micros // 1_000_000
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes, hours = seconds // 60, seconds // 3600
    days, years = hours // 24, hours // (24 * 365)
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        return f"{years}y{days % 365}d" if days % 365 else f"{years}y"
    return f"{years}y"


def _aware(now: dt.datetime) -> dt.datetime:
    return now if now.tzinfo else now.replace(tzinfo=dt.UTC)


def _age(value: Any, now: dt.datetime) -> str:
    """Time since a timestamp (``<unknown>`` when it is absent)."""
    when = parse_time(value)
    return human_duration(_aware(now) - when) if when else UNKNOWN


def _rfc3339_utc(value: Any) -> str:
    when = parse_time(value)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else "0001-01-01T00:00:00Z"


# ---------------------------------------------------------------------------------------------------------------
# Go formatting of JSON values (for JSONPath string columns)
# ---------------------------------------------------------------------------------------------------------------


def _float_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of ``|value|`` and the exponent of the first digit."""
    _, digits, exponent = decimal.Decimal(repr(abs(value))).normalize().as_tuple()
    text = "".join(map(str, digits))
    return text, int(exponent) + len(text) - 1


def _float_text(value: float, use_exponent: bool, exponent_digits: int) -> str:
    digits, point = _float_digits(value)
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    if use_exponent:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'+' if point >= 0 else '-'}{abs(point):0{exponent_digits}d}"
    if point >= len(digits) - 1:
        return sign + digits + "0" * (point - len(digits) + 1)
    if point >= 0:
        return f"{sign}{digits[:point + 1]}.{digits[point + 1:]}"
    return f"{sign}0.{'0' * (-point - 1)}{digits}"


def go_float(value: float) -> str:
    """A float64 as Go's ``%v`` prints it (``5``, ``0.25``, ``1e+21``)."""
    if math.isnan(value) or math.isinf(value):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    point = _float_digits(value)[1] if value else 0
    return _float_text(value, point < -4 or point >= 21, 2)


def _go_json_float(value: float) -> str:
    magnitude = abs(value)
    return _float_text(value, magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21), 1)


def go_json(value: Any) -> str:
    """Compact JSON exactly as Go's ``encoding/json`` writes decoded JSON values (sorted keys, HTML-safe)."""
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{go_json(str(k))}:{go_json(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(item) for item in value) + "]"
    if isinstance(value, float):
        return _go_json_float(value)
    return selectors.go_json(value)


def _go_text(value: Any) -> str:
    """A JSONPath result as kubectl-style printing writes it: objects and lists as JSON, scalars plainly."""
    if value is None:
        return "<no value>"
    if isinstance(value, Mapping | list):
        return go_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


# ---------------------------------------------------------------------------------------------------------------
# JSONPath (the dialect of CRD printer columns)
# ---------------------------------------------------------------------------------------------------------------


class JSONPathError(ValueError):
    """A JSONPath expression that cannot be parsed, or one whose evaluation fails on a given object."""


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str


@dataclasses.dataclass(frozen=True)
class _Wildcard:
    pass


@dataclasses.dataclass(frozen=True)
class _Recursive:
    pass


@dataclasses.dataclass(frozen=True)
class _Slice:
    start: int | None
    end: int | None
    step: int | None
    single: bool  # ``[n]``: the end was derived from the start


@dataclasses.dataclass(frozen=True)
class _Union:
    branches: tuple[tuple[Any, ...], ...]


@dataclasses.dataclass(frozen=True)
class _Filter:
    left: tuple[Any, ...]
    operator: str
    right: tuple[Any, ...]


@dataclasses.dataclass(frozen=True)
class _Literal:
    value: Any


@dataclasses.dataclass(frozen=True)
class _Identifier:
    name: str


_TERMINATORS = frozenset(" \t\r\n.,[]$@{}")
_SLICE = re.compile(r"(-?[0-9]*)(:-?[0-9]*)?(:-?[0-9]*)?")
_FILTER_SPLIT = re.compile(r"([^!<>=]+)([!<>=~]+)(.+?)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b", "f": "\f",
            "v": "\v", "/": "/"}


class _PathParser:
    """Parses the inside of a ``{...}`` JSONPath template into evaluation steps."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at(self, prefix: str) -> bool:
        return self.text.startswith(prefix, self.pos)

    def parse(self) -> tuple[Any, ...]:
        steps: list[Any] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "}":
                break  # the end of the action; any text after it is not part of the path
            if self.at("[?("):
                steps.append(self.filter())
            elif self.at(".."):
                if steps and isinstance(steps[-1], _Recursive):
                    raise JSONPathError("invalid multiple recursive descent")
                self.pos += 2
                steps.append(_Recursive())
                if self.pos < len(self.text) and self._word_char(self.text[self.pos]):
                    steps.append(self.field())
            else:
                self.pos += 1
                steps.extend(self.step(char))
        return tuple(steps)

    @staticmethod
    def _word_char(char: str) -> bool:
        return char == "_" or char.isalnum()

    def step(self, char: str) -> list[Any]:
        if char in " @$":
            return []
        if char == "[":
            return self.bracket()
        if char in "\"'":
            return [self.quoted(char)]
        if char == ".":
            return [self.field()]
        if char in "+-" or char.isdigit():
            self.pos -= 1
            return [self.number()]
        if self._word_char(char):
            self.pos -= 1
            return [self.identifier()]
        if char in "\r\n":
            raise JSONPathError("unclosed action")
        raise JSONPathError(f"unrecognized character in action: {char!r}")

    def word(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _TERMINATORS:
            self.pos += 2 if self.text[self.pos] == "\\" else 1
        return self.text[start:self.pos]

    def field(self) -> Any:
        name = self.word()
        return _Wildcard() if name == "*" else _Field(name.replace("\\", ""))

    def identifier(self) -> Any:
        name = self.word()
        return _Literal(name == "true") if name in ("true", "false") else _Identifier(name)

    def number(self) -> _Literal:
        start = self.pos
        if self.text[self.pos] in "+-":
            self.pos += 1
        while self.pos < len(self.text) and (self.text[self.pos] == "." or self.text[self.pos].isdigit()):
            self.pos += 1
        text = self.text[start:self.pos]
        if re.fullmatch(r"[+-]?[0-9]+", text):
            return _Literal(int(text))
        try:
            return _Literal(float(text))
        except ValueError:
            raise JSONPathError(f"cannot parse number {text}") from None

    def quoted(self, quote: str) -> _Literal:
        start = self.pos
        while True:
            if self.pos >= len(self.text) or self.text[self.pos] == "\n":
                raise JSONPathError("unterminated quoted string")
            char = self.text[self.pos]
            self.pos += 1
            if char == quote and self.text[self.pos - 2] != "\\":
                break
        return _Literal(_unquote(self.text[start:self.pos - 1]))

    def bracket(self) -> list[Any]:
        end = self.text.find("]", self.pos)
        newline = self.text.find("\n", self.pos)
        if end < 0 or 0 <= newline < end:
            raise JSONPathError("unterminated array")
        inside, self.pos = self.text[self.pos:end], end + 1
        if inside == "*":
            inside = ":"
        if "," in inside:
            return [_Union(tuple(_PathParser(f"[{part.strip(' ')}]").parse() for part in inside.split(",")))]
        key = re.fullmatch(r"'([^']*)'", inside)
        if key:
            return list(_PathParser("." + key.group(1)).parse())
        return [_parse_slice(inside)]

    def filter(self) -> _Filter:
        self.pos += 3
        start, opened, closed, pair = self.pos, False, False, ""
        while True:
            if self.pos >= len(self.text) or self.text[self.pos] == "\n":
                raise JSONPathError("unterminated filter")
            char = self.text[self.pos]
            self.pos += 1
            if char in "\"'":
                if not opened:
                    opened, pair = True, char
                elif self.text[self.pos - 2] != "\\" and char == pair:
                    closed = True
            elif char == ")" and opened == closed:
                break
        if not self.at("]"):
            raise JSONPathError("unclosed array expect ]")
        expression = self.text[start:self.pos - 1]
        self.pos += 1
        split = _FILTER_SPLIT.fullmatch(expression)
        if split is None:
            return _Filter(_PathParser(expression).parse(), "exists", ())
        left, operator, right = split.groups()
        return _Filter(_PathParser(left).parse(), operator, _PathParser(right).parse())


def _parse_slice(text: str) -> _Slice:
    match = _SLICE.fullmatch(text)
    if match is None:
        raise JSONPathError(f"invalid array index {text}")
    start_text, end_text, step_text = match.groups()
    start = _slice_number(start_text)
    if end_text is None:
        return _Slice(start, (start or 0) + 1, None, True)
    return _Slice(start, _slice_number(end_text[1:]), _slice_number((step_text or ":")[1:]), False)


def _slice_number(text: str) -> int | None:
    """One bound of ``[start:end:step]``; None when left out."""
    if text == "":
        return None
    if text == "-":
        raise JSONPathError("array index - is not a number")
    return int(text)


def _unquote(body: str) -> str:
    if "\\" not in body:
        return body
    out, i = [], 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        code = body[i + 1:i + 2]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            i += 2
        elif code in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[code]
            digits = body[i + 2:i + 2 + width]
            if not re.fullmatch(f"[0-9a-fA-F]{{{width}}}", digits):
                raise JSONPathError("invalid syntax")
            out.append(chr(int(digits, 16)))
            i += 2 + width
        else:
            raise JSONPathError("invalid syntax")
    return "".join(out)


@functools.lru_cache(maxsize=512)
def parse_jsonpath(expression: str) -> tuple[Any, ...]:
    """Parse a printer-column JSONPath (``.status.conditions[?(@.type=="Ready")].status``).

    Raises :class:`JSONPathError` for expressions kube-apiserver could not parse either.
    """
    return _PathParser(expression).parse()


def _children(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, list):
        return list(value)
    return []


def _eval_slice(values: list[Any], step: _Slice) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value is None:
            continue
        if not isinstance(value, list):
            raise JSONPathError(f"{type(value).__name__} is not array or slice")
        length = len(value)
        start = step.start if step.start is not None else 0
        start += length if start < 0 else 0
        end = step.end if step.end is not None else length
        if end < 0 or (end == 0 and step.single):
            end += length
        if end == start:
            return out
        if not 0 <= start < length or not 0 <= end <= length:
            raise JSONPathError(f"array index out of bounds: index {start}, length {length}")
        if start > end:
            raise JSONPathError(f"starting index {start} is greater than ending index {end}")
        if step.step is not None and step.step <= 0:
            raise JSONPathError("step must be > 0")
        out.extend(value[start:end:step.step or 1])
    return out


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    raise JSONPathError("invalid type for comparison")


def _equal(left: Any, right: Any) -> bool:
    if _kind(left) != _kind(right):
        raise JSONPathError("incompatible types for comparison")
    return bool(left == right)


def _less(left: Any, right: Any) -> bool:
    if _kind(left) != _kind(right) or _kind(left) == "bool":
        raise JSONPathError("incompatible types for comparison")
    return bool(left < right)


def _compare(operator: str, left: Any, right: Any) -> bool:
    if operator == "==":
        return _equal(left, right)
    if operator == "!=":
        return not _equal(left, right)
    if operator == "<":
        return _less(left, right)
    if operator == ">":
        return not (_less(left, right) or _equal(left, right))
    if operator == "<=":
        return _less(left, right) or _equal(left, right)
    if operator == ">=":
        return not _less(left, right)
    if operator == "=~":
        if not isinstance(left, str) or not isinstance(right, str):
            raise JSONPathError("regexp search only support string now")
        try:
            return re.search(right, left) is not None
        except re.error as err:
            raise JSONPathError(str(err)) from None
    raise JSONPathError(f"unrecognized filter operator {operator}")


def _single(values: list[Any]) -> Any:
    if len(values) > 1:
        raise JSONPathError("can only compare one element at a time")
    return values[0]


def _eval_filter(values: list[Any], step: _Filter) -> list[Any]:
    out = []
    for value in values:
        if not isinstance(value, list):
            raise JSONPathError(f"{value!r} is not array or slice and cannot be filtered")
        for item in value:
            if step.operator == "exists":
                try:
                    found = _evaluate(step.left, [item])
                except JSONPathError:
                    found = []
                if found:
                    out.append(item)
                continue
            lefts = _evaluate(step.left, [item])
            if not lefts:
                continue
            left = _single(lefts)
            rights = _evaluate(step.right, [item])
            if not rights:
                continue
            if _compare(step.operator, left, _single(rights)):
                out.append(item)
    return out


def _eval_recursive(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        children = _children(value)
        if children:
            out.append(value)
            out.extend(_eval_recursive(children))
    return out


def _eval_step(step: Any, values: list[Any]) -> list[Any]:
    if isinstance(step, _Field):
        return [value[step.name] for value in values if isinstance(value, Mapping) and step.name in value]
    if isinstance(step, _Wildcard):
        return [child for value in values for child in _children(value)]
    if isinstance(step, _Recursive):
        return _eval_recursive(values)
    if isinstance(step, _Slice):
        return _eval_slice(values, step)
    if isinstance(step, _Filter):
        return _eval_filter(values, step)
    if isinstance(step, _Union):
        return [found for branch in step.branches for found in _evaluate(branch, values)]
    if isinstance(step, _Literal):
        return [step.value for _ in values]
    raise JSONPathError(f"unrecognized identifier {step.name}")


def _evaluate(steps: Sequence[Any], values: list[Any]) -> list[Any]:
    for step in steps:
        values = _eval_step(step, values)
    return values


def find_results(expression: str, obj: Any) -> list[Any]:
    """Every value a printer-column JSONPath selects in ``obj`` (missing keys give no results).

    >>> find_results('.status.conditions[?(@.type=="Ready")].status',
    ...              {"status": {"conditions": [{"type": "Synced", "status": "True"},
    ...                                         {"type": "Ready", "status": "False"}]}})
    ['False']
    """
    return _evaluate(parse_jsonpath(expression), [obj])


# ---------------------------------------------------------------------------------------------------------------
# Column definitions
# ---------------------------------------------------------------------------------------------------------------

_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_CORE = "io.k8s.api.core.v1."
_APPS = "io.k8s.api.apps.v1."


def _doc(definition: str, field: str) -> str:
    """The API documentation of a field (the text kube-apiserver puts in column descriptions)."""
    node = schemas.definition(definition).field(field)
    return node.description if node is not None else ""


def column(name: str, type_: str, description: str, *, format_: str = "", priority: int = 0) -> dict[str, Any]:
    """One ``TableColumnDefinition``."""
    return {"name": name, "type": type_, "format": format_, "description": description, "priority": priority}


def _name_column() -> dict[str, Any]:
    return column("Name", "string", _doc(_META, "name"), format_="name")


def _age_column() -> dict[str, Any]:
    return column("Age", "string", _doc(_META, "creationTimestamp"))


def _wide(name: str, description: str) -> dict[str, Any]:
    return column(name, "string", description, priority=1)


_CONTAINERS_DOC = "Names of each container in the template."
_IMAGES_DOC = "Images referenced by each container in the template."


def _pod_columns() -> list[dict[str, Any]]:
    return [
        _name_column(),
        column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
        column("Status", "string", "The aggregate status of the containers in this pod."),
        column("Restarts", "string", "The number of times the containers in this pod have been restarted and when "
               "the last container in this pod has restarted."),
        _age_column(),
        _wide("IP", _doc(_CORE + "PodStatus", "podIP")),
        _wide("Node", _doc(_CORE + "PodSpec", "nodeName")),
        _wide("Nominated Node", _doc(_CORE + "PodStatus", "nominatedNodeName")),
        _wide("Readiness Gates", _doc(_CORE + "PodSpec", "readinessGates")),
    ]


def _deployment_columns() -> list[dict[str, Any]]:
    return [
        _name_column(),
        column("Ready", "string", "Number of the pod with ready state"),
        column("Up-to-date", "string", _doc(_APPS + "DeploymentStatus", "updatedReplicas")),
        column("Available", "string", _doc(_APPS + "DeploymentStatus", "availableReplicas")),
        _age_column(),
        _wide("Containers", _CONTAINERS_DOC),
        _wide("Images", _IMAGES_DOC),
        _wide("Selector", _doc(_APPS + "DeploymentSpec", "selector")),
    ]


def _replicaset_columns() -> list[dict[str, Any]]:
    return [
        _name_column(),
        column("Desired", "integer", _doc(_APPS + "ReplicaSetSpec", "replicas")),
        column("Current", "integer", _doc(_APPS + "ReplicaSetStatus", "replicas")),
        column("Ready", "integer", _doc(_APPS + "ReplicaSetStatus", "readyReplicas")),
        _age_column(),
        _wide("Containers", _CONTAINERS_DOC),
        _wide("Images", _IMAGES_DOC),
        _wide("Selector", _doc(_APPS + "ReplicaSetSpec", "selector")),
    ]


def _service_columns() -> list[dict[str, Any]]:
    spec = _CORE + "ServiceSpec"
    return [
        _name_column(),
        column("Type", "string", _doc(spec, "type")),
        column("Cluster-IP", "string", _doc(spec, "clusterIP")),
        column("External-IP", "string", _doc(spec, "externalIPs")),
        column("Port(s)", "string", _doc(spec, "ports")),
        _age_column(),
        _wide("Selector", _doc(spec, "selector")),
    ]


def _node_columns() -> list[dict[str, Any]]:
    info, status = _CORE + "NodeSystemInfo", _CORE + "NodeStatus"
    return [
        _name_column(),
        column("Status", "string", "The status of the node"),
        column("Roles", "string", "The roles of the node"),
        _age_column(),
        column("Version", "string", _doc(info, "kubeletVersion")),
        _wide("Internal-IP", _doc(status, "addresses")),
        _wide("External-IP", _doc(status, "addresses")),
        _wide("OS-Image", _doc(info, "osImage")),
        _wide("Kernel-Version", _doc(info, "kernelVersion")),
        _wide("Container-Runtime", _doc(info, "containerRuntimeVersion")),
    ]


def _event_columns() -> list[dict[str, Any]]:
    event = _CORE + "Event"
    return [
        column("Last Seen", "string", _doc(event, "lastTimestamp")),
        column("Type", "string", _doc(event, "type")),
        column("Reason", "string", _doc(event, "reason")),
        column("Object", "string", _doc(event, "involvedObject")),
        _wide("Subobject", _doc(_CORE + "ObjectReference", "fieldPath")),
        _wide("Source", _doc(event, "source")),
        column("Message", "string", _doc(event, "message")),
        _wide("First Seen", _doc(event, "firstTimestamp")),
        _wide("Count", _doc(event, "count")),
        column("Name", "string", _doc(_META, "name"), format_="name", priority=1),
    ]


def _crd_columns() -> list[dict[str, Any]]:
    return [
        _name_column(),
        column("Scope", "string", "Cluster/Namespaced"),
        column("Versions", "string", "Served versions"),
        column("Created At", "date", _doc(_META, "creationTimestamp")),
        column("Group", "string", "API group", priority=1),
        column("Kind", "string", "CustomResource kind", priority=1),
        column("ShortNames", "string", "Short names", priority=1),
        column("Established", "boolean", "Established status", priority=1),
    ]


def _simple_columns(*middle: tuple[str, str, str]) -> Callable[[], list[dict[str, Any]]]:
    """NAME, string columns given as (name, definition, field documenting it), AGE."""
    def columns() -> list[dict[str, Any]]:
        documented = (column(name, "string", _doc(_CORE + kind, field)) for name, kind, field in middle)
        return [_name_column(), *documented, _age_column()]
    return columns


def _namespace_columns() -> list[dict[str, Any]]:
    return [_name_column(), column("Status", "string", "The status of the namespace"), _age_column()]


# ---------------------------------------------------------------------------------------------------------------
# Rows of the built-in kinds
# ---------------------------------------------------------------------------------------------------------------

Row = tuple[list[Cell], list[dict[str, str]] | None]


def _get(obj: Any, *path: str) -> Any:
    for step in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(step)
    return obj


def _int(value: Any, default: int = 0) -> int:
    """An integer field (absent or malformed reads as ``default``)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _name(obj: Mapping[str, Any]) -> str:
    return str(_get(obj, "metadata", "name") or "")


def _created(obj: Mapping[str, Any], now: dt.datetime) -> str:
    return _age(_get(obj, "metadata", "creationTimestamp"), now)


def _containers(pod_spec: Any) -> tuple[str, str]:
    containers = _get(pod_spec, "containers") or []
    return (",".join(str(c.get("name", "")) for c in containers),
            ",".join(str(c.get("image", "")) for c in containers))


def _later(current: dt.datetime | None, finished: Any) -> dt.datetime | None:
    when = parse_time(finished)
    if when is None:
        return current
    return when if current is None or when > current else current


@dataclasses.dataclass
class PodSummary:
    """What walking a pod's container statuses learns: the STATUS reason, readiness and restarts."""

    reason: str
    ready: int = 0
    restarts: int = 0
    last_restart: dt.datetime | None = None


def _condition_true(conditions: Any, type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in conditions or [])


def _terminated_reason(terminated: Mapping[str, Any], prefix: str) -> str:
    if terminated.get("reason"):
        return prefix + str(terminated["reason"])
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


def _init_containers(pod: Mapping[str, Any], progress: PodSummary) -> tuple[bool, int, dt.datetime | None]:
    """Walk init container statuses; returns (initializing, restarts of sidecars, their last restart)."""
    declared = _get(pod, "spec", "initContainers") or []
    specs = {c.get("name"): c for c in declared}
    sidecar_restarts, sidecar_last = 0, None
    statuses_ = _get(pod, "status", "initContainerStatuses") or []
    for index, status in enumerate(statuses_):
        count = _int(status.get("restartCount"))
        finished = _get(status, "lastState", "terminated", "finishedAt")
        progress.restarts += count
        progress.last_restart = _later(progress.last_restart, finished)
        sidecar = (specs.get(status.get("name")) or {}).get("restartPolicy") == "Always"
        if sidecar:
            sidecar_restarts += count
            sidecar_last = _later(sidecar_last, finished)
        state = status.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and _int(terminated.get("exitCode")) == 0:
            continue
        if sidecar and status.get("started") is True:
            progress.ready += 1 if status.get("ready") else 0
            continue
        if terminated is not None:
            progress.reason = _terminated_reason(terminated, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            progress.reason = "Init:" + str(waiting["reason"])
        else:
            progress.reason = f"Init:{index}/{len(declared)}"
        return True, sidecar_restarts, sidecar_last
    return False, sidecar_restarts, sidecar_last


def _app_containers(pod: Mapping[str, Any], progress: PodSummary) -> None:
    """Walk container statuses (last first, like the kubelet's summary) into ``progress``."""
    running = False
    for status in reversed(_get(pod, "status", "containerStatuses") or []):
        progress.restarts += _int(status.get("restartCount"))
        progress.last_restart = _later(progress.last_restart, _get(status, "lastState", "terminated", "finishedAt"))
        state = status.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting is not None and waiting.get("reason"):
            progress.reason = str(waiting["reason"])
        elif terminated is not None:
            progress.reason = _terminated_reason(terminated, "")
        elif status.get("ready") and state.get("running") is not None:
            running = True
            progress.ready += 1
    if progress.reason == "Completed" and running:
        ready = _condition_true(_get(pod, "status", "conditions"), "Ready")
        progress.reason = "Running" if ready else "NotReady"


def summarize_pod(pod: Mapping[str, Any]) -> PodSummary:
    """The STATUS column's reason, READY count and RESTARTS of a pod, following the kubelet's summary rules."""
    status = pod.get("status") or {}
    phase = str(status.get("phase") or "")
    progress = PodSummary(reason=str(status.get("reason") or phase))
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            progress.reason = "SchedulingGated"
    initializing, sidecar_restarts, sidecar_last = _init_containers(pod, progress)
    if not initializing or _condition_true(status.get("conditions"), "Initialized"):
        progress.restarts, progress.last_restart = sidecar_restarts, sidecar_last
        _app_containers(pod, progress)
    deleting = _get(pod, "metadata", "deletionTimestamp") is not None
    if deleting and status.get("reason") == "NodeLost":
        progress.reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        progress.reason = "Terminating"
    return progress


_POD_DONE = {
    "Succeeded": {"type": "Completed", "status": "True", "reason": "Succeeded",
                  "message": "The pod has completed successfully."},
    "Failed": {"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."},
}


def _readiness_gates(pod: Mapping[str, Any]) -> str:
    gates = _get(pod, "spec", "readinessGates") or []
    if not gates:
        return NONE
    conditions = _get(pod, "status", "conditions") or []
    passed = 0
    for gate in gates:
        match = next((c for c in conditions if c.get("type") == gate.get("conditionType")), None)
        passed += 1 if match is not None and match.get("status") == "True" else 0
    return f"{passed}/{len(gates)}"


def _pod_row(pod: Mapping[str, Any], now: dt.datetime) -> Row:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    progress = summarize_pod(pod)
    sidecars = sum(1 for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always")
    total = len(spec.get("containers") or []) + sidecars
    restarts = str(progress.restarts)
    if progress.restarts and progress.last_restart is not None:
        restarts += f" ({human_duration(_aware(now) - progress.last_restart)} ago)"
    pod_ips = status.get("podIPs") or []
    pod_ip = status.get("podIP") or (pod_ips[0].get("ip") if pod_ips else "") or NONE
    cells = [_name(pod), f"{progress.ready}/{total}", progress.reason, restarts, _created(pod, now),
             pod_ip, spec.get("nodeName") or NONE, status.get("nominatedNodeName") or NONE, _readiness_gates(pod)]
    done = _POD_DONE.get(str(status.get("phase") or ""))
    return cells, [dict(done)] if done else None


def _deployment_row(obj: Mapping[str, Any], now: dt.datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    try:
        selector = str(from_label_selector_object(spec.get("selector")))
    except statuses.ApiError:
        selector = "<invalid>"
    names, images = _containers(_get(spec, "template", "spec"))
    desired = _int(spec.get("replicas"), 1)  # the API defaults it to 1
    return [_name(obj), f"{_int(status.get('readyReplicas'))}/{desired}", _int(status.get("updatedReplicas")),
            _int(status.get("availableReplicas")), _created(obj, now), names, images, selector], None


def _replicaset_row(obj: Mapping[str, Any], now: dt.datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers(_get(spec, "template", "spec"))
    return [_name(obj), _int(spec.get("replicas"), 1), _int(status.get("replicas")),
            _int(status.get("readyReplicas")), _created(obj, now), names, images,
            format_label_selector(spec.get("selector"))], None


def _external_ip(spec: Mapping[str, Any], status: Mapping[str, Any]) -> str:
    kind, external = spec.get("type") or "", list(spec.get("externalIPs") or [])
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or NONE
    if kind == "LoadBalancer":
        ingress = _get(status, "loadBalancer", "ingress") or []
        balancer = sorted({str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname")})
        return ",".join(balancer + external) or "<pending>"
    if kind == "ExternalName":
        return str(spec.get("externalName") or "")
    return UNKNOWN


def _ports(ports: Sequence[Mapping[str, Any]]) -> str:
    pieces = []
    for port in ports:
        protocol = port.get("protocol") or "TCP"
        node_port = _int(port.get("nodePort"))
        middle = f":{node_port}" if node_port > 0 else ""
        pieces.append(f"{port.get('port', 0)}{middle}/{protocol}")
    return ",".join(pieces) or NONE


def _service_row(obj: Mapping[str, Any], now: dt.datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    cluster_ips = spec.get("clusterIPs") or []
    cluster_ip = spec.get("clusterIP") or (cluster_ips[0] if cluster_ips else "") or NONE
    return [_name(obj), str(spec.get("type") or ""), cluster_ip, _external_ip(spec, status),
            _ports(spec.get("ports") or []), _created(obj, now), format_labels(spec.get("selector"))], None


def _node_roles(labels: Mapping[str, str]) -> str:
    roles = set()
    for key, value in labels.items():
        if key.startswith("node-role.kubernetes.io/") and key != "node-role.kubernetes.io/":
            roles.add(key.removeprefix("node-role.kubernetes.io/"))
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or NONE


def _address(node: Mapping[str, Any], type_: str) -> str:
    addresses = _get(node, "status", "addresses") or []
    return next((str(a.get("address", "")) for a in addresses if a.get("type") == type_), NONE)


def _node_row(obj: Mapping[str, Any], now: dt.datetime) -> Row:
    ready = {c.get("type"): c for c in _get(obj, "status", "conditions") or []}.get("Ready")
    if ready is None:
        state = ["Unknown"]
    else:
        state = ["Ready" if ready.get("status") == "True" else "NotReady"]
    if _get(obj, "spec", "unschedulable"):
        state.append("SchedulingDisabled")
    info = _get(obj, "status", "nodeInfo") or {}
    return [_name(obj), ",".join(state), _node_roles(_get(obj, "metadata", "labels") or {}), _created(obj, now),
            str(info.get("kubeletVersion") or ""), _address(obj, "InternalIP"), _address(obj, "ExternalIP"),
            info.get("osImage") or UNKNOWN, info.get("kernelVersion") or UNKNOWN,
            info.get("containerRuntimeVersion") or UNKNOWN], None


def _namespace_row(obj: Mapping[str, Any], now: dt.datetime) -> Row:
    return [_name(obj), str(_get(obj, "status", "phase") or ""), _created(obj, now)], None


def _event_source(obj: Mapping[str, Any]) -> str:
    component = _get(obj, "source", "component") or obj.get("reportingComponent") or ""
    host = _get(obj, "source", "host") or obj.get("reportingInstance") or ""
    return f"{component}, {host}" if host else str(component)


def _event_row(obj: Mapping[str, Any], now: dt.datetime) -> Row:
    first = (_age(obj["firstTimestamp"], now) if parse_time(obj.get("firstTimestamp"))
             else _age(obj.get("eventTime"), now))
    last = _age(obj["lastTimestamp"], now) if parse_time(obj.get("lastTimestamp")) else first
    count = _int(obj.get("count"))
    series = obj.get("series")
    if series is not None:
        last, count = _age(series.get("lastObservedTime"), now), _int(series.get("count"))
    elif count == 0:
        count = 1
    involved = obj.get("involvedObject") or {}
    kind = str(involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    return [last, str(obj.get("type") or ""), str(obj.get("reason") or ""), target,
            str(involved.get("fieldPath") or ""), _event_source(obj), str(obj.get("message") or "").strip(),
            first, count, _name(obj)], None


def _configmap_row(obj: Mapping[str, Any], now: dt.datetime) -> Row:
    size = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [_name(obj), size, _created(obj, now)], None


def _secret_row(obj: Mapping[str, Any], now: dt.datetime) -> Row:
    return [_name(obj), str(obj.get("type") or ""), len(obj.get("data") or {}), _created(obj, now)], None


def _host_port(ip: str, port: Any) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _endpoints_cell(subsets: Sequence[Mapping[str, Any]]) -> str:
    if not subsets:
        return NONE
    shown: list[str] = []
    total = 0
    for subset in subsets:
        ips = [str(a.get("ip", "")) for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        pairs = [_host_port(ip, p.get("port", 0)) for p in ports for ip in ips] if ports else ips
        total += len(pairs)
        shown.extend(pairs[:max(0, 3 - len(shown))])
    text = ",".join(shown)
    return f"{text} + {total - 3} more..." if total > 3 else text


def _endpoints_row(obj: Mapping[str, Any], now: dt.datetime) -> Row:
    return [_name(obj), _endpoints_cell(obj.get("subsets") or []), _created(obj, now)], None


def _serviceaccount_row(obj: Mapping[str, Any], now: dt.datetime) -> Row:
    return [_name(obj), len(obj.get("secrets") or []), _created(obj, now)], None


def _crd_row(obj: Mapping[str, Any], now: dt.datetime) -> Row:
    spec = obj.get("spec") or {}
    versions = sorted(str(v.get("name", "")) + ("(storage)" if v.get("storage") else "")
                      for v in spec.get("versions") or [] if v.get("served"))
    established = _condition_true(_get(obj, "status", "conditions"), "Established")
    return [_name(obj), str(spec.get("scope") or ""), ",".join(versions),
            _rfc3339_utc(_get(obj, "metadata", "creationTimestamp")), str(spec.get("group") or ""),
            str(_get(spec, "names", "kind") or ""), ",".join(_get(spec, "names", "shortNames") or []),
            established], None


@dataclasses.dataclass(frozen=True)
class _Printer:
    columns: Callable[[], list[dict[str, Any]]]
    row: Callable[[Mapping[str, Any], dt.datetime], Row]
    rows_null_when_empty: bool = False
    """The generic and CRD convertors leave ``rows`` unset (JSON null) for an empty list."""


_PRINTERS: dict[str, _Printer] = {
    "pods": _Printer(_pod_columns, _pod_row),
    "apps/deployments": _Printer(_deployment_columns, _deployment_row),
    "apps/replicasets": _Printer(_replicaset_columns, _replicaset_row),
    "services": _Printer(_service_columns, _service_row),
    "nodes": _Printer(_node_columns, _node_row),
    "namespaces": _Printer(_namespace_columns, _namespace_row),
    "events": _Printer(_event_columns, _event_row),
    "configmaps": _Printer(_simple_columns(("Data", "ConfigMap", "data")), _configmap_row),
    "secrets": _Printer(_simple_columns(("Type", "Secret", "type"), ("Data", "Secret", "data")), _secret_row),
    "endpoints": _Printer(_simple_columns(("Endpoints", "Endpoints", "subsets")), _endpoints_row),
    "serviceaccounts": _Printer(_simple_columns(("Secrets", "ServiceAccount", "secrets")), _serviceaccount_row),
    "apiextensions.k8s.io/customresourcedefinitions": _Printer(_crd_columns, _crd_row, rows_null_when_empty=True),
}

_DEFAULT = _Printer(
    lambda: [_name_column(), column("Created At", "date", _doc(_META, "creationTimestamp"))],
    lambda obj, now: ([_name(obj), _rfc3339_utc(_get(obj, "metadata", "creationTimestamp"))], None),
    rows_null_when_empty=True,
)

# ---------------------------------------------------------------------------------------------------------------
# Custom resources: additionalPrinterColumns
# ---------------------------------------------------------------------------------------------------------------


def _json_cell(type_: str, value: Any, now: dt.datetime) -> Cell:
    """A JSONPath result converted to the cell a column of ``type_`` holds (None when it does not fit)."""
    if value is None:
        return None
    if type_ == "string":
        return _go_text(value)
    if type_ == "integer" and not isinstance(value, bool) and isinstance(value, int | float):
        return int(value)
    if type_ == "number" and not isinstance(value, bool) and isinstance(value, int | float):
        return float(value)
    if type_ == "boolean" and isinstance(value, bool):
        return value
    if type_ == "date" and isinstance(value, str):
        if value in ("", "null"):
            return UNKNOWN
        when = parse_time(value)
        return "<invalid>" if when is None else human_duration(_aware(now) - when)
    return None


def _custom_printer(printer_columns: Sequence[Mapping[str, Any]]) -> _Printer:
    declared = list(printer_columns) or [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp",
                                          "description": _doc(_META, "creationTimestamp")}]
    usable: list[tuple[Mapping[str, Any], tuple[Any, ...]]] = []
    for definition in declared:
        path = str(definition.get("jsonPath", ""))
        try:
            usable.append((definition, parse_jsonpath(path)))
        except JSONPathError:
            break  # like kube-apiserver: columns after an unparsable one are dropped
    headers = [column(str(d.get("name", "")), str(d.get("type", "")),
                      str(d.get("description") or
                          f"Custom resource definition column (in JSONPath format): {d.get('jsonPath', '')}"),
                      format_=str(d.get("format") or ""), priority=_int(d.get("priority")))
               for d, _ in usable]

    def row(obj: Mapping[str, Any], now: dt.datetime) -> Row:
        cells: list[Cell] = [_name(obj)]
        for definition, steps in usable:
            try:
                found = _evaluate(steps, [obj])
            except JSONPathError:
                found = []
            type_ = str(definition.get("type", ""))
            if not found:
                cells.append(None)
            elif type_ == "string":
                cells.append(_go_text(found[0]))  # a JSON null prints as "<no value>" here
            else:
                cells.append(_json_cell(type_, found[0], now))
        return cells, None

    return _Printer(lambda: [_name_column(), *headers], row)


# ---------------------------------------------------------------------------------------------------------------
# The Table
# ---------------------------------------------------------------------------------------------------------------


def _row_object(obj: Mapping[str, Any], include: str) -> Any:
    annotations = _get(obj, "metadata", "annotations") or {}
    if include == INCLUDE_OBJECT:
        return obj
    if include == INCLUDE_NONE and annotations.get(INITIAL_EVENTS_END) != "true":
        return None
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def _list_meta(list_meta: Mapping[str, Any] | None) -> dict[str, Any]:
    meta = dict(list_meta or {})
    out: dict[str, Any] = {key: meta[key] for key in ("resourceVersion", "continue") if meta.get(key)}
    if meta.get("remainingItemCount") is not None:
        out["remainingItemCount"] = meta["remainingItemCount"]
    return out


def _printer_for(resource_key: str, printer_columns: Sequence[Mapping[str, Any]] | None) -> _Printer:
    """The printer kube-apiserver would use: a built-in one, a custom resource's columns, or the default."""
    if resource_key in _PRINTERS:
        return _PRINTERS[resource_key]
    if printer_columns is not None:
        return _custom_printer(printer_columns)
    return _DEFAULT


def to_table(resource_key: str, objects: Sequence[Mapping[str, Any]], *, now: dt.datetime,
             include_object: str = INCLUDE_METADATA, printer_columns: Sequence[Mapping[str, Any]] | None = None,
             list_meta: Mapping[str, Any] | None = None, no_headers: bool = False) -> dict[str, Any]:
    """The ``meta.k8s.io/v1`` ``Table`` kube-apiserver answers for ``objects`` of ``resource_key``.

    ``resource_key`` is :attr:`ResourceType.key` (``pods``, ``apps/deployments``...). For a custom resource pass
    the served CRD version's ``additionalPrinterColumns`` as ``printer_columns`` (``[]`` when it declares none:
    NAME and AGE); an unknown kind without them gets NAME and CREATED AT. ``include_object`` is the request's
    ``includeObject`` (``None``, ``Metadata`` (default), ``Object``); anything else is a 400 BadRequest.
    ``list_meta`` carries ``resourceVersion`` / ``continue`` / ``remainingItemCount`` (for a single object, pass
    its ``resourceVersion``); ``no_headers`` leaves out the column definitions (watch events after the first).

    >>> pod = {"metadata": {"name": "web", "creationTimestamp": "2024-05-01T10:00:00Z"},
    ...        "spec": {"containers": [{"name": "web", "image": "nginx"}]},
    ...        "status": {"phase": "Running", "containerStatuses": [
    ...            {"name": "web", "ready": True, "restartCount": 0, "state": {"running": {}}}]}}
    >>> table = to_table("pods", [pod], now=dt.datetime(2024, 5, 1, 10, 5, tzinfo=dt.UTC))
    >>> [c["name"] for c in table["columnDefinitions"] if c["priority"] == 0], table["rows"][0]["cells"][:5]
    (['Name', 'Ready', 'Status', 'Restarts', 'Age'], ['web', '1/1', 'Running', '0', '5m'])
    """
    include = include_object or INCLUDE_METADATA
    if include not in (INCLUDE_NONE, INCLUDE_METADATA, INCLUDE_OBJECT):
        raise statuses.bad_request(f"unrecognized includeObject value: {selectors.go_quote(include_object)}")
    printer = _printer_for(resource_key, printer_columns)
    rows = []
    for obj in objects:
        cells, conditions = printer.row(obj, now)
        row: dict[str, Any] = {"cells": cells}
        if conditions:
            row["conditions"] = conditions
        row["object"] = _row_object(obj, include)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": _list_meta(list_meta),
        "columnDefinitions": None if no_headers else printer.columns(),
        "rows": None if not rows and printer.rows_null_when_empty else rows,
    }
