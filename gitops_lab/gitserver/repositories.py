"""The bare repositories of one Git server directory: naming, creating, listing, seeding and protecting them.

Owns the layout (``<root>/<name>.git``, each with ``http.receivepack=true``, ``receive.autogc=false`` so no
detached ``git gc`` outlives a push, the lab's hooks and a protection policy) and :class:`Repositories`, the
operations that work on the directory directly — no HTTP, no running server needed. Runs git as child processes
(argument lists, timeouts, stderr in the error) with the user's and the system's git config shut out, so the same
lab behaves the same on every machine.

>>> import tempfile
>>> repos = Repositories(pathlib.Path(tempfile.mkdtemp()))
>>> _ = repos.create("fleet")
>>> len(repos.seed("fleet", {"README.md": "# Fleet\\n"}, "Start the fleet"))
40
>>> repos.names()
['fleet']
"""

from __future__ import annotations

import os
import pathlib
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping

from gitops_lab import errors
from gitops_lab.gitserver import authors, hooks, protection, updates

DEFAULT_BRANCH = "main"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
GIT_TIMEOUT = 60.0


def check_name(name: str) -> str:
    """A repository name without its ``.git`` suffix, checked to be a safe single path segment.

    Raises:
        GitServerError: the name is empty, too long, or has characters other than letters, digits, ``.``, ``_``, ``-``.

    >>> check_name("fleet.git")
    'fleet'
    """
    bare = name[:-len(".git")] if name.endswith(".git") else name
    if not _NAME.match(bare) or bare.endswith(".") or ".." in bare:
        raise errors.GitServerError(f"{name!r} is not a usable repository name; use letters, digits, '.', '_' "
                                    f"and '-', starting with a letter or digit, e.g. 'fleet'.")
    return bare


def check_path(path: str) -> str:
    """A file path inside a repository: relative, ``/``-separated, no ``..`` and no ``.git`` part.

    Raises:
        GitServerError: the path would leave the repository or touch git's own files.

    >>> check_path("envs/test/kustomization.yaml")
    'envs/test/kustomization.yaml'
    """
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or any(p in ("", ".", "..", ".git") for p in parts):
        raise errors.GitServerError(f"{path!r} is not a file path inside a repository; use a relative path "
                                    f"such as 'envs/test/deployment.yaml'.")
    return path


