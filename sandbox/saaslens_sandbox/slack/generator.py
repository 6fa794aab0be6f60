"""Deterministic synthetic Slack Enterprise Grid workspaces.

Everything derives from ``(tenant name, seed, users, options)``: the same inputs give identical
ground truth. Time is relative to an *anchor* (default: server start, whole seconds, UTC); audit
events and access logs fill ``[anchor - history_days, anchor]`` and nothing is in the future.

Object shapes follow Slack's published descriptions:

* Web API objects as in slackapi/slack-api-specs ``web-api/slack_web_openapi_v2.json``: ``objs_user``
  (the enterprise-user variant with ``enterprise_user`` and ``teams`` for Grid members, W-prefixed
  ids), ``objs_user_profile``, ``objs_subteam`` (user groups, with Slack's built-in ``admins`` and
  ``owners`` groups carrying ``auto_type``), ``objs_file`` and the ``team.accessLogs`` login object
  (https://api.slack.com/methods/users.list, /usergroups.list, /files.list, /team.accessLogs).
* Audit events as in https://docs.slack.dev/admins/audit-logs-api (actor, action, entity,
  context with location, ua, ip_address, session_id; optional details) with action names from
  https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference.

Audit events are stored compactly (parallel arrays of time / kind / actor / target, ascending by
time) and rendered on demand, so serving a page costs time proportional to the page.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import time
import unicodedata
import uuid as uuidlib
from array import array
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from saaslens_sandbox.core import TenantOptions
from saaslens_sandbox.kit.content import Document
from saaslens_sandbox.slack.contents import FileContents, file_urls
from saaslens_sandbox.workforce import stable_digest, workforce_of

DAY = 86_400
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

WEB_SCOPES = ("users:read", "users:read.email", "usergroups:read", "files:read", "team:read", "admin.apps:read")
# What the governance actions' write methods need, on each method's page: admin.users:write
# (admin.users.session.reset, admin.users.setRegular), admin.apps:write (admin.apps.restrict),
# files:write (files.revokePublicURL) and the SCIM API's `admin` scope (deactivate, reactivate).
ACTION_SCOPES = ("admin.users:write", "admin.apps:write", "files:write", "admin")
# What the settings (posture) reads need, on each method's page: admin.teams:read (admin.teams.list),
# admin.users:read (admin.users.list), team.preferences:read (team.preferences.list); admin.apps:read
# (admin.apps.approved.list, admin.apps.requests.list) is among the web scopes already.
SETTINGS_SCOPES = ("admin.teams:read", "admin.users:read", "team.preferences:read")


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


class TokenSpec(BaseModel):
    """A token the tenant accepts. User tokens (xoxp) act as one of the generated users; a bot
    token (xoxb) as the sandbox's bot user."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1)
    kind: Literal["user", "bot"] = "user"
    scopes: list[str] = Field(default_factory=lambda: [*WEB_SCOPES, "admin", "auditlogs:read", *SETTINGS_SCOPES])
    acts_as: Literal["primary_owner", "admin", "member"] = "primary_owner"
    """Which user a user token belongs to (the first of that kind)."""


class SlackSandboxOptions(TenantOptions):
    """``TenantSpec.options`` for a Slack tenant (all optional)."""

    model_config = ConfigDict(extra="forbid")
    tokens: list[TokenSpec] | None = None
    """Default: an org owner's token with every read scope (``xoxp-sandbox-{tenant}-owner``), an
    admin's token without ``admin`` and ``auditlogs:read`` and without any write scope
    (``xoxp-sandbox-{tenant}-noaudit``), a bot token (``xoxb-sandbox-{tenant}-bot``) and an admin's
    token for governance actions with the write scopes (``xoxp-sandbox-{tenant}-actions``)."""
    plan: Literal["free", "pro", "business_plus", "enterprise"] = "enterprise"
    history_days: int = Field(default=7, ge=1, le=365)
    events: int | None = Field(default=None, ge=0)
    """Audit events plus access-log entries. Default: 10 per user."""
    access_log_share: float = Field(default=0.2, ge=0.0, le=1.0)
    """Share of ``events`` served by team.accessLogs; the rest by the Audit Logs API."""
    usergroups: int | None = Field(default=None, ge=0)
    """User groups besides the built-in admins/owners groups (default scales with users)."""
    files: int | None = Field(default=None, ge=0)
    """Default: one per two users; the content corpus' special documents are added to them."""
    large_file_mb: int = Field(default=0, ge=0, le=4096)
    """> 0: one more special file, a text/csv of that many MiB (served streamed)."""
    team_name: str | None = None
    domain: str | None = None


class UploadFile(BaseModel):
    """``{"upload_file": {...}}`` of ``POST /_sandbox/slack/{tenant}/advance``: a member uploads a file whose
    content carries planted sensitive values (a payment card or a credential) into a channel."""

    model_config = ConfigDict(extra="forbid")
    user_id: str | None = None
    """The uploader. Default: an ordinary (not admin, not guest) active member."""
    public: bool = False
    """The uploader also creates the file's public link (files.sharedPublicURL): ``public_url_shared``."""
    name: str | None = Field(default=None, min_length=1, max_length=255)
    """Default: a .txt, .csv or .docx name."""
    channel_type: Literal["public_channel", "private_channel"] = "public_channel"
    """Where it is uploaded. A file in a public channel is ``is_public`` (https://api.slack.com/types/file)."""


class SetPreference(BaseModel):
    """``{"set_preference": {...}}`` of ``POST /_sandbox/slack/{tenant}/advance``: an admin changes one of
    the workspace preferences team.preferences.list answers, as in the admin settings page; the Audit
    Logs API records Slack's ``pref.<name>`` action for it (PREFERENCE_ACTIONS)."""

    model_config = ConfigDict(extra="forbid")
    name: Literal["allow_message_deletion", "msg_edit_window_mins", "display_real_names"]
    value: bool | int
    user_id: str | None = None
    """Who changes it. Default: the primary owner."""


class SlackAdvance(BaseModel):
    """The changes the Slack personality's ``advance`` applies (one per call)."""

    model_config = ConfigDict(extra="forbid")
    upload_file: UploadFile | None = None
    set_preference: SetPreference | None = None


def default_tokens(tenant: str) -> list[TokenSpec]:
    return [
        TokenSpec(token=f"xoxp-sandbox-{tenant}-owner"),
        TokenSpec(token=f"xoxp-sandbox-{tenant}-noaudit", scopes=list(WEB_SCOPES), acts_as="admin"),
        TokenSpec(
            token=f"xoxb-sandbox-{tenant}-bot", kind="bot", scopes=["users:read", "usergroups:read", "files:read"]
        ),
        TokenSpec(token=f"xoxp-sandbox-{tenant}-actions", scopes=[*WEB_SCOPES, *ACTION_SCOPES], acts_as="admin"),
    ]


# --------------------------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------------------------

# fmt: off
FIRST_NAMES = (
    "Alice", "Aaron", "Amelia", "Ben", "Carla", "Chen", "Daniel", "Diana", "Elena", "Ethan", "Fatima", "Felix",
    "Grace", "Hannah", "Hugo", "Isaac", "Ivy", "James", "Julia", "Kai", "Laura", "Leo", "Maria", "Mateo", "Maya",
    "Noah", "Nora", "Olivia", "Omar", "Priya", "Quinn", "Rachel", "Ravi", "Sam", "Sofia", "Thomas", "Uma", "Victor",
    "Wei", "Xavier", "Yara", "Zoe", "Liam", "Emma", "Lucas", "Mia", "Arjun", "Chloe",
)
LAST_NAMES = (
    "Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Wilson", "Anderson", "Taylor",
    "Moore", "Jackson", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King",
    "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter",
    "Evans", "Turner", "Patel", "Kim", "Singh", "Okafor", "Nakamura", "Rossi", "Novak", "Silva", "Cohen",
)
UNICODE_NAMES = (("José", "Peña"), ("Zoë", "Müller"), ("Łukasz", "Kovač"), ("Søren", "Østergaard"),
                 ("Siân", "O'Brien"), ("明", "李"), ("Анна", "Иванова"), ("Çağla", "Öztürk"))
TITLES = ("Engineer", "Senior Engineer", "Manager", "Director", "Analyst", "Designer", "Account Executive",
          "Support Specialist", "Recruiter", "Product Manager")
