"""Named invitations: read an invitee file, import it whole or not at all, revoke, reissue, list.

A token exists only in the value returned when it is made (the links); the database keeps its
hash. Links that the web pages hand over once are kept for an hour in a private folder
(`keep_links` / `take_links`), never in the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import secrets
import unicodedata
import warnings
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Invitation, Invitee, Wave, WaveQuestionnaire, utcnow
from ..questionnaire.store import latest_version
from ..respond.services import new_token, token_hash
from .responses_export import FORMULA_STARTS

#: The columns of an invitee file; the first three must be filled on every row.
COLUMNS = ("name", "group", "agency", "unit", "email", "phone")
REQUIRED = ("name", "group", "agency")
#: Header names as lists are written in Vietnam, mapped to our columns (compared normalised).
HEADER_ALIASES = {
    "fullname": "name",
    "họvàtên": "name",
    "họtên": "name",
    "nhóm": "group",
    "cơquan": "agency",
    "đơnvị": "unit",
    "e-mail": "email",
    "thưđiệntử": "email",
    "telephone": "phone",
    "điệnthoại": "phone",
    "sốđiệnthoại": "phone",
}
#: Larger than any province's list of leaders and delegates (~1,600), with room to spare.
MAX_ROWS = 20_000
#: Columns read from a worksheet; anything further right is not part of a list of invitees.
MAX_COLUMNS = 64
LINK_COLUMNS = ("name", "group", "agency", "unit", "email", "link")
#: Invitations that still wait for an answer: whom a reminder is for.
NEEDS_REMINDER = ("issued", "opened", "in_progress")
#: How long a links file waits for its one download.
LINKS_LIFETIME = dt.timedelta(hours=1)

EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PHONE_SHAPE = re.compile(r"^\+?[0-9 ]+$")
LINKS_ID_SHAPE = re.compile(r"^[0-9a-f]{32}$")


def _column_limits() -> dict[str, int]:
    table = Invitee.__table__.c
    names = {"group": "invitee_group"}
    return {column: table[names.get(column, column)].type.length for column in COLUMNS}


LIMITS = _column_limits()


class InvitationError(Exception):
    """A request that cannot be done, with a sentence for the person who asked."""


@dataclass(frozen=True)
class RowError:
    #: The row in the file, the header being row 1; None for the file as a whole.
    row: int | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return _("row %(row)s: %(message)s", row=self.row, message=self.message)


class InviteeFileInvalid(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the invitee file")
        self.errors = errors


@dataclass
class InviteeRow:
    row: int
    name: str
    group: str
    agency: str
    unit: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass
class InviteeFile:
    rows: list[InviteeRow]
    #: Columns present in the file that are not ours (e.g. an ordinal "STT"): not imported.
    ignored_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class IssuedLink:
    """A personal link as handed to the admin. The token exists only in `link`."""

    name: str
    group: str
    agency: str
    unit: str | None
    email: str | None
    link: str


# --- reading a file -----------------------------------------------------------------------------


def _clean(value: object) -> str:
    """A cell as text: NFC (lists made on a Mac come decomposed), trimmed, numbers without .0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    return unicodedata.normalize("NFC", str(value)).strip()


def _header_key(text: str) -> str:
    squeezed = re.sub(r"[\s_]+", "", _clean(text).lstrip("\ufeff").casefold())
    squeezed = HEADER_ALIASES.get(squeezed, squeezed)
    return HEADER_ALIASES.get(squeezed.replace("-", ""), squeezed.replace("-", ""))


