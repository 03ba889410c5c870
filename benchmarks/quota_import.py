"""A national quota file imported: 50,000 cells (commune x sex x age group) in a few seconds.

Writes a questionnaire whose profile questions allow that many cells (a commune dropdown of 6,250
communes, sex, and the citizen questionnaire's four age groups) to a temporary questionnaire
folder, and a quota file of one row per cell with a target each. Then times `import_quota`, the
function the admin's page and `flask quotas import` call, in one transaction as they do:

- new quota: every cell created;
- replace targets: the same file again with other targets, some cells having counted responses;
- refused: the file with one bad row near its end, every cell read and nothing stored.

Prints seconds (best of --repeats) and rows per second, and checks what the database holds against
the file. Runs on a temporary SQLite database, and also on BENCH_DATABASE_URL when that is set
(a PostgreSQL database there is dropped and created anew).

    python benchmarks/quota_import.py [--rows 50000] [--repeats 3] [--profile]

--profile prints where the time of one new-quota import goes (cProfile, the slowest functions).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL")
CODE = "quota_bench"
SEXES = ["male", "female"]
#: As in questionnaires/citizen.yaml.
AGE_GROUPS = ["age18_30", "age31_45", "age46_60", "age61_plus"]

QUESTIONNAIRE = """\
code: {code}
group: citizen
access: open
title: {{vi: Phiếu hạn ngạch, en: Quota benchmark}}
intro: {{vi: Giới thiệu, en: Introduction}}
lists:
  communes:
{communes}
pages:
  - code: profile
    title: {{vi: Thông tin, en: Profile}}
    items:
      - {{code: commune, type: dropdown, list: communes, required: true, profile: true,
         label: {{vi: Xã, en: Commune}}}}
      - code: sex
        type: single
        required: true
        profile: true
        label: {{vi: Giới tính, en: Sex}}
        options:
          - {{value: male, label: {{vi: Nam, en: Male}}}}
          - {{value: female, label: {{vi: Nữ, en: Female}}}}
      - code: age_group
        type: single
        required: true
        profile: true
        label: {{vi: Độ tuổi, en: Age group}}
        options:
          - {{value: age18_30, label: {{vi: Từ 18 đến 30 tuổi, en: 18 to 30}}}}
          - {{value: age31_45, label: {{vi: Từ 31 đến 45 tuổi, en: 31 to 45}}}}
          - {{value: age46_60, label: {{vi: Từ 46 đến 60 tuổi, en: 46 to 60}}}}
          - {{value: age61_plus, label: {{vi: Trên 60 tuổi, en: Over 60}}}}
"""


def communes_for(rows: int) -> list[str]:
    cells_per_commune = len(SEXES) * len(AGE_GROUPS)
    return [f"x{i:05d}" for i in range(-(-rows // cells_per_commune))]


def write_questionnaire(folder: Path, communes: list[str]) -> None:
    folder.mkdir()
    shutil.copy(ROOT / "questionnaires" / "shared.yaml", folder / "shared.yaml")
    entries = "\n".join(
        f"    - {{value: {c}, label: {{vi: Xã {c[1:]}, en: Commune {c[1:]}}}}}" for c in communes
    )
    text_ = QUESTIONNAIRE.format(code=CODE, communes=entries)
    (folder / f"{CODE}.yaml").write_text(text_, encoding="utf-8")


def quota_file(communes: list[str], rows: int, rng: random.Random) -> tuple[bytes, dict]:
    """The file's bytes and {cell_key: target}: communes of 90 to 600 people, split by cell."""
    cells = {}
    lines = ["commune,sex,age_group,target"]
    for commune in communes:
        for sex in SEXES:
            for age in AGE_GROUPS:
                if len(cells) == rows:
                    break
                target = rng.randint(10, 75)
                cells[f"{commune}|{sex}|{age}"] = target
                lines.append(f"{commune},{sex},{age},{target}")
    return ("\n".join(lines) + "\n").encode(), cells


def fresh_database(url: str) -> None:
    from survey_app.db import make_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).unlink(missing_ok=True)
        return
    server = make_engine(parsed.set(database="postgres").render_as_string(False))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    server.dispose()


def make_app(url: str, questionnaires: Path):
    from survey_app import create_app

    return create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "benchmark",
            "SESSION_COOKIE_SECURE": False,
            "QUESTIONNAIRE_DIR": str(questionnaires),
        }
    )


