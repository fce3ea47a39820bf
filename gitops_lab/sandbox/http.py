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
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import yaml
from aiohttp import web

from gitops_lab.sandbox import api as apis
from gitops_lab.sandbox import discovery, openapi, protobuf, registry, statuses, tables

log = logging.getLogger(__name__)

MAX_BODY = 3 * 1024 * 1024
JSON = "application/json"
PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version"})
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml",
               "application/apply-patch+cbor")
RETURN_DELETED = frozenset({"pods", "namespaces", "services", "serviceaccounts"})
"""Kinds whose delete answers the deleted object rather than a Status (their stores' ReturnDeletedObject)."""
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def json_response(obj: Any, status: int = 200, warnings: list[str] | None = None) -> web.Response:
    resp = web.Response(body=dumps(obj), status=status, content_type=JSON)
    for warning in warnings or []:
        resp.headers.add("Warning", '299 - "' + warning.replace('"', '\\"') + '"')
    return resp


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

    def __init__(self, api: apis.Api, token: str) -> None:
        self.api = api
        self.token = token
        self.watches: set[asyncio.Task[Any]] = set()
        self.ready = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._guard])
        app.router.add_route("*", "/{tail:.*}", self.dispatch)
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
            return json_response(discovery.version_info())
        if head == "openapi":
            return self._openapi(parts[1:], request.query.get("hash"))
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
        method = request.method
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
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in rt.subresources:
            raise statuses.not_found_path()
        return Target(rt, namespace, name, sub)

    # ---- reads -----------------------------------------------------------------------------------------
    async def _get(self, request: web.Request, t: Target) -> web.StreamResponse:
        q = request.query
        if t.name is None:
            if _flag(q.get("watch")):
                return await self._watch(request, t)
            listed = self.api.list(t.rt, t.namespace, label_selector=q.get("labelSelector"),
                                   field_selector=q.get("fieldSelector"), limit=_int(q.get("limit"), "limit"),
                                   continue_token=q.get("continue"), copy_items=False)
            return self._render_list(request, t.rt, listed)
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
        include = request.query.get("includeObject", "Metadata")
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
        tail = _int(request.query.get("tailLines"), "tailLines")
        if tail is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-tail:]) if tail else ""
        return web.Response(text=text, content_type="text/plain")

    # ---- watches ---------------------------------------------------------------------------------------
    async def _watch(self, request: web.Request, t: Target) -> web.StreamResponse:
        q = request.query
        timeout = _int(q.get("timeoutSeconds"), "timeoutSeconds")
        negotiated = Negotiated(request.headers.get("Accept", ""))
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
            async with asyncio.timeout(timeout if timeout else None):
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
    def _write_options(self, request: web.Request) -> apis.WriteOptions:
        q = request.query
        dry_run = q.getall("dryRun", [])
        for value in dry_run:
            if value != "All":
                raise statuses.bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
        validation = q.get("fieldValidation", "Warn")
        if validation not in ("Strict", "Warn", "Ignore"):
            raise statuses.bad_request(f'fieldValidation: Unsupported value: "{validation}": supported values: '
                                       f'"Ignore", "Strict", "Warn"')
        return apis.WriteOptions(dry_run=bool(dry_run), field_manager=q.get("fieldManager"),
                                 field_validation=validation, force=_flag(q.get("force")),
                                 user_agent=request.headers.get("User-Agent"))

    async def _body(self, request: web.Request, opts: apis.WriteOptions | None) -> Any:
        raw = await request.read()
        content_type = request.headers.get("Content-Type", JSON).split(";")[0].strip().lower() or JSON
        if content_type == "application/vnd.kubernetes.protobuf":
            return protobuf.decode(raw)
        if content_type in (JSON, "*/*"):
            return _parse_json(raw, opts)
        if content_type in ("application/yaml", "application/x-yaml", "text/yaml"):
            try:
                return yaml.safe_load(raw)
            except yaml.YAMLError as err:
                raise statuses.bad_request(f"error converting YAML to JSON: {err}") from None
        raise statuses.unsupported_media_type(content_type)

    async def _create(self, request: web.Request, t: Target) -> web.Response:
        if t.name is not None:
            raise statuses.method_not_allowed()
        opts = self._write_options(request)
        body = await self._body(request, opts)
        obj = self.api.create(t.rt, t.namespace, body, opts)
        return self._render_object(request, t.rt, obj, 201, opts.warnings)

    async def _update(self, request: web.Request, t: Target) -> web.Response:
        if t.name is None:
            raise statuses.method_not_allowed()
        opts = self._write_options(request)
        body = await self._body(request, opts)
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
        opts = self._write_options(request)
        raw = await request.read()
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
        raw = await request.read()
        body: dict[str, Any] = {}
        if raw.strip():
            parsed = _parse_json(raw, None)
            if not isinstance(parsed, dict):
                raise statuses.bad_request("DeleteOptions must be an object")
            body = parsed
        dry_run = list(q.getall("dryRun", [])) + list(body.get("dryRun") or [])
        preconditions = body.get("preconditions") or {}
        grace = q.get("gracePeriodSeconds", body.get("gracePeriodSeconds"))
        propagation = q.get("propagationPolicy", body.get("propagationPolicy"))
        if body.get("orphanDependents") is True or _flag(q.get("orphanDependents")):
            propagation = "Orphan"
        if propagation not in (None, "Foreground", "Background", "Orphan"):
            raise statuses.bad_request(f'propagationPolicy: Unsupported value: "{propagation}": supported values: '
                                       f'"Foreground", "Background", "Orphan"')
        opts = apis.DeleteOptions(propagation=propagation, dry_run=bool(dry_run),
                                  grace_period=_int(grace, "gracePeriodSeconds"),
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


def _partial(rt: registry.ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


def _int(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise statuses.bad_request(f'{name}: Invalid value: "{value}": must be an integer') from None
    if number < 0:
        raise statuses.bad_request(f'{name}: Invalid value: "{value}": must be greater than or equal to 0')
    return number


def _parse_json(raw: bytes, opts: apis.WriteOptions | None) -> Any:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    try:
        data = json.loads(raw, object_pairs_hook=pairs)
    except (ValueError, RecursionError) as err:
        raise statuses.bad_request(f"error decoding request body as JSON: {err}") from None
    if duplicates and opts is not None:
        messages = [f'json: duplicate field "{key}"' for key in duplicates]
        if opts.field_validation == "Strict":
            raise statuses.bad_request("strict decoding error: " + ", ".join(messages))
        if opts.field_validation == "Warn":
            opts.warnings.extend(messages)
    return data
