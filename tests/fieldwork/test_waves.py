"""Waves in the admin pages: create, edit, and respondents see only open waves."""

from __future__ import annotations

from html_client import csrf_token
from markupsafe import escape
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Wave


def test_create_and_edit_a_wave(app, client, auth):
    auth.login("admin")
    form = client.get("/en/admin/waves/new")
    assert form.status_code == 200
    token = csrf_token(form.get_data(as_text=True))
    bad = client.post(
        "/en/admin/waves/new",
        data={
            "csrf_token": token,
            "code": "Bad Code!",
            "title_vi": "",
            "title_en": "x",
            "status": "open",
            "opens_at": "tomorrow",
            "closes_at": "",
            "questionnaires": [],
        },
    )
    assert bad.status_code == 400
    body = bad.get_data(as_text=True)
    for message in (
        "lower-case letters",
        "Give the title in Vietnamese.",
        "Write the date and time as 2026-12-31 17:00.",
        "Choose at least one questionnaire.",
    ):
        assert message in body
    good = client.post(
        "/en/admin/waves/new",
        data={
            "csrf_token": token,
            "code": "par-2025-ha-tinh",
            "title_vi": "CCHC 2025 - Hà Tĩnh",
            "title_en": "PAR 2025 - Ha Tinh",
            "status": "draft",
            "opens_at": "2025-06-01 08:00",
            "closes_at": "2025-06-30 17:00",
            "questionnaires": ["leader", "delegate"],
        },
    )
    assert good.status_code == 302
    ancient = client.post(
        "/en/admin/waves/new",
        data={
            "csrf_token": token,
            "code": "par-0001",
            "title_vi": "x",
            "title_en": "x",
            "status": "draft",
            "opens_at": "0001-01-01 00:00",  # before UTC+7 was a date at all
            "questionnaires": ["leader"],
        },
    )
    assert ancient.status_code == 400
    assert "Give a date between 2000 and 2100." in ancient.get_data(as_text=True)
    with app.app_context():
        wave = db.session.scalars(select(Wave).where(Wave.code == "par-2025-ha-tinh")).one()
        # Local time in Ha Tinh is UTC+7.
        assert wave.opens_at.isoformat() == "2025-06-01T01:00:00"
        assert sorted(q.questionnaire_code for q in wave.questionnaires) == ["delegate", "leader"]
        wave_id = wave.id
    listing = client.get("/en/admin/waves").get_data(as_text=True)
    assert "PAR 2025 - Ha Tinh" in listing
    edit = client.get(f"/en/admin/waves/{wave_id}/edit").get_data(as_text=True)
    assert 'type="datetime-local"' in edit and 'value="2025-06-01T08:00"' in edit
    wrong_order = client.post(
        f"/en/admin/waves/{wave_id}/edit",
        data={
            "csrf_token": token,
            "code": "par-2025-ha-tinh",
            "title_vi": "a",
            "title_en": "b",
            "status": "open",
            "opens_at": "2025-06-30 08:00",
            "closes_at": "2025-06-01 08:00",
            "questionnaires": ["leader"],
        },
    )
    assert wrong_order.status_code == 400
    assert "must close after it opens" in wrong_order.get_data(as_text=True)
    taken = client.post(
        f"/en/admin/waves/{wave_id}/edit",
        data={
            "csrf_token": token,
            "code": f"wave-{wave.created_at.year}",
            "title_vi": "a",
            "title_en": "b",
            "status": "open",
            "questionnaires": ["leader"],
        },
    )
    assert taken.status_code == 400
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert "wave_saved" in actions


def test_respondents_see_only_open_waves(app, client, auth):
    admin = app.test_client()
    auth.login("admin", client=admin)
    with app.app_context():
        default = db.session.scalars(select(Wave)).one()
        wave_id = default.id
    token = csrf_token(admin.get(f"/en/admin/waves/{wave_id}/edit").get_data(as_text=True))
    closed = admin.post(
        f"/en/admin/waves/{wave_id}/edit",
        data={
            "csrf_token": token,
            "code": default.code,
            "title_vi": "Đợt",
            "title_en": "Wave",
            "status": "closed",
            "questionnaires": ["citizen", "leader", "delegate"],
        },
    )
    assert closed.status_code == 302
    assert "/en/s/citizen" not in client.get("/en/").get_data(as_text=True)
    assert client.get("/en/s/citizen").status_code == 410


def _wave_fields(token: str, code: str, **fields) -> dict:
    return {
        "csrf_token": token,
        "code": code,
        "title_vi": "Đợt " + code,
        "title_en": "Wave " + code,
        "status": "open",
        "questionnaires": ["citizen"],
        **fields,
    }


def test_vietnamese_pages_take_the_day_first(app, client, auth):
    auth.login("admin")
    token = csrf_token(client.get("/vi/admin/waves/new").get_data(as_text=True))
    saved = client.post(
        "/vi/admin/waves/new",
        data=_wave_fields(
            token,
            "par-2026",
            opens_at="01/12/2026 08:00",
            closes_at="31/12/2026 17:00",
            identities_kept_until="31/03/2027",
        ),
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with app.app_context():
        wave = db.session.scalars(select(Wave).where(Wave.code == "par-2026")).one()
        # 17:00 in Ha Tinh (UTC+7) is 10:00 UTC
        assert wave.closes_at.isoformat() == "2026-12-31T10:00:00"
        assert wave.opens_at.isoformat() == "2026-12-01T01:00:00"
        assert wave.identities_kept_until.isoformat() == "2027-03-31"
    # English pages keep to ISO: 01/12 could be either month there
    english = client.post(
        "/en/admin/waves/new",
        data=_wave_fields(token, "par-2027", opens_at="01/12/2027 08:00"),
    )
    assert english.status_code == 400
    assert "Write the date and time as 2026-12-31 17:00." in english.get_data(as_text=True)
    wrong = client.post(
        "/vi/admin/waves/new", data=_wave_fields(token, "par-2027", opens_at="31/13/2027 08:00")
    )
    assert wrong.status_code == 400
    assert "31/12/2026 17:00" in wrong.get_data(as_text=True)


def test_two_open_waves_with_one_questionnaire_are_warned_of(app, client, auth):
    auth.login("admin")
    listing = client.get("/en/admin/waves").get_data(as_text=True)
    assert "open waves" not in listing
    with app.app_context():
        from survey_app.questionnaire.store import definition, latest_versions

        titles = [definition(v).title["en"] for v in latest_versions(db.session).values()]
    assert all(escape(title) in listing for title in titles)  # titles, not codes
    assert ">citizen, " not in listing
    token = csrf_token(client.get("/en/admin/waves/new").get_data(as_text=True))
    made = client.post("/en/admin/waves/new", data=_wave_fields(token, "par-2026"))
    assert made.status_code == 302
    page = client.get("/en/admin/waves").get_data(as_text=True)
    with app.app_context():
        default = db.session.scalars(select(Wave).where(Wave.code != "par-2026")).one().code
    assert "notice-warning" in page
    assert f"is in 2 open waves (par-2026, {default})" in page
    assert "newest, par-2026, only" in page
    # a closed or draft wave is no rival
    client.post("/en/admin/waves/new", data=_wave_fields(token, "par-2027", status="draft"))
    closed = client.post(
        "/en/admin/waves/new",
        data=_wave_fields(token, "par-2028", closes_at="2001-01-01 00:00"),
    )
    assert closed.status_code == 302
    page = client.get("/en/admin/waves").get_data(as_text=True)
    assert "is in 2 open waves" in page and "par-2027" not in page.split("notice-warning")[1][:300]
