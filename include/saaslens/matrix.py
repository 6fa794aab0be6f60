"""The capability matrix, computed from the connectors' declarations."""

from __future__ import annotations

from typing import Any

from saaslens.capabilities import IMPLEMENTED, Capability
from saaslens.connectors import registry


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


def _cell(entry: dict[str, Any], capability: str) -> str:
    if entry["collected"][capability]:
        return "yes"
    return "API" if entry["capabilities"][capability] else ""


def matrix_markdown() -> str:
    matrix = capability_matrix()
    apps = matrix["apps"]
    header = "| capability | " + " | ".join(apps[a]["title"] for a in apps) + " |"
    lines = [
        "`yes`: saaslens does it today. `API`: the provider's API supports it; the saaslens feature",
        "(governance action, content scan, posture check) is not built yet. Empty: not possible.",
        "",
        header,
        "|---|" + "---|" * len(apps),
    ]
    for capability in matrix["capabilities"]:
        cells = [_cell(apps[a], capability) for a in apps]
        lines.append(f"| {capability} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
