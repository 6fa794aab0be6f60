"""What the Okta sandbox serves must match Okta's own OpenAPI description (management.yaml).

For each endpoint the sandbox emulates, the 200 bodies and the 401/403/404/429 error bodies are
validated against the operation's response schema (``openapi-schema-validator``'s OAS 3.0 read
validator, with ``$ref`` resolved inside the spec). The spec lives outside the repository:
``<repo>/../shared/api-specs/okta/management.yaml``, else ``$SAASLENS_API_SPECS/okta/management.yaml``
(or ``$SAASLENS_API_SPECS`` itself when it names the file). Without it these tests skip.
"""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from saaslens_sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec
from saaslens_sandbox.okta.api import REQUIRED_SCOPES


def _spec_path() -> Path | None:
    candidates = [Path(__file__).resolve().parents[3] / "shared/api-specs/okta/management.yaml"]
    env = os.environ.get("SAASLENS_API_SPECS")
    if env:
        candidates += [Path(env), Path(env) / "okta" / "management.yaml"]
    return next((p for p in candidates if p.is_file()), None)


SPEC_PATH = _spec_path()
pytestmark = pytest.mark.skipif(
    SPEC_PATH is None,
    reason="Okta OpenAPI description not found: expected ../shared/api-specs/okta/management.yaml beside the "
    "repository or SAASLENS_API_SPECS pointing at the api-specs directory",
)

ANCHOR = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SPEC_URI = "urn:okta-management"

# operationId -> (path template in the spec, path served by the sandbox with ids filled in later)
OPERATIONS = {
    "listUsers": "/api/v1/users",
    "getUser": "/api/v1/users/{userId}",
    "listUserGrants": "/api/v1/users/{userId}/grants",
    "listAssignedRolesForUser": "/api/v1/users/{userId}/roles",
    "listGroups": "/api/v1/groups",
    "getGroup": "/api/v1/groups/{groupId}",
    "listGroupUsers": "/api/v1/groups/{groupId}/users",
    "listUsersWithRoleAssignments": "/api/v1/iam/assignees/users",
    "listLogEvents": "/api/v1/logs",
    # the security configuration the settings stage reads
    "listPolicies": "/api/v1/policies",
    "listPolicyRules": "/api/v1/policies/{policyId}/rules",
    "listAuthenticators": "/api/v1/authenticators",
    "listNetworkZones": "/api/v1/zones",
    "listApiTokens": "/api/v1/api-tokens",
}
WITH_IDS = {"getUser", "listUserGrants", "listAssignedRolesForUser", "getGroup", "listGroupUsers", "listPolicyRules"}
# the query an operation cannot do without (listPolicies requires its type)
REQUIRED_PARAMS: dict[str, dict[str, str]] = {"listPolicies": {"type": "PASSWORD"}}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [schema, {"enum": [None]}]}
    return {**schema, "nullable": True}


def _patch_spec_quirks(spec: dict[str, Any]) -> dict[str, Any]:
    """Narrow workarounds for places where management.yaml disagrees with what Okta really returns.

    1. System Log events: the live API returns ``null`` for many LogEvent members (``outcome.reason``
       on success, ``actor.detailEntry``, ``client.id``, most of ``authenticationContext``,
       ``target`` for sign-in events, ``legacyEventType``, ``request.ipChain[].source``...) but the
       Log* component schemas declare none of them ``nullable``. We mark the members of the Log*
       schemas nullable, nothing else.
    2. ``debugContext.debugData`` and ``detailEntry`` are maps whose values the spec types as
       ``object``; Okta returns strings there (``"requestUri": "/api/v1/..."``, ``"risk":
       "{level=LOW}"``). Their ``additionalProperties`` are relaxed to any value.
    Every other schema is used exactly as published.
    """
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    for name, schema in schemas.items():
        if not name.startswith("Log") or "properties" not in schema:
            continue
        for prop, sub in list(schema["properties"].items()):
            schema["properties"][prop] = _nullable(sub)
    schemas["LogDebugContext"]["properties"]["debugData"] = {"type": "object", "nullable": True}
    for name in ("LogActor", "LogTarget"):
        schemas[name]["properties"]["detailEntry"] = {"type": "object", "nullable": True}
    return spec


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    assert SPEC_PATH is not None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open(encoding="utf-8") as fh:
        return _patch_spec_quirks(yaml.load(fh, Loader=loader))  # noqa: S506 (a safe loader)


