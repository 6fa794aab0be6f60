"""The Office 365 Management Activity API: where the unified audit log's SharePoint and OneDrive records
(content type Audit.SharePoint) are read, for the activities stream ``sharepoint_audit``.

Pages relied on (MicrosoftDocs/office-365-management-api, published under
https://learn.microsoft.com/office/office-365-management-api/):

- office-365-management-activity-api-reference: the root ``https://manage.office.com/api/v1.0/{tenant_id}/
  activity/feed/{operation}`` (GCC ``manage-gcc.office.com``, GCC High ``manage.office365.us``, DoD
  ``manage.protection.apps.mil``); a token whose tenant is the URL's and which holds ActivityFeed.Read;
  ``GET subscriptions/list``; ``GET subscriptions/content?contentType=&startTime=&endTime=``, by the time
  content became available (``startTime <= contentCreated < endTime``), both times at most 24 hours
  apart and the start no more than 7 days in the past (AF20030), formats ``YYYY-MM-DDTHH:MM:SS``;
  more content than one answer holds comes with a ``NextPageUri`` header, followed until absent; each
  entry's ``contentUri`` is fetched with a GET and holds a JSON array of records; errors
  ``{"error": {"code", "message"}}``: AF10001 (the token lacks ActivityFeed.Read; 401, as
  microsoft/coe-starter-kit#3192 shows), AF20022 (no subscription for the content type), AF20023
  (subscription disabled). Content "will not necessarily appear in the order in which [events]
  occurred": a blob can hold events older than an earlier blob's, which is why windows here are
  by contentCreated and re-read a lookback.
- get-started-with-office-365-management-apis: the client credentials flow for the resource
  ``https://manage.office.com`` (scope ``https://manage.office.com/.default`` on the v2.0 endpoint),
  application permission ActivityFeed.Read of the "Office 365 Management APIs".
- office-365-management-activity-api-schema: the records (common schema, SharePoint base schema,
  SharePoint Sharing schema), mapped in transform.unified_audit_row.

A subscription is started by a tenant admin (``POST subscriptions/start?contentType=Audit.SharePoint``);
saaslens never starts one (that changes the tenant) and skips the stream naming that call instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from saaslens.connections import ConnectionInvalidError
from saaslens.http import ApiClient, InsecureURLError, MalformedResponseError
from saaslens.http.redaction import redact_url

CONTENT_TYPE = "Audit.SharePoint"
# Documented Management Activity API hosts per plan, and the host matching each Graph cloud.
MANAGEMENT_HOSTS = frozenset(
    {"manage.office.com", "manage-gcc.office.com", "manage.office365.us", "manage.protection.apps.mil"}
)
GRAPH_TO_MANAGEMENT = {
    "graph.microsoft.com": "https://manage.office.com",
    "graph.microsoft.us": "https://manage.office365.us",
    "dod-graph.microsoft.us": "https://manage.protection.apps.mil",
}
MAX_SLICE = timedelta(hours=24)
RETENTION = timedelta(days=7)
# The start of a listing stays this far inside the 7 days, so a clock a little ahead of Microsoft's
# does not turn the request into AF20030.
RETENTION_MARGIN = timedelta(minutes=10)
API_VERSIONS = ("v1.0", "v1")  # the reference's NextPageUri sample says /api/v1/, every other URL /api/v1.0/


def management_root(graph_base_url: str, configured: str | None) -> str:
    """The Management Activity API's root (scheme, host, and for a local emulation its path) for a
    connection whose Graph base URL is `graph_base_url`. `configured` (extra.management_url) must be
    a documented Management API host or on the Graph base URL's own origin (the sandbox, a proxy
    serving both); anything else is refused before any credential is sent."""
    graph = urlsplit(graph_base_url)
    if configured:
        root = configured.rstrip("/")
        parts = urlsplit(root)
        if parts.scheme == "https" and parts.hostname in MANAGEMENT_HOSTS and parts.path in ("", "/"):
            return f"https://{parts.netloc}"
        if (parts.scheme, parts.netloc) == (graph.scheme, graph.netloc):
            return root
        raise ConnectionInvalidError(
            f"extra.management_url {redact_url(configured)!r} is neither a Management Activity API host "
            f"({', '.join(sorted(MANAGEMENT_HOSTS))}) nor on the Graph host {graph.netloc}: the token for "
            "https://manage.office.com is not sent there"
        )
    return GRAPH_TO_MANAGEMENT.get(graph.hostname or "", graph_base_url.rstrip("/"))


def management_scope(root: str) -> str:
    """The client credentials scope for the API at `root`: its own host's for a Microsoft host,
    else the Enterprise resource (the sandbox issues that audience)."""
    host = urlsplit(root).hostname or ""
    return f"https://{host}/.default" if host in MANAGEMENT_HOSTS else "https://manage.office.com/.default"


def start_call(root: str, tenant_id: str) -> str:
    """The admin's one-time call that makes Audit.SharePoint content available (never sent here)."""
    return f"POST {root}/api/v1.0/{tenant_id}/activity/feed/subscriptions/start?contentType={CONTENT_TYPE}"


