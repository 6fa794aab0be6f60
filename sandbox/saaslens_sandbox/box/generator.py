"""A generated Box enterprise: users, groups and memberships, files with shared links and
collaborations, and the enterprise event log (admin_logs), deterministic from the tenant's seed.

Shapes follow Box's OpenAPI description (``shared/api-specs/box/openapi.json``, read by the contract
test; schemas ``User--Full``, ``Group--Full``, ``GroupMembership``, ``File--Full``, ``Collaboration``,
``Event``) and the documentation pages cited next to each fact:

* Users: ``status`` is one of active / inactive / cannot_delete_edit / cannot_delete_edit_upload and
  ``role`` one of admin / coadmin / user (https://developer.box.com/reference/resources/user--full/).
  One primary admin (role ``admin``), a few co-admins, some of them inactive. App Users carry
  ``is_platform_access_only: true`` and a ``AppUser_<app>_<random>@boxdevedition.com`` login, and the
  app's Service Account a ``AutomationUser_<app>_<random>@boxdevedition.com`` one
  (https://developer.box.com/guides/getting-started/user-types/app-users/,
  https://developer.box.com/guides/getting-started/user-types/service-account/). Empty strings where
  Box's samples show them (``job_title``, ``phone``, ``address``) and ``notification_email: null``.
* Timestamps carry Box's Pacific offset (``2012-12-12T10:53:43-08:00`` in every sample).
* Groups: ``group_type`` managed_group, ``provenance`` for synced groups (``Active Directory``),
  ``invitability_level`` / ``member_viewability_level``; memberships with role member or admin
  (https://developer.box.com/reference/resources/group-membership/).
* Files: ``shared_link`` null or with ``access`` open / company / collaborators
  (https://developer.box.com/guides/shared-links/create-or-update/); collaborations on files and on
  folders (whose collaborators reach everything inside), roles editor / viewer / previewer / uploader
  / co-owner ..., status accepted or pending; a pending invitation of someone without a Box account
  has an ``invite_email`` and no ``accessible_by`` (which the schema does not let be null)
  (https://developer.box.com/reference/resources/collaboration/).
* Events: ``event_id`` (Box: "You can use this to detect duplicate events"), ``created_by`` a user
  mini, and for actions by someone not signed in the unknown user ``id "2"``
  (https://developer.box.com/reference/resources/event/), ``ip_address`` ``"Unknown IP"`` where Box
  cannot tell, ``source`` a user, group or item (``item_type`` / ``item_id`` / ``item_name``) as in
  the enterprise events samples (https://developer.box.com/guides/events/enterprise-events/for-enterprise/).
  Stream positions are integers around 1.15e18, as in Box's example ``"1152922976252290886"``: far
  above 2^53, so a client that parses them as doubles loses the position.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from saaslens_sandbox.box.contents import BoxContents
from saaslens_sandbox.core import TenantOptions

# Box's samples all use the Pacific offset; the sandbox writes every timestamp in it.
PACIFIC = timezone(timedelta(hours=-8))
# Box's example stream position (Events schema); event i sits at STREAM_BASE + i.
STREAM_BASE = 1152922976252290886
# The unknown user Box attributes events to when nobody was signed in (Event resource, created_by).
# "not all attributes of the object are populated": no login, which would be an email.
UNKNOWN_USER = {"type": "user", "id": "2", "name": "Unknown User"}

# Scopes a Box app's configuration grants (Developer Console, "Application Scopes"):
# https://developer.box.com/guides/api-calls/permissions-and-errors/scopes/
READ_ALL = "root_readonly"
WRITE_ALL = "root_readwrite"
MANAGE_USERS = "manage_managed_users"
MANAGE_GROUPS = "manage_groups"
MANAGE_ENTERPRISE = "manage_enterprise_properties"
ALL_SCOPES = (READ_ALL, WRITE_ALL, MANAGE_USERS, MANAGE_GROUPS, MANAGE_ENTERPRISE)

FIRST = ["Ava", "Liam", "Mia", "Noah", "Zoe", "Omar", "Lena", "Ravi", "Sofia", "Kenji", "Ines", "Tomas", "Aisha"]
FIRST_INTL = ["José", "Zoë", "Łukasz", "Søren", "Chloé", "Dvořák"]
LAST = ["Nguyen", "Smith", "Garcia", "Khan", "Müller", "Rossi", "Kowalski", "Okafor", "Tanaka", "Silva", "Brown"]
TITLES = ["Engineer", "Analyst", "Designer", "Sales Lead", "Counsel", "Recruiter", "Controller", ""]
DEPARTMENTS = ["Engineering", "Sales", "Finance", "Legal", "Marketing", "People", "Support"]
COLLAB_ROLES = ["editor", "viewer", "previewer", "uploader", "previewer uploader", "viewer uploader", "co-owner"]
FILE_NAMES = ["Q3 forecast.xlsx", "Board deck.pptx", "Offer letter.docx", "Roadmap.pdf", "notes.txt", "customers.csv"]

# What each generated admin event looks like: (event_type, source kind, weight). Event types from
# the enterprise events list (https://developer.box.com/guides/events/enterprise-events/for-enterprise/,
# the Event schema's event_type enum).
EVENT_KINDS: tuple[tuple[str, str, int], ...] = (
    ("LOGIN", "user", 30),
    ("FAILED_LOGIN", "user", 6),
    ("ADMIN_LOGIN", "user", 2),
    ("UPLOAD", "file", 12),
    ("DOWNLOAD", "file", 14),
    ("PREVIEW", "file", 14),
    ("SHARE", "file", 4),
    ("ITEM_SHARED_UPDATE", "file", 2),
    ("COLLABORATION_INVITE", "file", 3),
    ("GROUP_ADD_USER", "group", 3),
    ("GROUP_REMOVE_USER", "group", 1),
    ("EDIT_USER", "user", 2),
    ("CHANGE_ADMIN_ROLE", "user", 1),
    ("NEW_USER", "user", 1),
)


def iso(moment: datetime) -> str:
    """Box's timestamp format: seconds, the Pacific offset."""
    return moment.astimezone(PACIFIC).replace(microsecond=0).isoformat()


