"""Ref updates as git hands them to hooks."""

from __future__ import annotations

import pytest

from gitops_lab.gitserver import updates

A, B = "a" * 40, "b" * 40
ZERO = updates.ZERO


@pytest.mark.parametrize(("text", "expected"), [
    ("", []),
    (f"{A} {B} refs/heads/main\n", [updates.RefUpdate(A, B, "refs/heads/main")]),
    (f"{ZERO} {A} refs/heads/x\n\n{A} {ZERO} refs/tags/v1", [updates.RefUpdate(ZERO, A, "refs/heads/x"),
                                                               updates.RefUpdate(A, ZERO, "refs/tags/v1")]),
    (f"{A} {B} refs/heads/with space", [updates.RefUpdate(A, B, "refs/heads/with space")]),
])
def test_parse_updates(text: str, expected: list[updates.RefUpdate]) -> None:
    assert updates.parse_updates(text) == expected


@pytest.mark.parametrize("line", [f"{A} {B}", "just-one", f"{A}  refs/heads/main"])
def test_parse_updates_rejects_malformed_lines(line: str) -> None:
    with pytest.raises(ValueError, match="<old> <new> <ref>"):
        updates.parse_updates(line)


@pytest.mark.parametrize(("update", "branch", "created", "deleted"), [
    (updates.RefUpdate(A, B, "refs/heads/main"), "main", False, False),
    (updates.RefUpdate(ZERO, B, "refs/heads/feature/x"), "feature/x", True, False),
    (updates.RefUpdate(A, ZERO, "refs/heads/old"), "old", False, True),
    (updates.RefUpdate(ZERO, A, "refs/tags/v1"), None, True, False),
])
def test_ref_update_properties(update: updates.RefUpdate, branch: str | None, created: bool, deleted: bool) -> None:
    assert (update.branch, update.created, update.deleted) == (branch, created, deleted)
