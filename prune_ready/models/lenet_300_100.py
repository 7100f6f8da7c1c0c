"""LeNet-300-100 of Frankle & Carbin 2019 ("The Lottery Ticket Hypothesis"), Figure 2
(conf/model/lenet_300_100.yaml)."""

import math
from collections import OrderedDict

from torch import nn


class LeNet300100(nn.Sequential):
    """LeNet-300-100: fully connected 784-300-100-10 with ReLU.

    The layers are made in the order fc1, fc2, out (the order their default parameters are
    drawn in), and named as before the network described itself, so state dicts, masks and
    result columns (remaining_pct/fc1) keep their names.
    """

    def __init__(self, in_shape: tuple[int, ...] = (1, 28, 28), num_classes: int = 10) -> None:
        fc1 = nn.Linear(math.prod(in_shape), 300)
        fc2 = nn.Linear(300, 100)
        out = nn.Linear(100, num_classes)
        super().__init__(
            OrderedDict(
                flatten=nn.Flatten(),
                fc1=fc1,
                relu1=nn.ReLU(),
                fc2=fc2,
                relu2=nn.ReLU(),
                out=out,
            )
        )
        self.in_shape = tuple(in_shape)
