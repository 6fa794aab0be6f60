"""Deterministic synthetic GitHub Enterprise Cloud organizations.

Everything derives from ``(seed, users, options)``: the same inputs give identical ground truth.
Time is relative to an *anchor* (default: server start, whole seconds, UTC); audit log events fill
``[anchor - history_days, anchor]``.

Object shapes follow GitHub's OpenAPI description for Enterprise Cloud (github/rest-api-description,
``descriptions/ghec/``, published on npm as ``@octokit/openapi``): ``simple-user``, ``team``,
``team-member`` (with ``role`` and ``inherited``), ``installation``, ``credential-authorization``,
``minimal-repository``, ``organization-full`` and ``audit-log-event``. Audit event fields per action
come from GitHub's audit log event catalogue (github/docs ``src/audit-logs/data/ghec/organization.json``,
rendered at https://docs.github.com/enterprise-cloud@latest/organizations/keeping-your-organization-secure/managing-security-settings-for-your-organization/audit-log-events-for-your-organization),
plus ``actor_ip``/``actor_location``/``hashed_token``/``programmatic_access_type`` as described in
https://docs.github.com/enterprise-cloud@latest/organizations/keeping-your-organization-secure/managing-security-settings-for-your-organization/identifying-audit-log-events-performed-by-an-access-token
and .../displaying-ip-addresses-in-the-audit-log-for-your-organization. Timestamps are epoch
milliseconds; ``_document_id`` is the event id.

The audit log is stored as parallel arrays (timestamp, kind, actor, target, aux) and each event is
rendered on demand, so 200,000 events cost a few megabytes and a page costs time proportional to
the page. Events are ordered by ``(@timestamp, _document_id)``; several events may share a
millisecond (a burst), and within such a tie the document ids ascend.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import random
import re
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from saaslens_sandbox.core import TenantOptions
from saaslens_sandbox.github.emu import ScimIdentity, identity_id, managed_login
from saaslens_sandbox.github.settings import change_for, make_settings
from saaslens_sandbox.github.settings import truth as settings_truth
from saaslens_sandbox.workforce import workforce_of

ORIGIN_MARKER = "{{sandbox-origin}}"
"""Stands for ``scheme://host:port`` in stored API URLs; replaced in the serialized bytes per request."""

DAY_MS = 86_400_000
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

Level = Literal["read", "write", "admin"]


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


class TokenSpec(BaseModel):
    """A personal access token. Classic tokens carry OAuth ``scopes`` (echoed in ``X-OAuth-Scopes``);
    fine-grained tokens carry organization ``permissions`` (``members``, ``organization_administration``)."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=8)
    kind: Literal["classic", "fine_grained"] = "classic"
    scopes: list[str] = Field(default_factory=list)
    permissions: dict[str, Level] = Field(default_factory=dict)
    owner: bool = True
    """The token's user is an organization owner (else a plain member)."""
    enterprise_owner: bool = False
    """The token's user is also an owner of the enterprise (``managed_users`` tenants)."""
    setup_user: bool = False
    """The token belongs to the enterprise's setup user (``SHORTCODE_admin``), an enterprise owner who
    is no member of the organization: the only user whose ``scim:enterprise`` token may write SCIM."""


class AppSpec(BaseModel):
    """A GitHub App installed on the organization; it signs RS256 JWTs with the key whose public half
    is ``public_key_pem`` and exchanges them for installation access tokens."""

    model_config = ConfigDict(extra="forbid")
    app_id: int = Field(ge=1)
    client_id: str = Field(min_length=1)
    installation_id: int = Field(ge=1)
    public_key_pem: str
    slug: str = "saaslens-scanner"
    permissions: dict[str, Level] = Field(
        default_factory=lambda: dict[str, Level](
            {"members": "read", "organization_administration": "read", "metadata": "read"}
        )
    )

    @field_validator("public_key_pem")
    @classmethod
    def _is_public_key(cls, value: str) -> str:
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        try:
            load_pem_public_key(value.encode())
        except ValueError as exc:
            raise ValueError(f"not a PEM public key: {exc}") from None
        return value


class GitHubOptions(TenantOptions):
    """``TenantSpec.options`` for a GitHub organization (all optional)."""

    model_config = ConfigDict(extra="forbid")
    org: str | None = None
    """Organization login (default: the tenant name)."""
    events: int | None = Field(default=None, ge=0)
    """Total audit log events (default: 10 per user)."""
    history_days: int = Field(default=7, ge=1, le=180)
    plan: Literal["enterprise", "team", "free"] = "enterprise"
    """Only ``enterprise`` (GitHub Enterprise Cloud) serves the audit log and credential authorizations."""
    saml_sso: bool = True
    """SAML single sign-on is enabled: credential authorizations exist and SSO responses are logged."""
    team_member_fields: bool = True
    """Team member lists carry ``role`` and ``inherited`` (GitHub enables this per organization)."""
    ip_disclosure: bool = True
    """The organization shows source IPs (``actor_ip``) in its audit log."""
    tokens: list[TokenSpec] | None = None
    """Default: owner/reduced/member classic tokens and an owner fine-grained token (see ground truth)."""
    apps: list[AppSpec] = Field(default_factory=list)
    installation_token_ttl_seconds: int = Field(default=3600, ge=1, le=3600)
    core_limit_per_hour: int = Field(default=5000, ge=60)
    """The primary rate limit (5,000/h for a PAT, 15,000/h for a GHEC GitHub App installation)."""
    secondary_retry_after_seconds: int = Field(default=1, ge=0, le=3600)
    """``Retry-After`` on secondary rate limits (GitHub sends about 60; kept short for tests)."""
    enterprise: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,59}$")
    """The slug of the enterprise owning the organization: it serves the enterprise audit log
    (``/enterprises/{enterprise}/audit-log``). Default: none (the events still name a business)."""
    managed_users: bool = False
    """The enterprise uses Enterprise Managed Users: every account is provisioned through the
    enterprise SCIM API (``/scim/v2/enterprises/{enterprise}/Users``), logins are the normalized SCIM
    ``userName`` plus ``_<shortcode>``, and the setup user ``<shortcode>_admin`` holds the SCIM token."""
    shortcode: str | None = Field(default=None, pattern=r"^[0-9A-Za-z]{3,8}$")
    """The managed-users enterprise's shortcode (default: the first eight alphanumerics of the org)."""

    @model_validator(mode="after")
    def _managed_users_need_an_enterprise(self) -> GitHubOptions:
        if self.managed_users and (self.enterprise is None or self.plan != "enterprise"):
            raise ValueError("managed_users needs an enterprise slug and plan enterprise")
        return self


# --------------------------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------------------------

