"""Fault injection: which faults a tenant's answers get, seeded by the tenant so runs repeat.

The framework draws one fault (or none) per request (:class:`FaultInjector`); the personality
supplies what the fault looks like in its provider's own words (its 429 and 5xx bodies). Access
tokens that stop working mid-scan (:class:`TokenLifetime`) are applied by the personalities that
issue tokens, with their provider's own invalid-token answer.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FaultConfig(BaseModel):
    """Faults to inject into a tenant's API responses. Every field defaults to "no fault"."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    rate_429: float = Field(default=0.0, ge=0.0, le=1.0)
    """Probability a request is answered 429 (the provider's own 429 body and headers)."""
    burst_429: int = Field(default=0, ge=0)
    """The next N requests get 429 (decremented as used)."""
    rate_5xx: float = Field(default=0.0, ge=0.0, le=1.0)
    """Probability of a 500/502/503 with the provider's error body."""
    burst_5xx: int = Field(default=0, ge=0)
    """The next N requests get a 5xx (after any 429 burst)."""
    rate_reset: float = Field(default=0.0, ge=0.0, le=1.0)
    """Probability the connection is dropped mid-response (client sees a protocol/read error)."""
    slow_ms: int = Field(default=0, ge=0)
    """Latency added to every request."""
    rate_html_error: float = Field(default=0.0, ge=0.0, le=1.0)
    """Probability of a 502 with an HTML error page (non-JSON body), as from a proxy."""
    rate_truncated: float = Field(default=0.0, ge=0.0, le=1.0)
    """Probability of a 200 whose JSON body is cut short (Content-Length matches the cut body)."""
    rate_read_timeout: float = Field(default=0.0, ge=0.0, le=1.0)
    """Probability a response stalls for ``stall_ms`` before its first byte (longer than the
    client's read timeout, so the client gives up and must retry)."""
    burst_read_timeout: int = Field(default=0, ge=0)
    """The next N requests stall (after any 429 and 5xx bursts)."""
    stall_ms: int = Field(default=3000, ge=0, le=600_000)
    """How long a stalled response waits before it is sent (to a client that has usually left)."""
    throttle_style: Literal["provider", "retry_after"] = "provider"
    """How every 429 of the tenant looks: ``provider`` is the provider's own (Okta: the
    ``X-Rate-Limit-*`` headers, reset as an epoch second, no ``Retry-After``); ``retry_after`` is a
    gateway's: only ``Retry-After: <seconds until the window resets>``, no rate-limit headers."""
    token_max_requests: int = Field(default=0, ge=0)
    """OAuth access tokens the tenant issued stop working after this many API requests (0 = never):
    the provider's invalid-token 401, as when a token expires or is revoked mid-scan."""
    token_max_seconds: float = Field(default=0.0, ge=0.0)
    """... or this many seconds after they were issued, whatever ``expires_in`` said (0 = never)."""
    large_pages: bool = False
    """List endpoints serve their documented maximum page size whatever ``limit`` asked for."""


class FaultInjector:
    """A tenant's current :class:`FaultConfig` and the seeded stream its faults are drawn from."""

    def __init__(self, config: FaultConfig, seed: str) -> None:
        self._config = config.model_copy()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    @property
    def config(self) -> FaultConfig:
        with self._lock:
            return self._config.model_copy()

    def set(self, config: FaultConfig) -> FaultConfig:
        with self._lock:
            self._config = config.model_copy()
            return self._config.model_copy()

    def decide(self) -> tuple[str | None, int]:
        """(fault kind or None, slow_ms). Bursts first, then one seeded draw per non-zero rate."""
        with self._lock:
            f = self._config
            slow = f.slow_ms
            if f.burst_429 > 0:
                f.burst_429 -= 1
                return "429", slow
            if f.burst_5xx > 0:
                f.burst_5xx -= 1
                return "5xx", slow
            if f.burst_read_timeout > 0:
                f.burst_read_timeout -= 1
                return "stall", slow
            for kind, rate in (
                ("429", f.rate_429),
                ("5xx", f.rate_5xx),
                ("reset", f.rate_reset),
                ("html", f.rate_html_error),
                ("truncated", f.rate_truncated),
                ("stall", f.rate_read_timeout),
            ):
                if rate > 0 and self._rng.random() < rate:
                    return kind, slow
            return None, slow

    def pick_5xx(self) -> int:
        with self._lock:
            return self._rng.choice((500, 502, 503))


class TokenLifetime:
    """The token-expiry fault: access tokens a tenant issued stop working after
    ``token_max_requests`` API requests or ``token_max_seconds`` seconds, whatever they said."""

    def __init__(self) -> None:
        self._uses: dict[str, int] = {}  # token id -> API requests made with it
        self._issued: dict[str, float] = {}  # token id -> when the tenant issued it
        self._lock = threading.Lock()

    def issued(self, token_id: str, at: float) -> None:
        with self._lock:
            self._issued[token_id] = at

    def expired(self, faults: FaultConfig, token_id: str, issued_at: float) -> bool:
        """Count one request made with ``token_id``; True when the fault says it no longer works.
        ``issued_at`` is the token's own ``iat``, for a token this tenant did not record."""
        if not (faults.token_max_requests or faults.token_max_seconds):
            return False
        with self._lock:
            uses = self._uses.get(token_id, 0) + 1
            self._uses[token_id] = uses
            issued = self._issued.get(token_id, issued_at)
        too_many = bool(faults.token_max_requests) and uses > faults.token_max_requests
        too_old = bool(faults.token_max_seconds) and time.time() - issued > faults.token_max_seconds
        return too_many or too_old
