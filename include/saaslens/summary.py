"""The short visibility summary `make demo` ends with, straight from the catalog views."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from saaslens.catalog.build import build_catalog, connect
from saaslens.terminal import safe_text

QUERIES = {
    "Accounts by status": """
        select app || '/' || instance as instance, status, count(*) as accounts
        from accounts group by all order by 1, 3 desc""",
    "Administrators": """
        select app || '/' || instance as instance, count(distinct account_id) as admins,
               string_agg(distinct privilege_name, ', ' order by privilege_name) as roles
        from privileges group by all order by 1""",
    "Sign-ins in the last 24 h": """
        select app || '/' || instance as instance, count(*) as sign_ins,
               count(*) filter (where outcome = 'failure') as failed,
               count(distinct actor_id) filter (where outcome = 'failure') as accounts_with_failures
        from activities
        where category = 'logon' and occurred_at >= now() - interval 24 hours
        group by all order by 1""",
    "Last scans": """
        select app || '/' || instance as instance, stage, status, records, requests, throttled,
               strftime(ended_at, '%Y-%m-%d %H:%M:%S') as ended
        from scan_runs qualify row_number() over (partition by app, instance, stage order by ended_at desc) = 1
        order by 1, 2""",
}


def print_summary(lake_root: Path, console: Console) -> None:
    path = build_catalog(lake_root)
    with connect(lake_root) as con:
        for title, sql in QUERIES.items():
            result = con.execute(sql)
            columns = [d[0] for d in result.description]
            table = Table(title=title, title_justify="left")
            for column in columns:
                table.add_column(column)
            for row in result.fetchall():
                # Role names, statuses and the like are the provider's text: rich renders a cell's
                # string as markup, so it is escaped and stripped of control characters first.
                table.add_row(*("" if v is None else f"{v:,}" if isinstance(v, int) else safe_text(v) for v in row))
            console.print(table)
    lake, catalog = safe_text(lake_root), safe_text(path)
    console.print(f"lake: {lake}\ncatalog: {catalog}  (duckdb {catalog} -c 'select * from accounts limit 5')")
