"""What the staff views share, done once per view as Indico's request-handler base classes do:
check the role, then load the wave the URL names (and, where the URL names one, check that the wave
carries the questionnaire), so a view starts from objects that exist and that the user may see.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort

from .accounts.auth import role_required
from .extensions import db
from .fieldwork.waves import wave_by_code


def wave_view(part: str, questionnaire: bool = False) -> Callable:
    """A view of one wave, for the roles of `part`: the URL's `wave_code` becomes `wave` (404
    when there is no such wave). With `questionnaire`, the URL's `questionnaire` must be one the
    wave carries (404 otherwise)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def load(*args, wave_code: str, **kwargs):
            wave = wave_by_code(db.session, wave_code)
            if wave is None:
                abort(404)
            if questionnaire and kwargs["questionnaire"] not in wave.questionnaire_codes:
                abort(404)
            return view(*args, wave=wave, **kwargs)

        # The role first: someone logged out is sent to log in, not told what exists.
        return role_required(part)(load)

    return decorate
