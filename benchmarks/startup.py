"""Starting a `flask` command that needs no statistics, beside a bare Flask app in the same run.

Best of --repeat wall times of ``flask --app survey_app users --help`` and of the same command
on a bare Flask app with one ``users`` group (the floor: Python, Flask and click), then what
``create_app()`` imports, from ``python -X importtime``: cumulative ms of the app's packages,
and for each heavy library the sum of its modules' own times ("-" when not imported).

    python benchmarks/startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
BARE = '''
import click
from flask import Flask

app = Flask(__name__)


@app.cli.group()
def users():
    """Accounts."""


@users.command()
def create():
    """Create an account."""
'''
CREATE_APP = (
    "from survey_app import create_app; "
    "create_app({'DATABASE_URL': 'sqlite://', 'SECRET_KEY': 'x'})"
)
HEAVY = ("numpy", "pandas", "scipy", "matplotlib")


def best_wall(command: list[str], cwd: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def imported(cwd: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Cumulative microseconds per module imported by ``create_app()``, and own microseconds
    summed per top-level package."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CREATE_APP],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    cumulative: dict[str, int] = {}
    own: dict[str, int] = {}
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].strip()
            cumulative[name] = int(parts[1])
            top = name.split(".")[0]
            own[top] = own.get(top, 0) + int(parts[0].split(":")[1])
    return cumulative, own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="par-startup-") as folder:
        Path(folder, "bare.py").write_text(BARE)
        bare = best_wall([FLASK, "--app", "bare", "users", "--help"], Path(folder), args.repeat)
    ours = best_wall([FLASK, "--app", "survey_app", "users", "--help"], ROOT, args.repeat)
    print(f"flask users --help, best of {args.repeat}: bare Flask {bare:.2f} s")
    print(f"  survey_app {ours:.2f} s ({ours / bare:.2f}x)")
    cumulative, own = imported(ROOT)
    print(f"create_app() imports, ms (python -X importtime, {os.cpu_count()} cores):")
    for name in ("survey_app", "survey_app.commands", "survey_app.stats"):
        print(f"  {name} (cumulative): {cumulative[name] / 1000:.0f}")
    for name in HEAVY:
        print(f"  {name} (all its modules): " + (f"{own[name] / 1000:.0f}" if name in own else "-"))


if __name__ == "__main__":
    main()
