"""Paged AWS list calls: every item, following ``NextToken`` to the last page.

AWS list calls return one page (``ListMonitoringExecutions``: 10 items unless ``MaxResults``
says more) and a ``NextToken`` while more remain; a single call silently misses the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def paged(operation: Any, key: str, **kwargs: Any) -> Iterator[dict]:
    """Every item of a paged AWS list call, following ``NextToken`` to the last page.

    Args:
        operation: a boto3 client method (``sm.list_monitoring_executions``).
        key: the list in each response (``"MonitoringExecutionSummaries"``).
        **kwargs: the call's parameters.
    """
    token = None
    while True:
        page = operation(**kwargs, **({"NextToken": token} if token else {}))
        yield from page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return
