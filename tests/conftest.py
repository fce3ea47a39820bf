"""Test-suite options: kind tests are opt-in (they need Docker, which our machines cannot run)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--with-kind", action="store_true", default=False,
                     help="also run the tests that create a real kind cluster (needs a Docker engine)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--with-kind"):
        return
    opt_in = pytest.mark.skip(reason="creates a real kind cluster; opt in with --with-kind where Docker runs")
    for item in items:
        if "kind" in item.keywords:
            item.add_marker(opt_in)
