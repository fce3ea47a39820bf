"""gitops_lab.kube's client against a real sandbox (checked with the real kubectl), and against a tiny local
HTTPS server that requires a client certificate as kind's API server does."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import pathlib
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar

import psutil
import pytest
import yaml
from aiohttp import web

from gitops_lab import errors
from gitops_lab.kube import client, config
from gitops_lab.sandbox import discovery, registry, server
from tests import certificates
from tests.integration.conftest import Kubectl

T = TypeVar("T")
GROUP = "kube-client.test"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def crd(plural: str, kind: str) -> dict[str, Any]:
    open_object = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    schema = {"type": "object", "properties": {"spec": open_object, "status": open_object}}
    names = {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": f"{kind}List"}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{GROUP}"},
            "spec": {"group": GROUP, "scope": "Namespaced", "names": names,
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "subresources": {"status": {}}, "schema": {"openAPIV3Schema": schema}}]}}


def create_crd(kubectl: Kubectl, plural: str, kind: str) -> None:
    kubectl("apply", "-f", "-", input=json.dumps(crd(plural, kind)))
    kubectl("wait", "--for=condition=Established", f"crd/{plural}.{GROUP}", "--timeout=30s")


def configmap(name: str, namespace: str, data: dict[str, str], **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": labels}, "data": data}


@pytest.fixture(scope="module")
def connection(sandbox: server.Sandbox) -> config.Connection:
    return config.load(sandbox.kubeconfig)


@pytest.fixture(scope="module")
def widgets(kubectl: Kubectl) -> Iterator[str]:
    """A namespaced CRD with a status subresource, ``Widget`` in ``kube-client.test/v1``."""
    create_crd(kubectl, "widgets", "Widget")
    yield f"{GROUP}/v1"
    kubectl("delete", "crd", f"widgets.{GROUP}", "--wait=false", check=False)


def kubectl_json(kubectl: Kubectl, *args: str) -> Any:
    return json.loads(kubectl("get", *args, "-o", "json").stdout)


def eventually(what: str, check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# ---- discovery -----------------------------------------------------------------------------------------

def test_discovery_of_built_ins_and_of_a_crd_created_later(connection: config.Connection,
                                                           kubectl: Kubectl) -> None:
    async def scenario() -> None:
        async with client.Client(connection) as kube:
            deploy = await kube.resource("apps/v1", "Deployment")
            assert (deploy.plural, deploy.namespaced, deploy.subresources) == (
                "deployments", True, frozenset({"status", "scale"}))
            namespace = await kube.resource("v1", "Namespace")
            assert (namespace.plural, namespace.namespaced) == ("namespaces", False)
            unknown = rf'no matches for kind "Sprocket" in version "{GROUP}/v1"; .*CustomResourceDefinition'
            with pytest.raises(client.UnknownKindError, match=unknown) as caught:
                await kube.get(f"{GROUP}/v1", "Sprocket", "s1")
            assert isinstance(caught.value, client.KubeError) and caught.value.code == 404
            rounds = kube._discovery_round
            assert await kube.resource("apps/v1", "ReplicaSet") is not None
            assert kube._discovery_round == rounds  # a cached kind needs no discovery

            await asyncio.to_thread(create_crd, kubectl, "sprockets", "Sprocket")
            found = await asyncio.gather(*(kube.resource(f"{GROUP}/v1", "Sprocket") for _ in range(20)))
            assert {(r.plural, r.namespaced, r.subresources) for r in found} == {
                ("sprockets", True, frozenset({"status"}))}
            assert kube._discovery_round == rounds + 1  # twenty misses, one refresh
            sprocket = {"apiVersion": f"{GROUP}/v1", "kind": "Sprocket",
                        "metadata": {"name": "s1", "namespace": "default"}, "spec": {"teeth": 12}}
            created = await kube.apply(sprocket, "kustomize-controller")
            assert created["spec"] == {"teeth": 12}

    try:
        run(scenario())
        live = kubectl_json(kubectl, f"sprockets.{GROUP}", "s1", "-n", "default")
        assert live["spec"]["teeth"] == 12
    finally:
        kubectl("delete", "crd", f"sprockets.{GROUP}", "--wait=false", check=False)


# ---- reads and writes -----------------------------------------------------------------------------------

def test_apply_creates_then_updates_and_get_and_list_read_it(connection: config.Connection, kubectl: Kubectl,
                                                            namespace: str) -> None:
    async def scenario() -> None:
        async with client.Client(connection) as kube:
            assert await kube.get("v1", "ConfigMap", "settings", namespace) is None
            created = await kube.apply(configmap("settings", namespace, {"mode": "a"}, app="web"),
                                       "kustomize-controller")
            assert created["data"] == {"mode": "a"} and created["metadata"]["namespace"] == namespace
            assert [m["manager"] for m in created["metadata"]["managedFields"]] == ["kustomize-controller"]
            updated = await kube.apply(configmap("settings", namespace, {"mode": "b"}, app="web"),
                                       "kustomize-controller")
            assert updated["data"] == {"mode": "b"}
            assert updated["metadata"]["uid"] == created["metadata"]["uid"]
            assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
            assert await kube.get("v1", "ConfigMap", "settings", namespace) == updated

            await kube.apply(configmap("other", namespace, {}, app="db"), "kustomize-controller")
            web_only = await kube.list("v1", "ConfigMap", namespace, label_selector="app=web")
            assert [(o["apiVersion"], o["kind"], o["metadata"]["name"]) for o in web_only] == [
                ("v1", "ConfigMap", "settings")]
            assert int(web_only.resource_version) >= int(updated["metadata"]["resourceVersion"])
            by_field = await kube.list("v1", "ConfigMap", namespace, field_selector="metadata.name=other")
            assert [o["metadata"]["name"] for o in by_field] == ["other"]

            dry = await kube.apply(configmap("settings", namespace, {"mode": "c"}, app="web"),
                                   "kustomize-controller", dry_run=True)
            assert dry["data"] == {"mode": "c"}
            live = await kube.get("v1", "ConfigMap", "settings", namespace)
            assert live is not None and live["data"] == {"mode": "b"}

    run(scenario())
    assert kubectl_json(kubectl, "configmap", "settings", "-n", namespace)["data"] == {"mode": "b"}


def test_list_reads_every_page(connection: config.Connection, namespace: str) -> None:
    names = {f"cm-{i:03d}" for i in range(client._LIST_PAGE + 20)}

    async def scenario() -> None:
        async with client.Client(connection) as kube:
            await asyncio.gather(*(kube.apply(configmap(n, namespace, {"n": n}), "bench") for n in names))
            listed = await kube.list("v1", "ConfigMap", namespace)
            assert {o["metadata"]["name"] for o in listed} - {"kube-root-ca.crt"} == names
            everywhere = await kube.list("v1", "ConfigMap")
            assert names <= {o["metadata"]["name"] for o in everywhere
                             if o["metadata"]["namespace"] == namespace}

    run(scenario())


def test_apply_without_force_conflicts_with_another_manager(connection: config.Connection, kubectl: Kubectl,
                                                            namespace: str) -> None:
    kubectl("create", "configmap", "owned", "-n", namespace, "--from-literal=level=1")
    kubectl("patch", "configmap", "owned", "-n", namespace, "--type=merge", "-p", '{"data":{"level":"2"}}')

    async def scenario() -> None:
        async with client.Client(connection) as kube:
            with pytest.raises(client.KubeError) as caught:
                await kube.apply(configmap("owned", namespace, {"level": "3"}), "kustomize-controller",
                                 force=False)
            err = caught.value
            assert (err.code, err.reason, err.body["kind"]) == (409, "Conflict", "Status")
            assert "conflict" in err.message and "kubectl-patch" in err.message
            assert connection.server in str(err) and "force=True" in str(err)
            taken = await kube.apply(configmap("owned", namespace, {"level": "3"}), "kustomize-controller")
            assert taken["data"] == {"level": "3"}

    run(scenario())


def test_patch_patch_status_and_delete(connection: config.Connection, kubectl: Kubectl, namespace: str,
                                       widgets: str) -> None:
    async def scenario() -> None:
        async with client.Client(connection) as kube:
            widget = {"apiVersion": widgets, "kind": "Widget", "spec": {"size": 1},
                      "metadata": {"name": "w", "namespace": namespace, "labels": {"a": "1", "b": "2"}}}
            await kube.apply(widget, "kustomize-controller")
            merged = await kube.patch(widgets, "Widget", "w", namespace, {"spec": {"size": 2}},
                                      field_manager="kubectl-edit")
            assert merged["spec"] == {"size": 2}
            assert "kubectl-edit" in {m["manager"] for m in merged["metadata"]["managedFields"]}
            removed = await kube.patch(widgets, "Widget", "w", namespace,
                                       [{"op": "remove", "path": "/metadata/labels/b"}], client.JSON_PATCH)
            assert removed["metadata"]["labels"] == {"a": "1"}
            status = await kube.patch_status(widgets, "Widget", "w", namespace,
                                             {"conditions": [{"type": "Ready", "status": "True"}]})
            assert status["status"]["conditions"][0]["type"] == "Ready" and status["spec"] == {"size": 2}

            cm = await kube.apply(configmap("smp", namespace, {"x": "1"}), "kustomize-controller")
            strategic = await kube.patch("v1", "ConfigMap", "smp", namespace, {"data": {"y": "2"}},
                                         client.STRATEGIC_MERGE_PATCH)
            assert strategic["data"] == {"x": "1", "y": "2"}
            assert cm["metadata"]["uid"] == strategic["metadata"]["uid"]

            assert await kube.delete("v1", "ConfigMap", "smp", namespace) is True
            assert await kube.get("v1", "ConfigMap", "smp", namespace) is None
            assert await kube.delete("v1", "ConfigMap", "smp", namespace) is False
            with pytest.raises(client.KubeError) as caught:
                await kube.patch("v1", "ConfigMap", "smp", namespace, {"data": {}})
            assert (caught.value.code, caught.value.reason) == (404, "NotFound")

    run(scenario())
    live = kubectl_json(kubectl, "widgets.kube-client.test", "w", "-n", namespace)
    assert live["status"]["conditions"] == [{"type": "Ready", "status": "True"}]


def test_deployment_deleted_in_foreground_takes_its_replica_sets(connection: config.Connection,
                                                                kubectl: Kubectl, namespace: str) -> None:
    kubectl("create", "deployment", "web", "-n", namespace, "--image=nginx:1.27")
    kubectl("wait", "--for=jsonpath={.status.observedGeneration}=1", "deployment/web", "-n", namespace,
            "--timeout=30s")

    async def scenario() -> None:
        async with client.Client(connection) as kube:
            assert await kube.list("apps/v1", "ReplicaSet", namespace)
            assert await kube.delete("apps/v1", "Deployment", "web", namespace, propagation="Foreground")

    run(scenario())
    kubectl("wait", "--for=delete", "deployment/web", "-n", namespace, "--timeout=30s")
    assert kubectl("get", "replicasets", "-n", namespace, "-o", "name").stdout == ""


# ---- watches --------------------------------------------------------------------------------------------

class Sockets:
    """This process's TCP connections to the sandbox (client and server ends; the sandbox runs in-process)."""

    def __init__(self, server_url: str) -> None:
        self.port = int(server_url.rsplit(":", 1)[1])

    def client_ends(self) -> set[int]:
        """Local ports of the open client connections to the sandbox."""
        return {c.laddr.port for c in psutil.Process().net_connections("tcp")
                if c.raddr and c.raddr.port == self.port and c.status == psutil.CONN_ESTABLISHED}

    def server_end_open(self, client_port: int) -> bool:
        """Whether the sandbox still holds its end of the connection from ``client_port``."""
        return any(c.laddr.port == self.port and c.raddr and c.raddr.port == client_port
                   for c in psutil.Process().net_connections("tcp"))


