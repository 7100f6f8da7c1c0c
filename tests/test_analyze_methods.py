"""The analysis of a sweep that compares pruning methods (step 7's shape: `methods_*_pai`): two
real inits pruned at initialisation by SNIP and by SynFlow to one density, so two settings share
the sparsest level and every per-line table holds each line once per method."""

from pathlib import Path

import pytest

from prune_ready.analyze import labels
from prune_ready.analyze.compute.stats import LEVEL
from prune_ready.analyze.pipeline import analyze as analyze_sweep
from prune_ready.analyze.write.findings import omitted
from tests.conftest import built_once
from tests.helpers import cli

METHODS = ("snip", "synflow")


@pytest.fixture(scope="session")
def methods_sweep(data_root, tmp_path_factory) -> Path:
    """kaiming_normal and xavier_normal × SNIP and SynFlow, seed 0, one 1-epoch round on 300
    real MNIST images (4 runs), built once for all workers (read, never written)."""
    with built_once(tmp_path_factory, "methods-sweep") as (root, done):
        if not done:
            result = cli(
                "-m",
                "init=kaiming_normal,xavier_normal",
                f"pruning={','.join(METHODS)}",
                "seed=0",
                "data.train_subset=300",
                "data.test_subset=500",
                "pruning.round_length=1ep",
                "progress_bar=null",
                "logger=none",
                f"paths.output_root={root / 'outputs'}",
                data_root=data_root,
                cwd=root,
            )
            assert result.returncode == 0, result.stderr[-3000:]
    return root / "outputs" / "default"


def test_settings_that_share_their_one_level_are_compared_within_each(methods_sweep, tmp_path):
    """The sparsest finding per method, no agreement finding over the one level. The dead-units
    finding used to look the lines up across both methods at once and stop the whole analysis
    with a TypeError; now it takes the method whose lines lie furthest apart at the sparsest
    level and that method's own numbers."""
    analysis, found, _ = analyze_sweep([methods_sweep], tmp_path / "out")
    (part,) = analysis.parts()
    differences = part.table("differences")
    assert sorted(differences["pruning"]) == sorted(METHODS)  # one comparison per method
    chosen = differences.loc[differences["diff"].idxmin()]
    level = labels.level(chosen[LEVEL])
    # one level: how far down the lines stay close has nothing to add to the sparsest finding
    assert [o.why for o in omitted(part) if "stay within" in o.what] == [
        f"the lines meet at one level only, {level}, where the finding on the sparsest level "
        "compares them"
    ]
    titles = [f.title for f in found[part.name]]
    assert not [t for t in titles if t.startswith(("Already at", "Down to"))]
    assert titles[0].startswith(f"Best at {level} in each setting")  # the sparsest finding
    health = part.table("health_summary")
    dead = health[health["pruning"] == chosen["pruning"]].set_index("init")["dead_hidden_pct_mean"]
    best, worst = f"{dead[chosen['reference']]:.1f}", f"{dead[chosen['line']]:.1f}"
    setting = f"pruning={chosen['pruning']}"
    if best == worst:  # one tenth of a per cent apart at most: nothing to say, and it says why
        assert [o.why for o in omitted(part) if "dead units" in o.what] == [
            f"both leave {best}% of hidden units dead at the sparsest level ({setting})"
        ]
        return
    (finding,) = [f for f in found[part.name] if f.figure == "dead-units"]
    assert finding.title == (
        f"At the sparsest level ({setting}), {chosen['reference']} keeps {best}% dead units, "
        f"{chosen['line']} {worst}%"
    )
    assert finding.text.startswith(
        f"At {level} weights remaining ({setting}; means over seeds), {chosen['reference']} leaves "
        f"{best}% of hidden units dead against {worst}% for {chosen['line']};"
    )
    assert (tmp_path / "out" / "report.md").is_file()
