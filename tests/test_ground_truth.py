"""Ground-truth records, their S3 keys, and the lab's labelled-traffic helpers (issue 13)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mmutils.analyzer.model_quality.merge import read_ground_truth
from mmutils.formats import ground_truth as fmt
from mmutils.lab import ground_truth


def test_lines_are_what_the_merge_reads(tmp_path):
    text = fmt.lines(["a", "b"], [1, 0])
    assert json.loads(text.splitlines()[0]) == {
        "groundTruthData": {"data": "1", "encoding": "CSV"},
        "eventMetadata": {"eventId": "a"},
        "eventVersion": "0",
    }
    path = tmp_path / "0100.jsonl"
    path.write_text(text)
    labels = read_ground_truth(path)
    assert labels.ids.tolist() == ["a", "b"] and labels.data == ["1", "0"]
    with pytest.raises(ValueError, match="2 inference ids but 1 labels"):
        fmt.lines(["a", "b"], [1])
    with pytest.raises(ValueError, match="needs the InferenceId"):
        fmt.record("", 1)


def test_file_key_is_the_collection_hour_in_utc():
    when = dt.datetime(2026, 1, 5, 11, 29, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert fmt.file_key("gt/prefix/", when) == "gt/prefix/2026/01/05/10/2910.jsonl"


def test_baseline_csv_and_label_shift():
    assert ground_truth.baseline_csv([0.9, 0.5, 0.1], [1, 1, 0]) == (
        "probability,prediction,label\n0.9,1,1\n0.5,0,1\n0.1,0,0\n"
    )
    labels = [0, 1] * 500
    shifted = ground_truth.shift_labels(labels, 0.3, seed=7)
    assert shifted == ground_truth.shift_labels(labels, 0.3, seed=7)
    changed = sum(a != b for a, b in zip(labels, shifted, strict=True))
    assert 250 <= changed <= 350
    assert ground_truth.shift_labels(labels, 0.0, seed=7) == labels
    with pytest.raises(ValueError, match="within"):
        ground_truth.shift_labels(labels, 1.5, seed=0)


def test_read_labelled_csv_names_a_bad_line(tmp_path, test_data_dir):
    labels, rows = ground_truth.read_labelled_csv(test_data_dir / "test-dataset.csv")
    assert len(labels) == len(rows) == 334 and set(labels) <= {0, 1}
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\nyes,4,5\n")
    with pytest.raises(ValueError, match=r"bad.csv line 2: expected 'label,feature,"):
        ground_truth.read_labelled_csv(bad)


def test_send_with_ids_pairs_answers_and_ids():
    seen = []

    class FakePredictor:  # the SDK Predictor's predict(data, inference_id=...) signature
        def predict(self, row, inference_id=None):
            seen.append((row, inference_id))
            return f"0.{len(seen)}".encode()

    probs, result = ground_truth.send_with_ids(
        FakePredictor(), ["r1", "r2"], ["i1", "i2"], progress=False
    )
    assert probs == [0.1, 0.2] and seen == [("r1", "i1"), ("r2", "i2")] and result.sent == 2
    with pytest.raises(ValueError, match="2 rows but 1 inference ids"):
        ground_truth.send_with_ids(FakePredictor(), ["r1", "r2"], ["i1"], progress=False)
