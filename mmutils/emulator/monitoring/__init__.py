"""The monitoring-schedule service moto 5.2.5 lacks, laid out as moto lays out a service.

- :mod:`.cron`: schedule expressions (AWS cron, ``NOW``, ISO-8601 offsets).
- :mod:`.models`: the backend: schedules, execution summaries and tags per account and region,
  with the create/describe/list/update/delete/start/stop operations and their AWS errors.
- :mod:`.responses`: the API actions: request parameters → backend → JSON, installed on moto's
  ``SageMakerResponse``.
- :mod:`.executions`: the processing-job request of one monitoring execution (pure).
- :mod:`.scheduler`: the engine that fires due executions on the emulator clock and runs them.
"""
