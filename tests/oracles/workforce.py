"""The workforce oracle: what every finding must answer, from the sandbox tenants' ground truth.

Tenants that set the option ``workforce: <org>`` hold the people of that org's workforce in the
states its plan gives (``saaslens_sandbox.workforce``). :func:`expected_findings` computes, in
plain Python from the personalities' ground truth (the provider objects the sandbox serves), the
answer every finding in ``include/findings/`` must give, independently of the SQL and of the
connectors' code, and checks that every planted case is in it. :func:`planted_cases` describes
the planted cases.

How each provider object becomes the facts the findings read (status, admin, MFA, account type,
last sign-in, file exposure, grant scopes, sign-in outcome) follows the providers' documentation,
cited in each app's module here (``tests/oracles/<app>.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from saaslens_sandbox.workforce import PlannedAccount, failed_sign_in_times, workforce
from tests.oracles import box, github, google_workspace, microsoft365, okta, slack
from tests.oracles.facts import AccountFact, Facts, parse_time

INACTIVE = frozenset({"suspended", "deprovisioned"})
#: app -> its module here, which turns the app's ground truth into facts. One line per app.
ORACLES: dict[str, ModuleType] = {
    "okta": okta,
    "google_workspace": google_workspace,
    "microsoft365": microsoft365,
    "slack": slack,
    "github": github,
    "box": box,
}
APPS = tuple(app for app, oracle in ORACLES.items() if getattr(oracle, "WORKFORCE", True))
"""The apps whose sandbox tenants carry a workforce plan: the cross-app findings' apps."""
IDENTITY_PROVIDERS = frozenset(app for app, oracle in ORACLES.items() if oracle.IDENTITY_PROVIDER)
LAST_LOGIN_APPS = frozenset(app for app, oracle in ORACLES.items() if oracle.REPORTS_LAST_LOGIN)
"""Apps whose account listings say when an account last signed in (Slack and GitHub do not)."""
MFA_APPS = frozenset(app for app, oracle in ORACLES.items() if oracle.REPORTS_MFA)
"""Apps whose account listings say whether an account uses MFA (Okta and Graph users do not)."""
FINDING_IDS = (
    "orphaned_accounts",
    "dormant_accounts",
    "privileged_accounts",
    "privilege_changes",
    "admins_without_mfa",
    "external_accounts",
    "exposed_files",
    "broad_oauth_grants",
    "grants_of_inactive_accounts",
    "failed_signin_spikes",
)


def collect_facts(
    truths: Mapping[tuple[str, str], Mapping[str, Any]],
    instances: Mapping[tuple[str, str], str],
    *,
    slack_team_scoped_grants: bool = False,
) -> Facts:
    """Accounts, grants, files and failed sign-ins of every tenant, as the findings see them."""
    facts = Facts()
    for key, truth in truths.items():
        app, tenant = key
        if key not in instances:
            raise ValueError(f"no instance name for tenant {app}/{tenant}")
        instance = instances[key]
        oracle = ORACLES.get(app)
        if oracle is None:
            raise ValueError(f"the oracle does not know app {app!r} (tenant {tenant}); it knows {list(APPS)}")
        oracle.collect(truth, app, instance, facts, slack_team_scoped_grants=slack_team_scoped_grants)
    return facts


