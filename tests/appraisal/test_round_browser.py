"""A whole appraisal round in headless Chromium, in both languages: the admin imports two unit
officers and opens a round; both units self-assess (one in Vietnamese, with decimal commas) and
one adds a PDF; the appraiser re-scores with a comment; the admin publishes; a unit answers; the
round is finalised; the results page gives the ranks and accounts worked out by hand."""

from __future__ import annotations

import datetime as dt
import re

import live_server
import pytest
from app_support import PASSWORD, make_app, reset_database
from browser_support import click_and_load
from sqlalchemy import select

from survey_app.accounts.auth import assign, create_user
from survey_app.appraisal.criteria import appraisal_criteria
from survey_app.extensions import db
from survey_app.models import Evidence, User

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000
SCHEME = "departments_appraisal_example.yaml"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def live(database_url):
    app = make_app(database_url)
    reset_database(app)
    with app.app_context(), db.transaction() as tx:
        create_user(tx, "admin@example.vn", PASSWORD, "admin")
        council = create_user(tx, "council@example.vn", PASSWORD, "appraiser")
        assign(tx, council, "appraiser", blocks=["departments"])
    with live_server.serving(app) as server:
        server.app = app
        yield server


def _login(page, url, email, password=PASSWORD, lang="en"):
    page.goto(f"{url}/{lang}/admin/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    click_and_load(page, page.locator("form button[type=submit]").last)


def _logout(page):
    click_and_load(page, page.locator("form.logout button"))


def _fill(page, values: list[str], texts: list[str]):
    for i, (value, text) in enumerate(zip(values, texts, strict=True)):
        page.locator(f"input[name=points_{i}]").fill(value)
        page.locator(f"textarea[name=text_{i}]").fill(text)


def test_a_round_in_the_browser(browser, live, tmp_path):
    url = live.url
    with live.app.app_context():
        criteria = appraisal_criteria(SCHEME)
    (tmp_path / "officers.csv").write_text(
        "email,unit_code,unit_name,block\n"
        "one@example.vn,S1,Sở Tài chính,departments\n"
        "two@example.vn,S2,Sở Tư pháp,departments\n",
        encoding="utf-8",
    )
    (tmp_path / "plan.pdf").write_bytes(PDF)
    context = browser.new_context(locale="vi-VN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        # the admin imports the officers and opens the round
        _login(page, url, "admin@example.vn")
        page.goto(url + "/en/admin/users/import")
        page.locator("input[type=file]").set_input_files(str(tmp_path / "officers.csv"))
        click_and_load(page, page.get_by_role("button", name="Import"))
        cells = page.locator("#imported tbody tr td code")
        passwords = {
            "one@example.vn": cells.nth(0).inner_text(),
            "two@example.vn": cells.nth(1).inner_text(),
        }
        page.goto(url + "/en/appraisal/rounds/new")
        page.get_by_label("Year").fill("2025")
        page.get_by_label("Scoring scheme").select_option(SCHEME)
        page.get_by_label("Block", exact=True).fill("departments")
        page.get_by_label("Points are given in steps of").fill("0.05")
        deadline = (dt.datetime.now() + dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
        page.get_by_label("Self-assessment deadline").fill(deadline)
        click_and_load(page, page.get_by_role("button", name="Open the round"))
        assert "The round is open." in page.content()
        round_url = page.url
        round_id = re.search(r"/rounds/(\d+)", round_url).group(1)
        _logout(page)

        # unit one, in English: the maximum everywhere but initiatives, and a PDF for 1.1
        _login(page, url, "one@example.vn", passwords["one@example.vn"])
        page.goto(f"{url}/en/appraisal/rounds/{round_id}/unit")
        ones = ["0" if c.code == "1.4" else f"{c.max_points:g}" for c in criteria]
        _fill(page, ones, [f"report {c.code}" for c in criteria])
        click_and_load(page, page.get_by_role("button", name="Save the draft"))
        assert "The draft is saved." in page.content()
        page.locator("#evidence-criterion").select_option("1.1")
        page.locator("#evidence-form input[type=file]").set_input_files(str(tmp_path / "plan.pdf"))
        click_and_load(page, page.locator("#evidence-form button"))
        assert "The evidence is added." in page.content() and "plan.pdf" in page.content()
        click_and_load(page, page.get_by_role("button", name="Submit the self-assessment"))
        assert "The self-assessment is submitted." in page.content()
        assert page.locator("input[name=points_0]").count() == 0
        _logout(page)

        # unit two, in Vietnamese, with decimal commas: 80 % of every maximum
        _login(page, url, "two@example.vn", passwords["two@example.vn"], lang="vi")
        page.goto(f"{url}/vi/appraisal/rounds/{round_id}/unit")
        assert "Sở Tư pháp" in page.content() and "Sở Tài chính" not in page.content()
        twos = [f"{0.8 * c.max_points:g}".replace(".", ",") for c in criteria]
        _fill(page, twos, [f"báo cáo {c.code}" for c in criteria])
        click_and_load(page, page.locator("button[value=submit]"))
        assert page.locator("input[name=points_0]").count() == 0  # submitted: read-only
        # another unit's evidence is not there to be found
        with live.app.app_context():
            evidence_id = db.session.scalars(select(Evidence.id)).one()
        assert page.goto(f"{url}/vi/appraisal/evidence/{evidence_id}").status == 404
        page.goto(f"{url}/vi/appraisal/")
        _logout(page)

        # the appraiser: unit one's 2.1 lowered with a comment, the rest as the units gave
        _login(page, url, "council@example.vn")
        page.goto(round_url)
        click_and_load(page, page.get_by_role("link", name="Sở Tài chính"))
        assert "plan.pdf" in page.content() and "report 1.3" in page.content()
        council_one = list(ones)
        council_one[[c.code for c in criteria].index("2.1")] = "3"
        _fill(page, council_one, ["" for _c in criteria])
        click_and_load(page, page.get_by_role("button", name="Save the council's points"), 400)
        assert "say why the points differ" in page.content()
        page.locator(f"textarea[name=text_{[c.code for c in criteria].index('2.1')}]").fill(
            "Two of the four decrees were late"
        )
        click_and_load(page, page.get_by_role("button", name="Save the council's points"))
        assert "The council's points are saved." in page.content()
        page.goto(round_url)
        click_and_load(page, page.get_by_role("link", name="Sở Tư pháp"))
        _fill(page, [t.replace(",", ".") for t in twos], ["" for _c in criteria])
        click_and_load(page, page.get_by_role("button", name="Save the council's points"))
        assert "The council's points are saved." in page.content()
        _logout(page)

        # the admin publishes; unit one answers once
        _login(page, url, "admin@example.vn")
        page.goto(round_url)
        now = dt.datetime.now()
        page.get_by_label("Units may answer from").fill(
            (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        )
        page.get_by_label("until", exact=True).fill(
            (now + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        )
        click_and_load(page, page.get_by_role("button", name="Publish", exact=True))
        assert "published to the units" in page.content()
        _logout(page)
        _login(page, url, "one@example.vn", passwords["one@example.vn"])
        page.goto(f"{url}/en/appraisal/rounds/{round_id}/unit")
        assert "Two of the four decrees were late" in page.content()
        page.get_by_label("Your answer to the council").fill("Decree 3 was <b>on time</b>")
        click_and_load(page, page.get_by_role("button", name="Send the answer"))
        assert "Your answer is sent to the council." in page.content()
        assert page.locator("#answer-form").count() == 0
        _logout(page)

        # the appraiser reads the answer (escaped) and finalises
        _login(page, url, "council@example.vn")
        page.goto(round_url)
        click_and_load(page, page.get_by_role("link", name="Sở Tài chính"))
        assert "Decree 3 was &lt;b&gt;on time&lt;/b&gt;" in page.content()
        page.goto(round_url)
        click_and_load(page, page.get_by_role("button", name="Finalise the round"))
        assert "The round is final." in page.content()

        # results worked out by hand: S1 67.5/70 (96.43 %), S2 56/70 (80 %)
        for lang in ("en", "vi"):
            response = page.goto(f"{url}/{lang}/appraisal/rounds/{round_id}/results")
            assert response.status == 200 and page.get_attribute("html", "lang") == lang
            assert page.locator("#results tbody tr").count() == 2
        page.goto(f"{url}/en/appraisal/rounds/{round_id}/results")
        s1 = page.locator("#unit-S1").inner_text()
        assert "1/2" in s1 and "67.5/70" in s1 and "96.43" in s1 and "Group A" in s1
        assert "80.00" in page.locator("#unit-S2").inner_text()
        assert (
            "rank 1 of 2: 1 of 7 fields near their maximum, 5 of 7 fields at their maximum, "
            "Direction of reform ranked 1 in the block"
        ) in page.content()
        assert "Initiatives 0/1.5" in page.content()
        page.goto(f"{url}/vi/appraisal/rounds/{round_id}/results")
        assert "Sáng kiến, giải pháp mới 0/1,5" in page.content() and "96,43" in page.content()
        _logout(page)

        # the admin gives a council member one unit by ticking it, and reopens the round
        _login(page, url, "admin@example.vn")
        page.goto(url + "/en/admin/users/new")
        page.get_by_label("E-mail").fill("member@example.vn")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_label("Role").select_option("appraiser")
        page.get_by_label("Sở Tư pháp (S2)").check()
        click_and_load(page, page.get_by_role("button", name="Save"))
        assert "User member@example.vn created." in page.content()
        row = page.locator("#users tr", has_text="member@example.vn").inner_text()
        assert "Sở Tư pháp (S2)" in row and "every block" not in row
        page.goto(round_url)
        page.get_by_label("Why the round is reopened").fill("S2 showed decree 7 was on time")
        click_and_load(page, page.get_by_role("button", name="Reopen the round"))
        assert "The round is open for appraisal again" in page.content()
        assert "S2 showed decree 7 was on time" in page.locator("#reopened").inner_text()
        _logout(page)
        _login(page, url, "member@example.vn")
        page.goto(round_url)
        assert page.locator("#progress tbody tr").count() == 1
        assert "Sở Tư pháp" in page.locator("#progress").inner_text()
        assert page.locator("#finalise-form").count() == 0
    finally:
        context.close()
    assert errors == []
    assert live.exceptions == []
    with live.app.app_context():
        officers = db.session.scalars(select(User.email).where(User.role == "officer")).all()
    assert sorted(officers) == ["one@example.vn", "two@example.vn"]
