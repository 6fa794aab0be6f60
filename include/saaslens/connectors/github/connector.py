"""GitHub: an organization on GitHub Enterprise Cloud through the REST API: the connector
(credentials, GitHub's error and rate-limit conventions, authenticate) and the listing every stage
pages through. Each stage's scan is in its own module (users: members with their role and 2FA state
and outside collaborators; groups: teams and their members; privileges: owners; grants: installed
GitHub Apps and SAML-SSO credential authorizations; activities: the organization audit log;
repositories: the inventory posture checks read); `__init__` declares them, and actions.py the
control the API offers.

References (GitHub documentation; the OpenAPI description for Enterprise Cloud is
github/rest-api-description ``descriptions/ghec/``, on npm as ``@octokit/openapi``):
- Members (``role``, ``filter=2fa_disabled``), outside collaborators, teams, team members (``role``,
  ``inherited``): https://docs.github.com/enterprise-cloud@latest/rest/orgs/members ,
  https://docs.github.com/enterprise-cloud@latest/rest/orgs/outside-collaborators ,
  https://docs.github.com/enterprise-cloud@latest/rest/teams/members
- Installed apps and SAML SSO credential authorizations (organization owners only):
  https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#list-app-installations-for-an-organization ,
  https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization
- Audit log (``phrase`` with ``created:``, ``include``, ``order``, cursor pagination in ``Link``,
  epoch-millisecond timestamps, ``read:audit_log`` for classic tokens, 1,750 queries/hour):
  https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#get-the-audit-log-for-an-organization ,
  https://docs.github.com/enterprise-cloud@latest/admin/monitoring-activity-in-your-enterprise/reviewing-audit-logs-for-your-enterprise/using-the-audit-log-api-for-your-enterprise
  https://docs.github.com/enterprise-cloud@latest/organizations/keeping-your-organization-secure/managing-security-settings-for-your-organization/reviewing-the-audit-log-for-your-organization
- Pagination (``per_page`` up to 100, ``Link`` header): https://docs.github.com/enterprise-cloud@latest/rest/using-the-rest-api/using-pagination-in-the-rest-api
- Rate limits (``x-ratelimit-*``; primary = 403/429 with remaining 0; secondary = 403/429 with
  ``retry-after`` or, without it, wait at least a minute):
  https://docs.github.com/enterprise-cloud@latest/rest/using-the-rest-api/rate-limits-for-the-rest-api
- Errors and "Resource not accessible by ...": https://docs.github.com/enterprise-cloud@latest/rest/using-the-rest-api/troubleshooting-the-rest-api
- GitHub App JWT (RS256, ``iat`` 60 s back, ``exp`` at most 10 min, ``iss`` app or client id) and
  installation tokens valid one hour:
  https://docs.github.com/enterprise-cloud@latest/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
  https://docs.github.com/enterprise-cloud@latest/rest/apps/apps#create-an-installation-access-token-for-an-app
- Headers ``Accept: application/vnd.github+json`` and ``X-GitHub-Api-Version: 2022-11-28``:
  https://docs.github.com/enterprise-cloud@latest/rest/about-the-rest-api/api-versions
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import jwt
from pydantic import Field

from saaslens.connectors import registry
from saaslens.connectors.base import ActingAccount, AuthReport, Connector, ConnectorOptions, StageAccess
from saaslens.connectors.kit import ActivityWindow
from saaslens.http import (
    ApiClient,
    ApiError,
    AuthenticationError,
    ErrorPolicy,
    FeatureUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitHeaders,
    RetryPolicy,
    ThrottledError,
)
from saaslens.http.auth import AccessToken, StaticTokenAuth, TokenAuth, TokenProvider
from saaslens.http.client import api_path, require_secure_url, token_endpoint_client
from saaslens.http.pagination import LinkHeaderPaginator
from saaslens.http.redaction import redact_url, register_secret
from saaslens.transform_utils import parse_time
from saaslens.vocabulary import Stage

API_VERSION = "2022-11-28"
MEDIA_TYPE = "application/vnd.github+json"
USER_AGENT = "saaslens/0.1 (+https://github.com/saaslens/saaslens)"
ORG_READ_SCOPES = frozenset({"read:org", "write:org", "admin:org"})
# Endpoints only GitHub Enterprise Cloud serves; elsewhere they answer 404.
ENTERPRISE_CLOUD_PATHS = ("/audit-log", "/credential-authorizations")
# Every stage reads the organization: declared probe paths start with this, filled from the connection.
ORG = "/orgs/{org}"
# The permission the member and team listings need (the users, groups and privileges stages).
MEMBERS_READ = "read:org (classic PAT) or Members: read (fine-grained PAT, GitHub App)"
# The stages whose listings need organization read access (read:org for a classic token).
ORG_READ_STAGES = (Stage.USERS, Stage.GROUPS, Stage.PRIVILEGES, Stage.APP_PERMISSIONS)
# The permissions governance actions declare (actions.py), reported by authenticate when provable.
# write:org is "Read and write access to organization membership"; admin:org includes it
# (https://docs.github.com/enterprise-cloud@latest/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps).
MEMBERS_WRITE = "organization owner; write:org (classic token) or Members: write (fine-grained token, GitHub App)"
SSO_ADMIN = "organization owner; admin:org (classic token)"
# Enterprise Managed Users: "To authenticate requests to the REST API endpoints for SCIM, you must use a
# personal access token (classic) associated with your enterprise's setup user. The token requires the
# scim:enterprise scope"
# (https://docs.github.com/enterprise-cloud@latest/admin/managing-iam/provisioning-user-accounts-with-scim/provisioning-users-and-groups-with-scim-using-the-rest-api).
SCIM_WRITE = "the enterprise's setup user (SHORTCODE_admin) with scim:enterprise (classic token)"
SCIM_SCOPES = frozenset({"scim:enterprise", "admin:enterprise"})
ENTERPRISE_STREAM = "enterprise_audit_log"
# "If you exceed a secondary rate limit ... Otherwise, wait for at least one minute before retrying."
SECONDARY_LIMIT_WAIT = 60.0


class GitHubOptions(ConnectorOptions):
    activities_initial_days: int = Field(
        default=30, ge=1, le=180, description="The organization audit log keeps 180 days"
    )
    audit_log_include: Literal["web", "git", "all"] = Field(
        default="all", description="Audit events to read: web (settings, membership), git (clone/push) or all"
    )
    mfa_status: bool = Field(
        default=True, description="Read members without 2FA (filter=2fa_disabled, organization owners only)"
    )
    enterprise: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,99}$",
        description="The slug of the enterprise owning the organization: the activities stage also reads the "
        "enterprise audit log, and with Enterprise Managed Users the SCIM state and the suspend action",
    )


class GitHubErrorPolicy(ErrorPolicy):
    rate_limit_headers = RateLimitHeaders("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")

    def parse_error_body(self, payload: Any) -> tuple[str | None, str | None]:
        """``{"message", "documentation_url", "errors"?}``: the message is GitHub's error identity."""
        if isinstance(payload, dict) and isinstance(payload.get("message"), str):
            message = payload["message"]
            problems = [
                ": ".join(str(e[k]) for k in ("resource", "field", "code", "message") if e.get(k))
                for e in payload.get("errors") or []
                if isinstance(e, dict)
            ]
            text = message + (f" ({'; '.join(problems)})" if problems else "")
            if payload.get("documentation_url"):
                text += f" [{payload['documentation_url']}]"
            return message, text
        return super().parse_error_body(payload)

    def is_throttle(self, response: httpx.Response, payload: Any) -> bool:
        if response.status_code == 429:
            return True
        if response.status_code != 403:
            return False
        if response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers:
            return True
        message = payload.get("message") if isinstance(payload, dict) else None
        return isinstance(message, str) and "rate limit" in message.lower()

    def error_for(self, response: httpx.Response) -> ApiError:
        error = super().error_for(response)
        if isinstance(error, ThrottledError) and error.retry_after is None:
            error.retry_after = SECONDARY_LIMIT_WAIT
        if isinstance(error, NotFoundError) and response.request.url.path.endswith(ENTERPRISE_CLOUD_PATHS):
            return FeatureUnavailableError(
                f"{error.detail} (this endpoint needs GitHub Enterprise Cloud"
                + (" with SAML single sign-on)" if "credential" in response.request.url.path else ")"),
                status=error.status,
                provider_code=error.provider_code,
                method=error.method,
                url=error.url,
            )
        return error


