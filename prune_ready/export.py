"""python -m prune_ready.export RUN [options]: the exporter's command line.

It is parsed, and bad input refused, by prune_ready.cli before torch loads (seconds), so that
--help answers at once; the work is prune_ready.exporter's. This module stays this small: what
`python -m` runs is imported in full before anything is parsed.
"""

from prune_ready.cli import export as main

if __name__ == "__main__":
    main()
