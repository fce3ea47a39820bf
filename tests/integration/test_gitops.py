"""GitOps through the lab: a real lab process, its Git server and reconciler, the sandbox, git and kubectl.

Covers the reconciler's promises: a push is applied and reported as Flux does; hand edits (scale, label, delete)
are undone and recorded with who made them; `git revert` rolls back; bad commits fail cleanly and a fix recovers;
prune; suspend and resume; disaster recovery; and the same behaviour on the `existing` provider.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from gitops_lab import lab as labs
from gitops_lab.gitserver import working
from gitops_lab.sandbox import server

T = TypeVar("T")
AUTHOR = "Ada Lovelace <ada@example.com>"
TEST_NS = "demo-test"


def until(what: str, check: Callable[[], T | None], timeout: float = 20.0) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def cli(lab_dir: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gitops_lab.cli", "--lab-dir", str(lab_dir), *args],
                          capture_output=True, text=True, timeout=120)


class Story:
    """A lab plus a working copy of its fleet repository, with the verbs the tests need."""

    def __init__(self, lab: labs.Lab, fleet: working.WorkingCopy) -> None:
        self.lab = lab
        self.fleet = fleet

    def get(self, kind: str, name: str, namespace: str | None = TEST_NS) -> dict[str, Any] | None:
        args = ["get", kind, name, "-o", "json", "--ignore-not-found"]
        if namespace:
            args += ["-n", namespace]
        out = self.lab.kubectl(*args)
        return json.loads(out) if out.strip() else None

    def kustomization(self, name: str = "test") -> dict[str, Any]:
        ks = self.get("kustomizations.kustomize.toolkit.fluxcd.io", name, "flux-system")
        assert ks is not None
        return ks

    def ready(self, name: str = "test") -> dict[str, Any]:
        conditions = self.kustomization(name).get("status", {}).get("conditions", [])
        return next((c for c in conditions if c["type"] == "Ready"), {})

    def commit_and_push(self, message: str, files: dict[str, str | None]) -> str:
        self.fleet.pull()
        for path, text in files.items():
            if text is None:
                self.fleet.delete(path)
            else:
                self.fleet.write(path, text)
        sha = self.fleet.commit(message, author=AUTHOR)
        self.fleet.push()
        return sha

    def applied(self, sha: str, name: str = "test") -> dict[str, Any]:
        revision = f"main@sha1:{sha}"

        def done() -> dict[str, Any] | None:
            ks = self.kustomization(name)
            ready = self.ready(name)
            if ks.get("status", {}).get("lastAppliedRevision") == revision and ready.get("status") == "True":
                return ks
            return None

        return until(f"revision {revision} applied by {name}", done)

    def failed(self, reason: str, name: str = "test") -> dict[str, Any]:
        return until(f"Ready=False {reason}", lambda: (r := self.ready(name)).get("reason") == reason and r)

    def events(self, kind: str, **match: str) -> list[dict[str, Any]]:
        frame = self.lab.timeline()
        rows = frame[frame["kind"] == kind].to_dict("records")
        return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def configmap(name: str, data: dict[str, str], annotations: dict[str, str] | None = None) -> str:
    meta: dict[str, Any] = {"name": name, "namespace": TEST_NS}
    if annotations:
        meta["annotations"] = annotations
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}, indent=1)


def add_to_kustomization(story: Story, env: str, *files: str) -> str:
    """envs/<env>/kustomization.yaml with ``files`` added to its resources."""
    text = story.fleet.read(f"envs/{env}/kustomization.yaml")
    lines = text.rstrip("\n").splitlines()
    at = lines.index("resources:") + 1
    for name in files:
        entry = f"  - {name}"
        if entry not in lines:
            lines.insert(at, entry)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    lab_dir = tmp_path_factory.mktemp("gitops") / "lab"
    up = cli(lab_dir, "up")
    assert up.returncode == 0, up.stderr
    lab = labs.connect(lab_dir, start=False)
    lab.protect("fleet", False)  # these tests push to main directly; the story's chapters go through branches
    fleet = lab.clone("fleet", tmp_path_factory.mktemp("work") / "fleet")
    try:
        yield Story(lab, fleet)
    finally:
        cli(lab_dir, "down")


def test_a_fresh_lab_is_already_reconciling_the_seeded_fleet(story: Story) -> None:
    head = story.fleet.head
    for env in ("test", "prod"):
        ks = story.applied(head, env)
        assert story.ready(env)["message"] == f"Applied revision: main@sha1:{head}"
        ids = {e["id"] for e in ks["status"]["inventory"]["entries"]}
        assert f"demo-{env}_demo-app_apps_Deployment" in ids and f"_demo-{env}__Namespace" in ids
    repo = story.get("gitrepositories.source.toolkit.fluxcd.io", "fleet", "flux-system")
    assert repo is not None and repo["status"]["artifact"]["revision"] == f"main@sha1:{head}"
    table = story.lab.kubectl("get", "kustomizations", "-n", "flux-system")
    assert table.splitlines()[0].split() == ["NAME", "AGE", "READY", "STATUS"]
    until("the demo app to be available",
          lambda: (d := story.get("deployment", "demo-app")) and d.get("status", {}).get("availableReplicas") == 1)


def test_a_push_is_applied_with_its_revision(story: Story) -> None:
    sha = story.commit_and_push("Add settings", {
        "envs/test/settings.yaml": configmap("settings", {"colour": "blue"}),
        "envs/test/kustomization.yaml": add_to_kustomization(story, "test", "settings.yaml")})
    story.applied(sha)
    assert story.ready()["message"] == f"Applied revision: main@sha1:{sha}"
    settings = story.get("configmap", "settings")
    assert settings is not None and settings["data"] == {"colour": "blue"}
    labels = settings["metadata"]["labels"]
    assert labels["kustomize.toolkit.fluxcd.io/name"] == "test"
    assert labels["kustomize.toolkit.fluxcd.io/namespace"] == "flux-system"
    pushes = story.events("push")
    assert pushes and pushes[-1]["revision"] == f"main@sha1:{sha}"
    finished = story.events("reconcile_finished", kustomization="flux-system/test", revision=f"main@sha1:{sha}")
    assert finished and finished[-1]["duration_ms"] > 0


def test_hand_edits_are_undone_and_recorded_with_who_did_them(story: Story) -> None:
    story.lab.kubectl("scale", "deployment", "demo-app", "-n", TEST_NS, "--replicas=5")
    until("the scale to be undone", lambda: story.get("deployment", "demo-app")["spec"]["replicas"] == 1)
    scaled = until("the scale drift recorded", lambda: story.events(
        "drift_detected", object=f"{TEST_NS}_demo-app_apps_Deployment", field="spec.replicas"))
    assert scaled[-1]["manager"] == "kubectl (scale)"
    until("its correction recorded", lambda: story.events(
        "drift_corrected", object=f"{TEST_NS}_demo-app_apps_Deployment"))

    story.lab.kubectl("label", "deployment", "demo-app", "-n", TEST_NS, "owner=smart-engineer")
    until("the hand-made label to be removed",
          lambda: "owner" not in story.get("deployment", "demo-app")["metadata"].get("labels", {}))
    labelled = story.events("drift_detected", field="metadata.labels.owner")
    assert labelled and labelled[-1]["manager"] == "kubectl-label"

    before = story.get("configmap", "settings")
    assert before is not None
    story.lab.kubectl("delete", "configmap", "settings", "-n", TEST_NS)
    again = until("the deleted ConfigMap to be recreated", lambda: story.get("configmap", "settings"))
    assert again["metadata"]["uid"] != before["metadata"]["uid"] and again["data"] == before["data"]
    missing = story.events("drift_detected", object=f"{TEST_NS}_settings__ConfigMap", message="deleted")
    assert missing


def test_git_revert_rolls_back_and_last_applied_revision_follows(story: Story) -> None:
    good = story.commit_and_push("Settings: green", {"envs/test/settings.yaml": configmap("settings",
                                                                                          {"colour": "green"})})
    story.applied(good)
    assert story.get("configmap", "settings")["data"] == {"colour": "green"}
    story.fleet.pull()
    revert = story.fleet.revert(good, author=AUTHOR)
    story.fleet.push()
    story.applied(revert)
    assert story.get("configmap", "settings")["data"] == {"colour": "blue"}
    assert story.kustomization()["status"]["lastAppliedRevision"] == f"main@sha1:{revert}"


def test_bad_commits_fail_cleanly_and_a_fix_recovers(story: Story) -> None:
    last_good = story.kustomization()["status"]["lastAppliedRevision"]
    broken = story.commit_and_push("Broken YAML", {"envs/test/settings.yaml": "data: [unclosed\n"})
    failed = story.failed("BuildFailed")
    assert "yaml" in failed["message"].lower()
    status = story.kustomization()["status"]
    assert status["lastAttemptedRevision"] == f"main@sha1:{broken}"
    assert status["lastAppliedRevision"] == last_good
    assert story.get("configmap", "settings")["data"] == {"colour": "blue"}  # the last good objects stay

    invalid = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "no-selector", "namespace": TEST_NS},
               "spec": {"template": {"metadata": {"labels": {"app": "x"}},
                                     "spec": {"containers": [{"name": "x", "image": "nginx:1.27"}]}}}}
    story.commit_and_push("Schema-invalid object", {
        "envs/test/settings.yaml": configmap("settings", {"colour": "blue"}),
        "envs/test/invalid.yaml": json.dumps(invalid),
        "envs/test/kustomization.yaml": add_to_kustomization(story, "test", "invalid.yaml")})
    failed = story.failed("ReconciliationFailed")
    assert "spec.selector: Required value" in failed["message"]
    assert "Deployment/demo-test/no-selector" in failed["message"]

    fixed = story.commit_and_push("Fix", {"envs/test/invalid.yaml": None,
                                          "envs/test/kustomization.yaml": story.fleet.read(
                                              "envs/test/kustomization.yaml").replace("  - invalid.yaml\n", "")})
    story.applied(fixed)


def test_prune_removes_what_left_git_and_respects_opt_outs(story: Story) -> None:
    story.lab.kubectl("create", "configmap", "hand-made", "-n", TEST_NS, "--from-literal=a=b")
    sha = story.commit_and_push("Two more ConfigMaps", {
        "envs/test/extra.yaml": configmap("extra", {"x": "1"}),
        "envs/test/keep.yaml": configmap("keep", {"y": "2"}, {"kustomize.toolkit.fluxcd.io/prune": "disabled"}),
        "envs/test/kustomization.yaml": add_to_kustomization(story, "test", "extra.yaml", "keep.yaml")})
    story.applied(sha)
    assert story.get("configmap", "extra") and story.get("configmap", "keep")
    kustomization = story.fleet.read("envs/test/kustomization.yaml")
    gone = story.commit_and_push("Remove them", {
        "envs/test/extra.yaml": None, "envs/test/keep.yaml": None,
        "envs/test/kustomization.yaml": kustomization.replace("  - extra.yaml\n", "").replace("  - keep.yaml\n", "")})
    story.applied(gone)
    until("extra to be pruned", lambda: story.get("configmap", "extra") is None)
    assert story.get("configmap", "keep") is not None  # opted out of pruning
    assert story.get("configmap", "hand-made") is not None  # never Git's: no owner labels
    assert story.events("pruned", object=f"{TEST_NS}_extra__ConfigMap")


def test_suspended_edits_stay_and_are_recorded_then_corrected_on_resume(story: Story) -> None:
    story.lab.suspend("test")
    until("the suspension to be seen", lambda: story.events("suspended", kustomization="flux-system/test"))
    story.lab.kubectl("scale", "deployment", "demo-app", "-n", TEST_NS, "--replicas=3")
    recorded = until("the drift to be recorded while suspended", lambda: [
        e for e in story.events("drift_detected", field="spec.replicas") if "→ 3" in str(e.get("message"))])
    assert recorded
    time.sleep(1.0)  # nothing may correct it for a while: this waits on purpose, asserting an absence
    assert story.get("deployment", "demo-app")["spec"]["replicas"] == 3
    story.lab.resume("test")
    until("the edit to be corrected after resume",
          lambda: story.get("deployment", "demo-app")["spec"]["replicas"] == 1)
    assert story.events("resumed", kustomization="flux-system/test")


def test_disaster_recovery_rebuilds_a_deleted_namespace(story: Story) -> None:
    story.lab.kubectl("delete", "namespace", TEST_NS, "--wait=true", "--timeout=60s")
    until("the namespace's objects to be rebuilt from Git", lambda: story.get("deployment", "demo-app")
          and story.get("configmap", "settings") and story.get("namespace", TEST_NS, None), timeout=60)
    rebuilt = until("the rebuild to be recorded", lambda: story.events("rebuilt", kustomization="flux-system/test"))
    assert rebuilt[-1]["duration_ms"] > 0
    samples = story.lab.drift()
    assert {"at", "kustomization", "drifted_objects", "drifted_fields"} <= set(samples.columns)
    assert (samples[samples["kustomization"] == "flux-system/test"]["drifted_objects"] > 0).any()


def test_the_same_story_on_the_existing_provider(tmp_path: pathlib.Path) -> None:
    """The reconciler uses only the public API: a sandbox posing as someone else's cluster works the same."""
    with server.Sandbox(tmp_path / "external", settings=server.Settings(pod_start_delay=0.2)) as external:
        lab_dir = tmp_path / "lab"
        up = cli(lab_dir, "up", "--cluster", "existing", "--kubeconfig", str(external.kubeconfig),
                 "--context", "gitops-lab")
        assert up.returncode == 0, up.stderr
        try:
            lab = labs.connect(lab_dir, start=False)
            lab.protect("fleet", False)
            story = Story(lab, lab.clone("fleet", tmp_path / "fleet"))
            story.applied(story.fleet.head)
            sha = story.commit_and_push("Add settings", {
                "envs/test/settings.yaml": configmap("settings", {"colour": "blue"}),
                "envs/test/kustomization.yaml": add_to_kustomization(story, "test", "settings.yaml")})
            story.applied(sha)
            lab.kubectl("scale", "deployment", "demo-app", "-n", TEST_NS, "--replicas=4")
            until("the scale to be undone", lambda: story.get("deployment", "demo-app")["spec"]["replicas"] == 1)
            names = external.call(lambda: [o["metadata"]["name"] for o in external.api.store.items("configmaps",
                                                                                                    TEST_NS)])
            assert "settings" in names
        finally:
            assert cli(lab_dir, "down").returncode == 0
    assert os.path.exists(lab_dir / "timeline.db")


