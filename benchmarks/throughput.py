"""Training throughput, side by side in one process: prune_ready vs plain PyTorch loops.

    python benchmarks/throughput.py                 # LeNet-300-100 on MNIST
    python benchmarks/throughput.py --model conv6   # Conv-6 on cifar10-jpeg (a 1,200-image slice)

Prints images/s of the training steps (evaluation excluded) for
  bare        a hand-written loop over in-memory tensors, fused Adam (the reference),
  dataloader  the loop most people write: torchvision dataset + transforms + DataLoader, Adam,
  prune_ready the real training path (Lightning, the prune-and-rewind callback re-masking after
              every step, the progress bar), driven through the same config as the CLI,
and each one's time relative to bare. Candidates run interleaved, `--repeats` times each; the
median is reported. Run it on idle cores: other busy processes distort every number.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from prune_ready.inits import initialize
from prune_ready.train import CONF_DIR, train

SETUPS = {
    "lenet": ["model=lenet_300_100", "data=mnist"],
    "conv6": [
        "model=conv6",
        "data=cifar10_jpeg",
        "data.train_subset=1200",
        "data.val_size=60",
        "data.test_subset=60",
    ],
}


def config(model: str, epochs: int):
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        return compose(
            "train",
            overrides=[*SETUPS[model], "pruning.rounds=0", f"pruning.every_n_epochs={epochs}"],
        )


def make_net(cfg, dm):
    net = instantiate(cfg.model.net, in_shape=dm.in_shape, num_classes=dm.num_classes)
    initialize(net, instantiate(cfg.init.scheme), cfg.seed)
    if cfg.model.channels_last:
        net = net.to(memory_format=torch.channels_last)
    return net


def bare(cfg, dm) -> float:
    """Seconds for one epoch of a hand-written loop over the in-memory tensors."""
    net = make_net(cfg, dm)
    fmt = torch.channels_last if cfg.model.channels_last else torch.contiguous_format
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.model.lr, fused=True)
    x, y = dm.splits["train"].x, dm.splits["train"].y
    start = time.perf_counter()
    for idx in torch.randperm(len(y)).split(cfg.data.batch_size):
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(net(x[idx].contiguous(memory_format=fmt)), y[idx]).backward()
        optimizer.step()
    return time.perf_counter() - start


def dataloader(cfg, dm) -> float:
    """Seconds for one epoch of the usual torchvision Dataset + DataLoader loop."""
    from torchvision import datasets, transforms

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.25,))])
    if cfg.data.name == "mnist":
        data = datasets.MNIST(cfg.data.root, train=True, transform=tf)
    else:
        data = datasets.ImageFolder(Path(cfg.data.root) / cfg.data.folder / "train", transform=tf)
    n = len(dm.splits["train"])
    data = torch.utils.data.Subset(data, range(n))
    loader = torch.utils.data.DataLoader(data, batch_size=cfg.data.batch_size, shuffle=True)
    net = make_net(cfg, dm)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.model.lr)
    start = time.perf_counter()
    for xb, yb in loader:
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(net(xb), yb).backward()
        optimizer.step()
    return time.perf_counter() - start


class StepTimer(pl.Callback):
    """Time from an epoch's start to its validation: the training steps alone."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def on_train_epoch_start(self, *args) -> None:
        self.start = time.perf_counter()

    def on_validation_start(self, trainer, *args) -> None:
        self.seconds.append(time.perf_counter() - self.start)


def prune_ready(cfg) -> list[float]:
    """Seconds per epoch of the real training path (the first epoch, warm-up, dropped)."""
    timer = StepTimer()
    with tempfile.TemporaryDirectory() as run_dir:
        train(cfg, Path(run_dir), callbacks=[timer])
    return timer.seconds[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=sorted(SETUPS), default="lenet")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault(
        "PRUNE_READY_DATA", str(Path(__file__).resolve().parents[2] / "shared/data")
    )
    cfg = config(args.model, epochs=2)
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    dm = instantiate(cfg.data)
    dm.setup()
    n = len(dm.splits["train"])
    times: dict[str, list[float]] = {"bare": [], "dataloader": [], "prune_ready": []}
    bare(cfg, dm)  # warm-up
    for _ in range(args.repeats):
        times["bare"].append(bare(cfg, dm))
        times["dataloader"].append(dataloader(cfg, dm))
        times["prune_ready"] += prune_ready(cfg)
    print(
        f"\n{cfg.model.name} on {cfg.data.name}: {n} training images/epoch, batch "
        f"{cfg.data.batch_size}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"{os.cpu_count()} CPUs ({sys.platform})"
    )
    reference = statistics.median(times["bare"])
    print(f"{'loop':<12} {'s/epoch':>8} {'images/s':>9} {'vs bare':>8}   runs")
    for name, seconds in times.items():
        med = statistics.median(seconds)
        runs = " ".join(f"{s:.2f}" for s in seconds)
        print(f"{name:<12} {med:>8.3f} {n / med:>9.0f} {med / reference:>7.2f}x   {runs}")


if __name__ == "__main__":
    main()
