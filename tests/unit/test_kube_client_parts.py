"""The client's pure parts: reading discovery documents (aggregated and legacy agree), URL paths, splitting a
watch stream into lines whatever its chunking, retry delays and error messages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gitops_lab import errors
from gitops_lab.kube import client
from gitops_lab.sandbox import discovery, registry

REGISTRY = registry.Registry()


def aggregated_resources() -> set[client.Resource]:
    docs = [discovery.aggregated(REGISTRY, core) for core in (True, False)]
    return {r for doc in docs for r in client.resources_from_aggregated(doc)}


def legacy_resources() -> set[client.Resource]:
    versions = ["v1", *client.group_versions(discovery.legacy_groups(REGISTRY))]
    found = set()
    for gv in versions:
        group, _, version = gv.rpartition("/")
        doc = discovery.resource_list(REGISTRY, group, version)
        assert doc is not None, gv
        found.update(client.resources_from_list(doc))
    return found


def test_aggregated_and_legacy_discovery_describe_the_same_resources() -> None:
    aggregated = aggregated_resources()
    assert len(aggregated) >= 10
    assert aggregated == legacy_resources()


@pytest.mark.parametrize(("api_version", "kind", "plural", "namespaced", "subresources"), [
    ("v1", "ConfigMap", "configmaps", True, set()),
    ("v1", "Namespace", "namespaces", False, {"status", "finalize"}),
    ("apps/v1", "Deployment", "deployments", True, {"status", "scale"}),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False, {"status"}),
])
def test_resources(api_version: str, kind: str, plural: str, namespaced: bool,
                   subresources: set[str]) -> None:
    [res] = [r for r in aggregated_resources() if (r.api_version, r.kind) == (api_version, kind)]
    assert (res.plural, res.namespaced, set(res.subresources)) == (plural, namespaced, subresources)


@pytest.mark.parametrize(("resource", "args", "path"), [
    (client.Resource("", "v1", "ConfigMap", "configmaps", True), ("shop", "web"),
     "/api/v1/namespaces/shop/configmaps/web"),
    (client.Resource("", "v1", "ConfigMap", "configmaps", True), (None, None), "/api/v1/configmaps"),
    (client.Resource("apps", "v1", "Deployment", "deployments", True), ("shop", "web", "status"),
     "/apis/apps/v1/namespaces/shop/deployments/web/status"),
    (client.Resource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
     ("ignored", "system:x"), "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:x"),
    (client.Resource("", "v1", "ConfigMap", "configmaps", True), ("shop", "a b/c"),
     "/api/v1/namespaces/shop/configmaps/a%20b%2Fc"),
])
def test_paths(resource: client.Resource, args: tuple[Any, ...], path: str) -> None:
    assert resource.path(*args) == path


class Chunks:
    """A stand-in for aiohttp's StreamReader: ``iter_any`` yields the given chunks."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def iter_any(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


def split(chunks: list[bytes]) -> list[bytes]:
    async def collect() -> list[bytes]:
        stream: Any = Chunks(chunks)
        return [line async for line in client._lines(stream, "GET /x", "https://s")]
    return asyncio.run(collect())


BIG = json.dumps({"type": "ADDED", "object": {"data": {"blob": "x" * 3_000_000}}}).encode()


@pytest.mark.parametrize(("chunks", "lines"), [
    ([b'{"a":1}\n{"b":2}\n'], [b'{"a":1}', b'{"b":2}']),
    ([b'{"a"', b':1}\n{"b":', b"2}\n"], [b'{"a":1}', b'{"b":2}']),
    ([b'{"a":1}\n\n', b"\n", b'{"b":2}'], [b'{"a":1}', b'{"b":2}']),
    ([b"\n"], []),
    ([], []),
    ([BIG[i:i + 16384] for i in range(0, len(BIG), 16384)] + [b"\n"], [BIG]),
], ids=["one-chunk", "split-anywhere", "blank-lines-and-no-final-newline", "only-newline", "empty",
        "3-MB-event"])
def test_watch_lines(chunks: list[bytes], lines: list[bytes]) -> None:
    assert split(chunks) == lines


def test_endless_line_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "_MAX_WATCH_LINE", 100)
    with pytest.raises(errors.ClusterError, match="exceeds"):
        split([b"x" * 60, b"x" * 60])


@pytest.mark.parametrize(("retry_after", "attempt", "delay"), [
    ("2", 0, 2.0), ("0", 3, 0.0), ("3600", 0, 10.0), (None, 0, 0.1), (None, 2, 0.4),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 1, 0.2),
])
def test_retry_delay(retry_after: str | None, attempt: int, delay: float) -> None:
    assert client._retry_delay(retry_after, attempt) == pytest.approx(delay)


def test_kube_error_message_names_server_operation_and_next_step() -> None:
    status: dict[str, Any] = {
        "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 409, "reason": "Conflict",
        "message": 'Apply failed with 1 conflict: conflict with "kubectl-edit": .data.a'}
    err = client.KubeError(409, "Conflict", status["message"], status, server="https://s:6443",
                           operation="PATCH /api/v1/namespaces/n/configmaps/c")
    assert isinstance(err, errors.ClusterError)
    assert (err.code, err.reason, err.body) == (409, "Conflict", status)
    assert str(err) == ('The API server at https://s:6443 answered PATCH /api/v1/namespaces/n/configmaps/c '
                        'with 409 Conflict: Apply failed with 1 conflict: conflict with "kubectl-edit": '
                        '.data.a; another writer changed or owns it; read the object again, or pass '
                        'force=True to server-side apply to take over the fields.')
