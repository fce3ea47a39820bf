"""Validation of writes the way kube-apiserver v1.37 validates them, with its wording and field paths.

Owns :func:`validate` (the 422 ``details.causes`` for the built-in kinds the sandbox serves,
CustomResourceDefinitions and custom resources, on create and on update), :func:`type_errors` (the JSON
decoding failures kube-apiserver answers with 400 BadRequest for built-in kinds), :func:`unknown_fields` (what
strict field validation reports) and :func:`prune_unknown` (what ``fieldValidation=Ignore`` and CRD pruning
drop). Objects are expected defaulted (:mod:`defaults`) the way kube-apiserver defaults before it validates.

Pure: no I/O, no storage, no HTTP. Callers wrap causes with :func:`statuses.invalid` and decoding errors with
:func:`statuses.bad_request`. Kube-apiserver renders a bad value as Go does: strings quoted (``%q``), numbers
and booleans bare, anything else as JSON; :func:`render` does the same.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from gitops_lab.sandbox import statuses
from gitops_lab.sandbox.defaults import QUANTITY_FORMAT_ERROR, canonical_quantity, parse_quantity
from gitops_lab.sandbox.registry import ResourceType
from gitops_lab.sandbox.schemas import REF_PREFIX, Schema, definitions, for_type

JSONDict = dict[str, Any]
Cause = dict[str, str]

MAX_INT32 = 2**31 - 1
MIN_INT32 = -(2**31)
MAX_INT64 = 2**63 - 1
MIN_INT64 = -(2**63)
TOTAL_ANNOTATION_SIZE = 256 * 1024
MAX_SECRET_SIZE = 1024 * 1024
FIELD_IMMUTABLE = "field is immutable"
IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set"
NEGATIVE = "must be greater than or equal to 0"
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})
UPDATABLE_POD_FIELDS = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)


# --- how Go shows a bad value -------------------------------------------------------------------------------

def go_quote(text: str) -> str:
    """A string as Go's ``%q`` writes it (one implementation: :func:`statuses.quoted`).

    >>> go_quote('say "hi"\\n')
    '"say \\\\"hi\\\\"\\\\n"'
    """
    return statuses.quoted(text)


def go_float(value: float) -> str:
    """A float64 as Go's ``%v`` writes it (``1e+06``, ``0.5``, ``3``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    point = len(text) + int(exponent)
    prefix = "-" if sign else ""
    if point - 1 < -4 or point - 1 >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        power = point - 1
        return f"{prefix}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return prefix + text + "0" * (point - len(text))
    return f"{prefix}{text[:point]}.{text[point:]}"


def go_json(value: Any) -> str:
    """Compact JSON with Go's HTML-safe escaping."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text


def render(value: Any) -> str:
    """A bad value as kube-apiserver puts it in a cause message.

    >>> render("web"), render(-1), render(True), render({"app": "web"}), render(None)
    ('"web"', '-1', 'true', '{"app":"web"}', 'null')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    return go_json(value)


def _go_map(value: Any) -> Any:
    """A map as Go marshals it: keys sorted (null when absent)."""
    return {k: value[k] for k in sorted(value)} if isinstance(value, dict) else value


# --- causes -------------------------------------------------------------------------------------------------


def _with_detail(message: str, detail: str) -> str:
    return f"{message}: {detail}" if detail else message


def required(path: str, detail: str = "") -> Cause:
    """``Required value`` (field.Required)."""
    return statuses.cause("FieldValueRequired", _with_detail("Required value", detail), path)


def invalid(path: str, value: Any, detail: str = "") -> Cause:
    """``Invalid value: <value>: <detail>`` (field.Invalid).

    >>> invalid("spec.replicas", -1, "must be greater than or equal to 0")["message"]
    'Invalid value: -1: must be greater than or equal to 0'
    """
    return statuses.cause("FieldValueInvalid", _with_detail(f"Invalid value: {render(value)}", detail), path)


def type_invalid(path: str, value: Any, detail: str = "") -> Cause:
    """Worded like :func:`invalid`, reason ``FieldValueTypeInvalid`` (field.TypeInvalid)."""
    return statuses.cause(
        "FieldValueTypeInvalid", _with_detail(f"Invalid value: {render(value)}", detail), path
    )


def not_supported(path: str, value: Any, valid: Sequence[str]) -> Cause:
    """``Unsupported value: <value>: supported values: "a", "b"`` (field.NotSupported)."""
    detail = "supported values: " + ", ".join(go_quote(str(v)) for v in valid) if valid else ""
    return statuses.cause(
        "FieldValueNotSupported", _with_detail(f"Unsupported value: {render(value)}", detail), path
    )


def forbidden(path: str, detail: str = "") -> Cause:
    """``Forbidden: <detail>`` (field.Forbidden)."""
    return statuses.cause("FieldValueForbidden", _with_detail("Forbidden", detail), path)


def duplicate(path: str, value: Any) -> Cause:
    """``Duplicate value: <value>`` (field.Duplicate)."""
    return statuses.cause("FieldValueDuplicate", f"Duplicate value: {render(value)}", path)


def not_found(path: str, value: Any, detail: str = "") -> Cause:
    """``Not found: <value>`` (field.NotFound)."""
    return statuses.cause("FieldValueNotFound", _with_detail(f"Not found: {render(value)}", detail), path)


def too_long(path: str, max_length: int) -> Cause:
    """``Too long: may not be more than <n> bytes`` (field.TooLong)."""
    unit = "byte" if max_length == 1 else "bytes"
    return statuses.cause("FieldValueTooLong", f"Too long: may not be more than {max_length} {unit}", path)


def too_many(path: str, actual: int, maximum: int) -> Cause:
    """``Too many: <actual>: must have at most <n> items`` (field.TooMany)."""
    unit = "item" if maximum == 1 else "items"
    return statuses.cause(
        "FieldValueTooMany", f"Too many: {actual}: must have at most {maximum} {unit}", path
    )


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# --- syntax of names and values -----------------------------------------------------------------------------


def _regex_error(message: str, pattern: str, *examples: str) -> str:
    if not examples:
        return f"{message} (regex used for validation is '{pattern}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{pattern}')"


def _max_len(length: int, unit: str = "characters") -> str:
    return f"must be no more than {length} {unit}"


_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT = _LABEL_FMT + r"(\." + _LABEL_FMT + ")*"
_DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QUALIFIED_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = "(" + _QUALIFIED_FMT + ")?"
_CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_PERCENT_FMT = "[0-9]+%"


def _full(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


def _format_errors(value: str, limit: int, pattern: str, message: str, *examples: str,
                   unit: str = "characters") -> list[str]:
    """The apiserver's two complaints about a formatted value: too long, and not matching its pattern."""
    errs = [_max_len(limit, unit)] if len(value) > limit else []
    if not _full(pattern, value):
        errs.append(_regex_error(message, pattern, *examples))
    return errs


def dns1123_label(value: str) -> list[str]:
    """Messages for a value that is not a lowercase RFC 1123 label (empty list when valid)."""
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _full(_LABEL_FMT, value):
        if _full(_SUBDOMAIN_FMT, value):
            errs.append("must not contain dots")
        else:
            errs.append(
                _regex_error(
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                    "or '-', and must start and end with an alphanumeric character",
                    _LABEL_FMT,
                    "my-name",
                    "123-abc",
                )
            )
    return errs


def dns1123_subdomain(value: str) -> list[str]:
    """Messages for a value that is not a lowercase RFC 1123 subdomain.

    >>> dns1123_subdomain("Web")[0][:52]
    'a lowercase RFC 1123 subdomain must consist of lower'
    """
    return _format_errors(value, 253, _SUBDOMAIN_FMT,
                          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                          "'-' or '.', and must start and end with an alphanumeric character", "example.com")


def dns1035_label(value: str) -> list[str]:
    """Messages for a value that is not a DNS-1035 label (Service names, CRD names and versions)."""
    return _format_errors(value, 63, _DNS1035_FMT,
                          "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
                          "with an alphabetic character, and end with an alphanumeric character",
                          "my-name", "abc-123")


_QUALIFIED_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)


