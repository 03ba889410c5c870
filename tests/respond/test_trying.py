"""Trying a questionnaire out: the preview writes nothing to the database; test responses are
answered on the respondents' pages, counted nowhere (quotas, dashboard, wave counts, exports,
weighting input) and deleted by an admin, logged."""

from __future__ import annotations

import random
import re

import pytest
from app_support import TABLES
from html_client import csrf_token, fill, parse_forms, path_of, walk
from sqlalchemy import func, select, text

from survey_app.extensions import db
from survey_app.fieldwork import monitoring, responses_export, waves
from survey_app.models import AuditEvent, QuestionnaireVersion, Quota, QuotaCell, Response, Wave
from survey_app.respond import sealing
from survey_app.stats.data import responses_frame


def default_wave(app) -> Wave:
    with app.app_context():
        wave = db.session.scalars(select(Wave)).one()
        db.session.expunge(wave)
        return wave


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {t: db.session.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}


def add_district_quota(app, wave_id: int) -> None:
    with app.app_context(), db.transaction() as tx:
        quota = Quota(
            wave_id=wave_id,
            questionnaire_code="citizen",
            name="district",
            variables=["district"],
            when_full="screen_out",
        )
        quota.cells = [
            QuotaCell(cell_key=key, target=5, complete=0)
            for key in ("hong_linh", "cam_xuyen", "ha_tinh_city", "ky_anh_town")
        ]
        tx.add(quota)


# --- test mode ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_test_responses_count_nowhere_and_are_deleted_by_an_admin(app, client, auth, lang):
    auth.login("admin")
    wave = default_wave(app)
    add_district_quota(app, wave.id)
    trying = client.get(f"/{lang}/admin/waves/{wave.code}/try")
    assert trying.status_code == 200
    assert f"/{lang}/t/{wave.id}/citizen" in trying.get_data(as_text=True)
    result = walk(client, f"/{lang}/t/{wave.id}/citizen", seed=5)
    assert "notice-trying" in result.done_html
    walk(client, f"/{lang}/t/{wave.id}/leader", seed=6)  # an invited questionnaire too
    with app.app_context():
        session = db.session
        tests = session.scalars(select(Response)).all()
        assert len(tests) == 2 and all(r.test and r.status == "complete" for r in tests)
        assert all(cell.complete == 0 for cell in session.scalars(select(QuotaCell)))
        board = monitoring.build_dashboard(session, wave.id, "citizen", lang, "Asia/Ho_Chi_Minh")
        assert (board.complete, board.started, board.in_progress) == (0, 0, 0)
        assert sum(c.complete for q in board.quotas for c in q.cells) == 0
        assert waves.response_counts(session) == {}
        assert list(responses_export.rows(session, "citizen")) == []
        assert responses_export.waves_with_responses(session, "citizen") == {}
        assert len(responses_frame(session, "citizen", wave.code)) == 0
        assert sealing.waiting_count(session) == 0  # no padding for a batch of real ones
    # Counted, though, for the admin, then deleted with their answers, logged.
    page = client.get(f"/{lang}/admin/waves/{wave.code}/try").get_data(as_text=True)
    form = next(f for f in parse_forms(page) if f.action.endswith("/test-responses/delete"))
    refused = client.post(path_of(form.action), data={})
    assert refused.status_code == 400  # no CSRF token: nothing deleted
    assert row_counts(app)["response"] == 2
    deleted = client.post(path_of(form.action), data={"csrf_token": csrf_token(page)})
    assert deleted.status_code == 302
    counts = row_counts(app)
    assert counts["response"] == 0 and counts["answer"] == 0
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "test_responses_deleted")
        ).one()
        assert event.details == {"wave": wave.code, "count": 2}


def test_deleting_test_responses_keeps_real_ones(app, client, auth):
    wave = default_wave(app)
    walk(app.test_client(), "/en/s/citizen", seed=1)  # a real respondent
    auth.login("admin")
    walk(client, f"/en/t/{wave.id}/citizen", seed=2)
    page = client.get(f"/en/admin/waves/{wave.code}/try").get_data(as_text=True)
    client.post(
        f"/en/admin/waves/{wave.code}/test-responses/delete", data={"csrf_token": csrf_token(page)}
    )
    with app.app_context():
        left = db.session.scalars(select(Response)).all()
        assert [(r.test, r.status) for r in left] == [(False, "complete")]
        assert len(list(responses_export.rows(db.session, "citizen"))) == 1


def test_a_draft_wave_can_be_tried_before_it_opens(app, client, auth):
    wave = default_wave(app)
    with app.app_context(), db.transaction() as tx:
        tx.get(Wave, wave.id).status = "draft"
    assert app.test_client().get("/en/s/citizen").status_code != 200
    auth.login("admin")
    walk(client, f"/en/t/{wave.id}/citizen", seed=3)
    with app.app_context():
        assert db.session.scalars(select(Response.test)).all() == [True]


