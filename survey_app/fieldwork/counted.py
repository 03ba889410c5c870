"""Which responses count: the one condition every count, dashboard, quota, export and weighting
input puts on `response`, so a response left out of one is left out of all of them."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from ..models import Response


def counted_condition() -> ColumnElement[bool]:
    """Responses that count: not an admin's test response."""
    return Response.test.is_(False)
