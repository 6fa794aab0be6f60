"""Credentials come from Airflow Connections, never from connected_apps.yaml.

Inside an Airflow task the connection is read through the Task SDK (which consults secrets
backends, environment variables and the metadata database, in Airflow's order). Outside Airflow
(`saaslens sync`) the same connection is found in an `AIRFLOW_CONN_<ID>` environment variable
or, for local development, in airflow_settings.yaml.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from saaslens import settings
from saaslens.http.redaction import register_secret


class ConnectionNotFoundError(LookupError):
    pass


class ConnectionInvalidError(ValueError):
    pass


@dataclass(frozen=True)
class ConnectionInfo:
    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    schema: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        register_secret(self.password)
        for key, value in self.extra.items():
            if isinstance(value, str) and _looks_secret(key):
                register_secret(value)

    @property
    def base_url(self) -> str:
        """The API base URL. `host` may be a full URL (https://acme.okta.com, or the sandbox's
        http://127.0.0.1:8765/okta/acme); a bare host gets https:// and the port."""
        if not self.host:
            raise ConnectionInvalidError(f"Airflow connection {self.conn_id!r} has no host (the API base URL)")
        if "://" in self.host:
            return self.host.rstrip("/")
        scheme = self.schema if self.schema in ("http", "https") else "https"
        port = f":{self.port}" if self.port else ""
        return f"{scheme}://{self.host}{port}"

    def require(self, field_name: str, what: str) -> str:
        value = getattr(self, field_name, None) if field_name in {"login", "password"} else self.extra.get(field_name)
        if not value:
            where = field_name if field_name in {"login", "password"} else f"extra.{field_name}"
            raise ConnectionInvalidError(f"Airflow connection {self.conn_id!r}: {where} is empty; it must hold {what}")
        return str(value)

    def extra_or(self, extra_key: str, field_name: Literal["login", "password"], what: str) -> str:
        """`extra.<extra_key>`, else the connection's login or password field (where Airflow's form puts
        it), else ConnectionInvalidError naming both places and what they must hold."""
        value = self.extra.get(extra_key) or getattr(self, field_name)
        if not value:
            raise ConnectionInvalidError(
                f"Airflow connection {self.conn_id!r}: extra.{extra_key} (or {field_name}) is empty; "
                f"it must hold {what}"
            )
        return str(value)


def _looks_secret(key: str) -> bool:
    key = key.lower()
    return any(word in key for word in ("secret", "token", "key", "password", "assertion", "credential"))


def _from_uri(conn_id: str, uri: str) -> ConnectionInfo:
    parts = urlsplit(uri)
    query = dict(parse_qsl(parts.query))
    extra = json.loads(query.pop("__extra__")) if "__extra__" in query else query
    host = unquote(parts.hostname or "")
    # Airflow URIs put the URL scheme in the path-less form http://host; keep a full base URL in host
    # when the connection type is http(s) and the path carries the sandbox prefix.
    path = unquote(parts.path.lstrip("/"))
    return ConnectionInfo(
        conn_id=conn_id,
        conn_type=parts.scheme.replace("-", "_") or None,
        host=host or None,
        schema=path or None,
        port=parts.port,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        extra=extra,
    )


def _from_mapping(conn_id: str, data: dict[str, Any]) -> ConnectionInfo:
    extra = data.get("extra") or data.get("conn_extra") or {}
    if isinstance(extra, str):
        try:
            extra = json.loads(extra) if extra.strip() else {}
        except json.JSONDecodeError:
            raise ConnectionInvalidError(f"Airflow connection {conn_id!r}: extra is not valid JSON") from None
    port = data.get("port", data.get("conn_port"))
    return ConnectionInfo(
        conn_id=conn_id,
        conn_type=data.get("conn_type"),
        host=data.get("host", data.get("conn_host")),
        schema=data.get("schema", data.get("conn_schema")),
        port=int(port) if port not in (None, "") else None,
        login=data.get("login", data.get("conn_login")),
        password=data.get("password", data.get("conn_password")),
        extra=dict(extra),
    )


def from_environment(conn_id: str) -> ConnectionInfo | None:
    value = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if not value:
        return None
    if value.lstrip().startswith("{"):
        try:
            return _from_mapping(conn_id, json.loads(value))
        except json.JSONDecodeError:
            raise ConnectionInvalidError(f"AIRFLOW_CONN_{conn_id.upper()} is not valid JSON") from None
    return _from_uri(conn_id, value)


def from_settings_file(conn_id: str, path: Path | None = None) -> ConnectionInfo | None:
    path = path or settings.airflow_settings_path()
    if not path.exists():
        return None
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for entry in (document.get("airflow") or {}).get("connections") or []:
        if entry.get("conn_id") == conn_id:
            return _from_mapping(conn_id, entry)
    return None


def from_airflow(conn_id: str) -> ConnectionInfo | None:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowRuntimeError

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowRuntimeError:
        return None
    except Exception as exc:  # Airflow raises its own not-found types across versions
        if "not defined" in str(exc) or "not found" in str(exc).lower():
            return None
        raise
    return ConnectionInfo(
        conn_id=conn_id,
        conn_type=conn.conn_type,
        host=conn.host,
        schema=conn.schema,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        extra=dict(conn.extra_dejson or {}),
    )


def resolve(conn_id: str, *, instance_label: str = "", inside_airflow: bool = False) -> ConnectionInfo:
    """Find the connection: through Airflow inside a task, else environment then settings file."""
    sources = (from_airflow,) if inside_airflow else (from_environment, from_settings_file)
    for source in sources:
        found = source(conn_id)
        if found is not None:
            return found
    where = f" for instance {instance_label}" if instance_label else ""
    hint = (
        f"define it in Airflow (UI, CLI, a secrets backend or AIRFLOW_CONN_{conn_id.upper()})"
        if inside_airflow
        else f"set AIRFLOW_CONN_{conn_id.upper()} or add it to {settings.airflow_settings_path()}"
    )
    raise ConnectionNotFoundError(f"Airflow connection {conn_id!r}{where} not found: {hint}")
