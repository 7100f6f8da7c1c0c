"""Conv-6 of Frankle & Carbin 2019 ("The Lottery Ticket Hypothesis"), Figure 2
(conf/model/conv6.yaml)."""

from collections import OrderedDict

from torch import nn


class Conv6(nn.Sequential):
    """Conv-6: 64,64,pool,128,128,pool,256,256,pool (3x3 convs, padding 1), then FC 256,256,10.

    The layers are made in the order conv1..conv6, fc1, fc2, out (the order their default
    parameters are drawn in), and named as before the network described itself.
    """

    def __init__(self, in_shape: tuple[int, ...] = (3, 32, 32), num_classes: int = 10) -> None:
        channels, height, width = in_shape
        convs = []
        for out_channels in (64, 64, 128, 128, 256, 256):
            convs.append(nn.Conv2d(channels, out_channels, 3, padding=1))
            channels = out_channels
        fc1 = nn.Linear(channels * (height // 8) * (width // 8), 256)
        fc2 = nn.Linear(256, 256)
        out = nn.Linear(256, num_classes)
        stages: OrderedDict[str, nn.Module] = OrderedDict()
        for i, conv in enumerate(convs, start=1):
            stages[f"conv{i}"] = conv
            stages[f"relu{i}"] = nn.ReLU()
            if i % 2 == 0:
                stages[f"pool{i // 2}"] = nn.MaxPool2d(2)
        stages |= {"flatten": nn.Flatten(), "fc1": fc1, "relu7": nn.ReLU(), "fc2": fc2}
        stages |= {"relu8": nn.ReLU(), "out": out}
        super().__init__(stages)
        self.in_shape = tuple(in_shape)
