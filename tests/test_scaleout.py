"""Scale-out on Dask: a local cluster of 2 worker processes gives the local run's bytes (issue 14)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from mmutils.analyzer import run_monitoring, suggest_baseline  # noqa: E402
from mmutils.analyzer.errors import AnalyzerError  # noqa: E402
from mmutils.scaleout import list_capture_sources, run_monitoring_on_dask  # noqa: E402

OUTPUTS = ("statistics.json", "constraints.json", "constraint_violations.json")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _record(i: int, features: str) -> str:
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": features,
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": f"0.{(i * 7919) % 10000:04d}",
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {"eventId": str(i), "inferenceTime": "2024-01-01T00:00:00Z"},
            "eventVersion": "0",
        }
    )


@pytest.fixture(scope="module")
def lab(tmp_path_factory, test_data_dir):
    """The lab's validation rows as capture files in three hour folders, and a baseline."""
    root = tmp_path_factory.mktemp("lab")
    rows = (test_data_dir / "validation.csv").read_text().splitlines()
    capture = root / "capture"
    i = 0
    for hour in ("00", "01", "02"):
        folder = capture / "ep" / "AllTraffic" / "2024" / "01" / "01" / hour
        folder.mkdir(parents=True)
        for f in range(4):
            lines = []
            for _ in range(83):
                lines.append(_record(i, rows[i % len(rows)].split(",", 1)[1]))
                i += 1
            (folder / f"{f:02d}-00-000-{i:06d}.jsonl").write_text("\n".join(lines) + "\n")
    base = root / "baseline"
    suggest_baseline(test_data_dir / "training-dataset-with-header.csv", output_dir=base)
    return capture, base / "statistics.json", base / "constraints.json"


def _bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


def test_local_paths_identical_to_the_local_run(client, lab, tmp_path):
    capture, stats, constraints = lab
    window = {"start_time": "2024-01-01T01:00:00Z", "end_time": "2024-01-01T03:00:00Z"}
    local = run_monitoring(capture, stats, constraints, output_dir=tmp_path / "local", **window)
    dask = run_monitoring_on_dask(
        client, capture, stats, constraints, output_dir=tmp_path / "dask", **window
    )
    assert dask.item_count == local.item_count == 2 * 4 * 83  # two of the three hours
    assert _bytes(tmp_path / "dask") == _bytes(tmp_path / "local")


def test_s3_through_a_local_endpoint_identical_to_the_local_run(client, lab, tmp_path, monkeypatch):
    boto3 = pytest.importorskip("boto3")
    server_mod = pytest.importorskip("moto.server")
    capture, stats, constraints = lab
    # the workers (other processes) read these from the environment they inherited at start,
    # so the endpoint and the test credentials go as arguments / to every process alike
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client.run(_set_test_credentials)
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        s3.create_bucket(Bucket="lab")
        for path in sorted(capture.rglob("*.jsonl")):
            key = "cap/" + path.relative_to(capture).as_posix()
            s3.upload_file(str(path), "lab", key)
        s3.put_object(Bucket="lab", Key="cap-other/x.jsonl", Body=b"not json\n")  # not under cap/
        sources = list_capture_sources("s3://lab/cap", endpoint_url=url)
        assert len(sources) == 12 and sources == sorted(sources)
        dask = run_monitoring_on_dask(
            client,
            "s3://lab/cap",
            stats,
            constraints,
            output_dir=tmp_path / "dask",
            endpoint_url=url,
        )
        local = run_monitoring(capture, stats, constraints, output_dir=tmp_path / "local")
        assert dask.item_count == local.item_count == 12 * 83
        assert _bytes(tmp_path / "dask") == _bytes(tmp_path / "local")

        # a malformed line: the error names the object and the line, like a local run
        bad = sorted(capture.rglob("*.jsonl"))[5]
        lines = bad.read_text().splitlines()
        lines[6] = '{"captureData": '
        key = "cap/" + bad.relative_to(capture).as_posix()
        s3.put_object(Bucket="lab", Key=key, Body=("\n".join(lines) + "\n").encode())
        with pytest.raises(AnalyzerError) as err:
            run_monitoring_on_dask(client, "s3://lab/cap", stats, constraints, endpoint_url=url)
        assert f"lab/{key}" in str(err.value) and "line 7" in str(err.value)

        # a scanned object one column wider than the window: re-read from a local copy of
        # it, the error names the object and the line, like a local run
        s3.upload_file(str(bad), "lab", key)
        records = [json.loads(line) for line in bad.read_text().splitlines()]
        for rec in records:
            rec["captureData"]["endpointInput"]["data"] += ",1"
        wide = "".join(json.dumps(r) + "\n" for r in records).encode()
        s3.put_object(Bucket="lab", Key=key, Body=wide)
        with pytest.raises(AnalyzerError) as err:
            run_monitoring_on_dask(client, "s3://lab/cap", stats, constraints, endpoint_url=url)
        assert str(err.value).startswith("Inconsistent column count in ")
        assert str(err.value).endswith(
            f"lab/{key} line 1: the record has 71 columns, the first record of the window has 70"
        )
    finally:
        server.stop()