async def closed_on_both_ends(sockets: Sockets, during: set[int], kube: client.Client,
                              namespace: str) -> None:
    """Exactly one of the connections open during the watch is closed by the client once the watch stopped,
    and the sandbox closes its end when it next writes to it."""
    await asyncio.to_thread(eventually, "the client to close the watch's connection",
                            lambda: bool(during - sockets.client_ends()))
    [watch_port] = during - sockets.client_ends()
    await kube.apply(configmap("poke", namespace, {"n": str(time.monotonic())}), "kustomize-controller")
    await asyncio.to_thread(eventually, "the sandbox to close the watch's connection",
                            lambda: not sockets.server_end_open(watch_port))


def test_watch_sees_added_modified_deleted_of_big_objects_and_stops_cleanly(
        connection: config.Connection, namespace: str) -> None:
    big = "x" * 900_000  # far above aiohttp's default line limit; objects in etcd may reach ~1.5 MB
    sockets = Sockets(connection.server)

    async def scenario() -> list[tuple[str, str, int]]:
        seen = []
        async with client.Client(connection) as kube:
            listed = await kube.list("v1", "ConfigMap", namespace)
            await kube.apply(configmap("w", namespace, {"big": big}), "kustomize-controller")
            await kube.patch("v1", "ConfigMap", "w", namespace, {"data": {"more": "1"}})
            await kube.delete("v1", "ConfigMap", "w", namespace)
            async with contextlib.aclosing(kube.watch("v1", "ConfigMap", namespace,
                                                      resource_version=listed.resource_version)) as stream:
                async for type_, obj in stream:
                    seen.append((type_, obj["metadata"]["name"], len(obj["data"]["big"])))
                    if type_ == "DELETED":
                        break
                during = sockets.client_ends()
            await closed_on_both_ends(sockets, during, kube, namespace)
        return seen

    assert run(scenario()) == [("ADDED", "w", 900_000), ("MODIFIED", "w", 900_000), ("DELETED", "w", 900_000)]


