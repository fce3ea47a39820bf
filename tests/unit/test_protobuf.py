"""Tests for :mod:`gitops_lab.sandbox.protobuf`.

The strongest oracle is the real kubectl: each ``kubectl create`` below runs once against a throwaway
capture server on 127.0.0.1 (which records the protobuf body) and once with ``--dry-run=client -o json``
(which prints the JSON kubectl would have sent); the decoded body must equal that JSON. Hand-built bodies,
made with the small encoder in this file, cover the fields kubectl does not set, the wire-format corners and
the errors.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import pathlib
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_lab.sandbox import protobuf, schemas
from gitops_lab.sandbox.statuses import ApiError

# --- a small encoder for hand-built bodies ------------------------------------------------------------------


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def v(number: int, value: int) -> bytes:
    """A varint field (negative numbers as 64-bit two's complement, as Go writes them)."""
    return key(number, 0) + varint(value)


def b(number: int, *parts: bytes | str) -> bytes:
    """A length-delimited field: a string, raw bytes, or the concatenated fields of a sub-message."""
    data = b"".join(p.encode() if isinstance(p, str) else p for p in parts)
    return key(number, 2) + varint(len(data)) + data


def entry(number: int, map_key: str, value: bytes | str) -> bytes:
    return b(number, b(1, map_key), b(2, value))


def envelope(api_version: str, kind: str, *raw: bytes) -> bytes:
    return protobuf.MAGIC + b(1, b(1, api_version), b(2, kind)) + b(2, *raw) + b(3, "") + b(4, "")


def meta(name: str, *more: bytes) -> bytes:
    """Field 1 (metadata): a name, an empty creationTimestamp and ``more``, like kubectl's ObjectMeta."""
    return b(1, b(1, name), b(2, ""), b(3, ""), b(8), *more)


def time(number: int, seconds: int) -> bytes:
    return b(number, v(1, seconds), v(2, 0))


def int_or_string(number: int, value: int | str) -> bytes:
    if isinstance(value, int):
        return b(number, v(1, 0), v(2, value), b(3, ""))
    return b(number, v(1, 1), v(2, 0), b(3, value))


def quantity(number: int, text: str) -> bytes:
    return b(number, b(1, text))


def pod_spec(*fields: bytes, name: str = "d") -> bytes:
    """A Deployment named ``name`` whose spec.template.spec holds ``fields``."""
    return envelope("apps/v1", "Deployment", meta(name), b(2, b(3, b(2, *fields))))


def decode_error(body: bytes, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        protobuf.decode(body, **kwargs)
    return info.value


# --- real kubectl -------------------------------------------------------------------------------------------


class _CaptureHandler(http.server.BaseHTTPRequestHandler):
    """Records every request and answers 404, so kubectl gives up after its single POST."""

    server: _CaptureServer

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append((self.command, self.path, self.headers.get("Content-Type", ""), body))
        status = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                             "message": "captured", "code": 404}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(status)))
        self.end_headers()
        self.wfile.write(status)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _record

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _CaptureServer(http.server.ThreadingHTTPServer):
    requests: list[tuple[str, str, str, bytes]]


def _kubectl_binary() -> str | None:
    beside_python = pathlib.Path(sys.executable).parent / "kubectl"
    return str(beside_python) if beside_python.exists() else shutil.which("kubectl")


class Kubectl:
    def __init__(self, binary: str, env: dict[str, str], server: _CaptureServer, files: pathlib.Path) -> None:
        self.binary, self.env, self.server, self.files = binary, env, server, files

    def run(self, args: list[str], *flags: str) -> subprocess.CompletedProcess[str]:
        """``kubectl create <args>`` with ``flags`` before any ``--`` (which starts a container command)."""
        cut = args.index("--") if "--" in args else len(args)
        argv = [self.binary, "create", *args[:cut], *flags, *args[cut:]]
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=60, check=False)

    def sent_body(self, args: list[str]) -> bytes:
        """The protobuf body of ``kubectl create <args> --dry-run=server``."""
        self.server.requests.clear()
        self.run(args, "--dry-run=server")
        posts = [r for r in self.server.requests if r[0] == "POST"]
        assert len(posts) == 1, self.server.requests
        assert posts[0][2] == protobuf.CONTENT_TYPE
        return posts[0][3]

    def client_json(self, args: list[str]) -> dict[str, Any]:
        """What ``kubectl create <args> --dry-run=client -o json`` prints: the object kubectl would send."""
        done = self.run(args, "--dry-run=client", "-o", "json")
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    binary = _kubectl_binary()
    if binary is None:
        pytest.skip("kubectl is not installed")
    home = tmp_path_factory.mktemp("kubectl")
    server = _CaptureServer(("127.0.0.1", 0), _CaptureHandler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = home / "kubeconfig"
    config.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "capture",
        "clusters": [{"name": "capture",
                      "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
        "users": [{"name": "capture", "user": {"token": "test"}}],
        "contexts": [{"name": "capture", "context": {"cluster": "capture", "user": "capture",
                                                     "namespace": "default"}}],
    }))
    (home / "binary.dat").write_bytes(bytes(range(256)))
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECONFIG": str(config)}
    try:
        yield Kubectl(binary, env, server, home)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


