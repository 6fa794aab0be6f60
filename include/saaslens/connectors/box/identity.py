"""box: what cross-app identity needs to know about its accounts (saaslens catalog `identities`)."""

from __future__ import annotations

from saaslens.connectors.kit import IdentityKey

# Box signs people in itself or through SSO; its accounts decide access to nothing else.
IDENTITY_PROVIDER: str | None = None

# Identity keys beyond the primary email (a Box login is the user's primary email address).
KEYS: tuple[IdentityKey, ...] = ()
