"""'Name <email>' identities."""

from __future__ import annotations

import pytest

from gitops_lab import errors
from gitops_lab.gitserver import authors


@pytest.mark.parametrize(("text", "name", "email"), [
    ("Ada Lovelace <ada@example.com>", "Ada Lovelace", "ada@example.com"),
    ("  ci-bot   <ci@lab.local>  ", "ci-bot", "ci@lab.local"),
    ("Zoë Ω <z@x>", "Zoë Ω", "z@x"),
])
def test_parse(text: str, name: str, email: str) -> None:
    assert authors.parse(text) == authors.Author(name, email)


@pytest.mark.parametrize("text", ["Ada", "<ada@example.com>", "Ada <>", "Ada <a b@c>", "Ada <a@b> <c@d>", ""])
def test_parse_refuses_other_forms(text: str) -> None:
    with pytest.raises(errors.GitServerError, match="Name <email>"):
        authors.parse(text)


def test_an_author_passes_through_and_prints_as_it_parses() -> None:
    ada = authors.Author("Ada", "ada@example.com")
    assert authors.parse(ada) is ada
    assert authors.parse(str(ada)) == ada


def test_env_stamps_author_and_committer() -> None:
    assert authors.parse(authors.LAB).env() == {
        "GIT_AUTHOR_NAME": "GitOps Lab", "GIT_AUTHOR_EMAIL": "lab@gitops-lab.local",
        "GIT_COMMITTER_NAME": "GitOps Lab", "GIT_COMMITTER_EMAIL": "lab@gitops-lab.local"}
