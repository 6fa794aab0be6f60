"""Pace requests from the provider's own rate-limit headers.

Waiting for a 429 wastes a request and, at some providers, counts against the app; so the pacer
slows down *before* the limit: once less than half of a window's budget remains, it spreads the
remaining requests evenly over the time left, keeping a small reserve for other clients. The
server's counters already include other processes sharing the same credentials, so several
Airflow tasks of one instance pace each other without talking to each other.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class RateLimitHeaders:
    """Names of a provider's rate-limit headers and how it expresses the reset time."""

    limit: str = "X-Rate-Limit-Limit"
    remaining: str = "X-Rate-Limit-Remaining"
    reset: str = "X-Rate-Limit-Reset"
    reset_is_epoch: bool = True  # False: seconds until reset

    def read(self, response: httpx.Response, now: float) -> tuple[int, int, float] | None:
        try:
            limit = int(response.headers[self.limit])
            remaining = int(response.headers[self.remaining])
            reset_value = float(response.headers[self.reset])
        except (KeyError, ValueError):
            return None
        reset_at = reset_value if self.reset_is_epoch else now + reset_value
        return limit, remaining, reset_at


def retry_after_seconds(response: httpx.Response, headers: RateLimitHeaders | None, now: float) -> float | None:
    """How long the provider asked us to wait: Retry-After (seconds or HTTP date), else the reset."""
    value = response.headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - now)
    if headers is not None:
        state = headers.read(response, now)
        if state is not None:
            return max(0.0, state[2] - now)
    return None


@dataclass
class _Bucket:
    limit: int
    remaining: int
    reset_at: float


class RateLimitPacer:
    """Per-bucket pacing. Thread-safe: connector fan-out shares one pacer per client."""

    def __init__(
        self,
        headers: RateLimitHeaders,
        *,
        reserve_fraction: float = 0.02,
        pace_below_fraction: float = 0.5,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.headers = headers
        self.reserve_fraction = reserve_fraction
        self.pace_below_fraction = pace_below_fraction
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self.total_wait = 0.0

    def delay_for(self, bucket: str) -> float:
        """Seconds to wait before the next request in `bucket`, and book that request."""
        now = self._clock()
        with self._lock:
            state = self._buckets.get(bucket)
            if state is None or state.reset_at <= now:
                return 0.0
            reserve = max(1, int(state.limit * self.reserve_fraction))
            time_left = state.reset_at - now
            if state.remaining <= reserve:
                delay = time_left + random.uniform(0.05, 0.25)  # jitter so waiting tasks don't stampede
                # The window after the reset is unknown until a response tells us.
                self._buckets.pop(bucket, None)
                return delay
            state.remaining -= 1  # book it, so concurrent threads don't all see the same budget
            if state.remaining + 1 >= state.limit * self.pace_below_fraction:
                return 0.0
            return time_left / max(1, state.remaining + 1 - reserve)

    def before_request(self, bucket: str) -> None:
        delay = self.delay_for(bucket)
        if delay > 0:
            self.total_wait += delay
            self._sleep(delay)

    def observe(self, bucket: str, response: httpx.Response) -> None:
        now = self._clock()
        state = self.headers.read(response, now)
        if state is None:
            return
        limit, remaining, reset_at = state
        with self._lock:
            current = self._buckets.get(bucket)
            # Responses from concurrent requests arrive out of order: within one window the
            # smallest remaining is the freshest truth.
            if current is not None and abs(current.reset_at - reset_at) < 1 and current.remaining < remaining:
                return
            self._buckets[bucket] = _Bucket(limit=limit, remaining=remaining, reset_at=reset_at)
