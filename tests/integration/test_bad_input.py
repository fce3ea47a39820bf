"""Bad input over HTTPS: every malformed request is answered with a 4xx ``Status`` and the sandbox keeps serving.

Talks to a real sandbox with a plain HTTPS client (the sandbox's CA, its bearer token), not kubectl, so that any
bytes can be sent. Covers:

* a table of malformed requests, each answered with kube-apiserver's code and reason (and its message where the
  sandbox words it as the apiserver does) in a ``Status`` of ``status: Failure``: bodies that are not JSON, YAML or
  protobuf, or not objects (arrays, strings, null); unknown media types on POST, PUT, PATCH and DELETE; bodies over
  3 MiB; unknown groups, versions, kinds, subresources and paths; bad label and field selectors; bad ``limit``,
  ``resourceVersion``, ``timeoutSeconds``, ``gracePeriodSeconds``, ``tailLines``, ``dryRun``, ``fieldValidation``,
  ``fieldManager`` and ``propagationPolicy`` values; unsupported methods; bad JSON, merge, strategic merge and apply
  patches; apply without ``fieldManager``; name, namespace, kind and apiVersion mismatches; documents nested 10,000
  deep, alias bombs, huge numbers, NaN, invalid UTF-8, lone surrogates, NUL bytes and very long names;
* hypothesis fuzzing (a few hundred examples, no deadline) of paths, methods, media types, query parameters and
  bodies (random JSON values, random bytes, YAML, random mutations of valid objects, random patches of every type),
  asserting no 500 except where kube-apiserver answers 500 itself, a ``Status`` for every error, and nothing
  logged as an internal error by the sandbox's HTTP layer;
* afterwards: ``/readyz``, a normal GET, creating, listing and deleting through kubectl all work and the sandbox's
  event loop still runs.

kube-apiserver v1.37 answers 500 itself for some input; the sandbox answers alike and this module marks those
cases: a watch or get with an unparseable ``resourceVersion`` (kubernetes/kubernetes#139485, still open) and
strategic merge patches its library rejects with errors the handler does not map (see
``gitops_lab/sandbox/patching.py``).

Not covered: methods aiohttp's HTTP parser refuses before any application code runs (``FOO`` gets a plain-text
400, where Go's server would let go-restful answer 405), and ``Accept`` negotiation (406 Not Acceptable).
"""

from __future__ import annotations

import copy
import dataclasses
import http.client
import json
import logging
import pathlib
import ssl
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gitops_lab.sandbox import server
from tests.integration.conftest import Kubectl

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
SMP = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
BODY_TYPES = f"{JSON}, {YAML}, {PROTOBUF}"
PATCH_TYPES = f"{JSON_PATCH}, {MERGE_PATCH}, {SMP}, {APPLY}"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
NOT_FOUND = "the server could not find the requested resource"
NOT_ALLOWED = "the server does not allow this method on the requested resource"
REJECTED = "the server rejected our request due to an error in our request"
PANICKED = "This request caused apiserver to panic. Look in the logs for details."
TOO_DEEP = "the request body nests deeper than 100 levels, which the sandbox does not serve"
MAX_BODY = 3 * 1024 * 1024
GROUP = "bad-input.example.com"
CRD_NAME = f"widgets.{GROUP}"
FUZZ = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


# ---- an HTTPS client with the sandbox's CA and token ------------------------------------------------------------

@dataclasses.dataclass
class Answer:
    code: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """One HTTPS connection per request to the sandbox, as any client outside kubectl would talk to it."""

    def __init__(self, url: str, pki: pathlib.Path) -> None:
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 443
        self.context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        self.token = (pki / "token").read_text().strip()

    def __call__(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
                 headers: dict[str, str] | None = None, *, stream: bool = False) -> Answer:
        """Send one request; with ``stream`` a 200 is not read (a watch: only its status and headers matter)."""
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=30)
        try:
            sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
            if content_type is not None:
                sent["Content-Type"] = content_type
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = b"" if stream and response.status == 200 else response.read()
            return Answer(response.status, response.getheader("Content-Type") or "", data)
        finally:
            conn.close()

    def ok(self, method: str, path: str, body: Any = None, content_type: str = JSON) -> Any:
        raw = None if body is None else json.dumps(body).encode()
        answer = self(method, path, raw, content_type if raw is not None else None)
        assert answer.code in (200, 201), f"{method} {path}: {answer.code} {answer.body[:500]!r}"
        return answer.json()


# ---- what every error answer must be -----------------------------------------------------------------------------

def status_of(answer: Answer, what: str) -> dict[str, Any]:
    """The answer's Status, asserting it is one: kind Status, apiVersion v1, status Failure, matching code."""
    assert answer.content_type.startswith(JSON), f"{what}: {answer.code} {answer.content_type} {answer.body[:300]!r}"
    status = answer.json()
    assert (status.get("kind"), status.get("apiVersion"), status.get("status"), status.get("code")) == \
        ("Status", "v1", "Failure", answer.code), f"{what}: {status}"
    assert isinstance(status.get("message"), str), f"{what}: {status}"
    return status


def kube_500(status: dict[str, Any], content_type: str | None, query: dict[str, str]) -> bool:
    """Whether a 500 is one kube-apiserver v1.37 answers itself for this input (so the sandbox models it)."""
    if status["code"] != 500:
        return False
    if "resourceVersion" in query and "reason" not in status and \
            status["message"].startswith("resourceVersion: Invalid value: "):
        return True  # watch/get: the storage's parse error is not mapped (kubernetes/kubernetes#139485)
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type in (JSON_PATCH, SMP) and status.get("reason") == "InternalError" and status["message"] == PANICKED:
        return True  # json-patch v4 and strategicpatch panic on some documents; the handler recovers
    return media_type == SMP and "reason" not in status  # strategicpatch errors passed through unmapped


