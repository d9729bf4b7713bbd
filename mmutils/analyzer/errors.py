"""Errors the analyzer raises; the message is what the service would show the user."""

from __future__ import annotations


class AnalyzerError(Exception):
    """A failure of an analysis job. ``str(err)`` is the job's failure message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NoDataError(AnalyzerError):
    """The analysed window or dataset holds no records (the service's ``Job inputs had no data``)."""

    def __init__(self, message: str = "Job inputs had no data"):
        super().__init__(message)
