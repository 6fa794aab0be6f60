"""File contents for content inspection (docs/dlp.md): a Drive file's bytes, read as its owner.

- A blob file (PDF, Office file, CSV, image ...) with ``GET /drive/v3/files/{fileId}?alt=media``;
- a Docs editors file with ``GET /drive/v3/files/{fileId}/export?mimeType=``: Docs as docx, Sheets as
  xlsx (every sheet; a CSV export holds only the first), Slides as pptx, formats listed on
  https://developers.google.com/workspace/drive/api/guides/ref-export-formats . "The exported content is
  limited to 10 MB": Google answers 403 ``exportSizeLimitExceeded``, recorded as too large (skipped);
- folders, shortcuts, forms, sites, drawings and other Google types have nothing to download (skipped).

https://developers.google.com/workspace/drive/api/guides/manage-downloads . Both are on the Drive API's
own host and answer the bytes themselves, so the token never needs to leave it: no host is given as a
pre-authenticated destination, and a redirect elsewhere is refused. Scope drive.readonly (the metadata
scopes the files stage uses do not read content), delegated, acting as the file's owner (as the admin for
a shared drive's item, which has no owner), with ``supportsAllDrives=true``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from saaslens.connectors.google_workspace.connector import CONTENT_SCOPE, GoogleWorkspaceConnector
from saaslens.connectors.kit import FetchedContent, FileContents, Row
from saaslens.http import ContentTooLargeError, PermissionDeniedError, api_path

DOCS = "https://developers.google.com/workspace/drive/api/guides/manage-downloads"
GOOGLE_APPS = "application/vnd.google-apps."
# Docs editors type -> (export MIME type, extension of the exported file).
EXPORTS = {
    GOOGLE_APPS + "document": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    GOOGLE_APPS + "spreadsheet": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    GOOGLE_APPS + "presentation": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".pptx",
    ),
}
EXPORT_LIMIT_BYTES = 10 * 2**20
_NO_CONTENT = {
    GOOGLE_APPS + "folder": "a folder",
    GOOGLE_APPS + "shortcut": "a shortcut",
    GOOGLE_APPS + "form": "a Google Form",
}
# The Drive log's events (activities.action) after which a file is read again at once.
CHANGE_EVENTS = frozenset(
    {
        "drive.create",
        "drive.upload",
        "drive.edit",
        "drive.untrash",
        "drive.change_user_access",
        "drive.change_document_access_scope",
        "drive.change_document_visibility",
    }
)


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
    """Why a files row has nothing to download: a folder, a shortcut, a form or another Google type
    that has no bytes and no text export here."""
    mime = str(row.get("mime_type") or "")
    if mime in _NO_CONTENT:
        return _NO_CONTENT[mime]
    if mime.startswith(GOOGLE_APPS) and mime not in EXPORTS:
        return "a Google type without content"
    return None


def acting_as(connector: GoogleWorkspaceConnector, row: Row) -> str:
    """Whom the download acts as: the owner, or the admin for a shared drive's item (no owner)."""
    owner = row.get("owner_email")
    if _raw(row).get("driveId") or not owner:
        return connector.subject
    return str(owner)


def fetch(connector: GoogleWorkspaceConnector, row: Row, sink: IO[bytes], max_bytes: int) -> FetchedContent:
    """Download (or export) one file into `sink`, at most `max_bytes`. 404 notFound (deleted since the
    listing, or no longer the owner's) is NotFoundError, a scope not delegated or 403
    insufficientPermissions PermissionDeniedError, an export over Google's 10 MB ContentTooLargeError."""
    file_id = str(row["file_id"])
    mime = str(row.get("mime_type") or "")
    name = str(row.get("name") or file_id)
    client = connector.api("drive", CONTENT_SCOPE)
    auth = connector.delegated(CONTENT_SCOPE)
    subject = acting_as(connector, row)
    export = EXPORTS.get(mime)
    try:
        with auth.acting_as(subject):
            if export is None:
                params = {"alt": "media", "supportsAllDrives": "true"}
                downloaded = client.download(
                    api_path("drive/v3/files", file_id), sink, max_bytes=max_bytes, params=params
                )
                return FetchedContent(bytes=downloaded.bytes, mime_type=mime or downloaded.content_type, name=name)
            path = api_path("drive/v3/files", file_id, "export")
            downloaded = client.download(path, sink, max_bytes=max_bytes, params={"mimeType": export[0]})
            return FetchedContent(bytes=downloaded.bytes, mime_type=export[0], name=name + export[1])
    except PermissionDeniedError as exc:
        if exc.provider_code == "exportSizeLimitExceeded":
            raise ContentTooLargeError(
                f"Drive exports at most 10 MB ({exc.detail})", size=None, cap=min(max_bytes, EXPORT_LIMIT_BYTES)
            ) from None
        raise


CONTENTS: FileContents[GoogleWorkspaceConnector] = FileContents(
    fetch=fetch,
    permission=CONTENT_SCOPE,
    docs=DOCS,
    skip=skip,
    # The Drive log names the file in doc_id, which the activities stage stores as target_id with
    # target_type "file": the kit's default event_file reads it.
    change_events=CHANGE_EVENTS,
)
