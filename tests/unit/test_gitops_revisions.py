"""Flux revision strings: made, parsed (current and v1beta2 forms), shortened, and refused when malformed."""

from __future__ import annotations

import doctest

import pytest

from gitops_lab import errors
from gitops_lab.gitops import revisions

SHA = "3f786850e387550fdab836ed7e6dc881de23001b"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_doctests_pass() -> None:
    result = doctest.testmod(revisions)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("ref", "sha", "algorithm", "expected"), [
    ("main", SHA, "sha1", f"main@sha1:{SHA}"),
    ("v1.0.0", SHA, "sha1", f"v1.0.0@sha1:{SHA}"),
    ("refs/heads/staging", SHA, "sha1", f"refs/heads/staging@sha1:{SHA}"),
    (None, SHA, "sha1", f"sha1:{SHA}"),
    ("main", SHA.upper(), "sha1", f"main@sha1:{SHA}"),
    ("main", SHA256, "sha256", f"main@sha256:{SHA256}"),
])
def test_make(ref: str | None, sha: str, algorithm: str, expected: str) -> None:
    assert revisions.make(ref, sha, algorithm) == expected


@pytest.mark.parametrize(("ref", "sha", "algorithm", "words"), [
    ("main", SHA[:7], "sha1", "full sha1 digest"),
    ("main", SHA + "0", "sha1", "full sha1 digest"),
    ("main", "g" * 40, "sha1", "full sha1 digest"),
    ("main", SHA, "md5", "algorithm 'md5'"),
    ("main", SHA, "sha256", "full sha256 digest"),
    ("ma@in", SHA, "sha1", "without '@'"),
    ("", SHA, "sha1", "without '@'"),
])
def test_make_refuses(ref: str, sha: str, algorithm: str, words: str) -> None:
    with pytest.raises(errors.ReconcileError, match=words):
        revisions.make(ref, sha, algorithm)


@pytest.mark.parametrize(("text", "ref", "algorithm", "digest"), [
    (f"main@sha1:{SHA}", "main", "sha1", SHA),
    (f"feature/x@sha1:{SHA}", "feature/x", "sha1", SHA),
    (f"refs/pull/420/head@sha1:{SHA}", "refs/pull/420/head", "sha1", SHA),
    (f"sha1:{SHA}", None, "sha1", SHA),
    (f"main@sha256:{SHA256}", "main", "sha256", SHA256),
    (f"master/{SHA}", "master", "sha1", SHA),
    (f"feature/x/{SHA}", "feature/x", "sha1", SHA),
])
def test_parse(text: str, ref: str | None, algorithm: str, digest: str) -> None:
    parsed = revisions.parse(text)
    assert (parsed.ref, parsed.algorithm, parsed.digest, parsed.sha) == (ref, algorithm, digest, digest)
    if "@" in text or text.startswith("sha"):
        assert str(parsed) == text


@pytest.mark.parametrize("text", [
    "", "main", "main@", f"@sha1:{SHA}", f"main@sha1:{SHA[:39]}", f"main@SHA1:{SHA}", f"main@md5:{SHA}",
    f"main@sha1:{SHA.upper()}", f"/{SHA}", f"main/{SHA[:10]}", "main@sha1:",
])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(errors.ReconcileError) as info:
        revisions.parse(text)
    assert repr(text) in str(info.value)
    assert "e.g." in str(info.value)


@pytest.mark.parametrize(("text", "length", "expected"), [
    (f"main@sha1:{SHA}", 7, "main@sha1:3f78685"),
    (f"main@sha1:{SHA}", 12, "main@sha1:3f786850e387"),
    (f"sha1:{SHA}", 7, "sha1:3f78685"),
    (f"master/{SHA}", 7, "master@sha1:3f78685"),
])
def test_short(text: str, length: int, expected: str) -> None:
    assert revisions.short(text, length) == expected


def test_short_uses_the_history_length_by_default() -> None:
    assert revisions.short(f"main@sha1:{SHA}") == f"main@sha1:{SHA[:revisions.SHORT]}"
    assert revisions.SHORT == 7


def test_sha_of() -> None:
    assert revisions.sha_of(f"v2@sha1:{SHA}") == SHA
    with pytest.raises(errors.ReconcileError):
        revisions.sha_of("v2")
