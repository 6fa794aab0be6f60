"""Typed API errors. Their messages are built from redacted text only, so they are safe to log,
to show in the Airflow UI and to store in scan_runs."""

from __future__ import annotations

from typing import TypedDict, Unpack


class Where(TypedDict):
    """Which response an error is about, as ApiError's keyword arguments (URL redacted)."""

    status: int
    method: str
    url: str


class ErrorContext(TypedDict, total=False):
    """ApiError's keyword arguments, for a subclass that adds its own and passes these on."""

    status: int | None
    provider_code: str | None
    method: str | None
    url: str | None


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

    @property
    def context(self) -> ErrorContext:
        """Which response this error is about, to raise another kind of error about the same one."""
        return {"status": self.status, "provider_code": self.provider_code, "method": self.method, "url": self.url}


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

    def __init__(self, message: str, *, retry_after: float | None = None, **context: Unpack[ErrorContext]) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


class UnsafePathSegmentError(MalformedResponseError):
    """A provider id that cannot be one URL path segment ("." or "..", which every URL parser
    collapses, or an empty id). Not retried: the same data gives the same id."""

    retryable = False


class RedirectRefusedError(ApiError):
    """A 3xx to another origin (or outside the base path): the credentials must not follow it."""


class EmptyPageError(MalformedResponseError):
    """A 204, an empty body or JSON `null` where a page of a listing was expected. Retried like
    any malformed answer; never taken for an empty listing, which would publish "no rows"."""


class PageShapeError(MalformedResponseError):
    """A page whose JSON has the wrong shape: no list where the items should be, or an item that
    is not the kind the listing holds (a string where objects were expected)."""


class PaginationLoopError(MalformedResponseError):
    """A listing's next request repeats one it already made: the provider's paging loops, and
    following it would never end. Not retried: the same pages give the same loop."""

    retryable = False


class ResponseTooLargeError(MalformedResponseError):
    """A response body (on the wire or decompressed) over `max_response_megabytes`. Not retried:
    the next attempt would download the same body."""

    retryable = False


class ContentTooLargeError(ResponseTooLargeError):
    """A file's content over the download's size cap (`ApiClient.download(max_bytes=)`): the file is
    recorded as skipped with this reason, never read in part. `size` is the declared length when the
    provider sent one, `cap` the limit."""

    def __init__(self, message: str, *, size: int | None, cap: int, **context: Unpack[ErrorContext]) -> None:
        super().__init__(message, **context)
        self.size = size
        self.cap = cap


class RequestDeadlineError(TransientError):
    """A request still unfinished at its overall deadline (`request_deadline_seconds`), e.g. a
    body dripping one byte at a time, each within the read timeout. Retried like a timeout."""


class ThrottleWaitTooLongError(ThrottledError):
    """The provider asked for a wait longer than `max_throttle_wait_seconds`. Not retried:
    sleeping the cap again and again would only hold the task and its pool slot."""

    retryable = False
