"""Distribution charts of statistics.json features (KLL buckets, categorical buckets).

Numeric features: the ten KLL ``buckets`` as bars at the bucket centres, width = bucket
width, height = ``count / total`` ("frequency"). String features: the ten most frequent
categorical buckets, labels cut to 10 characters. A baseline, when given, is overlaid
semi-transparently (string baselines aligned by value). Functions return a Figure and never
call ``plt.show()``: the figure is not registered with pyplot, so Jupyter shows it once, as
the cell's value, and nothing global is left open.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.axes import Axes

from mmutils.formats.reports import STRING_TYPE
from mmutils.viz.documents import as_feature_map
from mmutils.viz.figure import Figure

#: Categorical charts show this many most frequent values.
TOP_CATEGORIES = 10
#: Categorical tick labels are cut to this many characters.
LABEL_CHARS = 10
CURRENT_COLOUR = "tab:blue"
BASELINE_COLOUR = "tab:orange"
BASELINE_ALPHA = 0.5

_NUMERIC_COLUMNS = ["lower_bound", "upper_bound", "count", "centre", "width", "frequency"]


#: Inches per chart: three panels fill a notebook's width at their nominal font sizes.
PANEL_WIDTH = 3.7
PANEL_HEIGHT = 3.0


def numeric_buckets(feature: Mapping) -> pd.DataFrame:
    """The KLL buckets of a numeric feature with centre, width and frequency columns.

    Returns an empty frame (same columns) when the feature has no KLL buckets.
    """
    try:
        buckets = feature["numerical_statistics"]["distribution"]["kll"]["buckets"]
    except (KeyError, TypeError):
        return pd.DataFrame(columns=_NUMERIC_COLUMNS)
    df = pd.DataFrame(buckets, columns=["lower_bound", "upper_bound", "count"]).astype(float)
    df["centre"] = (df["lower_bound"] + df["upper_bound"]) / 2
    df["width"] = df["upper_bound"] - df["lower_bound"]
    total = df["count"].sum()
    df["frequency"] = df["count"] / total if total else 0.0
    return df


def categorical_buckets(feature: Mapping) -> pd.DataFrame:
    """The categorical buckets of a String feature, most frequent first, with frequencies.

    Frequencies are relative to all buckets (not just the top ten). Ties are ordered by value
    so the chart is deterministic. Empty frame when the feature has no categorical buckets.
    """
    try:
        buckets = feature["string_statistics"]["distribution"]["categorical"]["buckets"]
    except (KeyError, TypeError):
        return pd.DataFrame(columns=["value", "count", "frequency"])
    df = pd.DataFrame(buckets, columns=["value", "count"])
    df["value"] = df["value"].astype(str)
    df["count"] = df["count"].astype(float)
    total = df["count"].sum()
    df["frequency"] = df["count"] / total if total else 0.0
    df = df.sort_values(["count", "value"], ascending=[False, True], kind="stable")
    return df.reset_index(drop=True)


def _is_string(feature: Mapping | None) -> bool:
    if feature is None:
        return False
    return feature.get("inferred_type") == STRING_TYPE or "string_statistics" in feature


def _plot_numeric(ax: Axes, current: Mapping | None, baseline: Mapping | None) -> bool:
    drew = False
    for feature, colour, alpha, label in (
        (current, CURRENT_COLOUR, 1.0, "current"),
        (baseline, BASELINE_COLOUR, BASELINE_ALPHA, "baseline"),
    ):
        if feature is None:
            continue
        df = numeric_buckets(feature)
        if df.empty:
            continue
        # min == max gives ten zero-width buckets; draw them one unit wide so they show.
        width = df["width"].where(df["width"] > 0, 1.0)
        ax.bar(df["centre"], df["frequency"], width=width, color=colour, alpha=alpha,
               label=label, edgecolor="white", linewidth=0.5)  # fmt: skip
        drew = True
    return drew


def _plot_categorical(ax: Axes, current: Mapping | None, baseline: Mapping | None) -> bool:
    cur = categorical_buckets(current) if current is not None else None
    base = categorical_buckets(baseline) if baseline is not None else None
    # The x axis is the current top values; with no current data, the baseline's.
    top = cur if cur is not None and not cur.empty else base
    if top is None or top.empty:
        return False
    top = top.head(TOP_CATEGORIES)
    positions = range(len(top))
    if cur is not None and not cur.empty:
        ax.bar(positions, top["frequency"], width=0.8, color=CURRENT_COLOUR, label="current")
    if base is not None and not base.empty:
        base_freq = base.set_index("value")["frequency"]
        aligned = [float(base_freq.get(v, 0.0)) for v in top["value"]]
        ax.bar(positions, aligned, width=0.8, color=BASELINE_COLOUR, alpha=BASELINE_ALPHA,
               label="baseline")  # fmt: skip
    ax.set_xticks(list(positions))
    ax.set_xticklabels(
        [v[:LABEL_CHARS] for v in top["value"]], rotation=45, ha="right", fontsize="small"
    )
    return True


def show_distributions(
    features: Any,
    baselines: Any = None,
    *,
    max_features: int | None = None,
    cols: int = 3,
) -> Figure:
    """Bar charts of the distribution of each feature, three to a row.

    Sized for a notebook's width: about 11 inches wide at three panels a row, so the labels
    keep their nominal size when JupyterLab scales the image to the page.

    Args:
        features: the features to chart: ``{name: feature}`` (from ``get_features``), a list
            of features, or a statistics document (dict, path, JSON text, SDK ``Statistics``).
        baselines: baseline features in the same forms, matched by name and overlaid
            semi-transparently; ``None`` for no overlay.
        max_features: chart only the first this many features (in input order).
        cols: charts per row.

    Returns:
        A matplotlib Figure with one axes per charted feature (titled with the feature name). Features without a distribution get an axes saying so.
    """
    if cols < 1:
        raise ValueError(f"cols must be at least 1, got {cols}")
    current = as_feature_map(features)
    base = as_feature_map(baselines)
    names = list(current) or list(base)
    if max_features is not None:
        names = names[:max_features]
    rows = max(1, math.ceil(len(names) / cols))
    fig = Figure(figsize=(PANEL_WIDTH * cols, PANEL_HEIGHT * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        cur_feature, base_feature = current.get(name), base.get(name)
        plot = _plot_categorical if _is_string(cur_feature or base_feature) else _plot_numeric
        if not plot(ax, cur_feature, base_feature):
            ax.text(0.5, 0.5, "no distribution", ha="center", va="center",
                    transform=ax.transAxes, color="grey")  # fmt: skip
        kind = (cur_feature or base_feature or {}).get("inferred_type", "")
        ax.set_title(f"{name[:30]}\n{kind}", fontsize="medium")
        ax.set_ylabel("frequency")
        ax.tick_params(labelsize="medium")
    # Spare grid cells are removed so that fig.axes holds exactly one axes per feature.
    for ax in axes[max(1, len(names)) :]:
        ax.remove()
    if base:
        handles = [
            _patch(CURRENT_COLOUR, 1.0, "current"),
            _patch(BASELINE_COLOUR, BASELINE_ALPHA, "baseline"),
        ]
        fig.legend(handles=handles, loc="outside upper right", ncols=2)
    if not names:
        axes[0].text(0.5, 0.5, "no features", ha="center", va="center")
        axes[0].set_axis_off()
    return fig


def _patch(colour: str, alpha: float, label: str):
    from matplotlib.patches import Patch

    return Patch(facecolor=colour, alpha=alpha, label=label)
