"""How long the commands take to answer when they need not train: --help and one-line refusals.

    python benchmarks/startup.py [--repeats 3] [--run RUN_DIR]

Each command runs as a fresh process, `--repeats` times; the best wall time is printed for the
console script (prune-ready-train, ...) and for the `python -m` form side by side. The target is
< 3 s: these answers must not wait for torch and Lightning to load (8-18 s before they were
imported lazily). A bad --round is measured on RUN_DIR if given, else on a stand-in run folder
holding only config.yaml and a 3-round rounds.csv (the round is refused before anything loads).
Run it on idle cores: on busy ones every interpreter start is slower.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 3.0
SCRIPTS = {  # console script -> module of the `python -m` form
    "prune-ready-train": "prune_ready.train",
    "prune-ready-analyze": "prune_ready.analyze",
    "prune-ready-export": "prune_ready.export",
}


def cases(run: Path) -> list[tuple[str, list[str], int]]:
    """(console script, arguments, the exit status it must give)."""
    return [
        ("prune-ready-train", ["--help"], 0),
        ("prune-ready-train", ["init=nope"], 1),
        ("prune-ready-analyze", ["--help"], 0),
        ("prune-ready-export", ["--help"], 0),
        ("prune-ready-export", [str(run), "--round", "99"], 1),
    ]


def best_time(command: list[str], status: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode != status:
            sys.exit(f"error: {' '.join(command)} exited {result.returncode}: {result.stderr}")
    return min(times)


def stand_in_run(folder: Path) -> Path:
    (folder / "config.yaml").write_text("name: startup\n")
    (folder / "rounds.csv").write_text("round\n0\n1\n2\n")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--run", type=Path, help="a run directory for the bad --round case")
    args = parser.parse_args()
    missing = [s for s in SCRIPTS if shutil.which(s) is None]
    if missing:
        sys.exit(f"error: {', '.join(missing)} not on the PATH: pip install -e .")
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run or stand_in_run(Path(tmp))
        print(f"best of {args.repeats}, seconds (target < {TARGET_S:g})")
        print(f"{'command':<44} {'script':>7} {'python -m':>10}")
        for script, arguments, status in cases(run):
            shown = " ".join([script.removeprefix("prune-ready-"), *arguments])
            if args.run is None:
                shown = shown.replace(str(run), "RUN")
            script_s = best_time([script, *arguments], status, args.repeats)
            module = [sys.executable, "-m", SCRIPTS[script], *arguments]
            module_s = best_time(module, status, args.repeats)
            print(f"{shown:<44} {script_s:>7.2f} {module_s:>10.2f}")


if __name__ == "__main__":
    main()
