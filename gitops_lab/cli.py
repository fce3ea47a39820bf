"""The ``gitops-lab`` command: up, down, status, kubeconfig, lab, reset.

Every failure prints one sentence with the next step (``error: …``) and exits 1; nothing prints a traceback.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import sys
import time
from collections.abc import Sequence
from typing import Any

from gitops_lab import cluster, errors, labdir
from gitops_lab import lab as labs
from gitops_lab.options import CORRECTIONS

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"


def _say(message: str) -> None:
    print(f"… {message}", file=sys.stderr, flush=True)


def _up(args: argparse.Namespace) -> int:
    began = time.monotonic()
    state = labs.up(args.lab_dir, cluster=args.cluster, context=args.context, kubeconfig=args.kubeconfig,
                    confirm=args.yes, node_image=args.node_image, git_host=args.git_host, port=args.port,
                    gitops=not args.no_gitops, correction=args.correction, clock_speed=args.clock_speed,
                    progress=_say)
    print(f"The lab is up in {time.monotonic() - began:.1f} s (pid {state.pid}, cluster {state.cluster}).")
    print(f"export KUBECONFIG={state.kubeconfig}")
    return 0


def _down(args: argparse.Namespace) -> int:
    began = time.monotonic()
    labs.down(args.lab_dir, keep_cluster=args.keep_cluster)
    print(f"The lab is down ({time.monotonic() - began:.1f} s).")
    return 0


def _status(args: argparse.Namespace) -> int:
    report = labs.status(args.lab_dir)
    rows = [("COMPONENT", "HEALTH", "ADDRESS", "DETAILS")]
    for name, info in report.items():
        health = "healthy" if info.get("healthy") else "UNHEALTHY"
        rows.append((name, health, str(info.get("url", "")), _details(name, info)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0 if all(info.get("healthy") for info in report.values()) else 2


def _details(name: str, info: dict[str, Any]) -> str:
    if name == "cluster":
        return f"{info.get('provider')} context={info.get('context')} kubeconfig={info.get('kubeconfig')}"
    if name == "git":
        return f"user={info.get('user')} password={info.get('password')} repos={','.join(info.get('repos', []))}"
    if name == "reconciler":
        return (f"enabled={str(info.get('enabled')).lower()} correction={info.get('correction')} "
                f"clock-speed={info.get('clock_speed')}")
    return f"pid={info.get('pid')} since {info.get('started_at')}"


def _kubeconfig(args: argparse.Namespace) -> int:
    state = labs.running(args.lab_dir)
    if state is None:
        raise errors.LabError(f"No lab is running in {labdir.resolve(args.lab_dir)}; start one with "
                              f"`gitops-lab up`.")
    print(state.kubeconfig)
    return 0


def _reset(args: argparse.Namespace) -> int:
    lab = labs.connect(args.lab_dir, start=False)
    began = time.monotonic()
    lab.reset()
    print(f"The lab is back to its seeded state ({time.monotonic() - began:.1f} s).")
    return 0


def _jupyter(args: argparse.Namespace) -> int:
    jupyter = shutil.which("jupyter", path=f"{pathlib.Path(sys.executable).parent}{os.pathsep}"
                                           f"{os.environ.get('PATH', '')}")
    if jupyter is None:
        raise errors.LabError("JupyterLab is not installed; install it with pip install 'gitops-lab[notebooks]' "
                              "and run `gitops-lab lab` again.")
    notebooks = args.notebooks or NOTEBOOKS
    if not notebooks.is_dir():
        raise errors.LabError(f"There is no notebooks directory at {notebooks}; pass --notebooks DIR.")
    if labs.running(args.lab_dir) is None:
        _up(args)
    env = {**os.environ, labdir.ENV_VAR: str(labdir.resolve(args.lab_dir))}
    os.execve(jupyter, [jupyter, "lab", f"--notebook-dir={notebooks}"], env)
    return 0  # not reached


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="gitops-lab", description="Run a GitOps lab: cluster, Git server, CI, "
                                                                 "reconciler.")
    top.add_argument("--lab-dir", default=None,
                     help=f"the lab's directory (default ${labdir.ENV_VAR} or {labdir.DEFAULT_DIR})")
    commands = top.add_subparsers(dest="command", required=True)

    def add_up_options(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--cluster", choices=cluster.NAMES, default="sandbox",
                         help="where the cluster comes from (default: the embedded sandbox)")
        cmd.add_argument("--context", help="kind: the cluster's name; existing: the kubeconfig context")
        cmd.add_argument("--kubeconfig", help="existing: the kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
        cmd.add_argument("--yes", action="store_true", help="existing: use a context that does not look local")
        cmd.add_argument("--node-image", help="kind: the node image, e.g. kindest/node:v1.33.1")
        cmd.add_argument("--git-host", default="127.0.0.1",
                         help="address the Git server binds (kind: one the cluster's nodes can reach)")
        cmd.add_argument("--port", type=int, default=0, help="sandbox: the API server's port (0 picks a free one)")
        cmd.add_argument("--no-gitops", action="store_true",
                         help="start without the GitOps reconciler (the manual and CI/CD chapters)")
        cmd.add_argument("--correction", choices=CORRECTIONS, default="watch",
                         help="correct hand edits as soon as they are seen (watch) or at the next interval, as "
                              "Flux does (interval)")
        cmd.add_argument("--clock-speed", type=float, default=1.0,
                         help="lab seconds per real second for the reconciler's intervals (e.g. 60 for a demo)")

    up = commands.add_parser("up", help="start the lab (in the background)")
    add_up_options(up)
    up.set_defaults(run=_up)
    down = commands.add_parser("down", help="stop the lab")
    down.add_argument("--keep-cluster", action="store_true", help="kind: keep the cluster for the next up")
    down.set_defaults(run=_down)
    commands.add_parser("status", help="each component's health and address").set_defaults(run=_status)
    commands.add_parser("kubeconfig", help="print the kubeconfig path, for export KUBECONFIG=…"
                        ).set_defaults(run=_kubeconfig)
    commands.add_parser("reset", help="back to the seeded state (cluster objects and repositories)"
                        ).set_defaults(run=_reset)
    jupyter = commands.add_parser("lab", help="up, then JupyterLab on the notebooks")
    add_up_options(jupyter)
    jupyter.add_argument("--notebooks", type=pathlib.Path, help="the notebooks' directory")
    jupyter.set_defaults(run=_jupyter)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except errors.LabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; run `gitops-lab status` to see what is running.", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
