"""The pages every appraisal role starts from, and the admins' rounds: open one, follow its
progress, publish the council's points, finalise, reopen, delete, export the appraisal file;
evidence files."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import storage
from ..accounts import audit
from ..accounts.auth import role_required
from ..downloads import download
from ..extensions import db
from ..fieldwork import waves as waves_service
from ..i18n import to_utc
from ..models import RatedUnit
from ..stats import services as stats_services
from ..stats.services import schemes
from . import operations as ops
from . import progress as progress_mod
from . import results as results_mod
from .access import evidence_view, may_see_block, may_see_unit, round_view, whole_block
from .blueprint import bp
from .forms import ConfirmForm, PublishForm, ReopenForm, RoundForm, SendForm


@bp.get("/")
@role_required("appraisal")
def home():
    rounds = ops.all_rounds(db.session)
    unit = None
    if current_user.role == "officer":
        unit = db.session.get(RatedUnit, current_user.unit_id or 0)
        visible = [r for r in rounds if unit is not None and r.block == unit.block]
    else:
        visible = [r for r in rounds if may_see_block(r.block)]
    return render_template("appraisal/home.html", rounds=visible, unit=unit)


@bp.route("/rounds/new", methods=["GET", "POST"])
@role_required("admin")
def round_new():
    form = RoundForm()
    form.scheme.choices = [(name, name) for name in schemes()]
    problem = None
    if form.validate_on_submit():
        try:
            with db.transaction() as tx:
                appraisal_round = ops.open_round(
                    tx,
                    form.year.data,
                    form.block.data.strip(),
                    form.scheme.data,
                    to_utc(form.self_deadline.data),
                    form.points_step.parsed,
                )
        except ops.AppraisalRefused as exc:
            problem = str(exc)
        else:
            flash(_("The round is open."), "info")
            return redirect(url_for("appraisal.round_page", round_id=appraisal_round.id))
    status = 400 if form.errors or problem else 200
    return render_template("appraisal/round_new.html", form=form, problem=problem), status


@bp.get("/rounds/<int:round_id>")
@round_view("appraiser")
def round_page(appraisal_round):
    return _progress_page(appraisal_round)


def _progress_page(appraisal_round, problem=None, status=200, reopen_form=None):
    with db.transaction() as tx:
        units, differences = progress_mod.round_progress(tx, appraisal_round)
        page = render_template(
            "appraisal/round.html",
            round=appraisal_round,
            # an appraiser of one unit follows that unit only
            units=[p for p in units if may_see_unit(p.unit)],
            differences=[d for d in differences if may_see_unit(d.unit)],
            whole_block=whole_block(appraisal_round.block),
            publish_form=PublishForm(formdata=None),
            send_form=_send_form(formdata=None),
            confirm_form=ConfirmForm(formdata=None),
            reopen_form=reopen_form or ReopenForm(formdata=None),
            problem=problem,
        )
    return page, status


@bp.post("/rounds/<int:round_id>/publish")
@round_view("admin")
def round_publish(appraisal_round):
    form = PublishForm()
    if not form.validate_on_submit():
        return _progress_page(appraisal_round, _("Give when units may answer."), 400)
    try:
        with db.transaction() as tx:
            ops.publish(
                tx,
                appraisal_round,
                to_utc(form.answer_opens_at.data),
                to_utc(form.answer_closes_at.data),
            )
    except ops.AppraisalRefused as exc:
        return _progress_page(appraisal_round, str(exc), 400)
    flash(_("The council's points are published to the units."), "info")
    return redirect(url_for("appraisal.round_page", round_id=appraisal_round.id))


@bp.post("/rounds/<int:round_id>/finalise")
@round_view("appraiser")
def round_finalise(appraisal_round):
    if not whole_block(appraisal_round.block):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        with db.transaction() as tx:
            ops.finalise(tx, appraisal_round)
    except ops.AppraisalRefused as exc:
        return _progress_page(appraisal_round, str(exc), 400)
    flash(_("The round is final."), "info")
    return redirect(url_for("appraisal.round_page", round_id=appraisal_round.id))


@bp.post("/rounds/<int:round_id>/reopen")
@round_view("admin")
def round_reopen(appraisal_round):
    """Back to appraisal from published or final, with the reason; the points and their history
    stay, and change again only through the council's page."""
    form = ReopenForm()
    if not form.validate_on_submit():
        problem = (
            _("The form expired. Please send it again.")
            if "csrf_token" in form.errors
            else _("Say why the round is reopened.")
        )
        return _progress_page(appraisal_round, problem, 400, reopen_form=form)
    try:
        with db.transaction() as tx:
            ops.reopen(tx, appraisal_round, form.reason.data)
    except ops.AppraisalRefused as exc:
        return _progress_page(appraisal_round, str(exc), 409, reopen_form=form)
    flash(_("The round is open for appraisal again: its results are not final."), "info")
    return redirect(url_for("appraisal.round_page", round_id=appraisal_round.id))


