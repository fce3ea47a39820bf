"""Flux's CRDs as the lab declares them: names, printer columns, the fields the lab uses, structural schemas."""

from __future__ import annotations

import asyncio
import doctest
from typing import Any

import pytest

from gitops_lab import errors
from gitops_lab.gitops import crds

READY = '.status.conditions[?(@.type=="Ready")].status'
MESSAGE = '.status.conditions[?(@.type=="Ready")].message'


def by_kind() -> dict[str, dict[str, Any]]:
    return {crd["spec"]["names"]["kind"]: crd for crd in crds.crd_objects()}


def version(crd: dict[str, Any]) -> dict[str, Any]:
    (only,) = crd["spec"]["versions"]
    return only


def schema_at(crd: dict[str, Any], path: str) -> dict[str, Any]:
    node = version(crd)["schema"]["openAPIV3Schema"]
    for part in path.split("."):
        node = node["properties"][part[:-2]]["items"] if part.endswith("[]") else node["properties"][part]
    return node


def walk(node: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = [(path, node)]
    for name, child in (node.get("properties") or {}).items():
        found += walk(child, f"{path}.{name}")
    if "items" in node:
        found += walk(node["items"], f"{path}[]")
    return found


def test_doctests_pass() -> None:
    result = doctest.testmod(crds)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("kind", "name", "plural", "short", "group"), [
    ("GitRepository", "gitrepositories.source.toolkit.fluxcd.io", "gitrepositories", "gitrepo",
     "source.toolkit.fluxcd.io"),
    ("Kustomization", "kustomizations.kustomize.toolkit.fluxcd.io", "kustomizations", "ks",
     "kustomize.toolkit.fluxcd.io"),
])
def test_names_are_fluxs(kind: str, name: str, plural: str, short: str, group: str) -> None:
    crd = by_kind()[kind]
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["metadata"]["name"] == name
    assert crd["spec"]["group"] == group
    assert crd["spec"]["scope"] == "Namespaced"
    names = crd["spec"]["names"]
    assert (names["plural"], names["singular"], names["shortNames"], names["listKind"]) == (
        plural, kind.lower(), [short], f"{kind}List")
    assert "all" in names["categories"] and "fluxcd" in names["categories"]
    v1 = version(crd)
    assert (v1["name"], v1["served"], v1["storage"], v1["subresources"]) == ("v1", True, True, {"status": {}})


