"""Box (Business / Enterprise): the connector (the Client Credentials Grant, Box's error body,
authenticate). Each stage's scan is in its own module (users, groups, privileges, activities, files);
`__init__` declares them.

Box's Platform API is REST at https://api.box.com/2.0 with its token endpoint at
https://api.box.com/oauth2/token (the connection's host is https://api.box.com):

- Auth: a Platform App using Server Authentication with Client Credentials Grant, authorized by an
  admin in the Admin Console; the token request carries client_id, client_secret,
  `box_subject_type=enterprise` and `box_subject_id=<enterprise id>` and yields a token of the app's
  Service Account (https://developer.box.com/guides/authentication/client-credentials/). The Service
  Account must be made a co-admin with "Run new reports and access existing reports" for the events
  API; the app needs the scopes "Manage users" (manage_managed_users), "Manage groups"
  (manage_groups) and "Manage enterprise properties" (manage_enterprise_properties)
  (https://developer.box.com/guides/api-calls/permissions-and-errors/scopes/). JWT server auth
  (RFC 7523 with Box's `box_sub_type` claim) is not built: the grant it yields is the same token.
- Errors: `{"type": "error", "status", "code", "message", "request_id"}` (ClientError,
  https://developer.box.com/reference/resources/client-error/); 401 with an empty body and
  `WWW-Authenticate: Bearer realm="Service", error="invalid_token"` for a bad or expired token.
- Rate limits: about 1,000 requests per minute per user, a 429 with `retry-after` seconds and no
  budget headers (https://developer.box.com/guides/api-calls/permissions-and-errors/rate-limits/):
  the client can only honour retry-after.
- Endpoints: GET /users/me (the Service Account), GET /users (marker paging, `limit` <= 1000,
  `fields`), GET /groups and /groups/{id}/memberships (offset paging, `limit` <= 1000), GET /events
  with `stream_type=admin_logs` (activities.py), each user's folders and the items' collaborations
  with the As-User header (files.py), GET /files/{id}/content (contents.py), PUT /users/{id} and
  PUT /files/{id} (actions.py). Files also need the scope "Read all files and folders"
  (root_readonly, or root_readwrite to remove shared links) and "Make API calls using the as-user
  header".
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from pydantic import Field

from saaslens.connections import ConnectionInvalidError
from saaslens.connectors import registry
from saaslens.connectors.base import ActingAccount, AuthReport, Connector, ConnectorOptions, StageAccess
from saaslens.http import ApiClient, ErrorPolicy, MalformedResponseError
from saaslens.http.auth import ClientCredentialsProvider, TokenAuth
from saaslens.http.client import token_endpoint_client
from saaslens.http.pagination import BodyCursorPaginator, PageRequest, Paginator
from saaslens.vocabulary import Stage

API_PATH = "/2.0/"
TOKEN_PATH = "/oauth2/token"
ADMIN_LOGS = "admin_logs"
MAX_PAGE = 1000  # users, groups, memberships (`limit` "maximum": 1000 in the spec)
EVENTS_MAX_PAGE = 500  # GET /events `limit` maximum

# The names authenticate proves and the actions' `permission` fields use: Box's application scopes.
MANAGE_USERS = "manage_managed_users"
MANAGE_GROUPS = "manage_groups"
MANAGE_ENTERPRISE = "manage_enterprise_properties"
WRITE_ALL = "root_readwrite"
READ_ALL = "root_readonly"

# Box's ClientError codes that mean "not allowed", beyond the 403 status itself.
PERMISSION_CODES = frozenset({"insufficient_scope", "access_denied_insufficient_permissions", "forbidden"})


class BoxOptions(ConnectorOptions):
    user_fields: str = Field(
        default="id,type,name,login,status,role,created_at,modified_at,is_platform_access_only,enterprise,"
        "job_title,external_app_user_id",
        description="The `fields` GET /users asks for (role is not among Box's standard fields)",
    )


class BoxErrorPolicy(ErrorPolicy):
    """Box's ClientError body: the code and message, with the request id Box support asks for."""

    def parse_error_body(self, payload: Any) -> tuple[str | None, str | None]:
        if isinstance(payload, dict) and payload.get("type") == "error":
            code = payload.get("code")
            message = str(payload.get("message") or code or "error")
            request_id = payload.get("request_id")
            return (str(code) if code else None), (f"{message} (request_id {request_id})" if request_id else message)
        return super().parse_error_body(payload)


def exact_stream_position(response: httpx.Response, payload: Any) -> str | None:
    """`next_stream_position` as the exact integer text Box sent. Box's schema allows a string or an
    int64 and its values sit near 1.15e18, far above 2^53: a JSON parser that made it a double would
    hand back a neighbouring position (and skip or repeat events). The HTTP layer's parser keeps
    integers up to 2^64 exact; anything it had to make a float is read again from the raw body with
    Python's parser, whose integers have no size limit."""
    value = payload.get("next_stream_position") if isinstance(payload, dict) else None
    if isinstance(value, float):
        value = json.loads(response.content).get("next_stream_position")
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise MalformedResponseError(
            f"next_stream_position is not an integer: {str(value)[:40]!r}", status=response.status_code, method="GET"
        )
    return str(value)


