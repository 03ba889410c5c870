"""The stats blueprint, apart from the views that register on it, so that they import it
without importing their own package."""

from flask import Blueprint

from ..i18n import bind_language

bp = Blueprint("stats", __name__, url_prefix="/<lang>/stats", template_folder="templates")

bind_language(bp)
