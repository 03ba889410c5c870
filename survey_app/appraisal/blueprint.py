"""The appraisal blueprint (unit officers, appraisers, and the admins who run rounds), apart from
the views that register on it."""

from flask import Blueprint

from ..i18n import bind_language

bp = Blueprint("appraisal", __name__, url_prefix="/<lang>/appraisal", template_folder="templates")


bind_language(bp)


@bp.context_processor
def _names() -> dict:
    from flask_babel import gettext as _

    return {
        "round_status_names": {
            "open": _("open for self-assessment and appraisal"),
            "published": _("published to the units"),
            "final": _("final"),
        }
    }
