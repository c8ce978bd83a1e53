"""Retry timing: capped exponential backoff with full jitter, and a per-request limit.

Full jitter (a uniform delay in [0, min(cap, base * 2^n)]) spreads the retries of
requests that failed together, so they do not come back together. Retries are the
engine's alone: the Bedrock provider turns botocore's off so they do not multiply.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8  # per request, the first attempt included
    base_s: float = 1.0
    cap_s: float = 30.0

    def delay(self, failed_attempts: int, rng: random.Random) -> float:
        """Seconds to wait after the ``failed_attempts``-th failure (1-based)."""
        return rng.uniform(0.0, min(self.cap_s, self.base_s * 2 ** (failed_attempts - 1)))
