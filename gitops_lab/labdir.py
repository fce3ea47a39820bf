"""Where a lab lives on disk, and what its running process publishes there.

Owns the layout of one lab directory (default ``~/.gitops-lab``, or ``$GITOPS_LAB_HOME``, or a flag), the state
file the lab process writes once healthy (``lab.json``: pid, control URL and token, cluster, kubeconfig, Git
server), and the lock that says a lab process is alive (an ``flock`` the process holds for its whole life, so a
crashed process, even after ``kill -9``, leaves no lock behind). Must not start processes or servers.

>>> layout = LabDir("/tmp/example-lab")
>>> layout.state_file.name, layout.sandbox_dir.name
('lab.json', 'sandbox')
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import pathlib
from typing import IO, Any

from gitops_lab import errors

ENV_VAR = "GITOPS_LAB_HOME"
DEFAULT_DIR = "~/.gitops-lab"


def resolve(lab_dir: str | os.PathLike[str] | None = None) -> pathlib.Path:
    """The lab directory: the argument if given, else ``$GITOPS_LAB_HOME``, else ``~/.gitops-lab``."""
    chosen = lab_dir if lab_dir is not None else os.environ.get(ENV_VAR) or DEFAULT_DIR
    return pathlib.Path(chosen).expanduser().resolve()


@dataclasses.dataclass
class LabState:
    """What a running lab process tells its clients (the content of ``lab.json``)."""

    pid: int
    control_url: str
    token: str
    cluster: str
    kubeconfig: str
    context: str
    git_url: str
    git_user: str
    git_password: str
    started_at: str
    components: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> LabState:
        data = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class LabDir:
    """The files of one lab."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = pathlib.Path(root)

    state_file = property(lambda self: self.root / "lab.json")
    lock_file = property(lambda self: self.root / "lab.lock")
    log_file = property(lambda self: self.root / "lab.log")
    sandbox_dir = property(lambda self: self.root / "sandbox")
    git_dir = property(lambda self: self.root / "git")
    work_dir = property(lambda self: self.root / "work")
    cluster_dir = property(lambda self: self.root / "cluster")

    def ensure(self) -> None:
        """Create the directory, or say why it cannot be used."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as err:
            raise errors.LabError(f"The lab directory {self.root} is not writable ({err.strerror}); pass "
                                  f"--lab-dir with a writable directory or set {ENV_VAR}.") from err

    # ---- the state file --------------------------------------------------------------------------------
    def read_state(self) -> LabState | None:
        try:
            return LabState.from_json(self.state_file.read_text())
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):
            return None  # a half-written or foreign file: treated as no lab

    def write_state(self, state: LabState) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(state.to_json())
        os.replace(tmp, self.state_file)

    def clear_state(self) -> None:
        self.state_file.unlink(missing_ok=True)

    # ---- the lock --------------------------------------------------------------------------------------
    def acquire(self) -> IO[str]:
        """Take the lab lock for this process's lifetime; raise if a live lab process holds it."""
        self.ensure()
        handle = open(self.lock_file, "a+")  # noqa: SIM115 (held open on purpose until the process ends)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            state = self.read_state()
            pid = f" (pid {state.pid})" if state else ""
            raise errors.LabError(f"A lab is already running in {self.root}{pid}; use `gitops-lab status` to see "
                                  f"it or `gitops-lab down` to stop it.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def locked(self) -> bool:
        """Whether a live process holds the lab lock."""
        if not self.lock_file.exists():
            return False
        with open(self.lock_file) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False

    def lock_holder(self) -> int | None:
        """The pid written into the lock file by the process that holds (or last held) it."""
        try:
            return int(self.lock_file.read_text().strip() or 0) or None
        except (FileNotFoundError, ValueError):
            return None
