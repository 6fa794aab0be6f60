"""App name -> its declaration (AppSpec), imported lazily.

Built-in apps are one line each in BUILT_IN. Apps shipped as their own package are found through the
`saaslens.connectors` entry-point group (the way Airflow finds providers): the package declares

    [project.entry-points."saaslens.connectors"]
    zendesk = "saaslens_zendesk:APP"

and the value names its AppSpec. A built-in app's name cannot be taken by a plug-in.

The DAG file needs each app's stages at parse time; importing a connector module costs only httpx and
pydantic, never pandas, pyarrow or duckdb (a test holds us to that).
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from saaslens.connectors.base import Connector
from saaslens.connectors.kit import AppSpec
from saaslens.vocabulary import Capability

ENTRY_POINT_GROUP = "saaslens.connectors"

BUILT_IN: dict[str, str] = {
    "okta": "saaslens.connectors.okta:APP",
    "microsoft365": "saaslens.connectors.microsoft365:APP",
    "google_workspace": "saaslens.connectors.google_workspace:APP",
    "slack": "saaslens.connectors.slack:APP",
    "github": "saaslens.connectors.github:APP",
    "box": "saaslens.connectors.box:APP",
    "dropbox": "saaslens.connectors.dropbox:APP",
}


class ConnectorLoadError(Exception):
    """A declared connector cannot be loaded or does not declare an app correctly."""


@cache
def _targets() -> dict[str, str]:
    """Every app name -> "module:attribute" of its AppSpec, built-in ones first."""
    targets = dict(BUILT_IN)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in BUILT_IN:
            continue  # a plug-in never replaces a built-in connector
        targets.setdefault(entry.name, entry.value)
    return targets


def known_apps() -> list[str]:
    return sorted(_targets())


@cache
def app_spec(app: str) -> AppSpec:
    try:
        target = _targets()[app]
    except KeyError:
        raise KeyError(f"unknown app {app!r} (known: {', '.join(known_apps())})") from None
    module_name, _, attribute = target.partition(":")
    try:
        declared: Any = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConnectorLoadError(f"connector {app!r}: cannot load {target!r}: {exc}") from exc
    if not isinstance(declared, AppSpec):
        kind = "a class" if isinstance(declared, type) else f"a {type(declared).__name__}"
        raise ConnectorLoadError(
            f"connector {app!r}: {target!r} is {kind}, not an AppSpec (point the entry point at the app's "
            "`APP = AppSpec(...)`: docs/adding-a-connector.md)"
        )
    if not (isinstance(declared.connector, type) and issubclass(declared.connector, Connector)):
        raise ConnectorLoadError(f"connector {app!r}: {target!r} names {declared.connector!r}, not a Connector class")
    if declared.app != app:
        raise ConnectorLoadError(f"connector {app!r}: {target!r} declares the app {declared.app!r}")
    # The stages declare the permissions they need; the connector names them when a probe is denied
    # (Connector.probe), without importing the registry back.
    declared.connector.stage_permissions = declared.stage_permissions
    return declared


def app_specs() -> list[AppSpec]:
    return [app_spec(app) for app in known_apps()]


def connector_class(app: str) -> type[Connector]:
    return app_spec(app).connector


def capabilities(app: str) -> frozenset[Capability]:
    return app_spec(app).capabilities


def validate_options(app: str, options: dict[str, Any]) -> str | None:
    """None when the options are valid for the app, else a message naming the field."""
    try:
        connector_class(app).Options.model_validate(options)
    except ValidationError as exc:
        return "; ".join(f"field 'options.{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors())
    return None
