"""Paper entry for interviewers: choose a questionnaire that takes responses now, then type the
paper forms in through the respondents' own pages (`accounts.paper_entry` marks this browser's
session; each response is stored as mode paper with the interviewer)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from ..accounts import audit, paper_entry
from ..accounts.auth import role_required
from ..extensions import db
from ..questionnaire.store import definition
from ..respond.services import open_questionnaires
from .blueprint import bp


def _open_codes() -> dict[str, tuple]:
    return {version.code: (wave, version) for wave, version in open_questionnaires(db.session)}


@bp.get("/paper")
@role_required("paper")
def paper_home():
    rows = [
        (code, wave, version, definition(version))
        for code, (wave, version) in _open_codes().items()
    ]
    return render_template("admin/paper.html", rows=rows, form=FlaskForm())


@bp.post("/paper/begin/<code>")
@role_required("paper")
def paper_begin(code: str):
    if code not in _open_codes():
        abort(404)
    paper_entry.begin(code)
    with db.transaction() as tx:
        audit.record(tx, "paper_entry_begun", {"questionnaire": code})
    return redirect(url_for("respond.start", code=code))


@bp.post("/paper/end")
@role_required("paper")
def paper_end():
    paper_entry.end()
    flash(_("Paper entry ended: this browser answers as a respondent again."), "info")
    return redirect(url_for("admin.paper_home"))
