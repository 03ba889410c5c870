"""Users on the web: create, disable, reset a password, give a role, an officer's unit and an
appraiser's set of units and blocks; unit officers imported from a CSV or Excel list. The rules
are `accounts.auth`'s, as for the `flask users` commands."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..accounts import auth
from ..appraisal import officer_file
from ..appraisal.access import scope_of, scopes
from ..appraisal.officer_file import EMAIL_SHAPE
from ..appraisal.operations import all_units
from ..extensions import csrf, db
from ..models import ROLES, User
from ..urls import upload_fits
from .blueprint import bp

#: An officer list of a whole province is a few hundred rows.
UPLOAD_LIMIT = 2 * 1024 * 1024


class UserForm(FlaskForm):
    email = StringField(
        _l("E-mail"), validators=[DataRequired(), Regexp(EMAIL_SHAPE.pattern), Length(max=254)]
    )
    password = PasswordField(_l("Password"), validators=[Optional()])
    role = SelectField(_l("Role"))
    unit = SelectField(_l("Unit (unit officers)"), coerce=str)
    #: an appraiser's set: single units (ticked, from any block) and whole blocks
    units = SelectMultipleField(_l("Units appraised (appraisers)"), coerce=int)
    blocks = StringField(_l("Blocks appraised (appraisers)"), validators=[Length(max=1000)])


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired()])


class ConfirmForm(FlaskForm):
    """A button: the CSRF token is the form."""


class OfficerImportForm(FlaskForm):
    file = FileField(
        _l("List of unit officers"),
        validators=[
            FileRequired(message=_l("Choose the file with the list of unit officers.")),
            FileAllowed(
                ["csv", "xlsx"],
                message=_l("Upload a CSV file (.csv) or an Excel workbook (.xlsx)."),
            ),
        ],
    )


def _user_form(user: User | None = None, **kwargs) -> UserForm:
    form = UserForm(**kwargs)
    form.role.choices = [(role, role) for role in ROLES]  # named in the page (role_names)
    units = all_units(db.session)
    form.unit.choices = [("", "–")] + [
        (str(u.id), f"{u.name} ({u.code}, {u.block})") for u in units
    ]
    form.units.choices = [(u.id, f"{u.name} ({u.code})") for u in units]
    form.units_by_block = {}
    for u in units:
        form.units_by_block.setdefault(u.block, []).append(u)
    if user is not None and not form.is_submitted():
        form.role.data = user.role
        form.unit.data = str(user.unit_id or "")
        scope = scope_of(db.session, user.id)
        form.units.data = sorted(scope.units)
        form.blocks.data = ", ".join(sorted(scope.blocks))
    return form


def _scope(form: UserForm) -> tuple[int | None, list[int], list[str]]:
    """The officer's unit, the appraiser's units and blocks; errors on the form's fields."""
    unit_id = int(form.unit.data) if form.unit.data else None
    units = list(form.units.data or [])
    blocks = [b.strip() for b in (form.blocks.data or "").split(",") if b.strip()]
    if form.role.data == "officer" and unit_id is None:
        form.unit.errors.append(_("Choose the officer's unit."))
    if form.role.data == "appraiser":
        if unit_id is not None:
            form.unit.errors.append(
                _('An appraiser\'s units are ticked under "Units appraised"; leave this empty.')
            )
        for block in blocks:
            if len(block) > 64:
                form.blocks.errors.append(
                    _("The block %(block)s is longer than 64 characters.", block=block[:70])
                )
    return unit_id, units, blocks


def _known_blocks() -> list[str]:
    return sorted({u.block for u in all_units(db.session)})


def _form_page(form: UserForm, user: User | None, **kwargs):
    return render_template(
        "admin/user_form.html", form=form, user=user, known_blocks=_known_blocks(), **kwargs
    )


