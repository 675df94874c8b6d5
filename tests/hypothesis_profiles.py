"""Hypothesis example counts: the full suite (``make test``) keeps each test's own count; the fast
loop (``make test-fast`` sets ``HYPOTHESIS_PROFILE=fast``) runs a tenth of it, at least the fast
profile's ``max_examples``. The profiles are registered and loaded in ``tests/conftest.py``."""

from __future__ import annotations

import os

from hypothesis import settings

FAST = "fast"
settings.register_profile(FAST, max_examples=25)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def examples(full: int) -> int:
    """``full`` examples, or fewer under the fast profile."""
    if settings.get_current_profile_name() != FAST:
        return full
    return min(full, max(settings.get_profile(FAST).max_examples, full // 10))