KUBECTL_CREATES = [
    pytest.param(["configmap", "cfg", "--from-literal=a=b", "--from-literal=empty="], id="configmap"),
    pytest.param(["configmap", "bin", "--from-file=blob={files}/binary.dat", "--from-literal=x=y"],
                 id="configmap-binary"),
    pytest.param(["configmap", "saved", "--from-literal=a=b", "--save-config"], id="configmap-save-config"),
    pytest.param(["secret", "generic", "s", "--from-literal=a=b", "--from-literal=password=p@ss w"],
                 id="secret-generic"),
    pytest.param(["secret", "generic", "typed", "--type=kubernetes.io/basic-auth",
                  "--from-literal=username=u"], id="secret-typed"),
    pytest.param(["secret", "docker-registry", "reg", "--docker-server=r.io", "--docker-username=u",
                  "--docker-password=p"], id="secret-docker-registry"),
    pytest.param(["deployment", "web", "--image=nginx", "--replicas=2", "--port=80"], id="deployment"),
    pytest.param(["deployment", "zero", "--image=nginx", "--replicas=0"], id="deployment-zero-replicas"),
    pytest.param(["deployment", "multi", "--image=nginx", "--image=busybox:1.36"],
                 id="deployment-two-images"),
    pytest.param(["deployment", "cmd", "--image=busybox", "--", "sleep", "3600"], id="deployment-command"),
    pytest.param(["service", "clusterip", "svc", "--tcp=80:8080"], id="service-clusterip"),
    pytest.param(["service", "clusterip", "headless", "--clusterip=None"], id="service-headless"),
    pytest.param(["service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"], id="service-nodeport"),
    pytest.param(["service", "loadbalancer", "lb", "--tcp=443:8443,80"], id="service-loadbalancer"),
    pytest.param(["service", "externalname", "ext", "--external-name=db.example.com"],
                 id="service-externalname"),
    pytest.param(["namespace", "team"], id="namespace"),
    pytest.param(["serviceaccount", "robot"], id="serviceaccount"),
]


@pytest.mark.parametrize("args", KUBECTL_CREATES)
def test_decoded_kubectl_body_equals_the_json_kubectl_would_send(kubectl: Kubectl, args: list[str]) -> None:
    args = [a.replace("{files}", str(kubectl.files)) for a in args]
    assert protobuf.decode(kubectl.sent_body(args)) == kubectl.client_json(args)


