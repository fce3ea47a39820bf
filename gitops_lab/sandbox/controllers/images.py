"""The image catalog of the simulated kubelet: which image references "exist", their sizes and canned logs.

Owns a data table of common public images (nginx, httpd, busybox, redis, postgres, python, podinfo, pause, ...)
with simple rules for the tags each accepts, reference parsing and normalisation as container runtimes do
(``nginx`` → ``docker.io/library/nginx:latest``), and :meth:`ImageCatalog.add_image` for images the lab's CI
builds. A reference the catalog does not know fails to "pull" (ErrImagePull), which is how a typo in an image
shows up. Pure data: no I/O, no registry is ever contacted; each catalog is its own instance.

>>> catalog = default_catalog()
>>> catalog.lookup("nginx:1.27").image_id.startswith("docker.io/library/nginx@sha256:")
True
>>> catalog.lookup("nginx:9.9") is None
True
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence

DEFAULT_REGISTRY = "docker.io"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_VERSION_PREFIX = re.compile(r"^v?(\d+(?:\.\d+)*)")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclasses.dataclass(frozen=True)
class ImageRef:
    """A parsed image reference: registry host, repository path, tag and optional digest."""

    registry: str
    path: str
    tag: str
    digest: str | None = None

    @property
    def repository(self) -> str:
        """``docker.io/library/nginx``: the registry and path, no tag."""
        return f"{self.registry}/{self.path}"

    def __str__(self) -> str:
        text = f"{self.repository}:{self.tag}"
        return f"{text}@{self.digest}" if self.digest else text


def parse_reference(ref: str) -> ImageRef:
    """Normalise a reference as containerd does; raises ValueError for one that cannot be an image.

    >>> str(parse_reference("nginx")), str(parse_reference("ghcr.io/stefanprodan/podinfo:6.7.1"))
    ('docker.io/library/nginx:latest', 'ghcr.io/stefanprodan/podinfo:6.7.1')
    >>> parse_reference("localhost:5000/demo:abc").registry
    'localhost:5000'
    """
    text = ref.strip()
    digest = None
    if "@" in text:
        text, _, digest = text.partition("@")
        if not DIGEST.match(digest):
            raise ValueError(f"invalid reference format: {ref!r} has a malformed digest")
    name, tag = text, "latest"
    last = text.rpartition("/")[2]
    if ":" in last:
        name, _, tag = text.rpartition(":")
    if name != name.lower():
        raise ValueError(f"invalid reference format: repository name ({name}) must be lowercase")
    if not name or not re.fullmatch(r"\w[\w.\-]{0,127}", tag):
        raise ValueError(f"invalid reference format: {ref!r}")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = DEFAULT_REGISTRY, name
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    if not re.fullmatch(r"[a-z0-9]+(?:[._\-/][a-z0-9]+)*", path):
        raise ValueError(f"invalid reference format: {ref!r}")
    return ImageRef(registry, path, tag, digest)


@dataclasses.dataclass(frozen=True)
class ImageFamily:
    """A repository the catalog knows and the tags it accepts.

    A tag is accepted when it is one of ``named_tags``, or a version matching ``versions`` (a regex over
    ``1.27.3``-style text) optionally followed by ``-<variant>``, or ``<named tag>-<variant>``.
    """

    repository: str
    versions: str = r"\d+(\.\d+){0,2}"
    named_tags: tuple[str, ...] = ("latest",)
    variants: tuple[str, ...] = ()
    default_version: str = "1.0.0"
    size: int = 50_000_000
    logs: tuple[str, ...] = ()
    any_tag: bool = False

    def accepts(self, tag: str) -> bool:
        """Whether ``tag`` exists for this repository.

        >>> ImageFamily("docker.io/library/nginx", r"1(\\.\\d+){0,2}", ("latest",), ("alpine",)).accepts("1.27-alpine")
        True
        """
        if self.any_tag or tag in self.named_tags:
            return True
        base, _, variant = tag.partition("-")
        if variant and variant not in self.variants:
            return False
        return base in self.named_tags or re.fullmatch(self.versions, base) is not None


@dataclasses.dataclass(frozen=True)
class PulledImage:
    """What a successful pull yields: the resolved reference, its imageID, size and log lines."""

    ref: ImageRef
    image_id: str
    size: int
    logs: tuple[str, ...]
    version: str

    def log_text(self, started: datetime.datetime, pod_ip: str, pod_name: str) -> str:
        """The container's canned log with times and addresses filled in."""
        values = {
            "ngx_time": started.strftime("%Y/%m/%d %H:%M:%S"),
            "httpd_time": started.strftime("%a %b %d %H:%M:%S.000000 %Y"),
            "redis_time": started.strftime("%d %b %Y %H:%M:%S.000"),
            "iso": started.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "iso_ms": started.strftime("%Y-%m-%d %H:%M:%S.000"),
            "version": self.version,
            "pod_ip": pod_ip or "127.0.0.1",
            "pod": pod_name,
        }
        return "".join(_PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), line) + "\n"
                       for line in self.logs)