def test_watch_closes_when_the_caller_just_breaks_out(connection: config.Connection, namespace: str) -> None:
    sockets = Sockets(connection.server)

    async def scenario() -> None:
        async with client.Client(connection) as kube:
            await kube.apply(configmap("first", namespace, {}), "kustomize-controller")
            async for type_, obj in kube.watch("v1", "ConfigMap", namespace,
                                               field_selector="metadata.name=first"):
                assert (type_, obj["metadata"]["name"]) == ("ADDED", "first")
                during = sockets.client_ends()
                break
            # The loop finalizes the abandoned generator within a few turns (contextlib.aclosing: at once).
            await closed_on_both_ends(sockets, during, kube, namespace)

    run(scenario())


def test_watch_ends_when_the_server_closes_it(connection: config.Connection, namespace: str) -> None:
    async def scenario() -> list[str]:
        async with client.Client(connection) as kube:
            await kube.apply(configmap("a", namespace, {}), "kustomize-controller")
            return [obj["metadata"]["name"] async for _, obj in kube.watch(
                "v1", "ConfigMap", namespace, label_selector="app!=none", timeout_seconds=1)
                    if obj["metadata"]["name"] != "kube-root-ca.crt"]

    began = time.monotonic()
    assert run(scenario()) == ["a"]
    assert time.monotonic() - began < 10


