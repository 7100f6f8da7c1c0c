"""python -m prune_ready.analyze SWEEP [SWEEP ...] [--out DIR]: every output of a sweep."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from prune_ready.analyze.defaults import ACCURACY, CHOOSE_BELOW, DOSE_LEVELS, LEVELS, OUT_DIR
from prune_ready.errors import UserError
from prune_ready.faults import check_out_dir
from prune_ready.status import RunStatus, State


def levels(text: str) -> tuple[float, ...]:
    """'100,2.9,0.33' -> (100.0, 2.9, 0.33): % weights remaining, each in (0, 100]."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text}") from None
    if not all(0 < v <= 100 for v in values):
        raise argparse.ArgumentTypeError(f"levels are % weights remaining, in (0, 100]: {text}")
    return values


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="prune-ready-analyze",
        description="Collect a sweep's runs; write runs.csv, summary.csv, figures, report, slides.",
    )
    parser.add_argument(
        "paths", nargs="+", help="sweep directories or globs (outputs/<study>), or a runs.csv"
    )
    parser.add_argument("--out", help=f"output folder (default: <sweep>/{OUT_DIR})")
    parser.add_argument(
        "--reference",
        help="the line every other is compared with: an init (xavier_normal) or a line's label "
        "('kaiming_normal, init.scale=1.0'); default: the best line at each level",
    )
    parser.add_argument(
        "--dose-levels",
        type=levels,
        default=DOSE_LEVELS,
        help="%% weights remaining of the dose-response figure (default: %(default)s)",
    )
    parser.add_argument(
        "--robustness-levels",
        type=levels,
        default=LEVELS,
        help="%% weights remaining where the θ0 predictors are scored (default: %(default)s)",
    )
    parser.add_argument(
        "--choose-below",
        type=int,
        default=CHOOSE_BELOW,
        help="predictors: seeds below this choose the best statistic, the others test it "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--accuracy",
        choices=tuple(ACCURACY),
        default="round_end",
        help="a round's test accuracy at its end (the next pruning step) or at its early stop "
        "(lowest validation loss, the lottery-ticket papers' measure) (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    # only now: pandas, scipy and matplotlib take seconds to import, --help needs none of them
    from prune_ready.analyze.compute.analysis import Options
    from prune_ready.analyze.pipeline import analyze

    options = Options(
        args.reference, args.dose_levels, args.robustness_levels, args.choose_below, args.accuracy
    )
    try:
        if args.out:
            check_out_dir(Path(args.out), "--out")  # before the work, not after it
        analysis, found, files = analyze(args.paths, args.out, options)
    except UserError as e:
        sys.exit(f"error: {e}")
    sweep = analysis.sweep
    print(
        f"{len(sweep.runs)} runs under {sweep.base}: {sweep.count(State.FINISHED)} finished, "
        f"{sweep.count(State.UNFINISHED)} unfinished, {sweep.count(State.FAILED)} failed"
    )
    if sweep.legacy:
        print(f"  {sweep.legacy} legacy runs without a manifest (checked by their rounds.csv only)")
    for run in sweep.runs[sweep.runs["status"] != State.FINISHED].itertuples():
        status = RunStatus(State(run.status), run.rounds_done, run.rounds_expected, run.reason)
        print(f"  {run.run}: {status.describe()}")
    for name, items in found.items():
        print(f"\n{name}:")
        for i, finding in enumerate(items, 1):
            print(f"{i}. {finding.title}.\n   {finding.text}")
    print(
        f"\nwrote {len(files)} files to {files[0].parent}: report.html, slides.pptx, runs.csv, ..."
    )


if __name__ == "__main__":
    main()
