"""Quotas: import targets from a CSV file, set them in a form, choose what a full cell does."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from analysis.problems import Problem

from ..accounts import audit
from ..accounts.auth import role_required
from ..extensions import db
from ..fieldwork.quota_file import QuotaInvalid, parse_cells, read_csv, store_quota
from ..fieldwork.quotas import SEPARATOR
from ..models import Quota, QuotaCell, Wave
from ..questionnaire.store import definition, latest_version, latest_versions
from . import bp

MAX_FILE = 1024 * 1024


def cell_labels(quota: Quota, cell_keys: list[str]) -> list[list[str]]:
    """Each cell's answers as the questionnaire words them, in the page's language (the
    questionnaire is looked up once for all cells)."""
    version = latest_version(db.session, quota.questionnaire_code)
    questionnaire = definition(version) if version else None
    labelled = []
    for cell_key in cell_keys:
        labels = []
        for variable, value in zip(quota.variables, cell_key.split(SEPARATOR), strict=False):
            item = questionnaire.by_code.get(variable) if questionnaire else None
            option = item.option(value) if item else None
            labels.append(option.label[g.lang] if option else value)
        labelled.append(labels)
    return labelled


@bp.get("/quotas")
@role_required("admin")
def quotas_home():
    rows = db.session.execute(
        select(
            Quota,
            Wave.code,
            func.count(QuotaCell.id),
            func.coalesce(func.sum(QuotaCell.target), 0),
            func.coalesce(func.sum(QuotaCell.complete), 0),
        )
        .join(Wave, Wave.id == Quota.wave_id)
        .outerjoin(QuotaCell, QuotaCell.quota_id == Quota.id)
        .group_by(Quota.id, Wave.code)
        .order_by(Wave.code, Quota.questionnaire_code, Quota.name)
    ).all()
    return render_template("admin/quotas.html", rows=rows)


@bp.route("/quotas/import", methods=["GET", "POST"])
@role_required("admin")
def quota_import():
    form = FlaskForm()
    waves = db.session.scalars(select(Wave).order_by(Wave.created_at.desc())).all()
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
        if chosen["when_full"] not in ("screen_out", "flag"):
            errors.append(Problem.at_row(0, _("Choose what happens when a cell is full.")))
        if upload is None or not upload.filename:
            errors.append(Problem.at_row(0, _("Choose a CSV file to import.")))
        if not errors:
            data = upload.read(MAX_FILE + 1)
            try:
                if len(data) > MAX_FILE:
                    raise QuotaInvalid([Problem.at_row(0, _("The file is larger than 1 MB."))])
                header, rows = read_csv(data)
                questionnaire = definition(latest_versions(db.session)[chosen["questionnaire"]])
                variables, cells = parse_cells(questionnaire, header, rows)
                with db.transaction() as tx:
                    quota = store_quota(
                        tx,
                        wave.id,
                        chosen["questionnaire"],
                        chosen["name"],
                        variables,
                        cells,
                        chosen["when_full"],
                    )
                    audit.record(
                        tx,
                        "quota_imported",
                        {
                            "wave": wave.code,
                            "questionnaire": chosen["questionnaire"],
                            "quota": chosen["name"],
                            "cells": len(cells),
                            "file": upload.filename[:200],
                        },
                    )
                flash(
                    _(
                        "%(num)s cells imported into the quota %(name)s.",
                        num=len(cells),
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
    cells = db.session.scalars(
        select(QuotaCell).where(QuotaCell.quota_id == quota.id).order_by(QuotaCell.cell_key)
    ).all()
    if request.method == "POST" and form.validate_on_submit():
        when_full = request.form.get("when_full")
        targets = {}
        for cell in cells:
            raw = request.form.get(f"target-{cell.id}", "").strip()
            if not raw.isdigit() or len(raw) > 7:
                errors[cell.id] = _("Enter a whole number of 0 or more.")
            elif int(raw) < cell.complete:
                errors[cell.id] = _(
                    "At least %(num)s: that many responses are complete.", num=cell.complete
                )
            else:
                targets[cell.id] = int(raw)
        if when_full not in ("screen_out", "flag"):
            errors[0] = _("Choose what happens when a cell is full.")
        if not errors:
            with db.transaction() as tx:
                locked = {
                    c.id: c
                    for c in tx.scalars(
                        select(QuotaCell)
                        .where(QuotaCell.quota_id == quota.id)
                        .order_by(QuotaCell.id)
                        .with_for_update()
                    )
                }
                changed = {}
                for cell_id, target in targets.items():
                    cell = locked[cell_id]
                    if target < cell.complete:  # counted meanwhile
                        errors[cell_id] = _(
                            "At least %(num)s: that many responses are complete.", num=cell.complete
                        )
                    elif cell.target != target:
                        changed[cell.cell_key] = [cell.target, target]
                        cell.target = target
                if errors:
                    tx.rollback()
                else:
                    tx.get(Quota, quota.id).when_full = when_full
                    audit.record(
                        tx,
                        "quota_changed",
                        {"quota": quota.name, "when_full": when_full, "targets": changed},
                    )
            if not errors:
                flash(_("Quota %(name)s saved.", name=quota.name), "info")
                return redirect(url_for("admin.quota_edit", quota_id=quota.id))
    wave = db.session.get(Wave, quota.wave_id)
    rows = list(zip(cells, cell_labels(quota, [c.cell_key for c in cells]), strict=True))
    status = 400 if errors else 200
    return render_template(
        "admin/quota_edit.html", quota=quota, wave=wave, rows=rows, errors=errors, form=form
    ), status
