"""dropbox: what cross-app identity needs to know about its accounts (saaslens catalog `identities`)."""

from __future__ import annotations

from saaslens.connectors.kit import IdentityKey

# Dropbox is not an identity provider: its members sign in with Dropbox passwords or through SSO.
IDENTITY_PROVIDER: str | None = None

# Identity keys beyond the primary email: a member's verified secondary emails (MemberProfile
# secondary_emails, team.stone), which name the same person.
KEYS: tuple[IdentityKey, ...] = (
    IdentityKey(
        source="secondary_email",
        values="json_extract_string(raw, '$.profile.secondary_emails[*].email')",
        why="MemberProfile.secondary_emails: further addresses of the member (team.stone)",
    ),
)
