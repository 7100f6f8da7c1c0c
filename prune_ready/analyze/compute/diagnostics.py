"""Why an init survives pruning, from each run's diagnostics.csv (written by prune_ready.diagnostics,
its columns named in prune_ready.run_format).

Two views of the same rows (one per run × round × layer, measured at the round's rewind point):
- `summarize_diagnostics`: per config, round and layer, the mean over seeds of every measure,
  plus rms_ratio (survivors' RMS ÷ the RMS the init intends for their fan-in) and dead_pct;
  derived per run first, then averaged, so they are means over seeds like the rest.
- `network_health`: per run and round, the whole network in a few numbers (the figures and the
  findings): dead hidden units, the RMS ratio of the first layer and of the network, the output
  layer's activation RMS and the first layer's gradient norm.
Layers keep the order of diagnostics.csv, the feed-forward order; the last is the output layer.
"""

from collections.abc import Sequence

import pandas as pd

from prune_ready.analyze.read.columns import LEVEL
from prune_ready.run_format import DIAGNOSTIC_MEASURES

HEALTH = ("dead_hidden_pct", "rms_ratio_first", "rms_ratio", "act_rms_out", "grad_norm_first")


def with_ratios(diagnostics: pd.DataFrame) -> pd.DataFrame:
    """The rows plus rms_ratio (NaN where no weight survives) and dead_pct, per run."""
    intended = diagnostics["intended_rms"].where(diagnostics["intended_rms"] > 0)
    return diagnostics.assign(
        rms_ratio=diagnostics["weight_rms"] / intended,
        dead_pct=100 * diagnostics["dead"] / diagnostics["units"],
    )


def summarize_diagnostics(diagnostics: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """Per factors × round × layer (layers in feed-forward order): level, n seeds and the mean
    over seeds of every measure, rms_ratio and dead_pct (diagnostics.csv of the analysis)."""
    by = [*factors, "round", "layer"]
    measures = [*DIAGNOSTIC_MEASURES, "dead_pct", "rms_ratio"]
    groups = with_ratios(diagnostics).groupby(by, dropna=False, sort=False)  # first-seen order
    summary = groups[[LEVEL, *measures]].mean().join(groups.size().rename("n")).reset_index()
    summary = summary.sort_values([*factors, "round"], kind="stable", ignore_index=True)
    return summary[[*by, LEVEL, "n", *measures]]


def network_health(diagnostics: pd.DataFrame, id_columns: Sequence[str]) -> pd.DataFrame:
    """Per run × round: the ids, round, level, first and output layer's names, and HEALTH.

    dead_hidden_pct: dead units of every layer but the output layer, in % of their units;
    rms_ratio: the layers' rms_ratio weighted by their surviving weights (fan-in × live units).
    """
    keys = [*id_columns, "round"]
    rows = with_ratios(diagnostics)
    per_run = rows.groupby(["run", "round"], sort=False)
    position = per_run.cumcount()
    last = per_run["layer"].transform("size") - 1
    hidden, first, out = position < last, position == 0, position == last
    surviving = rows["fan_in_mean"] * (rows["units"] - rows["dead_in"])
    weighted = rows["rms_ratio"].notna()  # some weight survives
    parts = pd.DataFrame(
        {
            "dead_hidden": rows["dead"].where(hidden, 0),
            "units_hidden": rows["units"].where(hidden, 0),
            "ratio_x_weights": (rows["rms_ratio"] * surviving).where(weighted, 0),
            "weights": surviving.where(weighted, 0),
        }
    )
    sums = parts.groupby([rows["run"], rows["round"]], sort=False).sum()
    health = rows.loc[first, [*keys, LEVEL, "layer", "rms_ratio", "grad_norm"]].rename(
        columns={
            "layer": "first_layer",
            "rms_ratio": "rms_ratio_first",
            "grad_norm": "grad_norm_first",
        }
    )
    output = rows.loc[out, ["run", "round", "layer", "act_rms"]].rename(
        columns={"layer": "output_layer", "act_rms": "act_rms_out"}
    )
    health = health.merge(output, on=["run", "round"], how="left", sort=False)
    health = health.merge(sums.reset_index(), on=["run", "round"], how="left", sort=False)
    units = health["units_hidden"].where(health["units_hidden"] > 0)
    weights = health["weights"].where(health["weights"] > 0)
    health = health.assign(
        dead_hidden_pct=100 * health["dead_hidden"] / units,
        rms_ratio=health["ratio_x_weights"] / weights,
    )
    columns = [*keys, LEVEL, "first_layer", "output_layer", *HEALTH]
    return health[columns].reset_index(drop=True)
