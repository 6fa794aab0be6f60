"""File contents for content inspection (docs/dlp.md): a Box file's bytes.

GET /files/{id}/content (https://developer.box.com/reference/get-files-id-content/) answers ``302``
with a ``Location`` "for the file on dl.boxcloud.com": a download URL that "is not persistent" and
carries its own authorization, so the client follows it without Box's token
(https://developer.box.com/guides/downloads/file/). `ApiClient.download` follows a redirect only to
the hosts below and sends them neither the token nor the As-User header; any other Location is
refused (RedirectRefusedError), never fetched with credentials. The request is made as the file's
owner (As-User), who can always read it; the listing recorded the owner.

Box's `202` with `Retry-After` ("the file was uploaded immediately before the download request") is
not retried here: such a file is read at the next scan.
"""

from __future__ import annotations

from typing import IO

from saaslens.connectors.box.connector import READ_ALL, BoxConnector
from saaslens.connectors.kit import FetchedContent, FileContents, Row
from saaslens.http import NotFoundError, api_path

DOWNLOAD_HOSTS = ("dl.boxcloud.com",)
DOCS = "https://developer.box.com/reference/get-files-id-content/"
GENERIC_TYPES = frozenset({"application/octet-stream", "binary/octet-stream", ""})
# Enterprise events after which a file's content is new or newly exposed
# (https://developer.box.com/guides/events/enterprise-events/for-enterprise/): its source is the file,
# so activities.target_id is the file id (transform.activity_row).
CHANGE_EVENTS = frozenset({"UPLOAD", "EDIT", "SHARE", "ITEM_SHARED_UPDATE", "COLLABORATION_INVITE"})


def fetch(connector: BoxConnector, row: Row, sink: IO[bytes], max_bytes: int) -> FetchedContent:
    """Download one file into `sink`, at most `max_bytes` (ContentTooLargeError past it). A 404
    (deleted since the listing) is NotFoundError, a 403 PermissionDeniedError."""
    owner = row.get("owner_id")
    if not owner:
        raise NotFoundError(f"file {row.get('file_id')} names no owner to read it as", provider_code="not_found")
    client = connector.as_user(str(owner))
    try:
        path = api_path("files", str(row["file_id"]), "content")
        downloaded = client.download(path, sink, max_bytes=max_bytes, unauthenticated_hosts=DOWNLOAD_HOSTS)
    finally:
        client.close()
    served = (downloaded.content_type or "").split(";", 1)[0].strip().lower()
    name = row.get("name")
    # Box lists no MIME type; a generic one from the download host says nothing either.
    mime_type = None if served in GENERIC_TYPES else served
    return FetchedContent(bytes=downloaded.bytes, mime_type=mime_type, name=str(name) if name else None)


CONTENTS: FileContents[BoxConnector] = FileContents(
    fetch=fetch,
    permission=READ_ALL,
    docs=DOCS,
    change_events=CHANGE_EVENTS,
)
