"""`python -m benchmarks`: see README.md in this folder."""

from benchmarks.runner import main

raise SystemExit(main())
