"""mmutils.viz: violation tables, distribution charts, violations and drift over time."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from mmutils import viz
from mmutils.viz import distributions, tables

# ------------------------------------------------------------------ helpers


def _load(conformance_dir, rel):
    return json.loads((conformance_dir / rel).read_text())


def _string_feature(name, counts, missing=0):
    """A String feature following the statistics.json schema (spec §B.1)."""
    return {
        "name": name,
        "inferred_type": "String",
        "string_statistics": {
            "common": {"num_present": int(sum(counts.values())), "num_missing": missing},
            "distinct_count": float(len(counts)),
            "distribution": {
                "categorical": {
                    "buckets": [{"value": v, "count": float(c)} for v, c in counts.items()]
                }
            },
        },
    }


def _bars(ax, colour):
    """The bar patches of one colour on an axes (current or baseline)."""
    from matplotlib.colors import to_rgba

    want = to_rgba(colour)[:3]
    return [p for p in ax.patches if tuple(p.get_facecolor()[:3]) == want]


def _css_of(html, row, col):
    """The background colour the Styler's CSS gives cell (row, col)."""
    found = None
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", html.split("</style>")[0]):
        cells = {s.strip() for s in selectors.split(",")}
        colour = re.search(r"background-color: ([^;]+);", body)
        if f"#T_t_row{row}_col{col}" in cells and colour:
            found = colour.group(1)
    return found


@pytest.fixture()
def intro(conformance_dir):
    """Real baseline statistics (33 features) and a 'latest' document derived from it."""
    baseline = _load(conformance_dir, "real/intro_baseline_statistics.PARTIAL_33_features.json")
    latest = copy.deepcopy(baseline)
    feats = {f["name"]: f for f in latest["features"]}
    feats["Churn"]["inferred_type"] = "Fractional"
    feats["VMail Message"]["numerical_statistics"]["common"].update(
        num_present=1900, num_missing=100
    )
    del latest["features"][-1]  # State_MD: a baseline feature the latest run does not have
    violations = {
        "violations": [
            {
                "feature_name": "Churn",
                "constraint_check_type": "data_type_check",
                "description": "Data type match requirement is not met. Expected data type: "
                "Integral, Expected match: 100.0%. Observed: Only 0.0% of data is Integral.",
            },
            {
                "feature_name": "Day Mins",
                "constraint_check_type": "baseline_drift_check",
                "description": "Numerical distance: 0.27 exceeds numerical threshold: 0.1",
            },
            {
                "feature_name": "VMail Message",
                "constraint_check_type": "completeness_check",
                "description": "Completeness 0.95 is below baseline 1.0",
            },
            {
                "feature_name": "State_MD",
                "constraint_check_type": "missing_column_check",
                "description": "column missing",
            },
        ]
    }
    return baseline, latest, violations


# ------------------------------------------------------------------ documents


def test_get_features_accepts_dict_path_text_and_sdk_object(conformance_dir):
    from sagemaker.model_monitor import Statistics

    path = conformance_dir / "real/intro_baseline_statistics.PARTIAL_33_features.json"
    doc = json.loads(path.read_text())
    sdk = Statistics(body_dict=doc, statistics_file_s3_uri="s3://b/statistics.json")
    for source in (doc, path, str(path), path.read_text(), path.read_bytes(), sdk):
        features = viz.get_features(source)
        assert len(features) == 33
        assert list(features)[:3] == ["Churn", "Account Length", "VMail Message"]
        assert features["Day Mins"]["numerical_statistics"]["sum"] == 420468.3999999996


