"""The Content-Disposition header of a download, right for any file name (RFC 6266).

Names come from what people typed (an evidence file's name, a round's block, a wave's code) and are
often Vietnamese. The header gives the exact name percent-encoded as UTF-8 in ``filename*`` (RFC
5987), which browsers prefer, and an ASCII ``filename`` for the clients that know no other: the
name without its accents, Đ as D, with no quote, backslash or control character, which a client
could read as the end of the name or of the header. Built as `flask.send_file` builds it, with
Werkzeug's quoting; send_file itself needs the whole body as a file. `download` is the response
every view that hands out a file returns.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Response
from werkzeug.http import quote_header_value

#: RFC 5987's attr-char besides letters and digits: what filename* keeps as it is (send_file's set)
_ATTR_CHARS = "!#$&+-.^_`|~"
#: Letters that NFKD does not take apart into a plain letter and its marks
_PLAIN_LETTERS = str.maketrans({"Đ": "D", "đ": "d"})


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """The header's value: `disposition` ("attachment", or "inline" for a page to show) with the
    file's name in both forms."""
    name = "".join(ch for ch in filename if ch.isprintable())
    return "; ".join(
        [
            disposition,
            "filename=" + quote_header_value(_ascii_name(name), allow_token=False),
            "filename*=UTF-8''" + quote(name, safe=_ATTR_CHARS),
        ]
    )


def download(
    body,
    filename: str,
    mimetype: str,
    *,
    disposition: str = "attachment",
    headers: dict[str, str] | None = None,
) -> Response:
    """A response that is a file: `body` (bytes, text, or an iterable of them, streamed) under
    `filename`, with any other `headers`."""
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": content_disposition(filename, disposition),
            **(headers or {}),
        },
    )


def _ascii_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.translate(_PLAIN_LETTERS))
    plain = "".join(ch for ch in decomposed if ch.isascii() and ch not in '"\\')
    stem, dot, extension = plain.rpartition(".")
    if dot and not stem.strip():
        return "download." + extension  # no letter of the name was ASCII: not a hidden ".pdf"
    return plain if plain.strip(" .") else "download"
