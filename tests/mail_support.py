"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, and refuses the
recipients it is told to refuse with a real 550 reply; over STARTTLS or TLS from the start when
given a certificate (`Certificates`: a throwaway CA and a server certificate it signed)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Captured:
    to: list[str]
    message: email.message.EmailMessage
    at: float
    #: whether it came over TLS (STARTTLS or TLS from the start)
    encrypted: bool = False

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
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        with self.lock:
            self.received.append(
                Captured(list(envelope.rcpt_tos), message, time.monotonic(), encrypted)
            )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Captured]:
        with self.lock:
            return [c for c in self.received if address in c.to]


def _free_port() -> int:
    # aiosmtpd checks its server by connecting to the port it was given: port 0 will not do
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Certificates:
    """A CA made for one test, and a certificate it signed for 127.0.0.1 and localhost (or
    `names`), written as PEM files into `folder`."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def make(
        cls, folder: Path, name: str = "Test CA", names: list[str] | None = None
    ) -> Certificates:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        ca = (
            _builder(ca_name, ca_name, ca_key.public_key(), now)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SMTP test server")])
        if names is None:
            alt = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        else:
            alt = [x509.DNSName(name) for name in names]
        cert = (
            _builder(subject, ca_name, key.public_key(), now)
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        folder.mkdir(parents=True, exist_ok=True)
        made = cls(folder / "ca.pem", folder / "server.pem", folder / "server.key")
        made.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        made.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        made.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return made

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _builder(subject, issuer, public_key, now: dt.datetime) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


class SMTPServer:
    """`tls`: None (plain, no STARTTLS offered), "starttls" (offered, and required before
    MAIL) or "tls" (TLS from the first byte, as on port 465), with `certificates`."""

    def __init__(self, tls: str | None = None, certificates: Certificates | None = None) -> None:
        self.handler = Handler()
        self.tls = tls
        options: dict = {}
        if tls == "starttls":
            options = {"tls_context": certificates.server_context(), "require_starttls": True}
        elif tls == "tls":
            options = {"ssl_context": certificates.server_context()}
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=_free_port(), **options
        )

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
            "SMTP_SECURITY": self.tls or "none",
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


def start_worker(env: dict, output) -> subprocess.Popen:
    """A `flask worker` process in a session of its own (killed whole by the test), its output
    into `output`."""
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "survey_app", "worker"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
