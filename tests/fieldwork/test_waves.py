"""Waves in the admin pages: create, edit, and respondents see only open waves."""

from __future__ import annotations

from html_client import csrf_token
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
        "Write the date as YYYY-MM-DD HH:MM",
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
    assert 'value="2025-06-01 08:00"' in edit
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
