"""python -m prune_ready.repair PATH...: set damaged runs aside so that their command trains them
again.

A finished run whose files no longer match its manifest is refused by every reader. Its last
verified state is gone with its checkpoint (a finished run keeps none), so no round of it can be
resumed: repairing it means training it again from round 0. This command does the setting aside
for each damaged run under PATH (a run, a sweep, or a glob), and says for each what it moved:
every file of the run but its config.yaml goes into a hidden sibling, `.<run>.damaged/` (kept for
inspection, and hidden so that the analysis does not collect it as a run), and the run is marked
unfinished, so that its command (a grid's: only this run) trains it again in place. A damaged
config.yaml is set aside too: the run directory is then empty and its command starts it afresh.
Runs that verify, unfinished and failed runs are left as they are.
"""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from omegaconf import OmegaConf

from prune_ready import manifest, results
from prune_ready.errors import UserError
from prune_ready.rundir import LOCK, exclusive
from prune_ready.status import run_status


def damaged_file(run_dir: Path) -> Path | None:
    """The first file of `run_dir` that fails verification, or None if the run is whole
    (finished and verified, unfinished, failed)."""
    try:
        rounds = int(OmegaConf.load(run_dir / results.CONFIG).pruning.rounds)
    except Exception:  # not yaml, or not a run's config
        return run_dir / results.CONFIG
    try:
        run_status(run_dir, rounds)
    except manifest.Damaged as e:
        return e.path or run_dir / manifest.MANIFEST
    return None


def set_aside(run_dir: Path) -> str | None:
    """Set `run_dir` aside if it is damaged (see the module docstring); the line saying what
    was done, or None when the run is whole."""
    with exclusive(run_dir) as mine:
        if not mine:
            raise UserError(f"{run_dir} is being trained by another process: repair it later")
        path = damaged_file(run_dir)
        if path is None:
            return None
        keep = {LOCK} if path.name == results.CONFIG else {LOCK, results.CONFIG}
        aside = next(
            p
            for n in range(1000)
            if not (
                p := run_dir.with_name(f".{run_dir.name}.damaged{f'.{n}' if n else ''}")
            ).exists()
        )
        aside.mkdir()
        moved = sorted(p.name for p in run_dir.iterdir() if p.name not in keep)
        for name in moved:
            os.replace(run_dir / name, aside / name)
        if results.CONFIG in keep:
            manifest.begin(run_dir)  # UNFINISHED: the run's command trains it again
    return (
        f"{run_dir}: {path.name} is damaged; moved {len(moved)} files ({', '.join(moved)}) to "
        f"{aside}; no verified round is left to resume from (a finished run keeps no "
        "checkpoint): run its command again to train it from round 0"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="prune-ready-repair",
        description="Set aside the damaged runs under PATH so that their command trains them again.",
    )
    parser.add_argument("paths", nargs="+", help="runs, sweep directories or globs")
    args = parser.parse_args(argv)
    from prune_ready.analyze.read.collect import find_run_dirs

    try:
        runs = find_run_dirs(args.paths)
        repaired = 0
        for run in runs:
            if (line := set_aside(run)) is not None:
                print(line)
                repaired += 1
    except UserError as e:
        sys.exit(f"error: {e}")
    print(f"{repaired} of {len(runs)} runs were damaged and set aside")


if __name__ == "__main__":
    main()
