"""Languages: the locale from the URL (`/vi/...`, `/en/...`), else Accept-Language; the `/<lang>/`
prefix of the blueprints; the language of the commands; formatting for templates.

The languages themselves are listed once, in `analysis.languages` (one per catalog)."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

from babel import Locale
from flask import Flask, abort, current_app, g, request
from flask_babel import (
    force_locale,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    get_locale,
    get_translations,
    gettext,
)

from analysis.languages import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, in_language
from analysis.messages import Message, from_json
from analysis.problems import Problem

from .extensions import babel

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "bind_language",
    "in_language",
    "init_app",
    "language_name",
    "say",
]


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


def language_name(lang: str) -> str:
    """A language named in the current locale: "Vietnamese" on an English page."""
    return Locale.parse(lang).get_display_name(get_locale() or DEFAULT_LANGUAGE)


def say(message) -> str:
    """A message of `analysis` (`analysis.messages`: a message, a located problem, or their
    stored JSON) in the current locale; plain text as it is."""
    message = from_json(message)
    if isinstance(message, Problem):
        text = say(message.message)
        where = ":".join(str(p) for p in (message.file, message.line) if p not in (None, ""))
        return ": ".join(part for part in (where, message.key, text) if part)
    if isinstance(message, Message):
        params = {key: _param(value) for key, value in message.params.items()}
        if message.plural is not None:
            # the catalog's form for the count, the count itself formatted as any number is
            # (Flask-Babel's ngettext would put it in as it is)
            count = message.params["num"]
            return get_translations().ngettext(message.template, message.plural, count) % params
        return gettext(message.template, **params) if params else gettext(message.template)
    return str(message)


def _param(value) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return format_decimal(value, "#,##0.##########")
    return say(value)


def cli_locale() -> str:
    """The language of command-line messages: PAR_LANG, else LANG, else English."""
    for variable in ("PAR_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value[:2] in LANGUAGES:
            return value[:2]
    return "en"


def in_cli_locale():
    return force_locale(cli_locale())


def bind_language(blueprint) -> None:
    """Take the language from the URL prefix `/<lang>/` of every route of `blueprint`, keep it in
    `g.lang` for the locale selector, and put it back into every URL built for it."""

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


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, say=say)
    app.jinja_env.filters.update(
        number=format_decimal,
        percent=format_percent,
        date=format_date,
        datetime=format_datetime,
    )


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def to_utc(local: dt.datetime | None) -> dt.datetime | None:
    """A time typed in a form (the app's local time zone) as stored: naive UTC."""
    if local is None:
        return None
    return local.replace(tzinfo=_zone()).astimezone(dt.UTC).replace(tzinfo=None)


def to_local_text(utc: dt.datetime | None) -> str:
    """A stored time as a datetime-local field shows it."""
    if utc is None:
        return ""
    return utc.replace(tzinfo=dt.UTC).astimezone(_zone()).strftime("%Y-%m-%dT%H:%M")
