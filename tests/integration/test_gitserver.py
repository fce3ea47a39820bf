"""The lab's Git server against the real git CLI and GitPython, over HTTP on 127.0.0.1 — no mocks.

Each test has its own server directory (``tmp_path``) and its own server.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import os
import pathlib
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import aiohttp
import psutil
import pytest

from gitops_lab import demo_app, errors
from gitops_lab.gitserver import events, hooks, repositories, serving, updates, working

AUTHOR = "Ada Lovelace <ada@example.com>"


class GitCli:
    """The real git command line, with no user or system config, no prompts and a fixed identity."""

    def __init__(self, home: pathlib.Path) -> None:
        home.mkdir(exist_ok=True)
        self.env = {"PATH": os.environ["PATH"], "HOME": str(home), "LC_ALL": "C", "NO_PROXY": "127.0.0.1,localhost",
                    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
                    "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
                    "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}

    def __call__(self, *args: str, cwd: pathlib.Path | None = None, check: bool = True,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["git", *args], cwd=cwd, env={**self.env, **(env or {})}, capture_output=True,
                                text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def commit_file(self, work: pathlib.Path, path: str, text: str, message: str) -> str:
        (work / path).write_text(text)
        self("add", path, cwd=work)
        self("commit", "--quiet", "-m", message, cwd=work)
        return self("rev-parse", "HEAD", cwd=work).stdout.strip()


@pytest.fixture
def git_server(tmp_path: pathlib.Path) -> Iterator[serving.GitServerThread]:
    with serving.GitServerThread(tmp_path / "server", shutdown_timeout=1.0) as server:
        yield server


@pytest.fixture
def fleet(git_server: serving.GitServerThread) -> str:
    git_server.repos.create("fleet")
    git_server.repos.seed("fleet", demo_app.files("fleet"), "Describe the fleet", author=AUTHOR)
    return "fleet"


@pytest.fixture
def cli(tmp_path: pathlib.Path) -> GitCli:
    return GitCli(tmp_path / "home")


def clone(cli: GitCli, server: serving.GitServerThread, name: str, target: pathlib.Path) -> pathlib.Path:
    cli("clone", "--quiet", server.repo_url(name), str(target))
    return target


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def backend_children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if "http-backend" in " ".join(_cmdline(p))]


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return []


def hanging_fetch(authorization: str) -> bytes:
    """A fetch request whose chunked body never ends: the backend waits for the rest until it is killed."""
    return (f"POST /fleet.git/git-upload-pack HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {authorization}\r\n"
            f"Content-Type: application/x-git-upload-pack-request\r\nTransfer-Encoding: chunked\r\n\r\n"
            f"4\r\n0000\r\n").encode()


def listening(port: int) -> bool:
    return any(c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN
               for c in psutil.Process().net_connections(kind="tcp"))


# 1. plain git over HTTP, with and without credentials

def test_plain_git_clones_and_pushes_a_branch(git_server: serving.GitServerThread, fleet: str, cli: GitCli,
                                             tmp_path: pathlib.Path) -> None:
    work = clone(cli, git_server, fleet, tmp_path / "work")
    assert (work / "envs/test/deployment.yaml").read_text() == demo_app.files("fleet")["envs/test/deployment.yaml"]
    cli("checkout", "--quiet", "-b", "scale-test", cwd=work)
    sha = cli.commit_file(work, "envs/test/notes.txt", "more replicas soon\n", "Add a note")
    pushed = cli("push", "origin", "scale-test", cwd=work)
    assert "[new branch]      scale-test -> scale-test" in pushed.stderr
    assert git_server.repos.head(fleet, "scale-test") == sha
    remote = cli("ls-remote", git_server.repo_url(fleet)).stdout
    assert f"{sha}\trefs/heads/scale-test" in remote


def test_git_speaks_protocol_v2_through_the_backend(git_server: serving.GitServerThread, fleet: str,
                                                    cli: GitCli) -> None:
    traced = cli("ls-remote", git_server.repo_url(fleet), env={"GIT_TRACE_PACKET": "1"})
    assert "git< version 2" in traced.stderr  # the Git-Protocol header reached http-backend as HTTP_GIT_PROTOCOL
    assert f"{git_server.repos.head(fleet)}\tHEAD" in traced.stdout


def test_requests_without_credentials_get_401_with_a_basic_challenge(git_server: serving.GitServerThread,
                                                                     fleet: str) -> None:
    url = git_server.repo_url(fleet, with_credentials=False) + "/info/refs?service=git-upload-pack"
    status, headers, _ = http_get(url)
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Basic realm="gitops-lab git", charset="UTF-8"'
    wrong = "Basic " + base64.b64encode(b"lab:not-the-password").decode()
    assert http_get(url, {"Authorization": wrong})[0] == 401
    status, headers, body = http_get(url, {"Authorization": git_server.credentials.header()})
    assert status == 200
    assert headers["Content-Type"] == "application/x-git-upload-pack-advertisement"
    assert b"# service=git-upload-pack" in body


def test_git_without_or_with_wrong_credentials_fails_cleanly(git_server: serving.GitServerThread, fleet: str,
                                                             cli: GitCli) -> None:
    bare = cli("ls-remote", git_server.repo_url(fleet, with_credentials=False), check=False)
    assert bare.returncode != 0
    assert "terminal prompts disabled" in bare.stderr
    wrong_url = git_server.repo_url(fleet).replace(git_server.credentials.password, "wrong")
    wrong = cli("ls-remote", wrong_url, check=False)
    assert wrong.returncode != 0
    assert "Authentication failed" in wrong.stderr


def test_a_credential_helper_supplies_the_password(git_server: serving.GitServerThread, fleet: str,
                                                   cli: GitCli) -> None:
    creds = git_server.credentials
    helper = f"!f() {{ echo username={creds.username}; echo password={creds.password}; }}; f"
    env = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "credential.helper", "GIT_CONFIG_VALUE_0": helper}
    result = cli("ls-remote", git_server.repo_url(fleet, with_credentials=False), env=env)
    assert git_server.repos.head(fleet) in result.stdout


def test_an_unknown_repository_is_not_found(git_server: serving.GitServerThread, cli: GitCli) -> None:
    result = cli("ls-remote", git_server.repo_url("nowhere"), check=False)
    assert result.returncode != 0
    assert "not found" in result.stderr


# 2. branch protection by a real pre-receive hook, push events from a real post-receive hook

def test_direct_push_to_main_is_rejected_until_the_policy_allows_it(git_server: serving.GitServerThread, fleet: str,
                                                                    cli: GitCli, tmp_path: pathlib.Path) -> None:
    work = clone(cli, git_server, fleet, tmp_path / "work")
    before = git_server.repos.head(fleet)
    sha = cli.commit_file(work, "README.md", "# Fleet, edited on main\n", "Edit main directly")
    refused = cli("push", "origin", "main", cwd=work, check=False)
    assert refused.returncode != 0
    assert "! [remote rejected] main -> main (pre-receive hook declined)" in refused.stderr
    assert "remote: main is protected in fleet: direct pushes to it are refused." in refused.stderr
    assert "remote: Push a branch instead and open a pull request" in refused.stderr
    assert git_server.repos.head(fleet) == before
    assert git_server.pushes.recent() == []

    git_server.repos.set_protection(fleet, False)
    assert git_server.repos.protection(fleet).protected == ()
    cli("push", "origin", "main", cwd=work)
    assert git_server.repos.head(fleet) == sha

    git_server.repos.set_protection(fleet, True)
    cli.commit_file(work, "README.md", "# Fleet, edited again\n", "Edit main again")
    assert cli("push", "origin", "main", cwd=work, check=False).returncode != 0


def test_the_server_hears_of_a_push_within_200_ms(git_server: serving.GitServerThread, fleet: str, cli: GitCli,
                                                  tmp_path: pathlib.Path) -> None:
    work = clone(cli, git_server, fleet, tmp_path / "work")
    sha = cli.commit_file(work, "README.md", "# Fleet\n\nOn a branch.\n", "Work on a branch")
    heard: list[tuple[float, events.PushEvent]] = []
    fired = threading.Event()

    def callback(event: events.PushEvent) -> None:
        heard.append((time.monotonic(), event))
        fired.set()

    git_server.on_push(callback)
    cli("push", "origin", "HEAD:refs/heads/feature", cwd=work)
    pushed_at = time.monotonic()
    assert fired.wait(0.2), "no push event within 200 ms of git push returning"
    (heard_at, event), = heard
    assert heard_at - pushed_at < 0.2
    assert (event.repo, event.ref, event.branch, event.old, event.new, event.pusher) == (
        fleet, "refs/heads/feature", "feature", updates.ZERO, sha, "lab")
    assert event.at.utcoffset() is not None and abs(time.time() - event.at.timestamp()) < 60
    assert git_server.pushes.recent(fleet) == [event]
    assert git_server.pushes.wait_for(lambda e: e.new == sha, timeout=0) == event


def test_one_push_of_two_branches_is_two_events(git_server: serving.GitServerThread, fleet: str, cli: GitCli,
                                                tmp_path: pathlib.Path) -> None:
    work = clone(cli, git_server, fleet, tmp_path / "work")
    sha = cli.commit_file(work, "a.txt", "a\n", "A")
    cli("push", "origin", "HEAD:refs/heads/one", "HEAD:refs/heads/two", cwd=work)
    event = git_server.pushes.wait_for(lambda e: e.ref == "refs/heads/two", timeout=2)
    assert sorted((e.ref, e.new) for e in git_server.pushes.recent()) == [
        ("refs/heads/one", sha), ("refs/heads/two", sha)]
    assert event.new == sha


def test_a_deleted_branch_is_an_event_too(git_server: serving.GitServerThread, fleet: str, cli: GitCli,
                                          tmp_path: pathlib.Path) -> None:
    work = clone(cli, git_server, fleet, tmp_path / "work")
    cli("push", "origin", "HEAD:refs/heads/short-lived", cwd=work)
    cli("push", "origin", "--delete", "short-lived", cwd=work)
    event = git_server.pushes.wait_for(lambda e: e.new == updates.ZERO, timeout=2)
    assert event.ref == "refs/heads/short-lived"
    assert git_server.repos.head(fleet, "short-lived") is None


# 3. the GitPython helpers notebooks use

def test_working_copy_clone_commit_push_revert_and_log(git_server: serving.GitServerThread, fleet: str,
                                                       tmp_path: pathlib.Path) -> None:
    work = working.WorkingCopy.clone(git_server.repo_url(fleet), tmp_path / "work")
    assert work.branch == "main"
    seeded = work.head
    work.replace("envs/test/deployment.yaml", "replicas: 1", "replicas: 2")
    scaled = work.commit("Scale test to 2 replicas", author=AUTHOR)

    with pytest.raises(errors.GitServerError) as refused:
        work.push()
    message = str(refused.value)
    assert "refused the push of main" in message
    assert "[remote rejected]" in message
    assert "main is protected in fleet" in message and "open a pull request" in message
    assert git_server.credentials.password not in message

    work.create_branch("scale-test")
    assert work.push() == "[new branch]"
    assert git_server.repos.head(fleet, "scale-test") == scaled

    reverted = work.revert(scaled, author="Grace Hopper <grace@example.com>")
    assert "replicas: 1" in work.read("envs/test/deployment.yaml")
    work.push()
    assert git_server.repos.head(fleet, "scale-test") == reverted

    log = work.log()
    assert list(log["sha"]) == [reverted, scaled, seeded]
    assert list(log["subject"]) == ['Revert "Scale test to 2 replicas"', "Scale test to 2 replicas",
                                    "Describe the fleet"]
    assert list(log["author"]) == ["Grace Hopper", "Ada Lovelace", "Ada Lovelace"]
    assert list(log["files_changed"]) == [1, 1, len(demo_app.files("fleet"))]
    assert list(log["insertions"][:2]) == [1, 1] and list(log["deletions"][:2]) == [1, 1]
    assert str(log["date"].dtype) == "datetime64[ns, UTC]"
    assert len(work.log(max_count=1)) == 1
    assert list(work.log("main")["sha"]) == [scaled, seeded]  # the local main still holds the refused commit


def test_working_copy_errors_are_lab_errors(git_server: serving.GitServerThread, fleet: str,
                                            tmp_path: pathlib.Path) -> None:
    work = working.WorkingCopy.clone(git_server.repo_url(fleet), tmp_path / "work")
    with pytest.raises(errors.GitServerError, match="Nothing to commit"):
        work.commit("empty", author=AUTHOR)
    with pytest.raises(errors.GitServerError, match=r"does not occur in README\.md"):
        work.replace("README.md", "no such text", "x")
    with pytest.raises(errors.GitServerError, match="not a file path inside a repository"):
        work.write("../outside.txt", "x")
    with pytest.raises(errors.GitServerError, match=r"Cloning http://\*\*\*@127\.0\.0\.1:\d+/nope\.git failed"):
        working.WorkingCopy.clone(git_server.repo_url("nope"), tmp_path / "nope")
    bad = git_server.repo_url(fleet).replace(git_server.credentials.password, "wrong")
    with pytest.raises(errors.GitServerError, match="Authentication failed") as failed:
        working.WorkingCopy.clone(bad, tmp_path / "bad")
    assert "wrong" not in str(failed.value)


def test_a_conflicting_revert_is_aborted(git_server: serving.GitServerThread, fleet: str,
                                         tmp_path: pathlib.Path) -> None:
    work = working.WorkingCopy.clone(git_server.repo_url(fleet), tmp_path / "work")
    work.write("note.txt", "one\n")
    first = work.commit("one", author=AUTHOR)
    work.write("note.txt", "two\n")
    head = work.commit("two", author=AUTHOR)
    with pytest.raises(errors.GitServerError, match=f"Reverting {first[:7]} on main failed"):
        work.revert(first, author=AUTHOR)
    assert work.head == head and work.read("note.txt") == "two\n"
    assert not work.repo.is_dirty()


def test_pull_brings_other_peoples_pushes(git_server: serving.GitServerThread, fleet: str,
                                          tmp_path: pathlib.Path) -> None:
    git_server.repos.set_protection(fleet, False)
    mine = working.WorkingCopy.clone(git_server.repo_url(fleet), tmp_path / "mine")
    theirs = working.WorkingCopy.clone(git_server.repo_url(fleet), tmp_path / "theirs")
    theirs.write("theirs.txt", "hello\n")
    pushed = theirs.commit("Theirs", author=AUTHOR)
    theirs.push()
    assert mine.pull() == pushed
    assert mine.read("theirs.txt") == "hello\n"


# 4. big pushes (chunked), many pushes (no leftover processes), gzip bodies

def test_a_5_mb_push_goes_through_chunked(git_server: serving.GitServerThread, fleet: str, cli: GitCli,
                                          tmp_path: pathlib.Path) -> None:
    work = clone(cli, git_server, fleet, tmp_path / "work")
    digests = {}
    for i in range(5):
        data = os.urandom(1024 * 1024)  # incompressible: the pack is about 5 MB, beyond git's 1 MB post buffer
        (work / f"blob{i}.bin").write_bytes(data)
        digests[f"blob{i}.bin"] = hashlib.sha256(data).hexdigest()
    cli("add", ".", cwd=work)
    cli("commit", "--quiet", "-m", "Five megabytes", cwd=work)
    trace = {"GIT_TRACE_CURL": "1", "GIT_TRACE_CURL_NO_DATA": "1"}
    pushed = cli("push", "origin", "HEAD:refs/heads/big", cwd=work, env=trace)
    assert "Transfer-Encoding: chunked" in pushed.stderr
    copy = clone(cli, git_server, fleet, tmp_path / "copy")
    cli("checkout", "--quiet", "big", cwd=copy)
    assert {name: hashlib.sha256((copy / name).read_bytes()).hexdigest() for name in digests} == digests


def test_twenty_pushes_leave_no_processes_behind(git_server: serving.GitServerThread, fleet: str, cli: GitCli,
                                                 tmp_path: pathlib.Path) -> None:
    work = clone(cli, git_server, fleet, tmp_path / "work")
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    for i in range(20):
        cli.commit_file(work, "counter.txt", f"{i}\n", f"Count {i}")
        cli("push", "--quiet", "origin", "HEAD:refs/heads/counting", cwd=work)
    git_server.pushes.wait_for(lambda e: e.new == cli("rev-parse", "HEAD", cwd=work).stdout.strip(), timeout=2)
    assert len(git_server.pushes.recent(fleet)) == 20
    children = psutil.Process().children(recursive=True)
    assert [p for p in children if p.status() == psutil.STATUS_ZOMBIE] == []
    assert {p.pid for p in children} <= before
    assert backend_children() == []


def test_a_gzip_request_body_is_inflated_by_the_backend(git_server: serving.GitServerThread, fleet: str) -> None:
    sha = git_server.repos.head(fleet)
    assert sha is not None
    want = f"want {sha}\n"
    request = f"{len(want) + 4:04x}{want}0000" + "0009done\n"
    body = gzip.compress(request.encode())
    url = git_server.repo_url(fleet, with_credentials=False) + "/git-upload-pack"

    async def post() -> tuple[int, bytes]:
        headers = {"Authorization": git_server.credentials.header(), "Content-Encoding": "gzip",
                   "Content-Type": "application/x-git-upload-pack-request"}
        async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
            return response.status, await response.read()

    status, answer = asyncio.run(post())
    assert status == 200
    assert answer.startswith(b"0008NAK\n")
    assert b"PACK" in answer


# 5. lifecycle: stop kills what runs and frees the port; restarts keep state; errors say what to do

def test_stop_kills_a_hanging_backend_and_frees_the_port(tmp_path: pathlib.Path) -> None:
    server = serving.GitServerThread(tmp_path / "server", shutdown_timeout=0.5).start()
    server.repos.create("fleet")
    port = int(server.url.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port))
    try:
        sock.sendall(hanging_fetch(server.credentials.header()))
        deadline = time.monotonic() + 10
        while not backend_children() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert backend_children(), "the backend never started"
        began = time.monotonic()
        server.stop()
        assert time.monotonic() - began < 5
    finally:
        sock.close()
    assert backend_children() == []
    assert not listening(port)
    with serving.GitServerThread(tmp_path / "server", port=port) as again:
        assert again.url.endswith(f":{port}")


def test_a_backend_that_runs_too_long_is_killed_and_the_answer_cut(tmp_path: pathlib.Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    with serving.GitServerThread(tmp_path / "server", backend_timeout=0.5) as server:
        server.repos.create("fleet")
        began = time.monotonic()
        with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=10) as sock:
            sock.sendall(hanging_fetch(server.credentials.header()))
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
        assert 0.5 <= time.monotonic() - began < 5
        assert answer.startswith(b"HTTP/1.1 200 OK")  # the backend answered its headers before reading the body,
        assert not answer.endswith(b"0\r\n\r\n")        # so the connection is cut: no last chunk
        assert backend_children() == []
    assert "ran longer than 0.5 s for POST /fleet.git/git-upload-pack; it was killed" in caplog.text


def test_restart_keeps_repositories_and_credentials(tmp_path: pathlib.Path, cli: GitCli) -> None:
    with serving.GitServerThread(tmp_path / "server") as first:
        first.repos.create("fleet")
        sha = first.repos.seed("fleet", {"README.md": "x\n"}, "Start")
        password = first.credentials.password
    (tmp_path / "server" / "fleet.git" / "hooks" / "pre-receive").unlink()
    server = serving.GitServerThread(tmp_path / "server")
    server.start()
    server.start()  # idempotent
    try:
        assert server.credentials.password == password
        assert server.repos.names() == ["fleet"]
        assert sha in cli("ls-remote", server.repo_url("fleet")).stdout
        assert (tmp_path / "server" / "fleet.git" / "hooks" / "pre-receive").exists()  # refreshed at start
    finally:
        server.stop()
        server.stop()  # idempotent
    with pytest.raises(errors.GitServerError, match="not running; start"):
        _ = server.url


def test_a_taken_port_is_a_clear_error(git_server: serving.GitServerThread, tmp_path: pathlib.Path) -> None:
    port = int(git_server.url.rsplit(":", 1)[1])
    with pytest.raises(errors.GitServerError, match=f"Port {port} on 127.0.0.1 is taken by another process; "
                                                    f"pass port=0"):
        serving.GitServerThread(tmp_path / "other", port=port).start()


def test_a_missing_git_is_a_clear_error(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without git
    with pytest.raises(errors.GitServerError, match="git is not installed or not on PATH; install it"):
        serving.GitServerThread(tmp_path / "server").start()


def test_a_root_that_cannot_be_a_directory_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(errors.GitServerError, match=r"cannot be created .*; pass a directory you can write to"):
        serving.GitServerThread(tmp_path / "a-file" / "server").start()


def test_the_async_face_in_a_running_loop(tmp_path: pathlib.Path) -> None:
    async def scenario() -> tuple[int, str]:
        server = serving.GitServer(tmp_path / "server")
        await server.start()
        await server.start()
        try:
            server.repos.create("fleet")
            url = server.repo_url("fleet", with_credentials=False) + "/info/refs?service=git-receive-pack"
            async with aiohttp.ClientSession() as session, session.get(
                    url, headers={"Authorization": server.credentials.header()}) as response:
                return response.status, response.headers["Content-Type"]
        finally:
            await server.stop()

    assert asyncio.run(scenario()) == (200, "application/x-git-receive-pack-advertisement")


# the repositories on disk

def test_create_seed_and_list(tmp_path: pathlib.Path) -> None:
    server = serving.GitServer(tmp_path / "server")
    repos = server.repos
    repos.create("fleet")
    with pytest.raises(errors.GitServerError, match="already exists"):
        repos.create("fleet")
    assert repos.create("fleet.git", exist_ok=True) == tmp_path / "server" / "fleet.git"
    repos.create("app", protected=["release/*"])
    assert repos.names() == ["app", "fleet"]
    assert repos.protection("app").protected == ("release/*",)
    assert repos.head("fleet") is None

    first = repos.seed("fleet", {"a.txt": "a\n", "dir/b.txt": "b\n"}, "First", author=AUTHOR)
    assert repos.seed("fleet", {"a.txt": "a\n"}, "Same again") == first
    second = repos.seed("fleet", {"c.txt": "c\n"}, "Second")
    assert repos.head("fleet") == second
    files = subprocess.run(["git", "--git-dir", str(repos.path("fleet")), "ls-tree", "-r", "--name-only", "main"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert files == ["a.txt", "c.txt", "dir/b.txt"]
    config = (repos.path("fleet") / "config").read_text()
    assert "receivepack = true" in config and "autogc = false" in config
    assert (repos.path("fleet") / hooks.POLICY_FILE).exists()
    assert not list((tmp_path / "server").glob(".*creating"))

    repos.delete("fleet")
    assert repos.names() == ["app"] and not repos.path("fleet").exists()
    repos.create("fleet")
    assert repos.head("fleet") is None
    assert sorted(p.name for p in (tmp_path / "server").iterdir()) == ["app.git", "fleet.git"]


@pytest.mark.parametrize(("call", "message"), [
    (lambda repos: repos.seed("ghost", {"a": "a"}, "x"), "There is no repository 'ghost'"),
    (lambda repos: repos.set_protection("ghost", False), "create it with create\\('ghost'\\)"),
    (lambda repos: repos.delete("ghost"), "There is no repository 'ghost'"),
    (lambda repos: repos.seed("fleet", {}, "x"), "needs at least one file"),
    (lambda repos: repos.seed("fleet", {"../x": "x"}, "x"), "not a file path inside a repository"),
    (lambda repos: repos.seed("fleet", {"a": "a"}, "x", author="nobody"), "Name <email>"),
    (lambda repos: repos.create("../escape"), "not a usable repository name"),
])
def test_repository_mistakes_are_lab_errors(tmp_path: pathlib.Path,
                                            call: Callable[[repositories.Repositories], object], message: str) -> None:
    repos = serving.GitServer(tmp_path / "server").repos
    repos.create("fleet")
    with pytest.raises(errors.GitServerError, match=message):
        call(repos)


def test_the_demo_app_tests_pass_in_a_clone(git_server: serving.GitServerThread, tmp_path: pathlib.Path) -> None:
    git_server.repos.create("demo-app")
    git_server.repos.seed("demo-app", demo_app.files("app"), "greeter 1.0.0", author=AUTHOR)
    work = working.WorkingCopy.clone(git_server.repo_url("demo-app"), tmp_path / "app")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                            cwd=work.path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