EXPECTED_FROM_KUBECTL = [
    (["configmap", "x", "--from-literal=a=b"],
     {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x"}, "data": {"a": "b"}}),
    (["secret", "generic", "s", "--from-literal=a=b"],
     {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s"}, "data": {"a": "Yg=="}}),
    (["deployment", "web", "--image=nginx", "--replicas=2", "--port=80"],
     {"kind": "Deployment", "apiVersion": "apps/v1",
      "metadata": {"name": "web", "labels": {"app": "web"}},
      "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
               "template": {"metadata": {"labels": {"app": "web"}},
                            "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                                     "ports": [{"containerPort": 80}], "resources": {}}]}},
               "strategy": {}},
      "status": {}}),
    (["service", "clusterip", "x", "--tcp=80:8080"],
     {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "x", "labels": {"app": "x"}},
      "spec": {"ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}],
               "selector": {"app": "x"}, "type": "ClusterIP"},
      "status": {"loadBalancer": {}}}),
    (["namespace", "n"],
     {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "n"}, "spec": {}, "status": {}}),
]


@pytest.mark.parametrize(("args", "expected"), EXPECTED_FROM_KUBECTL,
                         ids=[args[0] for args, _ in EXPECTED_FROM_KUBECTL])
def test_kubectl_bodies_decode_to_known_objects(kubectl: Kubectl, args: list[str],
                                                expected: dict[str, Any]) -> None:
    assert protobuf.decode(kubectl.sent_body(args)) == expected


def test_kubectl_body_truncated_anywhere_is_a_bad_request_or_a_shorter_object(kubectl: Kubectl) -> None:
    body = kubectl.sent_body(["deployment", "web", "--image=nginx", "--replicas=2", "--port=80"])
    errors = 0
    for end in range(len(protobuf.MAGIC), len(body)):
        try:
            protobuf.decode(body[:end])
        except ApiError as err:
            assert err.code == 400, err.message
            errors += 1
    assert errors > len(body) // 2


# --- hand-built bodies --------------------------------------------------------------------------------------

CONTAINER = b(
    2,
    b(1, "app"), b(2, "registry.io/app:1.0"), b(3, "/bin/app"), b(4, "--port"), b(4, "8080"), b(5, ""),
    b(6, b(1, "http"), v(2, 0), v(3, 8080), b(4, "TCP"), b(5, "")),
    b(6, b(1, ""), v(2, 0), v(3, 0), b(4, ""), b(5, "")),
    b(7, b(1, "MODE"), b(2, "prod")),
    b(7, b(1, "EMPTY"), b(2, "")),
    b(7, b(1, "TOKEN"), b(2, ""), b(3, b(4, b(1, b(1, "creds")), b(2, "token"), v(3, 0)))),
    b(7, b(1, "POD"), b(2, ""), b(3, b(1, b(1, "v1"), b(2, "metadata.name")))),
    b(7, b(1, "CPU"), b(2, ""), b(3, b(2, b(1, ""), b(2, "limits.cpu"), quantity(3, "1m")))),
    b(8, entry(1, "cpu", b(1, "500m")), entry(1, "memory", b(1, "128Mi")), entry(2, "cpu", b(1, "250m"))),
    b(9, b(1, "data"), v(2, 1), b(3, "/data"), b(4, ""), b(6, "")),
    b(13, "/dev/termination-log"), b(14, "IfNotPresent"), v(16, 0), v(17, 0), v(18, 0),
    b(19, b(1, "CFG_"), b(2, b(1, b(1, "settings")), v(2, 1))),
    b(20, "File"),
)

DEPLOYMENT = envelope(
    "apps/v1", "Deployment",
    meta("web", b(3, "prod"), entry(11, "app", "web"), entry(12, "note", "hand-built")),
    b(2,
      v(1, 3),
      b(2, entry(1, "app", "web"),
        b(2, b(1, "tier"), b(2, "In"), b(3, "front"), b(3, "edge")),
        b(2, b(1, "legacy"), b(2, "DoesNotExist"))),
      b(3, b(1, b(8), entry(11, "app", "web")),
        b(2, CONTAINER, b(3, "Always"), v(4, 30), b(6, "ClusterFirst"), entry(7, "disk", "ssd"), b(8, ""),
          b(9, ""), b(10, ""), v(11, 0), v(12, 0), v(13, 0), b(16, ""), b(17, ""), b(19, "default-scheduler"),
          b(20, b(1, "init"), b(2, "busybox"), b(3, "true"), b(8)),
          b(22, b(1, "dedicated"), b(2, "Equal"), b(3, "gpu"), b(4, "NoSchedule")),
          b(23, b(1, "10.0.0.1"), b(2, "db.local")),
          entry(32, "cpu", b(1, "100m")))),
      b(4, b(1, "RollingUpdate"), b(2, int_or_string(1, 1), int_or_string(2, "25%"))),
      v(5, 0), v(6, 10), v(7, 0), v(9, 600)),
    b(3, v(1, 0), v(2, 0), v(3, 0), v(4, 0), v(5, 0), v(7, 0)),
)

DEPLOYMENT_EXPECTED = {
    "kind": "Deployment", "apiVersion": "apps/v1",
    "metadata": {"name": "web", "namespace": "prod", "labels": {"app": "web"},
                 "annotations": {"note": "hand-built"}},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "web"},
                     "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "edge"]},
                                          {"key": "legacy", "operator": "DoesNotExist"}]},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [{
                    "name": "app", "image": "registry.io/app:1.0", "command": ["/bin/app"],
                    "args": ["--port", "8080"],
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                              {"containerPort": 0}],
                    "env": [
                        {"name": "MODE", "value": "prod"},
                        {"name": "EMPTY"},
                        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token",
                                                                         "optional": False}}},
                        {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                   "fieldPath": "metadata.name"}}},
                        {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu",
                                                                           "divisor": "1m"}}},
                    ],
                    "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "250m"}},
                    "volumeMounts": [{"name": "data", "readOnly": True, "mountPath": "/data"}],
                    "terminationMessagePath": "/dev/termination-log",
                    "imagePullPolicy": "IfNotPresent",
                    "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "settings", "optional": True}}],
                    "terminationMessagePolicy": "File",
                }],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "nodeSelector": {"disk": "ssd"},
                "schedulerName": "default-scheduler",
                "initContainers": [{"name": "init", "image": "busybox", "command": ["true"],
                                    "resources": {}}],
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu",
                                 "effect": "NoSchedule"}],
                "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db.local"]}],
                "overhead": {"cpu": "100m"},
            },
        },
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    },
    "status": {},
}

