"""What people do in an appraisal, each in the caller's transaction, each change of points kept in
its history and each step in the audit log: open a round, self-assess, submit, add evidence,
appraise, publish, answer, finalise, reopen; delete a round nothing was submitted to."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .. import storage
from ..accounts import audit
from ..models import (
    AppraisalReturn,
    AppraisalRound,
    CriterionScore,
    Evidence,
    PointChange,
    RatedUnit,
    utcnow,
)
from . import criteria as criteria_mod
from .evidence_file import check_evidence


class AppraisalRefused(ValueError):
    """The step cannot be taken now or with these values; the message says why."""


@dataclass
class PointsEntry:
    """What a form gives for one criterion: points (None: not given yet) and a text."""

    points: float | None
    text: str


# ---------------------------------------------------------------------------------------------
# Rounds and units


def open_round(
    session: Session,
    year: int,
    block: str,
    scheme: str,
    self_deadline: dt.datetime,
    points_step: float = 0.25,
) -> AppraisalRound:
    """A round for the block's units, against the scheme's appraisal criteria; logged."""
    loaded = criteria_mod.load(scheme)
    if loaded.block(block) is None:
        raise AppraisalRefused(
            _(
                "The scheme %(scheme)s has no block %(block)s; its blocks are %(blocks)s.",
                scheme=scheme,
                block=block,
                blocks=", ".join(b.code for b in loaded.blocks),
            )
        )
    if not loaded.has_appraisal:
        raise AppraisalRefused(_("The scheme %(scheme)s has no appraisal criteria.", scheme=scheme))
    taken = session.scalars(
        select(AppraisalRound).where(AppraisalRound.year == year, AppraisalRound.block == block)
    ).first()
    if taken is not None:
        raise AppraisalRefused(
            _("The block %(block)s has a round for %(year)s already.", block=block, year=year)
        )
    appraisal_round = AppraisalRound(
        year=year,
        block=block,
        scheme=criteria_mod.scheme_path(scheme).name,
        self_deadline=self_deadline,
        points_step=points_step,
    )
    session.add(appraisal_round)
    session.flush()
    audit.record(
        session,
        "appraisal_round_opened",
        {"round": appraisal_round.id, "year": year, "block": block, "scheme": scheme},
    )
    return appraisal_round


@dataclass
class RoundContents:
    """What deleting a round removes with it."""

    #: units with a draft (points, an explanation or evidence) or the council's points
    units: int
    evidence_files: int
    evidence_links: int
    council_points: int


def round_contents(session: Session, appraisal_round: AppraisalRound) -> RoundContents:
    in_round = select(AppraisalReturn.id).where(AppraisalReturn.round_id == appraisal_round.id)
    scores_in = select(CriterionScore.id).where(CriterionScore.return_id.in_(in_round))
    started = select(CriterionScore.return_id).where(
        CriterionScore.return_id.in_(in_round),
        (CriterionScore.self_points.is_not(None))
        | (CriterionScore.explanation.is_not(None))
        | (CriterionScore.appraised_points.is_not(None))
        | CriterionScore.id.in_(select(Evidence.score_id)),
    )

    def count(query) -> int:
        return session.scalar(select(func.count()).select_from(query.subquery())) or 0

    evidence = select(Evidence.id).where(Evidence.score_id.in_(scores_in))
    return RoundContents(
        units=count(started.distinct()),
        evidence_files=count(evidence.where(Evidence.file_key.is_not(None))),
        evidence_links=count(evidence.where(Evidence.url.is_not(None))),
        council_points=count(
            select(CriterionScore.id).where(
                CriterionScore.return_id.in_(in_round),
                CriterionScore.appraised_points.is_not(None),
            )
        ),
    )


def why_not_deletable(
    session: Session, appraisal_round: AppraisalRound, lock: bool = False
) -> str | None:
    """Why the round cannot be deleted now, or None: only a round nothing was submitted to, that
    was never published (no unit has seen the council's points, none has answered). With
    `lock`, the units' returns are held until the caller's transaction ends."""
    if appraisal_round.status == "final":
        return _("The round is final: it cannot be deleted. Reopen it if its points must change.")
    if appraisal_round.status == "published":
        return _("The round is published to the units: it cannot be deleted.")
    if appraisal_round.reopened_at is not None:
        return _("The round was published or final before it was reopened: it cannot be deleted.")
    query = select(AppraisalReturn.submitted_at).where(
        AppraisalReturn.round_id == appraisal_round.id
    )
    # every return locked: an officer submitting now waits for the deletion, then finds no round
    found = session.scalars(query.with_for_update() if lock else query).all()
    submitted = [at for at in found if at is not None]
    if submitted:
        return ngettext(
            "%(num)d unit has submitted its self-assessment: the round cannot be deleted.",
            "%(num)d units have submitted their self-assessment: the round cannot be deleted.",
            len(submitted),
        )
    return None


def delete_round(session: Session, appraisal_round: AppraisalRound) -> RoundContents:
    """Delete a round nothing was submitted to, with its drafts, the council's points, the point
    history and the evidence files, all in the caller's transaction; logged."""
    session.refresh(appraisal_round, with_for_update=True)  # as it is now, held until the end
    reason = why_not_deletable(session, appraisal_round, lock=True)
    if reason is not None:
        raise AppraisalRefused(reason)
    contents = round_contents(session, appraisal_round)
    # returns, scores, their history and evidence rows go by ON DELETE CASCADE. First: an
    # evidence row an officer is adding now holds its return until it commits, so the cascade
    # waits for it and takes it too, and the files read after it include its file.
    session.execute(delete(AppraisalRound).where(AppraisalRound.id == appraisal_round.id))
    # every evidence file of the round is under its folder (`add_evidence`)
    files = storage.remove(session, f"appraisal/{appraisal_round.id}/")
    details = {
        "round": appraisal_round.id,
        "year": appraisal_round.year,
        "block": appraisal_round.block,
        "scheme": appraisal_round.scheme,
        "units": contents.units,
        "evidence_files": files,
        "evidence_links": contents.evidence_links,
        "council_points": contents.council_points,
    }
    audit.record(session, "appraisal_round_deleted", details)
    return contents


def reopen(session: Session, appraisal_round: AppraisalRound, reason: str) -> None:
    """Bring a published or final round back to appraisal: the council's points may change
    again (each change kept in the history, which stays), the results wait for it to be final
    again. Logged with the reason."""
    session.refresh(appraisal_round, with_for_update=True)
    if appraisal_round.status == "open":
        raise AppraisalRefused(
            _("The round is open for appraisal already: there is nothing to reopen.")
        )
    reason = reason.strip()
    if not reason:
        raise AppraisalRefused(_("Say why the round is reopened."))
    before = appraisal_round.status
    appraisal_round.status = "open"
    appraisal_round.finalised_at = None
    appraisal_round.reopened_at = utcnow()
    appraisal_round.reopen_reason = reason
    audit.record(
        session,
        "appraisal_round_reopened",
        {
            "round": appraisal_round.id,
            "year": appraisal_round.year,
            "block": appraisal_round.block,
            "from": before,
            "reason": reason,
        },
    )


def all_units(session: Session) -> list[RatedUnit]:
    return list(session.scalars(select(RatedUnit).order_by(RatedUnit.block, RatedUnit.code)))


def all_rounds(session: Session) -> list[AppraisalRound]:
    """Every round, the newest year first."""
    return list(
        session.scalars(
            select(AppraisalRound).order_by(AppraisalRound.year.desc(), AppraisalRound.block)
        )
    )


def block_units(session: Session, block: str) -> list[RatedUnit]:
    return list(
        session.scalars(select(RatedUnit).where(RatedUnit.block == block).order_by(RatedUnit.code))
    )


def unit_return(session: Session, appraisal_round: AppraisalRound, unit: RatedUnit):
    """The unit's return in the round, made (with a row per criterion) on first use."""
    found = session.scalars(
        select(AppraisalReturn).where(
            AppraisalReturn.round_id == appraisal_round.id, AppraisalReturn.unit_id == unit.id
        )
    ).first()
    if found is None:
        found = AppraisalReturn(round_id=appraisal_round.id, unit_id=unit.id)
        session.add(found)
        session.flush()
    have = {s.criterion for s in scores(session, found).values()}
    for criterion in criteria_mod.of_round(appraisal_round):
        if criterion.code not in have:
            session.add(CriterionScore(return_id=found.id, criterion=criterion.code))
    session.flush()
    return found


def scores(session: Session, unit_return_: AppraisalReturn) -> dict[str, CriterionScore]:
    return {
        s.criterion: s
        for s in session.scalars(
            select(CriterionScore).where(CriterionScore.return_id == unit_return_.id)
        )
    }


def evidence_of(session: Session, unit_return_: AppraisalReturn) -> dict[str, list[Evidence]]:
    rows = session.execute(
        select(CriterionScore.criterion, Evidence)
        .join(Evidence, Evidence.score_id == CriterionScore.id)
        .where(CriterionScore.return_id == unit_return_.id)
        .order_by(Evidence.id)
    )
    found: dict[str, list[Evidence]] = {}
    for criterion, evidence in rows:
        found.setdefault(criterion, []).append(evidence)
    return found


def history_of(session: Session, unit_return_: AppraisalReturn) -> list[tuple[str, PointChange]]:
    rows = session.execute(
        select(CriterionScore.criterion, PointChange)
        .join(PointChange, PointChange.score_id == CriterionScore.id)
        .where(CriterionScore.return_id == unit_return_.id)
        .order_by(PointChange.at, PointChange.id)
    )
    return [(c, p) for c, p in rows]


# ---------------------------------------------------------------------------------------------
# The unit's self-assessment


def _check_points(appraisal_round, criterion, points: float | None) -> None:
    if points is None:
        return
    step = criterion.step_in(appraisal_round)
    if not criteria_mod.in_steps(points, criterion.max_points, step):
        raise AppraisalRefused(
            _(
                "Criterion %(criterion)s: %(points)s is not 0 to %(max)s in steps of %(step)s.",
                criterion=criterion.code,
                points=format_decimal(points),
                max=format_decimal(criterion.max_points),
                step=format_decimal(step),
            )
        )


def _change(session, score, kind: str, after: float | None, reason: str, actor: str) -> bool:
    before = score.self_points if kind == "self" else score.appraised_points
    if before == after:
        return False
    session.add(
        PointChange(
            score_id=score.id, kind=kind, before=before, after=after, reason=reason, actor=actor
        )
    )
    setattr(score, f"{kind}_points", after)
    return True


def self_assessment_open(appraisal_round, unit_return_, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    return (
        appraisal_round.status == "open"
        and unit_return_.submitted_at is None
        and now <= appraisal_round.self_deadline
    )


def save_self(
    session: Session,
    appraisal_round: AppraisalRound,
    unit_return_: AppraisalReturn,
    entries: dict[str, PointsEntry],
    actor: str,
) -> int:
    """Keep a draft of the unit's points and explanations; returns how many points changed."""
    if not self_assessment_open(appraisal_round, unit_return_):
        raise AppraisalRefused(_closed_reason(appraisal_round, unit_return_))
    by_code = {c.code: c for c in criteria_mod.of_round(appraisal_round)}
    current = scores(session, unit_return_)
    changed = 0
    for code, entry in entries.items():
        criterion = by_code.get(code)
        if criterion is None:
            continue
        _check_points(appraisal_round, criterion, entry.points)
        score = current[code]
        score.explanation = entry.text.strip() or None
        changed += _change(session, score, "self", entry.points, score.explanation or "", actor)
    session.flush()
    return changed


def _closed_reason(appraisal_round, unit_return_) -> str:
    if unit_return_.submitted_at is not None:
        return _("The self-assessment is submitted: it cannot be changed any more.")
    if appraisal_round.status != "open":
        return _("The round is past self-assessment.")
    return _("The deadline for the self-assessment has passed.")


def submit(
    session: Session, appraisal_round: AppraisalRound, unit_return_: AppraisalReturn, actor: str
) -> None:
    """Hand in the self-assessment: every criterion has points, and points without evidence
    have an explanation. Read-only for the unit after this; logged."""
    if not self_assessment_open(appraisal_round, unit_return_):
        raise AppraisalRefused(_closed_reason(appraisal_round, unit_return_))
    current = scores(session, unit_return_)
    evidence = evidence_of(session, unit_return_)
    problems = []
    for criterion in criteria_mod.of_round(appraisal_round):
        score = current[criterion.code]
        if score.self_points is None:
            problems.append(_("Criterion %(criterion)s has no points.", criterion=criterion.code))
        elif score.self_points > 0 and not evidence.get(criterion.code) and not score.explanation:
            problems.append(
                _(
                    "Criterion %(criterion)s has points but no evidence: explain them.",
                    criterion=criterion.code,
                )
            )
    if problems:
        raise AppraisalRefused(" ".join(problems))
    unit_return_.submitted_at = utcnow()
    unit_return_.submitted_by = actor
    audit.record(session, "appraisal_submitted", _details(appraisal_round, unit_return_))


def _details(appraisal_round, unit_return_) -> dict:
    return {
        "round": appraisal_round.id,
        "year": appraisal_round.year,
        "block": appraisal_round.block,
        "unit": unit_return_.unit.code,
    }


def add_evidence(
    session: Session,
    appraisal_round: AppraisalRound,
    unit_return_: AppraisalReturn,
    criterion: str,
    actor: str,
    *,
    content: bytes | None = None,
    filename: str = "",
    url: str = "",
) -> Evidence:
    """A file (type read from its content) or a link behind a criterion's points, while the unit
    may self-assess or answer."""
    if self_assessment_open(appraisal_round, unit_return_):
        stage = "self"
    elif answer_open(appraisal_round, unit_return_):
        stage = "answer"
    else:
        raise AppraisalRefused(_closed_reason(appraisal_round, unit_return_))
    score = scores(session, unit_return_).get(criterion)
    if score is None:
        raise AppraisalRefused(_("There is no criterion %(criterion)s.", criterion=criterion))
    if content is not None:
        name, content_type = check_evidence(content, filename)
        key = f"appraisal/{appraisal_round.id}/{unit_return_.unit_id}/{secrets.token_hex(8)}"
        storage.put(session, key, content)
        evidence = Evidence(
            score_id=score.id,
            stage=stage,
            file_key=key,
            filename=name,
            content_type=content_type,
            size=len(content),
            added_by=actor,
        )
    else:
        link = url.strip()
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(link) > 1000:
            raise AppraisalRefused(
                _("Give the link as a full web address starting with https:// or http://.")
            )
        evidence = Evidence(score_id=score.id, stage=stage, url=link, added_by=actor)
    session.add(evidence)
    session.flush()
    details = {**_details(appraisal_round, unit_return_), "criterion": criterion}
    details["file" if content is not None else "link"] = evidence.filename or evidence.url
    audit.record(session, "appraisal_evidence_added", details)
    return evidence


# ---------------------------------------------------------------------------------------------
# The council


def appraisal_open(appraisal_round: AppraisalRound) -> bool:
    return appraisal_round.status in ("open", "published")


def save_appraisal(
    session: Session,
    appraisal_round: AppraisalRound,
    unit_return_: AppraisalReturn,
    entries: dict[str, PointsEntry],
    actor: str,
) -> int:
    """The council's points and comments; a comment where they differ from the unit's. Every
    change kept in the history; logged. Returns how many points changed."""
    if not appraisal_open(appraisal_round):
        raise AppraisalRefused(_("The round is final: its points cannot change any more."))
    by_code = {c.code: c for c in criteria_mod.of_round(appraisal_round)}
    current = scores(session, unit_return_)
    problems = []
    for code, entry in entries.items():
        criterion = by_code.get(code)
        if criterion is None:
            continue
        try:
            _check_points(appraisal_round, criterion, entry.points)
        except AppraisalRefused as exc:
            problems.append(str(exc))
            continue
        score = current[code]
        differs = entry.points is not None and (
            score.self_points is None
            or abs(entry.points - score.self_points) > criteria_mod.TOLERANCE
        )
        if differs and not entry.text.strip():
            problems.append(
                _(
                    "Criterion %(criterion)s: say why the points differ from the unit's.",
                    criterion=code,
                )
            )
    if problems:
        raise AppraisalRefused(" ".join(problems))
    changed = 0
    for code, entry in entries.items():
        if code not in by_code:
            continue
        score = current[code]
        score.comment = entry.text.strip() or None
        changed += _change(session, score, "appraised", entry.points, score.comment or "", actor)
    complete = all(s.appraised_points is not None for s in current.values())
    if complete:
        unit_return_.appraised_at = utcnow()
    session.flush()
    if changed:
        audit.record(
            session,
            "appraisal_scored",
            {**_details(appraisal_round, unit_return_), "count": changed},
        )
    return changed


def consider_answer(
    session: Session, appraisal_round, unit_return_: AppraisalReturn, note: str
) -> None:
    if not appraisal_open(appraisal_round):
        raise AppraisalRefused(_("The round is final: its points cannot change any more."))
    unit_return_.answer_considered = note.strip() or None
    audit.record(session, "appraisal_answer_considered", _details(appraisal_round, unit_return_))


def publish(
    session: Session,
    appraisal_round: AppraisalRound,
    answer_opens_at: dt.datetime,
    answer_closes_at: dt.datetime,
) -> None:
    """Show units the council's points, and let them answer once between the two times."""
    if appraisal_round.status == "final":
        raise AppraisalRefused(_("The round is final: its points cannot change any more."))
    if answer_closes_at <= answer_opens_at:
        raise AppraisalRefused(_("The answer window must close after it opens."))
    appraisal_round.status = "published"
    appraisal_round.answer_opens_at = answer_opens_at
    appraisal_round.answer_closes_at = answer_closes_at
    audit.record(
        session,
        "appraisal_published",
        {"round": appraisal_round.id, "block": appraisal_round.block},
    )


def answer_open(appraisal_round, unit_return_, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    return (
        appraisal_round.status == "published"
        and unit_return_.answered_at is None
        and appraisal_round.answer_opens_at is not None
        and appraisal_round.answer_opens_at <= now <= appraisal_round.answer_closes_at
    )


def answer(
    session: Session, appraisal_round, unit_return_: AppraisalReturn, text: str, actor: str
) -> None:
    """The unit's one answer to the council's points; logged."""
    if not answer_open(appraisal_round, unit_return_):
        if unit_return_.answered_at is not None:
            raise AppraisalRefused(_("The unit has answered already: it may answer once."))
        raise AppraisalRefused(_("Answers are not taken now."))
    if not text.strip():
        raise AppraisalRefused(_("Write the answer."))
    unit_return_.answer = text.strip()
    unit_return_.answered_at = utcnow()
    unit_return_.answered_by = actor
    audit.record(session, "appraisal_answered", _details(appraisal_round, unit_return_))


def finalise(session: Session, appraisal_round: AppraisalRound) -> None:
    """Close the round for good: every unit of the block has the council's points on every
    criterion. Logged."""
    if appraisal_round.status == "final":
        raise AppraisalRefused(_("The round is final already."))
    lacking = []
    for unit in block_units(session, appraisal_round.block):
        current = scores(session, unit_return(session, appraisal_round, unit))
        if any(s.appraised_points is None for s in current.values()):
            lacking.append(unit.code)
    if lacking:
        raise AppraisalRefused(
            _(
                "Units without the council's points on every criterion: %(units)s.",
                units=", ".join(lacking),
            )
        )
    appraisal_round.status = "final"
    appraisal_round.finalised_at = utcnow()
    audit.record(
        session,
        "appraisal_finalised",
        {"round": appraisal_round.id, "block": appraisal_round.block},
    )
