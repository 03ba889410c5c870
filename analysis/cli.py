"""The statisticians' command line, tables in and out.

``python -m analysis weight|estimate`` weight and estimate; ``score`` turns responses into survey
points with a scoring scheme, ``index`` adds appraisal points and ranks, ``run`` does the whole
chain (`analysis.pipeline`, the same code as ``flask score-wave`` and the statisticians' pages),
``check-scheme`` lists every problem of a scheme file.

Bad input prints one line starting with ``error:`` and exits with status 2 without writing anything.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import pipeline
from analysis.estimate import LONELY_PSU, Design, estimate
from analysis.export import write_csv
from analysis.index import (
    APPRAISAL_FILE,
    POINTS,
    build_index,
    check_appraisal,
    read_previous,
    read_table,
    survey_points,
)
from analysis.intervals import DF, INTERVALS
from analysis.scheme import Scheme, SchemeError, load_scheme
from analysis.scoring import DEFAULT_UNIT, split_groups
from analysis.targets import Targets, read_targets
from analysis.weights import (
    DEFAULT_TOL,
    METHODS,
    WeightResult,
    check_base_weight,
)


class UsageError(ValueError):
    """Input the command line refuses; the message is shown as is."""


def _pair(text: str, option: str) -> tuple[float, float] | None:
    try:
        return pipeline.parse_bounds(text)
    except pipeline.BoundsError as exc:
        raise UsageError(f"{option} {exc}") from None


def _numbers(text: str, option: str) -> list[float]:
    try:
        return [float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise UsageError(f"{option} takes numbers separated by commas, not {text!r}") from None


def _names(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def read_data(path: str) -> pd.DataFrame:
    """Read a CSV keeping every cell as text; empty cells are missing."""
    try:
        data = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise UsageError(f"cannot read data {path}: no such file") from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read data {path}: {str(exc).splitlines()[0]}") from None
    if data.empty:
        raise UsageError(f"the data {path} have no rows")
    return data


def _column(data: pd.DataFrame, name: str, option: str) -> pd.Series:
    if name not in data.columns:
        raise UsageError(f"{option} column {name!r} is not in the data")
    return data[name]


def _numeric(data: pd.DataFrame, name: str, option: str) -> np.ndarray:
    _column(data, name, option)
    return pipeline.number_column(data, name, "the data", option)


def _base_weight(args, data: pd.DataFrame, targets: Targets | None) -> np.ndarray | None:
    if args.base_weight:
        return check_base_weight(_numeric(data, args.base_weight, "--base-weight"), len(data))
    return None


def _weighting(args, data: pd.DataFrame) -> WeightResult:
    """``weight`` and ``estimate --targets``: the chain's weighting step (`pipeline.weigh`)."""
    targets = read_targets(args.targets)
    # ``weight`` makes design weights N_h / n_h from --strata; ``estimate`` uses it for the SEs
    derive = getattr(args, "derive_design_weights", False)
    if derive and args.strata and not args.base_weight and targets.get(args.strata) is None:
        raise UsageError(
            f"--strata {args.strata} without --base-weight needs targets for {args.strata} "
            "to make design weights N_h / n_h"
        )
    if args.bounds and args.method in ("poststratify", "rake"):
        raise UsageError(f"--bounds applies to linear, raking and logit, not {args.method}")
    if args.method == "logit" and not args.bounds:
        raise UsageError("--method logit needs --bounds L,U with L < 1 < U")
    params = pipeline.Parameters(
        method=args.method,
        bounds=_pair(args.bounds, "--bounds") if args.bounds else None,
        trim=_pair(args.trim, "--trim") if getattr(args, "trim", None) else None,
        tol=args.tol,
        max_iter=args.max_iter,
        base_weight=args.base_weight,
        strata=args.strata if derive else None,
    )
    return pipeline.weigh(data, targets, params)


