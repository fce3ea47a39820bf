"""The lab's Git server: bare repositories served over smart HTTP by git's own ``git http-backend``.

This room is the single source of truth of the GitOps story. Its modules, one concern each:

- ``updates``       the ``<old> <new> <ref>`` lines hooks read                                  (pure, light)
- ``events``        push events, the recent-push log and its subscribers                       (pure)
- ``protection``    branch-protection policies and the refusal a protected branch answers     (pure, light)
- ``authors``       "Name <email>" identities and the git environment that stamps them         (pure)
- ``history``       ``git log`` output parsed into a pandas DataFrame                          (pure)
- ``credentials``   the basic-auth user and password of one server directory (file, mode 0600)
- ``hooks``         the pre-receive / post-receive hook programs and their installation
- ``repositories``  creating, listing, seeding and configuring the bare repositories on disk
- ``backend``       running ``git http-backend`` as a CGI child for one HTTP request
- ``serving``       ``GitServer`` (async lifecycle, auth, routes, push notifications) and its sync face
- ``working``       working copies for notebooks, driven with GitPython

Nothing here talks to a cluster; the reconciler reads these repositories over HTTP like any Git client.
"""
