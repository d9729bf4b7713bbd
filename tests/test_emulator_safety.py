"""Safe by construction: in moto mode nothing leaves 127.0.0.1, whatever the environment says.

Every outgoing connection and name lookup of this process is recorded (and anything that is
not loopback is refused) while the SDK runs the calls that, unpatched, go to AWS: the explicit
STS endpoint, telemetry, default bucket, execution role.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import botocore.config
import pytest
import urllib3.connection

from mmutils.emulator import lifecycle
from mmutils.lab import sdk_patches, session

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _is_loopback(host) -> bool:
    host = str(host).strip("[]")
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Recorder:
    """Records every connect / getaddrinfo / urllib3 connection; refuses non-loopback ones."""

    def __init__(self) -> None:
        self.connects: list[tuple] = []
        self.lookups: list[str] = []
        self.http: list[tuple[str, int]] = []

    def install(self, mp: pytest.MonkeyPatch) -> None:
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_gai = socket.getaddrinfo
        real_create = socket.create_connection
        real_new_conn = urllib3.connection.HTTPConnection._new_conn

        def check(address):
            if isinstance(address, tuple):
                self.connects.append(address)
                if not _is_loopback(address[0]):
                    raise ConnectionRefusedError(f"test refused a connection to {address}")

        def connect(sock, address):
            check(address)
            return real_connect(sock, address)

        def connect_ex(sock, address):
            check(address)
            return real_connect_ex(sock, address)

        def getaddrinfo(host, *args, **kwargs):
            self.lookups.append(str(host))
            if not _is_loopback(host):
                raise socket.gaierror(f"test refused a lookup of {host}")
            return real_gai(host, *args, **kwargs)

        def create_connection(address, *args, **kwargs):
            check(address)
            return real_create(address, *args, **kwargs)

        def new_conn(conn):
            self.http.append((conn.host, conn.port))
            if not _is_loopback(conn.host):
                raise ConnectionRefusedError(f"test refused HTTP to {conn.host}")
            return real_new_conn(conn)

        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket.socket, "connect_ex", connect_ex)
        mp.setattr(socket, "getaddrinfo", getaddrinfo)
        mp.setattr(socket, "create_connection", create_connection)
        mp.setattr(urllib3.connection.HTTPConnection, "_new_conn", new_conn)

    def outside(self) -> list:
        """Every destination that was not loopback."""
        hosts = [a[0] for a in self.connects] + self.lookups + [h for h, _ in self.http]
        return [h for h in hosts if not _is_loopback(h)]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A process environment that would reach a real account if anything leaked."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MMLAB_HOME", str(tmp_path_factory.mktemp("mmlab-home")))
        mp.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7REALKEY")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "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")
        mp.setenv("AWS_PROFILE", "prod")
        mp.setenv("HTTP_PROXY", "http://10.255.255.1:3128")
        mp.setenv("HTTPS_PROXY", "http://10.255.255.1:3128")
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        mp.delenv("NO_PROXY", raising=False)
        mp.delenv("no_proxy", raising=False)
        recorder = Recorder()
        recorder.install(mp)
        aws = session.connect("moto")
        yield aws, recorder
        sdk_patches.revert()
        lifecycle.stop(timeout=5)


def test_connect_ignored_the_real_looking_environment(hostile):
    aws, recorder = hostile
    creds = aws.boto_session.get_credentials()
    assert not creds.access_key.startswith("AKIAIOSFODNN7REAL")
    assert aws.boto_session.profile_name == "default"  # not "prod"
    assert aws.role == "arn:aws:iam::123456789012:role/SageMakerRole"
    assert recorder.connects, "the recorder saw no connection at all"
    assert recorder.outside() == []


def test_sdk_calls_stay_on_loopback(hostile):
    import sagemaker
    from sagemaker import image_uris
    from sagemaker.model_monitor import DefaultModelMonitor
    from sagemaker.s3 import S3Downloader, S3Uploader

    aws, recorder = hostile
    before = len(recorder.connects)
    sess = aws.sagemaker_session
    assert sess.default_bucket() == "sagemaker-us-east-1-123456789012"
    assert sagemaker.get_execution_role(sess) == aws.role
    assert sess.account_id() == "123456789012"
    sts = aws.client("sts", endpoint_url="https://sts.us-east-1.amazonaws.com")
    assert sts.get_caller_identity()["Account"] == "123456789012"
    uri = S3Uploader.upload_string_as_file_body(
        "a,b\n1,2\n", f"s3://{aws.bucket}/safety/x.csv", sagemaker_session=sess
    )
    assert S3Downloader.list(f"s3://{aws.bucket}/safety", sagemaker_session=sess) == [uri]
    assert S3Downloader.read_file(uri, sagemaker_session=sess) == "a,b\n1,2\n"
    assert image_uris.retrieve("model-monitor", "us-east-1").startswith("156813124566.dkr.ecr")
    monitor = DefaultModelMonitor(role=aws.role, sagemaker_session=sess)
    assert monitor.image_uri.endswith("sagemaker-model-monitor-analyzer")
    assert aws.emulator.clock()["mode"] in ("real", "flowing", "frozen")  # the admin client, too
    assert len(recorder.connects) > before
    assert recorder.outside() == []


def test_plain_sdk_and_boto3_calls_after_connect_stay_on_loopback(hostile):
    import sagemaker
    from sagemaker.model_monitor import DefaultModelMonitor

    aws, recorder = hostile
    assert sagemaker.get_execution_role() == aws.role
    plain = sagemaker.Session()
    assert plain.default_bucket() == "sagemaker-us-east-1-123456789012"
    assert plain.account_id() == "123456789012"
    boto3.client("s3").put_object(Bucket=aws.bucket, Key="safety/plain.txt", Body=b"plain")
    listed = boto3.client("s3").list_objects_v2(Bucket=aws.bucket, Prefix="safety/plain")
    assert [o["Key"] for o in listed["Contents"]] == ["safety/plain.txt"]
    # a brand-new boto3.Session (environment-driven) under the SDK: STS is the trap
    fresh = sagemaker.Session(boto_session=boto3.Session())
    assert fresh.account_id() == "123456789012"
    assert fresh.default_bucket() == "sagemaker-us-east-1-123456789012"
    DefaultModelMonitor(role=sagemaker.get_execution_role())
    assert recorder.outside() == []


def test_telemetry_is_never_sent(hostile):
    from sagemaker.feature_store.feature_group import FeatureGroup

    aws, recorder = hostile
    # FeatureGroup.describe is wrapped by the SDK's telemetry emitter (a GET to
    # sm-pysdk-t-<region>.s3.<region>.amazonaws.com); moto answers, the telemetry must not go
    group = FeatureGroup(name="nope", sagemaker_session=aws.sagemaker_session)
    with pytest.raises(Exception):  # noqa: B017 - any answer from the emulator is fine here
        group.describe()
    assert not [h for h in recorder.lookups if "amazonaws" in h]
    assert recorder.outside() == []


def test_a_plain_client_aimed_at_aws_is_answered_by_the_emulator(hostile):
    """After connect(), the process's HTTPS_PROXY is the emulator's loopback proxy: a client
    that was never told about the emulator still reaches only 127.0.0.1."""
    _, recorder = hostile
    session = boto3.Session(
        aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1"
    )
    client = session.client(
        "sts",
        endpoint_url="https://sts.us-east-1.amazonaws.com",
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )
    assert client.get_caller_identity()["Account"] == "123456789012"
    assert os.environ["HTTPS_PROXY"].startswith("http://127.0.0.1:")
    assert recorder.outside() == []


def test_the_recorder_would_catch_a_leak(hostile):
    """Negative control: a client with its own (non-loopback) proxy is seen and refused."""
    _, recorder = hostile
    session = boto3.Session(
        aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1"
    )
    client = session.client(
        "sts",
        endpoint_url="https://sts.us-east-1.amazonaws.com",
        config=botocore.config.Config(
            retries={"max_attempts": 1}, proxies={"https": "http://10.255.255.1:3128"}
        ),
    )
    with pytest.raises(Exception):  # noqa: B017 - the refused connection
        client.get_caller_identity()
    leaked = recorder.outside()
    # straight to AWS, or through the (hostile) proxy of the environment: either is caught
    assert leaked and set(leaked) <= {"sts.us-east-1.amazonaws.com", "10.255.255.1"}
    recorder.lookups = [h for h in recorder.lookups if _is_loopback(h)]
    recorder.connects = [a for a in recorder.connects if _is_loopback(a[0])]
    recorder.http = [h for h in recorder.http if _is_loopback(h[0])]


def _listening_addresses(pid: int) -> list[str]:
    """Local addresses of the TCP sockets ``pid`` listens on (from /proc/net/tcp{,6})."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            local, state, inode = parts[1], parts[3], parts[9]
            if state == "0A" and inode in inodes:  # 0A = LISTEN
                hex_ip = local.split(":")[0]
                if len(hex_ip) == 8:
                    found.append(socket.inet_ntop(socket.AF_INET, bytes.fromhex(hex_ip)[::-1]))
                else:
                    raw = bytes.fromhex(hex_ip)
                    raw = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.append(socket.inet_ntop(socket.AF_INET6, raw))
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_server_listens_on_loopback_only(hostile):
    info = lifecycle.status()
    assert info is not None
    addresses = _listening_addresses(info.pid)
    # the emulator's port and its HTTPS proxy's, both on loopback
    assert addresses == ["127.0.0.1", "127.0.0.1"]


def test_server_refuses_a_public_host():
    out = subprocess.run(
        [sys.executable, "-m", "mmutils.emulator.server", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.returncode != 0
    assert "0.0.0.0" in out.stderr and "127.0.0.1" in out.stderr
    assert "listening" not in out.stdout


def test_emulator_session_rejects_a_public_endpoint():
    with pytest.raises(ValueError, match="loopback"):
        session.EmulatorBotoSession("https://sagemaker.us-east-1.amazonaws.com")
