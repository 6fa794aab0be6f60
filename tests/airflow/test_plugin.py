from __future__ import annotations

import sys
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))

import saaslens_plugin


def test_plugin_page_lists_instances_and_matrix_without_secrets():
    page = TestClient(saaslens_plugin.app).get("/").text
    assert "saaslens_okta_acme" in page and "list accounts" in page
    assert "sandbox-okta-acme-admin" not in page
    assert saaslens_plugin.SaaslensPlugin.fastapi_apps[0]["url_prefix"] == "/saaslens"
