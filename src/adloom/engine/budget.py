"""The budget: a request is sent only if its worst-case cost still fits.

Worst cases are reserved before sending and settled on the real cost, so what is
spent plus what is reserved never exceeds the limit, whatever is in flight. The
cost of answers reused from the journal counts too: the budget caps what the
campaign's answers cost, so a run killed and resumed cannot spend it twice.

Used by the engine's dispatcher alone, so it needs no lock.
"""

from __future__ import annotations

_EPS = 1e-9  # float sums of many small prices must not refuse an exact fit


class Budget:
    def __init__(self, limit_usd: float | None) -> None:
        self.limit = limit_usd
        self.spent = 0.0  # paid in this run
        self.prior = 0.0  # paid by earlier runs for answers this run reuses
        self.reserved = 0.0

    def reserve(self, amount: float) -> bool:
        committed = self.prior + self.spent + self.reserved
        if self.limit is not None and committed + amount > self.limit + _EPS:
            return False
        self.reserved += amount
        return True

    def settle(self, reserved: float, actual: float) -> None:
        self.reserved -= reserved
        self.spent += actual

    def reuse(self, cost: float) -> None:
        self.prior += cost
