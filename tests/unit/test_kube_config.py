"""Kubeconfig parsing: contexts, credentials (token, token file, client certificates as kind writes them,
basic auth, impersonation), TLS settings, KUBECONFIG merging, and the refusals (exec, auth-provider,
proxy-url)."""

from __future__ import annotations

import base64
import functools
import os
import pathlib
import ssl
import tempfile
from typing import Any

import pytest
import yaml

from gitops_lab import errors
from gitops_lab.kube import config
from tests import certificates


@functools.cache
def pki() -> certificates.Pki:
    return certificates.make()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig(cluster: dict[str, Any], user: dict[str, Any] | None = None, *, namespace: str | None = None,
               name: str = "kind-lab") -> dict[str, Any]:
    """A one-context kubeconfig as kind writes it (cluster, user and context all named ``name``)."""
    context: dict[str, Any] = {"cluster": name, "user": name}
    if namespace:
        context["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "Config", "current-context": name,
            "clusters": [{"name": name, "cluster": {"server": "https://127.0.0.1:6443", **cluster}}],
            "users": [{"name": name, "user": user or {}}],
            "contexts": [{"name": name, "context": context}]}


def write(path: pathlib.Path, data: dict[str, Any]) -> pathlib.Path:
    path.write_text(yaml.safe_dump(data))
    return path


def ca_subjects(context: ssl.SSLContext) -> list[str]:
    certs: list[dict[str, Any]] = context.get_ca_certs()
    return [str(dict(part[0] for part in c["subject"]).get("commonName")) for c in certs]


# ---- client certificates as kind writes them -----------------------------------------------------------

def test_kind_style_kubeconfig_with_certificate_data() -> None:
    p = pki()
    conn = config.from_dict(kubeconfig({"certificate-authority-data": b64(p.ca_cert)},
                                       {"client-certificate-data": b64(p.client_cert),
                                        "client-key-data": b64(p.client_key)}))
    assert conn.server == "https://127.0.0.1:6443"
    assert conn.context == "kind-lab" and conn.namespace == "default"
    assert conn.ssl is not None and conn.ssl.verify_mode == ssl.CERT_REQUIRED and conn.ssl.check_hostname
    assert ca_subjects(conn.ssl) == ["kubernetes"]
    assert "Authorization" not in conn.headers


