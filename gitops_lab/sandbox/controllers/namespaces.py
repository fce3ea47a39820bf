"""The namespace controller (with the service-account controller's one duty): namespaces live and die cleanly.

Owns: the system namespaces (``default``, ``kube-system``, ``kube-public``, ``kube-node-lease``) existing from the
start and recreated once gone (kube-apiserver's system-namespaces loop does that); the ``kubernetes`` Service in
``default`` (ClusterIP 10.96.0.1, port 443 → the API server's 6443 on the node) with its Endpoints, recreated once
gone (kube-apiserver's bootstrap controller and endpoint reconciler do that); the ``default`` ServiceAccount in every
live namespace (recreated if deleted); the ``kube-root-ca.crt`` ConfigMap with the cluster CA in every live
namespace when the CA is known (kube-controller-manager's root-ca-cert-publisher, restoring it when deleted or
changed); and termination — a namespace
with a deletionTimestamp has every namespaced object in it deleted, reports what remains in its status conditions
(NamespaceContentRemaining, NamespaceFinalizersRemaining, as kube-controller-manager does), and once nothing remains
loses its ``kubernetes`` finalizer (``Api.finalize``) and disappears. Must not delete anything outside a
terminating namespace.
"""

from __future__ import annotations

import collections
import copy
from collections.abc import Iterator
from typing import Any

from gitops_lab import clock as clocks
from gitops_lab.sandbox import api as apis
from gitops_lab.sandbox import statuses
from gitops_lab.sandbox.controllers import base, objects
from gitops_lab.sandbox.controllers.settings import ControllerSettings
from gitops_lab.sandbox.store import Change

Obj = dict[str, Any]

NS_KEY = "namespaces"
SA_KEY = "serviceaccounts"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
FINALIZER = "kubernetes"
SVC_KEY = "services"
EP_KEY = "endpoints"
CM_KEY = "configmaps"
KUBERNETES_SERVICE = "kubernetes"
KUBERNETES_SERVICE_IP = "10.96.0.1"
APISERVER_PORT = 6443
APISERVER_MANAGER = "kube-apiserver"
ROOT_CA = "kube-root-ca.crt"
ROOT_CA_DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
                       "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
                       "guaranteed across distributions of Kubernetes clusters.")


def group_resource(key: str) -> str:
    """``replicasets.apps`` for ``apps/replicasets``, ``pods`` for ``pods`` (as the messages name them).

    >>> group_resource("apps/replicasets"), group_resource("pods")
    ('replicasets.apps', 'pods')
    """
    group, _, plural = key.rpartition("/")
    return f"{plural}.{group}" if group else plural


def remaining_conditions(counts: dict[str, int], finalizers: dict[str, int]) -> list[Obj]:
    """The deletion conditions for what is left (resource counts and finalizer counts).

    >>> [c["status"] for c in remaining_conditions({"pods": 2}, {})][-2:]
    ['True', 'False']
    """
    conditions: list[Obj] = [
        {"type": "NamespaceDeletionDiscoveryFailure", "status": "False", "reason": "ResourcesDiscovered",
         "message": "All resources successfully discovered"},
        {"type": "NamespaceDeletionGroupVersionParsingFailure", "status": "False", "reason": "ParsedGroupVersions",
         "message": "All legacy kube types successfully parsed"},
        {"type": "NamespaceDeletionContentFailure", "status": "False", "reason": "ContentDeleted",
         "message": "All content successfully deleted, may be waiting on finalization"},
    ]
    if counts:
        detail = ", ".join(sorted(f"{group_resource(k)} has {n} resource instances" for k, n in counts.items()))
        conditions.append({"type": "NamespaceContentRemaining", "status": "True", "reason": "SomeResourcesRemain",
                           "message": f"Some resources are remaining: {detail}"})
    else:
        conditions.append({"type": "NamespaceContentRemaining", "status": "False", "reason": "ContentRemoved",
                           "message": "All content successfully removed"})
    if finalizers:
        detail = ", ".join(f"{f} in {n} resource instances" for f, n in sorted(finalizers.items()))
        conditions.append({"type": "NamespaceFinalizersRemaining", "status": "True",
                           "reason": "SomeFinalizersRemain",
                           "message": f"Some content in the namespace has finalizers remaining: {detail}"})
    else:
        conditions.append({"type": "NamespaceFinalizersRemaining", "status": "False",
                           "reason": "ContentHasNoFinalizers", "message": "All content-preserving finalizers finished"})
    return conditions