TIMEZONES = (
    ("America/Los_Angeles", "Pacific Standard Time", -28800),
    ("America/New_York", "Eastern Standard Time", -18000),
    ("Europe/London", "Greenwich Mean Time", 0),
    ("Europe/Berlin", "Central European Time", 3600),
    ("Asia/Tokyo", "Japan Standard Time", 32400),
    ("Asia/Kolkata", "India Standard Time", 19800),
)
GROUP_TOPICS = ("Engineering", "Design", "Sales", "Marketing", "Support", "Finance", "People", "Legal", "Security",
                "Data", "Product", "IT", "On-call", "Leads", "Berlin office", "Tokyo office", "Interns", "Platform")
CHANNEL_TOPICS = ("general", "random", "announcements", "engineering", "design", "sales", "marketing", "support",
                  "incidents", "deploys", "finance", "hiring", "security", "data", "product", "watercooler")
# fmt: on


class Location(NamedTuple):
    ip_prefix: str
    isp: str
    country: str
    region: str


LOCATIONS = (
    Location("73.202.14", "Comcast Cable", "US", "CA"),
    Location("24.193.8", "Charter Communications", "US", "NY"),
    Location("99.6.121", "AT&T Internet", "US", "TX"),
    Location("86.150.33", "British Telecommunications", "GB", "ENG"),
    Location("91.64.72", "Vodafone GmbH", "DE", "BE"),
    Location("90.86.112", "Orange S.A.", "FR", "IDF"),
    Location("126.25.40", "SoftBank Corp.", "JP", "13"),
    Location("49.207.51", "Atria Convergence Technologies", "IN", "KA"),
    Location("120.150.7", "Telstra Internet", "AU", "NSW"),
    Location("177.102.30", "Claro S.A.", "BR", "SP"),
)
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.38.125 "
    "Chrome/124.0.6367.243 Electron/30.1.2 Safari/537.36 Sonic Slack_SSB/4.38.125",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.38.125 "
    "Chrome/124.0.6367.243 Electron/30.1.2 Safari/537.36 Sonic Slack_SSB/4.38.125",
    "com.tinyspeck.chatlyio/24.05.10 (iPhone; iOS 17.5; Scale/3.00)",
    "Slack/24.05.10.0 (Pixel 8; Android 14)",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
APPS = (
    ("Google Drive", ["files:read", "links:read", "links:write"]),
    ("Jira Cloud", ["channels:read", "chat:write", "commands"]),
    ("GitHub", ["channels:read", "chat:write", "commands", "links:read"]),
    ("Zoom", ["calls:write", "chat:write", "users:read"]),
    ("PagerDuty", ["chat:write", "commands", "incoming-webhook"]),
    ("Polly", ["chat:write", "commands", "users:read"]),
)
SCOPE_DESCRIPTIONS = {
    "files:read": ("View files shared in channels and conversations that the app has been added to", True),
    "links:read": ("View URLs in messages", False),
    "links:write": ("Show previews of URLs in messages", False),
    "channels:read": ("View basic information about public channels in a workspace", False),
    "chat:write": ("Send messages as the app", False),
    "commands": ("Add shortcuts and/or slash commands that people can use", False),
    "calls:write": ("Start and manage calls in a workspace", False),
    "users:read": ("View people in a workspace", False),
    "incoming-webhook": ("Post messages to specific channels in Slack", False),
}
FILE_KINDS = (
    ("png", "image/png", "PNG", 420_000),
    ("pdf", "application/pdf", "PDF", 1_800_000),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word Document", 90_000),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel Spreadsheet", 160_000),
    ("text", "text/plain", "Plain Text", 4_000),
    ("zip", "application/zip", "Zip", 9_000_000),
    ("gif", "image/gif", "GIF", 144_538),
)
FILE_STEMS = (
    "roadmap",
    "q3-forecast",
    "screenshot",
    "design-review",
    "offer-letter",
    "customer-list",
    "runbook",
    "invoice",
    "architecture",
    "meeting-notes",
    "budget",
    "contract-draft",
    "logo",
    "export",
)

# advance(upload_file): a file's Slack filetype, MIME type and pretty_type by its extension (the filetype
# values listed at https://api.slack.com/types/file#types); another extension is "binary".
UPLOAD_KINDS = {
    "txt": ("text", "text/plain", "Plain Text"),
    "csv": ("csv", "text/csv", "CSV"),
    "tsv": ("tsv", "text/tab-separated-values", "TSV"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word Document"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel Spreadsheet"),
    "pptx": ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "PowerPoint"),
    "pdf": ("pdf", "application/pdf", "PDF"),
    "md": ("markdown", "text/markdown", "Markdown (raw)"),
    "json": ("json", "application/json", "JSON"),
    "html": ("html", "text/html", "HTML"),
}
UPLOAD_DEFAULT_EXTENSIONS = ("txt", "csv", "docx")
UPLOAD_STEMS = ("customer-export", "payment-batch", "deploy-credentials", "vendor-invoices", "support-dump")
UPLOAD_ATTEMPTS = 256


# --------------------------------------------------------------------------------------------
# Audit event kinds
# --------------------------------------------------------------------------------------------


class AuditKind(NamedTuple):
    action: str
    entity: str  # user | self | channel | file | app | workspace
    by_admin: bool


AUDIT_KINDS: tuple[AuditKind, ...] = (
    AuditKind("user_login", "self", False),
    AuditKind("user_logout", "self", False),
    AuditKind("user_login_failed", "self", False),
    AuditKind("user_channel_join", "channel", False),
    AuditKind("public_channel_created", "channel", False),
    AuditKind("private_channel_created", "channel", False),
    AuditKind("file_uploaded", "file", False),
    AuditKind("file_downloaded", "file", False),
    AuditKind("file_shared", "file", False),
    AuditKind("file_public_link_created", "file", False),
    AuditKind("app_installed", "app", True),
    AuditKind("app_scopes_expanded", "app", True),
    AuditKind("user_created", "user", True),
    AuditKind("user_deactivated", "user", True),
    AuditKind("role_change_to_admin", "user", True),
    AuditKind("guest_created", "user", True),
    AuditKind("pref.two_factor_auth_changed", "workspace", True),
    AuditKind("pref.sso_setting_changed", "workspace", True),
)
AUDIT_WEIGHTS = (30.0, 8.0, 4.0, 10.0, 1.5, 1.0, 8.0, 14.0, 6.0, 1.0, 0.4, 0.3, 1.0, 0.6, 0.3, 0.6, 0.1, 0.1)
# Written only by the write methods (api.py), never generated: the Audit Logs API actions Slack
# records for them (https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference; the
# names as in slackapi/java-slack-sdk com.slack.api.audit.Actions).
ACTION_KINDS: tuple[AuditKind, ...] = (
    AuditKind("user_session_reset_by_admin", "user", True),
    AuditKind("user_reactivated", "user", True),
    AuditKind("role_change_to_user", "user", True),
    AuditKind("file_public_link_revoked", "file", True),
    AuditKind("app_restricted", "app", True),
    AuditKind("file_deleted", "file", True),
    # Workspace preference changes (advance's set_preference): the WorkspaceOrOrg actions of the
    # reference, in java-slack-sdk Actions as pref.allow_message_deletion, pref.msg_edit_window_mins
    # and pref.display_real_names.
    AuditKind("pref.allow_message_deletion", "workspace", True),
    AuditKind("pref.msg_edit_window_mins", "workspace", True),
    AuditKind("pref.display_real_names", "workspace", True),
)
AUDIT_KINDS = AUDIT_KINDS + ACTION_KINDS
PREFERENCE_ACTIONS = {
    "allow_message_deletion": "pref.allow_message_deletion",
    "msg_edit_window_mins": "pref.msg_edit_window_mins",
    "display_real_names": "pref.display_real_names",
}
# Misconfigurations a tenant's settings may carry (SlackTenant._make_settings): each tenant draws two or
# three of them, the rest of its settings being the secure choice.
SETTING_PLANTS = ("message_deletion", "edit_window", "open_workspace", "stale_app_request")
# Workspaces of the organization besides the tenant's own (admin.teams.list).
OTHER_WORKSPACES = ("Sales", "Support", "Contractors")
AUDIT_ACTIONS = tuple(kind.action for kind in AUDIT_KINDS)
KIND_INDEX = {kind.action: index for index, kind in enumerate(AUDIT_KINDS)}


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


