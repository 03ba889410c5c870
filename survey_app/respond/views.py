"""Respondent pages: the views parse the request, call `respond.services` (and the
questionnaire's and fieldwork's rules) and render.

A respondent's browser holds, in the signed session cookie: the resume code of each response
(`responses`), the moment Start was pressed until the first page is saved (`starting`), and,
for an invitee, which invitation they came with (`invitation`). A personal link's token is used
once to fill that in, then leaves the address (docs/security.md).
"""

from __future__ import annotations

import datetime as dt
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
from flask_babel import get_timezone, refresh
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf

from ..accounts import paper_entry
from ..accounts.auth import role_required
from ..extensions import db, limit_from, limiter
from ..fieldwork import invitations, site_links, tokens
from ..i18n import LANGUAGES
from ..models import Invitation, QuestionnaireVersion, SiteLink, Wave, utcnow
from ..questionnaire import flow
from ..questionnaire.definition import Questionnaire
from ..questionnaire.store import definition, latest_version
from . import render, sealing, services
from .blueprint import bp
from .forms import PageForm

SESSION_KEY = "responses"
STARTING_KEY = "starting"
INVITATION_KEY = "invitation"


@dataclass
class Handle:
    """How this respondent reaches their response: an open link or an invitation, and the
    resume code kept in their session (None until their first page is saved)."""

    questionnaire_code: str
    key_hash: str | None
    resume_code: str | None = None
    invitation_id: int | None = None
    #: The interviewer typing in a paper form in this browser (open links only), or None.
    paper_by: int | None = None
    #: Came by a site link, which answers the questionnaire's `site_item` for the respondent.
    site: SiteLink | None = None
    #: An admin trying the questionnaire out in this wave: the response is marked test.
    test_wave_id: int | None = None

    @property
    def invited(self) -> bool:
        return self.invitation_id is not None

    @property
    def test(self) -> bool:
        return self.test_wave_id is not None

    @property
    def held_key(self) -> str:
        """Where this browser's session keeps the resume code: one response per way in."""
        if self.site is not None:
            return f"{self.questionnaire_code}@{self.site.code}"
        if self.test:
            return f"{self.questionnaire_code}#test{self.test_wave_id}"
        return self.questionnaire_code

    def url(self, endpoint: str, **values) -> str:
        if self.invited:
            return url_for(f"respond.invited_{endpoint}", **values)
        if self.site is not None:
            site = site_links.format_code(self.site.code)
            return url_for(f"respond.site_{endpoint}", site=site, **values)
        if self.test:
            return url_for(
                f"respond.test_{endpoint}",
                wave_id=self.test_wave_id,
                code=self.questionnaire_code,
                **values,
            )
        return url_for(f"respond.{endpoint}", code=self.questionnaire_code, **values)

    def owns(self, response) -> bool:
        """Whether a response found by resume code was begun the way this handle comes in."""
        site_id = self.site.id if self.site is not None else None
        return bool(response.test) == self.test and response.site_link_id == site_id


def _held_code(key: str) -> str | None:
    return session.get(SESSION_KEY, {}).get(key)


def _handle(
    code: str,
    invitation_id: int | None = None,
    site: SiteLink | None = None,
    test_wave_id: int | None = None,
) -> Handle:
    # Paper entry is an interviewer typing a form into the plain open pages only.
    plain = invitation_id is None and site is None and test_wave_id is None
    paper_by = paper_entry.entering(code) if plain else None
    handle = Handle(
        code,
        None,
        None,
        invitation_id,
        paper_by=paper_by,
        site=site,
        test_wave_id=test_wave_id,
    )
    resume = _held_code(handle.held_key)
    if resume:
        handle.resume_code = resume
        handle.key_hash = tokens.response_key_for_resume_code(resume)
    return handle