def test_bad_documents_give_errors_naming_file_line_and_feature(tmp_path):
    bad = tmp_path / "statistics.json"
    bad.write_text('{\n  "features": [\n    {"name": "a",,}\n  ]\n}')
    with pytest.raises(ValueError, match=r"statistics\.json: not valid JSON \(line 3"):
        viz.get_features(bad)
    with pytest.raises(FileNotFoundError, match="nope.json"):
        viz.get_features(tmp_path / "nope.json")
    with pytest.raises(ValueError, match=r"features\[1\] has no 'name'"):
        viz.get_features({"features": [{"name": "a"}, {"inferred_type": "String"}]})
    with pytest.raises(ValueError, match=r"violations\[0\]: missing key 'constraint_check_type'"):
        viz.load_violations({"violations": [{"feature_name": "x"}]})
    with pytest.raises(ValueError, match="feature 'x': Integral feature has no"):
        viz.violation_df(None, {"features": [{"name": "x", "inferred_type": "Integral"}]}, None)


# ------------------------------------------------------------------ violation table


def test_sdk_fixture_violation_table_flags_the_right_cells(conformance_dir):
    stats = conformance_dir / "sdk/statistics.json"
    violations = conformance_dir / "sdk/constraint_violations.json"
    df = viz.violation_df(stats, stats, violations)

    # message (from statistics) + the 7 features named only by violations, sorted by name
    assert list(df.index) == [
        "congestion_surcharge", "extra", "fare_amount", "message",
        "store_and_fwd_flag", "tip_amount", "tolls_amount", "total_amount",
    ]  # fmt: skip
    assert df.loc["message", "data_type"] == "String"
    assert df.loc["message", "completeness"] == 1.0
    assert df.loc["store_and_fwd_flag", "categorical_values"] == 0.009009009009009009
    assert df["data_type_check"][lambda s: s].index.tolist() == [
        "extra", "fare_amount", "tip_amount", "tolls_amount", "total_amount",
    ]  # fmt: skip
    assert df["completeness_check"][lambda s: s].index.tolist() == ["congestion_surcharge"]
    assert df["categorical_values_check"][lambda s: s].index.tolist() == ["store_and_fwd_flag"]
    # no latest entry for violation-only features: NaN, not an exception
    assert math.isnan(df.loc["fare_amount", "completeness"])
    assert math.isnan(df.loc["fare_amount", "data_type"])

    styler = viz.show_violation_df(stats, stats, violations)
    html = styler.set_uuid("t").to_html()
    assert list(styler.data.columns) == [
        "data_type", "completeness", "baseline_drift", "categorical_values",
    ]  # fmt: skip
    rows = {name: i for i, name in enumerate(df.index)}
    cols = {"data_type": 0, "completeness": 1, "baseline_drift": 2, "categorical_values": 3}
    assert _css_of(html, rows["message"], cols["completeness"]) == "white"
    assert _css_of(html, rows["fare_amount"], cols["data_type"]) == "orange"
    assert _css_of(html, rows["fare_amount"], cols["completeness"]) == "#fff7dc"
    assert _css_of(html, rows["congestion_surcharge"], cols["completeness"]) == "orange"
    assert _css_of(html, rows["store_and_fwd_flag"], cols["categorical_values"]) == "orange"
    assert _css_of(html, rows["store_and_fwd_flag"], cols["data_type"]) == "#fff7dc"
    assert ">100.00%<" in html and ">0.90%<" in html
    # 8 rows x 4 cells; only "String", "100.00%" and "0.90%" have a value
    assert html.count(">N/A<") == 8 * 4 - 3


def test_violation_table_accepts_sdk_objects_and_violation_lists(conformance_dir):
    from sagemaker.model_monitor import ConstraintViolations, Statistics

    stats_doc = _load(conformance_dir, "sdk/statistics.json")
    viol_doc = _load(conformance_dir, "sdk/constraint_violations.json")
    stats = Statistics(body_dict=stats_doc, statistics_file_s3_uri="s3://b/s.json")
    viol = ConstraintViolations(body_dict=viol_doc, constraint_violations_file_s3_uri="s3://b/v")
    from_objects = viz.violation_df(stats, stats, viol)
    from_list = viz.violation_df(stats_doc, stats_doc, viol_doc["violations"])
    assert from_objects.equals(from_list)
    assert from_objects["data_type_check"].sum() == 5


