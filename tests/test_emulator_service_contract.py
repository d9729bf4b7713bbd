"""The service's contract for the data-quality flow: validation messages, Describe defaults,
schedule states, the SDK's attach/update round trip, model URLs and formats, the flowing clock."""

from __future__ import annotations

import datetime as dt
import io
import pickle
import time

import pytest
from botocore.exceptions import ClientError
from emulator_support import (
    ANALYZER_IMAGE,
    ROLE,
    XGB_IMAGE,
    data_quality_job_definition,
    deploy,
    running,
    sdk_session,
    tiny_model,
)

from mmutils.emulator.admin_client import EmulatorClient
from mmutils.emulator.clock import Clock
from mmutils.emulator.model_data import ModelFormatError, load_booster, locate, sniff

PATTERN = "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
LONG = "a" * 64


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with running(tmp_path_factory.mktemp("contract")) as emu:
        emu.client("s3").create_bucket(Bucket="lab-bucket")
        yield emu


def _error(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    err = info.value.response["Error"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return err["Code"], err["Message"]


def _pattern(value: str, member: str) -> str:
    return (
        f"Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy "
        f"regular expression pattern: {PATTERN}"
    )


def _length(value: str, member: str) -> str:
    return (
        f"Value '{value}' at '{member}' failed to satisfy constraint: Member must have length "
        "less than or equal to 63"
    )


def _name_cases(sm):
    """(create call, its name parameter, the member the service names, other parameters)."""
    cluster = {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 20}
    return [
        (
            sm.create_endpoint_config,
            "EndpointConfigName",
            "endpointConfigName",
            {
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "ModelName": "m",
                        "InitialInstanceCount": 1,
                        "InstanceType": "ml.m5.xlarge",
                    }
                ]
            },
        ),
        (sm.create_endpoint, "EndpointName", "endpointName", {"EndpointConfigName": "c"}),
        (
            sm.create_processing_job,
            "ProcessingJobName",
            "processingJobName",
            {
                "RoleArn": ROLE,
                "AppSpecification": {"ImageUri": ANALYZER_IMAGE},
                "ProcessingResources": {"ClusterConfig": cluster},
            },
        ),
        (
            sm.create_monitoring_schedule,
            "MonitoringScheduleName",
            "monitoringScheduleName",
            {"MonitoringScheduleConfig": {"MonitoringJobDefinitionName": "d"}},
        ),
        (
            sm.create_data_quality_job_definition,
            "JobDefinitionName",
            "jobDefinitionName",
            {
                "RoleArn": ROLE,
                "DataQualityAppSpecification": {"ImageUri": ANALYZER_IMAGE},
                "DataQualityJobInput": {
                    "EndpointInput": {"EndpointName": "e", "LocalPath": "/opt/ml/processing/in"}
                },
                "DataQualityJobOutputConfig": {
                    "MonitoringOutputs": [
                        {
                            "S3Output": {
                                "S3Uri": "s3://lab-bucket/r",
                                "LocalPath": "/opt/ml/processing/output",
                            }
                        }
                    ]
                },
                "JobResources": {"ClusterConfig": cluster},
            },
        ),
        (
            sm.create_transform_job,
            "TransformJobName",
            "transformJobName",
            {
                "ModelName": "m",
                "TransformInput": {
                    "DataSource": {
                        "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://lab-bucket/in"}
                    }
                },
                "TransformOutput": {"S3OutputPath": "s3://lab-bucket/out"},
                "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
            },
        ),
    ]


def test_every_name_is_validated_with_the_service_message(emu):
    sm = emu.client("sagemaker")
    for call, param, member, rest in _name_cases(sm):
        code, message = _error(call, **{param: "bad_name", **rest})
        assert code == "ValidationException"
        assert message == "1 validation error detected: " + _pattern("bad_name", member)
        code, message = _error(call, **{param: LONG, **rest})
        assert message == (
            "2 validation errors detected: " + _length(LONG, member) + "; " + _pattern(LONG, member)
        )
    # the model name has a length limit only
    code, message = _error(
        sm.create_model,
        ModelName=LONG,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGB_IMAGE},
    )
    assert message == "1 validation error detected: " + _length(LONG, "modelName")


