"""Pages for the people who run a survey: login, waves, invitations, quotas, monitoring, audit."""

# The views register themselves on `bp` when imported.
from . import (  # noqa: F401
    audit,
    invitations,
    login,
    mailings,
    monitor,
    questionnaires,
    quotas,
    waves,
)
from .blueprint import bp

__all__ = ["bp"]
