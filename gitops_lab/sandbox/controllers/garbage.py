"""The garbage collector: dependents follow their owners out, by ownerReferences.

Owns an index of owner uid → dependents built from every stored change, and the three deletion modes of
kube-controller-manager's garbage collector: background (a dependent whose owners are all gone is deleted), foreground
(an owner carrying the ``foregroundDeletion`` finalizer has its dependents deleted, then loses the finalizer once no
dependent with ``blockOwnerDeletion`` remains) and orphan (an owner carrying the ``orphan`` finalizer has its
ownerReference stripped from every dependent, then loses the finalizer). Dangling references next to a live owner
are removed. Must not decide *whether* something is deleted (clients and other controllers do); it only finishes
what ownerReferences and finalizers ask for.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from gitops_lab.sandbox import api as apis
from gitops_lab.sandbox import registry, statuses
from gitops_lab.sandbox.controllers import base, objects
from gitops_lab.sandbox.store import Change

Item = tuple[str, str, str]  # resource key, namespace, name
Obj = dict[str, Any]

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
IGNORED_KEYS = frozenset({"events"})


class GarbageCollector(base.Controller[Item]):
    """Deletes or orphans dependents as their owners' deletion asks."""

    name = "garbage-collector"
    component = "garbage-collector-controller"
    field_manager = "kube-controller-manager"

    def __init__(self, api: apis.Api, clock: Any) -> None:
        super().__init__(api, clock)
        self._dependents: dict[str, set[Item]] = {}
        self._owners_of: dict[Item, set[str]] = {}

    # ---- the dependency index --------------------------------------------------------------------------
    def _index(self, item: Item, obj: Obj | None) -> set[str]:
        """Record ``item``'s owners (none when deleted); returns the owners it had before."""
        before = self._owners_of.pop(item, set())
        after = {str(ref.get("uid")) for ref in objects.owner_references(obj)} if obj is not None else set()
        for uid in before - after:
            deps = self._dependents.get(uid)
            if deps is not None:
                deps.discard(item)
                if not deps:
                    del self._dependents[uid]
        for uid in after - before:
            self._dependents.setdefault(uid, set()).add(item)
        if after:
            self._owners_of[item] = after
        return before

    def dependents(self, uid: str) -> list[Item]:
        """What the index says depends on the owner ``uid`` (sorted, for a stable order)."""
        return sorted(self._dependents.get(uid, ()))

    def on_start(self) -> None:
        self._dependents.clear()
        self._owners_of.clear()
        resources = self.api.store.keys()
        for key in resources:
            if key in IGNORED_KEYS:
                continue
            for obj in self.api.store.items(key):
                self._index((key, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]), obj)

    # ---- keys ------------------------------------------------------------------------------------------
    def keys_for(self, change: Change) -> Iterator[Item]:
        if change.key in IGNORED_KEYS:
            return
        obj = change.object
        item = (change.key, change.namespace, obj["metadata"]["name"])
        uid = str(obj["metadata"].get("uid"))
        if change.type == "DELETED":
            self._index(item, None)
            yield from self.dependents(uid)  # now dangling
            for ref in objects.owner_references(obj):  # an owner may be waiting for this one to go
                owner = self._owner_item(ref, change.namespace)
                if owner is not None:
                    yield owner
            return
        before = self._index(item, obj)
        refs = {str(ref.get("uid")) for ref in objects.owner_references(obj)}
        if refs and (change.type == "ADDED" or refs != before):
            yield item
        finalizers = obj["metadata"].get("finalizers") or []
        if objects.is_deleting(obj) and (ORPHAN in finalizers or FOREGROUND in finalizers):
            yield item
            if FOREGROUND in finalizers:
                yield from self.dependents(uid)

    def initial_keys(self) -> Iterator[Item]:
        resources = self.api.store.keys()
        for key in resources:
            if key in IGNORED_KEYS:
                continue
            for obj in self.api.store.items(key):
                meta = obj["metadata"]
                if meta.get("ownerReferences") or (meta.get("deletionTimestamp") and meta.get("finalizers")):
                    yield (key, meta.get("namespace", ""), meta["name"])

    # ---- owners ----------------------------------------------------------------------------------------
    def _owner_type(self, ref: Mapping[str, Any]) -> registry.ResourceType | None:
        api_version, kind = str(ref.get("apiVersion", "")), str(ref.get("kind", ""))
        rt = self.api.registry.by_kind(api_version, kind)
        if rt is not None:
            return rt
        group = api_version.rpartition("/")[0]
        for candidate in self.api.registry.all():
            if candidate.group == group and candidate.kind == kind:
                return candidate
        return None

    def _owner_item(self, ref: Mapping[str, Any], namespace: str) -> Item | None:
        rt = self._owner_type(ref)
        if rt is None:
            return None
        return (rt.key, namespace if rt.namespaced else "", str(ref.get("name")))

    def _owner_state(self, ref: Mapping[str, Any], namespace: str) -> str:
        """``solid``, ``dangling`` (gone or replaced), ``waiting`` (deleting in the foreground) or ``unknown``."""
        item = self._owner_item(ref, namespace)
        if item is None:
            return "unknown"
        owner = self.api.store.get(*item)
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return "dangling"
        if objects.is_deleting(owner) and FOREGROUND in (owner["metadata"].get("finalizers") or []):
            return "waiting"
        return "solid"

    # ---- reconcile -------------------------------------------------------------------------------------
    def reconcile(self, key: Item) -> None:
        obj = self.api.store.get(*key)
        if obj is None:
            return
        meta = obj["metadata"]
        finalizers = meta.get("finalizers") or []
        if objects.is_deleting(obj):
            if ORPHAN in finalizers:
                self._orphan_dependents(key, obj)
            elif FOREGROUND in finalizers:
                self._finish_foreground(key, obj)
            return  # otherwise on its way out already
        if meta.get("ownerReferences"):
            self._attempt_delete(key, obj)

    def _rt_or_none(self, key: str) -> registry.ResourceType | None:
        try:
            return self.rt(key)
        except LookupError:
            return None

    def _orphan_dependents(self, key: Item, owner: Obj) -> None:
        uid = owner["metadata"].get("uid")
        for dep in self.dependents(str(uid)):
            dependent = self.api.store.get(*dep)
            rt = self._rt_or_none(dep[0])
            if dependent is None or rt is None:
                continue
            body = copy.deepcopy(dependent)
            body["metadata"]["ownerReferences"] = [r for r in objects.owner_references(dependent)
                                                   if r.get("uid") != uid]
            if not body["metadata"]["ownerReferences"]:
                body["metadata"].pop("ownerReferences")
            self._update_quietly(rt, dep, body)
        self._finalize(key, ORPHAN)

    def _finish_foreground(self, key: Item, owner: Obj) -> None:
        uid = owner["metadata"].get("uid")
        blocking = []
        for dep in self.dependents(str(uid)):
            dependent = self.api.store.get(*dep)
            if dependent is None:
                continue
            if any(r.get("uid") == uid and r.get("blockOwnerDeletion") for r in objects.owner_references(dependent)):
                blocking.append(dep)
        if not blocking:
            self._finalize(key, FOREGROUND)
            return
        for dep in blocking:
            dependent = self.api.store.get(*dep)
            if dependent is not None and not objects.is_deleting(dependent):
                self.queue.add(dep)

    def _attempt_delete(self, key: Item, obj: Obj) -> None:
        namespace = key[1]
        states = [(ref, self._owner_state(ref, namespace)) for ref in objects.owner_references(obj)]
        if any(state in ("solid", "unknown") for _, state in states):
            stale = {ref.get("uid") for ref, state in states if state in ("dangling", "waiting")}
            if stale:
                self._drop_references(key, obj, stale)
            return
        finalizers = obj["metadata"].get("finalizers") or []
        uid = str(obj["metadata"].get("uid"))
        if any(state == "waiting" for _, state in states) and self.dependents(uid):
            propagation = "Foreground"
        elif ORPHAN in finalizers:
            propagation = "Orphan"
        elif FOREGROUND in finalizers:
            propagation = "Foreground"
        else:
            propagation = "Background"
        rt = self._rt_or_none(key[0])
        if rt is None:
            return
        options = apis.DeleteOptions(propagation=propagation, precondition_uid=uid)
        try:
            self.api.delete(rt, key[1] or None, key[2], options)
        except statuses.ApiError as err:
            if err.code not in (404, 409):  # gone already, or replaced (the uid precondition failed)
                raise

    def _drop_references(self, key: Item, obj: Obj, uids: set[Any]) -> None:
        rt = self._rt_or_none(key[0])
        if rt is None:
            return
        body = copy.deepcopy(obj)
        body["metadata"]["ownerReferences"] = [r for r in objects.owner_references(obj) if r.get("uid") not in uids]
        if not body["metadata"]["ownerReferences"]:
            body["metadata"].pop("ownerReferences")
        self._update_quietly(rt, key, body)

    def _finalize(self, key: Item, finalizer: str) -> None:
        rt = self._rt_or_none(key[0])
        if rt is not None:
            self.api.finalize(rt, key[2], key[1] or None, finalizer)

    def _update_quietly(self, rt: registry.ResourceType, item: Item, body: Obj) -> None:
        """Write ``body``; an object gone meanwhile (404) or changed under us (409, retried later) is fine."""
        try:
            self.api.update(rt, item[1] or None, item[2], body, self.write_options())
        except statuses.ApiError as err:
            if err.code not in (404, 409):
                raise
