"""File contents for content inspection (docs/dlp.md): a OneDrive or SharePoint file's bytes through
Microsoft Graph.

``GET /drives/{drive-id}/items/{item-id}/content`` answers ``302 Found`` to a preauthenticated download URL
"only valid for a short period of time (a few minutes)" that does "not require an Authorization header"
(https://learn.microsoft.com/graph/api/driveitem-get-content; application permission Files.Read.All). That
URL is on SharePoint's or OneDrive's own storage hosts, not on Graph: `ApiClient.download` follows it
only to the hosts below and sends it neither the Graph token nor any default header. Only items with the
``file`` facet have content ("Only driveItems with the file property can be downloaded"): folders,
OneNote notebooks (``package``) and other items without it are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from saaslens.connectors.kit import FetchedContent, FileContents, Row
from saaslens.connectors.microsoft365.connector import Microsoft365Connector
from saaslens.http import NotFoundError, api_path

# Where Graph's preauthenticated download URLs point: SharePoint Online and OneDrive for Business
# (<tenant>.sharepoint.com, <tenant>-my.sharepoint.com and their national-cloud equivalents), OneDrive
# consumer storage (*.files.1drv.com, as the page's example shows: b0mpua-by3301.files.1drv.com) and the
# Microsoft 365 media hosts (*.svc.ms). Any other host in a Location is refused, never sent the token.
STORAGE_HOSTS = (
    ".sharepoint.com",
    ".sharepoint.us",
    ".sharepoint-mil.us",
    ".sharepoint.cn",
    ".1drv.com",
    ".svc.ms",
)
DOCS = "https://learn.microsoft.com/graph/api/driveitem-get-content"
PERMISSION = "Files.Read.All"


def _raw(row: Mapping[str, Any]) -> dict[str, Any]:
    raw = row.get("raw")
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return dict(raw) if isinstance(raw, Mapping) else {}


def skip(row: Row) -> str | None:
    """Why a files row has no content to read: a folder, a OneNote notebook or anything without the
    driveItem's file facet."""
    raw = _raw(row)
    if "folder" in raw:
        return "a folder"
    if "package" in raw:
        return f"a {raw['package'].get('type', 'package') if isinstance(raw['package'], dict) else 'package'}"
    if "file" not in raw:
        return "no file facet: Graph has no content to download for this item"
    return None


def drive_of(row: Row) -> str:
    """The drive holding the file: the driveItem's parentReference.driveId, as the files stage stored it."""
    parent = _raw(row).get("parentReference")
    drive_id = parent.get("driveId") if isinstance(parent, dict) else None
    if not isinstance(drive_id, str) or not drive_id:
        raise NotFoundError(
            f"file {row.get('file_id')} names no drive (parentReference.driveId)", provider_code="itemNotFound"
        )
    return drive_id


# Purview's audit activities that mean a file's content or its sharing changed: "File and page
# activities" (FileUploaded, FileModified, FileRestored, FileMoved, FileRenamed) and "Sharing and access
# request activities" (SharingSet, SharingInvitationCreated, AnonymousLinkCreated, CompanyLinkCreated,
# SecureLinkCreated, AddedToSecureLink)
# https://learn.microsoft.com/purview/audit-log-activities
CHANGE_EVENTS = frozenset(
    {
        "FileUploaded",
        "FileModified",
        "FileRestored",
        "FileMoved",
        "FileRenamed",
        "SharingSet",
        "SharingInvitationCreated",
        "AnonymousLinkCreated",
        "CompanyLinkCreated",
        "SecureLinkCreated",
        "AddedToSecureLink",
    }
)


def _url_key(url: object) -> str | None:
    """A drive item's URL as both sources can be compared: percent-decoded (Graph's webUrl encodes a
    space, the audit log's ObjectId may not), without a trailing slash, case-folded (SharePoint URLs are
    case-insensitive)."""
    from urllib.parse import unquote

    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    return unquote(url).rstrip("/").casefold()


def event_url(activity: Row) -> str | None:
    """Which file an audit record is about: its ObjectId, the item's full URL."""
    return _url_key(activity.get("target_id"))


def item_url(row: Row) -> str | None:
    """The same key for a files row: the driveItem's webUrl."""
    return _url_key(_raw(row).get("webUrl"))


def fetch(connector: Microsoft365Connector, row: Row, sink: IO[bytes], max_bytes: int) -> FetchedContent:
    """Download one file into `sink`, at most `max_bytes` (ContentTooLargeError past it, from the
    storage host's Content-Length before the body is read). 404 itemNotFound (deleted since the listing)
    is NotFoundError, 403 accessDenied PermissionDeniedError."""
    path = api_path("/v1.0/drives", drive_of(row), "items", str(row["file_id"]), "content")
    # A storage Location over plain http is refused by the HTTP layer (RedirectRefusedError), as any
    # redirect off the listed hosts is: a failed file, never the token sent elsewhere.
    downloaded = connector.client.download(path, sink, max_bytes=max_bytes, unauthenticated_hosts=STORAGE_HOSTS)
    served = (downloaded.content_type or "").split(";", 1)[0].strip().lower()
    listed = row.get("mime_type")
    # The listing's MIME type is the file's; storage hosts often serve application/octet-stream.
    mime_type = listed if isinstance(listed, str) and listed else (served or None)
    name = row.get("name")
    return FetchedContent(bytes=downloaded.bytes, mime_type=mime_type, name=str(name) if name else None)


CONTENTS: FileContents[Microsoft365Connector] = FileContents(
    fetch=fetch,
    permission=PERMISSION,
    docs=DOCS,
    skip=skip,
    # The unified audit log's file records name the item by its URL (ObjectId) and SharePoint list ids,
    # never by the Graph driveItem id the files table keys on: a change is matched to a file by URL.
    # They come from the optional sharepoint_audit stream (option sharepoint_audit, ActivityFeed.Read);
    # without it changed files are found by their cTag at the periodic scan.
    change_events=CHANGE_EVENTS,
    event_file=event_url,
    event_key=item_url,
)
