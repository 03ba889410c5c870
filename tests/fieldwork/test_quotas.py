"""Quotas: import, form, screen-out only once the cell is known, and exact counts under
concurrent submits against a live server (gunicorn, several processes) on both databases."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from app_support import ROOT
from html_client import csrf_token, path_of
from server_support import (
    QUOTA_CSV,
    QUOTA_FORM,
    HttpRespondent,
    serving_app,
    submit_all_at_once,
)
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Quota, QuotaCell, Response, Wave, WaveQuestionnaire


@pytest.fixture
def quick_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    shutil.copy(ROOT / "questionnaires" / "shared.yaml", folder / "shared.yaml")
    (folder / "quick.yaml").write_text(QUOTA_FORM, encoding="utf-8")
    return folder


@pytest.fixture
def quick_app(app, quick_dir):
    from survey_app.questionnaire.store import sync_questionnaires

    app.config["QUESTIONNAIRE_DIR"] = str(quick_dir)
    with app.app_context(), db.transaction() as tx:
        sync_questionnaires(tx, quick_dir)
        wave = tx.scalars(select(Wave)).first()
        tx.add(WaveQuestionnaire(wave_id=wave.id, questionnaire_code="quick"))
    return app


def import_quota(runner, tmp_path, text=QUOTA_CSV, when_full="screen_out"):
    path = tmp_path / "quota.csv"
    path.write_text(text, encoding="utf-8")
    with runner.app.app_context():
        wave = db.session.scalars(select(Wave)).first().code
    return runner.invoke(
        args=[
            "quotas",
            "import",
            str(path),
            "--wave",
            wave,
            "--questionnaire",
            "quick",
            "--when-full",
            when_full,
        ],
        env={"PAR_LANG": "en"},
    )


def test_import_is_all_or_nothing_with_row_numbers(quick_app, runner, tmp_path):
    bad = (
        "district,sex,target\ncan_loc,female,5\natlantis,female,2\ncan_loc,male,-1\n"
        "can_loc,female,4\n"
    )
    result = import_quota(runner, tmp_path, bad)
    assert result.exit_code == 2
    assert "quota.csv:3: atlantis is not an answer of district." in result.output
    assert "quota.csv:4: the target must be a whole number of 0 or more, not -1." in result.output
    assert "quota.csv:5: this cell appears twice." in result.output
    superscript = import_quota(runner, tmp_path, "district,sex,target\ncan_loc,female,²\n")
    assert superscript.exit_code == 2
    assert "quota.csv:2: the target must be a whole number of 0 or more, not ²." in (
        superscript.output
    )
    with quick_app.app_context():
        assert db.session.scalar(select(func.count(Quota.id))) == 0
    unknown = import_quota(runner, tmp_path, "district,colour,target\ncan_loc,red,1\n")
    assert unknown.exit_code == 2
    assert "colour is not a question of quick" in unknown.output
    good = import_quota(runner, tmp_path)
    assert good.exit_code == 0, good.output
    assert "3 cells imported" in good.output
    with quick_app.app_context():
        cells = {c.cell_key: c.target for c in db.session.scalars(select(QuotaCell))}
    assert cells == {"can_loc|female": 5, "can_loc|male": 3, "duc_tho|female": 0}


def answer(client, district: str, sex: str) -> str:
    """Start the quick form and answer its first page; returns where the server sent us."""
    start = client.get("/en/s/quick")
    client.post(
        "/en/s/quick", data={"csrf_token": csrf_token(start.get_data(as_text=True)), "new": "1"}
    )
    page = client.get("/en/s/quick/p/0")
    moved = client.post(
        "/en/s/quick/p/0",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "district": district,
            "sex": sex,
            "action": "next",
        },
    )
    return path_of(moved.headers["Location"])


def finish(client) -> str:
    page = client.get("/en/s/quick/p/1")
    done = client.post(
        "/en/s/quick/p/1",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "overall": "4",
            "action": "next",
        },
    )
    return path_of(done.headers["Location"])


def test_screen_out_once_the_cell_is_known_and_full(quick_app, runner, tmp_path):
    assert import_quota(runner, tmp_path).exit_code == 0
    client = quick_app.test_client()
    # duc_tho x female has no place: screened out right after the page that makes the cell known.
    assert answer(client, "duc_tho", "female") == "/en/s/quick/done"
    done = client.get("/en/s/quick/done").get_data(as_text=True)
    assert "enough answers from people with the same profile" in done
    vi = client.get("/vi/s/quick/done").get_data(as_text=True)
    assert "Cảm ơn" in vi
    # A cell without a quota row is not limited.
    other = quick_app.test_client()
    assert answer(other, "vu_quang", "male") == "/en/s/quick/p/1"
    assert finish(other) == "/en/s/quick/done"
    with quick_app.app_context():
        statuses = sorted(db.session.scalars(select(Response.status)))
    assert statuses == ["complete", "screened_out"]


def test_flagging_quota_accepts_and_flags(quick_app, runner, tmp_path):
    assert (
        import_quota(
            runner, tmp_path, "district,sex,target\ncan_loc,male,1\n", when_full="flag"
        ).exit_code
        == 0
    )
    for _ in range(3):
        client = quick_app.test_client()
        answer(client, "can_loc", "male")
        assert finish(client) == "/en/s/quick/done"
    with quick_app.app_context():
        flagged = db.session.execute(
            select(Response.status, Response.over_quota).order_by(Response.id)
        ).all()
        cell = db.session.scalars(select(QuotaCell)).one()
    assert [tuple(r) for r in flagged] == [
        ("complete", False),
        ("complete", True),
        ("complete", True),
    ]
    assert (cell.complete, cell.over_target) == (1, 2)


# --- concurrency against a live server ------------------------------------------------------------


@pytest.fixture
def gunicorn(quick_app, database_url, quick_dir):
    """The app in gunicorn: 3 worker processes x 4 threads, on the test database."""
    with serving_app(database_url, quick_dir, workers=3, threads=4) as base:
        yield base


@pytest.mark.parametrize("when_full", ["screen_out", "flag"])
def test_thirty_finish_at_once_into_five_places(quick_app, runner, tmp_path, gunicorn, when_full):
    assert import_quota(runner, tmp_path, when_full=when_full).exit_code == 0
    respondents = [HttpRespondent(gunicorn) for _ in range(30)]
    for respondent in respondents:
        respondent.answer_profile()  # all 30 are in the cell, none complete yet
    outcomes = submit_all_at_once(respondents)
    assert outcomes == ["/en/s/quick/done"] * 30
    with quick_app.app_context():
        db.session.expire_all()
        statuses = dict(
            db.session.execute(
                select(Response.status, func.count(Response.id)).group_by(Response.status)
            ).all()
        )
        cell = db.session.scalars(
            select(QuotaCell).where(QuotaCell.cell_key == "can_loc|female")
        ).one()
        flagged = db.session.scalar(select(func.count(Response.id)).where(Response.over_quota))
    if when_full == "screen_out":
        assert statuses == {"complete": 5, "screened_out": 25}
        assert (cell.complete, cell.over_target) == (5, 0)
    else:
        assert statuses == {"complete": 30}
        assert (cell.complete, cell.over_target, flagged) == (5, 25, 25)


def post_quota_file(client, form_html: str, wave: str, body: bytes, name: str = "main"):
    """The quota import page's form sent with a CSV. The body is built in memory: the test client
    would spool a large one to a temporary file that it never closes."""
    import io

    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    fields = {"csrf_token": csrf_token(form_html), "wave": wave, "questionnaire": "quick"}
    fields |= {"name": name, "when_full": "screen_out"}
    fields["file"] = FileStorage(io.BytesIO(body), filename="q.csv")
    boundary, data = encode_multipart(fields)
    content_type = f"multipart/form-data; boundary={boundary}"
    return client.post("/en/admin/quotas/import", data=data, content_type=content_type)


def test_quota_pages_need_an_admin_and_save_targets(quick_app, client, auth, tmp_path):
    assert client.get("/en/admin/quotas").status_code == 302
    auth.login("monitor")
    assert client.get("/en/admin/quotas").status_code == 403
    client = quick_app.test_client()
    auth.login("admin", client=client)
    form = client.get("/en/admin/quotas/import")
    assert form.status_code == 200
    with quick_app.app_context():
        wave = db.session.scalars(select(Wave)).first().code
    form_html = form.get_data(as_text=True)
    bad = post_quota_file(client, form_html, wave, b"district,sex,target\nnowhere,female,1\n")
    assert bad.status_code == 400
    assert "row 2: nowhere is not an answer of district." in bad.get_data(as_text=True)
    good = post_quota_file(client, form_html, wave, QUOTA_CSV.encode())
    assert good.status_code == 302
    edit_path = path_of(good.headers["Location"])
    page = client.get(edit_path).get_data(as_text=True)
    assert "Can Loc" in page  # labels from the questionnaire, in the page's language
    with quick_app.app_context():
        cells = {c.cell_key: c.id for c in db.session.scalars(select(QuotaCell))}

    def save_targets(when_full: str, targets: dict[int, str]):
        fields = {f"target-{cid}": value for cid, value in targets.items()}
        data = {"csrf_token": csrf_token(page), "when_full": when_full, **fields}
        return client.post(edit_path, data=data)

    assert save_targets("flag", dict.fromkeys(cells.values(), "7")).status_code == 302
    assert save_targets("flag", dict.fromkeys(cells.values(), "-2")).status_code == 400
    first, *others = cells.values()
    # "²" is a digit to str.isdigit(), not to int()
    superscript = save_targets("screen_out", {first: "²", **dict.fromkeys(others, "9")})
    assert superscript.status_code == 400
    assert "Enter a whole number of 0 or more." in superscript.get_data(as_text=True)
    with quick_app.app_context():
        db.session.expire_all()
        # nothing of a refused form is kept, not even its valid targets or its choice
        assert {c.target for c in db.session.scalars(select(QuotaCell))} == {7}
        assert db.session.scalars(select(Quota)).one().when_full == "flag"
        from survey_app.models import AuditEvent

        actions = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert "quota_imported" in actions and "quota_changed" in actions


def test_the_quota_import_form_names_each_problem_and_takes_files_up_to_1_mb(
    quick_app, client, auth
):
    auth.login("admin")
    form = client.get("/en/admin/quotas/import").get_data(as_text=True)
    with quick_app.app_context():
        wave = db.session.scalars(select(Wave)).first().code
    nowhere = post_quota_file(client, form, "no-such-wave", QUOTA_CSV.encode(), name="  ")
    assert nowhere.status_code == 400
    page = nowhere.get_data(as_text=True)
    assert "Choose a wave." in page and "at most 100 characters" in page
    nul = post_quota_file(client, form, "no-such-wave", QUOTA_CSV.encode(), name="a\x00b")
    assert nul.status_code == 400
    assert "The name may not hold control characters." in nul.get_data(as_text=True)
    # 1.5 MB: more than the app's 512 KB for other forms, within this page's 5 MB
    padded = QUOTA_CSV.encode() + b"\n" * (1536 * 1024)
    assert post_quota_file(client, form, wave, padded).status_code == 302
    too_big = post_quota_file(client, form, wave, QUOTA_CSV.encode() + b"\n" * (5200 * 1024))
    assert too_big.status_code == 413
    assert "The file is larger than 5 MB." in too_big.get_data(as_text=True)
    with quick_app.app_context():
        assert db.session.scalars(select(Quota)).one().name == "main"


def test_the_citizen_whose_cell_is_full_is_told_after_the_first_page(app, runner, tmp_path):
    """The real citizen questionnaire asks its quota cell (district, sex, age group) first."""
    path = tmp_path / "citizen-quota.csv"
    path.write_text(
        "district,sex,age_group,target\ncan_loc,female,age31_45,0\ncan_loc,male,age31_45,5\n",
        encoding="utf-8",
    )
    with app.app_context():
        wave = db.session.scalars(select(Wave)).first().code
    imported = runner.invoke(
        args=["quotas", "import", str(path), "--wave", wave, "--questionnaire", "citizen"],
        env={"PAR_LANG": "en"},
    )
    assert imported.exit_code == 0, imported.output

    def first_page(client, sex: str) -> str:
        start = client.get("/en/s/citizen")
        client.post(
            "/en/s/citizen",
            data={"csrf_token": csrf_token(start.get_data(as_text=True)), "new": "1"},
        )
        page = client.get("/en/s/citizen/p/0")
        moved = client.post(
            "/en/s/citizen/p/0",
            data={
                "csrf_token": csrf_token(page.get_data(as_text=True)),
                "district": "can_loc",
                "sex": sex,
                "age_group": "age31_45",
                "action": "next",
            },
        )
        assert moved.status_code == 302, moved.get_data(as_text=True)[:500]
        return path_of(moved.headers["Location"])

    assert first_page(app.test_client(), "female") == "/en/s/citizen/done"
    assert first_page(app.test_client(), "male") == "/en/s/citizen/p/1"
    with app.app_context():
        statuses = sorted(db.session.scalars(select(Response.status)))
    assert statuses == ["in_progress", "screened_out"]
