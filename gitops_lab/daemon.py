"""The lab process: one per lab directory, owning the cluster provider, the Git server and the control endpoint.

``python -m gitops_lab.daemon --lab-dir DIR [--cluster sandbox|kind|existing] [--detach]`` runs it; ``gitops-lab up``
and ``gitops_lab.connect()`` start it detached. It holds the lab lock for its whole life, publishes ``lab.json``
once every component is healthy, logs one ``progress:`` line per slow step to ``lab.log`` (which ``up`` echoes),
and on SIGTERM, SIGINT or a ``shutdown`` call stops everything in reverse order and removes ``lab.json``. A
failure before it is ready is written to ``launch.json`` for the waiting ``up`` to report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import logging
import os
import pathlib
import secrets
import signal
import sys
from typing import TYPE_CHECKING, Any

from gitops_lab import clock as clocks
from gitops_lab import cluster, control, demo_app, errors, labdir
from gitops_lab.cluster import base
from gitops_lab.drift import timeline
from gitops_lab.gitserver import authors, events, serving

if TYPE_CHECKING:
    from gitops_lab.gitops import reconciling
    from gitops_lab.kube import client as kube
from gitops_lab.options import CORRECTIONS, Options

log = logging.getLogger("gitops_lab.daemon")
SEEDED_REPOS = ("app", "fleet")


def progress(message: str) -> None:
    print(f"progress: {message}", flush=True)


class LabProcess:
    """Everything one lab runs, with one lifecycle."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.dir = labdir.LabDir(options.lab_dir)
        self.provider: base.Provider = cluster.make(options.cluster, self.dir.cluster_dir, context=options.context,
                                                    kubeconfig=options.kubeconfig, confirm=options.confirm,
                                                    node_image=options.node_image, port=options.port)
        self.git = serving.GitServer(self.dir.git_dir, host=options.git_host)
        self.token = secrets.token_urlsafe(32)
        self.control = control.ControlServer(self.token, {
            "status": self._status, "pushes": self._pushes, "reset": self._reset, "shutdown": self._shutdown,
            "gitops": self._gitops, "protect": self._protect})
        self.timeline = timeline.Timeline(self.dir.root / "timeline.db")
        self.kube: kube.Client | None = None
        self.reconciler: reconciling.Reconciler | None = None
        self.stopping = asyncio.Event()
        self.ready = asyncio.Event()
        self.keep_cluster = False
        self.started_at = ""

    async def run(self) -> None:
        try:
            await self._start()
            await self.stopping.wait()
        finally:
            self.dir.clear_state()
            await self._stop()

    async def _start(self) -> None:
        await self.provider.start(progress)
        await self._register_images()
        progress("Starting the Git server …")
        await self.git.start()
        await asyncio.to_thread(self._seed)
        self.git.on_push(self._on_push)
        if self.options.gitops:
            await self._enable_gitops()
        await self.control.start()
        self.started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        creds = self.git.credentials
        self.dir.write_state(labdir.LabState(
            pid=os.getpid(), control_url=self.control.url, token=self.token, cluster=self.provider.name,
            kubeconfig=str(self.provider.kubeconfig), context=self.provider.context, git_url=self.git.url,
            git_user=creds.username, git_password=creds.password, started_at=self.started_at,
            components=await self._status({})))
        self.ready.set()
        progress("The lab is ready.")

    async def _stop(self) -> None:
        for name, stop in (("control endpoint", self.control.stop), ("reconciler", self._disable_gitops),
                           ("Git server", self.git.stop),
                           ("cluster", lambda: self.provider.stop(keep=self.keep_cluster))):
            try:
                await stop()
            except Exception:
                log.exception("Stopping the %s failed", name)
        self.timeline.close()

    async def _register_images(self) -> None:
        """The demo app's image must be pullable where the cluster is the sandbox (no registry behind it)."""
        add_image = getattr(self.provider, "add_image", None)
        if add_image is not None:
            await add_image(demo_app.IMAGE, demo_app.LOG_LINES)

    def _seed(self, force: bool = False) -> None:
        """The repositories a new lab starts with: the demo app and its fleet, main protected."""
        for name in SEEDED_REPOS:
            if force and self.git.repos.exists(name):
                self.git.repos.delete(name)
            if not self.git.repos.exists(name):
                self.git.repos.create(name, protected=True)
                self.git.repos.seed(name, demo_app.files(name), f"Start the {name} repository",
                                    author=authors.LAB)

    # ---- GitOps ----------------------------------------------------------------------------------------
    async def _enable_gitops(self) -> None:
        """Install Flux's API and the lab's Flux objects into the cluster, then run the reconciler."""
        if self.reconciler is not None:
            return
        from gitops_lab.gitops import bootstrapping, reconciling, sources
        from gitops_lab.kube import client as kube_client
        from gitops_lab.kube import config as kube_config

        progress("Starting the GitOps reconciler …")
        self.kube = kube_client.Client(kube_config.load(self.provider.kubeconfig))
        await self.kube.__aenter__()
        creds = self.git.credentials
        await bootstrapping.install(self.kube, self.git.repo_url("fleet", with_credentials=False), creds.username,
                                    creds.password)
        fetcher = sources.GitSource(self.dir.root / "gitops")
        clock = clocks.ScaledClock(self.options.clock_speed) if self.options.clock_speed != 1.0 else None
        self.reconciler = reconciling.Reconciler(self.kube, fetcher, self.timeline, clock,
                                                 settings=reconciling.Settings(correction=self.options.correction))
        await self.reconciler.start()

    async def _disable_gitops(self) -> None:
        reconciler, client = self.reconciler, self.kube
        self.reconciler = self.kube = None
        if reconciler is not None:
            await reconciler.stop()
        if client is not None:
            await client.__aexit__(None, None, None)

    def _on_push(self, event: events.PushEvent) -> None:
        self.timeline.record("push", message=f"{event.repo} {event.ref} {event.old[:7]}..{event.new[:7]} by "
                                             f"{event.pusher}", revision=f"{event.branch}@sha1:{event.new}",
                             details={"repo": event.repo, "ref": event.ref})
        if self.reconciler is not None:
            self.reconciler.notify_push(event.repo, event.branch)

    # ---- control calls ---------------------------------------------------------------------------------
    async def _status(self, body: dict[str, Any]) -> dict[str, Any]:
        creds = self.git.credentials
        return {
            "cluster": {"provider": self.provider.name, "url": self.provider.url, "context": self.provider.context,
                        "kubeconfig": str(self.provider.kubeconfig), "healthy": await self.provider.healthy()},
            "git": {"url": self.git.url if self.git.running else "", "user": creds.username,
                    "password": creds.password, "repos": self.git.repos.names(), "healthy": self.git.running},
            "control": {"url": self.control.url, "pid": os.getpid(), "started_at": self.started_at,
                        "healthy": True},
            "reconciler": {"url": "", "enabled": self.reconciler is not None, "healthy": True,
                           "correction": self.options.correction, "clock_speed": self.options.clock_speed},
        }

    async def _pushes(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [_push_json(event) for event in self.git.pushes.recent(body.get("repo"))]

    async def _reset(self, body: dict[str, Any]) -> dict[str, Any]:
        running = self.reconciler is not None
        await self._disable_gitops()
        await self.provider.reset(progress)
        await self._register_images()
        await asyncio.to_thread(self._seed, True)
        self.timeline.record("reset", message="the lab went back to its seeded state")
        if running:
            await self._enable_gitops()
        return await self._status({})

    async def _protect(self, body: dict[str, Any]) -> dict[str, Any]:
        """Set a repository's branch protection (True: main; a list: those branches; False: none)."""
        repo = str(body.get("repo", ""))
        protected = body.get("protected", True)
        if not isinstance(protected, bool | list):
            raise errors.LabError(f"protected must be true, false or a list of branches, not {protected!r}.")
        await asyncio.to_thread(self.git.repos.set_protection, repo, protected)
        return {"repo": repo, "protected": protected}

    async def _gitops(self, body: dict[str, Any]) -> dict[str, Any]:
        """Turn the reconciler on or off (the manual and CI/CD chapters run without it)."""
        if body.get("enabled", True):
            await self._enable_gitops()
        else:
            await self._disable_gitops()
        return {"enabled": self.reconciler is not None}

    async def _shutdown(self, body: dict[str, Any]) -> dict[str, Any]:
        self.keep_cluster = bool(body.get("keep_cluster"))
        self.stopping.set()
        return {"stopping": True}


def _push_json(event: events.PushEvent) -> dict[str, Any]:
    return {"repo": event.repo, "ref": event.ref, "branch": event.branch, "old": event.old, "new": event.new,
            "pusher": event.pusher, "at": event.at.isoformat()}


def _parse(argv: list[str] | None) -> tuple[Options, bool]:
    parser = argparse.ArgumentParser(prog="python -m gitops_lab.daemon", description="Run one lab's process.")
    parser.add_argument("--lab-dir", required=True, type=pathlib.Path)
    parser.add_argument("--cluster", default="sandbox", choices=cluster.NAMES)
    parser.add_argument("--context")
    parser.add_argument("--kubeconfig")
    parser.add_argument("--node-image")
    parser.add_argument("--git-host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--yes", action="store_true", help="use an existing context that does not look local")
    parser.add_argument("--no-gitops", action="store_true", help="start without the GitOps reconciler")
    parser.add_argument("--correction", choices=CORRECTIONS, default="watch")
    parser.add_argument("--clock-speed", type=float, default=1.0)
    parser.add_argument("--detach", action="store_true", help="fork into the background first")
    args = parser.parse_args(argv)
    if args.clock_speed <= 0:
        parser.error(f"--clock-speed must be positive, not {args.clock_speed}")
    options = Options(lab_dir=args.lab_dir.resolve(), cluster=args.cluster, context=args.context,
                      kubeconfig=args.kubeconfig, confirm=args.yes, node_image=args.node_image,
                      git_host=args.git_host, port=args.port, gitops=not args.no_gitops,
                      correction=args.correction, clock_speed=args.clock_speed)
    return options, args.detach


def _detach(log_file: pathlib.Path) -> None:
    """Become a background process of its own session (the parent returns at once, so nobody must reap us)."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    out = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)


def _report_launch(directory: labdir.LabDir, error: str | None) -> None:
    path = directory.root / "launch.json"
    path.write_text(json.dumps({"pid": os.getpid(), "error": error}))


def main(argv: list[str] | None = None) -> int:
    options, detach = _parse(argv)
    directory = labdir.LabDir(options.lab_dir)
    try:
        directory.ensure()
    except errors.LabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if detach:
        _detach(directory.log_file)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        lock = directory.acquire()
    except errors.LabError as err:
        _report_launch(directory, str(err))
        print(f"error: {err}", flush=True)
        return 1
    try:
        directory.clear_state()
        return asyncio.run(_serve(options, directory))
    finally:
        lock.close()


async def _serve(options: Options, directory: labdir.LabDir) -> int:
    try:
        process = LabProcess(options)
    except errors.LabError as err:
        _report_launch(directory, str(err))
        print(f"error: {err}", flush=True)
        return 1
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, process.stopping.set)
    running = asyncio.create_task(process.run())
    ready = asyncio.create_task(process.ready.wait())
    try:
        await asyncio.wait([running, ready], return_when=asyncio.FIRST_COMPLETED)
        if process.ready.is_set():
            _report_launch(directory, None)
        await running
    except errors.LabError as err:
        _report_launch(directory, str(err))
        print(f"error: {err}", flush=True)
        return 1
    except Exception as err:
        log.exception("The lab process failed")
        _report_launch(directory, f"The lab process failed: {err}; see {directory.log_file}.")
        return 1
    finally:
        for task in (running, ready):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
    return 0


if __name__ == "__main__":
    sys.exit(main())
