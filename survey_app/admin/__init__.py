"""Pages for the people who run a survey: login, waves, invitations, quotas, monitoring, audit."""

# The views register themselves on `bp` when imported.
from . import audit, invitations, login, monitor, questionnaires, quotas, waves  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
