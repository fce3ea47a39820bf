"""The timeline: events and samples stored in SQLite, read back as DataFrames, by this and other processes."""

from __future__ import annotations

import datetime
import pathlib
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable

import pandas as pd
import pytest

from gitops_lab.drift import timeline
from gitops_lab.errors import LabError

T0 = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)


class FakeClock:
    """A lab clock that moves only when told."""

    def __init__(self, now: datetime.datetime) -> None:
        self.moment = now

    def now(self) -> datetime.datetime:
        return self.moment

    def monotonic(self) -> float:
        return self.moment.timestamp()

    def seconds(self, lab_seconds: float) -> float:
        return lab_seconds

    async def sleep(self, lab_seconds: float) -> None:
        self.moment += datetime.timedelta(seconds=lab_seconds)


@pytest.fixture
def path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "lab" / "timeline.db"


def test_events_come_back_with_every_column(path: pathlib.Path) -> None:
    clock = FakeClock(T0)
    with timeline.Timeline(path, clock=clock) as t:
        t.record("reconcile_started", kustomization="flux-system/apps", revision="main@sha1:" + "a" * 40)
        clock.moment += datetime.timedelta(milliseconds=1500)
        t.record("drift_detected", kustomization="flux-system/apps", object_id="prod_web_apps_Deployment",
                 field="spec.replicas", manager="kubectl", message="changed: 5 (Git: 2)",
                 details={"state": "changed", "subresource": "scale"})
        t.record("drift_corrected", object_id="prod_web_apps_Deployment", duration_ms=312.5,
                 at=T0 + datetime.timedelta(seconds=3))
        frame = t.events()
    assert list(frame.columns) == list(timeline.EVENT_COLUMNS)
    assert list(frame["kind"]) == ["reconcile_started", "drift_detected", "drift_corrected"]
    assert list(frame["at"]) == [pd.Timestamp(T0), pd.Timestamp(T0 + datetime.timedelta(milliseconds=1500)),
                                 pd.Timestamp(T0 + datetime.timedelta(seconds=3))]
    assert str(frame["at"].dt.tz) == "UTC"
    drift = frame.iloc[1]
    assert (drift["kustomization"], drift["object"], drift["field"], drift["manager"], drift["message"]) == (
        "flux-system/apps", "prod_web_apps_Deployment", "spec.replicas", "kubectl", "changed: 5 (Git: 2)")
    assert drift["details"] == {"state": "changed", "subresource": "scale"}
    assert frame.iloc[0]["revision"] == "main@sha1:" + "a" * 40
    assert frame.iloc[0]["details"] is None and pd.isna(frame.iloc[0]["duration_ms"])
    assert frame.iloc[2]["duration_ms"] == 312.5
    assert frame["duration_ms"].dtype == "float64"


def test_events_are_ordered_by_time_then_arrival_and_filtered_by_since(path: pathlib.Path) -> None:
    with timeline.Timeline(path) as t:
        t.record("push", message="second", at=T0 + datetime.timedelta(seconds=10))
        t.record("push", message="first", at=T0)
        t.record("push", message="third", at=T0 + datetime.timedelta(seconds=10))
        assert list(t.events()["message"]) == ["first", "second", "third"]
        assert list(t.events(since=T0 + datetime.timedelta(seconds=10))["message"]) == ["second", "third"]
        assert t.events(since=T0 + datetime.timedelta(seconds=11)).empty


def test_times_in_other_zones_are_stored_as_utc(path: pathlib.Path) -> None:
    paris = datetime.timezone(datetime.timedelta(hours=1))
    with timeline.Timeline(path) as t:
        t.record("push", at=datetime.datetime(2026, 3, 1, 13, 0, 0, tzinfo=paris))
        assert t.events()["at"].iloc[0] == pd.Timestamp(T0)
        assert t.events(since=datetime.datetime(2026, 3, 1, 13, 0, 0, 1, tzinfo=paris)).empty


def test_samples_come_back_as_counts(path: pathlib.Path) -> None:
    clock = FakeClock(T0)
    with timeline.Timeline(path, clock=clock) as t:
        t.sample("flux-system/apps", 0, 0)
        clock.moment += datetime.timedelta(seconds=5)
        t.sample("flux-system/apps", 2, 3)
        t.sample("flux-system/infra", 1, 1, at=T0 + datetime.timedelta(seconds=1))
        frame = t.samples()
        later = t.samples(since=T0 + datetime.timedelta(seconds=2))
    assert list(frame.columns) == list(timeline.SAMPLE_COLUMNS)
    assert frame[["kustomization", "drifted_objects", "drifted_fields"]].values.tolist() == [
        ["flux-system/apps", 0, 0], ["flux-system/infra", 1, 1], ["flux-system/apps", 2, 3]]
    assert frame["drifted_fields"].dtype == "int64" and str(frame["at"].dt.tz) == "UTC"
    assert later[["drifted_objects", "drifted_fields"]].values.tolist() == [[2, 3]]


