"""Deterministic synthetic Microsoft 365 tenants (Entra ID directory, audit logs, OneDrive/SharePoint).

Everything derives from ``(name, seed, users, options)``: the same inputs give identical ground truth.
Time is relative to an *anchor* (default: server start, whole seconds, UTC); audit and sign-in events
fill ``[anchor - history_days, anchor]``.

Object shapes follow Microsoft Graph v1.0 as published in its CSDL metadata
(microsoftgraph/msgraph-metadata ``clean_v10_metadata``; the same types generate the ``msgraph-sdk``
models the contract test checks against) and the v1.0 resource pages of
microsoftgraph/microsoft-graph-docs-contrib ``api-reference/v1.0/resources/``: user.md,
signinactivity.md, group.md, directoryrole.md, serviceprincipal.md, approle.md,
approleassignment.md, oauth2permissiongrant.md, signin.md, directoryaudit.md, drive.md,
driveitem.md, permission.md, sharinglink.md, site.md, organization.md.

Events are stored compactly (parallel arrays of timestamp / kind / actor / target / salt) and
rendered on demand, so 200,000 events cost a few megabytes and serving a page costs time
proportional to the page.
"""

from __future__ import annotations

import base64
import hashlib
import random
import unicodedata
import uuid
from array import array
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from saaslens_sandbox.core import TenantOptions
from saaslens_sandbox.microsoft365.drive_contents import DriveContents
from saaslens_sandbox.workforce import days_before, workforce_of

DAY_MS = 86_400_000

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Microsoft Graph application permissions (appRoles of the Microsoft Graph service principal) with
# their well-known ids, from the Microsoft Graph permissions reference.
GRAPH_APP_ROLES: dict[str, str] = {
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "User.ReadWrite.All": "741f803b-c850-494e-b5df-cde7c675a1ca",
    "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
    "GroupMember.Read.All": "98830695-27a2-44f7-8c18-0c3ebc9698f6",
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "RoleManagement.Read.Directory": "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "AuditLog.Read.All": "b0afded3-3588-46d8-8b3d-9842eff778da",
    "Files.Read.All": "01d4889c-1287-42c6-ac1f-5d1e02578ef6",
    "Sites.Read.All": "332a536c-c7ef-4017-ab91-336970924f0d",
    "Organization.Read.All": "498476ce-e0fe-48b0-b801-37ba7e2685c6",
    "Mail.Read": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    "Mail.Send": "b633e1c5-b582-4048-a93e-9f11b44c7e96",
    # What governance actions need (each write endpoint's "Permissions" table, v1.0 API reference).
    "Directory.ReadWrite.All": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
    "User.EnableDisableAccount.All": "3011c876-62b7-4ada-afa2-506cbbecc68c",
    "User.RevokeSessions.All": "77f3a031-c388-4f99-b373-dc68676a979e",
    "User-PasswordProfile.ReadWrite.All": "cc117bb9-00cf-4eb8-b580-ea2a878fe8f7",
    "DelegatedPermissionGrant.ReadWrite.All": "8e8e4742-1d95-4f68-9d56-6ee75648c72a",
    "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
    "RoleManagement.ReadWrite.Directory": "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
    "Files.ReadWrite.All": "75359482-378d-4052-8f01-80520e7db3cd",
    "Sites.ReadWrite.All": "9492366f-7969-46a4-8d15-ed1a20078fff",
    # Purview sensitivity label names (security-informationprotection-list-sensitivitylabels).
    "InformationProtectionPolicy.Read.All": "19da66cb-0fb0-4390-b071-ebc76a349482",
    # Security settings (the settings stage): policies, and domains' password expiry.
    "Policy.Read.All": "246dd0d5-5bd0-4def-940b-0421030a5b68",
    "Domain.Read.All": "dbb9058a-0e50-45d7-ae91-66909b5d4664",
}
# Application permissions of the Office 365 Management APIs ("Get started with Office 365 Management
# APIs": ActivityFeed.Read reads activity data, ActivityFeed.ReadDlp DLP events, ServiceHealth.Read).
MANAGEMENT_APP_ROLES = ("ActivityFeed.Read", "ActivityFeed.ReadDlp", "ServiceHealth.Read")
# Delegated permissions (oauth2PermissionScopes of Microsoft Graph) that consent grants carry.
GRAPH_SCOPES: dict[str, str] = {
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
    "openid": "37f7f235-527c-4136-accd-4a02d197296e",
    "profile": "14dad69e-099b-42c9-810b-d002981feec1",
    "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "Mail.Read": "570282fd-fa5c-430d-a7fd-fc8dc98a9dca",
    "Files.ReadWrite.All": "863451e7-0667-486c-a5d6-d135439485f0",
    "Calendars.Read": "465a38f9-76ea-45b9-9f34-9e8b0d4b0b42",
}

DEFAULT_ROLES = (
    "User.Read.All",
    "GroupMember.Read.All",
    "RoleManagement.Read.Directory",
    "Application.Read.All",
    "Directory.Read.All",
    "AuditLog.Read.All",
    "Files.Read.All",
    "Sites.Read.All",
    "InformationProtectionPolicy.Read.All",
    "Policy.Read.All",
)

# The default actions client: what saaslens scans with, plus the least privileged write permission of
# each governance action (the Microsoft 365 connector's actions.py). The scan clients hold none of them.
ACTION_ROLES = (
    *DEFAULT_ROLES,
    "User.EnableDisableAccount.All",
    "User.RevokeSessions.All",
    "User-PasswordProfile.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "RoleManagement.ReadWrite.Directory",
    "Files.ReadWrite.All",
)
# Write permissions: a client holding one of them can act (ground truth's credentials.actions).
WRITE_ROLES = frozenset(ACTION_ROLES) - frozenset(DEFAULT_ROLES) | {
    "User.ReadWrite.All",
    "Directory.ReadWrite.All",
    "Sites.ReadWrite.All",
}

# Built-in Entra roles (roleTemplateId, displayName, description), from "Microsoft Entra built-in roles".
ROLE_TEMPLATES = (
    (
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
        "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
    ),
    (
        "fe930be7-5e62-47db-91af-98c3a49a38b1",
        "User Administrator",
        "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
    ),
    (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Helpdesk Administrator",
        "Can reset passwords for non-administrators and Helpdesk Administrators.",
    ),
    (
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
        "SharePoint Administrator",
        "Can manage all aspects of the SharePoint service.",
    ),
    (
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "Exchange Administrator",
        "Can manage all aspects of the Exchange product.",
    ),
    (
        "5d6b6bb7-de71-4623-b4af-96380a352509",
        "Security Reader",
        "Can read security information and reports in Microsoft Entra ID and Office 365.",
    ),
    (
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        "Global Reader",
        "Can read everything that a Global Administrator can, but not update anything.",
    ),
    (
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
        "Application Administrator",
        "Can create and manage all aspects of app registrations and enterprise apps.",
    ),
    ("88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers", "Can read basic directory information."),
)
R_GLOBAL, R_USER, R_HELPDESK, R_SHAREPOINT, R_EXCHANGE, R_SECREADER, R_GLOBALREADER, R_APPADMIN, R_DIRREADERS = range(
    len(ROLE_TEMPLATES)
)

FIRST_NAMES = [
    "Adele",
    "Alex",
    "Allan",
    "Bianca",
    "Brian",
    "Cameron",
    "Christie",
    "Debra",
    "Diego",
    "Emily",
    "Enrico",
    "Grady",
    "Henrietta",
    "Isaiah",
    "Johanna",
    "Joni",
    "Lee",
    "Lidia",
    "Lynne",
    "Megan",
    "Miriam",
    "Nestor",
    "Patti",
    "Pradeep",
    "Raul",
    "Sanjay",
    "Sofia",
    "Tomasz",
    "Wei",
    "Yuki",
    "Zainab",
    "Omar",
    "Lena",
    "Marco",
    "Ingrid",
    "Kofi",
    "Ana",
    "Mateo",
    "Priya",
    "Hannah",
]
LAST_NAMES = [
    "Vance",
    "Wilber",
    "Steele",
    "Pinder",
    "Johnson",
    "Morris",
    "Cline",
    "Berg",
    "Siciliani",
    "Braun",
    "Bertrand",
    "Smith",
    "Archie",
    "Mueller",
    "Lanier",
    "Sherman",
    "Holloway",
    "Gonzales",
    "Valenzuela",
    "Bowen",
    "Allen",
    "Sotelo",
    "Fernandez",
    "Gupta",
    "Quinn",
    "Kovac",
    "Tanaka",
    "Okafor",
    "Haddad",
    "Lindqvist",
    "Rossi",
    "Mensah",
    "Novak",
    "Silva",
    "Nakamura",
    "Patel",
    "Cohen",
]
UNICODE_FIRST = ("José", "Zoë", "Łukasz", "Søren", "François", "Björn", "Ólafur", "Çağla", "明", "Анна")
UNICODE_LAST = ("Müller", "Ólafsdóttir", "Nguyễn", "Gonçalves", "Šimek", "Østergaard", "Peña", "Yılmaz", "O'Brien")  # noqa: RUF001 (Turkish dotless i on purpose)
GUEST_DOMAINS = ("gmail.com", "outlook.com", "fabrikam.com", "northwindtraders.com", "adatum.com")
DEPARTMENTS = ("Engineering", "Sales", "Marketing", "Finance", "HR", "Legal", "IT", "Support", "Product", "Operations")
TITLES = ("Engineer", "Senior Engineer", "Manager", "Director", "Analyst", "Specialist", "Consultant", "Lead")
OFFICES = ("Redmond", "London", "Berlin", "Tokyo", "Sydney", "Toronto", "Paris", "Bengaluru")
GROUP_TOPICS = (
    "All Company",
    "Marketing",
    "Sales Team",
    "Engineering",
    "Finance",
    "HR",
    "Legal",
    "IT Operations",
    "Support",
    "Product Management",
    "Design",
    "Security Champions",
    "Executives",
    "Project Apollo",
    "Project Atlas",
    "Retail",
    "Mark 8 Project Team",
    "Digital Initiative",
    "U.S. Sales",
    "Contoso Life",
)