def _reachable(handle: Handle, version: QuestionnaireVersion) -> bool:
    """Whether the open-link pages take this questionnaire: open ones, and, for an interviewer
    typing in paper forms, invitation-only ones too (a paper form carries no token)."""
    return version.access == "open" or handle.paper_by is not None


def _open_handle(code: str) -> Handle:
    return _handle(code)


def _message(kind: str, status: int):
    return make_response(render_template("respond/message.html", kind=kind), status)


def _invitation(token: str) -> Invitation:
    invitation = invitations.invitation_by_token(db.session, token)
    if invitation is None or invitation.status == "revoked":
        abort(_message("invalid_link", 404))
    return invitation


def _session_invitation() -> tuple[Invitation, Handle]:
    """The invitation this browser came with (its link followed before), and its handle."""
    held = session.get(INVITATION_KEY)
    invitation = None
    if isinstance(held, dict) and isinstance(held.get("id"), int):
        invitation = db.session.get(Invitation, held["id"])
    if invitation is None:
        abort(_message("no_invitation", 404))
    if invitation.status == "revoked":
        abort(_message("invalid_link", 404))
    return invitation, _handle(invitation.questionnaire_code, invitation.id)


def _remember(code: str, resume_code: str) -> None:
    held = dict(session.get(SESSION_KEY, {}))
    held[code] = resume_code
    session[SESSION_KEY] = held


def _begin(key: str) -> None:
    """Start pressed: only the moment is kept (in the browser), for the response's duration;
    the response itself is made with the first saved page."""
    starting = dict(session.get(STARTING_KEY, {}))
    starting[key] = int(utcnow().replace(tzinfo=dt.UTC).timestamp())
    session[STARTING_KEY] = starting
    held = dict(session.get(SESSION_KEY, {}))
    if held.pop(key, None) is not None:
        session[SESSION_KEY] = held


def _started(code: str) -> dt.datetime | None:
    moment = session.get(STARTING_KEY, {}).get(code)
    if not isinstance(moment, int):
        return None
    return dt.datetime.fromtimestamp(moment, dt.UTC).replace(tzinfo=None)


def _forget_start(code: str) -> None:
    starting = dict(session.get(STARTING_KEY, {}))
    if starting.pop(code, None) is not None:
        session[STARTING_KEY] = starting


def _stored_time(invited: bool, moment: dt.datetime | None = None) -> dt.datetime:
    """The time stored with a response: the day only for an invited one."""
    moment = moment or utcnow()
    return services.day_start(moment, get_timezone()) if invited else moment


def _stored_language(invited: bool) -> str:
    """None for an invited response: the access log shows each address's /vi/ or /en/, and
    one person answering in English would be found by it."""
    return "" if invited else g.lang


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


def _first_index(questionnaire: Questionnaire) -> int:
    return flow.next_page(questionnaire, {}, -1) or 0


# Starting is the one step that makes rows for anyone with the open link: a client may start
# only so many in a minute (a whole office behind one address still gets a few each).
_start_limit = limiter.limit(limit_from("START_RATE_LIMIT"), methods=["POST"])


@bp.route("/s/<code>", methods=["GET", "POST"])
@_start_limit
def start(code: str):
    state = services.availability(db.session, code)
    handle = _open_handle(code)
    if state.state != "open" or not _reachable(handle, state.version):
        if state.state == "open":
            return render_template("respond/message.html", kind="invitation_only"), 403
        return _unavailable(state)
    return _start(handle, state.wave, state.version)


def _start(handle: Handle, wave: Wave, version: QuestionnaireVersion):
    """The first page of a questionnaire, reached by its open link or by an invitation."""
    questionnaire = definition(version)
    current = services.find_response(db.session, handle.key_hash) if handle.key_hash else None
    if current is not None and current.status != "in_progress":
        if handle.invited:
            return redirect(handle.url("done"))
        current = None
    form = FlaskForm()  # a bare FlaskForm: CSRF only
    if request.method == "POST" and form.validate_on_submit():
        if current is not None and "new" not in request.form:
            return redirect(handle.url("page", index=current.page_index))
        _begin(handle.held_key)
        return redirect(handle.url("page", index=_first_index(questionnaire)))
    return render_template(
        "respond/start.html",
        page_count=len(questionnaire.pages),
        pages_may_be_skipped=any(p.relevant is not None for p in questionnaire.pages),
        questionnaire=questionnaire,
        form=form,
        current=current,
        handle=handle,
        wave=wave,
    )


