"""Waves: one round in the field, its questionnaires, open and close times, status."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..accounts import audit
from ..accounts.auth import role_required
from ..extensions import db
from ..i18n import LANGUAGES
from ..models import Response, Wave, WaveQuestionnaire
from ..questionnaire.store import definition, latest_versions
from . import bp
from .forms import WaveForm


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def to_utc(local: dt.datetime | None) -> dt.datetime | None:
    if local is None:
        return None
    return local.replace(tzinfo=_zone()).astimezone(dt.UTC).replace(tzinfo=None)


def to_local_text(utc: dt.datetime | None) -> str:
    if utc is None:
        return ""
    return utc.replace(tzinfo=dt.UTC).astimezone(_zone()).strftime("%Y-%m-%d %H:%M")


def _questionnaire_choices() -> list[tuple[str, str]]:
    from flask import g

    versions = latest_versions(db.session)
    return [
        (code, f"{code}: {definition(v).title[g.lang]}") for code, v in sorted(versions.items())
    ]


@bp.get("/waves")
@role_required("admin")
def waves():
    rows = db.session.execute(
        select(Wave, func.count(Response.id))
        .outerjoin(Response, (Response.wave_id == Wave.id) & (Response.status == "complete"))
        .group_by(Wave.id)
        .order_by(Wave.created_at.desc(), Wave.id.desc())
    ).all()
    return render_template("admin/waves.html", rows=rows)


@bp.route("/waves/new", methods=["GET", "POST"])
@role_required("admin")
def wave_new():
    return _wave_form(None)


@bp.route("/waves/<int:wave_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def wave_edit(wave_id: int):
    wave = db.session.get(Wave, wave_id) or abort(404)
    return _wave_form(wave)


def _wave_form(wave: Wave | None):
    form = WaveForm()
    form.questionnaire_choices = _questionnaire_choices()
    if wave is not None and not form.is_submitted():
        form.code.data = wave.code
        for lang in LANGUAGES:
            form[f"title_{lang}"].data = wave.title.get(lang)
        form.status.data = wave.status
        form.opens_at.data = to_local_text(wave.opens_at)
        form.closes_at.data = to_local_text(wave.closes_at)
        form.questionnaires.data = [wq.questionnaire_code for wq in wave.questionnaires]
    if form.validate_on_submit():
        taken = db.session.scalars(select(Wave).where(Wave.code == form.code.data)).first()
        if taken is not None and taken is not wave:
            form.code.errors.append(_("Another wave already has this code."))
        else:
            with db.transaction() as tx:
                if wave is None:
                    wave = Wave(code=form.code.data, title={})
                    tx.add(wave)
                wave.code = form.code.data
                wave.title = {lang: form[f"title_{lang}"].data.strip() for lang in LANGUAGES}
                wave.status = form.status.data
                wave.opens_at = to_utc(getattr(form.opens_at, "parsed", None))
                wave.closes_at = to_utc(getattr(form.closes_at, "parsed", None))
                chosen = set(form.questionnaires.data)
                wave.questionnaires = [
                    wq for wq in wave.questionnaires if wq.questionnaire_code in chosen
                ]
                present = {wq.questionnaire_code for wq in wave.questionnaires}
                wave.questionnaires.extend(
                    WaveQuestionnaire(questionnaire_code=c) for c in sorted(chosen - present)
                )
                tx.flush()
                audit.record(
                    tx,
                    "wave_saved",
                    {"wave": wave.code, "status": wave.status, "questionnaires": sorted(chosen)},
                )
            flash(_("Wave %(code)s saved.", code=wave.code), "info")
            return redirect(url_for("admin.waves"))
    status = 400 if form.errors else 200
    return render_template("admin/wave_form.html", form=form, wave=wave), status
