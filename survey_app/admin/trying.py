"""Trying a questionnaire out: a preview of any stored version that writes nothing to the
database (the answers travel in a signed form value), and test responses in a wave, answered on
the respondents' own pages (`respond.test_start`), marked test, counted nowhere and deleted
here (logged)."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer

from ..accounts.auth import role_required
from ..extensions import db
from ..fieldwork.test_responses import delete_test_responses, test_counts
from ..handlers import wave_view
from ..models import QuestionnaireVersion, Wave
from ..questionnaire import flow
from ..questionnaire.definition import Questionnaire
from ..questionnaire.store import definition, every_version
from ..respond import render
from ..respond.forms import PageForm
from .blueprint import bp


@bp.get("/waves/<wave_code>/try")
@wave_view("admin")
def trying(wave: Wave):
    versions: dict[str, list[QuestionnaireVersion]] = {}
    for version in every_version(db.session):
        if version.code in wave.questionnaire_codes:
            versions.setdefault(version.code, []).append(version)
    titles = {code: definition(found[0]).title for code, found in versions.items()}
    return render_template(
        "admin/trying.html",
        wave=wave,
        versions=versions,
        titles=titles,
        counts=test_counts(db.session, wave.id),
        form=FlaskForm(),
    )


@bp.post("/waves/<wave_code>/test-responses/delete")
@wave_view("admin")
def test_responses_delete(wave: Wave):
    if not FlaskForm().validate_on_submit():
        flash(_("The form expired. Please send it again."), "warning")
        return redirect(url_for("admin.trying", wave_code=wave.code))
    with db.transaction() as tx:
        count = delete_test_responses(tx, wave)
    flash(
        ngettext("%(num)s test response deleted.", "%(num)s test responses deleted.", count),
        "info",
    )
    return redirect(url_for("admin.trying", wave_code=wave.code))


# --- preview ------------------------------------------------------------------------------------


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="questionnaire-preview")


def _version(version_id: int) -> QuestionnaireVersion:
    version = db.session.get(QuestionnaireVersion, version_id)
    if version is None:
        abort(404)
    return version


def _state(version_id: int) -> tuple[int, dict] | None:
    """The page and answers the previewing admin stands on, if the signed value is intact and
    of this version."""
    try:
        state = _signer().loads(request.form.get("preview_state", ""))
    except BadSignature:
        return None
    if not isinstance(state, dict) or state.get("v") != version_id:
        return None
    index, answers = state.get("i"), state.get("a")
    if not isinstance(index, int) or not isinstance(answers, dict):
        return None
    return index, answers


@bp.route("/preview/<int:version_id>", methods=["GET", "POST"])
@role_required("admin")
def preview(version_id: int):
    """A questionnaire version as a respondent sees it, page by page, with its validation and
    routing; nothing is stored (not even in the session)."""
    version = _version(version_id)
    questionnaire = definition(version)
    db.session.rollback()  # read only: nothing of this request is written
    first = flow.next_page(questionnaire, {}, -1) or 0
    if request.method == "GET":
        return render_template(
            "admin/preview_start.html",
            version=version,
            questionnaire=questionnaire,
            state=_signer().dumps({"v": version.id, "i": first, "a": {}}),
            form=FlaskForm(),
        )
    state = _state(version.id)
    if state is None or not 0 <= state[0] < len(questionnaire.pages):
        flash(_("The preview was restarted: its page could not be read."), "warning")
        return redirect(url_for("admin.preview", version_id=version.id))
    index, answers = state
    if request.form.get("action") is None:  # Start pressed: the first page
        return _preview_page(version, questionnaire, index, answers, None)
    return _preview_submit(version, questionnaire, index, answers)


def _preview_submit(version, questionnaire: Questionnaire, index: int, answers: dict):
    page = questionnaire.pages[index]
    values = flow.expression_values(questionnaire, answers)
    form = PageForm(page, values=values)
    direction = "back" if request.form.get("action") == "back" else "next"
    valid = form.validate(require=direction == "next")
    if not valid and direction == "back" and not form.csrf_failed:
        form.drop_invalid()
        valid = True
    if not valid:
        return _preview_page(version, questionnaire, index, answers, form), 400
    merged = dict(answers)
    for code, value in form.answers().items():
        if value in (None, "", []):
            merged.pop(code, None)
        else:
            merged[code] = value
    values = flow.expression_values(questionnaire, merged)
    if direction == "back":
        target = flow.previous_page(questionnaire, values, index)
        target = index if target is None else target
    else:
        target = flow.next_page(questionnaire, values, index)
    if target is None:
        return render_template(
            "admin/preview_done.html", version=version, questionnaire=questionnaire
        )
    return _preview_page(version, questionnaire, target, merged, None)


def _preview_page(version, questionnaire: Questionnaire, index: int, answers: dict, form):
    page = questionnaire.pages[index]
    values = flow.expression_values(questionnaire, answers)
    if form is not None:
        shown = form.answers()
    else:
        shown = {q.code: answers.get(q.code) for q in page.questions}
    errors = []
    if form is not None:
        errors = [
            (q, form.answer_errors[q.code]) for q in page.questions if q.code in form.answer_errors
        ]
    error_map = {question.code: message for question, message in errors}
    visible = [item for item in page.items if flow.question_is_relevant(item, values)]
    relevant = tuple(flow.page_is_relevant(p, values) for p in questionnaire.pages)
    version_key = (version.id, version.content_hash)
    return render_template(
        "respond/page.html",
        questionnaire=questionnaire,
        page=page,
        items_html=[render.item_html(version_key, i, shown, error_map, g.lang) for i in visible],
        errors=errors,
        csrf_error=bool(form is not None and form.csrf_failed),
        number=page.index + 1,
        total=len(questionnaire.pages),
        is_last=not any(relevant[page.index + 1 :]),
        has_back=any(relevant[: page.index]),
        action=url_for("admin.preview", version_id=version.id),
        handle=None,
        preview=True,
        preview_state=_signer().dumps({"v": version.id, "i": index, "a": answers}),
    )
