"""The statistics of a sweep: computed once over its finished runs, shared by every output.

Each table is one entry of TABLES: its name (the Analysis field, and what figures, findings and
the report ask a Part for), how it is computed from the sweep (`Inputs`), and the CSV file the
pipeline writes it to. A new statistic is its entry there plus its Analysis field.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from prune_ready.analyze import labels
from prune_ready.analyze.compute import stats
from prune_ready.analyze.compute.diagnostics import HEALTH, network_health, summarize_diagnostics
from prune_ready.analyze.compute.lines import Lines
from prune_ready.analyze.compute.overlap import ALL, mask_overlap
from prune_ready.analyze.compute.prediction import CHOOSE_BELOW, LEVELS, correlations
from prune_ready.analyze.compute.sizes import compacted_sizes
from prune_ready.analyze.compute.stability import (
    barrier_differences,
    barrier_predictors,
    summarize_barriers,
    summarize_rewind,
)
from prune_ready.analyze.compute.stats import LEVEL, select
from prune_ready.analyze.defaults import DOSE_LEVELS
from prune_ready.analyze.read.collect import Sweep
from prune_ready.errors import UserError
from prune_ready.status import State


@dataclass(frozen=True)
class Options:
    """Choices a reader may change (python -m prune_ready.analyze --help)."""

    reference: str | None = None  # the line compared against; None: the best at each level
    dose_levels: tuple[float, ...] = DOSE_LEVELS
    robustness_levels: tuple[float, ...] = LEVELS  # predictors: robustness measured here
    choose_below: int = CHOOSE_BELOW  # predictors: seeds below choose, the others confirm
    accuracy: str = "round_end"  # a round's test accuracy at its end or early stop (ACCURACY)


@dataclass(frozen=True)
class Analysis:
    sweep: Sweep
    summary: pd.DataFrame  # per factors × round: n, mean, std, CI (summary.csv)
    comparisons: pd.DataFrame  # best init vs each other, Welch, per level (comparisons.csv)
    differences: pd.DataFrame  # each line vs the reference, paired, per level (differences.csv)
    dense: pd.DataFrame  # each level vs its own round 0, paired by seed (dense.csv)
    dose: pd.DataFrame  # accuracy against a numeric factor at a few levels (dose_response.csv)
    correlations: pd.DataFrame  # θ0 statistics against robustness (predictors.csv)
    agreement: pd.DataFrame  # settings at one level: same init ranking? (rank_agreement.csv)
    diagnostics: pd.DataFrame  # per factors × round × layer: means over seeds (diagnostics.csv)
    health: pd.DataFrame  # per run × round: the network's diagnostics in a few numbers
    health_summary: pd.DataFrame  # the same per factors × round: n, mean, std, CI
    overlap: pd.DataFrame  # mask Jaccard per kind of pair, round and layer (mask_overlap.csv)
    sizes: pd.DataFrame  # the compacted network per line and round, from the masks (sizes.csv)
    dose_factor: str | None  # the numeric factor of `dose` (e.g. init.scale), if any
    stability: pd.DataFrame  # barriers per line and measured round over seeds (stability.csv)
    stability_rewind: pd.DataFrame  # barrier and ticket accuracy by rewind point, if a factor
    stability_differences: pd.DataFrame  # each line's barrier vs the reference's, per round
    stability_predictors: pd.DataFrame  # round 0's barriers against robustness, as θ0's
    options: Options = field(default_factory=Options)

    def parts(self) -> list["Part"]:
        """One Part per model and data set, in name order."""
        rounds = finished(self.sweep.rounds)
        return [Part(self, model, data) for (model, data), _ in rounds.groupby(labels.SET_KEYS)]


@dataclass
class Part:
    """One model and data set: what its findings, figures and report section draw from."""

    analysis: Analysis
    model: str
    data: str

    def table(self, name: str) -> pd.DataFrame:
        """The analysis table `name` (TABLES) or the sweep's finished rounds/epochs: this part's
        rows."""
        if name in TABLE_NAMES:
            table = getattr(self.analysis, name)
        else:
            table = finished(getattr(self.analysis.sweep, name))
        return select(table, {"model": self.model, "data": self.data})

    @property
    def name(self) -> str:
        return labels.set_name(self.model, self.data)

    @property
    def factors(self) -> list[str]:
        return self.analysis.sweep.factors

    @property
    def early_stop(self) -> str:
        return self.analysis.sweep.early_stop

    @cached_property
    def rounds(self) -> pd.DataFrame:
        return self.table("rounds")

    @cached_property
    def lines(self) -> Lines:
        return Lines.of(self.rounds, self.factors)

    @cached_property
    def by_round(self) -> pd.DataFrame:
        """Per line and round: the test accuracy, its change from dense round 0, the early stop
        and the level, described (n, mean, std, CI)."""
        metrics = ["test_acc", "change", self.early_stop, LEVEL]
        return stats.describe(stats.with_change(self.rounds), [*self.lines.keys, "round"], metrics)

    @cached_property
    def pooled_overlap(self) -> pd.DataFrame:
        overlap = self.table("overlap")
        return overlap[(overlap["layer"] == ALL) & (overlap["init_a"] == ALL)]

    def settings(self, table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
        """`table` split by the factors that are neither the init's nor the weights remaining
        (e.g. the pruning method): (title, rows) per setting; one untitled part if none varies."""
        keys = [
            k
            for k in labels.series_keys(self.factors)[1:]
            if k not in stats.variant_keys(self.factors) and k not in labels.LEVEL_KEYS
        ]
        keys = labels.varying_keys(self.rounds, ["init", *keys])
        if not keys:
            return [("", table)]
        groups = table.groupby(keys, dropna=False, sort=False)
        return [
            (labels.setting_label(dict(zip(keys, combo, strict=True)), keys), rows)
            for combo, rows in sorted(groups, key=lambda g: tuple(map(labels.order, g[0])))
        ]

    def in_setting(self, table: pd.DataFrame, title: str) -> pd.DataFrame:
        """The rows of `table` in the setting `title` (as settings() names it); none if none."""
        return dict(self.settings(table)).get(title, table.iloc[:0])

    def has(self, name: str) -> bool:
        return len(self.pooled_overlap if name == "pooled_overlap" else self.table(name)) > 0


def finished(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["status"] == State.FINISHED]


def statistics(
    rounds: pd.DataFrame, factors: Sequence[str], early_stop: str
) -> dict[str, pd.DataFrame]:
    """summary.csv, comparisons.csv and dense.csv of finished `rounds` (their numbers never move:
    tests/test_analyze_unchanged.py)."""
    metrics = ("test_acc", "test_acc_at_early_stop", early_stop)
    return {
        "summary.csv": stats.summarize(rounds, factors, metrics),
        "comparisons.csv": stats.compare_inits(rounds, factors),
        "dense.csv": stats.versus_dense(rounds, factors),
    }


def check_reference(reference: str, rounds: pd.DataFrame, factors: Sequence[str]) -> None:
    """A reference names one line: by its label, or by an init that labels one line."""
    names = sorted(set(labels.line_labels(rounds, stats.variant_keys(factors))))
    matches = [n for n in names if n.split(",")[0] == reference]
    if reference not in names and len(matches) != 1:
        problem = "no such line" if not matches else f"{len(matches)} lines start so"
        raise UserError(f"--reference {reference}: {problem}; give one of: {'; '.join(names)}")


@dataclass
class Inputs:
    """What the tables are computed from: a sweep's finished runs, read once for all of them."""

    sweep: Sweep
    options: Options

    @property
    def factors(self) -> list[str]:
        return self.sweep.factors

    @cached_property
    def rounds(self) -> pd.DataFrame:
        return finished(self.sweep.rounds)

    @cached_property
    def unchanged(self) -> dict[str, pd.DataFrame]:
        return statistics(self.rounds, self.factors, self.sweep.early_stop)

    @cached_property
    def dose_factor(self) -> str | None:
        return stats.dose_factor(self.rounds, self.factors)

    @cached_property
    def diagnostics(self) -> pd.DataFrame:
        return finished(self.sweep.diagnostics)

    @cached_property
    def health(self) -> pd.DataFrame:
        return network_health(self.diagnostics, self.sweep.id_columns)

    @cached_property
    def stability(self) -> pd.DataFrame:
        return finished(self.sweep.stability)


