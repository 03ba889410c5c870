"""E-mail invitations and reminders against a real SMTP server (aiosmtpd) that captures them:
both languages, the server's refusal recorded, the rate kept, reminders only to those who have
not finished, opt-out honoured, erasure forgets what mailing kept, admins only, CSRF."""

from __future__ import annotations

import re
import socket
import time

import pytest
from app_support import make_app, reset_database
from html_client import csrf_token, path_of, walk
from mail_support import SMTPServer
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.fieldwork import identities, invitee_file, mailing
from survey_app.fieldwork import invitations as service
from survey_app.models import AuditEvent, Invitation, Invitee, MailDelivery, Mailing, MailLink

WAVE = f"wave-{__import__('datetime').date.today().year}"
PUBLIC = "https://khaosat.example.vn"
PEOPLE = [
    ("Nguyễn Thị Hồng Nhung", "Sở Nội vụ", "nhung@hatinh.example.vn"),
    ("Trần Văn Đức", "Sở Tư pháp", "duc@hatinh.example.vn"),
    ("Lê Hoàng Yến", "UBND huyện Kỳ Anh", "yen@hatinh.example.vn"),
    ("Phạm Quốc Việt", "Sở Tài chính", "viet@hatinh.example.vn"),
]
LINK = re.compile(r"https://khaosat\.example\.vn/(vi|en)/i/[A-Za-z0-9_-]{16,}")
OPTOUT = re.compile(r"https://khaosat\.example\.vn/(vi|en)/optout/\d+/[A-Za-z0-9_=-]+")


@pytest.fixture
def smtp_server():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def app(database_url, smtp_server):
    app = make_app(
        database_url, RUN_QUEUE="in-process", PUBLIC_URL=PUBLIC, **smtp_server.settings()
    )
    reset_database(app)
    return app


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def import_people(app, people=PEOPLE) -> None:
    lines = ["name,group,agency,unit,email,phone"]
    lines += [f"{name},leader,{agency},,{mail}," for name, agency, mail in people]
    data = ("\n".join(lines) + "\n").encode()
    with app.test_request_context(), db.transaction() as tx:
        wave = service.invitation_wave(tx, WAVE, "leader")
        service.import_invitees(
            tx, wave, "leader", invitee_file.read_invitee_file(data, "x.csv"), PUBLIC, "vi", "x"
        )


def mail_page(admin, kind="invitation"):
    page = admin.get(f"/en/admin/invitations/{WAVE}/leader/mail?kind={kind}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def form_data(html: str, **changes) -> dict:
    """The mail form as the page offers it (its default texts), with `changes`."""
    data = {"csrf_token": csrf_token(html), "per_minute": "600"}
    for name in ("subject_vi", "subject_en"):
        data[name] = _unescape(re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1))
    for name in ("body_vi", "body_en"):
        found = re.search(
            rf'<textarea[^>]*name="{name}"[^>]*>(?:\r?\n)?(.*?)</textarea>', html, re.S
        )
        data[name] = _unescape(found.group(1))
    data["kind"] = re.search(r'<option selected value="(\w+)">', html).group(1)
    data["language"] = "both"
    data.update(changes)
    return data


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def preview_and_send(admin, kind="invitation", **changes):
    """Preview, then send what was previewed; returns the preview page."""
    html = mail_page(admin, kind)
    data = form_data(html, preview="1", **changes)
    preview = admin.post(f"/en/admin/invitations/{WAVE}/leader/mail?kind={kind}", data=data)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    shown = preview.get_data(as_text=True)
    previewed = re.search(r'name="previewed" type="hidden" value="(\w+)"', shown)
    previewed = previewed or re.search(
        r'id="previewed" name="previewed" type="hidden" value="(\w+)"', shown
    )
    assert previewed, shown
    data = dict(data, previewed=previewed.group(1), send="1")
    data.pop("preview")
    sent = admin.post(f"/en/admin/invitations/{WAVE}/leader/mail?kind={kind}", data=data)
    assert sent.status_code == 302, sent.get_data(as_text=True)
    return shown


def wait_until_sent(app, timeout=60.0) -> None:
    """Until every sending is done (the background thread's work), then a moment for the
    server to hand the last message to its handler."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            pending = db.session.scalars(select(Mailing).where(Mailing.status != "done")).all()
            db.session.remove()
        if not pending:
            return
        time.sleep(0.05)
    raise AssertionError("the sending did not finish")


def deliveries(app) -> dict[str, MailDelivery]:
    """The latest delivery per invitee's e-mail."""
    with app.app_context():
        rows = db.session.execute(
            select(Invitee.email, MailDelivery)
            .join(Invitation, Invitation.invitee_id == Invitee.id)
            .join(MailDelivery, MailDelivery.invitation_id == Invitation.id)
            .order_by(MailDelivery.id)
        ).all()
        db.session.expunge_all()
        return {email: delivery for email, delivery in rows}


