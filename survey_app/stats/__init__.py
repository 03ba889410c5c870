"""Pages for statisticians: weighting runs, scores, the index, the wave report and exports."""

from flask import Blueprint

from ..i18n import bind_language

bp = Blueprint("stats", __name__, url_prefix="/<lang>/stats", template_folder="templates")

bind_language(bp)


# The views register themselves on `bp`.
from . import views  # noqa: E402,F401
