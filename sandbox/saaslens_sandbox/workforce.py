"""A deterministic shared workforce for sandbox tenants, with planted cases of every finding.

Tenants of different apps that set the option ``workforce: <org>`` contain the same people (same
names, same emails at ``<org>.example.com``) besides their own generated population, each in the
state this module's *plan* gives for that app: leavers still active in other apps, dormant
accounts, admins with and without MFA, guests and outside collaborators, files shared publicly
and with outside domains, broad OAuth grants (some held by suspended accounts), a failed sign-in
spike on one account and a password spray from one IP. Each generator turns the plan into its own
provider objects (``plan_for(app)``); nothing here knows a generator's internals.

Here are the people and the role (slot) each plays; which of them has an account in an app, and in
which state, is that app's own plan (``saaslens_sandbox/<app>/workforce.py``, the personality's
``workforce_plan``), so a new app casts the same people without editing this module.

The oracle that computes, from the tenants' ground truth, what every finding must answer is not
part of the sandbox: it lives beside the tests that use it (``tests/oracles/``).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

ORG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,30}$")

Status = Literal["active", "suspended", "deprovisioned"]


# --------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    slot: str
    """The role this person plays in the plan (``leaver_deprovisioned``, ``dormant_okta``...)."""
    first: str
    last: str
    email: str
    department: str
    title: str
    external: bool = False
    """Not an employee: a partner's guest, an outside collaborator (email at a partner domain)."""

    @property
    def display(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def handle(self) -> str:
        """``first.last``: Slack handle, email local part."""
        return self.email.split("@", 1)[0]

    @property
    def github_login(self) -> str:
        return f"{self.first}-{self.last}".lower()


@dataclass(frozen=True)
class PlannedAccount:
    """One person's account in one app, in the state the plan wants."""

    person: Person
    status: Status = "active"
    admin: bool = False
    mfa: bool = True
    """Enrolled in MFA / 2-step verification (only where the app reports it)."""
    guest: bool = False
    """Microsoft 365 userType Guest, Slack restricted guest, GitHub outside collaborator."""
    last_login_days: float | None = 1.0
    """Days before the tenant's anchor of the last successful sign-in; None: never signed in."""
    created_days: int = 420
    grant_scopes: tuple[str, ...] = ()
    """Scopes of one OAuth grant the account holds (Okta consent grant, Google token, Graph grant)."""
    files: tuple[Literal["public", "external"], ...] = ()
    """Files the account owns, each shared this widely (anyone with the link / an outside address)."""

    @property
    def email(self) -> str:
        return self.person.email


@dataclass(frozen=True)
class FailedSignIns:
    """Failed password sign-ins the Okta tenant's System Log holds (all inside the last day)."""

    spike_slot: str
    spike_count: int
    spike_hours_ago: float
    spray_ip: str
    spray_slots: tuple[str, ...]
    spray_hours_ago: float


@dataclass(frozen=True)
class Workforce:
    org: str
    domain: str
    partner_domain: str
    people: tuple[Person, ...]
    plan: Mapping[str, tuple[PlannedAccount, ...]]
    failed_sign_ins: FailedSignIns
    admin_grant_slot: str = "promoted"
    """Not an admin until the Okta tenant is advanced with ``admins_granted`` (privilege_changes)."""
    admin_revoke_slot: str = "okta_admin"
    """An Okta admin until the tenant is advanced with ``admins_revoked``."""
    by_slot: Mapping[str, Person] = field(default_factory=dict)

    def plan_for(self, app: str) -> tuple[PlannedAccount, ...]:
        if app not in self.plan:
            raise ValueError(f"workforce {self.org!r} has no plan for app {app!r}; apps: {sorted(self.plan)}")
        return self.plan[app]

    def person(self, slot: str) -> Person:
        return self.by_slot[slot]

    def emails(self, app: str) -> set[str]:
        return {a.email for a in self.plan_for(app)}


# Computing pioneers: no first.last here can come out of any generator's name lists, so a
# planted email never collides with a generated one.
_NAMES = (
    ("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Margaret", "Hamilton"), ("Barbara", "Liskov"),
    ("Dennis", "Ritchie"), ("Ken", "Kernighan"), ("Frances", "Allenby"), ("Edsger", "Dijkstra"), ("Donald", "Knuth"),
    ("John", "Backus"), ("Tony", "Hoare"), ("Niklaus", "Wirth"), ("Radia", "Perlman"), ("Vint", "Cerf"),
    ("Bob", "Kahnemann"), ("Annie", "Easley"), ("Betty", "Holberton"), ("Jean", "Bartik"), ("Kathleen", "Booth"),
    ("Claude", "Shannon"), ("Leslie", "Lamport"), ("Sophie", "Wilson"), ("Hedy", "Lamarr"), ("Karen", "Sparck"),
    ("Lynn", "Conway"), ("Adele", "Goldberg"), ("Guido", "Rossum"), ("Bjarne", "Stroustrup"), ("Anders", "Hejlsberg"),
    ("Evelyn", "Berezin"), ("Mary", "Keller"),
)  # fmt: skip
_DEPARTMENTS = ("Engineering", "Sales", "Finance", "People", "Legal", "IT", "Support", "Product", "Security", "Data")
_TITLES = ("Engineer", "Senior Engineer", "Manager", "Director", "Analyst", "Specialist", "Lead")

# Slots: the role each person plays. External people come last.
_EMPLOYEE_SLOTS = (
    "leaver_deprovisioned",  # Okta DEPROVISIONED, still active in Google, Microsoft 365, Slack, GitHub
    "leaver_suspended",  # Okta SUSPENDED holding a consent grant, still active in Microsoft 365 and Slack
    "leaver_google",  # suspended in Google holding a broad token, active in Okta and Slack
    "leaver_entra",  # disabled in Entra ID holding a delegated grant, active in Okta and GitHub
    "offboarded",  # deprovisioned in Okta and deleted in Slack: a clean leaver, in no finding of its own
    "dormant_okta",  # Okta: last sign-in 150 days ago
    "dormant_google",  # Google: last sign-in 200 days ago
    "dormant_entra",  # Entra ID: last successful sign-in 130 days ago
    "never_signed_in",  # Okta: created 400 days ago, never signed in
    "admin_everywhere",  # admin in all five apps, MFA on where reported
    "admin_google_no_2sv",  # Google super admin not enrolled in 2-step verification
    "admin_slack_no_2fa",  # Slack workspace admin without two-factor authentication
    "admin_github_no_2fa",  # GitHub organization owner with 2FA disabled
    "okta_admin",  # Okta ORG_ADMIN (revoked by the privilege-change advance)
    "promoted",  # plain member, made an Okta admin by the privilege-change advance
    "file_sharer",  # owns files shared publicly and with an outside address (Drive, OneDrive)
    "broad_grants",  # holds broad OAuth grants in Okta, Google and Microsoft 365
    "spiked",  # a failed sign-in spike in Okta
    *(f"employee_{k}" for k in range(1, 13)),  # ordinary employees (also the spray's targets)
)
_EXTERNAL_SLOTS = ("guest_partner", "outside_collaborator")

# TEST-NET-3 (RFC 5737): an address reserved for documentation, so it is nobody's real network.
SPRAY_IP = "203.0.113.66"


def _people(org: str, domain: str, partner_domain: str) -> tuple[Person, ...]:
    rng = random.Random(f"workforce:{org}")
    names = list(_NAMES)
    rng.shuffle(names)
    slots = _EMPLOYEE_SLOTS + _EXTERNAL_SLOTS
    people = []
    for slot, (first, last) in zip(slots, names, strict=False):
        external = slot in _EXTERNAL_SLOTS
        local = f"{first}.{last}".lower()
        people.append(
            Person(
                slot=slot,
                first=first,
                last=last,
                email=f"{local}@{partner_domain if external else domain}",
                department="External" if external else rng.choice(_DEPARTMENTS),
                title="Contractor" if external else rng.choice(_TITLES),
                external=external,
            )
        )
    return tuple(people)


def employees(p: Mapping[str, Person]) -> list[Person]:
    """The ordinary employees (``employee_1`` ...), in order: each app's plan takes a share of them."""
    return [p[f"employee_{k}"] for k in range(1, 13)]


def _plan(p: Mapping[str, Person]) -> dict[str, tuple[PlannedAccount, ...]]:
    """Per app, who has an account there and in which state: each personality's own plan
    (``saaslens_sandbox/<app>/workforce.py``, declared as its ``workforce_plan``)."""
    from saaslens_sandbox.core import APP_REGISTRY, personality_class

    plans = {app: personality_class(app).workforce_plan(p) for app in APP_REGISTRY}
    return {app: plan for app, plan in plans.items() if plan is not None}


@cache
def workforce(org: str) -> Workforce:
    """The workforce of ``org`` (deterministic: the same org always gives the same people and plan)."""
    if not isinstance(org, str) or not ORG_PATTERN.match(org):
        raise ValueError(
            f"workforce org {org!r} must be 1-31 lowercase letters, digits or '-', starting with a letter "
            "(it becomes the email domain <org>.example.com)"
        )
    domain = f"{org}.example.com"
    partner_domain = f"{org}-partners.example.net"
    people = _people(org, domain, partner_domain)
    by_slot = {person.slot: person for person in people}
    spray_slots = tuple(f"employee_{k}" for k in range(1, 13))
    return Workforce(
        org=org,
        domain=domain,
        partner_domain=partner_domain,
        people=people,
        plan=_plan(by_slot),
        failed_sign_ins=FailedSignIns(
            spike_slot="spiked",
            spike_count=14,
            spike_hours_ago=3.5,
            spray_ip=SPRAY_IP,
            spray_slots=spray_slots,
            spray_hours_ago=6.5,
        ),
        by_slot=by_slot,
    )


def stable_digest(*parts: object, size: int = 16) -> bytes:
    """Bytes derived from ``parts`` only: planted ids do not draw from a generator's random stream."""
    return hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=size).digest()


