"""What a run adds around the pruning method: the recorders that write its directory, the
branches that train a finished ticket's masks (the controls), and `callbacks`, which assembles
them with the pruning core for one run. prune_ready.pruning knows none of them."""
