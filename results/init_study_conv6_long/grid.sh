#!/usr/bin/env bash
# The worker of issue 22's Conv-6 grid, in the order its runs are wanted (seeds outermost, so an
# interrupted grid has every setting at fewer seeds). Run it from a git worktree checked out at
# the commit results/init_study_conv6_long/README.md names; run it again after any stop: finished
# runs are skipped and an unfinished one resumes from its last completed round.
set -euo pipefail
export PRUNE_READY_THREADS=1 PRUNE_READY_DATA="${PRUNE_READY_DATA:-../shared/data}"
train() { python -m prune_ready.train -m "$@" paths.output_root=outputs; }
for seed in 0 1 2; do  # phase 1: the three settings the issue asks for
  train +experiment=init_study_conv6_long seed="$seed" init=kaiming_normal,xavier_normal
  train +experiment=init_scale_conv6_long seed="$seed"
done
for seed in 0 1 2; do  # phase 2: pruning at initialisation to IMP's last level
  train +experiment=methods_conv6_long_pai seed="$seed"
done
for seed in 0 1 2; do  # phase 3, if the budget allows: the uniform inits
  train +experiment=init_study_conv6_long seed="$seed" init=xavier_uniform,kaiming_uniform
done
