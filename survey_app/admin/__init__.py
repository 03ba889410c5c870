"""Pages for the people who run a survey: login, waves, invitations, quotas, monitoring, audit."""

from flask import Blueprint, abort, g

from ..languages import LANGUAGES

bp = Blueprint("admin", __name__, url_prefix="/<lang>/admin", template_folder="templates")


@bp.url_value_preprocessor
def _pull_lang(_endpoint, values):
    lang = (values or {}).pop("lang", None)
    if lang not in LANGUAGES:
        abort(404)
    g.lang = lang


@bp.url_defaults
def _add_lang(_endpoint, values):
    if "lang" not in values:
        values["lang"] = getattr(g, "lang", None) or LANGUAGES[0]


# The views register themselves on `bp`.
from . import audit_views, auth_views, exports, invitations, monitor, quotas, waves  # noqa: E402,F401
