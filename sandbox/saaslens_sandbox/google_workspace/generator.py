"""Deterministic synthetic Google Workspace tenants.

Everything is derived from ``(seed, users, options)``: the same inputs give the same directory,
Drive and audit data. Time is relative to an *anchor* (default: server start, whole seconds, UTC);
audit activities fill ``[anchor - history_days, anchor]`` and nothing lies in the future.

Resource shapes follow Google's discovery documents (``admin.directory_v1.json``: User, Group,
Member, Role, RoleAssignment, Token; ``admin.reports_v1.json``: Activity; ``drive.v3.json``: File,
Permission, User) and the reference pages:

* Directory users: https://developers.google.com/workspace/admin/directory/reference/rest/v1/users
* Groups and members: https://developers.google.com/workspace/admin/directory/reference/rest/v1/members
* Roles and role assignments (``_SEED_ADMIN_ROLE`` is the super admin role):
  https://developers.google.com/workspace/admin/directory/v1/guides/manage-roles
* OAuth tokens: https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens
* Reports activities and the login / admin / token / drive event catalogues:
  https://developers.google.com/workspace/admin/reports/v1/appendix/activity/login (and /admin-*, /oauth, /drive)
* Drive files and permissions (types user, group, domain, anyone; ``allowFileDiscovery``):
  https://developers.google.com/workspace/drive/api/reference/rest/v3/permissions

Audit activities are stored compactly (one sorted key list per application plus parallel arrays)
and rendered when served, so 200,000 events cost a few megabytes and a page costs time
proportional to the page.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import random
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from saaslens_sandbox.core import TenantOptions
from saaslens_sandbox.google_workspace.drive_contents import GOOGLE_APPS, DriveContents, DriveLabels
from saaslens_sandbox.workforce import days_before, stable_digest, workforce_of

APPLICATIONS = ("login", "admin", "token", "drive")

# The Reports API's documented lag ("Data retention and lag times",
# https://support.google.com/a/answer/7061566): admin log events arrive in near real time (a
# couple of minutes); the other applications can take from minutes up to a few hours. The sandbox
# shows each event only after this many seconds.
DEFAULT_REPORT_DELAYS = {"admin": 120, "login": 3600, "token": 600, "drive": 600}

SCOPE_PREFIX = "https://www.googleapis.com/auth/"
ALL_SCOPES = tuple(
    SCOPE_PREFIX + s
    for s in (
        "admin.directory.user.readonly",
        "admin.directory.group.readonly",
        "admin.directory.group.member.readonly",
        "admin.directory.rolemanagement.readonly",
        "admin.directory.user.security",
        "admin.reports.audit.readonly",
        "drive.metadata.readonly",
        "drive.readonly",  # content inspection: files.get?alt=media and files.export
        "drive.admin.labels.readonly",  # the Drive labels catalogue (labels.list with useAdminAccess)
        "cloud-identity.policies.readonly",  # security settings (Cloud Identity policies.list)
    )
)
AUDIT_SCOPE = SCOPE_PREFIX + "admin.reports.audit.readonly"
# The scopes the governance actions' write methods require (their reference pages' "Authorization
# scopes"): users.update, users.signOut and tokens.delete, permissions.delete, roleAssignments.delete.
WRITE_SCOPES = tuple(
    SCOPE_PREFIX + s
    for s in ("admin.directory.user", "admin.directory.user.security", "drive", "admin.directory.rolemanagement")
)
# Read-only scopes only: no write method accepts any of them.
READ_ONLY_SCOPES = tuple(s for s in ALL_SCOPES if s.endswith(".readonly"))
NEVER_LOGGED_IN = "1970-01-01T00:00:00.000Z"
DAY_MS = 86_400_000


class ServiceAccountSpec(BaseModel):
    """A service account with domain-wide delegation of ``scopes`` (what the Admin console's
    "Domain-wide delegation" page lists for its client id)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9-]{0,28}$")
    scopes: list[str]
    public_key_pem: str | None = None
    """Bring your own key; by default the sandbox generates one and hands it out in ground truth."""


class GoogleWorkspaceOptions(TenantOptions):
    """``TenantSpec.options`` for a Google Workspace tenant (all optional)."""

    model_config = ConfigDict(extra="forbid")
    history_days: int = Field(default=7, ge=1, le=180)
    events: int | None = Field(default=None, ge=0)
    """Total audit events over all four applications (default 10 per user)."""
    domains: list[str] | None = None
    """The customer's domains, primary first (default ``{tenant}.example.com``)."""
    customer_id: str | None = Field(default=None, pattern=r"^C[0-9a-z]{6,12}$")
    groups: int | None = Field(default=None, ge=0)
    files_per_user: float = Field(default=2.0, ge=0, le=50)
    service_accounts: list[ServiceAccountSpec] | None = None
    """Default: ``scanner`` (every scope saaslens asks for) and ``no-audit`` (all but the audit scope)."""
    report_delays: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_REPORT_DELAYS))
    """Seconds before an event of each application becomes visible in the Reports API."""
    access_token_ttl_seconds: int = Field(default=3599, ge=1, le=3600)
    large_file_mb: int = Field(default=0, ge=0, le=1024)
    """Adds the content corpus' large CSV of this many MiB to an ordinary user's Drive (0: none)."""
    drive_labels: bool = True
    """The customer's edition has Drive labels (Business Standard and above); without them the Labels
    API and files.modifyLabels refuse (drive_contents.py)."""

    @field_validator("report_delays")
    @classmethod
    def _known_applications(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - set(APPLICATIONS)
        if unknown:
            raise ValueError(f"unknown applications {sorted(unknown)}; known: {list(APPLICATIONS)}")
        if any(v < 0 for v in value.values()):
            raise ValueError("delays must be >= 0 seconds")
        return {**DEFAULT_REPORT_DELAYS, **value}


def default_service_accounts() -> list[ServiceAccountSpec]:
    """``scanner`` and ``no-audit`` scan; ``actions`` also holds every write scope the governance
    actions need; ``auditor`` holds read-only scopes alone, so any change it tries is refused."""
    return [
        ServiceAccountSpec(name="scanner", scopes=list(ALL_SCOPES)),
        ServiceAccountSpec(name="no-audit", scopes=[s for s in ALL_SCOPES if s != AUDIT_SCOPE]),
        ServiceAccountSpec(name="actions", scopes=list(dict.fromkeys(ALL_SCOPES + WRITE_SCOPES))),
        ServiceAccountSpec(name="auditor", scopes=list(READ_ONLY_SCOPES)),
    ]


# --------------------------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Alice Aaron Amelia Ben Carla Chen Daniel Diana Elena Ethan Fatima Felix Grace Hannah Hugo Isaac Ivy James "
    "Julia Kai Laura Leo Maria Mateo Maya Noah Nora Olivia Omar Priya Quinn Rachel Ravi Sam Sofia Thomas Uma "
    "Victor Wei Xavier Yara Zoe Liam Emma Lucas Mia Arjun Chloe"
)
LAST_NAMES = _words(
    "Smith Johnson Brown Garcia Miller Davis Rodriguez Martinez Wilson Anderson Taylor Thomas Moore Jackson "
    "Martin Lee Thompson White Harris Clark Lewis Walker Hall Young King Wright Scott Green Baker Adams Nelson "
    "Hill Campbell Mitchell Roberts Carter Phillips Evans Turner Patel Kim Singh Okafor Nakamura Rossi Novak"
)
UNICODE_NAMES = (("José", "Müller"), ("Zoë", "Ólafsdóttir"), ("Łukasz", "Nguyễn"), ("Søren", "Peña"), ("明", "李"))
TEAMS = (
    "engineering", "sales", "marketing", "finance", "people", "legal", "it", "support", "product", "design",
    "security", "data", "operations", "success", "berlin", "london", "tokyo", "apollo", "atlas", "interns",
)  # fmt: skip
EXTERNAL_DOMAINS = ("gmail.com", "partner-agency.com", "contractor.io", "outlook.com")

