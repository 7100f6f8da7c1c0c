"""Runs made before the pruning parts (af2e682) next to runs made after: the analysis reads the old
configs in the new layout (migrate.migrated), so a mixed sweep has the factors of an all-new one;
a key only newer runs have is a factor only where it is not at its default (migrate.with_defaults)
and, when it is one, never crashes a merge (collect.mark_unset)."""

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from prune_ready.analyze.read.collect import UNSET, collect, factor_fields, flatten, mark_unset
from prune_ready.analyze.read.migrate import migrated, with_defaults
from prune_ready.rundir import left_out_of_path

FIXTURES = Path(__file__).parent / "fixtures" / "pruning_layouts"
OLD, NEW = FIXTURES / "old_imp_seed.yaml", FIXTURES / "new_imp_seed.yaml"  # seeds 4 and 8
PRESETS = yaml.safe_load((FIXTURES / "presets.yaml").read_text())
GROUP_NAMES = ["model.name", "data.name", "init.name", "pruning.name"]


def read(path: Path) -> dict[str, Any]:
    return flatten(yaml.safe_load(path.read_text()))


def relevant(flat: dict[str, Any]) -> dict[str, Any]:
    """The keys that could be factors: those that change results, but the seed's."""
    return {
        k: v
        for k, v in flat.items()
        if not left_out_of_path(k) and k not in ("seed", "data.seed", "pruning.ticket")
    }


def test_an_old_run_config_reads_as_the_new_run_of_the_same_setting():
    old, new = migrated(read(OLD)), read(NEW)
    assert old["pruning._target_"] == "prune_ready.pruning.callback.Pruning"
    assert list(relevant(old).items()) == list(relevant(new).items())  # the same keys, in order
    assert migrated(new) is new  # a new config is left alone


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_old_pruning_preset_migrates_to_its_new_keys(preset):
    old = migrated(flatten({"pruning": PRESETS[preset]["old"]}))
    new = flatten({"pruning": PRESETS[preset]["new"]})
    new.pop("pruning.ticket", None)  # not result-changing (and never in an old config)
    if preset.endswith("/pai"):  # the bare preset's default score changed: magnitude -> snip
        assert old.pop("pruning.score._target_").endswith(".magnitude")
        assert new.pop("pruning.score._target_").endswith(".snip")
    assert list(old.items()) == list(new.items())


def test_late_rewinding_keeps_its_unit():
    imp = PRESETS["lenet_300_100/imp"]["old"]
    lth = PRESETS["lenet_300_100/lth"]["old"]
    assert migrated(flatten({"pruning": {**imp, "rewind": 1}}))["pruning.reset.to"] == "1ep"
    late = migrated(flatten({"pruning": {**lth, "rewind": 1000}}))
    assert (late["pruning.reset.to"], late["pruning.round_length"]) == ("1000it", "50000it")
    assert late["pruning.eval_every"] == "500it"


def test_old_and_new_runs_of_one_setting_differ_in_no_factor():
    old, new = read(OLD), read(NEW)
    assert len(factor_fields(pd.DataFrame([old, new]))) > len(GROUP_NAMES)  # unmigrated: many
    configs = pd.DataFrame(with_defaults([migrated(old), new]))
    assert factor_fields(configs) == GROUP_NAMES


def test_collect_of_a_mixed_sweep_has_the_factors_of_an_all_new_one(tmp_path):
    for seed, source in ((4, OLD), (8, NEW)):
        (tmp_path / f"seed={seed}").mkdir()
        shutil.copy(source, tmp_path / f"seed={seed}" / "config.yaml")
    sweep = collect(tmp_path)
    assert sweep.factors == ["model", "data", "init", "pruning"]
    assert sweep.runs["seed"].tolist() == [4, 8]
    assert sweep.early_stop == "early_stop_epoch"


def new_run(seed: int, **pruning: Any) -> dict[str, Any]:
    config = yaml.safe_load(NEW.read_text())
    config["seed"] = config["data"]["seed"] = seed
    config["pruning"].update(pruning)
    return flatten(config)


def test_a_key_only_newer_runs_have_is_no_factor_at_its_default():
    older = new_run(0)
    del older["pruning.control"]  # as if made before pruning.control (default "none") existed
    at_default, other = new_run(1, control="none"), new_run(2, control="random_prune")
    assert factor_fields(pd.DataFrame(with_defaults([older, at_default]))) == GROUP_NAMES
    filled = with_defaults([older, at_default, other])
    assert [f["pruning.control"] for f in filled] == ["none", "none", "random_prune"]
    assert factor_fields(pd.DataFrame(filled)) == [*GROUP_NAMES, "pruning.control"]


def test_a_factor_some_runs_lack_with_no_known_default_has_one_type():
    runs = [new_run(0), new_run(1, extra="a"), new_run(2, extra="b"), new_run(3, size=2.0)]
    flats = with_defaults(runs)  # Pruning takes no `extra` or `size`: no default to fill in
    configs = pd.DataFrame(flats)
    factors = factor_fields(configs)
    assert factors == [*GROUP_NAMES, "pruning.extra", "pruning.size"]
    marked = mark_unset(configs, flats, factors)
    assert marked["pruning.extra"].tolist() == [UNSET, "a", "b", UNSET]
    assert marked["pruning.size"].isna().tolist() == [True, True, True, False]  # numbers: NaN
    levels = marked.loc[[1, 2], ["pruning.extra"]].assign(level=1.0)
    merged = marked.loc[[0], ["pruning.extra"]].merge(levels, on="pruning.extra", how="left")
    assert merged["level"].isna().all()  # no float64-and-str merge error