def test_invitations_reach_everyone_in_both_languages(app, admin, smtp_server):
    import_people(app)
    preview = preview_and_send(admin)
    assert "This e-mail goes to 4 people" in preview
    assert "EXAMPLE-LINK" in preview and "Nguyễn Thị Hồng Nhung" in preview
    wait_until_sent(app)
    assert sorted(c.to[0] for c in smtp_server.handler.received) == sorted(p[2] for p in PEOPLE)
    got = smtp_server.handler.to("duc@hatinh.example.vn")[0]
    body = got.body
    assert "Trần Văn Đức" in body and "Sở Tư pháp" in body
    assert "Dear Trần Văn Đức" in body  # English
    assert "Kính gửi" in body or "Thư mời" in got.subject or "Invitation" in got.subject
    links = {m.group(1): m.group(0) for m in LINK.finditer(body)}
    assert set(links) == {"vi", "en"}
    assert links["vi"].split("/i/")[1] == links["en"].split("/i/")[1]
    assert OPTOUT.search(body) and got.message["List-Unsubscribe"]
    assert str(got.message["From"]).endswith("<khaosat@sonoivu.example.vn>")
    # the link in the e-mail opens the questionnaire: the token sealed for the mail is the one
    assert walk(admin.application.test_client(), path_of(links["en"])).pages > 0
    status = deliveries(app)
    assert {d.status for d in status.values()} == {"sent"}
    listing = admin.get(f"/en/admin/invitations/{WAVE}/leader").get_data(as_text=True)
    assert listing.count("sent ") >= 4 and "complete" in listing
    for lang in ("vi", "en"):  # both pages render in each language
        assert admin.get(f"/{lang}/admin/invitations/{WAVE}/leader").status_code == 200
        assert admin.get(f"/{lang}/admin/invitations/{WAVE}/leader/mail").status_code == 200
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "mail_sending_started")
        ).one()
        assert event.details["count"] == 4 and event.details["kind"] == "invitation"
        assert event.actor == "admin@example.vn"
        # the token is kept only sealed: nothing stored holds it in clear
        token = links["en"].split("/i/")[1]
        for kept in db.session.scalars(select(MailLink)):
            assert token.encode() not in kept.sealed


def test_the_admins_own_words_in_one_language(app, admin, smtp_server):
    import_people(app, PEOPLE[:1])
    preview = preview_and_send(
        admin,
        language="vi",
        subject_vi="Thư mời: {survey}",
        body_vi="Kính gửi {name} ({agency}),\n\nĐường dẫn: {link}\nHạn: {deadline}\n"
        "Không nhận thư nữa: {optout}",
        body_en="ignored {nonsense",  # the English texts are not used, nor checked
    )
    assert "Kính gửi Nguyễn Thị Hồng Nhung (Sở Nội vụ)" in preview
    wait_until_sent(app)
    (got,) = smtp_server.handler.received
    assert got.subject.startswith("Thư mời: ") and "/" not in got.subject
    assert got.body.startswith("Kính gửi Nguyễn Thị Hồng Nhung (Sở Nội vụ),\n")
    assert [m.group(1) for m in LINK.finditer(got.body)] == ["vi"]
    assert [m.group(1) for m in OPTOUT.finditer(got.body)] == ["vi"]
    assert "ignored" not in got.body and "{" not in got.body


def test_a_refused_recipient_is_recorded_with_the_servers_reason(app, admin, smtp_server):
    import_people(app)
    smtp_server.handler.refuse.add("yen@hatinh.example.vn")
    preview_and_send(admin)
    wait_until_sent(app)
    status = deliveries(app)
    assert status["yen@hatinh.example.vn"].status == "failed"
    assert "550" in status["yen@hatinh.example.vn"].reason
    assert "Recipient address rejected" in status["yen@hatinh.example.vn"].reason
    assert [s.status for k, s in status.items() if k != "yen@hatinh.example.vn"] == ["sent"] * 3
    listing = admin.get(f"/en/admin/invitations/{WAVE}/leader").get_data(as_text=True)
    assert "failed" in listing and "Recipient address rejected" in listing