def test_watch_from_a_resource_version_older_than_history_is_410(tmp_path: pathlib.Path) -> None:
    """After a restart the sandbox keeps no watch history, as kube-apiserver's watch cache after a restart."""
    state = tmp_path / "sandbox"
    with server.Sandbox(state, settings=server.Settings(run_controllers=False)) as first:
        conn = config.load(first.kubeconfig)

        async def create() -> str:
            async with client.Client(conn) as kube:
                namespace = {"apiVersion": "v1", "kind": "Namespace"}
                live = await kube.apply({**namespace, "metadata": {"name": "old"}}, "kustomize-controller")
                await kube.apply({**namespace, "metadata": {"name": "newer"}}, "kustomize-controller")
                return str(live["metadata"]["resourceVersion"])

        old = run(create())
    with server.Sandbox(state, settings=server.Settings(run_controllers=False)) as second:
        async def watch_old() -> None:
            async with client.Client(config.load(second.kubeconfig)) as kube:
                async for _ in kube.watch("v1", "Namespace", resource_version=old, timeout_seconds=5):
                    pass

        with pytest.raises(client.KubeError) as caught:
            run(watch_old())
    assert (caught.value.code, caught.value.reason) == (410, "Expired")
    assert "list again" in str(caught.value)


# ---- events -----------------------------------------------------------------------------------------------

