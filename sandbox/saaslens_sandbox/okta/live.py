"""A "live" Okta tenant: :func:`advance` moves a generated tenant forward in time.

Each call applies one :class:`AdvanceChange` at "now" (the wall clock, or the ``now`` the caller
gives): new System Log events, profile changes, new, deactivated and deleted users, group
membership changes, and events that arrive late. Everything is drawn from a random stream seeded
by the tenant seed and the number of the call, so the same seed and call sequence give the same
ids, kinds, actors and (for the same ``now`` values) the same timestamps.

What each change looks like follows Okta's documentation:

* Users: ``lastUpdated`` moves when the profile or status changes; deactivation sets the status to
  DEPROVISIONED (``statusChanged``); a deleted user is gone from ``GET /api/v1/users`` and every
  group, and only a DEPROVISIONED user can be deleted (deleting another one deactivates it first):
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/ (deleteUser:
  "Deletes a user permanently. This operation can only be performed on users that have a
  DEPROVISIONED status.")
* System Log event types ``user.lifecycle.create``/``activate``/``deactivate``,
  ``user.lifecycle.delete.initiated``/``completed``, ``user.account.update_profile``,
  ``group.user_membership.add``/``remove``: https://developer.okta.com/docs/reference/api/event-types/
* Users are created in the built-in Everyone group:
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/
* Security settings (``settings_changes``): a policy, policy rule, authenticator or network zone
  changes, ``lastUpdated`` moves, and the System Log gets the admin event Okta writes for it
  (policy.lifecycle.update / activate / deactivate, policy.rule.update / activate / deactivate with
  the Policy and the PolicyRule as targets, security.authenticator.lifecycle.activate / deactivate,
  zone.update / activate / deactivate): https://developer.okta.com/docs/reference/api/event-types/
  and https://help.okta.com/wf/en-us/content/topics/Workflows/connector-reference/okta/events/policyruleupdated.htm
  (see :mod:`saaslens_sandbox.okta.settings`).
* System Log events are not always queryable at once ("events may take some time to become
  available"): https://developer.okta.com/docs/reference/system-log-query/ - emulated with a
  per-event ``visible_at`` that ``/api/v1/logs`` filters on.

Sandbox choices (documented in docs/sandbox.md): new user ids sort after every existing id so the
id-ordered listing stays cheap; a new event never shares a millisecond with an older event (an
``after`` cursor handed out earlier keeps addressing the same position); users holding admin roles
or consent grants are not deleted; sign-ins move ``lastLogin`` but not ``lastUpdated``.
"""

from __future__ import annotations

import bisect
from array import array
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from saaslens_sandbox.okta import settings as okta_settings
from saaslens_sandbox.okta.generator import (
    _ALNUM,
    _RANDOM_SCENARIOS,
    DEPARTMENTS,
    FIRST_NAMES,
    GU_SHIFT,
    HOSTILE_FIRST,
    HOSTILE_LAST,
    K_ACTIVATE,
    K_CREATE,
    K_DEACTIVATE,
    K_DELETE_COMPLETED,
    K_DELETE_INITIATED,
    K_GROUP_ADD,
    K_GROUP_REMOVE,
    K_LOGIN,
    K_LOGIN_UNKNOWN,
    K_POLICY,
    K_PRIV,
    K_PRIV_REVOKE,
    K_SETTING_AUTHENTICATOR_ACTIVATE,
    K_SETTING_AUTHENTICATOR_DEACTIVATE,
    K_SETTING_POLICY_ACTIVATE,
    K_SETTING_POLICY_DEACTIVATE,
    K_SETTING_POLICY_UPDATE,
    K_SETTING_RULE_ACTIVATE,
    K_SETTING_RULE_DEACTIVATE,
    K_SETTING_RULE_UPDATE,
    K_SETTING_ZONE_ACTIVATE,
    K_SETTING_ZONE_DEACTIVATE,
    K_SETTING_ZONE_UPDATE,
    K_SSO,
    K_SSO_DENY,
    K_UPDATE_PROFILE,
    KINDS,
    LAST_NAMES,
    LOCATIONS,
    TITLES,
    UNKNOWN_USERNAMES,
    USER_AGENTS,
    FastRandom,
    UserRec,
    _ascii,
    iso,
)

