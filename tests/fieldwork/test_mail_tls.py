"""E-mail over TLS against real aiosmtpd servers with a certificate made for the test: STARTTLS
and TLS from the start reach the server encrypted when its CA is trusted (SMTP_CA_FILE); a
certificate the client does not trust, or a server that does not offer STARTTLS when it is
required, gets no message, and the admin reads why on the invitations page."""

from __future__ import annotations

import pytest
from app_support import make_app, reset_database
from auth_support import AuthActions
from mail_support import Certificates, SMTPServer, queue_sending, wait_for
from sqlalchemy import select

from survey_app import config
from survey_app.extensions import db
from survey_app.models import MailDelivery, Mailing

WAVE = f"wave-{__import__('datetime').date.today().year}"
ADDRESSES = ["nhung@hatinh.example.vn", "duc@hatinh.example.vn"]


@pytest.fixture
def certificates(tmp_path) -> Certificates:
    return Certificates.make(tmp_path / "trusted")


def mail_app(database_url, server: SMTPServer, **settings):
    app = make_app(database_url, RUN_QUEUE="in-process", **{**server.settings(), **settings})
    reset_database(app)
    return app


def send_and_wait(app) -> list[MailDelivery]:
    mailing_id = queue_sending(app, WAVE, ADDRESSES)

    def done() -> bool:
        with app.app_context():
            status = db.session.get(Mailing, mailing_id).status
            db.session.remove()
        return status == "done"

    wait_for(done, what="the sending")
    with app.app_context():
        rows = db.session.scalars(
            select(MailDelivery).where(MailDelivery.mailing_id == mailing_id)
        ).all()
        db.session.expunge_all()
    return rows


def listing(app) -> str:
    """The invitations page as an admin sees it."""
    client = app.test_client()
    AuthActions(client).login("admin")
    page = client.get(f"/en/admin/invitations/{WAVE}/leader")
    assert page.status_code == 200
    return page.get_data(as_text=True)


@pytest.mark.parametrize("tls", ["starttls", "tls"])
def test_a_server_whose_ca_is_trusted_gets_the_mail_encrypted(database_url, certificates, tls):
    with SMTPServer(tls, certificates) as server:
        app = mail_app(database_url, server, SMTP_CA_FILE=str(certificates.ca_file))
        deliveries = send_and_wait(app)
    assert [d.status for d in deliveries] == ["sent", "sent"]
    assert sorted(c.to[0] for c in server.handler.received) == sorted(ADDRESSES)
    assert all(c.encrypted for c in server.handler.received)


@pytest.mark.parametrize("tls", ["starttls", "tls"])
@pytest.mark.parametrize("trust", ["another CA", "the system's CAs", "another name"])
def test_a_certificate_not_trusted_gets_no_mail_and_the_admin_reads_why(
    database_url, tmp_path, certificates, tls, trust
):
    served = certificates
    settings = {"SMTP_CA_FILE": str(Certificates.make(tmp_path / "other", "Other CA").ca_file)}
    if trust == "the system's CAs":
        settings = {}
    elif trust == "another name":  # the right CA, but the certificate names another host
        served = Certificates.make(tmp_path / "named", names=["mail.example.vn"])
        settings = {"SMTP_CA_FILE": str(served.ca_file)}
    with SMTPServer(tls, served) as server:
        app = mail_app(database_url, server, **settings)
        deliveries = send_and_wait(app)
        html = listing(app)
    assert server.handler.received == []
    assert {d.status for d in deliveries} == {"failed"}
    assert all(d.reason.startswith("certificate not trusted: ") for d in deliveries)
    assert html.count("the mail server&#39;s certificate is not trusted") == len(ADDRESSES)
    assert "SMTP_CA_FILE" in html


def test_starttls_required_and_not_offered_sends_nothing_in_clear(database_url):
    with SMTPServer() as server:  # plain SMTP: no STARTTLS in its EHLO
        app = mail_app(database_url, server, SMTP_SECURITY="starttls")
        deliveries = send_and_wait(app)
        html = listing(app)
    assert server.handler.received == []
    assert [(d.status, d.reason) for d in deliveries] == [("failed", "STARTTLS not offered")] * 2
    assert html.count("does not offer STARTTLS, so nothing was sent in clear text") == 2


def test_a_login_to_a_server_without_auth_is_not_taken_for_missing_starttls(database_url):
    """smtplib raises the same error class for a missing AUTH as for a missing STARTTLS: the
    reason recorded must name what is missing."""
    with SMTPServer() as server:  # plain: it offers AUTH only over TLS, so not here
        app = mail_app(database_url, server, SMTP_USER="mailer", SMTP_PASSWORD="secret")
        deliveries = send_and_wait(app)
    assert server.handler.received == []
    assert all(d.status == "failed" for d in deliveries)
    assert all("AUTH" in d.reason and "STARTTLS" not in d.reason for d in deliveries), [
        d.reason for d in deliveries
    ]


def test_a_plain_client_cannot_skip_a_servers_required_starttls(database_url, certificates):
    """The test server itself refuses mail before STARTTLS (what the tests above rely on)."""
    with SMTPServer("starttls", certificates) as server:
        app = mail_app(database_url, server, SMTP_SECURITY="none")
        deliveries = send_and_wait(app)
    assert server.handler.received == []
    assert all(d.status == "failed" and "STARTTLS" in d.reason for d in deliveries)


def test_an_unreadable_ca_file_is_refused_at_start_up(tmp_path):
    with pytest.raises(FileNotFoundError):
        config.from_environment({"SMTP_CA_FILE": str(tmp_path / "missing.pem")})
    ca = Certificates.make(tmp_path).ca_file
    assert config.from_environment({"SMTP_CA_FILE": str(ca)})["SMTP_CA_FILE"] == str(ca)
    assert config.from_environment({})["SMTP_CA_FILE"] == ""
