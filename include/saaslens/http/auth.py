"""Auth strategies as httpx.Auth objects.

- StaticTokenAuth: a long-lived token in a header (Okta `SSWS`, a GitHub PAT, a Slack token).
- TokenAuth + a TokenProvider: short-lived access tokens obtained from a token endpoint and
  refreshed before they expire, and once more if the API answers 401 (expired early, rotated).
  Providers: OAuth2 client credentials (client secret or `private_key_jwt`, RFC 7523 section 2.2)
  and the JWT bearer grant (RFC 7523 section 2.1, e.g. Google service accounts).
Every secret and every token obtained is registered for redaction.
"""

from __future__ import annotations

import abc
import threading
import time
import uuid
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import jwt
import orjson
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from saaslens.http.errors import (
    AuthenticationError,
    MalformedResponseError,
    RedirectRefusedError,
    ThrottledError,
    ThrottleWaitTooLongError,
    TransientError,
    Where,
)
from saaslens.http.ratelimit import retry_after_seconds
from saaslens.http.redaction import redact, redact_url, register_secret
from saaslens.http.transport import TOKEN_ENDPOINT_LIMITS, read_body

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class StaticTokenAuth(httpx.Auth):
    def __init__(self, token: str, *, scheme: str | None = "Bearer", header: str = "Authorization") -> None:
        if not token:
            raise AuthenticationError("no token in the connection (password field is empty)")
        register_secret(token)
        self._value = f"{scheme} {token}" if scheme else token
        self._header = header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = self._value
        yield request


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float
    scopes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)


class TokenProvider(abc.ABC):
    """Obtains an access token. `http` is a plain client with the same TLS and timeout rules."""

    @abc.abstractmethod
    def fetch(self, http: httpx.Client) -> AccessToken: ...


# The longest wait a token endpoint may ask for before the request fails instead.
MAX_TOKEN_THROTTLE_WAIT = 60.0


def post_token_request(http: httpx.Client, url: str, data: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    """POST a form to a token endpoint. Retried on 429 (after its Retry-After), 5xx, network
    errors and garbled 200s; never on a 4xx rejection, which is the provider's final word.

    `http` is a client from `token_endpoint_client`: its transport refuses a URL that may not
    carry the credential (plain http off loopback) before anything is sent. The answer is read
    under TOKEN_ENDPOINT_LIMITS (1 MiB, 60 s): a token response is a few hundred bytes."""
    auth = kwargs.pop("auth", httpx.USE_CLIENT_DEFAULT)

    def attempt() -> dict[str, Any]:
        started = time.monotonic()
        try:
            request = http.build_request("POST", url, data=data, **kwargs)
            response = http.send(request, auth=auth, stream=True)
            try:
                content = read_body(response, TOKEN_ENDPOINT_LIMITS, started=started)
            finally:
                response.close()
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise TransientError(
                f"{type(exc).__name__} calling the token endpoint", method="POST", url=redact_url(url)
            ) from None
        status = response.status_code
        where = Where(status=status, method="POST", url=redact_url(url))
        if status == 429:
            wait = retry_after_seconds(response, None, time.time())
            if wait is not None and wait > MAX_TOKEN_THROTTLE_WAIT:
                raise ThrottleWaitTooLongError(
                    f"token endpoint asked to wait {wait:.0f} s, more than {MAX_TOKEN_THROTTLE_WAIT:g} s; rerun later",
                    retry_after=wait,
                    **where,
                )
            raise ThrottledError("token endpoint is rate limiting", retry_after=wait, **where)
        if status >= 500:
            raise TransientError(f"token endpoint returned HTTP {status}", **where)
        if 300 <= status < 400:
            raise RedirectRefusedError(
                "token endpoint answered with a redirect; credentials are never re-sent to another address "
                "(configure the endpoint's final URL)",
                **where,
            )
        try:
            payload = orjson.loads(content)
        except orjson.JSONDecodeError:
            if status == 200:  # a proxy's page or a cut-off body: worth another try
                raise MalformedResponseError(
                    "token endpoint answered 200 with a body that is not JSON", **where
                ) from None
            payload = {}
        if status != 200 or not isinstance(payload, dict) or "access_token" not in payload:
            code = payload.get("error") if isinstance(payload, dict) else None
            description = payload.get("error_description") if isinstance(payload, dict) else None
            raise AuthenticationError(
                redact(str(description or "token request was rejected")), provider_code=code, **where
            )
        return payload

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ThrottledError) and exc.retry_after is not None:
            return min(exc.retry_after, MAX_TOKEN_THROTTLE_WAIT)
        return wait_exponential_jitter(initial=0.5, max=8)(state)

    retrying = Retrying(
        retry=retry_if_exception(lambda exc: isinstance(exc, TransientError) and exc.retryable),
        stop=stop_after_attempt(5),
        wait=wait,
        reraise=True,
    )
    return retrying(attempt)


def _token_from_payload(payload: dict[str, Any], requested_scopes: tuple[str, ...]) -> AccessToken:
    value = str(payload["access_token"])
    register_secret(value)
    expires_in = float(payload.get("expires_in") or 3600)
    granted = payload.get("scope")
    scopes = tuple(str(granted).split()) if granted else requested_scopes
    extra = {k: v for k, v in payload.items() if k not in {"access_token", "refresh_token", "id_token"}}
    return AccessToken(value=value, expires_at=time.time() + expires_in, scopes=scopes, extra=extra)


