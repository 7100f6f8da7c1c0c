"""A network from outside the package (tests/external_nets.py), named by model.net._target_
alone, goes through everything prune_ready does: training, IMP with its per-kind rates, the
analysis (every table and figure, sizes included) and an exact export. Nothing under
prune_ready/ knows these networks."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir

from prune_ready import exporter, results
from prune_ready.analyze import FIGURES, analyze
from prune_ready.compact import compact_sizes, structure
from prune_ready.compact_net import build
from prune_ready.data import channel_stats
from prune_ready.models.description import describe
from prune_ready.pruning.masks import count_to_prune, prunable_layers
from prune_ready.train import CONF_DIR, train
from tests.conftest import built_once
from tests.external_nets import MLP, SmallCNN
from tests.helpers import cli_env, in_process, read_csv
from tests.test_export import (
    assert_exact,
    cifar_images,
    masked_logits,
    normalise64,
    random_params,
)

MLP_MODEL = ["model.net._target_=tests.external_nets.MLP", "model.name=mlp_784_200_10"]
CNN_MODEL = [  # conv6's settings (a conv rate among the prune rates), another network
    "model=conv6",
    "model.net._target_=tests.external_nets.SmallCNN",
    "model.name=small_cnn",
]
TINY = [
    "data.train_subset=300",
    "data.test_subset=500",
    "pruning.round_length=1ep",
    "pruning.rounds=2",
    "progress_bar=null",
]


@pytest.fixture(scope="module")
def sweep(data_root, tmp_path_factory) -> Path:
    """Two multiruns of the MLP from the command line, as a user runs them: 2 inits x 2 seeds,
    and a scaled init (a numeric factor, for the dose response)."""
    with built_once(tmp_path_factory, "external-sweep") as (root, done):  # read, never written
        if not done:
            output = f"paths.output_root={root / 'outputs'}"
            for grid in (
                ["init=kaiming_uniform,xavier_normal"],
                ["init=kaiming_uniform", "init.scale=0.5"],
            ):
                result = in_process(
                    "-m",
                    *MLP_MODEL,
                    *grid,
                    "seed=0,1",
                    *TINY,
                    output,
                    data_root=data_root,
                    cwd=root,
                )
                assert result.returncode == 0, result.stderr[-3000:]
    return root / "outputs" / "default"


def runs(sweep: Path) -> list[Path]:
    return sorted(p.parent for p in sweep.rglob(results.CONFIG))


def test_the_mlp_trains_and_prunes_by_its_layer_kinds(sweep):
    """hidden is an fc layer (20% of its survivors a round), logits the output layer (10%)."""
    assert len(runs(sweep)) == 6
    for run_dir in runs(sweep):
        assert run_dir.relative_to(sweep).parts[0] == "mlp_784_200_10-mnist"
        rows = read_csv(run_dir / results.ROUNDS)
        assert [int(r["weights_remaining"]) for r in rows] == [158_800, 127_240, 101_972]
        assert [r["remaining_pct/hidden"] for r in rows] == ["100.0", "80.0", "64.0"]
        assert [r["remaining_pct/logits"] for r in rows] == ["100.0", "90.0", "81.0"]
        assert all(0.5 < float(r["test_acc"]) <= 1 for r in rows)


def test_the_analysis_writes_every_table_and_figure(sweep, tmp_path):
    out = tmp_path / "analysis"
    analysis, found, _ = analyze([sweep], out)
    assert analysis.sweep.count("finished") == 6
    pngs = sorted(p.name for p in (out / "figures").glob("*.png"))
    (part,) = analysis.parts()  # every figure it has the data for, sizes' and masks' included
    drawn = [spec for spec in FIGURES if not spec.left_out(part)]
    assert {"differences", "test-acc-vs-weights", "weight-scale", "mask-overlap"} <= {
        spec.slug for spec in drawn
    }
    assert pngs == [
        f"figure{k:02d}-mlp_784_200_10-mnist-{spec.slug}.png" for k, spec in enumerate(drawn, 1)
    ]
    assert len(found["mlp_784_200_10 on mnist"]) >= 3
    sizes = pd.read_csv(out / "sizes.csv")
    assert len(sizes) == 3 * 3 and set(sizes["n"]) == {2}  # lines x rounds, 2 seeds each
    dense = sizes[sizes["round"] == 0].iloc[0]
    assert dense[["inputs", "hidden_units", "params_compact"]].tolist() == [784, 200, 159_010]
    assert set(sizes["units_total/hidden"]) == {200} and set(sizes["units_total/logits"]) == {10}
    network = describe(MLP())
    means = []  # per line (a run directory's parent: init, pruning, settings), over its seeds
    for line in sorted({run_dir.parent for run_dir in runs(sweep)}):
        seeds = [compact_sizes(results.load_round_masks(d)[2], network) for d in runs(line)]
        assert len(seeds) == 2
        means.append([sum(s[k] for s in seeds) / 2 for k in ("hidden_units", "bytes_sparse")])
    sparsest = sizes[sizes["round"] == 2][["hidden_units", "bytes_sparse"]]
    assert sorted(sparsest.values.tolist()) == sorted(means)  # means of integers halved: exact
    for table in ("summary", "differences", "dense", "dose_response", "predictors", "diagnostics"):
        assert len(pd.read_csv(out / f"{table}.csv")), table


def test_the_mlp_exports_exactly_from_the_command_line(sweep, data_root, tmp_path):
    run_dir = runs(sweep)[0]
    result = subprocess.run(
        [sys.executable, "-m", "prune_ready.export", str(run_dir), "--out", str(tmp_path)],
        cwd=tmp_path,
        env=cli_env(data_root),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    info = json.loads((tmp_path / "round2.pt.json").read_text())
    assert info["model"] == "mlp_784_200_10" and info["check"]["images"] == 10_000
    assert info["check"]["max_abs_diff"] <= info["check"]["tolerance"]
    assert info["compaction"] == compact_sizes(
        results.load_round_masks(run_dir)[2], describe(MLP())
    )
    run = exporter.load_run(run_dir, str(data_root))
    assert_float64_exact(run, 2)


def assert_float64_exact(run: exporter.Run, round_: int, images: int = 256) -> None:
    """The compacted network of the run's trained weights equals the masked one to 1e-12 in
    float64, on real test images."""
    params = {n: p.double() for n, p in run.weights[round_].items()}
    masks = run.masks[round_]
    mean, std = run.mean.double(), run.std.double()
    raw = run.test_raw[:images]
    net = build(structure(masks, run.network), params, masks, mean, std)
    reference = masked_logits(run.trained(round_), params, masks, normalise64(raw, mean, std))
    assert_exact(net(raw.double() / 255), reference)


@pytest.fixture(scope="module")
def cnn_run(data_root, tmp_path_factory) -> Path:
    """The CNN, 2 IMP rounds on 3,000 cifar10-jpeg training images."""
    root = tmp_path_factory.mktemp("external_cnn")
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[
                f"data.root={data_root}",
                f"paths.output_root={root}",
                *CNN_MODEL,
                "data=cifar10_jpeg",
                "data.val_size=500",
                *TINY,
                # 50 steps a round: above chance (a dense round at chance fails the run)
                "data.train_subset=3000",
            ],
        )
    train(cfg, root / "run")
    return root / "run"


def test_the_cnn_prunes_by_kind_and_exports_exactly(cnn_run, data_root):
    """conv layers lose 15% of their survivors a round, dense 20%, logits 10% (rounded as
    masks.count_to_prune does: `first`'s 216 weights keep 184, then 156)."""
    rows = read_csv(cnn_run / results.ROUNDS)
    rates = {"first": 0.15, "second": 0.15, "dense": 0.2, "logits": 0.1}
    for name, layer in prunable_layers(SmallCNN()).items():
        alive, size = [layer.weight.numel()], layer.weight.numel()
        for _ in range(2):
            alive.append(alive[-1] - count_to_prune(rates[name], alive[-1]))
        pct = [float(r[f"remaining_pct/{name}"]) for r in rows]
        assert pct == pytest.approx([100 * a / size for a in alive], abs=5e-5), name
    run = exporter.load_run(cnn_run, str(data_root))
    assert run.network.plan[:3] == ("first", "relu", "pool")
    result = exporter.export(run, 2, "torchscript", kernels="dense")
    assert result.info["check"]["max_abs_diff"] <= result.info["check"]["tolerance"]
    assert_float64_exact(run, 2, images=64)


def test_the_cnn_compacts_constructed_masks_exactly(data_root):
    """Filter 3 of `first` reads nothing: a constant channel, which `second` pads, so folding it
    would take a 15x16x16 bias map; kept as a channel instead (163 numbers). Filter 5 of
    `second` is read by nothing: removed."""
    net = SmallCNN()
    params = random_params(net, seed=4)
    params["first.bias"][3] = 0.5  # a constant that matters
    masks = {
        n.removesuffix(".weight"): torch.ones_like(p, dtype=torch.bool)
        for n, p in params.items()
        if n.endswith("weight")
    }
    masks["first"][3] = False
    masks["dense"].view(32, 16, 64)[:, 5] = False
    network = describe(net)
    s = structure(masks, network)
    sizes = compact_sizes(masks, network)
    assert [sizes[f"units/{n}"] for n in ("first", "second", "dense", "logits")] == [8, 15, 32, 10]
    assert s.flat_index is None  # dense reads all 64 positions of the 15 kept channels, in order
    assert s.layers[0].kept_in.tolist() == [0, 1, 2] and not s.layers[1].bias_map
    raw = cifar_images(data_root, 8)
    mean, std = (t.double() for t in channel_stats(raw))
    reference = masked_logits(SmallCNN(), params, masks, normalise64(raw, mean, std))
    assert_exact(build(s, params, masks, mean, std)(raw.double() / 255), reference)
