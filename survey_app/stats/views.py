"""Statisticians' pages: thin views over `services`, `runs` and `data`."""

from __future__ import annotations

import itertools
from pathlib import Path

from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from analysis.choices import METHODS

from ..accounts import audit
from ..accounts.auth import role_required
from ..downloads import download
from ..extensions import db
from ..fieldwork.waves import all_waves, complete_by_wave, complete_counts
from ..handlers import wave_view
from ..i18n import LANGUAGES
from ..models import AnalysisRun, Wave
from ..urls import int_arg
from . import data, names, queue, rendered, runs, services
from .blueprint import bp
from .forms import RunForm, UploadForm

RESPONSE_FORMATS = {
    "csv": "text/csv",  # Werkzeug adds the charset
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
}
#: Every CSV download starts with it: Excel reads a CSV without it in the local code page, and
#: Vietnamese comes out garbled. pandas, R and Python's utf-8-sig read past it.
EXCEL_BOM = "\ufeff".encode()
RUN_FILE_TYPES = {".csv": "text/csv", ".xlsx": RESPONSE_FORMATS["xlsx"]}


def _run_or_404(run_id: int) -> AnalysisRun:
    return db.session.get(AnalysisRun, run_id) or abort(404)


def _chosen_run(wave: Wave, done: bool) -> AnalysisRun | None:
    """The run the address names (`?run=`), which must be the wave's (and finished, with
    `done`); None when it names none."""
    run_id = int_arg("run")
    if not run_id:
        return None
    run = _run_or_404(run_id)
    if run.wave_id != wave.id or (done and run.status != "done"):
        abort(404)
    return run


def _audit_export(what: str, **details) -> None:
    with db.transaction() as tx:
        audit.record(tx, "export_" + what, details)


@bp.get("/stats.css")
@role_required("statistician")
def stylesheet():
    """The pages' and the report's styles (print styles too), behind the login like the pages."""
    css = (Path(__file__).parent / "static" / "stats.css").read_text(encoding="utf-8")
    return Response(css, mimetype="text/css")


@bp.get("/")
@role_required("statistician")
def home():
    waves = all_waves(db.session)
    complete = complete_by_wave(db.session)
    rows = [(wave, complete[wave.id]) for wave in waves]
    codes = {code for _wave, counts in rows for code in counts}
    return render_template("stats/home.html", rows=rows, titles=names.titles(db.session, codes))


def _run_form() -> RunForm:
    form = RunForm()
    form.scheme.choices = [
        SelectChoice(name, f"{title} ({name})")
        for name, title in services.scheme_names(g.lang).items()
    ]
    # each method by what it does; its code stays beside it, as the hint and the files name it
    form.method.choices = [form.method.choices[0]] + [
        SelectChoice(method, f"{names.method_name(method)} ({method})") for method in METHODS
    ]
    return form


def _wave_page(wave, upload=None, run_form=None, upload_error=None, status=200):
    upload = upload or UploadForm(formdata=None)
    run_form = run_form or _run_form()
    if run_form.scheme.data is None and run_form.scheme.choices:
        run_form.scheme.data = run_form.scheme.choices[0].value
    with db.transaction() as tx:
        queue.recover_in_process(tx)  # a run the app's process left behind says so
    run_list = runs.runs_of(db.session, wave)
    return (
        render_template(
            "stats/wave.html",
            wave=wave,
            counts=complete_counts(db.session, wave),
            inputs=services.inputs(db.session, wave),
            upload=upload,
            upload_error=upload_error,
            run_form=run_form,
            runs=run_list,
            latest=runs.latest_done(db.session, wave),
            formats=RESPONSE_FORMATS,
            titles=names.titles(db.session, [wq.questionnaire_code for wq in wave.questionnaires]),
            method_name=names.method_name,
        ),
        status,
    )


@bp.get("/waves/<wave_code>")
@wave_view("statistician")
def wave(wave: Wave):
    return _wave_page(wave)


