#!/usr/bin/env bash
# Issue 24's step 6 under SGD, after the rule (README) chose on seeds 0-7: signed_constant against
# the best standard init, xavier_uniform, on fresh seeds 8-15; and Adam's kaiming_normal on seeds
# 0-7 on the SGD grid's machine, for question (c) (SGD's ticket against Adam's, paired by seed).
# Run from the grid's worktree (one or two workers: a run another worker holds is skipped).
set -euo pipefail
export PRUNE_READY_THREADS=1 PRUNE_READY_DATA="${PRUNE_READY_DATA:-../shared/data}"
train() { python -m prune_ready.train -m "$@" paths.output_root=outputs; }
train +experiment=init_study_lenet_sgd seed=8,9,10,11,12,13,14,15 init=signed_constant,xavier_uniform
train +experiment=init_study_lenet seed=0,1,2,3,4,5,6,7 init=kaiming_normal