def load_broad_scopes() -> set[tuple[str, str]]:
    """(app, scope) pairs of the broad scopes saaslens' connectors declare (each app's scopes.py):
    the oracle plants and expects grants of exactly the scopes the broad_oauth_grants finding reads.

    The oracle knows saaslens' findings, so it lives with the tests; the sandbox never imports it."""
    from saaslens.findings import broad_scopes

    return {(app, scope) for app, scope, _why in broad_scopes()}


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def compute_findings(
    facts: Facts,
    as_of: datetime,
    *,
    previous: Facts | None = None,
    broad_scopes: set[tuple[str, str]] | None = None,
    dormant_days: int = 90,
    threshold: int = 10,
    days: int = 7,
) -> dict[str, set[tuple[Any, ...]]]:
    """Every finding's key tuples, by the definitions in .helpers/FINDINGS_CONTRACT.md."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    accounts = facts.accounts
    result: dict[str, set[tuple[Any, ...]]] = {f: set() for f in FINDING_IDS}

    def key(a: AccountFact) -> tuple[str, str, str]:
        return (a.app, a.instance, a.account_id)

    # A person is inactive in an identity provider instance; their active accounts elsewhere are orphaned.
    inactive_at: dict[str, set[tuple[str, str]]] = {}
    for a in accounts:
        if a.app in IDENTITY_PROVIDERS and a.status in INACTIVE and a.email:
            inactive_at.setdefault(a.email, set()).add((a.app, a.instance))
    for a in accounts:
        places = inactive_at.get(a.email or "")
        if a.status == "active" and places and any(place != (a.app, a.instance) for place in places):
            result["orphaned_accounts"].add(key(a))

    cutoff = as_of - timedelta(days=dormant_days)
    for a in accounts:
        if a.status != "active":
            continue
        if (a.last_login_at is not None and a.last_login_at < cutoff) or (
            a.last_login_at is None and a.created_at is not None and a.created_at < cutoff
        ):
            result["dormant_accounts"].add(key(a))

    result["privileged_accounts"] = {key(a) for a in accounts if a.is_admin}
    result["admins_without_mfa"] = {key(a) for a in accounts if a.is_admin and a.mfa is False}
    result["external_accounts"] = {
        key(a) for a in accounts if a.account_type in ("guest", "external") and a.status != "deprovisioned"
    }
    result["exposed_files"] = {
        (f.app, f.instance, f.file_id) for f in facts.files if f.visibility in ("public", "external")
    }

    broad = broad_scopes if broad_scopes is not None else load_broad_scopes()
    result["broad_oauth_grants"] = {
        (g.app, g.instance, g.grant_id) for g in facts.grants if any((g.app, s) in broad for s in g.scopes)
    }
    status_of = {key(a): a.status for a in accounts}
    result["grants_of_inactive_accounts"] = {
        (g.app, g.instance, g.grant_id)
        for g in facts.grants
        if g.account_id is not None and status_of.get((g.app, g.instance, g.account_id)) in INACTIVE
    }

    since = as_of - timedelta(days=days)
    counts: Counter[tuple[str, str, str, str, datetime]] = Counter()
    for f in facts.failures:
        if not (since <= f.occurred_at <= as_of):
            continue
        hour = _hour(f.occurred_at)
        if f.subject is not None:
            counts[(f.app, f.instance, "account", f.subject, hour)] += 1
        if f.ip is not None:
            counts[(f.app, f.instance, "ip", f.ip, hour)] += 1
    result["failed_signin_spikes"] = {k for k, n in counts.items() if n >= threshold}

    if previous is not None:
        before = {key(a): a.is_admin for a in previous.accounts}
        after = {key(a): a.is_admin for a in accounts}
        compared = {(a.app, a.instance) for a in previous.accounts}
        for account_key in before.keys() | after.keys():
            if account_key[:2] not in compared:
                continue  # no previous snapshot of this instance: nothing to compare with
            was, now = before.get(account_key, "absent"), after.get(account_key, "absent")
            if now is True and was in (False, "absent"):
                result["privilege_changes"].add((*account_key, "added"))
            elif was is True and now in (False, "absent"):
                result["privilege_changes"].add((*account_key, "removed"))
    return result


def expected_findings(
    truths: Mapping[tuple[str, str], Mapping[str, Any]],
    instances: Mapping[tuple[str, str], str],
    as_of: datetime,
    *,
    previous_truths: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
    broad_scopes: set[tuple[str, str]] | None = None,
    slack_team_scoped_grants: bool = False,
    dormant_days: int = 90,
    threshold: int = 10,
    days: int = 7,
) -> dict[str, set[tuple[Any, ...]]]:
    """finding id -> the set of key tuples each finding must return, computed from ground truth.

    ``truths``: ``{(app, tenant): personality.ground_truth()}``; ``instances``: ``{(app, tenant):
    instance name}``. ``previous_truths`` (the same tenants' ground truth when the previous
    snapshot was taken) gives ``privilege_changes``; without it that finding is expected empty.
    ``slack_team_scoped_grants``: the Slack connection sets ``team_id`` (grant ids are then
    ``<team>:<app>``). Raises AssertionError naming every planted case the result misses.
    """
    facts = collect_facts(truths, instances, slack_team_scoped_grants=slack_team_scoped_grants)
    previous = (
        collect_facts(previous_truths, instances, slack_team_scoped_grants=slack_team_scoped_grants)
        if previous_truths is not None
        else None
    )
    broad = broad_scopes if broad_scopes is not None else load_broad_scopes()
    result = compute_findings(
        facts,
        as_of,
        previous=previous,
        broad_scopes=broad,
        dormant_days=dormant_days,
        threshold=threshold,
        days=days,
    )
    missing = [
        f"{finding}: {description} -> {case}"
        for finding, description, case in planted_keys(
            truths, instances, facts, as_of, broad, previous, dormant_days=dormant_days, days=days
        )
        if case not in result[finding]
    ]
    if missing:
        raise AssertionError("planted cases missing from the expected findings:\n" + "\n".join(missing))
    return result


def _admin_advances(truth: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """(user ids granted, user ids revoked) an admin role by the Okta tenant's advances, in order."""
    granted: set[str] = set()
    revoked: set[str] = set()
    for advance in truth.get("advances") or []:
        for user_id in advance.get("admins_granted") or []:
            granted.add(user_id)
            revoked.discard(user_id)
        for user_id in advance.get("admins_revoked") or []:
            revoked.add(user_id)
            granted.discard(user_id)
    return granted, revoked


