"""Deterministic synthetic Okta tenants.

Everything is derived from ``(seed, users, options)``: the same inputs give byte-identical ground
truth. Time is expressed relative to an *anchor* (default: server start, whole seconds, UTC), so a
default tenant always looks "live": System Log events fill ``[anchor - history_days, anchor]`` and
nothing is ever in the future.

Object shapes follow Okta's Management API as published in its OpenAPI description
(``management.yaml``: ``User``, ``Group``, ``Role``, ``OAuth2ScopeConsentGrant``, ``LogEvent``,
``RoleAssignedUsers``) and its reference pages:

* Users API, statuses and the lifecycle timestamps (created/activated/statusChanged/lastLogin/
  lastUpdated/passwordChanged): https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/
* Groups (BUILT_IN "Everyone", OKTA_GROUP, APP_GROUP with ``_links.source``):
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/
* Standard admin roles and assignment types (USER / GROUP; role ids like ``ra...``/``gra...``):
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/RoleAssignmentAUser/
* System Log event types and the LogEvent object:
  https://developer.okta.com/docs/reference/system-log-query and
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SystemLog/
  (event type catalog: https://developer.okta.com/docs/reference/api/event-types/)

The System Log is stored compactly (parallel arrays of timestamp / kind / actor / target) and each
event is rendered on demand, so a tenant with millions of events costs tens of bytes per event and
serving a page costs time proportional to the page. Events are ordered by ``(published, uuid)``;
events of one transaction share an identical ``published`` millisecond (so they can straddle page
boundaries), and within such a tie the uuids are assigned in ascending order.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import random
import time
import unicodedata
from array import array
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from saaslens_sandbox.core import TenantOptions
from saaslens_sandbox.okta import settings as okta_settings
from saaslens_sandbox.workforce import days_before, failed_sign_in_times, stable_digest, workforce_of

ORIGIN_MARKER = "{{sandbox-origin}}"
"""Stands for ``scheme://host:port`` in stored hrefs; replaced in the serialized bytes per request."""

USER_STATUSES = (
    "ACTIVE",
    "STAGED",
    "PROVISIONED",
    "RECOVERY",
    "LOCKED_OUT",
    "PASSWORD_EXPIRED",
    "SUSPENDED",
    "DEPROVISIONED",
)
_STATUS_SHARE = {
    "STAGED": 0.03,
    "PROVISIONED": 0.03,
    "RECOVERY": 0.015,
    "LOCKED_OUT": 0.02,
    "PASSWORD_EXPIRED": 0.02,
    "SUSPENDED": 0.025,
    "DEPROVISIONED": 0.06,
}

ROLE_LABELS = {
    "SUPER_ADMIN": "Super Administrator",
    "ORG_ADMIN": "Organization Administrator",
    "READ_ONLY_ADMIN": "Read Only Administrator",
    "APP_ADMIN": "Application Administrator",
    "USER_ADMIN": "Group Administrator",
    "HELP_DESK_ADMIN": "Help Desk Administrator",
    "GROUP_MEMBERSHIP_ADMIN": "Group Membership Administrator",
    "REPORT_ADMIN": "Report Administrator",
    "API_ACCESS_MANAGEMENT_ADMIN": "API Access Management Administrator",
    "MOBILE_ADMIN": "Mobile Administrator",
}
RoleType = Literal[
    "SUPER_ADMIN",
    "ORG_ADMIN",
    "READ_ONLY_ADMIN",
    "APP_ADMIN",
    "USER_ADMIN",
    "HELP_DESK_ADMIN",
    "GROUP_MEMBERSHIP_ADMIN",
    "REPORT_ADMIN",
    "API_ACCESS_MANAGEMENT_ADMIN",
    "MOBILE_ADMIN",
]

DAY_MS = 86_400_000
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


class ApiTokenSpec(BaseModel):
    """An SSWS API token. It acts as an admin user (created for it) holding ``roles``."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1)
    roles: list[RoleType] = Field(min_length=1)
    name: str | None = None
    user_login: str | None = None


class OAuthClientSpec(BaseModel):
    """An OAuth 2.0 service app using private_key_jwt; ``scopes`` are its granted Okta scopes."""

    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(min_length=1)
    public_key_pem: str
    scopes: list[str] = Field(min_length=1)
    roles: list[RoleType] = Field(default_factory=lambda: list[RoleType](["SUPER_ADMIN"]))

    @field_validator("public_key_pem")
    @classmethod
    def _is_rsa_public_key(cls, value: str) -> str:
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        try:
            key = load_pem_public_key(value.encode())
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a PEM public key: {exc}") from None
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("must be an RSA public key (the assertion is verified as RS256)")
        return value


class OktaOptions(TenantOptions):
    """``TenantSpec.options`` for an Okta tenant (all optional)."""

    model_config = ConfigDict(extra="forbid")
    api_tokens: list[ApiTokenSpec] | None = None
    """Default: one token ``sandbox-okta-{tenant}-admin`` holding SUPER_ADMIN."""
    oauth_clients: list[OAuthClientSpec] = Field(default_factory=list)
    history_days: int = Field(default=7, ge=1, le=90)
    events_per_user: float = Field(default=12.0, ge=0)
    log_events: int | None = Field(default=None, ge=0)
    """Exact number of System Log events (overrides events_per_user)."""
    groups: int | None = Field(default=None, ge=0)
    """Number of OKTA_GROUP groups (default scales with users)."""
    app_groups: int | None = Field(default=None, ge=0)
    domain: str | None = None
    """Email domain (default ``{tenant}.example.com``)."""
    access_token_ttl_seconds: int = Field(default=3600, ge=1, le=86_400)
    tie_runs: int = Field(default=0, ge=0, le=10_000)
    """Extra runs of System Log events sharing one ``published`` millisecond (on top of the volume
    above), so page boundaries fall inside runs of identical timestamps more often."""
    tie_run_length: int = Field(default=40, ge=2, le=5_000)
    """Events in each of those runs."""
    hostile_share: float = Field(default=0.0, ge=0.0, le=1.0)
    """Share of non-admin users with hostile profile values: emoji and ZWJ sequences, right-to-left
    overrides, quotes and SQL-looking text, very long strings (up to 4,000 characters) and null
    optional attributes (``title``, ``department``, ``mobilePhone``)."""
    rate_limit_tier: Literal["developer_free", "developer_paid", "one_app", "enterprise", "workforce"] = "workforce"
    identity_engine: bool = True
    """An Identity Engine org (the default); a Classic Engine org has no authentication policies
    (ACCESS_POLICY): listing them answers E0000015, the error of a feature the org does not have."""


# --------------------------------------------------------------------------------------------
# Static vocabularies
# --------------------------------------------------------------------------------------------


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(sep))


FIRST_NAMES = _words(
    """Alice Aaron Amelia Ben Carla Chen Daniel Diana Elena Ethan Fatima Felix Grace Hannah Hugo Isaac Ivy James
    Julia Kai Laura Leo Maria Mateo Maya Noah Nora Olivia Omar Priya Quinn Rachel Ravi Sam Sofia Thomas Uma Victor
    Wei Xavier Yara Zoe Liam Emma Lucas Mia Arjun Chloe"""
)
LAST_NAMES = _words(
    """Smith Johnson Brown Garcia Miller Davis Rodriguez Martinez Wilson Anderson Taylor Thomas Moore Jackson
    Martin Lee Thompson White Harris Clark Lewis Walker Hall Young King Wright Scott Green Baker Adams Nelson Hill
    Campbell Mitchell Roberts Carter Phillips Evans Turner Patel Kim Singh Okafor Nakamura Rossi Novak Silva Cohen
    Fischer"""
)
# Some people have non-ASCII names; their logins are ASCII-folded (or fall back to "user").
UNICODE_FIRST = _words(
    "José Zoë Łukasz Søren François Renée Björn Ólafur Jürgen Chloé Ångström Dvořák Siân Çağla Ðorđe 明 Анна Νίκος"
)
UNICODE_LAST = _words(
    "Müller Ólafsdóttir Nguyễn Gonçalves Šimek Łopatka Østergaard Peña Børresen Kovač Y\u0131lmaz 李 Иванова "
    "Παπαδόπουλος O'Brien"
)
DEPARTMENTS = _words(
    "Engineering|Sales|Marketing|Finance|People|Legal|IT|Support|Product|Design|Security|Data|Operations|"
    "Customer Success",
    "|",
)
TITLES = _words("Engineer|Senior Engineer|Manager|Director|Analyst|Specialist|Associate|Lead|Coordinator|VP", "|")
QUALIFIERS = _words(
    "EMEA|APAC|AMER|Platform|Contractors|Leads|On-call|Interns|Berlin|London|New York|Tokyo|Project Apollo|"
    "Project Atlas",
    "|",
)
# Hostile profile values (hostile_share): what a lake, a terminal or a CSV export must survive.
HOSTILE_FIRST = (
    "Zoë 🦄",
    "👩\u200d💻",
    "\u202eevil",
    'Bobby "Tables"',
    "Robert'); DROP TABLE accounts;--",
    "e\u0301\u0301\u0301",
    "名前",
    "🇺🇳🏳️\u200d🌈",
)
HOSTILE_LAST = (
    "Wolfeschlegelsteinhausenbergerdorff" * 40,
    "O'Brien,\tNewline\nInside",
    "\U0001d573\U0001d594\U0001d598\U0001d599\U0001d58e\U0001d591\U0001d58a",  # "Hostile" in Fraktur
    "\u200b",
    "<script>alert(1)</script>",
)
EXTRA_GROUPS = _words(
    "VPN Users|AWS Admins|GitHub Admins|All Contractors|Board|Wiki Editors|Zoom Webinar Hosts|Salesforce Power Users",
    "|",
)


class Location(NamedTuple):
    city: str
    state: str
    country: str
    country_code: str
    postal: str
    lat: float
    lon: float
    ip_prefix: str
    as_number: int
    as_org: str
    isp: str
    domain: str
    timezone: str


def _locations(table: str) -> tuple[Location, ...]:
    rows = []
    for line in table.strip().splitlines():
        f = [c.strip() for c in line.split("|")]
        rows.append(Location(f[0], f[1], f[2], f[3], f[4], float(f[5]), float(f[6]), f[7], int(f[8]), *f[9:13]))
    return tuple(rows)


# city | state | country | code | postal | lat | lon | ip /24 | AS number | AS org | ISP | domain | timezone
LOCATIONS = _locations("""
San Francisco|California|United States|US|94107|37.7697|-122.3933|73.202.14|7922|comcast|comcast cable communications llc|comcast.net|America/Los_Angeles
New York|New York|United States|US|10013|40.7209|-74.0047|24.193.8|12271|charter communications|charter communications inc|rr.com|America/New_York
Austin|Texas|United States|US|78701|30.2711|-97.7437|99.6.121|7018|at&t services|at&t corp.|sbcglobal.net|America/Chicago
Chicago|Illinois|United States|US|60601|41.8858|-87.6181|98.226.43|7922|comcast|comcast cable communications llc|comcast.net|America/Chicago
London|England|United Kingdom|GB|EC2A|51.5229|-0.0777|86.150.33|2856|british telecommunications plc|bt public internet service|btcentralplus.com|Europe/London
Berlin|Land Berlin|Germany|DE|10115|52.5323|13.3846|91.64.72|3209|vodafone gmbh|vodafone gmbh|vodafone.de|Europe/Berlin
Paris|Ile-de-France|France|FR|75002|48.8682|2.3431|90.86.112|3215|orange|orange s.a.|orange.fr|Europe/Paris
Toronto|Ontario|Canada|CA|M5H|43.6497|-79.3842|99.225.19|812|rogers communications canada inc.|rogers|rogers.com|America/Toronto
Tokyo|Tokyo|Japan|JP|100-0001|35.6893|139.6899|126.25.40|17676|softbank corp.|softbank|bbtec.net|Asia/Tokyo
Bengaluru|Karnataka|India|IN|560001|12.9753|77.591|49.207.51|24309|atria convergence technologies|act|actcorp.in|Asia/Kolkata
Sydney|New South Wales|Australia|AU|2000|-33.8715|151.2006|120.150.7|1221|telstra corporation|telstra internet|bigpond.net.au|Australia/Sydney
São Paulo|Sao Paulo|Brazil|BR|01310|-23.5335|-46.6359|177.102.30|28573|claro nxt|claro s.a.|virtua.com.br|America/Sao_Paulo
""")  # noqa: E501
# Sign-ins from these are "unusual" (rare travel / anomalies), never anyone's home.
ANOMALY_LOCATIONS = _locations("""
Lagos|Lagos|Nigeria|NG|100001|6.4541|3.3947|105.112.24|36873|airtel networks limited|airtel nigeria|airtel.com.ng|Africa/Lagos
Moscow|Moscow|Russia|RU|101000|55.7522|37.6156|95.165.12|25513|pjsc moscow city telephone network|mgts|mgts.ru|Europe/Moscow
Amsterdam|North Holland|Netherlands|NL|1012|52.3759|4.8975|185.220.101|208294|cia triad security llc|tor exit|torproject.org|Europe/Amsterdam
""")  # noqa: E501


def _four(parts: Iterator[str]) -> tuple[str, str, str, str]:
    first, second, third, fourth = parts
    return first, second, third, fourth


# rawUserAgent | os | browser | device
USER_AGENTS: tuple[tuple[str, str, str, str], ...] = tuple(
    _four(c.strip() for c in line.split("|"))
    for line in """
Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36|Mac OS X|CHROME|Computer
Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0|Windows 10|EDGE_CHROMIUM|Computer
Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15|Mac OS X|SAFARI|Computer
Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0|Linux|FIREFOX|Computer
Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1|iOS|MOBILE SAFARI|Mobile
Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36|Android|CHROME|Mobile
OktaVerify/9.12.0 (iPhone; iOS 17.4)|iOS|UNKNOWN|Mobile
""".strip().splitlines()  # noqa: E501
)
ANOMALY_AGENT = ("python-requests/2.31.0", "Unknown", "UNKNOWN", "Unknown")

# label | app name | signOnMode | OIDC client that end users consent to
APPS = tuple(
    (f[0], f[1], f[2] or None, f[3] == "oidc")
    for f in (
        line.split("|")
        for line in """
