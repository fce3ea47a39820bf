"""The lab end to end: the `gitops-lab` command, the lab process, its Git server, providers and bad input.

Every test runs real processes (the CLI, the detached lab process, git, kubectl) in a lab directory of its own,
and stops what it started.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import psutil
import pytest

from gitops_lab import errors, labdir
from gitops_lab import lab as labs
from gitops_lab.sandbox import server

GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}


def cli(lab_dir: pathlib.Path, *args: str, timeout: float = 120,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gitops_lab.cli", "--lab-dir", str(lab_dir), *args],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def git(*args: str, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **GIT_ENV})


def lab_processes(lab_dir: pathlib.Path) -> list[psutil.Process]:
    """Processes of this lab: the lab process and its children (the sandbox cluster, git), by command line."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(lab_dir) in cmdline and proc.pid != os.getpid() and "gitops_lab.cli" not in cmdline:
            found.append(proc)
    return found


def port_open(url: str) -> bool:
    host, port = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) == 0


@pytest.fixture
def lab_dir(tmp_path: pathlib.Path) -> Iterator[pathlib.Path]:
    directory = tmp_path / "lab"
    yield directory
    if labdir.LabDir(directory).locked():
        cli(directory, "down")


@pytest.fixture
def running_lab(lab_dir: pathlib.Path) -> labs.Lab:
    result = cli(lab_dir, "up")
    assert result.returncode == 0, result.stderr
    return labs.connect(lab_dir, start=False)


