"""Networks from outside the package, as a user writes them: an nn.Sequential of known stages
with an in_shape (prune_ready/models/description.py). tests/test_external_net.py trains,
prunes, analyses and exports them by pointing model.net._target_ here."""

import math
from collections import OrderedDict

from torch import nn


class MLP(nn.Sequential):
    """784-200-10 for MNIST."""

    def __init__(self, in_shape: tuple[int, ...] = (1, 28, 28), num_classes: int = 10) -> None:
        super().__init__(
            OrderedDict(
                flatten=nn.Flatten(),
                hidden=nn.Linear(math.prod(in_shape), 200),
                relu=nn.ReLU(),
                logits=nn.Linear(200, num_classes),
            )
        )
        self.in_shape = tuple(in_shape)


class SmallCNN(nn.Sequential):
    """Two 3x3 convs (8 and 16 filters), each pooled, then 32 hidden units, for 3x32x32."""

    def __init__(self, in_shape: tuple[int, ...] = (3, 32, 32), num_classes: int = 10) -> None:
        channels, height, width = in_shape
        super().__init__(
            OrderedDict(
                first=nn.Conv2d(channels, 8, 3, padding=1),
                relu1=nn.ReLU(),
                pool1=nn.MaxPool2d(2),
                second=nn.Conv2d(8, 16, 3, padding=1),
                relu2=nn.ReLU(),
                pool2=nn.MaxPool2d(2),
                flatten=nn.Flatten(),
                dense=nn.Linear(16 * (height // 4) * (width // 4), 32),
                relu3=nn.ReLU(),
                logits=nn.Linear(32, num_classes),
            )
        )
        self.in_shape = tuple(in_shape)