class LogRecords(logging.Handler):
    """What the sandbox and aiohttp log at WARNING and above: the sandbox's HTTP layer logs each unexpected
    exception as an "Internal error", aiohttp each request it failed to answer at all."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def internal_errors(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in self.records
                if "Internal error" in r.getMessage() or (r.name.startswith("aiohttp") and r.levelno >= logging.ERROR)]


# ---- fixtures ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sandbox_log() -> Iterator[LogRecords]:
    handler = LogRecords()
    loggers = [logging.getLogger("gitops_lab.sandbox"), logging.getLogger("aiohttp")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


@pytest.fixture(autouse=True)
def no_internal_errors(sandbox_log: LogRecords) -> Iterator[None]:
    """Each test ends with nothing logged as an internal error (a bug answered 500 by the HTTP layer)."""
    before = len(sandbox_log.internal_errors())
    yield
    assert sandbox_log.internal_errors()[before:] == []


@pytest.fixture(scope="module")
def client(sandbox: server.Sandbox, sandbox_log: LogRecords) -> Client:
    return Client(sandbox.url, sandbox.kubeconfig.parent / "pki")


def poll(check: Any, what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def seed(client: Client, ns: str) -> None:
    """(Re)create the module's objects as they start: the fuzzing may have changed or deleted them."""
    for collection, obj in ((f"/api/v1/namespaces/{ns}/configmaps", CONFIGMAP),
                            (f"/apis/apps/v1/namespaces/{ns}/deployments", DEPLOYMENT),
                            (f"/api/v1/namespaces/{ns}/services", SERVICE),
                            (f"/apis/{GROUP}/v1/namespaces/{ns}/widgets", WIDGET)):
        client("DELETE", f"{collection}/{obj['metadata']['name']}")
        client.ok("POST", collection, obj)


@pytest.fixture(scope="module")
def ns(client: Client) -> Iterator[str]:
    """A namespace of this module's with a ConfigMap ``cm``, a Deployment ``web``, a Service ``svc`` and a custom
    resource type ``widgets`` (cluster-scoped CRD) holding the Widget ``w``; all removed afterwards."""
    name = f"bad-input-{uuid.uuid4().hex[:6]}"
    client.ok("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    client.ok("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD)
    poll(lambda: client("GET", f"/apis/{GROUP}/v1/namespaces/{name}/widgets").code == 200, "the Widget type")
    seed(client, name)
    yield name
    client("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{CRD_NAME}")
    client("DELETE", f"/api/v1/namespaces/{name}")


CONFIGMAP: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "labels": {"app": "web"}},
             "data": {"a": "1"}}
DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
    "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                                   "ports": [{"containerPort": 80}]}]}}},
}
SERVICE: dict[str, Any] = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}]}}
CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": CRD_NAME},
    "spec": {"group": GROUP, "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object", "properties": {"spec": {"type": "object", "properties": {
                     "size": {"type": "integer"}, "extra": {"type": "object",
                                                            "x-kubernetes-preserve-unknown-fields": True}}}}}}}]},
}
WIDGET: dict[str, Any] = {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}}


# ---- the table -----------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Case:
    """One malformed request and kube-apiserver's answer to it (``message`` when the sandbox words it alike)."""

    id: str
    method: str
    path: str  # "{ns}" is the module's namespace
    code: int
    reason: str | None  # None: the Status carries no reason (kube-apiserver's unmapped errors)
    body: bytes | None = None
    content_type: str | None = None
    message: str | None = None
    contains: str | None = None
    kube_500: str = ""  # why kube-apiserver itself answers 500 here
    headers: dict[str, str] | None = None

    def param(self) -> Any:
        return pytest.param(self, id=self.id)


def nested(depth: int, leaf: bytes = b"1") -> bytes:
    return b'{"a":' * depth + leaf + b"}" * depth


CM = "/api/v1/namespaces/{ns}/configmaps"
WIDGETS = "/apis/" + GROUP + "/v1/namespaces/{ns}/widgets"
CM_BODY = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}'
ALIAS_BOMB = b"a: &a [x,x,x,x,x,x,x,x,x]\n" + b"".join(
    b"%s: &%s [%s]\n" % (bytes([c]), bytes([c]), b",".join([b"*" + bytes([c - 1])] * 9)) for c in range(98, 107))