Active Directory|active_directory||
Salesforce.com|salesforce|SAML_2_0|
Slack|slack|SAML_2_0|
GitHub Enterprise Cloud|githubcloud|SAML_2_0|
Google Workspace|google|SAML_2_0|
Zoom|zoomus|SAML_2_0|
Atlassian Cloud|atlassian|SAML_2_0|
AWS IAM Identity Center|amazon_aws_sso|SAML_2_0|
Box|boxnet|SAML_2_0|
Workday|workday|SAML_2_0|
DocuSign|docusign|SAML_2_0|
Expense Portal|oidc_client|OPENID_CONNECT|oidc
Internal Wiki|oidc_client|OPENID_CONNECT|oidc
Acme Mobile|oidc_client|OPENID_CONNECT|oidc
""".strip().splitlines()
    )
)
CONSENT_SCOPES = (
    "okta.users.read.self",
    "okta.users.manage.self",
    "okta.myAccount.profile.read",
    "okta.myAccount.email.read",
    "okta.myAccount.phone.read",
)
POLICIES = (
    ("Default Policy", "OKTA_SIGN_ON"),
    ("Contractors Sign-On", "OKTA_SIGN_ON"),
    ("Default Password Policy", "PASSWORD"),
    ("MFA Enrollment", "MFA_ENROLL"),
    ("Admin Console Access", "ACCESS_POLICY"),
)
UNKNOWN_USERNAMES = _words("admin administrator test root jsmith info support guest backup oracle scanner sales")


# --------------------------------------------------------------------------------------------
# System Log kinds
# --------------------------------------------------------------------------------------------


class Kind(NamedTuple):
    event_type: str
    result: str
    reason: str | None
    severity: str
    message: str
    legacy: str | None
    uri: str
    target: str  # none | user | app | group_user | policy | token | consent | role_user


# eventType | outcome.result | outcome.reason | severity | displayMessage | legacyEventType | requestUri | target
KINDS: tuple[Kind, ...] = tuple(
    Kind(*(None if c.strip() == "-" else c.strip() for c in line.split("|")))
    for line in """