@dataclass
class GitHubAppInstallationProvider(TokenProvider):
    """Installation access tokens for a GitHub App: an RS256 JWT signed with the app's private key is
    exchanged at ``POST /app/installations/{id}/access_tokens`` for a token valid one hour."""

    api_base: str
    app_id: str
    installation_id: str
    private_key: str = field(repr=False)
    max_attempts: int = 5

    def __post_init__(self) -> None:
        register_secret(self.private_key)
        require_secure_url(self.api_base)

    @property
    def token_url(self) -> str:
        return api_path(f"{self.api_base.rstrip('/')}/app/installations", self.installation_id, "access_tokens")

    def app_jwt(self) -> str:
        now = int(time.time())
        # iat 60 s back against clock drift; exp within GitHub's 10-minute maximum.
        claims = {"iat": now - 60, "exp": now + 540, "iss": self.app_id}
        try:
            return jwt.encode(claims, self.private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise AuthenticationError(
                f"cannot sign the GitHub App JWT with the configured private key ({type(exc).__name__})"
            ) from None

    def fetch(self, http: httpx.Client) -> AccessToken:
        # The exchange is an ordinary GitHub API call: the shared client gives it GitHub's error
        # policy, Retry-After handling and backoff; only the credential differs.
        client = ApiClient(
            self.api_base,
            error_policy=GitHubErrorPolicy(),
            headers={"Accept": MEDIA_TYPE, "X-GitHub-Api-Version": API_VERSION, "User-Agent": USER_AGENT},
            retry=RetryPolicy(max_attempts=self.max_attempts),
            http_client=http,
        )
        try:
            _, payload = client.request("POST", self.token_url, headers={"Authorization": f"Bearer {self.app_jwt()}"})
        except (AuthenticationError, PermissionDeniedError, NotFoundError) as exc:
            # A wrong key, app id or installation is a credential problem: fail without retries.
            raise AuthenticationError(
                exc.detail,
                status=exc.status,
                provider_code=exc.provider_code,
                method="POST",
                url=redact_url(self.token_url),
            ) from None
        if not isinstance(payload, dict) or not payload.get("token"):
            raise AuthenticationError(
                "the installation token response has no token",
                status=201,
                method="POST",
                url=redact_url(self.token_url),
            )
        value = str(payload["token"])
        register_secret(value)
        expires = _epoch(payload.get("expires_at")) or time.time() + 3600
        permissions = payload.get("permissions") or {}
        return AccessToken(
            value=value,
            expires_at=expires,
            scopes=tuple(f"{name}:{level}" for name, level in sorted(permissions.items())),
            extra={"permissions": permissions, "repository_selection": payload.get("repository_selection")},
        )


def _epoch(value: Any) -> float | None:
    moment = parse_time(value) if value else None
    return moment.timestamp() if moment else None


def github_bucket(path: str) -> str:
    """The audit log has its own budget (1,750 queries per hour); everything else is ``core``."""
    return "audit_log" if path.rstrip("/").endswith("/audit-log") else "core"


def audit_phrase(window: ActivityWindow) -> str:
    """``created:A..B`` (inclusive, one-second resolution) covering the window."""
    since = window.since.astimezone(UTC).replace(microsecond=0)
    until = max(since, window.until.astimezone(UTC).replace(microsecond=0))
    return f"created:{since.strftime('%Y-%m-%dT%H:%M:%S')}+00:00..{until.strftime('%Y-%m-%dT%H:%M:%S')}+00:00"


class GitHubConnector(Connector):
    app = "github"
    title = "GitHub"
    Options = GitHubOptions
    options: GitHubOptions
    # Audit events can take a few minutes to become searchable: re-read 10 minutes, stop 2 behind.
    default_lookback_seconds = 600
    default_lag_seconds = 120

    # -- declaration --------------------------------------------------------------------------

    @property
    def org(self) -> str:
        return self.connection.require("org", "the organization login (e.g. octo-org)")

    def org_path(self, suffix: str = "") -> str:
        return api_path("/orgs", self.org) + suffix

    def enterprise_path(self, suffix: str = "") -> str:
        """``/enterprises/{enterprise}`` + suffix; FeatureUnavailableError when the instance names none."""
        return api_path("/enterprises", self._enterprise()) + suffix

    def scim_users_path(self, *scim_user_id: str) -> str:
        """``/scim/v2/enterprises/{enterprise}/Users[/{scim_user_id}]``."""
        return api_path(api_path("/scim/v2/enterprises", self._enterprise()) + "/Users", *scim_user_id)

    def _enterprise(self) -> str:
        if not self.options.enterprise:
            raise FeatureUnavailableError("the instance names no enterprise (the github option enterprise)")
        return self.options.enterprise

    def _uses_app(self) -> bool:
        return bool(self.connection.extra.get("app_id") or self.connection.extra.get("client_id"))

    def build_auth(self) -> httpx.Auth:
        if not self._uses_app():
            return StaticTokenAuth(self.connection.require("password", "a GitHub personal access token"))
        extra = self.connection.extra
        private_key = self.connection.extra_or(
            "private_key", "password", "the private key the GitHub App signs its JWT with"
        )
        installation_id = self.connection.require("installation_id", "the app's installation id in the organization")
        provider = GitHubAppInstallationProvider(
            api_base=self.connection.base_url,
            app_id=str(extra.get("client_id") or extra["app_id"]),
            installation_id=str(installation_id),
            private_key=str(private_key),
        )
        http = token_endpoint_client(self._transport)
        # Installation tokens live one hour; take a fresh one five minutes before the end.
        return TokenAuth(provider, http, refresh_margin=300)

    def error_policy(self) -> ErrorPolicy:
        return GitHubErrorPolicy()

    def default_headers(self) -> dict[str, str]:
        return {"Accept": MEDIA_TYPE, "X-GitHub-Api-Version": API_VERSION}

    def rate_limit_bucket(self, relative_path: str) -> str | None:
        return github_bucket(relative_path)

    def listing(
        self, path: str, params: dict[str, Any] | None = None, items_path: str | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list endpoint (``per_page`` up to 100, next page in the ``Link`` header)."""
        paginator = LinkHeaderPaginator(items_path)
        for page in self.client.paginate(path, paginator, {"per_page": self.page_size(100), **(params or {})}):
            yield page.items

    # -- authenticate -------------------------------------------------------------------------

    def authenticate(self) -> AuthReport:
        response, organization = self.client.request("GET", self.org_path())
        scopes_header = response.headers.get("x-oauth-scopes")
        identity, permissions, login = self._identity(scopes_header)
        action_permissions, complete = self._action_permissions(scopes_header, login, permissions)
        permissions.update(action_permissions)
        plan = (organization.get("plan") or {}).get("name") if isinstance(organization, dict) else None
        identity += f" on organization {organization.get('login') or self.org}" + (f" (plan {plan})" if plan else "")
        classic_scopes = None if scopes_header is None else {s.strip() for s in scopes_header.split(",") if s.strip()}
        lacks_org_read = classic_scopes is not None and not classic_scopes & ORG_READ_SCOPES
        members_reason = f"the classic token lacks read:org (it has: {scopes_header or 'no scopes'})"
        stages: dict[str, StageAccess] = {}
        for stage in ORG_READ_STAGES:
            if lacks_org_read:
                stages[str(stage)] = StageAccess(False, members_reason)
            elif stage == Stage.USERS:
                stages[str(stage)] = self._with_mfa_note(self._declared_probe(stage))
            elif stage == Stage.APP_PERMISSIONS:
                stages[str(stage)] = self._with_credentials_note(self._declared_probe(stage))
            else:
                stages[str(stage)] = self._declared_probe(stage)
        # Settings (admin:org, an owner): skipped alone when the credentials cannot read them.
        stages[str(Stage.SETTINGS)] = self._declared_probe(Stage.SETTINGS)
        # The audit log's probe, narrowed to the last five minutes.
        now = datetime.now(UTC)
        narrowed = {"phrase": audit_phrase(ActivityWindow(now - timedelta(minutes=5), now))}
        stages["activities"] = self._with_enterprise_note(
            self._declared_probe(Stage.ACTIVITIES, **narrowed, include=self.options.audit_log_include), narrowed
        )
        return AuthReport(identity=identity, permissions=permissions, stages=stages, permissions_complete=complete)

    def acting_account(self) -> ActingAccount | None:
        """The token's user (GET /user); None for a GitHub App installation, which acts as the app's
        bot, no account of the organization
        (https://docs.github.com/enterprise-cloud@latest/rest/users/users#get-the-authenticated-user)."""
        if isinstance(self.auth, TokenAuth):
            return None
        user = self.client.get_json("/user")
        if not isinstance(user, dict) or user.get("id") is None:
            raise ApiError("GET /user answered no user id", status=200)
        return ActingAccount(account_id=str(user["id"]), login=str(user.get("login") or ""))

    def _with_enterprise_note(self, access: StageAccess, narrowed: dict[str, str]) -> StageAccess:
        """The enterprise audit log stream, probed like the organization's: a note when it cannot be
        read, and the stage allowed when either stream can."""
        if not self.options.enterprise:
            return access
        enterprise = self.probe(
            Stage.ACTIVITIES,
            self.enterprise_path("/audit-log"),
            {"per_page": 1, **narrowed, "include": self.options.audit_log_include},
        )
        if enterprise.allowed:
            note = f"{ENTERPRISE_STREAM}: readable"
        else:
            note = f"{ENTERPRISE_STREAM}: skipped: {enterprise.reason}"
        reason = "; ".join(part for part in (access.reason, note) if part)
        return StageAccess(access.allowed or enterprise.allowed, reason)

    def _scim_permission(self, scopes: set[str], login: str) -> dict[str, str]:
        """SCIM_WRITE when the classic token is the setup user's (``SHORTCODE_admin``) with
        scim:enterprise and reads the enterprise's SCIM identities."""
        if not self.options.enterprise or not scopes & SCIM_SCOPES or not login.lower().endswith("_admin"):
            return {}
        try:
            self.client.get_json(self.scim_users_path(), {"count": 1})
        except (PermissionDeniedError, FeatureUnavailableError, NotFoundError):
            return {}
        return {SCIM_WRITE: f"setup user {login} with " + ", ".join(sorted(scopes & SCIM_SCOPES))}

    def _action_permissions(
        self, scopes_header: str | None, login: str | None, held: dict[str, str]
    ) -> tuple[dict[str, str], bool]:
        """The actions' permission strings these credentials provably hold, and whether that is all
        of them: a classic token's scopes are listed whole in X-OAuth-Scopes and its user's role in
        the organization is read from their membership, so for it the answer is complete; a GitHub
        App's installation token lists its permissions (Members: write) but not what the SAML SSO
        endpoint needs, and a fine-grained token lists nothing."""
        if isinstance(self.auth, TokenAuth):
            level = held.get("members:write") or held.get("members:admin")
            return ({MEMBERS_WRITE: "installation permission members:write"} if level else {}), False
        if scopes_header is None or not login:
            return {}, False
        scopes = {s.strip() for s in scopes_header.split(",") if s.strip()}
        scim = self._scim_permission(scopes, login)
        try:
            _, membership = self.client.request("GET", api_path(self.org_path("/memberships"), login))
        except NotFoundError:
            # Not a member (the setup user is none): no organization permission, and that is all.
            return scim, True
        except PermissionDeniedError:
            return scim, False
        owner = (
            isinstance(membership, dict) and membership.get("role") == "admin" and membership.get("state") == "active"
        )
        found: dict[str, str] = dict(scim)
        if owner and scopes & {"write:org", "admin:org"}:
            found[MEMBERS_WRITE] = "organization owner (membership role admin) with " + ", ".join(
                sorted(scopes & {"write:org", "admin:org"})
            )
        if owner and "admin:org" in scopes:
            found[SSO_ADMIN] = "organization owner (membership role admin) with admin:org"
        return found, True

    def _declared_probe(self, stage: Stage, **params: Any) -> StageAccess:
        """The probe the app's declaration gives for a stage, below this organization."""
        probe = registry.app_spec(self.app).stage(stage).probe
        if probe is None or not probe.path.startswith(ORG):
            raise ValueError(f"{self.title}: the {stage} stage declares no probe below {ORG}")
        return self.probe(stage, self.org_path(probe.path.removeprefix(ORG)), {**probe.params, **params})

    def _identity(self, scopes_header: str | None) -> tuple[str, dict[str, str], str | None]:
        auth = self.auth
        if isinstance(auth, TokenAuth):
            token = auth.token()
            provider = auth.provider
            assert isinstance(provider, GitHubAppInstallationProvider)
            permissions = {scope: "granted to the installation token" for scope in token.scopes}
            return f"GitHub App {provider.app_id} installation {provider.installation_id}", permissions, None
        user = self.client.get_json("/user")
        login = user.get("login") if isinstance(user, dict) else None
        login = login if isinstance(login, str) and login else None
        if scopes_header is None:
            # Fine-grained tokens have no scopes header: their permissions show in the probes below.
            return f"fine-grained token of {login}", {}, login
        scopes = [s.strip() for s in scopes_header.split(",") if s.strip()]
        return f"classic token of {login}", {scope: "X-OAuth-Scopes" for scope in scopes}, login

    def _with_mfa_note(self, access: StageAccess) -> StageAccess:
        if not access.allowed or not self.options.mfa_status:
            return access
        reason = self._mfa_unavailable()
        return StageAccess(True, f"mfa_enabled will be null: {reason}") if reason else access

    def _mfa_unavailable(self) -> str | None:
        try:
            self.client.get_json(self.org_path("/members"), {"filter": "2fa_disabled", "per_page": 1})
        except (PermissionDeniedError, FeatureUnavailableError) as exc:
            return f"{exc.provider_code or exc.status} {exc.detail}"
        except ApiError as exc:
            if exc.status == 422:  # "Only owners can use this filter."
                return f"{exc.provider_code or exc.status}"
            raise
        return None

    def _with_credentials_note(self, access: StageAccess) -> StageAccess:
        if not access.allowed:
            return access
        try:
            self.client.get_json(self.org_path("/credential-authorizations"), {"per_page": 1})
        except (PermissionDeniedError, FeatureUnavailableError) as exc:
            return StageAccess(True, f"installed apps only; credential authorizations unavailable: {exc.detail}")
        return access
