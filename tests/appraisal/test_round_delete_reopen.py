"""Deleting a round nothing was submitted to (with a confirmation, its evidence files in the same
transaction, audited) and reopening a published or final round with a reason (audited, the point
history kept, the results not final), over HTTP on SQLite and PostgreSQL; both refused with a
message where the round's state forbids them."""

from __future__ import annotations

import datetime as dt

import pytest
from appraisal_support import (
    BLOCK,
    CRITERIA,
    add_evidence,
    make_units,
    open_round,
    points_data,
    scope,
)
from html_client import csrf_token
from sqlalchemy import func, select

from survey_app.appraisal import operations as ops
from survey_app.extensions import db
from survey_app.models import (
    AppraisalReturn,
    AppraisalRound,
    AuditEvent,
    CriterionScore,
    Evidence,
    PointChange,
    StoredFile,
)


def _count(app, query) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(query.subquery()))


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        for event in found:
            db.session.expunge(event)
        return list(found)


def _people(app, auth) -> dict[str, int]:
    units = make_units(app)
    for code in ("D1", "D2"):
        auth.ensure_user("officer", f"{code.lower()}@example.vn")
        scope(app, f"{code.lower()}@example.vn", unit_id=units[code])
    auth.ensure_user("appraiser", "council@example.vn")
    scope(app, "council@example.vn", block=BLOCK)
    return units


def _draft_with_evidence(client, auth, app, round_id: int) -> int:
    """D1's draft: points, a PDF and a link; its evidence file's id."""
    evidence_id = add_evidence(client, auth, app, "d1@example.vn", round_id)
    auth.login(email="d1@example.vn")
    url = f"/en/appraisal/rounds/{round_id}/unit"
    token = csrf_token(client.get(url).get_data(as_text=True))
    link = {"csrf_token": token, "criterion": "2.1", "url": "https://example.vn/decree.pdf"}
    assert client.post(f"{url}/evidence", data=link).status_code == 302
    saved = client.post(url, data=points_data(token, {"1.1": "5"}, {"1.1": "the plan"}))
    assert saved.status_code == 302
    auth.logout()
    return evidence_id


def _council_points(client, auth, round_id: int, unit_id: int, points: str = "5") -> None:
    auth.login(email="council@example.vn")
    url = f"/en/appraisal/rounds/{round_id}/units/{unit_id}"
    token = csrf_token(client.get(url).get_data(as_text=True))
    everything = {code: points for code in CRITERIA}
    saved = client.post(url, data=points_data(token, everything, dict.fromkeys(CRITERIA, "x")))
    assert saved.status_code == 302, saved.get_data(as_text=True)
    auth.logout()


def test_a_round_nothing_was_submitted_to_is_deleted_with_its_files(app, client, auth):
    units = _people(app, auth)
    round_id = open_round(client, auth)
    kept_round = open_round(client, auth, year=2024)
    evidence_id = _draft_with_evidence(client, auth, app, round_id)
    kept_evidence = add_evidence(client, auth, app, "d2@example.vn", kept_round)
    _council_points(client, auth, round_id, units["D2"])
    with app.app_context():
        file_key = db.session.get(Evidence, evidence_id).file_key
        kept_key = db.session.get(Evidence, kept_evidence).file_key
    base = f"/en/appraisal/rounds/{round_id}"

    # neither an appraiser nor an officer may
    auth.login(email="council@example.vn")
    assert client.get(f"{base}/delete").status_code == 403
    auth.logout()

    auth.login("admin")
    round_page = client.get(base).get_data(as_text=True)
    assert f'href="{base}/delete"' in round_page
    confirm = client.get(f"{base}/delete")
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "Nothing has been submitted to this round." in text
    assert "the drafts and points of 2 units" in text  # D1's draft, D2's council points
    assert "1 evidence file" in text and "1 evidence link" in text
    assert "7 of the council's points" in text
    # an expired form deletes nothing
    assert client.post(f"{base}/delete", data={}).status_code == 400
    assert _count(app, select(AppraisalRound.id).where(AppraisalRound.id == round_id)) == 1

    deleted = client.post(f"{base}/delete", data={"csrf_token": csrf_token(text)})
    assert deleted.status_code == 302 and deleted.headers["Location"].endswith("/en/appraisal/")
    home = client.get("/en/appraisal/").get_data(as_text=True)
    assert "The round 2025 of departments is deleted." in home
    assert client.get(base).status_code == 404
    with app.app_context():
        assert db.session.get(AppraisalRound, round_id) is None
        assert db.session.get(StoredFile, file_key) is None
        # the other round's evidence stays
        assert db.session.get(StoredFile, kept_key) is not None
    assert _count(app, select(AppraisalReturn.id).where(AppraisalReturn.round_id == round_id)) == 0
    assert _count(app, select(Evidence.id)) == 1
    assert _count(app, select(PointChange.id)) == 0
    [event] = _events(app, "appraisal_round_deleted")
    assert event.actor == "admin@example.vn"
    assert event.details["round"] == round_id and event.details["evidence_files"] == 1
    assert event.details["evidence_links"] == 1 and event.details["council_points"] == 7