def _write(path: str, write) -> None:
    """Write through a temporary file in the same folder, so a failure leaves nothing behind."""
    target = Path(path)
    handle, temp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.")
    os.close(handle)
    try:
        write(temp)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _check_out(*paths: str | None) -> None:
    for path in paths:
        if path and not Path(path).resolve().parent.is_dir():
            raise UsageError(f"cannot write {path}: its folder does not exist")


def cmd_weight(args) -> int:
    _check_out(args.out, args.report)
    data = read_data(args.data)
    result = _weighting(args, data)
    report = result.report()
    report["inputs"] = {
        "data": args.data,
        "targets": args.targets,
        "base_weight": args.base_weight,
        "strata": args.strata,
        "bounds": args.bounds,
        "trim": args.trim,
        "tol": args.tol,
        "max_iter": args.max_iter,
    }
    out = data.copy()
    out["weight"] = result.weights
    _write(args.out, lambda p: write_csv(out, p))
    if args.report:
        _write(args.report, lambda p: Path(p).write_text(json.dumps(report, indent=2) + "\n"))
    return 0


def cmd_estimate(args) -> int:
    _check_out(args.out)
    data = read_data(args.data)
    items = _names(args.items)
    if not items:
        raise UsageError("--items needs at least one column name")
    for item in items:
        _column(data, item, "--items")
    by = _names(args.by) if args.by else []
    for column in by:
        _column(data, column, "--by")
    share = _numbers(args.share, "--share") if args.share else None
    strata = _column(data, args.strata, "--strata") if args.strata else None
    cluster = _column(data, args.cluster, "--cluster") if args.cluster else None
    if args.weight and (args.targets or args.base_weight):
        raise UsageError("give either --weight or --base-weight/--targets, not both")
    calibration = None
    if args.targets:
        if not args.method:
            raise UsageError("--targets needs --method (one of " + ", ".join(METHODS) + ")")
        result = _weighting(args, data)
        weights, calibration = result.weights, result.calibration
    elif args.method:
        raise UsageError("--method needs --targets")
    elif args.weight:
        weights = check_base_weight(_numeric(data, args.weight, "--weight"), len(data))
    elif args.base_weight:
        weights = _base_weight(args, data, None)
    else:
        weights = np.ones(len(data))
    fpc = _numeric(data, args.fpc, "--fpc") if args.fpc else None
    design = Design.build(weights, strata, cluster, calibration, args.lonely_psu, fpc=fpc)
    table = estimate(
        data,
        items,
        design,
        by,
        share,
        args.stat,
        level=args.level,
        interval=args.interval,
        df=args.df,
    )
    _write(args.out, lambda p: write_csv(table, p))
    return 0


def questionnaire_folder(path: str, questionnaires: str | None) -> tuple[str | None, str | None]:
    """The folders a scheme's items are checked against: (explicit, default).

    ``--questionnaires`` when given; else the scheme's own ``questionnaires:`` key (read by
    `load_scheme`); else the folder above the scheme's (``questionnaires/scoring/S.yaml`` names
    the questionnaires of ``questionnaires/``) when it holds questionnaire files.
    """
    if questionnaires is not None:
        if not Path(questionnaires).is_dir():
            raise UsageError(f"--questionnaires {questionnaires} is not a folder")
        return questionnaires, None
    guess = Path(path).resolve().parent.parent
    return None, (str(guess) if any(guess.glob("*.yaml")) else None)


def _scheme(path: str, questionnaires: str | None) -> Scheme:
    """Load a scheme; problems become one line naming the first and counting the rest."""
    explicit, default = questionnaire_folder(path, questionnaires)
    try:
        return load_scheme(path, explicit, default=default)
    except SchemeError as exc:
        first = exc.problems[0]
        more = len(exc.problems) - 1
        tail = (
            f" (and {more} more; python -m analysis check-scheme {path} lists them)" if more else ""
        )
        raise UsageError(f"{first}{tail}") from None


