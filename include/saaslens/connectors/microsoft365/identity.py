"""microsoft365: what cross-app identity needs to know about its accounts (saaslens catalog `identities`)."""

from __future__ import annotations

from saaslens.connectors.kit import IdentityKey

# Its title as an identity provider (its accounts decide who may sign in to the apps federated behind it),
# or None.
IDENTITY_PROVIDER: str | None = "Microsoft Entra ID"

# Identity keys beyond the primary email every app has.
KEYS: tuple[IdentityKey, ...] = (
    IdentityKey(
        "user_principal_name",
        "[login]",
        "Entra ID's userPrincipalName is the sign-in name and the usual SAML NameID; it may differ from mail.",
    ),
    IdentityKey(
        "proxy_address",
        "list_transform(list_filter(json_extract_string(raw, '$.proxyAddresses[*]'), lambda x: lower(x) like 'smtp:%'), lambda x: x[6:])",
        "Entra ID proxyAddresses: every SMTP address that delivers to the user (SMTP: primary, smtp: aliases).",
    ),
)
