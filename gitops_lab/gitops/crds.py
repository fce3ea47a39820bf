"""Flux's two CustomResourceDefinitions as the lab installs them: GitRepository and Kustomization, v1.

Owns the definitions (data) and :func:`install`, which applies them through any cluster client and waits until the
API server has established them. The fields are the subset of Flux's v1 API the lab's reconciler implements, with
Flux's names, types, patterns, defaults and required lists, so a manifest written for the lab works on real Flux
unchanged; a field the lab does not implement (``spec.ignore``, ``spec.postBuild``, …) is unknown here, and
``kubectl apply`` says so instead of the lab silently ignoring it. Names (plural, singular, short names ``gitrepo``
and ``ks``, categories), the status subresource and the printer columns (GitRepository: URL, Age, Ready, Status;
Kustomization: Age, Ready, Status, read from the Ready condition) are Flux's.

Must not reconcile anything, nor import a client implementation: :func:`install` takes any object with the
``apply``/``get`` methods of :class:`gitops_lab.kube.client.Client`.

>>> [crd["metadata"]["name"] for crd in crd_objects()]
['gitrepositories.source.toolkit.fluxcd.io', 'kustomizations.kustomize.toolkit.fluxcd.io']
>>> crd_objects()[1]["spec"]["names"]["shortNames"]
['ks']
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any, Protocol

from gitops_lab import errors

SOURCE_GROUP = "source.toolkit.fluxcd.io"
KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
VERSION = "v1"
GITREPOSITORY = (f"{SOURCE_GROUP}/{VERSION}", "GitRepository")
KUSTOMIZATION = (f"{KUSTOMIZE_GROUP}/{VERSION}", "Kustomization")
FIELD_MANAGER = "gitops-lab"
"""The field manager that installs the definitions (the reconciler itself applies as ``kustomize-controller``)."""
CRD_API_VERSION = "apiextensions.k8s.io/v1"

Schema = dict[str, Any]

_DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
_GIT_TIMEOUT = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"
_READY_STATUS = '.status.conditions[?(@.type=="Ready")].status'
_READY_MESSAGE = '.status.conditions[?(@.type=="Ready")].message'


class _Client(Protocol):
    async def apply(self, obj: dict[str, Any], field_manager: str, force: bool = True,
                    dry_run: bool = False) -> dict[str, Any]: ...

    async def get(self, api_version: str, kind: str, name: str,
                  namespace: str | None = None) -> dict[str, Any] | None: ...


def crd_objects() -> list[dict[str, Any]]:
    """The two CustomResourceDefinitions, GitRepository first; fresh copies the caller may change."""
    return copy.deepcopy([_gitrepository_crd(), _kustomization_crd()])


async def install(client: _Client, *, timeout: float = 30.0, poll: float = 0.05) -> list[dict[str, Any]]:
    """Apply both definitions (server-side, forced) and wait until the API server reports them Established.

    Returns the established CustomResourceDefinitions as the server has them.

    Raises:
        ReconcileError: a definition was not Established within ``timeout`` seconds (the message carries the
            server's NamesAccepted/Established conditions), or the server refused it (the client's error,
            chained).
    """
    names = []
    for crd in crd_objects():
        try:
            await client.apply(crd, FIELD_MANAGER, force=True)
        except errors.LabError as err:
            raise errors.ReconcileError(f"The cluster refused the CustomResourceDefinition "
                                        f"{crd['metadata']['name']}: {err}; check that the kubeconfig's user may "
                                        f"manage CustomResourceDefinitions and install again.") from err
        names.append(crd["metadata"]["name"])
    return [await _established(client, name, timeout, poll) for name in names]


async def _established(client: _Client, name: str, timeout: float, poll: float) -> dict[str, Any]:
    live: dict[str, Any] | None = None
    try:
        async with asyncio.timeout(timeout):
            while True:
                live = await client.get(CRD_API_VERSION, "CustomResourceDefinition", name)
                if live is not None and _condition(live, "Established") == "True":
                    return live
                await asyncio.sleep(poll)
    except TimeoutError:
        conditions = ((live or {}).get("status") or {}).get("conditions") or []
        said = "; ".join(f"{c.get('type')}={c.get('status')} ({c.get('message', '')})" for c in conditions)
        raise errors.ReconcileError(f"The CustomResourceDefinition {name} was not Established within {timeout} s"
                                    f" (the server says: {said or 'no conditions yet'}); check the API server "
                                    f"and install again.") from None


def _condition(obj: dict[str, Any], type_: str) -> str | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return str(cond.get("status"))
    return None


# ---- schema pieces -------------------------------------------------------------------------------------------

def _string(description: str, **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


def _boolean(description: str, **extra: Any) -> Schema:
    return {"type": "boolean", "description": description, **extra}


def _integer(description: str) -> Schema:
    return {"type": "integer", "format": "int64", "description": description}


def _duration(description: str, pattern: str = _DURATION, **extra: Any) -> Schema:
    return _string(description, pattern=pattern, **extra)


def _object(description: str, properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    schema: Schema = {"type": "object", "description": description, "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _array(description: str, items: Schema) -> Schema:
    return {"type": "array", "description": description, "items": items}


def _local_reference(description: str) -> Schema:
    return _object(description, {"name": _string("Name of the referent.")}, ["name"])


def _conditions() -> Schema:
    """Kubernetes' standard metav1.Condition list, as every Flux object carries it."""
    return _array("Conditions of the object's state (Ready, Reconciling, Stalled, …).", _object(
        "One aspect of the object's current state.", {
            "lastTransitionTime": _string("When the condition last changed from one status to another.",
                                          format="date-time"),
            "message": _string("A human readable message about the transition.", maxLength=32768),
            "observedGeneration": {**_integer("The .metadata.generation the condition was set for."),
                                   "minimum": 0},
            "reason": _string("A CamelCase reason for the condition's last transition.", maxLength=1024,
                              minLength=1, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"),
            "status": _string("The status of the condition.", enum=["True", "False", "Unknown"]),
            "type": _string("The type of the condition, e.g. Ready.", maxLength=316,
                            pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                                    r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"),
        }, ["lastTransitionTime", "message", "reason", "status", "type"]))


def _printer_columns(*first: dict[str, str]) -> list[dict[str, str]]:
    return [*first,
            {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"},
            {"jsonPath": _READY_STATUS, "name": "Ready", "type": "string"},
            {"jsonPath": _READY_MESSAGE, "name": "Status", "type": "string"}]


def _crd(group: str, kind: str, plural: str, short: str, category: str, description: str,
         spec: Schema, status: Schema, columns: list[dict[str, str]]) -> dict[str, Any]:
    schema = _object(description, {
        "apiVersion": _string("The versioned schema of this representation of an object."),
        "kind": _string("The REST resource this object represents."),
        "metadata": {"type": "object"},
        "spec": spec,
        "status": status,
    })
    return {
        "apiVersion": CRD_API_VERSION,
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "names": {"categories": ["all", "fluxcd", category], "kind": kind, "listKind": f"{kind}List",
                      "plural": plural, "shortNames": [short], "singular": kind.lower()},
            "scope": "Namespaced",
            "versions": [{"name": VERSION, "served": True, "storage": True,
                          "additionalPrinterColumns": columns,
                          "schema": {"openAPIV3Schema": schema},
                          "subresources": {"status": {}}}],
        },
    }


# ---- GitRepository ---------------------------------------------------------------------------------------------

def _gitrepository_crd() -> dict[str, Any]:
    spec = _object("The Git repository to fetch and the reference to follow.", {
        "url": _string("The Git repository URL, http(s):// or ssh://.", pattern=r"^(http|https|ssh)://.*$"),
        "interval": _duration("How often the repository is checked for new commits, as a Go duration (e.g. "
                              "1m0s). A push to the lab's Git server is noticed at once as well."),
        "ref": _object("The Git reference to follow; the branch 'master' when none is given. commit wins "
                       "over name, name over tag, tag over branch; commit may be combined with branch.", {
                           "branch": _string("The branch to follow, e.g. main."),
                           "tag": _string("The tag to check out; takes precedence over branch."),
                           "name": _string("A full reference name, e.g. refs/heads/main or refs/tags/v1.0.0; "
                                           "takes precedence over branch and tag."),
                           "commit": _string("The commit SHA to check out; takes precedence over all others. "
                                             "With branch, the commit must be on that branch."),
                       }),
        "secretRef": _local_reference("A Secret in the same namespace with 'username' and 'password' for "
                                      "HTTP basic authentication."),
        "timeout": _duration("Timeout for Git operations like fetching, defaults to 60s.", _GIT_TIMEOUT,
                             default="60s"),
        "suspend": _boolean("Suspend stops fetching this repository until it is set to false again."),
    }, ["interval", "url"])
    artifact = _object("The last fetched revision, exported for the Kustomizations that use it.", {
        "digest": _string("A digest of the artifact's content, <algorithm>:<hex>.",
                          pattern=r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"),
        "lastUpdateTime": _string("When the artifact was stored.", format="date-time"),
        "path": _string("The artifact's path in the lab's storage."),
        "revision": _string("The revision of the artifact, e.g. main@sha1:<40 hex digits>."),
        "size": _integer("The artifact's size in bytes."),
        "url": _string("Where the artifact can be read from."),
    }, ["digest", "lastUpdateTime", "path", "revision", "url"])
    status = _object("The observed state of the GitRepository.", {
        "artifact": artifact,
        "conditions": _conditions(),
        "lastHandledReconcileAt": _string("The last value of the reconcile.fluxcd.io/requestedAt annotation "
                                          "that was handled."),
        "observedGeneration": _integer("The last observed generation of the GitRepository."),
    })
    return _crd(SOURCE_GROUP, "GitRepository", "gitrepositories", "gitrepo", "fluxcd-sources",
                "GitRepository is the Schema for the gitrepositories API: a Git repository to fetch.",
                spec, status, _printer_columns({"jsonPath": ".spec.url", "name": "URL", "type": "string"}))


# ---- Kustomization -------------------------------------------------------------------------------------------

def _kustomization_crd() -> dict[str, Any]:
    spec = _object("What to build from a source and how to apply it.", {
        "interval": _duration("How often the Kustomization is reconciled, as a Go duration (e.g. 10m0s)."),
        "retryInterval": _duration("How soon a failed reconciliation is retried; defaults to interval."),
        "path": _string("The directory in the source with a kustomization.yaml or plain YAML files; defaults to "
                        "the source's root."),
        "prune": _boolean("Prune deletes the objects that were applied before and are no longer in Git."),
        "sourceRef": _object("The source to build from.", {
            "apiVersion": _string("API version of the referent."),
            "kind": _string("Kind of the referent; the lab supports GitRepository.", enum=["GitRepository"]),
            "name": _string("Name of the referent."),
            "namespace": _string("Namespace of the referent; defaults to the Kustomization's namespace."),
        }, ["kind", "name"]),
        "targetNamespace": _string("Sets or overrides the namespace of every namespaced object.", maxLength=63,
                                   minLength=1),
        "suspend": _boolean("Suspend stops reconciling (and correcting drift) until it is set to false again."),
        "timeout": _duration("Timeout for applying and health checking; defaults to interval."),
        "wait": _boolean("Wait for all applied objects to become ready; healthChecks are then ignored."),
        "healthChecks": _array("Objects whose readiness decides the Kustomization's health.", _object(
            "A reference to one object.", {
                "apiVersion": _string("API version of the referent."),
                "kind": _string("Kind of the referent."),
                "name": _string("Name of the referent."),
                "namespace": _string("Namespace of the referent."),
            }, ["kind", "name"])),
        "force": _boolean("Force recreates objects whose update fails on an immutable field.", default=False),
    }, ["interval", "prune", "sourceRef"])
    inventory = _object("The objects applied by the last successful reconciliation.", {
        "entries": _array("One entry per object.", _object("An object reference.", {
            "id": _string("<namespace>_<name>_<group>_<kind> of the object."),
            "v": _string("The object's API version, e.g. v1."),
        }, ["id", "v"])),
    }, ["entries"])
    status = _object("The observed state of the Kustomization.", {
        "conditions": _conditions(),
        "inventory": inventory,
        "lastAppliedRevision": _string("The last revision applied successfully."),
        "lastAttemptedRevision": _string("The revision of the last reconciliation attempt."),
        "lastHandledReconcileAt": _string("The last value of the reconcile.fluxcd.io/requestedAt annotation "
                                          "that was handled."),
        "observedGeneration": _integer("The last reconciled generation."),
    })
    return _crd(KUSTOMIZE_GROUP, "Kustomization", "kustomizations", "ks", "fluxcd-appliers",
                "Kustomization is the Schema for the kustomizations API: a path of a source, applied and kept "
                "in sync.", spec, status, _printer_columns())
