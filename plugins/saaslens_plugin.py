"""Airflow plugin: a saaslens page in the Airflow UI.

Serves, under /saaslens on the Airflow API server, the configured instances with their DAG and pool,
and the capability matrix (from the connectors' code, the same table as docs/capabilities.md), and
links it from the UI's navigation. Read-only; credentials are never shown (they are not in the
config), nor the config file's path on the server.

Airflow mounts a plugin's FastAPI app without any of its own auth (airflow/api_fastapi/app.py
`init_plugins`), so the page asks Airflow's auth manager itself, with the dependencies Airflow's REST
API uses: the caller's JWT is read from `Authorization: Bearer` or from the `_token` cookie the UI
sets at login (`airflow.api_fastapi.core_api.security.get_user`), and the page needs read access to
DAGs like `GET /api/v2/dags` (`requires_access_dag(method="GET")`). Each instance row is then shown
only if the auth manager lets the caller read that instance's DAG.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin

if TYPE_CHECKING:
    from fastapi import FastAPI

    from saaslens.config import ConnectedApps

STYLE = (
    "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>"
)


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _instances_section(
    configured: ConnectedApps, readable_dag_ids: Callable[[set[str]], set[str]], *, all_dags: bool
) -> str:
    from saaslens.orchestration.naming import dag_id, pool_name

    readable = readable_dag_ids({dag_id(i) for i in configured.instances})
    rows: list[list[object]] = [
        [i.app, i.name, dag_id(i), pool_name(i), i.pool_slots, "enabled" if i.enabled else "disabled", i.schedule or ""]
        for i in configured.instances
        if dag_id(i) in readable
    ]
    # An invalid entry has no DAG to check, so only a reader of every DAG sees it. Its message alone:
    # `str(error)` starts with the config file's path, which no page reader needs.
    if all_dags:
        rows += [[e.app or "?", e.name, "(invalid)", "", "", e.message, ""] for e in configured.errors]
    return _table(["app", "instance", "DAG", "pool", "slots", "state", "schedule"], rows)


def _matrix_section() -> str:
    from saaslens.matrix import STATE_MEANINGS, matrix_table

    header, rows = matrix_table()
    legend = "".join(
        f"<li><code>{html.escape(state) or '(empty)'}</code>: {html.escape(meaning)}</li>"
        for state, meaning in STATE_MEANINGS.items()
    )
    return f"<ul>{legend}</ul>" + _table(header, rows)


def overview_page(readable_dag_ids: Callable[[set[str]], set[str]], *, all_dags: bool) -> str:
    """The page, for a caller who may read the DAGs `readable_dag_ids` keeps (and every DAG when
    `all_dags`)."""
    from saaslens.config import ConfigError
    from saaslens.connectors.instances import load_connected_apps

    try:
        instances = _instances_section(load_connected_apps(), readable_dag_ids, all_dags=all_dags)
    except ConfigError:
        # The error text names the file's path on the server; `saaslens validate` there says the rest.
        instances = "<p>The connected-apps file cannot be read: run <code>saaslens validate</code> on the server.</p>"
    return (
        f"<html><head><title>saaslens</title>{STYLE}</head><body><h1>saaslens</h1>"
        f"<h2>Instances</h2>{instances}<h2>Capability matrix</h2>{_matrix_section()}</body></html>"
    )


def _dag_ids_readable_by(user: Any) -> Callable[[set[str]], set[str]]:
    """The auth manager's per-DAG read check, with each DAG's team as Airflow's own
    `requires_access_dag` passes it (DAGs not parsed yet have no team)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.models.dag import DagModel

    def readable(dag_ids: set[str]) -> set[str]:
        teams = DagModel.get_dag_id_to_team_name_mapping(sorted(dag_ids))
        by_team: dict[str | None, set[str]] = defaultdict(set)
        for dag_id in dag_ids:
            by_team[teams.get(dag_id)].add(dag_id)
        allowed: set[str] = set()
        for team_name, ids in by_team.items():
            allowed |= get_auth_manager().filter_authorized_dag_ids(
                dag_ids=ids, user=user, method="GET", team_name=team_name
            )
        return allowed

    return readable


def build_app() -> FastAPI:
    """The page's FastAPI app, every route behind Airflow's login and DAG read access."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import get_user, requires_access_dag
    from fastapi import Depends, FastAPI
    from fastapi.responses import HTMLResponse

    app = FastAPI(
        title="saaslens",
        description="saaslens capability matrix and instances",
        dependencies=[Depends(requires_access_dag(method="GET"))],
        # FastAPI's own docs routes skip app dependencies: none are served.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    # The user dependency as a default, not an annotation: annotations are strings here (`from
    # __future__ import annotations`) and FastAPI could not resolve a name imported inside a function.
    @app.get("/", response_class=HTMLResponse)
    def overview(user: Any = Depends(get_user)) -> str:  # noqa: B008 - FastAPI's dependency idiom
        # `requires_access_dag` takes a `dag_id` from the query string when there is one, so
        # passing it proves access to that DAG only: ask again for every DAG.
        all_dags = get_auth_manager().is_authorized_dag(method="GET", user=user)
        return overview_page(_dag_ids_readable_by(user), all_dags=all_dags)

    return app


class _BuiltOnFirstRequest:
    """An ASGI app that builds the real one on its first request.

    Airflow imports plugin modules in every process that loads plugins (scheduler, DAG processor,
    task runner for macros; all of them when `[core] lazy_load_plugins` is False), and Airflow's API
    security module alone brings in some 400 modules (0.3 s) that only the API server needs.
    """

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            self._app = self._build()
        await self._app(scope, receive, send)


app = _BuiltOnFirstRequest(build_app)


class SaaslensPlugin(AirflowPlugin):
    name = "saaslens"
    fastapi_apps = [{"app": app, "url_prefix": "/saaslens", "name": "saaslens"}]
    external_views = [{"name": "saaslens", "href": "/saaslens/", "destination": "nav", "category": "browse"}]