# (roleName, roleDescription, privileges, isSuperAdminRole, isSystemRole)
ROLES = (
    ("_SEED_ADMIN_ROLE", "Super Admin", ("SUPER_ADMIN",), True, True),
    ("_GROUPS_ADMIN_ROLE", "Groups Administrator", ("GROUPS_ALL",), False, True),
    ("_USER_MANAGEMENT_ADMIN_ROLE", "User Management Administrator", ("USERS_ALL",), False, True),
    ("_HELP_DESK_ADMIN_ROLE", "Help Desk Administrator", ("USERS_RETRIEVE", "USERS_RESET_PASSWORD"), False, True),
    ("_SERVICES_ADMIN_ROLE", "Services Administrator", ("APP_ADMIN",), False, True),
    ("_MOBILE_ADMIN_ROLE", "Mobile Administrator", ("MANAGE_DEVICES",), False, True),
    ("Security Auditor", "Reads reports and the audit log", ("REPORTS_ACCESS", "USERS_RETRIEVE"), False, False),
)
HELP_DESK_ROLE = 3  # assigned to the help desk group (a group role assignment)
SERVICE_ID = "01ci93xb3tmzyin"

# OAuth clients users authorized: (clientId, displayText, scopes, nativeApp, anonymous)
OAUTH_APPS = (
    ("1073741824-slack.apps.googleusercontent.com", "Slack", ("openid", "email", "profile"), False, False),
    (
        "2147483648-zoom.apps.googleusercontent.com",
        "Zoom",
        ("https://www.googleapis.com/auth/calendar", "email", "profile"),
        False,
        False,
    ),
    (
        "8589934592-grammarly.apps.googleusercontent.com",
        "Grammarly",
        ("https://www.googleapis.com/auth/documents", "email"),
        False,
        False,
    ),
    (
        "17179869184-zapier.apps.googleusercontent.com",
        "Zapier",
        ("https://mail.google.com/", "https://www.googleapis.com/auth/drive"),
        False,
        False,
    ),
    ("77185-chrome.apps.googleusercontent.com", "Google Chrome",
     ("https://www.google.com/accounts/OAuthLogin",), True, False),
    ("450232826690-0rm6bs9d2fps9tifvk2oodh3tasd7vl7.apps.googleusercontent.com", "iOS Account Manager",
     ("https://www.googleapis.com/auth/userinfo.profile", "https://mail.google.com/"), True, False),
    (
        "34359738368-unverified.apps.googleusercontent.com",
        "Unknown app",
        ("https://www.googleapis.com/auth/drive.readonly",),
        False,
        True,
    ),
)  # fmt: skip

