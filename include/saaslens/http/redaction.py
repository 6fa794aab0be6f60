"""Keep secrets out of logs, exception text, XCom and the lake.

Two layers: exact values registered at run time (tokens, client secrets, private keys, access
tokens obtained from a token endpoint) and patterns for credential-shaped text we never
registered (an Authorization header echoed in an error body, `client_secret=` in a form).
Registered values are also handed to Airflow's own masker when running inside Airflow.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words

_lock = threading.Lock()
_secrets: set[str] = set()

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\b(SSWS|Bearer|Basic|token)(\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1\2" + MASK),
    (
        re.compile(
            r"(?i)((?:access_token|refresh_token|id_token|client_secret|client_assertion|assertion|"
            r"password|api_key|apikey|secret|sig|signature)[\"']?\s*[=:]\s*[\"']?)[^\s&\"',}]+"
        ),
        r"\1" + MASK,
    ),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"), MASK),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}"), MASK),  # Slack token shape
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), MASK),  # GitHub token shape
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), MASK),  # a JWT
]
_SENSITIVE_QUERY_KEYS = {
    "access_token",
    "token",
    "client_secret",
    "code",
    "sig",
    "signature",
    "api_key",
    "apikey",
    "key",
    "client_assertion",
    "assertion",
    "password",
}


def register_secret(value: str | None) -> None:
    """Remember a secret so every later log line and error message masks it."""
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        _secrets.add(value)
        # Multi-line secrets (PEM keys) also leak line by line.
        for line in value.splitlines():
            if len(line.strip()) >= 16:
                _secrets.add(line.strip())
    if "airflow" in sys.modules:  # only inside an Airflow process; never import Airflow for this
        try:
            from airflow.sdk.log import mask_secret
        except ImportError:  # pragma: no cover - older task SDK layout
            return
        mask_secret(value)


def registered_secrets() -> tuple[str, ...]:
    """The registered secrets, longest first (a whole PEM key before its lines), read-only: for
    writers that must mask them outside text (the lake's columns) or refuse to persist them."""
    with _lock:
        return tuple(sorted(_secrets, key=len, reverse=True))


def contains_secret(text: str) -> bool:
    """Whether `text` holds a registered secret (checked before anything is written to disk)."""
    return any(secret in text for secret in registered_secrets()) if text else False


def is_sensitive_query_key(name: str) -> bool:
    """A query parameter whose value is a credential (access_token=, sig=, ...): see redact_url."""
    return name.lower() in _SENSITIVE_QUERY_KEYS


def redact(text: str) -> str:
    """Mask every registered secret and credential-shaped token in `text`."""
    if not text:
        return text
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_url(url: str) -> str:
    """Drop credentials from a URL: userinfo and sensitive query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = urlencode(
        [
            (k, MASK if k.lower() in _SENSITIVE_QUERY_KEYS else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe='*:"= ',
    )
    return redact(urlunsplit((parts.scheme, netloc, parts.path, query, "")))


class RedactingFilter(logging.Filter):
    """Applied to saaslens' and httpx's loggers so a secret can't reach a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is still logged, just not expanded
            message = str(record.msg)
        record.msg = redact(message)
        record.args = ()
        return True


def install_log_redaction() -> None:
    for name in ("saaslens", "httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
    # httpx logs every request URL at INFO; per-page lines drown the task log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