def test_violation_table_on_real_baseline_and_our_schema(intro):
    baseline, latest, violations = intro
    df = viz.violation_df(baseline, latest, violations)
    assert len(df) == 33
    assert list(df.index) == sorted(f["name"] for f in baseline["features"])
    assert df.loc["Churn", "data_type"] == "Fractional"
    assert df.loc["Churn", "data_type_check"]
    assert df.loc["Day Mins", "baseline_drift"] == 0.27
    assert df.loc["VMail Message", "completeness"] == 0.95
    assert df.loc["Account Length", "completeness"] == 1.0
    assert math.isnan(df.loc["State_MD", "completeness"])  # no latest entry
    assert df.loc["State_MD", "missing_column_check"]
    assert df[list(viz.tables.VALUE_COLUMNS.values())].sum().tolist() == [1, 1, 1, 0]

    css = tables.violation_styles(df)
    assert css.loc["Day Mins", "baseline_drift"] == "background-color: orange"
    assert css.loc["Day Mins", "data_type"] == "background-color: #fff7dc"
    assert css.loc["State_MD", "data_type"] == "background-color: orange"
    assert css.loc["Account Length"].tolist() == ["background-color: white"] * 4

    html = viz.show_violation_df(baseline, latest, violations).to_html()
    assert ">27.00%<" in html and ">95.00%<" in html


def test_drift_and_value_parsing_from_descriptions():
    group = {
        "violations": [
            {
                "feature_name": "f",
                "constraint_check_type": "baseline_drift_check",
                "description": "Numerical distance: 0.2711598746081505 exceeds numerical "
                "threshold: 0.1",
            },
            {
                "feature_name": "f",
                "constraint_check_type": "categorical_values_check",
                "description": "Value: 0.5 does not meet the constraint requirement! ",
            },
        ]
    }
    assert tables.get_baseline_drift(group) == 0.2711598746081505
    assert tables.get_categorical_values(group) == 0.5
    assert math.isnan(tables.get_baseline_drift({"violations": []}))
    broken = {"violations": [{**group["violations"][0], "description": "distance: x exceeds"}]}
    with pytest.raises(ValueError, match="feature 'g': cannot read a number"):
        tables.get_baseline_drift(broken, "g")


def test_group_by_feature_handles_none_inputs(intro):
    baseline, _, violations = intro
    groups = viz.group_by_feature(baseline, None, violations)
    assert groups["Churn"]["latest"] is None
    assert groups["Churn"]["baseline"]["name"] == "Churn"
    assert [v["constraint_check_type"] for v in groups["Churn"]["violations"]] == [
        "data_type_check"
    ]
    assert viz.group_by_feature(None, None, None) == {}


# ------------------------------------------------------------------ distributions


def test_numeric_distributions_one_axes_per_feature_heights_sum_to_one(conformance_dir):
    stats = _load(
        conformance_dir, "derived/intro_baseline_statistics.RECONSTRUCTED_70_features.json"
    )
    features = viz.get_features(stats)
    fig = viz.show_distributions(features, max_features=12)
    assert len(fig.axes) == 12
    for ax, (name, feature) in zip(fig.axes, list(features.items())[:12], strict=True):
        buckets = feature["numerical_statistics"]["distribution"]["kll"]["buckets"]
        bars = _bars(ax, distributions.CURRENT_COLOUR)
        assert len(bars) == 10
        assert ax.get_title().splitlines()[0] == name
        heights = [b.get_height() for b in bars]
        assert sum(heights) == pytest.approx(1.0)
        total = sum(b["count"] for b in buckets)
        assert heights == pytest.approx([b["count"] / total for b in buckets])
        centres = [b.get_x() + b.get_width() / 2 for b in bars]
        assert centres == pytest.approx(
            [(b["lower_bound"] + b["upper_bound"]) / 2 for b in buckets]
        )
        widths = [b.get_width() for b in bars]
        assert widths == pytest.approx([b["upper_bound"] - b["lower_bound"] for b in buckets])
    # Account Length, real buckets (spec §B.1): 70/2333 in the first bucket
    assert _bars(fig.axes[1], "tab:blue")[0].get_height() == pytest.approx(70 / 2333)
    assert fig.legends == []  # no baseline, no legend


