"""Quotas: import targets from a CSV file, set them in a form, choose what a full cell does."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from analysis.problems import Problem

from ..accounts.auth import role_required
from ..extensions import csrf, db
from ..fieldwork import quotas
from ..fieldwork.quota_file import QuotaInvalid, import_quota
from ..fieldwork.waves import all_waves, wave_by_code
from ..models import Quota, Wave
from ..questionnaire.store import definition, latest_version, latest_versions
from ..urls import upload_fits
from .blueprint import bp
from .forms import QuotaImportForm

#: A quota file of MAX_CELLS cells (district x sex x age group for a whole country is far fewer)
#: is about 1.2 MB as CSV; 5 MB leaves room for long labels. More than the app's MAX_CONTENT_LENGTH.
MAX_FILE = 5 * 1024 * 1024


@bp.get("/quotas")
@role_required("admin")
def quotas_home():
    return render_template("admin/quotas.html", rows=quotas.quota_summaries(db.session))


@bp.route("/quotas/import", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own CSRF token, after this route's upload limit is set
@role_required("admin")
def quota_import():
    waves = all_waves(db.session)
    versions = latest_versions(db.session)
    if request.method == "POST" and not upload_fits(MAX_FILE):
        problem = Problem.at_row(
            0, _("The file is larger than %(size)s MB.", size=MAX_FILE // (1024 * 1024))
        )
        return _import_page(QuotaImportForm(formdata=None), waves, versions, [problem], 413)
    form = QuotaImportForm()
    form.wave.choices = [(w.code, w.code) for w in waves]
    form.questionnaire.choices = [(code, code) for code in sorted(versions)]
    if not form.validate_on_submit():
        problems = [
            Problem.at_row(0, message)
            for name, messages in form.errors.items()
            for message in (
                messages if name != "csrf_token" else [_("The form expired. Please send it again.")]
            )
        ]
        return _import_page(form, waves, versions, problems, 400 if problems else 200)
    upload = form.file.data
    try:
        with db.transaction() as tx:
            quota, count = import_quota(
                tx,
                wave_by_code(tx, form.wave.data),
                definition(versions[form.questionnaire.data]),
                form.name.data,
                form.when_full.data,
                upload.read(),
                upload.filename or "",
            )
    except QuotaInvalid as exc:
        return _import_page(form, waves, versions, exc.problems, 400)
    message = _("%(num)s cells imported into the quota %(name)s.", num=count, name=form.name.data)
    flash(message, "info")
    return redirect(url_for("admin.quota_edit", quota_id=quota.id))


def _import_page(form, waves, versions, errors, status):
    chosen = {name: form[name].data for name in ("wave", "questionnaire", "name", "when_full")}
    page = render_template(
        "admin/quota_import.html",
        form=form,
        waves=waves,
        codes=sorted(versions),
        chosen=chosen,
        errors=errors,
    )
    return page, status


@bp.route("/quotas/<int:quota_id>", methods=["GET", "POST"])
@role_required("admin")
def quota_edit(quota_id: int):
    quota = db.session.get(Quota, quota_id) or abort(404)
    form = FlaskForm()
    errors: dict[int, str] = {}
    if request.method == "POST" and form.validate_on_submit():
        typed = {
            int(name.removeprefix("target-")): value
            for name, value in request.form.items()
            if name.startswith("target-") and name.removeprefix("target-").isdecimal()
        }
        try:
            with db.transaction() as tx:
                quota = tx.get(Quota, quota.id)
                quotas.change_targets(tx, quota, typed, request.form.get("when_full"))
        except quotas.TargetsInvalid as exc:
            errors = exc.errors
        else:
            flash(_("Quota %(name)s saved.", name=quota.name), "info")
            return redirect(url_for("admin.quota_edit", quota_id=quota.id))
    cells = quotas.cells_of(db.session, quota)
    version = latest_version(db.session, quota.questionnaire_code)
    labels = quotas.cell_labels(
        definition(version) if version else None, quota, [c.cell_key for c in cells], g.lang
    )
    wave = db.session.get(Wave, quota.wave_id)
    rows = list(zip(cells, labels, strict=True))
    status = 400 if errors else 200
    return render_template(
        "admin/quota_edit.html", quota=quota, wave=wave, rows=rows, errors=errors, form=form
    ), status
