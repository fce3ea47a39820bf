"""One tree of errors for everything a learner or speaker can run into.

Every message is a full sentence that names the offending value and the next step; the cause is chained.

>>> raise ClusterError("Port 6443 is taken by another process; pass port=0 or stop it.")
Traceback (most recent call last):
...
gitops_lab.errors.ClusterError: Port 6443 is taken by another process; pass port=0 or stop it.
"""

from __future__ import annotations


class LabError(Exception):
    """Anything the lab cannot do, said so a person can act on it."""


class ClusterError(LabError):
    """The cluster (sandbox, kind or an existing one) could not be started, reached or used."""


class GitServerError(LabError):
    """The lab's Git server could not be started or refused an operation."""


class ReconcileError(LabError):
    """The GitOps reconciler could not fetch, build or apply the desired state."""


class PipelineError(LabError):
    """A CI pipeline could not run or failed."""