@pytest.fixture(scope="module")
def registry(spec):
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    return Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4))


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _operation(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    return spec["paths"][OPERATIONS[operation_id]]["get"]


def _response_schema_pointer(spec: dict[str, Any], operation_id: str, status: int) -> str:
    """JSON pointer (inside the spec) to the schema of ``operation_id``'s ``status`` response.

    An error status the operation does not declare (e.g. listUsers documents no 401, and no
    operation documents 400 for a bad filter) falls back to the shared component: 401 ->
    ``components/responses/ErrorInvalidToken401``, others -> ``components/schemas/Error``.
    """
    path = OPERATIONS[operation_id]
    responses = _operation(spec, operation_id)["responses"]
    if str(status) in responses:
        response = responses[str(status)]
        inline = f"/paths/{_escape(path)}/get/responses/{status}"
        base = response["$ref"].lstrip("#") if "$ref" in response else inline
        return f"{base}/content/application~1json/schema"
    if status == 401:
        return "/components/responses/ErrorInvalidToken401/content/application~1json/schema"
    assert status >= 400, f"{operation_id} does not document a {status} response"
    return "/components/schemas/Error"


def assert_valid(spec, registry, operation_id: str, response: httpx.Response) -> None:
    from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

    pointer = _response_schema_pointer(spec, operation_id, response.status_code)
    validator = OAS30ReadValidator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=registry,
                                   format_checker=oas30_format_checker)  # fmt: skip
    assert response.headers["content-type"].startswith("application/json")
    errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.absolute_path))
    assert not errors, f"{operation_id} {response.status_code}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
    )


@pytest.fixture(scope="module")
def server():
    specs = [
        TenantSpec(
            app="okta",
            name="acme",
            seed=21,
            users=150,
            rate_limits=RateLimitConfig(scale=100),
            options={
                "anchor": ANCHOR.isoformat(),
                "api_tokens": [
                    {"token": "admin", "roles": ["SUPER_ADMIN"]},
                    {"token": "reports", "roles": ["REPORT_ADMIN"]},  # logs only
                    {"token": "helpdesk", "roles": ["HELP_DESK_ADMIN"]},  # users + groups only
                ],
            },
        ),
        # a real rate limit: /api/v1/users allows 600 x 0.002 = 1 request per window
        TenantSpec(app="okta", name="tight", seed=22, users=10, rate_limits=RateLimitConfig(scale=0.002)),
    ]
    with SandboxServer(specs) as running:
        yield running


@pytest.fixture(scope="module")
def ids(server) -> dict[str, str]:
    truth = server.personality("okta", "acme").ground_truth()
    grant_user = truth["grants"][0]["userId"]
    admin_user = truth["role_assignments"][0]["user_id"]
    sign_on = next(p for p in truth["settings"]["policies"] if p["type"] == "OKTA_SIGN_ON")
    return {
        "userId": grant_user,
        "roleUserId": admin_user,
        "groupId": truth["groups"][0]["id"],
        "policyId": sign_on["id"],
    }


def url_for(server, operation_id: str, ids: dict[str, str], missing: bool = False) -> str:
    path = OPERATIONS[operation_id]
    user = "00uDoesNotExist000000" if missing else (
        ids["roleUserId"] if operation_id == "listAssignedRolesForUser" else ids["userId"])  # fmt: skip
    group = "00gDoesNotExist000000" if missing else ids["groupId"]
    policy = "00pDoesNotExist000000" if missing else ids["policyId"]
    path = path.replace("{userId}", user).replace("{groupId}", group).replace("{policyId}", policy)
    return server.tenant_url("okta", "acme") + path


def get(url: str, token: str | None = "admin", **params) -> httpx.Response:
    headers = {"Authorization": f"SSWS {token}"} if token else {}
    # params={} would make httpx drop a next link's own query string
    return httpx.get(url, headers=headers, params=params or None, timeout=30)