# Third-party and line-of-business apps present as service principals:
# (displayName, multi-tenant publisher, application permissions granted, delegated scopes users consent to).
APPS: tuple[tuple[str, str | None, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Contoso HR Sync", None, ("User.Read.All", "Mail.Send"), ()),
    ("Zoom", "Zoom Video Communications", (), ("User.Read", "openid", "profile", "email", "offline_access")),
    ("Slack", "Slack Technologies", (), ("User.Read", "openid", "profile", "offline_access")),
    ("Adobe Acrobat", "Adobe", (), ("User.Read", "Files.ReadWrite.All", "offline_access")),
    ("Expense Portal", None, ("Directory.Read.All",), ("User.Read", "openid", "profile")),
    ("Backup Vault", "Vaultly", ("Files.Read.All", "Sites.Read.All", "Mail.Read"), ()),
    ("Calendar Pal", "Pal Software", (), ("User.Read", "Calendars.Read", "Mail.Read", "offline_access")),
)
# First-party apps users sign in to: (appId, displayName, resource display name).
SIGN_IN_APPS = (
    ("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome", "Office 365 Exchange Online"),
    ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", "Microsoft Teams Services"),
    ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", "Office 365 Exchange Online"),
    ("00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online", "Office 365 SharePoint Online"),
    ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", "Windows Azure Service Management API"),
    ("de8bc8b5-d9f9-48b1-a8ad-b748da725064", "Graph Explorer", "Microsoft Graph"),
)


class Location(NamedTuple):
    city: str
    state: str
    country: str
    lat: float
    lon: float
    ip_prefix: str


LOCATIONS = (
    Location("Redmond", "Washington", "US", 47.674, -122.1215, "131.107.16"),
    Location("New York", "New York", "US", 40.7209, -74.0047, "24.193.8"),
    Location("London", "England", "GB", 51.5229, -0.0777, "86.150.33"),
    Location("Berlin", "Berlin", "DE", 52.5323, 13.3846, "91.64.72"),
    Location("Paris", "Ile-de-France", "FR", 48.8682, 2.3431, "90.86.112"),
    Location("Tokyo", "Tokyo", "JP", 35.6893, 139.6899, "126.25.40"),
    Location("Sydney", "New South Wales", "AU", -33.8715, 151.2006, "120.150.7"),
    Location("Bengaluru", "Karnataka", "IN", 12.9753, 77.591, "49.207.51"),
)
ANOMALY = Location("Lagos", "Lagos", "NG", 6.4541, 3.3947, "105.112.24")
# (user agent, operatingSystem, browser)
AGENTS = (
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
        "Safari/537.36 Edg/124.0.0.0",
        "Windows10",
        "Edge 124.0.0",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
        "Safari/605.1.15",
        "MacOs",
        "Safari 17.4",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
        "Safari/537.36",
        "MacOs",
        "Chrome 124.0.0",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
        "Teams/1.0",
        "Ios 17.4",
        "Mobile Safari",
    ),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", "Windows10", "Firefox 125.0"),
)


class SignInKind(NamedTuple):
    error_code: int
    failure_reason: str
    ca_status: str  # conditionalAccessStatus


# Sign-in status codes from "Microsoft Entra authentication and authorization error codes" (AADSTS).
SIGN_IN_KINDS = (
    SignInKind(0, "Other.", "success"),
    SignInKind(0, "Other.", "notApplied"),
    SignInKind(50126, "Error validating credentials due to invalid username or password.", "notApplied"),
    SignInKind(50074, "Strong Authentication is required.", "notApplied"),
    SignInKind(
        53003,
        "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        "failure",
    ),
    SignInKind(
        50053,
        "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
        "notApplied",
    ),
    SignInKind(50057, "User account is disabled. The account has been disabled by an administrator.", "notApplied"),
)
SI_OK, SI_OK_NOCA, SI_BADPW, SI_MFA, SI_CA, SI_LOCKED, SI_DISABLED = range(len(SIGN_IN_KINDS))
_SIGN_IN_WEIGHTS = (55, 25, 8, 6, 2, 1)  # SI_DISABLED is used only for disabled accounts


class AuditKind(NamedTuple):
    category: str
    activity: str
    operation: str
    service: str
    result: str
    reason: str
    initiator: str  # admin | self | app
    target: str  # user | group_user | role_user | sp | policy


# Audit activities as they appear in Microsoft Entra audit logs ("Microsoft Entra audit log
# activity reference"): category, activityDisplayName, operationType, loggedByService.
AUDIT_KINDS = (
    AuditKind("UserManagement", "Update user", "Update", "Core Directory", "success", "", "admin", "user"),
    AuditKind("UserManagement", "Add user", "Add", "Core Directory", "success", "", "admin", "user"),
    AuditKind("UserManagement", "Disable account", "Update", "Core Directory", "success", "", "admin", "user"),
    AuditKind(
        "UserManagement",
        "Reset user password",
        "Update",
        "Core Directory",
        "failure",
        "The password does not comply with password complexity requirements.",
        "admin",
        "user",
    ),
    AuditKind(
        "GroupManagement", "Add member to group", "Assign", "Core Directory", "success", "", "admin", "group_user"
    ),
    AuditKind(
        "GroupManagement",
        "Remove member from group",
        "Unassign",
        "Core Directory",
        "success",
        "",
        "admin",
        "group_user",
    ),
    AuditKind("RoleManagement", "Add member to role", "Assign", "Core Directory", "success", "", "admin", "role_user"),
    AuditKind(
        "ApplicationManagement", "Consent to application", "Assign", "Core Directory", "success", "", "self", "sp"
    ),
    AuditKind(
        "ApplicationManagement",
        "Add app role assignment to service principal",
        "Assign",
        "Core Directory",
        "success",
        "",
        "admin",
        "sp",
    ),
    AuditKind(
        "UserManagement",
        "Change user password",
        "Update",
        "Self-service Password Management",
        "success",
        "",
        "self",
        "user",
    ),
    AuditKind(
        "UserManagement",
        "User registered security info",
        "Add",
        "Authentication Methods",
        "success",
        "",
        "self",
        "user",
    ),
    AuditKind(
        "Policy", "Update conditional access policy", "Update", "Conditional Access", "success", "", "admin", "policy"
    ),
    AuditKind("UserManagement", "Update user", "Update", "Core Directory", "success", "", "app", "user"),
)
(
    A_UPDATE,
    A_ADD,
    A_DISABLE,
    A_RESET_FAIL,
    A_GROUP_ADD,
    A_GROUP_REMOVE,
    A_ROLE_ADD,
    A_CONSENT,
    A_APPROLE,
    A_SSPR,
    A_MFA_REG,
    A_POLICY,
    A_APP_UPDATE,
) = range(len(AUDIT_KINDS))
_AUDIT_WEIGHTS = (20, 4, 2, 2, 14, 5, 1, 5, 1, 12, 10, 1, 8)
CA_POLICIES = ("Require MFA for admins", "Block legacy authentication", "Require compliant device for Finance")


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


class ClientSpec(BaseModel):
    """An app registration the tenant trusts: a client secret and/or a certificate (PEM, X.509),
    and the Microsoft Graph application permissions admin-consented for it."""

    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(min_length=1)
    client_secret: str | None = None
    certificate_pem: str | None = None
    roles: list[str] = Field(default_factory=lambda: list(DEFAULT_ROLES))
    display_name: str = "saaslens"
    management_roles: list[str] = Field(default_factory=lambda: ["ActivityFeed.Read"])
    """Application permissions of the Office 365 Management APIs admin-consented for the app (the
    ``roles`` of a token for ``https://manage.office.com/.default``); [] for an app without them."""

    @model_validator(mode="after")
    def _has_a_credential(self) -> ClientSpec:
        if not (self.client_secret or self.certificate_pem):
            raise ValueError("a client needs a client_secret or a certificate_pem")
        unknown = sorted(set(self.roles) - set(GRAPH_APP_ROLES))
        if unknown:
            raise ValueError(f"unknown Microsoft Graph application permissions {unknown}")
        unknown = sorted(set(self.management_roles) - set(MANAGEMENT_APP_ROLES))
        if unknown:
            raise ValueError(f"unknown Office 365 Management APIs application permissions {unknown}")
        return self


