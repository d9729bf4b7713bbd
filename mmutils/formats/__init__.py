"""The formats Model Monitor reads and writes, each with one owner (imports nothing of mmutils).

- :mod:`~mmutils.formats.s3uri`: ``s3://bucket/key`` URIs.
- :mod:`~mmutils.formats.capture_key`: where capture files and reports live (the hour-folder
  layout ``yyyy/mm/dd/HH``), built and parsed.
- :mod:`~mmutils.formats.capture_record`: one data-capture JSON line, built and parsed, and its
  payloads decoded.
- :mod:`~mmutils.formats.reports`: ``statistics.json``, ``constraints.json`` and
  ``constraint_violations.json`` loaded from whatever a caller holds.

Everything else in mmutils imports these; nothing here imports the rest of mmutils.
"""
