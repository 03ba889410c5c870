"""The respondents' blueprint, apart from the views that register on it."""

from flask import Blueprint

from ..i18n import bind_language

bp = Blueprint("respond", __name__, url_prefix="/<lang>", template_folder="templates")

bind_language(bp)
