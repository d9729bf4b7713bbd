"""Record pre-processor and post-analytics processor contracts (spec §F.2, §F.3)."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from mmutils.analyzer import run_monitoring, scripts
from mmutils.analyzer.errors import AnalyzerError

RECORD = {
    "captureData": {
        "endpointInput": {
            "observedContentType": "text/csv",
            "mode": "INPUT",
            "data": "1,2,3",
            "encoding": "CSV",
        },
        "endpointOutput": {
            "observedContentType": "text/csv; charset=utf-8",
            "mode": "OUTPUT",
            "data": "0.5",
            "encoding": "CSV",
        },
    },
    "eventMetadata": {
        "eventId": "abc",
        "inferenceId": "7",
        "inferenceTime": "2024-01-01T00:00:01Z",
        "customAttributes": ["k=v"],
    },
    "eventVersion": "0",
}


def _script(tmp_path: Path, body: str, name: str = "script.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def test_captured_data_attributes():
    rec = scripts.CapturedData(RECORD)
    assert rec.endpoint_input.data == "1,2,3" and rec.endpoint_input.encoding == "CSV"
    assert rec.endpoint_output.observedContentType == "text/csv; charset=utf-8"
    assert rec.endpoint_output.mode == "OUTPUT"
    assert rec.batch_transform_output is None and rec.ground_truth is None
    assert rec.event_metadata.event_id == "abc"
    assert rec.event_metadata.event_time == "2024-01-01T00:00:01Z"
    assert rec.event_metadata.custom_attribute == ["k=v"]
    assert rec.event_version == "0"
    assert rec.event_dict is RECORD and rec.as_dict() == RECORD


def test_handler_with_and_without_logger(tmp_path):
    plain = scripts.RecordPreprocessor(
        _script(
            tmp_path,
            """
            def preprocess_handler(inference_record):
                out = inference_record.endpoint_output.data
                feats = inference_record.endpoint_input.data.split(",")
                return {"prediction": out, **{f"f{i}": v for i, v in enumerate(feats)}}
            """,
        )
    )
    assert plain(scripts.CapturedData(RECORD)) == [
        {"prediction": "0.5", "f0": "1", "f1": "2", "f2": "3"}
    ]
    with_logger = scripts.RecordPreprocessor(
        _script(
            tmp_path,
            """
            def preprocess_handler(inference_record, logger):
                logger.info("seen %s", inference_record.event_metadata.event_id)
                return []
            """,
            "logged.py",
        )
    )
    assert with_logger(scripts.CapturedData(RECORD)) == []


def test_missing_handler_and_exception_messages(tmp_path, capsys):
    with pytest.raises(AnalyzerError) as err:
        scripts.RecordPreprocessor(_script(tmp_path, "def handler(x):\n    return x\n"))
    assert str(err.value) == "Preprocess Handler not implemented correctly in customer script."
    failing = scripts.RecordPreprocessor(
        _script(
            tmp_path,
            """
            def preprocess_handler(inference_record):
                return {"x": inference_record.event_data}  # the lab's old attribute
            """,
            "old.py",
        )
    )
    with pytest.raises(AnalyzerError) as err:
        failing(scripts.CapturedData(RECORD))
    assert str(err.value) == (
        "There is an exception raised in preprocessor script. Please double check the "
        "preprocessor script."
    )
    assert "AttributeError" in capsys.readouterr().out  # the traceback is logged
    wrong = scripts.RecordPreprocessor(
        _script(tmp_path, "def preprocess_handler(r):\n    return 5\n", "wrong.py")
    )
    with pytest.raises(AnalyzerError, match="exception raised in preprocessor script"):
        wrong(scripts.CapturedData(RECORD))


def test_preprocessor_format_rule():
    for fmt in ("sagemakerCaptureJson", "sagemakerMergeJson", "csv", "json"):
        scripts.check_preprocessor_format(fmt)
    with pytest.raises(AnalyzerError) as err:
        scripts.check_preprocessor_format("parquet")
    assert str(err.value) == "Preprocessor script not supported for format parquet"


def test_rows_to_chunks_key_order_and_missing_keys():
    rows = [{"b": 1, "a": 0.5, "c": True}, {"a": None, "b": 2}]
    keys, chunks = scripts.rows_to_chunks(rows, chunk_rows=1)
    tables = list(chunks)
    assert keys == ["b", "a", "c"]
    assert [t.to_pylist() for t in tables] == [
        [{"b": "1", "a": "0.5", "c": "true"}],
        [{"b": "2", "a": None, "c": None}],
    ]
    _, chunks = scripts.rows_to_chunks([{"a": 1}, {"a": 2, "z": 3}])
    with pytest.raises(AnalyzerError, match=r"record 2 has keys \['z'\]"):
        list(chunks)


def test_postprocessor_contract(tmp_path):
    with pytest.raises(AnalyzerError) as err:
        scripts.PostAnalyticsProcessor(_script(tmp_path, "x = 1\n"))
    assert str(err.value) == (
        "PostProcess Handler not implemented correctly in customer analysis script."
    )
    marker = tmp_path / "called.txt"
    post = scripts.PostAnalyticsProcessor(
        _script(
            tmp_path,
            f"""
            import os
            def postprocess_handler():
                open({str(marker)!r}, "w").write(os.environ["MY_SETTING"])
            """,
            "post.py",
        )
    )
    assert not marker.exists()  # imported, not called
    with scripts.job_environment({"MY_SETTING": "hello"}):
        post()
    assert marker.read_text() == "hello" and "MY_SETTING" not in os.environ


def test_monitoring_with_preprocessor(tmp_path):
    """The pre-processor's dict keys become the columns; [] drops a record."""
    capture = tmp_path / "capture.jsonl"
    lines = []
    for i in range(6):
        rec = json.loads(json.dumps(RECORD))
        rec["captureData"]["endpointInput"]["data"] = f"{i},{i * 2},x"
        lines.append(json.dumps(rec))
    capture.write_text("\n".join(lines) + "\n")
    script = _script(
        tmp_path,
        """
        def preprocess_handler(inference_record):
            first, second, _ = inference_record.endpoint_input.data.split(",")
            if first == "0":
                return []
            return {"0".zfill(20): float(inference_record.endpoint_output.data),
                    "1".zfill(20): int(first), "2".zfill(20): int(second)}
        """,
    )
    constraints = {
        "features": [
            {"name": n, "inferred_type": t, "completeness": 1.0}
            for n, t in (("score", "Fractional"), ("a", "Integral"), ("b", "Integral"))
        ]
    }
    result = run_monitoring(
        capture, None, constraints, record_preprocessor_script=script, dataset_format="capture"
    )
    assert result.item_count == 5
    assert [f["name"] for f in result.statistics["features"]] == ["score", "a", "b"]
    a = result.statistics["features"][1]["numerical_statistics"]
    assert (a["min"], a["max"], a["sum"]) == (1.0, 5.0, 15.0)
    assert result.violations == []