def planted_keys(
    truths: Mapping[tuple[str, str], Mapping[str, Any]],
    instances: Mapping[tuple[str, str], str],
    facts: Facts,
    as_of: datetime,
    broad: set[tuple[str, str]],
    previous: Facts | None = None,
    *,
    dormant_days: int = 90,
    days: int = 7,
) -> Iterator[tuple[str, str, tuple[Any, ...]]]:
    """(finding, description, key) of every planted case the tenants' workforces hold.

    A case whose object is missing from the ground truth yields a key no finding can contain
    (``<missing: ...>``), so the caller reports it instead of silently passing."""
    tenants = [(key, truth["workforce"]) for key, truth in truths.items() if truth.get("workforce")]
    by_email = {(a.app, a.instance, a.email): a for a in facts.accounts if a.email}

    def account(app: str, instance: str, planned: PlannedAccount) -> tuple[str, str, str]:
        found = by_email.get((app, instance, planned.email))
        return (app, instance, found.account_id if found else f"<missing: {planned.email}>")

    for (app, tenant), org in tenants:
        wf = workforce(org)
        instance = instances[(app, tenant)]
        truth = truths[(app, tenant)]
        granted, revoked = _admin_advances(truth)
        for planned in wf.plan_for(app):
            who = f"{planned.person.display} ({planned.person.slot}) in {app}/{tenant}"
            acc = account(app, instance, planned)
            if app in IDENTITY_PROVIDERS and planned.status != "active":
                for (other_app, other_tenant), other_org in tenants:
                    if other_org != org or (other_app, other_tenant) == (app, tenant):
                        continue
                    for other in wf.plan_for(other_app):
                        if other.person == planned.person and other.status == "active":
                            other_instance = instances[(other_app, other_tenant)]
                            yield (
                                "orphaned_accounts",
                                f"{who} is {planned.status}, still active in {other_app}/{other_tenant}",
                                account(other_app, other_instance, other),
                            )
            if app in LAST_LOGIN_APPS and planned.status == "active":
                days_idle = planned.last_login_days if planned.last_login_days is not None else planned.created_days
                if days_idle > dormant_days:
                    yield "dormant_accounts", f"{who}: no sign-in for {days_idle:g} days", acc
            is_admin = (planned.admin or acc[2] in granted) and acc[2] not in revoked
            if is_admin:
                yield "privileged_accounts", f"{who} is an admin", acc
                if app in MFA_APPS and not planned.mfa:
                    yield "admins_without_mfa", f"{who} is an admin without MFA", acc
            if planned.guest and planned.status != "deprovisioned":
                yield "external_accounts", f"{who} is a guest / outside collaborator", acc
            for exposure in planned.files:
                files = [f for f in facts.files if (f.app, f.instance, f.owner_id) == acc and f.visibility == exposure]
                file_id = files[0].file_id if files else f"<missing: {exposure} file of {planned.email}>"
                yield "exposed_files", f"{who} owns a file shared {exposure}", (app, instance, file_id)
            if planned.grant_scopes:
                grants = [
                    g
                    for g in facts.grants
                    if (g.app, g.instance, g.account_id) == acc and set(planned.grant_scopes) <= set(g.scopes)
                ]
                grant = (app, instance, grants[0].grant_id if grants else f"<missing: grant of {planned.email}>")
                if any((app, s) in broad for s in planned.grant_scopes):
                    yield "broad_oauth_grants", f"{who} holds a grant of {planned.grant_scopes}", grant
                if planned.status in INACTIVE:
                    yield "grants_of_inactive_accounts", f"{who} is {planned.status} and holds a grant", grant
            if previous is not None and app == "okta":
                if acc[2] in granted:
                    yield "privilege_changes", f"{who} was made an admin", (*acc, "added")
                if acc[2] in revoked:
                    yield "privilege_changes", f"{who} lost the admin role", (*acc, "removed")
        if app == "okta":
            anchor = parse_time(truth["anchor"])
            assert anchor is not None
            anchor_ms = int(anchor.timestamp() * 1000)
            since = as_of - timedelta(days=days)
            for when_ms, person, spray in failed_sign_in_times(wf, anchor_ms):
                when = datetime.fromtimestamp(when_ms / 1000, UTC)
                if not since <= when <= as_of:
                    continue
                if spray:
                    yield (
                        "failed_signin_spikes",
                        f"a password spray from {wf.failed_sign_ins.spray_ip} in {app}/{tenant}",
                        (app, instance, "ip", wf.failed_sign_ins.spray_ip, _hour(when)),
                    )
                else:
                    yield (
                        "failed_signin_spikes",
                        f"{person.display} failed to sign in {wf.failed_sign_ins.spike_count} times in an hour",
                        (app, instance, "account", person.email, _hour(when)),
                    )


