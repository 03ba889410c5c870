"""The citizen survey in real headless Chromium, against the app served on 127.0.0.1.

A person's way through the pages: clicks on labels, the keyboard, a district picked in the list,
double clicks, a phone's screen, and a browser with JavaScript off. Every test also asserts that
the browser logged no JavaScript error and the server raised no exception.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import live_server
import pytest
import yaml
from app_support import ROOT, make_app, reset_database
from browser_support import click_and_load
from html_client import csrf_token, fill, parse_forms, path_of
from sqlalchemy import select

from analysis.questionnaire import asked_pages
from survey_app.extensions import db
from survey_app.models import Answer, Response

pytestmark = pytest.mark.browser

TIMEOUT_MS = 10_000

#: The citizen questionnaire's page titles in Vietnamese, in order (a switched-off section's
#: pages are not asked).
CITIZEN = yaml.safe_load((ROOT / "questionnaires" / "citizen.yaml").read_text(encoding="utf-8"))
PAGE_TITLES_VI = [page["title"]["vi"] for page in asked_pages(CITIZEN)]

#: A whole citizen response, as the coded values the database must hold. Every question the walk
#: meets must be here, and every entry must be met: with fb_given = 1 and "other" among `improve`,
#: the relevance rules show the feedback page and improve_other. Multiple choice: values separated
#: by spaces.
FULL_ANSWERS = {
    "district": "cam_xuyen",  # picked by its Vietnamese name, "Huyện Cẩm Xuyên"
    "sex": "female",  # by keyboard: skip link, Tab twice, Space, ArrowDown
    "age_group": "age31_45",
    "respondent_type": "individual",
    "service_field": "justice",  # by keyboard: Tab, Space, ArrowDown twice
    "service_name": "Đăng ký khai sinh cho con",
    "service_level": "commune",
    "service_channel": "one_stop",
    "acc_signs": "4",
    "acc_seats": "3",
    "acc_equipment": "9",
    "proc_posted": "5",
    "proc_documents": "4",
    "proc_fees": "4",
    "proc_time": "2",
    "staff_polite": "5",
    "staff_explain": "4",
    "staff_rules": "5",
    "result_on_schedule": "2",
    "result_accurate": "4",
    "result_fair": "5",
    "fb_given": "1",
    "fb_channel": "box hotline",
    "fb_easy": "3",
    "fb_handled": "4",
    "fb_informed": "1",
    "unofficial_payment": "3",
    "harassment": "2",
    "trips": "3",
    "overall_satisfaction": "4",
    "improve": "time online other",
    "improve_other": "Trả kết quả qua Zalo",
    "comment": "Cán bộ nhiệt tình.\nNhưng phải chờ lâu ở quầy một cửa.",
    "ethnicity": "kinh",
    "education": "university",
    "occupation": "self_employed",
    "area": "rural",
}

#: The required questions only: the shortest way to the last page.
REQUIRED_ANSWERS = {
    "district": "ha_tinh_city",
    "sex": "male",
    "age_group": "age18_30",
    "respondent_type": "organisation",
    "service_field": "business",
    "service_level": "province",
    "service_channel": "online",
    "fb_given": "2",
    "overall_satisfaction": "5",
    "ethnicity": "kinh",
    "education": "upper_secondary",
    "occupation": "student",
    "area": "urban",
}

FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(database_url):
    """The app on a free port of 127.0.0.1, served by werkzeug in a thread, on each database."""
    app = make_app(database_url)
    reset_database(app)
    with live_server.serving(app) as server:
        yield server


@pytest.fixture
def server(live):
    """The live server with an empty database (the questionnaires loaded and a wave open)."""
    reset_database(live.app)
    live.reset()
    return live


@dataclass
class Tab:
    """A browser page that keeps what went wrong: console errors, page errors, 5xx answers."""

    page: Any  # playwright.sync_api.Page, imported only once Chromium is known to be there
    base_url: str
    console_errors: list[tuple[str, str]] = field(default_factory=list)
    responses: list[tuple[str, int, str]] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)
    expected_statuses: set[tuple[int, str]] = field(default_factory=set)

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status == 200, (path, response)
        return response

    def expect_status(self, status: int, path: str) -> None:
        """A status the test expects (Chromium logs every 4xx as a console error)."""
        self.expected_statuses.add((status, path))

    def path(self) -> str:
        return urlsplit(self.page.url).path

    def assert_clean(self, server) -> None:
        unexpected = []
        for text, url in self.console_errors:
            failed = FAILED_LOAD.match(text)
            path = urlsplit(url).path
            if failed and (int(failed.group(1)), path) in self.expected_statuses:
                continue
            unexpected.append((text, url))
        assert unexpected == [], f"errors in the browser console: {unexpected}"
        server_errors = [r for r in self.responses if r[1] >= 500]
        assert server_errors == [], server_errors
        assert server.exceptions == [], server.exceptions


@contextmanager
def open_tab(browser, server, **options) -> Iterator[Tab]:
    context = browser.new_context(locale="vi-VN", **options)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        tab = Tab(page, server.url)
        page.on(
            "console",
            lambda m: (
                m.type == "error" and tab.console_errors.append((m.text, m.location.get("url", "")))
            ),
        )
        page.on("pageerror", lambda e: tab.console_errors.append((f"uncaught: {e}", page.url)))
        page.on("response", lambda r: tab.responses.append((r.request.method, r.status, r.url)))
        page.on(
            "request",
            lambda r: r.method == "POST" and tab.posts.append(urlsplit(r.url).path),
        )
        yield tab
    finally:
        context.close()


@pytest.fixture
def tab(browser, server) -> Iterator[Tab]:
    with open_tab(browser, server) as opened:
        yield opened


# --- helpers ------------------------------------------------------------------------------------


def start_survey(tab: Tab, lang: str = "vi") -> None:
    tab.goto(f"/{lang}/s/citizen")
    start = {"vi": "Bắt đầu", "en": "Start"}[lang]
    click_and_load(tab.page, tab.page.get_by_role("button", name=start, exact=True))
    assert tab.path() == f"/{lang}/s/citizen/p/0"


#: The questions of the page form, in order: [name, tag, type, value, id] per control.
CONTROLS_JS = """form => [...form.elements]
    .filter(e => e.name && e.name !== 'csrf_token' && e.name !== 'action')
    .map(e => [e.name, e.tagName.toLowerCase(), e.type, e.value, e.id])"""
#: What the form would send now, without the CSRF token and the buttons.
VALUES_JS = """form => [...new FormData(form)]
    .filter(([name, value]) => name !== 'csrf_token' && value !== '')"""


def questions_on_page(page) -> list[str]:
    controls = page.locator("form.page-form").evaluate(CONTROLS_JS)
    return list(dict.fromkeys(name for name, *_ in controls))


def form_values(page) -> dict[str, str]:
    """The answers the page form holds, multiple choices joined by spaces."""
    values: dict[str, str] = {}
    for name, value in page.locator("form.page-form").evaluate(VALUES_JS):
        values[name] = f"{values[name]} {value}" if name in values else value
    return values


def click_label(page, name: str, value: str) -> None:
    choice = page.locator(f'input[name="{name}"][value="{value}"]')
    page.locator(f'label[for="{choice.get_attribute("id")}"]').click()


def answer_page(page, answers: dict[str, str], done=(), every: bool = True) -> list[str]:
    """Answer the page from `answers` the way a person does: click the labels of radio buttons and
    check boxes, choose in lists, type into boxes. Returns the questions the page asked; `every`:
    each of them must have an answer in `answers` (else only those that have one are answered).
    Then checks that the form holds exactly those answers."""
    controls = page.locator("form.page-form").evaluate(CONTROLS_JS)
    asked = list(dict.fromkeys(name for name, *_ in controls))
    if every:
        missing = [name for name in asked if name not in answers]
        assert missing == [], f"the walk has no answer for {missing}"
    for name, tag, kind, value, ident in controls:
        if name in done or name not in answers:
            continue
        wanted = answers[name]
        if kind in ("radio", "checkbox"):
            if value in wanted.split():
                page.locator(f'label[for="{ident}"]').click()
        elif tag == "select":
            page.locator(f"#{ident}").select_option(wanted)
        elif tag == "textarea":
            page.locator(f"#{ident}").fill(wanted)
        else:
            page.locator(f"#{ident}").press_sequentially(wanted)
    expected = {name: answers[name] for name in asked if name in answers}
    assert form_values(page) == expected
    return asked


def stored(app) -> tuple[list[Response], dict[str, str]]:
    """All responses, and the answers of the only one (or {})."""
    with app.app_context():
        responses = list(db.session.scalars(select(Response)))
        answers = {}
        if len(responses) == 1:
            rows = db.session.execute(
                select(Answer.item_code, Answer.value).where(Answer.response_id == responses[0].id)
            )
            answers = dict(rows.all())
        return responses, answers


MULTIPLE = {"fb_channel", "improve"}


def comparable(answers: dict[str, str]) -> dict[str, object]:
    """Multiple choices as sets (their order is not the point), free text with plain newlines."""
    return {
        code: set(value.split()) if code in MULTIPLE else value.replace("\r\n", "\n")
        for code, value in answers.items()
    }


def double_click(tab: Tab, name: str) -> None:
    """Two clicks 100 ms apart on the button `name`, the second one a double click's second, and
    wait for the page the first one leads to."""
    page = tab.page
    button = page.get_by_role("button", name=name)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    before = page.url
    page.mouse.click(x, y)
    page.wait_for_timeout(100)
    page.mouse.click(x, y, click_count=2)
    page.wait_for_url(lambda url: url != before)
    page.wait_for_load_state("load")


# --- tests --------------------------------------------------------------------------------------


def test_citizen_survey_filled_in_vietnamese_like_a_person(tab, server, tmp_path):
    page = tab.page
    tab.goto("/vi/")
    assert page.locator("html").get_attribute("lang") == "vi"
    click_and_load(tab.page, page.get_by_role("link", name="Tham gia").first)
    assert tab.path() == "/vi/s/citizen"
    click_and_load(tab.page, page.get_by_role("button", name="Bắt đầu", exact=True))
    # Nothing is stored before the first page is saved, so no resume code is shown yet.
    assert page.locator(".notice-resume").count() == 0

    titles, asked, progress = [], [], []
    while "/p/" in tab.path():
        assert len(titles) < 20, "the questionnaire never ends"
        if len(titles) == 1:  # the first page was saved: the resume code, in Vietnamese
            notice = page.locator(".notice-resume").inner_text()
            assert re.search(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", notice)
        titles.append(page.locator("h1").inner_text())
        progress.append(page.locator("#progress-label").inner_text())
        done = set()
        names = questions_on_page(page)
        if "service_field" in names:
            # A click on a label, then the keyboard alone: Tab into the next question, Space to
            # choose its first answer, arrows to move down to the third.
            click_label(page, "respondent_type", FULL_ANSWERS["respondent_type"])
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "q-service_field"
            page.keyboard.press("Space")
            assert page.locator("#q-service_field").is_checked()
            page.keyboard.press("ArrowDown")
            page.keyboard.press("ArrowDown")
            chosen = page.locator('input[name="service_field"]:checked')
            assert chosen.get_attribute("value") == FULL_ANSWERS["service_field"]
            done = {"respondent_type", "service_field"}
        if "sex" in names:
            # Keyboard only: the skip link, then Tab to the first question (the district's
            # list), Tab to the next, Space, an arrow; then the district picked by its name.
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.className") == "skip-link"
            page.keyboard.press("Enter")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "q-district"
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "q-sex"
            page.keyboard.press("Space")
            page.keyboard.press("ArrowDown")
            assert page.locator('input[name="sex"]:checked').get_attribute("value") == "female"
            district = page.get_by_label(re.compile("tại huyện, thị xã, thành phố nào"))
            district.select_option(label="Huyện Cẩm Xuyên")
            assert district.input_value() == FULL_ANSWERS["district"]
            done = {"sex", "district"}
        asked += answer_page(page, FULL_ANSWERS, done=done)
        last = page.get_by_role("button", name="Gửi phiếu")
        button = last if last.count() else page.get_by_role("button", name="Tiếp theo")
        click_and_load(tab.page, button)

    assert tab.path() == "/vi/s/citizen/done"
    assert page.locator("h1").inner_text() == "Xin cảm ơn"
    assert "Câu trả lời của Ông/Bà đã được ghi nhận." in page.locator("main").inner_text()
    # Every page was shown once, in order, with its progress; every planned question was asked.
    assert titles == PAGE_TITLES_VI
    total = len(PAGE_TITLES_VI)
    assert [int(re.match(r"Trang (\d+)/\d+$", p).group(1)) for p in progress] == list(
        range(1, total + 1)
    )
    assert progress[-1] == f"Trang {total}/{total}"
    assert sorted(asked) == sorted(FULL_ANSWERS)

    responses, answers = stored(server.app)
    assert len(responses) == 1
    response = responses[0]
    assert (response.status, response.language) == ("complete", "vi")
    assert response.completed_at is not None
    assert comparable(answers) == comparable(FULL_ANSWERS)
    # The export, as the statistician gets it.
    out = tmp_path / "citizen.csv"
    result = server.app.test_cli_runner().invoke(
        args=["export-responses", "--questionnaire", "citizen", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    assert (rows[0]["district"], rows[0]["sex"], rows[0]["language"]) == (
        "cam_xuyen",
        "female",
        "vi",
    )
    tab.assert_clean(server)


def test_errors_are_summarised_focused_and_linked(tab, server):
    page = tab.page
    start_survey(tab)
    tab.expect_status(400, "/vi/s/citizen/p/0")
    click_and_load(tab.page, page.get_by_role("button", name="Tiếp theo"), status=400)

    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"  # app.js focuses it
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.title().startswith("Lỗi:")
    # the first page asks the quota cell's questions: district, sex, age group
    assert "Có 3 lỗi trên trang này" in summary.inner_text()
    links = summary.locator("a")
    targets = [link.get_attribute("href") for link in links.all()]
    assert targets == ["#q-district", "#q-sex", "#q-age_group"]
    for link in links.all():
        # The message first, then the question it belongs to.
        assert link.inner_text().startswith("Vui lòng chọn một câu trả lời.")
    # Each field says its error too, and is marked invalid for screen readers.
    assert page.locator("p.error").count() == 3
    assert page.locator("fieldset[aria-invalid=true]").count() == 2
    assert page.locator("#q-district").get_attribute("aria-describedby") == (
        "hint-district err-district"
    )
    # A link takes the focus to the question's first input.
    links.nth(1).click()
    assert page.evaluate("document.activeElement.id") == "q-sex"
    links.nth(0).click()
    assert page.evaluate("document.activeElement.id") == "q-district"
    assert page.evaluate("document.activeElement.tagName") == "SELECT"

    # The header link switches the same page to English, keeping what was typed on it.
    page.locator("#q-sex").check()
    district = page.locator("#q-district option").nth(3).get_attribute("value")
    page.locator("#q-district").select_option(district)
    click_and_load(tab.page, page.get_by_role("link", name="English"))
    assert tab.path() == "/en/s/citizen/p/0"
    assert page.locator("#q-sex").is_checked()
    assert page.locator("#q-district").input_value() == district
    assert page.locator("#error-summary").count() == 0  # kept, not checked
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "General information"
    assert page.get_by_role("button", name="Next").is_visible()
    assert page.locator("#progress-label").inner_text().startswith("Page 1 of ")
    assert page.get_by_role("link", name="Tiếng Việt").is_visible()
    # In English the errors are English too.
    tab.expect_status(400, "/en/s/citizen/p/0")
    click_and_load(tab.page, page.get_by_role("button", name="Next"), status=400)
    # the kept answers stand: only the age group is missing
    assert "There is 1 problem on this page" in page.locator("#error-summary").inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    tab.assert_clean(server)


def test_double_clicks_send_one_post(tab, server):
    """On a slow connection a second click comes while the first page is being sent: app.js
    disables the buttons, so the server gets one POST (without it Chromium sends both)."""
    page = tab.page
    server.post_delay = 0.4
    start_survey(tab)
    answer_page(page, REQUIRED_ANSWERS, every=False)
    tab.posts.clear()
    server.requests.clear()
    double_click(tab, "Tiếp theo")
    assert tab.path() == "/vi/s/citizen/p/1"
    assert tab.posts == ["/vi/s/citizen/p/0"]
    assert server.posts() == ["/vi/s/citizen/p/0"]

    # The pages in between on another device, with the resume code: the Flask test client.
    other = server.app.test_client()
    code = page.locator(".resume-code strong").inner_text()
    resume_form = other.get("/en/s/citizen/resume").get_data(as_text=True)
    moved = other.post(
        "/en/s/citizen/resume",
        data={"csrf_token": csrf_token(resume_form), "resume_code": code},
    )
    assert moved.status_code == 302, moved.status_code
    location = path_of(moved.headers["Location"])
    rng = random.Random(4)
    for _ in PAGE_TITLES_VI:
        html = other.get(location).get_data(as_text=True)
        if ">Submit<" in html:
            break
        form = next(f for f in parse_forms(html) if ("action", "next") in f.buttons)
        data = {**fill(form, rng, "Không có ý kiến"), "action": ["next"]}
        saved = other.post(path_of(form.action), data=data)
        assert saved.status_code == 302, (location, saved.status_code)
        location = path_of(saved.headers["Location"])
    last = f"/en/s/citizen/p/{len(PAGE_TITLES_VI) - 1}"
    assert location == last

    # Back in the browser: continue where the other device stopped, and send the last page.
    tab.goto("/vi/s/citizen")
    click_and_load(tab.page, page.get_by_role("button", name="Tiếp tục từ chỗ đã dừng"))
    assert tab.path() == last.replace("/en/", "/vi/")
    answer_page(page, REQUIRED_ANSWERS, every=False)
    tab.posts.clear()
    server.requests.clear()
    double_click(tab, "Gửi phiếu")
    assert tab.path() == "/vi/s/citizen/done"
    assert page.locator("h1").inner_text() == "Xin cảm ơn"
    assert tab.posts == [tab.path().replace("/done", f"/p/{len(PAGE_TITLES_VI) - 1}")]
    assert server.posts() == tab.posts

    responses, answers = stored(server.app)
    assert [r.status for r in responses] == ["complete"]
    for code in ("district", "sex", "age_group", "area"):
        assert answers[code] == REQUIRED_ANSWERS[code], code
    tab.assert_clean(server)


def _assert_fits_a_phone(page, what: str) -> None:
    overflow = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert overflow[0] <= overflow[1], f"{what}: horizontal scroll {overflow}"
    too_small = page.evaluate(
        """() => [...document.querySelectorAll(
                'form.page-form :is(input:not([type=hidden]), select, textarea, button)')]
            .map(e => [e.name + '=' + e.value, e.getBoundingClientRect()])
            .filter(([, r]) => r.height < 20 || r.width < 20)
            .map(([n, r]) => [n, r.width, r.height])"""
    )
    assert too_small == [], f"{what}: targets under 20 px: {too_small}"
    wider = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert wider == [], f"{what}: elements wider than the screen: {wider}"


def test_pages_fit_a_phone(browser, server, tmp_path):
    options = {
        "viewport": {"width": 375, "height": 740},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    }
    with open_tab(browser, server, **options) as tab:
        page = tab.page
        start_survey(tab)
        _assert_fits_a_phone(page, "first page")
        tab.expect_status(400, "/vi/s/citizen/p/0")
        click_and_load(tab.page, page.get_by_role("button", name="Tiếp theo"), status=400)
        _assert_fits_a_phone(page, "first page with errors")
        page.screenshot(path=str(tmp_path / "errors-375.png"), full_page=True)
        answer_page(page, REQUIRED_ANSWERS, every=False)
        click_and_load(tab.page, page.get_by_role("button", name="Tiếp theo"))
        answer_page(page, REQUIRED_ANSWERS, every=False)  # the service used
        click_and_load(tab.page, page.get_by_role("button", name="Tiếp theo"))
        # The Likert grid of the third page: access, 3 items on the satisfaction scale.
        assert page.locator(".grid-question").count() == 1
        assert page.locator('.grid-question input[type="radio"]').count() == 3 * 6
        _assert_fits_a_phone(page, "Likert grid")
        shot = tmp_path / "grid-375.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        # A tap on an option's label chooses it.
        page.get_by_text("Hài lòng", exact=True).first.tap()
        assert page.locator('input[name="acc_signs"][value="4"]').is_checked()
        tab.assert_clean(server)


def test_works_with_javascript_off(browser, server):
    with open_tab(browser, server, java_script_enabled=False) as tab:
        page = tab.page
        start_survey(tab)
        # Without app.js the error summary is still there, only not focused.
        tab.expect_status(400, "/vi/s/citizen/p/0")
        click_and_load(tab.page, page.get_by_role("button", name="Tiếp theo"), status=400)
        assert page.locator("#error-summary a").count() == 3
        assert page.evaluate("document.activeElement.tagName") == "BODY"

        first = {k: FULL_ANSWERS[k] for k in questions_on_page(page)}
        answer_page(page, first)
        click_and_load(tab.page, page.get_by_role("button", name="Tiếp theo"))
        assert tab.path() == "/vi/s/citizen/p/1"
        service = {k: FULL_ANSWERS[k] for k in questions_on_page(page)}
        answer_page(page, service)
        click_and_load(tab.page, page.get_by_role("button", name="Tiếp theo"))
        assert tab.path() == "/vi/s/citizen/p/2"
        third = {k: FULL_ANSWERS[k] for k in questions_on_page(page)}
        assert sorted(third) == ["acc_equipment", "acc_seats", "acc_signs"]
        answer_page(page, third)
        click_and_load(tab.page, page.get_by_role("button", name="Tiếp theo"))
        assert tab.path() == "/vi/s/citizen/p/3"
        assert page.locator("h1").inner_text() == PAGE_TITLES_VI[3]
        # Back goes back, with the answers shown again.
        click_and_load(tab.page, page.get_by_role("button", name="Quay lại"))
        assert tab.path() == "/vi/s/citizen/p/2"
        assert page.locator('input[name="acc_equipment"][value="9"]').is_checked()

        responses, answers = stored(server.app)
        assert [(r.status, r.page_index, r.furthest_page) for r in responses] == [
            ("in_progress", 2, 3)
        ]
        assert answers == {**first, **service, **third}
        tab.assert_clean(server)


def test_favicon_is_served(browser, live):
    with open_tab(browser, live) as tab:
        response = tab.page.request.get(live.url + "/favicon.ico")
        try:
            assert response.status == 200, (response.status, response.url)
        finally:
            response.dispose()


def test_error_link_shows_the_question(browser, live):
    with open_tab(browser, live) as tab:  # no database reset needed: it only starts a response
        page = tab.page
        start_survey(tab)
        click_and_load(tab.page, page.get_by_role("button", name="Tiếp theo"), status=400)
        page.locator("#error-summary a").nth(1).click()
        assert page.evaluate("document.activeElement.id") == "q-sex"
        legend = page.locator("#q-sex").locator("xpath=ancestor::fieldset/legend")
        assert legend.evaluate("e => e.getBoundingClientRect().top") >= 0
