"""The same workloads side by side on valuegrad and its peers, gradients checked first: see
README.md in this folder, and run them with `python -m benchmarks`."""
