"""Wall time of one small grid run one job at a time vs side by side (hydra/launcher=local).

    python benchmarks/parallel_jobs.py [--runs 4] [--epochs 3]

Each setting trains the same `--runs` LeNet-300-100 runs (seeds 0..runs-1, `--epochs` epochs,
no pruning) through the command line into a fresh folder, and prints the wall time and the
ratio. With threads = cores ÷ jobs, N jobs side by side should never be slower than one job
after the other. Run it on idle cores.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def grid(runs: int, epochs: int, jobs: int) -> float:
    """Seconds to train the grid with `jobs` joblib workers (1: the basic launcher)."""
    launcher = ["hydra/launcher=local", f"hydra.launcher.n_jobs={jobs}"] if jobs > 1 else []
    args = [
        "-m",
        *launcher,
        f"seed={','.join(map(str, range(runs)))}",
        "pruning=none",
        f"pruning.round_length={epochs}ep",
        "progress_bar=null",
    ]
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "prune_ready.train", *args, f"paths.output_root={out}"],
            cwd=REPO,
            check=True,
            capture_output=True,
            env={k: v for k, v in os.environ.items() if k != "PRUNE_READY_THREADS"},
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("PRUNE_READY_DATA", str(REPO.parent / "shared" / "data"))
    cores = len(os.sched_getaffinity(0))
    sequential = grid(args.runs, args.epochs, jobs=1)
    parallel = grid(args.runs, args.epochs, jobs=cores)
    print(f"{args.runs} LeNet runs of {args.epochs} epochs on {cores} cores:")
    print(f"  one job at a time, {cores} threads each:   {sequential:6.1f} s")
    print(f"  {cores} jobs side by side, 1 thread each:  {parallel:6.1f} s")
    print(f"  side by side takes {parallel / sequential:.2f}x the time of one after the other")


if __name__ == "__main__":
    main()
