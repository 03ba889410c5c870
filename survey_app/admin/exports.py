"""Downloads for statisticians: the responses of a wave, coded, without personal data."""

from __future__ import annotations

from flask import Response, abort, render_template, stream_with_context
from sqlalchemy import func, select

from ..accounts import audit
from ..accounts.auth import role_required
from ..extensions import db
from ..fieldwork.responses_export import columns_and_items, csv_chunks
from ..handlers import wave_view
from ..models import Response as SurveyResponse
from ..models import Wave, WaveQuestionnaire
from . import bp


@bp.get("/exports")
@role_required("statistician")
def exports():
    counts = {
        (wave_id, code): n
        for wave_id, code, n in db.session.execute(
            select(
                SurveyResponse.wave_id,
                SurveyResponse.questionnaire_code,
                func.count(SurveyResponse.id),
            )
            .where(SurveyResponse.status == "complete")
            .group_by(SurveyResponse.wave_id, SurveyResponse.questionnaire_code)
        )
    }
    pairs = db.session.execute(
        select(Wave, WaveQuestionnaire.questionnaire_code)
        .join(WaveQuestionnaire)
        .order_by(Wave.created_at.desc(), WaveQuestionnaire.questionnaire_code)
    ).all()
    listing = [(wave, code, counts.get((wave.id, code), 0)) for wave, code in pairs]
    return render_template("admin/exports.html", listing=listing)


@bp.get("/exports/<wave_code>/<questionnaire>/responses.csv")
@wave_view("statistician", questionnaire=True)
def export_responses_csv(wave: Wave, questionnaire: str):
    code, wave_code = questionnaire, wave.code
    columns, _items = columns_and_items(db.session, code)
    if not columns:
        abort(404)
    with db.transaction() as tx:
        audit.record(
            tx, "export_responses", {"wave": wave_code, "questionnaire": code, "format": "csv"}
        )

    filename = f"{wave_code}-{code}-responses.csv"
    return Response(
        stream_with_context(csv_chunks(db.session, code, wave_code)),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