def _responses(specs: list[str]) -> dict[str, pd.DataFrame] | pd.DataFrame:
    """``--data PATH`` (a group column in the file) or ``--data GROUP=PATH``, repeated."""
    named = {}
    for spec in specs:
        group, sep, path = spec.partition("=")
        if not sep:
            if len(specs) > 1:
                raise UsageError(
                    "with several --data files, name each one's group: --data leader=L.csv"
                )
            return read_data(spec)
        group = group.strip()
        if group in named:
            raise UsageError(f"--data names the group {group} twice")
        named[group] = read_data(path)
    return named


def _parameters(args) -> pipeline.Parameters:
    """The chain's parameters from the options ``score`` and ``run`` share."""
    return pipeline.Parameters(
        method=getattr(args, "method", None),
        bounds=_pair(args.bounds, "--bounds") if getattr(args, "bounds", None) else None,
        trim=_pair(args.trim, "--trim") if getattr(args, "trim", None) else None,
        tol=getattr(args, "tol", DEFAULT_TOL),
        max_iter=getattr(args, "max_iter", None),
        base_weight=getattr(args, "base_weight", None),
        weight=args.weight,
        strata=args.strata,
        cluster=args.cluster,
        fpc=args.fpc,
        lonely_psu=args.lonely_psu,
        respondent=args.respondent,
        unit=args.unit,
        unit_code=args.unit_code,
        block=args.block,
        points=getattr(args, "points", "appraised"),
        level=args.level,
        interval=args.interval,
        df=args.df,
    )


def _chain(args, with_index: bool) -> pipeline.ChainResult:
    scheme = _scheme(args.scheme, args.questionnaires)
    if args.data:
        responses = split_groups(scheme, _responses(args.data), args.group_column)
    elif scheme.has_survey:
        raise UsageError(
            f"the scheme {scheme.code} has survey criteria: give the responses with --data"
        )
    else:
        responses = {}
    if not with_index and not scheme.has_survey:
        raise UsageError(
            f"the scheme {scheme.code} has no survey criteria: there is nothing to score (use "
            "python -m analysis index --appraisal)"
        )
    if with_index and args.previous and scheme.has_appraisal and not args.appraisal:
        raise UsageError(f"--previous needs --appraisal: the scheme {scheme.code} has appraisal")
    targets = read_targets(args.targets) if getattr(args, "targets", None) else None
    appraisal = previous = None
    if with_index and args.appraisal:
        appraisal = read_table(args.appraisal, APPRAISAL_FILE)
    if with_index and args.previous:
        previous = read_previous(args.previous)
    return pipeline.run(
        scheme,
        responses,
        _parameters(args),
        targets=targets,
        appraisal=appraisal,
        previous=previous,
    )


def cmd_score(args) -> int:
    _check_out(args.out)
    result = _chain(args, with_index=False)
    _write(args.out, lambda p: write_csv(result.tables["scores"], p))
    return 0


def cmd_run(args) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is not a folder")
    _check_out(str(out))
    result = _chain(args, with_index=True)
    # written to a new folder beside the target, then moved in, so a failure leaves nothing
    temp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        files = result.write(temp)
        out.mkdir(exist_ok=True)
        for name in [*files, pipeline.SUMMARY]:
            os.replace(temp / name, out / name)
    finally:
        for leftover in temp.glob("*"):
            leftover.unlink()
        temp.rmdir()
    for name in files:
        print(out / name)
    return 0


def cmd_index(args) -> int:
    _check_out(args.out, args.weak)
    scheme = _scheme(args.scheme, args.questionnaires)
    for option, needed, part in (
        ("--appraisal", scheme.has_appraisal, "appraisal"),
        ("--survey", scheme.has_survey, "survey"),
    ):
        given = getattr(args, option[2:])
        if needed and not given:
            raise UsageError(f"the scheme {scheme.code} has {part} criteria: give {option}")
        if given and not needed:
            raise UsageError(f"the scheme {scheme.code} has no {part} criteria: leave out {option}")
    appraisal = survey = None
    if args.appraisal:
        table = read_table(args.appraisal, APPRAISAL_FILE)
        appraisal = check_appraisal(scheme, table, points=args.points)
    if args.survey:
        survey = survey_points(
            scheme, read_table(args.survey, "survey scores"), source=str(args.survey)
        )
    previous = read_previous(args.previous) if args.previous else None
    result = build_index(scheme, appraisal, survey, previous)
    _write(args.out, lambda p: write_csv(result.table, p))
    if args.weak:
        _write(args.weak, lambda p: write_csv(result.weak, p))
    return 0


