"""Invitation tokens and response keys.

A personal link carries a token; the database keeps only `token_hash` of it on the invitation.
Nothing stored with a response comes from the token: the first time a link is opened, the token
is exchanged for the respondent's session, and their response is found by a key made from a
resume code drawn at random when they save their first page (docs/security.md).
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


def response_key_for_resume_code(code: str) -> str:
    return _sha256("resume:" + code)
