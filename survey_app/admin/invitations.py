"""Invitations: import invitees, hand over their links once, follow, revoke and reissue them.

Tokens are never stored, so the only pages that show links are the one-time download of an
import's links and the page right after a reissue. Names are shown to admins on the list only.
"""

from __future__ import annotations

import itertools

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField

from ..accounts import audit
from ..accounts.auth import role_required
from ..downloads import download
from ..extensions import csrf, db
from ..fieldwork import identities, invitee_file, link_store, mailing, smtp
from ..fieldwork import invitations as service
from ..handlers import wave_view
from ..i18n import LANGUAGE_NAMES, LANGUAGES
from ..models import Invitation, Invitee, Wave
from ..urls import int_arg, upload_fits
from .blueprint import bp
from .forms import EraseIdentityForm, InviteeExportForm

#: An invitee list of a whole province is well under 1 MB; 5 MB leaves room for Excel's overhead.
#: Only this route takes more than the app's MAX_CONTENT_LENGTH.
UPLOAD_LIMIT = 5 * 1024 * 1024
PAGE_SIZE = 200

#: What became of the latest e-mail to an invitee (the invitation's own status says whether the
#: link was opened and the questionnaire completed).
MAIL_STATUS_NAMES = {
    "queued": _l("waiting to be sent"),
    "sent": _l("sent"),
    "failed": _l("failed"),
    "skipped": _l("not sent"),
}
MAIL_KIND_NAMES = {"invitation": _l("invitation"), "reminder": _l("reminder")}
#: Why a queued e-mail was not sent (`mailing._why_not`), in the reader's language.
SKIP_REASONS = {
    "erased": _l("identity erased"),
    "opted out": _l("asked for no more e-mail"),
    "complete": _l("completed meanwhile"),
    "revoked": _l("link revoked"),
    "link reissued": _l("link reissued meanwhile"),
    "link sealed under another key": _l("SECRET_KEY changed since the sending was written"),
    mailing.INTERRUPTED: _l(
        "the sending stopped while this e-mail was being handed to the server: it may have "
        "arrived, and was not sent again"
    ),
    smtp.NO_STARTTLS: _l(
        "the mail server does not offer STARTTLS, so nothing was sent in clear text: check "
        "SMTP_SECURITY and SMTP_PORT with the server's operator"
    ),
    smtp.UNTRUSTED: _l(
        "the mail server's certificate is not trusted, so nothing was sent: give its CA in "
        "SMTP_CA_FILE, or have the server's certificate fixed"
    ),
    smtp.TLS_FAILED: _l("no secure (TLS) connection could be made to the mail server"),
}


def mail_reason(reason: str) -> str:
    """A delivery's reason in the reader's language where it is one of ours (with the detail
    after it kept as given); the SMTP server's own words as they came."""
    code, _colon, detail = reason.partition(": ")
    name = SKIP_REASONS.get(reason) or SKIP_REASONS.get(code)
    if name is None:
        return reason
    return f"{name} ({detail})" if detail and reason not in SKIP_REASONS else str(name)


STATUS_NAMES = {
    "issued": _l("not opened"),
    "opened": _l("opened"),
    "complete": _l("complete"),
    "revoked": _l("revoked"),
}


class ImportForm(FlaskForm):
    wave = SelectField(_l("Wave"))
    questionnaire = SelectField(_l("Questionnaire"))
    lang = SelectField(_l("Language of the links"))
    file = FileField(
        _l("List of invitees"),
        validators=[
            FileRequired(message=_l("Choose the file with the list of invitees.")),
            FileAllowed(
                ["csv", "xlsx"],
                message=_l("Upload a CSV file (.csv) or an Excel workbook (.xlsx)."),
            ),
        ],
    )


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _base_url() -> str:
    return current_app.config["PUBLIC_URL"] or request.host_url


# --- overview and list --------------------------------------------------------------------------


@bp.get("/invitations")
@role_required("admin")
def invitations_home():
    with db.transaction() as tx:
        link_store.sweep_links(tx)
    rows = [
        (wave, code, service.status_counts(db.session, wave.id, code))
        for wave, code in service.invited_questionnaires(db.session)
    ]
    return render_template("admin/invitations.html", rows=rows, status_names=STATUS_NAMES)


