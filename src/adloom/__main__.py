"""``python -m adloom``: the same entry point as the console script."""

import sys

from adloom.cli import main

# Guarded: a spawned compose worker (``pipeline._Composers``) imports this module as
# its parent's main module, and must not run a second adloom.
if __name__ == "__main__":
    sys.exit(main())
