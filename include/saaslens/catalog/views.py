"""The catalog's derived views and reference tables: their definitions and their SQL.

On top of the canonical tables the catalog defines:

- `snapshots`: every published snapshot, empty ones included;
- `activities_normalized`: every activity with OCSF class, activity, severity and status ids,
  from the mapping tables `ocsf_activity_map` / `ocsf_category_defaults` (the apps' declared
  OCSF maps and saaslens.catalog.ocsf, not a CASE expression);
- `identity_keys` and `identities` (plus `identities_as_of(ts)`): accounts of every app and
  instance linked to one person by normalized email and the identity keys the apps declare;
- reference tables: `identity_provider_apps` and `broad_scopes`, from the apps' declarations.

Every derived view and table is described in DERIVED (name, description, columns) so the DuckDB
comments and docs/schema.md come from one definition, like the canonical tables. The descriptions
name no app: which apps are identity providers, which identity keys and broad scopes each has, are
rows of the reference tables, read from the apps' declarations (saaslens.catalog.apps).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from saaslens.catalog import ocsf
from saaslens.catalog.apps import EVERY_APP, PRIMARY_EMAIL
from saaslens.connectors.kit import IdentityKey
from saaslens.lake.schema import TABLES, Column


@dataclass(frozen=True)
class Derived:
    """A view, table or table macro the catalog adds on top of the canonical tables."""

    name: str
    kind: str  # view | table | macro
    description: str
    columns: tuple[Column, ...]


def _c(name: str, type_: str, description: str) -> Column:
    return Column(name, type_, description)


_ACTIVITY = TABLES["activities"]
_ACCOUNTS = TABLES["accounts"]


def _activity_column(name: str) -> Column:
    return next(c for c in _ACTIVITY.columns if c.name == name)


def _account_column(name: str) -> Column:
    return next(c for c in _ACCOUNTS.columns if c.name == name)


_OCSF_CLASS_COLUMNS = (
    _c("class_uid", "int64", "OCSF event class id (3002 Authentication, 3001 Account Change, ...)."),
    _c("class_name", "string", "OCSF event class name."),
    _c("category_uid", "int64", "OCSF category id (3 Identity & Access Management, 6 Application Activity)."),
    _c("category_name", "string", "OCSF category name."),
)

DERIVED: tuple[Derived, ...] = (
    Derived(
        "snapshots",
        "view",
        "Every published snapshot of every snapshot table, empty ones included (an empty snapshot has no rows "
        "to carry its id): what the current-state views and the *_as_of(ts) macros take as the newest snapshot.",
        (
            _c("table_name", "string", "The snapshot table (accounts, groups, ...)."),
            _c("app", "string", "Connector of the snapshot."),
            _c("instance", "string", "Instance of the snapshot."),
            _c("snapshot_id", "string", "Identifier of the published snapshot (sortable, UTC)."),
            _c("snapshot_at", "timestamp", "When the snapshot's scan ran (UTC)."),
        ),
    ),
    Derived(
        "activities_normalized",
        "view",
        "Activities of every app in one shape, with OCSF class, activity, severity and status ids for "
        "export to security data lakes (see saaslens/catalog/ocsf.py for OCSF's ids and their sources).",
        (
            *(
                _activity_column(name)
                for name in ("app", "instance", "event_id", "occurred_at", "event_date", "category", "action")
            ),
            _activity_column("outcome"),
            _activity_column("outcome_reason"),
            _activity_column("actor_id"),
            _activity_column("actor_login"),
            _c("actor_email", "string", "actor_login lowercased when it is an email address, else null."),
            _activity_column("actor_type"),
            _activity_column("target_id"),
            _activity_column("target_name"),
            _c("target_email", "string", "target_name lowercased when it is an email address, else null."),
            _activity_column("target_type"),
            _activity_column("ip"),
            _activity_column("user_agent"),
            _activity_column("country"),
            *_OCSF_CLASS_COLUMNS,
            _c(
                "activity_id",
                "int64",
                "OCSF activity id within the class (1 Logon, 3 Add User, ...); 99 Other when the action is not mapped.",
            ),
            _c("activity_name", "string", "OCSF activity name; for 99 Other, the provider's action."),
            _c("type_uid", "int64", "OCSF type id: class_uid * 100 + activity_id."),
            _c(
                "severity_id",
                "int64",
                "OCSF severity id: the mapping's (1 Informational, 2 Low, 3 Medium), at least 2 Low for a failure.",
            ),
            _c("severity", "string", "OCSF severity name."),
            _c("status_id", "int64", "OCSF status id from outcome: 1 Success, 2 Failure, 0 Unknown."),
            _c("status", "string", "OCSF status name."),
            _c("is_mapped", "bool", "The action has its own entry in ocsf_activity_map (else the category's default)."),
        ),
    ),
    Derived(
        "identity_keys",
        "view",
        "The email-shaped keys that name the person behind each current account: its email, and the "
        "identity keys its app declares (listed in identity_key_sources). Accounts sharing a key belong "
        "to the same person.",
        (
            _c("app", "string", "Connector of the account."),
            _c("instance", "string", "Instance of the account."),
            _c("account_id", "string", "The account (accounts.account_id)."),
            _c("key", "string", "An email address naming the account's person: lowercased and trimmed."),
            _c(
                "source",
                "string",
                "Where the key came from: email, or a source the account's app declares (identity_key_sources).",
            ),
        ),
    ),
    Derived(
        "identities",
        "view",
        "Every current account of every app and instance, linked to one person: accounts sharing an "
        "identity key (identity_keys) belong to the same person, transitively. identities_as_of(ts) "
        "gives the same view over accounts_as_of(ts).",
        (
            _c(
                "person_id",
                "string",
                "The person: their preferred email (person_email), or 'unlinked:<app>/<instance>/<account_id>' "
                "for an account with no email-shaped key.",
            ),
            _c(
                "person_email",
                "string",
                "The person's preferred email: the primary email of their identity-provider account, else the "
                "smallest primary email among their accounts; null when unlinked.",
            ),
            _account_column("app"),
            _account_column("instance"),
            _account_column("account_id"),
            _account_column("login"),
            _account_column("email"),
            _account_column("display_name"),
            _account_column("status"),
            _account_column("account_type"),
            _account_column("is_admin"),
            _account_column("mfa_enabled"),
            _account_column("created_at"),
            _account_column("last_login_at"),
            _c(
                "is_identity_provider",
                "bool",
                "The account's app is an identity provider (listed in identity_provider_apps).",
            ),
            _c(
                "linked_by",
                "string",
                "Sources of this account's keys shared with another account of the person (email, login, ...); "
                "null when no other account shares a key.",
            ),
            _c("person_accounts", "int64", "How many accounts the person has, over all apps and instances."),
            _c("person_apps", "list<string>", "Apps the person has an account in."),
            _c("idp_instances", "list<string>", "Identity-provider instances ('<app>/<instance>') the person is in."),
            _c(
                "idp_active",
                "bool",
                "The person has an active account in at least one identity provider; null without any.",
            ),
            _c(
                "idp_disabled_in",
                "list<string>",
                "Identity-provider instances where the person's account is suspended or deprovisioned.",
            ),
            _account_column("snapshot_id"),
        ),
    ),
    Derived(
        "dlp_policies",
        "table",
        "Content-inspection policies from include/dlp_policies.yaml, as the last catalog build read them.",
        (
            _c("policy", "string", "The policy's id."),
            _c("title", "string", "What the policy is about."),
            _c("severity", "string", "high, medium or low."),
            _c("detectors", "list<string>", "Detectors whose hits count (credential means every credential kind)."),
            _c("min_count", "int64", "Hits needed in one file."),
            _c("exposure", "list<string>", "Exposures (files.visibility) at which it applies."),
            _c("actions", "list<string>", "Remedies it asks for (saaslens.vocabulary.Remedy), run through governance."),
        ),
    ),
    Derived(
        "file_scans_latest",
        "view",
        "Content inspection: each file's newest scan (file_scans), the file's current inspection state.",
        tuple(TABLES["file_scans"].columns),
    ),
    Derived(
        "dlp_matches_latest",
        "view",
        "Content inspection: what the detectors found in each file's newest scan (dlp_matches of file_scans_latest).",
        tuple(TABLES["dlp_matches"].columns),
    ),
    Derived(
        "dlp_findings",
        "view",
        "Content inspection: one row per file and policy it breaks (its newest scan), with the file's current name, "
        "owner and exposure from the files table. A policy names detectors, a minimum count and exposures "
        "(include/dlp_policies.yaml).",
        (
            _c("app", "string", "Connector of the file."),
            _c("instance", "string", "Instance of the file."),
            _c("file_id", "string", "File id (files.file_id)."),
            _c("name", "string", "File name now (files.name); null if the file is no longer listed."),
            _c("owner_email", "string", "Owner now (files.owner_email)."),
            _c("visibility", "string", "Exposure now (files.visibility)."),
            _c("visibility_when_scanned", "string", "Exposure the policy was evaluated at (file_scans.visibility)."),
            _c("policy", "string", "The policy's id."),
            _c("title", "string", "The policy's title (dlp_policies)."),
            _c("severity", "string", "The policy's severity (dlp_policies)."),
            _c("actions", "list<string>", "Remedies the policy asks for (dlp_policies.actions)."),
            _c("detectors", "list<string>", "Detectors whose hits broke the policy."),
            _c("matches", "int64", "Their hits in the file."),
            _c("masked_previews", "string", "Masked examples of the hits (never a whole value)."),
            _c("scanned_at", "timestamp", "When the file was scanned."),
            _c("content_version", "string", "Content version scanned."),
            _c("content_changed", "bool", "The file's content version has changed since (a rescan is due)."),
        ),
    ),
    Derived(
        "posture_rules",
        "table",
        "Security posture rules (include/posture/<app>/<rule>.sql), as the last catalog build read them: what each "
        "checks, the baselines it maps to and the settings and admin events it concerns. docs/posture.md.",
        (
            _c("rule_id", "string", "<app>.<rule>: posture_results.rule_id."),
            _c("app", "string", "Connector whose settings it reads."),
            _c("title", "string", "What a passing tenant does."),
            _c("severity", "string", "high, medium or low."),
            _c("rationale", "string", "Why it matters."),
            _c("remediation", "string", "How to make it pass."),
            _c("baselines", "list<string>", "Baseline ids (CISA SCuBA, CIS benchmarks, the provider's guidance)."),
            _c("settings_read", "list<string>", "Settings (settings.setting_id) it reads."),
            _c("change_events", "list<string>", "Activity actions that change them (* matches any characters)."),
        ),
    ),
    Derived(
        "posture_current",
        "view",
        "Security posture now: each instance's newest result of each rule (posture_results), with the mute list "
        "applied: a rule muted until a date later than now shows as muted, never as pass.",
        (
            *tuple(TABLES["posture_results"].columns),
            _c("effective_status", "string", "pass, fail, not_evaluated, or muted while an unexpired mute holds."),
        ),
    ),
    Derived(
        "posture_changes",
        "view",
        "Posture drift: every change of a rule's status between two evaluations of an instance, with the "
        "admin events of that instance between the two settings snapshots whose action changes the rule's "
        "settings (one row per change and event; a change no event explains has one row with no event).",
        (
            _c("app", "string", "Connector."),
            _c("instance", "string", "Instance."),
            _c("rule_id", "string", "The rule (posture_rules)."),
            _c("title", "string", "The rule's title."),
            _c("severity", "string", "The rule's severity."),
            _c("previous_status", "string", "Status in the earlier evaluation."),
            _c("status", "string", "Status in the later evaluation."),
            _c("previous_evaluated_at", "timestamp", "When the earlier evaluation ran."),
            _c("evaluated_at", "timestamp", "When the later evaluation ran."),
            _c("previous_snapshot_at", "timestamp", "The earlier settings snapshot's time: the window's start."),
            _c("snapshot_at", "timestamp", "The later settings snapshot's time: the window's end."),
            _c("event_id", "string", "An admin event in the window that changes the rule's settings."),
            _c("occurred_at", "timestamp", "When it happened."),
            _c("action", "string", "Its action (activities.action)."),
            _c("actor_login", "string", "Who did it."),
            _c("target_name", "string", "What it changed, as the provider names it."),
        ),
    ),
    Derived(
        "identity_provider_apps",
        "table",
        "Apps whose instances are identity providers: their accounts decide whether a person may sign in "
        "to the apps federated behind them. From each app's declaration (AppSpec.identity_provider).",
        (
            _c("app", "string", "Connector name."),
            _c("provider", "string", "The identity provider's product name."),
        ),
    ),
    Derived(
        "identity_key_sources",
        "table",
        "Where accounts' identity keys come from, per app, from each app's declaration "
        "(AppSpec.identity_keys); app '*' is the primary email every account may have. Only values "
        "shaped like an email address are kept, so handles (logins, display names) never link people.",
        (
            _c("app", "string", "Connector whose accounts carry the key, or '*' for every app."),
            _c("source", "string", "The key's name (identity_keys.source)."),
            _c("why", "string", "Why the key names the account's person."),
        ),
    ),
    Derived(
        "broad_scopes",
        "table",
        "OAuth scopes broad enough to review every grant of them, per app, from each app's declaration "
        "(AppSpec.broad_scopes); "
        "a granted scope matches a listed one of the same app exactly.",
        (
            _c("app", "string", "Connector the scope belongs to."),
            _c("scope", "string", "The scope, exactly as the provider names it."),
            _c("why", "string", "What a holder of the scope can do."),
        ),
    ),
    Derived(
        "ocsf_activity_map",
        "table",
        "Provider actions mapped to OCSF classes and activities, from each app's declaration (AppSpec.ocsf).",
        (
            _c("app", "string", "Connector the action comes from."),
            _c("action", "string", "The provider's action (activities.action)."),
            *_OCSF_CLASS_COLUMNS,
            _c("activity_id", "int64", "OCSF activity id within the class."),
            _c("activity_name", "string", "OCSF activity name."),
            _c("severity_id", "int64", "OCSF severity id of a successful event of this kind."),
        ),
    ),
    Derived(
        "ocsf_category_defaults",
        "table",
        "The OCSF class an unmapped action falls back on, by canonical category (activity 99 Other).",
        (
            _c("category", "string", "Canonical activity category."),
            *_OCSF_CLASS_COLUMNS,
        ),
    ),
)


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# -- derived views ------------------------------------------------------------------------------

_SEVERITY_NAMES = "[" + ", ".join(quote(ocsf.SEVERITIES[i]) for i in range(len(ocsf.SEVERITIES))) + "]"

ACTIVITIES_NORMALIZED_SQL = f"""
select
    a.app, a.instance, a.event_id, a.occurred_at, a.event_date, a.category, a.action,
    a.outcome, a.outcome_reason,
    a.actor_id, a.actor_login,
    case when a.actor_login like '%_@_%' then lower(trim(a.actor_login)) end as actor_email,
    a.actor_type,
    a.target_id, a.target_name,
    case when a.target_name like '%_@_%' then lower(trim(a.target_name)) end as target_email,
    a.target_type,
    a.ip, a.user_agent, a.country,
    coalesce(m.class_uid, d.class_uid) as class_uid,
    coalesce(m.class_name, d.class_name) as class_name,
    coalesce(m.category_uid, d.category_uid) as category_uid,
    coalesce(m.category_name, d.category_name) as category_name,
    coalesce(m.activity_id, {ocsf.OTHER}) as activity_id,
    case when coalesce(m.activity_id, {ocsf.OTHER}) = {ocsf.OTHER} then a.action else m.activity_name end
        as activity_name,
    coalesce(m.class_uid, d.class_uid) * 100 + coalesce(m.activity_id, {ocsf.OTHER}) as type_uid,
    greatest(coalesce(m.severity_id, 1), case when a.outcome = 'failure' then 2 else 1 end) as severity_id,
    {_SEVERITY_NAMES}[1 + greatest(coalesce(m.severity_id, 1), case when a.outcome = 'failure' then 2 else 1 end)]
        as severity,
    cast(case a.outcome when 'success' then 1 when 'failure' then 2 else 0 end as bigint) as status_id,
    case a.outcome when 'success' then 'Success' when 'failure' then 'Failure' else 'Unknown' end as status,
    m.action is not null as is_mapped
