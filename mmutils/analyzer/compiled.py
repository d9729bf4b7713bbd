"""numba-compiled kernels for the profiler's hot loops (optional; imports numba).

:mod:`mmutils.analyzer.profile` imports this module lazily, only for large datasets, and falls
back to its numpy code (the reference) when numba is missing or broken. :func:`moments` performs
the very same floating-point operations, in the same order, as that code, so results are
bit-identical: numba's defaults neither reassociate nor contract ``a * b + c`` into a fused
multiply-add (no ``fastmath``), and the tests compare both paths bit for bit.
:func:`plain_numbers` classifies and converts plain numeric cells exactly (or declines). Every
kernel is compiled ``nogil``, so the profiler's column groups
(:mod:`mmutils.analyzer.column_groups`) run them on several cores at once.

Compiled code is cached on disk (``cache=True``: next to this file, else in the user's cache
folder or ``NUMBA_CACHE_DIR``); when no cache location is writable, the kernels are compiled
in memory instead.

Start-up: numba's CPU target, on its first use in a process (even to load a cached kernel),
imports ``numba.np.arraymath``, whose module code probes for BLAS by importing
``scipy.linalg.cython_blas`` — about 0.1 s of SciPy the kernel never uses (its probe result
only picks how a jitted ``np.cov``/``np.corrcoef`` multiplies). :func:`_defer_blas_probe`
imports that module with the probe failing fast and then makes the probe lazy, so SciPy is
imported only if some jitted code in the process asks for it.
"""

from __future__ import annotations

import sys

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = [
    "EXACT",
    "INEXACT",
    "NOT_PLAIN",
    "PIECE_FIELDS",
    "moments",
    "plain_chunk",
    "plain_numbers",
]

_BLAS_MODULE = "scipy.linalg.cython_blas"


class _LazyProbe:
    """Stands for numba's ``_HAVE_BLAS`` flag: runs the real probe when first asked."""

    def __init__(self, probe):
        self._probe = probe
        self._value: bool | None = None

    def __bool__(self) -> bool:
        if self._value is None:
            self._value = bool(self._probe())
        return self._value


def _defer_blas_probe() -> None:
    """Import ``numba.np.arraymath`` without importing SciPy (see the module docstring)."""
    if "numba.np.arraymath" in sys.modules or _BLAS_MODULE in sys.modules:
        return  # already paid for (or numba already set up): nothing to save
    sys.modules[_BLAS_MODULE] = None  # makes ``import scipy.linalg.cython_blas`` fail at once
    try:
        from numba.np import arraymath
    except Exception:  # an unexpected numba layout: let numba set itself up as usual
        return
    finally:
        if _BLAS_MODULE in sys.modules and sys.modules[_BLAS_MODULE] is None:
            del sys.modules[_BLAS_MODULE]
    probe = getattr(arraymath, "_check_blas", None)
    if arraymath.__dict__.get("_HAVE_BLAS") is False and callable(probe):
        arraymath._HAVE_BLAS = _LazyProbe(probe)


_defer_blas_probe()


#: rows of a chunk copied into a (rows, columns) tile at a time by :func:`_moments`
_TILE_ROWS = 128


def _moments(
    x: np.ndarray, total: np.ndarray, n: np.ndarray, avg: np.ndarray, m2: np.ndarray
) -> None:
    """Left-to-right sum and Spark's streaming mean/M2 update of every column, in place.

    ``x`` is ``(columns, rows)``, NaN marking a missing cell; ``total``, ``n``, ``avg`` and
    ``m2`` hold each column's running state. Rows run in the outer loop so that the columns'
    independent recurrences overlap in the CPU (a column at a time would wait on every
    division). The rows are first copied into a small ``(rows, columns)`` tile so that the
    inner loop over the columns reads contiguous memory and has no branch: a missing cell
    computes its update and then keeps the old state (a select), so LLVM vectorises the
    columns (several divisions per instruction). Each column still sees exactly the
    operations of the plain update, in the same order: ``n + 1``, ``v - avg``, the division,
    ``avg + dn``, ``m2 + d * (d - dn)``, no fused multiply-add.
    """
    width, rows = x.shape
    tile = np.empty((_TILE_ROWS, width))
    for first in range(0, rows, _TILE_ROWS):
        count = min(_TILE_ROWS, rows - first)
        for j in range(width):
            for k in range(count):
                tile[k, j] = x[j, first + k]
        for k in range(count):
            row = tile[k]
            for j in range(width):
                v = row[j]
                present = v == v
                c = n[j]
                a = avg[j]
                c1 = c + 1.0
                d = v - a
                dn = d / c1
                total[j] = total[j] + v if present else total[j]
                n[j] = c1 if present else c
                avg[j] = a + dn if present else a
                m2[j] = m2[j] + d * (d - dn) if present else m2[j]