class Microsoft365Options(TenantOptions):
    """``TenantSpec.options`` for a Microsoft 365 tenant (all optional)."""

    model_config = ConfigDict(extra="forbid")
    clients: list[ClientSpec] | None = None
    """Default: ``full`` (every permission saaslens uses) and ``noaudit`` (all but AuditLog.Read.All)."""
    premium: bool = True
    """Entra ID P1/P2: without it sign-in logs and users' signInActivity answer 403."""
    sharepoint_online: bool = True
    """A SharePoint Online licence (plans such as Exchange Online only, or Entra ID alone, lack it):
    without it every OneDrive and SharePoint request answers 400 ``BadRequest`` "Tenant does not
    have a SPO license." and the tenant has no drives."""
    events: int | None = Field(default=None, ge=0)
    """Total audit events (sign-ins + directory audits). Default: 10 per user."""
    sign_in_share: float = Field(default=0.7, ge=0.0, le=1.0)
    history_days: int = Field(default=7, ge=1, le=30)
    domain: str | None = None
    """Verified custom domain (default ``{tenant}.example.com``); the initial domain is ``{tenant}.onmicrosoft.com``."""
    groups: int | None = Field(default=None, ge=0)
    guest_share: float = Field(default=0.08, ge=0.0, le=0.5)
    failed_sign_in_only_share: float = Field(default=0.06, ge=0.0, le=1.0)
    """Share of signed-in users whose sign-in attempts all failed: a dormant account under a password
    spray. Graph then reports a recent ``lastSignInDateTime`` (the last attempt, "successful or
    not") and a null ``lastSuccessfulSignInDateTime``
    (https://learn.microsoft.com/graph/api/resources/signinactivity)."""
    onedrive_share: float = Field(default=0.85, ge=0.0, le=1.0)
    """Share of enabled members with a provisioned OneDrive."""
    files_per_drive: int = Field(default=3, ge=0, le=50)
    sites: int | None = Field(default=None, ge=0)
    access_token_ttl_seconds: int = Field(default=3599, ge=60, le=86_400)
    # The Office 365 Management Activity API (saaslens_sandbox.microsoft365.unified_audit).
    audit_subscriptions: list[str] = Field(default_factory=lambda: ["Audit.SharePoint"])
    """Content types whose subscription an admin has started (POST .../subscriptions/start); listing
    content of any other answers AF20022. [] models a tenant where nobody started one."""
    audit_content_delay_seconds: float = Field(default=0.0, ge=0)
    """Seconds from an audit record's CreationTime to the content blob holding it (contentCreated):
    Microsoft documents that records reach the unified audit log with a delay (typically 60 to 90
    minutes, up to 24 hours); 0 keeps tests quick."""
    audit_listing_delay_seconds: float = Field(default=0.0, ge=0)
    """Seconds after contentCreated before /subscriptions/content lists a blob: content that
    appears late in the listing, which a scanner's lookback re-reads."""
    audit_page_size: int = Field(default=50, ge=1, le=1000)
    """Content blobs per /subscriptions/content page before a NextPageUri header."""
    hostile_content_uri: str | None = None
    """Tests: every contentUri is this URL (another host, another tenant's path)."""
    hostile_next_page_uri: str | None = None
    """Tests: the first page of every content listing carries this NextPageUri."""
    # Content inspection and file governance (drive_contents.py).
    large_file_mb: int = Field(default=0, ge=0, le=4096)
    """> 0 adds a text/csv file of that many MiB (planted values near its start, middle and end) to an
    ordinary user's OneDrive; its content is streamed, never held in memory."""
    metered_billing: bool = False
    """Whether the app registrations have an Azure subscription associated for metered Microsoft Graph
    APIs (metered-api-setup). Without it assignSensitivityLabel answers 402 paymentRequired."""


def default_clients(name: str, seed: int) -> list[ClientSpec]:
    rng = random.Random(f"m365-clients:{name}:{seed}")
    return [
        ClientSpec(client_id=_uuid(rng), client_secret=f"sandbox-m365-{name}-secret", display_name="saaslens"),
        ClientSpec(
            client_id=_uuid(rng),
            client_secret=f"sandbox-m365-{name}-noaudit-secret",
            roles=[r for r in DEFAULT_ROLES if r != "AuditLog.Read.All"],
            display_name="saaslens (no audit)",
            management_roles=[],
        ),
        ClientSpec(
            client_id=_uuid(rng),
            client_secret=f"sandbox-m365-{name}-actions-secret",
            roles=list(ACTION_ROLES),
            display_name="saaslens (actions)",
        ),
    ]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

_DAY_PREFIX: dict[int, str] = {}