CASES = [
    # bodies that are not documents, or not objects
    Case("json-malformed", "POST", CM, 400, "BadRequest", b'{"metadata": {', JSON),
    Case("json-trailing-data", "POST", CM, 400, "BadRequest", CM_BODY + b" trailing", JSON),
    Case("json-empty", "POST", CM, 400, "BadRequest", b"", JSON),
    Case("json-nan", "POST", CM, 400, "BadRequest", b'{"metadata":{"name":"x"},"data":{"a":NaN}}', JSON),
    Case("json-byte-order-mark", "POST", CM, 400, "BadRequest", b"\xef\xbb\xbf" + CM_BODY, JSON),
    Case("json-array", "POST", CM, 400, "BadRequest", b"[]", JSON),
    Case("json-string", "POST", CM, 400, "BadRequest", b'"configmap"', JSON),
    Case("json-number", "POST", CM, 400, "BadRequest", b"7", JSON),
    # Go decodes null into an empty ConfigMap, which has no name
    Case("json-null", "POST", CM, 422, "Invalid", b"null", JSON,
         'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'),
    Case("yaml-malformed", "POST", CM, 400, "BadRequest", b"metadata: [name: x", YAML),
    Case("yaml-list", "POST", CM, 400, "BadRequest", b"- a\n- b\n", YAML),
    Case("yaml-alias-bomb", "POST", CM, 400, "BadRequest", ALIAS_BOMB, YAML,
         "yaml: document contains excessive aliasing"),
    Case("yaml-self-alias", "POST", CM, 400, "BadRequest", b"&a {metadata: {name: x}, data: *a}", YAML),
    Case("yaml-infinity", "POST", CM, 400, "BadRequest", b"metadata: {name: x}\ndata: {a: .inf}", YAML,
         "error converting YAML to JSON: json: unsupported value: +Inf"),
    Case("protobuf-garbage", "POST", CM, 400, "BadRequest", b"\x00\x01garbage", PROTOBUF),
    Case("protobuf-bad-envelope", "POST", CM, 400, "BadRequest", b"k8s\x00\x0a\x02\x08\x01", PROTOBUF),
    Case("protobuf-for-custom-resource", "POST", WIDGETS, 415, "UnsupportedMediaType", b"k8s\x00\x0a\x00", PROTOBUF,
         f"the body of the request was in an unknown format - accepted media types include: {JSON}, {YAML}"),
    # media types and sizes
    Case("unknown-media-type-create", "POST", CM, 415, "UnsupportedMediaType", CM_BODY, "text/plain",
         f"the body of the request was in an unknown format - accepted media types include: {BODY_TYPES}"),
    Case("wildcard-media-type-create", "POST", CM, 415, "UnsupportedMediaType", CM_BODY, "*/*",
         f"the body of the request was in an unknown format - accepted media types include: {BODY_TYPES}"),
    Case("unknown-media-type-update", "PUT", CM + "/cm", 415, "UnsupportedMediaType", CM_BODY, "text/html",
         f"the body of the request was in an unknown format - accepted media types include: {BODY_TYPES}"),
    Case("unknown-media-type-patch", "PATCH", CM + "/cm", 415, "UnsupportedMediaType", b"{}", JSON,
         f"the body of the request was in an unknown format - accepted media types include: {PATCH_TYPES}"),
    Case("cbor-apply-patch", "PATCH", CM + "/cm?fieldManager=t", 415, "UnsupportedMediaType", b"\xa0",
         "application/apply-patch+cbor",
         f"the body of the request was in an unknown format - accepted media types include: {PATCH_TYPES}"),
    Case("strategic-merge-patch-for-custom-resource", "PATCH", WIDGETS + "/w", 415, "UnsupportedMediaType", b"{}",
         SMP, "the body of the request was in an unknown format - accepted media types include: "
         f"{JSON_PATCH}, {MERGE_PATCH}, {APPLY}"),
    Case("unknown-media-type-delete", "DELETE", CM + "/missing", 415, "UnsupportedMediaType", b"{}", "text/plain",
         f"the body of the request was in an unknown format - accepted media types include: {BODY_TYPES}"),
    Case("body-over-3MiB", "POST", CM, 413, "RequestEntityTooLarge", b'{"a":"' + b"x" * MAX_BODY + b'"}', JSON,
         "Request entity too large: limit is 3145728"),
    Case("patch-over-3MiB", "PATCH", CM + "/cm", 413, "RequestEntityTooLarge", b" " * (MAX_BODY + 1), MERGE_PATCH,
         "Request entity too large: limit is 3145728"),
    # paths
    Case("unknown-kind", "GET", "/api/v1/namespaces/{ns}/widgets", 404, "NotFound", message=NOT_FOUND),
    Case("unknown-group", "GET", "/apis/nope.example.com/v1/things", 404, "NotFound", message=NOT_FOUND),
    Case("unknown-group-discovery", "GET", "/apis/nope.example.com", 404, "NotFound", message=NOT_FOUND),
    Case("unknown-version", "GET", "/apis/apps/v9/namespaces/{ns}/deployments", 404, "NotFound", message=NOT_FOUND),
    Case("unknown-core-version", "GET", "/api/v2/namespaces/{ns}/pods", 404, "NotFound", message=NOT_FOUND),
    Case("unknown-root-path", "GET", "/nope", 404, "NotFound", message=NOT_FOUND),
    Case("unknown-subresource", "GET", CM + "/cm/status", 404, "NotFound", message=NOT_FOUND),
    Case("too-many-segments", "GET", CM + "/cm/status/extra/more", 404, "NotFound", message=NOT_FOUND),
    Case("named-without-namespace", "GET", "/api/v1/configmaps/cm", 404, "NotFound", message=NOT_FOUND),
    Case("missing-object", "GET", CM + "/missing", 404, "NotFound", message='configmaps "missing" not found'),
    Case("nul-in-url-name", "GET", CM + "/a%00b", 404, "NotFound", message='configmaps "a\\x00b" not found'),
    Case("percent-in-name", "GET", CM + "/a%25b", 400, "BadRequest",
         message="Name parameter invalid: \"a%b\": may not contain '%'"),
    Case("long-name-in-url", "GET", CM + "/" + "a" * 5000, 404, "NotFound",
         message=f'configmaps "{"a" * 5000}" not found'),
    # methods
    Case("put-on-collection", "PUT", CM, 405, "MethodNotAllowed", CM_BODY, JSON, NOT_ALLOWED),
    Case("patch-on-collection", "PATCH", CM, 405, "MethodNotAllowed", b"{}", MERGE_PATCH, NOT_ALLOWED),
    Case("post-on-object", "POST", CM + "/cm", 405, "MethodNotAllowed", CM_BODY, JSON, NOT_ALLOWED),
    Case("options", "OPTIONS", CM, 405, "MethodNotAllowed", message=NOT_ALLOWED),
    Case("post-across-namespaces", "POST", "/api/v1/configmaps", 405, "MethodNotAllowed", CM_BODY, JSON,
         NOT_ALLOWED),
    Case("delete-across-namespaces", "DELETE", "/api/v1/configmaps", 405, "MethodNotAllowed", message=NOT_ALLOWED),
    Case("post-to-discovery", "POST", "/apis/apps/v1", 405, "MethodNotAllowed", b"{}", JSON, NOT_ALLOWED),
    Case("post-to-version", "POST", "/version", 405, "MethodNotAllowed", b"{}", JSON, NOT_ALLOWED),
    # selectors and list/watch options
    Case("label-selector-unfinished", "GET", CM + "?labelSelector=a%20in", 400, "BadRequest",
         message="unable to parse requirement: found '' expected: '('"),
    Case("label-selector-garbage", "GET", CM + "?labelSelector=!!!", 400, "BadRequest"),
    Case("field-selector-unknown-field", "GET", CM + "?fieldSelector=spec.foo%3Dbar", 400, "BadRequest",
         message='"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"'),
    Case("field-selector-garbage", "GET", CM + "?fieldSelector=%3D%3D%3D", 400, "BadRequest"),
    Case("watch-bad-label-selector", "GET", CM + "?watch=true&labelSelector=a%20in", 400, "BadRequest",
         message="unable to parse requirement: found '' expected: '('"),
    Case("delete-collection-bad-selector", "DELETE", CM + "?labelSelector=a%20in", 400, "BadRequest"),
    Case("limit-not-a-number", "GET", CM + "?limit=abc", 400, "BadRequest",
         message='strconv.ParseInt: parsing "abc": invalid syntax'),
    Case("limit-out-of-range", "GET", CM + "?limit=99999999999999999999", 400, "BadRequest",
         message='strconv.ParseInt: parsing "99999999999999999999": value out of range'),
    Case("continue-garbage", "GET", CM + "?limit=1&continue=zzz", 400, "BadRequest", contains="continue"),
    Case("list-bad-resource-version", "GET", CM + "?resourceVersion=abc", 400, "BadRequest",
         message='invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: '
                 'parsing "abc": invalid syntax'),
    Case("watch-bad-resource-version", "GET", CM + "?watch=true&resourceVersion=abc", 500, None,
         message='resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax',
         kube_500="the watch cache's parse error is not mapped to a Status (kubernetes/kubernetes#139485)"),
    Case("watch-negative-resource-version", "GET", CM + "?watch=true&resourceVersion=-1", 500, None,
         message='resourceVersion: Invalid value: "-1": strconv.ParseUint: parsing "-1": invalid syntax',
         kube_500="the watch cache's parse error is not mapped to a Status (kubernetes/kubernetes#139485)"),
    Case("get-bad-resource-version", "GET", CM + "/cm?resourceVersion=x1", 500, None,
         message='resourceVersion: Invalid value: "x1": strconv.ParseUint: parsing "x1": invalid syntax',
         kube_500="the cache delegator's parse error is not mapped to a Status (kubernetes/kubernetes#139485)"),
    Case("watch-bad-timeout", "GET", CM + "?watch=true&timeoutSeconds=1s", 400, "BadRequest",
         message='strconv.ParseInt: parsing "1s": invalid syntax'),
    Case("log-bad-tail-lines", "GET", "/api/v1/namespaces/{ns}/pods/p/log?tailLines=ten", 400, "BadRequest",
         message='strconv.ParseInt: parsing "ten": invalid syntax'),
    Case("log-negative-tail-lines", "GET", "/api/v1/namespaces/{ns}/pods/p/log?tailLines=-1", 422, "Invalid",
         message='PodLogOptions "p" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0'),
    Case("table-bad-include-object", "GET", CM + "?includeObject=Bogus", 400, "BadRequest",
         message="Unable to convert to Table as requested: includeObject: Invalid value: \"Bogus\": must be "
                 "'Metadata', 'Object', 'None', or empty", headers={"Accept": TABLE}),
    Case("table-watch-bad-include-object", "GET", CM + "?watch=1&includeObject=all", 400, "BadRequest",
         contains="includeObject", headers={"Accept": TABLE}),
    # write options
    Case("create-bad-dry-run", "POST", CM + "?dryRun=All&dryRun=foo", 422, "Invalid", CM_BODY, JSON,
         'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["All","foo"]: supported values: '
         '"All"'),
    Case("create-bad-field-validation", "POST", CM + "?fieldValidation=Lenient", 422, "Invalid", CM_BODY, JSON,
         'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Lenient": supported '
         'values: "", "Ignore", "Strict", "Warn"'),
    Case("update-long-field-manager", "PUT", CM + "/cm?fieldManager=" + "m" * 129, 422, "Invalid", CM_BODY, JSON,
         'UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes'),
    Case("patch-unprintable-field-manager", "PATCH", CM + "/cm?fieldManager=a%07b", 422, "Invalid", b"{}",
         MERGE_PATCH, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\ab": invalid '
         "character U+0007 (at position 1)"),
    Case("options-checked-before-body", "POST", CM + "?dryRun=x", 422, "Invalid", b"{not json", JSON,
         'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["x"]: supported values: "All"'),
    Case("delete-bad-propagation", "DELETE", CM + "/missing?propagationPolicy=Sideways", 422, "Invalid",
         message='DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": '
                 'supported values: "Foreground", "Background", "Orphan", "nil"'),
    Case("delete-orphan-and-propagation", "DELETE", CM + "/missing", 422, "Invalid",
         b'{"orphanDependents":true,"propagationPolicy":"Foreground"}', JSON,
         'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Foreground": '
         "orphanDependents and deletionPropagation cannot be both set"),
    Case("delete-bad-dry-run", "DELETE", CM + "/missing?dryRun=yes", 422, "Invalid",
         message='DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["yes"]: supported values: '
                 '"All"'),
    Case("delete-bad-grace-period", "DELETE", CM + "/missing?gracePeriodSeconds=soon", 400, "BadRequest",
         message='strconv.ParseInt: parsing "soon": invalid syntax'),
    Case("delete-options-array", "DELETE", CM + "/missing", 400, "BadRequest", b"[1]", JSON),
    Case("delete-options-wrong-types", "DELETE", CM + "/missing", 400, "BadRequest", b'{"preconditions":5}', JSON,
         "json: cannot unmarshal number into Go struct field DeleteOptions.preconditions of type v1.Preconditions"),
    Case("delete-options-malformed", "DELETE", CM + "/missing", 400, "BadRequest", b'{"dryRun":', JSON),
    # patches of each type
    Case("json-patch-malformed", "PATCH", CM + "/cm", 400, "BadRequest", b"[{", JSON_PATCH, "invalid JSON patch"),
    Case("json-patch-malformed-before-lookup", "PATCH", CM + "/missing", 400, "BadRequest", b"[{", JSON_PATCH,
         "invalid JSON patch"),
    Case("json-patch-not-a-list", "PATCH", CM + "/cm", 400, "BadRequest", b"{}", JSON_PATCH,
         "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp"),
    Case("json-patch-failed-test", "PATCH", CM + "/cm", 422, "Invalid",
         b'[{"op":"test","path":"/data/a","value":"2"}]', JSON_PATCH, REJECTED),
    Case("json-patch-missing-path", "PATCH", CM + "/cm", 422, "Invalid", b'[{"op":"remove","path":"/data/zz"}]',
         JSON_PATCH, REJECTED),
    Case("json-patch-unknown-op", "PATCH", CM + "/cm", 422, "Invalid", b'[{"op":"bogus","path":"/data/a"}]',
         JSON_PATCH, REJECTED),
    # A patch whose result does not decode is Invalid on the field "patch", as the apiserver's patcher reports it.
    Case("json-patch-wrong-type", "PATCH", CM + "/cm", 422, "Invalid",
         b'[{"op":"add","path":"/data/b","value":5}]', JSON_PATCH,
         contains="json: cannot unmarshal number into Go struct field ConfigMap.data of type string"),
    Case("json-patch-replace-document-without-value", "PATCH", CM + "/cm", 500, "InternalError",
         b'[{"op":"replace","path":""}]', JSON_PATCH, PANICKED,
         kube_500="json-patch v4 dereferences the missing value; the handler recovers the panic"),
    Case("json-patch-renames", "PATCH", CM + "/cm", 400, "BadRequest",
         b'[{"op":"replace","path":"/metadata/name","value":"other"}]', JSON_PATCH,
         "the name of the object (other) does not match the name on the URL (cm)"),
    Case("merge-patch-malformed", "PATCH", CM + "/cm", 400, "BadRequest", b'{"data":', MERGE_PATCH,
         "invalid JSON patch"),
    Case("merge-patch-array", "PATCH", CM + "/cm", 400, "BadRequest", b"[]", MERGE_PATCH,
         "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}"),
    Case("merge-patch-moves-namespace", "PATCH", CM + "/cm", 400, "BadRequest",
         b'{"metadata":{"namespace":"elsewhere"}}', MERGE_PATCH,
         "the namespace of the provided object does not match the namespace sent on the request"),
    Case("merge-patch-changes-kind", "PATCH", CM + "/cm", 400, "BadRequest", b'{"kind":"Secret"}', MERGE_PATCH),
    Case("merge-patch-with-force", "PATCH", CM + "/cm?force=true", 422, "Invalid", b"{}", MERGE_PATCH,
         'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch'),
    Case("strategic-merge-patch-malformed", "PATCH", CM + "/cm", 400, "BadRequest", b"{", SMP,
         "invalid JSON patch"),
    Case("strategic-merge-patch-list", "PATCH", CM + "/cm", 400, "BadRequest", b"[]", SMP),
    Case("strategic-merge-patch-unknown-directive", "PATCH", CM + "/cm", 500, None, b'{"$patch":"bogus"}', SMP,
         "unknown patch type: bogus in map: map[$patch:bogus]",
         kube_500="strategicpatch's error is passed through unmapped by the PATCH handler"),
    Case("apply-without-field-manager", "PATCH", CM + "/cm", 422, "Invalid", b"metadata: {name: cm}", APPLY,
         'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'),
    Case("apply-malformed-yaml", "PATCH", CM + "/cm?fieldManager=t", 400, "BadRequest", b"a: [b", APPLY),
    Case("apply-list", "PATCH", CM + "/cm?fieldManager=t", 400, "BadRequest", b"- 1", APPLY),
    Case("apply-renames", "PATCH", CM + "/cm?fieldManager=t", 400, "BadRequest",
         b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"}}', APPLY,
         "the name of the object (other) does not match the name on the URL (cm)"),
    Case("apply-other-namespace", "PATCH", CM + "/cm?fieldManager=t", 400, "BadRequest",
         b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"elsewhere"}}', APPLY,
         "the namespace of the provided object does not match the namespace sent on the request"),
    # mismatches between URL and body
    Case("create-kind-mismatch", "POST", CM, 400, "BadRequest",
         b'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}', JSON),
    Case("create-api-version-mismatch", "POST", CM, 400, "BadRequest",
         b'{"apiVersion":"v2","kind":"ConfigMap","metadata":{"name":"x"}}', JSON),
    Case("create-namespace-mismatch", "POST", CM, 400, "BadRequest",
         b'{"metadata":{"name":"x","namespace":"elsewhere"}}', JSON,
         "the namespace of the provided object does not match the namespace sent on the request"),
    Case("update-name-mismatch", "PUT", CM + "/cm", 400, "BadRequest", b'{"metadata":{"name":"other"}}', JSON,
         "the name of the object (other) does not match the name on the URL (cm)"),
    Case("update-without-name", "PUT", CM + "/cm", 400, "BadRequest", b'{"data":{"a":"2"}}', JSON,
         "the name of the object () does not match the name on the URL (cm)"),
    Case("update-namespace-mismatch", "PUT", CM + "/cm", 400, "BadRequest",
         b'{"metadata":{"name":"cm","namespace":"elsewhere"}}', JSON,
         "the namespace of the provided object does not match the namespace sent on the request"),
    Case("update-metadata-not-object", "PUT", CM + "/cm", 400, "BadRequest", b'{"metadata":[]}', JSON),
    # odd documents
    Case("nested-10000-arrays", "POST", CM, 400, "BadRequest", b"[" * 10000 + b"]" * 10000, JSON),
    Case("nested-10000-objects-in-field", "POST", CM, 400, "BadRequest",
         b'{"metadata":{"name":"x"},"x":' + nested(10000) + b"}", JSON),
    Case("nested-150-objects", "POST", CM, 400, "BadRequest",
         b'{"metadata":{"name":"x"},"x":' + nested(150) + b"}", JSON, TOO_DEEP),
    Case("nested-150-in-custom-resource", "POST", WIDGETS, 400, "BadRequest",
         b'{"metadata":{"name":"x"},"spec":{"extra":' + nested(150) + b"}}", JSON, TOO_DEEP),
    Case("nested-yaml", "POST", CM, 400, "BadRequest", b"metadata: {name: x}\nx: " + b"[" * 900 + b"]" * 900,
         YAML),
    Case("nested-merge-patch", "PATCH", CM + "/cm", 400, "BadRequest", nested(900), MERGE_PATCH, TOO_DEEP),
    Case("nested-strategic-merge-patch", "PATCH", CM + "/cm", 400, "BadRequest", nested(900), SMP, TOO_DEEP),
    Case("nested-apply", "PATCH", CM + "/cm?fieldManager=t", 400, "BadRequest",
         b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"},"x":' + nested(900) + b"}", APPLY),
    Case("nested-json-patch-value", "PATCH", WIDGETS + "/w", 400, "BadRequest",
         b'[{"op":"add","path":"/spec/extra","value":' + nested(150) + b"}]", JSON_PATCH, TOO_DEEP),
    Case("huge-integer", "POST", "/api/v1/namespaces/{ns}/pods", 400, "BadRequest",
         b'{"metadata":{"name":"p"},"spec":{"activeDeadlineSeconds":' + b"9" * 50 +
         b',"containers":[{"name":"c","image":"i"}]}}', JSON,
         'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number ' + "9" * 50 +
         " into Go struct field PodSpec.spec.activeDeadlineSeconds of type int64"),
    Case("int32-overflow", "POST", "/apis/apps/v1/namespaces/{ns}/deployments", 400, "BadRequest",
         b'{"metadata":{"name":"d"},"spec":{"replicas":2147483648}}', JSON,
         'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number 2147483648 '
         "into Go struct field DeploymentSpec.spec.replicas of type int32"),
    Case("number-too-big-for-float64", "POST", WIDGETS, 400, "BadRequest",
         b'{"metadata":{"name":"x"},"spec":{"extra":{"n":1e999}}}', JSON),
    Case("digits-beyond-any-limit", "POST", CM, 400, "BadRequest",
         b'{"metadata":{"name":"x"},"data":{"a":' + b"9" * 5000 + b"}}", JSON),
    Case("invalid-utf8-name", "POST", CM, 422, "Invalid", b'{"metadata":{"name":"\xff\xfe"}}', JSON,
         contains='metadata.name: Invalid value: "\ufffd\ufffd"'),
    Case("lone-surrogate-key", "POST", CM, 422, "Invalid",
         b'{"metadata":{"name":"x","annotations":{"a":"\\ud800"}},"data":{"\\udfff":"v"}}', JSON,
         contains='data[\ufffd]: Invalid value: "\ufffd"'),
    Case("nul-in-name", "POST", CM, 422, "Invalid", b'{"metadata":{"name":"a\\u0000b"}}', JSON,
         contains='metadata.name: Invalid value: "a\\x00b"'),
    Case("very-long-name", "POST", CM, 422, "Invalid", b'{"metadata":{"name":"' + b"a" * 300 + b'"}}', JSON,
         contains="metadata.name: Invalid value: \"" + "a" * 300 + '": must be no more than 253 characters'),
    Case("name-wrong-type", "POST", CM, 400, "BadRequest", b'{"metadata":{"name":{"a":1}}}', JSON,
         'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal object into Go struct '
         "field ObjectMeta.metadata.name of type string"),
    Case("create-in-missing-namespace", "POST", "/api/v1/namespaces/nowhere-at-all/configmaps", 404, "NotFound",
         CM_BODY, JSON, 'namespaces "nowhere-at-all" not found'),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_request_gets_the_apiservers_status(client: Client, ns: str, case: Case) -> None:
    path = case.path.replace("{ns}", ns)
    answer = client(case.method, path, case.body, case.content_type, case.headers, stream="watch=" in path)
    status = status_of(answer, case.id)
    assert answer.code == case.code, status
    assert status.get("reason") == case.reason, status
    if case.message is not None:
        assert status["message"] == case.message
    if case.contains is not None:
        assert case.contains in status["message"]
    if answer.code >= 500:
        assert case.kube_500, f"a 500 kube-apiserver does not answer: {status}"
    else:
        assert answer.code < 500