def isolated_env(**extra: str) -> dict[str, str]:
    """The environment git children run with: PATH and HOME only from ours, no user or system git config."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "TMPDIR") if key in os.environ}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, LC_ALL="C", GIT_TERMINAL_PROMPT="0")
    env.update(extra)
    return env


def run_git(args: list[str], *, env: Mapping[str, str] | None = None, input: str | None = None,
            check: bool = True, timeout: float = GIT_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run ``git <args>`` and return the finished process.

    Raises:
        GitServerError: git is missing, timed out, or (with ``check``) exited non-zero — with its stderr.
    """
    try:
        result = subprocess.run(["git", *args], env=dict(env) if env is not None else isolated_env(), input=input,
                                capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as err:
        raise errors.GitServerError("git is not installed or not on PATH; install it (e.g. apt-get install git) "
                                    "and try again.") from err
    except subprocess.TimeoutExpired as err:
        raise errors.GitServerError(f"git {' '.join(args[:2])} did not finish within {timeout} s; "
                                    f"check the disk and try again.") from err
    if check and result.returncode != 0:
        raise errors.GitServerError(f"git {' '.join(args[:2])} failed with exit code {result.returncode}: "
                                    f"{result.stderr.strip() or result.stdout.strip()}")
    return result


class Repositories:
    """The bare repositories under ``root``; safe to use whether or not a server is serving them."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = pathlib.Path(root)

    def path(self, name: str) -> pathlib.Path:
        return self.root / f"{check_name(name)}.git"

    def exists(self, name: str) -> bool:
        return (self.path(name) / "HEAD").is_file()

    def require(self, name: str) -> pathlib.Path:
        """The path of an existing repository.

        Raises:
            GitServerError: there is no such repository.
        """
        if not self.exists(name):
            known = ", ".join(self.names()) or "none yet"
            raise errors.GitServerError(f"There is no repository {name!r} on the lab's Git server (it has: "
                                        f"{known}); create it with create({name!r}).")
        return self.path(name)

    def names(self) -> list[str]:
        """The repositories' names, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name[:-len(".git")] for p in self.root.glob("*.git") if (p / "HEAD").is_file())

    def create(self, name: str, *, protected: bool | Iterable[str] = True, exist_ok: bool = False) -> pathlib.Path:
        """Make an empty bare repository with the lab's config, hooks and protection policy.

        Args:
            name: letters, digits, ``.``, ``_``, ``-``; a ``.git`` suffix is dropped.
            protected: see :meth:`set_protection`; ``main`` is protected by default.
            exist_ok: return an existing repository (with its hooks refreshed) instead of raising.

        Raises:
            GitServerError: the repository exists (and not ``exist_ok``), or the directory is not writable.
        """
        path = self.path(name)
        if path.exists():
            if exist_ok and self.exists(name):
                hooks.install(path)
                return path
            raise errors.GitServerError(f"A repository named {check_name(name)!r} already exists in {self.root}; "
                                        f"pick another name or use the existing one.")
        building = self.root / f".{check_name(name)}.{secrets.token_hex(4)}.creating"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            run_git(["init", "--bare", "--quiet", "--template=", f"--initial-branch={DEFAULT_BRANCH}",
                     str(building)])
            for key, value in (("http.receivepack", "true"), ("receive.autogc", "false")):
                run_git(["config", "--file", str(building / "config"), key, value])
            hooks.install(building)
            hooks.write_policy(building, protection.Policy.of(protected))
            os.rename(building, path)
        except OSError as err:
            shutil.rmtree(building, ignore_errors=True)
            raise errors.GitServerError(f"The Git server's directory {self.root} is not writable ({err}); "
                                        f"pass a directory you can write to.") from err
        except errors.GitServerError:
            shutil.rmtree(building, ignore_errors=True)
            raise
        return path

    def delete(self, name: str) -> None:
        """Remove a repository and all its history (a lab reset re-creates and re-seeds it).

        Raises:
            GitServerError: there is no such repository.
        """
        path = self.require(name)
        doomed = self.root / f".{check_name(name)}.{secrets.token_hex(4)}.deleting"
        os.rename(path, doomed)  # gone from the server at once, even while the files are being removed
        shutil.rmtree(doomed)

    def refresh_hooks(self) -> None:
        """Rewrite every repository's hooks for this interpreter (a server does this when it starts)."""
        for name in self.names():
            hooks.install(self.path(name))

    def set_protection(self, name: str, protected: bool | Iterable[str]) -> None:
        """Choose the branches that refuse direct pushes; the next push obeys.

        Args:
            protected: ``True`` for ``main``, ``False`` for none, or a list of branch names and patterns.
        """
        hooks.write_policy(self.require(name), protection.Policy.of(protected))

    def protection(self, name: str) -> protection.Policy:
        try:
            return hooks.read_policy(self.require(name))
        except ValueError as err:
            raise errors.GitServerError(f"The protection policy of {name!r} is broken ({err}); "
                                        f"replace it with set_protection({name!r}, True).") from err

    def head(self, name: str, branch: str = DEFAULT_BRANCH) -> str | None:
        """The commit a branch points at, or None if the branch does not exist (yet)."""
        result = run_git(["--git-dir", str(self.require(name)), "rev-parse", "--verify", "--quiet",
                          f"refs/heads/{branch}^{{commit}}"], check=False)
        return result.stdout.strip() or None

    def seed(self, name: str, files: Mapping[str, str], message: str,
             author: str | authors.Author = authors.LAB, branch: str = DEFAULT_BRANCH) -> str:
        """Commit ``files`` onto ``branch`` directly in the bare repository, bypassing HTTP and the hooks.

        The files are added to (or replace files in) the branch's current tree; other files stay. Seeding the same
        content twice makes no second commit. Returns the branch's commit afterwards.

        Raises:
            GitServerError: unknown repository, a path outside the repository, no files, or the branch moved
                meanwhile (someone pushed; seed again).
        """
        repo = self.require(name)
        paths = {check_path(path): text for path, text in files.items()}
        if not paths:
            raise errors.GitServerError(f"Seeding {name!r} needs at least one file; pass {{path: text}}.")
        parent = self.head(name, branch)
        with tempfile.TemporaryDirectory(prefix="gitops-lab-seed-") as tmp:
            work, index = pathlib.Path(tmp, "tree"), pathlib.Path(tmp, "index")
            env = isolated_env(GIT_DIR=str(repo), GIT_WORK_TREE=str(work), GIT_INDEX_FILE=str(index),
                               **authors.parse(author).env())
            if parent:
                run_git(["read-tree", parent], env=env)
            for path, text in paths.items():
                target = work / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, newline="")
            run_git(["add", "--", *paths], env=env)
            tree = run_git(["write-tree"], env=env).stdout.strip()
            if parent and tree == run_git(["rev-parse", f"{parent}^{{tree}}"], env=env).stdout.strip():
                return parent
            commit = run_git(["commit-tree", tree, "-m", message, *(["-p", parent] if parent else [])],
                             env=env).stdout.strip()
            moved = run_git(["update-ref", "-m", f"seed: {message}", f"refs/heads/{branch}", commit,
                             parent or updates.ZERO], env=env, check=False)
        if moved.returncode != 0:
            raise errors.GitServerError(f"{branch} of {name!r} moved while it was being seeded (someone pushed); "
                                        f"seed again.")
        return commit