def test_certificate_files_are_resolved_against_the_kubeconfig(tmp_path: pathlib.Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    p = pki()
    (tmp_path / "pki").mkdir()
    for name, data in (("ca.crt", p.ca_cert), ("admin.crt", p.client_cert), ("admin.key", p.client_key)):
        (tmp_path / "pki" / name).write_bytes(data)
    path = write(tmp_path / "config", kubeconfig({"certificate-authority": "pki/ca.crt"},
                                                 {"client-certificate": "pki/admin.crt",
                                                  "client-key": "pki/admin.key"}))
    monkeypatch.chdir("/")
    conn = config.load(path)
    assert conn.ssl is not None and ca_subjects(conn.ssl) == ["kubernetes"]


def test_a_key_that_does_not_match_the_certificate_is_refused() -> None:
    p, other = pki(), certificates.make()
    with pytest.raises(errors.ClusterError, match=r"certificate and key of context 'kind-lab'.*belong"):
        config.from_dict(kubeconfig({"certificate-authority-data": b64(p.ca_cert)},
                                    {"client-certificate-data": b64(p.client_cert),
                                     "client-key-data": b64(other.client_key)}))


def test_a_certificate_without_its_key_is_refused() -> None:
    with pytest.raises(errors.ClusterError, match="no client-key"):
        config.from_dict(kubeconfig({}, {"client-certificate-data": b64(pki().client_cert)}))


def test_key_material_does_not_stay_on_disk(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    p = pki()
    config.from_dict(kubeconfig({}, {"client-certificate-data": b64(p.client_cert),
                                     "client-key-data": b64(p.client_key)}))
    assert list(tmp_path.iterdir()) == []


# ---- credentials and TLS settings (table) --------------------------------------------------------------

@pytest.mark.parametrize(("user", "headers"), [
    ({"token": "abc"}, {"Authorization": "Bearer abc"}),
    ({"username": "admin", "password": "pw"}, {"Authorization": "Basic " + b64(b"admin:pw")}),
    ({"token": "abc", "as": "jane", "as-groups": ["dev", "ops"], "as-uid": "42"},
     {"Authorization": "Bearer abc", "Impersonate-User": "jane", "Impersonate-Group": "dev,ops",
      "Impersonate-Uid": "42"}),
    ({}, {}),
], ids=["token", "basic", "impersonation", "anonymous"])
def test_headers(user: dict[str, Any], headers: dict[str, str]) -> None:
    assert dict(config.from_dict(kubeconfig({}, user)).headers) == headers


@pytest.mark.parametrize(("user", "token"), [
    ({"tokenFile": "token"}, "from-file"),
    ({"tokenFile": "token", "token": "inline"}, "from-file"),
    ({"tokenFile": "missing", "token": "inline"}, "inline"),
], ids=["file", "file-wins-as-in-client-go", "unreadable-file-falls-back"])
def test_token_file(tmp_path: pathlib.Path, user: dict[str, Any], token: str) -> None:
    (tmp_path / "token").write_text("from-file\n")
    conn = config.load(write(tmp_path / "config", kubeconfig({}, user)))
    assert conn.headers["Authorization"] == f"Bearer {token}"


def test_unreadable_token_file_alone_is_an_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.ClusterError, match=r"tokenFile .*missing.*could not be read"):
        config.load(write(tmp_path / "config", kubeconfig({}, {"tokenFile": "missing"})))


def test_insecure_skip_tls_verify() -> None:
    conn = config.from_dict(kubeconfig({"insecure-skip-tls-verify": True}, {"token": "t"}))
    assert conn.ssl is not None
    assert conn.ssl.verify_mode == ssl.CERT_NONE and not conn.ssl.check_hostname


def test_strict_x509_checks_are_off_as_in_kubectl() -> None:
    conn = config.from_dict(kubeconfig({"certificate-authority-data": b64(pki().ca_cert)}))
    assert conn.ssl is not None and not conn.ssl.verify_flags & getattr(ssl, "VERIFY_X509_STRICT", 0)


def test_http_server_has_no_tls_and_tls_server_name_is_kept() -> None:
    plain = config.from_dict(kubeconfig({"server": "http://127.0.0.1:8001/"}))
    assert plain.server == "http://127.0.0.1:8001" and plain.ssl is None
    named = config.from_dict(kubeconfig({"tls-server-name": "kubernetes"}))
    assert named.tls_server_name == "kubernetes"


def test_context_namespace_and_explicit_context() -> None:
    data = kubeconfig({}, {"token": "a"}, namespace="shop")
    data["contexts"].append({"name": "other", "context": {"cluster": "kind-lab", "user": "kind-lab"}})
    assert config.from_dict(data).namespace == "shop"
    other = config.from_dict(data, context="other")
    assert other.context == "other" and other.namespace == "default"


def test_token_stays_out_of_repr() -> None:
    assert "s3cret" not in repr(config.from_dict(kubeconfig({}, {"token": "s3cret"})))


# ---- refusals ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "message"), [
    (kubeconfig({}, {"exec": {"command": "aws", "args": ["eks", "get-token"]}}),
     r"exec plugin 'aws', which gitops-lab does not run; .*token"),
    (kubeconfig({}, {"auth-provider": {"name": "oidc"}}), r"auth-provider 'oidc'.* client certificate"),
    (kubeconfig({"proxy-url": "socks5://proxy:1080"}), r"proxy 'socks5://proxy:1080'"),
    (kubeconfig({"server": "127.0.0.1:6443"}), r"server '127.0.0.1:6443', which is not an http\(s\) URL"),
    (kubeconfig({"certificate-authority-data": b64(b"hello")}), r"is not a PEM certificate"),
    (kubeconfig({"insecure-skip-tls-verify": True, "certificate-authority-data": "eA=="}),
     r"both insecure-skip-tls-verify and a certificate authority"),
    ({**kubeconfig({}), "current-context": ""}, r"no current-context"),
    ({**kubeconfig({}), "current-context": "gone"}, r"no context named 'gone'; it has \['kind-lab'\]"),
    ({**kubeconfig({}), "clusters": []}, r"no cluster named 'kind-lab' \(named by context 'kind-lab'\)"),
], ids=["exec", "auth-provider", "proxy", "no-scheme", "bad-ca", "insecure-and-ca", "no-current-context",
        "unknown-context", "unknown-cluster"])
def test_refusals(data: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.ClusterError, match=message):
        config.from_dict(data)


def test_missing_file(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.ClusterError, match=r"kubeconfig .*nope does not exist"):
        config.load(tmp_path / "nope")


# ---- KUBECONFIG ------------------------------------------------------------------------------------------

def test_kubeconfig_list_merges_first_wins(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = kubeconfig({"server": "https://first:6443"}, {"token": "first"}, name="a")
    first["current-context"] = ""
    second = kubeconfig({"server": "https://second:6443"}, {"token": "second"}, name="a")
    second["current-context"] = "a"
    second["contexts"].append({"name": "b", "context": {"cluster": "a", "user": "a"}})
    paths = [write(tmp_path / "one", first), tmp_path / "absent", write(tmp_path / "two", second)]
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(str(p) for p in paths))
    conn = config.load()
    assert (conn.context, conn.server, conn.headers["Authorization"]) == ("a", "https://first:6443",
                                                                           "Bearer first")
    assert config.load(context="b").server == "https://first:6443"


def test_kubeconfig_list_of_missing_files(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    with pytest.raises(errors.ClusterError, match="None of the kubeconfig files"):
        config.load()
