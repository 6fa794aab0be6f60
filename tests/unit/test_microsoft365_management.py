"""The Management Activity API's pure pieces: where its token may go, how windows become listings,
how an audit record becomes an activity row, and how its AF error codes read."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from saaslens.connections import ConnectionInvalidError
from saaslens.connectors.microsoft365.connector import GraphErrorPolicy
from saaslens.connectors.microsoft365.management import (
    check_feed_url,
    content_slices,
    management_root,
    management_scope,
    start_call,
)
from saaslens.connectors.microsoft365.transform import unified_audit_row
from saaslens.http import FeatureUnavailableError, InsecureURLError, MalformedResponseError, PermissionDeniedError

TID = "41463f53-8812-40f4-890f-865bf6e35190"
ROOT = "https://manage.office.com"


def test_the_management_root_follows_the_graph_cloud_and_refuses_other_hosts():
    assert management_root("https://graph.microsoft.com", None) == "https://manage.office.com"
    assert management_root("https://graph.microsoft.us", None) == "https://manage.office365.us"
    assert management_root("https://graph.microsoft.com", "https://manage-gcc.office.com/") == (
        "https://manage-gcc.office.com"
    )
    # the sandbox (or a proxy) serves both APIs under one base URL
    assert management_root("http://127.0.0.1:9/microsoft365/t", None) == "http://127.0.0.1:9/microsoft365/t"
    assert management_root("http://127.0.0.1:9/m/t", "http://127.0.0.1:9/m/t") == "http://127.0.0.1:9/m/t"
    for hostile in ("https://manage.office.com.evil.example", "http://manage.office.com", "https://evil.example"):
        with pytest.raises(ConnectionInvalidError, match="management_url"):
            management_root("https://graph.microsoft.com", hostile)
    assert management_scope("https://manage.office365.us") == "https://manage.office365.us/.default"
    assert management_scope("http://127.0.0.1:9/m/t") == "https://manage.office.com/.default"
    assert start_call(ROOT, TID).endswith(
        f"/api/v1.0/{TID}/activity/feed/subscriptions/start?contentType=Audit.SharePoint"
    )


@pytest.mark.parametrize(
    "url",
    [
        f"https://evil.example/api/v1.0/{TID}/activity/feed/audit/x",
        f"https://manage.office.com:8443/api/v1.0/{TID}/activity/feed/audit/x",
        f"http://manage.office.com/api/v1.0/{TID}/activity/feed/audit/x",
        "https://manage.office.com/api/v1.0/0f0e0d0c-0b0a-4909-8807-060504030201/activity/feed/audit/x",
        f"https://manage.office.com/api/v1.0/{TID}/activity/feed/../../../other/activity/feed/x",
        f"https://manage.office.com/api/v1.0/{TID}/activity/feed/%2e%2e/x",
        f"https://manage.office.com/api/v2/{TID}/activity/feed/audit/x",
    ],
)
def test_a_uri_off_the_tenants_feed_is_refused_naming_its_host(url):
    with pytest.raises(InsecureURLError) as refused:
        check_feed_url(url, ROOT, TID, "contentUri")
    assert "contentUri" in str(refused.value) and httpx.URL(url).netloc.decode() in str(refused.value)


def test_the_tenants_feed_is_followed_and_a_non_url_is_malformed():
    ok = f"{ROOT}/api/v1.0/{TID}/activity/feed/audit/492638008028$492638008028$f28ab78ad4$04"
    assert check_feed_url(ok, ROOT, TID, "contentUri") == ok
    # the reference's NextPageUri sample says /api/v1/
    sample = f"{ROOT}/api/v1/{TID}/activity/feed/subscriptions/content?contentType=Audit.SharePoint&nextPage=2"
    assert check_feed_url(sample, ROOT, TID, "NextPageUri") == sample
    sandbox = "http://127.0.0.1:9/microsoft365/t"
    assert check_feed_url(f"{sandbox}/api/v1.0/{TID}/activity/feed/audit/a", sandbox, TID, "contentUri")
    with pytest.raises(InsecureURLError):
        check_feed_url(f"http://127.0.0.1:9/microsoft365/u/api/v1.0/{TID}/activity/feed/audit/a", sandbox, TID, "x")
    for junk in (None, 7, ""):
        with pytest.raises(MalformedResponseError):
            check_feed_url(junk, ROOT, TID, "contentUri")


def test_windows_become_whole_second_listings_of_at_most_a_day_within_seven_days():
    now = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
    since, until = now - timedelta(days=2, microseconds=500), now - timedelta(seconds=59, microseconds=1)
    slices = content_slices(since, until, now)
    assert slices[0][0] == (since).replace(microsecond=0) and slices[-1][1] == now - timedelta(seconds=59)
    assert all(end - start <= timedelta(hours=24) for start, end in slices)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(slices))  # no gap, no overlap
    assert all(s.microsecond == 0 and e.microsecond == 0 for s, e in slices)
    # an initial window of 30 days starts inside the API's 7
    old = content_slices(now - timedelta(days=30), now, now)
    assert old[0][0] >= now - timedelta(days=7) and len(old) == 7
    assert content_slices(now, now, now) == []


def test_an_app_only_removal_is_the_apps_and_a_users_access_is_theirs():
    removal = {
        "Id": "4e655d3f-35fa-42e0-b050-264b2d255c7a",
        "CreationTime": "2026-03-10T11:58:01",
        "Operation": "AnonymousLinkRemoved",
        "RecordType": 14,
        "UserId": "app@sharepoint",
        "UserType": 5,
        "UserKey": "i:0i.t|ms.sp.ext|c1@t",
        "ApplicationId": "c1",
        "AppAccessContext": {"ClientAppId": "c1", "ClientAppName": "saaslens (actions)"},
        "ObjectId": "https://contoso.sharepoint.com/Shared%20Documents/a.docx",
        "SourceFileName": "a.docx",
        "ItemType": "File",
        "ClientIP": "20.190.128.10",
    }
    row = unified_audit_row(removal)
    assert row["event_id"] == removal["Id"] and row["occurred_at"] == datetime(2026, 3, 10, 11, 58, 1, tzinfo=UTC)
    assert (row["category"], row["action"], row["outcome"]) == ("file", "AnonymousLinkRemoved", "unknown")
    assert (row["actor_id"], row["actor_login"], row["actor_type"]) == ("c1", "saaslens (actions)", "Application")
    assert (row["target_id"], row["target_name"], row["target_type"]) == (removal["ObjectId"], "a.docx", "File")
    access = {**removal, "Operation": "FileAccessed", "UserId": "Ann@Contoso.com", "UserType": 0, "UserKey": "k"}
    del access["AppAccessContext"], access["ApplicationId"]
    row = unified_audit_row({**access, "ResultStatus": "Succeeded"})
    assert (row["actor_id"], row["actor_login"], row["actor_type"], row["outcome"]) == (
        "k",
        "ann@contoso.com",
        "User",
        "success",
    )


def _error(status: int, code: str, message: str) -> Exception:
    request = httpx.Request("GET", f"{ROOT}/api/v1.0/{TID}/activity/feed/subscriptions/content")
    response = httpx.Response(status, json={"error": {"code": code, "message": message}}, request=request)
    return GraphErrorPolicy().error_for(response)


def test_af_codes_read_as_a_missing_permission_or_a_missing_subscription():
    denied = _error(
        401, "AF10001", "The permission set () sent in the request does not include the expected permission."
    )
    assert isinstance(denied, PermissionDeniedError) and "ActivityFeed.Read" in denied.detail
    for code in ("AF20022", "AF20023"):
        assert isinstance(
            _error(400, code, "No subscription found for the specified content type."), FeatureUnavailableError
        )
    assert type(_error(400, "AF20030", "Start time and end time ...")).__name__ == "ApiError"