def _csv_records(data: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InviteeFileInvalid(
            [
                RowError(
                    None,
                    _(
                        "The file is not UTF-8 text. In Excel, save it as \u201cCSV UTF-8\u201d "
                        "or as an Excel workbook (.xlsx), then upload it again."
                    ),
                )
            ]
        ) from exc
    first_line = text.split("\n", 1)[0]
    # Excel set to Vietnamese writes ";" between columns, since "," is its decimal sign.
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise InviteeFileInvalid(
            [RowError(reader.line_num, _("The CSV cannot be read here: %(reason)s", reason=exc))]
        ) from exc


def _xlsx_records(data: bytes) -> Iterator[tuple[int, list[object]]]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # Workbooks from Excel often carry extensions openpyxl only warns about.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InviteeFileInvalid(
            [RowError(None, _("The Excel file cannot be opened; save it again as .xlsx."))]
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        # Read-only sheets yield every row from the first, empty ones too: numbers stay true.
        rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        for number, cells in enumerate(rows, start=1):
            yield number, list(cells)
    finally:
        workbook.close()


def _records(data: bytes, filename: str) -> Iterator[tuple[int, list[object]]]:
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_records(data)
    if data.startswith(b"\xd0\xcf\x11\xe0") or filename.lower().endswith(".xls"):
        raise InviteeFileInvalid(
            [
                RowError(
                    None,
                    _(
                        "Old Excel files (.xls) are not read. Save the list as an Excel "
                        "workbook (.xlsx) or as CSV UTF-8."
                    ),
                )
            ]
        )
    return _csv_records(data)


def read_invitee_file(data: bytes, filename: str = "") -> InviteeFile:
    """Parse and check every row of a CSV or .xlsx list of invitees.

    Raises `InviteeFileInvalid` with every problem found, each with its row number.
    """
    records = _records(data, filename)
    header: list[str] | None = None
    errors: list[RowError] = []
    rows: list[InviteeRow] = []
    positions: dict[str, int] = {}
    ignored: list[str] = []
    seen: dict[tuple[str, ...], int] = {}
    count = 0
    for number, cells in records:
        values = [_clean(cell) for cell in cells]
        if not any(values):
            continue  # blank lines and rows Excel keeps after the list
        if header is None:
            header = values
            positions, ignored, header_errors = _read_header(number, header)
            if header_errors:
                raise InviteeFileInvalid(header_errors)
            continue
        count += 1
        if count > MAX_ROWS:
            errors.append(
                RowError(
                    number,
                    _(
                        "The file has more than %(num)s invitees; split it into smaller files.",
                        num=MAX_ROWS,
                    ),
                )
            )
            break
        found = {c: (values[i] if i < len(values) else "") for c, i in positions.items()}
        titles = {c: header[i] for c, i in positions.items()}
        problems = _row_problems(found, titles)
        key = _person_key(found["name"], found["agency"], found.get("email"))
        if not problems and key in seen:
            problems.append(
                _(
                    "The same name, agency and e-mail as row %(row)s: list each person once.",
                    row=seen[key],
                )
            )
        seen.setdefault(key, number)
        if problems:
            errors.extend(RowError(number, problem) for problem in problems)
        else:
            rows.append(InviteeRow(number, **{c: found.get(c) or None for c in COLUMNS}))
    if header is None:
        errors.append(RowError(None, _("The file is empty: it needs a header row and invitees.")))
    elif not rows and not errors:
        errors.append(RowError(None, _("The file has a header row but no invitees.")))
    if errors:
        raise InviteeFileInvalid(errors)
    return InviteeFile(rows, ignored)


def _read_header(number: int, header: list[str]) -> tuple[dict[str, int], list[str], list]:
    positions: dict[str, int] = {}
    ignored: list[str] = []
    errors: list[RowError] = []
    for index, title in enumerate(header):
        if not title:
            continue
        key = _header_key(title)
        if key not in COLUMNS:
            ignored.append(title)
        elif key in positions:
            errors.append(RowError(number, _("The column %(column)s appears twice.", column=title)))
        else:
            positions[key] = index
    missing = [c for c in REQUIRED if c not in positions]
    if missing:
        errors.append(
            RowError(
                number,
                _(
                    "The header row lacks the column(s) %(missing)s. The first row must name the "
                    "columns: name, group, agency, and optionally unit, email, phone.",
                    missing=", ".join(missing),
                ),
            )
        )
    return positions, ignored, errors


def _row_problems(found: dict[str, str], titles: dict[str, str]) -> list[str]:
    """What is wrong with one row, each column named as the file's header names it."""
    problems = []
    for column in REQUIRED:
        if not found.get(column):
            problems.append(
                _(
                    "The column \u201c%(column)s\u201d is empty; every invitee needs it.",
                    column=titles[column],
                )
            )
    for column, value in found.items():
        if len(value) > LIMITS[column]:
            problems.append(
                _(
                    "The column \u201c%(column)s\u201d has %(length)s characters; at most "
                    "%(limit)s fit.",
                    column=titles[column],
                    length=len(value),
                    limit=LIMITS[column],
                )
            )
    email = found.get("email")
    if email and len(email) <= LIMITS["email"] and not EMAIL_SHAPE.match(email):
        problems.append(_("\u201c%(value)s\u201d is not an e-mail address.", value=_shorten(email)))
    phone = found.get("phone")
    if phone and len(phone) <= LIMITS["phone"]:
        digits = sum(ch.isdigit() for ch in phone)
        if not PHONE_SHAPE.match(phone) or not 8 <= digits <= 15:
            problems.append(
                _(
                    "\u201c%(value)s\u201d is not a phone number: write 8 to 15 digits, "
                    "with spaces if you like and + only in front, e.g. 0912 345 678.",
                    value=_shorten(phone),
                )
            )
    return problems


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# --- importing ----------------------------------------------------------------------------------


def invitation_wave(session: Session, wave_code: str, questionnaire_code: str) -> Wave:
    """The wave to invite to, after checking that it carries an invited questionnaire."""
    version = latest_version(session, questionnaire_code)
    if version is None:
        raise InvitationError(_("Unknown questionnaire %(code)s.", code=questionnaire_code))
    if version.access != "invitation":
        raise InvitationError(
            _(
                "Questionnaire %(code)s is answered through its open link, not by invitation.",
                code=questionnaire_code,
            )
        )
    wave = session.scalars(
        select(Wave)
        .join(WaveQuestionnaire)
        .where(Wave.code == wave_code, WaveQuestionnaire.questionnaire_code == questionnaire_code)
    ).first()
    if wave is None:
        raise InvitationError(
            _(
                "Wave %(wave)s does not exist or does not carry questionnaire %(code)s.",
                wave=wave_code,
                code=questionnaire_code,
            )
        )
    return wave


def personal_link(base_url: str, lang: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/{lang}/i/{token}"


def _person_key(name: str, agency: str, email: str | None) -> tuple[str, ...]:
    """Who a row is, for finding repeats: case and spacing do not matter."""
    return tuple(" ".join((v or "").casefold().split()) for v in (name, agency, email))


def import_invitees(
    session: Session,
    wave: Wave,
    questionnaire_code: str,
    invitees: InviteeFile,
    base_url: str,
    lang: str,
) -> list[IssuedLink]:
    """Store every invitee with a fresh invitation, in the caller's transaction.

    Someone already invited to this questionnaire in this wave (same name, agency and e-mail)
    is reported as an error of that row, so a file sent twice does not invite people twice.
    """
    existing = {
        _person_key(name, agency, email)
        for name, agency, email in session.execute(
            select(Invitee.name, Invitee.agency, Invitee.email).where(
                Invitee.wave_id == wave.id, Invitee.questionnaire_code == questionnaire_code
            )
        )
    }
    repeated = [
        RowError(
            row.row,
            _(
                "%(name)s (%(agency)s) is already invited to this questionnaire in this wave; "
                "to send a new link, reissue it from the list of invitees.",
                name=row.name,
                agency=row.agency,
            ),
        )
        for row in invitees.rows
        if _person_key(row.name, row.agency, row.email) in existing
    ]
    if repeated:
        raise InviteeFileInvalid(repeated)
    people = [
        Invitee(
            wave_id=wave.id,
            questionnaire_code=questionnaire_code,
            name=row.name,
            group=row.group,
            agency=row.agency,
            unit=row.unit,
            email=row.email,
            phone=row.phone,
        )
        for row in invitees.rows
    ]
    session.add_all(people)
    session.flush()
    tokens = [new_token() for _person in people]
    session.add_all(
        Invitation(
            wave_id=wave.id,
            questionnaire_code=questionnaire_code,
            token_hash=token_hash(token),
            invitee_id=person.id,
        )
        for person, token in zip(people, tokens, strict=True)
    )
    session.flush()
    return [
        IssuedLink(p.name, p.group, p.agency, p.unit, p.email, personal_link(base_url, lang, t))
        for p, t in zip(people, tokens, strict=True)
    ]


def _cell(value: str | None) -> str:
    """A spreadsheet would run a name starting with "=" as a formula: keep it text."""
    if value and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value or ""


def write_links_csv(links: Iterable[IssuedLink], out: IO[str]) -> None:
    """The links as CSV. Write it with encoding utf-8-sig: Excel then shows Vietnamese right."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LINK_COLUMNS)
    for link in links:
        writer.writerow(
            [_cell(link.name), _cell(link.group), _cell(link.agency), _cell(link.unit)]
            + [_cell(link.email), link.link]
        )


def links_csv_bytes(links: Iterable[IssuedLink]) -> bytes:
    buffer = io.StringIO()
    write_links_csv(links, buffer)
    return buffer.getvalue().encode("utf-8-sig")


# --- revoking and reissuing ---------------------------------------------------------------------


def _locked_invitation(session: Session, invitation_id: int) -> Invitation:
    invitation = session.scalars(
        select(Invitation).where(Invitation.id == invitation_id).with_for_update()
    ).first()
    if invitation is None:
        raise LookupError(invitation_id)
    return invitation


def revoke(session: Session, invitation_id: int) -> Invitation:
    """Withdraw a link: it then shows "not valid". A complete invitation keeps its answers."""
    invitation = _locked_invitation(session, invitation_id)
    if invitation.status == "complete":
        raise InvitationError(
            _("This invitation has been answered already; there is nothing left to revoke.")
        )
    if invitation.status == "revoked":
        raise InvitationError(_("This invitation is revoked already."))
    invitation.status = "revoked"
    return invitation


def reissue(session: Session, invitation_id: int) -> tuple[Invitation, str]:
    """A new token for the same invitee; the old link stops working at once.

    Answers saved under the old link stay behind it (the response is found only through the
    token, which is not stored), so the invitee starts again.
    """
    invitation = _locked_invitation(session, invitation_id)
    if invitation.status == "complete":
        raise InvitationError(
            _("This invitation has been answered already; a new link would let them answer twice.")
        )
    token = new_token()
    invitation.token_hash = token_hash(token)
    invitation.status = "issued"
    invitation.page_reached = None
    invitation.issued_at = utcnow()
    return invitation, token


# --- listing ------------------------------------------------------------------------------------


def status_counts(session: Session, wave_id: int, questionnaire_code: str) -> dict[str, int]:
    rows = session.execute(
        select(Invitation.status, func.count(Invitation.id))
        .where(Invitation.wave_id == wave_id, Invitation.questionnaire_code == questionnaire_code)
        .group_by(Invitation.status)
    ).all()
    counts = Counter(dict(rows))
    return {
        "issued": counts["issued"],
        "opened": counts["opened"],
        "in_progress": counts["in_progress"],
        "complete": counts["complete"],
        "revoked": counts["revoked"],
        "reminder": sum(counts[s] for s in NEEDS_REMINDER),
        "total": sum(counts.values()),
    }


def invited_questionnaires(session: Session) -> list[tuple[Wave, str]]:
    """Every (wave, questionnaire) pair whose questionnaire is answered by invitation."""
    pairs = session.execute(
        select(Wave, WaveQuestionnaire.questionnaire_code)
        .join(WaveQuestionnaire)
        .order_by(Wave.created_at.desc(), Wave.id.desc(), WaveQuestionnaire.questionnaire_code)
    ).all()
    access: dict[str, str | None] = {}
    found = []
    for wave, code in pairs:
        if code not in access:
            version = latest_version(session, code)
            access[code] = version.access if version is not None else None
        if access[code] == "invitation":
            found.append((wave, code))
    return found


def invitation_rows(
    session: Session,
    wave_id: int,
    questionnaire_code: str,
    status: str | None = None,
    reminder: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[tuple[Invitation, Invitee | None]], int]:
    """Invitations with their invitee (none for links issued in bulk), by agency and name, and
    how many there are in all under the filter."""
    where = [Invitation.wave_id == wave_id, Invitation.questionnaire_code == questionnaire_code]
    if status:
        where.append(Invitation.status == status)
    if reminder:
        where.append(Invitation.status.in_(NEEDS_REMINDER))
    total = session.scalar(select(func.count(Invitation.id)).where(*where))
    query = (
        select(Invitation, Invitee)
        .outerjoin(Invitee, Invitee.id == Invitation.invitee_id)
        .where(*where)
        .order_by(Invitee.agency, Invitee.name, Invitation.id)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return [tuple(row) for row in session.execute(query).all()], total


# --- links kept for one download ----------------------------------------------------------------


def _links_paths(directory: Path, links_id: str) -> tuple[Path, Path]:
    return directory / f"{links_id}.csv", directory / f"{links_id}.json"


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def keep_links(directory: Path, owner_id: int, data: bytes, meta: dict) -> str:
    """Keep a links CSV for one download by its owner within LINKS_LIFETIME; returns its id."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    sweep_links(directory)
    links_id = secrets.token_hex(16)  # 128 bits: the id cannot be guessed
    csv_path, meta_path = _links_paths(directory, links_id)
    record = {**meta, "owner_id": owner_id, "created_at": utcnow().isoformat()}
    _write_private(meta_path, json.dumps(record).encode())
    _write_private(csv_path, data)
    return links_id


def _expired(meta: dict, now: dt.datetime) -> bool:
    try:
        created = dt.datetime.fromisoformat(meta["created_at"])
    except (KeyError, TypeError, ValueError):
        return True
    return now - created > LINKS_LIFETIME


def _read_meta(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def take_links(directory: Path, links_id: str, owner_id: int) -> tuple[bytes, dict] | None:
    """The links CSV and its record, removed from disk as they are read; None when the id is
    unknown, expired, taken already or not this user's. Two requests at once: one gets it."""
    if not LINKS_ID_SHAPE.match(links_id or ""):
        return None
    csv_path, meta_path = _links_paths(directory, links_id)
    meta = _read_meta(meta_path)
    if meta is None or meta.get("owner_id") != owner_id:
        return None
    if _expired(meta, utcnow()):
        _remove(csv_path, meta_path)
        return None
    claimed = csv_path.with_name(f"{links_id}.{secrets.token_hex(8)}.taken")
    try:
        os.rename(csv_path, claimed)  # atomic: only one request wins the file
    except FileNotFoundError:
        return None
    try:
        data = claimed.read_bytes()
    finally:
        _remove(claimed, meta_path)
    return data, meta


def links_waiting(directory: Path, links_id: str, owner_id: int) -> bool:
    """Whether the file is still there for its owner (for the page that offers it)."""
    if not LINKS_ID_SHAPE.match(links_id or ""):
        return False
    csv_path, meta_path = _links_paths(directory, links_id)
    meta = _read_meta(meta_path)
    return (
        meta is not None
        and meta.get("owner_id") == owner_id
        and not _expired(meta, utcnow())
        and csv_path.exists()
    )


def discard_links(directory: Path, links_id: str) -> None:
    """Remove a links file that must not be offered (its import was not committed)."""
    if LINKS_ID_SHAPE.match(links_id or ""):
        _remove(*_links_paths(directory, links_id))


def sweep_links(directory: Path) -> int:
    """Delete every links file older than LINKS_LIFETIME (and strays); returns how many."""
    if not directory.is_dir():
        return 0
    now = utcnow()
    removed = 0
    for meta_path in directory.glob("*.json"):
        meta = _read_meta(meta_path)
        if meta is None or _expired(meta, now):
            _remove(meta_path.with_suffix(".csv"), meta_path)
            removed += 1
    cutoff = (now - LINKS_LIFETIME).replace(tzinfo=dt.UTC).timestamp()
    for stray in list(directory.glob("*.taken")) + list(directory.glob("*.csv")):
        try:
            orphan = not stray.with_name(stray.name.split(".")[0] + ".json").exists()
            if stray.stat().st_mtime < cutoff or (orphan and stray.suffix == ".taken"):
                stray.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
