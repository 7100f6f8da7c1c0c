"""Every pruning preset's ticket run gives the same rounds.csv and diagnostics.csv as it did
before the pruning code was split into parts (fixtures made at e3e5f56, the last commit with the
single PruneRewind class). Regenerate only for a change that is meant to alter results:
    python -m tests.test_preset_invariance
"""

import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from prune_ready import results
from prune_ready.train import CONF_DIR, train

FIXTURES = Path(__file__).parent / "fixtures" / "presets"
SMALL = (  # 600 training images, 500 validation and 1,000 test images: seconds a run
    "data.train_subset=600",
    "data.val_size=500",
    "data.test_subset=1000",
    "progress_bar=null",
)
EPOCHS = ("pruning.every_n_epochs=1", "pruning.rounds=2")
PAI = ("pruning.every_n_epochs=1", "pruning.density=0.05")
PRESETS: dict[str, tuple[str, ...]] = {
    "imp": ("pruning=imp", *EPOCHS),
    "imp_seed": ("pruning=imp_seed", *EPOCHS),
    "imp_prune_steps_2": ("pruning=imp", *EPOCHS, "pruning.prune_steps=2"),
    "imp_rewind_1": (
        "pruning=imp",
        "pruning.every_n_epochs=2",
        "pruning.rounds=2",
        "pruning.rewind=1",
    ),
    "imp_signed_constant": ("pruning=imp", *EPOCHS, "init=signed_constant"),
    "imp_sparse_kaiming": ("pruning=imp", *EPOCHS, "init=sparse_kaiming"),
    "lth": (
        "pruning=lth",
        "pruning.every_n_iterations=20",
        "pruning.eval_every_n_iterations=5",
        "pruning.rounds=2",
    ),
    "oneshot": ("pruning=oneshot", "pruning.every_n_epochs=1"),
    "none": ("pruning=none", "pruning.every_n_epochs=1"),
    "none_rounds_1": ("pruning=none", "pruning.every_n_epochs=1", "pruning.rounds=1"),
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
def test_preset_results_unchanged(name, data_root, tmp_path):
    run_preset(name, data_root, tmp_path)
    for file in COMPARED:
        expected = (FIXTURES / name / file).read_bytes()
        assert (tmp_path / file).read_bytes() == expected, f"{name}: {file} changed"


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
