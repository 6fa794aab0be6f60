"""The DuckDB catalog: named views over the lake, with column comments.

Views read the Parquet files by glob at query time, so a snapshot published after the catalog
was built shows up without rebuilding it. The current-state view of a snapshot table keeps, per
app and instance, only the newest published snapshot: "published" is the snapshot's directory
(`snapshot=<id>/`, renamed into place whole by SnapshotWriter.publish), listed by the `snapshots`
view, so an empty snapshot (no rows, so no snapshot_id in any row) is current too.

On top of the canonical tables the catalog defines:

- `activities_normalized`: every activity with OCSF class, activity, severity and status ids,
  from the mapping tables `ocsf_activity_map` / `ocsf_category_defaults` (built from
  saaslens.lake.ocsf, not a CASE expression);
- `identity_keys` and `identities` (plus `identities_as_of(ts)`): accounts of every app and
  instance linked to one person by normalized email and the identity links the providers give;
- reference tables: `identity_provider_apps` and `broad_scopes` (include/findings/broad_scopes.csv).

Every derived view and table is described in DERIVED (name, description, columns) so the DuckDB
comments and docs/schema.md come from one definition, like the canonical tables.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from saaslens import settings
from saaslens.lake import ocsf
from saaslens.lake.schema import TABLES, Column
from saaslens.lake.writer import FILE_MODE, Lake

# Apps whose instances are identity providers: their accounts decide whether a person may sign in
# to the apps federated behind them.
IDENTITY_PROVIDER_APPS: dict[str, str] = {
    "okta": "Okta",
    "google_workspace": "Google Workspace (Cloud Identity)",
    "microsoft365": "Microsoft Entra ID",
}


@dataclass(frozen=True)
class IdentityKeySource:
    """Where an account's identity keys (email addresses naming the person) come from.

    `values` is a SQL expression over an accounts row that yields a list of strings; keys are
    lowercased and trimmed, and only values shaped like an email address are kept, so handles
    (GitHub logins, Slack names) and Entra guest UPNs (name_domain#EXT#@tenant) never link people.
    """

    app: str  # "*" for every app
    source: str
    values: str
    why: str


IDENTITY_KEY_SOURCES: tuple[IdentityKeySource, ...] = (
    IdentityKeySource("*", "email", "[email]", "The account's primary email."),
    IdentityKeySource(
        "okta",
        "login",
        "[login]",
        "Okta's login is the name the person signs in with and what Okta sends as the SAML NameID to "
        "federated apps; it may differ from profile.email.",
    ),
    IdentityKeySource(
        "microsoft365",
        "user_principal_name",
        "[login]",
        "Entra ID's userPrincipalName is the sign-in name and the usual SAML NameID; it may differ from mail.",
    ),
    IdentityKeySource(
        "microsoft365",
        "proxy_address",
        "list_transform(list_filter(json_extract_string(raw, '$.proxyAddresses[*]'), "
        "lambda x: lower(x) like 'smtp:%'), lambda x: x[6:])",
        "Entra ID proxyAddresses: every SMTP address that delivers to the user (SMTP: primary, smtp: aliases).",
    ),
    IdentityKeySource(
        "google_workspace",
        "alias",
        "list_concat(json_extract_string(raw, '$.aliases[*]'), json_extract_string(raw, '$.nonEditableAliases[*]'))",
        "Google Workspace aliases and domain aliases of the user's primary email (admin-managed).",
    ),
)


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
        "export to security data lakes (see saaslens/lake/ocsf.py for the mapping and its sources).",
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
        "identity links the provider gives (Okta login, Entra userPrincipalName and proxy addresses, "
        "Google aliases). Accounts sharing a key belong to the same person.",
        (
            _c("app", "string", "Connector of the account."),
            _c("instance", "string", "Instance of the account."),
            _c("account_id", "string", "The account (accounts.account_id)."),
            _c("key", "string", "An email address naming the account's person: lowercased and trimmed."),
            _c(
                "source",
                "string",
                "Where the key came from: " + ", ".join(s.source for s in IDENTITY_KEY_SOURCES) + ".",
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
                "The account's app is an identity provider (" + ", ".join(IDENTITY_PROVIDER_APPS) + ").",
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
        "identity_provider_apps",
        "table",
        "Apps whose instances are identity providers, from saaslens.lake.catalog.IDENTITY_PROVIDER_APPS.",
        (
            _c("app", "string", "Connector name."),
            _c("provider", "string", "The identity provider's product name."),
        ),
    ),
    Derived(
        "broad_scopes",
        "table",
        "OAuth scopes broad enough to review every grant of them, per app, from include/findings/broad_scopes.csv; "
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
        "Provider actions mapped to OCSF classes and activities, from saaslens.lake.ocsf.ACTION_MAPPINGS.",
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


# -- SQL helpers --------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _quote(str(value))


def _values_table(name: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> str:
    """`create or replace table` with typed columns and literal rows (rows may be empty)."""
    sql_types = {"string": "varchar", "int64": "bigint", "bool": "boolean"}
    column_sql = ", ".join(f"{c.name} {sql_types[c.type]}" for c in columns)
    body = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
    statement = f"create or replace table {name} ({column_sql})"
    return statement if not body else f"{statement}; insert into {name} values {body}"


def _source(lake_root: Path, table: str) -> str:
    glob = (lake_root / table / "**" / "*.parquet").as_posix()
    return f"read_parquet({_quote(glob)}, union_by_name = true, hive_partitioning = false)"


# -- reference data -----------------------------------------------------------------------------


def load_broad_scopes(path: Path) -> list[tuple[str, str, str]]:
    """(app, scope, why) rows of the broad-scope list; a bad row raises naming the file and line."""
    if not path.exists():
        raise ValueError(f"broad-scope list {path} does not exist")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ["app", "scope", "why"]:
            raise ValueError(f"{path}:1: columns must be app,scope,why (found {','.join(reader.fieldnames or [])})")
        rows = []
        for row in reader:
            line = reader.line_num
            app, scope, why = ((row.get(k) or "").strip() for k in ("app", "scope", "why"))
            if not app or not scope or not why:
                raise ValueError(f"{path}:{line}: app, scope and why must all be given")
            rows.append((app, scope, why))
    return rows


def _reference_tables(broad_scopes_path: Path) -> list[str]:
    by_name = {d.name: d for d in DERIVED}
    mappings = [
        (
            m.app,
            m.action,
            m.class_uid,
            *ocsf.CLASSES[m.class_uid],
            m.activity_id,
            ocsf.ACTIVITIES[m.class_uid][m.activity_id],
            m.severity_id,
        )
        for m in ocsf.ACTION_MAPPINGS
    ]
    defaults = [(category, uid, *ocsf.CLASSES[uid]) for category, uid in ocsf.CATEGORY_DEFAULTS.items()]
    return [
        _values_table(
            "identity_provider_apps", by_name["identity_provider_apps"].columns, IDENTITY_PROVIDER_APPS.items()
        ),
        _values_table("broad_scopes", by_name["broad_scopes"].columns, load_broad_scopes(broad_scopes_path)),
        _values_table("ocsf_activity_map", by_name["ocsf_activity_map"].columns, mappings),
        _values_table("ocsf_category_defaults", by_name["ocsf_category_defaults"].columns, defaults),
    ]


# -- derived views ------------------------------------------------------------------------------

_SEVERITY_NAMES = "[" + ", ".join(_quote(ocsf.SEVERITIES[i]) for i in range(len(ocsf.SEVERITIES))) + "]"

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


def identity_keys_sql(accounts: str, account: str = "app, instance, account_id") -> str:
    """The identity_keys query over an accounts relation (the current view or accounts_as_of(ts));
    `account` names the columns that identify an account in the result (identities passes its
    integer row id, so its joins and group-bys run over one integer instead of three strings)."""
    parts = []
    for source in IDENTITY_KEY_SOURCES:
        where = "" if source.app == "*" else f"where app = {_quote(source.app)}"
        parts.append(
            f"select {account}, unnest({source.values}) as value, {_quote(source.source)} as source "
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


def identities_sql(accounts: str) -> str:
    """The identities query over an accounts relation. Keys held by one account are linked; a
    person is a connected component of that key graph, and an account belongs to the person its
    keys belong to. Accounts without a key are their own, unlinked, person.

    Accounts and keys are numbered first (aid, kid) so every join and group-by below runs over
    integers. Most accounts hold a single key: such a key's component is the key itself (with
    every account holding it) unless an account holding several keys ties it to others, so the
    label propagation (the smallest key id, carried in a recursive CTE, each round only over the
    keys whose label shrank) runs only over the keys of accounts that hold several."""
    idp_apps = ", ".join(_quote(app) for app in IDENTITY_PROVIDER_APPS)
    return f"""
