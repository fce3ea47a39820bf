"""The Git server's basic-auth credentials: one user and password per server directory, kept across restarts.

Owns :class:`Credentials` (checking an ``Authorization`` header in constant time), :data:`CHALLENGE` (the
``WWW-Authenticate`` value of a 401) and :func:`load_or_create` (``credentials.json`` with mode 0600; a new random
password the first time). Must not log or print the password.

>>> Credentials("lab", "s3cret").matches("Basic bGFiOnMzY3JldA==")
True
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hmac
import json
import os
import pathlib
import secrets
import stat

from gitops_lab import errors

USERNAME = "lab"
REALM = "gitops-lab git"
CHALLENGE = f'Basic realm="{REALM}", charset="UTF-8"'


@dataclasses.dataclass(frozen=True)
class Credentials:
    username: str
    password: str = dataclasses.field(repr=False)

    def header(self) -> str:
        """The ``Authorization`` value a client sends."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"

    def matches(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header carries exactly these credentials.

        >>> Credentials("lab", "pw").matches(None), Credentials("lab", "pw").matches("Bearer pw")
        (False, False)
        """
        if not authorization:
            return False
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, f"{self.username}:{self.password}".encode())


def load_or_create(path: pathlib.Path) -> Credentials:
    """The credentials stored at ``path``, made (random password, mode 0600) if the file does not exist yet.

    Raises:
        GitServerError: the file cannot be written, or exists but is not the lab's format.
    """
    try:
        text = path.read_text()
    except FileNotFoundError:
        return _create(path)
    except OSError as err:
        raise errors.GitServerError(f"The Git server cannot read its credentials file {path} ({err}); "
                                    f"fix its permissions or delete it to make new credentials.") from err
    try:
        data = json.loads(text)
        creds = Credentials(str(data["username"]), str(data["password"]))
    except (ValueError, KeyError, TypeError) as err:
        raise errors.GitServerError(f"The Git server's credentials file {path} is not valid JSON with a "
                                    f"username and password; delete it to make new credentials.") from err
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)
    return creds


def _create(path: pathlib.Path) -> Credentials:
    creds = Credentials(USERNAME, secrets.token_urlsafe(24))
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"username": creds.username, "password": creds.password}, f)
        os.replace(tmp, path)
    except OSError as err:
        raise errors.GitServerError(f"The Git server cannot write its credentials to {path} ({err}); "
                                    f"pass a directory you can write to.") from err
    return creds
