"""Processing runtime: run the Model Monitor analyzer for a processing job, like the service.

For a job whose image is the model-monitor analyzer (``…/sagemaker-model-monitor-analyzer``):

1. make a job folder ``{state_dir}/jobs/{job}`` that stands in for the container's ``/opt/ml``;
2. download each ``ProcessingInput``'s S3 prefix from moto's S3 into
   ``jobdir/<LocalPath minus /opt/ml/>``; write ``config/processingjobconfig.json`` and
   ``config/resourceconfig.json``;
3. run ``python -m mmutils.analyzer`` (``$MMLAB_ANALYZER_MODULE`` overrides the module) with the
   job's ``Environment`` plus ``MMLAB_OPT_ML=jobdir`` — for the default module as a process
   forked by the warm analyzer (:mod:`mmutils.emulator.warm_analyzer`), which saves the
   interpreter's and pyarrow's start per job; its output lines go to CloudWatch Logs,
   group ``/aws/sagemaker/ProcessingJobs``, stream ``{job}/algo-1-{epoch}`` (what the SDK's
   ``logs_for_processing_job`` reads);
4. upload every output folder to its S3 URI; put the metric records of
   ``output/metrics/cloudwatch/`` into CloudWatch when ``publish_cloudwatch_metrics`` is
   ``Enabled``;
5. set ``Completed`` (``ExitMessage`` = ``output/message``) or ``Failed`` (``FailureReason``).

Jobs of any other image fail at once with a clear ``FailureReason``. Jobs created over the API
(CreateProcessingJob, patched here: moto's, plus the fields and states of
:mod:`mmutils.emulator.processing_jobs`, refusing a second job of the same name) run on a worker
thread; StopProcessingJob also stops the running analyzer. The scheduler runs its executions
synchronously with :meth:`ProcessingRuntime.run`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from moto.cloudwatch.models import cloudwatch_backends
from moto.core.responses import ActionResult, EmptyResult
from moto.logs.models import logs_backends
from moto.sagemaker.exceptions import ResourceInUseException
from moto.sagemaker.models import FakeProcessingJob, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from mmutils.emulator import patch_table, s3io, warm_analyzer
from mmutils.emulator.clock import parse_iso
from mmutils.emulator.processing_jobs import (
    finish_processing_job,
    init_processing_job,
    mark_stopped,
)
from mmutils.emulator.state import STATE
from mmutils.formats import s3uri
from mmutils.paths import REPO_ROOT

ANALYZER_IMAGE = "sagemaker-model-monitor-analyzer"
#: the ground-truth merge job of model-quality executions runs the same entry point
MERGER_IMAGE = "sagemaker-model-monitor-groundtruth-merger"
ANALYZER_MODULE_ENV = "MMLAB_ANALYZER_MODULE"
DEFAULT_ANALYZER_MODULE = "mmutils.analyzer"
LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
OPT_ML = "/opt/ml/"
METRICS_DIR = "/opt/ml/output/metrics/cloudwatch"
ENDPOINT_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
BATCH_NAMESPACE = "aws/sagemaker/ModelMonitoring/data-metrics"
MODEL_QUALITY_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
MODEL_QUALITY_BATCH_NAMESPACE = "aws/sagemaker/ModelMonitoring/model-metrics"
DEFAULT_MAX_RUNTIME = 24 * 3600


class JobFailed(Exception):
    """The job fails with this FailureReason."""


def is_analyzer(image: str) -> bool:
    """Whether an image URI is the Model Monitor analyzer or its ground-truth merger."""
    repo = image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
    return repo in (ANALYZER_IMAGE, MERGER_IMAGE)


def local_dir(jobdir: Path, container_path: str) -> Path:
    """Where a container path under ``/opt/ml/`` lives in the job folder.

    Raises:
        JobFailed: the path is not under ``/opt/ml/`` or escapes it.
    """
    if not container_path or not container_path.startswith(OPT_ML):
        raise JobFailed(
            f"ClientError: LocalPath {container_path!r} must be an absolute path under "
            "/opt/ml/processing"
        )
    target = (jobdir / container_path[len(OPT_ML) :]).resolve()
    if jobdir.resolve() not in target.parents and target != jobdir.resolve():
        raise JobFailed(f"ClientError: LocalPath {container_path!r} leaves /opt/ml")
    return target


def relative_key(prefix: str, key: str) -> str:
    """The path of an object under an S3Prefix input (as the service lays it out)."""
    if key == prefix:
        return key.rsplit("/", 1)[-1]
    rest = key[len(prefix) :]
    if prefix.endswith("/") or rest.startswith("/"):
        return rest.lstrip("/")
    return key.rsplit("/", 1)[-1]  # a sibling that merely shares the prefix


def no_objects_reason(uri: str, region: str, role: str | None) -> str:
    """FailureReason of an input whose S3 prefix holds nothing."""
    try:
        bucket = s3uri.split(uri)[0]
    except ValueError:
        bucket = ""
    return (
        f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data source. '
        f"Please ensure that the bucket exists in the selected region ({region}), that objects "
        f'exist under that S3 prefix, and that the role "{role}" has "s3:ListBucket" '
        f'permissions on bucket "{bucket}".'
    )


def download_input(account: str, region: str, role: str | None, item: dict, jobdir: Path) -> int:
    """Download one ProcessingInput; returns the number of files.

    Raises:
        JobFailed: unsupported input kind, bad path, or nothing under the S3 prefix.
    """
    if item.get("AppManaged"):
        return 0
    spec = item.get("S3Input")
    if not spec:
        raise JobFailed(
            f"ClientError: input {item.get('InputName')!r}: only S3Input is supported by the "
            "mmlab emulator"
        )
    if spec.get("S3DataType", "S3Prefix") != "S3Prefix":
        raise JobFailed(
            f"ClientError: input {item.get('InputName')!r}: S3DataType "
            f"{spec.get('S3DataType')} is not supported by the mmlab emulator (use S3Prefix)"
        )
    uri = spec["S3Uri"]
    target = local_dir(jobdir, spec["LocalPath"])
    target.mkdir(parents=True, exist_ok=True)
    try:
        bucket, prefix = s3uri.split(uri)
    except ValueError:  # not an S3 URI: no objects, as on AWS
        keys = []
    else:  # a missing bucket reads as "no objects", as on AWS
        keys = s3io.list_keys(account, bucket, prefix, missing_ok=True)
    keys = [k for k in keys if not k.endswith("/")]
    if not keys:
        raise JobFailed(no_objects_reason(uri, region, role))
    for key in keys:
        path = (target / relative_key(prefix, key)).resolve()
        if target.resolve() not in path.parents:
            raise JobFailed(f"ClientError: object key {key!r} leaves LocalPath")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(s3io.get_bytes(account, bucket, key))
    return len(keys)


def upload_output(account: str, item: dict, jobdir: Path) -> int:
    """Upload one ProcessingOutput folder; returns the number of files.

    Raises:
        JobFailed: the destination bucket does not exist.
    """
    spec = item.get("S3Output")
    if not spec or item.get("AppManaged"):
        return 0
    source = local_dir(jobdir, spec["LocalPath"])
    if not source.is_dir():
        return 0
    bucket, prefix = s3uri.split(spec["S3Uri"])
    count = 0
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        key = s3uri.join(prefix, path.relative_to(source).as_posix())
        try:
            s3io.put_bytes(account, bucket, key, path.read_bytes())
        except Exception as exc:  # noqa: BLE001 - e.g. the bucket does not exist
            raise JobFailed(
                f"ClientError: Failed to upload output {item.get('OutputName')!r} to "
                f"{spec['S3Uri']}: {exc}"
            ) from exc
        count += 1
    return count


def job_request(job) -> dict:
    """The job as ``processingjobconfig.json`` holds it (the create request, plus the ARN)."""
    doc = job.response_object
    keep = (
        "ProcessingJobArn",
        "ProcessingJobName",
        "ProcessingInputs",
        "ProcessingOutputConfig",
        "ProcessingResources",
        "StoppingCondition",
        "AppSpecification",
        "Environment",
        "NetworkConfig",
        "RoleArn",
    )
    return {k: doc[k] for k in keep if doc.get(k) is not None}


#: what the analyzer inherits of the emulator's environment (nothing else: no secrets, no
#: AWS settings); the job's Environment and the container contract are added on top
INHERITED_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "SYSTEMROOT")
INHERITED_PREFIXES = ("LC_", "NUMBA_")
#: Environment keys a job may not set: they would change how the emulator's own interpreter
#: runs on the host, or the emulator's confinement of the job (the analyzer's own knobs stay)
RESERVED_KEYS = ("PATH", "HOME", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
RESERVED_PREFIXES = ("LD_", "DYLD_", "PYTHON", "MMLAB_")
ALLOWED_MMLAB_KEYS = ("MMLAB_MAX_BLOCK_SIZE", "MMLAB_MAX_RUNTIME")
_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def check_job_environment(job_env: dict) -> None:
    """Refuse a job Environment that would reach outside its job folder.

    Raises:
        JobFailed: a key is not a variable name, or is reserved (names it).
    """
    for key in job_env or {}:
        key = str(key)
        if not _KEY.match(key):
            raise JobFailed(f"ClientError: Environment key {key!r} is not a variable name")
        if key in ALLOWED_MMLAB_KEYS:
            continue
        if key in RESERVED_KEYS or key.startswith(RESERVED_PREFIXES):
            raise JobFailed(
                f"ClientError: Environment variable {key} is reserved: the mmlab emulator runs "
                "the analyzer on this machine and does not let a job change its interpreter, "
                "library path or confinement"
            )


def analyzer_env(job_env: dict, jobdir: Path) -> dict:
    """Environment of the analyzer process: a minimal base, the job's, the container contract.

    Nothing of the emulator's own environment leaks but :data:`INHERITED_ENV` (locale, PATH,
    temp folder): customer scripts never see its credentials or tokens. Paths are confined to
    the job folder (``MMLAB_CONFINE_PATHS=1``: every absolute path must lie under ``/opt/ml``).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if k in INHERITED_ENV or k.startswith(INHERITED_PREFIXES)
    }
    env.update({str(k): str(v) for k, v in (job_env or {}).items()})
    env["HOME"] = str(jobdir)
    env["MMLAB_OPT_ML"] = str(jobdir)
    env["MMLAB_CONFINE_PATHS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
    )
    return env


