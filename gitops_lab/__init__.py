"""gitops-lab: learn and show GitOps with a Kubernetes cluster, a Git server, CI and a reconciler.

>>> import gitops_lab
>>> lab = gitops_lab.connect()      # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitops_lab.lab import Lab


def connect(*args: Any, **kwargs: Any) -> Lab:
    """The running lab (started if none runs); see :func:`gitops_lab.lab.connect`."""
    from gitops_lab import lab

    return lab.connect(*args, **kwargs)


def up(*args: Any, **kwargs: Any) -> Any:
    from gitops_lab import lab

    return lab.up(*args, **kwargs)


def down(*args: Any, **kwargs: Any) -> None:
    from gitops_lab import lab

    lab.down(*args, **kwargs)
