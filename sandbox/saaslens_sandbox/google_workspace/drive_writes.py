"""Drive's content and file-governance methods in the Google Workspace personality: downloads
(files.get with alt=media, with Range), exports, files.update (trash, untrash, move), uploads
(multipart files.create), permissions.create, files.modifyLabels and the Labels API's labels.list, with
the Drive log events they leave.

Pages relied on (besides those of drive_contents.py):

* files.update: ``PATCH /drive/v3/files/{fileId}`` with patch semantics, ``addParents`` /
  ``removeParents`` to move a file ("a file can only have one parent folder" in My Drive), ``trashed``
  in the body; "Only the owner may trash a file" in My Drive
  (https://developers.google.com/workspace/drive/api/guides/delete, reason ``insufficientFilePermissions``);
  https://developers.google.com/workspace/drive/api/reference/rest/v3/files/update
* files.create with ``uploadType=multipart``: ``POST /upload/drive/v3/files``, a ``multipart/related``
  body of the JSON metadata then the media (https://developers.google.com/workspace/drive/api/guides/manage-uploads);
  the metadata's ``properties`` / ``appProperties`` are kept and searchable with files.list
  ``q`` ``appProperties has { key='k' and value='v' }``
  (https://developers.google.com/workspace/drive/api/guides/properties,
  https://developers.google.com/workspace/drive/api/guides/search-files)
* files.delete: ``DELETE /drive/v3/files/{fileId}``, the owner only, no trash, a folder's own descendants too:
  https://developers.google.com/workspace/drive/api/reference/rest/v3/files/delete
* files.create with metadata only: ``POST /drive/v3/files`` (a folder is mimeType
  ``application/vnd.google-apps.folder``): https://developers.google.com/workspace/drive/api/guides/folder
* permissions.create: ``POST /drive/v3/files/{fileId}/permissions`` (``sendNotificationEmail``), answers
  the Permission: https://developers.google.com/workspace/drive/api/reference/rest/v3/permissions/create ;
  permissions.list: ``GET`` on the same path, ``pageSize`` at most 100, ``nextPageToken``:
  https://developers.google.com/workspace/drive/api/reference/rest/v3/permissions/list
* Moving into a folder needs "Add items to the folder", writer or above
  (https://developers.google.com/workspace/drive/api/guides/ref-roles); a folder the caller cannot
  open answers "File not found".
* The Drive log (https://developers.google.com/workspace/admin/reports/v1/appendix/activity/drive):
  ``trash`` and ``untrash``, ``move`` (source_folder_id/_title, destination_folder_id/_title),
  ``upload``, ``delete``, ``change_user_access`` / ``change_document_access_scope`` / ``change_document_visibility``.

Not confirmed: the name of the Drive log's event for a permanent deletion (``delete`` here, as a third-party
Reports API client queries it: the stored copy of Google's Drive log page did not show that far), the Drive
log's events for a label applied through the API (none is written here: Google's
Drive log page as stored here shows none; third-party parsers list label_applied / label_field_value_changed
/ label_removed under the Rules log, applicationName=rules, which saaslens does not read), the error without
the labels feature (403 PERMISSION_DENIED here), 416 for a Range past the end. Approximation: the generated
files sit in My Drive folders the sandbox does not list (each file's ``parents``); the user whose Drive
holds one may move a file back into it, and nobody else can add to it.
"""

from __future__ import annotations

import email.parser
import email.policy
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from saaslens_sandbox.core import json_response
from saaslens_sandbox.google_workspace import writes
from saaslens_sandbox.google_workspace.drive_contents import FOLDER
from saaslens_sandbox.kit.content import EXPORT_FORMATS
from saaslens_sandbox.kit.ranges import parse_range

if TYPE_CHECKING:
    from saaslens_sandbox.google_workspace.api import GoogleWorkspacePersonality

S = "https://www.googleapis.com/auth/"
# What reads content: files.export's scopes, and files.get's without the metadata-only ones.
CONTENT_READ = frozenset({S + "drive", S + "drive.readonly", S + "drive.file"})
DRIVE_WRITE = frozenset({S + "drive", S + "drive.file"})
LABEL_MODIFY = frozenset({S + "drive", S + "drive.file", S + "drive.metadata"})
LABELS_READ = frozenset(
    {S + "drive.labels", S + "drive.labels.readonly", S + "drive.admin.labels", S + "drive.admin.labels.readonly"}
)
ADMIN_LABELS = frozenset({S + "drive.admin.labels", S + "drive.admin.labels.readonly"})


