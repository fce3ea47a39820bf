"""API errors as the Kubernetes ``Status`` objects kube-apiserver answers with.

Owns :class:`ApiError` and one constructor per failure the sandbox reports. Pure: callers decide how to send it.

>>> err = invalid("Deployment", "web", [cause("FieldValueRequired", "Required value", "spec.selector")], "apps")
>>> err.code, err.status()["message"]
(422, 'Deployment.apps "web" is invalid: spec.selector: Required value')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# kubectl prints "<Kind>.<group>" in messages for non-core kinds; callers pass the qualified kind.


class ApiError(Exception):
    """An error answer: HTTP code, Status reason, message and optional details."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if not self.reason:  # metav1.Status.reason is omitempty: errors the apiserver did not classify have none
            del body["reason"]
        if self.details:
            body["details"] = self.details
        return body


def _details(name: str | None, group: str, kind: str, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": kind}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details.update(extra)
    return details


def qualified(plural_or_kind: str, group: str) -> str:
    return f"{plural_or_kind}.{group}" if group else plural_or_kind


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
            '"': '\\"', "\\": "\\\\"}


def quoted(name: str) -> str:
    """A name as the apiserver's messages show it (Go's ``%q``): plain names in quotes, odd characters escaped.

    >>> print(quoted("web"), quoted("tab\\there"))
    "web" "tab\\there"
    """
    out = []
    for char in name:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF:  # a lone surrogate is invalid UTF-8 to Go: shown as U+FFFD
            out.append("\\ufffd")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def not_found(plural: str, name: str, group: str = "") -> ApiError:
    return ApiError(404, "NotFound", f"{qualified(plural, group)} {quoted(name)} not found",
                    _details(name, group, plural))


def already_exists(plural: str, name: str, group: str = "") -> ApiError:
    return ApiError(409, "AlreadyExists", f"{qualified(plural, group)} {quoted(name)} already exists",
                    _details(name, group, plural))


def conflict(plural: str, name: str, group: str, why: str) -> ApiError:
    return ApiError(409, "Conflict",
                    f"Operation cannot be fulfilled on {qualified(plural, group)} {quoted(name)}: {why}",
                    _details(name, group, plural))


def cause(reason: str, message: str, field: str) -> dict[str, str]:
    """One entry of ``details.causes``; ``reason`` is e.g. FieldValueRequired, FieldValueInvalid."""
    return {"reason": reason, "message": message, "field": field}


def invalid(kind: str, name: str, causes: list[dict[str, str]], group: str = "") -> ApiError:
    """422 Invalid; ``kind`` as kubectl shows it (``Deployment``), ``group`` qualifies it (``apps``)."""
    parts = [f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes]
    summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return ApiError(422, "Invalid", f"{qualified(kind, group)} {quoted(name)} is invalid: {summary}",
                    _details(name, group, kind, causes=causes))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(message: str) -> ApiError:
    return ApiError(403, "Forbidden", message)


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def not_acceptable(message: str) -> ApiError:
    return ApiError(406, "NotAcceptable", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def too_large(message: str = "Request entity too large: limit is 3145728") -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", message)


def unsupported_media_type(accepted: Sequence[str]) -> ApiError:
    """415 for a body in a media type the endpoint does not decode; ``accepted`` in the apiserver's order."""
    return ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                    f"accepted media types include: {', '.join(accepted)}")


def too_deep(limit: int) -> ApiError:
    """400 for a document nested deeper than the sandbox serves (see ``documents.MAX_DEPTH``)."""
    return ApiError(400, "BadRequest", f"the request body nests deeper than {limit} levels, which the sandbox "
                    f"does not serve")


def not_found_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}")