user.session.start|SUCCESS|-|INFO|User login to Okta|core.user_auth.login_success|/idp/idx/identify|none
user.session.start|FAILURE|INVALID_CREDENTIALS|WARN|User login to Okta|core.user_auth.login_failed|/idp/idx/challenge/answer|none
user.session.start|FAILURE|VERIFICATION_ERROR|WARN|User login to Okta|core.user_auth.login_failed|/idp/idx/identify|none
user.session.start|DENY|Sign-on policy evaluation resulted in DENY|WARN|User login to Okta|core.user_auth.login_denied|/idp/idx/identify|none
user.authentication.auth_via_mfa|SUCCESS|-|INFO|Authentication of user via MFA|core.user.factor.attempt_success|/idp/idx/challenge/answer|none
user.authentication.auth_via_mfa|FAILURE|INVALID_CREDENTIALS|WARN|Authentication of user via MFA|core.user.factor.attempt_fail|/idp/idx/challenge/answer|none
user.authentication.sso|SUCCESS|-|INFO|User single sign on to app|app.auth.sso|/app/{app}/sso/saml|app
user.authentication.sso|DENY|User is not assigned to this application|WARN|User single sign on to app|app.auth.sso.denied|/app/{app}/sso/saml|app
user.account.lock|FAILURE|LOCKED_OUT|WARN|Max sign in attempts exceeded|core.user_auth.account_locked|/idp/idx/challenge/answer|user
user.lifecycle.create|SUCCESS|-|INFO|Create Okta user|core.user.config.user_creation.success|/api/v1/users|user
user.lifecycle.activate|SUCCESS|-|INFO|Activate Okta user|core.user.config.user_activated|/api/v1/users/{user}/lifecycle/activate|user
user.lifecycle.deactivate|SUCCESS|-|INFO|Deactivate Okta user|core.user.config.user_deactivated|/api/v1/users/{user}/lifecycle/deactivate|user
user.lifecycle.suspend|SUCCESS|-|INFO|Suspend Okta user|core.user.config.user_status.suspended|/api/v1/users/{user}/lifecycle/suspend|user
user.account.privilege.grant|SUCCESS|-|INFO|Grant user privilege|core.user.admin_privilege.granted|/api/v1/users/{user}/roles|role_user
group.user_membership.add|SUCCESS|-|INFO|Add user to group membership|core.user_group_member.user_add|/api/v1/groups/{group}/users/{user}|group_user
group.user_membership.remove|SUCCESS|-|INFO|Remove user from group membership|core.user_group_member.user_remove|/api/v1/groups/{group}/users/{user}|group_user
app.oauth2.as.consent.grant|SUCCESS|-|INFO|User granted consent to app|-|/oauth2/v1/authorize|consent
policy.lifecycle.update|SUCCESS|-|INFO|Update policy|core.policy.lifecycle.update|/api/v1/policies/{policy}|policy
system.api_token.create|SUCCESS|-|INFO|Create API token|api.token.create|/api/internal/tokens|token
user.account.update_profile|SUCCESS|-|INFO|Update user profile for Okta|core.user.config.profile_update.success|/api/v1/users/{user}|user
user.lifecycle.delete.initiated|SUCCESS|-|INFO|Delete Okta user|-|/api/v1/users/{user}|user
user.lifecycle.delete.completed|SUCCESS|-|INFO|Delete Okta user completed|-|/api/v1/users/{user}|user
user.account.privilege.revoke|SUCCESS|-|INFO|Revoke user privilege|core.user.admin_privilege.revoked|/api/v1/users/{user}/roles|role_user
user.lifecycle.unsuspend|SUCCESS|-|INFO|Unsuspend Okta user|-|/api/v1/users/{user}/lifecycle/unsuspend|user
user.session.clear|SUCCESS|-|INFO|Clear user session|-|/api/v1/users/{user}/sessions|user
user.account.expire_password|SUCCESS|-|INFO|Expire user password|-|/api/v1/users/{user}/lifecycle/expire_password|user
app.oauth2.as.consent.revoke|SUCCESS|-|INFO|Consent revoked|-|/api/v1/users/{user}/grants|consent
policy.lifecycle.update|SUCCESS|-|INFO|Update policy|core.policy.lifecycle.update|-|setting
policy.lifecycle.activate|SUCCESS|-|INFO|Activate policy|core.policy.lifecycle.activate|-|setting
policy.lifecycle.deactivate|SUCCESS|-|INFO|Deactivate policy|core.policy.lifecycle.deactivate|-|setting
policy.rule.update|SUCCESS|-|INFO|Update policy rule|core.policy.rule.update|-|setting
policy.rule.activate|SUCCESS|-|INFO|Activate policy rule|core.policy.rule.activate|-|setting
policy.rule.deactivate|SUCCESS|-|INFO|Deactivate policy rule|core.policy.rule.deactivate|-|setting
security.authenticator.lifecycle.activate|SUCCESS|-|INFO|Activate authenticator|-|-|setting
security.authenticator.lifecycle.deactivate|SUCCESS|-|INFO|Deactivate authenticator|-|-|setting
zone.update|SUCCESS|-|INFO|Update network zone|-|-|setting
zone.activate|SUCCESS|-|INFO|Activate network zone|-|-|setting
zone.deactivate|SUCCESS|-|INFO|Deactivate network zone|-|-|setting
""".strip().splitlines()  # noqa: E501
)
(
    K_LOGIN,
    K_LOGIN_FAIL,
    K_LOGIN_UNKNOWN,
    K_LOGIN_DENY,
    K_MFA,
    K_MFA_FAIL,
    K_SSO,
    K_SSO_DENY,
    K_LOCK,
    K_CREATE,
    K_ACTIVATE,
    K_DEACTIVATE,
    K_SUSPEND,
    K_PRIV,
    K_GROUP_ADD,
    K_GROUP_REMOVE,
    K_CONSENT,
    K_POLICY,
    K_TOKEN,
    K_UPDATE_PROFILE,
    K_DELETE_INITIATED,
    K_DELETE_COMPLETED,
    K_PRIV_REVOKE,
    # Written only by governance actions on the sandbox (saaslens_sandbox.okta.actions), never generated:
    # appended so the generated history's kind numbers stay what they were.
    K_UNSUSPEND,
    K_SESSION_CLEAR,
    K_EXPIRE_PASSWORD,
    K_CONSENT_REVOKE,
    # Written only by settings changes (saaslens_sandbox.okta.live, settings_changes): the target is
    # an entry of OktaTenant.setting_targets (the request URI and the event's targets).
    K_SETTING_POLICY_UPDATE,
    K_SETTING_POLICY_ACTIVATE,
    K_SETTING_POLICY_DEACTIVATE,
    K_SETTING_RULE_UPDATE,
    K_SETTING_RULE_ACTIVATE,
    K_SETTING_RULE_DEACTIVATE,
    K_SETTING_AUTHENTICATOR_ACTIVATE,
    K_SETTING_AUTHENTICATOR_DEACTIVATE,
    K_SETTING_ZONE_UPDATE,
    K_SETTING_ZONE_ACTIVATE,
    K_SETTING_ZONE_DEACTIVATE,
) = range(len(KINDS))
GU_SHIFT = 1 << 32
"""A ``group_user`` event target is ``group index * GU_SHIFT + user index`` (users may be added later)."""
EVENT_TYPES = tuple(sorted({k.event_type for k in KINDS}))
_OUTCOMES = tuple({"result": k.result, "reason": k.reason} for k in KINDS)
_GEO = {
    loc: {
        "city": loc.city,
        "state": loc.state,
        "country": loc.country,
        "postalCode": loc.postal,
        "geolocation": {"lat": loc.lat, "lon": loc.lon},
    }
    for loc in LOCATIONS + ANOMALY_LOCATIONS
}
_SECURITY = {
    loc: {
        "asNumber": loc.as_number,
        "asOrg": loc.as_org,
        "isp": loc.isp,
        "domain": loc.domain,
        "isProxy": loc.isp == "tor exit",
    }
    for loc in LOCATIONS + ANOMALY_LOCATIONS
}
_BEHAVIORS = {
    flag: "{"
    + ", ".join(
        f"{name}={'POSITIVE' if flag else 'NEGATIVE'}"
        for name in ("New Geo-Location", "New Device", "New IP", "New State", "New Country", "Velocity", "New City")
    )
    + "}"
    for flag in (False, True)
}

# Random "background" scenarios: (weight, kinds that share one published millisecond).
_RANDOM_SCENARIOS: tuple[tuple[float, tuple[int, ...]], ...] = (
    (22.0, (K_LOGIN,)),
    (14.0, (K_MFA, K_LOGIN)),
    (36.0, (K_SSO,)),
    (4.0, (K_SSO, K_SSO)),
    (7.0, (K_LOGIN_FAIL,)),
    (3.0, (K_MFA_FAIL,)),
    (2.0, (K_LOGIN_DENY,)),
    (2.0, (K_SSO_DENY,)),
    (2.0, (K_LOGIN_UNKNOWN,)),
    (3.0, (K_GROUP_ADD,)),
    (1.5, (K_GROUP_REMOVE,)),
    (0.3, (K_POLICY,)),
)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


_DAY_PREFIX: dict[int, str] = {}


def iso(ms: int | None) -> str | None:
    """Okta's timestamp format: ``2024-05-04T19:50:52.123Z``."""
    if ms is None:
        return None
    sec, milli = divmod(ms, 1000)
    day, rem = divmod(sec, 86_400)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%dT")
        if len(_DAY_PREFIX) > 4096:
            _DAY_PREFIX.clear()
        _DAY_PREFIX[day] = prefix
    hour, rem = divmod(rem, 3600)
    minute, second = divmod(rem, 60)
    return f"{prefix}{hour:02d}:{minute:02d}:{second:02d}.{milli:03d}Z"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _b62(data: bytes, n: int) -> str:
    """``n`` alphanumeric characters derived from ``data`` (Okta-looking opaque ids)."""
    return base64.b64encode(data, altchars=b"Az").decode("ascii").rstrip("=")[:n]


class FastRandom(random.Random):
    """``random.Random`` with cheap integer helpers (``randrange``/``choice`` cost ~1 µs each).

    Still fully deterministic for a given seed; only the mapping from the stream to values differs.
    """

    def fr(self, a: int, b: int | None = None) -> int:
        """Like randrange(a) / randrange(a, b), without the argument checking."""
        if b is None:
            a, b = 0, a
        return a if b <= a else a + int(self.random() * (b - a))

    def pick(self, seq: Any) -> Any:
        return seq[int(self.random() * len(seq))]


class _Ids:
    """Okta-looking 20-character ids (``00u...``, ``00g...``), unique within a tenant."""

    def __init__(self, rng: FastRandom):
        self.rng = rng
        self.seen: set[str] = set()

    def __call__(self, prefix: str) -> str:
        while True:
            value = prefix + _b62(self.rng.getrandbits(128).to_bytes(16, "big"), 20 - len(prefix))
            if value not in self.seen:
                self.seen.add(value)
                return value


class UserRec:
    __slots__ = (
        "activated",
        "created",
        "department",
        "display",
        "email",
        "employee_number",
        "federated",
        "first",
        "home",
        "id",
        "last",
        "last_login",
        "last_updated",
        "login",
        "mobile",
        "owner_of",
        "password_changed",
        "planted",
        "recovery_q",
        "status",
        "status_changed",
        "title",
        "ua",
    )

    # Declared for the type checker only: bare annotations add no class attributes, so the
    # __slots__ (one small record per generated user, hundreds of thousands per tenant) stay.
    id: str
    login: str
    email: str
    first: str
    last: str
    display: str
    status: str
    department: str | None
    title: str | None
    employee_number: str
    mobile: str | None
    home: int
    ua: int
    federated: bool
    recovery_q: bool
    created: int
    activated: int | None
    status_changed: int | None
    password_changed: int | None
    last_login: int | None
    last_updated: int
    owner_of: int | None
    planted: bool

    def __init__(self) -> None:
        self.owner_of: int | None = None
        self.planted = False  # a workforce member: random admin roles and sign-ins leave them alone


# --------------------------------------------------------------------------------------------
# The tenant
# --------------------------------------------------------------------------------------------