def cmd_check_scheme(args) -> int:
    explicit, default = questionnaire_folder(args.scheme, args.questionnaires)
    try:
        scheme = load_scheme(args.scheme, explicit, default=default)
    except SchemeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    if scheme.checked_against is None:
        checked = "items not checked: no questionnaire folder (give --questionnaires DIR)"
    else:
        checked = f"items checked against the questionnaires of {scheme.checked_against}"
    for group in scheme.groups.values():
        if group.questionnaires is not None:
            checked += f"; the {group.code} group's against those of {group.questionnaires}"
    parts = ", ".join(f"{p} {scheme.totals.get(p, 0):g}" for p in scheme.parts)
    example = "; an example, not official numbers" if scheme.example else ""
    print(
        f"{args.scheme}: no problems ({parts}, total {scheme.max_points:g} points; "
        f"{checked}{example})"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m analysis", description="Weight survey data and estimate with SEs."
    )
    sub = top.add_subparsers(dest="command", required=True)

    w = sub.add_parser("weight", help="add a weight column calibrated to population targets")
    w.add_argument("--data", required=True, help="respondents, one row each (CSV)")
    w.add_argument("--targets", required=True, help="variable,level,target (CSV)")
    w.add_argument("--method", required=True, choices=METHODS)
    w.add_argument("--base-weight", help="column of design weights (default 1)")
    w.add_argument("--strata", help="stratum column: without --base-weight, design weights N_h/n_h")
    w.add_argument("--bounds", help="L,U bounds on g = weight / base weight")
    w.add_argument("--trim", help="L,U bounds on the final weights (survey's trimWeights)")
    w.add_argument("--tol", type=float, default=DEFAULT_TOL, help="relative tolerance")
    w.add_argument("--max-iter", type=int, default=None)
    w.add_argument("--out", required=True, help="the data with a weight column (CSV)")
    w.add_argument("--report", help="diagnostics (JSON)")
    w.set_defaults(run=cmd_weight, derive_design_weights=True)

    e = sub.add_parser("estimate", help="means or shares with standard errors, by domain")
    e.add_argument("--data", required=True)
    e.add_argument("--items", required=True, help="item columns, comma separated")
    e.add_argument("--weight", help="column of final weights")
    e.add_argument("--base-weight", help="column of design weights before calibration")
    e.add_argument("--targets", help="calibrate to these targets first")
    e.add_argument("--method", choices=METHODS)
    e.add_argument("--bounds")
    e.add_argument("--tol", type=float, default=DEFAULT_TOL)
    e.add_argument("--max-iter", type=int, default=None)
    e.add_argument("--strata", help="stratum column of the design")
    e.add_argument("--cluster", help="PSU column of the design (nested in strata)")
    e.add_argument("--by", help="domain columns, comma separated (each on its own)")
    e.add_argument("--share", help="answer values counted as positive, e.g. 4,5")
    e.add_argument("--stat", choices=("mean", "total"), default="mean")
    e.add_argument("--fpc", help="column of population sizes per stratum (or sampling fractions)")
    e.add_argument("--lonely-psu", choices=LONELY_PSU, default="fail")
    _interval_options(e, None)
    e.add_argument("--out", required=True)
    e.set_defaults(run=cmd_estimate, derive_design_weights=False)

    s = sub.add_parser("score", help="survey points and SIPAS from responses, with a scheme")
    _chain_options(s)
    s.add_argument("--out", required=True, help="the scores table (CSV)")
    s.set_defaults(run=cmd_score)

    r = sub.add_parser(
        "run", help="the whole chain: weights, estimates, scores and the index, into a folder"
    )
    _chain_options(r)
    r.add_argument("--targets", help="population targets variable,level,target (CSV)")
    r.add_argument("--method", choices=METHODS, help="weighting method (needs --targets)")
    r.add_argument("--base-weight", help="column of design weights (default N_h/n_h, or 1)")
    r.add_argument("--bounds", help="L,U bounds on g = weight / base weight")
    r.add_argument("--trim", help="L,U bounds on the final weights")
    r.add_argument("--tol", type=float, default=DEFAULT_TOL, help="relative tolerance")
    r.add_argument("--max-iter", type=int, default=None)
    r.add_argument(
        "--appraisal",
        help="appraisal points (CSV or .xlsx), for a scheme with appraisal criteria: adds the "
        "index (a scheme without them is indexed from the scores alone)",
    )
    r.add_argument("--previous", help="last year's index file, for the changes")
    r.add_argument("--points", choices=POINTS, default="appraised", help="which appraisal points")
    r.add_argument("--out", required=True, help="folder for the tables, workbook and summary")
    r.set_defaults(run=cmd_run)

    x = sub.add_parser("index", help="appraisal + survey points, ranks, bands and changes")
    x.add_argument("--scheme", required=True)
    x.add_argument("--questionnaires")
    x.add_argument(
        "--survey",
        help="the scores table of python -m analysis score (when the scheme has survey criteria)",
    )
    x.add_argument(
        "--appraisal",
        help="appraisal points, CSV or .xlsx (when the scheme has appraisal criteria)",
    )
    x.add_argument("--previous", help="last year's index file, for the changes")
    x.add_argument("--points", choices=POINTS, default="appraised", help="which appraisal points")
    x.add_argument("--out", required=True, help="one row per unit (CSV)")
    x.add_argument("--weak", help="criteria at 0 or below half, one row each (CSV)")
    x.set_defaults(run=cmd_index)

    c = sub.add_parser("check-scheme", help="list every problem of a scoring scheme")
    c.add_argument("scheme")
    c.add_argument("--questionnaires")
    c.set_defaults(run=cmd_check_scheme)
    return top


