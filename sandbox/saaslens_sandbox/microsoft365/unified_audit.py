"""The Microsoft 365 unified audit log as the Office 365 Management Activity API serves it: audit records
of SharePoint and OneDrive, grouped into content blobs a client lists per time range and then downloads.

Built from Microsoft's documentation (MicrosoftDocs/office-365-management-api, published under
https://learn.microsoft.com/office/office-365-management-api/):

* office-365-management-activity-api-reference: the root ``https://manage.office.com/api/v1.0/{tenant_id}/
  activity/feed/``; ``GET subscriptions/list`` (a JSON array of ``{contentType, status, webhook}``),
  ``POST subscriptions/start?contentType=``, ``GET subscriptions/content?contentType=&startTime=&endTime=``
  (content whose ``contentCreated`` lies in ``[startTime, endTime)``; both or neither; at most 24 hours
  apart, the start no more than 7 days in the past; formats ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM``,
  ``YYYY-MM-DDTHH:MM:SS``; without them the last 24 hours; more results than one response holds are
  truncated and a ``NextPageUri`` header carries the same times and a ``nextPage`` parameter), each
  entry ``{contentType, contentId, contentUri, contentCreated, contentExpiration}`` (seven days after
  contentCreated), and ``GET {contentUri}``: a JSON array of audit records. Errors are
  ``{"error": {"code", "message"}}`` with the AF codes of its "Errors" table: AF10001 (token lacks
  ActivityFeed.Read), AF20010/AF20013 (tenant in the URL), AF20020 (content type), AF20022 (no
  subscription for the content type), AF20024 (start of an enabled subscription, reported in
  microsoft/coe-starter-kit#2807), AF20030 (time range), AF20031 (nextPage), AF20050/AF20051 (content
  unknown / expired after 7 days).
* office-365-management-activity-api-schema: the common schema (Id, RecordType, CreationTime,
  Operation, OrganizationId, UserType, UserKey, Workload, ResultStatus, ObjectId, UserId, ClientIP),
  the SharePoint base schema (Site, ItemType, EventSource, UserAgent, ListId, ListItemUniqueId,
  ApplicationId, ApplicationDisplayName), SharePoint file operations (SiteUrl, SourceRelativeUrl,
  SourceFileName, SourceFileExtension) and the SharePoint Sharing schema (TargetUserOrGroupName,
  TargetUserOrGroupType, EventData, UniqueSharingId); RecordType 6 SharePointFileOperation and 14
  SharePointSharingOperation; UserType 0 Regular and 5 Application ("triggered by a Microsoft Entra
  application"); UserId ``app@sharepoint`` for an application acting with SharePoint-wide permissions.
* Purview "Audit log activities", "Sharing and access request activities": AnonymousLinkCreated /
  AnonymousLinkRemoved, CompanyLinkCreated / CompanyLinkRemoved, SecureLinkCreated /
  SecureLinkDeleted, SharingSet / SharingRevoked, SharingInvitationCreated; "File and page
  activities": FileAccessed.

Sandbox choices (not documented): the HTTP status of each AF error (400 for a bad request, 401 for
AF10001 as microsoft/coe-starter-kit#3192 shows, 404 for AF20050); the contentId format beyond the
documented samples; blobs of generated records per ten minutes of availability, and one blob per
record a change writes; ``UserKey`` of an app-only change ``i:0i.t|ms.sp.ext|{appId}@{tenantId}``
and of a user ``i:0h.f|membership|{puid}@live.com``; the EventData text.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from saaslens_sandbox.kit.paging import b64url, unb64url

CONTENT_TYPES = ("Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint", "Audit.General", "DLP.All")
SHAREPOINT = "Audit.SharePoint"
DAY_MS = 86_400_000
RETENTION_MS = 7 * DAY_MS
MAX_RANGE_MS = DAY_MS
BLOB_BUCKET_MS = 600_000
RECORD_FILE_OPERATION, RECORD_SHARING_OPERATION = 6, 14
USER_REGULAR, USER_APPLICATION = 0, 5
TIME_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


class ActivityError(Exception):
    """An error of the Management Activity API: HTTP status, AF code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def range_error() -> ActivityError:
    return ActivityError(
        400,
        "AF20030",
        "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 "
        "hours apart, with the start time no more than 7 days in the past.",
    )


