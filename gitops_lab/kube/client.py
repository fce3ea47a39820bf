"""An async client of the public Kubernetes REST API, for any cluster (sandbox, kind or an existing one).

Owns talking to one API server: a single keep-alive aiohttp session with a bounded number of requests in
flight, discovery (aggregated ``apidiscovery.k8s.io`` documents, or the per-group documents of older servers;
cached and refreshed once when a kind is missing, so CRDs created later are found), CRUD, server-side apply,
patches, the ``/status`` subresource, streaming watches and core/v1 Events. Every failure becomes a
:class:`~gitops_lab.errors.ClusterError`: :class:`KubeError` for an answer of the server (code, reason,
message and the Status body; :class:`UnknownKindError`, a 404, for a kind the server does not serve), a plain
``ClusterError`` naming the server and the next step when it cannot be reached. It must not read kubeconfig
files (:mod:`.config` does), decide what to apply (the reconciler does) or hold any state besides the session
and the discovery cache.

>>> async def show(connection: config.Connection) -> None:             # doctest: +SKIP
...     async with Client(connection) as kube:
...         cm = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"greeting": "hello"},
...               "metadata": {"name": "demo", "namespace": "default"}}
...         live = await kube.apply(cm, field_manager="kustomize-controller")
...         print(live["metadata"]["resourceVersion"])
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
import logging
import os
import time
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from typing import Any

import aiohttp

from gitops_lab import errors
from gitops_lab.kube import config

log = logging.getLogger(__name__)

JSON = "application/json"
APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
_AGGREGATED_ACCEPT = ",".join([
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
    JSON,
])
_LIST_PAGE = 500
_MAX_WATCH_LINE = 256 * 1024 * 1024
"""Largest watch event accepted (a line of JSON); far above what any API server stores in one object."""
_MAX_RETRY_AFTER = 10.0
_RETRIES_429 = 5
_HINTS = {
    400: "fix the request as the message says",
    401: "check the credentials in the kubeconfig (token or client certificate); a recreated cluster needs a "
         "fresh kubeconfig",
    403: "the kubeconfig's user lacks the permission; grant it with RBAC or use a context with more rights",
    404: "check the kind, name and namespace",
    405: "the resource does not support this operation",
    409: "another writer changed or owns it; read the object again, or pass force=True to server-side apply "
         "to take over the fields",
    410: "the resource version is too old; list again and watch from the list's resourceVersion",
    415: "the server does not accept this content type",
    422: "fix the object as the message says",
    429: "the API server is overloaded; retry later",
}


class KubeError(errors.ClusterError):
    """The API server answered with an error ``Status``.

    Attributes:
        code: the HTTP status code (404, 409, 422, ...).
        reason: the Status's reason (``NotFound``, ``Conflict``, ``Invalid``, ``Expired`` ...), "" if none.
        message: the Status's message, as kubectl would print it.
        body: the Status as the server sent it (``{}`` if the body was not a Status).
    """

    def __init__(self, code: int, reason: str, message: str, body: Mapping[str, Any], *, server: str,
                 operation: str) -> None:
        self.code = code
        self.reason = reason
        self.message = message
        self.body = dict(body)
        self.server = server
        self.operation = operation
        hint = _HINTS.get(code, "the API server failed; retry, and check its logs if it persists"
                          if code >= 500 else "see the message")
        super().__init__(f"The API server at {server} answered {operation} with {code} {reason or 'error'}: "
                         f"{message.rstrip('.')}; {hint}.")


class UnknownKindError(KubeError):
    """The server serves no such kind in that apiVersion (kubectl: "no matches for kind"), even after a fresh
    discovery. A 404 NotFound like the answers it stands for, so ``except KubeError`` with ``code == 404``
    covers "not there (yet)" whether the object or its kind is missing."""

    def __init__(self, api_version: str, kind: str, server: str) -> None:
        self.api_version = api_version
        self.kind = kind
        self.code, self.reason, self.body = 404, "NotFound", {}
        self.message = f'no matches for kind "{kind}" in version "{api_version}"'
        self.server, self.operation = server, "discovery"
        errors.ClusterError.__init__(
            self, f"The API server at {server} has {self.message}; check apiVersion and kind, or install the "
                  f"CustomResourceDefinition that defines it first.")


@dataclasses.dataclass(frozen=True)
class Resource:
    """One resource type as discovery describes it.

    >>> Resource("apps", "v1", "Deployment", "deployments", True).path("web", "shop")
    '/apis/apps/v1/namespaces/web/deployments/shop'
    >>> Resource("", "v1", "Namespace", "namespaces", False).path(None, "web", "status")
    '/api/v1/namespaces/web/status'
    """

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    subresources: frozenset[str] = frozenset()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
        """The URL path of the collection (``name`` None) or of one object, in ``namespace`` if namespaced."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{_segment(namespace)}"
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{_segment(name)}"
        if subresource:
            base += f"/{subresource}"
        return base


