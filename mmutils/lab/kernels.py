"""Kernels started ahead of their notebook, for ``mmlab run``.

A lab notebook spends its first seconds starting a kernel and importing the SageMaker SDK
(``import sagemaker`` alone takes 3-4 s), on one core, while the other idles. ``mmlab run``
therefore starts each notebook's kernel while the previous notebook runs, and lets it import
the heavy modules the notebooks import (:data:`PRELOAD`) as it starts (IPython's
``exec_lines``, run before the kernel answers; nothing is bound in the notebook's namespace,
nothing of the SDK is patched: the notebook's own ``import`` and ``mmutils.connect`` then do
what they always do, faster). Each notebook still gets a fresh kernel of its own.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

#: modules every lab notebook imports first (``mmutils`` first: it quiets the SDK's import)
PRELOAD = (
    "mmutils",
    "mmutils.lab",
    "mmutils.viz",
    "pandas",
    "sagemaker",
    "sagemaker.model",
    "sagemaker.model_monitor",
    "sagemaker.predictor",
    "sagemaker.s3",
    "sagemaker.serializers",
)


def preload_line(modules: tuple[str, ...] = PRELOAD) -> str:
    """The ``exec_lines`` entry that imports ``modules`` without binding a name."""
    return f"for _mmlab_module in {modules!r}: __import__(_mmlab_module)\ndel _mmlab_module"


class Kernel:
    """A python3 kernel started now, for a notebook that runs later.

    Args:
        cwd: the kernel's working folder (the notebooks' folder).
        preload: modules to import while it starts.
    """

    def __init__(self, cwd: Path, preload: tuple[str, ...] = PRELOAD) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self._sockets = tempfile.TemporaryDirectory(prefix="mmlab-kernel-")
        # local IPC sockets: TCP kernels warn about plain-text transport
        self.manager = AsyncKernelManager(
            kernel_name="python3", transport="ipc", ip=str(Path(self._sockets.name) / "k")
        )
        extra = [f"--IPKernelApp.exec_lines={preload_line(preload)}"] if preload else []
        run_sync(self.manager.start_kernel)(cwd=str(cwd), extra_arguments=extra)

    def shutdown(self) -> None:
        """Stop the kernel (at once) and remove its sockets."""
        from jupyter_core.utils import run_sync

        with contextlib.suppress(Exception):
            if self.manager.has_kernel:
                run_sync(self.manager.shutdown_kernel)(now=True)
        self._sockets.cleanup()


class KernelsAhead:
    """Hands out kernels, keeping one started ahead while ``remaining`` notebooks need one.

    Args:
        cwd: the kernels' working folder.
        count: how many notebooks will ask for a kernel.
    """

    def __init__(self, cwd: Path, count: int) -> None:
        self._cwd = cwd
        self._left = count
        self._next: Kernel | None = None
        self._current: Kernel | None = None

    def prestart(self) -> None:
        """Start the next notebook's kernel now (if one is still needed and none waits)."""
        if self._next is None and self._left > 0:
            self._next = Kernel(self._cwd)

    def take(self) -> Kernel:
        """The kernel for the next notebook (stopping the previous notebook's kernel)."""
        self.release()
        self.prestart()
        kernel, self._next = self._next, None
        self._left -= 1
        self._current = kernel
        return kernel

    def release(self) -> None:
        """Stop the kernel of the notebook that finished."""
        if self._current is not None:
            self._current.shutdown()
            self._current = None

    def close(self) -> None:
        """Stop every kernel this object started."""
        self.release()
        if self._next is not None:
            self._next.shutdown()
            self._next = None