def _unchecked(emu):
    """A SageMaker client that sends what it is given (botocore checks ranges itself)."""
    import boto3
    import botocore.config

    return boto3.client(
        "sagemaker",
        endpoint_url=emu.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


def test_validation_api():
    from mmutils.emulator.validation import (
        ValidationFailed,
        name_pattern,
        request_errors,
        validate_name,
    )

    validate_name("monitoring-schedule", "ok-name-1")
    with pytest.raises(ValidationFailed, match="at 'endpointName' failed to satisfy constraint"):
        validate_name("endpoint", "no_underscores")
    with pytest.raises(KeyError, match="unknown resource kind"):
        validate_name("bucket", "x")
    with pytest.raises(KeyError, match="NoSuchThing is not a SageMaker operation"):
        request_errors("NoSuchThing", {})
    assert name_pattern("monitoring-schedule") == PATTERN
    assert request_errors("ListMonitoringAlerts", {"MonitoringScheduleName": "ok"}) == []


def test_enums_ranges_and_nested_members(emu):
    sm = _unchecked(emu)
    code, message = _error(sm.list_monitoring_schedules, SortBy="Size", MaxResults=0)
    assert message == (
        "2 validation errors detected: Value 'Size' at 'sortBy' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Name, CreationTime, Status]; Value '0' at "
        "'maxResults' failed to satisfy constraint: Member must have value greater than or "
        "equal to 1"
    )
    code, message = _error(
        sm.create_monitoring_schedule,
        MonitoringScheduleName="ok",
        MonitoringScheduleConfig={
            "MonitoringJobDefinitionName": "d",
            "MonitoringType": "Drift",
        },
    )
    assert message == (
        "1 validation error detected: Value 'Drift' at 'monitoringScheduleConfig.monitoringType' "
        "failed to satisfy constraint: Member must satisfy enum value set: [DataQuality, "
        "ModelQuality, ModelBias, ModelExplainability]"
    )
    code, message = _error(
        sm.create_endpoint_config,
        EndpointConfigName="ok",
        ProductionVariants=[
            {
                "VariantName": "bad variant",
                "ModelName": "m",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
            }
        ],
    )
    assert "at 'productionVariants.1.member.variantName' failed to satisfy constraint" in message


def test_describe_answers_carry_the_service_defaults(emu):
    sm = emu.client("sagemaker")
    data_quality_job_definition(sm, "defaults-def", "some-ep", "s3://lab-bucket/reports")
    desc = sm.describe_data_quality_job_definition(JobDefinitionName="defaults-def")
    assert desc["NetworkConfig"] == {
        "EnableInterContainerTrafficEncryption": False,
        "EnableNetworkIsolation": False,
    }
    assert desc["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert "DataQualityBaselineConfig" not in desc  # none was sent

    sm.create_model(
        ModelName="defaults-model", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": XGB_IMAGE}
    )
    sm.create_endpoint_config(
        EndpointConfigName="defaults-nocap",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "defaults-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
            }
        ],
    )
    assert "DataCaptureConfig" not in sm.describe_endpoint_config(
        EndpointConfigName="defaults-nocap"
    )

    sm.create_processing_job(
        ProcessingJobName="defaults-job",
        RoleArn=ROLE,
        AppSpecification={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/custom"},
        ProcessingResources={
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 5,
            }
        },
        NetworkConfig={"EnableNetworkIsolation": True},
    )
    job = sm.describe_processing_job(ProcessingJobName="defaults-job")
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert job["NetworkConfig"] == {
        "EnableInterContainerTrafficEncryption": False,
        "EnableNetworkIsolation": True,
    }
    assert job["ProcessingJobArn"] == (
        "arn:aws:sagemaker:us-east-1:123456789012:processing-job/defaults-job"
    )