def test_baseline_is_overlaid_with_legend(conformance_dir):
    baseline = _load(conformance_dir, "real/intro_baseline_statistics.PARTIAL_33_features.json")
    current = copy.deepcopy(baseline)
    for f in current["features"]:  # shift every distribution one bucket to the left
        buckets = f["numerical_statistics"]["distribution"]["kll"]["buckets"]
        counts = [b["count"] for b in buckets]
        for b, c in zip(buckets, counts[1:] + counts[:1], strict=True):
            b["count"] = c
    fig = viz.show_distributions(current, baseline, cols=4)
    assert len(fig.axes) == 33
    ax = fig.axes[0]  # Churn
    cur, base = _bars(ax, "tab:blue"), _bars(ax, "tab:orange")
    assert len(cur) == len(base) == 10
    assert all(b.get_alpha() == distributions.BASELINE_ALPHA for b in base)
    assert base[0].get_height() == pytest.approx(2008 / 2333)
    assert cur[-1].get_height() == pytest.approx(2008 / 2333)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["current", "baseline"]


def test_string_features_top_ten_truncated_labels_baseline_aligned_by_value():
    current_counts = {f"category-{i:02d}-long": 30 - i for i in range(12)}
    baseline_counts = {f"category-{i:02d}-long": 5 for i in range(3, 12)} | {"other": 55}
    current = [_string_feature("colour", current_counts)]
    baseline = [_string_feature("colour", baseline_counts)]
    fig = viz.show_distributions(current, baseline)
    (ax,) = fig.axes
    cur, base = _bars(ax, "tab:blue"), _bars(ax, "tab:orange")
    assert len(cur) == len(base) == 10
    total = sum(current_counts.values())
    assert [b.get_height() for b in cur] == pytest.approx([(30 - i) / total for i in range(10)])
    # aligned by value: categories 0-2 are absent from the baseline, 3-9 have 5/100
    assert [b.get_height() for b in base] == pytest.approx([0, 0, 0] + [0.05] * 7)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["category-0"] * 10  # first 10 characters
    assert ax.get_title() == "colour\nString"


def test_sdk_string_statistics_chart(conformance_dir):
    fig = viz.show_distributions(conformance_dir / "sdk/statistics.json")
    (ax,) = fig.axes
    (bar,) = _bars(ax, "tab:blue")
    assert bar.get_height() == 1.0
    assert [t.get_text() for t in ax.get_xticklabels()] == ["preproc-no"]


def test_feature_without_distribution_and_zero_width_buckets():
    constant = {
        "name": "const",
        "inferred_type": "Integral",
        "numerical_statistics": {
            "common": {"num_present": 4, "num_missing": 0},
            "distribution": {
                "kll": {
                    "buckets": [{"lower_bound": 3.0, "upper_bound": 3.0, "count": 0.0}] * 9
                    + [{"lower_bound": 3.0, "upper_bound": 3.0, "count": 4.0}]
                }
            },
        },
    }
    unknown = {"name": "empty", "inferred_type": "Unknown"}
    fig = viz.show_distributions([constant, unknown])
    bars = _bars(fig.axes[0], "tab:blue")
    assert [b.get_height() for b in bars] == [0.0] * 9 + [1.0]
    assert all(b.get_width() == 1.0 for b in bars)
    assert [t.get_text() for t in fig.axes[1].texts] == ["no distribution"]


