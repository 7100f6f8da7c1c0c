"""A run's parts from its config: the data, the network and its θ0, built one way for every user.

Training, the exporter, the θ0 statistics (predictors.py) and benchmarks/throughput.py all build
from a run's config; doing it here, once, keeps them from drifting apart (a copy that forgot
`init.scale` drew another θ0 than the run it claimed to measure).
"""

from dataclasses import dataclass
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn

from prune_ready.data import InMemoryData
from prune_ready.inits import Init, initialize


@dataclass
class Built:
    """What a config builds: the data (set up), the network at θ0 and the init that drew it."""

    datamodule: InMemoryData
    net: nn.Module
    init: Init


def build(cfg: DictConfig, datamodule: InMemoryData | None = None, **data: Any) -> Built:
    """The data (`cfg.data` with the `data` overrides, set up: bad data fails here), unless a
    set-up `datamodule` is given; the network for its input shape and classes; θ0 drawn by the
    init scheme from the run seed's stream, times `init.scale`."""
    init = instantiate(cfg.init)
    if datamodule is None:
        datamodule = instantiate(cfg.data, **data)
        datamodule.setup()
    net = network(cfg, datamodule.in_shape, datamodule.num_classes)
    initialize(net, init.scheme, cfg.seed, scale=init.scale)
    return Built(datamodule, net, init)


def network(cfg: DictConfig, in_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """`cfg.model.net` for images of `in_shape` and `num_classes` classes, as constructed (before
    any init scheme)."""
    return instantiate(cfg.model.net, in_shape=tuple(in_shape), num_classes=num_classes)
