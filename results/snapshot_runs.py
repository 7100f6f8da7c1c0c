"""Copy the small files of every run under a sweep into results/, to commit a grid's rows as its
runs finish (the runs' weights, masks and checkpoints stay in outputs/).

    python results/snapshot_runs.py outputs/init_study_conv6_long results/init_study_conv6_long/runs

A run still training contributes its completed rounds; running it again replaces older copies.
"""

import shutil
import sys
from pathlib import Path

FILES = ("config.yaml", "rounds.csv", "metrics.csv", "machine.json", "stability.csv")


def snapshot(sweep: Path, dest: Path) -> int:
    """Copy FILES of each run directory (one holding config.yaml) under `sweep`; the run count."""
    runs = sorted(p.parent for p in sweep.rglob("config.yaml"))
    for run in runs:
        target = dest / run.relative_to(sweep)
        target.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            if (run / name).is_file():
                shutil.copy2(run / name, target / name)
    return len(runs)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python results/snapshot_runs.py SWEEP_DIR DEST_DIR")
    print(f"{snapshot(Path(sys.argv[1]), Path(sys.argv[2]))} runs copied")
