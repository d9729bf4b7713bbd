"""The Figure class the viz functions return."""

from __future__ import annotations

import io

from matplotlib.figure import Figure as _MplFigure


class Figure(_MplFigure):
    """A matplotlib Figure that Jupyter shows as a PNG in every case.

    The figures are built without pyplot (so nothing is shown twice or left open), and
    Jupyter's inline display hook for Figures is only installed once pyplot has been set up,
    after the cell that first imported it. ``_repr_png_`` covers a figure returned before
    that; when the hook is installed, IPython uses the hook and ignores this method.
    """

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()