#: the analyzer's launcher: die with the emulator (Linux), then run the analyzer module
_LAUNCHER = (
    "import ctypes, os, runpy, signal, sys\n"
    "if sys.platform.startswith('linux'):\n"
    "    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    os._exit(255)\n"
    "module = sys.argv[2]\n"
    "sys.argv = [module]\n"
    "runpy.run_module(module, run_name='__main__', alter_sys=True)\n"
)
PGID_FILE = ".analyzer.pgid"


def analyzer_command(module: str) -> list[str]:
    """The analyzer's command line: a launcher that ties it to this process, then ``module``."""
    return [sys.executable, "-c", _LAUNCHER, str(os.getpid()), module]


def kill_group(pgid: int) -> None:
    """SIGKILL a process group (gone already: nothing to do)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _group_in(pgid: int, jobdir: Path) -> bool:
    """Some live process of group ``pgid`` runs in ``jobdir`` (an analyzer or a process a
    customer script started; its leader may be gone already)."""
    root = jobdir.resolve()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[0] == "Z" or int(fields[2]) != pgid:
                continue
            cwd = Path(os.readlink(proc / "cwd"))
        except (OSError, ValueError, IndexError):
            continue
        if cwd == root or root in cwd.parents:
            return True
    return False


def reap_orphans(state_dir: Path) -> list[str]:
    """Kill analyzers a previous emulator left running (it was killed mid-job) and remove
    their job folders; returns the names of the jobs cleaned up.

    Each running analyzer's process group is recorded in its job folder; a group is killed
    only when its leader still runs in that very job folder.
    """
    cleaned = []
    jobs = Path(state_dir) / "jobs"
    for marker in sorted(jobs.glob(f"*/{PGID_FILE}")) if jobs.is_dir() else []:
        jobdir = marker.parent
        with contextlib.suppress(ValueError, OSError):
            pgid = int(marker.read_text().strip())
            if _group_in(pgid, jobdir):
                kill_group(pgid)
        shutil.rmtree(jobdir, ignore_errors=True)
        cleaned.append(jobdir.name)
    if cleaned:
        print(
            f"mmlab emulator: cleaned up {len(cleaned)} job(s) a previous emulator left "
            f"running: {', '.join(cleaned)}",
            file=sys.stderr,
        )
    return cleaned


def read_metric_records(directory: Path) -> list[dict]:
    """CloudWatch metric records written by the analyzer (JSON lines or JSON arrays).

    Raises:
        JobFailed: a record is not JSON (names the file and line).
    """
    records: list[dict] = []
    if not directory.is_dir():
        return records
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8").strip()
        if not text:
            continue
        if text.startswith("["):
            chunks = [(1, text)]
        else:
            chunks = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        for number, chunk in chunks:
            try:
                doc = json.loads(chunk)
            except json.JSONDecodeError as exc:
                raise JobFailed(
                    f"InternalServerError: metric file {path.name} line {number} is not JSON: {exc}"
                ) from exc
            records.extend(doc if isinstance(doc, list) else [doc])
    return records


def _metric_datum(record: dict) -> dict:
    datum = dict(record)
    stamp = datum.get("Timestamp")
    if isinstance(stamp, str):
        datum["Timestamp"] = parse_iso(stamp)
    elif isinstance(stamp, int | float):
        datum["Timestamp"] = dt.datetime.fromtimestamp(stamp, dt.UTC)
    if isinstance(datum.get("Timestamp"), dt.datetime) and datum["Timestamp"].tzinfo:
        # moto's CloudWatch compares datapoints with naive UTC query times
        datum["Timestamp"] = datum["Timestamp"].astimezone(dt.UTC).replace(tzinfo=None)
    return datum


def metrics_namespace(env: dict) -> str:
    """The CloudWatch namespace of a job's metrics: data or model quality, endpoint or batch."""
    endpoint = bool(env.get("sagemaker_endpoint_name"))
    if str(env.get("analysis_type", "")).upper() == "MODEL_QUALITY":
        return MODEL_QUALITY_NAMESPACE if endpoint else MODEL_QUALITY_BATCH_NAMESPACE
    return ENDPOINT_NAMESPACE if endpoint else BATCH_NAMESPACE


