"""A short account of what moved a unit in its block, of the kind provinces publish with their
rankings: "up 8 places, from rank 12 to rank 4: 4 of 7 fields near their maximum, public finance
at its maximum, digital government ranked 4 in the block", or "down 10 places, from rank 4 to
rank 14: 5 of 7 fields ranked 9 to 14 in the block".

Built from one row of `analysis.index.build_index`'s table (its rank, previous rank, and each
field's % and rank within the block). Every part is an `analysis.messages` message, so the web
says it in the reader's language and the command line in English; field names come from the
scheme in the language asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from analysis.languages import in_language
from analysis.messages import Message, _
from analysis.scheme import Scheme

#: A field at or above this % of its maximum is "near its maximum" (below 100).
NEAR_MAXIMUM = 90.0
#: Compared on the % as published (two decimals): 99.999 is not the maximum, 100.0 is.
AT_MAXIMUM = 100.0 - 0.005


@dataclass
class Account:
    """What moved (`movement`) and why (`reasons`), each a message to say in a language."""

    movement: Message
    reasons: list[Message] = field(default_factory=list)

    def text(self, say=str) -> str:
        """The account in one sentence; `say` turns a message into the reader's language."""
        if not self.reasons:
            return say(self.movement)
        return f"{say(self.movement)}: {', '.join(say(r) for r in self.reasons)}"

    def __str__(self) -> str:
        return self.text()


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _int(value) -> int | None:
    number = _number(value)
    return None if number is None else int(round(number))


def unit_account(row, scheme: Scheme, lang: str) -> Account | None:
    """The account of one unit (a row of the index table, as a mapping); None when the unit has
    no rank (a part without data)."""
    rank = _int(row.get("rank"))
    if rank is None:
        return None
    units = _int(row.get("units_in_block")) or 0
    previous = _int(row.get("previous_rank"))
    fields = []
    for f in scheme.fields:
        percent = _number(row.get(f"field_{f.code}_percent"))
        fields.append(
            (in_language(f.name, lang, f.code), percent, _int(row.get(f"field_{f.code}_rank")))
        )
    count = len(fields)
    if previous is None:
        movement = _("rank %(rank)s of %(units)s", rank=rank, units=units)
    elif previous > rank:
        movement = _(
            "up %(places)s places, from rank %(before)s to rank %(after)s",
            places=previous - rank,
            before=previous,
            after=rank,
        )
    elif previous < rank:
        movement = _(
            "down %(places)s places, from rank %(before)s to rank %(after)s",
            places=rank - previous,
            before=previous,
            after=rank,
        )
    else:
        movement = _("the same rank as last year, %(rank)s", rank=rank)
    going_down = previous is not None and previous < rank
    if going_down:
        reasons = _low_fields(fields, units, count)
    else:
        reasons = _strong_fields(fields, rank, units, count)
    if not going_down and previous is not None and previous == rank:
        reasons = reasons or _low_fields(fields, units, count)
    return Account(movement, reasons)


def _strong_fields(fields, rank: int, units: int, count: int) -> list[Message]:
    """The fields near or at their maximum, and the best-ranked other field when it is in the
    upper half of the block and no lower than the unit itself."""
    reasons = []
    near = [f for f in fields if f[1] is not None and NEAR_MAXIMUM <= f[1] < AT_MAXIMUM]
    at_max = [f for f in fields if f[1] is not None and f[1] >= AT_MAXIMUM]
    if near:
        reasons.append(
            _("%(count)s of %(fields)s fields near their maximum", count=len(near), fields=count)
        )
    if len(at_max) > 2:
        reasons.append(
            _("%(count)s of %(fields)s fields at their maximum", count=len(at_max), fields=count)
        )
    else:
        reasons += [_("%(field)s at its maximum", field=f[0]) for f in at_max]
    named = {f[0] for f in at_max}
    ranked = [f for f in fields if f[2] is not None and f[0] not in named]
    if ranked:
        best = min(ranked, key=lambda f: f[2])  # the first in the scheme's order on a tie
        if best[2] <= rank and best[2] <= units / 2:
            reasons.append(_("%(field)s ranked %(rank)s in the block", field=best[0], rank=best[2]))
    return reasons


def _low_fields(fields, units: int, count: int) -> list[Message]:
    """The fields ranked in the lower half of the block, as a count and the span of ranks."""
    low = [f[2] for f in fields if f[2] is not None and units and f[2] > units / 2]
    if not low:
        return []
    if min(low) == max(low):
        return [
            _(
                "%(count)s of %(fields)s fields ranked %(rank)s in the block",
                count=len(low),
                fields=count,
                rank=min(low),
            )
        ]
    return [
        _(
            "%(count)s of %(fields)s fields ranked %(low)s to %(high)s in the block",
            count=len(low),
            fields=count,
            low=min(low),
            high=max(low),
        )
    ]


def zero_criteria(weak, unit_code: str) -> list[tuple[str, float]]:
    """The unit's criteria that ended at 0 of their maximum, as (code, maximum), in the scheme's
    order: published as "initiatives 0/1.5" (`weak` is `build_index`'s weak table)."""
    rows = weak[(weak["unit_code"] == unit_code) & (weak["reason"] == "zero")]
    return [(str(r.criterion), float(r.max_points)) for r in rows.itertuples(index=False)]
