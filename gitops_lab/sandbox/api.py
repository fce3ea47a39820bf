"""The API semantics of the sandbox: what get, list, create, update, patch, delete and watch mean.

Owns the rules kube-apiserver applies around storage: names and generateName, uid and timestamps, resourceVersion
preconditions, generation bumps on spec changes, status and scale subresources, defaults and validation, field
validation (Strict/Warn/Ignore), managed fields and server-side apply, dry runs, finalizers and deletion
propagation, namespaces' lifecycle, and watches with selectors, bookmarks and initial events. Both the HTTP layer
and the in-process controllers call it, on the event-loop thread. Must not know HTTP or wire formats.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import dataclasses
import ipaddress
import json
import secrets
import uuid
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import Any

from gitops_lab import clock as clocks
from gitops_lab.sandbox import (
    applying,
    defaults,
    documents,
    patching,
    registry,
    schemas,
    selectors,
    statuses,
    validation,
)
from gitops_lab.sandbox.store import Change, Store

NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
GENERATION_KEYS = {"apps/deployments", "apps/replicasets", "pods", "apiextensions.k8s.io/customresourcedefinitions"}
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
SERVER_OWNED_META = ("uid", "creationTimestamp", "resourceVersion", "generation", "deletionTimestamp",
                     "deletionGracePeriodSeconds", "selfLink")
INITIAL_EVENTS_END = "k8s.io/initial-events-end"
STATUS_RESETS_LABELS = frozenset({"apps/deployments", "apps/replicasets"})
CRD_KEY = "apiextensions.k8s.io/customresourcedefinitions"
CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io"
"""The finalizer kube-apiserver puts on a deleted CRD until its custom resources are gone."""
PROTECTED_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})

Obj = dict[str, Any]


@dataclasses.dataclass
class WriteOptions:
    """What a client asked of a write, and the warnings it should be told."""

    dry_run: bool = False
    field_manager: str | None = None
    field_validation: str = "Warn"  # Strict | Warn | Ignore (the apiserver's default is Warn)
    force: bool = False
    user_agent: str | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)

    def manager(self, fallback: str) -> str:
        if self.field_manager:
            return self.field_manager
        return applying.manager_from_user_agent(self.user_agent) if self.user_agent else fallback


@dataclasses.dataclass
class DeleteOptions:
    propagation: str | None = None  # Foreground | Background | Orphan
    dry_run: bool = False
    grace_period: int | None = None
    precondition_uid: str | None = None
    precondition_rv: str | None = None


@dataclasses.dataclass
class WatchEvent:
    type: str  # ADDED | MODIFIED | DELETED | BOOKMARK | ERROR
    object: Obj


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    return meta


def strip_for_compare(obj: Obj) -> Obj:
    """The object without what changes on every write (for no-op detection)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("resourceVersion", "managedFields")}
    return {**obj, "metadata": meta}


