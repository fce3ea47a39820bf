"""The pure parts of Git sources: references as Flux resolves spec.ref, credentials, masking, default exclusions.

Fetching itself runs against a real Git server in tests/integration/test_gitops_sources.py.
"""

from __future__ import annotations

import base64
import datetime
import doctest
import pathlib
from typing import Any

import pytest

from gitops_lab import errors
from gitops_lab.gitops import sources

SHA = "3f786850e387550fdab836ed7e6dc881de23001b"


def test_doctests_pass() -> None:
    result = doctest.testmod(sources)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("spec", "expected", "remote", "revision_ref"), [
    (None, sources.GitRef(branch="master"), "refs/heads/master", "master"),
    ({}, sources.GitRef(branch="master"), "refs/heads/master", "master"),
    ({"branch": "main"}, sources.GitRef(branch="main"), "refs/heads/main", "main"),
    ({"branch": "main", "tag": "v1"}, sources.GitRef(tag="v1"), "refs/tags/v1", "v1"),
    ({"tag": "v1", "name": "refs/pull/1/head"}, sources.GitRef(name="refs/pull/1/head"), "refs/pull/1/head",
     "refs/pull/1/head"),
    ({"branch": "main", "commit": SHA}, sources.GitRef(branch="main", commit=SHA), "refs/heads/main", "main"),
    ({"commit": SHA.upper()}, sources.GitRef(commit=SHA), None, None),
    ({"tag": "v1", "commit": SHA}, sources.GitRef(commit=SHA), None, None),
    ({"branch": "", "tag": None}, sources.GitRef(branch="master"), "refs/heads/master", "master"),
])
def test_refs_follow_fluxs_precedence(spec: dict[str, Any] | None, expected: sources.GitRef, remote: str | None,
                                      revision_ref: str | None) -> None:
    ref = sources.GitRef.from_spec(spec)
    assert ref == expected
    assert (ref.remote_ref, ref.revision_ref) == (remote, revision_ref)


@pytest.mark.parametrize(("spec", "words"), [
    ({"semver": ">=1.0.0"}, "semver"),
    ({"commit": SHA[:7]}, "full commit SHA"),
    ({"commit": "z" * 40}, "full commit SHA"),
    ({"branch": "--upload-pack=touch"}, "not a Git reference"),
    ({"tag": 3}, "not a Git reference"),
    ({"branch": "ma\0in"}, "not a Git reference"),
])
def test_refs_refused(spec: dict[str, Any], words: str) -> None:
    with pytest.raises(errors.ReconcileError, match=words):
        sources.GitRef.from_spec(spec)


@pytest.mark.parametrize(("ref", "text"), [
    (sources.GitRef(branch="main"), "branch 'main'"),
    (sources.GitRef(tag="v1"), "tag 'v1'"),
    (sources.GitRef(name="refs/pull/1/head"), "reference 'refs/pull/1/head'"),
    (sources.GitRef(commit=SHA), "commit '3f78685'"),
    (sources.GitRef(branch="main", commit=SHA), "commit '3f78685' on branch 'main'"),
])
def test_describe(ref: sources.GitRef, text: str) -> None:
    assert ref.describe() == text


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(("url", "secret", "expected"), [
    ("http://127.0.0.1:8080/fleet.git", {"data": {"username": b64("lab"), "password": b64("pw")}},
     "http://lab:pw@127.0.0.1:8080/fleet.git"),
    ("https://old:creds@git.example/fleet.git", {"stringData": {"username": "lab", "password": "p@ss/w:rd"}},
     "https://lab:p%40ss%2Fw%3Ard@git.example/fleet.git"),
    ("http://[::1]:9/fleet.git", {"stringData": {"username": "a b", "password": "c"}},
     "http://a%20b:c@[::1]:9/fleet.git"),
])
def test_with_credentials(url: str, secret: dict[str, Any], expected: str) -> None:
    assert sources.with_credentials(url, {"metadata": {"name": "git"}, **secret}) == expected