@dataclass
class ClientCredentialsProvider(TokenProvider):
    """OAuth 2.0 client credentials (RFC 6749 section 4.4).

    With `private_key` the client authenticates with a signed assertion (`private_key_jwt`),
    which Okta requires for service apps and Microsoft accepts as a certificate credential.
    """

    token_url: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    key_id: str | None = None
    scopes: tuple[str, ...] = ()
    secret_method: Literal["basic", "post"] = "basic"
    algorithm: str = "RS256"
    extra_params: Mapping[str, str] = field(default_factory=dict)
    assertion_headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (self.client_secret or self.private_key):
            raise AuthenticationError(f"OAuth client {self.client_id!r} has neither a client secret nor a private key")
        register_secret(self.client_secret)
        register_secret(self.private_key)

    def client_assertion(self, private_key: str) -> str:
        """The signed JWT that stands for the client secret (RFC 7523 section 2.2)."""
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        headers = {**({"kid": self.key_id} if self.key_id else {}), **self.assertion_headers}
        try:
            return jwt.encode(claims, private_key, algorithm=self.algorithm, headers=headers or None)
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise AuthenticationError(
                f"cannot sign the client assertion with the configured private key ({type(exc).__name__})"
            ) from None

    def fetch(self, http: httpx.Client) -> AccessToken:
        data = {"grant_type": "client_credentials", **self.extra_params}
        if self.scopes:
            data["scope"] = " ".join(self.scopes)
        kwargs: dict[str, Any] = {}
        if self.private_key:
            data["client_id"] = self.client_id
            data["client_assertion_type"] = CLIENT_ASSERTION_TYPE
            data["client_assertion"] = self.client_assertion(self.private_key)
        elif self.secret_method == "post":
            data["client_id"] = self.client_id
            data["client_secret"] = self.client_secret or ""
        else:
            kwargs["auth"] = (self.client_id, self.client_secret or "")
        return _token_from_payload(post_token_request(http, self.token_url, data, **kwargs), self.scopes)


@dataclass
class JwtBearerProvider(TokenProvider):
    """The JWT bearer grant: a signed assertion *is* the grant (Google service accounts)."""

    token_url: str
    issuer: str
    private_key: str = field(repr=False)
    scopes: tuple[str, ...] = ()
    subject: str | None = None
    audience: str | None = None
    key_id: str | None = None
    algorithm: str = "RS256"

    def __post_init__(self) -> None:
        register_secret(self.private_key)

    def fetch(self, http: httpx.Client) -> AccessToken:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience or self.token_url,
            "iat": now,
            "exp": now + 3600,
        }
        if self.scopes:
            claims["scope"] = " ".join(self.scopes)
        if self.subject:
            claims["sub"] = self.subject
        try:
            assertion = jwt.encode(
                claims,
                self.private_key,
                algorithm=self.algorithm,
                headers={"kid": self.key_id} if self.key_id else None,
            )
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise AuthenticationError(f"cannot sign the JWT bearer assertion ({type(exc).__name__})") from None
        payload = post_token_request(http, self.token_url, {"grant_type": JWT_BEARER_GRANT, "assertion": assertion})
        return _token_from_payload(payload, self.scopes)


class TokenAuth(httpx.Auth):
    """Bearer auth with a token from a provider: refreshed `refresh_margin` seconds before expiry,
    and once on a 401 in case the provider revoked or expired it early."""

    def __init__(
        self,
        provider: TokenProvider,
        http: httpx.Client,
        *,
        refresh_margin: float = 120,
        scheme: str = "Bearer",
    ) -> None:
        self.provider = provider
        self._http = http
        self._margin = refresh_margin
        self._scheme = scheme
        self._token: AccessToken | None = None
        self._lock = threading.Lock()
        self.refreshes = 0

    def token(self, *, force: bool = False, stale: AccessToken | None = None) -> AccessToken:
        return self._current(force=force, stale=stale)[0]

    def _current(self, *, force: bool = False, stale: AccessToken | None = None) -> tuple[AccessToken, bool]:
        """The token to use, and whether this call fetched it."""
        with self._lock:
            current = self._token
            # Another thread may already have refreshed the token this request saw as stale.
            if force and current is not None and stale is not None and current is not stale:
                return current, False
            if force or current is None or current.expires_at - self._margin <= time.time():
                if current is not None:
                    self.refreshes += 1
                self._token = self.provider.fetch(self._http)
                return self._token, True
            return current, False

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token()
        request.headers["Authorization"] = f"{self._scheme} {token.value}"
        response = yield request
        # A 401 with a token another thread fetched a while ago may mean that one expired too;
        # only a 401 with a token this request fetched itself is the provider's final word.
        for _ in range(3):
            if response.status_code != 401:
                break
            token, fetched_here = self._current(force=True, stale=token)
            request.headers["Authorization"] = f"{self._scheme} {token.value}"
            response = yield request
            if fetched_here:
                break
