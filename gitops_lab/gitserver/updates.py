"""Ref updates: the ``<old> <new> <ref>`` lines git hands a pre-receive or post-receive hook.

Owns :class:`RefUpdate`, :data:`ZERO` and :func:`parse_updates`. Pure, and light on imports on purpose: the hooks
import it on every push, so it uses a ``NamedTuple`` rather than a dataclass (whose import costs a hook ~10 ms).

>>> parse_updates("0" * 40 + " " + "a" * 40 + " refs/heads/main\\n")[0].branch
'main'
"""

from __future__ import annotations

from typing import NamedTuple

ZERO = "0" * 40
_HEADS = "refs/heads/"


class RefUpdate(NamedTuple):
    """One ref a push changes: ``old`` and ``new`` object names (:data:`ZERO` for none) and the full ref name."""

    old: str
    new: str
    ref: str

    @property
    def branch(self) -> str | None:
        """The branch name for ``refs/heads/…`` refs, else None (tags, notes, …)."""
        return self.ref[len(_HEADS):] if self.ref.startswith(_HEADS) else None

    @property
    def created(self) -> bool:
        return self.old == ZERO

    @property
    def deleted(self) -> bool:
        return self.new == ZERO


def parse_updates(text: str) -> list[RefUpdate]:
    """The ref updates git writes to a pre-receive or post-receive hook's standard input.

    Raises:
        ValueError: a non-empty line is not ``<old> <new> <ref>``.

    >>> [u.ref for u in parse_updates("a b refs/heads/x\\nc d refs/tags/v1\\n")]
    ['refs/heads/x', 'refs/tags/v1']
    """
    updates = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split(" ", 2)
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"A hook input line must read '<old> <new> <ref>', not {line!r}.")
        updates.append(RefUpdate(*parts))
    return updates