if TYPE_CHECKING:
    from saaslens_sandbox.okta.generator import OktaTenant

# Background traffic for `events`: the generator's random scenarios without membership events,
# which only come with real membership changes here.
_BACKGROUND: tuple[tuple[float, tuple[int, ...]], ...] = tuple(
    (weight, kinds) for weight, kinds in _RANDOM_SCENARIOS if not {K_GROUP_ADD, K_GROUP_REMOVE} & set(kinds)
)
_ADMIN_GROUPS = ("Okta Administrators", "Help Desk")  # hold GROUP role assignments: left alone


class SettingChange(BaseModel):
    """One change of the org's security configuration, as an admin makes it in the Admin Console."""

    model_config = ConfigDict(extra="forbid")

    object: Literal["policy", "policy_rule", "authenticator", "network_zone"]
    name: str
    """The policy's name, the authenticator's key, or the zone's name."""
    policy_type: str | None = None
    """For a policy or a policy rule: the policy's type, when names repeat across types."""
    rule: str | None = None
    """For a policy rule: the rule's name."""
    path: str
    """The dotted path of the value in the object, e.g. ``settings.password.complexity.minLength``,
    ``actions.signon.session.maxSessionIdleMinutes`` or ``status``."""
    value: Any
    actor: str | None = None
    """The admin's login (default: a super admin of the tenant)."""