from activities as a
left join ocsf_activity_map as m on m.app = a.app and m.action = a.action
left join ocsf_category_defaults as d on d.category = a.category
"""


def identity_keys_sql(
    accounts: str,
    sources: Sequence[tuple[str, IdentityKey]] = ((EVERY_APP, PRIMARY_EMAIL),),
    account: str = "app, instance, account_id",
) -> str:
    """The identity_keys query over an accounts relation (the current view or accounts_as_of(ts)),
    from (app, key source) pairs (app "*": every app). `account` names the columns that identify an
    account in the result (identities passes its integer row id, so its joins and group-bys run
    over one integer instead of three strings)."""
    parts = []
    for app, source in sources:
        where = "" if app == EVERY_APP else f"where app = {quote(app)}"
        parts.append(
            f"select {account}, unnest({source.values}) as value, {quote(source.source)} as source "
            f"from {accounts} {where}"
        )
    union = "\n    union all\n    ".join(parts)
    return f"""
select distinct {account}, lower(trim(value)) as key, source
from (
    {union}
)
where value like '%_@_%' and value not ilike '%#ext#%'
"""


def identities_sql(accounts: str, sources: Sequence[tuple[str, IdentityKey]], identity_providers: Sequence[str]) -> str:
    """The identities query over an accounts relation. Keys held by one account are linked; a
    person is a connected component of that key graph, and an account belongs to the person its
    keys belong to. Accounts without a key are their own, unlinked, person.

    Accounts and keys are numbered first (aid, kid) so every join and group-by below runs over
    integers. Most accounts hold a single key: such a key's component is the key itself (with
    every account holding it) unless an account holding several keys ties it to others, so the
    label propagation (the smallest key id, carried in a recursive CTE, each round only over the
    keys whose label shrank) runs only over the keys of accounts that hold several."""
    # `in ()` is no SQL: with no identity provider declared, no account is one.
    idp_apps = ", ".join(quote(app) for app in identity_providers) or "null"
    return f"""