def iso(ms: int | None, *, fraction: bool = False) -> str | None:
    """Graph's DateTimeOffset: ``2024-05-04T19:50:52Z``; audit logs carry 7 fractional digits."""
    if ms is None:
        return None
    sec, milli = divmod(ms, 1000)
    day, rem = divmod(sec, 86_400)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%dT")
        _DAY_PREFIX[day] = prefix
    hour, rem = divmod(rem, 3600)
    minute, second = divmod(rem, 60)
    tail = f".{milli:03d}0000Z" if fraction else "Z"
    return f"{prefix}{hour:02d}:{minute:02d}:{second:02d}{tail}"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _hash_uuid(*parts: object) -> str:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def _opaque(*parts: object, n: int = 43) -> str:
    """Base64url-looking opaque ids (grant and assignment ids, permission ids)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=48).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:n]


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


class UserRec:
    __slots__ = (
        "agent",
        "created",
        "department",
        "display",
        "domain_part",
        "enabled",
        "first",
        "guest",
        "home",
        "id",
        "job",
        "last",
        "last_interactive",
        "last_noninteractive",
        "last_success",
        "mail",
        "office",
        "state",
        "upn",
    )

    # Declared for the type checker only: bare annotations add no class attributes, so the
    # __slots__ (one small record per generated user, hundreds of thousands per tenant) stay.
    id: str
    first: str
    last: str
    display: str
    guest: bool
    mail: str
    upn: str
    state: str | None
    enabled: bool
    department: str | None
    job: str | None
    office: str | None
    home: int
    agent: int
    created: int
    last_interactive: int | None
    last_noninteractive: int | None
    last_success: int | None
    domain_part: str


# --------------------------------------------------------------------------------------------
# The tenant
# --------------------------------------------------------------------------------------------


class Microsoft365Tenant:
    """All generated data of one tenant. Pure data: no HTTP, no auth."""

    def __init__(self, *, name: str, seed: int, users: int, options: Microsoft365Options, anchor: datetime):
        self.name = name
        self.seed = seed
        self.options = options
        self.anchor = anchor.astimezone(UTC).replace(microsecond=0)
        self.anchor_ms = int(self.anchor.timestamp()) * 1000
        self.history_ms = options.history_days * DAY_MS
        self.workforce = workforce_of(options)
        self.domain = options.domain or (self.workforce.domain if self.workforce else f"{name}.example.com")
        self.initial_domain = f"{name}.onmicrosoft.com"
        self.sharepoint_host = f"{name}.sharepoint.com"
        rng = random.Random(f"m365-tenant:{name}:{seed}")
        self.tenant_id = _uuid(rng)
        self.clients = options.clients if options.clients is not None else default_clients(name, seed)
        self._make_users(random.Random(f"m365-users:{name}:{seed}"), max(1, users))
        self._make_groups(random.Random(f"m365-groups:{name}:{seed}"))
        self._make_apps(random.Random(f"m365-apps:{name}:{seed}"))
        self._make_roles(random.Random(f"m365-roles:{name}:{seed}"))
        self._make_events(random.Random(f"m365-events:{name}:{seed}"))
        self._make_drives(random.Random(f"m365-drives:{name}:{seed}"))

    # ---------------------------------------------------------------- users

    def _make_users(self, rng: random.Random, n: int) -> None:
        anchor = self.anchor_ms
        recs: list[UserRec] = []
        seen: set[str] = set()
        n_guests = round((n - 1) * self.options.guest_share)
        for i in range(n):
            u = UserRec()
            u.id = _uuid(rng)
            u.guest = 0 < i <= n_guests
            if i == 0:
                u.first, u.last = "MOD", "Administrator"
                base = "admin"
            else:
                uni = rng.random() < 0.08
                u.first = rng.choice(UNICODE_FIRST) if uni else rng.choice(FIRST_NAMES)
                u.last = rng.choice(UNICODE_LAST) if uni and rng.random() < 0.7 else rng.choice(LAST_NAMES)
                base = f"{_ascii(u.first) or 'user'}.{_ascii(u.last) or 'x'}"
            k, candidate = 2, base
            while candidate in seen:
                candidate, k = f"{base}{k}", k + 1
            seen.add(candidate)
            u.display = f"{u.first} {u.last}"
            if u.guest:
                home = GUEST_DOMAINS[rng.randrange(len(GUEST_DOMAINS))]
                u.mail = f"{candidate}@{home}"
                u.upn = f"{candidate}_{home}#EXT#@{self.initial_domain}"
                u.state = "Accepted" if rng.random() < 0.8 else "PendingAcceptance"
            else:
                u.mail = f"{candidate}@{self.domain}"
                u.upn = u.mail
                u.state = None
            u.enabled = i == 0 or rng.random() >= 0.06
            u.department = "IT" if i == 0 else (None if u.guest else rng.choice(DEPARTMENTS))
            u.job = "Administrator" if i == 0 else (None if u.guest else rng.choice(TITLES))
            u.office = None if u.guest else rng.choice(OFFICES)
            u.home = rng.randrange(len(LOCATIONS))
            u.agent = rng.randrange(len(AGENTS))
            u.created = anchor - rng.randrange(self.history_ms, 3 * 365 * DAY_MS) // 1000 * 1000
            never = u.state == "PendingAcceptance" or rng.random() < 0.05
            if never:
                u.last_interactive = u.last_noninteractive = u.last_success = None
            else:
                last = anchor - rng.randrange(0, 30 * DAY_MS) // 1000 * 1000
                u.last_interactive = max(u.created, last)
                u.last_noninteractive = max(u.created, anchor - rng.randrange(0, 3 * DAY_MS) // 1000 * 1000)
                u.last_success = max(u.last_interactive, u.last_noninteractive)
            recs.append(u)
        self._fail_every_attempt_of_some(recs[1:])
        if self.workforce:
            recs += self._workforce_recs(seen)
        recs.sort(key=lambda r: r.id)  # directory listings come back in object id order
        self.urecs = recs
        self.user_ids = [u.id for u in recs]
        self.user_index = {u.id: i for i, u in enumerate(recs)}
        self.admin_index = next(i for i, u in enumerate(recs) if u.upn.startswith("admin@"))
        self.members = [i for i, u in enumerate(recs) if not u.guest]
        self.active_members = [i for i in self.members if recs[i].enabled]
        self.users = [self._user_doc(i) for i in range(len(recs))]

    def _fail_every_attempt_of_some(self, recs: list[UserRec]) -> None:
        """Turn a share of the signed-in users into sprayed dormant accounts: their interactive
        attempt stays, their successes go. Chosen by a hash of the id, not by the tenant's random
        stream, so every other generated value stays what it was before such users existed."""
        signed_in = [u for u in recs if u.last_success is not None]
        count = round(len(signed_in) * self.options.failed_sign_in_only_share)
        if self.options.failed_sign_in_only_share and signed_in:
            count = max(1, count)
        signed_in.sort(key=lambda u: hashlib.blake2b(f"{self.seed}:failed-only:{u.id}".encode()).digest())
        for u in signed_in[:count]:
            u.last_success = u.last_noninteractive = None

    def _user_doc(self, i: int) -> dict[str, Any]:
        u = self.urecs[i]
        activity = None
        if u.last_interactive is not None:
            activity = {
                "lastSignInDateTime": iso(u.last_interactive),
                "lastSignInRequestId": _hash_uuid(self.seed, "si", u.id),
                "lastNonInteractiveSignInDateTime": iso(u.last_noninteractive),
                "lastNonInteractiveSignInRequestId": _hash_uuid(self.seed, "sni", u.id),
                "lastSuccessfulSignInDateTime": iso(u.last_success),
                "lastSuccessfulSignInRequestId": _hash_uuid(self.seed, "ss", u.id),
            }
        return {
            "id": u.id,
            "businessPhones": [] if u.guest else [f"+1 425 555 {int(u.id[:4], 16) % 10000:04d}"],
            "displayName": u.display,
            "givenName": u.first,
            "surname": u.last,
            "jobTitle": u.job,
            "mail": u.mail,
            "mobilePhone": None,
            "officeLocation": u.office,
            "preferredLanguage": None if u.guest else "en-US",
            "userPrincipalName": u.upn,
            "accountEnabled": u.enabled,
            "userType": "Guest" if u.guest else "Member",
            "createdDateTime": iso(u.created),
            "creationType": "Invitation" if u.guest else None,
            "externalUserState": u.state,
            "externalUserStateChangeDateTime": iso(u.created + DAY_MS) if u.state == "Accepted" else None,
            "department": u.department,
            "companyName": None if u.guest else self.name.capitalize(),
            "usageLocation": None if u.guest else LOCATIONS[u.home].country,
            "onPremisesSyncEnabled": None,
            "signInActivity": activity,
            # Returned only on $select (resources/user.md); revokeSignInSessions moves it to now.
            "signInSessionsValidFromDateTime": iso(u.created),
            "passwordProfile": {
                "forceChangePasswordNextSignIn": False,
                "forceChangePasswordNextSignInWithMfa": False,
                "password": None,
            },
        }

    # ---------------------------------------------------------------- groups

    def _make_groups(self, rng: random.Random) -> None:
        n_users = len(self.urecs)
        count = self.options.groups if self.options.groups is not None else min(300, max(5, round(n_users / 25)))
        names = list(GROUP_TOPICS) + [f"Team {k}" for k in range(max(0, count - len(GROUP_TOPICS)))]
        groups: list[dict[str, Any]] = []
        members: list[list[tuple[str, int]]] = []  # ("user"|"group"|"sp", index)
        for gi in range(count):
            name = names[gi]
            flavour = ("unified", "security", "security", "mailsecurity", "distribution")[gi % 5]
            nickname = (_ascii(name) or f"group{gi}")[:40] + (str(gi) if gi >= len(GROUP_TOPICS) else "")
            created = self.anchor_ms - rng.randrange(30 * DAY_MS, 3 * 365 * DAY_MS) // 1000 * 1000
            doc = {
                "id": _uuid(rng),
                "displayName": name,
                "description": f"{name} ({flavour})",
                "groupTypes": ["Unified"] if flavour == "unified" else [],
                "mailEnabled": flavour in ("unified", "mailsecurity", "distribution"),
                "securityEnabled": flavour in ("security", "mailsecurity"),
                "mailNickname": nickname,
                "mail": f"{nickname}@{self.domain}" if flavour != "security" else None,
                "visibility": ("Public" if gi % 2 else "Private") if flavour == "unified" else None,
                "isAssignableToRole": None,
                "createdDateTime": iso(created),
                "renewedDateTime": iso(created),
                "securityIdentifier": f"S-1-12-1-{rng.randrange(10**9)}-{rng.randrange(10**9)}",
                "onPremisesSyncEnabled": None,
            }
            size = n_users if name == "All Company" else rng.randint(0, max(1, min(60, n_users // 3)))
            chosen = sorted(rng.sample(range(n_users), min(size, n_users)))
            groups.append(doc)
            members.append([("user", ui) for ui in chosen])
        # A role-assignable security group that holds the Helpdesk Administrator role.
        helpdesk = {
            "id": _uuid(rng),
            "displayName": "Helpdesk Admins",
            "description": "Role-assignable group for the service desk",
            "groupTypes": [],
            "mailEnabled": False,
            "securityEnabled": True,
            "mailNickname": "helpdeskadmins",
            "mail": None,
            "visibility": "Private",
            "isAssignableToRole": True,
            "createdDateTime": iso(self.anchor_ms - 200 * DAY_MS),
            "renewedDateTime": iso(self.anchor_ms - 200 * DAY_MS),
            "securityIdentifier": f"S-1-12-1-{rng.randrange(10**9)}-{rng.randrange(10**9)}",
            "onPremisesSyncEnabled": None,
        }
        pool = self.active_members[1:] or self.active_members
        groups.append(helpdesk)
        members.append([("user", ui) for ui in sorted(rng.sample(pool, min(3, len(pool))))])
        # Nested groups: a few groups contain other groups (directory objects that are not users).
        for gi in range(1, min(count, 4)):
            members[0].append(("group", gi))
        order = sorted(range(len(groups)), key=lambda g: groups[g]["id"])
        remap = {old: new for new, old in enumerate(order)}
        self.groups = [groups[g] for g in order]
        self.group_members = [
            [(kind, remap[idx] if kind == "group" else idx) for kind, idx in members[g]] for g in order
        ]
        self.helpdesk_group = remap[len(groups) - 1]

    # ---------------------------------------------------------------- apps

    def _make_apps(self, rng: random.Random) -> None:
        """Service principals: Microsoft Graph (the resource), the sandbox's own clients, third-party apps."""
        sps: list[dict[str, Any]] = []
        graph = {
            "id": _uuid(rng),
            "appId": GRAPH_APP_ID,
            "displayName": "Microsoft Graph",
            "appDisplayName": "Microsoft Graph",
            "servicePrincipalType": "Application",
            "accountEnabled": True,
            "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
            "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None},
            "signInAudience": "AzureADMultipleOrgs",
            "tags": [],
            "servicePrincipalNames": [GRAPH_APP_ID, "https://graph.microsoft.com"],
            "appRoles": [
                {
                    "allowedMemberTypes": ["Application"],
                    "description": f"Allows the app to {value} without a signed-in user.",
                    "displayName": value,
                    "id": role_id,
                    "isEnabled": True,
                    "origin": "Application",
                    "value": value,
                }
                for value, role_id in GRAPH_APP_ROLES.items()
            ],
            "oauth2PermissionScopes": [
                {
                    "adminConsentDescription": f"Allows the app to {value} on behalf of the signed-in user.",
                    "adminConsentDisplayName": value,
                    "id": scope_id,
                    "isEnabled": True,
                    "type": "User",
                    "userConsentDescription": f"Allows the app to {value} on your behalf.",
                    "userConsentDisplayName": value,
                    "value": value,
                }
                for value, scope_id in GRAPH_SCOPES.items()
            ],
        }
        sps.append(graph)
        app_roles: list[tuple[int, tuple[str, ...]]] = []  # (sp index, permissions)
        delegated: list[tuple[int, tuple[str, ...]]] = []
        for client in self.clients:
            sps.append(self._sp_doc(rng, client.client_id, client.display_name, None))
            app_roles.append((len(sps) - 1, tuple(client.roles)))
        for name, publisher, roles, scopes in APPS:
            sps.append(self._sp_doc(rng, _uuid(rng), name, publisher))
            if roles:
                app_roles.append((len(sps) - 1, roles))
            if scopes:
                delegated.append((len(sps) - 1, scopes))
        self.service_principals = sps
        # The line-of-business app that provisions users: it holds a directory role and acts in audits.
        self.sync_app = next(sp for sp in sps if sp["displayName"] == APPS[0][0])
        self.graph_sp = graph
        self.client_sp = {c.client_id: sps[1 + k] for k, c in enumerate(self.clients)}
        created0 = self.anchor_ms - 90 * DAY_MS
        self.app_role_assignments: dict[str, list[dict[str, Any]]] = {}
        for si, roles in app_roles:
            sp = sps[si]
            self.app_role_assignments[sp["id"]] = [
                {
                    "id": _opaque(self.seed, "ara", sp["id"], role),
                    "appRoleId": GRAPH_APP_ROLES[role],
                    "createdDateTime": iso(created0 + k * 60_000, fraction=True),
                    "deletedDateTime": None,
                    "principalDisplayName": sp["displayName"],
                    "principalId": sp["id"],
                    "principalType": "ServicePrincipal",
                    "resourceDisplayName": "Microsoft Graph",
                    "resourceId": graph["id"],
                }
                for k, role in enumerate(roles)
            ]
        # Delegated consent: some apps are admin-consented for all users, others by individual users.
        grants: list[dict[str, Any]] = []
        for k, (si, scopes) in enumerate(delegated):
            client_id = sps[si]["id"]
            scope = " " + " ".join(scopes)  # Graph stores consented scopes space-separated, often with a lead space
            if k % 3 == 0:
                grants.append(self._grant(client_id, "AllPrincipals", None, scope))
            consenters = rng.sample(self.active_members, min(len(self.active_members), rng.randint(1, 12)))
            for ui in sorted(consenters):
                grants.append(self._grant(client_id, "Principal", self.user_ids[ui], scope))
        if self.workforce:
            grants += self._workforce_grants(sps, delegated, {g["id"] for g in grants})
        self.grants = sorted(grants, key=lambda g: g["id"])
        self.consent_pairs = [(g["clientId"], g["principalId"]) for g in self.grants if g["principalId"]]

    def _sp_doc(self, rng: random.Random, app_id: str, name: str, publisher: str | None) -> dict[str, Any]:
        return {
            "id": _uuid(rng),
            "appId": app_id,
            "displayName": name,
            "appDisplayName": name,
            "servicePrincipalType": "Application",
            "accountEnabled": True,
            "appOwnerOrganizationId": self.tenant_id if publisher is None else _hash_uuid("publisher", publisher),
            "verifiedPublisher": {
                "displayName": publisher,
                "verifiedPublisherId": str(int(_hash_uuid("mpn", publisher)[:6], 16)) if publisher else None,
                "addedDateTime": iso(self.anchor_ms - 400 * DAY_MS) if publisher else None,
            },
            "signInAudience": "AzureADMyOrg" if publisher is None else "AzureADMultipleOrgs",
            "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
            "servicePrincipalNames": [app_id],
            "appRoles": [],
            "oauth2PermissionScopes": [],
        }

    def _grant(self, client_id: str, consent: str, principal: str | None, scope: str) -> dict[str, Any]:
        return {
            "id": _opaque(self.seed, "grant", client_id, principal or "all"),
            "clientId": client_id,
            "consentType": consent,
            "principalId": principal,
            "resourceId": self.graph_sp["id"],
            "scope": scope,
        }

    # ---------------------------------------------------------------- directory roles

    def _make_roles(self, rng: random.Random) -> None:
        """Activated directory roles and their members (users, a role-assignable group, an app)."""
        holders: dict[int, list[tuple[str, int]]] = {r: [] for r in range(len(ROLE_TEMPLATES))}
        holders[R_GLOBAL].append(("user", self.admin_index))
        pool = [i for i in self.active_members if i != self.admin_index]
        n_admins = min(len(pool), max(1, len(self.urecs) // 50))
        for ui in rng.sample(pool, n_admins):
            holders[
                rng.choice((R_GLOBAL, R_USER, R_SHAREPOINT, R_EXCHANGE, R_SECREADER, R_GLOBALREADER, R_APPADMIN))
            ].append(("user", ui))
        if self.workforce:  # the plan's admins are Global Administrators
            holders[R_GLOBAL] += [
                ("user", self.user_index[self._workforce_id(a.email)]) for a in self._planned(admin=True)
            ]
        holders[R_HELPDESK].append(("group", self.helpdesk_group))
        hr_sync = self.sync_app
        holders[R_DIRREADERS].append(("sp", self.service_principals.index(hr_sync)))
        self.roles: list[dict[str, Any]] = []
        self.role_members: list[list[tuple[str, int]]] = []
        for r, (template, display, description) in enumerate(ROLE_TEMPLATES):
            self.roles.append(
                {
                    "id": _uuid(rng),
                    "deletedDateTime": None,
                    "description": description,
                    "displayName": display,
                    "roleTemplateId": template,
                }
            )
            self.role_members.append(sorted(set(holders[r]), key=lambda m: self._object_id(m)))
        self.admin_user_indexes: set[int] = set()
        for members in self.role_members:
            for kind, idx in members:
                if kind == "user":
                    self.admin_user_indexes.add(idx)
                elif kind == "group":
                    self.admin_user_indexes.update(ui for k, ui in self.group_members[idx] if k == "user")

    def _object_id(self, member: tuple[str, int]) -> str:
        kind, idx = member
        if kind == "user":
            return self.user_ids[idx]
        if kind == "group":
            return self.groups[idx]["id"]
        return self.service_principals[idx]["id"]

    def member_doc(self, member: tuple[str, int]) -> dict[str, Any]:
        """A directoryObject in a members collection, carrying its @odata.type."""
        kind, idx = member
        if kind == "user":
            return {"@odata.type": "#microsoft.graph.user", **self.users[idx]}
        if kind == "group":
            return {"@odata.type": "#microsoft.graph.group", **self.groups[idx]}
        return {"@odata.type": "#microsoft.graph.servicePrincipal", **self.service_principals[idx]}

    # ---------------------------------------------------------------- events

    def _make_events(self, rng: random.Random) -> None:
        total = self.options.events if self.options.events is not None else 10 * len(self.urecs)
        n_sign = round(total * self.options.sign_in_share)
        self.si_ts, self.si_kind, self.si_actor, self.si_salt = self._timeline(rng, n_sign)
        disabled = {i for i, u in enumerate(self.urecs) if not u.enabled}
        users = len(self.urecs)
        for k in range(n_sign):
            actor = rng.randrange(users)
            self.si_actor[k] = actor
            self.si_kind[k] = SI_DISABLED if actor in disabled else rng.choices(range(6), _SIGN_IN_WEIGHTS)[0]
        self.au_ts, self.au_kind, self.au_actor, self.au_salt = self._timeline(rng, total - n_sign)
        self.au_target = array("i", [0]) * (total - n_sign)
        self.written_audits: dict[int, dict[str, Any]] = {}  # position -> event a write recorded
        admins = sorted(self.admin_user_indexes) or [self.admin_index]
        n_groups = max(1, len(self.groups))
        for k in range(total - n_sign):
            kind = rng.choices(range(len(AUDIT_KINDS)), _AUDIT_WEIGHTS)[0]
            spec = AUDIT_KINDS[kind]
            target_user = rng.randrange(users)
            self.au_kind[k] = kind
            if spec.initiator == "admin":
                self.au_actor[k] = rng.choice(admins)
            elif spec.initiator == "self":
                self.au_actor[k] = target_user
            else:
                self.au_actor[k] = -1  # an application
            if spec.target == "group_user":
                self.au_target[k] = rng.randrange(n_groups) * users + target_user
            elif spec.target == "sp":
                self.au_target[k] = rng.randrange(len(self.service_principals))
            elif spec.target == "policy":
                self.au_target[k] = rng.randrange(len(CA_POLICIES))
            elif spec.target == "role_user":
                self.au_target[k] = rng.randrange(len(ROLE_TEMPLATES)) * users + target_user
            else:
                self.au_target[k] = target_user

    def _timeline(self, rng: random.Random, n: int) -> tuple[array, array, array, array]:
        start = self.anchor_ms - self.history_ms
        stamps = sorted(start + rng.randrange(0, self.history_ms + 1) for _ in range(n))
        salts = array("q", (rng.getrandbits(62) for _ in range(n)))
        return array("q", stamps), array("b", [0]) * n, array("i", [0]) * n, salts

    def sign_in_doc(self, k: int) -> dict[str, Any]:
        u = self.urecs[self.si_actor[k]]
        kind = SIGN_IN_KINDS[self.si_kind[k]]
        salt = self.si_salt[k]
        anomaly = salt % 37 == 0
        loc = ANOMALY if anomaly else LOCATIONS[u.home]
        agent = AGENTS[(u.agent + (salt % 7 == 0)) % len(AGENTS)]
        app_id, app_name, resource = SIGN_IN_APPS[salt % len(SIGN_IN_APPS)]
        risky = anomaly and kind.error_code == 0
        return {
            "id": _hash_uuid(self.seed, "signin", k, salt),
            "createdDateTime": iso(self.si_ts[k]),
            "userDisplayName": u.display,
            "userPrincipalName": u.upn,
            "userId": u.id,
            "appId": app_id,
            "appDisplayName": app_name,
            "ipAddress": f"{loc.ip_prefix}.{1 + salt % 254}",
            "clientAppUsed": "Mobile Apps and Desktop clients" if "Teams" in agent[0] else "Browser",
            "userAgent": agent[0],
            "correlationId": _hash_uuid(self.seed, "corr", k, salt),
            "conditionalAccessStatus": kind.ca_status,
            "isInteractive": True,
            "riskDetail": "none",
            "riskLevelAggregated": "medium" if risky else "none",
            "riskLevelDuringSignIn": "medium" if risky else "none",
            "riskState": "atRisk" if risky else "none",
            "riskEventTypes": ["unfamiliarFeatures"] if risky else [],
            "riskEventTypes_v2": ["unfamiliarFeatures"] if risky else [],
            "resourceDisplayName": resource,
            "resourceId": _hash_uuid("resource", resource),
            "status": {
                "errorCode": kind.error_code,
                "failureReason": kind.failure_reason,
                "additionalDetails": "MFA requirement satisfied by claim in the token"
                if kind.error_code == 0
                else None,
            },
            "deviceDetail": {
                "deviceId": "",
                "displayName": "",
                "operatingSystem": agent[1],
                "browser": agent[2],
                "isCompliant": False,
                "isManaged": False,
                "trustType": "",
            },
            "location": {
                "city": loc.city,
                "state": loc.state,
                "countryOrRegion": loc.country,
                "geoCoordinates": {"altitude": None, "latitude": loc.lat, "longitude": loc.lon},
            },
            "appliedConditionalAccessPolicies": [],
        }

    def record_audit(self, doc: dict[str, Any], at_ms: int) -> str:
        """Append an audit event a write produced (activityDateTime ``at_ms``, never before the last
        event, so the log's timestamps stay sorted); returns its id."""
        k = len(self.au_ts)
        at_ms = max(at_ms, self.au_ts[-1] if k else at_ms)
        self.au_ts.append(at_ms)
        self.au_kind.append(0)
        self.au_actor.append(-1)
        self.au_target.append(0)
        self.au_salt.append(0)
        event_id = f"Directory_{_hash_uuid(self.seed, 'written', k)[:8].upper()}_{k:08d}"
        self.written_audits[k] = {"id": event_id, **doc, "activityDateTime": iso(at_ms, fraction=True)}
        return event_id

    def directory_audit_doc(self, k: int) -> dict[str, Any]:
        written = self.written_audits.get(k)
        if written is not None:
            return dict(written)
        spec = AUDIT_KINDS[self.au_kind[k]]
        salt = self.au_salt[k]
        users = len(self.urecs)
        actor = self.au_actor[k]
        target_value = self.au_target[k]
        ip = None
        if actor >= 0:
            a = self.urecs[actor]
            ip = f"{LOCATIONS[a.home].ip_prefix}.{1 + salt % 254}"
            initiated = {
                "app": None,
                "user": {
                    "id": a.id,
                    "displayName": None,
                    "userPrincipalName": a.upn,
                    "ipAddress": ip,
                },
            }
        else:
            sp = self.sync_app
            initiated = {
                "user": None,
                "app": {
                    "appId": sp["appId"],
                    "displayName": sp["displayName"],
                    "servicePrincipalId": sp["id"],
                    "servicePrincipalName": None,
                },
            }
        targets = self._audit_targets(spec, target_value, users)
        details = [{"key": "User-Agent", "value": AGENTS[salt % len(AGENTS)][0]}] if actor >= 0 else []
        return {
            "id": f"Directory_{_hash_uuid(self.seed, 'audit', k, salt)[:8].upper()}_{salt % 10**8:08d}",
            "category": spec.category,
            "correlationId": _hash_uuid(self.seed, "acorr", k, salt),
            "result": spec.result,
            "resultReason": spec.reason,
            "activityDisplayName": spec.activity,
            "activityDateTime": iso(self.au_ts[k], fraction=True),
            "loggedByService": spec.service,
            "operationType": spec.operation,
            "initiatedBy": initiated,
            "targetResources": targets,
            "additionalDetails": details,
        }

    def _audit_targets(self, spec: AuditKind, value: int, users: int) -> list[dict[str, Any]]:
        def user_target(ui: int, modified: list[dict[str, Any]]) -> dict[str, Any]:
            u = self.urecs[ui]
            return {
                "id": u.id,
                "displayName": None,
                "type": "User",
                "userPrincipalName": u.upn,
                "groupType": None,
                "modifiedProperties": modified,
            }

        if spec.target == "group_user":
            gi, ui = divmod(value, users)
            g = self.groups[gi] if self.groups else {"id": _hash_uuid("nogroup"), "displayName": "Group"}
            return [
                user_target(
                    ui, [{"displayName": "Group.DisplayName", "oldValue": None, "newValue": f'"{g["displayName"]}"'}]
                ),
                {
                    "id": g["id"],
                    "displayName": g["displayName"],
                    "type": "Group",
                    "userPrincipalName": None,
                    "groupType": "unifiedGroups" if "Unified" in g.get("groupTypes", []) else "azureAD",
                    "modifiedProperties": [],
                },
            ]
        if spec.target == "role_user":
            r, ui = divmod(value, users)
            role = self.roles[r]
            return [
                user_target(
                    ui, [{"displayName": "Role.DisplayName", "oldValue": None, "newValue": f'"{role["displayName"]}"'}]
                ),
                {
                    "id": role["id"],
                    "displayName": role["displayName"],
                    "type": "Role",
                    "userPrincipalName": None,
                    "groupType": None,
                    "modifiedProperties": [],
                },
            ]
        if spec.target == "sp":
            sp = self.service_principals[value]
            return [
                {
                    "id": sp["id"],
                    "displayName": sp["displayName"],
                    "type": "ServicePrincipal",
                    "userPrincipalName": None,
                    "groupType": None,
                    "modifiedProperties": [],
                }
            ]
        if spec.target == "policy":
            name = CA_POLICIES[value]
            return [
                {
                    "id": _hash_uuid(self.seed, "policy", name),
                    "displayName": name,
                    "type": "Policy",
                    "userPrincipalName": None,
                    "groupType": None,
                    "modifiedProperties": [
                        {
                            "displayName": "ConditionalAccessPolicy",
                            "oldValue": '{"state":"enabled"}',
                            "newValue": '{"state":"enabled"}',
                        }
                    ],
                }
            ]
        modified = (
            [{"displayName": "AccountEnabled", "oldValue": "[true]", "newValue": "[false]"}]
            if (spec.activity == "Disable account")
            else []
        )
        return [user_target(value, modified)]

    @property
    def sign_in_count(self) -> int:
        return len(self.si_ts)

    @property
    def audit_count(self) -> int:
        return len(self.au_ts)

    # ---------------------------------------------------------------- drives, items, permissions

    def _make_drives(self, rng: random.Random) -> None:
        self.contents = DriveContents(self.seed, self.name, self.options.large_file_mb)
        self.drives: list[dict[str, Any]] = []
        self.drive_items: list[list[dict[str, Any]]] = []  # root first, parents before children
        self.item_permissions: dict[str, list[dict[str, Any]]] = {}
        self.user_drive: dict[int, int] = {}
        for ui in self.active_members:
            if ui != self.admin_index and rng.random() >= self.options.onedrive_share:
                continue
            u = self.urecs[ui]
            owner = {"user": {"id": u.id, "displayName": u.display, "email": u.mail}}
            slug = u.upn.replace("@", "_").replace(".", "_")
            web = f"https://{self.name}-my.sharepoint.com/personal/{slug}/Documents"
            self.user_drive[ui] = len(self.drives)
            self._add_drive(rng, "business", "OneDrive", owner, web, ui)
        n_sites = self.options.sites if self.options.sites is not None else min(20, 1 + len(self.groups) // 5)
        self.sites: list[dict[str, Any]] = []
        self.site_drives: list[list[int]] = []
        for s in range(n_sites):
            group = self.groups[s % len(self.groups)] if self.groups and s else None
            title = group["displayName"] if group else "Communication site"
            path = f"/sites/{(_ascii(title) or 'site')}{s}" if s else ""
            collection, web_id = _uuid(rng), _uuid(rng)
            self.sites.append(
                {
                    "id": f"{self.sharepoint_host},{collection},{web_id}",
                    "name": (_ascii(title) or "site") + (str(s) if s else ""),
                    "displayName": title,
                    "description": f"{title} team site" if group else "The root site",
                    "webUrl": f"https://{self.sharepoint_host}{path}",
                    "createdDateTime": iso(self.anchor_ms - rng.randrange(60, 700) * DAY_MS),
                    "lastModifiedDateTime": iso(self.anchor_ms - rng.randrange(0, 30) * DAY_MS),
                }
            )
            # Site libraries are owned by SharePoint itself; members come from the site's groups.
            owner = {"user": {"displayName": "System Account"}}
            self.site_drives.append([len(self.drives)])
            web = f"https://{self.sharepoint_host}{path}/Shared%20Documents"
            self._add_drive(rng, "documentLibrary", "Documents", owner, web, rng.choice(self.active_members), title)
        if self.workforce:
            self._workforce_files(random.Random(f"m365-workforce:{self.name}:{self.seed}"))
        self._special_files(random.Random(f"m365-specials:{self.name}:{self.seed}"))
        labels = random.Random(f"m365-labels:{self.name}:{self.seed}")
        for items in self.drive_items:
            self.contents.initial_labels(labels, items, self.tenant_id)

    def _add_drive(
        self,
        rng: random.Random,
        drive_type: str,
        name: str,
        owner: dict[str, Any],
        web: str,
        author: int,
        site_title: str | None = None,
    ) -> None:
        drive_id = "b!" + _opaque(self.seed, "drive", len(self.drives), n=64)
        created = self.anchor_ms - rng.randrange(100, 900) * DAY_MS
        drive = {
            "id": drive_id,
            "driveType": drive_type,
            "name": name,
            "description": "",
            "createdDateTime": iso(created),
            "lastModifiedDateTime": iso(self.anchor_ms - rng.randrange(0, 20) * DAY_MS),
            "webUrl": web,
            "owner": owner,
        }
        self.drives.append(drive)
        ref = {"driveId": drive_id, "driveType": drive_type}
        root_id = "01" + _opaque(self.seed, "root", drive_id, n=32).upper().replace("-", "A").replace("_", "B")
        root: dict[str, Any] = {
            "id": root_id,
            "name": "root",
            "webUrl": web,
            "createdDateTime": iso(created),
            "lastModifiedDateTime": drive["lastModifiedDateTime"],
            "size": 0,
            "root": {},
            "folder": {"childCount": 0},
            "parentReference": {**ref},
        }
        items = [root]
        folders = [(root, "/drive/root:")]
        a = self.urecs[author]
        creator = {"id": a.id, "displayName": a.display, "email": a.mail}
        n_items = rng.randint(0, 2 * self.options.files_per_drive)
        for j in range(n_items):
            parent, parent_path = folders[rng.randrange(len(folders))]
            is_folder = j < 2 and rng.random() < 0.4
            item_id = "01" + _opaque(self.seed, "item", drive_id, j, n=32).upper().replace("-", "A").replace("_", "B")
            stamp = self.anchor_ms - rng.randrange(0, 400) * DAY_MS - rng.randrange(DAY_MS) // 1000 * 1000
            name = (
                rng.choice(("Projects", "Shared", "Archive", "Budgets", "Drafts")) + (f" {j}" if j else "")
                if is_folder
                else f"{rng.choice(('Q3 Report', 'Roadmap', 'Budget', 'Notes', 'Contract', 'Slides'))} {j}"
                + rng.choice(FILE_EXTENSIONS)
            )
            item: dict[str, Any] = {
                "id": item_id,
                "name": name,
                "eTag": f'"{{{_hash_uuid(item_id).upper()}}},1"',
                "cTag": f'"c:{{{_hash_uuid(item_id).upper()}}},1"',
                "webUrl": f"{web}/{name.replace(' ', '%20')}",
                "createdDateTime": iso(stamp),
                # Modified after creation, but never after the tenant's "now".
                "lastModifiedDateTime": iso(min(self.anchor_ms, stamp + rng.randrange(0, 30) * DAY_MS)),
                "size": 0 if is_folder else rng.randrange(10_000, 5_000_000),
                "parentReference": {**ref, "id": parent["id"], "path": parent_path},
            }
            item["createdBy"] = {"user": dict(creator)}
            item["lastModifiedBy"] = {"user": dict(creator)}
            if is_folder:
                item["folder"] = {"childCount": 0}
                folders.append(
                    (item, f"{parent_path}/{name}" if parent_path != "/drive/root:" else f"/drive/root:/{name}")
                )
            else:
                item["file"] = {"mimeType": _mime(name), "hashes": {"quickXorHash": _opaque(item_id, n=28) + "="}}
            parent["folder"]["childCount"] += 1
            items.append(item)
            self.item_permissions[item_id] = self._permissions(rng, item, owner, site_title)
        self.drive_items.append(items)

    def _permissions(
        self, rng: random.Random, item: dict[str, Any], owner: dict[str, Any], site_title: str | None
    ) -> list[dict[str, Any]]:
        item_id = item["id"]
        perms: list[dict[str, Any]] = []
        if "user" in owner and "id" in owner["user"]:
            u = owner["user"]
            perms.append(
                {
                    "id": "aTowIy5mfG1lbWJlcnNoaXB8" + _opaque(item_id, "owner", n=16),
                    "roles": ["owner"],
                    "shareId": None,
                    "grantedToV2": {
                        "user": {
                            "@odata.type": "#microsoft.graph.sharePointIdentity",
                            "id": u["id"],
                            "displayName": u["displayName"],
                            "email": u["email"],
                        },
                        "siteUser": {
                            "@odata.type": "#microsoft.graph.sharePointIdentity",
                            "id": "3",
                            "displayName": u["displayName"],
                            "email": u["email"],
                            "loginName": f"i:0#.f|membership|{u['email'].lower()}",
                        },
                    },
                }
            )
        else:
            # A site library: the site's SharePoint "Members" group holds access.
            group_name, role = f"{site_title} Members", "write"
            perms.append(
                {
                    "id": _hash_uuid(item_id, "sitegroup"),
                    "roles": [role],
                    "shareId": None,
                    "grantedToV2": {
                        "siteGroup": {
                            "@odata.type": "#microsoft.graph.sharePointIdentity",
                            "id": "5",
                            "displayName": group_name,
                            "loginName": group_name,
                        },
                    },
                }
            )
        roll = rng.random()
        web = item["webUrl"]
        if roll < 0.25:  # shared with a colleague
            colleague = self.urecs[rng.choice(self.active_members)]
            perms.append(
                self._user_grant(
                    item_id, colleague.id, colleague.display, colleague.mail, rng.choice((["read"], ["write"])), None
                )
            )
        if 0.2 <= roll < 0.35:  # organization-wide link
            perms.append(self._link(item_id, "organization", rng.choice(("view", "edit")), web, None))
        if 0.3 <= roll < 0.4:  # anyone-with-the-link
            expires = iso(self.anchor_ms + 30 * DAY_MS) if rng.random() < 0.5 else None
            perms.append(self._link(item_id, "anonymous", "view", web, expires))
        if 0.38 <= roll < 0.5:  # invited an external guest
            guest_domain = GUEST_DOMAINS[rng.randrange(len(GUEST_DOMAINS))]
            email = f"partner{rng.randrange(100)}@{guest_domain}"
            perm = self._user_grant(item_id, None, email, email, ["read"], {"email": email, "signInRequired": True})
            perms.append(perm)
        if 0.48 <= roll < 0.55:  # specific-people link
            colleague = self.urecs[rng.choice(self.active_members)]
            link = self._link(item_id, "users", "edit", web, None)
            link["grantedToIdentitiesV2"] = [
                {
                    "user": {
                        "@odata.type": "#microsoft.graph.sharePointIdentity",
                        "id": colleague.id,
                        "displayName": colleague.display,
                        "email": colleague.mail,
                    }
                }
            ]
            perms.append(link)
        return perms

    @staticmethod
    def _user_grant(
        item_id: str, user_id: str | None, name: str, email: str, roles: list[str], invitation: dict[str, Any] | None
    ) -> dict[str, Any]:
        identity: dict[str, Any] = {
            "@odata.type": "#microsoft.graph.sharePointIdentity",
            "displayName": name,
            "email": email,
        }
        if user_id:
            identity["id"] = user_id
        perm: dict[str, Any] = {
            "id": _opaque(item_id, "grant", email, n=24),
            "roles": roles,
            "shareId": None,
            "grantedToV2": {"user": identity},
        }
        if invitation:
            perm["invitation"] = invitation
        return perm

    def _link(self, item_id: str, scope: str, kind: str, web: str, expires: str | None) -> dict[str, Any]:
        token = _opaque(item_id, "link", scope, kind, n=22)
        perm: dict[str, Any] = {
            "id": _hash_uuid(item_id, "link", scope, kind),
            "roles": ["write"] if kind == "edit" else ["read"],
            "shareId": "u!" + _opaque(web, scope, kind, n=40),
            "hasPassword": False,
            "link": {
                "scope": scope,
                "type": kind,
                "webUrl": f"https://{self.name}-my.sharepoint.com/:w:/g/personal/{token}",
                "preventsDownload": False,
            },
        }
        if expires:
            perm["expirationDateTime"] = expires
        return perm

    # ---------------------------------------------------------------- the shared workforce

    def _workforce_id(self, email: str) -> str:
        return _hash_uuid(self.seed, "workforce-user", email)

    def _planned(self, **state: Any) -> list[Any]:
        assert self.workforce is not None
        return [a for a in self.workforce.plan_for("microsoft365") if all(getattr(a, k) == v for k, v in state.items())]

    def _workforce_recs(self, seen: set[str]) -> list[UserRec]:
        """Users for the workforce's plan (saaslens_sandbox.workforce): suspended is a disabled
        account (accountEnabled false), guest an invited B2B guest who accepted (userType Guest,
        #EXT# UPN), last sign-in signInActivity.lastSuccessfulSignInDateTime."""
        recs = []
        for planned in self._planned():
            person = planned.person
            if person.handle in seen:
                raise ValueError(f"workforce user {person.handle} collides with a generated Microsoft 365 user")
            seen.add(person.handle)
            u = UserRec()
            u.id = self._workforce_id(planned.email)
            u.first, u.last, u.display = person.first, person.last, person.display
            u.guest = planned.guest
            u.mail = planned.email
            if u.guest:
                u.upn = f"{person.handle}_{planned.email.split('@')[1]}#EXT#@{self.initial_domain}"
                u.state = "Accepted"
            else:
                u.upn, u.state = planned.email, None
            u.enabled = planned.status == "active"
            u.department = None if u.guest else person.department
            u.job = None if u.guest else person.title
            u.office = None if u.guest else OFFICES[0]
            u.home = u.agent = 0
            u.created = days_before(self.anchor_ms, planned.created_days)
            last = days_before(self.anchor_ms, planned.last_login_days)
            u.last_interactive = u.last_noninteractive = u.last_success = last
            recs.append(u)
        return recs

    def _workforce_grants(
        self, sps: list[dict[str, Any]], delegated: list[tuple[int, tuple[str, ...]]], existing: set[str]
    ) -> list[dict[str, Any]]:
        """A user's consent (consentType Principal) to the app whose delegated scopes are the plan's."""
        grants = []
        for planned in self._planned():
            if not planned.grant_scopes:
                continue
            si = next((si for si, scopes in delegated if set(scopes) == set(planned.grant_scopes)), None)
            if si is None:
                raise ValueError(f"no app in the Microsoft 365 catalogue asks for exactly {planned.grant_scopes}")
            grant = self._grant(
                sps[si]["id"], "Principal", self._workforce_id(planned.email), " " + " ".join(planned.grant_scopes)
            )
            if grant["id"] not in existing:
                grants.append(grant)
        return grants

    def _workforce_files(self, rng: random.Random) -> None:
        """The plan's exposed files in the owner's OneDrive: an anyone-with-the-link sharing link
        (public) or an invitation to an address at the partner domain (external)."""
        assert self.workforce is not None
        for planned in self._planned():
            if not planned.files:
                continue
            ui = self.user_index[self._workforce_id(planned.email)]
            u = self.urecs[ui]
            owner = {"user": {"id": u.id, "displayName": u.display, "email": u.mail}}
            if ui not in self.user_drive:
                slug = u.upn.replace("@", "_").replace(".", "_")
                self.user_drive[ui] = len(self.drives)
                web = f"https://{self.name}-my.sharepoint.com/personal/{slug}/Documents"
                self._add_drive(rng, "business", "OneDrive", owner, web, ui)
            drive = self.drives[self.user_drive[ui]]
            items = self.drive_items[self.user_drive[ui]]
            root = items[0]
            for exposure in planned.files:
                name = f"{u.last} {exposure} share {len(items)}.pdf"
                item_id = "01" + _opaque(self.seed, "workforce-item", drive["id"], name, n=32).upper().replace(
                    "-", "A"
                ).replace("_", "B")
                stamp = self.anchor_ms - 10 * DAY_MS
                creator = {"id": u.id, "displayName": u.display, "email": u.mail}
                item: dict[str, Any] = {
                    "id": item_id,
                    "name": name,
                    "eTag": f'"{{{_hash_uuid(item_id).upper()}}},1"',
                    "cTag": f'"c:{{{_hash_uuid(item_id).upper()}}},1"',
                    "webUrl": f"{drive['webUrl']}/{name.replace(' ', '%20')}",
                    "createdDateTime": iso(stamp),
                    "lastModifiedDateTime": iso(stamp),
                    "size": 120_000,
                    "parentReference": {
                        "driveId": drive["id"],
                        "driveType": "business",
                        "id": root["id"],
                        "path": "/drive/root:",
                    },
                    "createdBy": {"user": dict(creator)},
                    "lastModifiedBy": {"user": dict(creator)},
                    "file": {"mimeType": "application/pdf", "hashes": {"quickXorHash": _opaque(item_id, n=28) + "="}},
                }
                root["folder"]["childCount"] += 1
                items.append(item)
                perms = self._permissions(random.Random(0), item, owner, None)[:1]  # the owner's own
                if exposure == "public":
                    perms.append(self._link(item_id, "anonymous", "view", item["webUrl"], None))
                else:
                    email = f"buyer@{self.workforce.partner_domain}"
                    invitation = {"email": email, "signInRequired": True}
                    perms.append(self._user_grant(item_id, None, email, email, ["write"], invitation))
                self.item_permissions[item_id] = perms

    def _special_files(self, rng: random.Random) -> None:
        """The corpus' special documents (a zip bomb dressed as .docx, an encrypted PDF, a corrupt
        workbook, a Latin-1 CSV, the large CSV when asked for) as files in ordinary users' OneDrives:
        the first shared with anyone with the link, the second with a partner outside the tenant."""
        owners = sorted(ui for ui in self.user_drive if ui not in self.admin_user_indexes) or sorted(self.user_drive)
        if not owners:
            return
        for k, document in enumerate(self.contents.corpus.specials()):
            ui = owners[(k * 7) % len(owners)]
            u = self.urecs[ui]
            owner = {"user": {"id": u.id, "displayName": u.display, "email": u.mail}}
            drive = self.drives[self.user_drive[ui]]
            items = self.drive_items[self.user_drive[ui]]
            root = items[0]
            item_id = "01" + _opaque(self.seed, "special-item", drive["id"], k, n=32).upper().replace("-", "A").replace(
                "_", "B"
            )
            stamp = self.anchor_ms - rng.randrange(1, 60) * DAY_MS
            creator = {"id": u.id, "displayName": u.display, "email": u.mail}
            item: dict[str, Any] = {
                "id": item_id,
                "name": document.name,
                "eTag": f'"{{{_hash_uuid(item_id).upper()}}},1"',
                "cTag": f'"c:{{{_hash_uuid(item_id).upper()}}},1"',
                "webUrl": f"{drive['webUrl']}/{document.name.replace(' ', '%20')}",
                "createdDateTime": iso(stamp),
                "lastModifiedDateTime": iso(stamp),
                "size": 0,  # the content's length, set when first needed (drive_contents.py)
                "parentReference": {
                    "driveId": drive["id"],
                    "driveType": drive["driveType"],
                    "id": root["id"],
                    "path": "/drive/root:",
                },
                "createdBy": {"user": dict(creator)},
                "lastModifiedBy": {"user": dict(creator)},
                "file": {"mimeType": document.mime_type, "hashes": {"quickXorHash": _opaque(item_id, n=28) + "="}},
            }
            root["folder"]["childCount"] += 1
            items.append(item)
            self.contents.special[item_id] = k
            perms = self._permissions(random.Random(0), item, owner, None)[:1]  # the owner's own
            if k == 0:
                perms.append(self._link(item_id, "anonymous", "view", item["webUrl"], None))
            elif k == 1:
                email = f"auditor@{GUEST_DOMAINS[2]}"
                invitation = {"email": email, "signInRequired": True}
                perms.append(self._user_grant(item_id, None, email, email, ["read"], invitation))
            self.item_permissions[item_id] = perms

    def item_count(self) -> int:
        return sum(len(items) - 1 for items in self.drive_items)

    # ---------------------------------------------------------------- ground truth

    def organization_doc(self) -> dict[str, Any]:
        return {
            "id": self.tenant_id,
            "displayName": self.name.capitalize(),
            "tenantType": "AAD",
            "createdDateTime": iso(self.anchor_ms - 1000 * DAY_MS),
            "countryLetterCode": "US",
            "verifiedDomains": [
                {
                    "capabilities": "Email, OfficeCommunicationsOnline",
                    "isDefault": True,
                    "isInitial": False,
                    "name": self.domain,
                    "type": "Managed",
                },
                {
                    "capabilities": "Email, OfficeCommunicationsOnline",
                    "isDefault": False,
                    "isInitial": True,
                    "name": self.initial_domain,
                    "type": "Managed",
                },
            ],
        }

    def iter_sign_ins(self) -> Iterator[dict[str, Any]]:
        return (self.sign_in_doc(k) for k in range(self.sign_in_count))

    def iter_directory_audits(self) -> Iterator[dict[str, Any]]:
        return (self.directory_audit_doc(k) for k in range(self.audit_count))

    def ground_truth(self) -> dict[str, Any]:
        user_members = [
            {"group_id": g["id"], "user_id": self.user_ids[idx]}
            for g, members in zip(self.groups, self.group_members, strict=True)
            for kind, idx in members
            if kind == "user"
        ]
        role_members = []
        for role, members in zip(self.roles, self.role_members, strict=True):
            for member in members:
                role_members.append(
                    {
                        "role_id": role["id"],
                        "role_name": role["displayName"],
                        "member_type": member[0],
                        "member_id": self._object_id(member),
                    }
                )
        # Without a SharePoint Online licence Graph serves no drive, so the lake must hold no file.
        licensed = self.options.sharepoint_online
        drives, sites = (self.drives, self.sites) if licensed else ([], [])
        files = []
        contents = self.contents
        expect: dict[str, str] = {}
        matches: dict[str, dict[str, int]] = {}
        planted: dict[str, list[str]] = {}
        for drive, items in zip(drives, self.drive_items, strict=False):
            for item in items[1:]:
                contents.materialize(item)
                assignment = contents.labels.get(item["id"])
                label_id = assignment["sensitivityLabelId"] if assignment else None
                files.append(
                    {
                        "drive_id": drive["id"],
                        "item": item,
                        "permissions": self.item_permissions[item["id"]],
                        "trashed": False,  # Graph lists no recycle bin item (drive_contents.py)
                        "sensitivity_label_id": label_id,
                        "sensitivity_label": contents.label_name(label_id),
                    }
                )
                found = contents.truth_of(item)  # the corpus' oracle for it; an upload holds nothing planted
                if found is None:  # a folder: the content scan's skip reason (contents.skip)
                    expect[item["id"]] = "skipped:no-content: a folder"
                    continue
                expect[item["id"]] = found[0]
                if found[0] == "scanned":
                    matches[item["id"]] = dict(found[1])
                if found[2]:
                    planted[item["id"]] = list(found[2])
        # Every listed item's expected scan outcome, the detector counts of those read, and the values
        # planted (to prove none reaches the lake, a log or a report).
        dlp = {"matches": matches, "expect": expect, "planted_values": planted}
        return {
            "app": "microsoft365",
            "tenant": self.name,
            "workforce": self.options.workforce,
            "tenant_id": self.tenant_id,
            "seed": self.seed,
            "anchor": iso(self.anchor_ms),
            "history_days": self.options.history_days,
            "premium": self.options.premium,
            "sharepoint_online": self.options.sharepoint_online,
            "domains": [self.domain, self.initial_domain],
            "users": self.users,
            "admin_user_ids": sorted(self.user_ids[i] for i in self.admin_user_indexes),
            "groups": self.groups,
            "group_user_members": user_members,
            "group_members": [
                {"group_id": g["id"], "member_id": self._object_id(m), "member_type": m[0]}
                for g, members in zip(self.groups, self.group_members, strict=True)
                for m in members
            ],
            "directory_roles": self.roles,
            "directory_role_members": role_members,
            "service_principals": self.service_principals,
            "app_role_assignments": [
                a for sp in self.service_principals for a in self.app_role_assignments.get(sp["id"], [])
            ],
            "oauth2_permission_grants": self.grants,
            "sign_ins": list(self.iter_sign_ins()),
            "directory_audits": list(self.iter_directory_audits()),
            "drives": drives,
            "sites": sites,
            "files": files,
            "dlp": dlp,
            "sensitivity_labels": contents.catalog,
            "recycle_bin": [
                {"drive_id": self.drives[r.drive]["id"], "item": r.item, "permissions": r.permissions}
                for r in contents.recycled.values()
            ],
            "counts": {
                "users": len(self.users),
                "guests": sum(u.guest for u in self.urecs),
                "disabled": sum(not u.enabled for u in self.urecs),
                "groups": len(self.groups),
                "group_user_members": len(user_members),
                "directory_roles": len(self.roles),
                "oauth2_permission_grants": len(self.grants),
                "sign_ins": self.sign_in_count,
                "directory_audits": self.audit_count,
                "drives": len(drives),
                "files": len(files),
                "file_permissions": sum(len(f["permissions"]) for f in files),
            },
        }


# What generated files are: Office and PDF documents mostly, and the exports and notes people keep
# beside them (the text formats are also the cheap ones to generate content for).
FILE_EXTENSIONS = (".docx", ".xlsx", ".pptx", ".pdf", ".pdf", ".csv", ".txt", ".md")


def _mime(name: str) -> str:
    """The MIME type SharePoint lists for a file (driveItem file.mimeType), by extension."""
    return {
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".pdf": "application/pdf",
        ".csv": "text/csv",
        ".txt": "text/plain",
        ".md": "text/markdown",
    }[name[name.rfind(".") :]]