def qualified_name(value: str) -> list[str]:
    """Messages for an invalid label key, annotation key or other qualified name (``prefix/name``)."""
    parts = value.split("/")
    errs: list[str] = []
    if len(parts) > 2:
        return [
            "a valid label key "
            + _regex_error(_QUALIFIED_MSG, _QUALIFIED_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend(
                "prefix part " + m.replace("characters", "bytes", 1)
                if m.startswith("must be no more")
                else "prefix part " + m
                for m in dns1123_subdomain(prefix)
            )
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + _max_len(63, "bytes"))
    if not _full(_QUALIFIED_FMT, name):
        errs.append(
            "name part " + _regex_error(_QUALIFIED_MSG, _QUALIFIED_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def label_value(value: str) -> list[str]:
    """Messages for an invalid label value (empty is valid)."""
    return _format_errors(value, 63, _LABEL_VALUE_FMT,
                          "a valid label must be an empty string or consist of alphanumeric characters, "
                          "'-', '_' or '.', and must start and end with an alphanumeric character",
                          "MyValue", "my_value", "12345", unit="bytes")


def config_map_key(value: str) -> list[str]:
    """Messages for an invalid ConfigMap or Secret key.

    >>> config_map_key("a b")[0][:69]
    "a valid config key must consist of alphanumeric characters, '-', '_' "
    """
    errs = _format_errors(value, 253, _CONFIG_KEY_FMT,
                          "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                          "key.name", "KEY_NAME", "key-name")
    if value == ".":
        errs.append("must not be '.'")
    elif value == "..":
        errs.append("must not be '..'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def port_number(port: int) -> list[str]:
    """Messages for a port outside 1-65535."""
    return [] if 1 <= port <= 65535 else ["must be between 1 and 65535, inclusive"]


def port_name(name: str) -> list[str]:
    """Messages for an invalid IANA service (port) name."""
    errs = [_max_len(15)] if len(name) > 15 else []
    if not _full("[-a-z0-9]+", name):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", name):
        errs.append("must contain at least one letter (a-z)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def _percent(value: str) -> list[str]:
    return (
        []
        if _full(_PERCENT_FMT, value)
        else [
            _regex_error(
                "a valid percent string must be a numeric string followed by an ending '%'",
                _PERCENT_FMT,
                "1%",
                "93%",
            )
        ]
    )


def _env_var_name(value: str) -> list[str]:
    errs = ["environment variable name must be non-empty"] if not value else []
    if any(ord(c) > 127 or not c.isprintable() or c == "=" for c in value):
        errs.append(
            "a valid environment variable name must consist only of printable ASCII characters other than '='"
        )
    return errs


def _path_segment(name: str) -> list[str]:
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def _ip(path: str, value: str) -> list[Cause]:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        if re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,3}){3}", value) and all(
            int(p) < 256 for p in value.split(".")
        ):
            return [invalid(path, value, "must not have leading 0s")]
        return [invalid(path, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return [invalid(path, value, "must not be an IPv4-mapped IPv6 address")]
    if str(address) != value:
        return [invalid(path, value, f"must be in canonical form ({go_quote(str(address))})")]
    return []


def _non_special_ip(path: str, value: str) -> list[Cause]:
    """Addresses Endpoints and external IPs may not use: unspecified, loopback, link-local."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,3}){3}", value):
            return [invalid(path, value, "must be a valid IP address")]
        address = ipaddress.ip_address(".".join(str(int(p)) for p in value.split(".")))
    errs = []
    if address.is_unspecified:
        errs.append(invalid(path, value, f"may not be unspecified ({value})"))
    if address.is_loopback:
        errs.append(invalid(path, value, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if address.is_link_local and not address.is_multicast:
        errs.append(invalid(path, value, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
    if address in ipaddress.ip_network("224.0.0.0/24") or address in ipaddress.ip_network("ff02::/16"):
        errs.append(
            invalid(path, value, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")
        )
    return errs


NameCheck = Callable[[str], list[str]]


def _prefix_masked(check: NameCheck) -> NameCheck:
    """The same check for a ``generateName`` prefix, where a trailing dash is allowed."""

    def masked(name: str) -> list[str]:
        return check(name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name)

    return masked


# --- tolerant accessors -------------------------------------------------------------------------------------


def _dict(value: Any) -> JSONDict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _strings(value: Any) -> set[str]:
    return {item for item in _list(value) if isinstance(item, str)}


def _str_map(value: Any) -> dict[str, str]:
    return {k: v for k, v in _dict(value).items() if isinstance(v, str)}


def _nonnegative(path: str, value: Any) -> list[Cause]:
    number = _int(value)
    return [invalid(path, number, NEGATIVE)] if number is not None and number < 0 else []


def _semantic(value: Any) -> Any:
    """Comparable form treating empty and missing the same, as Go's semantic DeepEqual does."""
    if isinstance(value, dict):
        cleaned = {k: _semantic(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, {}, [], "", False, 0)}
    if isinstance(value, list):
        return [_semantic(v) for v in value]
    return value


# --- object metadata ----------------------------------------------------------------------------------------


def _labels(path: str, labels: Any) -> list[Cause]:
    errs: list[Cause] = []
    for key, value in _dict(labels).items():
        errs.extend(invalid(path, key, m) for m in qualified_name(key))
        if isinstance(value, str):
            errs.extend(invalid(path, value, m) for m in label_value(value))
    return errs


def _annotations(path: str, annotations: Any) -> list[Cause]:
    values = _dict(annotations)
    errs = [invalid(path, key, m) for key in values for m in qualified_name(key.lower())]
    size = sum(len(k) + len(v) for k, v in values.items() if isinstance(v, str))
    if size > TOTAL_ANNOTATION_SIZE:
        errs.append(too_long(path, TOTAL_ANNOTATION_SIZE))
    return errs


def _owner_references(path: str, refs: Any) -> list[Cause]:
    errs: list[Cause] = []
    controller = ""
    for index, ref in enumerate(_list(refs)):
        ref = _dict(ref)
        item = f"{path}[{index}]"
        api_version = _str(ref.get("apiVersion"))
        if not api_version:
            errs.append(required(f"{item}.apiVersion", "must not be empty"))
        elif api_version.count("/") > 1 or api_version.endswith("/"):
            errs.append(invalid(f"{item}.apiVersion", api_version, "must be <group>/<version> or <version>"))
        for name in ("kind", "name", "uid"):
            if not _str(ref.get(name)):
                errs.append(required(f"{item}.{name}", "must not be empty"))
        if api_version == "v1" and ref.get("kind") == "Event":
            errs.append(invalid(item, ref, "/v1, Kind=Event is disallowed from being an owner"))
        if ref.get("controller") is True:
            current = f"{ref.get('kind')}/{ref.get('name')}"
            if controller:
                errs.append(
                    invalid(
                        path,
                        refs,
                        "Only one reference can have Controller set to true. Found "
                        f'"true" in references for {controller} and {current}',
                    )
                )
            else:
                controller = current
    return errs


def _finalizers(path: str, finalizers: Any, kube: bool) -> list[Cause]:
    names = [f for f in _list(finalizers) if isinstance(f, str)]
    errs = [invalid(path, name, m) for name in names for m in qualified_name(name)]
    if "orphan" in names and "foregroundDeletion" in names:
        errs.append(invalid(path, names, "finalizer orphan and foregroundDeletion cannot be both set"))
    if kube:
        errs.extend(
            invalid(
                f"{path}[{i}]", name, "name is neither a standard finalizer name nor is it fully qualified"
            )
            for i, name in enumerate(names)
            if "/" not in name and name not in STANDARD_FINALIZERS
        )
    return errs


def validate_object_meta(
    meta: Any,
    *,
    namespaced: bool,
    name_check: NameCheck | None,
    kube_finalizers: bool = False,
    path: str = "metadata",
) -> list[Cause]:
    """ObjectMeta checks for a create: name (or generateName) syntax, namespace presence, labels, annotations,
    owner references, finalizers.

    >>> validate_object_meta({"name": "Web"}, namespaced=False, name_check=dns1123_label)[0]["field"]
    'metadata.name'
    """
    meta = _dict(meta)
    errs: list[Cause] = []
    name, generate_name = _str(meta.get("name")), _str(meta.get("generateName"))
    if name_check is not None and generate_name:
        errs.extend(
            invalid(f"{path}.generateName", generate_name, m)
            for m in _prefix_masked(name_check)(generate_name)
        )
    if not name:
        errs.append(required(f"{path}.name", "name or generateName is required"))
    elif name_check is not None:
        errs.extend(invalid(f"{path}.name", name, m) for m in name_check(name))
    namespace = _str(meta.get("namespace"))
    if namespaced and not namespace:
        errs.append(required(f"{path}.namespace"))
    elif namespaced:
        errs.extend(invalid(f"{path}.namespace", namespace, m) for m in dns1123_label(namespace))
    elif namespace:
        errs.append(forbidden(f"{path}.namespace", "not allowed on this type"))
    errs.extend(_nonnegative(f"{path}.generation", meta.get("generation")))
    errs.extend(_labels(f"{path}.labels", meta.get("labels")))
    errs.extend(_annotations(f"{path}.annotations", meta.get("annotations")))
    errs.extend(_owner_references(f"{path}.ownerReferences", meta.get("ownerReferences")))
    errs.extend(_finalizers(f"{path}.finalizers", meta.get("finalizers"), kube_finalizers))
    return errs


def validate_object_meta_update(new: Any, old: Any, path: str = "metadata") -> list[Cause]:
    """ObjectMeta checks for an update: identity fields immutable, no new finalizers while deleting, a
    resourceVersion present (callers fill it in for unconditional updates, as kube-apiserver does)."""
    new, old = _dict(new), _dict(old)
    errs: list[Cause] = []
    if old.get("deletionTimestamp"):
        added = sorted(_strings(new.get("finalizers")) - _strings(old.get("finalizers")))
        if added:
            shown = ", ".join(go_quote(str(f)) for f in added)
            errs.append(
                forbidden(
                    f"{path}.finalizers",
                    "no new finalizers can be added if the object is being "
                    f"deleted, found new finalizers []string{{{shown}}}",
                )
            )
    if not _str(new.get("resourceVersion")):
        errs.append(
            invalid(
                f"{path}.resourceVersion", _str(new.get("resourceVersion")), "must be specified for an update"
            )
        )
    errs.extend(_nonnegative(f"{path}.generation", new.get("generation")))
    for name in ("name", "namespace"):
        if _str(new.get(name)) != _str(old.get(name)):
            errs.append(invalid(f"{path}.{name}", _str(new.get(name)), FIELD_IMMUTABLE))
    if new.get("uid") and old.get("uid") and new["uid"] != old["uid"]:
        errs.append(invalid(f"{path}.uid", new["uid"], FIELD_IMMUTABLE))
    errs.extend(_labels(f"{path}.labels", new.get("labels")))
    errs.extend(_annotations(f"{path}.annotations", new.get("annotations")))
    errs.extend(_owner_references(f"{path}.ownerReferences", new.get("ownerReferences")))
    return errs


# --- label selectors ----------------------------------------------------------------------------------------

_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def _selector_requirement(path: str, req: JSONDict) -> list[Cause]:
    errs: list[Cause] = []
    operator, values = req.get("operator"), _list(req.get("values"))
    if operator in ("In", "NotIn") and not values:
        errs.append(required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
    elif operator in ("Exists", "DoesNotExist") and values:
        errs.append(
            forbidden(f"{path}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        )
    elif operator not in _OPERATORS:
        errs.append(
            invalid(
                f"{path}.operator", operator if operator is not None else "", "not a valid selector operator"
            )
        )
    key = _str(req.get("key"))
    errs.extend(invalid(f"{path}.key", key, m) for m in qualified_name(key))
    for index, value in enumerate(values):
        if isinstance(value, str):
            errs.extend(invalid(f"{path}.values[{index}]", value, m) for m in label_value(value))
    return errs


def validate_label_selector(path: str, selector: Any) -> list[Cause]:
    """Syntax of a LabelSelector's matchLabels and matchExpressions."""
    selector = _dict(selector)
    errs = _labels(f"{path}.matchLabels", selector.get("matchLabels"))
    for index, req in enumerate(_list(selector.get("matchExpressions"))):
        errs.extend(_selector_requirement(f"{path}.matchExpressions[{index}]", _dict(req)))
    return errs


def _selector_value(selector: Any) -> JSONDict:
    """A LabelSelector as kube-apiserver prints it (matchLabels sorted, empty parts left out)."""
    selector = _dict(selector)
    shown: JSONDict = {}
    if selector.get("matchLabels"):
        shown["matchLabels"] = _go_map(selector["matchLabels"])
    expressions = []
    for req in _list(selector.get("matchExpressions")):
        req = _dict(req)
        item = {"key": req.get("key", ""), "operator": req.get("operator", "")}
        if req.get("values"):
            item["values"] = req["values"]
        expressions.append(item)
    if expressions:
        shown["matchExpressions"] = expressions
    return shown


def _selector_parses(selector: JSONDict) -> bool:
    for key, value in _dict(selector.get("matchLabels")).items():
        if qualified_name(key) or not isinstance(value, str) or label_value(value):
            return False
    for req in _list(selector.get("matchExpressions")):
        req = _dict(req)
        operator, values = req.get("operator"), _list(req.get("values"))
        if operator not in _OPERATORS or qualified_name(_str(req.get("key"))):
            return False
        if (operator in ("In", "NotIn")) != bool(values):
            return False
        if any(not isinstance(v, str) or label_value(v) for v in values):
            return False
    return True


def selector_matches(selector: JSONDict, labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` satisfy a LabelSelector (which must parse)."""
    if any(labels.get(k) != v for k, v in _dict(selector.get("matchLabels")).items()):
        return False
    for req in _list(selector.get("matchExpressions")):
        req = _dict(req)
        key, operator, values = _str(req.get("key")), req.get("operator"), _list(req.get("values"))
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if (operator == "Exists") != present and operator in ("Exists", "DoesNotExist"):
            return False
    return True


# --- quantities ---------------------------------------------------------------------------------------------

_STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})


def _quantity(value: Any) -> Decimal | None:
    try:
        return parse_quantity(value).value
    except (ValueError, InvalidOperation):
        return None


def _shown_quantity(value: Any) -> str:
    return canonical_quantity(value) or str(value)


def _overcommit_allowed(name: str) -> bool:
    native = "/" not in name or name.startswith("kubernetes.io/")
    return native and not name.startswith("hugepages-")


def _resource_name(path: str, name: str) -> list[Cause]:
    errs = [invalid(path, name, m) for m in qualified_name(name)]
    if errs:
        return errs
    if "/" not in name and name not in _STANDARD_CONTAINER_RESOURCES and not name.startswith("hugepages-"):
        return [invalid(path, name, "must be a standard resource for containers")]
    return []


def _resources(path: str, resources: Any) -> list[Cause]:
    resources = _dict(resources)
    limits, requests = _dict(resources.get("limits")), _dict(resources.get("requests"))
    errs: list[Cause] = []
    for name, value in limits.items():
        key = f"{path}.limits[{name}]"
        errs.extend(_resource_name(key, name))
        amount = _quantity(value)
        if amount is not None and amount < 0:
            errs.append(invalid(key, _shown_quantity(value), NEGATIVE))
    for name, value in requests.items():
        key = f"{path}.requests[{name}]"
        errs.extend(_resource_name(key, name))
        amount = _quantity(value)
        if amount is not None and amount < 0:
            errs.append(invalid(key, _shown_quantity(value), NEGATIVE))
        limit = _quantity(limits.get(name)) if name in limits else None
        if amount is not None and limit is not None:
            if amount != limit and not _overcommit_allowed(name):
                errs.append(
                    invalid(
                        f"{path}.requests",
                        _shown_quantity(value),
                        f"must be equal to {name} limit of {_shown_quantity(limits[name])}",
                    )
                )
            elif amount > limit:
                errs.append(
                    invalid(
                        f"{path}.requests",
                        _shown_quantity(value),
                        f"must be less than or equal to {name} limit of {_shown_quantity(limits[name])}",
                    )
                )
        elif name not in limits and not _overcommit_allowed(name):
            errs.append(required(f"{path}.limits", "Limit must be set for non overcommitable resources"))
    return errs


# --- pod specs ----------------------------------------------------------------------------------------------

_VOLUME_SOURCES = (
    ("emptyDir", "emptyDir"),
    ("hostPath", "hostPath"),
    ("gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk"),
    ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret"),
    ("nfs", "nfs"),
    ("iscsi", "iscsi"),
    ("glusterfs", "glusterfs"),
    ("flocker", "flocker"),
    ("persistentVolumeClaim", "persistentVolumeClaim"),
    ("rbd", "rbd"),
    ("cinder", "cinder"),
    ("cephfs", "cephFS"),
    ("quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI"),
    ("fc", "fc"),
    ("flexVolume", "flexVolume"),
    ("configMap", "configMap"),
    ("azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk"),
    ("portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk"),
    ("storageos", "storageos"),
    ("projected", "projected"),
    ("scaleIO", "scaleIO"),
    ("csi", "csi"),
    ("ephemeral", "ephemeral"),
    ("image", "image"),
)
_FILE_MODE_MSG = "must be a number between 0 and 0777 (octal), both inclusive"


def _file_mode(path: str, mode: Any) -> list[Cause]:
    value = _int(mode)
    return [invalid(path, value, _FILE_MODE_MSG)] if value is not None and not 0 <= value <= 0o777 else []


def _key_to_paths(path: str, items: Any) -> list[Cause]:
    errs: list[Cause] = []
    for index, item in enumerate(_list(items)):
        item = _dict(item)
        here = f"{path}[{index}]"
        if not _str(item.get("key")):
            errs.append(required(f"{here}.key"))
        if not _str(item.get("path")):
            errs.append(required(f"{here}.path"))
        errs.extend(_file_mode(f"{here}.mode", item.get("mode")))
    return errs


def _volume_source(path: str, name: str, source: JSONDict) -> list[Cause]:
    errs: list[Cause] = []
    if name == "hostPath" and not _str(source.get("path")):
        errs.append(required(f"{path}.path"))
    elif name == "secret":
        if not _str(source.get("secretName")):
            errs.append(required(f"{path}.secretName"))
        errs.extend(_file_mode(f"{path}.defaultMode", source.get("defaultMode")))
        errs.extend(_key_to_paths(f"{path}.items", source.get("items")))
    elif name == "configMap":
        if not _str(source.get("name")):
            errs.append(required(f"{path}.name"))
        errs.extend(_file_mode(f"{path}.defaultMode", source.get("defaultMode")))
        errs.extend(_key_to_paths(f"{path}.items", source.get("items")))
    elif name == "persistentVolumeClaim" and not _str(source.get("claimName")):
        errs.append(required(f"{path}.claimName"))
    elif name == "nfs":
        if not _str(source.get("server")):
            errs.append(required(f"{path}.server"))
        nfs_path = _str(source.get("path"))
        if not nfs_path:
            errs.append(required(f"{path}.path"))
        if not nfs_path.startswith("/"):
            errs.append(invalid(f"{path}.path", nfs_path, "must be an absolute path"))
    elif name in ("downwardAPI", "projected"):
        errs.extend(_file_mode(f"{path}.defaultMode", source.get("defaultMode")))
    return errs


def _volumes(path: str, volumes: Any) -> tuple[set[str], list[Cause]]:
    names: set[str] = set()
    errs: list[Cause] = []
    for index, volume in enumerate(_list(volumes)):
        volume = _dict(volume)
        here = f"{path}[{index}]"
        found: list[Cause] = []
        count = 0
        for key, shown in _VOLUME_SOURCES:
            if volume.get(key) is None:
                continue
            if count:
                found.append(forbidden(f"{here}.{shown}", "may not specify more than 1 volume type"))
                continue
            count += 1
            found.extend(_volume_source(f"{here}.{key}", key, _dict(volume[key])))
        if not count:
            found.append(required(here, "must specify a volume type"))
        name = _str(volume.get("name"))
        if not name:
            found.append(required(f"{here}.name"))
        else:
            found.extend(invalid(f"{here}.name", name, m) for m in dns1123_label(name))
        if name in names:
            found.append(duplicate(f"{here}.name", name))
        if found:
            errs.extend(found)
        else:
            names.add(name)
    return names, errs


def _container_ports(path: str, ports: Any) -> list[Cause]:
    errs: list[Cause] = []
    names: set[str] = set()
    for index, port in enumerate(_list(ports)):
        port = _dict(port)
        here = f"{path}[{index}]"
        name = _str(port.get("name"))
        if name:
            messages = port_name(name)
            errs.extend(invalid(f"{here}.name", name, m) for m in messages)
            if not messages and name in names:
                errs.append(duplicate(f"{here}.name", name))
            names.add(name)
        container_port = _int(port.get("containerPort")) or 0
        if container_port == 0:
            errs.append(required(f"{here}.containerPort"))
        else:
            errs.extend(
                invalid(f"{here}.containerPort", container_port, m) for m in port_number(container_port)
            )
        host_port = _int(port.get("hostPort")) or 0
        if host_port:
            errs.extend(invalid(f"{here}.hostPort", host_port, m) for m in port_number(host_port))
        errs.extend(_protocol(f"{here}.protocol", port.get("protocol")))
    return errs


def _protocol(path: str, protocol: Any) -> list[Cause]:
    if protocol in (None, ""):
        return [required(path)]
    if protocol not in ("SCTP", "TCP", "UDP"):
        return [not_supported(path, protocol, ("SCTP", "TCP", "UDP"))]
    return []


def _env(path: str, env: Any) -> list[Cause]:
    errs: list[Cause] = []
    for index, var in enumerate(_list(env)):
        var = _dict(var)
        here = f"{path}[{index}]"
        name = _str(var.get("name"))
        if not name:
            errs.append(required(f"{here}.name"))
        errs.extend(invalid(f"{here}.name", name, m) for m in _env_var_name(name))
        source = var.get("valueFrom")
        if isinstance(source, dict):
            chosen = [
                k
                for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef")
                if source.get(k) is not None
            ]
            if not chosen:
                errs.append(
                    invalid(
                        f"{here}.valueFrom",
                        "",
                        "must specify one of: `fieldRef`, "
                        "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
                    )
                )
            elif _str(var.get("value")):
                errs.append(
                    invalid(f"{here}.valueFrom", "", "may not be specified when `value` is not empty")
                )
            elif len(chosen) > 1:
                errs.append(
                    invalid(f"{here}.valueFrom", "", "may not have more than one field specified at a time")
                )
    return errs


def _volume_mounts(path: str, mounts: Any, volumes: set[str]) -> list[Cause]:
    errs: list[Cause] = []
    seen: set[str] = set()
    for index, mount in enumerate(_list(mounts)):
        mount = _dict(mount)
        here = f"{path}[{index}]"
        name, mount_path = _str(mount.get("name")), _str(mount.get("mountPath"))
        if not name:
            errs.append(required(f"{here}.name"))
        if name not in volumes:
            errs.append(not_found(f"{here}.name", name))
        if not mount_path:
            errs.append(required(f"{here}.mountPath"))
        if mount_path in seen:
            errs.append(invalid(f"{here}.mountPath", mount_path, "must be unique"))
        seen.add(mount_path)
    return errs


def _enum(path: str, value: Any, allowed: Sequence[str], shown: Sequence[str] | None = None) -> list[Cause]:
    if value in (None, ""):
        return [required(path)]
    if value not in allowed:
        return [not_supported(path, value, shown if shown is not None else allowed)]
    return []


def _handler(path: str, handler: Any) -> list[Cause]:
    handler = _dict(handler)
    errs: list[Cause] = []
    count = 0
    for kind in ("exec", "httpGet", "tcpSocket", "grpc", "sleep"):
        action = handler.get(kind)
        if action is None:
            continue
        if count:
            errs.append(forbidden(f"{path}.{kind}", "may not specify more than 1 handler type"))
            continue
        count += 1
        errs.extend(_action(f"{path}.{kind}", kind, _dict(action)))
    if not count:
        errs.append(required(path, "must specify a handler type"))
    return errs


def _action(path: str, kind: str, action: JSONDict) -> list[Cause]:
    if kind == "exec":
        return [] if _list(action.get("command")) else [required(f"{path}.command")]
    errs: list[Cause] = []
    if kind == "httpGet":
        if not _str(action.get("path")):
            errs.append(required(f"{path}.path"))
        errs.extend(_port_or_name(f"{path}.port", action.get("port")))
        if action.get("scheme") not in ("HTTP", "HTTPS"):
            errs.append(not_supported(f"{path}.scheme", action.get("scheme", ""), ("HTTP", "HTTPS")))
    elif kind in ("tcpSocket", "grpc"):
        errs.extend(_port_or_name(f"{path}.port", action.get("port")))
    return errs


def _port_or_name(path: str, port: Any) -> list[Cause]:
    if isinstance(port, str):
        return [invalid(path, port, m) for m in port_name(port)]
    number = _int(port) or 0
    return [invalid(path, number, m) for m in port_number(number)]


def _probe(path: str, probe: Any, kind: str) -> list[Cause]:
    if not isinstance(probe, dict):
        return []
    errs = _handler(path, probe)
    for name in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        errs.extend(_nonnegative(f"{path}.{name}", probe.get(name)))
    grace = _int(probe.get("terminationGracePeriodSeconds"))
    if grace is not None and grace <= 0:
        errs.append(invalid(f"{path}.terminationGracePeriodSeconds", grace, "must be greater than 0"))
    if kind in ("livenessProbe", "startupProbe") and _int(probe.get("successThreshold")) not in (None, 1):
        errs.append(invalid(f"{path}.successThreshold", probe.get("successThreshold"), "must be 1"))
    if kind == "readinessProbe" and probe.get("terminationGracePeriodSeconds") is not None:
        errs.append(
            invalid(
                f"{path}.terminationGracePeriodSeconds",
                probe["terminationGracePeriodSeconds"],
                "must not be set for readinessProbes",
            )
        )
    return errs


def _container_common(path: str, container: JSONDict, volumes: set[str]) -> list[Cause]:
    errs: list[Cause] = []
    name = _str(container.get("name"))
    if not name:
        errs.append(required(f"{path}.name"))
    else:
        errs.extend(invalid(f"{path}.name", name, m) for m in dns1123_label(name))
    if not _str(container.get("image")):
        errs.append(required(f"{path}.image"))
    errs.extend(
        _enum(
            f"{path}.terminationMessagePolicy",
            container.get("terminationMessagePolicy"),
            ("File", "FallbackToLogsOnError"),
        )
    )
    errs.extend(_container_ports(f"{path}.ports", container.get("ports")))
    errs.extend(_env(f"{path}.env", container.get("env")))
    errs.extend(_volume_mounts(f"{path}.volumeMounts", container.get("volumeMounts"), volumes))
    errs.extend(
        _enum(
            f"{path}.imagePullPolicy", container.get("imagePullPolicy"), ("Always", "IfNotPresent", "Never")
        )
    )
    errs.extend(_resources(f"{path}.resources", container.get("resources")))
    security = _dict(container.get("securityContext"))
    for key, top in (("runAsUser", MAX_INT32), ("runAsGroup", MAX_INT32)):
        number = _int(security.get(key))
        if number is not None and not 0 <= number <= top:
            errs.append(
                invalid(f"{path}.securityContext.{key}", number, f"must be between 0 and {top}, inclusive")
            )
    return errs


def _host_ports(path: str, containers: Iterable[tuple[int, JSONDict]]) -> list[Cause]:
    seen: set[str] = set()
    errs: list[Cause] = []
    for index, container in containers:
        for port_index, port in enumerate(_list(container.get("ports"))):
            port = _dict(port)
            host_port = _int(port.get("hostPort")) or 0
            if not host_port:
                continue
            key = f"{_str(port.get('protocol'))}/{_str(port.get('hostIP'))}/{host_port}"
            if key in seen:
                errs.append(duplicate(f"{path}[{index}].ports[{port_index}].hostPort", key))
            seen.add(key)
    return errs


def _containers(path: str, containers: Any, volumes: set[str]) -> list[Cause]:
    items = [_dict(c) for c in _list(containers)]
    if not items:
        return [required(path)]
    errs: list[Cause] = []
    names: set[str] = set()
    for index, container in enumerate(items):
        here = f"{path}[{index}]"
        errs.extend(_container_common(here, container, volumes))
        name = _str(container.get("name"))
        if name in names:
            errs.append(duplicate(f"{here}.name", name))
        names.add(name)
        if container.get("lifecycle") is not None:
            lifecycle = _dict(container["lifecycle"])
            for hook in ("postStart", "preStop"):
                if lifecycle.get(hook) is not None:
                    errs.extend(_handler(f"{here}.lifecycle.{hook}", lifecycle[hook]))
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            errs.extend(_probe(f"{here}.{probe}", container.get(probe), probe))
        if container.get("restartPolicy") is not None:
            errs.append(forbidden(f"{here}.restartPolicy", "may not be set for non-init containers"))
    errs.extend(_host_ports(path, enumerate(items)))
    return errs


def _init_containers(path: str, containers: Any, regular: Any, volumes: set[str]) -> list[Cause]:
    names = {_str(_dict(c).get("name")) for c in _list(regular)}
    errs: list[Cause] = []
    for index, container in enumerate(_dict(c) for c in _list(containers)):
        here = f"{path}[{index}]"
        errs.extend(_container_common(here, container, volumes))
        policy = container.get("restartPolicy")
        if policy is not None and policy != "Always":
            errs.append(not_supported(f"{here}.restartPolicy", policy, ("Always",)))
        name = _str(container.get("name"))
        if name in names:
            errs.append(duplicate(f"{here}.name", name))
        elif name:
            names.add(name)
        errs.extend(_host_ports(path, [(index, container)]))
        if policy == "Always":
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                errs.extend(_probe(f"{here}.{probe}", container.get(probe), probe))
        else:
            for key in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if container.get(key) is not None:
                    errs.append(
                        forbidden(
                            f"{here}.{key}", "may not be set for init containers without restartPolicy=Always"
                        )
                    )
    return errs


def _tolerations(path: str, tolerations: Any) -> list[Cause]:
    errs: list[Cause] = []
    for index, toleration in enumerate(_list(tolerations)):
        toleration = _dict(toleration)
        here = f"{path}[{index}]"
        key, operator, value = (
            _str(toleration.get("key")),
            toleration.get("operator"),
            _str(toleration.get("value")),
        )
        effect = toleration.get("effect")
        if key:
            errs.extend(invalid(f"{here}.key", key, m) for m in qualified_name(key))
        if not key and operator != "Exists":
            errs.append(
                invalid(
                    f"{here}.operator",
                    operator or "",
                    "operator must be Exists when `key` is empty, "
                    'which means "match all values and all keys"',
                )
            )
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.append(
                invalid(
                    f"{here}.effect",
                    effect or "",
                    "effect must be 'NoExecute' when `tolerationSeconds` is set",
                )
            )
        if operator in ("Equal", "", None):
            messages = label_value(value)
            if messages:
                errs.append(invalid(f"{here}.operator", value, ";".join(messages)))
        elif operator == "Exists":
            if value:
                errs.append(
                    invalid(f"{here}.operator", value, "value must be empty when `operator` is 'Exists'")
                )
        else:
            errs.append(not_supported(f"{here}.operator", operator, ("Equal", "Exists")))
        if effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.append(
                not_supported(f"{here}.effect", effect, ("NoSchedule", "PreferNoSchedule", "NoExecute"))
            )
    return errs


def validate_pod_spec(spec: Any, path: str = "spec", *, is_pod: bool = False) -> list[Cause]:
    """PodSpec checks, for Pods (``is_pod``) and for the templates of workloads."""
    spec = _dict(spec)
    errs: list[Cause] = []
    if spec.get("terminationGracePeriodSeconds") is None:
        errs.append(required(f"{path}.terminationGracePeriodSeconds"))
    volumes, volume_errs = _volumes(f"{path}.volumes", spec.get("volumes"))
    errs.extend(volume_errs)
    errs.extend(_containers(f"{path}.containers", spec.get("containers"), volumes))
    errs.extend(
        _init_containers(
            f"{path}.initContainers", spec.get("initContainers"), spec.get("containers"), volumes
        )
    )
    if spec.get("hostNetwork") is True:
        for index, container in enumerate(_list(spec.get("containers"))):
            for port_index, port in enumerate(_list(_dict(container).get("ports"))):
                port = _dict(port)
                host, target = _int(port.get("hostPort")) or 0, _int(port.get("containerPort")) or 0
                if (is_pod or host != 0) and host != target:
                    errs.append(
                        invalid(
                            f"{path}.containers[{index}].ports[{port_index}].hostPort",
                            host,
                            "must match `containerPort` when `hostNetwork` is true",
                        )
                    )
    errs.extend(_enum(f"{path}.restartPolicy", spec.get("restartPolicy"), ("Always", "OnFailure", "Never")))
    errs.extend(
        _enum(
            f"{path}.dnsPolicy",
            spec.get("dnsPolicy"),
            ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"),
        )
    )
    errs.extend(_labels(f"{path}.nodeSelector", spec.get("nodeSelector")))
    if spec.get("dnsPolicy") == "None" and not _list(_dict(spec.get("dnsConfig")).get("nameservers")):
        if spec.get("dnsConfig") is None:
            errs.append(required(f"{path}.dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None"))
        else:
            errs.append(
                required(
                    f"{path}.dnsConfig.nameservers",
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                )
            )
    for key, check in (("serviceAccountName", dns1123_subdomain), ("nodeName", dns1123_subdomain)):
        value = _str(spec.get(key))
        if value:
            errs.extend(invalid(f"{path}.{key}", value, m) for m in check(value))
    deadline = _int(spec.get("activeDeadlineSeconds"))
    if deadline is not None and not 1 <= deadline <= MAX_INT32:
        errs.append(
            invalid(
                f"{path}.activeDeadlineSeconds", deadline, f"must be between 1 and {MAX_INT32}, inclusive"
            )
        )
    for key in ("hostname", "subdomain"):
        value = _str(spec.get(key))
        if value:
            errs.extend(invalid(f"{path}.{key}", value, m) for m in dns1123_label(value))
    errs.extend(_tolerations(f"{path}.tolerations", spec.get("tolerations")))
    name = _str(spec.get("priorityClassName"))
    if name:
        errs.extend(invalid(f"{path}.priorityClassName", name, m) for m in dns1123_subdomain(name))
    return errs


def _template(path: str, template: Any, kind_name: str) -> list[Cause]:
    """ValidatePodTemplateSpec plus what ReplicaSets and Deployments add."""
    template = _dict(template)
    meta = _dict(template.get("metadata"))
    spec = _dict(template.get("spec"))
    errs = _labels(f"{path}.labels", meta.get("labels"))
    errs.extend(_annotations(f"{path}.annotations", meta.get("annotations")))
    errs.extend(validate_pod_spec(spec, f"{path}.spec"))
    if spec.get("ephemeralContainers"):
        errs.append(
            forbidden(f"{path}.spec.ephemeralContainers", "ephemeral containers not allowed in pod template")
        )
    policy = spec.get("restartPolicy")
    if policy != "Always":
        errs.append(
            not_supported(f"{path}.spec.restartPolicy", policy if policy is not None else "", ("Always",))
        )
    if spec.get("activeDeadlineSeconds") is not None:
        errs.append(
            forbidden(
                f"{path}.spec.activeDeadlineSeconds", f"activeDeadlineSeconds in {kind_name} is not Supported"
            )
        )
    return errs


# --- pods ---------------------------------------------------------------------------------------------------


def _pod_metadata_and_spec(pod: JSONDict) -> list[Cause]:
    errs = validate_object_meta(
        pod.get("metadata"), namespaced=True, name_check=dns1123_subdomain, kube_finalizers=True
    )
    spec = _dict(pod.get("spec"))
    errs.extend(validate_pod_spec(spec, is_pod=True))
    if not _str(spec.get("serviceAccountName")):
        for vi, volume in enumerate(_list(spec.get("volumes"))):
            for si, source in enumerate(_list(_dict(_dict(volume).get("projected")).get("sources"))):
                if _dict(source).get("serviceAccountToken") is not None:
                    errs.append(
                        forbidden(
                            f"spec.volumes[{vi}].projected.sources[{si}].serviceAccountToken",
                            "must not be specified when serviceAccountName is not set",
                        )
                    )
    for key in ("containers", "initContainers"):
        for index, container in enumerate(_list(spec.get(key))):
            image = _dict(container).get("image")
            if isinstance(image, str) and image != image.strip():
                errs.append(
                    invalid(
                        f"spec.{key}[{index}].image", image, "must not have leading or trailing whitespace"
                    )
                )
    return errs


def _validate_pod(pod: JSONDict, old: JSONDict | None) -> list[Cause]:
    errs = _pod_metadata_and_spec(pod)
    spec = _dict(pod.get("spec"))
    if old is None:
        if spec.get("ephemeralContainers"):
            errs.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
        if _str(spec.get("nodeName")) and spec.get("schedulingGates"):
            errs.append(
                forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared")
            )
        return errs
    return errs + _pod_update(spec, _dict(old.get("spec")))


def _pod_update(spec: JSONDict, old: JSONDict) -> list[Cause]:
    errs: list[Cause] = []
    for key in ("containers", "initContainers"):
        new_list, old_list = _list(spec.get(key)), _list(old.get(key))
        if len(new_list) != len(old_list):
            return [*errs, forbidden(f"spec.{key}", "pod updates may not add or remove containers")]
        for index, container in enumerate(new_list):
            image = _dict(container).get("image")
            if not _str(image):
                errs.append(required(f"spec.{key}[{index}].image"))
    deadline, old_deadline = _int(spec.get("activeDeadlineSeconds")), _int(old.get("activeDeadlineSeconds"))
    if deadline is not None:
        if not 0 <= deadline <= MAX_INT32:
            return [
                *errs,
                invalid(
                    "spec.activeDeadlineSeconds", deadline, f"must be between 0 and {MAX_INT32}, inclusive"
                ),
            ]
        if old_deadline is not None and old_deadline < deadline:
            return [
                *errs,
                invalid(
                    "spec.activeDeadlineSeconds", deadline, "must be less than or equal to previous value"
                ),
            ]
    elif old_deadline is not None:
        errs.append(
            invalid(
                "spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value"
            )
        )
    errs.extend(_only_added_tolerations(_list(spec.get("tolerations")), _list(old.get("tolerations"))))
    munged = _munged_pod_spec(spec, old)
    if _semantic(munged) != _semantic(old):
        detail = "pod updates may not change fields other than " + ",".join(UPDATABLE_POD_FIELDS)
        errs.append(forbidden("spec", detail + "\n" + _spec_diff(old, munged)))
    return errs


def _only_added_tolerations(new: list[Any], old: list[Any]) -> list[Cause]:
    for toleration in old:
        base = {k: v for k, v in _dict(toleration).items() if k != "tolerationSeconds"}
        if not any({k: v for k, v in _dict(t).items() if k != "tolerationSeconds"} == base for t in new):
            return [
                forbidden(
                    "spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"
                )
            ]
    return _tolerations("spec.tolerations", new)


def _munged_pod_spec(spec: JSONDict, old: JSONDict) -> JSONDict:
    """The new spec with the fields a Pod update may change put back to their old values."""
    munged = json.loads(json.dumps(spec))
    for key in ("containers", "initContainers"):
        for container, previous in zip(_list(munged.get(key)), _list(old.get(key)), strict=False):
            if isinstance(container, dict) and isinstance(previous, dict):
                container["image"] = previous.get("image")
    for key in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        munged.pop(key, None)
        if key in old:
            munged[key] = old[key]
    grace, old_grace = (
        _int(munged.get("terminationGracePeriodSeconds")),
        _int(old.get("terminationGracePeriodSeconds")),
    )
    if old_grace is not None and old_grace < 0 and grace == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    return munged


def _spec_diff(old: JSONDict, new: JSONDict) -> str:
    """A short account of which spec fields differ (kube-apiserver prints a Go struct diff here)."""
    lines = ["  core.PodSpec{"]
    for key in sorted(set(old) | set(new)):
        if _semantic(old.get(key)) != _semantic(new.get(key)):
            field = key[:1].upper() + key[1:]
            lines.append(f"- \t{field}: {go_json(old.get(key))},")
            lines.append(f"+ \t{field}: {go_json(new.get(key))},")
    lines.append("  }")
    return "\n".join(lines) + "\n"


# --- workloads ----------------------------------------------------------------------------------------------


def _replica_selector(spec: JSONDict, kind_name: str) -> list[Cause]:
    """Selector presence and syntax, and its agreement with the template labels (Deployments, ReplicaSets)."""
    errs: list[Cause] = []
    selector = spec.get("selector")
    if selector is None:
        errs.append(required("spec.selector"))
    else:
        errs.extend(validate_label_selector("spec.selector", selector))
        selector_dict = _dict(selector)
        if not selector_dict.get("matchLabels") and not selector_dict.get("matchExpressions"):
            errs.append(
                invalid(
                    "spec.selector", _selector_value(selector), "empty selector is invalid for deployment"
                )
            )
    template = _dict(spec.get("template"))
    labels = _dict(_dict(template.get("metadata")).get("labels"))
    if selector is not None and not _selector_parses(_dict(selector)):
        errs.append(invalid("spec.selector", _selector_value(selector), "invalid label selector"))
    else:
        selector_dict = _dict(selector)
        empty = (
            selector is not None
            and not selector_dict.get("matchLabels")
            and not selector_dict.get("matchExpressions")
        )
        if not empty and (selector is None or not selector_matches(selector_dict, _str_map(labels))):
            errs.append(
                invalid(
                    "spec.template.metadata.labels",
                    _go_map(labels) if labels else None,
                    "`selector` does not match template `labels`",
                )
            )
        errs.extend(_template("spec.template", template, kind_name))
    return errs


def _int_or_percent(path: str, value: Any) -> list[Cause]:
    if isinstance(value, str):
        return [invalid(path, value, m) for m in _percent(value)]
    return _nonnegative(path, value)


def _int_or_percent_value(value: Any) -> int:
    if isinstance(value, str):
        return int(value[:-1]) if not _percent(value) else 0
    return _int(value) or 0


def _strategy(strategy: Any) -> list[Cause]:
    strategy = _dict(strategy)
    kind = strategy.get("type")
    rolling = strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            return [
                forbidden(
                    "spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"
                )
            ]
        return []
    if kind != "RollingUpdate":
        shown = {"Type": kind if kind is not None else "", "RollingUpdate": _go_rolling(rolling)}
        return [not_supported("spec.strategy", shown, ("Recreate", "RollingUpdate"))]
    if rolling is None:
        return [required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil")]
    rolling = _dict(rolling)
    path = "spec.strategy.rollingUpdate"
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    errs = _int_or_percent(f"{path}.maxUnavailable", unavailable)
    errs.extend(_int_or_percent(f"{path}.maxSurge", surge))
    if _int_or_percent_value(unavailable) == 0 and _int_or_percent_value(surge) == 0:
        errs.append(
            invalid(
                f"{path}.maxUnavailable",
                unavailable if unavailable is not None else 0,
                "may not be 0 when `maxSurge` is 0",
            )
        )
    if isinstance(unavailable, str) and not _percent(unavailable) and int(unavailable[:-1]) > 100:
        errs.append(invalid(f"{path}.maxUnavailable", unavailable, "must not be greater than 100%"))
    return errs


def _go_rolling(rolling: Any) -> Any:
    if not isinstance(rolling, dict):
        return None
    return {"MaxUnavailable": rolling.get("maxUnavailable", 0), "MaxSurge": rolling.get("maxSurge", 0)}


def _immutable_selector(spec: JSONDict, old: JSONDict | None) -> list[Cause]:
    if old is None:
        return []
    new_selector, old_selector = spec.get("selector"), _dict(old.get("spec")).get("selector")
    if _semantic(new_selector) != _semantic(old_selector):
        return [
            invalid(
                "spec.selector",
                _selector_value(new_selector) if new_selector is not None else None,
                FIELD_IMMUTABLE,
            )
        ]
    return []


def _validate_deployment(deployment: JSONDict, old: JSONDict | None) -> list[Cause]:
    errs = (
        []
        if old is not None
        else validate_object_meta(
            deployment.get("metadata"), namespaced=True, name_check=dns1123_subdomain, kube_finalizers=True
        )
    )
    spec = _dict(deployment.get("spec"))
    errs.extend(_nonnegative("spec.replicas", spec.get("replicas")))
    errs.extend(_replica_selector(spec, "ReplicaSet"))
    errs.extend(_strategy(spec.get("strategy")))
    errs.extend(_nonnegative("spec.minReadySeconds", spec.get("minReadySeconds")))
    errs.extend(_nonnegative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit")))
    deadline = _int(spec.get("progressDeadlineSeconds"))
    if deadline is not None:
        errs.extend(_nonnegative("spec.progressDeadlineSeconds", deadline))
        if deadline <= (_int(spec.get("minReadySeconds")) or 0):
            errs.append(
                invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds")
            )
    return errs + _immutable_selector(spec, old)


def _validate_replicaset(replicaset: JSONDict, old: JSONDict | None) -> list[Cause]:
    errs = (
        []
        if old is not None
        else validate_object_meta(
            replicaset.get("metadata"), namespaced=True, name_check=dns1123_subdomain, kube_finalizers=True
        )
    )
    spec = _dict(replicaset.get("spec"))
    errs.extend(_nonnegative("spec.replicas", spec.get("replicas")))
    errs.extend(_nonnegative("spec.minReadySeconds", spec.get("minReadySeconds")))
    errs.extend(_replica_selector(spec, "ReplicaSet"))
    return errs + _immutable_selector(spec, old)


# --- services and endpoints ---------------------------------------------------------------------------------

_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")


def _headless(spec: JSONDict) -> bool:
    ips = _list(spec.get("clusterIPs"))
    return len(ips) == 1 and ips[0] == "None"


def _service_port(path: str, port: JSONDict, require_name: bool, names: set[str]) -> list[Cause]:
    errs: list[Cause] = []
    name = _str(port.get("name"))
    if require_name and not name:
        errs.append(required(f"{path}.name"))
    elif name:
        errs.extend(invalid(f"{path}.name", name, m) for m in dns1123_label(name))
        if name in names:
            errs.append(duplicate(f"{path}.name", name))
        names.add(name)
    number = _int(port.get("port")) or 0
    errs.extend(invalid(f"{path}.port", number, m) for m in port_number(number))
    errs.extend(_protocol(f"{path}.protocol", port.get("protocol")))
    errs.extend(_port_or_name(f"{path}.targetPort", port.get("targetPort")))
    app_protocol = port.get("appProtocol")
    if isinstance(app_protocol, str):
        errs.extend(invalid(f"{path}.appProtocol", app_protocol, m) for m in qualified_name(app_protocol))
    return errs


def _cluster_ips(spec: JSONDict) -> list[Cause]:
    if spec.get("type") == "ExternalName":
        return []
    errs: list[Cause] = []
    ip, ips = _str(spec.get("clusterIP")), [v for v in _list(spec.get("clusterIPs")) if isinstance(v, str)]
    if ip:
        if not ips:
            errs.append(required("spec.clusterIPs"))
        elif ips[0] != ip:
            errs.append(invalid("spec.clusterIPs", ips, "first value must match `clusterIP`"))
    elif ips:
        errs.append(invalid("spec.clusterIPs", ips, "must be empty when `clusterIP` is not specified"))
    seen: set[str] = set()
    for index, family in enumerate(_list(spec.get("ipFamilies"))):
        if family not in ("IPv4", "IPv6"):
            errs.append(not_supported(f"spec.ipFamilies[{index}]", family, ("IPv4", "IPv6")))
        if go_json(family) in seen:
            errs.append(duplicate(f"spec.ipFamilies[{index}]", family))
        seen.add(go_json(family))
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in ("PreferDualStack", "RequireDualStack", "SingleStack"):
        errs.append(
            not_supported(
                "spec.ipFamilyPolicy", policy, ("PreferDualStack", "RequireDualStack", "SingleStack")
            )
        )
    for index, value in enumerate(ips):
        if index == 0 and value == "None":
            if len(ips) > 1:
                errs.append(invalid("spec.clusterIPs", ips, "'None' must be the first and only value"))
            continue
        errs.extend(_ip(f"spec.clusterIPs[{index}]", value))
    if len(ips) > 2:
        errs.append(invalid("spec.clusterIPs", ips, "may only hold up to 2 values"))
    return errs


def _validate_service(service: JSONDict, old: JSONDict | None) -> list[Cause]:
    errs = validate_object_meta(
        service.get("metadata"), namespaced=True, name_check=dns1035_label, kube_finalizers=True
    )
    spec = _dict(service.get("spec"))
    kind = spec.get("type")
    ports = [_dict(p) for p in _list(spec.get("ports"))]
    if not ports and not _headless(spec) and kind != "ExternalName":
        errs.append(required("spec.ports"))
    errs.extend(_service_type_fields(spec))
    names: set[str] = set()
    for index, port in enumerate(ports):
        errs.extend(_service_port(f"spec.ports[{index}]", port, len(ports) > 1, names))
    if spec.get("selector") is not None:
        errs.extend(_labels("spec.selector", spec.get("selector")))
    errs.extend(_enum("spec.sessionAffinity", spec.get("sessionAffinity"), ("ClientIP", "None")))
    if spec.get("sessionAffinity") == "None" and spec.get("sessionAffinityConfig") is not None:
        errs.append(forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None"))
    errs.extend(_cluster_ips(spec))
    for index, value in enumerate(_list(spec.get("externalIPs"))):
        ip_errs = _ip(f"spec.externalIPs[{index}]", _str(value))
        errs.extend(ip_errs or _non_special_ip(f"spec.externalIPs[{index}]", _str(value)))
    errs.extend(_enum("spec.type", kind, _SERVICE_TYPES))
    if kind == "ClusterIP":
        errs.extend(
            forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'")
            for i, port in enumerate(ports)
            if _int(port.get("nodePort"))
        )
    errs.extend(_duplicate_service_ports(ports))
    if spec.get("allocateLoadBalancerNodePorts") is not None and kind != "LoadBalancer":
        errs.append(
            forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'")
        )
    errs.extend(_traffic_policies(spec))
    if old is not None:
        errs.extend(_service_ip_updates(spec, _dict(old.get("spec"))))
    return errs


def _service_type_fields(spec: JSONDict) -> list[Cause]:
    kind = spec.get("type")
    errs: list[Cause] = []
    if kind in ("LoadBalancer", "NodePort") and _headless(spec):
        errs.append(invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {kind} services"))
    if kind == "ExternalName":
        for key in ("clusterIPs", "ipFamilies"):
            if _list(spec.get(key)):
                errs.append(forbidden(f"spec.{key}", "may not be set for ExternalName services"))
        if spec.get("ipFamilyPolicy") is not None:
            errs.append(forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"))
        cname = _str(spec.get("externalName")).removesuffix(".")
        if cname:
            errs.extend(invalid("spec.externalName", cname, m) for m in dns1123_subdomain(cname))
        else:
            errs.append(required("spec.externalName"))
    return errs


def _duplicate_service_ports(ports: list[JSONDict]) -> list[Cause]:
    errs: list[Cause] = []
    node_ports: set[tuple[str, int]] = set()
    for index, port in enumerate(ports):
        node_port = _int(port.get("nodePort")) or 0
        if node_port:
            key = (go_json(port.get("protocol")), node_port)
            if key in node_ports:
                errs.append(duplicate(f"spec.ports[{index}].nodePort", node_port))
            node_ports.add(key)
    seen: set[tuple[str, int]] = set()
    for index, port in enumerate(ports):
        protocol = port.get("protocol")
        pair = (go_json(protocol), _int(port.get("port")) or 0)
        if pair in seen:
            errs.append(
                duplicate(
                    f"spec.ports[{index}]",
                    {
                        "Name": "",
                        "Protocol": protocol or "",
                        "AppProtocol": None,
                        "Port": pair[1],
                        "TargetPort": 0,
                        "NodePort": 0,
                    },
                )
            )
        seen.add(pair)
    return errs


def _traffic_policies(spec: JSONDict) -> list[Cause]:
    kind = spec.get("type")
    accessible = kind in ("LoadBalancer", "NodePort") or (
        kind == "ClusterIP" and bool(_list(spec.get("externalIPs")))
    )
    errs: list[Cause] = []
    policy = spec.get("externalTrafficPolicy")
    if not accessible and policy not in (None, ""):
        errs.append(
            invalid(
                "spec.externalTrafficPolicy", policy, "may only be set for externally-accessible services"
            )
        )
    elif accessible:
        errs.extend(_enum("spec.externalTrafficPolicy", policy, ("Cluster", "Local")))
    health = _int(spec.get("healthCheckNodePort")) or 0
    needs_health = kind == "LoadBalancer" and policy == "Local"
    if not needs_health and health:
        errs.append(
            invalid(
                "spec.healthCheckNodePort",
                health,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            )
        )
    internal = spec.get("internalTrafficPolicy")
    if internal is None and kind in ("NodePort", "LoadBalancer", "ClusterIP"):
        errs.append(required("spec.internalTrafficPolicy"))
    elif internal is not None and internal not in ("Cluster", "Local"):
        errs.append(not_supported("spec.internalTrafficPolicy", internal, ("Cluster", "Local")))
    return errs


def _service_ip_updates(spec: JSONDict, old: JSONDict) -> list[Cause]:
    if "ExternalName" in (spec.get("type"), old.get("type")) or (_headless(spec) and _headless(old)):
        return []
    new_ips, old_ips = _list(spec.get("clusterIPs")), _list(old.get("clusterIPs"))
    errs: list[Cause] = []
    if len(new_ips) == len(old_ips):
        errs.extend(
            invalid(f"spec.clusterIPs[{i}]", new_ips, "may not change once set")
            for i, ip in enumerate(old_ips)
            if ip != new_ips[i]
        )
    elif len(old_ips) > len(new_ips):
        if not new_ips:
            errs.append(invalid("spec.clusterIPs[0]", new_ips, "primary clusterIP can not be unset"))
        elif new_ips[0] != old_ips[0]:
            errs.append(invalid("spec.clusterIPs[0]", new_ips, "may not change once set"))
    elif old_ips and new_ips[0] != old_ips[0]:
        errs.append(invalid("spec.clusterIPs[0]", new_ips, "may not change once set"))
    return errs


def _validate_endpoints(endpoints: JSONDict, old: JSONDict | None) -> list[Cause]:
    errs = validate_object_meta(
        endpoints.get("metadata"), namespaced=True, name_check=dns1123_subdomain, kube_finalizers=True
    )
    for index, subset in enumerate(_dict(s) for s in _list(endpoints.get("subsets"))):
        path = f"subsets[{index}]"
        if not _list(subset.get("addresses")) and not _list(subset.get("notReadyAddresses")):
            errs.append(required(path, "must specify `addresses` or `notReadyAddresses`"))
        for key in ("addresses", "notReadyAddresses"):
            for ai, address in enumerate(_dict(a) for a in _list(subset.get(key))):
                errs.extend(_ip(f"{path}.{key}[{ai}].ip", _str(address.get("ip"))))
                errs.extend(_non_special_ip(f"{path}.{key}[{ai}].ip", _str(address.get("ip"))))
                hostname = _str(address.get("hostname"))
                if hostname:
                    errs.extend(
                        invalid(f"{path}.{key}[{ai}].hostname", hostname, m) for m in dns1123_label(hostname)
                    )
        ports = [_dict(p) for p in _list(subset.get("ports"))]
        for pi, port in enumerate(ports):
            here = f"{path}.ports[{pi}]"
            name = _str(port.get("name"))
            if len(ports) > 1 and not name:
                errs.append(required(f"{here}.name"))
            elif name:
                errs.extend(invalid(f"{here}.name", name, m) for m in dns1123_label(name))
            number = _int(port.get("port")) or 0
            errs.extend(invalid(f"{here}.port", number, m) for m in port_number(number))
            errs.extend(_protocol(f"{here}.protocol", port.get("protocol")))
    return errs


# --- config, secrets, namespaces, nodes, accounts, events ---------------------------------------------------


def _config_keys(path: str, data: Any) -> list[Cause]:
    return [invalid(f"{path}[{key}]", key, m) for key in _dict(data) for m in config_map_key(key)]


def _immutable_data(obj: JSONDict, old: JSONDict | None, fields: Sequence[str]) -> list[Cause]:
    if old is None or old.get("immutable") is not True:
        return []
    errs: list[Cause] = []
    if obj.get("immutable") is not True:
        errs.append(forbidden("immutable", IMMUTABLE_WHEN_SET))
    errs.extend(
        forbidden(key, IMMUTABLE_WHEN_SET)
        for key in fields
        if _semantic(obj.get(key)) != _semantic(old.get(key))
    )
    return errs


def _validate_configmap(configmap: JSONDict, old: JSONDict | None) -> list[Cause]:
    errs = _immutable_data(configmap, old, ("data", "binaryData"))
    errs.extend(
        validate_object_meta(
            configmap.get("metadata"), namespaced=True, name_check=dns1123_subdomain, kube_finalizers=True
        )
    )
    data, binary = _dict(configmap.get("data")), _dict(configmap.get("binaryData"))
    for key in data:
        errs.extend(invalid(f"data[{key}]", key, m) for m in config_map_key(key))
        if key in binary:
            errs.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
    errs.extend(_config_keys("binaryData", binary))
    size = sum(len(v.encode()) for v in data.values() if isinstance(v, str))
    size += sum(len(_decoded(v)) for v in binary.values())
    if size > MAX_SECRET_SIZE:
        errs.append(too_long("", MAX_SECRET_SIZE))
    return errs


def _decoded(value: Any) -> bytes:
    try:
        return base64.b64decode(value) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        return b""


_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}


def _validate_secret(secret: JSONDict, old: JSONDict | None) -> list[Cause]:
    errs: list[Cause] = []
    if old is not None:
        if secret.get("type") != old.get("type"):
            errs.append(invalid("type", secret.get("type", ""), FIELD_IMMUTABLE))
        errs.extend(_immutable_data(secret, old, ("data",)))
    errs.extend(
        validate_object_meta(
            secret.get("metadata"), namespaced=True, name_check=dns1123_subdomain, kube_finalizers=True
        )
    )
    data = _dict(secret.get("data"))
    errs.extend(_config_keys("data", data))
    if sum(len(_decoded(v)) for v in data.values()) > MAX_SECRET_SIZE:
        errs.append(too_long("data", MAX_SECRET_SIZE))
    kind = secret.get("type")
    if kind == "kubernetes.io/service-account-token":
        name = _dict(_dict(secret.get("metadata")).get("annotations")).get(
            "kubernetes.io/service-account.name"
        )
        if not name:
            errs.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif kind == "kubernetes.io/basic-auth" and "username" not in data and "password" not in data:
        errs.extend([required("data[username]"), required("data[password]")])
    elif isinstance(kind, str) and kind in _SECRET_REQUIRED_KEYS:
        errs.extend(_secret_keys(kind, data))
    return errs


def _secret_keys(kind: str, data: JSONDict) -> list[Cause]:
    errs: list[Cause] = []
    for key in _SECRET_REQUIRED_KEYS[kind]:
        if key not in data or (kind == "kubernetes.io/ssh-auth" and not _decoded(data[key])):
            errs.append(required(f"data[{key}]"))
            if kind != "kubernetes.io/tls":
                return errs
        elif kind in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
            try:
                if not isinstance(json.loads(_decoded(data[key])), dict):
                    raise ValueError("json: cannot unmarshal into Go value of type map[string]interface {}")
            except ValueError as err:
                errs.append(invalid(f"data[{key}]", "<secret contents redacted>", str(err)))
    return errs


def _validate_namespace(namespace: JSONDict, old: JSONDict | None) -> list[Cause]:
    if old is not None:
        return []
    errs = validate_object_meta(
        namespace.get("metadata"), namespaced=False, name_check=dns1123_label, kube_finalizers=True
    )
    for name in _list(_dict(namespace.get("spec")).get("finalizers")):
        if isinstance(name, str):
            errs.extend(invalid("spec.finalizers", name, m) for m in qualified_name(name))
            if "/" not in name and name not in STANDARD_FINALIZERS:
                errs.append(
                    invalid(
                        "spec.finalizers",
                        name,
                        "name is neither a standard finalizer name nor is it fully qualified",
                    )
                )
    return errs


def _validate_node(node: JSONDict, old: JSONDict | None) -> list[Cause]:
    errs = (
        []
        if old is not None
        else validate_object_meta(
            node.get("metadata"), namespaced=False, name_check=dns1123_subdomain, kube_finalizers=True
        )
    )
    spec = _dict(node.get("spec"))
    seen: set[tuple[str, str]] = set()
    for index, taint in enumerate(_dict(t) for t in _list(spec.get("taints"))):
        path = f"metadata.taints[{index}]"
        key, effect = _str(taint.get("key")), taint.get("effect")
        errs.extend(invalid(f"{path}.key", key, m) for m in qualified_name(key))
        messages = label_value(_str(taint.get("value")))
        if messages:
            errs.append(invalid(f"{path}.value", _str(taint.get("value")), ";".join(messages)))
        errs.extend(_enum(f"{path}.effect", effect, ("NoSchedule", "PreferNoSchedule", "NoExecute")))
        if (go_json(effect), key) in seen:
            errs.append(
                statuses.cause(
                    "FieldValueDuplicate",
                    f"Duplicate value: {go_json(taint)}: taints must be unique by key and effect pair",
                    path,
                )
            )
        seen.add((go_json(effect), key))
    if old is not None:
        old_spec = _dict(old.get("spec"))
        if _list(old_spec.get("podCIDRs")) and _list(spec.get("podCIDRs")) != _list(old_spec.get("podCIDRs")):
            errs.append(
                forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')
            )
        if _str(old_spec.get("providerID")) and spec.get("providerID") != old_spec.get("providerID"):
            errs.append(
                forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid')
            )
    return errs


def _validate_serviceaccount(account: JSONDict, old: JSONDict | None) -> list[Cause]:
    return validate_object_meta(
        account.get("metadata"), namespaced=True, name_check=dns1123_subdomain, kube_finalizers=True
    )


def _validate_event(event: JSONDict, old: JSONDict | None) -> list[Cause]:
    """The legacy checks core/v1 Events get (no metadata checks beyond those every write gets)."""
    namespace = _str(_dict(event.get("metadata")).get("namespace"))
    involved = _str(_dict(event.get("involvedObject")).get("namespace"))
    errs: list[Cause] = []
    if not event.get("eventTime"):
        if (not involved and namespace not in ("", "default")) or (involved and namespace != involved):
            errs.append(invalid("involvedObject.namespace", involved, "does not match event.namespace"))
    else:
        if not involved and namespace not in ("default", "kube-system"):
            errs.append(invalid("involvedObject.namespace", involved, "does not match event.namespace"))
        errs.extend(_new_style_event(event))
    errs.extend(invalid("namespace", namespace, m) for m in dns1123_subdomain(namespace))
    return errs


def _new_style_event(event: JSONDict) -> list[Cause]:
    errs: list[Cause] = []
    controller = _str(event.get("reportingComponent"))
    if not controller:
        errs.append(required("reportingController"))
    errs.extend(invalid("reportingController", controller, m) for m in qualified_name(controller))
    for key, source, limit in (
        ("reportingInstance", "reportingInstance", 128),
        ("action", "action", 128),
        ("reason", "reason", 128),
    ):
        value = _str(event.get(source))
        if not value:
            errs.append(required(key))
        if len(value) > limit:
            errs.append(invalid(key, "", f"can have at most {limit} characters"))
    if len(_str(event.get("message"))) > 1024:
        errs.append(invalid("message", "", "can have at most 1024 characters"))
    return errs


# --- CustomResourceDefinitions ------------------------------------------------------------------------------


def _crd_names(path: str, names: JSONDict) -> list[Cause]:
    errs: list[Cause] = []
    for key in ("plural", "singular"):
        value = _str(names.get(key))
        if value and dns1035_label(value):
            errs.append(invalid(f"{path}.{key}", value, ",".join(dns1035_label(value))))
    for key in ("kind", "listKind"):
        value = _str(names.get(key))
        if value and dns1035_label(value.lower()):
            errs.append(
                invalid(
                    f"{path}.{key}",
                    value,
                    "may have mixed case, but should otherwise match: "
                    + ",".join(dns1035_label(value.lower())),
                )
            )
    for key in ("shortNames", "categories"):
        for index, value in enumerate(_list(names.get(key))):
            if isinstance(value, str) and dns1035_label(value):
                errs.append(invalid(f"{path}.{key}[{index}]", value, ",".join(dns1035_label(value))))
    if names.get("kind") and names.get("kind") == names.get("listKind"):
        errs.append(invalid(f"{path}.listKind", names["listKind"], "kind and listKind may not be the same"))
    return errs


def _structural(path: str, raw: Any, level: str) -> list[Cause]:
    """The structural-schema invariants kube-apiserver most often reports for CRD schemas."""
    raw = _dict(raw)
    errs: list[Cause] = []
    if raw.get("type") == "array" and raw.get("items") is None:
        errs.append(required(f"{path}.items", "must be specified"))
    if isinstance(raw.get("items"), dict):
        errs.extend(_structural(f"{path}.items", raw["items"], "item"))
    for name, prop in _dict(raw.get("properties")).items():
        errs.extend(_structural(f"{path}.properties[{name}]", prop, "field"))
    additional = raw.get("additionalProperties")
    if additional is not None and additional is not False:
        if level == "root":
            errs.append(forbidden(f"{path}.additionalProperties", "must not be used at the root"))
        if isinstance(additional, dict):
            errs.extend(_structural(f"{path}.additionalProperties", additional, "field"))
    untyped = (
        not raw.get("type")
        and not raw.get("x-kubernetes-int-or-string")
        and not raw.get("x-kubernetes-preserve-unknown-fields")
    )
    if untyped and not raw.get("x-kubernetes-embedded-resource"):
        where = {
            "root": "at the root",
            "item": "for specified array items",
            "field": "for specified object fields",
        }
        errs.append(required(f"{path}.type", f"must not be empty {where[level]}"))
    if level == "root" and raw.get("type") not in (None, "", "object"):
        errs.append(invalid(f"{path}.type", raw["type"], "must be object at the root"))
    return errs


def _crd_version(path: str, version: JSONDict) -> list[Cause]:
    errs: list[Cause] = []
    schema = _dict(version.get("schema")).get("openAPIV3Schema")
    if schema is None:
        errs.append(required(f"{path}.schema.openAPIV3Schema"))
    else:
        errs.extend(_structural(f"{path}.schema.openAPIV3Schema", schema, "root"))
    scale = _dict(_dict(version.get("subresources")).get("scale"))
    for key in ("specReplicasPath", "statusReplicasPath"):
        if scale and not _str(scale.get(key)):
            errs.append(required(f"{path}.subresources.scale.{key}"))
    return errs


def _validate_crd(crd: JSONDict, old: JSONDict | None) -> list[Cause]:
    spec = _dict(crd.get("spec"))
    names = _dict(spec.get("names"))
    group = _str(spec.get("group"))

    def crd_name(name: str) -> list[str]:
        messages = dns1123_subdomain(name)
        if name != f"{_str(names.get('plural'))}.{group}":
            messages.append('must be spec.names.plural+"."+spec.group')
        return messages

    errs = (
        validate_object_meta(crd.get("metadata"), namespaced=False, name_check=crd_name)
        if old is None
        else []
    )
    errs.extend(_crd_spec(spec))
    stored = _dict(crd.get("status")).get("storedVersions")
    if not stored:
        errs.append(
            invalid(
                "status.storedVersions",
                stored if stored is not None else None,
                "must have at least one stored version",
            )
        )
    else:
        for version in (_dict(v) for v in _list(spec.get("versions"))):
            if version.get("storage") is True and version.get("name") not in stored:
                errs.append(
                    invalid(
                        "status.storedVersions",
                        stored,
                        f"must have the storage version {version.get('name')}",
                    )
                )
    if old is not None:
        errs.extend(_crd_immutable(spec, old))
    return errs


def _crd_spec(spec: JSONDict) -> list[Cause]:
    errs: list[Cause] = []
    group = _str(spec.get("group"))
    if not group:
        errs.append(required("spec.group"))
    elif dns1123_subdomain(group):
        errs.append(invalid("spec.group", group, ",".join(dns1123_subdomain(group))))
    elif "." not in group:
        errs.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    errs.extend(_enum("spec.scope", spec.get("scope"), ("Cluster", "Namespaced")))
    versions = [_dict(v) for v in _list(spec.get("versions"))]
    for index, version in enumerate(versions):
        name = _str(version.get("name"))
        if dns1035_label(name):
            errs.append(invalid(f"spec.versions[{index}].name", name, ",".join(dns1035_label(name))))
        errs.extend(_crd_version(f"spec.versions[{index}]", version))
    version_names = [v.get("name") for v in versions]
    if len(set(map(str, version_names))) != len(version_names):
        errs.append(invalid("spec.versions", spec.get("versions"), "must contain unique version names"))
    if sum(1 for v in versions if v.get("storage") is True) != 1:
        errs.append(
            invalid(
                "spec.versions",
                spec.get("versions"),
                "must have exactly one version marked as storage version",
            )
        )
    names = _dict(spec.get("names"))
    for key in ("plural", "singular", "kind", "listKind"):
        if not _str(names.get(key)):
            errs.append(required(f"spec.names.{key}"))
    errs.extend(_crd_names("spec.names", names))
    conversion = _dict(spec.get("conversion"))
    errs.extend(_enum("spec.conversion.strategy", conversion.get("strategy"), ("None", "Webhook")))
    if conversion.get("strategy") == "Webhook" and conversion.get("webhook") is None:
        errs.append(
            required("spec.conversion.webhookClientConfig", "required when strategy is set to Webhook")
        )
    return errs


def _crd_immutable(spec: JSONDict, old: JSONDict) -> list[Cause]:
    old_spec = _dict(old.get("spec"))
    established = any(
        _dict(c).get("type") == "Established" and _dict(c).get("status") == "True"
        for c in _list(_dict(old.get("status")).get("conditions"))
    )
    errs: list[Cause] = []
    pairs = [
        ("spec.group", spec.get("group"), old_spec.get("group")),
        (
            "spec.names.plural",
            _dict(spec.get("names")).get("plural"),
            _dict(old_spec.get("names")).get("plural"),
        ),
    ]
    if established:
        pairs = [
            ("spec.scope", spec.get("scope"), old_spec.get("scope")),
            (
                "spec.names.kind",
                _dict(spec.get("names")).get("kind"),
                _dict(old_spec.get("names")).get("kind"),
            ),
            *pairs,
        ]
    errs.extend(
        invalid(path, new if new is not None else "", FIELD_IMMUTABLE)
        for path, new, previous in pairs
        if new != previous
    )
    return errs


# --- custom resources ---------------------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _schema_types(raw: Mapping[str, Any]) -> tuple[str, ...]:
    if raw.get("x-kubernetes-int-or-string"):
        return ("integer", "string")
    kind = raw.get("type")
    if isinstance(kind, str):
        return (kind,) if kind else ()
    return tuple(k for k in kind or () if k != "null")


def _go_number(value: Any) -> str:
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def _cr_scalar(path: str, raw: Mapping[str, Any], value: Any) -> list[Cause]:
    """String and number keywords of a custom resource schema (kube-openapi's wording)."""
    errs: list[Cause] = []
    if isinstance(value, str):
        if isinstance(raw.get("maxLength"), int) and len(value) > raw["maxLength"]:
            errs.append(too_long(path, raw["maxLength"]))
        if isinstance(raw.get("minLength"), int) and len(value) < raw["minLength"]:
            errs.append(
                invalid(path, value, f"{path} in body should be at least {raw['minLength']} chars long")
            )
        pattern = raw.get("pattern")
        if isinstance(pattern, str) and re.search(pattern, value) is None:
            errs.append(invalid(path, value, f"{path} in body should match '{pattern}'"))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        errs.extend(_cr_number(path, raw, value))
    return errs


def _cr_number(path: str, raw: Mapping[str, Any], value: float) -> list[Cause]:
    errs: list[Cause] = []
    maximum, minimum = raw.get("maximum"), raw.get("minimum")
    if isinstance(maximum, (int, float)):
        exclusive = bool(raw.get("exclusiveMaximum"))
        if value > maximum or (exclusive and value == maximum):
            relation = "less than" if exclusive else "less than or equal to"
            errs.append(invalid(path, value, f"{path} in body should be {relation} {_go_number(maximum)}"))
    if isinstance(minimum, (int, float)):
        exclusive = bool(raw.get("exclusiveMinimum"))
        if value < minimum or (exclusive and value == minimum):
            relation = "greater than" if exclusive else "greater than or equal to"
            errs.append(invalid(path, value, f"{path} in body should be {relation} {_go_number(minimum)}"))
    factor = raw.get("multipleOf")
    if (
        isinstance(factor, (int, float))
        and factor > 0
        and (Decimal(repr(value)) % Decimal(repr(factor))) != 0
    ):
        errs.append(invalid(path, value, f"{path} in body should be a multiple of {_go_number(factor)}"))
    return errs


def _cr_array(path: str, raw: Mapping[str, Any], value: list[Any], schema: Schema) -> list[Cause]:
    errs: list[Cause] = []
    if isinstance(raw.get("maxItems"), int) and len(value) > raw["maxItems"]:
        errs.append(too_many(path, len(value), raw["maxItems"]))
    if isinstance(raw.get("minItems"), int) and len(value) < raw["minItems"]:
        errs.append(invalid(path, len(value), f"{path} in body should have at least {raw['minItems']} items"))
    if raw.get("uniqueItems") and len({go_json(v) for v in value}) != len(value):
        errs.append(invalid(path, "", f"{path} in body shouldn't contain duplicates"))
    items = schema.items()
    for index, item in enumerate(value):
        errs.extend(_cr_value(f"{path}[{index}]", items, item))
    return errs


def _cr_object(path: str, raw: Mapping[str, Any], value: JSONDict, schema: Schema) -> list[Cause]:
    errs: list[Cause] = []
    if isinstance(raw.get("maxProperties"), int) and len(value) > raw["maxProperties"]:
        errs.append(too_many(path, len(value), raw["maxProperties"]))
    if isinstance(raw.get("minProperties"), int) and len(value) < raw["minProperties"]:
        errs.append(
            invalid(
                path, len(value), f"{path} in body should have at least {raw['minProperties']} properties"
            )
        )
    properties = schema.properties
    values = schema.values()
    for name, item in value.items():
        if name in properties:
            if "$ref" not in properties[name]:  # standard metadata is checked as ObjectMeta
                errs.extend(_cr_value(_child(path, name), Schema(properties[name]), item))
        elif values is not None and values is not Schema.ANY:
            errs.extend(_cr_value(_child(path, name), values, item))
    errs.extend(required(_child(path, name)) for name in schema.required if name not in value)
    return errs


def _cr_value(path: str, schema: Schema, value: Any) -> list[Cause]:
    """kube-openapi's checks of one value against a structural schema node, children included."""
    raw = schema.raw
    types = _schema_types(raw)
    if value is None:
        if types and not raw.get("nullable"):
            kinds = ",".join(types)
            return [type_invalid(path, "null", f'{path} in body must be of type {kinds}: "null"')]
        return []
    actual = _json_type(value)
    fits = (
        actual in types
        or (actual == "number" and "integer" in types and float(value).is_integer())
        or (actual == "integer" and "number" in types)
    )
    if types and not fits:
        return [
            type_invalid(
                path, actual, f"{path} in body must be of type {','.join(types)}: {go_quote(actual)}"
            )
        ]
    errs = _cr_scalar(path, raw, value)
    if isinstance(value, list):
        errs.extend(_cr_array(path, raw, value, schema))
    enum = raw.get("enum")
    if isinstance(enum, list) and value not in enum:
        shown = [v if isinstance(v, str) else go_json(v) for v in enum]
        errs.append(not_supported(path, value, shown))
    if isinstance(value, dict):
        errs.extend(_cr_object(path, raw, value, schema))
    return errs


def _list_sets_and_maps(path: str, schema: Schema, value: Any) -> list[Cause]:
    """Uniqueness of ``x-kubernetes-list-type: set`` items and ``map`` keys, anywhere in a custom resource."""
    errs: list[Cause] = []
    if isinstance(value, list):
        list_type, keys = (
            schema.raw.get("x-kubernetes-list-type"),
            schema.raw.get("x-kubernetes-list-map-keys"),
        )
        seen: set[str] = set()
        for index, item in enumerate(value):
            if list_type == "set":
                marker, shown = go_json(item), item
            elif list_type == "map" and isinstance(item, dict) and isinstance(keys, list):
                shown = {k: item.get(k) for k in sorted(keys) if k in item}
                marker = go_json(shown)
            else:
                marker, shown = "", None
            if marker and marker in seen:
                errs.append(duplicate(f"{path}[{index}]", shown))
            seen.add(marker)
            errs.extend(_list_sets_and_maps(f"{path}[{index}]", schema.items(), item))
    elif isinstance(value, dict):
        properties, values = schema.properties, schema.values()
        for name, item in value.items():
            child = (
                Schema(properties[name])
                if name in properties and "$ref" not in properties[name]
                else (values if name not in properties else None)
            )
            if child is not None and child is not Schema.ANY:
                errs.extend(_list_sets_and_maps(_child(path, name), child, item))
    return errs


def _scale_replicas(path: str, obj: JSONDict) -> list[Cause]:
    node: Any = obj
    for step in path.lstrip(".").split("."):
        node = node.get(step) if isinstance(node, dict) else None
    number = _int(node)
    if number is not None and number < 0:
        return [invalid(path, number, "should be a non-negative integer")]
    if number is not None and number > MAX_INT32:
        return [invalid(path, number, f"should be less than or equal to {MAX_INT32}")]
    return []


def _validate_custom(rt: ResourceType, obj: JSONDict, old: JSONDict | None) -> list[Cause]:
    errs: list[Cause] = []
    if obj.get("kind") != rt.kind:
        errs.append(invalid("kind", obj.get("kind", ""), f"must be {rt.kind}"))
    if obj.get("apiVersion") != rt.api_version:
        errs.append(invalid("apiVersion", obj.get("apiVersion", ""), f"must be {rt.api_version}"))
    if errs:
        return errs
    if old is None:
        errs.extend(
            validate_object_meta(obj.get("metadata"), namespaced=rt.namespaced, name_check=dns1123_subdomain)
        )
    schema = for_type(None, rt.custom_schema)
    errs.extend(_cr_value("", schema, obj))
    errs.extend(_list_sets_and_maps("", schema, obj))
    if rt.scale_paths is not None:
        errs.extend(_scale_replicas(rt.scale_paths[0], obj))
        errs.extend(_scale_replicas(rt.scale_paths[1], obj))
    return errs


# --- dispatch -----------------------------------------------------------------------------------------------

Validator = Callable[[JSONDict, JSONDict | None], list[Cause]]

_VALIDATORS: dict[str, Validator] = {
    "namespaces": _validate_namespace,
    "nodes": _validate_node,
    "pods": _validate_pod,
    "services": _validate_service,
    "endpoints": _validate_endpoints,
    "configmaps": _validate_configmap,
    "secrets": _validate_secret,
    "serviceaccounts": _validate_serviceaccount,
    "events": _validate_event,
    "apps/deployments": _validate_deployment,
    "apps/replicasets": _validate_replicaset,
    "apiextensions.k8s.io/customresourcedefinitions": _validate_crd,
}


def _common_meta(rt: ResourceType, obj: JSONDict) -> list[Cause]:
    """What every write gets from the generic registry, whatever its kind: names safe as path segments."""
    return validate_object_meta(obj.get("metadata"), namespaced=rt.namespaced, name_check=_path_segment)


def validate(rt: ResourceType, obj: JSONDict, old: JSONDict | None = None) -> list[Cause]:
    """The causes kube-apiserver gives for rejecting this write with 422 Invalid (empty when it accepts it).

    ``old`` is the stored object for an update, None for a create. As the generic registry does, an update is
    first checked for metadata common to all kinds (and stops there if that fails); a create runs the kind's
    own checks first and the common metadata checks only when those pass.

    >>> from gitops_lab.sandbox.registry import builtin_types
    >>> bad = {"metadata": {"name": "web", "namespace": "default"},
    ...        "spec": {"template": {"metadata": {"labels": {"app": "web"}}}}}
    >>> for cause in validate(builtin_types()["apps/deployments"], bad)[:2]:
    ...     print(cause["field"] + ": " + cause["message"])
    spec.selector: Required value
    spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`
    """
    obj = obj if isinstance(obj, dict) else {}
    if old is not None:
        common = _common_meta(rt, obj) + validate_object_meta_update(
            obj.get("metadata"), _dict(old).get("metadata")
        )
        if common:
            return common
    if rt.is_custom:
        errs = _validate_custom(rt, obj, old)
    else:
        validator = _VALIDATORS.get(rt.key)
        errs = validator(obj, old) if validator is not None else []
    if old is None and not errs:
        errs = _common_meta(rt, obj)
    return errs


# --- walking an object alongside its schema -----------------------------------------------------------------


def _is_structural(schema: Schema, structural: bool | None) -> bool:
    """Custom resource schemas prune whatever they do not name; built-in free-form objects keep everything."""
    return structural if structural is not None else "x-kubernetes-group-version-kind" not in schema.raw


_EMBEDDED = {
    "apiVersion": {"type": "string"},
    "kind": {"type": "string"},
    "metadata": {"$ref": REF_PREFIX + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
}


def _known_child(schema: Schema, name: str, structural: bool) -> Schema | None:
    raw = schema.raw
    properties = raw.get("properties") or {}
    if name in properties:
        return Schema(properties[name])
    additional = raw.get("additionalProperties")
    if isinstance(additional, Mapping):
        return Schema(additional)
    if additional is True or raw.get("x-kubernetes-preserve-unknown-fields"):
        return Schema.ANY
    if raw.get("x-kubernetes-embedded-resource") and name in _EMBEDDED:
        return Schema(_EMBEDDED[name])
    return None if structural else schema.field(name)


def _walk_unknown(
    schema: Schema, value: Any, path: str, structural: bool, prune: bool, out: list[str]
) -> None:
    if schema is Schema.ANY:
        return
    if isinstance(value, dict):
        for name in list(value):
            child = _known_child(schema, name, structural)
            here = _child(path, name)
            if child is None:
                out.append(here)
                if prune:
                    del value[name]
            else:  # under a built-in type (standard metadata of a custom resource), built-in rules apply
                built_in = structural and "$ref" in (schema.raw.get("properties") or {}).get(name, {})
                _walk_unknown(child, value[name], here, structural and not built_in, prune, out)
    elif isinstance(value, list):
        items = schema.items()
        for index, item in enumerate(value):
            _walk_unknown(items, item, f"{path}[{index}]", structural, prune, out)


def unknown_fields(schema: Schema, obj: Any, *, structural: bool | None = None) -> list[str]:
    """Paths of the fields ``schema`` does not know, in document order
    (``spec.template.spec.containers[0].x``).

    Kube-apiserver's strict field validation reports them as ``unknown field "<path>"``. ``structural``
    selects custom-resource semantics (objects keep only what they name); by default it is inferred from the
    schema.

    >>> from gitops_lab.sandbox.schemas import definition
    >>> unknown_fields(definition("io.k8s.api.apps.v1.Deployment"), {"spec": {"replica": 2, "replicas": 2}})
    ['spec.replica']
    """
    out: list[str] = []
    _walk_unknown(schema, obj, "", _is_structural(schema, structural), False, out)
    return out


def prune_unknown(schema: Schema, obj: Any, *, structural: bool | None = None) -> None:
    """Drop the fields ``schema`` does not know, as ``fieldValidation=Ignore`` and CRD pruning do."""
    _walk_unknown(schema, obj, "", _is_structural(schema, structural), True, [])


# --- JSON decoding of built-in kinds ------------------------------------------------------------------------

_QUANTITY_REF = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING_REF = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_TIME_REFS = ("io.k8s.apimachinery.pkg.apis.meta.v1.Time", "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime")
_FREE_REFS = ("io.k8s.apimachinery.pkg.runtime.RawExtension", "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1")


@functools.cache
def _definition_names() -> dict[int, str]:
    return {id(raw): name for name, raw in definitions().items()}


def _ref(raw: Mapping[str, Any]) -> str | None:
    ref = raw.get("$ref")
    if isinstance(ref, str):
        return ref.removeprefix(REF_PREFIX)
    return _definition_names().get(id(raw))


def _go_name(definition_name: str) -> str:
    parts = definition_name.split(".")
    return f"{parts[-2]}.{parts[-1]}"


def go_type(raw: Mapping[str, Any]) -> str:
    """The Go type kube-apiserver decodes a schema node into (``int32``, ``[]v1.Container``,
    ``v1.PodSpec``)."""
    ref = _ref(raw)
    if ref is not None and "$ref" in raw:
        return _go_name(ref)
    node = Schema(raw).raw
    types = _schema_types(node)
    if "string" in types:
        return "[]uint8" if node.get("format") == "byte" else "string"
    if "integer" in types:
        return "int32" if node.get("format") == "int32" else "int64"
    if "number" in types:
        return "float32" if node.get("format") == "float" else "float64"
    if "boolean" in types:
        return "bool"
    if "array" in types:
        items = node.get("items")
        return "[]" + (go_type(items) if isinstance(items, Mapping) else "interface {}")
    additional = node.get("additionalProperties")
    if isinstance(additional, Mapping):
        return "map[string]" + go_type(additional)
    return _go_name(ref) if ref is not None else "map[string]interface {}"


def _number_text(value: Any) -> str:
    return str(value) if isinstance(value, int) else repr(value)


def _decode_kind(value: Any) -> str:
    return {"boolean": "bool", "integer": "number", "null": "null"}.get(_json_type(value), _json_type(value))


_BASE64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _base64_error(text: str) -> str | None:
    """Go's standard base64 decoder's complaint about a string (None when it decodes)."""
    data = text.encode()
    size, position = len(data), 0

    def corrupt(offset: int) -> str:
        return f"illegal base64 data at input byte {offset}"

    while True:
        filled = 0
        while filled < 4:
            if position == size:
                return None if filled == 0 else corrupt(position - filled)
            byte = data[position]
            position += 1
            if byte in _BASE64_ALPHABET:
                filled += 1
            elif byte in b"\r\n":
                continue
            elif byte != ord("=") or filled < 2:
                return corrupt(position - 1)
            else:
                return _base64_padding(data, position, filled, corrupt)


def _base64_padding(data: bytes, position: int, filled: int, corrupt: Callable[[int], str]) -> str | None:
    """After the first ``=`` of a quantum holding ``filled`` characters: what must follow."""
    size = len(data)
    if filled == 2:
        while position < size and data[position] in b"\r\n":
            position += 1
        if position == size:
            return corrupt(size)
        if data[position] != ord("="):
            return corrupt(position - 1)
        position += 1
    while position < size and data[position] in b"\r\n":
        position += 1
    return corrupt(position) if position < size else None


class _Decoder:
    """Walks a JSON value alongside the Go types a built-in kind decodes into, noting what Go would refuse."""

    def __init__(self) -> None:
        self.saved: list[str] = []
        self.aborting: list[str] = []

    def _fail(
        self, found: str, struct: str, fields: tuple[str, ...], go: str, *, aborts: bool = False
    ) -> None:
        where = f"Go struct field {struct}.{'.'.join(fields)}" if fields else "Go value"
        (self.aborting if aborts else self.saved).append(
            f"json: cannot unmarshal {found} into {where} of type {go}"
        )

    def _special(self, ref: str, value: Any, struct: str, fields: tuple[str, ...]) -> bool:
        """Types that decode themselves (their errors stop decoding); True when ``ref`` is one of them."""
        if ref == _QUANTITY_REF:
            try:
                parse_quantity(value)
            except (ValueError, InvalidOperation) as err:
                self.aborting.append(str(err) or QUANTITY_FORMAT_ERROR)
            return True
        if ref == _INT_OR_STRING_REF:
            if not isinstance(value, str):
                self._int32(value, struct, fields)
            return True
        if ref in _TIME_REFS:
            if not isinstance(value, str):
                self._fail(_decode_kind(value), struct, fields, "string", aborts=True)
            return True
        return ref in _FREE_REFS

    def _int32(self, value: Any, struct: str, fields: tuple[str, ...]) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self._fail(_decode_kind(value), struct, fields, "int32", aborts=True)
        elif isinstance(value, float) or not MIN_INT32 <= value <= MAX_INT32:
            self._fail(f"number {_number_text(value)}", struct, fields, "int32", aborts=True)

    def walk(self, raw: Mapping[str, Any], value: Any, struct: str, fields: tuple[str, ...]) -> None:
        if value is None:
            return
        ref = _ref(raw)
        if ref is not None and self._special(ref, value, struct, fields):
            return
        node = Schema(raw).raw
        go = go_type(raw)
        if self._scalar(node, value, struct, fields, go):
            return
        if go.startswith("[]"):
            self._array(node, value, struct, fields, go)
        elif isinstance(node.get("additionalProperties"), Mapping) or node.get("properties"):
            self._object(node, value, ref, struct, fields, go)

    def _scalar(
        self, node: Mapping[str, Any], value: Any, struct: str, fields: tuple[str, ...], go: str
    ) -> bool:
        types = _schema_types(node)
        if "string" in types:
            if not isinstance(value, str):
                self._fail(_decode_kind(value), struct, fields, go)
            elif node.get("format") == "byte":
                problem = _base64_error(value)
                if problem:
                    self.saved.append(problem)
            return True
        if "integer" in types:
            low, high = (MIN_INT32, MAX_INT32) if go == "int32" else (MIN_INT64, MAX_INT64)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self._fail(_decode_kind(value), struct, fields, go)
            elif isinstance(value, float) or not low <= value <= high:
                self._fail(f"number {_number_text(value)}", struct, fields, go)
            return True
        if "number" in types or "boolean" in types:
            expected = (int, float) if "number" in types else (bool,)
            if not isinstance(value, expected) or ("number" in types and isinstance(value, bool)):
                self._fail(_decode_kind(value), struct, fields, go)
            return True
        return False

    def _array(
        self, node: Mapping[str, Any], value: Any, struct: str, fields: tuple[str, ...], go: str
    ) -> None:
        if not isinstance(value, list):
            self._fail(_decode_kind(value), struct, fields, go)
            return
        items = node.get("items")
        if isinstance(items, Mapping):
            for item in value:
                self.walk(items, item, struct, fields)

    def _object(
        self,
        node: Mapping[str, Any],
        value: Any,
        ref: str | None,
        struct: str,
        fields: tuple[str, ...],
        go: str,
    ) -> None:
        if not isinstance(value, dict):
            self._fail(_decode_kind(value), struct, fields, go)
            return
        additional = node.get("additionalProperties")
        if isinstance(additional, Mapping):
            for item in value.values():
                self.walk(additional, item, struct, fields)
            return
        inner = ref.rsplit(".", 1)[-1] if ref is not None else struct
        properties = node.get("properties") or {}
        for name, item in value.items():
            if name in properties:
                self.walk(properties[name], item, inner, (*fields, name))


def type_errors(schema: Schema, obj: Any) -> list[str]:
    """What decoding ``obj`` into a built-in kind's Go types fails on; the first entry is what kube-apiserver
    reports (a self-decoding type's failure, else the first plain mismatch), answering 400 BadRequest with
    ``<Kind> in version "<version>" cannot be handled as a <Kind>: <message>``. Custom resources decode into
    untyped JSON, so for them type mismatches are 422 causes from :func:`validate` instead.

    >>> from gitops_lab.sandbox.schemas import definition
    >>> type_errors(definition("io.k8s.api.apps.v1.Deployment"), {"spec": {"replicas": "3"}})
    ['json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32']
    """
    decoder = _Decoder()
    raw = schema.raw
    kinds = raw.get("x-kubernetes-group-version-kind")
    struct = _ref(raw)
    name = (
        struct.rsplit(".", 1)[-1] if struct else (kinds[0].get("kind", "") if isinstance(kinds, list) else "")
    )
    if isinstance(obj, dict):
        properties = raw.get("properties") or {}
        for key, value in obj.items():
            if key in properties:
                decoder.walk(properties[key], value, name, (key,))
    else:
        decoder.walk(raw, obj, name, ())
    return decoder.aborting + decoder.saved


# --- what a patch's decoding says (DefaultUnstructuredConverter, Go's %+v) ---------------------------------


def go_value_text(value: Any) -> str:
    """A decoded JSON value as Go's ``%+v`` prints it (maps with sorted keys, ``<nil>`` for null).

    Kube-apiserver shows a strategic merge patch it could not decode this way.

    >>> go_value_text({"spec": {"replicas": "two", "paused": None, "x": [1, 2.5, True]}})
    'map[spec:map[paused:<nil> replicas:two x:[1 2.5 true]]]'
    """
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value_text(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_value_text(v) for v in value) + "]"
    return str(value)


def go_sorted_json(value: Any) -> str:
    """Compact JSON with every object's keys sorted, as Go marshals a ``map[string]interface{}``."""
    def ordered(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ordered(v[k]) for k in sorted(v)}
        if isinstance(v, list):
            return [ordered(x) for x in v]
        return v
    return go_json(ordered(value))


def _go_kind(value: Any) -> str:
    """The reflect.Kind of a decoded JSON value (integers decode to int64, other numbers to float64)."""
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    return "float64" if isinstance(value, float) else "string"


def _convert(raw: Mapping[str, Any], value: Any) -> str | None:
    """The first error converting ``value`` into the Go type of ``raw`` (None when it converts)."""
    if value is None:
        return None
    ref = _ref(raw)
    if ref == _QUANTITY_REF:
        try:
            parse_quantity(value)
        except (ValueError, InvalidOperation) as err:
            return str(err) or QUANTITY_FORMAT_ERROR
        return None
    if ref == _INT_OR_STRING_REF:
        ok = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
        return None if ok else f"json: cannot unmarshal {_decode_kind(value)} into Go value of type int32"
    if ref in _TIME_REFS:
        return None if isinstance(value, str) else \
            f"json: cannot unmarshal {_decode_kind(value)} into Go value of type string"
    if ref in _FREE_REFS:
        return None
    node = Schema(raw).raw
    go = go_type(raw)
    if go == "[]uint8":
        if not isinstance(value, str):
            return f"cannot restore slice from {_go_kind(value)}"
        return _base64_error(value)
    if go in ("string", "bool", "int32", "int64", "float32", "float64"):
        source = _go_kind(value)
        if source == go or (go.startswith("float") and source in ("int64", "float64")) or (
                go.startswith("int") and source == "int64"):
            return None
        if go.startswith("int") and source == "float64":
            return None if float(value).is_integer() else f"cannot convert float64 to {go}"
        if go == "string" and source == "int64":
            return "cannot convert int64 to string"
        return f"unrecognized type: {go}"
    if go.startswith("[]"):
        if not isinstance(value, list):
            return f"cannot restore slice from {_go_kind(value)}"
        items = node.get("items")
        return next((e for e in (_convert(items, v) for v in value) if e), None) if isinstance(items, Mapping) \
            else None
    additional = node.get("additionalProperties")
    if isinstance(additional, Mapping):
        if not isinstance(value, dict):
            return f"cannot restore map from {_go_kind(value)}"
        return next((e for e in (_convert(additional, v) for v in value.values()) if e), None)
    properties = node.get("properties")
    if properties:
        if not isinstance(value, dict):
            return f"cannot restore struct from: {_go_kind(value)}"
        return next((e for e in (_convert(properties[k], v) for k, v in value.items() if k in properties) if e),
                    None)
    return None


def conversion_error(schema: Schema, obj: Any) -> str | None:
    """What ``runtime.DefaultUnstructuredConverter`` says when an object (as a strategic merge patch made it)
    does not fit a built-in kind's Go types; kube-apiserver answers that patch with 422 on the field ``patch``.

    >>> from gitops_lab.sandbox.schemas import definition
    >>> conversion_error(definition("io.k8s.api.apps.v1.Deployment"), {"spec": {"replicas": "two"}})
    'unrecognized type: int32'
    >>> conversion_error(definition("io.k8s.api.apps.v1.Deployment"), {"spec": {"template": []}})
    'cannot restore struct from: slice'
    """
    return _convert(schema.raw, obj)


def _empty_collection_dropped(raw: Mapping[str, Any]) -> bool:
    node = Schema(raw).raw
    return "array" in _schema_types(node) or (
        isinstance(node.get("additionalProperties"), Mapping) and not node.get("properties"))


def drop_empty_optional(schema: Schema, obj: Any) -> None:
    """Drop the empty maps and lists of optional fields, as encoding a built-in kind's Go struct does
    (``omitempty``): ``labels: {}`` left by removing the last label is not shown. Structs stay (``{}``).

    >>> from gitops_lab.sandbox.schemas import definition
    >>> cm = {"metadata": {"name": "c", "labels": {}, "finalizers": []}, "data": {}}
    >>> drop_empty_optional(definition("io.k8s.api.core.v1.ConfigMap"), cm); cm
    {'metadata': {'name': 'c'}}
    """
    node = schema.raw
    properties = node.get("properties") or {}
    if isinstance(obj, dict) and properties:
        required = set(node.get("required") or ())
        for name in list(obj):
            child = properties.get(name)
            if child is None:
                continue
            value = obj[name]
            if value in ({}, []) and name not in required and _empty_collection_dropped(child):
                del obj[name]
            elif isinstance(value, (dict, list)):
                drop_empty_optional(Schema(child), value)
        return
    if isinstance(obj, list):
        items = node.get("items")
        if isinstance(items, Mapping):
            for item in obj:
                drop_empty_optional(Schema(items), item)
        return
    additional = node.get("additionalProperties")
    if isinstance(obj, dict) and isinstance(additional, Mapping):
        for item in obj.values():
            if isinstance(item, (dict, list)):
                drop_empty_optional(Schema(additional), item)
