"""A deterministic shared workforce for sandbox tenants, with planted cases of every finding.

Tenants of different apps that set the option ``workforce: <org>`` contain the same people (same
names, same emails at ``<org>.example.com``) besides their own generated population, each in the
state this module's *plan* gives for that app: leavers still active in other apps, dormant
accounts, admins with and without MFA, guests and outside collaborators, files shared publicly
and with outside domains, broad OAuth grants (some held by suspended accounts), a failed sign-in
spike on one account and a password spray from one IP. Each generator turns the plan into its own
provider objects (``plan_for(app)``); nothing here knows a generator's internals.

The second half is an **oracle**: :func:`expected_findings` computes, in plain Python from the
personalities' ground truth (the provider objects the sandbox serves), the answer every finding
in ``include/findings/`` must give, independently of the SQL and of the connectors' code, and
checks that every planted case is in it. :func:`planted_cases` describes the planted cases.

How each provider object becomes the facts the findings read (status, admin, MFA, account type,
last sign-in, file exposure, grant scopes, sign-in outcome) follows the providers' documentation,
cited where each rule is written below.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Literal

APPS = ("okta", "google_workspace", "microsoft365", "slack", "github")
IDENTITY_PROVIDERS = frozenset({"okta", "google_workspace", "microsoft365"})
ORG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
DAY = timedelta(days=1)

Status = Literal["active", "suspended", "deprovisioned"]


# --------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    slot: str
    """The role this person plays in the plan (``leaver_deprovisioned``, ``dormant_okta``...)."""
    first: str
    last: str
    email: str
    department: str
    title: str
    external: bool = False
    """Not an employee: a partner's guest, an outside collaborator (email at a partner domain)."""

    @property
    def display(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def handle(self) -> str:
        """``first.last``: Slack handle, email local part."""
        return self.email.split("@", 1)[0]

    @property
    def github_login(self) -> str:
        return f"{self.first}-{self.last}".lower()


@dataclass(frozen=True)
class PlannedAccount:
    """One person's account in one app, in the state the plan wants."""

    person: Person
    status: Status = "active"
    admin: bool = False
    mfa: bool = True
    """Enrolled in MFA / 2-step verification (only where the app reports it)."""
    guest: bool = False
    """Microsoft 365 userType Guest, Slack restricted guest, GitHub outside collaborator."""
    last_login_days: float | None = 1.0
    """Days before the tenant's anchor of the last successful sign-in; None: never signed in."""
    created_days: int = 420
    grant_scopes: tuple[str, ...] = ()
    """Scopes of one OAuth grant the account holds (Okta consent grant, Google token, Graph grant)."""
    files: tuple[Literal["public", "external"], ...] = ()
    """Files the account owns, each shared this widely (anyone with the link / an outside address)."""

    @property
    def email(self) -> str:
        return self.person.email


@dataclass(frozen=True)
class FailedSignIns:
    """Failed password sign-ins the Okta tenant's System Log holds (all inside the last day)."""

    spike_slot: str
    spike_count: int
    spike_hours_ago: float
    spray_ip: str
    spray_slots: tuple[str, ...]
    spray_hours_ago: float


@dataclass(frozen=True)
class Workforce:
    org: str
    domain: str
    partner_domain: str
    people: tuple[Person, ...]
    plan: Mapping[str, tuple[PlannedAccount, ...]]
    failed_sign_ins: FailedSignIns
    admin_grant_slot: str = "promoted"
    """Not an admin until the Okta tenant is advanced with ``admins_granted`` (privilege_changes)."""
    admin_revoke_slot: str = "okta_admin"
    """An Okta admin until the tenant is advanced with ``admins_revoked``."""
    by_slot: Mapping[str, Person] = field(default_factory=dict)

    def plan_for(self, app: str) -> tuple[PlannedAccount, ...]:
        if app not in self.plan:
            raise ValueError(f"workforce {self.org!r} has no plan for app {app!r}; apps: {sorted(self.plan)}")
        return self.plan[app]

    def person(self, slot: str) -> Person:
        return self.by_slot[slot]

    def emails(self, app: str) -> set[str]:
        return {a.email for a in self.plan_for(app)}


# Computing pioneers: no first.last here can come out of any generator's name lists, so a
# planted email never collides with a generated one.
_NAMES = (
    ("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Margaret", "Hamilton"), ("Barbara", "Liskov"),
    ("Dennis", "Ritchie"), ("Ken", "Kernighan"), ("Frances", "Allenby"), ("Edsger", "Dijkstra"), ("Donald", "Knuth"),
    ("John", "Backus"), ("Tony", "Hoare"), ("Niklaus", "Wirth"), ("Radia", "Perlman"), ("Vint", "Cerf"),
    ("Bob", "Kahnemann"), ("Annie", "Easley"), ("Betty", "Holberton"), ("Jean", "Bartik"), ("Kathleen", "Booth"),
    ("Claude", "Shannon"), ("Leslie", "Lamport"), ("Sophie", "Wilson"), ("Hedy", "Lamarr"), ("Karen", "Sparck"),
    ("Lynn", "Conway"), ("Adele", "Goldberg"), ("Guido", "Rossum"), ("Bjarne", "Stroustrup"), ("Anders", "Hejlsberg"),
    ("Evelyn", "Berezin"), ("Mary", "Keller"),
)  # fmt: skip
_DEPARTMENTS = ("Engineering", "Sales", "Finance", "People", "Legal", "IT", "Support", "Product", "Security", "Data")
_TITLES = ("Engineer", "Senior Engineer", "Manager", "Director", "Analyst", "Specialist", "Lead")

# Slots: the role each person plays. External people come last.
_EMPLOYEE_SLOTS = (
    "leaver_deprovisioned",  # Okta DEPROVISIONED, still active in Google, Microsoft 365, Slack, GitHub
    "leaver_suspended",  # Okta SUSPENDED holding a consent grant, still active in Microsoft 365 and Slack
    "leaver_google",  # suspended in Google holding a broad token, active in Okta and Slack
    "leaver_entra",  # disabled in Entra ID holding a delegated grant, active in Okta and GitHub
    "offboarded",  # deprovisioned in Okta and deleted in Slack: a clean leaver, in no finding of its own
    "dormant_okta",  # Okta: last sign-in 150 days ago
    "dormant_google",  # Google: last sign-in 200 days ago
    "dormant_entra",  # Entra ID: last successful sign-in 130 days ago
    "never_signed_in",  # Okta: created 400 days ago, never signed in
    "admin_everywhere",  # admin in all five apps, MFA on where reported
    "admin_google_no_2sv",  # Google super admin not enrolled in 2-step verification
    "admin_slack_no_2fa",  # Slack workspace admin without two-factor authentication
    "admin_github_no_2fa",  # GitHub organization owner with 2FA disabled
    "okta_admin",  # Okta ORG_ADMIN (revoked by the privilege-change advance)
    "promoted",  # plain member, made an Okta admin by the privilege-change advance
    "file_sharer",  # owns files shared publicly and with an outside address (Drive, OneDrive)
    "broad_grants",  # holds broad OAuth grants in Okta, Google and Microsoft 365
    "spiked",  # a failed sign-in spike in Okta
    *(f"employee_{k}" for k in range(1, 13)),  # ordinary employees (also the spray's targets)
)
_EXTERNAL_SLOTS = ("guest_partner", "outside_collaborator")

# TEST-NET-3 (RFC 5737): an address reserved for documentation, so it is nobody's real network.
SPRAY_IP = "203.0.113.66"


def _people(org: str, domain: str, partner_domain: str) -> tuple[Person, ...]:
    rng = random.Random(f"workforce:{org}")
    names = list(_NAMES)
    rng.shuffle(names)
    slots = _EMPLOYEE_SLOTS + _EXTERNAL_SLOTS
    people = []
    for slot, (first, last) in zip(slots, names, strict=False):
        external = slot in _EXTERNAL_SLOTS
        local = f"{first}.{last}".lower()
        people.append(
            Person(
                slot=slot,
                first=first,
                last=last,
                email=f"{local}@{partner_domain if external else domain}",
                department="External" if external else rng.choice(_DEPARTMENTS),
                title="Contractor" if external else rng.choice(_TITLES),
                external=external,
            )
        )
    return tuple(people)


def _plan(p: dict[str, Person]) -> dict[str, tuple[PlannedAccount, ...]]:
    """Per app, who has an account there and in which state."""
    A = PlannedAccount
    employees = [p[f"employee_{k}"] for k in range(1, 13)]
    okta = [
        A(p["leaver_deprovisioned"], "deprovisioned", last_login_days=20),
        A(p["leaver_suspended"], "suspended", last_login_days=12, grant_scopes=("okta.myAccount.profile.read",)),
        A(p["leaver_google"]),
        A(p["leaver_entra"]),
        A(p["offboarded"], "deprovisioned", last_login_days=60),
        A(p["dormant_okta"], last_login_days=150),
        A(p["dormant_google"]),
        A(p["dormant_entra"]),
        A(p["never_signed_in"], last_login_days=None, created_days=400),
        A(p["admin_everywhere"], admin=True),
        A(p["admin_google_no_2sv"]),
        A(p["admin_slack_no_2fa"]),
        A(p["admin_github_no_2fa"]),
        A(p["okta_admin"], admin=True),
        A(p["promoted"]),
        A(p["file_sharer"]),
        A(p["broad_grants"], grant_scopes=("okta.users.manage",)),
        A(p["spiked"]),
        *(A(e) for e in employees),
    ]
    google = [
        A(p["leaver_deprovisioned"]),
        A(
            p["leaver_google"],
            "suspended",
            grant_scopes=("https://www.googleapis.com/auth/userinfo.profile", "https://mail.google.com/"),
        ),
        A(p["dormant_google"], last_login_days=200),
        A(p["admin_everywhere"], admin=True),
        A(p["admin_google_no_2sv"], admin=True, mfa=False),
        A(p["file_sharer"], files=("public", "external")),
        A(p["broad_grants"], grant_scopes=("https://mail.google.com/", "https://www.googleapis.com/auth/drive")),
        A(p["spiked"]),
        *(A(e) for e in employees[:8]),
    ]
    microsoft365 = [
        A(p["leaver_deprovisioned"]),
        A(p["leaver_suspended"]),
        A(p["leaver_entra"], "suspended", grant_scopes=("User.Read", "Calendars.Read", "Mail.Read", "offline_access")),
        A(p["dormant_entra"], last_login_days=130),
        A(p["admin_everywhere"], admin=True),
        A(p["file_sharer"], files=("public", "external")),
        A(p["broad_grants"], grant_scopes=("User.Read", "Files.ReadWrite.All", "offline_access")),
        A(p["guest_partner"], guest=True),
        *(A(e) for e in employees[:8]),
    ]
    slack = [
        A(p["leaver_deprovisioned"]),
        A(p["leaver_suspended"]),
        A(p["leaver_google"]),
        A(p["offboarded"], "deprovisioned"),
        A(p["dormant_okta"]),
        A(p["admin_everywhere"], admin=True),
        A(p["admin_slack_no_2fa"], admin=True, mfa=False),
        A(p["guest_partner"], guest=True),
        A(p["outside_collaborator"], guest=True),
        *(A(e) for e in employees[:10]),
    ]
    github = [
        A(p["leaver_deprovisioned"]),
        A(p["leaver_entra"]),
        A(p["admin_everywhere"], admin=True),
        A(p["admin_github_no_2fa"], admin=True, mfa=False),
        A(p["outside_collaborator"], guest=True),
        *(A(e) for e in employees[:6]),
    ]
    return {
        "okta": tuple(okta),
        "google_workspace": tuple(google),
        "microsoft365": tuple(microsoft365),
        "slack": tuple(slack),
        "github": tuple(github),
    }


@cache
def workforce(org: str) -> Workforce:
    """The workforce of ``org`` (deterministic: the same org always gives the same people and plan)."""
    if not isinstance(org, str) or not ORG_PATTERN.match(org):
        raise ValueError(
            f"workforce org {org!r} must be 1-31 lowercase letters, digits or '-', starting with a letter "
            "(it becomes the email domain <org>.example.com)"
        )
    domain = f"{org}.example.com"
    partner_domain = f"{org}-partners.example.net"
    people = _people(org, domain, partner_domain)
    by_slot = {person.slot: person for person in people}
    spray_slots = tuple(f"employee_{k}" for k in range(1, 13))
    return Workforce(
        org=org,
        domain=domain,
        partner_domain=partner_domain,
        people=people,
        plan=_plan(by_slot),
        failed_sign_ins=FailedSignIns(
            spike_slot="spiked",
            spike_count=14,
            spike_hours_ago=3.5,
            spray_ip=SPRAY_IP,
            spray_slots=spray_slots,
            spray_hours_ago=6.5,
        ),
        by_slot=by_slot,
    )


def stable_digest(*parts: object, size: int = 16) -> bytes:
    """Bytes derived from ``parts`` only: planted ids do not draw from a generator's random stream."""
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=size).digest()