def test_seeded_objects_are_unchanged_by_the_bad_requests(client: Client, ns: str) -> None:
    for case in CASES:  # the table again, then the objects it aimed at are as they were
        client(case.method, case.path.replace("{ns}", ns), case.body, case.content_type, case.headers,
               stream="watch=" in case.path)
    cm = client.ok("GET", f"/api/v1/namespaces/{ns}/configmaps/cm")
    assert (cm["metadata"]["labels"], cm["data"]) == ({"app": "web"}, {"a": "1"})
    assert client.ok("GET", f"/apis/{GROUP}/v1/namespaces/{ns}/widgets/w")["spec"] == {"size": 1}
    names = [o["metadata"]["name"] for o in client.ok("GET", f"/api/v1/namespaces/{ns}/configmaps")["items"]]
    assert [n for n in names if n != "kube-root-ca.crt"] == ["cm"]  # (the controllers' CA bundle aside)


# ---- fuzzing -----------------------------------------------------------------------------------------------------

def check_answer(answer: Answer, method: str, path: str, content_type: str | None, query: dict[str, str]) -> None:
    """What any answer must be: below 500 unless kube-apiserver answers 500 itself, a Status when it fails."""
    what = f"{method} {path} ({content_type})"
    event(f"{method} {answer.code}")
    if answer.code < 400 or method == "HEAD":
        assert answer.code < 500, what
        return
    status = status_of(answer, what)
    assert answer.code < 500 or kube_500(status, content_type, query), f"{what}: {status}"


