"""Change tracking for the Microsoft 365 sandbox: a directory that changes over time (``advance``)
and Graph's delta query on users.

Facts relied on (Microsoft Graph documentation):

* ``GET /users/delta``: the first round returns every user that exists, page by page with
  ``@odata.nextLink`` (a ``$skiptoken``), and the last page carries ``@odata.deltaLink`` (a
  ``$deltatoken``) instead; a page never has both. Calling the deltaLink returns what changed since
  that round, again paged, ending with a new deltaLink. Query parameters such as ``$select`` are
  given on the first request only and are encoded in the tokens:
  https://learn.microsoft.com/graph/delta-query-overview ,
  https://learn.microsoft.com/graph/delta-query-users ,
  api-reference/v1.0/api/user-delta.md (microsoftgraph/microsoft-graph-docs-contrib).
* A changed user is returned with the selected properties (new value if changed, the old one
  otherwise); a property never set is not included at all (user-delta.md, "Default: return the same
  properties as initial delta request").
* A deleted user comes back as ``{"id": ..., "@removed": {"reason": "changed"}}`` when it was
  soft-deleted (restorable for 30 days) and ``"reason": "deleted"`` once permanently deleted
  (delta-query-users, "Track changes to users").
* "Sync from now": Entra ID resources accept ``$deltatoken=latest``, answered with an empty value
  and a deltaLink, skipping the full enumeration (delta-query-overview, note under the call pattern).
* A deleted user leaves every group it was a member of.

Sandbox choices: delta pages hold 100 users (Graph chooses its page size, the request cannot);
tokens are opaque base64 of a signed position in the tenant's change sequence and do not expire
(Graph's do, after some days: a 410 then asks for a full resync); a change made while a round is
being paged is reported by the next round. ``advance`` changes users (jobTitle, department,
accountEnabled), creates users (ids after every existing id, so directory order stays id order) and
soft-deletes users who hold no directory role and own no drive.
"""

from __future__ import annotations

import hashlib
import random
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from saaslens_sandbox.kit.paging import b64url, unb64url

if TYPE_CHECKING:
    from saaslens_sandbox.microsoft365.tenant import Microsoft365Tenant

DELTA_PAGE = 100
_TITLES = ("Analyst", "Engineer", "Manager", "Director", "Consultant", "Specialist")
_DEPARTMENTS = ("Finance", "Engineering", "Sales", "Legal", "Operations", "Marketing")


class DirectoryChange(BaseModel):
    """The body of ``POST /_admin/tenants/microsoft365/{tenant}/advance``; every count defaults to 0."""

    model_config = ConfigDict(extra="forbid")

    changed_users: int = Field(default=0, ge=0)
    """Users whose jobTitle and department change; every third is also disabled or re-enabled."""
    new_users: int = Field(default=0, ge=0)
    """New member users, enabled."""
    deleted_users: int = Field(default=0, ge=0)
    """Users soft-deleted (gone from /users and their groups; delta reports @removed reason changed)."""


class DeltaTokenError(ValueError):
    """A $deltatoken or $skiptoken the sandbox did not issue."""


class DirectoryChanges:
    """Which user changed at which point of the tenant's change sequence."""

    def __init__(self, tenant: Microsoft365Tenant, salt: str) -> None:
        self.tenant = tenant
        self.salt = salt
        self.sequence = 0
        self.advances = 0
        self.version = [0] * len(tenant.users)  # sequence number of each user's last change
        self.deleted: dict[int, int] = {}  # user position -> sequence number of its deletion

    # ---------------------------------------------------------------- views

    def live_positions(self) -> list[int]:
        return [i for i in range(len(self.tenant.users)) if i not in self.deleted]

    def changed_since(self, since: int, upto: int) -> list[int]:
        """Positions of users created, changed or deleted in (since, upto], in id order."""
        changed = [i for i, v in enumerate(self.version) if since < v <= upto and i not in self.deleted]
        changed += [i for i, seq in self.deleted.items() if since < seq <= upto]
        return sorted(changed, key=lambda i: self.tenant.users[i]["id"])

    # ---------------------------------------------------------------- tokens

    def encode(self, state: dict[str, Any]) -> str:
        body = orjson.dumps(state, option=orjson.OPT_SORT_KEYS)
        mac = hashlib.blake2b(body, key=self.salt.encode()[:64], digest_size=8).hexdigest()
        return b64url(body + b"." + mac.encode())

    def decode(self, token: str) -> dict[str, Any]:
        try:
            raw = unb64url(token)
            body, mac = raw.rsplit(b".", 1)
            expected = hashlib.blake2b(body, key=self.salt.encode()[:64], digest_size=8).hexdigest()
            if mac.decode() != expected:
                raise ValueError("signature")
            return orjson.loads(body)
        except (ValueError, orjson.JSONDecodeError):
            raise DeltaTokenError(token) from None

    # ---------------------------------------------------------------- advance

    def advance(self, change: DirectoryChange) -> dict[str, Any]:
        self.advances += 1
        rng = random.Random(f"m365-advance:{self.salt}:{self.advances}")
        t = self.tenant
        self.sequence += 1
        seq = self.sequence
        live = self.live_positions()
        changed = rng.sample(live, min(change.changed_users, len(live)))
        for k, i in enumerate(changed):
            doc = dict(t.users[i])
            doc["jobTitle"] = rng.choice(_TITLES)
            doc["department"] = rng.choice(_DEPARTMENTS)
            if k % 3 == 2 and i != t.admin_index:
                doc["accountEnabled"] = not doc["accountEnabled"]
            t.users[i] = doc
            self.version[i] = seq
        created = [self._new_user(rng, seq) for _ in range(change.new_users)]
        protected = set(t.admin_user_indexes) | set(t.user_drive) | {t.admin_index}
        protected |= {idx for members in t.role_members for kind, idx in members if kind == "user"}
        deletable = [i for i in self.live_positions() if i not in protected and i not in changed]
        deleted = rng.sample(deletable, min(change.deleted_users, len(deletable)))
        for i in deleted:
            self.deleted[i] = seq
        return {
            "changed_users": [t.users[i]["id"] for i in changed],
            "new_users": created,
            "deleted_users": [t.users[i]["id"] for i in deleted],
        }

    def _new_user(self, rng: random.Random, seq: int) -> str:
        t = self.tenant
        number = len(t.users)
        # After every generated id, so the id-ordered directory listing only grows at its end.
        digest = hashlib.blake2b(f"{self.salt}:new:{number}".encode(), digest_size=16).hexdigest()
        user_id = f"ffffffff-{number:04x}-4{digest[:3]}-a{digest[3:6]}-{digest[6:18]}"
        template = t.users[t.members[rng.randrange(len(t.members))]] if t.members else t.users[0]
        login = f"new.user{number}@{t.domain}"
        doc: dict[str, Any] = {key: None for key in template}
        doc.update(
            {
                "id": user_id,
                "businessPhones": [],
                "displayName": f"New User {number}",
                "givenName": "New",
                "surname": f"User {number}",
                "jobTitle": rng.choice(_TITLES),
                "mail": login,
                "userPrincipalName": login,
                "accountEnabled": True,
                "userType": "Member",
                "createdDateTime": _now_iso(),
                "department": rng.choice(_DEPARTMENTS),
            }
        )
        t.users.append(doc)
        t.user_ids.append(user_id)
        self.version.append(seq)
        return user_id


def _now_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
