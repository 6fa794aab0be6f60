"""App name -> connector class, imported lazily.

The DAG file needs each app's capabilities at parse time; importing a connector module costs
only httpx and pydantic, never pandas, pyarrow or duckdb (a test holds us to that).
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from saaslens.capabilities import Capability
    from saaslens.connectors.base import Connector

CONNECTORS: dict[str, str] = {
    "okta": "saaslens.connectors.okta:OktaConnector",
    "microsoft365": "saaslens.connectors.microsoft365:Microsoft365Connector",
    "google_workspace": "saaslens.connectors.google_workspace:GoogleWorkspaceConnector",
    "slack": "saaslens.connectors.slack:SlackConnector",
    "github": "saaslens.connectors.github:GitHubConnector",
}


def known_apps() -> list[str]:
    return sorted(CONNECTORS)


@cache
def connector_class(app: str) -> type[Connector]:
    try:
        target = CONNECTORS[app]
    except KeyError:
        raise KeyError(f"unknown app {app!r} (known: {', '.join(known_apps())})") from None
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def capabilities(app: str) -> frozenset[Capability]:
    return connector_class(app).capabilities


def validate_options(app: str, options: dict[str, Any]) -> str | None:
    """None when the options are valid for the app, else a message naming the field."""
    try:
        connector_class(app).Options.model_validate(options)
    except ValidationError as exc:
        return "; ".join(f"field 'options.{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors())
    return None