HAND_BUILT = [
    pytest.param(DEPLOYMENT, DEPLOYMENT_EXPECTED, id="deployment-full"),
    pytest.param(
        envelope("v1", "ConfigMap",
                 b(1, b(1, "cm"), b(2, "cm-"), b(3, "ns"), b(4, ""), b(5, "1234-abcd"), b(6, "42"), v(7, 3),
                   time(8, 1_700_000_000), time(9, 1_700_000_060), v(10, 0), b(14, "example.com/keep"),
                   b(13, b(1, "Deployment"), b(3, "web"), b(4, "u-1"), b(5, "apps/v1"), v(6, 1), v(7, 0))),
                 entry(2, "k", "v"), entry(3, "raw", b"\x00\xff"), v(4, 0)),
        {"kind": "ConfigMap", "apiVersion": "v1",
         "metadata": {"name": "cm", "generateName": "cm-", "namespace": "ns", "uid": "1234-abcd",
                      "resourceVersion": "42", "generation": 3, "creationTimestamp": "2023-11-14T22:13:20Z",
                      "deletionTimestamp": "2023-11-14T22:14:20Z", "deletionGracePeriodSeconds": 0,
                      "finalizers": ["example.com/keep"],
                      "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": "u-1",
                                           "apiVersion": "apps/v1", "controller": True,
                                           "blockOwnerDeletion": False}]},
         "data": {"k": "v"}, "binaryData": {"raw": "AP8="}, "immutable": False},
        id="configmap-full-metadata"),
    pytest.param(
        envelope("v1", "ConfigMap", meta("m"), b(2, b(1, "no-value")), b(2, b(2, "no-key")),
                 b(3, b(1, "nothing"))),
        {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "m"},
         "data": {"no-value": "", "": "no-key"}, "binaryData": {"nothing": ""}},
        id="map-entries-missing-key-or-value"),
    pytest.param(
        envelope("v1", "Secret", meta("tls"), entry(2, "tls.key", b"\x01\x02\x03"), b(3, "kubernetes.io/tls"),
                 entry(4, "plain", "text"), v(5, 1)),
        {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "tls"}, "data": {"tls.key": "AQID"},
         "type": "kubernetes.io/tls", "stringData": {"plain": "text"}, "immutable": True},
        id="secret-all-fields"),
    pytest.param(
        envelope("v1", "Service", meta("svc"),
                 b(2, b(1, b(1, "web"), b(2, "TCP"), v(3, 443), int_or_string(4, "https"), v(5, 31443),
                        b(6, "kubernetes.io/h2c")),
                   b(1, b(1, ""), b(2, "UDP"), v(3, 53), b(4), v(5, 0)),
                   entry(2, "app", "web"), b(3, "10.0.0.10"), b(4, "NodePort"), b(5, "1.2.3.4"),
                   b(7, "ClientIP"), b(8, ""), b(10, ""), b(11, "Local"), v(12, 0), v(13, 0),
                   b(14, b(1, v(1, 10800))), b(17, "SingleStack"), b(18, "10.0.0.10"), b(19, "IPv4"),
                   v(20, 0), b(22, "Cluster")),
                 b(3, b(1, b(1, b(1, "5.6.7.8"), b(2, ""), b(3, "VIP"), b(4, v(1, 443), b(2, "TCP")))))),
        {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "svc"},
         "spec": {"ports": [{"name": "web", "protocol": "TCP", "port": 443, "targetPort": "https",
                             "nodePort": 31443, "appProtocol": "kubernetes.io/h2c"},
                            {"protocol": "UDP", "port": 53, "targetPort": 0}],
                  "selector": {"app": "web"}, "clusterIP": "10.0.0.10", "type": "NodePort",
                  "externalIPs": ["1.2.3.4"], "sessionAffinity": "ClientIP", "externalTrafficPolicy": "Local",
                  "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
                  "ipFamilyPolicy": "SingleStack",
                  "clusterIPs": ["10.0.0.10"], "ipFamilies": ["IPv4"], "allocateLoadBalancerNodePorts": False,
                  "internalTrafficPolicy": "Cluster"},
         "status": {"loadBalancer": {"ingress": [{"ip": "5.6.7.8", "ipMode": "VIP",
                                                  "ports": [{"port": 443, "protocol": "TCP"}]}]}}},
        id="service-all-common-fields"),
    pytest.param(
        envelope("v1", "Namespace", meta("ns"), b(2, b(1, "kubernetes")),
                 b(3, b(1, "Terminating"),
                   b(2, b(1, "NamespaceDeletionContentFailure"), b(2, "False"), b(4), b(5, ""), b(6, "")))),
        {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "ns"},
         "spec": {"finalizers": ["kubernetes"]},
         "status": {"phase": "Terminating",
                    "conditions": [{"type": "NamespaceDeletionContentFailure", "status": "False",
                                    "lastTransitionTime": None}]}},
        id="namespace-status-with-unset-time"),
    pytest.param(
        envelope("v1", "ServiceAccount", meta("sa"), b(2, b(1, "Secret"), b(3, "sa-token")),
                 b(3, b(1, "pull")), v(4, 0)),
        {"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": "sa"},
         "secrets": [{"kind": "Secret", "name": "sa-token"}], "imagePullSecrets": [{"name": "pull"}],
         "automountServiceAccountToken": False},
        id="serviceaccount"),
    pytest.param(
        envelope("apps/v1", "Deployment", meta("d"),
                 b(2, v(1, -1), b(4, b(1, "Recreate"))),
                 b(3, v(1, 7), v(2, 2), v(8, 0),
                   b(6, b(1, "Available"), b(2, "True"), b(4, "MinimumReplicasAvailable"), b(5, ""),
                     time(6, 0), time(7, 86_400)))),
        {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "d"},
         "spec": {"replicas": -1, "strategy": {"type": "Recreate"}},
         "status": {"observedGeneration": 7, "replicas": 2, "collisionCount": 0,
                    "conditions": [{"type": "Available", "status": "True",
                                    "reason": "MinimumReplicasAvailable",
                                    "lastUpdateTime": "1970-01-01T00:00:00Z",
                                    "lastTransitionTime": "1970-01-02T00:00:00Z"}]}},
        id="deployment-negative-replicas-and-status"),
    pytest.param(
        envelope("v1", "ConfigMap", meta("first", b(3, "ns")), b(1, b(1, "second"), b(3, "")),
                 v(4, 1), v(4, 0)),
        {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "second"}, "immutable": False},
        id="repeated-message-merges-and-last-scalar-wins"),
    pytest.param(
        envelope("v1", "ConfigMap", meta("u"),
                 v(99, 5), key(98, 1) + bytes(8), key(97, 5) + bytes(4), b(96, b"\xff\xff"),
                 key(95, 3) + v(1, 1) + key(2, 3) + key(2, 4) + key(95, 4),
                 b(1, v(50, 1))),
        {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "u"}},
        id="unknown-fields-of-every-wire-type-skipped"),
    pytest.param(
        envelope("v1", "ConfigMap", b(1, b(1, b"caf\xc3\xa9-\xff"))),
        {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "café-\ufffd"}},
        id="invalid-utf8-replaced"),
    pytest.param(
        envelope("apps/v1", "Deployment", meta("d"), b(2, v(1, (1 << 32) + 5), v(5, (1 << 31)))),
        {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "d"},
         "spec": {"replicas": 5, "minReadySeconds": -(1 << 31)}},
        id="int32-truncated-like-go"),
    pytest.param(
        envelope("v1", "ConfigMap", b(1, b(1, "t"), b(8, v(1, -1))), b(1, b(9, v(1, 253_402_300_799)))),
        {"kind": "ConfigMap", "apiVersion": "v1",
         "metadata": {"name": "t", "creationTimestamp": "1969-12-31T23:59:59Z",
                      "deletionTimestamp": "9999-12-31T23:59:59Z"}},
        id="time-edges"),
    pytest.param(
        pod_spec(b(2, b(1, "c"), b(8, entry(1, "cpu", b""), entry(2, "memory", b(1, "1e3")))), name="q"),
        {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "q"},
         "spec": {"template": {"spec": {"containers": [{"name": "c",
                                                        "resources": {"limits": {"cpu": "0"},
                                                                      "requests": {"memory": "1e3"}}}]}}}},
        id="quantity-unset-is-zero"),
]


