"""The lab's model: an XGBoost churn classifier, packaged the way SageMaker's XGBoost expects.

``model.tar.gz`` holds one file, ``xgboost-model`` (the Booster written by ``save_model`` in
XGBoost's JSON format). Training is deterministic (fixed seed, one thread) and the tarball is
byte-deterministic (member mtime 0, uid/gid 0, no owner names, gzip mtime 0), so regenerating
``test_data/`` changes nothing.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # xgboost is imported lazily: `mmlab --help` must stay fast
    import xgboost

#: the file inside model.tar.gz that SageMaker's XGBoost container loads
MODEL_MEMBER = "xgboost-model"

#: the lab's hyperparameters (as in the Model Monitor introduction notebook), made deterministic
PARAMS: dict[str, object] = {
    "objective": "binary:logistic",
    # XGBoost >= 3 writes the intercept as "[x]", which the 1.7 container cannot parse and
    # replaces by its default 0.5: fixing it at 0.5 makes live and local predictions agree
    "base_score": 0.5,
    "max_depth": 5,
    "eta": 0.2,
    "gamma": 4,
    "min_child_weight": 6,
    "subsample": 0.8,
    "eval_metric": "auc",
    "tree_method": "hist",
    "seed": 0,
    "nthread": 1,
}
#: boosting rounds of the lab's training job
NUM_ROUND = 100

#: number of model inputs (the churn schema's features)
N_FEATURES = 69


class ModelError(ValueError):
    """A model file or input is unusable (the message names the file or line)."""


def _read_matrix(text: str, source: str) -> np.ndarray:
    """Parse CSV text into a float matrix, skipping a header line if there is one."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if lines:
        try:
            float(lines[0].split(",")[0])
        except ValueError:
            lines = lines[1:]  # a header line
    if not lines:
        raise ModelError(f"{source}: no data rows")
    rows = []
    width = None
    for i, line in enumerate(lines, start=1):
        cells = line.split(",")
        if width is None:
            width = len(cells)
        elif len(cells) != width:
            raise ModelError(f"{source}: row {i}: {len(cells)} columns, expected {width}")
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            raise ModelError(f"{source}: row {i}: non-numeric value in {line[:60]!r}") from None
    return np.asarray(rows, dtype=np.float64)


def _read_labelled(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a label-first CSV (with or without header): (features, labels)."""
    matrix = _read_matrix(Path(path).read_text(encoding="utf-8"), str(path))
    if matrix.shape[1] != N_FEATURES + 1:
        raise ModelError(
            f"{path}: {matrix.shape[1]} columns, expected {N_FEATURES + 1} (label first)"
        )
    return matrix[:, 1:], matrix[:, 0]


def train(train_csv: str | Path, *, num_round: int = NUM_ROUND) -> xgboost.Booster:
    """Train the churn classifier on a label-first CSV file (header optional).

    Args:
        train_csv: e.g. ``test_data/training-dataset-with-header.csv``.
        num_round: boosting rounds.

    Returns:
        The trained ``xgboost.Booster`` (same file, same model, every run).
    """
    import xgboost as xgb

    x, y = _read_labelled(Path(train_csv))
    dtrain = xgb.DMatrix(x, label=y)
    return xgb.train(dict(PARAMS), dtrain, num_boost_round=num_round)


def model_bytes(booster: xgboost.Booster) -> bytes:
    """The ``xgboost-model`` file's bytes (``save_model`` JSON format)."""
    return bytes(booster.save_raw(raw_format="json"))


def tarball_bytes(member: bytes, name: str = MODEL_MEMBER) -> bytes:
    """A byte-deterministic ``.tar.gz`` holding one file."""
    info = tarfile.TarInfo(name)
    info.size = len(member)
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(member))
    gz_buf = io.BytesIO()
    # filename="" and mtime=0 keep the gzip header free of names and dates
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz_buf, mtime=0, compresslevel=9) as gz:
        gz.write(tar_buf.getvalue())
    return gz_buf.getvalue()


def package(booster: xgboost.Booster, path: str | Path) -> Path:
    """Write ``model.tar.gz`` (one member, ``xgboost-model``) for SageMaker's XGBoost container.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tarball_bytes(model_bytes(booster)))
    return path


def load(model_tar_gz: str | Path | bytes) -> xgboost.Booster:
    """Load the Booster from a ``model.tar.gz`` (a path or its bytes).

    Raises:
        ModelError: the archive is unreadable or has no ``xgboost-model`` member.
    """
    import xgboost as xgb

    source = "<bytes>" if isinstance(model_tar_gz, bytes | bytearray) else str(model_tar_gz)
    data = model_tar_gz if isinstance(model_tar_gz, bytes | bytearray) else None
    if data is None:
        data = Path(model_tar_gz).read_bytes()
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            try:
                member = tar.getmember(MODEL_MEMBER)
            except KeyError:
                names = ", ".join(tar.getnames()) or "nothing"
                raise ModelError(
                    f"{source}: no {MODEL_MEMBER!r} in the archive (it holds {names})"
                ) from None
            raw = tar.extractfile(member).read()
    except tarfile.TarError as exc:
        raise ModelError(f"{source}: not a tar.gz archive ({exc})") from None
    booster = xgb.Booster()
    booster.load_model(bytearray(raw))
    return booster


def predict_csv(booster: xgboost.Booster, csv_text: str) -> list[float]:
    """Churn probabilities for CSV rows of the 69 inputs (no label), one per line.

    Raises:
        ModelError: a row is not 69 numbers (the message names the row).
    """
    import xgboost as xgb

    x = _read_matrix(csv_text, "<csv>")
    if x.shape[1] != N_FEATURES:
        raise ModelError(f"<csv>: {x.shape[1]} columns, expected {N_FEATURES} features")
    return [float(p) for p in booster.predict(xgb.DMatrix(x))]


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties).

    Raises:
        ValueError: only one class is present.
    """
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs both classes")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(scores.size, dtype=np.float64)
    # average rank of each run of equal scores
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], scores.size]
    avg = (starts + ends + 1) / 2.0  # ranks are 1-based: mean of start+1 .. end
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def evaluate_auc(booster: xgboost.Booster, test_csv: str | Path) -> float:
    """AUC of the booster on a label-first CSV file (e.g. ``test-dataset.csv``)."""
    import xgboost as xgb

    x, y = _read_labelled(Path(test_csv))
    return auc(y, booster.predict(xgb.DMatrix(x)))
