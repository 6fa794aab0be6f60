"""How a provider's error responses map onto the typed errors.

The default covers the HTTP conventions most REST APIs follow; a connector subclasses it only for
what its provider does differently (GitHub's 403 with remaining 0 is a throttle, Slack's 200 with
`ok: false` is an error, Google's 403 `rateLimitExceeded` is a throttle).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson

from saaslens.http.errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
    TransientError,
    Where,
)
from saaslens.http.ratelimit import RateLimitHeaders, retry_after_seconds
from saaslens.http.redaction import redact, redact_url

_MAX_DETAIL = 300


class ErrorPolicy:
    rate_limit_headers: RateLimitHeaders | None = None

    def __init__(self, rate_limit_headers: RateLimitHeaders | None = None) -> None:
        if rate_limit_headers is not None:
            self.rate_limit_headers = rate_limit_headers

    def parse_error_body(self, payload: Any) -> tuple[str | None, str | None]:
        """(provider code, message) from an error body; override per provider."""
        if isinstance(payload, dict):
            error = payload.get("error")
            if isinstance(error, dict):
                return _str(error.get("code")), _str(error.get("message"))
            return _str(error or payload.get("code")), _str(payload.get("error_description") or payload.get("message"))
        return None, None

    def error_for(self, response: httpx.Response) -> ApiError:
        """The typed error for a non-2xx response."""
        payload = _lenient_json(response)
        code, message = self.parse_error_body(payload) if payload is not None else (None, None)
        if message is None:
            message = _body_excerpt(response)
        where = Where(
            status=response.status_code, method=response.request.method, url=redact_url(str(response.request.url))
        )
        message = redact(message)
        status = response.status_code
        if self.is_throttle(response, payload):
            wait = retry_after_seconds(response, self.rate_limit_headers, time.time())
            return ThrottledError(message, retry_after=wait, provider_code=code, **where)
        if status == 401:
            return AuthenticationError(message, provider_code=code, **where)
        if status == 403:
            return PermissionDeniedError(message, provider_code=code, **where)
        if status == 404:
            return NotFoundError(message, provider_code=code, **where)
        if status >= 500 or status == 408:
            return TransientError(message, provider_code=code, **where)
        return ApiError(message, provider_code=code, **where)

    def is_throttle(self, response: httpx.Response, payload: Any) -> bool:
        return response.status_code == 429

    def check_payload(self, response: httpx.Response, payload: Any) -> None:
        """Raise for a 2xx response whose body reports an error (Slack's `ok: false`)."""


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _lenient_json(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def _body_excerpt(response: httpx.Response) -> str:
    content_type = response.headers.get("content-type", "unknown content type")
    text = response.content[:_MAX_DETAIL].decode("utf-8", "replace").strip().replace("\n", " ")
    return f"{response.reason_phrase or 'error'} ({content_type}): {text!r}"
