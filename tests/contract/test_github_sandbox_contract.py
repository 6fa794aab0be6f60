"""What the GitHub sandbox serves, validated against GitHub's own OpenAPI description.

The description is GitHub's for Enterprise Cloud (github/rest-api-description, descriptions/ghec/),
as published on npm in ``@octokit/openapi``. It is read from ``$SAASLENS_GITHUB_OPENAPI``, else from
``tests/.cache/github/ghec.json`` (written by ``tests/contract/fetch_specs.sh``), else from
``<shared api-specs>/github/ghec.json``; without it these tests skip and say how to get it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.conftest import API_SPECS

openapi_core = pytest.importorskip("openapi_core", reason="openapi-core is a dev dependency (requirements-dev.txt)")
from openapi_core import Config, OpenAPI  # noqa: E402
from openapi_core.testing import MockRequest, MockResponse  # noqa: E402
from openapi_schema_validator import OAS30Validator  # noqa: E402
from referencing import Registry, Resource  # noqa: E402
from referencing.jsonschema import DRAFT4  # noqa: E402

HERE = Path(__file__).resolve().parent
CANDIDATES = [Path(p) for p in (os.environ.get("SAASLENS_GITHUB_OPENAPI"),) if p] + [
    HERE.parent / ".cache" / "github" / "ghec.json",
    API_SPECS / "github" / "ghec.json",
]
SERVER = "https://api.github.com"
ORG = "octo-corp"
# One keep-alive client for every request: a new httpx client per call costs a TLS context.
HTTP = httpx.Client(timeout=30)


def _spec_path() -> Path | None:
    return next((p for p in CANDIDATES if p.is_file()), None)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    path = _spec_path()
    if path is None:
        pytest.skip(
            "GitHub's OpenAPI description (ghec.json) is not available: run tests/contract/fetch_specs.sh "
            "(npm pack @octokit/openapi) or set SAASLENS_GITHUB_OPENAPI to the file"
        )
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def openapi(spec) -> OpenAPI:
    # The description is GitHub's own and large; validating it each run would only cost time.
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


@pytest.fixture(scope="module")
def schema_of(spec):
    registry = Registry().with_resource("urn:ghec", Resource.from_contents(spec, default_specification=DRAFT4))

    def validate(name: str, instance: Any) -> None:
        schema = {"$ref": f"urn:ghec#/components/schemas/{name}"}
        OAS30Validator(schema, registry=registry).validate(instance)

    return validate


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[SandboxServer, dict[str, Any]]]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    app = {"app_id": 424242, "client_id": "Iv23liContract0001", "installation_id": 5150, "public_key_pem": public}
    spec = TenantSpec(app="github", name="contract", seed=3, users=240, options={"org": ORG, "apps": [app]})
    with SandboxServer([spec]) as server:
        yield server, {"private_key": private, **app}


def _owner_token(server: SandboxServer) -> str:
    tokens = server.personality("github", "contract").ground_truth()["credentials"]["tokens"]
    return next(t["token"] for t in tokens if t["kind"] == "classic" and t["owner"] and "read:audit_log" in t["scopes"])


def _get(server: SandboxServer, path: str, token: str | None, **params: Any) -> httpx.Response:
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "t"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return HTTP.get(server.tenant_url("github", "contract") + path, params=params, headers=headers, timeout=30)


def _validate(openapi: OpenAPI, method: str, path: str, response: httpx.Response, params: dict[str, Any]) -> None:
    request = MockRequest(SERVER, method, path, args={k: str(v) for k, v in params.items()})
    mocked = MockResponse(
        response.content,
        status_code=response.status_code,
        headers=dict(response.headers),
        content_type=response.headers["content-type"].split(";")[0],
    )
    openapi.validate_response(request, mocked)


LISTINGS = [
    ("/orgs/{org}/members", {"per_page": 100, "role": "admin"}),
    ("/orgs/{org}/members", {"per_page": 100, "filter": "2fa_disabled"}),
    ("/orgs/{org}/members", {"per_page": 50, "page": 2}),
    ("/orgs/{org}/outside_collaborators", {"per_page": 100}),
    ("/orgs/{org}/teams", {"per_page": 100}),
    ("/orgs/{org}/installations", {"per_page": 100}),
    ("/orgs/{org}/credential-authorizations", {"per_page": 100}),
    ("/orgs/{org}/repos", {"per_page": 30, "type": "all", "sort": "full_name"}),
    ("/orgs/{org}/audit-log", {"per_page": 100, "include": "all", "order": "asc", "phrase": "created:>=2020-01-01"}),
    ("/orgs/{org}", {}),
]


@pytest.mark.parametrize(("template", "params"), LISTINGS, ids=[f"{t} {p}" for t, p in LISTINGS])
def test_listings_match_the_published_schemas(openapi, sandbox, template, params):
    server, _ = sandbox
    path = template.format(org=ORG)
    response = _get(server, path, _owner_token(server), **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body, f"{path} served nothing to validate"
    _validate(openapi, "GET", path, response, params)


def test_team_members_with_roles_match_the_schema(openapi, sandbox):
    server, _ = sandbox
    token = _owner_token(server)
    teams = _get(server, f"/orgs/{ORG}/teams", token, per_page=100).json()
    for team in teams[:5]:
        path = f"/orgs/{ORG}/teams/{team['slug']}/members"
        response = _get(server, path, token, per_page=100)
        _validate(openapi, "GET", path, response, {"per_page": 100})
        assert {m["role"] for m in response.json()} <= {"member", "maintainer"}


def test_every_audit_event_kind_matches_the_event_schema(sandbox, schema_of):
    server, _ = sandbox
    events = server.personality("github", "contract").ground_truth()["audit_events"]
    by_action = {}
    for event in events:
        by_action.setdefault((event["action"], event.get("actor_is_bot", False)), event)
    assert len(by_action) >= 20
    for event in by_action.values():
        schema_of("audit-log-event", event)


def test_installation_token_matches_the_schema(openapi, sandbox):
    import time

    import jwt

    server, app = sandbox
    now = int(time.time())
    assertion = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": app["client_id"]}, app["private_key"], "RS256")
    path = f"/app/installations/{app['installation_id']}/access_tokens"
    response = HTTP.post(
        server.tenant_url("github", "contract") + path,
        headers={"Authorization": f"Bearer {assertion}", "Accept": "application/vnd.github+json", "User-Agent": "t"},
    )
    assert response.status_code == 201
    _validate(openapi, "POST", path, response, {})
    wrong = HTTP.post(
        server.tenant_url("github", "contract") + "/app/installations/1/access_tokens",
        headers={"Authorization": f"Bearer {assertion}", "User-Agent": "t"},
    )
    assert wrong.status_code == 404
    _validate(openapi, "POST", "/app/installations/1/access_tokens", wrong, {})
    bad = HTTP.post(
        server.tenant_url("github", "contract") + path, headers={"Authorization": "Bearer x.y.z", "User-Agent": "t"}
    )
    assert bad.status_code == 401
    _validate(openapi, "POST", path, bad, {})


ERRORS = [
    ("bad token", "/orgs/{org}/members", "not-a-real-token", 401),
    ("no token", "/orgs/{org}/teams", None, 401),
    ("unknown org", "/orgs/nobody-here/members", "owner", 404),
    ("missing audit scope", "/orgs/{org}/audit-log", "reduced", 403),
    ("non-owner 2FA filter", "/orgs/{org}/members?filter=2fa_disabled", "member", 422),
    ("non-owner installations", "/orgs/{org}/installations", "member", 403),
    ("bad phrase", "/orgs/{org}/audit-log?phrase=hello", "owner", 422),
]


@pytest.mark.parametrize(("label", "template", "who", "status"), ERRORS, ids=[e[0] for e in ERRORS])
def test_error_bodies_are_basic_errors(sandbox, schema_of, openapi, label, template, who, status):
    server, _ = sandbox
    truth_tokens = server.personality("github", "contract").ground_truth()["credentials"]["tokens"]
    chosen = {
        "owner": _owner_token(server),
        "reduced": next(t["token"] for t in truth_tokens if t["owner"] and "read:audit_log" not in t["scopes"]
                        and t["kind"] == "classic"),
        "member": next(t["token"] for t in truth_tokens if not t["owner"]),
    }.get(who, who)  # fmt: skip
    path, _, query = template.format(org=ORG).partition("?")
    params = dict(p.split("=", 1) for p in query.split("&")) if query else {}
    response = _get(server, path, chosen, **params)
    assert response.status_code == status, response.text
    body = response.json()
    schema_of("basic-error", body)
    assert body["message"] and body["documentation_url"].startswith("https://docs.github.com/")
    if status == 422:
        schema_of("validation-error", body)
    if path.endswith("/teams") and status in (403,):
        _validate(openapi, "GET", path, response, params)


def test_rate_limit_headers_follow_the_documented_names(sandbox):
    server, _ = sandbox
    response = _get(server, f"/orgs/{ORG}/members", _owner_token(server), per_page=1)
    for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset"):
        assert response.headers[name].isdigit(), name
    assert response.headers["x-ratelimit-resource"] == "core"
    assert int(response.headers["x-ratelimit-used"]) + int(response.headers["x-ratelimit-remaining"]) == int(
        response.headers["x-ratelimit-limit"]
    )


def _actions_token(server: SandboxServer) -> str:
    tokens = server.personality("github", "contract").ground_truth()["credentials"]["tokens"]
    return next(t["token"] for t in tokens if t["kind"] == "classic" and "admin:org" in t["scopes"])


def test_governance_endpoints_match_the_schemas(openapi, sandbox):
    """The reads and changes governance actions use: a membership and a user by id (200, 404), a role
    change (200 with the membership), removals (204, then 404 for what is gone)."""
    server, _ = sandbox
    truth = server.personality("github", "contract").ground_truth()
    token = _actions_token(server)
    holders = {t["user_id"] for t in truth["credentials"]["tokens"]}
    members = [u for u in truth["users"] if u["role"] == "member" and u["id"] not in holders]
    member, converted, queued = members[0], members[1], members[2]
    collaborator = next(u for u in truth["users"] if u["role"] == "outside_collaborator")
    credential = truth["credential_authorizations"][0]
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "t"}
    headers["Authorization"] = f"Bearer {token}"
    base = server.tenant_url("github", "contract")

    def call(method: str, path: str, status: int, body: Any = None) -> None:
        response = HTTP.request(method, base + path, headers=headers, json=body)
        assert response.status_code == status, (method, path, response.text)
        if status != 204:
            _validate(openapi, method, path, response, {})

    call("GET", f"/user/{member['id']}", 200)
    call("GET", "/user/1", 404)
    call("GET", f"/orgs/{ORG}/memberships/{member['login']}", 200)
    call("PUT", f"/orgs/{ORG}/memberships/{member['login']}", 200, {"role": "member"})
    call("DELETE", f"/orgs/{ORG}/memberships/{member['login']}", 204)
    call("GET", f"/orgs/{ORG}/memberships/{member['login']}", 404)
    call("DELETE", f"/orgs/{ORG}/memberships/{member['login']}", 404)
    call("DELETE", f"/orgs/{ORG}/outside_collaborators/{collaborator['login']}", 204)
    call("DELETE", f"/orgs/{ORG}/credential-authorizations/{credential['credential_id']}", 204)
    call("DELETE", f"/orgs/{ORG}/credential-authorizations/{credential['credential_id']}", 404)
    # converting a member: 204 (synchronous), 202 with an empty object (async), then 403 for the
    # user who is no longer a member (a basic error)
    call("PUT", f"/orgs/{ORG}/outside_collaborators/{converted['login']}", 204)
    call("PUT", f"/orgs/{ORG}/outside_collaborators/{queued['login']}", 202, {"async": True})
    again = HTTP.put(base + f"/orgs/{ORG}/outside_collaborators/{converted['login']}", headers=headers)
    assert again.status_code == 403 and {"message", "documentation_url"} <= set(again.json()), again.text
    listed: set[int] = set()
    page = HTTP.get(base + f"/orgs/{ORG}/outside_collaborators", headers=headers, params={"per_page": 100})
    while True:
        listed |= {u["id"] for u in page.json()}
        if "next" not in page.links:
            break
        page = HTTP.get(page.links["next"]["url"], headers=headers)
    assert {converted["id"], queued["id"]} <= listed
    call("GET", f"/orgs/{ORG}/memberships/{converted['login']}", 404)


@pytest.fixture(scope="module")
def emu_sandbox() -> Iterator[SandboxServer]:
    options = {"org": ORG, "enterprise": "octo-ent", "managed_users": True}
    with SandboxServer([TenantSpec(app="github", name="emu", seed=5, users=60, options=options)]) as server:
        yield server


def test_enterprise_scim_and_audit_log_match_the_schemas(openapi, schema_of, emu_sandbox):
    """Enterprise Managed Users: the SCIM listing (filter, startIndex/count), one identity, the PatchOp
    suspending it (200 with the identity), 404 for an unknown identity, 400 for a filter GitHub does
    not support, and the enterprise audit log with the deprovisioning's events."""
    truth = emu_sandbox.personality("github", "emu").ground_truth()
    tokens = {tuple(t["scopes"]): t["token"] for t in truth["credentials"]["tokens"] if t["kind"] == "classic"}
    scim, owner = tokens[("scim:enterprise",)], tokens[("read:org", "read:audit_log", "admin:enterprise")]
    base = emu_sandbox.tenant_url("github", "emu")
    users = "/scim/v2/enterprises/octo-ent/Users"

    def call(method: str, path: str, token: str, status: int, body: Any = None, **params: Any) -> httpx.Response:
        headers = {"Accept": "application/scim+json", "User-Agent": "t", "Authorization": f"Bearer {token}"}
        response = HTTP.request(method, base + path, headers=headers, json=body, params=params)
        assert response.status_code == status, (method, path, response.text)
        if status < 300 and not path.startswith("/scim/"):
            _validate(openapi, method, path, response, params)
        return response

    # openapi-core reads only application/json bodies: SCIM's application/scim+json is checked
    # against the same description's schemas directly.
    listing = call("GET", users, owner, 200, startIndex=11, count=25).json()
    schema_of("scim-enterprise-user-list", listing)
    assert (listing["totalResults"], listing["startIndex"], len(listing["Resources"])) == (60, 11, 25)
    identity = truth["scim_identities"][3]
    found = call("GET", users, scim, 200, filter=f'userName eq "{identity["userName"]}"').json()
    assert [r["id"] for r in found["Resources"]] == [identity["id"]]
    schema_of("scim-enterprise-user-response", call("GET", f"{users}/{identity['id']}", owner, 200).json())
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    suspended = call("PATCH", f"{users}/{identity['id']}", scim, 200, patch).json()
    schema_of("scim-enterprise-user-response", suspended)
    assert suspended["active"] is False
    errors = [
        call("GET", f"{users}/00000000-0000-0000-0000-000000000000", scim, 404).json(),
        call("GET", users, scim, 400, filter='emails eq "x@example.com"').json(),
        call("PATCH", f"{users}/{identity['id']}", owner, 403, patch).json(),  # not the setup user
    ]
    for error in errors:
        schema_of("scim-error", error)
    events = call("GET", "/enterprises/octo-ent/audit-log", owner, 200, phrase="action:user.suspend", per_page=10)
    assert [e["user_id"] for e in events.json()] == [identity["user_id"]]


