"""Issue 22's phase 3 where Conv-6 learns: do the uniform inits behave as their normal twins
(the same variance: xavier's 2/(fan_in + fan_out), kaiming's 2/fan_in), and does xavier's lead
over kaiming hold in the uniform family too?

    python results/init_study_conv6_long/compare_uniform.py results/init_study_conv6_long/runs

At each level IMP reaches (100, 46.7, 22.1, 10.6, 5.2% of the weights): each init's mean test
accuracy at the round's early stop (95% t CI, n); then, paired by seed where both runs ran on
one machine, xavier_uniform − xavier_normal, kaiming_uniform − kaiming_normal and
xavier_uniform − kaiming_uniform, as mean [95% t CI], p, Holm over the table, MDD at 80% power
and pairs ("not testable" below 3 pairs or with no spread); then the same differences in each
run's change from its own dense round (a gap there before pruning is about training).
"""

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from compare_regimes import finished_rounds, mean_cell, paired_on_one_machine, print_paired

LEVELS = (100.0, 46.7, 22.1, 10.6, 5.2)  # % weights remaining: the round nearest each
INITS = ("xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform")
DIFFERENCES = (
    ("xavier_uniform", "xavier_normal"),
    ("kaiming_uniform", "kaiming_normal"),
    ("xavier_uniform", "kaiming_uniform"),
)
METRIC = "test_acc_at_early_stop"


def by_seed(rounds: pd.DataFrame, init: str, level: float) -> pd.DataFrame:
    """METRIC and machine of one init (at init.scale 1) at the round nearest `level`, by seed."""
    rows = rounds[(rounds["init"] == init) & (rounds["init.scale"] == 1.0)]
    nearest = (rows["weights_remaining_pct"] - level).abs()
    rows = rows[nearest == nearest.min()]
    return rows.drop_duplicates("seed").set_index("seed")[[METRIC, "machine"]].sort_index()


def differences(rounds: pd.DataFrame, levels: tuple[float, ...], change: bool) -> None:
    """DIFFERENCES paired by seed at `levels`, Holm over the table: of METRIC, or (`change`) of
    its change from each run's own dense round."""
    rows = []
    for (a, b), level in ((d, level) for d in DIFFERENCES for level in levels):
        x, y = by_seed(rounds, a, level), by_seed(rounds, b, level)
        if change:
            x[METRIC] -= by_seed(rounds, a, 100.0)[METRIC]
            y[METRIC] -= by_seed(rounds, b, 100.0)[METRIC]
        rows.append(([f"{a} − {b}", f"~{level:g}%"], *paired_on_one_machine(x, y, METRIC)))
    what = "the change from dense round 0" if change else METRIC
    print_paired(f"long regime: {what}", ["difference", "level"], rows)


def main(runs: str) -> None:
    rounds = finished_rounds([runs])
    print(f"\n## long regime (4,000 iterations a round): {METRIC}, % (mean [95% t CI] (n))")
    print("| init | " + " | ".join(f"~{level:g}%" for level in LEVELS) + " |")
    print("|---" * (1 + len(LEVELS)) + "|")
    for init in INITS:
        cells = [mean_cell(by_seed(rounds, init, level)[METRIC].to_numpy()) for level in LEVELS]
        print(f"| {init} | " + " | ".join(cells) + " |")
    differences(rounds, LEVELS, change=False)
    differences(rounds, LEVELS[1:], change=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    main(sys.argv[1])