@bp.post("/waves/<wave_code>/inputs")
@wave_view("statistician")
def upload_input(wave: Wave):
    form = UploadForm()
    if not form.validate_on_submit():
        return _wave_page(wave, upload=form, status=400)
    upload = form.file.data
    try:
        with db.transaction() as tx:
            facts = services.save_input(
                tx, wave, form.kind.data, upload.filename or "", upload.read()
            )
            audit.record(
                tx, "stats_input_uploaded", {"wave": wave.code, "kind": form.kind.data, **facts}
            )
    except services.InputInvalid as exc:
        message = _(
            "The file was not accepted: %(reason)s. Correct it and upload it again.",
            reason=str(exc),
        )
        return _wave_page(wave, upload=form, upload_error=message, status=400)
    flash(_("The file was checked and saved for this wave."), "info")
    return redirect(url_for("stats.wave", wave_code=wave.code))


@bp.post("/waves/<wave_code>/runs")
@wave_view("statistician")
def run_new(wave: Wave):
    form = _run_form()
    if not form.validate_on_submit():
        return _wave_page(wave, run_form=form, status=400)
    try:
        params = services.run_parameters(
            db.session,
            wave,
            form.scheme.data,
            form.options(),
            use_appraisal=form.use_appraisal.data,
            use_previous=form.use_previous.data,
        )
    except services.InputMissing as exc:
        return _wave_page(wave, run_form=form, upload_error=str(exc), status=400)
    with db.transaction() as tx:
        run = runs.start(tx, wave, params, current_user.email)
        queue.enqueue(tx, run)  # deferred with the run, or started once it is committed
        audit.record(tx, "stats_run_started", {"wave": wave.code, "run": run.id})
    return redirect(url_for("stats.run_view", run_id=run.id))


@bp.get("/runs/<int:run_id>")
@role_required("statistician")
def run_view(run_id: int):
    run = _run_or_404(run_id)
    if run.status in ("queued", "running"):
        with db.transaction() as tx:
            queue.recover_in_process(tx)
    db.session.refresh(run)
    if run.status in ("queued", "running"):
        response = Response(render_template("stats/run_progress.html", run=run))
        # Reload every 2 seconds until the run ends; no JavaScript needed.
        response.headers["Refresh"] = "2"
        return response
    if run.status == "failed":
        return render_template("stats/run_failed.html", run=run)
    if not runs.has_results(db.session, run):  # made before its files were kept (0007)
        return render_template("stats/run_files_missing.html", run=run), 404
    results_html = rendered.results_html(db.session, run, "run")
    return render_template(
        "stats/run.html",
        run=run,
        results_html=results_html,
        named=services.run_names(db.session, run, g.lang),
    )


@bp.get("/runs/<int:run_id>/files/<name>")
@role_required("statistician")
def run_file(run_id: int, name: str):
    run = _run_or_404(run_id)
    content = services.run_file(db.session, run, name)
    if content is None:
        abort(404)
    wave = run.wave
    _audit_export("run_file", wave=wave.code, run=run.id, file=name)
    if name.endswith(".csv") and not content.startswith(EXCEL_BOM):
        content = EXCEL_BOM + content
    return download(
        content,
        f"{wave.code}-run{run.id}-{name}",
        RUN_FILE_TYPES.get(Path(name).suffix, "application/octet-stream"),
    )


@bp.get("/waves/<wave_code>/report")
@wave_view("statistician")
def wave_report(wave: Wave):
    run = _chosen_run(wave, done=True) or runs.latest_done(db.session, wave)
    if run is None:
        return render_template("stats/report_none.html", wave=wave), 404
    if not runs.has_results(db.session, run):
        return render_template("stats/run_files_missing.html", run=run), 404
    results_html = rendered.results_html(db.session, run, "report")
    return render_template(
        "stats/report.html",
        wave=wave,
        run=run,
        results_html=results_html,
        named=services.run_names(db.session, run, g.lang),
    )


# ---------------------------------------------------------------------------------------------
# Exports from the database