def test_summary_table_has_scalar_stats_only(conformance_dir):
    stats = _load(conformance_dir, "real/intro_baseline_statistics.PARTIAL_33_features.json")
    df = viz.summary_table(stats)
    assert list(df.columns) == [
        "inferred_type", "num_present", "num_missing", "mean", "sum", "std_dev", "min", "max",
    ]  # fmt: skip
    assert df.loc["Churn", "mean"] == 0.1393056150878697
    assert df.loc["Night Mins", "sum"] == 469839.6000000001
    assert df.loc["Day Mins", "inferred_type"] == "Fractional"
    sdk = viz.summary_table(_load(conformance_dir, "sdk/statistics.json"))
    assert sdk.loc["message"].to_dict() == {
        "inferred_type": "String", "num_present": 418, "num_missing": 0, "distinct_count": 1.0,
    }  # fmt: skip


# ------------------------------------------------------------------ over time

_V = {
    "dt": {"feature_name": "Churn", "constraint_check_type": "data_type_check", "description": ""},
    "drift": {
        "feature_name": "Day Mins",
        "constraint_check_type": "baseline_drift_check",
        "description": "Numerical distance: 0.27 exceeds numerical threshold: 0.1",
    },
    "comp": {
        "feature_name": "Churn",
        "constraint_check_type": "completeness_check",
        "description": "",
    },
}


def _executions():
    return [
        ("2024-01-01T02:00:00Z", {"violations": [_V["dt"], _V["drift"], _V["comp"], _V["dt"]]}),
        ("2024-01-01T03:00:00Z", None),  # an execution without violations
        (dt.datetime(2024, 1, 1, 1, tzinfo=dt.UTC), [_V["dt"]]),
    ]


def test_violation_counts_and_by_feature():
    counts = viz.violation_counts(_executions())
    assert [t.hour for t in counts.index] == [1, 2, 3]  # sorted oldest first
    assert list(counts.columns) == ["data_type_check", "completeness_check", "baseline_drift_check"]
    assert counts.to_numpy().tolist() == [[1, 0, 0], [2, 1, 1], [0, 0, 0]]

    by_feature = viz.violations_by_feature(_executions())
    assert list(by_feature.index) == ["Churn", "Day Mins"]
    assert by_feature.to_numpy().tolist() == [[1, 3, 0], [0, 1, 0]]
    checks = viz.violations_by_feature(_executions(), values="checks")
    assert checks.iloc[0].tolist() == ["data_type_check", "data_type_check, completeness_check", ""]


def test_plot_violations_over_time_stacks_counts():
    fig = viz.plot_violations_over_time(_executions())
    (ax,) = fig.axes
    per_check = {
        check: [p.get_height() for p in _bars(ax, colour)]
        for check, colour in viz.timeline.CHECK_COLOURS.items()
        if _bars(ax, colour)
    }
    assert per_check == {
        "data_type_check": [1, 2, 0],
        "completeness_check": [0, 1, 0],
        "baseline_drift_check": [0, 1, 0],
    }
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "2024-01-01 01:00", "2024-01-01 02:00", "2024-01-01 03:00",
    ]  # fmt: skip
    assert [t.get_text() for t in ax.texts] == ["1", "4", "0"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(per_check)


def test_sdk_monitoring_executions_are_read(tmp_path):
    boto3 = pytest.importorskip("boto3")
    from moto import mock_aws
    from sagemaker.model_monitor import MonitoringExecution
    from sagemaker.processing import ProcessingOutput
    from sagemaker.session import Session

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="bkt")
        prefix = "reports/ep/sched/2024/01/01"
        for hour, body in (("02", [_V["dt"], _V["drift"]]), ("01", [_V["comp"]])):
            s3.put_object(
                Bucket="bkt",
                Key=f"{prefix}/{hour}/constraint_violations.json",
                Body=json.dumps({"violations": body}).encode(),
            )
        session = Session(boto_session=boto3.Session(region_name="us-east-1"))
        executions = [
            MonitoringExecution(
                sagemaker_session=session,
                job_name=f"job-{hour}",
                inputs=[],
                output=ProcessingOutput(
                    source="/opt/ml/processing/output",
                    destination=f"s3://bkt/{prefix}/{hour}",
                    output_name="result",
                ),
            )
            for hour in ("02", "01")
        ]
        counts = viz.violation_counts(executions)
    assert [str(t) for t in counts.index] == [
        "2024-01-01 01:00:00+00:00",
        "2024-01-01 02:00:00+00:00",
    ]
    assert counts.to_dict("list") == {
        "data_type_check": [0, 1],
        "completeness_check": [1, 0],
        "baseline_drift_check": [0, 1],
    }


