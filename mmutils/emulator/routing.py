"""Request routing: each host's moto backend is looked up once, not on every request.

moto's ``DomainDispatcherApplication.get_backend_for_host`` searches its list of service
modules and then every service's URL patterns on each request: about a sixth of the server's
time under InvokeEndpoint load (measured with py-spy). The answer depends on the host alone,
so it is remembered per application and host.
"""

from __future__ import annotations

import threading
from typing import Any

from mmutils.emulator import patch_table

_TARGET = "moto.moto_server.werkzeug_app.DomainDispatcherApplication.get_backend_for_host"
#: a bound on remembered hosts (hosts come from clients' Host headers)
MAX_HOSTS = 1024


def _remembered(original):
    def get_backend_for_host(self, host: str | None) -> Any:
        cache: dict | None = getattr(self, "_mmlab_backend_for_host", None)
        if cache is None:
            cache = self._mmlab_backend_for_host = {}
        try:
            return cache[host]
        except KeyError:
            pass
        backend = original(self, host)
        if backend is not None and len(cache) < MAX_HOSTS:
            with _lock:
                cache[host] = backend
        return backend

    get_backend_for_host.__wrapped__ = original
    return get_backend_for_host


_lock = threading.Lock()


def install() -> None:
    """Remember each host's backend on moto's dispatcher application."""
    patch_table.wrap(_TARGET, _remembered)