def test_health_checks_wait_for_readiness_and_fail_on_timeout(story: Story) -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "health"},
                  "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "health"}}
    sha = story.commit_and_push("A healthy app", {"apps/health/app.yaml": json.dumps(namespace) + "\n---\n" +
                                                  json.dumps(deployment)})
    story.lab.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "health", "namespace": "flux-system"},
        "spec": {"interval": "10m0s", "path": "./apps/health", "prune": True, "wait": True, "timeout": "4s",
                 "sourceRef": {"kind": "GitRepository", "name": "fleet"}}}))
    story.applied(sha, "health")
    live = story.get("deployment", "web", "health")
    assert live is not None and live["status"]["availableReplicas"] == 2  # Ready came only once it was available
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:no-such-tag"
    broken = story.commit_and_push("An image that does not exist", {
        "apps/health/app.yaml": json.dumps(namespace) + "\n---\n" + json.dumps(deployment)})
    failed = story.failed("HealthCheckFailed", "health")
    assert failed["message"].startswith("timeout waiting for: [Deployment/health/web")
    assert story.kustomization("health")["status"]["lastAttemptedRevision"] == f"main@sha1:{broken}"


def test_requested_reconcile_is_handled(story: Story) -> None:
    story.lab.reconcile("test")
    requested = story.kustomization()["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"]
    until("the requested reconcile to be handled",
          lambda: story.kustomization()["status"].get("lastHandledReconcileAt") == requested)


