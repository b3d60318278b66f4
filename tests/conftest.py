"""Shared pytest configuration for deid's suite.

Hypothesis example counts are bounded so `make test` stays fast; `make fuzz` raises them through
the DEID_FUZZ_EXAMPLES environment variable.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_EXAMPLES = int(os.environ.get("DEID_FUZZ_EXAMPLES", "0") or 0)

settings.register_profile(
    "deid-ci",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deid-fuzz",
    max_examples=max(_EXAMPLES, 100),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("deid-fuzz" if _EXAMPLES else "deid-ci")
