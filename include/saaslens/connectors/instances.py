"""The connected-apps file, checked against the apps the registry knows (built-in and installed).

saaslens.config reads and checks the file's own rules; whether an entry's app exists and accepts its
options only the registry can say, and config, a module every layer shares, does not import it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from saaslens.config import ConnectedApps, read_connected_apps
from saaslens.connectors import registry


def app_problem(app: str, options: dict[str, Any]) -> str | None:
    """None when `app` is known and accepts `options`, else why not, naming the field."""
    known = registry.known_apps()
    if app not in known:
        return f"field 'app': unknown app {app!r} (known: {', '.join(known)})"
    try:
        return registry.validate_options(app, options)
    except registry.ConnectorLoadError as exc:  # a broken plug-in breaks only its own instances
        return f"field 'app': {exc}"


def load_connected_apps(path: Path | str | None = None) -> ConnectedApps:
    """The connected-apps file (SAASLENS_CONFIG by default): its valid instances and an error per bad
    entry (saaslens.config.read_connected_apps)."""
    return read_connected_apps(path, app_problem)
