"""Pages for the people who run a survey: login, waves, invitations, quotas, monitoring, audit."""

from flask import Blueprint

from ..i18n import bind_language

bp = Blueprint("admin", __name__, url_prefix="/<lang>/admin", template_folder="templates")


bind_language(bp)


# The views register themselves on `bp`.
from . import audit, invitations, login, monitor, quotas, waves  # noqa: E402,F401