def test_create_event_shows_in_kubectl_get_events(connection: config.Connection, kubectl: Kubectl,
                                                  namespace: str) -> None:
    async def scenario() -> dict[str, Any]:
        async with client.Client(connection) as kube:
            live = await kube.apply(configmap("evented", namespace, {}), "kustomize-controller")
            await kube.create_event(live, "Warning", "DriftDetected", "data.mode changed by kubectl-edit",
                                    "kustomize-controller",
                                    annotations={"kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc"})
            return live

    live = run(scenario())
    [event] = kubectl_json(kubectl, "events", "-n", namespace)["items"]
    assert event["involvedObject"] == {"apiVersion": "v1", "kind": "ConfigMap", "name": "evented",
                                       "namespace": namespace, "uid": live["metadata"]["uid"],
                                       "resourceVersion": live["metadata"]["resourceVersion"]}
    assert (event["type"], event["reason"], event["source"], event["count"]) == (
        "Warning", "DriftDetected", {"component": "kustomize-controller"}, 1)
    assert event["metadata"]["annotations"] == {"kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc"}
    table = kubectl("get", "events", "-n", namespace).stdout
    assert "Warning" in table and "DriftDetected" in table and "configmap/evented" in table
    assert "data.mode changed by kubectl-edit" in table


def test_events_about_cluster_scoped_objects_go_to_default(connection: config.Connection, kubectl: Kubectl,
                                                           namespace: str) -> None:
    async def scenario() -> None:
        async with client.Client(connection) as kube:
            ns = await kube.get("v1", "Namespace", namespace)
            assert ns is not None
            await kube.create_event(ns, "Normal", "Rebuilt", f"namespace {namespace} rebuilt from Git", "lab")

    run(scenario())
    events = kubectl_json(kubectl, "events", "-n", "default",
                          f"--field-selector=involvedObject.name={namespace}")
    assert [e["reason"] for e in events["items"]] == ["Rebuilt"]


# ---- failures ---------------------------------------------------------------------------------------------

def test_bad_token_is_401(connection: config.Connection) -> None:
    bad = config.Connection(connection.server, connection.ssl, {"Authorization": "Bearer wrong"})

    async def scenario() -> None:
        async with client.Client(bad) as kube:
            await kube.get("v1", "ConfigMap", "x", "default")

    with pytest.raises(client.KubeError) as caught:
        run(scenario())
    assert (caught.value.code, caught.value.reason) == (401, "Unauthorized")
    assert "check the credentials in the kubeconfig" in str(caught.value)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_names_it_and_the_next_step(connection: config.Connection) -> None:
    gone = config.Connection(f"https://127.0.0.1:{free_port()}", connection.ssl, connection.headers)

    async def scenario() -> None:
        async with client.Client(gone) as kube:
            await kube.get("v1", "ConfigMap", "x", "default")

    with pytest.raises(errors.ClusterError) as caught:
        run(scenario())
    assert not isinstance(caught.value, client.KubeError)
    assert f"The API server at {gone.server} could not be reached for GET /api" in str(caught.value)
    assert "gitops-lab status" in str(caught.value)


def test_a_certificate_from_another_ca_is_refused(connection: config.Connection) -> None:
    other = config.from_dict({"clusters": [{"name": "c", "cluster": {
        "server": connection.server,
        "certificate-authority-data": base64.b64encode(certificates.make().ca_cert).decode()}}],
        "contexts": [{"name": "c", "context": {"cluster": "c"}}], "current-context": "c"})

    async def scenario() -> None:
        async with client.Client(other) as kube:
            await kube.resource("v1", "ConfigMap")

    refused = r"presented a certificate that the kubeconfig's certificate authority does not accept .*fresh"
    with pytest.raises(errors.ClusterError, match=refused):
        run(scenario())


