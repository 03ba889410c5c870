"""Hostile input to every kind of form field: refused with a clear error, or kept as plain data."""

from __future__ import annotations

import re

import pytest
from html_client import csrf_token, path_of
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer

HOSTILE_FORM = """\
code: hostile
group: citizen
access: open
title: {vi: Kiểm thử, en: Test}
intro: {vi: Giới thiệu, en: Introduction}
pages:
  - code: p1
    title: {vi: Trang 1, en: Page 1}
    items:
      - {code: one, type: single, scale: satisfaction5, label: {vi: Một, en: One}}
      - code: many
        type: multiple
        label: {vi: Nhiều, en: Many}
        options:
          - {value: a, label: {vi: A, en: A}}
          - {value: b, label: {vi: B, en: B}}
          - {value: none, exclusive: true, label: {vi: Không, en: None of these}}
      - {code: num, type: integer, min: 1, max: 20, label: {vi: Số, en: Number}}
      - {code: short, type: text, max_length: 20, label: {vi: Ngắn, en: Short}}
      - {code: long, type: longtext, label: {vi: Dài, en: Long}}
      - {code: place, type: dropdown, list: districts, label: {vi: Nơi, en: Place}}
      - code: age
        type: integer
        label: {vi: Tuổi, en: Age}
        constraint: . >= 18
        constraint_message: {vi: Phải từ 18 tuổi, en: Must be 18 or over}
  - code: p2
    title: {vi: Trang 2, en: Page 2}
    items:
      - {code: last, type: text, label: {vi: Cuối, en: Last}}
"""


@pytest.fixture
def hostile_app(app, tmp_path):
    import shutil

    from app_support import ROOT

    from survey_app.models import Wave, WaveQuestionnaire
    from survey_app.questionnaire.store import sync_questionnaires

    shutil.copy(ROOT / "questionnaires" / "shared.yaml", tmp_path / "shared.yaml")
    (tmp_path / "hostile.yaml").write_text(HOSTILE_FORM, encoding="utf-8")
    with app.app_context(), db.transaction() as session:
        sync_questionnaires(session, tmp_path)
        wave = session.scalars(select(Wave)).first()
        session.add(WaveQuestionnaire(wave_id=wave.id, questionnaire_code="hostile"))
    return app


@pytest.fixture
def page(hostile_app, client):
    start = client.get("/en/s/hostile")
    moved = client.post(
        "/en/s/hostile", data={"csrf_token": csrf_token(start.get_data(as_text=True))}
    )
    path = path_of(moved.headers["Location"])
    token = csrf_token(client.get(path).get_data(as_text=True))

    def post(**fields):
        data = {"csrf_token": token, "action": "next", **fields}
        return client.post(path, data=data)

    return post


def stored(app) -> dict[str, str]:
    with app.app_context():
        return {a.item_code: a.value for a in db.session.scalars(select(Answer))}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"one": "6"}, "Please choose one of the answers listed."),
        ({"one": "1 OR 1=1"}, "Please choose one of the answers listed."),
        ({"many": ["a", "zzz"]}, "Please choose among the answers listed."),
        ({"many": ["a", "a"]}, "Please choose among the answers listed."),
        ({"many": ["a", "none"]}, "cannot be chosen together with other answers"),
        ({"num": "abc"}, "Please enter a whole number"),
        ({"num": "1e3"}, "Please enter a whole number"),
        ({"num": "9" * 400}, "Please enter a whole number"),
        ({"num": "0"}, "at least 1"),
        ({"num": "21"}, "at most 20"),
        ({"short": "x" * 21}, "at most 20 characters (it has 21)"),
        ({"short": "bad\x00byte"}, "characters that cannot be stored"),
        ({"long": "y" * 2001}, "at most 2,000 characters"),
        ({"place": "../../etc/passwd"}, "Please choose one of the answers listed."),
        ({"age": "17"}, "Must be 18 or over"),
    ],
)
def test_bad_values_are_refused_with_a_message_by_the_field(hostile_app, page, fields, message):
    response = page(**fields)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    code = next(iter(fields))
    error = re.search(rf'<p class="error" id="err-{code}">(.*?)</p>', body, re.S)
    assert error, body[:2000]
    assert message in error.group(1)
    assert stored(hostile_app) == {}


def test_markup_and_sql_in_text_are_stored_as_text_and_escaped(hostile_app, client, page):
    script = "<script>alert(1)</script>'; DROP TABLE answer; --"
    response = page(short="<b>hi</b>", long=script, num="+7")
    assert response.status_code == 302
    answers = stored(hostile_app)
    assert answers["long"] == script
    assert answers["num"] == "+7"
    back = client.get("/en/s/hostile/p/0").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in back
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in back


def test_unknown_fields_are_ignored(hostile_app, page):
    response = page(one="3", key_hash="x", response_id="1", status="complete")
    assert response.status_code == 302
    assert stored(hostile_app) == {"one": "3"}


def test_missing_csrf_token_is_refused(hostile_app, client):
    start = client.get("/en/s/hostile")
    client.post("/en/s/hostile", data={"csrf_token": csrf_token(start.get_data(as_text=True))})
    response = client.post("/en/s/hostile/p/0", data={"one": "3", "action": "next"})
    assert response.status_code == 400
    assert "Your session has expired" in response.get_data(as_text=True)
    assert stored(hostile_app) == {}


def test_oversized_request_is_refused(hostile_app, page):
    response = page(long="z" * (600 * 1024))
    assert response.status_code == 413
    assert stored(hostile_app) == {}


def test_pages_cannot_be_skipped_by_url(hostile_app, client, page):
    response = client.get("/en/s/hostile/p/1")
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == "/en/s/hostile/p/0"
    assert client.get("/en/s/hostile/p/99").status_code == 302
