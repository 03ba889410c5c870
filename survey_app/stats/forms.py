"""Statisticians' forms: Flask-WTF for CSRF and validation, messages in the catalogs."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DecimalField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from analysis.choices import METHODS

if TYPE_CHECKING:  # numpy, pandas and scipy come with it: imported where used (stats/chain.py)
    from analysis import pipeline


def parse_pair(text: str | None) -> tuple[float, float] | None:
    """`pipeline.parse_bounds`, its refusals said as the form says them."""
    from analysis import pipeline

    try:
        return pipeline.parse_bounds(text)
    except pipeline.BoundsError as exc:
        if exc.order:
            raise ValidationError(_l("The first number must be smaller than the second.")) from None
        raise ValidationError(_l("Write two numbers separated by a comma, e.g. 0.5,3.")) from None


class UploadForm(FlaskForm):
    kind = SelectField(
        _l("What the file holds"),
        choices=[
            SelectChoice("targets", _l("Population targets (variable,level,target)")),
            SelectChoice("appraisal", _l("Appraisal scores (CSV or Excel)")),
            SelectChoice("previous", _l("Last year's index file (CSV)")),
        ],
        validators=[InputRequired()],
    )
    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file to upload."))])


class RunForm(FlaskForm):
    scheme = SelectField(_l("Scoring scheme"), validators=[InputRequired()])
    method = SelectField(
        _l("Weighting method"),
        choices=[SelectChoice("", _l("No weighting (every citizen weighs 1)"))]
        + [SelectChoice(m, m) for m in METHODS],
        validators=[Optional()],
    )
    bounds = StringField(
        _l("Bounds on the weight adjustment (L,U)"), validators=[Optional(), Length(max=40)]
    )
    trim = StringField(_l("Trim final weights to (L,U)"), validators=[Optional(), Length(max=40)])
    strata = StringField(
        _l("Stratum variable (optional)"),
        validators=[
            Optional(),
            Regexp(r"^[a-z][a-z0-9_]*$", message=_l("Give a question code, e.g. district.")),
        ],
    )
    cluster = StringField(
        _l("Cluster variable (optional)"),
        validators=[
            Optional(),
            Regexp(r"^[a-z][a-z0-9_]*$", message=_l("Give a question code, e.g. commune.")),
        ],
    )
    lonely_psu = SelectField(
        _l("A stratum with a single cluster"),
        choices=[
            SelectChoice("fail", _l("stop and say which (fail)")),
            SelectChoice("remove", _l("leave it out of the variance (remove)")),
            SelectChoice("certainty", _l("treat it as sampled with certainty (certainty)")),
            SelectChoice("adjust", _l("centre it at the overall mean (adjust)")),
            SelectChoice("average", _l("give it the average of the other strata (average)")),
        ],
        default="fail",
        validators=[Optional()],
    )
    level = DecimalField(
        _l("Confidence level"),
        default=Decimal("0.95"),
        places=None,
        validators=[
            Optional(),
            NumberRange(
                min=Decimal("0.5"),
                max=Decimal("0.999"),
                message=_l("Give a confidence level between 0.5 and 0.999, e.g. 0.95."),
            ),
        ],
    )
    interval = SelectField(
        _l("Intervals of shares and SIPAS"),
        choices=[
            SelectChoice("logit", _l("logit: always inside 0 to 100 %")),
            SelectChoice("wald", _l("Wald: estimate plus or minus a multiple of the SE")),
        ],
        default="logit",
        validators=[Optional()],
    )
    df = SelectField(
        _l("Quantile of the intervals"),
        choices=[
            SelectChoice("normal", _l("normal")),
            SelectChoice("design", _l("Student's t with the design's degrees of freedom")),
        ],
        default="normal",
        validators=[Optional()],
    )
    unit = StringField(
        _l("Question naming the rated unit (optional)"),
        validators=[
            Optional(),
            Regexp(r"^[a-z][a-z0-9_]*$", message=_l("Give a question code, e.g. district.")),
        ],
    )
    unit_code = StringField(
        _l("Code of the rated unit (optional)"),
        validators=[
            Optional(),
            Length(max=64),
            Regexp(r"^[\w.-]+$", message=_l("Use letters, digits, dots, hyphens and underscores.")),
        ],
    )
    use_appraisal = BooleanField(_l("Build the index with the uploaded appraisal scores"))
    use_previous = BooleanField(_l("Compare with the uploaded index of last year"))

    def validate_bounds(self, field):
        field.parsed = parse_pair(field.data)

    def validate_trim(self, field):
        field.parsed = parse_pair(field.data)

    def options(self) -> pipeline.Parameters:
        """The chain's parameters as the statistician chose them (after validation)."""
        from analysis import pipeline

        return pipeline.Parameters(
            method=self.method.data or None,
            bounds=getattr(self.bounds, "parsed", None),
            trim=getattr(self.trim, "parsed", None),
            strata=self.strata.data or None,
            cluster=self.cluster.data or None,
            lonely_psu=self.lonely_psu.data,
            unit=self.unit.data or None,
            unit_code=self.unit_code.data or None,
            # left empty, the field is optional: the default level
            level=float(self.level.default if self.level.data is None else self.level.data),
            interval=self.interval.data,
            df=self.df.data,
        )

    def validate_method(self, field):
        if field.data not in ("", *METHODS):
            raise ValidationError(_l("Choose one of the methods listed."))
        if field.data == "logit" and not (self.bounds.data or "").strip():
            raise ValidationError(_l("The logit method needs bounds, e.g. 0.3,3."))