def test_the_rate_is_kept(app, admin, smtp_server):
    import_people(app)
    preview_and_send(admin, per_minute="120")  # one every half second
    wait_until_sent(app)
    times = sorted(c.at for c in smtp_server.handler.received)
    assert len(times) == 4
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.45, gaps


def test_reminders_reach_only_those_who_have_not_finished(app, admin, smtp_server):
    import_people(app)
    preview_and_send(admin)
    wait_until_sent(app)
    first = smtp_server.handler.to("nhung@hatinh.example.vn")[0]
    link = LINK.search(first.body).group(0)
    assert walk(app.test_client(), path_of(link)).pages > 0
    # another opens the link only: still to be reminded
    opened = LINK.search(smtp_server.handler.to("duc@hatinh.example.vn")[0].body).group(0)
    assert app.test_client().get(path_of(opened), follow_redirects=True).status_code == 200
    smtp_server.handler.received.clear()
    preview = preview_and_send(admin, kind="reminder")
    assert "This e-mail goes to 3 people" in preview
    wait_until_sent(app)
    reached = sorted(c.to[0] for c in smtp_server.handler.received)
    assert reached == sorted(p[2] for p in PEOPLE[1:])
    again = smtp_server.handler.to("duc@hatinh.example.vn")[0]
    # the reminder carries the same link as the invitation
    assert LINK.search(again.body).group(0) == opened
    assert "Reminder" in again.subject


def test_opt_out_is_honoured_and_translated(app, admin, smtp_server):
    import_people(app)
    preview_and_send(admin)
    wait_until_sent(app)
    body = smtp_server.handler.to("viet@hatinh.example.vn")[0].body
    links = {m.group(1): m.group(0) for m in OPTOUT.finditer(body)}
    visitor = app.test_client()
    page = visitor.get(path_of(links["vi"]))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # the page in the link's language (its words come from the catalog: /work/vi/h-email.json)
    assert '<html lang="vi"' in html and "/en/optout/" in html
    # a scanner's GET opts nobody out; the button does, with its CSRF token
    assert visitor.post(path_of(links["en"])).status_code == 400
    done = visitor.post(path_of(links["en"]), data={"csrf_token": csrf_token(html)})
    assert done.status_code == 200 and 'id="optout-done"' in done.get_data(as_text=True)
    forged = links["en"][:-3] + ("AAA" if not links["en"].endswith("AAA") else "BBB")
    assert visitor.get(path_of(forged)).status_code == 404
    smtp_server.handler.received.clear()
    preview_and_send(admin, kind="reminder")
    wait_until_sent(app)
    assert "viet@hatinh.example.vn" not in [c.to[0] for c in smtp_server.handler.received]
    assert len(smtp_server.handler.received) == 3
    listing = admin.get(f"/en/admin/invitations/{WAVE}/leader").get_data(as_text=True)
    assert "asked for no more e-mail" in listing


def test_erasure_forgets_the_sealed_link_and_the_reasons(app, admin, smtp_server):
    import_people(app)
    smtp_server.handler.refuse.add("yen@hatinh.example.vn")
    preview_and_send(admin)
    wait_until_sent(app)
    with app.app_context(), db.transaction() as tx:
        person = tx.scalars(select(Invitee).where(Invitee.email == "yen@hatinh.example.vn")).one()
        invitation = tx.scalars(select(Invitation).where(Invitation.invitee_id == person.id)).one()
        assert tx.get(MailLink, invitation.id) is not None
        identities.erase(tx, [person.id], "request")
        invitation_id = invitation.id
    with app.app_context():
        assert db.session.get(MailLink, invitation_id) is None
        kept = db.session.scalars(
            select(MailDelivery).where(MailDelivery.invitation_id == invitation_id)
        ).all()
        assert kept and all(d.reason is None for d in kept)
        assert db.session.scalar(select(MailLink).limit(1)) is not None  # the others keep theirs