with recursive
acc as materialized (
    select *, app in ({idp_apps}) as is_identity_provider, row_number() over () as aid
    from {accounts}
),
keys as ({identity_keys_sql("acc", "aid")}),
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
            parts.append(f"select {_quote(name)} as table_name, file from glob({_quote(pattern)})")
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


def _newest_snapshot_rows(name: str, until: str | None = None) -> str:
    """Rows of `name`_history in the newest published snapshot of each app and instance (at or
    before `until`): chosen from `snapshots`, so a newest snapshot without rows yields none."""
    bound = f" and snapshot_at <= {until}" if until else ""
    return (
        f"select h.* from {name}_history as h semi join ("
        f"select app, instance, max(snapshot_id) as snapshot_id from snapshots "
        f"where table_name = {_quote(name)}{bound} group by app, instance"
        f") as newest on h.app = newest.app and h.instance = newest.instance and h.snapshot_id = newest.snapshot_id"
    )


def _table_statements(lake_root: Path) -> list[str]:
    statements = [f"create or replace view snapshots as {snapshots_sql(lake_root)}"]
    for name, table in TABLES.items():
        columns = ", ".join(table.column_names)
        if table.kind == "snapshot":
            statements += [
                f"create or replace view {name}_history as select {columns} from {_source(lake_root, name)}",
                f"create or replace view {name} as {_newest_snapshot_rows(name)}",
                f"create or replace macro {name}_as_of(ts) as table {_newest_snapshot_rows(name, 'ts::timestamptz')}",
            ]
        else:
            statements.append(f"create or replace view {name} as select {columns} from {_source(lake_root, name)}")
        views = [(name, table.description)]
        if table.kind == "snapshot":
            views.append((f"{name}_history", f"Every published snapshot of {name}: {table.description}"))
        for view, description in views:
            statements.append(f"comment on view {view} is {_quote(description)}")
            statements += [
                f"comment on column {view}.{column.name} is {_quote(column.description)}" for column in table.columns
            ]
    return statements


