"""Cluster providers: where the lab's Kubernetes comes from.

- ``sandboxed``  the embedded sandbox server (default; no Docker, no root)
- ``kinds``      a kind cluster through pytest-kind-ng's ``KindCluster`` (needs Docker)
- ``existing``   any kubeconfig context (refused, with an explanation, when it does not look local)

Each yields a kubeconfig the rest of the lab uses like any client would; nothing outside this room knows which
provider runs. ``make()`` picks one by name.
"""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

from gitops_lab import errors
from gitops_lab.options import CLUSTERS as NAMES

if TYPE_CHECKING:
    from gitops_lab.cluster import base


def make(name: str, workdir: pathlib.Path, *, context: str | None = None, kubeconfig: str | None = None,
         confirm: bool = False, node_image: str | None = None, port: int = 0) -> base.Provider:
    """The provider called ``name``, keeping its files under ``workdir`` (imported only when chosen)."""
    if name == "sandbox":
        from gitops_lab.cluster import sandboxed

        return sandboxed.SandboxProvider(workdir / "sandbox", port=port)
    if name == "kind":
        from gitops_lab.cluster import kinds
        return kinds.KindProvider(workdir / "kind", name=context or kinds.DEFAULT_NAME, node_image=node_image)
    if name == "existing":
        from gitops_lab.cluster import existing
        return existing.ExistingProvider(workdir / "existing", context=context, kubeconfig=kubeconfig,
                                         confirm=confirm)
    raise errors.ClusterError(f"There is no cluster provider called {name!r}; choose one of {', '.join(NAMES)}.")
