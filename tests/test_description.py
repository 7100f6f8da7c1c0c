"""A network describes itself: the plan, kinds and input shape read off its stages, and the
networks prune_ready cannot follow refused in one line."""

from collections import OrderedDict

import pytest
from torch import nn

from prune_ready.compact import compactable_plan
from prune_ready.errors import UserError
from prune_ready.models import Conv6, LeNet300100
from prune_ready.models.description import describe


def sequential(in_shape: tuple[int, int, int], **stages: nn.Module) -> nn.Sequential:
    net = nn.Sequential(OrderedDict(stages))
    net.in_shape = in_shape
    return net


def test_the_studys_networks_describe_their_forward_passes():
    lenet = describe(LeNet300100((1, 28, 28)))
    assert lenet.plan == ("flatten", "fc1", "relu", "fc2", "relu", "out")
    assert lenet.in_shape == (1, 28, 28)
    conv6 = describe(Conv6((3, 32, 32)))
    block = lambda a, b: (a, "relu", b, "relu", "pool")  # noqa: E731
    assert conv6.plan == (
        *block("conv1", "conv2"),
        *block("conv3", "conv4"),
        *block("conv5", "conv6"),
        *("flatten", "fc1", "relu", "fc2", "relu", "out"),
    )
    assert conv6.in_shape == (3, 32, 32)
    assert compactable_plan(lenet) == lenet.plan and compactable_plan(conv6) == conv6.plan


@pytest.mark.parametrize(
    ("net", "message"),
    [
        (nn.Linear(4, 2), "cannot describe network Linear: prune_ready takes an nn.Sequential"),
        (
            sequential((1, 2, 2), flatten=nn.Flatten(), bn=nn.BatchNorm1d(4), out=nn.Linear(4, 2)),
            r"stage bn \(BatchNorm1d.*\) is not one prune_ready knows",
        ),
        (
            sequential((1, 4, 4), c=nn.Conv2d(1, 2, 3), relu=nn.ReLU()),
            "c must be a 'same' convolution",
        ),
        (
            sequential((1, 4, 4), c=nn.Conv2d(1, 2, 3, padding=1), p=nn.MaxPool2d(3)),
            r"stage p .* is not one prune_ready knows",
        ),
        (sequential((1, 2, 2), flatten=nn.Flatten(), relu=nn.Linear(4, 2)), "may not be named"),
        (sequential((1, 2, 2), flatten=nn.Flatten()), "it has no Linear output layer"),
    ],
)
def test_what_cannot_be_described_is_refused_in_one_line(net, message):
    with pytest.raises(UserError, match=message):
        describe(net)


def test_compaction_refuses_a_forward_it_cannot_follow():
    """A ReLU after the output layer would change the logits compaction computes."""
    relu_out = sequential((1, 2, 2), f=nn.Flatten(), fc=nn.Linear(4, 3), out=nn.Linear(3, 2))
    relu_out.add_module("relu", nn.ReLU())
    network = describe(relu_out)
    assert network.plan == ("flatten", "fc", "out", "relu")
    with pytest.raises(UserError, match="cannot compact a network whose forward is flatten fc"):
        compactable_plan(network)
