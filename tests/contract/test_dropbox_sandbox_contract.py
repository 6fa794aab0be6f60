"""What the Dropbox sandbox serves, checked against Dropbox's Stone definitions.

The definitions are dropbox/dropbox-api-spec's `*.stone` files, read from ``shared/api-specs/dropbox/``
(override the folder with SAASLENS_API_SPECS; the tests skip, saying so, when it is absent) with
Stone's own parser (tests/contract/stone_reader.py). Every route the connector calls is answered and
its body checked against the route's result type; errors against the route's error union (409), Dropbox's
auth.AuthError (401) and auth.RateLimitError (429).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from saaslens_sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec
from tests.contract.stone_reader import Stone

ROOT = Path(__file__).resolve().parents[2]
SPECS = Path(os.environ.get("SAASLENS_API_SPECS", ROOT.parent / "shared" / "api-specs")) / "dropbox"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)


@pytest.fixture(scope="module")
def stone() -> Stone:
    if not (SPECS / "team.stone").exists():
        pytest.skip(f"Dropbox's Stone definitions are not at {SPECS} (set SAASLENS_API_SPECS to their folder)")
    return Stone.load(SPECS)


@pytest.fixture(scope="module")
def server():
    spec = TenantSpec(
        app="dropbox",
        name="contract",
        seed=7,
        users=60,
        options={"anchor": ANCHOR.isoformat(), "events": 250},
        rate_limits=RateLimitConfig(enabled=False),
    )
    with SandboxServer([spec]) as running:
        yield running


class Api:
    def __init__(self, server: SandboxServer, token_name: str = "actions") -> None:
        self.personality = server.personality("dropbox", "contract")
        self.url = server.tenant_url("dropbox", "contract")
        credentials = self.personality.ground_truth()["credentials"]
        answer = httpx.post(
            f"{self.url}/oauth2/token",
            data={"grant_type": "refresh_token", "refresh_token": credentials["refresh_tokens"][token_name]["token"]},
            auth=(credentials["client_id"], credentials["client_secret"]),
        )
        assert answer.status_code == 200, answer.text
        assert set(answer.json()) == {"access_token", "token_type", "expires_in"}
        self.token = answer.json()["access_token"]

    def call(self, route: str, args: Any = None, member: str | None = None, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if member:
            headers["Dropbox-API-Select-User"] = member
        return httpx.post(f"{self.url}/2/{route}", json=args, headers=headers)


def ok(stone: Stone, api: Api, route: str, args: Any = None, member: str | None = None) -> Any:
    answer = api.call(route, args, member)
    assert answer.status_code == 200, (route, answer.status_code, answer.text[:300])
    definition = stone.route(route)
    namespace = route.split("/")[0]
    problems = stone.check(answer.json(), definition.result_type_ref, namespace)
    assert problems == [], (route, problems[:10])
    return answer.json()


def endpoint_error(stone: Stone, api: Api, route: str, args: Any, tag: str, member: str | None = None) -> None:
    answer = api.call(route, args, member)
    assert answer.status_code == 409, (route, answer.status_code, answer.text)
    body = answer.json()
    assert set(body) == {"error_summary", "error"} and body["error_summary"].startswith(f"{tag}/")
    problems = stone.check(body["error"], stone.route(route).error_type_ref, route.split("/")[0])
    assert problems == [] and body["error"][".tag"] == tag, problems


def test_every_listing_the_connector_reads_matches_its_route(stone, server):
    api = Api(server)
    admin = ok(stone, api, "team/token/get_authenticated_admin")
    first = ok(stone, api, "team/members/list_v2", {"limit": 7, "include_removed": True})
    assert first["has_more"] and len(first["members"]) == 7
    seen = list(first["members"])
    cursor = first["cursor"]
    while True:
        page = ok(stone, api, "team/members/list/continue_v2", {"cursor": cursor})
        seen += page["members"]
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert len(seen) == len(api.personality.ground_truth()["members"])
    ids = [m["profile"]["team_member_id"] for m in seen]
    info = ok(
        stone,
        api,
        "team/members/get_info_v2",
        {
            "members": [
                {".tag": "team_member_id", "team_member_id": ids[0]},
                {".tag": "team_member_id", "team_member_id": "dbmid:nobody"},
            ]
        },
    )
    assert [item[".tag"] for item in info["members_info"]] == ["member_info", "id_not_found"]
    groups = ok(stone, api, "team/groups/list", {"limit": 2})
    ok(stone, api, "team/groups/list/continue", {"cursor": groups["cursor"]})
    for group in groups["groups"]:
        members = ok(
            stone,
            api,
            "team/groups/members/list",
            {"group": {".tag": "group_id", "group_id": group["group_id"]}, "limit": 3},
        )
        if members["has_more"]:
            ok(stone, api, "team/groups/members/list/continue", {"cursor": members["cursor"]})
    ok(stone, api, "team/linked_apps/list_members_linked_apps", {})
    events = ok(stone, api, "team_log/get_events", {"limit": 40})
    empty_pages = 0
    while events["has_more"]:
        events = ok(stone, api, "team_log/get_events/continue", {"cursor": events["cursor"]})
        empty_pages += not events["events"]
    assert empty_pages > 0, "Dropbox documents empty pages with has_more true; the sandbox serves some"
    ok(
        stone,
        api,
        "team_log/get_events",
        {"limit": 5, "category": {".tag": "logins"}, "time": {"start_time": "2000-01-01T00:00:00Z"}},
    )
    for member_id, links in api.personality.ground_truth()["shared_links"].items():
        answer = ok(stone, api, "sharing/list_shared_links", {}, member=member_id)
        assert [link["url"] for link in answer["links"]] == [link["url"] for link in links]
    assert admin["admin_profile"]["team_member_id"] == ids[0] or admin["admin_profile"]["team_member_id"] in ids
    assert stone.unchecked <= {"secondary_emails", "users_common", "seen_state", "account", "async", "file_properties"}


def test_errors_are_the_routes_unions(stone, server):
    api = Api(server)
    truth = api.personality.ground_truth()
    endpoint_error(
        stone, api, "team/groups/members/list", {"group": {".tag": "group_id", "group_id": "g:none"}}, "group_not_found"
    )
    endpoint_error(stone, api, "team_log/get_events/continue", {"cursor": "bm90LWEtY3Vyc29y"}, "bad_cursor")
    endpoint_error(
        stone,
        api,
        "team_log/get_events",
        {"category": {".tag": "logins"}, "event_type": {".tag": "logout"}},
        "invalid_filters",
    )
    nobody = {".tag": "team_member_id", "team_member_id": "dbmid:nobody"}
    endpoint_error(stone, api, "team/members/suspend", {"user": nobody}, "user_not_found")
    suspended = next(m for m in truth["members"] if m["profile"]["status"][".tag"] == "suspended")
    selector = {".tag": "team_member_id", "team_member_id": suspended["profile"]["team_member_id"]}
    endpoint_error(stone, api, "team/members/suspend", {"user": selector}, "suspend_inactive_user")
    active = next(m for m in truth["members"][1:] if m["profile"]["status"][".tag"] == "active")
    endpoint_error(
        stone,
        api,
        "team/members/unsuspend",
        {"user": {".tag": "team_member_id", "team_member_id": active["profile"]["team_member_id"]}},
        "unsuspend_non_suspended_member",
    )
    owner = next(iter(truth["shared_links"]))
    endpoint_error(
        stone,
        api,
        "sharing/revoke_shared_link",
        {"url": "https://www.dropbox.com/scl/fi/none"},
        "shared_link_not_found",
        member=owner,
    )
    # 401s are auth.AuthError
    auth_error = stone.definitions["auth"]["AuthError"]
    for answer, tag in (
        (api.call("team/members/list_v2", {}, token="not-a-token"), "invalid_access_token"),
        (Api(server, "members-only").call("team_log/get_events", {}), "missing_scope"),
        (api.call("sharing/list_shared_links", {}, member="dbmid:nobody"), "invalid_select_user"),
    ):
        assert answer.status_code == 401, answer.text
        assert (
            stone._union(answer.json()["error"], auth_error, "auth", "$") == []
            and answer.json()["error"][".tag"] == tag
        )
    without_header = api.call("sharing/list_shared_links", {})
    assert without_header.status_code == 400 and without_header.headers["content-type"].startswith("text/plain")


def test_rate_limit_answers_are_rate_limit_errors(stone, server):
    api = Api(server)
    api.personality.set_faults(FaultConfig(burst_429=1))
    try:
        answer = api.call("team/members/list_v2", {"limit": 1})
    finally:
        api.personality.set_faults(FaultConfig())
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1
    rate_limit = stone.definitions["auth"]["RateLimitError"]
    assert stone._struct(answer.json()["error"], rate_limit, "auth", "$") == []