class ObjectList(list[dict[str, Any]]):
    """The items of a list (each with apiVersion and kind) and its ``resource_version`` to watch from."""

    resource_version: str = ""


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe=":@")


# ---- discovery documents (pure) ----------------------------------------------------------------------------

def resources_from_aggregated(document: Mapping[str, Any]) -> list[Resource]:
    """The resource types of an ``APIGroupDiscoveryList`` (``/api`` or ``/apis``, v2 or v2beta1)."""
    found = []
    for item in document.get("items") or []:
        group = (item.get("metadata") or {}).get("name") or ""
        for version in item.get("versions") or []:
            for res in version.get("resources") or []:
                kind = (res.get("responseKind") or {}).get("kind")
                if not kind or not res.get("resource"):
                    continue
                subs = frozenset(s.get("subresource", "") for s in res.get("subresources") or [])
                found.append(Resource(group, version.get("version", ""), kind, res["resource"],
                                      res.get("scope") == "Namespaced", subs))
    return found


def resources_from_list(document: Mapping[str, Any]) -> list[Resource]:
    """The resource types of a legacy ``APIResourceList`` (``/api/v1``, ``/apis/<group>/<version>``)."""
    group, _, version = str(document.get("groupVersion", "")).rpartition("/")
    subs: dict[str, set[str]] = {}
    tops = []
    for res in document.get("resources") or []:
        name = str(res.get("name", ""))
        if "/" in name:
            parent, _, sub = name.partition("/")
            subs.setdefault(parent, set()).add(sub)
        elif res.get("kind"):
            tops.append(res)
    return [Resource(group, version, r["kind"], r["name"], bool(r.get("namespaced")),
                     frozenset(subs.get(r["name"], ()))) for r in tops]


def group_versions(document: Mapping[str, Any]) -> list[str]:
    """Every ``group/version`` of a legacy ``APIGroupList`` (``/apis``)."""
    return [v["groupVersion"] for g in document.get("groups") or [] for v in g.get("versions") or []
            if v.get("groupVersion")]


def _index(resources: Iterable[Resource]) -> dict[tuple[str, str], Resource]:
    index: dict[tuple[str, str], Resource] = {}
    for r in resources:
        index.setdefault((r.api_version, r.kind), r)
    return index


# ---- the client --------------------------------------------------------------------------------------------

