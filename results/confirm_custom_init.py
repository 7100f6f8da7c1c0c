"""Issue 12, step 6: the custom init chosen on seeds 0-7, confirmed on fresh seeds 8-15.

Chosen before any seed >= 8 ran (on `init_scale_lenet/`, the mean of its accuracy at 0.5% and
0.33% of the weights): signed_constant at g = 1 (`conf/init/signed_constant.yaml`), against the
best standard init there, xavier_uniform. On seeds 8-15 only, paired by seed (same data order),
at 0.5% and 0.33%: the mean difference, its 95% t CI, the paired t-test's p and Holm's
adjustment over those two comparisons; the goal was >= 1 pp better, Holm-significant.

    python results/confirm_custom_init.py results/custom_init_lenet/runs.csv
"""

import sys

import pandas as pd

from prune_ready.analyze import holm, paired

CUSTOM, STANDARD = "signed_constant", "xavier_uniform"
ROUNDS = {12: "0.5%", 13: "0.33%"}  # init_study_lenet's rounds at those levels
SEEDS = range(8, 16)


def main(runs_csv: str) -> None:
    runs = pd.read_csv(runs_csv)
    runs = runs[(runs["status"] == "finished") & runs["seed"].isin(SEEDS)]
    if "init.scale" in runs:
        runs = runs[runs["init.scale"] == 1.0]
    acc = runs.pivot_table(index=["round", "seed"], columns="init", values="test_acc")
    rows = []
    for round_, level in ROUNDS.items():
        pairs = acc.xs(round_, level="round")[[CUSTOM, STANDARD]].dropna()
        d = paired(pairs[CUSTOM], pairs[STANDARD])
        rows.append((level, len(pairs), pairs[CUSTOM].mean(), pairs[STANDARD].mean(), d))
    adjusted = holm([d.p for *_, d in rows])
    print(f"{CUSTOM} - {STANDARD}, paired by seed, seeds {SEEDS.start}-{SEEDS.stop - 1}:")
    for (level, n, custom, standard, d), p_holm in zip(rows, adjusted, strict=True):
        print(
            f"  {level:>5}: {100 * custom:.2f}% vs {100 * standard:.2f}%, "
            f"{100 * d.diff:+.2f} pp [{100 * d.low:+.2f}, {100 * d.high:+.2f}], "
            f"p={d.p:.3f}, Holm p={p_holm:.3f}, MDD {100 * d.mdd:.2f} pp (n={n})"
        )


if __name__ == "__main__":
    main(sys.argv[1])
