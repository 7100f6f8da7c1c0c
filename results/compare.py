"""The comparisons FINDINGS.md quotes that the generic analysis does not make, from the committed
runs.csv files: python results/compare.py (run from the repository root).

- LTH: winning ticket minus its controls (random re-init of its masks, random masks with its
  per-layer counts) at each level, paired by seed; the re-init control against the earlier one
  that re-ran its own pruning trajectory (Welch, 3 + 3 seeds).
- Pairs of inits that draw the same random numbers, paired by seed (the same data order too):
  xavier_* minus kaiming_* (θ0 equal up to a per-layer factor: on LeNet xavier_* = kaiming_* x
  0.850, 0.866, 0.953), and each custom init minus the standard init it starts from (the same
  θ0 and round 0, so the same first mask; they differ from the first rewind on).
- The four standard inits alone: the best at each level and its lead over each other (Welch, Holm
  across the three comparisons at that level).
- *_uniform minus *_normal at each level (Welch, 6 + 6 seeds).
- Per pruning method (methods_lenet, methods_conv6): signed_constant minus kaiming_normal,
  paired by seed, *_uniform minus *_normal and xavier_* minus kaiming_* (Welch, 6 + 6 seeds), at
  each level the methods share.
"""

from pathlib import Path

import pandas as pd

from prune_ready.analyze import compare_inits, paired, welch

RESULTS = Path(__file__).parent
CONTROL, CONTROLS = "pruning.control", ("none", "reinit", "random_prune")
STANDARD = ("xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform")
FAMILIES = (("xavier_uniform", "kaiming_uniform"), ("xavier_normal", "kaiming_normal"))
SCALES = (("xavier_normal", "xavier_uniform"), ("kaiming_normal", "kaiming_uniform"))
SAME_DRAWS = {  # init -> the init whose random draws it shares
    "xavier_normal": "kaiming_normal",
    "xavier_uniform": "kaiming_uniform",
    "signed_constant": "kaiming_normal",
    "sparse_kaiming": "kaiming_normal",
    "layer_scaled": "kaiming_normal",
    "sparse_xavier": "xavier_normal",
}


def pp(d) -> str:
    return f"{100 * d.diff:+.2f} pp [{100 * d.low:+.2f}, {100 * d.high:+.2f}], p={d.p:.3f}"


def runs(study: str) -> pd.DataFrame:
    table = pd.read_csv(RESULTS / study / "runs.csv")
    return table[table["status"] == "finished"]


def accuracies(table: pd.DataFrame, round_: int, metric: str = "test_acc", **where) -> pd.Series:
    rows = table[table["round"] == round_]
    for key, value in where.items():
        rows = rows[rows[key] == value]
    return rows.sort_values("seed").set_index("seed")[metric]


def pooled(table: pd.DataFrame, round_: int, *inits: str) -> list[float]:
    """The test accuracies of every seed of each of `inits` at `round_`, as one sample."""
    return [a for init in inits for a in accuracies(table, round_, init=init)]


def levels(table: pd.DataFrame) -> list[tuple[int, float]]:
    """(round, mean % weights remaining) for every round of `table`, in order."""
    return list(table.groupby("round")["weights_remaining_pct"].mean().items())


def paired_inits(table: pd.DataFrame, round_: int, init: str, base: str) -> str:
    """init - base at `round_`, paired by seed."""
    return pp(paired(accuracies(table, round_, init=init), accuracies(table, round_, init=base)))


def lth() -> None:
    """Ticket minus each control, paired by seed (a control branches from its seed's ticket and
    trains its masks; round 0, the dense round they share, is left out); and the re-init control
    minus the earlier one, which re-ran its own pruning trajectory (Welch: other masks)."""
    table = runs("lth_lenet")
    earlier = runs("lth_lenet_own_trajectory")
    print("## lth_lenet: ticket - control (paired by seed); reinit - earlier reinit (Welch)")
    for round_, level in levels(table)[1:]:
        cells = []
        for metric in ("test_acc_at_early_stop", "early_stop_iteration"):
            control = {c: accuracies(table, round_, metric, **{CONTROL: c}) for c in CONTROLS}
            before = accuracies(earlier, round_, metric, **{CONTROL: "reinit"})
            diffs = {
                "ticket - reinit": paired(control["none"], control["reinit"]),
                "ticket - random": paired(control["none"], control["random_prune"]),
                "reinit - earlier": welch(control["reinit"], before),
            }
            shown = {
                k: pp(d) if metric.startswith("test") else f"{d.diff:+.0f} it"
                for k, d in diffs.items()
            }
            cells.append(" | ".join(f"{name} {text}" for name, text in shown.items()))
        print(f"{level:6.2f}%  acc: {cells[0]}  early stop: {cells[1]}")


def same_draws(study: str) -> None:
    table = runs(study)
    inits = set(table["init"])
    print(f"## {study}: init - the init whose random draws it shares (paired by seed)")
    for round_, level in levels(table):
        cells = [
            f"{init} - {base}: {paired_inits(table, round_, init, base)}"
            for init, base in SAME_DRAWS.items()
            if {init, base} <= inits
        ]
        print(f"{level:6.2f}%  " + " | ".join(cells))


def standard(study: str) -> None:
    table = runs(study)
    table = table[table["init"].isin(STANDARD)]
    print(f"## {study}: the four standard inits (Welch, Holm over 3)")
    comparisons = compare_inits(table, ["model", "data", "init", "pruning"])
    for _, level in comparisons.groupby("round"):
        leads = ", ".join(
            f"{r.other} {100 * r.diff:+.2f} pp (p_holm={r.p_holm:.2f})" for r in level.itertuples()
        )
        best = level.iloc[0]
        print(
            f"{best.weights_remaining_pct:6.2f}%  best {best.best} {100 * best.best_mean:.2f}%: {leads}"
        )


def families(study: str) -> None:
    table = runs(study)
    print(f"## {study}: uniform - normal inits, xavier and kaiming pooled (Welch, 6 + 6 seeds)")
    for round_, level in levels(table):
        uniform_normal = welch(*(pooled(table, round_, *pair) for pair in FAMILIES))
        print(f"{level:6.2f}%  {pp(uniform_normal)}")


def methods(study: str, low: float, high: float) -> None:
    """At each level between `low` and `high` % weights remaining, per method."""
    table = runs(study)
    table = table.assign(density=table["pruning.density"].fillna(-1.0))
    print(
        f"## {study}: signed - kaiming_normal (paired); uniform - normal, xavier - kaiming (Welch)"
    )
    for (method, _, round_), part in table.groupby(["pruning", "density", "round"]):
        level = part["weights_remaining_pct"].mean()
        if not low < level < high:
            continue
        cells = [
            f"uniform - normal {pp(welch(*(pooled(part, round_, *pair) for pair in FAMILIES)))}",
            f"xavier - kaiming {pp(welch(*(pooled(part, round_, *pair) for pair in SCALES)))}",
        ]
        if {"signed_constant", "kaiming_normal"} <= set(part["init"]):
            signed = paired_inits(part, round_, "signed_constant", "kaiming_normal")
            cells.insert(0, f"signed - kaiming_n {signed}")
        print(f"{method:16s} {level:5.2f}%  " + " | ".join(cells))


if __name__ == "__main__":
    lth()
    methods("methods_lenet", 1.0, 8.0)
    if (RESULTS / "methods_conv6" / "runs.csv").exists():
        methods("methods_conv6", 4.0, 101.0)
    for study in ("init_study_lenet", "init_study_conv6"):
        if (RESULTS / study / "runs.csv").exists():
            standard(study)
            same_draws(study)
            families(study)