@pytest.mark.parametrize(("body", "expected"), HAND_BUILT)
def test_hand_built_bodies(body: bytes, expected: dict[str, Any]) -> None:
    decoded = protobuf.decode(body)
    assert decoded == expected
    assert json.loads(json.dumps(decoded)) == decoded


def test_expect_fills_an_envelope_without_type_meta() -> None:
    body = protobuf.MAGIC + b(2, meta("x"), entry(2, "a", "b"))
    assert protobuf.decode(body, expect=("v1", "ConfigMap")) == {
        "kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x"}, "data": {"a": "b"}}


def test_expect_does_not_override_what_the_envelope_says() -> None:
    body = envelope("v1", "Secret", meta("s"))
    assert protobuf.decode(body, expect=("v1", "ConfigMap"))["kind"] == "Secret"


def test_supported_lists_the_kinds_decode_accepts() -> None:
    for api_version, kind in protobuf.KINDS:
        assert protobuf.supported(api_version, kind)
        assert protobuf.decode(envelope(api_version, kind, meta("x")))["kind"] == kind
    assert not protobuf.supported("v1", "Pod")
    assert not protobuf.supported("apps/v1", "ConfigMap")


# --- errors -------------------------------------------------------------------------------------------------

CM = envelope("v1", "ConfigMap", meta("x"), entry(2, "a", "b"))