_NGINX_LOGS = (
    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
    "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
    "/docker-entrypoint.sh: Configuration complete; ready for start up",
    '{ngx_time} [notice] 1#1: using the "epoll" event method',
    "{ngx_time} [notice] 1#1: nginx/{version}",
    "{ngx_time} [notice] 1#1: OS: Linux 6.8.0",
    "{ngx_time} [notice] 1#1: start worker processes",
    "{ngx_time} [notice] 1#1: start worker process 29",
)
_HTTPD_LOGS = (
    "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {pod_ip}. "
    "Set the 'ServerName' directive globally to suppress this message",
    "[{httpd_time}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/{version} (Unix) configured -- "
    "resuming normal operations",
    "[{httpd_time}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'",
)
_REDIS_LOGS = (
    "1:C {redis_time} * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
    "1:C {redis_time} * Redis version={version}, bits=64, commit=00000000, modified=0, pid=1, just started",
    "1:M {redis_time} * monotonic clock: POSIX clock_gettime",
    "1:M {redis_time} * Running mode=standalone, port=6379.",
    "1:M {redis_time} * Server initialized",
    "1:M {redis_time} * Ready to accept connections tcp",
)
_POSTGRES_LOGS = (
    "PostgreSQL Database directory appears to contain a database; Skipping initialization",
    "{iso_ms} UTC [1] LOG:  starting PostgreSQL {version} on x86_64-pc-linux-gnu",
    '{iso_ms} UTC [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432',
    '{iso_ms} UTC [1] LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"',
    "{iso_ms} UTC [1] LOG:  database system is ready to accept connections",
)
_PODINFO_LOGS = (
    '{"level":"info","ts":"{iso}","caller":"podinfo/main.go:153","msg":"Starting podinfo",'
    '"version":"{version}","port":"9898"}',
    '{"level":"info","ts":"{iso}","caller":"api/server.go:265","msg":"Starting HTTP Server.","addr":":9898"}',
)
_HELLO_APP_LOGS = ("{ngx_time} Server listening on port 8080",)
_WHOAMI_LOGS = ("{ngx_time} Starting up on port 80",)
_AGNHOST_LOGS = ("I0101 00:00:00.000000       1 log.go:245] Started HTTP server on port 8080",)