@bp.route("/rounds/<int:round_id>/delete", methods=["GET", "POST"])
@round_view("admin")
def round_delete(appraisal_round):
    """A confirmation page saying what goes with the round (or why it cannot go), then the
    deletion."""
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            return _delete_page(appraisal_round, _("The form expired. Please send it again."), 400)
        year, block = appraisal_round.year, appraisal_round.block
        try:
            with db.transaction() as tx:
                ops.delete_round(tx, appraisal_round)
        except ops.AppraisalRefused as exc:
            return _delete_page(appraisal_round, str(exc), 409)
        flash(_("The round %(year)s of %(block)s is deleted.", year=year, block=block), "info")
        return redirect(url_for("appraisal.home"))
    return _delete_page(appraisal_round)


def _delete_page(appraisal_round, problem=None, status=None):
    with db.transaction() as tx:
        refused = ops.why_not_deletable(tx, appraisal_round)
        contents = ops.round_contents(tx, appraisal_round)
        page = render_template(
            "appraisal/round_delete.html",
            round=appraisal_round,
            contents=contents,
            problem=problem or refused,
            deletable=refused is None,
            confirm_form=ConfirmForm(formdata=None),
        )
    return page, status or (409 if refused else 200)


def _send_form(**kwargs) -> SendForm:
    form = SendForm(**kwargs)
    form.wave.choices = [(w.code, w.code) for w in waves_service.all_waves(db.session)]
    return form


def _file_name(appraisal_round) -> str:
    return f"appraisal_{appraisal_round.year}_{appraisal_round.block}.csv"


@bp.post("/rounds/<int:round_id>/index-input")
@round_view("admin")
def round_send(appraisal_round):
    """The final round's appraised points as the wave's appraisal input: the statisticians' next
    run of the wave builds the index from them and the survey points, with no file between."""
    form = _send_form()
    if not form.validate_on_submit():
        return _progress_page(appraisal_round, _("Choose a wave."), 400)
    if appraisal_round.status != "final":
        return _progress_page(
            appraisal_round, _("Finalise the round before its points go into the index."), 400
        )
    try:
        with db.transaction() as tx:
            wave = waves_service.wave_by_code(tx, form.wave.data)
            content = progress_mod.appraisal_csv(tx, appraisal_round).encode("utf-8")
            stats_services.save_input(
                tx,
                wave,
                "appraisal",
                _file_name(appraisal_round),
                content,
                scheme=appraisal_round.scheme,
                # the wave's next runs record the round, for its results page to find them
                appraisal_round=results_mod.round_note(appraisal_round),
            )
            audit.record(
                tx,
                "appraisal_sent_to_index",
                {"round": appraisal_round.id, "block": appraisal_round.block, "wave": wave.code},
            )
    except stats_services.InputInvalid as exc:
        return _progress_page(appraisal_round, str(exc), 400)
    flash(
        _(
            "The appraised points are the appraisal input of wave %(wave)s: its next run builds "
            "the index from them.",
            wave=form.wave.data,
        ),
        "info",
    )
    return redirect(url_for("appraisal.round_page", round_id=appraisal_round.id))


@bp.get("/rounds/<int:round_id>/appraisal.csv")
@round_view("appraiser")
def round_export(appraisal_round):
    if not whole_block(appraisal_round.block):
        abort(403)  # every unit's points: not for an appraiser of one unit
    with db.transaction() as tx:
        text = progress_mod.appraisal_csv(tx, appraisal_round)
        audit.record(
            tx, "export_appraisal", {"round": appraisal_round.id, "block": appraisal_round.block}
        )
    return download(text, _file_name(appraisal_round), "text/csv")


@bp.get("/evidence/<int:evidence_id>")
@evidence_view
def evidence_file(evidence):
    if evidence.file_key is None:
        abort(404)
    content = storage.get(db.session, evidence.file_key)
    if content is None:
        abort(404)
    # always a download, never shown inline: a document is not run in our origin
    return download(
        content,
        evidence.filename or "evidence",
        evidence.content_type,
        headers={"X-Content-Type-Options": "nosniff"},
    )


@bp.get("/rounds/<int:round_id>/results")
@round_view("appraisal")
def round_results(appraisal_round):
    """The block's results, in the language of the URL: printable as the round's report."""
    try:
        with db.transaction() as tx:
            found = results_mod.round_results(tx, appraisal_round, g.lang)
    except results_mod.NoResults as exc:
        page = render_template(
            "appraisal/results.html", round=appraisal_round, problem=str(exc), missing=exc
        )
        return page, 409
    page = render_template("appraisal/results.html", round=appraisal_round, results=found)
    return page
