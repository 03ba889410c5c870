"""Pages for statisticians: weighting runs, scores, the index, the wave report and exports."""

from flask import Blueprint, abort, g, request, url_for

from ..languages import LANGUAGES

bp = Blueprint(
    "stats",
    __name__,
    url_prefix="/<lang>/stats",
    template_folder="templates",
)


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


@bp.after_request
def _no_store(response):
    # Pages and downloads about respondents are never kept by a shared cache.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.context_processor
def _same_page_in_other_language():
    def switch_language_url(other: str) -> str:
        if request.method != "GET" or not request.endpoint:
            return url_for("stats.home", lang=other)
        values = {**(request.view_args or {}), **request.args.to_dict(), "lang": other}
        return url_for(request.endpoint, **values)

    return {"switch_language_url": switch_language_url}


# The views register themselves on `bp`.
from . import views  # noqa: E402,F401