def test_templates_are_checked_and_sending_needs_the_preview(app, admin, smtp_server):
    import_people(app)
    html = mail_page(admin)
    bad = admin.post(
        f"/en/admin/invitations/{WAVE}/leader/mail",
        data=form_data(html, preview="1", body_en="Hello {nmae}, {link}"),
    )
    assert bad.status_code == 400
    assert "{nmae} is not a placeholder" in bad.get_data(as_text=True)
    nolink = admin.post(
        f"/en/admin/invitations/{WAVE}/leader/mail",
        data=form_data(html, preview="1", body_vi="Xin chào {name}"),
    )
    assert nolink.status_code == 400 and "put {link} in it" in nolink.get_data(as_text=True)
    # sending without (or after changing) the preview shows the preview again, sends nothing
    blind = admin.post(
        f"/en/admin/invitations/{WAVE}/leader/mail",
        data=form_data(html, send="1", previewed="0" * 64),
    )
    assert blind.status_code == 200 and 'id="preview-body"' in blind.get_data(as_text=True)
    no_csrf = form_data(html, preview="1")
    no_csrf.pop("csrf_token")
    assert admin.post(f"/en/admin/invitations/{WAVE}/leader/mail", data=no_csrf).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Mailing).limit(1)) is None
    assert smtp_server.handler.received == []


@pytest.mark.parametrize("role", ["statistician", "monitor"])
def test_only_admins_send(app, client, auth, role):
    auth.login(role)
    answer = client.get(f"/en/admin/invitations/{WAVE}/leader/mail")
    assert answer.status_code == 403


def test_sealed_tokens_are_bound_to_their_invitation():
    sealed = mailing.seal_token("k", 7, "token-value-123456")
    assert mailing.open_token("k", 7, sealed) == "token-value-123456"
    assert mailing.open_token("k", 8, sealed) is None
    assert mailing.open_token("other", 7, sealed) is None
    assert b"token-value" not in sealed


def test_a_sending_whose_process_stopped_is_resumed_by_an_admin(
    app, admin, smtp_server, monkeypatch
):
    import datetime as dt

    from survey_app import jobs

    import_people(app)
    # the process that would send it is gone: the job is never run
    monkeypatch.setattr(jobs, "defer", lambda *args, **kwargs: None)
    preview_and_send(admin)
    monkeypatch.undo()
    time.sleep(0.3)
    assert smtp_server.handler.received == []
    with app.app_context():
        sending = db.session.scalars(select(Mailing)).one()
        sending_id = sending.id
    listing = admin.get(f"/en/admin/invitations/{WAVE}/leader").get_data(as_text=True)
    assert "Resume sending" not in listing  # not silent long enough yet
    refused = admin.post(
        f"/en/admin/invitations/mailings/{sending_id}/resume",
        data={"csrf_token": csrf_token(listing)},
        follow_redirects=True,
    )
    assert "nothing to resume" in refused.get_data(as_text=True)
    with app.app_context(), db.transaction() as tx:
        tx.get(Mailing, sending_id).created_at -= dt.timedelta(minutes=10)
    listing = admin.get(f"/en/admin/invitations/{WAVE}/leader").get_data(as_text=True)
    assert "Resume sending" in listing
    assert admin.post(f"/en/admin/invitations/mailings/{sending_id}/resume").status_code == 400
    resumed = admin.post(
        f"/en/admin/invitations/mailings/{sending_id}/resume",
        data={"csrf_token": csrf_token(listing)},
    )
    assert resumed.status_code == 302
    wait_until_sent(app)
    assert len(smtp_server.handler.received) == 4
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "mail_sending_resumed" in actions


def test_a_server_that_cannot_be_reached_is_the_reason_shown(app, admin, smtp_server):
    import_people(app, PEOPLE[:2])
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        app.config["SMTP_PORT"] = probe.getsockname()[1]
    preview_and_send(admin)
    wait_until_sent(app)
    app.config["SMTP_PORT"] = smtp_server.port
    status = deliveries(app)
    assert {d.status for d in status.values()} == {"failed"}
    assert all("ConnectionRefusedError" in d.reason for d in status.values())
    listing = admin.get(f"/en/admin/invitations/{WAVE}/leader").get_data(as_text=True)
    assert "ConnectionRefusedError" in listing
    # an invitation sending later reaches those whose e-mail failed
    smtp_server.handler.received.clear()
    preview_and_send(admin)
    wait_until_sent(app)
    assert len(smtp_server.handler.received) == 2


def test_nothing_mailing_keeps_refers_to_a_response():
    """The mail tables point at invitations and invitees only, and keep no time of anything the
    invitee did (docs/security.md, E-mail invitations)."""
    from survey_app.models import Base

    tables = ["mailing", "mail_delivery", "mail_link", "mail_opt_out"]
    for name in tables:
        table = Base.metadata.tables[name]
        targets = {fk.column.table.name for fk in table.foreign_keys}
        assert targets <= {"wave", "mailing", "invitation", "invitee"}, (name, targets)
        columns = {c.name for c in table.columns}
        assert not columns & {"opened_at", "completed_at", "response_id", "clicked_at"}
