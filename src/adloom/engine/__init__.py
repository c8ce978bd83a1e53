"""The fan-out engine: concurrency, per-model pacing, retries, budget and journal.

core     Engine: lanes per model, one dispatcher, worker threads, the journal
pacing   Pacer: a smooth per-model rate under the quota, adapted to throttles
quotas   Quota(s): per-model tokens/images per minute: settings, account, registry
retry    RetryPolicy: capped exponential backoff with full jitter
budget   Budget: worst-case reservation against max_cost_usd
workers  Workers: daemon threads that can be abandoned on Ctrl-C
"""

from adloom.engine.budget import Budget
from adloom.engine.core import Engine, ModelPace, Outcome, Runner, Stats
from adloom.engine.pacing import Clock, Pacer, ScaledClock, SystemClock
from adloom.engine.quotas import Account, Applied, Quota, Quotas, Source
from adloom.engine.retry import RetryPolicy
from adloom.values import DEFAULT_CONCURRENCY

__all__ = [
    "DEFAULT_CONCURRENCY",
    "Account",
    "Applied",
    "Budget",
    "Clock",
    "Engine",
    "ModelPace",
    "Outcome",
    "Pacer",
    "Quota",
    "Quotas",
    "RetryPolicy",
    "Runner",
    "ScaledClock",
    "Source",
    "Stats",
    "SystemClock",
]
