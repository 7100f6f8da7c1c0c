"""The preset grids in conf/experiment compose into the runs they promise."""

import itertools

import pytest
from hydra.utils import instantiate

from prune_ready.pruning.masks import count_to_prune, layer_kinds, prunable_layers
from tests.helpers import cli

GRIDS = {
    "seed_study": (
        {"+setup": ["lenet_mnist", "conv6_cifar10_jpeg"], "seed": ["0", "1", "2"]},
        "imp_seed",
    ),
    "seed_study_smoke": ({"+setup": ["lenet_mnist", "conv6_cifar10_jpeg"]}, "imp_seed"),
    "lth_lenet": (
        {"pruning.control": ["none", "reinit", "random_prune"], "seed": ["0", "1", "2"]},
        "lth",
    ),
    "lth_lenet_smoke": ({"pruning.control": ["none", "reinit"]}, "lth"),
    "init_study_lenet": ({"seed": ["0", "1", "2"]}, "imp_seed"),
    "init_study_conv6": ({"seed": ["0", "1", "2"]}, "imp_seed"),
    "init_scale_lenet": (
        {
            "seed": [str(s) for s in range(8)],
            "init": ["kaiming_normal"],
            "init.scale": ["0.25", "0.5", "0.71", "1.0", "1.41", "2.0"],
        },
        "imp_seed",
    ),
    "init_scale_conv6": (
        {"seed": ["0", "1", "2"], "init": ["kaiming_normal"], "init.scale": ["0.5", "1.0", "2.0"]},
        "imp_seed",
    ),
    "methods_lenet_pai": (
        {"pruning": ["snip", "grasp", "synflow", "random_layerwise"]},
        "snip",
    ),
    "methods_lenet_gmp": ({"pruning.target.density": ["0.069522", "0.028738", "0.011943"]}, "gmp"),
    "methods_lenet_rigl": (
        {"pruning.update.density": ["0.069522", "0.028738", "0.011943"]},
        "rigl",
    ),
    "methods_lenet_imp": ({"pruning": ["finetune", "magnitude_global"]}, "magnitude_global"),
    "methods_conv6_pai": (
        {"pruning": ["snip", "grasp", "synflow", "random_layerwise"], "seed": ["0", "1", "2"]},
        "snip",
    ),
}


STUDY = {  # presets that write into one study
    "init_scale_lenet": "init_study_lenet",
    "init_scale_conv6": "init_study_conv6",
    "methods_lenet_gmp": "methods_lenet",
    "methods_lenet_rigl": "methods_lenet",
    "methods_lenet_pai": "methods_lenet",
    "methods_lenet_imp": "methods_lenet",
    "methods_conv6_pai": "methods_conv6",
}


def test_every_preset_is_covered():
    from pathlib import Path

    from prune_ready.train import CONF_DIR

    assert {p.stem for p in Path(CONF_DIR, "experiment").glob("*.yaml")} == set(GRIDS)


@pytest.mark.parametrize("name", sorted(GRIDS))
def test_experiment_composes(make_cfg, name, tmp_path):
    expected_params, pruning = GRIDS[name]
    cfg = make_cfg(f"+experiment={name}")
    study = STUDY.get(name, name)
    assert cfg.name == study and cfg.pruning.name == pruning
    with_hydra = make_cfg(f"+experiment={name}", return_hydra=True)
    params = {k: str(v).split(",") for k, v in with_hydra.hydra.sweeper.params.items()}
    for key, values in expected_params.items():
        assert params[key] == values
    jobs = (
        [[f"+setup={s}"] for s in params.get("+setup", [])]
        or [[f"pruning={p}"] for p in params.get("pruning", [])]
        or [[]]
    )
    for overrides in jobs:
        job = make_cfg(f"+experiment={name}", *overrides)
        pruning = instantiate(job.pruning)
        model = instantiate(job.model.net)
        pruning.check(model)  # every job's schedule is valid for its network


