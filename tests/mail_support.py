"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, and refuses the
recipients it is told to refuse with a real 550 reply."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


@dataclass
class Captured:
    to: list[str]
    message: email.message.EmailMessage
    at: float

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return self.message.get_content()


@dataclass
class Handler:
    refuse: set[str] = field(default_factory=set)
    received: list[Captured] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append(Captured(list(envelope.rcpt_tos), message, time.monotonic()))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Captured]:
        with self.lock:
            return [c for c in self.received if address in c.to]


def _free_port() -> int:
    # aiosmtpd checks its server by connecting to the port it was given: port 0 will not do
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPServer:
    def __init__(self) -> None:
        self.handler = Handler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=_free_port())

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port

    def settings(self) -> dict:
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": self.port,
            "SMTP_SECURITY": "none",
            "MAIL_SENDER": "Khảo sát PAR <khaosat@sonoivu.example.vn>",
        }


def wait_for(condition, timeout: float = 60.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.05)


def queue_sending(app, wave_code: str, addresses: list[str], per_minute: int = 600) -> int:
    """Import an invitee of the `leader` questionnaire per address and write an invitation
    sending to them, its job deferred as the app's RUN_QUEUE says; returns its id."""
    from survey_app.extensions import db
    from survey_app.fieldwork import invitations, invitee_file, mailing

    lines = ["name,group,agency,unit,email,phone"]
    lines += [f"Người {i},leader,Sở {i},,{address}," for i, address in enumerate(addresses)]
    with app.test_request_context(), db.transaction() as tx:
        wave = invitations.invitation_wave(tx, wave_code, "leader")
        rows = invitee_file.read_invitee_file(("\n".join(lines) + "\n").encode(), "x.csv")
        invitations.import_invitees(tx, wave, "leader", rows, "https://x.vn", "vi", "x.csv")
        sending = mailing.create_mailing(
            tx,
            wave=wave,
            questionnaire_code="leader",
            kind="invitation",
            language="en",
            subject={"en": "Survey {survey}"},
            body={"en": "Dear {name}: {link} {optout}"},
            per_minute=per_minute,
            base_url="https://khaosat.example.vn",
            secret_key=app.config["SECRET_KEY"],
        )
        return sending.id
