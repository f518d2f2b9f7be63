"""`python -m benchmarks`: run every workload and write results.md and results.csv.

Every system runs on one thread (BLAS, OpenMP and XLA pools pinned through the
environment): on a small machine the idle threads of one system, spinning after
its run, would steal the cores from the next one, and CPU time would count a
system's threads several times over. `--default-threads` opts out.

Every system runs with the same glibc malloc settings, which keep freed memory
in the process instead of handing it back to the system at once. Without them
each fresh array can page-fault on its first touch, which on some virtual
machines costs more than the arithmetic and drowns the differences between
systems. glibc reads them at start-up, so the runner starts itself again with
them set (the worker processes inherit them); `--default-malloc` opts out.
"""

import os
import sys

from benchmarks.machine import ONE_THREAD, TUNED_MALLOC

# Both are read when the libraries load, so the runner starts itself again with them set.
wanted = {
    **({} if "--default-malloc" in sys.argv else TUNED_MALLOC),
    **({} if "--default-threads" in sys.argv else ONE_THREAD),
}
if any(os.environ.get(k) != v for k, v in wanted.items()):
    env = {**os.environ, **wanted}
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks", *sys.argv[1:]], env)

from benchmarks.runner import main  # noqa: E402 - after the re-start above

raise SystemExit(main())