class Api:
    """The sandbox's API semantics over a :class:`Store`."""

    def __init__(self, store: Store, reg: registry.Registry | None = None,
                 clock: clocks.Clock | None = None, bookmark_interval: float = 5.0) -> None:
        self.store = store
        self.registry = reg or registry.Registry()
        self.clock: clocks.Clock = clock or clocks.WallClock()
        self.bookmark_interval = bookmark_interval
        self.log_source: Callable[[Obj, str | None], str] | None = None
        """Set by the kubelet: the log text of a pod's container."""
        self._cleaning: set[str] = set()
        self._last_event_nanos = 0
        for crd in list(self.store.items(CRD_KEY)):
            self._register_crd(crd)
        for crd in list(self.store.items(CRD_KEY)):
            self._cleanup_crd(crd["metadata"]["name"])  # finish what a stop interrupted

    # ---- helpers ---------------------------------------------------------------------------------------
    def now(self) -> str:
        return clocks.rfc3339(self.clock.now())

    def schema(self, rt: registry.ResourceType) -> schemas.Schema:
        return schemas.for_type(rt.schema_ref, rt.custom_schema)

    def resolve(self, group: str, version: str, plural: str) -> registry.ResourceType:
        rt = self.registry.lookup(group, version, plural)
        if rt is None:
            raise statuses.not_found_path()
        return rt

    def type_of(self, api_version: str, kind: str) -> registry.ResourceType:
        rt = self.registry.by_kind(api_version, kind)
        if rt is None:
            raise statuses.bad_request(f'no matches for kind "{kind}" in version "{api_version}"')
        return rt

    @staticmethod
    def _ns(rt: registry.ResourceType, namespace: str | None) -> str:
        return (namespace or "") if rt.namespaced else ""

    def _stored(self, rt: registry.ResourceType, namespace: str | None, name: str) -> Obj:
        obj = self.store.get(rt.key, self._ns(rt, namespace), name)
        if obj is None:
            raise statuses.not_found(rt.plural, name, rt.group)
        return obj

    def _stamp_kind(self, rt: registry.ResourceType, obj: Obj) -> Obj:
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind
        return obj

    def _out(self, rt: registry.ResourceType, obj: Obj) -> Obj:
        """A copy of a stored object as the client's version shows it."""
        out = copy.deepcopy(obj)
        return self._stamp_kind(rt, out)

    # ---- reads -----------------------------------------------------------------------------------------
    def get(self, rt: registry.ResourceType, namespace: str | None, name: str) -> Obj:
        return self._out(rt, self._stored(rt, namespace, name))

    def list(self, rt: registry.ResourceType, namespace: str | None, *, label_selector: str | None = None,
             field_selector: str | None = None, limit: int | None = None, continue_token: str | None = None,
             copy_items: bool = True) -> Obj:
        """A ``<Kind>List`` of matching objects, paginated by ``limit``/``continue``."""
        match = self._matcher(rt, label_selector, field_selector)
        start_after: tuple[str, str] | None = None
        rv = self.store.resource_version
        ns = self._ns(rt, namespace) if rt.namespaced and namespace else None
        source: Iterable[Obj] = self.store.items(rt.key, ns)
        if continue_token:
            start_after, token_rv = _decode_continue(continue_token)
            if 0 <= token_rv < rv:  # later pages show the list as of the first (-1: as of now)
                snapshot = self.store.items_at(rt.key, ns, token_rv)
                if snapshot is None:
                    raise ExpiredContinue(_encode_continue(start_after, -1))
                source, rv = snapshot, token_rv
        items: list[Obj] = []
        remaining = 0
        for obj in source:
            meta = obj["metadata"]
            position = (meta.get("namespace", ""), meta["name"])
            if start_after is not None and position <= start_after:
                continue
            if not match(obj):
                continue
            if limit and len(items) >= limit:
                remaining += 1
                continue
            items.append(obj)
        list_meta: Obj = {"resourceVersion": str(rv)}
        if remaining:
            last = items[-1]["metadata"]
            list_meta["continue"] = _encode_continue((last.get("namespace", ""), last["name"]), rv)
            list_meta["remainingItemCount"] = remaining
        out_items = [self._out(rt, o) if copy_items else o for o in items]
        return {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": list_meta, "items": out_items}

    def _matcher(self, rt: registry.ResourceType, label_selector: str | None,
                 field_selector: str | None) -> Callable[[Obj], bool]:
        labels = selectors.parse_label_selector(label_selector) if label_selector else None
        fields = (selectors.parse_field_selector(field_selector, rt.key, namespaced=rt.namespaced)
                  if field_selector else None)

        def match(obj: Obj) -> bool:
            if labels is not None and not labels.matches((obj.get("metadata") or {}).get("labels") or {}):
                return False
            return fields is None or fields.matches(obj)

        return match

    # ---- creates ---------------------------------------------------------------------------------------
    def create(self, rt: registry.ResourceType, namespace: str | None, body: Any,
               opts: WriteOptions | None = None) -> Obj:
        opts = opts or WriteOptions()
        obj = self._decode_body(rt, body, opts)
        meta = _meta(obj)
        ns = self._check_namespace(rt, namespace, meta)
        if not meta.get("name"):
            prefix = meta.get("generateName")
            if not prefix:
                raise statuses.invalid(rt.kind, "", [statuses.cause(
                    "FieldValueRequired", "Required value: name or generateName is required", "metadata.name")],
                    rt.group)
            meta["name"] = self._generate_name(rt, ns, prefix)
        name = meta["name"]
        if self.store.get(rt.key, ns, name) is not None:
            raise statuses.already_exists(rt.plural, name, rt.group)
        self._stamp_new(rt, obj, ns)
        obj = applying.track_update(None, obj, manager=opts.manager("unknown"), schema=self.schema(rt),
                                    api_version=rt.api_version, now=self.now(),
                                    ignored_fields=_ignored_fields(rt))
        self._validate(rt, obj, None)
        if opts.dry_run:
            return self._out(rt, obj)
        stored = self.store.put(rt.key, ns, name, obj)
        self._after_write(rt, stored)
        return self._out(rt, stored)

    def _stamp_new(self, rt: registry.ResourceType, obj: Obj, ns: str) -> None:
        """What the server sets on every new object: checks that its home accepts it, then uid, timestamp,
        namespace, generation, no status where a status subresource owns it, and defaults."""
        meta = _meta(obj)
        self._check_namespace_live(rt, ns)
        self._check_crd_live(rt)
        for key in SERVER_OWNED_META:
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self.now()
        if rt.namespaced:
            meta["namespace"] = ns
        if self._has_generation(rt):
            meta["generation"] = 1
        if "status" in rt.subresources and rt.key != "pods":
            obj.pop("status", None)
        self._prepare_new(rt, obj)

    def _generate_name(self, rt: registry.ResourceType, ns: str, prefix: str) -> str:
        for _ in range(8):
            name = prefix + "".join(secrets.choice(NAME_ALPHABET) for _ in range(5))
            if self.store.get(rt.key, ns, name) is None:
                return name
        raise statuses.ApiError(409, "AlreadyExists", f"could not generate a unique name from {prefix!r}")

    def _check_namespace(self, rt: registry.ResourceType, namespace: str | None, meta: Obj) -> str:
        if not rt.namespaced:
            meta.pop("namespace", None)
            return ""
        body_ns = meta.get("namespace")
        if body_ns and namespace and body_ns != namespace:
            raise statuses.bad_request("the namespace of the provided object does not match the namespace sent "
                                       "on the request")
        ns = namespace or body_ns
        if not ns:
            raise statuses.bad_request("an empty namespace may not be set during creation")
        return str(ns)

    def _check_namespace_live(self, rt: registry.ResourceType, ns: str) -> None:
        if not rt.namespaced:
            return
        namespace = self.store.get("namespaces", "", ns)
        if namespace is None:
            raise statuses.not_found("namespaces", ns)
        if namespace["metadata"].get("deletionTimestamp"):
            raise statuses.forbidden(f"{rt.plural} \"\" is forbidden: unable to create new content in namespace "
                                     f"{ns} because it is being terminated")

    def _has_generation(self, rt: registry.ResourceType) -> bool:
        return rt.is_custom or rt.key in GENERATION_KEYS

    def _decode_body(self, rt: registry.ResourceType, body: Any, opts: WriteOptions) -> Obj:
        if not isinstance(body, dict):
            raise statuses.bad_request("the body of the request must be a JSON or YAML object")
        documents.check_document(body)  # also what a patch made of the object
        obj = copy.deepcopy(body)
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if kind and kind != rt.kind:
            raise statuses.bad_request(f"the API version in the data ({api_version}) does not match the expected "
                                       f"API version ({rt.api_version})" if api_version != rt.api_version else
                                       f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})")
        if api_version and api_version != rt.api_version:
            raise statuses.bad_request(f"the API version in the data ({api_version}) does not match the expected "
                                       f"API version ({rt.api_version})")
        if not isinstance(obj.get("metadata", {}), dict):
            raise statuses.bad_request("metadata must be an object")
        self._check_fields(rt, obj, opts)
        return self._stamp_kind(rt, obj)

    def _check_fields(self, rt: registry.ResourceType, obj: Obj, opts: WriteOptions) -> None:
        """Decoding as the apiserver does it: type errors first, then unknown fields per fieldValidation."""
        schema = self.schema(rt)
        prefix = f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
        if not rt.is_custom:
            errors = validation.type_errors(schema, obj)
        elif "metadata" in obj:  # custom resources decode their metadata alone into an ObjectMeta
            errors = validation.type_errors(schemas.definition(OBJECT_META_REF), obj["metadata"])
        else:
            errors = []
        if errors:
            raise _DecodeError(prefix, errors[0])
        unknown = validation.unknown_fields(schema, obj)
        if unknown:
            if opts.field_validation == "Strict":
                details = ", ".join(f'unknown field "{path}"' for path in unknown)
                raise _DecodeError(prefix, f"strict decoding error: {details}", strict=True)
            if opts.field_validation == "Warn":
                opts.warnings.extend(f'unknown field "{path}"' for path in unknown)
            validation.prune_unknown(schema, obj)

    def _prepare_new(self, rt: registry.ResourceType, obj: Obj, old: Obj | None = None,
                     subresource: str | None = None) -> None:
        """Defaults and server-assigned fields of a new (``old is None``) or changed object."""
        if not rt.is_custom:  # what the typed object's encoding drops (omitempty), e.g. labels: {}
            validation.drop_empty_optional(self.schema(rt), obj)
        defaults.apply_defaults(rt.key, obj)
        if rt.is_custom:
            defaults.apply_schema_defaults(self.schema(rt), obj)
        if old is None:
            defaults.prepare_for_create(rt.key, obj)
        elif subresource is None:
            defaults.prepare_for_update(rt.key, obj, old)
        if rt.key == "services":
            self._allocate_service(obj)

    def _validate(self, rt: registry.ResourceType, obj: Obj, old: Obj | None) -> None:
        causes = validation.validate(rt, obj, old)
        if causes:
            raise statuses.invalid(rt.kind, obj["metadata"].get("name", ""), causes, rt.group)

    def _allocate_service(self, svc: Obj) -> None:
        spec = svc.setdefault("spec", {})
        if spec.get("type") == "ExternalName" or spec.get("clusterIP") == "None":
            return
        if not spec.get("clusterIP"):
            used = {s.get("spec", {}).get("clusterIP") for s in self.store.items("services")}
            for offset in range(10, SERVICE_CIDR.num_addresses - 1):
                ip = str(SERVICE_CIDR.network_address + offset)
                if ip not in used:
                    spec["clusterIP"] = ip
                    spec["clusterIPs"] = [ip]
                    break
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            used_ports = {p.get("nodePort") for s in self.store.items("services")
                          for p in (s.get("spec", {}).get("ports") or [])}
            free = (p for p in range(30000, 32768) if p not in used_ports)
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    port["nodePort"] = next(free)

    # ---- updates ---------------------------------------------------------------------------------------
    def update(self, rt: registry.ResourceType, namespace: str | None, name: str, body: Any,
               opts: WriteOptions | None = None, subresource: str | None = None) -> Obj:
        opts = opts or WriteOptions()
        if subresource == "scale":
            return self._write_scale(rt, namespace, name, body, opts)
        obj = self._decode_body(rt, body, opts)
        meta = _meta(obj)
        _check_request_namespace(rt, namespace, meta)
        if meta.get("name") != name:  # kube-apiserver's checkName: an update names its object
            raise statuses.bad_request(f"the name of the object ({meta.get('name') or ''}) does not match the name "
                                       f"on the URL ({name})")
        old = self._stored(rt, namespace, name)
        self._check_precondition(rt, old, meta.get("resourceVersion"))
        return self._commit_change(rt, old, obj, opts, subresource, manager_fallback="unknown")

    def _check_precondition(self, rt: registry.ResourceType, old: Obj, rv: Any) -> None:
        if rv and str(rv) != old["metadata"]["resourceVersion"]:
            raise statuses.conflict(rt.plural, old["metadata"]["name"], rt.group,
                                    "the object has been modified; please apply your changes to the latest "
                                    "version and try again")

    def _commit_change(self, rt: registry.ResourceType, old: Obj, obj: Obj, opts: WriteOptions,
                       subresource: str | None, manager_fallback: str, apply: bool = False) -> Obj:
        """Carry server-owned fields over from ``old``, then default, validate, track and store ``obj``."""
        self._merge_protected(rt, old, obj, subresource)
        self._prepare_new(rt, obj, old, subresource)
        if not apply:
            obj = applying.track_update(old, obj, manager=opts.manager(manager_fallback), schema=self.schema(rt),
                                        api_version=rt.api_version, now=self.now(), subresource=subresource or "",
                                        ignored_fields=_ignored_fields(rt, subresource))
        if self._has_generation(rt) and _spec_changed(old, obj):
            obj["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1
        self._validate(rt, obj, old)
        if strip_for_compare(obj) == strip_for_compare(old) and _same_fields(obj, old):
            return self._out(rt, old)  # a no-op write changes nothing, not even the resourceVersion
        if opts.dry_run:
            return self._out(rt, obj)
        meta = obj["metadata"]
        if deletion_due(rt.key, obj):
            gone = self.store.delete(rt.key, self._ns(rt, meta.get("namespace")), meta["name"])
            self._after_delete(rt, gone or obj)
            return self._out(rt, gone or obj)
        stored = self.store.put(rt.key, self._ns(rt, meta.get("namespace")), meta["name"], obj)
        self._after_write(rt, stored)
        return self._out(rt, stored)

    def _merge_protected(self, rt: registry.ResourceType, old: Obj, obj: Obj, subresource: str | None) -> None:
        old_meta, meta = old["metadata"], _meta(obj)
        for key in SERVER_OWNED_META:
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        if rt.namespaced:
            meta["namespace"] = old_meta.get("namespace", "")
        else:
            meta.pop("namespace", None)
        if old_meta.get("deletionTimestamp") and set(meta.get("finalizers") or []) - set(
                old_meta.get("finalizers") or []):
            raise statuses.forbidden("no new finalizers can be added if the object is being deleted")
        if "status" in rt.subresources:
            if subresource == "status":
                # Only status (and the metadata the kind's status strategy lets through) changes via /status.
                for key in list(obj):
                    if key not in ("status", "metadata", "apiVersion", "kind"):
                        obj.pop(key)
                for key, value in old.items():
                    if key not in ("status", "metadata", "apiVersion", "kind"):
                        obj[key] = copy.deepcopy(value)
                for key in _status_kept_meta(rt):
                    if key in old_meta:
                        meta[key] = copy.deepcopy(old_meta[key])
                    else:
                        meta.pop(key, None)
            elif "status" in old:
                obj["status"] = copy.deepcopy(old["status"])
            else:
                obj.pop("status", None)

    def patch(self, rt: registry.ResourceType, namespace: str | None, name: str, content_type: str,
              body: bytes, opts: WriteOptions | None = None, subresource: str | None = None) -> Obj:
        opts = opts or WriteOptions()
        is_apply = content_type.startswith("application/apply-patch")
        if subresource == "scale":
            scale = self._scale_of(rt, self._stored(rt, namespace, name))
            patched = patching.apply_patch(content_type, scale, body, schemas.definition(SCALE_REF))
            return self._write_scale(rt, namespace, name, patched, opts, manager_fallback="unknown")
        if is_apply:
            return self._apply(rt, namespace, name, body, opts, subresource)
        old = self._stored(rt, namespace, name)
        current = self._out(rt, old)
        accepted = patching.CUSTOM_RESOURCE_PATCH_TYPES if rt.is_custom else patching.BUILTIN_PATCH_TYPES
        patched = patching.apply_patch(content_type, current, body, self.schema(rt), accepted=accepted,
                                       field_validation=opts.field_validation)
        if not isinstance(patched, dict):
            raise statuses.bad_request("the patch must result in an object")
        try:
            obj = self._decode_body(rt, _drop_nulls(patched), opts)
        except _DecodeError as err:
            raise _patch_decode_error(rt, self.schema(rt), content_type, body, patched, err) from None
        meta = _meta(obj)
        _check_request_namespace(rt, namespace, meta)
        if meta.get("name") != name:
            raise statuses.bad_request(f"the name of the object ({meta.get('name')}) does not match the name on "
                                       f"the URL ({name})")
        self._check_precondition(rt, old, meta.get("resourceVersion"))
        return self._commit_change(rt, old, obj, opts, subresource, manager_fallback="unknown")

    def _apply(self, rt: registry.ResourceType, namespace: str | None, name: str, body: bytes,
               opts: WriteOptions, subresource: str | None) -> Obj:
        if not opts.field_manager:  # PatchOptions are validated before the body is read
            raise statuses.invalid("PatchOptions", "", [statuses.cause(
                "FieldValueRequired", "Required value: is required for apply patch", "fieldManager")], "meta.k8s.io")
        applied = _parse_apply_body(body)
        applied_meta = _meta(applied)
        _check_request_namespace(rt, namespace, applied_meta)
        if applied_meta.get("name") and applied_meta["name"] != name:
            raise statuses.bad_request(f"the name of the object ({applied_meta['name']}) does not match the name "
                                       f"on the URL ({name})")
        applied_meta["name"] = name
        checked = self._decode_body(rt, applied, opts)
        ns = self._ns(rt, namespace)
        old = self.store.get(rt.key, ns, name)
        schema = self.schema(rt)
        if old is None:
            new = applying.server_side_apply(None, checked, manager=opts.field_manager, force=opts.force,
                                             schema=schema, api_version=rt.api_version, now=self.now(),
                                             kind=rt.kind, ignored_fields=_ignored_fields(rt))
            return self._create_applied(rt, namespace, new, opts)
        self._check_precondition(rt, old, applied_meta.get("resourceVersion"))
        new = applying.server_side_apply(self._out(rt, old), checked, manager=opts.field_manager,
                                         force=opts.force, schema=schema, api_version=rt.api_version,
                                         now=self.now(), kind=rt.kind, subresource=subresource or "",
                                         ignored_fields=_ignored_fields(rt, subresource))
        return self._commit_change(rt, old, new, opts, subresource, manager_fallback=opts.field_manager,
                                   apply=True)

    def _create_applied(self, rt: registry.ResourceType, namespace: str | None, obj: Obj,
                        opts: WriteOptions) -> Obj:
        """Create from a server-side apply: managed fields already say the applier owns what it set."""
        meta = _meta(obj)
        ns = self._check_namespace(rt, namespace, meta)
        self._stamp_new(rt, obj, ns)
        self._validate(rt, obj, None)
        if opts.dry_run:
            return self._out(rt, obj)
        stored = self.store.put(rt.key, ns, meta["name"], obj)
        self._after_write(rt, stored)
        return self._out(rt, stored)

    # ---- scale subresource -----------------------------------------------------------------------------
    def _scale_of(self, rt: registry.ResourceType, obj: Obj) -> Obj:
        if "scale" not in rt.subresources:
            raise statuses.not_found_path()
        meta = obj["metadata"]
        spec_path, status_path, selector_path = _scale_paths(rt)
        selector = _get_path(obj, selector_path) if selector_path else None
        if isinstance(selector, dict):
            selector = selectors.selector_string(selector)
        status: Obj = {"replicas": int(_get_path(obj, status_path) or 0)}
        if selector:
            status["selector"] = selector
        return {
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": int(_get_path(obj, spec_path) or 0)},
            "status": status,
        }

    def get_scale(self, rt: registry.ResourceType, namespace: str | None, name: str) -> Obj:
        return self._scale_of(rt, self._stored(rt, namespace, name))

    def _write_scale(self, rt: registry.ResourceType, namespace: str | None, name: str, body: Any,
                     opts: WriteOptions, manager_fallback: str = "unknown") -> Obj:
        old = self._stored(rt, namespace, name)
        self._scale_of(rt, old)
        if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
            raise statuses.bad_request("a Scale must have a spec")
        replicas = body["spec"].get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise statuses.invalid("Scale", name, [statuses.cause(
                "FieldValueInvalid", f"Invalid value: {json.dumps(replicas)}: must be greater than or equal to 0",
                "spec.replicas")], "autoscaling")
        self._check_precondition(rt, old, (body.get("metadata") or {}).get("resourceVersion"))
        obj = self._out(rt, old)
        _set_path(obj, _scale_paths(rt)[0], replicas)
        result = self._commit_change(rt, old, obj, opts, "scale", manager_fallback)
        return self._scale_of(rt, result)

    # ---- deletes ---------------------------------------------------------------------------------------
    def delete(self, rt: registry.ResourceType, namespace: str | None, name: str,
               opts: DeleteOptions | None = None) -> Obj:
        """Delete now, or mark for deletion when finalizers (or a graceful pod) must finish first."""
        opts = opts or DeleteOptions()
        old = self._stored(rt, namespace, name)
        meta = old["metadata"]
        if rt.key == "namespaces" and name in PROTECTED_NAMESPACES:
            raise statuses.ApiError(403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not '
                                    f'be deleted', {"name": name, "kind": "namespaces"})
        self._check_delete_preconditions(rt, old, opts)
        finalizers = list(meta.get("finalizers") or [])
        propagation = opts.propagation or "Background"
        # kube-apiserver adds the policy's finalizer whatever the dependents; the garbage collector removes it (at
        # once when there are none). The collector ignores events, so those get it only when something depends.
        if propagation in ("Foreground", "Orphan") and (rt.key != "events" or self._has_dependents(meta.get("uid"))):
            finalizers.append("foregroundDeletion" if propagation == "Foreground" else "orphan")
        if rt.key == CRD_KEY:
            finalizers.append(CRD_CLEANUP)
        graceful = rt.key == "pods" and (opts.grace_period is None or opts.grace_period > 0) and \
            old.get("spec", {}).get("nodeName")
        # A namespace always terminates through its controller (spec.finalizers hold it open).
        if finalizers or graceful or rt.key == "namespaces":
            if meta.get("deletionTimestamp"):
                return self._out(rt, old)
            obj = copy.deepcopy(old)
            obj["metadata"]["deletionTimestamp"] = self.now()
            obj["metadata"]["deletionGracePeriodSeconds"] = (
                int(opts.grace_period if opts.grace_period is not None else
                    old.get("spec", {}).get("terminationGracePeriodSeconds", 30)) if graceful else 0)
            if finalizers:
                obj["metadata"]["finalizers"] = list(dict.fromkeys(finalizers))
            if rt.key == "namespaces":
                obj.setdefault("status", {})["phase"] = "Terminating"
            if rt.key == CRD_KEY:
                conditions = [c for c in (obj.setdefault("status", {}).get("conditions") or [])
                              if c.get("type") != "Terminating"]
                obj["status"]["conditions"] = [*conditions, {
                    "type": "Terminating", "status": "True", "lastTransitionTime": self.now(),
                    "reason": "InstanceDeletionPending",
                    "message": "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon"}]
            if opts.dry_run:
                return self._out(rt, obj)
            stored = self.store.put(rt.key, self._ns(rt, namespace), name, obj)
            self._after_write(rt, stored)
            answer = self._out(rt, stored)  # as marked, even when the cleanup below finishes the deletion
            if rt.key == CRD_KEY:
                self._cleanup_crd(name)
            return answer
        if opts.dry_run:
            return self._out(rt, old)
        gone = self.store.delete(rt.key, self._ns(rt, namespace), name)
        assert gone is not None
        self._after_delete(rt, gone)
        return self._out(rt, gone)

    @staticmethod
    def _check_delete_preconditions(rt: registry.ResourceType, old: Obj, opts: DeleteOptions) -> None:
        """409 for a uid or resourceVersion precondition the object fails, worded as ``rest.BeforeDelete`` does it
        (which names the kind, not the resource) or, for a namespace, its own deleter."""
        meta = old["metadata"]
        uid, rv = meta.get("uid"), meta.get("resourceVersion")
        if rt.key == "namespaces":
            if opts.precondition_uid and opts.precondition_uid != uid:
                raise statuses.conflict("namespaces", meta["name"], "", f"Precondition failed: UID in precondition: "
                                        f"{opts.precondition_uid}, UID in object meta: {uid}")
            if opts.precondition_rv and opts.precondition_rv != rv:
                raise statuses.conflict("namespaces", meta["name"], "", f"Precondition failed: ResourceVersion in "
                                        f"precondition: {opts.precondition_rv}, ResourceVersion in object meta: {rv}")
            return
        if opts.precondition_uid and opts.precondition_uid != uid:
            raise statuses.conflict(rt.kind, meta["name"], rt.group, f"the UID in the precondition "
                                    f"({opts.precondition_uid}) does not match the UID in record ({uid}). The object "
                                    f"might have been deleted and then recreated")
        if opts.precondition_rv and opts.precondition_rv != rv:
            raise statuses.conflict(rt.kind, meta["name"], rt.group, f"the ResourceVersion in the precondition "
                                    f"({opts.precondition_rv}) does not match the ResourceVersion in record ({rv}). The "
                                    f"object might have been modified")

    def delete_collection(self, rt: registry.ResourceType, namespace: str | None, opts: DeleteOptions,
                          label_selector: str | None = None, field_selector: str | None = None) -> Obj:
        listed = self.list(rt, namespace, label_selector=label_selector, field_selector=field_selector,
                           copy_items=False)
        deleted = []
        for obj in listed["items"]:
            meta = obj["metadata"]
            try:
                deleted.append(self.delete(rt, meta.get("namespace"), meta["name"], opts))
            except statuses.ApiError as err:
                if err.code != 404:
                    raise
        return {"kind": rt.list_kind, "apiVersion": rt.api_version,
                "metadata": {"resourceVersion": str(self.store.resource_version)}, "items": deleted}

    def finalize(self, rt: registry.ResourceType, name: str, namespace: str | None, finalizer: str) -> Obj | None:
        """Remove one finalizer (metadata.finalizers, or a namespace's spec.finalizers); None once gone."""
        obj = self.store.get(rt.key, self._ns(rt, namespace), name)
        if obj is None:
            return None
        new = copy.deepcopy(obj)
        meta = new["metadata"]
        meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != finalizer]
        if not meta["finalizers"]:
            meta.pop("finalizers")
        if rt.key == "namespaces":
            spec = new.setdefault("spec", {})
            spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != finalizer]
            if not spec["finalizers"]:
                spec.pop("finalizers")
        if deletion_due(rt.key, new):
            gone = self.store.delete(rt.key, self._ns(rt, namespace), name)
            if gone:
                self._after_delete(rt, gone)
            return None
        return self.store.put(rt.key, self._ns(rt, namespace), name, new)

    def bind(self, namespace: str, name: str, node_name: str) -> Obj:
        """Assign a pod to a node, as a POST to its ``binding`` subresource does (the scheduler's write)."""
        pod = self.store.get("pods", namespace, name)
        if pod is None:
            raise statuses.not_found("pods", name)
        assigned = (pod.get("spec") or {}).get("nodeName")
        if assigned:
            raise statuses.conflict("pods", name, "", f'pod {name} is already assigned to node "{assigned}"')
        if pod["metadata"].get("deletionTimestamp"):
            raise statuses.conflict("pods", name, "", "pod is being deleted, cannot be assigned to a host")
        bound = copy.deepcopy(pod)
        bound.setdefault("spec", {})["nodeName"] = node_name
        conditions = [c for c in bound.setdefault("status", {}).get("conditions") or []
                      if c.get("type") != "PodScheduled"]
        conditions.insert(0, {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                              "lastTransitionTime": self.now()})
        bound["status"]["conditions"] = conditions
        return self.store.put("pods", namespace, name, bound)

    def remove_now(self, rt: registry.ResourceType, namespace: str | None, name: str) -> None:
        """Delete without grace (the kubelet's last word on a terminated pod)."""
        gone = self.store.delete(rt.key, self._ns(rt, namespace), name)
        if gone:
            self._after_delete(rt, gone)

    def _has_dependents(self, uid: str | None) -> bool:
        if not uid:
            return False
        for key in self.store.keys():  # noqa: SIM118 (a method of Store, not a dict)
            for obj in self.store.items(key):
                if any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or []):
                    return True
        return False

    # ---- hooks after writes ----------------------------------------------------------------------------
    def _after_write(self, rt: registry.ResourceType, obj: Obj) -> None:
        if rt.key == "apiextensions.k8s.io/customresourcedefinitions":
            self._register_crd(obj)

    def _after_delete(self, rt: registry.ResourceType, obj: Obj) -> None:
        if rt.key == CRD_KEY:
            self.registry.set_crd(obj["metadata"]["name"], None)
        elif rt.is_custom:
            self._cleanup_crd(f"{rt.plural}.{rt.group}")  # the last one out lets a terminating CRD go

    def _check_crd_live(self, rt: registry.ResourceType) -> None:
        if not rt.is_custom:
            return
        crd = self.store.get(CRD_KEY, "", f"{rt.plural}.{rt.group}")
        if crd is not None and crd["metadata"].get("deletionTimestamp"):
            raise statuses.ApiError(405, "MethodNotAllowed", "create not allowed while custom resource definition "
                                    "is terminating", {"group": rt.group, "kind": rt.plural})

    def _cleanup_crd(self, name: str) -> None:
        """What the apiextensions finalizer does for a terminating CRD: delete its custom resources, then, once
        none is left (those with finalizers of their own may take a while), remove the cleanup finalizer."""
        crd = self.store.get(CRD_KEY, "", name)
        if name in self._cleaning or crd is None or not crd["metadata"].get("deletionTimestamp") or \
                CRD_CLEANUP not in (crd["metadata"].get("finalizers") or []):
            return
        spec = crd.get("spec") or {}
        rt = self.registry.storage_type(spec.get("group", ""), (spec.get("names") or {}).get("plural", ""))
        if rt is not None:
            self._cleaning.add(name)
            try:
                for obj in list(self.store.items(rt.key)):
                    meta = obj["metadata"]
                    if not meta.get("deletionTimestamp"):
                        self.delete(rt, meta.get("namespace"), meta["name"])
            finally:
                self._cleaning.discard(name)
            if self.store.count(rt.key):
                return
        crd_rt = self.registry.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        assert crd_rt is not None
        self.finalize(crd_rt, name, None, CRD_CLEANUP)

    def _register_crd(self, crd: Obj) -> None:
        """Serve a CRD's types and mark it Established, as the apiextensions controller would."""
        name = crd["metadata"]["name"]
        self.registry.set_crd(name, crd)  # a terminating CRD still serves its types until they are cleaned up
        if crd["metadata"].get("deletionTimestamp"):
            return
        status = crd.get("status") or {}
        conditions = status.get("conditions") or []
        if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
            return
        names = crd.get("spec", {}).get("names", {})
        now = self.now()
        crd["status"] = {
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                 "message": "no conflicts found", "lastTransitionTime": now},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted", "lastTransitionTime": now},
            ],
            "acceptedNames": {k: v for k, v in names.items()},
            "storedVersions": [v["name"] for v in crd.get("spec", {}).get("versions", []) if v.get("storage")],
        }
        if self.store.get("apiextensions.k8s.io/customresourcedefinitions", "", name) is not None:
            self.store.put("apiextensions.k8s.io/customresourcedefinitions", "", name, crd)

    # ---- watches ---------------------------------------------------------------------------------------
    async def watch(self, rt: registry.ResourceType, namespace: str | None, *, resource_version: str | None = None,
                    label_selector: str | None = None, field_selector: str | None = None,
                    send_initial_events: bool = False, allow_bookmarks: bool = False
                    ) -> AsyncGenerator[WatchEvent, None]:
        """Events for a resource type: initial state (when asked or implied), then live changes, forever."""
        match = self._matcher(rt, label_selector, field_selector)
        ns = self._ns(rt, namespace) if rt.namespaced and namespace else None
        sub = self.store.subscribe(rt.key, ns)
        try:
            start_rv = self.store.resource_version
            if send_initial_events or not resource_version or resource_version == "0":
                for obj in self.store.items(rt.key, ns):
                    if match(obj):
                        yield WatchEvent("ADDED", self._out(rt, obj))
                if send_initial_events and allow_bookmarks:
                    yield WatchEvent("BOOKMARK", self._bookmark(rt, start_rv, initial_end=True))
                pending: list[Change] = []
            else:
                since = parse_resource_version(resource_version)
                history = self.store.history_since(rt.key, ns, since)
                if history is None:
                    yield WatchEvent("ERROR", statuses.gone(
                        f"too old resource version: {since} ({self.store.oldest_resource_version})").status())
                    return
                pending = history
                start_rv = since
            for change in pending:
                event = self._event_for(rt, change, match)
                if event:
                    yield event
            last_rv = max([start_rv] + [c.rv for c in pending])
            # Bookmarks are periodic, as the watch cache sends them: a busy watch gets them too.
            loop = asyncio.get_running_loop()
            interval = self.clock.seconds(self.bookmark_interval)
            next_bookmark = loop.time() + interval
            while True:
                if loop.time() >= next_bookmark:
                    next_bookmark = loop.time() + interval
                    if allow_bookmarks:
                        # An empty queue means every change up to the store's resourceVersion has been seen.
                        seen = self.store.resource_version if sub.queue.empty() else last_rv
                        yield WatchEvent("BOOKMARK", self._bookmark(rt, seen))
                    continue
                try:
                    async with asyncio.timeout(max(0.0, next_bookmark - loop.time())):
                        next_change = await sub.queue.get()
                except TimeoutError:
                    continue
                if next_change is None:
                    return
                change = next_change
                if change.rv <= last_rv:
                    continue
                last_rv = change.rv
                event = self._event_for(rt, change, match)
                if event:
                    yield event
        finally:
            sub.close()

    def _event_for(self, rt: registry.ResourceType, change: Change, match: Callable[[Obj], bool]
                   ) -> WatchEvent | None:
        """The event a watcher with these selectors gets for a change, as the watch cache decides it from the
        object before and after: entering the selection is ADDED, leaving it DELETED (carrying the object as
        it was, at the change's resourceVersion)."""
        was = change.previous is not None and match(change.previous)
        now = change.type != "DELETED" and match(change.object)
        if now:
            return WatchEvent("MODIFIED" if was else "ADDED", self._out(rt, change.object))
        if not was:
            return None
        assert change.previous is not None
        gone = self._out(rt, change.previous)
        gone["metadata"]["resourceVersion"] = change.object["metadata"]["resourceVersion"]
        return WatchEvent("DELETED", gone)

    def _bookmark(self, rt: registry.ResourceType, rv: int, initial_end: bool = False) -> Obj:
        meta: Obj = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {INITIAL_EVENTS_END: "true"}
        return {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta}

    # ---- events (the Event kind) -----------------------------------------------------------------------
    def _event_suffix(self) -> str:
        """Now in hex nanoseconds, as client-go's event recorder names Events: their names sort by creation time
        (lists, and so ``kubectl describe``, show events of the same second in the order they happened)."""
        moment = self.clock.now()
        nanos = max(int(moment.timestamp()) * 10**9 + moment.microsecond * 1000, self._last_event_nanos + 1)
        self._last_event_nanos = nanos
        return f"{nanos:x}"

    def record_event(self, involved: Obj, type_: str, reason: str, message: str, component: str,
                     field_path: str | None = None) -> None:
        """Create or bump a core/v1 Event about ``involved``, as controllers and the kubelet do.

        Like an event recorder against a real apiserver, nothing is written into a namespace that is gone or
        terminating (the write would be refused there).
        """
        meta = involved.get("metadata", {})
        namespace = meta.get("namespace") or "default"
        home = self.store.get("namespaces", "", namespace)
        if home is None or home["metadata"].get("deletionTimestamp"):
            return
        now = self.now()
        for existing in self.store.items("events", namespace):
            ref = existing.get("involvedObject", {})
            if (ref.get("uid") == meta.get("uid") and existing.get("reason") == reason
                    and existing.get("message") == message):
                bumped = copy.deepcopy(existing)
                bumped["count"] = int(bumped.get("count", 1)) + 1
                bumped["lastTimestamp"] = now
                self.store.put("events", namespace, bumped["metadata"]["name"], bumped)
                return
        involved_ref: Obj = {"kind": involved.get("kind"), "namespace": meta.get("namespace"),
                             "name": meta.get("name"), "uid": meta.get("uid"),
                             "apiVersion": involved.get("apiVersion"),
                             "resourceVersion": meta.get("resourceVersion")}
        event: Obj = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta.get('name')}.{self._event_suffix()}", "namespace": namespace,
                         "uid": str(uuid.uuid4()), "creationTimestamp": now},
            "involvedObject": involved_ref,
            "reason": reason, "message": message, "type": type_,
            "source": {"component": component}, "firstTimestamp": now, "lastTimestamp": now, "count": 1,
            "reportingComponent": component, "reportingInstance": "",
        }
        if not meta.get("namespace"):
            del involved_ref["namespace"]
        if field_path:
            involved_ref["fieldPath"] = field_path
        self.store.put("events", namespace, event["metadata"]["name"], event)


