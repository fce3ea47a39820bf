"""The hook programs, run as functions on a repository directory (git itself runs them in the integration tests)."""

from __future__ import annotations

import http.server
import io
import json
import pathlib
import stat
import sys
import threading
from collections.abc import Iterator

import pytest

from gitops_lab.gitserver import hooks, protection
from gitops_lab.gitserver.updates import ZERO

A = "a" * 40


def test_shim_execs_this_module_with_the_given_python() -> None:
    text = hooks.shim("post-receive", "/opt/my python/bin/python3", "/src dir")
    assert text.startswith("#!/bin/sh\n")
    assert "PYTHONPATH='/src dir'${PYTHONPATH:+:$PYTHONPATH}\nexport PYTHONPATH\n" in text
    assert text.endswith("exec '/opt/my python/bin/python3' -S -P -m gitops_lab.gitserver.hooks post-receive\n")


def test_install_writes_executable_hooks_for_this_interpreter(tmp_path: pathlib.Path) -> None:
    hooks.install(tmp_path)
    for hook in hooks.HOOKS:
        path = tmp_path / "hooks" / hook
        assert stat.S_IMODE(path.stat().st_mode) & 0o111
        assert sys.executable in path.read_text()
    (tmp_path / "hooks" / "pre-receive").write_text("#!/bin/sh\nexit 0\n")
    hooks.install(tmp_path)
    assert "gitops_lab.gitserver.hooks pre-receive" in (tmp_path / "hooks" / "pre-receive").read_text()


def test_policy_file_round_trip_and_default(tmp_path: pathlib.Path) -> None:
    assert hooks.read_policy(tmp_path) == protection.Policy()
    hooks.write_policy(tmp_path, protection.Policy(("release/*",)))
    assert hooks.read_policy(tmp_path).protected == ("release/*",)


def run_pre_receive(repo: pathlib.Path, ref: str) -> tuple[int, str]:
    err = io.StringIO()
    return hooks.pre_receive(repo, f"{ZERO} {A} {ref}\n", err), err.getvalue()


@pytest.mark.parametrize(("protected", "ref", "status"), [
    (True, "refs/heads/main", 1),
    (True, "refs/heads/feature", 0),
    (False, "refs/heads/main", 0),
    (["release/*"], "refs/heads/release/1", 1),
])
def test_pre_receive_follows_the_policy(tmp_path: pathlib.Path, protected: bool | list[str], ref: str,
                                        status: int) -> None:
    repo = tmp_path / "fleet.git"
    repo.mkdir()
    hooks.write_policy(repo, protection.Policy.of(protected))
    code, said = run_pre_receive(repo, ref)
    assert code == status
    assert ("is protected in fleet" in said) is bool(status)


def test_pre_receive_refuses_everything_while_the_policy_is_broken(tmp_path: pathlib.Path) -> None:
    repo = tmp_path / "fleet.git"
    repo.mkdir()
    (repo / hooks.POLICY_FILE).write_text("{broken")
    code, said = run_pre_receive(repo, "refs/heads/feature")
    assert code == 1
    assert "policy of fleet is broken" in said


def test_post_receive_without_a_server_says_nothing(tmp_path: pathlib.Path) -> None:
    err = io.StringIO()
    assert hooks.post_receive(tmp_path, f"{ZERO} {A} refs/heads/x\n", {}, err) == 0
    assert err.getvalue() == ""


def test_post_receive_never_reports_beyond_loopback(tmp_path: pathlib.Path) -> None:
    err = io.StringIO()
    env = {hooks.ENV_URL: "http://192.0.2.1:9/push", hooks.ENV_TOKEN: "t"}
    assert hooks.post_receive(tmp_path, f"{ZERO} {A} refs/heads/x\n", env, err) == 0
    assert "must be on 127.0.0.1 with a port" in err.getvalue()


class Recorder(http.server.BaseHTTPRequestHandler):
    """A stand-in for the Git server's internal endpoint: keeps what it got, answers ``status``."""

    status = 204
    received: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers), body))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[tuple[str, type[Recorder]]]:
    handler = type("Handler", (Recorder,), {"received": []})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/push", handler
    server.shutdown()
    thread.join()
    server.server_close()


def test_post_receive_reports_every_update_with_the_token(tmp_path: pathlib.Path,
                                                          endpoint: tuple[str, type[Recorder]]) -> None:
    url, handler = endpoint
    repo = tmp_path / "fleet.git"
    repo.mkdir()
    err = io.StringIO()
    stdin = f"{ZERO} {A} refs/heads/x\n{A} {ZERO} refs/heads/y\n"
    env = {hooks.ENV_URL: url, hooks.ENV_TOKEN: "tok", "REMOTE_USER": "lab"}
    assert hooks.post_receive(repo, stdin, env, err) == 0
    assert err.getvalue() == ""
    (path, headers, body), = handler.received
    assert path == "/push" and headers[hooks.TOKEN_HEADER] == "tok"
    assert json.loads(body) == {"repo": "fleet", "pusher": "lab", "updates": [
        {"old": ZERO, "new": A, "ref": "refs/heads/x"}, {"old": A, "new": ZERO, "ref": "refs/heads/y"}]}


def test_post_receive_warns_when_the_server_refuses(tmp_path: pathlib.Path,
                                                    endpoint: tuple[str, type[Recorder]]) -> None:
    url, handler = endpoint
    handler.status = 403
    err = io.StringIO()
    assert hooks.post_receive(tmp_path, f"{ZERO} {A} refs/heads/x\n", {hooks.ENV_URL: url, hooks.ENV_TOKEN: "t"},
                              err) == 0
    assert "was not told (403)" in err.getvalue()


def test_post_receive_warns_when_the_server_is_gone(tmp_path: pathlib.Path) -> None:
    err = io.StringIO()
    env = {hooks.ENV_URL: "http://127.0.0.1:9/push", hooks.ENV_TOKEN: "t"}  # port 9 (discard): nobody listens
    assert hooks.post_receive(tmp_path, f"{ZERO} {A} refs/heads/x\n", env, err) == 0
    assert "the push landed but the lab's Git server was not told" in err.getvalue()


@pytest.mark.parametrize("argv", [[], ["update"], ["pre-receive", "extra"]])
def test_main_refuses_unknown_hooks(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert hooks.main(argv) == 2
    assert "usage:" in capsys.readouterr().err
