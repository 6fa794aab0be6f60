"""slack: what cross-app identity needs to know about its accounts (saaslens catalog `identities`)."""

from __future__ import annotations

from saaslens.connectors.kit import IdentityKey

# Its title as an identity provider (its accounts decide who may sign in to the apps federated behind it),
# or None.
IDENTITY_PROVIDER: str | None = None

# Identity keys beyond the primary email every app has.
KEYS: tuple[IdentityKey, ...] = ()
