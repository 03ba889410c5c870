"""Locale from the URL (`/vi/...`, `/en/...`), else Accept-Language; formatting for templates."""

from __future__ import annotations

import os

from flask import Flask, g, request
from flask_babel import force_locale, format_date, format_datetime, format_decimal, format_percent

from .extensions import babel
from .languages import DEFAULT_LANGUAGE, LANGUAGES


def select_locale() -> str:
    lang = getattr(g, "lang", None)
    if lang in LANGUAGES:
        return lang
    if request:
        view_lang = (request.view_args or {}).get("lang")
        if view_lang in LANGUAGES:
            return view_lang
        return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def cli_locale() -> str:
    """The language of command-line messages: PAR_LANG, else LANG, else English."""
    for variable in ("PAR_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value[:2] in LANGUAGES:
            return value[:2]
    return "en"


def in_cli_locale():
    return force_locale(cli_locale())


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES)
    app.jinja_env.filters.update(
        number=format_decimal,
        percent=format_percent,
        date=format_date,
        datetime=format_datetime,
    )
