"""Pages for statisticians: weighting runs, scores, the index, the wave report and exports."""

# The views register themselves on `bp` when imported.
from . import views  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