with recursive
acc as materialized (
    select *, app in ({idp_apps}) as is_identity_provider, row_number() over () as aid
    from {accounts}
),
keys as ({identity_keys_sql("acc", sources, "aid")}),
key_ids as (
    -- Keys as integers in key order: the smallest id of a component is its smallest key.
    select key, dense_rank() over (order by key) as kid from (select distinct key from keys)
),
key_sources as materialized (
    select k.aid, i.kid, k.source from keys as k join key_ids as i using (key)
),
account_keys as materialized (select distinct aid, kid from key_sources),
several as (
    -- Accounts holding more than one key: the only edges between different keys.
    select aid from account_keys group by aid having count(*) > 1
),
key_pairs as materialized (
    -- Two keys of one account name the same person (each key is also paired with itself).
    select distinct a.kid as kid, b.kid as other
    from account_keys as a join account_keys as b using (aid)
    where a.aid in (select aid from several)
),
-- Each paired key starts with the smallest key it is paired with and takes the smallest label of
-- any key paired with it, until no label shrinks; keys sharing a label then name one person.
-- USING KEY keeps one row per key, so each round carries only the keys whose label changed.
key_label(kid, label) using key (kid) as (
    select kid, min(other) from key_pairs group by kid
    union
    select p.kid, min(l.label)
    from key_label as l
    join key_pairs as p on p.other = l.kid
    join recurring.key_label as current on current.kid = p.kid
    group by p.kid
    having min(l.label) < min(current.label)
),
component as (
    -- A key no account ties to another is its own component.
    select a.aid, min(coalesce(l.label, a.kid)) as component
    from account_keys as a left join key_label as l using (kid)
    group by a.aid
),
component_key as (
    select c.component, i.key as smallest_key
    from (select distinct component from component) as c
    join key_ids as i on i.kid = c.component
),
shared as (
    -- Keys that link an account to another one: held by more than one account.
    select kid from account_keys group by kid having count(*) > 1
),
linked as (
    select k.aid, array_to_string(list_sort(list_distinct(list(k.source))), ', ') as linked_by
    from key_sources as k semi join shared as s on s.kid = k.kid
    group by k.aid
),
joined as (
    select acc.*, component.component, linked.linked_by
    from acc
    left join component using (aid)
    left join linked using (aid)
),
person as (
    select
        component,
        coalesce(
            min(lower(trim(email))) filter (where is_identity_provider and email is not null),
            min(lower(trim(email))),
            min(smallest_key)
        ) as person_email,
        count(*) as person_accounts,
        list_sort(list_distinct(list(app))) as person_apps,
        list_sort(list_distinct(list(app || '/' || instance) filter (where is_identity_provider))) as idp_instances,
        bool_or(status = 'active') filter (where is_identity_provider) as idp_active,
        list_sort(list_distinct(
            list(app || '/' || instance)
                filter (where is_identity_provider and status in ('suspended', 'deprovisioned'))
        )) as idp_disabled_in
    from joined
    join component_key using (component)
    group by component
)
select
    coalesce(p.person_email, 'unlinked:' || j.app || '/' || j.instance || '/' || j.account_id) as person_id,
    p.person_email,
    j.app, j.instance, j.account_id, j.login, j.email, j.display_name, j.status, j.account_type,
    j.is_admin, j.mfa_enabled, j.created_at, j.last_login_at, j.is_identity_provider, j.linked_by,
    coalesce(p.person_accounts, 1) as person_accounts,
    coalesce(p.person_apps, [j.app]) as person_apps,
    coalesce(p.idp_instances, []::varchar[]) as idp_instances,
    case when j.component is null then (case when j.is_identity_provider then j.status = 'active' end)
         else p.idp_active end as idp_active,
    coalesce(
        p.idp_disabled_in,
        case when j.component is null and j.is_identity_provider and j.status in ('suspended', 'deprovisioned')
             then [j.app || '/' || j.instance] else []::varchar[] end
    ) as idp_disabled_in,
    j.snapshot_id
