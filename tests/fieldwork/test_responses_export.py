"""The responses export, for every questionnaire, against the rules it promises, read from the
database by plain ORM queries: one row per complete response, one column per item, "don't know"
left empty, multiple choice as 0/1 per option (empty when unanswered), no unfinished response,
only the wave asked for, and text a spreadsheet would run kept as text in the CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import select

from survey_app.commands.demo_data import demo_wave, seed_demo
from survey_app.extensions import db
from survey_app.fieldwork.responses_export import header, rows, write_csv
from survey_app.models import Answer, QuestionnaireVersion, Response, SiteLink, Wave
from survey_app.questionnaire.store import definition, latest_versions

CODES = ("citizen", "leader", "delegate")
FORMULA = '=HYPERLINK("http://example.org","x")'


def _add(session, wave, version, status: str, answers: dict[str, str], key: str) -> None:
    now = dt.datetime(2026, 11, 30, 8, 0)
    response = Response(
        wave_id=wave.id,
        questionnaire_code=version.code,
        questionnaire_version_id=version.id,
        key_hash=key.ljust(64, "0"),
        status=status,
        language="en",
        started_at=now,
        updated_at=now,
        completed_at=now if status == "complete" else None,
    )
    session.add(response)
    session.flush()
    session.add_all(
        Answer(response_id=response.id, item_code=c, value=v) for c, v in answers.items()
    )


def _expected(session, code: str, wave_code: str | None) -> list[list[str]]:
    """The export by its rules, one response and one answer at a time."""
    items = {}
    for version in session.scalars(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.code == code)
        .order_by(QuestionnaireVersion.version.desc())
    ):
        for item in definition(version).questions:
            items.setdefault(item.code, item)
    columns = header(session, code)
    out = []
    for response in session.scalars(
        select(Response)
        .where(
            Response.questionnaire_code == code,
            Response.status == "complete",
            Response.invalidated_at.is_(None),
            Response.test.is_(False),  # an admin's tries are never exported
        )
        .order_by(Response.id)
    ):
        wave = session.get(Wave, response.wave_id)
        if wave_code and wave.code != wave_code:
            continue
        cells = {
            "response_id": str(response.id),
            "wave": wave.code,
            "questionnaire_version": str(response.version.version),
            "language": response.language,
            "mode": response.mode,
            "completed_on": response.completed_at.date().isoformat(),
            "site": session.get(SiteLink, response.site_link_id).name
            if response.site_link_id
            else "",
        }
        for answer in session.scalars(select(Answer).where(Answer.response_id == response.id)):
            item = items.get(answer.item_code)
            if item is None:
                continue
            if item.type == "multiple":
                chosen = answer.value.split(" ")
                for option in item.options:
                    cells[f"{item.code}__{option.key}"] = "1" if option.key in chosen else "0"
            elif any(o.missing and o.key == answer.value for o in item.options):
                cells[item.code] = ""
            else:
                cells[item.code] = answer.value
        out.append([cells.get(c, "") for c in columns])
    return out


def test_every_questionnaire_exports_each_complete_response_by_the_rules(app):
    with app.app_context(), db.transaction() as tx:
        seed_demo(tx, 80, seed=4)
        versions = latest_versions(tx)
        wave = demo_wave(tx)
        other = tx.scalars(select(Wave).where(Wave.code != "demo")).one()  # init-db's wave
        citizen = versions["citizen"]
        # a formula in a text answer, "don't know", a multiple choice of two, an item no
        # questionnaire has any more; an unfinished response; a response of another wave
        _add(
            tx,
            wave,
            citizen,
            "complete",
            {"service_name": FORMULA, "district": "hong_linh", "fb_channel": "in_person box"},
            "a1",
        )
        _add(tx, wave, citizen, "complete", {"acc_signs": "9", "gone_item": "3"}, "a2")
        _add(tx, wave, citizen, "in_progress", {"service_name": "unfinished"}, "a3")
        _add(tx, other, citizen, "complete", {"service_name": "elsewhere"}, "a4")
    with app.app_context():
        session = db.session
        for code in CODES:
            expected = _expected(session, code, None)
            assert list(rows(session, code)) == expected, code
            assert len(expected) == {"citizen": 83, "leader": 20, "delegate": 8}[code]
        in_wave = list(rows(session, "citizen", "demo"))
        assert in_wave == _expected(session, "citizen", "demo") and len(in_wave) == 82
        columns = header(session, "citizen")
        mine = {row[columns.index("district")]: row for row in in_wave[-2:]}
        assert mine["hong_linh"][columns.index("fb_channel__in_person")] == "1"
        assert mine["hong_linh"][columns.index("fb_channel__box")] == "1"
        assert mine[""][columns.index("acc_signs")] == ""  # don't know
        assert mine[""][columns.index("fb_channel__box")] == ""  # unanswered
        assert "gone_item" not in columns
        out = io.StringIO()
        assert write_csv(session, "citizen", out) == 83
    written = list(csv.reader(io.StringIO(out.getvalue())))
    assert written[0] == columns
    guarded = [r[columns.index("service_name")] for r in written[1:]]
    assert "'" + FORMULA in guarded and FORMULA not in guarded
    assert "unfinished" not in out.getvalue()
