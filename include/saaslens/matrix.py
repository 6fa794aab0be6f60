"""The capability matrix, computed from the apps' declarations (saaslens.connectors.kit.AppSpec).

A cell is built when the app's declared stages collect the capability or one of its declared actions
is implemented (plan, apply and verify given: `AppSpec.collected`); supported by the provider's API
when the app declares it as such or declares an action giving it, not yet implemented
(`AppSpec.capabilities`); otherwise not possible. Governance, revoking app permissions, sharing
control and file governance thus come from declared actions alone (vocabulary.TARGET_CAPABILITY).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from saaslens.connectors import registry
from saaslens.connectors.kit import AppSpec
from saaslens.vocabulary import Capability


def app_entry(spec: AppSpec) -> dict[str, Any]:
    """One app's column of the matrix, with what it is computed from (`saaslens capabilities
    --format json` prints these)."""
    return {
        "title": spec.title,
        "capabilities": {c.value: c in spec.capabilities for c in Capability},
        "collected": {c.value: c in spec.collected for c in Capability},
        "stages": [str(stage) for stage in spec.stage_names],
        "stage_permissions": spec.stage_permissions,
        "actions": [
            {
                "name": action.name,
                "target": str(action.target),
                "capability": str(action.capability),
                "permission": action.permission,
                "reversible": action.reversible,
                "implemented": action.implemented,
            }
            for action in spec.actions
        ],
    }


def capability_matrix(specs: Sequence[AppSpec] | None = None) -> dict[str, Any]:
    """The matrix of `specs` (every known app's by default), apps in name order."""
    chosen = registry.app_specs() if specs is None else sorted(specs, key=lambda spec: spec.app)
    return {"capabilities": [c.value for c in Capability], "apps": {spec.app: app_entry(spec) for spec in chosen}}


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


def matrix_table(specs: Sequence[AppSpec] | None = None) -> tuple[list[str], list[list[str]]]:
    """The header (capability, then each app's title) and one row per capability: its name, then its
    state for each app."""
    matrix = capability_matrix(specs)
    apps = matrix["apps"]
    header = ["capability", *(apps[a]["title"] for a in apps)]
    rows = [[c, *(capability_state(apps[a], c) for a in apps)] for c in matrix["capabilities"]]
    return header, rows


def matrix_markdown(specs: Sequence[AppSpec] | None = None) -> str:
    header, rows = matrix_table(specs)
    lines = [
        "`yes`: saaslens does it today. `API`: the provider's API supports it; the saaslens feature",
        "(governance action, content scan, posture check) is not built yet. Empty: not possible.",
        "",
        "| " + " | ".join(header) + " |",
        "|---|" + "---|" * (len(header) - 1),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
