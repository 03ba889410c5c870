"""Paper entry and responses one by one: an interviewer types paper forms in through the
respondents' pages (mode paper, the interviewer recorded, quotas applied); an admin views a
response, marks it invalid with a reason (out of quotas, dashboard, exports; logged) and restores
it; the dashboard's frequencies; the printable form with its routing in words."""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
from pathlib import Path

import pytest
from app_support import ROOT
from html_client import csrf_token, path_of
from server_support import QUOTA_CSV, QUOTA_FORM
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.fieldwork.responses_export import header, rows
from survey_app.fieldwork.waves import complete_by_wave, response_counts
from survey_app.models import AuditEvent, QuotaCell, Response, User, Wave, WaveQuestionnaire
from survey_app.stats.data import responses_frame


@pytest.fixture
def quick_app(app, tmp_path: Path):
    from survey_app.questionnaire.store import sync_questionnaires

    folder = tmp_path / "questionnaires"
    folder.mkdir()
    shutil.copy(ROOT / "questionnaires" / "shared.yaml", folder / "shared.yaml")
    (folder / "quick.yaml").write_text(QUOTA_FORM, encoding="utf-8")
    app.config["QUESTIONNAIRE_DIR"] = str(folder)
    with app.app_context(), db.transaction() as tx:
        sync_questionnaires(tx, folder)
        wave = tx.scalars(select(Wave)).first()
        tx.add(WaveQuestionnaire(wave_id=wave.id, questionnaire_code="quick"))
    return app


def import_quota(runner, tmp_path):
    path = tmp_path / "quota.csv"
    path.write_text(QUOTA_CSV, encoding="utf-8")
    with runner.app.app_context():
        wave = db.session.scalars(select(Wave)).first().code
    result = runner.invoke(
        args=["quotas", "import", str(path), "--wave", wave, "--questionnaire", "quick"],
        env={"PAR_LANG": "en"},
    )
    assert result.exit_code == 0, result.output
    return wave


def fill_quick(client, district: str, sex: str, overall: str = "4", lang: str = "en") -> str:
    """Start the quick form (as whoever the client is) and answer it; where it ended."""
    start = client.get(f"/{lang}/s/quick")
    assert start.status_code == 200
    client.post(
        f"/{lang}/s/quick",
        data={"csrf_token": csrf_token(start.get_data(as_text=True)), "new": "1"},
    )
    page = client.get(f"/{lang}/s/quick/p/0")
    moved = client.post(
        f"/{lang}/s/quick/p/0",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "district": district,
            "sex": sex,
            "action": "next",
        },
    )
    where = path_of(moved.headers["Location"])
    if not where.endswith("/p/1"):
        return where
    page = client.get(f"/{lang}/s/quick/p/1")
    done = client.post(
        f"/{lang}/s/quick/p/1",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "overall": overall,
            "action": "next",
        },
    )
    return path_of(done.headers["Location"])


def begin_paper(client, code: str = "quick", lang: str = "en"):
    page = client.get(f"/{lang}/admin/paper")
    assert page.status_code == 200
    return client.post(
        f"/{lang}/admin/paper/begin/{code}",
        data={"csrf_token": csrf_token(page.get_data(as_text=True))},
    )


def responses(app) -> list[Response]:
    with app.app_context():
        found = db.session.scalars(select(Response).order_by(Response.id)).all()
        db.session.expunge_all()
        return found


def cells(app) -> dict[str, tuple[int, int]]:
    with app.app_context():
        return {
            c.cell_key: (c.complete, c.over_target) for c in db.session.scalars(select(QuotaCell))
        }


