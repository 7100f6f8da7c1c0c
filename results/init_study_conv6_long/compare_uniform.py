"""Issue 22's phase 3 where Conv-6 learns: do the uniform inits behave as their normal twins
(the same variance: xavier's 2/(fan_in + fan_out), kaiming's 2/fan_in), and does xavier's lead
over kaiming hold in the uniform family too?

    python results/init_study_conv6_long/compare_uniform.py results/init_study_conv6_long/runs

At each level IMP reaches (100, 46.7, 22.1, 10.6, 5.2% of the weights): each init's mean test
accuracy at the round's early stop (95% t CI, n); then, paired by seed where both runs ran on
one machine, xavier_uniform − xavier_normal, kaiming_uniform − kaiming_normal and
xavier_uniform − kaiming_uniform, as mean [95% t CI], p, Holm over the table, MDD at 80% power
and pairs ("not testable" below 3 pairs or with no spread); then the same differences in each
run's change from its own dense round (a gap there before pruning is about training). The
tables are compare_regimes.py's, over these settings.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from compare_regimes import finished_rounds, report

LEVELS = (100.0, 46.7, 22.1, 10.6, 5.2)  # % weights remaining: the round nearest each
SETTINGS = {  # name -> (init, init.scale)
    init: (init, 1.0)
    for init in ("xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform")
}
DIFFERENCES = (
    ("xavier_uniform", "xavier_normal"),
    ("kaiming_uniform", "kaiming_normal"),
    ("xavier_uniform", "kaiming_uniform"),
)

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    rounds = finished_rounds([sys.argv[1]])
    name = "long regime (4,000 iterations a round)"
    report(name, rounds, "test_acc_at_early_stop", SETTINGS, DIFFERENCES, LEVELS)
