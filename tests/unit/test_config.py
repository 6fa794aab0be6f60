from __future__ import annotations

from pathlib import Path

import pytest

from saaslens.config import ConfigError
from saaslens.connectors.instances import load_connected_apps
from saaslens.orchestration.naming import dag_id, pool_name


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "connected_apps.yaml"
    path.write_text(text)
    return path


def test_repository_config_is_valid():
    apps = load_connected_apps(Path(__file__).resolve().parents[2] / "include" / "connected_apps.yaml")
    assert not apps.errors
    assert {(i.app, i.name) for i in apps.instances} >= {("okta", "acme"), ("okta", "globex")}


def test_bad_entry_names_file_instance_and_field_and_breaks_only_itself(tmp_path):
    path = write(
        tmp_path,
        """
instances:
  - {app: okta, name: good, conn_id: c1}
  - {app: okta, name: bad, conn_id: c2, pool_slots: 0}
  - {app: nosuchapp, name: other, conn_id: c3}
  - {app: okta, name: opts, conn_id: c4, options: {activities_initial_days: 400}}
  - {app: okta, name: "Bad Name", conn_id: c5}
  - {app: okta, name: typo, conn_id: c6, schedul: "@daily"}
""",
    )
    apps = load_connected_apps(path)
    assert [i.name for i in apps.instances] == ["good"]
    messages = {e.name: str(e) for e in apps.errors}
    assert str(path) in messages["bad"] and "'bad'" in messages["bad"] and "pool_slots" in messages["bad"]
    assert "unknown app 'nosuchapp'" in messages["other"]
    assert "options.activities_initial_days" in messages["opts"]
    assert "field 'name'" in messages["Bad Name"]
    assert "schedul" in messages["typo"]


def test_duplicate_names_per_app(tmp_path):
    path = write(tmp_path, "instances:\n  - {app: okta, name: a, conn_id: x}\n  - {app: okta, name: a, conn_id: y}\n")
    apps = load_connected_apps(path)
    assert len(apps.instances) == 1 and "duplicate" in str(apps.errors[0])


def test_defaults_apply_and_entries_override(tmp_path):
    path = write(
        tmp_path,
        "defaults: {pool_slots: 7, schedule: '@weekly'}\ninstances:\n"
        "  - {app: okta, name: a, conn_id: x}\n  - {app: okta, name: b, conn_id: y, pool_slots: 2}\n",
    )
    a, b = load_connected_apps(path).instances
    assert (a.pool_slots, a.schedule, b.pool_slots) == (7, "@weekly", 2)
    assert dag_id(a) == "saaslens_okta_a" and pool_name(a) == "saaslens_okta_a"


def test_unreadable_files_raise_with_path(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_connected_apps(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_connected_apps(write(tmp_path, "instances: [unclosed"))
    with pytest.raises(ConfigError, match="'instances' list"):
        load_connected_apps(write(tmp_path, "instances: 5"))


def test_lookup_by_name_and_app_name(tmp_path):
    path = write(
        tmp_path,
        "instances:\n  - {app: okta, name: a, conn_id: x}\n  - {app: okta, name: bad, conn_id: ''}\n",
    )
    apps = load_connected_apps(path)
    assert apps.get("a").name == "a" and apps.get("okta/a").name == "a"
    with pytest.raises(ConfigError, match="no instance 'zzz'"):
        apps.get("zzz")
    with pytest.raises(ConfigError, match="conn_id"):
        apps.get("bad")