class _Ids:
    """Slack-looking ids: a type letter and uppercase alphanumerics, unique within the tenant."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def __call__(self, prefix: str, length: int = 10) -> str:
        while True:
            value = prefix + "".join(self.rng.choices(_ID_ALPHABET, k=length))
            if value not in self.seen:
                self.seen.add(value)
                return value


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _hex(data: str, n: int) -> str:
    return hashlib.blake2b(data.encode(), digest_size=16).hexdigest()[:n]


class UserRec:
    __slots__ = (
        "admin",
        "bot",
        "deleted",
        "email",
        "first",
        "guest",
        "id",
        "index",
        "invited",
        "last",
        "name",
        "owner",
        "primary_owner",
        "real_name",
        "ultra",
        "updated",
    )

    # Declared for the type checker only: bare annotations add no class attributes, so the
    # __slots__ (one small record per generated user, hundreds of thousands per tenant) stay.
    id: str
    index: int
    name: str
    email: str | None
    first: str
    last: str
    real_name: str
    primary_owner: bool
    owner: bool
    admin: bool
    guest: bool
    ultra: bool
    deleted: bool
    invited: bool
    bot: bool
    updated: int


# --------------------------------------------------------------------------------------------
# The tenant
# --------------------------------------------------------------------------------------------


class SlackTenant:
    """All generated data for one Slack workspace in an Enterprise Grid org. No HTTP, no auth."""

    def __init__(self, *, name: str, seed: int, users: int, options: SlackSandboxOptions, anchor: datetime) -> None:
        self.name = name
        self.seed = seed
        self.options = options
        self.anchor = int(anchor.astimezone(UTC).timestamp())
        self.window_start = self.anchor - options.history_days * DAY
        self.workforce = workforce_of(options)
        self.domain = options.domain or (self.workforce.domain if self.workforce else f"{name}.example.com")
        self.team_name = options.team_name or f"{name.replace('-', ' ').replace('_', ' ').title()} Workspace"
        self.enterprise_grid = options.plan == "enterprise"
        self.tokens = options.tokens if options.tokens is not None else default_tokens(name)
        self._ids = _Ids(random.Random(f"slack-ids:{name}:{seed}"))
        self.team_id = self._ids("T")
        self.enterprise_id = self._ids("E") if self.enterprise_grid else None
        self.enterprise_name = f"{self.team_name.removesuffix(' Workspace')} Grid"
        self._make_users(random.Random(f"slack-users:{seed}"), max(1, users))
        self._make_channels_and_apps(random.Random(f"slack-channels:{seed}"))
        self._make_usergroups(random.Random(f"slack-groups:{seed}"))
        self.contents = FileContents(name, seed, options.large_file_mb)
        self._make_files(random.Random(f"slack-files:{seed}"))
        total_events = options.events if options.events is not None else 10 * max(1, users)
        access_target = round(total_events * options.access_log_share)
        self._make_access_logs(random.Random(f"slack-access:{seed}"), access_target)
        self._make_audit(random.Random(f"slack-audit:{seed}"), total_events - len(self.access_logs))
        self._bind_tokens()
        self._make_settings(random.Random(f"slack-settings:{seed}"))

    # ---------------------------------------------------------------- users

    def _make_users(self, rng: random.Random, n: int) -> None:
        recs: list[UserRec] = []
        handles: set[str] = set()
        for i in range(n):
            u = UserRec()
            u.id = self._ids("W")
            if i > 0 and rng.random() < 0.06:
                u.first, u.last = rng.choice(UNICODE_NAMES)
            else:
                u.first, u.last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            base = f"{_ascii(u.first) or 'user'}.{_ascii(u.last) or 'x'}"
            handle, k = base, 2
            while handle in handles:
                handle, k = f"{base}{k}", k + 1
            handles.add(handle)
            u.name, u.email, u.real_name = handle, f"{handle}@{self.domain}", f"{u.first} {u.last}"
            draw = rng.random()
            u.primary_owner = i == 0
            u.owner = i == 0 or (draw < 0.005)
            u.admin = u.owner or draw < 0.02
            u.guest = not u.admin and 0.02 <= draw < 0.07
            u.ultra = u.guest and draw >= 0.055
            u.deleted = not u.admin and 0.07 <= draw < 0.13
            u.invited = not u.admin and 0.13 <= draw < 0.14
            u.bot = False
            u.updated = self.anchor - rng.randrange(DAY, 3 * 365 * DAY)
            recs.append(u)
        for j in range(max(1, n // 200)):
            u = UserRec()
            u.id = self._ids("U")
            u.first, u.last = APPS[j % len(APPS)][0], "bot"
            u.name = _ascii(APPS[j % len(APPS)][0]) + ("" if j < len(APPS) else str(j))
            u.email = None
            u.real_name = APPS[j % len(APPS)][0]
            u.primary_owner = u.owner = u.admin = u.guest = u.ultra = u.deleted = u.invited = False
            u.bot = True
            u.updated = self.anchor - rng.randrange(DAY, 365 * DAY)
            recs.append(u)
        if self.workforce:
            recs += self._workforce_recs(handles)
        recs.sort(key=lambda r: r.id)
        for index, u in enumerate(recs):
            u.index = index
        self.urecs = recs
        self.bot_app_ids = {u.id: self._ids("A") for u in recs if u.bot}
        self.bot_ids = {u.id: self._ids("B") for u in recs if u.bot}
        self.two_factor = {u.id: rng.random() < 0.7 for u in recs if not u.bot}
        if self.workforce:
            self.two_factor.update(self.workforce_2fa)
        self.users = [self._slackbot(), *(self._user_doc(u, rng) for u in recs)]
        self.users.sort(key=lambda d: d["id"])
        self.user_ids = [d["id"] for d in self.users]
        self.humans = [u for u in recs if not u.bot]
        self.active = [u for u in self.humans if not u.deleted and not u.invited] or self.humans
        self.admins = [u for u in self.active if u.admin] or self.active[:1]

    def _slackbot(self) -> dict[str, Any]:
        """Slackbot, in every workspace, exactly as users.list returns it in a recorded response
        (ymtszw/zephyr tests/SlackTestData.elm, December 2018): not a bot by ``is_bot`` (false) and
        ``"updated": 0``, Slack's "never" rather than a time. Only the team id is this tenant's."""
        return {
            "id": "USLACKBOT",
            "team_id": self.team_id,
            "name": "slackbot",
            "deleted": False,
            "color": "757575",
            "real_name": "slackbot",
            "tz": None,
            "tz_label": "Pacific Standard Time",
            "tz_offset": -28800,
            "profile": {
                "title": "",
                "phone": "",
                "skype": "",
                "real_name": "slackbot",
                "real_name_normalized": "slackbot",
                "display_name": "slackbot",
                "display_name_normalized": "slackbot",
                "fields": None,
                "status_text": "",
                "status_emoji": "",
                "status_expiration": 0,
                "avatar_hash": "sv1444671949",
                "always_active": True,
                "first_name": "slackbot",
                "last_name": "",
                "image_24": "https://a.slack-edge.com/0180/img/slackbot_24.png",
                "image_32": "https://a.slack-edge.com/7f1a0/plugins/slackbot/assets/service_32.png",
                "image_48": "https://a.slack-edge.com/7f1a0/plugins/slackbot/assets/service_48.png",
                "image_72": "https://a.slack-edge.com/0180/img/slackbot_72.png",
                "image_192": "https://a.slack-edge.com/66f9/img/slackbot_192.png",
                "image_512": "https://a.slack-edge.com/1801/img/slackbot_512.png",
                "status_text_canonical": "",
                "team": self.team_id,
            },
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": 0,
        }

    def _user_doc(self, u: UserRec, rng: random.Random) -> dict[str, Any]:
        tz, tz_label, tz_offset = TIMEZONES[rng.randrange(len(TIMEZONES))]
        avatar = _hex(f"{self.seed}:{u.id}", 12)
        image = f"https://avatars.slack-edge.com/2024-01-01/{avatar}_72.png"
        profile: dict[str, Any] = {
            "title": "" if u.bot else rng.choice(TITLES),
            "phone": "" if u.bot or rng.random() < 0.5 else f"+1 555 {rng.randrange(10**7):07d}",
            "skype": "",
            "real_name": u.real_name,
            "real_name_normalized": unicodedata.normalize("NFKD", u.real_name).encode("ascii", "ignore").decode(),
            "display_name": "" if u.bot else u.name,
            "display_name_normalized": "" if u.bot else u.name,
            "fields": {},
            "status_text": "",
            "status_emoji": "",
            "avatar_hash": avatar,
            "first_name": u.first,
            "last_name": u.last,
            "image_24": image.replace("_72", "_24"),
            "image_72": image,
            "image_192": image.replace("_72", "_192"),
            "team": self.team_id,
        }
        if u.email:
            profile["email"] = u.email
        if u.bot:
            profile.update(bot_id=self.bot_ids[u.id], api_app_id=self.bot_app_ids[u.id], always_active=True)
        doc: dict[str, Any] = {
            "id": u.id,
            "team_id": self.team_id,
            "name": u.name,
            "deleted": u.deleted,
            "color": _hex(f"color:{u.id}", 6),
            "real_name": u.real_name,
            "tz": tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": u.admin,
            "is_owner": u.owner,
            "is_primary_owner": u.primary_owner,
            "is_restricted": u.guest,
            "is_ultra_restricted": u.ultra,
            "is_bot": u.bot,
            "is_app_user": False,
            "updated": u.updated,
        }
        if not u.bot:
            doc["has_2fa"] = self.two_factor[u.id]
            if doc["has_2fa"]:
                doc["two_factor_type"] = "app" if rng.random() < 0.85 else "sms"
        if u.invited:
            doc["is_invited_user"] = True  # the non-enterprise user shape: no `teams`
        elif self.enterprise_grid and not u.bot:
            doc["enterprise_user"] = {
                "id": u.id,
                "enterprise_id": self.enterprise_id,
                "enterprise_name": self.enterprise_name,
                "is_admin": u.primary_owner or (u.admin and rng.random() < 0.2),
                "is_owner": u.primary_owner,
                "teams": [self.team_id],
            }
            doc["teams"] = [self.team_id]
        return doc

    def _workforce_recs(self, handles: set[str]) -> list[UserRec]:
        """Members for the workforce's plan (saaslens_sandbox.workforce): deprovisioned is a
        deactivated member (``deleted``), admin a workspace admin, guest a multi-channel guest
        (``is_restricted``; an outside collaborator a single-channel one), MFA ``has_2fa``."""
        assert self.workforce is not None
        recs: list[UserRec] = []
        self.workforce_2fa: dict[str, bool] = {}
        for planned in self.workforce.plan_for("slack"):
            person = planned.person
            if person.handle in handles:
                raise ValueError(f"workforce handle {person.handle} collides with a generated Slack member")
            handles.add(person.handle)
            u = UserRec()
            u.id = "W" + "".join(
                _ID_ALPHABET[b % len(_ID_ALPHABET)] for b in stable_digest("slack-user", self.seed, planned.email)[:10]
            )
            self._ids.seen.add(u.id)
            u.first, u.last = person.first, person.last
            u.name, u.email, u.real_name = person.handle, planned.email, person.display
            u.primary_owner = u.owner = False
            u.admin = planned.admin
            u.guest = planned.guest
            u.ultra = planned.guest and person.slot == "outside_collaborator"
            u.deleted = planned.status != "active"
            u.invited = u.bot = False
            u.updated = self.anchor - planned.created_days * DAY
            self.workforce_2fa[u.id] = planned.mfa
            recs.append(u)
        return recs

    # ---------------------------------------------------------------- channels and apps

    def _make_channels_and_apps(self, rng: random.Random) -> None:
        n = len(self.urecs)
        self.public_channels = [
            (self._ids("C"), topic if k < len(CHANNEL_TOPICS) else f"{topic}-{k}")
            for k, topic in ((k, CHANNEL_TOPICS[k % len(CHANNEL_TOPICS)]) for k in range(max(4, min(400, n // 20))))
        ]
        self.private_channels = [
            (self._ids("G"), f"priv-{CHANNEL_TOPICS[k % len(CHANNEL_TOPICS)]}-{k}") for k in range(max(2, n // 60))
        ]
        self.external_team_id = self._ids("T")  # a Slack Connect partner's workspace
        self.apps: list[dict[str, Any]] = [
            {
                "id": self._ids("A"),
                "name": name,
                "scopes": scopes,
                "is_distributed": True,
                "is_directory_approved": rng.random() < 0.7,
            }
            for name, scopes in APPS
        ]
        # Most apps are approved for the workspace; every fifth is installed without approval.
        self.approved_apps = [self._approved_doc(app, rng) for k, app in enumerate(self.apps) if k % 5 != 4]
        self.restricted_apps: list[dict[str, Any]] = []  # admin.apps.restrict moves approvals here

    def _approved_doc(self, app: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """An admin.apps.approved.list entry: the app, when and by whom it was approved, its scopes."""
        slug = _ascii(app["name"])
        return {
            "app": {
                "id": app["id"],
                "name": app["name"],
                "description": f"{app['name']} for Slack",
                "help_url": f"https://{slug}.example.com/help",
                "privacy_policy_url": f"https://{slug}.example.com/privacy",
                "app_homepage_url": f"https://{slug}.example.com",
                "app_directory_url": f"https://{self.name}.enterprise.slack.com/apps/{app['id']}-{slug}",
                "is_app_directory_approved": app["is_directory_approved"],
                "is_internal": False,
                "additional_info": "",
                "icons": {"image_72": f"https://avatars.slack-edge.com/apps/{app['id']}_72.png"},
            },
            "scopes": [
                {
                    "name": scope,
                    "description": SCOPE_DESCRIPTIONS.get(scope, ("", False))[0],
                    "is_sensitive": SCOPE_DESCRIPTIONS.get(scope, ("", False))[1],
                    "token_type": "bot",
                }
                for scope in app["scopes"]
            ],
            "date_updated": self.anchor - rng.randrange(DAY, 700 * DAY),
            "last_resolved_by": {"actor_id": rng.choice(self.admins).id, "actor_type": "user"},
        }

    # ---------------------------------------------------------------- security settings

    def _make_settings(self, rng: random.Random) -> None:
        """The settings the posture reads, a secure baseline with two or three of SETTING_PLANTS:
        team.preferences.list (https://docs.slack.dev/reference/methods/team.preferences.list: five
        preferences, ``msg_edit_window_mins`` -1 when members may edit at any time), the organization's
        workspaces of admin.teams.list (https://docs.slack.dev/reference/methods/admin.teams.list, with
        ``discoverability`` open / invite_only / closed / unlisted as admin.teams.settings.setDiscoverability
        names them, and ``hidden`` as the method's own example answers) and the pending app requests of
        admin.apps.requests.list (https://docs.slack.dev/reference/methods/admin.apps.requests.list).
        Oddities: a request may carry the ``previous_resolution`` of an earlier answer and still be
        pending (the method's example has the field); and, a sandbox choice the page does not settle,
        a preference the workspace never set is left out of the answer, so a rule reading it must say
        "not said" rather than assume Slack's default."""
        ids = _Ids(random.Random(f"slack-settings-ids:{self.name}:{self.seed}"))
        ids.seen = self._ids.seen  # never an id another object of the tenant has
        planted = set(rng.sample(SETTING_PLANTS, 2 + rng.randrange(2)))
        self.planted_settings = sorted(planted)
        self.preferences: dict[str, Any] = {
            "allow_message_deletion": "message_deletion" in planted,
            "display_real_names": rng.random() < 0.6,
            "disable_file_uploads": rng.choice(("allow_all", "type:owner,type:admin", "allow_all")),
            "msg_edit_window_mins": -1 if "edit_window" in planted else rng.choice((5, 15, 60)),
            "who_can_post_general": rng.choice(("everyone", "admin")),
        }
        if rng.random() < 0.4:
            del self.preferences["display_real_names"]  # never set in this workspace: Slack omits it
        own = "open" if "open_workspace" in planted else rng.choice(("invite_only", "closed"))
        primary = self.admins[0] if self.admins[0].primary_owner else next(u for u in self.humans if u.primary_owner)
        self.org_teams: list[dict[str, Any]] = [
            {
                "id": self.team_id,
                "name": self.team_name,
                "discoverability": own,
                "primary_owner": {"user_id": primary.id, "email": primary.email},
                "team_url": f"https://{self.name}.slack.com/",
            }
        ]
        if self.enterprise_grid:
            for label in OTHER_WORKSPACES[: 1 + rng.randrange(len(OTHER_WORKSPACES))]:
                slug = f"{self.name}-{label.lower()}"
                self.org_teams.append(
                    {
                        "id": ids("T"),
                        "name": f"{self.enterprise_name} {label}",
                        "discoverability": rng.choice(("invite_only", "closed", "unlisted", "hidden")),
                        "primary_owner": {"user_id": primary.id, "email": primary.email},
                        "team_url": f"https://{slug}.slack.com/",
                    }
                )
        members = [u for u in self.active if not u.admin and not u.guest] or self.active
        requests = []
        stale = "stale_app_request" in planted
        for k, app in enumerate(rng.sample(self.apps, min(len(self.apps), 1 + rng.randrange(3)))):
            age_days = rng.randrange(45, 200) if stale and k == 0 else rng.randrange(1, 10)
            requester = rng.choice(members)
            doc = self._approved_doc(app, rng)
            requests.append(
                {
                    "id": ids("Ar", 9),
                    "app": doc["app"],
                    "user": {"id": requester.id, "name": requester.real_name, "email": requester.email},
                    "team": {"id": self.team_id, "name": self.team_name, "domain": self.name},
                    "scopes": doc["scopes"],
                    "previous_resolution": {"status": "restricted", "scopes": doc["scopes"]}
                    if rng.random() < 0.3
                    else None,
                    "is_user_app_collaborator": False,
                    "message": rng.choice(("", "Needed for our weekly reports", "Trying this out for the team")),
                    "date_created": self.anchor - age_days * DAY - rng.randrange(DAY),
                }
            )
        self.app_requests = sorted(requests, key=lambda r: -int(r["date_created"]))
        # Audit entries whose details are not the generated ones: a preference change's real values.
        self.audit_details: dict[int, dict[str, Any]] = {}

    def set_preference(self, name: str, value: bool | int, actor: UserRec) -> dict[str, Any]:
        """An admin changes a workspace preference; the Audit Logs API records pref.<name> with the
        previous and new values in ``details`` (as the reference describes for pref.* actions). No
        entry when the value does not change."""
        previous = self.preferences.get(name)
        if previous == value and name in self.preferences:
            return {"changed": False, "audit_id": None}
        self.preferences[name] = value
        audit_id = self.record_audit(PREFERENCE_ACTIONS[name], actor, 0)
        self.audit_details[len(self.ev_ts) - 1] = {
            "name": name,
            "previous_value": "" if previous is None else str(previous).lower(),
            "new_value": str(value).lower(),
        }
        return {"changed": True, "audit_id": audit_id, "previous": previous}

    def admin_user_view(self, doc: dict[str, Any]) -> dict[str, Any]:
        """A member as admin.users.list answers (https://docs.slack.dev/reference/methods/admin.users.list;
        the fields as slackapi's node SDK AdminUsersListResponse types them from Slack's answers)."""
        profile = doc.get("profile") or {}
        return {
            "id": doc["id"],
            "email": profile.get("email", ""),
            "is_admin": bool(doc.get("is_admin")),
            "is_owner": bool(doc.get("is_owner")),
            "is_primary_owner": bool(doc.get("is_primary_owner")),
            "is_restricted": bool(doc.get("is_restricted")),
            "is_ultra_restricted": bool(doc.get("is_ultra_restricted")),
            "is_bot": bool(doc.get("is_bot")),
            "is_active": not doc.get("deleted"),
            "username": doc.get("name"),
            "full_name": doc.get("real_name"),
            "has_2fa": bool(doc.get("has_2fa")),
            "has_sso": False,
            "date_created": int(doc.get("updated") or 0),
            "workspaces": list(doc.get("teams") or [self.team_id]),
        }

    def settings_truth(self) -> dict[str, Any]:
        """What the settings endpoints answer now, for an oracle to compute every posture rule."""
        admins = [
            self.admin_user_view(d)
            for d in self.users
            if not d.get("deleted") and not d.get("is_bot") and (d.get("is_admin") or d.get("is_owner"))
        ]
        return {
            "planted": self.planted_settings,
            "team_preferences": dict(self.preferences),
            "workspaces": [dict(t) for t in self.org_teams] if self.enterprise_grid else None,
            "workspace_admins": admins if self.enterprise_grid else None,
            "approved_apps": self.approved_apps if self.enterprise_grid else None,
            "app_requests": self.app_requests if self.enterprise_grid else None,
        }

    # ---------------------------------------------------------------- user groups

    def _make_usergroups(self, rng: random.Random) -> None:
        n_groups = (
            self.options.usergroups if self.options.usergroups is not None else min(300, max(3, len(self.urecs) // 40))
        )
        owner = self.admins[0]
        groups: list[dict[str, Any]] = []
        auto = (
            (
                "admin",
                "Team Admins",
                "admins",
                "A group of all Administrators on your team.",
                [u.id for u in self.active if u.admin],
            ),
            (
                "owner",
                "Team Owners",
                "owners",
                "A group of all Owners on your team.",
                [u.id for u in self.active if u.owner],
            ),
        )
        created0 = self.anchor - 3 * 365 * DAY
        for auto_type, name, handle, description, members in auto:
            groups.append(
                self._group_doc(
                    self._ids("S"),
                    name,
                    handle,
                    description,
                    auto_type,
                    "USLACKBOT",
                    created0,
                    created0,
                    0,
                    sorted(members),
                    [],
                )
            )
        pool = [u.id for u in self.active]
        for k in range(n_groups):
            topic = GROUP_TOPICS[k % len(GROUP_TOPICS)]
            name = topic if k < len(GROUP_TOPICS) else f"{topic} {k // len(GROUP_TOPICS) + 1}"
            handle = _ascii(name.replace(" ", "-")) or f"group{k}"
            created = self.anchor - rng.randrange(30 * DAY, 3 * 365 * DAY)
            updated = created + rng.randrange(0, self.anchor - created)
            disabled = rng.random() < 0.1
            size = min(len(pool), max(1, int(rng.expovariate(1 / max(3.0, len(pool) / 15)))))
            members = sorted(rng.sample(pool, size))
            channels = [c for c, _ in rng.sample(self.public_channels, min(2, len(self.public_channels)))]
            creator = rng.choice(self.admins).id
            groups.append(
                self._group_doc(
                    self._ids("S"),
                    name,
                    f"{handle}-{k}",
                    f"{name} team",
                    None,
                    creator,
                    created,
                    updated,
                    updated if disabled else 0,
                    members,
                    channels,
                    deleted_by=creator if disabled else None,
                    updated_by=owner.id,
                )
            )
        groups.sort(key=lambda g: g["name"].lower())
        self.usergroups = groups
        self.usergroup_index = {g["id"]: i for i, g in enumerate(groups)}

    def _group_doc(
        self,
        group_id: str,
        name: str,
        handle: str,
        description: str,
        auto_type: str | None,
        created_by: str,
        created: int,
        updated: int,
        deleted: int,
        members: list[str],
        channels: list[str],
        *,
        deleted_by: str | None = None,
        updated_by: str | None = None,
    ) -> dict[str, Any]:
        return {
            "id": group_id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": name,
            "description": description,
            "handle": handle,
            "is_external": False,
            "date_create": created,
            "date_update": updated,
            "date_delete": deleted,
            "auto_type": auto_type,
            "auto_provision": False,
            "enterprise_subteam_id": "",
            "created_by": created_by,
            "updated_by": updated_by or created_by,
            "deleted_by": deleted_by,
            "prefs": {"channels": channels, "groups": []},
            "user_count": len(members),
            "users": members,
        }

    # ---------------------------------------------------------------- files

    def _make_files(self, rng: random.Random) -> None:
        n = self.options.files if self.options.files is not None else len(self.humans) // 2
        owners = self.active
        files: list[dict[str, Any]] = []
        for k in range(n):
            u = owners[rng.randrange(len(owners))]
            filetype, mimetype, pretty, size = FILE_KINDS[rng.randrange(len(FILE_KINDS))]
            stem = FILE_STEMS[rng.randrange(len(FILE_STEMS))]
            name = f"{stem}-{k}.{'txt' if filetype == 'text' else filetype}"
            created = self.anchor - rng.randrange(0, 365 * DAY)
            files.append(
                self._file_doc(
                    self._ids("F"),
                    u,
                    name,
                    filetype,
                    mimetype,
                    pretty,
                    max(1, int(size * rng.uniform(0.2, 2.0))),
                    created,
                    rng,
                )
            )
        files += self._special_files(random.Random(f"slack-specials:{self.name}:{self.seed}"))
        files.sort(key=lambda f: (-f["created"], f["id"]))  # files.list answers newest first
        self.files = files
        self.forgotten_files: set[str] = set()  # deleted behind saaslens' back (forget)
        self.file_created_desc = [-f["created"] for f in files]

    def _file_doc(
        self,
        file_id: str,
        owner: UserRec,
        name: str,
        filetype: str,
        mimetype: str,
        pretty: str,
        size: int,
        created: int,
        rng: random.Random,
    ) -> dict[str, Any]:
        url_private, url_private_download = file_urls(self.team_id, file_id, name)
        doc: dict[str, Any] = {
            "id": file_id,
            "created": created,
            "timestamp": created,
            "name": name,
            "title": name.rsplit(".", 1)[0].replace("-", " ").capitalize(),
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": pretty,
            "user": owner.id,
            "user_team": self.team_id,
            "editable": filetype == "text",
            "size": size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": url_private,
            "url_private_download": url_private_download,
            "permalink": f"https://{self.name}.slack.com/files/{owner.id}/{file_id}/{name}",
            "permalink_public": f"https://slack-files.com/{self.team_id}-{file_id}-{_hex(file_id, 10)}",
            "comments_count": 0,
        }
        if rng.random() < 0.04:  # a Google Drive file: shared in Slack, hosted elsewhere
            doc.update(
                mode="external",
                is_external=True,
                external_type="gdrive",
                external_id=_hex(f"gdrive:{file_id}", 24),
                external_url=f"https://docs.google.com/document/d/{_hex(f'doc:{file_id}', 32)}/edit",
            )
        public: dict[str, list[dict[str, Any]]] = {}
        private: dict[str, list[dict[str, Any]]] = {}
        channels, groups, ims = [], [], []
        for _ in range(rng.choices((0, 1, 2, 3), weights=(25, 50, 18, 7))[0]):
            draw = rng.random()
            ts = f"{created + rng.randrange(0, 600)}.{rng.randrange(10**6):06d}"
            if draw < 0.6:
                channel_id, channel_name = self.public_channels[rng.randrange(len(self.public_channels))]
                connect = rng.random() < 0.08
                public[channel_id] = [self._share(ts, channel_name, owner.id, connect)]
                channels.append(channel_id)
            elif draw < 0.85:
                channel_id, channel_name = self.private_channels[rng.randrange(len(self.private_channels))]
                private[channel_id] = [self._share(ts, channel_name, owner.id, False)]
                groups.append(channel_id)
            else:
                channel_id = "D" + _hex(f"im:{owner.id}:{ts}", 10).upper()
                private[channel_id] = [self._share(ts, None, owner.id, False)]
                ims.append(channel_id)
        doc.update(channels=sorted(set(channels)), groups=sorted(set(groups)), ims=sorted(set(ims)))
        doc["is_public"] = bool(public)
        if public or private:
            doc["shares"] = {key: value for key, value in (("public", public), ("private", private)) if value}
        if rng.random() < 0.03:
            doc["public_url_shared"] = True
        return doc

    def _special_files(self, rng: random.Random) -> list[dict[str, Any]]:
        """The corpus' special documents (a zip bomb dressed as .docx, an encrypted PDF, a corrupt
        workbook, a Latin-1 CSV, the large CSV when asked for) as files of ordinary members: the first
        with its public link shared, the second shared in a Slack Connect channel with a partner."""
        owners = [u for u in self.active if not u.admin and not u.guest] or self.active
        files = []
        for k, document in enumerate(self.contents.corpus.specials()):
            owner = owners[(k * 7) % len(owners)]
            file_id = self._ids("F")
            filetype = document.name.rsplit(".", 1)[-1].lower()
            created = self.anchor - rng.randrange(DAY, 60 * DAY)
            doc = self._file_doc(
                file_id, owner, document.name, filetype, document.mime_type, filetype.upper(), 0, created, rng
            )
            # Hosted, so that what is served is the corpus' bytes; shared as the ground truth says.
            doc.update(mode="hosted", is_external=False, external_type="", public_url_shared=k == 0)
            doc.pop("external_id", None)
            doc.pop("external_url", None)
            if k == 1:
                channel_id, channel_name = self.public_channels[0]
                ts = f"{created + 60}.000100"
                doc["shares"] = {"public": {channel_id: [self._share(ts, channel_name, owner.id, True)]}}
                doc.update(channels=[channel_id], groups=[], ims=[], is_public=True)
            self.contents.special[file_id] = k
            files.append(doc)
        return files

    def _share(self, ts: str, channel_name: str | None, owner_id: str, connect: bool) -> dict[str, Any]:
        share: dict[str, Any] = {
            "reply_users": [],
            "reply_users_count": 0,
            "reply_count": 0,
            "ts": ts,
            "team_id": self.external_team_id if connect else self.team_id,
            "share_user_id": owner_id,
            "source": "UNKNOWN",
        }
        if channel_name is not None:
            share["channel_name"] = channel_name
        return share

    # ---------------------------------------------------------------- team.accessLogs

    def _make_access_logs(self, rng: random.Random, target: int) -> None:
        people = self.active
        combos = len(people) * len(LOCATIONS) * len(USER_AGENTS)
        target = min(target, combos)
        seen: set[tuple[int, int, int]] = set()
        home = {u.id: rng.randrange(len(LOCATIONS)) for u in people}
        span = self.anchor - self.window_start
        entries: list[dict[str, Any]] = []
        while len(entries) < target:
            u = people[rng.randrange(len(people))]
            loc = home[u.id] if rng.random() < 0.8 else rng.randrange(len(LOCATIONS))
            agent = rng.randrange(len(USER_AGENTS))
            key = (u.index, loc, agent)
            if key in seen:
                continue
            seen.add(key)
            last = self.anchor - rng.randrange(span + 1)
            first = last - rng.randrange(0, max(1, last - self.window_start) + 1)
            location = LOCATIONS[loc]
            octet = 1 + int(_hex(f"ip:{u.id}:{loc}", 4), 16) % 254
            entries.append(
                {
                    "user_id": u.id,
                    "username": u.name,
                    "date_first": first,
                    "date_last": last,
                    "count": 1 if first == last else 2 + rng.randrange(40),
                    "ip": f"{location.ip_prefix}.{octet}",
                    "user_agent": USER_AGENTS[agent],
                    "isp": location.isp,
                    "country": location.country,
                    "region": location.region,
                }
            )
        # Newest first, as Slack answers; ties in a stable order.
        entries.sort(key=lambda e: (-e["date_last"], e["user_id"], e["ip"], e["user_agent"]))
        self.access_logs = entries
        self.access_neg_last = [-e["date_last"] for e in entries]

    def access_slice(self, before: int | None) -> int:
        """Index of the first access-log entry with date_last <= before (entries are newest first)."""
        return 0 if before is None else bisect.bisect_left(self.access_neg_last, -before)

    # ---------------------------------------------------------------- audit logs

    def _make_audit(self, rng: random.Random, target: int) -> None:
        target = max(0, target)
        span = self.anchor - self.window_start
        picks = rng.choices(range(len(AUDIT_WEIGHTS)), weights=AUDIT_WEIGHTS, k=target)
        rows: list[tuple[int, int, int, int]] = []
        for kind_index in picks:
            kind = AUDIT_KINDS[kind_index]
            actor = (rng.choice(self.admins) if kind.by_admin else self.active[rng.randrange(len(self.active))]).index
            rows.append(
                (self.window_start + rng.randrange(span + 1), kind_index, actor, self._audit_target(kind, actor, rng))
            )
        rows.sort()
        self.ev_ts = array("q", (r[0] for r in rows))
        self.ev_kind = array("B", (r[1] for r in rows))
        self.ev_actor = array("i", (r[2] for r in rows))
        self.ev_target = array("i", (r[3] for r in rows))

    def _audit_target(self, kind: AuditKind, actor: int, rng: random.Random) -> int:
        if kind.entity == "self":
            return actor
        if kind.entity == "user":
            return rng.randrange(len(self.urecs))
        if kind.entity == "channel":
            return rng.randrange(len(self.public_channels) + len(self.private_channels))
        if kind.entity == "file":
            return rng.randrange(len(self.files)) if self.files else -1
        if kind.entity == "app":
            return rng.randrange(len(self.apps))
        return 0

    @property
    def audit_count(self) -> int:
        return len(self.ev_ts)

    def audit_bounds(self, oldest: int | None, latest: int | None) -> tuple[int, int]:
        """[lo, hi) indexes of events with oldest <= date_create <= latest."""
        lo = 0 if oldest is None else bisect.bisect_left(self.ev_ts, oldest)
        hi = len(self.ev_ts) if latest is None else bisect.bisect_right(self.ev_ts, latest)
        return lo, max(lo, hi)

    def audit_id(self, i: int) -> str:
        digest = hashlib.blake2b(b"slack-audit:%d:%d" % (self.seed, i), digest_size=16).digest()
        return str(uuidlib.UUID(bytes=digest, version=4))

    def _user_ref(self, u: UserRec) -> dict[str, Any]:
        ref = {"id": u.id, "name": u.real_name, "team": self.team_id}
        if u.email:
            ref["email"] = u.email
        return ref

    def _entity(self, kind: AuditKind, target: int) -> dict[str, Any]:
        if kind.entity in ("self", "user"):
            return {"type": "user", "user": self._user_ref(self.urecs[target])}
        if kind.entity == "channel":
            n_public = len(self.public_channels)
            public = target < n_public
            channel_id, name = self.public_channels[target] if public else self.private_channels[target - n_public]
            return {
                "type": "channel",
                "channel": {
                    "id": channel_id,
                    "privacy": "public" if public else "private",
                    "name": name,
                    "is_shared": False,
                    "is_org_shared": False,
                },
            }
        if kind.entity == "file" and target >= 0:
            f = self.files[target]
            return {
                "type": "file",
                "file": {"id": f["id"], "name": f["name"], "filetype": f["filetype"], "title": f["title"]},
            }
        if kind.entity == "app":
            app = self.apps[target]
            return {
                "type": "app",
                "app": {
                    "id": app["id"],
                    "name": app["name"],
                    "is_distributed": app["is_distributed"],
                    "is_directory_approved": app["is_directory_approved"],
                    "scopes": app["scopes"],
                },
            }
        return {"type": "workspace", "workspace": {"id": self.team_id, "name": self.team_name, "domain": self.name}}

    def render_audit(self, i: int) -> dict[str, Any]:
        kind = AUDIT_KINDS[self.ev_kind[i]]
        actor = self.urecs[self.ev_actor[i]]
        digest = hashlib.blake2b(b"%d:%d" % (self.seed, i), digest_size=16).digest()
        location = LOCATIONS[digest[0] % len(LOCATIONS)]
        entry: dict[str, Any] = {
            "id": self.audit_id(i),
            "date_create": self.ev_ts[i],
            "action": kind.action,
            "actor": {"type": "user", "user": self._user_ref(actor)},
            "entity": self._entity(kind, self.ev_target[i]),
            "context": {
                "location": (
                    {"type": "enterprise", "id": self.enterprise_id, "name": self.enterprise_name, "domain": self.name}
                    if self.enterprise_grid and kind.by_admin
                    else {"type": "workspace", "id": self.team_id, "name": self.team_name, "domain": self.name}
                ),
                "ua": USER_AGENTS[digest[1] % len(USER_AGENTS)],
                "ip_address": f"{location.ip_prefix}.{1 + digest[2] % 254}",
                "session_id": str(int.from_bytes(digest[3:9], "big")),
            },
        }
        if kind.action == "app_scopes_expanded":
            scopes = self.apps[self.ev_target[i]]["scopes"]
            entry["details"] = {"previous_scopes": scopes[:-1], "new_scopes": scopes}
        elif i in self.audit_details:
            entry["details"] = dict(self.audit_details[i])
        elif kind.action.startswith("pref."):
            entry["details"] = {
                "name": kind.action.removeprefix("pref.").removesuffix("_changed"),
                "previous_value": "false",
                "new_value": "true",
            }
        return entry

    def iter_audit(self) -> Iterator[dict[str, Any]]:
        for i in range(self.audit_count):
            yield self.render_audit(i)

    # ---------------------------------------------------------------- changes (write methods)
    # The personality calls these from its request handlers, which all run on the server's event
    # loop, so no request sees half a change.

    def user_doc(self, user_id: str) -> dict[str, Any] | None:
        index = bisect.bisect_left(self.user_ids, user_id)
        return self.users[index] if index < len(self.user_ids) and self.user_ids[index] == user_id else None

    def urec(self, user_id: str) -> UserRec | None:
        if not hasattr(self, "_urec_by_id"):
            self._urec_by_id = {u.id: u for u in self.urecs}
        return self._urec_by_id.get(user_id)

    def file_doc(self, file_id: str) -> dict[str, Any] | None:
        """A file files.info still answers for: not forgotten, not deleted with files.delete."""
        if file_id in self.forgotten_files or file_id in self.contents.deleted:
            return None
        return self._file_index_doc(file_id)

    def _file_index_doc(self, file_id: str) -> dict[str, Any] | None:
        if not hasattr(self, "_file_by_id"):
            self._file_by_id = {f["id"]: f for f in self.files}
        return self._file_by_id.get(file_id)

    def file_state(self, file_id: str) -> str:
        """ "listed", "deleted" (files.delete: files.info answers file_deleted) or "unknown"."""
        if file_id in self.contents.deleted:
            return "deleted"
        if file_id in self.forgotten_files or self._file_index_doc(file_id) is None:
            return "unknown"
        return "listed"

    def listed_files(self) -> list[dict[str, Any]]:
        """What files.list lists: every file neither forgotten nor deleted, newest first."""
        gone = self.forgotten_files | self.contents.deleted
        return [f for f in self.files if f["id"] not in gone] if gone else self.files

    def delete_file(self, file_id: str) -> int:
        """files.delete: the file is gone from every answer; its index, for the audit entry."""
        self.contents.deleted.add(file_id)
        return next(k for k, f in enumerate(self.files) if f["id"] == file_id)

    def app_index(self, app_id: str) -> int | None:
        return next((k for k, app in enumerate(self.apps) if app["id"] == app_id), None)

    def record_audit(self, action: str, actor: UserRec, target: int) -> str:
        """Append the Audit Logs API entry a write method leaves, now (never before the last one), by
        the token's user; `target` indexes urecs, files or apps as the action's entity says."""
        now = max(int(time.time()), self.ev_ts[-1] if len(self.ev_ts) else 0)
        self.ev_ts.append(now)
        self.ev_kind.append(KIND_INDEX[action])
        self.ev_actor.append(actor.index)
        self.ev_target.append(target)
        return self.audit_id(len(self.ev_ts) - 1)

    def set_deleted(self, user_id: str, deleted: bool) -> None:
        doc, rec = self.user_doc(user_id), self.urec(user_id)
        assert doc is not None
        doc["deleted"] = deleted
        doc["updated"] = int(time.time())
        if rec is not None:
            rec.deleted = deleted

    def set_regular(self, user_id: str, *, org_level: bool) -> None:
        """A regular member: no workspace admin/owner role nor guest flags (and, at the org level, no
        org admin/owner role); Slack's built-in admins and owners groups follow the roles."""
        doc, rec = self.user_doc(user_id), self.urec(user_id)
        assert doc is not None
        for flag in ("is_admin", "is_owner", "is_restricted", "is_ultra_restricted"):
            doc[flag] = False
        enterprise = doc.get("enterprise_user")
        if org_level and isinstance(enterprise, dict):
            enterprise["is_admin"] = enterprise["is_owner"] = False
        doc["updated"] = int(time.time())
        if rec is not None:
            rec.admin = rec.owner = rec.guest = rec.ultra = False
        for group in self.usergroups:
            if group["auto_type"] in ("admin", "owner") and user_id in group["users"]:
                group["users"] = [u for u in group["users"] if u != user_id]
                group["user_count"] = len(group["users"])
                group["date_update"] = int(time.time())

    def restrict_app(self, app_id: str, actor: UserRec) -> bool:
        """Void the app's approval and list it as restricted; False when it is restricted already."""
        if any(r["app"]["id"] == app_id for r in self.restricted_apps):
            return False
        index = self.app_index(app_id)
        assert index is not None
        approved = next((a for a in self.approved_apps if a["app"]["id"] == app_id), None)
        self.approved_apps = [a for a in self.approved_apps if a["app"]["id"] != app_id]
        doc = dict(approved) if approved is not None else self._approved_doc(self.apps[index], random.Random(app_id))
        doc["date_updated"] = int(time.time())
        doc["last_resolved_by"] = {"actor_id": actor.id, "actor_type": "user"}
        self.restricted_apps.append(doc)
        return True

    def forget_user(self, user_id: str) -> None:
        index = bisect.bisect_left(self.user_ids, user_id)
        if index >= len(self.user_ids) or self.user_ids[index] != user_id:
            raise ValueError(f"no user {user_id!r}")
        del self.users[index]
        del self.user_ids[index]

    def upload_file(self, change: UploadFile) -> dict[str, Any]:
        """advance(upload_file): a member uploads a hosted file into a channel ("now"), optionally creating
        its public link; its content (the corpus' document for its id and name) carries at least one
        planted payment card or credential. The Audit Logs API gets file_uploaded and, for a public
        link, file_public_link_created, by the uploader, entity the file. Returns the new file and the
        audit entries' ids. Runs on the server's event loop like the write methods."""
        uploader = self._uploader(change.user_id)
        if change.name is not None and ("/" in change.name or not change.name.isprintable()):
            raise ValueError("upload_file.name: no '/' nor control characters")
        now = int(time.time())
        file_id, name, document = self._sensitive_document(change.name)
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        filetype, mimetype, pretty = UPLOAD_KINDS.get(extension, ("binary", "application/octet-stream", "Binary"))
        rng = random.Random(f"slack-upload:{self.name}:{self.seed}:{file_id}")
        doc = self._file_doc(file_id, uploader, name, filetype, mimetype, pretty, document.size, now, rng)
        # Uploaded by the member into one channel, hosted by Slack; no other share.
        doc.update(mode="hosted", is_external=False, external_type="", public_url_shared=change.public)
        doc.pop("external_id", None)
        doc.pop("external_url", None)
        ts = f"{now}.{rng.randrange(10**6):06d}"
        if change.channel_type == "public_channel":
            channel_id, channel_name = self.public_channels[rng.randrange(len(self.public_channels))]
            doc["shares"] = {"public": {channel_id: [self._share(ts, channel_name, uploader.id, False)]}}
            doc.update(channels=[channel_id], groups=[], ims=[], is_public=True)
        else:
            channel_id, channel_name = self.private_channels[rng.randrange(len(self.private_channels))]
            doc["shares"] = {"private": {channel_id: [self._share(ts, channel_name, uploader.id, False)]}}
            doc.update(channels=[], groups=[channel_id], ims=[], is_public=False)
        index = self._insert_file(doc)
        actions = ["file_uploaded", *(["file_public_link_created"] if change.public else [])]
        audit_ids = [self.record_audit(action, uploader, index) for action in actions]
        return {"file": doc, "document": document, "audit_actions": actions, "audit_ids": audit_ids}

    def _uploader(self, user_id: str | None) -> UserRec:
        if user_id is None:
            members = [u for u in self.active if not u.admin and not u.guest and not u.deleted]
            members = members or [u for u in self.active if not u.deleted]
            if not members:
                raise ValueError("upload_file: the workspace has no active member to upload")
            return members[len(self.files) % len(members)]
        rec = self.urec(user_id)
        if rec is None or self.user_doc(user_id) is None:
            raise ValueError(f"upload_file.user_id: no user {user_id!r}")
        if rec.bot or rec.deleted or rec.invited:
            raise ValueError(f"upload_file.user_id: {user_id!r} is a bot, deactivated or not yet signed in")
        return rec

    def _sensitive_document(self, name: str | None) -> tuple[str, str, Document]:
        """A new file id (and name, unless given) whose corpus document plants a payment card or a credential."""
        for attempt in range(UPLOAD_ATTEMPTS):
            file_id = self._ids("F")
            candidate = name
            if candidate is None:
                stem = UPLOAD_STEMS[attempt % len(UPLOAD_STEMS)]
                extension = UPLOAD_DEFAULT_EXTENSIONS[attempt % len(UPLOAD_DEFAULT_EXTENSIONS)]
                candidate = f"{stem}-{len(self.files)}.{extension}"
            extension = candidate.rsplit(".", 1)[-1].lower() if "." in candidate else ""
            mimetype = UPLOAD_KINDS.get(extension, ("", "application/octet-stream", ""))[1]
            document = self.contents.corpus.document_for(file_id, candidate, mimetype)
            if document.expect == "scanned" and any(
                p.detector == "payment_card" or p.detector.startswith("credential") for p in document.planted
            ):
                return file_id, candidate, document
        raise ValueError(f"upload_file: no content with a planted card or credential in {UPLOAD_ATTEMPTS} tries")

    def _insert_file(self, doc: dict[str, Any]) -> int:
        """Put a new file where files.list's newest-first order has it; audit entries name files by
        position, so those at or after it move by one. Returns its position."""
        key = (-doc["created"], doc["id"])
        position = bisect.bisect_left([(-f["created"], f["id"]) for f in self.files], key)
        file_kinds = {k for k, kind in enumerate(AUDIT_KINDS) if kind.entity == "file"}
        targets = self.ev_target
        for i, kind_index in enumerate(self.ev_kind):
            if kind_index in file_kinds and targets[i] >= position:
                targets[i] += 1
        self.files.insert(position, doc)
        self.file_created_desc.insert(position, -doc["created"])
        if hasattr(self, "_file_by_id"):
            self._file_by_id[doc["id"]] = doc
        return position

    # ---------------------------------------------------------------- tokens

    def _bind_tokens(self) -> None:
        by_kind = {
            "primary_owner": self.admins[0]
            if self.admins[0].primary_owner
            else next((u for u in self.humans if u.primary_owner), self.admins[0]),
            "admin": next((u for u in self.active if u.admin and not u.owner), self.admins[0]),
            "member": next((u for u in self.active if not u.admin and not u.guest), self.active[0]),
        }
        bot = next((u for u in self.urecs if u.bot), None)
        self.token_users: dict[str, UserRec] = {}
        for spec in self.tokens:
            self.token_users[spec.token] = bot if spec.kind == "bot" and bot is not None else by_kind[spec.acts_as]

    # ---------------------------------------------------------------- ground truth

    def _dlp_truth(self, files: list[dict[str, Any]]) -> dict[str, Any]:
        """What content inspection must find in every listed file: the corpus' oracle for hosted files,
        the scan's skip for external ones, and each file's planted values (to prove none is stored)."""
        matches: dict[str, dict[str, int]] = {}
        expect: dict[str, str] = {}
        planted: dict[str, list[str]] = {}
        for file in files:
            if not self.contents.hosted(file):
                expect[file["id"]] = "skipped:no-content: an external file"  # the scan's reason for a skip
                continue
            expect[file["id"]], counts, values = self.contents.truth(file)
            if counts is not None:
                matches[file["id"]] = counts
            if values:
                planted[file["id"]] = values
        return {"matches": matches, "expect": expect, "planted_values": planted}

    def ground_truth(self) -> dict[str, Any]:
        files = [self.contents.materialize(f) for f in self.listed_files()]
        return {
            "app": "slack",
            "tenant": self.name,
            "workforce": self.options.workforce,
            "seed": self.seed,
            "anchor": datetime.fromtimestamp(self.anchor, UTC).isoformat(),
            "history_days": self.options.history_days,
            "plan": self.options.plan,
            "team": {"id": self.team_id, "name": self.team_name, "domain": self.name},
            "enterprise": {"id": self.enterprise_id, "name": self.enterprise_name} if self.enterprise_grid else None,
            "credentials": [
                {
                    "token": spec.token,
                    "kind": spec.kind,
                    "scopes": spec.scopes,
                    "user_id": self.token_users[spec.token].id,
                }
                for spec in self.tokens
            ],
            "users": self.users,
            # What the lake must hold as null although the provider sent a value: its sentinel for
            # "unknown" (Slackbot's "updated": 0), per table.column, by account id.
            "provider_sentinels": {"accounts.updated_at": [u["id"] for u in self.users if u.get("updated") == 0]},
            "usergroups": self.usergroups,
            "files": files,
            "dlp": self._dlp_truth(files),
            "approved_apps": self.approved_apps,
            "restricted_apps": self.restricted_apps,
            "settings": self.settings_truth(),
            "access_logs": self.access_logs,
            "audit_logs": list(self.iter_audit()),
            "counts": {
                "users": len(self.users),
                "usergroups": len(self.usergroups),
                "memberships": sum(len(g["users"]) for g in self.usergroups),
                "files": len(self.files),
                "approved_apps": len(self.approved_apps),
                "access_logs": len(self.access_logs),
                "audit_logs": self.audit_count,
            },
        }
