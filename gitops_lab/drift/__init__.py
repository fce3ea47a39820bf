"""Drift: the pure comparison of what Git declares with what the cluster holds, and the lab's durable timeline.

``diffs`` (pure) says which objects departed from Git, which fields, and which field manager made each change;
``timeline`` stores every reconcile and drift event in the lab directory and reads them back as pandas
DataFrames. Neither talks to a cluster: the reconciler (``gitops_lab.gitops``) fetches live objects and records.
"""
