"""The sandbox's HTTP face: Kubernetes REST paths, content negotiation, auth, watch streams and Status errors.

Owns URL parsing (``/api/v1/namespaces/{ns}/{plural}/{name}/{sub}``, ``/apis/{group}/{version}/...``),
request bodies (JSON, YAML, Kubernetes protobuf for the kinds kubectl sends that way, the four patch types),
response forms (objects, lists, ``Table`` and ``PartialObjectMetadata`` for kubectl, aggregated or legacy
discovery, OpenAPI v3), ``Warning`` headers, chunked watch streams, pod logs, and the bearer-token check.
Delegates every meaning to :mod:`gitops_lab.sandbox.api`; must not decide API semantics itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from gitops_lab.sandbox import api as apis
from gitops_lab.sandbox import (
    discovery,
    documents,
    openapi,
    patching,
    protobuf,
    registry,
    schemas,
    selectors,
    statuses,
    tables,
    validation,
)
from gitops_lab.sandbox.validation import go_quote

log = logging.getLogger(__name__)

MAX_BODY = 3 * 1024 * 1024
JSON = "application/json"
PROTOBUF = "application/vnd.kubernetes.protobuf"
MEDIA_TYPES = (JSON, "application/yaml", PROTOBUF)
"""What kube-apiserver decodes in create, update and delete bodies (custom resources: no protobuf)."""
PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version"})
DEPRECATED = {("", "v1", "endpoints"): "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"}
"""Resources whose every request kube-apiserver answers with a deprecation ``Warning`` (errors and watches too)."""
DEPRECATION = web.RequestKey("deprecation", str)
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml",
               "application/apply-patch+cbor")
RETURN_DELETED = frozenset({"pods", "namespaces", "services", "serviceaccounts"})
"""Kinds whose delete answers the deleted object rather than a Status (their stores' ReturnDeletedObject)."""
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DELETE_OPTIONS = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
_INT64 = re.compile(r"[+-]?[0-9]+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
FIELD_MANAGER_MAX = 128
META_GROUP = "meta.k8s.io"


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def json_response(obj: Any, status: int = 200, warnings: list[str] | None = None) -> web.Response:
    resp = web.Response(body=dumps(obj), status=status, content_type=JSON)
    for header in warning_headers(warnings or []):
        resp.headers.add("Warning", header)
    return resp


WARNINGS_TOTAL_RUNES = 4 * 1024
WARNING_ITEM_RUNES = 256
_HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def warning_headers(warnings: list[str]) -> list[str]:
    """``Warning`` header values as kube-apiserver's warning recorder writes them: ``299 - "<text>"`` with
    backslashes and quotes escaped, duplicates dropped, and past 4096 characters in all every text cut to 256.
    Control characters, which no header may carry, become spaces (Go's server does that to line breaks)."""
    texts = [t for t in dict.fromkeys(warnings) if t and not _LONE_SURROGATE.search(t)]
    kept: list[str] = []
    written, truncating = 0, False
    for index, text in enumerate(texts):
        if truncating and written >= WARNINGS_TOTAL_RUNES:
            break
        if truncating:
            text = text[:WARNING_ITEM_RUNES]
        if written + len(text) <= WARNINGS_TOTAL_RUNES or truncating:
            written += len(text)
            kept.append(text)
            continue
        truncating = True  # over the total: start again with every text so far cut short
        kept = [t[:WARNING_ITEM_RUNES] for t in texts[:index + 1]]
        written = sum(len(t) for t in kept)
    return ['299 - "' + _HEADER_CONTROL.sub(" ", t.replace("\\", "\\\\").replace('"', '\\"')) + '"'
            for t in kept]


async def _deprecation_warning(request: web.Request, response: web.StreamResponse) -> None:
    """The deprecation ``Warning`` of a deprecated resource, on whatever answer its request gets."""
    warning = request.get(DEPRECATION)
    if warning:
        for header in warning_headers([warning]):
            response.headers.add("Warning", header)


def error_response(err: statuses.ApiError) -> web.Response:
    return json_response(err.status(), err.code)


class Target:
    """What a resource URL names."""

    __slots__ = ("name", "namespace", "rt", "subresource")

    def __init__(self, rt: registry.ResourceType, namespace: str | None, name: str | None,
                 subresource: str | None) -> None:
        self.rt = rt
        self.namespace = namespace
        self.name = name
        self.subresource = subresource


class Negotiated:
    """What form of answer the Accept header asks for."""

    __slots__ = ("as_kind", "discovery_version")

    def __init__(self, accept: str) -> None:
        self.as_kind: str | None = None
        self.discovery_version = discovery.negotiate(accept)
        for part in accept.split(","):
            params = dict(p.strip().split("=", 1) for p in part.split(";")[1:] if "=" in p)
            as_kind = params.get("as")
            if as_kind in ("Table", "PartialObjectMetadata", "PartialObjectMetadataList") and \
                    params.get("g") == "meta.k8s.io":
                self.as_kind = as_kind
                return


class HttpApi:
    """The aiohttp application around an :class:`~gitops_lab.sandbox.api.Api`."""

    def __init__(self, api: apis.Api, token: str,
                 add_image: Callable[[str, tuple[str, ...]], None] | None = None) -> None:
        self.api = api
        self.token = token
        self.add_image = add_image
        """The sandbox's own extension, ``POST /sandbox/images`` {"image", "logs"}: make an image pullable."""
        self.watches: set[asyncio.Task[Any]] = set()
        self.ready = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._guard])
        app.router.add_route("*", r"/{tail:[\s\S]*}", self.dispatch)  # every path, line breaks too
        app.on_response_prepare.append(_deprecation_warning)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in PUBLIC_PATHS and not self._authorized(request):
            return error_response(statuses.unauthorized())
        try:
            return await handler(request)
        except statuses.ApiError as err:
            return error_response(err)
        except web.HTTPRequestEntityTooLarge:
            return error_response(statuses.too_large())
        except web.HTTPNotFound:  # a path aiohttp's router could not take
            return error_response(statuses.not_found_path())
        except (asyncio.CancelledError, ConnectionResetError):
            raise
        except Exception as err:  # a bug: answer as the apiserver would, keep serving
            log.exception("Internal error serving %s %s", request.method, request.path_qs)
            return error_response(statuses.internal(f"{type(err).__name__}: {err}"))

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self.token.encode())

    # ---- dispatch --------------------------------------------------------------------------------------
    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        parts = [unquote(p) for p in path.split("/")[1:]] if path != "/" else []
        if not parts:
            return json_response({"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v3",
                                            "/readyz", "/version"]})
        head = parts[0]
        if head in ("healthz", "livez", "readyz") and len(parts) == 1:
            return web.Response(text="ok", content_type="text/plain")
        if head == "version" and len(parts) == 1:
            if request.method != "GET":
                raise statuses.method_not_allowed()
            return json_response(discovery.version_info())
        if head == "openapi":
            return self._openapi(parts[1:], request.query.get("hash"))
        if head == "sandbox" and parts[1:] == ["images"]:
            return await self._images(request)
        if head == "api":
            if len(parts) == 1:
                return self._discovery_root(request, core=True)
            if parts[1] != "v1":
                raise statuses.not_found_path()
            return await self._resource_or_list(request, "", "v1", parts[2:])
        if head == "apis":
            if len(parts) == 1:
                return self._discovery_root(request, core=False)
            if len(parts) == 2:
                group = discovery.group(self.api.registry, parts[1])
                if group is None:
                    raise statuses.not_found_path()
                return json_response(group)
            return await self._resource_or_list(request, parts[1], parts[2], parts[3:])
        raise statuses.not_found_path()

    async def _images(self, request: web.Request) -> web.Response:
        """Not Kubernetes: the sandbox's image catalog, which the lab extends with the images its CI builds."""
        if request.method != "POST" or self.add_image is None:
            raise statuses.method_not_allowed()
        body = _parse_json(await request.read(), None)
        image, logs = (body.get("image"), body.get("logs", [])) if isinstance(body, dict) else (None, None)
        if not isinstance(image, str) or not image or not isinstance(logs, list) or \
                not all(isinstance(line, str) for line in logs):
            raise statuses.bad_request('an image registration is {"image": "<reference>", "logs": ["<line>", ...]}')
        try:
            self.add_image(image, tuple(logs))
        except ValueError as err:
            raise statuses.bad_request(f"{image!r} is not an image reference: {err}") from None
        return json_response({"image": image}, 201)

    def _discovery_root(self, request: web.Request, core: bool) -> web.Response:
        if request.method != "GET":
            raise statuses.method_not_allowed()
        negotiated = Negotiated(request.headers.get("Accept", ""))
        reg = self.api.registry
        if negotiated.discovery_version:
            version = negotiated.discovery_version
            body = discovery.aggregated(reg, core=core, discovery_version=version)
            resp = json_response(body)
            resp.headers["Content-Type"] = discovery.content_type(version)
            return resp
        if core:
            return json_response(discovery.legacy_core(reg, server_address=request.host))
        return json_response(discovery.legacy_groups(reg))

    def _openapi(self, parts: list[str], hash_: str | None) -> web.Response:
        if parts == ["v3"]:
            return json_response(openapi.index(self.api.registry))
        if len(parts) >= 2 and parts[0] == "v3":
            built = openapi.built(self.api.registry, "/".join(parts[1:]))
            if built is not None:
                resp = web.Response(body=built.body, content_type=JSON)
                # Immutable only when the client asked for this exact content (kubectl's ?hash= URLs).
                if hash_ == built.hash:
                    resp.headers["Cache-Control"] = "public, immutable"
                else:
                    resp.headers["Cache-Control"] = "no-cache, private"
                resp.headers["Etag"] = f'"{built.hash}"'
                return resp
        raise statuses.not_found_path()

    async def _resource_or_list(self, request: web.Request, group: str, version: str,
                                rest: list[str]) -> web.StreamResponse:
        if not rest:
            if request.method != "GET":
                raise statuses.method_not_allowed()
            listing = discovery.resource_list(self.api.registry, group, version)
            if listing is None:
                raise statuses.not_found_path()
            return json_response(listing)
        target = self._target(group, version, rest)
        if (group, version, target.rt.plural) in DEPRECATED:
            request[DEPRECATION] = DEPRECATED[(group, version, target.rt.plural)]
        method = request.method
        if target.rt.namespaced and target.namespace is None and method != "GET":
            raise statuses.method_not_allowed()  # across namespaces there are only lists and watches
        if target.name is not None and not (method == "GET" and _flag(request.query.get("watch"))):
            _check_path_name(target.name)
        if method == "GET" and Negotiated(request.headers.get("Accept", "")).as_kind == "Table":
            _check_table_options(request.query.get("includeObject", ""))
        if method == "GET":
            return await self._get(request, target)
        if method == "POST":
            return await self._create(request, target)
        if method == "PUT":
            return await self._update(request, target)
        if method == "PATCH":
            return await self._patch(request, target)
        if method == "DELETE":
            return await self._delete(request, target)
        raise statuses.method_not_allowed()

    def _target(self, group: str, version: str, rest: list[str]) -> Target:
        reg = self.api.registry
        namespace: str | None = None
        # /api/v1/namespaces/{name}/status|finalize name the Namespace itself; other longer paths are inside one.
        namespace_itself = group == "" and len(rest) == 3 and rest[2] in ("status", "finalize")
        if rest[0] == "namespaces" and len(rest) >= 3 and not namespace_itself:
            namespace, rest = rest[1], rest[2:]
        if len(rest) > 3:
            raise statuses.not_found_path()
        rt = reg.lookup(group, version, rest[0])
        if rt is None or (namespace is not None and not rt.namespaced):
            raise statuses.not_found_path()
        name = rest[1] if len(rest) > 1 else None
        if rt.namespaced and namespace is None and name is not None:
            raise statuses.not_found_path()  # across namespaces there are only lists and watches
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in rt.subresources:
            raise statuses.not_found_path()
        return Target(rt, namespace, name, sub)

    # ---- reads -----------------------------------------------------------------------------------------
    async def _get(self, request: web.Request, t: Target) -> web.StreamResponse:
        q = request.query
        if t.name is None:
            limit = _int(q.get("limit"))
            if _flag(q.get("watch")):
                return await self._watch(request, t)
            rv = q.get("resourceVersion")
            if rv:
                try:
                    apis.parse_resource_version(rv)
                except statuses.ApiError as err:  # the storage's list check words it as a bad request
                    raise statuses.bad_request(f"invalid resource version: {err.message}") from None
            listed = self.api.list(t.rt, t.namespace, label_selector=q.get("labelSelector"),
                                   field_selector=q.get("fieldSelector"), limit=limit if limit and limit > 0 else None,
                                   continue_token=q.get("continue"), copy_items=False)
            return self._render_list(request, t.rt, listed)
        if q.get("resourceVersion"):
            apis.parse_resource_version(q["resourceVersion"])  # the watch cache's check: 500 as kube-apiserver
        if t.subresource == "log":
            return self._logs(request, t)
        if t.subresource == "scale":
            return json_response(self.api.get_scale(t.rt, t.namespace, t.name))
        obj = self.api.get(t.rt, t.namespace, t.name)
        return self._render_object(request, t.rt, obj)

    def _render_list(self, request: web.Request, rt: registry.ResourceType, listed: dict[str, Any]
                     ) -> web.Response:
        negotiated = Negotiated(request.headers.get("Accept", ""))
        if negotiated.as_kind == "Table":
            return json_response(self._table(request, rt, listed["items"], listed["metadata"]))
        if negotiated.as_kind in ("PartialObjectMetadataList", "PartialObjectMetadata"):
            return json_response({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                                  "metadata": listed["metadata"],
                                  "items": [_partial(rt, o) for o in listed["items"]]})
        listed["items"] = [{**o, "apiVersion": rt.api_version, "kind": rt.kind} for o in listed["items"]]
        return json_response(listed)

    def _render_object(self, request: web.Request, rt: registry.ResourceType, obj: dict[str, Any],
                       status: int = 200, warnings: list[str] | None = None) -> web.Response:
        negotiated = Negotiated(request.headers.get("Accept", ""))
        if negotiated.as_kind == "Table":
            return json_response(self._table(request, rt, [obj], {"resourceVersion": obj["metadata"].get(
                "resourceVersion", "")}), status, warnings)
        if negotiated.as_kind in ("PartialObjectMetadata", "PartialObjectMetadataList"):
            return json_response(_partial(rt, obj), status, warnings)
        return json_response(obj, status, warnings)

    def _table(self, request: web.Request, rt: registry.ResourceType, objects: list[dict[str, Any]],
               list_meta: dict[str, Any]) -> dict[str, Any]:
        include = request.query.get("includeObject") or "Metadata"
        return tables.to_table(rt.key, [{**o, "apiVersion": rt.api_version, "kind": rt.kind} for o in objects],
                               now=self.api.clock.now(), include_object=include,
                               printer_columns=self._printer_columns(rt), list_meta=list_meta)

    def _printer_columns(self, rt: registry.ResourceType) -> list[dict[str, Any]] | None:
        if not rt.is_custom:
            return None
        crd = self.api.store.get("apiextensions.k8s.io/customresourcedefinitions", "", f"{rt.plural}.{rt.group}")
        for version in (crd or {}).get("spec", {}).get("versions", []):
            if version.get("name") == rt.version:
                return list(version.get("additionalPrinterColumns") or [])
        return []

    def _logs(self, request: web.Request, t: Target) -> web.Response:
        assert t.name is not None
        tail = _int(request.query.get("tailLines"))
        if tail is not None and tail < 0:  # ValidatePodLogOptions runs before the pod is looked up
            raise statuses.invalid("PodLogOptions", t.name, [statuses.cause(
                "FieldValueInvalid", f"Invalid value: {tail}: must be greater than or equal to 0", "tailLines")])
        pod = self.api.get(t.rt, t.namespace, t.name)
        container = request.query.get("container")
        containers = [c.get("name") for c in pod.get("spec", {}).get("containers", [])]
        if container is None and len(containers) > 1:
            raise statuses.bad_request(f"a container name must be specified for pod {t.name}, choose one of: "
                                       f"[{' '.join(str(c) for c in containers)}]")
        if container is not None and container not in containers:
            raise statuses.bad_request(f"container {container} is not valid for pod {t.name}")
        source = self.api.log_source
        text = source(pod, container or (containers[0] if containers else None)) if source else ""
        if tail is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-tail:]) if tail else ""
        return web.Response(text=text, content_type="text/plain")

    # ---- watches ---------------------------------------------------------------------------------------
    async def _watch(self, request: web.Request, t: Target) -> web.StreamResponse:
        q = request.query
        timeout = _int(q.get("timeoutSeconds"))
        negotiated = Negotiated(request.headers.get("Accept", ""))
        if q.get("resourceVersion"):
            apis.parse_resource_version(q["resourceVersion"])  # the watch cache's check: 500 as kube-apiserver
        events = self.api.watch(
            t.rt, t.namespace, resource_version=q.get("resourceVersion"),
            label_selector=q.get("labelSelector"), field_selector=q.get("fieldSelector"),
            send_initial_events=_flag(q.get("sendInitialEvents")),
            allow_bookmarks=_flag(q.get("allowWatchBookmarks")))
        # Fail before the 200 when the selectors are bad: build the first event lazily after checking them.
        self.api.list(t.rt, t.namespace, label_selector=q.get("labelSelector"),
                      field_selector=q.get("fieldSelector"), limit=1, copy_items=False)
        resp = web.StreamResponse(headers={"Content-Type": JSON, "Cache-Control": "no-cache"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        task = asyncio.current_task()
        assert task is not None
        self.watches.add(task)
        try:
            async with asyncio.timeout(max(timeout, 0) if timeout else None):
                async for event in events:
                    obj = event.object
                    if negotiated.as_kind == "Table" and event.type not in ("ERROR", "BOOKMARK"):
                        obj = self._table(request, t.rt, [obj], {"resourceVersion": obj["metadata"].get(
                            "resourceVersion", "")})
                    elif negotiated.as_kind and event.type not in ("ERROR", "BOOKMARK"):
                        obj = _partial(t.rt, obj)
                    await resp.write(dumps({"type": event.type, "object": obj}) + b"\n")
        except (TimeoutError, ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.watches.discard(task)
            await events.aclose()
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await resp.write_eof()
        return resp

    async def close_watches(self) -> None:
        for task in list(self.watches):
            task.cancel()
        if self.watches:
            await asyncio.wait(list(self.watches), timeout=2)

    # ---- writes ----------------------------------------------------------------------------------------
    def _write_options(self, request: web.Request, kind: str, patch_type: str | None = None) -> apis.WriteOptions:
        """The query's CreateOptions, UpdateOptions or PatchOptions (``kind``), checked as kube-apiserver's
        ``Validate<Kind>`` does: 422 Invalid listing every bad option."""
        q = request.query
        dry_run = q.getall("dryRun", [])
        manager = q.get("fieldManager", "")
        validation = q.get("fieldValidation", "")
        causes: list[dict[str, str]] = []
        if patch_type is not None and patch_type.startswith("application/apply-patch"):
            if not manager:
                causes.append(statuses.cause("FieldValueRequired", "Required value: is required for apply patch",
                                             "fieldManager"))
        elif patch_type is not None and "force" in q:
            causes.append(statuses.cause("FieldValueForbidden",
                                         "Forbidden: may not be specified for non-apply patch", "force"))
        causes += _field_manager_causes(manager)
        causes += _dry_run_causes(dry_run)
        if validation not in ("", "Ignore", "Strict", "Warn"):
            causes.append(statuses.cause("FieldValueNotSupported", f"Unsupported value: {go_quote(validation)}: "
                                         f'supported values: "", "Ignore", "Strict", "Warn"', "fieldValidation"))
        if causes:
            raise statuses.invalid(kind, "", causes, META_GROUP)
        return apis.WriteOptions(dry_run=bool(dry_run), field_manager=manager or None,
                                 field_validation=validation or "Warn", force=_flag(q.get("force")),
                                 user_agent=request.headers.get("User-Agent"))

    async def _read_body(self, request: web.Request, rt: registry.ResourceType) -> tuple[str, bytes]:
        """The body's media type and bytes: 415 for a type the resource does not decode (checked first, as
        kube-apiserver negotiates the decoder before reading), 413 past 3 MiB."""
        content_type = _media_type(request.headers.get("Content-Type", "")) or JSON
        accepted = MEDIA_TYPES[:2] if rt.is_custom else MEDIA_TYPES
        if content_type not in accepted:
            raise statuses.unsupported_media_type(accepted)
        return content_type, await request.read()

    @staticmethod
    def _decode(content_type: str, raw: bytes, opts: apis.WriteOptions | None) -> Any:
        if content_type == PROTOBUF:
            return protobuf.decode(raw)
        if content_type == JSON:
            value = _parse_json(raw, opts)
        else:
            value = documents.loads_yaml(raw, "error converting YAML to JSON: ")
        return {} if value is None else value  # Go leaves the typed object empty when it decodes null

    async def _create(self, request: web.Request, t: Target) -> web.Response:
        if t.name is not None:
            raise statuses.method_not_allowed()
        content_type, raw = await self._read_body(request, t.rt)
        opts = self._write_options(request, "CreateOptions")
        body = self._decode(content_type, raw, opts)
        obj = self.api.create(t.rt, t.namespace, body, opts)
        return self._render_object(request, t.rt, obj, 201, opts.warnings)

    async def _update(self, request: web.Request, t: Target) -> web.Response:
        if t.name is None:
            raise statuses.method_not_allowed()
        content_type, raw = await self._read_body(request, t.rt)
        opts = self._write_options(request, "UpdateOptions")
        body = self._decode(content_type, raw, opts)
        if t.subresource == "finalize" and t.rt.key == "namespaces":
            obj = self.api.update(t.rt, None, t.name, body, opts, subresource=None)
            return json_response(obj, 200, opts.warnings)
        obj = self.api.update(t.rt, t.namespace, t.name, body, opts, subresource=t.subresource)
        return self._render_object(request, t.rt, obj, 200, opts.warnings)

    async def _patch(self, request: web.Request, t: Target) -> web.Response:
        if t.name is None:
            raise statuses.method_not_allowed()
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type not in PATCH_TYPES or content_type.endswith("cbor"):
            raise statuses.ApiError(415, "UnsupportedMediaType",
                                    f"the body of the request was in an unknown format - accepted media types "
                                    f"include: {', '.join(PATCH_TYPES[:4])}")
        raw = await request.read()
        opts = self._write_options(request, "PatchOptions", content_type)
        if content_type.startswith("application/apply-patch"):
            documents.loads_yaml(raw, "error encoding patch: ")
        else:
            patching.parse_body(raw)  # kube-apiserver checks the body is JSON before it looks the object up
        existed = True
        if content_type.startswith("application/apply-patch"):
            try:
                self.api.get(t.rt, t.namespace, t.name)
            except statuses.ApiError:
                existed = False
        obj = self.api.patch(t.rt, t.namespace, t.name, content_type, raw, opts, subresource=t.subresource)
        return self._render_object(request, t.rt, obj, 200 if existed else 201, opts.warnings)

    async def _delete(self, request: web.Request, t: Target) -> web.Response:
        q = request.query
        body = await self._delete_body(request)
        dry_run = list(q.getall("dryRun", [])) + list(body.get("dryRun") or [])
        preconditions = body.get("preconditions") or {}
        grace = _int(q.get("gracePeriodSeconds"))
        if grace is None:
            grace = body.get("gracePeriodSeconds")
        propagation = q.get("propagationPolicy", body.get("propagationPolicy"))
        orphan = _flag(q["orphanDependents"]) if "orphanDependents" in q else body.get("orphanDependents")
        causes: list[dict[str, str]] = []
        if orphan is not None and propagation is not None:
            causes.append(statuses.cause("FieldValueInvalid", f"Invalid value: {selectors.go_json(propagation)}: "
                                         f"orphanDependents and deletionPropagation cannot be both set",
                                         "propagationPolicy"))
        if propagation not in (None, "Foreground", "Background", "Orphan"):
            causes.append(statuses.cause("FieldValueNotSupported", f"Unsupported value: "
                                         f"{selectors.go_json(propagation)}: supported values: \"Foreground\", "
                                         f'"Background", "Orphan", "nil"', "propagationPolicy"))
        causes += _dry_run_causes(dry_run)
        if causes:
            raise statuses.invalid("DeleteOptions", "", causes, META_GROUP)
        if orphan:
            propagation = "Orphan"
        opts = apis.DeleteOptions(propagation=propagation, dry_run=bool(dry_run),
                                  grace_period=1 if grace is not None and grace < 0 else grace,  # as BeforeDelete
                                  precondition_uid=preconditions.get("uid"),
                                  precondition_rv=preconditions.get("resourceVersion"))
        if t.name is None:
            listed = self.api.delete_collection(t.rt, t.namespace, opts, label_selector=q.get("labelSelector"),
                                                field_selector=q.get("fieldSelector"))
            return json_response(listed)
        obj = self.api.delete(t.rt, t.namespace, t.name, opts)
        if obj["metadata"].get("deletionTimestamp") and not opts.dry_run:
            return self._render_object(request, t.rt, obj, 200)
        if t.rt.key in RETURN_DELETED or opts.dry_run:
            return self._render_object(request, t.rt, obj, 200)
        details = {"name": t.name, "group": t.rt.group, "kind": t.rt.plural, "uid": obj["metadata"].get("uid")}
        # StatusDetails.group is omitempty: core kinds carry none.
        return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                              "details": {k: v for k, v in details.items() if v}})


    async def _delete_body(self, request: web.Request) -> dict[str, Any]:
        """The DeleteOptions a DELETE carries in its body (``{}`` when none), decoded as kube-apiserver does:
        415 for an unknown media type, 400 when it is not a DeleteOptions."""
        raw = await request.read()
        if not raw:
            return {}
        content_type = _media_type(request.headers.get("Content-Type", "")) or JSON
        if content_type not in MEDIA_TYPES:
            raise statuses.unsupported_media_type(MEDIA_TYPES)
        if content_type == PROTOBUF:
            raise statuses.bad_request("the sandbox decodes DeleteOptions from JSON or YAML only")
        parsed = self._decode(content_type, raw, None)
        if not isinstance(parsed, dict):
            raise statuses.bad_request(f"json: cannot unmarshal {_json_kind(parsed)} into Go value of type "
                                       f"v1.DeleteOptions")
        errors = validation.type_errors(schemas.definition(DELETE_OPTIONS), parsed)
        if errors:
            raise statuses.bad_request(errors[0])
        return parsed


def _partial(rt: registry.ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def _flag(value: str | None) -> bool:
    """A boolean query parameter as the apiserver's parameter codec reads it: present and not ``0``/``false``."""
    return value is not None and value != "0" and value.lower() != "false"


def _int(value: str | None) -> int | None:
    """An int64 query parameter as ``strconv.ParseInt`` reads it; 400 with its error otherwise."""
    if value is None:
        return None
    if not _INT64.fullmatch(value):
        raise statuses.bad_request(f"strconv.ParseInt: parsing {go_quote(value)}: invalid syntax")
    number = int(value)
    if not -(2 ** 63) <= number < 2 ** 63:
        raise statuses.bad_request(f"strconv.ParseInt: parsing {go_quote(value)}: value out of range")
    return number


def _check_table_options(include_object: str) -> None:
    """``ValidateTableOptions``, which kube-apiserver applies before it converts anything to a Table."""
    if include_object not in ("", "Metadata", "Object", "None"):
        raise statuses.bad_request(f"Unable to convert to Table as requested: includeObject: Invalid value: "
                                   f"{go_quote(include_object)}: must be 'Metadata', 'Object', 'None', or empty")


def _media_type(header: str) -> str:
    """The media type of a Content-Type header, lower-cased, without parameters."""
    return header.split(";", 1)[0].strip().lower()


def _check_path_name(name: str) -> None:
    """A name in a URL as the registry's key functions check it (``content.IsPathSegmentName``): 400."""
    problems = [f"may not be '{name}'"] if name in (".", "..") else [
        f"may not contain '{c}'" for c in ("/", "%") if c in name]
    if problems:
        raise statuses.bad_request(f"Name parameter invalid: {go_quote(name)}: {';'.join(problems)}")


def _field_manager_causes(manager: str) -> list[dict[str, str]]:
    """``ValidateFieldManager``: at most 128 bytes, printable characters only."""
    causes = []
    if len(manager.encode("utf-8", "surrogatepass")) > FIELD_MANAGER_MAX:
        causes.append(statuses.cause("FieldValueTooLong",
                                     f"Too long: may not be more than {FIELD_MANAGER_MAX} bytes", "fieldManager"))
    position = 0
    for char in manager:
        if not char.isprintable():
            causes.append(statuses.cause("FieldValueInvalid", f"Invalid value: {go_quote(manager)}: invalid "
                                         f"character U+{ord(char):04X} (at position {position})", "fieldManager"))
        position += len(char.encode("utf-8", "surrogatepass"))
    return causes


def _dry_run_causes(dry_run: list[str]) -> list[dict[str, str]]:
    """``ValidateDryRun``: every value must be ``All``; the message shows them all."""
    if all(value == "All" for value in dry_run):
        return []
    return [statuses.cause("FieldValueNotSupported",
                           f'Unsupported value: {selectors.go_json(dry_run)}: supported values: "All"', "dryRun")]


def _json_kind(value: Any) -> str:
    """How encoding/json names a value it cannot unmarshal into a struct."""
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    return "string" if isinstance(value, str) else "number"


def _parse_json(raw: bytes, opts: apis.WriteOptions | None) -> Any:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    data = documents.loads_json(raw, "error decoding request body as JSON: ", object_pairs_hook=pairs)
    if duplicates and opts is not None:
        messages = [f'json: duplicate field "{key}"' for key in duplicates]
        if opts.field_validation == "Strict":
            raise statuses.bad_request("strict decoding error: " + ", ".join(messages))
        if opts.field_validation == "Warn":
            opts.warnings.extend(messages)
    return data
