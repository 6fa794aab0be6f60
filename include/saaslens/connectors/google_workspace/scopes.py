"""google_workspace: OAuth scopes (or permissions) broad enough that a grant of one is a finding (broad_oauth_grants)."""

from __future__ import annotations

from saaslens.connectors.kit import BroadScope

BROAD: tuple[BroadScope, ...] = (
    BroadScope(
        "https://mail.google.com/",
        "Full Gmail access: read, compose, send and permanently delete all of the user's mail",
    ),
    BroadScope(
        "https://www.googleapis.com/auth/gmail.modify",
        "Read, compose and send all of the user's mail and change its labels",
    ),
    BroadScope(
        "https://www.googleapis.com/auth/gmail.readonly", "Read every message and setting in the user's mailbox"
    ),
    BroadScope(
        "https://www.googleapis.com/auth/drive",
        "See, edit, create and delete all of the user's Google Drive files, including shared drives they can reach",
    ),
    BroadScope(
        "https://www.googleapis.com/auth/cloud-platform", "Full access to the user's Google Cloud projects and data"
    ),
    BroadScope(
        "https://www.googleapis.com/auth/admin.directory.user",
        "Admin SDK Directory API: create, change and delete the organization's users",
    ),
    BroadScope(
        "https://www.googleapis.com/auth/admin.directory.user.security",
        "Admin SDK Directory API: manage users' security settings, app passwords and OAuth tokens",
    ),
    BroadScope(
        "https://www.googleapis.com/auth/admin.directory.group",
        "Admin SDK Directory API: create, change and delete groups and their members",
    ),
    BroadScope(
        "https://www.googleapis.com/auth/admin.directory.group.member",
        "Admin SDK Directory API: change the membership of every group",
    ),
    BroadScope(
        "https://www.googleapis.com/auth/admin.directory.rolemanagement",
        "Admin SDK Directory API: create admin roles and assign them, including super admin",
    ),
    BroadScope(
        "https://www.googleapis.com/auth/admin.directory.domain",
        "Admin SDK Directory API: add and remove the organization's domains",
    ),
    BroadScope(
        "https://www.googleapis.com/auth/admin.directory.orgunit",
        "Admin SDK Directory API: change organizational units, which carry policies",
    ),
    BroadScope(
        "https://www.googleapis.com/auth/admin.directory.customer",
        "Admin SDK Directory API: change the customer account's settings",
    ),
    BroadScope(
        "https://www.googleapis.com/auth/admin.directory.device.chromeos",
        "Admin SDK Directory API: manage and wipe ChromeOS devices",
    ),
    BroadScope(
        "https://www.googleapis.com/auth/admin.directory.device.mobile",
        "Admin SDK Directory API: manage and wipe mobile devices",
    ),
    BroadScope(
        "https://www.googleapis.com/auth/admin.directory.userschema",
        "Admin SDK Directory API: change custom user attributes",
    ),
)