@bp.route("/s/<code>/resume", methods=["GET", "POST"])
def resume(code: str):
    state = services.availability(db.session, code)
    handle = _open_handle(code)
    if state.state != "open" or not _reachable(handle, state.version):
        return _unavailable(state) if state.state != "open" else abort(404)
    return _resume(handle, definition(state.version), state.wave.id)


def _resume(handle: Handle, questionnaire: Questionnaire, wave_id: int):
    form = FlaskForm()
    error = None
    if request.method == "POST" and form.validate_on_submit():
        normalized = services.normalize_resume_code(request.form.get("resume_code", ""))
        found = None
        if normalized:
            found = services.find_response(
                db.session, tokens.response_key_for_resume_code(normalized)
            )
        if (
            found is None
            or found.questionnaire_code != handle.questionnaire_code
            or found.wave_id != wave_id
            or not handle.owns(found)
        ):
            error = _(
                "This resume code was not found. Check it and try again: it has 16 letters "
                "and digits, for example ABCD-EFGH-JKMN-PQRS."
            )
        else:
            _remember(handle.held_key, normalized)
            _forget_start(handle.held_key)
            if found.status != "in_progress":
                return redirect(handle.url("done"))
            return redirect(handle.url("page", index=found.page_index))
    return render_template(
        "respond/resume.html",
        questionnaire=questionnaire,
        form=form,
        error=error,
        code=handle.questionnaire_code,
        handle=handle,
    ), (400 if error else 200)


# --- invitations --------------------------------------------------------------------------------


@bp.route("/i/<token>", methods=["GET", "POST"])
def invited(token: str):
    """A personal link: its token is exchanged for this browser's session, then the address
    without it takes over, so the token is in no later request (nor in the access log)."""
    invitation = _invitation(token)
    if invitation.status == "complete":
        return _message("already_submitted", 410)
    held = session.get(INVITATION_KEY)
    if not isinstance(held, dict) or held.get("id") != invitation.id:
        session[INVITATION_KEY] = {"id": invitation.id}
    if invitation.status == "issued":
        with db.transaction() as tx:
            invitations.mark_opened(tx, invitation.id)
    return redirect(url_for("respond.invited_start"), 303)


def _invited_target(invitation: Invitation):
    """The wave and questionnaire version of an invitation, or the page saying why not."""
    wave = db.session.get(Wave, invitation.wave_id)
    state = services.wave_availability(wave)
    if state.state != "open":
        return None, _unavailable(state)
    version = services.latest_version(db.session, invitation.questionnaire_code)
    if version is None:
        abort(404)
    return (wave, version), None


@bp.route("/i/", methods=["GET", "POST"])
@_start_limit
def invited_start():
    invitation, handle = _session_invitation()
    own = services.find_response(db.session, handle.key_hash) if handle.key_hash else None
    if invitation.status == "complete":
        if own is not None and own.status != "in_progress":
            return redirect(handle.url("done"))
        return _message("already_submitted", 410)
    target, refusal = _invited_target(invitation)
    if refusal is not None:
        return refusal
    return _start(handle, *target)


@bp.route("/i/resume", methods=["GET", "POST"])
def invited_resume():
    invitation, handle = _session_invitation()
    target, refusal = _invited_target(invitation)
    if refusal is not None:
        return refusal
    wave, version = target
    return _resume(handle, definition(version), wave.id)


# --- pages --------------------------------------------------------------------------------------


