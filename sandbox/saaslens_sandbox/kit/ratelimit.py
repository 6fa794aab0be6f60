"""Rate limits: fixed windows per endpoint bucket, the header families, ``Retry-After``.

A personality says which bucket a request counts against and the provider's documented limit for
it; the framework counts requests in fixed windows (:class:`FixedWindows`) and answers the
provider's own throttle response when a window is spent. Providers announce their budget in one
of a few header families (:func:`limit_headers`) or not at all (Google, Slack), and say when to
come back with ``Retry-After`` in seconds (RFC 9110 section 10.2.3, :func:`retry_after_seconds`).
"""

from __future__ import annotations

import threading
import time

from pydantic import BaseModel, ConfigDict, Field


class RateLimitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    """False: no limit, and no rate-limit headers (a benchmark of the client's own speed)."""
    scale: float = Field(default=1.0, gt=0.0)
    """Multiplies the provider's documented per-minute limits (e.g. 0.1 for tests/benchmarks)."""
    window_seconds: int = Field(default=60, ge=1)
    """Length of a rate-limit window. The ceiling per window is the documented per-minute limit x
    scale whatever the length, so a short window only makes resets come sooner."""


class FixedWindows:
    """Requests counted per bucket in fixed windows of ``window_seconds`` aligned to the epoch."""

    def __init__(self, window_seconds: int) -> None:
        self.window_seconds = window_seconds
        self._windows: dict[str, tuple[int, int]] = {}  # bucket -> (window start epoch s, count)
        self._lock = threading.Lock()

    def hit(self, bucket: str, limit: int) -> tuple[int, int, int, bool]:
        """Count one request: (limit, remaining, reset epoch, allowed)."""
        now = time.time()
        start = int(now // self.window_seconds) * self.window_seconds
        with self._lock:
            w_start, count = self._windows.get(bucket, (start, 0))
            if w_start != start:
                count = 0
            count += 1
            self._windows[bucket] = (start, count)
        remaining = max(0, limit - count)
        return limit, remaining, start + self.window_seconds, count <= limit

    def count(self, bucket: str) -> int:
        """Requests counted in ``bucket``'s current (or last) window."""
        with self._lock:
            return self._windows.get(bucket, (0, 0))[1]

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


def limit_headers(prefix: str, limit: int, remaining: int, reset_epoch: int) -> list[tuple[str, str]]:
    """The ``<prefix>Limit`` / ``Remaining`` / ``Reset`` (epoch seconds) family. Spellings differ:
    Okta ``X-Rate-Limit-`` (https://developer.okta.com/docs/reference/rl-best-practices/), GitHub
    ``x-ratelimit-`` (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api),
    the common unbranded ``X-RateLimit-``."""
    lower = prefix.islower()
    names = ("limit", "remaining", "reset") if lower else ("Limit", "Remaining", "Reset")
    return [(prefix + name, str(value)) for name, value in zip(names, (limit, remaining, reset_epoch), strict=True)]


def retry_after_seconds(reset_epoch: int, minimum: int = 1) -> int:
    """Whole seconds from now until ``reset_epoch`` (rounded up), at least ``minimum``."""
    return max(minimum, reset_epoch - int(time.time()))
