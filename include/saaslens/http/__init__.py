"""The one HTTP layer every connector uses: auth, pagination, pacing, retries, TLS, redaction.

Connectors declare what differs (an ErrorPolicy, a paginator, rate-limit header names, an auth
strategy) and never talk to httpx directly.
"""

from saaslens.http.client import ApiClient, Downloaded, api_path
from saaslens.http.errors import (
    ApiError,
    AuthenticationError,
    ContentTooLargeError,
    EmptyPageError,
    FeatureUnavailableError,
    InsecureURLError,
    MalformedResponseError,
    NotFoundError,
    PageShapeError,
    PaginationLoopError,
    PermissionDeniedError,
    RedirectRefusedError,
    RequestDeadlineError,
    ResponseTooLargeError,
    ThrottledError,
    ThrottleWaitTooLongError,
    TransientError,
    UnsafePathSegmentError,
)
from saaslens.http.listing import Page
from saaslens.http.metrics import RunMetrics
from saaslens.http.policy import ErrorPolicy
from saaslens.http.ratelimit import RateLimitHeaders
from saaslens.http.retry import RetryPolicy
from saaslens.http.transport import RequestLimits

__all__ = [
    "ApiClient",
    "ApiError",
    "AuthenticationError",
    "ContentTooLargeError",
    "Downloaded",
    "EmptyPageError",
    "ErrorPolicy",
    "FeatureUnavailableError",
    "InsecureURLError",
    "MalformedResponseError",
    "NotFoundError",
    "Page",
    "PageShapeError",
    "PaginationLoopError",
    "PermissionDeniedError",
    "RateLimitHeaders",
    "RedirectRefusedError",
    "RequestDeadlineError",
    "RequestLimits",
    "ResponseTooLargeError",
    "RetryPolicy",
    "RunMetrics",
    "ThrottleWaitTooLongError",
    "ThrottledError",
    "TransientError",
    "UnsafePathSegmentError",
    "api_path",
]
