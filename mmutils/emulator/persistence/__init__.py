"""The emulator's state on disk: it survives a stop, a restart and a crash (docs/persistence.md).

Modules:
    folder      the state folder: layout, format stamp, atomic writes, wipe, usage (no moto)
    s3_store    S3 objects written through to disk before the request is answered
    snapshot    moto's other backends and the lab's own state, pickled; crash repair on load
    service     PERSISTENCE: open (load) at start, periodic snapshots, close (save) at stop
"""
