"""A deterministic generator of the lab's churn dataset (same files, schema and shapes as the lab).

The marginals are fitted to the introduction dataset (means, spreads and ranges of the numeric
columns; state, area-code and plan frequencies; churn ≈ 14 %), and churn depends on the inputs
the way it does in the real data: a high total bill (mostly day minutes), the international
plan (above all with many international minutes or few international calls), four or more
customer-service calls and no voicemail plan all raise it. No row of the real data is used.

The core (:func:`generate`) is pure: a seed in, ``int64`` matrices in file units out (see
:mod:`mmutils.data.files`); :func:`write` is the thin I/O shell.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmutils.data import files, schema

#: the seed of the committed test_data/
DEFAULT_SEED = 2020

#: (split, rows) in generation order: training, validation, test
SPLITS: tuple[tuple[str, int], ...] = (("train", 2333), ("validation", 666), ("test", 334))

#: target churn rate (real data: 483 of 3333 = 14.5 %)
CHURN_RATE = 0.145

# Relative state frequencies (fitted to the real training file's counts, STATES order).
_STATE_WEIGHTS = (
    34, 50, 44, 48, 23, 49, 50, 37, 44, 43, 36, 39, 33, 52, 38, 47, 51, 44, 41, 36, 48, 41, 43,
    63, 49, 49, 49, 40, 40, 48, 42, 47, 48, 52, 58, 48, 39, 52, 29, 45, 37, 43, 37, 51, 55, 54,
    56, 47, 50, 81, 53,
)  # fmt: skip
_AREA_CODE_P = (0.243, 0.502, 0.255)
_INTL_PLAN_P = 0.097
_VMAIL_PLAN_P = 0.277

# Normal fits (mean, std) of the numeric columns; values are clipped to schema.RANGES.
_NORMAL = {
    "Account Length": (101.1, 39.8),
    "Day Mins": (179.8, 54.5),
    "Day Calls": (100.4, 20.1),
    "Eve Mins": (201.0, 50.7),
    "Eve Calls": (100.1, 19.9),
    "Night Mins": (200.9, 50.6),
    "Night Calls": (100.1, 19.6),
    "Intl Mins": (10.24, 2.79),
}
_VMAIL_MESSAGES = (29.3, 7.6)  # only for voicemail-plan customers, at least 1
_INTL_CALLS_MEAN = 4.48  # Poisson
_CUSTSERV_MEAN = 1.56  # Poisson


@dataclass(frozen=True)
class Dataset:
    """The three label-first splits, ``int64`` matrices in file units (70 columns)."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    def traffic(self) -> list[list[str]]:
        """The traffic file's cells: test split without the label, first row corrupted."""
        cells = files.format_cells(self.test[:, 1:], schema.FEATURES)
        cells[0] = corrupt_row(cells[0])
        return cells


def _normal(rng: np.random.Generator, column: str, n: int) -> np.ndarray:
    """Draw a normal column, clipped to its valid range, in file units."""
    mean, std = _NORMAL[column]
    lo, hi = schema.RANGES[column]
    scale = 10 if schema.is_fractional(column) else 1
    x = np.rint(rng.normal(mean, std, n) * scale)
    return np.clip(x, round(lo * scale), round(hi * scale)).astype(np.int64)


