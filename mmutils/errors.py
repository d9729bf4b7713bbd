"""The base class of the errors mmlab raises for an attendee to read (and fix).

An :class:`MMLabError` says what is wrong and what to run; in a notebook it renders as that one
message, without a traceback (:mod:`mmutils.lab.ipython_errors`). Errors that are not
``MMLabError`` are unexpected and keep their traceback. This module imports nothing.
"""

from __future__ import annotations


class MMLabError(Exception):
    """An error whose message alone tells the user what is wrong and what to do."""