def feed_prefixes(root: str, tenant_id: str) -> tuple[str, ...]:
    path = urlsplit(root).path.rstrip("/")
    return tuple(f"{path}/api/{version}/{tenant_id}/activity/feed/" for version in API_VERSIONS)


def check_feed_url(url: Any, root: str, tenant_id: str, what: str) -> str:
    """A URL the API handed us (a contentUri, a NextPageUri) that the token may follow: the same
    scheme, host and port as `root`, below this tenant's feed, no dot segment. Anything else raises
    InsecureURLError naming it, before any request."""
    if not isinstance(url, str) or not url:
        raise MalformedResponseError(f"the Management Activity API gave a {what} that is not a URL: {url!r}")
    parts, base = urlsplit(url), urlsplit(root)
    segments = [unquote(s) for s in parts.path.split("/")]
    below = any(parts.path.startswith(prefix) for prefix in feed_prefixes(root, tenant_id))
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not below or {".", ".."} & set(segments):
        raise InsecureURLError(
            f"refusing the {what} {redact_url(url)!r} (host {parts.netloc!r}): it is not below "
            f"{base.scheme}://{base.netloc}{feed_prefixes(root, tenant_id)[0]}, and the token for this tenant's "
            "activity feed must not go with it"
        )
    return url


def api_time(moment: datetime) -> str:
    """startTime / endTime in the documented ``YYYY-MM-DDTHH:MM:SS`` (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def content_slices(since: datetime, until: datetime, now: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) listings covering [since, until) by contentCreated, each at most 24 hours, in whole
    seconds (the API's precision: the start rounded down, the end up, so nothing is skipped), none
    starting more than 7 days before `now` (older content is no longer listed)."""
    floor = now - RETENTION + RETENTION_MARGIN
    start = max(since, floor).astimezone(UTC).replace(microsecond=0)
    end_seconds = math.ceil(until.astimezone(UTC).timestamp())
    end = datetime.fromtimestamp(end_seconds, UTC)
    slices = []
    while start < end:
        stop = min(start + MAX_SLICE, end)
        slices.append((start, stop))
        start = stop
    return slices


@dataclass(frozen=True)
class ActivityFeed:
    """One tenant's activity feed: the client holding the manage.office.com token, its root and the
    tenant id (from that token's tid claim: the URL needs the GUID, not a domain)."""

    client: ApiClient
    root: str
    tenant_id: str
    roles: tuple[str, ...] = ()  # the token's roles claim (ActivityFeed.Read ...)

    def path(self, operation: str) -> str:
        # Relative to the client's base URL `{root}/api`.
        return f"/v1.0/{self.tenant_id}/activity/feed/{operation}"

    def subscriptions(self) -> list[dict[str, Any]]:
        payload = self.client.get_json(self.path("subscriptions/list"))
        if not isinstance(payload, list) or not all(isinstance(s, dict) for s in payload):
            raise MalformedResponseError("subscriptions/list did not answer a JSON array of subscriptions")
        return payload

    def started(self) -> bool:
        return any(
            s.get("contentType") == CONTENT_TYPE and str(s.get("status") or "").lower() == "enabled"
            for s in self.subscriptions()
        )

    def pages(
        self, start: datetime, end: datetime, first_page: str | None, publisher: str | None
    ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """The content entries of one listing, page by page, with the NextPageUri after each page
        (checked before it is returned); `first_page` continues a listing from a checkpoint."""
        seen: set[str] = set()
        url: str | None = first_page
        while True:
            if url is None:
                params = {"contentType": CONTENT_TYPE, "startTime": api_time(start), "endTime": api_time(end)}
                if publisher:
                    params["PublisherIdentifier"] = publisher
                response, payload = self.client.request("GET", self.path("subscriptions/content"), params=params)
            else:
                response, payload = self.client.request("GET", check_feed_url(url, self.root, self.tenant_id, "page"))
            if not isinstance(payload, list) or not all(isinstance(e, dict) for e in payload):
                raise MalformedResponseError("subscriptions/content did not answer a JSON array of content entries")
            following = response.headers.get("NextPageUri")
            if following is not None:
                check_feed_url(following, self.root, self.tenant_id, "NextPageUri")
                if following in seen:
                    raise MalformedResponseError(
                        f"subscriptions/content pages loop: NextPageUri {redact_url(following)!r} came back"
                    )
                seen.add(following)
            yield payload, following
            if following is None:
                return
            url = following

    def records(self, entry: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The audit records of one content entry: its contentUri checked, then fetched; a JSON array
        of records of this tenant, or the answer is malformed."""
        uri = check_feed_url(entry.get("contentUri"), self.root, self.tenant_id, "contentUri")
        payload = self.client.get_json(uri)
        if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
            raise MalformedResponseError(f"content {redact_url(uri)!r} is not a JSON array of audit records")
        foreign = [r for r in payload if str(r.get("OrganizationId") or "").lower() != self.tenant_id.lower()]
        if foreign:
            raise MalformedResponseError(
                f"content {redact_url(uri)!r} holds {len(foreign)} records of an organization other than "
                f"{self.tenant_id}"
            )
        return payload
