"""Pages for respondents: open links and personal invitations, page by page, resume codes."""

# The views register themselves on `bp` when imported.
from . import optout, views  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
