"""Go-style durations as Flux writes them ("1m0s", "10m", "30s", "1h30m", "500ms"). Pure.

>>> parse("1m30s"), parse("500ms"), render(90.0), render(600)
(90.0, 0.5, '1m30s', '10m0s')
"""

from __future__ import annotations

import re

from gitops_lab import errors

_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse(text: str | None, default: float | None = None) -> float:
    """Seconds in a duration; ``default`` when ``text`` is empty; ReconcileError when it is not a duration."""
    if not text:
        if default is None:
            raise errors.ReconcileError("A duration is required here, e.g. 1m0s.")
        return default
    position, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT[match.group(2)]
        position = match.end()
    if position != len(text) or position == 0:
        raise errors.ReconcileError(f"{text!r} is not a duration; write it as Go does, e.g. 30s, 1m0s or 1h.")
    return total


def render(seconds: float) -> str:
    """The form Flux prints ("10m0s", "1h0m0s", "45s", "250ms")."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
