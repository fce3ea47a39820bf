"""Label and field selectors as kube-apiserver parses, validates, matches and renders them.

Owns the ``labelSelector`` / ``fieldSelector`` query-parameter languages, the ``metav1.LabelSelector`` object
form used by workloads and controllers, the syntax rules for label keys and values, and which field labels each
resource supports (with the values an object offers for them). Errors are the ``400 BadRequest`` Status that
kube-apiserver answers with, message for message. Pure: no I/O, no storage, no HTTP.

>>> sel = parse_label_selector("tier in (web,api),env!=prod")
>>> str(sel), sel.matches({"tier": "web"}), sel.matches({"tier": "web", "env": "prod"})
('env!=prod,tier in (api,web)', True, False)
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gitops_lab.sandbox import statuses
from gitops_lab.sandbox.registry import builtin_types

# Operators, spelled as Kubernetes spells them (selection.Operator values).
EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="
IN = "in"
NOT_IN = "notin"
EXISTS = "exists"
DOES_NOT_EXIST = "!"
GREATER_THAN = "gt"
LESS_THAN = "lt"
_BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)

# ---------------------------------------------------------------------------------------------------------------
# Label key and value syntax (qualified names)
# ---------------------------------------------------------------------------------------------------------------

_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_NAME_RE = re.compile(_NAME_FMT)
_NAME_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
             "alphanumeric character")
_VALUE_FMT = f"({_NAME_FMT})?"
_VALUE_RE = re.compile(_VALUE_FMT)
_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
              "and must start and end with an alphanumeric character")
_SUBDOMAIN_FMT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_SUBDOMAIN_RE = re.compile(_SUBDOMAIN_FMT)
_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                  "and must start and end with an alphanumeric character")
_NAME_MAX = 63
_VALUE_MAX = 63
_SUBDOMAIN_MAX = 253


def _regex_error(message: str, fmt: str, *examples: str) -> str:
    """A syntax complaint worded like apimachinery's (examples, then the regular expression)."""
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{fmt}')"


def _byte_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _too_long(limit: int) -> str:
    return f"must be no more than {limit} bytes"


def _subdomain_errors(value: str) -> list[str]:
    errors = []
    if _byte_len(value) > _SUBDOMAIN_MAX:
        errors.append(_too_long(_SUBDOMAIN_MAX))
    if not _SUBDOMAIN_RE.fullmatch(value):
        errors.append(_regex_error(_SUBDOMAIN_MSG, _SUBDOMAIN_FMT, "example.com"))
    return errors


