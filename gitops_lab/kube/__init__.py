"""An async Kubernetes API client (aiohttp) that works against any cluster: the sandbox, kind or an existing
one.

Owns nothing itself: :mod:`.config` turns a kubeconfig into a connection, :mod:`.client` talks to the API
server with it. Only the public Kubernetes REST API and standard kubeconfig features are used, so what works
on the sandbox works on a real cluster. Import the modules (``from gitops_lab.kube import client, config``).
"""
