"""prune-ready: does weight initialisation change how well a network survives pruning?"""

__version__ = "0.1.0"
