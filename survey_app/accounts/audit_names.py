"""What the audit log's codes say in the reader's language: the stored events keep their codes
(`quota_imported`, `cells`), which filters and exports rely on; the page shows these names.

A code with no name here (an action added later, an old event) is shown as stored.
"""

from __future__ import annotations

from typing import Any

from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l

ACTIONS = {
    "login": _l("Logged in"),
    "logout": _l("Logged out"),
    "login_failed": _l("Failed login"),
    "login_throttled": _l("Login refused: too many attempts"),
    "password_changed": _l("Password changed"),
    "user_created": _l("User created"),
    "user_disabled": _l("User disabled"),
    "user_enabled": _l("User enabled"),
    "wave_saved": _l("Wave saved"),
    "invitations_imported": _l("Invitees imported"),
    "invitation_links_downloaded": _l("Invitation links downloaded"),
    "invitation_revoked": _l("Invitation link revoked"),
    "invitation_reissued": _l("Invitation link reissued"),
    "identity_erased": _l("Identity erased"),
    "export_invitees": _l("Invitee list exported"),
    "mail_sending_started": _l("E-mails to invitees queued"),
    "mail_sending_resumed": _l("Stopped e-mail sending resumed"),
    "quota_imported": _l("Quota imported"),
    "questionnaire_imported": _l("Questionnaire imported from XLSForm"),
    "quota_changed": _l("Quota targets changed"),
    "stats_input_uploaded": _l("Weighting input uploaded"),
    "stats_run_started": _l("Weighting run started"),
    "score_wave": _l("Wave scored (command line)"),
    "export_responses": _l("Responses exported"),
    "export_codebook": _l("Codebook exported"),
    "export_run_file": _l("Run file downloaded"),
    "response_invalidated": _l("Response marked invalid"),
    "response_restored": _l("Response restored"),
    "paper_entry_begun": _l("Paper entry begun"),
    "site_link_created": _l("Site link made"),
    "test_responses_deleted": _l("Test responses deleted"),
    "appraisal_round_opened": _l("Appraisal round opened"),
    "appraisal_submitted": _l("Self-assessment submitted"),
    "appraisal_evidence_added": _l("Appraisal evidence added"),
    "appraisal_scored": _l("Council's points given"),
    "appraisal_published": _l("Council's points published to the units"),
    "appraisal_answered": _l("Unit answered the council"),
    "appraisal_answer_considered": _l("Council considered a unit's answer"),
    "appraisal_finalised": _l("Appraisal round finalised"),
    "appraisal_round_reopened": _l("Appraisal round reopened"),
    "appraisal_round_deleted": _l("Appraisal round deleted"),
    "export_appraisal": _l("Appraisal file exported"),
    "appraisal_sent_to_index": _l("Appraised points given to a wave's index"),
    "user_updated": _l("User changed"),
    "officers_imported": _l("Unit officers imported"),
}

DETAILS = {
    "cells": _l("cells"),
    "count": _l("count"),
    "block": _l("block"),
    "blocks": _l("blocks"),
    "council_points": _l("council's points"),
    "evidence_files": _l("evidence files"),
    "evidence_links": _l("evidence links"),
    "from": _l("previous status"),
    "criterion": _l("criterion"),
    "link": _l("link"),
    "round": _l("round"),
    "scheme": _l("scoring scheme"),
    "unit": _l("unit"),
    "units": _l("units"),
    "year": _l("year"),
    "email": _l("e-mail"),
    "erased_left_out": _l("erased people left out"),
    "file": _l("file"),
    "code": _l("code"),
    "version": _l("version"),
    "format": _l("format"),
    "identities_kept_until": _l("identities kept until"),
    "invitee": _l("invitee"),
    "kind": _l("kind"),
    "labels": _l("labels"),
    "language": _l("language"),
    "mailing": _l("sending"),
    "per_minute": _l("per minute"),
    "out": _l("written to"),
    "personal_data": _l("personal data"),
    "questionnaire": _l("questionnaire"),
    "questionnaires": _l("questionnaires"),
    "quota": _l("quota"),
    "reason": _l("reason"),
    "remaining": _l("e-mails still to send"),
    "response": _l("response"),
    "resumes": _l("resumes without an e-mail sent"),
    "role": _l("role"),
    "run": _l("run"),
    "site": _l("site"),
    "status": _l("status"),
    "targets": _l("targets"),
    "wave": _l("wave"),
    "when_full": _l("when full"),
}

#: Values that are codes of their own (an erasure's reason).
VALUES = {
    "request": _l("the person's request"),
    "retention": _l("end of the retention period"),
    "invitation": _l("invitation"),
    "reminder": _l("reminder"),
    "both": _l("Vietnamese and English"),
}


def action_name(code: str) -> str:
    name = ACTIONS.get(code)
    return str(name) if name is not None else code


def detail_name(key: str) -> str:
    name = DETAILS.get(key)
    return str(name) if name is not None else key


def detail_value(value: Any) -> str:
    """A value as a person reads it: lists joined, yes/no, numbers in the locale's style."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, int | float):
        return format_decimal(value)
    if isinstance(value, list | tuple):
        return ", ".join(detail_value(item) for item in value) or "–"
    if isinstance(value, dict):
        return "; ".join(f"{detail_name(k)}: {detail_value(v)}" for k, v in value.items())
    text = str(value)
    name = VALUES.get(text)
    return str(name) if name is not None else text
