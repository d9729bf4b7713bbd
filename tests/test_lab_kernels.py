"""Kernels started ahead of their notebook (``mmlab run``): warm, fresh, and clean."""

from __future__ import annotations

from jupyter_core.utils import run_sync

from mmutils.lab.kernels import KernelsAhead, preload_line
from mmutils.paths import NOTEBOOKS


def test_the_preload_line_imports_without_binding_names():
    namespace: dict = {}
    exec(preload_line(("json", "email.mime.text")), namespace)  # noqa: S102 - our own line
    assert set(namespace) == {"__builtins__"}


def _run(kernel, code: str) -> str:
    """Execute ``code`` in the kernel; its stdout."""
    client = kernel.manager.client()
    client.start_channels()
    try:
        run_sync(client.wait_for_ready)(timeout=120)
        out: list[str] = []

        def collect(msg):
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])

        run_sync(client.execute_interactive)(code, output_hook=collect, timeout=60)
        return "".join(out)
    finally:
        client.stop_channels()


def test_kernels_ahead_are_preloaded_fresh_and_stopped():
    ahead = KernelsAhead(NOTEBOOKS, 2)
    try:
        first = ahead.take()
        ahead.prestart()
        second = ahead._next
        assert second is not None and second.manager.has_kernel  # started during the first
        probe = (
            "import sys\n"
            "print('sagemaker' in sys.modules, 'mmutils.lab' in sys.modules, "
            "sorted(k for k in dir() if not k.startswith('_') and k not in "
            "('In', 'Out', 'exit', 'quit', 'get_ipython', 'open', 'sys')))"
        )
        # imported, nothing bound beyond what IPython binds itself
        assert _run(first, probe).strip() == "True True []"
        _run(first, "left_behind = 1")
        assert ahead.take() is second
        assert not first.manager.has_kernel  # the finished notebook's kernel is stopped
        assert "left_behind" not in _run(second, "print(dir())")  # each notebook: a fresh kernel
        assert ahead._next is None  # no third kernel for two notebooks
    finally:
        ahead.close()
    assert not second.manager.has_kernel
