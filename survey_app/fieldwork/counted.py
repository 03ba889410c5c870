"""Which responses count: one condition, used wherever responses are counted or exported
(quota counts, the dashboard and its frequencies, the responses export and so the weighting
runs' inputs). A response an admin marked invalid counts nowhere until it is restored."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from ..models import Response


def counted_condition() -> ColumnElement[bool]:
    """The SQL condition a counted response meets (combine it with the status wanted)."""
    return Response.invalidated_at.is_(None)
