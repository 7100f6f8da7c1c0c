#!/usr/bin/env bash
# The worker of issue 24's study under SGD, seeds outermost (an interrupted grid has every
# setting at fewer seeds). Run it from a git worktree checked out at the commit
# results/init_study_lenet_sgd/README.md names; run it again after any stop: finished runs are
# skipped and an unfinished one resumes from its last completed round.
set -euo pipefail
export PRUNE_READY_THREADS=1 PRUNE_READY_DATA="${PRUNE_READY_DATA:-../shared/data}"
train() { python -m prune_ready.train -m "$@" paths.output_root=outputs; }
for seed in 0 1 2 3 4 5 6 7; do
  train +experiment=init_study_lenet_sgd seed="$seed"
  train +experiment=init_scale_lenet_sgd seed="$seed" init.scale=0.25,0.5,2.0
done
