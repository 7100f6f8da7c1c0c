#!/usr/bin/env bash
# Re-make the reports, figures and slides of the studies committed before per-run snapshots, from
# their runs.csv (issue 27). Their run directories are gone, so the figures and findings that need
# each run's files (training curves, diagnostics, masks, θ0 predictors) cannot be re-made: the
# first analysis, made while the runs existed, moves whole into <study>/original/ (its report,
# slides, figures and the tables made from the run files), and the regenerated report lists what
# it leaves out and why. Tables that come out empty without the run files are not written.
# Usage (repository root, the package installed): bash results/regenerate_reports.sh
set -euo pipefail
cd "$(dirname "$0")/.."
STUDIES="conv6_precision_check custom_init_lenet init_scale_conv6 init_scale_lenet init_study_conv6
  init_study_lenet lth_lenet methods_conv6 methods_lenet methods_lenet_gmp_rigl"
declare -A OPTIONS=([custom_init_lenet]="--reference xavier_uniform")  # as first analysed
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for study in $STUDIES; do
  dir=results/$study
  if [ ! -d "$dir/original" ]; then
    mkdir "$dir/original"
    git mv "$dir/report.md" "$dir/slides.pptx" "$dir/figures" "$dir/original/"
    for table in diagnostics.csv mask_overlap.csv predictors.csv sizes.csv; do
      if [ -f "$dir/$table" ]; then git mv "$dir/$table" "$dir/original/"; fi
    done
  fi
  # shellcheck disable=SC2086  # the options are words
  python -m prune_ready.analyze "$dir/runs.csv" ${OPTIONS[$study]:-} --out "$scratch/$study" > "$scratch/$study.log"
  cmp "$scratch/$study/runs.csv" "$dir/runs.csv"  # read and written back unchanged
  rm -rf "$dir/figures"
  cp -r "$scratch/$study/figures" "$scratch/$study/report.md" "$scratch/$study/slides.pptx" "$dir/"
  for table in "$scratch/$study"/*.csv; do
    if [ "$(wc -l < "$table")" -gt 1 ]; then cp "$table" "$dir/"; fi
  done
  echo "$study: $(grep -c '^- The f' "$dir/report.md") figures and findings left out"
done