ERRORS = [
    pytest.param(b"", 400, "the object provided is unrecognized: empty data (<empty>)", id="empty"),
    pytest.param(b'{"kind":"ConfigMap"}', 400,
                 "the object provided is unrecognized: provided data does not appear to be a protobuf "
                 'message, expected prefix [107 56 115 0] ({"kind":"ConfigMap"})', id="json-body"),
    pytest.param(b"\x00" * 40, 400, "expected prefix [107 56 115 0] (" + "00" * 30 + " ...)", id="no-magic"),
    pytest.param(protobuf.MAGIC, 400, "empty body", id="magic-only"),
    pytest.param(CM[:-3], 400, "unexpected EOF", id="truncated-envelope"),
    pytest.param(envelope("v1", "ConfigMap", meta("x"), b(2, b(1, "k"), b(2, "v"))[:-2]), 400,
                 'ConfigMap in version "v1" cannot be handled as a ConfigMap: unexpected EOF',
                 id="truncated-object"),
    pytest.param(envelope("v1", "", meta("x")), 400,
                 """Object 'Kind' is missing in 'runtime.TypeMeta{APIVersion:"v1", Kind:""}'""",
                 id="no-kind"),
    pytest.param(envelope("", "ConfigMap", meta("x")), 400,
                 'ConfigMap in version "" cannot be handled as a ConfigMap: Object \'apiVersion\' is missing',
                 id="no-api-version"),
    pytest.param(envelope("v1", "Pod", meta("x")), 415,
                 'Pod in version "v1" cannot be decoded from application/vnd.kubernetes.protobuf', id="pod"),
    pytest.param(envelope("batch/v1", "Job", meta("x")), 415, 'Job in version "v1"', id="job"),
    pytest.param(envelope("example.com/v1", "Widget", meta("x")), 415, "Widget", id="custom-resource"),
    pytest.param(envelope("v1", "ConfigMap", v(1, 5)), 400, "proto: wrong wireType = 0 for field Metadata",
                 id="message-as-varint"),
    pytest.param(envelope("v1", "ConfigMap", b(4, "yes")), 400,
                 "proto: wrong wireType = 2 for field Immutable", id="bool-as-bytes"),
    pytest.param(protobuf.MAGIC + v(1, 1), 400, "proto: wrong wireType = 0 for field TypeMeta",
                 id="envelope-wrong-wire-type"),
    pytest.param(envelope("v1", "ConfigMap", key(0, 0) + varint(1)), 400,
                 "proto: ConfigMap: illegal tag 0 (wire type 0)", id="field-zero"),
    pytest.param(envelope("v1", "ConfigMap", key(7, 4)), 400,
                 "proto: ConfigMap: wiretype end group for non-group", id="end-group"),
    pytest.param(envelope("v1", "ConfigMap", key(7, 7)), 400, "proto: illegal wireType 7", id="wire-type-7"),
    pytest.param(envelope("v1", "ConfigMap", key(7, 3) + v(1, 1)), 400, "unexpected EOF",
                 id="unterminated-group"),
    pytest.param(envelope("v1", "ConfigMap", key(7, 0) + b"\xff" * 10 + b"\x01"), 400,
                 "proto: integer overflow", id="varint-overflow"),
    pytest.param(envelope("v1", "ConfigMap", key(7, 2) + varint(1 << 63)), 400,
                 "proto: negative length found during unmarshaling", id="negative-length"),
    pytest.param(envelope("v1", "Service", b(2, b(1, b(4, v(1, 2)))), ), 400, "impossible IntOrString.Type",
                 id="intorstring-type"),
    pytest.param(pod_spec(b(2, b(8, entry(1, "cpu", b(1, "lots"))))), 400,
                 "quantities must match the regular expression", id="bad-quantity"),
    pytest.param(pod_spec(b(2, b(8, entry(1, "cpu", b(1, "1\n"))))), 400,
                 "quantities must match the regular expression", id="quantity-trailing-newline"),
    pytest.param(envelope("v1", "ConfigMap", b(1, time(8, 1 << 60))), 400, "year outside of range",
                 id="time-out-of-range"),
    pytest.param(pod_spec(b(1, b(1, "vol"))), 415,
                 "field spec.template.spec.volumes[0] (Volume) of Deployment", id="volumes"),
    pytest.param(pod_spec(b(2, b(1, "c"), b(10, b""))), 415,
                 "spec.template.spec.containers[0].livenessProbe (Probe)", id="probe"),
    pytest.param(envelope("v1", "ConfigMap", b(1, b(17, b(1, "kubectl")))), 415,
                 "metadata.managedFields[0] (ManagedFieldsEntry)", id="managed-fields"),
]


