"""Paper entry: an interviewer (or an admin) types in paper questionnaires through the
respondents' own pages. Their browser's session names the questionnaire being entered; a
response whose first page is saved while it does is stored as mode "paper" with the user who
typed it. Nothing here concerns invitations: a paper form carries no token, so an invitee's
anonymity (docs/security.md) is untouched."""

from __future__ import annotations

from flask import session
from flask_login import current_user

from .auth import ACCESS

#: The questionnaire code this browser is entering paper forms of.
PAPER_KEY = "paper_entry"


def begin(code: str) -> None:
    session[PAPER_KEY] = code


def end() -> None:
    session.pop(PAPER_KEY, None)


def entering(code: str) -> int | None:
    """The id of the logged-in user entering paper forms of `code` in this browser, or None
    (a respondent, or someone whose role may not enter paper forms)."""
    if session.get(PAPER_KEY) != code:
        return None
    if not current_user or not current_user.is_authenticated:
        return None
    if current_user.role not in ACCESS["paper"]:
        return None
    return current_user.id