class OktaTenant:
    """All generated data for one Okta tenant. Pure data: no HTTP, no auth."""

    def __init__(
        self,
        *,
        name: str,
        seed: int,
        users: int,
        options: OktaOptions,
        anchor: datetime,
        link_base: str,
    ):
        self.name = name
        self.seed = seed
        self.options = options
        self.link_base = link_base  # ORIGIN_MARKER + "/okta/{tenant}"
        self.anchor = anchor.astimezone(UTC)
        self.anchor_ms = round(self.anchor.timestamp() * 1000)
        self.window_start_ms = self.anchor_ms - options.history_days * DAY_MS
        self.workforce = workforce_of(options)
        self.domain = options.domain or (self.workforce.domain if self.workforce else f"{name}.example.com")
        self.planted_ips: dict[tuple[int, int], str] = {}  # (published ms, actor) -> the planted source IP
        self.api_tokens = (
            options.api_tokens
            if options.api_tokens is not None
            else [ApiTokenSpec(token=f"sandbox-okta-{name}-admin", roles=["SUPER_ADMIN"])]
        )
        self._ids = _Ids(FastRandom(f"okta-ids:{seed}"))
        self.org_id = self._ids("00o")
        self.user_type_id = self._ids("oty")
        self.user_schema_id = self._ids("osc")
        self._make_users(FastRandom(f"okta-users:{seed}"), max(users, len(self.api_tokens)))
        if options.hostile_share:
            self._make_hostile(FastRandom(f"okta-hostile:{seed}"), options.hostile_share)
        self._make_apps()
        self._make_groups(FastRandom(f"okta-groups:{seed}"))
        self._make_roles(FastRandom(f"okta-roles:{seed}"))
        self._make_grants(FastRandom(f"okta-grants:{seed}"))
        if self.workforce:
            self._workforce_grants()
        self._make_events(FastRandom(f"okta-events:{seed}"))
        self._finish_users()
        self._finish_user_lists()
        self._finish_groups()
        # "live" state, moved by saaslens_sandbox.okta.live.advance()
        self.live_since_ms = self.anchor_ms
        self.advance_count = 0
        self.advances: list[dict[str, Any]] = []
        self.next_seq = len(self.ev_ts)
        self.ev_added: dict[int, int] = {}  # seq -> visible_at ms, for every event advance() added
        self.ev_pending: dict[int, tuple[int, int]] = {}  # seq -> (published, visible_at) not yet visible
        self.revoked_grants: set[int] = set()  # grants revoked (or forgotten) since: gone from every listing
        # the security configuration (saaslens_sandbox.okta.settings), drawn from its own random stream
        self.settings = okta_settings.generate(self)
        self.setting_targets: list[tuple[str, list[dict[str, Any]]]] = []  # (request URI, targets) per change

    # ---------------------------------------------------------------- users

    def _make_users(self, rng: FastRandom, n: int) -> None:
        anchor = self.anchor_ms // 1000 * 1000
        hist = self.options.history_days * DAY_MS
        n_owners = len(self.api_tokens)
        rest = n - n_owners
        statuses: list[str] = []
        for status, share in _STATUS_SHARE.items():
            count = round(rest * share)
            if rest >= 8:
                count = max(1, count)
            statuses += [status] * count
        statuses = statuses[:rest]
        statuses += ["ACTIVE"] * (rest - len(statuses))
        rng.shuffle(statuses)
        statuses = ["ACTIVE"] * n_owners + statuses

        recs: list[UserRec] = []
        logins: set[str] = set()
        for i, status in enumerate(statuses):
            u = UserRec()
            u.id = self._ids("00u")
            if i < n_owners:
                tok = self.api_tokens[i]
                u.first, u.last = "Okta", "Admin" if i == 0 else f"Admin {i + 1}"
                login = tok.user_login or (
                    f"okta.admin@{self.domain}" if i == 0 else f"okta.admin{i + 1}@{self.domain}"
                )
                u.owner_of = i
            else:
                uni = rng.random() < 0.08
                u.first = rng.pick(UNICODE_FIRST) if uni and rng.random() < 0.6 else rng.pick(FIRST_NAMES)
                u.last = rng.pick(UNICODE_LAST) if uni else rng.pick(LAST_NAMES)
                base = f"{_ascii(u.first) or 'user'}.{_ascii(u.last) or 'x'}"
                login = f"{base}@{self.domain}"
                k = 2
                while login.lower() in logins:
                    login = f"{base}{k}@{self.domain}"
                    k += 1
            logins.add(login.lower())
            u.login = u.email = login
            u.display = f"{u.first} {u.last}"
            u.status = status
            u.department = DEPARTMENTS[rng.fr(len(DEPARTMENTS))] if i >= n_owners else "IT"
            u.title = f"{rng.pick(TITLES)}" if i >= n_owners else "IT Administrator"
            u.employee_number = f"{100000 + i}"
            u.mobile = f"+1 555 {rng.fr(1000000):07d}" if rng.random() < 0.55 else None
            u.home = rng.fr(len(LOCATIONS))
            u.ua = rng.choices(range(len(USER_AGENTS)), weights=(30, 25, 12, 6, 14, 8, 5))[0]
            u.federated = i >= n_owners and rng.random() < 0.05
            u.recovery_q = rng.random() < 0.3

            # --- lifecycle timestamps (seconds precision, like Okta's user objects) ---
            def back(lo_ms: int, hi_ms: int) -> int:
                return anchor - rng.fr(lo_ms, max(lo_ms + 1, hi_ms)) // 1000 * 1000

            recent = i >= n_owners and rng.random() < 0.04
            created = back(0, hist) if recent else back(hist, 4 * 365 * DAY_MS)
            if i < n_owners:
                created = back(400 * DAY_MS, 900 * DAY_MS)
            activated = status_changed = last_login = pw_changed = None

            def between(lo: int, hi: int) -> int:
                return lo if hi <= lo else (lo + rng.fr(hi - lo + 1)) // 1000 * 1000

            if status == "STAGED":
                pass
            else:
                activated = min(anchor, created + rng.fr(0, 2 * DAY_MS) // 1000 * 1000)
                status_changed = activated
                if status == "PROVISIONED":
                    pass
                else:
                    if not u.federated:
                        pw_changed = between(activated, anchor if status == "ACTIVE" else activated + 90 * DAY_MS)
                        pw_changed = min(pw_changed, anchor)
                    horizon = anchor
                    if status == "ACTIVE":
                        if rng.random() < 0.12:
                            status_changed = between(activated, anchor)  # e.g. unlocked/unsuspended
                    elif status == "DEPROVISIONED":
                        status_changed = max(activated, back(0, 180 * DAY_MS))
                        horizon = status_changed
                    elif status == "SUSPENDED":
                        status_changed = max(activated, back(0, 60 * DAY_MS))
                        horizon = status_changed
                    elif status == "LOCKED_OUT":
                        status_changed = max(activated, back(0, 2 * hist))
                        horizon = status_changed
                    elif status in ("RECOVERY", "PASSWORD_EXPIRED"):
                        status_changed = max(activated, back(0, 30 * DAY_MS))
                        horizon = status_changed
                    if pw_changed is not None and pw_changed > status_changed:
                        pw_changed = between(activated, status_changed)
                    # last sign-in: most active users signed in recently, some never did
                    if rng.random() < 0.93:
                        if status == "ACTIVE" and rng.random() < 0.8:
                            last_login = max(activated, back(0, 30 * DAY_MS))
                        else:
                            last_login = between(activated, horizon)
                        last_login = min(last_login, horizon)
            updates = [created, status_changed or created, pw_changed or created]
            if rng.random() < 0.35:  # a profile edit
                updates.append(between(created, anchor))
            u.created, u.activated, u.status_changed = created, activated, status_changed
            u.last_login, u.password_changed = last_login, pw_changed
            u.last_updated = max(updates)
            recs.append(u)

        if self.workforce:
            recs += self._workforce_recs(logins, len(recs))
        recs.sort(key=lambda r: r.id)  # Okta lists users in id order
        self.urecs = recs
        self.user_ids = [u.id for u in recs]
        self.user_index = {u.id: i for i, u in enumerate(recs)}
        self.login_index = {u.login.lower(): i for i, u in enumerate(recs)}
        self.owner_index = {u.owner_of: i for i, u in enumerate(recs) if u.owner_of is not None}

    def _make_hostile(self, rng: FastRandom, share: float) -> None:
        """Give a share of non-admin users hostile names and very long or null attributes.

        Logins stay ASCII (Okta requires an email-like login); a separate random stream keeps the
        rest of the tenant identical to one without hostile values."""
        for u in self.urecs:
            if u.owner_of is not None or rng.random() >= share:
                continue
            u.first = rng.pick(HOSTILE_FIRST)
            u.last = rng.pick(HOSTILE_LAST)
            u.display = f"{u.first} {u.last}"
            variant = rng.fr(3)
            if variant == 0:  # null optional attributes, as Okta returns them when unset
                u.title = u.department = u.mobile = None
            elif variant == 1:
                u.title = ("Principal " + "🚀 Very Long Title " * 220)[:4000]
            else:
                u.title = '\u202eReverse\u202c "quoted", comma; semicolon\x7f'

    def _workforce_recs(self, logins: set[str], first_number: int) -> list[UserRec]:
        """Users for the workforce's plan (saaslens_sandbox.workforce) with its statuses and last
        sign-ins; ids come from a hash of the email, not the id stream."""
        assert self.workforce is not None
        recs = []
        anchor = self.anchor_ms // 1000 * 1000
        for k, planned in enumerate(self.workforce.plan_for("okta")):
            person = planned.person
            if planned.email.lower() in logins:
                raise ValueError(f"workforce login {planned.email} collides with a generated Okta user")
            logins.add(planned.email.lower())
            u = UserRec()
            u.id = "00u" + _b62(stable_digest("okta-user", self.seed, planned.email), 17)
            self._ids.seen.add(u.id)
            u.planted = True
            u.first, u.last, u.display = person.first, person.last, person.display
            u.login = u.email = planned.email
            u.status = {"active": "ACTIVE", "suspended": "SUSPENDED", "deprovisioned": "DEPROVISIONED"}[planned.status]
            u.department, u.title = person.department, person.title
            u.employee_number = f"{100000 + first_number + k}"
            u.mobile, u.home, u.ua, u.federated, u.recovery_q = None, 0, 0, False, False
            u.created = days_before(anchor, planned.created_days)
            u.activated = u.password_changed = u.created + DAY_MS
            u.last_login = days_before(anchor, planned.last_login_days)
            u.status_changed = u.activated
            if planned.status != "active":  # a leaver: cut off a day after their last sign-in
                u.status_changed = min(anchor, max(u.activated, (u.last_login or u.activated) + DAY_MS))
            u.last_updated = u.status_changed
            recs.append(u)
        return recs

    def _workforce_grants(self) -> None:
        """The plan's consent grants (one per planned scope) to the first OIDC app, 30 days old."""
        assert self.workforce is not None
        for planned in self.workforce.plan_for("okta"):
            ui = self.login_index[planned.email]
            for scope in planned.grant_scopes:
                self.user_grants[ui].append(len(self.grants))
                self.grants.append(
                    {
                        "id": self._ids("oag"),
                        "user": ui,
                        "app": self.oidc_apps[0],
                        "scope": scope,
                        "created": max(self.urecs[ui].activated, self.anchor_ms // 1000 * 1000 - 30 * DAY_MS),
                        "source": "END_USER",
                        "by": ui,
                    }
                )

    def _workforce_failures(self) -> list[tuple[int, tuple[int, ...], int, int]]:
        """The plan's failed password sign-ins: a spike on one account and a spray from one IP."""
        assert self.workforce is not None
        rows: list[tuple[int, tuple[int, ...], int, int]] = []
        for ts, person, spray in failed_sign_in_times(self.workforce, self.anchor_ms):
            ui = self.login_index[person.email]
            rows.append((ts, (K_LOGIN_FAIL,), ui, 0))
            if spray:
                self.planted_ips[(ts, ui)] = self.workforce.failed_sign_ins.spray_ip
        return rows

    # ---------------------------------------------------------------- apps

    def _make_apps(self) -> None:
        self.apps: list[dict[str, Any]] = []
        for label, name, mode, oidc in APPS:
            self.apps.append({"id": self._ids("0oa"), "label": label, "name": name, "signOnMode": mode, "oidc": oidc})
        self.sso_apps = [i for i, a in enumerate(self.apps) if a["signOnMode"] == "SAML_2_0"]
        self.oidc_apps = [i for i, a in enumerate(self.apps) if a["oidc"]]
        self.policies = [{"id": self._ids("00p"), "name": n, "type": t} for n, t in POLICIES]
        self.token_ids = [self._ids("00T") for _ in self.api_tokens]

    # ---------------------------------------------------------------- groups

    def _make_groups(self, rng: FastRandom) -> None:
        n = len(self.urecs)
        anchor = self.anchor_ms // 1000 * 1000
        n_okta = self.options.groups if self.options.groups is not None else min(400, max(6, round(n / 40)))
        n_app = self.options.app_groups if self.options.app_groups is not None else min(50, max(2, round(n / 200)))
        names: list[str] = ["Okta Administrators", "Help Desk", *DEPARTMENTS, *EXTRA_GROUPS]
        names += [f"{d} - {q}" for q in QUALIFIERS for d in DEPARTMENTS]
        names = names[:n_okta] + [f"Team {k}" for k in range(max(0, n_okta - len(names)))]
        ad_app = self.apps[0]["id"]

        groups: list[dict[str, Any]] = []
        created0 = anchor - 5 * 365 * DAY_MS
        groups.append(
            {
                "kind": "BUILT_IN",
                "name": "Everyone",
                "description": "All users in your organization",
                "id": self._ids("00g"),
                "created": created0,
                "updated": created0,
            }
        )
        for name in names:
            c = anchor - rng.fr(30 * DAY_MS, 4 * 365 * DAY_MS) // 1000 * 1000
            groups.append(
                {
                    "kind": "OKTA_GROUP",
                    "name": name,
                    "description": f"{name} group",
                    "id": self._ids("00g"),
                    "created": c,
                    "updated": c + rng.fr(0, anchor - c) // 1000 * 1000,
                }
            )
        for k in range(n_app):
            base = [
                "Domain Users",
                "VPN-Access",
                "File-Share-RW",
                "Print-Operators",
                "SQL-Readers",
                "Remote-Desktop",
                "Finance-Share",
                "Eng-Build",
                "Backup-Operators",
                "Helpdesk-Tier2",
            ]
            cn = base[k % len(base)] + ("" if k < len(base) else f"-{k // len(base)}")
            c = anchor - rng.fr(60 * DAY_MS, 5 * 365 * DAY_MS) // 1000 * 1000
            groups.append(
                {
                    "kind": "APP_GROUP",
                    "name": cn,
                    "description": f"{cn} (synced from AD)",
                    "id": self._ids("00g"),
                    "created": c,
                    "updated": c + rng.fr(0, anchor - c) // 1000 * 1000,
                    "source": ad_app,
                    "cn": cn,
                }
            )
        self.gdefs = groups
        self.group_ids = [g["id"] for g in groups]

        members: list[set[int]] = [set() for _ in groups]
        members[0] = set(range(n))
        by_name = {g["name"]: gi for gi, g in enumerate(groups) if g["kind"] == "OKTA_GROUP"}
        okta_groups = [gi for gi, g in enumerate(groups) if g["kind"] == "OKTA_GROUP"]
        app_groups = [gi for gi, g in enumerate(groups) if g["kind"] == "APP_GROUP"]
        extra_pool = [gi for gi in okta_groups if groups[gi]["name"] not in ("Okta Administrators", "Help Desk")]
        for ui, u in enumerate(self.urecs):
            gi = by_name.get(u.department)
            if gi is not None:
                members[gi].add(ui)
            for _ in range(rng.choices((0, 1, 2, 3), weights=(35, 35, 20, 10))[0]):
                if extra_pool:
                    members[rng.pick(extra_pool)].add(ui)
            if app_groups and rng.random() < 0.4:
                for _ in range(rng.pick((1, 1, 2))):
                    members[rng.pick(app_groups)].add(ui)
        self.members = [sorted(m) for m in members]
        self.user_groups: list[list[int]] = [[] for _ in self.urecs]
        for gi, m in enumerate(self.members):
            for ui in m:
                self.user_groups[ui].append(gi)
        self.okta_group_idx = okta_groups
        self.group_index = {g: i for i, g in enumerate(self.group_ids)}
        self.group_last_membership = [g["updated"] for g in groups]
        for gi in range(len(groups)):
            if gi == 0:
                self.group_last_membership[gi] = max((u.created for u in self.urecs), default=created0)
            else:
                c = groups[gi]["created"]
                self.group_last_membership[gi] = c + rng.fr(0, anchor - c + 1) // 1000 * 1000

    # ---------------------------------------------------------------- roles

    def _make_roles(self, rng: FastRandom) -> None:
        anchor = self.anchor_ms // 1000 * 1000
        hist = self.options.history_days * DAY_MS
        assignments: list[dict[str, Any]] = []
        role: str  # a RoleType from a token, or a name from the tables below

        def add(role: str, kind: str, who: int, created: int) -> None:
            assignments.append(
                {
                    "id": self._ids("ra" if kind == "USER" else "gra"),
                    "type": role,
                    "assignmentType": kind,
                    "who": who,
                    "created": created,
                }
            )

        for j, tok in enumerate(self.api_tokens):
            ui = self.owner_index[j]
            for role in dict.fromkeys(tok.roles):
                add(role, "USER", ui, self.urecs[ui].created + DAY_MS)
        # groups holding roles (assignmentType GROUP)
        group_roles = {"Okta Administrators": "ORG_ADMIN", "Help Desk": "HELP_DESK_ADMIN"}
        for gi, g in enumerate(self.gdefs):
            role = group_roles.get(g["name"])
            if role:
                add(role, "GROUP", gi, g["created"] + DAY_MS)
                # a few members for the admin groups
                pool = [
                    ui
                    for ui, u in enumerate(self.urecs)
                    if u.status == "ACTIVE" and u.owner_of is None and not u.planted
                ]
                for ui in rng.sample(pool, min(len(pool), 2 + len(self.urecs) // 400)):
                    if ui not in self.members[gi]:
                        self.members[gi].append(ui)
                        self.user_groups[ui].append(gi)
                self.members[gi].sort()
        # individually assigned admins: ~1% of users, a few of them no longer ACTIVE (stale admins)
        candidates = [ui for ui, u in enumerate(self.urecs) if u.owner_of is None and u.activated and not u.planted]
        k = min(len(candidates), max(3, len(self.urecs) // 100)) if len(candidates) >= 3 else len(candidates)
        roles = (
            "SUPER_ADMIN",
            "ORG_ADMIN",
            "READ_ONLY_ADMIN",
            "APP_ADMIN",
            "USER_ADMIN",
            "HELP_DESK_ADMIN",
            "REPORT_ADMIN",
            "GROUP_MEMBERSHIP_ADMIN",
        )
        weights = (1, 3, 4, 3, 3, 4, 1, 1)
        for n, ui in enumerate(rng.sample(candidates, max(k, min(len(candidates), 6)))):
            picked = rng.choices(roles, weights=weights, k=rng.pick((1, 1, 2)))
            if n < 6:  # the first six cover the six most common standard roles
                picked[0] = roles[n]
            for role in dict.fromkeys(picked):
                u = self.urecs[ui]
                lo = u.activated or u.created
                hi = u.status_changed if u.status != "ACTIVE" and u.status_changed else anchor
                created = hi - hist // 2 if rng.random() < 0.15 else lo + rng.fr(0, max(1, hi - lo))
                add(role, "USER", ui, max(lo, min(hi, created)) // 1000 * 1000)
        if self.workforce:  # the plan's admins: SUPER_ADMIN for the admin of every app, else ORG_ADMIN
            for planned in self.workforce.plan_for("okta"):
                if planned.admin:
                    ui = self.login_index[planned.email]
                    role = "SUPER_ADMIN" if planned.person.slot == "admin_everywhere" else "ORG_ADMIN"
                    add(role, "USER", ui, self.urecs[ui].activated + DAY_MS)
        self.roles = assignments
        self.user_roles: list[list[int]] = [[] for _ in self.urecs]  # direct + via group, in order
        for ri, ra in enumerate(assignments):
            if ra["assignmentType"] == "USER":
                self.user_roles[ra["who"]].append(ri)
        for ri, ra in enumerate(assignments):
            if ra["assignmentType"] == "GROUP":
                for ui in self.members[ra["who"]]:
                    self.user_roles[ui].append(ri)
        self.role_holders = [ui for ui, r in enumerate(self.user_roles) if r]
        self.active_admins = [ui for ui in self.role_holders if self.urecs[ui].status == "ACTIVE"]
        self.super_admins = [
            ui
            for ui in self.active_admins
            if any(self.roles[ri]["type"] == "SUPER_ADMIN" for ri in self.user_roles[ui])
        ] or self.active_admins

    # ---------------------------------------------------------------- grants

    def _make_grants(self, rng: FastRandom) -> None:
        anchor = self.anchor_ms // 1000 * 1000
        hist = self.options.history_days * DAY_MS
        self.grants: list[dict[str, Any]] = []
        self.user_grants: list[list[int]] = [[] for _ in self.urecs]
        for ui, u in enumerate(self.urecs):
            if u.status != "ACTIVE" or u.activated is None or rng.random() >= 0.15:
                continue
            for _ in range(rng.pick((1, 1, 2, 3))):
                app = rng.pick(self.oidc_apps)
                scope = rng.pick(CONSENT_SCOPES)
                if rng.random() < 0.1:
                    created = anchor - rng.fr(0, hist) // 1000 * 1000
                else:
                    created = anchor - rng.fr(hist, 365 * DAY_MS) // 1000 * 1000
                created = max(created, u.activated)
                source = "ADMIN" if rng.random() < 0.1 else "END_USER"
                by = ui if source == "END_USER" else (self.super_admins[0] if self.super_admins else ui)
                self.user_grants[ui].append(len(self.grants))
                self.grants.append(
                    {
                        "id": self._ids("oag"),
                        "user": ui,
                        "app": app,
                        "scope": scope,
                        "created": created,
                        "source": source,
                        "by": by,
                    }
                )

    # ---------------------------------------------------------------- System Log

    def _make_events(self, rng: FastRandom) -> None:
        opts = self.options
        n_target = opts.log_events if opts.log_events is not None else round(opts.events_per_user * len(self.urecs))
        ws, anchor = self.window_start_ms, self.anchor_ms
        hist_s = (anchor - ws) // 1000

        def in_window(ms: int | None) -> bool:
            return ms is not None and ws <= ms <= anchor

        def jitter(ms: int) -> int:
            return min(anchor, ms + rng.fr(1000))

        def admin() -> int:
            return rng.pick(self.active_admins) if self.active_admins else -1

        # (ts, kinds, actor, target)
        scen: list[tuple[int, tuple[int, ...], int, int]] = []
        for ui, u in enumerate(self.urecs):
            if in_window(u.created) and u.owner_of is None:
                scen.append((jitter(u.created), (K_CREATE,), admin(), ui))
                if u.activated is not None and u.status != "PROVISIONED":
                    scen.append((jitter(u.activated), (K_ACTIVATE,), admin(), ui))
            if in_window(u.status_changed):
                if u.status == "DEPROVISIONED":
                    scen.append((jitter(u.status_changed), (K_DEACTIVATE,), admin(), ui))
                elif u.status == "SUSPENDED":
                    scen.append((jitter(u.status_changed), (K_SUSPEND,), admin(), ui))
                elif u.status == "LOCKED_OUT":
                    t = jitter(u.status_changed)
                    for k in range(rng.fr(2, 5)):
                        ft = t - (k + 1) * rng.fr(5_000, 90_000)
                        if ft >= ws:
                            scen.append((ft, (K_LOGIN_FAIL,), ui, 0))
                    scen.append((t, (K_LOGIN_FAIL, K_LOCK), ui, ui))
            if in_window(u.last_login):
                scen.append((jitter(u.last_login), (K_MFA, K_LOGIN) if rng.random() < 0.5 else (K_LOGIN,), ui, 0))
        for ri, ra in enumerate(self.roles):
            if ra["assignmentType"] == "USER" and in_window(ra["created"]) and self.urecs[ra["who"]].owner_of is None:
                actor = rng.pick(self.super_admins) if self.super_admins else -1
                scen.append((jitter(ra["created"]), (K_PRIV,), actor, ri))
        for gi, g in enumerate(self.grants):
            if in_window(g["created"]):
                scen.append((jitter(g["created"]), (K_CONSENT,), g["by"], gi))
        for j in range(len(self.api_tokens)):
            t = anchor - (j + 1) * 36 * 3_600_000 - rng.fr(3_600_000)
            if t >= ws:
                scen.append((t, (K_TOKEN,), self.owner_index[j], j))
        rng.shuffle(scen)
        anchored = sum(len(s[1]) for s in scen)
        if anchored > n_target:  # an explicit small log_events: keep a deterministic subset
            kept, total = [], 0
            for s in scen:
                if total + len(s[1]) <= n_target:
                    kept.append(s)
                    total += len(s[1])
            scen, anchored = kept, total

        login_pool = [
            ui
            for ui, u in enumerate(self.urecs)
            if u.status == "ACTIVE" and u.activated is not None and u.activated < ws and not u.planted
        ]
        if not login_pool:
            login_pool = [ui for ui, u in enumerate(self.urecs) if u.status == "ACTIVE" and not u.planted]
        fail_pool = [ui for ui, u in enumerate(self.urecs) if u.status != "DEPROVISIONED" and u.activated]
        add_pairs = [
            (gi, ui) for gi in self.okta_group_idx for ui in self.members[gi] if self.urecs[ui].activated is not None
        ]
        weights = [w for w, _ in _RANDOM_SCENARIOS]
        kinds_list = [k for _, k in _RANDOM_SCENARIOS]
        remaining = n_target - anchored
        rnd = rng.random
        span = hist_s * 1000 + 1
        n_login, n_fail, n_pairs, n_sso = len(login_pool), len(fail_pool), len(add_pairs), len(self.sso_apps)
        user_kinds = (K_LOGIN, K_MFA, K_SSO, K_SSO_DENY, K_LOGIN_DENY)
        append = scen.append
        while remaining > 0 and login_pool:
            for pi in rng.choices(range(len(kinds_list)), weights=weights, k=4096):
                if remaining <= 0:
                    break
                kinds = kinds_list[pi]
                first = kinds[0]
                ts = ws + int(rnd() * span)
                target = 0
                if first in user_kinds:
                    actor = login_pool[int(rnd() * n_login)]
                    if first in (K_SSO, K_SSO_DENY):
                        target = self.sso_apps[int(rnd() * n_sso)]
                elif first in (K_LOGIN_FAIL, K_MFA_FAIL):
                    actor = fail_pool[int(rnd() * n_fail)] if fail_pool else login_pool[0]
                elif first == K_LOGIN_UNKNOWN:
                    actor, target = -1, int(rnd() * len(UNKNOWN_USERNAMES))
                elif first == K_GROUP_ADD:
                    if not add_pairs or not self.active_admins:
                        continue
                    gi, ui = add_pairs[int(rnd() * n_pairs)]
                    actor, target = admin(), gi * GU_SHIFT + ui
                elif first == K_GROUP_REMOVE:
                    if not self.okta_group_idx or not self.active_admins:
                        continue
                    gi = rng.pick(self.okta_group_idx)
                    ui = login_pool[int(rnd() * n_login)]
                    if ui in self.members[gi]:
                        continue
                    actor, target = admin(), gi * GU_SHIFT + ui
                else:  # K_POLICY
                    if not self.active_admins:
                        continue
                    actor, target = admin(), rng.fr(len(self.policies))
                if len(kinds) > remaining:
                    kinds = kinds[:remaining]
                append((ts, kinds, actor, target))
                remaining -= len(kinds)

        scen += self._tie_runs(FastRandom(f"okta-ties:{self.seed}"), login_pool, span)
        if self.workforce:
            scen += self._workforce_failures()
        scen.sort()
        ts_l: list[int] = []
        kind_l: list[int] = []
        actor_l: list[int] = []
        target_l: list[int] = []
        last_login = [u.last_login or 0 for u in self.urecs]
        last_membership = self.group_last_membership
        for ts, kinds, actor, target in scen:
            for k in kinds:
                ts_l.append(ts)
                kind_l.append(k)
                actor_l.append(actor)
                target_l.append(target)
                if k == K_LOGIN:
                    if actor >= 0 and ts - ts % 1000 > last_login[actor]:
                        last_login[actor] = ts - ts % 1000
                elif k in (K_GROUP_ADD, K_GROUP_REMOVE):
                    gi = target // GU_SHIFT
                    if ts - ts % 1000 > last_membership[gi]:
                        last_membership[gi] = ts - ts % 1000
        ts_arr, kind_arr = array("q", ts_l), array("B", kind_l)
        actor_arr, target_arr = array("i", actor_l), array("q", target_l)
        del ts_l, kind_l, actor_l, target_l, scen
        for ui, u in enumerate(self.urecs):
            if last_login[ui]:
                u.last_login = last_login[ui]
        self.ev_ts, self.ev_kind, self.ev_actor, self.ev_target = ts_arr, kind_arr, actor_arr, target_arr
        self.ev_seq = array("q", range(len(ts_arr)))  # creation order: the uuid's source
        self._uuid_cache: tuple[int, int, list[str]] = (-1, -1, [])
        self._home_cache: dict[int, tuple[Any, ...]] = {}

    def _tie_runs(self, rng: FastRandom, pool: list[int], span: int) -> list[tuple[int, tuple[int, ...], int, int]]:
        """``tie_runs`` runs of ``tie_run_length`` SSO events sharing one millisecond (a batch of
        sign-ins processed together), from their own random stream."""
        runs: list[tuple[int, tuple[int, ...], int, int]] = []
        if not pool or not self.sso_apps:
            return runs
        for _ in range(self.options.tie_runs):
            ts = self.window_start_ms + rng.fr(span)
            for _ in range(self.options.tie_run_length):
                runs.append((ts, (K_SSO,), rng.pick(pool), rng.pick(self.sso_apps)))
        return runs

    # ---------------------------------------------------------------- served documents

    def _finish_users(self) -> None:
        self.users: list[dict[str, Any]] = [self.user_doc(u) for u in self.urecs]
        #: indexes of users deleted by advance(): gone from every listing, kept so old events render
        self.deleted: set[int] = set()

    def user_doc(self, u: UserRec) -> dict[str, Any]:
        """The served User object for a user record."""
        lb = self.link_base
        profile: dict[str, Any] = {
            "firstName": u.first,
            "lastName": u.last,
            "mobilePhone": u.mobile,
            "secondEmail": None,
            "login": u.login,
            "email": u.email,
            "displayName": u.display,
            "title": u.title,
            "department": u.department,
            "employeeNumber": u.employee_number,
            "city": LOCATIONS[u.home].city,
            "countryCode": LOCATIONS[u.home].country_code,
            "timezone": LOCATIONS[u.home].timezone,
            "userType": "Employee",
        }
        creds: dict[str, Any] = {}
        if u.federated:
            creds["provider"] = {"type": "FEDERATION", "name": "FEDERATION"}
        else:
            if u.password_changed is not None:
                creds["password"] = {}
            if u.recovery_q and u.password_changed is not None:
                creds["recovery_question"] = {"question": "What is the food you least liked as a child?"}
            creds["provider"] = {"type": "OKTA", "name": "OKTA"}
        return {
            "id": u.id,
            "status": u.status,
            "created": iso(u.created),
            "activated": iso(u.activated),
            "statusChanged": iso(u.status_changed),
            "lastLogin": iso(u.last_login),
            "lastUpdated": iso(u.last_updated),
            "passwordChanged": iso(u.password_changed),
            "type": {"id": self.user_type_id},
            "profile": profile,
            "credentials": creds,
            "_links": {"self": {"href": f"{lb}/api/v1/users/{u.id}"}},
        }

    def _finish_user_lists(self) -> None:
        self.user_status = [u.status for u in self.urecs]
        self.user_last_updated = [u.last_updated for u in self.urecs]

    def _finish_groups(self) -> None:
        lb = self.link_base
        self.groups: list[dict[str, Any]] = []
        for gi, g in enumerate(self.gdefs):
            profile: dict[str, Any] = {"name": g["name"], "description": g["description"]}
            object_class = ["okta:user_group"]
            links: dict[str, Any] = {}
            if g["kind"] == "APP_GROUP":
                dn = f"CN={g['cn']},OU=Groups,DC={self.name},DC=example,DC=com"
                profile.update(
                    {
                        "windowsDomainQualifiedName": f"{self.name.upper()}\\{g['cn']}",
                        "samAccountName": g["cn"],
                        "dn": dn,
                        "externalId": hashlib.blake2b(dn.encode(), digest_size=12).hexdigest(),
                        "groupType": "Security",
                        "groupScope": "Global",
                    }
                )
                object_class = ["okta:windows_security_principal"]
                links["source"] = {"href": f"{lb}/api/v1/apps/{g['source']}"}
            links["users"] = {"href": f"{lb}/api/v1/groups/{g['id']}/users"}
            links["apps"] = {"href": f"{lb}/api/v1/groups/{g['id']}/apps"}
            self.groups.append(
                {
                    "id": g["id"],
                    "created": iso(g["created"]),
                    "lastUpdated": iso(g["updated"]),
                    "lastMembershipUpdated": iso(max(self.group_last_membership[gi], g["created"])),
                    "objectClass": object_class,
                    "type": g["kind"],
                    "profile": profile,
                    "_links": links,
                }
            )
        self.group_type = [g["kind"] for g in self.gdefs]

    def role_doc(self, ri: int) -> dict[str, Any]:
        ra = self.roles[ri]
        lb = self.link_base
        if ra["assignmentType"] == "USER":
            assignee = f"{lb}/api/v1/users/{self.user_ids[ra['who']]}"
        else:
            assignee = f"{lb}/api/v1/groups/{self.group_ids[ra['who']]}"
        return {
            "id": ra["id"],
            "label": ROLE_LABELS[ra["type"]],
            "type": ra["type"],
            "status": "ACTIVE",
            "created": iso(ra["created"]),
            "lastUpdated": iso(ra["created"]),
            "assignmentType": ra["assignmentType"],
            "_links": {"assignee": {"href": assignee}},
        }

    def grant_doc(self, gi: int, expand_scope: bool = False) -> dict[str, Any]:
        g = self.grants[gi]
        lb = self.link_base
        uid = self.user_ids[g["user"]]
        app = self.apps[g["app"]]
        doc: dict[str, Any] = {
            "id": g["id"],
            "status": "ACTIVE",
            "created": iso(g["created"]),
            "createdBy": {"id": self.user_ids[g["by"]], "type": "User"},
            "lastUpdated": iso(g["created"]),
            "issuer": lb,
            "clientId": app["id"],
            "userId": uid,
            "scopeId": g["scope"],
            "source": g["source"],
        }
        if expand_scope:
            doc["_embedded"] = {"scope": {"id": g["scope"]}}
        doc["_links"] = {
            "app": {"href": f"{lb}/api/v1/apps/{app['id']}", "title": app["label"]},
            "client": {"href": f"{lb}/oauth2/v1/clients/{app['id']}", "title": app["label"]},
            "self": {"href": f"{lb}/api/v1/users/{uid}/grants/{g['id']}", "hints": {"allow": ["GET", "DELETE"]}},
            "user": {"href": f"{lb}/api/v1/users/{uid}", "title": self.urecs[g["user"]].display},
        }
        return doc

    def assignee_doc(self, ui: int) -> dict[str, Any]:
        uid = self.user_ids[ui]
        lb = self.link_base
        return {
            "id": uid,
            "orn": f"orn:okta:directory:{self.org_id}:users:{uid}",
            "_links": {
                "self": {"href": f"{lb}/api/v1/users/{uid}"},
                "roles": {"href": f"{lb}/api/v1/users/{uid}/roles"},
            },
        }

    # ---------------------------------------------------------------- System Log rendering

    @property
    def event_count(self) -> int:
        return len(self.ev_ts)

    def _raw_uuid(self, i: int) -> str:
        b = bytearray(hashlib.blake2b(b"%d:u:%d" % (self.seed, i), digest_size=16).digest())
        b[6] = (b[6] & 0x0F) | 0x40  # version 4
        b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
        h = b.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def uuid_at(self, i: int) -> str:
        """The uuid of the event at position i; ascending within a run of equal timestamps.

        Derived from the event's sequence number (its creation order), not its position, so an
        event keeps its uuid when later (late) events are inserted before it."""
        ts = self.ev_ts[i]
        lo, hi, cached = self._uuid_cache
        if not (lo <= i < hi):
            lo = bisect.bisect_left(self.ev_ts, ts, 0, i + 1)
            hi = bisect.bisect_right(self.ev_ts, ts, i)
            if hi - lo == 1:
                return self._raw_uuid(self.ev_seq[i])
            cached = sorted(self._raw_uuid(self.ev_seq[k]) for k in range(lo, hi))
            self._uuid_cache = (lo, hi, cached)
        return cached[i - lo]

    def event_actor_login(self, i: int) -> tuple[str, str, str]:
        """(actor id, alternateId, displayName) without rendering the whole event."""
        a = self.ev_actor[i]
        if a < 0:
            if self.ev_kind[i] == K_LOGIN_UNKNOWN:
                return "unknown", f"{UNKNOWN_USERNAMES[self.ev_target[i]]}@{self.domain}", "unknown"
            return "unknown", "unknown", "unknown"
        u = self.urecs[a]
        return u.id, u.login, u.display

    def _client_parts(self, loc: Location, ua: tuple[str, str, str, str], ip: str) -> tuple[Any, Any, Any]:
        geo = _GEO[loc]
        client = {
            "userAgent": {"rawUserAgent": ua[0], "os": ua[1], "browser": ua[2]},
            "zone": "null",
            "device": ua[3],
            "id": None,
            "ipAddress": ip,
            "geographicalContext": geo,
        }
        request = {"ipChain": [{"ip": ip, "geographicalContext": geo, "version": "V4", "source": None}]}
        return client, _SECURITY[loc], request

    def _home(self, a: int) -> tuple[Any, ...]:
        """Per-user parts shared by that user's ordinary events (cached, bounded)."""
        parts = self._home_cache.get(a)
        if parts is None:
            u = self.urecs[a]
            loc = LOCATIONS[u.home]
            ip = f"{loc.ip_prefix}.{1 + int(u.employee_number) % 254}"
            actor = {"id": u.id, "type": "User", "alternateId": u.login, "displayName": u.display, "detailEntry": None}
            parts = (actor, *self._client_parts(loc, USER_AGENTS[u.ua], ip))
            if len(self._home_cache) > 50_000:
                self._home_cache.clear()
            self._home_cache[a] = parts
        return parts

    def render_event(self, i: int) -> dict[str, Any]:
        """The LogEvent at position ``i`` (deterministic; hrefs-free so no origin is needed)."""
        ts = self.ev_ts[i]
        k = self.ev_kind[i]
        kind = KINDS[k]
        a = self.ev_actor[i]
        t = self.ev_target[i]
        h = hashlib.blake2b(b"%d:%d:%d" % (self.seed, ts, a), digest_size=32).digest()
        planted_ip = self.planted_ips.get((ts, a)) if self.planted_ips else None
        anomaly = a < 0 or h[0] % 40 == 0 or planted_ip is not None
        if anomaly:
            loc = ANOMALY_LOCATIONS[2 if planted_ip else h[1] % 3]  # a spray comes through a Tor exit
            ua = ANOMALY_AGENT if (a < 0 or h[2] % 3 == 0 or planted_ip) else USER_AGENTS[self.urecs[a].ua]
            actor_id, alt_id, display = self.event_actor_login(i)
            actor = {"id": actor_id, "type": "User", "alternateId": alt_id, "displayName": display, "detailEntry": None}
            ip = planted_ip or f"{loc.ip_prefix}.{1 + h[8] % 254}"
            client, security, request = self._client_parts(loc, ua, ip)
        else:
            actor, client, security, request = self._home(a)
            alt_id, display = actor["alternateId"], actor["displayName"]
        b64 = base64.b64encode(h, altchars=b"Az").decode("ascii")
        debug: dict[str, Any] = {"requestId": b64[12:39]}
        auth_ctx: dict[str, Any] = {
            "authenticationProvider": None,
            "credentialProvider": None,
            "credentialType": None,
            "issuer": None,
            "interface": None,
            "authenticationStep": 0,
            "externalSessionId": "102" + b64[:22],
        }
        uri = kind.uri
        targets: list[dict[str, Any]] | None = None
        tk = kind.target
        if tk == "app":
            app = self.apps[t]
            uri = uri.replace("{app}", app["name"])
            app_user = (
                "0ua"
                + base64.b64encode(
                    hashlib.blake2b(f"{app['id']}:{actor['id']}".encode(), digest_size=15).digest(), altchars=b"Az"
                ).decode("ascii")[:17]
            )
            targets = [
                {
                    "id": app["id"],
                    "type": "AppInstance",
                    "alternateId": app["label"],
                    "displayName": app["label"],
                    "detailEntry": {"signOnModeType": app["signOnMode"]},
                },
                {"id": app_user, "type": "AppUser", "alternateId": alt_id, "displayName": display, "detailEntry": None},
            ]
        elif tk == "user" or tk == "role_user":
            tu = self.urecs[t if tk == "user" else self.roles[t]["who"]]
            uri = uri.replace("{user}", tu.id)
            targets = [
                {"id": tu.id, "type": "User", "alternateId": tu.login, "displayName": tu.display, "detailEntry": None}
            ]
            if tk == "role_user":
                debug["privilegeGranted"] = ROLE_LABELS[self.roles[t]["type"]]
        elif tk == "group_user":
            gi, ui = divmod(t, GU_SHIFT)
            tu = self.urecs[ui]
            g = self.gdefs[gi]
            uri = uri.replace("{group}", g["id"]).replace("{user}", tu.id)
            targets = [
                {"id": tu.id, "type": "User", "alternateId": tu.login, "displayName": tu.display, "detailEntry": None},
                {
                    "id": g["id"],
                    "type": "UserGroup",
                    "alternateId": "unknown",
                    "displayName": g["name"],
                    "detailEntry": None,
                },
            ]
        elif tk == "consent":
            g = self.grants[t]
            app = self.apps[g["app"]]
            tu = self.urecs[g["user"]]
            uri = uri.replace("{user}", tu.id)
            targets = [
                {
                    "id": app["id"],
                    "type": "AppInstance",
                    "alternateId": app["label"],
                    "displayName": app["label"],
                    "detailEntry": None,
                },
                {"id": tu.id, "type": "User", "alternateId": tu.login, "displayName": tu.display, "detailEntry": None},
            ]
            debug["grantedScopes"] = g["scope"]
        elif tk == "policy":
            pol = self.policies[t]
            uri = uri.replace("{policy}", pol["id"])
            targets = [
                {
                    "id": pol["id"],
                    "type": "PolicyEntity",
                    "alternateId": "unknown",
                    "displayName": pol["name"],
                    "detailEntry": {"policyType": pol["type"]},
                }
            ]
        elif tk == "token":
            spec = self.api_tokens[t]
            targets = [
                {
                    "id": self.token_ids[t],
                    "type": "Token",
                    "alternateId": "unknown",
                    "displayName": spec.name or f"sandbox token {t + 1}",
                    "detailEntry": None,
                }
            ]
        elif tk == "setting":
            uri, stored = self.setting_targets[t]
            targets = [dict(target) for target in stored]
        elif k in (K_MFA, K_MFA_FAIL):
            auth_ctx["authenticationProvider"] = "FACTOR_PROVIDER"
            auth_ctx["credentialProvider"] = "OKTA_CREDENTIAL_PROVIDER"
            auth_ctx["credentialType"] = "OTP"
            debug["factor"] = "OKTA_VERIFY_PUSH"
            debug["behaviors"] = _BEHAVIORS[anomaly]
            debug["risk"] = "{level=HIGH}" if anomaly else "{level=LOW}"
        elif k <= K_LOGIN_DENY:  # user.session.start
            auth_ctx["authenticationProvider"] = "OKTA_AUTHENTICATION_PROVIDER"
            auth_ctx["credentialType"] = "PASSWORD"
            debug["behaviors"] = _BEHAVIORS[anomaly]
            debug["risk"] = "{level=HIGH}" if anomaly else "{level=LOW}"
        debug["requestUri"] = uri
        debug["url"] = uri + "?"
        debug["threatSuspected"] = "true" if a < 0 else "false"
        return {
            "actor": actor,
            "client": client,
            "authenticationContext": auth_ctx,
            "displayMessage": kind.message,
            "eventType": kind.event_type,
            "outcome": _OUTCOMES[k],
            "published": iso(ts),
            "securityContext": security,
            "severity": kind.severity,
            "debugContext": {"debugData": debug},
            "legacyEventType": kind.legacy,
            "transaction": {"type": "WEB", "id": b64[16:43], "detail": {}},
            "uuid": self.uuid_at(i),
            "version": "0",
            "request": request,
            "target": targets,
        }

    def iter_events(self) -> Iterator[dict[str, Any]]:
        for i in range(self.event_count):
            yield self.render_event(i)

    # ---------------------------------------------------------------- ground truth

    def hidden_positions(self, now_ms: int) -> list[int]:
        """Sorted positions of events advance() added that are not visible at ``now_ms`` yet."""
        for seq in [s for s, (_, vis) in self.ev_pending.items() if vis <= now_ms]:
            del self.ev_pending[seq]  # visible for good: stop checking it
        out = []
        ts, seqs = self.ev_ts, self.ev_seq
        for seq, (published, _) in self.ev_pending.items():
            k = bisect.bisect_left(ts, published)
            while k < len(ts) and ts[k] == published and seqs[k] != seq:
                k += 1
            out.append(k)
        return sorted(out)

    def visibility(self, now_ms: int) -> list[dict[str, Any]]:
        """``{uuid, published, visible_at, visible}`` for every event advance() added, in log order.
        Events generated at start-up are visible from their ``published`` time."""
        out: list[dict[str, Any]] = []
        added = self.ev_added
        if not added:
            return out
        for i, seq in enumerate(self.ev_seq):
            vis = added.get(seq)
            if vis is not None:
                uuid, published = self.uuid_at(i), iso(self.ev_ts[i])
                out.append({"uuid": uuid, "published": published, "visible_at": iso(vis), "visible": vis <= now_ms})
        return out

    def ground_truth(self) -> dict[str, Any]:
        """Everything, with hrefs still carrying ORIGIN_MARKER (the caller substitutes it)."""
        now_ms = int(time.time() * 1000)
        visibility = self.visibility(now_ms)
        live = [doc for ui, doc in enumerate(self.users) if ui not in self.deleted]
        return {
            "app": "okta",
            "tenant": self.name,
            "workforce": self.options.workforce,
            "seed": self.seed,
            "anchor": iso(self.anchor_ms),
            "history_days": self.options.history_days,
            "base_url": self.link_base,
            "org_id": self.org_id,
            "users": live,
            "deleted_users": sorted(self.user_ids[ui] for ui in self.deleted),
            "groups": self.groups,
            "memberships": [
                {"group_id": self.group_ids[gi], "user_id": self.user_ids[ui]}
                for gi, members in enumerate(self.members)
                for ui in members
            ],
            "role_assignments": [
                {
                    "user_id": self.user_ids[ui],
                    "role_id": self.roles[ri]["id"],
                    "role_type": self.roles[ri]["type"],
                    "label": ROLE_LABELS[self.roles[ri]["type"]],
                    "assignment_type": self.roles[ri]["assignmentType"],
                    "group_id": (
                        self.group_ids[self.roles[ri]["who"]] if self.roles[ri]["assignmentType"] == "GROUP" else None
                    ),
                }
                for ui in range(len(self.urecs))
                for ri in self.user_roles[ui]
            ],
            "roles": [self.role_doc(ri) for ri in range(len(self.roles))],
            "grants": [self.grant_doc(gi) for gi in range(len(self.grants)) if gi not in self.revoked_grants],
            "apps": [{k: v for k, v in a.items() if k != "oidc"} for a in self.apps],
            "log_events": list(self.iter_events()),
            "log_visibility": visibility,
            "log_events_not_yet_visible": [v["uuid"] for v in visibility if not v["visible"]],
            "advances": list(self.advances),
            "settings": self.settings.truth(),
            "identity_engine": self.options.identity_engine,
            "counts": {
                "users": len(live),
                "users_by_status": {
                    s: sum(1 for ui, st in enumerate(self.user_status) if st == s and ui not in self.deleted)
                    for s in USER_STATUSES
                },
                "groups": len(self.groups),
                "memberships": sum(len(m) for m in self.members),
                "role_assignments": sum(len(r) for r in self.user_roles),
                "grants": len(self.grants) - len(self.revoked_grants),
                "log_events": self.event_count,
                "log_events_visible": self.event_count - sum(1 for v in visibility if not v["visible"]),
            },
        }
