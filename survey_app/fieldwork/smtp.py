"""Handing messages to the SMTP server of the settings (SMTP_*), one connection per sending.

A refusal keeps the server's own words (code and text) as the reason shown to the admin; the
message itself, which holds a personal link, is never logged.

The connection is protected as SMTP_SECURITY says, and never less: with `starttls` a server
that does not offer STARTTLS gets no message (no fallback to clear text), and with `starttls`
or `tls` its certificate must chain to the system's CAs, or to those of SMTP_CA_FILE, and name
SMTP_HOST. Such a failure is the reason recorded on each message, worded for the admin
(`UNTRUSTED`, `NO_STARTTLS`, `TLS_FAILED`).
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

TIMEOUT = 30


#: Reasons of a refusal by this side, before any message went: the admin's page words them in
#: the reader's language, followed by the detail (after ": ") as the TLS library gave it.
UNTRUSTED = "certificate not trusted"
NO_STARTTLS = "STARTTLS not offered"
TLS_FAILED = "TLS failed"


class MailNotConfigured(RuntimeError):
    """SMTP_HOST or MAIL_SENDER is not set."""


class Refused(Exception):
    """The server did not take one message; `str()` is its reason."""


def configured(config) -> bool:
    return bool(config.get("SMTP_HOST")) and bool(config.get("MAIL_SENDER"))


class Connection:
    """An open connection to the SMTP server, as a context manager."""

    def __init__(self, config) -> None:
        if not configured(config):
            raise MailNotConfigured("SMTP_HOST and MAIL_SENDER must be set")
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Connection:
        # connected by the first message: a server that cannot be reached is then a reason
        # recorded on that message, shown to the admin, not an error in a log
        return self

    def _connect(self) -> None:
        host, port = self.config["SMTP_HOST"], int(self.config["SMTP_PORT"])
        security = self.config.get("SMTP_SECURITY", "starttls")
        context = ssl.create_default_context(cafile=self.config.get("SMTP_CA_FILE") or None)
        # a constructor that fails closes its socket itself (a TLS handshake refused included)
        if security == "tls":
            smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
        try:
            # the steps after it do not: a server without STARTTLS would leave it open
            if security == "starttls":
                try:
                    smtp.starttls(context=context)
                except smtplib.SMTPNotSupportedError:
                    # not offered: refused before anything is said in clear
                    raise Refused(NO_STARTTLS) from None
            if self.config.get("SMTP_USER"):
                smtp.login(self.config["SMTP_USER"], self.config.get("SMTP_PASSWORD") or "")
        except BaseException:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.close()
            raise
        self.smtp = smtp

    def _drop(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.close()
        self.smtp = None

    def __exit__(self, *exc) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.smtp = None

    def send(self, to: str, subject: str, body: str, headers: dict[str, str]) -> None:
        """Send one plain-text message; raises Refused with the server's reason."""
        message = EmailMessage()
        message["From"] = self.config["MAIL_SENDER"]
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=_domain(self.config["MAIL_SENDER"]))
        for key, value in headers.items():
            message[key] = value
        message.set_content(body)
        try:
            if self.smtp is None:
                self._connect()
            self.smtp.send_message(message)
        except ssl.SSLCertVerificationError as exc:
            self.smtp = None
            raise Refused(f"{UNTRUSTED}: {exc.verify_message or exc}"[:500]) from None
        except ssl.SSLError as exc:
            self.smtp = None
            raise Refused(f"{TLS_FAILED}: {exc.reason or exc}"[:500]) from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise Refused(_reason(code, text)) from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500 or exc.smtp_code < 400:
                self._drop()  # e.g. a refused login: the session cannot be trusted further
            raise Refused(_reason(exc.smtp_code, exc.smtp_error)) from None
        except (smtplib.SMTPException, OSError) as exc:
            # the connection is gone (or never came), or the server cannot do what this message
            # needs (SMTPUTF8 for an address, AUTH for the login): the next message tries a new one
            self._drop()
            raise Refused(_reason_of(exc)) from None


def _reason_of(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:500]


def _reason(code: int, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()[:500]


def _domain(sender: str) -> str | None:
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rsplit("@", 1)[-1] if "@" in address else None