def failed_sign_in_times(wf: Workforce, anchor_ms: int) -> Iterator[tuple[int, Person, bool]]:
    """(epoch ms, person, is part of the spray) of every planted failed sign-in, inside one UTC hour each.

    The spike's and the spray's attempts are spread over 40 minutes starting at the top of the
    hour that lies ``*_hours_ago`` before the anchor, so each burst falls in a single hour bucket.
    """
    plan = wf.failed_sign_ins
    for hours_ago, people, spray in (
        (plan.spike_hours_ago, [wf.person(plan.spike_slot)] * plan.spike_count, False),
        (plan.spray_hours_ago, [wf.person(s) for s in plan.spray_slots], True),
    ):
        hour_start = (anchor_ms - int(hours_ago * 3_600_000)) // 3_600_000 * 3_600_000
        for k, person in enumerate(people):
            yield hour_start + 60_000 + k * (2_400_000 // max(1, len(people))), person, spray


def workforce_of(options: Any) -> Workforce | None:
    """The workforce a tenant's options name (``options.workforce``), or None."""
    org = getattr(options, "workforce", None)
    return workforce(org) if org else None


def days_before(anchor_ms: int, days: float | None) -> int | None:
    """Epoch ms ``days`` before the anchor, whole seconds; None stays None."""
    return None if days is None else (anchor_ms - int(days * 86_400_000)) // 1000 * 1000


# --------------------------------------------------------------------------------------------
# The oracle: findings computed from ground truth
# --------------------------------------------------------------------------------------------

# The product's list (include/findings/), read from the checkout: the sandbox lives beside it.
INACTIVE = frozenset({"suspended", "deprovisioned"})
LAST_LOGIN_APPS = frozenset({"okta", "google_workspace", "microsoft365"})
"""Apps whose account listings say when an account last signed in (Slack and GitHub do not)."""
MFA_APPS = frozenset({"google_workspace", "slack", "github"})
"""Apps whose account listings say whether an account uses MFA (Okta and Graph users do not)."""
FINDING_IDS = (
    "orphaned_accounts",
    "dormant_accounts",
    "privileged_accounts",
    "privilege_changes",
    "admins_without_mfa",
    "external_accounts",
    "exposed_files",
    "broad_oauth_grants",
    "grants_of_inactive_accounts",
    "failed_signin_spikes",
)


@dataclass(frozen=True)
class AccountFact:
    app: str
    instance: str
    account_id: str
    email: str | None
    status: str
    is_admin: bool | None
    mfa: bool | None
    account_type: str
    created_at: datetime | None
    last_login_at: datetime | None


@dataclass(frozen=True)
class GrantFact:
    app: str
    instance: str
    grant_id: str
    account_id: str | None
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class FileFact:
    app: str
    instance: str
    file_id: str
    owner_id: str | None
    visibility: str


@dataclass(frozen=True)
class FailureFact:
    app: str
    instance: str
    occurred_at: datetime
    subject: str | None
    ip: str | None


@dataclass
class Facts:
    accounts: list[AccountFact] = field(default_factory=list)
    grants: list[GrantFact] = field(default_factory=list)
    files: list[FileFact] = field(default_factory=list)
    failures: list[FailureFact] = field(default_factory=list)


def parse_time(value: Any, *, epoch_ms: bool = False) -> datetime | None:
    """ISO 8601 (any number of fraction digits, ``Z``) or epoch seconds (``epoch_ms``: milliseconds,
    as GitHub's audit log ``@timestamp``), as an aware UTC datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000 if epoch_ms else value, UTC)
    text = str(value).replace("Z", "+00:00")
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$", text)
    if match:  # Graph's audit logs carry 7 fraction digits; datetime keeps 6
        text = match.group(1) + (f".{match.group(2)[:6]}" if match.group(2) else "") + match.group(3)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


def _domain(address: str | None) -> str | None:
    return address.rsplit("@", 1)[1].lower() if address and "@" in address else None


# ---- Okta (Management API: User.status lifecycle, LogEvent outcome.result) -----------------
# https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/ : SUSPENDED
# and DEPROVISIONED users cannot sign in; RECOVERY and PASSWORD_EXPIRED users still can.
_OKTA_STATUS = {
    "ACTIVE": "active",
    "RECOVERY": "active",
    "PASSWORD_EXPIRED": "active",
    "STAGED": "pending",
    "PROVISIONED": "pending",
    "LOCKED_OUT": "locked",
    "SUSPENDED": "suspended",
    "DEPROVISIONED": "deprovisioned",
}
_OKTA_LOGON = ("user.session.", "user.authentication.", "policy.evaluate_sign_on", "user.account.lock")


def _okta(truth: Mapping[str, Any], app: str, instance: str, out: Facts) -> None:
    admins = {ra["user_id"] for ra in truth.get("role_assignments") or []}
    for user in truth["users"]:
        profile = user.get("profile") or {}
        out.accounts.append(
            AccountFact(
                app,
                instance,
                user["id"],
                _lower(profile.get("email")),
                _OKTA_STATUS.get(user["status"], user["status"].lower()),
                user["id"] in admins,
                None,
                "member",
                parse_time(user.get("created")),
                parse_time(user.get("lastLogin")),
            )
        )
    for grant in truth.get("grants") or []:
        out.grants.append(GrantFact(app, instance, grant["id"], grant.get("userId"), (grant["scopeId"],)))
    hidden = set(truth.get("log_events_not_yet_visible") or ())
    for event in truth.get("log_events") or []:
        if event.get("uuid") in hidden or not str(event.get("eventType", "")).startswith(_OKTA_LOGON):
            continue
        if (event.get("outcome") or {}).get("result") not in ("FAILURE", "DENY"):
            continue
        # The account is the User-typed target (the one the sign-in was for), else the actor: an SSO
        # denial targets the app and a sign-on policy its rule, neither of which is an account.
        targets = event.get("target") or []
        target: dict[str, Any] = next((t for t in targets if (t.get("type") or "").lower() == "user"), {})
        subject = (
            target.get("alternateId") or target.get("displayName") or (event.get("actor") or {}).get("alternateId")
        )
        ip = (event.get("client") or {}).get("ipAddress")
        out.failures.append(FailureFact(app, instance, parse_time(event["published"]), subject, ip))


# ---- Google Workspace (Directory User, Token, Drive Permission, Reports login events) -----
# https://developers.google.com/workspace/admin/directory/reference/rest/v1/users : suspended,
# archived, isAdmin / isDelegatedAdmin, isEnrolledIn2Sv, lastLoginTime (the epoch when never).
# https://developers.google.com/workspace/drive/api/reference/rest/v3/permissions : type anyone
# is anyone with the link; user/group/domain grantees outside the customer's domains are external.
# https://developers.google.com/workspace/admin/reports/v1/appendix/activity/login : login_failure.
_GOOGLE_NEVER = "1970-01-01T00:00:00.000Z"


def _google(truth: Mapping[str, Any], app: str, instance: str, out: Facts) -> None:
    users = truth["users"]
    for user in users:
        status = "suspended" if user.get("suspended") else ("deprovisioned" if user.get("archived") else "active")
        last = user.get("lastLoginTime")
        out.accounts.append(
            AccountFact(
                app,
                instance,
                user["id"],
                _lower(user.get("primaryEmail")),
                status,
                bool(user.get("isAdmin") or user.get("isDelegatedAdmin")),
                user.get("isEnrolledIn2Sv"),
                "guest" if user.get("isGuestUser") else "member",
                parse_time(user.get("creationTime")),
                None if last in (None, _GOOGLE_NEVER) else parse_time(last),
            )
        )
    for tokens in (truth.get("tokens") or {}).values():
        for token in tokens:
            grant_id = f"{token['userKey']}:{token['clientId']}"
            out.grants.append(GrantFact(app, instance, grant_id, token["userKey"], tuple(token.get("scopes") or ())))
    domains = {d.lower() for d in truth.get("domains") or []} | {
        d for d in (_domain(u.get("primaryEmail")) for u in users) if d
    }
    for item in truth.get("files") or []:
        if item.get("trashed"):
            continue  # the scan lists "'me' in owners and trashed = false"
        out.files.append(
            FileFact(app, instance, item["id"], item.get("owner_user_id"), _google_visibility(item, domains))
        )
    for activity in (truth.get("activities") or {}).get("login") or []:
        actor = _lower((activity.get("actor") or {}).get("email"))
        for event in activity.get("events") or []:
            params = {p["name"]: p.get("value") for p in event.get("parameters") or []}
            name = event.get("name")
            failed = name == "login_failure" or (
                name in ("login_challenge", "login_verification")
                and params.get("login_challenge_status") not in (None, "Challenge Passed")
            )
            if failed:
                subject = _lower(params.get("USER_EMAIL")) or actor
                when = parse_time(activity["id"]["time"])
                out.failures.append(FailureFact(app, instance, when, subject, activity.get("ipAddress")))


def _google_visibility(item: Mapping[str, Any], domains: set[str]) -> str:
    level = "private"
    for permission in item.get("permissions") or []:
        if permission.get("role") == "owner":
            continue
        if permission.get("type") == "anyone":
            return "public"
        kind = permission.get("type")
        grantee = (
            (permission.get("domain") or "").lower() if kind == "domain" else _domain(permission.get("emailAddress"))
        )
        if grantee not in domains:
            level = "external"
        elif level == "private":
            level = "internal"
    return level


# ---- Microsoft 365 (Graph user, oAuth2PermissionGrant, appRoleAssignment, permission, signIn)
# https://learn.microsoft.com/graph/api/resources/user : accountEnabled false cannot sign in;
# userType Guest; externalUserState PendingAcceptance; signInActivity.lastSuccessfulSignInDateTime.
# https://learn.microsoft.com/graph/api/resources/oauth2permissiongrant : scope is space-separated.
# https://learn.microsoft.com/graph/api/resources/sharinglink : scope anonymous / organization / users.
# https://learn.microsoft.com/graph/api/resources/signin : status.errorCode 0 is success.
_DEFAULT_ACCESS_ROLE = "00000000-0000-0000-0000-000000000000"


def _microsoft365(truth: Mapping[str, Any], app: str, instance: str, out: Facts) -> None:
    admins = set(truth.get("admin_user_ids") or ())
    for user in truth["users"]:
        if user.get("externalUserState") == "PendingAcceptance":
            status = "pending"
        elif user.get("accountEnabled") is False:
            status = "suspended"
        else:
            status = "active"
        # Successful sign-ins only: lastSignInDateTime is the last attempt, successful or not
        # (https://learn.microsoft.com/graph/api/resources/signinactivity).
        last = (user.get("signInActivity") or {}).get("lastSuccessfulSignInDateTime")
        out.accounts.append(
            AccountFact(
                app,
                instance,
                user["id"],
                _lower(user.get("mail")),
                status,
                user["id"] in admins,
                None,
                "guest" if (user.get("userType") or "").lower() == "guest" else "member",
                parse_time(user.get("createdDateTime")),
                parse_time(last),
            )
        )
    for grant in truth.get("oauth2_permission_grants") or []:
        account = None if grant.get("consentType") == "AllPrincipals" else grant.get("principalId")
        scopes = tuple((grant.get("scope") or "").split())
        out.grants.append(GrantFact(app, instance, grant["id"], account, scopes))
    roles = {
        role["id"]: role.get("value") or role.get("displayName") or role["id"]
        for sp in truth.get("service_principals") or []
        for role in sp.get("appRoles") or []
    }
    for assignment in truth.get("app_role_assignments") or []:
        role_id = assignment.get("appRoleId")
        scopes = () if role_id == _DEFAULT_ACCESS_ROLE else (roles.get(role_id, role_id or "unknown"),)
        out.grants.append(GrantFact(app, instance, assignment["id"], None, scopes))
    domains = {d.lower() for d in truth.get("domains") or []}
    owners = {d["id"]: ((d.get("owner") or {}).get("user") or {}).get("id") for d in truth.get("drives") or []}
    for entry in truth.get("files") or []:
        item = entry["item"]
        if "root" in item or "deleted" in item:
            continue
        visibility = _graph_visibility(entry.get("permissions") or [], domains)
        out.files.append(FileFact(app, instance, item["id"], owners.get(entry.get("drive_id")), visibility))
    for sign_in in truth.get("sign_ins") or []:
        code = (sign_in.get("status") or {}).get("errorCode")
        if code is None or code == 0:
            continue
        subject = sign_in.get("userPrincipalName")  # the account; appDisplayName is the app signed in to
        when = parse_time(sign_in["createdDateTime"])
        out.failures.append(FailureFact(app, instance, when, subject, sign_in.get("ipAddress")))


def _graph_visibility(permissions: Iterable[Mapping[str, Any]], domains: set[str]) -> str:
    def outside(email: str | None) -> bool:
        return bool(email) and _domain(email) not in domains

    level = "private"
    for permission in permissions:
        link = permission.get("link") or {}
        roles = [r.lower() for r in permission.get("roles") or []]
        if link:
            scope = link.get("scope")
            if scope == "anonymous":
                return "public"
            grantees = [(g.get("user") or {}).get("email") for g in permission.get("grantedToIdentitiesV2") or []]
            external = scope == "users" and any(outside(e) for e in grantees)
        else:
            granted = permission.get("grantedToV2") or permission.get("grantedTo") or {}
            identity: dict[str, Any] = next((granted[k] for k in ("user", "group", "siteUser") if granted.get(k)), {})
            email = identity.get("email") or (permission.get("invitation") or {}).get("email")
            external = not granted.get("siteGroup") and outside(email)
        if external:
            level = "external"
        elif level == "private" and roles[:1] != ["owner"]:
            level = "internal"
    return level


# ---- Slack (users.list flags, admin.apps.approved.list, files.list, Audit Logs API) --------
# https://api.slack.com/methods/users.list : deleted, is_invited_user, is_admin / is_owner /
# is_primary_owner, is_restricted / is_ultra_restricted (guests), has_2fa (shown to admins).
# https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference : user_login_failed.
def _slack(truth: Mapping[str, Any], app: str, instance: str, out: Facts, *, team_scoped_grants: bool) -> None:
    for user in truth["users"]:
        enterprise = user.get("enterprise_user") or {}
        if user.get("deleted"):
            status = "deprovisioned"
        elif user.get("is_invited_user"):
            status = "pending"
        else:
            status = "active"
        if user.get("is_bot") or user["id"] == "USLACKBOT":
            kind = "bot"
        elif user.get("is_restricted") or user.get("is_ultra_restricted"):
            kind = "guest"
        elif user.get("is_stranger") or user.get("is_external"):
            kind = "external"
        else:
            kind = "member"
        admin = any(user.get(f) for f in ("is_admin", "is_owner", "is_primary_owner")) or any(
            enterprise.get(f) for f in ("is_admin", "is_owner")
        )
        has_2fa = user.get("has_2fa")
        email = _lower((user.get("profile") or {}).get("email"))
        out.accounts.append(AccountFact(app, instance, user["id"], email, status, admin, has_2fa, kind, None, None))
    team = (truth.get("team") or {}).get("id")
    for approved in truth.get("approved_apps") or []:
        app_id = (approved.get("app") or {}).get("id") or "unknown"
        grant_id = f"{team}:{app_id}" if team_scoped_grants and team else app_id
        scopes = tuple(s["name"] for s in approved.get("scopes") or [] if s.get("name"))
        out.grants.append(GrantFact(app, instance, grant_id, None, scopes))
    for item in truth.get("files") or []:
        out.files.append(FileFact(app, instance, item["id"], item.get("user"), _slack_visibility(item)))
    for entry in truth.get("audit_logs") or []:
        if entry.get("action") != "user_login_failed":
            continue
        entity = entry.get("entity") or {}
        detail = entity.get(entity.get("type")) if isinstance(entity.get("type"), str) else None
        target = None
        if isinstance(detail, dict) and entity.get("type") == "user":  # only a user entity is an account
            target = detail.get("email") or detail.get("name")
        actor = (entry.get("actor") or {}).get("user") or {}
        subject = target or actor.get("email") or actor.get("name")
        ip = (entry.get("context") or {}).get("ip_address") or None
        out.failures.append(FailureFact(app, instance, parse_time(entry["date_create"]), subject, ip))


def _slack_visibility(item: Mapping[str, Any]) -> str:
    if item.get("public_url_shared"):
        return "public"
    owner_team = item.get("user_team") or item.get("source_team")
    shares = item.get("shares") or {}
    for privacy in ("public", "private"):
        for entries in (shares.get(privacy) or {}).values():
            teams = {e.get("team_id") for e in entries or [] if isinstance(e, dict)} - {None}
            if owner_team and any(t != owner_team for t in teams):
                return "external"
    return "internal" if item.get("is_public") else "private"


# ---- GitHub (org members / outside collaborators, installations, credential authorizations,
# audit log). https://docs.github.com/enterprise-cloud@latest/rest/orgs/members : role admin is an
# owner; filter=2fa_disabled lists members without 2FA. Outside collaborators are not members.
_GITHUB_LOGON = frozenset(
    {
        "org.sso_response",
        "business.sso_response",
        "user.login",
        "user.logout",
        "user.failed_login",
        "org.recovery_code_used",
        "org.recovery_code_failed",
    }
)


def _github(truth: Mapping[str, Any], app: str, instance: str, out: Facts) -> None:
    ids_by_login = {}
    for user in truth["users"]:
        ids_by_login[user["login"].lower()] = str(user["id"])
        kind = "external" if user["role"] == "outside_collaborator" else "member"
        mfa = user["two_factor"] != "disabled"
        out.accounts.append(
            AccountFact(
                app, instance, str(user["id"]), _lower(user.get("email")), "active", user["role"] == "admin", mfa,
                kind, None, None,
            )
        )  # fmt: skip
    for installation in truth.get("installations") or []:
        scopes = tuple(sorted(f"{k}:{v}" for k, v in (installation.get("permissions") or {}).items()))
        out.grants.append(GrantFact(app, instance, f"installation:{installation['id']}", None, scopes))
    for credential in truth.get("credential_authorizations") or []:
        account = ids_by_login.get(str(credential.get("login") or "").lower())
        grant_id = f"credential-authorization:{credential['credential_id']}"
        out.grants.append(GrantFact(app, instance, grant_id, account, tuple(credential.get("scopes") or ())))
    for event in truth.get("audit_events") or []:
        action = str(event.get("action") or "")
        if action not in _GITHUB_LOGON:
            continue
        declared = str(event.get("outcome") or "").lower()
        failed = declared == "failure" or (declared != "success" and ("_failed" in action or "failed_login" in action))
        if not failed:
            continue
        subject = event.get("user") or event.get("actor")  # the account: the user acted on, else the actor
        ip = event.get("actor_ip") or (event.get("actor_location") or {}).get("ip")
        # https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#get-the-audit-log-for-an-organization :
        # @timestamp and created_at are milliseconds since the epoch.
        when = parse_time(event.get("@timestamp") or event.get("created_at"), epoch_ms=True)
        out.failures.append(FailureFact(app, instance, when, subject, ip))


def collect_facts(
    truths: Mapping[tuple[str, str], Mapping[str, Any]],
    instances: Mapping[tuple[str, str], str],
    *,
    slack_team_scoped_grants: bool = False,
) -> Facts:
    """Accounts, grants, files and failed sign-ins of every tenant, as the findings see them."""
    facts = Facts()
    for key, truth in truths.items():
        app, tenant = key
        if key not in instances:
            raise ValueError(f"no instance name for tenant {app}/{tenant}")
        instance = instances[key]
        if app == "okta":
            _okta(truth, app, instance, facts)
        elif app == "google_workspace":
            _google(truth, app, instance, facts)
        elif app == "microsoft365":
            _microsoft365(truth, app, instance, facts)
        elif app == "slack":
            _slack(truth, app, instance, facts, team_scoped_grants=slack_team_scoped_grants)
        elif app == "github":
            _github(truth, app, instance, facts)
        else:
            raise ValueError(f"the oracle does not know app {app!r} (tenant {tenant}); it knows {list(APPS)}")
    return facts


def load_broad_scopes() -> set[tuple[str, str]]:
    """(app, scope) pairs of the broad scopes saaslens' connectors declare (each app's scopes.py):
    the oracle plants and expects grants of exactly the scopes the broad_oauth_grants finding reads.

    The oracle is the one part of the sandbox that knows saaslens' findings, and it runs only where
    saaslens is installed (the tests and benchmarks); the emulated APIs never import it."""
    from saaslens.findings import broad_scopes

    return {(app, scope) for app, scope, _why in broad_scopes()}


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def compute_findings(
    facts: Facts,
    as_of: datetime,
    *,
    previous: Facts | None = None,
    broad_scopes: set[tuple[str, str]] | None = None,
    dormant_days: int = 90,
    threshold: int = 10,
    days: int = 7,
) -> dict[str, set[tuple[Any, ...]]]:
    """Every finding's key tuples, by the definitions in .helpers/FINDINGS_CONTRACT.md."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    accounts = facts.accounts
    result: dict[str, set[tuple[Any, ...]]] = {f: set() for f in FINDING_IDS}

    def key(a: AccountFact) -> tuple[str, str, str]:
        return (a.app, a.instance, a.account_id)

    # A person is inactive in an identity provider instance; their active accounts elsewhere are orphaned.
    inactive_at: dict[str, set[tuple[str, str]]] = {}
    for a in accounts:
        if a.app in IDENTITY_PROVIDERS and a.status in INACTIVE and a.email:
            inactive_at.setdefault(a.email, set()).add((a.app, a.instance))
    for a in accounts:
        places = inactive_at.get(a.email or "")
        if a.status == "active" and places and any(place != (a.app, a.instance) for place in places):
            result["orphaned_accounts"].add(key(a))

    cutoff = as_of - timedelta(days=dormant_days)
    for a in accounts:
        if a.status != "active":
            continue
        if (a.last_login_at is not None and a.last_login_at < cutoff) or (
            a.last_login_at is None and a.created_at is not None and a.created_at < cutoff
        ):
            result["dormant_accounts"].add(key(a))

    result["privileged_accounts"] = {key(a) for a in accounts if a.is_admin}
    result["admins_without_mfa"] = {key(a) for a in accounts if a.is_admin and a.mfa is False}
    result["external_accounts"] = {
        key(a) for a in accounts if a.account_type in ("guest", "external") and a.status != "deprovisioned"
    }
    result["exposed_files"] = {
        (f.app, f.instance, f.file_id) for f in facts.files if f.visibility in ("public", "external")
    }

    broad = broad_scopes if broad_scopes is not None else load_broad_scopes()
    result["broad_oauth_grants"] = {
        (g.app, g.instance, g.grant_id) for g in facts.grants if any((g.app, s) in broad for s in g.scopes)
    }
    status_of = {key(a): a.status for a in accounts}
    result["grants_of_inactive_accounts"] = {
        (g.app, g.instance, g.grant_id)
        for g in facts.grants
        if g.account_id is not None and status_of.get((g.app, g.instance, g.account_id)) in INACTIVE
    }

    since = as_of - timedelta(days=days)
    counts: Counter[tuple[str, str, str, str, datetime]] = Counter()
    for f in facts.failures:
        if not (since <= f.occurred_at <= as_of):
            continue
        hour = _hour(f.occurred_at)
        if f.subject is not None:
            counts[(f.app, f.instance, "account", f.subject, hour)] += 1
        if f.ip is not None:
            counts[(f.app, f.instance, "ip", f.ip, hour)] += 1
    result["failed_signin_spikes"] = {k for k, n in counts.items() if n >= threshold}

    if previous is not None:
        before = {key(a): a.is_admin for a in previous.accounts}
        after = {key(a): a.is_admin for a in accounts}
        compared = {(a.app, a.instance) for a in previous.accounts}
        for account_key in before.keys() | after.keys():
            if account_key[:2] not in compared:
                continue  # no previous snapshot of this instance: nothing to compare with
            was, now = before.get(account_key, "absent"), after.get(account_key, "absent")
            if now is True and was in (False, "absent"):
                result["privilege_changes"].add((*account_key, "added"))
            elif was is True and now in (False, "absent"):
                result["privilege_changes"].add((*account_key, "removed"))
    return result