from joined as j
left join person as p using (component)
"""


def snapshots_sql(lake_root: Path) -> str:
    """Published snapshots from the lake's directories: a snapshot is published when its
    `snapshot=<id>` directory exists under its table, app and instance (the writer renames it into
    place whole, with at least one Parquet file, an empty one for an empty snapshot)."""
    parts = []
    for name, table in TABLES.items():
        if table.kind == "snapshot":
            pattern = (lake_root / name / "app=*" / "instance=*" / "snapshot=*" / "*.parquet").as_posix()
            parts.append(f"select {quote(name)} as table_name, file from glob({quote(pattern)})")
    union = "\n    union all\n    ".join(parts)
    where = r"'/app=([^/]+)/instance=([^/]+)/snapshot=([^/]+)/[^/]+$'"
    return f"""
select distinct
    table_name,
    regexp_extract(file, {where}, 1) as app,
    regexp_extract(file, {where}, 2) as instance,
    regexp_extract(file, {where}, 3) as snapshot_id,
    timezone('UTC', strptime(regexp_extract(file, {where}, 3), '%Y%m%dT%H%M%S%fZ')) as snapshot_at
from (
    {union}
)
"""


def newest_snapshot_rows(name: str, until: str | None = None) -> str:
    """Rows of `name`_history in the newest published snapshot of each app and instance (at or
    before `until`): chosen from `snapshots`, so a newest snapshot without rows yields none."""
    bound = f" and snapshot_at <= {until}" if until else ""
    return (
        f"select h.* from {name}_history as h semi join ("
        f"select app, instance, max(snapshot_id) as snapshot_id from snapshots "
        f"where table_name = {quote(name)}{bound} group by app, instance"
        f") as newest on h.app = newest.app and h.instance = newest.instance and h.snapshot_id = newest.snapshot_id"
    )


# -- documentation --------------------------------------------------------------------------------


def catalog_markdown() -> str:
    """The derived views and tables, for docs/schema.md (after the canonical tables)."""
    lines = [
        "# Catalog views and reference tables",
        "",
        "Defined in `include/saaslens/catalog/views.py` on top of the canonical tables; each is commented",
        "in DuckDB like the tables above.",
        "",
    ]
    for derived in DERIVED:
        lines += [
            f"## {derived.name}",
            "",
            derived.description,
            "",
            f"Kind: {derived.kind}.",
            "",
            "| column | type | description |",
            "|---|---|---|",
        ]
        lines += [f"| {c.name} | {c.type} | {c.description} |" for c in derived.columns]
        lines.append("")
    return "\n".join(lines)


FILE_SCANS_LATEST_SQL = """
select * exclude (newest) from (
    select *, row_number() over (
        partition by app, instance, file_id order by scanned_at desc, scan_id desc
    ) = 1 as newest
    from file_scans
) where newest
"""

DLP_MATCHES_LATEST_SQL = """
select m.* from dlp_matches as m
join file_scans_latest as s using (app, instance, file_id, scan_id)
"""

DLP_FINDINGS_SQL = """
with broken as (
    select s.app, s.instance, s.file_id, s.visibility, s.scanned_at, s.content_version,
           unnest(s.policies) as policy
    from file_scans_latest as s
    where len(s.policies) > 0
)
select
    b.app, b.instance, b.file_id, f.name, f.owner_email, f.visibility,
    b.visibility as visibility_when_scanned, b.policy, p.title, p.severity, p.actions,
    coalesce(list(m.detector order by m.detector) filter (where m.detector is not null), []) as detectors,
    coalesce(sum(m.count), 0)::bigint as matches,
    string_agg(m.masked_preview, '; ' order by m.detector) as masked_previews,
    b.scanned_at, b.content_version,
    coalesce(f.content_version is not null and f.content_version <> b.content_version, false) as content_changed
