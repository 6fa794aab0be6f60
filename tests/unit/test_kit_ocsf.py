"""The OCSF action map an app keeps as ocsf.csv in its folder, read by kit.read_ocsf."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from saaslens.connectors import registry
from saaslens.connectors.kit import OcsfMapping, read_ocsf

GOOD = """\
# acme: provider actions mapped to OCSF event classes and activities (https://schema.ocsf.io).
# Source of the action names: https://acme.example/docs/audit-actions
action,class_uid,activity_id,severity_id
user.signin,3002,1,
user.suspend,3001,5,

# a comment between rows is skipped too, and so is the blank line above
"role.grant, admin",3005,3,3
"""

HEADER = "action,class_uid,activity_id,severity_id\n"


def write(tmp_path, text: str):
    path = tmp_path / "ocsf.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_gives_its_rows_in_order_with_the_default_severity(tmp_path):
    assert OcsfMapping.read_csv(write(tmp_path, GOOD)) == (
        OcsfMapping("user.signin", 3002, 1),
        OcsfMapping("user.suspend", 3001, 5),
        OcsfMapping("role.grant, admin", 3005, 3, 3),
    )


def test_severity_is_an_optional_column_and_columns_may_come_in_any_order(tmp_path):
    text = "# no severity column\nactivity_id,action,class_uid\n1,user.signin,3002\n"
    assert OcsfMapping.read_csv(write(tmp_path, text)) == (OcsfMapping("user.signin", 3002, 1),)


def test_read_ocsf_finds_the_file_beside_a_package(tmp_path, monkeypatch):
    package = tmp_path / "acme_ocsf_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "ocsf.csv").write_text(GOOD)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [m.action for m in read_ocsf("acme_ocsf_pkg")] == ["user.signin", "user.suspend", "role.grant, admin"]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("# only a comment\n", None, "no header row"),
        ("action,class_uid\nuser.signin,3002\n", 1, "missing: ['activity_id']"),
        ("action,class_uid,activity_id,status_id\nx,3002,1,1\n", 1, "unknown: ['status_id']"),
        ("action,class_uid,activity_id,action\nx,3002,1,y\n", 1, "at most once"),
        ("# source\n" + HEADER + "user.signin,3002,1\n", 3, "3 columns where the header has 4"),
        (HEADER + "user.signin,3002,1,,extra\n", 2, "5 columns where the header has 4"),
        (HEADER + "user.signin,3002,,\n", 2, "missing activity_id"),
        (HEADER + ",3002,1,\n", 2, "missing action"),
        (HEADER + "user.signin,auth,1,\n", 2, "class_uid is not an integer: 'auth'"),
        (HEADER + "user.signin,3002,1.5,\n", 2, "activity_id is not an integer: '1.5'"),
        (HEADER + "user.signin,3002,1,high\n", 2, "severity_id is not an integer: 'high'"),
        (HEADER + "user.signin,3002,1,\n# c\nuser.signin,3002,2,\n", 4, "'user.signin' is already mapped on line 2"),
    ],
)
def test_a_malformed_file_is_refused_naming_file_line_and_problem(tmp_path, text, line, problem):
    path = write(tmp_path, text)
    where = f"{path}:{line}: " if line else f"{path}: "
    with pytest.raises(ValueError, match=re.escape(where)) as refused:
        OcsfMapping.read_csv(path)
    assert problem in str(refused.value)


def test_every_built_in_app_reads_its_map_and_cites_the_provider():
    for app in ("okta", "slack", "github", "google_workspace", "microsoft365"):
        spec = registry.app_spec(app)
        package = f"saaslens.connectors.{app}"
        assert read_ocsf(package) == spec.ocsf and spec.ocsf
        head = (files(package) / "ocsf.csv").read_text().splitlines()[:2]
        assert all(line.startswith("#") for line in head)
        assert "https://" in head[1] and "Source of the action names" in head[1]