def test_sdk_attach_and_update_round_trip_a_schedule_without_network_config(emu):
    from sagemaker.model_monitor import DefaultModelMonitor

    sm = emu.client("sagemaker")
    deploy(emu, "rt-ep", tiny_model(4)[1])
    data_quality_job_definition(sm, "rt-def", "rt-ep", "s3://lab-bucket/rt/reports")
    sm.create_monitoring_schedule(
        MonitoringScheduleName="rt-schedule",
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinitionName": "rt-def",
            "MonitoringType": "DataQuality",
        },
    )
    statuses = [sm.describe_monitoring_schedule(MonitoringScheduleName="rt-schedule")]
    assert statuses[0]["MonitoringScheduleStatus"] == "Pending"
    session = sdk_session(emu)
    monitor = DefaultModelMonitor.attach("rt-schedule", sagemaker_session=session)
    assert monitor.network_config.enable_network_isolation is False
    assert monitor.network_config.encrypt_inter_container_traffic is False
    assert monitor.max_runtime_in_seconds == 3600
    time.sleep(0.6)
    monitor.update_monitoring_schedule(max_runtime_in_seconds=1800)
    desc = sm.describe_monitoring_schedule(MonitoringScheduleName="rt-schedule")
    assert desc["MonitoringScheduleStatus"] == "Scheduled"
    new_def = desc["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"]
    job_def = sm.describe_data_quality_job_definition(JobDefinitionName=new_def)
    assert job_def["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    assert job_def["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is False
    again = DefaultModelMonitor.attach("rt-schedule", sagemaker_session=session)
    assert again.max_runtime_in_seconds == 1800


def test_https_model_urls_serve(emu):
    _, tarball = tiny_model(4)
    s3 = emu.client("s3")
    s3.put_object(Bucket="lab-bucket", Key="models/https/model.tar.gz", Body=tarball)
    sm = emu.client("sagemaker")
    urls = {
        "virt-ep": "https://lab-bucket.s3.us-east-1.amazonaws.com/models/https/model.tar.gz",
        "path-ep": "https://s3.us-east-1.amazonaws.com/lab-bucket/models/https/model.tar.gz",
    }
    for endpoint, url in urls.items():
        sm.create_model(
            ModelName=f"{endpoint}-model",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": url},
        )
        sm.create_endpoint_config(
            EndpointConfigName=f"{endpoint}-config",
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"{endpoint}-model",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.xlarge",
                }
            ],
        )
        sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-config")
        body = (
            emu.client("sagemaker-runtime")
            .invoke_endpoint(
                EndpointName=endpoint, ContentType="text/csv", Body=b"0.5,0.1,0.2,0.3"
            )["Body"]
            .read()
        )
        assert 0.0 < float(body) < 1.0


def test_locate_accepts_the_s3_url_forms():
    assert locate("s3://b/k/m.tar.gz") == ("b", "k/m.tar.gz")
    assert locate("https://b.s3.eu-west-1.amazonaws.com/k/m.tar.gz") == ("b", "k/m.tar.gz")
    assert locate("https://b.s3.amazonaws.com/k%20x/m.tar.gz") == ("b", "k x/m.tar.gz")
    assert locate("https://b.s3-us-west-2.amazonaws.com/m.tar.gz") == ("b", "m.tar.gz")
    assert locate("https://s3.us-east-1.amazonaws.com/b/k/m.tar.gz") == ("b", "k/m.tar.gz")
    assert locate("https://s3.amazonaws.com/b/m.tar.gz") == ("b", "m.tar.gz")
    with pytest.raises(ValueError, match="not an S3 location: 'https://example.com/m.tar.gz'"):
        locate("https://example.com/m.tar.gz")


def test_model_formats_like_the_xgboost_containers():
    import numpy as np

    booster, _ = tiny_model(4)
    x = np.random.default_rng(1).normal(size=(5, 4))
    want = booster.inplace_predict(x)
    for fmt, kind in (("json", "json"), ("ubj", "ubjson")):
        raw = bytes(booster.save_raw(fmt))
        assert sniff(raw) == kind
        assert np.allclose(load_booster(raw, "m").inplace_predict(x), want)
    pickled = pickle.dumps(booster)
    assert sniff(pickled) == "pickle"
    assert np.allclose(load_booster(pickled, "m").inplace_predict(x), want)

    # the pre-1.0 binary layout: parameters, then the objective and booster names
    legacy = (
        b"\x00" * 136 + b"\x0f\x00\x00\x00\x00\x00\x00\x00binary:logistic\x06\x00\x00\x00gbtree"
    )
    assert sniff(legacy) == "legacy-binary"
    with pytest.raises(ModelFormatError, match="s3://b/m.tar.gz: legacy binary XGBoost model"):
        load_booster(legacy, "s3://b/m.tar.gz")

    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    with pytest.raises(ModelFormatError, match="the pickle holds builtins.print"):
        load_booster(pickle.dumps(Evil()), "m")
    with pytest.raises(ModelFormatError, match="unknown model format"):
        load_booster(b"PK\x03\x04zip", "m")
    assert isinstance(io.BytesIO, type)