def planted_cases(org: str) -> dict[str, list[str]]:
    """finding id -> a description of each case the workforce plants (in tenants of all five apps).

    ``privilege_changes`` needs the Okta tenant advanced with ``admins_granted`` /
    ``admins_revoked`` (emails of the ``promoted`` and ``okta_admin`` people) between two scans."""
    wf = workforce(org)
    broad = load_broad_scopes()
    cases: dict[str, list[str]] = {f: [] for f in FINDING_IDS}
    for app in APPS:
        for planned in wf.plan_for(app):
            who = f"{planned.person.display} <{planned.email}> ({planned.person.slot}) in {app}"
            if app in IDENTITY_PROVIDERS and planned.status != "active":
                elsewhere = [
                    other_app
                    for other_app in APPS
                    if other_app != app
                    for other in wf.plan_for(other_app)
                    if other.person == planned.person and other.status == "active"
                ]
                if elsewhere:
                    cases["orphaned_accounts"].append(f"{who} is {planned.status}; active in {', '.join(elsewhere)}")
            if app in LAST_LOGIN_APPS and planned.status == "active":
                idle = planned.last_login_days if planned.last_login_days is not None else planned.created_days
                if idle > 90:
                    never = " (never signed in)" if planned.last_login_days is None else ""
                    cases["dormant_accounts"].append(f"{who}: last sign-in {idle:g} days ago{never}")
            if planned.admin:
                cases["privileged_accounts"].append(f"{who} is an admin")
                if app in MFA_APPS and not planned.mfa:
                    cases["admins_without_mfa"].append(f"{who} is an admin without MFA")
            if planned.guest:
                cases["external_accounts"].append(f"{who} is a guest / outside collaborator")
            for exposure in planned.files:
                cases["exposed_files"].append(f"{who} owns a file shared {exposure}")
            if planned.grant_scopes:
                wide = [scope for scope in planned.grant_scopes if (app, scope) in broad]
                if wide:
                    cases["broad_oauth_grants"].append(f"{who} holds a grant of {' '.join(wide)}")
                if planned.status in INACTIVE:
                    cases["grants_of_inactive_accounts"].append(f"{who} is {planned.status} and holds a grant")
    plan = wf.failed_sign_ins
    spiked = wf.person(plan.spike_slot)
    cases["failed_signin_spikes"] += [
        f"okta: {spiked.display} <{spiked.email}> fails to sign in {plan.spike_count} times within one hour, "
        f"{plan.spike_hours_ago:g} hours before the anchor (from their home IP, which so spikes too)",
        f"okta: {len(plan.spray_slots)} people fail to sign in from {plan.spray_ip} within one hour, "
        f"{plan.spray_hours_ago:g} hours before the anchor (a password spray)",
    ]
    promoted, demoted = wf.person(wf.admin_grant_slot), wf.person(wf.admin_revoke_slot)
    cases["privilege_changes"] += [
        f"okta: {promoted.display} <{promoted.email}> added, after advance with admins_granted",
        f"okta: {demoted.display} <{demoted.email}> removed, after advance with admins_revoked",
    ]
    return cases
