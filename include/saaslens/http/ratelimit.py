"""Pace requests from the provider's own rate-limit headers.

Waiting for a 429 wastes a request and, at some providers, counts against the app; so the pacer
slows down *before* the limit: once less than half of a window's budget remains, it spreads the
rest evenly over the time left, giving each request its own time slot (threads sleeping at once
would otherwise all wake and fire together), and keeps a small reserve for other clients. When
only the reserve is left, every caller waits for the reset.

The server's counters already include other processes sharing the same credentials, so several
Airflow tasks of one instance pace each other without talking to each other: each spreads what
the server says remains, so together they slow down as it shrinks, and a request whose slot comes
after the budget ran out (others spent it meanwhile) waits for the reset instead of drawing a 429.
Requests this process has started but not yet heard back from are counted against the budget,
since the server's figure may not include them yet.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from saaslens.http.errors import ThrottleWaitTooLongError


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
    remaining: int  # the server's figure: the smallest seen in this window is the freshest
    reset_at: float
    counted_until: float  # our requests sent before this had reached the server's figure
    last_slot: float = 0.0  # when the latest booked request goes out (or a response came in)


class RateLimitPacer:
    """Per-bucket pacing. Thread-safe: connector fan-out shares one pacer per client.

    Every `before_request` must be followed, in the same thread, by `observe` (a response
    arrived) or `abandon` (the request failed without one), so the requests still on their way
    are known exactly: those sent after the request that brought the server's latest figure are
    not in it yet, and are taken off the budget here.
    """

    def __init__(
        self,
        headers: RateLimitHeaders,
        *,
        reserve_fraction: float = 0.02,
        pace_below_fraction: float = 0.5,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 300.0,
    ) -> None:
        """`max_wait` is the longest single wait (the client's `max_throttle_wait`): a window
        whose reset lies further ahead fails the request at once instead of sleeping."""
        self.headers = headers
        self.max_wait = max_wait
        self.reserve_fraction = reserve_fraction
        self.pace_below_fraction = pace_below_fraction
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}
        self._pending: dict[str, list[float]] = {}  # send times of requests booked or in flight
        self._mine = threading.local()  # this thread's booked request: (bucket, send time)
        self._lock = threading.Lock()
        self.total_wait = 0.0

    # -- bookkeeping (call with the lock held) ------------------------------------------------

    def _reserve(self, state: _Bucket) -> int:
        return max(1, int(state.limit * self.reserve_fraction))

    def _current(self, bucket: str, now: float) -> _Bucket | None:
        state = self._buckets.get(bucket)
        return state if state is not None and state.reset_at > now else None

    def _unspent(self, bucket: str, state: _Bucket) -> int:
        """What the window still allows once our requests the server has not counted yet go."""
        uncounted = sum(1 for sent in self._pending.get(bucket, ()) if sent >= state.counted_until)
        return state.remaining - uncounted

    def _book(self, bucket: str, send_at: float) -> None:
        self._pending.setdefault(bucket, []).append(send_at)
        self._mine.booked = (bucket, send_at)

    def _release_mine(self, bucket: str) -> float | None:
        booked: tuple[str, float] | None = getattr(self._mine, "booked", None)
        self._mine.booked = None
        if booked is None or booked[0] != bucket:
            return None
        pending = self._pending.get(bucket, [])
        if booked[1] in pending:
            pending.remove(booked[1])
        return booked[1]

    # -- deciding -----------------------------------------------------------------------------

    def _decide(self, bucket: str) -> tuple[float, bool]:
        """(seconds to wait, whether the request is booked). A booked request goes after the
        wait; an unbooked wait is for the reset, after which it decides again."""
        now = self._clock()
        with self._lock:
            state = self._current(bucket, now)
            if state is None:  # nothing known about this window yet
                self._book(bucket, now)
                return 0.0, True
            unspent = self._unspent(bucket, state)
            reserve = self._reserve(state)
            if unspent <= reserve:
                return state.reset_at - now + random.uniform(0.05, 0.25), False  # jitter: no stampede
            if unspent >= state.limit * self.pace_below_fraction:
                state.last_slot = max(state.last_slot, now)
                self._book(bucket, now)
                return 0.0, True
            # Spread what is left evenly over the time after the slots already booked; the last
            # slot stays one interval short of the reset, so it still lands in this window.
            base = max(now, state.last_slot)
            slot = base + max(0.0, state.reset_at - base) / (unspent - reserve + 1)
            state.last_slot = slot
            self._book(bucket, slot)
            return slot - now, True

    def delay_for(self, bucket: str) -> float:
        """Seconds to wait before the next request in `bucket` (booking it unless the wait is for
        the reset)."""
        return self._decide(bucket)[0]

    def _still_allowed(self, bucket: str) -> bool:
        """After sleeping until its slot: is the budget still there, or did others spend it?
        If not, the booking is given back."""
        now = self._clock()
        with self._lock:
            state = self._current(bucket, now)
            # This request is among the uncounted: what is left after it must cover the reserve.
            if state is None or self._unspent(bucket, state) >= self._reserve(state):
                return True
            self._release_mine(bucket)
            return False

    def before_request(self, bucket: str) -> float:
        """Wait until the request may go, book it, and return the seconds this thread waited."""
        waited = 0.0
        while True:
            delay, booked = self._decide(bucket)
            if delay > self.max_wait:
                if booked:
                    with self._lock:
                        self._release_mine(bucket)
                raise ThrottleWaitTooLongError(
                    f"provider asked to wait {delay:.0f} s (its rate-limit window for {bucket} resets then), more "
                    f"than max_throttle_wait_seconds={self.max_wait:g}; rerun later or raise the option",
                    retry_after=delay,
                )
            if delay > 0:
                waited += delay
                with self._lock:
                    self.total_wait += delay
                self._sleep(delay)
            if booked and (delay <= 0 or self._still_allowed(bucket)):
                return waited
            # Waited for the reset, or the budget went while waiting for the slot: decide again.

    # -- learning -----------------------------------------------------------------------------

    def abandon(self, bucket: str) -> None:
        """The request booked by `before_request` in this thread ended without a response."""
        with self._lock:
            self._release_mine(bucket)

    def observe(self, bucket: str, response: httpx.Response) -> None:
        now = self._clock()
        headers = self.headers.read(response, now)
        with self._lock:
            sent_at = self._release_mine(bucket)
            if headers is None:
                return
            limit, remaining, reset_at = headers
            counted_until = now if sent_at is None else sent_at
            current = self._buckets.get(bucket)
            if current is not None and abs(current.reset_at - reset_at) < 1:
                current.limit = limit
                current.last_slot = max(current.last_slot, now)
                # Responses from concurrent requests arrive out of order: within one window the
                # smallest remaining is the freshest truth.
                if remaining < current.remaining:
                    current.remaining, current.counted_until = remaining, counted_until
                return
            self._buckets[bucket] = _Bucket(limit, remaining, reset_at, counted_until, last_slot=now)
