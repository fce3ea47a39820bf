"""Desired state (what Git declares) against live objects: which objects and fields departed, and who did it.

Owns :func:`diff_object` and its results (:class:`ObjectDrift`, :class:`FieldDrift`), the rule set that decides
which fields Git does not set still count as drift (:class:`Rules`), :func:`drift_fields_to_remove` (the JSON patch
that takes those away), :func:`inventory_id` (Flux's inventory entry format) and the schema lookups
(:func:`builtin_schema`, :func:`crd_schema_lookup`).

Pure: no I/O, no clock, no cluster. It must not decide what to apply, prune or skip (``gitops.plans`` does) nor
talk to an API server (the reconciler does). It reads ``metadata.managedFields`` with the sandbox's pure
structured-merge-diff model (``sandbox.applying``) and fills in defaults with ``sandbox.defaults``; both follow
kube-apiserver v1.37, so objects from any cluster (sandbox, kind, existing) read the same.

**The rules** (``desired`` is the object as the reconciler will apply it, owner labels included):

1. *Missing*: no live object: state ``missing``.
2. *Changed / removed* (fields Git sets): every field of the desired object's field set (structured-merge-diff's:
   scalars, atomic lists and maps, list items by their merge keys — containers by ``name``, container ports by
   ``containerPort`` and ``protocol``, env by ``name`` — and map keys) is compared with the live value. Absent
   live: ``removed``; different: ``changed``, whoever made it (another controller's value too: Flux's forced apply
   takes it back). Values compare as JSON (``1 == 1.0``), Quantities by value (``0.1`` is ``100m``); an empty
   value Git sets (``{}``, ``[]``, null, or ``""``/``0``/``false`` in a struct field) matches an absent one, since
   the API server omits those. Fields the schema does not know are skipped: the API server drops them.
3. *Added* (fields Git does not set): a live field Git does not set is drift when every managedFields entry owning
   it (or anything below it) gives it up to the reconciler's next apply, and at least one owns it:

   - a *takeover* manager, as Flux's kustomize-controller cleans them up: a manager whose name starts with
     ``kubectl`` with operation Apply or Update (``kubectl`` for ``kubectl apply --server-side``,
     ``kubectl-client-side-apply``, ``kubectl-edit``, ``kubectl-label``, ``kubectl-annotate``, ``kubectl-patch``,
     ``kubectl-set``, ``kubectl-rollout``, ``kubectl-create``…), ``before-first-apply`` (Update), the reconciler's
     own Update entry, and :attr:`Rules.override_managers` (Flux's ``--override-manager``); on the main resource
     only: ``kubectl scale`` writes ``kubectl`` (Update) on the ``scale`` subresource, which is not taken over;
   - the reconciler's own Apply entry: a leftover of an earlier revision, which its next apply prunes.

   So server-populated fields owned by nobody (``progressDeadlineSeconds``, ``terminationMessagePath``,
   ``clusterIP``…), controllers' fields (``kube-controller-manager``'s revision annotation) and other managers'
   fields (an autoscaler, ``--field-manager=me``) are not drift. Nor is a field whose live value is the one the
   API server defaults it to (giving it up changes nothing). Flux's cleanup annotations
   (``kubectl.kubernetes.io/last-applied-configuration``, ``kustomize.toolkit.fluxcd.io/checksum``,
   ``fluxcd.io/sync-checksum``) and label (``fluxcd.io/sync-gc-mark``) are drift whoever owns them. The path
   reported is the highest that goes as a whole (the env var ``kubectl set env`` added, not its name and value),
   except that labels and annotations (an object's, a pod template's) are reported one key at a time.
4. An object, desired or live, labelled or annotated ``kustomize.toolkit.fluxcd.io/ssa: Merge`` keeps foreign
   fields: only the reconciler's leftovers and rule 2 count.

Only ``metadata.labels``, ``metadata.annotations`` and what lies outside ``metadata`` and ``status`` is compared,
as in Flux. A desired object that structured-merge-diff cannot type (a list item without its key) is reported
``changed`` with a ``note``, so that the apply runs and the API server says what is wrong.

**Who.** ``FieldDrift.manager`` is the managedFields entry owning the drifted field (or its nearest owned
parent). A write that changes a value takes it from every other manager, so a field the reconciler still owns
(alone, or with someone who applied the same value) follows an older revision of Git, not a hand, and is named
after the reconciler. A ``removed`` field has no manager (``None``): the API server takes a removed field out of every entry and
records no entry for a write that only removes, so managedFields cannot tell who removed it.

**Compared with Flux** (kustomize-controller and fluxcd/pkg/ssa): Flux sends a server-side dry-run apply per
object and compares the result with the live labels, annotations and everything outside metadata and status;
before applying, it folds the entries of the takeover managers above into its own Apply entry, so the apply
removes what they added (a label added by hand goes). These rules reach the same verdict without a dry-run
request, and say which fields and who. One difference, on purpose: an object whose takeover-owned fields all equal
Git's values or the defaults is not reported, where Flux re-applies it once just to clean up managedFields.

>>> desired = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d"},
...            "data": {"a": "1"}}
>>> fields_v1 = {"f:data": {"f:a": {}, "f:b": {}}}
>>> live = {**desired, "data": {"a": "2", "b": "x"}, "metadata": {"name": "c", "namespace": "d",
...     "managedFields": [{"manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1",
...                        "fieldsType": "FieldsV1", "fieldsV1": fields_v1}]}}
>>> [(f.path, f.kind, f.manager) for f in diff_object(desired, live).fields]
[('data.a', 'changed', 'kubectl-edit'), ('data.b', 'added', 'kubectl-edit')]
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final, Literal

from gitops_lab.sandbox import applying, defaults, registry, schemas
from gitops_lab.sandbox.applying import FieldSet
from gitops_lab.sandbox.schemas import Schema

RECONCILER: Final = "kustomize-controller"
"""The reconciler's field manager, Flux's."""
TAKEOVER_MANAGERS: Final = (("kubectl", applying.APPLY), ("kubectl", applying.UPDATE),
                            (applying.BEFORE_FIRST_APPLY, applying.UPDATE))
"""(name prefix, operation) of the managers whose fields the reconciler takes over, besides its own Update."""
CLEANUP_ANNOTATIONS: Final = frozenset({applying.LAST_APPLIED, "kustomize.toolkit.fluxcd.io/checksum",
                                        "fluxcd.io/sync-checksum"})
CLEANUP_LABELS: Final = frozenset({"fluxcd.io/sync-gc-mark"})
SSA_KEY: Final = "kustomize.toolkit.fluxcd.io/ssa"
MERGE: Final = "Merge"
RBAC_GROUP: Final = "rbac.authorization.k8s.io"
RBAC_KINDS: Final = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})

FieldKind = Literal["changed", "added", "removed"]
ObjectState = Literal["missing", "changed"]
SchemaLookup = Callable[[str, str], Schema | None]
Path = tuple[str, ...]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Final = _Missing()
_EMPTY: Final = FieldSet()
_METADATA_MAPS: Final = frozenset({("f:metadata", "f:labels"), ("f:metadata", "f:annotations")})
"""Maps whose keys are reported one by one (the object's, a pod template's), even when a hand created the map."""


# --------------------------------------------------------------------------------------------------------------
# Results


@dataclasses.dataclass(frozen=True)
class FieldDrift:
    """One field that departs from Git.

    Attributes:
        path: where, as kube-apiserver prints paths without the leading dot:
            ``spec.template.spec.containers[name="web"].image``, ``metadata.labels.team``.
        desired: Git's value (``None`` for ``added``).
        live: the live value (``None`` for ``removed``).
        manager: the field manager that made the change, or None when managedFields cannot tell.
        kind: ``changed`` (Git sets another value), ``added`` (Git does not set it), ``removed`` (Git sets it,
            live has none).
        subresource: the subresource the manager wrote through (``scale`` for ``kubectl scale``), else "".
        pointer: the field's JSON pointer in the live object ("" when absent live).
    """

    path: str
    desired: Any
    live: Any
    manager: str | None
    kind: FieldKind
    subresource: str = ""
    pointer: str = ""

    @property
    def who(self) -> str:
        """The manager as a person reads it: ``kubectl-edit``, ``kubectl (scale)``, ``unknown``."""
        name = self.manager or "unknown"
        return f"{name} ({self.subresource})" if self.subresource else name

    def describe(self) -> str:
        """One line: ``spec.replicas: 2 → 5 by kubectl (scale)``."""
        if self.kind == "changed":
            return f"{self.path}: {_short(self.desired)} → {_short(self.live)} by {self.who}"
        if self.kind == "added":
            return f"{self.path}: {_short(self.live)} added by {self.who}, not in Git"
        return f"{self.path}: removed by {self.who}, Git has {_short(self.desired)}"


@dataclasses.dataclass(frozen=True)
class ObjectDrift:
    """How one object departs from Git: missing, or changed in ``fields``.

    ``managers`` are the distinct managers named by ``fields``, in order; ``note`` explains a ``changed`` verdict
    that has no fields (a desired object the diff cannot type).
    """

    id: str
    api_version: str
    kind: str
    namespace: str
    name: str
    state: ObjectState
    fields: tuple[FieldDrift, ...] = ()
    managers: tuple[str, ...] = ()
    note: str = ""

    def foreign(self, reconciler: str = RECONCILER) -> bool:
        """Whether anyone but the reconciler made this drift. A missing object and a removed field count (someone
        deleted them), unless they are new in Git, which only the caller knows."""
        if self.state == "missing" or self.note:
            return True
        return any(f.manager != reconciler for f in self.fields)

    def describe(self) -> str:
        """``Deployment default/web: spec.replicas: 2 → 5 by kubectl (scale)``, fields joined by ``; ``."""
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        if self.state == "missing":
            return f"{self.kind} {where} is missing"
        details = [f.describe() for f in self.fields] or [self.note]
        return f"{self.kind} {where}: " + "; ".join(details)


@dataclasses.dataclass(frozen=True)
class Owner:
    """One ``metadata.managedFields`` entry, its fields parsed."""

    manager: str
    operation: str
    subresource: str
    time: str
    fields: FieldSet


@dataclasses.dataclass(frozen=True)
class Rules:
    """Which managers' fields the reconciler takes over (see the module docstring, rule 3).

    Attributes:
        reconciler: the reconciler's field manager.
        override_managers: more managers to take over, with both operations (Flux's ``--override-manager``).
    """

    reconciler: str = RECONCILER
    override_managers: tuple[str, ...] = ()

    def is_reconciler(self, owner: Owner) -> bool:
        """The reconciler's own Apply entry on the main resource."""
        return owner.manager == self.reconciler and owner.operation == applying.APPLY and not owner.subresource

    def takes_over(self, owner: Owner) -> bool:
        """Whether the reconciler's next apply takes this entry's fields (and so drops those Git lacks)."""
        if owner.subresource:
            return False
        prefixes = (*TAKEOVER_MANAGERS, (self.reconciler, applying.UPDATE),
                    *((m, op) for m in self.override_managers for op in (applying.APPLY, applying.UPDATE)))
        return any(owner.manager.startswith(name) and owner.operation == op for name, op in prefixes)


RULES: Final = Rules()


# --------------------------------------------------------------------------------------------------------------
# Identity and schemas


def inventory_id(obj: Mapping[str, Any]) -> str:
    """Flux's inventory entry id: ``<namespace>_<name>_<group>_<Kind>`` (namespace "" when cluster-scoped).

    Colons in RBAC names become ``__``, as in Flux's inventory.

    >>> inventory_id({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web",
    ...               "namespace": "prod"}})
    'prod_web_apps_Deployment'
    >>> inventory_id({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}})
    '_prod__Namespace'
    """
    meta = _metadata(obj)
    group = _group(str(obj.get("apiVersion") or ""))
    kind = str(obj.get("kind") or "")
    name = str(meta.get("name") or "")
    if group == RBAC_GROUP and kind in RBAC_KINDS:
        name = name.replace(":", "__")
    return f"{meta.get('namespace') or ''}_{name}_{group}_{kind}"


@functools.cache
def _definition_names() -> dict[tuple[str, str], str]:
    names: dict[tuple[str, str], str] = {}
    for name, raw in schemas.definitions().items():
        for gvk in raw.get("x-kubernetes-group-version-kind") or ():
            version = f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else str(gvk["version"])
            names.setdefault((version, str(gvk["kind"])), name)
    return names


@functools.cache
def _resource_keys() -> dict[tuple[str, str], str]:
    return {(rt.api_version, rt.kind): rt.key for rt in registry.builtin_types().values()}


def builtin_schema(api_version: str, kind: str) -> Schema | None:
    """The schema of a built-in kind of Kubernetes v1.37, or None.

    >>> builtin_schema("apps/v1", "Deployment").at("spec", "replicas").types
    ('integer',)
    """
    name = _definition_names().get((api_version, kind))
    return schemas.definition(name) if name else None


def crd_schema_lookup(crds: Iterable[Mapping[str, Any]]) -> SchemaLookup:
    """A lookup of the custom resources the given CustomResourceDefinitions serve (their openAPIV3Schema)."""
    table: dict[tuple[str, str], Schema] = {}
    for crd in crds:
        spec = crd.get("spec") or {}
        kind = (spec.get("names") or {}).get("kind")
        for version in spec.get("versions") or ():
            raw = (version.get("schema") or {}).get("openAPIV3Schema")
            table[(f"{spec.get('group')}/{version.get('name')}", str(kind))] = schemas.for_type(None, raw)
    return lambda api_version, kind: table.get((api_version, kind))


def _schema_for(api_version: str, kind: str, lookup: SchemaLookup | None) -> tuple[Schema, bool]:
    """(schema, whether built-in): the caller's lookup first, then the built-ins, else "anything goes"."""
    found = lookup(api_version, kind) if lookup is not None else None
    builtin = builtin_schema(api_version, kind)
    return found or builtin or schemas.for_type(None, None), found is None and builtin is not None


# --------------------------------------------------------------------------------------------------------------
# The diff


def diff_object(desired: Mapping[str, Any], live: Mapping[str, Any] | None, *,
                schema_lookup: SchemaLookup | None = None, rules: Rules = RULES) -> ObjectDrift | None:
    """How ``live`` departs from ``desired``, or None when it does not (see the module docstring for the rules).

    Args:
        desired: the object as the reconciler applies it (from Git, owner labels added).
        live: the object read from the cluster, with ``metadata.managedFields``, or None when absent.
        schema_lookup: schemas of custom resources (:func:`crd_schema_lookup`); built-in kinds need none.
        rules: which managers' fields the reconciler takes over.

    Returns:
        None when the live object holds what Git declares, else an :class:`ObjectDrift`.

    >>> cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d"}}
    >>> diff_object(cm, None).state
    'missing'
    >>> diff_object(cm, cm) is None
    True
    """
    api_version, kind = str(desired.get("apiVersion") or ""), str(desired.get("kind") or "")
    meta = _metadata(desired)
    missing = ObjectDrift(inventory_id(desired), api_version, kind, str(meta.get("namespace") or ""),
                          str(meta.get("name") or ""), "missing")
    if live is None:
        return missing
    schema, is_builtin = _schema_for(api_version, kind, schema_lookup)
    git = _folded(desired)
    expected = _defaulted(git, schema, _resource_keys().get((api_version, kind)) if is_builtin else None)
    try:
        git_fields = _scoped(applying.field_set(git, schema))
        live_fields = _scoped(applying.field_set(live, schema))
    except ValueError as e:
        return dataclasses.replace(missing, state="changed",
                                   note=f"the object cannot be compared field by field ({e}); apply it to see why")
    walk = _Walk(_owners(live), rules, merge=_merges(desired) or _merges(live))
    found = [*walk.git(git_fields, live_fields, (), expected, live, "", schema),
             *walk.live(live_fields, git_fields, (), live, "", schema, expected)]
    if not found:
        return None
    found.sort(key=lambda f: f.path)
    managers = tuple(dict.fromkeys(f.manager for f in found if f.manager))
    return dataclasses.replace(missing, state="changed", fields=tuple(found), managers=managers)


def drift_fields_to_remove(drift: ObjectDrift) -> list[dict[str, Any]]:
    """A JSON patch (RFC 6902) that removes the ``added`` fields of ``drift`` from the live object it was made of.

    Each removal is guarded by a ``test`` of the value seen, so a patch against an object changed since fails
    instead of removing the wrong list item; list items go from the highest index down.

    >>> d = ObjectDrift("d_c__ConfigMap", "v1", "ConfigMap", "d", "c", "changed", fields=(
    ...     FieldDrift("data.b", None, "x", "kubectl-edit", "added", pointer="/data/b"),))
    >>> drift_fields_to_remove(d)
    [{'op': 'test', 'path': '/data/b', 'value': 'x'}, {'op': 'remove', 'path': '/data/b'}]
    """
    added = sorted((f for f in drift.fields if f.kind == "added" and f.pointer),
                   key=lambda f: _pointer_order(f.pointer), reverse=True)
    tests = [{"op": "test", "path": f.pointer, "value": f.live} for f in added]
    return [*tests, *({"op": "remove", "path": f.pointer} for f in added)]


class _Walk:
    """The two walks of :func:`diff_object`: over the fields Git sets (rule 2), over the live ones (rule 3)."""

    def __init__(self, owners: tuple[Owner, ...], rules: Rules, *, merge: bool) -> None:
        self.owners = owners
        self.rules = rules
        self.merge = merge

    # -- rule 2 ------------------------------------------------------------------------------------------------

    def git(self, fields: FieldSet, live_fields: FieldSet, path: Path, want: Any, have: Any, pointer: str,
            node: Schema) -> Iterator[FieldDrift]:
        for element in _elements(fields):
            child = _child(node, element)
            wanted, value, _ = _step(want, element)
            if child is None or not wanted:
                continue  # a field the schema does not know: the API server drops it
            here = (*path, element)
            found, live_value, token = _step(have, element)
            if not found:
                if not _omittable(node, element, value):
                    yield self._removed(here, value)
                continue
            below, live_below = fields.children.get(element), live_fields.children.get(element, _EMPTY)
            if below is None:
                if (_empty(value) and live_below) or _same(value, live_value, child):
                    continue  # equal, or an empty granular map or list whose live content rule 3 judges
                yield self._changed(here, value, live_value, f"{pointer}/{token}")
            else:
                yield from self.git(below, live_below, here, value, live_value, f"{pointer}/{token}", child)

    def _changed(self, path: Path, desired: Any, live: Any, pointer: str) -> FieldDrift:
        owner = self._pick(self._owning_nearest(path))
        return FieldDrift(_text(path), _copy(desired), _copy(live), owner.manager if owner else None, "changed",
                          owner.subresource if owner else "", pointer)

    @staticmethod
    def _removed(path: Path, desired: Any) -> FieldDrift:
        return FieldDrift(_text(path), _copy(desired), None, None, "removed")

    # -- rule 3 ------------------------------------------------------------------------------------------------

    def live(self, fields: FieldSet, git: FieldSet, path: Path, have: Any, pointer: str, node: Schema,
             want: Any) -> Iterator[FieldDrift]:
        for element in _elements(fields):
            found, value, token = _step(have, element)
            if not found:
                continue
            here, below = (*path, element), fields.children.get(element, _EMPTY)
            child = _child(node, element) or Schema.ANY
            wanted, expected, _ = _step(want, element)
            git_below = git.children.get(element)
            if element in git.members or git_below is not None:
                if git_below is not None or below:  # Git sets what is below, or an empty granular value
                    yield from self.live(below, git_below or _EMPTY, here, value, f"{pointer}/{token}", child,
                                         expected if wanted else _MISSING)
                continue
            yield from self._extra(below, here, value, f"{pointer}/{token}", child, expected if wanted else _MISSING)

    def _extra(self, fields: FieldSet, path: Path, have: Any, pointer: str, node: Schema,
               want: Any) -> Iterator[FieldDrift]:
        """A live field Git does not set: drift as a whole, or look below it."""
        if want is not _MISSING and _same(want, have, node):
            return  # the value the API server defaults it to
        owning = [o for o in self.owners if path in o.fields]
        under = [o for o in self.owners if _below(o.fields, path)]
        forced = not self.merge and _cleanup_key(path)
        whole = path[-2:] not in _METADATA_MAPS and owning and all(self._gives_up(o) for o in (*owning, *under))
        if forced or whole:
            owner = self._pick(owning)
            yield FieldDrift(_text(path), None, _copy(have), owner.manager if owner else None, "added",
                             owner.subresource if owner else "", pointer)
            return
        for element in _elements(fields):
            found, value, token = _step(have, element)
            if found:
                wanted, expected, _ = _step(want, element)
                yield from self._extra(fields.children.get(element, _EMPTY), (*path, element), value,
                                       f"{pointer}/{token}", _child(node, element) or Schema.ANY,
                                       expected if wanted else _MISSING)

    def _gives_up(self, owner: Owner) -> bool:
        return self.rules.is_reconciler(owner) or (not self.merge and self.rules.takes_over(owner))

    # -- owners ------------------------------------------------------------------------------------------------

    def _owning_nearest(self, path: Path) -> list[Owner]:
        for end in range(len(path), 0, -1):
            owning = [o for o in self.owners if path[:end] in o.fields]
            if owning:
                return owning
        return []

    def _pick(self, owners: list[Owner]) -> Owner | None:
        """The owner to name: the reconciler when it shares the field (another manager then set the same value,
        so a difference comes from Git), else the one that wrote last."""
        mine = [o for o in owners if self.rules.is_reconciler(o)]
        return mine[0] if mine else max(owners, key=lambda o: o.time, default=None)


def _owners(live: Mapping[str, Any]) -> tuple[Owner, ...]:
    """The managedFields entries of ``live``; malformed ones are left out (they own nothing we can read)."""
    out = []
    for entry in _metadata(live).get("managedFields") or ():
        if not isinstance(entry, dict) or not isinstance(entry.get("fieldsV1"), dict):
            continue
        try:
            fields = applying.from_fields_v1(entry["fieldsV1"])
        except ValueError:
            continue
        out.append(Owner(str(entry.get("manager") or ""), str(entry.get("operation") or ""),
                         str(entry.get("subresource") or ""), str(entry.get("time") or ""), fields))
    return tuple(out)


def _below(fields: FieldSet, path: Path) -> bool:
    """Whether ``fields`` has members strictly below ``path``."""
    for element in path:
        fields = fields.with_prefix(element)
        if not fields:
            return False
    return bool(fields)


def _cleanup_key(path: Path) -> bool:
    if len(path) != 3 or path[0] != "f:metadata" or path[2][:2] != "f:":
        return False
    keys = {"f:annotations": CLEANUP_ANNOTATIONS, "f:labels": CLEANUP_LABELS}.get(path[1], frozenset())
    return path[2][2:] in keys


# --------------------------------------------------------------------------------------------------------------
# Preparing the objects


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def _folded(desired: Mapping[str, Any]) -> dict[str, Any]:
    """``desired`` with a Secret's write-only ``stringData`` folded into ``data`` as the API server stores it."""
    obj = dict(desired)
    string_data = obj.get("stringData")
    if obj.get("apiVersion") == "v1" and obj.get("kind") == "Secret" and isinstance(string_data, dict):
        data = dict(obj.get("data") or {})
        data.update((k, base64.b64encode(v.encode()).decode()) for k, v in string_data.items() if isinstance(v, str))
        obj["data"] = data
        del obj["stringData"]
    return obj


def _defaulted(obj: dict[str, Any], schema: Schema, resource_key: str | None) -> dict[str, Any]:
    """A copy of ``obj`` with the defaults and canonical forms the API server gives it (as far as known)."""
    out = copy.deepcopy(obj)
    try:
        if resource_key is not None:
            defaults.apply_defaults(resource_key, out)
        else:
            defaults.apply_schema_defaults(schema, out)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError):
        return copy.deepcopy(obj)  # a malformed object: the API server will say what is wrong with it
    return out


