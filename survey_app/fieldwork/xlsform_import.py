"""An XLSForm brought in as a questionnaire, from the admin's page or the command: read and
validated whole (`questionnaire.xlsform_read`), then stored as a version in the caller's
transaction and logged; nothing is stored when anything does not map."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from analysis.problems import Problem

from ..accounts import audit
from ..questionnaire.store import SyncResult, latest_version, store_version
from ..questionnaire.validate import IDENTIFIER
from ..questionnaire.xlsform_read import XLSFormInvalid, read_xlsform


@dataclass
class XLSFormImported:
    result: SyncResult
    notices: list[Problem]


def import_xlsform(
    session: Session,
    data: bytes,
    filename: str,
    code: str | None,
    group: str = "citizen",
    access: str = "open",
    replace: bool = False,
) -> XLSFormImported:
    """Store the XLSForm as questionnaire `code` (the form_id of its settings when None).

    A code already in use is refused unless `replace`: then the form becomes that
    questionnaire's next version (or replaces its latest while nobody has answered it), as a
    changed file does. Raises `XLSFormInvalid` with every problem.
    """
    if code is not None and not IDENTIFIER.match(code):
        message = _(
            "The code %(code)s is not an identifier: a-z, 0-9 and single _, starting with a "
            "letter.",
            code=code,
        )
        raise XLSFormInvalid([Problem(filename, None, None, message)])
    imported = read_xlsform(data, filename, code, group, access)
    questionnaire = imported.questionnaire
    if not replace and latest_version(session, questionnaire.code) is not None:
        message = _(
            "A questionnaire %(code)s exists already; choose another code or replace it.",
            code=questionnaire.code,
        )
        raise XLSFormInvalid([Problem(filename, None, None, message)])
    result = store_version(session, questionnaire)
    audit.record(
        session,
        "questionnaire_imported",
        {"code": result.code, "version": result.version, "file": filename[:200]},
    )
    return XLSFormImported(result, imported.notices)
