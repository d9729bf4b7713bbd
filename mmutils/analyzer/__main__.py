"""``python -m mmutils.analyzer``: the analyzer container's entry point (see ``container``)."""

import sys

from mmutils.analyzer.container import main

if __name__ == "__main__":
    sys.exit(main())
