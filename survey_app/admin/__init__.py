"""Pages for the people who run a survey: login, waves, invitations, quotas, monitoring, audit,
users."""

# The views register themselves on `bp` when imported.
from . import audit, invitations, login, monitor, questionnaires, quotas, users, waves  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
