"""The Deployment controller: ReplicaSets per pod template, rolling and recreate rollouts, history and status.

Owns what kube-controller-manager's deployment controller does with the API: adopting and releasing ReplicaSets,
creating the new ReplicaSet ``<deployment>-<pod-template-hash>`` (bumping ``status.collisionCount`` on a name
clash), the revision annotations (``deployment.kubernetes.io/revision``, ``revision-history``,
``desired-replicas``, ``max-replicas``, and ``kubernetes.io/change-cause`` copied so ``kubectl rollout history``
shows it), one rollout step per reconcile (RollingUpdate within maxSurge/maxUnavailable, Recreate only after the
old pods are gone), proportional scaling, ``spec.paused``, revisionHistoryLimit cleanup, ScalingReplicaSet Events and
the status with Available and Progressing conditions (including ProgressDeadlineExceeded). The decisions come from
:mod:`rollouts`; this module reads the store and writes through the API. Must not touch pods.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from gitops_lab.sandbox import statuses
from gitops_lab.sandbox.controllers import base, objects, rollouts
from gitops_lab.sandbox.store import Change

Key = tuple[str, str]
Obj = dict[str, Any]

DEPLOY_KEY = "apps/deployments"
RS_KEY = "apps/replicasets"
POD_KEY = "pods"
STATUS_OMIT_ZERO = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas",
                    "terminatingReplicas")


class DeploymentController(base.Controller[Key]):
    """Rollouts of Deployments through ReplicaSets."""

    name = "deployment"
    component = "deployment-controller"

    # ---- keys ------------------------------------------------------------------------------------------
    def keys_for(self, change: Change) -> Iterator[Key]:
        if change.key == DEPLOY_KEY:
            yield (change.namespace, change.object["metadata"]["name"])
        elif change.key == RS_KEY:
            yield from self._deployments_of_rs(change.namespace, change.object, change.type)
        elif change.key == POD_KEY:
            ref = objects.controller_of(change.object)
            if ref is not None and ref.get("kind") == "ReplicaSet":
                rs = self.api.store.get(RS_KEY, change.namespace, str(ref.get("name")))
                if rs is not None:
                    yield from self._deployments_of_rs(change.namespace, rs, "MODIFIED")

    def _deployments_of_rs(self, namespace: str, rs: Obj, change_type: str) -> Iterator[Key]:
        ref = objects.controller_of(rs)
        if ref is not None:
            if ref.get("kind") == "Deployment":
                yield (namespace, str(ref.get("name")))
            return
        if change_type == "DELETED":
            return
        for deployment in self.api.store.items(DEPLOY_KEY, namespace):
            if objects.matches_selector((deployment.get("spec") or {}).get("selector"), objects.labels(rs)):
                yield (namespace, deployment["metadata"]["name"])

    def initial_keys(self) -> Iterator[Key]:
        for deployment in self.api.store.items(DEPLOY_KEY):
            yield (deployment["metadata"].get("namespace", ""), deployment["metadata"]["name"])

    # ---- reading ---------------------------------------------------------------------------------------
    def _deployment(self, key: Key) -> Obj | None:
        return self.api.store.get(DEPLOY_KEY, *key)

    def _replica_sets(self, deployment: Obj) -> list[Obj]:
        namespace = deployment["metadata"].get("namespace", "")
        return [rs for rs in self.api.store.items(RS_KEY, namespace) if objects.is_controlled_by(rs, deployment)]

    def _split(self, deployment: Obj) -> tuple[Obj | None, list[Obj]]:
        sets = self._replica_sets(deployment)
        new_rs = rollouts.find_new(deployment, sets)
        return new_rs, [rs for rs in sets if rs is not new_rs]

    # ---- reconcile -------------------------------------------------------------------------------------
    def reconcile(self, key: Key) -> None:
        deployment = self._deployment(key)
        if deployment is None:
            return
        if (deployment.get("spec") or {}).get("selector") == {}:
            self.record(deployment, "Warning", "SelectingAll",
                        "This deployment is selecting all pods. A non-empty selector is required.")
            return
        self._claim_replica_sets(deployment)
        if objects.is_deleting(deployment):
            self._sync_status_only(key)
            return
        self._check_paused_conditions(key)
        deployment = self._deployment(key)
        assert deployment is not None
        if (deployment.get("spec") or {}).get("paused"):
            self._sync(key)
            return
        self._sync_revisions(key, create=False)
        deployment = self._deployment(key)
        assert deployment is not None
        if not self._replica_sets_settled(deployment):
            # A ReplicaSet's status predates its last resize: decide nothing on stale counts. The
            # ReplicaSet controller's status write brings this deployment back.
            self._sync_status_only(key)
            return
        if rollouts.is_scaling_event(deployment, self._replica_sets(deployment)):
            self._sync(key)
        elif rollouts.is_rolling(deployment):
            self._rollout_rolling(key)
        else:
            self._rollout_recreate(key)

    def _replica_sets_settled(self, deployment: Obj) -> bool:
        """Every ReplicaSet's status has observed its latest spec (so its counts can be trusted)."""
        return all(rollouts.status_count(rs, "observedGeneration") >= objects.int_value(
            rs["metadata"].get("generation"), 1) for rs in self._replica_sets(deployment)
            if not objects.is_deleting(rs))

    def _claim_replica_sets(self, deployment: Obj) -> None:
        """Adopt orphan ReplicaSets the selector matches; release owned ones it no longer matches."""
        if objects.is_deleting(deployment):
            return
        selector = (deployment.get("spec") or {}).get("selector")
        namespace = deployment["metadata"].get("namespace", "")
        uid = deployment["metadata"].get("uid")
        for rs in list(self.api.store.items(RS_KEY, namespace)):
            if objects.is_deleting(rs):
                continue
            matches = objects.matches_selector(selector, objects.labels(rs))
            ref = objects.controller_of(rs)
            if ref is None and matches:
                refs = [*objects.owner_references(rs), objects.controller_reference(deployment)]
            elif ref is not None and ref.get("uid") == uid and not matches:
                refs = [r for r in objects.owner_references(rs) if r.get("uid") != uid]
            else:
                continue
            body = copy.deepcopy(rs)
            body["metadata"]["ownerReferences"] = refs
            self.api.update(self.rt(RS_KEY), namespace, rs["metadata"]["name"], body, self.write_options())

    # ---- revisions and the new ReplicaSet --------------------------------------------------------------
    def _sync_revisions(self, key: Key, create: bool) -> Obj | None:
        """getAllReplicaSetsAndSyncRevision: annotate (or create) the new ReplicaSet; returns it if any."""
        deployment = self._deployment(key)
        assert deployment is not None
        new_rs, old_sets = self._split(deployment)
        new_revision = rollouts.max_revision(old_sets) + 1
        if new_rs is not None:
            new_rs = self._annotate_new(deployment, new_rs, new_revision)
            self._set_revision(key, rollouts.revision(new_rs))
            self._found_new(key, new_rs)
            return new_rs
        if not create:
            return None
        return self._create_new(key, new_revision)

    def _annotate_new(self, deployment: Obj, rs: Obj, new_revision: int) -> Obj:
        wanted = rollouts.replica_set_annotations(deployment, objects.annotations_of(rs), new_revision)
        min_ready = (deployment.get("spec") or {}).get("minReadySeconds")
        if wanted == dict(objects.annotations_of(rs)) and (rs.get("spec") or {}).get("minReadySeconds") == min_ready:
            return rs
        body = copy.deepcopy(rs)
        body["metadata"]["annotations"] = wanted
        if min_ready is None:
            body["spec"].pop("minReadySeconds", None)
        else:
            body["spec"]["minReadySeconds"] = min_ready
        return self.api.update(self.rt(RS_KEY), rs["metadata"].get("namespace"), rs["metadata"]["name"], body,
                               self.write_options())

    def _set_revision(self, key: Key, revision: int) -> None:
        deployment = self._deployment(key)
        assert deployment is not None
        if objects.annotations_of(deployment).get(rollouts.REVISION) == str(revision):
            return
        body = copy.deepcopy(deployment)
        body["metadata"].setdefault("annotations", {})[rollouts.REVISION] = str(revision)
        # Through /status, as kube-controller-manager does (UpdateStatus): the status strategy lets annotations in.
        self.api.update(self.rt(DEPLOY_KEY), key[0], key[1], body, self.write_options(), subresource="status")

    def _found_new(self, key: Key, rs: Obj) -> None:
        deployment = self._deployment(key)
        assert deployment is not None
        if rollouts.progress_deadline(deployment) is None or objects.condition(deployment, "Progressing"):
            return
        status = copy.deepcopy(deployment.get("status") or {})
        rollouts.set_deployment_condition(status, "Progressing", "True", rollouts.FOUND_NEW_RS,
                                          f'Found new replica set "{rs["metadata"]["name"]}"', self.api.now())
        self._write_status(key, status)

    def _create_new(self, key: Key, new_revision: int) -> Obj | None:
        deployment = self._deployment(key)
        assert deployment is not None
        spec = deployment.get("spec") or {}
        collisions = objects.int_value((deployment.get("status") or {}).get("collisionCount")) or None
        pod_hash = rollouts.template_hash(spec.get("template") or {}, collisions)
        template = copy.deepcopy(spec.get("template") or {})
        template.setdefault("metadata", {})
        template["metadata"]["labels"] = {**(template["metadata"].get("labels") or {}),
                                          rollouts.HASH_LABEL: pod_hash}
        selector = copy.deepcopy(spec.get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), rollouts.HASH_LABEL: pod_hash}
        name = f"{deployment['metadata']['name']}-{pod_hash}"
        rs: Obj = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": key[0], "labels": dict(template["metadata"]["labels"]),
                         "ownerReferences": [objects.controller_reference(deployment)],
                         "annotations": rollouts.replica_set_annotations(deployment, {}, new_revision,
                                                                         creating=True)},
            "spec": {"replicas": 0, "selector": selector, "template": template},
        }
        if spec.get("minReadySeconds") is not None:
            rs["spec"]["minReadySeconds"] = spec["minReadySeconds"]
        old_sets = self._replica_sets(deployment)
        rs["spec"]["replicas"] = rollouts.new_replica_count(deployment, old_sets, rs)
        try:
            created = self.api.create(self.rt(RS_KEY), key[0], rs, self.write_options())
        except statuses.ApiError as err:
            if err.code != 409:
                raise
            return self._name_clash(key, name)
        if rs["spec"]["replicas"] > 0:
            self.record(deployment, "Normal", "ScalingReplicaSet",
                        f"Scaled up replica set {name} from 0 to {rs['spec']['replicas']}")
        self._set_revision(key, new_revision)
        deployment = self._deployment(key)
        assert deployment is not None
        if rollouts.progress_deadline(deployment) is not None:
            status = copy.deepcopy(deployment.get("status") or {})
            rollouts.set_deployment_condition(status, "Progressing", "True", rollouts.NEW_RS_CREATED,
                                              f'Created new replica set "{name}"', self.api.now())
            self._write_status(key, status)
        return created

    def _name_clash(self, key: Key, name: str) -> Obj | None:
        """The new ReplicaSet's name is taken: ours already (fine) or someone else's (bump collisionCount)."""
        deployment = self._deployment(key)
        existing = self.api.store.get(RS_KEY, key[0], name)
        assert deployment is not None
        if existing is not None and objects.is_controlled_by(existing, deployment) and rollouts.templates_equal(
                (existing.get("spec") or {}).get("template"), (deployment.get("spec") or {}).get("template")):
            return existing
        status = copy.deepcopy(deployment.get("status") or {})
        status["collisionCount"] = objects.int_value(status.get("collisionCount")) + 1
        self._write_status(key, status)
        return None

    # ---- scaling ---------------------------------------------------------------------------------------
    def _scale(self, key: Key, rs: Obj, size: int) -> bool:
        """Resize one ReplicaSet (with the replicas annotations) and say so in an Event; False if unchanged."""
        current = self.api.store.get(RS_KEY, key[0], rs["metadata"]["name"])
        if current is None:
            return False
        before = rollouts.replicas(current)
        if before == size:
            return False
        deployment = self._deployment(key)
        assert deployment is not None
        body = copy.deepcopy(current)
        body["spec"]["replicas"] = size
        body["metadata"]["annotations"] = {**objects.annotations_of(current),
                                           **rollouts.replicas_annotations(deployment)}
        self.api.update(self.rt(RS_KEY), key[0], current["metadata"]["name"], body, self.write_options())
        direction = "up" if size > before else "down"
        self.record(deployment, "Normal", "ScalingReplicaSet",
                    f"Scaled {direction} replica set {current['metadata']['name']} from {before} to {size}")
        return True

    def _scale_new(self, key: Key, new_rs: Obj) -> bool:
        deployment = self._deployment(key)
        assert deployment is not None
        desired = rollouts.replicas(deployment)
        size = rollouts.replicas(new_rs)
        if size == desired:
            return False
        if size > desired:
            return self._scale(key, new_rs, desired)
        return self._scale(key, new_rs, rollouts.new_replica_count(deployment, self._replica_sets(deployment),
                                                                   new_rs))

    def _apply_targets(self, key: Key, targets: dict[str, int]) -> bool:
        changed = False
        for name, size in targets.items():
            rs = self.api.store.get(RS_KEY, key[0], name)
            if rs is not None and self._scale(key, rs, size):
                changed = True
        return changed

    # ---- strategies ------------------------------------------------------------------------------------
    def _rollout_rolling(self, key: Key) -> None:
        new_rs = self._sync_revisions(key, create=True)
        if new_rs is None:
            return  # a name clash bumped collisionCount; the status write brings us back
        if self._scale_new(key, new_rs):
            self._sync_rollout_status(key)
            return
        deployment = self._deployment(key)
        assert deployment is not None
        new_rs, old_sets = self._split(deployment)
        targets = rollouts.rolling_old_targets(deployment, new_rs, rollouts.active(old_sets))
        if self._apply_targets(key, targets):
            self._sync_rollout_status(key)
            return
        if rollouts.is_complete(deployment, deployment.get("status") or {}):
            self._cleanup(key)
        self._sync_rollout_status(key)

    def _rollout_recreate(self, key: Key) -> None:
        deployment = self._deployment(key)
        assert deployment is not None
        new_rs, old_sets = self._split(deployment)
        if self._apply_targets(key, {rs["metadata"]["name"]: 0 for rs in rollouts.active(old_sets)}):
            self._sync_rollout_status(key)
            return
        if self._old_pods_running(deployment, new_rs, old_sets):
            self._sync_rollout_status(key)
            return
        new_rs = self._sync_revisions(key, create=True)
        if new_rs is None:
            return
        deployment = self._deployment(key)
        assert deployment is not None
        if rollouts.is_complete(deployment, deployment.get("status") or {}):
            self._cleanup(key)
        self._scale_new(key, new_rs)
        self._sync_rollout_status(key)

    def _old_pods_running(self, deployment: Obj, new_rs: Obj | None, old_sets: list[Obj]) -> bool:
        if sum(rollouts.status_count(rs, "replicas") for rs in old_sets) > 0:
            return True
        old_uids = {rs["metadata"].get("uid") for rs in old_sets}
        for pod in self.api.store.items(POD_KEY, deployment["metadata"].get("namespace", "")):
            ref = objects.controller_of(pod)
            if ref is None or ref.get("uid") not in old_uids:
                continue
            if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                return True
        return False

    def _sync(self, key: Key) -> None:
        """Scaling (and paused) path: proportional sizes, cleanup when paused, then the plain status."""
        new_rs = self._sync_revisions(key, create=False)
        deployment = self._deployment(key)
        assert deployment is not None
        _, old_sets = self._split(deployment)
        self._apply_targets(key, rollouts.proportional_targets(deployment, new_rs, old_sets))
        if (deployment.get("spec") or {}).get("paused"):
            self._cleanup(key)
        self._sync_status_only(key)

    def _cleanup(self, key: Key) -> None:
        deployment = self._deployment(key)
        assert deployment is not None
        _, old_sets = self._split(deployment)
        for rs in rollouts.cleanup_candidates(deployment, old_sets):
            try:
                self.api.delete(self.rt(RS_KEY), key[0], rs["metadata"]["name"])
            except statuses.ApiError as err:
                if err.code != 404:
                    raise

    # ---- paused and status -----------------------------------------------------------------------------
    def _check_paused_conditions(self, key: Key) -> None:
        deployment = self._deployment(key)
        assert deployment is not None
        if rollouts.progress_deadline(deployment) is None:
            return
        current = objects.condition(deployment, "Progressing")
        if current is not None and current.get("reason") == rollouts.TIMED_OUT:
            return
        paused = bool((deployment.get("spec") or {}).get("paused"))
        paused_shown = current is not None and current.get("reason") == rollouts.PAUSED
        if paused == paused_shown:
            return
        status = copy.deepcopy(deployment.get("status") or {})
        if paused:
            rollouts.set_deployment_condition(status, "Progressing", "Unknown", rollouts.PAUSED,
                                              "Deployment is paused", self.api.now())
        else:
            rollouts.set_deployment_condition(status, "Progressing", "Unknown", rollouts.RESUMED,
                                              "Deployment is resumed", self.api.now())
        self._write_status(key, status)

    def _sync_status_only(self, key: Key) -> None:
        deployment = self._deployment(key)
        assert deployment is not None
        new_rs, old_sets = self._split(deployment)
        all_sets = [*old_sets, *([new_rs] if new_rs is not None else [])]
        self._write_status(key, rollouts.base_status(deployment, all_sets, new_rs, self.api.now()))

    def _sync_rollout_status(self, key: Key) -> None:
        deployment = self._deployment(key)
        assert deployment is not None
        new_rs, old_sets = self._split(deployment)
        all_sets = [*old_sets, *([new_rs] if new_rs is not None else [])]
        decision = rollouts.rollout_status(deployment, all_sets, new_rs, self.clock.now())
        self._write_status(key, decision.status)
        if decision.recheck_after is not None:
            self.queue.add_after(key, decision.recheck_after)
        else:
            self.queue.cancel_after(key)

    def _write_status(self, key: Key, status: Obj) -> None:
        deployment = self._deployment(key)
        assert deployment is not None
        for field in STATUS_OMIT_ZERO:
            if status.get(field) == 0:
                status.pop(field)
        if not status.get("conditions"):
            status.pop("conditions", None)
        if status == (deployment.get("status") or {}):
            return
        body = copy.deepcopy(deployment)
        body["status"] = status
        self.api.update(self.rt(DEPLOY_KEY), key[0], key[1], body, self.write_options(), subresource="status")