def import_once(name: str, data: bytes):
    """One import as the page and the command make it: its own transaction, committed."""
    from survey_app.extensions import db
    from survey_app.fieldwork.quota_file import import_quota
    from survey_app.models import Wave
    from survey_app.questionnaire.store import definition, latest_version

    with db.transaction() as tx:
        wave = tx.scalars(select(Wave)).one()
        questionnaire = definition(latest_version(tx, CODE))
        _quota, count = import_quota(
            tx, wave, questionnaire, name, "screen_out", data, "national_quota.csv"
        )
    return count


def stored(name: str) -> dict[str, int]:
    from survey_app.extensions import db
    from survey_app.models import Quota, QuotaCell

    with db.transaction() as tx:
        return dict(
            tx.execute(
                select(QuotaCell.cell_key, QuotaCell.target)
                .join(Quota, Quota.id == QuotaCell.quota_id)
                .where(Quota.name == name)
            ).all()
        )


def best_of(repeats: int, run) -> float:
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        run(i)
        times.append(time.perf_counter() - start)
    return min(times)


def bench(url: str, questionnaires: Path, args) -> None:
    from survey_app.extensions import db
    from survey_app.fieldwork.quota_file import QuotaInvalid
    from survey_app.fieldwork.waves import ensure_default_wave
    from survey_app.models import Quota, QuotaCell
    from survey_app.questionnaire.store import sync_questionnaires
    from survey_app.schema import upgrade

    rng = random.Random(args.seed)
    communes = communes_for(args.rows)
    fresh_database(url)
    app = make_app(url, questionnaires)
    with app.app_context():
        upgrade(db.engine)
        with db.transaction() as tx:
            sync_questionnaires(tx, questionnaires)
            ensure_default_wave(tx)
        data, targets = quota_file(communes, args.rows, rng)
        lines = data.decode().splitlines()
        dialect = db.engine.dialect.name
        print(
            f"{dialect}: {len(targets):,} cells ({len(communes):,} communes x {len(SEXES)} sexes"
            f" x {len(AGE_GROUPS)} age groups), a file of {len(data) / 1024:,.0f} KB"
        )

        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            import_once("profiled", data)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(12)

        def new_quota(i: int) -> None:
            assert import_once(f"new {i}", data) == len(targets)

        new = best_of(args.repeats, new_quota)
        assert stored("new 0") == targets, "the stored targets differ from the file"

        # Responses counted in one cell in ten; the next files keep every target above them.
        with db.transaction() as tx:
            quota_id = tx.scalar(select(Quota.id).where(Quota.name == "new 0"))
            tx.execute(
                update(QuotaCell)
                .where(QuotaCell.quota_id == quota_id, QuotaCell.id % 10 == 0)
                .values(complete=QuotaCell.target // 2)
            )
        replacements = []
        for i in range(args.repeats):
            shifted = {key: target + 1 + i for key, target in targets.items()}
            body = ["commune,sex,age_group,target"] + [
                f"{key.replace('|', ',')},{target}" for key, target in shifted.items()
            ]
            replacements.append(("\n".join(body) + "\n").encode())

        def replace(i: int) -> None:
            assert import_once("new 0", replacements[i]) == len(targets)

        replaced = best_of(args.repeats, replace)
        expected = {key: target + args.repeats for key, target in targets.items()}
        assert stored("new 0") == expected, "the replaced targets differ from the file"

        # A commune that is not in the questionnaire, a few rows before the end.
        bad_row = len(lines) - 5
        broken = lines[:]
        broken[bad_row] = "nowhere," + broken[bad_row].split(",", 1)[1]
        broken_data = ("\n".join(broken) + "\n").encode()

        def refused(_i: int) -> None:
            try:
                import_once("refused", broken_data)
            except QuotaInvalid as exc:
                rows = [problem.row for problem in exc.problems]
                assert rows == [bad_row + 1], rows
            else:
                raise AssertionError("the broken file was imported")

        refusal = best_of(args.repeats, refused)
        with db.transaction() as tx:
            assert tx.scalar(select(func.count(Quota.id)).where(Quota.name == "refused")) == 0

        print(f"{'import':<34} {'seconds':>8} {'rows/s':>10}")
        for label, seconds in [
            ("new quota", new),
            ("replace targets (10 % counted)", replaced),
            ("refused (bad row near the end)", refusal),
        ]:
            print(f"{label:<34} {seconds:>8.2f} {len(targets) / seconds:>10,.0f}")
        engine = db.engine
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        questionnaires = Path(tmp) / "questionnaires"
        write_questionnaire(questionnaires, communes_for(args.rows))
        bench(f"sqlite:///{Path(tmp) / 'quota_bench.db'}", questionnaires, args)
        if DATABASE_URL:
            print()
            bench(DATABASE_URL, questionnaires, args)


if __name__ == "__main__":
    main()