@dataclass(frozen=True)
class Table:
    name: str  # its Analysis field (Part.table(name))
    csv: str | None  # the file the pipeline writes it to; None: drawn from, not written
    compute: Callable[[Inputs], pd.DataFrame]


def dose_table(i: Inputs) -> pd.DataFrame:
    if i.dose_factor is None:
        return pd.DataFrame(columns=[*i.factors, "round"])
    return stats.dose_response(i.rounds, i.factors, i.dose_factor, i.options.dose_levels)


TABLES: tuple[Table, ...] = (  # in the order the CSV files are written
    Table("summary", "summary.csv", lambda i: i.unchanged["summary.csv"]),
    Table(
        "differences",
        "differences.csv",
        lambda i: stats.differences(i.rounds, i.factors, i.options.reference),
    ),
    Table("comparisons", "comparisons.csv", lambda i: i.unchanged["comparisons.csv"]),
    Table("dense", "dense.csv", lambda i: i.unchanged["dense.csv"]),
    Table("dose", "dose_response.csv", dose_table),
    Table(
        "correlations",
        "predictors.csv",
        lambda i: correlations(
            i.rounds,
            i.sweep.predictors,
            i.factors,
            i.options.robustness_levels,
            i.options.choose_below,
        ),
    ),
    Table(
        "agreement",
        "rank_agreement.csv",
        lambda i: stats.rank_agreement(i.unchanged["summary.csv"], i.factors),
    ),
    Table(
        "diagnostics",
        "diagnostics.csv",
        lambda i: summarize_diagnostics(i.diagnostics, i.factors),
    ),
    Table("health", None, lambda i: i.health),
    Table("health_summary", None, lambda i: stats.summarize(i.health, i.factors, HEALTH)),
    Table("overlap", "mask_overlap.csv", lambda i: mask_overlap(i.sweep, i.rounds, i.factors)),
    Table("sizes", "sizes.csv", lambda i: compacted_sizes(i.sweep, i.rounds)),
    Table(
        "stability",
        "stability.csv",
        lambda i: summarize_barriers(i.stability, i.sweep.id_columns, i.factors),
    ),
    Table(
        "stability_rewind",
        "stability_rewind.csv",
        lambda i: summarize_rewind(i.stability, i.rounds, i.sweep.id_columns, i.factors),
    ),
    Table(
        "stability_differences",
        "stability_differences.csv",
        lambda i: barrier_differences(
            i.stability, i.sweep.id_columns, i.factors, i.options.reference
        ),
    ),
    Table(
        "stability_predictors",
        "stability_predictors.csv",
        lambda i: barrier_predictors(
            i.stability,
            i.rounds,
            i.sweep.id_columns,
            i.factors,
            i.options.robustness_levels,
            i.options.choose_below,
        ),
    ),
)
TABLE_NAMES = frozenset(table.name for table in TABLES)


def analyse(sweep: Sweep, options: Options | None = None) -> Analysis:
    """Statistics over the finished runs (unfinished and failed ones are listed, not used), of
    the test accuracy options.accuracy names."""
    options = options or Options()
    sweep = sweep.measured(options.accuracy)
    inputs = Inputs(sweep, options)
    if inputs.rounds.empty:
        counts = sweep.runs["status"].value_counts()
        raise UserError(
            f"no finished run under {sweep.base} yet ({len(sweep.runs)} runs: "
            + ", ".join(f"{n} {state}" for state, n in counts.items())
            + "): nothing to analyse"
        )
    if options.reference:
        check_reference(options.reference, inputs.rounds, inputs.factors)
    tables = {table.name: table.compute(inputs) for table in TABLES}
    return Analysis(sweep=sweep, dose_factor=inputs.dose_factor, options=options, **tables)
