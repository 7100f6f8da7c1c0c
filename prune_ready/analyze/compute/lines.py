"""The lines of a sweep's figures and tables: one per combination of the factors that vary (the
init first), each with a label and a colour, split into panels past MAX_LINES. The tables are
computed per line, and the figures draw the same lines, so this lives with the computing."""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import pandas as pd

from prune_ready.analyze import labels
from prune_ready.analyze.compute.stats import select

MAX_LINES = 10


@dataclass(frozen=True)
class Lines:
    """The lines of one plot: one per combination of `keys` (values as in the runs' configs),
    each with a label and a colour. In a panel, `setting` holds the values of the keys after
    the init that its lines share, and `title` names them."""

    keys: list[str]
    labels: dict[tuple, str]
    colours: dict[tuple, str]
    setting: dict[str, object] = field(default_factory=dict)
    title: str = ""

    @classmethod
    def of(cls, rounds: pd.DataFrame, factors: Sequence[str]) -> "Lines":
        keys = labels.series_keys(factors)
        return cls.named(keys, distinct(rounds[keys].itertuples(index=False, name=None)))

    @classmethod
    def named(cls, keys: list[str], combos: list[tuple]) -> "Lines":
        """A line per combo: labelled by its init and the keys that vary, in label order."""
        names = labels.combo_labels(keys, combos)
        return cls(keys, names, {combo: f"C{i % 10}" for i, combo in enumerate(names)})

    def through_levels(self) -> "Lines":
        """One line through all values of a key that sets the weights remaining (LEVEL_KEYS),
        for figures whose x axis is the weights remaining."""
        keep = [i for i, k in enumerate(self.keys) if k not in labels.LEVEL_KEYS]
        if len(keep) == len(self.keys):
            return self
        combos = distinct(tuple(combo[i] for i in keep) for combo in self.labels)
        return Lines.named([self.keys[i] for i in keep], combos)

    def without(self, key: str) -> "Lines":
        """The lines with `key` dropped (a factor drawn along the x axis)."""
        keep = [i for i, k in enumerate(self.keys) if k != key]
        combos = distinct(tuple(combo[i] for i in keep) for combo in self.labels)
        return Lines.named([self.keys[i] for i in keep], combos)

    def panels(self) -> list["Lines"]:
        """[self] if its lines fit one plot (MAX_LINES), else one Lines per setting of the keys
        after the init, each line labelled by its init and coloured by it in every panel."""
        if len(self.labels) <= MAX_LINES:
            return [self]
        colour: dict[object, str] = {}
        for combo in self.labels:
            colour.setdefault(combo[0], f"C{len(colour) % 10}")
        settings = distinct(combo[1:] for combo in self.labels)
        varying = labels.varying_among(self.keys, list(self.labels))
        panels = []
        for setting in settings:
            combos = [c for c in self.labels if key(c[1:]) == key(setting)]
            where = dict(zip(self.keys[1:], setting, strict=True))
            panels.append(
                Lines(
                    self.keys,
                    {combo: str(combo[0]) for combo in combos},
                    {combo: colour[combo[0]] for combo in combos},
                    where,
                    labels.setting_label(where, varying),
                )
            )
        return sorted(panels, key=lambda p: tuple(map(labels.order, p.setting.values())))

    def each(self, table: pd.DataFrame) -> Iterator[tuple[pd.DataFrame, str, str]]:
        """(the line's rows of `table`, its colour, its label), in legend order."""
        for combo, label in self.labels.items():
            rows = select(table, dict(zip(self.keys, combo, strict=True)))
            yield rows, self.colours[combo], label

    def rows(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of `table` in this panel's setting (all of them outside panels)."""
        return select(table, self.setting)


def key(combo: tuple) -> tuple[str, ...]:
    """A combination of config values as text, so that unset (NaN) equals unset."""
    return tuple(labels.value(v) for v in combo)


def distinct(combos: Iterable[tuple]) -> list[tuple]:
    """`combos` without repeats (unset equal to unset), in first-seen order."""
    seen: dict[tuple[str, ...], tuple] = {}
    for combo in combos:
        seen.setdefault(key(combo), combo)
    return list(seen.values())
