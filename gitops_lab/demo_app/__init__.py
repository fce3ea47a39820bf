"""The sample the lab deploys, as the text of its files: the application and its fleet of environments.

Owns two trees of package data and the loader that reads them:

- ``app``   — greeter, a standard-library JSON web service with its pytest tests, a Dockerfile and a README:
  the code the CI pipeline tests and builds into :data:`IMAGE`;
- ``fleet`` — its Kubernetes manifests per environment (``envs/test``, ``envs/prod``: Namespace, Deployment with
  resource requests and limits, Service, and a kustomization.yaml each), the repository the reconciler watches.

The lab seeds each tree into a repository of its Git server. Reading only: no I/O beyond the package's own files,
nothing at import time.

>>> files("fleet")["envs/test/kustomization.yaml"].splitlines()[1]
'kind: Kustomization'
"""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable

PARTS = ("app", "fleet")
VERSION = "1.0.0"
IMAGE = f"registry.gitops-lab.local/demo-app:{VERSION}"
LOG_LINES = (
    "{iso} greeter {version} starting",
    "{iso} greeter listening on 0.0.0.0:8080 (pod {pod}, ip {pod_ip})",
    "{iso} GET /healthz 200",
)
"""What the demo app's container prints when the sandbox runs it (``kubectl logs``)."""
_SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def files(part: str) -> dict[str, str]:
    """``{relative path: text}`` of one part (``"app"`` or ``"fleet"``), sorted by path, ``/``-separated.

    Raises:
        ValueError: ``part`` is not one of :data:`PARTS`.
    """
    if part not in PARTS:
        raise ValueError(f"The demo app has the parts {', '.join(PARTS)}, not {part!r}.")
    found: dict[str, str] = {}
    _collect(importlib.resources.files(__name__) / part, "", found)
    return dict(sorted(found.items()))


def _collect(node: Traversable, prefix: str, found: dict[str, str]) -> None:
    for child in node.iterdir():
        if child.is_dir():
            if child.name not in _SKIPPED_DIRS:
                _collect(child, f"{prefix}{child.name}/", found)
        elif not child.name.endswith((".pyc", ".pyo")):
            found[prefix + child.name] = child.read_text(encoding="utf-8")
