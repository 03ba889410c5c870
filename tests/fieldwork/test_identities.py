"""Invitees' identities have a lifetime: erased at a person's request or after the wave's day,
each erasure logged without what it erased; answers and "has answered" stay. And the sealing of
finished invited responses keeps every answer."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from html_client import csrf_token, path_of, walk
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, AuditEvent, Invitation, Invitee, Response, Wave
from survey_app.respond import sealing

WAVE = f"wave-{dt.date.today().year}"
PEOPLE = [
    ("Nguyễn Thị Hồng Nhung", "Sở Nội vụ", "nhung@hatinh.gov.vn", "0912 345 670"),
    ("Trần Văn Đức", "Sở Tư pháp", "duc@hatinh.gov.vn", "0912 345 671"),
    ("Lê Hoàng Yến", "UBND huyện Kỳ Anh", "yen@hatinh.gov.vn", "0912 345 672"),
]


@pytest.fixture
def links(app, runner, tmp_path) -> list[str]:
    source, out = tmp_path / "people.csv", tmp_path / "links.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("name", "group", "agency", "unit", "email", "phone"))
    writer.writerows(
        (name, "leader", agency, "", email, phone) for name, agency, email, phone in PEOPLE
    )
    source.write_text(buffer.getvalue(), encoding="utf-8")
    result = runner.invoke(
        args=["invitations", "import", str(source), "--wave", WAVE, "--questionnaire", "leader"]
        + ["--links-out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as handle:
        return [path_of(row["link"]) for row in csv.DictReader(handle)]


def person(app, index: int) -> tuple[Invitee, Invitation]:
    with app.app_context():
        found = db.session.execute(
            select(Invitee, Invitation)
            .join(Invitation, Invitation.invitee_id == Invitee.id)
            .order_by(Invitee.id)
            .offset(index)
            .limit(1)
        ).one()
        return found[0], found[1]


def answer_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Answer.id)))


def erasures(app) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "identity_erased").order_by(AuditEvent.id)
        ).all()


def test_a_person_asks_to_be_forgotten(app, client, auth, links):
    walk(app.test_client(), links[0], seed=4)  # the first one answers
    app.test_client().get(links[1])  # the second one only opens the link
    answers = answer_count(app)
    first, _invitation = person(app, 0)
    page = f"/en/admin/invitees/{first.id}/erase"

    # Only an admin; a form with its CSRF token and a confirmation.
    assert client.get(page).status_code == 302  # to the login
    auth.login("monitor")
    assert client.get(page).status_code == 403
    auth.logout()
    auth.login("admin")
    form = client.get(page)
    assert form.status_code == 200 and PEOPLE[0][0] in form.text
    assert client.post(page, data={"confirm": "y"}).status_code == 400  # no CSRF token
    unconfirmed = client.post(page, data={"csrf_token": csrf_token(form.text)})
    assert unconfirmed.status_code == 400 and "Tick the box to confirm." in unconfirmed.text
    done = client.post(page, data={"csrf_token": csrf_token(form.text), "confirm": "y"})
    assert done.status_code == 302

    erased, invitation = person(app, 0)
    assert (erased.name, erased.email, erased.phone) == (None, None, None)
    assert erased.erased_on == dt.date.today()
    assert (erased.agency, erased.group) == (PEOPLE[0][1], "leader")  # not personal: kept
    assert invitation.status == "complete"  # that they answered stays
    assert answer_count(app) == answers  # and so do their answers
    [event] = erasures(app)
    assert event.details["reason"] == "request" and event.details["invitee"] == erased.id
    assert event.actor == "admin@example.vn"
    logged = json.dumps(event.details, ensure_ascii=False)
    assert all(value not in logged for value in PEOPLE[0])  # the log keeps nothing it erased

    listing = client.get(f"/en/admin/invitations/{WAVE}/leader").text
    assert PEOPLE[0][0] not in listing and "Identity erased on" in listing
    again = client.get(page, follow_redirects=True)
    assert "erased already" in again.text
    # The export of invitees leaves the erased person out, and says so.
    assert "1 person whose identity is erased is left out." in listing
    export = client.post(
        f"/en/admin/invitations/{WAVE}/leader/invitees.csv",
        data={"csrf_token": csrf_token(listing), "confirm": "y"},
    )
    rows = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert [row["name"] for row in rows] == [PEOPLE[1][0], PEOPLE[2][0]]
    assert all(row["agency"] != PEOPLE[0][1] for row in rows)

    # Someone who has not answered: their unused link stops working; no new one can be made.
    second, invitation = person(app, 1)
    form = client.get(f"/en/admin/invitees/{second.id}/erase")
    client.post(
        f"/en/admin/invitees/{second.id}/erase",
        data={"csrf_token": csrf_token(form.text), "confirm": "y"},
    )
    assert person(app, 1)[1].status == "revoked"
    assert app.test_client().get(links[1]).status_code == 404
    reissue = client.post(
        f"/en/admin/invitations/{invitation.id}/reissue",
        data={"csrf_token": csrf_token(form.text)},
        follow_redirects=True,
    )
    assert "there is nobody to send a new link to" in reissue.text


def test_identities_are_erased_after_the_waves_day(app, client, auth, runner, links):
    auth.login("admin")
    with app.app_context():
        wave = db.session.scalars(select(Wave).where(Wave.code == WAVE)).one()
    edit = f"/en/admin/waves/{wave.id}/edit"
    form = client.get(edit)
    assert form.status_code == 200 and 'id="identities_kept_until"' in form.text
    fields = {
        "csrf_token": csrf_token(form.text),
        "code": WAVE,
        "title_vi": "Đợt khảo sát",
        "title_en": "Survey wave",
        "status": "open",
        "opens_at": "",
        "closes_at": "2026-01-31 17:00",
        "questionnaires": ["citizen", "leader", "delegate"],
    }
    bad = client.post(edit, data={**fields, "identities_kept_until": "31/03/2026"})
    assert bad.status_code == 400 and "Write the date as 2026-12-31." in bad.text
    early = client.post(edit, data={**fields, "identities_kept_until": "2026-01-15"})
    assert early.status_code == 400 and "at least until the wave closes" in early.text
    saved = client.post(edit, data={**fields, "identities_kept_until": "2026-03-31"})
    assert saved.status_code == 302, saved.text[:2000]
    with app.app_context():
        assert db.session.get(Wave, wave.id).identities_kept_until == dt.date(2026, 3, 31)

    before = runner.invoke(args=["privacy", "erase-expired", "--today", "2026-03-31"])
    assert before.exit_code == 0 and "0 identities erased." in before.output
    after = runner.invoke(args=["privacy", "erase-expired", "--today", "2026-04-01"])
    assert after.exit_code == 0 and "3 identities erased." in after.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Invitee.name.is_not(None))) == 0
    assert [e.details["reason"] for e in erasures(app)] == ["retention"] * 3
    assert all(e.actor == "cli" for e in erasures(app))
    again = runner.invoke(args=["privacy", "erase-expired", "--today", "2026-04-02"])
    assert "0 identities erased." in again.output
    missing = runner.invoke(args=["privacy", "erase", "999999"])
    assert missing.exit_code == 2 and "No invitee has the id 999999." in missing.output


def test_sealing_keeps_every_answer_and_the_way_back(app, runner, links):
    client = app.test_client()
    walked = walk(client, links[0], seed=8)
    with app.app_context():
        before = {
            code: value
            for code, value in db.session.execute(select(Answer.item_code, Answer.value))
        }
        old_id = db.session.scalars(select(Response.id)).one()
    assert sealing.BATCH > 1  # one response alone waits for the batch
    with app.app_context():
        assert db.session.scalars(select(Response.sealed)).one() is False
    sealed = runner.invoke(args=["privacy", "seal"])
    assert sealed.exit_code == 0 and "1 response sealed." in sealed.output
    with app.app_context():
        response = db.session.scalars(select(Response)).one()
        assert response.sealed and response.id != old_id
        assert response.id >= sealing.FIRST_SEALED_ID
        after = {
            code: value
            for code, value in db.session.execute(
                select(Answer.item_code, Answer.value).where(Answer.response_id == response.id)
            )
        }
    assert after == before and len(after) >= len(walked.answers) - 1
    # The respondent's browser still finds the response (by the key in its session).
    assert client.get("/en/i/done").status_code == 200
    assert "0 responses sealed." in runner.invoke(args=["privacy", "seal"]).output
