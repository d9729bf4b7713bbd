"""mmutils.connect() (mmutils.lab.session): the lab's sessions for the emulator and for AWS."""

from __future__ import annotations

import os

import boto3
import pytest
from sdk_sleeps import recorded_sleeps

import mmutils
from mmutils.emulator import lifecycle
from mmutils.emulator.admin_client import EmulatorError
from mmutils.lab import sdk_patches, session


@pytest.fixture(scope="class")
def aws(tmp_path_factory):
    """A session connected to a private emulator; the process changes are undone afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MMLAB_HOME", str(tmp_path_factory.mktemp("mmlab-home")))
        yield mmutils.connect("moto")
        sdk_patches.revert()
        lifecycle.stop(timeout=5)


class TestMoto:
    """Tests sharing one connected session (the process changes last for the class)."""

    def test_moto_lab_is_the_emulated_account(self, aws):
        info = lifecycle.status()
        assert aws.backend == "moto" and aws.region == "us-east-1"
        assert aws.endpoint_url == info.endpoint_url
        assert aws.role == "arn:aws:iam::123456789012:role/SageMakerRole"
        assert aws.bucket == "sagemaker-us-east-1-123456789012"
        assert aws.client("s3").meta.endpoint_url == info.endpoint_url
        # an explicit endpoint_url cannot escape the emulator
        sts = aws.client("sts", endpoint_url="https://sts.us-east-1.amazonaws.com")
        assert sts.meta.endpoint_url == info.endpoint_url
        identity = sts.get_caller_identity()
        assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/SageMakerRole/mmlab"
        assert aws.sagemaker_session.boto_session is aws.boto_session
        assert aws.emulator.health()["pid"] == info.pid

    def test_s3_round_trip_with_client_and_resource(self, aws):
        s3 = aws.client("s3")
        s3.put_object(Bucket=aws.bucket, Key="connect/hello.txt", Body=b"hello emulator")
        body = aws.resource("s3").Object(aws.bucket, "connect/hello.txt").get()["Body"].read()
        assert body == b"hello emulator"
        keys = [
            o["Key"] for o in s3.list_objects_v2(Bucket=aws.bucket, Prefix="connect/")["Contents"]
        ]
        assert keys == ["connect/hello.txt"]

    def test_plain_sdk_calls_use_the_emulator(self, aws):
        import sagemaker

        assert os.environ["AWS_ENDPOINT_URL"] == aws.endpoint_url
        assert "AWS_PROFILE" not in os.environ
        assert boto3.DEFAULT_SESSION is aws.boto_session
        assert sagemaker.get_execution_role() == aws.role
        assert sagemaker.Session().default_bucket() == aws.bucket

    def test_connect_again_attaches_to_the_same_emulator(self, aws):
        pid = lifecycle.status().pid
        again = mmutils.connect("moto", start=False)
        assert again.endpoint_url == aws.endpoint_url
        assert lifecycle.status().pid == pid
        assert again.role == aws.role
        assert again.client("s3").get_object(Bucket=aws.bucket, Key="connect/hello.txt")

    def test_deploy_wait_returns_quickly(self, aws, test_data_dir, monkeypatch):
        """deploy(wait=True) polls the emulator every 0.2 s instead of sleeping 30 s first."""
        from sagemaker import image_uris
        from sagemaker.model import Model

        sess = aws.sagemaker_session
        model_data = sess.upload_data(
            str(test_data_dir / "model.tar.gz"), bucket=aws.bucket, key_prefix="connect/model"
        )
        model = Model(
            image_uri=image_uris.retrieve("xgboost", aws.region, "1.7-1"),
            model_data=model_data,
            role=aws.role,
            sagemaker_session=sess,
        )
        with recorded_sleeps(monkeypatch) as sleeps:
            model.deploy(
                initial_instance_count=1,
                instance_type="ml.m5.xlarge",
                endpoint_name="connect-fast-deploy",
                wait=True,
            )
        assert max(sleeps, default=0) <= 1, f"the SDK slept {sleeps} (its own default is 30 s)"
        desc = sess.sagemaker_client.describe_endpoint(EndpointName="connect-fast-deploy")
        assert desc["EndpointStatus"] == "InService"
        sess.delete_endpoint("connect-fast-deploy")

    def test_processing_waits_are_fast(self, aws, monkeypatch):
        """The SDK sleeps 5 s (wait) or 10 s (logs) before its first look; here 0.2 s."""
        from sagemaker.exceptions import UnexpectedStatusException

        sess = aws.sagemaker_session
        sess.sagemaker_client.create_processing_job(
            ProcessingJobName="connect-fast-job",
            ProcessingResources={
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.xlarge",
                    "VolumeSizeInGB": 1,
                }
            },
            AppSpecification={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/other:1"},
            RoleArn=aws.role,
        )
        for wait in (
            lambda: sess.wait_for_processing_job("connect-fast-job"),
            lambda: sess.logs_for_processing_job("connect-fast-job", wait=True),
        ):
            with (
                recorded_sleeps(monkeypatch) as sleeps,
                pytest.raises(UnexpectedStatusException, match="not supported by the mmlab"),
            ):
                wait()
            assert max(sleeps, default=0) <= 1, f"the SDK slept {sleeps}"

    def test_baseline_job_with_logs_returns_when_the_job_ends(self, aws, capsys, monkeypatch):
        from sagemaker.model_monitor import DatasetFormat, DefaultModelMonitor

        sess = aws.sagemaker_session
        aws.client("s3").put_object(
            Bucket=aws.bucket, Key="connect/baseline.csv", Body=b"a,b\n1,x\n2,y\n3,x\n"
        )
        monitor = DefaultModelMonitor(role=aws.role, sagemaker_session=sess)
        with recorded_sleeps(monkeypatch) as sleeps:
            monitor.suggest_baseline(
                baseline_dataset=f"s3://{aws.bucket}/connect/baseline.csv",
                dataset_format=DatasetFormat.csv(header=True),
                output_s3_uri=f"s3://{aws.bucket}/connect/baseline-results",
                wait=True,
                logs=True,
            )
        # the SDK's own polls are 5 s (wait) and 10 s / 30 s (logs)
        assert max(sleeps, default=0) <= 1, f"the SDK slept {sleeps}"
        # logs=True printed the job's log from the emulated CloudWatch Logs
        assert (
            "Completed: Job completed successfully with no violations." in capsys.readouterr().out
        )
        desc = sess.sagemaker_client.describe_processing_job(
            ProcessingJobName=monitor.latest_baselining_job_name
        )
        assert desc["ProcessingJobStatus"] == "Completed"
        stats = monitor.baseline_statistics().body_dict
        assert stats["dataset"]["item_count"] == 3
        assert [f["name"] for f in stats["features"]] == ["a", "b"]


def test_moto_without_a_running_emulator_and_start_false_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("MMLAB_HOME", str(tmp_path))
    with pytest.raises(EmulatorError, match="mmlab emulator start"):
        session.connect("moto", start=False)


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown backend 'aws'"):
        session.connect("aws")


def test_live_after_moto_undoes_the_process_changes(tmp_path, monkeypatch):
    """Live mode uses the ordinary credential chain: moto's environment and patches are undone."""
    import sagemaker.session as sm_session

    monkeypatch.setenv("MMLAB_HOME", str(tmp_path / "home"))
    config = tmp_path / "aws-config"
    config.write_text("[profile workshop]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "workshop")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("SAGEMAKER_ROLE_ARN", "arn:aws:iam::111122223333:role/LabRole")
    original_sts = sm_session.sts_regional_endpoint
    default_before = boto3.DEFAULT_SESSION
    try:
        session.connect("moto")
        assert os.environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert sm_session.sts_regional_endpoint("us-east-1").startswith("http://127.0.0.1:")
        assert "AWS_PROFILE" not in os.environ
        live = session.connect("live", region="eu-west-1")
    finally:
        sdk_patches.revert()
        lifecycle.stop(timeout=5)
    assert live.backend == "live" and live.endpoint_url is None and live.emulator is None
    assert live.role == "arn:aws:iam::111122223333:role/LabRole"
    assert "AWS_ENDPOINT_URL" not in os.environ
    assert os.environ["AWS_PROFILE"] == "workshop"  # the user's own profile is back
    assert live.boto_session.profile_name == "workshop"
    assert boto3.DEFAULT_SESSION is default_before
    assert sm_session.sts_regional_endpoint is original_sts
    assert live.client("s3").meta.endpoint_url == "https://s3.eu-west-1.amazonaws.com"


def test_boto_session_factory(tmp_path, monkeypatch):
    """The plain session factory: moto needs a running emulator, live is boto3's own chain."""
    monkeypatch.setenv("MMLAB_HOME", str(tmp_path / "none"))
    with pytest.raises(EmulatorError, match="mmlab emulator start"):
        session.boto_session("moto")
    with pytest.raises(ValueError, match="'moto' or 'live'"):
        session.boto_session("azure")
    live = session.boto_session("live", "eu-west-1")
    assert not isinstance(live, session.EmulatorBotoSession) and live.region_name == "eu-west-1"


def test_sdk_patches_name_the_sdk_version_and_the_missing_name(monkeypatch):
    """An SDK release without a name mmlab wraps fails before anything in the process changes."""
    import sagemaker
    import sagemaker.session as sm_session

    monkeypatch.delattr(sm_session.Session, "wait_for_processing_job")
    patches = sdk_patches.ProcessPatches()
    default_before = boto3.DEFAULT_SESSION
    with pytest.raises(RuntimeError) as info:
        patches.apply("http://127.0.0.1:1", {"MMLAB_PATCH_PROBE": "1"}, object())
    message = str(info.value)
    assert f"sagemaker {sagemaker.__version__} has no " in message
    assert "sagemaker.session.Session.wait_for_processing_job; mmlab patches it to poll" in message
    assert "MMLAB_PATCH_PROBE" not in os.environ and boto3.DEFAULT_SESSION is default_before
    assert sm_session.Session.wait_for_endpoint.__module__ == "sagemaker.session"
