"""The demo app's seed content: the files are there, the manifests are valid Kubernetes v1.37 objects."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from gitops_lab import demo_app

ENVIRONMENTS = ("test", "prod")


def test_app_has_code_tests_and_a_dockerfile() -> None:
    files = demo_app.files("app")
    assert {"Dockerfile", "README.md", "greeter/__init__.py", "greeter/server.py", "tests/test_greeter.py"} <= set(files)
    assert f'VERSION = "{demo_app.VERSION}"' in files["greeter/__init__.py"]
    assert 'CMD ["python", "-m", "greeter"]' in files["Dockerfile"]


def test_no_cache_or_bytecode_is_seeded() -> None:
    for part in demo_app.PARTS:
        assert not [p for p in demo_app.files(part) if "__pycache__" in p or p.endswith(".pyc")]


def test_unknown_part() -> None:
    with pytest.raises(ValueError, match="app, fleet"):
        demo_app.files("docs")


def manifests(environment: str) -> list[dict[str, object]]:
    files = demo_app.files("fleet")
    kustomization = yaml.safe_load(files[f"envs/{environment}/kustomization.yaml"])
    return [yaml.safe_load(files[f"envs/{environment}/{name}"]) for name in kustomization["resources"]]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_environment_lists_a_namespace_deployment_and_service(environment: str) -> None:
    objects = manifests(environment)
    assert [o["kind"] for o in objects] == ["Namespace", "Deployment", "Service"]
    namespace = f"demo-{environment}"
    assert objects[0]["metadata"] == {"name": namespace, "labels": {"gitops-lab.io/environment": environment}}
    assert all(o["metadata"]["namespace"] == namespace for o in objects[1:])  # type: ignore[index]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_manifests_are_valid_kubernetes_objects(environment: str) -> None:
    for obj in manifests(environment):
        kubernetes_validate.validate(obj, "1.37", strict=True)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_deployment_runs_the_image_with_requests_and_limits(environment: str) -> None:
    deployment = manifests(environment)[1]
    container = deployment["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
    assert container["image"] == demo_app.IMAGE == "registry.gitops-lab.local/demo-app:1.0.0"
    assert set(container["resources"]) == {"requests", "limits"}
    assert set(container["resources"]["requests"]) == set(container["resources"]["limits"]) == {"cpu", "memory"}
    assert {"name": "APP_ENV", "value": environment} in container["env"]
    service = manifests(environment)[2]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]  # type: ignore[index]


def test_prod_runs_more_replicas_than_test() -> None:
    replicas = {env: manifests(env)[1]["spec"]["replicas"] for env in ENVIRONMENTS}  # type: ignore[index]
    assert replicas == {"test": 1, "prod": 3}
