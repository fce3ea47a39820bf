"""Working copies for notebooks: clone, edit, commit, branch, push, revert and read the log, with GitPython.

Owns :class:`WorkingCopy`. Every git failure a learner can cause (a push the server refuses, a revert that
conflicts, a clone of a repository that does not exist, nothing to commit) becomes a
:class:`~gitops_lab.errors.GitServerError` that names the branch or commit and carries the server's own words;
GitPython's exceptions never leak. Passwords embedded in URLs are masked in every message. Commits are stamped
with an explicit author (no ``user.name`` needed in any git config); git never prompts (``GIT_TERMINAL_PROMPT=0``).

Must not know where the server is or how it runs: a working copy only has a URL. Note that a URL with embedded
credentials is stored in the working copy's ``.git/config``, as ``git clone`` does.

>>> work = WorkingCopy.clone(git.repo_url("fleet"), "fleet")                          # doctest: +SKIP
>>> work.replace("envs/test/deployment.yaml", "replicas: 1", "replicas: 2")           # doctest: +SKIP
>>> sha = work.commit("Scale the test environment to 2", author="Ada <ada@example.com>")  # doctest: +SKIP
>>> work.push()                                                                       # doctest: +SKIP
Traceback (most recent call last):
gitops_lab.errors.GitServerError: The server refused the push of main ([remote rejected] ...). It said: main is ...
>>> work.create_branch("scale-test"); work.push()                                     # doctest: +SKIP
'[new branch]'
"""

from __future__ import annotations

import os
import pathlib
import re
from collections.abc import Callable

import git
import pandas as pd

from gitops_lab import errors
from gitops_lab.gitserver import authors, history, repositories

_CREDENTIALS_IN_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
_FAILED = (git.PushInfo.ERROR | git.PushInfo.REJECTED | git.PushInfo.REMOTE_REJECTED | git.PushInfo.REMOTE_FAILURE)
_QUIET_ENV = {"GIT_TERMINAL_PROMPT": "0"}


def redact(text: str) -> str:
    """``text`` with any ``user:password@`` in URLs masked.

    >>> redact("fatal: unable to access 'http://lab:s3cret@127.0.0.1:8080/fleet.git/'")
    "fatal: unable to access 'http://***@127.0.0.1:8080/fleet.git/'"
    """
    return _CREDENTIALS_IN_URL.sub(r"\g<scheme>***@", text)


class _RemoteLines(git.RemoteProgress):
    """Collects what a push prints besides progress: the ``remote:`` lines (the server's hooks) and git's errors.

    Error lines are kept here rather than in ``error_lines``, so GitPython does not log them as a warning of its
    own: the :class:`GitServerError` the push raises says it better.
    """

    def __init__(self) -> None:
        super().__init__()
        self.remote: list[str] = []
        self.errors: list[str] = []

    def new_message_handler(self) -> Callable[[str], None]:
        parse = super().new_message_handler()

        def handle(line: str | bytes) -> None:
            text = line.decode(errors="replace") if isinstance(line, bytes) else line
            if text.startswith(("error:", "fatal:")):
                self.errors.append(redact(text.rstrip()))
            else:
                parse(text)

        return handle

    def line_dropped(self, line: str) -> None:
        if line.startswith("remote:"):
            self.remote.append(line[len("remote:"):].strip())


