"""The pure parts of working copies (the GitPython flows are in tests/integration/test_gitserver.py)."""

from __future__ import annotations

import pytest

from gitops_lab.gitserver import working


@pytest.mark.parametrize(("text", "masked"), [
    ("http://lab:pw@127.0.0.1:1/x.git", "http://***@127.0.0.1:1/x.git"),
    ("to 'https://u@h/x' and http://a:b@c/", "to 'https://***@h/x' and http://***@c/"),
    ("no url here", "no url here"),
    ("mail me at ada@example.com", "mail me at ada@example.com"),
])
def test_redact(text: str, masked: str) -> None:
    assert working.redact(text) == masked