def test_an_interviewer_enters_paper_forms_through_the_respondents_pages(
    quick_app, client, auth, runner, tmp_path
):
    import_quota(runner, tmp_path)
    auth.login("interviewer")
    # the interviewer lands on the paper entry page, which offers the open questionnaires
    landing = client.get("/en/admin/", follow_redirects=True)
    assert landing.request.path == "/en/admin/paper"
    assert 'data-paper="quick"' in landing.get_data(as_text=True)
    # without the form's token nothing begins
    assert client.post("/en/admin/paper/begin/quick").status_code == 400
    assert client.post("/en/admin/paper/begin/nonesuch", data={}).status_code == 400
    begun = begin_paper(client)
    assert begun.status_code == 302 and path_of(begun.headers["Location"]) == "/en/s/quick"
    start = client.get("/en/s/quick").get_data(as_text=True)
    assert "data-paper-entry" in start
    assert fill_quick(client, "can_loc", "female", "5") == "/en/s/quick/done"
    # a second form, in Vietnamese, from the same browser
    assert "data-paper-entry" in client.get("/vi/s/quick/done").get_data(as_text=True)
    assert fill_quick(client, "can_loc", "male", "2", lang="vi") == "/vi/s/quick/done"
    # a respondent on the open link answers on the web
    respondent = quick_app.test_client()
    assert "data-paper-entry" not in respondent.get("/en/s/quick").get_data(as_text=True)
    assert fill_quick(respondent, "can_loc", "female", "3") == "/en/s/quick/done"
    with quick_app.app_context():
        interviewer = db.session.scalars(
            select(User).where(User.email == "interviewer@example.vn")
        ).one()
        begun_events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "paper_entry_begun")
        ).all()
    stored = responses(quick_app)
    assert [(r.status, r.mode, r.language) for r in stored] == [
        ("complete", "paper", "en"),
        ("complete", "paper", "vi"),
        ("complete", "web", "en"),
    ]
    assert [r.entered_by_id for r in stored] == [interviewer.id, interviewer.id, None]
    # the time taken to type a paper form in is not a respondent's: no duration, no speeder
    assert [r.duration_seconds is None for r in stored] == [True, True, False]
    assert [e.details for e in begun_events] == [{"questionnaire": "quick"}]
    # quotas count paper forms as web ones
    assert cells(quick_app)["can_loc|female"] == (2, 0)
    assert cells(quick_app)["can_loc|male"] == (1, 0)
    # the export and the dashboard show the mode
    with quick_app.app_context():
        columns = header(db.session, "quick")
        exported = [dict(zip(columns, row, strict=True)) for row in rows(db.session, "quick")]
    assert [row["mode"] for row in exported] == ["paper", "paper", "web"]
    admin = quick_app.test_client()
    auth.login("admin", client=admin)
    with quick_app.app_context():
        wave = db.session.scalars(select(Wave)).first().code
    data = admin.get(f"/en/admin/monitor/{wave}/quick/data").get_json()
    assert data["by_mode"] == {"web": 1, "paper": 2}
    page = admin.get(f"/en/admin/monitor/{wave}/quick").get_data(as_text=True)
    assert re.search(r'data-figure="complete_paper"><dt>[^<]+</dt><dd>2</dd>', page)
    # ending paper entry: this browser is a respondent again
    paper_page = client.get("/en/admin/paper").get_data(as_text=True)
    client.post("/en/admin/paper/end", data={"csrf_token": csrf_token(paper_page)})
    assert "data-paper-entry" not in client.get("/en/s/quick").get_data(as_text=True)


def test_a_full_cell_screens_out_a_paper_form_too(quick_app, client, auth, runner, tmp_path):
    import_quota(runner, tmp_path)
    auth.login("interviewer")
    begin_paper(client)
    assert fill_quick(client, "duc_tho", "female") == "/en/s/quick/done"
    assert [(r.status, r.mode) for r in responses(quick_app)] == [("screened_out", "paper")]


def test_only_interviewers_and_admins_enter_paper_forms(quick_app, client, auth):
    auth.login("monitor")
    assert client.get("/en/admin/paper").status_code == 403
    assert client.post("/en/admin/paper/begin/quick", data={}).status_code in (400, 403)
    # a monitor's browser cannot make a paper response, whatever its session says
    with client.session_transaction() as session:
        session["paper_entry"] = "quick"
    assert "data-paper-entry" not in client.get("/en/s/quick").get_data(as_text=True)
    assert fill_quick(client, "can_loc", "female") == "/en/s/quick/done"
    assert [(r.mode, r.entered_by_id) for r in responses(quick_app)] == [("web", None)]