@bp.get("/waves/<wave_code>/responses/<questionnaire>.<fmt>")
@wave_view("statistician", questionnaire=True)
def export_responses(wave: Wave, questionnaire: str, fmt: str):
    # pandas, with `analysis.export`: imported where used (see `survey_app.stats.chain`)
    from analysis.export import frame_csv_chunks, write_labelled, write_xlsx

    if fmt not in RESPONSE_FORMATS:
        abort(404)
    definition = data.questionnaire_definition(db.session, questionnaire)
    if definition is None:
        abort(404)
    labels = request.args.get("labels", "codes")
    if labels != "codes" and labels not in LANGUAGES:
        abort(400)
    run = _chosen_run(wave, done=False)
    group = services.weighted_group(run, questionnaire)
    weights = services.weights_by_response(db.session, run, group) if group else None
    columns = data.header(db.session, questionnaire) + ([data.WEIGHT] if weights else [])
    language = labels if labels != "codes" else g.lang
    details = {"wave": wave.code, "questionnaire": questionnaire, "format": fmt, "labels": labels}
    details["run"] = run.id if run else None
    name = f"{wave.code}-{questionnaire}-responses"
    frames = data.chunks(db.session, questionnaire, wave.code, weights)
    if fmt in ("csv", "xlsx") and labels != "codes":
        frames = data.labelled_frames(frames, definition, labels)
        name += f"-{labels}"
    if fmt == "csv":
        _audit_export("responses", **details)  # streamed: logged as it starts
        return download(
            stream_with_context(itertools.chain(["\ufeff"], frame_csv_chunks(frames, columns))),
            name + ".csv",
            RESPONSE_FORMATS["csv"],
        )
    path = data.temporary_file("." + fmt)
    try:
        if fmt == "xlsx":
            write_xlsx(path, {questionnaire: (columns, frames)})
        else:
            write_labelled(
                path,
                fmt,
                frames,
                definition,
                language,
                extra_labels={data.WEIGHT: _("Final weight")},
                file_label=f"{wave.code} {questionnaire}",
            )
            name += f"-{language}"
    except Exception:
        path.unlink(missing_ok=True)
        raise
    _audit_export("responses", **details)  # logged once the file exists, not for a failed one
    response = download(
        data.file_blocks(path),
        f"{name}.{fmt}",
        RESPONSE_FORMATS[fmt],
        headers={"Content-Length": str(path.stat().st_size)},
    )
    # The temporary file goes when the download ends, read to the end or not.
    response.call_on_close(lambda: path.unlink(missing_ok=True))
    return response


@bp.get("/waves/<wave_code>/codebook/<questionnaire>.<fmt>")
@wave_view("statistician", questionnaire=True)
def export_codebook(wave: Wave, questionnaire: str, fmt: str):
    from analysis.export import codebook, codebook_html, frame_csv_chunks

    if fmt not in ("csv", "html"):
        abort(404)
    definition = data.questionnaire_definition(db.session, questionnaire)
    if definition is None:
        abort(404)
    _audit_export("codebook", wave=wave.code, questionnaire=questionnaire, format=fmt)
    if fmt == "csv":
        table = codebook(definition)
        return download(
            "\ufeff" + "".join(frame_csv_chunks([table], list(table.columns))),
            f"{questionnaire}-codebook.csv",
            RESPONSE_FORMATS["csv"],
        )
    headings = {
        "title": _("Codebook"),
        "variable": _("Variable"),
        "type": _("Type"),
        "question": _("Question"),
        "values": _("Values"),
        "missing": _("missing"),
        "page": _("Page"),
    }
    page = codebook_html(definition, g.lang, headings)
    # opens in the browser tab (and "save as" keeps the name); a stand-alone document with its
    # own <style> and no script, so it gets a policy of its own
    return download(
        page,
        f"{questionnaire}-codebook-{g.lang}.html",
        "text/html",
        disposition="inline",
        headers={
            "Content-Security-Policy": (
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
                "base-uri 'none'; form-action 'none'"
            ),
        },
    )