SCALE_REF = "io.k8s.api.autoscaling.v1.Scale"
OBJECT_META_REF = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def deletion_due(resource_key: str, obj: Obj) -> bool:
    """Whether a write leaves a terminating object with nothing to wait for: no finalizers, no grace left
    (a pod's grace period is ended by the kubelet), and for a namespace no spec.finalizers either."""
    meta = obj.get("metadata") or {}
    if not meta.get("deletionTimestamp") or meta.get("finalizers"):
        return False
    if resource_key == "namespaces":
        return not (obj.get("spec") or {}).get("finalizers")
    return not meta.get("deletionGracePeriodSeconds")


class _DecodeError(statuses.ApiError):
    """A body that does not decode into its kind (a type mismatch, or unknown fields under Strict): 400."""

    def __init__(self, prefix: str, problem: str, strict: bool = False) -> None:
        super().__init__(400, "BadRequest", prefix + problem)
        self.problem = problem
        self.strict = strict


def _patch_decode_error(rt: registry.ResourceType, schema: schemas.Schema, content_type: str, body: bytes,
                        patched: Obj, err: _DecodeError) -> statuses.ApiError:
    """What kube-apiserver's patcher answers when the patched object does not decode: 422 Invalid with one cause
    on the field ``patch`` (no kind, no name), showing a strategic merge patch as Go prints the patch map
    (``map[spec:map[replicas:two]]``, and the converter's words for a type mismatch) and a JSON or merge patch
    as the patched object's JSON."""
    problem = err.problem
    if content_type.startswith("application/strategic-merge-patch"):
        try:
            shown = validation.go_value_text(json.loads(body))
        except ValueError:
            shown = body.decode(errors="replace")
        if not err.strict and not rt.is_custom:
            problem = validation.conversion_error(schema, patched) or problem
    else:
        shown = validation.go_sorted_json(patched)
    message = f"Invalid value: {validation.go_quote(shown)}: {problem}"
    return statuses.ApiError(422, "Invalid", f' "" is invalid: patch: {message}',
                             {"causes": [statuses.cause("FieldValueInvalid", message, "patch")]})


