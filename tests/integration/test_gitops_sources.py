"""Git sources against the lab's real Git server over HTTP, with real pushes between fetches — no mocks.

Each test has its own server, repository, clone and source directory. A ``git`` shim on PATH records which git
commands a fetch ran, so "a fetch with nothing new only asks ls-remote" is checked, not assumed.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import statistics
import threading
import time
from collections.abc import Iterator

import psutil
import pytest

from gitops_lab import demo_app
from gitops_lab.gitops import revisions, sources
from gitops_lab.gitserver import serving
from tests.integration.test_gitserver import GitCli

NAME = "flux-system/fleet"
MAIN = {"branch": "main"}


@pytest.fixture
def git_server(tmp_path: pathlib.Path) -> Iterator[serving.GitServerThread]:
    with serving.GitServerThread(tmp_path / "server", shutdown_timeout=1.0) as server:
        server.repos.create("fleet", protected=False)
        server.repos.seed("fleet", demo_app.files("fleet"), "Describe the fleet", author="Ada <ada@example.com>")
        yield server


@pytest.fixture
def cli(tmp_path: pathlib.Path) -> GitCli:
    return GitCli(tmp_path / "home")


@pytest.fixture
def work(git_server: serving.GitServerThread, cli: GitCli, tmp_path: pathlib.Path) -> pathlib.Path:
    cli("clone", "--quiet", git_server.repo_url("fleet"), str(tmp_path / "work"))
    return tmp_path / "work"


@pytest.fixture
def git_log(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """Puts a ``git`` on PATH that appends each command's subcommand to a log, then runs the real git."""
    real = shutil.which("git")
    assert real is not None
    shim_dir, log = tmp_path / "shim", tmp_path / "git.log"
    shim_dir.mkdir()
    shim = shim_dir / "git"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{os.environ['PATH']}")
    log.touch()
    return log


def subcommands(log: pathlib.Path) -> list[str]:
    """The git subcommand of each logged command line (the words after the ``-c key=value`` options)."""
    found = []
    for line in log.read_text().splitlines():
        words = line.split()
        while words and words[0] == "-c":
            words = words[2:]
        found.append(words[0] if not words[0].startswith("--work-tree") else words[1])
    log.write_text("")
    return found


def push(cli: GitCli, work: pathlib.Path, path: str, text: str | None, message: str) -> str:
    """Commit a change of ``path`` (None deletes it) in the clone and push it to main; the new commit."""
    if text is None:
        cli("rm", "--quiet", path, cwd=work)
        cli("commit", "--quiet", "-m", message, cwd=work)
        sha = cli("rev-parse", "HEAD", cwd=work).stdout.strip()
    else:
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        sha = cli.commit_file(work, path, text, message)
    cli("push", "--quiet", "origin", "main", cwd=work)
    return sha


def files_of(directory: pathlib.Path) -> dict[str, str]:
    return {p.relative_to(directory).as_posix(): p.read_text() for p in sorted(directory.rglob("*")) if p.is_file()}


def git_children() -> set[int]:
    """This process's git children (GitPython keeps `git cat-file` helpers of other tests' clones alive too)."""
    return {p.pid for p in psutil.Process().children(recursive=True) if p.name().startswith("git")}


# 1. first fetch, no-change fetches, pushes in between

def test_first_fetch_exports_the_branch(git_server: serving.GitServerThread, tmp_path: pathlib.Path) -> None:
    source = sources.GitSource(tmp_path / "gitops")
    artifact = source.fetch(NAME, git_server.repo_url("fleet"), MAIN)
    head = git_server.repos.head("fleet")
    assert head is not None
    assert (artifact.revision, artifact.sha, artifact.reused) == (f"main@sha1:{head}", head, False)
    assert artifact.path == tmp_path / "gitops" / "artifacts" / "flux-system" / "fleet" / head
    assert files_of(artifact.path) == demo_app.files("fleet")
    assert (tmp_path / "gitops" / "cache" / "flux-system" / "fleet.git" / "HEAD").is_file()
    status = artifact.status()
    assert status["revision"] == artifact.revision and status["path"] == f"gitrepository/flux-system/fleet/{head}"
    assert status["digest"].startswith("sha1:") and len(status["digest"]) == 45
    assert status["lastUpdateTime"].endswith("Z")
    password = git_server.credentials.password
    stored = [p for p in (tmp_path / "gitops").rglob("*") if p.is_file()]
    assert stored and not any(password.encode() in p.read_bytes() for p in stored), "credentials written to disk"