PLURALS = ["configmaps", "secrets", "pods", "services", "events", "serviceaccounts", "deployments", "replicasets",
           "widgets", "nope"]
RESOURCES = [("/api/v1", "configmaps"), ("/api/v1", "secrets"), ("/api/v1", "pods"), ("/api/v1", "services"),
             ("/api/v1", "events"), ("/api/v1", "serviceaccounts"), ("/apis/apps/v1", "deployments"),
             ("/apis/apps/v1", "replicasets"), (f"/apis/{GROUP}/v1", "widgets")]
GROUP_VERSIONS = ["/api/v1", "/apis/apps/v1", f"/apis/{GROUP}/v1", "/apis/apps/v2", "/apis/nope/v1", "/api"]
QUERY_KEYS = ["labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch", "timeoutSeconds",
              "dryRun", "fieldValidation", "fieldManager", "propagationPolicy", "gracePeriodSeconds", "force",
              "tailLines", "container", "includeObject", "orphanDependents", "allowWatchBookmarks",
              "sendInitialEvents", "resourceVersionMatch"]
QUERY_VALUES = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "true", "false", "All", "Strict", "Warn", "Ignore", "Foreground",
                     "Orphan", "a=b", "a in (b)", "!a", "metadata.name=cm", "spec.nodeName!=x", "Metadata",
                     "99999999999999999999", "NotOlderThan", "%", "a,b"]),
    st.text(max_size=12))
