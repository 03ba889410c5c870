"""Loading what an appraisal URL names and checking that the user may see it, once per view:
an officer only their own unit, an appraiser only the units and blocks of their set (none:
every block), an admin everything."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import role_required
from ..extensions import db
from ..models import AppraisalRound, AppraiserScope, Evidence, RatedUnit


@dataclass(frozen=True)
class Scope:
    """What an appraiser re-scores: whole blocks, and single units (id -> the unit's block)."""

    blocks: frozenset[str]
    units: dict[int, str]

    @property
    def everything(self) -> bool:
        return not self.blocks and not self.units

    def sees_block(self, block: str) -> bool:
        return self.everything or block in self.blocks or block in self.units.values()

    def has_whole_block(self, block: str) -> bool:
        return self.everything or block in self.blocks

    def sees_unit(self, unit: RatedUnit) -> bool:
        return self.everything or unit.block in self.blocks or unit.id in self.units


def scope_of(session: Session, user_id: int) -> Scope:
    rows = session.execute(
        select(AppraiserScope.block, RatedUnit.id, RatedUnit.block)
        .outerjoin(RatedUnit, RatedUnit.id == AppraiserScope.unit_id)
        .where(AppraiserScope.user_id == user_id)
    )
    blocks, units = set(), {}
    for block, unit_id, unit_block in rows:
        if block is not None:
            blocks.add(block)
        elif unit_id is not None:
            units[unit_id] = unit_block
    return Scope(frozenset(blocks), units)


def scopes(session: Session) -> dict[int, tuple[list[str], list[RatedUnit]]]:
    """Every appraiser's blocks and units, by user id, for the users page."""
    found: dict[int, tuple[list[str], list[RatedUnit]]] = {}
    rows = session.execute(
        select(AppraiserScope, RatedUnit)
        .outerjoin(RatedUnit, RatedUnit.id == AppraiserScope.unit_id)
        .order_by(AppraiserScope.block, RatedUnit.block, RatedUnit.code)
    )
    for scope, unit in rows:
        blocks, units = found.setdefault(scope.user_id, ([], []))
        if scope.block is not None:
            blocks.append(scope.block)
        elif unit is not None:
            units.append(unit)
    return found


def _own_scope() -> Scope:
    # read once per request: a page asks for every unit of its block
    if getattr(g, "_appraiser_scope", None) is None:
        g._appraiser_scope = scope_of(db.session, current_user.id)
    return g._appraiser_scope


def may_see_block(block: str) -> bool:
    """Whether the user sees the block's rounds (an appraiser of single units of it: its
    rounds, and in them only those units)."""
    if current_user.role == "admin":
        return True
    if current_user.role == "appraiser":
        return _own_scope().sees_block(block)
    return False


def whole_block(block: str) -> bool:
    """Whether the user sees every unit of the block: what finalising the round and its file
    of every unit's points need."""
    if current_user.role == "appraiser":
        return _own_scope().has_whole_block(block)
    return current_user.role == "admin"


def may_see_unit(unit: RatedUnit) -> bool:
    if current_user.role == "officer":
        return current_user.unit_id == unit.id
    if current_user.role == "appraiser":
        return _own_scope().sees_unit(unit)
    return current_user.role == "admin"


def round_view(part: str, unit: str | None = None) -> Callable:
    """A view of one round for the roles of `part`: the URL's `round_id` becomes
    `appraisal_round`. With ``unit="own"`` the officer's unit becomes `unit` (403 without one,
    404 when it is not in the round's block); with ``unit="url"`` the URL's `unit_id` does
    (404 outside the round's block, 403 outside the user's set)."""

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
