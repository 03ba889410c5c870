"""The interface languages: Vietnamese first (the default), English second."""

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


def bind_language(blueprint) -> None:
    """Take the language from the URL prefix `/<lang>/` of every route of `blueprint`, keep it in
    `g.lang` for the locale selector, and put it back into every URL built for it."""
    from flask import abort, g

    @blueprint.url_value_preprocessor
    def _pull_lang(_endpoint, values):
        lang = (values or {}).pop("lang", None)
        if lang not in LANGUAGES:
            abort(404)
        g.lang = lang

    @blueprint.url_defaults
    def _add_lang(_endpoint, values):
        if "lang" not in values:
            values["lang"] = getattr(g, "lang", None) or LANGUAGES[0]
