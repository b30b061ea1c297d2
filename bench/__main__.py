"""`python -m bench`: the load benchmark (see bench/run.py)."""

from bench.run import main

raise SystemExit(main())