def failed_sign_in_times(wf: Workforce, anchor_ms: int) -> Iterator[tuple[int, Person, bool]]:
    """(epoch ms, person, is part of the spray) of every planted failed sign-in, inside one UTC hour each.

    The spike's and the spray's attempts are spread over 40 minutes starting at the top of the
    hour that lies ``*_hours_ago`` before the anchor, so each burst falls in a single hour bucket.
    """
    plan = wf.failed_sign_ins
    for hours_ago, people, spray in (
        (plan.spike_hours_ago, [wf.person(plan.spike_slot)] * plan.spike_count, False),
        (plan.spray_hours_ago, [wf.person(s) for s in plan.spray_slots], True),
    ):
        hour_start = (anchor_ms - int(hours_ago * 3_600_000)) // 3_600_000 * 3_600_000
        for k, person in enumerate(people):
            yield hour_start + 60_000 + k * (2_400_000 // max(1, len(people))), person, spray


def workforce_of(options: Any) -> Workforce | None:
    """The workforce a tenant's options name (``options.workforce``), or None."""
    org = getattr(options, "workforce", None)
    return workforce(org) if org else None


def days_before(anchor_ms: int, days: float | None) -> int | None:
    """Epoch ms ``days`` before the anchor, whole seconds; None stays None."""
    return None if days is None else (anchor_ms - int(days * 86_400_000)) // 1000 * 1000