@pytest.mark.parametrize(("url", "secret", "words"), [
    ("http://h/f.git", {"data": {"username": b64("lab")}}, "no 'username' and 'password'"),
    ("http://h/f.git", {"data": {"bearerToken": b64("t")}}, "basic authentication only"),
    ("http://h/f.git", {"data": {"username": "not base64!", "password": b64("p")}}, "no 'username'"),
    ("ssh://git@h/f.git", {"stringData": {"username": "u", "password": "p"}}, "not an http"),
])
def test_with_credentials_refused(url: str, secret: dict[str, Any], words: str) -> None:
    with pytest.raises(errors.ReconcileError, match=words) as info:
        sources.with_credentials(url, {"metadata": {"name": "git"}, **secret})
    assert "git" in str(info.value)


@pytest.mark.parametrize(("text", "password", "expected"), [
    ("fatal: unable to access 'http://lab:s3cret@127.0.0.1:1/f.git/'", None,
     "fatal: unable to access 'http://***@127.0.0.1:1/f.git/'"),
    ("the password s3cret leaked", "s3cret", "the password *** leaked"),
    ("url http://lab:p%40ss@h/ and p@ss", "p@ss", "url http://***@h/ and ***"),
    ("nothing to hide", "s3cret", "nothing to hide"),
])
def test_mask(text: str, password: str | None, expected: str) -> None:
    assert sources.mask(text, password) == expected


@pytest.mark.parametrize(("path", "is_excluded"), [
    ("envs/test/deployment.yaml", False),
    ("README.md", False),
    ("kustomization.yaml", False),
    (".github/workflows/ci.yaml", True),
    ("deep/.circleci/config.yml", True),
    (".gitlab-ci.yml", True),
    ("sub/.travis.yml", True),
    (".sops.yaml", True),
    (".gitignore", True),
    ("docs/diagram.PNG", True),
    ("release.tar.gz", True),
    ("cloudbuild.yaml", True),
    ("my.github/app.yaml", False),
])
def test_default_exclusions(path: str, is_excluded: bool) -> None:
    assert sources.excluded(path) is is_excluded


def test_artifact_status_is_fluxs_shape(tmp_path: pathlib.Path) -> None:
    stored = datetime.datetime(2026, 11, 27, 5, 0, 1, 500, tzinfo=datetime.UTC)
    artifact = sources.Artifact(revision=f"main@sha1:{SHA}", sha=SHA, path=tmp_path / SHA, digest="sha1:abc",
                                storage_path=f"gitrepository/flux-system/fleet/{SHA}", stored_at=stored)
    assert artifact.status() == {"digest": "sha1:abc", "lastUpdateTime": "2026-11-27T05:00:01Z",
                                 "path": f"gitrepository/flux-system/fleet/{SHA}",
                                 "revision": f"main@sha1:{SHA}", "url": (tmp_path / SHA).as_uri()}


@pytest.mark.parametrize("name", ["fleet", "flux-system/", "/fleet", "Flux/fleet", "a/../b", "a/b/c", "a/b c"])
def test_names_must_be_namespace_slash_name(tmp_path: pathlib.Path, name: str) -> None:
    with pytest.raises(errors.ReconcileError, match="<namespace>/<name>"):
        sources.GitSource(tmp_path).cache_dir(name)


@pytest.mark.parametrize("url", ["-uhttp://x/f.git", "/srv/git/fleet.git", "git@host:fleet.git", "ftp://h/f"])
def test_urls_must_be_git_urls(tmp_path: pathlib.Path, url: str) -> None:
    with pytest.raises(errors.ReconcileError, match="not a Git URL"):
        sources.GitSource(tmp_path).fetch("flux-system/fleet", url, {"branch": "main"})


def test_keep_must_be_positive(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        sources.GitSource(tmp_path, keep=0)
