"""Responses one by one, for admins: the list of a questionnaire's responses in a wave, one
response's answers (never who gave them), marked invalid with a reason, or restored."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from ..extensions import db
from ..fieldwork import response_review
from ..handlers import wave_view
from ..models import RESPONSE_STATUSES, Wave
from ..urls import int_arg
from .blueprint import bp
from .forms import InvalidateForm

MODE_NAMES = {"web": _l("web"), "paper": _l("paper")}
STATUS_NAMES = {
    "in_progress": _l("in progress"),
    "complete": _l("complete"),
    "screened_out": _l("screened out"),
    "invalid": _l("marked invalid"),
}


@bp.get("/responses/<wave_code>/<questionnaire>")
@wave_view("admin", questionnaire=True)
def responses(wave: Wave, questionnaire: str):
    status = request.args.get("status") or None
    if status not in (*RESPONSE_STATUSES, "invalid", None):
        status = None
    page = int_arg("page", 1) or 1
    listed, total = response_review.responses_of(db.session, wave.id, questionnaire, page, status)
    pages = max(1, -(-total // response_review.PER_PAGE))
    return render_template(
        "admin/responses.html",
        wave=wave,
        questionnaire=questionnaire,
        listed=listed,
        total=total,
        page=min(page, pages),
        pages=pages,
        status=status,
        mode_names=MODE_NAMES,
        status_names=STATUS_NAMES,
    )


def _response_or_404(wave: Wave, questionnaire: str, response_id: int):
    found = response_review.response_in(db.session, wave.id, questionnaire, response_id)
    if found is None:
        abort(404)
    return found


def _page(wave, questionnaire, response, form, status=200):
    view = response_review.view_of(db.session, response)
    return render_template(
        "admin/response.html",
        wave=wave,
        questionnaire=questionnaire,
        view=view,
        form=form,
        restore_form=FlaskForm(),
        mode_names=MODE_NAMES,
        status_names=STATUS_NAMES,
    ), status


@bp.get("/responses/<wave_code>/<questionnaire>/<int:response_id>")
@wave_view("admin", questionnaire=True)
def response_view(wave: Wave, questionnaire: str, response_id: int):
    response = _response_or_404(wave, questionnaire, response_id)
    return _page(wave, questionnaire, response, InvalidateForm(formdata=None))


@bp.post("/responses/<wave_code>/<questionnaire>/<int:response_id>/invalid")
@wave_view("admin", questionnaire=True)
def response_invalidate(wave: Wave, questionnaire: str, response_id: int):
    response = _response_or_404(wave, questionnaire, response_id)
    form = InvalidateForm()
    if not form.validate_on_submit():
        return _page(wave, questionnaire, response, form, 400)
    try:
        with db.transaction() as tx:
            response_review.invalidate(tx, response.id, form.reason.data)
    except response_review.CannotInvalidate:
        flash(_("Only a complete response that still counts can be marked invalid."), "warning")
        return redirect(_here(wave, questionnaire, response_id))
    flash(
        _(
            "Response %(number)s is marked invalid: it no longer counts in quotas, the dashboard, "
            "exports or weighting.",
            number=response_id,
        ),
        "info",
    )
    return redirect(_here(wave, questionnaire, response_id))


@bp.post("/responses/<wave_code>/<questionnaire>/<int:response_id>/restore")
@wave_view("admin", questionnaire=True)
def response_restore(wave: Wave, questionnaire: str, response_id: int):
    _response_or_404(wave, questionnaire, response_id)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    with db.transaction() as tx:
        restored = response_review.restore(tx, response_id)
    if restored is None:
        flash(_("This response is not marked invalid."), "warning")
    else:
        flash(_("Response %(number)s counts again.", number=response_id), "info")
    return redirect(_here(wave, questionnaire, response_id))


def _here(wave: Wave, questionnaire: str, response_id: int) -> str:
    return url_for(
        "admin.response_view",
        wave_code=wave.code,
        questionnaire=questionnaire,
        response_id=response_id,
    )
