"""Whether a pod fits the sandbox's node, and the scheduler's words when it does not.

Owns the simulated kube-scheduler's filter: node cordoned (``spec.unschedulable``), nodeSelector, taints the pod
does not tolerate, and the sum of requests (cpu, memory, pods, any extended resource) of the pods already bound
against the node's allocatable — with FailedScheduling messages in kube-scheduler's format. Pure.

>>> node = {"metadata": {"labels": {}}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}
>>> big = {"spec": {"containers": [{"resources": {"requests": {"cpu": "5"}}}]}}
>>> unschedulable_message(fit_failures(big, node, []))
'0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.'
"""

from __future__ import annotations

import fractions
from collections.abc import Iterable, Mapping
from typing import Any

from gitops_lab.sandbox.controllers import quantities

SELECTOR_MISMATCH = "node(s) didn't match Pod's node affinity/selector"
CORDONED = "node(s) were unschedulable"


def _tolerates(pod: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    for toleration in (pod.get("spec") or {}).get("tolerations") or []:
        if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
            continue
        if toleration.get("operator") == "Exists" and not toleration.get("key"):
            return True
        if toleration.get("key") != taint.get("key"):
            continue
        if toleration.get("operator") == "Exists" or toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def fit_failures(pod: Mapping[str, Any], node: Mapping[str, Any], bound: Iterable[Mapping[str, Any]]) -> list[str]:
    """Why ``pod`` cannot go on ``node`` given the pods already ``bound`` there (empty when it fits)."""
    spec, node_spec = pod.get("spec") or {}, node.get("spec") or {}
    node_labels = (node.get("metadata") or {}).get("labels") or {}
    if node_spec.get("unschedulable") and not _tolerates(pod, {"key": "node.kubernetes.io/unschedulable",
                                                                 "effect": "NoSchedule"}):
        return [CORDONED]
    for taint in node_spec.get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates(pod, taint):
            return [f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"]
    if any(node_labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return [SELECTOR_MISMATCH]
    return _insufficient(pod, node, bound)


def _insufficient(pod: Mapping[str, Any], node: Mapping[str, Any], bound: Iterable[Mapping[str, Any]]) -> list[str]:
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    used: dict[str, fractions.Fraction] = {}
    count = 0
    for other in bound:
        count += 1
        for name, amount in quantities.pod_requests(other).items():
            used[name] = used.get(name, fractions.Fraction(0)) + amount
    failures = []
    if "pods" in allocatable and count + 1 > quantities.parse_quantity(allocatable["pods"]):
        failures.append("Too many pods")
    for name, amount in sorted(quantities.pod_requests(pod).items()):
        if amount == 0:
            continue
        capacity = quantities.parse_quantity(allocatable[name]) if name in allocatable else fractions.Fraction(0)
        if used.get(name, fractions.Fraction(0)) + amount > capacity:
            failures.append(f"Insufficient {name}")
    return failures


def unschedulable_message(failures: list[str], nodes: int = 1) -> str:
    """kube-scheduler's FailedScheduling text for one node's failures.

    >>> unschedulable_message([SELECTOR_MISMATCH])
    "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    """
    reasons = ", ".join(f"{nodes} {reason}" for reason in sorted(failures))
    helpful = all(r.startswith("Insufficient") or r == "Too many pods" for r in failures)
    preemption = "No preemption victims found for incoming pod" if helpful else \
        "Preemption is not helpful for scheduling"
    return (f"0/{nodes} nodes are available: {reasons}. preemption: 0/{nodes} nodes are available: "
            f"{nodes} {preemption}.")
