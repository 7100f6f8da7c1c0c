"""Pruning methods: exact target sparsity, scores against direct or hand computation, PaI runs."""

import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch import nn

from prune_ready import results
from prune_ready.models import LeNet300100
from prune_ready.pruning import masks, methods
from prune_ready.pruning.resets import Keep
from prune_ready.train import train
from tests.helpers import read_csv

SIZES = {"fc1": 235_200, "fc2": 30_000, "out": 1_000}


@pytest.fixture(scope="module")
def mnist_batch(data_root):
    from prune_ready.data import MNISTData

    dm = MNISTData(name="mnist", root=str(data_root), train_subset=1000)
    dm.setup()
    return dm.random_batch(128, torch.Generator().manual_seed(0))


def lenet() -> nn.Module:
    torch.manual_seed(0)
    net = LeNet300100()
    masks.add_masks(net)
    return net


@pytest.mark.parametrize("method", ["magnitude", "random", "snip", "grasp", "synflow"])
@pytest.mark.parametrize("scope", ["global", "layerwise"])
def test_each_method_reaches_the_density_exactly(mnist_batch, method, scope):
    net = lenet()
    context = methods.Context(torch.Generator().manual_seed(1), -1, mnist_batch)
    score = getattr(methods, method)
    for density in (0.2, 0.03):  # the second step prunes an already pruned network
        masks.prune_to_density(net, score(net, context), density, scope)
        alive = masks.alive_counts(net)
        if scope == "global":
            assert sum(alive.values()) == masks.keep_count(density, 266_200)
        else:
            assert alive == {n: masks.keep_count(density, s) for n, s in SIZES.items()}
        for layer in masks.prunable_layers(net).values():
            assert torch.count_nonzero(layer.weight[layer.weight_mask == 0]) == 0


def test_snip_scores_are_gradient_times_weight(mnist_batch):
    net = lenet()
    scores = methods.snip(net, methods.Context(torch.Generator(), -1, mnist_batch))
    x, y = mnist_batch
    F.cross_entropy(net(x), y).backward()
    for name, layer in masks.prunable_layers(net).items():
        assert torch.allclose(scores[name], (layer.weight.grad * layer.weight).abs())


def test_grasp_scores_are_weight_times_hessian_gradient():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    masks.add_masks(net)
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 1, 0, 1])
    scores = methods.grasp(net, methods.Context(torch.Generator(), -1, (x, y)), temperature=2.0)
    params = [net[0].weight, net[2].weight]

    def loss(w0: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
        hidden = torch.tanh(F.linear(x, w0, net[0].bias))
        return F.cross_entropy(F.linear(hidden, w2, net[2].bias) / 2.0, y)

    g = torch.autograd.grad(loss(*params), params)
    _, hg = torch.autograd.functional.hvp(loss, tuple(p.detach() for p in params), g)
    assert torch.allclose(scores["0"], params[0].detach() * hg[0], atol=1e-7)
    assert torch.allclose(scores["2"], params[1].detach() * hg[1], atol=1e-7)


def test_synflow_scores_on_a_tiny_network_by_hand():
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, -2.0], [3.0, 0.5]]))
        net[0].bias.copy_(torch.tensor([0.1, -0.2]))
        net[2].weight.copy_(torch.tensor([[-1.0, 2.0]]))
        net[2].bias.copy_(torch.tensor([0.3]))
    masks.add_masks(net)
    batch = (torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))  # only its shape is used
    scores = methods.synflow(net, methods.Context(torch.Generator(), -1, batch))
    # R = |W2|(|W1| 1 + |b1|) + |b2| with hidden (3.1, 3.7): dR/d|W2| = hidden, dR/d|W1|_ij = |W2|_i
    assert torch.allclose(scores["2"], torch.tensor([[3.1, 7.4]], dtype=torch.float64))
    assert torch.allclose(scores["0"], torch.tensor([[1.0, 2.0], [6.0, 1.0]], dtype=torch.float64))
    assert net[0].weight[0, 1] == -2.0  # the network itself is untouched


