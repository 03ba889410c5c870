"""Personal links kept for one download: the page that imports invitees hands the links file
over once, to the admin who imported it, within an hour.

Kept in the database (`storage`), so that the download works whichever host it reaches, and
encrypted there (Fernet: AES-128-CBC with an HMAC-SHA256) under a key derived from SECRET_KEY,
which the database never holds: a dump taken in that hour shows no link, and the database still
keeps, in clear, only each token's hash. Fernet's own timestamp ends the file after the hour
even if no sweep has removed it.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete
from sqlalchemy.orm import Session

from .. import storage
from ..models import StoredFile, utcnow

#: How long a links file waits for its one download.
LINKS_LIFETIME = dt.timedelta(hours=1)

LINKS_ID_SHAPE = re.compile(r"^[0-9a-f]{32}$")
FOLDER = "links/"


def _fernet(secret_key: str) -> Fernet:
    """A key of its own for the links, derived from SECRET_KEY (which signs sessions too)."""
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"par-survey invitation links"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _key(owner_id: int, links_id: str) -> str:
    # the owner is in the key: another admin asking for the id finds nothing and takes nothing
    return f"{FOLDER}{owner_id}/{links_id}"


def keep_links(session: Session, secret_key: str, owner_id: int, data: bytes, meta: dict) -> str:
    """Keep a links CSV for one download by its owner within LINKS_LIFETIME, in the caller's
    transaction (so it exists only if the import is committed); returns its id."""
    sweep_links(session)
    links_id = secrets.token_hex(16)  # 128 bits: the id cannot be guessed
    record = {"meta": meta, "csv": base64.b64encode(data).decode("ascii")}
    sealed = _fernet(secret_key).encrypt(json.dumps(record).encode())
    storage.put(session, _key(owner_id, links_id), sealed)
    return links_id


def take_links(
    session: Session, secret_key: str, links_id: str, owner_id: int
) -> tuple[bytes, dict] | None:
    """The links CSV and its details, removed as they are read (in the caller's transaction);
    None when the id is unknown, expired, taken already or not this user's. Two requests at
    once: one gets it (the delete is the claim)."""
    if not LINKS_ID_SHAPE.match(links_id or ""):
        return None
    sealed = storage.take(session, _key(owner_id, links_id))
    if sealed is None:
        return None
    try:
        ttl = int(LINKS_LIFETIME.total_seconds())
        record = json.loads(_fernet(secret_key).decrypt(sealed, ttl=ttl))
    except InvalidToken:  # past its hour, or sealed under another SECRET_KEY
        return None
    return base64.b64decode(record["csv"]), record["meta"]


def sweep_links(session: Session, now: dt.datetime | None = None) -> int:
    """Delete every links file older than LINKS_LIFETIME; returns how many."""
    cutoff = (now or utcnow()) - LINKS_LIFETIME
    result = session.execute(
        delete(StoredFile).where(
            StoredFile.key.startswith(FOLDER, autoescape=True), StoredFile.created_at < cutoff
        )
    )
    return result.rowcount
