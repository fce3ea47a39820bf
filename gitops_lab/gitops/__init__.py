"""The lab's GitOps engine: Flux's GitRepository and Kustomization API, reconciled from the lab's Git server.

Git is the desired state; this room keeps the cluster true to it, the way Flux's source-controller and
kustomize-controller do, and through the public Kubernetes API only (:mod:`gitops_lab.kube`), so it runs the same
on the sandbox, kind or any cluster. Its modules, one concern each:

- ``crds``           Flux's two CustomResourceDefinitions (v1) as the lab installs them   (data; install via a client)
- ``revisions``      revision strings ``main@sha1:<40 hex>``: make, parse, shorten        (pure)
- ``durations``      Go-style durations as Flux writes them (``1m0s``)                     (pure)
- ``plans``          desired + live objects → ordered apply / prune / skip actions         (pure)
- ``sources``        fetch a GitRepository's reference with the git CLI into a cache and export the commit's
                     files as an artifact directory
- ``building``       a Kustomization's path → Kubernetes objects (plain YAML, or ``kubectl kustomize``)
- ``bootstrapping``  what a new lab's cluster gets: the CRDs and the lab's own Flux objects
- ``correcting``     watches of the applied objects: drift recorded and corrected
- ``reconciling``    the Reconciler: the control loops, statuses and events, in the lab process

Comparing desired with live objects is :mod:`gitops_lab.drift.diffs`'s business, recording what happened
:mod:`gitops_lab.drift.timeline`'s. Import the modules (``from gitops_lab.gitops import plans, sources``).
"""
