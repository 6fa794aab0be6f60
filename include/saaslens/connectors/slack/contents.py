"""File contents for content inspection (docs/dlp.md): a Slack file's bytes from Slack's file host.

A file object's ``url_private`` "points to a URL to the file contents"; ``url_private_download`` is the
same with headers that force a browser download. "Both url_private and url_private_download require an
authorization header of the form ``Authorization: Bearer A_VALID_TOKEN``" with a token "bearing at least
the files:read scope" (https://api.slack.com/types/file#auth). Those URLs are on
https://files.slack.com, not on the Web API's host: the token is sent there, and nowhere else. A file
object is a provider response and is treated as hostile: a url_private on any other host (or over plain
HTTP) is refused with an error naming the file, never fetched. In the sandbox (a Web API on a loopback
host) the file host is another loopback origin.

Slack's file host answers a request whose token it does not accept with its HTML sign-in page, status
200, or a redirect to it, rather than an error (observed by Slack developers, e.g. the "HTTP-200 HTML
sign-in page" guard in tilework-tech/nori-slack-cli; Slack does not document it): an HTML answer for a
file that is not HTML, or a redirect away from the file host, is PermissionDeniedError, never scanned.
That check is defensive.

Files without content of their own are skipped (``mode`` is "one of hosted, external, snippet or post"):
external files (``is_external``: "the master copy of a file is stored" elsewhere, e.g. Google Drive),
Posts and canvases (Slack-native documents whose url_private serves Slack's rendering, not a file:
unconfirmed, so not read), tombstones of deleted files and files hidden by a plan's storage limit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import urlsplit

from saaslens.connectors.kit import FetchedContent, FileContents, Row
from saaslens.connectors.slack.connector import FILE_HOST, SlackConnector
from saaslens.http import MalformedResponseError, PermissionDeniedError
from saaslens.http.client import is_loopback
from saaslens.http.errors import RedirectRefusedError
from saaslens.http.redaction import redact_url

DOCS = "https://api.slack.com/types/file#auth"
PERMISSION = "files:read"
# The Audit Logs API actions after which a file's content is new or newly exposed
# (https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference, "File" actions): the entry's
# entity is the file, so activities.target_id is the file id (transform.audit_row).
CHANGE_EVENTS = frozenset({"file_uploaded", "file_shared", "file_public_link_created"})
# Slack-native documents: Posts (filetype "space", mode "post") and canvases (filetype "quip"/"canvas").
NATIVE_FILETYPES = frozenset({"space", "quip", "canvas", "list"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


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
    """Why a files row has no content to download, None to read it."""
    raw = _raw(row)
    mode = raw.get("mode")
    if raw.get("is_external") is True or mode == "external":
        where = raw.get("external_type") or "another service"
        return f"an external file ({where}): its content is held outside Slack"
    if mode == "tombstone":
        return "the tombstone of a deleted file: no content left"
    if mode == "hidden_by_limit":
        return "hidden by the workspace plan's file limit: Slack serves no content for it"
    if mode in ("post", "space", "canvas", "quip") or raw.get("filetype") in NATIVE_FILETYPES:
        return f"a Slack-native document ({raw.get('filetype') or mode}), not a file download"
    url = raw.get("url_private_download") or raw.get("url_private")
    if not isinstance(url, str) or not url:
        return "no url_private: Slack gives no download URL for this file"
    return None


def file_url(connector: SlackConnector, row: Row) -> str:
    """The file's download URL, once it is known to be on Slack's file host: https and exactly
    files.slack.com (or, against the sandbox's loopback Web API, a loopback origin). Anything else is
    refused before a request is made (MalformedResponseError naming the file and the host only)."""
    raw = _raw(row)
    file_id = str(row.get("file_id") or raw.get("id") or "?")
    url = raw.get("url_private_download") or raw.get("url_private")
    if not isinstance(url, str) or not url:
        raise MalformedResponseError(f"file {file_id} has no url_private to download it from")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise MalformedResponseError(f"file {file_id}'s url_private is not a URL: not fetched") from None
    official = parts.scheme == "https" and parts.hostname == FILE_HOST and port in (None, 443)
    sandbox = is_loopback(urlsplit(connector.client.base_url).hostname) and is_loopback(parts.hostname)
    if not (official or sandbox) or parts.username is not None or parts.password is not None:
        raise MalformedResponseError(
            f"file {file_id}'s url_private is on {parts.scheme}://{parts.hostname or '?'}, not Slack's file "
            f"host https://{FILE_HOST}: refused, not fetched (the token is sent to {FILE_HOST} only)"
        )
    return url


def fetch(connector: SlackConnector, row: Row, sink: IO[bytes], max_bytes: int) -> FetchedContent:
    """Download one file into `sink`, at most `max_bytes` (ContentTooLargeError past it, from the file
    host's Content-Length before the body is read). A 404 (deleted since the listing) is NotFoundError,
    a 403 PermissionDeniedError, and so is an HTML sign-in page or a redirect off the file host."""
    url = file_url(connector, row)
    parts = urlsplit(url)
    client = connector.file_client(f"{parts.scheme}://{parts.netloc}")
    file_id = row.get("file_id")
    try:
        downloaded = client.download(url, sink, max_bytes=max_bytes)
    except RedirectRefusedError as exc:
        raise PermissionDeniedError(
            f"Slack's file host redirected the download of file {file_id} to another host (where it sends a "
            "token it does not accept: its sign-in page); not followed. The token needs files:read",
            **exc.context,
        ) from None
    served = (downloaded.content_type or "").split(";", 1)[0].strip().lower()
    listed = row.get("mime_type")
    listed_type = listed.lower() if isinstance(listed, str) else ""
    if served in HTML_TYPES and listed_type not in HTML_TYPES and _raw(row).get("filetype") != "html":
        sink.seek(0)
        sink.truncate()
        raise PermissionDeniedError(
            f"Slack's file host answered file {file_id} ({listed_type or 'not HTML'}) with an HTML page: its "
            "sign-in page, served to a token it does not accept there. The token needs files:read",
            status=200,
            method="GET",
            url=redact_url(url),
        )
    name = row.get("name")
    # The listing's MIME type is the file's; the file host may serve application/octet-stream.
    mime_type = listed if isinstance(listed, str) and listed else (served or None)
    return FetchedContent(bytes=downloaded.bytes, mime_type=mime_type, name=str(name) if name else None)


CONTENTS: FileContents[SlackConnector] = FileContents(
    fetch=fetch,
    permission=PERMISSION,
    docs=DOCS,
    skip=skip,
    change_events=CHANGE_EVENTS,
)
