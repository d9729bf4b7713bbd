"""How mmlab's errors look in a notebook: one short message, no traceback.

:func:`install` registers an IPython custom exception handler (``set_custom_exc``) for
:class:`mmutils.errors.MMLabError`: the cell fails (a Run-All stops there, papermill reports it)
and its error output is ``PrerequisiteError: … Run notebooks/01_capture.ipynb first …`` — the
message alone, without the Python or rich traceback (the SageMaker SDK installs rich tracebacks,
which would put the message under dozens of lines). A ``NameError`` keeps its traceback and gains
one line: after a kernel restart, run the notebook from *Setup*. A ``KeyboardInterrupt`` (the
kernel's interrupt button) is one line too: the cell stopped, the cells below did not run. Every
other error is unexpected and is shown as before.

``from mmutils import lab`` and :func:`mmutils.connect` call :func:`install`; outside IPython it
does nothing.
"""

from __future__ import annotations

import sys

from mmutils.errors import MMLabError

#: Printed under a NameError: the usual cause in the lab is a restarted kernel.
RESTART_HINT = (
    "Hint: after a kernel restart (or when a cell is run before the ones above it), run the "
    "notebook again from its Setup cell: it restores everything from the account."
)
_RED = "\x1b[0;31m"
_RESET = "\x1b[0m"


def short_traceback(etype: type, value: BaseException) -> list[str]:
    """The structured traceback of an ``MMLabError``: one line, ``Name: message``."""
    return [f"{_RED}{etype.__name__}{_RESET}: {value}"]


#: The one line an interrupted cell shows.
INTERRUPTED = "the kernel was interrupted: this cell stopped, and the cells below did not run."


def _handler(shell, etype, value, tb, tb_offset=None):
    if issubclass(etype, MMLabError):
        stb = short_traceback(etype, value)
    elif issubclass(etype, KeyboardInterrupt):
        stb = [f"{_RED}{etype.__name__}{_RESET}: {str(value) or INTERRUPTED}"]
    else:  # NameError: the plain traceback, and the hint
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
        stb = [*stb, RESTART_HINT]
    # IPython 9 only returns the handler's lines; show them with the shell's own method (the
    # class's: rich replaces the instance's _showtraceback with one that ignores them)
    type(shell)._showtraceback(shell, etype, value, stb)
    return stb


def install(shell=None) -> bool:
    """Register the handler in the running IPython shell.

    Args:
        shell: the shell (default: the running one, if any).

    Returns:
        True when a shell was found and the handler registered.
    """
    if shell is None:
        ipython = sys.modules.get("IPython")
        get = getattr(ipython, "get_ipython", None)
        shell = get() if get is not None else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    shell.set_custom_exc((MMLabError, NameError, KeyboardInterrupt), _handler)
    return True
