"""XLSForm in and out: the documentation's example imported (command line), validated and
answered through the respondent pages; every construct that does not map named by sheet and row
and nothing stored; our questionnaires exported to workbooks that pyxform converts, and read
back."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from html_client import csrf_token, parse_forms, path_of
from sqlalchemy import func, select
from xlsform_support import (
    EN,
    PIZZA_CHOICES,
    PIZZA_SETTINGS,
    VI,
    pizza_form,
    sheets_of,
    survey_row,
    workbook,
)

from survey_app.extensions import db
from survey_app.models import AuditEvent, QuestionnaireVersion, Wave, WaveQuestionnaire
from survey_app.questionnaire.store import definition, latest_version
from survey_app.questionnaire.validate import build_questionnaire, load_directory

ROOT = Path(__file__).resolve().parents[2]


def import_form(runner, tmp_path, data: bytes, *args: str, name: str = "pizza.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    return runner.invoke(args=["questionnaires", "import-xlsform", str(path), *args])


def version_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(QuestionnaireVersion.id)))


def open_in_the_wave(app, code: str) -> None:
    with app.app_context(), db.transaction() as tx:
        wave = tx.scalars(select(Wave).where(Wave.status == "open")).first()
        wave.questionnaires.append(WaveQuestionnaire(questionnaire_code=code))


def test_the_documentation_example_is_imported_as_it_was_written(app, runner, tmp_path):
    result = import_form(runner, tmp_path, pizza_form(), "--code", "pizza")
    assert result.exit_code == 0, result.output
    assert "Questionnaire pizza version 1: created." in result.output
    # KoboToolbox's start and end are told, not silently dropped
    assert "pizza.xlsx: survey sheet, row 2: type start is metadata" in result.output
    with app.app_context():
        version = latest_version(db.session, "pizza")
        questionnaire = definition(version)
        # what is stored stands alone as a questionnaire file does: it validates again
        again, problems = build_questionnaire(
            {k: v for k, v in version.definition.items() if k not in ("scales", "lists")},
            shared=({}, {}),
        )
        assert problems == [] and again is not None
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "questionnaire_imported")
        ).one()
        assert event.details == {"code": "pizza", "version": 1, "file": "pizza.xlsx"}
    pages = [page.code for page in questionnaire.pages]
    # a group a page; the topping question reads likes_pizza on its own group, so it moves on
    # to a page of its own (our relevance reads earlier pages only, and works without JavaScript)
    assert pages == ["respondent", "pizza", "pizza_2", "colors_page"]
    assert questionnaire.pages[0].title == {"en": "Respondent", "vi": "Người trả lời"}
    by_code = questionnaire.by_code
    assert [q.code for q in questionnaire.questions] == [
        "name",
        "age",
        "likes_pizza",
        "favorite_topping",
        "color_prefs",
    ]
    assert by_code["likes_pizza"].type == "single" and by_code["likes_pizza"].required
    assert [o.value for o in by_code["likes_pizza"].options] == ["yes", "no"]
    assert by_code["likes_pizza"].options[0].label == {"en": "Yes", "vi": "Có"}
    assert by_code["favorite_topping"].type == "multiple"
    assert by_code["favorite_topping"].relevant.source == "likes_pizza = 'yes'"
    assert by_code["age"].type == "integer" and by_code["age"].constraint.source == (
        ". >= 18 and . <= 110"
    )
    assert by_code["age"].constraint_message == {
        "en": "Age must be between 18 and 110.",
        "vi": "Tuổi phải từ 18 đến 110.",
    }
    assert by_code["color_prefs"].hint == {"en": "Select three.", "vi": "Chọn ba màu."}
    assert by_code["color_prefs"].constraint.source == "count(.) <= 3"
    note = questionnaire.pages[3].items[0]
    assert note.type == "note" and note.relevant.evaluate(
        {"favorite_topping": ["cheese"], "likes_pizza": "yes"}
    )
    assert not note.relevant.evaluate({"favorite_topping": ["cheese"], "likes_pizza": "no"})


def test_an_existing_code_is_refused_unless_replaced(app, runner, tmp_path):
    before = version_count(app)
    taken = import_form(runner, tmp_path, pizza_form(), "--code", "citizen")
    assert taken.exit_code == 2
    assert "A questionnaire citizen exists already" in taken.output
    assert "Nothing was imported." in taken.output
    assert version_count(app) == before
    first = import_form(runner, tmp_path, pizza_form())  # the code from settings' form_id
    assert first.exit_code == 0 and "pizza version 1: created" in first.output
    again = import_form(runner, tmp_path, pizza_form(), "--replace")
    assert again.exit_code == 0 and "pizza version 1: unchanged" in again.output


def page_form(client, location: str):
    page = client.get(location)
    assert page.status_code == 200, location
    html = page.get_data(as_text=True)
    return html, next(f for f in parse_forms(html) if ("action", "next") in f.buttons)


def answer(client, location: str, values: dict[str, list[str]], expect_error: str = ""):
    html, form = page_form(client, location)
    data = {"csrf_token": [csrf_token(html)], "action": ["next"], **values}
    saved = client.post(path_of(form.action), data=data)
    if expect_error:
        assert saved.status_code in (200, 400)
        assert expect_error in saved.get_data(as_text=True)
        return location
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    return path_of(saved.headers["Location"])


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_imported_form_is_answered_on_the_respondent_pages(app, client, runner, tmp_path, lang):
    assert import_form(runner, tmp_path, pizza_form(), "--code", "pizza").exit_code == 0
    open_in_the_wave(app, "pizza")
    start = client.get(f"/{lang}/s/pizza")
    assert start.status_code == 200
    assert "Pizza survey" in start.get_data(as_text=True)
    moved = client.post(
        f"/{lang}/s/pizza", data={"csrf_token": csrf_token(start.get_data(as_text=True))}
    )
    location = path_of(moved.headers["Location"])
    html, form = page_form(client, location)
    assert ("What is your name?" if lang == "en" else "Bạn tên là gì?") in html
    # the XLSForm's constraint and its message, in the page's language
    message = "Age must be between 18 and 110." if lang == "en" else "Tuổi phải từ 18 đến 110."
    answer(client, location, {"name": ["Lan"], "age": ["17"]}, expect_error=message)
    location = answer(client, location, {"name": ["Lan"], "age": ["35"]})
    location = answer(client, location, {"likes_pizza": ["yes"]})
    html, _form = page_form(client, location)
    assert ("Favorite toppings" if lang == "en" else "Nhân bánh yêu thích") in html
    location = answer(client, location, {"favorite_topping": ["cheese", "sausage"]})
    html, _form = page_form(client, location)
    assert ("Cheese lovers" if lang == "en" else "Người thích phô mai") in html
    too_many = {"color_prefs": ["red", "blue", "yellow", "green"]}
    limit = "Select at most three." if lang == "en" else "Chọn nhiều nhất ba màu."
    answer(client, location, too_many, expect_error=limit)
    location = answer(client, location, {"color_prefs": ["red", "blue"]})
    assert "/p/" not in location
    assert client.get(location).status_code == 200
    out = tmp_path / "pizza.csv"
    exported = runner.invoke(
        args=["export-responses", "--questionnaire", "pizza", "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 1
    row = rows[0]
    assert (row["name"], row["age"], row["likes_pizza"]) == ("Lan", "35", "yes")
    assert row["favorite_topping__cheese"] == "1" and row["favorite_topping__pepperoni"] == "0"
    assert row["color_prefs__red"] == "1" and row["color_prefs__green"] == "0"


def test_relevance_skips_the_follow_up_page(app, client, runner, tmp_path):
    assert import_form(runner, tmp_path, pizza_form(), "--code", "pizza").exit_code == 0
    open_in_the_wave(app, "pizza")
    start = client.get("/en/s/pizza")
    moved = client.post(
        "/en/s/pizza", data={"csrf_token": csrf_token(start.get_data(as_text=True))}
    )
    location = path_of(moved.headers["Location"])
    location = answer(client, location, {"name": ["Minh"], "age": ["50"]})
    location = answer(client, location, {"likes_pizza": ["no"]})
    html, _form = page_form(client, location)
    assert "What colors do you like?" in html
    assert "Favorite toppings" not in html and "Cheese lovers" not in html


UNSUPPORTED = [
    survey_row(type="begin group", name="place", label_en="Place", label_vi="Nơi"),
    survey_row(type="geopoint", name="where", label_en="Where?", label_vi="Ở đâu?"),
    survey_row(
        type="text",
        name="village",
        label_en="Village",
        label_vi="Thôn",
        relevant="string-length(${where}) > 0",
    ),
    survey_row(
        type="integer", name="size", label_en="Size", label_vi="Cỡ", required="${village} != ''"
    ),
    survey_row(type="select_one yes_no or_other", name="q", label_en="Q", label_vi="Q"),
    survey_row(type="end group"),
    survey_row(type="begin repeat", name="members", label_en="Members", label_vi="Thành viên"),
    survey_row(type="text", name="member", label_en="Name", label_vi="Tên"),
    survey_row(type="end repeat"),
]


def test_every_construct_that_does_not_map_is_named_by_sheet_and_row(app, runner, tmp_path):
    before = version_count(app)
    data = workbook(UNSUPPORTED, PIZZA_CHOICES, [["Bad form", "bad", EN]])
    result = import_form(runner, tmp_path, data, "--code", "bad", name="bad.xlsx")
    assert result.exit_code == 2
    out = result.output
    assert "bad.xlsx: survey sheet, row 3: type geopoint is not supported" in out
    assert (
        "bad.xlsx: survey sheet, row 4: relevant string-length(${where}) > 0: string-length() "
        "has no equivalent" in out
    )
    assert (
        "bad.xlsx: survey sheet, row 5: required ${village} != '': a question required only "
        "under a condition is not supported" in out
    )
    assert "bad.xlsx: survey sheet, row 6: type select_one yes_no or_other is not supported" in out
    assert "bad.xlsx: survey sheet, row 8: repeats are not supported" in out
    assert "Nothing was imported." in out
    assert version_count(app) == before


def test_unknown_columns_and_choice_names_are_named_by_sheet_and_row(app, runner, tmp_path):
    header = ["type", "name", f"label::{EN}", f"label::{VI}", "calculation"]
    survey = [
        ["begin group", "g", "G", "G"],
        ["select_one yes_no", "ok", "OK?", "Được không?"],
        ["integer", "n", "N", "N", "1 + 1"],
        ["end group"],
    ]
    choices = [["yes_no", "Yes", "Yes", "Có"], ["yes_no", "no", "No", "Không"]]
    data = workbook(survey, choices, PIZZA_SETTINGS, survey_header=header)
    result = import_form(runner, tmp_path, data, "--code", "cols", name="cols.xlsx")
    assert result.exit_code == 2
    assert "cols.xlsx: survey sheet, row 4: the column calculation is not supported" in (
        result.output
    )
    # our rule for option values, found when the whole form is checked, told at its choices row
    assert "cols.xlsx: choices sheet, row 2, value: must be a whole number or an identifier" in (
        result.output
    )


def test_a_missing_language_is_named_by_row(app, runner, tmp_path):
    header = ["type", "name", f"label::{EN}"]
    survey = [["begin group", "g", "G"], ["text", "who", "Who?"], ["end group"]]
    data = workbook(survey, [], PIZZA_SETTINGS, survey_header=header)
    result = import_form(runner, tmp_path, data, "--code", "mono", name="mono.xlsx")
    assert result.exit_code == 2
    assert "mono.xlsx: survey sheet, row 3, label: the vi text is missing or empty" in (
        result.output
    )


@pytest.mark.parametrize(
    "data, message",
    [
        (b"type,name\ntext,a\n", "cannot be opened as an Excel workbook"),
        (b"PK\x03\x04 broken", "cannot be opened as an Excel workbook"),
    ],
)
def test_a_file_that_is_no_workbook_is_refused(app, runner, tmp_path, data, message):
    result = import_form(runner, tmp_path, data, "--code", "x", name="x.xlsx")
    assert result.exit_code == 2 and message in result.output


def test_pyxform_s_own_errors_are_told(app, runner, tmp_path):
    survey = [["begin group", "g", "G", "G"], ["text", "a", "A", "A"]]  # never closed
    data = workbook(survey, [], PIZZA_SETTINGS)
    result = import_form(runner, tmp_path, data, "--code", "open_group", name="g.xlsx")
    assert result.exit_code == 2
    assert "pyxform refuses the form" in result.output


@pytest.mark.parametrize("code", ["citizen", "leader", "delegate"])
def test_ours_exported_converts_with_pyxform_and_reads_back(app, runner, tmp_path, code):
    from pyxform.xls2xform import convert

    out = tmp_path / f"{code}.xlsx"
    result = runner.invoke(args=["questionnaires", "export-xlsform", code, "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    xform = convert(xlsform=data, pretty_print=False).xform
    assert f'id="{code}"' in xform
    with app.app_context():
        ours = definition(latest_version(db.session, code))
    sheets = sheets_of(data)
    names = [row.get("name") for row in sheets["survey"]]
    for question in ours.questions:
        assert question.code in names
        assert f"<{question.code}/>" in xform or f"<{question.code} />" in xform
    # back again: the same questions, types, options and relevance
    back = import_form(runner, tmp_path, data, "--code", f"{code}_again", name=f"{code}.xlsx")
    assert back.exit_code == 0, back.output
    with app.app_context():
        again = definition(latest_version(db.session, f"{code}_again"))
    assert [q.code for q in again.questions] == [q.code for q in ours.questions]
    for mine, theirs in zip(ours.questions, again.questions, strict=True):
        assert theirs.label == mine.label
        assert [(o.key, o.label) for o in theirs.options] == [
            (o.key, o.label) for o in mine.options
        ]
        relevant = mine.relevant or (mine.grid.relevant if mine.grid else None)
        if relevant is not None:
            assert theirs.relevant is not None
            for answers in ({}, {n: "1" for n, _c in relevant.names}):
                assert theirs.relevant.evaluate(answers) == relevant.evaluate(answers)


def test_the_example_questionnaires_export_too(app):
    from pyxform.xls2xform import convert

    from survey_app.questionnaire.xlsform_write import write_xlsform

    questionnaires, problems = load_directory(ROOT / "questionnaires" / "examples")
    assert problems == [] and questionnaires
    with app.app_context():
        for questionnaire in questionnaires:
            target = io.BytesIO()
            write_xlsform(questionnaire, target)
            assert convert(xlsform=target.getvalue(), pretty_print=False).xform


def upload(client, data: bytes, filename: str = "pizza.xlsx", **fields):
    page = client.get("/en/admin/questionnaires")
    form = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "code": "",
        "group": "citizen",
        "access": "open",
        **fields,
        "file": (io.BytesIO(data), filename),
    }
    return client.post(
        "/en/admin/questionnaires/import", data=form, content_type="multipart/form-data"
    )


def test_the_admin_downloads_xlsforms_and_uploads_one(app, client, auth):
    from pyxform.xls2xform import convert

    auth.login("admin")
    listing = client.get("/en/admin/questionnaires")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert "Download citizen as XLSForm" in html
    download = client.get("/en/admin/questionnaires/citizen.xlsx")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert 'id="citizen"' in convert(xlsform=download.data, pretty_print=False).xform
    assert client.get("/en/admin/questionnaires/nothing.xlsx").status_code == 404
    assert client.get("/en/admin/questionnaires/..%2Fx.xlsx").status_code == 404
    done = upload(client, pizza_form(), code="pizza_web")
    assert done.status_code == 302, done.get_data(as_text=True)[:3000]
    after = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Questionnaire pizza_web version 1 imported from pizza.xlsx." in after
    assert "survey sheet, row 2: type start is metadata" in after
    with app.app_context():
        assert latest_version(db.session, "pizza_web").group == "citizen"


def test_a_bad_upload_lists_its_problems_and_stores_nothing(app, client, auth):
    auth.login("admin")
    before = version_count(app)
    data = workbook(UNSUPPORTED, PIZZA_CHOICES, [["Bad form", "bad", EN]])
    refused = upload(client, data, "bad.xlsx", code="bad")
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "survey sheet, row 3: type geopoint is not supported" in html
    assert "string-length(${where}) &gt; 0" in html  # escaped, as every text
    no_token = client.post(
        "/en/admin/questionnaires/import",
        data={"code": "x", "file": (io.BytesIO(pizza_form()), "p.xlsx")},
        content_type="multipart/form-data",
    )
    assert no_token.status_code == 400 and "The form expired" in no_token.get_data(as_text=True)
    assert version_count(app) == before


def test_hostile_xlsforms_are_refused_before_they_are_parsed(app, client, auth):
    import re

    from hostile_files import rewritten

    auth.login("admin")
    before = version_count(app)
    book = pizza_form()
    claims = rewritten(
        book,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:L20000000"', xml),
    )
    too_large = upload(client, claims, "claims.xlsx", code="claims")
    assert too_large.status_code == 400
    assert "too large to read" in too_large.get_data(as_text=True)
    entity = rewritten(
        book,
        "xl/worksheets/sheet1.xml",
        lambda xml: b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + xml,
    )
    refused = upload(client, entity, "entity.xlsx", code="entity")
    assert refused.status_code == 400
    assert "cannot be opened as an Excel workbook" in refused.get_data(as_text=True)
    # the body built here: werkzeug's test client would spool it to a file it leaves open
    boundary = "xlsformboundary"
    token = csrf_token(client.get("/en/admin/questionnaires").get_data(as_text=True))
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.xlsx"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"PK"
        + b"\0" * (3 * 1024 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    huge = client.post(
        "/en/admin/questionnaires/import",
        input_stream=io.BytesIO(body),
        content_type=f"multipart/form-data; boundary={boundary}",
        content_length=len(body),
    )
    assert huge.status_code == 413
    assert "larger than 2 MB" in huge.get_data(as_text=True)
    assert version_count(app) == before


def test_only_admins_import_or_download(app, client, auth):
    auth.login("statistician")
    assert client.get("/en/admin/questionnaires").status_code == 403
    assert client.get("/en/admin/questionnaires/citizen.xlsx").status_code == 403


def test_problems_are_told_in_vietnamese_on_vietnamese_pages(app, client, auth):
    """Needs the Vietnamese catalog with this feature's messages compiled."""
    auth.login("admin", lang="vi")
    page = client.get("/vi/admin/questionnaires")
    assert "Nhập tệp XLSForm" in page.get_data(as_text=True)
    data = workbook(UNSUPPORTED, PIZZA_CHOICES, [["Bad form", "bad", EN]])
    form = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "code": "bad",
        "group": "citizen",
        "access": "open",
        "file": (io.BytesIO(data), "bad.xlsx"),
    }
    refused = client.post(
        "/vi/admin/questionnaires/import", data=form, content_type="multipart/form-data"
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "trang tính survey, dòng 3: kiểu geopoint không được hỗ trợ" in html
    assert "nhóm lặp (repeat) không được hỗ trợ" in html


@pytest.mark.parametrize(
    "english, vietnamese",
    [("English (en)", "Vietnamese (vi)"), ("English", "Vietnamese"), ("English (en)", "vi")],
)
def test_the_languages_are_found_however_the_columns_name_them(app, english, vietnamese):
    from survey_app.questionnaire.xlsform_read import read_xlsform

    header = ["type", "name", f"label::{english}", f"label::{vietnamese}", "hint::Español (es)"]
    survey = [
        ["begin group", "g", "Group", "Nhóm"],
        ["text", "who", "Who?", "Ai?", "¿Quién?"],
        ["end group"],
    ]
    data = workbook(survey, [], PIZZA_SETTINGS, survey_header=header)
    with app.app_context():
        imported = read_xlsform(data, "langs.xlsx", "langs")
    question = imported.questionnaire.by_code["who"]
    assert question.label == {"en": "Who?", "vi": "Ai?"}
    assert question.hint is None
    assert any("hint::Español (es)" in str(n) for n in imported.notices)
