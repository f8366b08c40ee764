"""Hypothesis profiles: ``default`` (fast) and ``ci`` (heavier), picked by HYPOTHESIS_PROFILE."""

import os

from hypothesis import settings

settings.register_profile("default", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=400, deadline=None, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
