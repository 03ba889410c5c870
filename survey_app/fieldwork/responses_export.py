"""The responses of a questionnaire as a CSV: one row per complete response, one column per item.

No token, name or key leaves the database: a row carries the response number, wave, version,
language, mode (web or paper), the day it was completed and the site link it came by, then the
coded answers. Only responses that count (`fieldwork.counted`: not a test, not marked invalid)
are exported. Rows stream, so memory stays flat.
The rows are the answers as given; the CSV writer (`analysis.export`) keeps text that a
spreadsheet would run as a formula as text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.questionnaire import asked_pages, option_column, resolve

from ..models import Answer, QuestionnaireVersion, Response, SiteLink, Wave
from ..questionnaire.definition import Item
from ..questionnaire.store import definition
from .counted import counted_condition

#: `site`: the name of the site link (one-stop shop, district) the respondent came by, if any.
META_COLUMNS = [
    "response_id",
    "wave",
    "questionnaire_version",
    "language",
    "mode",
    "completed_on",
    "site",
]
#: Rows fetched from the database at a time (server-side cursors on PostgreSQL).
BATCH = 5000


def item_columns(item: Item) -> list[str]:
    if item.type == "multiple":
        return [option_column(item.code, option.key) for option in item.options]
    return [item.code]


def _versions(session: Session, code: str) -> list[QuestionnaireVersion]:
    """Every stored version of a questionnaire, the newest first."""
    return session.scalars(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.code == code)
        .order_by(QuestionnaireVersion.version.desc())
    ).all()


def columns_and_items(session: Session, code: str) -> tuple[list[str], dict[str, Item]]:
    versions = _versions(session, code)
    columns: list[str] = []
    items: dict[str, Item] = {}
    for version in versions:
        for item in definition(version).questions:
            if item.code not in items:
                items[item.code] = item
                columns.extend(item_columns(item))
    return columns, items


class _Coder:
    """Puts one item's stored answers into a row, at the item's places in the header.

    Worked out once per export: a row is a list filled by position, the coding rules looked up in
    a dict and a set, not found again for each of the millions of answers.
    """

    def __init__(self, item: Item, places: dict[str, list[int]]) -> None:
        self.multiple = item.type == "multiple"
        if self.multiple:
            self.options = [(o.key, places[option_column(item.code, o.key)]) for o in item.options]
        else:
            self.places = places[item.code]
            #: answers coded as missing ("don't know"): left empty
            self.missing = frozenset(o.key for o in item.options if o.missing)

    def put(self, row: list[str], stored: str) -> None:
        if self.multiple:
            chosen = set(stored.split(" "))
            for key, places in self.options:
                for place in places:
                    row[place] = "1" if key in chosen else "0"
        else:
            value = "" if stored in self.missing else stored
            for place in self.places:
                row[place] = value


def _answers_object(dialect: str):
    """Aggregate of a response's answers into one JSON object, item code -> stored value."""
    if dialect == "postgresql":
        return func.json_object_agg(Answer.item_code, Answer.value)
    return func.json_group_object(Answer.item_code, Answer.value)  # SQLite's JSON1


def rows(session: Session, code: str, wave_code: str | None = None) -> Iterator[list[str]]:
    """Each complete response as a list of cells in the order of `header` (empty: unanswered).

    One row a response comes from the database, its answers gathered into a JSON object by a
    subquery on the (response, item) index: 100,000 rows to read rather than 4 million.
    """
    columns, items = columns_and_items(session, code)
    places: dict[str, list[int]] = {}
    for number, column in enumerate(columns, start=len(META_COLUMNS)):
        places.setdefault(column, []).append(number)
    coders = {item_code: _Coder(item, places) for item_code, item in items.items()}
    connection = session.connection()
    answers = (
        select(_answers_object(connection.dialect.name))
        .where(Answer.response_id == Response.id)
        .scalar_subquery()
    )
    query = (
        select(
            Response.id,
            Wave.code,
            QuestionnaireVersion.version,
            Response.language,
            Response.mode,
            Response.completed_at,
            SiteLink.name,
            answers,
        )
        .join(Wave, Wave.id == Response.wave_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_version_id)
        .outerjoin(SiteLink, SiteLink.id == Response.site_link_id)
        .where(
            Response.questionnaire_code == code,
            Response.status == "complete",
            counted_condition(),
        )
        .order_by(Response.id)
    )
    if wave_code:
        query = query.where(Wave.code == wave_code)
    blank = [""] * len(columns)
    result = connection.execute(query, execution_options={"yield_per": BATCH})
    for rid, wave, version, language, mode, completed_at, site, given in result:
        day = completed_at.date().isoformat()
        row = [str(rid), wave, str(version), language, mode, day, site or "", *blank]
        if isinstance(given, str):  # SQLite gives the JSON as text
            given = json.loads(given)
        for item_code, stored in (given or {}).items():
            coder = coders.get(item_code)
            if coder is not None:
                coder.put(row, stored)
        yield row


def write_csv(session: Session, code: str, out: IO[str], wave_code: str | None = None) -> int:
    """Write the export to `out`; returns the number of responses written."""
    from analysis.export import csv_chunks as csv_chunks_of  # pandas too (see stats/chain.py)

    written = 0

    def counted() -> Iterator[list[str]]:
        nonlocal written
        for row in rows(session, code, wave_code):
            written += 1
            yield row

    for chunk in csv_chunks_of(header(session, code), counted()):
        out.write(chunk)
    return written


def every_version_definition(session: Session, code: str) -> dict[str, Any] | None:
    """The definition the export's labels and codebook come from, as plain data: the newest
    version's asked pages, then each earlier version's pages reduced to the items no newer version
    has, so a column answered only on an earlier version (the 2017-shaped SIPAS items) keeps the
    labels it was answered with. The same items, in the same order, as `columns_and_items`."""
    merged: dict[str, Any] | None = None
    seen: set[str] = set()
    for version in _versions(session, code):
        resolved = resolve(definition(version).raw)
        pages = []
        for page in asked_pages(resolved):
            items = [kept for item in page.get("items") or [] if (kept := _unseen(item, seen))]
            if items:
                pages.append({**page, "items": items})
        if merged is None:
            merged = {k: v for k, v in resolved.items() if k not in ("sections", "pages")}
            merged["pages"] = []
        merged["pages"].extend(pages)
    return merged


def _unseen(item: dict[str, Any], seen: set[str]) -> dict[str, Any] | None:
    """``item`` reduced to the questions whose codes are not in ``seen`` (which it extends)."""
    if item.get("type") == "note":
        return None
    if item.get("type") == "grid":
        rows = [row for row in item.get("rows") or [] if row["code"] not in seen]
        seen.update(row["code"] for row in rows)
        return {**item, "rows": rows} if rows else None
    if item["code"] in seen:
        return None
    seen.add(item["code"])
    return item


def header(session: Session, code: str) -> list[str]:
    """The export's columns: `META_COLUMNS`, then every item's, newest version's order first."""
    return META_COLUMNS + columns_and_items(session, code)[0]


def waves_with_responses(session: Session, code: str) -> dict[str, int]:
    """{wave code: complete responses to the questionnaire}, the waves that have any, oldest
    first: an export must not mix waves without being told to."""
    query = (
        select(Wave.code, func.count(Response.id))
        .join(Wave, Wave.id == Response.wave_id)
        .where(
            Response.questionnaire_code == code,
            Response.status == "complete",
            counted_condition(),
        )
        .group_by(Wave.id, Wave.code)
        .order_by(Wave.id)
    )
    return dict(session.execute(query).all())
