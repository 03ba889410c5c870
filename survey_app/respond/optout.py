"""An invitee asks for no more e-mail about the survey, through the link at the foot of each
message. The link names the invitee and carries a signature (no token: it cannot open the
questionnaire); following it asks for a confirmation, so that a mail scanner that fetches every
link opts nobody out."""

from __future__ import annotations

from flask import abort, current_app, render_template, request

from ..extensions import db
from ..fieldwork import mailing
from ..models import Invitee
from .blueprint import bp


@bp.route("/optout/<int:invitee_id>/<signature>", methods=["GET", "POST"])
def mail_optout(invitee_id: int, signature: str):
    if invitee_id > 2**31 or not mailing.optout_valid(
        current_app.config["SECRET_KEY"], invitee_id, signature[:64]
    ):
        abort(404)
    if db.session.get(Invitee, invitee_id) is None:
        abort(404)
    if request.method == "GET":
        return render_template("respond/optout.html", done=False)
    # the form's CSRF token is checked by the app's CSRFProtect, as on every form
    with db.transaction() as tx:
        mailing.opt_out(tx, invitee_id)
    return render_template("respond/optout.html", done=True)