def test_the_files_go_only_with_the_round(app, client, auth, monkeypatch):
    """One transaction: when the deletion fails after the files were removed, files and round
    are all still there."""
    _people(app, auth)
    round_id = open_round(client, auth)
    evidence_id = _draft_with_evidence(client, auth, app, round_id)
    with app.app_context():
        file_key = db.session.get(Evidence, evidence_id).file_key
    record = ops.audit.record

    def failing(session, action, details=None, **kwargs):
        if action == "appraisal_round_deleted":
            raise RuntimeError("the audit log is full")
        return record(session, action, details, **kwargs)

    monkeypatch.setattr(ops.audit, "record", failing)
    auth.login("admin")
    token = csrf_token(client.get(f"/en/appraisal/rounds/{round_id}/delete").get_data(True))
    with pytest.raises(RuntimeError):
        client.post(f"/en/appraisal/rounds/{round_id}/delete", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(AppraisalRound, round_id) is not None
        assert db.session.get(StoredFile, file_key) is not None
        assert db.session.get(Evidence, evidence_id) is not None


def test_a_round_submitted_to_published_or_final_is_not_deleted(app, client, auth):
    units = _people(app, auth)
    round_id = open_round(client, auth)
    base = f"/en/appraisal/rounds/{round_id}"
    auth.login(email="d1@example.vn")
    token = csrf_token(client.get(f"{base}/unit").get_data(as_text=True))
    everything = dict.fromkeys(CRITERIA, "0")
    submitted = client.post(
        f"{base}/unit", data={**points_data(token, everything), "action": "submit"}
    )
    assert submitted.status_code == 302
    auth.logout()

    auth.login("admin")
    refused = client.get(f"{base}/delete")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "1 unit has submitted its self-assessment: the round cannot be deleted." in text
    assert 'id="delete-form"' not in text
    posted = client.post(f"{base}/delete", data={"csrf_token": csrf_token(text)})
    assert posted.status_code == 409
    assert "1 unit has submitted" in posted.get_data(as_text=True)
    assert _count(app, select(AppraisalRound.id)) == 1
    assert _events(app, "appraisal_round_deleted") == []
    # in Vietnamese too (the refusal is translated where the catalogue has it, else English)
    assert client.get(f"/vi/appraisal/rounds/{round_id}/delete").status_code == 409
    auth.logout()

    other = open_round(client, auth, year=2024)
    with app.app_context(), db.transaction() as tx:
        published = tx.get(AppraisalRound, other)
        ops.publish(tx, published, dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1))
    auth.login("admin")
    page = client.get(f"/en/appraisal/rounds/{other}/delete")
    assert page.status_code == 409
    assert "The round is published to the units: it cannot be deleted." in page.get_data(True)
    assert f'href="/en/appraisal/rounds/{other}/delete"' not in client.get(
        f"/en/appraisal/rounds/{other}"
    ).get_data(as_text=True)
    auth.logout()
    for code in ("D1", "D2", "D3"):
        _council_points(client, auth, other, units[code])
    with app.app_context(), db.transaction() as tx:
        ops.finalise(tx, tx.get(AppraisalRound, other))
    auth.login("admin")
    page = client.get(f"/en/appraisal/rounds/{other}/delete")
    assert page.status_code == 409
    assert "The round is final: it cannot be deleted." in page.get_data(as_text=True)