def _set_test_credentials() -> None:
    import os

    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )


def test_preprocessor_is_refused(client, lab, tmp_path):
    capture, stats, constraints = lab
    script = tmp_path / "p.py"
    script.write_text("def preprocess_handler(r):\n    return r\n")
    with pytest.raises(ValueError, match="pre-processor"):
        run_monitoring_on_dask(
            client, capture, stats, constraints, record_preprocessor_script=str(script)
        )


def test_copy_of_a_tree_is_read_in_the_same_order(client, lab, tmp_path):
    capture, _, _ = lab
    copy = tmp_path / "copy"
    shutil.copytree(capture, copy)
    got = [Path(p).relative_to(copy) for p in list_capture_sources(copy)]
    assert got == sorted(p.relative_to(capture) for p in capture.rglob("*.jsonl"))


def test_workers_cut_eligible_files_with_the_compiled_scan(client, lab):
    # the map step on a worker gives the scanned string columns, as a local run's threads do
    pytest.importorskip("numba")
    from mmutils.analyzer import capture_reader
    from mmutils.scaleout import load_capture_file

    capture, _, _ = lab
    path = str(sorted(capture.rglob("*.jsonl"))[0])
    parts = capture_reader.capture_parts(None, "START")
    source, batches, error = client.submit(load_capture_file, path, parts=parts).result()
    assert (source, error) == (path, None)
    assert capture_reader.scanned_width(batches) == 70  # the prediction + 69 features
    _, batches, _ = client.submit(load_capture_file, path).result()  # no parts: pyarrow
    assert capture_reader.scanned_width(batches) is None and sum(len(b) for b in batches) == 83


def test_a_scanned_file_of_another_width_fails_like_a_local_run(client, lab, tmp_path):
    capture, stats, constraints = lab
    copy = tmp_path / "capture"
    shutil.copytree(capture, copy)
    wide = sorted(copy.rglob("*.jsonl"))[7]
    records = [json.loads(line) for line in wide.read_text().splitlines()]
    for rec in records:  # every record one column wider: the file itself is still eligible
        rec["captureData"]["endpointInput"]["data"] += ",1"
    wide.write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(AnalyzerError) as local:
        run_monitoring(copy, stats, constraints, workers=2)
    with pytest.raises(AnalyzerError) as dask:
        run_monitoring_on_dask(client, copy, stats, constraints)
    expected = "line 1: the record has 71 columns, the first record of the window has 70"
    assert str(local.value) == f"Inconsistent column count in {wide} {expected}"
    assert str(dask.value).startswith("Inconsistent column count in ")
    assert str(dask.value).endswith(f"{wide.name} {expected}")
