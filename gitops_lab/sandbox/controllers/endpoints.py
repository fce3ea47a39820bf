"""The Endpoints controller: each Service with a selector gets an Endpoints object listing its pods.

Owns the ``Endpoints`` named after each selector Service: ready pods' IPs under ``addresses``, not-ready ones under
``notReadyAddresses`` (all under ``addresses`` with ``publishNotReadyAddresses``), terminating and finished pods
left out, ports taken from the Service with named target ports resolved per pod, pods grouped into subsets by
their resolved ports; the Endpoints is deleted with its Service. Services without a selector are left to their
users. Must not touch Services or pods.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from gitops_lab.sandbox import statuses
from gitops_lab.sandbox.controllers import base, objects
from gitops_lab.sandbox.store import Change

Key = tuple[str, str]
Obj = dict[str, Any]

SVC_KEY = "services"
EP_KEY = "endpoints"
POD_KEY = "pods"
HEADLESS_LABEL = "service.kubernetes.io/headless"
TRIGGER_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time"


def _target_port(port: Mapping[str, Any], pod: Mapping[str, Any]) -> int | None:
    """The pod's port a Service port sends to: a number, or a named container port (None if the pod lacks it)."""
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    text = str(target)
    if text.isdigit():
        return int(text)
    protocol = port.get("protocol", "TCP")
    for container in (pod.get("spec") or {}).get("containers") or []:
        for cport in container.get("ports") or []:
            if cport.get("name") == text and cport.get("protocol", "TCP") == protocol:
                return objects.int_value(cport.get("containerPort"))
    return None


def _endpoint_port(port: Mapping[str, Any], number: int) -> Obj:
    result: Obj = {"port": number, "protocol": port.get("protocol", "TCP")}
    if port.get("name"):
        result["name"] = port["name"]
    if port.get("appProtocol"):
        result["appProtocol"] = port["appProtocol"]
    return result


def _address(pod: Mapping[str, Any], service: Mapping[str, Any]) -> Obj:
    meta = objects.meta(pod)
    spec = pod.get("spec") or {}
    address: Obj = {"ip": (pod.get("status") or {}).get("podIP"),
                    "targetRef": {"kind": "Pod", "namespace": meta.get("namespace"), "name": meta.get("name"),
                                  "uid": meta.get("uid")}}
    if spec.get("nodeName"):
        address["nodeName"] = spec["nodeName"]
    if spec.get("hostname") and spec.get("subdomain") == objects.meta(service).get("name"):
        address["hostname"] = spec["hostname"]
    return address


def _ip_key(address: Mapping[str, Any]) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in str(address.get("ip")).split("."))
    except ValueError:
        return (1 << 16,)


def subsets_for(service: Mapping[str, Any], pods: list[Obj]) -> list[Obj]:
    """The Endpoints subsets of a Service for the pods its selector matched.

    >>> svc = {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"},
    ...        "ports": [{"port": 80, "targetPort": "http"}]}}
    >>> pod = {"metadata": {"name": "p", "namespace": "d", "uid": "u"},
    ...        "spec": {"containers": [{"ports": [{"name": "http", "containerPort": 8080}]}]},
    ...        "status": {"podIP": "10.244.0.5", "conditions": [{"type": "Ready", "status": "True"}]}}
    >>> [(s["addresses"][0]["ip"], s["ports"]) for s in subsets_for(svc, [pod])]
    [('10.244.0.5', [{'port': 8080, 'protocol': 'TCP'}])]
    """
    spec = service.get("spec") or {}
    publish_not_ready = bool(spec.get("publishNotReadyAddresses"))
    svc_ports = spec.get("ports") or []
    groups: dict[tuple[tuple[Any, ...], ...], tuple[list[Obj], list[Obj], list[Obj]]] = {}
    for pod in pods:
        status = pod.get("status") or {}
        if not status.get("podIP") or status.get("phase") in ("Succeeded", "Failed"):
            continue
        if objects.is_deleting(pod) and not publish_not_ready:
            continue
        ports = []
        for port in svc_ports:
            number = _target_port(port, pod)
            if number is not None:
                ports.append(_endpoint_port(port, number))
        if svc_ports and not ports:
            continue
        ports.sort(key=lambda p: (p.get("name", ""), p["port"], p["protocol"]))
        group_key = tuple(tuple(sorted(p.items())) for p in ports)
        addresses, not_ready, _ = groups.setdefault(group_key, ([], [], ports))
        ready = objects.pod_is_ready(pod) or publish_not_ready
        (addresses if ready else not_ready).append(_address(pod, service))
    subsets = []
    for _, (addresses, not_ready, ports) in sorted(groups.items()):
        subset: Obj = {}
        if addresses:
            subset["addresses"] = sorted(addresses, key=_ip_key)
        if not_ready:
            subset["notReadyAddresses"] = sorted(not_ready, key=_ip_key)
        if ports:
            subset["ports"] = ports
        subsets.append(subset)
    return subsets


class EndpointsController(base.Controller[Key]):
    """Endpoints for every Service with a selector."""

    name = "endpoints"
    component = "endpoint-controller"

    def keys_for(self, change: Change) -> Iterator[Key]:
        name = change.object["metadata"]["name"]
        if change.key == SVC_KEY:
            yield (change.namespace, name)
        elif change.key == EP_KEY:
            service = self.api.store.get(SVC_KEY, change.namespace, name)
            if service is not None and (service.get("spec") or {}).get("selector"):
                yield (change.namespace, name)
        elif change.key == POD_KEY:
            for service in self.api.store.items(SVC_KEY, change.namespace):
                if (service.get("spec") or {}).get("selector"):
                    yield (change.namespace, service["metadata"]["name"])

    def initial_keys(self) -> Iterator[Key]:
        for key in (SVC_KEY, EP_KEY):
            for obj in self.api.store.items(key):
                yield (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])

    def reconcile(self, key: Key) -> None:
        namespace, name = key
        service = self.api.store.get(SVC_KEY, namespace, name)
        existing = self.api.store.get(EP_KEY, namespace, name)
        if service is None:
            if existing is not None:
                try:
                    self.api.delete(self.rt(EP_KEY), namespace, name)
                except statuses.ApiError as err:
                    if err.code != 404:
                        raise
            return
        spec = service.get("spec") or {}
        selector = spec.get("selector")
        if not selector or spec.get("type") == "ExternalName":
            return
        pods = [p for p in self.api.store.items(POD_KEY, namespace)
                if objects.matches_map_selector(selector, objects.labels(p))]
        subsets = subsets_for(service, pods)
        labels = dict(objects.labels(service))
        if spec.get("clusterIP") == "None":
            labels[HEADLESS_LABEL] = ""
        if existing is None:
            if not self.namespace_is_live(namespace):
                return
            body: Obj = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": namespace}}
            if labels:
                body["metadata"]["labels"] = labels
            if subsets:
                body["subsets"] = subsets
            self.api.create(self.rt(EP_KEY), namespace, body, self.write_options())
            return
        if (existing.get("subsets") or []) == subsets and dict(objects.labels(existing)) == labels:
            return
        body = copy.deepcopy(existing)
        body["metadata"]["labels"] = labels
        body["metadata"].setdefault("annotations", {})[TRIGGER_ANNOTATION] = self.api.now()
        if subsets:
            body["subsets"] = subsets
        else:
            body.pop("subsets", None)
        self.api.update(self.rt(EP_KEY), namespace, name, body, self.write_options())
