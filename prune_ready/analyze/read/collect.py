"""Every run of a sweep in one place: what set it apart, whether it finished, and its numbers.

A run is any directory holding config.yaml (hidden directories such as Hydra's .hydra/ are
skipped). Its config decides the columns that tell runs apart ("factors"): model, data, init and
pruning (by their names) always, the training recipe's optimizer and lr_schedule (by their
names) where they vary, plus every other config field that varies across the runs and changes
results. Left out are the seed (a column of its own), fields that only copy the seed
(data.seed), fields that follow from the names (e.g. init.scheme.mode, optimizer._target_) and
fields that do not change results (data.root, trainer.* but precision, ..., as for run
directory names). Configs of runs made before the pruning parts (af2e682) are read in today's
layout (`migrated`), runs from before the optimizer and lr_schedule groups as the fused Adam at
model.lr and constant rate they trained with, and a key some runs' configs lack is taken at its
default there where its node's `_target_` gives one (`with_defaults`), so an older run and a
newer one of the same setting are one setting: that migration is prune_ready.analyze.read.migrate.
"""

import glob
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from prune_ready import machine, manifest, results, run_format
from prune_ready.analyze.defaults import ACCURACY
from prune_ready.analyze.read.columns import DIAGNOSTICS, LEVEL, MACHINE
from prune_ready.analyze.read.migrate import flatten, migrated, with_defaults, with_recipe
from prune_ready.errors import UserError
from prune_ready.rundir import left_out_of_path
from prune_ready.status import State, run_status

GROUPS = ("model", "data", "init", "pruning")  # named by <group>.name; always a factor
RECIPE_GROUPS = ("optimizer", "lr_schedule")  # named by <group>.name; a factor where it varies
REQUIRED = ["seed", "pruning.rounds", *(f"{g}.name" for g in GROUPS)]  # keys every run config has
# the run files the analysis reads, hashed against a run's manifest before they are read
READS = (results.CONFIG, results.ROUNDS, results.EPOCHS, results.DIAGNOSTICS, results.PREDICTORS)
Paths = str | Path | Iterable[str | Path]


@dataclass(frozen=True)
class Sweep:
    """The collected runs. `rounds`, `epochs` and `diagnostics` carry each run's factors, seed
    and status."""

    base: Path  # `run` paths are relative to this
    runs: pd.DataFrame  # one row per run
    rounds: pd.DataFrame  # one row per run × round (rounds.csv)
    epochs: pd.DataFrame  # one row per run × epoch (metrics.csv)
    diagnostics: pd.DataFrame  # one row per run × round × layer (diagnostics.csv), with the level
    predictors: pd.DataFrame  # one row per run (predictors.csv): run and the θ0 statistics
    factors: list[str]  # the columns that set runs apart, seed excluded
    early_stop: str  # the rounds.csv column saying when a round's validation loss was lowest
    stability: pd.DataFrame  # one row per run × measured round × α (stability.csv), with ids
    legacy: int = 0  # runs without a manifest (written before them): checked by rounds.csv only

    def table(self) -> pd.DataFrame:
        """One row per run × round; a run without rounds keeps one row (runs.csv)."""
        return self.runs.merge(self.rounds, how="left", on=self.id_columns, sort=False)

    @property
    def id_columns(self) -> list[str]:
        return ["run", "status", *self.factors, "seed", *machine_column(self.runs.columns)]

    def count(self, state: State) -> int:
        return int((self.runs["status"] == state).sum())

    def measured(self, accuracy: str) -> "Sweep":
        """This sweep with `test_acc` read from ACCURACY[accuracy] in every round, so that every
        table, figure and finding analyses that measure (runs.csv keeps the columns as run)."""
        if accuracy not in ACCURACY:
            raise UserError(f"accuracy {accuracy!r}: give one of {', '.join(ACCURACY)}")
        column = ACCURACY[accuracy]
        if column == "test_acc":
            return self
        done = self.rounds[self.rounds["status"] == State.FINISHED]
        missing = done[done[column].isna()] if column in done else done
        if len(missing):
            many = len(missing) > 1
            raise UserError(
                f"--accuracy {accuracy}: {len(missing)} finished round{'s' if many else ''} "
                f"{'have' if many else 'has'} no {column} "
                f"(e.g. {missing['run'].iloc[0]} round {missing['round'].iloc[0]}); "
                "analyse them with --accuracy round_end"
            )
        return replace(self, rounds=self.rounds.assign(test_acc=self.rounds[column]))


def find_run_dirs(paths: Paths) -> list[Path]:
    """Every directory holding config.yaml under `paths` (each a directory or a glob), sorted."""
    roots = expand(paths)
    found = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            if results.CONFIG in filenames:
                found.append(Path(dirpath))
                dirnames.clear()  # a run's own subdirectories (tb/) hold no runs
            else:
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
    if not found:
        where = ", ".join(str(r) for r in roots)
        raise UserError(f"no runs (directories holding {results.CONFIG}) under {where}")
    return sorted(set(found))


