"""google_workspace: what cross-app identity needs to know about its accounts (saaslens catalog `identities`)."""

from __future__ import annotations

from saaslens.connectors.kit import IdentityKey

# Its title as an identity provider (its accounts decide who may sign in to the apps federated behind it),
# or None.
IDENTITY_PROVIDER: str | None = "Google Workspace (Cloud Identity)"

# Identity keys beyond the primary email every app has.
KEYS: tuple[IdentityKey, ...] = (
    IdentityKey(
        "alias",
        "list_concat(json_extract_string(raw, '$.aliases[*]'), json_extract_string(raw, '$.nonEditableAliases[*]'))",
        "Google Workspace aliases and domain aliases of the user's primary email (admin-managed).",
    ),
)
