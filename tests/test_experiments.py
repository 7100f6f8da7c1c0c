"""The preset grids in conf/experiment compose into the runs they promise."""

import itertools

import pytest
from hydra.utils import instantiate

from prune_ready.models.description import describe
from prune_ready.pruning.masks import count_to_prune, prunable_layers
from prune_ready.pruning.targets import compounded
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
    "stability_lenet": (
        {
            "seed": [str(s) for s in range(8)],
            "init": ["kaiming_normal"],
            "init.scale": ["0.5", "1.0", "2.0"],
            "pruning.reset.to": ["0", "1ep"],
        },
        "imp_seed",
    ),
    "stability_lenet_sgd": (
        {
            "seed": [str(s) for s in range(8)],
            "init": ["kaiming_normal"],
            "optimizer": ["sgd"],
            "init.scale": ["0.5", "1.0", "2.0"],
            "pruning.reset.to": ["0", "1ep"],
        },
        "imp_seed",
    ),
    "rewind_sweep_lenet_sgd": (
        {
            "seed": [str(s) for s in range(4)],
            "init": ["kaiming_normal"],
            "optimizer": ["sgd"],
            "init.scale": ["1.0", "2.0"],
            "pruning.reset.to": ["0", "100it", "500it", "1ep", "2ep"],
        },
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
    "init_study_conv6_long": (
        {"seed": ["0", "1", "2"], "init": ["kaiming_normal", "xavier_normal"]},
        "imp",
    ),
    "init_scale_conv6_long": (
        {"seed": ["0", "1", "2"], "init": ["kaiming_normal"], "init.scale": ["0.5"]},
        "imp",
    ),
    "methods_conv6_long_pai": (
        {"seed": ["0", "1", "2"], "pruning": ["snip", "synflow"]},
        "snip",
    ),
    "sgd_lr_lenet": (
        {
            "seed": ["100", "101", "102"],
            "init": ["kaiming_normal"],
            "optimizer": ["sgd"],
            "optimizer.momentum": ["0.0", "0.9"],
            "optimizer.lr": ["0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.2"],
        },
        "none",
    ),
    "init_study_lenet_sgd": (
        {
            "seed": [str(s) for s in range(8)],
            "init": [
                "kaiming_normal",
                "xavier_normal",
                "xavier_uniform",
                "kaiming_uniform",
                "signed_constant",
            ],
            "optimizer": ["sgd"],
        },
        "imp_seed",
    ),
    "init_scale_lenet_sgd": (
        {
            "seed": [str(s) for s in range(8)],
            "init": ["kaiming_normal"],
            "init.scale": ["0.25", "0.5", "1.0", "2.0"],
            "optimizer": ["sgd"],
        },
        "imp_seed",
    ),
}


STUDY = {  # presets that write into one study
    "init_scale_lenet": "init_study_lenet",
    "init_scale_conv6": "init_study_conv6",
    "stability_lenet": "init_study_lenet",
    "methods_lenet_gmp": "methods_lenet",
    "methods_lenet_rigl": "methods_lenet",
    "methods_lenet_pai": "methods_lenet",
    "methods_lenet_imp": "methods_lenet",
    "methods_conv6_pai": "methods_conv6",
    "init_scale_conv6_long": "init_study_conv6_long",
    "methods_conv6_long_pai": "methods_conv6_long",
    "init_scale_lenet_sgd": "init_study_lenet_sgd",
    "stability_lenet_sgd": "init_study_lenet_sgd",
    "rewind_sweep_lenet_sgd": "init_study_lenet_sgd",
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
    kinds = describe(net).kinds
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


def test_long_conv6_study_reaches_its_levels(make_cfg):
    """init_study_conv6_long's 4 steps of 4 compounded paper steps reach 46.7, 22.1, 10.6 and
    5.17% of Conv-6's weights; its PaI runs prune to the last level and train one IMP round."""
    imp = make_cfg("+experiment=init_study_conv6_long")
    pai = make_cfg("+experiment=methods_conv6_long_pai")
    assert (imp.data.train_subset, imp.data.val_size, imp.data.test_subset) == (None, 5000, None)
    assert pai.pruning.round_length == imp.pruning.round_length == "4000it"
    assert pai.pruning.eval_every == imp.pruning.eval_every == "500it"
    assert pai.data == imp.data and pai.trainer.precision == imp.trainer.precision
    net = instantiate(imp.model.net)
    kinds = describe(net).kinds
    alive = {name: layer.weight.numel() for name, layer in prunable_layers(net).items()}
    total, levels = sum(alive.values()), []
    rates = {
        kind: compounded(r, imp.pruning.target.steps) for kind, r in imp.model.prune_rates.items()
    }
    for _ in range(imp.pruning.rounds):
        alive = {n: a - count_to_prune(rates[kinds[n]], a) for n, a in alive.items()}
        levels.append(round(100 * sum(alive.values()) / total, 1))
    assert levels == [46.7, 22.1, 10.6, 5.2]
    assert pai.pruning.target.density == round(sum(alive.values()) / total, 6)


def test_the_sgd_presets_are_init_study_lenet_under_sgd(make_cfg):
    """The SGD study changes the optimizer only: its protocol is init_study_lenet's, its learning
    rate and momentum are the selection's choice (sgd_lr_lenet: dense, seeds outside 0-15, the
    same round; results/sgd_lr_lenet): plain SGD at 0.1."""
    adam = make_cfg("+experiment=init_study_lenet")
    selection = make_cfg("+experiment=sgd_lr_lenet")
    assert selection.pruning.rounds == 0 and selection.pruning.control == "dense"
    assert selection.pruning.round_length == adam.pruning.round_length == "5ep"
    for name in ("init_study_lenet_sgd", "init_scale_lenet_sgd"):
        sgd = make_cfg(f"+experiment={name}")
        assert sgd.optimizer.name == "sgd" and adam.optimizer.name == "adam"
        assert (sgd.optimizer.lr, sgd.optimizer.momentum) == (0.1, 0.0)
        assert (sgd.pruning, sgd.model, sgd.data) == (adam.pruning, adam.model, adam.data)


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