# powers of ten that are exact doubles (10**22 is the last): m / 10**f is then correctly rounded
_POW10 = np.array([10.0**i for i in range(23)])
_EXACT_MANTISSA = 1 << 53


#: :func:`plain_numbers` results: a cell of another shape (or none at all), every cell converted,
#: every cell plain but some value beyond the exact conversion (the caller converts the column)
NOT_PLAIN, EXACT, INEXACT = 0, 1, 2


def _plain_numbers(offsets: np.ndarray, data: np.ndarray, out: np.ndarray) -> tuple:
    """Classify, convert and bound a column of null-free cells shaped ``digits`` or ``digits.digits``.

    ``offsets`` (``len + 1`` int32) index the cells' bytes in ``data``. Each cell's value goes
    to ``out``: its digits as an integer ``m`` (exact below 2**53) divided by ``10**f`` for
    ``f`` decimals (exact for ``f <= 22``), one correctly rounded division, hence the double a
    correctly rounding parser (Arrow's cast, Java's ``parseDouble``) returns.

    Returns:
        ``(status, decimal cells, min, max)``. ``status`` is :data:`EXACT` when every
        cell is plain and converted; :data:`INEXACT` when every cell is plain (the decimal
        count is right) but some value has more digits than the exact conversion takes
        (``out``, min and max are then meaningless: the caller converts the column);
        :data:`NOT_PLAIN` when a cell has another shape (the caller takes the general path
        for the whole column).
    """
    rows = len(offsets) - 1
    if rows > 0 and offsets[rows] - offsets[0] == rows:
        ok, lo, hi = _single_digits(offsets, data, out)
        if ok:
            return EXACT, 0, lo, hi
    decimals = 0
    exact = True
    lo = np.inf
    hi = -np.inf
    for i in range(rows):
        start = offsets[i]
        end = offsets[i + 1]
        if end <= start:
            return NOT_PLAIN, 0, lo, hi
        m = 0
        dot = -1
        big = False
        if end - start <= 15:  # fewer than 16 digits: m < 10**15 < 2**53, no overflow test
            for p in range(start, end):
                b = data[p]
                if 48 <= b <= 57:
                    m = m * 10 + (b - 48)
                elif b == 46 and dot < 0:
                    dot = p
                else:
                    return NOT_PLAIN, 0, lo, hi
        else:
            for p in range(start, end):
                b = data[p]
                if 48 <= b <= 57:
                    if m < _EXACT_MANTISSA:
                        m = m * 10 + (b - 48)
                    else:
                        big = True  # stop accumulating: no overflow, the cell is inexact
                elif b == 46 and dot < 0:
                    dot = p
                else:
                    return NOT_PLAIN, 0, lo, hi
            big = big or m >= _EXACT_MANTISSA
        if dot >= 0:
            f = end - 1 - dot
            if dot == start or f == 0:  # ".5" or "5.": not the numeric patterns' shape
                return NOT_PLAIN, 0, lo, hi
            decimals += 1
            if big or f > 22:
                exact = False
            elif exact:
                v = m / _POW10[f]
                out[i] = v
                lo = min(lo, v)
                hi = max(hi, v)
        elif big:
            exact = False
        elif exact:
            v = float(m)
            out[i] = v
            lo = min(lo, v)
            hi = max(hi, v)
    return (EXACT if exact else INEXACT), decimals, lo, hi


