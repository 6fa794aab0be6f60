"""The finding file format and the Python API the reports build on (saaslens.findings)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from saaslens.findings import (
    FindingError,
    findings_dir,
    load_findings,
    parse_finding,
    parse_literal,
    resolve_params,
    run_finding,
)

GOOD = """\
-- title: Dormant accounts
-- description: Active accounts nobody signed in to
--   for a long time.
-- severity: Medium
-- key: app, instance, account_id
-- param dormant_days: 90
-- param ratio: 0.5
-- param as_of: now
-- param apps: [okta, 'slack', 3]

-- a comment in the body is free text: not part of the header
select 'okta' as app, 'prod' as instance, 'u1' as account_id,
       $dormant_days as days, $ratio as ratio, $as_of as as_of, $apps as apps;
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.sql"
    path.write_text(text)
    return path


def test_header_is_parsed_with_typed_defaults(tmp_path):
    finding = parse_finding(write(tmp_path, "dormant_accounts", GOOD))
    assert finding.id == "dormant_accounts"
    assert finding.title == "Dormant accounts"
    assert finding.description == "Active accounts nobody signed in to for a long time."
    assert finding.severity == "medium"
    assert finding.key == ("app", "instance", "account_id")
    assert finding.params == {"dormant_days": 90, "ratio": 0.5, "as_of": "now", "apps": ["okta", "slack", 3]}
    assert type(finding.params["dormant_days"]) is int
    assert finding.sql.startswith("-- a comment in the body")
    assert not finding.sql.endswith(";")


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("90", 90),
        ("-3", -3),
        ("2.5", 2.5),
        ("1e3", 1000.0),
        ("'90'", "90"),
        ('"a, b"', "a, b"),
        ("now", "now"),
        ("[]", []),
        ("['a,b', c]", ["a,b", "c"]),
    ],
)
def test_literals(literal, value):
    parsed = parse_literal(literal)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("-- title: T\n-- severty: high\nselect 1", 2, "unknown header field 'severty'"),
        ("-- title: T\n-- description: D\n-- severity: urgent\n-- key: app\nselect 1", 3, "severity 'urgent'"),
        ("-- title: T\n-- title: U\nselect 1", 2, "given twice"),
        ("-- title: T\n-- description: D\n-- severity: low\n-- key: app id\nselect 1", 4, "key column 'app id'"),
        ("-- title: T\n-- description: D\nselect 1", 1, "header lacks severity, key"),
        ("-- just a comment\nselect 1", 1, "expected a '-- key: value' header line"),
        ("-- title: T\n-- param days:\nselect $days", 2, "param 'days' has no default"),
        ("-- title: T\n-- description: D\n-- severity: low\n-- key: app\n", 4, "no SQL after the header"),
    ],
)
def test_bad_header_names_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, "broken", text)
    with pytest.raises(FindingError) as error:
        parse_finding(path)
    assert f"{path}:{line}:" in str(error.value)
    assert message in str(error.value)


def test_params_and_sql_must_agree(tmp_path):
    header = "-- title: T\n-- description: D\n-- severity: low\n-- key: app\n"
    undeclared = write(tmp_path, "undeclared", header + "select 'x' as app where 1 < $limit")
    with pytest.raises(FindingError, match=r"undeclared\.sql: the SQL uses \$limit"):
        parse_finding(undeclared)
    unused = write(tmp_path, "unused", header + "-- param limit: 3\nselect 'x' as app -- not $limit\n")
    with pytest.raises(FindingError, match=r"param 'limit' is declared but the SQL never uses"):
        parse_finding(unused)


def test_run_finding_applies_defaults_and_overrides(tmp_path):
    finding = parse_finding(write(tmp_path, "dormant_accounts", GOOD))
    con = duckdb.connect()
    row = run_finding(con, finding).to_pylist()[0]
    assert (row["days"], row["ratio"], row["as_of"], row["apps"]) == (90, 0.5, "now", ["okta", "slack", "3"])
    row = run_finding(con, finding, {"dormant_days": "30", "as_of": "2026-01-01T00:00:00+00:00"}).to_pylist()[0]
    assert (row["days"], row["as_of"]) == (30, "2026-01-01T00:00:00+00:00")


def test_unknown_param_names_finding_and_param(tmp_path):
    finding = parse_finding(write(tmp_path, "dormant_accounts", GOOD))
    with pytest.raises(ValueError, match=r"finding 'dormant_accounts' has no param 'dormant_dayz'"):
        run_finding(duckdb.connect(), finding, {"dormant_dayz": 30})


def test_bad_param_value_names_finding_and_param(tmp_path):
    finding = parse_finding(write(tmp_path, "dormant_accounts", GOOD))
    with pytest.raises(FindingError, match=r"finding 'dormant_accounts': param 'dormant_days' expects a int"):
        resolve_params(finding, {"dormant_days": "ninety"})


def test_result_must_carry_the_key_columns(tmp_path):
    path = write(
        tmp_path,
        "keyless",
        "-- title: T\n-- description: D\n-- severity: info\n-- key: app, grant_id\nselect 'okta' as app",
    )
    with pytest.raises(FindingError, match=r"finding 'keyless' .* returns no key column 'grant_id'"):
        run_finding(duckdb.connect(), parse_finding(path))


def test_sql_errors_name_the_finding(tmp_path):
    path = write(
        tmp_path, "typo", "-- title: T\n-- description: D\n-- severity: info\n-- key: app\nselect app from nowhere"
    )
    with pytest.raises(FindingError, match=r"finding 'typo'"):
        run_finding(duckdb.connect(), parse_finding(path))


def test_findings_dir_is_overridable(tmp_path, monkeypatch):
    write(tmp_path, "b_second", GOOD)
    write(tmp_path, "a_first", GOOD)
    monkeypatch.setenv("SAASLENS_FINDINGS", str(tmp_path))
    assert findings_dir() == tmp_path
    assert [f.id for f in load_findings()] == ["a_first", "b_second"]
    with pytest.raises(FindingError, match="does not exist"):
        load_findings(tmp_path / "missing")


def test_shipped_findings_load():
    findings = load_findings()
    assert findings, "include/findings holds no finding"
    for finding in findings:
        assert finding.key[:2] == ("app", "instance"), finding.id


def test_the_analyst_guide_lists_every_finding_with_its_params():
    guide = (Path(__file__).resolve().parents[2] / "docs" / "analysts.md").read_text()
    for finding in load_findings():
        row = next((line for line in guide.splitlines() if line.startswith(f"| `{finding.id}` |")), None)
        assert row is not None, f"docs/analysts.md has no row for finding {finding.id}"
        assert f"| {finding.severity} |" in row and ", ".join(finding.key) in row, finding.id
        for name, default in finding.params.items():
            assert f"`{name}` {default}" in row, (finding.id, name)


def test_findings_are_hashable_values():
    first, again = load_findings(), load_findings()
    assert first == again and len(set(first) | set(again)) == len(first)
