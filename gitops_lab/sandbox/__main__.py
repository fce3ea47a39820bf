"""``python -m gitops_lab.sandbox --state-dir DIR``: run a sandbox cluster until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import pathlib
import signal
import sys

from gitops_lab import errors
from gitops_lab.sandbox import server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gitops_lab.sandbox",
                                     description="Run the gitops-lab sandbox Kubernetes API server on 127.0.0.1.")
    parser.add_argument("--state-dir", required=True, type=pathlib.Path,
                        help="directory for the database, certificates and kubeconfig (kept across restarts)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 picks a free one)")
    parser.add_argument("--pod-start-delay", type=float, default=0.5,
                        help="seconds a pod spends creating its containers before it runs")
    args = parser.parse_args(argv)
    settings = server.Settings(port=args.port, pod_start_delay=args.pod_start_delay)
    try:
        asyncio.run(_serve(args.state_dir, settings))
    except errors.LabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


async def _serve(state_dir: pathlib.Path, settings: server.Settings) -> None:
    sandbox = server.SandboxServer(state_dir, settings)
    await sandbox.start()
    print(f"Sandbox serving {sandbox.url}", flush=True)
    print(f"export KUBECONFIG={sandbox.kubeconfig}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