def parse_time(name: str, text: str) -> int:
    """A startTime or endTime in one of the documented formats, as epoch ms (UTC)."""
    for fmt in TIME_FORMATS:
        try:
            moment = datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return int(moment.timestamp() * 1000)
    raise ActivityError(400, "AF20002", f"Invalid parameter type: {name}. Expected type: datetime")


def iso_ms(ms: int) -> str:
    """contentCreated / contentExpiration: ``2015-05-23T17:35:00.000Z``."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def creation_time(ms: int) -> str:
    """A record's CreationTime as the documented samples show it: ``2015-06-29T20:03:19`` (UTC)."""
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _guid(*parts: object) -> str:
    h = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


@dataclass
class Blob:
    content_id: str
    created_ms: int
    records: list[int]


@dataclass
class UnifiedAuditLog:
    """The Audit.SharePoint records of one tenant and the content blobs that hold them."""

    tenant_id: str
    seed: int
    content_delay_ms: int
    listing_delay_ms: int
    records: list[dict[str, Any]] = field(default_factory=list)
    blobs: list[Blob] = field(default_factory=list)
    _created: list[int] = field(default_factory=list)

    # ------------------------------------------------------------ writing

    def _blob(self, created_ms: int, records: list[int]) -> None:
        created_ms = max(created_ms, self._created[-1] if self._created else created_ms)
        stamp = datetime.fromtimestamp(created_ms / 1000, UTC).strftime("%Y%m%d%H%M%S") + f"{created_ms % 1000:03d}"
        n = len(self.blobs)
        content_id = f"{stamp}{n:06d}${stamp}{n:06d}$audit_sharepoint$Audit_SharePoint$na0{n % 10}"
        self.blobs.append(Blob(content_id, created_ms, records))
        self._created.append(created_ms)

    def add_generated(self, stamped: list[tuple[int, dict[str, Any]]]) -> None:
        """Records of the tenant's history, (CreationTime ms, record) in any order: grouped into a blob
        per ten minutes of availability, each blob created when its newest record became available."""
        buckets: dict[int, list[tuple[int, int]]] = {}
        for at_ms, record in sorted(stamped, key=lambda pair: (pair[0], pair[1]["Id"])):
            available = at_ms + self.content_delay_ms
            buckets.setdefault(available // BLOB_BUCKET_MS, []).append((len(self.records), available))
            self.records.append({**record, "CreationTime": creation_time(at_ms)})
        for bucket in sorted(buckets):
            entries = buckets[bucket]
            self._blob(max(available for _, available in entries), [index for index, _ in entries])

    def add_live(self, record: dict[str, Any], at_ms: int) -> dict[str, Any]:
        """A record a change writes now: its own blob, available after the content delay."""
        stored = {**record, "CreationTime": creation_time(at_ms)}
        self.records.append(stored)
        self._blob(at_ms + self.content_delay_ms, [len(self.records) - 1])
        return stored

    # ------------------------------------------------------------ reading

    def listable(self, blob: Blob, now_ms: int) -> bool:
        return blob.created_ms + self.listing_delay_ms <= now_ms and blob.created_ms > now_ms - RETENTION_MS

    def content(self, start_ms: int, end_ms: int, now_ms: int) -> list[Blob]:
        lo = bisect.bisect_left(self._created, start_ms)
        hi = bisect.bisect_left(self._created, end_ms)
        return [b for b in self.blobs[lo:hi] if self.listable(b, now_ms)]

    def blob(self, content_id: str, now_ms: int) -> list[dict[str, Any]]:
        found = next((b for b in self.blobs if b.content_id == content_id), None)
        if found is None or found.created_ms + self.listing_delay_ms > now_ms:
            raise ActivityError(404, "AF20050", f"The specified content ({content_id}) does not exist.")
        if found.created_ms <= now_ms - RETENTION_MS:
            raise ActivityError(
                400,
                "AF20051",
                f"Content requested with the key {content_id} has already expired. Content older than 7 days "
                "cannot be retrieved.",
            )
        return [self.records[i] for i in found.records]

    def visible_records(self, now_ms: int) -> list[dict[str, Any]]:
        return [self.records[i] for b in self.blobs if self.listable(b, now_ms) for i in b.records]

    # ------------------------------------------------------------ paging tokens

    def next_page(self, offset: int, salt: str) -> str:
        digest = hashlib.blake2b(f"{salt}:{offset}".encode(), digest_size=6).hexdigest()
        return b64url(f"{offset}:{digest}".encode())

    def page_offset(self, token: str, salt: str) -> int:
        try:
            offset = int(unb64url(token).decode().split(":")[0])
        except (ValueError, UnicodeDecodeError):
            offset = -1
        if offset < 0 or self.next_page(offset, salt) != token:
            raise ActivityError(400, "AF20031", f"Invalid nextPage Input: {token}.")
        return offset


# ---------------------------------------------------------------- records


def _site_url(drive: Mapping[str, Any]) -> str:
    web = str(drive["webUrl"])
    return web.rsplit("/", 1)[0] + "/"


def base_record(
    tenant_id: str, drive: Mapping[str, Any], item: Mapping[str, Any], operation: str, record_type: int, key: str
) -> dict[str, Any]:
    """The common and SharePoint fields of a record about one drive item."""
    name = str(item["name"])
    site = _site_url(drive)
    return {
        "Id": _guid("ual", tenant_id, key),
        "RecordType": record_type,
        "Operation": operation,
        "OrganizationId": tenant_id,
        "Workload": "OneDrive" if drive.get("driveType") == "business" else "SharePoint",
        "ObjectId": item["webUrl"],
        "EventSource": "SharePoint",
        "ItemType": "Folder" if "folder" in item else "File",
        "ListId": _guid("list", drive["id"]),
        "ListItemUniqueId": _guid("listitem", item["id"]),
        "Site": _guid("site", site),
        "WebId": _guid("web", site),
        "SiteUrl": site,
        "SourceRelativeUrl": str(drive["webUrl"])[len(site) :],
        "SourceFileName": name,
        "SourceFileExtension": name.rsplit(".", 1)[-1] if "." in name and "folder" not in item else "",
        "Version": 1,
    }


def user_actor(user: Mapping[str, Any], ip: str) -> dict[str, Any]:
    puid = hashlib.blake2b(str(user["id"]).encode(), digest_size=8).hexdigest()
    return {
        "UserId": str(user.get("email") or "").lower(),
        "UserKey": f"i:0h.f|membership|{puid}@live.com",
        "UserType": USER_REGULAR,
        "ClientIP": ip,
        "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Edg/120.0",
    }


def app_actor(client_id: str, display_name: str, tenant_id: str) -> dict[str, Any]:
    """An app-only change (client credentials): UserId ``app@sharepoint`` and UserType 5 Application."""
    return {
        "UserId": "app@sharepoint",
        "UserKey": f"i:0i.t|ms.sp.ext|{client_id}@{tenant_id}",
        "UserType": USER_APPLICATION,
        "ClientIP": "20.190.128.10",
        "ApplicationId": client_id,
        "ApplicationDisplayName": display_name,
        "AppAccessContext": {"ClientAppId": client_id, "ClientAppName": display_name},
    }


def sharing_operation(permission: Mapping[str, Any], *, removed: bool) -> str | None:
    """The Operation of "Sharing and access request activities" for creating or removing a permission:
    an anyone link, a company-wide link, a specific-people ("secure") link, an invitation, a direct
    grant. None for the owner's own permission (not a sharing)."""
    roles = [str(r).lower() for r in permission.get("roles") or []]
    if "owner" in roles:
        return None
    link = permission.get("link") or {}
    scope = link.get("scope") if isinstance(link, dict) else None
    if scope == "anonymous":
        return "AnonymousLinkRemoved" if removed else "AnonymousLinkCreated"
    if scope == "organization":
        return "CompanyLinkRemoved" if removed else "CompanyLinkCreated"
    if scope == "users":
        return "SecureLinkDeleted" if removed else "SecureLinkCreated"
    if permission.get("invitation") and not removed:
        return "SharingInvitationCreated"
    return "SharingRevoked" if removed else "SharingSet"


def sharing_target(permission: Mapping[str, Any], domains: set[str]) -> dict[str, Any]:
    granted = permission.get("grantedToV2") or {}
    who = granted.get("user") or granted.get("siteGroup") or {}
    if not who and permission.get("link"):
        identities = (permission["link"] or {}).get("grantedToIdentitiesV2") or permission.get("grantedToIdentitiesV2")
        who = ((identities or [{}])[0] or {}).get("user") or {}
    if "siteGroup" in granted:
        return {"TargetUserOrGroupName": who.get("displayName"), "TargetUserOrGroupType": "SharePointGroup"}
    email = str(who.get("email") or "")
    if not email:
        return {}
    kind = "Member" if email.split("@")[-1].lower() in domains else "Guest"
    return {"TargetUserOrGroupName": email.lower(), "TargetUserOrGroupType": kind}


def permission_record(
    tenant_id: str,
    drive: Mapping[str, Any],
    item: Mapping[str, Any],
    permission: Mapping[str, Any],
    actor: Mapping[str, Any],
    *,
    removed: bool,
    domains: set[str],
    key: str,
) -> dict[str, Any] | None:
    operation = sharing_operation(permission, removed=removed)
    if operation is None:
        return None
    record = base_record(tenant_id, drive, item, operation, RECORD_SHARING_OPERATION, key)
    record.update(actor)
    record.update(sharing_target(permission, domains))
    roles = ",".join(str(r) for r in permission.get("roles") or [])
    if not removed:
        record["EventData"] = f"<PermissionsGranted>{roles}</PermissionsGranted>"
    record["UniqueSharingId"] = _guid("sharing", item["id"], permission.get("id"))
    return record


def history(tenant: Any, rng: random.Random, span_ms: int) -> list[tuple[int, dict[str, Any]]]:
    """Records consistent with the tenant's drives: each sharing permission's creation by the item's
    author, and a few FileAccessed by the author, within ``span_ms`` before the anchor."""
    out: list[tuple[int, dict[str, Any]]] = []
    domains = {tenant.domain.lower(), tenant.initial_domain.lower()}
    start = tenant.anchor_ms - span_ms
    for drive, items in zip(tenant.drives, tenant.drive_items, strict=True):
        for item in items[1:]:
            author = (item.get("createdBy") or {}).get("user") or {}
            if not author.get("id"):
                continue
            ip = f"40.{rng.randrange(64, 128)}.{rng.randrange(256)}.{1 + rng.randrange(254)}"
            actor = user_actor(author, ip)
            for k in range(rng.randrange(3)):
                at = start + rng.randrange(span_ms) // 1000 * 1000
                record = base_record(
                    tenant.tenant_id, drive, item, "FileAccessed", RECORD_FILE_OPERATION, f"{item['id']}:read:{k}"
                )
                out.append((at, {**record, **actor}))
            for permission in tenant.item_permissions.get(item["id"]) or []:
                if "siteGroup" in (permission.get("grantedToV2") or {}):
                    continue  # the site's own members group: the library's access, not a sharing
                at = start + rng.randrange(span_ms) // 1000 * 1000
                record = permission_record(
                    tenant.tenant_id,
                    drive,
                    item,
                    permission,
                    actor,
                    removed=False,
                    domains=domains,
                    key=f"{item['id']}:{permission['id']}:set",
                )
                if record is not None:
                    out.append((at, record))
    return out