FIRST = (
    "ana", "ben", "carla", "chen", "dario", "elif", "farah", "gus", "hana", "ivan", "jade", "kofi",
    "lena", "marco", "nadia", "omar", "priya", "quinn", "rosa", "sam", "tariq", "uma", "vera", "wei",
    "xena", "yusuf", "zoe", "aiko", "bruno", "dana",
)  # fmt: skip
LAST = (
    "lopez", "smith", "kim", "nguyen", "okafor", "rossi", "silva", "novak", "haddad", "tanaka",
    "berg", "costa", "dubois", "evans", "fischer", "garcia", "hughes", "ivanova", "jensen", "khan",
    "larsen", "moreau", "nakamura", "ortiz", "patel", "reyes", "schmidt", "torres", "weber", "young",
)  # fmt: skip
TEAM_WORDS = (
    "platform", "payments", "identity", "mobile", "web", "data", "infra", "security", "growth",
    "search", "billing", "docs", "design", "qa", "sre", "ml", "api", "edge", "devex", "compliance",
)  # fmt: skip
REPO_WORDS = (
    "service", "api", "web", "cli", "infra", "terraform", "docs", "sdk", "worker", "gateway",
    "dashboard", "pipeline", "charts", "config", "tools", "auth", "events", "ledger", "notifier", "proxy",
)  # fmt: skip
LANGUAGES = ("Python", "Go", "TypeScript", "Java", "Ruby", "HCL", "Rust", "Kotlin", None)
COUNTRIES = ("US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "NL", "ES")
ANOMALY_COUNTRIES = ("RU", "KP", "NG")
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
)
GIT_AGENTS = ("git/2.45.2", "git/2.39.3 (Apple Git-146)", "JGit/6.9.0")
API_AGENTS = ("gh/2.52.0 (linux; amd64)", "octokit-rest.js/21.0.0", "Terraform/1.8.5 terraform-provider-github/6.2.1")
INSTALLED_APPS = (
    ("slack", {"issues": "read", "pull_requests": "read", "metadata": "read"}, ("issues", "pull_request")),
    ("jira-software-github", {"contents": "read", "issues": "write", "metadata": "read"}, ("push", "issues")),
    ("codecov", {"checks": "write", "statuses": "write", "metadata": "read"}, ("push",)),
    ("renovate", {"contents": "write", "pull_requests": "write", "workflows": "write"}, ("push", "pull_request")),
    ("snyk", {"contents": "read", "security_events": "write", "metadata": "read"}, ("push",)),
    ("sonarcloud", {"checks": "write", "pull_requests": "write", "metadata": "read"}, ("check_run",)),
    ("vercel", {"deployments": "write", "contents": "read", "members": "read"}, ("deployment", "push")),
    ("azure-boards", {"issues": "write", "metadata": "read"}, ("issues",)),
)
CREDENTIAL_TYPES = ("personal access token", "SSH key", "OAuth app token", "GitHub app token")
TOKEN_SCOPE_SETS = (("repo",), ("repo", "read:org"), ("repo", "workflow"), ("read:packages",), ("user", "repo"))
PROGRAMMATIC = (
    ("Personal access token (classic)", "repo,read:org"),
    ("Fine-grained personal access token", None),
    ("OAuth access token", "repo"),
    ("GitHub App user-to-server token", None),
)


@dataclass(frozen=True)
class EventKind:
    action: str
    weight: float
    actor: str  # owner | member | anyone | dependabot
    target: str  # none | user | team | team_user | repo | repo_user | installation | credential
    operation: str  # GitHub's operation_type
    git: bool = False


KINDS: tuple[EventKind, ...] = (
    EventKind("org.sso_response", 26, "member", "none", "authentication"),
    EventKind("git.clone", 12, "anyone", "repo", "access", git=True),
    EventKind("git.fetch", 6, "anyone", "repo", "access", git=True),
    EventKind("git.push", 6, "anyone", "repo", "modify", git=True),
    EventKind("repo.download_zip", 1, "anyone", "repo", "access"),
    EventKind("pull_request.create", 8, "anyone", "repo", "create"),
    EventKind("pull_request.merge", 5, "member", "repo", "modify"),
    EventKind("org_credential_authorization.grant", 3, "member", "credential", "create"),
    EventKind("protected_branch.rejected_ref_update", 1.5, "anyone", "repo", "modify"),
    EventKind("repo.create", 1.5, "member", "repo", "create"),
    EventKind("repo.access", 0.6, "owner", "repo", "modify"),
    EventKind("repo.add_member", 1, "owner", "repo_user", "create"),
    EventKind("team.add_member", 2.5, "owner", "team_user", "modify"),
    EventKind("team.remove_member", 0.8, "owner", "team_user", "modify"),
    EventKind("team.promote_maintainer", 0.5, "owner", "team_user", "modify"),
    EventKind("team.create", 0.6, "owner", "team", "create"),
    EventKind("org.invite_member", 0.8, "owner", "user", "create"),
    EventKind("org.add_member", 0.8, "owner", "user", "create"),
    EventKind("org.update_member", 0.5, "owner", "user", "modify"),
    EventKind("org.remove_member", 0.3, "owner", "user", "remove"),
    EventKind("org.oauth_app_access_approved", 0.3, "owner", "none", "modify"),
    EventKind("integration_installation.create", 0.3, "owner", "installation", "create"),
    EventKind("personal_access_token.request_created", 0.8, "member", "none", "create"),
    EventKind("personal_access_token.access_granted", 0.5, "owner", "user", "modify"),
    EventKind("org.update_default_repository_permission", 0.1, "owner", "none", "modify"),
    EventKind("org.recovery_code_failed", 0.1, "owner", "none", "authentication"),
    EventKind("pull_request.create", 1.5, "dependabot", "repo", "create"),
    # Weight 0: never drawn when the history is generated (appending them leaves random.choices'
    # picks for the kinds above unchanged); written when a request through the API changes the org.
    EventKind("org.remove_outside_collaborator", 0, "owner", "user", "remove"),
    EventKind("org_credential_authorization.revoke", 0, "owner", "credential", "remove"),
    # Enterprise audit log only (Enterprise Managed Users, written by a SCIM deprovisioning or
    # reprovisioning): deprovisioning-and-reinstating-users, "Audit log events" (emu.py).
    EventKind("user.suspend", 0, "owner", "user", "modify"),
    EventKind("user.unsuspend", 0, "owner", "user", "modify"),
    EventKind("user.remove_email", 0, "owner", "user", "remove"),
    EventKind("user.rename", 0, "owner", "user", "modify"),
    EventKind("external_identity.deprovision", 0, "owner", "user", "remove"),
    EventKind("external_identity.provision", 0, "owner", "user", "create"),
    EventKind("external_identity.scim_api_success", 0, "owner", "user", "modify"),
    # An owner changing an organization setting (settings.py; written by the admin route only).
    *(
        EventKind(action, 0, "owner", "none", "modify")
        for action in (
            "org.enable_two_factor_requirement",
            "org.disable_two_factor_requirement",
            "org.update_member_repository_creation_permission",
            "org.update_member_repository_invitation_permission",
            "members_can_create_public_pages.enable",
            "members_can_create_public_pages.disable",
            "org.advanced_security_enabled_for_new_repos",
            "org.advanced_security_disabled_for_new_repos",
            "org.secret_scanning_push_protection_new_repos_enable",
            "org.secret_scanning_push_protection_new_repos_disable",
            "org.update_actions_settings",
            "org.set_default_workflow_permissions",
            "org.set_workflow_permission_can_approve_pr",
            "hook.config_changed",
        )
    ),
)
KIND_INDEX = {(k.action, k.actor): i for i, k in enumerate(KINDS)}
GIT_KINDS = frozenset(i for i, k in enumerate(KINDS) if k.git)


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def iso(ms: int | None) -> str | None:
    """GitHub's timestamp format: ``2024-05-04T19:50:52Z``."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def b62(data: bytes, length: int) -> str:
    n = int.from_bytes(data, "big")
    chars = []
    for _ in range(length):
        n, r = divmod(n, 62)
        chars.append(_B62[r])
    return "".join(chars)


def node_id(kind: str, number: int) -> str:
    """GitHub's legacy global node id: base64 of ``0<len(type)>:<Type><id>`` ("MDQ6VXNlcjE=" is "04:User1")."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


def digest(*parts: object, size: int = 16) -> bytes:
    return hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=size).digest()


@dataclass
class UserRec:
    id: int
    login: str
    role: str  # admin | member | outside_collaborator | removed (no longer in the organization)
    two_factor: str  # enabled | disabled | insecure (SMS)
    name: str
    email: str | None = None  # the public email a workforce member shows (simple-user ``email``)
    suspended: bool = False  # a managed user suspended through SCIM (still a member, without access)