def _drop_nulls(value: Any) -> Any:
    """What decoding into typed objects does to ``null`` fields a patch leaves behind: drops them."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _ignored_fields(rt: registry.ResourceType, subresource: str | None = None) -> tuple[tuple[str, ...], ...]:
    """Fields a write's manager doesn't own (the strategy's reset fields): status for the main resource, where a
    status subresource carries it; spec (and a workload's labels) for the status subresource."""
    if "status" not in rt.subresources:
        return ()
    if subresource == "status":
        return (("spec",), ("metadata", "labels")) if rt.key in STATUS_RESETS_LABELS else (("spec",),)
    return (("status",),)


def _status_kept_meta(rt: registry.ResourceType) -> tuple[str, ...]:
    """Metadata a write through /status cannot change: kube-apiserver's status strategies reset it to the old."""
    if rt.is_custom:
        return ("labels", "annotations", "finalizers", "ownerReferences")
    if rt.key == "apiextensions.k8s.io/customresourcedefinitions":
        return ("labels", "annotations", "finalizers", "ownerReferences")
    if rt.key in STATUS_RESETS_LABELS:
        return ("labels",)
    if rt.key == "pods":
        return ("ownerReferences",)
    return ()


def _spec_changed(old: Obj, new: Obj) -> bool:
    ignored = ("metadata", "status", "apiVersion", "kind")
    return {k: v for k, v in old.items() if k not in ignored} != {k: v for k, v in new.items() if k not in ignored}


def _same_fields(a: Obj, b: Obj) -> bool:
    """Managed fields equal but for their timestamps."""
    def shape(obj: Obj) -> list[Any]:
        return [{k: v for k, v in entry.items() if k != "time"}
                for entry in (obj.get("metadata") or {}).get("managedFields") or []]
    return shape(a) == shape(b)


def _scale_paths(rt: registry.ResourceType) -> tuple[str, str, str | None]:
    if rt.scale_paths:
        return rt.scale_paths
    return (".spec.replicas", ".status.replicas", ".spec.selector")


def _get_path(obj: Obj, path: str) -> Any:
    node: Any = obj
    for part in path.strip(".").split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _set_path(obj: Obj, path: str, value: Any) -> None:
    parts = path.strip(".").split(".")
    node: Obj = obj
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


class ExpiredContinue(statuses.ApiError):
    """410 for a continue token older than the history: the Status carries a token to go on inconsistently."""

    def __init__(self, token: str) -> None:
        super().__init__(410, "Expired", "The provided continue parameter is too old to display a consistent list "
                         "result. You can start a new list without the continue parameter, or use the continue "
                         "token in this response to retrieve the remainder of the results. Continuing with the "
                         "provided token results in an inconsistent list - objects that were created, modified, "
                         "or deleted between the time the first chunk was returned and now may show up in the "
                         "list.")
        self.continue_token = token

    def status(self) -> dict[str, Any]:
        body = super().status()
        body["metadata"] = {"continue": self.continue_token}
        return body


def _encode_continue(after: tuple[str, str], rv: int) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": list(after)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[tuple[str, str], int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        ns, name = data["start"]
        return (str(ns), str(name)), int(data["rv"])
    except (ValueError, KeyError, TypeError) as err:
        raise statuses.bad_request(f"continue key is not valid: {err}") from None


def parse_resource_version(value: str) -> int:
    """A resourceVersion as kube-apiserver's storage parses it (``strconv.ParseUint``; ``""`` and ``"0"`` are 0).

    Anything else unparseable is the 500 without a reason kube-apiserver answers for watches and reads
    (kubernetes/kubernetes#139485, still open for v1.37); lists word it as a 400 of their own.
    """
    if value in ("", "0"):
        return 0
    problem = "invalid syntax" if not (value.isascii() and value.isdigit()) else (
        "value out of range" if int(value) >= 2 ** 64 else "")
    if problem:
        raise statuses.ApiError(500, "", f"resourceVersion: Invalid value: {validation.go_quote(value)}: "
                                f"strconv.ParseUint: parsing {validation.go_quote(value)}: {problem}")
    return int(value)


def _check_request_namespace(rt: registry.ResourceType, namespace: str | None, meta: Obj) -> None:
    """``EnsureObjectNamespaceMatchesRequestNamespace`` for updates and patches: 400 on a namespaced kind when the
    object names another namespace than the URL."""
    body_ns = meta.get("namespace")
    if rt.namespaced and namespace and body_ns and body_ns != namespace:
        raise statuses.bad_request("the namespace of the provided object does not match the namespace sent on the "
                                   "request")


def _parse_apply_body(body: bytes) -> Obj:
    """An apply configuration: YAML (JSON is YAML too) holding one object."""
    data = documents.loads_yaml(body, "error decoding YAML: ")
    if not isinstance(data, dict):
        raise statuses.bad_request("the apply configuration must be an object")
    return data