class WorkingCopy:
    """A clone on disk with a checked-out branch, as a notebook uses it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        try:
            self.repo = git.Repo(path)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as err:
            raise errors.GitServerError(f"{path} is not a git working copy; clone one with "
                                        f"WorkingCopy.clone(url, directory).") from err
        self.repo.git.update_environment(**_QUIET_ENV)

    @classmethod
    def clone(cls, url: str, directory: str | os.PathLike[str], *, branch: str | None = None) -> WorkingCopy:
        """Clone ``url`` into ``directory`` (which must not exist or be empty) and check out ``branch``.

        Raises:
            GitServerError: the server cannot be reached, refuses the credentials, or has no such repository.
        """
        try:
            repo = git.Repo.clone_from(url, directory, env=dict(os.environ, **_QUIET_ENV),
                                       multi_options=[f"--branch={branch}"] if branch else None)
        except git.GitCommandError as err:
            raise errors.GitServerError(f"Cloning {redact(url)} failed: {_stderr(err)}; check the URL, the "
                                        f"credentials and that the server runs.") from err
        return cls(repo.working_dir)

    @property
    def path(self) -> pathlib.Path:
        return pathlib.Path(self.repo.working_dir)

    @property
    def branch(self) -> str:
        """The checked-out branch."""
        try:
            return self.repo.active_branch.name
        except TypeError as err:
            raise errors.GitServerError(f"{self.path} has no branch checked out (detached HEAD); "
                                        f"run checkout('main') or create_branch('my-change').") from err

    @property
    def head(self) -> str:
        """The checked-out commit's full name."""
        return self.repo.head.commit.hexsha

    def read(self, path: str) -> str:
        return self._file(path).read_text()

    def write(self, path: str, text: str) -> pathlib.Path:
        """Create or overwrite a file (parent directories included); commit() records it."""
        target = self._file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return target

    def replace(self, path: str, old: str, new: str) -> None:
        """Replace every occurrence of ``old`` in a file with ``new``.

        Raises:
            GitServerError: ``old`` does not occur in the file (so a typo does not pass silently).
        """
        text = self.read(path)
        if old not in text:
            raise errors.GitServerError(f"{old!r} does not occur in {path}; read(path) shows its current text.")
        self.write(path, text.replace(old, new))

    def delete(self, path: str) -> None:
        self._file(path).unlink()

    def commit(self, message: str, author: str | authors.Author = authors.LAB) -> str:
        """Stage every change in the working copy (new, changed and deleted files) and commit it; returns its sha.

        Raises:
            GitServerError: there is nothing to commit.
        """
        self._git("add", "--all")
        if not self.repo.is_dirty(index=True, working_tree=False, untracked_files=False):
            raise errors.GitServerError(f"Nothing to commit in {self.path}: write, replace or delete a file first.")
        self._git("commit", "--quiet", "--no-verify", "-m", message, env=authors.parse(author).env())
        return self.head

    def create_branch(self, name: str) -> None:
        """Create branch ``name`` at the current commit and check it out."""
        self._git("checkout", "--quiet", "-b", name)

    def checkout(self, name: str) -> None:
        """Check out an existing local branch, or the server's branch of that name."""
        self._git("checkout", "--quiet", name)

    def pull(self) -> str:
        """Fetch and fast-forward the current branch to the server's; returns the new head.

        Raises:
            GitServerError: the branches have diverged (a fast-forward is impossible) or the fetch failed.
        """
        self._git("pull", "--quiet", "--ff-only", "origin", self.branch)
        return self.head

    def push(self, branch: str | None = None, *, force: bool = False) -> str:
        """Push a local branch (the current one by default) to the branch of the same name on the server.

        Returns the summary git printed for the ref (e.g. ``[new branch]``).

        Raises:
            GitServerError: the server refused the push (the message names the branch and quotes the server, e.g.
                its branch-protection refusal) or could not be reached.
        """
        name = branch or self.branch
        progress = _RemoteLines()
        refspec = f"{'+' if force else ''}refs/heads/{name}:refs/heads/{name}"
        try:
            results = self.repo.remote("origin").push(refspec, progress=progress, set_upstream=True)
        except git.GitCommandError as err:
            raise errors.GitServerError(f"Pushing {name} failed: {_stderr(err)}; check the server "
                                        f"and the credentials.") from err
        refused = [info for info in results if info.flags & _FAILED]
        if refused or not results:
            summary = refused[0].summary.strip() if refused else "no ref was pushed"
            said = " ".join(progress.remote)
            raise errors.GitServerError(f"The server refused the push of {name} ({summary})."
                                        + (f" It said: {said}" if said else ""))
        return str(results[0].summary.strip())

    def revert(self, sha: str, author: str | authors.Author = authors.LAB) -> str:
        """Commit the inverse of commit ``sha`` on the current branch; returns the new commit's sha.

        Raises:
            GitServerError: the revert conflicts with later changes (it is aborted, nothing changes).
        """
        try:
            self.repo.git.revert(sha, "--no-edit", env=authors.parse(author).env())
        except git.GitCommandError as err:
            if self.path.joinpath(".git", "REVERT_HEAD").exists():
                self.repo.git.revert("--abort")
            raise errors.GitServerError(f"Reverting {sha[:7]} on {self.branch} failed: {_stderr(err)}; revert "
                                        f"the later commits that touch the same lines first.") from err
        return self.head

    def log(self, ref: str | None = None, max_count: int | None = None) -> pd.DataFrame:
        """The history of ``ref`` (the checked-out branch by default), newest first, as described in
        :mod:`gitops_lab.gitserver.history` (sha, short_sha, author, email, date, subject, message,
        files_changed, insertions, deletions, parents)."""
        args = ["--numstat", f"--format={history.LOG_FORMAT}"]
        if max_count is not None:
            args.append(f"--max-count={max_count}")
        if not self.repo.head.is_valid():
            return history.frame([])
        return history.frame(history.parse(self._git("log", *args, ref or "HEAD", "--")))

    def _file(self, path: str) -> pathlib.Path:
        return self.path / repositories.check_path(path)

    def _git(self, *args: str, env: dict[str, str] | None = None) -> str:
        try:
            return str(self.repo.git.execute([git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git", *args], env=env))
        except git.GitCommandError as err:
            raise errors.GitServerError(f"git {args[0]} failed in {self.path}: {_stderr(err)}") from err


def _stderr(err: git.GitCommandError) -> str:
    """What git said, without progress chatter ("Cloning into …") and with credentials masked."""
    text = err.stderr if isinstance(err.stderr, str) else str(err.stderr or "")
    lines = [line.strip() for line in text.strip().removeprefix("stderr:").strip().strip("'").splitlines()]
    said = [line for line in lines if line.startswith(("remote:", "fatal:", "error:"))] or lines
    return redact(" ".join(line for line in said if line)) or f"exit code {err.status}"
