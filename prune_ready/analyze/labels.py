"""How numbers and runs are named in figures, tables, the report and the slides, in one place."""

import math
import numbers
from collections.abc import Sequence

import pandas as pd

from prune_ready.pruning.steps import Step

SET_KEYS = ["model", "data"]  # one figure set and one report section per model and data set
# keys that set the weights remaining: drawn along that axis, not as lines (pruning.density:
# runs made before the pruning parts)
LEVEL_KEYS = ("pruning.target.density", "pruning.update.density", "pruning.density")


def set_name(model: str, data: str) -> str:
    """E.g. 'lenet_300_100 on mnist': data by its data.name, never a prettier alias."""
    return f"{model} on {data}"


def series_keys(factors: Sequence[str]) -> list[str]:
    """The factors that tell the lines of one figure apart: init first, then the rest."""
    rest = [f for f in factors if f not in SET_KEYS and f != "init"]
    return ["init", *rest]


def series_labels(table: pd.DataFrame, keys: Sequence[str]) -> dict[tuple, str]:
    """A legend label per combination of `keys` in `table` (see combo_labels)."""
    combos = table[list(keys)].drop_duplicates().itertuples(index=False, name=None)
    return combo_labels(keys, list(combos))


def line_labels(table: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """Each row's line label (see series_label), the keys varying over the whole `table`."""
    label = table[keys[0]].astype(str)
    for key in varying_keys(table, keys):
        label = label + f", {key}=" + table[key].map(value)
    return label


def combo_labels(keys: Sequence[str], combos: Sequence[tuple]) -> dict[tuple, str]:
    """A legend label per combination of values of `keys`: the init, plus key=value for the keys
    that vary among `combos`; in label order."""
    varying = varying_among(keys, combos)
    labels = {combo: series_label(dict(zip(keys, combo, strict=True)), varying) for combo in combos}
    return dict(sorted(labels.items(), key=lambda item: item[1]))


def varying_among(keys: Sequence[str], combos: Sequence[tuple]) -> list[str]:
    """The keys after the init that take more than one value among `combos` (unset counts as one)."""
    return [k for i, k in enumerate(keys) if i and len({value(c[i]) for c in combos}) > 1]


def varying_keys(table: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """The keys after the init that take more than one value (unset counts as one) in `table`."""
    return [k for k in keys[1:] if table[k].nunique(dropna=False) > 1]


def series_label(values: dict[str, object], varying: Sequence[str]) -> str:
    """A line's label from its key values: the init, plus key=value for each `varying` key."""
    return ", ".join([str(values["init"]), *setting_parts(values, varying)])


def setting_label(values: dict[str, object], varying: Sequence[str]) -> str:
    """The setting a panel of lines shares: key=value for each `varying` key."""
    return ", ".join(setting_parts(values, varying))


def setting_parts(values: dict[str, object], varying: Sequence[str]) -> list[str]:
    return [f"{k}={value(values[k])}" for k in varying]


def order(v: object) -> tuple:
    """How a config value sorts among its key's values (settings, panels, findings): numbers by
    size; training points ('0', '100it', '2ep', e.g. pruning.reset.to) θ0 first, then in
    iterations, then in epochs, each by count; other text alphabetically; unset last."""
    if isinstance(v, numbers.Real) and not pd.isna(v):  # numpy's numbers too
        return (0, float(v))
    if pd.isna(v):
        return (3,)
    try:
        step = Step.parse(str(v))
    except ValueError:
        return (2, str(v))
    return (1, 0 if step.count == 0 else 1 if step.unit == "it" else 2, step.count)


def rewind_point(v: object) -> str:
    """A rewind point as the findings write it: 'θ0', 'θ(100 it)', 'θ(1 ep)'."""
    step = Step.parse(str(v))
    return "θ0" if step.count == 0 else f"θ({step.count} {step.unit})"


def value(v: object) -> str:
    """A config value; 'unset' where a run's config lacks the key (older runs)."""
    return "unset" if pd.isna(v) else str(v)


def early_stop(column: str) -> str:
    """early_stop_iteration -> 'early-stop iteration' (and so for epochs)."""
    return "early-stop " + column.removeprefix("early_stop_")


def level(pct: float) -> str:
    """Weights remaining: '80.0%', '1.2%', '0.35%'."""
    return f"{pct:.1f}%" if pct >= 1 else f"{pct:.2g}%"


def acc(fraction: float) -> str:
    """An accuracy (a fraction) in percent."""
    return "n/a" if math.isnan(fraction) else f"{100 * fraction:.1f}%"


def points(fraction: float, sign: bool = False) -> str:
    """A difference of accuracies in percentage points, without the unit: 2 decimals below 1
    (the differences between inits are often tenths), else 1."""
    x = 100 * fraction
    return "n/a" if math.isnan(x) else f"{x:{'+' if sign else ''}.{2 if abs(x) < 1 else 1}f}"


def pp(fraction: float, sign: bool = False) -> str:
    """A difference of accuracies in percentage points: '-0.25 pp', '+2.6 pp'."""
    return "n/a" if math.isnan(fraction) else f"{points(fraction, sign)} pp"


def ci_pp(low: float, high: float) -> str:
    if math.isnan(low):
        return "[95% CI n/a]"
    return f"[95% CI {points(low)}, {points(high)}]"


def p_value(p: float) -> str:
    if math.isnan(p):
        return "p n/a"
    return "p<0.001" if p < 0.001 else f"p={p:.2g}"