def test_up_status_kubeconfig_down(lab_dir: pathlib.Path) -> None:
    up = cli(lab_dir, "up")
    assert up.returncode == 0, up.stderr
    assert "The lab is up" in up.stdout and "export KUBECONFIG=" in up.stdout
    assert "Starting the sandbox cluster" in up.stderr  # progress is shown
    status = cli(lab_dir, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    lines = status.stdout.splitlines()
    assert lines[0].split() == ["COMPONENT", "HEALTH", "ADDRESS", "DETAILS"]
    assert {line.split()[0]: line.split()[1] for line in lines[1:]} == {
        "cluster": "healthy", "git": "healthy", "control": "healthy", "reconciler": "healthy"}
    assert "repos=app,fleet" in status.stdout and "password=" in status.stdout
    kubeconfig = cli(lab_dir, "kubeconfig").stdout.strip()
    assert pathlib.Path(kubeconfig).is_file()
    assert stat.S_IMODE(os.stat(kubeconfig).st_mode) == 0o600
    nodes = subprocess.run([str(pathlib.Path(sys.executable).parent / "kubectl"), "get", "nodes", "-o", "name"],
                           capture_output=True, text=True, env={**os.environ, "KUBECONFIG": kubeconfig}, timeout=60)
    assert nodes.stdout.strip() == "node/sandbox-node"
    state = labdir.LabDir(lab_dir).read_state()
    assert state is not None
    urls = [state.control_url, state.git_url, labs.status(lab_dir)["cluster"]["url"]]
    assert all(port_open(url) for url in urls)
    assert len(lab_processes(lab_dir)) == 2  # the lab process and its sandbox cluster
    down = cli(lab_dir, "down")
    assert down.returncode == 0, down.stderr
    assert lab_processes(lab_dir) == []
    assert not psutil.pid_exists(state.pid) or psutil.Process(state.pid).status() == psutil.STATUS_ZOMBIE
    assert not any(port_open(url) for url in urls), "down must free every port the lab had"
    assert not (lab_dir / "lab.json").exists()


def test_git_over_http_protection_and_push_events(running_lab: labs.Lab, tmp_path: pathlib.Path) -> None:
    lab = running_lab
    plain_url = lab.repo_url("fleet", with_credentials=False)
    with pytest.raises(urllib.error.HTTPError) as no_credentials:
        urllib.request.urlopen(f"{plain_url}/info/refs?service=git-upload-pack", timeout=10)
    assert no_credentials.value.code == 401
    assert no_credentials.value.headers["WWW-Authenticate"].startswith("Basic")
    anonymous = git("clone", plain_url, str(tmp_path / "anon"))
    assert anonymous.returncode != 0 and "could not read Username" in anonymous.stderr  # git was asked to log in
    wrong = git("clone", plain_url.replace("://", "://lab:wrong-password@"), str(tmp_path / "wrong"))
    assert wrong.returncode != 0 and "Authentication failed" in wrong.stderr
    work = tmp_path / "fleet"
    cloned = git("clone", lab.repo_url("fleet"), str(work))
    assert cloned.returncode == 0, cloned.stderr
    assert (work / "envs" / "test" / "kustomization.yaml").exists()
    (work / "NOTES.md").write_text("hand edit\n")
    git("add", "NOTES.md", cwd=work)
    assert git("commit", "-m", "Notes", cwd=work).returncode == 0
    refused = git("push", "origin", "main", cwd=work)
    assert refused.returncode != 0
    assert "[remote rejected] main -> main" in refused.stderr
    assert "protected" in refused.stderr  # the lab's own words, telling how changes get in
    before = len(lab.pushes())
    git("checkout", "-b", "notes", cwd=work)
    pushed = git("push", "origin", "notes", cwd=work)
    done = time.monotonic()
    assert pushed.returncode == 0, pushed.stderr
    while True:
        pushes = lab.pushes("fleet")
        if len(pushes) > before:
            break
        assert time.monotonic() - done < 0.2, "the lab must record a push within 200 ms"
        time.sleep(0.005)
    latest = pushes.iloc[-1]
    assert (latest["repo"], latest["ref"], latest["branch"]) == ("fleet", "refs/heads/notes", "notes")
    assert latest["new"] == git("rev-parse", "HEAD", cwd=work).stdout.strip()


def test_kill_9_is_recovered_by_the_next_up(running_lab: labs.Lab, lab_dir: pathlib.Path) -> None:
    pid = running_lab.state.pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while labdir.LabDir(lab_dir).locked():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert labs.running(lab_dir) is None  # a stale lab.json is not taken for a lab
    while lab_processes(lab_dir):  # its sandbox cluster goes with it (it is told to die with its parent)
        assert time.monotonic() < deadline, lab_processes(lab_dir)
        time.sleep(0.01)
    up = cli(lab_dir, "up")
    assert up.returncode == 0, up.stderr
    assert "Recovering from a lab that stopped without cleaning up" in up.stderr
    lab = labs.connect(lab_dir, start=False)
    assert lab.state.pid != pid
    assert "sandbox-node" in lab.kubectl("get", "nodes")
    # the seeded repositories survived the crash, with the same credentials
    assert lab.state.git_password == running_lab.state.git_password
    assert "fleet" in lab.status()["git"]["repos"]


CONNECT_SCRIPT = textwrap.dedent("""
    import sys
    import gitops_lab
    lab = gitops_lab.connect(sys.argv[1], start=False)
    print(lab.state.pid, lab.kubectl("get", "namespace", "default", "-o", "name").strip())
""")


def test_two_processes_share_one_lab_and_survive_each_other(running_lab: labs.Lab, lab_dir: pathlib.Path) -> None:
    outputs = []
    for _ in range(2):  # a second "kernel" after the first one has gone
        result = subprocess.run([sys.executable, "-c", CONNECT_SCRIPT, str(lab_dir)], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout.split())
    assert outputs[0] == outputs[1] == [str(running_lab.state.pid), "namespace/default"]
    lab = labs.connect(lab_dir, start=False)  # and this process, a third, sees the same lab
    assert lab.state.pid == running_lab.state.pid


def test_existing_provider_against_a_sandbox_posing_as_an_external_cluster(lab_dir: pathlib.Path,
                                                                           tmp_path: pathlib.Path) -> None:
    with server.Sandbox(tmp_path / "external") as external:
        up = cli(lab_dir, "up", "--cluster", "existing", "--kubeconfig", str(external.kubeconfig),
                 "--context", "gitops-lab")
        assert up.returncode == 0, up.stderr
        lab = labs.connect(lab_dir, start=False)
        assert lab.state.cluster == "existing"
        lab.kubectl("create", "namespace", "made-through-the-lab")
        names = external.call(lambda: [ns["metadata"]["name"] for ns in external.api.store.items("namespaces")])
        assert "made-through-the-lab" in names
        assert cli(lab_dir, "down").returncode == 0
        assert external.call(lambda: external.api.store.get("namespaces", "", "default")) is not None


def test_existing_provider_refuses_unknown_or_remote_contexts(lab_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "prod-eu",
        "clusters": [{"name": "prod", "cluster": {"server": "https://k8s.prod.example.com:6443"}}],
        "users": [{"name": "me", "user": {"token": "x"}}],
        "contexts": [{"name": "prod-eu", "context": {"cluster": "prod", "user": "me"}}]}))
    unknown = cli(lab_dir, "up", "--cluster", "existing", "--kubeconfig", str(config), "--context", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == (f"error: The context 'nope' is not in {config}; its contexts are: prod-eu. "
                                      f"Pass one with --context.")
    remote = cli(lab_dir, "up", "--cluster", "existing", "--kubeconfig", str(config))
    assert remote.returncode == 1
    assert "does not look like a local or lab cluster" in remote.stderr and "--yes" in remote.stderr
    assert lab_processes(lab_dir) == []


def fake_bin(tmp_path: pathlib.Path, docker_ok: bool) -> pathlib.Path:
    """A `docker` that answers `info` (or fails as with no engine) and a `kind` that records its arguments and
    'creates' a cluster by handing out the kubeconfig of a sandbox — stand-ins, since Docker cannot run here."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text("#!/bin/sh\necho 28.0.0\nexit 0\n" if docker_ok else
                      "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                      "Is the docker daemon running?' >&2\nexit 1\n")
    kind = bin_dir / "kind"
    kind.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, pathlib, shutil, sys, os
        here = pathlib.Path({str(bin_dir)!r})
        with open(here / "kind-calls.jsonl", "a") as log:
            log.write(json.dumps(sys.argv[1:]) + "\\n")
        clusters = here / "clusters"
        clusters.mkdir(exist_ok=True)
        args = sys.argv[1:]
        opts = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
        if args[:2] == ["get", "clusters"]:
            print("\\n".join(p.name for p in clusters.iterdir()))
        elif args[:2] == ["create", "cluster"]:
            (clusters / opts["name"]).touch()
            shutil.copy(os.environ["FAKE_KIND_KUBECONFIG"], opts["kubeconfig"])
        elif args[:2] == ["delete", "cluster"]:
            (clusters / opts["name"]).unlink(missing_ok=True)
        """))
    for exe in (docker, kind):
        exe.chmod(0o755)
    return bin_dir


