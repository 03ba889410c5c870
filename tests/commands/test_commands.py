"""The flask commands, on both databases."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from survey_app.extensions import db
from survey_app.models import Answer, Invitation, QuestionnaireVersion, Response, Wave


def test_init_db_is_idempotent_and_opens_one_wave(app, runner):
    first = runner.invoke(args=["init-db"], env={"PAR_LANG": "en"})
    assert first.exit_code == 0, first.output
    assert "Database schema is up to date." in first.output
    assert "citizen version 1: unchanged" in first.output
    again = runner.invoke(args=["init-db"])
    assert again.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Wave.id))) == 1
        assert db.session.scalar(select(func.count(QuestionnaireVersion.id))) == 3


def test_init_db_on_an_empty_database_takes_responses_at_once(tmp_path):
    from app_support import make_app

    app = make_app(f"sqlite:///{tmp_path / 'fresh.db'}")
    result = app.test_cli_runner().invoke(args=["init-db"], env={"PAR_LANG": "vi"})
    assert result.exit_code == 0, result.output
    assert "citizen" in result.output
    client = app.test_client()
    page = client.get("/vi/s/citizen")
    assert page.status_code == 200
    assert "Bắt đầu" in page.get_data(as_text=True)


def test_invitations_issue_prints_unguessable_single_links(app, runner):
    result = runner.invoke(
        args=[
            "invitations",
            "issue",
            "--questionnaire",
            "delegate",
            "--count",
            "5",
            "--base-url",
            "https://survey.example.vn/",
        ]
    )
    assert result.exit_code == 0, result.output
    links = result.output.split()
    assert len(links) == len(set(links)) == 5
    for link in links:
        assert link.startswith("https://survey.example.vn/vi/i/")
        token = link.rsplit("/", 1)[1]
        assert len(token) >= 43  # 256 bits in URL-safe base64
    with app.app_context():
        hashes = db.session.scalars(select(Invitation.token_hash)).all()
    assert len(hashes) == 5
    assert not any(link.rsplit("/", 1)[1] in h for h in hashes for link in links)


def test_invitations_for_an_open_questionnaire_are_refused(runner):
    result = runner.invoke(
        args=["invitations", "issue", "--questionnaire", "citizen", "--count", "1"],
        env={"PAR_LANG": "en"},
    )
    assert result.exit_code == 2
    assert "open link" in result.output
    result = runner.invoke(
        args=["invitations", "issue", "--questionnaire", "nope", "--count", "1"],
        env={"PAR_LANG": "en"},
    )
    assert result.exit_code == 2
    assert "Unknown questionnaire nope" in result.output


def test_seed_demo_is_seeded_skewed_and_complete(app, runner, tmp_path):
    result = runner.invoke(args=["seed-demo", "--responses", "400", "--seed", "9"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "citizen.csv"
    exported = runner.invoke(
        args=["export-responses", "--questionnaire", "citizen", "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 400
    sexes = Counter(r["sex"] for r in rows)
    assert 0.55 < sexes["male"] / 400 < 0.70  # field samples over-represent men
    districts = Counter(r["district"] for r in rows)
    assert len(districts) == 13
    assert max(districts.values()) > 2 * min(districts.values())
    for row in rows:
        for code in ("district", "sex", "age_group"):
            assert row[code], code
    # The same seed on a fresh database gives the same answers.
    with app.app_context():
        first = sorted(
            db.session.execute(
                select(Answer.item_code, Answer.value)
                .join(Response)
                .where(Response.questionnaire_code == "citizen")
            ).all()
        )
        skipped = runner.invoke(args=["seed-demo", "--responses", "5", "--if-empty"])
        assert "nothing added" in skipped.output or "không thêm" in skipped.output
        assert (
            db.session.scalar(
                select(func.count(Response.id)).where(Response.questionnaire_code == "citizen")
            )
            == 400
        )
    from app_support import reset_database

    reset_database(app)
    runner.invoke(args=["seed-demo", "--responses", "400", "--seed", "9"])
    with app.app_context():
        second = sorted(
            db.session.execute(
                select(Answer.item_code, Answer.value)
                .join(Response)
                .where(Response.questionnaire_code == "citizen")
            ).all()
        )
    assert first == second


def _seeded(app) -> set[tuple[str, str, str, str]]:
    """Every seeded answer with its response's questionnaire and key."""
    with app.app_context():
        return set(
            db.session.execute(
                select(
                    Response.questionnaire_code, Response.key_hash, Answer.item_code, Answer.value
                ).join(Answer, Answer.response_id == Response.id)
            ).all()
        )


def test_seed_demo_batches_give_every_response_its_own_answers(app, monkeypatch):
    """Batches of 7 (crossing every questionnaire's boundary) store what one batch stores, each
    answer on the response it was drawn for (the key is drawn after the answers)."""
    from app_support import reset_database

    from survey_app.commands import demo_data
    from survey_app.questionnaire.store import definition, latest_versions

    monkeypatch.setattr(demo_data, "BATCH", 7)
    with app.app_context(), db.transaction() as tx:
        assert demo_data.seed_demo(tx, 40, seed=3) == {"citizen": 40, "leader": 10, "delegate": 4}
    small = _seeded(app)
    with app.app_context():
        versions = latest_versions(db.session)
        codes = {c: {q.code for q in definition(v).questions} for c, v in versions.items()}
        counts = Counter(
            db.session.execute(
                select(Response.questionnaire_code).where(Response.status == "complete")
            ).scalars()
        )
    assert counts == {"citizen": 40, "leader": 10, "delegate": 4}
    assert len({key for _, key, _, _ in small}) == 54  # every response has answers
    profile = Counter(
        key for group, key, item, _ in small if group == "citizen" and item in ("district", "sex")
    )
    assert len(profile) == 40 and set(profile.values()) == {2}  # each citizen its own profile
    assert all(item in codes[group] for group, _, item, _ in small)
    reset_database(app)
    monkeypatch.setattr(demo_data, "BATCH", 1000)
    with app.app_context(), db.transaction() as tx:
        demo_data.seed_demo(tx, 40, seed=3)
    assert _seeded(app) == small


