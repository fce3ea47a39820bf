"""Flux's revision strings: ``main@sha1:<40 hex>``, made, parsed and shortened. Pure.

Owns the format source-controller writes into ``status.artifact.revision`` and kustomize-controller copies into
``lastAttemptedRevision`` / ``lastAppliedRevision`` and its ``Applied revision: …`` message: the reference the
GitRepository follows (a branch, a tag or a full ref name), ``@``, the digest algorithm, ``:``, the commit hash.
A GitRepository pinned to a bare commit has no reference: ``sha1:<40 hex>``. Flux's older form ``main/<40 hex>``
(v1beta2) is read too, so revisions recorded by it still parse.

Must not fetch, run git or know where artifacts live (that is :mod:`gitops_lab.gitops.sources`).

>>> text = make("main", "3f786850e387550fdab836ed7e6dc881de23001b")
>>> text
'main@sha1:3f786850e387550fdab836ed7e6dc881de23001b'
>>> parse(text).sha, short(text)
('3f786850e387550fdab836ed7e6dc881de23001b', 'main@sha1:3f78685')
"""

from __future__ import annotations

import dataclasses
import re

from gitops_lab import errors

ALGORITHMS = {"sha1": 40, "sha256": 64}
"""Digest algorithms Flux writes and the length of their hex digests."""
SHORT = 7
"""Hex digits :func:`short` keeps: as many as ``git log --oneline`` and the lab's commit history show."""

_HEX = re.compile(r"^[0-9a-f]+$")


@dataclasses.dataclass(frozen=True)
class Revision:
    """One parsed revision; ``str()`` gives it back in Flux's form."""

    ref: str | None
    """The branch, tag or ref name the commit was reached by; None for a GitRepository pinned to a commit."""
    algorithm: str
    """``sha1`` (Git's object format) or ``sha256``."""
    digest: str
    """The commit hash, lowercase hex."""

    @property
    def sha(self) -> str:
        """The commit hash (an alias of :attr:`digest` for Git revisions)."""
        return self.digest

    def __str__(self) -> str:
        checksum = f"{self.algorithm}:{self.digest}"
        return f"{self.ref}@{checksum}" if self.ref else checksum


def make(ref: str | None, sha: str, algorithm: str = "sha1") -> str:
    """The revision of commit ``sha`` reached by ``ref`` (None: a pinned commit).

    Raises:
        ReconcileError: ``sha`` is not a full hex digest of ``algorithm``, or ``ref`` contains ``@``.

    >>> make(None, "3f786850e387550fdab836ed7e6dc881de23001b")
    'sha1:3f786850e387550fdab836ed7e6dc881de23001b'
    """
    if ref is not None and (not ref or "@" in ref):
        raise errors.ReconcileError(f"{ref!r} cannot name a revision's reference; use a branch, tag or ref name "
                                    f"without '@', or None for a pinned commit.")
    return str(Revision(ref, algorithm, _checked_digest(sha.lower(), algorithm, sha)))


def parse(text: str) -> Revision:
    """A revision string in Flux's form (``main@sha1:…``, ``sha1:…``) or its older one (``main/…``).

    Raises:
        ReconcileError: ``text`` is none of these forms, names an unknown algorithm or has a digest of the wrong
            length.

    >>> parse("v1.0.0@sha1:3f786850e387550fdab836ed7e6dc881de23001b").ref
    'v1.0.0'
    >>> parse("master/3f786850e387550fdab836ed7e6dc881de23001b").algorithm
    'sha1'
    """
    ref, at, checksum = text.rpartition("@")
    if not at:
        ref, checksum = "", text
    algorithm, colon, digest = checksum.partition(":")
    if not colon:
        return _parse_legacy(text)
    if at and not ref:
        raise _invalid(text)
    return Revision(ref or None, algorithm, _checked_digest(digest, algorithm, text))


def short(text: str, length: int = SHORT) -> str:
    """A revision with its hash cut to ``length`` hex digits, for tables and charts.

    Raises:
        ReconcileError: ``text`` is not a revision (see :func:`parse`).

    >>> short("sha1:3f786850e387550fdab836ed7e6dc881de23001b", 10)
    'sha1:3f786850e3'
    """
    revision = parse(text)
    return str(dataclasses.replace(revision, digest=revision.digest[:length]))


def sha_of(text: str) -> str:
    """The commit hash in a revision string.

    >>> sha_of("main@sha1:3f786850e387550fdab836ed7e6dc881de23001b")
    '3f786850e387550fdab836ed7e6dc881de23001b'
    """
    return parse(text).digest


def _parse_legacy(text: str) -> Revision:
    ref, slash, digest = text.rpartition("/")
    if not slash or not ref:
        raise _invalid(text)
    return Revision(ref, "sha1", _checked_digest(digest, "sha1", text))


def _checked_digest(digest: str, algorithm: str, text: str) -> str:
    if algorithm not in ALGORITHMS:
        raise errors.ReconcileError(f"{text!r} uses the digest algorithm {algorithm!r}; Flux revisions use "
                                    f"{' or '.join(ALGORITHMS)}, e.g. main@sha1:<40 hex digits>.")
    if len(digest) != ALGORITHMS[algorithm] or not _HEX.match(digest):
        raise errors.ReconcileError(f"{text!r} does not end in a full {algorithm} digest ({ALGORITHMS[algorithm]} "
                                    f"lowercase hex digits); write the whole commit hash, e.g. "
                                    f"main@sha1:<40 hex digits>.")
    return digest


def _invalid(text: str) -> errors.ReconcileError:
    return errors.ReconcileError(f"{text!r} is not a Flux revision; write it as <branch>@sha1:<40 hex digits>, "
                                 f"e.g. main@sha1:3f786850e387550fdab836ed7e6dc881de23001b.")