def test_a_final_round_is_reopened_with_a_reason_and_its_history_kept(app, client, auth):
    units = _people(app, auth)
    round_id = open_round(client, auth)
    for code in ("D1", "D2", "D3"):
        _council_points(client, auth, round_id, units[code])
    auth.login(email="council@example.vn")
    base = f"/en/appraisal/rounds/{round_id}"
    token = csrf_token(client.get(base).get_data(as_text=True))
    assert client.post(f"{base}/finalise", data={"csrf_token": token}).status_code == 302
    # reopening is the admins'
    assert (
        client.post(f"{base}/reopen", data={"csrf_token": token, "reason": "x"}).status_code == 403
    )
    auth.logout()
    history = _count(app, select(PointChange.id))
    assert history == 21

    auth.login("admin")
    page = client.get(base).get_data(as_text=True)
    assert 'id="reopen-form"' in page and 'id="delete-link"' not in page
    token = csrf_token(page)
    no_reason = client.post(f"{base}/reopen", data={"csrf_token": token, "reason": "  "})
    assert no_reason.status_code == 400
    assert "Say why the round is reopened." in no_reason.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(AppraisalRound, round_id).status == "final"
    reason = "Complaint of D2: decree 5 was on time"
    reopened = client.post(f"{base}/reopen", data={"csrf_token": token, "reason": reason})
    assert reopened.status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert "The round is open for appraisal again: its results are not final." in page
    assert "Reopened for appraisal on" in page and reason in page
    assert "finalise-form" in page and 'id="reopen-form"' not in page
    assert 'id="delete-link"' not in page  # once reopened, never deleted
    with app.app_context():
        again = db.session.get(AppraisalRound, round_id)
        assert (again.status, again.finalised_at, again.reopen_reason) == ("open", None, reason)
        assert again.reopened_at is not None
    [event] = _events(app, "appraisal_round_reopened")
    assert event.details["reason"] == reason and event.details["from"] == "final"
    assert event.actor == "admin@example.vn"
    # the results say the round is not final
    results = client.get(f"{base}/results")
    text = results.get_data(as_text=True)
    assert results.status_code == 409
    assert "The results come when the round is final." in text and reason in text
    # nothing more to reopen; and a round once final is not deleted
    twice = client.post(f"{base}/reopen", data={"csrf_token": token, "reason": reason})
    assert twice.status_code == 409
    assert "The round is open for appraisal already: there is nothing to reopen." in twice.get_data(
        as_text=True
    )
    deleting = client.get(f"{base}/delete")
    assert deleting.status_code == 409
    assert "The round was published or final before it was reopened" in deleting.get_data(True)
    auth.logout()

    # the council changes D2's points; the history keeps the old ones beside the new
    _council_points(client, auth, round_id, units["D2"], points="6")
    assert _count(app, select(PointChange.id)) == history + 7
    with app.app_context():
        befores = db.session.scalars(
            select(PointChange.before)
            .join(CriterionScore, CriterionScore.id == PointChange.score_id)
            .join(AppraisalReturn, AppraisalReturn.id == CriterionScore.return_id)
            .where(AppraisalReturn.unit_id == units["D2"])
            .order_by(PointChange.id)
        ).all()
    assert befores == [None] * 7 + [5.0] * 7


def test_a_published_round_is_reopened(app, client, auth):
    _people(app, auth)
    round_id = open_round(client, auth)
    with app.app_context(), db.transaction() as tx:
        ops.publish(
            tx, tx.get(AppraisalRound, round_id), dt.datetime(2025, 1, 1), dt.datetime(2025, 2, 1)
        )
    auth.login("admin")
    base = f"/en/appraisal/rounds/{round_id}"
    token = csrf_token(client.get(base).get_data(as_text=True))
    done = client.post(f"{base}/reopen", data={"csrf_token": token, "reason": "window too short"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(AppraisalRound, round_id).status == "open"
    [event] = _events(app, "appraisal_round_reopened")
    assert event.details["from"] == "published"