@bp.route("/s/<code>/p/<int:index>", methods=["GET", "POST"])
def page(code: str, index: int):
    return _page(_open_handle(code), index)


@bp.route("/i/p/<int:index>", methods=["GET", "POST"])
def invited_page(index: int):
    invitation, handle = _session_invitation()
    if invitation.status == "complete" and handle.key_hash is None:
        return _message("already_submitted", 410)
    return _page(handle, index)


#: `_save` found that this page ends an invited questionnaire: the invitation is to be marked
#: answered first, in a transaction of its own, and the page saved again after.
_CLAIM_FIRST = object()


def _page(handle: Handle, index: int, claimed: bool = False):
    """One page, shown or saved. A POST locks the response first and reads under the lock."""
    saving = request.method == "POST"
    if not saving:
        services.read_without_transaction(db.session())
    found = services.hold(db.session, handle.key_hash, lock=saving) if handle.key_hash else None
    if found is None:
        db.session.rollback()
        started = _started(handle.held_key)
        if started is not None:
            return _first_page(handle, index, started)
        if handle.invited:
            return redirect(url_for("respond.invited_start"))
        if handle.site is None and not handle.test:
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
        return redirect(handle.url("start"))
    held, stored = found
    if held.status != "in_progress":
        db.session.rollback()
        return redirect(handle.url("done"))
    # An admin tries a questionnaire out before the wave opens, or after it closed.
    if not held.test and not services.wave_is_open(held.wave, services.utcnow()):
        db.session.rollback()
        return _unavailable(services.Availability("closed", held.wave))
    questionnaire = held.questionnaire(db.session)
    if index >= len(questionnaire.pages) or index > held.furthest_page:
        db.session.rollback()
        return redirect(handle.url("page", index=held.page_index))
    answers = flow.decode_all(questionnaire, stored)
    values = flow.expression_values(questionnaire, answers)
    fixed = services.fixed_answers(questionnaire, held.site_value)
    page = questionnaire.pages[index]
    if not flow.page_is_relevant(page, values):
        db.session.rollback()
        return redirect(handle.url("page", index=held.page_index))
    version_key = (held.version_id, held.content_hash)
    if not saving:
        db.session.rollback()
        shown = {q.code: answers.get(q.code) for q in page.questions}
        return _render_page(handle, version_key, questionnaire, page, None, shown, values, fixed)
    form, direction, refusal = _validated(handle, version_key, questionnaire, page, values, fixed)
    if refusal is not None:
        db.session.rollback()
        return refusal
    submitted = form.answers()
    if (
        handle.invited
        and not claimed
        and services.finishes(questionnaire, page, answers, submitted, direction)
    ):
        db.session.rollback()
        return _claim_then(handle, lambda: _page(handle, index, claimed=True))

    def work(tx):
        return services.save_page(
            tx,
            held,
            questionnaire,
            page,
            answers,
            submitted,
            direction,
            _stored_language(held.anonymous),
            _stored_time(held.anonymous),
        )

    return _saved(handle, work, claimed)


def _validated(handle, version_key, questionnaire, page, values, fixed=None):
    """The page's form, the direction, and the page to show again if it is not valid."""
    form = PageForm(page, values=values, fixed=fixed)
    action = request.form.get("action", "")
    switched = action.removeprefix("language:")
    if switched in LANGUAGES and action != switched:
        direction = "stay"
    else:
        direction = "back" if action == "back" else "next"
    valid = form.validate(require=direction == "next")
    if not valid and direction != "next" and not form.csrf_failed:
        form.drop_invalid()
        valid = True
    if valid:
        if direction == "stay":
            # stored, and the page shown again, in the language chosen
            g.lang = switched
            refresh()
        return form, direction, None
    shown = form.answers()
    page_html = _render_page(handle, version_key, questionnaire, page, form, shown, values, fixed)
    return form, direction, (page_html, 400)


