"""A whole round through the web (Flask test client, SQLite and PostgreSQL): officers
self-assess with evidence and submit, an appraiser re-scores with comments, the units see the
council's points and answer once, the round is finalised and exports the appraisal file."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
from appraisal_support import BLOCK, CRITERIA, UNITS, make_units, open_round, points_data, scope
from html_client import csrf_token
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from analysis.index import APPRAISAL_COLUMNS, check_appraisal
from analysis.scheme import load_scheme
from survey_app import storage
from survey_app.appraisal.progress import APPRAISAL_COLUMNS as EXPORTED_COLUMNS
from survey_app.extensions import db
from survey_app.models import AuditEvent, CriterionScore, Evidence, PointChange, Wave
from survey_app.stats import services as stats_services

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _token(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return csrf_token(page.get_data(as_text=True))


def _people(app, auth):
    units = make_units(app)
    for who, unit in (("o1@example.vn", "D1"), ("o2@example.vn", "D2")):
        auth.ensure_user("officer", who)
        scope(app, who, unit_id=units[unit])
    auth.ensure_user("appraiser", "council@example.vn")
    scope(app, "council@example.vn", block=BLOCK)
    auth.ensure_user("appraiser", "other@example.vn")
    scope(app, "other@example.vn", block="districts")
    return units


def _default_wave(app) -> str:
    with app.app_context():
        return db.session.scalars(select(Wave.code).order_by(Wave.id)).first()


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_whole_round(app, client, auth):
    units = _people(app, auth)
    round_id = open_round(client, auth)
    unit_url = f"/en/appraisal/rounds/{round_id}/unit"

    # the first officer: a draft, refusals that name the criterion, evidence, submission
    auth.login(email="o1@example.vn")
    page = client.get(unit_url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Department of Finance" in text and "Appraised: public finance" in text
    token = csrf_token(text)
    refused = client.post(unit_url, data=points_data(token, {"1.1": "10.5"}))
    assert refused.status_code == 400
    assert "Criterion 1.1: 10.5 is not 0 to 10 in steps of 0.25" in refused.get_data(as_text=True)
    refused = client.post(unit_url, data=points_data(token, {"2.1": "3.1"}))
    assert refused.status_code == 400 and "Criterion 2.1" in refused.get_data(as_text=True)
    mine = {"1.1": "9.5", "2.1": "8", "3.1": "7,25", "4.1": "10", "5.1": "6", "6.1": "10"}
    draft = client.post(unit_url, data={**points_data(token, mine), "action": "draft"})
    assert draft.status_code == 302
    assert "appraisal_submitted" not in _actions(app)
    # 7.1 has no points yet, and points without evidence need an explanation
    early = client.post(unit_url, data={**points_data(token, mine), "action": "submit"})
    assert early.status_code == 400
    body = early.get_data(as_text=True)
    assert "Criterion 7.1 has no points." in body
    assert "Criterion 3.1 has points but no evidence: explain them." in body
    evidence_url = f"{unit_url}/evidence"
    added = client.post(
        evidence_url,
        data={"csrf_token": token, "criterion": "1.1", "file": (io.BytesIO(PDF), "plan.pdf")},
        content_type="multipart/form-data",
    )
    assert added.status_code == 302, added.get_data(as_text=True)
    linked = client.post(
        evidence_url,
        data={"csrf_token": token, "criterion": "2.1", "url": "https://example.vn/qd-12.pdf"},
        content_type="multipart/form-data",
    )
    assert linked.status_code == 302
    mine["7.1"] = "0"
    reasons = {c: f"see report {c}" for c in ("3.1", "4.1", "5.1", "6.1")}
    done = client.post(unit_url, data={**points_data(token, mine, reasons), "action": "submit"})
    assert done.status_code == 302, done.get_data(as_text=True)
    after = client.get(unit_url).get_data(as_text=True)
    assert "Submitted on" in after and 'name="points_0"' not in after
    again = client.post(unit_url, data={**points_data(token, mine), "action": "draft"})
    assert again.status_code == 400
    assert "cannot be changed any more" in again.get_data(as_text=True)
    with app.app_context():
        evidence_id = db.session.scalars(
            select(Evidence.id).where(Evidence.file_key.isnot(None))
        ).one()
    download = client.get(f"/en/appraisal/evidence/{evidence_id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    # an officer reaches no council page, not even their own unit's
    assert client.get(f"/en/appraisal/rounds/{round_id}/units/{units['D1']}").status_code == 403
    auth.logout()

    # another unit's officer neither sees the first unit's evidence nor is told it exists
    auth.login(email="o2@example.vn")
    assert client.get(f"/en/appraisal/evidence/{evidence_id}").status_code == 404
    other = client.get(unit_url).get_data(as_text=True)
    assert "Department of Justice" in other and "plan.pdf" not in other
    auth.logout()

    # an appraiser of another block is refused; the block's appraiser re-scores
    auth.login(email="other@example.vn")
    assert client.get(f"/en/appraisal/rounds/{round_id}/units/{units['D1']}").status_code == 403
    assert client.get(f"/en/appraisal/evidence/{evidence_id}").status_code == 404
    auth.logout()
    auth.login(email="council@example.vn")
    council_url = f"/en/appraisal/rounds/{round_id}/units/{units['D1']}"
    page = client.get(council_url).get_data(as_text=True)
    assert (
        "plan.pdf" in page and "https://example.vn/qd-12.pdf" in page and "see report 4.1" in page
    )
    token = csrf_token(page)
    council = dict(mine, **{"1.1": "9.5", "2.1": "6", "3.1": "7.25", "7.1": "0"})
    bare = client.post(council_url, data=points_data(token, council))
    assert bare.status_code == 400
    assert "Criterion 2.1: say why the points differ" in bare.get_data(as_text=True)
    council["3.1"] = "7.25"
    saved = client.post(
        council_url, data=points_data(token, council, {"2.1": "Decision 12 came late"})
    )
    assert saved.status_code == 302
    history = client.get(council_url).get_data(as_text=True)
    assert "Decision 12 came late" in history and "o1@example.vn" in history
    for code in ("D2", "D3"):
        url = f"/en/appraisal/rounds/{round_id}/units/{units[code]}"
        points = {c: "5" for c in CRITERIA}
        saved = client.post(
            url, data=points_data(token, points, {c: "not submitted" for c in CRITERIA})
        )
        assert saved.status_code == 302, saved.get_data(as_text=True)
    auth.logout()

    # the admin publishes; the officer sees the council's points and answers once
    auth.login("admin")
    round_url = f"/en/appraisal/rounds/{round_id}"
    token = _token(client, round_url)
    now = dt.datetime.now()
    published = client.post(
        f"{round_url}/publish",
        data={
            "csrf_token": token,
            "answer_opens_at": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "answer_closes_at": (now + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert published.status_code == 302
    progress = client.get(round_url).get_data(as_text=True)
    assert "Department of Health" in progress and "Decision 12" not in progress
    auth.logout()
    auth.login(email="o1@example.vn")
    page = client.get(unit_url).get_data(as_text=True)
    assert "Decision 12 came late" in page
    token = csrf_token(page)
    more = client.post(
        evidence_url,
        data={"csrf_token": token, "criterion": "2.1", "url": "https://example.vn/qd-12-signed"},
        content_type="multipart/form-data",
    )
    assert more.status_code == 302
    with app.app_context():
        stages = db.session.scalars(select(Evidence.stage).order_by(Evidence.id)).all()
    assert stages == ["self", "self", "answer"]
    answer = {"csrf_token": token, "answer": "Decision 12 was signed on 28 December."}
    assert client.post(f"{unit_url}/answer", data=answer).status_code == 302
    twice = client.post(f"{unit_url}/answer", data=answer)
    assert twice.status_code == 400 and "may answer once" in twice.get_data(as_text=True)
    auth.logout()

    # the appraiser considers the answer, raises 2.1, and finalises
    auth.login(email="council@example.vn")
    page = client.get(council_url).get_data(as_text=True)
    assert "signed on 28 December" in page
    token = csrf_token(page)
    council["2.1"] = "7"
    reason = {"2.1": "the answer shows the decision in time for half of the points"}
    assert client.post(council_url, data=points_data(token, council, reason)).status_code == 302
    final = client.post(f"/en/appraisal/rounds/{round_id}/finalise", data={"csrf_token": token})
    assert final.status_code == 302
    late = client.post(council_url, data=points_data(token, council, reason))
    assert late.status_code == 400 and "The round is final" in late.get_data(as_text=True)
    exported = client.get(f"/en/appraisal/rounds/{round_id}/appraisal.csv")
    assert exported.status_code == 200
    # only an admin gives the points to a wave's index
    send = {"csrf_token": token, "wave": _default_wave(app)}
    assert client.post(f"/en/appraisal/rounds/{round_id}/index-input", data=send).status_code == 403
    auth.logout()
    auth.login("admin")
    send["csrf_token"] = _token(client, f"/en/appraisal/rounds/{round_id}")
    sent = client.post(f"/en/appraisal/rounds/{round_id}/index-input", data=send)
    assert sent.status_code == 302, sent.get_data(as_text=True)
    with app.app_context():
        wave = db.session.scalars(select(Wave).where(Wave.code == send["wave"])).one()
        assert stats_services.inputs(db.session, wave)["appraisal"] == "appraisal.csv"
        stored = storage.get(db.session, f"inputs/{wave.id}/appraisal.csv")
    assert stored == exported.data
    auth.logout()

    with app.app_context():
        changes = db.session.scalars(
            select(PointChange)
            .join(CriterionScore, CriterionScore.id == PointChange.score_id)
            .where(CriterionScore.criterion == "2.1", PointChange.kind == "appraised")
            .order_by(PointChange.id)
        ).all()
    d1_changes = [
        (c.before, c.after, c.actor) for c in changes if c.reason.startswith(("Dec", "the"))
    ]
    assert d1_changes == [(None, 6.0, "council@example.vn"), (6.0, 7.0, "council@example.vn")]

    table = pd.read_csv(io.StringIO(exported.get_data(as_text=True)), dtype=str)
    assert list(table.columns) == APPRAISAL_COLUMNS == EXPORTED_COLUMNS
    assert len(table) == len(UNITS) * len(CRITERIA)
    scheme = load_scheme("questionnaires/scoring/departments_example.yaml")
    checked = check_appraisal(scheme, table)
    d1 = checked[checked["unit_code"] == "D1"].set_index("criterion")["points"]
    assert d1.to_dict() == {
        "1.1": 9.5,
        "2.1": 7.0,
        "3.1": 7.25,
        "4.1": 10.0,
        "5.1": 6.0,
        "6.1": 10.0,
        "7.1": 0.0,
    }
    # only D1 submitted: a self-points preview reads its rows, the others have none
    self_d1 = check_appraisal(scheme, table[table["unit_code"] == "D1"], points="self")
    assert self_d1["points"].sum() == 50.75
    assert set(table[table["unit_code"] == "D3"]["self_points"].isna()) == {True}

    actions = _actions(app)
    for action in (
        "appraisal_round_opened",
        "appraisal_evidence_added",
        "appraisal_submitted",
        "appraisal_scored",
        "appraisal_published",
        "appraisal_answered",
        "appraisal_finalised",
        "export_appraisal",
        "appraisal_sent_to_index",
    ):
        assert action in actions, action


def test_the_deadline_closes_the_self_assessment(app, client, auth):
    units = make_units(app)
    auth.ensure_user("officer", "o1@example.vn")
    scope(app, "o1@example.vn", unit_id=units["D1"])
    round_id = open_round(client, auth, deadline=dt.datetime.now() - dt.timedelta(hours=2))
    auth.login(email="o1@example.vn")
    url = f"/en/appraisal/rounds/{round_id}/unit"
    page = client.get(url).get_data(as_text=True)
    assert 'name="points_0"' not in page
    late = client.post(url, data={**points_data(csrf_token(page), {"1.1": "5"}), "action": "draft"})
    assert late.status_code == 400
    assert "The deadline for the self-assessment has passed." in late.get_data(as_text=True)


def test_an_officer_without_a_unit_or_of_another_block(app, client, auth):
    make_units(app)
    other = make_units(app, block="districts", units={"X1": "District 1"})
    round_id = open_round(client, auth)
    auth.ensure_user("officer", "none@example.vn")
    auth.login(email="none@example.vn")
    assert client.get(f"/en/appraisal/rounds/{round_id}/unit").status_code == 403
    assert "has no unit yet" in client.get("/en/appraisal/").get_data(as_text=True)
    auth.logout()
    auth.ensure_user("officer", "x1@example.vn")
    scope(app, "x1@example.vn", unit_id=other["X1"])
    auth.login(email="x1@example.vn")
    assert client.get(f"/en/appraisal/rounds/{round_id}/unit").status_code == 404
    assert f"/rounds/{round_id}/" not in client.get("/en/appraisal/").get_data(as_text=True)


def test_opening_a_round_for_a_block_the_scheme_lacks_says_so(app, client, auth):
    auth.login("admin")
    page = client.get("/en/appraisal/rounds/new")
    response = client.post(
        "/en/appraisal/rounds/new",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "year": "2025",
            "scheme": "departments_example.yaml",
            "block": "ministries",
            "points_step": "0.25",
            "self_deadline": "2030-01-01T00:00",
        },
    )
    assert response.status_code == 400
    assert "has no block ministries; its blocks are departments" in response.get_data(as_text=True)


def test_hostile_evidence_is_refused_and_nothing_is_kept(app, client, auth):
    units = make_units(app)
    auth.ensure_user("officer", "o1@example.vn")
    scope(app, "o1@example.vn", unit_id=units["D1"])
    round_id = open_round(client, auth)
    auth.login(email="o1@example.vn")
    url = f"/en/appraisal/rounds/{round_id}/unit"
    token = _token(client, url)

    def upload(content: bytes, name: str, criterion: str = "1.1"):
        # built in memory: the test client would spool a big body to a file it never closes
        boundary, body = encode_multipart(
            {
                "csrf_token": token,
                "criterion": criterion,
                "file": FileStorage(io.BytesIO(content), filename=name),
            }
        )
        return client.post(
            f"{url}/evidence",
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )

    html = upload(b"<html><script>alert(1)</script></html>", "plan.pdf")
    assert html.status_code == 400
    assert "plan.pdf is not a .pdf file inside" in html.get_data(as_text=True)
    script = upload(PDF, "<img src=x onerror=alert(1)>.html")
    assert script.status_code == 400
    assert "<img src=x" not in script.get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;.html" in script.get_data(as_text=True)
    huge = upload(b"%PDF-" + b"0" * (11 * 1024 * 1024), "big.pdf")
    assert huge.status_code == 413
    link = client.post(
        f"{url}/evidence",
        data={"csrf_token": token, "criterion": "1.1", "url": "javascript:alert(1)"},
        content_type="multipart/form-data",
    )
    assert link.status_code == 400 and "https://" in link.get_data(as_text=True)
    unknown = upload(PDF, "plan.pdf", criterion="9.9")
    assert unknown.status_code == 400 and "There is no criterion 9.9" in unknown.get_data(
        as_text=True
    )
    no_token = client.post(
        f"{url}/evidence",
        data={"criterion": "1.1", "file": (io.BytesIO(PDF), "plan.pdf")},
        content_type="multipart/form-data",
    )
    assert no_token.status_code == 400
    assert "The form expired" in no_token.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Evidence)).all() == []
        assert storage.names(db.session, "appraisal/") == []