def expected_findings(
    truths: Mapping[tuple[str, str], Mapping[str, Any]],
    instances: Mapping[tuple[str, str], str],
    as_of: datetime,
    *,
    previous_truths: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
    broad_scopes: set[tuple[str, str]] | None = None,
    slack_team_scoped_grants: bool = False,
    dormant_days: int = 90,
    threshold: int = 10,
    days: int = 7,
) -> dict[str, set[tuple[Any, ...]]]:
    """finding id -> the set of key tuples each finding must return, computed from ground truth.

    ``truths``: ``{(app, tenant): personality.ground_truth()}``; ``instances``: ``{(app, tenant):
    instance name}``. ``previous_truths`` (the same tenants' ground truth when the previous
    snapshot was taken) gives ``privilege_changes``; without it that finding is expected empty.
    ``slack_team_scoped_grants``: the Slack connection sets ``team_id`` (grant ids are then
    ``<team>:<app>``). Raises AssertionError naming every planted case the result misses.
    """
    facts = collect_facts(truths, instances, slack_team_scoped_grants=slack_team_scoped_grants)
    previous = (
        collect_facts(previous_truths, instances, slack_team_scoped_grants=slack_team_scoped_grants)
        if previous_truths is not None
        else None
    )
    broad = broad_scopes if broad_scopes is not None else load_broad_scopes()
    result = compute_findings(
        facts,
        as_of,
        previous=previous,
        broad_scopes=broad,
        dormant_days=dormant_days,
        threshold=threshold,
        days=days,
    )
    missing = [
        f"{finding}: {description} -> {case}"
        for finding, description, case in planted_keys(
            truths, instances, facts, as_of, broad, previous, dormant_days=dormant_days, days=days
        )
        if case not in result[finding]
    ]
    if missing:
        raise AssertionError("planted cases missing from the expected findings:\n" + "\n".join(missing))
    return result