def test_a_test_resume_code_does_not_open_a_real_response(app, client, auth):
    wave = default_wave(app)
    respondent = app.test_client()
    page = respondent.get("/en/s/citizen")
    started = respondent.post(
        "/en/s/citizen", data={"csrf_token": csrf_token(page.get_data(as_text=True))}
    )
    first = path_of(started.headers["Location"])
    html = respondent.get(first).get_data(as_text=True)
    data = fill(parse_forms(html)[0], random.Random(1), "x")
    data["action"] = ["next"]
    respondent.post(first, data=data)
    shown = respondent.get(path_of(started.headers["Location"]).replace("/p/0", "/p/1"))
    code = re.search(r"([0-9A-Z]{4}-){3}[0-9A-Z]{4}", shown.get_data(as_text=True))[0]
    auth.login("admin")
    resume = f"/en/t/{wave.id}/citizen/resume"
    form = client.get(resume).get_data(as_text=True)
    answer = client.post(resume, data={"csrf_token": csrf_token(form), "resume_code": code})
    assert answer.status_code == 400


@pytest.mark.parametrize("role", ["statistician", "monitor"])
def test_test_mode_and_deletion_are_for_admins_only(app, client, auth, role):
    wave = default_wave(app)
    anonymous = app.test_client()
    assert anonymous.get(f"/en/t/{wave.id}/citizen").status_code == 302
    assert "/admin/login" in anonymous.get(f"/en/t/{wave.id}/citizen").headers["Location"]
    auth.login(role)
    assert client.get(f"/en/t/{wave.id}/citizen").status_code == 403
    assert client.get(f"/en/t/{wave.id}/citizen/p/0").status_code == 403
    assert client.get(f"/en/admin/waves/{wave.code}/try").status_code == 403
    assert client.post(f"/en/admin/waves/{wave.code}/test-responses/delete").status_code in (
        400,
        403,
    )
    assert client.get("/en/admin/preview/1").status_code == 403


def test_unknown_waves_and_questionnaires_are_not_found(app, client, auth):
    wave = default_wave(app)
    auth.login("admin")
    assert client.get(f"/en/t/{wave.id + 1000}/citizen").status_code == 404
    assert client.get(f"/en/t/{wave.id}/nosuch").status_code == 404
    assert client.get("/en/admin/preview/999999").status_code == 404


# --- preview ------------------------------------------------------------------------------------


def hidden(form) -> str:
    return form.groups()["preview_state"][0].value


def preview_walk(client, path: str, seed: int) -> tuple[int, str]:
    """Answer a preview to its end; returns the pages answered and the last page's HTML."""
    rng = random.Random(seed)
    html = client.get(path).get_data(as_text=True)
    form = parse_forms(html)[0]
    page = client.post(
        path_of(form.action),
        data={"csrf_token": csrf_token(html), "preview_state": hidden(form)},
    )
    pages = 0
    while page.status_code == 200 and 'name="preview_state"' in page.get_data(as_text=True):
        html = page.get_data(as_text=True)
        form = next(f for f in parse_forms(html) if ("action", "next") in f.buttons)
        data = fill(form, rng, "Ý kiến thử")
        data["action"] = ["next"]
        page = client.post(path_of(form.action), data=data)
        assert page.status_code == 200, re.findall(
            r'class="error"[^>]*>(.*?)</p>', page.get_data(as_text=True)
        )
        pages += 1
        assert pages < 100
    return pages, page.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_preview_walks_every_version_and_writes_nothing(app, client, auth, lang):
    auth.login("admin")
    with app.app_context():
        versions = db.session.scalars(select(QuestionnaireVersion.id)).all()
    wave = default_wave(app)
    listing = client.get(f"/{lang}/admin/waves/{wave.code}/try").get_data(as_text=True)
    before = row_counts(app)
    for version_id in versions:
        path = f"/{lang}/admin/preview/{version_id}"
        assert path in listing or version_id not in versions
        pages, done = preview_walk(client, path, seed=version_id)
        assert pages >= 2
        assert "notice-trying" in done and f"/{lang}/admin/preview/{version_id}" in done
    assert row_counts(app) == before


def test_a_preview_shows_errors_and_refuses_a_tampered_state(app, client, auth):
    auth.login("admin")
    with app.app_context():
        version_id = db.session.scalar(
            select(func.max(QuestionnaireVersion.id)).where(QuestionnaireVersion.code == "citizen")
        )
    path = f"/en/admin/preview/{version_id}"
    html = client.get(path).get_data(as_text=True)
    state = hidden(parse_forms(html)[0])
    first = client.post(path, data={"csrf_token": csrf_token(html), "preview_state": state})
    first_html = first.get_data(as_text=True)
    page_state = hidden(parse_forms(first_html)[0])
    empty = client.post(
        path,
        data={"csrf_token": csrf_token(first_html), "preview_state": page_state, "action": "next"},
    )
    assert empty.status_code == 400
    assert "error-summary" in empty.get_data(as_text=True)
    tampered = client.post(
        path,
        data={
            "csrf_token": csrf_token(first_html),
            "preview_state": page_state[:-3] + "abc",
            "action": "next",
        },
    )
    assert tampered.status_code == 302 and path_of(tampered.headers["Location"]) == path
    no_csrf = client.post(path, data={"preview_state": page_state, "action": "next"})
    assert no_csrf.status_code == 400
