"""`python -m benchmarks`: run every workload and write results.md and results.csv."""

from benchmarks.runner import main

raise SystemExit(main())