def test_lth_lenet_follows_the_paper(make_cfg, tmp_path):
    cfg = make_cfg("+experiment=lth_lenet")
    assert (cfg.model.name, cfg.data.name, cfg.init.name) == (
        "lenet_300_100",
        "mnist",
        "xavier_normal",
    )
    pruning = instantiate(cfg.pruning)
    assert pruning.trainer_limits["max_epochs"] * pruning.steps_per_evaluation == 13 * 50_000
    assert (str(pruning.round_length), pruning.rounds) == ("50000it", 12)
    assert dict(cfg.pruning.target.rates) == {"fc": 0.2, "output": 0.1}
    remaining = [235_200, 30_000, 1_000]
    for _ in range(12):
        remaining = [
            n - count_to_prune(r, n) for n, r in zip(remaining, (0.2, 0.2, 0.1), strict=True)
        ]
    assert sum(remaining) / 266_200 < 0.07


def test_conv6_pai_matches_the_conv6_init_study(make_cfg):
    """PaI on Conv-6 trains one round exactly like an IMP round of init_study_conv6, at its levels."""
    pai = make_cfg("+experiment=methods_conv6_pai")
    imp = make_cfg("+experiment=init_study_conv6")
    assert pai.pruning.rounds == 0 and pai.pruning.round_length == imp.pruning.round_length
    assert pai.data == imp.data and pai.trainer.precision == imp.trainer.precision
    net = instantiate(imp.model.net)
    kinds = layer_kinds(net)
    alive = {name: layer.weight.numel() for name, layer in prunable_layers(net).items()}
    total, levels = sum(alive.values()), []
    for _ in range(imp.pruning.rounds):
        alive = {
            n: a - count_to_prune(imp.model.prune_rates[kinds[n]], a) for n, a in alive.items()
        }
        levels.append(round(sum(alive.values()) / total, 6))
    params = make_cfg("+experiment=methods_conv6_pai", return_hydra=True).hydra.sweeper.params
    densities = [float(d) for d in str(params["pruning.target.density"]).split(",")]
    assert densities == [levels[2], levels[5]]


@pytest.mark.slow
def test_lth_smoke_grid_runs(data_root, tmp_path):
    result = cli(
        "-m", "+experiment=lth_lenet_smoke", "progress_bar=null", data_root=data_root, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    runs = list(tmp_path.glob("outputs/lth_lenet_smoke/*/*/lth/*/seed=*/rounds.csv"))
    assert len(runs) == len(list(itertools.product(["none", "reinit"], [0, 1])))


# Conv-6 on 2 CPU cores trains ~200 images/s (README, Speed); evaluating an image (a forward
# pass only) costs about a third of training on it. LeNet's cost is ~100x smaller: left out.
CONV6_TRAIN_PER_S = 200
SMOKE_CONV6_BUDGET_S = 120  # of the 3 minutes a smoke preset promises; the rest: start-up, data


def test_smoke_presets_conv6_work_fits_their_promise(make_cfg):
    """The Conv-6 jobs of each smoke preset, in training-image equivalents: the preset that took
    10 min 41 s evaluated 10,000 test images per evaluation (98,400 equivalents, ~490 s)."""
    smoke = sorted(p for p in GRIDS if p.endswith("_smoke"))
    for name in smoke:
        grid = make_cfg(f"+experiment={name}", return_hydra=True).hydra.sweeper.params
        jobs = [
            dict(zip(grid, values, strict=True))
            for values in itertools.product(*(str(v).split(",") for v in grid.values()))
        ]
        work = 0.0
        for job in jobs:
            cfg = make_cfg(f"+experiment={name}", *(f"{k}={v}" for k, v in job.items()))
            if cfg.model.name != "conv6":
                continue
            pruning = instantiate(cfg.pruning)
            evaluations = pruning.trainer_limits["max_epochs"]
            # None: an evaluation per data epoch (45,000 CIFAR training images, or the subset)
            steps = pruning.steps_per_evaluation or -(
                -(cfg.data.train_subset or 45_000) // cfg.data.batch_size
            )
            trained = evaluations * steps * cfg.data.batch_size
            evaluated = evaluations * (cfg.data.val_size + (cfg.data.test_subset or 10_000))
            work += trained + evaluated / 3
        assert work / CONV6_TRAIN_PER_S <= SMOKE_CONV6_BUDGET_S, (name, work)