def test_printer_columns_are_fluxs() -> None:
    kinds = by_kind()
    age = {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"}
    ready = {"jsonPath": READY, "name": "Ready", "type": "string"}
    status = {"jsonPath": MESSAGE, "name": "Status", "type": "string"}
    assert version(kinds["GitRepository"])["additionalPrinterColumns"] == [
        {"jsonPath": ".spec.url", "name": "URL", "type": "string"}, age, ready, status]
    assert version(kinds["Kustomization"])["additionalPrinterColumns"] == [age, ready, status]


@pytest.mark.parametrize(("kind", "path", "type_"), [
    ("GitRepository", "spec.url", "string"),
    ("GitRepository", "spec.interval", "string"),
    ("GitRepository", "spec.ref.branch", "string"),
    ("GitRepository", "spec.ref.tag", "string"),
    ("GitRepository", "spec.ref.commit", "string"),
    ("GitRepository", "spec.secretRef.name", "string"),
    ("GitRepository", "spec.timeout", "string"),
    ("GitRepository", "spec.suspend", "boolean"),
    ("GitRepository", "status.conditions", "array"),
    ("GitRepository", "status.observedGeneration", "integer"),
    ("GitRepository", "status.artifact.path", "string"),
    ("GitRepository", "status.artifact.url", "string"),
    ("GitRepository", "status.artifact.revision", "string"),
    ("GitRepository", "status.artifact.digest", "string"),
    ("GitRepository", "status.artifact.lastUpdateTime", "string"),
    ("GitRepository", "status.lastHandledReconcileAt", "string"),
    ("Kustomization", "spec.interval", "string"),
    ("Kustomization", "spec.retryInterval", "string"),
    ("Kustomization", "spec.path", "string"),
    ("Kustomization", "spec.prune", "boolean"),
    ("Kustomization", "spec.sourceRef.kind", "string"),
    ("Kustomization", "spec.sourceRef.name", "string"),
    ("Kustomization", "spec.sourceRef.namespace", "string"),
    ("Kustomization", "spec.targetNamespace", "string"),
    ("Kustomization", "spec.suspend", "boolean"),
    ("Kustomization", "spec.timeout", "string"),
    ("Kustomization", "spec.wait", "boolean"),
    ("Kustomization", "spec.healthChecks", "array"),
    ("Kustomization", "spec.healthChecks[].apiVersion", "string"),
    ("Kustomization", "spec.healthChecks[].kind", "string"),
    ("Kustomization", "spec.healthChecks[].name", "string"),
    ("Kustomization", "spec.healthChecks[].namespace", "string"),
    ("Kustomization", "spec.force", "boolean"),
    ("Kustomization", "status.conditions", "array"),
    ("Kustomization", "status.observedGeneration", "integer"),
    ("Kustomization", "status.lastAttemptedRevision", "string"),
    ("Kustomization", "status.lastAppliedRevision", "string"),
    ("Kustomization", "status.lastHandledReconcileAt", "string"),
    ("Kustomization", "status.inventory.entries[].id", "string"),
    ("Kustomization", "status.inventory.entries[].v", "string"),
])
def test_the_fields_the_lab_uses(kind: str, path: str, type_: str) -> None:
    node = schema_at(by_kind()[kind], path)
    assert node["type"] == type_
    assert node.get("description")


@pytest.mark.parametrize(("kind", "path", "required"), [
    ("GitRepository", "spec", ["interval", "url"]),
    ("GitRepository", "spec.secretRef", ["name"]),
    ("GitRepository", "status.artifact", ["digest", "lastUpdateTime", "path", "revision", "url"]),
    ("Kustomization", "spec", ["interval", "prune", "sourceRef"]),
    ("Kustomization", "spec.sourceRef", ["kind", "name"]),
    ("Kustomization", "spec.healthChecks[]", ["kind", "name"]),
    ("Kustomization", "status.inventory", ["entries"]),
    ("Kustomization", "status.inventory.entries[]", ["id", "v"]),
])
def test_required_fields_are_fluxs(kind: str, path: str, required: list[str]) -> None:
    assert sorted(schema_at(by_kind()[kind], path)["required"]) == required


@pytest.mark.parametrize(("kind", "path", "key", "value"), [
    ("GitRepository", "spec.url", "pattern", "^(http|https|ssh)://.*$"),
    ("GitRepository", "spec.interval", "pattern", r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"),
    ("GitRepository", "spec.timeout", "default", "60s"),
    ("Kustomization", "spec.force", "default", False),
    ("Kustomization", "spec.sourceRef.kind", "enum", ["GitRepository"]),
    ("Kustomization", "spec.targetNamespace", "maxLength", 63),
    ("Kustomization", "status.conditions[].status", "enum", ["True", "False", "Unknown"]),
])
def test_constraints_are_fluxs(kind: str, path: str, key: str, value: Any) -> None:
    assert schema_at(by_kind()[kind], path)[key] == value


@pytest.mark.parametrize("kind", ["GitRepository", "Kustomization"])
def test_schemas_are_structural(kind: str) -> None:
    """Every node says its type; objects list their properties (no x-kubernetes-preserve-unknown-fields)."""
    root = version(by_kind()[kind])["schema"]["openAPIV3Schema"]
    for path, node in walk(root):
        assert "type" in node, path
        assert "x-kubernetes-preserve-unknown-fields" not in node, path
        if node["type"] == "array":
            assert "items" in node, path


def test_crd_objects_are_fresh_copies() -> None:
    first = crds.crd_objects()
    first[0]["spec"]["names"]["shortNames"].append("changed")
    assert crds.crd_objects()[0]["spec"]["names"]["shortNames"] == ["gitrepo"]


class FakeClient:
    """Records applies; reports a CRD Established after ``polls_until_established`` reads."""

    def __init__(self, polls_until_established: int | None) -> None:
        self.applied: list[tuple[str, str, bool]] = []
        self.reads: dict[str, int] = {}
        self.polls = polls_until_established

    async def apply(self, obj: dict[str, Any], field_manager: str, force: bool = True,
                    dry_run: bool = False) -> dict[str, Any]:
        self.applied.append((obj["metadata"]["name"], field_manager, force))
        return obj

    async def get(self, api_version: str, kind: str, name: str,
                  namespace: str | None = None) -> dict[str, Any] | None:
        assert (api_version, kind, namespace) == ("apiextensions.k8s.io/v1", "CustomResourceDefinition", None)
        self.reads[name] = self.reads.get(name, 0) + 1
        established = self.polls is not None and self.reads[name] >= self.polls
        return {"metadata": {"name": name}, "status": {"conditions": [
            {"type": "NamesAccepted", "status": "True", "message": "no conflicts found"},
            {"type": "Established", "status": "True" if established else "False", "message": "installing"}]}}


def test_install_applies_both_and_waits_for_established() -> None:
    client = FakeClient(polls_until_established=3)
    established = asyncio.run(crds.install(client, poll=0.001))
    assert [name for name, _, _ in client.applied] == [c["metadata"]["name"] for c in crds.crd_objects()]
    assert {(manager, force) for _, manager, force in client.applied} == {(crds.FIELD_MANAGER, True)}
    assert list(client.reads.values()) == [3, 3]
    assert [c["metadata"]["name"] for c in established] == [name for name, _, _ in client.applied]


def test_install_says_what_the_server_reports_when_never_established() -> None:
    client = FakeClient(polls_until_established=None)
    with pytest.raises(errors.ReconcileError) as info:
        asyncio.run(crds.install(client, timeout=0.05, poll=0.005))
    message = str(info.value)
    assert "gitrepositories.source.toolkit.fluxcd.io was not Established within 0.05 s" in message
    assert "Established=False (installing)" in message and "install again" in message


def test_install_names_the_refused_definition() -> None:
    class Refusing(FakeClient):
        async def apply(self, obj: dict[str, Any], field_manager: str, force: bool = True,
                        dry_run: bool = False) -> dict[str, Any]:
            raise errors.ClusterError("forbidden: User cannot create CustomResourceDefinitions")

    with pytest.raises(errors.ReconcileError, match="refused the CustomResourceDefinition gitrepositories") as info:
        asyncio.run(crds.install(Refusing(1)))
    assert isinstance(info.value.__cause__, errors.ClusterError)
