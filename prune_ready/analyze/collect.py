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
newer one of the same setting are one setting.
"""

import functools
import glob
import inspect
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from prune_ready import machine, manifest, results, run_format
from prune_ready.analyze.diagnostics import COLUMNS
from prune_ready.analyze.stats import LEVEL, MACHINE
from prune_ready.errors import UserError
from prune_ready.recipe import old_recipe
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
    columns = {name: pd.Series(dtype=dtype) for name, dtype in COLUMNS.items()}
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


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config -> {"a.b.c": value}; lists become JSON text (hashable, comparable)."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = json.dumps(value) if isinstance(value, list) else value
    return flat


OLD_PRUNING = "prune_ready.pruning.callback.PruneRewind"  # pruning._target_ before af2e682
PARTS = "prune_ready.pruning"
# An old pruning config's keys that live on under another name, by the kind of method: IMP with
# per-layer-kind rates (scope: layerwise) or one global rate (scope: global), or pruning at
# initialisation (density set). A key is renamed with everything under it (rates.fc ->
# target.rates.fc). Old keys in no row and not computed in `migrated` are dropped: the kind's
# unused settings (e.g. global_rate of a layerwise run, score_batch of a magnitude score).
RENAMED: dict[str, dict[str, str]] = {
    "layerwise": {"rates": "target.rates", "prune_steps": "target.steps"},
    "global": {"global_rate": "target.rate", "prune_steps": "target.steps"},
    "at_init": {
        "prune_iterations": "schedule.iterations",
        "density": "target.density",
        "scope": "target.scope",
        "score_batch": "score_batch",
    },
}
TARGETS = {
    "layerwise": f"{PARTS}.targets.LayerRates",
    "global": f"{PARTS}.targets.GlobalRate",
    "at_init": f"{PARTS}.targets.Density",
}
KEPT = ("score", "name", "rounds", "control")  # the same in both layouts
ORDER = ("schedule", "target", "score", "reset", "_target_", "name", "rounds", "round_length")


def migrated(flat: dict[str, Any]) -> dict[str, Any]:
    """A flattened run config in today's pruning layout (schedule, target, score, reset parts;
    conf/pruning/*.yaml since af2e682) if it has the old one (one PruneRewind callback), so that
    an old and a new run of the same setting have the same keys and values; others unchanged.
    Besides the renames (RENAMED): every_n_epochs N -> round_length Nep (every_n_iterations N ->
    Nit, evaluated every eval_every_n_iterations -> eval_every Mit, else 1ep); rewind k ->
    reset Rewind to k in that unit (0: θ0), or reset Keep with finetune; pruning at init has
    no reset (it never rewinds) and no control unless one was set."""
    if flat.get("pruning._target_") != OLD_PRUNING:
        return flat
    old = {k.removeprefix("pruning."): v for k, v in flat.items() if k.startswith("pruning.")}
    kind = "at_init" if old.get("density") is not None else old.get("scope", "layerwise")
    epochs = old.get("every_n_epochs") is not None
    unit = "ep" if epochs else "it"
    rewind = old.get("rewind", 0)
    new: dict[str, Any] = {
        "_target_": f"{PARTS}.callback.Pruning",
        "schedule._target_": f"{PARTS}.schedules.{'AtInit' if kind == 'at_init' else 'AtRoundEnds'}",
        "target._target_": TARGETS[kind],
        "round_length": f"{old['every_n_epochs' if epochs else 'every_n_iterations']}{unit}",
        "eval_every": "1ep" if epochs else f"{old.get('eval_every_n_iterations', 1000)}it",
    }
    if kind != "at_init":
        new["reset._target_"] = f"{PARTS}.resets.{'Keep' if old.get('finetune') else 'Rewind'}"
        if not old.get("finetune"):
            new["reset.to"] = f"{rewind}{unit}" if rewind else 0
    renames = {**RENAMED[kind], **{k: k for k in KEPT}}
    for was, now in renames.items():
        for key, value in old.items():
            if key == was or key.startswith(f"{was}."):
                new[now + key.removeprefix(was)] = value
    if kind == "at_init" and new.get("control") == "none":
        del new["control"]
    rank = {part: i for i, part in enumerate(ORDER)}
    pruning = sorted(new.items(), key=lambda item: rank.get(item[0].split(".")[0], len(ORDER)))
    start = next(i for i, key in enumerate(flat) if key.startswith("pruning."))
    before = list(flat.items())[:start]
    after = [(k, v) for k, v in list(flat.items())[start:] if not k.startswith("pruning.")]
    return dict(before + [(f"pruning.{k}", v) for k, v in pruning] + after)


def with_recipe(flat: dict[str, Any]) -> dict[str, Any]:
    """A flattened run config with the optimizer and lr_schedule it trained with: its own, or,
    for a run made before those groups existed, the old recipe (prune_ready.recipe.old_recipe:
    fused Adam at its model.lr, constant)."""
    if any(key.startswith(("optimizer.", "lr_schedule.")) for key in flat):
        return flat
    return {**flat, **flatten(old_recipe(flat.get("model.lr")))}


NO_DEFAULT = object()


def with_defaults(flats: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The flattened configs, each with the keys it lacks and others have (settings added since
    it was made) set to their default where its node's `_target_` declares one (a key that does
    not change results is left alone): the run used the default, so it is no factor where the
    newer runs keep it."""
    keys = [k for k in dict.fromkeys(k for flat in flats for k in flat) if not left_out_of_path(k)]
    filled = []
    for flat in flats:
        defaults = {k: default(flat, k) for k in keys if k not in flat}
        filled.append({**flat, **{k: v for k, v in defaults.items() if v is not NO_DEFAULT}})
    return filled


def default(flat: dict[str, Any], key: str) -> Any:
    """`key`'s default from the signature of its node's `_target_` in `flat` (NO_DEFAULT if it
    has none, or none that a config could hold)."""
    node, _, name = key.rpartition(".")
    target = flat.get(f"{node}._target_" if node else "_target_")
    return target_defaults(target).get(name, NO_DEFAULT) if isinstance(target, str) else NO_DEFAULT


@functools.cache
def target_defaults(target: str) -> dict[str, Any]:
    """The plain defaults (null, bool, number, text) of `target`'s parameters; {} if it cannot
    be imported (e.g. a class since renamed)."""
    from hydra.utils import get_object  # imports the target's module: only when a key is missing

    try:
        parameters = inspect.signature(get_object(target)).parameters.values()
    except Exception:
        return {}
    plain = (type(None), bool, int, float, str)
    return {p.name: p.default for p in parameters if isinstance(p.default, plain)}


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