def _answer_keys(app) -> list[tuple[str, str, bool]]:
    """The answer table's foreign keys as the database holds them (PostgreSQL), else []."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return []
        return db.session.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint"
                " WHERE conrelid = 'answer'::regclass AND contype = 'f'"
            )
        ).all()


def test_seed_demo_keeps_every_answer_tied_to_its_response(app, monkeypatch):
    """On PostgreSQL the answers' key is checked once at the end rather than per row: it is
    there afterwards as before, validated, and still refuses an answer without its response;
    an answer without its response written during the seeding makes the whole seeding fail,
    with nothing stored (on SQLite the key is checked per row and refuses it at once)."""
    from survey_app.commands import demo_data

    before = _answer_keys(app)
    with app.app_context(), db.transaction() as tx:
        demo_data.seed_demo(tx, 30, seed=4)
    assert _answer_keys(app) == before
    assert all(valid for _, _, valid in before)
    with app.app_context():
        stored = db.session.scalar(select(func.count(Answer.id)))
        assert stored > 30
        with pytest.raises(IntegrityError), db.transaction() as tx:
            tx.execute(
                text("INSERT INTO answer (response_id, item_code, value) VALUES (-1, 'x', '1')")
            )

    real_insert = demo_data._insert

    def insert_with_an_orphan(session, responses, answers):
        real_insert(session, responses, answers)
        session.execute(
            text("INSERT INTO answer (response_id, item_code, value) VALUES (-7, 'sex', 'male')")
        )

    monkeypatch.setattr(demo_data, "_insert", insert_with_an_orphan)
    with app.app_context():
        with pytest.raises(IntegrityError), db.transaction() as tx:
            demo_data.seed_demo(tx, 30, seed=5)
        assert db.session.scalar(select(func.count(Answer.id))) == stored
        assert db.session.scalar(select(func.count(Response.id))) == 30 + 7 + 3
    assert _answer_keys(app) == before


def test_export_leaves_dont_know_empty_and_has_no_secrets(app, runner, tmp_path):
    runner.invoke(args=["seed-demo", "--responses", "60"])
    out = tmp_path / "citizen.csv"
    runner.invoke(args=["export-responses", "--questionnaire", "citizen", "--out", str(out)])
    text = out.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert not any(v == "9" for r in rows for k, v in r.items() if k.startswith("acc_"))
    assert any(v == "" for r in rows for k, v in r.items() if k.startswith("acc_"))
    with app.app_context():
        secrets = db.session.scalars(select(Response.key_hash)).all()
    assert not any(s in text for s in secrets)
    assert "key_hash" not in text and "token" not in text.split("\n", 1)[0]
    assert all(len(r["completed_on"]) == 10 for r in rows)  # the day only


def test_export_of_unknown_questionnaire_fails_cleanly(runner, tmp_path):
    out = tmp_path / "x.csv"
    result = runner.invoke(
        args=["export-responses", "--questionnaire", "nope", "--out", str(out)],
        env={"PAR_LANG": "en"},
    )
    assert result.exit_code == 2
    assert not out.exists()


def test_export_asks_which_wave_when_several_have_responses(app, runner, tmp_path):
    runner.invoke(args=["seed-demo", "--responses", "30"])
    with app.app_context(), db.transaction() as tx:
        demo = tx.scalar(select(Wave.code).join(Response, Response.wave_id == Wave.id).limit(1))
        real = Wave(code="par2026", title={"vi": "PAR 2026", "en": "PAR 2026"}, status="open")
        tx.add(real)
        tx.flush()
        moved = tx.scalars(select(Response.id).where(Response.status == "complete")).all()[:12]
        for response in tx.scalars(select(Response).where(Response.id.in_(moved))):
            response.wave_id = real.id
    out = tmp_path / "citizen.csv"
    command = ["export-responses", "--questionnaire", "citizen", "--out", str(out)]

    mixed = runner.invoke(args=command, env={"PAR_LANG": "en"})
    assert mixed.exit_code == 2
    assert f"{demo} (18), par2026 (12)" in mixed.output and "--wave" in mixed.output
    assert not out.exists()

    def exported(*extra: str) -> Counter:
        result = runner.invoke(args=[*command, *extra])
        assert result.exit_code == 0, result.output
        return Counter(r["wave"] for r in csv.DictReader(io.StringIO(out.read_text("utf-8"))))

    assert exported("--wave", "par2026") == {"par2026": 12}
    assert exported("--all-waves") == {demo: 18, "par2026": 12}
    unknown = runner.invoke(args=[*command, "--wave", "par2019"], env={"PAR_LANG": "vi"})
    assert unknown.exit_code == 2 and "par2019" in unknown.output
