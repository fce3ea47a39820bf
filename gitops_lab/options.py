"""How a lab process is asked to run: the options ``up`` passes on and the daemon parses back.

Kept apart from the daemon so the command line and notebooks can start a lab without importing the servers.
"""

from __future__ import annotations

import dataclasses
import pathlib

CLUSTERS = ("sandbox", "kind", "existing")
CORRECTIONS = ("watch", "interval")


@dataclasses.dataclass
class Options:
    lab_dir: pathlib.Path
    cluster: str = "sandbox"
    context: str | None = None
    kubeconfig: str | None = None
    confirm: bool = False
    node_image: str | None = None
    git_host: str = "127.0.0.1"
    port: int = 0
    gitops: bool = True
    correction: str = "watch"
    clock_speed: float = 1.0
    """Lab time per real second for the reconciler's intervals (60: a 1m0s interval lasts one real second)."""

    def argv(self) -> list[str]:
        """The command-line flags that give these options back (for spawning the process)."""
        args = ["--lab-dir", str(self.lab_dir), "--cluster", self.cluster, "--git-host", self.git_host,
                "--port", str(self.port)]
        for flag, value in (("--context", self.context), ("--kubeconfig", self.kubeconfig),
                            ("--node-image", self.node_image)):
            if value:
                args += [flag, value]
        if self.confirm:
            args.append("--yes")
        if not self.gitops:
            args.append("--no-gitops")
        args += ["--correction", self.correction, "--clock-speed", repr(self.clock_speed)]
        return args
