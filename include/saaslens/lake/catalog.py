"""The DuckDB catalog: named views over the lake, with column comments.

Views read the Parquet files by glob at query time, so a snapshot published after the catalog
was built shows up without rebuilding it. The current-state view of a snapshot table keeps, per
app and instance, only the newest published snapshot.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from saaslens import settings
from saaslens.lake.schema import TABLES
from saaslens.lake.writer import Lake


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _source(lake_root: Path, table: str) -> str:
    glob = (lake_root / table / "**" / "*.parquet").as_posix()
    return f"read_parquet({_quote(glob)}, union_by_name = true, hive_partitioning = false)"


def view_statements(lake_root: Path) -> list[str]:
    statements = []
    for name, table in TABLES.items():
        columns = ", ".join(table.column_names)
        if table.kind == "snapshot":
            statements += [
                f"create or replace view {name}_history as select {columns} from {_source(lake_root, name)}",
                f"create or replace view {name} as select * from {name}_history "
                f"qualify snapshot_id = max(snapshot_id) over (partition by app, instance)",
                f"create or replace macro {name}_as_of(ts) as table select * from {name}_history "
                f"where snapshot_at <= ts::timestamptz "
                f"qualify snapshot_id = max(snapshot_id) over (partition by app, instance)",
            ]
        else:
            statements.append(f"create or replace view {name} as select {columns} from {_source(lake_root, name)}")
        statements.append(f"comment on view {name} is {_quote(table.description)}")
        statements += [
            f"comment on column {name}.{column.name} is {_quote(column.description)}" for column in table.columns
        ]
    return statements


def build_catalog(lake_root: Path | None = None) -> Path:
    """Create or refresh `<lake>/saaslens.duckdb`. Safe to run while scans publish."""
    root = (lake_root or settings.lake_root()).resolve()
    lake = Lake(root)
    lake.ensure_all_schema_files()
    path = settings.catalog_path(root)
    with duckdb.connect(str(path)) as con:
        for statement in view_statements(root):
            con.execute(statement)
    return path


def connect(lake_root: Path | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    root = (lake_root or settings.lake_root()).resolve()
    path = settings.catalog_path(root)
    if not path.exists():
        build_catalog(root)
    return duckdb.connect(str(path), read_only=read_only)
