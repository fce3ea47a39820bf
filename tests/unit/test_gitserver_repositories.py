"""Repository names and file paths (the operations on disk are in tests/integration/test_gitserver.py)."""

from __future__ import annotations

import pytest

from gitops_lab import errors
from gitops_lab.gitserver import repositories


@pytest.mark.parametrize(("name", "bare"), [
    ("fleet", "fleet"), ("fleet.git", "fleet"), ("demo-app", "demo-app"), ("a.b_c-1", "a.b_c-1"), ("9", "9"),
])
def test_check_name_accepts(name: str, bare: str) -> None:
    assert repositories.check_name(name) == bare


@pytest.mark.parametrize("name", ["", ".git", ".hidden", "-flag", "a/b", "..", "a..b", "a b", "fleet.", "x" * 101,
                                  "naïve"])
def test_check_name_refuses(name: str) -> None:
    with pytest.raises(errors.GitServerError, match="not a usable repository name"):
        repositories.check_name(name)


@pytest.mark.parametrize("path", ["README.md", "envs/test/deployment.yaml", ".github/workflows/ci.yml", "a b.txt"])
def test_check_path_accepts(path: str) -> None:
    assert repositories.check_path(path) == path


@pytest.mark.parametrize("path", ["", "/etc/passwd", "../x", "a/../../x", ".git/config", "a/.git/x", "a//b",
                                  "a/./b", "a\\b", "dir/"])
def test_check_path_refuses(path: str) -> None:
    with pytest.raises(errors.GitServerError, match="not a file path inside a repository"):
        repositories.check_path(path)


def test_isolated_env_shuts_out_user_config() -> None:
    env = repositories.isolated_env(GIT_DIR="/x")
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["GIT_TERMINAL_PROMPT"] == "0" and env["GIT_DIR"] == "/x"
    assert env["GIT_CONFIG_GLOBAL"] in ("/dev/null", "nul")