def test_an_invitation_only_questionnaire_is_entered_on_paper_without_an_invitation(
    app, client, auth
):
    """The leader questionnaire takes invitees only; an interviewer enters its paper forms with
    no token, and the response keeps the day only and no language, as an invited one does."""
    with app.app_context():
        wave = db.session.scalars(select(Wave)).first()
        codes = wave.questionnaire_codes
    assert "leader" in codes
    anonymous = app.test_client()
    assert anonymous.get("/en/s/leader").status_code == 403
    auth.login("interviewer")
    assert begin_paper(client, "leader").status_code == 302
    start = client.get("/en/s/leader")
    assert start.status_code == 200
    client.post("/en/s/leader", data={"csrf_token": csrf_token(start.get_data(as_text=True))})
    first = client.get("/en/s/leader/p/0")
    assert first.status_code == 200, first.status_code
    form = first.get_data(as_text=True)
    import random

    from html_client import fill, parse_forms

    parsed = next(f for f in parse_forms(form) if ("action", "next") in f.buttons)
    data = fill(parsed, random.Random(3), "x")
    data["action"] = ["next"]
    moved = client.post("/en/s/leader/p/0", data=data)
    assert moved.status_code == 302
    (stored,) = responses(app)
    assert stored.mode == "paper" and stored.language == ""
    assert stored.started_at.time().second == 0 and stored.started_at.microsecond == 0


def test_an_admin_marks_a_response_invalid_and_restores_it(
    quick_app, client, auth, runner, tmp_path
):
    wave = import_quota(runner, tmp_path)
    interviewer = quick_app.test_client()
    auth.login("interviewer", client=interviewer)
    begin_paper(interviewer)
    fill_quick(interviewer, "can_loc", "female", "5")
    fill_quick(quick_app.test_client(), "can_loc", "female", "1")
    paper, web = responses(quick_app)
    assert cells(quick_app)["can_loc|female"] == (2, 0)
    auth.login("admin")
    listing = client.get(f"/en/admin/responses/{wave}/quick").get_data(as_text=True)
    assert f'data-response="{paper.id}"' in listing and f'data-response="{web.id}"' in listing
    base = f"/en/admin/responses/{wave}/quick/{paper.id}"
    shown = client.get(base)
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert "interviewer@example.vn" in text  # who typed it in, never who answered
    assert re.search(r'data-item="overall">[^\n]*\n\s*<td>Very satisfied \(5\)</td>', text)
    # a reason is required
    refused = client.post(f"{base}/invalid", data={"csrf_token": csrf_token(text), "reason": " "})
    assert refused.status_code == 400
    assert "Say why the response is not valid." in refused.get_data(as_text=True)
    # without the token: refused
    assert client.post(f"{base}/invalid", data={"reason": "x"}).status_code == 400
    done = client.post(
        f"{base}/invalid",
        data={"csrf_token": csrf_token(text), "reason": "Form filled twice by one person"},
    )
    assert done.status_code == 302
    paper_now, _web = responses(quick_app)
    assert paper_now.invalid_reason == "Form filled twice by one person"
    assert paper_now.invalidated_at is not None
    assert cells(quick_app)["can_loc|female"] == (1, 0)
    with quick_app.app_context():
        exported = [row[0] for row in rows(db.session, "quick")]
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "response_invalidated")
        ).one()
        # the weighting runs read this frame: the invalid response is not in it
        frame = responses_frame(db.session, "quick", wave)
        wave_id = db.session.scalars(select(Wave)).first().id
        by_status = response_counts(db.session, wave_id)[wave_id, "quick"]
        complete = complete_by_wave(db.session, wave_id)[wave_id]["quick"]
    assert exported == [str(web.id)]
    assert list(frame["response_id"]) == [str(web.id)] and list(frame["mode"]) == ["web"]
    assert (by_status["complete"], by_status["invalid"], complete) == (1, 1, 1)
    assert event.details["reason"] == "Form filled twice by one person"
    assert event.details["response"] == paper.id and event.actor == "admin@example.vn"
    data = client.get(f"/en/admin/monitor/{wave}/quick/data").get_json()
    assert data["complete"] == 1 and data["invalid"] == 1
    assert data["by_mode"] == {"web": 1, "paper": 0}
    # the statisticians' CSV leaves it out too
    download = client.get(f"/en/stats/waves/{wave}/responses/quick.csv")
    assert download.status_code == 200
    table = csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff")))
    assert [(r["response_id"], r["mode"]) for r in table] == [(str(web.id), "web")]
    # the audit page names the action in words
    audit = client.get("/en/admin/audit").get_data(as_text=True)
    assert "Response marked invalid" in audit
    # restore
    page = client.get(base).get_data(as_text=True)
    assert "Marked invalid on" in page
    restored = client.post(f"{base}/restore", data={"csrf_token": csrf_token(page)})
    assert restored.status_code == 302
    paper_again, _web = responses(quick_app)
    assert paper_again.invalidated_at is None and paper_again.invalid_reason is None
    assert cells(quick_app)["can_loc|female"] == (2, 0)
    with quick_app.app_context():
        assert len(list(rows(db.session, "quick"))) == 2
        assert (
            db.session.scalars(
                select(AuditEvent.details).where(AuditEvent.action == "response_restored")
            ).one()["reason"]
            == "Form filled twice by one person"
        )
    # marked invalid once, it is not marked (nor taken out of its cell) a second time
    again = client.post(f"{base}/invalid", data={"csrf_token": csrf_token(page), "reason": "again"})
    assert again.status_code == 302
    again = client.post(f"{base}/invalid", data={"csrf_token": csrf_token(page), "reason": "twice"})
    assert again.status_code == 302
    with quick_app.app_context():
        assert db.session.get(Response, paper.id).invalid_reason == "again"
    assert cells(quick_app)["can_loc|female"] == (1, 0)