@bp.get("/invitations/<wave_code>/<questionnaire>")
@wave_view("admin", questionnaire=True)
def invitations_list(wave: Wave, questionnaire: str):
    if not service.by_invitation(db.session, questionnaire):
        abort(404)
    status = request.args.get("status") or None
    if status not in STATUS_NAMES:
        status = None
    reminder = request.args.get("reminder") == "1"
    page = max(1, int_arg("page", 1, largest=10**6))
    rows, total = service.invitation_rows(
        db.session,
        wave.id,
        questionnaire,
        status=status,
        reminder=reminder,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render_template(
        "admin/invitations_list.html",
        wave=wave,
        questionnaire=questionnaire,
        rows=rows,
        total=total,
        counts=service.status_counts(db.session, wave.id, questionnaire),
        status=status,
        reminder=reminder,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        status_names=STATUS_NAMES,
        export_form=InviteeExportForm(formdata=None),
        erased=service.invitee_count(db.session, wave.id, questionnaire, erased=True),
        deliveries=mailing.last_deliveries(db.session, [inv.id for inv, _p in rows]),
        opted_out=mailing.opted_out(db.session, [p.id for _inv, p in rows if p is not None]),
        mailings=[
            (
                m,
                mailing.mailing_counts(db.session, m.id),
                mailing.stalled(m),
                mailing.left_to_admin(m),
            )
            for m in mailing.mailings(db.session, wave.id, questionnaire)[:10]
        ],
        mail_ready=smtp.configured(current_app.config),
        mail_status_names=MAIL_STATUS_NAMES,
        mail_kind_names=MAIL_KIND_NAMES,
        mail_reason=mail_reason,
    )


@bp.post("/invitations/<wave_code>/<questionnaire>/invitees.csv")
@wave_view("admin", questionnaire=True)
def invitees_export(wave: Wave, questionnaire: str):
    """The names and contact details of the invitees: personal data, so confirmed and logged."""
    if not service.by_invitation(db.session, questionnaire):
        abort(404)
    form = InviteeExportForm()
    if not form.validate_on_submit() or not form.confirm.data:
        flash(_("Tick the box to confirm before downloading the list of invitees."), "error")
        return redirect(
            url_for("admin.invitations_list", wave_code=wave.code, questionnaire=questionnaire)
        )
    count = service.invitee_count(db.session, wave.id, questionnaire)
    erased = service.invitee_count(db.session, wave.id, questionnaire, erased=True)
    details = {"wave": wave.code, "questionnaire": questionnaire, "count": count}
    if erased:
        details["erased_left_out"] = erased
    with db.transaction() as tx:
        audit.record(tx, "export_invitees", {**details, "personal_data": True})
    chunks = service.invitees_csv_chunks(db.session, wave.id, questionnaire)
    return download(
        stream_with_context(itertools.chain(["\ufeff"], chunks)),
        f"{wave.code}-{questionnaire}-invitees.csv",
        "text/csv",
        headers={"Cache-Control": "no-store"},  # personal data, whatever the blueprint's rule
    )


# --- import -------------------------------------------------------------------------------------


def _import_form(read_request: bool = True) -> ImportForm:
    form = ImportForm() if read_request else ImportForm(formdata=None)
    pairs = service.invited_questionnaires(db.session)
    waves: dict[str, Wave] = {}
    for wave, _code in pairs:
        waves.setdefault(wave.code, wave)
    form.wave.choices = [
        (code, f"{code}: {w.title.get(_lang(), code)}") for code, w in waves.items()
    ]
    form.questionnaire.choices = sorted({(code, code) for _wave, code in pairs})
    form.lang.choices = [(lang, LANGUAGE_NAMES.get(lang, lang)) for lang in LANGUAGES]
    if not form.is_submitted():
        form.wave.data = request.args.get("wave") or form.wave.data
        form.questionnaire.data = request.args.get("questionnaire") or form.questionnaire.data
        form.lang.data = form.lang.data or LANGUAGES[0]
    return form


def _lang() -> str:
    return getattr(g, "lang", None) or LANGUAGES[0]


@bp.route("/invitations/import", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own CSRF token, after the larger upload limit is set
@role_required("admin")
def invitations_import():
    if request.method == "POST" and not upload_fits(UPLOAD_LIMIT):
        form = _import_form(read_request=False)
        message = _(
            "The file is larger than %(size)s MB. Remove other sheets or columns, or split "
            "the list into several files.",
            size=UPLOAD_LIMIT // (1024 * 1024),
        )
        page = render_template("admin/invitations_import.html", form=form, problem=message)
        return page, 413
    form = _import_form()
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return render_template("admin/invitations_import.html", form=form), status
    upload = form.file.data
    data = upload.read(UPLOAD_LIMIT + 1)
    try:
        invitees = invitee_file.read_invitee_file(data, upload.filename or "")
        links_id = _import(form, invitees, upload.filename or "")
    except invitee_file.InviteeFileInvalid as exc:
        return render_template(
            "admin/invitations_import.html", form=form, row_errors=exc.problems
        ), 400
    except service.InvitationError as exc:
        return render_template("admin/invitations_import.html", form=form, problem=str(exc)), 400
    return render_template(
        "admin/invitations_imported.html",
        count=len(invitees.rows),
        ignored=invitees.ignored_columns,
        links_id=links_id,
        wave_code=form.wave.data,
        questionnaire=form.questionnaire.data,
        minutes=int(link_store.LINKS_LIFETIME.total_seconds() // 60),
    )


def _import(form: ImportForm, invitees: invitee_file.InviteeFile, filename: str) -> str:
    """Store the invitees and keep their links for one download, both or neither (one
    transaction)."""
    with db.transaction() as tx:
        wave = service.invitation_wave(tx, form.wave.data, form.questionnaire.data)
        links = service.import_invitees(
            tx, wave, form.questionnaire.data, invitees, _base_url(), form.lang.data, filename
        )
        meta = {"wave": wave.code, "questionnaire": form.questionnaire.data}
        meta["count"] = len(links)
        return link_store.keep_links(
            tx, _secret(), current_user.id, service.links_csv_bytes(links), meta
        )


@bp.get("/invitations/links/<links_id>")
@role_required("admin")
def invitations_links(links_id: str):
    with db.transaction() as tx:
        taken = link_store.take_links(tx, _secret(), links_id, current_user.id)
        if taken is not None:
            data, meta = taken
            audit.record(
                tx,
                "invitation_links_downloaded",
                {k: meta.get(k) for k in ("wave", "questionnaire", "count")},
            )
    if taken is None:
        return render_template("admin/invitations_links_gone.html"), 404
    return download(
        data,
        f"links-{meta.get('wave', 'wave')}-{meta.get('questionnaire', 'q')}.csv",
        "text/csv",
        headers={"Cache-Control": "no-store"},  # the links open the questionnaires
    )


# --- revoke and reissue -------------------------------------------------------------------------


def _details(invitation: Invitation) -> dict:
    wave = db.session.get(Wave, invitation.wave_id)
    return {
        "wave": wave.code if wave else None,
        "questionnaire": invitation.questionnaire_code,
        "invitation": invitation.id,
        "invitee": invitation.invitee_id,
    }


def _back_to_list(invitation: Invitation):
    wave = db.session.get(Wave, invitation.wave_id)
    return redirect(
        url_for(
            "admin.invitations_list",
            wave_code=wave.code,
            questionnaire=invitation.questionnaire_code,
        )
    )


def _invitation_or_404(invitation_id: int) -> Invitation:
    return db.session.get(Invitation, invitation_id) or abort(404)


@bp.post("/invitations/<int:invitation_id>/revoke")
@role_required("admin")
def invitation_revoke(invitation_id: int):
    _invitation_or_404(invitation_id)
    try:
        with db.transaction() as tx:
            invitation = service.revoke(tx, invitation_id)
            audit.record(tx, "invitation_revoked", _details(invitation))
    except service.InvitationError as exc:
        flash(str(exc), "error")
        return _back_to_list(_invitation_or_404(invitation_id))
    flash(_("The link is revoked: it now shows that it is not valid."), "info")
    return _back_to_list(invitation)


@bp.post("/invitations/<int:invitation_id>/reissue")
@role_required("admin")
def invitation_reissue(invitation_id: int):
    _invitation_or_404(invitation_id)
    lang = request.form.get("link_lang")
    lang = lang if lang in LANGUAGES else LANGUAGES[0]
    try:
        with db.transaction() as tx:
            invitation, token = service.reissue(tx, invitation_id)
            audit.record(tx, "invitation_reissued", _details(invitation))
    except service.InvitationError as exc:
        flash(str(exc), "error")
        return _back_to_list(_invitation_or_404(invitation_id))
    invitee = db.session.get(Invitee, invitation.invitee_id) if invitation.invitee_id else None
    wave = db.session.get(Wave, invitation.wave_id)
    return render_template(
        "admin/invitations_reissued.html",
        invitation=invitation,
        invitee=invitee,
        wave=wave,
        link=service.personal_link(_base_url(), lang, token),
    )


# --- erasing an identity ------------------------------------------------------------------------


@bp.route("/invitees/<int:invitee_id>/erase", methods=["GET", "POST"])
@role_required("admin")
def invitee_erase(invitee_id: int):
    """A person asks to be forgotten (Decree 13/2023): their name and contacts are erased; that
    they answered, and their unlinked answers, stay."""
    person = db.session.get(Invitee, invitee_id) or abort(404)
    wave = db.session.get(Wave, person.wave_id)
    back = url_for(
        "admin.invitations_list", wave_code=wave.code, questionnaire=person.questionnaire_code
    )
    if person.erased_on is not None:
        flash(_("This person's name and contacts are erased already."), "info")
        return redirect(back)
    form = EraseIdentityForm()
    if form.validate_on_submit():
        with db.transaction() as tx:
            identities.erase_one(tx, invitee_id)
        flash(_("The name, e-mail and phone are erased. The erasure is in the audit log."), "info")
        return redirect(back)
    status = 400 if form.errors else 200
    return render_template(
        "admin/invitee_erase.html", person=person, wave=wave, form=form, back=back
    ), status
