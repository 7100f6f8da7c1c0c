"""python -m prune_ready.analyze SWEEP [SWEEP ...] [--out DIR]: every output of a sweep."""

import argparse
import sys
from collections.abc import Sequence

from prune_ready.analyze.pipeline import OUT_DIR, analyze
from prune_ready.errors import UserError
from prune_ready.status import RunStatus, State


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m prune_ready.analyze",
        description="Collect a sweep's runs; write runs.csv, summary.csv, figures, report, slides.",
    )
    parser.add_argument("paths", nargs="+", help="sweep directories or globs (outputs/<study>)")
    parser.add_argument("--out", help=f"output folder (default: <sweep>/{OUT_DIR})")
    args = parser.parse_args(argv)
    try:
        analysis, files = analyze(args.paths, args.out)
    except UserError as e:
        sys.exit(f"error: {e}")
    sweep = analysis.sweep
    print(
        f"{len(sweep.runs)} runs under {sweep.base}: {sweep.count(State.FINISHED)} finished, "
        f"{sweep.count(State.UNFINISHED)} unfinished, {sweep.count(State.FAILED)} failed"
    )
    for run in sweep.runs[sweep.runs["status"] != State.FINISHED].itertuples():
        status = RunStatus(State(run.status), run.rounds_done, run.rounds_expected, run.reason)
        print(f"  {run.run}: {status.describe()}")
    for name, paragraph in analysis.findings.items():
        print(f"\n{name}: {paragraph}")
    print(
        f"\nwrote {len(files)} files to {files[0].parent}: report.html, slides.pptx, runs.csv, ..."
    )


if __name__ == "__main__":
    main()