def test_a_restored_response_in_a_full_cell_counts_past_the_target(
    quick_app, client, auth, runner, tmp_path
):
    wave = import_quota(runner, tmp_path)
    # can_loc x male has 3 places: fill them, invalidate one, fill the place again, restore
    for _ in range(3):
        assert fill_quick(quick_app.test_client(), "can_loc", "male") == "/en/s/quick/done"
    first = responses(quick_app)[0]
    auth.login("admin")
    base = f"/en/admin/responses/{wave}/quick/{first.id}"
    token = csrf_token(client.get(base).get_data(as_text=True))
    client.post(f"{base}/invalid", data={"csrf_token": token, "reason": "test"})
    assert cells(quick_app)["can_loc|male"] == (2, 0)
    assert fill_quick(quick_app.test_client(), "can_loc", "male") == "/en/s/quick/done"
    assert cells(quick_app)["can_loc|male"] == (3, 0)
    client.post(f"{base}/restore", data={"csrf_token": token})
    assert cells(quick_app)["can_loc|male"] == (3, 1)


def test_responses_pages_are_for_admins_only(quick_app, client, auth):
    with quick_app.app_context():
        wave = db.session.scalars(select(Wave)).first().code
    fill_quick(quick_app.test_client(), "can_loc", "female")
    (one,) = responses(quick_app)
    for role in ("monitor", "statistician", "interviewer"):
        other = quick_app.test_client()
        auth.login(role, client=other)
        assert other.get(f"/en/admin/responses/{wave}/quick").status_code == 403
        assert other.get(f"/en/admin/responses/{wave}/quick/{one.id}").status_code == 403
    auth.login("admin")
    assert client.get(f"/en/admin/responses/{wave}/quick/999999").status_code == 404
    assert client.get(f"/en/admin/responses/{wave}/nonesuch/{one.id}").status_code == 404


