"""Invitations and reminders by e-mail: write the message (both languages, placeholders), see it
as the first recipient will, then send it in the background at a set rate."""

from __future__ import annotations

import hashlib
import json

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange

from ..accounts.auth import role_required
from ..extensions import db
from ..fieldwork import invitations as service
from ..fieldwork import mail_templates, mailing, smtp
from ..handlers import wave_view
from ..i18n import LANGUAGES
from ..models import Mailing, Wave
from .blueprint import bp

LANGS = LANGUAGES


class MailForm(FlaskForm):
    kind = SelectField(
        _l("What to send"),
        choices=[
            SelectChoice("invitation", _l("Invitations (to those never e-mailed)")),
            SelectChoice("reminder", _l("Reminders (to those who have not completed)")),
        ],
    )
    language = SelectField(
        _l("Language of the e-mail"),
        choices=[
            SelectChoice("both", _l("Vietnamese and English in one e-mail")),
            SelectChoice("vi", _l("Vietnamese")),
            SelectChoice("en", _l("English")),
        ],
    )
    subject_vi = StringField(_l("Subject (Vietnamese)"), validators=[Length(max=300)])
    body_vi = TextAreaField(_l("Message (Vietnamese)"), validators=[Length(max=10000)])
    subject_en = StringField(_l("Subject (English)"), validators=[Length(max=300)])
    body_en = TextAreaField(_l("Message (English)"), validators=[Length(max=10000)])
    per_minute = IntegerField(
        _l("E-mails per minute"),
        default=30,
        validators=[
            InputRequired(message=_l("Enter how many e-mails to send per minute.")),
            NumberRange(1, 600, message=_l("Enter a number from 1 to 600.")),
        ],
    )
    previewed = HiddenField()

    def used_langs(self) -> tuple[str, ...]:
        return LANGS if self.language.data == "both" else (self.language.data,)

    def check_texts(self) -> list[str]:
        """Problems with the texts of the languages used, each naming its field."""
        problems = []
        for lang in self.used_langs():
            for name in (f"subject_{lang}", f"body_{lang}"):
                field = self[name]
                if not (field.data or "").strip():
                    problems.append(_("%(field)s: write it.", field=field.label.text))
                    continue
                try:
                    mail_templates.check(field.data, str(field.label.text))
                except mail_templates.TemplateProblem as exc:
                    problems.append(str(exc))
            if "{link}" not in (self[f"body_{lang}"].data or ""):
                problems.append(
                    _(
                        "%(field)s: put {link} in it, or the invitee has no way to answer.",
                        field=self[f"body_{lang}"].label.text,
                    )
                )
        return problems

    def fields(self, questionnaire: str) -> dict:
        langs = self.used_langs()
        return {
            "kind": self.kind.data,
            "language": self.language.data,
            "questionnaire_code": questionnaire,
            "subject": {lang: self[f"subject_{lang}"].data.strip() for lang in langs},
            "body": {lang: self[f"body_{lang}"].data.replace("\r\n", "\n") for lang in langs},
            "per_minute": self.per_minute.data,
        }


def digest(fields: dict) -> str:
    """What the admin saw in the preview: sending needs the same texts and choices."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _base_url() -> str:
    return current_app.config["PUBLIC_URL"] or request.host_url


def _form(kind: str) -> MailForm:
    form = MailForm()
    if not form.is_submitted():
        form.kind.data = kind
        for lang in LANGS:
            subject, body = mail_templates.default_texts(kind, lang)
            form[f"subject_{lang}"].data = subject
            form[f"body_{lang}"].data = body
    return form


@bp.post("/invitations/mailings/<int:mailing_id>/resume")
@role_required("admin")
def mailing_resume(mailing_id: int):
    """Send the rest of a sending whose process stopped (a restart, a worker killed)."""
    sending = db.session.get(Mailing, mailing_id) or abort(404)
    wave = db.session.get(Wave, sending.wave_id)
    try:
        with db.transaction() as tx:
            mailing.resume(tx, mailing_id)
    except ValueError:
        flash(
            _("This sending is finished or still under way: there is nothing to resume."), "error"
        )
    else:
        flash(_("The sending is resumed: the e-mails not yet sent go out now."), "info")
    return redirect(
        url_for(
            "admin.invitations_list",
            wave_code=wave.code,
            questionnaire=sending.questionnaire_code,
        )
    )


@bp.route("/invitations/<wave_code>/<questionnaire>/mail", methods=["GET", "POST"])
@wave_view("admin", questionnaire=True)
def invitations_mail(wave: Wave, questionnaire: str):
    if not service.by_invitation(db.session, questionnaire):
        abort(404)
    kind = request.args.get("kind")
    form = _form(kind if kind in mailing.KINDS else "invitation")
    back = url_for("admin.invitations_list", wave_code=wave.code, questionnaire=questionnaire)
    ready = smtp.configured(current_app.config)
    context = {
        "form": form,
        "wave": wave,
        "questionnaire": questionnaire,
        "back": back,
        "ready": ready,
        "placeholders": mail_templates.PLACEHOLDERS,
    }
    if not form.is_submitted():
        count = len(mailing.recipients(db.session, wave.id, questionnaire, form.kind.data))
        return render_template("admin/invitations_mail.html", count=count, **context)
    if not form.validate():
        return render_template("admin/invitations_mail.html", **context), 400
    problems = form.check_texts()
    if problems:
        return render_template("admin/invitations_mail.html", problems=problems, **context), 400
    fields = form.fields(questionnaire)
    secret = current_app.config["SECRET_KEY"]
    if "send" not in request.form or form.previewed.data != digest(fields):
        sample, count = mailing.preview(db.session, fields, wave, secret, _base_url())
        form.previewed.data = digest(fields)
        return render_template(
            "admin/invitations_mail.html", sample=sample, count=count, previewed=True, **context
        )
    if not ready:
        flash(_("E-mail is not set up on this server (SMTP_HOST and MAIL_SENDER)."), "error")
        return redirect(back)
    with db.transaction() as tx:
        sent = mailing.create_mailing(
            tx,
            wave=tx.get(Wave, wave.id),
            questionnaire_code=questionnaire,
            kind=fields["kind"],
            language=fields["language"],
            subject=fields["subject"],
            body=fields["body"],
            per_minute=fields["per_minute"],
            base_url=_base_url(),
            secret_key=secret,
            actor=current_user.email,
        )
    counts = mailing.mailing_counts(db.session, sent.id)
    total = sum(counts.values())
    flash(
        _(
            "%(num)s e-mails are queued; they go out at %(rate)s per minute. Their statuses "
            "are in the list below.",
            num=total,
            rate=fields["per_minute"],
        ),
        "info",
    )
    return redirect(back)
