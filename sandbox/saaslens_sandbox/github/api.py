"""The GitHub personality: an Enterprise Cloud organization behind the REST API.

Built from GitHub's OpenAPI description for Enterprise Cloud (github/rest-api-description
``descriptions/ghec/``, npm ``@octokit/openapi``; read by the contract test, never copied here) and
GitHub's documentation. Facts relied on, with sources:

* Endpoints, parameters (``per_page`` default 30, "max 100"; ``page``; ``role``, ``filter`` on
  members; ``role`` on team members; ``phrase``/``include``/``after``/``before``/``order`` on the
  audit log, ``include`` default ``web``, ``order`` default ``desc``), response schemas and who may
  call them ("The authenticated user must be an organization owner"; classic tokens "need the
  ``read:audit_log`` scope"): the OpenAPI description, rendered at
  https://docs.github.com/enterprise-cloud@latest/rest/orgs/orgs#get-the-audit-log-for-an-organization,
  .../rest/orgs/members, .../rest/teams/members, .../rest/orgs/outside-collaborators,
  .../rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization,
  .../rest/orgs/orgs#list-app-installations-for-an-organization.
* Page-number pagination with ``Link: <...page=2>; rel="next", <...page=5>; rel="last"``:
  https://docs.github.com/enterprise-cloud@latest/rest/using-the-rest-api/using-pagination-in-the-rest-api ;
  cursor pagination of the audit log (``after``/``before`` in ``next``/``first``/``prev`` links):
  https://docs.github.com/enterprise-cloud@latest/admin/monitoring-activity-in-your-enterprise/reviewing-audit-logs-for-your-enterprise/using-the-audit-log-api-for-your-enterprise
  (which also gives the audit log's own limit of 1,750 queries per hour).
* Rate limits: ``x-ratelimit-limit``/``-remaining``/``-used``/``-reset`` (UTC epoch seconds)/
  ``-resource``; exceeding the primary limit gives 403 or 429 with ``x-ratelimit-remaining: 0``,
  a secondary limit 403 or 429 with a message saying so and maybe ``retry-after``:
  https://docs.github.com/enterprise-cloud@latest/rest/using-the-rest-api/rate-limits-for-the-rest-api
  and .../troubleshooting-the-rest-api. Messages as GitHub sends them ("API rate limit exceeded for
  user ID ...", "You have exceeded a secondary rate limit...") as recorded in
  https://github.com/KnpLabs/php-github-api/issues/1070.
* Errors ``{"message", "documentation_url", "status"}`` (``basic-error``); 401 "Bad credentials"
  and "Requires authentication"; fine-grained tokens and apps without a permission get 403
  "Resource not accessible by personal access token" / "... by integration" with
  ``X-Accepted-GitHub-Permissions``; classic tokens missing ``read:org`` see 404 (troubleshooting
  page above; https://github.com/srvaroa/labeler/pull/188); a non-owner reading the audit log gets
  403 "Must have admin rights to ..." (https://github.com/splunk/github-audit-log-monitoring-add-on-for-splunk/issues/16);
  ``X-OAuth-Scopes``/``X-Accepted-OAuth-Scopes`` on classic-token responses:
  https://docs.github.com/enterprise-cloud@latest/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps
* GitHub App auth: an RS256 JWT with ``iat`` (60 s in the past recommended), ``exp`` at most 10
  minutes ahead, ``iss`` the client ID or app ID, exchanged at
  ``POST /app/installations/{installation_id}/access_tokens`` (201, ``token``, ``expires_at`` one
  hour ahead, ``permissions``):
  https://docs.github.com/enterprise-cloud@latest/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
  and .../rest/apps/apps#create-an-installation-access-token-for-an-app.

Sandbox choices where GitHub publishes nothing (documented in docs/connectors/github.md): the
wording "You need at least read:audit_log scope..." for a classic token without that scope
(modelled on GitHub's "You need at least read:org scope..."), 404 for the audit log and credential
authorizations of organizations without Enterprise Cloud or without SAML SSO, 422 "Only owners can
use this filter." for ``filter=2fa_disabled`` by a non-owner, and that injected throttles are
answered as secondary rate limits (alternately 403 and 429, with ``Retry-After``).
"""

from __future__ import annotations

import bisect
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode

import jwt
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from saaslens_sandbox import core
from saaslens_sandbox.core import AdvanceNotSupported, Personality, Scope, TenantSpec, ViewCache, json_response
from saaslens_sandbox.github import workforce as github_workforce
from saaslens_sandbox.github.audit_query import (
    AuditQuery,
    PhraseError,
    decode_cursor,
    encode_cursor,
    event_matches,
    parse_phrase,
)
from saaslens_sandbox.github.emu import (
    SCIM_LIST_SCHEMA,
    SCIM_PATCH_SCHEMA,
    ScimFilterError,
    parse_filter,
    scim_error,
)
from saaslens_sandbox.github.generator import ORIGIN_MARKER, AppSpec, GitHubOptions, GitHubTenant, b62, iso
from saaslens_sandbox.github.settings import actions_document, hook_document
from saaslens_sandbox.kit.auth import credential
from saaslens_sandbox.kit.paging import PagingStyle, link
from saaslens_sandbox.kit.ratelimit import limit_headers
from saaslens_sandbox.workforce import Person, PlannedAccount

API_VERSIONS = frozenset({"2022-11-28"})
DOCS = "https://docs.github.com/enterprise-cloud@latest/rest"
ORG_READ_SCOPES = frozenset({"read:org", "write:org", "admin:org"})
AUDIT_LOG_LIMIT_PER_HOUR = 1750
JSON_TYPE = "application/json; charset=utf-8"

OPERATION_DOCS = {
    "members": f"{DOCS}/orgs/members#list-organization-members",
    "outside_collaborators": f"{DOCS}/orgs/outside-collaborators#list-outside-collaborators-for-an-organization",
    "teams": f"{DOCS}/teams/teams#list-teams",
    "team_members": f"{DOCS}/teams/members#list-team-members",
    "installations": f"{DOCS}/orgs/orgs#list-app-installations-for-an-organization",
    "credential_authorizations": f"{DOCS}/orgs/orgs#list-saml-sso-authorizations-for-an-organization",
    "repos": f"{DOCS}/repos/repos#list-organization-repositories",
    "audit_log": f"{DOCS}/orgs/orgs#get-the-audit-log-for-an-organization",
    "org": f"{DOCS}/orgs/orgs#get-an-organization",
    "user": f"{DOCS}/users/users#get-the-authenticated-user",
    "user_by_id": f"{DOCS}/users/users#get-a-user-using-their-id",
    "access_token": f"{DOCS}/apps/apps#create-an-installation-access-token-for-an-app",
    "get_membership": f"{DOCS}/orgs/members#get-organization-membership-for-a-user",
    "set_membership": f"{DOCS}/orgs/members#set-organization-membership-for-a-user",
    "remove_membership": f"{DOCS}/orgs/members#remove-organization-membership-for-a-user",
    "remove_outside_collaborator": f"{DOCS}/orgs/outside-collaborators"
    "#remove-outside-collaborator-from-an-organization",
    "remove_credential_authorization": f"{DOCS}/orgs/orgs#remove-a-saml-sso-authorization-for-an-organization",
    "convert_member": f"{DOCS}/orgs/outside-collaborators#convert-an-organization-member-to-outside-collaborator",
    "enterprise_audit_log": f"{DOCS}/enterprise-admin/audit-log#get-the-audit-log-for-an-enterprise",
    "scim_list": f"{DOCS}/enterprise-admin/scim#list-scim-provisioned-identities-for-an-enterprise",
    "scim_get": f"{DOCS}/enterprise-admin/scim#get-scim-provisioning-information-for-an-enterprise-user",
    "scim_patch": f"{DOCS}/enterprise-admin/scim#update-an-attribute-for-a-scim-enterprise-user",
    "actions_permissions": f"{DOCS}/actions/permissions#get-github-actions-permissions-for-an-organization",
    "actions_workflow_permissions": (
        f"{DOCS}/actions/permissions#get-default-workflow-permissions-for-an-organization"
    ),
    "hooks": f"{DOCS}/orgs/webhooks#list-organization-webhooks",
}
SCIM_TYPE = "application/scim+json; charset=utf-8"
# Tokens that may read the enterprise's SCIM identities: the SCIM scope, or admin:enterprise, which
# covers every enterprise endpoint (provisioning-users-and-groups-with-scim-using-the-rest-api,
# "Limit the scope of the SCIM token"; the 2023-09-07 changelog: admin:enterprise tokens "make GET
# requests from SCIM clients"). Writes need the setup user's token as well.
SCIM_SCOPES = frozenset({"scim:enterprise", "admin:enterprise"})