def test_the_frequencies_of_each_question_overall_and_by_district(quick_app, client, auth):
    answered = [
        ("can_loc", "female", "5"),
        ("can_loc", "male", "5"),
        ("can_loc", "male", "4"),
        ("duc_tho", "female", "1"),
    ]
    for district, sex, overall in answered:
        fill_quick(quick_app.test_client(), district, sex, overall)
    with quick_app.app_context():
        wave = db.session.scalars(select(Wave)).first().code
    auth.login("monitor")
    page = client.get(f"/en/admin/monitor/{wave}/quick/frequencies")
    assert page.status_code == 200
    text = page.get_data(as_text=True)

    def row(text, code, key):
        section = text.split(f'id="q-{code}"')[1].split("</section>")[0]
        found = re.search(
            rf'data-option="{key}"><td>{key}</td><td>[^<]*</td><td class="num">([^<]+)</td>'
            r'<td class="num">([^<]+)</td>',
            section,
        )
        return found.groups()

    expected = {}
    for key in ("1", "2", "3", "4", "5"):
        n = sum(1 for a in answered if a[2] == key)
        expected[key] = n
        assert row(text, "overall", key) == (str(n), f"{n / len(answered) * 100:.1f}%")
    assert row(text, "sex", "male") == ("2", "50.0%")
    assert "<svg" in text and 'class="bar"' in text
    # district by district, each share of that district's answers
    section = text.split('data-by-district="overall"')[1].split("</table>")[0]
    can_loc = section.split('data-district="can_loc"')[1].split("</tr>")[0]
    assert re.search(r'<td class="num">3</td>', can_loc)
    assert '<td class="num" data-option="5">66.7%</td>' in can_loc
    duc_tho = section.split('data-district="duc_tho"')[1].split("</tr>")[0]
    assert '<td class="num" data-option="1">100.0%</td>' in duc_tho
    vu_quang = section.split('data-district="vu_quang"')[1].split("</tr>")[0]
    assert '<td class="num">0</td>' in vu_quang and "—" in vu_quang
    # one district
    district = client.get(f"/en/admin/monitor/{wave}/quick/frequencies?district=can_loc")
    text = district.get_data(as_text=True)
    assert row(text, "overall", "5") == ("2", "66.7%")
    assert row(text, "overall", "1") == ("0", "0.0%")
    # Vietnamese numbers: a decimal comma
    vi = client.get(f"/vi/admin/monitor/{wave}/quick/frequencies?district=can_loc")
    assert row(vi.get_data(as_text=True), "overall", "5") == ("2", "66,7%")
    # an unknown district shows every district
    unknown = client.get(f"/en/admin/monitor/{wave}/quick/frequencies?district=atlantis")
    assert row(unknown.get_data(as_text=True), "overall", "5") == ("2", "50.0%")
    outsider = quick_app.test_client()
    auth.login("interviewer", client=outsider)
    assert outsider.get(f"/en/admin/monitor/{wave}/quick/frequencies").status_code == 403


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_printable_form_has_every_question_its_codes_and_the_routing(app, client, auth, lang):
    from survey_app.questionnaire.store import definition, latest_version

    auth.login("admin")
    listing = client.get(f"/{lang}/admin/questionnaires").get_data(as_text=True)
    assert f'data-paper-link="citizen-1-{lang}"' in listing
    with app.app_context():
        version = latest_version(db.session, "citizen")
        questionnaire = definition(version)
    page = client.get(f"/{lang}/admin/questionnaires/citizen/v{version.version}/paper")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text))
    for question in questionnaire.questions:
        assert f"[{question.code}]" in plain, question.code
        for option in question.options:
            assert f"{option.label[lang]} ({option.key})" in plain, (question.code, option.key)
    feedback = text.split('id="part-feedback_handling"')[1].split("</section>")[0]
    fb_given = text.split('id="item-fb_given"')[1].split("</div>")[0]
    yes = questionnaire.by_code["fb_given"].option("1").label[lang]
    if lang == "en":
        assert "Answer this part only if the answer to question" in feedback
        assert f"(fb_given) is “{yes}” (1)." in feedback
        assert "If the answer to question" in fb_given and "go on to part" in fb_given
        assert "otherwise go to part" in fb_given
    else:
        assert "fb_given" in feedback and f"“{yes}” (1)" in feedback
        assert "fb_given" in fb_given and f"“{yes}” (1)" in fb_given
    # a question answered only sometimes says so where it stands
    improve_other = text.split('id="item-improve_other"')[1].split("</div>")[0]
    assert "improve" in improve_other and "(other)" in improve_other
    assert client.get(f"/{lang}/admin/questionnaires/citizen/v99/paper").status_code == 404


def test_the_printable_form_is_for_admins_and_interviewers(app, client, auth):
    for role, status in (("interviewer", 200), ("monitor", 403), ("statistician", 403)):
        other = app.test_client()
        auth.login(role, client=other)
        assert other.get("/en/admin/questionnaires/citizen/v1/paper").status_code == status
