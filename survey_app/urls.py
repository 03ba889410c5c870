"""What a request may carry: ids the database can hold, whole numbers in the query string, an
upload within its page's limit. Anything else names nothing (404), is left at its default, or is
refused before it reaches a query."""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

#: The largest id a URL may name: PostgreSQL's integer. A larger one names nothing (404) instead
#: of reaching the database as an error.
LARGEST_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a whole number the database's integer can hold."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(url_map, *args, **kwargs)


def int_arg(name: str, default: int | None = None, largest: int = LARGEST_ID) -> int | None:
    """A whole-number query parameter; `default` when absent, not a number or out of range."""
    text = request.args.get(name, "")
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > largest:
        return default
    return int(text)


def upload_fits(limit: int) -> bool:
    """Parse a POST's upload under `limit` bytes instead of the app-wide limit (a page that takes
    files allows more); False when it is larger. The page's view must be CSRF-exempt and check
    the token with its form, as Flask-WTF would parse the body under the app-wide limit first."""
    request.max_content_length = limit
    try:
        request.files  # noqa: B018 - parse the body now, under this limit
    except RequestEntityTooLarge:
        return False
    return True
