"""The users stage: Entra ID users (accounts), resumable page by page, and incremental through
Graph's delta query.

- List users (``$select`` for non-default properties, ``$top`` up to 999; ``signInActivity`` needs
  AuditLog.Read.All and Entra ID P1/P2, and caps pages at 120): user-list.md, signinactivity.md
- Delta query (``$deltatoken=latest`` for "sync from now", ``@removed`` for deleted users, no
  signInActivity): user-delta.md, https://learn.microsoft.com/graph/delta-query-overview
"""

from __future__ import annotations

import itertools
import logging
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from saaslens.connectors.kit import JSON, Batch, Incremental, Probe, Row, SnapshotStage
from saaslens.connectors.microsoft365 import transform
from saaslens.connectors.microsoft365.connector import Microsoft365Connector
from saaslens.http import FeatureUnavailableError, MalformedResponseError, PermissionDeniedError
from saaslens.http.listing import Page
from saaslens.http.pagination import NextUrlPaginator, PageRequest
from saaslens.vocabulary import Stage

log = logging.getLogger(__name__)

USER_FIELDS = (
    "id",
    "displayName",
    "userPrincipalName",
    "mail",
    "accountEnabled",
    "userType",
    "createdDateTime",
    "externalUserState",
    "creationType",
    "department",
    "jobTitle",
)
# Delta does not report signInActivity: an incremental snapshot keeps the last known sign-in.
SIGN_IN_COLUMNS = ("last_login_at", "last_login_attempt_at")


def _listing(connector: Microsoft365Connector, activity: bool, resume: PageRequest | None) -> Iterator[Page]:
    fields = USER_FIELDS + (("signInActivity",) if activity else ())
    params = {"$select": ",".join(fields), "$top": connector.page_size(999)}
    return connector.pages("/v1.0/users", params, resume=resume)


def scan_users(connector: Microsoft365Connector, resume: JSON | None) -> Iterator[Batch]:
    """Users with signInActivity where the licence and permissions allow, else without it (the
    last sign-in is then unknown). Each page is a checkpoint: the next page's request, plus
    what a resumed scan must not ask again (the role holders, whether signInActivity works)."""
    if resume is not None:
        admin_list = resume.get("admin_ids")
        admin_ids = set(admin_list) if admin_list is not None else None
        activity = bool(resume["activity"])
        pages = _listing(connector, activity, PageRequest.from_state(resume["request"]))
    else:
        admin_ids = connector.admin_ids()
        activity = connector.options.sign_in_activity
        pages = _listing(connector, activity, None)
        if activity:
            try:
                first = next(pages, None)
            except (PermissionDeniedError, FeatureUnavailableError) as exc:
                log.warning("%s: signInActivity unavailable (%s); last sign-in left unknown", connector.app, exc)
                activity, pages = False, _listing(connector, False, None)
            else:
                pages = itertools.chain([first] if first is not None else [], pages)
    admin_state = sorted(admin_ids) if admin_ids is not None else None
    for page in pages:
        checkpoint = None
        if page.next_request is not None:
            checkpoint = {"admin_ids": admin_state, "activity": activity, "request": page.next_request.to_state()}
        yield Batch("accounts", [transform.account_row(user, admin_ids) for user in page.items], checkpoint)


# -- incremental (Graph delta query) ---------------------------------------------------------------


def start_cursor(connector: Microsoft365Connector) -> JSON:
    """Graph's "sync from now": a deltaLink for the current state, without listing anything."""
    body = connector.client.get_json("/v1.0/users/delta", {"$deltatoken": "latest", "$select": ",".join(USER_FIELDS)})
    link = body.get("@odata.deltaLink") if isinstance(body, dict) else None
    if not link:
        raise MalformedResponseError("users/delta with $deltatoken=latest returned no @odata.deltaLink")
    return {"delta_link": link}


def changes(connector: Microsoft365Connector, cursor: JSON) -> Iterator[Batch]:
    """Follow the stored deltaLink: changed and new users in full, deleted ones as @removed. Role
    assignments are not user changes, so the current role holders travel in the context (sorted,
    JSON-able) for `merge` to refresh is_admin on every carried-over row."""
    admin_ids = connector.admin_ids()
    context: JSON = {"admin_ids": sorted(admin_ids) if admin_ids is not None else None}
    for page in connector.client.paginate(cursor["delta_link"], NextUrlPaginator("value")):
        upserts = [transform.account_row(u, admin_ids) for u in page.items if "@removed" not in u]
        batch = Batch("accounts", upserts, removed=[u["id"] for u in page.items if "@removed" in u], context=context)
        if page.next_request is None:
            link = page.payload.get("@odata.deltaLink") if isinstance(page.payload, dict) else None
            if not link:
                raise MalformedResponseError("the last users/delta page carried no @odata.deltaLink")
            batch.cursor = {"delta_link": link}
        yield batch


def merge(table: str, previous: Row | None, changed: Row | None, context: Mapping[str, Any]) -> Row:
    """The row an incremental snapshot keeps: the delta's state, with the last known sign-in (delta
    does not report signInActivity) and is_admin from the current role holders."""
    row = dict(changed if changed is not None else previous or {})
    if changed is not None and previous is not None:
        for column in SIGN_IN_COLUMNS:
            if row.get(column) is None:
                row[column] = previous.get(column)
    admin_ids: Sequence[str] | None = context.get("admin_ids")
    if admin_ids is not None:
        row["is_admin"] = _in_sorted(admin_ids, row["account_id"])
    return row


def _in_sorted(values: Sequence[str], value: str) -> bool:
    """Membership in a sorted list in O(log n): merge runs once per account."""
    at = bisect_left(values, value)
    return at < len(values) and values[at] == value


STAGE = SnapshotStage(
    stage=Stage.USERS,
    scan=scan_users,
    permission="User.Read.All",
    probe=Probe("/v1.0/users", {"$top": 1, "$select": "id"}),
    resumable=True,
    incremental=Incremental(start_cursor=start_cursor, changes=changes, merge=merge),
)
