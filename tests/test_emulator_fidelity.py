"""moto's endpoint, model and processing-job answers made SageMaker-like; UpdateEndpoint."""

from __future__ import annotations

import json

import pytest
from emulator_support import (
    ANALYZER_IMAGE,
    ROLE,
    capture_config,
    deploy,
    read_lines,
    running,
    tiny_model,
    wait_job,
)

from mmutils.emulator.admin_client import EmulatorClient


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with running(tmp_path_factory.mktemp("fidelity")) as emu:
        yield emu


def test_describe_endpoint_capture_summary(emu):
    deploy(
        emu,
        "fid-ep",
        tiny_model(4)[1],
        capture=capture_config("s3://lab-bucket/dc", InitialSamplingPercentage=20, KmsKeyId="k1"),
    )
    dcc = emu.client("sagemaker").describe_endpoint(EndpointName="fid-ep")["DataCaptureConfig"]
    assert dcc == {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 20,
        "DestinationS3Uri": "s3://lab-bucket/dc",
        "KmsKeyId": "k1",
    }
    deploy(emu, "fid-nocap", tiny_model(4)[1])
    assert "DataCaptureConfig" not in emu.client("sagemaker").describe_endpoint(
        EndpointName="fid-nocap"
    )


def test_describe_model_omits_empty_vpc_and_containers(emu):
    sm = emu.client("sagemaker")
    sm.create_model(
        ModelName="fid-model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz"},
    )
    desc = sm.describe_model(ModelName="fid-model")
    assert "VpcConfig" not in desc and "Containers" not in desc
    assert desc["PrimaryContainer"] == {"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz"}


def test_update_endpoint_switches_capture(emu):
    sm, rt, s3 = emu.client("sagemaker"), emu.client("sagemaker-runtime"), emu.client("s3")
    EmulatorClient(emu.url).set_clock("2024-02-01T00:00:00Z")
    deploy(emu, "fid-upd", tiny_model(4)[1])
    rt.invoke_endpoint(EndpointName="fid-upd", Body=b"1,2,3,4", ContentType="text/csv")
    sm.create_endpoint_config(
        EndpointConfigName="fid-upd-config-2",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "fid-upd-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
            }
        ],
        DataCaptureConfig=capture_config("s3://lab-bucket/upd"),
    )
    assert sm.update_endpoint(EndpointName="fid-upd", EndpointConfigName="fid-upd-config-2")[
        "EndpointArn"
    ].endswith(":endpoint/fid-upd")
    desc = sm.describe_endpoint(EndpointName="fid-upd")
    assert desc["EndpointConfigName"] == "fid-upd-config-2"
    assert desc["DataCaptureConfig"]["CaptureStatus"] == "Started"
    rt.invoke_endpoint(EndpointName="fid-upd", Body=b"5,6,7,8", ContentType="text/csv")
    EmulatorClient(emu.url).flush()
    lines = read_lines(s3, "lab-bucket", "upd/fid-upd/")
    assert [json.loads(x)["captureData"]["endpointInput"]["data"] for x in lines] == ["5,6,7,8"]
    with pytest.raises(sm.exceptions.ClientError, match="Could not find endpoint"):
        sm.update_endpoint(EndpointName="ghost", EndpointConfigName="fid-upd-config-2")
    with pytest.raises(sm.exceptions.ClientError, match="Could not find endpoint configuration"):
        sm.update_endpoint(EndpointName="fid-upd", EndpointConfigName="ghost-config")


def _job(sm, name, image=ANALYZER_IMAGE, **extra):
    sm.create_processing_job(
        ProcessingJobName=name,
        RoleArn=ROLE,
        AppSpecification={"ImageUri": image},
        ProcessingResources={
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 30,
            }
        },
        Environment={
            "dataset_format": '{"csv": {"header": true}}',
            "dataset_source": "/opt/ml/processing/input/data",
            "output_path": "/opt/ml/processing/output",
        },
        StoppingCondition={"MaxRuntimeInSeconds": 600},
        **extra,
    )


def test_processing_job_keeps_environment_and_resources_and_starts_in_progress(emu):
    sm = emu.client("sagemaker")
    EmulatorClient(emu.url).set_clock("2024-02-02T03:04:05Z")
    _job(sm, "fid-job", image="123.dkr.ecr.us-east-1.amazonaws.com/my-processor:1")
    first = sm.describe_processing_job(ProcessingJobName="fid-job")
    assert first["Environment"]["dataset_source"] == "/opt/ml/processing/input/data"
    assert first["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 1
    assert first["ProcessingStartTime"].isoformat().startswith("2024-02-02T03:04:05")
    assert first["CreationTime"] == first["ProcessingStartTime"]
    assert first["ProcessingJobStatus"] in ("InProgress", "Failed")
    final = wait_job(sm, "fid-job")
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["FailureReason"] == (
        "ClientError: image 123.dkr.ecr.us-east-1.amazonaws.com/my-processor:1 is not supported "
        "by the mmlab emulator; only the Model Monitor analyzer runs"
    )
    assert "ProcessingEndTime" in final
    with pytest.raises(sm.exceptions.ResourceInUse, match="a job with this name already exists"):
        _job(sm, "fid-job")


def test_processing_job_without_input_data_fails_like_the_service(emu):
    sm = emu.client("sagemaker")
    _job(
        sm,
        "fid-noinput",
        ProcessingInputs=[
            {
                "InputName": "data",
                "S3Input": {
                    "S3Uri": "s3://lab-bucket/nothing-here/",
                    "LocalPath": "/opt/ml/processing/input/data",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
    )
    final = wait_job(sm, "fid-noinput")
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["FailureReason"].startswith(
        'ClientError: No S3 objects found under S3 URL "s3://lab-bucket/nothing-here/"'
    )