def test_a_fetch_with_nothing_new_only_asks_ls_remote(git_server: serving.GitServerThread, tmp_path: pathlib.Path,
                                                      git_log: pathlib.Path) -> None:
    source = sources.GitSource(tmp_path / "gitops")
    url = git_server.repo_url("fleet")
    began = time.perf_counter()
    first = source.fetch(NAME, url, MAIN)
    first_took = time.perf_counter() - began
    assert "fetch" in subcommands(git_log)
    took = []
    for _ in range(5):
        began = time.perf_counter()
        again = source.fetch(NAME, url, MAIN)
        took.append(time.perf_counter() - began)
        assert subcommands(git_log) == ["ls-remote"]
        assert (again.revision, again.path, again.stored_at, again.reused) == (
            first.revision, first.path, first.stored_at, True)
    print(f"\nfirst fetch {first_took * 1000:.0f} ms; no-change fetch median {statistics.median(took) * 1000:.0f} ms")
    assert statistics.median(took) < first_took


def test_pushes_between_fetches_give_new_revisions(git_server: serving.GitServerThread, cli: GitCli,
                                                   work: pathlib.Path, tmp_path: pathlib.Path,
                                                   git_log: pathlib.Path) -> None:
    source = sources.GitSource(tmp_path / "gitops")
    url = git_server.repo_url("fleet")
    first = source.fetch(NAME, url, MAIN)
    scaled = demo_app.files("fleet")["envs/test/deployment.yaml"].replace("replicas: 1", "replicas: 3")
    second_sha = push(cli, work, "envs/test/deployment.yaml", scaled, "Scale test to 3")
    subcommands(git_log)
    second = source.fetch(NAME, url, MAIN)
    assert subcommands(git_log) == ["ls-remote", "fetch", "rev-parse", "ls-tree", "read-tree", "checkout-index",
                                    "rev-parse"]
    assert (second.revision, second.reused) == (revisions.make("main", second_sha), False)
    assert "replicas: 3" in (second.path / "envs/test/deployment.yaml").read_text()
    assert "replicas: 1" in (first.path / "envs/test/deployment.yaml").read_text(), "old artifact changed"
    third_sha = push(cli, work, "envs/prod/service.yaml", None, "Drop the prod service")
    third = source.fetch(NAME, url, MAIN)
    assert third.sha == third_sha and not (third.path / "envs/prod/service.yaml").exists()
    assert third.digest != second.digest != first.digest


def test_only_the_last_few_artifacts_are_kept(git_server: serving.GitServerThread, cli: GitCli,
                                              work: pathlib.Path, tmp_path: pathlib.Path) -> None:
    source = sources.GitSource(tmp_path / "gitops", keep=2)
    url = git_server.repo_url("fleet")
    shas = [source.fetch(NAME, url, MAIN).sha]
    for number in range(3):
        push(cli, work, "notes.txt", f"note {number}\n", f"Note {number}")
        shas.append(source.fetch(NAME, url, MAIN).sha)
    directory = source.artifacts_dir(NAME)
    assert sorted(p.name for p in directory.iterdir()) == sorted([*shas[-2:], *(f"{s}.json" for s in shas[-2:])])
    assert source.fetch(NAME, url, {"commit": shas[-2]}).reused, "a kept artifact is exported again"


