"""The Okta personality: Okta Management API routes, auth, errors and rate limits.

Built from Okta's OpenAPI description (``management.yaml``, read at test time, never copied
here) and Okta's published documentation. Facts relied on, with sources:

* Endpoints, parameters, defaults and response schemas (``listUsers`` limit default 200 and
  "Lists all users that do not have a status of 'DEPROVISIONED' (by default)"; ``listGroups``
  limit default 10000; ``listGroupUsers`` default 1000; ``listUsersWithRoleAssignments`` default
  100 with a ``{"value": [...], "_links": {"next": ...}}`` body; ``listUserGrants`` default 20;
  ``listLogEvents`` limit default 100, sortOrder default ASCENDING) and each operation's required
  OAuth scope (``okta.users.read``, ``okta.groups.read``, ``okta.roles.read``, ``okta.logs.read``):
  the OpenAPI description, https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/
  and .../tag/RoleAssignmentAUser/, .../tag/SystemLog/.
* DEPROVISIONED users are only listed when asked for (``filter=status eq "DEPROVISIONED"``):
  https://support.okta.com/help/s/article/list-all-deactivated-users-using-api
* Pagination with ``Link`` headers (``rel="self"``, ``rel="next"``; the ``after`` cursor is opaque;
  the end of a list is the first response without ``next``), and the System Log exception:
  "the next link always exists in System Log polling queries. A polling query is defined as an
  ASCENDING query with an empty or absent until parameter":
  https://developer.okta.com/docs/reference/core-okta-api/#link-header (text in
  https://github.com/okta/okta-developer-docs/pull/2459), with bounded (``until``) vs polling
  requests described at https://developer.okta.com/docs/reference/system-log-query and confirmed
  by Okta engineers in https://github.com/okta/okta-sdk-python/issues/231 and
  https://github.com/okta/okta-sdk-dotnet/issues/337. Log ``limit`` is 0..1000 and ``since``
  defaults to 7 days before now: https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SystemLog/
* Filter / search expressions (``status eq "ACTIVE"``, ``lastUpdated gt "..."``):
  https://developer.okta.com/docs/api/#filter and https://developer.okta.com/docs/reference/core-okta-api/#filter
* Error bodies ``{errorCode, errorSummary, errorLink, errorId, errorCauses}`` and codes E0000001
  (400 API validation), E0000006 (403 access denied), E0000007 (404 not found), E0000008 (404 path
  not found), E0000009 (500), E0000011 (401 invalid token), E0000022 (405 method), E0000031
  (400 invalid search criteria), E0000047 (429 too many requests):
  https://developer.okta.com/docs/reference/error-codes/ (example bodies also in management.yaml
  ``components/examples``).
* Rate limits: ``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` (UTC
  epoch seconds) on every response: https://developer.okta.com/docs/reference/rl-best-practices/ ;
  per-minute limits per endpoint bucket and subscription tier:
  https://developer.okta.com/docs/reference/rl-global-mgmt/ (``/oauth2`` token requests:
  https://developer.okta.com/docs/reference/rl-global-enduser).
* OAuth for Okta service apps: client_credentials with ``client_assertion_type=
  urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and an assertion signed by the app's
  private key, claims ``aud`` (the token URL), ``iss`` = ``sub`` = client_id, ``exp`` at most one
  hour ahead, optional ``jti`` (replay-protected); requested scopes must already be granted; the
  response has token_type Bearer, expires_in 3600, access_token, scope:
  https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/ ,
  https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/create-sign-jwt/ ,
  https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/get-access-token/ ,
  scope names: https://developer.okta.com/docs/api/oauth2/
* Role ids and labels in ``GET /api/v1/users/{id}/roles`` include GROUP-assigned roles
  (``assignmentType: GROUP``): https://developer.okta.com/docs/api/openapi/okta-management/management/tag/RoleAssignmentAUser/

Approximations (documented in docs/sandbox.md): admin roles are mapped to the ``okta.*`` scopes
they allow (:data:`ROLE_SCOPES`) so that an SSWS token and an OAuth token are authorized the same
way; Okta's per-token 50% share of a bucket and its concurrency limits are not emulated.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode

import jwt
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from saaslens_sandbox import core
from saaslens_sandbox.core import Personality, Scope, TenantSpec, ViewCache, json_response
from saaslens_sandbox.kit.auth import challenge, credential, oauth_error_body
from saaslens_sandbox.kit.faults import TokenLifetime
from saaslens_sandbox.kit.paging import PagingStyle, link
from saaslens_sandbox.kit.ratelimit import limit_headers
from saaslens_sandbox.okta import actions as okta_actions
from saaslens_sandbox.okta import filters, live
from saaslens_sandbox.okta import workforce as okta_workforce
from saaslens_sandbox.okta.generator import (
    KINDS,
    ORIGIN_MARKER,
    OktaOptions,
    OktaTenant,
)
from saaslens_sandbox.workforce import Person, PlannedAccount

# ------------------------------------------------------------------------------------------
# Authorization model
# ------------------------------------------------------------------------------------------

_READ_ALL = frozenset(
    {
        "okta.users.read",
        "okta.groups.read",
        "okta.roles.read",
        "okta.logs.read",
        "okta.apps.read",
        "okta.userTypes.read",
        "okta.policies.read",
        "okta.authorizationServers.read",
        "okta.clients.read",
        "okta.factors.read",
        "okta.devices.read",
        "okta.orgs.read",
        "okta.apiTokens.read",
        "okta.authenticators.read",
        "okta.networkZones.read",
    }
)
_MANAGE_CORE = frozenset({"okta.users.manage", "okta.groups.manage", "okta.apps.manage"})

#: Which ``okta.*`` scopes each standard admin role allows. An approximation of Okta's standard
#: admin role permissions (https://help.okta.com/en-us/content/topics/security/administrators-admin-comparison.htm),
#: restricted to what the sandbox serves.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "SUPER_ADMIN": _READ_ALL | _MANAGE_CORE | {"okta.roles.manage", "okta.apiTokens.manage"},
    "ORG_ADMIN": frozenset(
        {
            "okta.users.read",
            "okta.groups.read",
            "okta.roles.read",
            "okta.logs.read",
            "okta.apps.read",
            "okta.userTypes.read",
            "okta.policies.read",
            "okta.authenticators.read",
            "okta.networkZones.read",
            "okta.factors.read",
            "okta.devices.read",
        }
    )
    | _MANAGE_CORE,
    "READ_ONLY_ADMIN": frozenset(
        {
            "okta.users.read",
            "okta.groups.read",
            "okta.roles.read",
            "okta.logs.read",
            "okta.apps.read",
            "okta.userTypes.read",
            "okta.policies.read",
            "okta.authenticators.read",
            "okta.networkZones.read",
            "okta.factors.read",
        }
    ),
    "APP_ADMIN": frozenset({"okta.apps.read", "okta.apps.manage", "okta.users.read", "okta.groups.read"}),
    "USER_ADMIN": frozenset({"okta.users.read", "okta.users.manage", "okta.groups.read"}),
    "HELP_DESK_ADMIN": frozenset({"okta.users.read", "okta.groups.read", "okta.factors.read"}),
    "GROUP_MEMBERSHIP_ADMIN": frozenset({"okta.groups.read", "okta.groups.manage", "okta.users.read"}),
    "REPORT_ADMIN": frozenset({"okta.logs.read", "okta.apps.read"}),
    "API_ACCESS_MANAGEMENT_ADMIN": frozenset({"okta.authorizationServers.read", "okta.clients.read", "okta.apps.read"}),
    "MOBILE_ADMIN": frozenset({"okta.devices.read"}),
}

#: operationId -> the OAuth scope its ``security`` requirement names in management.yaml.
REQUIRED_SCOPES: dict[str, str] = {
    "listUsers": "okta.users.read",
    "getUser": "okta.users.read",
    "listUserGrants": "okta.users.read",
    "listGroups": "okta.groups.read",
    "getGroup": "okta.groups.read",
    "listGroupUsers": "okta.groups.read",
    "listUsersWithRoleAssignments": "okta.roles.read",
    "listAssignedRolesForUser": "okta.roles.read",
    "listLogEvents": "okta.logs.read",
    # the security configuration the settings stage reads (management.yaml security)
    "listPolicies": "okta.policies.read",
    "listPolicyRules": "okta.policies.read",
    "listAuthenticators": "okta.authenticators.read",
    "listNetworkZones": "okta.networkZones.read",
    "listApiTokens": "okta.apiTokens.read",
    # the writes governance actions send, and the reads they re-check with (management.yaml security)
    "getUserGrant": "okta.users.read",
    "getUserAssignedRole": "okta.roles.read",
    "suspendUser": "okta.users.manage",
    "unsuspendUser": "okta.users.manage",
    "expirePassword": "okta.users.manage",
    "revokeUserSessions": "okta.users.manage",
    "revokeUserGrant": "okta.users.manage",
    "unassignRoleFromUser": "okta.roles.manage",
}

# ------------------------------------------------------------------------------------------
# Rate limits (per minute) by bucket and tier: developer_free, developer_paid, one_app,
# enterprise, workforce — https://developer.okta.com/docs/reference/rl-global-mgmt/
# ------------------------------------------------------------------------------------------

TIERS = ("developer_free", "developer_paid", "one_app", "enterprise", "workforce")
RATE_LIMITS: dict[str, tuple[int, int, int, int, int]] = {
    "/api/v1/users": (100, 600, 600, 600, 600),  # create or list users (GET/POST /api/v1/users)
    "/api/v1/users/{id}": (100, 300, 300, 1000, 2000),  # GET a user by id or login
    "/api/v1/users/{id}:write": (100, 600, 600, 600, 600),  # POST/PUT/DELETE /api/v1/users/{id}
    "/api/v1/groups": (100, 600, 600, 600, 500),  # /api/v1/groups except /api/v1/groups/{id}
    "/api/v1/groups/{id}": (100, 600, 600, 600, 1000),
    "/api/v1/logs": (20, 50, 50, 50, 120),
    "/api/v1/apps": (20, 100, 100, 100, 100),
    "/api/v1": (100, 600, 600, 600, 1200),  # most other API actions
    "/oauth2/v1/token": (300, 1200, 1200, 1200, 2000),  # OAuth2 requests to the org authorization server
}

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# PolicyType in management.yaml
POLICY_TYPES = frozenset(
    {"ACCESS_POLICY", "IDP_DISCOVERY", "MFA_ENROLL", "OKTA_SIGN_ON", "PASSWORD", "PROFILE_ENROLLMENT"}
)

_USER_FILTER_ATTRS = {
    "status": {"eq"},
    "lastUpdated": {"eq", "gt", "ge", "lt", "le"},
    "id": {"eq"},
    "profile.login": {"eq"},
    "profile.email": {"eq"},
    "profile.firstName": {"eq"},
    "profile.lastName": {"eq"},
}
_GROUP_FILTER_ATTRS = {
    "type": {"eq"},
    "id": {"eq"},
    "lastUpdated": {"eq", "gt", "ge", "lt", "le"},
    "lastMembershipUpdated": {"eq", "gt", "ge", "lt", "le"},
}
_KIND_ATTRS = {
    "eventType",
    "legacyEventType",
    "outcome.result",
    "outcome.reason",
    "severity",
    "displayMessage",
    "version",
}
_ACTOR_ATTRS = {"actor.id", "actor.alternateId", "actor.displayName", "actor.type"}

_STATUS_LINKS: dict[str, tuple[str, ...]] = {
    "ACTIVE": (
        "suspend",
        "resetPassword",
        "expirePassword",
        "forgotPassword",
        "changePassword",
        "changeRecoveryQuestion",
        "deactivate",
    ),
    "STAGED": ("activate", "deactivate"),
    "PROVISIONED": ("activate", "reactivate", "deactivate"),
    "RECOVERY": ("resetPassword", "expirePassword", "deactivate"),
    "LOCKED_OUT": ("unlock", "resetPassword", "expirePassword", "deactivate"),
    "PASSWORD_EXPIRED": ("resetPassword", "expirePassword", "deactivate"),
    "SUSPENDED": ("unsuspend", "deactivate"),
    "DEPROVISIONED": ("activate", "delete"),
}


@dataclass(frozen=True)
class Principal:
    kind: str  # "ssws" | "oauth"
    scopes: frozenset[str]
    user_index: int | None = None
    client_id: str | None = None


class OktaError(Exception):
    """Raised inside handlers; becomes an Okta error response."""

    def __init__(
        self,
        status: int,
        code: str,
        summary: str,
        causes: tuple[str, ...] = (),
        headers: tuple[tuple[str, str], ...] = (),
    ):
        super().__init__(summary)
        self.status, self.code, self.summary, self.causes, self.headers = status, code, summary, causes, headers


def okta_error_body(code: str, summary: str, causes: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": "oae" + secrets.token_urlsafe(17)[:22].replace("-", "A").replace("_", "z"),
        "errorCauses": [{"errorSummary": c} for c in causes],
    }


def _request_id() -> str:
    return secrets.token_urlsafe(20)[:27].replace("-", "A").replace("_", "z")


def _bad_request(param: str, detail: str) -> OktaError:
    return OktaError(400, "E0000001", f"Api validation failed: {param}", (f"{param}: {detail}",))


def _int_param(params: Any, name: str, default: int, maximum: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad_request(name, f"'{raw}' is not a valid integer") from None
    if value < 0:
        raise _bad_request(name, "must not be negative")
    return min(value, maximum)


def _parse_time(params: Any, name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    ms = filters.parse_instant(raw)
    if ms is None:
        raise _bad_request(name, f"'{raw}' is not a valid ISO 8601 date-time")
    return ms


def _parse_expression(expr: str | None, allowed: Any) -> Any:
    """Parse a `filter`/`search` expression; `filter` (allowed given) takes fewer attributes than
    `search`. Okta answers an unparsable one with E0000031."""
    if expr is None:
        return None
    try:
        node = filters.parse(expr)
        if allowed is not None:
            filters.check_allowed(node, allowed)
    except filters.FilterError as exc:
        raise OktaError(400, "E0000031", "Invalid search criteria.", (str(exc),)) from None
    return node


class OktaPersonality(Personality):
    """An Okta org: ``/api/v1/...`` Management API endpoints and ``/oauth2/v1/token``."""

    app: ClassVar[str] = "okta"
    # https://developer.okta.com/docs/api/#pagination (Link: <...>; rel="next")
    paging: ClassVar[PagingStyle] = PagingStyle(
        "link_header",
        accounts_listing=r"/api/v1/users",
        group_listing=r"/api/v1/groups",
        text_field="profile.firstName",
    )

    def __init__(self, spec: TenantSpec, base_url_prefix: str):
        super().__init__(spec, base_url_prefix)
        self.options = OktaOptions.model_validate(spec.options)
        self.validate_options(spec.options)
        anchor = self.options.anchor or core.server_start_time()
        self.tenant = OktaTenant(
            name=spec.name,
            seed=spec.seed,
            users=spec.users,
            options=self.options,
            anchor=anchor,
            link_base=ORIGIN_MARKER + self.base_url_prefix,
        )
        t = self.tenant
        self._tier = TIERS.index(self.options.rate_limit_tier)
        # An API token acts with its admin's roles as they are now (a role unassigned from the admin
        # is gone from the token too): token -> the admin's user index, scopes read per request.
        self._ssws: dict[str, int] = {tok.token: t.owner_index[j] for j, tok in enumerate(t.api_tokens)}
        self._extra_tokens = self._governance_tokens()
        for info in self._extra_tokens.values():
            self._ssws.setdefault(info["token"], info["user_index"])
        self._clients = {c.client_id: c for c in self.options.oauth_clients}
        self._client_keys: dict[str, Any] = {}
        self._jwt_secret = os.urandom(32)
        self._seen_jti: dict[str, float] = {}
        self._token_lifetime = TokenLifetime()  # access token jti -> uses and issue time (token-expiry fault)
        self._rebuild_views()

    def _governance_tokens(self) -> dict[str, dict[str, Any]]:
        """Two more API tokens of admins the generator made, so a tenant has a credential for
        governance actions besides its scan token, and one that may read but not change: ``actions``,
        a SUPER_ADMIN's token (``sandbox-okta-{tenant}-actions``), and ``read_only``, the token of an
        admin who may read users but change neither users nor roles (``sandbox-okta-{tenant}-readonly``),
        when the tenant has such active admins. They
        create no user and change nothing generated."""
        t = self.tenant
        configured = {tok.token for tok in t.api_tokens}

        def direct(ui: int) -> list[str]:
            return [t.roles[ri]["type"] for ri in t.user_roles[ui] if t.roles[ri]["assignmentType"] == "USER"]

        def eligible(ui: int) -> bool:
            u = t.urecs[ui]
            return (
                u.status == "ACTIVE"
                and u.owner_of is None
                and not u.planted
                and len(direct(ui)) == len(t.user_roles[ui])
            )

        found: dict[str, dict[str, Any]] = {}
        actions = next((ui for ui in t.role_holders if eligible(ui) and "SUPER_ADMIN" in direct(ui)), None)

        # read_only: an admin whose roles read users but change neither users nor roles (a READ_ONLY_ADMIN
        # when there is an active one, else e.g. a HELP_DESK_ADMIN)
        def reads_only(ui: int) -> bool:
            scopes = frozenset().union(*(ROLE_SCOPES[r] for r in direct(ui)))
            return "okta.users.read" in scopes and not scopes & {"okta.users.manage", "okta.roles.manage"}

        readers = [ui for ui in t.role_holders if eligible(ui) and reads_only(ui)]
        readers.sort(key=lambda ui: "READ_ONLY_ADMIN" not in direct(ui))
        read_only = readers[0] if readers else None
        for key, ui, suffix in (("actions", actions, "actions"), ("read_only", read_only, "readonly")):
            token = f"sandbox-okta-{t.name}-{suffix}"
            if ui is not None and token not in configured:
                found[key] = {"token": token, "user_index": ui}
        return found

    def _rebuild_views(self) -> None:
        """(Re)compute the listings served without a query; forget cached query views."""
        t = self.tenant
        self._views = ViewCache()
        # default view: every user but DEPROVISIONED (and deleted ones), in id order
        self._status_views: dict[str, list[int]] = {}
        for i, status in enumerate(t.user_status):
            if i not in t.deleted:
                self._status_views.setdefault(status, []).append(i)
        self._default_users = [i for i, s in enumerate(t.user_status) if s != "DEPROVISIONED" and i not in t.deleted]
        self._group_order = sorted(range(len(t.groups)), key=lambda g: t.group_ids[g])
        self._group_sorted_ids = [t.group_ids[g] for g in self._group_order]

    def advance(self, change: dict[str, Any]) -> dict[str, Any]:
        """Move the tenant forward (see :mod:`saaslens_sandbox.okta.live`); returns what changed."""
        parsed = live.AdvanceChange.model_validate(change)
        with self._lock:
            summary = live.advance(self.tenant, parsed, int(time.time() * 1000))
            self._rebuild_views()
        raw = orjson.dumps(summary).replace(ORIGIN_MARKER.encode(), (self.origin or "").encode())
        return orjson.loads(raw)

    # ---------------------------------------------------------------- framework hooks

    @classmethod
    def workforce_plan(cls, people: Mapping[str, Person]) -> tuple[PlannedAccount, ...]:
        return okta_workforce.plan(people)

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        opts = OktaOptions.model_validate(options)
        tokens = [t.token for t in opts.api_tokens or []]
        if len(tokens) != len(set(tokens)):
            raise ValueError("api_tokens: duplicate token values")
        ids = [c.client_id for c in opts.oauth_clients]
        if len(ids) != len(set(ids)):
            raise ValueError("oauth_clients: duplicate client_id values")

    def rate_limit_bucket(self, method: str, path: str) -> str | None:
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["oauth2", "v1"]:
            return "/oauth2/v1/token"
        if parts[:2] != ["api", "v1"]:
            return "/api/v1"
        rest = parts[2:]
        if rest[:1] == ["users"]:
            if len(rest) == 1:
                return "/api/v1/users"
            if len(rest) == 2:
                return "/api/v1/users/{id}" if method in ("GET", "HEAD") else "/api/v1/users/{id}:write"
            return "/api/v1"
        if rest[:1] == ["groups"]:
            return "/api/v1/groups/{id}" if len(rest) == 2 and rest[1] != "rules" else "/api/v1/groups"
        if rest[:1] == ["logs"]:
            return "/api/v1/logs"
        if rest[:1] == ["apps"]:
            return "/api/v1/apps"
        return "/api/v1"

    def rate_limit_per_minute(self, bucket: str) -> int:
        return RATE_LIMITS.get(bucket, RATE_LIMITS["/api/v1"])[self._tier]

    def rate_limit_headers(self, limit: int, remaining: int, reset_epoch: int) -> list[tuple[str, str]]:
        return limit_headers("X-Rate-Limit-", limit, remaining, reset_epoch)

    def too_many_requests(self, scope: Scope, limit: int, reset_epoch: int) -> Response:
        body = okta_error_body("E0000047", "You exceeded the maximum number of requests. Try again in a while.")
        return json_response(body, 429, [("X-Okta-Request-Id", _request_id())])

    def server_error(self, scope: Scope, status: int) -> Response:
        return json_response(
            okta_error_body("E0000009", "Internal Server Error"), status, [("X-Okta-Request-Id", _request_id())]
        )

    # ---------------------------------------------------------------- ground truth

    def ground_truth(self) -> dict[str, Any]:
        return self.ground_truth_for(self.origin or "http://127.0.0.1:8765")

    def ground_truth_for(self, origin: str) -> dict[str, Any]:
        t = self.tenant
        truth = t.ground_truth()
        truth["credentials"] = {
            "token_url": f"{ORIGIN_MARKER}{self.base_url_prefix}/oauth2/v1/token",
            "api_tokens": [
                {
                    "token": tok.token,
                    "roles": list(tok.roles),
                    "user_id": t.user_ids[t.owner_index[j]],
                    "user_login": t.urecs[t.owner_index[j]].login,
                }
                for j, tok in enumerate(t.api_tokens)
            ],
            "oauth_clients": [
                {"client_id": c.client_id, "scopes": list(c.scopes), "roles": list(c.roles)}
                for c in self.options.oauth_clients
            ],
        }
        # The governance credentials (see _governance_tokens): the admin each acts as, with its roles now.
        for key, info in self._extra_tokens.items():
            ui = info["user_index"]
            truth["credentials"][key] = {
                "token": info["token"],
                "roles": [t.roles[ri]["type"] for ri in t.user_roles[ui]],
                "user_id": t.user_ids[ui],
                "user_login": t.urecs[ui].login,
            }
        raw = orjson.dumps(truth).replace(ORIGIN_MARKER.encode(), origin.encode())
        return orjson.loads(raw)

    # ---------------------------------------------------------------- plumbing

    def routes(self) -> list[BaseRoute]:
        methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]

        def get(path: str, operation: str, handler: Callable[[Request, Principal], Response]) -> Route:
            return Route(path, self._endpoint(operation, handler), methods=methods)

        return [
            get("/api/v1/users", "listUsers", self.list_users),
            get("/api/v1/users/{user_id}", "getUser", self.get_user),
            get("/api/v1/users/{user_id}/roles", "listAssignedRolesForUser", self.list_user_roles),
            get("/api/v1/users/{user_id}/grants", "listUserGrants", self.list_user_grants),
            get("/api/v1/groups", "listGroups", self.list_groups),
            get("/api/v1/groups/{group_id}", "getGroup", self.get_group),
            get("/api/v1/groups/{group_id}/users", "listGroupUsers", self.list_group_users),
            get("/api/v1/iam/assignees/users", "listUsersWithRoleAssignments", self.list_role_assignees),
            get("/api/v1/logs", "listLogEvents", self.list_logs),
            get("/api/v1/policies", "listPolicies", self.list_policies),
            get("/api/v1/policies/{policy_id}/rules", "listPolicyRules", self.list_policy_rules),
            get("/api/v1/authenticators", "listAuthenticators", self.list_authenticators),
            get("/api/v1/zones", "listNetworkZones", self.list_zones),
            get("/api/v1/api-tokens", "listApiTokens", self.list_api_tokens),
            self._route("/api/v1/users/{user_id}/lifecycle/suspend", {"POST": ("suspendUser", self.suspend_user)}),
            self._route(
                "/api/v1/users/{user_id}/lifecycle/unsuspend", {"POST": ("unsuspendUser", self.unsuspend_user)}
            ),
            self._route(
                "/api/v1/users/{user_id}/lifecycle/expire_password",
                {"POST": ("expirePassword", self.expire_password)},
            ),
            self._route("/api/v1/users/{user_id}/sessions", {"DELETE": ("revokeUserSessions", self.revoke_sessions)}),
            self._route(
                "/api/v1/users/{user_id}/grants/{grant_id}",
                {"GET": ("getUserGrant", self.get_user_grant), "DELETE": ("revokeUserGrant", self.revoke_grant)},
            ),
            self._route(
                "/api/v1/users/{user_id}/roles/{role_id}",
                {
                    "GET": ("getUserAssignedRole", self.get_user_role),
                    "DELETE": ("unassignRoleFromUser", self.unassign_role),
                },
            ),
            Route("/oauth2/v1/token", self.token_endpoint, methods=["POST"]),
            Route("/{path:path}", self._not_found, methods=methods),
        ]

    async def _not_found(self, request: Request) -> Response:
        return self._error(OktaError(404, "E0000008", "The requested path was not found"))

    def _error(self, err: OktaError) -> Response:
        headers = [("X-Okta-Request-Id", _request_id()), *err.headers]
        return json_response(okta_error_body(err.code, err.summary, err.causes), err.status, headers)

    def _endpoint(self, operation: str, handler: Callable[[Request, Principal], Response]) -> Callable[..., Any]:
        scope_needed = REQUIRED_SCOPES[operation]

        async def endpoint(request: Request) -> Response:
            try:
                if request.method not in ("GET", "HEAD"):
                    raise OktaError(
                        405,
                        "E0000022",
                        "The endpoint does not support the provided HTTP method",
                        headers=(("Allow", "GET"),),
                    )
                principal = self._authenticate(request, scope_needed)
                response = handler(request, principal)
            except OktaError as err:
                return self._error(err)
            response.raw_headers.append((b"x-okta-request-id", _request_id().encode()))
            return response

        return endpoint

    def _route(self, path: str, operations: dict[str, tuple[str, Callable[[Request, Principal], Response]]]) -> Route:
        """One path serving the given methods (each an operation of management.yaml, with its scope);
        any other method is answered 405 E0000022 with an Allow header, as Okta does."""
        allowed = ", ".join(sorted(operations))
        handlers = {method: (REQUIRED_SCOPES[op], handler) for method, (op, handler) in operations.items()}
        if "GET" in handlers:
            handlers["HEAD"] = handlers["GET"]

        async def endpoint(request: Request) -> Response:
            try:
                chosen = handlers.get(request.method)
                if chosen is None:
                    raise OktaError(
                        405,
                        "E0000022",
                        "The endpoint does not support the provided HTTP method",
                        headers=(("Allow", allowed),),
                    )
                principal = self._authenticate(request, chosen[0])
                with self._lock:  # a write and the reads of its own answer see one state
                    response = chosen[1](request, principal)
            except OktaError as err:
                return self._error(err)
            response.raw_headers.append((b"x-okta-request-id", _request_id().encode()))
            return response

        return Route(path, endpoint, methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"])

    def _www_authenticate(self, request: Request, error: str, description: str, scope: str) -> tuple[str, str]:
        base = self.base_url(request.scope)
        resource = (
            request.url.path[len(self.base_url_prefix) :]
            if request.url.path.startswith(self.base_url_prefix)
            else request.url.path
        )
        return challenge(
            "Bearer",
            authorization_uri=f"{base}/oauth2/v1/authorize",
            realm=base,
            scope=scope,
            error=error,
            error_description=description,
            resource=resource,
        )

    def _authenticate(self, request: Request, scope_needed: str) -> Principal:
        found = credential(request.headers.get("authorization", ""), ("ssws", "bearer"))
        principal: Principal | None = None
        if found is not None and found[0] == "ssws":
            owner = self._ssws.get(found[1])
            if owner is None or owner in self.tenant.deleted:
                raise OktaError(401, "E0000011", "Invalid token provided")
            t = self.tenant
            scopes = frozenset().union(*(ROLE_SCOPES[t.roles[ri]["type"]] for ri in t.user_roles[owner]))
            principal = Principal("ssws", scopes, user_index=owner)
        elif found is not None:
            try:
                claims = jwt.decode(
                    found[1],
                    self._jwt_secret,
                    algorithms=["HS256"],
                    audience=self.base_url(request.scope),
                    options={"require": ["exp"]},
                )
            except jwt.ExpiredSignatureError:
                raise OktaError(
                    401,
                    "E0000011",
                    "Invalid token provided",
                    headers=(self._www_authenticate(request, "invalid_token", "The token has expired.", scope_needed),),
                ) from None
            except jwt.PyJWTError:
                raise OktaError(
                    401,
                    "E0000011",
                    "Invalid token provided",
                    headers=(
                        self._www_authenticate(request, "invalid_token", "The access token is invalid.", scope_needed),
                    ),
                ) from None
            self._check_token_fault(request, claims, scope_needed)
            client = self._clients.get(claims.get("cid", ""))
            if client is None:
                raise OktaError(401, "E0000011", "Invalid token provided")
            allowed = frozenset().union(*(ROLE_SCOPES[r] for r in client.roles))
            principal = Principal("oauth", frozenset(claims.get("scp", [])) & allowed, client_id=client.client_id)
        else:
            raise OktaError(401, "E0000011", "Invalid token provided")
        if scope_needed not in principal.scopes:
            headers: tuple[tuple[str, str], ...] = ()
            if principal.kind == "oauth":
                headers = (
                    self._www_authenticate(
                        request,
                        "insufficient_scope",
                        "The access token provided does not contain the required scopes.",
                        scope_needed,
                    ),
                )
            raise OktaError(
                403, "E0000006", "You do not have permission to perform the requested action", headers=headers
            )
        return principal

    def _check_token_fault(self, request: Request, claims: dict[str, Any], scope_needed: str) -> None:
        """The token-expiry fault: an access token stops working after ``token_max_requests``
        requests or ``token_max_seconds`` seconds, with the 401 Okta sends for an expired token."""
        if self._token_lifetime.expired(self.faults, str(claims.get("jti", "")), float(claims.get("iat", 0))):
            self.note_fault("token_expired")
            raise OktaError(
                401,
                "E0000011",
                "Invalid token provided",
                headers=(self._www_authenticate(request, "invalid_token", "The token has expired.", scope_needed),),
            )

    def _page_response(
        self, request: Request, docs: list[dict[str, Any]], next_params: dict[str, str] | None, body: Any = None
    ) -> Response:
        """Serialize ``docs`` (or ``body``) with absolute links; Link headers self + next."""
        origin = request_origin_bytes(request)
        raw = orjson.dumps(docs if body is None else body).replace(ORIGIN_MARKER.encode(), origin)
        self_url = origin.decode("latin-1") + request.url.path
        query = request.url.query
        headers = [("Link", link(f"{self_url}{'?' + query if query else ''}", "self"))]
        if next_params is not None:
            headers.append(("Link", link(f"{self_url}?{urlencode(next_params, quote_via=quote)}", "next")))
        return json_response(raw, 200, headers)

    def _next_params(self, request: Request, **updates: str) -> dict[str, str]:
        params = dict(request.query_params)
        for key, value in updates.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        return params

    def _limit(self, params: Any, default: int, maximum: int) -> int:
        """The page size: ``limit`` (validated, clamped to the documented maximum), or the
        maximum itself under the ``large_pages`` fault."""
        value = _int_param(params, "limit", default, maximum)
        return maximum if self.faults.large_pages and value else value

    def _cached_view(self, key: tuple[Any, ...], build: Callable[[], list[int]]) -> list[int]:
        return self._views.get(key, build)

    # ---------------------------------------------------------------- users

    def _user_index(self, user_id: str, principal: Principal) -> int:
        t = self.tenant
        if user_id == "me":
            if principal.user_index is None:
                raise OktaError(404, "E0000007", "Not found: Resource not found: me (User)")
            return principal.user_index
        idx = t.user_index.get(user_id)
        if idx is None:
            idx = t.login_index.get(user_id.lower())
        if idx is None:
            raise OktaError(404, "E0000007", f"Not found: Resource not found: {user_id} (User)")
        return idx

    def _users_view(self, params: Any) -> list[int]:
        t = self.tenant
        flt, search, q = params.get("filter"), params.get("search"), params.get("q")
        if flt is None and search is None and not q:
            return self._default_users
        expr = search if search is not None else flt
        sort_by = params.get("sortBy") if search is not None else None
        sort_desc = (params.get("sortOrder") or "asc").lower() == "desc"
        key = ("users", "search" if search is not None else "filter", expr, q, sort_by, sort_desc)

        def build() -> list[int]:
            node = _parse_expression(expr, None if search is not None else _USER_FILTER_ATTRS)
            mentions_status = node is not None and any(c.attr == "status" for c in filters.comparisons(node))
            simple_status = (
                isinstance(node, filters.Comparison)
                and node.attr == "status"
                and node.op == "eq"
                and isinstance(node.value, str)
            )
            if simple_status and not q:
                return list(self._status_views.get(node.value.upper(), []))
            out = []
            qf = q.casefold() if q else None
            deleted = t.deleted
            for i, doc in enumerate(t.users):
                if i in deleted or (not mentions_status and t.user_status[i] == "DEPROVISIONED"):
                    continue
                if qf is not None:
                    p = doc["profile"]
                    if not any(
                        str(p.get(f) or "").casefold().startswith(qf) for f in ("firstName", "lastName", "email")
                    ):
                        continue
                if node is not None and not filters.evaluate(node, filters.dict_lookup(doc)):
                    continue
                out.append(i)
            if sort_by:
                getter = filters.dict_lookup
                out.sort(
                    key=lambda i: (str(getter(t.users[i])(sort_by) or "").casefold(), t.user_ids[i]), reverse=sort_desc
                )
            return out

        return self._cached_view(key, build)

    def list_users(self, request: Request, principal: Principal) -> Response:
        t = self.tenant
        params = request.query_params
        limit = self._limit(params, 10 if params.get("q") else 200, 200)
        view = self._users_view(params)
        after = params.get("after")
        sorted_search = params.get("search") is not None and params.get("sortBy")
        if not after:
            start = 0
        elif sorted_search:  # a sortBy order: the cursor is the last user's id, looked up in the view
            idx = t.user_index.get(after)
            try:
                start = view.index(idx) + 1 if idx is not None else len(view)
            except ValueError:
                start = len(view)
        else:
            start = bisect.bisect_left(view, bisect.bisect_right(t.user_ids, after))
        page = view[start : start + limit] if limit else []
        docs = [t.users[i] for i in page]
        more = start + len(page) < len(view) and bool(page)
        next_params = self._next_params(request, after=t.user_ids[page[-1]]) if more else None
        return self._page_response(request, docs, next_params)

    def get_user(self, request: Request, principal: Principal) -> Response:
        t = self.tenant
        idx = self._user_index(request.path_params["user_id"], principal)
        doc = dict(t.users[idx])
        uid = t.user_ids[idx]
        base = f"{t.link_base}/api/v1/users/{uid}"
        links: dict[str, Any] = {}
        for name in _STATUS_LINKS.get(doc["status"], ()):
            path = {
                "changePassword": "credentials/change_password",
                "changeRecoveryQuestion": "credentials/change_recovery_question",
                "forgotPassword": "credentials/forgot_password",
                "delete": "",
            }.get(name, f"lifecycle/{name.replace('Password', '_password').lower()}")
            method = "DELETE" if name == "delete" else "POST"
            links[name] = {"href": f"{base}/{path}".rstrip("/"), "method": method}
        links["schema"] = {"href": f"{t.link_base}/api/v1/meta/schemas/user/{t.user_schema_id}"}
        links["type"] = {"href": f"{t.link_base}/api/v1/meta/types/user/{t.user_type_id}"}
        links["self"] = {"href": base}
        doc["_links"] = links
        return self._page_response_single(request, doc)

    def _page_response_single(self, request: Request, doc: Any) -> Response:
        raw = orjson.dumps(doc).replace(ORIGIN_MARKER.encode(), request_origin_bytes(request))
        return json_response(raw, 200)

    def list_user_roles(self, request: Request, principal: Principal) -> Response:
        t = self.tenant
        idx = self._user_index(request.path_params["user_id"], principal)
        return self._page_response_single(request, [t.role_doc(ri) for ri in t.user_roles[idx]])

    def list_user_grants(self, request: Request, principal: Principal) -> Response:
        t = self.tenant
        params = request.query_params
        idx = self._user_index(request.path_params["user_id"], principal)
        limit = self._limit(params, 20, 200)
        grants = t.user_grants[idx]
        scope_id = params.get("scopeId")
        if scope_id:
            grants = [g for g in grants if t.grants[g]["scope"] == scope_id]
        start = 0
        after = params.get("after")
        if after:
            ids = [t.grants[g]["id"] for g in grants]
            start = ids.index(after) + 1 if after in ids else len(ids)
        page = grants[start : start + limit] if limit else []
        expand = "scope" in (params.get("expand") or "").split(",")
        docs = [t.grant_doc(g, expand_scope=expand) for g in page]
        more = start + len(page) < len(grants) and bool(page)
        nxt = self._next_params(request, after=t.grants[page[-1]]["id"]) if more else None
        return self._page_response(request, docs, nxt)

    # ---------------------------------------------------------------- governance writes (okta.actions)

    def _write(self, request: Request, principal: Principal, change: Callable[[int, int, int], Any]) -> None:
        """Apply `change(user index, actor index, now ms)` to the target user; Okta's error answer if refused.
        The actor is the API token's admin; an OAuth service app has no user (-1: rendered "unknown")."""
        ui = self._user_index(request.path_params["user_id"], principal)
        actor = principal.user_index if principal.user_index is not None else -1
        try:
            change(ui, actor, int(time.time() * 1000))
        except okta_actions.Refused as exc:
            raise OktaError(exc.status, exc.code, exc.summary) from None
        self._rebuild_views()

    def suspend_user(self, request: Request, principal: Principal) -> Response:
        self._write(request, principal, lambda ui, a, now: okta_actions.suspend(self.tenant, ui, a, now))
        return json_response({}, 200)

    def unsuspend_user(self, request: Request, principal: Principal) -> Response:
        self._write(request, principal, lambda ui, a, now: okta_actions.unsuspend(self.tenant, ui, a, now))
        return json_response({}, 200)

    def expire_password(self, request: Request, principal: Principal) -> Response:
        self._write(request, principal, lambda ui, a, now: okta_actions.expire_password(self.tenant, ui, a, now))
        return self.get_user(request, principal)

    def revoke_sessions(self, request: Request, principal: Principal) -> Response:
        self._write(request, principal, lambda ui, a, now: okta_actions.clear_sessions(self.tenant, ui, a, now))
        return Response(status_code=204)

    def get_user_grant(self, request: Request, principal: Principal) -> Response:
        t = self.tenant
        ui = self._user_index(request.path_params["user_id"], principal)
        try:
            gi = okta_actions.grant_of(t, ui, request.path_params["grant_id"])
        except okta_actions.Refused as exc:
            raise OktaError(exc.status, exc.code, exc.summary) from None
        expand = "scope" in (request.query_params.get("expand") or "").split(",")
        return self._page_response_single(request, t.grant_doc(gi, expand_scope=expand))

    def revoke_grant(self, request: Request, principal: Principal) -> Response:
        grant_id = request.path_params["grant_id"]
        self._write(request, principal, lambda ui, a, now: okta_actions.revoke_grant(self.tenant, ui, grant_id, a, now))
        return Response(status_code=204)

    def get_user_role(self, request: Request, principal: Principal) -> Response:
        t = self.tenant
        ui = self._user_index(request.path_params["user_id"], principal)
        try:
            ri = okta_actions.role_of(t, ui, request.path_params["role_id"], direct=False)
        except okta_actions.Refused as exc:
            raise OktaError(exc.status, exc.code, exc.summary) from None
        return self._page_response_single(request, t.role_doc(ri))

    def unassign_role(self, request: Request, principal: Principal) -> Response:
        role_id = request.path_params["role_id"]
        self._write(request, principal, lambda ui, a, now: okta_actions.unassign_role(self.tenant, ui, role_id, a, now))
        return Response(status_code=204)

    def forget(self, kind: str, object_id: str) -> dict[str, Any]:
        """Remove an object as another admin would, outside saaslens: ``account`` (a user id),
        ``app_grant`` (``userId/grantId``) or ``privilege`` (``userId/roleAssignmentId``)."""
        t = self.tenant
        with self._lock:
            if kind == "account":
                ui = t.user_index.get(object_id)
                if ui is None:
                    raise ValueError(f"no user {object_id!r}")
                okta_actions.forget_user(t, ui)
            elif kind in ("app_grant", "privilege"):
                user_id, sep, child = object_id.partition("/")
                ui = t.user_index.get(user_id)
                if not sep or ui is None:
                    raise ValueError(f"{kind} ids are 'userId/{'grantId' if kind == 'app_grant' else 'roleId'}'")
                try:
                    if kind == "app_grant":
                        okta_actions.forget_grant(t, ui, child)
                    else:
                        okta_actions.forget_role(t, ui, child)
                except okta_actions.Refused as exc:
                    raise ValueError(exc.summary) from None
            else:
                raise ValueError(f"the okta personality cannot forget {kind!r} objects (account, app_grant, privilege)")
            self._rebuild_views()
        return {"forgot": kind, "id": object_id}

    # ---------------------------------------------------------------- groups

    def _group_index(self, group_id: str) -> int:
        gi = self.tenant.group_index.get(group_id)
        if gi is None:
            raise OktaError(404, "E0000007", f"Not found: Resource not found: {group_id} (UserGroup)")
        return gi

    def _group_doc(self, gi: int, expand: set[str]) -> dict[str, Any]:
        t = self.tenant
        doc = t.groups[gi]
        if "stats" in expand:
            doc = dict(doc)
            doc["_embedded"] = {
                "stats": {
                    "usersCount": len(t.members[gi]),
                    "appsCount": 0,
                    "groupPushMappingsCount": 0,
                    "hasAdminPrivilege": any(r["assignmentType"] == "GROUP" and r["who"] == gi for r in t.roles),
                }
            }
        return doc

    def list_groups(self, request: Request, principal: Principal) -> Response:
        t = self.tenant
        params = request.query_params
        limit = self._limit(params, 10000, 10000)
        flt, search, q = params.get("filter"), params.get("search"), params.get("q")
        expand = set((params.get("expand") or "").split(","))
        if flt is None and search is None and not q:
            view = self._group_order
        else:
            expr = search if search is not None else flt

            def build() -> list[int]:
                node = _parse_expression(expr, None if search is not None else _GROUP_FILTER_ATTRS)
                qf = q.casefold() if q else None
                out = []
                for gi in self._group_order:
                    doc = t.groups[gi]
                    if qf is not None and not doc["profile"]["name"].casefold().startswith(qf):
                        continue
                    if node is not None and not filters.evaluate(node, filters.dict_lookup(doc)):
                        continue
                    out.append(gi)
                return out

            view = self._cached_view(("groups", flt, search, q), build)
        after = params.get("after")
        start = 0
        if after:
            ids = [t.group_ids[g] for g in view]
            start = bisect.bisect_right(ids, after)
        page = view[start : start + limit] if limit else []
        docs = [self._group_doc(gi, expand) for gi in page]
        more = start + len(page) < len(view) and bool(page)
        nxt = self._next_params(request, after=t.group_ids[page[-1]]) if more else None
        return self._page_response(request, docs, nxt)

    def get_group(self, request: Request, principal: Principal) -> Response:
        gi = self._group_index(request.path_params["group_id"])
        expand = set((request.query_params.get("expand") or "").split(","))
        return self._page_response_single(request, self._group_doc(gi, expand))

    def list_group_users(self, request: Request, principal: Principal) -> Response:
        t = self.tenant
        params = request.query_params
        gi = self._group_index(request.path_params["group_id"])
        limit = self._limit(params, 1000, 1000)
        members = t.members[gi]
        after = params.get("after")
        start = bisect.bisect_left(members, bisect.bisect_right(t.user_ids, after)) if after else 0
        page = members[start : start + limit] if limit else []
        more = start + len(page) < len(members) and bool(page)
        nxt = self._next_params(request, after=t.user_ids[page[-1]]) if more else None
        return self._page_response(request, [t.users[i] for i in page], nxt)

    # ---------------------------------------------------------------- roles

    def list_role_assignees(self, request: Request, principal: Principal) -> Response:
        t = self.tenant
        params = request.query_params
        limit = self._limit(params, 100, 100)
        holders = t.role_holders
        after = params.get("after")
        start = bisect.bisect_left(holders, bisect.bisect_right(t.user_ids, after)) if after else 0
        page = holders[start : start + limit] if limit else []
        more = start + len(page) < len(holders) and bool(page)
        links: dict[str, Any] = {}
        if more:
            base = self.base_url(request.scope)
            nxt = self._next_params(request, after=t.user_ids[page[-1]])
            links["next"] = {"href": f"{base}/api/v1/iam/assignees/users?{urlencode(nxt, quote_via=quote)}"}
        body = {"value": [t.assignee_doc(ui) for ui in page], "_links": links}
        raw = orjson.dumps(body).replace(ORIGIN_MARKER.encode(), request_origin_bytes(request))
        return json_response(raw, 200)

    # ---------------------------------------------------------------- security configuration

    def _settings_links(self, kind: str, object_id: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
        base = f"{ORIGIN_MARKER}{self.base_url_prefix}/api/v1/{kind}/{object_id}"
        links: dict[str, Any] = {"self": {"href": base, "hints": {"allow": ["GET", "PUT", "DELETE"]}}}
        for name in extra:
            links[name] = {"href": f"{base}/{name}", "hints": {"allow": ["GET"]}}
        return links

    def list_policies(self, request: Request, principal: Principal) -> Response:
        """List all policies of a type (``type`` is required; ``status`` filters):
        https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/#tag/Policy/operation/listPolicies
        An org without a feature answers E0000015 "You do not have permission to access the feature
        you are requesting" (HTTP 401, https://developer.okta.com/docs/reference/error-codes/):
        authentication policies (ACCESS_POLICY) exist only in Identity Engine orgs
        (https://developer.okta.com/docs/concepts/policies/)."""
        params = request.query_params
        ptype = params.get("type")
        if not ptype:
            raise _bad_request("type", "The type parameter is required")
        if ptype not in POLICY_TYPES:
            raise _bad_request("type", f"'{ptype}' is not a valid policy type")
        if ptype == "ACCESS_POLICY" and not self.options.identity_engine:
            raise OktaError(401, "E0000015", "You do not have permission to access the feature you are requesting")
        status = params.get("status")
        policies = [p for p in self.tenant.settings.policies_of(ptype) if status is None or p["status"] == status]
        docs = [p | {"_links": self._settings_links("policies", p["id"], ("rules",))} for p in policies]
        return self._page_response(request, docs, None)

    def list_policy_rules(self, request: Request, principal: Principal) -> Response:
        """List all policy rules, by priority:
        https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/#tag/Policy/operation/listPolicyRules"""
        policy_id = request.path_params["policy_id"]
        settings = self.tenant.settings
        policy = next((p for p in settings.policies if p["id"] == policy_id), None)
        if policy is None or (policy["type"] == "ACCESS_POLICY" and not self.options.identity_engine):
            raise OktaError(404, "E0000007", f"Not found: Resource not found: {policy_id} (Policy)")
        rules = sorted(settings.rules[policy_id], key=lambda r: r["priority"])
        docs = [r | {"_links": self._settings_links(f"policies/{policy_id}/rules", r["id"])} for r in rules]
        return self._page_response(request, docs, None)

    def list_authenticators(self, request: Request, principal: Principal) -> Response:
        """List all authenticators (no paging):
        https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Authenticator/#tag/Authenticator/operation/listAuthenticators"""
        docs = [
            a | {"_links": self._settings_links("authenticators", a["id"], ("methods",))}
            for a in self.tenant.settings.authenticators
        ]
        return self._page_response(request, docs, None)

    def _cursor_page(self, request: Request, items: list[dict[str, Any]], default: int, maximum: int) -> Response:
        """``after`` (the last id of the previous page) and ``limit`` paging with a Link next."""
        params = request.query_params
        raw_limit = params.get("limit")
        limit = len(items) if default < 0 and not raw_limit else max(1, self._limit(params, default, maximum))
        after = params.get("after")
        start = 0
        if after:
            start = next((k + 1 for k, item in enumerate(items) if item["id"] == after), len(items))
        page = items[start : start + limit]
        more = start + len(page) < len(items)
        return self._page_response(request, page, self._next_params(request, after=page[-1]["id"]) if more else None)

    def list_zones(self, request: Request, principal: Principal) -> Response:
        """List all network zones (``limit`` default -1: every zone; ``after``):
        https://developer.okta.com/docs/api/openapi/okta-management/management/tag/NetworkZone/#tag/NetworkZone/operation/listNetworkZones"""
        docs = [z | {"_links": self._settings_links("zones", z["id"], ())} for z in self.tenant.settings.zones]
        return self._cursor_page(request, docs, -1, 1000)

    def list_api_tokens(self, request: Request, principal: Principal) -> Response:
        """List the org's API token metadata (``limit`` default 20, at most 200; ``after``):
        https://developer.okta.com/docs/api/openapi/okta-management/management/tag/ApiToken/#tag/ApiToken/operation/listApiTokens"""
        lb = f"{ORIGIN_MARKER}{self.base_url_prefix}"
        docs = [
            tok
            | {
                "_links": {
                    "self": {"href": f"{lb}/api/v1/api-tokens/{tok['id']}", "hints": {"allow": ["GET", "DELETE"]}},
                    "user": {"href": f"{lb}/api/v1/users/{tok['userId']}", "hints": {"allow": ["GET"]}},
                }
            }
            for tok in self.tenant.settings.api_tokens
        ]
        return self._cursor_page(request, docs, 20, 200)

    # ---------------------------------------------------------------- System Log

    def _log_view(self, flt: str | None, q: str | None) -> list[int] | None:
        """Positions of events matching filter/q (None = all events), cached per expression."""
        if not flt and not q:
            return None
        t = self.tenant

        def build() -> list[int]:
            node = None
            if flt:
                try:
                    node = filters.parse(flt)
                except filters.FilterError as exc:
                    raise OktaError(400, "E0000031", "Invalid search criteria.", (str(exc),)) from None
            attrs = {c.attr for c in filters.comparisons(node)} if node is not None else set()
            words = [w.casefold() for w in (q or "").split()]
            if len(words) > 10 or any(len(w) > 40 for w in words):
                raise _bad_request("q", "at most 10 keywords of at most 40 characters")
            kind_ok = None
            if attrs <= _KIND_ATTRS and not words:
                kind_ok = {k for k, kind in enumerate(KINDS) if filters.evaluate(node, _kind_lookup(kind))}
                return [i for i, k in enumerate(t.ev_kind) if k in kind_ok]
            out = []
            compact = attrs <= (_KIND_ATTRS | _ACTOR_ATTRS)
            for i in range(t.event_count):
                kind = KINDS[t.ev_kind[i]]
                if compact:
                    aid, alt, disp = t.event_actor_login(i)
                    actor = {"actor.id": aid, "actor.alternateId": alt, "actor.displayName": disp, "actor.type": "User"}
                    base_lookup = _kind_lookup(kind)

                    def lookup(attr: str, _a: dict[str, str] = actor, _b: Any = base_lookup) -> Any:
                        return _a[attr] if attr in _a else _b(attr)

                    if node is not None and not filters.evaluate(node, lookup):
                        continue
                    if words:
                        hay = " ".join((kind.event_type, kind.message, aid, alt, disp)).casefold()
                        if not all(w in hay for w in words):
                            continue
                else:
                    doc = t.render_event(i)
                    if node is not None and not filters.evaluate(node, filters.dict_lookup(doc)):
                        continue
                    if words:
                        actor = doc["actor"]
                        hay = " ".join(
                            (kind.event_type, kind.message, actor["id"], actor["alternateId"], actor["displayName"])
                        ).casefold()
                        if not all(w in hay for w in words):
                            continue
                out.append(i)
            return out

        return self._cached_view(("logs", flt, q), build)

    def _encode_cursor(self, pos: int) -> str:
        ts = self.tenant.ev_ts
        n = len(ts)
        if n == 0:
            return "0_0"
        ms = ts[pos] if pos < n else ts[n - 1]
        return f"{ms}_{pos - bisect.bisect_left(ts, ms)}"

    def _decode_cursor(self, cursor: str) -> int:
        ms_s, sep, k_s = cursor.partition("_")
        try:
            ms, k = int(ms_s), int(k_s)
        except ValueError:
            raise _bad_request("after", f"'{cursor}' is not a valid cursor") from None
        if not sep or k < 0:
            raise _bad_request("after", f"'{cursor}' is not a valid cursor")
        return min(len(self.tenant.ev_ts), bisect.bisect_left(self.tenant.ev_ts, ms) + k)

    def list_logs(self, request: Request, principal: Principal) -> Response:
        t = self.tenant
        params = request.query_params
        now_ms = int(time.time() * 1000)
        limit = self._limit(params, 100, 1000)
        since = _parse_time(params, "since")
        until = _parse_time(params, "until")
        order = (params.get("sortOrder") or "ASCENDING").upper()
        if order not in ("ASCENDING", "DESCENDING"):
            raise _bad_request("sortOrder", "must be ASCENDING or DESCENDING")
        if since is None:
            since = now_ms - 7 * 86_400_000
        if until is not None and until < since:
            raise _bad_request("until", "must not be before since")
        polling = order == "ASCENDING" and until is None
        ts = t.ev_ts
        lo = bisect.bisect_left(ts, since)
        hi = bisect.bisect_left(ts, until) if until is not None else bisect.bisect_right(ts, now_ms)
        view = self._log_view(params.get("filter"), params.get("q"))
        after = params.get("after")

        # positions are indexes into the full event arrays; a filtered view lists the matching ones
        def view_range(a: int, b: int) -> tuple[int, int]:
            if view is None:
                return a, b
            return bisect.bisect_left(view, a), bisect.bisect_left(view, b)

        def pos_of(vi: int) -> int:
            return vi if view is None else view[vi]

        # events that arrived "late" (advance(late_events=...)) are skipped until their visible_at
        hidden = set(t.hidden_positions(now_ms)) if t.ev_pending else set()

        def visible_run(indexes: range) -> tuple[list[int], bool]:
            """Up to `limit` visible positions along `indexes`, and whether a visible one follows."""
            if not hidden:
                taken = indexes[:limit]
                return [pos_of(v) for v in taken], len(indexes) > len(taken)
            out: list[int] = []
            for v in indexes:
                p = pos_of(v)
                if p in hidden:
                    continue
                if len(out) == limit:
                    return out, True
                out.append(p)
            return out, False

        if order == "ASCENDING":
            start = max(lo, self._decode_cursor(after)) if after else lo
            vs, ve = view_range(start, max(start, hi))
            positions, more = visible_run(range(vs, ve))
            boundary = positions[-1] + 1 if positions else start
        else:
            top = min(hi, self._decode_cursor(after)) if after else hi
            vs, ve = view_range(lo, max(lo, top))
            positions, more = visible_run(range(ve - 1, vs - 1, -1))
            boundary = positions[-1] if positions else top
        docs = [t.render_event(i) for i in positions]
        nxt = None
        if polling or (more and positions):
            nxt = self._next_params(request, after=self._encode_cursor(boundary))
        return self._page_response(request, docs, nxt)

    # ---------------------------------------------------------------- OAuth 2.0 token endpoint

    def _oauth_error(self, status: int, error: str, description: str) -> Response:
        return json_response(
            oauth_error_body(error, description),
            status,
            [("X-Okta-Request-Id", _request_id()), ("Cache-Control", "no-store"), ("Pragma", "no-cache")],
        )

    def _public_key(self, client_id: str) -> Any:
        key = self._client_keys.get(client_id)
        if key is None:
            from cryptography.hazmat.primitives.serialization import load_pem_public_key

            key = load_pem_public_key(self._clients[client_id].public_key_pem.encode())
            self._client_keys[client_id] = key
        return key

    async def token_endpoint(self, request: Request) -> Response:
        ctype = request.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" not in ctype:
            return self._oauth_error(
                400, "invalid_request", "The request must be sent with Content-Type application/x-www-form-urlencoded."
            )
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        grant_type = form.get("grant_type")
        if not grant_type:
            return self._oauth_error(400, "invalid_request", "The 'grant_type' parameter is required.")
        if grant_type != "client_credentials":
            return self._oauth_error(
                400,
                "unsupported_grant_type",
                f"The authorization grant type '{grant_type}' is not supported by the "
                "authorization server. Configured grant types: [client_credentials].",
            )
        assertion_type = form.get("client_assertion_type")
        assertion = form.get("client_assertion")
        if not assertion or assertion_type != CLIENT_ASSERTION_TYPE:
            return self._oauth_error(
                401,
                "invalid_client",
                "Client authentication failed. Either the client or the client credentials "
                "are invalid. (private_key_jwt with client_assertion_type "
                f"{CLIENT_ASSERTION_TYPE} is required)",
            )
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return self._oauth_error(401, "invalid_client", "The client_assertion is not a valid JWT.")
        client_id = form.get("client_id") or unverified.get("sub") or unverified.get("iss")
        if not isinstance(client_id, str) or client_id not in self._clients:
            return self._oauth_error(401, "invalid_client", "Invalid value for 'client_id' parameter.")
        if unverified.get("iss") != client_id or unverified.get("sub") != client_id:
            return self._oauth_error(
                401, "invalid_client", "The client_assertion token's 'iss' and 'sub' claims must be the client_id."
            )
        if header.get("alg") != "RS256":
            return self._oauth_error(
                401,
                "invalid_client",
                f"The client_assertion signature algorithm '{header.get('alg')}' is not "
                "allowed; the app's key is RS256.",
            )
        token_url = self.base_url(request.scope) + "/oauth2/v1/token"
        try:
            claims = jwt.decode(
                assertion,
                self._public_key(client_id),
                algorithms=["RS256"],
                audience=token_url,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            return self._oauth_error(401, "invalid_client", "The client_assertion token is expired.")
        except jwt.InvalidAudienceError:
            return self._oauth_error(
                401,
                "invalid_client",
                "The audience claim for client_assertion must be the endpoint invoking the "
                f"client_assertion: {token_url}",
            )
        except jwt.InvalidSignatureError:
            return self._oauth_error(
                401, "invalid_client", "The client_assertion signature is invalid (no registered key matches)."
            )
        except jwt.MissingRequiredClaimError as exc:
            return self._oauth_error(401, "invalid_client", f"The client_assertion is missing the '{exc.claim}' claim.")
        except jwt.PyJWTError as exc:
            return self._oauth_error(401, "invalid_client", f"The client_assertion is invalid: {exc}")
        now = time.time()
        if claims["exp"] > now + 3600:
            return self._oauth_error(
                401, "invalid_client", "The client_assertion token has an expiration too far into the future."
            )
        jti = claims.get("jti")
        if jti is not None:
            for old in [j for j, exp in self._seen_jti.items() if exp < now]:
                del self._seen_jti[old]
            key = f"{client_id}:{jti}"
            if key in self._seen_jti:
                return self._oauth_error(401, "invalid_client", "The client_assertion token has already been used.")
            self._seen_jti[key] = float(claims["exp"])
        client = self._clients[client_id]
        requested = form.get("scope", "").split()
        if not requested:
            return self._oauth_error(
                400,
                "invalid_scope",
                "The authorization server resource does not have any configured default "
                "scopes, 'scope' must be provided.",
            )
        not_granted = [s for s in requested if s not in client.scopes]
        if not_granted:
            return self._oauth_error(
                400,
                "invalid_scope",
                f"The following scopes are not granted to the client: {' '.join(not_granted)}. "
                "Requested scopes must already be in the application's grants.",
            )
        ttl = self.options.access_token_ttl_seconds
        issued = int(now)
        token_id = "AT." + secrets.token_urlsafe(24)
        self._token_lifetime.issued(token_id, now)
        access = jwt.encode(
            {
                "ver": 1,
                "jti": token_id,
                "iss": self.base_url(request.scope),
                "aud": self.base_url(request.scope),
                "iat": issued,
                "exp": math.ceil(now) + ttl,  # never shorter-lived than expires_in says
                "cid": client_id,
                "scp": requested,
                "sub": client_id,
            },
            self._jwt_secret,
            algorithm="HS256",
            headers={"kid": hashlib.sha256(self._jwt_secret).hexdigest()[:16]},
        )
        return json_response(
            {"token_type": "Bearer", "expires_in": ttl, "access_token": access, "scope": " ".join(requested)},
            200,
            [("X-Okta-Request-Id", _request_id()), ("Cache-Control", "no-store"), ("Pragma", "no-cache")],
        )


def _kind_lookup(kind: Any) -> Callable[[str], Any]:
    values = {
        "eventType": kind.event_type,
        "legacyEventType": kind.legacy,
        "outcome.result": kind.result,
        "outcome.reason": kind.reason,
        "severity": kind.severity,
        "displayMessage": kind.message,
        "version": "0",
    }
    return values.get


def request_origin_bytes(request: Request) -> bytes:
    return core.request_origin(request.scope).encode("latin-1")
