"""The capability matrix, computed from the connectors' declarations."""

from __future__ import annotations

from typing import Any

from saaslens.connectors import registry
from saaslens.vocabulary import IMPLEMENTED, Capability


def capability_matrix() -> dict[str, Any]:
    apps = {}
    for app in registry.known_apps():
        connector = registry.connector_class(app)
        apps[app] = {
            "title": connector.title,
            "capabilities": {c.value: c in connector.capabilities for c in Capability},
            "collected": {c.value: c in connector.capabilities and c in IMPLEMENTED for c in Capability},
            "stages": connector.stages(),
            "stage_permissions": dict(connector.stage_permissions),
        }
    return {"capabilities": [c.value for c in Capability], "apps": apps}


# The three states a cell of the matrix shows, in docs/capabilities.md and on the Airflow page
# (plugins/saaslens_plugin.py) alike: both read `matrix_table`, so they cannot disagree.
BUILT = "yes"
PROVIDER_API_ONLY = "API"
NOT_POSSIBLE = ""
STATE_MEANINGS = {
    BUILT: "saaslens does it today",
    PROVIDER_API_ONLY: "the provider's API supports it; the saaslens feature (governance action, content scan, "
    "posture check) is not built yet",
    NOT_POSSIBLE: "not possible",
}


def capability_state(entry: dict[str, Any], capability: str) -> str:
    """BUILT, PROVIDER_API_ONLY or NOT_POSSIBLE for one app (an entry of `capability_matrix()["apps"]`)."""
    if entry["collected"][capability]:
        return BUILT
    return PROVIDER_API_ONLY if entry["capabilities"][capability] else NOT_POSSIBLE


def matrix_table() -> tuple[list[str], list[list[str]]]:
    """The header (capability, then each app's title) and one row per capability: its name, then its
    state for each app."""
    matrix = capability_matrix()
    apps = matrix["apps"]
    header = ["capability", *(apps[a]["title"] for a in apps)]
    rows = [[c, *(capability_state(apps[a], c) for a in apps)] for c in matrix["capabilities"]]
    return header, rows


def matrix_markdown() -> str:
    header, rows = matrix_table()
    lines = [
        "`yes`: saaslens does it today. `API`: the provider's API supports it; the saaslens feature",
        "(governance action, content scan, posture check) is not built yet. Empty: not possible.",
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---|" * (len(header) - 1),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
