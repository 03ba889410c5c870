"""The demo appraisal round `seed-demo` adds: a block of five departments with one open round of
the departments appraisal example, three of them having submitted their self-assessment, one a
draft, one nothing yet, so a new user sees each state of the workflow. A handful of rows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AppraisalRound, RatedUnit, utcnow
from . import criteria as criteria_mod
from . import operations as ops

SCHEME = "departments_appraisal_example.yaml"
BLOCK = "departments"
#: code, name, and the share of each criterion's maximum the unit gives itself (None: nothing
#: yet); the first three submit, the fourth keeps a draft.
UNITS = [
    ("DEMO-TC", "Sở Tài chính (mẫu)", 0.9, True),
    ("DEMO-TP", "Sở Tư pháp (mẫu)", 0.8, True),
    ("DEMO-YT", "Sở Y tế (mẫu)", 0.7, True),
    ("DEMO-GD", "Sở Giáo dục và Đào tạo (mẫu)", 0.6, False),
    ("DEMO-NV", "Sở Nội vụ (mẫu)", None, False),
]
#: Written as the actor of the demo's points, as a person's e-mail would be.
ACTOR = "demo@seed-demo.invalid"


def seed_demo_round(session: Session, today: dt.datetime | None = None) -> AppraisalRound | None:
    """The demo round, or None when the block has units already (the demo's from an earlier run,
    or real ones the demo must not mix with): seeding twice adds nothing."""
    if session.scalars(select(RatedUnit.id).where(RatedUnit.block == BLOCK)).first() is not None:
        return None
    today = today or utcnow()
    if session.scalars(
        select(AppraisalRound.id).where(
            AppraisalRound.block == BLOCK, AppraisalRound.year == today.year
        )
    ).first():
        return None
    units = []
    for code, name, _share, _submit in UNITS:
        unit = RatedUnit(code=code, name=name, block=BLOCK)
        session.add(unit)
        units.append(unit)
    session.flush()
    appraisal_round = ops.open_round(
        session, today.year, BLOCK, SCHEME, today + dt.timedelta(days=30), points_step=0.25
    )
    criteria = criteria_mod.of_round(appraisal_round)
    for unit, (_code, _name, share, submit) in zip(units, UNITS, strict=True):
        if share is None:
            continue
        unit_return = ops.unit_return(session, appraisal_round, unit)
        entries = {
            c.code: ops.PointsEntry(
                _in_steps(c.max_points * share, c.step_in(appraisal_round)),
                f"Báo cáo kết quả năm {today.year - 1}, mục {c.code} (dữ liệu mẫu)",
            )
            for c in criteria
        }
        ops.save_self(session, appraisal_round, unit_return, entries, ACTOR)
        if submit:
            ops.submit(session, appraisal_round, unit_return, ACTOR)
    return appraisal_round


def _in_steps(points: float, step: float) -> float:
    """`points` rounded down to the criterion's step."""
    return round(step * int(points / step + criteria_mod.TOLERANCE), 3)