@bp.get("/users")
@auth.role_required("admin")
def users():
    units = {u.id: u for u in all_units(db.session)}
    return render_template(
        "admin/users.html",
        users=auth.all_users(db.session),
        units=units,
        scopes=scopes(db.session),
        confirm=ConfirmForm(formdata=None),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@auth.role_required("admin")
def user_new():
    form = _user_form()
    if form.validate_on_submit():
        unit_id, unit_ids, blocks = _scope(form)
        password = form.password.data or ""
        if len(password) < auth.MIN_PASSWORD_LENGTH:
            form.password.errors.append(
                _("At least %(num)s characters.", num=auth.MIN_PASSWORD_LENGTH)
            )
        if not form.errors:
            try:
                with db.transaction() as tx:
                    user = auth.create_user(tx, form.email.data, password, form.role.data)
                    auth.audit.record(tx, "user_created", {"email": user.email, "role": user.role})
                    auth.assign(tx, user, form.role.data, unit_id, unit_ids, blocks)
            except auth.EmailTaken:
                form.email.errors.append(_("Another user has this e-mail."))
            else:
                flash(_("User %(email)s created.", email=user.email), "info")
                return redirect(url_for("admin.users"))
    return _form_page(form, None), 400 if form.errors else 200


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@auth.role_required("admin")
def user_edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = _user_form(user)
    del form.password, form.email  # the e-mail is the login: not changed here
    if form.validate_on_submit():
        unit_id, unit_ids, blocks = _scope(form)
        if user.id == current_user.id and form.role.data != user.role:
            form.role.errors.append(_("You cannot change your own role."))
        if not form.errors:
            with db.transaction() as tx:
                user = tx.get(User, user_id)
                auth.assign(tx, user, form.role.data, unit_id, unit_ids, blocks)
            flash(_("User %(email)s saved.", email=user.email), "info")
            return redirect(url_for("admin.users"))
    page = _form_page(form, user, reset=PasswordResetForm(formdata=None))
    return page, 400 if form.errors else 200


@bp.post("/users/<int:user_id>/active")
@auth.role_required("admin")
def user_active(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if user.id == current_user.id:
        flash(_("You cannot disable your own account."), "warning")
        return redirect(url_for("admin.users"))
    with db.transaction() as tx:
        user = tx.get(User, user_id)
        auth.set_active(tx, user, not user.active)
    flash(_("User %(email)s saved.", email=user.email), "info")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password")
@auth.role_required("admin")
def user_password(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    reset = PasswordResetForm()
    if reset.validate_on_submit():
        try:
            with db.transaction() as tx:
                auth.change_password(tx, tx.get(User, user_id), reset.password.data)
        except auth.PasswordTooShort:
            reset.password.errors.append(
                _("At least %(num)s characters.", num=auth.MIN_PASSWORD_LENGTH)
            )
        else:
            flash(_("The password of %(email)s is changed.", email=user.email), "info")
            return redirect(url_for("admin.users"))
    form = _user_form(user)
    del form.password, form.email
    return _form_page(form, user, reset=reset), 400


@bp.route("/users/import", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own CSRF token, after the larger upload limit is set
@auth.role_required("admin")
def officers_import():
    if request.method == "POST" and not upload_fits(UPLOAD_LIMIT):
        form = OfficerImportForm(formdata=None)
        problem = _("The file is larger than %(size)s MB.", size=UPLOAD_LIMIT // (1024 * 1024))
        return render_template("admin/officers_import.html", form=form, problem=problem), 413
    form = OfficerImportForm()
    if not form.validate_on_submit():
        page = render_template("admin/officers_import.html", form=form)
        return page, 400 if form.errors else 200
    upload = form.file.data
    try:
        rows = officer_file.read_officer_file(upload.read(UPLOAD_LIMIT + 1), upload.filename or "")
        with db.transaction() as tx:
            made = officer_file.import_officers(tx, rows)
    except officer_file.InviteeFileInvalid as exc:
        page = render_template("admin/officers_import.html", form=form, row_errors=exc.problems)
        return page, 400
    # the first passwords are shown on this answer only, never stored or put in a cookie
    response = render_template("admin/officers_imported.html", made=made)
    return response, 200, {"Cache-Control": "no-store"}