def _merges(obj: Mapping[str, Any]) -> bool:
    meta = _metadata(obj)
    return any(isinstance(m, dict) and m.get(SSA_KEY) == MERGE for m in (meta.get("labels"), meta.get("annotations")))


def _scoped(fields: FieldSet) -> FieldSet:
    """The fields compared: labels and annotations, and everything outside metadata and status."""
    skipped = {"f:apiVersion", "f:kind", "f:status", "f:metadata"}
    children = {e: sub for e, sub in fields.children.items() if e not in skipped}
    meta = fields.children.get("f:metadata")
    if meta is not None:
        kept = {"f:labels", "f:annotations"}
        scoped = FieldSet(meta.members & kept, {e: s for e, s in meta.children.items() if e in kept})
        if scoped:
            children["f:metadata"] = scoped
    return FieldSet(fields.members - skipped, children)


# --------------------------------------------------------------------------------------------------------------
# Values


def _elements(fields: FieldSet) -> list[str]:
    return sorted(fields.members | fields.children.keys())


def _child(node: Schema, element: str) -> Schema | None:
    return node.field(element[2:]) if element.startswith("f:") else node.items()


def _step(value: Any, element: str) -> tuple[bool, Any, str]:
    """(found, the value at ``element`` below ``value``, its JSON pointer token)."""
    tag, body = element[0], element[2:]
    if tag == "f":
        if isinstance(value, dict) and body in value:
            return True, value[body], body.replace("~", "~0").replace("/", "~1")
        return False, None, ""
    if not isinstance(value, list):
        return False, None, ""
    if tag == "i":
        index = int(body)
        return (True, value[index], str(index)) if 0 <= index < len(value) else (False, None, "")
    wanted = json.loads(body)
    for index, item in enumerate(value):
        if (tag == "v" and _same(item, wanted)) or (tag == "k" and _keys_match(item, wanted)):
            return True, item, str(index)
    return False, None, ""