def test_bad_execution_items_are_named():
    with pytest.raises(ValueError, match=r"executions\[1\]: expected a \(scheduled_time"):
        viz.violation_counts([("2024-01-01T00:00Z", None), "oops"])
    with pytest.raises(ValueError, match=r"executions\[0\]: cannot read a time"):
        viz.violation_counts([("not a time", None)])


# ------------------------------------------------------------------ drift metrics

_T0 = dt.datetime(2024, 1, 1, 1, 5, tzinfo=dt.UTC)
_DIMS = [{"Name": "Endpoint", "Value": "ep"}, {"Name": "MonitoringSchedule", "Value": "sched"}]


@pytest.fixture()
def cloudwatch():
    boto3 = pytest.importorskip("boto3")
    from moto import mock_aws

    with mock_aws():
        cw = boto3.client("cloudwatch", region_name="us-east-1")

        def put(name, value, when, dims=_DIMS):
            cw.put_metric_data(
                Namespace=viz.drift_metrics.NAMESPACE,
                MetricData=[
                    {"MetricName": name, "Dimensions": dims, "Timestamp": when, "Value": value}
                ],
            )

        for h in range(5):
            when = _T0 + dt.timedelta(hours=h)
            put("feature_baseline_drift_Day Mins", 0.05 * (h + 1), when)
            put("feature_baseline_drift_Churn", 0.02 * (h + 1), when)
        put("feature_non_null_Churn", 1.0, _T0)  # not a drift metric
        other = [{"Name": "Endpoint", "Value": "ep"}, {"Name": "MonitoringSchedule", "Value": "x"}]
        put("feature_baseline_drift_Other", 0.9, _T0, other)  # another schedule
        yield cw


def test_fetch_drift_metrics_from_cloudwatch(cloudwatch):
    listed = cloudwatch.list_metrics(Namespace=viz.drift_metrics.NAMESPACE)["Metrics"]
    assert len(listed) > 4  # moto lists a metric once per datapoint: dedupe needed
    assert viz.list_drift_features(cloudwatch, "ep", "sched") == ["Churn", "Day Mins"]

    start, end = _T0 - dt.timedelta(hours=1), _T0 + dt.timedelta(hours=6)
    data = viz.fetch_drift_metrics(cloudwatch, "ep", "sched", start, end)
    assert list(data) == ["Churn", "Day Mins"]
    assert [v for _, v in data["Day Mins"]] == pytest.approx([0.05, 0.10, 0.15, 0.20, 0.25])
    assert [t.astimezone(dt.UTC) for t, _ in data["Churn"]] == [
        _T0 + dt.timedelta(hours=h) for h in range(5)
    ]
    only = viz.fetch_drift_metrics(cloudwatch, "ep", "sched", start, end, features=["Churn"])
    assert list(only) == ["Churn"] and len(only["Churn"]) == 5


