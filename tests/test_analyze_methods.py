"""The analysis of a sweep that compares pruning methods (step 7's shape: `methods_*_pai`): two
real inits pruned at initialisation by SNIP and by SynFlow to one density and trained on for a
second round there, so two settings share the sparsest level, each line holds it twice and every
per-line table holds each line once per method and round."""

from pathlib import Path

import pytest

from prune_ready.analyze import labels
from prune_ready.analyze.compute.stats import LEVEL
from prune_ready.analyze.pipeline import analyze as analyze_sweep
from prune_ready.analyze.write.findings import omitted
from tests.conftest import built_once
from tests.helpers import in_process

METHODS = ("snip", "synflow")


@pytest.fixture(scope="session")
def methods_sweep(data_root, tmp_path_factory) -> Path:
    """kaiming_normal and xavier_normal × SNIP and SynFlow, seed 0, two 1-epoch rounds on 300
    real MNIST images (4 runs), built once for all workers (read, never written)."""
    with built_once(tmp_path_factory, "methods-sweep") as (root, done):
        if not done:
            result = in_process(
                "-m",
                "init=kaiming_normal,xavier_normal",
                f"pruning={','.join(METHODS)}",
                "seed=0",
                "data.train_subset=300",
                "data.test_subset=500",
                "pruning.round_length=1ep",
                "pruning.rounds=1",
                "progress_bar=null",
                "logger=none",
                f"paths.output_root={root / 'outputs'}",
                data_root=data_root,
                cwd=root,
            )
            assert result.returncode == 0, result.stderr[-3000:]
    return root / "outputs" / "default"


def test_settings_that_share_their_one_level_are_compared_within_each(methods_sweep, tmp_path):
    """Per method, its last round at the level (the most trained); no agreement finding over
    the one level and no change from dense; the heatmap a column per round. The dead-units
    finding used to look the lines up across both methods at once, and the heatmap across both
    rounds, each stopping the whole analysis with a TypeError or ValueError."""
    analysis, found, _ = analyze_sweep([methods_sweep], tmp_path / "out")
    (part,) = analysis.parts()
    differences = part.table("differences")
    assert sorted(zip(differences["pruning"], differences["round"], strict=True)) == [
        (method, round_) for method in METHODS for round_ in (0, 1)
    ]
    assert differences[LEVEL].nunique() == 1
    last = differences[differences["round"] == 1]
    level = labels.level(last[LEVEL].iloc[0])
    # one level: how far down the lines stay close has nothing to add to the sparsest finding
    assert [o.why for o in omitted(part) if "stay within" in o.what] == [
        f"the lines meet at one level only, {level}, where the finding on the sparsest level "
        "compares them"
    ]
    # round 0 is already pruned: no dense round to measure a change from
    assert part.table("dense").empty
    assert not [f for f in found[part.name] if "from dense" in f.title]
    (sparsest,) = [f for f in found[part.name] if f.title.startswith(f"Best at {level}")]
    for _, row in last.iterrows():
        assert (
            f"pruning={row['pruning']}: at {level} weights remaining (the sparsest), "
            f"{row['reference']} reaches {labels.acc(row['reference_mean'])}"
        ) in sparsest.text.replace("Pruning=", "pruning=")
    assert len(list((tmp_path / "out" / "figures").glob("*-differences.png"))) == 1
    chosen = last.loc[last["diff"].idxmin()]
    health = part.table("health_summary")
    health = health[(health["pruning"] == chosen["pruning"]) & (health["round"] == 1)]
    dead = health.set_index("init")["dead_hidden_pct_mean"]
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