def test_a_timeline_not_written_yet_reads_as_empty_frames_with_the_columns(path: pathlib.Path) -> None:
    reader = timeline.Timeline(path, readonly=True)
    events, samples = reader.events(), reader.samples()
    assert events.empty and list(events.columns) == list(timeline.EVENT_COLUMNS)
    assert samples.empty and list(samples.columns) == list(timeline.SAMPLE_COLUMNS)
    assert str(events["at"].dt.tz) == "UTC"
    assert not path.exists()


@pytest.mark.parametrize(("call", "message"), [
    (lambda t: t.record("drifted"), "Unknown timeline event kind 'drifted'; use one of: drift_corrected"),
    (lambda t: t.record("push", at=datetime.datetime(2026, 1, 1)), "has no time zone; pass an aware datetime"),
    (lambda t: t.record("push", details={"objects": {"a"}}), "cannot be stored as JSON"),
    (lambda t: t.record("push", details={"ratio": float("nan")}), "cannot be stored as JSON"),
    (lambda t: t.sample("flux-system/apps", -1, 0), "cannot be; pass counts of zero or more"),
    (lambda t: t.events(since=datetime.datetime(2026, 1, 1)), "has no time zone"),
])
def test_bad_input_is_refused_with_a_sentence(path: pathlib.Path, call: Callable[[timeline.Timeline], object],
                                              message: str) -> None:
    with timeline.Timeline(path) as t, pytest.raises(LabError, match=message):
        call(t)
    assert timeline.Timeline(path, readonly=True).events().empty


def test_a_read_only_timeline_refuses_to_write(path: pathlib.Path) -> None:
    with pytest.raises(LabError, match="opened read-only; only the lab process writes"):
        timeline.Timeline(path, readonly=True).record("push")
    assert not path.exists()


def test_a_newer_schema_is_refused_by_readers_and_writers(path: pathlib.Path) -> None:
    with timeline.Timeline(path) as t:
        t.record("push")
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.commit()
    db.close()
    for call in (lambda: timeline.Timeline(path, readonly=True).events(), lambda: timeline.Timeline(path).record("push")):
        with pytest.raises(LabError, match="schema version 99, newer than this gitops-lab knows"):
            call()


def test_the_file_is_wal_and_versioned(path: pathlib.Path) -> None:
    with timeline.Timeline(path) as t:
        t.record("push")
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == timeline.SCHEMA_VERSION
        db.close()


def test_close_is_idempotent_and_a_later_write_reopens(path: pathlib.Path) -> None:
    t = timeline.Timeline(path)
    t.record("push")
    t.close()
    t.close()
    t.record("resumed")
    assert list(t.events()["kind"]) == ["push", "resumed"]
    t.close()


def test_threads_record_without_losing_events(path: pathlib.Path) -> None:
    with timeline.Timeline(path) as t:
        def write(name: str) -> None:
            for i in range(100):
                t.record("drift_detected", field=f"{name}-{i}")

        threads = [threading.Thread(target=write, args=(name,)) for name in "abcd"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(t.events()["field"]) == sorted(f"{n}-{i}" for n in "abcd" for i in range(100))


def test_recording_is_cheap(path: pathlib.Path) -> None:
    with timeline.Timeline(path) as t:
        t.record("push")
        start = time.perf_counter()
        for i in range(500):
            t.record("drift_detected", kustomization="flux-system/apps", object_id="prod_web_apps_Deployment",
                     field="spec.replicas", manager="kubectl", details={"n": i})
        per_event = (time.perf_counter() - start) / 500
    assert per_event < 0.005, f"{per_event * 1000:.2f} ms per event"


READER = textwrap.dedent("""
    import sys, time
    from gitops_lab.drift import timeline
    reader = timeline.Timeline(sys.argv[1], readonly=True)
    seen, deadline = [], time.monotonic() + 60
    while (not seen or seen[-1] < int(sys.argv[2])) and time.monotonic() < deadline:
        seen.append(len(reader.events()))
    print(" ".join(map(str, seen)))
""")


def test_another_process_reads_while_the_lab_writes(path: pathlib.Path) -> None:
    total = 300
    with timeline.Timeline(path) as t:
        t.record("push")
        reader = subprocess.Popen([sys.executable, "-c", READER, str(path), str(total)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        for i in range(total - 1):
            t.record("drift_detected", field=f"f{i}")
        out, err = reader.communicate(timeout=90)
    assert reader.returncode == 0, err
    counts = [int(n) for n in out.split()]
    assert counts[-1] == total and counts == sorted(counts)


WRITER = textwrap.dedent("""
    import os, sys
    from gitops_lab.drift import timeline
    t = timeline.Timeline(sys.argv[1])
    for i in range(50):
        t.record("drift_detected", field=f"f{i}")
    t.sample("flux-system/apps", 1, 2)
    os.kill(os.getpid(), 9)
""")


def test_what_was_recorded_survives_the_lab_process_being_killed(path: pathlib.Path) -> None:
    result = subprocess.run([sys.executable, "-c", WRITER, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == -9, result.stderr
    reader = timeline.Timeline(path, readonly=True)
    assert len(reader.events()) == 50
    assert reader.samples()[["drifted_objects", "drifted_fields"]].values.tolist() == [[1, 2]]
