"""Benchmark of the lab's Git server; prints medians of clone and push times measured in one run.

    python bench/git_server.py [--runs 20]

Against a :class:`gitops_lab.gitserver.serving.GitServerThread` on 127.0.0.1 holding the demo fleet repository,
with the real git CLI: ``git clone`` over HTTP and ``git push`` of a one-file commit to a branch (hooks included:
branch protection and the push report), each next to the same operation over ``file://`` (the same hooks, no HTTP)
so the cost of the HTTP layer shows; the delay from ``git push`` returning to the server's push event (negative:
the event came first); and the same clone and push through GitPython (:class:`WorkingCopy`), as notebooks do.
"""

from __future__ import annotations

import argparse
import functools
import os
import pathlib
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable

from gitops_lab import demo_app
from gitops_lab.gitserver import events, serving, working

ENV = {"PATH": os.environ["PATH"], "LC_ALL": "C", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
       "GIT_TERMINAL_PROMPT": "0", "NO_PROXY": "127.0.0.1,localhost", "GIT_AUTHOR_NAME": "Bench",
       "GIT_AUTHOR_EMAIL": "bench@gitops-lab.local", "GIT_COMMITTER_NAME": "Bench",
       "GIT_COMMITTER_EMAIL": "bench@gitops-lab.local"}


def git(*args: str, cwd: pathlib.Path | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, env={**ENV, "HOME": str(cwd or pathlib.Path.cwd())}, check=True,
                   capture_output=True, timeout=120)


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000


def clone_times(url: str, scratch: pathlib.Path, runs: int) -> list[float]:
    times = []
    for i in range(runs):
        target = scratch / f"clone-{i}"
        times.append(timed(functools.partial(git, "clone", "--quiet", url, str(target))))
        shutil.rmtree(target)
    return times


def push_times(url: str, work: pathlib.Path, branch: str, runs: int) -> list[float]:
    git("clone", "--quiet", url, str(work))
    (work / "bench.txt").write_text("start\n")
    git("add", "bench.txt", cwd=work)
    times = []
    for i in range(runs):
        (work / "bench.txt").write_text(f"{i}\n")
        git("commit", "--quiet", "--all", "-m", f"bench {i}", cwd=work)
        times.append(timed(lambda: git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", cwd=work)))
    return times


def event_delays(server: serving.GitServerThread, work: pathlib.Path, runs: int) -> list[float]:
    """Milliseconds from ``git push`` returning to the server's push event (negative: the event came first)."""
    heard: list[float] = []
    arrived = threading.Event()

    def on_push(event: events.PushEvent) -> None:
        heard.append(time.perf_counter())
        arrived.set()

    unsubscribe = server.on_push(on_push)
    delays = []
    for i in range(runs):
        (work / "bench.txt").write_text(f"event {i}\n")
        git("commit", "--quiet", "--all", "-m", f"event {i}", cwd=work)
        arrived.clear()
        git("push", "--quiet", "origin", "HEAD:refs/heads/events", cwd=work)
        returned = time.perf_counter()
        if not arrived.wait(5):
            raise SystemExit("the push event never arrived")
        delays.append((heard[-1] - returned) * 1000)
    unsubscribe()
    return delays


def gitpython_times(url: str, scratch: pathlib.Path, runs: int) -> tuple[list[float], list[float]]:
    clones, pushes = [], []
    for i in range(runs):
        target = scratch / f"gp-{i}"
        clones.append(timed(functools.partial(working.WorkingCopy.clone, url, target)))
        shutil.rmtree(target)
    copy = working.WorkingCopy.clone(url, scratch / "gp-work")
    copy.create_branch("gitpython")
    for i in range(runs):
        copy.write("bench.txt", f"gitpython {i}\n")
        copy.commit(f"gitpython {i}")
        pushes.append(timed(copy.push))
    return clones, pushes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="bench-git-"))
    try:
        with serving.GitServerThread(scratch / "server") as server:
            server.repos.create("fleet")
            server.repos.seed("fleet", demo_app.files("fleet"), "Describe the fleet")
            http_url, file_url = server.repo_url("fleet"), server.repos.path("fleet").resolve().as_uri()
            http_clone = clone_times(http_url, scratch, args.runs)
            file_clone = clone_times(file_url, scratch, args.runs)
            http_push = push_times(http_url, scratch / "push-http", "bench-http", args.runs)
            file_push = push_times(file_url, scratch / "push-file", "bench-file", args.runs)
            delays = event_delays(server, scratch / "push-http", args.runs)
            gp_clone, gp_push = gitpython_times(http_url, scratch, args.runs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    def line(label: str, times: list[float]) -> str:
        return f"  {label:<44} {statistics.median(times):7.1f} ms   (min {min(times):.1f}, max {max(times):.1f})"

    files = len(demo_app.files("fleet"))
    print(f"Git server benchmark (medians of {args.runs} runs; this machine, one run; repo: demo fleet, {files} files)")
    print(line("git clone over HTTP (auth, http-backend)", http_clone))
    print(line("git clone over file:// (no HTTP)", file_clone))
    print(line("git push of one commit over HTTP (hooks)", http_push))
    print(line("git push of one commit over file:// (hooks)", file_push))
    print(line("push event after git push returned", delays))
    print(line("WorkingCopy.clone (GitPython, HTTP)", gp_clone))
    print(line("WorkingCopy.push (GitPython, HTTP)", gp_push))


if __name__ == "__main__":
    main()
