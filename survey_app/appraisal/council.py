"""An appraiser's pages: a unit's self-assessment and evidence beside the council's points and
comments, the unit's answer and the council's note on it."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db
from . import criteria as criteria_mod
from . import operations as ops
from .access import round_view
from .blueprint import bp
from .forms import ConsiderForm, points_form


def _form_class(appraisal_round):
    return points_form(criteria_mod.of_round(appraisal_round), _l("Comment"))


def _page(appraisal_round, unit, form=None, problem=None, status=200):
    unit_return = ops.unit_return(db.session, appraisal_round, unit)
    criteria = criteria_mod.of_round(appraisal_round)
    current = ops.scores(db.session, unit_return)
    if form is None:
        form = _form_class(appraisal_round)(formdata=None)
        for i, c in enumerate(criteria):
            points = current[c.code].appraised_points
            form[f"points_{i}"].data = "" if points is None else f"{points:g}"
            form[f"text_{i}"].data = current[c.code].comment or ""
    consider = ConsiderForm(formdata=None)
    consider.note.data = unit_return.answer_considered or ""
    page = render_template(
        "appraisal/council.html",
        round=appraisal_round,
        unit=unit,
        unit_return=unit_return,
        criteria=criteria,
        scores=current,
        evidence=ops.evidence_of(db.session, unit_return),
        history=ops.history_of(db.session, unit_return),
        form=form,
        consider_form=consider,
        editable=ops.appraisal_open(appraisal_round),
        problem=problem,
    )
    return page, status


@bp.get("/rounds/<int:round_id>/units/<int:unit_id>")
@round_view("appraiser", unit="url")
def council_page(appraisal_round, unit):
    with db.transaction():
        return _page(appraisal_round, unit)


@bp.post("/rounds/<int:round_id>/units/<int:unit_id>")
@round_view("appraiser", unit="url")
def council_save(appraisal_round, unit):
    form = _form_class(appraisal_round)()
    if not (form.validate_on_submit() and form.post_validate_points()):
        with db.transaction():
            return _page(appraisal_round, unit, form=form, status=400)
    try:
        with db.transaction() as tx:
            unit_return = ops.unit_return(tx, appraisal_round, unit)
            ops.save_appraisal(tx, appraisal_round, unit_return, form.entries(), current_user.email)
    except ops.AppraisalRefused as exc:
        with db.transaction():
            return _page(appraisal_round, unit, form=form, problem=str(exc), status=400)
    flash(_("The council's points are saved."), "info")
    return redirect(url_for("appraisal.council_page", round_id=appraisal_round.id, unit_id=unit.id))


@bp.post("/rounds/<int:round_id>/units/<int:unit_id>/answer")
@round_view("appraiser", unit="url")
def council_consider(appraisal_round, unit):
    form = ConsiderForm()
    if not form.validate_on_submit():
        with db.transaction():
            return _page(appraisal_round, unit, status=400)
    try:
        with db.transaction() as tx:
            unit_return = ops.unit_return(tx, appraisal_round, unit)
            ops.consider_answer(tx, appraisal_round, unit_return, form.note.data or "")
    except ops.AppraisalRefused as exc:
        with db.transaction():
            return _page(appraisal_round, unit, problem=str(exc), status=400)
    flash(_("The note on the answer is saved."), "info")
    return redirect(url_for("appraisal.council_page", round_id=appraisal_round.id, unit_id=unit.id))
