"""The fixed example budget of the tenancy property tests (see ``strategies.py``).

``derandomize=True`` makes every run draw the same examples, so a failure reproduces and the
suite's length does not vary; ``deadline=None`` because live examples talk to a real server.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "tenancy",
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    # no shrinking: a failing live example is reported as drawn (shrinking would rerun it
    # against the server for minutes); derandomize makes it reproduce as it is
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