def test_clock_flows_after_a_move_unless_frozen():
    clock = Clock(frozen=False)
    assert clock.mode == "real"
    start = clock.set("2026-01-05T09:00:00Z")
    assert clock.mode == "flowing"
    time.sleep(0.05)
    later = clock.now()
    assert later > start and later - start < dt.timedelta(seconds=5)
    clock.advance(3600)
    assert clock.now() - start >= dt.timedelta(hours=1)
    clock.freeze()
    frozen = clock.now()
    time.sleep(0.02)
    assert clock.now() == frozen and clock.mode == "frozen"
    clock.advance(60)
    assert clock.now() == frozen + dt.timedelta(seconds=60)  # moving keeps it frozen
    clock.flow()
    time.sleep(0.02)
    assert clock.now() > frozen + dt.timedelta(seconds=60) and clock.mode == "flowing"
    clock.real()
    assert clock.mode == "real"


def test_clock_modes_through_the_admin_route(emu):
    admin = EmulatorClient(emu.url)
    admin.set_clock("2026-01-05T09:00:00Z")
    assert admin.clock() == {"now": "2026-01-05T09:00:00.000Z", "mode": "frozen"}  # tests freeze
    admin.flowing_clock()
    time.sleep(0.1)
    doc = admin.clock()
    assert doc["mode"] == "flowing" and doc["now"] > "2026-01-05T09:00:00.050Z"
    assert admin.freeze_clock()["mode"] == "frozen"
    assert admin.clock()["now"] == admin.clock()["now"]


def test_transform_job_runs_the_model_over_its_input(emu):
    import numpy as np

    booster, tarball = tiny_model(4)
    s3 = emu.client("s3")
    s3.put_object(Bucket="lab-bucket", Key="bt/model.tar.gz", Body=tarball)
    rows = ["0.5,0.1,0.2,0.3", "-1.0,2.0,0.0,0.5", "0.0,0.0,0.0,0.0"]
    s3.put_object(Bucket="lab-bucket", Key="bt/in/part-1.csv", Body="\n".join(rows) + "\n")
    s3.put_object(Bucket="lab-bucket", Key="bt/in/part-2.csv", Body=rows[0] + "\n")
    sm = emu.client("sagemaker")
    sm.create_model(
        ModelName="bt-model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": "s3://lab-bucket/bt/model.tar.gz"},
    )
    sm.create_transform_job(
        TransformJobName="bt-job",
        ModelName="bt-model",
        BatchStrategy="MultiRecord",
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://lab-bucket/bt/in"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": "s3://lab-bucket/bt/out", "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
        DataProcessing={"JoinSource": "Input"},
    )
    deadline = time.monotonic() + 60
    while (desc := sm.describe_transform_job(TransformJobName="bt-job"))[
        "TransformJobStatus"
    ] == "InProgress" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert desc["TransformJobStatus"] == "Completed", desc.get("FailureReason")
    assert "FailureReason" not in desc
    body = s3.get_object(Bucket="lab-bucket", Key="bt/out/part-1.csv.out")["Body"].read().decode()
    lines = body.splitlines()
    assert [line.rsplit(",", 1)[0] for line in lines] == rows
    x = np.array([[float(v) for v in r.split(",")] for r in rows])
    want = booster.inplace_predict(x)
    assert [float(line.rsplit(",", 1)[1]) for line in lines] == pytest.approx(
        [float(v) for v in want], rel=1e-5
    )
    assert s3.get_object(Bucket="lab-bucket", Key="bt/out/part-2.csv.out")["Body"].read()

    sm.create_transform_job(
        TransformJobName="bt-missing",
        ModelName="bt-model",
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://lab-bucket/nothing"}
            }
        },
        TransformOutput={"S3OutputPath": "s3://lab-bucket/bt/out2"},
        TransformResources={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
    )
    deadline = time.monotonic() + 30
    while (desc := sm.describe_transform_job(TransformJobName="bt-missing"))[
        "TransformJobStatus"
    ] == "InProgress" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert desc["TransformJobStatus"] == "Failed"
    assert desc["FailureReason"] == 'No S3 objects found under S3 URL "s3://lab-bucket/nothing"'
