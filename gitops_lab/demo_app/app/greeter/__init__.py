"""greeter: the small web service the lab builds, tests and deploys.

It answers ``GET /`` with a JSON greeting naming its version and environment, and ``GET /healthz`` with
``{"status": "ok"}`` for the readiness probe. Standard library only, so its image needs nothing but Python.
"""

from __future__ import annotations

VERSION = "1.0.0"


def greeting(environment: str, version: str = VERSION) -> dict[str, str]:
    """The body of ``GET /``.

    >>> greeting("test")["message"]
    'Hello from greeter 1.0.0 in test!'
    """
    return {"message": f"Hello from greeter {version} in {environment}!", "version": version,
            "environment": environment}
