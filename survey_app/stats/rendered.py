"""A finished run's results as HTML, built once per language and kept where every host reads it.

A finished run never changes, yet its page and the wave report took seconds on every view:
the scheme's YAML parsed again, four charts drawn by matplotlib, the tables walked row by row.
The results part of both pages (`_run_results.html`, `_report_results.html`: nothing in it
depends on who asks, no form, no token) is rendered on its first view and stored
(``runs/<id>/pages/...``); later views on any host read it back. What changes the HTML is in
the key: the language, and a fingerprint of the templates, of the code that builds the view and
draws the charts, and of the language's catalog, so a new release renders afresh.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path

from flask import current_app, g, render_template
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .. import storage
from ..extensions import db
from ..models import AnalysisRun
from . import report, services

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
FRAGMENTS = {"run": "stats/_run_results.html", "report": "stats/_report_results.html"}
#: Whatever the HTML is made from, besides the run's files and the language's catalog.
SOURCES = (
    *sorted((HERE / "templates" / "stats").glob("*.html")),
    HERE / "report.py",
    HERE / "charts.py",
    HERE / "services.py",
    HERE / "names.py",
    HERE.parent / "i18n.py",
    HERE / "rendered.py",
)


@functools.cache
def fingerprint(lang: str, translations: str) -> str:
    digest = hashlib.sha256()
    catalog = Path(translations) / lang / "LC_MESSAGES" / "messages.mo"
    for path in (*SOURCES, catalog):
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()[:16]


def key(run: AnalysisRun, fragment: str, lang: str) -> str:
    version = fingerprint(lang, current_app.config["BABEL_TRANSLATION_DIRECTORIES"])
    return f"runs/{run.id}/pages/{fragment}.{lang}.{version}.html"


def results_html(session: Session, run: AnalysisRun, fragment: str) -> Markup:
    """The results part of the run page (`fragment` "run") or the report ("report") of a
    finished run, in the request's language: kept, or rendered now and kept."""
    assert run.status == "done", "only a finished run's results are kept"
    name = key(run, fragment, g.lang)
    kept = storage.get(session, name)
    if kept is not None:
        return Markup(kept.decode("utf-8"))
    view = report.build(services.results(session, run))
    html = render_template(FRAGMENTS[fragment], run=run, view=view)
    try:
        with db.transaction() as tx:
            storage.keep(tx, name, html.encode("utf-8"))
    except SQLAlchemyError:  # not kept this time: the page is still shown
        log.warning("run %s: the rendered %s page was not kept", run.id, fragment, exc_info=True)
        db.session.remove()
    return Markup(html)
