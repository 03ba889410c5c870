"""Paper entry in headless Chromium: an interviewer logs in, chooses the citizen questionnaire
on the paper entry page and types two paper forms in through the respondents' pages, one in
Vietnamese and one in English; both are stored as mode paper with the interviewer. The printable
form shows the routing of a routed question in words. No browser or server error on the way."""

from __future__ import annotations

import re

import pytest
from app_support import PASSWORD
from browser_support import click_and_load
from sqlalchemy import select
from test_browser import (  # the citizen walk's helpers and its live server
    REQUIRED_ANSWERS,
    Tab,
    answer_page,
    live,  # noqa: F401 - a fixture
    open_tab,
    server,  # noqa: F401 - a fixture
)

from survey_app.accounts.auth import create_user
from survey_app.extensions import db
from survey_app.models import Response, User

pytestmark = pytest.mark.browser

WORDS = {
    "vi": {"start": "Bắt đầu", "next": "Tiếp theo", "send": "Gửi phiếu", "done": "Xin cảm ơn"},
    "en": {"start": "Start", "next": "Next", "send": "Submit", "done": "Thank you"},
}


def log_in(tab: Tab, email: str) -> None:
    page = tab.page
    tab.goto("/en/admin/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    click_and_load(tab.page, page.get_by_role("button", name="Log in"))


def enter_paper_form(tab: Tab, lang: str, answers: dict[str, str]) -> None:
    """From the paper entry page, in `lang`: choose the citizen questionnaire, type the form in."""
    page = tab.page
    tab.goto(f"/{lang}/admin/paper")
    click_and_load(tab.page, page.locator('button[data-paper="citizen"]'))
    assert tab.path() == f"/{lang}/s/citizen"
    assert page.locator("[data-paper-entry]").count() == 1
    click_and_load(tab.page, page.get_by_role("button", name=WORDS[lang]["start"], exact=True))
    pages = 0
    while "/p/" in tab.path():
        pages += 1
        assert pages < 20, "the questionnaire never ends"
        # every page says it is paper entry
        assert page.locator("[data-paper-entry]").count() == 1
        answer_page(page, answers, every=False)
        send = page.get_by_role("button", name=WORDS[lang]["send"])
        button = send if send.count() else page.get_by_role("button", name=WORDS[lang]["next"])
        click_and_load(tab.page, button)
    assert tab.path() == f"/{lang}/s/citizen/done"
    assert page.locator("h1").inner_text() == WORDS[lang]["done"]


def test_an_interviewer_enters_paper_forms_in_both_languages(browser, server):  # noqa: F811
    with server.app.app_context(), db.transaction() as tx:
        create_user(tx, "lan.interviewer@example.vn", PASSWORD, "interviewer")
    with open_tab(browser, server, viewport={"width": 1280, "height": 900}) as tab:
        log_in(tab, "lan.interviewer@example.vn")
        # an interviewer lands on the paper entry page, and only sees what that role may
        assert tab.path() == "/en/admin/paper"
        nav = tab.page.locator("nav.admin-nav").inner_text()
        assert "Paper entry" in nav and "Monitoring" not in nav and "Waves" not in nav
        enter_paper_form(tab, "vi", REQUIRED_ANSWERS)
        english = {**REQUIRED_ANSWERS, "district": "ky_anh_town", "sex": "female"}
        enter_paper_form(tab, "en", english)
        # the printable form, with the routing of fb_given written out
        tab.goto("/en/admin/questionnaires/citizen/v1/paper")
        rule = tab.page.locator("#item-fb_given .routing").first.inner_text()
        assert re.fullmatch(
            r"→ If the answer to question \d+ \(fb_given\) is “Yes” \(1\), go on to part "
            r"“Receiving and handling feedback” \(question \d+\); otherwise go to part “.+” "
            r"\(question \d+\)\.",
            rule,
        ), rule
        part = tab.page.locator("#part-feedback_handling .part-rule").inner_text()
        assert part.startswith("Answer this part only if the answer to question")
        tab.goto("/vi/admin/questionnaires/citizen/v1/paper")
        assert "(fb_given)" in tab.page.locator("#item-fb_given .routing").first.inner_text()
        tab.assert_clean(server)
    with server.app.app_context():
        interviewer = db.session.scalars(
            select(User).where(User.email == "lan.interviewer@example.vn")
        ).one()
        stored = db.session.scalars(select(Response).order_by(Response.id)).all()
        facts = [(r.status, r.mode, r.entered_by_id, r.language) for r in stored]
    assert facts == [
        ("complete", "paper", interviewer.id, "vi"),
        ("complete", "paper", interviewer.id, "en"),
    ]