@pytest.mark.parametrize(
    "method", ["snip", "grasp", "synflow", "random_layerwise", "random_global"]
)
def test_pruning_at_init_runs_prune_once_and_never_rewind(make_cfg, preset_run, method):
    """On the method's preset fixture run (600 images, one 1-epoch round, density 0.05)."""
    assert make_cfg(f"pruning={method}").pruning.rounds == 0
    run_dir = preset_run(method)
    (row,) = read_csv(run_dir / results.ROUNDS)
    assert int(row["weights_remaining"]) == masks.keep_count(0.05, 266_200)
    diagnostics = read_csv(run_dir / results.DIAGNOSTICS)
    assert {r["round"] for r in diagnostics} == {"0"}  # measured once, after the pruning
    fc1 = next(r for r in diagnostics if r["layer"] == "fc1")
    assert float(fc1["fan_in_mean"]) < 0.5 * 784  # the sparse network, not the dense θ0
    assert not (run_dir / results.CHECKPOINT).exists() and not (run_dir / results.REWIND).exists()
    final = torch.load(run_dir / results.MASK)
    theta0 = torch.load(run_dir / results.INIT)
    assert int(sum(m.sum() for m in final.values())) == masks.keep_count(0.05, 266_200)
    if method == "random_layerwise":
        assert {n: int(m.sum()) for n, m in final.items()} == {
            n: masks.keep_count(0.05, s) for n, s in SIZES.items()
        }
    assert theta0["fc1.weight"].shape == (300, 784)


@pytest.mark.parametrize("init", ["signed_constant", "sparse_kaiming"])
def test_pruning_at_init_applies_the_inits_transform_to_the_survivors(make_cfg, tmp_path, init):
    """signed_constant: every survivor ±√2/√fan_in; sparse_kaiming: each unit's survivors with
    RMS √2/√(its surviving fan-in) — both measured on the network the first step trains."""
    import pytorch_lightning as pl

    class Probe(pl.Callback):
        def on_train_start(self, trainer, pl_module) -> None:  # after the pruner's own
            self.weight = pl_module.net.fc1.weight.detach().clone()
            self.mask = pl_module.net.fc1.weight_mask.clone()

    cfg = make_cfg(
        "pruning=snip",
        "pruning.target.density=0.1",
        f"init={init}",
        "data.train_subset=600",
        "pruning.round_length=1ep",
    )
    probe = Probe()
    train(cfg, tmp_path, callbacks=[probe])
    alive = probe.mask == 1
    assert torch.equal(probe.weight[~alive], torch.zeros(int((~alive).sum())))
    if init == "signed_constant":
        assert torch.allclose(probe.weight[alive].abs(), torch.tensor((2 / 784) ** 0.5))
    else:
        fan_in = probe.mask.sum(1)
        kept = fan_in > 0
        rms = (probe.weight.square().sum(1)[kept] / fan_in[kept]).sqrt()
        assert torch.allclose(rms, (2 / fan_in[kept]).sqrt(), rtol=1e-5)


def test_finetune_keeps_the_trained_survivors(make_cfg, tmp_path):
    import pytorch_lightning as pl

    class Probe(pl.Callback):
        def __init__(self) -> None:
            self.trained, self.started = None, []

        def on_validation_start(self, trainer, pl_module) -> None:
            self.trained = pl_module.net.fc1.weight.detach().clone()  # before pruning

        def on_train_epoch_start(self, trainer, pl_module) -> None:
            if trainer.current_epoch == 1:
                net = pl_module.net
                self.started = (net.fc1.weight.detach().clone(), net.fc1.weight_mask.clone())
                self.before = self.trained

    cfg = make_cfg(
        "pruning=finetune", "data.train_subset=600", "pruning.round_length=1ep", "pruning.rounds=1"
    )
    probe = Probe()
    train(cfg, tmp_path, callbacks=[probe])
    weight, mask = probe.started
    assert torch.equal(weight, probe.before * mask)  # trained values, only the pruned ones zeroed
    assert not torch.equal(weight, torch.load(tmp_path / results.INIT)["fc1.weight"] * mask)
    assert isinstance(instantiate(cfg.pruning).reset, Keep)