def _derived_statements() -> list[str]:
    statements = [
        f"create or replace view activities_normalized as {ACTIVITIES_NORMALIZED_SQL}",
        f"create or replace view identity_keys as {identity_keys_sql('accounts')}",
        f"create or replace view identities as {identities_sql('accounts')}",
        f"create or replace macro identities_as_of(ts) as table {identities_sql('accounts_as_of(ts)')}",
    ]
    for derived in DERIVED:
        noun = "view" if derived.kind == "view" else "table"
        statements.append(f"comment on {noun} {derived.name} is {_quote(derived.description)}")
        statements += [
            f"comment on column {derived.name}.{column.name} is {_quote(column.description)}"
            for column in derived.columns
        ]
    return statements


def view_statements(lake_root: Path, broad_scopes_path: Path | None = None) -> list[str]:
    from saaslens.findings import findings_dir

    scopes = broad_scopes_path or findings_dir() / "broad_scopes.csv"
    return [*_table_statements(lake_root), *_reference_tables(scopes), *_derived_statements()]


def build_catalog(lake_root: Path | None = None) -> Path:
    """Create or refresh `<lake>/saaslens.duckdb`. Safe to run while scans publish."""
    root = (lake_root or settings.lake_root()).resolve()
    lake = Lake(root)
    lake.ensure_all_schema_files()
    path = settings.catalog_path(root)
    statements = view_statements(root)
    with duckdb.connect(str(path)) as con:
        os.chmod(path, FILE_MODE)  # the catalog names people's accounts too: private like the lake
        # One transaction: a reader sees the previous catalog or the new one, and a single commit
        # is five times faster than one per statement.
        con.execute("begin transaction")
        try:
            for statement in statements:
                con.execute(statement)
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
    wal = path.with_name(path.name + ".wal")  # left only if DuckDB could not checkpoint on close
    if wal.exists():
        os.chmod(wal, FILE_MODE)
    return path


def connect(lake_root: Path | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    root = (lake_root or settings.lake_root()).resolve()
    path = settings.catalog_path(root)
    if not path.exists():
        build_catalog(root)
    return duckdb.connect(str(path), read_only=read_only)


# -- documentation --------------------------------------------------------------------------------


def catalog_markdown() -> str:
    """The derived views and tables, for docs/schema.md (after the canonical tables)."""
    lines = [
        "# Catalog views and reference tables",
        "",
        "Defined in `include/saaslens/lake/catalog.py` on top of the canonical tables; each is commented",
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
