"""Forms of the appraisal pages; the points forms are made per round, one field pair per
criterion, as Indico builds a survey's form from its questions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .criteria import AppraisalCriterion
from .operations import PointsEntry


class PointsFormBase(FlaskForm):
    codes: list[str]

    def entries(self) -> dict[str, PointsEntry]:
        found = {}
        for i, code in enumerate(self.codes):
            text = (self[f"points_{i}"].data or "").strip().replace(",", ".")
            points = float(text) if text else None
            found[code] = PointsEntry(points, self[f"text_{i}"].data or "")
        return found

    def post_validate_points(self) -> bool:
        ok = True
        for i in range(len(self.codes)):
            field = self[f"points_{i}"]
            text = (field.data or "").strip().replace(",", ".")
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                value = float("nan")
            if value != value or value in (float("inf"), float("-inf")):
                field.errors.append(_l("Write the points as a number, e.g. 1.25."))
                ok = False
        return ok


def points_form(criteria: list[AppraisalCriterion], text_label) -> type[PointsFormBase]:
    """A form class with `points_<i>` and `text_<i>` for each criterion, in order."""

    class PointsForm(PointsFormBase):
        codes = [c.code for c in criteria]

    for i in range(len(criteria)):
        setattr(
            PointsForm,
            f"points_{i}",
            StringField(_l("Points"), validators=[Optional(), Length(max=12)]),
        )
        setattr(PointsForm, f"text_{i}", TextAreaField(text_label, validators=[Length(max=4000)]))
    return PointsForm


class EvidenceForm(FlaskForm):
    criterion = StringField(validators=[DataRequired(), Length(max=64)])
    file = FileField(_l("Document (PDF, image or office file)"))
    url = StringField(_l("or a link to a published document"), validators=[Length(max=1000)])


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("Your answer to the council"), validators=[DataRequired(), Length(max=8000)]
    )


class ConsiderForm(FlaskForm):
    note = TextAreaField(_l("The council's note on the answer"), validators=[Length(max=4000)])


class RoundForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(2000, 2100)])
    scheme = SelectField(_l("Scoring scheme"), validators=[InputRequired()])
    block = StringField(_l("Block"), validators=[DataRequired(), Length(max=64)])
    points_step = StringField(_l("Points are given in steps of"), default="0.25")
    self_deadline = DateTimeLocalField(
        _l("Self-assessment deadline"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )

    def validate_points_step(self, field) -> None:
        from wtforms.validators import ValidationError

        try:
            value = float((field.data or "").replace(",", "."))
        except ValueError:
            value = 0
        if not 0 < value <= 100:
            raise ValidationError(_l("Give a step above 0, e.g. 0.25."))
        field.parsed = value


class PublishForm(FlaskForm):
    answer_opens_at = DateTimeLocalField(
        _l("Units may answer from"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    answer_closes_at = DateTimeLocalField(
        _l("until"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )


class ConfirmForm(FlaskForm):
    """A button only: the CSRF token is the form."""


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        _l("Why the round is reopened"), validators=[DataRequired(), Length(max=2000)]
    )


class SendForm(FlaskForm):
    wave = SelectField(_l("Wave whose index takes the appraised points"))
