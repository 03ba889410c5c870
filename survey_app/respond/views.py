"""Respondent pages: the views parse the request, call `respond.services` (and the
questionnaire's and fieldwork's rules) and render."""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf

from ..extensions import db
from ..fieldwork import invitations, tokens
from ..models import Invitation, QuestionnaireVersion, Wave
from ..questionnaire import flow
from ..questionnaire.definition import Questionnaire
from ..questionnaire.store import definition
from . import render, services
from .blueprint import bp
from .forms import PageForm

SESSION_KEY = "responses"


@dataclass
class Handle:
    """How this respondent reaches their response: an open link (resume code) or a token."""

    questionnaire_code: str
    key_hash: str | None
    token: str | None = None
    resume_code: str | None = None

    def url(self, endpoint: str, **values) -> str:
        if self.token is not None:
            return url_for(f"respond.invited_{endpoint}", token=self.token, **values)
        return url_for(f"respond.{endpoint}", code=self.questionnaire_code, **values)


def _open_handle(code: str) -> Handle:
    resume = session.get(SESSION_KEY, {}).get(code)
    key = tokens.response_key_for_resume_code(resume) if resume else None
    return Handle(code, key, resume_code=resume)


def _invitation(token: str) -> Invitation:
    invitation = invitations.invitation_by_token(db.session, token)
    if invitation is None or invitation.status == "revoked":
        abort(make_response(render_template("respond/message.html", kind="invalid_link"), 404))
    return invitation


def _remember(code: str, resume_code: str) -> None:
    held = dict(session.get(SESSION_KEY, {}))
    held[code] = resume_code
    session[SESSION_KEY] = held


# --- home and start -----------------------------------------------------------------------------


@bp.get("/")
def home():
    pairs = services.open_questionnaires(db.session)
    surveys = [(wave, version, definition(version)) for wave, version in pairs]
    return render_template("respond/home.html", surveys=surveys)


def _unavailable(state: services.Availability):
    kinds = {"unknown": 404, "closed": 410, "not_yet_open": 403}
    page = render_template("respond/message.html", kind=state.state, opens_at=state.opens_at)
    return page, kinds.get(state.state, 404)


@bp.route("/s/<code>", methods=["GET", "POST"])
def start(code: str):
    state = services.availability(db.session, code)
    if state.state != "open" or state.version.access != "open":
        if state.state == "open":
            return render_template("respond/message.html", kind="invitation_only"), 403
        return _unavailable(state)
    questionnaire = definition(state.version)
    handle = _open_handle(code)
    current = services.find_response(db.session, handle.key_hash) if handle.key_hash else None
    form = FlaskForm()  # a bare FlaskForm: CSRF only
    if request.method == "POST" and form.validate_on_submit():
        if current is not None and current.status == "in_progress" and "new" not in request.form:
            return redirect(handle.url("page", index=current.page_index))
        resume_code = services.new_resume_code()
        with db.transaction() as tx:
            response = services.start_response(
                tx,
                state.wave,
                state.version,
                tokens.response_key_for_resume_code(resume_code),
                g.lang,
            )
            first = response.page_index
        _remember(code, resume_code)
        flash(
            _(
                "Your answers are saved after every page. To continue later, on this or another "
                "device, note your resume code: %(code)s",
                code=services.format_resume_code(resume_code),
            ),
            "resume",
        )
        return redirect(url_for("respond.page", code=code, index=first))
    return _start_page(questionnaire, form, current, handle, state.wave)


@bp.route("/s/<code>/resume", methods=["GET", "POST"])
def resume(code: str):
    state = services.availability(db.session, code)
    if state.state != "open" or state.version.access != "open":
        return _unavailable(state) if state.state != "open" else abort(404)
    questionnaire = definition(state.version)
    form = FlaskForm()
    error = None
    if request.method == "POST" and form.validate_on_submit():
        normalized = services.normalize_resume_code(request.form.get("resume_code", ""))
        found = None
        if normalized:
            found = services.find_response(
                db.session, tokens.response_key_for_resume_code(normalized)
            )
        if found is None or found.questionnaire_code != code:
            error = _(
                "This resume code was not found. Check it and try again: it has 16 letters "
                "and digits, for example ABCD-EFGH-JKMN-PQRS."
            )
        else:
            _remember(code, normalized)
            if found.status == "complete":
                return redirect(url_for("respond.done", code=code))
            return redirect(url_for("respond.page", code=code, index=found.page_index))
    return render_template(
        "respond/resume.html", questionnaire=questionnaire, form=form, error=error, code=code
    ), (400 if error else 200)