@pytest.mark.parametrize(("body", "code", "message"), ERRORS)
def test_errors(body: bytes, code: int, message: str) -> None:
    err = decode_error(body)
    assert err.code == code
    assert err.reason == ("BadRequest" if code == 400 else "UnsupportedMediaType")
    assert message in err.message
    assert err.status()["code"] == code


def test_errors_name_the_expected_kind() -> None:
    assert decode_error(b"", expect=("v1", "Secret")).message == (
        "the object provided is unrecognized (must be of type Secret): empty data (<empty>)")
    truncated = envelope("v1", "ConfigMap", b(1, b(1, "x"))[:-1])
    assert decode_error(truncated, expect=("v1", "Secret")).message == (
        'ConfigMap in version "v1" cannot be handled as a Secret: unexpected EOF')


# --- invariants ---------------------------------------------------------------------------------------------


def _decodes_or_rejects(body: bytes) -> dict[str, Any] | None:
    try:
        decoded = protobuf.decode(body)
    except ApiError as err:
        assert err.code in (400, 415), err.message
        return None
    json.dumps(decoded)
    return decoded


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_arbitrary_bytes_after_the_magic_decode_or_give_api_error(data: bytes) -> None:
    _decodes_or_rejects(protobuf.MAGIC + data)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(protobuf.KINDS)), st.binary(max_size=300))
def test_arbitrary_object_bytes_decode_or_give_api_error(gvk: tuple[str, str], raw: bytes) -> None:
    decoded = _decodes_or_rejects(envelope(gvk[0], gvk[1], raw))
    if decoded is not None:
        assert (decoded["apiVersion"], decoded["kind"]) == gvk


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=len(DEPLOYMENT) - 1), st.integers(min_value=0, max_value=255))
def test_a_corrupted_byte_decodes_or_gives_api_error(position: int, value: int) -> None:
    corrupted = bytearray(DEPLOYMENT)
    corrupted[position] = value
    _decodes_or_rejects(bytes(corrupted))


_text = st.text(max_size=12)


@given(st.dictionaries(_text, _text, max_size=5), st.dictionaries(_text, st.binary(max_size=12), max_size=5),
       st.dictionaries(_text, _text, max_size=3), st.text(min_size=1, max_size=20))