def label_key_errors(key: str) -> list[str]:
    """What is wrong with ``key`` as a label key (a qualified name, optionally ``prefix/``); ``[]`` when valid.

    >>> label_key_errors("app.kubernetes.io/name"), label_key_errors("a/")
    ([], ['name part must be non-empty', "name part must consist of alphanumeric characters, '-', '_' or '.', \
and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used \
for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"])
    """
    parts = key.split("/")
    if len(parts) > 2:
        return ["a valid label key " + _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    errors: list[str] = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend("prefix part " + message for message in _subdomain_errors(prefix))
    if not name:
        errors.append("name part must be non-empty")
    elif _byte_len(name) > _NAME_MAX:
        errors.append("name part " + _too_long(_NAME_MAX))
    if not _NAME_RE.fullmatch(name):
        errors.append("name part " + _regex_error(_NAME_MSG, _NAME_FMT, "MyName", "my.name", "123-abc"))
    return errors


def label_value_errors(value: str) -> list[str]:
    """What is wrong with ``value`` as a label value (empty is fine); ``[]`` when valid."""
    errors = []
    if _byte_len(value) > _VALUE_MAX:
        errors.append(_too_long(_VALUE_MAX))
    if not _VALUE_RE.fullmatch(value):
        errors.append(_regex_error(_VALUE_MSG, _VALUE_FMT, "MyValue", "my_value", "12345"))
    return errors


def go_quote(text: str) -> str:
    """``text`` double-quoted the way Go's ``%q`` does it (one implementation: :func:`statuses.quoted`)."""
    return statuses.quoted(text)


def go_json(value: Any) -> str:
    """Compact JSON as Go's ``encoding/json`` writes it: sorted keys, ``<``, ``>``, ``&`` escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def _bad_value(value: Any) -> str:
    """A rejected value as field errors print it: strings Go-quoted, anything else as JSON."""
    return go_quote(value) if isinstance(value, str) else go_json(value)


def _invalid(path: str, value: Any, detail: str) -> str:
    return f"{path}: Invalid value: {_bad_value(value)}: {detail}"


def _aggregate(messages: Sequence[str]) -> str:
    """Several errors reported at once, as apimachinery's aggregate error prints them (duplicates dropped)."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def _is_int64(text: str) -> bool:
    return bool(re.fullmatch(r"[+-]?[0-9]+", text)) and -(2**63) <= int(text) < 2**63


# ---------------------------------------------------------------------------------------------------------------
# Label selectors
# ---------------------------------------------------------------------------------------------------------------


class SelectorError(ValueError):
    """A selector that cannot be parsed or built; ``str()`` is kube-apiserver's message for it."""


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One term of a label selector: ``key``, an operator and the values it compares against."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this term (a missing key satisfies only ``!=``, ``notin`` and ``!``)."""
        present = self.key in labels
        value = labels.get(self.key, "")
        if self.operator in (IN, EQUALS, DOUBLE_EQUALS):
            return present and value in self.values
        if self.operator in (NOT_IN, NOT_EQUALS):
            return not present or value not in self.values
        if self.operator == EXISTS:
            return present
        if self.operator == DOES_NOT_EXIST:
            return not present
        if self.operator in (GREATER_THAN, LESS_THAN):
            if not present or not _is_int64(value) or len(self.values) != 1 or not _is_int64(self.values[0]):
                return False
            have, bound = int(value), int(self.values[0])
            return have > bound if self.operator == GREATER_THAN else have < bound
        return False

    def __str__(self) -> str:
        if self.operator == EXISTS:
            return self.key
        if self.operator == DOES_NOT_EXIST:
            return "!" + self.key
        values = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if self.operator in (IN, NOT_IN):
            return f"{self.key} {self.operator} ({values})"
        symbol = {GREATER_THAN: ">", LESS_THAN: "<"}.get(self.operator, self.operator)
        return f"{self.key}{symbol}{values}"


def new_requirement(key: str, operator: str, values: Sequence[str] | None) -> Requirement:
    """A validated :class:`Requirement`; raises :class:`SelectorError` with apimachinery's wording otherwise.

    ``values=None`` stands for an absent list (it prints as ``null`` in messages, ``[]`` prints as ``[]``).
    """
    errors = []
    key_problems = label_key_errors(key)
    if key_problems:
        errors.append(_invalid("key", key, "; ".join(key_problems)))
    given = list(values or ())
    if operator in (IN, NOT_IN):
        if not given:
            errors.append(_invalid("values", values, "for 'in', 'notin' operators, values set can't be empty"))
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(given) != 1:
            errors.append(_invalid("values", values, "exact-match compatibility requires one single value"))
    elif operator in (EXISTS, DOES_NOT_EXIST):
        if given:
            errors.append(_invalid("values", values, "values set must be empty for exists and does not exist"))
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(given) != 1:
            errors.append(_invalid("values", values, "for 'Gt', 'Lt' operators, exactly one value is required"))
        errors.extend(_invalid(f"values[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an integer")
                      for i, v in enumerate(given) if not _is_int64(v))
    else:
        supported = ", ".join(go_quote(op) for op in (*_BINARY_OPERATORS, EXISTS, DOES_NOT_EXIST))
        errors.append(f"operator: Unsupported value: {go_quote(operator)}: supported values: {supported}")
    for i, value in enumerate(given):
        problems = label_value_errors(value)
        if problems:
            errors.append(_invalid(f"values[{i}][{key}]", value, "; ".join(problems)))
    if errors:
        raise SelectorError(_aggregate(errors))
    return Requirement(key, operator, tuple(given))


@dataclasses.dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements, kept sorted by key. ``nothing`` marks the selector that matches nothing
    (what an absent ``metav1.LabelSelector`` means); an empty one matches everything."""

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = False

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (matches every object)."""
        return not self.nothing and not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether an object carrying ``labels`` is selected."""
        if self.nothing:
            return False
        present = labels or {}
        return all(requirement.matches(present) for requirement in self.requirements)

    def requires_exact_match(self, key: str) -> str | None:
        """The single value ``key`` must have (``=``, ``==`` or a one-value ``in``), else None."""
        for requirement in self.requirements:
            if requirement.key == key:
                exact = requirement.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(requirement.values) == 1
                return requirement.values[0] if exact else None
        return None

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


def _sorted_by_key(requirements: Iterable[Requirement]) -> tuple[Requirement, ...]:
    return tuple(sorted(requirements, key=lambda requirement: requirement.key))


# --- the label selector string language ------------------------------------------------------------------------

_END = "end of string"
_IDENT = "identifier"
_SYMBOLS = frozenset("=!(),><")
_SPACES = frozenset(" \t\r\n")
_KEYWORDS = {IN: IN, NOT_IN: NOT_IN}


def _lex(text: str) -> list[tuple[str, str]]:
    """Tokens ``(kind, literal)`` of a label selector, ending with the end-of-string token.

    Like apimachinery's lexer, a NUL character reads as the end of input: it ends the token being scanned and,
    where a token would start, ends the selector.
    """
    tokens: list[tuple[str, str]] = []
    pos = 0

    def read() -> str:
        nonlocal pos
        if pos >= len(text):
            return "\0"
        pos += 1
        return text[pos - 1]

    while True:
        char = read()
        while char in _SPACES:
            char = read()
        if char == "\0":
            tokens.append((_END, ""))
            return tokens
        if char in _SYMBOLS:
            pair = char + text[pos:pos + 1]
            if pair in ("==", "!="):
                pos += 1
                char = pair
            tokens.append((char, char))
            if text[pos:pos + 1] == "\0":
                pos += 1  # a NUL right after an operator is swallowed with it
            continue
        word = char
        while True:
            char = read()
            if char == "\0":
                break
            if char in _SYMBOLS or char in _SPACES:
                pos -= 1
                break
            word += char
        tokens.append((_KEYWORDS.get(word, _IDENT), word))


class _LabelParser:
    """Recursive descent over the tokens; ``values`` context reads ``in``/``notin`` as plain identifiers."""

    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.pos = 0

    def peek(self, values: bool = True) -> tuple[str, str]:
        kind, literal = self.tokens[self.pos]
        return (_IDENT if values and kind in _KEYWORDS else kind), literal

    def take(self, values: bool = True) -> tuple[str, str]:
        token = self.peek(values)
        self.pos += 1
        return token

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            kind, literal = self.peek()
            if kind == _END:
                return requirements
            if kind not in (_IDENT, "!"):
                raise SelectorError(f"found '{literal}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.requirement())
            except SelectorError as err:
                raise SelectorError(f"unable to parse requirement: {err}") from None
            kind, literal = self.take()
            if kind == _END:
                return requirements
            if kind != ",":
                raise SelectorError(f"found '{literal}', expected: ',' or 'end of string'")
            kind, literal = self.peek()
            if kind not in (_IDENT, "!"):
                raise SelectorError(f"found '{literal}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        key, operator = self.key_and_implied_operator()
        if operator in (EXISTS, DOES_NOT_EXIST):
            return new_requirement(key, operator, [])
        operator = self.operator()
        values = self.value_set() if operator in (IN, NOT_IN) else self.exact_value()
        return new_requirement(key, operator, sorted(values))

    def key_and_implied_operator(self) -> tuple[str, str]:
        operator = ""
        kind, literal = self.take()
        if kind == "!":
            operator = DOES_NOT_EXIST
            kind, literal = self.take()
        if kind != _IDENT:
            raise SelectorError(f"found '{literal}', expected: identifier")
        problems = label_key_errors(literal)
        if problems:
            raise SelectorError(_invalid("<nil>", literal, "; ".join(problems)))
        if self.peek()[0] in (_END, ",") and not operator:
            operator = EXISTS
        return literal, operator

    def operator(self) -> str:
        kind, literal = self.take(values=False)
        by_token = {IN: IN, NOT_IN: NOT_IN, "=": EQUALS, "==": DOUBLE_EQUALS, "!=": NOT_EQUALS,
                    ">": GREATER_THAN, "<": LESS_THAN}
        if kind not in by_token:
            raise SelectorError(f"found '{literal}', expected: {', '.join(_BINARY_OPERATORS)}")
        return by_token[kind]

    def value_set(self) -> set[str]:
        kind, literal = self.take()
        if kind != "(":
            raise SelectorError(f"found '{literal}' expected: '('")
        kind, literal = self.peek()
        if kind == ")":
            self.take()
            return {""}
        if kind not in (_IDENT, ","):
            raise SelectorError(f"found '{literal}', expected: ',', ')' or identifier")
        values = self.value_list()
        self.take()  # the closing parenthesis value_list stopped at
        return values

    def value_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            kind, literal = self.take()
            if kind == _IDENT:
                values.add(literal)
                after, after_literal = self.peek()
                if after == ")":
                    return values
                if after != ",":
                    raise SelectorError(f"found '{after_literal}', expected: ',' or ')'")
            elif kind == ",":
                if not values:
                    values.add("")
                after = self.peek()[0]
                if after == ")":
                    values.add("")
                    return values
                if after == ",":
                    values.add("")
            else:
                raise SelectorError(f"found '{literal}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        if self.peek()[0] in (_END, ","):
            return {""}
        kind, literal = self.take()
        if kind != _IDENT:
            raise SelectorError(f"found '{literal}', expected: identifier")
        return {literal}


def parse_label_selector(text: str) -> LabelSelector:
    """Parse a ``labelSelector`` query parameter the way kube-apiserver does.

    Supports ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a)``, ``k``, ``!k``, ``k>1``, ``k<1``,
    joined by commas (AND). Raises :class:`statuses.ApiError` 400 BadRequest with kube-apiserver's message.

    >>> str(parse_label_selector("tier=web, !canary"))
    '!canary,tier=web'
    >>> parse_label_selector("app in web")
    Traceback (most recent call last):
    gitops_lab.sandbox.statuses.ApiError: unable to parse requirement: found 'web' expected: '('
    """
    try:
        requirements = _LabelParser(text).parse()
    except SelectorError as err:
        raise statuses.bad_request(str(err)) from None
    return LabelSelector(_sorted_by_key(requirements))


# --- metav1.LabelSelector objects ------------------------------------------------------------------------------

_EXPRESSION_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


def _selector_from_object(sel: Mapping[str, Any] | None) -> LabelSelector:
    if sel is None:
        return LabelSelector(nothing=True)
    match_labels = sel.get("matchLabels") or {}
    expressions = sel.get("matchExpressions") or []
    requirements = [new_requirement(str(key), EQUALS, [str(value)]) for key, value in match_labels.items()]
    for expression in expressions:
        operator = expression.get("operator", "")
        if operator not in _EXPRESSION_OPERATORS:
            raise SelectorError(f"{go_quote(str(operator))} is not a valid label selector operator")
        values = expression.get("values")
        requirements.append(new_requirement(str(expression.get("key", "")), _EXPRESSION_OPERATORS[operator],
                                            None if values is None else [str(v) for v in values]))
    return LabelSelector(_sorted_by_key(requirements))


def from_label_selector_object(sel: Mapping[str, Any] | None) -> LabelSelector:
    """The selector a ``metav1.LabelSelector`` (``matchLabels`` + ``matchExpressions``) stands for.

    ``None`` (no selector at all) selects nothing; ``{}`` selects everything. Raises :class:`statuses.ApiError`
    400 BadRequest with apimachinery's message when a key, value or operator is invalid.

    >>> sel = from_label_selector_object({"matchLabels": {"app": "web"},
    ...     "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]})
    >>> str(sel), sel.matches({"app": "web", "tier": "a"})
    ('app=web,tier in (a,b)', True)
    """
    try:
        return _selector_from_object(sel)
    except SelectorError as err:
        raise statuses.bad_request(str(err)) from None


def selector_string(sel: Mapping[str, Any] | None) -> str:
    """A ``metav1.LabelSelector`` as the API writes it in string fields (``Scale.status.selector``):
    ``"app=web,tier in (a,b)"``; ``""`` for a selector that is empty or absent. Raises like
    :func:`from_label_selector_object`."""
    return str(from_label_selector_object(sel))


def format_label_selector(sel: Mapping[str, Any] | None) -> str:
    """A ``metav1.LabelSelector`` as printed in table cells: ``<none>`` when it says nothing, ``<error>`` when
    it is invalid."""
    try:
        text = str(_selector_from_object(sel))
    except SelectorError:
        return "<error>"
    return text or "<none>"


def format_labels(labels: Mapping[str, str] | None) -> str:
    """A label map as ``k=v`` pairs sorted and comma-joined; ``<none>`` when empty."""
    return ",".join(sorted(f"{key}={value}" for key, value in (labels or {}).items())) or "<none>"


# ---------------------------------------------------------------------------------------------------------------
# Field selectors
# ---------------------------------------------------------------------------------------------------------------

_META_FIELDS = frozenset({"metadata.name", "metadata.namespace"})
_FIELD_LABELS: dict[str, frozenset[str]] = {
    "pods": _META_FIELDS | {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                            "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
                            "status.podIPs", "status.nominatedNodeName"},
    "nodes": frozenset({"metadata.name", "spec.unschedulable"}),
    "namespaces": frozenset({"metadata.name", "status.phase"}),
    "secrets": _META_FIELDS | {"type"},
    "services": _META_FIELDS | {"spec.clusterIP", "spec.type"},
    "events": _META_FIELDS | {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                              "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                              "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"},
}
_FIELD_RENAMES = {("pods", "spec.host"): "spec.nodeName"}


@dataclasses.dataclass(frozen=True)
class FieldTerm:
    """``field=value`` (or ``field!=value`` when ``negated``); a missing field reads as ``""``."""

    field: str
    value: str
    negated: bool = False

    def matches(self, fields: Mapping[str, str]) -> bool:
        return (fields.get(self.field, "") == self.value) != self.negated

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
        return f"{self.field}{'!=' if self.negated else '='}{escaped}"


@dataclasses.dataclass(frozen=True)
class FieldSelector:
    """A conjunction of field terms for one resource; knows how to read that resource's selectable fields."""

    terms: tuple[FieldTerm, ...] = ()
    resource_key: str = ""
    custom_fields: tuple[str, ...] = ()
    """Selectable field paths a custom resource's CRD declares (``.spec.color``)."""

    @property
    def empty(self) -> bool:
        return not self.terms

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj`` (a stored object of :attr:`resource_key`) is selected."""
        if not self.terms:
            return True
        return self.matches_fields(selectable_fields(self.resource_key, obj, custom_fields=self.custom_fields))

    def matches_fields(self, fields: Mapping[str, str]) -> bool:
        return all(term.matches(fields) for term in self.terms)

    def requires_exact_match(self, field: str) -> str | None:
        """The value ``field`` must equal for an object to be selected, if a ``field=value`` term says so."""
        for term in self.terms:
            if term.field == field and not term.negated:
                return term.value
        return None

    def __str__(self) -> str:
        return ",".join(str(term) for term in self.terms)


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, start, escaped = [], 0, False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for operator in ("!=", "==", "="):
            if term.startswith(operator, i):
                return term[:i], operator, term[i + len(operator):]
    return None


def _unescape(value: str) -> str:
    out, escaped = [], False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(char)}")
        else:
            out.append(char)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _parse_terms(text: str) -> list[FieldTerm]:
    terms = []
    for part in sorted(_split_unescaped(text, ",")) if text else []:
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        field, operator, value = split
        terms.append(FieldTerm(field, _unescape(value), negated=operator == "!="))
    return terms


def supported_field_labels(resource_key: str, *, namespaced: bool = True,
                           custom_fields: Sequence[str] = ()) -> frozenset[str]:
    """The field labels a resource accepts in ``fieldSelector`` (custom resources: ``namespaced`` and the
    CRD's selectable field paths count)."""
    if resource_key in _FIELD_LABELS:
        return _FIELD_LABELS[resource_key]
    if resource_key in builtin_types():
        return _META_FIELDS
    labels = {"metadata.name", *(path.removeprefix(".") for path in custom_fields)}
    return frozenset(labels | ({"metadata.namespace"} if namespaced else set()))


def _convert_label(resource_key: str, label: str, supported: frozenset[str]) -> str:
    label = _FIELD_RENAMES.get((resource_key, label), label)
    if label in supported:
        return label
    if resource_key not in _FIELD_LABELS and resource_key in builtin_types():
        raise SelectorError(f'{go_quote(label)} is not a known field selector: only "metadata.name", '
                            '"metadata.namespace"')
    raise SelectorError(f"field label not supported: {label}")


def parse_field_selector(text: str, resource_key: str, *, namespaced: bool = True,
                         custom_fields: Sequence[str] = ()) -> FieldSelector:
    """Parse a ``fieldSelector`` query parameter for ``resource_key`` (``ResourceType.key``).

    Terms are ``field=value``, ``field==value`` or ``field!=value`` joined by commas; ``\\``, ``,`` and ``=`` in
    values are escaped with a backslash. Which fields are allowed depends on the resource (``metadata.name`` and,
    for namespaced ones, ``metadata.namespace`` everywhere). For a custom resource pass ``namespaced`` and the
    CRD version's ``selectableFields`` JSON paths. Raises :class:`statuses.ApiError` 400 BadRequest worded like
    kube-apiserver.

    >>> sel = parse_field_selector("status.phase=Running,spec.nodeName!=", "pods")
    >>> str(sel), sel.matches({"spec": {"nodeName": "n1"}, "status": {"phase": "Running"}})
    ('spec.nodeName!=,status.phase=Running', True)
    >>> parse_field_selector("spec.replicas=1", "apps/deployments")
    Traceback (most recent call last):
    gitops_lab.sandbox.statuses.ApiError: "spec.replicas" is not a known field selector: only "metadata.name", \
"metadata.namespace"
    """
    supported = supported_field_labels(resource_key, namespaced=namespaced, custom_fields=custom_fields)
    try:
        terms = [dataclasses.replace(term, field=_convert_label(resource_key, term.field, supported))
                 for term in _parse_terms(text)]
    except SelectorError as err:
        raise statuses.bad_request(str(err)) from None
    return FieldSelector(tuple(terms), resource_key, tuple(custom_fields))


def single_name(selector: FieldSelector) -> str | None:
    """The name a selector pins, when it is exactly ``metadata.name=<name>``; else None."""
    if len(selector.terms) == 1:
        term = selector.terms[0]
        if term.field == "metadata.name" and not term.negated:
            return term.value
    return None


# --- the values objects offer for field labels -----------------------------------------------------------------


def _at(obj: Mapping[str, Any], *path: str) -> Any:
    node: Any = obj
    for step in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(step)
    return node


def _text(value: Any) -> str:
    """A field value as Go's ``fmt.Sprint`` writes it (absent reads as ``""``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _pod_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    pod_ips = _at(obj, "status", "podIPs") or []
    first_ip = pod_ips[0].get("ip", "") if pod_ips and isinstance(pod_ips[0], Mapping) else ""
    pod_ip = _text(_at(obj, "status", "podIP")) or _text(first_ip)  # podIP wins when both are set
    return {
        "spec.nodeName": _text(_at(obj, "spec", "nodeName")),
        "spec.restartPolicy": _text(_at(obj, "spec", "restartPolicy")),
        "spec.schedulerName": _text(_at(obj, "spec", "schedulerName")),
        "spec.serviceAccountName": _text(_at(obj, "spec", "serviceAccountName")),
        "spec.hostNetwork": _text(bool(_at(obj, "spec", "hostNetwork"))),
        "status.phase": _text(_at(obj, "status", "phase")),
        "status.podIP": pod_ip,
        "status.nominatedNodeName": _text(_at(obj, "status", "nominatedNodeName")),
    }


def _event_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    involved = obj.get("involvedObject") or {}
    fields = {f"involvedObject.{name}": _text(involved.get(name))
              for name in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")}
    fields.update({
        "reason": _text(obj.get("reason")),
        "reportingComponent": _text(obj.get("reportingComponent")),
        "source": _text(_at(obj, "source", "component")) or _text(obj.get("reportingComponent")),
        "type": _text(obj.get("type")),
    })
    return fields


def _custom_field_value(obj: Mapping[str, Any], path: str) -> str:
    steps = [step for step in re.split(r"\.|\['([^']*)'\]|\[\"([^\"]*)\"\]", path) if step]
    return _text(_at(obj, *steps))


def selectable_fields(resource_key: str, obj: Mapping[str, Any], *,
                      custom_fields: Sequence[str] = ()) -> dict[str, str]:
    """The field set ``obj`` offers to field selectors: metadata plus the resource's own selectable fields."""
    meta = obj.get("metadata") or {}
    fields = {"metadata.name": _text(meta.get("name")), "metadata.namespace": _text(meta.get("namespace"))}
    if resource_key == "pods":
        fields.update(_pod_fields(obj))
    elif resource_key == "events":
        fields.update(_event_fields(obj))
    elif resource_key == "nodes":
        fields["spec.unschedulable"] = _text(bool(_at(obj, "spec", "unschedulable")))
    elif resource_key == "namespaces":
        fields["status.phase"] = _text(_at(obj, "status", "phase"))
    elif resource_key == "secrets":
        fields["type"] = _text(obj.get("type"))
    elif resource_key == "services":
        fields["spec.clusterIP"] = _text(_at(obj, "spec", "clusterIP"))
        fields["spec.type"] = _text(_at(obj, "spec", "type"))
    for path in custom_fields:
        fields[path.removeprefix(".")] = _custom_field_value(obj, path)
    return fields
