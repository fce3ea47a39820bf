"""git log output in the lab's format, parsed into commits and a DataFrame."""

from __future__ import annotations

import datetime

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops_lab.gitserver import history

R, F = history.RECORD, history.FIELD
SHA1, SHA2, SHA3 = "1" * 40, "2" * 40, "3" * 40


def record(sha: str, parents: str, author: str, email: str, stamp: int, message: str, numstat: str = "") -> str:
    """One commit as ``git log --numstat --format=LOG_FORMAT`` prints it."""
    return f"{R}{sha}{F}{parents}{F}{author}{F}{email}{F}{stamp}{F}{message}\n{F}\n" + (
        f"\n{numstat}" if numstat else "")


def test_log_format_asks_git_for_the_separators() -> None:
    assert history.LOG_FORMAT == "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%B%x1f"


def test_parse_reads_each_field() -> None:
    text = (record(SHA3, f"{SHA1} {SHA2}", "Grace", "g@x", 1_700_000_100, "Merge branch 'x'")
            + record(SHA2, SHA1, "Ada", "ada@x", 1_700_000_000, "Scale up\n\nBecause load.",
                     "3\t1\tenvs/test/deployment.yaml\n-\t-\tlogo.png\n1\t0\ta => b\n")
            + record(SHA1, "", "Ada", "ada@x", 1_699_999_999, "First"))
    merge, scale, first = history.parse(text)
    assert merge.parents == (SHA1, SHA2) and merge.files_changed == 0
    assert (scale.sha, scale.parents, scale.author, scale.email) == (SHA2, (SHA1,), "Ada", "ada@x")
    assert scale.date == datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.UTC)
    assert (scale.subject, scale.message) == ("Scale up", "Scale up\n\nBecause load.")
    assert (scale.files_changed, scale.insertions, scale.deletions) == (3, 4, 1)
    assert first.parents == ()


@pytest.mark.parametrize("text", [f"{R}{SHA1}{F}only-two", f"{R}{SHA1}{F}{F}a{F}b{F}1{F}no-closing-field"])
def test_parse_rejects_foreign_output(text: str) -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        history.parse(text)


def test_parse_of_nothing_is_no_commits() -> None:
    assert history.parse("") == []
    assert history.parse("\n") == []


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@given(commits=st.lists(st.tuples(
    st.from_regex(r"[0-9a-f]{40}", fullmatch=True), _text.filter(lambda s: s.strip() == s),
    st.integers(0, 2**31), _text.map(str.strip).filter(bool),
    st.lists(st.tuples(st.integers(0, 999), st.integers(0, 999), st.from_regex(r"[a-z/]{1,12}", fullmatch=True)),
             max_size=4)), max_size=5))
def test_parse_inverts_the_format(commits: list[tuple[str, str, int, str, list[tuple[int, int, str]]]]) -> None:
    text = "".join(record(sha, "", author, "e@x", stamp, message, "".join(f"{a}\t{d}\t{p}\n" for a, d, p in stats))
                   for sha, author, stamp, message, stats in commits)
    parsed = history.parse(text)
    assert [(c.sha, c.author, int(c.date.timestamp()), c.message) for c in parsed] == [
        (sha, author, stamp, message) for sha, author, stamp, message, _ in commits]
    assert [(c.files_changed, c.insertions, c.deletions) for c in parsed] == [
        (len(stats), sum(a for a, _, _ in stats), sum(d for _, d, _ in stats)) for *_, stats in commits]


def test_frame_columns_and_types() -> None:
    table = history.frame(history.parse(record(SHA2, SHA1, "Ada", "ada@x", 1_700_000_000, "Scale up",
                                               "3\t1\ta.yaml\n")))
    assert list(table.columns) == list(history.COLUMNS)
    assert str(table["date"].dtype) == "datetime64[ns, UTC]"
    row = table.iloc[0]
    assert (row["sha"], row["short_sha"], row["subject"], row["files_changed"]) == (SHA2, "2222222", "Scale up", 1)
    assert row["date"] == pd.Timestamp("2023-11-14 22:13:20", tz="UTC")
    assert row["parents"] == (SHA1,)


def test_empty_frame_keeps_its_columns_and_types() -> None:
    table = history.frame([])
    assert list(table.columns) == list(history.COLUMNS) and table.empty
    assert str(table["date"].dtype) == "datetime64[ns, UTC]"
    assert str(table["files_changed"].dtype) == "int64"
