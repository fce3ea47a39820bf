"""The CGI environment for git http-backend and the head of its answer."""

from __future__ import annotations

import pytest

from gitops_lab.gitserver import backend


def environ(headers: list[tuple[str, str]]) -> dict[str, str]:
    return backend.cgi_environ({"PATH": "/usr/bin"}, project_root="/srv/git", method="POST",
                               path_info="/fleet.git/git-receive-pack", query="", headers=headers,
                               remote_addr="127.0.0.1", remote_user="lab", server_name="127.0.0.1", server_port=9418)


def test_cgi_and_git_variables() -> None:
    env = environ([("Content-Type", "application/x-git-receive-pack-request"), ("Content-Length", "123")])
    assert env["PATH"] == "/usr/bin"
    assert {k: env[k] for k in ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
                                "REMOTE_USER", "GIT_PROJECT_ROOT", "GIT_HTTP_EXPORT_ALL", "SERVER_PORT")} == {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/fleet.git/git-receive-pack", "QUERY_STRING": "",
        "CONTENT_TYPE": "application/x-git-receive-pack-request", "CONTENT_LENGTH": "123", "REMOTE_USER": "lab",
        "GIT_PROJECT_ROOT": "/srv/git", "GIT_HTTP_EXPORT_ALL": "1", "SERVER_PORT": "9418"}


def test_a_chunked_body_has_no_length() -> None:
    env = environ([("Transfer-Encoding", "chunked"), ("Content-Type", "application/x-git-receive-pack-request")])
    assert "CONTENT_LENGTH" not in env
    assert env["HTTP_TRANSFER_ENCODING"] == "chunked"


@pytest.mark.parametrize(("header", "variable"), [
    ("Git-Protocol", "HTTP_GIT_PROTOCOL"),
    ("Content-Encoding", "HTTP_CONTENT_ENCODING"),
    ("User-Agent", "HTTP_USER_AGENT"),
])
def test_request_headers_become_http_variables(header: str, variable: str) -> None:
    assert environ([(header, "value")])[variable] == "value"


@pytest.mark.parametrize("header", ["Authorization", "Proxy-Authorization", "Connection"])
def test_credentials_and_hop_headers_are_not_passed(header: str) -> None:
    env = environ([(header, "Basic bGFiOnB3")])
    assert not any(value == "Basic bGFiOnB3" for value in env.values())


@pytest.mark.parametrize(("lines", "expected"), [
    ([b"Content-Type: text/plain\r\n"], (200, "OK", [("Content-Type", "text/plain")])),
    ([b"Status: 403 Forbidden\r\n"], (403, "Forbidden", [])),
    ([b"Status: 500\n", b"Expires: Fri, 01 Jan 1980 00:00:00 GMT\n"],
     (500, "OK", [("Expires", "Fri, 01 Jan 1980 00:00:00 GMT")])),
    ([b"Pragma: no-cache\r\n", b"Cache-Control: no-cache, max-age=0, must-revalidate\r\n"],
     (200, "OK", [("Pragma", "no-cache"), ("Cache-Control", "no-cache, max-age=0, must-revalidate")])),
    ([], (200, "OK", [])),
])
def test_parse_head(lines: list[bytes], expected: tuple[int, str, list[tuple[str, str]]]) -> None:
    assert backend.parse_head(lines) == expected


@pytest.mark.parametrize("lines", [[b"no colon here\r\n"], [b": empty name\r\n"], [b"Status: abc\r\n"]])
def test_parse_head_rejects_garbage(lines: list[bytes]) -> None:
    with pytest.raises(ValueError):
        backend.parse_head(lines)