class AdvanceChange(BaseModel):
    """The body of ``POST /_sandbox/okta/{tenant}/advance``; every count defaults to 0."""

    model_config = ConfigDict(extra="forbid")

    events: int = Field(default=0, ge=0, le=10_000_000)
    """New System Log events (sign-ins, SSO, failures...), ``published`` spread over (last advance, now]."""
    changed_users: int = Field(default=0, ge=0)
    """Users whose profile changes (title, department or mobile phone): lastUpdated = now."""
    new_users: int = Field(default=0, ge=0)
    """New ACTIVE users (create + activate events), in Everyone and their department's group."""
    deactivated_users: int = Field(default=0, ge=0)
    """Users deactivated (status DEPROVISIONED)."""
    deleted_users: int = Field(default=0, ge=0)
    """Users deleted: gone from /api/v1/users and their groups (delete.initiated/completed events)."""
    membership_changes: int = Field(default=0, ge=0)
    """Group membership adds or removes in OKTA_GROUP groups."""
    late_events: int = Field(default=0, ge=0, le=1_000_000)
    """Events published ``late_seconds`` (to 0.1 s more) before now, visible from now + visible_after_seconds."""
    late_seconds: float = Field(default=0.0, ge=0.0, le=90 * 86_400)
    visible_after_seconds: float = Field(default=0.0, ge=0.0, le=7 * 86_400)
    admins_granted: list[str] = Field(default_factory=list)
    """Logins (emails) of users given the ORG_ADMIN role, assigned directly (user.account.privilege.grant)."""
    admins_revoked: list[str] = Field(default_factory=list)
    """Logins of users whose directly assigned admin roles are removed (user.account.privilege.revoke)."""
    settings_changes: list[SettingChange] = Field(default_factory=list)
    """Security configuration changes, each with its System Log admin event."""
    now: datetime | None = None
    """"Now" for this change (default: the wall clock); not before the previous advance, not in the future."""

    @field_validator("now")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class _Rows:
    """New System Log rows collected during one advance: (published ms, kind, actor, target, visible_at ms)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, int, int, int]] = []

    def add(self, ts: int, kinds: tuple[int, ...], actor: int, target: int, visible_at: int) -> None:
        for kind in kinds:
            self.rows.append((ts, kind, actor, target, visible_at))


class Advancer:
    """Applies one :class:`AdvanceChange` to a tenant. Use :func:`advance`."""

    def __init__(self, t: OktaTenant, change: AdvanceChange, now_ms: int, wall_ms: int):
        self.t = t
        self.change = change
        self.now = now_ms
        self.wall = wall_ms
        self.since = t.live_since_ms
        self.rng = FastRandom(f"okta-advance:{t.seed}:{t.advance_count}")
        self.rows = _Rows()
        self.touched_users: set[int] = set()
        self.touched_groups: set[int] = set()
        self.summary: dict[str, Any] = {}

    # ---------------------------------------------------------------- helpers

    def _spread_ms(self) -> int:
        """A time in (last advance, now]."""
        return self.since + 1 + self.rng.fr(max(1, self.now - self.since))

    def _free_ms(self, ts: int, lo: int, hi: int) -> int:
        """``ts``, or the nearest millisecond in [lo, hi] no older event uses (see module doc).

        Events of this call may share a millisecond with each other: they are inserted together.
        (last advance, now] never holds an older event, so only late events ever move."""
        ev = self.t.ev_ts
        for step in range(0, 10_000):
            for cand in (ts + step, ts - step):
                if lo <= cand <= hi:
                    k = bisect.bisect_left(ev, cand)
                    if k == len(ev) or ev[k] != cand:
                        return cand
        raise ValueError(f"no free millisecond near {iso(ts)}: the System Log is too dense there")

    def _event(self, kinds: tuple[int, ...], actor: int, target: int, ts: int | None = None) -> int:
        ts = self._free_ms(ts if ts is not None else self._spread_ms(), self.since + 1, self.now)
        self.rows.add(ts, kinds, actor, target, max(ts, self.wall))
        return ts

    def _admin(self) -> int:
        admins = self.t.active_admins
        return self.rng.pick(admins) if admins else -1

    def _live(self, ui: int) -> bool:
        return ui not in self.t.deleted

    def _pick(self, pool: list[int], k: int, what: str) -> list[int]:
        if k > len(pool):
            raise ValueError(f"{what}: asked for {k}, but only {len(pool)} users qualify")
        return self.rng.sample(pool, k)

    # ---------------------------------------------------------------- changes

    def new_users(self) -> None:
        t = self.t
        ids: list[str] = []
        everyone = 0
        by_name = {g["name"]: gi for gi, g in enumerate(t.gdefs) if g["kind"] == "OKTA_GROUP"}
        logins = set(t.login_index)
        last_id = t.user_ids[-1] if t.user_ids else "00u"
        for _ in range(self.change.new_users):
            u = UserRec()
            last_id = _id_after(last_id, self.rng)
            u.id = last_id
            t._ids.seen.add(u.id)
            hostile = self.rng.random() < t.options.hostile_share
            u.first = self.rng.pick(HOSTILE_FIRST if hostile else FIRST_NAMES)
            u.last = self.rng.pick(HOSTILE_LAST if hostile else LAST_NAMES)
            base = f"{_ascii(u.first) or 'user'}.{_ascii(u.last)[:40] or 'x'}"
            login, k = f"{base}@{t.domain}", 2
            while login.lower() in logins:
                login, k = f"{base}{k}@{t.domain}", k + 1
            logins.add(login.lower())
            u.login = u.email = login
            u.display = f"{u.first} {u.last}"
            u.status = "ACTIVE"
            u.department = self.rng.pick(DEPARTMENTS)
            u.title = self.rng.pick(TITLES)
            u.employee_number = f"{100000 + len(t.urecs)}"
            u.mobile = None
            u.home = self.rng.fr(len(LOCATIONS))
            u.ua = self.rng.fr(len(USER_AGENTS))
            u.federated = False
            u.recovery_q = False
            ui = len(t.urecs)
            t.urecs.append(u)
            t.user_ids.append(u.id)
            t.user_index[u.id] = ui
            t.login_index[login.lower()] = ui
            t.users.append({})
            t.user_status.append("ACTIVE")
            t.user_groups.append([])
            t.user_roles.append([])
            t.user_grants.append([])
            created = self._event((K_CREATE,), self._admin(), ui)
            activated = self._event((K_ACTIVATE,), self._admin(), ui, ts=min(self.now, created + 1))
            u.created, u.activated, u.status_changed = created, activated, activated
            u.password_changed, u.last_login, u.last_updated = activated, None, self.now
            self._add_member(everyone, ui, event=False)
            gi = by_name.get(u.department)
            if gi is not None:
                self._add_member(gi, ui, event=True)
            self.touched_users.add(ui)
            ids.append(u.id)
        self.summary["new_users"] = ids

    def changed_users(self) -> None:
        t = self.t
        pool = [
            ui
            for ui, u in enumerate(t.urecs)
            if self._live(ui) and u.owner_of is None and u.status != "DEPROVISIONED" and ui not in self.touched_users
        ]
        ids: list[str] = []
        for ui in sorted(self._pick(pool, self.change.changed_users, "changed_users")):
            u = t.urecs[ui]
            what = self.rng.fr(3)
            if what == 0:
                u.title = self.rng.pick([x for x in TITLES if x != u.title])
            elif what == 1:
                u.department = self.rng.pick([d for d in DEPARTMENTS if d != u.department])
            else:
                u.mobile = f"+1 555 {self.rng.fr(1000000):07d}"
            u.last_updated = self.now
            self._event((K_UPDATE_PROFILE,), self._admin(), ui)
            self.touched_users.add(ui)
            ids.append(u.id)
        self.summary["changed_users"] = ids

    def deactivated_users(self) -> None:
        t = self.t
        pool = [
            ui
            for ui, u in enumerate(t.urecs)
            if self._live(ui) and u.owner_of is None and u.status != "DEPROVISIONED" and ui not in self.touched_users
        ]
        ids: list[str] = []
        for ui in sorted(self._pick(pool, self.change.deactivated_users, "deactivated_users")):
            self._deactivate(ui)
            ids.append(t.urecs[ui].id)
        self.summary["deactivated_users"] = ids

    def _deactivate(self, ui: int) -> int:
        u = self.t.urecs[ui]
        ts = self._event((K_DEACTIVATE,), self._admin(), ui)
        u.status = "DEPROVISIONED"
        u.status_changed = u.last_updated = self.now
        self.t.user_status[ui] = "DEPROVISIONED"
        self.touched_users.add(ui)
        return ts

    def deleted_users(self) -> None:
        t = self.t
        pool = [
            ui
            for ui, u in enumerate(t.urecs)
            if self._live(ui)
            and u.owner_of is None
            and not t.user_roles[ui]
            and not t.user_grants[ui]
            and ui not in self.touched_users
        ]
        ids: list[str] = []
        for ui in sorted(self._pick(pool, self.change.deleted_users, "deleted_users")):
            u = t.urecs[ui]
            ts = None
            if u.status != "DEPROVISIONED":  # Okta deactivates first, then deletes
                ts = self._deactivate(ui)
            actor = self._admin()
            ts = self._event((K_DELETE_INITIATED, K_DELETE_COMPLETED), actor, ui, ts=None if ts is None else ts + 1)
            for gi in list(t.user_groups[ui]):
                self._remove_member(gi, ui, event=False)
            t.deleted.add(ui)
            t.user_index.pop(u.id, None)
            t.login_index.pop(u.login.lower(), None)
            self.touched_users.discard(ui)
            ids.append(u.id)
        self.summary["deleted_users"] = ids

    def membership_changes(self) -> None:
        t = self.t
        groups = [
            gi
            for gi in t.okta_group_idx
            if t.gdefs[gi]["name"] not in _ADMIN_GROUPS and gi not in (0,)  # Everyone is implicit
        ]
        users = [ui for ui, u in enumerate(t.urecs) if self._live(ui) and u.status != "DEPROVISIONED"]
        changes: list[dict[str, str]] = []
        if self.change.membership_changes and (not groups or not users):
            raise ValueError("membership_changes: the tenant has no OKTA_GROUP group or no active user to change")
        for _ in range(self.change.membership_changes):
            gi = self.rng.pick(groups)
            members = t.members[gi]
            remove = bool(members) and (self.rng.random() < 0.5 or len(members) >= len(users))
            if remove:
                ui = self.rng.pick(members)
                self._remove_member(gi, ui, event=True)
            else:
                current = set(members)
                ui = self.rng.pick(users)
                while ui in current:
                    ui = self.rng.pick(users)
                self._add_member(gi, ui, event=True)
            change = "remove" if remove else "add"
            changes.append({"group_id": t.group_ids[gi], "user_id": t.user_ids[ui], "change": change})
        self.summary["membership_changes"] = changes

    def _add_member(self, gi: int, ui: int, event: bool) -> None:
        t = self.t
        bisect.insort(t.members[gi], ui)
        t.user_groups[ui].append(gi)
        t.group_last_membership[gi] = self.now
        self.touched_groups.add(gi)
        if event:
            self._event((K_GROUP_ADD,), self._admin(), gi * GU_SHIFT + ui)

    def _remove_member(self, gi: int, ui: int, event: bool) -> None:
        t = self.t
        members = t.members[gi]
        members.pop(bisect.bisect_left(members, ui))
        t.user_groups[ui].remove(gi)
        t.group_last_membership[gi] = self.now
        self.touched_groups.add(gi)
        if event:
            self._event((K_GROUP_REMOVE,), self._admin(), gi * GU_SHIFT + ui)

    def _background(self, count: int, make_ts: Any, visible_at: Any) -> None:
        """``count`` ordinary events (sign-ins, SSO, failures) by live users."""
        t = self.t
        active = [ui for ui, u in enumerate(t.urecs) if self._live(ui) and u.status == "ACTIVE"]
        if count and not active:
            raise ValueError("events: the tenant has no ACTIVE user to act")
        weights = [w for w, _ in _BACKGROUND]
        left = count
        while left > 0:
            kinds = self.rng.choices([k for _, k in _BACKGROUND], weights=weights)[0][:left]
            first = kinds[0]
            target = 0
            actor = self.rng.pick(active)
            if first in (K_SSO, K_SSO_DENY):
                target = self.rng.pick(t.sso_apps)
            elif first == K_LOGIN_UNKNOWN:
                actor, target = -1, self.rng.fr(len(UNKNOWN_USERNAMES))
            elif first == K_POLICY:
                actor, target = self._admin(), self.rng.fr(len(t.policies))
            ts = make_ts()
            self.rows.add(ts, kinds, actor, target, visible_at(ts))
            left -= len(kinds)

    def events(self) -> None:
        lo, hi = self.since + 1, self.now
        self._background(
            self.change.events, lambda: self._free_ms(self._spread_ms(), lo, hi), lambda ts: max(ts, self.wall)
        )

    def late_events(self) -> None:
        c = self.change
        newest = self.now - round(c.late_seconds * 1000)
        visible = max(self.wall, self.now) + round(c.visible_after_seconds * 1000)
        lo = newest - 99  # a tenth of a second of spread: lateness is late_seconds + [0, 0.1) s
        self._background(
            c.late_events, lambda: self._free_ms(lo + self.rng.fr(newest - lo + 1), lo, newest), lambda ts: visible
        )

    def _user_by_login(self, login: str, what: str) -> int:
        ui = self.t.login_index.get(login.lower())
        if ui is None or not self._live(ui):
            raise ValueError(f"{what}: no user with login {login!r} in tenant {self.t.name!r}")
        return ui

    def admin_changes(self) -> None:
        """Grant ORG_ADMIN to ``admins_granted`` and remove the direct role assignments of
        ``admins_revoked``, each with its System Log event, so the next scan sees the change
        (Okta's role assignment API: https://developer.okta.com/docs/api/openapi/okta-management/
        management/tag/RoleAssignmentAUser/). A revoked assignment stays in ``t.roles`` (old
        events still name it) but leaves the user's roles and the admin listings."""
        t = self.t
        granted: list[str] = []
        revoked: list[str] = []
        for login in self.change.admins_granted:
            ui = self._user_by_login(login, "admins_granted")
            ri = len(t.roles)
            ts = self._event((K_PRIV,), self._admin(), ri)
            t.roles.append(
                {"id": _role_id(self.rng), "type": "ORG_ADMIN", "assignmentType": "USER", "who": ui, "created": ts}
            )
            t.user_roles[ui].append(ri)
            granted.append(t.urecs[ui].id)
        for login in self.change.admins_revoked:
            ui = self._user_by_login(login, "admins_revoked")
            direct = [ri for ri in t.user_roles[ui] if t.roles[ri]["assignmentType"] == "USER"]
            if not direct:
                raise ValueError(f"admins_revoked: {login!r} holds no directly assigned admin role")
            for ri in direct:
                self._event((K_PRIV_REVOKE,), self._admin(), ri)
            t.user_roles[ui] = [ri for ri in t.user_roles[ui] if ri not in direct]
            revoked.append(t.urecs[ui].id)
        t.role_holders = [ui for ui, roles in enumerate(t.user_roles) if roles and ui not in t.deleted]
        self.summary["admins_granted"] = granted
        self.summary["admins_revoked"] = revoked

    def settings_changes(self) -> None:
        """Apply each :class:`SettingChange` and write the event Okta logs for it (module doc)."""
        t = self.t
        settings = t.settings
        done: list[dict[str, Any]] = []
        for change in self.change.settings_changes:
            actor = (
                self._user_by_login(change.actor, "settings_changes")
                if change.actor
                else (self.rng.pick(t.super_admins) if t.super_admins else self._admin())
            )
            status = change.path == "status"
            if status and change.value not in ("ACTIVE", "INACTIVE"):
                raise ValueError("settings_changes: status is ACTIVE or INACTIVE")
            if change.object in ("policy", "policy_rule"):
                policy = settings.policy_named(change.name, change.policy_type)
                policy_target = {
                    "id": policy["id"],
                    "type": "PolicyEntity",
                    "alternateId": "unknown",
                    "displayName": policy["name"],
                    "detailEntry": {"policyType": policy["type"]},
                }
                if change.object == "policy":
                    obj, targets, uri = policy, [policy_target], f"/api/v1/policies/{policy['id']}"
                    kind = K_SETTING_POLICY_UPDATE
                    if status:
                        kind = K_SETTING_POLICY_ACTIVATE if change.value == "ACTIVE" else K_SETTING_POLICY_DEACTIVATE
                else:
                    if not change.rule:
                        raise ValueError("settings_changes: a policy_rule change names its rule")
                    obj = settings.rule_named(policy, change.rule)
                    rule_target = {
                        "id": obj["id"],
                        "type": "PolicyRule",
                        "alternateId": "unknown",
                        "displayName": obj["name"],
                        "detailEntry": {"policyRuleFactorMode": None},
                    }
                    targets, uri = [policy_target, rule_target], f"/api/v1/policies/{policy['id']}/rules/{obj['id']}"
                    kind = K_SETTING_RULE_UPDATE
                    if status:
                        kind = K_SETTING_RULE_ACTIVATE if change.value == "ACTIVE" else K_SETTING_RULE_DEACTIVATE
            elif change.object == "authenticator":
                if not status:
                    raise ValueError("settings_changes: an authenticator change sets its status")
                obj = settings.authenticator(change.name)
                targets = [
                    {
                        "id": obj["id"],
                        "type": "Authenticator",
                        "alternateId": obj["key"],
                        "displayName": obj["name"],
                        "detailEntry": None,
                    }
                ]
                action = "activate" if change.value == "ACTIVE" else "deactivate"
                uri = f"/api/v1/authenticators/{obj['id']}/lifecycle/{action}"
                kind = K_SETTING_AUTHENTICATOR_ACTIVATE if action == "activate" else K_SETTING_AUTHENTICATOR_DEACTIVATE
            else:
                obj = settings.zone_named(change.name)
                targets = [
                    {"id": obj["id"], "type": "Zone", "alternateId": "unknown", "displayName": obj["name"],
                     "detailEntry": None}
                ]  # fmt: skip
                uri = f"/api/v1/zones/{obj['id']}"
                kind = K_SETTING_ZONE_UPDATE
                if status:
                    kind = K_SETTING_ZONE_ACTIVATE if change.value == "ACTIVE" else K_SETTING_ZONE_DEACTIVATE
                    uri += "/lifecycle/" + ("activate" if change.value == "ACTIVE" else "deactivate")
            previous = okta_settings.set_path(obj, change.path, change.value)
            obj["lastUpdated"] = iso(self.now)
            t.setting_targets.append((uri, targets))
            ts = self._event((kind,), actor, len(t.setting_targets) - 1, ts=self.now)
            done.append(
                {
                    "object": change.object,
                    "id": obj["id"],
                    "path": change.path,
                    "previous": previous,
                    "value": change.value,
                    "event_type": KINDS[kind].event_type,
                    "published": iso(ts),
                    "actor": t.urecs[actor].login if actor >= 0 else None,
                }
            )
        self.summary["settings_changes"] = done

    # ---------------------------------------------------------------- apply

    def run(self) -> dict[str, Any]:
        c = self.change
        if c.new_users:
            self.new_users()
        if c.changed_users:
            self.changed_users()
        if c.deactivated_users:
            self.deactivated_users()
        if c.deleted_users:
            self.deleted_users()
        if c.membership_changes:
            self.membership_changes()
        if c.admins_granted or c.admins_revoked:
            self.admin_changes()
        if c.settings_changes:
            self.settings_changes()
        self.events()
        late_first = len(self.rows.rows)
        self.late_events()
        late_seqs = self._merge(late_first)
        self._refresh_documents()
        return self._summary(late_seqs)

    def _merge(self, late_first: int) -> set[int]:
        """Insert the new rows into the tenant's sorted event arrays; returns the late rows' seqs."""
        t = self.t
        seq0 = t.next_seq
        rows = [(*row, seq0 + k) for k, row in enumerate(self.rows.rows)]
        late = {seq0 + k for k in range(late_first, len(rows))}
        t.next_seq += len(rows)
        rows.sort(key=lambda r: (r[0], r[5]))
        cols = (t.ev_ts, t.ev_kind, t.ev_actor, t.ev_target, t.ev_seq)
        fields = (0, 1, 2, 3, 5)
        if not rows:
            return late
        positions: dict[int, int] = {}
        if not len(t.ev_ts) or rows[0][0] > t.ev_ts[-1]:
            base = len(t.ev_ts)
            for col, f in zip(cols, fields, strict=True):
                col.extend(r[f] for r in rows)
            positions = {r[5]: base + k for k, r in enumerate(rows)}
        else:  # some rows lie inside the log (late events): one linear merge of slices
            merged = [array(col.typecode) for col in cols]
            prev = 0
            for r in rows:
                pos = bisect.bisect_right(t.ev_ts, r[0])
                for m, col, f in zip(merged, cols, fields, strict=True):
                    if pos > prev:
                        m.extend(col[prev:pos])
                    m.append(r[f])
                positions[r[5]] = len(merged[0]) - 1
                prev = max(prev, pos)
            for m, col in zip(merged, cols, strict=True):
                m.extend(col[prev:])
            t.ev_ts, t.ev_kind, t.ev_actor, t.ev_target, t.ev_seq = merged
        for r in rows:
            t.ev_added[r[5]] = r[4]
            if r[4] > self.wall:
                t.ev_pending[r[5]] = (r[0], r[4])
        for r in rows:
            if r[1] == K_LOGIN and r[2] >= 0:
                u = t.urecs[r[2]]
                second = r[0] - r[0] % 1000
                if u.last_login is None or second > u.last_login:
                    u.last_login = second
                    self.touched_users.add(r[2])
        t._uuid_cache = (-1, -1, [])
        self._new_seqs = [r[5] for r in rows]
        self._uuids = {seq: t.uuid_at(pos) for seq, pos in positions.items()}
        return late

    def _refresh_documents(self) -> None:
        t = self.t
        for ui in self.touched_users:
            if ui not in t.deleted:
                t.users[ui] = t.user_doc(t.urecs[ui])
        for gi in self.touched_groups:
            doc = dict(t.groups[gi])
            doc["lastMembershipUpdated"] = iso(t.group_last_membership[gi])
            t.groups[gi] = doc
        t.active_admins = [ui for ui in t.role_holders if t.urecs[ui].status == "ACTIVE" and ui not in t.deleted]

    def _summary(self, late_seqs: set[int]) -> dict[str, Any]:
        t = self.t
        uuids = getattr(self, "_uuids", {})
        self._new_seqs = getattr(self, "_new_seqs", [])
        summary = {
            "advance": t.advance_count + 1,
            "since": iso(self.since),
            "now": iso(self.now),
            "new_users": [],
            "changed_users": [],
            "deactivated_users": [],
            "deleted_users": [],
            "membership_changes": [],
            **self.summary,
            "event_uuids": [uuids[s] for s in self._new_seqs if s not in late_seqs],
            "late_event_uuids": [uuids[s] for s in self._new_seqs if s in late_seqs],
            "late_events_visible_at": iso(max((t.ev_added[s] for s in late_seqs), default=None)),
            "log_events": t.event_count,
        }
        return summary