_BUILTIN: tuple[ImageFamily, ...] = (
    ImageFamily("docker.io/library/nginx", r"1(\.\d{1,2}(\.\d{1,2})?)?", ("latest", "stable", "mainline", "alpine",
                "alpine-slim", "perl", "bookworm"), ("alpine", "alpine-slim", "perl", "bookworm", "otel"),
                "1.27.3", 72_000_000, _NGINX_LOGS),
    ImageFamily("docker.io/nginxinc/nginx-unprivileged", r"1(\.\d{1,2}(\.\d{1,2})?)?", ("latest", "stable",
                "alpine"), ("alpine", "alpine-slim"), "1.27.3", 73_000_000, _NGINX_LOGS),
    ImageFamily("docker.io/library/httpd", r"2(\.4(\.\d{1,2})?)?", ("latest", "alpine"), ("alpine", "bookworm"),
                "2.4.62", 58_000_000, _HTTPD_LOGS),
    ImageFamily("docker.io/library/busybox", r"1(\.\d{2}(\.\d)?)?", ("latest", "stable", "musl", "glibc",
                "uclibc"), ("musl", "glibc", "uclibc"), "1.37.0", 2_200_000),
    ImageFamily("docker.io/library/alpine", r"3(\.\d{1,2}(\.\d{1,2})?)?", ("latest", "edge"), (),
                "3.21.0", 3_600_000),
    ImageFamily("docker.io/library/ubuntu", r"(1\d|2\d)\.(04|10)", ("latest", "rolling", "noble", "jammy",
                "focal"), (), "24.04", 29_000_000),
    ImageFamily("docker.io/library/debian", r"1[0-3](\.\d{1,2})?", ("latest", "stable", "bookworm", "trixie",
                "bullseye", "stable-slim", "bookworm-slim"), ("slim",), "12.8", 49_000_000),
    ImageFamily("docker.io/library/redis", r"[5-8](\.\d(\.\d{1,2})?)?", ("latest", "alpine", "bookworm"),
                ("alpine", "bookworm"), "7.4.1", 45_000_000, _REDIS_LOGS),
    ImageFamily("docker.io/library/postgres", r"(9\.6|1[0-8])(\.\d{1,2})?", ("latest", "alpine", "bookworm"),
                ("alpine", "bookworm", "bullseye"), "17.2", 150_000_000, _POSTGRES_LOGS),
    ImageFamily("docker.io/library/python", r"3(\.\d{1,2}(\.\d{1,2})?)?", ("latest", "slim", "alpine",
                "bookworm"), ("slim", "alpine", "bookworm", "slim-bookworm"), "3.13.1", 400_000_000),
    ImageFamily("docker.io/library/node", r"(1[89]|2[0-4])(\.\d{1,2}(\.\d{1,2})?)?", ("latest", "lts", "slim",
                "alpine"), ("slim", "alpine", "bookworm"), "22.12.0", 390_000_000),
    ImageFamily("docker.io/library/golang", r"1(\.\d{1,2}(\.\d{1,2})?)?", ("latest", "alpine"), ("alpine",
                "bookworm"), "1.23.4", 300_000_000),
    ImageFamily("docker.io/library/memcached", r"1(\.6(\.\d{1,2})?)?", ("latest", "alpine"), ("alpine",),
                "1.6.34", 33_000_000),
    ImageFamily("docker.io/curlimages/curl", r"[78](\.\d{1,3}(\.\d)?)?", ("latest",), (), "8.11.1",
                11_000_000),
    ImageFamily("docker.io/traefik/whoami", r"v?1(\.\d{1,2}(\.\d)?)?", ("latest",), (), "1.10.3", 3_000_000,
                _WHOAMI_LOGS),
    ImageFamily("docker.io/hashicorp/http-echo", r"v?[01](\.\d{1,2}(\.\d)?)?", ("latest",), (), "1.0.0",
                4_000_000),
    ImageFamily("ghcr.io/stefanprodan/podinfo", r"[1-6]\.\d{1,2}\.\d{1,2}", ("latest",), (), "6.7.1",
                25_000_000, _PODINFO_LOGS),
    ImageFamily("gcr.io/google-samples/hello-app", r"[12]\.0", ("latest",), (), "1.0", 11_000_000,
                _HELLO_APP_LOGS),
    ImageFamily("registry.k8s.io/pause", r"3\.\d{1,2}", ("latest",), (), "3.10", 320_000),
    ImageFamily("registry.k8s.io/e2e-test-images/agnhost", r"2\.\d{1,2}", (), (), "2.53", 50_000_000,
                _AGNHOST_LOGS),
)


def _version_of(tag: str, default: str) -> str:
    match = _VERSION_PREFIX.match(tag)
    return match.group(1) if match else default


class ImageCatalog:
    """The images a simulated node can pull: built-in families plus images the lab registers."""

    def __init__(self, families: Iterable[ImageFamily] = _BUILTIN) -> None:
        self._families: dict[str, ImageFamily] = {f.repository: f for f in families}
        self._exact: dict[str, ImageFamily] = {}

    def add_image(self, ref: str, *, logs: Sequence[str] = (), size: int = 30_000_000) -> ImageRef:
        """Make one exact reference pullable (``registry.lab/demo:sha-1a2b3c``); a bare name means ``:latest``.

        ``logs`` are the container's log lines; ``{iso}``, ``{pod_ip}``, ``{pod}`` and ``{version}`` in them
        are filled in (other braces stay as they are).

        >>> catalog = ImageCatalog(())
        >>> _ = catalog.add_image("localhost:5000/demo:abc123")
        >>> catalog.lookup("localhost:5000/demo:abc123") is not None, catalog.lookup("localhost:5000/demo:x")
        (True, None)
        """
        parsed = parse_reference(ref)
        family = ImageFamily(parsed.repository, named_tags=(), default_version=parsed.tag, size=size,
                             logs=tuple(logs))
        self._exact[f"{parsed.repository}:{parsed.tag}"] = family
        return parsed

    def lookup(self, ref: str) -> PulledImage | None:
        """The image ``ref`` resolves to, or None when no such image exists (or the reference is malformed)."""
        try:
            parsed = parse_reference(ref)
        except ValueError:
            return None
        family = self._exact.get(f"{parsed.repository}:{parsed.tag}")
        if family is None:
            family = self._families.get(parsed.repository)
            if family is None or not (parsed.digest or family.accepts(parsed.tag)):
                return None
        digest = parsed.digest or "sha256:" + hashlib.sha256(str(parsed).encode()).hexdigest()
        return PulledImage(parsed, f"{parsed.repository}@{digest}", family.size, family.logs,
                           _version_of(parsed.tag, family.default_version))

    def families(self) -> Mapping[str, ImageFamily]:
        return dict(self._families)


def default_catalog() -> ImageCatalog:
    """A fresh catalog holding the built-in table of public images."""
    return ImageCatalog(_BUILTIN)