def test_configmap_contents_round_trip(data: dict[str, str], binary: dict[str, bytes], labels: dict[str, str],
                                       name: str) -> None:
    raw = meta(name, *(entry(11, k, val) for k, val in labels.items()))
    raw += b"".join(entry(2, k, val) for k, val in data.items())
    raw += b"".join(entry(3, k, val) for k, val in binary.items())
    expected: dict[str, Any] = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": name}}
    if labels:
        expected["metadata"]["labels"] = labels
    if data:
        expected["data"] = data
    if binary:
        expected["binaryData"] = {k: base64.b64encode(val).decode() for k, val in binary.items()}
    assert protobuf.decode(envelope("v1", "ConfigMap", raw)) == expected


@given(st.integers(min_value=-(1 << 31), max_value=(1 << 31) - 1),
       st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1))
def test_signed_integers_round_trip(int32: int, int64: int) -> None:
    body = envelope("apps/v1", "Deployment", meta("d"), b(2, v(1, int32)), b(3, v(1, int64)))
    decoded = protobuf.decode(body)
    assert decoded["spec"] == {"replicas": int32}
    assert decoded["status"] == ({"observedGeneration": int64} if int64 else {})


# --- the tables against the Kubernetes v1.37 OpenAPI definitions --------------------------------------------

_PACKAGES = ("io.k8s.api.core.v1.", "io.k8s.api.apps.v1.", "io.k8s.apimachinery.pkg.apis.meta.v1.")
_SPECIAL_REFS = {
    "IntOrString": "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    "Quantity": "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "Time": "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
}
_SCALAR_SCHEMAS = {"string": ("string", None), "bytes": ("string", "byte"), "bool": ("boolean", None),
                   "int32": ("integer", "int32"), "int64": ("integer", "int64")}


def _definition_name(message: str) -> str:
    names = [p + message for p in _PACKAGES if p + message in schemas.definitions()]
    assert len(names) == 1, (message, names)
    return names[0]


def _json_fields(message: str) -> dict[str, protobuf.Field]:
    fields: dict[str, protobuf.Field] = {}
    for field in protobuf.message_fields(message).values():
        fields.update(_json_fields(field.type) if not field.name else {field.name: field})
    return fields


def _check_type(node: dict[str, Any], type_name: str, where: str) -> None:
    if type_name in _SCALAR_SCHEMAS:
        json_type, json_format = _SCALAR_SCHEMAS[type_name]
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        assert json_type in types, where
        assert node.get("format") == json_format, where
    elif type_name in _SPECIAL_REFS:
        assert node["$ref"] == "#/$defs/" + _SPECIAL_REFS[type_name], where
    else:
        ref = node["$ref"].removeprefix("#/$defs/")
        assert ref.rsplit(".", 1)[1] == type_name, where
        assert ref.startswith(_PACKAGES), where


@pytest.mark.parametrize("message", sorted(protobuf.MESSAGES))
def test_table_matches_the_openapi_definition(message: str) -> None:
    definition = schemas.definitions()[_definition_name(message)]
    properties = dict(definition.get("properties") or {})
    if message in protobuf.KINDS.values():
        properties.pop("apiVersion")
        properties.pop("kind")
    fields = _json_fields(message)
    assert sorted(fields) == sorted(properties)
    for name, field in fields.items():
        node = properties[name]
        if field.label == "repeated":
            assert "array" in node["type"], name
            node = node["items"]
        elif field.label == "map":
            assert "object" in node["type"], name
            node = node["additionalProperties"]
        _check_type(node, field.type, f"{message}.{name}")


def test_every_referenced_type_is_modelled_or_declared_unsupported() -> None:
    known = set(protobuf.MESSAGES) | protobuf.NOT_MODELLED | set(_SCALAR_SCHEMAS) | set(_SPECIAL_REFS)
    referenced = {f.type for m in protobuf.MESSAGES for f in protobuf.message_fields(m).values()}
    assert referenced <= known
    assert referenced >= protobuf.NOT_MODELLED
    assert set(protobuf.KINDS.values()) <= set(protobuf.MESSAGES)


def test_every_modelled_message_is_reachable_from_a_kind() -> None:
    reachable: set[str] = set()
    todo = list(protobuf.KINDS.values())
    while todo:
        message = todo.pop()
        if message in reachable or message not in protobuf.MESSAGES:
            continue
        reachable.add(message)
        todo.extend(f.type for f in protobuf.message_fields(message).values())
    assert reachable == set(protobuf.MESSAGES)


def test_map_values_are_strings_bytes_or_quantities() -> None:
    fields = [f for m in protobuf.MESSAGES for f in protobuf.message_fields(m).values()]
    values = {f.type for f in fields if f.label == "map"}
    assert values == {"string", "bytes", "Quantity"}