from broken as b
left join dlp_matches_latest as m
    on m.app = b.app and m.instance = b.instance and m.file_id = b.file_id and list_contains(m.policies, b.policy)
left join files as f on f.app = b.app and f.instance = b.instance and f.file_id = b.file_id
left join dlp_policies as p on p.policy = b.policy
group by all
"""


POSTURE_CURRENT_SQL = """
select *,
       case when muted and mute_expires > now() then 'muted' else status end as effective_status
from posture_results
qualify row_number() over (partition by app, instance, rule_id order by evaluated_at desc, evaluation_id desc) = 1
"""

# The window of a change is (previous settings snapshot, this one]: the settings were as first seen
# at the start and as later seen at the end, so whatever changed them happened in between. An
# evaluation without a snapshot (the stage was skipped) uses its own time.
POSTURE_CHANGES_SQL = """
with ordered as (
    select app, instance, rule_id, title, severity, status, evaluated_at, change_events,
           coalesce(settings_snapshot_at, evaluated_at) as snapshot_at,
           lag(status) over w as previous_status,
           lag(evaluated_at) over w as previous_evaluated_at,
           lag(coalesce(settings_snapshot_at, evaluated_at)) over w as previous_snapshot_at
    from posture_results
    window w as (partition by app, instance, rule_id order by evaluated_at, evaluation_id)
), changes as (
    select * from ordered where previous_status is not null and status <> previous_status
)
select c.app, c.instance, c.rule_id, c.title, c.severity, c.previous_status, c.status,
       c.previous_evaluated_at, c.evaluated_at, c.previous_snapshot_at, c.snapshot_at,
       a.event_id, a.occurred_at, a.action, a.actor_login, a.target_name
from changes as c
left join activities as a
  on a.app = c.app and a.instance = c.instance
 and a.occurred_at > c.previous_snapshot_at and a.occurred_at <= c.snapshot_at
 and len(list_filter(c.change_events, lambda pattern: a.action glob pattern)) > 0
order by c.app, c.instance, c.evaluated_at, c.rule_id, a.occurred_at
"""
