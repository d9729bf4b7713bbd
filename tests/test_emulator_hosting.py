"""InvokeEndpoint runs the model: the lab's XGBoost model gives xgboost's own probabilities;
model failures are the service's ModelError; other images use the registered handler."""

from __future__ import annotations

import json

import numpy as np
import pytest
from emulator_support import deploy, running, tiny_model

from mmutils.emulator.hosting import encode_predictions


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    env = {"MMLAB_INFERENCE_HANDLER": "emulator_support:echo_handler"}
    with running(tmp_path_factory.mktemp("hosting"), env) as emu:
        yield emu


@pytest.fixture(scope="module")
def lab_model(test_data_dir):
    path = test_data_dir / "model.tar.gz"
    if not path.exists():
        pytest.skip("test_data/model.tar.gz not generated yet")
    import tarfile

    import xgboost

    with tarfile.open(path) as tar:
        raw = tar.extractfile("xgboost-model").read()
    booster = xgboost.Booster()
    booster.load_model(bytearray(raw))
    return booster, path.read_bytes()


def test_lab_model_gives_xgboost_probabilities(emu, lab_model, test_data_dir):
    import xgboost

    booster, tarball = lab_model
    deploy(emu, "host-lab", tarball)
    rows = (test_data_dir / "test-dataset-input-cols.csv").read_text().splitlines()[:20]
    expected = booster.predict(xgboost.DMatrix(np.array([r.split(",") for r in rows], dtype=float)))
    rt = emu.client("sagemaker-runtime")
    one = rt.invoke_endpoint(EndpointName="host-lab", Body=rows[0], ContentType="text/csv")
    assert one["ContentType"] == "text/csv; charset=utf-8"
    assert one["InvokedProductionVariant"] == "AllTraffic"
    assert one["Body"].read().decode() == repr(float(np.float32(expected[0])))
    many = rt.invoke_endpoint(EndpointName="host-lab", Body="\n".join(rows), ContentType="text/csv")
    got = many["Body"].read().decode().split("\n")
    assert got == [repr(float(np.float32(p))) for p in expected]


def test_csv_answer_format():
    body, ctype = encode_predictions([0.036397725343704224, 0.5], None)
    assert (body, ctype) == (b"0.036397725343704224\n0.5", "text/csv; charset=utf-8")
    body, ctype = encode_predictions([0.25], "application/json")
    assert json.loads(body) == {"predictions": [{"score": 0.25}]} and ctype == "application/json"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"1,2,x,4", "text/csv", 415, "could not convert string to float: 'x'"),
        (
            b"1,2,3,4,5,6",
            "text/csv",
            400,
            "Feature size of text/csv inference data 6 is not "
            "consistent with feature size of trained model 4.",
        ),
        (b'{"a": 1}', "application/json", 415, "Content-type application/json is not supported."),
    ],
)
def test_model_errors_are_modelerror_424(emu, body, content_type, status, message):
    deploy(emu, f"host-err-{status}-{len(body)}", tiny_model(4)[1])
    rt = emu.client("sagemaker-runtime")
    with pytest.raises(rt.exceptions.ModelError) as info:
        rt.invoke_endpoint(
            EndpointName=f"host-err-{status}-{len(body)}", Body=body, ContentType=content_type
        )
    err = info.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert err["OriginalStatusCode"] == status
    assert message in err["OriginalMessage"]
    assert err["Error"]["Message"].startswith(
        f"Received client error ({status}) from primary with message"
    )
    assert err["LogStreamArn"].endswith(
        f"log-group:/aws/sagemaker/Endpoints/host-err-{status}-{len(body)}"
    )


def test_accept_types(emu):
    booster, tarball = tiny_model(4)
    deploy(emu, "host-accept", tarball)
    rt = emu.client("sagemaker-runtime")
    out = rt.invoke_endpoint(
        EndpointName="host-accept",
        Body=b"1,2,3,4",
        ContentType="text/csv",
        Accept="application/json",
    )
    import xgboost

    p = float(booster.predict(xgboost.DMatrix(np.array([[1.0, 2, 3, 4]])))[0])
    assert json.loads(out["Body"].read()) == {"predictions": [{"score": p}]}
    with pytest.raises(rt.exceptions.ModelError, match=r"\(406\).*Accept type image/png"):
        rt.invoke_endpoint(
            EndpointName="host-accept", Body=b"1,2,3,4", ContentType="text/csv", Accept="image/png"
        )


def test_other_images_use_the_registered_handler(emu):
    deploy(emu, "host-custom", tiny_model(4)[1], image="123.dkr.ecr.us-east-1.amazonaws.com/mine:1")
    rt = emu.client("sagemaker-runtime")
    out = rt.invoke_endpoint(EndpointName="host-custom", Body=b"abc", ContentType="text/plain")
    assert json.loads(out["Body"].read()) == {
        "endpoint": "host-custom",
        "bytes": 3,
        "content_type": "text/plain",
    }
    with pytest.raises(rt.exceptions.ModelError, match="the handler refuses 'fail'"):
        rt.invoke_endpoint(EndpointName="host-custom", Body=b"fail", ContentType="text/plain")


def test_no_handler_for_other_images_is_a_clear_model_error(tmp_path):
    with running(tmp_path) as emu:
        deploy(
            emu, "host-none", tiny_model(4)[1], image="123.dkr.ecr.us-east-1.amazonaws.com/mine:1"
        )
        rt = emu.client("sagemaker-runtime")
        with pytest.raises(rt.exceptions.ModelError) as info:
            rt.invoke_endpoint(EndpointName="host-none", Body=b"1", ContentType="text/csv")
    msg = info.value.response["OriginalMessage"]
    assert "cannot run image 123.dkr.ecr.us-east-1.amazonaws.com/mine:1" in msg
    assert "MMLAB_INFERENCE_HANDLER=module:function" in msg


def test_unknown_and_deleted_endpoints_are_400(emu):
    rt, sm = emu.client("sagemaker-runtime"), emu.client("sagemaker")
    with pytest.raises(
        rt.exceptions.ValidationError, match="Endpoint nope of account 123456789012 not found."
    ):
        rt.invoke_endpoint(EndpointName="nope", Body=b"1", ContentType="text/csv")
    deploy(emu, "host-gone", tiny_model(4)[1])
    rt.invoke_endpoint(EndpointName="host-gone", Body=b"1,2,3,4", ContentType="text/csv")
    sm.delete_endpoint(EndpointName="host-gone")
    with pytest.raises(rt.exceptions.ValidationError, match="Endpoint host-gone of account"):
        rt.invoke_endpoint(EndpointName="host-gone", Body=b"1,2,3,4", ContentType="text/csv")


def test_missing_model_artifact_is_a_server_model_error(emu):
    deploy(emu, "host-noart", tiny_model(4)[1])
    emu.client("s3").delete_object(Bucket="lab-bucket", Key="models/host-noart/model.tar.gz")
    rt = emu.client("sagemaker-runtime")
    with pytest.raises(rt.exceptions.ModelError) as info:
        rt.invoke_endpoint(EndpointName="host-noart", Body=b"1,2,3,4", ContentType="text/csv")
    assert info.value.response["OriginalStatusCode"] == 500
    assert "Received server error (500)" in info.value.response["Error"]["Message"]
