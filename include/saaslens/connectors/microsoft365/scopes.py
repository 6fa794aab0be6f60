"""microsoft365: OAuth scopes (or permissions) broad enough that a grant of one is a finding (broad_oauth_grants)."""

from __future__ import annotations

from saaslens.connectors.kit import BroadScope

BROAD: tuple[BroadScope, ...] = (
    BroadScope(
        "Directory.ReadWrite.All",
        "Microsoft Graph: Read and write all directory data (users, groups, apps) in the tenant",
    ),
    BroadScope(
        "RoleManagement.ReadWrite.Directory", "Microsoft Graph: Assign directory roles, including Global Administrator"
    ),
    BroadScope(
        "AppRoleAssignment.ReadWrite.All",
        "Microsoft Graph: Grant any app any permission, so the holder can escalate to every other permission",
    ),
    BroadScope(
        "Application.ReadWrite.All", "Microsoft Graph: Add credentials to any app registration and act as that app"
    ),
    BroadScope(
        "User.ReadWrite.All",
        "Microsoft Graph: Change every user's profile, including sign-in names and contact details",
    ),
    BroadScope(
        "Group.ReadWrite.All",
        "Microsoft Graph: Change every group and its membership, including groups that grant access",
    ),
    BroadScope(
        "Mail.ReadWrite",
        "Microsoft Graph: Read, change and delete mail (every mailbox when granted as an application permission)",
    ),
    BroadScope(
        "Mail.Send", "Microsoft Graph: Send mail as the user (as any user when granted as an application permission)"
    ),
    BroadScope(
        "Files.ReadWrite.All",
        "Microsoft Graph: Read, change and delete every file the user (or, as an application permission, anyone) can reach in OneDrive and SharePoint",
    ),
    BroadScope("Sites.FullControl.All", "Microsoft Graph: Full control of every SharePoint site collection"),
    BroadScope("full_access_as_app", "Exchange Web Services: full access to every mailbox"),
)
