"""Waves: one round in the field, its questionnaires, open and close times, status."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from ..accounts import audit
from ..accounts.auth import role_required
from ..extensions import db
from ..fieldwork import waves as waves_service
from ..i18n import LANGUAGES, in_language, to_local_text, to_utc
from ..models import Wave
from ..questionnaire.store import definition, latest_versions
from .blueprint import bp
from .forms import WaveForm


def _questionnaire_titles() -> dict[str, str]:
    """{code: title in the reader's language}, the latest version of each questionnaire."""
    versions = latest_versions(db.session)
    return {code: in_language(definition(v).title, g.lang) for code, v in sorted(versions.items())}


def _questionnaire_choices() -> list[tuple[str, str]]:
    return [(code, f"{title} ({code})") for code, title in _questionnaire_titles().items()]


def _warn_of_shared_questionnaires() -> None:
    for code, waves in waves_service.shared_open_questionnaires(db.session).items():
        flash(
            _(
                "%(questionnaire)s is in %(count)s open waves (%(waves)s): its open link takes "
                "respondents to the newest, %(newest)s, only. Close the other waves or take the "
                "questionnaire out of them.",
                questionnaire=_questionnaire_titles().get(code, code),
                count=len(waves),
                waves=", ".join(w.code for w in waves),
                newest=waves[0].code,
            ),
            "warning",
        )


@bp.get("/waves")
@role_required("admin")
def waves():
    waves = waves_service.all_waves(db.session)
    complete = waves_service.complete_by_wave(db.session)
    rows = [(wave, sum(complete[wave.id].values())) for wave in waves]
    _warn_of_shared_questionnaires()
    return render_template("admin/waves.html", rows=rows, titles=_questionnaire_titles())


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
        kept = wave.identities_kept_until
        form.identities_kept_until.data = kept.isoformat() if kept else ""
        form.questionnaires.data = [wq.questionnaire_code for wq in wave.questionnaires]
    if form.validate_on_submit():
        fields = waves_service.WaveFields(
            code=form.code.data,
            title={lang: form[f"title_{lang}"].data.strip() for lang in LANGUAGES},
            status=form.status.data,
            opens_at=to_utc(getattr(form.opens_at, "parsed", None)),
            closes_at=to_utc(getattr(form.closes_at, "parsed", None)),
            questionnaires=list(form.questionnaires.data),
            identities_kept_until=getattr(form.identities_kept_until, "parsed", None),
        )
        try:
            with db.transaction() as tx:
                wave = waves_service.save_wave(tx, wave, fields)
                details = {"wave": wave.code, "status": wave.status}
                if wave.identities_kept_until:
                    details["identities_kept_until"] = wave.identities_kept_until.isoformat()
                audit.record(
                    tx, "wave_saved", {**details, "questionnaires": sorted(fields.questionnaires)}
                )
        except waves_service.WaveCodeTaken:
            form.code.errors.append(_("Another wave already has this code."))
        else:
            flash(_("Wave %(code)s saved.", code=wave.code), "info")
            return redirect(url_for("admin.waves"))
    status = 400 if form.errors else 200
    return render_template("admin/wave_form.html", form=form, wave=wave), status
