"""Push events and the recent-push log."""

from __future__ import annotations

import datetime
import threading

import pytest

from gitops_lab import errors
from gitops_lab.gitserver import events, updates

A, B = "a" * 40, "b" * 40
ZERO = updates.ZERO
T0 = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


def make_log(keep: int = 1000) -> events.PushLog:
    return events.PushLog(lambda: T0, keep=keep)


def test_record_stamps_keeps_and_announces_each_update() -> None:
    log = make_log()
    heard: list[events.PushEvent] = []
    log.subscribe(heard.append)
    recorded = log.record("fleet", "lab", [updates.RefUpdate(ZERO, A, "refs/heads/x"),
                                           updates.RefUpdate(A, B, "refs/heads/y")])
    assert [(e.repo, e.ref, e.old, e.new, e.pusher, e.at) for e in recorded] == [
        ("fleet", "refs/heads/x", ZERO, A, "lab", T0), ("fleet", "refs/heads/y", A, B, "lab", T0)]
    assert heard == recorded == log.recent()
    assert recorded[1].branch == "y"


def test_recent_filters_by_repository_and_keeps_only_the_newest() -> None:
    log = make_log(keep=3)
    for i in range(5):
        log.record("fleet" if i % 2 else "app", "lab", [updates.RefUpdate(ZERO, str(i) * 40, "refs/heads/x")])
    assert [e.new[0] for e in log.recent()] == ["2", "3", "4"]
    assert [e.new[0] for e in log.recent("fleet")] == ["3"]


def test_unsubscribe_stops_the_calls() -> None:
    log = make_log()
    heard: list[events.PushEvent] = []
    unsubscribe = log.subscribe(heard.append)
    log.record("fleet", "lab", [updates.RefUpdate(ZERO, A, "refs/heads/x")])
    unsubscribe()
    unsubscribe()  # twice is harmless
    log.record("fleet", "lab", [updates.RefUpdate(A, B, "refs/heads/x")])
    assert [e.new for e in heard] == [A]


def test_a_failing_subscriber_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    log = make_log()
    heard: list[str] = []

    def broken(event: events.PushEvent) -> None:
        raise RuntimeError("boom")

    log.subscribe(broken)
    log.subscribe(lambda e: heard.append(e.ref))
    log.record("fleet", "lab", [updates.RefUpdate(ZERO, A, "refs/heads/x")])
    assert heard == ["refs/heads/x"]
    assert "A push subscriber failed on fleet refs/heads/x" in caplog.text


def test_wait_for_finds_a_kept_event_at_once() -> None:
    log = make_log()
    log.record("fleet", "lab", [updates.RefUpdate(ZERO, A, "refs/heads/x")])
    assert log.wait_for(lambda e: e.new == A, timeout=0).new == A


def test_wait_for_wakes_up_when_another_thread_records() -> None:
    log = make_log()
    timer = threading.Timer(0.05, log.record, args=("fleet", "lab", [updates.RefUpdate(ZERO, B, "refs/heads/y")]))
    timer.start()
    try:
        assert log.wait_for(lambda e: e.new == B, timeout=5).ref == "refs/heads/y"
    finally:
        timer.join()


def test_wait_for_times_out_with_a_lab_error() -> None:
    log = make_log()
    log.record("fleet", "lab", [updates.RefUpdate(ZERO, A, "refs/heads/x")])
    with pytest.raises(errors.GitServerError, match=r"within 0\.05 s"):
        log.wait_for(lambda e: e.new == B, timeout=0.05)
