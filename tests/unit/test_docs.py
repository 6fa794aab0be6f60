"""Generated docs stay in step with the code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from saaslens.catalog.build import schema_markdown
from saaslens.matrix import capability_matrix, matrix_markdown
from saaslens.posture.rules import rules_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_schema_doc_is_current():
    assert (ROOT / "docs" / "schema.md").read_text().strip() == schema_markdown().strip(), (
        "docs/schema.md is stale: run `make docs`"
    )


def test_capability_doc_is_current():
    assert (ROOT / "docs" / "capabilities.md").read_text().strip() == matrix_markdown().strip(), (
        "docs/capabilities.md is stale: run `make docs`"
    )


def test_posture_rules_doc_is_current():
    assert (ROOT / "docs" / "posture_rules.md").read_text() == rules_markdown(), (
        "docs/posture_rules.md is stale: run `make docs`"
    )


def test_every_app_has_a_connector_page_and_the_matrix_is_complete():
    matrix = capability_matrix()
    for app, entry in matrix["apps"].items():
        assert (ROOT / "docs" / "connectors" / f"{app}.md").exists(), f"docs/connectors/{app}.md missing"
        assert set(entry["capabilities"]) == set(matrix["capabilities"])
        assert entry["stages"][0] == "authenticate"


def test_capabilities_command_prints_json():
    out = subprocess.run(
        [sys.executable, "-m", "saaslens.cli", "capabilities", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out)["apps"]["okta"]["capabilities"]["list accounts"] is True
