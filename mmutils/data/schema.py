"""The churn dataset's schema: column names (original order and spelling), types and groups.

The lab's data is the one-hot encoded customer-churn table of the Model Monitor introduction:
``Churn`` (the label) followed by 69 inputs. Eleven inputs are numeric, the rest are four
one-hot groups (State, Area Code, Int'l Plan, VMail Plan) whose columns sum to exactly 1.
"""

from __future__ import annotations

#: the label column, first in every label-first file
LABEL = "Churn"

#: numeric input columns, in file order
NUMERIC: tuple[str, ...] = (
    "Account Length",
    "VMail Message",
    "Day Mins",
    "Day Calls",
    "Eve Mins",
    "Eve Calls",
    "Night Mins",
    "Night Calls",
    "Intl Mins",
    "Intl Calls",
    "CustServ Calls",
)

#: numeric columns written with exactly one decimal (deequ infers them as Fractional)
FRACTIONAL: tuple[str, ...] = ("Day Mins", "Eve Mins", "Night Mins", "Intl Mins")

#: the 51 states (50 + DC) in the file's (alphabetical-by-code) order
STATES: tuple[str, ...] = (
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL",
    "IN", "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE",
    "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VA", "VT", "WA", "WI", "WV", "WY",
)  # fmt: skip

#: one-hot groups: group name -> its columns, in file order
ONE_HOT: dict[str, tuple[str, ...]] = {
    "State": tuple(f"State_{s}" for s in STATES),
    "Area Code": ("Area Code_408", "Area Code_415", "Area Code_510"),
    "Int'l Plan": ("Int'l Plan_no", "Int'l Plan_yes"),
    "VMail Plan": ("VMail Plan_no", "VMail Plan_yes"),
}

#: every one-hot column, in file order
ONE_HOT_COLUMNS: tuple[str, ...] = tuple(c for cols in ONE_HOT.values() for c in cols)

#: the 69 model inputs, in file order (the traffic files hold exactly these)
FEATURES: tuple[str, ...] = NUMERIC + ONE_HOT_COLUMNS

#: all 70 columns of a label-first file (the training header)
COLUMNS: tuple[str, ...] = (LABEL, *FEATURES)

#: the integral columns (everything that is not Fractional)
INTEGRAL: tuple[str, ...] = tuple(c for c in COLUMNS if c not in FRACTIONAL)

#: valid value range per numeric column: the real data's min..max over its three files
RANGES: dict[str, tuple[float, float]] = {
    "Account Length": (1, 243),
    "VMail Message": (0, 51),
    "Day Mins": (0.0, 350.8),
    "Day Calls": (0, 165),
    "Eve Mins": (0.0, 363.7),
    "Eve Calls": (0, 170),
    "Night Mins": (23.2, 395.0),
    "Night Calls": (33, 175),
    "Intl Mins": (0.0, 20.0),
    "Intl Calls": (0, 20),
    "CustServ Calls": (0, 9),
}

#: the dataset's files: name -> (has header, has label, row count)
FILES: dict[str, tuple[bool, bool, int]] = {
    "training-dataset-with-header.csv": (True, True, 2333),
    "training-dataset-without-header.csv": (False, True, 2333),
    "validation.csv": (False, True, 666),
    "test-dataset.csv": (False, True, 334),
    "test-dataset-input-cols.csv": (False, False, 334),
    "test_sample.csv": (False, False, 120),
}

#: the lab's S3 smoke-test file and its exact content (9 bytes, no newline)
UPLOAD_TEST_FILE = "upload-test-file.txt"
UPLOAD_TEST_CONTENT = b"test file"

#: the packaged model written beside the dataset
MODEL_FILE = "model.tar.gz"

#: rows of the traffic file copied to test_sample.csv
SAMPLE_ROWS = 120


def is_fractional(column: str) -> bool:
    """Return True if ``column`` is written with one decimal (a ``… Mins`` column)."""
    return column in FRACTIONAL


def group_of(column: str) -> str | None:
    """Return the one-hot group a column belongs to, or None for numeric columns."""
    for group, cols in ONE_HOT.items():
        if column in cols:
            return group
    return None
