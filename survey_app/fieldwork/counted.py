"""Which responses count: the one condition every count, dashboard, quota, export and weighting
input puts on `response`, so a response left out of one is left out of all of them. An admin's
test response counts nowhere, ever; a response an admin marked invalid counts nowhere until it
is restored."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from ..models import Response


def real_condition() -> ColumnElement[bool]:
    """Not an admin's test response: what the status counts of a wave may show at all."""
    return Response.test.is_(False)


def counted_condition() -> ColumnElement[bool]:
    """The SQL condition a counted response meets (combine it with the status wanted): real,
    and not marked invalid."""
    return and_(real_condition(), Response.invalidated_at.is_(None))
