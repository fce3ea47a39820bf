"""The real kubectl reads the sandbox's discovery and OpenAPI v3 documents.

A tiny aiohttp server on 127.0.0.1:0 (plain HTTP, no token) serves ``discovery`` and ``openapi`` answers
plus a minimal Deployment endpoint that records what kubectl sends, so ``apply`` and ``edit`` can be seen
deciding on server-side field validation and on strategic merge patches computed from the v3 documents.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import pathlib
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from gitops_lab.sandbox import discovery, openapi, registry

KUBECTL = shutil.which("kubectl") or "kubectl"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "shortNames": ["wd"]},
        "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                      "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
                          "type": "object", "description": "What the widget should be.",
                          "properties": {"size": {"type": "integer",
                                                  "description": "How big the widget is."}},
                      }}}}}],
    },
}


@dataclasses.dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    content_type: str
    body: bytes


class FakeApiServer:
    """Discovery, OpenAPI v3 and one Deployment collection, served from a thread with its own event loop."""

    def __init__(self, reg: registry.Registry) -> None:
        self.reg = reg
        self.seen: list[Seen] = []
        self.deployments: dict[str, dict[str, Any]] = {}
        self.aggregated = True
        """Answer aggregated discovery when asked (off: like a server that only has the legacy form)."""
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-apiserver", daemon=True)
        self._runner: web.AppRunner | None = None
        self._error: BaseException | None = None

    # --- lifecycle

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(timeout=10) or self._error:
            raise RuntimeError(f"The fake API server did not start: {self._error!r}")

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            raise RuntimeError("The fake API server thread is still alive after stop().")
        self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self) -> None:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/version", self._version)
        app.router.add_get("/api", self._api)
        app.router.add_get("/apis", self._apis)
        app.router.add_get("/api/{version}", self._resources)
        app.router.add_get("/apis/{group}", self._group)
        app.router.add_get("/apis/{group}/{version}", self._resources)
        app.router.add_get("/openapi/v3", self._openapi_index)
        app.router.add_get("/openapi/v3/{path:.+}", self._openapi_document)
        collection = "/apis/apps/v1/namespaces/{namespace}/deployments"
        app.router.add_post(collection, self._create)
        app.router.add_get(collection + "/{name}", self._get)
        app.router.add_patch(collection + "/{name}", self._patch)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    # --- handlers

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(Seen(request.method, request.path, dict(request.query),
                              request.headers.get("Content-Type", ""), body))
        return await handler(request)

    @staticmethod
    def _json(body: Any, status: int = 200, content_type: str = "application/json") -> web.Response:
        return web.Response(body=json.dumps(body).encode(), status=status,
                            headers={"Content-Type": content_type})

    def _not_found(self, what: str) -> web.Response:
        return self._json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": f"{what} not found", "reason": "NotFound", "code": 404}, status=404)

    async def _version(self, request: web.Request) -> web.Response:
        return self._json(discovery.version_info())

    def _root(self, request: web.Request, core: bool) -> web.Response:
        version = discovery.negotiate(request.headers.get("Accept"))
        if version and self.aggregated:
            return self._json(discovery.aggregated(self.reg, core, version),
                              content_type=discovery.content_type(version))
        if core:
            return self._json(discovery.legacy_core(self.reg, f"127.0.0.1:{self.port}"))
        return self._json(discovery.legacy_groups(self.reg))

    async def _api(self, request: web.Request) -> web.Response:
        return self._root(request, core=True)

    async def _apis(self, request: web.Request) -> web.Response:
        return self._root(request, core=False)

    async def _group(self, request: web.Request) -> web.Response:
        found = discovery.group(self.reg, request.match_info["group"])
        return self._json(found) if found else self._not_found(request.path)

    async def _resources(self, request: web.Request) -> web.Response:
        group, version = request.match_info.get("group", ""), request.match_info["version"]
        found = discovery.resource_list(self.reg, group, version)
        return self._json(found) if found else self._not_found(request.path)

    async def _openapi_index(self, request: web.Request) -> web.Response:
        return self._json(openapi.index(self.reg))

    async def _openapi_document(self, request: web.Request) -> web.Response:
        found = openapi.built(self.reg, request.match_info["path"])
        if found is None:
            return self._not_found(request.path)
        return web.Response(body=found.body, headers={"Content-Type": "application/json"})

    async def _create(self, request: web.Request) -> web.Response:
        obj = json.loads(await request.read())
        obj["metadata"].update(namespace=request.match_info["namespace"], uid="uid-1", resourceVersion="1",
                               generation=1, creationTimestamp="2024-01-01T00:00:00Z")
        self.deployments[obj["metadata"]["name"]] = obj
        return self._json(obj, status=201)

    async def _get(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        found = self.deployments.get(name)
        return self._json(found) if found else self._not_found(f'deployments.apps "{name}"')

    async def _patch(self, request: web.Request) -> web.Response:
        # Only what kubectl sends matters here; the stored object is answered unchanged.
        return await self._get(request)


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeApiServer]:
    reg = registry.Registry()
    reg.set_crd(CRD["metadata"]["name"], CRD)  # type: ignore[index]
    fake = FakeApiServer(reg)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture()
def fake_kubectl(fake_server: FakeApiServer, tmp_path: pathlib.Path) -> Any:
    """Run kubectl against the fake server with a fresh kubeconfig and caches under ``tmp_path``."""
    config = tmp_path / "kubeconfig"
    config.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{fake_server.port}"}}],
        "users": [{"name": "anonymous", "user": {}}],
        "contexts": [{"name": "fake",
                      "context": {"cluster": "fake", "user": "anonymous", "namespace": "default"}}],
    }))
    env = {**os.environ, "KUBECONFIG": str(config), "HOME": str(tmp_path), "KUBECTL_KUBERC": "false",
           "NO_COLOR": "1"}
    env.pop("KUBE_EDITOR", None)

    def run(*args: str, extra_env: dict[str, str] | None = None, stdin: str | None = None) -> str:
        done = subprocess.run([KUBECTL, f"--cache-dir={tmp_path / 'cache'}", *args], input=stdin,
                              capture_output=True, text=True, timeout=60, env={**env, **(extra_env or {})})
        if done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return done.stdout

    return run


def test_version_reports_kubectl_minor(fake_kubectl: Any) -> None:
    out = json.loads(fake_kubectl("version", "-o", "json"))
    assert out["serverVersion"]["minor"] == out["clientVersion"]["minor"]
    assert out["serverVersion"]["gitVersion"] == out["clientVersion"]["gitVersion"]


def test_api_versions(fake_kubectl: Any) -> None:
    versions = fake_kubectl("api-versions").split()
    assert versions == sorted(["v1", "apps/v1", "apiextensions.k8s.io/v1", "example.com/v1"])


def test_api_resources(fake_kubectl: Any) -> None:
    lines = fake_kubectl("api-resources", "--no-headers").splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in lines}
    assert rows["deployments"] == ["deploy", "apps/v1", "true", "Deployment"]
    assert rows["namespaces"] == ["ns", "v1", "false", "Namespace"]
    assert rows["widgets"] == ["wd", "example.com/v1", "true", "Widget"]
    assert rows["secrets"] == ["v1", "true", "Secret"]


def test_api_resources_used_aggregated_discovery(fake_kubectl: Any, fake_server: FakeApiServer) -> None:
    before = len(fake_server.seen)
    fake_kubectl("api-resources", "--no-headers")
    paths = [s.path for s in fake_server.seen[before:]]
    assert "/apis" in paths
    assert "/apis/apps/v1" not in paths  # aggregated discovery already carried the resources


def test_api_resources_from_legacy_discovery(fake_kubectl: Any, fake_server: FakeApiServer) -> None:
    fake_server.aggregated = False
    try:
        before = len(fake_server.seen)
        lines = fake_kubectl("api-resources", "--no-headers").splitlines()
        paths = {s.path for s in fake_server.seen[before:]}
    finally:
        fake_server.aggregated = True
    rows = {line.split()[0]: line.split()[1:] for line in lines}
    assert rows["deployments"] == ["deploy", "apps/v1", "true", "Deployment"]
    assert rows["widgets"] == ["wd", "example.com/v1", "true", "Widget"]
    assert "deployments/scale" not in rows
    assert {"/api/v1", "/apis/apps/v1", "/apis/example.com/v1"} <= paths


def test_explain_field(fake_kubectl: Any) -> None:
    out = fake_kubectl("explain", "deployment.spec.template.spec.containers.image")
    assert "GROUP:      apps" in out
    assert "KIND:       Deployment" in out
    assert "VERSION:    v1" in out
    assert "FIELD: image <string>" in out
    assert "Container image name." in out


def test_explain_int_or_string_and_quantity(fake_kubectl: Any) -> None:
    max_surge = fake_kubectl("explain", "deployment.spec.strategy.rollingUpdate.maxSurge")
    assert "FIELD: maxSurge <IntOrString>" in max_surge
    limits = fake_kubectl("explain", "pod.spec.containers.resources.limits")
    assert "FIELD: limits <map[string]Quantity>" in limits


def test_explain_recursive_head(fake_kubectl: Any) -> None:
    lines = fake_kubectl("explain", "pods", "--recursive").splitlines()
    assert lines[0] == "KIND:       Pod"
    assert lines[1] == "VERSION:    v1"
    fields = lines[lines.index("FIELDS:") + 1:]
    assert fields[0] == "  apiVersion\t<string>"
    assert "  spec\t<PodSpec>" in fields
    assert "    containers\t<[]Container> -required-" in fields
    assert "      image\t<string>" in fields


def test_explain_custom_resource(fake_kubectl: Any) -> None:
    out = fake_kubectl("explain", "widgets.spec.size")
    assert "GROUP:      example.com" in out
    assert "KIND:       Widget" in out
    assert "FIELD: size <integer>" in out
    assert "How big the widget is." in out


MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: nginx:1.25}
      - {name: sidecar, image: busybox:1.36}
"""


