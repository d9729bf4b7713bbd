"""Start-up costs of a dedicated analysis process.

pyarrow asks, the first time a Python object is converted (``pa.array([...])``, a scalar
argument to a compute function), whether that object is a pandas one, and to answer it
imports pandas: about 0.3 s, as much as the whole analysis of an hourly window. The analyzer
never hands pandas objects to pyarrow in a container run (its inputs are files), so the child
process of the container entry point calls :func:`skip_pandas_probe` first.

Only a dedicated process may do this: afterwards pyarrow's *implicit* pandas checks answer
"no" for the rest of the process (``pa.array(series)`` would convert a Series as a plain
sequence). Explicit conversions (``Table.to_pandas``, ``Table.from_pandas``) still import
pandas and work, and ``import pandas`` itself is unaffected (a customer script may use it).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

from mmutils.analyzer.errors import AnalyzerError

__all__ = ["optional_module", "skip_pandas_probe", "switch_setting"]


def optional_module(name: str, log: logging.Logger, unavailable: str):
    """Import an optional compiled module (numba kernels): the module, or False if it fails.

    Any failure counts (numba missing, or numba or llvmlite failing on this platform); it is
    logged at debug level on the caller's ``log`` as ``"{unavailable}: {error!r}"``, and the
    caller takes its reference path.
    """
    try:
        return importlib.import_module(name)
    except Exception as exc:  # ImportError, or numba/llvmlite failing here
        log.debug("%s: %r", unavailable, exc)
        return False


def switch_setting(name: str) -> str:
    """An on/off/auto environment variable (``$MMLAB_CAPTURE_SCAN``, say) as ``"0"``, ``"1"``
    or ``"auto"`` (unset or empty is ``"auto"``).

    Raises:
        AnalyzerError: the variable holds something other than ``0``, ``1`` or ``auto``.
    """
    value = os.environ.get(name, "").strip().lower() or "auto"
    if value not in ("auto", "0", "1"):
        raise AnalyzerError(f"Invalid {name} {value!r}: expected 0, 1 or auto")
    return value


def skip_pandas_probe() -> bool:
    """Let pyarrow settle "no pandas" without importing it (see the module docstring).

    Returns:
        True once pyarrow's probe is settled without pandas in the process; False when pandas
        is already imported (nothing to save).
    """
    if "pandas" in sys.modules:
        return False
    blocker = _NoPandas()
    sys.meta_path.insert(0, blocker)  # ``import pandas`` fails at once, for the probe only
    try:
        import pyarrow as pa

        pa.array([0])  # the first conversion runs the probe; it now finds no pandas
    finally:
        sys.meta_path.remove(blocker)
    return "pandas" not in sys.modules


class _NoPandas:
    """A meta-path finder that makes ``import pandas`` raise ModuleNotFoundError."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {name!r} (skipped)", name=name)
        return None
