"""Training throughput, side by side in one process: prune_ready vs plain PyTorch loops.

    python benchmarks/throughput.py                        # LeNet-300-100 on MNIST, CPU
    python benchmarks/throughput.py --model conv6          # Conv-6 on cifar10-jpeg (a slice)
    python benchmarks/throughput.py --model conv6 --precision bf16-mixed
    python benchmarks/throughput.py --device cuda          # on a GPU, when there is one

Prints images/s of the training steps (evaluation excluded), batch 60, for
  bare        a hand-written loop over tensors resident on the device, fused Adam (the reference),
  dataloader  the loop most people write: torchvision dataset + transforms + DataLoader, Adam,
  prune_ready the real training path (Lightning, the prune-and-rewind callback re-masking after
              every step), driven through the same config as the command line,
and each one's time relative to bare; for Conv-6 also the achieved FLOP/s against the device's
practical peak (a large matrix multiply in the same precision, measured here). Candidates run
interleaved, `--repeats` times each, and the median is reported. Run it on idle cores: other busy
processes distort every number (see `uptime`).
"""

import argparse
import contextlib
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from torch import nn

from prune_ready.build import build
from prune_ready.train import CONF_DIR, train

SETUPS = {
    "lenet": ["model=lenet_300_100", "data=mnist"],
    "conv6": ["model=conv6", "data=cifar10_jpeg", "data.train_subset=1200", "data.val_size=60"],
}
EPOCHS = 3  # per prune_ready run; the first (warm-up) is dropped


def config(model: str, device: str, precision: str):
    trainer = "trainer=gpu" if device == "cuda" else "trainer=cpu"
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        return compose(
            "train",
            overrides=[
                *SETUPS[model],
                trainer,
                f"trainer.precision={precision}",
                "pruning.rounds=0",
                f"pruning.round_length={EPOCHS}ep",
                "data.test_subset=60",
                "progress_bar=null",
            ],
        )


def make_net(cfg, dm, device: str) -> nn.Module:
    """The run's network at its θ0 (init.scale included), on `device`."""
    net = build(cfg, dm).net
    fmt = torch.channels_last if cfg.model.channels_last else torch.contiguous_format
    return net.to(device=device, memory_format=fmt)


def autocast(device: str, precision: str) -> contextlib.AbstractContextManager:
    if precision == "bf16-mixed":
        return torch.autocast(device, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def bare(cfg, dm, device: str, precision: str) -> float:
    """Seconds for one epoch of a hand-written loop over tensors resident on the device."""
    net = make_net(cfg, dm, device)
    fmt = torch.channels_last if cfg.model.channels_last else torch.contiguous_format
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.model.lr, fused=True)
    x, y = dm.splits["train"].x.to(device), dm.splits["train"].y.to(device)
    sync(device)
    start = time.perf_counter()
    for idx in torch.randperm(len(y), device=device).split(cfg.data.batch_size):
        optimizer.zero_grad(set_to_none=True)
        with autocast(device, precision):
            loss = F.cross_entropy(net(x[idx].contiguous(memory_format=fmt)), y[idx])
        loss.backward()
        optimizer.step()
    sync(device)
    return time.perf_counter() - start


def dataloader(cfg, dm, device: str, precision: str) -> float:
    """Seconds for one epoch of the usual torchvision Dataset + DataLoader loop."""
    from torchvision import datasets, transforms

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.25,))])
    if cfg.data.name == "mnist":
        data = datasets.MNIST(cfg.data.root, train=True, transform=tf)
    else:
        data = datasets.ImageFolder(Path(cfg.data.root) / cfg.data.folder / "train", transform=tf)
    data = torch.utils.data.Subset(data, range(len(dm.splits["train"])))
    loader = torch.utils.data.DataLoader(data, batch_size=cfg.data.batch_size, shuffle=True)
    net = make_net(cfg, dm, device)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.model.lr)
    sync(device)
    start = time.perf_counter()
    for xb, yb in loader:
        optimizer.zero_grad(set_to_none=True)
        with autocast(device, precision):
            loss = F.cross_entropy(net(xb.to(device)), yb.to(device))
        loss.backward()
        optimizer.step()
    sync(device)
    return time.perf_counter() - start