def test_sandbox_requires_the_scopes_the_spec_names(spec):
    for operation_id in OPERATIONS:
        security = _operation(spec, operation_id)["security"]
        scopes = {s for requirement in security for s in requirement.get("oauth2", [])}
        assert scopes == {REQUIRED_SCOPES[operation_id]}, operation_id


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_200_bodies_match_the_schema(server, spec, registry, ids, operation_id):
    params: dict[str, Any] = dict(REQUIRED_PARAMS.get(operation_id, {}))
    if operation_id == "listLogEvents":
        params = {"since": (ANCHOR - timedelta(days=8)).isoformat(), "limit": 1000}
    if operation_id == "listUserGrants":
        params = {"expand": "scope"}
    if operation_id in ("listGroups", "getGroup"):
        params = {"expand": "stats"}
    r = get(url_for(server, operation_id, ids), **params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body if not isinstance(body, dict) else body.get("value", body), "validate a non-empty body"
    assert_valid(spec, registry, operation_id, r)


def test_every_user_group_and_event_matches_the_schema(server, spec, registry):
    base = server.tenant_url("okta", "acme")
    for operation_id, path, params in (
        ("listUsers", "/api/v1/users", {"filter": 'status eq "DEPROVISIONED"'}),
        ("listUsers", "/api/v1/users", {}),
        ("listGroups", "/api/v1/groups", {}),
        ("listLogEvents", "/api/v1/logs", {"since": (ANCHOR - timedelta(days=8)).isoformat(),
                                           "until": ANCHOR.isoformat(), "limit": 1000}),
        *(("listPolicies", "/api/v1/policies", {"type": t})
          for t in ("PASSWORD", "OKTA_SIGN_ON", "MFA_ENROLL", "ACCESS_POLICY")),
        ("listNetworkZones", "/api/v1/zones", {"limit": 1}),
        ("listApiTokens", "/api/v1/api-tokens", {"limit": 1}),
    ):  # fmt: skip
        r = get(base + path, **params)
        for _ in range(100):  # bounded queries: the last page has no next link
            assert_valid(spec, registry, operation_id, r)
            nxt = r.links.get("next", {}).get("url")
            if not nxt:
                break
            r = get(nxt)
        else:
            pytest.fail(f"{path} kept returning next links")


def test_every_policy_rule_matches_the_schema(server, spec, registry):
    base = server.tenant_url("okta", "acme")
    truth = server.personality("okta", "acme").ground_truth()
    for policy in truth["settings"]["policies"]:
        r = get(f"{base}/api/v1/policies/{policy['id']}/rules")
        assert r.status_code == 200 and r.json(), policy["name"]
        assert_valid(spec, registry, "listPolicyRules", r)


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_401_bodies_match_the_schema(server, spec, registry, ids, operation_id):
    for token in (None, "not-a-token"):
        r = get(url_for(server, operation_id, ids), token=token)
        assert r.status_code == 401 and r.json()["errorCode"] == "E0000011"
        assert_valid(spec, registry, operation_id, r)


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_403_bodies_match_the_schema(server, spec, registry, ids, operation_id):
    token = "helpdesk" if REQUIRED_SCOPES[operation_id] in ("okta.logs.read", "okta.roles.read") else "reports"
    r = get(url_for(server, operation_id, ids), token=token)
    assert r.status_code == 403 and r.json()["errorCode"] == "E0000006"
    assert_valid(spec, registry, operation_id, r)


@pytest.mark.parametrize("operation_id", sorted(WITH_IDS))
def test_404_bodies_match_the_schema(server, spec, registry, ids, operation_id):
    r = get(url_for(server, operation_id, ids, missing=True))
    assert r.status_code == 404 and r.json()["errorCode"] == "E0000007"
    assert_valid(spec, registry, operation_id, r)


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_429_bodies_match_the_schema(server, spec, registry, ids, operation_id):
    tenant = server.personality("okta", "acme")
    tenant.set_faults(FaultConfig(burst_429=1))
    try:
        r = get(url_for(server, operation_id, ids))
    finally:
        tenant.set_faults(FaultConfig())
    assert r.status_code == 429 and r.json()["errorCode"] == "E0000047"
    assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(r.headers)
    assert_valid(spec, registry, operation_id, r)


def test_a_real_rate_limit_429_matches_the_schema(server, spec, registry):
    server.personality("okta", "tight").reset_rate_limits()
    url = server.tenant_url("okta", "tight") + "/api/v1/users"
    first = get(url, token="sandbox-okta-tight-admin")
    second = get(url, token="sandbox-okta-tight-admin")
    assert (first.status_code, second.status_code) == (200, 429)
    assert_valid(spec, registry, "listUsers", first)
    assert_valid(spec, registry, "listUsers", second)


def test_400_bodies_use_the_error_schema(server, spec, registry):
    base = server.tenant_url("okta", "acme")
    for operation_id, path, params in (
        ("listUsers", "/api/v1/users", {"filter": "status eq"}),
        ("listGroups", "/api/v1/groups", {"filter": 'profile.name eq "x"'}),
        ("listLogEvents", "/api/v1/logs", {"since": "not-a-date"}),
    ):
        r = get(base + path, **params)
        assert r.status_code == 400
        assert r.json()["errorCode"] in ("E0000031", "E0000001")
        assert_valid(spec, registry, operation_id, r)


# -- the writes governance actions send, and the reads they re-check with ----------------------------------

# operationId -> (method, path template in the spec)
WRITES = {
    "suspendUser": ("post", "/api/v1/users/{userId}/lifecycle/suspend"),
    "unsuspendUser": ("post", "/api/v1/users/{userId}/lifecycle/unsuspend"),
    "expirePassword": ("post", "/api/v1/users/{userId}/lifecycle/expire_password"),
    "revokeUserSessions": ("delete", "/api/v1/users/{userId}/sessions"),
    "getUserGrant": ("get", "/api/v1/users/{userId}/grants/{grantId}"),
    "revokeUserGrant": ("delete", "/api/v1/users/{userId}/grants/{grantId}"),
    "getUserAssignedRole": ("get", "/api/v1/users/{userId}/roles/{roleId}"),
    "unassignRoleFromUser": ("delete", "/api/v1/users/{userId}/roles/{roleId}"),
}


def assert_write_valid(spec, registry, operation_id: str, response: httpx.Response) -> None:
    """The body against the operation's documented response (204: no body at all)."""
    from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

    method, path = WRITES[operation_id]
    responses = spec["paths"][path][method]["responses"]
    assert str(response.status_code) in responses, f"{operation_id} does not document {response.status_code}"
    documented = responses[str(response.status_code)]
    pointer = f"/paths/{_escape(path)}/{method}/responses/{response.status_code}"
    if "$ref" in documented:
        pointer = documented["$ref"].lstrip("#")
        documented = spec["components"]["responses"][pointer.rsplit("/", 1)[1]]
    content = documented.get("content") or {}
    if "application/json" not in content:
        assert response.content == b"" or response.status_code == 200, operation_id
        return
    validator = OAS30ReadValidator(
        {"$ref": f"{SPEC_URI}#{pointer}/content/application~1json/schema"},
        registry=registry,
        format_checker=oas30_format_checker,
    )
    errors = list(validator.iter_errors(response.json()))
    assert not errors, f"{operation_id} {response.status_code}: {errors[0].message}"


def test_write_operations_require_the_scopes_the_spec_names(spec):
    for operation_id, (method, path) in WRITES.items():
        security = spec["paths"][path][method]["security"]
        scopes = {s for requirement in security for s in requirement.get("oauth2", [])}
        assert scopes == {REQUIRED_SCOPES[operation_id]}, operation_id


def _call(server, operation_id: str, token: str = "admin", **ids: str) -> httpx.Response:
    method, path = WRITES[operation_id]
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    url = server.tenant_url("okta", "acme") + path
    return httpx.request(method.upper(), url, headers={"Authorization": f"SSWS {token}"}, timeout=30)


def test_write_answers_match_the_spec_and_okta_s_documented_errors(server, spec, registry):
    truth = server.personality("okta", "acme").ground_truth()
    admin = truth["credentials"]["api_tokens"][0]["user_id"]
    active = [u["id"] for u in truth["users"] if u["status"] == "ACTIVE" and u["id"] != admin]
    grant = next(g for g in truth["grants"] if g["userId"] != admin)
    role = next(a for a in truth["role_assignments"] if a["assignment_type"] == "USER" and a["user_id"] != admin)
    user, other = active[-1], active[-2]
    answers = [
        ("suspendUser", {"userId": user}, "admin", 200),
        ("suspendUser", {"userId": user}, "admin", 400),  # not ACTIVE any more: E0000001
        ("unsuspendUser", {"userId": user}, "admin", 200),
        ("unsuspendUser", {"userId": user}, "admin", 400),
        ("suspendUser", {"userId": other}, "helpdesk", 403),
        ("suspendUser", {"userId": "00uDoesNotExist000000"}, "admin", 404),
        ("expirePassword", {"userId": other}, "admin", 200),
        ("revokeUserSessions", {"userId": other}, "admin", 204),
        ("revokeUserSessions", {"userId": other}, "reports", 403),
        ("getUserGrant", {"userId": grant["userId"], "grantId": grant["id"]}, "admin", 200),
        ("revokeUserGrant", {"userId": grant["userId"], "grantId": grant["id"]}, "admin", 204),
        ("revokeUserGrant", {"userId": grant["userId"], "grantId": grant["id"]}, "admin", 404),
        ("getUserAssignedRole", {"userId": role["user_id"], "roleId": role["role_id"]}, "admin", 200),
        ("unassignRoleFromUser", {"userId": role["user_id"], "roleId": role["role_id"]}, "helpdesk", 403),
        ("unassignRoleFromUser", {"userId": role["user_id"], "roleId": role["role_id"]}, "admin", 204),
        ("unassignRoleFromUser", {"userId": role["user_id"], "roleId": role["role_id"]}, "admin", 404),
    ]
    for operation_id, ids, token, status in answers:
        r = _call(server, operation_id, token, **ids)
        assert r.status_code == status, (operation_id, ids, token, r.text)
        if status == 400:  # documented in prose (E0000001), not in management.yaml: the Error schema
            assert r.json()["errorCode"] == "E0000001"
            continue
        assert_write_valid(spec, registry, operation_id, r)
