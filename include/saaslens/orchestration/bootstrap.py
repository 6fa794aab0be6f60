"""Apply airflow_settings.yaml and the instances' pools to a plain Airflow (no astro CLI).

airflow_settings.yaml uses the Astro CLI's format (airflow.connections / pools / variables), so
the same file works for `astro dev start` and for this command. Pools for instances are derived
from connected_apps.yaml, so a task can never name a pool that does not exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from saaslens import settings
from saaslens.config import ConnectedApps
from saaslens.connectors import registry
from saaslens.connectors.instances import load_connected_apps
from saaslens.orchestration.naming import content_pool_name, pool_name


@dataclass(frozen=True)
class PoolSpec:
    name: str
    slots: int
    description: str


@dataclass
class BootstrapPlan:
    pools: list[PoolSpec] = field(default_factory=list)
    connections: list[dict[str, Any]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)


def instance_pools(apps: ConnectedApps) -> list[PoolSpec]:
    # Disabled instances keep their pools: re-enabling must not depend on re-running bootstrap.
    pools = [
        PoolSpec(pool_name(i), i.pool_slots, f"saaslens: API concurrency for {i.app} instance {i.name}")
        for i in apps.instances
    ]
    pools += [
        PoolSpec(content_pool_name(i), 1, f"saaslens: content inspection (DLP) of {i.app} instance {i.name}")
        for i in apps.instances
        if registry.app_spec(i.app).contents is not None
    ]
    return pools


def plan(settings_file: Path | None = None, config: Path | None = None) -> BootstrapPlan:
    settings_file = settings_file or settings.airflow_settings_path()
    document: dict[str, Any] = {}
    if settings_file.exists():
        document = (yaml.safe_load(settings_file.read_text(encoding="utf-8")) or {}).get("airflow") or {}
    result = BootstrapPlan()
    for entry in document.get("pools") or []:
        result.pools.append(PoolSpec(entry["pool_name"], int(entry["pool_slot"]), entry.get("pool_description", "")))
    declared = {p.name for p in result.pools}
    result.pools += [p for p in instance_pools(load_connected_apps(config)) if p.name not in declared]
    result.connections = [c for c in document.get("connections") or [] if c.get("conn_id")]
    result.variables = {v["variable_name"]: str(v.get("variable_value", "")) for v in document.get("variables") or []}
    return result


def apply(bootstrap: BootstrapPlan) -> dict[str, int]:
    """Create or update pools, connections and variables in Airflow's metadata database."""
    from airflow.models import Connection, Pool, Variable
    from airflow.utils.session import create_session

    with create_session() as session:
        for pool in bootstrap.pools:
            Pool.create_or_update_pool(pool.name, pool.slots, pool.description, include_deferred=False, session=session)
        for entry in bootstrap.connections:
            extra = entry.get("conn_extra")
            conn = Connection(
                conn_id=entry["conn_id"],
                conn_type=entry.get("conn_type") or "http",
                host=entry.get("conn_host"),
                schema=entry.get("conn_schema"),
                login=entry.get("conn_login"),
                password=entry.get("conn_password"),
                port=entry.get("conn_port"),
                extra=json.dumps(extra) if isinstance(extra, dict) else extra,
            )
            existing = session.query(Connection).filter(Connection.conn_id == conn.conn_id).one_or_none()
            if existing is not None:
                session.delete(existing)
                session.flush()
            session.add(conn)
        for key, value in bootstrap.variables.items():
            Variable.set(key, value, session=session)
    return {
        "pools": len(bootstrap.pools),
        "connections": len(bootstrap.connections),
        "variables": len(bootstrap.variables),
    }
