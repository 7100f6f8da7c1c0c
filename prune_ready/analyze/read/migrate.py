"""Old run configs read in today's layout, so that an older run and a newer one of the same
setting are one setting of a sweep (prune_ready.analyze.read.collect applies these to every config it
reads, flattened: {"a.b.c": value}):

- `migrated`: a config from before the pruning parts (af2e682: one PruneRewind callback) in the
  schedule / target / score / reset layout of conf/pruning/;
- `with_recipe`: a config from before conf/optimizer/ and conf/lr_schedule/ with the fused Adam
  at model.lr and the constant rate it trained with;
- `with_defaults`: a key some configs lack (a setting added since they were made) taken at its
  default where its node's `_target_` declares one.

(`flatten` gives that form.) Kept apart from the reader so that supporting one more old layout
is a change here only.
"""

import functools
import inspect
import json
from collections.abc import Sequence
from typing import Any

from prune_ready.recipe import old_recipe
from prune_ready.rundir import left_out_of_path

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
