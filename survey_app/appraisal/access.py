"""Loading what an appraisal URL names and checking that the user may see it, once per view:
an officer only their own unit, an appraiser only the unit or the block they are assigned
(neither: every block), an admin everything."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from ..accounts.auth import role_required
from ..extensions import db
from ..models import AppraisalRound, Evidence, RatedUnit


def _appraisers_unit() -> RatedUnit | None:
    if current_user.role != "appraiser" or current_user.unit_id is None:
        return None
    return db.session.get(RatedUnit, current_user.unit_id)


def may_see_block(block: str) -> bool:
    """Whether the user sees the block's rounds (an appraiser of one unit: its block's, and in
    them only that unit)."""
    if current_user.role == "admin":
        return True
    if current_user.role == "appraiser":
        if current_user.unit_id is not None:
            unit = _appraisers_unit()
            return unit is not None and unit.block == block
        return current_user.block in (None, "", block)
    return False


def whole_block(block: str) -> bool:
    """Whether the user sees every unit of the block: what finalising the round and its file
    of every unit's points need."""
    return may_see_block(block) and not (
        current_user.role == "appraiser" and current_user.unit_id is not None
    )


def may_see_unit(unit: RatedUnit) -> bool:
    if current_user.role in ("officer", "appraiser") and current_user.unit_id is not None:
        return current_user.unit_id == unit.id
    return may_see_block(unit.block)


def round_view(part: str, unit: str | None = None) -> Callable:
    """A view of one round for the roles of `part`: the URL's `round_id` becomes
    `appraisal_round`. With ``unit="own"`` the officer's unit becomes `unit` (403 without one,
    404 when it is not in the round's block); with ``unit="url"`` the URL's `unit_id` does
    (404 outside the round's block, 403 outside the user's blocks or unit)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def load(*args, round_id: int, **kwargs):
            appraisal_round = db.session.get(AppraisalRound, round_id)
            if appraisal_round is None:
                abort(404)
            if unit == "own":
                found = db.session.get(RatedUnit, current_user.unit_id or 0)
                if found is None:
                    abort(403)
                if found.block != appraisal_round.block:
                    abort(404)
                kwargs["unit"] = found
            elif current_user.role == "officer":
                # an officer sees the rounds of their own unit's block only
                own = db.session.get(RatedUnit, current_user.unit_id or 0)
                if own is None or own.block != appraisal_round.block:
                    abort(404)
            elif not may_see_block(appraisal_round.block):
                abort(403)
            if unit == "url":
                found = db.session.get(RatedUnit, kwargs.pop("unit_id"))
                if found is None or found.block != appraisal_round.block:
                    abort(404)
                if not may_see_unit(found):
                    abort(403)
                kwargs["unit"] = found
            return view(*args, appraisal_round=appraisal_round, **kwargs)

        return role_required(part)(load)

    return decorate


def evidence_view(view: Callable) -> Callable:
    """The URL's `evidence_id` becomes `evidence`, for who may see its unit (404 otherwise: a
    unit is not told that another's evidence exists)."""

    @wraps(view)
    def load(*args, evidence_id: int, **kwargs):
        from ..models import AppraisalReturn, CriterionScore

        evidence = db.session.get(Evidence, evidence_id)
        if evidence is None:
            abort(404)
        score = db.session.get(CriterionScore, evidence.score_id)
        unit_return = db.session.get(AppraisalReturn, score.return_id)
        if not may_see_unit(unit_return.unit):
            abort(404)
        return view(*args, evidence=evidence, **kwargs)

    return role_required("appraisal")(load)
