"""What the Slack sandbox serves, checked against Slack's own machine-readable descriptions.

Web API: Slack's OpenAPI (Swagger 2) description, slackapi/slack-api-specs
``web-api/slack_web_openapi_v2.json``, read from ``shared/api-specs/slack/`` (override the folder
with SAASLENS_API_SPECS; the tests skip, saying so, when it is absent). Each method's ``200``
schema and its ``default`` (error) schema are checked with jsonschema's Draft 4 validator (Swagger
2 schemas are Draft 4), with ``#/definitions/...`` resolved in the same document.

Two defects of that description are corrected before validating, both visible in the file:

* ``items`` given as a list where a choice was meant (``objs_user``: the workspace or the
  enterprise user shape; ``objs_response_metadata``; ``tz``, ``auto_type``, ``deleted_by``).
  Outside an array, a list-valued ``items`` constrains nothing, so as written ``objs_user``
  accepts any object at all. They become ``anyOf``, which is stricter, not looser.
* ``objs_file.shares.public`` / ``.private`` are ``{"additionalProperties": false}``, which admits
  only ``{}``, while the file object Slack documents (https://api.slack.com/types/file) maps each
  conversation id to a list of share records. They are replaced by exactly that mapping.

Not covered by the per-method error enums: ``missing_scope`` (with ``needed``/``provided``) and
``ratelimited`` are Slack-wide errors documented at https://api.slack.com/web#evaluating_responses
and https://api.slack.com/docs/rate-limits; they are checked against that shape instead.

Audit Logs API: not in Slack's description; checked against ``slack_audit_logs_schema.json``
beside this file, written from Slack's Audit Logs API reference (sources in its ``$comment``).
"""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = (
    Path(os.environ.get("SAASLENS_API_SPECS", ROOT.parent / "shared" / "api-specs"))
    / "slack"
    / "slack_web_openapi_v2.json"
)
AUDIT_SCHEMA_PATH = Path(__file__).with_name("slack_audit_logs_schema.json")
ANCHOR = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
METHODS = ("auth.test", "users.list", "usergroups.list", "usergroups.users.list", "team.accessLogs", "files.list")
SHARE_MAP = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "object", "required": ["ts"]}},
}


# --------------------------------------------------------------------------------------------
# The descriptions
# --------------------------------------------------------------------------------------------


def _choices_from_item_lists(node: Any) -> Any:
    if isinstance(node, dict):
        fixed = {key: _choices_from_item_lists(value) for key, value in node.items()}
        if isinstance(fixed.get("items"), list) and fixed.get("type") != "array":
            fixed["anyOf"] = fixed.pop("items")
        return fixed
    if isinstance(node, list):
        return [_choices_from_item_lists(value) for value in node]
    return node


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        pytest.skip(f"Slack's Web API description is not at {SPEC_PATH} (set SAASLENS_API_SPECS to its folder)")
    document = json.loads(SPEC_PATH.read_text())
    definitions = _choices_from_item_lists(copy.deepcopy(document["definitions"]))
    shares = definitions["objs_file"]["properties"]["shares"]["properties"]
    shares["public"], shares["private"] = SHARE_MAP, SHARE_MAP
    return {"paths": document["paths"], "definitions": definitions}