@pytest.fixture(scope="module")
def settings_sandbox() -> Iterator[SandboxServer]:
    tokens = [
        {"token": "ghp_contractsettings000000000000000000", "scopes": ["admin:org", "admin:org_hook"], "owner": True},
        {"token": "ghp_contractmembersonly00000000000000", "scopes": ["read:org"], "owner": True},
    ]
    spec = TenantSpec(app="github", name="settings", seed=7, users=40, options={"org": ORG, "tokens": tokens})
    with SandboxServer([spec]) as server:
        yield server


SETTINGS_READS = [
    ("/orgs/{org}", {}),
    ("/orgs/{org}/actions/permissions", {}),
    ("/orgs/{org}/actions/permissions/workflow", {}),
    ("/orgs/{org}/hooks", {"per_page": 2}),
    ("/orgs/{org}/hooks", {"per_page": 2, "page": 2}),
]


@pytest.mark.parametrize(("template", "params"), SETTINGS_READS, ids=[f"{t} {p}" for t, p in SETTINGS_READS])
def test_settings_reads_match_the_published_schemas(openapi, settings_sandbox, template, params):
    """What the settings stage reads, with an owner's admin:org and admin:org_hook token: the full
    organization (its owner-only policies), the Actions policies and the webhooks, page by page."""
    path = template.format(org=ORG)
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "t"}
    headers["Authorization"] = "Bearer ghp_contractsettings000000000000000000"
    response = HTTP.get(settings_sandbox.tenant_url("github", "settings") + path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()
    _validate(openapi, "GET", path, response, params)
    if template == "/orgs/{org}":
        assert "two_factor_requirement_enabled" in response.json()


@pytest.mark.parametrize("template", ["/orgs/{org}/actions/permissions", "/orgs/{org}/hooks"])
def test_settings_reads_without_the_scope_are_basic_errors(schema_of, settings_sandbox, template):
    headers = {"Accept": "application/vnd.github+json", "User-Agent": "t"}
    headers["Authorization"] = "Bearer ghp_contractmembersonly00000000000000"
    response = HTTP.get(settings_sandbox.tenant_url("github", "settings") + template.format(org=ORG), headers=headers)
    assert response.status_code == 403, response.text
    schema_of("basic-error", response.json())
    # and GET /orgs/{org} shows such a token the public fields only
    org = HTTP.get(settings_sandbox.tenant_url("github", "settings") + f"/orgs/{ORG}", headers=headers).json()
    assert "two_factor_requirement_enabled" not in org and "login" in org