def test_apply_validates_on_server_and_patches_strategically(fake_kubectl: Any,
                                                             fake_server: FakeApiServer) -> None:
    fake_server.deployments.clear()
    start = len(fake_server.seen)
    assert "deployment.apps/web created" in fake_kubectl("apply", "-f", "-", stdin=MANIFEST)
    create = [s for s in fake_server.seen[start:] if s.method == "POST"]
    assert len(create) == 1 and create[0].query.get("fieldValidation") == "Strict"

    start = len(fake_server.seen)
    changed = MANIFEST.replace("nginx:1.25", "nginx:1.27")
    assert "deployment.apps/web configured" in fake_kubectl("apply", "-f", "-", stdin=changed)
    patches = [s for s in fake_server.seen[start:] if s.method == "PATCH"]
    assert len(patches) == 1
    assert patches[0].content_type == "application/strategic-merge-patch+json"
    assert patches[0].query.get("fieldValidation") == "Strict"
    patch = json.loads(patches[0].body)
    containers = patch["spec"]["template"]["spec"]
    assert containers["containers"] == [{"image": "nginx:1.27", "name": "web"}]
    assert containers["$setElementOrder/containers"] == [{"name": "web"}, {"name": "sidecar"}]
    assert not [s for s in fake_server.seen[start:] if s.path.startswith("/openapi/v2")]


def test_edit_sends_validated_patch(fake_kubectl: Any, fake_server: FakeApiServer,
                                    tmp_path: pathlib.Path) -> None:
    fake_server.deployments.clear()
    fake_kubectl("apply", "-f", "-", stdin=MANIFEST)
    editor = tmp_path / "editor.py"
    editor.write_text("import pathlib, sys\n"
                      "p = pathlib.Path(sys.argv[1])\n"
                      "p.write_text(p.read_text().replace('replicas: 1', 'replicas: 3'))\n")
    start = len(fake_server.seen)
    out = fake_kubectl("edit", "deployment/web", extra_env={"KUBE_EDITOR": f"{sys.executable} {editor}"})
    assert "deployment.apps/web edited" in out
    patches = [s for s in fake_server.seen[start:] if s.method == "PATCH"]
    assert len(patches) == 1
    assert patches[0].query.get("fieldValidation") == "Strict"
    assert json.loads(patches[0].body)["spec"]["replicas"] == 3
