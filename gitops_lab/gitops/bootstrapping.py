"""What a new lab's cluster gets so that it is GitOps-managed from the start: Flux's CRDs and the lab's objects.

Owns the objects (pure: :func:`lab_objects`) — the ``flux-system`` namespace, a Secret with the Git server's
credentials, a GitRepository for the ``fleet`` repository and one Kustomization per environment — and applying them
(:func:`install`) with server-side apply, so bootstrapping twice changes nothing.

>>> [o["kind"] + "/" + o["metadata"]["name"] for o in lab_objects("http://127.0.0.1:9/fleet.git", "u", "p")][2:]
['GitRepository/fleet', 'Kustomization/test', 'Kustomization/prod']
"""

from __future__ import annotations

from typing import Any

from gitops_lab.gitops import crds
from gitops_lab.kube import client as kube

NAMESPACE = "flux-system"
ENVIRONMENTS = ("test", "prod")
MANAGER = "gitops-lab"


def lab_objects(fleet_url: str, username: str, password: str, *, interval: str = "1m0s",
                retry_interval: str = "15s") -> list[dict[str, Any]]:
    meta = {"namespace": NAMESPACE}
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "fleet-auth", **meta}, "type": "Opaque",
         "stringData": {"username": username, "password": password}},
        {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": {"name": "fleet", **meta},
         "spec": {"url": fleet_url, "ref": {"branch": "main"}, "interval": interval,
                  "secretRef": {"name": "fleet-auth"}}},
    ]
    for env in ENVIRONMENTS:
        objects.append({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": {"name": env, **meta},
            "spec": {"interval": interval, "retryInterval": retry_interval, "path": f"./envs/{env}", "prune": True,
                     "sourceRef": {"kind": "GitRepository", "name": "fleet"}, "timeout": "2m0s"}})
    return objects


async def install(client: kube.Client, fleet_url: str, username: str, password: str) -> None:
    """Flux's CRDs, then the lab's Flux objects, applied idempotently."""
    await crds.install(client)
    for obj in lab_objects(fleet_url, username, password):
        await client.apply(obj, MANAGER, force=True)
