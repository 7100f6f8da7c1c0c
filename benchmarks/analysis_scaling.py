"""Time and peak memory of `python -m prune_ready.analyze` against the number of runs.

    python benchmarks/analysis_scaling.py RUN_DIR                   # 50, 100, 200 runs
    python benchmarks/analysis_scaling.py RUN_DIR --runs 200 1000

RUN_DIR is one finished run (e.g. outputs/init_study_lenet/lenet_300_100-mnist/kaiming_normal/
imp_seed/seed=4, or a copy of it). Each sweep is built in a temporary folder from that run's files
(config.yaml, rounds.csv, metrics.csv, diagnostics.csv, round_masks.pt, predictors.csv when
present; hard links where the filesystem allows) as five inits × N/5 seeds: config.yaml's
init.name and seed rewritten, everything else the same, so the numbers analysed are copies but
the work done is that of a real sweep of N runs. Each analysis runs in a fresh process; its peak
resident memory is that process's maximum RSS, the imports included (printed as a row of 0 runs).
Run it on idle cores: other busy processes distort the times.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = ("config.yaml", "rounds.csv", "metrics.csv", "diagnostics.csv", "round_masks.pt")
OPTIONAL = ("predictors.csv",)
INITS = ("kaiming_normal", "kaiming_uniform", "xavier_normal", "xavier_uniform", "signed_constant")
IMPORTS = "import prune_ready.analyze.__main__"


def build(template: Path, runs: int, root: Path) -> Path:
    """A sweep of `runs` copies of `template` under root/sweep: INITS × runs/len(INITS) seeds."""
    config = (template / "config.yaml").read_text()
    sweep = root / "sweep"
    for i in range(runs):
        init, seed = INITS[i % len(INITS)], i // len(INITS)
        run = sweep / init / f"seed={seed}"
        run.mkdir(parents=True)
        for name in FILES + tuple(n for n in OPTIONAL if (template / n).is_file()):
            if name == "config.yaml":
                text = re.sub(r"(?m)^(\s*)seed: \d+$", rf"\g<1>seed: {seed}", config)
                text = re.sub(r"(?m)^(init:\n(?:  .*\n)*?  name: )\S+", rf"\g<1>{init}", text)
                (run / name).write_text(text)
            else:
                try:
                    os.link(template / name, run / name)
                except OSError:
                    shutil.copy(template / name, run / name)
    return sweep


def measure(args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of `python ARGS` in a fresh process."""
    start = time.perf_counter()
    pid = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL).pid
    _, status, usage = os.wait4(pid, 0)
    if status:
        raise SystemExit(f"{' '.join(args)} failed (status {status})")
    return time.perf_counter() - start, usage.ru_maxrss / 1024  # Linux: KB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="a finished run directory to copy")
    parser.add_argument("--runs", type=int, nargs="+", default=[50, 100, 200])
    args = parser.parse_args()
    if not (args.run / "rounds.csv").is_file():
        raise SystemExit(f"error: {args.run} is not a finished run (no rounds.csv)")
    print(f"{'runs':>6} {'seconds':>8} {'peak MB':>8} {'s/run':>7} {'MB/run':>7}")
    seconds, base = measure(["-c", IMPORTS])
    print(f"{0:>6} {seconds:8.1f} {base:8.0f}  (imports only)")
    for runs in args.runs:
        with tempfile.TemporaryDirectory() as tmp:
            sweep = build(args.run, runs, Path(tmp))
            seconds, peak = measure(
                ["-m", "prune_ready.analyze", str(sweep), "--out", str(Path(tmp) / "out")]
            )
        print(
            f"{runs:>6} {seconds:8.1f} {peak:8.0f} {seconds / runs:7.3f} {(peak - base) / runs:7.2f}"
        )


if __name__ == "__main__":
    main()
