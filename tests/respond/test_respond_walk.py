"""Every questionnaire walked through its HTML forms, in both languages, and found in the export."""

from __future__ import annotations

import csv
import random
import re

import pytest
from html_client import csrf_token, fill, parse_forms, path_of, walk
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, Invitation, Response


def export(runner, tmp_path, code: str) -> list[dict[str, str]]:
    out = tmp_path / f"{code}.csv"
    result = runner.invoke(args=["export-responses", "--questionnaire", code, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def issue_links(runner, code: str, count: int = 1) -> list[str]:
    result = runner.invoke(
        args=["invitations", "issue", "--questionnaire", code, "--count", str(count)]
    )
    assert result.exit_code == 0, result.output
    links = result.output.strip().splitlines()
    assert len(links) == count
    return [path_of(link) for link in links]


def count_responses(app, **where) -> int:
    with app.app_context():
        query = select(func.count(Response.id)).filter_by(**where)
        return db.session.scalar(query)


def assert_exported(row: dict[str, str], answers: dict[str, list[str]]) -> None:
    for code, values in answers.items():
        if f"{code}__{values[0]}" in row:  # multiple choice: one 0/1 column per option
            for value in values:
                assert row[f"{code}__{value}"] == "1", code
        elif code in row:
            expected = values[0]
            assert row[code] in (expected, "'" + expected), (code, row[code], expected)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_citizen_walk_is_exported(app, client, runner, tmp_path, lang):
    result = walk(client, f"/{lang}/s/citizen", seed=7)
    assert result.pages >= 5
    rows = export(runner, tmp_path, "citizen")
    assert len(rows) == 1
    assert rows[0]["language"] == lang
    assert_exported(rows[0], result.answers)
    assert "token" not in ",".join(rows[0].keys()).lower()


@pytest.mark.parametrize("code", ["leader", "delegate"])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_invited_walk_is_exported_and_link_is_single_use(app, client, runner, tmp_path, code, lang):
    link = issue_links(runner, code)[0].replace("/vi/", f"/{lang}/")
    result = walk(client, link, seed=3)
    rows = export(runner, tmp_path, code)
    assert len(rows) == 1
    assert_exported(rows[0], result.answers)
    token = link.rsplit("/", 1)[1]
    assert token not in (tmp_path / f"{code}.csv").read_text(encoding="utf-8")
    # The link cannot be used again, from this browser or another.
    fresh = app.test_client()
    again = fresh.get(link)
    assert again.status_code == 410
    with app.app_context():
        invitation = db.session.scalars(select(Invitation)).one()
        assert invitation.status == "complete"


def test_replayed_final_post_adds_nothing(app, client):
    result = walk(client, "/en/s/citizen", seed=11)
    path, data = result.last_post
    before = count_responses(app)
    with app.app_context():
        answers_before = db.session.scalar(select(func.count(Answer.id)))
    replay = client.post(path, data=data)
    assert replay.status_code == 302
    assert replay.headers["Location"].endswith("/en/s/citizen/done")
    assert count_responses(app) == before == 1
    with app.app_context():
        assert db.session.scalar(select(func.count(Answer.id))) == answers_before


def test_replayed_post_of_an_invitation_adds_nothing(app, client, runner):
    link = issue_links(runner, "leader")[0]
    result = walk(client, link, seed=5)
    path, data = result.last_post
    assert "/i/" in path and link.rsplit("/", 1)[1] not in path  # the token left the address
    again = client.post(path, data=data)  # the same browser: its response is complete
    assert again.status_code == 302
    assert path_of(again.headers["Location"]) == "/vi/i/done"
    stranger = app.test_client()  # no session: the address alone reaches nobody's answers
    stranger.get("/vi/")
    data = {
        **data,
        "csrf_token": [csrf_token(stranger.get("/vi/s/citizen").get_data(as_text=True))],
    }
    replay = stranger.post(path, data=data)
    assert replay.status_code == 404
    assert "Hãy mở đường dẫn trong thư mời" in replay.get_data(as_text=True)
    assert count_responses(app, questionnaire_code="leader") == 1


def test_unknown_token_gets_a_clear_page(client):
    page = client.get("/en/i/" + "x" * 43)
    assert page.status_code == 404
    assert "This link is not valid" in page.get_data(as_text=True)
    page = client.get("/vi/i/" + "x" * 43)
    assert "Đường liên kết không hợp lệ" in page.get_data(as_text=True)


def test_resume_code_continues_on_another_device(app, client):
    start = client.get("/en/s/citizen")
    moved = client.post(
        "/en/s/citizen", data={"csrf_token": csrf_token(start.get_data(as_text=True))}
    )
    first_page = client.get(moved.headers["Location"])
    html = first_page.get_data(as_text=True)
    assert "Resume code:" not in html  # nothing is stored, so there is nothing to resume yet
    assert count_responses(app) == 0
    form = next(f for f in parse_forms(html) if ("action", "next") in f.buttons)
    saved = client.post(path_of(form.action), data={**fill(form, random.Random(2), "x")})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    html = client.get(saved.headers["Location"]).get_data(as_text=True)
    code = re.search(r"Resume code: <strong>([0-9A-Z-]{19})</strong>", html)
    assert code, html[:4000]
    # Another device: a new client with no cookie.
    other = app.test_client()
    form_page = other.get("/en/s/citizen/resume")
    wrong = other.post(
        "/en/s/citizen/resume",
        data={
            "csrf_token": csrf_token(form_page.get_data(as_text=True)),
            "resume_code": "AAAA-BBBB",
        },
    )
    assert wrong.status_code == 400
    assert "was not found" in wrong.get_data(as_text=True)
    right = other.post(
        "/en/s/citizen/resume",
        data={
            "csrf_token": csrf_token(form_page.get_data(as_text=True)),
            "resume_code": code.group(1).lower(),
        },
    )
    assert right.status_code == 302
    assert path_of(right.headers["Location"]) == path_of(saved.headers["Location"])
    assert count_responses(app) == 1


def test_switching_language_keeps_the_answers(app, client):
    start = client.get("/vi/s/citizen")
    moved = client.post(
        "/vi/s/citizen", data={"csrf_token": csrf_token(start.get_data(as_text=True))}
    )
    page_path = path_of(moved.headers["Location"])
    html = client.get(page_path).get_data(as_text=True)
    form = next(f for f in parse_forms(html) if ("action", "next") in f.buttons)
    import random

    from html_client import fill

    data = fill(form, random.Random(2), "văn bản")
    data["action"] = ["next"]
    saved = client.post(page_path, data=data)
    assert saved.status_code == 302
    english = client.get(page_path.replace("/vi/", "/en/"))
    body = english.get_data(as_text=True)
    assert 'lang="en"' in body
    for name, values in data.items():
        if name in ("csrf_token", "action"):
            continue
        chosen = values[0]
        assert (
            re.search(rf'name="{name}" value="{re.escape(chosen)}"[^>]*checked', body)
            or f'value="{chosen}" selected' in body
            or f'value="{chosen}"' in body
        ), name


def test_required_errors_are_listed_in_the_page_language(client):
    for lang, summary, message in (
        ("en", "problems on this page", "Please choose an answer."),
        ("vi", "trên trang này", "Vui lòng chọn một câu trả lời."),
    ):
        start = client.get(f"/{lang}/s/citizen")
        client.post(
            f"/{lang}/s/citizen",
            data={"csrf_token": csrf_token(start.get_data(as_text=True)), "new": "1"},
        )
        page = client.get(f"/{lang}/s/citizen/p/0")
        form = next(
            f for f in parse_forms(page.get_data(as_text=True)) if ("action", "next") in f.buttons
        )
        empty = client.post(
            path_of(form.action),
            data={"csrf_token": csrf_token(page.get_data(as_text=True)), "action": "next"},
        )
        assert empty.status_code == 400
        body = empty.get_data(as_text=True)
        assert summary in body
        assert message in body
        # The summary links to the question, which says its error too.
        anchors = re.findall(r'<a href="#q-(\w+)">', body)
        assert anchors
        for code in anchors:
            assert f'id="err-{code}"' in body


def test_closed_and_future_waves_say_so(app, client):
    import datetime as dt

    from survey_app.models import Wave

    with app.app_context():
        wave = db.session.scalars(select(Wave)).one()
        wave.status = "closed"
        db.session.commit()
    page = client.get("/en/s/citizen")
    assert page.status_code == 410
    assert "This survey is closed" in page.get_data(as_text=True)
    with app.app_context():
        wave = db.session.scalars(select(Wave)).one()
        wave.status = "open"
        wave.opens_at = dt.datetime(2099, 5, 17, 8, 0)
        db.session.commit()
    page = client.get("/en/s/citizen")
    assert page.status_code == 403
    body = page.get_data(as_text=True)
    assert "not open yet" in body
    assert "2099" in body
    home = client.get("/en/").get_data(as_text=True)
    assert "/en/s/citizen" not in home


def test_page_count_stays_the_same_through_a_walk(app, client):
    from survey_app.questionnaire.store import definition, latest_version

    with app.app_context():
        questionnaire = definition(latest_version(db.session, "citizen"))
    total = len(questionnaire.pages)
    start = client.get("/en/s/citizen").get_data(as_text=True)
    assert f"at most {total} pages" in start
    skipped_some = False
    for seed in range(1, 7):
        fresh = app.test_client()
        progress = walk(fresh, "/en/s/citizen", seed=seed).progress
        assert {of for _number, of in progress} == {total}, progress
        numbers = [number for number, _of in progress]
        assert numbers == sorted(set(numbers)) and numbers[0] == 1, numbers
        skipped_some |= len(numbers) < total
    assert skipped_some  # some walks left a page out, and the count still held


def test_switching_language_keeps_what_was_typed_before_saving(app, client):
    """The page's form sent with action=language:en (what app.js does on the language link):
    typed answers are kept without the required check and the page comes back in English."""
    start = client.get("/vi/s/citizen")
    moved = client.post("/vi/s/citizen", data={"csrf_token": csrf_token(start.text)})
    first = path_of(moved.headers["Location"])
    html = client.get(first).get_data(as_text=True)
    form = next(f for f in parse_forms(html) if ("action", "next") in f.buttons)
    import random

    from html_client import fill

    typed = fill(form, random.Random(4), "văn bản")
    # half filled in: the rest would fail the required check of "next"
    names = [n for n in typed if n != "csrf_token"]
    partial = {n: typed[n] for n in ["csrf_token", *names[: max(1, len(names) // 2)]]}
    switched = client.post(first, data={**partial, "action": "language:en"})
    assert switched.status_code == 302
    english_path = path_of(switched.headers["Location"])
    assert english_path == first.replace("/vi/", "/en/")
    body = client.get(english_path).get_data(as_text=True)
    assert 'lang="en"' in body and "problem" not in body
    for name, values in partial.items():
        if name == "csrf_token":
            continue
        chosen = re.escape(values[0])
        assert re.search(rf'name="{name}" value="{chosen}"[^>]*checked', body) or re.search(
            rf'value="{chosen}" selected|value="{chosen}"', body
        ), name
    with app.app_context():
        response = db.session.scalars(select(Response)).one()
        assert (response.status, response.page_index, response.language) == (
            "in_progress",
            0,
            "en",
        )
    # an unknown language is no switch: the page is checked as "next" would
    refused = client.post(english_path, data={**partial, "action": "language:fr"})
    assert refused.status_code == 400 and "problem" in refused.text
