"""Benchmark of gitops_lab.kube's client against kubectl; prints medians measured in one run.

    python bench/kube_client.py [--rounds 5] [--objects 1000] [--concurrency 16]

Against ``python -m gitops_lab.sandbox`` in a child process (so client and server do not share a GIL), each
round server-side applies the same N ConfigMaps twice with each tool, into namespaces of their own made
beforehand: first into an empty namespace (every object created), then again (every object unchanged). The
client's time includes opening its session and discovery, as kubectl's includes starting and reading its
discovery cache (warm after the first round; HOME is a scratch directory). kubectl runs ``kubectl apply
--server-side -f <dir>`` on a directory of one YAML file per object; the client applies the same objects,
parsed once outside the timing. The order of the tools alternates between rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import yaml

from gitops_lab.kube import client, config

KUBECTL = str(pathlib.Path(sys.executable).parent / "kubectl") if (
    pathlib.Path(sys.executable).parent / "kubectl").exists() else (shutil.which("kubectl") or "kubectl")
MANAGER = "bench"


class Sandbox:
    """``python -m gitops_lab.sandbox`` as a child process, and kubectl pointed at it."""

    def __init__(self, root: pathlib.Path) -> None:
        self.state_dir = root / "sandbox"
        self.home = root / "home"
        self.home.mkdir(parents=True)
        self.proc: subprocess.Popen[str] | None = None

    @property
    def kubeconfig(self) -> pathlib.Path:
        return self.state_dir / "kubeconfig"

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "gitops_lab.sandbox", "--state-dir",
                                      str(self.state_dir)], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "Sandbox serving <url>" once it listens
        if not line.startswith("Sandbox serving"):
            raise SystemExit(f"the sandbox did not start: {line!r}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(20)

    def kubectl(self, *args: str) -> None:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), "HOME": str(self.home),
               "KUBECTL_KUBERC": "false"}
        result = subprocess.run([KUBECTL, *args], env=env, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise SystemExit(f"kubectl {' '.join(args[:3])} failed: {result.stderr[-2000:]}")


def configmaps(n: int) -> list[dict[str, Any]]:
    return [{"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": f"cm-{i:04d}", "labels": {"app": "bench", "index": str(i)}},
             "data": {"index": str(i), "text": "x" * 200}} for i in range(n)]


def write_dir(directory: pathlib.Path, objects: list[dict[str, Any]], namespace: str) -> None:
    directory.mkdir(parents=True)
    for obj in objects:
        body = {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}
        (directory / f"{obj['metadata']['name']}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))


def read_dir(directory: pathlib.Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted(directory.glob("*.yaml"))]


async def client_apply(kubeconfig: pathlib.Path, objects: list[dict[str, Any]], concurrency: int) -> None:
    async with client.Client(config.load(kubeconfig), concurrency=concurrency) as kube:
        await asyncio.gather(*(kube.apply(obj, MANAGER) for obj in objects))


def run_client(kubeconfig: pathlib.Path, objects: list[dict[str, Any]], concurrency: int) -> None:
    asyncio.run(client_apply(kubeconfig, objects, concurrency))


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    root = pathlib.Path(tempfile.mkdtemp(prefix="bench-kube-"))
    sandbox = Sandbox(root)
    sandbox.start()
    objects = configmaps(args.objects)
    times: dict[str, list[float]] = {f"{tool} {phase}": [] for tool in ("client", "kubectl")
                                     for phase in ("create", "unchanged")}
    try:
        for r in range(args.rounds):
            tools = ["client", "kubectl"] if r % 2 == 0 else ["kubectl", "client"]
            for tool in tools:
                namespace = f"{tool}-{r}"
                directory = root / namespace
                write_dir(directory, objects, namespace)
                sandbox.kubectl("create", "namespace", namespace)
                if tool == "kubectl":
                    run: Callable[[], object] = functools.partial(
                        sandbox.kubectl, "apply", "--server-side", f"--field-manager={MANAGER}", "-f",
                        str(directory))
                else:
                    run = functools.partial(run_client, sandbox.kubeconfig, read_dir(directory),
                                            args.concurrency)
                times[f"{tool} create"].append(timed(run))
                times[f"{tool} unchanged"].append(timed(run))
    finally:
        sandbox.stop()
        shutil.rmtree(root, ignore_errors=True)
    med = {key: statistics.median(values) * 1000 for key, values in times.items()}
    print(f"server-side apply of {args.objects} ConfigMaps, sandbox in a child process, medians of "
          f"{args.rounds} rounds (this machine, one run; client concurrency {args.concurrency})")
    for phase in ("create", "unchanged"):
        ratio = med[f"client {phase}"] / med[f"kubectl {phase}"]
        print(f"  {phase:9}  gitops_lab.kube.Client {med[f'client {phase}']:7.0f} ms   "
              f"kubectl apply --server-side {med[f'kubectl {phase}']:7.0f} ms   "
              f"ratio {ratio:.2f} (goal <= 1.0)")


if __name__ == "__main__":
    main()
