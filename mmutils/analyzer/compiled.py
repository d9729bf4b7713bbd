"""numba-compiled kernels for the profiler's sequential loops (optional; imports numba).

:mod:`mmutils.analyzer.profile` imports this module lazily, only for large datasets, and falls
back to its numpy code (the reference) when numba is missing or broken. The kernels perform the
very same floating-point operations, in the same order, as that code, so results are
bit-identical: numba's defaults neither reassociate nor contract ``a * b + c`` into a fused
multiply-add (no ``fastmath``), and the tests compare both paths bit for bit.

Compiled code is cached on disk (``cache=True``: next to this file, else in the user's cache
folder or ``NUMBA_CACHE_DIR``); when no cache location is writable, the kernels are compiled
in memory instead.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["moments"]


def _moments(
    x: np.ndarray, total: np.ndarray, n: np.ndarray, avg: np.ndarray, m2: np.ndarray
) -> None:
    """Left-to-right sum and Spark's streaming mean/M2 update of every column, in place.

    ``x`` is ``(columns, rows)``, NaN marking a missing cell; ``total``, ``n``, ``avg`` and
    ``m2`` hold each column's running state. Rows run in the outer loop so that the columns'
    independent recurrences overlap in the CPU (a column at a time would wait on every
    division).
    """
    width, rows = x.shape
    for i in range(rows):
        for j in range(width):
            v = x[j, i]
            if v == v:
                total[j] += v
                n[j] += 1.0
                d = v - avg[j]
                dn = d / n[j]
                avg[j] += dn
                m2[j] += d * (d - dn)


def _compile(func):
    try:
        return numba.njit(cache=True, nogil=True)(func)
    except RuntimeError:  # "cannot cache function": no writable cache location
        return numba.njit(nogil=True)(func)


moments = _compile(_moments)
