"""Plan-tier quotas of the emulator, off by default and set per tenant.

* ``memory_cap``: at most this many memories (stored plus queued); the next create gets
  ``403 TIER_MEMORY_CAP_REACHED``.
* ``weekly_creates``: at most this many creates per ISO week (Monday 00:00 UTC); the next one
  gets ``429 TIER_WEEKLY_QUOTA_REACHED`` with ``next_weekly_reset_at``.

Example:
    >>> from datetime import datetime, timezone
    >>> week_start(datetime(2026, 3, 14, 12, tzinfo=timezone.utc)).isoformat()
    '2026-03-09T00:00:00+00:00'
    >>> QuotaConfig(memory_cap=2).memory_cap
    2
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from .errors import EmulatorQuotaExceeded
from .json_types import NonNegativeJsonInt
from .storage import Store, iso, now

__all__ = ["QuotaConfig", "enforce_quota", "next_weekly_reset", "week_start"]


class QuotaConfig(BaseModel):
    """Limits for one tenant; ``None`` means unlimited."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    memory_cap: NonNegativeJsonInt | None = None
    weekly_creates: NonNegativeJsonInt | None = None


def week_start(now: datetime) -> datetime:
    """Monday 00:00 of the week containing ``now`` (same timezone)."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def next_weekly_reset(now: datetime) -> datetime:
    """When the weekly create quota resets next."""
    return week_start(now) + timedelta(days=7)


def enforce_quota(quota: QuotaConfig, store: Store, tenant: str) -> None:
    """Raise :class:`~.errors.EmulatorQuotaExceeded` if one more create would pass ``quota``
    (call with the store lock held, before queueing the job)."""
    if quota.memory_cap is not None:
        held = store.count_memories(tenant) + store.count_open_jobs(tenant)
        if held >= quota.memory_cap:
            raise EmulatorQuotaExceeded(
                f"memory cap of {quota.memory_cap} reached: delete memories or upgrade "
                "the plan before creating more",
                status=403,
                code="TIER_MEMORY_CAP_REACHED",
                memory_cap=quota.memory_cap,
            )
    if quota.weekly_creates is not None:
        when = now()
        if store.count_jobs_since(tenant, iso(week_start(when))) >= quota.weekly_creates:
            raise EmulatorQuotaExceeded(
                f"weekly create quota of {quota.weekly_creates} reached; it resets at "
                f"next_weekly_reset_at",
                status=429,
                code="TIER_WEEKLY_QUOTA_REACHED",
                next_weekly_reset_at=iso(next_weekly_reset(when)),
                weekly_creates=quota.weekly_creates,
            )
