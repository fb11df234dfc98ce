"""The Hypothesis profiles: ci keeps a test's own count, long multiplies it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hypothesis_budget import CI_EXAMPLES, LONG_FACTOR, PROFILE_ENV

ROOT = Path(__file__).resolve().parent.parent
SHOW = ("from hypothesis import settings; from tests.hypothesis_budget import examples, "
        "register_profiles; register_profiles(); "
        "print(examples(60), examples(1), settings.default.max_examples)")


@pytest.mark.parametrize(("profile", "factor"), [("", 1), ("ci", 1), ("long", LONG_FACTOR)])
def test_the_profile_from_the_environment_scales_every_count(profile: str, factor: int) -> None:
    env = {**os.environ, PROFILE_ENV: profile}
    done = subprocess.run([sys.executable, "-c", SHOW], capture_output=True, text=True,
                          cwd=ROOT, env=env, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(60 * factor), str(factor), str(CI_EXAMPLES * factor)]


def test_an_unknown_profile_is_refused() -> None:
    env = {**os.environ, PROFILE_ENV: "longest"}
    done = subprocess.run([sys.executable, "-c", SHOW], capture_output=True, text=True,
                          cwd=ROOT, env=env, check=False, timeout=120)
    assert done.returncode != 0 and "longest" in done.stderr