def _one_hot(index: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros((index.size, width), dtype=np.int64)
    out[np.arange(index.size), index] = 1
    return out


def churn_logit(x: dict[str, np.ndarray]) -> np.ndarray:
    """The churn log-odds (without intercept) of customers given their inputs.

    Args:
        x: column -> values in natural units (minutes as floats); needs the numeric columns
            and ``Int'l Plan_yes`` / ``VMail Plan_yes``.
    """
    # the customer's total bill, with the tariffs of the original data ($/min)
    bill = (
        0.17 * x["Day Mins"]
        + 0.085 * x["Eve Mins"]
        + 0.045 * x["Night Mins"]
        + 0.27 * x["Intl Mins"]
    )
    intl = x["Int'l Plan_yes"]
    unhappy = x["CustServ Calls"] >= 4
    logit = 0.03 * (bill - 60.0) + 0.35 * np.maximum(bill - 70.0, 0.0)
    # many service calls drive churn, above all for light users (heavy ones already churn)
    logit += np.where(unhappy, np.where(x["Day Mins"] < 220, 3.5, 1.5), 0.0)
    logit += intl * (1.5 + 3.5 * (x["Intl Mins"] > 13.0) + 3.5 * (x["Intl Calls"] < 3))
    logit -= 1.0 * x["VMail Plan_yes"]
    return logit


def _calibrate(logit: np.ndarray, rate: float) -> float:
    """The intercept that makes the mean churn probability equal ``rate`` (bisection)."""
    lo, hi = -30.0, 30.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(logit + mid)))) < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def generate(seed: int = DEFAULT_SEED) -> Dataset:
    """Generate the dataset (all splits) for a seed; the same seed gives the same values.

    Args:
        seed: seed of ``numpy.random.default_rng``.

    Returns:
        The training, validation and test splits, label first, in file units.
    """
    rng = np.random.default_rng(seed)
    n = sum(rows for _, rows in SPLITS)
    cols: dict[str, np.ndarray] = {}
    cols["Account Length"] = _normal(rng, "Account Length", n)
    vmail_plan = (rng.random(n) < _VMAIL_PLAN_P).astype(np.int64)
    messages = np.clip(
        np.rint(rng.normal(*_VMAIL_MESSAGES, n)), 1, schema.RANGES["VMail Message"][1]
    )
    cols["VMail Message"] = np.where(vmail_plan == 1, messages, 0).astype(np.int64)
    for name in ("Day Mins", "Day Calls", "Eve Mins", "Eve Calls", "Night Mins", "Night Calls"):
        cols[name] = _normal(rng, name, n)
    calls = np.minimum(rng.poisson(_INTL_CALLS_MEAN, n), schema.RANGES["Intl Calls"][1])
    # no international call, no international minute
    cols["Intl Mins"] = np.where(calls > 0, _normal(rng, "Intl Mins", n), 0)
    cols["Intl Calls"] = calls.astype(np.int64)
    custserv = rng.poisson(_CUSTSERV_MEAN, n)
    cols["CustServ Calls"] = np.minimum(custserv, schema.RANGES["CustServ Calls"][1])

    weights = np.asarray(_STATE_WEIGHTS, dtype=np.float64)
    state = rng.choice(len(schema.STATES), size=n, p=weights / weights.sum())
    area = rng.choice(3, size=n, p=_AREA_CODE_P)
    intl_plan = (rng.random(n) < _INTL_PLAN_P).astype(np.int64)
    one_hot = np.hstack(
        [_one_hot(state, 51), _one_hot(area, 3), _one_hot(intl_plan, 2), _one_hot(vmail_plan, 2)]
    )

    natural = {k: v / 10 if schema.is_fractional(k) else v for k, v in cols.items()}
    natural["Int'l Plan_yes"] = intl_plan
    natural["VMail Plan_yes"] = vmail_plan
    logit = churn_logit(natural)
    logit += _calibrate(logit, CHURN_RATE)
    churn = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)

    numeric = np.column_stack([cols[c] for c in schema.NUMERIC]).astype(np.int64)
    values = np.hstack([churn[:, None], numeric, one_hot])
    cuts = np.cumsum([rows for _, rows in SPLITS])[:-1]
    train, validation, test = np.split(values, cuts)
    return Dataset(train=train, validation=validation, test=test)


def corrupt_row(cells: list[str]) -> list[str]:
    """Corrupt a traffic row the way the lab's file does (row 1 of test-dataset-input-cols.csv).

    ``VMail Message`` becomes ``0.1`` and every one-hot cell becomes non-integral: zeros are
    numbered ``0.2``, ``0.3``, … and ones ``1.1``, ``1.2``, … in column order, so a monitoring
    job reports ``data_type_check`` violations for these columns.

    Args:
        cells: the 69 input cells of one row.
    """
    if len(cells) != len(schema.FEATURES):
        raise ValueError(f"expected {len(schema.FEATURES)} cells, got {len(cells)}")
    out = list(cells)
    out[schema.FEATURES.index("VMail Message")] = "0.1"
    zeros, ones = 2, 1
    for j in range(len(schema.NUMERIC), len(schema.FEATURES)):
        if out[j] == "1":
            out[j] = f"1.{ones}"
            ones += 1
        else:
            out[j] = f"0.{zeros}"
            zeros += 1
    return out


def write(dataset: Dataset, out_dir: Path) -> list[Path]:
    """Write the lab's dataset files into ``out_dir`` (created if needed).

    Returns:
        The paths written, in :data:`mmutils.data.schema.FILES` order, then the upload file.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train = files.to_lines(files.format_cells(dataset.train, schema.COLUMNS))
    validation = files.to_lines(files.format_cells(dataset.validation, schema.COLUMNS))
    test = files.to_lines(files.format_cells(dataset.test, schema.COLUMNS))
    traffic = files.to_lines(dataset.traffic())
    written = [
        files.write_lines(out_dir / "training-dataset-with-header.csv", train, schema.COLUMNS),
        files.write_lines(out_dir / "training-dataset-without-header.csv", train),
        files.write_lines(out_dir / "validation.csv", validation),
        files.write_lines(out_dir / "test-dataset.csv", test),
        files.write_lines(out_dir / "test-dataset-input-cols.csv", traffic),
        files.write_lines(out_dir / "test_sample.csv", traffic[: schema.SAMPLE_ROWS]),
    ]
    upload = out_dir / schema.UPLOAD_TEST_FILE
    upload.write_bytes(schema.UPLOAD_TEST_CONTENT)
    written.append(upload)
    return written


def to_frame(values: np.ndarray, columns: tuple[str, ...] = schema.COLUMNS):
    """A pandas DataFrame of a file-units matrix (minutes as floats), for notebooks and tests."""
    import pandas as pd

    frame = pd.DataFrame(np.asarray(values), columns=list(columns))
    for c in schema.FRACTIONAL:
        if c in frame:
            frame[c] = frame[c] / 10
    return frame
