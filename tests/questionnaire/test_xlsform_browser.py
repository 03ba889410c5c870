"""The XLSForm of the documentation's example in headless Chromium: an admin uploads it on the
questionnaires page and opens it in the wave; a respondent on a phone answers it in Vietnamese,
meeting its constraint and its relevance; the browser logs no error, the server raises none."""

from __future__ import annotations

import re

import live_server
import pytest
from app_support import PASSWORD, make_app, reset_database
from browser_support import click_and_load
from sqlalchemy import select
from xlsform_support import pizza_form

from survey_app.accounts.auth import create_user
from survey_app.extensions import db
from survey_app.models import Answer, Response

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def live(database_url):
    app = make_app(database_url)
    reset_database(app)
    with app.app_context(), db.transaction() as tx:
        create_user(tx, "admin@example.vn", PASSWORD, "admin")
    with live_server.serving(app) as server:
        yield server


def new_page(browser, errors, **options):
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on(
        "console",
        lambda m: m.type == "error" and errors.append((m.text, m.location.get("url", ""))),
    )
    page.on("pageerror", lambda e: errors.append((f"uncaught: {e}", page.url)))
    return context, page


def test_an_xlsform_uploaded_by_the_admin_is_answered_on_a_phone(browser, live, tmp_path):
    form = tmp_path / "pizza.xlsx"
    form.write_bytes(pizza_form())
    errors: list[tuple[str, str]] = []
    admin, page = new_page(browser, errors, locale="en-GB")
    try:
        page.goto(live.url + "/en/admin/login")
        page.get_by_label("E-mail").fill("admin@example.vn")
        page.get_by_label("Password").fill(PASSWORD)
        click_and_load(page, page.get_by_role("button", name="Log in"))
        click_and_load(page, page.get_by_role("link", name="Questionnaires"))
        page.get_by_label("Questionnaire code").fill("pizza")
        page.get_by_label("XLSForm (.xlsx)").set_input_files(str(form))
        click_and_load(page, page.get_by_role("button", name="Import"))
        assert "Questionnaire pizza version 1 imported from pizza.xlsx." in page.content()
        assert page.get_by_role("link", name="Download pizza as XLSForm").count() == 1
        click_and_load(page, page.get_by_role("link", name="Waves"))
        click_and_load(page, page.get_by_role("link", name=re.compile("^Edit")).first)
        page.locator("#q-pizza").check()
        click_and_load(page, page.get_by_role("button", name="Save"))
        assert "/en/admin/waves" in page.url
    finally:
        admin.close()

    phone, page = new_page(
        browser, errors, locale="vi-VN", viewport={"width": 375, "height": 740}, is_mobile=True
    )
    try:
        page.goto(live.url + "/vi/s/pizza")
        assert "Pizza survey" in page.content()
        click_and_load(page, page.locator("button.primary"))
        page.get_by_label("Bạn tên là gì?").fill("Lan")
        page.get_by_label("Bạn bao nhiêu tuổi?").fill("17")
        click_and_load(page, page.locator("button[value=next]"), status=400)
        assert "Tuổi phải từ 18 đến 110." in page.locator("#err-age").inner_text()
        page.get_by_label("Bạn bao nhiêu tuổi?").fill("35")
        click_and_load(page, page.locator("button[value=next]"))
        page.get_by_label("Có", exact=True).check()
        click_and_load(page, page.locator("button[value=next]"))
        # the follow-up, shown because the answer was yes
        assert "Nhân bánh yêu thích" in page.content()
        page.get_by_label("Phô mai").check()
        click_and_load(page, page.locator("button[value=next]"))
        assert "Người thích phô mai: thêm một câu hỏi." in page.content()
        assert "Chọn ba màu." in page.content()
        for colour in ("Đỏ", "Xanh dương", "Vàng", "Xanh lá"):
            page.get_by_label(colour, exact=True).check()
        click_and_load(page, page.locator("button[value=next]"), status=400)
        assert "Chọn nhiều nhất ba màu." in page.locator("#err-color_prefs").inner_text()
        page.get_by_label("Xanh lá", exact=True).uncheck()
        page.get_by_label("Vàng", exact=True).uncheck()
        click_and_load(page, page.locator("button[value=next]"))
        assert "/p/" not in page.url
    finally:
        phone.close()
    assert errors == [] or all("400" in text for text, _url in errors), errors
    assert live.exceptions == []
    with live.app.app_context():
        response = db.session.scalars(select(Response)).one()
        stored = {
            a.item_code: a.value
            for a in db.session.scalars(select(Answer).where(Answer.response_id == response.id))
        }
    assert stored == {
        "name": "Lan",
        "age": "35",
        "likes_pizza": "yes",
        "favorite_topping": "cheese",
        "color_prefs": "red blue",
    }
