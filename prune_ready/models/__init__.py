"""The study's networks, one module each, and how any network describes itself
(`description`): a network is an ``nn.Sequential`` of known stages with an ``in_shape``.

The classes are importable from here (``prune_ready.models.LeNet300100``), the path every
run's config.yaml records as ``model.net._target_``.
"""

from prune_ready.models.conv6 import Conv6
from prune_ready.models.lenet_300_100 import LeNet300100

__all__ = ["Conv6", "LeNet300100"]
