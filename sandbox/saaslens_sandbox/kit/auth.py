"""Authentication conventions: the ``Authorization`` header, challenges, token endpoint errors.

* Bearer tokens (RFC 6750): ``Authorization: Bearer <token>``; a provider may accept other schemes
  for its own tokens (Okta ``SSWS``, GitHub ``token``).
* A 401 carries a ``WWW-Authenticate`` challenge (RFC 6750 section 3) whose parameters each
  provider chooses (:func:`challenge`).
* OAuth 2.0 token endpoints (client credentials with a secret or a signed JWT, RFC 7523's JWT
  bearer grant) answer errors as ``{"error", "error_description"}`` (RFC 6749 section 5.2,
  :func:`oauth_error_body`); a provider may add fields (Microsoft's ``error_codes``...).
"""

from __future__ import annotations


def credential(header: str, schemes: tuple[str, ...] = ("bearer",)) -> tuple[str, str] | None:
    """(scheme in lower case, credential) of an ``Authorization`` header value when its scheme is
    one of ``schemes`` (lower case) and a credential follows; None otherwise."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() in schemes and value:
        return scheme.lower(), value
    return None


def bearer_token(header: str) -> str | None:
    """The token of ``Authorization: Bearer <token>`` (scheme case-insensitive), or None."""
    found = credential(header)
    return found[1] if found else None


def challenge(scheme: str = "Bearer", **params: str) -> tuple[str, str]:
    """A ``WWW-Authenticate`` header with ``params`` in the order given: ``Bearer realm="..."``."""
    if not params:
        return "WWW-Authenticate", scheme
    return "WWW-Authenticate", scheme + " " + ", ".join(f'{name}="{value}"' for name, value in params.items())


def oauth_error_body(error: str, description: str) -> dict[str, str]:
    """An OAuth 2.0 error response body (RFC 6749 section 5.2)."""
    return {"error": error, "error_description": description}