def sha1(*parts: object) -> str:
    # Box uses SHA-1 for content digests (File.sha1); here it only derives ids, not security.
    return hashlib.sha1(":".join(str(p) for p in parts).encode(), usedforsecurity=False).hexdigest()


def event_uuid(*parts: object) -> str:
    """An event id shaped like Box's (a UUID), derived from the seed so tenants repeat."""
    h = sha1(*parts)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


class ClientSpec(BaseModel):
    """One Box app (a Platform App using Client Credentials Grant) authorized in the enterprise."""

    model_config = ConfigDict(extra="forbid")
    client_id: str
    client_secret: str
    scopes: list[str] = Field(default_factory=lambda: list(ALL_SCOPES))
    """Application scopes the app was configured with (ALL_SCOPES names them)."""
    name: str = "saaslens"


class BoxSandboxOptions(TenantOptions):
    """``TenantSpec.options`` for a Box tenant (all optional)."""

    model_config = ConfigDict(extra="forbid")
    clients: list[ClientSpec] | None = None
    """Default: ``scan`` (read scopes and manage_enterprise_properties), ``actions`` (every scope)
    and ``noevents`` (read scopes, without manage_enterprise_properties): client ids
    ``sandbox-box-<tenant>-<name>``, secrets ``secret-<client id>``."""
    history_days: int = Field(default=7, ge=1, le=365)
    events: int | None = Field(default=None, ge=0)
    """Admin events. Default: 8 per user."""
    groups: int | None = Field(default=None, ge=0)
    files_per_user: int = Field(default=3, ge=0, le=50)
    app_users: int = Field(default=2, ge=0)
    domain: str | None = None
    stream_position_json: Literal["number", "string"] = "number"
    """How ``next_stream_position`` is written: Box's schema allows both (anyOf string / int64)."""
    access_token_ttl_seconds: int = Field(default=3600, ge=1)


