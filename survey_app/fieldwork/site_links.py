"""Site links: an open link per site (a one-stop shop, a district) of a wave's open
questionnaire, printed as a QR code on a poster at the counter. A response started by one has the
site recorded and the questionnaire's `site_item` answered by the link, so the respondent is not
asked where they are.

The link's code is short enough to type from the poster (8 characters, XXXX-XXXX) and drawn at
random (40 bits), so the links of other sites cannot be worked out from one; starting responses
by them is rate limited as the open link is.
"""

from __future__ import annotations

import io
import secrets

import segno
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts import audit
from ..models import QuestionnaireVersion, Response, SiteLink, Wave
from ..questionnaire.definition import Item, Questionnaire
from ..questionnaire.store import definition, latest_version
from .counted import counted_condition

#: Crockford's base32 without I, L, O, U, as resume codes: nothing misread when typed.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
NAME_LENGTH = 200


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalize_code(text: str) -> str | None:
    """The code as stored, from what someone typed (lower case, dashes, O for 0...), or None."""
    cleaned = (text or "").upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.replace("O", "0").replace("I", "1").replace("L", "1")
    if len(cleaned) != CODE_LENGTH or any(c not in ALPHABET for c in cleaned):
        return None
    return cleaned


def site_item(questionnaire: Questionnaire) -> Item | None:
    """The question a site link answers, if the questionnaire names one."""
    if questionnaire.site_item is None:
        return None
    return questionnaire.by_code.get(questionnaire.site_item)


def site_questionnaires(session: Session, wave: Wave) -> dict[str, Questionnaire]:
    """The wave's questionnaires that can have site links: open, with a `site_item`."""
    found = {}
    for code in sorted(wave.questionnaire_codes):
        version = latest_version(session, code)
        if version is None or version.access != "open":
            continue
        questionnaire = definition(version)
        if site_item(questionnaire) is not None:
            found[code] = questionnaire
    return found


def links_of(session: Session, wave_id: int) -> list[tuple[SiteLink, int]]:
    """The wave's site links, each with its complete responses that count."""
    complete = (
        select(func.count(Response.id))
        .where(
            Response.site_link_id == SiteLink.id,
            Response.status == "complete",
            counted_condition(),
        )
        .scalar_subquery()
    )
    return [
        (link, count)
        for link, count in session.execute(
            select(SiteLink, complete)
            .where(SiteLink.wave_id == wave_id)
            .order_by(SiteLink.questionnaire_code, SiteLink.name, SiteLink.id)
        )
    ]


def link_by_code(session: Session, text: str) -> SiteLink | None:
    code = normalize_code(text)
    if code is None:
        return None
    return session.scalars(select(SiteLink).where(SiteLink.code == code)).first()


def link_in_wave(session: Session, wave_id: int, link_id: int) -> SiteLink | None:
    link = session.get(SiteLink, link_id)
    return link if link is not None and link.wave_id == wave_id else None


class SiteLinkInvalid(ValueError):
    """The link cannot be made; `errors` maps a form field to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def create_link(
    session: Session, wave: Wave, questionnaire_code: str, name: str, site_value: str
) -> SiteLink:
    """A new site link, in the caller's transaction; logged. Raises `SiteLinkInvalid`."""
    errors: dict[str, str] = {}
    questionnaire = site_questionnaires(session, wave).get(questionnaire_code)
    name = " ".join((name or "").split())
    if questionnaire is None:
        errors["questionnaire"] = _("Choose an open questionnaire of this wave that has sites.")
    elif site_item(questionnaire).option(site_value) is None:
        errors["site_value"] = _("Choose one of the answers listed.")
    if not name:
        errors["name"] = _("Enter the site's name, as the poster shows it.")
    elif len(name) > NAME_LENGTH:
        errors["name"] = _("The name is longer than %(max)s characters.", max=NAME_LENGTH)
    if errors:
        raise SiteLinkInvalid(errors)
    while True:
        link = SiteLink(
            wave_id=wave.id,
            questionnaire_code=questionnaire_code,
            code=new_code(),
            name=name,
            site_value=site_value,
        )
        try:
            with session.begin_nested():
                session.add(link)
                session.flush()
            break
        except IntegrityError:  # pragma: no cover - one chance in a trillion per existing link
            continue
    audit.record(
        session,
        "site_link_created",
        {
            "wave": wave.code,
            "questionnaire": questionnaire_code,
            "site": name,
            "code": format_code(link.code),
        },
    )
    return link


def version_of(session: Session, link: SiteLink) -> QuestionnaireVersion | None:
    return latest_version(session, link.questionnaire_code)


# --- QR codes -----------------------------------------------------------------------------------


def qr_svg(url: str, scale: int = 8) -> bytes:
    """The link as a QR code in SVG (error correction M: still read through a scratched print)."""
    out = io.BytesIO()
    segno.make_qr(url, error="m").save(out, kind="svg", scale=scale, border=4, xmldecl=True)
    return out.getvalue()


def qr_png(url: str, scale: int = 10) -> bytes:
    out = io.BytesIO()
    segno.make_qr(url, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_inline_svg(url: str) -> str:
    """The QR code as an <svg> element to put in a page (the poster), sized by CSS."""
    return segno.make_qr(url, error="m").svg_inline(scale=1, border=4, omitsize=True)