def _keys_match(item: Any, keys: Mapping[str, Any]) -> bool:
    """Whether a list item has these key values (a key it lacks matches: its default filled the element)."""
    return isinstance(item, dict) and all(k not in item or _same(item[k], v) for k, v in keys.items())


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, dict | list) and not value)


def _omittable(parent: Schema, element: str, value: Any) -> bool:
    """Whether the API server leaves ``value`` out of what it returns: empty, or a zero value in a struct field."""
    if _empty(value):
        return True
    zero = value == "" or value is False or (type(value) in (int, float) and value == 0)
    return zero and element.startswith("f:") and element[2:] in parent.properties


def _same(left: Any, right: Any, node: Schema | None = None) -> bool:
    """JSON equality as the API server sees it: ``1 == 1.0``, booleans are not numbers, an empty value equals an
    absent one inside objects, and Quantities compare by value."""
    if isinstance(left, dict) and isinstance(right, dict):
        return all(_same(left[k], right[k]) if k in left and k in right else _empty(left.get(k, right.get(k)))
                   for k in left.keys() | right.keys())
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if type(left) is type(right) and left == right:
        return True
    return node is not None and _is_quantity(node) and _quantity(left) is not None and (
        _quantity(left) == _quantity(right))


def _is_quantity(node: Schema) -> bool:
    alternatives = node.raw.get("oneOf") or ()
    return {t for alt in alternatives for t in Schema(alt).types} == {"string", "number"}


def _quantity(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        return defaults.canonical_quantity(value)
    except (ValueError, ArithmeticError):
        return None


def _copy(value: Any) -> Any:
    return copy.deepcopy(value) if isinstance(value, dict | list) else value


def _text(path: Path) -> str:
    return applying.path_string(path).removeprefix(".")


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _pointer_order(pointer: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key of a JSON pointer: list indexes as numbers, so that higher indexes sort later."""
    return tuple((1, int(t), "") if t.isdigit() else (0, 0, t) for t in pointer.split("/")[1:])