# --- invitations --------------------------------------------------------------------------------


@bp.route("/i/<token>", methods=["GET", "POST"])
def invited(token: str):
    invitation = _invitation(token)
    handle = Handle(
        invitation.questionnaire_code, tokens.response_key_for_token(token), token=token
    )
    if invitation.status == "complete":
        return render_template("respond/message.html", kind="already_submitted"), 410
    wave = db.session.get(Wave, invitation.wave_id)
    state = services.wave_availability(wave)
    if state.state != "open":
        return _unavailable(state)
    current = services.find_response(db.session, handle.key_hash)
    if current is not None:
        if current.status != "in_progress":
            return redirect(handle.url("done"))
        return redirect(handle.url("page", index=current.page_index))
    version = services.latest_version(db.session, invitation.questionnaire_code)
    if version is None:
        abort(404)
    questionnaire = definition(version)
    form = FlaskForm()
    if request.method == "POST" and form.validate_on_submit():
        with db.transaction() as tx:
            response = services.start_invited_response(
                tx, wave, version, handle.key_hash, g.lang, token
            )
            first = response.page_index
        return redirect(handle.url("page", index=first))
    if invitation.status == "issued":
        with db.transaction() as tx:
            invitations.mark_invitation(tx, token, "opened")
    return _start_page(questionnaire, form, None, handle, wave)


# --- pages --------------------------------------------------------------------------------------


@bp.route("/s/<code>/p/<int:index>", methods=["GET", "POST"])
def page(code: str, index: int):
    return _page(_open_handle(code), index)


@bp.route("/i/<token>/p/<int:index>", methods=["GET", "POST"])
def invited_page(token: str, index: int):
    invitation = _invitation(token)
    if invitation.status == "complete":
        return redirect(url_for("respond.invited_done", token=token))
    handle = Handle(
        invitation.questionnaire_code, tokens.response_key_for_token(token), token=token
    )
    return _page(handle, index)


def _page(handle: Handle, index: int):
    """One page, shown or saved. A POST locks the response first and reads under the lock."""
    saving = request.method == "POST"
    found = services.hold(db.session, handle.key_hash, lock=saving) if handle.key_hash else None
    if found is None:
        db.session.rollback()
        if handle.token is None:
            state = services.availability(db.session, handle.questionnaire_code)
            if state.state != "open":
                return _unavailable(state)
            flash(
                _(
                    "We could not find your answers in this browser. Start again, or continue "
                    "with your resume code."
                ),
                "warning",
            )
            return redirect(url_for("respond.start", code=handle.questionnaire_code))
        return redirect(url_for("respond.invited", token=handle.token))
    held, stored = found
    if held.status != "in_progress":
        db.session.rollback()
        return redirect(handle.url("done"))
    if not services.wave_is_open(held.wave, services.utcnow()):
        db.session.rollback()
        return _unavailable(services.Availability("closed", held.wave))
    questionnaire = held.questionnaire(db.session)
    if index >= len(questionnaire.pages) or index > held.furthest_page:
        db.session.rollback()
        return redirect(handle.url("page", index=held.page_index))
    answers = flow.decode_all(questionnaire, stored)
    values = flow.expression_values(questionnaire, answers)
    page = questionnaire.pages[index]
    if not flow.page_is_relevant(page, values):
        db.session.rollback()
        return redirect(handle.url("page", index=held.page_index))
    version_key = (held.version_id, held.content_hash)
    if saving:
        return _save(handle, held, questionnaire, page, answers, values)
    db.session.rollback()
    shown = {q.code: answers.get(q.code) for q in page.questions}
    return _render_page(handle, version_key, questionnaire, page, None, shown, values)


