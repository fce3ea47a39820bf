"""Basic-auth credentials per server directory."""

from __future__ import annotations

import base64
import pathlib
import stat

import pytest

from gitops_lab import errors
from gitops_lab.gitserver import credentials

LAB = credentials.Credentials("lab", "s3cret")


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(("header", "ok"), [
    (basic("lab:s3cret"), True),
    (basic("lab:s3cret").replace("Basic", "basic"), True),
    (basic("lab:wrong"), False),
    (basic("other:s3cret"), False),
    (basic("lab:s3cret:"), False),
    (basic("lab"), False),
    ("Basic !!!not-base64", False),
    ("Bearer s3cret", False),
    ("", False),
    (None, False),
])
def test_matches(header: str | None, ok: bool) -> None:
    assert LAB.matches(header) is ok


def test_header_is_what_matches() -> None:
    assert LAB.matches(LAB.header())


def test_password_stays_out_of_repr() -> None:
    assert "s3cret" not in repr(LAB)


def test_created_once_with_mode_0600_and_reused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "credentials.json"
    first = credentials.load_or_create(path)
    assert first.username == credentials.USERNAME and len(first.password) >= 24
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credentials.load_or_create(path) == first
    assert credentials.load_or_create(tmp_path / "other.json") != first


def test_loose_permissions_are_tightened(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "credentials.json"
    credentials.load_or_create(path)
    path.chmod(0o644)
    credentials.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("text", ["{not json", "[]", '{"username": "lab"}'])
def test_a_corrupt_file_says_how_to_recover(tmp_path: pathlib.Path, text: str) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(text)
    with pytest.raises(errors.GitServerError, match="delete it to make new credentials"):
        credentials.load_or_create(path)


def test_an_unwritable_place_is_a_lab_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.GitServerError, match="cannot write its credentials"):
        credentials.load_or_create(tmp_path / "missing-dir" / "credentials.json")