def _single_digits(offsets: np.ndarray, data: np.ndarray, out: np.ndarray) -> tuple:
    """:func:`_plain_numbers` for cells of one byte each (flags, small counts): branch-free.

    Returns ``(ok, min, max)``.
    """
    rows = len(offsets) - 1
    base = offsets[0]
    bad = 0
    lo = 255
    hi = 0
    for i in range(rows):
        bad |= (offsets[i + 1] - offsets[i]) ^ 1  # not one byte long
        d = np.uint8(data[base + i] - np.uint8(48))  # bytes below "0" wrap to >= 208
        bad |= d > 9
        lo = min(lo, d)
        hi = max(hi, d)
        out[i] = d
    return bad == 0, float(lo), float(hi)


#: values per word of the parity bits :func:`plain_chunk` writes
_WORD_BITS = 64


def _single_digits_parity(
    offsets: np.ndarray, data: np.ndarray, out: np.ndarray, bits: np.ndarray, start: int
) -> tuple:
    """:func:`_single_digits`, also setting bit ``start + i`` of ``bits`` to cell ``i``'s parity.

    ``bits`` (uint64 words, bit ``p`` of the row is bit ``p % 64`` of word ``p // 64``) is
    or-ed into, so pieces of one row may share a word. The cells go 64 at a time, each
    block's bits gathered in a register in the same branch-free loop as the conversion (a
    loop of a known count: LLVM vectorises it); the last, short block is converted by
    :func:`_single_digits` and its bits taken from the values.
    """
    rows = len(offsets) - 1
    base = offsets[0]
    bad = 0
    lo = 255
    hi = 0
    whole = rows - rows % _WORD_BITS
    for block in range(whole // _WORD_BITS):  # (a stepped range here: 1.66 ns, not 1.07, a cell)
        first = block * _WORD_BITS
        word = np.uint64(0)
        for k in range(_WORD_BITS):
            d = np.uint8(data[base + first + k] - np.uint8(48))
            bad |= (offsets[first + k + 1] - offsets[first + k]) ^ 1
            bad |= d > 9
            lo = min(lo, d)
            hi = max(hi, d)
            out[first + k] = d
            word |= np.uint64(d & np.uint8(1)) << np.uint64(k)
        _or_word(bits, start + first, word)
    ok = bad == 0
    low, high = float(lo), float(hi)
    if whole < rows:
        tail_ok, tail_lo, tail_hi = _single_digits(offsets[whole:], data, out[whole:])
        ok = ok and tail_ok
        low, high = min(low, tail_lo), max(high, tail_hi)
        word = np.uint64(0)
        for k in range(rows - whole):  # values 0-255 whatever the cells: a defined conversion
            word |= np.uint64(np.int64(out[whole + k]) & 1) << np.uint64(k)
        _or_word(bits, start + whole, word)
    return ok, low, high


def _or_word(bits: np.ndarray, at: int, word: np.uint64) -> None:
    """Or the 64 bits of ``word`` into ``bits`` from bit ``at`` on (into one or two words)."""
    shift = np.uint64(at % _WORD_BITS)
    index = at // _WORD_BITS
    bits[index] |= word << shift
    if shift:
        spill = word >> (np.uint64(_WORD_BITS) - shift)
        if spill:  # (the last word of a row may have no successor: only written when due)
            bits[index + 1] |= spill


@intrinsic
def _pointer(typingctx, address):
    """The memory at the integer ``address`` as a ``void *`` (for ``numba.carray``)."""
    if not isinstance(address, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(address), codegen


#: the fields of a row of :func:`plain_chunk`'s ``pieces`` table, in order
PIECE_FIELDS = ("row", "column", "offsets", "first", "cells", "data", "data_bytes", "start")


def _plain_chunk(pieces: np.ndarray, x: np.ndarray, results: np.ndarray, bits: np.ndarray) -> None:
    """:func:`_plain_numbers` over every piece of every column of a chunk, in one call.

    The profiler hands a chunk's string columns over as a table of their pieces' Arrow
    buffers (addresses: the chunk holds the buffers during the call), which spares a Python
    call, two numpy views and a result tuple per piece.

    With ``bits`` (one row of words per row of ``x``, zeroed: see
    :func:`_single_digits_parity`), a column of one-digit cells also gets each value's parity,
    which lets the compiled sketch update count a two-valued column's values without reading
    them again (:func:`mmutils.analyzer.kll_compiled.update_batch`'s ``pairs``).

    Args:
        pieces: ``(n, 8)`` int64, one row per piece (fields :data:`PIECE_FIELDS`): the row of
            ``x`` it fills, its column in the profiler, the address of its int32 offsets, its
            first cell's index in them, its cells, the address and size of its data buffer,
            and its first row in the chunk. Rows of one column are consecutive, in row order;
            a piece of no cells is never listed.
        x: ``(columns, rows)`` float64: row ``r`` receives its column's values.
        results: ``(columns, 5)`` float64, written for every row listed: the status
            (:data:`NOT_PLAIN` if any piece is not plain, else :data:`EXACT` when every piece
            is converted, else :data:`INEXACT`), decimal cells, min and max (when converted),
            and 1.0 when the row's parity bits are written (every cell one digit), else 0.0.
        bits: ``(columns, words)`` uint64 with ``64 * words >= x.shape[1]``, or ``(columns,
            0)``: no parity bits.
    """
    n = pieces.shape[0]
    i = 0
    while i < n:
        row = pieces[i, 0]
        plain = True
        converted = True
        decimals = 0
        lo = np.inf
        hi = -np.inf
        parity = bits.shape[1] > 0
        while i < n and pieces[i, 0] == row:
            if plain:
                first = pieces[i, 3]
                cells = pieces[i, 4]
                start = pieces[i, 7]
                offsets = numba.carray(_pointer(pieces[i, 2]), first + cells + 1, np.int32)
                data = numba.carray(_pointer(pieces[i, 5]), pieces[i, 6], np.uint8)
                offsets = offsets[first:]
                out = x[row, start : start + cells]
                one_digit = False
                if parity and offsets[cells] - offsets[0] == cells:
                    one_digit, piece_lo, piece_hi = _single_digits_parity(
                        offsets, data, out, bits[row], start
                    )
                if one_digit:
                    status, dec = EXACT, 0
                else:
                    parity = False
                    status, dec, piece_lo, piece_hi = _plain_numbers(offsets, data, out)
                if status == NOT_PLAIN:
                    plain = False
                else:
                    converted = converted and status == EXACT
                    decimals += dec
                    if converted:
                        lo = min(lo, piece_lo)
                        hi = max(hi, piece_hi)
            i += 1
        if not plain:
            results[row, 0] = NOT_PLAIN
        else:
            results[row, 0] = EXACT if converted else INEXACT
        results[row, 1] = decimals
        results[row, 2] = lo
        results[row, 3] = hi
        results[row, 4] = 1.0 if plain and parity else 0.0


def compile_kernel(func):
    """``func`` compiled by numba (``nogil``), cached on disk when a cache location is writable."""
    # error_model="numpy": a float division is a plain division (Python's model adds a test
    # for zero, a branch that keeps LLVM from vectorising; no kernel divides by zero)
    try:
        return numba.njit(cache=True, nogil=True, error_model="numpy")(func)
    except RuntimeError:  # "cannot cache function": no writable cache location
        return numba.njit(nogil=True, error_model="numpy")(func)


moments = compile_kernel(_moments)
_single_digits = compile_kernel(_single_digits)
_or_word = compile_kernel(_or_word)
_single_digits_parity = compile_kernel(_single_digits_parity)
plain_numbers = compile_kernel(_plain_numbers)
_plain_numbers = plain_numbers  # called by plain_chunk as the compiled function
plain_chunk = compile_kernel(_plain_chunk)