def _save(handle, held, questionnaire: Questionnaire, page, answers, values):
    form = PageForm(page, values=values)
    direction = "back" if request.form.get("action") == "back" else "next"
    valid = form.validate(require=direction != "back")
    if not valid and direction == "back" and not form.csrf_failed:
        form.drop_invalid()
        valid = True
    if not valid:
        db.session.rollback()
        shown = form.answers()
        version_key = (held.version_id, held.content_hash)
        page_html = _render_page(handle, version_key, questionnaire, page, form, shown, values)
        return page_html, 400
    with db.transaction() as tx:
        outcome = services.save_page(
            tx,
            held,
            questionnaire,
            page,
            answers,
            form.answers(),
            direction,
            g.lang,
            token=handle.token,
        )
    if outcome.kind in ("complete", "screened_out", "already_complete"):
        return redirect(handle.url("done"))
    return redirect(handle.url("page", index=outcome.page_index))


def _render_page(handle, version_key, questionnaire, page, form, shown, values):
    errors = []
    if form is not None:
        errors = [
            (q, form.answer_errors[q.code]) for q in page.questions if q.code in form.answer_errors
        ]
    visible = [item for item in page.items if flow.question_is_relevant(item, values)]
    relevant = tuple(flow.page_is_relevant(p, values) for p in questionnaire.pages)
    action = handle.url("page", index=page.index)
    key = None
    if form is None and not request.args and not session.get("_flashes"):
        key = (
            version_key,
            page.index,
            g.lang,
            action,
            relevant,
            tuple(item.code for item in visible),
            tuple((code, render.hashable(value)) for code, value in shown.items()),
        )
        cached = render.page_html(key)
        if cached is not None:
            return _personal(cached, handle)
    error_map = {question.code: message for question, message in errors}
    html = render_template(
        "respond/page.html",
        questionnaire=questionnaire,
        page=page,
        items_html=[render.item_html(version_key, i, shown, error_map, g.lang) for i in visible],
        errors=errors,
        csrf_error=bool(form is not None and form.csrf_failed),
        number=sum(relevant[: page.index + 1]),
        total=sum(relevant),
        is_last=not any(relevant[page.index + 1 :]),
        has_back=any(relevant[: page.index]),
        action=action,
        handle=handle,
        # A page kept for reuse holds markers where each respondent's own values go.
        csrf_value=render.CSRF_MARK if key else None,
        resume_value=render.RESUME_MARK if key else None,
    )
    if key is None:
        return html
    render.keep_page_html(key, html)
    return _personal(html, handle)


def _personal(html: str, handle: Handle) -> str:
    """A kept page with this respondent's CSRF token and resume code put in."""
    html = html.replace(render.CSRF_MARK, generate_csrf())
    if handle.resume_code:
        html = html.replace(render.RESUME_MARK, services.format_resume_code(handle.resume_code))
    return html


@bp.get("/s/<code>/done")
def done(code: str):
    return _done(_open_handle(code))


@bp.get("/i/<token>/done")
def invited_done(token: str):
    invitation = _invitation(token)
    return _done(
        Handle(invitation.questionnaire_code, tokens.response_key_for_token(token), token=token)
    )


def _done(handle: Handle):
    response = services.find_response(db.session, handle.key_hash) if handle.key_hash else None
    if response is not None and response.status == "screened_out":
        return render_template("respond/message.html", kind="screened_out")
    if response is None or response.status != "complete":
        if handle.token is not None:
            return redirect(url_for("respond.invited", token=handle.token))
        return redirect(url_for("respond.start", code=handle.questionnaire_code))
    version = db.session.get(QuestionnaireVersion, response.questionnaire_version_id)
    questionnaire = definition(version)
    form = FlaskForm()
    return render_template(
        "respond/done.html", questionnaire=questionnaire, handle=handle, form=form
    )


def _start_page(questionnaire, form, current, handle, wave):
    """The first page of a questionnaire, reached by its open link or by an invitation."""
    return render_template(
        "respond/start.html",
        page_count=flow.relevant_page_count(questionnaire, {}),
        questionnaire=questionnaire,
        form=form,
        current=current,
        handle=handle,
        wave=wave,
    )
