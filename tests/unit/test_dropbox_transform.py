"""Dropbox transforms on payloads shaped like the examples in Dropbox's Stone definitions (team.stone
TeamMemberProfile / TeamMemberInfoV2, team_common.stone GroupSummary, team.stone ApiApp, team_log.stone
TeamEvent `example default`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from saaslens.connectors.dropbox import transform

MEMBER = {
    "profile": {
        "team_member_id": "dbmid:FDFSVF-DFSDF",
        "account_id": "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc",
        "email": "Tami@seagull.com",
        "email_verified": False,
        "secondary_emails": [{"email": "apple@orange.com", "is_verified": True}],
        "status": {".tag": "active"},
        "name": {
            "given_name": "Franz",
            "surname": "Ferdinand",
            "familiar_name": "Franz",
            "display_name": "Franz Ferdinand (Personal)",
            "abbreviated_name": "FF",
        },
        "membership_type": {".tag": "full"},
        "joined_on": "2015-05-12T15:50:38Z",
        "profile_photo_url": "https://dl-web.dropbox.com/account_photo/get/dbaphid%3AAAHWGmIXV3sUuOmBfTz0wPsiqHUpBWvv3ZA",
        "groups": ["g:e2db7665347abcd600000000001a2b3c"],
        "member_folder_id": "20",
        "root_folder_id": "30",
    },
    "roles": [{"role_id": "pid_dbtmr:3456", "name": "Team admin", "description": "User can do most user provisioning"}],
}


def test_a_member_with_a_role_is_an_admin_with_one_privilege_per_role():
    row = transform.account_row(MEMBER)
    assert row["account_id"] == "dbmid:FDFSVF-DFSDF"
    assert row["email"] == "tami@seagull.com" and row["login"] == "Tami@seagull.com"
    assert (row["status"], row["provider_status"], row["is_admin"]) == ("active", "active", True)
    assert row["created_at"] is None  # no invited_on in the sample: unknown, not joined_on
    assert json.loads(row["raw"]) == MEMBER
    privileges = transform.privilege_rows(MEMBER)
    assert [(p["privilege_id"], p["privilege_name"]) for p in privileges] == [("pid_dbtmr:3456", "Team admin")]


def test_statuses_map_invited_suspended_and_removed():
    for status, expected in (("invited", "pending"), ("suspended", "suspended"), ("removed", "deprovisioned")):
        member = {"profile": {**MEMBER["profile"], "status": {".tag": status}}, "roles": []}
        row = transform.account_row(member)
        assert (row["status"], row["provider_status"], row["is_admin"]) == (expected, status, False)
    removed = {"profile": {**MEMBER["profile"], "status": {".tag": "removed", "is_recoverable": True}}}
    assert transform.account_row(removed)["status"] == "deprovisioned"  # a removed member has no roles key


def test_groups_and_members():
    group = {
        "group_name": "Test group",
        "group_id": "g:e2db7665347abcd600000000001a2b3c",
        "group_external_id": "group-134",
        "member_count": 10,
        "group_management_type": {".tag": "user_managed"},
    }
    row = transform.group_row(group)
    assert (row["group_id"], row["name"], row["group_type"]) == (group["group_id"], "Test group", "user_managed")
    everyone = {
        "group_name": "Everyone at Acme",
        "group_id": "g:1",
        "group_management_type": {".tag": "system_managed"},
    }
    assert transform.group_row(everyone)["group_type"] == "system_managed"
    member = transform.member_row("g:1", {"profile": MEMBER["profile"], "access_type": {".tag": "owner"}})
    assert member == {"group_id": "g:1", "account_id": "dbmid:FDFSVF-DFSDF", "member_role": "owner", "raw": None}


def test_linked_apps_are_one_grant_per_member_and_app():
    linked = {
        "team_member_id": "dbmid:AAFhy5tUJ3-8Qp-vJ3vnMwOhxQHM3VQh1iQ",
        "linked_api_apps": [
            {
                "app_id": "dbaid:AAFhy5tUJ3-8Qp",
                "app_name": "Notes",
                "is_app_folder": True,
                "linked": "2015-05-12T15:50:38Z",
            },
            {"app_id": "dbaid:BBB", "app_name": "Sync", "is_app_folder": False},
        ],
    }
    rows = transform.app_grant_rows(linked)
    assert [r["grant_id"] for r in rows] == [
        "dbmid:AAFhy5tUJ3-8Qp-vJ3vnMwOhxQHM3VQh1iQ:dbaid:AAFhy5tUJ3-8Qp",
        "dbmid:AAFhy5tUJ3-8Qp-vJ3vnMwOhxQHM3VQh1iQ:dbaid:BBB",
    ]
    assert [r["scopes"] for r in rows] == [["app_folder"], ["full_dropbox"]]
    assert rows[0]["created_at"] == datetime(2015, 5, 12, 15, 50, 38, tzinfo=UTC)
    assert rows[1]["created_at"] is None  # "linked" missing: a historical data gap


EVENT = {
    "timestamp": "2017-01-25T15:51:30Z",
    "event_category": {".tag": "tfa"},
    "actor": {
        ".tag": "user",
        "user": {
            ".tag": "team_member",
            "account_id": "dbid:AAHgR8xsQP48a5DQUGPo-Vxsrjd0OByVmho",
            "display_name": "John Smith",
            "email": "john_smith@acmecorp.com",
            "team_member_id": "dbmid:AAFoi-tmvRuQR0jU-3fN4B-9nZo6nHcDO9Q",
        },
    },
    "origin": {
        "geo_location": {
            "city": "San Francisco",
            "region": "California",
            "country": "US",
            "ip_address": "45.56.78.100",
        },
        "access_method": {".tag": "end_user", "end_user": {".tag": "web", "session_id": "dbwsid:123456789012345678"}},
    },
    "involve_non_team_member": True,
    "context": {".tag": "team_member", "team_member_id": "dbmid:AAFoi-tmvRuQR0jU-3fN4B-9nZo6nHcDO9Q"},
    "event_type": {".tag": "login_fail", "description": "Failed to sign in"},
    "details": {
        ".tag": "login_fail_details",
        "login_method": {".tag": "password"},
        "error_details": {"user_friendly_message": "Wrong password", "technical_error_message": "invalid_credentials"},
    },
}


def test_an_audit_event_without_an_id_is_named_by_its_content():
    row = transform.audit_row(EVENT)
    assert row["event_id"] == transform.audit_row(json.loads(json.dumps(EVENT)))["event_id"]
    assert row["event_id"] != transform.audit_row({**EVENT, "timestamp": "2017-01-25T15:51:31Z"})["event_id"]
    assert (row["action"], row["category"], row["outcome"]) == ("login_fail", "logon", "failure")
    assert row["outcome_reason"] == "invalid_credentials"
    assert (row["actor_id"], row["actor_login"], row["actor_type"]) == (
        "dbmid:AAFoi-tmvRuQR0jU-3fN4B-9nZo6nHcDO9Q",
        "john_smith@acmecorp.com",
        "user",
    )
    assert (row["ip"], row["country"]) == ("45.56.78.100", "US")
    assert row["occurred_at"] == datetime(2017, 1, 25, 15, 51, 30, tzinfo=UTC)


def test_actors_that_are_not_people_and_void_members_sent_bare():
    dropbox = {**EVENT, "actor": {".tag": "dropbox"}, "origin": None, "event_category": "members"}
    row = transform.audit_row(dropbox)
    assert (row["actor_id"], row["actor_type"], row["category"], row["ip"]) == (None, "dropbox", "admin", None)
    app = {
        **EVENT,
        "actor": {".tag": "app", "app": {".tag": "team_linked_app", "app_id": "dbaid:1", "display_name": "X"}},
    }
    assert transform.audit_row(app)["actor_type"] == "app"
    group = {**EVENT, "participants": [{".tag": "group", "group_id": "g:1", "display_name": "Sales"}]}
    assert (transform.audit_row(group)["target_id"], transform.audit_row(group)["target_type"]) == ("g:1", "group")