def test_a_new_source_on_the_same_directory_reuses_the_artifact(git_server: serving.GitServerThread,
                                                                tmp_path: pathlib.Path) -> None:
    url = git_server.repo_url("fleet")
    first = sources.GitSource(tmp_path / "gitops").fetch(NAME, url, MAIN)
    again = sources.GitSource(tmp_path / "gitops").fetch(NAME, url, MAIN)
    assert (again.reused, again.path, again.stored_at, again.digest) == (True, first.path, first.stored_at,
                                                                         first.digest)


# 2. references: tags, names, pinned commits

def test_tags_names_and_commits(git_server: serving.GitServerThread, cli: GitCli, work: pathlib.Path,
                                tmp_path: pathlib.Path) -> None:
    source = sources.GitSource(tmp_path / "gitops")
    url = git_server.repo_url("fleet")
    tagged = cli("rev-parse", "HEAD", cwd=work).stdout.strip()
    cli("tag", "-a", "v1.0.0", "-m", "First release", cwd=work)
    cli("push", "--quiet", "origin", "v1.0.0", cwd=work)
    newer = push(cli, work, "notes.txt", "later\n", "Later")

    tag = source.fetch(NAME, url, {"branch": "main", "tag": "v1.0.0"})
    assert tag.revision == f"v1.0.0@sha1:{tagged}", "an annotated tag is peeled to its commit"
    assert not (tag.path / "notes.txt").exists()
    by_name = source.fetch(NAME, url, {"name": "refs/heads/main"})
    assert by_name.revision == f"refs/heads/main@sha1:{newer}"
    pinned = source.fetch("flux-system/pinned", url, {"commit": tagged})
    assert (pinned.revision, pinned.reused) == (f"sha1:{tagged}", False)
    on_branch = source.fetch("flux-system/on-branch", url, {"branch": "main", "commit": tagged})
    assert on_branch.revision == f"main@sha1:{tagged}"


def test_a_commit_must_be_on_its_branch(git_server: serving.GitServerThread, cli: GitCli, work: pathlib.Path,
                                        tmp_path: pathlib.Path) -> None:
    cli("checkout", "--quiet", "-b", "side", cwd=work)
    side = cli.commit_file(work, "side.txt", "side\n", "Side work")
    cli("push", "--quiet", "origin", "side", cwd=work)
    source = sources.GitSource(tmp_path / "gitops")
    with pytest.raises(sources.FetchError) as info:
        source.fetch(NAME, git_server.repo_url("fleet"), {"branch": "main", "commit": side})
    assert f"The commit {side} is not in" in str(info.value) and "on branch 'main'" in str(info.value)
    assert source.fetch(NAME, git_server.repo_url("fleet"), {"branch": "side", "commit": side}).sha == side


def test_the_artifact_leaves_out_what_flux_leaves_out(git_server: serving.GitServerThread, cli: GitCli,
                                                      work: pathlib.Path, tmp_path: pathlib.Path) -> None:
    (work / ".github/workflows").mkdir(parents=True)
    (work / ".github/workflows/ci.yaml").write_text("on: push\n")
    (work / "logo.png").write_bytes(b"\x89PNG")
    (work / ".gitlab-ci.yml").write_text("stages: []\n")
    os.symlink("/etc/passwd", work / "envs/test/passwd.yaml")
    os.symlink("../prod", work / "envs/test/prod-link")
    (work / "run.sh").write_text("#!/bin/sh\n")
    (work / "run.sh").chmod(0o755)
    cli("add", "--all", cwd=work)
    cli("commit", "--quiet", "-m", "Add CI, a logo, links and a script", cwd=work)
    cli("push", "--quiet", "origin", "main", cwd=work)
    artifact = sources.GitSource(tmp_path / "gitops").fetch(NAME, git_server.repo_url("fleet"), MAIN)
    assert set(files_of(artifact.path)) == {*demo_app.files("fleet"), "run.sh"}
    assert not any(p.is_symlink() for p in artifact.path.rglob("*"))
    assert os.access(artifact.path / "run.sh", os.X_OK)


# 3. failures carry git's words and the next step

