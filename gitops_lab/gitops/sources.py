"""Git sources: fetch what a GitRepository follows and export that commit's files as an artifact directory.

Owns the lab's source storage (one directory, usually ``<lab dir>/gitops``)::

    cache/<namespace>/<name>.git                 a bare repository per GitRepository, fetched into
    artifacts/<namespace>/<name>/<sha>/          the files of one commit, as the Kustomizations read them
    artifacts/<namespace>/<name>/<sha>.json      when that artifact was stored (its lastUpdateTime)

:meth:`GitSource.fetch` asks the remote first (``git ls-remote``, one round trip) and returns the existing artifact
when the commit is already exported, so a fetch with nothing new is cheap; otherwise it runs ``git fetch`` of just
that reference into the cache (incremental) and exports the commit's tree. It keeps the last few artifacts per
GitRepository. Revisions are Flux's (``main@sha1:<40 hex>``, see :mod:`gitops_lab.gitops.revisions`); references
follow Flux's precedence (commit, then name, then tag, then branch; ``master`` when none). As source-controller
does, the artifact leaves out Git's own files, CI configurations, images and archives, symbolic links and
submodules. ``spec.ignore``, ``.sourceignore``, semver ranges, SSH and commit verification are not implemented.

Git runs as a child process: argument lists, a deadline for the whole fetch (``spec.timeout``), no user or system
git config, no credential helpers, no prompts (``GIT_TERMINAL_PROMPT=0``), no background gc, and credentials only in
the URL of the command, never written to disk. Every failure is a :class:`FetchError` with git's own message (any
password masked) and the next step. Blocking: async code calls it with ``asyncio.to_thread``; fetches of the same
GitRepository are serialised, different ones may run in parallel.

Must not know about the cluster, statuses or Kustomizations, nor where the Git server runs.

>>> source = GitSource(lab_dir / "gitops")                                                    # doctest: +SKIP
>>> artifact = source.fetch("flux-system/fleet", git.repo_url("fleet"), {"branch": "main"})   # doctest: +SKIP
>>> artifact.revision, sorted(p.name for p in artifact.path.iterdir())                       # doctest: +SKIP
('main@sha1:5f1d…', ['README.md', 'envs'])
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import datetime
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from gitops_lab import clock as clocks
from gitops_lab import errors
from gitops_lab.gitops import revisions

DEFAULT_TIMEOUT = 60.0
"""Seconds a whole fetch may take when the GitRepository sets no ``spec.timeout`` (Flux's default, 60s)."""
DEFAULT_KEEP = 3
"""Artifacts kept per GitRepository (the newest ones, by last use)."""
DEFAULT_BRANCH = "master"
"""The branch Flux follows when a GitRepository has no ``spec.ref``."""

_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)
_URL_SCHEMES = ("http://", "https://", "ssh://", "file://")
_GIT_CONFIG = ("-c", "credential.helper=", "-c", "gc.auto=0", "-c", "maintenance.auto=false",
               "-c", "core.hooksPath=/dev/null", "-c", "protocol.version=2", "-c", "core.symlinks=true")