class Client:
    """An async client of one API server; use it as ``async with Client(connection) as kube: ...``.

    Args:
        connection: where and how to connect (:func:`gitops_lab.kube.config.load`).
        concurrency: requests in flight at most (watches do not count); more wait their turn.
        timeout: seconds a request may take, connecting included (watches: connecting only).
        user_agent: the User-Agent the server records (it names the field manager of updates without one).
    """

    def __init__(self, connection: config.Connection, *, concurrency: int = 16, timeout: float = 30.0,
                 user_agent: str = "gitops-lab") -> None:
        self.connection = connection
        self._timeout = timeout
        self._user_agent = user_agent
        self._concurrency = concurrency
        self._session: aiohttp.ClientSession | None = None
        self._limit = asyncio.Semaphore(concurrency)
        self._kinds: dict[tuple[str, str], Resource] = {}
        self._discovery_round = 0
        self._discovery_lock = asyncio.Lock()
        self._extra: dict[str, Any] = ({"server_hostname": connection.tls_server_name}
                                       if connection.tls_server_name else {})

    @classmethod
    def from_kubeconfig(cls, path: str | os.PathLike[str] | None = None, context: str | None = None,
                        **options: Any) -> Client:
        """A client for ``context`` of a kubeconfig (see :func:`gitops_lab.kube.config.load`)."""
        return cls(config.load(path, context), **options)

    @property
    def server(self) -> str:
        return self.connection.server

    @property
    def namespace(self) -> str:
        """The namespace used for a namespaced object that names none (the kubeconfig context's)."""
        return self.connection.namespace

    async def __aenter__(self) -> Client:
        self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def open(self) -> None:
        """Create the session (inside a running event loop); idempotent."""
        if self._session is not None:
            return
        # Synchronisation belongs to the loop that opens the session (a client may be reopened in another).
        self._limit = asyncio.Semaphore(self._concurrency)
        self._discovery_lock = asyncio.Lock()
        connector = aiohttp.TCPConnector(limit=0, ssl=self.connection.ssl or False, keepalive_timeout=30)
        headers = {"Accept": JSON, "User-Agent": self._user_agent, **self.connection.headers}
        self._session = aiohttp.ClientSession(
            connector=connector, headers=headers, raise_for_status=False,
            timeout=aiohttp.ClientTimeout(total=self._timeout))

    async def close(self) -> None:
        """Close the session and its connections (open watches end); idempotent."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    # ---- discovery ---------------------------------------------------------------------------------------
    async def resource(self, api_version: str, kind: str) -> Resource:
        """The resource type of ``kind`` in ``api_version`` from discovery (cached; refreshed once on a miss).

        Raises:
            UnknownKindError: the server serves no such kind, even after a fresh discovery.
        """
        found = self._kinds.get((api_version, kind))
        if found is not None:
            return found
        seen_round = self._discovery_round
        async with self._discovery_lock:
            if self._discovery_round == seen_round:  # nobody refreshed since our miss: do it
                self._kinds = _index(await self._discover())
                self._discovery_round += 1
            found = self._kinds.get((api_version, kind))
        if found is None:
            raise UnknownKindError(api_version, kind, self.server)
        return found

    async def _discover(self) -> list[Resource]:
        core, groups = await asyncio.gather(
            self.request("GET", "/api", accept=_AGGREGATED_ACCEPT),
            self.request("GET", "/apis", accept=_AGGREGATED_ACCEPT))
        if core.get("kind") == "APIGroupDiscoveryList" and groups.get("kind") == "APIGroupDiscoveryList":
            return resources_from_aggregated(core) + resources_from_aggregated(groups)
        paths = [f"/api/{v}" for v in core.get("versions") or []]
        paths += [f"/apis/{gv}" for gv in group_versions(groups)]
        documents = await asyncio.gather(*(self._optional(p) for p in paths))
        return [r for doc in documents if doc for r in resources_from_list(doc)]

    async def _optional(self, path: str) -> dict[str, Any] | None:
        """A legacy discovery document; ``None`` if its (aggregated) API is unavailable (kubectl skips it)."""
        try:
            return await self.request("GET", path)
        except KubeError as err:
            if err.code in (404, 503):
                return None
            raise

    # ---- reads -------------------------------------------------------------------------------------------
    async def get(self, api_version: str, kind: str, name: str, namespace: str | None = None
                  ) -> dict[str, Any] | None:
        """The object, or ``None`` if it does not exist (404)."""
        res = await self.resource(api_version, kind)
        try:
            return await self.request("GET", res.path(self._ns(res, namespace), name))
        except KubeError as err:
            if err.code == 404:
                return None
            raise

    async def list(self, api_version: str, kind: str, namespace: str | None = None,
                   label_selector: str | None = None, field_selector: str | None = None) -> ObjectList:
        """Every object of a kind (in ``namespace``, or in all namespaces if ``None``), read in pages of 500.

        Items carry ``apiVersion`` and ``kind`` (a list's items have none on the wire); the returned list's
        ``resource_version`` is where a watch continues from.
        """
        res = await self.resource(api_version, kind)
        path = res.path(namespace if res.namespaced else None)
        params = {"limit": str(_LIST_PAGE)}
        if label_selector:
            params["labelSelector"] = label_selector
        if field_selector:
            params["fieldSelector"] = field_selector
        items = ObjectList()
        while True:
            page = await self.request("GET", path, params=params)
            for item in page.get("items") or []:
                item.setdefault("apiVersion", api_version)
                item.setdefault("kind", kind)
                items.append(item)
            meta = page.get("metadata") or {}
            items.resource_version = meta.get("resourceVersion", "")
            if not meta.get("continue"):
                return items
            params["continue"] = meta["continue"]

    # ---- writes ------------------------------------------------------------------------------------------
    async def apply(self, obj: Mapping[str, Any], field_manager: str, force: bool = True,
                    dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply ``obj`` as ``field_manager`` (creates or updates); the live object after it.

        A namespaced object without ``metadata.namespace`` goes to :attr:`namespace`. Without ``force``,
        fields another manager owns with other values make the server answer 409 Conflict (a
        :class:`KubeError`).
        """
        api_version, kind, name = _identity(obj)
        res = await self.resource(api_version, kind)
        namespace = self._ns(res, (obj.get("metadata") or {}).get("namespace"))
        params = {"fieldManager": field_manager, "force": "true" if force else "false"}
        if dry_run:
            params["dryRun"] = "All"
        return await self.request("PATCH", res.path(namespace, name), params=params, body=obj,
                                  content_type=APPLY_PATCH, idempotent=True)

    async def patch(self, api_version: str, kind: str, name: str, namespace: str | None, patch: Any,
                    content_type: str = MERGE_PATCH, *, field_manager: str | None = None,
                    subresource: str | None = None) -> dict[str, Any]:
        """Patch an object (``content_type``: :data:`MERGE_PATCH`, :data:`JSON_PATCH`,
        :data:`STRATEGIC_MERGE_PATCH` or :data:`APPLY_PATCH`); the live object after it."""
        res = await self.resource(api_version, kind)
        params = {"fieldManager": field_manager} if field_manager else None
        path = res.path(self._ns(res, namespace), name, subresource)
        return await self.request("PATCH", path, params=params, body=patch, content_type=content_type)

    async def patch_status(self, api_version: str, kind: str, name: str, namespace: str | None,
                           status: Mapping[str, Any], *, field_manager: str | None = None) -> dict[str, Any]:
        """Merge-patch ``status`` into the object's ``/status`` subresource; the live object after it."""
        return await self.patch(api_version, kind, name, namespace, {"status": status}, MERGE_PATCH,
                                field_manager=field_manager, subresource="status")

    async def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None,
                     propagation: str = "Background") -> bool:
        """Delete an object with ``propagation`` (Background, Foreground, Orphan); ``False`` if it was not
        there."""
        res = await self.resource(api_version, kind)
        try:
            await self.request("DELETE", res.path(self._ns(res, namespace), name),
                               params={"propagationPolicy": propagation})
        except KubeError as err:
            if err.code == 404:
                return False
            raise
        return True

    async def create_event(self, involved: Mapping[str, Any], type_: str, reason: str, message: str,
                           component: str, *, annotations: Mapping[str, str] | None = None) -> None:
        """Record a core/v1 Event about ``involved`` (an object with apiVersion, kind and metadata), as
        client-go's recorder does: in the object's namespace (``default`` for cluster-scoped objects), named
        ``<object name>.<hex nanoseconds>``, from ``component``. ``type_`` is ``Normal`` or ``Warning``."""
        meta = involved.get("metadata") or {}
        namespace = meta.get("namespace") or config.DEFAULT_NAMESPACE
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ref = {"apiVersion": involved.get("apiVersion", ""), "kind": involved.get("kind", ""),
               "name": meta.get("name", "")}
        for key in ("namespace", "uid", "resourceVersion"):
            if meta.get(key):
                ref[key] = meta[key]
        metadata: dict[str, Any] = {"name": f"{meta.get('name', 'event')}.{time.time_ns():x}",
                                    "namespace": namespace}
        if annotations:
            metadata["annotations"] = dict(annotations)
        event = {"apiVersion": "v1", "kind": "Event", "metadata": metadata, "involvedObject": ref,
                 "reason": reason, "message": message, "type": type_, "source": {"component": component},
                 "firstTimestamp": now, "lastTimestamp": now, "count": 1}
        await self.request("POST", f"/api/v1/namespaces/{_segment(namespace)}/events", body=event)

    # ---- watches -----------------------------------------------------------------------------------------
    async def watch(self, api_version: str, kind: str, namespace: str | None = None,
                    label_selector: str | None = None, field_selector: str | None = None,
                    resource_version: str | None = None, *, timeout_seconds: int | None = None,
                    bookmarks: bool = False) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        """Stream ``(type, object)`` changes of a kind: ADDED, MODIFIED, DELETED (BOOKMARK if ``bookmarks``).

        Without ``resource_version`` the server first sends every current object as ADDED. The stream ends
        when the server closes it (``timeout_seconds``, or its own limit); stop early by breaking out of the
        loop — the response is closed when the generator is (``contextlib.aclosing`` closes it at once).

        Raises:
            KubeError: 410 Expired when ``resource_version`` is too old (list again), or another ERROR event.
        """
        res = await self.resource(api_version, kind)
        params = {"watch": "true"}
        for key, value in (("labelSelector", label_selector), ("fieldSelector", field_selector),
                           ("resourceVersion", resource_version)):
            if value:
                params[key] = value
        if timeout_seconds is not None:
            params["timeoutSeconds"] = str(timeout_seconds)
        if bookmarks:
            params["allowWatchBookmarks"] = "true"
        path = res.path(namespace if res.namespaced else None)
        operation = f"GET {path}?watch=true"
        response = await self._open_watch(path, params, operation)
        try:
            if response.status >= 400:
                raise self._error(response.status, await response.read(), operation)
            async for line in _lines(response.content, operation, self.server):
                try:
                    event = json.loads(line)
                except ValueError as err:
                    raise errors.ClusterError(
                        f"The API server at {self.server} sent a watch line that is not JSON on {operation} "
                        f"({line[:80]!r}); check that the kubeconfig's server is a Kubernetes API server."
                    ) from err
                type_, obj = event.get("type", ""), event.get("object") or {}
                if type_ == "ERROR":
                    raise self._status_error(obj, operation)
                if type_ != "BOOKMARK" or bookmarks:
                    yield type_, obj
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError):
            return  # the connection went away mid-stream: the watch has ended, as when the server closes it
        finally:
            response.close()

    async def _open_watch(self, path: str, params: dict[str, str], operation: str) -> aiohttp.ClientResponse:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._timeout, sock_read=None)
        try:
            return await self._open().get(self.server + path, params=params, timeout=timeout, **self._extra)
        except (aiohttp.ClientError, TimeoutError) as err:
            raise self._unreachable(err, operation) from err

    # ---- requests ----------------------------------------------------------------------------------------
    async def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                      body: Any = None, content_type: str = JSON, accept: str | None = None,
                      idempotent: bool | None = None) -> Any:
        """One request to the API server; its decoded JSON answer (``{}`` if empty).

        ``body`` is sent as JSON with ``content_type``. A 429 with ``Retry-After`` is retried (as client-go
        does); a dropped keep-alive connection is retried for ``idempotent`` requests (default: GET).

        Raises:
            KubeError: the server answered 4xx/5xx.
            ClusterError: the server could not be reached or the TLS handshake failed.
        """
        session = self._open()
        data = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        headers = {}
        if data is not None:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        retry_dropped = idempotent if idempotent is not None else method == "GET"
        operation = f"{method} {path}"
        url = self.server + path
        async with self._limit:
            for attempt in range(_RETRIES_429 + 1):
                try:
                    async with session.request(method, url, params=params, data=data, headers=headers,
                                               **self._extra) as response:
                        payload = await response.read()
                        status = response.status
                        retry_after = response.headers.get("Retry-After")
                        _log_warnings(response.headers.getall("Warning", ()), operation)
                except aiohttp.ServerDisconnectedError as err:
                    if retry_dropped and attempt == 0:
                        continue
                    raise self._unreachable(err, operation) from err
                except (aiohttp.ClientError, TimeoutError) as err:
                    raise self._unreachable(err, operation) from err
                if status == 429 and attempt < _RETRIES_429:
                    await asyncio.sleep(_retry_delay(retry_after, attempt))
                    continue
                break
        if status >= 400:
            raise self._error(status, payload, operation)
        try:
            return json.loads(payload) if payload else {}
        except ValueError as err:
            raise errors.ClusterError(
                f"The API server at {self.server} answered {operation} with {status} and a body that is not "
                f"JSON ({payload[:80]!r}); check that the kubeconfig's server is a Kubernetes API server."
            ) from err

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise errors.ClusterError(f"The client of {self.server} is not open; use it as `async with "
                                      f"Client(...) as kube:` or call open() first.")
        return self._session

    def _ns(self, res: Resource, namespace: str | None) -> str | None:
        if not res.namespaced:
            return None
        return namespace or self.connection.namespace

    # ---- errors ------------------------------------------------------------------------------------------
    def _error(self, status: int, payload: bytes, operation: str) -> KubeError:
        try:
            body = json.loads(payload) if payload else {}
        except ValueError:
            body = {}
        if isinstance(body, dict) and body.get("kind") == "Status":
            return self._status_error(body, operation, status)
        text = payload.decode("utf-8", errors="replace").strip()[:500] or "no message"
        return KubeError(status, "", text, {}, server=self.server, operation=operation)

    def _status_error(self, status: Mapping[str, Any], operation: str, code: int | None = None) -> KubeError:
        return KubeError(int(status.get("code") or code or 500), str(status.get("reason") or ""),
                         str(status.get("message") or ""), status, server=self.server, operation=operation)

    def _unreachable(self, err: BaseException, operation: str) -> errors.ClusterError:
        if isinstance(err, aiohttp.ClientConnectorCertificateError):
            return errors.ClusterError(
                f"The API server at {self.server} presented a certificate that the kubeconfig's certificate "
                f"authority does not accept ({err.certificate_error}); if the cluster was recreated, fetch a "
                f"fresh kubeconfig (e.g. `gitops-lab kubeconfig`), else check certificate-authority(-data).")
        if isinstance(err, aiohttp.ClientSSLError):
            return errors.ClusterError(
                f"The TLS handshake with the API server at {self.server} failed ({err}); check the "
                f"kubeconfig's certificate authority and client certificate.")
        if isinstance(err, TimeoutError):
            return errors.ClusterError(
                f"The API server at {self.server} did not answer {operation} within {self._timeout:g} s; "
                f"check that the cluster is healthy (`gitops-lab status`, `kubectl get --raw /readyz`).")
        return errors.ClusterError(
            f"The API server at {self.server} could not be reached for {operation} ({err}); check that the "
            f"cluster is running (`gitops-lab status`) and that the kubeconfig's server address is right.")


