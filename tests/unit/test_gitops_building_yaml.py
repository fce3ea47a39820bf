"""Reading YAML documents as the reconciler's build does: Kubernetes objects only, errors as Flux words them.

Whole directories and kustomize run in tests/integration/test_gitops_building.py.
"""

from __future__ import annotations

import doctest

import pytest

from gitops_lab import errors
from gitops_lab.gitops import building

NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"


def test_doctests_pass() -> None:
    result = doctest.testmod(building)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("text", "names"), [
    (NS.format(name="a"), ["a"]),
    ("---\n" + NS.format(name="a") + "---\n---\n# only a comment\n---\n" + NS.format(name="b") + "...\n", ["a", "b"]),
    ("", []),
    ("# nothing here\n", []),
    ("---\n---\n", []),
    ("apiVersion: v1\nkind: List\nitems:\n- " + NS.format(name="a").replace("\n", "\n  ").rstrip() + "\n- "
     + NS.format(name="b").replace("\n", "\n  ").rstrip() + "\n", ["a", "b"]),
    ('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "json"}}', ["json"]),
])
def test_documents(text: str, names: list[str]) -> None:
    assert [o["metadata"]["name"] for o in building.load_documents(text, "f.yaml")] == names


def test_values_stay_as_kubernetes_reads_them() -> None:
    (obj,) = building.load_documents(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    at: 2026-01-02T03:04:05Z\n"
        "data:\n  day: 2026-01-02\n  1: one\n  true: yes\n  port: '80'\n", "cm.yaml")
    assert obj["metadata"]["annotations"]["at"] == "2026-01-02T03:04:05Z"
    assert obj["data"] == {"day": "2026-01-02", "1": "one", "true": True, "port": "80"}


def test_merge_keys_still_work() -> None:
    (obj,) = building.load_documents(
        "base: &base {app: demo}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n"
        "    <<: *base\n    tier: web\n", "cm.yaml")
    assert obj["metadata"]["labels"] == {"app": "demo", "tier": "web"}


@pytest.mark.parametrize(("text", "detail"), [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: a: b\n",
     "yaml: line 5: mapping values are not allowed in this context"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: [\n",
     "yaml: line 4: did not find expected node content (while parsing a flow node)"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n\tdata: {}\n",
     "yaml: line 5: found a tab character that violates indentation"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  name: d\n",
     'yaml: line 5: mapping key "name" already defined at line 4'),
    ("- a\n- b\n", "document 1 (line 1) is a list, not a Kubernetes object with apiVersion, kind and metadata"),
    (NS.format(name="a") + "---\njust text\n", "document 2 (line 6) is the str 'just text', not a Kubernetes object"),
    ("---\n42\n", "document 1 (line 2) is the int 42, not a Kubernetes object"),
    ("kind: Namespace\nmetadata: {name: a}\n", "document 1 (line 1) has no apiVersion"),
    ("apiVersion: v1\nmetadata: {name: a}\n", "document 1 (line 1) has no kind"),
    ("apiVersion: v1\nkind: Namespace\n", "document 1 (line 1), a Namespace, has no metadata.name"),
    ("apiVersion: v1\nkind: Namespace\nmetadata: {generateName: a-}\n", "a Namespace, has no metadata.name"),
    ("apiVersion: v1\nkind: List\nitems: [3]\n", "document 1 (line 1) is the int 3"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: !!python/name:os.system\n",
     "could not determine a constructor"),
])
def test_errors_read_as_fluxs_build_failures(text: str, detail: str) -> None:
    with pytest.raises(building.BuildError) as info:
        building.load_documents(text, "envs/test/app.yaml")
    err = info.value
    assert isinstance(err, errors.ReconcileError)
    assert err.message.startswith("failed to decode Kubernetes YAML from envs/test/app.yaml: ")
    assert detail in err.message
    assert (err.reason, err.file) == ("BuildFailed", "envs/test/app.yaml")
    assert str(err) == f"{err.message}; fix envs/test/app.yaml and push a new commit."
