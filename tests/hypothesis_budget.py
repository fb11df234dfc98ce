"""How many examples a property runs under the chosen Hypothesis profile.

Profiles (registered in ``tests/conftest.py``): ``ci``, the default, runs each property the
count its test names (and Hypothesis's 100 where it names none); ``long`` runs ten times as
many. Choose one with ``--hypothesis-profile long`` or ``INCIDENT_HYPOTHESIS_PROFILE=long``.
A test that fixes its own count writes ``settings(max_examples=examples(60))``, so the long
run scales it too (a plain ``max_examples=60`` would override the profile).
"""

from __future__ import annotations

import os

from hypothesis import settings

PROFILE_ENV = "INCIDENT_HYPOTHESIS_PROFILE"
CI_EXAMPLES = 100  # Hypothesis's default max_examples: the ci profile keeps it
LONG_FACTOR = 10


def register_profiles() -> None:
    """Register ``ci`` and ``long``; load the one named by the environment (``ci`` if none).
    ``--hypothesis-profile`` (Hypothesis's pytest option) still wins over the environment."""
    settings.register_profile("ci", max_examples=CI_EXAMPLES)
    settings.register_profile("long", max_examples=CI_EXAMPLES * LONG_FACTOR)
    settings.load_profile(os.environ.get(PROFILE_ENV, "").strip() or "ci")


def examples(count: int) -> int:
    """``count`` under the ci profile, scaled by the loaded profile's share of it."""
    return max(1, count * settings.default.max_examples // CI_EXAMPLES)
