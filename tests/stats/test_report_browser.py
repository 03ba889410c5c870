"""The wave report in headless Chromium: the demo wave run through the pages, then the report.

The statistician logs in, uploads targets, appraisal scores and last year's index, starts a rake
run and waits on the page that reloads itself (no script needed) until the run is done; the report
then opens in Vietnamese and in English with its charts, and the browser logs no error.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import live_server
import pytest
from app_support import PASSWORD, make_app, reset_database
from browser_support import click_and_load
from test_stats import PREVIOUS, appraisal_csv, targets_csv

from survey_app.accounts.auth import create_user
from survey_app.extensions import db

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000
FAVICON = re.compile(r"^/favicon\.ico/?$")


@pytest.fixture(scope="module")
def live(database_url):
    from survey_app.commands.demo_data import seed_demo

    app = make_app(database_url, RUN_QUEUE="in-process")
    reset_database(app)
    with app.app_context(), db.transaction() as tx:
        seed_demo(tx, 240)
        create_user(tx, "statistician@example.vn", PASSWORD, "statistician")
    with live_server.serving(app) as server:
        yield server


def test_report_opens_in_both_languages_with_its_charts(browser, live, tmp_path):
    for name, content in (("t.csv", targets_csv()), ("a.csv", appraisal_csv())):
        (tmp_path / name).write_text(content, encoding="utf-8")
    (tmp_path / "p.csv").write_text(PREVIOUS)
    context = browser.new_context(locale="vi-VN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[tuple[str, str]] = []
    page.on(
        "console",
        lambda m: m.type == "error" and errors.append((m.text, m.location.get("url", ""))),
    )
    page.on("pageerror", lambda e: errors.append((f"uncaught: {e}", page.url)))
    try:
        page.goto(live.url + "/en/admin/login")
        page.get_by_label("E-mail").fill("statistician@example.vn")
        page.get_by_label("Password").fill(PASSWORD)
        click_and_load(page, page.get_by_role("button", name="Log in"))
        page.goto(live.url + "/en/stats/waves/demo")
        for kind, name in (("targets", "t.csv"), ("appraisal", "a.csv"), ("previous", "p.csv")):
            page.get_by_label("What the file holds").select_option(kind)
            page.get_by_label("File", exact=True).set_input_files(str(tmp_path / name))
            click_and_load(page, page.get_by_role("button", name="Check and save the file"))
            assert "The file was checked and saved" in page.content()
        page.get_by_label("Weighting method").select_option("rake")
        page.get_by_label("Build the index").check()
        page.get_by_label("Compare with the uploaded index").check()
        page.get_by_role("button", name="Run", exact=True).click()
        # The progress page reloads itself until the results are there.
        page.wait_for_selector("#downloads-heading", timeout=60_000)
        assert "/en/stats/runs/" in page.url

        for lang, heading in (("vi", "Tiếp cận dịch vụ"), ("en", "Access to the service")):
            response = page.goto(f"{live.url}/{lang}/stats/waves/demo/report")
            assert response is not None and response.status == 200
            assert page.get_attribute("html", "lang") == lang
            assert page.locator("figure.chart svg").count() >= 3
            assert page.locator("svg title").count() >= 3
            assert heading in page.content()
            assert page.locator("#index-table tbody tr").count() == 1
            page.emulate_media(media="print")
            assert page.locator(".report-tools").is_hidden()
            page.emulate_media(media="screen")
    finally:
        context.close()
    unexpected = [
        (text, url) for text, url in errors if not FAVICON.match(urlsplit(url).path or "")
    ]
    assert unexpected == []
    assert live.exceptions == []


def test_html_codebook_opens_in_the_browser(browser, live):
    context = browser.new_context(locale="vi-VN", accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    downloads: list[object] = []
    page.on("download", lambda d: downloads.append(d))
    try:
        page.goto(live.url + "/vi/admin/login")
        page.get_by_label("Thư điện tử").fill("statistician@example.vn")
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        click_and_load(page, page.get_by_role("button", name="Đăng nhập"))
        page.goto(live.url + "/vi/stats/waves/demo")
        link = page.locator("a[href$='/codebook/citizen.html']")
        with page.expect_navigation():
            link.click()
        assert downloads == []  # shown, not saved to disk
        assert page.url.endswith("/vi/stats/waves/demo/codebook/citizen.html")
        assert page.get_attribute("html", "lang") == "vi"
        assert page.locator("h1").inner_text().startswith("Sổ mã biến")
        assert page.locator("table").count() >= 3
        # its own styles apply under its policy: the tables' borders collapse
        collapse = page.locator("table").first.evaluate("t => getComputedStyle(t).borderCollapse")
        assert collapse == "collapse"
    finally:
        context.close()
    assert errors == []
    assert live.exceptions == []
