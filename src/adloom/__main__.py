"""``python -m adloom``: the same entry point as the console script."""

import sys

from adloom.cli import main

sys.exit(main())