def test_a_lab_without_gitops_then_with_it(tmp_path: pathlib.Path) -> None:
    lab_dir = tmp_path / "lab"
    up = cli(lab_dir, "up", "--no-gitops")
    assert up.returncode == 0, up.stderr
    try:
        lab = labs.connect(lab_dir, start=False)
        assert lab.status()["reconciler"]["enabled"] is False
        assert "demo-test" not in lab.kubectl("get", "namespaces", "-o", "name")  # nothing deploys by itself
        lab.set_gitops(True)
        story = Story(lab, lab.clone("fleet", tmp_path / "fleet"))
        story.applied(story.fleet.head)
        lab.set_gitops(False)
        lab.kubectl("scale", "deployment", "demo-app", "-n", TEST_NS, "--replicas=4")
        time.sleep(1.0)  # asserting an absence: with the reconciler off, nobody undoes the edit
        assert story.get("deployment", "demo-app")["spec"]["replicas"] == 4
    finally:
        assert cli(lab_dir, "down").returncode == 0


def test_interval_correction_waits_for_the_interval_as_flux_does(tmp_path: pathlib.Path) -> None:
    """With correction=interval and a clock 20x faster, the 1m0s interval lasts 3 real seconds: a hand edit stays
    until then (recorded as drift), then it is undone."""
    lab_dir = tmp_path / "lab"
    up = cli(lab_dir, "up", "--correction", "interval", "--clock-speed", "20")
    assert up.returncode == 0, up.stderr
    try:
        lab = labs.connect(lab_dir, start=False)
        story = Story(lab, lab.clone("fleet", tmp_path / "fleet"))
        story.applied(story.fleet.head)
        edited = time.monotonic()
        lab.kubectl("scale", "deployment", "demo-app", "-n", TEST_NS, "--replicas=4")
        until("the drift to be recorded", lambda: story.events("drift_detected", field="spec.replicas"))
        assert story.get("deployment", "demo-app")["spec"]["replicas"] == 4  # not corrected at once
        until("the interval to correct it", lambda: story.get("deployment", "demo-app")["spec"]["replicas"] == 1)
        assert time.monotonic() - edited < 10
    finally:
        assert cli(lab_dir, "down").returncode == 0
