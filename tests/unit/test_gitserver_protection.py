"""Branch-protection policies and the message a refused push prints."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops_lab.gitserver import protection
from gitops_lab.gitserver.updates import ZERO, RefUpdate

A, B = "a" * 40, "b" * 40


@pytest.mark.parametrize(("given_", "expected"), [
    (True, ("main",)),
    (False, ()),
    (["main", "release/*"], ("main", "release/*")),
    ((), ()),
])
def test_policy_of(given_: bool | list[str], expected: tuple[str, ...]) -> None:
    assert protection.Policy.of(given_).protected == expected


def test_policy_of_refuses_a_bare_string() -> None:
    with pytest.raises(TypeError, match=r"\['main'\]"):
        protection.Policy.of("main")


@pytest.mark.parametrize(("patterns", "branch", "protected"), [
    (("main",), "main", True),
    (("main",), "main2", False),
    (("main",), "feature/main", False),
    (("release/*",), "release/1.0", True),
    (("release/*",), "releases", False),
    ((), "main", False),
])
def test_protects(patterns: tuple[str, ...], branch: str, protected: bool) -> None:
    assert protection.Policy(patterns).protects(branch) is protected


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1), max_size=5))
def test_json_round_trip(patterns: list[str]) -> None:
    policy = protection.Policy(tuple(patterns))
    assert protection.Policy.from_json(policy.to_json()) == policy


@pytest.mark.parametrize("text", ['{"protected": "main"}', "[]", '{"protected": [1]}', '{"protected": [""]}', "{}"])
def test_from_json_rejects_other_shapes(text: str) -> None:
    with pytest.raises(ValueError, match="protection policy must read"):
        protection.Policy.from_json(text)


def test_from_json_rejects_broken_json() -> None:
    with pytest.raises(ValueError):
        protection.Policy.from_json("{not json")


@pytest.mark.parametrize(("updates", "refused"), [
    ([RefUpdate(A, B, "refs/heads/main")], ["main"]),
    ([RefUpdate(ZERO, B, "refs/heads/main")], ["main"]),          # creating it
    ([RefUpdate(A, ZERO, "refs/heads/main")], ["main"]),          # deleting it
    ([RefUpdate(ZERO, B, "refs/heads/feature")], []),
    ([RefUpdate(ZERO, B, "refs/tags/main")], []),                 # a tag named main is not the branch
    ([RefUpdate(ZERO, B, "refs/heads/x"), RefUpdate(A, B, "refs/heads/main")], ["main"]),
])
def test_refused_branches(updates: list[RefUpdate], refused: list[str]) -> None:
    assert protection.refused_branches(protection.Policy(), updates) == refused


def test_refusal_says_what_is_protected_and_how_changes_get_in() -> None:
    message = protection.refusal(protection.Policy(), "fleet", [RefUpdate(A, B, "refs/heads/main")])
    assert message is not None
    lines = message.splitlines()
    assert lines[0] == "main is protected in fleet: direct pushes to it are refused."
    assert "open a pull request" in lines[1]
    assert "git push origin HEAD:refs/heads/my-change" in message
    assert "set_protection('fleet', False)" in message


def test_refusal_names_every_protected_branch_once() -> None:
    policy = protection.Policy(("main", "release/*"))
    message = protection.refusal(policy, "app", [RefUpdate(A, B, "refs/heads/main"),
                                                 RefUpdate(A, B, "refs/heads/release/2"),
                                                 RefUpdate(A, B, "refs/heads/main")])
    assert message is not None
    assert message.splitlines()[0] == "main, release/2 are protected in app: direct pushes to them are refused."


def test_no_refusal_when_nothing_is_protected() -> None:
    assert protection.refusal(protection.Policy.of(False), "fleet", [RefUpdate(A, B, "refs/heads/main")]) is None