def expand(paths: Paths) -> list[Path]:
    """The directories named by `paths` (one or several); one that does not exist is a glob."""
    roots: list[Path] = []
    for path in [paths] if isinstance(paths, str | Path) else paths:
        matches = [Path(path)] if Path(path).exists() else sorted(map(Path, glob.glob(str(path))))
        if not matches:
            raise UserError(f"no such directory: {path}")
        for match in matches:
            if not match.is_dir():
                raise UserError(f"not a directory: {match}")
        roots.extend(matches)
    if not roots:
        raise UserError("no sweep directories given")
    return roots


def collect(paths: Paths) -> Sweep:
    """Read every run under `paths` into one Sweep; unfinished and failed runs are kept.
    A path that is a runs.csv (an earlier analysis's) is read as the Sweep it describes."""
    table = runs_csv(paths)
    if table:
        return from_runs_csv(table)
    roots = expand(paths)
    run_dirs = [d.resolve() for d in find_run_dirs(roots)]
    base = common_base(roots)
    for d in run_dirs:  # what is read below is hashed against each run's manifest first
        manifest.verify(d, READS)
    flats = with_defaults([with_recipe(migrated(flatten(load_config(d)))) for d in run_dirs])
    configs = pd.DataFrame(flats)
    factors = factor_fields(configs)
    configs = mark_unset(configs, flats, factors)
    names = {key: column_name(key) for key in factors}
    statuses = [
        run_status(d, int(rounds), hashed=())
        for d, rounds in zip(run_dirs, configs["pruning.rounds"], strict=True)
    ]
    runs = pd.DataFrame(
        {
            "run": [d.relative_to(base).as_posix() for d in run_dirs],
            "status": [str(s.state) for s in statuses],
            "rounds_done": [s.rounds_done for s in statuses],
            "rounds_expected": [s.rounds_expected for s in statuses],
            "reason": [s.reason for s in statuses],
        }
    ).join(configs[[*factors, "seed"]].rename(columns=names))
    keys = [machine.run_key(machine.read(d / results.MACHINE)) for d in run_dirs]
    if any(keys):  # runs from before machine.json leave the column out (and pair by seed)
        runs[MACHINE] = keys
    factor_columns = list(names.values())
    ids = runs[["run", "status", *factor_columns, "seed", *machine_column(runs.columns)]]
    rounds = read_tables(run_dirs, runs["run"], results.ROUNDS, ids)
    diagnostics = read_tables(run_dirs, runs["run"], results.DIAGNOSTICS, ids)
    return Sweep(
        base=base,
        runs=runs,
        rounds=rounds,
        epochs=read_tables(run_dirs, runs["run"], results.EPOCHS, ids),
        diagnostics=with_level(diagnostics if len(diagnostics) else no_diagnostics(ids), rounds),
        predictors=read_tables(run_dirs, runs["run"], run_format.PREDICTORS, ids[["run"]]),
        factors=factor_columns,
        early_stop=early_stop_column(configs),
        stability=read_tables(run_dirs, runs["run"], run_format.STABILITY, ids),
        legacy=sum(s.legacy for s in statuses),
    )


def runs_csv(paths: Paths) -> Path | None:
    """The one runs.csv `paths` names, if it names one."""
    names = [paths] if isinstance(paths, str | Path) else list(paths)
    if len(names) == 1 and str(names[0]).endswith(".csv") and Path(names[0]).is_file():
        return Path(names[0])
    return None


def machine_column(columns: Iterable[str]) -> list[str]:
    """["machine"] where the runs record where they trained (see prune_ready.machine), else []."""
    return [MACHINE] if MACHINE in columns else []


def from_runs_csv(path: Path) -> Sweep:
    """The Sweep an analysis's runs.csv describes: its runs and rounds only (no epochs,
    diagnostics, masks or predictors; the figures and tables that need them are left out). Its
    factors are the columns between `reason` and `seed`; rounds count iterations when the
    early-stop epochs are fractional (as in iteration schedules)."""
    table = read_csv(path)
    columns = list(table.columns)
    if not {"run", "status", "reason", "seed", "round"} <= set(columns):
        raise UserError(f"{path} is not an analysis's runs.csv (run, status, ..., seed, round)")
    factors = columns[columns.index("reason") + 1 : columns.index("seed")]
    ids = ["run", "status", *factors, "seed", *machine_column(columns)]
    last_id = columns.index(ids[-1])  # seed, or the machine column right after it
    runs = table.drop_duplicates("run")[columns[: last_id + 1]]
    rounds = table.dropna(subset=["round"]).astype({"round": int})
    epochs = rounds["early_stop_epoch"].dropna()
    fractional = len(epochs) and bool((epochs != epochs.round()).all())
    return Sweep(
        base=path.parent,
        runs=runs.reset_index(drop=True),
        rounds=rounds[[*ids, *columns[last_id + 1 :]]].reset_index(drop=True),
        epochs=rounds.iloc[:0][ids],
        diagnostics=with_level(no_diagnostics(runs[ids]), rounds),
        predictors=runs.iloc[:0][["run"]],
        factors=factors,
        early_stop="early_stop_iteration" if fractional else "early_stop_epoch",
        stability=rounds.iloc[:0][ids],
    )


