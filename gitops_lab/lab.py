"""The lab as Python sees it: ``up()``, ``down()``, ``connect()`` and the :class:`Lab` handle notebooks use.

Owns starting the lab process (detached, so it outlives the caller and survives a kernel restart), waiting for it
with progress, finding a running one (several kernels share one lab), recovering from a crashed one, and stopping
it. The handle runs the real kubectl against the lab's cluster, gives an official ``kubernetes`` client, and
Git working copies of the lab's repositories. Talks to the lab process only through ``lab.json`` and the control
endpoint.

>>> lab = connect()                                   # doctest: +SKIP
>>> print(lab.kubectl("get", "namespaces"))          # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gitops_lab import control, errors, labdir
from gitops_lab.cluster import base
from gitops_lab.options import Options

if TYPE_CHECKING:
    import pandas as pd

    from gitops_lab.gitserver import working

Progress = Callable[[str], None]
START_TIMEOUT = {"sandbox": 60.0, "existing": 60.0, "kind": 900.0}


def _quiet(message: str) -> None:
    """Progress goes nowhere unless a caller asks for it."""


def running(lab_dir: str | os.PathLike[str] | None = None) -> labdir.LabState | None:
    """The state of the lab running in ``lab_dir``, or None (a stale ``lab.json`` of a dead lab is ignored)."""
    directory = labdir.LabDir(labdir.resolve(lab_dir))
    state = directory.read_state()
    if state is None or not directory.locked():
        return None
    return state if control.healthy(state.control_url) else None


def up(lab_dir: str | os.PathLike[str] | None = None, *, cluster: str = "sandbox", context: str | None = None,
       kubeconfig: str | None = None, confirm: bool = False, node_image: str | None = None,
       git_host: str = "127.0.0.1", port: int = 0, gitops: bool = True, correction: str = "watch",
       clock_speed: float = 1.0, progress: Progress = _quiet) -> labdir.LabState:
    """Start the lab process for ``lab_dir`` and wait until every component is healthy.

    Raises:
        LabError: a lab already runs there, the directory is not writable, or a component failed to start
            (the message is the lab's own, with the next step).
    """
    directory = labdir.LabDir(labdir.resolve(lab_dir))
    directory.ensure()
    if directory.locked():
        state = directory.read_state()
        pid = f" (pid {state.pid})" if state else ""
        raise errors.LabError(f"A lab is already running in {directory.root}{pid}; use `gitops-lab status` to see "
                              f"it or `gitops-lab down` to stop it.")
    stale = directory.read_state()
    if stale is not None:
        progress(f"Recovering from a lab that stopped without cleaning up (pid {stale.pid}) …")
        _end_leftovers(stale)
        directory.clear_state()
    launch = directory.root / "launch.json"
    launch.unlink(missing_ok=True)
    log_offset = directory.log_file.stat().st_size if directory.log_file.exists() else 0
    options = Options(lab_dir=directory.root, cluster=cluster, context=context, kubeconfig=kubeconfig,
                      confirm=confirm, node_image=node_image, git_host=git_host, port=port, gitops=gitops,
                      correction=correction, clock_speed=clock_speed)
    starter = subprocess.run([sys.executable, "-m", "gitops_lab.daemon", *options.argv(), "--detach"],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    if starter.returncode != 0:
        raise errors.LabError(starter.stderr.strip().removeprefix("error: ") or
                              f"The lab process could not start; see {directory.log_file}.")
    return _wait_ready(directory, launch, log_offset, START_TIMEOUT.get(cluster, 60.0), progress)


def _wait_ready(directory: labdir.LabDir, launch: pathlib.Path, log_offset: int, timeout: float,
                progress: Progress) -> labdir.LabState:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log_offset = _echo_progress(directory.log_file, log_offset, progress)
        if launch.exists():
            try:
                outcome = json.loads(launch.read_text())
            except ValueError:
                outcome = None  # being written
            if outcome is not None:
                if outcome.get("error"):
                    # Report only once the failed process is gone, so nothing of it outlives the answer.
                    _wait_unlocked(directory, 10.0)
                    _wait_exited(int(outcome.get("pid") or 0), 10.0)
                    raise errors.LabError(outcome["error"])
                state = directory.read_state()
                if state is not None:
                    _echo_progress(directory.log_file, log_offset, progress)
                    return state
        time.sleep(0.01)
    raise errors.LabError(f"The lab in {directory.root} did not become ready within {timeout:.0f} s; see "
                          f"{directory.log_file}, then run `gitops-lab down` and `gitops-lab up` again.")


def _echo_progress(log_file: pathlib.Path, offset: int, progress: Progress) -> int:
    try:
        with open(log_file, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return offset
    complete, newline, _ = data.rpartition(b"\n")
    for line in complete.decode(errors="replace").splitlines():
        if line.startswith("progress: "):
            progress(line.removeprefix("progress: "))
    return offset + len(complete) + len(newline)


def _end_leftovers(state: labdir.LabState) -> None:
    """Kill what a crashed lab may have left: members of its process group (it led its own session) that are
    still git or lab processes (a pid reused by someone else's program is left alone)."""
    for entry in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            if os.getpgid(int(entry.name)) != state.pid:
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, ValueError):
            continue
        if b"git" in cmdline or b"gitops_lab" in cmdline:
            _signal(int(entry.name), signal.SIGKILL)


def down(lab_dir: str | os.PathLike[str] | None = None, *, keep_cluster: bool = False,
         timeout: float = 30.0) -> None:
    """Stop the lab process and wait until it is gone.

    Raises:
        LabError: no lab runs in ``lab_dir``.
    """
    directory = labdir.LabDir(labdir.resolve(lab_dir))
    state = directory.read_state()
    if not directory.locked():
        if state is not None:
            directory.clear_state()
        raise errors.LabError(f"No lab is running in {directory.root}; start one with `gitops-lab up`.")
    pid = state.pid if state else directory.lock_holder()
    try:
        if state is None:
            raise errors.LabError("no state")
        control.call(state.control_url, state.token, "shutdown", {"keep_cluster": keep_cluster}, timeout=10)
    except errors.LabError:
        if pid:
            _signal(pid, signal.SIGTERM)
    if not _wait_unlocked(directory, timeout):
        if pid:
            _signal(pid, signal.SIGKILL)
        if not _wait_unlocked(directory, 5.0):
            raise errors.LabError(f"The lab process {pid} did not stop; end it with `kill -9 {pid}`.")
    if pid and not _wait_exited(pid, 10.0):
        _signal(pid, signal.SIGKILL)  # it let go of everything but is stuck on its way out
        _wait_exited(pid, 5.0)
    directory.clear_state()


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _exited(pid: int) -> bool:
    """Gone, or a zombie waiting for a parent that is not us (it holds nothing any more)."""
    if pid <= 0:
        return True
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def _wait_exited(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _exited(pid):
            return True
        time.sleep(0.01)
    return False


def _wait_unlocked(directory: labdir.LabDir, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not directory.locked():
            return True
        time.sleep(0.01)
    return False


def status(lab_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Each component's health, address and credentials, as the lab process reports them."""
    state = running(lab_dir)
    if state is None:
        raise errors.LabError(f"No lab is running in {labdir.resolve(lab_dir)}; start one with `gitops-lab up`.")
    result: dict[str, Any] = control.call(state.control_url, state.token, "status")
    return result


def connect(lab_dir: str | os.PathLike[str] | None = None, *, start: bool = True,
            progress: Progress = _quiet, **up_options: Any) -> Lab:
    """The running lab of ``lab_dir`` (starting one if none runs and ``start`` is true)."""
    state = running(lab_dir)
    if state is None:
        if not start:
            raise errors.LabError(f"No lab is running in {labdir.resolve(lab_dir)}; start one with "
                                  f"`gitops-lab up` or connect(start=True).")
        state = up(lab_dir, progress=progress, **up_options)
    return Lab(labdir.LabDir(labdir.resolve(lab_dir)), state)


class Lab:
    """A handle on a running lab; cheap to make, safe to make in several processes at once."""

    def __init__(self, directory: labdir.LabDir, state: labdir.LabState) -> None:
        self.dir = directory
        self.state = state
        self._client: Any = None

    def __repr__(self) -> str:
        return f"<Lab {self.dir.root} cluster={self.state.cluster} pid={self.state.pid}>"

    @property
    def kubeconfig(self) -> pathlib.Path:
        return pathlib.Path(self.state.kubeconfig)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120.0) -> str:
        """Run the real kubectl against the lab's cluster and return what it printed.

        Raises:
            LabError: kubectl exited non-zero (``check``); the message carries its own error output.
        """
        result = subprocess.run([base.kubectl_path(), *args], input=input, capture_output=True, text=True,
                                timeout=timeout, env={**os.environ, "KUBECONFIG": str(self.kubeconfig)})
        if check and result.returncode != 0:
            raise errors.LabError(f"kubectl {' '.join(args)} failed (exit {result.returncode}): "
                                  f"{result.stderr.strip()}")
        return result.stdout + (result.stderr if not check else "")

    @property
    def kubernetes(self) -> Any:
        """An official ``kubernetes`` client ``ApiClient`` for the lab's cluster (made once per handle)."""
        if self._client is None:
            from kubernetes import config
            self._client = config.new_client_from_config(config_file=str(self.kubeconfig))
        return self._client

    def repo_url(self, name: str, *, with_credentials: bool = True) -> str:
        base_url = f"{self.state.git_url}/{name}.git"
        if not with_credentials:
            return base_url
        user, password = (urllib.parse.quote(v, safe="") for v in (self.state.git_user, self.state.git_password))
        return base_url.replace("://", f"://{user}:{password}@", 1)

    def clone(self, repo: str, directory: str | os.PathLike[str] | None = None) -> working.WorkingCopy:
        """A working copy of one of the lab's repositories (default: under the lab's ``work/``, replaced)."""
        from gitops_lab.gitserver import working

        target = pathlib.Path(directory) if directory else self.dir.work_dir / repo
        if directory is None and target.exists():
            import shutil
            shutil.rmtree(target)
        return working.WorkingCopy.clone(self.repo_url(repo), target)

    def protect(self, repo: str, protected: bool | list[str] = True) -> None:
        """Branch protection of one repository: ``True`` protects main, ``False`` allows direct pushes (the manual
        and CI/CD chapters), a list protects those branches."""
        control.call(self.state.control_url, self.state.token, "protect", {"repo": repo, "protected": protected})

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = control.call(self.state.control_url, self.state.token, "status")
        return result

    def pushes(self, repo: str | None = None) -> pd.DataFrame:
        """The pushes the Git server recorded, newest last, as a DataFrame."""
        import pandas as pd

        body = {"repo": repo} if repo else {}
        return pd.DataFrame(control.call(self.state.control_url, self.state.token, "pushes", body))

    # ---- GitOps ----------------------------------------------------------------------------------------
    def timeline(self) -> pd.DataFrame:
        """Every event of the lab so far (pushes, reconciles, drift detected and corrected, …), oldest first.

        Columns are those of :meth:`gitops_lab.drift.timeline.Timeline.events`.
        """
        from gitops_lab.drift import timeline

        return timeline.Timeline(self.dir.root / "timeline.db", readonly=True).events()

    def drift(self) -> pd.DataFrame:
        """Drift samples at a fixed cadence: drifted objects and fields per Kustomization over time."""
        from gitops_lab.drift import timeline

        return timeline.Timeline(self.dir.root / "timeline.db", readonly=True).samples()

    def set_gitops(self, enabled: bool) -> None:
        """Run the reconciler or not (the manual and CI/CD chapters turn it off; the objects stay)."""
        control.call(self.state.control_url, self.state.token, "gitops", {"enabled": enabled}, timeout=120)

    def suspend(self, kustomization: str, namespace: str = "flux-system") -> None:
        """``flux suspend kustomization``: hand edits stay (and are recorded as drift)."""
        self._patch_kustomization(kustomization, namespace, {"spec": {"suspend": True}})

    def resume(self, kustomization: str, namespace: str = "flux-system") -> None:
        """``flux resume kustomization``: reconciling starts again and corrects the drift."""
        self._patch_kustomization(kustomization, namespace, {"spec": {"suspend": False}})

    def reconcile(self, kustomization: str, namespace: str = "flux-system") -> None:
        """``flux reconcile``: ask for a reconcile now (the requestedAt annotation)."""
        import datetime

        now = datetime.datetime.now(datetime.UTC).isoformat()
        self._patch_kustomization(kustomization, namespace,
                                  {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": now}}})

    def _patch_kustomization(self, name: str, namespace: str, patch: dict[str, Any]) -> None:
        self.kubectl("patch", "kustomizations.kustomize.toolkit.fluxcd.io", name, "-n", namespace, "--type",
                     "merge", "-p", json.dumps(patch))

    def reset(self) -> None:
        """Back to the seeded state: a fresh cluster (or the lab's namespaces deleted) and fresh repositories."""
        control.call(self.state.control_url, self.state.token, "reset", {}, timeout=300)
