"""Kubeconfig files → a :class:`Connection` (server URL, TLS context, request headers, default namespace).

Owns reading kubeconfig files as kubectl does — ``KUBECONFIG`` (several files, the first to define a name
wins) or ``~/.kube/config``, a named or the current context, relative paths resolved against the file that
holds them — and turning the chosen context's cluster and user into what an HTTP client needs: the CA
(``certificate-authority`` file or ``-data``), ``insecure-skip-tls-verify``, ``tls-server-name``, a bearer
``token`` or ``tokenFile``, a client certificate and key (file or ``-data``, as kind writes them), basic auth,
and impersonation (``as``, ``as-groups``, ``as-uid``). Exec and auth-provider plugins, and ``proxy-url``, are
refused with a :class:`ClusterError` that says what to use instead. It must not make HTTP requests or know
about Kubernetes objects; :mod:`gitops_lab.kube.client` does that with the :class:`Connection` it gets here.

>>> connection = load("/path/to/kubeconfig", context="kind-lab")        # doctest: +SKIP
>>> connection.server, connection.namespace                               # doctest: +SKIP
('https://127.0.0.1:38529', 'default')
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import os
import pathlib
import ssl
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from gitops_lab import errors

DEFAULT_NAMESPACE = "default"
_PLUGIN_ADVICE = ("gitops-lab only uses static credentials; make a kubeconfig whose user has a token "
                  "(e.g. `kubectl create token <serviceaccount>`) or a client certificate, or use the lab's "
                  "sandbox or kind cluster")


@dataclasses.dataclass(frozen=True)
class Connection:
    """How to reach one API server: everything a client needs, nothing kubeconfig-shaped.

    Attributes:
        server: the API server's base URL without a trailing slash, e.g. ``https://127.0.0.1:6443``.
        ssl: the TLS context (CA, client certificate, verification), or ``None`` for an ``http://`` server.
        headers: headers for every request (``Authorization``, ``Impersonate-*``); not shown in ``repr``.
        namespace: the context's namespace (``default`` if it names none), for namespaced objects naming none.
        context: the kubeconfig context this came from ("" when built by hand).
        tls_server_name: the name to verify the server's certificate against, if not the URL's host.
    """

    server: str
    ssl: ssl.SSLContext | None
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict, repr=False)
    namespace: str = DEFAULT_NAMESPACE
    context: str = ""
    tls_server_name: str | None = None


def load(path: str | os.PathLike[str] | None = None, context: str | None = None) -> Connection:
    """The connection of ``context`` (default: the current context) in a kubeconfig.

    Args:
        path: a kubeconfig file; ``None`` reads ``$KUBECONFIG`` (a list of files joined by ``os.pathsep``,
            merged as kubectl merges them) or else ``~/.kube/config``.
        context: a context name; ``None`` takes ``current-context``.

    Raises:
        ClusterError: the file is missing or unreadable, the context, cluster or user does not exist, or the
            user needs an exec/auth-provider plugin.
    """
    files = _kubeconfig_files(path)
    merged = _merge([(f, _read_yaml(f)) for f in files])
    return from_dict(merged, context=context, source=os.pathsep.join(str(f) for f in files))


def from_dict(config: Mapping[str, Any], *, context: str | None = None,
              base_dir: str | os.PathLike[str] | None = None, source: str = "the kubeconfig") -> Connection:
    """The connection of ``context`` in an already parsed kubeconfig.

    Relative file paths are resolved against ``base_dir`` (default: the current directory); entries that came
    through :func:`load` carry their own file's directory. ``source`` names the config in error messages.

    >>> config = {"clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:8001/"}}],
    ...           "contexts": [{"name": "x", "context": {"cluster": "c", "namespace": "apps"}}],
    ...           "current-context": "x"}
    >>> connection = from_dict(config)
    >>> connection.server, connection.ssl, connection.namespace
    ('http://127.0.0.1:8001', None, 'apps')
    """
    name = context or config.get("current-context") or ""
    if not name:
        raise errors.ClusterError(f"{source} has no current-context and no context was given; pass a context "
                                  f"name or run `kubectl config use-context <name>`.")
    ctx = _named(config, "contexts", "context", name, source)
    cluster_name = ctx.get("cluster") or ""
    cluster = _named(config, "clusters", "cluster", cluster_name, source, owner=f"context {name!r}")
    user_name = ctx.get("user") or ""
    user = _named(config, "users", "user", user_name, source, owner=f"context {name!r}") if user_name else {}
    default_dir = pathlib.Path(base_dir) if base_dir is not None else pathlib.Path.cwd()
    server = _server(cluster, cluster_name, source)
    _refuse_unsupported(cluster, user, name, user_name, cluster_name)
    where = f"context {name!r} of {source}"
    return Connection(
        server=server,
        ssl=_ssl_context(cluster, user, _dir_of(cluster, default_dir), _dir_of(user, default_dir), where)
        if server.startswith("https://") else None,
        headers=_headers(user, _dir_of(user, default_dir), where),
        namespace=ctx.get("namespace") or DEFAULT_NAMESPACE,
        context=name,
        tls_server_name=cluster.get("tls-server-name") or None,
    )


# ---- files -------------------------------------------------------------------------------------------------

_ORIGIN = "__gitops_lab_origin_dir__"
"""Key added to each merged cluster/user entry: the directory of its file (for relative paths)."""


def _kubeconfig_files(path: str | os.PathLike[str] | None) -> list[pathlib.Path]:
    if path is not None:
        return [pathlib.Path(path)]
    env = os.environ.get("KUBECONFIG", "")
    if env:
        listed = [pathlib.Path(p) for p in env.split(os.pathsep) if p]
        found = [p for p in listed if p.exists()]
        if not found:
            raise errors.ClusterError(f"None of the kubeconfig files in KUBECONFIG={env!r} exists; set "
                                      f"KUBECONFIG to an existing file (e.g. `gitops-lab kubeconfig`).")
        return found
    return [pathlib.Path.home() / ".kube" / "config"]


def _read_yaml(path: pathlib.Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError as err:
        raise errors.ClusterError(f"The kubeconfig {path} does not exist; pass the path of an existing "
                                  f"kubeconfig or set KUBECONFIG.") from err
    except (OSError, UnicodeDecodeError) as err:
        raise errors.ClusterError(f"The kubeconfig {path} could not be read ({err}); check its "
                                  f"permissions.") from err
    except yaml.YAMLError as err:
        raise errors.ClusterError(f"The kubeconfig {path} is not valid YAML ({err}); fix or regenerate it.") \
            from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise errors.ClusterError(f"The kubeconfig {path} is not a mapping (it holds a "
                                  f"{type(data).__name__}); fix or regenerate it.")
    return data


def _merge(documents: list[tuple[pathlib.Path, dict[str, Any]]]) -> dict[str, Any]:
    """kubectl's merge: the first file that sets current-context wins, as does the first entry of a name."""
    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": []}
    seen: dict[str, set[str]] = {key: set() for key in merged}
    for path, doc in documents:
        if not merged.get("current-context") and doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
        for key, inner in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            for entry in doc.get(key) or []:
                if not isinstance(entry, dict) or entry.get("name") in seen[key]:
                    continue
                seen[key].add(entry.get("name", ""))
                body = dict(entry.get(inner) or {})
                body[_ORIGIN] = str(path.parent.resolve())
                merged[key].append({"name": entry.get("name", ""), inner: body})
    return merged


