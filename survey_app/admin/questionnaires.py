"""Questionnaires: the versions loaded, each downloadable as an XLSForm, and an XLSForm upload
that becomes a questionnaire (all or nothing; the upload is bounded and read as every workbook
upload is)."""

from __future__ import annotations

import io

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from analysis.problems import Problem

from ..accounts.auth import role_required
from ..downloads import download
from ..extensions import csrf, db
from ..fieldwork.xlsform_import import import_xlsform
from ..questionnaire.paper_form import paper_form
from ..questionnaire.store import (
    definition,
    latest_version,
    latest_versions,
    version_numbers,
    version_of,
)
from ..questionnaire.validate import IDENTIFIER
from ..questionnaire.xlsform_read import XLSFormInvalid
from ..questionnaire.xlsform_write import write_xlsform
from ..urls import upload_fits
from .blueprint import bp
from .forms import XLSFormImportForm

#: An XLSForm of a thousand questions is well under 1 MB.
MAX_FILE = 2 * 1024 * 1024


@bp.get("/questionnaires")
@role_required("admin")
def questionnaires():
    return _page(XLSFormImportForm(formdata=None), [], 200)


def _page(form, errors, status):
    versions = [(code, v, definition(v)) for code, v in sorted(latest_versions(db.session).items())]
    return render_template(
        "admin/questionnaires.html",
        versions=versions,
        numbers=version_numbers(db.session),
        form=form,
        errors=errors,
    ), status


@bp.get("/questionnaires/<code>/v<int:number>/paper")
@role_required("paper")
def questionnaire_paper(code: str, number: int):
    """The printable form of one version, in the language of the address (/vi/ or /en/)."""
    version = version_of(db.session, code, number) if IDENTIFIER.match(code) else None
    if version is None:
        abort(404)
    form = paper_form(definition(version), g.lang)
    return render_template("admin/paper_form.html", form=form, version=version)


@bp.get("/questionnaires/<code>.xlsx")
@role_required("admin")
def questionnaire_xlsform(code: str):
    version = latest_version(db.session, code) if IDENTIFIER.match(code) else None
    if version is None:
        abort(404)
    target = io.BytesIO()
    write_xlsform(definition(version), target)
    return download(
        target.getvalue(),
        f"{code}-v{version.version}-xlsform.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.post("/questionnaires/import")
@csrf.exempt  # the form checks its own CSRF token, after this route's upload limit is set
@role_required("admin")
def questionnaire_import():
    if not upload_fits(MAX_FILE):
        problem = Problem.at_row(
            0, _("The file is larger than %(size)s MB.", size=MAX_FILE // (1024 * 1024))
        )
        return _page(XLSFormImportForm(formdata=None), [problem], 413)
    form = XLSFormImportForm()
    if not form.validate_on_submit():
        problems = [
            Problem.at_row(0, message)
            for name, messages in form.errors.items()
            for message in (
                messages if name != "csrf_token" else [_("The form expired. Please send it again.")]
            )
        ]
        return _page(form, problems, 400)
    upload = form.file.data
    filename = (upload.filename or "xlsform.xlsx")[:200]
    try:
        with db.transaction() as tx:
            done = import_xlsform(
                tx,
                upload.read(),
                filename,
                form.code.data or None,
                form.group.data,
                form.access.data,
                form.replace.data,
            )
    except XLSFormInvalid as exc:
        return _page(form, exc.problems, 400)
    flash(
        _(
            "Questionnaire %(code)s version %(version)s imported from %(file)s.",
            code=done.result.code,
            version=done.result.version,
            file=filename,
        ),
        "info",
    )
    for notice in done.notices:
        flash(_("Left out: %(what)s", what=notice), "info")
    return redirect(url_for("admin.questionnaires"))