def test_plot_drift_metrics_lines_threshold_and_rings():
    data = {
        "Day Mins": [(_T0 + dt.timedelta(hours=h), 0.05 * (h + 1)) for h in range(5)],
        "Churn": [(_T0 + dt.timedelta(hours=h), 0.02 * (h + 1)) for h in range(5)],
    }
    fig = viz.plot_drift_metrics(data, threshold=0.1)
    (ax,) = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines) == ["Churn", "Day Mins", "threshold 0.1"]
    assert lines["Day Mins"].get_ydata().tolist() == pytest.approx([0.05, 0.1, 0.15, 0.2, 0.25])
    assert list(lines["threshold 0.1"].get_ydata()) == [0.1, 0.1]
    (rings,) = ax.collections
    assert rings.get_label() == "above threshold"
    assert np.asarray(rings.get_offsets())[:, 1].tolist() == pytest.approx([0.15, 0.2, 0.25])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Churn", "Day Mins", "threshold 0.1", "above threshold",
    ]  # fmt: skip


# ------------------------------------------------------------------ rendering


def test_figures_render_to_png_without_touching_pyplot(tmp_path, conformance_dir, intro):
    baseline, latest, _ = intro
    before = plt.get_fignums()
    figures = {
        "distributions": viz.show_distributions(latest, baseline, max_features=10),
        "violations": viz.plot_violations_over_time(_executions()),
        "drift": viz.plot_drift_metrics(
            {"Day Mins": [(_T0 + dt.timedelta(hours=h), 0.05 * h) for h in range(4)]}
        ),
    }
    assert plt.get_fignums() == before  # nothing registered with pyplot, nothing to show
    for name, fig in figures.items():
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=50)
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(data[16:20], "big")
        assert width == round(fig.get_figwidth() * 50)
        # Jupyter shows the figure even before pyplot's display hook is installed
        assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_are_deterministic(intro):
    baseline, latest, _ = intro
    import io

    def png():
        buf = io.BytesIO()
        viz.show_distributions(latest, baseline, max_features=5).savefig(
            buf, format="png", dpi=30, metadata={"Software": None}
        )
        return buf.getvalue()

    assert png() == png()


def test_our_analyzer_output_can_be_plotted(conformance_dir):
    """Statistics from our profiler and drift wording from our checks go through the viz."""
    profile = pytest.importorskip("mmutils.analyzer.profile")
    checks = pytest.importorskip("mmutils.analyzer.checks")
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = conformance_dir / "data/training-dataset-with-header.csv"
    names = path.open().readline().rstrip("\n").split(",")
    table = pacsv.read_csv(
        path, convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
    )
    profiler = profile.Profiler(names)
    profiler.update(table)
    ours = profiler.result()

    fig = viz.show_distributions(ours, max_features=5)
    assert len(fig.axes) == 5
    account = _bars(fig.axes[1], "tab:blue")
    assert account[0].get_height() == pytest.approx(70 / 2333)  # real bucket (spec §B.1)
    assert sum(b.get_height() for b in account) == pytest.approx(1.0)
    assert viz.summary_table(ours).loc["Day Mins", "sum"] == 420468.3999999996

    distance = 0.2711598746081505
    violations = [
        {
            "feature_name": "Day Mins",
            "constraint_check_type": "baseline_drift_check",
            "description": checks.drift_description("Numerical", distance, 0.1),
        }
    ]
    df = viz.violation_df(ours, ours, violations)
    assert df.loc["Day Mins", "baseline_drift"] == distance
    assert df.loc["Day Mins", "baseline_drift_check"]
    assert (df["completeness"] == 1.0).all() and len(df) == 70


def test_violation_table_html_is_deterministic(conformance_dir):
    from mmutils import viz

    sdk = conformance_dir / "sdk"
    args = (sdk / "statistics.json", sdk / "statistics.json", sdk / "constraint_violations.json")
    first = viz.show_violation_df(*args).to_html()
    second = viz.show_violation_df(*args).to_html()
    assert first == second
    assert "T_mmlab-violations" in first