def validator(spec: dict[str, Any], method: str, outcome: str) -> jsonschema.Draft4Validator:
    schema = _choices_from_item_lists(spec["paths"][f"/{method}"]["get"]["responses"][outcome]["schema"])
    return jsonschema.Draft4Validator(
        {**schema, "definitions": spec["definitions"]}, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


def assert_valid(spec: dict[str, Any], method: str, body: dict[str, Any], outcome: str = "200") -> None:
    errors = sorted(validator(spec, method, outcome).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{method} ({outcome}): " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5]
    )


@pytest.fixture(scope="module")
def audit_schema() -> dict[str, Any]:
    return json.loads(AUDIT_SCHEMA_PATH.read_text())


def audit_validator(schema: dict[str, Any], which: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator({"$ref": f"#/definitions/{which}", "definitions": schema["definitions"]})


# --------------------------------------------------------------------------------------------
# The sandbox
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox():
    specs = [
        TenantSpec(
            app="slack",
            name="acme",
            seed=3,
            users=260,
            options={"anchor": ANCHOR.isoformat(), "events": 1500},
            rate_limits=RateLimitConfig(enabled=False),
        ),
        TenantSpec(
            app="slack",
            name="smallco",
            seed=4,
            users=30,
            options={"anchor": ANCHOR.isoformat(), "plan": "free"},
            rate_limits=RateLimitConfig(enabled=False),
        ),
    ]
    with SandboxServer(specs) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def get(client: httpx.Client, path: str, token: str | None = "xoxp-sandbox-acme-owner", **params) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(f"/slack/acme/{path}", params=params, headers=headers).json()


def walk_cursor(client: httpx.Client, method: str, **params) -> list[dict[str, Any]]:
    pages, cursor = [], None
    while True:
        page = get(client, method, **params, **({"cursor": cursor} if cursor else {}))
        pages.append(page)
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            return pages


def walk_pages(client: httpx.Client, method: str, **params) -> list[dict[str, Any]]:
    pages, page = [], 1
    while True:
        body = get(client, method, page=page, **params)
        pages.append(body)
        if page >= body["paging"]["pages"]:
            return pages
        page += 1


# --------------------------------------------------------------------------------------------
# Web API
# --------------------------------------------------------------------------------------------


def test_auth_test_for_user_and_bot_tokens(spec, sandbox):
    assert_valid(spec, "auth.test", get(sandbox, "auth.test"))
    assert_valid(spec, "auth.test", get(sandbox, "auth.test", token="xoxb-sandbox-acme-bot"))


@pytest.mark.parametrize("token", ["xoxp-sandbox-acme-owner", "xoxb-sandbox-acme-bot"])
def test_every_users_list_page(spec, sandbox, token):
    pages = walk_cursor(sandbox, "users.list", limit=50, token=token)
    assert len(pages) > 1
    for page in pages:
        assert_valid(spec, "users.list", page)


def test_the_corrected_description_still_rejects_what_slack_does_not_send(spec, sandbox):
    page = get(sandbox, "users.list", limit=5)
    page["members"][0]["surprise"] = True
    assert list(validator(spec, "users.list", "200").iter_errors(page))
    files = get(sandbox, "files.list", count=5)
    files["files"][0]["shares"] = {"public": {"C0123ABCDE": "not a list of shares"}}
    assert list(validator(spec, "files.list", "200").iter_errors(files))


def test_usergroups_with_every_option(spec, sandbox):
    full = get(sandbox, "usergroups.list", include_users="true", include_count="true", include_disabled="true")
    assert_valid(spec, "usergroups.list", full)
    assert_valid(spec, "usergroups.list", get(sandbox, "usergroups.list"))
    for group in full["usergroups"]:
        body = get(sandbox, "usergroups.users.list", usergroup=group["id"], include_disabled="true")
        assert_valid(spec, "usergroups.users.list", body)


def test_approved_apps(spec, sandbox):
    # Slack's description only gives this method its generic {"ok": true} template.
    for page in walk_cursor(sandbox, "admin.apps.approved.list", limit=2):
        assert_valid(spec, "admin.apps.approved.list", page)


def test_every_access_logs_page(spec, sandbox):
    pages = walk_pages(sandbox, "team.accessLogs", count=100)
    assert len(pages) > 1
    for page in pages:
        assert_valid(spec, "team.accessLogs", page)


def test_every_files_list_page(spec, sandbox):
    pages = walk_pages(sandbox, "files.list", count=40)
    assert any("shares" in f for page in pages for f in page["files"])
    assert any(f["is_external"] for page in pages for f in page["files"])
    for page in pages:
        assert_valid(spec, "files.list", page)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("token", [None, "xoxp-not-a-real-token"])
def test_auth_errors_match_each_methods_error_schema(spec, sandbox, method, token):
    params = {"usergroup": "S0000000000"} if method == "usergroups.users.list" else {}
    body = get(sandbox, method, token=token, **params)
    assert body["error"] == ("not_authed" if token is None else "invalid_auth")
    assert_valid(spec, method, body, "default")


def test_plan_and_paging_errors_of_access_logs(spec, sandbox):
    paid_only = sandbox.get(
        "/slack/smallco/team.accessLogs", headers={"Authorization": "Bearer xoxp-sandbox-smallco-owner"}
    ).json()
    assert paid_only == {"ok": False, "error": "paid_only"}
    assert_valid(spec, "team.accessLogs", paid_only, "default")
    too_deep = get(sandbox, "team.accessLogs", page=101)
    assert too_deep["error"] == "over_pagination_limit"
    assert_valid(spec, "team.accessLogs", too_deep, "default")


def test_slack_wide_errors_have_the_documented_shape(sandbox):
    body = get(sandbox, "team.accessLogs", token="xoxp-sandbox-acme-noaudit")
    assert set(body) == {"ok", "error", "needed", "provided"} and body["ok"] is False
    assert body["needed"] == "admin" and "users:read" in body["provided"].split(",")


# --------------------------------------------------------------------------------------------
# Audit Logs API
# --------------------------------------------------------------------------------------------


def test_every_audit_logs_page(audit_schema, sandbox):
    check = audit_validator(audit_schema, "logs_success")
    pages = walk_cursor(sandbox, "audit/v1/logs", limit=250)
    assert len(pages) > 1 and sum(len(p["entries"]) for p in pages) > 500
    for page in pages:
        errors = list(check.iter_errors(page))
        assert not errors, "; ".join(f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5])


def test_audit_schema_accepts_slacks_own_examples(audit_schema):
    """The schema must admit the events Slack's documentation shows (the fixture holds them)."""
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "slack" / "audit_logs.json"
    example = json.loads(fixture.read_text())
    errors = list(audit_validator(audit_schema, "logs_success").iter_errors(example))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 401), ("xoxp-not-a-real-token", 401), ("xoxp-sandbox-acme-noaudit", 403), ("xoxb-sandbox-acme-bot", 403)],
)
def test_audit_errors(audit_schema, sandbox, token, status):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = sandbox.get("/slack/acme/audit/v1/logs", headers=headers)
    assert response.status_code == status
    assert not list(audit_validator(audit_schema, "error").iter_errors(response.json()))
    assert list(audit_validator(audit_schema, "logs_success").iter_errors(response.json()))


