"""A unit officer's pages: their unit's criteria, drafts, submission, evidence, the council's
points once published, and the one answer."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import csrf, db
from ..urls import upload_fits
from . import criteria as criteria_mod
from . import operations as ops
from .access import round_view
from .blueprint import bp
from .evidence_file import MAX_EVIDENCE_BYTES, EvidenceRefused
from .forms import AnswerForm, EvidenceForm, points_form


def _page(appraisal_round, unit, form=None, problem=None, status=200):
    unit_return = ops.unit_return(db.session, appraisal_round, unit)
    criteria = criteria_mod.of_round(appraisal_round)
    editable = ops.self_assessment_open(appraisal_round, unit_return)
    if form is None:
        form = points_form(criteria, _l("Explanation"))(formdata=None)
        current = ops.scores(db.session, unit_return)
        for i, c in enumerate(criteria):
            points = current[c.code].self_points
            form[f"points_{i}"].data = "" if points is None else f"{points:g}"
            form[f"text_{i}"].data = current[c.code].explanation or ""
    published = appraisal_round.status in ("published", "final")
    page = render_template(
        "appraisal/unit.html",
        round=appraisal_round,
        unit=unit,
        unit_return=unit_return,
        criteria=criteria,
        scores=ops.scores(db.session, unit_return),
        evidence=ops.evidence_of(db.session, unit_return),
        form=form,
        evidence_form=EvidenceForm(formdata=None),
        answer_form=AnswerForm(formdata=None),
        editable=editable,
        published=published,
        may_answer=ops.answer_open(appraisal_round, unit_return),
        problem=problem,
    )
    return page, status


@bp.get("/rounds/<int:round_id>/unit")
@round_view("officer", unit="own")
def unit_page(appraisal_round, unit):
    with db.transaction():
        return _page(appraisal_round, unit)


@bp.post("/rounds/<int:round_id>/unit")
@round_view("officer", unit="own")
def unit_save(appraisal_round, unit):
    criteria = criteria_mod.of_round(appraisal_round)
    form = points_form(criteria, _l("Explanation"))()
    if not (form.validate_on_submit() and form.post_validate_points()):
        with db.transaction():
            return _page(appraisal_round, unit, form=form, status=400)
    try:
        with db.transaction() as tx:
            unit_return = ops.unit_return(tx, appraisal_round, unit)
            ops.save_self(tx, appraisal_round, unit_return, form.entries(), current_user.email)
            if request.form.get("action") == "submit":
                ops.submit(tx, appraisal_round, unit_return, current_user.email)
    except ops.AppraisalRefused as exc:
        with db.transaction():
            return _page(appraisal_round, unit, form=form, problem=str(exc), status=400)
    if request.form.get("action") == "submit":
        flash(_("The self-assessment is submitted."), "info")
    else:
        flash(_("The draft is saved."), "info")
    return redirect(url_for("appraisal.unit_page", round_id=appraisal_round.id))


@bp.post("/rounds/<int:round_id>/unit/evidence")
@csrf.exempt  # the form checks its own CSRF token, after the larger upload limit is set
@round_view("officer", unit="own")
def unit_evidence(appraisal_round, unit):
    if not upload_fits(MAX_EVIDENCE_BYTES + 64 * 1024):
        problem = _(
            "The file is larger than %(size)s MB: give a link to where it is published instead.",
            size=MAX_EVIDENCE_BYTES // (1024 * 1024),
        )
        with db.transaction():
            return _page(appraisal_round, unit, problem=problem, status=413)
    form = EvidenceForm()
    if not form.validate_on_submit():
        problem = (
            _("The form expired. Please send it again.")
            if "csrf_token" in form.errors
            else _("Choose a criterion.")
        )
        with db.transaction():
            return _page(appraisal_round, unit, problem=problem, status=400)
    upload = form.file.data
    try:
        with db.transaction() as tx:
            unit_return = ops.unit_return(tx, appraisal_round, unit)
            if upload is not None and upload.filename:
                ops.add_evidence(
                    tx,
                    appraisal_round,
                    unit_return,
                    form.criterion.data,
                    current_user.email,
                    content=upload.read(MAX_EVIDENCE_BYTES + 1),
                    filename=upload.filename,
                )
            else:
                ops.add_evidence(
                    tx,
                    appraisal_round,
                    unit_return,
                    form.criterion.data,
                    current_user.email,
                    url=form.url.data or "",
                )
    except (ops.AppraisalRefused, EvidenceRefused) as exc:
        with db.transaction():
            return _page(appraisal_round, unit, problem=str(exc), status=400)
    flash(_("The evidence is added."), "info")
    return redirect(url_for("appraisal.unit_page", round_id=appraisal_round.id))


@bp.post("/rounds/<int:round_id>/unit/answer")
@round_view("officer", unit="own")
def unit_answer(appraisal_round, unit):
    form = AnswerForm()
    if not form.validate_on_submit():
        with db.transaction():
            return _page(appraisal_round, unit, problem=_("Write the answer."), status=400)
    try:
        with db.transaction() as tx:
            unit_return = ops.unit_return(tx, appraisal_round, unit)
            ops.answer(tx, appraisal_round, unit_return, form.answer.data, current_user.email)
    except ops.AppraisalRefused as exc:
        with db.transaction():
            return _page(appraisal_round, unit, problem=str(exc), status=400)
    flash(_("Your answer is sent to the council."), "info")
    return redirect(url_for("appraisal.unit_page", round_id=appraisal_round.id))