MEDIA_TYPES = st.one_of(st.none(), st.sampled_from(
    [JSON, YAML, PROTOBUF, JSON_PATCH, MERGE_PATCH, SMP, APPLY, "application/apply-patch+cbor", "text/plain",
     "application/json; charset=utf-8", "APPLICATION/JSON", "*/*", "application/x-yaml", ""]),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=15))  # what a header may carry
SEGMENT = st.one_of(st.sampled_from(["cm", "web", "svc", "w", "missing", "status", "scale", "log", ".", "..", "%25",
                                     "%00", "%ff", "a%2Fb", "x" * 300]),
                    st.text(max_size=10).map(lambda t: urllib.parse.quote(t, safe="")))
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=16)
SEEDS: list[dict[str, Any]] = [CONFIGMAP, DEPLOYMENT, SERVICE, WIDGET,
         {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}},
          "spec": {"containers": [{"name": "c", "image": "nginx", "env": [{"name": "A", "value": "1"}]}]}},
         {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque",
          "data": {"k": "dmFsdWU="}}]


@st.composite
def paths(draw: st.DrawFn, ns: str) -> str:
    """Mostly real resource paths in the module's namespace (so requests get past routing), some odd ones; never
    the namespace itself, which the fuzzing must not delete."""
    if draw(st.integers(0, 4)) == 0:
        parts = [draw(st.sampled_from(GROUP_VERSIONS))]
        if draw(st.booleans()):
            parts.append(f"namespaces/{draw(st.sampled_from([ns, 'nowhere', 'NOPE']))}")
        parts.append(draw(st.sampled_from(PLURALS)))
        return "/".join(parts + draw(st.lists(SEGMENT, max_size=3)))
    prefix, plural = draw(st.sampled_from(RESOURCES))
    parts = [prefix, f"namespaces/{ns}", plural]
    if draw(st.integers(0, 3)):
        parts.append(draw(st.one_of(st.sampled_from(["cm", "web", "svc", "w", "p", "missing"]), SEGMENT)))
        if draw(st.integers(0, 3)) == 0:
            parts.append(draw(st.one_of(st.sampled_from(["status", "scale", "log"]), SEGMENT)))
    return "/".join(parts)


