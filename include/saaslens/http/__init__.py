"""The one HTTP layer every connector uses: auth, pagination, pacing, retries, TLS, redaction.

Connectors declare what differs (an ErrorPolicy, a paginator, rate-limit header names, an auth
strategy) and never talk to httpx directly.
"""

from saaslens.http.client import ApiClient, Page, RetryPolicy, RunMetrics
from saaslens.http.errors import (
    ApiError,
    AuthenticationError,
    FeatureUnavailableError,
    InsecureURLError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
    TransientError,
)
from saaslens.http.policy import ErrorPolicy
from saaslens.http.ratelimit import RateLimitHeaders

__all__ = [
    "ApiClient",
    "ApiError",
    "AuthenticationError",
    "ErrorPolicy",
    "FeatureUnavailableError",
    "InsecureURLError",
    "MalformedResponseError",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "RateLimitHeaders",
    "RetryPolicy",
    "RunMetrics",
    "ThrottledError",
    "TransientError",
]
