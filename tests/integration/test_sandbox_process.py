"""The sandbox as a process: durability across restarts and kill -9, authentication, loopback only, kubeconfig."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import ssl
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator

import psutil
import pytest
import yaml

from tests.integration.conftest import Kubectl


class SandboxProcess:
    """``python -m gitops_lab.sandbox`` in a child process; ready once it prints its URL."""

    def __init__(self, state_dir: pathlib.Path) -> None:
        self.state_dir = state_dir
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> SandboxProcess:
        self.proc = subprocess.Popen([sys.executable, "-m", "gitops_lab.sandbox", "--state-dir", str(self.state_dir)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until the server listens (or the process dies)
        assert line.startswith("Sandbox serving "), f"unexpected first line {line!r}; stderr: {self._stderr()}"
        self.url = line.split()[-1]
        return self

    def _stderr(self) -> str:
        if self.proc is None or self.proc.poll() is None:
            return ""
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def process(tmp_path: pathlib.Path) -> Iterator[SandboxProcess]:
    proc = SandboxProcess(tmp_path / "state")
    yield proc
    proc.stop()


def _kubectl(proc: SandboxProcess, tmp_path: pathlib.Path) -> Kubectl:
    return Kubectl(proc.state_dir / "kubeconfig", tmp_path)


def test_writes_survive_a_clean_restart(process: SandboxProcess, tmp_path: pathlib.Path) -> None:
    process.start()
    kubectl = _kubectl(process, tmp_path)
    kubectl("create", "configmap", "kept", "--from-literal=colour=blue")
    rv_before = json.loads(kubectl("get", "configmap", "kept", "-o", "json").stdout)["metadata"]["resourceVersion"]
    process.stop()
    process.start()
    kept = json.loads(kubectl("get", "configmap", "kept", "-o", "json").stdout)
    assert kept["data"] == {"colour": "blue"}
    assert kept["metadata"]["resourceVersion"] == rv_before
    kubectl("create", "configmap", "after")
    after = json.loads(kubectl("get", "configmap", "after", "-o", "json").stdout)
    assert int(after["metadata"]["resourceVersion"]) > int(rv_before), "resourceVersion must stay monotonic"


def test_acknowledged_writes_survive_kill_9(process: SandboxProcess, tmp_path: pathlib.Path) -> None:
    process.start()
    kubectl = _kubectl(process, tmp_path)
    for round_ in range(3):
        name = f"acked-{round_}"
        kubectl("create", "configmap", name, f"--from-literal=round={round_}")
        process.kill9()  # right after the acknowledged write
        process.start()
        got = json.loads(kubectl("get", "configmap", name, "-o", "json").stdout)
        assert got["data"] == {"round": str(round_)}
    names = kubectl("get", "configmaps", "-o", "name").stdout.split()
    assert {"configmap/acked-0", "configmap/acked-1", "configmap/acked-2"} <= set(names)


def _request(url: str, token: str | None, ca: pathlib.Path) -> tuple[int, dict[str, object]]:
    context = ssl.create_default_context(cafile=str(ca))
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_token_is_required_and_checked(process: SandboxProcess) -> None:
    process.start()
    ca = process.state_dir / "pki" / "ca.crt"
    token = (process.state_dir / "pki" / "token").read_text().strip()
    url = process.url + "/api/v1/namespaces"
    assert _request(url, token, ca)[0] == 200
    for bad in (None, "wrong-token", token + "x"):
        code, body = _request(url, bad, ca)
        assert code == 401
        assert body["kind"] == "Status" and body["reason"] == "Unauthorized" and body["code"] == 401


def test_listens_on_loopback_only_and_kubeconfig_is_private(process: SandboxProcess) -> None:
    process.start()
    assert process.proc is not None
    listening = [c for c in psutil.Process(process.proc.pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN]
    assert listening, "the sandbox should listen on a port"
    assert all(c.laddr.ip == "127.0.0.1" for c in listening), listening
    kubeconfig = process.state_dir / "kubeconfig"
    assert stat.S_IMODE(os.stat(kubeconfig).st_mode) == 0o600
    config = yaml.safe_load(kubeconfig.read_text())
    assert config["current-context"] == "gitops-lab"
    assert config["clusters"][0]["cluster"]["server"] == process.url
    assert process.url.startswith("https://127.0.0.1:")
