"""Quotas: import targets from a CSV file, set them in a form, choose what a full cell does."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from analysis.problems import Problem

from ..accounts.auth import role_required
from ..extensions import db
from ..fieldwork import quotas
from ..fieldwork.quota_file import QuotaInvalid, import_quota
from ..fieldwork.waves import all_waves
from ..models import Quota, Wave
from ..questionnaire.store import definition, latest_version, latest_versions
from .blueprint import bp

MAX_FILE = 1024 * 1024


@bp.get("/quotas")
@role_required("admin")
def quotas_home():
    return render_template("admin/quotas.html", rows=quotas.quota_summaries(db.session))


@bp.route("/quotas/import", methods=["GET", "POST"])
@role_required("admin")
def quota_import():
    form = FlaskForm()
    waves = all_waves(db.session)
    codes = sorted(latest_versions(db.session))
    errors: list[Problem] = []
    chosen = {
        "wave": request.form.get("wave", ""),
        "questionnaire": request.form.get("questionnaire", "citizen"),
        "name": request.form.get("name", "main").strip(),
        "when_full": request.form.get("when_full", "screen_out"),
    }
    if request.method == "POST" and form.validate_on_submit():
        upload = request.files.get("file")
        wave = next((w for w in waves if w.code == chosen["wave"]), None)
        if wave is None:
            errors.append(Problem.at_row(0, _("Choose a wave.")))
        if chosen["questionnaire"] not in codes:
            errors.append(Problem.at_row(0, _("Choose a questionnaire.")))
        if not chosen["name"] or len(chosen["name"]) > 100:
            errors.append(Problem.at_row(0, _("Give the quota a name of at most 100 characters.")))
        if chosen["when_full"] not in quotas.WHEN_FULL:
            errors.append(Problem.at_row(0, _("Choose what happens when a cell is full.")))
        if upload is None or not upload.filename:
            errors.append(Problem.at_row(0, _("Choose a CSV file to import.")))
        if not errors:
            data = upload.read(MAX_FILE + 1)
            try:
                if len(data) > MAX_FILE:
                    raise QuotaInvalid([Problem.at_row(0, _("The file is larger than 1 MB."))])
                questionnaire = definition(latest_versions(db.session)[chosen["questionnaire"]])
                with db.transaction() as tx:
                    quota, count = import_quota(
                        tx,
                        wave,
                        questionnaire,
                        chosen["name"],
                        chosen["when_full"],
                        data,
                        upload.filename,
                    )
                flash(
                    _(
                        "%(num)s cells imported into the quota %(name)s.",
                        num=count,
                        name=chosen["name"],
                    ),
                    "info",
                )
                return redirect(url_for("admin.quota_edit", quota_id=quota.id))
            except QuotaInvalid as exc:
                db.session.rollback()
                errors = exc.problems
    status = 400 if errors or form.errors else 200
    return render_template(
        "admin/quota_import.html", form=form, waves=waves, codes=codes, chosen=chosen, errors=errors
    ), status


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