@dataclass
class BoxTenant:
    name: str
    seed: int
    users: int
    options: BoxSandboxOptions
    anchor: datetime
    enterprise: dict[str, Any] = field(init=False)
    user_docs: list[dict[str, Any]] = field(init=False)
    service_accounts: dict[str, dict[str, Any]] = field(init=False)
    groups: list[dict[str, Any]] = field(init=False)
    memberships: list[dict[str, Any]] = field(init=False)
    folders: list[dict[str, Any]] = field(init=False)
    files: list[dict[str, Any]] = field(init=False)
    collaborations: list[dict[str, Any]] = field(init=False)
    events: list[dict[str, Any]] = field(init=False)
    clients: list[ClientSpec] = field(init=False)
    contents: BoxContents = field(init=False)

    def __post_init__(self) -> None:
        rng = random.Random(f"box:{self.name}:{self.seed}")
        self.contents = BoxContents(self.name, self.seed)
        self.domain = self.options.domain or f"{self.name}.example.com"
        self.enterprise = {
            "id": str(rng.randint(100_000, 99_999_999)),
            "type": "enterprise",
            "name": f"{self.name.title()} Inc.",
        }
        self.clients = self.options.clients or [
            ClientSpec(
                client_id=f"sandbox-box-{self.name}-scan",
                client_secret=f"secret-sandbox-box-{self.name}-scan",
                scopes=[READ_ALL, MANAGE_USERS, MANAGE_GROUPS, MANAGE_ENTERPRISE],
                name="saaslens scanner",
            ),
            ClientSpec(
                client_id=f"sandbox-box-{self.name}-actions",
                client_secret=f"secret-sandbox-box-{self.name}-actions",
                scopes=list(ALL_SCOPES),
                name="saaslens actions",
            ),
            ClientSpec(
                client_id=f"sandbox-box-{self.name}-noevents",
                client_secret=f"secret-sandbox-box-{self.name}-noevents",
                scopes=[READ_ALL, MANAGE_USERS, MANAGE_GROUPS],
                name="saaslens without reports",
            ),
        ]
        self._next_id = 10_000_000_000 + rng.randint(0, 9_000_000_000)
        self._make_users(rng)
        self._make_service_accounts(rng)
        self._make_groups(rng)
        self._make_content(rng)
        self._make_special_files(random.Random(f"box-specials:{self.name}:{self.seed}"))
        self._make_events(rng)

    # -- ids and users ------------------------------------------------------------------------

    def new_id(self) -> str:
        self._next_id += 1 + (self._next_id % 7)
        return str(self._next_id)

    def _when(self, rng: random.Random, days: float) -> datetime:
        return self.anchor - timedelta(seconds=rng.uniform(0, days * 86400))

    def _user(self, rng: random.Random, index: int) -> dict[str, Any]:
        first = rng.choice(FIRST_INTL) if rng.random() < 0.08 else rng.choice(FIRST)
        last = rng.choice(LAST)
        created = self._when(rng, 900)
        modified = min(self.anchor, created + timedelta(days=rng.uniform(0, 400)))
        login = f"{first.lower()}.{last.lower()}{index}@{self.domain}".encode("ascii", "ignore").decode()
        if rng.random() < 0.05:  # Box keeps the login as the admin typed it
            login = login[0].upper() + login[1:]
        roll = rng.random()
        status = (
            "active"
            if roll < 0.85
            else "inactive"
            if roll < 0.94
            else "cannot_delete_edit"
            if roll < 0.97
            else "cannot_delete_edit_upload"
        )
        return {
            "type": "user",
            "id": self.new_id(),
            "name": f"{first} {last}",
            "login": login,
            "created_at": iso(created),
            "modified_at": iso(modified),
            "language": rng.choice(["en", "en", "fr", "de", "ja"]),
            "timezone": rng.choice(["America/Los_Angeles", "Europe/London", "Asia/Tokyo"]),
            "space_amount": 999999999999999,
            "space_used": rng.randint(0, 5_000_000_000),
            "max_upload_size": 5368709120,
            "status": status,
            "job_title": rng.choice(TITLES),
            "phone": rng.choice(["", "6509241374", "+44 20 7946 0958"]),
            "address": "",
            "avatar_url": f"https://app.box.com/api/avatar/large/{index}",
            "notification_email": None,
            "role": "user",
            "tracking_codes": [{"type": "tracking_code", "name": "department", "value": rng.choice(DEPARTMENTS)}],
            "can_see_managed_users": True,
            "is_sync_enabled": True,
            "is_external_collab_restricted": rng.random() < 0.2,
            "is_exempt_from_device_limits": False,
            "is_exempt_from_login_verification": rng.random() < 0.1,
            "enterprise": dict(self.enterprise),
            "my_tags": [],
            "hostname": f"https://{self.name}.app.box.com/",
            "is_platform_access_only": False,
            "external_app_user_id": "",
        }

    def _make_users(self, rng: random.Random) -> None:
        docs = [self._user(rng, i) for i in range(max(1, self.users))]
        docs[0]["role"] = "admin"  # the primary admin: always active
        docs[0]["status"] = "active"
        for doc in docs[1:]:
            if rng.random() < 0.04:
                doc["role"] = "coadmin"  # some of them inactive: stale co-admins
        for i in range(self.options.app_users):
            app_user = self._user(rng, len(docs) + i)
            app_user.update(
                name=f"App User {i + 1}",
                login=f"AppUser_{rng.randint(100000, 999999)}_{sha1(self.seed, i)[:10]}@boxdevedition.com",
                is_platform_access_only=True,
                external_app_user_id=f"ext-{i + 1}",
                status="active",
                role="user",
                tracking_codes=[],
            )
            docs.append(app_user)
        self.user_docs = docs

    def _make_service_accounts(self, rng: random.Random) -> None:
        self.service_accounts = {}
        for client in self.clients:
            doc = self._user(rng, 0)
            doc.update(
                name=client.name,
                login=f"AutomationUser_{rng.randint(100000, 999999)}_{sha1(client.client_id)[:10]}@boxdevedition.com",
                role="coadmin",
                status="active",
                tracking_codes=[],
            )
            self.service_accounts[client.client_id] = doc

    def user(self, user_id: str) -> dict[str, Any] | None:
        for doc in self.user_docs:
            if doc["id"] == user_id:
                return doc
        for doc in self.service_accounts.values():
            if doc["id"] == user_id:
                return doc
        return None

    @staticmethod
    def mini(user: dict[str, Any]) -> dict[str, Any]:
        return {"type": "user", "id": user["id"], "name": user["name"], "login": user["login"]}

    # -- groups --------------------------------------------------------------------------------

    def _make_groups(self, rng: random.Random) -> None:
        count = self.options.groups if self.options.groups is not None else 3 + len(self.user_docs) // 15
        people = [u for u in self.user_docs if not u["is_platform_access_only"]]
        self.groups, self.memberships = [], []
        for i in range(count):
            created = self._when(rng, 700)
            synced = rng.random() < 0.3
            name = f"{rng.choice(DEPARTMENTS)} {i + 1}"
            group = {
                "type": "group",
                "id": self.new_id(),
                "name": name,
                "group_type": "managed_group",
                "created_at": iso(created),
                "modified_at": iso(min(self.anchor, created + timedelta(days=rng.uniform(0, 200)))),
                "provenance": "Active Directory" if synced else "",
                "external_sync_identifier": f"AD:{rng.randint(100000, 999999)}" if synced else "",
                "description": f"{name} - as imported from Active Directory" if synced else "",
                "invitability_level": rng.choice(["admins_only", "admins_and_members", "all_managed_users"]),
                "member_viewability_level": rng.choice(["admins_only", "admins_and_members", "all_managed_users"]),
                "permissions": {"can_invite_as_collaborator": True},
            }
            self.groups.append(group)
            for user in rng.sample(people, k=min(len(people), rng.randint(0, 12))):
                since = self._when(rng, 300)
                self.memberships.append(
                    {
                        "type": "group_membership",
                        "id": self.new_id(),
                        "user": self.mini(user),
                        "group": {"type": "group", "id": group["id"], "name": name, "group_type": "managed_group"},
                        "role": "admin" if rng.random() < 0.1 else "member",
                        "created_at": iso(since),
                        "modified_at": iso(since),
                    }
                )

    # -- folders, files, collaborations ------------------------------------------------------

    def _make_content(self, rng: random.Random) -> None:
        self.folders, self.files, self.collaborations = [], [], []
        owners = [u for u in self.user_docs if u["status"] != "inactive" and not u["is_platform_access_only"]]
        for owner in owners:
            if not self.options.files_per_user:
                break
            folder = self._folder(rng, owner, f"{owner['name'].split()[0]}'s projects")
            self.folders.append(folder)
            if rng.random() < 0.3:
                self._collaborate(rng, folder, owner)
            for i in range(rng.randint(0, self.options.files_per_user)):
                parent = folder if rng.random() < 0.5 else None
                file = self._file(rng, owner, parent, i)
                self.files.append(file)
                if rng.random() < 0.25:
                    self._collaborate(rng, file, owner)

    def _make_special_files(self, rng: random.Random) -> None:
        """The corpus' special documents (a zip bomb dressed as .docx, an encrypted PDF, a corrupt
        workbook, a Latin-1 CSV) as root files of ordinary users: the CSV, which holds planted values,
        with an open shared link, the encrypted PDF with a company one."""
        owners = [u for u in self.user_docs if u["status"] == "active" and not u["is_platform_access_only"]]
        if not owners or not self.options.files_per_user:
            return
        links = {"Employés - export.csv": "open", "Salaries 2024 (protected).pdf": "company"}
        for k, document in enumerate(self.contents.corpus.specials()):
            owner = owners[(k * 7 + 1) % len(owners)]
            file = self._file(rng, owner, None, k)
            file["name"] = document.name
            access = links.get(document.name)
            file["shared_link"] = self.shared_link(rng, file["id"], access) if access else None
            self.contents.special[file["id"]] = k
            self.files.append(file)

    def _folder(self, rng: random.Random, owner: dict[str, Any], name: str) -> dict[str, Any]:
        created = self._when(rng, 500)
        return {
            "type": "folder",
            "id": self.new_id(),
            "etag": "1",
            "sequence_id": "1",
            "name": name,
            "created_at": iso(created),
            "modified_at": iso(created),
            "owned_by": self.mini(owner),
            "parent": {"type": "folder", "id": "0", "etag": None, "sequence_id": None, "name": "All Files"},
            "path_collection": {"total_count": 1, "entries": [{"type": "folder", "id": "0", "name": "All Files"}]},
            "shared_link": None,
            "item_status": "active",
        }

    def _file(self, rng: random.Random, owner: dict[str, Any], parent: dict[str, Any] | None, i: int) -> dict[str, Any]:
        created = self._when(rng, 400)
        modified = min(self.anchor, created + timedelta(days=rng.uniform(0, 90)))
        name = rng.choice(FILE_NAMES)
        file_id = self.new_id()
        digest = sha1(self.seed, file_id)
        entries = [{"type": "folder", "id": "0", "name": "All Files"}]
        if parent is not None:
            entries.append({"type": "folder", "id": parent["id"], "name": parent["name"]})
        file = {
            "type": "file",
            "id": file_id,
            "etag": "1",
            "sequence_id": "1",
            "name": name,
            "sha1": digest,
            "file_version": {"type": "file_version", "id": self.new_id(), "sha1": digest},
            "size": rng.randint(0, 4_000_000),
            "created_at": iso(created),
            "modified_at": iso(modified),
            "owned_by": self.mini(owner),
            "parent": {"type": "folder", "id": entries[-1]["id"], "name": entries[-1]["name"]},
            "path_collection": {"total_count": len(entries), "entries": entries},
            "shared_link": None,
            "item_status": "active",
        }
        roll = rng.random()
        if roll < 0.35:
            file["shared_link"] = self.shared_link(rng, file_id, rng.choice(["open", "company", "collaborators"]))
        return file

    def shared_link(self, rng: random.Random, item_id: str, access: str) -> dict[str, Any]:
        token = sha1("link", self.seed, item_id)[:32]
        return {
            "url": f"https://{self.name}.app.box.com/s/{token}",
            "download_url": f"https://{self.name}.app.box.com/shared/static/{token}.bin",
            "vanity_url": None,
            "vanity_name": None,
            "access": access,
            "effective_access": access,
            "effective_permission": "can_download",
            "unshared_at": None,
            "is_password_enabled": rng.random() < 0.2,
            "permissions": {"can_download": True, "can_preview": True, "can_edit": False},
            "download_count": rng.randint(0, 40),
            "preview_count": rng.randint(0, 90),
        }

    def _collaborate(self, rng: random.Random, item: dict[str, Any], owner: dict[str, Any]) -> None:
        people = [u for u in self.user_docs if u["id"] != owner["id"] and not u["is_platform_access_only"]]
        for _ in range(rng.randint(1, 3)):
            created = self._when(rng, 200)
            kind = rng.random()
            accessible_by: dict[str, Any] | None
            invite_email = None
            status = "accepted"
            if kind < 0.55 and people:
                accessible_by = self.mini(rng.choice(people))
            elif kind < 0.7 and self.groups:
                group = rng.choice(self.groups)
                accessible_by = {
                    "type": "group",
                    "id": group["id"],
                    "name": group["name"],
                    "group_type": "managed_group",
                }
            elif kind < 0.9:  # an external Box user from a partner enterprise
                partner = rng.choice(["partner.example.org", "contractor.example.net"])
                accessible_by = {
                    "type": "user",
                    "id": self.new_id(),
                    "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    "login": f"{rng.choice(FIRST).lower()}@{partner}",
                }
            else:  # invited by email, no Box account yet: Box leaves accessible_by null
                accessible_by = None
                invite_email = f"{rng.choice(FIRST).lower()}.{rng.randint(1, 99)}@gmail.com"
                status = "pending"
            collaboration: dict[str, Any] = {
                "type": "collaboration",
                "id": self.new_id(),
                "item": {"type": item["type"], "id": item["id"], "name": item["name"]},
                "invite_email": invite_email,
                "role": rng.choice(COLLAB_ROLES),
                "expires_at": None,
                "is_access_only": False,
                "status": status,
                "created_by": self.mini(owner),
                "created_at": iso(created),
                "modified_at": iso(created),
            }
            # Neither is nullable in the Collaboration schema: an invitee without a Box account has
            # no accessible_by, a pending invitation no acknowledged_at.
            if accessible_by is not None:
                collaboration["accessible_by"] = accessible_by
            if status == "accepted":
                collaboration["acknowledged_at"] = iso(created)
            self.collaborations.append(collaboration)

    def item_collaborations(self, item_type: str, item_id: str) -> list[dict[str, Any]]:
        return [c for c in self.collaborations if c["item"]["type"] == item_type and c["item"]["id"] == item_id]

    def file(self, file_id: str) -> dict[str, Any] | None:
        return next((f for f in self.files if f["id"] == file_id), None)

    def folder(self, folder_id: str) -> dict[str, Any] | None:
        return next((f for f in self.folders if f["id"] == folder_id), None)

    # -- events --------------------------------------------------------------------------------

    def _make_events(self, rng: random.Random) -> None:
        count = self.options.events if self.options.events is not None else 8 * len(self.user_docs)
        span = self.options.history_days * 86400
        stamps = sorted(rng.uniform(0, span) for _ in range(count))
        kinds = [k for k, _, w in EVENT_KINDS for _ in range(w)]
        sources = {k: s for k, s, _ in EVENT_KINDS}
        people = [u for u in self.user_docs if u["status"] == "active"] or self.user_docs
        admins = [u for u in self.user_docs if u["role"] in ("admin", "coadmin")] or self.user_docs[:1]
        self.events = []
        for i, offset in enumerate(stamps):
            when = self.anchor - timedelta(seconds=span - offset)
            kind = rng.choice(kinds)
            self.events.append(self._event(rng, i, when, kind, sources[kind], people, admins))

    def _event(
        self,
        rng: random.Random,
        index: int,
        when: datetime,
        kind: str,
        source_kind: str,
        people: list[dict[str, Any]],
        admins: list[dict[str, Any]],
    ) -> dict[str, Any]:
        actor = rng.choice(admins if kind in ("ADMIN_LOGIN", "EDIT_USER", "CHANGE_ADMIN_ROLE", "NEW_USER") else people)
        created_by = self.mini(actor)
        source: dict[str, Any] | None
        details: dict[str, Any] | None = None
        if source_kind == "user":
            subject = actor if kind in ("LOGIN", "FAILED_LOGIN", "ADMIN_LOGIN") else rng.choice(people)
            source = {"type": "user", "id": subject["id"], "name": subject["name"], "login": subject["login"]}
        elif source_kind == "group" and self.groups:
            group = rng.choice(self.groups)
            source = {"type": "group", "id": group["id"], "name": group["name"], "group_type": "managed_group"}
        elif self.files:
            file = rng.choice(self.files)
            source = {
                "item_type": "file",
                "item_id": file["id"],
                "item_name": file["name"],
                "parent": {"type": "folder", "id": file["parent"]["id"], "name": file["parent"]["name"]},
                "owned_by": file["owned_by"],
            }
            if kind in ("DOWNLOAD", "PREVIEW") and file["shared_link"] and rng.random() < 0.3:
                created_by = dict(UNKNOWN_USER)  # an anonymous visitor through an open shared link
            if kind == "SHARE":
                details = {"shared_link_id": sha1("link", self.seed, file["id"])[:32]}
        else:
            source = None
        if kind == "FAILED_LOGIN":
            details = {"failure_reason": rng.choice(["Invalid password", "Two factor verification failed"])}
        ip = (
            "Unknown IP"
            if rng.random() < 0.05
            else f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        )
        event = {
            "type": "event",
            "event_id": event_uuid("event", self.name, self.seed, index),
            "created_by": created_by,
            "created_at": iso(when),
            "recorded_at": iso(when + timedelta(seconds=rng.randint(0, 90))),
            "event_type": kind,
            "source": source,
            "ip_address": ip,
        }
        # Box leaves out what an event lacks ("Not all events have an additional_details object";
        # neither it nor session_id is nullable in the Event schema).
        if details is not None:
            event["additional_details"] = details
        return event

    def append_event(self, kind: str, actor: dict[str, Any], source: dict[str, Any], when: datetime) -> dict[str, Any]:
        """An event a write through the API causes (EDIT_USER, ITEM_SHARED_UPDATE), at the log's end."""
        index = len(self.events)
        event = {
            "type": "event",
            "event_id": event_uuid("event", self.name, self.seed, index, "live"),
            "created_by": self.mini(actor),
            "created_at": iso(when),
            "recorded_at": iso(when),
            "event_type": kind,
            "source": source,
            "ip_address": "Unknown IP",
        }
        self.events.append(event)
        return event