def _dir_of(entry: Mapping[str, Any], default: pathlib.Path) -> pathlib.Path:
    origin = entry.get(_ORIGIN)
    return pathlib.Path(origin) if origin else default


def _named(config: Mapping[str, Any], key: str, inner: str, name: str, source: str,
           owner: str = "") -> dict[str, Any]:
    for entry in config.get(key) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            body = entry.get(inner) or {}
            if not isinstance(body, dict):
                break
            return body
    known = sorted(str(e.get("name")) for e in config.get(key) or [] if isinstance(e, dict))
    used_by = f" (named by {owner})" if owner else ""
    raise errors.ClusterError(f"{source} has no {inner} named {name!r}{used_by}; it has {known or 'none'}. "
                              f"Pick one of them or fix the kubeconfig.")


# ---- cluster and user --------------------------------------------------------------------------------------

def _server(cluster: Mapping[str, Any], cluster_name: str, source: str) -> str:
    server = str(cluster.get("server") or "").rstrip("/")
    if not server.startswith(("https://", "http://")):
        raise errors.ClusterError(f"Cluster {cluster_name!r} in {source} has server {server!r}, which is not "
                                  f"an http(s) URL; set it to the API server's address, e.g. "
                                  f"https://127.0.0.1:6443.")
    return server


def _refuse_unsupported(cluster: Mapping[str, Any], user: Mapping[str, Any], context: str, user_name: str,
                        cluster_name: str) -> None:
    if user.get("exec"):
        command = (user["exec"] or {}).get("command", "?")
        raise errors.ClusterError(f"User {user_name!r} of context {context!r} authenticates with the exec "
                                  f"plugin {command!r}, which gitops-lab does not run; {_PLUGIN_ADVICE}.")
    if user.get("auth-provider"):
        provider = (user["auth-provider"] or {}).get("name", "?")
        raise errors.ClusterError(f"User {user_name!r} of context {context!r} authenticates with the "
                                  f"auth-provider {provider!r}, which gitops-lab does not support; "
                                  f"{_PLUGIN_ADVICE}.")
    if cluster.get("proxy-url"):
        raise errors.ClusterError(f"Cluster {cluster_name!r} of context {context!r} is reached through the "
                                  f"proxy {cluster['proxy-url']!r}, which gitops-lab does not support; use a "
                                  f"context whose server is reachable directly (or run `kubectl proxy` and "
                                  f"point an http:// server at it).")


