"""The embedded AWS for the lab: moto's server plus what Model Monitor needs that moto lacks.

Modules:
    server          the emulator process (``python -m mmutils.emulator.server``): checks the
                    patch table, installs the extensions below, serves on 127.0.0.1
    patch_table     every moto and SageMaker SDK name mmlab patches or relies on, checked at
                    start-up (``check``), and applied through it (``resolve``/``wrap``/``replace``)
    lifecycle       start/attach/status/stop of the detached server; its state file; ``env_vars``
    admin_client    the one client of the admin routes (``EmulatorClient``, ``EmulatorError``)
    admin_routes    the server side of ``/moto-api/mmlab/*`` (health, clock, flush, seed, reset)
    cli             ``mmlab emulator start|stop|status|reset|env|clock``
    clock           the emulator clock (real time; flowing after set/advance; or frozen)
    state           process-wide ids, state folder and reset/stop/flush/seed hooks
    s3io            in-process access to moto's S3 objects
    endpoints       DescribeEndpoint/DescribeModel answers as SageMaker gives them, UpdateEndpoint,
                    DeleteEndpoint after a capture flush
    hosting         InvokeEndpoint runs the model (XGBoost or a registered handler)
    capture_writer  data capture written to S3 as SageMaker writes it
    processing_jobs processing-job records with SageMaker's fields and states
    processing      the processing runtime (runs the analyzer) and Create/StopProcessingJob
    monitoring      the monitoring-schedule service in moto's shape (models, responses) and the
                    scheduler that runs its executions on the emulator clock
"""
