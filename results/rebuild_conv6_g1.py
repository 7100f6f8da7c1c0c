"""Rebuild the g = 1 run directories of issue 12's Conv-6 dial from `init_study_conv6/runs.csv`.

kaiming_normal at g = 1 is `init_study_conv6`'s committed kaiming_normal run (trained at 547ede6
and 505be17 by an earlier session; its round 0 of seed 0 was re-trained here bit for bit). Each
rebuilt run gets its rows of runs.csv as rounds.csv, byte for byte, and the config.yaml of the
same seed's g = 0.5 run of this grid with init.scale 1.0: what the run would write today. They
have no init.pt, masks or diagnostics; `python -m prune_ready.predictors` rebuilds θ0 from the
config.

    python results/rebuild_conv6_g1.py outputs/init_study_conv6 outputs/rebuilt_conv6
"""

import csv
import sys
from pathlib import Path

HERE = Path(__file__).parent
SOURCE = HERE / "init_study_conv6" / "runs.csv"
RUN = "conv6-cifar10-jpeg/kaiming_normal/imp_seed/seed={seed}"
TEMPLATE = "conv6-cifar10-jpeg/kaiming_normal/imp_seed/init.scale=0.5/seed={seed}/config.yaml"


def main(grid: Path, out: Path) -> None:
    with open(SOURCE, newline="") as f:
        header, *rows = list(csv.reader(f))
    first = header.index("round")
    written = 0
    for seed in sorted({row[header.index("seed")] for row in rows}):
        template = grid / TEMPLATE.format(seed=seed)
        mine = [r for r in rows if r[0] == RUN.format(seed=seed)]
        if not template.is_file() or not mine:
            continue  # no g = 0.5 run of this seed to take the config from
        config = template.read_text()
        assert config.count("  scale: 0.5\n") == 1, template
        target = out / grid.name / RUN.format(seed=seed)
        target.mkdir(parents=True, exist_ok=False)
        (target / "config.yaml").write_text(config.replace("  scale: 0.5\n", "  scale: 1.0\n"))
        lines = [",".join(header[first:])] + [",".join(r[first:]) for r in mine]
        (target / "rounds.csv").write_text("\n".join(lines) + "\n")
        (target / "PROVENANCE").write_text(
            f"rebuilt by results/rebuild_conv6_g1.py from {SOURCE.relative_to(HERE)}\n"
        )
        written += 1
    print(f"{written} runs rebuilt under {out / grid.name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
