"""Reading the questionnaires and scoring schemes (YAML, every line remembered), beside the same
files read by PyYAML's pure-Python parser, in the same run.

`init-db`, every questionnaire upload and every test's fresh database read them all. Prints the
best of --repeat wall times of `analysis.yamllines.load_located` over every file under
questionnaires/ with the parser it uses (libyaml's, where PyYAML has it) and with the
pure-Python one, the ratio, and the time of the app's `load_directory` (parsing and validating
the questionnaires).

    python benchmarks/questionnaires.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import yaml

from analysis import yamllines

ROOT = Path(__file__).resolve().parent.parent


def best(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    files = sorted((ROOT / "questionnaires").rglob("*.yaml"))
    texts = [path.read_text(encoding="utf-8") for path in files]
    lines = sum(text.count("\n") for text in texts)

    def read_all() -> None:
        for text in texts:
            yamllines.load_located(text)

    from survey_app.questionnaire.validate import load_directory

    def app_questionnaires() -> None:
        load_directory(ROOT / "questionnaires")

    ours, ours_app = best(args.repeat, read_all), best(args.repeat, app_questionnaires)
    used = yamllines._LOADER
    yamllines._LOADER = yaml.SafeLoader
    try:
        pure, pure_app = best(args.repeat, read_all), best(args.repeat, app_questionnaires)
    finally:
        yamllines._LOADER = used
    print(f"{len(files)} files, {lines:,} lines; parser: {used.__name__}")
    rows = [
        ("every file, parsed", ours, pure),
        ("the app's questionnaires, validated too", ours_app, pure_app),
    ]
    print(f"  {'':42} {'ours':>9} {'pure-Python':>12}")
    for name, fast, slow in rows:
        print(f"  {name:42} {fast * 1000:6.1f} ms {slow * 1000:9.1f} ms  ({slow / fast:.1f}x)")


if __name__ == "__main__":
    main()