def _first_page(handle: Handle, index: int, started: dt.datetime):
    """The first page before any response exists; saving it makes the response."""
    if handle.invited:
        invitation = db.session.get(Invitation, handle.invitation_id)
        target, refusal = _invited_target(invitation)
        if refusal is not None:
            return refusal
        wave, version = target
    elif handle.site is not None:
        target, refusal = _site_target(handle.site)
        if refusal is not None:
            return refusal
        wave, version = target
    elif handle.test:
        wave, version = _test_target(handle.test_wave_id, handle.questionnaire_code)
    else:
        state = services.availability(db.session, handle.questionnaire_code)
        if state.state != "open" or not _reachable(handle, state.version):
            return _unavailable(state) if state.state != "open" else abort(404)
        wave, version = state.wave, state.version
    questionnaire = definition(version)
    first = _first_index(questionnaire)
    if index != first:
        return redirect(handle.url("page", index=first))
    page = questionnaire.pages[first]
    version_key = (version.id, version.content_hash)
    site_value = handle.site.site_value if handle.site is not None else None
    fixed = services.fixed_answers(questionnaire, site_value)
    values = flow.expression_values(questionnaire, fixed)
    if request.method != "POST":
        shown = {q.code: None for q in page.questions}
        return _render_page(handle, version_key, questionnaire, page, None, shown, values, fixed)
    form, direction, refusal = _validated(handle, version_key, questionnaire, page, values, fixed)
    if refusal is not None:
        return refusal
    if direction == "back":
        return redirect(handle.url("page", index=first))
    submitted = form.answers()
    if direction == "stay" and not submitted:
        return redirect(handle.url("page", index=first))
    resume_code = services.new_resume_code()
    key = tokens.response_key_for_resume_code(resume_code)
    # An invitation-only questionnaire typed in from paper keeps its times as an invited one does.
    invited = handle.invited or version.access == "invitation"
    started_at = _stored_time(invited, started)

    language = _stored_language(invited)

    test, site_id = handle.test, handle.site.id if handle.site is not None else None

    def work(tx):
        services.start_response(
            tx,
            wave,
            version,
            key,
            language,
            started_at,
            entered_by=handle.paper_by,
            test=test,
            site_link_id=site_id,
        )
        held, _stored = services.hold(tx, key, lock=True)
        return services.save_page(
            tx, held, questionnaire, page, {}, submitted, direction, language, _stored_time(invited)
        )

    claim = handle.invited and services.finishes(questionnaire, page, {}, submitted, direction)
    if claim:
        return _claim_then(handle, lambda: _first_saved(handle, work, resume_code, True))
    return _first_saved(handle, work, resume_code, False)


def _first_saved(handle: Handle, work, resume_code: str, claimed: bool):
    result = _saved(handle, work, claimed)
    _remember(handle.held_key, resume_code)
    _forget_start(handle.held_key)
    flash(
        _(
            "Your answers are saved after every page. To continue later, on this or another "
            "device, note your resume code: %(code)s",
            code=services.format_resume_code(resume_code),
        ),
        "resume",
    )
    return result


def _claim_then(handle: Handle, save):
    """Mark the invitation answered, then store the last page: two transactions, so the
    invitation's change and the answers never share one. If the page is not stored after all,
    the mark is taken back."""
    with db.transaction() as tx:
        claimed = invitations.claim_completion(tx, handle.invitation_id)
    if not claimed:
        # Answered already: from this browser (a double click on the last page), or elsewhere.
        own = services.find_response(db.session, handle.key_hash) if handle.key_hash else None
        if own is not None and own.status != "in_progress":
            return redirect(handle.url("done"))
        return _message("already_submitted", 410)
    g.invitation_claimed = False
    try:
        result = save()
    except BaseException:
        with db.transaction() as tx:
            invitations.release_completion(tx, handle.invitation_id)
        raise
    if not g.pop("invitation_claimed", False):
        with db.transaction() as tx:
            invitations.release_completion(tx, handle.invitation_id)
    return result


