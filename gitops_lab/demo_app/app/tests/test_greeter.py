"""greeter's own tests: the CI pipeline runs them before it builds the image."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import greeter
import pytest
from greeter import server


def test_greeting_names_version_and_environment() -> None:
    body = greeter.greeting("prod", version="2.0.0")
    assert body == {"message": "Hello from greeter 2.0.0 in prod!", "version": "2.0.0", "environment": "prod"}


@pytest.fixture
def base_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("APP_ENV", "test")
    httpd = server.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join()
    httpd.server_close()


def get(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_root_answers_the_greeting(base_url: str) -> None:
    assert get(base_url + "/") == (200, greeter.greeting("test"))


def test_health_check(base_url: str) -> None:
    assert get(base_url + "/healthz") == (200, {"status": "ok"})


def test_unknown_page_is_404(base_url: str) -> None:
    status, body = get(base_url + "/missing")
    assert status == 404
    assert "/healthz" in body["error"]