# --------------------------------------------------------------------------------------------
# Settings the posture reads (connectors/slack/settings.py)
# --------------------------------------------------------------------------------------------


def _example(spec: dict[str, Any], method: str) -> dict[str, Any]:
    return spec["paths"][f"/{method}"]["get"]["responses"]["200"]["examples"]["application/json"]


@pytest.mark.parametrize(
    ("method", "items", "params"),
    [
        ("admin.teams.list", "teams", {"limit": 1}),
        ("admin.apps.requests.list", "app_requests", {"limit": 1}),
        ("admin.users.list", "users", {"limit": 1, "include_admins": "true", "include_owners": "true"}),
    ],
)
def test_settings_lists_answer_the_fields_of_slacks_examples(spec, sandbox, method, items, params):
    # Slack's description gives these methods only the generic {"ok": true} template, so each page is
    # checked against it and each item against the keys of the method's documented example.
    documented = set(_example(spec, method)[items][0])
    pages = walk_cursor(sandbox, method, **params)
    assert len(pages) >= 2 and all(len(page[items]) == 1 for page in pages[:-1])
    for page in pages:
        assert_valid(spec, method, page)
        for item in page[items]:
            assert documented <= set(item), (method, documented - set(item))


def test_admin_users_list_filters_admins_and_owners_as_documented(sandbox):
    def ids(**params) -> set[str]:
        return {u["id"] for page in walk_cursor(sandbox, "admin.users.list", **params) for u in page["users"]}

    owners = ids(include_owners="true")
    admins = ids(include_admins="true")
    assert owners and not owners & admins  # include_admins "excludes owners"
    assert ids(include_admins="true", include_owners="true") == owners | admins
    everyone = ids()
    assert owners | admins < everyone


def test_team_preferences_list_answers_the_documented_preferences(sandbox):
    # https://docs.slack.dev/reference/methods/team.preferences.list (not in Slack's OpenAPI file).
    body = get(sandbox, "team.preferences.list")
    assert body["ok"] is True
    documented = {
        "allow_message_deletion",
        "display_real_names",
        "disable_file_uploads",
        "msg_edit_window_mins",
        "who_can_post_general",
    }
    assert set(body) - {"ok"} <= documented and len(set(body) & documented) >= 4
    assert isinstance(body["msg_edit_window_mins"], int) and isinstance(body["allow_message_deletion"], bool)


@pytest.mark.parametrize(
    ("method", "token", "error"),
    [
        ("team.preferences.list", "xoxp-sandbox-acme-noaudit", "missing_scope"),
        ("admin.teams.list", "xoxp-sandbox-acme-noaudit", "missing_scope"),
        ("admin.users.list", "xoxp-sandbox-acme-noaudit", "missing_scope"),
    ],
)
def test_settings_reads_without_their_scope(sandbox, method, token, error):
    body = get(sandbox, method, token=token)
    assert body["ok"] is False and body["error"] == error and body["needed"] and "provided" in body


def test_admin_settings_reads_outside_enterprise_grid(sandbox):
    headers = {"Authorization": "Bearer xoxp-sandbox-smallco-owner"}
    for method in ("admin.teams.list", "admin.users.list", "admin.apps.requests.list"):
        body = sandbox.get(f"/slack/smallco/{method}", headers=headers).json()
        assert body == {"ok": False, "error": "feature_not_enabled"}, (method, body)
    # team.preferences.list is not an Admin API method: every plan answers it.
    assert sandbox.get("/slack/smallco/team.preferences.list", headers=headers).json()["ok"] is True
