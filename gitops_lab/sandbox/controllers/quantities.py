"""Resource quantities (``100m``, ``1.5``, ``128Mi``, ``1e3``) as exact numbers, and a pod's resource requests.

Owns the arithmetic the simulated scheduler needs: parsing Kubernetes quantity strings and summing what a pod
asks for (containers summed, init containers as a maximum, as kube-scheduler counts them). Pure.

>>> parse_quantity("250m"), parse_quantity("1Gi") == 1024 ** 3
(Fraction(1, 4), True)
"""

from __future__ import annotations

import fractions
import re
from collections.abc import Mapping
from typing import Any

_BINARY = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_DECIMAL = {"n": fractions.Fraction(1, 10 ** 9), "u": fractions.Fraction(1, 10 ** 6),
            "m": fractions.Fraction(1, 1000), "": fractions.Fraction(1), "k": fractions.Fraction(10 ** 3),
            "M": fractions.Fraction(10 ** 6), "G": fractions.Fraction(10 ** 9), "T": fractions.Fraction(10 ** 12),
            "P": fractions.Fraction(10 ** 15), "E": fractions.Fraction(10 ** 18)}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$")


def parse_quantity(value: Any) -> fractions.Fraction:
    """The exact value of a quantity; raises ValueError for text that is not one.

    >>> parse_quantity("1e3"), parse_quantity(2), parse_quantity("0.5")
    (Fraction(1000, 1), Fraction(2, 1), Fraction(1, 2))
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a quantity")
    if isinstance(value, int | float):
        return fractions.Fraction(value)
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a quantity")
    number = fractions.Fraction(match.group(1))
    exponent, suffix = match.group(2), match.group(3) or ""
    if exponent:
        return number * fractions.Fraction(10) ** int(exponent[1:])
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    return number * _DECIMAL[suffix]


def pod_requests(pod: Mapping[str, Any]) -> dict[str, fractions.Fraction]:
    """What a pod asks of a node: the sum over containers, at least the largest init container's ask.

    Requests default to limits when only limits are given, as the apiserver defaults them.

    >>> spec = {"containers": [{"resources": {"requests": {"cpu": "100m"}}},
    ...                        {"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}
    >>> pod_requests({"spec": spec})["cpu"]
    Fraction(11, 10)
    """
    spec = pod.get("spec") or {}
    total: dict[str, fractions.Fraction] = {}
    for container in spec.get("containers") or []:
        for name, amount in _container_requests(container).items():
            total[name] = total.get(name, fractions.Fraction(0)) + amount
    for container in spec.get("initContainers") or []:
        for name, amount in _container_requests(container).items():
            total[name] = max(total.get(name, fractions.Fraction(0)), amount)
    for name, amount in (spec.get("overhead") or {}).items():
        total[name] = total.get(name, fractions.Fraction(0)) + parse_quantity(amount)
    return total


def _container_requests(container: Mapping[str, Any]) -> dict[str, fractions.Fraction]:
    resources = container.get("resources") or {}
    merged = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
    result = {}
    for name, amount in merged.items():
        try:
            result[name] = parse_quantity(amount)
        except ValueError:
            continue  # validation rejects such a pod; the scheduler only skips the bad value
    return result
