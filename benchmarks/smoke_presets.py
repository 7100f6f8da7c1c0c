"""How long each smoke preset (conf/experiment/*_smoke.yaml) takes from the command line.

    python benchmarks/smoke_presets.py [--presets seed_study_smoke ...] [--limit 180]

Each preset runs as its README command does (`python -m prune_ready.train -m
+experiment=<preset>`, no progress bar) into a temporary folder; the wall time of the whole grid,
start-up and data loading included, is printed beside its number of runs and the limit a smoke
preset promises (3 minutes on 2 cores). The cifar10-jpeg cache is built first if missing, so
its one-time decoding is not counted. Run it on idle cores: it exits 1 if a preset is over.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def smoke_presets() -> list[str]:
    return sorted(p.stem for p in (REPO / "conf" / "experiment").glob("*_smoke.yaml"))


def warm_cache() -> None:
    """Decode cifar10-jpeg into the cache now (once; 1-2 minutes), not inside a timed preset."""
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from prune_ready.train import CONF_DIR

    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=["data=cifar10_jpeg"])
    instantiate(cfg.data).load()


def time_preset(preset: str, out: Path) -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "prune_ready.train",
            "-m",
            f"+experiment={preset}",
            "progress_bar=null",
            f"paths.output_root={out}",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"error: {preset} failed:\n{result.stderr[-3000:]}")
    return seconds, len(list(out.rglob("rounds.csv")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", nargs="+", choices=smoke_presets(), default=smoke_presets())
    parser.add_argument("--limit", type=float, default=180, help="seconds (default: %(default)s)")
    args = parser.parse_args()
    warm_cache()
    print(f"{'preset':<20} {'runs':>5} {'seconds':>8} {'limit':>6}")
    over = []
    for preset in args.presets:
        with tempfile.TemporaryDirectory() as tmp:
            seconds, runs = time_preset(preset, Path(tmp))
        print(f"{preset:<20} {runs:>5} {seconds:>8.1f} {args.limit:>6.0f}", flush=True)
        if seconds > args.limit:
            over.append(preset)
    if over:
        sys.exit(f"over {args.limit:g} s: {', '.join(over)}")


if __name__ == "__main__":
    main()
