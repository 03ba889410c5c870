"""Pages for the people who run a survey: login, waves, invitations, quotas, monitoring, audit,
users."""

# The views register themselves on `bp` when imported.
from . import (  # noqa: F401
    audit,
    invitations,
    login,
    mailings,
    monitor,
    paper,
    questionnaires,
    quotas,
    responses,
    sites,
    trying,
    users,
    waves,
)
from .blueprint import bp

__all__ = ["bp"]