def publish_metrics(account: str, region: str, env: dict, jobdir: Path) -> int:
    """Put the job's metric records into CloudWatch when publishing is enabled; returns count."""
    if str(env.get("publish_cloudwatch_metrics", "")).lower() != "enabled":
        return 0
    directory = local_dir(jobdir, env.get("CLOUDWATCH_METRICS_DIRECTORY") or METRICS_DIR)
    records = read_metric_records(directory)
    if not records:
        return 0
    namespace = metrics_namespace(env)
    data = [_metric_datum(r) for r in records]
    backend = cloudwatch_backends[account][region]
    for start in range(0, len(data), 1000):
        backend.put_metric_data(namespace, data[start : start + 1000])
    return len(data)


class JobLog:
    """The job's CloudWatch Logs stream (moto's logs backend, in process)."""

    def __init__(self, account: str, region: str, job_name: str) -> None:
        self.backend = logs_backends[account][region]
        self.stream = f"{job_name}/algo-1-{int(time.time())}"
        if LOG_GROUP not in self.backend.groups:
            with contextlib.suppress(Exception):  # created by a concurrent job meanwhile
                self.backend.create_log_group(LOG_GROUP, {})
        if self.stream not in self.backend.groups[LOG_GROUP].streams:
            self.backend.create_log_stream(LOG_GROUP, self.stream)
        self._lock = threading.Lock()

    def write(self, lines: list[str]) -> None:
        """Append lines as log events (real-time stamps: CloudWatch rejects old events)."""
        if not lines:
            return
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": line} for line in lines]
        with self._lock:
            self.backend.put_log_events(LOG_GROUP, self.stream, events)


