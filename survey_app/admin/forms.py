"""Admin forms: Flask-WTF for CSRF and validation, messages in the catalogs."""

from __future__ import annotations

import datetime as dt

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, Field, PasswordField, SelectField, StringField
from wtforms.validators import (
    AnyOf,
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from ..accounts.auth import MIN_PASSWORD_LENGTH
from ..fieldwork.quotas import WHEN_FULL
from ..i18n import LANGUAGES, language_name
from ..models import WAVE_STATUSES
from ..questionnaire.definition import ACCESS


class LoginForm(FlaskForm):
    email = StringField(
        _l("E-mail"),
        validators=[DataRequired(message=_l("Enter your e-mail address.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter your password.")), Length(max=200)],
    )


class PasswordForm(FlaskForm):
    """A staff member's own new password, given with the current one."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password.")), Length(max=200)],
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(message=_l("Enter a new password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l(
                    "The password needs at least %(num)s characters.", num=MIN_PASSWORD_LENGTH
                ),
            ),
            Length(max=200),
        ],
    )
    confirm_password = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(message=_l("Enter the new password a second time.")),
            EqualTo("new_password", message=_l("The two new passwords differ.")),
        ],
    )


#: Years a wave may open or close in: any survey this tool runs, with room either side (and far
#: from year 1 and 9999, where moving the time to UTC would leave the calendar).
WAVE_YEARS = range(2000, 2101)


#: How a date may be typed, beside the ISO form a browser's date picker sends: Vietnamese write
#: the day first (31/12/2026 17:00); English pages keep to ISO, where 06/01 would be ambiguous.
DAY_FIRST_LANGUAGES = {"vi"}


def _date_patterns(with_time: bool) -> tuple[str, ...]:
    patterns = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d") if with_time else ("%Y-%m-%d",)
    if getattr(g, "lang", None) in DAY_FIRST_LANGUAGES:
        patterns += ("%d/%m/%Y %H:%M", "%d/%m/%Y") if with_time else ("%d/%m/%Y",)
    return patterns


def _parse_date(text: str | None, with_time: bool) -> dt.datetime | None:
    if not text or not text.strip():
        return None
    for pattern in _date_patterns(with_time):
        try:
            parsed = dt.datetime.strptime(text.strip(), pattern)
        except ValueError:
            continue
        if parsed.year not in WAVE_YEARS:
            raise ValidationError(
                _l(
                    "Give a date between %(first)s and %(last)s.",
                    first=WAVE_YEARS[0],
                    last=WAVE_YEARS[-1],
                )
            )
        return parsed
    day_first = getattr(g, "lang", None) in DAY_FIRST_LANGUAGES
    if with_time:
        example = "31/12/2026 17:00" if day_first else "2026-12-31 17:00"
        raise ValidationError(_l("Write the date and time as %(example)s.", example=example))
    example = "31/12/2026" if day_first else "2026-12-31"
    raise ValidationError(_l("Write the date as %(example)s.", example=example))


def parse_local_datetime(text: str | None) -> dt.datetime | None:
    return _parse_date(text, with_time=True)


def parse_day(text: str | None) -> dt.date | None:
    parsed = _parse_date(text, with_time=False)
    return parsed.date() if parsed else None


class CodesField(Field):
    """Every value of a group of check boxes (rendered by the template, not by WTForms)."""

    def process_formdata(self, valuelist):
        self.data = [value for value in valuelist if value]

    def _value(self):
        return ""


class WaveForm(FlaskForm):
    #: (code, label) pairs, set by the view before validation.
    questionnaire_choices: list[tuple[str, str]] = []

    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(message=_l("Give the wave a short code.")),
            Regexp(
                r"^[a-z0-9][a-z0-9-]{1,62}$",
                message=_l("Use 2 to 63 lower-case letters, digits and hyphens, e.g. par-2025."),
            ),
        ],
    )
    status = StringField(
        _l("Status"),
        validators=[AnyOf(WAVE_STATUSES, message=_l("Choose one of the statuses listed."))],
    )
    opens_at = StringField(_l("Opens (local time)"), validators=[Optional()])
    closes_at = StringField(_l("Closes (local time)"), validators=[Optional()])
    identities_kept_until = StringField(
        _l("Keep invitees' names and contacts until"), validators=[Optional()]
    )
    questionnaires = CodesField(_l("Questionnaires"))

    def validate_questionnaires(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one questionnaire."))
        known = {value for value, _label in self.questionnaire_choices}
        if any(code not in known for code in field.data):
            raise ValidationError(_l("Choose among the questionnaires listed."))

    def validate_opens_at(self, field):
        field.parsed = parse_local_datetime(field.data)

    def validate_closes_at(self, field):
        field.parsed = parse_local_datetime(field.data)
        opens = getattr(self.opens_at, "parsed", None)
        if field.parsed and opens and field.parsed <= opens:
            raise ValidationError(_l("The wave must close after it opens."))

    def validate_identities_kept_until(self, field):
        field.parsed = parse_day(field.data)
        closes = getattr(self.closes_at, "parsed", None)
        if field.parsed and closes and field.parsed < closes.date():
            raise ValidationError(_l("Keep them at least until the wave closes."))


def _title_field(lang: str) -> StringField:
    # Lazy, so the language is named in the reader's own ("Vietnamese", "Tiếng Việt").
    return StringField(
        LazyString(lambda: _("Title in %(language)s", language=language_name(lang))),
        validators=[
            DataRequired(
                message=LazyString(
                    lambda: _("Give the title in %(language)s.", language=language_name(lang))
                )
            ),
            Length(max=200),
        ],
    )


# One title field per language (title_vi, title_en, ...), so a new catalog needs no new field.
for _lang in LANGUAGES:
    setattr(WaveForm, f"title_{_lang}", _title_field(_lang))


class InviteeExportForm(FlaskForm):
    confirm = BooleanField(
        _l("I need the names and contact details of the invitees and will protect them"),
        validators=[InputRequired(message=_l("Tick the box to confirm."))],
    )


class QuotaImportForm(FlaskForm):
    """A quota file and where it goes; the choices are the view's (waves and questionnaires)."""

    wave = SelectField(_l("Wave"), validate_choice=False)
    questionnaire = SelectField(_l("Questionnaire"), validate_choice=False, default="citizen")
    name = StringField(
        _l("Quota name"),
        default="main",
        filters=[lambda text: text.strip() if isinstance(text, str) else text],
        validators=[
            DataRequired(message=_l("Give the quota a name of at most 100 characters.")),
            Length(max=100, message=_l("Give the quota a name of at most 100 characters.")),
            # the form is multipart (a file), which the app-wide NUL check leaves to the form
            Regexp(r"^[^\x00-\x1f]*$", message=_l("The name may not hold control characters.")),
        ],
    )
    when_full = StringField(
        _l("When a cell is full"),
        default="screen_out",
        validators=[AnyOf(WHEN_FULL, message=_l("Choose what happens when a cell is full."))],
    )
    file = FileField(
        _l("CSV file"), validators=[FileRequired(message=_l("Choose a CSV file to import."))]
    )

    def validate_wave(self, field):
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose a wave."))

    def validate_questionnaire(self, field):
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose a questionnaire."))


class EraseIdentityForm(FlaskForm):
    confirm = BooleanField(
        _l("This person asked to be forgotten: erase their name, e-mail and phone for good"),
        validators=[InputRequired(message=_l("Tick the box to confirm."))],
    )


class XLSFormImportForm(FlaskForm):
    """An XLSForm and the questionnaire it becomes."""

    code = StringField(
        _l("Questionnaire code"),
        filters=[lambda text: text.strip() if isinstance(text, str) else text],
        validators=[
            Regexp(
                r"^(?!.*__)[a-z][a-z0-9_]{0,62}$",
                message=_l("The code is a-z, 0-9 and single _, starting with a letter."),
            )
        ],
    )
    group = StringField(
        _l("Respondent group"),
        default="citizen",
        filters=[lambda text: text.strip() if isinstance(text, str) else text],
        validators=[
            Regexp(
                r"^(?!.*__)[a-z][a-z0-9_]{0,15}$",
                message=_l(
                    "The group is a-z, 0-9 and single _, starting with a letter, at most 16 "
                    "characters."
                ),
            )
        ],
    )
    access = StringField(
        _l("Access"),
        default="open",
        validators=[AnyOf(ACCESS, message=_l("Choose open or invitation."))],
    )
    replace = BooleanField(_l("Replace the questionnaire of that code"))
    file = FileField(
        _l("XLSForm (.xlsx)"),
        validators=[FileRequired(message=_l("Choose an XLSForm (.xlsx) to import."))],
    )


class InvalidateForm(FlaskForm):
    """Why a response is marked invalid: kept with it and in the audit log."""

    reason = StringField(
        _l("Reason"),
        validators=[
            DataRequired(message=_l("Say why the response is not valid.")),
            Length(max=500, message=_l("At most %(max)s characters.", max=500)),
        ],
    )


class SiteLinkForm(FlaskForm):
    """A new site link; the choices are the wave's questionnaires with a `site_item` and that
    item's answers, set by the view."""

    questionnaire = SelectField(_l("Questionnaire"), validate_choice=False)
    site_value = SelectField(_l("Site (answer given for the respondent)"), validate_choice=False)
    name = StringField(
        _l("Name on the poster"),
        validators=[
            DataRequired(message=_l("Enter the site's name, as the poster shows it.")),
            Length(max=200, message=_l("The name is longer than %(max)s characters.", max=200)),
        ],
    )