@dataclass
class TeamRec:
    id: int
    name: str
    slug: str
    description: str
    privacy: str
    parent: int | None  # team index
    created: int
    members: dict[int, str]  # user index -> maintainer | member (direct members)


@dataclass
class RepoRec:
    id: int
    name: str
    visibility: str  # private | internal | public
    fork: bool
    archived: bool
    language: str | None
    created: int
    pushed: int


@dataclass
class InstallationRec:
    id: int
    app_id: int
    client_id: str
    slug: str
    permissions: dict[str, str]
    events: tuple[str, ...]
    selection: str
    created: int
    suspended_at: int | None
    suspended_by: int | None  # user index


@dataclass
class CredentialRec:
    id: int
    user: int
    type: str
    authorized: int
    accessed: int | None
    expires: int | None
    authorized_credential_id: int
    scopes: tuple[str, ...]
    note: str | None
    title: str | None
    last_eight: str | None
    fingerprint: str | None
    revoked: bool = False
    """Removed through the API (or behind saaslens' back): no longer listed."""


# --------------------------------------------------------------------------------------------
# The tenant
# --------------------------------------------------------------------------------------------


class GitHubTenant:
    """A generated organization. ``api_base`` prefixes API URLs (normally ORIGIN_MARKER + mount)."""

    def __init__(self, name: str, seed: int, users: int, options: GitHubOptions, anchor: datetime, api_base: str):
        self.name = name
        self.seed = seed
        self.options = options
        self.api_base = api_base
        self.anchor_ms = int(anchor.replace(microsecond=0).timestamp() * 1000)
        self.rng = random.Random(f"github:{name}:{seed}")
        self.org = options.org or name
        self.org_id = 20_000_000 + int.from_bytes(digest(seed, name, "org", size=3), "big")
        self.business = options.enterprise or f"{self.org}-enterprise"
        self.business_id = 9_000 + int.from_bytes(digest(seed, name, "biz", size=2), "big")
        self.created_ms = self.anchor_ms - 900 * DAY_MS
        self._make_users(users)
        self.shortcode = options.shortcode or (re.sub(r"[^0-9A-Za-z]", "", self.org)[:8] or "emu").ljust(3, "0")
        self.scim: list[ScimIdentity] = []
        self.setup_index: int | None = None
        if options.managed_users:
            self._make_managed()
        self.tokens = options.tokens if options.tokens is not None else self._default_tokens()
        self.token_users = self._token_users()
        self.scim_of = {identity.user: k for k, identity in enumerate(self.scim)}
        for spec, ui in zip(self.tokens, self.token_users, strict=True):
            if spec.enterprise_owner and ui in self.scim_of:
                self.scim[self.scim_of[ui]].roles = ["user", "enterprise_owner"]
        self._make_teams()
        self._make_repos()
        self._make_installations()
        self._make_credentials()
        total = options.events if options.events is not None else 10 * len(self.users)
        self._make_events(total)
        # Settings draw from an RNG of their own: the organization above is the same with or without.
        self.settings = make_settings(name, seed, self.created_ms, self.anchor_ms, self.org)
        # Fields of events written through the API (position -> fields over the rendered ones).
        self.ev_extra: dict[int, dict[str, Any]] = {}
        # Positions of events only the enterprise audit log shows (user.*, external_identity.*).
        self.enterprise_only: set[int] = set()
        self.org_web_positions = self.web_positions  # the organization's web events (a copy once they differ)
        self._org_all: array[int] | None = None
        self._user_bytes: list[bytes] | None = None
        self._doc_cache: tuple[int, int, list[str]] = (0, 0, [])

    # ---------------------------------------------------------------- generation

    def _make_users(self, count: int) -> None:
        rng = self.rng
        seen: dict[str, int] = {}
        self.users: list[UserRec] = []
        next_id = 1_000_000 + rng.randrange(1_000_000)
        n_collab = round(count * 0.08)
        n_owner = 0 if count == 0 else max(2 if count >= 4 else 1, round(count * 0.03))
        for i in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            base = f"{first}-{last}"
            n = seen.get(base, 0)
            seen[base] = n + 1
            login = base if n == 0 else f"{base}{n + 1}"
            next_id += 1 + rng.randrange(40_000)
            if i < n_owner:
                role = "admin"
            elif i >= count - n_collab:
                role = "outside_collaborator"
            else:
                role = "member"
            draw = rng.random()
            two_factor = "disabled" if draw < 0.1 else ("insecure" if draw < 0.15 else "enabled")
            self.users.append(UserRec(next_id, login, role, two_factor, f"{first.title()} {last.title()}"))
        # Owners are spread through the id order, like a real org where owners joined at any time.
        order = list(range(count))
        rng.shuffle(order)
        roles = [u.role for u in self.users]
        for i, j in enumerate(order):
            self.users[j].role = roles[i]
        if workforce_of(self.options):
            self.users += self._workforce_users(next_id)
        self.user_index = {u.login: i for i, u in enumerate(self.users)}
        self._index_roles()

    def _index_roles(self) -> None:
        self.owners = [i for i, u in enumerate(self.users) if u.role == "admin"]
        self.members = [i for i, u in enumerate(self.users) if u.role in ("admin", "member")]
        self.collaborators = [i for i, u in enumerate(self.users) if u.role == "outside_collaborator"]
        self.plain_members = [i for i, u in enumerate(self.users) if u.role == "member"]

    def _workforce_users(self, last_id: int) -> list[UserRec]:
        """Accounts for the workforce's plan (saaslens_sandbox.workforce), after the generated
        ones: admin an organization owner, guest an outside collaborator, MFA off ``2fa_disabled``.
        GitHub has no suspended members (leavers are removed), so the plan only holds active ones.
        Each shows its work email as its public profile email (the simple-user ``email``), which
        stands in for the SAML identity that links a member to the identity provider."""
        workforce = workforce_of(self.options)
        assert workforce is not None
        taken = {u.login for u in self.users}
        users = []
        for k, planned in enumerate(workforce.plan_for("github")):
            login = planned.person.github_login
            if login in taken:
                raise ValueError(f"workforce login {login} collides with a generated GitHub member")
            role = "outside_collaborator" if planned.guest else ("admin" if planned.admin else "member")
            two_factor = "enabled" if planned.mfa else "disabled"
            users.append(UserRec(last_id + 1 + k, login, role, two_factor, planned.person.display, planned.email))
        return users

    def _make_managed(self) -> None:
        """Enterprise Managed Users: each account is a SCIM identity whose ``userName`` the login is
        normalized from (``first.last@<domain>`` becomes ``first-last_<shortcode>``), plus the setup
        user ``<shortcode>_admin``, an enterprise owner outside the organization (emu.py). Draws
        nothing from the tenant's random stream."""
        domain = f"{self.org}.example.com"
        for ui, user in enumerate(self.users):
            user_name = f"{user.login.replace('-', '.')}@{domain}"
            user.login = managed_login(user_name, self.shortcode)
            given, _, family = user.name.partition(" ")
            created = self.created_ms + (user.id % 700) * DAY_MS
            self.scim.append(
                ScimIdentity(
                    id=identity_id(self.seed, self.name, "scim", user.id),
                    user=ui,
                    user_name=user_name,
                    external_id=identity_id(self.seed, self.name, "idp", user.id),
                    given_name=given,
                    family_name=family,
                    email=user.email or user_name,
                    created_ms=created,
                    modified_ms=created,
                )
            )
        last_id = max((u.id for u in self.users), default=1_000_000)
        self.setup_index = len(self.users)
        self.users.append(UserRec(last_id + 7, f"{self.shortcode}_admin", "setup", "enabled", "Setup User"))
        self.user_index = {u.login: i for i, u in enumerate(self.users)}

    def _token(self, label: str, prefix: str) -> str:
        return prefix + b62(digest(self.seed, self.name, "token", label, size=32), 36)

    def _default_tokens(self) -> list[TokenSpec]:
        tokens = []
        if self.owners:
            tokens += [
                TokenSpec(token=self._token("owner", "ghp_"), scopes=["read:org", "read:audit_log"], owner=True),
                TokenSpec(token=self._token("reduced", "ghp_"), scopes=["read:org"], owner=True),
                TokenSpec(
                    token=self._token("fine", "github_pat_"),
                    kind="fine_grained",
                    permissions={"members": "read", "organization_administration": "read"},
                    owner=True,
                ),
                # Governance actions: admin:org covers membership changes (write:org) and removing
                # SAML SSO credential authorizations, which needs admin:org.
                TokenSpec(token=self._token("actions", "ghp_"), scopes=["admin:org", "read:audit_log"], owner=True),
            ]
        if self.plain_members:
            tokens.append(
                TokenSpec(token=self._token("member", "ghp_"), scopes=["read:org", "read:audit_log"], owner=False)
            )
        if self.options.managed_users and self.owners:
            tokens += [
                # The setup user's SCIM token, the one credential GitHub accepts for SCIM writes.
                TokenSpec(token=self._token("scim", "ghp_"), scopes=["scim:enterprise"], owner=False, setup_user=True),
                # An organization and enterprise owner reading the enterprise audit log and, with
                # admin:enterprise, the SCIM identities (GET only: writes need the setup user).
                TokenSpec(
                    token=self._token("enterprise", "ghp_"),
                    scopes=["read:org", "read:audit_log", "admin:enterprise"],
                    owner=True,
                    enterprise_owner=True,
                ),
            ]
        return tokens

    def _token_users(self) -> list[int]:
        """Owner tokens belong to owners, the others to plain members, in turn (a user may hold several)."""
        chosen = []
        counts = {True: 0, False: 0}
        for spec in self.tokens:
            if spec.setup_user:
                if self.setup_index is None:
                    raise ValueError("tokens: setup_user needs managed_users")
                chosen.append(self.setup_index)
                continue
            pool = self.owners if spec.owner else self.plain_members
            if not pool:
                kind = "owner" if spec.owner else "plain member"
                raise ValueError(
                    f"tokens: a tenant of {len(self.users)} users has no {kind} to hold {spec.token[:8]}..."
                )
            chosen.append(pool[counts[spec.owner] % len(pool)])
            counts[spec.owner] += 1
        return chosen

    def _make_teams(self) -> None:
        rng = self.rng
        count = 0 if not self.members else max(2, min(2000, len(self.users) // 12))
        self.teams: list[TeamRec] = []
        depth: list[int] = []
        next_id = 4_000_000 + rng.randrange(100_000)
        slugs: set[str] = set()
        for t in range(count):
            word = TEAM_WORDS[t % len(TEAM_WORDS)]
            name = word.title() if t < len(TEAM_WORDS) else f"{word.title()} {t // len(TEAM_WORDS) + 1}"
            slug = name.lower().replace(" ", "-")
            while slug in slugs:
                slug += "-x"
            slugs.add(slug)
            privacy = "secret" if rng.random() < 0.2 else "closed"
            parent = None
            # Only visible (closed) teams nest; GitHub does not allow secret teams in a hierarchy.
            if privacy == "closed" and t >= 3 and rng.random() < 0.3:
                candidates = [p for p in range(t) if self.teams[p].privacy == "closed" and depth[p] < 2]
                if candidates:
                    parent = rng.choice(candidates)
            size = rng.randint(2, max(2, min(25, len(self.members))))
            chosen = rng.sample(self.members, min(size, len(self.members)))
            members = {u: ("maintainer" if k == 0 or rng.random() < 0.15 else "member") for k, u in enumerate(chosen)}
            next_id += 1 + rng.randrange(5_000)
            created = self.created_ms + rng.randrange(850 * DAY_MS)
            self.teams.append(TeamRec(next_id, name, slug, f"The {name} team", privacy, parent, created, members))
            depth.append(0 if parent is None else depth[parent] + 1)
        self.team_slugs = {t.slug: i for i, t in enumerate(self.teams)}
        self.children: dict[int, list[int]] = {}
        for i, team in enumerate(self.teams):
            if team.parent is not None:
                self.children.setdefault(team.parent, []).append(i)

    def team_member_roles(self, ti: int) -> list[tuple[int, str, bool]]:
        """(user index, role, inherited) for a team's list: direct members plus members of child teams
        ("Team members will include the members of child teams"), sorted by user id."""
        listing: dict[int, tuple[str, bool]] = {u: (role, False) for u, role in self.teams[ti].members.items()}
        stack = list(self.children.get(ti, ()))
        while stack:
            child = stack.pop()
            for u in self.teams[child].members:
                listing.setdefault(u, ("member", True))
            stack.extend(self.children.get(child, ()))
        return [(u, role, inherited) for u, (role, inherited) in sorted(listing.items())]

    def _make_repos(self) -> None:
        rng = self.rng
        count = 0 if not self.users else max(3, min(5000, len(self.users) // 4))
        self.repos: list[RepoRec] = []
        next_id = 600_000_000 + rng.randrange(10_000_000)
        names: set[str] = set()
        for r in range(count):
            name = f"{rng.choice(TEAM_WORDS)}-{rng.choice(REPO_WORDS)}"
            if name in names:
                name = f"{name}-{r}"
            names.add(name)
            draw = rng.random()
            visibility = "public" if draw < 0.15 else ("internal" if draw < 0.4 else "private")
            next_id += 1 + rng.randrange(200_000)
            created = self.created_ms + rng.randrange(880 * DAY_MS)
            pushed = min(self.anchor_ms - 1000, created + rng.randrange(200 * DAY_MS))
            self.repos.append(
                RepoRec(
                    next_id,
                    name,
                    visibility,
                    rng.random() < 0.05,
                    rng.random() < 0.07,
                    rng.choice(LANGUAGES),
                    created,
                    pushed,
                )
            )

    def _make_installations(self) -> None:
        rng = self.rng
        self.installations: list[InstallationRec] = []
        for k, (slug, permissions, events) in enumerate(INSTALLED_APPS[: 2 + len(self.users) // 40]):
            created = self.created_ms + rng.randrange(800 * DAY_MS)
            suspended = k == 3
            self.installations.append(
                InstallationRec(
                    id=30_000_000 + k * 7_919 + rng.randrange(7_000),
                    app_id=100_000 + k * 1_013,
                    client_id="Iv1." + digest(self.seed, slug).hex()[:16],
                    slug=slug,
                    permissions=dict(permissions),
                    events=events,
                    selection="all" if rng.random() < 0.5 else "selected",
                    created=created,
                    suspended_at=created + 30 * DAY_MS if suspended else None,
                    suspended_by=self.owners[0] if suspended and self.owners else None,
                )
            )
        for app in self.options.apps:
            created = self.anchor_ms - 30 * DAY_MS
            self.installations.append(
                InstallationRec(
                    id=app.installation_id,
                    app_id=app.app_id,
                    client_id=app.client_id,
                    slug=app.slug,
                    permissions=dict(app.permissions),
                    events=(),
                    selection="all",
                    created=created,
                    suspended_at=None,
                    suspended_by=None,
                )
            )
        self.installations.sort(key=lambda inst: inst.id)

    def _make_credentials(self) -> None:
        rng = self.rng
        self.credentials: list[CredentialRec] = []
        if not self.options.saml_sso or self.options.plan != "enterprise":
            return
        next_id = 160_000 + rng.randrange(1_000)
        for u in self.members:
            if rng.random() >= 0.4:
                continue
            for _ in range(rng.randint(1, 3)):
                kind = rng.choice(CREDENTIAL_TYPES)
                next_id += 1 + rng.randrange(50)
                authorized = self.anchor_ms - rng.randrange(1, 400) * DAY_MS
                accessed = (
                    None if rng.random() < 0.1 else authorized + rng.randrange(max(1, self.anchor_ms - authorized))
                )
                token_like = kind != "SSH key"
                expires = authorized + rng.choice((30, 90, 365)) * DAY_MS if token_like else None
                secret = digest(self.seed, "cred", next_id, size=8).hex()
                self.credentials.append(
                    CredentialRec(
                        id=next_id,
                        user=u,
                        type=kind,
                        authorized=authorized,
                        accessed=accessed,
                        expires=expires,
                        authorized_credential_id=40_000_000 + next_id * 3,
                        scopes=rng.choice(TOKEN_SCOPE_SETS)
                        if kind in ("personal access token", "OAuth app token")
                        else (),
                        note=f"{self.users[u].login} automation" if kind == "personal access token" else None,
                        title=f"{self.users[u].login}@laptop" if kind == "SSH key" else None,
                        last_eight=secret[:8] if token_like else None,
                        fingerprint=None if token_like else f"SHA256:{b62(digest('fp', next_id, size=32), 43)}",
                    )
                )

    def _make_events(self, total: int) -> None:
        rng = self.rng
        span = self.options.history_days * DAY_MS
        weights = [k.weight for k in KINDS]
        kinds = rng.choices(range(len(KINDS)), weights=weights, k=total) if total else []
        stamps = [self.anchor_ms - int(rng.random() * span) for _ in range(total)]
        # Bursts: some events share their predecessor's millisecond (an owner adding a member to
        # the org and to a team in one request), so ties straddle page boundaries.
        stamps.sort()
        for i in range(1, total):
            if rng.random() < 0.02:
                stamps[i] = stamps[i - 1]
        self.ev_ts = array("q", stamps)
        self.ev_kind = bytearray(kinds)
        self.ev_actor = array("i", bytes(4 * total))
        self.ev_target = array("i", bytes(4 * total))
        self.ev_aux = array("i", bytes(4 * total))
        self.git_positions = array("i", (i for i, k in enumerate(kinds) if k in GIT_KINDS))
        self.web_positions = array("i", (i for i, k in enumerate(kinds) if k not in GIT_KINDS))
        if not self.users:
            self.ev_kind, self.ev_ts = bytearray(), array("q")
            self.git_positions, self.web_positions = array("i"), array("i")
            return
        anyone = range(len(self.users))
        members = self.members or list(anyone)
        owners = self.owners or members
        for i, k in enumerate(kinds):
            kind = KINDS[k]
            if kind.actor == "owner":
                actor = rng.choice(owners)
            elif kind.actor == "member":
                actor = rng.choice(members)
            elif kind.actor == "dependabot":
                actor = -1
            else:
                actor = rng.randrange(len(self.users))
            target = aux = 0
            if kind.target == "user":
                target = rng.choice(members)
            elif kind.target == "team":
                target = rng.randrange(len(self.teams)) if self.teams else -1
            elif kind.target == "team_user":
                target = rng.randrange(len(self.teams)) if self.teams else -1
                aux = rng.choice(members)
            elif kind.target in ("repo", "repo_user"):
                target = rng.randrange(len(self.repos))
                aux = rng.choice(self.collaborators or members)
            elif kind.target == "installation":
                target = rng.randrange(len(self.installations)) if self.installations else -1
            elif kind.target == "credential":
                # The member authorizes one of their own credentials for SSO.
                target = rng.randrange(len(self.credentials)) if self.credentials else -1
                if target >= 0:
                    actor = self.credentials[target].user
            self.ev_actor[i] = actor
            self.ev_target[i] = target
            self.ev_aux[i] = aux

    # ---------------------------------------------------------------- documents

    def user_url(self, login: str) -> str:
        return f"{self.api_base}/users/{login}"

    def simple_user(self, ui: int) -> dict[str, Any]:
        u = self.users[ui]
        url = self.user_url(u.login)
        return {
            "login": u.login,
            "id": u.id,
            "node_id": node_id("User", u.id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{u.id}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"https://github.com/{u.login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": "User",
            "user_view_type": "public",
            "site_admin": False,
            **({"email": u.email} if u.email else {}),
        }

    def user_bytes(self, ui: int) -> bytes:
        """The serialized simple-user, cached: member pages are joined from these."""
        if self._user_bytes is None:
            import orjson

            self._user_bytes = [orjson.dumps(self.simple_user(i)) for i in range(len(self.users))]
        return self._user_bytes[ui]

    def private_user(self, ui: int) -> dict[str, Any]:
        u = self.users[ui]
        doc = self.simple_user(ui)
        doc.update(
            {
                "name": u.name,
                "company": None,
                "blog": "",
                "location": None,
                "email": None,
                "hireable": None,
                "bio": None,
                "twitter_username": None,
                "public_repos": 0,
                "public_gists": 0,
                "followers": 0,
                "following": 0,
                "created_at": iso(self.created_ms + (u.id % 500) * DAY_MS),
                "updated_at": iso(self.anchor_ms - DAY_MS),
                "private_gists": 0,
                "total_private_repos": 0,
                "owned_private_repos": 0,
                "disk_usage": 0,
                "collaborators": 0,
                "two_factor_authentication": u.two_factor != "disabled",
            }
        )
        return doc

    def org_account(self) -> dict[str, Any]:
        url = f"{self.api_base}/users/{self.org}"
        return {
            "login": self.org,
            "id": self.org_id,
            "node_id": node_id("Organization", self.org_id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{self.org_id}?v=4",
            "gravatar_id": "",
            "url": url,
            "html_url": f"https://github.com/{self.org}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": "Organization",
            "site_admin": False,
        }

    def organization(self, for_owner: bool) -> dict[str, Any]:
        base = f"{self.api_base}/orgs/{self.org}"
        private = sum(1 for r in self.repos if r.visibility != "public")
        doc: dict[str, Any] = {
            "login": self.org,
            "id": self.org_id,
            "node_id": node_id("Organization", self.org_id),
            "url": base,
            "repos_url": f"{base}/repos",
            "events_url": f"{base}/events",
            "hooks_url": f"{base}/hooks",
            "issues_url": f"{base}/issues",
            "members_url": f"{base}/members{{/member}}",
            "public_members_url": f"{base}/public_members{{/member}}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{self.org_id}?v=4",
            "description": f"The {self.org} organization",
            "name": self.org.title(),
            "company": self.org.title(),
            "blog": f"https://{self.org}.example.com",
            "location": "Remote",
            "email": f"security@{self.org}.example.com",
            "twitter_username": None,
            "is_verified": True,
            "has_organization_projects": True,
            "has_repository_projects": True,
            "public_repos": len(self.repos) - private,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "html_url": f"https://github.com/{self.org}",
            "created_at": iso(self.created_ms),
            "updated_at": iso(self.anchor_ms - DAY_MS),
            "archived_at": None,
            "type": "Organization",
        }
        if for_owner:
            doc.update(
                {
                    "total_private_repos": private,
                    "owned_private_repos": private,
                    "private_gists": 0,
                    "disk_usage": 1024 * len(self.repos),
                    "collaborators": len(self.collaborators),
                    "billing_email": f"billing@{self.org}.example.com",
                    "plan": {
                        "name": self.options.plan,
                        "space": 976_562_499,
                        "private_repos": 999_999,
                        "filled_seats": len(self.members),
                        "seats": len(self.members) + 25,
                    },
                    **self.settings.organization,
                }
            )
        return doc

    def team_url(self, ti: int) -> str:
        return f"{self.api_base}/organizations/{self.org_id}/team/{self.teams[ti].id}"

    def team_simple(self, ti: int) -> dict[str, Any]:
        t = self.teams[ti]
        url = self.team_url(ti)
        return {
            "id": t.id,
            "node_id": node_id("Team", t.id),
            "url": url,
            "html_url": f"https://github.com/orgs/{self.org}/teams/{t.slug}",
            "name": t.name,
            "slug": t.slug,
            "description": t.description,
            "privacy": t.privacy,
            "notification_setting": "notifications_enabled",
            "permission": "pull",
            "members_url": f"{url}/members{{/member}}",
            "repositories_url": f"{url}/repos",
            "type": "organization",
            "organization_id": self.org_id,
        }

    def team(self, ti: int) -> dict[str, Any]:
        doc = self.team_simple(ti)
        parent = self.teams[ti].parent
        doc["parent"] = None if parent is None else self.team_simple(parent)
        return doc

    def team_member(self, ui: int, role: str, inherited: bool) -> dict[str, Any]:
        doc = self.simple_user(ui)
        if self.options.team_member_fields:
            doc["role"] = role
            doc["inherited"] = inherited
        return doc

    def installation(self, k: int) -> dict[str, Any]:
        inst = self.installations[k]
        return {
            "id": inst.id,
            "client_id": inst.client_id,
            "account": self.org_account(),
            "repository_selection": inst.selection,
            "access_tokens_url": f"{self.api_base}/app/installations/{inst.id}/access_tokens",
            "repositories_url": f"{self.api_base}/installation/repositories",
            "html_url": f"https://github.com/organizations/{self.org}/settings/installations/{inst.id}",
            "app_id": inst.app_id,
            "app_slug": inst.slug,
            "target_id": self.org_id,
            "target_type": "Organization",
            "permissions": dict(inst.permissions),
            "events": list(inst.events),
            "created_at": iso(inst.created),
            "updated_at": iso(inst.created + DAY_MS),
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None if inst.suspended_by is None else self.simple_user(inst.suspended_by),
            "suspended_at": iso(inst.suspended_at),
        }

    def credential(self, k: int) -> dict[str, Any]:
        c = self.credentials[k]
        doc: dict[str, Any] = {
            "login": self.users[c.user].login,
            "credential_id": c.id,
            "credential_type": c.type,
            "credential_authorized_at": iso(c.authorized),
            "credential_accessed_at": iso(c.accessed),
            "authorized_credential_id": c.authorized_credential_id,
        }
        if c.type == "SSH key":
            doc["fingerprint"] = c.fingerprint
            doc["authorized_credential_title"] = c.title
        else:
            doc["token_last_eight"] = c.last_eight
            doc["authorized_credential_expires_at"] = iso(c.expires)
            doc["scopes"] = list(c.scopes)
            if c.note:
                doc["authorized_credential_note"] = c.note
        return doc

    def repository(self, ri: int) -> dict[str, Any]:
        r = self.repos[ri]
        full = f"{self.org}/{r.name}"
        url = f"{self.api_base}/repos/{full}"
        templated = {
            "archive_url": "/{archive_format}{/ref}",
            "assignees_url": "/assignees{/user}",
            "blobs_url": "/git/blobs{/sha}",
            "branches_url": "/branches{/branch}",
            "collaborators_url": "/collaborators{/collaborator}",
            "comments_url": "/comments{/number}",
            "commits_url": "/commits{/sha}",
            "compare_url": "/compare/{base}...{head}",
            "contents_url": "/contents/{+path}",
            "contributors_url": "/contributors",
            "deployments_url": "/deployments",
            "downloads_url": "/downloads",
            "events_url": "/events",
            "forks_url": "/forks",
            "git_commits_url": "/git/commits{/sha}",
            "git_refs_url": "/git/refs{/sha}",
            "git_tags_url": "/git/tags{/sha}",
            "hooks_url": "/hooks",
            "issue_comment_url": "/issues/comments{/number}",
            "issue_events_url": "/issues/events{/number}",
            "issues_url": "/issues{/number}",
            "keys_url": "/keys{/key_id}",
            "labels_url": "/labels{/name}",
            "languages_url": "/languages",
            "merges_url": "/merges",
            "milestones_url": "/milestones{/number}",
            "notifications_url": "/notifications{?since,all,participating}",
            "pulls_url": "/pulls{/number}",
            "releases_url": "/releases{/id}",
            "stargazers_url": "/stargazers",
            "statuses_url": "/statuses/{sha}",
            "subscribers_url": "/subscribers",
            "subscription_url": "/subscription",
            "tags_url": "/tags",
            "teams_url": "/teams",
            "trees_url": "/git/trees{/sha}",
        }
        doc: dict[str, Any] = {
            "id": r.id,
            "node_id": node_id("Repository", r.id),
            "name": r.name,
            "full_name": full,
            "owner": self.org_account(),
            "private": r.visibility != "public",
            "html_url": f"https://github.com/{full}",
            "description": f"{r.name.replace('-', ' ').title()}",
            "fork": r.fork,
            "url": url,
        }
        doc.update({key: url + suffix for key, suffix in templated.items()})
        doc.update(
            {
                "git_url": f"git://github.com/{full}.git",
                "ssh_url": f"git@github.com:{full}.git",
                "clone_url": f"https://github.com/{full}.git",
                "svn_url": f"https://github.com/{full}",
                "mirror_url": None,
                "homepage": None,
                "language": r.language,
                "forks_count": 0,
                "stargazers_count": r.id % 17,
                "watchers_count": r.id % 17,
                "size": r.id % 90_000,
                "default_branch": "main",
                "open_issues_count": r.id % 23,
                "is_template": False,
                "topics": [],
                "has_issues": True,
                "has_projects": True,
                "has_wiki": False,
                "has_pages": False,
                "has_downloads": True,
                "has_discussions": False,
                "archived": r.archived,
                "disabled": False,
                "visibility": r.visibility,
                "pushed_at": iso(r.pushed),
                "created_at": iso(r.created),
                "updated_at": iso(r.pushed),
                "permissions": {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True},
                "allow_forking": False,
                "web_commit_signoff_required": False,
                "forks": 0,
                "open_issues": r.id % 23,
                "watchers": r.id % 17,
            }
        )
        return doc

    # ---------------------------------------------------------------- audit log

    @property
    def event_count(self) -> int:
        return len(self.ev_ts)

    def _raw_doc_id(self, i: int) -> str:
        return base64.urlsafe_b64encode(digest(self.seed, self.name, "doc", i)).decode().rstrip("=")

    def doc_id_at(self, i: int) -> str:
        """``_document_id`` of the event at position i; ascending within a run of equal timestamps."""
        ts = self.ev_ts[i]
        lo, hi, cached = self._doc_cache
        if not (lo <= i < hi):
            lo = bisect.bisect_left(self.ev_ts, ts, 0, i + 1)
            hi = bisect.bisect_right(self.ev_ts, ts, i)
            if hi - lo == 1:
                return self._raw_doc_id(i)
            cached = sorted(self._raw_doc_id(k) for k in range(lo, hi))
            self._doc_cache = (lo, hi, cached)
        return cached[i - lo]

    def position_after(self, ts: int, doc_id: str) -> int:
        """The first position whose (timestamp, document id) sorts after the given pair."""
        lo = bisect.bisect_left(self.ev_ts, ts)
        hi = bisect.bisect_right(self.ev_ts, ts)
        if lo == hi:
            return lo
        docs = [self.doc_id_at(k) for k in range(lo, hi)]
        return lo + bisect.bisect_right(docs, doc_id)

    def _actor_fields(self, i: int, h: bytes) -> dict[str, Any]:
        a = self.ev_actor[i]
        if a < 0:
            return {"actor": "dependabot[bot]", "actor_id": 49_699_333, "actor_is_bot": True}
        u = self.users[a]
        fields: dict[str, Any] = {"actor": u.login, "actor_id": u.id}
        anomaly = h[0] % 50 == 0
        country = ANOMALY_COUNTRIES[h[1] % 3] if anomaly else COUNTRIES[u.id % len(COUNTRIES)]
        fields["actor_location"] = {"country_code": country}
        # Source IPs are shown for members' and owners' actions once the org enables disclosure.
        if self.options.ip_disclosure and u.role != "outside_collaborator":
            fields["actor_ip"] = f"{198 if anomaly else 203}.{51 + h[2] % 3}.{h[3]}.{1 + h[4] % 254}"
        return fields

    def render_event(self, i: int) -> dict[str, Any]:
        kind = KINDS[self.ev_kind[i]]
        ts = self.ev_ts[i]
        h = digest(self.seed, "event", i, size=32)
        doc: dict[str, Any] = {"@timestamp": ts, "action": kind.action}
        doc.update(self._actor_fields(i, h))
        doc.update({"created_at": ts, "_document_id": self.doc_id_at(i), "operation_type": kind.operation})
        doc.update({"org": self.org, "org_id": self.org_id, "business": self.business, "business_id": self.business_id})
        a = self.ev_actor[i]
        ssh = kind.git and h[8] % 3 == 0
        # Git over HTTPS and API calls authenticate with a token; git over SSH with a key.
        programmatic = (kind.git and not ssh) or (a >= 0 and kind.target in ("repo", "none") and h[5] % 4 == 0)
        if kind.git:
            doc["user_agent"] = GIT_AGENTS[h[6] % len(GIT_AGENTS)]
        elif programmatic:
            doc["user_agent"] = API_AGENTS[h[6] % len(API_AGENTS)]
        elif a >= 0:
            doc["user_agent"] = USER_AGENTS[self.users[a].id % len(USER_AGENTS)]
        if programmatic and a >= 0:
            access_type, scopes = PROGRAMMATIC[h[7] % len(PROGRAMMATIC)]
            doc["programmatic_access_type"] = access_type
            doc["hashed_token"] = base64.b64encode(digest(self.seed, "token", a, h[7] % 3, size=32)).decode()
            if scopes:
                doc["token_scopes"] = scopes
        self._target_fields(doc, kind, i, h)
        doc.update(self.ev_extra.get(i, {}))
        if i in self.enterprise_only:  # an enterprise's user event belongs to no organization
            doc.pop("org", None)
            doc.pop("org_id", None)
        return doc

    def _target_fields(self, doc: dict[str, Any], kind: EventKind, i: int, h: bytes) -> None:
        t, aux = self.ev_target[i], self.ev_aux[i]
        if kind.target in ("repo", "repo_user") and self.repos:
            r = self.repos[t]
            full = f"{self.org}/{r.name}"
            doc.update(
                {"repo": full, "repo_id": r.id, "visibility": r.visibility, "public_repo": r.visibility == "public"}
            )
            if kind.git:
                ssh = h[8] % 3 == 0
                doc.update(
                    {
                        "repository": full,
                        "repository_public": r.visibility == "public",
                        "transport_protocol": 2 if ssh else 1,
                        "transport_protocol_name": "ssh" if ssh else "http",
                    }
                )
            if kind.action == "repo.access":
                doc["previous_visibility"] = "private" if r.visibility != "private" else "internal"
            if kind.action.startswith("pull_request."):
                number = 1 + h[9]
                doc["pull_request_id"] = r.id * 10 + number
                doc["pull_request_url"] = f"https://github.com/{full}/pull/{number}"
            if kind.action == "protected_branch.rejected_ref_update":
                doc["name"] = "main"
            if kind.target == "repo_user":
                self._user_target(doc, aux)
                doc["permission"] = "write"
        elif kind.target == "user":
            self._user_target(doc, t)
            if kind.action == "org.update_member":
                promoted = h[10] % 2 == 0
                doc["permission"] = "admin" if promoted else "read"
                doc["old_permission"] = "read" if promoted else "admin"
            if kind.action == "org.invite_member":
                doc["invitee_email"] = f"{self.users[t].login}@{self.org}.example.com"
        elif kind.target in ("team", "team_user") and t >= 0:
            doc["team"] = f"{self.org}/{self.teams[t].slug}"
            if kind.target == "team_user":
                self._user_target(doc, aux)
        elif kind.target == "installation" and t >= 0:
            inst = self.installations[t]
            doc.update({"integration": inst.slug, "name": inst.slug, "installation_id": inst.id})
            doc["repository_selection"] = inst.selection
        elif kind.target == "credential" and t >= 0:
            c = self.credentials[t]
            doc["user"] = self.users[c.user].login
            doc["user_id"] = self.users[c.user].id
            doc["credential_type"] = c.type
            doc["credential_id"] = c.id
        if kind.action == "org.sso_response":
            doc["issuer"] = f"https://sts.windows.net/{digest(self.seed, 'idp', size=16).hex()}/"
        if kind.action == "org.recovery_code_failed":
            doc["reason"] = "invalid recovery code"

    def _user_target(self, doc: dict[str, Any], ui: int) -> None:
        doc["user"] = self.users[ui].login
        doc["user_id"] = self.users[ui].id

    # ---------------------------------------------------------------- changes through the API

    def remove_from_org(self, ui: int) -> None:
        """A member or outside collaborator leaves the organization: "they will be removed from all
        teams and they will no longer have any access to the organization's repositories"
        (https://docs.github.com/enterprise-cloud@latest/rest/orgs/members#remove-an-organization-member)."""
        self.users[ui].role = "removed"
        for team in self.teams:
            team.members.pop(ui, None)
        self._index_roles()

    def convert_to_collaborator(self, ui: int) -> None:
        """A member becomes an outside collaborator: "The user will no longer be a member of the
        organization" and keeps only the repository access their teams gave
        (https://docs.github.com/enterprise-cloud@latest/rest/orgs/outside-collaborators#convert-an-organization-member-to-outside-collaborator);
        outside collaborators belong to no team."""
        self.users[ui].role = "outside_collaborator"
        for team in self.teams:
            team.members.pop(ui, None)
        self._index_roles()

    def _rename(self, ui: int, login: str, email: str | None) -> None:
        user = self.users[ui]
        self.user_index.pop(user.login, None)
        user.login, user.email = login, email
        self.user_index[login] = ui
        self._user_bytes = None

    def set_scim_active(self, k: int, active: bool, actor: int, at_ms: int) -> list[int]:
        """PATCH ``active``: false suspends (the login becomes a hash of the old one plus
        ``_<shortcode>``, the public email goes, the member stays in the organization and its teams
        without access), true reprovisions (login and email come back). Writes the enterprise
        audit log's events of the change and returns their positions; the same value again changes
        nothing and writes nothing (emu.py)."""
        identity = self.scim[k]
        if identity.active == active:
            return []
        ui = identity.user
        user = self.users[ui]
        before = user.login
        identity.active, identity.modified_ms = active, at_ms
        if not active:
            identity.original_login = before
            hashed = hashlib.blake2b(before.encode(), digest_size=8).hexdigest()
            self._rename(ui, f"{hashed}_{self.shortcode}", None)
            user.suspended = True
            actions = ("user.suspend", "user.remove_email", "user.rename", "external_identity.deprovision")
        else:
            self._rename(ui, identity.original_login or before, identity.email if user.email is None else user.email)
            user.suspended = False
            actions = ("user.unsuspend", "user.remove_email", "user.rename", "external_identity.provision")
        fields = {"user": before, "user_id": user.id, "external_identity_username": identity.user_name}
        written = []
        for action in (*actions, "external_identity.scim_api_success"):
            extra = dict(fields)
            if action == "user.rename":
                extra.update({"user": user.login, "old_user": before})
            written.append(self.record_event(action, actor, ui, at_ms, extra, enterprise_only=True))
        return written

    def delete_scim(self, k: int) -> None:
        """A hard deprovisioning behind saaslens' back: the identity is gone, the user suspended
        with an obfuscated login."""
        identity = self.scim[k]
        if identity.active:
            hashed = hashlib.blake2b(self.users[identity.user].login.encode(), digest_size=8).hexdigest()
            self._rename(identity.user, f"{hashed}_{self.shortcode}", None)
            self.users[identity.user].suspended = True
        identity.user = -1

    def live_scim(self) -> list[int]:
        return [k for k, identity in enumerate(self.scim) if identity.user >= 0]

    def set_role(self, ui: int, role: str) -> None:
        self.users[ui].role = role
        self._index_roles()

    def live_credentials(self) -> list[int]:
        return [k for k, c in enumerate(self.credentials) if not c.revoked]

    def credential_index(self, credential_id: int) -> int | None:
        return next((k for k, c in enumerate(self.credentials) if c.id == credential_id and not c.revoked), None)

    def record_event(
        self, action: str, actor: int, target: int, at_ms: int, extra: dict[str, Any], enterprise_only: bool = False
    ) -> int:
        """Append an audit event for a change made now through the API; returns its position.
        Events stay ordered by time: one written within the history's last millisecond is stamped
        with that millisecond. An ``enterprise_only`` event shows in the enterprise audit log only."""
        kind = next(k for k, spec in enumerate(KINDS) if spec.action == action and spec.actor == "owner")
        position = len(self.ev_ts)
        self.ev_ts.append(max(at_ms, self.ev_ts[-1] if position else at_ms))
        self.ev_kind.append(kind)
        self.ev_actor.append(actor)
        self.ev_target.append(target)
        self.ev_aux.append(0)
        if enterprise_only:
            if self.org_web_positions is self.web_positions:
                self.org_web_positions = array("i", self.web_positions)
            self.enterprise_only.add(position)
            self._org_all = None
        elif self.org_web_positions is not self.web_positions:
            self.org_web_positions.append(position)
        self.web_positions.append(position)
        self.ev_extra[position] = dict(extra)
        self._doc_cache = (0, 0, [])
        return position

    def change_setting(self, section: str, key: str, value: Any, actor: int, at_ms: int) -> int | None:
        """An owner changes one organization setting (``section``: organization, actions, workflow):
        the value changes and the audit log gets the event GitHub's catalogue names for it, acted by
        ``actor`` at ``at_ms``; returns its position, or None when the value was already so (GitHub
        logs no change then). ValueError for an unknown setting or one the sandbox logs nothing for."""
        store = {
            "organization": self.settings.organization,
            "actions": self.settings.actions,
            "workflow": self.settings.workflow,
        }.get(section)
        if store is None or key not in store:
            raise ValueError(f"settings: no {section}.{key} in this organization")
        old = store[key]
        if old == value:
            return None
        change = change_for(section, key, value, old)
        store[key] = value
        return self.record_event(change.action, actor, 0, at_ms, change.extra)

    def change_hook(self, hook_id: int, config: dict[str, Any], actor: int, at_ms: int) -> int:
        """An owner edits a webhook's configuration (``url``, ``insecure_ssl``): ``hook.config_changed``
        with the hook's id and its new configuration (the secret never shown)."""
        hook = next((h for h in self.settings.hooks if h.id == hook_id), None)
        if hook is None:
            raise ValueError(f"settings: no webhook {hook_id}")
        unknown = set(config) - {"url", "insecure_ssl"}
        if unknown:
            raise ValueError(f"settings: webhook config has no {', '.join(sorted(unknown))} the sandbox changes")
        hook.url = str(config.get("url", hook.url))
        hook.insecure_ssl = str(config.get("insecure_ssl", hook.insecure_ssl))
        hook.updated = at_ms
        shown = {"url": hook.url, "insecure_ssl": hook.insecure_ssl, "content_type": "json"}
        extra = {"hook_id": hook.id, "name": "webhook", "active": hook.active, "config": shown}
        return self.record_event("hook.config_changed", actor, 0, at_ms, extra)

    def iter_events(self, scope: str = "org") -> Iterator[dict[str, Any]]:
        for i in self.positions(scope, "all"):
            yield self.render_event(i)

    def positions(self, scope: str, include: str) -> Sequence[int]:
        """Ascending positions of the events an audit log shows: the organization's (``org``) or the
        enterprise's (``enterprise``: the organization's and the enterprise-only ones)."""
        if include == "git":
            return self.git_positions
        if include == "web":
            return self.web_positions if scope == "enterprise" else self.org_web_positions
        if scope == "enterprise" or not self.enterprise_only:
            return range(self.event_count)
        if self._org_all is None:
            self._org_all = array("i", (i for i in range(self.event_count) if i not in self.enterprise_only))
        return self._org_all

    # ---------------------------------------------------------------- ground truth

    def ground_truth(self) -> dict[str, Any]:
        """Everything, with API URLs still carrying ORIGIN_MARKER (the caller substitutes it)."""
        memberships = [
            {"team_id": team.id, "user_id": self.users[u].id, "role": role}
            for team in self.teams
            for u, role in sorted(team.members.items())
        ]
        return {
            "app": "github",
            "tenant": self.name,
            "workforce": self.options.workforce,
            "seed": self.seed,
            "anchor": iso(self.anchor_ms),
            "history_days": self.options.history_days,
            "api_base": self.api_base,
            "org": {"login": self.org, "id": self.org_id, "plan": self.options.plan},
            "users": [
                {
                    "id": u.id,
                    "login": u.login,
                    "role": u.role,
                    "two_factor": u.two_factor,
                    "email": u.email,
                    **({"suspended": u.suspended} if self.options.managed_users else {}),
                }
                for u in self.users
                if u.role not in ("removed", "setup")
            ],
            "teams": [self.team(t) for t in range(len(self.teams))],
            "team_memberships": memberships,
            "installations": [self.installation(k) for k in range(len(self.installations))],
            "credential_authorizations": [self.credential(k) for k in self.live_credentials()],
            "repositories": [self.repository(r) for r in range(len(self.repos))],
            "audit_events": list(self.iter_events()),
            # saml_sso: whether the organization has SAML SSO (credential authorizations answer).
            "settings": {**settings_truth(self.settings), "saml_sso": self.options.saml_sso},
            **self._managed_truth(),
            "counts": {
                "users": len(self.members) + len(self.collaborators),
                "owners": len(self.owners),
                "outside_collaborators": len(self.collaborators),
                "teams": len(self.teams),
                "team_memberships": len(memberships),
                "installations": len(self.installations),
                "credential_authorizations": len(self.live_credentials()),
                "repositories": len(self.repos),
                "audit_events": len(self.positions("org", "all")),
            },
        }

    def _managed_truth(self) -> dict[str, Any]:
        if not self.options.enterprise:
            return {}
        truth: dict[str, Any] = {
            "enterprise": {
                "slug": self.business,
                "id": self.business_id,
                "managed_users": self.options.managed_users,
                "shortcode": self.shortcode if self.options.managed_users else None,
            },
            "enterprise_audit_events": list(self.iter_events("enterprise")),
        }
        if self.options.managed_users:
            truth["scim_identities"] = [
                {
                    "id": identity.id,
                    "userName": identity.user_name,
                    "externalId": identity.external_id,
                    "active": identity.active,
                    "roles": list(identity.roles),
                    "user_id": self.users[identity.user].id,
                    "login": self.users[identity.user].login,
                    "original_login": identity.original_login or self.users[identity.user].login,
                }
                for identity in (self.scim[k] for k in self.live_scim())
            ]
            truth["setup_user"] = {"login": self.users[self.setup_index].login, "id": self.users[self.setup_index].id}
        return truth
