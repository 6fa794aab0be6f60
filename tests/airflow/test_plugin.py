"""The saaslens page's content. Who may see it (Airflow's login) is proven against Airflow's real
API app in tests/security/test_plugin_auth.py."""

from __future__ import annotations

import html
import sys
import textwrap
from pathlib import Path

import yaml

from saaslens.matrix import STATE_MEANINGS
from tests.airflow.clean_interpreter import run_python_json

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "plugins"))

import saaslens_plugin  # noqa: E402 - from the plugins folder, as Airflow loads it


def every_dag(dag_ids: set[str]) -> set[str]:
    return dag_ids


def no_dag(dag_ids: set[str]) -> set[str]:
    return set()


def test_plugin_page_lists_instances_and_matrix_without_secrets():
    page = saaslens_plugin.overview_page(every_dag, all_dags=True)
    assert "saaslens_okta_acme" in page and "list accounts" in page
    assert "sandbox-okta-acme-admin" not in page
    assert all(html.escape(meaning) in page for meaning in STATE_MEANINGS.values())
    assert saaslens_plugin.SaaslensPlugin.fastapi_apps[0]["url_prefix"] == "/saaslens"


def write_config(tmp_path: Path, monkeypatch) -> Path:
    config = tmp_path / "connected_apps.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "instances": [
                    {"app": "okta", "name": "shown", "conn_id": "okta_shown"},
                    {"app": "okta", "name": "<script>alert(1)</script>", "conn_id": "okta_bad"},
                ]
            }
        )
    )
    monkeypatch.setenv("SAASLENS_CONFIG", str(config))
    return config


def test_rows_follow_the_callers_dag_access_and_never_the_config_path(tmp_path, monkeypatch):
    config = write_config(tmp_path, monkeypatch)
    full = saaslens_plugin.overview_page(every_dag, all_dags=True)
    assert "saaslens_okta_shown" in full
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in full and "<script>" not in full
    assert str(tmp_path) not in full and config.name not in full

    # A caller who may read no saaslens DAG (and not every DAG) sees no instance, valid or not.
    none = saaslens_plugin.overview_page(no_dag, all_dags=False)
    assert "saaslens_okta_shown" not in none and "alert(1)" not in none
    assert "list accounts" in none  # the matrix describes the connectors, not the instances


def test_unreadable_config_is_reported_without_its_path(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / "connected_apps.yaml"
    monkeypatch.setenv("SAASLENS_CONFIG", str(missing))
    page = saaslens_plugin.overview_page(every_dag, all_dags=True)
    assert "saaslens validate" in page
    assert str(tmp_path) not in page and "nowhere" not in page


def test_loading_the_plugin_stays_light():
    """Airflow imports plugin modules outside the API server too (scheduler, DAG processor, tasks);
    the page's dependencies load on its first request only."""
    code = textwrap.dedent(f"""
        import json, sys
        import airflow.plugins_manager  # loaded already whenever Airflow loads plugins
        before = set(sys.modules)
        sys.path.insert(0, {str(ROOT / "plugins")!r})
        import saaslens_plugin
        print(json.dumps(sorted(set(sys.modules) - before)))
    """)
    loaded = set(run_python_json(code))
    assert "airflow.api_fastapi.core_api.security" not in loaded
    assert not any(m == "saaslens" or m.startswith("saaslens.") for m in loaded)
    assert len(loaded) < 50, f"importing the plugin loaded {len(loaded)} modules"
