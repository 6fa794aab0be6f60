"""Typed API errors. Their messages are built from redacted text only, so they are safe to log,
to show in the Airflow UI and to store in scan_runs."""

from __future__ import annotations


class InsecureURLError(ValueError):
    """A URL the client refuses to send credentials to (plain HTTP off loopback, another host)."""


class ApiError(Exception):
    """A response the connector cannot use. `retryable` tells the retry policy what to do."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        provider_code: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.status = status
        self.provider_code = provider_code
        self.method = method
        self.url = url
        self.detail = message
        where = f"{method} {url}: " if method and url else ""
        code = f" [{provider_code}]" if provider_code else ""
        status_text = f"HTTP {status}{code}: " if status is not None else (f"{code.strip()} " if code else "")
        super().__init__(f"{where}{status_text}{message}")


class AuthenticationError(ApiError):
    """Credentials were rejected. Never retried: retrying a bad token only locks accounts."""


class PermissionDeniedError(ApiError):
    """The credentials work but lack a scope or role; the stage is skipped, not failed."""


class FeatureUnavailableError(ApiError):
    """The tenant's plan or licence lacks the feature (e.g. premium sign-in logs)."""


class NotFoundError(ApiError):
    pass


class TransientError(ApiError):
    """5xx, timeouts, dropped connections: retried with exponential backoff and jitter."""

    retryable = True


class MalformedResponseError(TransientError):
    """A success status with a body that is not what the API promises (HTML, truncated JSON).

    Retried like a 5xx because proxies and overloaded backends produce exactly this; if it
    persists the run fails with this message rather than storing a partial page.
    """


class ThrottledError(TransientError):
    """The provider said slow down. `retry_after` (seconds) comes from its own headers."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