def _interval_options(p: argparse.ArgumentParser, interval: str | None) -> None:
    """``--level``, ``--interval`` (default ``interval``; None: logit for shares) and ``--df``."""
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument(
        "--interval",
        choices=INTERVALS,
        default=interval,
        help="logit intervals for shares (svyciprop's, inside [0, 1]; the default) or wald",
    )
    p.add_argument(
        "--df",
        choices=DF,
        default="normal",
        help="normal quantiles, or Student's t with the design's degrees of freedom",
    )


def _chain_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        action="append",
        help="responses (CSV): GROUP=PATH once per group, or one PATH with a group column "
        "(needed when the scheme has survey criteria)",
    )
    p.add_argument("--scheme", required=True, help="scoring scheme (YAML)")
    p.add_argument(
        "--questionnaires", help="folder of the questionnaire files the scheme is checked against"
    )
    p.add_argument("--group-column", default="group", help="group column of a single --data file")
    p.add_argument("--unit", help="column naming the rated unit (internal indexes)")
    p.add_argument(
        "--respondent",
        help="column identifying the person behind each row: a respondent who rates several "
        "units (cross-rating) is one cluster, and n counts people",
    )
    p.add_argument("--unit-code", help=f"the unit's code without a --unit column ({DEFAULT_UNIT})")
    p.add_argument("--block", help="column naming the unit's block (schemes with several blocks)")
    p.add_argument("--weight", default="weight", help="weight column of weighted groups")
    p.add_argument("--strata", help="stratum column of weighted groups")
    p.add_argument("--cluster", help="PSU column of weighted groups")
    p.add_argument(
        "--fpc",
        help="column of population sizes: the number invited per unit for leaders and delegates, "
        "N_h of the stratum for weighted groups",
    )
    p.add_argument("--lonely-psu", choices=LONELY_PSU, default="fail")
    _interval_options(p, "logit")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "max_iter", None) is not None and args.max_iter < 1:
        print("error: --max-iter must be at least 1", file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except (UsageError, *pipeline.INPUT_ERRORS) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