@st.composite
def queries(draw: st.DrawFn) -> dict[str, str]:
    query = draw(st.dictionaries(st.sampled_from(QUERY_KEYS), QUERY_VALUES, max_size=4))
    if "watch" in query:
        query["timeoutSeconds"] = "1"  # a watch the parameters let through ends by itself
    return query


def mutate(draw: Callable[[st.SearchStrategy[Any]], Any], value: Any) -> Any:
    """``value`` with one random change somewhere inside: a replaced, removed or added member."""
    if not isinstance(value, dict | list) or not value or draw(st.integers(0, 3)) == 0:
        return draw(JSON_VALUES)
    if isinstance(value, dict):
        key = draw(st.sampled_from(sorted(value)))
        action = draw(st.sampled_from(["descend", "remove", "add"]))
        if action == "remove":
            return {k: v for k, v in value.items() if k != key}
        if action == "add":
            return {**value, draw(st.text(max_size=8)): draw(JSON_VALUES)}
        return {**value, key: mutate(draw, value[key])}
    index = draw(st.integers(0, len(value) - 1))
    return [mutate(draw, v) if i == index else v for i, v in enumerate(value)]


@st.composite
def bodies(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.sampled_from(["none", "json", "yaml", "bytes", "mutated", "mutated-yaml"]))
    if kind == "none":
        return None
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    value = draw(JSON_VALUES) if kind in ("json", "yaml") else mutate(draw, copy.deepcopy(draw(st.sampled_from(SEEDS))))
    if kind.endswith("yaml"):
        return yaml.safe_dump(value).encode()
    return json.dumps(value).encode()


@given(data=st.data())
@FUZZ
def test_fuzzed_requests_never_answer_500_nor_without_a_status(client: Client, ns: str, data: st.DataObject) -> None:
    """Random paths, methods, query parameters, media types and bodies: never a 500 kube-apiserver would not give."""
    method = data.draw(st.sampled_from(["GET", "GET", "POST", "POST", "PUT", "PUT", "PATCH", "PATCH", "DELETE",
                                        "HEAD", "OPTIONS"]))
    path = data.draw(paths(ns))
    query = data.draw(queries())
    content_type = data.draw(MEDIA_TYPES)
    body = data.draw(bodies())
    full = path + ("?" + urllib.parse.urlencode(query) if query else "")
    answer = client(method, full, body, content_type, stream="watch" in query)
    check_answer(answer, method, full, content_type, query)


