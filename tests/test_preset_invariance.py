"""Every pruning preset's ticket run gives the same rounds.csv and diagnostics.csv as it did
before the pruning code was split into parts (fixtures made at e3e5f56, the last commit with the
single PruneRewind class). Regenerate only for a change that is meant to alter results:
    python -m tests.test_preset_invariance

The runs use 2 torch threads, as the fixtures did: the thread count splits the sums of a matmul
differently, and after a pruning step a weight near the threshold can then fall on the other side
(1 thread gives other accuracies from round 1 on). On the machine that made the fixtures the
files come out byte-identical. Another CPU (another SIMD width, so other kernels and summation
orders) changes the last printed digit of a loss or a diagnostic now and then (seen in CI:
0.498183 vs 0.498182), so numbers are compared to a relative 1e-4 and everything else exactly: a
real change (another mask, another random stream) moves accuracies and losses by far more.
"""

import csv
import math
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from prune_ready import results
from prune_ready.train import CONF_DIR, train

FIXTURES = Path(__file__).parent / "fixtures" / "presets"
SMALL = (  # 600 training images, 500 validation images and the full test set: seconds a run
    "threads=2",  # the fixtures' thread count: another one sums in another order (see above)
    "data.train_subset=600",
    "data.val_size=500",
    "progress_bar=null",
)
EPOCHS = ("pruning.round_length=1ep", "pruning.rounds=2")
PAI = ("pruning.round_length=1ep", "pruning.target.density=0.05")
PRESETS: dict[str, tuple[str, ...]] = {
    "imp": ("pruning=imp", *EPOCHS),
    "imp_seed": ("pruning=imp_seed", *EPOCHS),
    "imp_prune_steps_2": ("pruning=imp", *EPOCHS, "pruning.target.steps=2"),
    "imp_rewind_1": (
        "pruning=imp",
        "pruning.round_length=2ep",
        "pruning.rounds=2",
        "pruning.reset.to=1ep",
    ),
    "imp_signed_constant": ("pruning=imp", *EPOCHS, "init=signed_constant"),
    "imp_sparse_kaiming": ("pruning=imp", *EPOCHS, "init=sparse_kaiming"),
    "lth": (
        "pruning=lth",
        "pruning.round_length=20it",
        "pruning.eval_every=5it",
        "pruning.rounds=2",
    ),
    "oneshot": ("pruning=oneshot", "pruning.round_length=1ep"),
    "none": ("pruning=none", "pruning.round_length=1ep"),
    "none_rounds_1": ("pruning=none", "pruning.round_length=1ep", "pruning.rounds=1"),
    "magnitude_global": ("pruning=magnitude_global", *EPOCHS),
    "finetune": ("pruning=finetune", *EPOCHS),
    "snip": ("pruning=snip", *PAI),
    "snip_signed_constant": ("pruning=snip", *PAI, "init=signed_constant"),
    "grasp": ("pruning=grasp", *PAI),
    "synflow": ("pruning=synflow", *PAI),
    "random_layerwise": ("pruning=random_layerwise", *PAI),
    "random_global": ("pruning=random_global", *PAI),
}
COMPARED = (results.ROUNDS, results.DIAGNOSTICS)


def run_preset(name: str, data_root: Path, run_dir: Path) -> None:
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=[f"data.root={data_root}", *SMALL, *PRESETS[name]])
    train(cfg, run_dir)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_results_unchanged(name, preset_run):
    run_dir = preset_run(name)
    for file in COMPARED:
        expected, got = read(FIXTURES / name / file), read(run_dir / file)
        assert got[0] == expected[0], f"{name}: {file}'s columns changed"
        assert len(got) == len(expected), f"{name}: {file} has {len(got)} rows"
        for row, (a, b) in enumerate(zip(got[1:], expected[1:], strict=True), start=1):
            for column, x, y in zip(expected[0], a, b, strict=True):
                assert same(x, y), f"{name}: {file} row {row} {column}: {x} != {y}"


def read(path: Path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


def same(x: str, y: str) -> bool:
    """Equal text, or numbers equal to a relative 1e-4 (see the module docstring)."""
    if x == y:
        return True
    try:
        return math.isclose(float(x), float(y), rel_tol=1e-4)
    except ValueError:
        return False


if __name__ == "__main__":
    import shutil
    import tempfile

    from tests.conftest import find_data_root

    for preset in sys.argv[1:] or sorted(PRESETS):
        with tempfile.TemporaryDirectory() as tmp:
            run_preset(preset, find_data_root(), Path(tmp))
            (FIXTURES / preset).mkdir(parents=True, exist_ok=True)
            for file in COMPARED:
                shutil.copyfile(Path(tmp) / file, FIXTURES / preset / file)
        print(preset, "->", FIXTURES / preset)