@dataclass(frozen=True)
class Principal:
    kind: str  # classic | fine_grained | installation
    user: int | None = None  # the token's user (personal access tokens)
    owner: bool = False
    scopes: frozenset[str] = frozenset()
    permissions: dict[str, str] = field(default_factory=dict)
    installation_id: int | None = None
    enterprise_owner: bool = False
    setup_user: bool = False

    @property
    def label(self) -> str:
        return "integration" if self.kind == "installation" else "personal access token"


class GitHubError(Exception):
    """Raised in handlers; becomes GitHub's ``basic-error`` body."""

    def __init__(
        self,
        status: int,
        message: str,
        doc: str = f"{DOCS}",
        headers: Sequence[tuple[str, str]] = (),
        scim: bool = False,
        scim_type: str | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.doc, self.headers = status, message, doc, tuple(headers)
        # SCIM endpoints answer errors as GitHub's ``scim-error`` (application/scim+json).
        self.scim, self.scim_type = scim, scim_type


def error_body(status: int, message: str, doc: str) -> dict[str, Any]:
    return {"message": message, "documentation_url": doc, "status": str(status)}


def _request_id() -> str:
    parts = [secrets.token_hex(2).upper(), secrets.token_hex(2).upper(), secrets.token_hex(3).upper()]
    return ":".join([*parts, secrets.token_hex(3).upper(), secrets.token_hex(4).upper()])


def _per_page(request: Request) -> int:
    raw = request.query_params.get("per_page")
    try:
        value = int(raw) if raw else 30
    except ValueError:
        value = 30
    return max(1, min(value, 100))


def _page(request: Request) -> int:
    raw = request.query_params.get("page")
    try:
        return max(1, int(raw)) if raw else 1
    except ValueError:
        return 1


class GitHubPersonality(Personality):
    """One organization: ``/orgs/{org}/...`` (and the ``/organizations/{id}/...`` forms used in links)."""

    app: ClassVar[str] = "github"
    # https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
    paging: ClassVar[PagingStyle] = PagingStyle(
        "link_header",
        accounts_listing=r"/orgs/[^/]+/members",
        group_listing=r"/orgs/[^/]+/teams",
        id_field="slug",
        text_field="login",
    )

    def __init__(self, spec: TenantSpec, base_url_prefix: str):
        super().__init__(spec, base_url_prefix)
        self.options = GitHubOptions.model_validate(spec.options)
        self.validate_options(spec.options)
        anchor = self.options.anchor or core.server_start_time()
        self.tenant = GitHubTenant(
            spec.name, spec.seed, spec.users, self.options, anchor, api_base=ORIGIN_MARKER + self.base_url_prefix
        )
        t = self.tenant
        self._tokens: dict[str, Principal] = {}
        for spec_token, user in zip(t.tokens, t.token_users, strict=True):
            self._tokens[spec_token.token] = Principal(
                kind=spec_token.kind,
                user=user,
                owner=spec_token.owner,
                scopes=frozenset(spec_token.scopes),
                permissions=dict(spec_token.permissions),
                enterprise_owner=spec_token.enterprise_owner or spec_token.setup_user,
                setup_user=spec_token.setup_user,
            )
        self._apps = list(self.options.apps)
        self._app_keys: dict[int, Any] = {}
        self._issued: dict[str, tuple[Principal, float]] = {}
        self._views = ViewCache()
        self._throttle_flip = 0

    # ---------------------------------------------------------------- framework hooks

    @classmethod
    def workforce_plan(cls, people: Mapping[str, Person]) -> tuple[PlannedAccount, ...]:
        return github_workforce.plan(people)

    @classmethod
    def validate_options(cls, options: dict[str, Any]) -> None:
        opts = GitHubOptions.model_validate(options)
        tokens = [t.token for t in opts.tokens or []]
        if len(tokens) != len(set(tokens)):
            raise ValueError("tokens: duplicate token values")
        if len({a.app_id for a in opts.apps}) != len(opts.apps):
            raise ValueError("apps: duplicate app_id values")

    def rate_limit_bucket(self, method: str, path: str) -> str | None:
        if path.startswith("/app/"):
            return None  # JWT-authenticated app endpoints are counted against the app, not the org
        return "audit_log" if path.rstrip("/").endswith("/audit-log") else "core"

    def rate_limit_per_minute(self, bucket: str) -> int:
        per_hour = AUDIT_LOG_LIMIT_PER_HOUR if bucket == "audit_log" else self.options.core_limit_per_hour
        return max(1, per_hour // 60)

    def rate_limit_headers(self, limit: int, remaining: int, reset_epoch: int) -> list[tuple[str, str]]:
        return [
            *limit_headers("x-ratelimit-", limit, remaining, reset_epoch),
            ("x-ratelimit-used", str(limit - remaining)),
            ("x-ratelimit-resource", "core"),
        ]

    def too_many_requests(self, scope: Scope, limit: int, reset_epoch: int) -> Response:
        request_id = _request_id()
        headers = [("x-github-request-id", request_id)]
        if self._primary_limit_exhausted(scope):
            principal = self._principal_or_none(scope)
            who = (
                f"installation ID {principal.installation_id}"
                if principal is not None and principal.kind == "installation"
                else f"user ID {self.tenant.users[principal.user].id}"
                if principal is not None and principal.user is not None
                else "IP address"
            )
            message = (
                f"API rate limit exceeded for {who}. If you reach out to GitHub Support for help, "
                f"please include the request ID {request_id}."
            )
            doc = f"{DOCS}/overview/rate-limits-for-the-rest-api#about-the-rate-limit"
            return json_response(error_body(403, message, doc), 403, headers, media_type=JSON_TYPE)
        # Anything else (a burst, an injected fault) is a secondary limit, sent as 403 or 429.
        self._throttle_flip += 1
        status = 429 if self._throttle_flip % 2 else 403
        message = (
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
            f"If you reach out to GitHub Support for help, please include the request ID {request_id}."
        )
        doc = f"{DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
        headers.append(("retry-after", str(self.options.secondary_retry_after_seconds)))
        return json_response(error_body(status, message, doc), status, headers, media_type=JSON_TYPE)

    def _primary_limit_exhausted(self, scope: Scope) -> bool:
        path = scope["path"]
        root = scope.get("root_path", "")
        bucket = self.rate_limit_bucket(scope["method"], path[len(root) :] if path.startswith(root) else path)
        if bucket != "core":
            return False
        return self.requests_in_window(bucket) > self._limit_for(bucket)

    def server_error(self, scope: Scope, status: int) -> Response:
        message = {500: "Server Error", 502: "Server Error", 503: "Service Unavailable"}.get(status, "Server Error")
        return json_response({"message": message}, status, [("x-github-request-id", _request_id())], JSON_TYPE)

    def html_error(self, scope: Scope, status: int) -> Response:
        page = (
            '<!DOCTYPE html>\n<html>\n  <head>\n    <meta http-equiv="Content-type" content="text/html; '
            'charset=utf-8">\n    <title>Unicorn! &middot; GitHub</title>\n  </head>\n  <body>\n    '
            "<p><strong>We had issues producing the response to your request.</strong></p>\n    "
            "<p>Sorry about that. Please try refreshing and contact us if the problem persists.</p>\n"
            "  </body>\n</html>\n"
        )
        return Response(page.encode(), status_code=status, media_type="text/html; charset=utf-8")

    # ---------------------------------------------------------------- ground truth

    def ground_truth(self) -> dict[str, Any]:
        return self.ground_truth_for(self.origin or "http://127.0.0.1:8765")

    def ground_truth_for(self, origin: str) -> dict[str, Any]:
        t = self.tenant
        truth = t.ground_truth()
        truth["credentials"] = {
            "tokens": [
                {
                    "token": spec.token,
                    "kind": spec.kind,
                    "scopes": list(spec.scopes),
                    "permissions": dict(spec.permissions),
                    "owner": spec.owner,
                    "login": t.users[user].login,
                    "user_id": t.users[user].id,
                }
                for spec, user in zip(t.tokens, t.token_users, strict=True)
            ],
            "apps": [
                {"app_id": a.app_id, "client_id": a.client_id, "installation_id": a.installation_id,
                 "permissions": dict(a.permissions)}
                for a in self._apps
            ],
        }  # fmt: skip
        raw = orjson.dumps(truth).replace(ORIGIN_MARKER.encode(), origin.encode())
        return orjson.loads(raw)

    # ---------------------------------------------------------------- routing and plumbing

    def routes(self) -> list[BaseRoute]:
        get = ["GET"]
        return [
            Route("/orgs/{org}", self._endpoint("org", self.get_org), methods=get),
            Route("/user", self._endpoint("user", self.get_user), methods=get),
            Route("/user/{account_id}", self._endpoint("user_by_id", self.get_user_by_id), methods=get),
            Route("/orgs/{org}/members", self._endpoint("members", self.list_members), methods=get),
            Route("/organizations/{org_id}/members", self._endpoint("members", self.list_members), methods=get),
            Route(
                "/orgs/{org}/outside_collaborators",
                self._endpoint("outside_collaborators", self.list_outside_collaborators),
                methods=get,
            ),
            Route(
                "/organizations/{org_id}/outside_collaborators",
                self._endpoint("outside_collaborators", self.list_outside_collaborators),
                methods=get,
            ),
            Route("/orgs/{org}/teams", self._endpoint("teams", self.list_teams), methods=get),
            Route("/organizations/{org_id}/teams", self._endpoint("teams", self.list_teams), methods=get),
            Route(
                "/orgs/{org}/teams/{team_slug}/members",
                self._endpoint("team_members", self.list_team_members),
                methods=get,
            ),
            Route(
                "/organizations/{org_id}/team/{team_id}/members",
                self._endpoint("team_members", self.list_team_members),
                methods=get,
            ),
            Route("/orgs/{org}/installations", self._endpoint("installations", self.list_installations), methods=get),
            Route(
                "/organizations/{org_id}/installations",
                self._endpoint("installations", self.list_installations),
                methods=get,
            ),
            Route(
                "/orgs/{org}/credential-authorizations",
                self._endpoint("credential_authorizations", self.list_credential_authorizations),
                methods=get,
            ),
            Route(
                "/organizations/{org_id}/credential-authorizations",
                self._endpoint("credential_authorizations", self.list_credential_authorizations),
                methods=get,
            ),
            Route("/orgs/{org}/repos", self._endpoint("repos", self.list_repos), methods=get),
            Route("/organizations/{org_id}/repos", self._endpoint("repos", self.list_repos), methods=get),
            # https://docs.github.com/enterprise-cloud@latest/rest/actions/permissions#get-github-actions-permissions-for-an-organization
            Route(
                "/orgs/{org}/actions/permissions",
                self._endpoint("actions_permissions", self.get_actions_permissions),
                methods=get,
            ),
            # https://docs.github.com/enterprise-cloud@latest/rest/actions/permissions#get-default-workflow-permissions-for-an-organization
            Route(
                "/orgs/{org}/actions/permissions/workflow",
                self._endpoint("actions_workflow_permissions", self.get_workflow_permissions),
                methods=get,
            ),
            # https://docs.github.com/enterprise-cloud@latest/rest/orgs/webhooks#list-organization-webhooks
            Route("/orgs/{org}/hooks", self._endpoint("hooks", self.list_hooks), methods=get),
            Route("/organizations/{org_id}/hooks", self._endpoint("hooks", self.list_hooks), methods=get),
            Route("/orgs/{org}/audit-log", self._endpoint("audit_log", self.get_audit_log), methods=get),
            Route("/organizations/{org_id}/audit-log", self._endpoint("audit_log", self.get_audit_log), methods=get),
            Route("/app/installations/{installation_id}/access_tokens", self.create_access_token, methods=["POST"]),
            Route(
                "/orgs/{org}/memberships/{username}",
                self._endpoint("get_membership", self.get_membership),
                methods=get,
            ),
            Route(
                "/orgs/{org}/memberships/{username}",
                self._endpoint("set_membership", self.set_membership),
                methods=["PUT"],
            ),
            Route(
                "/orgs/{org}/memberships/{username}",
                self._endpoint("remove_membership", self.remove_membership),
                methods=["DELETE"],
            ),
            Route(
                "/orgs/{org}/outside_collaborators/{username}",
                self._endpoint("remove_outside_collaborator", self.remove_outside_collaborator),
                methods=["DELETE"],
            ),
            Route(
                "/orgs/{org}/outside_collaborators/{username}",
                self._endpoint("convert_member", self.convert_member),
                methods=["PUT"],
            ),
            Route(
                "/orgs/{org}/credential-authorizations/{credential_id}",
                self._endpoint("remove_credential_authorization", self.remove_credential_authorization),
                methods=["DELETE"],
            ),
            Route(
                "/enterprises/{enterprise}/audit-log",
                self._endpoint("enterprise_audit_log", self.get_enterprise_audit_log),
                methods=get,
            ),
            Route("/scim/v2/enterprises/{enterprise}/Users", self._endpoint("scim_list", self.list_scim), methods=get),
            Route(
                "/scim/v2/enterprises/{enterprise}/Users/{scim_user_id}",
                self._endpoint("scim_get", self.get_scim),
                methods=get,
            ),
            Route(
                "/scim/v2/enterprises/{enterprise}/Users/{scim_user_id}",
                self._endpoint("scim_patch", self.patch_scim),
                methods=["PATCH"],
            ),
            Route("/{path:path}", self._not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]),
        ]

    async def _read_body(self, request: Request) -> None:
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw.strip() else None
        except orjson.JSONDecodeError:
            raise GitHubError(400, "Problems parsing JSON", DOCS) from None
        request.state.body = body

    async def _not_found(self, request: Request) -> Response:
        return self._error(GitHubError(404, "Not Found", f"{DOCS}"))

    def _error(self, err: GitHubError) -> Response:
        headers = [("x-github-request-id", _request_id()), *err.headers]
        if err.scim:
            body = scim_error(err.status, err.message, err.doc, err.scim_type)
            return json_response(body, err.status, headers, SCIM_TYPE)
        return json_response(error_body(err.status, err.message, err.doc), err.status, headers, JSON_TYPE)

    def _endpoint(self, operation: str, handler: Callable[[Request, Principal], Response]) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            principal: Principal | None = None
            try:
                if request.method in ("PUT", "PATCH", "POST", "DELETE"):
                    await self._read_body(request)
                self._check_request(request)
                principal = self._authenticate(request)
                self._check_org(request)
                # Handlers run on the server's event loop, one at a time: a write is never seen half done.
                response = handler(request, principal)
            except GitHubError as err:
                response = self._error(err)
            response.raw_headers.extend(self._common_headers(request, operation, principal))
            return response

        return endpoint

    def _common_headers(
        self, request: Request, operation: str, principal: Principal | None
    ) -> list[tuple[bytes, bytes]]:
        headers = [
            ("x-github-api-version-selected", "2022-11-28"),
            ("x-github-media-type", "github.v3; format=json"),
            ("x-github-request-id", _request_id()),
        ]
        if principal is not None and principal.kind == "classic":
            headers.append(("x-oauth-scopes", ", ".join(sorted(principal.scopes))))
            headers.append(("x-accepted-oauth-scopes", ACCEPTED_SCOPES.get(operation, "")))
        return [(k.encode(), v.encode()) for k, v in headers]

    def _check_request(self, request: Request) -> None:
        if not request.headers.get("user-agent"):
            raise GitHubError(
                403,
                "Request forbidden by administrative rules. Please make sure your request has a User-Agent header "
                "(https://docs.github.com/enterprise-cloud@latest/rest/overview/resources-in-the-rest-api"
                "#user-agent-required). "
                "Check https://developer.github.com for other possible causes.",
            )
        version = request.headers.get("x-github-api-version")
        if version and version not in API_VERSIONS:
            raise GitHubError(400, f"API version {version} is not supported.", f"{DOCS}/overview/api-versions")

    def _check_org(self, request: Request) -> None:
        org = request.path_params.get("org")
        if org is not None and org.lower() != self.tenant.org.lower():
            raise GitHubError(404, "Not Found", OPERATION_DOCS["org"])
        org_id = request.path_params.get("org_id")
        if org_id is not None and org_id != str(self.tenant.org_id):
            raise GitHubError(404, "Not Found", OPERATION_DOCS["org"])
        enterprise = request.path_params.get("enterprise")
        if enterprise is not None and (
            self.options.enterprise is None or enterprise.lower() != self.options.enterprise.lower()
        ):
            raise GitHubError(404, "Not Found", DOCS)

    # ---------------------------------------------------------------- authentication

    def _token_of(self, header: str) -> str | None:
        found = credential(header, ("bearer", "token"))  # "token" is GitHub's own scheme
        return found[1] if found else None

    def _principal_or_none(self, scope: Scope) -> Principal | None:
        for name, value in scope.get("headers") or ():
            if name == b"authorization":
                token = self._token_of(value.decode("latin-1"))
                if token is None:
                    return None
                issued = self._issued.get(token)
                return issued[0] if issued else self._tokens.get(token)
        return None

    def _authenticate(self, request: Request) -> Principal:
        header = request.headers.get("authorization")
        if not header:
            raise GitHubError(401, "Requires authentication", DOCS)
        token = self._token_of(header)
        principal = self._tokens.get(token or "")
        if principal is None and token in self._issued:
            issued, expires = self._issued[token]
            principal = issued if expires > time.time() else None
        if principal is None:
            raise GitHubError(401, "Bad credentials", "https://docs.github.com/rest")
        return principal

    def _require_members_read(self, principal: Principal, operation: str) -> None:
        if principal.kind == "classic":
            # A classic token without read:org cannot see the organization's membership at all.
            if not principal.scopes & ORG_READ_SCOPES:
                raise GitHubError(404, "Not Found", OPERATION_DOCS[operation])
            return
        if principal.permissions.get("members") not in ("read", "write", "admin"):
            raise self._not_accessible(principal, operation, "members=read")

    def _require_org_admin(self, principal: Principal, operation: str, classic_scope: str | None = None) -> None:
        """Owner-only endpoints: installations, credential authorizations, the audit log."""
        if principal.kind == "classic":
            if classic_scope is None and not principal.scopes & ORG_READ_SCOPES:
                raise GitHubError(404, "Not Found", OPERATION_DOCS[operation])
            if classic_scope is not None and classic_scope not in principal.scopes:
                raise GitHubError(
                    403, f"You need at least {classic_scope} scope to use this endpoint.", OPERATION_DOCS[operation]
                )
        elif principal.permissions.get("organization_administration") not in ("read", "write", "admin"):
            raise self._not_accessible(principal, operation, "organization_administration=read")
        if principal.kind != "installation" and not principal.owner:
            raise GitHubError(403, "Must have admin rights to Organization.", OPERATION_DOCS[operation])

    def _not_accessible(self, principal: Principal, operation: str, needed: str) -> GitHubError:
        return GitHubError(
            403,
            f"Resource not accessible by {principal.label}",
            OPERATION_DOCS[operation],
            [("x-accepted-github-permissions", needed)],
        )

    def _require_enterprise(self, operation: str) -> None:
        if self.options.plan != "enterprise":
            raise GitHubError(404, "Not Found", OPERATION_DOCS[operation])

    # ---------------------------------------------------------------- responses

    def _json(self, body: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
        return self._bytes(orjson.dumps(body), status, headers)

    def _bytes(self, body: bytes, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
        return json_response(body, status, headers, JSON_TYPE)

    def _origin_bytes(self, request: Request) -> bytes:
        return core.request_origin(request.scope).encode()

    def _listing(self, request: Request, parts: list[bytes]) -> bytes:
        return (b"[" + b",".join(parts) + b"]").replace(ORIGIN_MARKER.encode(), self._origin_bytes(request))

    def _page_links(
        self, request: Request, resource: str, total: int, page: int, per_page: int
    ) -> list[tuple[str, str]]:
        """GitHub's Link header for page-numbered lists, pointing at the /organizations/{id} form."""
        last = max(1, -(-total // per_page))
        base = f"{self.base_url(request.scope)}/organizations/{self.tenant.org_id}/{resource}"
        kept = [
            (k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k not in ("page", "per_page")
        ]

        def url(number: int) -> str:
            return f"{base}?{urlencode([*kept, ('per_page', str(per_page)), ('page', str(number))])}"

        links = []
        if page > 1:
            links.append(link(url(min(page - 1, last)), "prev"))
        if page < last:
            links.append(link(url(page + 1), "next"))
            links.append(link(url(last), "last"))
        if page > 1:
            links.append(link(url(1), "first"))
        return [("link", ", ".join(links))] if links else []

    def _paged(self, request: Request, resource: str, items: Sequence[int], render: Callable[[int], bytes]) -> Response:
        per_page, page = _per_page(request), _page(request)
        start = (page - 1) * per_page
        chunk = items[start : start + per_page]
        body = self._listing(request, [render(i) for i in chunk])
        return self._bytes(body, headers=self._page_links(request, resource, len(items), page, per_page))

    def _cached_view(self, key: tuple[Any, ...], build: Callable[[], list[int]]) -> list[int]:
        return self._views.get(key, build)

    # ---------------------------------------------------------------- organization and user

    def get_org(self, request: Request, principal: Principal) -> Response:
        """The full details (plan, the members_can_* policies, two_factor_requirement_enabled...) go
        to organization owners only, and classic tokens "need the admin:org scope to see the full
        details" (orgs/get in the OpenAPI description); fine-grained tokens and apps, to those with
        the organization Administration permission. Everyone else gets the public fields."""
        if principal.kind == "classic":
            owner = principal.owner and "admin:org" in principal.scopes
        else:
            administration = principal.permissions.get("organization_administration") in ("read", "write", "admin")
            owner = administration and (principal.owner or principal.kind == "installation")
        return self._bytes(
            orjson.dumps(self.tenant.organization(owner)).replace(ORIGIN_MARKER.encode(), self._origin_bytes(request))
        )

    def get_user(self, request: Request, principal: Principal) -> Response:
        if principal.user is None:
            raise self._not_accessible(principal, "user", "")
        doc = self.tenant.private_user(principal.user)
        return self._bytes(orjson.dumps(doc).replace(ORIGIN_MARKER.encode(), self._origin_bytes(request)))

    def get_user_by_id(self, request: Request, principal: Principal) -> Response:
        """Any GitHub user, members or not (public-user): the account stays when it leaves the org."""
        raw = request.path_params["account_id"]
        ui = next((i for i, u in enumerate(self.tenant.users) if str(u.id) == raw), None)
        if ui is None:
            raise GitHubError(404, "Not Found", OPERATION_DOCS["user_by_id"])
        doc = self.tenant.private_user(ui)
        for private in ("private_gists", "total_private_repos", "owned_private_repos", "disk_usage", "collaborators",
                        "two_factor_authentication"):  # fmt: skip
            doc.pop(private, None)
        return self._bytes(orjson.dumps(doc).replace(ORIGIN_MARKER.encode(), self._origin_bytes(request)))

    # ---------------------------------------------------------------- members and collaborators

    def _two_factor_filter(self, request: Request, principal: Principal, operation: str) -> str:
        value = request.query_params.get("filter") or "all"
        if value not in ("all", "2fa_disabled", "2fa_insecure"):
            raise GitHubError(422, "Validation Failed", OPERATION_DOCS[operation])
        if value != "all" and principal.kind != "installation" and not principal.owner:
            raise GitHubError(422, "Only owners can use this filter.", OPERATION_DOCS[operation])
        return value

    def _matches_2fa(self, ui: int, value: str) -> bool:
        state = self.tenant.users[ui].two_factor
        return (
            value == "all"
            or (value == "2fa_disabled" and state == "disabled")
            or (value == "2fa_insecure" and state == "insecure")
        )

    def list_members(self, request: Request, principal: Principal) -> Response:
        self._require_members_read(principal, "members")
        role = request.query_params.get("role") or "all"
        if role not in ("all", "admin", "member"):
            raise GitHubError(422, "Validation Failed", OPERATION_DOCS["members"])
        two_factor = self._two_factor_filter(request, principal, "members")
        t = self.tenant

        def build() -> list[int]:
            wanted = {"all": ("admin", "member"), "admin": ("admin",), "member": ("member",)}[role]
            return [i for i in t.members if t.users[i].role in wanted and self._matches_2fa(i, two_factor)]

        view = self._cached_view(("members", role, two_factor), build)
        return self._paged(request, "members", view, t.user_bytes)

    def list_outside_collaborators(self, request: Request, principal: Principal) -> Response:
        self._require_members_read(principal, "outside_collaborators")
        two_factor = self._two_factor_filter(request, principal, "outside_collaborators")
        t = self.tenant
        view = self._cached_view(
            ("collaborators", two_factor), lambda: [i for i in t.collaborators if self._matches_2fa(i, two_factor)]
        )
        return self._paged(request, "outside_collaborators", view, t.user_bytes)

    # ---------------------------------------------------------------- teams

    def list_teams(self, request: Request, principal: Principal) -> Response:
        self._require_members_read(principal, "teams")
        t = self.tenant
        view = list(range(len(t.teams)))
        return self._paged(request, "teams", view, lambda ti: orjson.dumps(t.team(ti)))

    def list_team_members(self, request: Request, principal: Principal) -> Response:
        self._require_members_read(principal, "team_members")
        t = self.tenant
        slug, team_id = request.path_params.get("team_slug"), request.path_params.get("team_id")
        ti = (
            t.team_slugs.get(slug or "")
            if slug is not None
            else next((i for i, team in enumerate(t.teams) if str(team.id) == team_id), None)
        )
        if ti is None:
            raise GitHubError(404, "Not Found", OPERATION_DOCS["team_members"])
        role = request.query_params.get("role") or "all"
        if role not in ("all", "member", "maintainer"):
            raise GitHubError(422, "Validation Failed", OPERATION_DOCS["team_members"])
        listing = [entry for entry in t.team_member_roles(ti) if role == "all" or entry[1] == role]
        resource = f"team/{t.teams[ti].id}/members"  # links use the /organizations/{id}/team/{id} form

        def render(k: int) -> bytes:
            ui, member_role, inherited = listing[k]
            return orjson.dumps(t.team_member(ui, member_role, inherited))

        return self._paged(request, resource, range(len(listing)), render)

    # ---------------------------------------------------------------- apps and credentials

    def list_installations(self, request: Request, principal: Principal) -> Response:
        self._require_org_admin(principal, "installations")
        t = self.tenant
        per_page, page = _per_page(request), _page(request)
        chunk = range(len(t.installations))[(page - 1) * per_page : page * per_page]
        body = orjson.dumps({"total_count": len(t.installations), "installations": [t.installation(k) for k in chunk]})
        body = body.replace(ORIGIN_MARKER.encode(), self._origin_bytes(request))
        return self._bytes(
            body, headers=self._page_links(request, "installations", len(t.installations), page, per_page)
        )

    def list_credential_authorizations(self, request: Request, principal: Principal) -> Response:
        self._require_enterprise("credential_authorizations")
        if not self.options.saml_sso:
            raise GitHubError(404, "Not Found", OPERATION_DOCS["credential_authorizations"])
        self._require_org_admin(principal, "credential_authorizations")
        t = self.tenant
        login = request.query_params.get("login")
        view = t.live_credentials()
        if login:
            view = [k for k in view if t.users[t.credentials[k].user].login.lower() == login.lower()]
        return self._paged(request, "credential-authorizations", view, lambda k: orjson.dumps(t.credential(k)))

    # ---------------------------------------------------------------- repositories

    def list_repos(self, request: Request, principal: Principal) -> Response:
        t = self.tenant
        params = request.query_params
        # A classic token needs the repo scope to see private and internal repositories.
        everything = principal.kind != "classic" or "repo" in principal.scopes
        kind = params.get("type") or "all"
        sort = params.get("sort") or "created"
        if kind not in ("all", "public", "private", "forks", "sources", "member", "internal") or sort not in (
            "created",
            "updated",
            "pushed",
            "full_name",
        ):
            raise GitHubError(422, "Validation Failed", OPERATION_DOCS["repos"])
        direction = params.get("direction") or ("asc" if sort == "full_name" else "desc")

        def build() -> list[int]:
            keep = {
                "all": lambda r: True,
                "member": lambda r: True,
                "public": lambda r: r.visibility == "public",
                "private": lambda r: r.visibility == "private",
                "internal": lambda r: r.visibility == "internal",
                "forks": lambda r: r.fork,
                "sources": lambda r: not r.fork,
            }[kind]
            key = {
                "created": lambda i: (t.repos[i].created, t.repos[i].id),
                "updated": lambda i: (t.repos[i].pushed, t.repos[i].id),
                "pushed": lambda i: (t.repos[i].pushed, t.repos[i].id),
                "full_name": lambda i: (t.repos[i].name, t.repos[i].id),
            }[sort]
            visible = (i for i, r in enumerate(t.repos) if keep(r) and (everything or r.visibility == "public"))
            chosen = sorted(visible, key=key)
            return chosen[::-1] if direction == "desc" else chosen

        view = self._cached_view(("repos", kind, sort, direction, everything), build)
        return self._paged(request, "repos", view, lambda ri: orjson.dumps(t.repository(ri)))

    # ---------------------------------------------------------------- settings
    #
    # Who may: classic tokens "need the admin:org scope" for the Actions permissions and the
    # admin:org_hook scope for webhooks; "You must be an organization owner or have the 'Manage
    # organization webhooks' permission" (the OpenAPI description's
    # actions/get-github-actions-permissions-organization,
    # actions/get-github-actions-default-workflow-permissions-organization, orgs/list-webhooks).
    # Fine-grained tokens and apps: the organization permissions Administration (Actions policies)
    # and Webhooks (organization_hooks), read.

    def _require_settings_read(self, principal: Principal, operation: str, classic_scope: str, permission: str) -> None:
        if principal.kind == "classic":
            if classic_scope not in principal.scopes:
                raise GitHubError(
                    403, f"You need at least {classic_scope} scope to use this endpoint.", OPERATION_DOCS[operation]
                )
        elif principal.permissions.get(permission) not in ("read", "write", "admin"):
            raise self._not_accessible(principal, operation, f"{permission}=read")
        if principal.kind != "installation" and not principal.owner:
            raise GitHubError(403, "Must have admin rights to Organization.", OPERATION_DOCS[operation])

    def get_actions_permissions(self, request: Request, principal: Principal) -> Response:
        self._require_settings_read(principal, "actions_permissions", "admin:org", "organization_administration")
        t = self.tenant
        doc = actions_document(t.settings, ORIGIN_MARKER + self.base_url_prefix, t.org_id)
        return self._bytes(orjson.dumps(doc).replace(ORIGIN_MARKER.encode(), self._origin_bytes(request)))

    def get_workflow_permissions(self, request: Request, principal: Principal) -> Response:
        self._require_settings_read(
            principal, "actions_workflow_permissions", "admin:org", "organization_administration"
        )
        return self._json(dict(self.tenant.settings.workflow))

    def list_hooks(self, request: Request, principal: Principal) -> Response:
        self._require_settings_read(principal, "hooks", "admin:org_hook", "organization_hooks")
        t = self.tenant
        hooks = t.settings.hooks
        api_base = ORIGIN_MARKER + self.base_url_prefix
        return self._paged(
            request, "hooks", range(len(hooks)), lambda k: orjson.dumps(hook_document(hooks[k], api_base, t.org))
        )

    def advance(self, change: dict[str, Any]) -> dict[str, Any]:
        """An organization owner changes settings, as in the web UI: ``{"settings": {"organization":
        {"two_factor_requirement_enabled": false}, "actions": {...}, "workflow": {...}},
        "hooks": [{"id": 1, "insecure_ssl": "1"}], "actor": "login", "at": epoch ms}``. Each change
        that alters a value writes the audit event GitHub's catalogue names for it (settings.py),
        acted by ``actor`` (an owner; default the first) at ``at`` (default now). The rest of the
        organization (members, teams, history) is static: other changes are refused."""
        other = set(change) - {"settings", "hooks", "actor", "at"}
        if other:
            raise AdvanceNotSupported(
                f"the github personality (tenant {self.spec.name!r}) does not support advance of "
                f"{', '.join(sorted(other))}: only organization settings and webhooks change"
            )
        t = self.tenant
        login = change.get("actor")
        actor = t.owners[0] if login is None else t.user_index.get(str(login))
        if actor is None or actor not in t.owners:
            raise ValueError(f"actor: {login!r} is not an owner of {t.org}")
        at_ms = int(change.get("at") or time.time() * 1000)
        written: list[int] = []
        for section, values in (change.get("settings") or {}).items():
            if not isinstance(values, dict):
                raise ValueError(f"settings.{section}: an object of setting -> new value")
            for key, value in values.items():
                position = t.change_setting(str(section), str(key), value, actor, at_ms)
                if position is not None:
                    written.append(position)
        for hook in change.get("hooks") or []:
            config = {k: v for k, v in hook.items() if k != "id"}
            written.append(t.change_hook(int(hook["id"]), config, actor, at_ms))
        self._changed()
        events = [t.render_event(p) for p in written]
        return {"events": [{"_document_id": e["_document_id"], "action": e["action"], "actor": e["actor"],
                            "@timestamp": e["@timestamp"]} for e in events]}  # fmt: skip

    # ---------------------------------------------------------------- audit log

    def _audit_view(self, query: AuditQuery, include: str, scope: str = "org") -> tuple[Sequence[int], int, int]:
        """(sequence of event positions, lo, hi): the events that match, ascending, as seq[lo:hi].
        ``scope`` is the organization's audit log or the enterprise's (which also shows the
        enterprise's own user events)."""
        t = self.tenant
        a = 0 if query.since_ms is None else bisect.bisect_left(t.ev_ts, query.since_ms)
        b = t.event_count if query.until_ms is None else bisect.bisect_left(t.ev_ts, query.until_ms)
        b = max(a, b)
        if not query.has_event_filters:
            seq = t.positions(scope, include)
            if isinstance(seq, range):
                return seq, a, b
            return seq, bisect.bisect_left(seq, a), bisect.bisect_left(seq, b)

        def build() -> list[int]:
            base, lo, hi = self._audit_view(AuditQuery(query.since_ms, query.until_ms), include, scope)
            chosen = []
            for k in range(lo, hi):
                event = t.render_event(base[k])
                if all(event_matches(event, key, v) for key, v in query.include) and not any(
                    event_matches(event, key, v) for key, v in query.exclude
                ):
                    chosen.append(base[k])
            return chosen

        key = ("audit", scope, query.since_ms, query.until_ms, tuple(query.include), tuple(query.exclude), include)
        view = self._cached_view(key, build)
        return view, 0, len(view)

    def get_audit_log(self, request: Request, principal: Principal) -> Response:
        self._require_enterprise("audit_log")
        self._require_org_admin(principal, "audit_log", classic_scope="read:audit_log")
        return self._audit_log(request, "org", "audit_log")

    def get_enterprise_audit_log(self, request: Request, principal: Principal) -> Response:
        """GET /enterprises/{enterprise}/audit-log: the organization's events and, with Enterprise
        Managed Users, the enterprise's user events ("With Enterprise Managed Users, the audit log
        also includes user events", audit-log-events-for-your-enterprise). "The authenticated user
        must be an enterprise admin"; classic tokens "need the read:audit_log scope"; GitHub Apps
        are not enabled for it (the OpenAPI description's enterprise-admin/get-audit-log). Same
        phrase, include, order and cursor semantics as the organization's."""
        operation = "enterprise_audit_log"
        if principal.kind != "classic":
            raise self._not_accessible(principal, operation, "")
        if "read:audit_log" not in principal.scopes:
            raise GitHubError(
                403, "You need at least read:audit_log scope to use this endpoint.", OPERATION_DOCS[operation]
            )
        if not principal.enterprise_owner:
            raise GitHubError(403, "Must have admin rights to Enterprise.", OPERATION_DOCS[operation])
        return self._audit_log(request, "enterprise", operation)

    def _audit_log(self, request: Request, scope: str, operation: str) -> Response:
        params = request.query_params
        include = params.get("include") or "web"
        order = params.get("order") or "desc"
        if include not in ("web", "git", "all") or order not in ("asc", "desc"):
            raise GitHubError(422, "Validation Failed", OPERATION_DOCS[operation])
        try:
            query = parse_phrase(params.get("phrase"))
            after = decode_cursor(params["after"]) if params.get("after") else None
            before = decode_cursor(params["before"]) if params.get("before") else None
        except PhraseError as exc:
            raise GitHubError(422, f"Validation Failed: {exc}", OPERATION_DOCS[operation]) from None
        t = self.tenant
        if query.since_ms is None:
            # "By default, the response includes up to 30 events from the past three months."
            query.narrow(self.tenant.anchor_ms - 90 * 86_400_000, None)
        seq, lo, hi = self._audit_view(query, include, scope)
        per_page = _per_page(request)
        start, end = self._audit_slice(seq, lo, hi, order, per_page, after, before)
        picked = [seq[k] for k in range(start, end)]
        if order == "desc":
            picked.reverse()
        body = self._listing(request, [orjson.dumps(t.render_event(i)) for i in picked])
        more_after = end < hi if order == "asc" else start > lo
        more_before = start > lo if order == "asc" else end < hi
        links = self._audit_links(request, picked, more_after, more_before, per_page, scope)
        return self._bytes(body, headers=links)

    def _audit_slice(
        self,
        seq: Sequence[int],
        lo: int,
        hi: int,
        order: str,
        per_page: int,
        after: tuple[int, str] | None,
        before: tuple[int, str] | None,
    ) -> tuple[int, int]:
        """[start, end) indexes into seq for the requested page, in ascending position order."""
        t = self.tenant

        def index_of(position: int) -> int:
            return max(lo, min(hi, bisect.bisect_left(seq, position, lo, hi)))

        forward = (order == "asc" and after) or (order == "desc" and before)
        backward = (order == "asc" and before) or (order == "desc" and after)
        if forward:
            cursor = forward
            start = index_of(t.position_after(*cursor))
            return start, min(hi, start + per_page)
        if backward:
            cursor = backward
            end = index_of(t.position_after(*cursor) - 1 if self._cursor_exists(cursor) else t.position_after(*cursor))
            return max(lo, end - per_page), end
        if order == "asc":
            return lo, min(hi, lo + per_page)
        return max(lo, hi - per_page), hi

    def _cursor_exists(self, cursor: tuple[int, str]) -> bool:
        t = self.tenant
        position = t.position_after(*cursor) - 1
        return position >= 0 and t.ev_ts[position] == cursor[0] and t.doc_id_at(position) == cursor[1]

    def _audit_links(
        self, request: Request, picked: list[int], more_after: bool, more_before: bool, per_page: int, scope: str
    ) -> list[tuple[str, str]]:
        t = self.tenant
        where = f"enterprises/{t.business}" if scope == "enterprise" else f"organizations/{t.org_id}"
        base = f"{self.base_url(request.scope)}/{where}/audit-log"
        kept = [
            (k, v)
            for k, v in parse_qsl(request.url.query, keep_blank_values=True)
            if k not in ("after", "before", "per_page")
        ]

        def url(after: str, before: str) -> str:
            return f"{base}?{urlencode([*kept, ('per_page', str(per_page)), ('after', after), ('before', before)])}"

        def cursor(position: int) -> str:
            return encode_cursor(t.ev_ts[position], t.doc_id_at(position))

        links = []
        if picked and more_after:
            links.append(link(url(cursor(picked[-1]), ""), "next"))
        links.append(link(url("", ""), "first"))
        if picked and more_before:
            links.append(link(url("", cursor(picked[0])), "prev"))
        return [("link", ", ".join(links))]

    # ---------------------------------------------------------------- changes (governance actions)
    #
    # Who may: "Only authenticated organization owners can add a member to the organization or update
    # the member's role"; "the authenticated user must be an organization owner" to remove a
    # membership or a SAML SSO authorization, and "OAuth app tokens and personal access tokens
    # (classic) need the admin:org scope" for the latter (the OpenAPI description's operations
    # orgs/set-membership-for-user, orgs/remove-membership-for-user,
    # orgs/remove-saml-sso-authorization). Classic scopes for membership writes: write:org is "Read
    # and write access to organization membership", admin:org includes it
    # (https://docs.github.com/enterprise-cloud@latest/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps);
    # fine-grained tokens and apps need the organization permission Members: write. Each change
    # writes the audit event GitHub's catalogue names for it (org.update_member with
    # permission/old_permission, org.remove_member, org.remove_outside_collaborator with user and
    # user_id; org_credential_authorization.revoke "An owner revoked authorized credentials"),
    # acted by the token's user, at once (the sandbox emulates no indexing delay).

    def _require_org_write(self, principal: Principal, operation: str) -> None:
        if principal.kind == "classic":
            if not principal.scopes & {"write:org", "admin:org"}:
                raise GitHubError(
                    403, "You need at least write:org scope to use this endpoint.", OPERATION_DOCS[operation]
                )
        elif principal.permissions.get("members") not in ("write", "admin"):
            raise self._not_accessible(principal, operation, "members=write")
        if principal.kind != "installation" and not principal.owner:
            raise GitHubError(403, "Must have admin rights to Organization.", OPERATION_DOCS[operation])

    def _user_named(self, request: Request, operation: str) -> int:
        index = self.tenant.user_index.get(request.path_params["username"])
        if index is None:
            lowered = request.path_params["username"].lower()
            index = next((i for i, u in enumerate(self.tenant.users) if u.login.lower() == lowered), None)
        if index is None:
            raise GitHubError(404, "Not Found", OPERATION_DOCS[operation])
        return index

    def _changed(self) -> None:
        """Listings computed before a change are stale."""
        self._views = ViewCache()

    def _audit(self, principal: Principal, action: str, target: int, extra: dict[str, Any]) -> None:
        actor = principal.user if principal.user is not None else -1
        access = {"classic": "Personal access token (classic)", "fine_grained": "Fine-grained personal access token"}
        fields = dict(extra)
        if principal.kind in access:
            fields["programmatic_access_type"] = access[principal.kind]
        self.tenant.record_event(action, actor, target, int(time.time() * 1000), fields)

    def _membership(self, request: Request, ui: int, state: str = "active", role: str | None = None) -> Response:
        t = self.tenant
        user = t.users[ui]
        org_url = f"{ORIGIN_MARKER}{self.base_url_prefix}/orgs/{t.org}"
        doc = {
            "url": f"{org_url}/memberships/{user.login}",
            "state": state,
            "role": role or ("admin" if user.role == "admin" else "member"),
            "organization_url": org_url,
            "organization": self._organization_simple(),
            "user": t.simple_user(ui),
        }
        return self._bytes(orjson.dumps(doc).replace(ORIGIN_MARKER.encode(), self._origin_bytes(request)))

    def _organization_simple(self) -> dict[str, Any]:
        full = self.tenant.organization(False)
        keys = ("login", "id", "node_id", "url", "repos_url", "events_url", "hooks_url", "issues_url",
                "members_url", "public_members_url", "avatar_url", "description")  # fmt: skip
        return {k: full[k] for k in keys}

    def get_membership(self, request: Request, principal: Principal) -> Response:
        self._require_members_read(principal, "get_membership")
        ui = self._user_named(request, "get_membership")
        if self.tenant.users[ui].role not in ("admin", "member"):
            raise GitHubError(404, "Not Found", OPERATION_DOCS["get_membership"])
        return self._membership(request, ui)

    def set_membership(self, request: Request, principal: Principal) -> Response:
        operation = "set_membership"
        self._require_org_write(principal, operation)
        body = request.state.body if request.state.body is not None else {}
        role = body.get("role", "member") if isinstance(body, dict) else None
        if role not in ("admin", "member"):
            raise GitHubError(422, "Validation Failed", OPERATION_DOCS[operation])
        ui = self._user_named(request, operation)
        user = self.tenant.users[ui]
        if user.role not in ("admin", "member"):
            # Adding someone sends an invitation; they stay pending (and unlisted) until they accept.
            self._audit(principal, "org.invite_member", ui, {"permission": "admin" if role == "admin" else "read"})
            self._changed()
            return self._membership(request, ui, state="pending", role=role)
        if user.role != role:
            old = user.role
            self.tenant.set_role(ui, role)
            self._audit(
                principal,
                "org.update_member",
                ui,
                {
                    "permission": "admin" if role == "admin" else "read",
                    "old_permission": "admin" if old == "admin" else "read",
                },
            )
            self._changed()
        return self._membership(request, ui)

    def remove_membership(self, request: Request, principal: Principal) -> Response:
        operation = "remove_membership"
        self._require_org_write(principal, operation)
        ui = self._user_named(request, operation)
        if self.tenant.users[ui].role not in ("admin", "member"):
            raise GitHubError(404, "Not Found", OPERATION_DOCS[operation])
        self.tenant.remove_from_org(ui)
        self._audit(principal, "org.remove_member", ui, {})
        self._changed()
        return Response(status_code=204)

    def remove_outside_collaborator(self, request: Request, principal: Principal) -> Response:
        operation = "remove_outside_collaborator"
        self._require_org_write(principal, operation)
        ui = self._user_named(request, operation)
        role = self.tenant.users[ui].role
        if role in ("admin", "member"):
            # "422: Unprocessable Entity if user is a member of the organization"
            raise GitHubError(
                422, "You cannot specify an organization member to remove as an outside collaborator.",
                OPERATION_DOCS[operation],
            )  # fmt: skip
        if role != "outside_collaborator":
            raise GitHubError(404, "Not Found", OPERATION_DOCS[operation])
        self.tenant.remove_from_org(ui)
        self._audit(principal, "org.remove_outside_collaborator", ui, {})
        self._changed()
        return Response(status_code=204)

    def convert_member(self, request: Request, principal: Principal) -> Response:
        """PUT /orgs/{org}/outside_collaborators/{username}, optional body {"async": bool}: "they'll only
        have access to the repositories that their current team membership allows. The user will no
        longer be a member of the organization." 204 when converted, 202 (empty object) when queued
        with async true (the sandbox runs the job at once), 403 "if user is the last owner of the
        organization, not a member of the organization, or if the enterprise enforces a policy for
        inviting outside collaborators", 404 for an unknown user (the OpenAPI description's
        orgs/convert-member-to-outside-collaborator; OPERATION_DOCS["convert_member"]). The 403
        message texts are the sandbox's own: GitHub documents the status, not the wording.

        GitHub's audit event catalogue (github/docs src/audit-logs/data/*/organization.json)
        documents no conversion event; the conversion ends the membership, so the sandbox writes
        org.remove_member ("A member was removed from an organization") with the token's user as
        actor. Direct repository access the converted user keeps is not modelled (the sandbox has no
        repository collaborators); they leave every team, as outside collaborators are no team's
        members."""
        operation = "convert_member"
        self._require_org_write(principal, operation)
        body = request.state.body
        if body is not None and (not isinstance(body, dict) or not isinstance(body.get("async", False), bool)):
            raise GitHubError(422, "Validation Failed", OPERATION_DOCS[operation])
        ui = self._user_named(request, operation)
        t = self.tenant
        user = t.users[ui]
        if user.role not in ("admin", "member"):
            message = f"{user.login} is not a member of the {t.org} organization."
            raise GitHubError(403, message, OPERATION_DOCS[operation])
        if user.role == "admin" and len(t.owners) <= 1:
            raise GitHubError(
                403, "You cannot convert the last owner of the organization to an outside collaborator.",
                OPERATION_DOCS[operation],
            )  # fmt: skip
        t.convert_to_collaborator(ui)
        self._audit(principal, "org.remove_member", ui, {})
        self._changed()
        if isinstance(body, dict) and body.get("async") is True:
            return self._json({}, 202)
        return Response(status_code=204)

    def remove_credential_authorization(self, request: Request, principal: Principal) -> Response:
        operation = "remove_credential_authorization"
        self._require_enterprise(operation)
        if not self.options.saml_sso:
            raise GitHubError(404, "Not Found", OPERATION_DOCS[operation])
        if principal.kind == "classic" and "admin:org" not in principal.scopes:
            raise GitHubError(403, "You need at least admin:org scope to use this endpoint.", OPERATION_DOCS[operation])
        if principal.kind != "classic" and principal.permissions.get("organization_administration") not in (
            "write",
            "admin",
        ):
            raise self._not_accessible(principal, operation, "organization_administration=write")
        if principal.kind != "installation" and not principal.owner:
            raise GitHubError(403, "Must have admin rights to Organization.", OPERATION_DOCS[operation])
        raw = request.path_params["credential_id"]
        k = self.tenant.credential_index(int(raw)) if raw.isdigit() else None
        if k is None:
            raise GitHubError(404, "Not Found", OPERATION_DOCS[operation])
        credential = self.tenant.credentials[k]
        credential.revoked = True
        owner = self.tenant.users[credential.user]
        self._audit(principal, "org_credential_authorization.revoke", k, {"owner": owner.login, "owner_id": owner.id})
        self._changed()
        return Response(status_code=204)

    # ---------------------------------------------------------------- enterprise SCIM (managed users)
    #
    # https://docs.github.com/enterprise-cloud@latest/rest/enterprise-admin/scim and emu.py. Who may:
    # "To authenticate requests to the REST API endpoints for SCIM, you must use a personal access
    # token (classic) associated with your enterprise's setup user. The token requires the
    # scim:enterprise scope" (provisioning-users-and-groups-with-scim-using-the-rest-api); an
    # enterprise owner's admin:enterprise token may read. The OpenAPI description documents 401
    # "Authorization failure" and 403 "Permission denied" without a body; the sandbox answers them
    # with GitHub's scim-error and its own wording.

    def _require_scim(self, principal: Principal, operation: str, write: bool) -> None:
        if not self.options.managed_users:
            raise GitHubError(404, "Not Found", OPERATION_DOCS[operation], scim=True)
        if principal.kind != "classic":
            raise GitHubError(
                403, f"Resource not accessible by {principal.label}", OPERATION_DOCS[operation], scim=True
            )
        if not principal.scopes & SCIM_SCOPES:
            raise GitHubError(
                403,
                "You need at least scim:enterprise scope to use this endpoint.",
                OPERATION_DOCS[operation],
                scim=True,
            )
        if not principal.enterprise_owner:
            raise GitHubError(403, "Must have admin rights to Enterprise.", OPERATION_DOCS[operation], scim=True)
        if write and not principal.setup_user:
            raise GitHubError(
                403,
                "SCIM provisioning requests must be made with the setup user's token.",
                OPERATION_DOCS[operation],
                scim=True,
            )

    def _scim_json(self, body: Any, status: int = 200) -> Response:
        raw = orjson.dumps(body)
        return json_response(raw, status, None, SCIM_TYPE)

    def _scim_document(self, request: Request, k: int) -> dict[str, Any]:
        identity = self.tenant.scim[k]
        location = f"{self.base_url(request.scope)}/scim/v2/enterprises/{self.tenant.business}/Users/{identity.id}"
        return identity.document(location, iso)

    def _scim_index(self, operation: str, raw_id: str) -> int:
        t = self.tenant
        k = next((k for k in t.live_scim() if t.scim[k].id == raw_id), None)
        if k is None:
            raise GitHubError(404, "Not Found", OPERATION_DOCS[operation], scim=True)
        return k

    def list_scim(self, request: Request, principal: Principal) -> Response:
        operation = "scim_list"
        self._require_scim(principal, operation, write=False)
        params = request.query_params
        try:
            wanted = parse_filter(params.get("filter"))
            start = int(params.get("startIndex") or 1)
            count = int(params.get("count") or 30)
        except ScimFilterError as exc:
            raise GitHubError(400, str(exc), OPERATION_DOCS[operation], scim=True, scim_type="invalidFilter") from None
        except ValueError:
            raise GitHubError(
                400, "startIndex and count must be integers", OPERATION_DOCS[operation], scim=True
            ) from None
        # RFC 7644 3.4.2.4: a startIndex below 1 is 1, a negative count is 0.
        start, count = max(1, start), max(0, min(count, 100))
        t = self.tenant
        chosen = [k for k in t.live_scim() if wanted is None or t.scim[k].matches(*wanted)]
        page = chosen[start - 1 : start - 1 + count]
        body = {
            "schemas": [SCIM_LIST_SCHEMA],
            "totalResults": len(chosen),
            "Resources": [self._scim_document(request, k) for k in page],
            "startIndex": start,
            "itemsPerPage": len(page),
        }
        return self._scim_json(body)

    def get_scim(self, request: Request, principal: Principal) -> Response:
        self._require_scim(principal, "scim_get", write=False)
        k = self._scim_index("scim_get", request.path_params["scim_user_id"])
        return self._scim_json(self._scim_document(request, k))

    def patch_scim(self, request: Request, principal: Principal) -> Response:
        """PATCH with a SCIM PatchOp: ``{"op": "replace", "path": "active", "value": false}`` or
        ``{"op": "replace", "value": {"active": false}}`` (both in the OpenAPI description) suspends;
        true reprovisions; ``displayName`` and ``name.givenName``/``name.familyName`` are replaced as
        given. Filtered paths are "not supported". Sending the state the identity already has
        changes nothing and writes no event: GitHub does not document the repeat, and RFC 7644
        section 3.5.2 lets a PATCH that changes nothing succeed."""
        operation = "scim_patch"
        self._require_scim(principal, operation, write=True)
        k = self._scim_index(operation, request.path_params["scim_user_id"])
        changes = self._patch_changes(request.state.body, operation)
        t = self.tenant
        identity = t.scim[k]
        now = int(time.time() * 1000)
        for name, value in changes:
            if name == "active":
                if t.set_scim_active(k, bool(value), principal.user if principal.user is not None else -1, now):
                    self._changed()
            elif name == "displayName":
                given, _, family = str(value).partition(" ")
                identity.given_name, identity.family_name, identity.modified_ms = given, family, now
            elif name == "name.givenName":
                identity.given_name, identity.modified_ms = str(value), now
            elif name == "name.familyName":
                identity.family_name, identity.modified_ms = str(value), now
        return self._scim_json(self._scim_document(request, k))

    def _patch_changes(self, body: Any, operation: str) -> list[tuple[str, Any]]:
        def bad(detail: str, scim_type: str = "invalidSyntax") -> GitHubError:
            return GitHubError(400, detail, OPERATION_DOCS[operation], scim=True, scim_type=scim_type)

        if not isinstance(body, dict) or SCIM_PATCH_SCHEMA not in (body.get("schemas") or []):
            raise bad(f"the request body must be a PatchOp ({SCIM_PATCH_SCHEMA})")
        operations = body.get("Operations")
        if not isinstance(operations, list) or not operations:
            raise bad("Operations must list at least one operation")
        changes: list[tuple[str, Any]] = []
        for op in operations:
            if not isinstance(op, dict) or str(op.get("op", "")).lower() not in ("add", "replace", "remove"):
                raise bad("each operation's op is add, replace or remove")
            if str(op["op"]).lower() == "remove":
                raise bad(f"cannot remove {op.get('path')!r}", "mutability")
            path, value = op.get("path"), op.get("value")
            pairs = list(value.items()) if path is None and isinstance(value, dict) else [(path, value)]
            for name, item in pairs:
                if name == "active":
                    if isinstance(item, str) and item.lower() in ("true", "false"):
                        item = item.lower() == "true"  # Entra ID sends "False"
                    if not isinstance(item, bool):
                        raise bad("active must be a boolean", "invalidValue")
                elif name not in ("displayName", "name.givenName", "name.familyName") or not isinstance(item, str):
                    raise bad(f"unsupported path {name!r}", "invalidPath")
                changes.append((str(name), item))
        return changes

    # ---------------------------------------------------------------- forget (behind saaslens' back)

    def forget(self, kind: str, object_id: str) -> dict[str, Any]:
        """``account``: a user id, removed from the organization; ``privilege``: "<user id>/org:owner",
        the owner made a plain member; ``app_grant``: "credential-authorization:<id>" (or the bare
        credential id), the SAML SSO authorization removed. No audit event: another admin's doing."""
        t = self.tenant
        by_id = {str(u.id): i for i, u in enumerate(t.users) if u.role != "removed"}
        if kind == "account":
            if object_id not in by_id:
                raise ValueError(f"no account {object_id!r} in {t.org}")
            t.remove_from_org(by_id[object_id])
            if by_id[object_id] in t.scim_of:  # a managed user: hard-deprovisioned at the IdP too
                t.delete_scim(t.scim_of[by_id[object_id]])
        elif kind == "privilege":
            account, _, privilege = object_id.partition("/")
            if privilege != "org:owner" or account not in by_id or t.users[by_id[account]].role != "admin":
                raise ValueError(f"no privilege {object_id!r} (<owner id>/org:owner) in {t.org}")
            t.set_role(by_id[account], "member")
        elif kind == "app_grant":
            raw = object_id.removeprefix("credential-authorization:")
            k = t.credential_index(int(raw)) if raw.isdigit() else None
            if k is None:
                raise ValueError(f"no credential authorization {object_id!r} in {t.org}")
            t.credentials[k].revoked = True
        else:
            raise ValueError(f"the github personality cannot forget {kind!r} objects (account, privilege, app_grant)")
        self._changed()
        return {"forgot": {"kind": kind, "id": object_id}}

    # ---------------------------------------------------------------- GitHub App installation tokens

    def _app_for(self, issuer: Any) -> AppSpec | None:
        for app in self._apps:
            if str(issuer) in (str(app.app_id), app.client_id):
                return app
        return None

    def _jwt_app(self, request: Request) -> AppSpec:
        header = request.headers.get("authorization")
        if not header:
            raise GitHubError(401, "Requires authentication", DOCS)
        token = self._token_of(header) or ""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise GitHubError(401, "A JSON web token could not be decoded", DOCS) from None
        app = self._app_for(claims.get("iss"))
        if app is None:
            raise GitHubError(401, "A JSON web token could not be decoded", DOCS)
        key = self._app_keys.get(app.app_id)
        if key is None:
            from cryptography.hazmat.primitives.serialization import load_pem_public_key

            key = self._app_keys[app.app_id] = load_pem_public_key(app.public_key_pem.encode())
        try:
            claims = jwt.decode(token, key, algorithms=["RS256"], options={"verify_exp": False, "verify_iat": False})
        except jwt.PyJWTError:
            raise GitHubError(401, "A JSON web token could not be decoded", DOCS) from None
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or iat > now + 60:
            raise GitHubError(
                401,
                "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
                DOCS,
            )
        if not isinstance(exp, int) or exp <= now:
            raise GitHubError(
                401,
                "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the "
                "assertion expires",
                DOCS,
            )
        if exp - now > 600 + 30:
            raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future", DOCS)
        return app

    async def create_access_token(self, request: Request) -> Response:
        try:
            self._check_request(request)
            app = self._jwt_app(request)
            if request.path_params["installation_id"] != str(app.installation_id):
                raise GitHubError(404, "Not Found", OPERATION_DOCS["access_token"])
        except GitHubError as err:
            return self._error(err)
        ttl = self.options.installation_token_ttl_seconds
        token = "ghs_" + b62(secrets.token_bytes(27), 36)
        expires = time.time() + ttl
        principal = Principal(
            kind="installation", permissions=dict(app.permissions), installation_id=app.installation_id
        )
        self._issued[token] = (principal, expires)
        body = {
            "token": token,
            "expires_at": iso(int(expires * 1000)),
            "permissions": dict(app.permissions),
            "repository_selection": "all",
        }
        return self._json(body, 201, [("x-github-request-id", _request_id())])


#: ``X-Accepted-OAuth-Scopes`` per operation, as GitHub reports the scopes an endpoint accepts.
ACCEPTED_SCOPES = {
    "members": "admin:org, read:org, repo, user, write:org",
    "outside_collaborators": "admin:org, read:org, repo, user, write:org",
    "teams": "admin:org, read:org, repo, user, write:org",
    "team_members": "admin:org, read:org, repo, user, write:org",
    "installations": "admin:org, read:org, write:org",
    "credential_authorizations": "admin:org, read:org, write:org",
    "repos": "repo",
    "audit_log": "read:audit_log",
    "actions_permissions": "admin:org",
    "actions_workflow_permissions": "admin:org",
    "hooks": "admin:org_hook",
    "org": "",
    "user": "",
    "user_by_id": "",
    "get_membership": "admin:org, read:org, repo, user, write:org",
    "set_membership": "admin:org, write:org",
    "remove_membership": "admin:org, write:org",
    "remove_outside_collaborator": "admin:org, write:org",
    "convert_member": "admin:org, write:org",
    "remove_credential_authorization": "admin:org",
    "enterprise_audit_log": "read:audit_log",
    "scim_list": "admin:enterprise, scim:enterprise",
    "scim_get": "admin:enterprise, scim:enterprise",
    "scim_patch": "admin:enterprise, scim:enterprise",
}