class ProcessingRuntime:
    """Runs analyzer jobs: asynchronously (:meth:`submit`) or in the caller (:meth:`run`)."""

    def __init__(self, workers: int = 2) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._workers = workers
        self._lock = threading.Lock()
        self._procs: dict[tuple[str, str, str], subprocess.Popen | warm_analyzer.JobProcess] = {}
        self._stopped: set[tuple[str, str, str]] = set()
        self._warm = warm_analyzer.WarmAnalyzer()

    def submit(self, account: str, region: str, name: str):
        """Run a job on a worker thread; returns its future."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._workers, "mmlab-processing")
            return self._executor.submit(self.run, account, region, name)

    def stop(self, account: str, region: str, name: str) -> None:
        """Stop a running job's analyzer process (StopProcessingJob)."""
        key = (account, region, name)
        with self._lock:
            self._stopped.add(key)
            proc = self._procs.get(key)
        if proc is not None and proc.poll() is None:
            kill_group(proc.pid)

    def run(self, account: str, region: str, name: str) -> str:
        """Run one job to its end; returns the final ProcessingJobStatus."""
        backend = sagemaker_backends[account][region]
        job = backend.processing_jobs[name]
        try:
            self._run(account, region, job)
        except JobFailed as exc:
            finish_processing_job(job, "Failed", failure_reason=str(exc))
        except Exception as exc:  # noqa: BLE001 - any bug must end the job, not hang it
            traceback.print_exc(file=sys.stderr)
            finish_processing_job(
                job, "Failed", failure_reason=f"InternalServerError: {type(exc).__name__}: {exc}"
            )
        finally:
            with self._lock:
                self._procs.pop((account, region, name), None)
                self._stopped.discard((account, region, name))
        return job.processing_job_status

    def _run(self, account: str, region: str, job) -> None:
        name = job.processing_job_name
        image = (job.app_specification or {}).get("ImageUri", "")
        if not is_analyzer(image):
            raise JobFailed(
                f"ClientError: image {image} is not supported by the mmlab emulator; only the "
                "Model Monitor analyzer runs"
            )
        jobdir = STATE.state_dir / "jobs" / name
        if jobdir.exists():
            shutil.rmtree(jobdir)
        (jobdir / "config").mkdir(parents=True)
        (jobdir / "output").mkdir(parents=True)
        for item in job.processing_inputs or []:
            download_input(account, region, job.role_arn, item, jobdir)
        for item in (job.processing_output_config or {}).get("Outputs", []):
            if item.get("S3Output"):
                local_dir(jobdir, item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
        (jobdir / "config" / "processingjobconfig.json").write_text(
            json.dumps(job_request(job), default=str, indent=2)
        )
        (jobdir / "config" / "resourceconfig.json").write_text(
            json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]})
        )
        env = dict(job.environment or {})
        code = self._run_analyzer(account, region, job, jobdir, env)
        message_file = jobdir / "output" / "message"
        message = message_file.read_text(encoding="utf-8").strip() if message_file.exists() else ""
        if (account, region, name) in self._stopped:
            finish_processing_job(job, "Stopped", exit_message=message)
            return
        if code != 0:
            detail = message or f"the analyzer exited with code {code}; see the job's logs"
            finish_processing_job(
                job, "Failed", exit_message=message, failure_reason=f"AlgorithmError: {detail}"
            )
            return
        for item in (job.processing_output_config or {}).get("Outputs", []):
            upload_output(account, item, jobdir)
        publish_metrics(account, region, env, jobdir)
        finish_processing_job(job, "Completed", exit_message=message)
        if os.environ.get("MMLAB_KEEP_JOB_DIRS") != "1":
            shutil.rmtree(jobdir, ignore_errors=True)

    def _run_analyzer(self, account: str, region: str, job, jobdir: Path, env: dict) -> int:
        module = os.environ.get(ANALYZER_MODULE_ENV) or DEFAULT_ANALYZER_MODULE
        log = JobLog(account, region, job.processing_job_name)
        limit = (job.stopping_condition or {}).get("MaxRuntimeInSeconds") or DEFAULT_MAX_RUNTIME
        key = (account, region, job.processing_job_name)
        check_job_environment(env)
        proc = self._start_analyzer(module, env, jobdir)
        (jobdir / PGID_FILE).write_text(str(proc.pid))
        with self._lock:
            self._procs[key] = proc
        timed_out = threading.Event()

        def _timeout() -> None:
            timed_out.set()
            kill_group(proc.pid)

        timer = threading.Timer(float(limit), _timeout)
        timer.daemon = True
        timer.start()
        try:
            batch: list[str] = []
            last = time.monotonic()
            for line in proc.stdout:
                batch.append(line.rstrip("\n"))
                if len(batch) >= 200 or time.monotonic() - last > 0.5:
                    log.write(batch)
                    batch, last = [], time.monotonic()
            log.write(batch)
            code = proc.wait()
        finally:
            timer.cancel()
            kill_group(proc.pid)  # anything a customer script left running in the group
            (jobdir / PGID_FILE).unlink(missing_ok=True)
        if timed_out.is_set():
            raise JobFailed(f"ClientError: the job exceeded MaxRuntimeInSeconds ({limit} s)")
        return code

    def _start_analyzer(self, module: str, env: dict, jobdir: Path):
        """The analyzer's process for a job: forked by the warm analyzer (the default module),
        else a new interpreter; either way it leads its own process group."""
        if module == DEFAULT_ANALYZER_MODULE and warm_analyzer.enabled():
            home = jobdir.parent / ".warm-analyzer"
            try:
                return self._warm.launch(
                    analyzer_command(warm_analyzer.SERVER_MODULE),
                    analyzer_env({}, home),
                    analyzer_env(env, jobdir),
                    jobdir,
                    home,
                )
            except (OSError, RuntimeError) as exc:
                raise JobFailed(f"InternalServerError: {exc}") from exc
        return subprocess.Popen(
            analyzer_command(module),
            cwd=jobdir,
            env=analyzer_env(env, jobdir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,  # its own process group: killed as a whole
        )

    def shutdown(self) -> None:
        """Kill running analyzers and stop the workers."""
        with self._lock:
            procs = list(self._procs.values())
            executor, self._executor = self._executor, None
        for proc in procs:
            kill_group(proc.pid)
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        self._warm.stop()


#: The processing runtime of this emulator process.
RUNTIME = ProcessingRuntime()


# ------------------------------------------------------------------------------ the API
_RESPONSE = "moto.sagemaker.responses.SageMakerResponse"


def create_processing_job(self: SageMakerResponse) -> ActionResult:
    """CreateProcessingJob: moto's, plus Environment/ProcessingResources, InProgress, and a run."""
    name = self._get_param("ProcessingJobName")
    backend = self.sagemaker_backend
    if name in backend.processing_jobs:
        arn = FakeProcessingJob.arn_formatter(name, self.current_account, self.region)
        raise ResourceInUseException(
            "Job name must be unique within an AWS account and region, and a job with this name "
            f"already exists ({arn})"
        )
    result = patch_table.original(f"{_RESPONSE}.create_processing_job")(self)
    job = backend.processing_jobs[name]
    init_processing_job(
        job,
        environment=self._get_param("Environment"),
        resources=self._get_param("ProcessingResources"),
    )
    RUNTIME.submit(self.current_account, self.region, name)
    return result


def stop_processing_job(self: SageMakerResponse) -> EmptyResult:
    """StopProcessingJob: also stops the analyzer process of a running job."""
    name = self._get_param("ProcessingJobName")
    result = patch_table.original(f"{_RESPONSE}.stop_processing_job")(self)
    mark_stopped(self.sagemaker_backend.processing_jobs[name])
    RUNTIME.stop(self.current_account, self.region, name)
    return result


RESPONSES = {
    "create_processing_job": create_processing_job,
    "stop_processing_job": stop_processing_job,
}


def install() -> None:
    """Hand CreateProcessingJob/StopProcessingJob to :data:`RUNTIME`; stop it with the server."""
    for name, func in RESPONSES.items():
        patch_table.replace(f"{_RESPONSE}.{name}", func)
    STATE.on_stop(RUNTIME.shutdown)