def _admin_advances(truth: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """(user ids granted, user ids revoked) an admin role by the Okta tenant's advances, in order."""
    granted: set[str] = set()
    revoked: set[str] = set()
    for advance in truth.get("advances") or []:
        for user_id in advance.get("admins_granted") or []:
            granted.add(user_id)
            revoked.discard(user_id)
        for user_id in advance.get("admins_revoked") or []:
            revoked.add(user_id)
            granted.discard(user_id)
    return granted, revoked


def planted_keys(
    truths: Mapping[tuple[str, str], Mapping[str, Any]],
    instances: Mapping[tuple[str, str], str],
    facts: Facts,
    as_of: datetime,
    broad: set[tuple[str, str]],
    previous: Facts | None = None,
    *,
    dormant_days: int = 90,
    days: int = 7,
) -> Iterator[tuple[str, str, tuple[Any, ...]]]:
    """(finding, description, key) of every planted case the tenants' workforces hold.

    A case whose object is missing from the ground truth yields a key no finding can contain
    (``<missing: ...>``), so the caller reports it instead of silently passing."""
    tenants = [(key, truth["workforce"]) for key, truth in truths.items() if truth.get("workforce")]
    by_email = {(a.app, a.instance, a.email): a for a in facts.accounts if a.email}

    def account(app: str, instance: str, planned: PlannedAccount) -> tuple[str, str, str]:
        found = by_email.get((app, instance, planned.email))
        return (app, instance, found.account_id if found else f"<missing: {planned.email}>")

    for (app, tenant), org in tenants:
        wf = workforce(org)
        instance = instances[(app, tenant)]
        truth = truths[(app, tenant)]
        granted, revoked = _admin_advances(truth)
        for planned in wf.plan_for(app):
            who = f"{planned.person.display} ({planned.person.slot}) in {app}/{tenant}"
            acc = account(app, instance, planned)
            if app in IDENTITY_PROVIDERS and planned.status != "active":
                for (other_app, other_tenant), other_org in tenants:
                    if other_org != org or (other_app, other_tenant) == (app, tenant):
                        continue
                    for other in wf.plan_for(other_app):
                        if other.person == planned.person and other.status == "active":
                            other_instance = instances[(other_app, other_tenant)]
                            yield (
                                "orphaned_accounts",
                                f"{who} is {planned.status}, still active in {other_app}/{other_tenant}",
                                account(other_app, other_instance, other),
                            )
            if app in LAST_LOGIN_APPS and planned.status == "active":
                days_idle = planned.last_login_days if planned.last_login_days is not None else planned.created_days
                if days_idle > dormant_days:
                    yield "dormant_accounts", f"{who}: no sign-in for {days_idle:g} days", acc
            is_admin = (planned.admin or acc[2] in granted) and acc[2] not in revoked
            if is_admin:
                yield "privileged_accounts", f"{who} is an admin", acc
                if app in MFA_APPS and not planned.mfa:
                    yield "admins_without_mfa", f"{who} is an admin without MFA", acc
            if planned.guest and planned.status != "deprovisioned":
                yield "external_accounts", f"{who} is a guest / outside collaborator", acc
            for exposure in planned.files:
                files = [f for f in facts.files if (f.app, f.instance, f.owner_id) == acc and f.visibility == exposure]
                file_id = files[0].file_id if files else f"<missing: {exposure} file of {planned.email}>"
                yield "exposed_files", f"{who} owns a file shared {exposure}", (app, instance, file_id)
            if planned.grant_scopes:
                grants = [
                    g
                    for g in facts.grants
                    if (g.app, g.instance, g.account_id) == acc and set(planned.grant_scopes) <= set(g.scopes)
                ]
                grant = (app, instance, grants[0].grant_id if grants else f"<missing: grant of {planned.email}>")
                if any((app, s) in broad for s in planned.grant_scopes):
                    yield "broad_oauth_grants", f"{who} holds a grant of {planned.grant_scopes}", grant
                if planned.status in INACTIVE:
                    yield "grants_of_inactive_accounts", f"{who} is {planned.status} and holds a grant", grant
            if previous is not None and app == "okta":
                if acc[2] in granted:
                    yield "privilege_changes", f"{who} was made an admin", (*acc, "added")
                if acc[2] in revoked:
                    yield "privilege_changes", f"{who} lost the admin role", (*acc, "removed")
        if app == "okta":
            anchor = parse_time(truth["anchor"])
            assert anchor is not None
            anchor_ms = int(anchor.timestamp() * 1000)
            since = as_of - timedelta(days=days)
            for when_ms, person, spray in failed_sign_in_times(wf, anchor_ms):
                when = datetime.fromtimestamp(when_ms / 1000, UTC)
                if not since <= when <= as_of:
                    continue
                if spray:
                    yield (
                        "failed_signin_spikes",
                        f"a password spray from {wf.failed_sign_ins.spray_ip} in {app}/{tenant}",
                        (app, instance, "ip", wf.failed_sign_ins.spray_ip, _hour(when)),
                    )
                else:
                    yield (
                        "failed_signin_spikes",
                        f"{person.display} failed to sign in {wf.failed_sign_ins.spike_count} times in an hour",
                        (app, instance, "account", person.email, _hour(when)),
                    )


def planted_cases(org: str) -> dict[str, list[str]]:
    """finding id -> a description of each case the workforce plants (in tenants of all five apps).

    ``privilege_changes`` needs the Okta tenant advanced with ``admins_granted`` /
    ``admins_revoked`` (emails of the ``promoted`` and ``okta_admin`` people) between two scans."""
    wf = workforce(org)
    broad = load_broad_scopes()
    cases: dict[str, list[str]] = {f: [] for f in FINDING_IDS}
    for app in APPS:
        for planned in wf.plan_for(app):
            who = f"{planned.person.display} <{planned.email}> ({planned.person.slot}) in {app}"
            if app in IDENTITY_PROVIDERS and planned.status != "active":
                elsewhere = [
                    other_app
                    for other_app in APPS
                    if other_app != app
                    for other in wf.plan_for(other_app)
                    if other.person == planned.person and other.status == "active"
                ]
                if elsewhere:
                    cases["orphaned_accounts"].append(f"{who} is {planned.status}; active in {', '.join(elsewhere)}")
            if app in LAST_LOGIN_APPS and planned.status == "active":
                idle = planned.last_login_days if planned.last_login_days is not None else planned.created_days
                if idle > 90:
                    never = " (never signed in)" if planned.last_login_days is None else ""
                    cases["dormant_accounts"].append(f"{who}: last sign-in {idle:g} days ago{never}")
            if planned.admin:
                cases["privileged_accounts"].append(f"{who} is an admin")
                if app in MFA_APPS and not planned.mfa:
                    cases["admins_without_mfa"].append(f"{who} is an admin without MFA")
            if planned.guest:
                cases["external_accounts"].append(f"{who} is a guest / outside collaborator")
            for exposure in planned.files:
                cases["exposed_files"].append(f"{who} owns a file shared {exposure}")
            if planned.grant_scopes:
                wide = [scope for scope in planned.grant_scopes if (app, scope) in broad]
                if wide:
                    cases["broad_oauth_grants"].append(f"{who} holds a grant of {' '.join(wide)}")
                if planned.status in INACTIVE:
                    cases["grants_of_inactive_accounts"].append(f"{who} is {planned.status} and holds a grant")
    plan = wf.failed_sign_ins
    spiked = wf.person(plan.spike_slot)
    cases["failed_signin_spikes"] += [
        f"okta: {spiked.display} <{spiked.email}> fails to sign in {plan.spike_count} times within one hour, "
        f"{plan.spike_hours_ago:g} hours before the anchor (from their home IP, which so spikes too)",
        f"okta: {len(plan.spray_slots)} people fail to sign in from {plan.spray_ip} within one hour, "
        f"{plan.spray_hours_ago:g} hours before the anchor (a password spray)",
    ]
    promoted, demoted = wf.person(wf.admin_grant_slot), wf.person(wf.admin_revoke_slot)
    cases["privilege_changes"] += [
        f"okta: {promoted.display} <{promoted.email}> added, after advance with admins_granted",
        f"okta: {demoted.display} <{demoted.email}> removed, after advance with admins_revoked",
    ]
    return cases
