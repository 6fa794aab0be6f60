"""The DuckDB catalog: named views over the lake, with column comments.

Views read the Parquet files by glob at query time, so a snapshot published after the catalog
was built shows up without rebuilding it. The current-state view of a snapshot table keeps, per
app and instance, only the newest published snapshot: "published" is the snapshot's directory
(`snapshot=<id>/`, renamed into place whole by SnapshotWriter.publish), listed by the `snapshots`
view, so an empty snapshot (no rows, so no snapshot_id in any row) is current too.

The derived views and reference tables (saaslens.catalog.views) read what each app declares (its
OCSF map, identity keys, identity-provider title and broad scopes: saaslens.catalog.apps), so the
catalog sits above the connectors; the lake below it only stores.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from saaslens import settings
from saaslens.catalog import ocsf
from saaslens.catalog.apps import AppCatalogData, declared
from saaslens.catalog.views import (
    ACTIVITIES_NORMALIZED_SQL,
    DERIVED,
    DLP_FINDINGS_SQL,
    DLP_MATCHES_LATEST_SQL,
    FILE_SCANS_LATEST_SQL,
    POSTURE_CHANGES_SQL,
    POSTURE_CURRENT_SQL,
    catalog_markdown,
    identities_sql,
    identity_keys_sql,
    newest_snapshot_rows,
    quote,
    snapshots_sql,
)
from saaslens.lake.schema import TABLES, Column, tables_markdown
from saaslens.lake.writer import FILE_MODE, Lake

# -- SQL helpers --------------------------------------------------------------------------------


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]::varchar[]"
    return quote(str(value))


def _values_table(name: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> str:
    """`create or replace table` with typed columns and literal rows (rows may be empty)."""
    sql_types = {"string": "varchar", "int64": "bigint", "bool": "boolean", "list<string>": "varchar[]"}
    column_sql = ", ".join(f"{c.name} {sql_types[c.type]}" for c in columns)
    body = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
    statement = f"create or replace table {name} ({column_sql})"
    return statement if not body else f"{statement}; insert into {name} values {body}"


def _source(lake_root: Path, table: str) -> str:
    glob = (lake_root / table / "**" / "*.parquet").as_posix()
    return f"read_parquet({quote(glob)}, union_by_name = true, hive_partitioning = false)"


# -- reference data -----------------------------------------------------------------------------


def _reference_tables(apps: AppCatalogData) -> list[str]:
    by_name = {d.name: d for d in DERIVED}
    mappings = [
        (
            app,
            m.action,
            m.class_uid,
            *ocsf.CLASSES[m.class_uid],
            m.activity_id,
            ocsf.ACTIVITIES[m.class_uid][m.activity_id],
            m.severity_id,
        )
        for app, m in apps.ocsf
    ]
    defaults = [(category, uid, *ocsf.CLASSES[uid]) for category, uid in ocsf.CATEGORY_DEFAULTS.items()]
    keys = [(app, key.source, key.why) for app, key in apps.identity_keys]
    return [
        _values_table("identity_provider_apps", by_name["identity_provider_apps"].columns, apps.identity_providers),
        _values_table("identity_key_sources", by_name["identity_key_sources"].columns, keys),
        _values_table("broad_scopes", by_name["broad_scopes"].columns, apps.broad_scopes),
        _values_table("ocsf_activity_map", by_name["ocsf_activity_map"].columns, mappings),
        _values_table("ocsf_category_defaults", by_name["ocsf_category_defaults"].columns, defaults),
        _values_table("dlp_policies", by_name["dlp_policies"].columns, _dlp_policy_rows()),
        _values_table("posture_rules", by_name["posture_rules"].columns, _posture_rule_rows()),
    ]


def _posture_rule_rows() -> list[tuple[Any, ...]]:
    """include/posture/ as the catalog's posture_rules table (a broken rule file fails the build
    naming the file, as it fails the settings stage)."""
    from saaslens.posture.rules import load_rules

    return [
        (
            r.id,
            r.app,
            r.title,
            r.severity,
            r.rationale,
            r.remediation,
            list(r.baselines),
            list(r.settings),
            list(r.events),
        )
        for r in load_rules()
    ]


def _dlp_policy_rows() -> list[tuple[Any, ...]]:
    """include/dlp_policies.yaml as the catalog's dlp_policies table (validated: a broken file fails
    the catalog build naming the field, as it fails a scan)."""
    from saaslens.dlp.policies import load_policies

    return [
        (
            p.id,
            p.title,
            str(p.severity.value),
            list(p.detectors),
            p.min_count,
            list(p.exposure),
            [str(a.value) for a in p.actions],
        )
        for p in load_policies().policies
    ]


# -- views ----------------------------------------------------------------------------------------


def _table_statements(lake_root: Path) -> list[str]:
    statements = [f"create or replace view snapshots as {snapshots_sql(lake_root)}"]
    for name, table in TABLES.items():
        columns = ", ".join(table.column_names)
        if table.kind == "snapshot":
            statements += [
                f"create or replace view {name}_history as select {columns} from {_source(lake_root, name)}",
                f"create or replace view {name} as {newest_snapshot_rows(name)}",
                f"create or replace macro {name}_as_of(ts) as table {newest_snapshot_rows(name, 'ts::timestamptz')}",
            ]
        else:
            statements.append(f"create or replace view {name} as select {columns} from {_source(lake_root, name)}")
        views = [(name, table.description)]
        if table.kind == "snapshot":
            views.append((f"{name}_history", f"Every published snapshot of {name}: {table.description}"))
        for view, description in views:
            statements.append(f"comment on view {view} is {quote(description)}")
            statements += [
                f"comment on column {view}.{column.name} is {quote(column.description)}" for column in table.columns
            ]
    return statements


def _derived_statements(apps: AppCatalogData) -> list[str]:
    keys = apps.identity_keys
    providers = [app for app, _title in apps.identity_providers]
    statements = [
        f"create or replace view activities_normalized as {ACTIVITIES_NORMALIZED_SQL}",
        f"create or replace view file_scans_latest as {FILE_SCANS_LATEST_SQL}",
        f"create or replace view dlp_matches_latest as {DLP_MATCHES_LATEST_SQL}",
        f"create or replace view dlp_findings as {DLP_FINDINGS_SQL}",
        f"create or replace view posture_current as {POSTURE_CURRENT_SQL}",
        f"create or replace view posture_changes as {POSTURE_CHANGES_SQL}",
        f"create or replace view identity_keys as {identity_keys_sql('accounts', keys)}",
        f"create or replace view identities as {identities_sql('accounts', keys, providers)}",
        "create or replace macro identities_as_of(ts) as table "
        + identities_sql("accounts_as_of(ts)", keys, providers),
    ]
    for derived in DERIVED:
        noun = "view" if derived.kind == "view" else "table"
        statements.append(f"comment on {noun} {derived.name} is {quote(derived.description)}")
        statements += [
            f"comment on column {derived.name}.{column.name} is {quote(column.description)}"
            for column in derived.columns
        ]
    return statements


def view_statements(lake_root: Path, apps: AppCatalogData | None = None) -> list[str]:
    """Every statement that defines the catalog over `lake_root`, for the apps declared (every app
    the registry knows unless given)."""
    apps = apps or declared()
    return [*_table_statements(lake_root), *_reference_tables(apps), *_derived_statements(apps)]


def build_catalog(lake_root: Path | None = None, apps: AppCatalogData | None = None) -> Path:
    """Create or refresh `<lake>/saaslens.duckdb` (for every app the registry knows, unless `apps`
    is given). Safe to run while scans publish."""
    root = (lake_root or settings.lake_root()).resolve()
    lake = Lake(root)
    lake.ensure_all_schema_files()
    path = settings.catalog_path(root)
    statements = view_statements(root, apps)
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


def schema_markdown() -> str:
    """docs/schema.md: the canonical tables, then the catalog's views and reference tables."""
    return tables_markdown() + "\n" + catalog_markdown()
