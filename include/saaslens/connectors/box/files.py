"""The files stage: every managed user's files, with their shared links and collaborations.

Box has no listing of an enterprise's files: each user's tree is walked from their root folder
(GET /folders/0/items, then GET /folders/{id}/items for each folder; marker paging, `limit` up to
1,000, https://developer.box.com/reference/get-folders-id-items/) as that user, with the `As-User`
header (https://developer.box.com/guides/authentication/jwt/as-user/; the Service Account must be an
admin or co-admin, the app needs "Read all files and folders stored in Box" and "Make API calls
using the as-user header"). A user's tree also holds what others shared with them: an item is
recorded by its owner's walk only (`owned_by`), so each file appears once and a folder owned by
someone else is not entered.

Shares: an item's `shared_link` (open -> public, company -> internal, collaborators -> private) and
its collaborations, GET /files/{id}/collaborations and GET /folders/{id}/collaborations (marker
paging; pending invitations included), asked for only where the item says `has_collaborations`.
Box lists a folder's collaborations on the folder alone, though its collaborators reach everything
inside (https://developer.box.com/guides/collaborations/): a file's rows include those of every
folder above it, marked `inherited_from` in `raw`, and its visibility is the widest of them all.
Web links (`type` web_link) have no content and are not files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from saaslens.connectors.box import transform
from saaslens.connectors.box.connector import MAX_PAGE, READ_ALL, BoxConnector, marker_paginator
from saaslens.connectors.box.users import user_pages
from saaslens.connectors.kit import JSON, Batch, Probe, SnapshotStage
from saaslens.http import ApiClient, api_path
from saaslens.vocabulary import Stage

ITEM_FIELDS = (
    "id,type,name,size,created_at,modified_at,content_modified_at,owned_by,shared_link,path_collection,"
    "parent,sha1,file_version,item_status,has_collaborations,extension"
)
COLLABORATION_FIELDS = (
    "id,type,item,accessible_by,invite_email,role,expires_at,is_access_only,status,created_by,created_at,"
    "modified_at,acknowledged_at"
)


@dataclass
class _Walk:
    """One user's tree: the files they own with their rows, and the folders passed on the way (each
    with its link and collaborations, which the files below inherit)."""

    files: list[dict[str, Any]] = field(default_factory=list)
    shares: list[dict[str, Any]] = field(default_factory=list)
    folders: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = field(default_factory=dict)


def _collaborations(client: ApiClient, connector: BoxConnector, item: dict[str, Any]) -> list[dict[str, Any]]:
    if item.get("has_collaborations") is False:
        return []
    kind = "folders" if item.get("type") == "folder" else "files"
    params = {"limit": connector.page_size(MAX_PAGE), "fields": COLLABORATION_FIELDS}
    return list(client.iter_items(api_path(kind, str(item["id"]), "collaborations"), marker_paginator(), params))


def walk_user(connector: BoxConnector, user_id: str, directory: transform.Directory) -> _Walk:
    walk = _Walk()
    client = connector.as_user(user_id)
    try:
        params = {"usemarker": "true", "limit": connector.page_size(MAX_PAGE), "fields": ITEM_FIELDS}
        pending = ["0"]
        while pending:
            folder_id = pending.pop(0)
            path = api_path("folders", folder_id, "items")
            for item in client.iter_items(path, marker_paginator(), params):
                if str((item.get("owned_by") or {}).get("id")) != user_id or item.get("type") == "web_link":
                    continue
                if item.get("type") == "folder":
                    walk.folders[str(item["id"])] = (item, _collaborations(client, connector, item))
                    pending.append(str(item["id"]))
                elif item.get("type") == "file":
                    _add_file(walk, item, _collaborations(client, connector, item), directory)
    finally:
        client.close()
    return walk


def _add_file(walk: _Walk, file: dict[str, Any], own: list[dict[str, Any]], directory: transform.Directory) -> None:
    file_id = str(file["id"])
    shares = transform.share_rows(file, own, directory)
    for entry in (file.get("path_collection") or {}).get("entries") or []:
        found = walk.folders.get(str(entry.get("id")))
        if found is not None:
            folder, collaborations = found
            shares += transform.share_rows(folder, collaborations, directory, file_id=file_id)
    walk.files.append(transform.file_row(file, shares))
    walk.shares += shares


def scan_files(connector: BoxConnector, resume: JSON | None) -> Iterator[Batch]:
    users = [user for page in user_pages(connector) for user in page]
    directory = transform.Directory.of(users)
    for walk in connector.fan_out([str(u["id"]) for u in users], lambda uid: walk_user(connector, uid, directory)):
        if walk.files:
            yield Batch("files", walk.files)
        if walk.shares:
            yield Batch("file_shares", walk.shares)


STAGE = SnapshotStage(
    stage=Stage.FILES,
    scan=scan_files,
    permission=f"{READ_ALL} (Read all files and folders) and the as-user header, service account an admin or co-admin",
    probe=Probe("folders/0/items", {"limit": 1, "fields": "id"}),
)
