"""Helpers for the emulator tests: a server subprocess, clients, a small XGBoost model, an
inference handler for non-XGBoost images, and the lab's SDK calls against the emulator."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import boto3
import botocore.config
import numpy as np

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/SageMakerRole"
XGB_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ANALYZER_IMAGE = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
HERE = Path(__file__).resolve().parent
REPO = HERE.parent


class Emulator:
    """A ``python -m mmutils.emulator.server`` subprocess on a free port."""

    def __init__(self, state_dir: Path, env: dict | None = None) -> None:
        self.state_dir = state_dir
        self.env = {**os.environ, **(env or {})}
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO), str(HERE), os.environ.get("PYTHONPATH")) if p
        )
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.stderr_path = state_dir / "server.stderr"

    def start(self) -> Emulator:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._stderr = open(self.stderr_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mmutils.emulator.server",
                "--port",
                "0",
                "--state-dir",
                str(self.state_dir),
            ],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=self.env,
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("mmlab emulator listening on "):
            self.stop()
            raise RuntimeError(f"emulator did not start: {line!r}\n{self.stderr()}")
        self.url = line.rsplit(" ", 1)[1]
        return self

    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()
        return self.proc.returncode

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            aws_session_token="testing",
            config=botocore.config.Config(retries={"max_attempts": 1}),
        )


@contextlib.contextmanager
def running(tmp_path: Path, env: dict | None = None):
    emu = Emulator(tmp_path, env).start()
    try:
        yield emu
    finally:
        emu.stop()


def tiny_model(n_features: int = 4, seed: int = 0):
    """A small binary:logistic booster trained on random data, and its model.tar.gz bytes."""
    import xgboost

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, n_features))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(float)
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 3, "nthread": 1},
        xgboost.DMatrix(x, label=y),
        num_boost_round=10,
    )
    raw = booster.save_raw("json")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(bytes(raw)))
    return booster, buf.getvalue()


def deploy(
    emu: Emulator,
    name: str,
    tarball: bytes,
    *,
    bucket: str = "lab-bucket",
    capture: dict | None = None,
    image: str = XGB_IMAGE,
) -> None:
    """Upload a model and create model, endpoint config (optional capture) and endpoint."""
    s3, sm = emu.client("s3"), emu.client("sagemaker")
    with contextlib.suppress(Exception):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=f"models/{name}/model.tar.gz", Body=tarball)
    sm.create_model(
        ModelName=f"{name}-model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": image,
            "ModelDataUrl": f"s3://{bucket}/models/{name}/model.tar.gz",
        },
    )
    config = {
        "EndpointConfigName": f"{name}-config",
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
            }
        ],
    }
    if capture is not None:
        config["DataCaptureConfig"] = capture
    sm.create_endpoint_config(**config)
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")


def echo_handler(endpoint: str, body: bytes, content_type: str) -> tuple[bytes, str]:
    """An MMLAB_INFERENCE_HANDLER for non-XGBoost images: JSON describing the request."""
    if body == b"fail":
        raise ValueError("the handler refuses 'fail'")
    doc = {"endpoint": endpoint, "bytes": len(body), "content_type": content_type}
    return json.dumps(doc).encode(), "application/json"


def capture_config(dest: str, percent: int = 100, **extra) -> dict:
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": percent,
        "DestinationS3Uri": dest,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {
            "CsvContentTypes": ["text/csv"],
            "JsonContentTypes": ["application/json"],
        },
        **extra,
    }


def list_keys(s3, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return sorted(keys)


def read_lines(s3, bucket: str, prefix: str) -> list[bytes]:
    out = []
    for key in list_keys(s3, bucket, prefix):
        out += s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines(keepends=True)
    return out


def wait_job(sm, name: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        desc = sm.describe_processing_job(ProcessingJobName=name)
        if desc["ProcessingJobStatus"] not in ("InProgress", "Stopping"):
            return desc
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {name} still {desc['ProcessingJobStatus']}")
        time.sleep(0.1)


def upload(emu: Emulator, bucket: str, key: str, body: bytes) -> str:
    s3 = emu.client("s3")
    with contextlib.suppress(Exception):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}"


def baseline_job(emu: Emulator, name: str, data_uri: str, output_uri: str, env: dict | None = None):
    """CreateProcessingJob exactly as DefaultModelMonitor.suggest_baseline sends it."""
    environment = {
        "dataset_format": json.dumps({"csv": {"header": True, "output_columns_position": "START"}}),
        "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
        **(env or {}),
    }
    emu.client("sagemaker").create_processing_job(
        ProcessingJobName=name,
        RoleArn=ROLE,
        AppSpecification={"ImageUri": ANALYZER_IMAGE},
        ProcessingResources={
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 30,
            }
        },
        Environment=environment,
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        ProcessingInputs=[
            {
                "InputName": "baseline_dataset_input",
                "AppManaged": False,
                "S3Input": {
                    "S3Uri": data_uri,
                    "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                    "S3CompressionType": "None",
                },
            }
        ],
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": "monitoring_output",
                    "AppManaged": False,
                    "S3Output": {
                        "S3Uri": output_uri,
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
    )


def data_quality_job_definition(
    sm,
    name: str,
    endpoint: str,
    reports_uri: str,
    *,
    statistics: str | None = None,
    constraints: str | None = None,
    app: dict | None = None,
) -> None:
    """Create a data-quality job definition the way the SDK's create_monitoring_schedule does.

    Args:
        sm: a SageMaker client of the emulator.
        name: the job definition's name.
        endpoint: the monitored endpoint.
        reports_uri: the MonitoringOutputs S3 URI.
        statistics: baseline statistics URI (no baseline config when neither is given).
        constraints: baseline constraints URI.
        app: DataQualityAppSpecification (default: the analyzer image alone).
    """
    baseline = {}
    if constraints:
        baseline["ConstraintsResource"] = {"S3Uri": constraints}
    if statistics:
        baseline["StatisticsResource"] = {"S3Uri": statistics}
    sm.create_data_quality_job_definition(
        JobDefinitionName=name,
        RoleArn=ROLE,
        DataQualityAppSpecification=app or {"ImageUri": ANALYZER_IMAGE},
        DataQualityBaselineConfig=baseline,
        DataQualityJobInput={
            "EndpointInput": {
                "EndpointName": endpoint,
                "LocalPath": "/opt/ml/processing/input/endpoint",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        DataQualityJobOutputConfig={
            "MonitoringOutputs": [
                {
                    "S3Output": {
                        "S3Uri": reports_uri,
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "Continuous",
                    }
                }
            ]
        },
        JobResources={
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 30,
            }
        },
    )


def sdk_session(emu: Emulator, bucket: str = "lab-bucket"):
    """A sagemaker.Session pinned to the emulator, with short polling (as the lab's shims do)."""
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    import sagemaker

    class PinnedSession(boto3.Session):
        """Every client the SDK builds (logs, s3, sts, ...) talks to the emulator."""

        def client(self, *args, **kwargs):
            kwargs["endpoint_url"] = emu.url
            kwargs.setdefault("config", botocore.config.Config(retries={"max_attempts": 1}))
            return super().client(*args, **kwargs)

        def resource(self, *args, **kwargs):
            kwargs["endpoint_url"] = emu.url
            return super().resource(*args, **kwargs)

    boto_session = PinnedSession(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    session = sagemaker.Session(boto_session=boto_session, default_bucket=bucket)
    wait = session.wait_for_processing_job
    session.wait_for_processing_job = lambda job, poll=10: wait(job, poll=0.2)
    return session