def test_an_answer_that_is_not_json_is_a_cluster_error(connection: config.Connection) -> None:
    async def scenario() -> None:
        async with client.Client(connection) as kube:
            await kube.request("GET", "/healthz")

    with pytest.raises(errors.ClusterError, match=r"answered GET /healthz with 200 and a body that is not"):
        run(scenario())


def test_a_client_can_be_reopened_in_another_event_loop(connection: config.Connection) -> None:
    kube = client.Client(connection, concurrency=2)

    async def use() -> str:
        async with kube:
            versions = await asyncio.gather(*(kube.request("GET", "/version") for _ in range(5)))
            await kube.resource("v1", "ConfigMap")
            return str(versions[0]["gitVersion"])

    assert run(use()).startswith("v1.37") and run(use()).startswith("v1.37")


def test_using_a_client_that_is_not_open_says_how(connection: config.Connection) -> None:
    with pytest.raises(errors.ClusterError, match=r"not open; use it as `async with"):
        run(client.Client(connection).request("GET", "/version"))


# ---- client certificates, as kind's API server asks for them ---------------------------------------------

@contextlib.asynccontextmanager
async def mtls_server(pki: certificates.Pki, directory: pathlib.Path) -> AsyncIterator[str]:
    """An HTTPS server on 127.0.0.1:0 that requires a client certificate from ``pki``'s CA and serves legacy
    (unaggregated) discovery for the sandbox's types, plus /whoami answering the client certificate's CN."""
    for name in ("ca.crt", "server.crt", "server.key"):
        (directory / name).write_bytes(getattr(pki, name.replace(".crt", "_cert").replace(".key", "_key")))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(directory / "ca.crt"))
    context.load_cert_chain(directory / "server.crt", directory / "server.key")
    context.verify_mode = ssl.CERT_REQUIRED
    reg = registry.Registry()

    async def handle(request: web.Request) -> web.Response:
        path = request.path
        if path == "/whoami":
            cert = request.transport.get_extra_info("peercert") if request.transport else None
            subject = dict(part[0] for part in (cert or {}).get("subject", ()))
            return web.json_response({"user": subject.get("commonName")})
        if path == "/api":
            return web.json_response({"kind": "APIVersions", "versions": ["v1"]})
        if path == "/apis":
            return web.json_response(discovery.legacy_groups(reg))
        group, _, version = path.removeprefix("/apis/").removeprefix("/api/").rpartition("/")
        document = discovery.resource_list(reg, group, version)
        return web.json_response(document) if document else web.json_response({}, status=404)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    try:
        port = runner.addresses[0][1]
        yield f"https://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def test_client_certificate_kubeconfig_as_kind_writes_it(tmp_path: pathlib.Path) -> None:
    pki = certificates.make()

    def kind_kubeconfig(url: str, with_client_cert: bool) -> pathlib.Path:
        user = {"client-certificate-data": base64.b64encode(pki.client_cert).decode(),
                "client-key-data": base64.b64encode(pki.client_key).decode()} if with_client_cert else {}
        path = tmp_path / f"kubeconfig-{with_client_cert}"
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "kind-lab",
            "clusters": [{"name": "kind-lab", "cluster": {
                "server": url, "certificate-authority-data": base64.b64encode(pki.ca_cert).decode()}}],
            "users": [{"name": "kind-lab", "user": user}],
            "contexts": [{"name": "kind-lab", "context": {"cluster": "kind-lab", "user": "kind-lab"}}]}))
        return path

    async def scenario() -> None:
        async with mtls_server(pki, tmp_path) as url:
            async with client.Client.from_kubeconfig(kind_kubeconfig(url, True), "kind-lab") as kube:
                assert await kube.request("GET", "/whoami") == {"user": certificates.ADMIN_CN}
                deploy = await kube.resource("apps/v1", "Deployment")  # legacy discovery, one doc per group
                assert (deploy.plural, deploy.subresources) == ("deployments", frozenset({"status", "scale"}))
            async with client.Client.from_kubeconfig(kind_kubeconfig(url, False)) as anonymous:
                refused = rf"at {url} .*(TLS handshake|could not be reached)"
                with pytest.raises(errors.ClusterError, match=refused):
                    await anonymous.request("GET", "/whoami")

    run(scenario())
