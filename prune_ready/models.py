"""The networks of Frankle & Carbin 2019 ("The Lottery Ticket Hypothesis"), Figure 2."""

import math

from torch import Tensor, nn


class LeNet300100(nn.Module):
    """LeNet-300-100: fully connected 784-300-100-10 with ReLU."""

    def __init__(self, in_shape: tuple[int, ...] = (1, 28, 28), num_classes: int = 10) -> None:
        super().__init__()
        self.fc1 = nn.Linear(math.prod(in_shape), 300)
        self.fc2 = nn.Linear(300, 100)
        self.out = nn.Linear(100, num_classes)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        x = x.flatten(1)
        return self.out(self.relu(self.fc2(self.relu(self.fc1(x)))))


class Conv6(nn.Module):
    """Conv-6: 64,64,pool,128,128,pool,256,256,pool (3x3 convs, padding 1), then FC 256,256,10."""

    def __init__(self, in_shape: tuple[int, ...] = (3, 32, 32), num_classes: int = 10) -> None:
        super().__init__()
        channels, height, width = in_shape
        widths = [64, 64, 128, 128, 256, 256]
        for i, out_channels in enumerate(widths, start=1):
            setattr(self, f"conv{i}", nn.Conv2d(channels, out_channels, 3, padding=1))
            channels = out_channels
        self.fc1 = nn.Linear(channels * (height // 8) * (width // 8), 256)
        self.fc2 = nn.Linear(256, 256)
        self.out = nn.Linear(256, num_classes)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: Tensor) -> Tensor:
        for i in range(1, 7):
            x = self.relu(getattr(self, f"conv{i}")(x))
            if i % 2 == 0:
                x = self.pool(x)
        x = x.flatten(1)
        return self.out(self.relu(self.fc2(self.relu(self.fc1(x)))))
