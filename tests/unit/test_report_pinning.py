"""Which derived views the report pins: only those more than one finding reads."""

from __future__ import annotations

from pathlib import Path

from saaslens.findings import load_findings
from saaslens.reports.build import derived_read_by_several, open_catalog

HEADER = "-- title: t\n-- description: d\n-- severity: low\n-- key: app\n\n"


def _findings(tmp_path: Path, **sql_by_id: str):
    directory = tmp_path / "findings"
    directory.mkdir()
    for finding_id, sql in sql_by_id.items():
        (directory / f"{finding_id}.sql").write_text(HEADER + sql)
    return load_findings(directory)


def test_a_view_one_finding_reads_is_not_pinned(tmp_path):
    findings = _findings(
        tmp_path,
        one="select app from identities as i join identities as d using (app)",
        # Names in comments and strings do not count as reads.
        other="-- identities\nselect app from accounts where app <> 'identities'",
    )
    assert derived_read_by_several(findings) == ()


def test_a_view_several_findings_read_is_pinned(tmp_path):
    findings = _findings(tmp_path, one="select app from identities", two="select app from IDENTITIES")
    assert derived_read_by_several(findings) == ("identities",)


def test_open_catalog_pins_only_the_derived_views_asked_for(tmp_path):
    lake = tmp_path / "lake"
    lake.mkdir()
    for pin_derived, expected in (((), set()), (("identities",), {"identities"})):
        with open_catalog(lake, pin=True, pin_derived=pin_derived) as con:
            rows = con.execute("select table_name from duckdb_tables() where temporary").fetchall()
        temporary = {row[0] for row in rows}
        assert "accounts" in temporary
        assert temporary & {"identities"} == expected