def kind_calls(bin_dir: pathlib.Path) -> list[list[str]]:
    calls = bin_dir / "kind-calls.jsonl"
    return [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []


def test_kind_provider_drives_kind_through_pytest_kind(lab_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    """Against a FAKE kind executable (Docker cannot run on our machines): the lab's kind provider calls kind as
    pytest-kind-ng's KindCluster does, uses the cluster it yields, reuses it, and deletes it on down."""
    bin_dir = fake_bin(tmp_path, docker_ok=True)
    with server.Sandbox(tmp_path / "pretend-kind") as pretend:
        env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_KIND_KUBECONFIG": str(pretend.kubeconfig)}
        up = cli(lab_dir, "up", "--cluster", "kind", "--context", "demo", "--node-image", "kindest/node:v1.33.1",
                 env=env)
        assert up.returncode == 0, up.stderr
        assert "Creating (or reusing) the kind cluster demo" in up.stderr
        calls = kind_calls(bin_dir)
        assert calls[0] == ["get", "clusters"]
        create = calls[1]
        assert create[:3] == ["create", "cluster", "--name=demo"]
        assert f"--kubeconfig={lab_dir / 'cluster' / 'kind' / 'kubeconfig'}" in create
        assert "--image=kindest/node:v1.33.1" in create
        lab = labs.connect(lab_dir, start=False)
        assert lab.state.cluster == "kind" and lab.state.context == "kind-demo"
        assert "sandbox-node" in lab.kubectl("get", "nodes")
        assert cli(lab_dir, "down", "--keep-cluster", env=env).returncode == 0
        assert not any(c[:2] == ["delete", "cluster"] for c in kind_calls(bin_dir))
        # the next up reuses the kept cluster instead of creating another
        assert cli(lab_dir, "up", "--cluster", "kind", "--context", "demo", env=env).returncode == 0
        assert sum(c[:2] == ["create", "cluster"] for c in kind_calls(bin_dir)) == 1
        assert cli(lab_dir, "down", env=env).returncode == 0
        assert kind_calls(bin_dir)[-1][:3] == ["delete", "cluster", "--name=demo"]


def test_bad_input_gets_one_sentence_and_a_next_step(lab_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    no_lab = cli(lab_dir, "down")
    assert (no_lab.returncode, no_lab.stderr) == (
        1, f"error: No lab is running in {lab_dir}; start one with `gitops-lab up`.\n")
    file_in_the_way = tmp_path / "a-file"
    file_in_the_way.write_text("")
    unwritable = cli(file_in_the_way / "lab", "up")
    assert unwritable.returncode == 1
    assert unwritable.stderr.startswith(f"error: The lab directory {file_in_the_way / 'lab'} is not writable")
    assert "--lab-dir" in unwritable.stderr
    bin_dir = fake_bin(tmp_path, docker_ok=False)
    no_docker = cli(lab_dir, "up", "--cluster", "kind", env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    assert no_docker.returncode == 1
    assert no_docker.stderr.splitlines()[-1] == (
        "error: kind needs a running Docker engine, and `docker info` failed: Cannot connect to the Docker daemon "
        "at unix:///var/run/docker.sock. Is the docker daemon running?; start Docker, or use the sandbox cluster "
        "(`gitops-lab up`).")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = cli(lab_dir, "up", "--port", str(port))
        assert busy.returncode == 1
        assert busy.stderr.splitlines()[-1] == (
            f"error: Port {port} on 127.0.0.1 is taken by another process; choose another port (0 picks a free "
            f"one) or stop that process.")
    assert lab_processes(lab_dir) == []
    assert cli(lab_dir, "up").returncode == 0
    second = cli(lab_dir, "up")
    assert second.returncode == 1
    state = labdir.LabDir(lab_dir).read_state()
    assert state is not None
    assert second.stderr == (f"error: A lab is already running in {lab_dir} (pid {state.pid}); use "
                             f"`gitops-lab status` to see it or `gitops-lab down` to stop it.\n")
    with pytest.raises(errors.LabError, match="No lab is running"):
        labs.connect(tmp_path / "elsewhere", start=False)


def test_reset_brings_back_the_seeded_state(running_lab: labs.Lab, tmp_path: pathlib.Path) -> None:
    lab = running_lab
    lab.kubectl("create", "namespace", "scratch")
    work = lab.clone("app", tmp_path / "app")
    work.write("EXTRA.md", "more\n")
    work.commit("Extra")
    work.create_branch("extra")
    work.push()
    seeded_sha = lab.status()["git"]  # repos listed
    assert "app" in seeded_sha["repos"]
    result = cli(lab.dir.root, "reset")
    assert result.returncode == 0, result.stderr
    assert "scratch" not in lab.kubectl("get", "namespaces", "-o", "name")
    branches = git("ls-remote", "--heads", lab.repo_url("app")).stdout
    assert "refs/heads/main" in branches and "refs/heads/extra" not in branches
    assert "sandbox-node" in lab.kubectl("get", "nodes")
