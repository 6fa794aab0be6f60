"""Enterprise Managed Users: the enterprise SCIM API and how a managed user's login links to its
SCIM identity. Pure functions and the listing; the action is in actions.py.

The link (GitHub documents no field in the SCIM resource naming the user's login): "Usernames are
formed by normalizing the SCIM ``userName`` attribute value sent from the IdP": every character
that is not alphanumeric becomes a dash, letter case is kept, an email address keeps what precedes
``@``, a domain account what follows ``\\``, and GitHub "adds an underscore and your enterprise's
shortcode to the end of each username" (``mona-cat_octo``); the setup user is ``SHORT-CODE_admin``
(https://docs.github.com/enterprise-cloud@latest/admin/managing-iam/iam-configuration-reference/username-considerations-for-external-authentication;
the SCIM reference says the same of ``userName``: it "undergoes normalization before being used",
https://docs.github.com/enterprise-cloud@latest/rest/enterprise-admin/scim). Normalized usernames
hold only alphanumerics and dashes, so the last underscore of a managed login separates the
shortcode. GitHub logins are case-insensitive, so the comparison is too.

A suspension (``active`` false) obfuscates the login "to a hash of the original username, followed
by ``_SHORTCODE``" and the identity stays, with its ``userName`` (deprovisioning-and-reinstating-users):
a suspended user is found through the login the lake recorded before, not the one GitHub shows now.

SCIM listing: ``filter`` (one of ``userName``, ``externalId``, ``id``, ``displayName`` with ``eq``),
``startIndex`` (1-based) and ``count`` (default 30), a ``ListResponse`` with ``totalResults`` and
``Resources`` (https://docs.github.com/enterprise-cloud@latest/rest/enterprise-admin/scim#list-scim-provisioned-identities-for-an-enterprise).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from saaslens.http.pagination import OffsetPaginator, PageRequest, dig

SCIM_PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE_OWNER_ROLE = "enterprise_owner"
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
# The SCIM page size asked for; GitHub documents the default (30), not a maximum.
SCIM_PAGE = 100


def normalize_username(user_name: str) -> str:
    """GitHub's normalization of a SCIM ``userName`` (the username before ``_SHORTCODE``)."""
    value = user_name.rsplit("\\", 1)[-1]
    value = value.split("@", 1)[0]
    return _NON_ALNUM.sub("-", value)


def split_managed_login(login: str) -> tuple[str, str] | None:
    """(normalized username, shortcode) of a managed user's login; None for a login without the
    ``_SHORTCODE`` suffix (not a managed user)."""
    base, sep, shortcode = login.rpartition("_")
    if not sep or not base or not shortcode.isalnum():
        return None
    return base, shortcode


def login_links(login: str, user_name: str) -> bool:
    """Whether a SCIM identity with this ``userName`` is the one the managed login was made from."""
    parts = split_managed_login(login)
    return parts is not None and parts[0].lower() == normalize_username(user_name).lower()


def scim_filter(attribute: str, value: str) -> str:
    """A SCIM ``eq`` filter with the value quoted as a SCIM string (RFC 7644 section 3.4.2.2)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{attribute} eq "{escaped}"'


def deactivate_body(active: bool = False) -> dict[str, Any]:
    """The PatchOp GitHub documents for suspending a managed user (``active`` false; true
    reprovisions): the OpenAPI description's ``disableUser`` example of
    ``enterprise-admin/update-attribute-for-enterprise-user``."""
    return {"schemas": [SCIM_PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "active", "value": active}]}


def identity_state(resource: Mapping[str, Any]) -> dict[str, Any]:
    """What a plan shows of a SCIM identity: never its emails or name."""
    roles = [str(r.get("value")) for r in resource.get("roles") or [] if isinstance(r, Mapping)]
    return {
        "scim_user_id": str(resource.get("id") or ""),
        "userName": str(resource.get("userName") or ""),
        "externalId": resource.get("externalId"),
        "active": resource.get("active"),
        "roles": roles,
    }


def checked_resource(resource: Any) -> dict[str, Any]:
    """A SCIM user resource with the fields the action relies on, or ValueError: an identity without
    an id or with ``active`` anything but a boolean is not what GitHub promises."""
    if not isinstance(resource, dict) or not isinstance(resource.get("id"), str) or not resource["id"]:
        raise ValueError("a SCIM identity without an id")
    if not isinstance(resource.get("active"), bool):
        raise ValueError(f"SCIM identity {resource['id']!r} has no boolean active")
    if not isinstance(resource.get("userName"), str):
        raise ValueError(f"SCIM identity {resource['id']!r} has no userName")
    return resource


class ScimPaginator(OffsetPaginator):
    """SCIM's 1-based ``startIndex`` and ``count``: stops at ``totalResults`` or a short page."""

    def __init__(self, count: int = SCIM_PAGE) -> None:
        super().__init__("Resources", offset_param="startIndex", limit_param="count", limit=count)

    def first_params(self) -> dict[str, Any]:
        return {"startIndex": 1, "count": self.limit}

    def next_request(
        self, current: PageRequest, response: httpx.Response, payload: Any, items: list[Any]
    ) -> PageRequest | None:
        start = int(current.params.get("startIndex", 1)) + len(items)
        total = dig(payload, "totalResults")
        if not items or len(items) < self.limit or (isinstance(total, int) and start > total):
            return None
        return PageRequest(url=current.url, params={**current.params, "startIndex": start, "count": self.limit})


def iter_identities(pages: Iterator[list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    for page in pages:
        yield from page