_PASSED_ENV = ("PATH", "HOME", "TMPDIR", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY")
_AUTH_FAILURES = ("authentication failed", "could not read username", "could not read password",
                  "the requested url returned error: 401", "the requested url returned error: 403")
_EXCLUDED_NAMES = {".gitignore", ".gitmodules", ".gitattributes", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml",
                   ".drone.yml", "cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml", ".goreleaser.yml",
                   ".sops.yaml", ".flux.yaml"}
_EXCLUDED_DIRS = {".git", ".github", ".circleci"}
_EXCLUDED_SUFFIXES = (".jpg", ".jpeg", ".gif", ".png", ".wmv", ".flv", ".tar.gz", ".zip")
_REGULAR_FILE_MODES = ("100644", "100755")
_STALE_STAGING = 3600.0
"""Seconds after which a staging directory left by a killed process is removed."""


class FetchError(errors.ReconcileError):
    """A fetch failed; ``reason`` is the Flux condition reason, ``detail`` git's own words (passwords masked)."""

    def __init__(self, message: str, *, reason: str = "GitOperationFailed", detail: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.detail = detail


@dataclasses.dataclass(frozen=True)
class GitRef:
    """What a GitRepository follows (``spec.ref``); see :meth:`from_spec` for Flux's precedence."""

    branch: str | None = None
    tag: str | None = None
    name: str | None = None
    commit: str | None = None

    @classmethod
    def from_spec(cls, ref: Mapping[str, Any] | None) -> GitRef:
        """The reference a ``spec.ref`` asks for: commit wins over name, name over tag, tag over branch; a commit
        may keep its branch (it must be on it); no reference at all means the branch ``master``, as in Flux.

        Raises:
            ReconcileError: ``semver`` is asked for (not implemented by the lab), a value is not a string, or the
                commit is not a full 40-hex SHA.

        >>> GitRef.from_spec({"branch": "main", "tag": "v1.0.0"})
        GitRef(branch=None, tag='v1.0.0', name=None, commit=None)
        >>> GitRef.from_spec(None).branch
        'master'
        """
        ref = dict(ref or {})
        if ref.get("semver"):
            raise errors.ReconcileError(f"spec.ref.semver ({ref['semver']!r}) is not implemented by the lab; "
                                        f"follow a tag (spec.ref.tag) or a branch instead.")
        values = {key: ref.get(key) or None for key in ("branch", "tag", "name", "commit")}
        for key, value in values.items():
            if value is not None and (not isinstance(value, str) or value.startswith("-") or "\0" in value):
                raise errors.ReconcileError(f"spec.ref.{key} is {value!r}, which is not a Git reference; write a "
                                            f"name such as main or v1.0.0.")
        commit = values["commit"]
        if commit is not None:
            if not _FULL_SHA.match(commit.lower()):
                raise errors.ReconcileError(f"spec.ref.commit {commit!r} is not a full commit SHA; write all 40 "
                                            f"hex digits (git rev-parse HEAD prints them).")
            return cls(branch=values["branch"], commit=commit.lower())
        for key in ("name", "tag", "branch"):
            if values[key] is not None:
                return cls(**{key: values[key]})
        return cls(branch=DEFAULT_BRANCH)

    @property
    def remote_ref(self) -> str | None:
        """The full reference to fetch (``refs/heads/main``), or None for a commit without branch."""
        if self.name:
            return self.name
        if self.tag:
            return f"refs/tags/{self.tag}"
        if self.branch:
            return f"refs/heads/{self.branch}"
        return None

    @property
    def revision_ref(self) -> str | None:
        """The reference part of the revision (``main``, ``v1.0.0``, ``refs/pull/1/head``); None for a commit."""
        return self.name or self.tag or self.branch

    def describe(self) -> str:
        """``branch 'main'``, ``tag 'v1.0.0'``, ``reference 'refs/…'`` or ``commit '…'`` for messages."""
        if self.commit:
            where = f" on branch {self.branch!r}" if self.branch else ""
            return f"commit {self.commit[:7]!r}{where}"
        if self.name:
            return f"reference {self.name!r}"
        return f"tag {self.tag!r}" if self.tag else f"branch {self.branch!r}"


@dataclasses.dataclass(frozen=True)
class Artifact:
    """The files of one commit, exported for the Kustomizations that use its GitRepository."""

    revision: str
    """Flux's revision, e.g. ``main@sha1:<40 hex>``."""
    sha: str
    path: pathlib.Path
    """The directory holding the commit's files."""
    digest: str
    """``sha1:<tree hash>``: a digest of the commit's content (Git's tree hash)."""
    storage_path: str
    """``gitrepository/<namespace>/<name>/<sha>``, as Flux names artifacts in its storage."""
    stored_at: datetime.datetime
    reused: bool = False
    """True when the commit was already exported: nothing was fetched or written."""

    def status(self) -> dict[str, Any]:
        """The GitRepository's ``status.artifact``."""
        return {"digest": self.digest, "lastUpdateTime": clocks.rfc3339(self.stored_at),
                "path": self.storage_path, "revision": self.revision, "url": self.path.as_uri()}


def with_credentials(url: str, secret: Mapping[str, Any]) -> str:
    """``url`` with the basic-auth ``username`` and ``password`` of a Secret (``data`` base64, or ``stringData``).

    Raises:
        ReconcileError: the URL is not http(s), or the Secret lacks either key (bearer tokens and SSH keys are not
            implemented by the lab).

    >>> secret = {"metadata": {"name": "git"}, "stringData": {"username": "lab", "password": "s3cret"}}
    >>> with_credentials("http://127.0.0.1:8080/fleet.git", secret)
    'http://lab:s3cret@127.0.0.1:8080/fleet.git'
    """
    name = (secret.get("metadata") or {}).get("name", "?")
    username, password = (_secret_value(secret, key) for key in ("username", "password"))
    if username is None or password is None:
        raise errors.ReconcileError(f"The Secret {name} has no 'username' and 'password' keys; the lab supports "
                                    f"HTTP basic authentication only, so add both keys.")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.ReconcileError(f"{mask(url)} is not an http(s) URL, so the Secret {name}'s username and "
                                    f"password cannot be used with it; use the Git server's http:// URL.")
    userinfo = f"{urllib.parse.quote(username, safe='')}:{urllib.parse.quote(password, safe='')}"
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def mask(text: str, password: str | None = None) -> str:
    """``text`` with the user info of URLs, and ``password`` wherever it appears, replaced by ``***``.

    >>> mask("fatal: unable to access 'http://lab:s3cret@127.0.0.1:8080/fleet.git/'")
    "fatal: unable to access 'http://***@127.0.0.1:8080/fleet.git/'"
    """
    masked = _USERINFO.sub(r"\g<scheme>***@", text)
    if password:
        for form in {password, urllib.parse.quote(password, safe="")}:
            masked = masked.replace(form, "***")
    return masked


def excluded(path: str) -> bool:
    """Whether source-controller leaves ``path`` (``/``-separated, relative) out of an artifact by default: Git's
    files, CI and CLI configurations, images and archives.

    >>> excluded(".github/workflows/ci.yaml"), excluded("envs/test/deployment.yaml"), excluded("docs/logo.png")
    (True, False, True)
    """
    parts = path.split("/")
    return (any(part in _EXCLUDED_DIRS for part in parts[:-1]) or parts[-1] in _EXCLUDED_NAMES
            or parts[-1].lower().endswith(_EXCLUDED_SUFFIXES))


class GitSource:
    """Fetches GitRepositories into ``root`` (cache and artifacts); see the module docstring for the layout."""

    def __init__(self, root: str | os.PathLike[str], *, keep: int = DEFAULT_KEEP,
                 clock: clocks.Clock | None = None) -> None:
        if keep < 1:
            raise ValueError(f"A source keeps at least one artifact per GitRepository, not {keep}.")
        self.root = pathlib.Path(root)
        self.keep = keep
        self.clock: clocks.Clock = clock or clocks.WallClock()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def cache_dir(self, name: str) -> pathlib.Path:
        """The bare cache repository of the GitRepository ``<namespace>/<name>``."""
        namespace, short = _split_name(name)
        return self.root / "cache" / namespace / f"{short}.git"

    def artifacts_dir(self, name: str) -> pathlib.Path:
        """The directory holding the artifacts of the GitRepository ``<namespace>/<name>``."""
        namespace, short = _split_name(name)
        return self.root / "artifacts" / namespace / short

    def fetch(self, name: str, url: str, ref: GitRef | Mapping[str, Any] | None = None, *,
              timeout: float = DEFAULT_TIMEOUT) -> Artifact:
        """The artifact of the commit ``ref`` points at in the repository at ``url``, for the GitRepository
        ``name`` (``<namespace>/<name>``), fetched and exported if it is not already.

        Raises:
            FetchError: git failed (unreachable server, authentication, missing reference or commit, timeout);
                the message names the reference and URL (password masked) and carries git's words.
            ReconcileError: ``name``, ``url`` or ``ref`` are not usable.
        """
        git_ref = ref if isinstance(ref, GitRef) else GitRef.from_spec(ref)
        _check_url(url)
        run = _Run(url, git_ref, time.monotonic() + timeout, timeout)
        with self._lock(name):
            artifact = self._fetch_locked(name, run)
            self._prune(name, keep=artifact.path)
            return artifact

    def forget(self, name: str) -> None:
        """Remove the cache and the artifacts of a GitRepository (e.g. after it was deleted)."""
        with self._lock(name):
            shutil.rmtree(self.cache_dir(name), ignore_errors=True)
            shutil.rmtree(self.artifacts_dir(name), ignore_errors=True)

    # ---- steps ----------------------------------------------------------------------------------------------
    def _fetch_locked(self, name: str, run: _Run) -> Artifact:
        cache = self.cache_dir(name)
        sha = run.ref.commit or self._resolve(cache, run)
        existing = self._existing(name, run.ref, sha)
        if existing is not None:
            return existing
        self._init_cache(cache, run)
        if self._needs_fetch(cache, run):
            self._git_fetch(cache, run)
        sha = self._checked_commit(cache, run) if run.ref.commit else self._fetched_sha(cache, run)
        return self._existing(name, run.ref, sha) or self._export(name, cache, sha, run)

    def _resolve(self, cache: pathlib.Path, run: _Run) -> str:
        """The commit the remote reference points at now, by ``git ls-remote`` (tags peeled)."""
        remote_ref = run.ref.remote_ref
        assert remote_ref is not None
        output = run.git(["ls-remote", "--", run.url, remote_ref, f"{remote_ref}^{{}}"], cwd=None,
                         what=f"Listing the references of {mask(run.url)}").stdout
        found = {}
        for line in output.splitlines():
            listed_sha, _, ref_name = line.partition("\t")
            found[ref_name] = listed_sha
        sha = found.get(f"{remote_ref}^{{}}") or found.get(remote_ref)
        if sha is None:
            raise FetchError(f"Fetching {run.ref.describe()} of {mask(run.url)} failed: couldn't find remote ref "
                             f"{remote_ref!r}. Push that {run.ref.describe().split()[0]} or correct "
                             f"the GitRepository's spec.ref, then reconcile again.",
                             detail=f"couldn't find remote ref {remote_ref}")
        return sha

    def _init_cache(self, cache: pathlib.Path, run: _Run) -> None:
        if not (cache / "HEAD").exists():
            cache.parent.mkdir(parents=True, exist_ok=True)
            run.git(["init", "--bare", "--quiet", str(cache)], cwd=None, what="Creating the source cache")

    def _needs_fetch(self, cache: pathlib.Path, run: _Run) -> bool:
        """Always for a reference; for a pinned commit only when it (or its branch) is not in the cache yet."""
        if not run.ref.commit:
            return True
        wanted = [run.ref.commit] + ([f"refs/heads/{run.ref.branch}"] if run.ref.branch else [])
        return not all(self._has_commit(cache, rev, run) for rev in wanted)

    def _has_commit(self, cache: pathlib.Path, rev: str, run: _Run) -> bool:
        return run.git(["cat-file", "-e", f"{rev}^{{commit}}"], cwd=cache, check=False,
                       what="Looking up a commit").returncode == 0

    def _git_fetch(self, cache: pathlib.Path, run: _Run) -> None:
        remote_ref = run.ref.remote_ref
        refspecs = ([f"+{remote_ref}:{remote_ref}"] if remote_ref
                    else ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"])
        run.git(["fetch", "--quiet", "--no-tags", "--no-auto-gc", "--no-write-fetch-head", "--", run.url,
                 *refspecs], cwd=cache, what=f"Fetching {run.ref.describe()} of {mask(run.url)}")

    def _fetched_sha(self, cache: pathlib.Path, run: _Run) -> str:
        """The commit the fetched reference points at (it may be newer than ls-remote's if a push came between)."""
        return run.git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{run.ref.remote_ref}^{{commit}}"],
                       cwd=cache, what=f"Reading {run.ref.describe()}").stdout.strip()

    def _checked_commit(self, cache: pathlib.Path, run: _Run) -> str:
        """The pinned commit, after checking it arrived and (with a branch) that it is on that branch."""
        commit = run.ref.commit
        assert commit is not None
        where = f"{mask(run.url)}" + (f" on branch {run.ref.branch!r}" if run.ref.branch else "")
        if not self._has_commit(cache, commit, run):
            raise FetchError(f"The commit {commit} is not in {where}. Push it, or correct spec.ref.commit, then "
                             f"reconcile again.", detail=f"commit {commit} not found")
        if run.ref.branch:
            is_on = run.git(["merge-base", "--is-ancestor", commit, f"refs/heads/{run.ref.branch}"], cwd=cache,
                            check=False, what="Checking the commit's branch")
            if is_on.returncode != 0:
                raise FetchError(f"The commit {commit} is not in {where}. Point spec.ref.commit at a commit of "
                                 f"that branch, or drop spec.ref.branch, then reconcile again.",
                                 detail=f"commit {commit} not on branch {run.ref.branch}")
        return commit

    def _existing(self, name: str, ref: GitRef, sha: str) -> Artifact | None:
        directory = self.artifacts_dir(name) / sha
        if not directory.is_dir():
            return None
        stamp = directory.with_suffix(".json")
        try:
            meta = json.loads(stamp.read_text())
            stored_at = datetime.datetime.fromisoformat(meta["storedAt"])
            digest = str(meta["digest"])
        except (OSError, ValueError, KeyError):
            return None
        with contextlib.suppress(OSError):
            os.utime(directory)
        return self._artifact(name, ref, sha, digest, stored_at, reused=True)

    def _export(self, name: str, cache: pathlib.Path, sha: str, run: _Run) -> Artifact:
        """Write the commit's regular files (less the default exclusions) to ``artifacts/…/<sha>``, atomically."""
        target_dir = self.artifacts_dir(name)
        target_dir.mkdir(parents=True, exist_ok=True)
        staging = target_dir / f".tmp-{sha}-{secrets.token_hex(4)}"
        index = cache / f"index-{secrets.token_hex(4)}"
        try:
            listing = run.git(["ls-tree", "-r", "-z", "--full-tree", sha], cwd=cache, what="Listing the commit")
            paths = [entry.split("\t", 1)[1] for entry in listing.stdout.split("\0")
                     if "\t" in entry and entry.split(" ", 1)[0] in _REGULAR_FILE_MODES]
            wanted = [p for p in paths if not excluded(p)]
            env = {"GIT_INDEX_FILE": str(index)}
            run.git(["read-tree", sha], cwd=cache, env=env, what="Reading the commit's tree")
            staging.mkdir()
            run.git([f"--work-tree={staging}", "checkout-index", "--force", "-z", "--stdin"], cwd=cache, env=env,
                    input="\0".join(wanted), what="Exporting the commit's files")
            tree = run.git(["rev-parse", f"{sha}^{{tree}}"], cwd=cache, what="Reading the tree").stdout.strip()
            digest = f"sha1:{tree}"
            stored_at = self.clock.now()
            final = target_dir / sha
            final.with_suffix(".json").write_text(json.dumps({"storedAt": stored_at.isoformat(), "digest": digest}))
            try:
                staging.rename(final)
            except OSError:
                if not final.is_dir():
                    raise
            return self._artifact(name, run.ref, sha, digest, stored_at, reused=False)
        except OSError as err:
            raise FetchError(f"Storing the artifact of {sha[:7]} in {target_dir} failed: {err}; check the disk "
                             f"space and permissions of the lab directory, then reconcile again.",
                             reason="StorageOperationFailed", detail=str(err)) from err
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            index.unlink(missing_ok=True)

    def _artifact(self, name: str, ref: GitRef, sha: str, digest: str, stored_at: datetime.datetime, *,
                  reused: bool) -> Artifact:
        namespace, short = _split_name(name)
        return Artifact(revision=revisions.make(ref.revision_ref, sha), sha=sha,
                        path=self.artifacts_dir(name) / sha, digest=digest,
                        storage_path=f"gitrepository/{namespace}/{short}/{sha}", stored_at=stored_at,
                        reused=reused)

    def _prune(self, name: str, keep: pathlib.Path) -> None:
        """Remove all but the ``self.keep`` most recently used artifacts (never ``keep``)."""
        directory = self.artifacts_dir(name)
        stale = time.time() - _STALE_STAGING
        for leftover in directory.glob(".tmp-*"):
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < stale:
                    shutil.rmtree(leftover, ignore_errors=True)
        found = [p for p in directory.iterdir() if p.is_dir() and not p.name.startswith(".")]
        found.sort(key=lambda p: (p != keep, -p.stat().st_mtime))
        for old in found[self.keep:]:
            shutil.rmtree(old, ignore_errors=True)
            old.with_suffix(".json").unlink(missing_ok=True)

    def _lock(self, name: str) -> threading.Lock:
        _split_name(name)
        with self._locks_guard:
            return self._locks.setdefault(name, threading.Lock())


@dataclasses.dataclass
class _Run:
    """One fetch: its URL, reference and deadline; runs git within what is left of it."""

    url: str
    ref: GitRef
    deadline: float
    timeout: float

    def git(self, args: list[str], *, cwd: pathlib.Path | None, what: str, check: bool = True,
            env: dict[str, str] | None = None, input: str | None = None) -> subprocess.CompletedProcess[str]:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self._timed_out(what)
        try:
            proc = subprocess.Popen(["git", *_GIT_CONFIG, *args], cwd=cwd, env={**_git_env(), **(env or {})},
                                    stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)
        except FileNotFoundError as err:
            raise errors.ReconcileError("git is not installed or not on PATH; install it (e.g. apt-get install "
                                        "git) and reconcile again.") from err
        try:
            out, err_text = proc.communicate(input, timeout=remaining)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise self._timed_out(what) from None
        result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err_text)
        if check and result.returncode != 0:
            raise self._failed(what, result)
        return result

    def _timed_out(self, what: str) -> FetchError:
        return FetchError(f"{what} did not finish within the GitRepository's timeout of {self.timeout:g} s; check "
                          f"that the Git server answers, or raise spec.timeout, then reconcile again.",
                          detail="timeout")

    def _failed(self, what: str, result: subprocess.CompletedProcess[str]) -> FetchError:
        password = urllib.parse.urlsplit(self.url).password
        lines = [line.strip() for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        said = mask("; ".join(lines), password) or f"exit code {result.returncode}"
        lowered = said.lower()
        if any(marker in lowered for marker in _AUTH_FAILURES):
            return FetchError(f"{what} failed: {said}. Check the credentials (the GitRepository's secretRef, or "
                              f"the user and password in its URL), then reconcile again.",
                              reason="AuthenticationFailed", detail=said)
        if "couldn't find remote ref" in lowered:
            step = "Push that reference or correct the GitRepository's spec.ref"
        else:
            step = "Check the URL and that the Git server is running (gitops-lab status)"
        return FetchError(f"{what} failed: {said}. {step}, then reconcile again.", detail=said)


def _git_env() -> dict[str, str]:
    env = {key: os.environ[key] for key in _PASSED_ENV if key in os.environ}
    loopback = ",".join(filter(None, [env.get("NO_PROXY") or env.get("no_proxy"), "127.0.0.1,localhost,::1"]))
    env.update(NO_PROXY=loopback, no_proxy=loopback, LC_ALL="C", GIT_CONFIG_NOSYSTEM="1",
               GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0", GIT_ASKPASS="", SSH_ASKPASS="")
    return env


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """End git and its helpers (git-remote-http, ssh) together; they share the session started for them."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def _split_name(name: str) -> tuple[str, str]:
    namespace, slash, short = name.partition("/")
    if not slash or not _K8S_NAME.match(namespace) or not _K8S_NAME.match(short):
        raise errors.ReconcileError(f"{name!r} does not name a GitRepository; write <namespace>/<name>, e.g. "
                                    f"flux-system/fleet.")
    return namespace, short


def _check_url(url: str) -> None:
    if not url.startswith(_URL_SCHEMES):
        raise errors.ReconcileError(f"{mask(url)!r} is not a Git URL the lab can fetch; use http://, https://, "
                                    f"ssh:// or file://, e.g. the Git server's repo_url('fleet').")


def _secret_value(secret: Mapping[str, Any], key: str) -> str | None:
    plain = (secret.get("stringData") or {}).get(key)
    if plain is not None:
        return str(plain)
    encoded = (secret.get("data") or {}).get(key)
    if encoded is None:
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
