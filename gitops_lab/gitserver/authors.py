"""Who wrote a commit: ``"Name <email>"`` identities and the git environment that stamps them.

Owns :class:`Author`, :func:`parse` and :meth:`Author.env` (``GIT_AUTHOR_*`` and ``GIT_COMMITTER_*``, so commits
need no ``user.name`` in any git config). Pure.

>>> parse("Ada Lovelace <ada@example.com>").email
'ada@example.com'
"""

from __future__ import annotations

import dataclasses
import re

from gitops_lab import errors

_FORM = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>\s]+)>\s*$")
LAB = "GitOps Lab <lab@gitops-lab.local>"


@dataclasses.dataclass(frozen=True)
class Author:
    name: str
    email: str

    def env(self) -> dict[str, str]:
        """Environment variables making this identity both the author and the committer."""
        return {"GIT_AUTHOR_NAME": self.name, "GIT_AUTHOR_EMAIL": self.email,
                "GIT_COMMITTER_NAME": self.name, "GIT_COMMITTER_EMAIL": self.email}

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def parse(text: str | Author) -> Author:
    """An identity from ``"Name <email>"`` (an :class:`Author` passes through).

    Raises:
        GitServerError: the text has no name or no ``<email>``.

    >>> parse("  Grace Hopper <grace@navy.mil> ")
    Author(name='Grace Hopper', email='grace@navy.mil')
    """
    if isinstance(text, Author):
        return text
    match = _FORM.match(text)
    if match is None or not match["name"]:
        raise errors.GitServerError(f"An author must read 'Name <email>', not {text!r}; "
                                    f"for example 'Ada Lovelace <ada@example.com>'.")
    return Author(match["name"], match["email"])
