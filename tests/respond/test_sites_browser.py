"""Site links and previews in headless Chromium, in both languages: a respondent on a phone opens
a site's link as its QR code gives it, answers, and the response carries the site's district
(never asked); an admin previews a questionnaire to its end and no table gains or loses a row.
The browser logs no error and the server raises none."""

from __future__ import annotations

import re

import live_server
import pytest
from app_support import PASSWORD, TABLES, make_app, reset_database
from browser_support import click_and_load
from sqlalchemy import select, text

from survey_app.accounts.auth import create_user
from survey_app.extensions import db
from survey_app.fieldwork import site_links
from survey_app.models import Answer, QuestionnaireVersion, Response, SiteLink, Wave

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000

#: Playwright's "Pixel 5" descriptor, written out: the Python package's device list is read from
#: its driver, which these tests do not otherwise need.
PHONE = {
    "viewport": {"width": 393, "height": 727},
    "screen": {"width": 393, "height": 851},
    "device_scale_factor": 2.75,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 11; Pixel 5) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36"
    ),
}

#: The required questions of the citizen questionnaire but the district: the shortest way through.
ANSWERS = {
    "sex": "female",
    "age_group": "age31_45",
    "respondent_type": "individual",
    "service_field": "business",
    "service_level": "province",
    "service_channel": "online",
    "fb_given": "2",
    "overall_satisfaction": "4",
    "ethnicity": "kinh",
    "education": "upper_secondary",
    "occupation": "student",
    "area": "urban",
}
#: What the form's controls are: [name, tag, type, value, id] each.
CONTROLS_JS = """form => [...form.elements]
    .filter(e => e.name && !['csrf_token', 'action', 'preview_state'].includes(e.name))
    .map(e => [e.name, e.tagName.toLowerCase(), e.type, e.value, e.id])"""


@pytest.fixture(scope="module")
def live(database_url):
    app = make_app(database_url)
    with live_server.serving(app) as server:
        yield server


@pytest.fixture
def server(live):
    reset_database(live.app)
    live.reset()
    with live.app.app_context(), db.transaction() as tx:
        create_user(tx, "admin@example.vn", PASSWORD, "admin")
    return live


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


def log_in(page, base: str, lang: str) -> None:
    page.goto(f"{base}/{lang}/admin/login")
    page.locator("#email").fill("admin@example.vn")
    page.locator("#password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/admin/login" not in url)


def answer_and_next(page, answers: dict[str, str]) -> list[str]:
    """Answer the page's questions that `answers` has, by tapping labels and choosing in lists,
    then press Next (or Submit); returns the questions the page asked."""
    controls = page.locator("form.page-form").evaluate(CONTROLS_JS)
    for name, tag, kind, value, ident in controls:
        wanted = answers.get(name)
        if wanted is None:
            continue
        if kind == "radio" and value == wanted:
            page.locator(f'label[for="{ident}"]').tap()
        elif tag == "select":
            page.locator(f"#{ident}").select_option(wanted)
    with page.expect_navigation():
        page.locator("button[value=next]").tap()
    page.wait_for_load_state("load")
    assert page.locator(".error-summary").count() == 0, page.locator(".error-summary").inner_text()
    return list(dict.fromkeys(name for name, *_ in controls))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_phone_opens_a_site_link_and_the_response_carries_its_district(browser, server, lang):
    errors: list[tuple[str, str]] = []
    admin, page = new_page(browser, errors, locale="en-GB")
    try:
        log_in(page, server.url, "en")
        page.goto(server.url + "/en/admin/waves")
        click_and_load(page, page.get_by_role("link", name="Site links").first)
        page.locator("#site_value").select_option("ky_anh_town")
        page.locator("#name").fill("Bộ phận một cửa thị xã Kỳ Anh")
        click_and_load(page, page.get_by_role("button", name="Make the link"))
        assert "Bộ phận một cửa thị xã Kỳ Anh" in page.locator("table.data").inner_text()
        # The poster in the respondent's language, printed: one A4 page with the QR code.
        page.locator(f'a[hreflang="{lang}"][href*="/poster"]').click()
        page.wait_for_url(f"**/{lang}/admin/waves/**/poster")
        assert page.locator(".qr svg").count() == 1
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF")
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, "the poster takes one A4 page"
    finally:
        admin.close()
    with server.app.app_context():
        link = db.session.scalars(select(SiteLink)).one()
        written = site_links.format_code(link.code)

    phone, page = new_page(browser, errors, locale=f"{lang}-VN", **PHONE)
    try:
        # What the camera opens from the poster's QR code: the link in the poster's language.
        page.goto(f"{server.url}/{lang}/v/{written}")
        assert "Bộ phận một cửa thị xã Kỳ Anh" in page.content()
        page.locator("button.primary").tap()
        page.wait_for_url(f"**/{lang}/v/{written}/p/0")
        asked: list[str] = []
        for _ in range(30):
            if page.url.endswith("/done"):
                break
            asked += answer_and_next(page, ANSWERS)
        assert page.url.endswith(f"/{lang}/v/{written}/done")
        assert page.locator("h1").count() == 1
        assert "district" not in asked and {"sex", "age_group"} <= set(asked)
        wider = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert wider is False, "the thank-you page is wider than the phone"
    finally:
        phone.close()
    with server.app.app_context():
        response = db.session.scalars(select(Response)).one()
        district = db.session.scalar(
            select(Answer.value).where(
                Answer.response_id == response.id, Answer.item_code == "district"
            )
        )
        assert (response.status, response.site_link_id, response.test) == (
            "complete",
            link.id,
            False,
        )
        assert response.language == lang
    assert district == "ky_anh_town"
    assert errors == []
    assert server.exceptions == []


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {t: db.session.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_an_admin_previews_a_questionnaire_without_touching_the_data(browser, server, lang):
    errors: list[tuple[str, str]] = []
    context, page = new_page(browser, errors, locale=f"{lang}-VN", **PHONE)
    try:
        log_in(page, server.url, lang)
        with server.app.app_context():
            wave = db.session.scalars(select(Wave)).one().code
            version = db.session.scalar(
                select(QuestionnaireVersion.id).where(QuestionnaireVersion.code == "citizen")
            )
        before = row_counts(server.app)
        page.goto(f"{server.url}/{lang}/admin/waves/{wave}/try")
        with page.expect_navigation():
            page.locator(f'a[href="/{lang}/admin/preview/{version}"]').tap()
        assert page.locator(".notice-trying").count() == 1
        with page.expect_navigation():
            page.locator("button.primary").tap()
        # Next with nothing answered: the respondent's error summary, in the page's language.
        with page.expect_navigation():
            page.locator("button[value=next]").tap()
        assert page.locator(".error-summary").count() == 1
        assert 'name="district"' in page.content()  # the preview asks what the open link asks
        answers = {**ANSWERS, "district": "cam_xuyen"}
        for _ in range(30):
            if page.locator("form.page-form").count() == 0:
                break
            answer_and_next(page, answers)
        assert f"/{lang}/admin/preview/{version}" in page.content()  # "Preview again"
        assert page.locator(".notice-trying").count() == 1
        assert row_counts(server.app) == before
    finally:
        context.close()
    assert [e for e in errors if "status of 400" not in e[0]] == []
    assert server.exceptions == []
