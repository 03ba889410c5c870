"""Invitation tokens and the keys derived from them.

A personal link carries a token; the database keeps only `token_hash` of it on the invitation,
and a response is found by a different key, so the two tables share no value. Resume codes
(`respond.services`) are turned into response keys here too.
"""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """A personal link's token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def token_hash(token: str) -> str:
    return _sha256("invitation:" + token)


def response_key_for_token(token: str) -> str:
    # A different hash of the same token: the invitation and response tables share no value.
    return _sha256("response:" + token)


def response_key_for_resume_code(code: str) -> str:
    return _sha256("resume:" + code)