def test_a_missing_branch(git_server: serving.GitServerThread, tmp_path: pathlib.Path) -> None:
    with pytest.raises(sources.FetchError) as info:
        sources.GitSource(tmp_path / "gitops").fetch(NAME, git_server.repo_url("fleet"), {"branch": "nope"})
    message = str(info.value)
    assert "couldn't find remote ref 'refs/heads/nope'" in message and "Push that branch" in message
    assert git_server.credentials.password not in message and "http://***@127.0.0.1:" in message
    assert info.value.reason == "GitOperationFailed"


@pytest.mark.parametrize("how", ["wrong password", "no credentials"])
def test_authentication_failures(git_server: serving.GitServerThread, tmp_path: pathlib.Path, how: str) -> None:
    password = git_server.credentials.password
    url = (git_server.repo_url("fleet").replace(password, "wrong") if how == "wrong password"
           else git_server.repo_url("fleet", with_credentials=False))
    with pytest.raises(sources.FetchError) as info:
        sources.GitSource(tmp_path / "gitops").fetch(NAME, url, MAIN)
    assert info.value.reason == "AuthenticationFailed"
    message = str(info.value)
    assert ("Authentication failed" if how == "wrong password" else "could not read Username") in message
    assert "Check the credentials" in message and "wrong" not in message and password not in message


def test_a_missing_repository(git_server: serving.GitServerThread, tmp_path: pathlib.Path) -> None:
    with pytest.raises(sources.FetchError) as info:
        sources.GitSource(tmp_path / "gitops").fetch(NAME, git_server.repo_url("nothere"), MAIN)
    assert "There is no repository 'nothere.git'" in str(info.value) and "not found" in str(info.value)


def test_a_stopped_server(tmp_path: pathlib.Path) -> None:
    with serving.GitServerThread(tmp_path / "server", shutdown_timeout=1.0) as server:
        server.repos.create("fleet")
        url = server.repo_url("fleet")
    with pytest.raises(sources.FetchError) as info:
        sources.GitSource(tmp_path / "gitops").fetch(NAME, url, MAIN)
    assert "Couldn't connect to server" in str(info.value) and "Git server is running" in str(info.value)


def test_a_server_that_never_answers_times_out_and_leaves_no_git_behind(tmp_path: pathlib.Path) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        url = f"http://lab:pw@127.0.0.1:{listener.getsockname()[1]}/fleet.git"
        before = git_children()
        began = time.monotonic()
        with pytest.raises(sources.FetchError) as info:
            sources.GitSource(tmp_path / "gitops").fetch(NAME, url, MAIN, timeout=1.0)
        assert time.monotonic() - began < 5
        assert "did not finish within the GitRepository's timeout of 1 s" in str(info.value)
        assert accepted, "git never connected"
        assert git_children() <= before, "the timed-out fetch left git processes behind"
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


# 4. concurrency and forgetting

def test_concurrent_fetches_of_one_repository_agree(git_server: serving.GitServerThread,
                                                   tmp_path: pathlib.Path) -> None:
    source = sources.GitSource(tmp_path / "gitops")
    results: list[sources.Artifact] = []
    failures: list[BaseException] = []

    def fetch() -> None:
        try:
            results.append(source.fetch(NAME, git_server.repo_url("fleet"), MAIN))
        except BaseException as err:
            failures.append(err)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len({a.revision for a in results}) == 1 and sum(not a.reused for a in results) == 1
    assert [p.name for p in source.artifacts_dir(NAME).iterdir() if p.is_dir()] == [results[0].sha]


def test_forget_removes_cache_and_artifacts(git_server: serving.GitServerThread, tmp_path: pathlib.Path) -> None:
    source = sources.GitSource(tmp_path / "gitops")
    source.fetch(NAME, git_server.repo_url("fleet"), MAIN)
    source.forget(NAME)
    assert not source.cache_dir(NAME).exists() and not source.artifacts_dir(NAME).exists()
    assert not source.fetch(NAME, git_server.repo_url("fleet"), MAIN).reused
