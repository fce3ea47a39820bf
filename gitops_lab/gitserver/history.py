"""A branch's history as a table: ``git log`` output in the lab's format, parsed into a pandas DataFrame.

Owns :data:`LOG_FORMAT` (the ``--format`` to pass together with ``--numstat``), :func:`parse` (text → rows) and
:func:`frame` (rows → DataFrame). Pure: running git is :mod:`gitops_lab.gitserver.working`'s job.

The DataFrame has one row per commit, newest first, with the columns of :data:`COLUMNS`:

==============  ===========================================================================
sha             the full 40-character commit name
short_sha       its first 7 characters
author, email   the author's name and email address
date            the author date, a timezone-aware UTC ``Timestamp``
subject         the message's first line
message         the whole message, trailing blank lines removed
files_changed   how many files the commit changed (compared with its first parent)
insertions      lines added (binary files count 0)
deletions       lines removed (binary files count 0)
parents         the parent commit names, a tuple (two or more for a merge)
==============  ===========================================================================

>>> frame(parse(_EXAMPLE))[["short_sha", "author", "files_changed"]].to_dict("records")
[{'short_sha': '4b825dc', 'author': 'Ada', 'files_changed': 2}]
"""

from __future__ import annotations

import dataclasses
import datetime

import pandas as pd

RECORD, FIELD = "\x1e", "\x1f"
LOG_FORMAT = f"{RECORD}%H{FIELD}%P{FIELD}%an{FIELD}%ae{FIELD}%at{FIELD}%B{FIELD}".replace(
    RECORD, "%x1e").replace(FIELD, "%x1f")
COLUMNS = ("sha", "short_sha", "author", "email", "date", "subject", "message", "files_changed", "insertions",
           "deletions", "parents")


@dataclasses.dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: str
    email: str
    date: datetime.datetime
    message: str
    files_changed: int
    insertions: int
    deletions: int

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


def parse(text: str) -> list[Commit]:
    """Commits from ``git log --numstat --format=<LOG_FORMAT>`` output, in the order git printed them.

    Raises:
        ValueError: a record does not have the lab format's fields.
    """
    return [_commit(record) for record in text.split(RECORD) if record.strip()]


def _commit(record: str) -> Commit:
    head = record.split(FIELD, 5)
    if len(head) != 6 or FIELD not in head[5]:
        raise ValueError(f"A git log record must carry the lab's fields (see LOG_FORMAT), not {record[:80]!r}.")
    sha, parents, author, email, stamp, rest = head
    message, numstat = rest.rsplit(FIELD, 1)
    files, added, removed = _numstat(numstat)
    return Commit(sha=sha, parents=tuple(parents.split()), author=author, email=email,
                  date=datetime.datetime.fromtimestamp(int(stamp), datetime.UTC), message=message.rstrip(),
                  files_changed=files, insertions=added, deletions=removed)


def _numstat(text: str) -> tuple[int, int, int]:
    """Files, insertions and deletions from ``--numstat`` lines (``-`` for a binary file counts 0)."""
    files = added = removed = 0
    for line in text.splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3:
            continue
        files += 1
        added += int(parts[0]) if parts[0].isdigit() else 0
        removed += int(parts[1]) if parts[1].isdigit() else 0
    return files, added, removed


def frame(commits: list[Commit]) -> pd.DataFrame:
    """The DataFrame of :data:`COLUMNS`, with ``date`` as ``datetime64[ns, UTC]``, even when empty."""
    rows = [{"sha": c.sha, "short_sha": c.sha[:7], "author": c.author, "email": c.email, "date": c.date,
             "subject": c.subject, "message": c.message, "files_changed": c.files_changed,
             "insertions": c.insertions, "deletions": c.deletions, "parents": c.parents} for c in commits]
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table["date"] = pd.to_datetime(table["date"], utc=True).astype("datetime64[ns, UTC]")
    for column in ("sha", "short_sha", "author", "email", "subject", "message"):
        table[column] = table[column].astype(str)
    for column in ("files_changed", "insertions", "deletions"):
        table[column] = table[column].astype("int64")
    return table


_EXAMPLE = (f"{RECORD}4b825dc642cb6eb9a060e54bf8d69288fbee4904{FIELD}{FIELD}Ada{FIELD}ada@example.com{FIELD}"
            f"1700000000{FIELD}First\n{FIELD}\n\n3\t0\tREADME.md\n-\t-\tlogo.png\n")
