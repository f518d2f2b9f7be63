"""Shared test set-up: hypothesis profiles, "ci" when the CI variable is set, else "dev"."""

import os

from hypothesis import settings

# CI runs are derandomized so that a failure there reproduces exactly on a developer's machine.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True, max_examples=100)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
