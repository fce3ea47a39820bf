"""Branch protection: which branches refuse direct pushes, and what the refusal tells the pusher.

Owns :class:`Policy` (a list of branch names or ``fnmatch`` patterns; ``main`` by default), its JSON form (the
file the pre-receive hook reads, so a policy changes at run time without restarting anything) and
:func:`refusal`, the lines a refused push prints. Pure: reading and writing the file is the caller's business.
Light on imports (a ``NamedTuple``, no dataclass) because the pre-receive hook imports it on every push.

>>> print(refusal(Policy(), "fleet", [updates.RefUpdate("0" * 40, "1" * 40, "refs/heads/main")]).splitlines()[0])
main is protected in fleet: direct pushes to it are refused.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from typing import NamedTuple

from gitops_lab.gitserver import updates

DEFAULT_PROTECTED = ("main",)


class Policy(NamedTuple):
    """Branches (names or patterns such as ``release/*``) that only change by merging a reviewed branch."""

    protected: tuple[str, ...] = DEFAULT_PROTECTED

    @classmethod
    def of(cls, protected: bool | Iterable[str]) -> Policy:
        """``True`` protects ``main``, ``False`` nothing, a list exactly those branches or patterns.

        >>> Policy.of(False).protected, Policy.of(["main", "release/*"]).protected
        ((), ('main', 'release/*'))
        """
        if protected is True:
            return cls()
        if protected is False:
            return cls(())
        if isinstance(protected, str):
            raise TypeError(f"Pass a list of branches, not the string {protected!r}: e.g. [{protected!r}].")
        return cls(tuple(protected))

    def protects(self, branch: str) -> bool:
        return any(fnmatch.fnmatchcase(branch, pattern) for pattern in self.protected)

    def to_json(self) -> str:
        return json.dumps({"protected": list(self.protected)}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Policy:
        """Parse the policy file.

        Raises:
            ValueError: the text is not ``{"protected": [<branch or pattern>, ...]}``.
        """
        data = json.loads(text)
        protected = data.get("protected") if isinstance(data, dict) else None
        if not isinstance(protected, list) or not all(isinstance(p, str) and p for p in protected):
            raise ValueError(f'A protection policy must read {{"protected": ["main", ...]}}, not {text.strip()!r}.')
        return cls(tuple(protected))


def refused_branches(policy: Policy, changes: Iterable[updates.RefUpdate]) -> list[str]:
    """The protected branches among ``changes`` (creations, moves and deletions alike), in push order."""
    return [u.branch for u in changes if u.branch is not None and policy.protects(u.branch)]


def refusal(policy: Policy, repo: str, changes: Iterable[updates.RefUpdate]) -> str | None:
    """The message that refuses the push, or None when the policy lets every update in.

    >>> refusal(Policy(), "fleet", [updates.RefUpdate("0" * 40, "1" * 40, "refs/heads/feature")]) is None
    True
    """
    branches = refused_branches(policy, changes)
    if not branches:
        return None
    names = ", ".join(dict.fromkeys(branches))
    verb, pronoun = ("is", "it") if len(set(branches)) == 1 else ("are", "them")
    return (f"{names} {verb} protected in {repo}: direct pushes to {pronoun} are refused.\n"
            f"Push a branch instead and open a pull request, for example:\n"
            f"    git push origin HEAD:refs/heads/my-change\n"
            f"(Whoever runs the lab can allow direct pushes with set_protection({repo!r}, False).)")