def _api() -> Any:
    from saaslens_sandbox.google_workspace import api

    return api


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise _api().GoogleError(400, "Invalid JSON payload received.", "parseError") from None
    if not isinstance(body, dict):
        raise _api().GoogleError(400, "Invalid JSON payload received. Unknown name: root object", "invalid")
    return body


def _event(p: GoogleWorkspacePersonality, index: int, name: str, type_: str, **extra: Any) -> dict[str, Any]:
    item = p.tenant.files[index]
    doc_type = item["mimeType"].rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    parameters: list[dict[str, Any]] = [
        {"name": "primary_event", "boolValue": True},
        {"name": "doc_id", "value": item["id"]},
        {"name": "doc_type", "value": doc_type},
        {"name": "doc_title", "value": item["name"]},
        {"name": "owner", "value": item["owners"][0]["emailAddress"]},
        {"name": "owner_is_shared_drive", "boolValue": False},
    ]
    parameters += [{"name": key, "value": value} for key, value in extra.items()]
    return {"type": type_, "name": name, "parameters": parameters}


# -- reading content -----------------------------------------------------------------------------------


async def download(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """files.get?alt=media: a blob's bytes (Range honoured); a Google-native file is refused with
    fileNotDownloadable (use files.export), a folder has no content."""
    api = _api()
    _, index = writes._open_file(p, request, CONTENT_READ)
    item = p.tenant.contents.materialize(p.tenant.files[index])
    if str(item["mimeType"]).startswith("application/vnd.google-apps."):
        raise api.GoogleError(
            403,
            "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
            "fileNotDownloadable",
            location="alt",
        )
    size = p.tenant.contents.size_of(item)
    wanted = parse_range(request.headers.get("range"), size)
    if wanted == "unsatisfiable":
        return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
    start, end = wanted if isinstance(wanted, tuple) else (0, size)
    headers = {"Content-Length": str(end - start), "Accept-Ranges": "bytes"}
    if isinstance(wanted, tuple):
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    contents = p.tenant.contents
    return StreamingResponse(
        contents.chunks(item, start, end),
        status_code=206 if isinstance(wanted, tuple) else 200,
        media_type=str(item["mimeType"]),
        headers=headers,
    )


async def export(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """files.export: a Docs editors file rendered in a format of its type (ref-export-formats);
    over 10 MB, 403 exportSizeLimitExceeded."""
    api = _api()
    _, index = writes._open_file(p, request, CONTENT_READ)
    item = p.tenant.files[index]
    mime = request.query_params.get("mimeType") or ""
    if not mime:
        raise api.GoogleError(400, "Required parameter: mimeType", "required", location="mimeType")
    formats = EXPORT_FORMATS.get(str(item["mimeType"]))
    if not formats or mime not in formats:
        raise api.GoogleError(400, "The requested conversion is not supported.", "badRequest", location="convertTo")
    document = p.tenant.contents.export_of(item, mime)
    if document.size > p.tenant.contents.export_limit:
        raise api.GoogleError(403, "This file is too large to be exported.", "exportSizeLimitExceeded")
    return Response(document.content(), media_type=mime, headers={"Content-Length": str(document.size)})


# -- files.update: trash, untrash, move ------------------------------------------------------------------


def unlisted_folders(p: GoogleWorkspacePersonality) -> dict[str, int]:
    """The My Drive folders the generated files sit in (each user's root and folders the sandbox
    does not list as files), by id, with the user whose Drive holds them: taken once from the
    generated files, before any move, so a file moved away can be moved back."""
    found: dict[str, int] | None = getattr(p.tenant, "_unlisted_folders", None)
    if found is None:
        found = {}
        for index, item in enumerate(p.tenant.files):
            for parent in item.get("parents") or []:
                if parent not in p.tenant.file_index:
                    found.setdefault(parent, p.tenant.file_owner[index])
        setattr(p.tenant, "_unlisted_folders", found)  # noqa: B010 - the tenant is generator.py's
    return found


def _can_add_to(p: GoogleWorkspacePersonality, folder_id: str, subject: int | None) -> bool:
    """Whether `subject` may add an item to the folder: its owner or a writer ("Add items to the
    folder" needs writer or above, https://developers.google.com/workspace/drive/api/guides/ref-roles);
    a folder they cannot open is "File not found"."""
    folder = p.tenant.file_index.get(folder_id)
    if folder is None:
        return subject is not None and unlisted_folders(p).get(folder_id) == subject
    if p.tenant.files[folder]["mimeType"] != FOLDER or folder in p.tenant.deleted_files:
        return False
    return writes.can_share(p, folder, subject)


def _folder_title(p: GoogleWorkspacePersonality, folder_id: str) -> str:
    index = p.tenant.file_index.get(folder_id)
    return str(p.tenant.files[index]["name"]) if index is not None else ""


async def update(p: GoogleWorkspacePersonality, request: Request) -> Response:
    api = _api()
    body = _body(await request.body())
    params = request.query_params
    with p._lock:
        unlisted_folders(p)  # taken before the first move changes any parents
        grant, index = writes._open_file(p, request, DRIVE_WRITE)
        item = p.tenant.files[index]
        owner = p.tenant.file_owner[index] == grant.subject
        events: list[dict[str, Any]] = []
        if "trashed" in body:
            if not isinstance(body["trashed"], bool):
                raise api._invalid("trashed")
            if not owner:
                raise writes._insufficient()
            if body["trashed"] is not item["trashed"]:
                item["trashed"] = body["trashed"]
                events.append(_event(p, index, "trash" if body["trashed"] else "untrash", "access"))
        add = [x for x in (params.get("addParents") or "").split(",") if x]
        remove = [x for x in (params.get("removeParents") or "").split(",") if x]
        if add or remove:
            if not writes.can_share(p, index, grant.subject):
                raise writes._insufficient()
            for folder_id in add:
                if not _can_add_to(p, folder_id, grant.subject):
                    raise api.GoogleError(404, f"File not found: {folder_id}.", "notFound", location="fileId")
            parents = [x for x in item.get("parents", []) if x not in remove] + [x for x in add if x not in remove]
            if len(parents) > 1:
                raise api.GoogleError(
                    403,
                    "Increasing the number of parents is not allowed. A file can only have one parent folder.",
                    "cannotAddParent",
                )
            old = item.get("parents", [])
            item["parents"] = parents
            if old != parents:
                events.append(
                    _event(
                        p, index, "move", "access",
                        source_folder_id=",".join(old), source_folder_title=",".join(_folder_title(p, x) for x in old),
                        destination_folder_id=",".join(parents),
                        destination_folder_title=",".join(_folder_title(p, x) for x in parents),
                    )
                )  # fmt: skip
        if events:
            item["version"] = str(int(item.get("version") or "0") + 1)
            assert grant.subject is not None
            writes._record(p, "drive", grant.subject, request, events)
        fields = api.parse_fields(params.get("fields") or "kind,id,name,mimeType")
        api.check_fields(fields, api.FILE_SCHEMA)
        return json_response(api.apply_fields(p._render_file(index, grant.subject), fields))


# -- files.create (multipart upload) and permissions.create ---------------------------------------------


def _multipart(request: Request, raw: bytes) -> tuple[dict[str, Any], bytes]:
    api = _api()
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/related"):
        raise api.GoogleError(400, "Bad content type. Please use multipart.", "badContent")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    parts = list(message.iter_parts()) if message.is_multipart() else []
    if len(parts) != 2:
        raise api.GoogleError(400, "Multipart upload needs the metadata and the media parts.", "badContent")
    metadata = _body(bytes(parts[0].get_payload(decode=True) or b""))
    return metadata, bytes(parts[1].get_payload(decode=True) or b"")


def _properties(metadata: dict[str, Any], which: str) -> dict[str, str]:
    """``properties`` / ``appProperties`` of files.create's metadata: string keys and values, "at most
    124 bytes" for a key and its value together
    (https://developers.google.com/workspace/drive/api/guides/properties)."""
    found = metadata.get(which)
    if found is None:
        return {}
    if not isinstance(found, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in found.items()):
        raise _api()._invalid(which)
    for key, value in found.items():
        if not key or len(key.encode()) + len(value.encode()) > 124:
            raise _api().GoogleError(
                400, f"The property {key} exceeds the maximum size of 124 bytes.", "invalidProperty", location=which
            )
    return dict(found)


async def upload(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """files.create with uploadType=multipart: a new file owned by the caller, in at most one folder
    the caller can add to, with the metadata's ``properties`` and ``appProperties`` kept; an ``id``
    from files.generateIds may be given. Answers the File with ``fields`` (default
    ``kind,id,name,mimeType``) and leaves the Drive log's ``upload``."""
    api = _api()
    if request.query_params.get("uploadType") != "multipart":
        raise api._invalid("uploadType", "Only uploadType=multipart is served here")
    grant = p._grant(request, DRIVE_WRITE, admin=False)
    fields = api.parse_fields(request.query_params.get("fields") or "kind,id,name,mimeType")
    api.check_fields(fields, api.FILE_SCHEMA)
    metadata, data = _multipart(request, await request.body())
    parents = metadata.get("parents") or []
    name = metadata.get("name")
    if not isinstance(name, str) or not name or not isinstance(parents, list) or len(parents) > 1:
        raise api._invalid("name" if not name else "parents")
    properties = {which: _properties(metadata, which) for which in ("properties", "appProperties")}
    assert grant.subject is not None
    with p._lock:
        for folder_id in parents:
            if not _can_add_to(p, str(folder_id), grant.subject):
                raise api.GoogleError(404, f"File not found: {folder_id}.", "notFound", location="fileId")
        file_id = metadata.get("id") or generate_ids(p, 1)[0]
        if file_id in p.tenant.file_index:
            raise api.GoogleError(409, "A file already exists with the provided ID.", "fileIdInUse")
        index = p.tenant.add_file(grant.subject, str(file_id), name, str(metadata.get("mimeType") or "text/plain"),
                                  [str(x) for x in parents], int(p.now() * 1000))  # fmt: skip
        p.tenant.files[index].update({which: found for which, found in properties.items() if found})
        p.tenant.contents.upload(p.tenant.files[index], data)
        writes._record(p, "drive", grant.subject, request, [_event(p, index, "upload", "access")])
        return json_response(api.apply_fields(p._render_file(index, grant.subject), fields))


async def delete(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """files.delete: "Permanently deletes a file owned by the user without moving it to the trash";
    "if the target is a folder, all descendants owned by the user are also deleted"; the empty answer
    (https://developers.google.com/workspace/drive/api/reference/rest/v3/files/delete). Only the owner
    may (a My Drive file; insufficientFilePermissions otherwise, as for trash:
    https://developers.google.com/workspace/drive/api/guides/delete). Each deleted item leaves the Drive
    log's ``delete``."""
    with p._lock:
        grant, index = writes._open_file(p, request, writes.DRIVE_FULL | {S + "drive.file"})
        if p.tenant.file_owner[index] != grant.subject:
            raise writes._insufficient()
        doomed, frontier = [index], [p.tenant.files[index]["id"]]
        while frontier:
            parent = frontier.pop()
            for child, item in enumerate(p.tenant.files):
                mine = p.tenant.file_owner[child] == grant.subject and child not in p.tenant.deleted_files
                if mine and parent in (item.get("parents") or []) and child not in doomed:
                    doomed.append(child)
                    frontier.append(item["id"])
        events = [_event(p, gone, "delete", "access") for gone in doomed]
        p.tenant.deleted_files.update(doomed)
        assert grant.subject is not None
        writes._record(p, "drive", grant.subject, request, events)
    return Response(status_code=204)


async def create(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """files.create with metadata only (``POST /drive/v3/files``, e.g. a folder: mimeType
    ``application/vnd.google-apps.folder``): a new private item owned by the caller, in at most one
    folder the caller can add to; the Drive log's ``create``."""
    api = _api()
    grant = p._grant(request, DRIVE_WRITE, admin=False)
    metadata = _body(await request.body())
    parents = metadata.get("parents") or []
    name = metadata.get("name") or "Untitled"
    if not isinstance(name, str) or not isinstance(parents, list) or len(parents) > 1:
        raise api._invalid("name" if not isinstance(name, str) else "parents")
    assert grant.subject is not None
    with p._lock:
        for folder_id in parents:
            if not _can_add_to(p, str(folder_id), grant.subject):
                raise api.GoogleError(404, f"File not found: {folder_id}.", "notFound", location="fileId")
        file_id = metadata.get("id") or generate_ids(p, 1)[0]
        if file_id in p.tenant.file_index:
            raise api.GoogleError(409, "A file already exists with the provided ID.", "fileIdInUse")
        mime = str(metadata.get("mimeType") or "application/octet-stream")
        index = p.tenant.add_file(grant.subject, str(file_id), name, mime, [str(x) for x in parents],
                                  int(p.now() * 1000))  # fmt: skip
        if mime != FOLDER:
            p.tenant.contents.upload(p.tenant.files[index], b"")
        writes._record(p, "drive", grant.subject, request, [_event(p, index, "create", "access")])
        return json_response(p._render_file(index, grant.subject))


async def permissions_collection(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """permissions.list (GET: ``pageSize`` 1..100, ``pageToken``, ``fields``; listed only to a user
    who can share the file) and permissions.create (POST):
    https://developers.google.com/workspace/drive/api/reference/rest/v3/permissions/list"""
    if request.method == "POST":
        return await create_permission(p, request)
    api = _api()
    params = request.query_params
    with p._lock:
        grant, index = writes._open_file(p, request, writes.DRIVE_READ)
        if not writes.can_share(p, index, grant.subject):
            raise writes._insufficient()
        size = api._int_param(params, "pageSize", 100, 1, 100)
        permissions = [dict(x) for x in p.tenant.files[index]["permissions"]]
        page, token = api.offset_page(permissions, params, f"permissions:{p.tenant.files[index]['id']}", size)
    fields = api.parse_fields(params.get("fields") or "kind,nextPageToken,permissions(id,type,kind,role)")
    api.check_fields(fields, {"kind": None, "nextPageToken": None, "permissions": api.FILE_SCHEMA["permissions"]})
    body: dict[str, Any] = {"kind": "drive#permissionList", "permissions": page}
    if token:
        body["nextPageToken"] = token
    return json_response(api.apply_fields(body, fields))


async def create_permission(p: GoogleWorkspacePersonality, request: Request) -> Response:
    api = _api()
    body = _body(await request.body())
    with p._lock:
        grant, index = writes._open_file(p, request, DRIVE_WRITE)
        if not writes.can_share(p, index, grant.subject):
            raise writes._insufficient()
        kind, role = body.get("type"), body.get("role")
        if kind not in ("user", "group", "domain", "anyone") or role not in ("reader", "commenter", "writer"):
            raise api._invalid("permission.type" if kind not in ("user", "group", "domain", "anyone") else "role")
        item = p.tenant.files[index]
        permission: dict[str, Any] = {"kind": "drive#permission", "type": kind, "role": role}
        if kind in ("user", "group"):
            address = str(body.get("emailAddress") or "").lower()
            if "@" not in address:
                raise api._invalid("permission.emailAddress")
            user = p.tenant.email_index.get(address)
            permission.update(emailAddress=address, deleted=False, displayName=address.split("@")[0])
            permission["id"] = p.tenant.permission_ids[user] if user is not None else p.tenant._ids.digits(20, "1")
            if user is not None and index not in p.tenant.files_shared_with.get(user, []):
                p.tenant.files_shared_with.setdefault(user, []).append(index)
        elif kind == "domain":
            permission.update(
                domain=str(body.get("domain") or ""), allowFileDiscovery=bool(body.get("allowFileDiscovery"))
            )
            permission["id"] = p.tenant._ids.digits(20, "0") + "k"
        else:
            discoverable = bool(body.get("allowFileDiscovery"))
            permission.update(allowFileDiscovery=discoverable, id="anyone" if discoverable else "anyoneWithLink")
        before = writes.visibility(p, item["permissions"])
        item["permissions"] = [x for x in item["permissions"] if x["id"] != permission["id"]] + [permission]
        item["permissionIds"] = [x["id"] for x in item["permissions"]]
        item["shared"] = True
        now = writes.visibility(p, item["permissions"])
        role_value = writes.DRIVE_ROLE_VALUES[role]
        common = {"old_value": "none", "new_value": role_value, "old_visibility": before, "visibility": now}
        if kind in ("user", "group"):
            event = _event(
                p, index, "change_user_access", "acl_change", target_user=permission["emailAddress"], **common
            )
        else:
            event = _event(p, index, "change_document_access_scope", "acl_change",
                           target_domain=permission.get("domain") or "all", **common)  # fmt: skip
        assert grant.subject is not None
        writes._record(p, "drive", grant.subject, request, [event])
        return json_response(permission)


# -- labels ---------------------------------------------------------------------------------------------


def _no_labels() -> Exception:
    return _api().GoogleError(
        403, "The caller does not have permission: Drive labels are not available for this customer.",
        "forbidden",
    )  # fmt: skip


async def list_labels(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """labels.list (Drive Labels API v2): the published labels; useAdminAccess needs an admin
    holding an admin labels scope."""
    params = request.query_params
    admin = params.get("useAdminAccess") == "true"
    grant = p._grant(request, ADMIN_LABELS if admin else LABELS_READ, admin=admin)
    del grant
    if not p.options.drive_labels:
        raise _no_labels()
    labels = p.tenant.labels.catalog
    if params.get("view") != "LABEL_VIEW_FULL":
        labels = [{k: v for k, v in label.items() if k in ("name", "id", "revisionId")} for label in labels]
    return json_response({"labels": labels})


async def modify_labels(p: GoogleWorkspacePersonality, request: Request) -> Response:
    api = _api()
    body = _body(await request.body())
    with p._lock:
        grant, index = writes._open_file(p, request, LABEL_MODIFY)
        if not p.options.drive_labels:
            raise _no_labels()
        if not writes.can_share(p, index, grant.subject):
            raise writes._insufficient()
        labels = p.tenant.labels
        file_id = p.tenant.files[index]["id"]
        modifications = body.get("labelModifications")
        if not isinstance(modifications, list) or not modifications:
            raise api._invalid("labelModifications")
        applied = {k: {f: list(c) for f, c in v.items()} for k, v in labels.applied.get(file_id, {}).items()}
        changed: list[str] = []
        for modification in modifications:
            label_id = modification.get("labelId") if isinstance(modification, dict) else None
            if label_id not in labels.by_id:
                raise api.GoogleError(400, f"Invalid label: {label_id}", "invalidLabel", location="labelId")
            if modification.get("removeLabel"):
                applied.pop(label_id, None)
                continue
            fields = applied.setdefault(label_id, {})
            known = {f["id"]: f for f in labels.by_id[label_id]["fields"]}
            for change in modification.get("fieldModifications") or []:
                field = known.get(change.get("fieldId"))
                if field is None:
                    raise api.GoogleError(400, f"Invalid field: {change.get('fieldId')}", "invalidField")
                if change.get("unsetValues"):
                    fields.pop(field["id"], None)
                    continue
                values = change.get("setSelectionValues")
                choices = {c["id"] for c in field["selectionOptions"]["choices"]}
                if not isinstance(values, list) or not values or not set(values) <= choices:
                    raise api.GoogleError(400, "Invalid selection value.", "invalidFieldValue")
                fields[field["id"]] = list(values)
            changed.append(label_id)
        labels.applied[file_id] = applied
        if not applied:
            labels.applied.pop(file_id, None)
        item = p.tenant.files[index]
        item["version"] = str(int(item.get("version") or "0") + 1)
        return json_response(
            {"kind": "drive#modifyLabelsResponse", "modifiedLabels": labels.render(file_id, set(changed))}
        )


def generate_ids(p: GoogleWorkspacePersonality, count: int) -> list[str]:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
    return [p.tenant._ids.token(33, alphabet, "1") for _ in range(count)]


async def ids(p: GoogleWorkspacePersonality, request: Request) -> Response:
    """files.generateIds: ids a files.create may use (``count`` 1..1000, ``space`` drive)."""
    p._grant(request, DRIVE_WRITE, admin=False)
    count = _api()._int_param(request.query_params, "count", 10, 1, 1000)
    with p._lock:
        return json_response({"kind": "drive#generatedIds", "space": "drive", "ids": generate_ids(p, count)})
