"""A browser walk: an invitee opens the link of the e-mail the SMTP server captured and answers
the whole questionnaire in Chromium; the invitations page then says sent and complete, and a
reminder reaches only the one who has not finished."""

from __future__ import annotations

import re
import time

import live_server
import pytest
from app_support import make_app, reset_database
from auth_support import AuthActions
from browser_support import click_and_load
from html_client import csrf_token
from mail_support import SMTPServer
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.fieldwork import invitations as service
from survey_app.fieldwork import invitee_file
from survey_app.models import Invitation, Mailing, Response

WAVE = f"wave-{__import__('datetime').date.today().year}"
PEOPLE = [
    ("Nguyễn Thị Hồng Nhung", "Sở Nội vụ", "nhung@hatinh.example.vn"),
    ("Trần Văn Đức", "Sở Tư pháp", "duc@hatinh.example.vn"),
]
CONTROLS_JS = """form => [...form.elements]
    .filter(e => e.name && e.name !== 'csrf_token' && e.name !== 'action')
    .map(e => [e.name, e.tagName.toLowerCase(), e.type, e.value, e.id, e.min || ''])"""


@pytest.fixture
def setup(database_url):
    with SMTPServer() as smtp_server:
        app = make_app(database_url, RUN_QUEUE="in-process", **smtp_server.settings())
        reset_database(app)
        with live_server.serving(app) as server:
            app.config["PUBLIC_URL"] = server.url
            yield app, server, smtp_server


def send(app, kind: str, lang: str) -> None:
    client = app.test_client()
    AuthActions(client).login("admin")
    address = f"/en/admin/invitations/{WAVE}/leader/mail?kind={kind}"
    html = client.get(address).get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), "kind": kind, "language": lang, "per_minute": "600"}
    data["subject_vi"] = data["subject_en"] = "Khảo sát / Survey: {survey}"
    data["body_vi"] = "Kính gửi {name},\n\n{link}\n\n{optout}"
    data["body_en"] = "Dear {name},\n\n{link}\n\n{optout}"
    preview = client.post(address, data=dict(data, preview="1")).get_data(as_text=True)
    digest = re.search(r'name="previewed" type="hidden" value="(\w+)"', preview).group(1)
    sent = client.post(address, data=dict(data, send="1", previewed=digest))
    assert sent.status_code == 302
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with app.app_context():
            busy = db.session.scalar(select(func.count()).where(Mailing.status != "done"))
            db.session.remove()
        if not busy:
            return
        time.sleep(0.05)
    raise AssertionError("the sending did not finish")


def answer_in_the_browser(page, link: str) -> int:
    """Open the link and answer every page like a person: the first option of each choice,
    the smallest number allowed; returns how many pages were answered."""
    page.goto(link)
    click_and_load(page, page.get_by_role("button", name=re.compile("Bắt đầu|Start")))
    pages = 0
    while "/p/" in page.url:
        controls = page.locator("form.page-form").evaluate(CONTROLS_JS)
        chosen = set()
        for name, tag, kind, _value, ident, low in controls:
            if kind == "radio" and name not in chosen:
                page.locator(f'label[for="{ident}"]').click()
                chosen.add(name)
            elif tag == "input" and kind in ("number", "text") and low:
                page.locator(f"#{ident}").fill(low)
        with page.expect_navigation():
            page.locator('button[name="action"][value="next"]').click()
        pages += 1
        assert pages < 50, "the questionnaire never ends"
    return pages


def test_an_invitee_answers_from_the_captured_email(setup, browser):
    app, server, smtp_server = setup
    lines = ["name,group,agency,unit,email,phone"]
    lines += [f"{n},leader,{a},,{m}," for n, a, m in PEOPLE]
    with app.test_request_context(), db.transaction() as tx:
        wave = service.invitation_wave(tx, WAVE, "leader")
        rows = invitee_file.read_invitee_file(("\n".join(lines) + "\n").encode(), "x.csv")
        service.import_invitees(tx, wave, "leader", rows, server.url, "vi", "x.csv")
    send(app, "invitation", "both")
    (mail,) = smtp_server.handler.to("nhung@hatinh.example.vn")
    link = re.search(re.escape(server.url) + r"/vi/i/[A-Za-z0-9_-]+", mail.body).group(0)
    context = browser.new_context(locale="vi-VN")
    try:
        page = context.new_page()
        pages = answer_in_the_browser(page, link)
        assert pages >= 3
        assert "/i/done" in page.url or page.locator("h1").count() == 1
    finally:
        context.close()
    with app.app_context():
        statuses = sorted(db.session.scalars(select(Invitation.status)))
        assert statuses == ["complete", "issued"]
        assert db.session.scalar(select(func.count(Response.id))) == 1
    admin = app.test_client()
    AuthActions(admin).login("admin")
    listing = admin.get(f"/en/admin/invitations/{WAVE}/leader").get_data(as_text=True)
    assert listing.count("<td>complete</td>") == 1 and listing.count("sent ") >= 2
    smtp_server.handler.received.clear()
    send(app, "reminder", "en")
    assert [c.to[0] for c in smtp_server.handler.received] == ["duc@hatinh.example.vn"]
