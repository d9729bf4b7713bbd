"""``python -m mmutils.analyzer``: the analyzer container's entry point (see ``container``).

This process only supervises: it reads the time limit, starts the isolated child that runs the
analysis (:mod:`mmutils.analyzer.isolation`) and waits for its report. The modules that do the
analysis (pyarrow, numpy behind them) are therefore loaded lazily here
(:class:`importlib.util.LazyLoader`): the container module binds them, but they execute only if
an attribute is used — on the happy path never, in this process; a failure message may load
one. The child imports everything normally. This saves the parent about as much start-up time
as the analysis of an hourly window takes.
"""

import importlib.util
import sys

#: the analysis modules ``container`` imports that its supervising side does not need
_LAZY = ("mmutils.analyzer.monitor", "mmutils.analyzer.scripts", "mmutils.analyzer.jsonfmt")


def _import_lazily(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, module)


if __name__ == "__main__":
    for _name in _LAZY:
        _import_lazily(_name)

    from mmutils.analyzer.container import main

    sys.exit(main())
