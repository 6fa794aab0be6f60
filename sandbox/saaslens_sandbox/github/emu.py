"""Enterprise Managed Users: the enterprise's SCIM identities, GitHub's username rule, SCIM filters.

Sources (GitHub's documentation, the github/docs sources of the pages named):

* Usernames: "Usernames are formed by normalizing the SCIM ``userName`` attribute value sent from
  the IdP"; any non-alphanumeric character becomes a dash, letter casing is preserved, a username
  made from an email address keeps what precedes ``@``, one made from a domain account what follows
  ``\\``; GitHub "adds an underscore and your enterprise's shortcode" (``mona-cat_octo``); the setup
  user is ``SHORT-CODE_admin``; a shortcode is 3 to 8 alphanumeric characters
  (https://docs.github.com/enterprise-cloud@latest/admin/managing-iam/iam-configuration-reference/username-considerations-for-external-authentication).
* SCIM resources and their listing (``filter`` on ``userName``, ``externalId``, ``id`` or
  ``displayName``, one filter only; ``startIndex`` default 1, ``count`` default 30; a
  ``ListResponse`` with ``totalResults``, ``Resources``, ``startIndex``, ``itemsPerPage``;
  ``scim-enterprise-user-response``): the OpenAPI description's
  ``enterprise-admin/list-provisioned-identities-enterprise`` and
  ``enterprise-admin/get-provisioning-information-for-enterprise-user``, rendered at
  https://docs.github.com/enterprise-cloud@latest/rest/enterprise-admin/scim .
* Soft deprovisioning (PATCH ``active`` false): "the user's metadata remains intact" and the
  identity stays listed; the user is suspended, their "username is obfuscated to a hash of the
  original username, followed by ``_SHORTCODE``", their email is obfuscated (Entra ID aside), the
  SCIM identity stays linked; a user whose organization membership is managed directly "will remain
  as a 'suspended member' of the organization, without access, until removed manually". The audit
  log events of a soft deprovisioning are ``user.suspend``, ``user.remove_email``, ``user.rename``,
  ``external_identity.deprovision`` and ``external_identity.scim_api_success``; of a reprovisioning
  ``user.unsuspend``, ``user.remove_email``, ``user.rename``, ``external_identity.provision`` and
  ``external_identity.scim_api_success``
  (https://docs.github.com/enterprise-cloud@latest/admin/managing-iam/provisioning-user-accounts-with-scim/deprovisioning-and-reinstating-users).

Sandbox choices where GitHub publishes nothing: the obfuscated username's hash (16 hex characters
here), ``count`` capped at 100, a userName filter compared case-insensitively (SCIM's ``userName``
is not case-exact, RFC 7643 section 4.1.1) and externalId and id exactly, and the shape of each
identity's generated values (a ``first.last@<domain>`` userName, a GUID-like externalId as Entra ID
sends).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

SCIM_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
SCIM_LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
FILTER_ATTRIBUTES = {"username": "userName", "externalid": "externalId", "id": "id", "displayname": "displayName"}
_FILTER = re.compile(r"""^\s*(\w+)\s+eq\s+(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*$""", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
SHORTCODE = re.compile(r"^[0-9A-Za-z]{3,8}$")


class ScimFilterError(ValueError):
    """A filter GitHub does not support (one ``attribute eq "value"`` only)."""


def normalize_username(identifier: str) -> str:
    """GitHub's normalization of a SCIM ``userName`` into the username before ``_SHORTCODE``."""
    value = identifier
    if "\\" in value:
        value = value.rsplit("\\", 1)[1]
    if "@" in value:
        value = value.split("@", 1)[0]
    return _NON_ALNUM.sub("-", value)


def managed_login(user_name: str, shortcode: str) -> str:
    return f"{normalize_username(user_name)}_{shortcode}"


def parse_filter(expression: str | None) -> tuple[str, str] | None:
    """(attribute, value) of ``attribute eq "value"``; None for no filter."""
    if expression is None or not expression.strip():
        return None
    match = _FILTER.match(expression)
    if not match or match.group(1).lower() not in FILTER_ATTRIBUTES:
        raise ScimFilterError(f"unsupported filter: {expression}")
    raw = match.group(2) if match.group(2) is not None else match.group(3)
    return FILTER_ATTRIBUTES[match.group(1).lower()], re.sub(r"\\(.)", r"\1", raw)


@dataclass
class ScimIdentity:
    """One SCIM-provisioned identity of the enterprise, linked to a user (index into the users)."""

    id: str
    user: int
    user_name: str
    external_id: str
    given_name: str
    family_name: str
    email: str
    created_ms: int
    modified_ms: int
    active: bool = True
    roles: list[str] = field(default_factory=lambda: ["user"])
    original_login: str = ""
    """The username before a suspension obfuscated it (restored when reprovisioned)."""

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    def matches(self, attribute: str, value: str) -> bool:
        if attribute == "userName":
            return self.user_name.lower() == value.lower()
        if attribute == "externalId":
            return self.external_id == value
        if attribute == "id":
            return self.id == value
        return self.display_name == value

    def document(self, location: str, iso: Any) -> dict[str, Any]:
        """The ``scim-enterprise-user-response``."""
        return {
            "schemas": [SCIM_USER_SCHEMA],
            "id": self.id,
            "externalId": self.external_id,
            "userName": self.user_name,
            "displayName": self.display_name,
            "name": {
                "formatted": self.display_name,
                "givenName": self.given_name,
                "familyName": self.family_name,
            },
            "emails": [{"value": self.email, "type": "work", "primary": True}],
            "roles": [{"value": role, "primary": False} for role in self.roles],
            "active": self.active,
            "meta": {
                "resourceType": "User",
                "created": iso(self.created_ms),
                "lastModified": iso(self.modified_ms),
                "location": location,
            },
        }


def identity_id(*parts: object) -> str:
    """A stable GUID-shaped id from the tenant's seed and the user."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, ":".join(str(p) for p in parts)))


def scim_error(status: int, detail: str, doc: str, scim_type: str | None = None) -> dict[str, Any]:
    """GitHub's ``scim-error``: the SCIM error schema with GitHub's ``message`` and
    ``documentation_url`` beside ``detail``."""
    body: dict[str, Any] = {
        "schemas": [SCIM_ERROR_SCHEMA],
        "status": status,
        "detail": detail,
        "message": detail,
        "documentation_url": doc,
    }
    if scim_type:
        body["scimType"] = scim_type
    return body