def _saved(handle: Handle, work, claimed: bool):
    """Run `work` (a page save) in one transaction and go where its outcome leads."""
    with db.transaction() as tx:
        outcome = work(tx)
    ended = outcome.kind in ("complete", "screened_out")
    if claimed:
        g.invitation_claimed = ended
    elif handle.invited and ended:
        # Screened out on a page before the last: the invitation is used up as well.
        with db.transaction() as tx:
            invitations.claim_completion(tx, handle.invitation_id)
    if ended and handle.invited:
        sealing.seal_when_due(db.session)
    if outcome.kind in ("complete", "screened_out", "already_complete"):
        return redirect(handle.url("done"))
    return redirect(handle.url("page", index=outcome.page_index))


def _render_page(handle, version_key, questionnaire, page, form, shown, values, fixed=None):
    errors = []
    if form is not None:
        errors = [
            (q, form.answer_errors[q.code]) for q in page.questions if q.code in form.answer_errors
        ]
    # A question the site link answered is not asked.
    visible = [
        item
        for item in page.items
        if flow.question_is_relevant(item, values) and item.code not in (fixed or {})
    ]
    relevant = tuple(flow.page_is_relevant(p, values) for p in questionnaire.pages)
    action = handle.url("page", index=page.index)
    key = None
    if form is None and not request.args and not session.get("_flashes"):
        # The page around its questions is the same for every respondent at this point of the
        # questionnaire: kept once, with a marker where the questions go. The questions'
        # HTML, which holds the answers, comes from the item cache (answers are too varied for
        # whole pages to be met again).
        key = (
            version_key,
            page.index,
            g.lang,
            action,
            handle.resume_code is not None,
            handle.paper_by is not None,
            relevant,
            tuple(item.code for item in visible),
        )
        cached = render.page_html(key)
        if cached is not None:
            return _personal(cached, handle, visible, shown, version_key)
    error_map = {question.code: message for question, message in errors}
    html = render_template(
        "respond/page.html",
        questionnaire=questionnaire,
        page=page,
        items_html=(
            [render.ITEMS_MARKUP]
            if key
            else [render.item_html(version_key, i, shown, error_map, g.lang) for i in visible]
        ),
        errors=errors,
        csrf_error=bool(form is not None and form.csrf_failed),
        # positions in the whole questionnaire: a count of the relevant pages would change as
        # answers switch pages on and off ("page 3 of 12", then "page 4 of 9")
        number=page.index + 1,
        total=len(questionnaire.pages),
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
    return _personal(html, handle, visible, shown, version_key)


def _personal(html: str, handle: Handle, visible, shown, version_key) -> str:
    """A kept page with this respondent's questions (their answers in), CSRF token and resume
    code put in."""
    html = html.replace(render.CSRF_MARK, generate_csrf())
    if handle.resume_code:
        html = html.replace(render.RESUME_MARK, services.format_resume_code(handle.resume_code))
    # last, so that nothing typed in an answer is taken for a marker
    lang = g.lang
    items = "".join(render.item_html(version_key, i, shown, {}, lang) for i in visible)
    return html.replace(render.ITEMS_MARK, items, 1)


@bp.get("/s/<code>/done")
def done(code: str):
    return _done(_open_handle(code))


@bp.get("/i/done")
def invited_done():
    _invitation_row, handle = _session_invitation()
    return _done(handle)


def _done(handle: Handle):
    response = services.find_response(db.session, handle.key_hash) if handle.key_hash else None
    if response is not None and response.status == "screened_out":
        return render_template("respond/message.html", kind="screened_out")
    if response is None or response.status != "complete":
        if handle.invited:
            return redirect(url_for("respond.invited_start"))
        return redirect(handle.url("start"))
    version = db.session.get(QuestionnaireVersion, response.questionnaire_version_id)
    questionnaire = definition(version)
    form = FlaskForm()
    return render_template(
        "respond/done.html", questionnaire=questionnaire, handle=handle, form=form
    )


# --- site links ---------------------------------------------------------------------------------


def _site_link(site: str) -> SiteLink:
    link = site_links.link_by_code(db.session, site)
    if link is None:
        abort(_message("invalid_site_link", 404))
    return link


def _site_target(link: SiteLink):
    """The wave and questionnaire version of a site link, or the page saying why not."""
    wave = db.session.get(Wave, link.wave_id)
    state = services.wave_availability(wave)
    if state.state == "open" and link.questionnaire_code not in wave.questionnaire_codes:
        state = services.Availability("closed", wave)
    if state.state != "open":
        return None, _unavailable(state)
    version = latest_version(db.session, link.questionnaire_code)
    if version is None or version.access != "open":
        return None, _unavailable(services.Availability("closed", wave))
    return (wave, version), None


def _site_handle(site: str) -> Handle:
    link = _site_link(site)
    return _handle(link.questionnaire_code, site=link)


@bp.route("/v/<site>", methods=["GET", "POST"])
@_start_limit
def site_start(site: str):
    """A site's link (the QR code on the counter's poster): the questionnaire, with the site's
    answer to its `site_item` given. A code typed in lower case or without its dash is sent on
    to its written form, so that the address shown is the poster's."""
    handle = _site_handle(site)
    written = site_links.format_code(handle.site.code)
    if site != written and request.method == "GET":
        return redirect(url_for("respond.site_start", site=written), 301)
    target, refusal = _site_target(handle.site)
    if refusal is not None:
        return refusal
    return _start(handle, *target)


@bp.route("/v/<site>/resume", methods=["GET", "POST"])
def site_resume(site: str):
    handle = _site_handle(site)
    target, refusal = _site_target(handle.site)
    if refusal is not None:
        return refusal
    wave, version = target
    return _resume(handle, definition(version), wave.id)


@bp.route("/v/<site>/p/<int:index>", methods=["GET", "POST"])
def site_page(site: str, index: int):
    return _page(_site_handle(site), index)


@bp.get("/v/<site>/done")
def site_done(site: str):
    return _done(_site_handle(site))


# --- test responses (admins only) ---------------------------------------------------------------


def _test_target(wave_id: int, code: str) -> tuple[Wave, QuestionnaireVersion]:
    """The wave and the questionnaire's newest version an admin tries out, whatever the wave's
    status: a questionnaire is best tried before the wave opens."""
    wave = db.session.get(Wave, wave_id)
    if wave is None or code not in wave.questionnaire_codes:
        abort(404)
    version = latest_version(db.session, code)
    if version is None:
        abort(404)
    return wave, version


@bp.route("/t/<int:wave_id>/<code>", methods=["GET", "POST"])
@role_required("admin")
def test_start(wave_id: int, code: str):
    wave, version = _test_target(wave_id, code)
    return _start(_handle(code, test_wave_id=wave.id), wave, version)


@bp.route("/t/<int:wave_id>/<code>/resume", methods=["GET", "POST"])
@role_required("admin")
def test_resume(wave_id: int, code: str):
    wave, version = _test_target(wave_id, code)
    return _resume(_handle(code, test_wave_id=wave.id), definition(version), wave.id)


@bp.route("/t/<int:wave_id>/<code>/p/<int:index>", methods=["GET", "POST"])
@role_required("admin")
def test_page(wave_id: int, code: str, index: int):
    _test_target(wave_id, code)
    return _page(_handle(code, test_wave_id=wave_id), index)


@bp.get("/t/<int:wave_id>/<code>/done")
@role_required("admin")
def test_done(wave_id: int, code: str):
    _test_target(wave_id, code)
    return _done(_handle(code, test_wave_id=wave_id))