MIME_TYPES = (
    ("application/vnd.google-apps.document", None, "Notes"),
    ("application/vnd.google-apps.spreadsheet", None, "Budget"),
    ("application/vnd.google-apps.presentation", None, "Deck"),
    ("application/vnd.google-apps.folder", None, "Folder"),
    ("application/pdf", ".pdf", "Contract"),
    ("image/png", ".png", "Screenshot"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx", "Proposal"),
)
SHARE_ROLES = ("reader", "commenter", "writer")

# Sharing patterns and their weights: private, internal users, internal group, domain, external, link, public.
SHARING = ("private", "users", "group", "domain", "external", "link", "public")
SHARING_WEIGHTS = (45, 22, 8, 8, 9, 6, 2)

IP_PREFIXES = ("73.202.14", "24.193.8", "86.150.33", "91.64.72", "126.25.40", "49.207.51")
REGIONS = ("US", "US", "GB", "DE", "JP", "IN")


class EventKind:
    """One kind of audit event: its application, type, name and how its parameters are made."""

    __slots__ = ("application", "name", "params", "type")

    def __init__(self, application: str, type_: str, name: str, params: str) -> None:
        self.application = application
        self.type = type_
        self.name = name
        self.params = params  # which parameter recipe render_event uses


# Event catalogue (Reports API appendix: login, admin, token and drive event names).
KINDS: dict[str, tuple[tuple[EventKind, ...], tuple[float, ...]]] = {
    "login": (
        (
            EventKind("login", "login", "login_success", "login"),
            EventKind("login", "login", "login_failure", "login_failure"),
            EventKind("login", "login", "logout", "login"),
            EventKind("login", "login", "login_verification", "challenge"),
        ),
        (60, 10, 22, 8),
    ),
    "admin": (
        (
            EventKind("admin", "USER_SETTINGS", "CREATE_USER", "user"),
            EventKind("admin", "USER_SETTINGS", "SUSPEND_USER", "user"),
            EventKind("admin", "USER_SETTINGS", "CHANGE_PASSWORD", "user"),
            EventKind("admin", "GROUP_SETTINGS", "ADD_GROUP_MEMBER", "group_member"),
            EventKind("admin", "GROUP_SETTINGS", "REMOVE_GROUP_MEMBER", "group_member"),
            EventKind("admin", "DELEGATED_ADMIN_SETTINGS", "ASSIGN_ROLE", "role"),
            EventKind("admin", "APPLICATION_SETTINGS", "CHANGE_APPLICATION_SETTING", "setting"),
        ),
        (12, 4, 14, 30, 10, 5, 25),
    ),
    "token": (
        (
            EventKind("token", "auth", "authorize", "token"),
            EventKind("token", "auth", "revoke", "token"),
            EventKind("token", "auth", "activity", "token_api"),
        ),
        (45, 10, 45),
    ),
    "drive": (
        (
            EventKind("drive", "access", "view", "doc"),
            EventKind("drive", "access", "edit", "doc"),
            EventKind("drive", "access", "download", "doc"),
            EventKind("drive", "access", "create", "doc"),
            EventKind("drive", "acl_change", "change_user_access", "acl"),
            EventKind("drive", "acl_change", "change_document_visibility", "visibility"),
        ),
        (45, 25, 10, 8, 7, 5),
    ),
}
APPLICATION_SHARE = {"login": 0.45, "drive": 0.35, "admin": 0.10, "token": 0.10}
# Some activities carry two events: a login with its 2-step verification, an admin creating a
# user and adding them to a group. The second kind (index into the application's kinds).
SECOND_EVENT = {"login": (3, 0), "admin": (0, 3)}  # (first kind, second kind)
SECOND_EVENT_SHARE = 0.08


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def iso(ms: int) -> str:
    """RFC 3339 with milliseconds and Z, the form every Google API here returns."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def etag(*parts: Any) -> str:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=18).hexdigest()
    return f'"{digest[:27]}/{digest[27:]}"'


def _ascii(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


class _Unique:
    """Random identifiers that never repeat within a tenant."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def digits(self, n: int, first: str = "1") -> str:
        while True:
            value = first + "".join(self.rng.choices("0123456789", k=n - len(first)))
            if value not in self.seen:
                self.seen.add(value)
                return value

    def token(self, n: int, alphabet: str, first: str = "") -> str:
        while True:
            value = first + "".join(self.rng.choices(alphabet, k=n - len(first)))
            if value not in self.seen:
                self.seen.add(value)
                return value


_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_HEX = "0123456789abcdef"


# --------------------------------------------------------------------------------------------
# The tenant
# --------------------------------------------------------------------------------------------


class ActivityLog:
    """One application's activities in (time ms, uniqueQualifier) order, with parallel arrays."""

    __slots__ = ("actor", "arg", "custom", "ip", "keys", "kinds", "times")

    def __init__(self) -> None:
        self.keys: list[tuple[int, int]] = []
        self.times: list[int] = []
        self.kinds: list[tuple[int, ...]] = []  # event kind indexes of the activity (1 or 2)
        self.actor: list[int] = []  # user index
        self.arg: list[int] = []  # seed for the parameters (target user/group/file/app choice)
        self.ip: list[int] = []
        self.custom: dict[tuple[int, int], dict[str, Any]] = {}  # activities written after generation

    def has(self, key: tuple[int, int]) -> bool:
        at = bisect.bisect_left(self.keys, key)
        return at < len(self.keys) and self.keys[at] == key

    def add(self, key: tuple[int, int], activity: dict[str, Any]) -> None:
        """Insert an activity recorded as it happened (a change made through the API) in time order."""
        at = bisect.bisect_left(self.keys, key)
        self.keys.insert(at, key)
        self.times.insert(at, key[0])
        self.kinds.insert(at, ())
        self.actor.insert(at, 0)
        self.arg.insert(at, 0)
        self.ip.insert(at, 0)
        self.custom[key] = activity

    def __len__(self) -> int:
        return len(self.keys)

    def window(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        """Index range [lo, hi) of activities with start_ms <= time <= end_ms."""
        lo = bisect.bisect_left(self.times, start_ms)
        hi = bisect.bisect_right(self.times, end_ms)
        return lo, hi

    def before(self, key: tuple[int, int]) -> int:
        """Index just past the last activity strictly older than key (newest-first paging)."""
        return bisect.bisect_left(self.keys, key)


class GoogleWorkspaceTenant:
    """All generated data for one Google Workspace customer. Pure data: no HTTP, no auth."""

    def __init__(self, *, name: str, seed: int, users: int, options: GoogleWorkspaceOptions, anchor: datetime):
        self.name = name
        self.seed = seed
        self.options = options
        self.anchor = anchor.astimezone(UTC).replace(microsecond=0)
        self.anchor_ms = int(self.anchor.timestamp()) * 1000
        self.start_ms = self.anchor_ms - options.history_days * DAY_MS
        self.workforce = workforce_of(options)
        default_domain = self.workforce.domain if self.workforce else f"{name}.example.com"
        self.domains = list(options.domains or [default_domain])
        self.domain = self.domains[0]
        ids = _Unique(random.Random(f"gws-ids:{seed}"))
        self._ids = ids
        self.customer_id = options.customer_id or "C0" + ids.token(7, "0123456789abcdefghijklmnopqrstuvwxyz")
        self._make_users(random.Random(f"gws-users:{seed}"), max(1, users))
        self._make_groups(random.Random(f"gws-groups:{seed}"))
        self._make_roles(random.Random(f"gws-roles:{seed}"))
        self._make_tokens(random.Random(f"gws-tokens:{seed}"))
        self._make_files(random.Random(f"gws-files:{seed}"))
        total = options.events if options.events is not None else 10 * len(self.users)
        self._make_activities(random.Random(f"gws-activities:{seed}"), total)
        if self.workforce:
            self._plant_workforce(random.Random(f"gws-workforce:{seed}"))
        # Objects deleted after generation (Personality.forget: another admin deleted them). Users
        # and files keep their list position, so every index into them stays valid.
        self.deleted_users: set[int] = set()
        self.deleted_files: set[int] = set()
        # Contents and labels (drive_contents.py): the corpus' special documents are extra files.
        self.file_index: dict[str, int] = {}
        self.contents = DriveContents(seed, name, options.large_file_mb)
        self._plant_specials(random.Random(f"gws-specials:{seed}"))
        # An admin-owned, private folder the quarantine_file action can be pointed at.
        admin = self.email_index[self.admin_email]
        self.quarantine_folder_id = "0Q" + self._ids.token(31, _B64URL)
        self.add_file(admin, self.quarantine_folder_id, "Quarantine", GOOGLE_APPS + "folder", [], self.anchor_ms)
        self.labels = DriveLabels(seed, self.customer_id)
        self.labels.assign_initial(random.Random(f"gws-labels:{seed}"), self.files)
        self.file_index = {item["id"]: i for i, item in enumerate(self.files)}

    def record_activity(
        self, application: str, time_ms: int, actor: int, ip: str, events: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Write one activity into an application's log, as Google does when a change is made; the
        Reports API shows it once the application's lag has passed."""
        log = self.activities[application]
        rng = random.Random()
        qualifier = rng.getrandbits(63) - (1 << 62)
        while log.has((time_ms, qualifier)):
            qualifier = rng.getrandbits(63) - (1 << 62)
        user = self.users[actor]
        activity = {
            "kind": "admin#reports#activity",
            "id": {
                "time": iso(time_ms),
                "uniqueQualifier": str(qualifier),
                "applicationName": application,
                "customerId": self.customer_id,
            },
            "etag": etag("activity", application, time_ms, qualifier),
            "actor": {"callerType": "USER", "email": user["primaryEmail"], "profileId": user["id"]},
            "ownerDomain": self.domain,
            "ipAddress": ip,
            "events": events,
        }
        log.add((time_ms, qualifier), activity)
        return activity

    # ---------------------------------------------------------------- users

    def _make_users(self, rng: random.Random, n: int) -> None:
        ids = self._ids
        users: list[dict[str, Any]] = []
        emails: set[str] = set()
        hist = self.options.history_days * DAY_MS
        for i in range(n):
            if i == 0:
                first, last, local = "Workspace", "Admin", "admin"
            else:
                if rng.random() < 0.05:
                    first, last = rng.choice(UNICODE_NAMES)
                else:
                    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                local = f"{_ascii(first) or 'user'}.{_ascii(last) or 'x'}"
            email, k = f"{local}@{self.domain}", 2
            while email in emails:
                email, k = f"{local}{k}@{self.domain}", k + 1
            emails.add(email)
            created = self.anchor_ms - rng.randrange(hist, 3 * 365 * DAY_MS) // 1000 * 1000
            if i and rng.random() < 0.03:
                created = self.anchor_ms - rng.randrange(0, hist) // 1000 * 1000
            suspended = i > 0 and rng.random() < 0.05
            archived = i > 0 and not suspended and rng.random() < 0.02
            never = i > 0 and rng.random() < 0.06
            last_login = (
                NEVER_LOGGED_IN
                if never
                else iso(max(created, self.anchor_ms - rng.randrange(0, 30 * DAY_MS)) // 1000 * 1000)
            )
            enrolled = i == 0 or rng.random() < 0.7
            user: dict[str, Any] = {
                "kind": "admin#directory#user",
                "id": ids.digits(21),
                "etag": "",
                "primaryEmail": email,
                "name": {"givenName": first, "familyName": last, "fullName": f"{first} {last}"},
                "isAdmin": False,
                "isDelegatedAdmin": False,
                "lastLoginTime": last_login,
                "creationTime": iso(created),
                "agreedToTerms": not never,
                "suspended": suspended,
                "archived": archived,
                "changePasswordAtNextLogin": never,
                "ipWhitelisted": False,
                "emails": [{"address": email, "primary": True}],
                "languages": [{"languageCode": "en", "preference": "preferred"}],
                "nonEditableAliases": [f"{email.split('@')[0]}@{self.name}.test-google-a.com"],
                "customerId": self.customer_id,
                "orgUnitPath": "/" if rng.random() < 0.6 else rng.choice(("/Engineering", "/Sales", "/Contractors")),
                "isMailboxSetup": not never,
                "isEnrolledIn2Sv": enrolled,
                "isEnforcedIn2Sv": enrolled and rng.random() < 0.6,
                "includeInGlobalAddressList": True,
            }
            if suspended:
                user["suspensionReason"] = "ADMIN"
            users.append(user)
        users[0]["isAdmin"] = True
        for user in users[1:]:
            if not user["suspended"] and rng.random() < 0.005:
                user["isAdmin"] = True
        if self.workforce:
            users += self._workforce_users(emails)
        users.sort(key=lambda u: u["primaryEmail"])  # users.list with orderBy=email
        self.users = users
        self.user_index = {u["id"]: i for i, u in enumerate(users)}
        self.email_index = {u["primaryEmail"]: i for i, u in enumerate(users)}
        self.admin_email = f"admin@{self.domain}"
        # Drive permission ids are per Google account and differ from directory ids.
        self.permission_ids = [ids.digits(20, "0") for _ in users]

    # ---------------------------------------------------------------- groups

    def _make_groups(self, rng: random.Random) -> None:
        ids = self._ids
        n_users = len(self.users)
        count = self.options.groups if self.options.groups is not None else max(2, n_users // 20)
        groups: list[dict[str, Any]] = []
        members: list[list[dict[str, Any]]] = []
        used: set[str] = set()
        for g in range(count):
            if g == 0:
                slug, label = "helpdesk", "Help Desk"
            else:
                team = TEAMS[g % len(TEAMS)]
                slug = team if team not in used else f"{team}-{g}"
                label = slug.replace("-", " ").title()
            used.add(slug)
            group_id = "0" + ids.token(14, "0123456789abcdefghijklmnopqrstuvwxyz", "")
            groups.append(
                {
                    "kind": "admin#directory#group",
                    "id": group_id,
                    "etag": etag("group", group_id),
                    "email": f"{slug}@{self.domain}",
                    "name": label,
                    "directMembersCount": "0",
                    "description": f"{label} team" if rng.random() < 0.7 else "",
                    "adminCreated": True,
                }
            )
            size = min(n_users, max(1, int(rng.expovariate(1 / 12)) + 1))
            chosen = rng.sample(range(n_users), size)
            group_members: list[dict[str, Any]] = []
            for j, ui in enumerate(chosen):
                user = self.users[ui]
                role = "OWNER" if j == 0 else ("MANAGER" if rng.random() < 0.08 else "MEMBER")
                group_members.append(self._member(user["id"], user["primaryEmail"], role, "USER", user["suspended"]))
            if g > 0 and rng.random() < 0.25:
                address = f"{rng.choice(FIRST_NAMES).lower()}{rng.randrange(100)}@{rng.choice(EXTERNAL_DOMAINS)}"
                group_members.append(self._member(ids.digits(21), address, "MEMBER", "USER", False))
            members.append(group_members)
        # Nested groups: a group that is a member of another.
        for g in range(2, len(groups), 5):
            parent = rng.randrange(1, len(groups))
            if parent != g:
                child = groups[g]
                members[parent].append(self._member(child["id"], child["email"], "MEMBER", "GROUP", False))
        for group, group_members in zip(groups, members, strict=True):
            group_members.sort(key=lambda m: m["id"])
            group["directMembersCount"] = str(len(group_members))
        order = sorted(range(len(groups)), key=lambda i: groups[i]["email"])
        self.groups = [groups[i] for i in order]
        self.members = [members[i] for i in order]
        self.group_index = {g["id"]: i for i, g in enumerate(self.groups)}
        self.group_email_index = {g["email"]: i for i, g in enumerate(self.groups)}

    @staticmethod
    def _member(member_id: str, email: str, role: str, type_: str, suspended: bool) -> dict[str, Any]:
        member = {
            "kind": "admin#directory#member",
            "etag": etag("member", member_id, email),
            "id": member_id,
            "email": email,
            "role": role,
            "type": type_,
            "status": "SUSPENDED" if suspended else "ACTIVE",
        }
        if type_ == "USER":
            member["delivery_settings"] = "ALL_MAIL"
        return member

    # ---------------------------------------------------------------- roles

    def _make_roles(self, rng: random.Random) -> None:
        ids = self._ids
        self.roles = [
            {
                "kind": "admin#directory#role",
                "etag": etag("role", name),
                "roleId": ids.digits(17, "3"),
                "roleName": name,
                "roleDescription": description,
                "rolePrivileges": [{"privilegeName": p, "serviceId": SERVICE_ID} for p in privileges],
                "isSystemRole": system,
                "isSuperAdminRole": superadmin,
            }
            for name, description, privileges, superadmin, system in ROLES
        ]
        assignments: list[dict[str, Any]] = []

        def assign(role: int, assignee: str, assignee_type: str, org_unit: str | None = None) -> None:
            assignment_id = ids.digits(17, "3")
            item: dict[str, Any] = {
                "kind": "admin#directory#roleAssignment",
                "etag": etag("assignment", assignment_id),
                "roleAssignmentId": assignment_id,
                "roleId": self.roles[role]["roleId"],
                "assignedTo": assignee,
                "assigneeType": assignee_type,
                "scopeType": "ORG_UNIT" if org_unit else "CUSTOMER",
            }
            if org_unit:
                item["orgUnitId"] = org_unit
            assignments.append(item)

        for user in self.users:
            if user["isAdmin"]:
                assign(0, user["id"], "user")
            elif not user["suspended"] and rng.random() < 0.03:
                for role in rng.sample(range(1, len(ROLES)), rng.choice((1, 1, 2))):
                    org_unit = (
                        "03ph8a2z" + ids.token(7, "0123456789abcdefghijklmnopqrstuvwxyz")
                        if rng.random() < 0.3
                        else None
                    )
                    assign(role, user["id"], "user", org_unit)
                user["isDelegatedAdmin"] = True
        helpdesk = self.group_email_index.get(f"helpdesk@{self.domain}")
        if helpdesk is not None:
            assign(HELP_DESK_ROLE, self.groups[helpdesk]["id"], "group")
            for member in self.members[helpdesk]:
                index = self.user_index.get(member["id"])
                if index is not None and not self.users[index]["isAdmin"]:
                    self.users[index]["isDelegatedAdmin"] = True
        assignments.sort(key=lambda a: int(a["roleAssignmentId"]))
        self.role_assignments = assignments
        for user in self.users:
            user["etag"] = etag("user", user["id"], user["isDelegatedAdmin"])

    # ---------------------------------------------------------------- tokens

    def _make_tokens(self, rng: random.Random) -> None:
        self.tokens: list[tuple[int, ...]] = []
        for user in self.users:
            if user["suspended"] or rng.random() < 0.4:
                self.tokens.append(())
                continue
            count = rng.choice((1, 1, 2, 3))
            self.tokens.append(tuple(sorted(rng.sample(range(len(OAUTH_APPS)), count))))

    def token_items(self, user_index: int) -> list[dict[str, Any]]:
        user = self.users[user_index]
        items = []
        for app in self.tokens[user_index]:
            client_id, display, scopes, native, anonymous = OAUTH_APPS[app]
            items.append(
                {
                    "kind": "admin#directory#token",
                    "etag": etag("token", user["id"], client_id),
                    "clientId": client_id,
                    "displayText": display,
                    "anonymous": anonymous,
                    "nativeApp": native,
                    "userKey": user["id"],
                    "scopes": list(scopes),
                }
            )
        return items

    # ---------------------------------------------------------------- drive

    def _make_files(self, rng: random.Random) -> None:
        ids = self._ids
        files: list[dict[str, Any]] = []
        owners: list[int] = []
        rate = self.options.files_per_user
        n_users = len(self.users)
        for owner in range(n_users):
            count = int(rate) + (1 if rng.random() < rate - int(rate) else 0)
            if count and rng.random() < 0.2:
                count = rng.randrange(0, 2 * count + 1)
            for _ in range(count):
                files.append(self._file(rng, ids, owner))
                owners.append(owner)
        self.files = files
        self.file_owner = owners
        self.files_by_owner: dict[int, list[int]] = {}
        self.files_shared_with: dict[int, list[int]] = {}
        for index, owner in enumerate(owners):
            self.files_by_owner.setdefault(owner, []).append(index)
            for permission in files[index]["permissions"]:
                user = self.email_index.get(permission.get("emailAddress", ""))
                if permission["type"] == "user" and user is not None and user != owner:
                    self.files_shared_with.setdefault(user, []).append(index)

    def _file(self, rng: random.Random, ids: _Unique, owner: int) -> dict[str, Any]:
        user = self.users[owner]
        mime, extension, stem = rng.choice(MIME_TYPES)
        created = self.anchor_ms - rng.randrange(DAY_MS, 700 * DAY_MS) // 1000 * 1000
        modified = min(self.anchor_ms, created + rng.randrange(0, 200 * DAY_MS)) // 1000 * 1000
        file_id = ids.token(33, _B64URL, "1")
        owner_permission = {
            "kind": "drive#permission",
            "id": self.permission_ids[owner],
            "type": "user",
            "emailAddress": user["primaryEmail"],
            "role": "owner",
            "displayName": user["name"]["fullName"],
            "deleted": False,
            "pendingOwner": False,
        }
        permissions = [owner_permission, *self._shares(rng, ids, owner)]
        item: dict[str, Any] = {
            "kind": "drive#file",
            "id": file_id,
            "name": f"{stem} {rng.randrange(1, 999)}{extension or ''}",
            "mimeType": mime,
            "createdTime": iso(created),
            "modifiedTime": iso(modified),
            "owners": [
                {
                    "kind": "drive#user",
                    "displayName": user["name"]["fullName"],
                    "emailAddress": user["primaryEmail"],
                    "permissionId": self.permission_ids[owner],
                    "me": False,
                }
            ],
            "permissions": permissions,
            "permissionIds": [p["id"] for p in permissions],
            "parents": ["0A" + ids.token(17, _B64URL)],
            "spaces": ["drive"],
            "shared": len(permissions) > 1,
            "trashed": rng.random() < 0.02,
            "starred": rng.random() < 0.1,
            "webViewLink": f"https://docs.google.com/document/d/{file_id}/edit?usp=drivesdk",
            "version": str(rng.randrange(1, 500)),
            "ownedByMe": False,
        }
        if extension:
            item["size"] = str(rng.randrange(1_000, 25_000_000))
            item["originalFilename"] = item["name"]
        return item

    def _shares(self, rng: random.Random, ids: _Unique, owner: int) -> list[dict[str, Any]]:
        pattern = rng.choices(SHARING, weights=SHARING_WEIGHTS)[0]
        shares: list[dict[str, Any]] = []
        if pattern == "users":
            for index in rng.sample(range(len(self.users)), min(len(self.users), rng.choice((1, 1, 2, 3)))):
                if index != owner:
                    shares.append(self._user_share(index, rng.choice(SHARE_ROLES)))
        elif pattern == "group" and self.groups:
            group = rng.choice(self.groups)
            shares.append(
                {
                    "kind": "drive#permission",
                    "id": "0" + hashlib.blake2b(group["id"].encode(), digest_size=8).hexdigest()[:19],
                    "type": "group",
                    "emailAddress": group["email"],
                    "role": rng.choice(SHARE_ROLES),
                    "displayName": group["name"],
                    "deleted": False,
                }
            )
        elif pattern == "domain":
            shares.append(self._domain_share(self.domain, rng.random() < 0.4, ids))
        elif pattern == "external":
            address = (
                f"{rng.choice(FIRST_NAMES).lower()}.{rng.choice(LAST_NAMES).lower()}@{rng.choice(EXTERNAL_DOMAINS)}"
            )
            shares.append(
                {
                    "kind": "drive#permission",
                    "id": ids.digits(20, "1"),
                    "type": "user",
                    "emailAddress": address,
                    "role": rng.choice(SHARE_ROLES),
                    "displayName": address.split("@")[0],
                    "deleted": False,
                    "pendingOwner": False,
                }
            )
            if rng.random() < 0.2:
                shares.append(self._domain_share("partner-agency.com", False, ids))
        elif pattern in ("link", "public"):
            discoverable = pattern == "public"
            shares.append(
                {
                    "kind": "drive#permission",
                    "id": "anyone" if discoverable else "anyoneWithLink",
                    "type": "anyone",
                    "role": "reader" if rng.random() < 0.8 else "commenter",
                    "allowFileDiscovery": discoverable,
                }
            )
        return shares

    def _user_share(self, index: int, role: str) -> dict[str, Any]:
        user = self.users[index]
        return {
            "kind": "drive#permission",
            "id": self.permission_ids[index],
            "type": "user",
            "emailAddress": user["primaryEmail"],
            "role": role,
            "displayName": user["name"]["fullName"],
            "deleted": False,
            "pendingOwner": False,
        }

    @staticmethod
    def _domain_share(domain: str, discoverable: bool, ids: _Unique) -> dict[str, Any]:
        return {
            "kind": "drive#permission",
            "id": ids.digits(20, "0") + "k",
            "type": "domain",
            "domain": domain,
            "role": "reader",
            "displayName": domain,
            "allowFileDiscovery": discoverable,
        }

    # ---------------------------------------------------------------- activities

    def _make_activities(self, rng: random.Random, total: int) -> None:
        self.activities = {app: ActivityLog() for app in APPLICATIONS}
        counts = self._split(total)
        span = max(1, self.anchor_ms - self.start_ms)
        actors = [i for i, u in enumerate(self.users) if not u["suspended"]] or [0]
        admins = [i for i, u in enumerate(self.users) if u["isAdmin"] or u["isDelegatedAdmin"]] or [0]
        for app in APPLICATIONS:
            log = self.activities[app]
            weights = KINDS[app][1]
            pair = SECOND_EVENT.get(app)
            remaining = counts[app]
            rows: list[tuple[int, int, tuple[int, ...], int, int, int]] = []
            seen: set[tuple[int, int]] = set()
            pool = admins if app == "admin" else actors
            cumulative = _cumulative(weights)
            while remaining > 0:
                time_ms = self.start_ms + int(rng.random() * span)
                qualifier = rng.getrandbits(63) - (1 << 62)
                if (time_ms, qualifier) in seen:
                    continue
                seen.add((time_ms, qualifier))
                if pair is not None and remaining >= 2 and rng.random() < SECOND_EVENT_SHARE:
                    event_kinds: tuple[int, ...] = pair
                else:
                    event_kinds = (bisect.bisect_right(cumulative, rng.random() * cumulative[-1]),)
                remaining -= len(event_kinds)
                rows.append(
                    (
                        time_ms,
                        qualifier,
                        event_kinds,
                        pool[int(rng.random() * len(pool))],
                        rng.getrandbits(30),
                        int(rng.random() * len(IP_PREFIXES) * 256),
                    )
                )
            rows.sort(key=lambda r: (r[0], r[1]))
            log.keys = [(r[0], r[1]) for r in rows]
            log.times = [r[0] for r in rows]
            log.kinds = [r[2] for r in rows]
            log.actor = [r[3] for r in rows]
            log.arg = [r[4] for r in rows]
            log.ip = [r[5] for r in rows]

    @staticmethod
    def _split(total: int) -> dict[str, int]:
        counts = {app: int(total * share) for app, share in APPLICATION_SHARE.items()}
        counts["login"] += total - sum(counts.values())
        return counts

    def render_activity(self, app: str, index: int) -> dict[str, Any]:
        log = self.activities[app]
        recorded = log.custom.get(log.keys[index])
        if recorded is not None:
            return copy.deepcopy(recorded)
        time_ms, qualifier = log.keys[index]
        actor = self.users[log.actor[index]]
        ip_choice = log.ip[index]
        prefix = IP_PREFIXES[ip_choice % len(IP_PREFIXES)]
        kinds = KINDS[app][0]
        events = [self._event(kinds[k], log.arg[index] + n, actor) for n, k in enumerate(log.kinds[index])]
        return {
            "kind": "admin#reports#activity",
            "id": {
                "time": iso(time_ms),
                "uniqueQualifier": str(qualifier),
                "applicationName": app,
                "customerId": self.customer_id,
            },
            "etag": etag("activity", app, time_ms, qualifier),
            "actor": {"callerType": "USER", "email": actor["primaryEmail"], "profileId": actor["id"]},
            "ownerDomain": self.domain,
            "ipAddress": f"{prefix}.{ip_choice // len(IP_PREFIXES) % 256}",
            "networkInfo": {"regionCode": REGIONS[ip_choice % len(REGIONS)]},
            "events": events,
        }

    def _event(self, kind: EventKind, arg: int, actor: dict[str, Any]) -> dict[str, Any]:
        params: list[dict[str, Any]]
        recipe = kind.params
        if recipe == "login":
            params = [{"name": "login_type", "value": "google_password"}]
            if kind.name == "login_success":
                params.append({"name": "is_suspicious", "boolValue": arg % 50 == 0})
                params.append({"name": "login_challenge_method", "multiValue": ["password"]})
        elif recipe == "login_failure":
            params = [
                {"name": "login_type", "value": "google_password"},
                {"name": "login_failure_type", "value": "login_failure_invalid_password"},
                {"name": "is_suspicious", "boolValue": arg % 7 == 0},
                {"name": "login_challenge_method", "multiValue": ["password"]},
            ]
        elif recipe == "challenge":
            params = [
                {"name": "login_challenge_method", "multiValue": ["idv_preregistered_phone"]},
                {"name": "login_challenge_status", "value": "Challenge Passed" if arg % 9 else "Challenge Failed"},
            ]
        elif recipe == "user":
            params = [{"name": "USER_EMAIL", "value": self.users[arg % len(self.users)]["primaryEmail"]}]
        elif recipe == "group_member":
            group = self.groups[arg % len(self.groups)]["email"] if self.groups else f"all@{self.domain}"
            params = [
                {"name": "USER_EMAIL", "value": self.users[arg % len(self.users)]["primaryEmail"]},
                {"name": "GROUP_EMAIL", "value": group},
            ]
        elif recipe == "role":
            params = [
                {"name": "USER_EMAIL", "value": self.users[arg % len(self.users)]["primaryEmail"]},
                {"name": "ROLE_NAME", "value": ROLES[1 + arg % (len(ROLES) - 1)][0]},
            ]
        elif recipe == "setting":
            params = [
                {"name": "APPLICATION_NAME", "value": ("Drive and Docs", "Gmail", "Calendar")[arg % 3]},
                {"name": "SETTING_NAME", "value": "SHARING_OUTSIDE_DOMAIN"},
                {"name": "OLD_VALUE", "value": "TRUSTED_DOMAINS"},
                {"name": "NEW_VALUE", "value": ("ALLOWED", "NOT_ALLOWED")[arg % 2]},
            ]
        elif recipe in ("token", "token_api"):
            client_id, display, scopes, native, _ = OAUTH_APPS[arg % len(OAUTH_APPS)]
            params = [
                {"name": "client_id", "value": client_id},
                {"name": "app_name", "value": display},
                {"name": "client_type", "value": "NATIVE_DESKTOP" if native else "WEB"},
                {"name": "scope", "multiValue": list(scopes)},
            ]
            if recipe == "token_api":
                params.append({"name": "api_name", "value": "drive"})
                params.append({"name": "method_name", "value": "drive.files.list"})
        else:  # doc, acl, visibility
            params = self._drive_params(recipe, arg, actor)
        return {"type": kind.type, "name": kind.name, "parameters": params}

    def _drive_params(self, recipe: str, arg: int, actor: dict[str, Any]) -> list[dict[str, Any]]:
        if self.files:
            item = self.files[arg % len(self.files)]
            doc_id, title, owner = item["id"], item["name"], item["owners"][0]["emailAddress"]
            doc_type = item["mimeType"].rsplit(".", 1)[-1].rsplit("/", 1)[-1]
        else:
            doc_id, title, owner, doc_type = "1" + "x" * 32, "Untitled", actor["primaryEmail"], "document"
        params: list[dict[str, Any]] = [
            {"name": "primary_event", "boolValue": True},
            {"name": "doc_id", "value": doc_id},
            {"name": "doc_type", "value": doc_type},
            {"name": "doc_title", "value": title},
            {"name": "owner", "value": owner},
            {"name": "owner_is_team_drive", "boolValue": False},
            {"name": "visibility", "value": "private" if arg % 3 else "shared_internally"},
        ]
        if recipe == "acl":
            params.append({"name": "target_user", "value": self.users[arg % len(self.users)]["primaryEmail"]})
            params.append({"name": "old_value", "multiValue": ["none"]})
            params.append({"name": "new_value", "multiValue": ["can_view"]})
        elif recipe == "visibility":
            params.append({"name": "old_visibility", "value": "private"})
            params.append({"name": "visibility_change", "value": "external"})
        return params

    # ---------------------------------------------------------------- the shared workforce

    def _workforce_users(self, emails: set[str]) -> list[dict[str, Any]]:
        """Directory users for the workforce's plan (saaslens_sandbox.workforce): suspended is
        ``suspended``, deprovisioned an archived user (Archived User licence), admin ``isAdmin``
        (given the super admin role by _make_roles), MFA ``isEnrolledIn2Sv``."""
        assert self.workforce is not None
        users = []
        for planned in self.workforce.plan_for("google_workspace"):
            person = planned.person
            if planned.email in emails:
                raise ValueError(f"workforce email {planned.email} collides with a generated Google user")
            emails.add(planned.email)
            user_id = "1" + str(int.from_bytes(stable_digest("gws-user", self.seed, planned.email), "big"))[:20]
            self._ids.seen.add(user_id)
            created = days_before(self.anchor_ms, planned.created_days)
            last_login = days_before(self.anchor_ms, planned.last_login_days)
            user = {
                "kind": "admin#directory#user",
                "id": user_id,
                "etag": "",
                "primaryEmail": planned.email,
                "name": {"givenName": person.first, "familyName": person.last, "fullName": person.display},
                "isAdmin": planned.admin,
                "isDelegatedAdmin": False,
                "lastLoginTime": NEVER_LOGGED_IN if last_login is None else iso(last_login),
                "creationTime": iso(created),
                "agreedToTerms": True,
                "suspended": planned.status == "suspended",
                "archived": planned.status == "deprovisioned",
                "changePasswordAtNextLogin": False,
                "ipWhitelisted": False,
                "emails": [{"address": planned.email, "primary": True}],
                "languages": [{"languageCode": "en", "preference": "preferred"}],
                "nonEditableAliases": [f"{person.handle}@{self.name}.test-google-a.com"],
                "customerId": self.customer_id,
                "orgUnitPath": "/",
                "isMailboxSetup": True,
                "isEnrolledIn2Sv": planned.mfa,
                "isEnforcedIn2Sv": False,
                "includeInGlobalAddressList": True,
            }
            if user["suspended"]:
                user["suspensionReason"] = "ADMIN"
            users.append(user)
        return users

    def _plant_workforce(self, rng: random.Random) -> None:
        """The plan's OAuth tokens (the catalogue app holding exactly the planned scopes) and
        exposed Drive files (an ``anyone`` permission, or a reader at an outside address)."""
        assert self.workforce is not None
        for planned in self.workforce.plan_for("google_workspace"):
            index = self.email_index[planned.email]
            if planned.grant_scopes:
                app = next((k for k, a in enumerate(OAUTH_APPS) if set(a[2]) == set(planned.grant_scopes)), None)
                if app is None:
                    raise ValueError(f"no OAuth app in the Google catalogue holds exactly {planned.grant_scopes}")
                self.tokens[index] = tuple(sorted({*self.tokens[index], app}))
            for exposure in planned.files:
                item = self._file(rng, self._ids, index)
                owner_permission = item["permissions"][0]
                if exposure == "public":
                    shared = {
                        "kind": "drive#permission",
                        "id": "anyone",
                        "type": "anyone",
                        "role": "reader",
                        "allowFileDiscovery": True,
                    }
                else:
                    address = f"buyer@{self.workforce.partner_domain}"
                    shared = {
                        "kind": "drive#permission",
                        "id": self._ids.digits(20, "1"),
                        "type": "user",
                        "emailAddress": address,
                        "role": "writer",
                        "displayName": address.split("@")[0],
                        "deleted": False,
                        "pendingOwner": False,
                    }
                item.update(
                    name=f"{planned.person.last} {exposure} share {len(self.files)}.pdf",
                    permissions=[owner_permission, shared],
                    permissionIds=[owner_permission["id"], shared["id"]],
                    shared=True,
                    trashed=False,
                )
                self.files_by_owner.setdefault(index, []).append(len(self.files))
                self.files.append(item)
                self.file_owner.append(index)

    def _plant_specials(self, rng: random.Random) -> None:
        """The corpus' hostile and edge documents (zip bomb, encrypted PDF, corrupt workbook, Latin-1
        CSV, the large CSV) as files of ordinary users: the first shared with anyone with the link,
        the second with a reader outside the organization, the rest private."""
        owners = [i for i, u in enumerate(self.users) if not u["isAdmin"] and not u["suspended"] and not u["archived"]]
        for n, document in enumerate(self.contents.corpus.specials()):
            owner = owners[(n * 7 + 3) % len(owners)] if owners else 0
            item = self._file(rng, self._ids, owner)
            owner_permission = item["permissions"][0]
            shared: list[dict[str, Any]] = []
            if n == 0:
                shared = [{"kind": "drive#permission", "id": "anyoneWithLink", "type": "anyone", "role": "reader",
                           "allowFileDiscovery": False}]  # fmt: skip
            elif n == 1:
                address = f"auditor@{EXTERNAL_DOMAINS[0]}"
                shared = [{"kind": "drive#permission", "id": self._ids.digits(20, "1"), "type": "user",
                           "emailAddress": address, "role": "reader", "displayName": "auditor", "deleted": False,
                           "pendingOwner": False}]  # fmt: skip
            permissions = [owner_permission, *shared]
            item.update(
                name=document.name,
                mimeType=document.mime_type,
                permissions=permissions,
                permissionIds=[p["id"] for p in permissions],
                shared=bool(shared),
                trashed=False,
                originalFilename=document.name,
            )
            self.contents.special[item["id"]] = n
            self.files_by_owner.setdefault(owner, []).append(len(self.files))
            for permission in shared:
                user = self.email_index.get(permission.get("emailAddress", ""))
                if user is not None:
                    self.files_shared_with.setdefault(user, []).append(len(self.files))
            self.files.append(item)
            self.file_owner.append(owner)

    def add_file(self, owner: int, file_id: str, name: str, mime: str, parents: list[str], now_ms: int) -> int:
        """A file created through the API (files.create), owned by `owner`, private."""
        user = self.users[owner]
        owner_permission = self._user_share(owner, "owner")
        item: dict[str, Any] = {
            "kind": "drive#file",
            "id": file_id,
            "name": name,
            "mimeType": mime,
            "createdTime": iso(now_ms),
            "modifiedTime": iso(now_ms),
            "owners": [
                {
                    "kind": "drive#user",
                    "displayName": user["name"]["fullName"],
                    "emailAddress": user["primaryEmail"],
                    "permissionId": self.permission_ids[owner],
                    "me": False,
                }
            ],
            "permissions": [owner_permission],
            "permissionIds": [owner_permission["id"]],
            "parents": parents,
            "spaces": ["drive"],
            "shared": False,
            "trashed": False,
            "starred": False,
            "webViewLink": f"https://drive.google.com/file/d/{file_id}/view?usp=drivesdk",
            "version": "1",
            "ownedByMe": False,
            "originalFilename": name,
        }
        self.files.append(item)
        self.file_owner.append(owner)
        index = len(self.files) - 1
        self.files_by_owner.setdefault(owner, []).append(index)
        self.file_index[file_id] = index
        return index

    def dlp_truth(self) -> dict[str, Any]:
        """What content inspection must find in every listed file (trashed ones too): the corpus'
        oracle, the skip reason for a file without content, each file's planted values."""
        expect: dict[str, str] = {}
        matches: dict[str, dict[str, int]] = {}
        planted: dict[str, list[str]] = {}
        for index, item in enumerate(self.files):
            if index in self.deleted_files:
                continue
            found = self.contents.truth_of(item)
            if found is None:
                kind = "a folder" if item["mimeType"] == GOOGLE_APPS + "folder" else "a Google type without content"
                expect[item["id"]] = f"skipped:no-content: {kind}"
                continue
            expect[item["id"]] = found[0]
            if found[0] == "scanned":
                matches[item["id"]] = dict(found[1])
            if found[2]:
                planted[item["id"]] = list(found[2])
        return {"matches": matches, "expect": expect, "planted_values": planted}

    # ---------------------------------------------------------------- ground truth

    def ground_truth(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "workforce": self.options.workforce,
            "domains": list(self.domains),
            "admin_email": self.admin_email,
            "anchor": self.anchor.isoformat(),
            "users": [u for i, u in enumerate(self.users) if i not in self.deleted_users],
            # What the lake must hold as null although the provider sent a value: its sentinel for
            # "unknown" (lastLoginTime 1970-01-01T00:00:00.000Z: never signed in), by account id.
            "provider_sentinels": {
                "accounts.last_login_at": [u["id"] for u in self.users if u.get("lastLoginTime") == NEVER_LOGGED_IN]
            },
            "groups": self.groups,
            "members": {g["id"]: m for g, m in zip(self.groups, self.members, strict=True)},
            "roles": self.roles,
            "role_assignments": self.role_assignments,
            "tokens": {
                u["id"]: self.token_items(i)
                for i, u in enumerate(self.users)
                if self.tokens[i] and i not in self.deleted_users
            },
            "activities": {
                app: [self.render_activity(app, i) for i in range(len(log))] for app, log in self.activities.items()
            },
            "files": [
                {**self.contents.materialize(item), "owner_user_id": self.users[owner]["id"]}
                for index, (item, owner) in enumerate(zip(self.files, self.file_owner, strict=True))
                if index not in self.deleted_files
            ],
            # Drive labels (drive_contents.py): the catalogue, and the label each file's row must carry.
            "drive_labels": self.labels.catalog if self.options.drive_labels else [],
            "file_labels": {
                item["id"]: dict(zip(("id", "name"), self.labels.truth(item["id"]), strict=True))
                for index, item in enumerate(self.files)
                if index not in self.deleted_files and self.options.drive_labels
            },
            "dlp": self.dlp_truth(),
        }


def _cumulative(weights: tuple[float, ...]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out
