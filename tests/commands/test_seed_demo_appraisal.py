"""`seed-demo` adds a demo appraisal round once (SQLite and PostgreSQL): a block of five units,
one open round, three self-assessments submitted and one draft, seen on the admin's pages; a
second seeding, with or without --if-empty, adds no round and no unit."""

from __future__ import annotations

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AppraisalReturn, AppraisalRound, AuditEvent, RatedUnit, Response


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(AppraisalRound.id))),
            db.session.scalar(select(func.count(RatedUnit.id))),
            db.session.scalar(select(func.count(AppraisalReturn.id))),
        )


def test_seed_demo_opens_a_demo_round_once(app, runner, client, auth):
    result = runner.invoke(args=["seed-demo", "--responses", "5", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Demo appraisal round" in result.output or "thẩm định mẫu" in result.output
    with app.app_context():
        appraisal_round = db.session.scalars(select(AppraisalRound)).one()
        round_id = appraisal_round.id
        assert (appraisal_round.status, appraisal_round.block) == ("open", "departments")
        returns = db.session.scalars(select(AppraisalReturn)).all()
        assert sum(r.submitted_at is not None for r in returns) == 3 and len(returns) == 4
        assert (
            db.session.scalar(
                select(func.count(AuditEvent.id)).where(AuditEvent.action == "appraisal_submitted")
            )
            == 3
        )
    assert _counts(app) == (1, 5, 4)

    auth.login("admin")
    page = client.get(f"/en/appraisal/rounds/{round_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Sở Tài chính (mẫu)" in text and "Sở Nội vụ (mẫu)" in text
    assert text.count("<td>yes</td>") == 3  # submitted; none appraised or answered yet
    assert f"/rounds/{round_id}" in client.get("/en/appraisal/").get_data(as_text=True)

    before = _counts(app)  # the page made the fifth unit's (empty) return
    again = runner.invoke(args=["seed-demo", "--responses", "5", "--if-empty"])
    assert again.exit_code == 0 and "Demo appraisal round" not in again.output
    more = runner.invoke(args=["seed-demo", "--responses", "5"])
    assert more.exit_code == 0 and "Demo appraisal round" not in more.output
    assert _counts(app) == before == (1, 5, 5)
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(Response.id)).where(Response.questionnaire_code == "citizen")
            )
            == 10
        )


def test_no_demo_round_beside_real_units_of_the_block(app, runner):
    with app.app_context(), db.transaction() as tx:
        tx.add(RatedUnit(code="SNV", name="Sở Nội vụ", block="departments"))
    result = runner.invoke(args=["seed-demo", "--responses", "5"])
    assert result.exit_code == 0, result.output
    assert _counts(app) == (0, 1, 0)