def _decode(value: str, field: str, where: str) -> bytes:
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError) as err:
        raise errors.ClusterError(f"{field} in {where} is not valid base64 ({err}); regenerate the "
                                  f"kubeconfig.") from err


def _file(value: str, directory: pathlib.Path) -> pathlib.Path:
    path = pathlib.Path(os.path.expanduser(value))
    return path if path.is_absolute() else directory / path


def _material(entry: Mapping[str, Any], key: str, directory: pathlib.Path, where: str) -> bytes | None:
    """The bytes of ``<key>-data`` (base64) or of the file ``<key>``; ``-data`` wins as in kubectl."""
    if entry.get(f"{key}-data"):
        return _decode(str(entry[f"{key}-data"]), f"{key}-data", where)
    if entry.get(key):
        path = _file(str(entry[key]), directory)
        try:
            return path.read_bytes()
        except OSError as err:
            raise errors.ClusterError(f"{key} {path} of {where} could not be read ({err}); fix the path in "
                                      f"the kubeconfig or use {key}-data.") from err
    return None


def _ssl_context(cluster: Mapping[str, Any], user: Mapping[str, Any], cluster_dir: pathlib.Path,
                 user_dir: pathlib.Path, where: str) -> ssl.SSLContext:
    ca = _material(cluster, "certificate-authority", cluster_dir, where)
    insecure = bool(cluster.get("insecure-skip-tls-verify"))
    if insecure and ca is not None:
        raise errors.ClusterError(f"The cluster of {where} sets both insecure-skip-tls-verify and a "
                                  f"certificate authority, which kubectl refuses too; remove one of them.")
    try:
        context = ssl.create_default_context(cadata=_pem_text(ca, where) if ca is not None else None)
    except ssl.SSLError as err:
        raise errors.ClusterError(f"The certificate authority of {where} could not be loaded ({err}); check "
                                  f"certificate-authority(-data) in the kubeconfig.") from err
    # Go's verifier (kubectl's) does not apply OpenSSL's X509_STRICT checks, which Python 3.13 turns on by
    # default and which reject CAs that kubeadm, EKS and others made years ago.
    context.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    _load_client_certificate(context, user, user_dir, where)
    return context


def _pem_text(data: bytes, where: str) -> str:
    text = data.decode("ascii", errors="replace")
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise errors.ClusterError(f"The certificate authority of {where} is not a PEM certificate; check "
                                  f"certificate-authority(-data) in the kubeconfig.")
    return text


def _load_client_certificate(context: ssl.SSLContext, user: Mapping[str, Any], user_dir: pathlib.Path,
                             where: str) -> None:
    cert = _material(user, "client-certificate", user_dir, where)
    key = _material(user, "client-key", user_dir, where)
    if cert is None and key is None:
        return
    if cert is None or key is None:
        missing = "client-key" if key is None else "client-certificate"
        raise errors.ClusterError(f"The user of {where} has a client certificate or key but no "
                                  f"{missing}(-data); add it to the kubeconfig.")
    with _private_files(cert, key) as (cert_path, key_path):
        try:
            context.load_cert_chain(cert_path, key_path)
        except ssl.SSLError as err:
            raise errors.ClusterError(f"The client certificate and key of {where} could not be loaded "
                                      f"({err}); check that they are PEM and belong together.") from err


@contextlib.contextmanager
def _private_files(cert: bytes, key: bytes) -> Iterator[tuple[str, str]]:
    """The certificate and key as files only this user can read, removed as soon as OpenSSL has read them
    (``SSLContext.load_cert_chain`` takes paths only)."""
    with tempfile.TemporaryDirectory(prefix="gitops-lab-tls-") as directory:
        paths = []
        for name, data in (("client.crt", cert), ("client.key", key)):
            path = os.path.join(directory, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            paths.append(path)
        yield paths[0], paths[1]


def _headers(user: Mapping[str, Any], user_dir: pathlib.Path, where: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    token = _token(user, user_dir, where)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    elif user.get("username") is not None and user.get("password") is not None:
        pair = f"{user['username']}:{user['password']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    if user.get("as"):
        headers["Impersonate-User"] = str(user["as"])
    if user.get("as-uid"):
        headers["Impersonate-Uid"] = str(user["as-uid"])
    groups = user.get("as-groups") or []
    if groups:
        headers["Impersonate-Group"] = ",".join(str(g) for g in groups)
    return headers


def _token(user: Mapping[str, Any], user_dir: pathlib.Path, where: str) -> str:
    """``tokenFile`` if it can be read (client-go's precedence), else ``token``; read once, not refreshed."""
    if user.get("tokenFile"):
        path = _file(str(user["tokenFile"]), user_dir)
        try:
            return path.read_text().strip()
        except OSError as err:
            if not user.get("token"):
                raise errors.ClusterError(f"tokenFile {path} of {where} could not be read ({err}); fix the "
                                          f"path in the kubeconfig or use token.") from err
    return str(user.get("token") or "").strip()
