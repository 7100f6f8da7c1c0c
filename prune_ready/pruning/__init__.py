"""Pruning: one mask mechanism (masks), score functions (methods), and the prune-and-rewind callback."""
