"""Rebuild run directories for seeds 0-3 of issue 12's LeNet grid from
`init_scale_lenet_partial/rounds_all.csv` (every rounds.csv of those runs, concatenated when the
grid was stopped at the end of an earlier session; trained at d54bae3 on that session's machine).

Each rebuilt run gets the rounds.csv its run wrote (the rows of rounds_all.csv, byte for byte)
and a config.yaml: that of the same setting's seed-4 run of this grid (same code, 1a99fab) with
the seed changed, which is exactly what the run would have written. They have no init.pt,
masks or diagnostics; `python -m prune_ready.predictors` rebuilds θ0 from the config.

    python results/rebuild_partial.py outputs/init_study_lenet outputs/rebuilt_d54bae3
"""

import csv
import sys
from pathlib import Path

HERE = Path(__file__).parent
SOURCE = HERE / "init_scale_lenet_partial" / "rounds_all.csv"
ROUNDS = 14


def run_path(init: str, scale: str, seed: str) -> Path:
    variant = "" if scale == "1.0" else f"init.scale={scale}/"
    return Path(f"lenet_300_100-mnist/{init}/imp_seed/{variant}seed={seed}")


def main(grid: Path, out: Path) -> None:
    with open(SOURCE, newline="") as f:
        header, *rows = list(csv.reader(f))
    runs: dict[tuple[str, str, str], list[list[str]]] = {}
    for row in rows:
        runs.setdefault(tuple(row[:3]), []).append(row[3:])
    written = 0
    for (init, scale, seed), run_rows in sorted(runs.items()):
        if seed == "4" or len(run_rows) != ROUNDS:
            continue  # seed 4 was re-run in full here; unfinished runs are not rebuilt
        template = grid / run_path(init, scale, "4") / "config.yaml"
        config = template.read_text()
        assert config.count("seed: 4\n") == 2, template  # data.seed and seed
        target = out / grid.name / run_path(init, scale, seed)
        target.mkdir(parents=True, exist_ok=False)
        (target / "config.yaml").write_text(config.replace("seed: 4\n", f"seed: {seed}\n"))
        lines = [",".join(header[3:])] + [",".join(r) for r in run_rows]
        (target / "rounds.csv").write_text("\n".join(lines) + "\n")
        (target / "PROVENANCE").write_text(
            f"rebuilt by results/rebuild_partial.py from {SOURCE.relative_to(HERE)}: trained at "
            "d54bae3 in an earlier session, on another machine\n"
        )
        written += 1
    print(f"{written} runs rebuilt under {out / grid.name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
