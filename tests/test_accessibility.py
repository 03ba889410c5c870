"""Accessibility: every page a person reads, checked by axe-core in headless Chromium against
WCAG 2.0-2.2 levels A and AA and axe's best practices.

A respondent's whole way through the citizen questionnaire (every kind of question: single and
multiple choice, grids, a list, a number, short and long text), its page of errors and its last
page, in Vietnamese on a phone and in English on a desktop; and every page each staff role
reaches by following links from where logging in leads it, on the demo data with a finished
statistics run.
No violation of any impact is allowed: the minor ones (an empty table header) are read aloud too.

The pages do not depend on the database, so this runs on SQLite only.
"""

from __future__ import annotations

import time
from collections import deque
from urllib.parse import urlsplit

import live_server
import pytest
from app_support import PASSWORD, make_app, reset_database
from browser_support import click_and_load
from html_client import csrf_token
from sqlalchemy import select

from survey_app.accounts.auth import assign, create_user
from survey_app.db import make_engine
from survey_app.extensions import db
from survey_app.models import RatedUnit
from survey_app.models.people import ROLES
from survey_app.schema import upgrade

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    }
}
SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 393, "height": 851}}
#: Pages of one endpoint share their template (a questionnaire's paper form, another's): one is
#: audited, the first the crawl meets.
PER_ENDPOINT = 1
#: Links that end a session, or download a file rather than show a page.
NOT_FOLLOWED = ("/logout", ".csv", ".xlsx", ".sav", ".dta", ".zip", ".png", ".svg", ".pdf")


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app on demo data (a wave of responses, an appraisal round), a user of every role, and
    one finished statistics run."""
    url = f"sqlite:///{tmp_path_factory.mktemp('a11y') / 'a11y.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = make_app(url)
    reset_database(app)
    assert app.test_cli_runner().invoke(args=["seed-demo", "--responses", "60"]).exit_code == 0
    with app.app_context(), db.transaction() as tx:
        unit = tx.scalars(select(RatedUnit).where(RatedUnit.code == "DEMO-TC")).one()
        for role in ROLES:
            user = create_user(tx, f"{role}@example.vn", PASSWORD, role)
            if role == "officer":
                assign(tx, user, role, unit.id)
            elif role == "appraiser":
                assign(tx, user, role, blocks=[unit.block])
    _finished_run(app)
    with live_server.serving(app) as server:
        yield server


def _finished_run(app) -> None:
    client = app.test_client()
    login = client.get("/en/admin/login").get_data(as_text=True)
    client.post(
        "/en/admin/login",
        data={
            "csrf_token": csrf_token(login),
            "email": "statistician@example.vn",
            "password": PASSWORD,
        },
    )
    wave = client.get("/en/stats/waves/demo").get_data(as_text=True)
    started = client.post(
        "/en/stats/waves/demo/runs",
        data={"csrf_token": csrf_token(wave), "scheme": "par2022.yaml", "method": ""},
    )
    assert started.status_code == 302, started.get_data(as_text=True)[:2000]
    deadline = time.monotonic() + 120
    while "Refresh" in client.get(started.headers["Location"]).headers:
        assert time.monotonic() < deadline, "the statistics run did not end"
        time.sleep(0.2)


def violations(axe, page) -> list[str]:
    """What axe finds on the page, one line per element: rule, impact, help, where."""
    found = axe.run(page, options=AXE_OPTIONS).response["violations"]
    return [
        f"{page.url}: {rule['id']} ({rule['impact']}): {rule['help']}: {node['target']}"
        for rule in found
        for node in rule["nodes"]
    ]


def _answer_everything(page) -> None:
    """The first choice of every question on the page, a number, some text: enough to go on."""
    for name in page.eval_on_selector_all(
        "input[type=radio]", "inputs => [...new Set(inputs.map(i => i.name))]"
    ):
        page.locator(f"input[type=radio][name='{name}']").first.check()
    boxes = page.locator("input[type=checkbox]")
    if boxes.count():
        boxes.first.check()
    for select_ in page.locator("select").all():
        values = select_.evaluate("s => [...s.options].map(o => o.value).filter(v => v)")
        select_.select_option(values[0])
    for field in page.locator("input[type=text]:visible, textarea:visible").all():
        field.fill("Ý kiến")
    for field in page.locator("input[type=number], input[inputmode=numeric]").all():
        field.fill("3")


@pytest.mark.parametrize(("lang", "screen"), [("vi", "phone"), ("en", "desktop")])
def test_a_respondents_way_has_no_accessibility_violation(browser, live, axe, lang, screen):
    context = browser.new_context(viewport=SCREENS[screen], locale=lang)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems, seen = [], []
    try:
        for path in (f"/{lang}/", f"/{lang}/i/", f"/{lang}/s/citizen/resume", f"/{lang}/s/citizen"):
            page.goto(live.url + path)
            seen.append(urlsplit(page.url).path)
            problems += violations(axe, page)
        click_and_load(page, page.locator("main form button[type=submit]").first)
        for _ in range(30):
            path = urlsplit(page.url).path
            seen.append(path)
            problems += violations(axe, page)
            if path.endswith("/done"):
                break
            if len(seen) == 6:  # the second page of questions, sent empty: its errors
                click_and_load(page, page.locator("button[name=action][value=next]"), 400)
                assert page.locator("[aria-invalid=true]").count() > 0, page.url
                problems += violations(axe, page)
            _answer_everything(page)
            click_and_load(page, page.locator("button[name=action][value=next]"))
    finally:
        context.close()
    assert seen[-1] == f"/{lang}/s/citizen/done", seen
    assert len(seen) >= 12, seen  # every page of the questionnaire, not the first alone
    assert not live.exceptions
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_has_no_accessibility_violation(browser, live, axe, role):
    context = browser.new_context(viewport=SCREENS["desktop"])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems, audited = [], []
    per_endpoint: dict[str, int] = {}
    adapter = live.app.url_map.bind("127.0.0.1")
    try:
        page.goto(f"{live.url}/en/admin/login")
        problems += violations(axe, page)
        page.locator("input[name=email]").fill(f"{role}@example.vn")
        page.locator("input[name=password]").fill(PASSWORD)
        click_and_load(page, page.locator("main form button[type=submit]").last)
        queue, queued = deque([page.url]), {page.url}
        while queue:
            url = queue.popleft()
            endpoint = adapter.match(urlsplit(url).path, method="GET")[0]
            if per_endpoint.get(endpoint, 0) >= PER_ENDPOINT:
                continue
            response = page.goto(url)
            if response is None or not response.headers.get("content-type", "").startswith(
                "text/html"
            ):
                continue
            assert response.status < 500, url
            per_endpoint[endpoint] = per_endpoint.get(endpoint, 0) + 1
            audited.append(url)
            problems += violations(axe, page)
            for link in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                link = link.split("#")[0]
                parts = urlsplit(link)
                if (
                    link.startswith(live.url)
                    and parts.path.startswith("/en/")
                    and not parts.path.endswith(NOT_FOLLOWED)
                    and link not in queued
                ):
                    queued.add(link)
                    queue.append(link)
    finally:
        context.close()
    assert len(audited) >= 3, audited  # the crawl went past the role's first page
    assert not live.exceptions
    assert problems == [], "\n".join(problems)
