"""The files stage: every user's own Drive files with their sharing permissions, listed as that user
(domain-wide delegation with ``sub`` = the user), because an admin's own Drive listing only shows
what is shared with the admin. Each file is listed once: by its owner.

Trashed files are listed too (files.list "returns *all* files by default, including trashed files"):
a file in the trash keeps its sharing until it is purged. Each row carries the content version
content inspection compares (``md5Checksum`` for a blob: it changes exactly when the bytes do;
``version`` for a Docs editors file, which has no checksum: it also moves on sharing and label
changes, so such a file can be read again without a content change) and its Drive label: the labels
catalogue is read once per scan (Labels API labels.list as the admin with useAdminAccess) and its ids
passed as ``includeLabels``, since files.list returns no label by default. Without the labels feature
or the scope the files carry no label (a warning says why).
- https://developers.google.com/workspace/drive/api/guides/about-labels
- https://developers.google.com/workspace/drive/labels/reference/rest/v2/labels/list

Drive files.list (``corpora``, ``q``, ``fields``, ``pageSize`` <= 1000) and permissions:
https://developers.google.com/workspace/drive/api/reference/rest/v3/files/list ,
https://developers.google.com/workspace/drive/api/reference/rest/v3/permissions
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from saaslens.connectors.google_workspace import transform
from saaslens.connectors.google_workspace.connector import (
    DRIVE_SCOPE,
    LABELS_SCOPE,
    USER_SCOPE,
    GoogleWorkspaceConnector,
)
from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.http import AuthenticationError, NotFoundError, PermissionDeniedError
from saaslens.http.pagination import PageTokenPaginator
from saaslens.vocabulary import Stage

log = logging.getLogger(__name__)

FILE_FIELDS = (
    "nextPageToken,files(id,name,mimeType,size,createdTime,modifiedTime,trashed,shared,parents,webViewLink,"
    "driveId,version,md5Checksum,labelInfo,owners(displayName,emailAddress,permissionId),"
    "permissions(id,type,role,emailAddress,domain,displayName,allowFileDiscovery,deleted,expirationTime))"
)


def label_catalog(connector: GoogleWorkspaceConnector) -> transform.LabelCatalog | None:
    """The customer's published Drive labels, or None when they cannot be read: the option is off,
    the labels scope is not delegated, or the edition has no Drive labels (Google refuses)."""
    if not connector.options.drive_labels:
        return None
    client = connector.api("labels", LABELS_SCOPE)
    params = {"useAdminAccess": "true", "view": "LABEL_VIEW_FULL", "publishedOnly": "true", "pageSize": 200}
    try:
        labels = list(client.iter_items("v2/labels", PageTokenPaginator("labels"), params))
    except (PermissionDeniedError, NotFoundError) as exc:
        log.warning("google_workspace: Drive labels are not read (files carry none): %s", exc.detail)
        return None
    return transform.label_catalog(labels)


def owned_files(
    connector: GoogleWorkspaceConnector, user: Row, labels: transform.LabelCatalog | None = None
) -> tuple[Row, list[Row]]:
    """The files a user owns, listed as that user, trashed ones included."""
    auth = connector.delegated(DRIVE_SCOPE)
    email = user["primaryEmail"]
    params = {
        "corpora": "user",
        "q": "'me' in owners",
        "pageSize": connector.page_size(1000),
        "fields": FILE_FIELDS,
        "spaces": "drive",
    }
    if labels:
        params["includeLabels"] = ",".join(sorted(labels))
    client = connector.stage_client(Stage.FILES)
    try:
        with auth.acting_as(email):
            files = list(client.iter_items("drive/v3/files", PageTokenPaginator("files"), params))
    except AuthenticationError as exc:
        if exc.provider_code != "invalid_grant":
            raise
        # The key works (scan_files checked it as the admin), so Google refused to act as this one
        # user (e.g. deleted since the listing): skip their Drive and say so.
        log.warning("google_workspace: cannot read the Drive of %s: %s", email, exc.detail)
        files = []
    finally:
        auth.forget(email)
    return user, files


def scan_files(connector: GoogleWorkspaceConnector, resume: JSON | None) -> Iterator[Batch]:
    # One request as the admin first: bad credentials must fail the stage, not read as "no user
    # could be impersonated".
    connector.stage_client(Stage.FILES).get_json("drive/v3/files", {"pageSize": 1, "fields": "files(id)"})
    users = [user for page in connector.user_pages() for user in page]
    domains = connector.configured_domains() | {
        d for d in (transform.email_domain(u.get("primaryEmail")) for u in users) if d
    }
    labels = label_catalog(connector)
    for user, files in connector.fan_out(users, lambda user: owned_files(connector, user, labels)):
        if not files:
            continue
        yield Batch("files", [transform.file_row(item, user["id"], domains, labels) for item in files])
        yield Batch("file_shares", [row for item in files for row in transform.share_rows(item, domains)])


STAGE = SnapshotStage(
    stage=Stage.FILES,
    scan=scan_files,
    permission=f"{DRIVE_SCOPE} and {USER_SCOPE}",
    probe=Probe("drive/v3/files", {"pageSize": 1, "fields": "files(id)"}),
)
