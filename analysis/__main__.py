"""``python -m analysis weight|estimate``: see `analysis.cli`."""

import sys

from analysis.cli import main

sys.exit(main())