def _identity(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    name = (obj.get("metadata") or {}).get("name")
    if not (isinstance(api_version, str) and api_version and isinstance(kind, str) and kind
            and isinstance(name, str) and name):
        raise errors.ClusterError(f"An object to apply needs apiVersion, kind and metadata.name; got "
                                  f"apiVersion={api_version!r}, kind={kind!r}, name={name!r}. Add them.")
    return api_version, kind, name


async def _lines(stream: aiohttp.StreamReader, operation: str, server: str) -> AsyncIterator[bytes]:
    """The non-empty lines of a chunked stream, however big (linear time; only a sanity cap on a line)."""
    buffer = bytearray()
    async for chunk in stream.iter_any():
        start = len(buffer)
        buffer += chunk
        end = buffer.find(b"\n", start)
        if end < 0:
            if len(buffer) > _MAX_WATCH_LINE:
                raise errors.ClusterError(
                    f"A watch event from {server} ({operation}) exceeds {_MAX_WATCH_LINE >> 20} MiB; the "
                    f"server is sending something other than watch events.")
            continue
        begin = 0
        while end >= 0:
            if end > begin:
                yield bytes(buffer[begin:end])
            begin = end + 1
            end = buffer.find(b"\n", begin)
        del buffer[:begin]
    if buffer.strip():
        yield bytes(buffer)


def _retry_delay(retry_after: str | None, attempt: int) -> float:
    """Seconds to wait before retrying a 429: its Retry-After in seconds, capped; else a back-off."""
    try:
        return min(max(float(retry_after or ""), 0.0), _MAX_RETRY_AFTER)
    except ValueError:  # absent, or an HTTP date (kube-apiserver sends seconds)
        return min(0.1 * 2 ** attempt, _MAX_RETRY_AFTER)


def _log_warnings(values: Iterable[str], operation: str) -> None:
    for value in values:
        log.warning("API server warning on %s: %s", operation, value)
