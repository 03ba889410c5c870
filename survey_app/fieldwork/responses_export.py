"""The responses of a questionnaire as a CSV: one row per complete response, one column per item.

No token, name or key leaves the database: a row carries the response number, wave, version,
language and the day it was completed, then the coded answers. Rows stream, so memory stays flat.
The rows are the answers as given; the CSV writer (`analysis.export`) keeps text that a
spreadsheet would run as a formula as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.export import csv_chunks as csv_chunks_of
from analysis.questionnaire import option_column

from ..models import Answer, QuestionnaireVersion, Response, Wave
from ..questionnaire.definition import Item
from ..questionnaire.store import definition

META_COLUMNS = ["response_id", "wave", "questionnaire_version", "language", "completed_on"]


def item_columns(item: Item) -> list[str]:
    if item.type == "multiple":
        return [option_column(item.code, option.key) for option in item.options]
    return [item.code]


def coded(item: Item, stored: str) -> dict[str, str]:
    """The export cells of one stored answer; an answer coded as missing is left empty."""
    if item.type == "multiple":
        chosen = set(stored.split(" "))
        return {
            option_column(item.code, o.key): "1" if o.key in chosen else "0" for o in item.options
        }
    option = item.option(stored) if item.options else None
    if option is not None and option.missing:
        return {item.code: ""}
    return {item.code: stored}


def columns_and_items(session: Session, code: str) -> tuple[list[str], dict[str, Item]]:
    versions = session.scalars(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.code == code)
        .order_by(QuestionnaireVersion.version.desc())
    ).all()
    columns: list[str] = []
    items: dict[str, Item] = {}
    for version in versions:
        for item in definition(version).questions:
            if item.code not in items:
                items[item.code] = item
                columns.extend(item_columns(item))
    return columns, items


def rows(session: Session, code: str, wave_code: str | None = None) -> Iterator[dict[str, str]]:
    _columns, items = columns_and_items(session, code)
    query = (
        select(
            Response.id,
            Wave.code,
            QuestionnaireVersion.version,
            Response.language,
            Response.completed_at,
            Answer.item_code,
            Answer.value,
        )
        .join(Wave, Wave.id == Response.wave_id)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Response.questionnaire_version_id)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .where(Response.questionnaire_code == code, Response.status == "complete")
        .order_by(Response.id)
    )
    if wave_code:
        query = query.where(Wave.code == wave_code)
    current: dict[str, str] | None = None
    current_id = None
    for rid, wave, version, language, completed_at, item_code, value in session.execute(
        query.execution_options(yield_per=5000)
    ):
        if rid != current_id:
            if current is not None:
                yield current
            current_id = rid
            current = {
                "response_id": str(rid),
                "wave": wave,
                "questionnaire_version": str(version),
                "language": language,
                "completed_on": completed_at.date().isoformat(),
            }
        item = items.get(item_code) if item_code else None
        if item is not None:
            current.update(coded(item, value))
    if current is not None:
        yield current


def write_csv(session: Session, code: str, out: IO[str], wave_code: str | None = None) -> int:
    """Write the export to `out`; returns the number of responses written."""
    header = META_COLUMNS + columns_and_items(session, code)[0]
    written = 0

    def counted() -> Iterator[list[str]]:
        nonlocal written
        for record in rows(session, code, wave_code):
            written += 1
            yield [record.get(c, "") for c in header]

    for chunk in csv_chunks_of(header, counted()):
        out.write(chunk)
    return written
