"""The server-side hooks of every lab repository: what they do, what they read, how they are installed.

Owns the two hook programs and their inputs:

- ``pre-receive`` reads the repository's protection policy (:data:`POLICY_FILE`, JSON, re-read on every push so a
  policy changes at run time) and refuses a push that touches a protected branch, printing
  :func:`gitops_lab.gitserver.protection.refusal` — git shows it as ``remote:`` lines next to
  ``! [remote rejected] main -> main (pre-receive hook declined)``.
- ``post-receive`` tells the Git server process about the accepted ref updates: one POST to the loopback URL and
  token the server put in the environment of ``git http-backend`` (:data:`ENV_URL`, :data:`ENV_TOKEN`), which
  its hooks inherit. A push that did not come through the server (a local path) has no URL and tells no one.

Installed in ``hooks/`` of a bare repository as tiny POSIX sh scripts that ``exec`` this module with the Python
that installed them (``python -S -P -m gitops_lab.gitserver.hooks <hook>``, the package's directory in
``PYTHONPATH``). Must not reach any address but 127.0.0.1 / ::1, nor import anything heavy: a hook runs on every push.

>>> print(shim("pre-receive", "/usr/bin/python3", "/opt/lab").splitlines()[-1])
exec /usr/bin/python3 -S -P -m gitops_lab.gitserver.hooks pre-receive
"""

from __future__ import annotations

import json
import os
import pathlib
import shlex
import sys
import urllib.parse
from typing import TextIO

from gitops_lab.gitserver import protection, updates

PRE_RECEIVE, POST_RECEIVE = "pre-receive", "post-receive"
HOOKS = (PRE_RECEIVE, POST_RECEIVE)
POLICY_FILE = "gitops-lab-protection.json"
ENV_URL, ENV_TOKEN = "GITOPS_LAB_PUSH_URL", "GITOPS_LAB_PUSH_TOKEN"
TOKEN_HEADER = "X-Gitops-Lab-Token"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def shim(hook: str, python: str, package_parent: str) -> str:
    """The text of the sh script installed as ``hooks/<hook>``."""
    return (f"#!/bin/sh\n"
            f"# gitops-lab {hook} hook: written by gitops_lab.gitserver.hooks whenever the lab's Git server starts.\n"
            f"PYTHONPATH={shlex.quote(package_parent)}${{PYTHONPATH:+:$PYTHONPATH}}\n"
            f"export PYTHONPATH\n"
            f"exec {shlex.quote(python)} -S -P -m gitops_lab.gitserver.hooks {hook}\n")


def install(repo_dir: pathlib.Path) -> None:
    """Write (or refresh) both hooks of a bare repository, executable, pointing at this interpreter."""
    package_parent = str(pathlib.Path(__file__).resolve().parents[2])
    hooks_dir = repo_dir / "hooks"
    hooks_dir.mkdir(exist_ok=True)
    for hook in HOOKS:
        path = hooks_dir / hook
        text = shim(hook, sys.executable, package_parent)
        if not path.exists() or path.read_text() != text:
            tmp = path.with_name(hook + ".tmp")
            tmp.write_text(text)
            tmp.chmod(0o755)
            os.replace(tmp, path)


def read_policy(repo_dir: pathlib.Path) -> protection.Policy:
    """The repository's policy; protect ``main`` when no policy file exists.

    Raises:
        ValueError: the policy file is unreadable or malformed (the pre-receive hook then refuses every push).
    """
    try:
        text = (repo_dir / POLICY_FILE).read_text()
    except FileNotFoundError:
        return protection.Policy()
    except OSError as err:
        raise ValueError(f"cannot read {repo_dir / POLICY_FILE}: {err}") from err
    return protection.Policy.from_json(text)


def write_policy(repo_dir: pathlib.Path, policy: protection.Policy) -> None:
    """Replace the repository's policy atomically; the next push obeys it."""
    tmp = repo_dir / (POLICY_FILE + ".tmp")
    tmp.write_text(policy.to_json())
    os.replace(tmp, repo_dir / POLICY_FILE)


def repo_name(repo_dir: pathlib.Path) -> str:
    name = repo_dir.resolve().name
    return name[:-len(".git")] if name.endswith(".git") else name


def pre_receive(repo_dir: pathlib.Path, stdin: str, err: TextIO) -> int:
    """Exit status of the pre-receive hook: 0 accepts the push, 1 refuses all of it."""
    try:
        policy = read_policy(repo_dir)
    except ValueError as error:
        err.write(f"The branch protection policy of {repo_name(repo_dir)} is broken ({error}); the push is refused "
                  f"until it is fixed with set_protection().\n")
        return 1
    message = protection.refusal(policy, repo_name(repo_dir), updates.parse_updates(stdin))
    if message is None:
        return 0
    err.write(message + "\n")
    return 1


def post_receive(repo_dir: pathlib.Path, stdin: str, env: dict[str, str], err: TextIO) -> int:
    """Tell the server about the accepted updates; a failure only warns (the push has already happened)."""
    url, token = env.get(ENV_URL), env.get(ENV_TOKEN)
    if not url or not token:
        return 0
    target = urllib.parse.urlsplit(url)
    if target.hostname not in LOOPBACK or target.port is None:
        err.write(f"gitops-lab: not notifying {url}: the push URL must be on 127.0.0.1 with a port.\n")
        return 0
    body = {"repo": repo_name(repo_dir), "pusher": env.get("REMOTE_USER", "unknown"),
            "updates": [{"old": u.old, "new": u.new, "ref": u.ref} for u in updates.parse_updates(stdin)]}
    try:
        status = _post(target.hostname, target.port, target.path, token, json.dumps(body).encode())
    except OSError as error:
        status = str(error)
    if status != "204":
        err.write(f"gitops-lab: the push landed but the lab's Git server was not told ({status}); "
                  f"the reconciler will still see it at its next interval.\n")
    return 0


def _post(host: str, port: int, path: str, token: str, body: bytes) -> str:
    """POST ``body`` over one plain HTTP/1.1 connection and return the status code.

    A socket rather than ``urllib.request``: importing that costs a hook about 50 ms, on every push; and imported
    here because the pre-receive hook does not need it.
    """
    import socket

    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{TOKEN_HEADER}: {token}\r\nConnection: close\r\n\r\n")
    with socket.create_connection((host, port), timeout=3.0) as sock:
        sock.sendall(head.encode() + body)
        with sock.makefile("rb") as answer:
            status_line = answer.readline().decode("latin-1").split()
    return status_line[1] if len(status_line) >= 2 else "no answer"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in HOOKS:
        sys.stderr.write(f"usage: python -m gitops_lab.gitserver.hooks {{{'|'.join(HOOKS)}}}\n")
        return 2
    repo_dir = pathlib.Path(os.environ.get("GIT_DIR", ".")).resolve()
    stdin = sys.stdin.read()
    if args[0] == PRE_RECEIVE:
        return pre_receive(repo_dir, stdin, sys.stderr)
    return post_receive(repo_dir, stdin, dict(os.environ), sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
