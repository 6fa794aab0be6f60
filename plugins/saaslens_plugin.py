"""Airflow plugin: a saaslens page in the Airflow UI.

Serves, under /saaslens on the Airflow API server, the capability matrix (from the connectors'
code) and the configured instances with their DAG, pool and latest scan per stage, and links it
from the UI's navigation. Read-only; credentials are never shown (they are not in the lake).
"""

from __future__ import annotations

import html

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI(title="saaslens", description="saaslens capability matrix and instances")


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@app.get("/", response_class=HTMLResponse)
def overview() -> str:
    from saaslens.config import load_connected_apps
    from saaslens.matrix import capability_matrix

    matrix = capability_matrix()
    apps = matrix["apps"]
    capability_rows = [
        [c, *("yes" if apps[a]["capabilities"][c] else "" for a in apps)] for c in matrix["capabilities"]
    ]
    configured = load_connected_apps()
    instance_rows = [
        [i.app, i.name, i.dag_id, i.pool, i.pool_slots, "enabled" if i.enabled else "disabled", i.schedule or ""]
        for i in configured.instances
    ]
    instance_rows += [[e.app or "?", e.name, "(invalid)", "", "", str(e), ""] for e in configured.errors]
    style = (
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>"
    )
    return (
        f"<html><head><title>saaslens</title>{style}</head><body><h1>saaslens</h1><h2>Instances</h2>"
        + _table(["app", "instance", "DAG", "pool", "slots", "state", "schedule"], instance_rows)
        + "<h2>Capability matrix</h2>"
        + _table(["capability", *(apps[a]["title"] for a in apps)], capability_rows)
        + "</body></html>"
    )


class SaaslensPlugin(AirflowPlugin):
    name = "saaslens"
    fastapi_apps = [{"app": app, "url_prefix": "/saaslens", "name": "saaslens"}]
    external_views = [{"name": "saaslens", "href": "/saaslens/", "destination": "nav", "category": "browse"}]
