"""``python -m analysis weight|estimate|score|index|check-scheme``: see `analysis.cli`."""

import sys

from analysis.cli import main

sys.exit(main())