def no_diagnostics(ids: pd.DataFrame) -> pd.DataFrame:
    """No rows, but the columns of diagnostics.csv with their types (runs from before it)."""
    columns = {name: pd.Series(dtype=dtype) for name, dtype in DIAGNOSTICS.items()}
    return pd.concat([ids.iloc[:0], pd.DataFrame(columns)], axis=1)


def with_level(diagnostics: pd.DataFrame, rounds: pd.DataFrame) -> pd.DataFrame:
    """Each row with its run's % weights remaining in that round (NaN before rounds.csv has it)."""
    levels = rounds.reindex(columns=["run", "round", LEVEL])
    return diagnostics.merge(levels, on=["run", "round"], how="left", sort=False)


def early_stop_column(configs: pd.DataFrame) -> str:
    """early_stop_iteration when every run counts rounds in iterations (e.g. pruning=lth), else
    early_stop_epoch (fractional for iteration rounds, so comparable across schedules)."""
    length = configs.get("pruning.round_length", pd.Series([None] * len(configs)))
    in_iterations = length.astype(str).str.endswith("it")
    return "early_stop_iteration" if in_iterations.all() else "early_stop_epoch"


def read_tables(
    run_dirs: Sequence[Path], run_names: Iterable[str], filename: str, ids: pd.DataFrame
) -> pd.DataFrame:
    """Each run's CSV `filename` stacked, prefixed with the run's ids (runs without it: none)."""
    tables = [
        read_csv(d / filename).assign(run=name)
        for d, name in zip(run_dirs, run_names, strict=True)
        if (d / filename).is_file()
    ]
    if not tables:
        return ids.iloc[:0].copy()
    stacked = pd.concat(tables, ignore_index=True)
    return ids.merge(stacked, on="run", how="inner", sort=False)


def read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read {path}: {' '.join(str(e).split())}") from e


def load_config(run_dir: Path) -> dict[str, Any]:
    """The run's config.yaml as saved, interpolations unresolved (libyaml: 10x OmegaConf.load)."""
    path = run_dir / results.CONFIG
    try:
        config = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise UserError(f"cannot read {path}: {' '.join(str(e).split())}") from e
    missing = [k for k in REQUIRED if not isinstance(config, dict) or k not in flatten(config)]
    if missing:
        raise UserError(f"{path} is not a prune_ready run config: it lacks {', '.join(missing)}")
    return config


UNSET = "unset"  # a factor's value in a run whose config lacks it (and no default is known)


def mark_unset(
    configs: pd.DataFrame, flats: Sequence[dict[str, Any]], factors: Sequence[str]
) -> pd.DataFrame:
    """`configs` with each non-numeric factor that some runs' configs lack written as text, UNSET
    in those runs (JSON for values that are not text, as config.yaml has them): one type per
    column, whatever subset of runs a table holds. A numeric one keeps NaN there."""
    marked = configs.copy()
    for key in factors:
        present = pd.Series([key in flat for flat in flats], index=configs.index)
        if present.all() or pd.api.types.is_numeric_dtype(configs[key].dtype):
            continue
        text = configs[key].map(lambda v: v if isinstance(v, str) else json.dumps(v))
        marked[key] = text.where(present, UNSET)
    return marked


def factor_fields(configs: pd.DataFrame) -> list[str]:
    """The config keys that set runs apart (see the module docstring), seed excluded; a copy of
    another factor (equal to it wherever it is set) is left out: it would repeat it in labels."""
    names = [f"{g}.name" for g in GROUPS]
    recipe = [f"{g}.name" for g in RECIPE_GROUPS if f"{g}.name" in configs.columns]
    text = configs.map(repr)  # compares None, NaN (key missing) and mixed types alike
    varying = [
        key
        for key in configs.columns
        if text[key].nunique() > 1
        and key not in (*names, "seed")
        and not left_out_of_path(key)
        and not text[key].equals(text["seed"])
        and (key in recipe or text.groupby(names + recipe, dropna=False)[key].nunique().max() > 1)
    ]
    for key in reversed(list(varying)):  # e.g. init.at_rewind.scale: init.scale where set
        present = configs[key].notna()
        if any(
            (text[key][present] == text[other][present]).all() for other in varying if other != key
        ):
            varying.remove(key)
    study = ["name"] if "name" in varying else []
    chosen = [key for key in recipe if key in varying]  # the recipe's options next to the groups
    return study + names + chosen + [key for key in varying if key not in (*chosen, "name")]


def column_name(key: str) -> str:
    """model.name -> model (and so on for the groups, optimizer and lr_schedule too), name ->
    study, others unchanged."""
    if key == "name":
        return "study"
    group = key.removesuffix(".name")
    return group if group in (*GROUPS, *RECIPE_GROUPS) else key


def common_base(roots: Sequence[Path]) -> Path:
    """The deepest directory holding every root (the parent of a root that is itself a run)."""
    base = Path(os.path.commonpath([r.resolve() for r in roots]))
    return base.parent if (base / results.CONFIG).is_file() else base