def _role_id(rng: FastRandom) -> str:
    """A role assignment id like Okta's ``ra1b2c3...`` (20 characters)."""
    return "ra" + "".join(_ALNUM[rng.fr(62)] for _ in range(18))


def _id_after(previous: str, rng: FastRandom) -> str:
    """An Okta-looking id that sorts after ``previous`` (base-62 digits in ASCII order, plus a random step)."""
    prefix, digits = previous[:3], previous[3:].ljust(17, "0")
    value = 0
    for ch in digits:
        value = value * 62 + _ALNUM.index(ch)
    room = 62**17 - 1 - value
    if room < 1:
        raise ValueError("user id space exhausted: no id sorts after " + previous)
    value += 1 + rng.fr(min(62**4, max(1, room // 64)))  # a small random gap, never past the end
    out = []
    for _ in range(17):
        value, rem = divmod(value, 62)
        out.append(_ALNUM[rem])
    return prefix + "".join(reversed(out))


def advance(t: OktaTenant, change: AdvanceChange, wall_ms: int) -> dict[str, Any]:
    """Apply ``change`` to ``t`` and return the summary of what changed."""
    now_ms = round(change.now.timestamp() * 1000) if change.now is not None else wall_ms
    if change.now is not None and now_ms > wall_ms:
        raise ValueError(f"now: {change.now.isoformat()} is in the future; the sandbox cannot publish events there")
    if now_ms <= t.live_since_ms:
        if change.now is not None:
            raise ValueError(
                f"now: {change.now.isoformat()} is not after the previous advance ({iso(t.live_since_ms)})"
            )
        now_ms = t.live_since_ms + 1  # two calls within one millisecond
    summary = Advancer(t, change, now_ms, max(wall_ms, now_ms)).run()
    t.live_since_ms = now_ms
    t.advance_count += 1
    t.advances.append({k: v for k, v in summary.items() if k not in ("event_uuids", "late_event_uuids")})
    return summary