def kubernetes_service() -> Obj:
    """The Service kube-apiserver keeps in ``default`` for reaching it from inside the cluster."""
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": KUBERNETES_SERVICE, "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": KUBERNETES_SERVICE_IP, "clusterIPs": [KUBERNETES_SERVICE_IP],
                     "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "sessionAffinity": "None",
                     "internalTrafficPolicy": "Cluster",
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": APISERVER_PORT}]}}


def kubernetes_endpoints(apiserver_ip: str) -> Obj:
    """The Endpoints of the ``kubernetes`` Service: the API server on the node (its endpoint reconciler's)."""
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": KUBERNETES_SERVICE, "namespace": "default",
                         "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": apiserver_ip}],
                         "ports": [{"name": "https", "port": APISERVER_PORT, "protocol": "TCP"}]}]}


def root_ca_config_map(namespace: str, ca_pem: str) -> Obj:
    """The ``kube-root-ca.crt`` ConfigMap kube-controller-manager publishes into every namespace."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": ROOT_CA, "namespace": namespace,
                         "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
            "data": {"ca.crt": ca_pem}}


class NamespaceController(base.Controller[str]):
    """System namespaces, the ``kubernetes`` Service, default ServiceAccounts, root CA ConfigMaps, termination."""

    name = "namespace"
    component = "namespace-controller"

    def __init__(self, api: apis.Api, clock: clocks.Clock, settings: ControllerSettings | None = None) -> None:
        super().__init__(api, clock)
        self.settings = settings or ControllerSettings()

    def on_start(self) -> None:
        rt = self.rt(NS_KEY)
        for name in SYSTEM_NAMESPACES:
            if self.api.store.get(NS_KEY, "", name) is None:
                try:
                    self.api.create(rt, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                                    self.write_options())
                except statuses.ApiError as err:
                    if err.code != 409:
                        raise
        self._ensure_kubernetes_service()

    def keys_for(self, change: Change) -> Iterator[str]:
        if change.key == NS_KEY:
            yield change.object["metadata"]["name"]
            return
        if not change.namespace:
            return
        name = change.object["metadata"]["name"]
        if (change.key == SA_KEY and name == "default") or (change.key == CM_KEY and name == ROOT_CA) or (
                change.key in (SVC_KEY, EP_KEY) and change.namespace == "default" and name == KUBERNETES_SERVICE):
            yield change.namespace
            return
        namespace = self.api.store.get(NS_KEY, "", change.namespace)
        if namespace is not None and objects.is_deleting(namespace):
            yield change.namespace

    def initial_keys(self) -> Iterator[str]:
        for namespace in self.api.store.items(NS_KEY):
            yield namespace["metadata"]["name"]

    def reconcile(self, key: str) -> None:
        namespace = self.api.store.get(NS_KEY, "", key)
        if namespace is None:
            if key in SYSTEM_NAMESPACES:  # kube-apiserver keeps these in existence
                self.on_start()
            return
        if objects.is_deleting(namespace):
            self._terminate(key, namespace)
            return
        if (namespace.get("status") or {}).get("phase") is None:
            body = copy.deepcopy(namespace)
            body["status"] = {**(namespace.get("status") or {}), "phase": "Active"}
            self.api.update(self.rt(NS_KEY), None, key, body, self.write_options(), subresource="status")
        if self.api.store.get(SA_KEY, key, "default") is None:
            self._create(SA_KEY, key, {"apiVersion": "v1", "kind": "ServiceAccount",
                                       "metadata": {"name": "default", "namespace": key}})
        if self.settings.root_ca:
            self._ensure_root_ca(key)
        if key == "default":
            self._ensure_kubernetes_service()

    def _create(self, resource: str, namespace: str, body: Obj, manager: str | None = None) -> None:
        options = apis.WriteOptions(field_manager=manager) if manager else self.write_options()
        try:
            self.api.create(self.rt(resource), namespace, body, options)
        except statuses.ApiError as err:
            if err.code not in (403, 409):  # terminating meanwhile, or created by someone else
                raise

    def _ensure_root_ca(self, namespace: str) -> None:
        wanted = root_ca_config_map(namespace, self.settings.root_ca)
        current = self.api.store.get(CM_KEY, namespace, ROOT_CA)
        if current is None:
            self._create(CM_KEY, namespace, wanted)
        elif current.get("data") != wanted["data"] or (current["metadata"].get("annotations") or {}).get(
                "kubernetes.io/description") != ROOT_CA_DESCRIPTION:
            if base.update_would_delete(CM_KEY, current):
                return
            body = copy.deepcopy(current)
            body["data"] = wanted["data"]
            body.pop("binaryData", None)
            body["metadata"].setdefault("annotations", {})["kubernetes.io/description"] = ROOT_CA_DESCRIPTION
            self.api.update(self.rt(CM_KEY), namespace, ROOT_CA, body, self.write_options())

    def _ensure_kubernetes_service(self) -> None:
        """The ``kubernetes`` Service and its Endpoints in ``default`` (created when missing, addresses kept)."""
        if not self.namespace_is_live("default"):
            return
        if self.api.store.get(SVC_KEY, "default", KUBERNETES_SERVICE) is None:
            self._create(SVC_KEY, "default", kubernetes_service(), APISERVER_MANAGER)
        wanted = kubernetes_endpoints(self.settings.node_ip)
        current = self.api.store.get(EP_KEY, "default", KUBERNETES_SERVICE)
        if current is None:
            self._create(EP_KEY, "default", wanted, APISERVER_MANAGER)
        elif current.get("subsets") != wanted["subsets"] and not base.update_would_delete(EP_KEY, current):
            body = copy.deepcopy(current)
            body["subsets"] = wanted["subsets"]
            self.api.update(self.rt(EP_KEY), "default", KUBERNETES_SERVICE, body,
                            apis.WriteOptions(field_manager=APISERVER_MANAGER))

    def _terminate(self, key: str, namespace: Obj) -> None:
        counts: dict[str, int] = collections.Counter()
        finalizers: dict[str, int] = collections.Counter()
        resources = self.api.store.keys()
        for resource in resources:
            try:
                rt = self.rt(resource)
            except LookupError:
                continue
            if not rt.namespaced:
                continue
            for obj in list(self.api.store.items(resource, key)):
                if not objects.is_deleting(obj):
                    try:
                        self.api.delete(rt, key, obj["metadata"]["name"])
                    except statuses.ApiError as err:
                        if err.code != 404:
                            raise
                still = self.api.store.get(resource, key, obj["metadata"]["name"])
                if still is not None:
                    counts[resource] += 1
                    for finalizer in still["metadata"].get("finalizers") or []:
                        finalizers[finalizer] += 1
        self._report(key, namespace, dict(counts), dict(finalizers))
        if not counts:
            self.api.finalize(self.rt(NS_KEY), key, None, FINALIZER)

    def _report(self, key: str, namespace: Obj, counts: dict[str, int], finalizers: dict[str, int]) -> None:
        if base.update_would_delete(NS_KEY, namespace):
            return  # writing the conditions would delete the namespace before its content is gone
        status = copy.deepcopy(namespace.get("status") or {})
        conditions: list[Obj] = status.get("conditions") or []
        changed = False
        stamp = self.api.now()
        for cond in remaining_conditions(counts, finalizers):
            changed |= objects.set_condition(conditions, cond, stamp)
        if status.get("phase") != "Terminating":
            status["phase"] = "Terminating"
            changed = True
        if not changed:
            return
        status["conditions"] = conditions
        current = self.api.store.get(NS_KEY, "", key)
        if current is None:
            return
        body = copy.deepcopy(current)
        body["status"] = status
        self.api.update(self.rt(NS_KEY), None, key, body, self.write_options(), subresource="status")