class StepTimer(pl.Callback):
    """Time from an epoch's start to its validation: the training steps alone."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_train_epoch_start(self, trainer, *args) -> None:
        sync(trainer.strategy.root_device.type)
        self.start = time.perf_counter()

    def on_validation_start(self, trainer, *args) -> None:
        sync(trainer.strategy.root_device.type)
        self.seconds.append(time.perf_counter() - self.start)


def prune_ready(cfg, dm, device: str, precision: str) -> list[float]:
    """Seconds per epoch of the real training path (the first epoch, warm-up, dropped)."""
    timer = StepTimer()
    with tempfile.TemporaryDirectory() as run_dir:
        train(cfg, Path(run_dir), callbacks=[timer])
    return timer.seconds[1:]


def training_flops(net: nn.Module, in_shape: tuple[int, ...]) -> float:
    """FLOPs to train on one image: 3x the forward's multiply-adds x 2 (forward + backward)."""
    flops = []

    def count(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if isinstance(module, nn.Conv2d):
            kernel = module.weight[0].numel()  # in_channels x k x k
            flops.append(2 * kernel * output.numel())
        elif isinstance(module, nn.Linear):
            flops.append(2 * module.in_features * module.out_features)

    hooks = [m.register_forward_hook(count) for m in net.modules()]
    with torch.no_grad():
        net.cpu().float()(torch.zeros(1, *in_shape))
    for hook in hooks:
        hook.remove()
    return 3 * sum(flops)


def matmul_peak(device: str, precision: str, n: int = 4096) -> float:
    """FLOP/s of a large matrix multiply: the practical peak of this device and precision."""
    dtype = torch.bfloat16 if precision == "bf16-mixed" else torch.float32
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    a @ b
    sync(device)
    start, reps = time.perf_counter(), 3 if device == "cpu" else 50
    for _ in range(reps):
        a @ b
    sync(device)
    return reps * 2 * n**3 / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=sorted(SETUPS), default="lenet")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--precision", choices=["32-true", "bf16-mixed"], default="32-true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault(
        "PRUNE_READY_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    cfg = config(args.model, args.device, args.precision)
    torch.set_num_threads(cfg.threads or len(os.sched_getaffinity(0)))
    dm = build(cfg).datamodule
    n = len(dm.splits["train"])
    candidates: dict[str, Callable] = {"bare": bare, "dataloader": dataloader}
    times: dict[str, list[float]] = {name: [] for name in [*candidates, "prune_ready"]}
    bare(cfg, dm, args.device, args.precision)  # warm-up
    for _ in range(args.repeats):
        for name, loop in candidates.items():
            times[name].append(loop(cfg, dm, args.device, args.precision))
        times["prune_ready"] += prune_ready(cfg, dm, args.device, args.precision)
    where = torch.cuda.get_device_name() if args.device == "cuda" else platform.processor()
    print(
        f"\n{cfg.model.name} on {cfg.data.name}: {n} training images/epoch, batch "
        f"{cfg.data.batch_size}, {args.precision}, {args.device} ({where or platform.machine()}, "
        f"{torch.get_num_threads()} threads), torch {torch.__version__}"
    )
    reference = statistics.median(times["bare"])
    print(f"{'loop':<12} {'s/epoch':>8} {'images/s':>9} {'vs bare':>8}   runs")
    for name, seconds in times.items():
        med = statistics.median(seconds)
        runs = " ".join(f"{s:.2f}" for s in seconds)
        print(f"{name:<12} {med:>8.3f} {n / med:>9.0f} {med / reference:>7.2f}x   {runs}")
    if args.model == "conv6":
        flops = training_flops(make_net(cfg, dm, "cpu"), dm.in_shape)
        peak = matmul_peak(args.device, args.precision)
        achieved = flops * n / statistics.median(times["prune_ready"])
        print(
            f"Conv-6: {flops / 1e9:.2f} GFLOP per training image; prune_ready achieves "
            f"{achieved / 1e9:.0f} GFLOP/s = {100 * achieved / peak:.0f}% of the "
            f"{peak / 1e9:.0f} GFLOP/s of a {args.precision} 4096² matmul on this device"
        )


if __name__ == "__main__":
    main()