class StreamPositionPaginator(Paginator):
    """GET /events: `stream_position` from each answer's `next_stream_position`. Box may answer fewer
    events than `limit` while more remain, so only an empty chunk ends the listing
    (https://developer.box.com/reference/get-events/, `limit`)."""

    def next_request(
        self, current: PageRequest, response: httpx.Response, payload: Any, items: list[Any]
    ) -> PageRequest | None:
        position = exact_stream_position(response, payload)
        if not items or position is None or position == str(current.params.get("stream_position")):
            return None
        return PageRequest(url=current.url, params={**current.params, "stream_position": position})


def marker_paginator() -> BodyCursorPaginator:
    """Box's marker paging (`usemarker=true`, `marker`, `next_marker` null on the last page)."""
    return BodyCursorPaginator("entries", cursor_path="next_marker", cursor_param="marker")


class BoxConnector(Connector):
    app = "box"
    title = "Box"
    Options = BoxOptions
    options: BoxOptions
    # admin_logs favours "completeness over latency" (enterprise events guide): events are indexed
    # minutes after they happen, so windows stop 5 minutes short of now and re-read the 30 before.
    default_lookback_seconds = 1800
    default_lag_seconds = 300

    def build_auth(self) -> httpx.Auth:
        extra = self.connection.extra
        client_id = str(extra.get("client_id") or self.connection.login or "")
        if not client_id:
            raise ConnectionInvalidError(
                f"Airflow connection {self.connection.conn_id!r}: no client_id (extra.client_id or login)"
            )
        enterprise_id = str(extra.get("enterprise_id") or "")
        if not enterprise_id:
            raise ConnectionInvalidError(
                f"Airflow connection {self.connection.conn_id!r}: extra.enterprise_id is empty; the client "
                "credentials grant names the enterprise whose Service Account the token is for"
            )
        provider = ClientCredentialsProvider(
            token_url=str(extra.get("token_url") or self.connection.base_url.rstrip("/") + TOKEN_PATH),
            client_id=client_id,
            client_secret=self.connection.extra_or("client_secret", "password", "the Box app's client secret"),
            secret_method="post",  # noqa: S106 (a method name) Box reads client_id and client_secret from the form
            extra_params={"box_subject_type": "enterprise", "box_subject_id": enterprise_id},
        )
        return TokenAuth(provider, token_endpoint_client(self._transport))

    def error_policy(self) -> ErrorPolicy:
        return BoxErrorPolicy()

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            self._client = self.new_client(self.connection.base_url.rstrip("/") + API_PATH)
        return self._client

    def as_user(self, user_id: str) -> ApiClient:
        """A client whose requests carry `As-User: <user_id>`: made by the Service Account (an admin or
        co-admin, the app with "Make API calls using the as-user header") as that managed user, the
        only way to list another user's folders or read their files
        (https://developer.box.com/guides/authentication/jwt/as-user/). Same token as `client`; the
        caller closes it."""
        return self.new_client(self.connection.base_url.rstrip("/") + API_PATH, headers={"As-User": user_id})

    # -- authenticate -------------------------------------------------------------------------

    def authenticate(self) -> AuthReport:
        me = self.client.get_json("users/me", {"fields": "id,name,login,role,enterprise"})
        enterprise = (me.get("enterprise") or {}) if isinstance(me, dict) else {}
        enterprise_id = enterprise.get("id") or self.connection.extra.get("enterprise_id")
        identity = (
            f"service account {me.get('login')} ({me.get('id')}, role {me.get('role') or 'unknown'}) "
            f"of enterprise {enterprise.get('name') or ''} ({enterprise_id})"
        )
        declared = registry.app_spec(self.app)

        def declared_probe(stage: Stage) -> StageAccess:
            probe = declared.stage(stage).probe
            assert probe is not None, f"{self.title}: the {stage} stage declares its probe"
            return self.probe(stage, probe.path, probe.params)

        stages: dict[str, StageAccess] = {}
        stages["users"] = declared_probe(Stage.USERS)
        stages["privileges"] = stages["users"]  # the enterprise role is a field of GET /users
        stages["groups"] = declared_probe(Stage.GROUPS)
        stages["activities"] = declared_probe(Stage.ACTIVITIES)
        # The Service Account's own root: a token without a read scope is refused (403
        # insufficient_scope); As-User itself is proved by the first user the stage walks.
        stages["files"] = declared_probe(Stage.FILES)
        # Box has no endpoint listing an app's scopes: what a probe proved is held; a write scope
        # (root_readwrite, for removing shared links) is unknown until a change is tried.
        proved = {
            MANAGE_USERS: ("users", "GET /users answered"),
            MANAGE_GROUPS: ("groups", "GET /groups answered"),
            MANAGE_ENTERPRISE: ("activities", "GET /events?stream_type=admin_logs answered"),
            READ_ALL: ("files", "GET /folders/0/items answered"),
        }
        permissions = {scope: how for scope, (stage, how) in proved.items() if stages[stage].allowed}
        return AuthReport(identity=identity, permissions=permissions, stages=stages, permissions_complete=False)

    def acting_account(self) -> ActingAccount | None:
        """GET /users/me: the app's Service Account, which every request acts as."""
        me = self.client.get_json("users/me", {"fields": "id,login"})
        user_id = me.get("id") if isinstance(me, dict) else None
        if not isinstance(user_id, str) or not user_id:
            raise MalformedResponseError("GET /users/me named no id", method="GET", url=self.client.url_for("users/me"))
        return ActingAccount(user_id, str(me.get("login") or ""))
