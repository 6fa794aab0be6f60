"""Paging conventions: where a listing's items and its continuation are, ``Link`` values, cursors.

Providers page in one of three ways, each documented by the provider:

* ``link_header``: the body is the list, the next page is a ``Link: <url>; rel="next"`` header
  (RFC 8288; Okta https://developer.okta.com/docs/api/#pagination, GitHub
  https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api);
* ``body_cursor``: the body holds the items and an opaque cursor the client sends back as a query
  parameter (Google's ``nextPageToken`` / ``pageToken``, Slack's
  ``response_metadata.next_cursor`` / ``cursor``), or, for an RPC API whose requests are POSTs of a
  JSON body, in that body (Dropbox's ``cursor`` and ``has_more``, continued by a POST of
  ``{"cursor": ...}`` to the route's ``/continue``:
  https://www.dropbox.com/developers/documentation/http/documentation, "Request and response formats");
* ``next_url``: the body holds the items and the whole next URL (Microsoft Graph's
  ``@odata.nextLink``, https://learn.microsoft.com/en-us/graph/paging).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class PagingStyle:
    """Where a provider puts a listing's items and its continuation, and which of its listings
    the hostile layer (``saaslens_sandbox.hostile``) attacks. Each personality declares its own."""

    kind: Literal["link_header", "body_cursor", "next_url"]
    accounts_listing: str  # regex over the path below the tenant
    items: str | None = None  # dotted path; None: the body is the list
    cursor_field: str | None = None  # body_cursor / next_url: dotted path of the continuation
    cursor_param: str | None = None  # body_cursor: the query parameter the cursor goes back in
    cursor_body_field: str | None = None  # body_cursor: the JSON body field a POSTed cursor goes back in
    more_field: str | None = None  # where a page says another follows (Dropbox's has_more), if it does
    group_listing: str | None = None  # a listing whose ids go into later paths (traversal_id)
    group_items: str | None = None  # where that listing's records are (None: the body is the list)
    id_field: str = "id"
    text_field: str = "id"  # dotted path of display text the connector stores
    # How a throttle answer says when to come back: "provider" through the personality's own
    # throttle headers; "retry_after" for a provider that documents none.
    far_reset_header: Literal["provider", "retry_after"] = "provider"


def link(url: str, rel: str) -> str:
    """One ``Link`` value (RFC 8288): ``<url>; rel="next"``."""
    return f'<{url}>; rel="{rel}"'


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 section 5): what providers' opaque cursors look like."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    """The bytes of unpadded base64url ``text`` (raises ``binascii.Error`` / ``ValueError``)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
