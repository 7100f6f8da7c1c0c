"""init.scale=g: θ0's weights times g from the same draws, for every scheme in conf/init."""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import torch
from hydra.utils import instantiate

from prune_ready import results
from prune_ready.build import build
from prune_ready.inits import initialize
from prune_ready.models import LeNet300100
from prune_ready.pruning.masks import prunable_layers
from prune_ready.rundir import run_variant
from prune_ready.train import CONF_DIR, train
from tests.helpers import REPO, TINY

INITS = sorted(p.stem for p in Path(CONF_DIR, "init").glob("*.yaml"))


def theta0(make_cfg, name: str, scale: float) -> tuple[LeNet300100, object]:
    init = instantiate(make_cfg(f"init={name}", f"init.scale={scale}").init)
    net = LeNet300100()
    initialize(net, init.scheme, seed=3, scale=init.scale)
    return net, init


@pytest.mark.parametrize("name", INITS)
def test_scaled_theta0_is_the_same_draws_times_g(make_cfg, name):
    base, _ = theta0(make_cfg, name, 1.0)
    for g in (0.25, 2.0):
        scaled, init = theta0(make_cfg, name, g)
        assert init.scale == g
        for layer_name, layer in prunable_layers(scaled).items():
            ref = prunable_layers(base)[layer_name]
            assert torch.equal(layer.weight, ref.weight * g), layer_name
            assert torch.equal(layer.bias, ref.bias), layer_name  # biases untouched
        if init.at_rewind is not None:  # the transform at rewind follows the dial
            mask = (
                torch.rand(base.fc1.weight.shape, generator=torch.Generator().manual_seed(0)) < 0.1
            ).float()
            a, b = base.fc1.weight.detach().clone(), scaled.fc1.weight.detach().clone()
            _, unscaled = theta0(make_cfg, name, 1.0)
            unscaled.at_rewind(a, mask)
            init.at_rewind(b, mask)
            assert torch.allclose((b * mask), (a * mask) * g, rtol=1e-6, atol=0), name


def test_signed_constant_at_g_is_plus_minus_g_sigma(make_cfg):
    _, init = theta0(make_cfg, "signed_constant", 2.0)
    weight = torch.randn(100, 784, generator=torch.Generator().manual_seed(1))
    init.at_rewind(weight, torch.ones_like(weight))
    sigma = 2**0.5 / 784**0.5
    assert weight.abs().unique().tolist() == [pytest.approx(2.0 * sigma, rel=1e-6)]


def test_a_scaled_run_starts_from_g_theta0_and_has_its_own_directory(make_cfg, tmp_path):
    dirs, cfgs = {}, {}
    for g in (1.0, 0.5):
        dirs[g] = tmp_path / f"g{g}"
        cfgs[g] = make_cfg(*TINY, "init=kaiming_normal", f"init.scale={g}")
        train(cfgs[g], dirs[g])
    a, b = (torch.load(dirs[g] / results.INIT) for g in (1.0, 0.5))
    for name in a:
        assert torch.equal(b[name], a[name] * 0.5 if name.endswith("weight") else a[name])
    # every other builder (export, predictors, the throughput benchmark) draws the same θ0
    built = build(cfgs[0.5])
    benchmarked = throughput_benchmark().make_net(cfgs[0.5], built.datamodule, "cpu")
    for net in (built.net, benchmarked):
        assert list(net.state_dict()) == list(b)
        assert all(torch.equal(p, b[name]) for name, p in net.state_dict().items())
    assert (dirs[1.0] / results.ROUNDS).read_bytes() != (dirs[0.5] / results.ROUNDS).read_bytes()
    assert run_variant(["init.scale=0.5"]) == "init.scale=0.5/"
    assert run_variant(["init.scale=1.0"]) == run_variant(["init.scale=1"]) == ""  # the default run


def throughput_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("throughput", REPO / "benchmarks/throughput.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
