"""Retries for one logical request: which errors are retried, how long to wait, when to give up.

Built on tenacity. A throttle's own Retry-After is honoured (with jitter, so parallel workers do not
return together); anything else backs off exponentially with jitter.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay

from saaslens.http.errors import ApiError, ThrottledError, ThrottleWaitTooLongError
from saaslens.http.metrics import RunMetrics

log = logging.getLogger("saaslens.http.client")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    max_elapsed_seconds: float = 900.0
    initial_backoff: float = 0.5
    max_backoff: float = 60.0
    max_throttle_wait: float = 300.0


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ApiError) and exc.retryable


def is_throttle(exc: BaseException) -> bool:
    return isinstance(exc, ThrottledError) and exc.retryable


class Retrier:
    """Runs a request function under a RetryPolicy, counting retries in the run's metrics."""

    def __init__(self, policy: RetryPolicy, metrics: RunMetrics, sleep: Callable[[float], None]) -> None:
        self.policy = policy
        self.metrics = metrics
        self._sleep = sleep

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ThrottledError) and exc.retry_after is not None:
            return min(exc.retry_after + random.uniform(0.05, 0.5), self.policy.max_throttle_wait)
        backoff = self.policy.initial_backoff * 2.0 ** (state.attempt_number - 1)
        return min(self.policy.max_backoff, backoff) * random.uniform(0.5, 1.5)

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.metrics.add(retries=1)
        wait = state.next_action.sleep if state.next_action else 0
        log.warning("retrying in %.1fs after attempt %d: %s", wait, state.attempt_number, exc)

    def retrying(self, *, only_throttles: bool = False) -> Retrying:
        """A retry loop for one request; `only_throttles` retries only answers saying the request
        was not acted on (ThrottledError), for changes that must not be sent twice."""
        return Retrying(
            retry=retry_if_exception(is_throttle if only_throttles else is_retryable),
            stop=stop_after_attempt(self.policy.max_attempts) | stop_after_delay(self.policy.max_elapsed_seconds),
            wait=self._wait,
            before_sleep=self._before_sleep,
            sleep=self._sleep,
            reraise=True,
        )

    def too_long_a_wait(self, exc: ThrottledError) -> ThrottleWaitTooLongError | None:
        """A throttle asking for longer than the cap fails at once: sleeping the cap again and
        again would hold the task for hours and still not reach the provider's time."""
        cap = self.policy.max_throttle_wait
        if exc.retry_after is None or exc.retry_after <= cap:
            return None
        return ThrottleWaitTooLongError(
            f"provider asked to wait {exc.retry_after:.0f} s, more than max_throttle_wait_seconds={cap:g}; "
            f"rerun later or raise the option ({exc.detail})",
            retry_after=exc.retry_after,
            **exc.context,
        )
