"""Credentials of one sandbox: a self-signed CA, the serving certificate it signs, and a bearer token.

Owns making them once per state directory (files mode 0600) and reading them back on restart, so a kubeconfig
written earlier stays valid. Must not start servers or know about Kubernetes objects.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
import pathlib
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALIDITY = datetime.timedelta(days=3650)


@dataclasses.dataclass(frozen=True)
class Credentials:
    ca_cert: pathlib.Path
    server_cert: pathlib.Path
    server_key: pathlib.Path
    token: str


def _write_private(path: pathlib.Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure(directory: pathlib.Path) -> Credentials:
    """The sandbox's credentials in ``directory``, made on first use."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = Credentials(directory / "ca.crt", directory / "server.crt", directory / "server.key", "")
    token_path = directory / "token"
    if not all(p.exists() for p in (paths.ca_cert, paths.server_cert, paths.server_key, token_path)):
        _make(paths)
        _write_private(token_path, secrets.token_urlsafe(32).encode())
    return dataclasses.replace(paths, token=token_path.read_text().strip())


def _make(paths: Credentials) -> None:
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("gitops-lab-sandbox-ca")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + VALIDITY)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False),
                         critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names = x509.SubjectAlternativeName([
        x509.DNSName("localhost"), x509.DNSName("kubernetes"), x509.DNSName("kubernetes.default"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ])
    cert = (x509.CertificateBuilder().subject_name(_name("gitops-lab-sandbox")).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + VALIDITY)
            .add_extension(alt_names, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write_private(paths.ca_cert, ca.public_bytes(serialization.Encoding.PEM))
    _write_private(paths.server_cert, cert.public_bytes(serialization.Encoding.PEM))
    _write_private(paths.server_key, _pem_key(key))