@given(data=st.data())
@FUZZ
def test_fuzzed_objects_are_created_or_refused_with_a_status(client: Client, ns: str, data: st.DataObject) -> None:
    """Random changes to valid objects, created (and replaced and deleted) or refused, never a 500."""
    seed: dict[str, Any] = copy.deepcopy(data.draw(st.sampled_from(SEEDS)))
    plural = {"ConfigMap": "configmaps", "Deployment": "deployments", "Service": "services", "Widget": "widgets",
              "Pod": "pods", "Secret": "secrets"}[seed["kind"]]
    prefix = {"Deployment": "/apis/apps/v1", "Widget": f"/apis/{GROUP}/v1"}.get(seed["kind"], "/api/v1")
    collection = f"{prefix}/namespaces/{ns}/{plural}"
    seed["metadata"]["name"] = f"fuzz-{uuid.uuid4().hex[:8]}"
    body = mutate(data.draw, seed)
    as_yaml = data.draw(st.booleans())
    raw = yaml.safe_dump(body).encode() if as_yaml else json.dumps(body).encode()
    query = data.draw(st.sampled_from([{}, {"fieldValidation": "Strict"}, {"dryRun": "All"},
                                       {"fieldValidation": "Ignore"}]))
    full = collection + ("?" + urllib.parse.urlencode(query) if query else "")
    answer = client("POST", full, raw, YAML if as_yaml else JSON)
    check_answer(answer, "POST", full, JSON, query)
    if answer.code == 201:
        created = answer.json()["metadata"]["name"]
        replaced = client("PUT", f"{collection}/{created}", raw, YAML if as_yaml else JSON)
        check_answer(replaced, "PUT", f"{collection}/{created}", JSON, {})
        gone = client("DELETE", f"{collection}/{created}")
        assert gone.code in (200, 202, 404), gone.body


JSON_POINTERS = st.one_of(st.sampled_from(["", "/", "/data", "/data/a", "/metadata/labels", "/metadata/labels/app",
                                           "/spec", "/spec/template/spec/containers/0", "/spec/ports/-",
                                           "/spec/containers/0/env/0", "/x/y/z", "/metadata/name", "/kind"]),
                          st.lists(st.text(max_size=5), max_size=4).map(lambda p: "".join("/" + s for s in p)))
JSON_PATCH_OPS = st.lists(st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "bogus"]), "path": JSON_POINTERS},
    optional={"value": JSON_VALUES, "from": JSON_POINTERS}), max_size=4)
SMP_DIRECTIVES: st.SearchStrategy[dict[str, Any]] = st.sampled_from([{"$patch": "replace"}, {"$patch": "delete"}, {"$patch": "merge"},
                                  {"$retainKeys": ["a"]}, {"$setElementOrder/containers": [{"name": "c"}]},
                                  {"$deleteFromPrimitiveList/finalizers": ["a"]}, {"$patch": 5}])


@st.composite
def patches(draw: st.DrawFn, target: dict[str, Any]) -> tuple[str, bytes]:
    content_type = draw(st.sampled_from([JSON_PATCH, MERGE_PATCH, SMP, APPLY]))
    if content_type == JSON_PATCH:
        return content_type, json.dumps(draw(JSON_PATCH_OPS)).encode()
    patch = mutate(draw, copy.deepcopy(target))
    if content_type == SMP and isinstance(patch, dict) and draw(st.booleans()):
        spot: dict[str, Any] = patch["spec"] if isinstance(patch.get("spec"), dict) else patch
        spot.update(draw(SMP_DIRECTIVES))
    if content_type == APPLY:
        return content_type, yaml.safe_dump(patch).encode()
    return content_type, json.dumps(patch).encode()


@pytest.fixture
def seeded(client: Client, ns: str) -> str:
    seed(client, ns)
    return ns


@given(data=st.data())
@FUZZ
def test_fuzzed_patches_of_every_type_answer_a_status(client: Client, seeded: str, data: st.DataObject) -> None:
    """Random JSON patches, merge patches (with directives) and apply configurations, as dry runs."""
    ns = seeded
    target: dict[str, Any] = data.draw(st.sampled_from([CONFIGMAP, DEPLOYMENT, SERVICE, WIDGET]))
    path = {"ConfigMap": f"/api/v1/namespaces/{ns}/configmaps/cm",
            "Deployment": f"/apis/apps/v1/namespaces/{ns}/deployments/web",
            "Service": f"/api/v1/namespaces/{ns}/services/svc",
            "Widget": f"/apis/{GROUP}/v1/namespaces/{ns}/widgets/w"}[target["kind"]]
    content_type, body = data.draw(patches(target))
    query = {"fieldManager": "fuzz", "dryRun": "All"} if content_type == APPLY else {"dryRun": "All"}
    full = f"{path}?{urllib.parse.urlencode(query)}"
    answer = client("PATCH", full, body, content_type)
    check_answer(answer, "PATCH", full, content_type, query)


# ---- and afterwards ----------------------------------------------------------------------------------------------

def test_the_sandbox_still_serves_afterwards(sandbox: server.Sandbox, client: Client, kubectl: Kubectl,
                                             namespace: str, seeded: str) -> None:
    ready = client("GET", "/readyz")
    assert (ready.code, ready.body) == (200, b"ok")
    assert client.ok("GET", f"/api/v1/namespaces/{seeded}/configmaps/cm")["data"] == {"a": "1"}
    assert sandbox.call(lambda: "loop alive") == "loop alive"
    created = kubectl("create", "configmap", "after", "-n", namespace, "--from-literal=k=v")
    assert created.stdout.strip() == "configmap/after created"
    listed = kubectl("get", "configmaps", "-n", namespace, "-o", "name")
    assert "configmap/after" in listed.stdout.split()
    deleted = kubectl("delete", "configmap", "after", "-n", namespace)
    assert deleted.stdout.strip() == f'configmap "after" deleted from {namespace} namespace'
    missing = kubectl("get", "configmap", "after", "-n", namespace, check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): configmaps "after" not found'
    assert sandbox.running  # the sync face's event-loop thread is alive
